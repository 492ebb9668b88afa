package io.polyipc;

/** BROKEN: a barrier was broken or aborted. */
public class BrokenException extends PolyipcException {
  private static final long serialVersionUID = 1L;

  public BrokenException(String message) {
    super(Status.BROKEN, message);
  }
}
