package io.polyipc;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Date;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * A named condition variable shared by processes in any language (Python's {@code
 * multiprocessing.Condition}): a {@link java.util.concurrent.locks.Condition} bound to a polyipc {@link
 * Lock} or {@link RLock} by name.
 *
 * <p>Get one from its lock ({@link Lock#newCondition()}, {@link Lock#newCondition(String)}) and use it the
 * java.util.concurrent way, or open it on its own ({@link #open(String)}: bound to the lock {@code
 * "<name>.lock"}) and take that lock through the condition itself ({@link #lock()}, {@link #unlock()}), as
 * Python's {@code with condition:} does:
 *
 * <pre>{@code
 * try (Condition ready = Condition.open("jobs.ready")) {
 *   ready.lock();
 *   try {
 *     ready.waitFor(() -> jobsWaiting() > 0, 10, TimeUnit.SECONDS);
 *   } finally {
 *     ready.unlock();
 *   }
 * }
 * }</pre>
 *
 * <p>The caller of {@link #await()}, {@link #signal()} and friends holds the lock (else {@link
 * NotOwnerException}, where the JDK throws {@link IllegalMonitorStateException}). A wait releases the lock,
 * sleeps until notified, and takes the lock back before it returns, even when interrupted or timed out. It
 * sleeps in 50 ms slices (taking the lock back between them: a notify is never lost, since notifying needs
 * the lock), so {@link Thread#interrupt()} is noticed within about 50 ms plus the time to re-take the lock.
 * A wait returns early only when notified, or when the lock is taken back from a holder that died: then it
 * returns as woken and {@link #previousOwnerDied()} (and that of the {@link Lock} it came from) answers
 * true. Either way re-check what you wait for ({@link #waitFor} does). {@link #notify(int)} wakes the
 * longest waiting first, counted from the start of each waiter's current slice.
 *
 * <p>{@link #close()} releases this handle only (not the lock, not the name). At most 256 threads may wait
 * on one condition at a time.
 */
public final class Condition extends SyncHandle<NativeCondition> implements java.util.concurrent.locks.Condition {
  private static final int NOTIFIED = 1;
  private static final int OWNER_DEAD = 2;

  private final LockBase lock; // the Lock it came from, or null
  private volatile String lockName; // fetched from the stat on first need
  private volatile boolean ownerDied;

  private Condition(String name, NativeCondition handle, LockBase lock, String lockName) {
    super("condition", name, handle, handle::delete);
    this.lock = lock;
    this.lockName = lockName;
  }

  /** Opens condition {@code name} (creating it, bound to the lock {@code "<name>.lock"}, if needed). */
  public static Condition open(String name) {
    return open(name, null, SyncOptions.DEFAULT);
  }

  /**
   * Opens condition {@code name} bound to the lock or rlock {@code lockName} (null: an existing condition's
   * own lock, or {@code "<name>.lock"} for a new one). The lock is opened or created (as a Lock) by name.
   *
   * @throws IncompatibleException the condition exists bound to another lock
   */
  public static Condition open(String name, String lockName) {
    return open(name, lockName, SyncOptions.DEFAULT);
  }

  /** {@link #open(String, String)} with options. */
  public static Condition open(String name, String lockName, SyncOptions options) {
    Polyipc.requireName(name);
    SyncOptions o = SyncOptions.orDefault(options);
    NativeLoader.load();
    NativeCondition h =
        NativeCondition.open(name, o.openMode, lockName == null ? "" : lockName, o.mode, o.ephemeral ? 1 : 0);
    return new Condition(name, h, null, lockName);
  }

  static Condition boundTo(String name, LockBase lock) {
    Polyipc.requireName(name);
    NativeLoader.load();
    NativeCondition h = NativeCondition.open(name, 0, lock.name(), 0, 0);
    return new Condition(name, h, lock, lock.name());
  }

  /** The name of the lock this condition is bound to. */
  public String lockName() {
    String n = lockName;
    if (n == null) {
      try {
        n = Json.mapper().readTree(statJson()).path("lock").asText();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      lockName = n;
    }
    return n;
  }

  // ---- the lock, through the condition ----------------------------------------------------------------

  private static int acquireAttempt(NativeCondition h, long timeoutNanos) {
    try {
      h.acquire(timeoutNanos);
      return NOTIFIED;
    } catch (PolyipcTimeoutException e) {
      return 0;
    } catch (OwnerDeadException e) {
      return OWNER_DEAD;
    }
  }

  private boolean acquired(int result) {
    if (result == 0) return false;
    boolean died = result == OWNER_DEAD;
    ownerDied = died;
    if (lock != null) lock.setOwnerDied(died);
    return true;
  }

  /** Acquires the condition's lock, waiting as long as it takes (not interruptible; see {@link Lock#lock()}). */
  public void lock() {
    acquired(slicedUninterruptibly(Condition::acquireAttempt));
  }

  /** Acquires the condition's lock unless interrupted. */
  public void lockInterruptibly() throws InterruptedException {
    acquired(sliced(FOREVER, "lock", Condition::acquireAttempt));
  }

  /** Acquires the condition's lock if it is free now. */
  public boolean tryLock() {
    return acquired(call(h -> acquireAttempt(h, 0)));
  }

  /** Acquires the condition's lock, waiting up to the timeout; false when the time ran out. */
  public boolean tryLock(long time, TimeUnit unit) throws InterruptedException {
    return acquired(sliced(nanos(time, unit), "tryLock", Condition::acquireAttempt));
  }

  /**
   * Releases the condition's lock.
   *
   * @throws NotOwnerException the calling thread does not hold it
   */
  public void unlock() {
    run(NativeCondition::release);
  }

  /**
   * Whether the latest acquisition of the lock through this handle ({@link #lock()} ... or the re-taking at
   * the end of a wait) took it from a holder that died (OWNER_DEAD): repair what it guards.
   */
  public boolean previousOwnerDied() {
    return ownerDied;
  }

  // ---- waiting ---------------------------------------------------------------------------------------

  private static int waitAttempt(NativeCondition h, long timeoutNanos) {
    try {
      h.wait_ns(timeoutNanos);
      return NOTIFIED;
    } catch (PolyipcTimeoutException e) {
      return 0;
    } catch (OwnerDeadException e) {
      return OWNER_DEAD;
    }
  }

  private boolean woken(int result) {
    if (result == OWNER_DEAD) {
      ownerDied = true;
      if (lock != null) lock.noteOwnerDiedInWait();
    }
    return result != 0;
  }

  /**
   * Waits until notified or interrupted.
   *
   * @throws InterruptedException interrupted (the lock is held again when it is thrown)
   * @throws NotOwnerException the calling thread does not hold the lock
   */
  @Override
  public void await() throws InterruptedException {
    woken(sliced(FOREVER, "await", Condition::waitAttempt));
  }

  /** Waits until notified; an interrupt is left pending. */
  @Override
  public void awaitUninterruptibly() {
    woken(slicedUninterruptibly(Condition::waitAttempt));
  }

  /**
   * Waits until notified, interrupted or the time runs out.
   *
   * @return an estimate of the nanoseconds left (at least 1 when notified); at most 0 when the time ran out
   */
  @Override
  public long awaitNanos(long nanosTimeout) throws InterruptedException {
    final long timeout = Math.max(0, nanosTimeout);
    final long start = System.nanoTime();
    boolean notified = woken(sliced(timeout, "await", Condition::waitAttempt));
    long left = timeout - (System.nanoTime() - start);
    if (notified) return Math.max(1, left);
    return Math.min(0, left);
  }

  /**
   * Waits until notified, interrupted or the time runs out (Python's {@code wait(timeout)}).
   *
   * @return false when the time ran out without a notify
   */
  @Override
  public boolean await(long time, TimeUnit unit) throws InterruptedException {
    return woken(sliced(nanos(time, unit), "await", Condition::waitAttempt));
  }

  /** Waits until notified, interrupted or the deadline passes; false when it passed. */
  @Override
  public boolean awaitUntil(Date deadline) throws InterruptedException {
    long ms = Objects.requireNonNull(deadline, "deadline").getTime() - System.currentTimeMillis();
    return await(ms, TimeUnit.MILLISECONDS);
  }

  /**
   * Waits until the predicate is true (Python's {@code wait_for}), evaluating it with the lock held: first
   * at once, then after each wake-up.
   *
   * @return the predicate's last value: false when the time ran out first
   */
  public boolean waitFor(BooleanSupplier predicate, long time, TimeUnit unit) throws InterruptedException {
    Objects.requireNonNull(predicate, "predicate");
    final long timeout = nanos(time, unit);
    final long start = System.nanoTime();
    boolean result = predicate.getAsBoolean();
    while (!result) {
      long left = timeout - (System.nanoTime() - start);
      if (left <= 0) break;
      woken(sliced(left, "waitFor", Condition::waitAttempt));
      result = predicate.getAsBoolean();
    }
    return result;
  }

  /** Waits as long as it takes until the predicate is true (interruptible). */
  public void waitFor(BooleanSupplier predicate) throws InterruptedException {
    Objects.requireNonNull(predicate, "predicate");
    while (!predicate.getAsBoolean()) await();
  }

  // ---- notifying -------------------------------------------------------------------------------------

  /** Wakes the longest waiting thread (of any process), if any. The caller holds the lock. */
  @Override
  public void signal() {
    notify(1);
  }

  /** Wakes every waiting thread. The caller holds the lock. */
  @Override
  public void signalAll() {
    run(NativeCondition::notify_all);
  }

  /**
   * Wakes up to {@code n} waiting threads, longest waiting first (Python's {@code notify(n)}). The caller
   * holds the lock.
   *
   * @throws IllegalArgumentException n is negative
   * @throws NotOwnerException the calling thread does not hold the lock
   */
  public void notify(int n) {
    if (n < 0) throw new IllegalArgumentException("n < 0");
    run(h -> h.notify_n(n));
  }

  @Override
  String nativeStat(NativeCondition h) {
    return h.stat_json();
  }
}
