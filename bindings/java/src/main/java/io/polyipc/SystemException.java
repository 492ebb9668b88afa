package io.polyipc;

/** SYSTEM: an unexpected operating-system error; the message carries the errno text. */
public class SystemException extends PolyipcException {
  private static final long serialVersionUID = 1L;

  public SystemException(String message) {
    super(Status.SYSTEM, message);
  }
}
