package io.rabbitkit;

/**
 * The publisher, consumer, RPC client or toolkit was closed before the operation could finish,
 * or an operation was attempted on a closed one.
 */
public final class ResourceClosedException extends ToolkitException {

  public ResourceClosedException(String message) {
    super(message);
  }
}
