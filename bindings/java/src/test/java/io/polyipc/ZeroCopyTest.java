package io.polyipc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.BufferOverflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.ReadOnlyBufferException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Zero copy: Queue.reserve (Reservation) and Queue.borrow (Borrowed). */
@Timeout(120)
class ZeroCopyTest {
  @RegisterExtension final TestNames names = new TestNames();
  private static final ObjectMapper JSON = new ObjectMapper();

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static String string(ByteBuffer b) {
    byte[] bytes = new byte[b.remaining()];
    b.duplicate().get(bytes);
    return new String(bytes, StandardCharsets.UTF_8);
  }

  /** reserve + write + commit. */
  private static void putZeroCopy(Queue q, byte[] message) throws InterruptedException {
    try (Reservation r = q.reserve(message.length)) {
      r.buffer().put(message);
      r.commit();
    }
  }

  private static long inFlight(Queue q) throws IOException {
    return JSON.readTree(q.statJson()).get("in_flight").asLong();
  }

  /** How many mappings of this process come from the object `name` (its file is /dev/shm/<prefix><name>). */
  private static long mappings(String name) throws IOException {
    return Files.readAllLines(Path.of("/proc/self/maps")).stream()
        .filter(l -> l.contains("/dev/shm/") && (l.endsWith(name) || l.endsWith(name + " (deleted)")))
        .count();
  }

  @Test
  void reservedBytesArriveAsOneMessage() throws Exception {
    try (Queue q = Queue.open(names.next("zc.rt"))) {
      byte[] message = utf8("{\"frame\":\"" + "f".repeat(100_000) + "\"}");
      try (Reservation r = q.reserve(message.length)) {
        assertEquals(message.length, r.length());
        ByteBuffer b = r.buffer();
        assertTrue(b.isDirect());
        assertFalse(b.isReadOnly());
        assertEquals(0, b.position());
        assertEquals(message.length, b.limit());
        assertEquals(message.length, b.capacity());
        assertEquals(0, q.size(), "not visible before the commit");
        assertEquals(1, inFlight(q));
        b.put(message, 0, 10);
        assertSame(b, r.buffer(), "the same buffer each call");
        r.buffer().put(message, 10, message.length - 10); // goes on where the first put stopped
        ByteBuffer copy = b.duplicate(); // a derived buffer: not emptied at the end
        r.commit();
        assertTrue(r.isEnded());
        assertEquals(0, b.limit(), "the end empties the guard's buffer");
        assertThrows(IndexOutOfBoundsException.class, () -> b.put(0, (byte) 'x'));
        assertThrows(BufferOverflowException.class, () -> b.put((byte) 'x'));
        assertEquals(message.length, copy.capacity());
        assertEquals(message[5], copy.get(5), "still mapped");
      }
      assertEquals(1, q.size());
      assertEquals(0, inFlight(q));
      assertArrayEquals(message, q.takeBytes());

      // Binary numbers in native order, as C would read them, through a view of the buffer.
      try (Queue bytes = Queue.builder(names.next("zc.bin")).format(Format.BYTES).open()) {
        try (Reservation r = bytes.reserve(16)) {
          r.buffer().order(ByteOrder.nativeOrder()).asLongBuffer().put(0, 42).put(1, -7);
          r.commit();
        }
        ByteBuffer got = ByteBuffer.wrap(bytes.takeBytes()).order(ByteOrder.nativeOrder());
        assertEquals(42, got.getLong(0));
        assertEquals(-7, got.getLong(8));
      }
    }
  }

  @Test
  void borrowedMessageIsReadInPlaceAndTheNextGoesToOthersMeanwhile() throws Exception {
    try (Queue q = Queue.open(names.next("zc.borrow"))) {
      putZeroCopy(q, utf8("{\"n\":1}"));
      q.put("{\"n\":2}");
      q.put("{\"n\":3}");
      assertEquals(3, q.size());
      Borrowed m = q.borrow();
      assertNotNull(m);
      assertEquals(7, m.length());
      ByteBuffer b = m.buffer();
      assertTrue(b.isDirect());
      assertTrue(b.isReadOnly());
      assertEquals(7, b.capacity());
      assertEquals("{\"n\":1}", string(b));
      assertThrows(ReadOnlyBufferException.class, () -> b.put(0, (byte) 'x'));
      assertThrows(ReadOnlyBufferException.class, () -> m.buffer().put((byte) 'x'));
      assertSame(b, m.buffer());
      assertEquals(2, q.size(), "taken, as a get takes it");
      assertEquals("{\"n\":2}", q.take(), "FIFO: the next message goes to the next getter meanwhile");
      assertEquals("{\"n\":1}", string(m.buffer()), "still in place");
      m.release();
      assertTrue(m.isReleased());
      assertEquals(0, b.limit(), "the release empties the guard's buffer");
      assertThrows(IndexOutOfBoundsException.class, () -> b.get(0));
      try (Borrowed n = q.borrow(Duration.ofSeconds(5))) {
        assertEquals("{\"n\":3}", string(n.buffer()));
      }
      assertEquals(0, q.size());
      assertEquals(0, inFlight(q));
      assertNull(q.poll());
      assertNull(q.borrow(Duration.ZERO), "nothing now");
    }
  }

  @Test
  void manyRoundsWrapTheRing() throws Exception {
    // 64 KiB ring, 2000 messages of ~1 KiB: the ring wraps dozens of times.
    try (Queue q = Queue.builder(names.next("zc.wrap")).format(Format.BYTES).capacityBytes(64 << 10).open()) {
      for (int i = 0; i < 2000; ++i) {
        byte[] message = new byte[900 + i % 200];
        Arrays.fill(message, (byte) ('a' + i % 26));
        putZeroCopy(q, message);
        try (Borrowed m = q.borrow(Duration.ZERO)) {
          assertNotNull(m, "message " + i);
          byte[] got = new byte[m.length()];
          m.buffer().get(got);
          assertArrayEquals(message, got, "message " + i);
        }
      }
      assertEquals(0, q.size());
    }
  }

  @Test
  void cancelDropsTheReservationAndItsRoomComesBack() throws Exception {
    try (Queue q = Queue.builder(names.next("zc.cancel")).format(Format.BYTES).capacityBytes(64 << 10).open()) {
      byte[] big = new byte[40 << 10]; // two do not fit the ring at once
      Arrays.fill(big, (byte) 'b');
      Reservation r = q.reserve(big.length, Duration.ZERO);
      assertNotNull(r);
      r.buffer().put(big);
      assertNull(q.reserve(big.length, Duration.ZERO), "the ring is held by the reservation");
      r.cancel();
      assertTrue(r.isEnded());
      assertEquals(0, q.size());
      assertNull(q.pollBytes(0, TimeUnit.SECONDS), "nothing of a cancelled reservation is seen");
      assertEquals(0, inFlight(q));
      putZeroCopy(q, big); // the room came back
      assertArrayEquals(big, q.takeBytes());
    }
  }

  @Test
  void closeOfTheGuardsCancelsOrReleasesOnlyWhatDidNotEnd() throws Exception {
    try (Queue q = Queue.open(names.next("zc.close"))) {
      try (Reservation r = q.reserve(4)) {
        r.buffer().put(utf8("[1,2"));
      } // closed uncommitted: cancelled
      assertEquals(0, q.size());
      assertEquals(0, inFlight(q));

      Reservation r = q.reserve(3);
      r.buffer().put(utf8("[3]"));
      r.commit();
      r.close(); // committed: nothing to do
      r.close(); // idempotent
      assertEquals(1, q.size());

      try (Borrowed m = q.borrow()) {
        assertEquals("[3]", string(m.buffer()));
        assertEquals(1, inFlight(q));
      } // closed: released
      assertEquals(0, q.size());
      assertEquals(0, inFlight(q));

      q.put("[4]");
      Borrowed m = q.borrow();
      m.release();
      m.close(); // released: nothing to do
      assertEquals(0, inFlight(q));
      assertNull(q.poll(), "a released message is gone for good");
    }
  }

  @Test
  void aSecondEndIsAnIllegalStateException() throws Exception {
    try (Queue q = Queue.open(names.next("zc.twice"))) {
      Reservation r = q.reserve(2);
      r.buffer().put(utf8("42"));
      r.commit();
      IllegalStateException e = assertThrows(IllegalStateException.class, r::commit);
      assertTrue(e.getMessage().contains("committed already"), e.getMessage());
      assertTrue(e.getMessage().contains(q.name()), e.getMessage());
      assertThrows(IllegalStateException.class, r::cancel);
      assertThrows(IllegalStateException.class, r::buffer);
      assertEquals(1, q.size(), "published once");

      Reservation c = q.reserve(2);
      c.cancel();
      e = assertThrows(IllegalStateException.class, c::cancel);
      assertTrue(e.getMessage().contains("cancelled already"), e.getMessage());
      assertThrows(IllegalStateException.class, c::commit);
      assertEquals(1, q.size());

      Borrowed m = q.borrow();
      assertEquals("42", string(m.buffer()));
      m.release();
      e = assertThrows(IllegalStateException.class, m::release);
      assertTrue(e.getMessage().contains("released already"), e.getMessage());
      assertThrows(IllegalStateException.class, m::buffer);
      assertEquals(0, q.size());
      assertEquals(0, inFlight(q));
      q.put("1"); // the queue is fine
      assertEquals("1", q.take());
    }
  }

  @Test
  void aJsonQueueDropsInvalidBytesAtCommit() throws Exception {
    try (Queue q = Queue.open(names.next("zc.json"))) {
      Reservation r = q.reserve(5);
      r.buffer().put(utf8("{\"a\":"));
      InvalidJsonException e = assertThrows(InvalidJsonException.class, r::commit);
      assertTrue(e.getMessage().toLowerCase().contains("invalid json"), e.getMessage());
      assertTrue(e.getMessage().contains(q.name()), e.getMessage());
      assertTrue(r.isEnded(), "dropped: the reservation ended");
      IllegalStateException again = assertThrows(IllegalStateException.class, r::commit);
      assertTrue(again.getMessage().contains("not valid JSON"), again.getMessage());
      r.close();
      assertEquals(0, q.size());
      assertEquals(0, inFlight(q));
      assertNull(q.poll());

      try (Reservation empty = q.reserve(0)) { // nothing is not JSON either
        assertThrows(InvalidJsonException.class, empty::commit);
      }
      putZeroCopy(q, utf8("[1,2,3]")); // still usable
      assertEquals("[1,2,3]", q.take());
    }
  }

  @Test
  void zeroLengthReservationsAndMessages() throws Exception {
    try (Queue q = Queue.builder(names.next("zc.zero")).format(Format.BYTES).open()) {
      try (Reservation r = q.reserve(0)) {
        assertEquals(0, r.length());
        assertEquals(0, r.buffer().capacity());
        assertTrue(r.buffer().isDirect());
        r.commit();
      }
      assertEquals(1, q.size());
      try (Borrowed m = q.borrow(Duration.ZERO)) {
        assertNotNull(m);
        assertEquals(0, m.length());
        assertEquals(0, m.buffer().remaining());
      }
      q.putBytes(new byte[0]);
      assertArrayEquals(new byte[0], q.takeBytes());
      assertEquals(0, q.size());
    }
  }

  @Test
  void aReservationLargerThanTheQueueCanHoldIsTooLarge() throws Exception {
    try (Queue q = Queue.open(names.next("zc.large"))) { // 1 MiB
      TooLargeException e = assertThrows(TooLargeException.class, () -> q.reserve(2 << 20));
      assertTrue(e.getMessage().contains(q.name()), e.getMessage());
      assertThrows(TooLargeException.class, () -> q.reserve(2 << 20, Duration.ofSeconds(10)));
      assertThrows(IllegalArgumentException.class, () -> q.reserve(-1));
      assertEquals(0, inFlight(q));
    }
    try (Queue q = Queue.builder(names.next("zc.max")).maxMessageBytes(100).open()) {
      assertThrows(TooLargeException.class, () -> q.reserve(101, Duration.ZERO));
      try (Reservation r = q.reserve(100, Duration.ZERO)) {
        assertNotNull(r);
      }
    }
  }

  @Test
  void reserveAndBorrowTimeOutAndHonourInterrupts() throws Exception {
    try (Queue q = Queue.builder(names.next("zc.full")).maxItems(1).open()) {
      q.put("1");
      assertNull(q.reserve(8, Duration.ZERO), "full now");
      long t0 = System.nanoTime();
      assertNull(q.reserve(8, Duration.ofMillis(150)), "full for the whole timeout");
      long waited = System.nanoTime() - t0;
      assertTrue(waited >= TimeUnit.MILLISECONDS.toNanos(140), "waited " + waited + " ns");
      assertNull(q.reserve(8, 100, TimeUnit.MILLISECONDS));
      assertNull(q.reserve(8, Duration.ofMillis(-5)), "a negative timeout does not wait");

      Thread.currentThread().interrupt();
      assertThrows(InterruptedException.class, () -> q.reserve(8));
      assertFalse(Thread.interrupted(), "the interrupt was consumed");

      assertEquals("1", q.take());
      try (Reservation r = q.reserve(1, Duration.ZERO)) { // a reservation counts toward maxItems
        assertNotNull(r);
        assertNull(q.reserve(1, Duration.ZERO));
        assertFalse(q.offer("2"));
      }
      try (Reservation r = q.reserve(1, Duration.ZERO)) {
        assertNotNull(r, "cancelled: room again");
      }
    }
    try (Queue q = Queue.open(names.next("zc.empty"))) {
      long t0 = System.nanoTime();
      assertNull(q.borrow(Duration.ofMillis(150)));
      assertTrue(System.nanoTime() - t0 >= TimeUnit.MILLISECONDS.toNanos(140));
      assertNull(q.borrow(50, TimeUnit.MILLISECONDS));
      Thread.currentThread().interrupt();
      assertThrows(InterruptedException.class, q::borrow);
      assertFalse(Thread.interrupted());
    }
  }

  @Test
  void endOfStreamAndJoinableQueues() throws Exception {
    try (Queue q = Queue.builder(names.next("zc.join")).joinable(true).open()) {
      putZeroCopy(q, utf8("7"));
      try (Borrowed m = q.borrow()) {
        assertEquals("7", string(m.buffer()));
      }
      assertFalse(q.join(1, TimeUnit.MILLISECONDS), "released, but not done yet");
      q.taskDone();
      assertTrue(q.join(Duration.ZERO));
      q.put("8");
      q.closeWrites();
      assertThrows(ClosedException.class, () -> q.reserve(1));
      try (Borrowed m = q.borrow()) { // what is left
        assertEquals("8", string(m.buffer()));
      }
      q.taskDone();
      assertThrows(ClosedException.class, () -> q.borrow(Duration.ofSeconds(1)), "end of stream");
    }
  }

  @Test
  void guardsAfterTheQueueHandleIsClosedAreCleanAndTheirBuffersStayMapped() throws Exception {
    String name = names.next("zc.after");
    Queue q = Queue.builder(name).format(Format.BYTES).open();
    q.putBytes(utf8("borrowed"));
    Borrowed m = q.borrow();
    Reservation r = q.reserve(8);
    ByteBuffer read = m.buffer().duplicate(); // derived buffers hold the mapping too
    ByteBuffer write = r.buffer().slice();
    ByteBuffer own = m.buffer();
    write.put(utf8("reserved"));
    assertEquals(2, inFlight(q));
    q.close();
    assertTrue(q.isClosed());

    // The guards: a clean exception for every use, none from close().
    assertThrows(HandleClosedException.class, r::commit);
    assertThrows(HandleClosedException.class, r::cancel);
    assertThrows(HandleClosedException.class, r::buffer);
    assertThrows(HandleClosedException.class, m::release);
    assertThrows(HandleClosedException.class, m::buffer);
    assertThrows(HandleClosedException.class, () -> q.reserve(1));
    assertThrows(HandleClosedException.class, () -> q.borrow(Duration.ZERO));
    r.close();
    m.close();
    assertTrue(r.isEnded(), "the queue's close() cancelled the reservation");
    assertTrue(m.isReleased(), "and released the borrowed message");

    // The buffers are still valid memory: no crash, and the bytes are where they were. (The guard's own
    // buffer was emptied when the close released the message: a clean exception.)
    assertEmptied(own);
    assertEquals("borrowed", string(read));
    write.put(0, (byte) 'R');
    assertEquals('R', write.get(0));
    assertTrue(mappings(name) > 0, "still mapped: buffers are reachable");

    try (Queue again = Queue.builder(name).openOnly().open()) {
      assertEquals(0, again.size(), "the borrowed message was released, the reservation cancelled");
      assertEquals(0, inFlight(again));
      assertNull(again.pollBytes(0, TimeUnit.SECONDS));
      again.putBytes(utf8("next")); // the ring is free again
      assertArrayEquals(utf8("next"), again.takeBytes());
    }

    read = null;
    write = null;
    own = null;
    r = null; // the guards hold their buffers too
    m = null;
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (mappings(name) != 0 && System.nanoTime() < deadline) {
      System.gc();
      Thread.sleep(10);
    }
    assertEquals(0, mappings(name), "unmapped once the buffers were collected");
  }

  @Test
  void closingTheQueueWhileThreadsUseZeroCopyIsClean() throws Exception {
    Queue q = Queue.builder(names.next("zc.race")).format(Format.BYTES).capacityBytes(64 << 10).open();
    int threads = 4;
    CountDownLatch warmedUp = new CountDownLatch(threads);
    List<Throwable> unexpected = Collections.synchronizedList(new ArrayList<>());
    List<Thread> workers = new ArrayList<>();
    for (int t = 0; t < threads; ++t) {
      final byte fill = (byte) ('a' + t);
      Thread w = new Thread(() -> {
        ByteBuffer last = null; // used after the close too
        try {
          for (int round = 0;; ++round) {
            if (round == 100) warmedUp.countDown();
            Reservation r = q.reserve(1000, Duration.ofMillis(20));
            if (r != null) {
              try (r) {
                last = r.buffer().slice(); // not emptied at the end: still usable memory
                while (last.hasRemaining()) last.put(fill);
                r.commit();
              }
            }
            try (Borrowed m = q.borrow(Duration.ofMillis(20))) {
              if (m != null) {
                last = m.buffer().slice();
                byte first = last.get(0);
                for (int i = 1; i < m.length(); ++i) {
                  if (last.get(i) != first) throw new AssertionError("a torn message");
                }
              }
            }
          }
        } catch (HandleClosedException | IndexOutOfBoundsException expected) {
          // the close, or a guard's buffer emptied by the close between buffer() and slice()
          if (last != null && last.capacity() > 0) last.get(0); // still mapped
        } catch (Throwable e) {
          unexpected.add(e);
        } finally {
          warmedUp.countDown();
        }
      }, "zero-copy-" + t);
      w.start();
      workers.add(w);
    }
    assertTrue(warmedUp.await(60, TimeUnit.SECONDS), "the workers got going");
    q.close();
    for (Thread w : workers) {
      w.join(TimeUnit.SECONDS.toMillis(30));
      assertFalse(w.isAlive(), w.getName() + " ended");
    }
    assertTrue(unexpected.isEmpty(), unexpected.toString());
    try (Queue again = Queue.builder(q.name()).openOnly().open()) {
      assertEquals(0, inFlight(again), "the close cancelled and released what was open");
    }
  }

  private static void assertEmptied(ByteBuffer b) {
    assertEquals(0, b.limit());
    assertThrows(IndexOutOfBoundsException.class, () -> b.get(0));
  }

  /** Leaves an unended reservation behind, unreachable. */
  private static void dropAReservation(Queue q, int length) throws InterruptedException {
    Reservation r = q.reserve(length, Duration.ZERO);
    assertNotNull(r);
    r.buffer().put(0, (byte) 1);
  }

  /** Leaves an unreleased borrowed message behind, unreachable. */
  private static void dropABorrowedMessage(Queue q) throws InterruptedException {
    Borrowed m = q.borrow(Duration.ZERO);
    assertNotNull(m);
    m.buffer().get(0);
  }

  @Test
  void droppedGuardsAreEndedByTheGarbageCollector() throws Exception {
    try (Queue q = Queue.builder(names.next("zc.gc")).format(Format.BYTES).capacityBytes(64 << 10).open()) {
      dropAReservation(q, 40 << 10);
      q.putBytes(new byte[] {5});
      dropABorrowedMessage(q);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (inFlight(q) != 0 && System.nanoTime() < deadline) {
        System.gc();
        Thread.sleep(10);
      }
      assertEquals(0, inFlight(q), "cancelled and released by the Cleaner");
      assertEquals(0, q.size(), "the reservation was not published, the borrowed message not given back");
      try (Reservation r = q.reserve(40 << 10, Duration.ZERO)) {
        assertNotNull(r, "the room came back");
      }
    }
  }

  // ---- processes ------------------------------------------------------------------------------------

  @Test
  void aKilledBorrowerGivesTheMessageBack() throws Exception {
    try (Queue q = Queue.builder(names.next("zc.kill")).format(Format.BYTES).capacityBytes(64 << 10).open()) {
      byte[] big = new byte[40 << 10]; // two do not fit the ring at once
      Arrays.fill(big, (byte) 'b');
      putZeroCopy(q, big);
      try (ChildProcess child = ChildProcess.start("borrow-hold", q.name())) {
        assertEquals("borrowed " + big.length + " " + (int) 'b', child.nextLine(60, TimeUnit.SECONDS));
        assertEquals(0, q.size(), "the child has it");
        child.kill(); // SIGKILL before the release
      }
      byte[] got = q.pollBytes(10, TimeUnit.SECONDS);
      assertNotNull(got, "the dead borrower's message came back");
      assertArrayEquals(big, got);
      assertTrue(JSON.readTree(q.statJson()).get("counters").get("redeliveries").asLong() >= 1);

      try (ChildProcess child = ChildProcess.start("reserve-hold", q.name(), Integer.toString(big.length))) {
        assertEquals("reserved " + big.length, child.nextLine(60, TimeUnit.SECONDS));
        child.kill(); // SIGKILL with the reservation half written
      }
      assertNull(q.pollBytes(0, TimeUnit.SECONDS), "nothing half-written shows");
      Reservation r = q.reserve(big.length, Duration.ofSeconds(10)); // its room comes back
      assertNotNull(r, "the dead reserver's room came back");
      r.buffer().put(big);
      r.commit();
      assertArrayEquals(big, q.takeBytes());
    }
  }
}
