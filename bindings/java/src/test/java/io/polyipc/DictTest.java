package io.polyipc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.NullNode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Dict in one process: semantics, unicode keys, compare-and-set, and bad input. */
@Timeout(120)
class DictTest {
  @RegisterExtension final TestNames names = new TestNames();
  private static final ObjectMapper JSON = new ObjectMapper();

  static JsonNode json(String text) throws Exception {
    return JSON.readTree(text);
  }

  @Test
  void setGetReplaceRemoveSizeKeysItemsClear() throws Exception {
    String name = names.next("dict");
    try (Dict d = Dict.open(name); Dict other = Dict.open(name)) {
      assertTrue(d.isEmpty());
      assertNull(d.get("a"));
      assertNull(d.getJson("a"));
      assertFalse(d.containsKey("a"));

      d.put("a", 1);
      d.put("b", Map.of("x", List.of(1, 2, "three")));
      d.putJson("c", "  [true, null, 2.5]  ");
      d.put("s", "a string");
      d.put("", "empty key");
      assertEquals(5, d.size());
      assertEquals(5L, other.mappingCount());

      assertEquals(json("1"), other.get("a"));
      assertEquals(1, other.get("a", Integer.class));
      assertEquals(json("{\"x\":[1,2,\"three\"]}"), other.get("b"));
      Map<String, List<Object>> b = other.get("b", new TypeReference<Map<String, List<Object>>>() {});
      assertEquals(List.of(1, 2, "three"), b.get("x"));
      assertEquals("  [true, null, 2.5]  ", other.getJson("c"), "the JSON text as stored");
      assertEquals("a string", other.get("s", String.class));
      assertEquals("\"a string\"", other.getJson("s"));
      assertEquals("empty key", other.get("", String.class));

      // replacing an entry moves it to the end of the order
      d.put("a", 2);
      assertEquals(List.of("b", "c", "s", "", "a"), other.keys());
      assertEquals(Set.of("a", "b", "c", "s", ""), other.keySet());
      List<String> iterated = new ArrayList<>();
      for (String k : other) iterated.add(k);
      assertEquals(other.keys(), iterated);
      Map<String, JsonNode> snapshot = other.snapshot();
      assertEquals(List.of("b", "c", "s", "", "a"), new ArrayList<>(snapshot.keySet()));
      assertEquals(json("2"), snapshot.get("a"));
      assertEquals(json("[true,null,2.5]"), snapshot.get("c"));
      assertEquals(json("{\"b\":{\"x\":[1,2,\"three\"]},\"c\":[true,null,2.5],\"s\":\"a string\",\"\":\"empty key\",\"a\":2}"),
          json(other.itemsJson()));
      assertThrows(UnsupportedOperationException.class, () -> snapshot.put("z", NullNode.getInstance()));

      assertTrue(d.remove("a"));
      assertFalse(d.remove("a"), "gone already");
      assertFalse(other.containsKey("a"));
      assertEquals(4, other.size());
      assertEquals(json("9"), d.getOrDefault("a", json("9")));

      Map<String, Object> more = new LinkedHashMap<>();
      more.put("m1", 1);
      more.put("m2", List.of());
      d.putAll(more);
      assertEquals(6, d.size());

      other.clear();
      assertTrue(d.isEmpty());
      assertEquals(List.of(), d.keys());
      assertEquals("{}", d.itemsJson().replace(" ", ""));
      JsonNode stat = json(d.statJson());
      assertEquals("dict", stat.path("kind").asText(), stat.toString());
    }
  }

  @Test
  void jsonNullIsAValueNotAnAbsentKey() {
    try (Dict d = Dict.open(names.next("null"))) {
      d.put("n", null);
      assertEquals("null", d.getJson("n"));
      assertEquals(NullNode.getInstance(), d.get("n"));
      assertNull(d.get("n", String.class));
      assertTrue(d.containsKey("n"));
      assertEquals(1, d.size());
    }
  }

  @Test
  void unicodeKeysAndValuesGoAsRealUtf8() throws Exception {
    String name = names.next("unicode");
    String emoji = "emoji \uD83D\uDE00 \u043A\u043B\u044E\u0447 \u03BA\u03BB\u03B5\u03B9\u03B4\u03AF"; // 😀 ключ κλειδί
    String value = "value \uD83C\uDF89 \u00E9";
    try (Dict d = Dict.open(name)) {
      d.put(emoji, value);
      d.putJson("\uD83D\uDC0D", "\"\uD83D\uDC0D snake\"");
      assertEquals(value, d.get(emoji, String.class));
      assertEquals("\"\uD83D\uDC0D snake\"", d.getJson("\uD83D\uDC0D"));
      assertEquals(List.of(emoji, "\uD83D\uDC0D"), d.keys());
      assertEquals(value, json(d.itemsJson()).path(emoji).asText());
      assertTrue(d.containsKey(emoji));
      // JNI's modified UTF-8 would send the emoji as two 3-byte surrogates, which the library refuses as
      // invalid UTF-8; half of one has no UTF-8 form at all
      assertThrows(InvalidArgumentException.class, () -> d.containsKey("emoji \uD83D"));
    }
    // the interop scenario's value: a NUL inside a JSON string goes escaped, 64-bit extremes stay exact
    try (Dict d = Dict.open(names.next("interop-value"))) {
      String key = "\u043A\u043B\u044E\u0447\uD83D\uDD11.java"; // ключ🔑.java
      Map<String, Object> v = new LinkedHashMap<>();
      v.put("lang", "java");
      v.put("text", "h\u00E9llo w\u00F6rld \uD83D\uDE00 \u6F22\u5B57 quote\" backslash\\ nl\n nul\u0000");
      v.put("ints", List.of(Long.MIN_VALUE, Long.MAX_VALUE, 0, -1));
      v.put("doubles", List.of(0.5, 1e300, -2.25));
      v.put("flags", java.util.Arrays.asList(true, false, null));
      v.put("nested", Map.of("a", List.of(List.of(), Map.of(), List.of(List.of("deep")))));
      d.put(key, v);
      assertEquals(JSON.valueToTree(v), d.get(key));
      assertEquals(Long.MIN_VALUE, d.get(key).path("ints").path(0).longValue());
      assertTrue(d.getJson(key).contains("\\u0000"), d.getJson(key));
    }
    // the limit is 4096 bytes of UTF-8: 1024 four-byte characters fit, one more byte does not
    try (Dict d = Dict.open(names.next("long-key"))) {
      String fits = "\uD83D\uDE00".repeat(1024);
      assertEquals(4096, fits.getBytes(StandardCharsets.UTF_8).length);
      d.put(fits, 1);
      assertEquals(List.of(fits), d.keys());
      InvalidArgumentException e = assertThrows(InvalidArgumentException.class, () -> d.put(fits + "k", 2));
      assertTrue(e.getMessage().contains("longer than"), e.getMessage());
      assertEquals(1, d.size());
    }
  }

  @Test
  void compareAndSetComparesAsJson() {
    try (Dict d = Dict.open(names.next("cas"))) {
      d.putJson("n", "1.0");
      assertTrue(d.replace("n", 1, 2), "1 equals 1.0");
      assertFalse(d.replace("n", 1, 3), "now 2");
      assertEquals(2, d.get("n", Integer.class));
      assertFalse(d.replace("absent", 1, 2), "an absent key never matches");
      assertFalse(d.containsKey("absent"));

      d.putJson("o", "{\"a\": 1, \"b\": [1, 2]}");
      assertTrue(d.compareAndSetJson("o", "{ \"b\" : [1, 2.0], \"a\": 1e0 }", "\"swapped\""),
          "whitespace, key order and number spelling do not matter");
      assertEquals("swapped", d.get("o", String.class));
      assertFalse(d.compareAndSetJson("o", "\"other\"", "1"));

      // null expected: only if absent; null desired: delete
      assertTrue(d.compareAndSetJson("new", null, "[1]"));
      assertFalse(d.compareAndSetJson("new", null, "[2]"));
      assertEquals("[1]", d.getJson("new"));
      assertFalse(d.compareAndSetJson("new", "[2]", null));
      assertTrue(d.compareAndSetJson("new", "[1.0]", null));
      assertFalse(d.containsKey("new"));

      // putIfAbsent: null when it was set, else the value that stays
      assertNull(d.putIfAbsent("p", Map.of("first", true)));
      assertEquals(Map.of("first", true), d.get("p", Map.class));
      JsonNode kept = d.putIfAbsent("p", "second");
      assertTrue(kept.path("first").asBoolean(), kept.toString());
      assertNull(d.putIfAbsentJson("q", "7"));
      assertEquals("7", d.putIfAbsentJson("q", "8"));

      // remove(key, expected) and replace(key, value)
      assertFalse(d.remove("q", 8));
      assertTrue(d.remove("q", 7.0));
      assertNull(d.replace("q", 1), "absent: nothing set");
      assertFalse(d.containsKey("q"));
      d.put("q", "before");
      assertEquals("before", d.replace("q", "after").asText());
      assertEquals("after", d.get("q", String.class));

      // compute: a CAS loop; null removes
      assertEquals(1, d.compute("counter", v -> v == null ? 1 : v.asLong() + 1).asLong());
      assertEquals(2, d.compute("counter", v -> v == null ? 1 : v.asLong() + 1).asLong());
      assertNull(d.compute("counter", v -> null));
      assertFalse(d.containsKey("counter"));
    }
  }

  // ---- bad input ----------------------------------------------------------------------------------

  @Test
  void nullKeysAndTextsAreRefused() {
    try (Dict d = Dict.open(names.next("nulls"))) {
      assertThrows(NullPointerException.class, () -> d.put(null, 1));
      assertThrows(NullPointerException.class, () -> d.putJson(null, "1"));
      assertThrows(NullPointerException.class, () -> d.putJson("k", null));
      assertThrows(NullPointerException.class, () -> d.get(null));
      assertThrows(NullPointerException.class, () -> d.remove(null));
      assertThrows(NullPointerException.class, () -> d.containsKey(null));
      assertThrows(NullPointerException.class, () -> d.compareAndSetJson(null, null, "1"));
      assertThrows(NullPointerException.class, () -> d.compute("k", null));
      assertThrows(NullPointerException.class, () -> Dict.open(null));
      assertTrue(d.isEmpty());
    }
  }

  @Test
  void malformedJsonIsRefusedAndChangesNothing() {
    try (Dict d = Dict.open(names.next("badjson"))) {
      d.put("k", 1);
      for (String bad : new String[] {"{\"a\":", "1 2", "", "   ", "NaN", "\"a\u0000b\"", "'single'"}) {
        assertThrows(InvalidJsonException.class, () -> d.putJson("k", bad), bad);
        assertThrows(InvalidJsonException.class, () -> d.compareAndSetJson("k", "1", bad), bad);
        assertThrows(InvalidJsonException.class, () -> d.compareAndSetJson("k", bad, "2"), bad);
        assertThrows(InvalidJsonException.class, () -> d.putIfAbsentJson("other", bad), bad);
      }
      assertThrows(InvalidJsonException.class, () -> d.putJson("k", "\"\uD800\""), "a lone surrogate");
      assertEquals("{\"k\":1}", d.itemsJson().replace(" ", ""));
    }
  }

  @Test
  void badKeysAreRefused() {
    try (Dict d = Dict.open(names.next("badkey"))) {
      InvalidArgumentException nul = assertThrows(InvalidArgumentException.class, () -> d.put("a\u0000b", 1));
      assertTrue(nul.getMessage().contains("NUL"), nul.getMessage());
      InvalidArgumentException lone = assertThrows(InvalidArgumentException.class, () -> d.put("x\uDC00", 1));
      assertTrue(lone.getMessage().contains("surrogate"), lone.getMessage());
      assertThrows(InvalidArgumentException.class, () -> d.get("x\uD800"));
      assertThrows(InvalidArgumentException.class, () -> d.put("k".repeat(4097), 1));
      assertTrue(d.isEmpty());
    }
  }

  @Test
  void fullByItemsAndTooLargeByBytes() {
    String name = names.next("full");
    try (Dict d = Dict.builder(name).maxItems(2).capacityBytes(1024).createOnly().open()) {
      d.put("a", 1);
      d.put("b", 2);
      FullException full = assertThrows(FullException.class, () -> d.put("c", 3));
      assertTrue(full.getMessage().contains("max_items"), full.getMessage());
      assertThrows(FullException.class, () -> d.compareAndSetJson("c", null, "3"));
      d.put("b", 22); // replacing is not adding
      assertTrue(d.remove("a"));
      d.put("c", 3); // room again
      assertThrows(TooLargeException.class, () -> d.put("a", "x".repeat(4000)));
      assertEquals(Map.of("b", 22, "c", 3), Map.of("b", d.get("b", Integer.class), "c", d.get("c", Integer.class)));
      assertEquals(2, d.size());
    }
    // opening the existing dict ignores the sizes
    try (Dict again = Dict.builder(name).maxItems(100).openOnly().open()) {
      assertThrows(FullException.class, () -> again.put("z", 0));
    }
  }

  @Test
  void useAfterCloseThrowsHandleClosed() {
    String name = names.next("closed");
    Dict d = Dict.open(name);
    d.put("k", 1);
    d.close();
    d.close(); // idempotent
    assertTrue(d.isClosed());
    assertThrows(HandleClosedException.class, () -> d.get("k"));
    assertThrows(HandleClosedException.class, () -> d.put("k", 2));
    assertThrows(HandleClosedException.class, () -> d.replace("k", 1, 2));
    assertThrows(HandleClosedException.class, d::size);
    assertThrows(HandleClosedException.class, d::keys);
    assertThrows(HandleClosedException.class, d::clear);
    assertThrows(HandleClosedException.class, d::statJson);
    try (Dict again = Dict.open(name)) {
      assertEquals(1, again.get("k", Integer.class), "closing a handle leaves the dict");
    }
  }

  @Test
  void openModesAndOtherKindsUnderTheName() {
    assertThrows(NotFoundException.class, () -> Dict.builder(names.next("none")).openOnly().open());
    assertThrows(NotFoundException.class,
        () -> Dict.open(names.next("none2"), SyncOptions.DEFAULT.openOnly()));
    String name = names.next("exists");
    try (Dict d = Dict.builder(name).createOnly().open()) {
      assertThrows(AlreadyExistsException.class, () -> Dict.builder(name).createOnly().open());
      IncompatibleException e = assertThrows(IncompatibleException.class, () -> Queue.open(name));
      assertTrue(e.getMessage().contains("dict"), e.getMessage());
    }
    String qname = names.next("queue");
    try (Queue q = Queue.open(qname)) {
      IncompatibleException e = assertThrows(IncompatibleException.class, () -> Dict.open(qname));
      assertTrue(e.getMessage().contains("queue"), e.getMessage());
    }
    assertThrows(InvalidArgumentException.class, () -> Dict.open("a/b"));
    assertThrows(IllegalArgumentException.class, () -> Dict.builder("x").maxItems(-1));
  }

  @Test
  void anEphemeralDictGoesWithItsLastHandle() {
    String name = names.next("ephemeral");
    try (Dict d = Dict.open(name, SyncOptions.DEFAULT.ephemeral(true))) {
      d.put("k", 1);
    }
    assertThrows(NotFoundException.class, () -> Dict.builder(name).openOnly().open());
  }
}
