package io.polyipc;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A second JVM for the multi-process tests. As a program (main) it plays one role on a queue; as an object
 * it is the test's handle on that process, reading its output lines with bounded waits.
 */
final class ChildProcess implements AutoCloseable {
  // ---- the child's side -------------------------------------------------------------------------------

  public static void main(String[] args) throws Exception {
    String role = args[0];
    String name = args[1];
    switch (role) {
      case "produce": { // produce NAME N: puts {"i": k, "pid": P} for k in 0..N-1
        int n = Integer.parseInt(args[2]);
        long pid = ProcessHandle.current().pid();
        try (Queue q = Queue.open(name)) {
          for (int k = 0; k < n; ++k) q.put("{\"i\":" + k + ",\"pid\":" + pid + "}");
        }
        System.out.println("produced " + n);
        break;
      }
      case "produce-close": { // produce-close NAME N: attaches to queue NAME (whatever its options), puts
        // {"i": k, "pid": P} for k in 0..N-1, then closes it for writing (end of stream)
        int n = Integer.parseInt(args[2]);
        long pid = ProcessHandle.current().pid();
        try (Queue q = Queue.builder(name).openOnly().open()) {
          for (int k = 0; k < n; ++k) q.put("{\"i\":" + k + ",\"pid\":" + pid + "}");
          q.closeWrites();
        }
        System.out.println("produced " + n + " and closed");
        break;
      }
      case "lease": { // lease NAME: takes one message of a joinable queue and holds it until killed
        try (Queue q = Queue.builder(name).openOnly().open()) {
          String m = q.take();
          System.out.println("took " + m);
          System.out.flush();
          for (;;) Thread.sleep(60_000); // the holder "hangs" mid-task; the test kills it
        }
      }
      case "task-done-message": { // task-done-message NAME: takes 3 messages of a joinable queue, ends
        // the 3rd and the 2nd by message, then holds the 1st (unfinished) until killed
        try (Queue q = Queue.builder(name).openOnly().open()) {
          String first = q.take();
          String second = q.take();
          String third = q.take();
          q.taskDone(third);
          q.taskDone(second);
          System.out.println("ended c b of " + first + " " + second + " " + third);
          System.out.flush();
          for (;;) Thread.sleep(60_000); // still working on the first; the test kills it
        }
      }
      case "drain": { // drain NAME: takes until the end of the stream, marking each done
        int n = 0;
        try (Queue q = Queue.builder(name).openOnly().open()) {
          System.out.println("ready");
          System.out.flush();
          for (;;) {
            try {
              q.take();
            } catch (ClosedException endOfStream) {
              break;
            }
            q.taskDone();
            ++n;
          }
        }
        System.out.println("drained " + n);
        break;
      }
      case "hold-lock": { // hold-lock NAME: acquires lock NAME and holds it until killed
        try (Lock lock = Lock.open(name)) {
          lock.lock();
          System.out.println("holding");
          System.out.flush();
          for (;;) Thread.sleep(60_000);
        }
      }
      case "hold-permit": { // hold-permit NAME: takes one permit of semaphore NAME (1 permit) until killed
        try (Semaphore s = Semaphore.open(name, 1)) {
          s.acquire();
          System.out.println("holding");
          System.out.flush();
          for (;;) Thread.sleep(60_000);
        }
      }
      case "await-event": { // await-event NAME: waits (30 s) for event NAME to be set
        try (Event e = Event.open(name)) {
          System.out.println("waiting");
          System.out.flush();
          System.out.println(e.await(30, TimeUnit.SECONDS) ? "woken" : "timed out");
        }
        break;
      }
      case "await-condition": { // await-condition NAME: under the condition's lock, waits (30 s) to be notified
        try (Condition c = Condition.open(name)) {
          c.lock();
          try {
            System.out.println("ready"); // printed holding the lock: the parent's lock() waits until we wait
            System.out.flush();
            System.out.println(c.await(30, TimeUnit.SECONDS) ? "notified" : "timed out");
          } finally {
            c.unlock();
          }
        }
        break;
      }
      case "barrier": { // barrier NAME PARTIES: one await (30 s); prints the arrival index or what broke it
        try (Barrier b = Barrier.open(name, Integer.parseInt(args[2]))) {
          System.out.println("arriving");
          System.out.flush();
          try {
            System.out.println("index " + b.await(30, TimeUnit.SECONDS));
          } catch (java.util.concurrent.BrokenBarrierException e) {
            System.out.println("broken");
          }
        }
        break;
      }
      case "pipe-echo": { // pipe-echo NAME: end B of pipe NAME; sends back each message until end of stream
        int n = 0;
        try (Connection c = Connection.open(name, Connection.End.B)) {
          System.out.println("ready");
          System.out.flush();
          for (;;) {
            String m;
            try {
              m = c.recv();
            } catch (java.io.EOFException endOfStream) {
              break;
            }
            c.send(m);
            ++n;
          }
        }
        System.out.println("echoed " + n);
        break;
      }
      case "pipe-hang": { // pipe-hang NAME K: end A of pipe NAME; sends {"seq": i} for i < K, then hangs
        int k = Integer.parseInt(args[2]);
        try (Connection c = Connection.open(name, Connection.End.A)) {
          for (int i = 0; i < k; ++i) c.send("{\"seq\":" + i + "}");
          System.out.println("holding");
          System.out.flush();
          for (;;) Thread.sleep(60_000); // the test kills it
        }
      }
      case "count": { // count NAME N: adds 1 to int64 value NAME N times (half with incrementAndGet, half CAS)
        int n = Integer.parseInt(args[2]);
        try (LongValue v = LongValue.open(name)) {
          System.out.println("counting");
          System.out.flush();
          for (int i = 0; i < n; ++i) {
            if (i % 2 == 0) {
              v.incrementAndGet();
            } else {
              v.updateAndGet(x -> x + 1);
            }
          }
        }
        System.out.println("counted " + n);
        break;
      }
      case "shm-fill": { // shm-fill NAME SIZE SEED: creates shared memory NAME and writes byte i = i * 131 + SEED
        int size = Integer.parseInt(args[2]);
        int seed = Integer.parseInt(args[3]);
        try (SharedMemory m = SharedMemory.open(name, size)) {
          java.nio.ByteBuffer b = m.buffer();
          for (int i = 0; i < size; ++i) b.put(i, (byte) (i * 131 + seed));
        }
        System.out.println("filled " + size);
        break;
      }
      case "hold-value-lock": { // hold-value-lock NAME: takes the lock of int64 value NAME until killed
        try (LongValue v = LongValue.open(name)) {
          v.getLock().lock();
          v.set(-1); // a half-done update
          System.out.println("holding");
          System.out.flush();
          for (;;) Thread.sleep(60_000);
        }
      }
      case "borrow-hold": { // borrow-hold NAME: borrows one message (zero copy) and holds it until killed
        try (Queue q = Queue.builder(name).openOnly().open()) {
          Borrowed m = q.borrow(java.time.Duration.ofSeconds(30));
          System.out.println(m == null ? "nothing" : "borrowed " + m.length() + " " + m.buffer().get(0));
          System.out.flush();
          for (;;) Thread.sleep(60_000); // the test kills it before the release
        }
      }
      case "reserve-hold": { // reserve-hold NAME N: reserves N bytes, writes half of them, holds it until killed
        int n = Integer.parseInt(args[2]);
        try (Queue q = Queue.builder(name).openOnly().open()) {
          Reservation r = q.reserve(n, java.time.Duration.ofSeconds(30));
          if (r != null) {
            java.nio.ByteBuffer b = r.buffer();
            for (int i = 0; i < n / 2; ++i) b.put((byte) 'x');
          }
          System.out.println(r == null ? "no room" : "reserved " + r.length());
          System.out.flush();
          for (;;) Thread.sleep(60_000); // the test kills it before the commit
        }
      }
      case "pool-worker": { // pool-worker NAME K: serves "square", "fail", "pid"; K >= 0: after K tasks takes
        // one more, prints "took <id>" and hangs (the test kills it); K < 0: until the pool is closed
        long k = Long.parseLong(args[2]);
        java.util.Map<String, PoolHandler> handlers = java.util.Map.of(
            "square", a -> a.asLong() * a.asLong(),
            "fail", a -> {
              throw new IllegalStateException(a.asText());
            },
            "pid", a -> ProcessHandle.current().pid());
        try (Pool pool = Pool.open(name)) {
          System.out.println("ready");
          System.out.flush();
          long served = pool.serve(handlers, k < 0 ? Long.MAX_VALUE : k);
          if (k >= 0) {
            PoolTask task = pool.take();
            System.out.println("took " + task.id());
            System.out.flush();
            for (;;) Thread.sleep(60_000); // mid-task; the test kills it
          }
          System.out.println("served " + served);
        }
        break;
      }
      case "dict-increment": { // dict-increment NAME N GO: once event GO is set (30 s), adds 1 to key
        // "counter" of dict NAME N times by compare-and-set (half with compute, half with a raw JSON loop)
        int n = Integer.parseInt(args[2]);
        long retries = 0;
        java.util.concurrent.atomic.AtomicLong attempts = new java.util.concurrent.atomic.AtomicLong();
        try (Dict d = Dict.builder(name).openOnly().open(); Event go = Event.open(args[3])) {
          System.out.println("ready");
          System.out.flush();
          if (!go.await(30, TimeUnit.SECONDS)) throw new IllegalStateException("no go within 30 s");
          for (int i = 0; i < n; ++i) {
            if (i % 2 == 0) {
              d.compute("counter", v -> {
                attempts.incrementAndGet(); // once per attempt: more than once when another process won
                return v == null ? 1 : v.asLong() + 1;
              });
            } else {
              for (;;) {
                String current = d.getJson("counter");
                String next = Long.toString(current == null ? 1 : Long.parseLong(current.trim()) + 1);
                if (d.compareAndSetJson("counter", current, next)) break;
                ++retries;
              }
            }
          }
        }
        retries += attempts.get() - (n + 1) / 2;
        System.out.println("incremented " + n + " retries " + retries);
        break;
      }
      case "dict-writer": { // dict-writer NAME: 3 threads set, replace and remove entries of dict NAME
        // until killed (so that the lock is nearly always held); thread t takes every i = t mod 3 and sets key
        // "k<i % 8>" to {"seq": i, "pad": "p" * (i % 1000), "list": [i, 2i, {"deep": "<i>"}]}
        Dict d = Dict.builder(name).openOnly().open();
        final int threads = 3;
        for (int t = 0; t < threads; ++t) {
          final int first = t;
          Thread w = new Thread(() -> {
            for (long i = first;; i += threads) {
              String key = "k" + (i % 8);
              String value = "{\"seq\":" + i + ",\"pad\":\"" + "p".repeat((int) (i % 1000)) + "\",\"list\":["
                  + i + "," + 2 * i + ",{\"deep\":\"" + i + "\"}]}";
              if (i % 7 == 3) {
                d.remove(key);
              } else if (i % 5 == 1) {
                String current = d.getJson(key);
                d.compareAndSetJson(key, current, value);
              } else {
                d.putJson(key, value);
              }
              d.put("progress", i);
              if (i == 300) {
                System.out.println("writing");
                System.out.flush();
              }
            }
          }, "dict-writer-" + t);
          w.start();
        }
        for (;;) Thread.sleep(60_000); // the test kills it
      }
      case "list-append": { // list-append NAME N GO ID: once event GO is set (30 s), appends
        // {"from": ID, "seq": i} to list NAME for i in 0..N-1
        int n = Integer.parseInt(args[2]);
        String id = args[4];
        try (io.polyipc.List l = io.polyipc.List.builder(name).openOnly().open(); Event go = Event.open(args[3])) {
          System.out.println("ready");
          System.out.flush();
          if (!go.await(30, TimeUnit.SECONDS)) throw new IllegalStateException("no go within 30 s");
          for (int i = 0; i < n; ++i) {
            if (i % 2 == 0) {
              l.add(java.util.Map.of("from", id, "seq", i));
            } else {
              l.addJson("{\"from\": \"" + id + "\", \"seq\": " + i + "}");
            }
          }
        }
        System.out.println("appended " + n);
        break;
      }
      case "list-churn": { // list-churn NAME: 2 threads append, insert, set and pop values of list NAME until
        // killed (so that the lock is nearly always held); each value is {"seq": i, "pad": "p" * (i % 1000)}
        io.polyipc.List l = io.polyipc.List.builder(name).openOnly().open();
        final int threads = 2;
        for (int t = 0; t < threads; ++t) {
          final int first = t;
          Thread w = new Thread(() -> {
            for (long i = first;; i += threads) {
              String value = "{\"seq\":" + i + ",\"pad\":\"" + "p".repeat((int) (i % 1000)) + "\"}";
              try {
                if (i % 5 == 1) {
                  l.addJson(i % 3, value);
                } else if (i % 7 == 2) {
                  l.setJson(-1, value);
                } else {
                  l.addJson(value);
                }
                if (l.length() > 40) l.remove(i % 2 == 0 ? 0 : -1);
              } catch (IndexOutOfBoundsException | FullException raced) {
                // another thread (or the parent) emptied or filled it in between: go on
              }
              if (i == 300) {
                System.out.println("churning");
                System.out.flush();
              }
            }
          }, "list-churn-" + t);
          w.start();
        }
        for (;;) Thread.sleep(60_000); // the test kills it
      }
      case "watch-write": { // watch-write dict|list NAME GO: once event GO is set (30 s; GO "-": at once),
        // makes one change to dict or list NAME (sets key "from-child" / appends {"from-child": PID})
        long pid = ProcessHandle.current().pid();
        boolean dict = args[1].equals("dict");
        String target = args[2];
        String goName = args[3];
        try (Dict d = dict ? Dict.builder(target).openOnly().open() : null;
            io.polyipc.List l = dict ? null : io.polyipc.List.builder(target).openOnly().open()) {
          if (!goName.equals("-")) {
            try (Event go = Event.open(goName)) {
              System.out.println("ready");
              System.out.flush();
              if (!go.await(30, TimeUnit.SECONDS)) throw new IllegalStateException("no go within 30 s");
            }
          }
          if (dict) {
            d.put("from-child", pid);
          } else {
            l.add(java.util.Map.of("from-child", pid));
          }
        }
        System.out.println("changed " + pid);
        break;
      }
      default:
        System.err.println("unknown role " + role);
        System.exit(2);
    }
  }

  // ---- the test's side --------------------------------------------------------------------------------

  private final Process process;
  private final LinkedBlockingQueue<String> lines = new LinkedBlockingQueue<>();
  private final StringBuilder all = new StringBuilder();

  private ChildProcess(Process process) {
    this.process = process;
    Thread reader = new Thread(() -> {
      try (BufferedReader in =
          new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line; (line = in.readLine()) != null; ) {
          synchronized (all) {
            all.append(line).append('\n');
          }
          lines.add(line);
        }
      } catch (IOException ignored) {
        // the process ended
      }
    }, "child-output");
    reader.setDaemon(true);
    reader.start();
  }

  /** Starts `java ChildProcess args...` with this JVM's test class path and native directory. */
  static ChildProcess start(String... args) throws IOException {
    String java = Paths.get(System.getProperty("java.home"), "bin", "java").toString();
    String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    NativeLoader.load();
    List<String> command = new ArrayList<>(List.of(java, "-Xshare:auto", "-XX:TieredStopAtLevel=1",
        "-XX:+UseSerialGC", "-cp", classPath));
    String nativeDir = NativeLoader.loadedFrom();
    if (!nativeDir.equals("java.library.path")) command.add("-D" + NativeLoader.NATIVE_DIR_PROPERTY + "=" + nativeDir);
    command.add(ChildProcess.class.getName());
    command.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
    return new ChildProcess(pb.start());
  }

  /** The next line the child prints, waiting at most the timeout; fails the test with its output if none. */
  String nextLine(long timeout, TimeUnit unit) throws InterruptedException {
    String line = lines.poll(timeout, unit);
    if (line == null) throw new AssertionError("no output from the child in time; it printed:\n" + output());
    return line;
  }

  /** Waits for the exit; fails the test if it takes longer than the timeout. */
  int waitFor(long timeout, TimeUnit unit) throws InterruptedException {
    if (!process.waitFor(timeout, unit)) throw new AssertionError("the child did not exit in time:\n" + output());
    return process.exitValue();
  }

  /** SIGKILL, and wait until it is gone. */
  void kill() throws InterruptedException {
    process.destroyForcibly();
    waitFor(30, TimeUnit.SECONDS);
  }

  long pid() {
    return process.pid();
  }

  String output() {
    synchronized (all) {
      return all.toString();
    }
  }

  @Override
  public void close() {
    process.destroyForcibly();
  }
}
