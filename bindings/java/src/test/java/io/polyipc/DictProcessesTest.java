package io.polyipc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Dict across real processes (second JVMs): exact compare-and-set counting, and a writer killed mid-loop. */
@Timeout(180)
class DictProcessesTest {
  @RegisterExtension final TestNames names = new TestNames();
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void compareAndSetIncrementsFromTwoProcessesAreExact() throws Exception {
    final int children = 2;
    final int n = 5000;
    String name = names.next("dict-count");
    String goName = names.next("dict-go");
    try (Dict d = Dict.builder(name).createOnly().open(); Event go = Event.open(goName)) {
      d.put("counter", 0);
      List<ChildProcess> started = new ArrayList<>();
      try {
        for (int i = 0; i < children; ++i) started.add(ChildProcess.start("dict-increment", name, Integer.toString(n), goName));
        for (ChildProcess c : started) assertEquals("ready", c.nextLine(60, TimeUnit.SECONDS));
        go.set(); // all at once, so that they contend
        long retries = 0;
        Pattern done = Pattern.compile("incremented " + n + " retries (\\d+)");
        for (ChildProcess c : started) {
          String line = c.nextLine(120, TimeUnit.SECONDS);
          Matcher m = done.matcher(line);
          assertTrue(m.matches(), line + "\n" + c.output());
          retries += Long.parseLong(m.group(1));
          assertEquals(0, c.waitFor(30, TimeUnit.SECONDS), c.output());
        }
        assertEquals((long) children * n, d.get("counter", Long.class), "no increment lost or doubled");
        assertEquals(List.of("counter"), d.keys());
        System.out.println("dict CAS counting: " + retries + " failed compare-and-sets retried");
      } finally {
        for (ChildProcess c : started) c.close();
      }
    }
  }

  @Test
  void aWriterKilledMidLoopLeavesAUsableDict() throws Exception {
    String name = names.next("dict-kill");
    try (Dict d = Dict.builder(name).capacityBytes(16 * 1024).maxItems(64).createOnly().open()) {
      // at least 3 kills, and more (up to 8) until one landed while the writer held the dict's lock
      for (int round = 0; round < 8 && (round < 3 || recoveries(d) == 0); ++round) {
        try (ChildProcess writer = ChildProcess.start("dict-writer", name)) {
          assertEquals("writing", writer.nextLine(60, TimeUnit.SECONDS), writer.output());
          // kill it while it is writing: its sets go on (bounded wait, no sleep)
          long seen = sets(d);
          long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
          while (sets(d) < seen + 300) {
            assertTrue(System.nanoTime() < deadline, "the writer made no progress:\n" + writer.output());
          }
          writer.kill();
        }
        checkComplete(d, round);
        // the parent can still write, replace, delete and count
        d.put("parent", Map.of("round", round));
        assertTrue(d.replace("parent", Map.of("round", round), Map.of("round", round, "ok", true)));
        assertEquals(Map.of("round", round, "ok", true), d.get("parent", Map.class));
        long progress = d.get("progress", Long.class);
        assertTrue(d.compareAndSetJson("progress", Long.toString(progress), Long.toString(progress + 1)));
        for (int k = 0; k < 8; ++k) d.put("k" + k, Map.of("seq", -1, "pad", "", "list", List.of(-1, -2, Map.of("deep", "-1"))));
        assertEquals(10, d.size(), d.keys().toString());
        assertTrue(d.remove("parent"));
        try (Dict other = Dict.builder(name).openOnly().open()) {
          assertEquals(d.itemsJson(), other.itemsJson());
        }
      }
      // how many kills landed while the writer held the dict's lock (informational: it is up to timing)
      System.out.println("dict kills: " + d.statJson());
    }
  }

  private static long sets(Dict d) throws Exception {
    return JSON.readTree(d.statJson()).path("counters").path("sets").asLong();
  }

  private static long recoveries(Dict d) throws Exception {
    return JSON.readTree(d.statJson()).path("counters").path("owner_dead_recoveries").asLong();
  }

  /** Every value present is a complete value of the writer's shape (or the parent's). */
  private static void checkComplete(Dict d, int round) {
    Map<String, JsonNode> items = d.snapshot();
    assertEquals(items.size(), d.size());
    assertTrue(items.containsKey("progress"), items.keySet().toString());
    assertTrue(items.get("progress").isIntegralNumber(), items.get("progress").toString());
    for (Map.Entry<String, JsonNode> e : items.entrySet()) {
      String key = e.getKey();
      JsonNode v = e.getValue();
      if (key.equals("progress")) continue;
      assertTrue(key.matches("k[0-7]"), "round " + round + ": unexpected key " + key);
      long seq = v.path("seq").asLong(Long.MIN_VALUE);
      if (seq == -1) continue; // the parent's value of an earlier round
      assertTrue(v.path("seq").isIntegralNumber(), key + " = " + v);
      assertEquals("k" + (seq % 8), key, key + " = " + v);
      assertEquals("p".repeat((int) (seq % 1000)), v.path("pad").asText(null), key + " = " + v);
      assertEquals(3, v.path("list").size(), key + " = " + v);
      assertEquals(seq, v.path("list").path(0).asLong());
      assertEquals(2 * seq, v.path("list").path(1).asLong());
      assertEquals(Long.toString(seq), v.path("list").path(2).path("deep").asText(null), key + " = " + v);
    }
  }
}
