package io.polyipc;

import java.util.Arrays;
import java.util.Objects;
import java.util.function.LongUnaryOperator;

/**
 * A named shared array of int64 (Python's {@code multiprocessing.Array('q', n)}) with the methods of {@link
 * java.util.concurrent.atomic.AtomicLongArray}: each operation on an element is one sequentially consistent
 * atomic on shared memory. Elements start at 0. An index out of range throws {@link
 * IndexOutOfBoundsException}.
 *
 * <p>{@link #toArray()} and {@link #toArray(int, int)} read a copy element by element (each read atomic,
 * the whole not: hold {@link #getLock()} in every writer for a consistent snapshot).
 */
public final class LongArray extends ArrayHandle {
  private LongArray(String name, NativeArray handle) {
    super("array", name, handle);
  }

  /**
   * Opens int64 array {@code name}, creating it with {@code length} zeroes if it does not exist.
   *
   * @throws IncompatibleException it exists with another length or element type
   */
  public static LongArray open(String name, int length) {
    return open(name, length, SyncOptions.DEFAULT);
  }

  /** Opens or creates int64 array {@code name} as the options say. */
  public static LongArray open(String name, int length, SyncOptions options) {
    if (length <= 0) throw new IllegalArgumentException("length must be positive (attach() takes any length)");
    return new LongArray(name, openNative(name, INT64, length, options, false));
  }

  /** Attaches to existing int64 array {@code name}, whatever its length. */
  public static LongArray attach(String name) {
    return new LongArray(name, openNative(name, INT64, 0, SyncOptions.DEFAULT, true));
  }

  public long get(int i) {
    return loadI64(i);
  }

  public void set(int i, long value) {
    storeI64(i, value);
  }

  public long getAndSet(int i, long value) {
    for (;;) {
      long v = get(i);
      if (compareAndSet(i, v, value)) return v;
    }
  }

  /** Adds (wrapping) to element i and returns its value before. */
  public long getAndAdd(int i, long delta) {
    return addI64(i, delta);
  }

  public long addAndGet(int i, long delta) {
    return addI64(i, delta) + delta;
  }

  public long getAndIncrement(int i) {
    return getAndAdd(i, 1);
  }

  public long incrementAndGet(int i) {
    return addAndGet(i, 1);
  }

  public long getAndDecrement(int i) {
    return getAndAdd(i, -1);
  }

  public long decrementAndGet(int i) {
    return addAndGet(i, -1);
  }

  public boolean compareAndSet(int i, long expected, long desired) {
    return casI64(i, expected, desired);
  }

  public long getAndUpdate(int i, LongUnaryOperator f) {
    for (;;) {
      long v = get(i);
      if (compareAndSet(i, v, f.applyAsLong(v))) return v;
    }
  }

  public long updateAndGet(int i, LongUnaryOperator f) {
    for (;;) {
      long v = get(i);
      long next = f.applyAsLong(v);
      if (compareAndSet(i, v, next)) return next;
    }
  }

  /** A copy of every element. */
  public long[] toArray() {
    return toArray(0, length());
  }

  /** A copy of elements {@code from} (inclusive) to {@code to} (exclusive): Python's {@code a[from:to]}. */
  public long[] toArray(int from, int to) {
    Objects.checkFromToIndex(from, to, length());
    long[] out = new long[to - from];
    for (int i = from; i < to; ++i) out[i - from] = get(i);
    return out;
  }

  @Override
  public String toString() {
    return isClosed() ? "LongArray[" + name() + ", closed handle]" : Arrays.toString(toArray());
  }
}
