package io.polyipc;

import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A named barrier for a fixed number of parties, shared by processes in any language (Python's {@code
 * multiprocessing.Barrier}), with the methods of {@link java.util.concurrent.CyclicBarrier}: each {@link
 * #await()} waits until {@link #getParties()} callers (threads of any processes) have arrived, then all go
 * on and the barrier is ready for the next round.
 *
 * <pre>{@code
 * try (Barrier start = Barrier.open("race.start", 3)) {
 *   int index = start.await(30, TimeUnit.SECONDS); // 0 for the first to arrive, 2 for the last
 * }
 * }</pre>
 *
 * <p><b>Arrival index.</b> {@link #await()} returns the arrival index as every polyipc language does: 0 for
 * the first to arrive, {@code getParties() - 1} for the last (CyclicBarrier counts the other way round).
 *
 * <p><b>Breaking.</b> As with CyclicBarrier, a waiter that times out ({@link TimeoutException}) or is
 * interrupted ({@link InterruptedException}, noticed within about 50 ms) breaks the barrier: every other
 * waiter, in every process, gets {@link BrokenBarrierException}, and so does every later await until {@link
 * #reset()}. {@link #abort()} breaks it on purpose; a waiting process that dies breaks it too. {@link
 * #reset()} breaks the current round (its waiters get BrokenBarrierException) and starts a fresh one.
 *
 * <p>{@link #close()} while a thread of this process waits makes that wait give up (breaking the barrier)
 * with {@link HandleClosedException}.
 */
public final class Barrier extends SyncHandle<NativeBarrier> {
  private Barrier(String name, NativeBarrier handle) {
    super("barrier", name, handle, handle::delete);
  }

  /**
   * Opens barrier {@code name} for {@code parties} parties (1..256), creating it if needed.
   *
   * @throws IncompatibleException it exists with another number of parties
   * @throws InvalidArgumentException parties is not 1..256
   */
  public static Barrier open(String name, int parties) {
    return open(name, parties, SyncOptions.DEFAULT);
  }

  /** {@link #open(String, int)} with options. */
  public static Barrier open(String name, int parties, SyncOptions options) {
    Polyipc.requireName(name);
    if (parties <= 0) throw new IllegalArgumentException("parties must be positive");
    SyncOptions o = SyncOptions.orDefault(options);
    NativeLoader.load();
    return new Barrier(name, NativeBarrier.open(name, o.openMode, parties, o.mode, o.ephemeral ? 1 : 0));
  }

  /**
   * Waits until every party has arrived.
   *
   * @return the arrival index: 0 first, {@code getParties() - 1} last
   * @throws BrokenBarrierException the barrier is or became broken (a timeout, interrupt, abort or reset
   *     elsewhere, or a waiter died)
   * @throws InterruptedException interrupted while waiting (the barrier is now broken)
   */
  public int await() throws InterruptedException, BrokenBarrierException {
    try {
      return awaitRaw(FOREVER);
    } catch (TimeoutException e) {
      throw new AssertionError("no timeout was given", e);
    }
  }

  /**
   * Waits until every party has arrived, or the timeout (at most 0: do not wait) passes.
   *
   * @return the arrival index: 0 first, {@code getParties() - 1} last
   * @throws TimeoutException the time ran out (the barrier is now broken, for everyone)
   * @throws BrokenBarrierException the barrier is or became broken
   * @throws InterruptedException interrupted while waiting (the barrier is now broken)
   */
  public int await(long timeout, TimeUnit unit) throws InterruptedException, BrokenBarrierException, TimeoutException {
    return awaitRaw(nanos(timeout, unit));
  }

  private BrokenBarrierException broken(BrokenException e) {
    return new BrokenBarrierException(e.getMessage());
  }

  private int awaitRaw(long timeoutNanos) throws InterruptedException, BrokenBarrierException, TimeoutException {
    NativeBarrier h = enter();
    try {
      if (Thread.interrupted()) { // as CyclicBarrier: an interrupted caller breaks the barrier
        h.abort();
        throw interrupted("await");
      }
      final long ticket;
      try {
        ticket = h.arrive();
      } catch (BrokenException e) {
        throw broken(e);
      }
      final long start = System.nanoTime();
      for (;;) {
        try {
          return (int) h.await_ticket(ticket, slice(timeoutNanos, start));
        } catch (PolyipcTimeoutException e) {
          // not yet
        } catch (BrokenException e) {
          throw broken(e);
        }
        final boolean interrupted = Thread.interrupted();
        final boolean closing = isClosing();
        if (!interrupted && !closing && !expired(timeoutNanos, start)) continue;
        // Giving up breaks the barrier for everyone, unless the round completed at the last moment:
        // then the wait succeeded. cancel_ticket (unlike abort) never breaks a later round.
        final int index;
        try {
          index = (int) h.cancel_ticket(ticket);
        } catch (BrokenException e) {
          if (interrupted) throw interrupted("await");
          if (closing) throw closedError();
          throw new TimeoutException("barrier '" + name() + "': not all " + getPartiesOf(h)
              + " parties arrived within the timeout; the barrier is now broken");
        }
        if (interrupted) Thread.currentThread().interrupt();
        return index;
      }
    } finally {
      exit();
    }
  }

  private static long getPartiesOf(NativeBarrier h) {
    return h.parties();
  }

  /** Breaks the barrier: current and later waiters get {@link BrokenBarrierException} until {@link #reset()}. */
  public void abort() {
    run(NativeBarrier::abort);
  }

  /** Breaks the current round (its waiters get {@link BrokenBarrierException}) and starts a fresh one. */
  public void reset() {
    run(NativeBarrier::reset);
  }

  /** Whether the barrier is broken. */
  public boolean isBroken() {
    return call(NativeBarrier::broken) != 0;
  }

  /** How many parties are waiting in the current round. */
  public int getNumberWaiting() {
    return (int) (long) call(NativeBarrier::n_waiting);
  }

  /** The number of parties. */
  public int getParties() {
    return (int) (long) call(NativeBarrier::parties);
  }

  @Override
  String nativeStat(NativeBarrier h) {
    return h.stat_json();
  }
}
