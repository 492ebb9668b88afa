package io.polyipc;

/** CLOSED: the queue was closed for writing ({@link Queue#closeWrites()}): puts fail at once, and gets fail once it is drained (end of stream). */
public class ClosedException extends PolyipcException {
  private static final long serialVersionUID = 1L;

  public ClosedException(String message) {
    super(Status.CLOSED, message);
  }
}
