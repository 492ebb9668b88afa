package io.polyipc;

/** PERMISSION: the operating system refused access to the object. */
public class PermissionDeniedException extends PolyipcException {
  private static final long serialVersionUID = 1L;

  public PermissionDeniedException(String message) {
    super(Status.PERMISSION, message);
  }
}
