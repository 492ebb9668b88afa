package io.polyipc;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
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
 * any thread. {@link #isDone()} asks the pool without waiting. {@link #cancel} takes the task back while no
 * worker has taken it (it never runs; get() then throws {@link CancellationException}, also in a thread
 * already waiting); a task a worker holds is not cancelled. Waits are in 50 ms slices ({@link
 * Thread#interrupt()}: {@link InterruptedException}); closing the pool handle makes them throw {@link
 * HandleClosedException}. {@link #toCompletableFuture()} gives a {@link CompletableFuture} that completes on
 * its own when the result comes, with nobody calling get().
 *
 * @param <T> the type the result is read as ({@link JsonNode}: the JSON as it came)
 */
public final class PoolResult<T> implements Future<T> {
  private final Pool pool;
  private final String function;
  private final Class<T> type;
  private volatile long id;
  // The result message once it came: {"id":7,"ok":true,"result":...}, {"id":7,"ok":false,"error":"..."} or
  // {"id":7,"ok":false,"cancelled":true,"error":"cancelled"} (cancel()).
  private volatile JsonNode message;
  private final ReentrantLock fetching = new ReentrantLock(); // one thread at a time waits in the pool
  // What settle() completes, made by the first toCompletableFuture(); never handed out (users get dependents
  // of it, which they may cancel or complete without touching this). Guarded by this.
  private CompletableFuture<T> completion;

  PoolResult(Pool pool, String function, Class<T> type) {
    this.pool = pool;
    this.function = function;
    this.type = type;
  }

  void setId(long id) {
    this.id = id;
  }

  /**
   * The result message came (by this future's wait, by {@link Pool#nextResult} or by the completion thread):
   * the one place a PoolResult is settled, so it completes the future of toCompletableFuture() whatever
   * path the result took. Called holding no lock of the pool (the future's continuations run here).
   */
  void settle(JsonNode m) {
    CompletableFuture<T> c;
    synchronized (this) {
      message = m;
      c = completion;
      notifyAll();
    }
    if (c != null) {
      pool.completions().settled(this);
      complete(c, m);
    }
  }

  /** Whether the result came. */
  boolean isSettled() {
    return message != null;
  }

  /** Completes c as get() answers for message m (nothing when c is done). */
  private void complete(CompletableFuture<T> c, JsonNode m) {
    if (c.isDone()) return;
    T v = null;
    Throwable failure = null;
    try {
      v = value(m);
    } catch (ExecutionException e) {
      failure = e.getCause(); // the PoolTaskException
    } catch (RuntimeException e) {
      failure = e; // CancellationException, UncheckedIOException (does not read as a T)
    }
    try {
      if (failure == null) {
        c.complete(v);
      } else {
        c.completeExceptionally(failure);
      }
    } catch (Throwable e) {
      // CompletableFuture keeps a continuation's exception in its stage; whatever escapes all the same must
      // not fail the thread that settled (a get(), nextResult() or the completion thread).
      PoolCompletions.report(pool.name(), "completing task " + id, e);
    }
  }

  /** The future of toCompletableFuture() fails with e unless it completed (the pool handle was closed). */
  void failCompletion(Throwable e) {
    CompletableFuture<T> c;
    synchronized (this) {
      c = completion;
    }
    if (c == null || c.isDone()) return;
    try {
      c.completeExceptionally(e);
    } catch (Throwable escaped) {
      PoolCompletions.report(pool.name(), "failing task " + id, escaped);
    }
  }

  /**
   * A {@link CompletableFuture} of the result that completes on its own once the result comes, with nobody
   * calling {@link #get()}: with the value get() answers (read as a {@code T}); exceptionally with the
   * {@link PoolTaskException} get() wraps in {@link ExecutionException} when the task failed in its worker,
   * a {@link CancellationException} when it was {@linkplain #cancel cancelled}, the {@link
   * java.io.UncheckedIOException} when the result does not read as a {@code T}, and {@link
   * HandleClosedException} when the pool handle is closed before the result came. Once it completes, get()
   * answers at once. A result that came already completes it at once; a result that comes by another path
   * (get() on another thread, {@link Pool#nextResult}) completes it too.
   *
   * <p>Each call returns a new future completing the same way. Cancelling or completing it yourself only
   * ends that future: it does <b>not</b> cancel the task (use {@link #cancel}), and this PoolResult and other
   * futures of it are not affected.
   *
   * <p>Until the result comes, it is collected by the pool handle's completion thread (one daemon thread
   * per handle, {@code polyipc-pool-<name>-completions}, started on demand and ended when no future is
   * waiting), which collects this handle's results as {@link Pool#nextResult} does and hands each to its
   * PoolResult: while futures are waiting, it shares the results with any nextResult() caller, which may
   * then return fewer. <b>Where continuations run:</b> non-async stages ({@code thenApply}, {@code
   * whenComplete} ...) run in the thread that completes the future, usually the completion thread (else the
   * thread whose get() or nextResult() collected the result, or the caller when it came already). Do not
   * block in them: no other future of the handle completes meanwhile, and a stage that submits to a full
   * pool can wait on itself. Use the {@code *Async} variants for long work. A stage that throws fails its own
   * stage only.
   *
   * @return a new future of this task's result
   */
  public CompletableFuture<T> toCompletableFuture() {
    CompletableFuture<T> c;
    JsonNode m;
    synchronized (this) {
      if (completion == null) completion = new CompletableFuture<>();
      c = completion;
      m = message;
    }
    if (m != null) {
      complete(c, m); // it came before (settle() saw no completion then); nothing when settle completed it
    } else {
      pool.completions().register(this);
    }
    CompletableFuture<T> mine = new CompletableFuture<>();
    c.whenComplete((v, e) -> {
      if (e == null) {
        mine.complete(v);
      } else {
        mine.completeExceptionally(e); // as it is: a CancellationException makes it isCancelled()
      }
    });
    return mine;
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

  /** Whether a thread is waiting in the pool for this result now (for tests). */
  boolean beingFetched() {
    return fetching.isLocked();
  }

  /** The task's id, unique per submitting handle. */
  public long id() {
    return id;
  }

  /** The task's function name. */
  public String function() {
    return function;
  }

  /**
   * Takes the task back out of the pool if no worker has taken it yet ({@code Future.cancel(false)}): then
   * it never runs, {@link Pool#join()} does not wait for it, and this answers true; {@link #isCancelled()}
   * and {@link #isDone()} are true from then on, and {@link #get()} throws {@link CancellationException},
   * also in threads already waiting. False when a worker holds the task (its result comes as usual), when
   * the result already came, or when the task was cancelled already. A running task is never interrupted,
   * whatever {@code mayInterruptIfRunning} says.
   *
   * @throws HandleClosedException the pool handle was closed before the result came
   */
  @Override
  public boolean cancel(boolean mayInterruptIfRunning) {
    if (message != null || !pool.cancel(this)) return false;
    // Its cancelled result is in the handle's result queue now: collect it (as a get() would), so the future
    // is done and the queue keeps nothing of it. While a thread waits in nextResult(), leave it to that one
    // (it hands it over here); a thread waiting in get() may take it too.
    final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (message == null) {
      if (System.nanoTime() - deadline >= 0) {
        throw new IllegalStateException("pool '" + pool.name() + "': task " + id + " was cancelled but its "
            + "cancelled result did not come");
      }
      if (pool.nextResultWaiting()) {
        awaitSettled(SyncHandle.SLICE_NANOS);
        continue;
      }
      fetching.lock(); // another thread's get() holds it for at most one slice
      try {
        if (message == null) pool.fetch(this, SyncHandle.SLICE_NANOS);
      } finally {
        fetching.unlock();
      }
    }
    return true;
  }

  /** Whether the task was cancelled (its result says so; then {@link #get()} throws CancellationException). */
  @Override
  public boolean isCancelled() {
    return isCancellation(message);
  }

  private static boolean isCancellation(JsonNode m) {
    return m != null && m.path("cancelled").asBoolean(false);
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
   * @throws CancellationException the task was cancelled ({@link #cancel}) before a worker took it
   * @throws UncheckedIOException the result does not read as a {@code T}
   * @throws InterruptedException the thread was interrupted
   */
  @Override
  public T get() throws InterruptedException, ExecutionException {
    await(SyncHandle.FOREVER);
    return value(message);
  }

  /**
   * {@link #get()} waiting at most the timeout.
   *
   * @throws TimeoutException no result came in time (the task goes on: ask again)
   */
  @Override
  public T get(long timeout, TimeUnit unit) throws InterruptedException, ExecutionException, TimeoutException {
    if (!await(SyncHandle.nanos(timeout, unit))) throw timedOut();
    return value(message);
  }

  /** {@link #get(long, TimeUnit)} with a Duration. */
  public T get(Duration timeout) throws InterruptedException, ExecutionException, TimeoutException {
    if (!await(Pool.nanos(timeout))) throw timedOut();
    return value(message);
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

  /** What get() answers for result message m (not null). */
  private T value(JsonNode m) throws ExecutionException {
    if (isCancellation(m)) {
      throw new CancellationException("pool '" + pool.name() + "': task " + id + " (" + function
          + ") was cancelled");
    }
    if (!m.path("ok").asBoolean(false)) {
      JsonNode error = m.get("error");
      String text = error == null ? "" : error.isTextual() ? error.textValue() : error.toString();
      throw new ExecutionException(new PoolTaskException(pool.name(), id, function, text));
    }
    return read(pool, m.get("result"), type, id, function);
  }

  /** A task's result (null: JSON null) read as a {@code type} with the pool's mapper, as get() reads it. */
  @SuppressWarnings("unchecked")
  static <T> T read(Pool pool, JsonNode result, Class<T> type, long id, String function) {
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
    String state = m == null ? "pending"
        : m.path("ok").asBoolean(false) ? "done" : isCancellation(m) ? "cancelled" : "failed";
    return "PoolResult[" + pool.name() + " task " + id + " " + function + ", " + state + "]";
  }
}
