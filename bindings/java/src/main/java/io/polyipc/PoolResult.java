package io.polyipc;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The result to come of a task submitted to a {@link Pool} (Python's {@code AsyncResult}), a {@link
 * Future}: {@link #get()} waits for it and reads it as a {@code T} with Jackson; a task that failed in its
 * worker throws {@link ExecutionException} whose cause is a {@link PoolTaskException} carrying the worker's
 * error text. The result is fetched once from the pool and kept: get() answers the same every time, from
 * any thread. {@link #isDone()} asks the pool without waiting. A task cannot be cancelled ({@link #cancel}
 * answers false). Waits are in 50 ms slices ({@link Thread#interrupt()}: {@link InterruptedException});
 * closing the pool handle makes them throw {@link HandleClosedException}.
 *
 * @param <T> the type the result is read as ({@link JsonNode}: the JSON as it came)
 */
public final class PoolResult<T> implements Future<T> {
  private final Pool pool;
  private final String function;
  private final Class<T> type;
  private volatile long id;
  // The result message once it came: {"id":7,"ok":true,"result":...} or {"id":7,"ok":false,"error":"..."}.
  private volatile JsonNode message;
  private final ReentrantLock fetching = new ReentrantLock(); // one thread at a time waits in the pool

  PoolResult(Pool pool, String function, Class<T> type) {
    this.pool = pool;
    this.function = function;
    this.type = type;
  }

  void setId(long id) {
    this.id = id;
  }

  /** The result message came (by this future's wait or by {@link Pool#nextResult}). */
  void settle(JsonNode m) {
    synchronized (this) {
      message = m;
      notifyAll();
    }
  }

  /** Waits up to timeoutNanos for settle() from another thread; whether it came. */
  boolean awaitSettled(long timeoutNanos) {
    long deadline = System.nanoTime() + timeoutNanos;
    boolean interrupted = false;
    synchronized (this) {
      try {
        while (message == null) {
          long left = deadline - System.nanoTime();
          if (left <= 0) return false;
          try {
            TimeUnit.NANOSECONDS.timedWait(this, left);
          } catch (InterruptedException e) {
            interrupted = true;
          }
        }
        return true;
      } finally {
        if (interrupted) Thread.currentThread().interrupt();
      }
    }
  }

  /** The task's id, unique per submitting handle. */
  public long id() {
    return id;
  }

  /** The task's function name. */
  public String function() {
    return function;
  }

  /** Tasks cannot be cancelled: always false. */
  @Override
  public boolean cancel(boolean mayInterruptIfRunning) {
    return false;
  }

  /** Always false. */
  @Override
  public boolean isCancelled() {
    return false;
  }

  /**
   * Whether the result came; asks the pool without waiting (and keeps the result if it came). Answers false
   * without asking while another thread is waiting for this result.
   */
  @Override
  public boolean isDone() {
    if (message != null) return true;
    if (!fetching.tryLock()) return false;
    try {
      if (message == null) pool.fetch(this, 0);
    } finally {
      fetching.unlock();
    }
    return message != null;
  }

  /**
   * Waits for the result as long as it takes.
   *
   * @throws ExecutionException the task failed in its worker; the cause is a {@link PoolTaskException}
   * @throws UncheckedIOException the result does not read as a {@code T}
   * @throws InterruptedException the thread was interrupted
   */
  @Override
  public T get() throws InterruptedException, ExecutionException {
    await(SyncHandle.FOREVER);
    return value();
  }

  /**
   * {@link #get()} waiting at most the timeout.
   *
   * @throws TimeoutException no result came in time (the task goes on: ask again)
   */
  @Override
  public T get(long timeout, TimeUnit unit) throws InterruptedException, ExecutionException, TimeoutException {
    if (!await(SyncHandle.nanos(timeout, unit))) throw timedOut();
    return value();
  }

  /** {@link #get(long, TimeUnit)} with a Duration. */
  public T get(Duration timeout) throws InterruptedException, ExecutionException, TimeoutException {
    if (!await(Pool.nanos(timeout))) throw timedOut();
    return value();
  }

  private TimeoutException timedOut() {
    return new TimeoutException("pool '" + pool.name() + "': no result of task " + id + " (" + function
        + ") came within the timeout");
  }

  /** Waits in slices until the message came (true) or the time ran out (false). */
  private boolean await(long timeoutNanos) throws InterruptedException {
    if (message != null) return true;
    final long start = System.nanoTime();
    for (;;) {
      if (Thread.interrupted()) {
        throw new InterruptedException("get of task " + id + " of pool '" + pool.name() + "' interrupted");
      }
      final long slice = SyncHandle.slice(timeoutNanos, start);
      fetching.lockInterruptibly();
      try {
        if (message == null) pool.fetch(this, slice);
      } finally {
        fetching.unlock();
      }
      if (message != null) return true;
      if (slice == 0 || SyncHandle.expired(timeoutNanos, start)) return false;
    }
  }

  @SuppressWarnings("unchecked")
  private T value() throws ExecutionException {
    JsonNode m = message;
    if (!m.path("ok").asBoolean(false)) {
      JsonNode error = m.get("error");
      String text = error == null ? "" : error.isTextual() ? error.textValue() : error.toString();
      throw new ExecutionException(new PoolTaskException(pool.name(), id, function, text));
    }
    JsonNode result = m.get("result");
    if (result == null) result = com.fasterxml.jackson.databind.node.NullNode.getInstance();
    if (type == JsonNode.class) return (T) result;
    if (result.isNull()) return null;
    try {
      return pool.mapper().readerFor(type).readValue(result);
    } catch (IOException e) {
      throw new UncheckedIOException("pool '" + pool.name() + "': the result of task " + id + " (" + function
          + ") does not read as " + type.getName() + ": " + e.getMessage(), e);
    }
  }

  @Override
  public String toString() {
    JsonNode m = message;
    String state = m == null ? "pending" : m.path("ok").asBoolean(false) ? "done" : "failed";
    return "PoolResult[" + pool.name() + " task " + id + " " + function + ", " + state + "]";
  }
}
