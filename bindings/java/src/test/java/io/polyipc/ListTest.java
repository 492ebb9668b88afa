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
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** io.polyipc.List in one process: semantics, negative indexes, unicode, and bad input. */
@Timeout(120)
class ListTest {
  @RegisterExtension final TestNames names = new TestNames();
  private static final ObjectMapper JSON = new ObjectMapper();

  static JsonNode json(String text) throws Exception {
    return JSON.readTree(text);
  }

  /** The list's values as compact JSON texts, from one snapshot. */
  static java.util.List<String> texts(List l) {
    java.util.List<String> out = new ArrayList<>();
    for (JsonNode v : l) out.add(v.toString());
    return out;
  }

  @Test
  void addGetSetSizeSnapshotClear() throws Exception {
    String name = names.next("list");
    try (List l = List.open(name); List other = List.open(name)) {
      assertTrue(l.isEmpty());
      assertEquals(0, l.size());
      l.add(1);
      l.add(Map.of("x", java.util.List.of(1, 2, "three")));
      l.addJson("  [true, null, 2.5]  ");
      l.add("a string");
      l.add(null);
      assertEquals(5, other.size());
      assertEquals(5L, other.length());
      assertFalse(other.isEmpty());

      assertEquals(json("1"), other.get(0));
      assertEquals(1, other.get(0, Integer.class));
      assertEquals(json("{\"x\":[1,2,\"three\"]}"), other.get(1));
      Map<String, java.util.List<Object>> m = other.get(1, new TypeReference<Map<String, java.util.List<Object>>>() {});
      assertEquals(java.util.List.of(1, 2, "three"), m.get("x"));
      assertEquals("  [true, null, 2.5]  ", other.getJson(2), "the JSON text as stored");
      assertEquals("a string", other.get(3, String.class));
      assertEquals("\"a string\"", other.getJson(3));
      assertEquals(NullNode.getInstance(), other.get(4), "JSON null is a value");
      assertNull(other.get(4, String.class));

      // negative indexes count from the end
      assertEquals(NullNode.getInstance(), other.get(-1));
      assertEquals("a string", other.get(-2, String.class));
      assertEquals(json("1"), other.get(-5));

      l.set(0, "zero");
      l.setJson(-1, "{\"last\": true}");
      assertEquals("zero", other.get(0, String.class));
      assertEquals(json("{\"last\":true}"), other.get(4));

      java.util.List<JsonNode> snapshot = other.snapshot();
      assertEquals(5, snapshot.size());
      assertEquals(json("[\"zero\",{\"x\":[1,2,\"three\"]},[true,null,2.5],\"a string\",{\"last\":true}]"),
          json(other.itemsJson()));
      assertEquals(json(other.itemsJson()), JSON.valueToTree(snapshot));
      assertThrows(UnsupportedOperationException.class, () -> snapshot.add(NullNode.getInstance()));
      assertEquals(texts(other), Arrays.asList("\"zero\"", "{\"x\":[1,2,\"three\"]}", "[true,null,2.5]",
          "\"a string\"", "{\"last\":true}"));

      l.addAll(java.util.List.of(6, 7));
      assertEquals(7, l.size());

      other.clear();
      assertTrue(l.isEmpty());
      assertEquals("[]", l.itemsJson().replace(" ", ""));
      JsonNode stat = json(l.statJson());
      assertEquals("list", stat.path("kind").asText(), stat.toString());
    }
  }

  @Test
  void insertAtFrontMiddleEndAndBeyond() {
    try (List l = List.open(names.next("insert"))) {
      l.add(1, "b"); // empty: index 1 appends
      l.add(0, "a"); // front
      l.add(2, "d"); // end (index == size)
      l.add(2, "c"); // middle
      l.add(-1, "c2"); // before the last, as Python's list.insert
      l.add(100, "z"); // past the end: appends
      l.add(-100, "first"); // before the start: prepends
      l.addJson(1, "\"json\"");
      assertEquals(java.util.List.of("\"first\"", "\"json\"", "\"a\"", "\"b\"", "\"c\"", "\"c2\"", "\"d\"", "\"z\""),
          texts(l));
    }
  }

  @Test
  void removeAndPopAtFrontMiddleEnd() {
    try (List l = List.open(names.next("pop"))) {
      for (int i = 0; i < 7; ++i) l.add(i);
      assertEquals(0, l.remove(0).asInt(), "front");
      assertEquals(6, l.pop().asInt(), "the last");
      assertEquals(3, l.remove(2).asInt(), "middle"); // [1,2,4,5]
      assertEquals(5, l.remove(-1).asInt(), "end, negative");
      assertEquals("4", l.popJson());
      assertEquals("1", l.removeJson(-2));
      assertEquals(java.util.List.of("2"), texts(l));
      assertEquals(2, l.pop().asInt());
      assertTrue(l.isEmpty());
      assertThrows(EmptyException.class, l::pop);
      assertThrows(EmptyException.class, l::popJson);
      assertThrows(IndexOutOfBoundsException.class, () -> l.remove(0), "as java.util.List on an empty list");
      assertThrows(IndexOutOfBoundsException.class, () -> l.remove(-1));
    }
  }

  @Test
  void outOfRangeIsIndexOutOfBounds() {
    try (List l = List.open(names.next("range"))) {
      assertThrows(IndexOutOfBoundsException.class, () -> l.get(0));
      assertThrows(IndexOutOfBoundsException.class, () -> l.set(0, 1));
      l.add("a");
      l.add("b");
      for (long bad : new long[] {2, 3, -3, Long.MAX_VALUE, Long.MIN_VALUE}) {
        IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class, () -> l.get(bad), "get " + bad);
        assertTrue(e.getCause() instanceof OutOfRangeException, String.valueOf(e.getCause()));
        assertThrows(IndexOutOfBoundsException.class, () -> l.getJson(bad));
        assertThrows(IndexOutOfBoundsException.class, () -> l.set(bad, 1), "set " + bad);
        assertThrows(IndexOutOfBoundsException.class, () -> l.setJson(bad, "1"));
        assertThrows(IndexOutOfBoundsException.class, () -> l.remove(bad), "remove " + bad);
      }
      assertEquals(java.util.List.of("\"a\"", "\"b\""), texts(l), "nothing changed");
    }
  }

  @Test
  void unicodeValuesGoAsRealUtf8() throws Exception {
    String v = "\uD83D\uDE00 snake \uD83D\uDC0D \u043A\u043B\u044E\u0447 \u6F22\u5B57 nul\u0000 e\u0301"; // 😀 🐍
    try (List l = List.open(names.next("unicode"))) {
      l.add(v);
      l.addJson("\"\uD83D\uDD11 key\"");
      l.add(0, Map.of("\uD83C\uDF89", v));
      assertEquals(v, l.get(1, String.class));
      assertEquals("\"\uD83D\uDD11 key\"", l.getJson(-1));
      assertEquals(v, l.get(0).path("\uD83C\uDF89").asText());
      assertTrue(l.getJson(1).contains("\\u0000"), l.getJson(1));
      assertEquals(v, json(l.itemsJson()).path(1).asText());
      assertEquals(v, l.pop(1).asText());
      // JNI's modified UTF-8 would send the emoji as surrogates; half of one has no UTF-8 form at all
      assertThrows(InvalidJsonException.class, () -> l.addJson("\"\uD83D\""));
      assertEquals(2, l.size());
      // 64-bit extremes stay exact
      l.add(java.util.List.of(Long.MIN_VALUE, Long.MAX_VALUE));
      assertEquals(Long.MIN_VALUE, l.get(-1).path(0).longValue());
      assertEquals(Long.MAX_VALUE, l.get(-1).path(1).longValue());
    }
  }

  // ---- bad input ----------------------------------------------------------------------------------

  @Test
  void nullsAreRefusedWhereJavaNullIsNotJson() {
    try (List l = List.open(names.next("nulls"))) {
      l.add(null); // JSON null
      l.add(0, null);
      assertEquals("null", l.getJson(0));
      assertThrows(NullPointerException.class, () -> l.addJson(null));
      assertThrows(NullPointerException.class, () -> l.addJson(0, null));
      assertThrows(NullPointerException.class, () -> l.setJson(0, null));
      assertThrows(NullPointerException.class, () -> l.addAll(null));
      assertThrows(NullPointerException.class, () -> l.get(0, (Class<?>) null));
      assertThrows(NullPointerException.class, () -> List.open(null));
      assertEquals(2, l.size());
    }
  }

  @Test
  void malformedJsonIsRefusedAndChangesNothing() {
    try (List l = List.open(names.next("badjson"))) {
      l.add(1);
      for (String bad : new String[] {"{\"a\":", "1 2", "", "   ", "NaN", "\"a\u0000b\"", "'single'", "[1,]"}) {
        assertThrows(InvalidJsonException.class, () -> l.addJson(bad), bad);
        assertThrows(InvalidJsonException.class, () -> l.addJson(0, bad), bad);
        assertThrows(InvalidJsonException.class, () -> l.setJson(0, bad), bad);
      }
      assertEquals("[1]", l.itemsJson().replace(" ", ""));
    }
  }

  @Test
  void fullByItemsAndTooLargeByBytes() {
    String name = names.next("full");
    try (List l = List.builder(name).maxItems(3).capacityBytes(1024).createOnly().open()) {
      l.add(1);
      l.add(2);
      l.add(0, 0);
      FullException full = assertThrows(FullException.class, () -> l.add(3));
      assertTrue(full.getMessage().contains("max_items"), full.getMessage());
      assertThrows(FullException.class, () -> l.add(0, 3));
      l.set(1, 11); // replacing is not adding
      assertEquals(2, l.pop().asInt());
      l.add(3); // room again
      assertThrows(TooLargeException.class, () -> l.add("x".repeat(4000)));
      assertEquals(java.util.List.of("0", "11", "3"), texts(l));
    }
    // opening the existing list ignores the sizes
    try (List again = List.builder(name).maxItems(100).openOnly().open()) {
      assertThrows(FullException.class, () -> again.add(0));
    }
    // no room left in capacity_bytes, though max items is not reached
    try (List l = List.builder(names.next("bytes")).capacityBytes(4096).createOnly().open()) {
      String chunk = "y".repeat(500);
      assertThrows(FullException.class, () -> {
        for (int i = 0; i < 100; ++i) l.add(chunk);
      });
      int n = l.size();
      assertTrue(n > 0 && n < 100, "held " + n);
      l.pop();
      l.add(chunk);
      assertEquals(n, l.size());
    }
  }

  @Test
  void useAfterCloseThrowsHandleClosed() {
    String name = names.next("closed");
    List l = List.open(name);
    l.add(1);
    l.close();
    l.close(); // idempotent
    assertTrue(l.isClosed());
    assertThrows(HandleClosedException.class, () -> l.get(0));
    assertThrows(HandleClosedException.class, () -> l.add(2));
    assertThrows(HandleClosedException.class, () -> l.add(0, 2));
    assertThrows(HandleClosedException.class, () -> l.set(0, 2));
    assertThrows(HandleClosedException.class, l::pop);
    assertThrows(HandleClosedException.class, () -> l.remove(0));
    assertThrows(HandleClosedException.class, l::size);
    assertThrows(HandleClosedException.class, l::snapshot);
    assertThrows(HandleClosedException.class, l::clear);
    assertThrows(HandleClosedException.class, l::statJson);
    try (List again = List.open(name)) {
      assertEquals(1, again.get(0, Integer.class), "closing a handle leaves the list");
    }
  }

  @Test
  void openModesAndOtherKindsUnderTheName() {
    assertThrows(NotFoundException.class, () -> List.builder(names.next("none")).openOnly().open());
    assertThrows(NotFoundException.class, () -> List.open(names.next("none2"), SyncOptions.DEFAULT.openOnly()));
    String name = names.next("exists");
    try (List l = List.builder(name).createOnly().open()) {
      assertThrows(AlreadyExistsException.class, () -> List.builder(name).createOnly().open());
      IncompatibleException e = assertThrows(IncompatibleException.class, () -> Dict.open(name));
      assertTrue(e.getMessage().contains("list"), e.getMessage());
    }
    String dname = names.next("dict");
    try (Dict d = Dict.open(dname)) {
      IncompatibleException e = assertThrows(IncompatibleException.class, () -> List.open(dname));
      assertTrue(e.getMessage().contains("dict"), e.getMessage());
    }
    String qname = names.next("queue");
    try (Queue q = Queue.open(qname)) {
      assertThrows(IncompatibleException.class, () -> List.open(qname));
    }
    assertThrows(InvalidArgumentException.class, () -> List.open("a/b"));
    assertThrows(IllegalArgumentException.class, () -> List.builder("x").maxItems(-1));
  }

  @Test
  void anEphemeralListGoesWithItsLastHandle() {
    String name = names.next("ephemeral");
    try (List l = List.open(name, SyncOptions.DEFAULT.ephemeral(true))) {
      l.add(1);
    }
    assertThrows(NotFoundException.class, () -> List.builder(name).openOnly().open());
  }
}
