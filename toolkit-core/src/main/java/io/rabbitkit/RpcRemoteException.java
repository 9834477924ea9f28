package io.rabbitkit;

/**
 * The RPC server's handler failed; the server sent the failure back instead of a reply.
 * {@link #remoteType()} is the class name of the server-side exception.
 */
public final class RpcRemoteException extends ToolkitException {

  private final String remoteType;

  public RpcRemoteException(String remoteType, String message) {
    super(remoteType + ": " + message);
    this.remoteType = remoteType;
  }

  /** Returns the class name of the exception the server handler threw. */
  public String remoteType() {
    return remoteType;
  }
}
