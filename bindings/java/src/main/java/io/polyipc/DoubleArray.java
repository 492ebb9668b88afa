package io.polyipc;

import java.util.Arrays;
import java.util.Objects;
import java.util.function.DoubleUnaryOperator;

/**
 * A named shared array of doubles (Python's {@code multiprocessing.Array('d', n)}) with the method names of {@link
 * java.util.concurrent.atomic.AtomicLongArray}: each operation on an element is one sequentially consistent
 * atomic on shared memory. Elements start at 0.0. An index out of range throws {@link
 * IndexOutOfBoundsException}.
 *
 * <p>{@link #toArray()} and {@link #toArray(int, int)} read a copy element by element (each read atomic,
 * the whole not: hold {@link #getLock()} in every writer for a consistent snapshot).
 */
public final class DoubleArray extends ArrayHandle {
  private DoubleArray(String name, NativeArray handle) {
    super("array", name, handle);
  }

  /**
   * Opens double array {@code name}, creating it with {@code length} zeroes if it does not exist.
   *
   * @throws IncompatibleException it exists with another length or element type
   */
  public static DoubleArray open(String name, int length) {
    return open(name, length, SyncOptions.DEFAULT);
  }

  /** Opens or creates double array {@code name} as the options say. */
  public static DoubleArray open(String name, int length, SyncOptions options) {
    if (length <= 0) throw new IllegalArgumentException("length must be positive (attach() takes any length)");
    return new DoubleArray(name, openNative(name, DOUBLE, length, options, false));
  }

  /** Attaches to existing double array {@code name}, whatever its length. */
  public static DoubleArray attach(String name) {
    return new DoubleArray(name, openNative(name, DOUBLE, 0, SyncOptions.DEFAULT, true));
  }

  public double get(int i) {
    return loadF64(i);
  }

  public void set(int i, double value) {
    storeF64(i, value);
  }

  public double getAndSet(int i, double value) {
    for (;;) {
      double v = get(i);
      if (compareAndSet(i, v, value)) return v;
    }
  }

  /** Adds atomically to element i and returns its value before. */
  public double getAndAdd(int i, double delta) {
    return addF64(i, delta);
  }

  public double addAndGet(int i, double delta) {
    return addF64(i, delta) + delta;
  }

  /** Sets element i to {@code desired} if it has the bits of {@code expected} (NaN can be replaced; -0.0 is not 0.0). */
  public boolean compareAndSet(int i, double expected, double desired) {
    return casF64(i, expected, desired);
  }

  public double getAndUpdate(int i, DoubleUnaryOperator f) {
    for (;;) {
      double v = get(i);
      if (compareAndSet(i, v, f.applyAsDouble(v))) return v;
    }
  }

  public double updateAndGet(int i, DoubleUnaryOperator f) {
    for (;;) {
      double v = get(i);
      double next = f.applyAsDouble(v);
      if (compareAndSet(i, v, next)) return next;
    }
  }

  /** A copy of every element. */
  public double[] toArray() {
    return toArray(0, length());
  }

  /** A copy of elements {@code from} (inclusive) to {@code to} (exclusive): Python's {@code a[from:to]}. */
  public double[] toArray(int from, int to) {
    Objects.checkFromToIndex(from, to, length());
    double[] out = new double[to - from];
    for (int i = from; i < to; ++i) out[i - from] = get(i);
    return out;
  }

  @Override
  public String toString() {
    return isClosed() ? "DoubleArray[" + name() + ", closed handle]" : Arrays.toString(toArray());
  }
}
