package io.polyipc;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The completion thread of one {@link Pool} handle ({@link PoolResult#toCompletableFuture()}): while
 * futures are registered, one daemon thread collects the handle's results as {@link Pool#nextResult} does
 * (native result(0), one slice at a time) and hands each to its {@link PoolResult} by the pool's deliver,
 * whose settle completes the future. Started by the first registration, it ends once nothing has been
 * registered for {@link #LINGER_NANOS} (waiting on the monitor meanwhile, never fetching), and a later
 * registration starts another. Closing the handle ends it and fails what is still registered, except that a
 * result some thread took from the native pool before the close still reaches its future: while any thread
 * is between taking a result and handing it over ({@link #takeBegins}, {@link #takeEnds}), the failing waits
 * for the last of them, so get() and the future never disagree.
 *
 * <p>Locking: {@code lock} guards the registrations and the thread's state and is never held across a
 * native call, a delivery or a future's completion (whose continuations run user code), so neither
 * {@code close()} nor a get() or nextResult() on another thread ever waits for this thread.
 */
final class PoolCompletions {
  /** How long the thread stays after the last registered future completed, in case another comes soon. */
  static final long LINGER_NANOS = 2 * SyncHandle.SLICE_NANOS;

  private static final System.Logger LOG = System.getLogger("io.polyipc.Pool");

  private final Pool pool;
  // Notified when a registered result settles, at a registration, and at close.
  private final Object lock = new Object();
  private final Set<PoolResult<?>> waiting = Collections.newSetFromMap(new IdentityHashMap<>()); // guarded by lock
  private Thread thread; // guarded by lock: the running completion thread, null when none
  private boolean closed; // guarded by lock
  private int taking; // guarded by lock: threads in a native result call, or handing over what it returned

  PoolCompletions(Pool pool) {
    this.pool = pool;
  }

  /** The completion thread's name for pool {@code name} (for tests). */
  static String threadName(String name) {
    return "polyipc-pool-" + name + "-completions";
  }

  /**
   * r's future is to be completed when its result comes (r has a completion and was not settled when its
   * caller looked). Starts the thread if none runs; on a closed handle, fails r's future at once.
   */
  void register(PoolResult<?> r) {
    synchronized (lock) {
      // settle() sets the message before it calls settled(): either it is set now, or settled() comes after.
      if (r.isSettled()) return;
      final boolean closing = closed || pool.isClosing();
      if (closing && taking > 0) {
        waiting.add(r); // its result may be in a taker's hands: the last takeEnds() fails it if not
        return;
      }
      if (!closing) {
        waiting.add(r);
        if (thread != null) {
          lock.notifyAll(); // a lingering thread
          return;
        }
        Thread t = new Thread(this::run, threadName(pool.name()));
        t.setDaemon(true);
        try {
          t.start();
        } catch (RuntimeException | Error e) {
          waiting.remove(r);
          throw e;
        }
        thread = t; // before the thread can look: it takes the lock first
        return;
      }
    }
    r.failCompletion(pool.closedError());
  }

  /** A result whose future was registered settled (PoolResult.settle, on whatever thread collected it). */
  void settled(PoolResult<?> r) {
    synchronized (lock) {
      if (waiting.remove(r)) lock.notifyAll();
    }
  }

  /**
   * A thread is about to take a result from the native pool (result(id) or result(0)); takeEnds() must
   * follow once it handed the result over, or took none.
   */
  void takeBegins() {
    synchronized (lock) {
      taking++;
    }
  }

  /** The end of a takeBegins(): after a close, the last taker fails the futures whose result never came. */
  void takeEnds() {
    List<PoolResult<?>> pending;
    synchronized (lock) {
      if (--taking > 0 || !closed) return;
      pending = takeWaiting();
    }
    fail(pending);
  }

  /** Whether the completion thread runs (for tests). */
  boolean running() {
    synchronized (lock) {
      return thread != null;
    }
  }

  /**
   * The handle was closed: ends the thread (it is waiting on the monitor, or in a native wait of at most
   * one slice that close() waited for) and fails the futures still registered. Idempotent. Does not wait
   * for the thread: it may be running a continuation that waits for the caller.
   */
  void close() {
    List<PoolResult<?>> pending;
    synchronized (lock) {
      closed = true;
      lock.notifyAll();
      if (taking > 0) return; // a result taken before the close is still being handed over: takeEnds() fails
      pending = takeWaiting();
    }
    fail(pending);
  }

  /** Empties the registrations; lock held. */
  private List<PoolResult<?>> takeWaiting() {
    List<PoolResult<?>> pending = new ArrayList<>(waiting);
    waiting.clear();
    return pending;
  }

  /** Outside the lock: completing runs the futures' continuations. */
  private void fail(List<PoolResult<?>> pending) {
    for (PoolResult<?> r : pending) r.failCompletion(pool.closedError());
  }

  // ---- the thread ------------------------------------------------------------------------------------

  private void run() {
    final Thread me = Thread.currentThread();
    for (;;) {
      // An interrupt (a continuation run here, or anyone) is not a request to stop: the thread ends when idle
      // or at close. Cleared so that the monitor waits below do not return at once, again and again.
      Thread.interrupted();
      if (!awaitWork(me)) return;
      collectOne();
    }
  }

  /**
   * Waits on the monitor, not fetching, while nothing is registered (for up to LINGER_NANOS). False when
   * the thread is to end: then it is no longer the thread (in the same lock hold, so that a registration
   * either is seen here or starts another thread).
   */
  private boolean awaitWork(Thread me) {
    synchronized (lock) {
      final long deadline = System.nanoTime() + LINGER_NANOS;
      for (;;) {
        if (closed || pool.isClosing()) break; // close() fails what is registered
        if (!waiting.isEmpty()) return true;
        long left = deadline - System.nanoTime();
        if (left <= 0) break;
        waitOn(left);
      }
      if (thread == me) thread = null;
      return false;
    }
  }

  /** One slice of collecting: a result delivered to its PoolResult (settling it completes its future), or none. */
  private void collectOne() {
    takeBegins();
    try {
      collectOneTaking();
    } finally {
      takeEnds();
    }
  }

  private void collectOneTaking() {
    byte[] message;
    try {
      message = pool.call(h -> h.result(0, SyncHandle.SLICE_NANOS));
    } catch (PolyipcTimeoutException e) {
      return; // nothing came in this slice
    } catch (HandleClosedException e) {
      close();
      return;
    } catch (InvalidArgumentException e) {
      // No result is to come to "any task" now: every one left is awaited by id by another thread's get(),
      // or was taken by another thread (get(), nextResult()) that is handing it over. Its settle() wakes us;
      // the slice bounds the wait for a get() that gives up (its result then comes to result(0) again).
      pause();
      return;
    } catch (RuntimeException | Error e) {
      // Unexpected (a get() would have thrown it to its caller): keep going, a slice later, rather than
      // leave the futures to wait for nobody.
      report(pool.name(), "waiting for a result", e);
      pause();
      return;
    }
    try {
      pool.deliver(message); // settles the PoolResult, which completes its future (continuations run here)
    } catch (Throwable e) {
      // A result message that does not read, or no future for it (nextResult() would have thrown): the
      // thread goes on for the others. CompletableFuture keeps a continuation's exception in its stage;
      // this guards against anything that escapes all the same.
      report(pool.name(), "handing a result over", e);
    }
  }

  /** Waits on the monitor for at most one slice while futures are registered (woken by settle, register, close). */
  private void pause() {
    synchronized (lock) {
      if (closed || waiting.isEmpty()) return;
      waitOn(SyncHandle.SLICE_NANOS);
    }
  }

  /** A timed wait on the monitor (held); an interrupt just ends it (the caller's loop looks again). */
  private void waitOn(long nanos) {
    try {
      TimeUnit.NANOSECONDS.timedWait(lock, nanos);
    } catch (InterruptedException e) {
      // cleared: see run()
    }
  }

  /** Something the completion thread cannot give to a caller: logged (System.Logger "io.polyipc.Pool"). */
  static void report(String pool, String what, Throwable e) {
    try {
      LOG.log(System.Logger.Level.WARNING, "pool '" + pool + "': completing futures: " + what, e);
    } catch (Throwable ignored) {
      // a logger that fails must not end the thread either
    }
  }
}
