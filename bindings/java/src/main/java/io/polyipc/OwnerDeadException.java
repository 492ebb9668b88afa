package io.polyipc;

/** OWNER_DEAD: acquired, but the previous holder died holding it; the state was repaired. */
public class OwnerDeadException extends PolyipcException {
  private static final long serialVersionUID = 1L;

  public OwnerDeadException(String message) {
    super(Status.OWNER_DEAD, message);
  }
}
