package io.polyipc;

import java.util.concurrent.TimeUnit;

/**
 * A named event flag shared by processes in any language (Python's {@code multiprocessing.Event}): {@link
 * #set()} wakes every waiter in every process, until {@link #clear()}.
 *
 * <pre>{@code
 * try (Event ready = Event.open("service.ready")) {
 *   if (!ready.await(30, TimeUnit.SECONDS)) throw new IllegalStateException("the service never started");
 * }
 * }</pre>
 *
 * <p>Waits are in 50 ms slices and notice {@link Thread#interrupt()} within about 50 ms. A wait returns true
 * once a set came after it began, even if a clear followed before the waiter ran (between two slices too).
 * {@link #close()} releases this handle only.
 */
public final class Event extends SyncHandle<NativeEvent> {
  private Event(String name, NativeEvent handle) {
    super("event", name, handle, handle::delete);
  }

  /** Opens event {@code name}, creating it (not set) if needed. */
  public static Event open(String name) {
    return open(name, SyncOptions.DEFAULT);
  }

  /** Opens or creates event {@code name} as the options say. */
  public static Event open(String name, SyncOptions options) {
    Polyipc.requireName(name);
    SyncOptions o = SyncOptions.orDefault(options);
    NativeLoader.load();
    return new Event(name, NativeEvent.open(name, o.openMode, o.mode, o.ephemeral ? 1 : 0));
  }

  /** Sets the flag, waking every waiter. */
  public void set() {
    run(NativeEvent::set);
  }

  /** Clears the flag: waits from now on block until the next set. */
  public void clear() {
    run(NativeEvent::clear);
  }

  /** Whether the flag is set. */
  public boolean isSet() {
    return call(NativeEvent::is_set) != 0;
  }

  /**
   * One slice of a wait that took {@code token} when it began: a set since then counts, even if a clear
   * followed before this slice (or between two slices).
   */
  private static int attempt(NativeEvent h, long token, long timeoutNanos) {
    try {
      h.wait_since(token, timeoutNanos);
      return 1;
    } catch (PolyipcTimeoutException e) {
      return 0;
    }
  }

  /** Waits in slices; the token is taken once, before the first slice. */
  private int awaitSliced(long timeoutNanos) throws InterruptedException {
    final long token = call(NativeEvent::token);
    return sliced(timeoutNanos, "await", (h, slice) -> attempt(h, token, slice));
  }

  /**
   * Waits until the flag is set (at once if it is).
   *
   * @throws InterruptedException the thread was interrupted
   */
  public void await() throws InterruptedException {
    awaitSliced(FOREVER);
  }

  /**
   * Waits until the flag is set or the time runs out (at most 0: do not wait).
   *
   * @return whether the flag was set (false: the time ran out)
   * @throws InterruptedException the thread was interrupted
   */
  public boolean await(long timeout, TimeUnit unit) throws InterruptedException {
    return awaitSliced(nanos(timeout, unit)) != 0;
  }

  @Override
  String nativeStat(NativeEvent h) {
    return h.stat_json();
  }
}
