package io.polyipc.interop;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.polyipc.ClosedException;
import io.polyipc.Queue;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

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

  private static void run(String[] a) throws Exception {
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
    } else if (a.length == 3 && cmd.equals("dump")) {
      System.out.println(MAPPER.writeValueAsString(message(a[2], Long.parseLong(a[1]))));
    } else {
      System.err.println(
          "usage: agent produce|consume QUEUE N ID | many-consume|jobs-consume QUEUE OUT [--hang-after K]");
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
