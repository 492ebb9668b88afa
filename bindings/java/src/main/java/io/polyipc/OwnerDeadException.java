package io.polyipc;

/**
 * OWNER_DEAD: acquired, but the previous holder died holding it. The locks of this binding never throw it
 * (they report it through {@link Lock#previousOwnerDied()}, so that a lock acquired is never leaked by an
 * exception); it only surfaces from native calls that have no other way to say it.
 */
public class OwnerDeadException extends PolyipcException {
  private static final long serialVersionUID = 1L;

  public OwnerDeadException(String message) {
    super(Status.OWNER_DEAD, message);
  }
}
