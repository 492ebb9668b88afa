package io.polyipc;

/** NO_MEMORY: the library could not allocate memory. */
public class NoMemoryException extends PolyipcException {
  private static final long serialVersionUID = 1L;

  public NoMemoryException(String message) {
    super(Status.NO_MEMORY, message);
  }
}
