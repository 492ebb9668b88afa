package io.polyipc;

import java.util.Objects;

/**
 * What {@link LongValue}, {@link DoubleValue}, {@link LongArray} and {@link DoubleArray} share: the native
 * array (int64 or double elements, sequentially consistent atomics), index checks, and the optional lock.
 */
abstract class ArrayHandle extends SyncHandle<NativeArray> {
  static final int INT64 = 0;
  static final int DOUBLE = 1;

  private final int length;
  private final ValueLock lock;

  ArrayHandle(String kind, String name, NativeArray handle) {
    super(kind, name, handle, handle::delete);
    long n = handle.length();
    if (n > Integer.MAX_VALUE) {
      handle.delete();
      throw new UnsupportedOperationException(kind + " '" + name + "': " + n + " elements is more than Java indexes");
    }
    this.length = (int) n;
    this.lock = new ValueLock(this);
  }

  /**
   * Opens the native array. length 0 attaches an existing one whatever its length.
   *
   * @throws IncompatibleException it exists with another element type or length
   */
  static NativeArray openNative(String name, int type, long length, SyncOptions options, boolean attach) {
    Polyipc.requireName(name);
    if (length < 0) throw new IllegalArgumentException("length < 0");
    SyncOptions o = SyncOptions.orDefault(options);
    NativeLoader.load();
    return NativeArray.open(name, attach ? 2 : o.openMode, type, length, o.mode, o.ephemeral ? 1 : 0);
  }

  /** The number of elements. */
  public final int length() {
    return length;
  }

  final long index(int i) {
    return Objects.checkIndex(i, length);
  }

  /**
   * The optional lock of the shared value (Python's {@code get_lock()}): robust, per thread, for compound
   * updates (each single operation is atomic without it). See {@link ValueLock}.
   */
  public final ValueLock getLock() {
    return lock;
  }

  // ---- the native operations (index checked by the caller) ----------------------------------------

  final long loadI64(int i) {
    long k = index(i);
    return call(h -> h.load_i64(k));
  }

  final void storeI64(int i, long v) {
    long k = index(i);
    run(h -> h.store_i64(k, v));
  }

  final long addI64(int i, long delta) {
    long k = index(i);
    return call(h -> h.add_i64(k, delta));
  }

  final boolean casI64(int i, long expected, long desired) {
    long k = index(i);
    return call(h -> h.compare_exchange_i64(k, expected, desired)) != 0;
  }

  final double loadF64(int i) {
    long k = index(i);
    return call(h -> h.load_f64(k));
  }

  final void storeF64(int i, double v) {
    long k = index(i);
    run(h -> h.store_f64(k, v));
  }

  final double addF64(int i, double delta) {
    long k = index(i);
    return call(h -> h.add_f64(k, delta));
  }

  final boolean casF64(int i, double expected, double desired) {
    long k = index(i);
    return call(h -> h.compare_exchange_f64(k, expected, desired)) != 0;
  }

  // ---- the lock -----------------------------------------------------------------------------------

  static final int ACQUIRED = 1;
  static final int ACQUIRED_OWNER_DEAD = 2;

  static int attempt(NativeArray h, long timeoutNanos) {
    try {
      h.acquire(timeoutNanos);
      return ACQUIRED;
    } catch (PolyipcTimeoutException e) {
      return 0;
    } catch (OwnerDeadException e) {
      return ACQUIRED_OWNER_DEAD;
    }
  }

  @Override
  final String nativeStat(NativeArray h) {
    return h.stat_json();
  }
}
