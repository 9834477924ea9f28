package io.rabbitkit;

/**
 * The publisher, consumer, RPC client or toolkit was closed before the operation could finish,
 * or an operation was attempted on a closed one.
 */
public final class ResourceClosedException extends ToolkitException {

  private final String resource;

  /**
   * @param resource what was closed, as it names itself (for example {@code publisher to exchange 'orders'})
   * @param what what that means for the caller (for example {@code is closed})
   */
  public ResourceClosedException(String resource, String what) {
    super(resource + " " + what);
    this.resource = resource;
  }

  /** The closed resource, as it names itself: a publisher, an RPC client, a channel, the toolkit. */
  public String resource() {
    return resource;
  }
}
