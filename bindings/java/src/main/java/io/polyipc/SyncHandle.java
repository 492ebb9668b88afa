package io.polyipc;

import java.lang.ref.Cleaner;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * The handle machinery shared by the synchronisation classes: the native handle behind a read-write guard
 * (calls hold the read side for at most one wait slice; {@link #close()} takes the write side), a {@link
 * Cleaner} that releases a handle dropped without close (never unlinks, never releases a lock), and waits
 * in slices of {@value #SLICE_MILLIS} ms so that {@link Thread#interrupt()} and close are noticed quickly.
 *
 * @param <H> the SWIG class of the handle
 */
abstract class SyncHandle<H> implements AutoCloseable {
  static final long SLICE_MILLIS = 50;
  /** The longest single wait in native code. */
  static final long SLICE_NANOS = TimeUnit.MILLISECONDS.toNanos(SLICE_MILLIS);
  /** A timeout meaning "no limit" (the C API's -1). */
  static final long FOREVER = -1;

  static final Cleaner CLEANER = Cleaner.create();

  private final String kind;
  private final String name;
  private final ReentrantReadWriteLock guard = new ReentrantReadWriteLock();
  private final java.util.concurrent.locks.Lock reading = guard.readLock();
  private H handle; // null once closed; read under `reading`, written under the write lock
  private volatile boolean closing;
  private final Cleaner.Cleanable release;

  /** @param delete releases the native handle; must not refer to the new object (it is the Cleaner's action) */
  SyncHandle(String kind, String name, H handle, Runnable delete) {
    this.handle = Polyipc.requireHandle(kind, name, handle);
    this.kind = kind;
    this.name = name;
    this.release = CLEANER.register(this, delete);
  }

  // ---- calls on the live handle ------------------------------------------------------------------

  @FunctionalInterface
  interface Call<H, R> {
    R apply(H handle);
  }

  @FunctionalInterface
  interface Run<H> {
    void apply(H handle);
  }

  /**
   * One bounded attempt of a wait: answers 0 when the time ran out (the native TIMEOUT), anything else when
   * the wait is over (a result code of the caller's choosing).
   */
  @FunctionalInterface
  interface Attempt<H> {
    int tryFor(H handle, long timeoutNanos);
  }

  final <R> R call(Call<H, R> f) {
    reading.lock();
    try {
      return f.apply(live());
    } finally {
      reading.unlock();
    }
  }

  final void run(Run<H> f) {
    reading.lock();
    try {
      f.apply(live());
    } finally {
      reading.unlock();
    }
  }

  /** The live handle with the read side held: pair with {@link #exit()} (for waits that span slices). */
  final H enter() {
    reading.lock();
    try {
      return live();
    } catch (RuntimeException e) {
      reading.unlock();
      throw e;
    }
  }

  final void exit() {
    reading.unlock();
  }

  /**
   * The live handle with the read side held (pair with {@link #exit()}), without ever blocking: for a wait
   * over several handles, which must not queue behind one's close() while holding another's read side.
   * Throws HandleClosedException when the handle is closed or being closed.
   */
  final H tryEnter() {
    if (closing || !reading.tryLock()) throw closedError();
    H h = handle;
    if (h == null) {
      reading.unlock();
      throw closedError();
    }
    return h;
  }

  /** Whether close() was called (perhaps still waiting for calls in progress). */
  final boolean isClosing() {
    return closing;
  }

  private H live() {
    H h = handle;
    if (h == null) throw closedError();
    return h;
  }

  final HandleClosedException closedError() {
    return new HandleClosedException(kind + " '" + name + "': this handle was closed");
  }

  // ---- waiting in slices -------------------------------------------------------------------------

  /** A user's timeout in nanoseconds: at most 0 means "do not wait"; saturates at Long.MAX_VALUE. */
  static long nanos(long timeout, TimeUnit unit) {
    Objects.requireNonNull(unit, "unit");
    return timeout <= 0 ? 0 : unit.toNanos(timeout);
  }

  /** The next slice of a wait of timeoutNanos (FOREVER: no limit) that started at start. */
  static long slice(long timeoutNanos, long start) {
    if (timeoutNanos < 0) return SLICE_NANOS;
    return Math.min(SLICE_NANOS, Math.max(0, timeoutNanos - (System.nanoTime() - start)));
  }

  static boolean expired(long timeoutNanos, long start) {
    return timeoutNanos >= 0 && System.nanoTime() - start >= timeoutNanos;
  }

  /**
   * Repeats the attempt in slices until it answers non-zero (returned) or timeoutNanos passed (0). Checks for
   * an interrupt before each slice.
   */
  final int sliced(long timeoutNanos, String what, Attempt<H> attempt) throws InterruptedException {
    final long start = System.nanoTime();
    for (;;) {
      if (Thread.interrupted()) throw interrupted(what);
      final long slice = slice(timeoutNanos, start);
      reading.lock();
      try {
        int r = attempt.tryFor(live(), slice);
        if (r != 0) return r;
      } finally {
        reading.unlock();
      }
      if (slice == 0 || expired(timeoutNanos, start)) return 0;
    }
  }

  /** One native wait for a version change: the new version, or PolyipcTimeoutException when none came. */
  @FunctionalInterface
  interface VersionWait<H> {
    long waitChange(H handle, long seenVersion, long timeoutNanos);
  }

  /**
   * Dict and List's awaitChange: waits in slices, each from the same seenVersion (a change between two slices
   * is not missed), until the version differs; returns it, or seenVersion when timeoutNanos passed first.
   */
  final long awaitVersionChange(long seenVersion, long timeoutNanos, VersionWait<H> wait)
      throws InterruptedException {
    final long[] version = {seenVersion};
    sliced(timeoutNanos, "awaitChange", (h, slice) -> {
      try {
        version[0] = wait.waitChange(h, seenVersion, slice);
        return 1;
      } catch (PolyipcTimeoutException e) {
        return 0; // no change within this slice
      }
    });
    return version[0];
  }

  /** {@link #sliced} without a limit, ignoring interrupts (the interrupt status is left as it is). */
  final int slicedUninterruptibly(Attempt<H> attempt) {
    for (;;) {
      reading.lock();
      try {
        int r = attempt.tryFor(live(), SLICE_NANOS);
        if (r != 0) return r;
      } finally {
        reading.unlock();
      }
    }
  }

  final InterruptedException interrupted(String what) {
    return new InterruptedException(what + " on " + kind + " '" + name + "' interrupted");
  }

  // ---- the handle ----------------------------------------------------------------------------------

  /** The object's name. */
  public final String name() {
    return name;
  }

  /**
   * Releases this handle (the object itself stays, for everyone; a lock held stays held). Idempotent; waits
   * for calls in progress on other threads (at most one wait slice), which then throw {@link
   * HandleClosedException}. Close a handle when no thread is using it any more.
   */
  @Override
  public void close() {
    closing = true;
    java.util.concurrent.locks.Lock writing = guard.writeLock();
    writing.lock();
    try {
      if (handle == null) return;
      handle = null;
      release.clean();
    } finally {
      writing.unlock();
    }
  }

  /** Whether {@link #close()} was called on this handle. */
  public final boolean isClosed() {
    reading.lock();
    try {
      return handle == null;
    } finally {
      reading.unlock();
    }
  }

  /** Removes the object's name (see {@link Polyipc#unlink}); attached handles, this one too, keep working. */
  public final void unlink() {
    Polyipc.unlink(name);
  }

  /** The object's name, kind and counters as a JSON object (see {@code polyipc stat}). */
  public final String statJson() {
    return call(this::nativeStat);
  }

  abstract String nativeStat(H handle);

  @Override
  public String toString() {
    return getClass().getSimpleName() + "[" + name + (isClosed() ? ", closed handle]" : "]");
  }
}
