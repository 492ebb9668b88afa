package io.polyipc;

/** EMPTY: a non-blocking get found nothing ({@link Queue#poll()} answers null instead). */
public class EmptyException extends PolyipcException {
  private static final long serialVersionUID = 1L;

  public EmptyException(String message) {
    super(Status.EMPTY, message);
  }

  EmptyException(String message, boolean withStackTrace) {
    super(Status.EMPTY, message, withStackTrace);
  }
}
