package io.polyipc;

/** TIMEOUT: the wait ran out. The {@link Queue} methods answer timeouts the java.util.concurrent way instead (null, false). */
public class PolyipcTimeoutException extends PolyipcException {
  private static final long serialVersionUID = 1L;

  public PolyipcTimeoutException(String message) {
    super(Status.TIMEOUT, message);
  }

  PolyipcTimeoutException(String message, boolean withStackTrace) {
    super(Status.TIMEOUT, message, withStackTrace);
  }
}
