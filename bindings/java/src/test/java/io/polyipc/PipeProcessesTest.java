package io.polyipc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.EOFException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Pipes across real processes (second JVMs), one killed with SIGKILL. */
@Timeout(120)
class PipeProcessesTest {
  @RegisterExtension final TestNames names = new TestNames();

  @Test
  void aChildEchoesUntilThisEndCloses() throws Exception {
    String name = names.next("echo");
    Pipe p = Pipe.open(name);
    Connection a = p.a();
    p.b().close(); // the child holds end B
    try (ChildProcess child = ChildProcess.start("pipe-echo", name)) {
      assertEquals("ready", child.nextLine(30, TimeUnit.SECONDS));
      for (int i = 0; i < 100; ++i) {
        a.send("{\"i\":" + i + "}");
        String back = a.recv(30, TimeUnit.SECONDS);
        assertEquals("{\"i\":" + i + "}", back);
      }
      a.close(); // end of stream for the child
      assertEquals("echoed 100", child.nextLine(30, TimeUnit.SECONDS));
      assertEquals(0, child.waitFor(30, TimeUnit.SECONDS));
    }
  }

  @Test
  void aSenderKilledWithSigkillIsEndOfStreamAfterItsMessages() throws Exception {
    String name = names.next("killed");
    try (Connection b = Pipe.builder(name).openEnd(Connection.End.B)) {
      try (ChildProcess child = ChildProcess.start("pipe-hang", name, "5")) {
        assertEquals("holding", child.nextLine(30, TimeUnit.SECONDS));
        child.kill();
      }
      long t0 = System.nanoTime();
      for (int i = 0; i < 5; ++i) {
        JsonNode m = b.recvObject(JsonNode.class, 10, TimeUnit.SECONDS);
        assertEquals(i, m.get("seq").asInt());
      }
      assertThrows(EOFException.class, () -> b.recv(10, TimeUnit.SECONDS));
      long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
      assertTrue(ms < 2000, "end of stream noticed after " + ms + " ms");
      assertThrows(ClosedException.class, () -> b.send("1"), "the dead end is gone");
    }
  }
}
