package io.polyipc.interop;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.polyipc.Barrier;
import io.polyipc.ClosedException;
import io.polyipc.Condition;
import io.polyipc.Connection;
import io.polyipc.Dict;
import io.polyipc.Event;
import io.polyipc.Lock;
import io.polyipc.LongValue;
import io.polyipc.Pipe;
import io.polyipc.Pool;
import io.polyipc.PoolHandler;
import io.polyipc.PoolResult;
import io.polyipc.PoolTask;
import io.polyipc.PoolTaskException;
import io.polyipc.Queue;
import io.polyipc.Semaphore;
import io.polyipc.SharedMemory;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The Java interop agent: io.polyipc and Jackson. Messages and command lines: see
 * tests/interop/README.md.
 */
public final class Agent {
  private static final String LANG = "java";
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final long TIMEOUT_MS = timeoutMs();

  private static final String FIXED =
      "h\u00e9llo w\u00f6rld \u2014 \u6f22\u5b57\u304b\u306a\ud55c\uae00 "
          + cps(0x1F600, 0x1F389) + " " + cps(0x1F469, 0x200D, 0x1F4BB) + " e\u0301 " + cps(0x1D11E) + " "
          + cps(0x10FFFF);
  // \0, \037 and \177 are octal escapes: U+0000, U+001F, U+007F.
  private static final String ESCAPES =
      "quote\" backslash\\ slash/ bs\b ff\f nl\n cr\r tab\t nul\0 us\037 del\177 ls" + cps(0x2028) + " ps"
          + cps(0x2029) + " <&>";

  private Agent() {}

  private static long timeoutMs() {
    String s = System.getenv("POLYIPC_INTEROP_TIMEOUT");
    return s == null || s.isEmpty() ? 60_000 : (long) (Double.parseDouble(s) * 1000);
  }

  private static String cps(int... codePoints) {
    StringBuilder b = new StringBuilder();
    for (int cp : codePoints) b.appendCodePoint(cp);
    return b.toString();
  }

  static ObjectNode message(String producer, long i) {
    final long min = Long.MIN_VALUE;
    final long max = Long.MAX_VALUE;
    double d = (double) i;
    ObjectNode m = NODES.objectNode();
    m.put("seq", i);
    m.put("producer", producer);
    ArrayNode ints = m.putArray("ints");
    for (long v : new long[] {min, max, max - i, min + i, i * 1000000007L, -i, 0}) ints.add(v);
    ArrayNode doubles = m.putArray("doubles");
    for (double v :
        new double[] {
          1.7976931348623157e308, 5e-324, -0.0, 2.2250738585072014e-308, (d + 0.5) / 7.0, -((d + 1) * 1e-300),
          (d + 1) * 1e21, d + 0.25
        }) {
      doubles.add(v);
    }
    m.putArray("flags").add(true).add(false).addNull();
    ObjectNode strings = m.putObject("strings");
    strings.put("fixed", FIXED);
    strings.put("escapes", ESCAPES);
    strings.put(
        "computed",
        cps(
            (int) (0x4E00 + i % 20902),
            (int) (0x1F600 + i % 80),
            'a',
            0x0301,
            (int) (0xAC00 + i % 11172),
            (int) (0x10000 + (i * 7919) % 0x100000)));
    strings.put("empty", "");
    m.put("\u043a\u043b\u044e\u0447" + cps(0x1F511), i);
    ArrayNode e = NODES.arrayNode().add(NODES.arrayNode()).add(NODES.objectNode()).addNull().add(true).add(false);
    ArrayNode dArr = NODES.arrayNode();
    dArr.add(i);
    dArr.addObject().set("e", e);
    dArr.addArray().addArray().addArray().add("deep");
    m.putObject("nested").putObject("a").putObject("b").putObject("c").set("d", dArr);
    ArrayNode list = m.putArray("list");
    for (long k = 0; k < i % 10; ++k) list.add(k);
    if (i % 1000 == 999) m.put("big", "\u00fc".repeat(20000) + "|" + i);
    return m;
  }

  private static String show(JsonNode v) {
    String s = v == null ? "(nothing)" : v.toString();
    return s.length() <= 120 ? s : s.substring(0, 117) + "...";
  }

  private static String kind(JsonNode v) {
    if (v == null) return "missing";
    if (v.isIntegralNumber()) return "integer";
    if (v.isFloatingPointNumber()) return "double";
    return v.getNodeType().toString().toLowerCase();
  }

  /** null when equal, else the first difference. */
  static String diff(JsonNode got, JsonNode want, String path) {
    boolean same = false;
    if (got != null) {
      if (want.isNull()) {
        same = got.isNull();
      } else if (want.isBoolean()) {
        same = got.isBoolean() && got.booleanValue() == want.booleanValue();
      } else if (want.isIntegralNumber()) {
        same = got.isIntegralNumber() && got.canConvertToLong() && got.longValue() == want.longValue();
      } else if (want.isFloatingPointNumber()) {
        same =
            got.isDouble()
                && Double.doubleToRawLongBits(got.doubleValue()) == Double.doubleToRawLongBits(want.doubleValue());
      } else if (want.isTextual()) {
        same = got.isTextual() && got.textValue().equals(want.textValue());
      } else if (want.isArray() && got.isArray()) {
        if (got.size() != want.size()) {
          return path + ": array of " + got.size() + " elements, want " + want.size();
        }
        for (int k = 0; k < want.size(); ++k) {
          String d = diff(got.get(k), want.get(k), path + "[" + k + "]");
          if (d != null) return d;
        }
        return null;
      } else if (want.isObject() && got.isObject()) {
        for (Iterator<String> it = want.fieldNames(); it.hasNext(); ) {
          String k = it.next();
          if (!got.has(k)) return path + ": key \"" + k + "\" missing";
        }
        for (Iterator<String> it = got.fieldNames(); it.hasNext(); ) {
          String k = it.next();
          if (!want.has(k)) return path + ": unexpected key \"" + k + "\"";
        }
        for (Map.Entry<String, JsonNode> f : want.properties()) {
          String d = diff(got.get(f.getKey()), f.getValue(), path + "." + f.getKey());
          if (d != null) return d;
        }
        return null;
      }
    }
    if (same) return null;
    return path + ": got " + show(got) + " (" + kind(got) + "), want " + show(want) + " (" + kind(want) + ")";
  }

  static final class Failure extends Exception {
    private static final long serialVersionUID = 1L;

    Failure(String message) {
      super(message);
    }
  }

  private static void check(JsonNode msg, String producer, long seq) throws Failure {
    String d = diff(msg, message(producer, seq), "$");
    if (d != null) throw new Failure("message " + producer + "#" + seq + ": " + d);
  }

  /** The next message, decoded by the binding's Jackson path; ClosedException at end of stream. */
  private static JsonNode get(Queue q, String what) throws Failure, InterruptedException {
    JsonNode m;
    try {
      m = q.pollObject(JsonNode.class, TIMEOUT_MS, TimeUnit.MILLISECONDS);
    } catch (java.io.UncheckedIOException e) {
      throw new Failure(what + ": Jackson cannot decode it: " + e.getMessage());
    }
    if (m == null) throw new Failure(what + ": nothing came within " + TIMEOUT_MS + " ms");
    if (!m.isObject()) throw new Failure(what + ": not an object: " + show(m));
    return m;
  }

  private static void produce(String queue, long n, String id) throws Exception {
    try (Queue q = Queue.open(queue)) {
      for (long i = 0; i < n; ++i) {
        if (!q.offerObject(message(id, i), TIMEOUT_MS, TimeUnit.MILLISECONDS)) {
          throw new Failure("put #" + i + ": no room within " + TIMEOUT_MS + " ms");
        }
      }
    }
    System.out.println(LANG + ": produced " + n + " messages on " + queue);
  }

  private static void consume(String queue, long n, String id) throws Exception {
    try (Queue q = Queue.open(queue)) {
      for (long k = 0; k < n; ++k) {
        JsonNode m;
        try {
          m = get(q, "waiting for message #" + k);
        } catch (ClosedException e) {
          throw new Failure("end of stream after " + k + " messages");
        }
        JsonNode seq = m.get("seq");
        JsonNode prod = m.get("producer");
        if (seq == null || !seq.isIntegralNumber() || seq.longValue() != k || prod == null
            || !id.equals(prod.textValue())) {
          throw new Failure(
              "message #" + k + ": got seq " + show(seq) + " from " + show(prod) + ", want seq " + k + " from \"" + id
                  + "\"");
        }
        check(m, id, k);
      }
      String extra = q.poll();
      if (extra != null) {
        throw new Failure("after " + n + " messages the queue still holds one: "
            + extra.substring(0, Math.min(120, extra.length())));
      }
    }
    System.out.println(LANG + ": ok " + n + " messages from " + id);
  }

  private static void consumeUntilClosed(String queue, String out, boolean joinable, long hangAfter)
      throws Exception {
    List<String> got = new ArrayList<>();
    Map<String, Long> last = new HashMap<>();
    try (Queue q = Queue.builder(queue).joinable(joinable).open()) {
      for (;;) {
        JsonNode m;
        try {
          m = get(q, "waiting for message #" + got.size());
        } catch (ClosedException endOfStream) {
          break;
        }
        JsonNode p = m.get("producer");
        JsonNode s = m.get("seq");
        if (hangAfter >= 0 && got.size() == hangAfter) {
          System.out.println("took job " + (p == null ? "?" : p.asText()) + " " + (s == null ? "?" : s.asText()));
          System.out.flush();
          for (;;) Thread.sleep(3_600_000); // holds the lease until killed
        }
        if (p == null || !p.isTextual() || s == null || !s.isIntegralNumber()) {
          throw new Failure("message #" + got.size() + ": no producer/seq: " + show(m));
        }
        String producer = p.textValue();
        long seq = s.longValue();
        check(m, producer, seq);
        Long l = last.get(producer);
        if (l != null && seq <= l) {
          throw new Failure("message " + producer + "#" + seq + " came after " + producer + "#" + l);
        }
        last.put(producer, seq);
        got.add(producer + " " + seq + "\n");
        if (joinable) q.taskDone();
      }
    } finally {
      Files.writeString(Path.of(out), String.join("", got), StandardCharsets.UTF_8);
    }
    System.out.println(LANG + ": ok " + got.size() + " messages, end of stream");
  }

  // ---- synchronisation scenarios (README.md, "Synchronisation scenarios") -------------------------

  private static final long PID = ProcessHandle.current().pid();

  private static ObjectNode readJson(String file) throws IOException, Failure {
    JsonNode n = MAPPER.readTree(Files.readString(Path.of(file), StandardCharsets.UTF_8));
    if (n == null || !n.isObject()) throw new Failure(file + ": not a JSON object");
    return (ObjectNode) n;
  }

  /** Rewrites FILE atomically: FILE.tmp.PID, then a rename over FILE. */
  private static void writeJson(String file, JsonNode value) throws IOException {
    Path target = Path.of(file);
    Path tmp = Path.of(file + ".tmp." + PID);
    Files.writeString(tmp, MAPPER.writeValueAsString(value), StandardCharsets.UTF_8);
    Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  private static void hang() throws InterruptedException {
    System.out.println("holding");
    System.out.flush();
    for (;;) Thread.sleep(3_600_000); // until killed
  }

  private static void tickets(String lockName, String file, String id, boolean hangMidSale) throws Exception {
    long bought = 0;
    try (Lock lock = Lock.open(lockName)) {
      for (;;) {
        if (!lock.tryLock(TIMEOUT_MS, TimeUnit.MILLISECONDS)) {
          throw new Failure("lock " + lockName + " not acquired within " + TIMEOUT_MS + " ms");
        }
        boolean done = false;
        try {
          boolean ownerDied = lock.previousOwnerDied();
          ObjectNode t = readJson(file);
          if (!t.path("pending").isNull()) {
            if (!ownerDied) throw new Failure("a torn sale in " + file + " without a dead holder");
            JsonNode pending = t.get("pending");
            for (String k : new String[] {"remaining", "sold", "buyers"}) t.set(k, pending.get(k));
            t.put("repairs", t.path("repairs").asLong() + 1);
            t.putNull("pending");
            writeJson(file, t);
          }
          long remaining = t.path("remaining").asLong();
          if (remaining == 0) {
            done = true;
          } else {
            ObjectNode before = NODES.objectNode();
            before.set("remaining", t.get("remaining"));
            before.set("sold", t.get("sold"));
            before.set("buyers", t.get("buyers").deepCopy());
            t.set("pending", before);
            t.put("remaining", remaining - 1);
            t.put("sold", t.path("sold").asLong() + 1);
            ObjectNode buyers = (ObjectNode) t.get("buyers");
            buyers.put(id, buyers.path(id).asLong(0) + 1);
            writeJson(file, t);
            if (hangMidSale) hang();
            t.putNull("pending");
            writeJson(file, t);
            ++bought;
          }
        } finally {
          lock.unlock();
        }
        if (done) break;
      }
    }
    System.out.println("tickets " + id + ": bought " + bought);
  }

  private static void semaphore(String sem, String log, String id, long iterations, boolean hangInside)
      throws Exception {
    try (Semaphore s = Semaphore.open(sem, 3); Queue q = Queue.open(log)) {
      ObjectNode ev = NODES.objectNode();
      ev.put("id", id);
      ev.put("pid", PID);
      for (long i = 0; i < iterations || hangInside; ++i) {
        if (!s.tryAcquire(TIMEOUT_MS, TimeUnit.MILLISECONDS)) {
          throw new Failure("semaphore " + sem + ": no permit within " + TIMEOUT_MS + " ms");
        }
        try {
          ev.put("ev", "enter");
          put(q, ev);
          if (hangInside) hang();
          // Inside for a moment: 20 yields and at least 2 ms, so that processes started apart still
          // overlap and the 3 permits are really contended.
          final long insideStart = System.nanoTime();
          for (int k = 0; k < 20 || System.nanoTime() - insideStart < 2_000_000L; ++k) Thread.yield();
          ev.put("ev", "exit");
          put(q, ev);
        } finally {
          s.release();
        }
      }
    }
    System.out.println("semaphore " + id + ": " + iterations + " iterations");
  }

  private static void put(Queue q, JsonNode m) throws Exception {
    if (!q.offerObject(m, TIMEOUT_MS, TimeUnit.MILLISECONDS)) {
      throw new Failure("put on " + q.name() + ": no room within " + TIMEOUT_MS + " ms");
    }
  }

  private static void eventWait(String event, String ready, String id) throws Exception {
    try (Event e = Event.open(event); Queue q = Queue.open(ready)) {
      ObjectNode m = NODES.objectNode();
      m.put("id", id);
      put(q, m);
      if (!e.await(TIMEOUT_MS, TimeUnit.MILLISECONDS)) {
        throw new Failure("event " + event + " not set within " + TIMEOUT_MS + " ms");
      }
    }
    System.out.println("event " + id + ": woken");
  }

  private static void eventSet(String event, String id) {
    try (Event e = Event.open(event)) {
      e.set();
    }
    System.out.println("event " + id + ": set");
  }

  private static void barrier(String name, int parties, long rounds, String out, String id) throws Exception {
    ArrayNode indexes = NODES.arrayNode();
    try (Barrier b = Barrier.open(name, parties)) {
      for (long r = 0; r < rounds; ++r) {
        try {
          indexes.add(b.await(TIMEOUT_MS, TimeUnit.MILLISECONDS));
        } catch (BrokenBarrierException | TimeoutException e) {
          throw new Failure("barrier " + name + ", round " + r + ": " + e);
        }
      }
    }
    try (Queue q = Queue.open(out)) {
      ObjectNode m = NODES.objectNode();
      m.put("id", id);
      m.set("indexes", indexes);
      put(q, m);
    }
    System.out.println("barrier " + id + ": " + rounds + " rounds");
  }

  /** Exit status: 0 for timeout or broken, 1 when the wait passed. */
  private static int barrierTimeout(String name, int parties, long timeoutMs, String id) throws Exception {
    String outcome;
    try (Barrier b = Barrier.open(name, parties)) {
      b.await(timeoutMs, TimeUnit.MILLISECONDS);
      outcome = "passed";
    } catch (TimeoutException e) {
      outcome = "timeout";
    } catch (BrokenBarrierException e) {
      outcome = "broken";
    }
    System.out.println("barrier " + id + ": " + outcome);
    return outcome.equals("passed") ? 1 : 0;
  }

  private static void condition(boolean produce, String name, String file, long n, String id) throws Exception {
    try (Condition c = Condition.open(name)) {
      for (long i = 0; i < n; ++i) {
        if (!c.tryLock(TIMEOUT_MS, TimeUnit.MILLISECONDS)) {
          throw new Failure("condition " + name + ": lock not acquired within " + TIMEOUT_MS + " ms");
        }
        try {
          ObjectNode[] buf = new ObjectNode[1];
          boolean ready = c.waitFor(() -> { // read under the lock, at first and after each wake-up
            buf[0] = readQuietly(file);
            ArrayNode items = (ArrayNode) buf[0].get("items");
            return produce ? items.size() < buf[0].path("capacity").asLong() : items.size() > 0;
          }, TIMEOUT_MS, TimeUnit.MILLISECONDS);
          if (!ready) throw new Failure("condition " + name + ": not notified within " + TIMEOUT_MS + " ms");
          ObjectNode b = buf[0];
          ArrayNode items = (ArrayNode) b.get("items");
          if (produce) {
            items.add(i);
          } else {
            long got = items.get(0).asLong();
            if (got != i) throw new Failure("expected item " + i + ", got " + got);
            items.remove(0);
          }
          writeJson(file, b);
          c.signalAll();
        } finally {
          c.unlock();
        }
      }
    }
    System.out.println("condition " + id + ": " + (produce ? "produced " : "consumed ") + n);
  }

  private static ObjectNode readQuietly(String file) {
    try {
      return readJson(file);
    } catch (IOException | Failure e) {
      throw new IllegalStateException("cannot read " + file + ": " + e.getMessage(), e);
    }
  }

  // ---- pipe and shared-memory scenarios (README.md, "Pipe and shared-memory scenarios") -----------

  private static Connection openEnd(String pipe, Connection.End end) {
    return Pipe.builder(pipe).openEnd(end); // OPEN_OR_CREATE, default options (duplex, JSON)
  }

  private static void send(Connection c, JsonNode m) throws Exception {
    if (!c.send(MAPPER.writeValueAsString(m), TIMEOUT_MS, TimeUnit.MILLISECONDS)) {
      throw new Failure("send on pipe " + c.name() + ": no room within " + TIMEOUT_MS + " ms");
    }
  }

  /** The next message as a JSON object; EOFException at end of stream. */
  private static JsonNode recv(Connection c, String what) throws Exception {
    JsonNode m;
    try {
      m = c.recvObject(JsonNode.class, TIMEOUT_MS, TimeUnit.MILLISECONDS);
    } catch (java.io.UncheckedIOException e) {
      throw new Failure(what + ": Jackson cannot decode it: " + e.getMessage());
    }
    if (m == null) throw new Failure(what + ": nothing came within " + TIMEOUT_MS + " ms");
    if (!m.isObject()) throw new Failure(what + ": not an object: " + show(m));
    return m;
  }

  private static void expectSeq(JsonNode m, long i) throws Failure {
    JsonNode seq = m.get("seq");
    if (seq == null || !seq.isIntegralNumber() || seq.longValue() != i) {
      throw new Failure("expected seq " + i + ", got " + show(m));
    }
  }

  private static void pipePing(String pipe, long n, String id, boolean pong) throws Exception {
    try (Connection c = openEnd(pipe, pong ? Connection.End.B : Connection.End.A)) {
      for (long i = 0; i < n; ++i) {
        ObjectNode out = NODES.objectNode();
        out.put("seq", i);
        out.put(pong ? "pong" : "ping", id);
        if (!pong) send(c, out);
        try {
          expectSeq(recv(c, "waiting for message #" + i), i);
        } catch (EOFException e) {
          throw new Failure("end of stream after " + i + " messages");
        }
        if (pong) send(c, out);
      }
    }
    System.out.println("pipe " + id + ": " + n + (pong ? " replies" : " round trips"));
  }

  private static void pipeSend(String pipe, long k, String id, boolean hang) throws Exception {
    Connection c = openEnd(pipe, Connection.End.A);
    try {
      for (long i = 0; i < k; ++i) {
        ObjectNode m = NODES.objectNode();
        m.put("seq", i);
        m.put("from", id);
        send(c, m);
      }
      System.out.println("pipe " + id + ": sent " + k);
      if (hang) hang();
    } finally {
      c.close();
    }
  }

  private static void pipeEof(String pipe, String id) throws Exception {
    long k = 0;
    try (Connection c = openEnd(pipe, Connection.End.B)) {
      for (;;) {
        JsonNode m;
        try {
          m = recv(c, "waiting for message #" + k);
        } catch (EOFException endOfStream) {
          break;
        }
        expectSeq(m, k);
        ++k;
      }
    }
    System.out.println("pipe " + id + ": eof after " + k + " messages");
  }

  private static byte pattern(long i, long seed) {
    return (byte) Math.floorMod(i * 131 + seed, 256L);
  }

  private static void shm(String name, long size, long seed, String id, boolean write) throws Exception {
    try (SharedMemory m = write ? SharedMemory.open(name, size) : SharedMemory.attach(name)) {
      if (m.size() != size) throw new Failure("size " + m.size() + ", expected " + size);
      // the language's view: direct ByteBuffers over the mapping, at most 1 GiB each
      final int chunk = 1 << 30;
      for (long base = 0; base < size; base += chunk) {
        int len = (int) Math.min(chunk, size - base);
        ByteBuffer b = m.buffer(base, len);
        for (int j = 0; j < len; ++j) {
          byte want = pattern(base + j, seed);
          if (write) {
            b.put(j, want);
          } else if (b.get(j) != want) {
            throw new Failure("byte " + (base + j) + " is " + (b.get(j) & 0xff) + ", expected " + (want & 0xff));
          }
        }
      }
    }
    System.out.println("shm " + id + ": " + (write ? "wrote " : "checked ") + size);
  }

  private static void counter(String name, long n, String id) {
    try (LongValue v = LongValue.open(name)) {
      for (long i = 0; i < n; ++i) v.getAndAdd(1);
    }
    System.out.println("counter " + id + ": added " + n);
  }

  // ---- worker pools (README.md, "Pools") -------------------------------------------------------------

  /** The five functions every worker registers. */
  private static Map<String, PoolHandler> poolFunctions() {
    Map<String, PoolHandler> f = new HashMap<>();
    f.put("add", a -> {
      if (!a.isArray() || a.size() != 2 || !a.get(0).canConvertToLong() || !a.get(1).canConvertToLong()
          || !a.get(0).isIntegralNumber() || !a.get(1).isIntegralNumber()) {
        throw new IllegalArgumentException("add wants [a, b] (integers), got " + show(a));
      }
      return Math.addExact(a.get(0).longValue(), a.get(1).longValue());
    });
    f.put("concat", a -> {
      JsonNode parts = a.get("parts");
      if (parts == null || !parts.isArray()) throw new IllegalArgumentException("concat wants {\"parts\": [...]}");
      StringBuilder b = new StringBuilder();
      for (JsonNode p : parts) {
        if (!p.isTextual()) throw new IllegalArgumentException("concat: not a string: " + show(p));
        b.append(p.textValue());
      }
      return b.toString();
    });
    f.put("echo", a -> a);
    f.put("fail", a -> {
      throw new Exception(a.isTextual() ? a.textValue() : a.toString());
    });
    f.put("whoami", a -> LANG);
    return f;
  }

  private static void poolWork(String name, long hangAfter) throws Exception {
    Map<String, PoolHandler> functions = poolFunctions();
    try (Pool pool = Pool.open(name)) {
      long served = pool.serve(functions, hangAfter < 0 ? Long.MAX_VALUE : hangAfter);
      if (hangAfter >= 0 && served == hangAfter) {
        PoolTask task;
        try {
          task = pool.take();
        } catch (ClosedException end) {
          task = null;
        }
        if (task != null) {
          System.out.println("took task " + task.id());
          System.out.flush();
          for (;;) Thread.sleep(3_600_000); // mid-task until killed
        }
      }
      System.out.println("served " + served);
    }
  }

  /** Task i of pool-submit: its function and arguments. */
  private static String poolFunction(long i) {
    return new String[] {"add", "concat", "echo", "fail"}[(int) (i % 4)];
  }

  private static JsonNode echoValue(long i) {
    ObjectNode v = NODES.objectNode();
    v.put("i", i);
    v.putArray("v").add(i).add("x").addNull().add(true).add(1.5).addObject().put("k", "\u00fc");
    return v;
  }

  /**
   * The error text of fail task i: a named escape two characters in, then a \\u one (Json.NET 6's
   * JsonConvert.ToString threw on that), quotes, a backslash, a line separator.
   */
  private static String boom(long i) {
    return "nl\nctl" + (char) 1 + " boom " + i + " \"q\" \\ ls" + (char) 0x2028;
  }

  private static JsonNode poolArgs(long i) {
    switch ((int) (i % 4)) {
      case 0: return NODES.arrayNode().add(i).add(2 * i);
      case 1: {
        ObjectNode a = NODES.objectNode();
        a.putArray("parts").add("p").add(Long.toString(i)).add("\u00e9" + cps(0x1F600));
        return a;
      }
      case 2: return echoValue(i);
      default: return NODES.textNode(boom(i));
    }
  }

  /** null when the result of task i is the expected one, else what was expected and what came. */
  private static String poolCheck(long i, PoolResult<?> r) throws InterruptedException {
    String fn = poolFunction(i);
    JsonNode got;
    try {
      got = (JsonNode) r.get();
    } catch (ExecutionException e) {
      String error = e.getCause() instanceof PoolTaskException ? ((PoolTaskException) e.getCause()).error() : e.toString();
      if (i % 4 == 3 && error.equals(boom(i))) return null;
      return "task " + i + " (" + fn + "): expected " + (i % 4 == 3 ? "error " + show(NODES.textNode(boom(i))) : "ok")
          + ", got error " + show(NODES.textNode(error));
    }
    if (i % 4 == 3) return "task " + i + " (fail): expected error " + show(NODES.textNode(boom(i))) + ", got ok " + show(got);
    JsonNode want;
    switch ((int) (i % 4)) {
      case 0: want = NODES.numberNode(3 * i); break;
      case 1: want = NODES.textNode("p" + i + "\u00e9" + cps(0x1F600)); break;
      default: want = echoValue(i); break;
    }
    String d = diff(got, want, "$");
    return d == null ? null : "task " + i + " (" + fn + "): expected " + show(want) + ", got " + show(got) + ": " + d;
  }

  private static void poolSubmit(String name, long n) throws Exception {
    final Duration timeout = Duration.ofMillis(TIMEOUT_MS);
    try (Pool pool = Pool.open(name)) {
      Map<Long, Long> outstanding = new HashMap<>(); // task id -> i
      long next = 0;
      for (long done = 0; done < n; ++done) {
        while (next < n && outstanding.size() < 64) {
          PoolResult<JsonNode> r = pool.offer(poolFunction(next), poolArgs(next), timeout);
          if (r == null) throw new Failure("submit of task " + next + ": no room within " + TIMEOUT_MS + " ms");
          outstanding.put(r.id(), next++);
        }
        PoolResult<?> r = pool.nextResult(timeout);
        if (r == null) throw new Failure("no result within " + TIMEOUT_MS + " ms (" + done + " of " + n + " came)");
        Long i = outstanding.remove(r.id());
        if (i == null) throw new Failure("a result for task id " + r.id() + ", which is not outstanding");
        String d = poolCheck(i, r);
        if (d != null) throw new Failure(d);
      }
    }
    System.out.println("results ok " + n);
  }

  /**
   * pool-complete POOL N: the tasks of pool-submit, all submitted at once, each turned into a
   * CompletableFuture that the handle's completion thread completes with no get(); once all are done, each
   * checked.
   */
  private static void poolComplete(String name, long n) throws Exception {
    final Duration timeout = Duration.ofMillis(TIMEOUT_MS);
    try (Pool pool = Pool.open(name)) {
      List<PoolResult<JsonNode>> results = new ArrayList<>();
      List<CompletableFuture<JsonNode>> futures = new ArrayList<>();
      for (long i = 0; i < n; ++i) {
        PoolResult<JsonNode> r = pool.offer(poolFunction(i), poolArgs(i), timeout);
        if (r == null) throw new Failure("submit of task " + i + ": no room within " + TIMEOUT_MS + " ms");
        results.add(r);
        futures.add(r.toCompletableFuture());
      }
      try {
        CompletableFuture.allOf(futures.toArray(new CompletableFuture<?>[0]))
            .exceptionally(e -> null) // the "fail" tasks: checked below
            .get(TIMEOUT_MS, TimeUnit.MILLISECONDS);
      } catch (TimeoutException e) {
        long done = futures.stream().filter(CompletableFuture::isDone).count();
        throw new Failure(done + " of " + n + " futures completed within " + TIMEOUT_MS + " ms");
      }
      for (int i = 0; i < n; ++i) {
        String d = poolCheck(i, results.get(i));
        if (d != null) throw new Failure(d);
      }
    }
    System.out.println("results ok " + n);
  }

  // ---- the dict and list scenarios (../README.md) ------------------------------------------------------

  static String dictKey(String lang) {
    return "\u043a\u043b\u044e\u0447" + cps(0x1F511) + "." + lang;
  }

  static ObjectNode dictValue(String lang) {
    ObjectNode v = NODES.objectNode();
    v.put("lang", lang);
    v.put("text", "h\u00e9llo w\u00f6rld " + cps(0x1F600) + " \u6f22\u5b57 quote\" backslash\\ nl\n nul\0");
    v.putArray("ints").add(Long.MIN_VALUE).add(Long.MAX_VALUE).add(0L).add(-1L);
    v.putArray("doubles").add(0.5).add(1e300).add(-2.25);
    v.putArray("flags").add(true).add(false).addNull();
    v.putObject("nested").putArray("a").add(NODES.arrayNode()).add(NODES.objectNode())
        .add(NODES.arrayNode().add(NODES.arrayNode().add("deep")));
    return v;
  }

  private static void dictWrite(String name, long increments, String id) {
    try (Dict d = Dict.open(name)) {
      d.put(dictKey(id), dictValue(id));
      for (long i = 0; i < increments; ++i) {
        for (;;) {
          String cur = d.getJson("counter");
          String next = Long.toString(cur == null ? 1 : Long.parseLong(cur.trim()) + 1);
          if (d.compareAndSetJson("counter", cur, next)) break;
        }
      }
    }
    System.out.println("dict " + id + ": wrote, " + increments + " increments");
  }

  /** The watch scenario: a token round the languages; each turn waits in awaitChange. */
  private static void dictRelay(String name, long index, long count, long rounds, String id)
      throws Failure, InterruptedException {
    try (Dict d = Dict.open(name)) {
      for (long r = 0; r < rounds; ++r) {
        final long turn = r * count + index;
        for (;;) { // the version, then the token, then wait from that version: no change is missed
          final long version = d.version();
          final String cur = d.getJson("token");
          final long token = cur == null ? 0 : Long.parseLong(cur.trim());
          if (token == turn) break;
          if (token > turn) throw new Failure("the token passed turn " + turn + ": " + token);
          if (d.awaitChange(version, 60, TimeUnit.SECONDS) == version) {
            throw new Failure("no change for 60 s while waiting for turn " + turn);
          }
        }
        d.putJson("token", Long.toString(turn + 1));
      }
    }
    System.out.println("relay " + id + ": " + rounds + " turns");
  }

  private static void dictCheck(String name, String langs, String id) throws Failure {
    int checked = 0;
    try (Dict d = Dict.builder(name).openOnly().open()) {
      for (String other : langs.split(",", -1)) {
        String text = d.getJson(dictKey(other));
        if (text == null) throw new Failure("the entry of " + other + " is missing");
        JsonNode got;
        try {
          got = MAPPER.readTree(text);
        } catch (IOException e) {
          throw new Failure("the entry of " + other + " does not decode: " + e.getMessage());
        }
        String diff = diff(got, dictValue(other), "$");
        if (diff != null) throw new Failure("the entry of " + other + " differs: " + diff);
        ++checked;
      }
    }
    System.out.println("dict " + id + ": checked " + checked + " entries");
  }

  private static void listAppend(String name, long n, String id) {
    try (io.polyipc.List l = io.polyipc.List.open(name)) {
      for (long i = 0; i < n; ++i) {
        ObjectNode v = NODES.objectNode();
        v.put("from", id);
        v.put("seq", i);
        l.add(v);
      }
    }
    System.out.println("list " + id + ": appended " + n);
  }

  private static void listCheck(String name, String langs, long n, String id) throws Failure {
    JsonNode items;
    try (io.polyipc.List l = io.polyipc.List.builder(name).openOnly().open()) {
      String text = l.itemsJson(); // one snapshot
      try {
        items = MAPPER.readTree(text);
      } catch (IOException e) {
        throw new Failure("the items do not decode: " + e.getMessage());
      }
    }
    if (!items.isArray()) throw new Failure("the items are not an array: " + show(items));
    Map<String, Long> next = new HashMap<>(); // language -> the seq its next value must have
    for (String lang : langs.split(",", -1)) next.put(lang, 0L);
    for (JsonNode v : items) {
      JsonNode from = v.get("from");
      JsonNode seq = v.get("seq");
      Long want = from != null && from.isTextual() ? next.get(from.textValue()) : null;
      if (want == null) throw new Failure("a value from an unknown language: " + show(v));
      if (seq == null || !seq.isIntegralNumber() || seq.longValue() != want || v.size() != 2) {
        throw new Failure("out of order or lost: " + show(v) + " (want seq " + want + ")");
      }
      next.put(from.textValue(), want + 1);
    }
    for (Map.Entry<String, Long> e : next.entrySet()) {
      if (e.getValue() != n) {
        throw new Failure(e.getKey() + " has " + e.getValue() + " values, expected " + n);
      }
    }
    System.out.println("list " + id + ": checked " + items.size() + " values");
  }

  /** Runs a pipe or shared-memory scenario; false when the command line is not one. */
  private static boolean runIpc(String[] a) throws Exception {
    String cmd = a.length > 0 ? a[0] : "";
    int n = a.length;
    if (n == 4 && (cmd.equals("pipe-ping") || cmd.equals("pipe-pong"))) {
      pipePing(a[1], Long.parseLong(a[2]), a[3], cmd.equals("pipe-pong"));
    } else if ((n == 4 || (n == 5 && a[4].equals("--hang"))) && cmd.equals("pipe-send")) {
      pipeSend(a[1], Long.parseLong(a[2]), a[3], n == 5);
    } else if (n == 3 && cmd.equals("pipe-eof")) {
      pipeEof(a[1], a[2]);
    } else if (n == 5 && (cmd.equals("shm-write") || cmd.equals("shm-check"))) {
      shm(a[1], Long.parseLong(a[2]), Long.parseLong(a[3]), a[4], cmd.equals("shm-write"));
    } else if (n == 4 && cmd.equals("counter")) {
      counter(a[1], Long.parseLong(a[2]), a[3]);
    } else if (n == 4 && cmd.equals("dict-write")) {
      dictWrite(a[1], Long.parseLong(a[2]), a[3]);
    } else if (n == 4 && cmd.equals("dict-check")) {
      dictCheck(a[1], a[2], a[3]);
    } else if (n == 4 && cmd.equals("list-append")) {
      listAppend(a[1], Long.parseLong(a[2]), a[3]);
    } else if (n == 5 && cmd.equals("list-check")) {
      listCheck(a[1], a[2], Long.parseLong(a[3]), a[4]);
    } else if (n == 6 && cmd.equals("dict-relay")) {
      dictRelay(a[1], Long.parseLong(a[2]), Long.parseLong(a[3]), Long.parseLong(a[4]), a[5]);
    } else {
      return false;
    }
    return true;
  }

  /** Runs a sync scenario; -1 when the command line is not one. */
  private static int runSync(String[] a) throws Exception {
    String cmd = a.length > 0 ? a[0] : "";
    int n = a.length;
    if ((n == 4 || (n == 5 && a[4].equals("--hang"))) && cmd.equals("tickets")) {
      tickets(a[1], a[2], a[3], n == 5);
    } else if ((n == 5 || (n == 6 && a[5].equals("--hang"))) && cmd.equals("semaphore")) {
      semaphore(a[1], a[2], a[3], Long.parseLong(a[4]), n == 6);
    } else if (n == 4 && cmd.equals("event-wait")) {
      eventWait(a[1], a[2], a[3]);
    } else if (n == 3 && cmd.equals("event-set")) {
      eventSet(a[1], a[2]);
    } else if (n == 6 && cmd.equals("barrier")) {
      barrier(a[1], Integer.parseInt(a[2]), Long.parseLong(a[3]), a[4], a[5]);
    } else if (n == 5 && cmd.equals("barrier-timeout")) {
      return barrierTimeout(a[1], Integer.parseInt(a[2]), Long.parseLong(a[3]), a[4]);
    } else if (n == 5 && (cmd.equals("condition-produce") || cmd.equals("condition-consume"))) {
      condition(cmd.equals("condition-produce"), a[1], a[2], Long.parseLong(a[3]), a[4]);
    } else {
      return -1;
    }
    return 0;
  }

  private static void run(String[] a) throws Exception {
    int sync = runSync(a);
    if (sync > 0) System.exit(sync);
    if (sync == 0) return;
    if (runIpc(a)) return;
    String cmd = a.length > 0 ? a[0] : "";
    if (a.length == 4 && cmd.equals("produce")) {
      produce(a[1], Long.parseLong(a[2]), a[3]);
    } else if (a.length == 4 && cmd.equals("consume")) {
      consume(a[1], Long.parseLong(a[2]), a[3]);
    } else if (a.length == 3 && cmd.equals("many-consume")) {
      consumeUntilClosed(a[1], a[2], false, -1);
    } else if (a.length == 3 && cmd.equals("jobs-consume")) {
      consumeUntilClosed(a[1], a[2], true, -1);
    } else if (a.length == 5 && cmd.equals("jobs-consume") && a[3].equals("--hang-after")) {
      consumeUntilClosed(a[1], a[2], true, Long.parseLong(a[4]));
    } else if (a.length == 2 && cmd.equals("pool-work")) {
      poolWork(a[1], -1);
    } else if (a.length == 4 && cmd.equals("pool-work") && a[2].equals("--hang-after")) {
      poolWork(a[1], Long.parseLong(a[3]));
    } else if (a.length == 3 && cmd.equals("pool-submit")) {
      poolSubmit(a[1], Long.parseLong(a[2]));
    } else if (a.length == 3 && cmd.equals("pool-complete")) {
      poolComplete(a[1], Long.parseLong(a[2]));
    } else if (a.length == 3 && cmd.equals("dump")) {
      System.out.println(MAPPER.writeValueAsString(message(a[2], Long.parseLong(a[1]))));
    } else {
      System.err.println(
          "usage: agent produce|consume QUEUE N ID | many-consume|jobs-consume QUEUE OUT [--hang-after K]"
              + " | tickets LOCK FILE ID [--hang] | semaphore SEM LOG ID ITERATIONS [--hang]"
              + " | event-wait EVENT READY ID | event-set EVENT ID | barrier BARRIER PARTIES ROUNDS OUT ID"
              + " | barrier-timeout BARRIER PARTIES TIMEOUT_MS ID | condition-produce|condition-consume COND FILE N ID"
              + " | pipe-ping|pipe-pong PIPE N ID | pipe-send PIPE K ID [--hang] | pipe-eof PIPE ID"
              + " | shm-write|shm-check SHM SIZE SEED ID | counter ARRAY N ID"
              + " | dict-write DICT N ID | dict-check DICT LANGS ID | list-append LIST N ID"
              + " | list-check LIST LANGS N ID | dict-relay DICT INDEX COUNT ROUNDS ID"
              + " | pool-work POOL [--hang-after K] | pool-submit POOL N | pool-complete POOL N");
      System.exit(2);
    }
  }

  public static void main(String[] args) throws IOException {
    try {
      run(args);
    } catch (Failure e) {
      System.err.println(LANG + ": FAIL: " + e.getMessage());
      System.exit(1);
    } catch (Exception e) {
      System.err.println(LANG + ": FAIL: " + e);
      System.exit(1);
    }
    System.exit(0);
  }
}
