package io.polyipc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The semantics that are about processes, with real second JVMs. */
@Timeout(120)
class ProcessesTest {
  @RegisterExtension final TestNames names = new TestNames();
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void aChildProcessProducesAndThisOneConsumesInOrder() throws Exception {
    try (Queue q = Queue.open(names.next("xproc"));
        ChildProcess child = ChildProcess.start("produce", q.name(), "200")) {
      for (int k = 0; k < 200; ++k) {
        String m = q.poll(30, TimeUnit.SECONDS);
        assertNotNull(m, "message " + k + " never came; child said:\n" + child.output());
        JsonNode node = JSON.readTree(m);
        assertEquals(k, node.get("i").asInt());
        assertEquals(child.pid(), node.get("pid").asLong());
      }
      assertEquals("produced 200", child.nextLine(30, TimeUnit.SECONDS));
      assertEquals(0, child.waitFor(30, TimeUnit.SECONDS));
      assertNull(q.poll());
    }
  }

  @Test
  void aLeaseHeldByAKilledProcessIsRedelivered() throws Exception {
    try (Queue q = Queue.builder(names.next("lease")).joinable(true).open()) {
      q.put("{\"job\":1}");
      q.put("{\"job\":2}");
      try (ChildProcess child = ChildProcess.start("lease", q.name())) {
        assertEquals("took {\"job\":1}", child.nextLine(30, TimeUnit.SECONDS));
        assertEquals(1, q.size()); // job 1 is leased by the child
        child.kill(); // SIGKILL while it holds the lease, before task_done
      }
      assertEquals("{\"job\":2}", q.take());
      q.taskDone();
      assertEquals("{\"job\":1}", q.poll(20, TimeUnit.SECONDS), "the dead holder's job came back");
      q.taskDone();
      assertTrue(q.join(10, TimeUnit.SECONDS), "join returns: no work was lost");
      JsonNode counters = JSON.readTree(q.statJson()).get("counters");
      assertTrue(counters.toString().contains("redeliveries"), counters.toString());
    }
  }

  @Test
  void aKilledConsumerThatEndedLeasesByMessageLeavesOnlyItsUnfinishedOne() throws Exception {
    try (Queue q = Queue.builder(names.next("tdm")).joinable(true).open()) {
      q.put("\"a\"");
      q.put("\"b\"");
      q.put("\"c\"");
      try (ChildProcess child = ChildProcess.start("task-done-message", q.name())) {
        // The child took "a", "b", "c" and ended "c" and "b" by message; "a" (its oldest) is unfinished.
        assertEquals("ended c b of \"a\" \"b\" \"c\"", child.nextLine(30, TimeUnit.SECONDS));
        child.kill(); // SIGKILL
      }
      assertEquals("\"a\"", q.poll(20, TimeUnit.SECONDS), "the dead consumer's unfinished message came back");
      assertNull(q.poll(500, TimeUnit.MILLISECONDS), "nothing else came back: \"b\" and \"c\" were done");
      assertEquals(0, q.size());
      assertFalse(q.join(20, TimeUnit.MILLISECONDS), "\"a\" is leased by this process now");
      q.taskDone("\"a\"");
      assertTrue(q.join(10, TimeUnit.SECONDS), "join returns: every message is done");
    }
  }

  @Test
  void closeWritesEndsTheStreamInAnotherProcess() throws Exception {
    try (Queue q = Queue.builder(names.next("eos")).joinable(true).open();
        ChildProcess child = ChildProcess.start("drain", q.name())) {
      assertEquals("ready", child.nextLine(30, TimeUnit.SECONDS));
      for (int i = 0; i < 25; ++i) q.put(Integer.toString(i));
      q.closeWrites();
      assertTrue(q.join(30, TimeUnit.SECONDS), "the child marked every message done");
      assertEquals("drained 25", child.nextLine(30, TimeUnit.SECONDS));
      assertEquals(0, child.waitFor(30, TimeUnit.SECONDS));
    }
  }
}
