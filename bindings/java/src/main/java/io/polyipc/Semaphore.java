package io.polyipc;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.concurrent.TimeUnit;

/**
 * A named counting semaphore shared by processes in any language (Python's {@code multiprocessing.Semaphore}
 * and {@code BoundedSemaphore}), with the methods of {@link java.util.concurrent.Semaphore}.
 *
 * <pre>{@code
 * try (Semaphore slots = Semaphore.open("gpu.slots", 2)) {
 *   slots.acquire();
 *   try {
 *     useTheGpu();
 *   } finally {
 *     slots.release();
 *   }
 * }
 * }</pre>
 *
 * <p>Permits taken are counted per process: those of a process that dies come back. Permits are not owned by
 * threads: any thread (of any process) may release. A bounded semaphore ({@link #openBounded}) refuses a
 * release past its maximum with {@link InvalidArgumentException} (Python's ValueError). Negative counts are
 * {@link IllegalArgumentException}s, as in the JDK.
 *
 * <p>Waits are in 50 ms slices; {@link #acquire()} and the timed {@code tryAcquire}s notice {@link
 * Thread#interrupt()} within about 50 ms. {@link #close()} releases this handle only, not the permits it took.
 */
public final class Semaphore extends SyncHandle<NativeSemaphore> {
  private volatile long max = -1; // fetched from the stat on first need

  private Semaphore(String name, NativeSemaphore handle) {
    super("semaphore", name, handle, handle::delete);
  }

  /** Opens semaphore {@code name}, creating it unbounded with {@code permits} permits if needed. */
  public static Semaphore open(String name, int permits) {
    return open(name, permits, SyncOptions.DEFAULT);
  }

  /**
   * Opens or creates the unbounded semaphore {@code name} (with {@link SyncOptions#openOnly()}: whatever
   * semaphore the name holds).
   *
   * @throws IncompatibleException the name holds a bounded semaphore, or something else
   */
  public static Semaphore open(String name, int permits, SyncOptions options) {
    return openNative(name, permits, 0, options);
  }

  /**
   * Opens bounded semaphore {@code name}, creating it with {@code permits} permits if needed; releases past
   * {@code maxPermits} are refused.
   *
   * @throws IncompatibleException the name holds a semaphore with another maximum, or something else
   */
  public static Semaphore openBounded(String name, int permits, int maxPermits) {
    return openBounded(name, permits, maxPermits, SyncOptions.DEFAULT);
  }

  /** {@link #openBounded(String, int, int)} with options. */
  public static Semaphore openBounded(String name, int permits, int maxPermits, SyncOptions options) {
    if (maxPermits <= 0) throw new IllegalArgumentException("maxPermits must be positive");
    if (permits > maxPermits) throw new IllegalArgumentException("permits > maxPermits");
    return openNative(name, permits, maxPermits, options);
  }

  private static Semaphore openNative(String name, int permits, int max, SyncOptions options) {
    Polyipc.requireName(name);
    if (permits < 0) throw new IllegalArgumentException("permits < 0");
    SyncOptions o = SyncOptions.orDefault(options);
    NativeLoader.load();
    return new Semaphore(name, NativeSemaphore.open(name, o.openMode, permits, max, o.mode, o.ephemeral ? 1 : 0));
  }

  private static int requirePermits(int permits) {
    if (permits < 0) throw new IllegalArgumentException("permits < 0");
    return permits;
  }

  private static Attempt<NativeSemaphore> take(int permits) {
    return (h, timeoutNanos) -> {
      try {
        h.acquire(permits, timeoutNanos);
        return 1;
      } catch (PolyipcTimeoutException e) {
        return 0;
      }
    };
  }

  // ---- acquiring -------------------------------------------------------------------------------------

  /** Takes a permit, waiting as long as it takes. @throws InterruptedException interrupted */
  public void acquire() throws InterruptedException {
    acquire(1);
  }

  /**
   * Takes {@code permits} permits at once (all or none), waiting as long as it takes.
   *
   * @throws InterruptedException interrupted (no permit is taken)
   * @throws InvalidArgumentException more than a bounded semaphore's maximum
   */
  public void acquire(int permits) throws InterruptedException {
    sliced(FOREVER, "acquire", take(requirePermits(permits)));
  }

  /** Takes a permit, waiting as long as it takes; an interrupt is left pending. */
  public void acquireUninterruptibly() {
    acquireUninterruptibly(1);
  }

  /** Takes {@code permits} permits at once, waiting as long as it takes; an interrupt is left pending. */
  public void acquireUninterruptibly(int permits) {
    slicedUninterruptibly(take(requirePermits(permits)));
  }

  /** Takes a permit if one is available now. */
  public boolean tryAcquire() {
    return tryAcquire(1);
  }

  /** Takes {@code permits} permits if they are available now (all or none). */
  public boolean tryAcquire(int permits) {
    Attempt<NativeSemaphore> t = take(requirePermits(permits));
    return call(h -> t.tryFor(h, 0)) != 0;
  }

  /** Takes a permit, waiting up to the timeout; false when the time ran out. */
  public boolean tryAcquire(long timeout, TimeUnit unit) throws InterruptedException {
    return tryAcquire(1, timeout, unit);
  }

  /** Takes {@code permits} permits at once, waiting up to the timeout; false when the time ran out. */
  public boolean tryAcquire(int permits, long timeout, TimeUnit unit) throws InterruptedException {
    return sliced(nanos(timeout, unit), "tryAcquire", take(requirePermits(permits))) != 0;
  }

  // ---- releasing and counting ------------------------------------------------------------------------

  /** Gives a permit back. @throws InvalidArgumentException a bounded semaphore would exceed its maximum */
  public void release() {
    release(1);
  }

  /**
   * Gives {@code permits} permits back (at once: all or none).
   *
   * @throws InvalidArgumentException a bounded semaphore would exceed its maximum (nothing is released)
   */
  public void release(int permits) {
    requirePermits(permits);
    run(h -> h.release(permits));
  }

  /** The permits available now. */
  public int availablePermits() {
    long v = call(NativeSemaphore::value);
    return v > Integer.MAX_VALUE ? Integer.MAX_VALUE : (int) v;
  }

  /** Takes every permit available now; answers how many. */
  public int drainPermits() {
    long v = call(NativeSemaphore::drain);
    return v > Integer.MAX_VALUE ? Integer.MAX_VALUE : (int) v;
  }

  /** Whether the semaphore is bounded (made by {@link #openBounded}). */
  public boolean isBounded() {
    return maxPermits() != 0;
  }

  /** A bounded semaphore's maximum; 0 when unbounded. */
  public int maxPermits() {
    long m = max;
    if (m < 0) {
      try {
        m = Json.mapper().readTree(statJson()).path("max").asLong(0);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      max = m;
    }
    return m > Integer.MAX_VALUE ? Integer.MAX_VALUE : (int) m;
  }

  @Override
  String nativeStat(NativeSemaphore h) {
    return h.stat_json();
  }
}
