package io.polyipc;

import java.util.concurrent.TimeUnit;

/** What {@link Lock} and {@link RLock} share: acquiring in slices, and remembering OWNER_DEAD. */
abstract class LockBase extends SyncHandle<NativeLock> implements java.util.concurrent.locks.Lock {
  /** Attempt results: acquired, or acquired from a holder that died. */
  static final int ACQUIRED = 1;
  static final int ACQUIRED_OWNER_DEAD = 2;

  private volatile boolean ownerDied;

  LockBase(String kind, String name, NativeLock handle) {
    super(kind, name, handle, handle::delete);
  }

  static NativeLock openNative(String name, boolean recursive, SyncOptions options) {
    Polyipc.requireName(name);
    SyncOptions o = SyncOptions.orDefault(options);
    NativeLoader.load();
    return NativeLock.open(name, o.openMode, recursive ? 1 : 0, o.mode, o.ephemeral ? 1 : 0);
  }

  private static int attempt(NativeLock h, long timeoutNanos) {
    try {
      h.acquire(timeoutNanos);
      return ACQUIRED;
    } catch (PolyipcTimeoutException e) {
      return 0;
    } catch (OwnerDeadException e) {
      return ACQUIRED_OWNER_DEAD;
    }
  }

  private boolean acquired(int result) {
    if (result == 0) return false;
    noteAcquired(result == ACQUIRED_OWNER_DEAD);
    return true;
  }

  /** Records the outcome of an acquisition by this handle (RLock: only the outermost one clears). */
  void noteAcquired(boolean previousHolderDied) {
    ownerDied = previousHolderDied;
  }

  /** A condition of this lock re-took it from a holder that died. */
  final void noteOwnerDiedInWait() {
    ownerDied = true;
  }

  final void setOwnerDied(boolean died) {
    ownerDied = died;
  }

  /**
   * Acquires the lock, waiting as long as it takes. Not interruptible (like {@link
   * java.util.concurrent.locks.ReentrantLock#lock()}): an interrupt while waiting is left pending. Never
   * throws because the previous holder died: see {@link #previousOwnerDied()}.
   *
   * @throws InvalidArgumentException a {@link Lock} (not recursive) acquired again by the thread holding it
   */
  @Override
  public final void lock() {
    acquired(slicedUninterruptibly(LockBase::attempt));
  }

  /**
   * Acquires the lock, waiting as long as it takes, unless the thread is interrupted (noticed within about
   * 50 ms).
   *
   * @throws InterruptedException the thread was interrupted (before or while waiting); the lock is not held
   */
  @Override
  public final void lockInterruptibly() throws InterruptedException {
    acquired(sliced(FOREVER, "lock", LockBase::attempt));
  }

  /** Acquires the lock if it is free now (false when it is held, by this thread too for a {@link Lock}). */
  @Override
  public final boolean tryLock() {
    return acquired(call(h -> attempt(h, 0)));
  }

  /**
   * Acquires the lock, waiting up to the timeout (at most 0: do not wait).
   *
   * @return false when the time ran out
   * @throws InterruptedException the thread was interrupted
   */
  @Override
  public final boolean tryLock(long time, TimeUnit unit) throws InterruptedException {
    return acquired(sliced(nanos(time, unit), "tryLock", LockBase::attempt));
  }

  /**
   * {@link #lockInterruptibly()}, answering whether the previous holder died holding the lock (OWNER_DEAD):
   * then the lock is held all the same, and what it guards may be half-updated, to repair before use.
   */
  public final boolean acquireReportingOwnerDeath() throws InterruptedException {
    lockInterruptibly();
    return ownerDied;
  }

  /**
   * Whether the latest acquisition through this handle ({@link #lock()}, {@link #tryLock()} ... or the
   * re-acquisition at the end of an await of one of its conditions) took the lock from a holder that died
   * holding it (the C API's OWNER_DEAD). The lock is then held and usable; repair what it guards. Ask it
   * while holding the lock, right after acquiring it.
   */
  public final boolean previousOwnerDied() {
    return ownerDied;
  }

  /**
   * Releases the lock (an {@link RLock}: one level of it).
   *
   * @throws NotOwnerException the calling thread does not hold it (where the JDK's locks throw {@link
   *     IllegalMonitorStateException})
   */
  @Override
  public final void unlock() {
    run(NativeLock::release);
  }

  /** Whether anyone (any thread of any process) holds the lock now. */
  public final boolean locked() {
    return call(NativeLock::locked) != 0;
  }

  /** Whether the calling thread holds the lock. */
  public final boolean isHeldByCurrentThread() {
    return call(NativeLock::held) > 0;
  }

  /**
   * A {@link Condition} bound to this lock, named {@code "<this lock's name>.cond"}: every call of this
   * method (in any process) gives a handle on that same condition. Close it when done ({@link
   * Condition#close()}); closing the lock does not close it. {@link #newCondition(String)} makes others.
   */
  @Override
  public final Condition newCondition() {
    return newCondition(name() + ".cond");
  }

  /** A {@link Condition} named {@code conditionName} bound to this lock (opened or created). */
  public final Condition newCondition(String conditionName) {
    return Condition.boundTo(conditionName, this);
  }

  @Override
  final String nativeStat(NativeLock h) {
    return h.stat_json();
  }
}
