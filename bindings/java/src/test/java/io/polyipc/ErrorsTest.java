package io.polyipc;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

@Timeout(60)
class ErrorsTest {
  @RegisterExtension final TestNames names = new TestNames();

  @Test
  void malformedJsonRaisesInvalidJsonWithTheMessageAndLeavesTheQueueAsItWas() throws Exception {
    String name = names.next("badjson");
    try (Queue q = Queue.open(name)) {
      q.put("{\"ok\":true}");
      for (String bad : new String[] {"{\"a\":", "not json", "{\"a\":1}}", "", "[1,2", "{'a':1}"}) {
        InvalidJsonException e = assertThrows(InvalidJsonException.class, () -> q.put(bad), bad);
        assertEquals(Status.INVALID_JSON, e.status());
        assertTrue(e.getMessage().contains(name), e.getMessage());
        assertTrue(e.getMessage().toLowerCase().contains("json"), e.getMessage());
        assertThrows(InvalidJsonException.class, () -> q.offer(bad));
        assertThrows(InvalidJsonException.class, () -> q.offer(bad, 10, TimeUnit.MILLISECONDS));
      }
      // a large malformed message too (the JNI glue copies those to the heap)
      assertThrows(InvalidJsonException.class, () -> q.put("[" + "1,".repeat(5000)));
      assertEquals(1, q.size());
      assertEquals("{\"ok\":true}", q.take());
      assertNull(q.poll());
    }
  }

  @Test
  void badNamesAreInvalidArguments() {
    String tooLong = "n".repeat(201);
    for (String bad : new String[] {"", "a/b", "..", "../etc", "with space", tooLong, "nul\0x", "é"}) {
      InvalidArgumentException e = assertThrows(InvalidArgumentException.class, () -> Queue.open(bad), bad);
      assertEquals(Status.INVALID_ARG, e.status());
      assertTrue(e.getMessage().length() > 0);
    }
    assertThrows(NullPointerException.class, () -> Queue.open(null));
    assertThrows(InvalidArgumentException.class, () -> Polyipc.unlink("a/b"));
  }

  @Test
  void useAfterCloseIsACleanErrorNamingTheQueue() throws Exception {
    String name = names.next("closed");
    Queue q = Queue.open(name);
    q.put("1");
    q.close();
    q.close(); // idempotent
    assertTrue(q.isClosed());
    HandleClosedException e = assertThrows(HandleClosedException.class, () -> q.put("2"));
    assertTrue(e.getMessage().contains(name), e.getMessage());
    assertInstanceOf(PolyipcException.class, e);
    assertThrows(HandleClosedException.class, q::take);
    assertThrows(HandleClosedException.class, q::poll);
    assertThrows(HandleClosedException.class, () -> q.poll(1, TimeUnit.SECONDS));
    assertThrows(HandleClosedException.class, q::size);
    assertThrows(HandleClosedException.class, q::peek);
    assertThrows(HandleClosedException.class, q::taskDone);
    assertThrows(HandleClosedException.class, q::closeWrites);
    assertThrows(HandleClosedException.class, q::statJson);
    assertThrows(HandleClosedException.class, () -> q.join(1, TimeUnit.MILLISECONDS));
    assertTrue(q.toString().contains("closed"));
    try (Queue again = Queue.open(name)) { // the queue itself is still there
      assertEquals("1", again.take());
    }
  }

  @Test
  void closeWritesEndsTheStreamAfterTheGettersDrainIt() throws Exception {
    try (Queue q = Queue.open(names.next("eos")); Queue other = Queue.open(q.name())) {
      q.put("1");
      q.put("2");
      other.closeWrites();
      ClosedException e = assertThrows(ClosedException.class, () -> q.put("3"));
      assertEquals(Status.CLOSED, e.status());
      assertEquals("1", q.take());
      assertEquals("2", q.poll());
      assertThrows(ClosedException.class, q::take);
      assertThrows(ClosedException.class, q::poll);
      assertThrows(ClosedException.class, () -> q.poll(1, TimeUnit.SECONDS));
      assertEquals(0, q.drainTo(new java.util.ArrayList<>()));
      assertDoesNotThrow(q::closeWrites);
    }
  }

  @Test
  void joinableOperationsOnAPlainQueueAreInvalid() {
    try (Queue q = Queue.open(names.next("plain"))) {
      assertThrows(InvalidArgumentException.class, q::taskDone);
      assertThrows(InvalidArgumentException.class, () -> q.join(10, TimeUnit.MILLISECONDS));
    }
  }

  @Test
  void taskDoneWithNothingOutstandingIsInvalid() {
    try (Queue q = Queue.builder(names.next("extra")).joinable(true).open()) {
      PolyipcException e = assertThrows(PolyipcException.class, q::taskDone);
      assertTrue(e.getMessage().contains(q.name()), e.getMessage());
    }
  }

  @Test
  void nullsAreRejectedBeforeNativeCode() {
    try (Queue q = Queue.open(names.next("nulls"))) {
      assertThrows(NullPointerException.class, () -> q.put(null));
      assertThrows(NullPointerException.class, () -> q.offer(null));
      assertThrows(NullPointerException.class, () -> q.putBytes(null));
      assertThrows(NullPointerException.class, () -> q.poll(1, null));
    }
  }

  @Test
  void builderRejectsImpossibleOptions() {
    Queue.Builder b = Queue.builder(names.next("opts"));
    assertThrows(IllegalArgumentException.class, () -> b.maxItems(-1));
    assertThrows(IllegalArgumentException.class, () -> b.mode(01000));
    assertThrows(NullPointerException.class, () -> b.order(null));
  }

  @Test
  void exceptionsCarryTheirStatus() {
    for (Status s : Status.values()) {
      PolyipcException e = PolyipcException.fromNative(s.code(), "m é".getBytes(java.nio.charset.StandardCharsets.UTF_8));
      assertEquals(s, e.status());
      assertTrue(e.getMessage().startsWith("m é"), e.getMessage());
    }
    assertInstanceOf(PolyipcTimeoutException.class, PolyipcException.fromNative(1, new byte[0]));
    assertInstanceOf(OwnerDeadException.class, PolyipcException.fromNative(11, new byte[0]));
    assertEquals(Status.UNKNOWN, PolyipcException.fromNative(99, new byte[0]).status());
    // a message cut in the middle of a UTF-8 character still decodes
    byte[] cut = {'a', (byte) 0xc3};
    assertTrue(PolyipcException.fromNative(5, cut).getMessage().startsWith("a"));
  }
}
