package io.polyipc;

/** INVALID_ARG: a bad name, size or option, or an operation the object does not offer (join on a non-joinable queue). */
public class InvalidArgumentException extends PolyipcException {
  private static final long serialVersionUID = 1L;

  public InvalidArgumentException(String message) {
    super(Status.INVALID_ARG, message);
  }
}
