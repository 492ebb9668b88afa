package io.polyipc;

import java.util.function.LongBinaryOperator;
import java.util.function.LongUnaryOperator;

/**
 * A named shared int64 (Python's {@code multiprocessing.Value('q')}), with the methods of {@link
 * java.util.concurrent.atomic.AtomicLong}: every operation is one sequentially consistent atomic on shared
 * memory, seen by every process in every language. It is an int64 array of length 1 (a {@link LongArray} of
 * length 1 opens the same object). Starts at 0.
 *
 * <pre>{@code
 * try (LongValue hits = LongValue.open("hits")) {
 *   hits.incrementAndGet();
 * }
 * }</pre>
 *
 * <p>{@link #getLock()} is its optional robust lock, for compound updates. {@link #close()} releases the
 * handle only; use after close throws {@link HandleClosedException}.
 */
public final class LongValue extends ArrayHandle {
  private LongValue(String name, NativeArray handle) {
    super("value", name, handle);
  }

  /** Opens int64 value {@code name}, creating it (0) if it does not exist. */
  public static LongValue open(String name) {
    return open(name, SyncOptions.DEFAULT);
  }

  /**
   * Opens or creates int64 value {@code name} as the options say.
   *
   * @throws IncompatibleException the name holds a double, an array of another length, or another kind
   */
  public static LongValue open(String name, SyncOptions options) {
    return new LongValue(name, openNative(name, INT64, 1, options, false));
  }

  public long get() {
    return loadI64(0);
  }

  public void set(long value) {
    storeI64(0, value);
  }

  public long getAndSet(long value) {
    for (;;) {
      long v = get();
      if (compareAndSet(v, value)) return v;
    }
  }

  /** Adds (wrapping) and returns the value before. */
  public long getAndAdd(long delta) {
    return addI64(0, delta);
  }

  public long addAndGet(long delta) {
    return addI64(0, delta) + delta;
  }

  public long getAndIncrement() {
    return getAndAdd(1);
  }

  public long incrementAndGet() {
    return addAndGet(1);
  }

  public long getAndDecrement() {
    return getAndAdd(-1);
  }

  public long decrementAndGet() {
    return addAndGet(-1);
  }

  /** Sets {@code desired} if the value is {@code expected}; answers whether it did. */
  public boolean compareAndSet(long expected, long desired) {
    return casI64(0, expected, desired);
  }

  public long getAndUpdate(LongUnaryOperator f) {
    for (;;) {
      long v = get();
      if (compareAndSet(v, f.applyAsLong(v))) return v;
    }
  }

  public long updateAndGet(LongUnaryOperator f) {
    for (;;) {
      long v = get();
      long next = f.applyAsLong(v);
      if (compareAndSet(v, next)) return next;
    }
  }

  public long getAndAccumulate(long x, LongBinaryOperator f) {
    return getAndUpdate(v -> f.applyAsLong(v, x));
  }

  public long accumulateAndGet(long x, LongBinaryOperator f) {
    return updateAndGet(v -> f.applyAsLong(v, x));
  }

  @Override
  public String toString() {
    return isClosed() ? "LongValue[" + name() + ", closed handle]" : Long.toString(get());
  }
}
