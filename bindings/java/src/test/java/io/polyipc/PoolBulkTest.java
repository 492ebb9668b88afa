package io.polyipc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.TextNode;
import com.fasterxml.jackson.databind.util.RawValue;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Pools in bulk: map through JSON arrays (submit_array + results, chunks, a group at a time) and serve
 * taking a chunk's tasks together (take_batch, one finish for those that ran). Every wait is bounded; no
 * sleep stands in for synchronisation.
 */
@Timeout(120)
class PoolBulkTest {
  @RegisterExtension final TestNames names = new TestNames();
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration WAIT = Duration.ofSeconds(30);

  private static long resultsPending(Pool pool) throws Exception {
    JsonNode stat = JSON.readTree(pool.statJson());
    assertTrue(stat.has("results_pending"), stat.toString());
    return stat.get("results_pending").asLong();
  }

  /** n serve loops, each on its own handle of pool `name`, in `exec`. */
  private static List<Future<Long>> serving(ExecutorService exec, String name, int n,
      Map<String, ? extends PoolHandler> handlers) {
    List<Future<Long>> served = new ArrayList<>();
    for (int w = 0; w < n; ++w) {
      served.add(exec.submit(() -> {
        try (Pool mine = Pool.builder(name).openOnly().open()) {
          return mine.serve(handlers);
        }
      }));
    }
    return served;
  }

  private static long total(List<Future<Long>> served) throws Exception {
    long sum = 0;
    for (Future<Long> f : served) sum += f.get(30, TimeUnit.SECONDS);
    return sum;
  }

  /**
   * A map of 2000 tasks through a pool of 2 messages and a result queue of 256 bytes (a few results), with
   * chunks of 1, 7 and 600 (a group of 1800 tasks then fits the pool only in part), and the chunk size map
   * picks: the results come in order, none is left pending, and every task ran once.
   */
  @Test
  void mapKeepsTheOrderWithAnyChunkOverASmallPoolAndResultQueue() throws Exception {
    String name = names.next("pool");
    ExecutorService exec = Executors.newFixedThreadPool(2);
    AtomicInteger runs = new AtomicInteger();
    try (Pool pool = Pool.builder(name).maxTasks(2).resultCapacityBytes(256).open()) {
      List<Future<Long>> served = serving(exec, name, 2, Map.of("square", a -> {
        runs.incrementAndGet();
        return a.asLong() * a.asLong();
      }));
      final int n = 2000;
      List<Integer> xs = new ArrayList<>();
      for (int i = 0; i < n; ++i) xs.add(i);
      int maps = 0;
      for (int chunk : new int[] {1, 7, 600}) {
        List<Long> squares = pool.map("square", xs, Long.class, chunk);
        ++maps;
        assertEquals(n, squares.size(), "chunk " + chunk);
        for (int i = 0; i < n; ++i) assertEquals((long) i * i, squares.get(i), "chunk " + chunk + ", task " + i);
        assertEquals(0, resultsPending(pool), "chunk " + chunk);
      }
      List<JsonNode> trees = pool.map("square", xs); // the chunk size map picks (2000 / 32 = 62)
      ++maps;
      for (int i = 0; i < n; ++i) assertEquals((long) i * i, trees.get(i).asLong());
      assertEquals(0, resultsPending(pool));
      assertTrue(pool.map("square", List.of()).isEmpty());

      assertTrue(pool.join(WAIT));
      pool.closeTasks();
      assertEquals((long) maps * n, total(served)); // each task finished once
      assertEquals(maps * n, runs.get()); // and ran once: no chunk went back
    } finally {
      exec.shutdownNow();
    }
  }

  /**
   * Failures at 300, 1500 (the same group of 2044 tasks, chunks of 7) and 3000 (the second group). 1500
   * fails before 300 does (300's handler waits for it), yet 300's failure is the one thrown: the first in
   * order, once every task submitted has ended and no result is left pending. No group is submitted after a
   * failure was seen.
   */
  @Test
  void theFirstFailureInOrderIsThrownOnceEveryTaskEnded() throws Exception {
    String name = names.next("pool");
    ExecutorService exec = Executors.newFixedThreadPool(2);
    CountDownLatch laterFailed = new CountDownLatch(1);
    AtomicInteger runs = new AtomicInteger();
    try (Pool pool = Pool.open(name)) {
      List<Future<Long>> served = serving(exec, name, 2, Map.of("check", a -> {
        runs.incrementAndGet();
        long x = a.asLong();
        if (x == 300) {
          assertTrue(laterFailed.await(30, TimeUnit.SECONDS), "task 1500 ran");
          throw new IllegalArgumentException("bad 300");
        }
        if (x == 1500) {
          laterFailed.countDown();
          throw new IllegalArgumentException("bad 1500");
        }
        if (x == 3000) throw new IllegalArgumentException("bad 3000");
        return x;
      }));
      final int n = 10_000;
      List<Integer> xs = new ArrayList<>();
      for (int i = 0; i < n; ++i) xs.add(i);
      ExecutionException e = assertThrows(ExecutionException.class, () -> pool.map("check", xs, Long.class, 7));
      PoolTaskException failure = assertInstanceOf(PoolTaskException.class, e.getCause());
      assertEquals("bad 300", failure.error());
      assertEquals("check", failure.function());
      assertEquals(0, resultsPending(pool));
      assertTrue(pool.join(WAIT), "every task it submitted ended");
      int ran = runs.get();
      assertTrue(ran < n, "no more submitted after the failure: " + ran + " ran");
      assertTrue(ran >= 3001, "the group out was collected: " + ran + " ran");

      // the pool and the handle go on as before
      assertEquals(List.of(1L, 2L), pool.map("check", List.of(1, 2), Long.class, 1));
      assertEquals(0, resultsPending(pool));
      pool.closeTasks();
      assertEquals(ran + 2, total(served));
    } finally {
      exec.shutdownNow();
    }
  }

  /** Handler semantics are those of a task taken alone: args, errors, unknown functions, unwritable results. */
  @Test
  void serveRunsAChunkAsItRunsTasksAlone() throws Exception {
    String name = names.next("pool");
    ExecutorService exec = Executors.newFixedThreadPool(1);
    try (Pool pool = Pool.open(name)) {
      // A result that is not JSON, finished alone: the error text serve must send for it (other id aside).
      PoolResult<JsonNode> manual = pool.submit("raw", "NaN");
      String alone;
      try (PoolTask t = pool.take(WAIT)) {
        alone = assertThrows(InvalidJsonException.class, () -> t.completeJson("NaN")).getMessage();
        t.fail(alone);
      }
      assertThrows(ExecutionException.class, () -> manual.get(WAIT));

      Map<String, PoolHandler> handlers = new HashMap<>();
      handlers.put("echo", a -> a);
      String odd = "q\"b\\s\n\t\u0001 \u00e9\ud83d\ude00 \ud800.";
      handlers.put("odd", a -> {
        throw new IllegalStateException(odd);
      });
      handlers.put("fail", a -> {
        if (a.asInt() % 2 == 0) throw new IllegalStateException("even " + a.asInt());
        if (a.asInt() == 3) throw new NullPointerException();
        return a;
      });
      handlers.put("raw", a -> new RawValue(a.asText())); // Jackson writes it as it is
      handlers.put("unwritable", a -> new Object()); // no properties: Jackson refuses
      List<Future<Long>> served = serving(exec, name, 1, handlers);

      List<Object> args = new ArrayList<>();
      args.add(null);
      args.add(List.of(1, "two", Map.of("three", 3.5)));
      args.add("\u00e9\ud83d\ude00 \"quoted\" \\ ,]");
      args.add(Map.of());
      args.add(-0.0);
      List<JsonNode> echoed = pool.map("echo", args, 3);
      assertEquals(args.size(), echoed.size());
      for (int i = 0; i < args.size(); ++i) {
        assertEquals(JSON.readTree(JSON.writeValueAsString(args.get(i))), echoed.get(i), "echo " + i);
      }

      ExecutionException e = assertThrows(ExecutionException.class, () -> pool.map("fail", List.of(1, 3, 2), 3));
      assertEquals("java.lang.NullPointerException", ((PoolTaskException) e.getCause()).error());
      e = assertThrows(ExecutionException.class, () -> pool.map("fail", List.of(1, 5, 4), 3));
      assertEquals("even 4", ((PoolTaskException) e.getCause()).error());
      e = assertThrows(ExecutionException.class, () -> pool.map("odd", List.of(1, 2), 2));
      assertEquals(odd.replace('\ud800', '?'), ((PoolTaskException) e.getCause()).error()); // as fail() sends it
      e = assertThrows(ExecutionException.class, () -> pool.map("nope", List.of(1, 2), 2));
      assertEquals("no function 'nope' in this worker", ((PoolTaskException) e.getCause()).error());

      // results Jackson cannot write, or writes as something that is not one JSON value, fail their task alone
      List<PoolResult<JsonNode>> rs = new ArrayList<>();
      rs.add(pool.submit("unwritable", 0));
      e = assertThrows(ExecutionException.class, () -> rs.get(0).get(WAIT));
      assertTrue(((PoolTaskException) e.getCause()).error().contains("cannot write the result of 'unwritable'"),
          e.getCause().getMessage());
      for (String raw : new String[] {"1,2", "NaN", "[1", "\"open"}) {
        e = assertThrows(ExecutionException.class, () -> pool.map("raw", List.of("7", raw, "[8]"), 3));
        String text = ((PoolTaskException) e.getCause()).error();
        assertTrue(text.contains("the result of 'raw' is not valid JSON"), raw + ": " + text);
        if (raw.equals("NaN")) { // in the words of a task finished alone
          assertEquals(alone.replaceAll("task \\d+", "task N"), text.replaceAll("task \\d+", "task N"));
        }
      }
      assertEquals(List.of(new TextNode("x"), JSON.readTree("[8]")),
          pool.map("raw", List.of("\"x\"", "[8]"), 2));
      assertEquals(0, resultsPending(pool));
      pool.closeTasks();
      assertTrue(total(served) > 0);
    } finally {
      exec.shutdownNow();
    }
  }

  /**
   * Scalars a handler returns in a chunk read back as the values they are, with the binding's mapper (which
   * writes integers, booleans and null without Jackson) and with a user's mapper that writes numbers as
   * strings (which must then be asked).
   */
  @Test
  void scalarResultsOfAChunkAreWrittenAsTheMapperWritesThem() throws Exception {
    Map<String, PoolHandler> handlers = Map.of("scalar", a -> {
      if (a.isObject()) return a.get("k"); // a JsonNode
      switch (a.asInt()) {
        case 0: return Long.MIN_VALUE;
        case 1: return Integer.valueOf(-7);
        case 2: return Short.valueOf((short) 300);
        case 3: return Byte.valueOf((byte) -1);
        case 4: return Boolean.TRUE;
        case 5: return Boolean.FALSE;
        case 6: return null;
        case 7: return "7";
        default: throw new IllegalArgumentException("no case " + a);
      }
    });
    List<Object> args = List.of(0, 1, 2, 3, 4, 5, 6, 7, Map.of("k", List.of(8)));
    List<JsonNode> want = new ArrayList<>();
    for (String t : new String[] {"-9223372036854775808", "-7", "300", "-1", "true", "false", "null", "\"7\"",
        "[8]"}) {
      want.add(JSON.readTree(t));
    }
    String name = names.next("pool");
    ExecutorService exec = Executors.newFixedThreadPool(1);
    try (Pool pool = Pool.open(name)) {
      List<Future<Long>> served = serving(exec, name, 1, handlers);
      assertEquals(want, pool.map("scalar", args, args.size()));
      pool.closeTasks();
      assertEquals(args.size(), total(served));
    } finally {
      exec.shutdownNow();
    }

    String other = names.next("pool");
    ObjectMapper quoting = new ObjectMapper();
    quoting.getFactory().enable(JsonWriteFeature.WRITE_NUMBERS_AS_STRINGS.mappedFeature());
    ExecutorService exec2 = Executors.newFixedThreadPool(1);
    try (Pool pool = Pool.open(other)) {
      Future<Long> served = exec2.submit(() -> {
        try (Pool mine = Pool.builder(other).openOnly().objectMapper(quoting).open()) {
          return mine.serve(handlers);
        }
      });
      List<JsonNode> got = pool.map("scalar", List.of(1, 4), 2);
      assertEquals(List.of(new TextNode("-7"), JSON.readTree("true")), got);
      pool.closeTasks();
      assertEquals(2L, served.get(30, TimeUnit.SECONDS));
    } finally {
      exec2.shutdownNow();
    }
  }

  /** How a serve loop on its own handle is stopped in the middle of a chunk of 10. */
  private interface Stop {
    /** Serves `worker` with `handlers` (whose handler calls `onThird` at its third task) until it ends. */
    long serve(Pool worker, Map<String, PoolHandler> handlers) throws Exception;
  }

  /**
   * A serve loop stopped in the middle of a chunk of 10 (at its third task) finishes the tasks that ran
   * (their results are this worker's), and the chunk goes back to the pool, where a serve loop on another
   * handle takes it and finishes the rest.
   */
  private void stoppedMidChunk(Stop stop, PoolHandler third, int finishedByFirst) throws Exception {
    String name = names.next("pool");
    ExecutorService exec = Executors.newFixedThreadPool(2);
    try (Pool pool = Pool.open(name)) {
      List<Integer> xs = new ArrayList<>();
      for (int i = 0; i < 10; ++i) xs.add(i);
      Future<List<JsonNode>> mapped = exec.submit(() -> pool.map("tag", xs, 10)); // one chunk of 10

      Set<Integer> firstRan = ConcurrentHashMap.newKeySet();
      AtomicInteger calls = new AtomicInteger();
      Map<String, PoolHandler> firstHandlers = Map.of("tag", a -> {
        firstRan.add(a.asInt());
        if (calls.incrementAndGet() == 3) return third.apply(a);
        return "first " + a.asInt();
      });
      AtomicReference<Object> firstEnded = new AtomicReference<>();
      Thread first = new Thread(() -> {
        try (Pool w = Pool.builder(name).openOnly().open()) {
          firstEnded.set(stop.serve(w, firstHandlers));
        } catch (Throwable t) {
          firstEnded.set(t);
        }
      });
      first.start();
      first.join(30_000);
      assertFalse(first.isAlive(), "the first serve loop ended");
      assertEquals(Set.of(0, 1, 2), firstRan, "it ran the tasks up to the third, no more");

      Set<Integer> secondRan = ConcurrentHashMap.newKeySet();
      Future<Long> second = exec.submit(() -> {
        try (Pool w = Pool.builder(name).openOnly().open()) {
          return w.serve(Map.of("tag", a -> {
            secondRan.add(a.asInt());
            return "second " + a.asInt();
          }));
        }
      });
      List<JsonNode> tags = mapped.get(30, TimeUnit.SECONDS);
      for (int i = 0; i < 10; ++i) {
        String expected = (i < finishedByFirst ? "first " : "second ") + i;
        assertEquals(expected, tags.get(i).asText(), "task " + i);
      }
      // the chunk came back whole: the rest ran in the second loop (and the others, at least once, again)
      for (int i = finishedByFirst; i < 10; ++i) assertTrue(secondRan.contains(i), "the second loop ran " + i);
      assertEquals(0, resultsPending(pool));
      assertTrue(pool.join(WAIT));
      pool.closeTasks();
      assertEquals((long) secondRan.size(), second.get(30, TimeUnit.SECONDS));
      Object ended = firstEnded.get();
      if (ended instanceof Long) {
        assertEquals((long) finishedByFirst, ended);
      } else {
        assertInstanceOf(InterruptedException.class, ended);
      }
    } finally {
      exec.shutdownNow();
    }
  }

  @Test
  void serveInterruptedMidChunkFinishesWhatRanAndTheChunkGoesBack() throws Exception {
    // The third task's handler interrupts its thread (as a cancel from elsewhere would) and returns: its
    // result counts, and the loop stops before the fourth.
    stoppedMidChunk(Pool::serve, a -> {
      Thread.currentThread().interrupt();
      return "first " + a.asInt();
    }, 3);
  }

  @Test
  void aHandlerInterruptedMidChunkGivesItsTaskBackWithTheRest() throws Exception {
    stoppedMidChunk(Pool::serve, a -> {
      throw new InterruptedException("cancelled");
    }, 2);
  }

  @Test
  void serveWithMaxTasksEndsMidChunkAndTheChunkGoesBack() throws Exception {
    stoppedMidChunk((w, handlers) -> w.serve(handlers, 3), a -> "first " + a.asInt(), 3);
  }
}
