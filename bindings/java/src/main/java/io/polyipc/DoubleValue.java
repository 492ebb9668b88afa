package io.polyipc;

import java.util.function.DoubleUnaryOperator;

/**
 * A named shared double (Python's {@code multiprocessing.Value('d')}) with atomic operations named as
 * {@link java.util.concurrent.atomic.AtomicLong}'s: every operation is one sequentially consistent atomic
 * on shared memory. {@link #compareAndSet} compares the bits (so NaN can be replaced, and -0.0 is not 0.0).
 * It is a double array of length 1; starts at 0.0.
 *
 * <p>{@link #getLock()} is its optional robust lock. {@link #close()} releases the handle only.
 */
public final class DoubleValue extends ArrayHandle {
  private DoubleValue(String name, NativeArray handle) {
    super("value", name, handle);
  }

  /** Opens double value {@code name}, creating it (0.0) if it does not exist. */
  public static DoubleValue open(String name) {
    return open(name, SyncOptions.DEFAULT);
  }

  /** Opens or creates double value {@code name} as the options say. */
  public static DoubleValue open(String name, SyncOptions options) {
    return new DoubleValue(name, openNative(name, DOUBLE, 1, options, false));
  }

  public double get() {
    return loadF64(0);
  }

  public void set(double value) {
    storeF64(0, value);
  }

  public double getAndSet(double value) {
    for (;;) {
      double v = get();
      if (compareAndSet(v, value)) return v;
    }
  }

  /** Adds atomically and returns the value before. */
  public double getAndAdd(double delta) {
    return addF64(0, delta);
  }

  public double addAndGet(double delta) {
    return addF64(0, delta) + delta;
  }

  /** Sets {@code desired} if the value has the bits of {@code expected}; answers whether it did. */
  public boolean compareAndSet(double expected, double desired) {
    return casF64(0, expected, desired);
  }

  public double getAndUpdate(DoubleUnaryOperator f) {
    for (;;) {
      double v = get();
      if (compareAndSet(v, f.applyAsDouble(v))) return v;
    }
  }

  public double updateAndGet(DoubleUnaryOperator f) {
    for (;;) {
      double v = get();
      double next = f.applyAsDouble(v);
      if (compareAndSet(v, next)) return next;
    }
  }

  @Override
  public String toString() {
    return isClosed() ? "DoubleValue[" + name() + ", closed handle]" : Double.toString(get());
  }
}
