import io.polyipc.Format;
import io.polyipc.Polyipc;
import io.polyipc.Queue;
import java.util.Locale;

/**
 * bench/languages/java: put+take of a 64-byte JSON text through the Java binding (io.polyipc.Queue, a
 * BlockingQueue&lt;String&gt;), one process or producer/consumer (protocol: ../c/langbench.c).
 *
 * <p>usage: java -cp polyipc.jar:jackson/*:. LangBench single|producer|consumer N NAME [WARMUP]
 */
public final class LangBench {
  static final String MESSAGE = "{\"id\":123456,\"kind\":\"bench\",\"payload\":\"xxxxxxxxxxxxxxxxxxxxxxx\"}";
  static final long CAPACITY = 4L << 20;

  static Queue open(String name) {
    return Queue.builder(name).format(Format.JSON).capacityBytes(CAPACITY).open();
  }

  static void take(Queue q) throws InterruptedException {
    String m = q.take();
    if (m.length() != 64) throw new IllegalStateException("message of " + m.length() + " chars");
  }

  // The loops are methods, and the warm-up calls them in chunks, so the timed call runs the
  // JIT-compiled method (a loop in main() would start interpreted and wait for on-stack replacement).
  static void single(Queue q, long n) throws InterruptedException {
    for (long i = 0; i < n; ++i) {
      q.put(MESSAGE);
      take(q);
    }
  }

  static void puts(Queue q, long n) throws InterruptedException {
    for (long i = 0; i < n; ++i) q.put(MESSAGE);
  }

  static void takes(Queue q, long n) throws InterruptedException {
    for (long i = 0; i < n; ++i) take(q);
  }

  interface Loop {
    void run(Queue q, long n) throws InterruptedException;
  }

  static final long CHUNK = 1000;

  static void warmUp(Loop loop, Queue q, long warm) throws InterruptedException {
    for (long done = 0; done < warm; done += CHUNK) loop.run(q, Math.min(CHUNK, warm - done));
  }

  public static void main(String[] args) throws Exception {
    if (args.length < 3) {
      System.err.println("usage: LangBench single|producer|consumer N NAME [WARMUP]");
      System.exit(2);
    }
    if (MESSAGE.length() != 64) throw new AssertionError("message is not 64 bytes");
    String mode = args[0];
    long n = Long.parseLong(args[1]);
    String name = args[2];
    long warm = args.length > 3 ? Long.parseLong(args[3]) : 20000;
    String ack = name + ".ack";
    long t0, t1;
    try {
      switch (mode) {
        case "single": {
          try (Queue q = open(name)) {
            warmUp(LangBench::single, q, warm);
            t0 = System.nanoTime();
            single(q, n);
            t1 = System.nanoTime();
          }
          Polyipc.unlink(name);
          break;
        }
        case "producer": {
          try (Queue q = open(name); Queue a = open(ack)) {
            warmUp(LangBench::puts, q, warm);
            a.take();
            t0 = System.nanoTime();
            puts(q, n);
            t1 = System.nanoTime();
          }
          break;
        }
        case "consumer": {
          try (Queue q = open(name); Queue a = open(ack)) {
            warmUp(LangBench::takes, q, warm);
            t0 = System.nanoTime();
            a.put("1");
            takes(q, n);
            t1 = System.nanoTime();
          }
          Polyipc.unlink(name);
          Polyipc.unlink(ack);
          break;
        }
        default:
          System.err.println("LangBench: unknown mode " + mode);
          System.exit(2);
          return;
      }
    } catch (RuntimeException e) {
      System.out.println("{\"lang\":\"java\",\"ok\":false,\"error\":\"" + e.getClass().getSimpleName() + "\"}");
      throw e;
    }
    double secs = (t1 - t0) / 1e9;
    System.out.println(String.format(Locale.ROOT,
        "{\"lang\":\"java\",\"mode\":\"%s\",\"ok\":true,\"n\":%d,\"seconds\":%.6f,\"rate\":%.1f}", mode, n, secs,
        n / secs));
  }
}
