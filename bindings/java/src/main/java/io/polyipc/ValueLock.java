package io.polyipc;

import java.util.concurrent.TimeUnit;

/**
 * The lock of a shared {@link LongValue}, {@link DoubleValue}, {@link LongArray} or {@link DoubleArray}
 * (Python's {@code Value.get_lock()}), as a {@link java.util.concurrent.locks.Lock}: robust and owned by the
 * thread that acquired it, as {@link Lock} is. Each single operation of a value is atomic without it; take
 * it for compound updates that every process does under it.
 *
 * <pre>{@code
 * ValueLock lock = balance.getLock();
 * lock.lock();
 * try {
 *   if (balance.get() >= price) balance.addAndGet(-price);
 * } finally {
 *   lock.unlock();
 * }
 * }</pre>
 *
 * <p>When its holder dies holding it, the next acquirer gets it and {@link #previousOwnerDied()} answers
 * true. {@link #lock()} by the holding thread throws {@link InvalidArgumentException} (not reentrant);
 * {@link #unlock()} by another thread throws {@link NotOwnerException}. Waits run in 50 ms slices
 * (interrupts and close are noticed). No conditions: {@link #newCondition()} is unsupported.
 */
public final class ValueLock implements java.util.concurrent.locks.Lock {
  private final ArrayHandle owner;
  private volatile boolean ownerDied;

  ValueLock(ArrayHandle owner) {
    this.owner = owner;
  }

  private boolean acquired(int result) {
    if (result == 0) return false;
    ownerDied = result == ArrayHandle.ACQUIRED_OWNER_DEAD;
    return true;
  }

  /** Acquires the lock, waiting as long as it takes (not interruptible: an interrupt is left pending). */
  @Override
  public void lock() {
    acquired(owner.slicedUninterruptibly(ArrayHandle::attempt));
  }

  /** Acquires the lock unless the thread is interrupted (noticed within about 50 ms). */
  @Override
  public void lockInterruptibly() throws InterruptedException {
    acquired(owner.sliced(SyncHandle.FOREVER, "lock", ArrayHandle::attempt));
  }

  /** Acquires the lock if it is free now. */
  @Override
  public boolean tryLock() {
    return acquired(owner.call(h -> ArrayHandle.attempt(h, 0)));
  }

  /** Acquires the lock, waiting up to the timeout; false when the time ran out. */
  @Override
  public boolean tryLock(long time, TimeUnit unit) throws InterruptedException {
    return acquired(owner.sliced(SyncHandle.nanos(time, unit), "tryLock", ArrayHandle::attempt));
  }

  /**
   * Releases the lock.
   *
   * @throws NotOwnerException the calling thread does not hold it
   */
  @Override
  public void unlock() {
    owner.run(NativeArray::release);
  }

  /** Whether the latest acquisition through this handle took the lock from a holder that died holding it. */
  public boolean previousOwnerDied() {
    return ownerDied;
  }

  /** Unsupported: use a {@link Condition} with a {@link Lock} for waiting. */
  @Override
  public java.util.concurrent.locks.Condition newCondition() {
    throw new UnsupportedOperationException("the lock of a shared value has no conditions; use io.polyipc.Condition");
  }

  @Override
  public String toString() {
    return "ValueLock[" + owner.name() + "]";
  }
}
