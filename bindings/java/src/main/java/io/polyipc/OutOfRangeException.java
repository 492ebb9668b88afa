package io.polyipc;

/**
 * OUT_OF_RANGE: an index outside a list or array. {@link List} turns it into the {@link
 * IndexOutOfBoundsException} of java.util.List's contract, with this exception as the cause.
 */
public class OutOfRangeException extends PolyipcException {
  private static final long serialVersionUID = 1L;

  public OutOfRangeException(String message) {
    super(Status.OUT_OF_RANGE, message);
  }
}
