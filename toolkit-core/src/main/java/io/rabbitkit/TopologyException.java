package io.rabbitkit;

import java.util.Optional;

/**
 * The broker refused a declaration, deletion or other topology operation.
 *
 * <p>Typical cause: {@code PRECONDITION_FAILED} because an exchange or queue already exists with
 * different arguments. {@link #entity()} names the exchange, queue or binding and {@link
 * #argument()} the argument at fault when the broker said which. The toolkit stays usable after
 * this exception: the channel the broker closed is replaced.
 */
public final class TopologyException extends ToolkitException {

  private final String entity;
  private final String argument;
  private final int replyCode;

  public TopologyException(String entity, String argument, int replyCode, String message, Throwable cause) {
    super(message, cause);
    this.entity = entity;
    this.argument = argument;
    this.replyCode = replyCode;
  }

  /** Returns the entity the operation was about, for example {@code queue 'orders'}. */
  public String entity() {
    return entity;
  }

  /** Returns the argument the broker complained about, for example {@code x-max-length}. */
  public Optional<String> argument() {
    return Optional.ofNullable(argument);
  }

  /** Returns the AMQP reply code, for example 406 (precondition failed) or 404 (not found); 0 if none. */
  public int replyCode() {
    return replyCode;
  }
}
