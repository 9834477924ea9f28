package io.rabbitkit.codec;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import io.rabbitkit.ToolkitException.MessageDecodingException;
import java.io.IOException;

/** Jackson JSON. Accepts {@code application/json}, {@code *+json}, {@code text/json} and no content type. */
final class JsonCodec<T> implements MessageCodec<T> {

  /** Deepest nesting of arrays and objects the default mapper reads; deeper documents are rejected. */
  static final int MAX_NESTING_DEPTH = 200;
  /** Longest number (in characters) the default mapper reads. */
  static final int MAX_NUMBER_LENGTH = 256;

  /**
   * No default typing, so a type hint such as {@code "@class"} in a body cannot choose what is
   * instantiated: only the declared type and its declared field types are. Reading is bounded by
   * stream read constraints (nesting, number length; strings by Jackson's default), so a hostile
   * body fails to decode instead of exhausting the stack or the heap.
   */
  private static final ObjectMapper DEFAULT_MAPPER = JsonMapper.builder(JsonFactory.builder()
      .streamReadConstraints(StreamReadConstraints.builder()
          .maxNestingDepth(MAX_NESTING_DEPTH)
          .maxNumberLength(MAX_NUMBER_LENGTH)
          .build())
      .build())
      .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
      .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      .addModule(new JavaTimeModule())
      .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
      .build();

  private final JavaType type;
  /** Prepared once: finds the root deserializer (and, for a final type, serializer) once, not per message. */
  private final ObjectReader reader;
  private final ObjectWriter writer;

  JsonCodec(ObjectMapper mapper, JavaType type) {
    requireNonNull(mapper, "mapper");
    this.type = requireNonNull(type, "type");
    this.reader = mapper.readerFor(type);
    // A non-final type is written by each value's own class, as ObjectMapper.writeValueAsBytes does.
    this.writer = type.isFinal() ? mapper.writerFor(type) : mapper.writer();
  }

  static <T> JsonCodec<T> of(ObjectMapper mapper, Class<T> type) {
    requireNonNull(type, "type");
    return new JsonCodec<>(mapper, mapper.constructType(type));
  }

  static ObjectMapper defaultMapper() {
    return DEFAULT_MAPPER;
  }

  @Override
  public String contentType() {
    return "application/json";
  }

  @Override
  public byte[] encode(T value) {
    try {
      return writer.writeValueAsBytes(value);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(
          "cannot encode " + value.getClass().getName() + " as JSON: " + e.getOriginalMessage(), e);
    }
  }

  @Override
  public T decode(byte[] body, String contentType) {
    String mediaType = contentType == null || contentType.equals("application/json") ? null // the usual case
        : ContentTypes.mediaType(contentType);
    if (mediaType != null && !ContentTypes.isJson(mediaType)) {
      throw new MessageDecodingException(
          "unsupported content type '" + io.rabbitkit.SafeText.of(contentType) + "', expected application/json");
    }
    try {
      T value = reader.readValue(body);
      if (value == null) {
        throw new MessageDecodingException("JSON body is null, expected " + type.toCanonical());
      }
      return value;
    } catch (JsonProcessingException e) {
      throw new MessageDecodingException("malformed JSON for " + type.toCanonical() + ": "
          + io.rabbitkit.SafeText.of(e.getOriginalMessage(), 300), e);
    } catch (IOException e) {
      throw new MessageDecodingException("cannot read JSON body: " + e.getMessage(), e);
    }
  }

  @Override
  public String toString() {
    return "JsonCodec[" + type.toCanonical() + "]";
  }
}
