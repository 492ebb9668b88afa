package io.polyipc;

/** EXISTS: create-only of a name that already exists. */
public class AlreadyExistsException extends PolyipcException {
  private static final long serialVersionUID = 1L;

  public AlreadyExistsException(String message) {
    super(Status.EXISTS, message);
  }
}
