package io.polyipc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * PoolResult.toCompletableFuture(): futures that complete on their own through the handle's completion
 * thread, whatever path the result takes; failures, cancellation, close, and the thread's life. Every wait
 * is bounded; no sleep stands in for synchronisation.
 */
@Timeout(120)
class PoolCompletionTest {
  @RegisterExtension final TestNames names = new TestNames();
  private static final Duration WAIT = Duration.ofSeconds(30);

  /** The task submitted first and not taken yet, taken as a worker. */
  private static PoolTask takeNow(Pool pool) throws InterruptedException {
    PoolTask t = pool.take(WAIT);
    assertNotNull(t, "a task was there");
    return t;
  }

  /** The live completion thread of this pool handle's name, or null. */
  private static Thread completionThread(Pool pool) {
    String name = PoolCompletions.threadName(pool.name());
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      if (t.getName().equals(name) && t.isAlive()) return t;
    }
    return null;
  }

  /** Waits (bounded) until the condition holds. */
  private static void until(BooleanSupplier condition, String what) {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (!condition.getAsBoolean()) {
      assertTrue(System.nanoTime() - deadline < 0, "timed out waiting until " + what);
      Thread.yield();
    }
  }

  /** Waits (bounded) until the completion thread of the pool is gone, and says it ended. */
  private static void awaitNoCompletionThread(Pool pool) throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    for (Thread t; (t = completionThread(pool)) != null; ) {
      t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
      assertTrue(System.nanoTime() - deadline < 0, "the completion thread of " + pool.name() + " did not end");
    }
    assertFalse(pool.completions().running());
  }

  /** The cause of the ExecutionException get() throws. */
  private static Throwable failureOf(Future<?> f) {
    ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(30, TimeUnit.SECONDS));
    return e.getCause();
  }

  /**
   * 1000 tasks served by workers in two other processes, each turned into a CompletableFuture; nobody calls
   * get() on a PoolResult: the completion thread collects every result.
   */
  @Test
  void aThousandFuturesCompleteWithNoGetFromWorkersInOtherProcesses() throws Exception {
    final int n = 1000;
    try (Pool pool = Pool.open(names.next("pool"));
        ChildProcess a = ChildProcess.start("pool-worker", pool.name(), "-1");
        ChildProcess b = ChildProcess.start("pool-worker", pool.name(), "-1")) {
      List<PoolResult<Long>> rs = new ArrayList<>();
      List<CompletableFuture<Long>> fs = new ArrayList<>();
      for (int i = 0; i < n; ++i) {
        PoolResult<Long> r = pool.submit("square", i, Long.class);
        rs.add(r);
        fs.add(r.toCompletableFuture());
      }
      assertEquals("ready", a.nextLine(30, TimeUnit.SECONDS));
      assertEquals("ready", b.nextLine(30, TimeUnit.SECONDS));
      CompletableFuture.allOf(fs.toArray(new CompletableFuture<?>[0])).get(60, TimeUnit.SECONDS);
      for (int i = 0; i < n; ++i) {
        assertEquals((long) i * i, fs.get(i).getNow(-1L), "task " + i);
        assertTrue(rs.get(i).isDone(), "its PoolResult got it too");
        assertEquals((long) i * i, rs.get(i).get(Duration.ZERO));
      }
      // every result came exactly once: none is left to come
      assertThrows(InvalidArgumentException.class, () -> pool.nextResult(Duration.ZERO));
      pool.closeTasks();
      String servedA = a.nextLine(30, TimeUnit.SECONDS);
      String servedB = b.nextLine(30, TimeUnit.SECONDS);
      assertTrue(servedA.startsWith("served ") && servedB.startsWith("served "), servedA + " / " + servedB);
      assertEquals(n, Long.parseLong(servedA.substring(7)) + Long.parseLong(servedB.substring(7)));
      assertEquals(0, a.waitFor(30, TimeUnit.SECONDS));
      assertEquals(0, b.waitFor(30, TimeUnit.SECONDS));
      awaitNoCompletionThread(pool);
    }
  }

  @Test
  void aFailedTaskCompletesExceptionallyWithThePoolTaskException() throws Exception {
    String name = names.next("pool");
    try (Pool pool = Pool.open(name); Pool worker = Pool.builder(name).openOnly().open()) {
      PoolResult<Integer> r = pool.submit("divide", List.of(1, 0), Integer.class);
      CompletableFuture<Integer> f = r.toCompletableFuture();
      CompletableFuture<Integer> plusOne = f.thenApply(v -> v + 1);
      AtomicReference<Throwable> seen = new AtomicReference<>();
      CompletableFuture<String> recovered = f.thenApply(v -> "value " + v).exceptionally(e -> {
        seen.set(e);
        return "recovered";
      });
      String text = "ZeroDivisionError: \"1/0\" \u00e9\ud83d\ude00";
      try (PoolTask t = takeNow(worker)) {
        assertEquals(r.id(), t.id());
        t.fail(text);
      }
      PoolTaskException cause = assertInstanceOf(PoolTaskException.class, failureOf(f));
      assertEquals(text, cause.error());
      assertEquals(r.id(), cause.taskId());
      assertEquals("divide", cause.function());
      assertTrue(f.isCompletedExceptionally());
      assertFalse(f.isCancelled());
      CompletionException joined = assertThrows(CompletionException.class, f::join);
      assertSame(cause, joined.getCause());
      // the stages see it
      assertSame(cause, failureOf(plusOne));
      assertEquals("recovered", recovered.get(30, TimeUnit.SECONDS));
      assertInstanceOf(CompletionException.class, seen.get());
      assertSame(cause, seen.get().getCause());
      assertSame(cause, f.handle((v, e) -> e).get(30, TimeUnit.SECONDS)); // as it is, on the future itself
      // get() wraps the same failure; a second future completes the same way, at once
      ExecutionException got = assertThrows(ExecutionException.class, () -> r.get(Duration.ZERO));
      assertEquals(text, assertInstanceOf(PoolTaskException.class, got.getCause()).error());
      CompletableFuture<Integer> again = r.toCompletableFuture();
      assertNotSame(f, again);
      assertTrue(again.isDone());
      assertEquals(text, assertInstanceOf(PoolTaskException.class, failureOf(again)).error());
    }
  }

  @Test
  void aCancelledTaskCompletesWithCancellationException() throws Exception {
    try (Pool pool = Pool.open(names.next("pool"))) { // no worker: nobody takes it
      PoolResult<Integer> r = pool.submit("square", 7, Integer.class);
      CompletableFuture<Integer> f = r.toCompletableFuture();
      CompletableFuture<Integer> stage = f.thenApply(v -> v + 1);
      assertTrue(r.cancel(false));
      CancellationException e = assertThrows(CancellationException.class, () -> f.get(30, TimeUnit.SECONDS));
      assertTrue(e.getMessage().contains("task " + r.id()), e.getMessage());
      assertTrue(f.isCancelled());
      assertTrue(f.isCompletedExceptionally());
      assertInstanceOf(CancellationException.class, failureOf(stage));
      assertTrue(r.isCancelled());
      CompletableFuture<Integer> after = r.toCompletableFuture(); // made after: completes at once, the same way
      assertTrue(after.isCancelled());
      assertNull(pool.take(Duration.ZERO), "the task is not in the pool");
      assertTrue(pool.join(WAIT));
      awaitNoCompletionThread(pool);
    }
  }

  /** The future returned is the caller's: cancelling or completing it ends it alone. */
  @Test
  void cancellingOrCompletingTheFutureLeavesTheTaskAndThePoolResultAlone() throws Exception {
    String name = names.next("pool");
    try (Pool pool = Pool.open(name); Pool worker = Pool.builder(name).openOnly().open()) {
      PoolResult<Integer> r = pool.submit("square", 7, Integer.class);
      CompletableFuture<Integer> cancelled = r.toCompletableFuture();
      CompletableFuture<Integer> completed = r.toCompletableFuture();
      CompletableFuture<Integer> kept = r.toCompletableFuture();
      assertTrue(cancelled.cancel(true));
      assertTrue(completed.complete(-1));
      assertFalse(r.isCancelled());
      assertFalse(r.isDone());
      try (PoolTask t = takeNow(worker)) { // the task was not cancelled: a worker gets it
        assertEquals(r.id(), t.id());
        t.complete(49);
      }
      assertEquals(49, kept.get(30, TimeUnit.SECONDS));
      assertEquals(49, r.get(Duration.ZERO));
      assertEquals(49, r.toCompletableFuture().getNow(-2));
      assertTrue(cancelled.isCancelled());
      assertEquals(-1, completed.getNow(-2));
    }
  }

  /**
   * Closing the handle while futures wait (with a get() and a nextResult() waiting on other threads too):
   * each future completes with HandleClosedException, the waits end, and the completion thread ends.
   */
  @Test
  void closingTheHandleFailsTheWaitingFuturesAndEndsTheThread() throws Exception {
    ExecutorService exec = Executors.newFixedThreadPool(2);
    try {
      Pool pool = Pool.open(names.next("pool")); // no worker: nothing comes
      List<PoolResult<Integer>> rs = new ArrayList<>();
      List<CompletableFuture<Integer>> fs = new ArrayList<>();
      for (int i = 0; i < 3; ++i) {
        rs.add(pool.submit("square", i, Integer.class));
        fs.add(rs.get(i).toCompletableFuture());
      }
      CompletableFuture<Integer> stage = fs.get(0).thenApply(v -> v + 1);
      PoolResult<Integer> other = pool.submit("square", 9, Integer.class);
      Future<Throwable> getter = exec.submit(() -> {
        try {
          other.get(WAIT);
          return null;
        } catch (Throwable e) {
          return e;
        }
      });
      Future<Throwable> collector = exec.submit(() -> {
        try {
          pool.nextResult(WAIT);
          return null;
        } catch (Throwable e) {
          return e;
        }
      });
      until(() -> completionThread(pool) != null, "the completion thread runs");
      until(other::beingFetched, "the thread waits in get()");
      until(pool::nextResultWaiting, "the thread waits in nextResult()");
      long t0 = System.nanoTime();
      pool.close();
      assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(5), "close took long");
      for (CompletableFuture<Integer> f : fs) {
        HandleClosedException e = assertInstanceOf(HandleClosedException.class, failureOf(f));
        assertTrue(e.getMessage().contains(pool.name()), e.getMessage());
      }
      assertInstanceOf(HandleClosedException.class, failureOf(stage));
      assertInstanceOf(HandleClosedException.class, getter.get(30, TimeUnit.SECONDS));
      assertInstanceOf(HandleClosedException.class, collector.get(30, TimeUnit.SECONDS));
      awaitNoCompletionThread(pool);
      // after the close: a future of a result that never came fails at once, and starts no thread
      CompletableFuture<Integer> late = other.toCompletableFuture();
      assertTrue(late.isDone());
      assertInstanceOf(HandleClosedException.class, failureOf(late));
      assertThrows(HandleClosedException.class, () -> rs.get(1).get(Duration.ZERO));
      assertNull(completionThread(pool));
    } finally {
      exec.shutdownNow();
    }
  }

  /**
   * A result the completion thread took just before close() still completes its future, with the value
   * get() gives: close() fails only the futures whose result was not taken (here the other task's).
   */
  @Test
  void aResultTakenBeforeCloseStillCompletesItsFuture() throws Exception {
    String name = names.next("pool");
    try (Pool worker = Pool.open(name)) {
      Pool pool = Pool.builder(name).openOnly().open();
      PoolResult<Integer> taken = pool.submit("square", 5, Integer.class);
      PoolResult<Integer> notTaken = pool.submit("square", 6, Integer.class);
      CountDownLatch took = new CountDownLatch(1);
      CountDownLatch closed = new CountDownLatch(1);
      pool.beforeHandOver = () -> {
        took.countDown();
        try {
          closed.await(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      };
      CompletableFuture<Integer> f = taken.toCompletableFuture();
      CompletableFuture<Integer> g = notTaken.toCompletableFuture();
      try (PoolTask t = takeNow(worker)) {
        assertEquals(taken.id(), t.id());
        t.complete(25);
      }
      assertTrue(took.await(30, TimeUnit.SECONDS), "the completion thread took the result");
      pool.close();
      assertFalse(f.isDone(), "failed while its result was being handed over");
      assertFalse(g.isDone(), "failed before the hand-over ended");
      closed.countDown();
      assertEquals(25, f.get(30, TimeUnit.SECONDS));
      assertEquals(25, taken.get(Duration.ZERO));
      assertInstanceOf(HandleClosedException.class, failureOf(g));
      assertThrows(HandleClosedException.class, () -> notTaken.get(Duration.ZERO));
      awaitNoCompletionThread(pool);
    }
  }

  /** A continuation run by the completion thread closes the handle: no deadlock, the others fail, it ends. */
  @Test
  void aContinuationOnTheCompletionThreadMayCloseTheHandle() throws Exception {
    String name = names.next("pool");
    try (Pool worker = Pool.open(name)) {
      Pool pool = Pool.builder(name).openOnly().open();
      PoolResult<Integer> first = pool.submit("square", 2, Integer.class);
      PoolResult<Integer> second = pool.submit("square", 3, Integer.class);
      AtomicReference<String> ranOn = new AtomicReference<>();
      CompletableFuture<Integer> closing = first.toCompletableFuture().thenApply(v -> {
        ranOn.set(Thread.currentThread().getName());
        pool.close();
        return v;
      });
      CompletableFuture<Integer> left = second.toCompletableFuture();
      try (PoolTask t = takeNow(worker)) {
        assertEquals(first.id(), t.id());
        t.complete(4);
      }
      assertEquals(4, closing.get(30, TimeUnit.SECONDS));
      assertEquals(PoolCompletions.threadName(name), ranOn.get());
      assertInstanceOf(HandleClosedException.class, failureOf(left));
      assertTrue(pool.isClosed());
      awaitNoCompletionThread(pool);
    }
  }

  /**
   * Futures exist for every task while other threads wait for some of them by get() and one collects with
   * nextResult(): every future and every get() completes with the right value, each result once, and nothing
   * is left.
   */
  @Test
  void futuresGetsAndNextResultShareTheResults() throws Exception {
    final int n = 600;
    final int getters = 3;
    String name = names.next("pool");
    ExecutorService exec = Executors.newFixedThreadPool(getters + 3);
    try (Pool pool = Pool.open(name)) {
      List<PoolResult<Integer>> rs = new ArrayList<>();
      List<CompletableFuture<Integer>> fs = new ArrayList<>();
      for (int i = 0; i < n; ++i) {
        rs.add(pool.submit("id", i, Integer.class));
        fs.add(rs.get(i).toCompletableFuture());
      }
      // Getters on every other task (each thread its share, in order); they wait before any worker runs.
      List<Future<Integer>> got = new ArrayList<>();
      for (int g = 0; g < getters; ++g) {
        final int first = 2 * g;
        got.add(exec.submit(() -> {
          int wrong = 0;
          for (int i = first; i < n; i += 2 * getters) {
            if (rs.get(i).get(30, TimeUnit.SECONDS) != i) ++wrong;
          }
          return wrong;
        }));
        until(() -> rs.get(first).beingFetched(), "getter " + g + " waits");
      }
      Set<Long> collected = ConcurrentHashMap.newKeySet();
      AtomicInteger twice = new AtomicInteger();
      Future<Throwable> collector = exec.submit(() -> {
        try {
          for (;;) {
            PoolResult<?> any;
            try {
              any = pool.nextResult(WAIT);
            } catch (InvalidArgumentException noneLeft) {
              return null;
            }
            if (any == null) return new AssertionError("nextResult timed out");
            if (!collected.add(any.id())) twice.incrementAndGet();
          }
        } catch (Throwable e) {
          return e;
        }
      });
      List<Future<Long>> served = new ArrayList<>();
      for (int w = 0; w < 2; ++w) {
        served.add(exec.submit(() -> {
          try (Pool mine = Pool.builder(name).openOnly().open()) {
            return mine.serve(Map.of("id", a -> a));
          }
        }));
      }
      CompletableFuture.allOf(fs.toArray(new CompletableFuture<?>[0])).get(60, TimeUnit.SECONDS);
      for (Future<Integer> g : got) assertEquals(0, g.get(60, TimeUnit.SECONDS));
      assertNull(collector.get(60, TimeUnit.SECONDS));
      assertEquals(0, twice.get(), "each result once");
      for (int i = 0; i < n; ++i) {
        assertEquals(i, fs.get(i).getNow(-1), "future " + i);
        assertEquals(i, rs.get(i).get(Duration.ZERO), "result " + i);
      }
      assertThrows(InvalidArgumentException.class, () -> pool.nextResult(Duration.ZERO));
      pool.closeTasks();
      long total = 0;
      for (Future<Long> s : served) total += s.get(30, TimeUnit.SECONDS);
      assertEquals(n, total);
      awaitNoCompletionThread(pool);
    } finally {
      exec.shutdownNow();
    }
  }

  @Test
  void theThreadEndsWhenIdleAndStartsAgainOnDemand() throws Exception {
    String name = names.next("pool");
    try (Pool pool = Pool.open(name); Pool worker = Pool.builder(name).openOnly().open()) {
      for (int round = 0; round < 2; ++round) {
        PoolResult<Integer> r = pool.submit("square", round + 5, Integer.class);
        CompletableFuture<Integer> f = r.toCompletableFuture();
        assertNotNull(completionThread(pool), "round " + round + ": started by the registration");
        try (PoolTask t = takeNow(worker)) {
          t.complete(t.args().asInt() * t.args().asInt());
        }
        assertEquals((round + 5) * (round + 5), f.get(30, TimeUnit.SECONDS));
        awaitNoCompletionThread(pool);
      }
      // a result that came already: the future completes at once, no thread
      PoolResult<Integer> r = pool.submit("square", 8, Integer.class);
      try (PoolTask t = takeNow(worker)) {
        t.complete(64);
      }
      assertEquals(64, r.get(WAIT));
      CompletableFuture<Integer> f = r.toCompletableFuture();
      assertTrue(f.isDone());
      assertEquals(64, f.getNow(-1));
      assertNull(completionThread(pool));
    }
  }

  /**
   * A continuation that throws, or interrupts the completion thread, fails its own stage only: the thread
   * goes on to complete the next future. Non-async continuations run on the completion thread.
   */
  @Test
  void aContinuationThatThrowsDoesNotStopTheThread() throws Exception {
    String name = names.next("pool");
    try (Pool pool = Pool.open(name); Pool worker = Pool.builder(name).openOnly().open()) {
      PoolResult<Integer> first = pool.submit("square", 2, Integer.class);
      PoolResult<Integer> second = pool.submit("square", 3, Integer.class);
      CompletableFuture<Integer> f1 = first.toCompletableFuture();
      CompletableFuture<Integer> f2 = second.toCompletableFuture();
      AtomicReference<String> ranOn = new AtomicReference<>();
      CompletableFuture<Integer> throwing = f1.thenApply(v -> {
        ranOn.set(Thread.currentThread().getName());
        Thread.currentThread().interrupt();
        throw new IllegalStateException("stage " + v);
      });
      f1.whenComplete((v, e) -> {
        throw new StackOverflowError("whenComplete"); // an Error: still kept in its stage
      });
      try (PoolTask t = takeNow(worker)) {
        t.complete(4);
      }
      IllegalStateException e = assertInstanceOf(IllegalStateException.class, failureOf(throwing));
      assertEquals("stage 4", e.getMessage());
      assertEquals(PoolCompletions.threadName(name), ranOn.get());
      try (PoolTask t = takeNow(worker)) {
        t.complete(9);
      }
      assertEquals(9, f2.get(30, TimeUnit.SECONDS));
      assertEquals(4, f1.getNow(-1));
    }
  }

  /**
   * A result another thread waits for by get(): the native "any task" wait leaves it to that thread, whose
   * settle completes the future; meanwhile the completion thread waits on its monitor instead of asking
   * again and again.
   */
  @Test
  void aResultAGetterCollectsCompletesTheFutureAndTheThreadDoesNotSpin() throws Exception {
    String name = names.next("pool");
    ExecutorService exec = Executors.newSingleThreadExecutor();
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    try (Pool pool = Pool.open(name); Pool worker = Pool.builder(name).openOnly().open()) {
      PoolResult<Integer> r = pool.submit("square", 6, Integer.class);
      Future<Integer> getter = exec.submit(() -> r.get(60, TimeUnit.SECONDS));
      until(r::beingFetched, "the thread waits in get()");
      CompletableFuture<Integer> f = r.toCompletableFuture();
      Thread completion = completionThread(pool);
      assertNotNull(completion);
      if (threads.isThreadCpuTimeSupported()) {
        if (!threads.isThreadCpuTimeEnabled()) threads.setThreadCpuTimeEnabled(true);
        long cpu0 = threads.getThreadCpuTime(completion.getId());
        long wall0 = System.nanoTime();
        // A measurement window, not synchronisation: how much CPU the thread uses while nothing can come to
        // it (spinning on the native call would use most of a core).
        Thread.sleep(500);
        assertFalse(getter.isDone(), "the getter still waits");
        long cpu = threads.getThreadCpuTime(completion.getId()) - cpu0;
        long wall = System.nanoTime() - wall0;
        assertTrue(cpu >= 0 && cpu < wall / 5, "the completion thread used " + cpu / 1000 + " us of CPU in "
            + wall / 1000 + " us");
      }
      assertFalse(f.isDone());
      try (PoolTask t = takeNow(worker)) {
        t.complete(36);
      }
      assertEquals(36, getter.get(30, TimeUnit.SECONDS));
      assertEquals(36, f.get(30, TimeUnit.SECONDS));
      awaitNoCompletionThread(pool);
    } finally {
      exec.shutdownNow();
    }
  }
}
