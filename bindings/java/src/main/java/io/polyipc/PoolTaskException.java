package io.polyipc;

/**
 * A pool task that failed in its worker: the cause of the {@link java.util.concurrent.ExecutionException}
 * of {@link PoolResult#get()}. {@link #error()} is the worker's error text exactly as it sent it (for a
 * Java worker, the message of its handler's exception). Not a failed library call, so its {@link #status()}
 * is {@link Status#UNKNOWN}.
 */
public class PoolTaskException extends PolyipcException {
  private static final long serialVersionUID = 1L;

  private final long taskId;
  private final String function;
  private final String error;

  public PoolTaskException(String pool, long taskId, String function, String error) {
    super(Status.UNKNOWN, "pool '" + pool + "': task " + taskId + " (" + function + ") failed: " + error);
    this.taskId = taskId;
    this.function = function;
    this.error = error;
  }

  /** The worker's error text. */
  public String error() {
    return error;
  }

  /** The task's id (per submitting handle). */
  public long taskId() {
    return taskId;
  }

  /** The task's function name. */
  public String function() {
    return function;
  }
}
