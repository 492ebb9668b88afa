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
 * <p>Waits are in 50 ms slices and notice {@link Thread#interrupt()} within about 50 ms. A waiter woken by
 * a set returns true even if a clear came before it ran. {@link #close()} releases this handle only.
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

  private static int attempt(NativeEvent h, long timeoutNanos) {
    try {
      h.wait_ns(timeoutNanos);
      return 1;
    } catch (PolyipcTimeoutException e) {
      return 0;
    }
  }

  /**
   * Waits until the flag is set (at once if it is).
   *
   * @throws InterruptedException the thread was interrupted
   */
  public void await() throws InterruptedException {
    sliced(FOREVER, "await", Event::attempt);
  }

  /**
   * Waits until the flag is set or the time runs out (at most 0: do not wait).
   *
   * @return whether the flag was set (false: the time ran out)
   * @throws InterruptedException the thread was interrupted
   */
  public boolean await(long timeout, TimeUnit unit) throws InterruptedException {
    return sliced(nanos(timeout, unit), "await", Event::attempt) != 0;
  }

  @Override
  String nativeStat(NativeEvent h) {
    return h.stat_json();
  }
}
