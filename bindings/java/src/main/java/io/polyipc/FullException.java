package io.polyipc;

/** FULL: a non-blocking put found no room ({@link Queue#offer(String)} answers false instead). */
public class FullException extends PolyipcException {
  private static final long serialVersionUID = 1L;

  public FullException(String message) {
    super(Status.FULL, message);
  }

  FullException(String message, boolean withStackTrace) {
    super(Status.FULL, message, withStackTrace);
  }
}
