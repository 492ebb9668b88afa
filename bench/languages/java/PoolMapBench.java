import com.fasterxml.jackson.databind.JsonNode;
import io.polyipc.Polyipc;
import io.polyipc.Pool;
import io.polyipc.PoolHandler;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Pool.map throughput through the Java binding, as Go's BenchmarkPoolTasks/Map measures it: N {@code add}
 * tasks ([i, 1] each, the default chunk size) served by two serve() threads of the same JVM, every result
 * checked. Prints one line per round; not part of ctest or bench/languages/run.
 *
 * <p>usage: java -cp polyipc.jar:lib/*:. PoolMapBench [N [ROUNDS]] (N 1000000, ROUNDS 5; the first round
 * is a warm-up for the JIT)
 */
public final class PoolMapBench {
  public static void main(String[] args) throws Exception {
    final int n = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
    final int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
    final String name = "bench-java-poolmap-" + ProcessHandle.current().pid();
    final List<Object> calls = new ArrayList<>(n);
    for (int i = 0; i < n; ++i) calls.add(List.of(i, 1));
    final Map<String, PoolHandler> handlers = Map.of("add", a -> a.get(0).asLong() + a.get(1).asLong());
    try (Pool pool = Pool.builder(name).createOnly().open()) {
      List<Thread> workers = new ArrayList<>();
      for (int w = 0; w < 2; ++w) {
        Thread t = new Thread(() -> {
          try (Pool mine = Pool.builder(name).openOnly().open()) {
            mine.serve(handlers);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        });
        t.start();
        workers.add(t);
      }
      for (int r = 0; r <= rounds; ++r) {
        final long t0 = System.nanoTime();
        final List<JsonNode> out = pool.map("add", calls);
        final double seconds = (System.nanoTime() - t0) / 1e9;
        for (int i = 0; i < n; ++i) {
          if (out.get(i).asLong() != i + 1) throw new IllegalStateException("task " + i + ": " + out.get(i));
        }
        System.out.printf(Locale.ROOT, "%s %d tasks: %.0f tasks/s%n", r == 0 ? "warm-up" : "round " + r, n,
            n / seconds);
      }
      pool.closeTasks();
      for (Thread t : workers) t.join(60_000);
    } finally {
      Polyipc.unlinkIfExists(name);
    }
  }
}
