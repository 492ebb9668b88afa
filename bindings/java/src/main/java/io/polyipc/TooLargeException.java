package io.polyipc;

/** TOO_LARGE: the message is larger than the object can ever hold. */
public class TooLargeException extends PolyipcException {
  private static final long serialVersionUID = 1L;

  public TooLargeException(String message) {
    super(Status.TOO_LARGE, message);
  }
}
