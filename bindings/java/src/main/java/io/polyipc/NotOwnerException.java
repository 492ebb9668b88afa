package io.polyipc;

/** NOT_OWNER: release of something this caller does not hold. */
public class NotOwnerException extends PolyipcException {
  private static final long serialVersionUID = 1L;

  public NotOwnerException(String message) {
    super(Status.NOT_OWNER, message);
  }
}
