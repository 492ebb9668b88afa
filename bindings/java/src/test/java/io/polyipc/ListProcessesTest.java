package io.polyipc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** io.polyipc.List across real processes (second JVMs): concurrent appends, and a writer killed mid-loop. */
@Timeout(180)
class ListProcessesTest {
  @RegisterExtension final TestNames names = new TestNames();
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void appendsFromTwoProcessesKeepTheirOrderAndNoneIsLost() throws Exception {
    final int n = 2000;
    final String[] ids = {"p0", "p1"};
    String name = names.next("list-append");
    String goName = names.next("list-go");
    try (List l = List.builder(name).maxItems(2 * n).capacityBytes(1 << 20).createOnly().open();
        Event go = Event.open(goName)) {
      java.util.List<ChildProcess> started = new ArrayList<>();
      try {
        for (String id : ids) started.add(ChildProcess.start("list-append", name, Integer.toString(n), goName, id));
        for (ChildProcess c : started) assertEquals("ready", c.nextLine(60, TimeUnit.SECONDS), c.output());
        go.set(); // all at once, so that they contend
        for (ChildProcess c : started) {
          assertEquals("appended " + n, c.nextLine(120, TimeUnit.SECONDS), c.output());
          assertEquals(0, c.waitFor(30, TimeUnit.SECONDS), c.output());
        }
        java.util.List<JsonNode> items = l.snapshot();
        assertEquals(ids.length * n, items.size());
        Map<String, Integer> next = new HashMap<>();
        for (String id : ids) next.put(id, 0);
        int switches = 0;
        String last = null;
        for (JsonNode v : items) {
          String from = v.path("from").asText();
          Integer want = next.get(from);
          assertTrue(want != null, "a value from nowhere: " + v);
          assertEquals((long) want, v.path("seq").asLong(-1), "out of order or lost: " + v);
          next.put(from, want + 1);
          if (last != null && !last.equals(from)) ++switches;
          last = from;
        }
        for (String id : ids) assertEquals(n, next.get(id), id);
        System.out.println("list appends: the two children's values interleave at " + switches + " places");
      } finally {
        for (ChildProcess c : started) c.close();
      }
    }
  }

  @Test
  void aWriterKilledMidLoopLeavesAUsableList() throws Exception {
    String name = names.next("list-kill");
    try (List l = List.builder(name).capacityBytes(64 * 1024).maxItems(64).createOnly().open()) {
      // at least 3 kills, and more (up to 8) until one landed while the writer held the list's lock
      for (int round = 0; round < 8 && (round < 3 || recoveries(l) == 0); ++round) {
        try (ChildProcess writer = ChildProcess.start("list-churn", name)) {
          assertEquals("churning", writer.nextLine(60, TimeUnit.SECONDS), writer.output());
          // kill it while it is writing: its appends go on (bounded wait, no sleep)
          long seen = appends(l);
          long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
          while (appends(l) < seen + 300) {
            assertTrue(System.nanoTime() < deadline, "the writer made no progress:\n" + writer.output());
          }
          writer.kill();
        }
        checkComplete(l, round);
        // the parent can still append, insert, set, pop and count
        while (l.size() > 40) l.pop(0);
        int before = l.size();
        l.add(Map.of("seq", -1, "round", round));
        l.add(0, Map.of("seq", -1, "front", round));
        l.set(-1, Map.of("seq", -1, "round", round, "ok", true));
        assertEquals(before + 2, l.size());
        assertEquals(Map.of("seq", -1, "round", round, "ok", true), l.get(-1, Map.class));
        assertEquals(round, l.pop(0).path("front").asInt());
        try (List other = List.builder(name).openOnly().open()) {
          assertEquals(l.itemsJson(), other.itemsJson());
        }
      }
      // how many kills landed while the writer held the list's lock (informational: it is up to timing)
      System.out.println("list kills: " + l.statJson());
    }
  }

  private static long appends(List l) throws Exception {
    return JSON.readTree(l.statJson()).path("counters").path("appends").asLong();
  }

  private static long recoveries(List l) throws Exception {
    return JSON.readTree(l.statJson()).path("counters").path("owner_dead_recoveries").asLong();
  }

  /** Every value is a complete value of the writer's shape (or the parent's). */
  private static void checkComplete(List l, int round) {
    java.util.List<JsonNode> items = l.snapshot();
    assertEquals(items.size(), l.size());
    assertTrue(items.size() <= 64, "at most max items: " + items.size());
    for (JsonNode v : items) {
      long seq = v.path("seq").asLong(Long.MIN_VALUE);
      assertTrue(v.path("seq").isIntegralNumber(), "round " + round + ": " + v);
      if (seq == -1) continue; // the parent's value of an earlier round
      assertEquals("p".repeat((int) (seq % 1000)), v.path("pad").asText(null), "round " + round + ": seq " + seq);
      assertEquals(2, v.size(), v.toString());
    }
  }
}
