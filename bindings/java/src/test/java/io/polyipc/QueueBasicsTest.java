package io.polyipc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

@Timeout(60)
class QueueBasicsTest {
  @RegisterExtension final TestNames names = new TestNames();
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void fifoHandsOutInPutOrder() throws Exception {
    try (Queue q = Queue.open(names.next("fifo"))) {
      for (int i = 0; i < 5; ++i) q.put("{\"n\":" + i + "}");
      assertEquals(5, q.size());
      for (int i = 0; i < 5; ++i) assertEquals("{\"n\":" + i + "}", q.take());
      assertTrue(q.isEmpty());
      assertEquals(Order.FIFO, q.order());
      assertEquals(Format.JSON, q.format());
    }
  }

  @Test
  void lifoHandsOutNewestFirst() throws Exception {
    try (Queue q = Queue.builder(names.next("lifo")).order(Order.LIFO).open()) {
      q.put("1");
      q.put("2");
      q.put("3");
      assertEquals("3", q.take());
      assertEquals("2", q.take());
      assertEquals("1", q.take());
    }
  }

  @Test
  void priorityHandsOutLowestFirstFifoAmongEquals() throws Exception {
    try (Queue q = Queue.builder(names.next("prio")).order(Order.PRIORITY).open()) {
      q.put("\"c\"", 5);
      q.put("\"a1\"", 1);
      q.put("\"b\"", 3);
      q.put("\"a2\"", 1);
      assertTrue(q.offer("\"z\"", -7, 1, TimeUnit.SECONDS));
      assertEquals("\"z\"", q.peek());
      assertEquals(List.of("\"z\"", "\"a1\"", "\"a2\"", "\"b\"", "\"c\""),
          List.of(q.take(), q.take(), q.take(), q.take(), q.take()));
    }
  }

  @Test
  void bytesFormatCarriesAnyBytes() throws Exception {
    try (Queue q = Queue.builder(names.next("bytes")).format(Format.BYTES).open()) {
      byte[] raw = {0, 1, (byte) 0xff, '{', 0};
      q.putBytes(raw);
      q.put("not json, and ünïcödé 🎉");
      q.putBytes(new byte[0]);
      assertEquals(new String(raw, java.nio.charset.StandardCharsets.UTF_8), q.peek()); // base64 in peek_json
      assertArrayEquals(raw, q.takeBytes());
      assertEquals("not json, and ünïcödé 🎉", q.take());
      assertArrayEquals(new byte[0], q.pollBytes(1, TimeUnit.SECONDS));
      assertEquals(Format.BYTES, q.format());
    }
  }

  /** Every size crosses JNI whole: the per-thread native buffer, its growth, and the byte[] path past it. */
  @Test
  void messagesOfEverySizeRoundTrip() throws Exception {
    int[] sizes = {0, 1, 63, 64, 4095, 4096, 4097, 20_000, 65_535, 65_536, 65_537, 300_000, 5, 70_000, 10};
    try (Queue q = Queue.builder(names.next("sizes")).format(Format.BYTES).capacityBytes(4 << 20).open()) {
      for (int n : sizes) {
        byte[] m = new byte[n];
        for (int i = 0; i < n; ++i) m[i] = (byte) (i * 31 + n);
        q.putBytes(m);
        assertArrayEquals(m, q.takeBytes(), "takeBytes of " + n);
        assertTrue(q.offerBytes(m, 0, 1, TimeUnit.SECONDS));
        assertArrayEquals(m, q.pollBytes(1, TimeUnit.SECONDS), "pollBytes of " + n);
      }
      // several waiting, taken by another thread (a buffer of its own) as strings
      List<String> put = new ArrayList<>();
      for (int n : sizes) {
        String m = "ü".repeat(n / 2) + "x".repeat(n % 2);
        put.add(m);
        q.put(m);
      }
      List<String> got = new ArrayList<>();
      Thread t = new Thread(() -> {
        for (int i = 0; i < put.size(); ++i) got.add(q.poll());
      });
      t.start();
      t.join();
      assertEquals(put, got);
      assertNull(q.poll());
    }
    try (Queue q = Queue.builder(names.next("sizes-json")).capacityBytes(4 << 20).open()) {
      for (int n : sizes) {
        String m = "\"" + "é".repeat(n / 2) + "\"";
        assertTrue(q.offer(m));
        assertEquals(m, q.take(), "take of " + n);
        q.put(m);
        List<String> drained = new ArrayList<>();
        assertEquals(1, q.drainTo(drained));
        assertEquals(List.of(m), drained);
      }
      assertThrows(InvalidJsonException.class, () -> q.put("{" + "x".repeat(100_000)));
      assertThrows(InvalidJsonException.class, () -> q.put("{"));
      assertTrue(q.isEmpty());
    }
  }

  @Test
  void unicodeJsonRoundTrips() throws Exception {
    try (Queue q = Queue.open(names.next("utf8"))) {
      String m = "{\"text\":\"ünïcödé 🎉 中文\"}";
      q.put(m);
      assertEquals(m, q.take());
    }
  }

  @Test
  void nonBlockingCallsAnswerTheJavaWay() throws Exception {
    try (Queue q = Queue.builder(names.next("bounded")).maxItems(2).open()) {
      assertNull(q.poll());
      assertThrows(NoSuchElementException.class, q::remove);
      assertThrows(NoSuchElementException.class, q::element);
      assertNull(q.peek());
      assertEquals(2, q.remainingCapacity());
      assertTrue(q.offer("1"));
      assertTrue(q.add("2"));
      assertEquals(0, q.remainingCapacity());
      assertFalse(q.offer("3"));
      assertThrows(IllegalStateException.class, () -> q.add("3"));
      assertEquals("1", q.element());
      assertEquals("1", q.remove());
      assertEquals(1, q.remainingCapacity());
      assertEquals("2", q.poll());
      assertEquals(2, q.maxItems());
    }
  }

  @Test
  void unboundedQueueHasMaxValueRemainingCapacity() {
    try (Queue q = Queue.open(names.next("unbounded"))) {
      assertEquals(Integer.MAX_VALUE, q.remainingCapacity());
    }
  }

  @Test
  void capacityBytesLimitsTheQueue() throws Exception {
    try (Queue q = Queue.builder(names.next("small")).capacityBytes(4096).open()) {
      String m = "\"" + "x".repeat(500) + "\"";
      int n = 0;
      while (q.offer(m)) ++n;
      assertTrue(n >= 4 && n < 9, "fits " + n);
      assertFalse(q.offer(m, 50, TimeUnit.MILLISECONDS));
      assertThrows(TooLargeException.class, () -> q.offer("\"" + "y".repeat(10_000) + "\""));
    }
  }

  @Test
  void drainToAddAllAndClear() throws Exception {
    try (Queue q = Queue.open(names.next("drain"))) {
      q.addAll(List.of("1", "2", "3", "4"));
      List<String> out = new ArrayList<>();
      assertEquals(2, q.drainTo(out, 2));
      assertEquals(List.of("1", "2"), out);
      assertEquals(2, q.drainTo(out));
      assertEquals(List.of("1", "2", "3", "4"), out);
      assertEquals(0, q.drainTo(out));
      q.addAll(List.of("5", "6"));
      q.clear();
      assertTrue(q.isEmpty());
      assertThrows(IllegalArgumentException.class, () -> q.drainTo(q));
    }
  }

  @Test
  void clearOnAJoinableQueueMarksTheMessagesDone() throws Exception {
    try (Queue q = Queue.builder(names.next("clear")).joinable(true).open()) {
      q.put("1");
      q.put("2");
      q.clear();
      assertTrue(q.join(1, TimeUnit.SECONDS));
    }
  }

  @Test
  void operationsAQueueCannotHonourSaySo() {
    try (Queue q = Queue.open(names.next("unsupported"))) {
      UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class, q::iterator);
      assertTrue(e.getMessage().contains(q.name()), e.getMessage());
      assertThrows(UnsupportedOperationException.class, () -> q.contains("1"));
      assertThrows(UnsupportedOperationException.class, () -> q.remove("1"));
      assertThrows(UnsupportedOperationException.class, q::toArray);
      assertThrows(UnsupportedOperationException.class, () -> q.toArray(new String[0]));
      assertThrows(UnsupportedOperationException.class, () -> q.removeIf(s -> true));
      assertThrows(UnsupportedOperationException.class, () -> q.stream().count());
      assertTrue(q.toString().contains(q.name()));
    }
  }

  @Test
  void joinableQueueJoinsWhenEveryMessageIsDone() throws Exception {
    try (Queue q = Queue.builder(names.next("join")).joinable(true).open()) {
      assertTrue(q.isJoinable());
      q.put("1");
      q.put("2");
      assertFalse(q.join(50, TimeUnit.MILLISECONDS));
      q.take();
      q.taskDone();
      assertFalse(q.join(java.time.Duration.ofMillis(20)));
      q.take();
      q.taskDone();
      assertTrue(q.join(1, TimeUnit.SECONDS));
      q.join();
    }
  }

  @Test
  void taskDoneByMessageEndsThatLeaseAndPlainTaskDoneTheOldestLeft() throws Exception {
    try (Queue q = Queue.builder(names.next("tdm")).joinable(true).open()) {
      String first = "\"a\"";
      String second = "{\"b\":\"\u00e9\u20ac\ud83d\ude00\"}"; // not ASCII: its UTF-8 must be exact
      String third = "[\"c\"]";
      q.put(first);
      q.put(second);
      q.put(third);
      assertEquals(first, q.take());
      assertEquals(second, q.take());
      assertEquals(third, q.take());
      q.taskDone(third);
      q.taskDone(first);
      // "a" was ended, not the oldest lease ("b"): no lease on "a" is left.
      InvalidArgumentException ended = assertThrows(InvalidArgumentException.class, () -> q.taskDone(first));
      assertEquals(Status.INVALID_ARG, ended.status());
      assertTrue(ended.getMessage().contains(q.name()), ended.getMessage());
      assertFalse(q.join(20, TimeUnit.MILLISECONDS), "the second message is still leased");
      q.taskDone(); // the only lease left: the second message
      assertTrue(q.join(1, TimeUnit.SECONDS));
      q.join();
      InvalidArgumentException notHeld =
          assertThrows(InvalidArgumentException.class, () -> q.taskDone("\"never put\""));
      assertTrue(notHeld.getMessage().contains(q.name()), notHeld.getMessage());
      assertThrows(InvalidArgumentException.class, () -> q.taskDone(second.getBytes(StandardCharsets.UTF_8)));
      assertThrows(NullPointerException.class, () -> q.taskDone((String) null));
      assertThrows(NullPointerException.class, () -> q.taskDone((byte[]) null));
    }
  }

  @Test
  void taskDoneByBytesEndsTheLeaseOnThoseBytes() throws Exception {
    try (Queue q = Queue.builder(names.next("tdmb")).joinable(true).format(Format.BYTES).open()) {
      byte[] notUtf8 = {(byte) 0xff, 0, (byte) 0x80};
      byte[] other = {1, 2, 3};
      q.putBytes(notUtf8);
      q.putBytes(other);
      assertArrayEquals(notUtf8, q.takeBytes());
      assertArrayEquals(other, q.takeBytes());
      q.taskDone(other.clone());
      assertThrows(InvalidArgumentException.class, () -> q.taskDone(other));
      q.taskDone(notUtf8);
      assertTrue(q.join(1, TimeUnit.SECONDS));
    }
  }

  @Test
  void taskDoneByMessageOnAPlainQueueIsInvalid() {
    try (Queue q = Queue.open(names.next("tdmplain"))) {
      q.add("1");
      assertEquals("1", q.poll());
      assertThrows(InvalidArgumentException.class, () -> q.taskDone("1"));
    }
  }

  @Test
  @SuppressWarnings("try")
  void createOnlyAndOpenOnly() {
    String name = names.next("modes");
    assertThrows(NotFoundException.class, () -> Queue.builder(name).openOnly().open());
    try (Queue created = Queue.builder(name).createOnly().order(Order.LIFO).joinable(true).open()) {
      AlreadyExistsException e =
          assertThrows(AlreadyExistsException.class, () -> Queue.builder(name).createOnly().open());
      assertEquals(Status.EXISTS, e.status());
      assertTrue(e.getMessage().contains(name), e.getMessage());
      try (Queue attached = Queue.builder(name).openOnly().open()) { // whatever its options
        assertEquals(Order.LIFO, attached.order());
        assertTrue(attached.isJoinable());
      }
      IncompatibleException mismatch = assertThrows(IncompatibleException.class, () -> Queue.open(name));
      assertEquals(Status.INCOMPATIBLE, mismatch.status());
    }
  }

  @Test
  void modeAndStatJson() throws Exception {
    String name = names.next("stat");
    try (Queue q = Queue.builder(name).mode(0640).maxItems(7).capacityBytes(1 << 16).open()) {
      q.put("{\"a\":1}");
      JsonNode stat = JSON.readTree(q.statJson());
      assertEquals(name, stat.get("name").asText());
      assertEquals(0640, stat.get("mode").asInt());
      assertEquals(7, stat.get("max_items").asLong());
      assertEquals(1, stat.get("depth").asLong());
      assertEquals(name, JSON.readTree(Polyipc.statJson(name)).get("name").asText());
      boolean listed = false;
      for (JsonNode o : JSON.readTree(Polyipc.listJson())) listed |= name.equals(o.path("name").asText());
      assertTrue(listed, "list shows " + name);
      JsonNode peeked = JSON.readTree(Polyipc.peekJson(name, 10));
      assertEquals(1, peeked.get(0).get("message").get("a").asInt());
      assertTrue(JSON.readTree(Polyipc.gcJson()).has("removed"));
    }
  }

  @Test
  void aHandleOutlivesUnlinkAndNamesAreNeverUnlinkedByClose() throws Exception {
    String name = names.next("life");
    try (Queue q = Queue.open(name)) {
      q.put("1");
    }
    try (Queue again = Queue.builder(name).openOnly().open()) { // close did not unlink
      assertEquals("1", again.take());
      again.unlink();
      again.put("2"); // attached handles keep working
      assertEquals("2", again.take());
      assertThrows(NotFoundException.class, () -> Queue.builder(name).openOnly().open());
      assertThrows(NotFoundException.class, () -> Polyipc.unlink(name));
      assertFalse(Polyipc.unlinkIfExists(name));
    }
  }

  @Test
  @SuppressWarnings("try")
  void ephemeralQueueGoesWithTheLastHandle() {
    String name = names.next("ephemeral");
    try (Queue q = Queue.builder(name).ephemeral(true).open()) {
      assertTrue(Polyipc.statJson(name).contains("\"ephemeral\":true"));
    }
    assertThrows(NotFoundException.class, () -> Polyipc.statJson(name));
  }

  @Test
  void bindingAndLibraryVersionsAgree() {
    assertEquals(Polyipc.bindingVersionNumber(), Polyipc.versionNumber());
    assertTrue(Polyipc.version().matches("\\d+\\.\\d+\\.\\d+"), Polyipc.version());
    assertEquals("POLYIPC_ERR_TIMEOUT", Polyipc.statusName(Status.TIMEOUT));
    IncompatibleException e = assertThrows(IncompatibleException.class,
        () -> NativeLoader.checkVersion(1000, 2003, "0.2.3", "/some/dir"));
    assertTrue(e.getMessage().contains("2003") && e.getMessage().contains("1000")
        && e.getMessage().contains("/some/dir"), e.getMessage());
  }

  @Test
  void statusNumbersMatchTheHeader() {
    int[] generated = {polyipc_status.POLYIPC_OK, polyipc_status.POLYIPC_ERR_TIMEOUT, polyipc_status.POLYIPC_ERR_EMPTY,
        polyipc_status.POLYIPC_ERR_FULL, polyipc_status.POLYIPC_ERR_CLOSED, polyipc_status.POLYIPC_ERR_NOT_FOUND,
        polyipc_status.POLYIPC_ERR_EXISTS, polyipc_status.POLYIPC_ERR_INVALID_ARG,
        polyipc_status.POLYIPC_ERR_INVALID_JSON, polyipc_status.POLYIPC_ERR_TOO_LARGE,
        polyipc_status.POLYIPC_ERR_PERMISSION, polyipc_status.POLYIPC_ERR_OWNER_DEAD,
        polyipc_status.POLYIPC_ERR_INCOMPATIBLE, polyipc_status.POLYIPC_ERR_NO_MEMORY,
        polyipc_status.POLYIPC_ERR_NOT_OWNER, polyipc_status.POLYIPC_ERR_BROKEN, polyipc_status.POLYIPC_ERR_SYSTEM,
        polyipc_status.POLYIPC_ERR_OUT_OF_RANGE};
    for (int code = 0; code < generated.length; ++code) {
      assertEquals(code, generated[code]);
      assertEquals(code, Status.fromCode(code).code());
      assertEquals("POLYIPC_" + (code == 0 ? "OK" : "ERR_" + Status.fromCode(code).name()),
          Polyipc.statusName(Status.fromCode(code)));
    }
    assertEquals(Order.PRIORITY.code, polyipc_queue_order.POLYIPC_PRIORITY);
    assertEquals(Format.BYTES.code, polyipc_format.POLYIPC_FORMAT_BYTES);
  }

  /** ctest passes the freshly built library: the jar must carry exactly that one. */
  @Test
  void theLoadedCoreIsTheFreshlyBuiltOne() throws Exception {
    NativeLoader.load();
    String built = System.getProperty("polyipc.test.core.library");
    if (built == null || built.isEmpty()) return; // run outside ctest
    Path loaded = Paths.get(NativeLoader.loadedFrom(), NativeLoader.CORE_LIBRARY);
    assertArrayEquals(Files.readAllBytes(Paths.get(built)), Files.readAllBytes(loaded),
        "the jar's libpolyipc differs from " + built + ": rebuild (cmake --build)");
  }
}
