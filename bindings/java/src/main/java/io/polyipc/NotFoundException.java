package io.polyipc;

/** NOT_FOUND: no object of that name in the namespace (open-only, unlink, stat). */
public class NotFoundException extends PolyipcException {
  private static final long serialVersionUID = 1L;

  public NotFoundException(String message) {
    super(Status.NOT_FOUND, message);
  }
}
