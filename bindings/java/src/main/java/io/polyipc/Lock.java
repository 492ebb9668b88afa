package io.polyipc;

/**
 * A named lock shared by processes in any language (Python's {@code multiprocessing.Lock}, made robust): a
 * {@link java.util.concurrent.locks.Lock}, owned by the thread that acquired it, not reentrant.
 *
 * <pre>{@code
 * try (io.polyipc.Lock lock = io.polyipc.Lock.open("accounts.lock")) {
 *   lock.lock();
 *   try {
 *     if (lock.previousOwnerDied()) repairAccounts(); // its last holder was killed mid-update
 *     updateAccounts();
 *   } finally {
 *     lock.unlock();
 *   }
 * }
 * }</pre>
 *
 * <p><b>A holder that dies.</b> When the holder dies holding it (kill -9, crash), the next acquirer gets the
 * lock (it is never wedged) and {@link #previousOwnerDied()} answers true; {@link
 * #acquireReportingOwnerDeath()} acquires and answers that at once. {@link #lock()} and friends never throw
 * for it, so the {@code lock(); try { ... } finally { unlock(); }} idiom never leaks the lock.
 *
 * <p><b>Threads.</b> Ownership is per thread (a platform thread; do not hold it across the blocking points
 * of a virtual thread, which may move to another carrier). {@link #unlock()} by a thread that does not hold
 * it throws {@link NotOwnerException}. {@link #lock()} by the thread holding it throws {@link
 * InvalidArgumentException} (instead of dead-locking); {@link #tryLock()} answers false. Use {@link RLock}
 * for a reentrant lock.
 *
 * <p><b>Waiting</b> is done in 50 ms slices: {@link #lockInterruptibly()} and {@link #tryLock(long,
 * java.util.concurrent.TimeUnit)} notice {@link Thread#interrupt()} within about 50 ms.
 *
 * <p>{@link #close()} releases the handle only: never the lock (a lock held stays held) and never the name.
 * Use after close throws {@link HandleClosedException}.
 */
public final class Lock extends LockBase {
  private Lock(String name, NativeLock handle) {
    super("lock", name, handle);
  }

  /** Opens lock {@code name}, creating it if needed. */
  public static Lock open(String name) {
    return open(name, SyncOptions.DEFAULT);
  }

  /**
   * Opens or creates lock {@code name} as the options say.
   *
   * @throws IncompatibleException the name holds something else (an rlock, a queue ...)
   */
  public static Lock open(String name, SyncOptions options) {
    return new Lock(name, openNative(name, false, options));
  }
}
