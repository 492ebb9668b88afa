package io.polyipc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * put+take of 64-byte JSON messages in one process. Prints the rate (and writes it to
 * target/throughput.txt); asserts only a floor far below it, so a busy machine does not fail the suite.
 */
@Timeout(60)
class ThroughputTest {
  @RegisterExtension final TestNames names = new TestNames();

  @Test
  void putAndTakeOf64ByteJsonMessages() throws Exception {
    String message = "{\"id\":1,\"pad\":\"" + "x".repeat(64 - 17) + "\"}";
    assertEquals(64, message.length());
    try (Queue q = Queue.open(names.next("throughput"))) {
      for (int i = 0; i < 20_000; ++i) { // warm up the JIT
        q.put(message);
        q.take();
      }
      int n = 200_000;
      long t0 = System.nanoTime();
      for (int i = 0; i < n; ++i) {
        q.put(message);
        q.take();
      }
      double seconds = (System.nanoTime() - t0) / 1e9;
      double rate = n / seconds;
      String line = String.format(Locale.ROOT, "java: put+take of 64-byte JSON: %.0f messages/s (%.2f us per pair)",
          rate, seconds * 1e6 / n);
      System.out.println(line);
      report(line);
      assertTrue(rate > 10_000, line);
    }
  }

  private static void report(String line) throws IOException {
    Path dir = Paths.get(System.getProperty("polyipc.build.dir", "target"));
    Files.createDirectories(dir);
    Files.writeString(dir.resolve("throughput.txt"), line + "\n");
  }
}
