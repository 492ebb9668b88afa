package io.polyipc;

/** INCOMPATIBLE: the name holds another kind of object, other options (order, format, joinable), another layout version, or a library of another version. */
public class IncompatibleException extends PolyipcException {
  private static final long serialVersionUID = 1L;

  public IncompatibleException(String message) {
    super(Status.INCOMPATIBLE, message);
  }
}
