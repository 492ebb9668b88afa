package io.polyipc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Worker pools: submit, take, finish, results, failures, give-back, closing, serve, and a killed worker. */
@Timeout(120)
class PoolTest {
  @RegisterExtension final TestNames names = new TestNames();
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration WAIT = Duration.ofSeconds(30);

  private static JsonNode json(String text) throws Exception {
    return JSON.readTree(text);
  }

  /** The task submitted last, taken as a worker. */
  private static PoolTask takeNow(Pool pool) throws InterruptedException {
    PoolTask t = pool.take(Duration.ZERO);
    assertNotNull(t, "a task was there");
    return t;
  }

  @Test
  void aTaskGoesToAWorkerAndItsResultBackToTheSubmitter() throws Exception {
    String name = names.next("pool");
    try (Pool submitter = Pool.open(name); Pool worker = Pool.builder(name).openOnly().open()) {
      PoolResult<JsonNode> r = submitter.submit("square", 3);
      assertEquals("square", r.function());
      assertTrue(r.id() > 0);
      assertFalse(r.isDone());
      try (PoolTask t = takeNow(worker)) {
        assertEquals(r.id(), t.id());
        assertEquals("square", t.function());
        assertEquals("3", t.argsJson());
        assertEquals(3, t.args().asInt());
        assertEquals(3, t.args(Integer.class));
        t.complete(9);
        assertTrue(t.isFinished());
      }
      assertTrue(r.isDone());
      assertEquals(json("9"), r.get());
      assertEquals(json("9"), r.get(Duration.ZERO)); // kept: the same answer every time
      assertFalse(r.cancel(true));
      assertFalse(r.isCancelled());

      // typed results and arguments through Jackson
      PoolResult<Integer> sum = submitter.submit("add", List.of(2, 3), Integer.class);
      try (PoolTask t = takeNow(worker)) {
        List<Integer> ab = t.args(new TypeReference<List<Integer>>() {});
        t.complete(ab.get(0) + ab.get(1));
      }
      assertEquals(5, sum.get(30, TimeUnit.SECONDS));
    }
  }

  @Test
  void argumentsArriveAsSentAndFunctionNamesAnyText() throws Exception {
    try (Pool pool = Pool.open(names.next("pool"))) {
      String args = " {\"a\" : [1.50, -0e3, \"\\u00e9\\n\", null],\"b\":{}} ";
      String fn = "r\u00e9size \"big\" \ud83d\ude00 ,\"args\":"; // an emoji (outside the BMP) and quotes
      PoolResult<JsonNode> r = pool.submitJson(fn, args);
      try (PoolTask t = takeNow(pool)) {
        assertEquals(fn, t.function());
        assertEquals(args, t.argsJson());
        t.completeJson(args);
      }
      assertEquals(json(args), r.get(WAIT));
      // null args are JSON null, a String a JSON string, a JsonNode as it is
      PoolResult<JsonNode> n = pool.submit("f", null);
      PoolResult<JsonNode> s = pool.submit("f", "caf\u00e9");
      PoolResult<JsonNode> j = pool.submit("f", json("{\"k\":[true]}"));
      for (String want : new String[] {"null", "\"caf\u00e9\"", "{\"k\":[true]}"}) {
        try (PoolTask t = takeNow(pool)) {
          assertEquals(want, t.argsJson());
          t.complete(t.args());
        }
      }
      assertTrue(n.get(WAIT).isNull());
      assertEquals("caf\u00e9", s.get(WAIT).textValue());
      assertEquals(json("{\"k\":[true]}"), j.get(WAIT));
    }
  }

  @Test
  void aFailedTaskThrowsExecutionExceptionWithTheWorkersText() throws Exception {
    try (Pool pool = Pool.open(names.next("pool"))) {
      PoolResult<JsonNode> r = pool.submit("divide", List.of(1, 0));
      String text = "ZeroDivisionError: \"1/0\"\n\tat line 2 \u00e9\ud83d\ude00";
      try (PoolTask t = takeNow(pool)) {
        t.fail(text);
      }
      ExecutionException e = assertThrows(ExecutionException.class, () -> r.get(WAIT));
      PoolTaskException cause = assertInstanceOf(PoolTaskException.class, e.getCause());
      assertEquals(text, cause.error());
      assertEquals(r.id(), cause.taskId());
      assertEquals("divide", cause.function());
      assertTrue(cause.getMessage().contains("pool '" + pool.name() + "'"), cause.getMessage());
      assertInstanceOf(PolyipcException.class, cause);
      // kept: it throws again, without asking the pool
      ExecutionException again = assertThrows(ExecutionException.class, r::get);
      assertEquals(text, ((PoolTaskException) again.getCause()).error());
      assertTrue(r.isDone());
    }
  }

  @Test
  void resultsComeBackByIdWhateverTheOrderTheyFinishIn() throws Exception {
    try (Pool pool = Pool.open(names.next("pool"))) {
      List<PoolResult<Integer>> rs = new ArrayList<>();
      for (int i = 0; i < 5; ++i) rs.add(pool.submit("id", i, Integer.class));
      List<PoolTask> tasks = new ArrayList<>();
      for (int i = 0; i < 5; ++i) {
        tasks.add(takeNow(pool));
        assertEquals(rs.get(i).id(), tasks.get(i).id()); // FIFO
      }
      for (int i = 4; i >= 0; --i) tasks.get(i).complete(tasks.get(i).args());
      assertEquals(2, rs.get(2).get(WAIT)); // behind two others in the result queue
      // the others through nextResult (any task of this handle), each once, to its own future
      Set<Integer> rest = new HashSet<>();
      for (int i = 0; i < 4; ++i) {
        PoolResult<?> any = pool.nextResult(WAIT);
        assertNotNull(any);
        assertTrue(any.isDone());
        int v = (Integer) any.get();
        assertSame(rs.get(v), any);
        rest.add(v);
      }
      assertEquals(Set.of(0, 1, 3, 4), rest);
      assertEquals(1, rs.get(1).get()); // collected already: answered from the future
      InvalidArgumentException none = assertThrows(InvalidArgumentException.class, () -> pool.nextResult(WAIT));
      assertTrue(none.getMessage().contains("no task whose result is still to come"), none.getMessage());
    }
  }

  @Test
  void aResultNotThereYetTimesOutAndTheTaskGoesOn() throws Exception {
    try (Pool pool = Pool.open(names.next("pool"))) {
      PoolResult<JsonNode> r = pool.submit("slow", null);
      assertThrows(TimeoutException.class, () -> r.get(Duration.ZERO));
      long t0 = System.nanoTime();
      assertThrows(TimeoutException.class, () -> r.get(60, TimeUnit.MILLISECONDS));
      assertTrue(System.nanoTime() - t0 >= TimeUnit.MILLISECONDS.toNanos(55));
      assertFalse(r.isDone());
      assertNull(pool.nextResult(Duration.ofMillis(20)));
      try (PoolTask t = takeNow(pool)) {
        t.complete(true);
      }
      assertTrue(r.get(WAIT).booleanValue());
    }
  }

  @Test
  void aTaskClosedUnfinishedGoesBackToThePool() throws Exception {
    try (Pool pool = Pool.open(names.next("pool"))) {
      PoolResult<JsonNode> r = pool.submit("f", 1);
      long first;
      try (PoolTask t = takeNow(pool)) {
        first = t.id();
        assertNull(pool.take(Duration.ZERO), "nothing else is there");
      } // closed unfinished: given back
      PoolTask again = takeNow(pool);
      assertEquals(first, again.id());
      again.close();
      again.close(); // idempotent
      InvalidArgumentException e = assertThrows(InvalidArgumentException.class, () -> again.complete(2));
      assertTrue(e.getMessage().contains("given back"), e.getMessage());
      try (PoolTask t = takeNow(pool)) {
        t.complete(2);
        InvalidArgumentException twice = assertThrows(InvalidArgumentException.class, () -> t.fail("x"));
        assertTrue(twice.getMessage().contains("finished already"), twice.getMessage());
      }
      assertEquals(2, r.get(WAIT).asInt());
      assertTrue(pool.join(Duration.ZERO));
    }
  }

  /** Takes a task and drops it unfinished and unclosed (in its own frame, so nothing keeps it). */
  private static long dropATask(Pool pool) throws InterruptedException {
    return takeNow(pool).id();
  }

  @Test
  void aTaskDroppedUnfinishedGoesBackWhenCollected() throws Exception {
    try (Pool pool = Pool.open(names.next("pool"))) {
      PoolResult<JsonNode> r = pool.submit("f", 1);
      assertEquals(r.id(), dropATask(pool));
      PoolTask again = null;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (again == null && System.nanoTime() < deadline) {
        System.gc();
        again = pool.take(Duration.ofMillis(20));
      }
      assertNotNull(again, "the Cleaner gave the dropped task back");
      try (PoolTask t = again) {
        assertEquals(r.id(), t.id());
        t.complete(2);
      }
      assertEquals(2, r.get(WAIT).asInt());
    }
  }

  @Test
  void aTaskOutlivesItsPoolHandle() throws Exception {
    String name = names.next("pool");
    try (Pool submitter = Pool.open(name)) {
      PoolResult<JsonNode> r = submitter.submit("f", "x");
      Pool worker = Pool.builder(name).openOnly().open();
      PoolTask t = takeNow(worker);
      worker.close(); // the task keeps the native handle
      assertThrows(HandleClosedException.class, () -> worker.take(Duration.ZERO));
      t.complete("done");
      assertEquals("done", r.get(WAIT).textValue());
    }
  }

  @Test
  void aResultThatIsNotJsonLeavesTheTaskUnfinished() throws Exception {
    try (Pool pool = Pool.open(names.next("pool"))) {
      PoolResult<JsonNode> r = pool.submit("f", 1);
      try (PoolTask t = takeNow(pool)) {
        InvalidJsonException e = assertThrows(InvalidJsonException.class, () -> t.completeJson("{\"a\":"));
        assertTrue(e.getMessage().contains("task " + t.id()), e.getMessage());
        assertFalse(t.isFinished());
        assertThrows(TimeoutException.class, () -> r.get(Duration.ZERO));
        t.completeJson("[]");
      }
      assertEquals(json("[]"), r.get(WAIT));
      assertTrue(pool.join(Duration.ZERO)); // ended exactly once
    }
  }

  @Test
  void closeTasksLetsWorkersDrainThenEnd() throws Exception {
    try (Pool pool = Pool.open(names.next("pool"))) {
      PoolResult<JsonNode> r = pool.submit("f", 1);
      pool.closeTasks();
      ClosedException closed = assertThrows(ClosedException.class, () -> pool.submit("f", 2));
      assertTrue(closed.getMessage().contains("pool '" + pool.name() + "'"), closed.getMessage());
      PoolTask t = takeNow(pool); // what was submitted before still comes
      assertNull(pool.take(Duration.ZERO), "the taken task may come back: no end yet");
      t.complete(1);
      assertThrows(ClosedException.class, () -> pool.take(WAIT));
      assertThrows(ClosedException.class, pool::take);
      assertEquals(0, pool.serve(Map.of())); // a serve loop ends at once
      assertEquals(1, r.get(WAIT).asInt());
    }
  }

  @Test
  void joinWaitsForEveryTask() throws Exception {
    try (Pool pool = Pool.open(names.next("pool"))) {
      pool.submit("f", 1);
      pool.submit("f", 2);
      assertFalse(pool.join(Duration.ZERO));
      long t0 = System.nanoTime();
      assertFalse(pool.join(Duration.ofMillis(60)));
      assertTrue(System.nanoTime() - t0 >= TimeUnit.MILLISECONDS.toNanos(55));
      for (int i = 0; i < 2; ++i) {
        try (PoolTask t = takeNow(pool)) {
          assertFalse(pool.join(Duration.ZERO));
          if (i == 0) {
            t.complete(1);
          } else {
            t.fail("no");
          }
        }
      }
      assertTrue(pool.join(WAIT));
      pool.join();
      JsonNode stat = JSON.readTree(pool.statJson());
      assertEquals("pool", stat.path("kind").asText(), stat.toString());
      assertEquals(2, stat.path("results_pending").asInt(), stat.toString());
    }
  }

  @Test
  void badInputGetsTheBindingsErrors() throws Exception {
    String queue = names.next("queue");
    try (Pool pool = Pool.open(names.next("pool")); Queue q = Queue.open(queue)) {
      InvalidArgumentException empty = assertThrows(InvalidArgumentException.class, () -> pool.submit("", 1));
      assertTrue(empty.getMessage().contains("function name is empty"), empty.getMessage());
      assertThrows(NullPointerException.class, () -> pool.submit(null, 1));
      assertThrows(InvalidArgumentException.class, () -> pool.submit("a\0b", 1));
      InvalidJsonException malformed = assertThrows(InvalidJsonException.class, () -> pool.submitJson("f", "[1,]"));
      assertTrue(malformed.getMessage().contains("at byte 3"), malformed.getMessage());
      assertThrows(InvalidJsonException.class, () -> pool.submitJson("f", ""));
      assertThrows(TooLargeException.class, () -> pool.submit("f", "x".repeat(2 << 20)));
      assertThrows(IllegalArgumentException.class, () -> pool.submit("f", new Object())); // Jackson cannot
      InvalidArgumentException none = assertThrows(InvalidArgumentException.class, () -> pool.nextResult());
      assertTrue(none.getMessage().contains("pool '" + pool.name() + "'"), none.getMessage());
      IncompatibleException kind = assertThrows(IncompatibleException.class, () -> Pool.open(queue));
      assertTrue(kind.getMessage().contains("not a pool"), kind.getMessage());
      assertThrows(NotFoundException.class, () -> Pool.builder(names.next("none")).openOnly().open());
      assertThrows(AlreadyExistsException.class, () -> Pool.builder(pool.name()).createOnly().open());
      assertThrows(InvalidArgumentException.class, () -> Pool.open("../x"));
      assertThrows(InvalidArgumentException.class, () -> Pool.open("p".repeat(161)));
      assertThrows(IllegalArgumentException.class, () -> Pool.builder("x").maxTasks(-1));
      // nothing was submitted meanwhile
      assertNull(pool.take(Duration.ZERO));
      assertTrue(pool.join(Duration.ZERO));
    }
    Pool closed = Pool.open(names.next("pool"));
    PoolResult<JsonNode> pending = closed.submit("f", 1);
    closed.close();
    closed.close();
    assertTrue(closed.isClosed());
    assertThrows(HandleClosedException.class, () -> closed.submit("f", 1));
    assertThrows(HandleClosedException.class, () -> closed.take(Duration.ZERO));
    assertThrows(HandleClosedException.class, closed::statJson);
    assertThrows(HandleClosedException.class, () -> pending.cancel(false));
  }

  @Test
  void optionsAreThoseOfTheCreator() throws Exception {
    String name = names.next("pool");
    try (Pool pool = Pool.builder(name).maxTasks(2).capacityBytes(64 << 10).resultCapacityBytes(4096).mode(0600)
        .createOnly().open()) {
      pool.submit("f", 1);
      pool.submit("f", 2);
      assertNull(pool.offer("f", 3, Duration.ofMillis(20)), "no room for a third task");
      JsonNode stat = JSON.readTree(pool.statJson());
      assertEquals(2, stat.path("max_items").asInt(), stat.toString());
      for (int i = 0; i < 2; ++i) takeNow(pool).complete(i);
      PoolResult<JsonNode> big = pool.submit("big", null);
      try (PoolTask t = takeNow(pool)) {
        t.complete("x".repeat(10000)); // larger than the 4 KiB result queue: arrives as an error
      }
      ExecutionException e = assertThrows(ExecutionException.class, () -> big.get(WAIT));
      assertTrue(((PoolTaskException) e.getCause()).error().contains("exceeds"), e.getCause().getMessage());
    }
  }

  @Test
  void serveRunsHandlersAndMapKeepsTheOrder() throws Exception {
    String name = names.next("pool");
    ExecutorService workers = Executors.newFixedThreadPool(2);
    try (Pool pool = Pool.open(name)) {
      Map<String, PoolHandler> handlers = new HashMap<>();
      handlers.put("square", a -> a.asLong() * a.asLong());
      handlers.put("boom", a -> {
        throw new IllegalStateException("boom " + a.asText());
      });
      handlers.put("npe", a -> {
        throw new NullPointerException();
      });
      handlers.put("nothing", a -> null);
      List<Future<Long>> served = new ArrayList<>();
      for (int w = 0; w < 2; ++w) {
        served.add(workers.submit(() -> {
          try (Pool mine = Pool.builder(name).openOnly().open()) {
            return mine.serve(handlers);
          }
        }));
      }
      List<Integer> xs = new ArrayList<>();
      for (int i = 0; i < 50; ++i) xs.add(i);
      List<Long> squares = pool.map("square", xs, Long.class);
      for (int i = 0; i < 50; ++i) assertEquals((long) i * i, squares.get(i));
      assertEquals(json("[0,1,4]"), JSON.valueToTree(pool.map("square", List.of(0, 1, 2))));

      ExecutionException e = assertThrows(ExecutionException.class, () -> pool.map("boom", List.of("a", "b")));
      assertEquals("boom a", ((PoolTaskException) e.getCause()).error()); // the first in order
      e = assertThrows(ExecutionException.class, () -> pool.submit("npe", 0).get(WAIT));
      assertEquals("java.lang.NullPointerException", ((PoolTaskException) e.getCause()).error());
      e = assertThrows(ExecutionException.class, () -> pool.submit("nope", 0).get(WAIT));
      assertEquals("no function 'nope' in this worker", ((PoolTaskException) e.getCause()).error());
      assertTrue(pool.submit("nothing", 0).get(WAIT).isNull());

      assertTrue(pool.join(WAIT));
      pool.closeTasks();
      long total = 0;
      for (Future<Long> f : served) total += f.get(30, TimeUnit.SECONDS);
      assertEquals(50 + 3 + 2 + 3, total);
    } finally {
      workers.shutdownNow();
    }
  }

  /**
   * A map far larger than the pool (2 tasks) and than the result queue (256 bytes, a few results): it
   * collects while it submits. Submitting everything first waited on itself: the worker waited for room
   * in the result queue, the map for room in the pool.
   */
  @Test
  @Timeout(60)
  void mapLargerThanThePoolAndTheResultQueueNeverWaitsOnItself() throws Exception {
    String name = names.next("pool");
    ExecutorService workers = Executors.newSingleThreadExecutor();
    try (Pool pool = Pool.builder(name).maxTasks(2).resultCapacityBytes(256).open()) {
      Future<Long> served = workers.submit(() -> {
        try (Pool mine = Pool.builder(name).openOnly().open()) {
          return mine.serve(Map.of("square", a -> a.asLong() * a.asLong()));
        }
      });
      List<Integer> xs = new ArrayList<>();
      for (int i = 0; i < 600; ++i) xs.add(i);
      List<Long> squares = pool.map("square", xs, Long.class);
      for (int i = 0; i < 600; ++i) assertEquals((long) i * i, squares.get(i));
      pool.closeTasks();
      assertEquals(600L, served.get(30, TimeUnit.SECONDS));
    } finally {
      workers.shutdownNow();
    }
  }

  @Test
  void serveEndsOnInterruptGivingItsTaskBack() throws Exception {
    try (Pool pool = Pool.open(names.next("pool"))) {
      CountDownLatch started = new CountDownLatch(1);
      AtomicReference<Throwable> ended = new AtomicReference<>();
      Thread worker = new Thread(() -> {
        try {
          pool.serve(Map.of("wait", a -> {
            started.countDown();
            new CountDownLatch(1).await(); // until interrupted
            return null;
          }));
        } catch (Throwable t) {
          ended.set(t);
        }
      });
      worker.start();
      // idle: the loop notices an interrupt between takes
      PoolResult<JsonNode> r = pool.submit("wait", 7);
      assertTrue(started.await(30, TimeUnit.SECONDS));
      worker.interrupt();
      worker.join(10_000);
      assertFalse(worker.isAlive());
      assertInstanceOf(InterruptedException.class, ended.get());
      try (PoolTask t = pool.take(WAIT)) { // given back by the interrupted loop
        assertNotNull(t);
        assertEquals(r.id(), t.id());
        t.complete(8);
      }
      assertEquals(8, r.get(WAIT).asInt());

      Thread idle = new Thread(() -> {
        try {
          pool.serve(Map.of());
        } catch (Throwable t) {
          ended.set(t);
        }
      });
      ended.set(null);
      idle.start();
      idle.interrupt();
      idle.join(10_000);
      assertFalse(idle.isAlive());
      assertInstanceOf(InterruptedException.class, ended.get());
    }
  }

  @Test
  void threadsWaitingForTheirOwnResultsEachGetTheirs() throws Exception {
    final int threads = 4;
    final int each = 50;
    String name = names.next("pool");
    ExecutorService exec = Executors.newFixedThreadPool(threads + 1);
    try (Pool pool = Pool.open(name); Pool worker = Pool.builder(name).openOnly().open()) {
      Future<Long> serving = exec.submit(() -> worker.serve(Map.of("id", a -> a)));
      List<Future<Integer>> submitters = new ArrayList<>();
      for (int k = 0; k < threads; ++k) {
        final int base = k * 1000;
        submitters.add(exec.submit(() -> {
          int wrong = 0;
          for (int i = 0; i < each; ++i) {
            PoolResult<Integer> r = pool.submit("id", base + i, Integer.class);
            if (r.get(30, TimeUnit.SECONDS) != base + i) ++wrong;
          }
          return wrong;
        }));
      }
      for (Future<Integer> s : submitters) assertEquals(0, s.get(60, TimeUnit.SECONDS));
      pool.closeTasks();
      assertEquals(threads * each, serving.get(30, TimeUnit.SECONDS));
    } finally {
      exec.shutdownNow();
    }
  }

  @Test
  void nextResultAndWaitingFuturesShareTheResults() throws Exception {
    String name = names.next("pool");
    ExecutorService exec = Executors.newFixedThreadPool(3);
    try (Pool pool = Pool.open(name); Pool worker = Pool.builder(name).openOnly().open()) {
      Future<Long> serving = exec.submit(() -> worker.serve(Map.of("id", a -> a)));
      final int n = 200;
      List<PoolResult<Integer>> rs = new ArrayList<>();
      for (int i = 0; i < n; ++i) rs.add(pool.submit("id", i, Integer.class));
      // one thread waits on the futures in order while this one collects whatever comes
      Future<Integer> getter = exec.submit(() -> {
        int sum = 0;
        for (PoolResult<Integer> r : rs) sum += r.get(30, TimeUnit.SECONDS);
        return sum;
      });
      Set<Long> seen = ConcurrentHashMap.newKeySet();
      AtomicLong collected = new AtomicLong();
      for (;;) {
        PoolResult<?> any;
        try {
          any = pool.nextResult(WAIT);
        } catch (InvalidArgumentException noneLeft) {
          break;
        }
        assertNotNull(any);
        assertTrue(seen.add(any.id()), "each result once");
        collected.incrementAndGet();
      }
      assertEquals(n * (n - 1) / 2, getter.get(60, TimeUnit.SECONDS));
      for (int i = 0; i < n; ++i) assertEquals(i, rs.get(i).get(Duration.ZERO));
      assertTrue(collected.get() <= n);
      pool.closeTasks();
      assertEquals(n, serving.get(30, TimeUnit.SECONDS));
    } finally {
      exec.shutdownNow();
    }
  }

  /** Waits (bounded) until the condition holds: another thread reached its wait. */
  private static void until(BooleanSupplier condition, String what) {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (!condition.getAsBoolean()) {
      assertTrue(System.nanoTime() - deadline < 0, "timed out waiting until " + what);
      Thread.yield();
    }
  }

  @Test
  void cancelTakesBackATaskNoWorkerTook() throws Exception {
    String name = names.next("pool");
    try (Pool pool = Pool.open(name); Pool worker = Pool.builder(name).openOnly().open()) {
      PoolResult<JsonNode> first = pool.submit("square", 2);
      PoolResult<Integer> next = pool.submit("square", 3, Integer.class);
      assertTrue(first.cancel(false));
      assertTrue(first.isCancelled());
      assertTrue(first.isDone());
      CancellationException e = assertThrows(CancellationException.class, first::get);
      assertTrue(e.getMessage().contains("task " + first.id()), e.getMessage());
      assertThrows(CancellationException.class, () -> first.get(Duration.ZERO));
      assertThrows(CancellationException.class, () -> first.get(1, TimeUnit.SECONDS));
      assertTrue(first.toString().contains("cancelled"), first.toString());
      // a worker gets the next task, never the cancelled one
      try (PoolTask t = takeNow(worker)) {
        assertEquals(next.id(), t.id());
        assertNull(worker.take(Duration.ZERO), "the cancelled task is not in the pool");
        t.complete(9);
      }
      assertEquals(9, next.get(WAIT));
      assertTrue(pool.join(WAIT), "join does not wait for the cancelled task");
      // twice, or after the result came: false, nothing thrown
      assertFalse(first.cancel(false));
      assertFalse(first.cancel(true));
      assertTrue(first.isCancelled());
      assertFalse(next.cancel(false));
      assertFalse(next.isCancelled());
      // cancel collected its cancelled result: nothing is left to come
      assertThrows(InvalidArgumentException.class, () -> pool.nextResult(Duration.ZERO));
    }
  }

  @Test
  void cancelOfATaskAWorkerTookIsRefusedAndItsResultComes() throws Exception {
    String name = names.next("pool");
    try (Pool pool = Pool.open(name); Pool worker = Pool.builder(name).openOnly().open()) {
      PoolResult<Integer> r = pool.submit("square", 4, Integer.class);
      try (PoolTask t = takeNow(worker)) {
        assertEquals(r.id(), t.id());
        assertFalse(r.cancel(true));
        assertFalse(r.isCancelled());
        assertFalse(r.isDone());
        t.complete(16);
      }
      assertEquals(16, r.get(WAIT));
      assertFalse(r.isCancelled());
      assertFalse(r.cancel(false));
      assertTrue(pool.join(WAIT));
    }
  }

  @Test
  void aThreadWaitingForACancelledTaskIsAnswered() throws Exception {
    ExecutorService exec = Executors.newFixedThreadPool(2);
    try (Pool pool = Pool.open(names.next("pool"))) {
      // by its future
      PoolResult<JsonNode> r = pool.submit("square", 5);
      Future<Throwable> waiter = exec.submit(() -> {
        try {
          r.get(WAIT);
          return null;
        } catch (Throwable e) {
          return e;
        }
      });
      until(r::beingFetched, "the thread waits in get()");
      assertTrue(r.cancel(false));
      assertInstanceOf(CancellationException.class, waiter.get(30, TimeUnit.SECONDS));
      assertTrue(r.isCancelled());

      // by nextResult(): the cancelled task's future comes, cancelled
      PoolResult<JsonNode> s = pool.submit("square", 6);
      Future<PoolResult<?>> any = exec.submit(() -> pool.nextResult(WAIT));
      until(pool::nextResultWaiting, "the thread waits in nextResult()");
      assertTrue(s.cancel(false));
      PoolResult<?> got = any.get(30, TimeUnit.SECONDS);
      assertSame(s, got);
      assertTrue(got.isCancelled());
      assertThrows(CancellationException.class, got::get);
      assertNull(pool.take(Duration.ZERO), "neither task runs");
      assertTrue(pool.join(WAIT));
    } finally {
      exec.shutdownNow();
    }
  }

  @Test
  void aWorkerKilledMidTaskHasItsTaskFinishedByAnother() throws Exception {
    final int n = 10;
    final int hangAfter = 3;
    try (Pool pool = Pool.open(names.next("pool"))) {
      List<PoolResult<Long>> rs = new ArrayList<>();
      for (int i = 0; i < n; ++i) rs.add(pool.submit("square", i, Long.class));
      PoolResult<JsonNode> failing = pool.submit("fail", "bad input");
      long hung;
      try (ChildProcess first = ChildProcess.start("pool-worker", pool.name(), Integer.toString(hangAfter))) {
        assertEquals("ready", first.nextLine(30, TimeUnit.SECONDS));
        String took = first.nextLine(30, TimeUnit.SECONDS);
        assertTrue(took.startsWith("took "), took + "\n" + first.output());
        hung = Long.parseLong(took.substring(5));
        assertEquals(rs.get(hangAfter).id(), hung);
        for (int i = 0; i < hangAfter; ++i) assertEquals((long) i * i, rs.get(i).get(WAIT));
        assertThrows(TimeoutException.class, () -> rs.get(hangAfter).get(Duration.ofMillis(100)));
        first.kill(); // SIGKILL mid-task
      }
      try (ChildProcess second = ChildProcess.start("pool-worker", pool.name(), "-1")) {
        assertEquals("ready", second.nextLine(30, TimeUnit.SECONDS));
        for (int i = 0; i < n; ++i) assertEquals((long) i * i, rs.get(i).get(WAIT), "task " + i);
        ExecutionException e = assertThrows(ExecutionException.class, () -> failing.get(WAIT));
        assertEquals("bad input", ((PoolTaskException) e.getCause()).error());
        // exactly one result per task: none is left to come
        assertThrows(InvalidArgumentException.class, () -> pool.nextResult(Duration.ZERO));
        assertTrue(pool.join(WAIT));
        pool.closeTasks();
        assertEquals("served " + (n + 1 - hangAfter), second.nextLine(30, TimeUnit.SECONDS));
        assertEquals(0, second.waitFor(30, TimeUnit.SECONDS));
      }
    }
  }
}
