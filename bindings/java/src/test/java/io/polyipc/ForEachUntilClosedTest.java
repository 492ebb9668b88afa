package io.polyipc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Queue.forEachUntilClosed / forEachBytesUntilClosed: the consuming loop that ends at end of stream. */
@Timeout(120)
class ForEachUntilClosedTest {
  @RegisterExtension final TestNames names = new TestNames();
  private static final ObjectMapper JSON = new ObjectMapper();

  /** How fast a blocked loop must notice an interrupt or close: the 50 ms slice plus scheduling slack. */
  private static final long CANCEL_BOUND_MS = 200;

  private static JsonNode json(String m) {
    try {
      return JSON.readTree(m);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A stop signal thrown by an action, to break out of the loop. */
  private static final class Stop extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Stop() {
      super("stop", null, false, false);
    }
  }

  // (1) another process puts N then closes for writing: exactly those N, in FIFO order, then the end.

  @Test
  void yieldsEverythingAnotherProcessPutsInOrderThenEndsAtCloseWrites() throws Exception {
    final int n = 200;
    try (Queue q = Queue.open(names.next("fe-xproc"));
        ChildProcess child = ChildProcess.start("produce-close", q.name(), Integer.toString(n))) {
      List<String> got = new ArrayList<>();
      long handled = q.forEachUntilClosed(got::add); // runs while the child is still putting
      assertEquals(n, handled, "child said:\n" + child.output());
      assertEquals(n, got.size());
      for (int k = 0; k < n; ++k) {
        JsonNode node = json(got.get(k));
        assertEquals(k, node.get("i").asInt(), "message " + k + " out of order: " + got.get(k));
        assertEquals(child.pid(), node.get("pid").asLong());
      }
      assertEquals("produced " + n + " and closed", child.nextLine(30, TimeUnit.SECONDS));
      assertEquals(0, child.waitFor(30, TimeUnit.SECONDS));
      assertThrows(ClosedException.class, q::take, "the stream stays ended");
    }
  }

  @Test
  void bytesTwinYieldsEverythingAnotherProcessPutsOnABytesQueue() throws Exception {
    final int n = 150;
    try (Queue q = Queue.builder(names.next("fe-xproc-bytes")).format(Format.BYTES).open();
        ChildProcess child = ChildProcess.start("produce-close", q.name(), Integer.toString(n))) {
      List<byte[]> got = new ArrayList<>();
      assertEquals(n, q.forEachBytesUntilClosed(got::add), "child said:\n" + child.output());
      for (int k = 0; k < n; ++k) {
        byte[] expected = ("{\"i\":" + k + ",\"pid\":" + child.pid() + "}").getBytes(StandardCharsets.UTF_8);
        assertArrayEquals(expected, got.get(k), "message " + k);
      }
      assertEquals(0, child.waitFor(30, TimeUnit.SECONDS));
    }
  }

  // (2) a queue already closed and drained: the loop ends at once, with nothing.

  @Test
  void endsAtOnceWithNothingOnAClosedDrainedQueue() throws Exception {
    try (Queue q = Queue.open(names.next("fe-drained"))) {
      q.put("1");
      q.closeWrites();
      assertEquals("1", q.take());
      AtomicLong calls = new AtomicLong();
      long t0 = System.nanoTime();
      assertEquals(0, q.forEachUntilClosed(m -> calls.incrementAndGet()));
      assertEquals(0, q.forEachBytesUntilClosed(m -> calls.incrementAndGet()));
      long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
      assertEquals(0, calls.get(), "the action was never called");
      assertTrue(ms < 1000, "an ended stream must not wait; both loops took " + ms + " ms");
    }
  }

  @Test
  void takesWhatIsLeftAfterCloseWritesThenEnds() throws Exception {
    try (Queue q = Queue.open(names.next("fe-left"))) {
      for (int i = 0; i < 5; ++i) q.put(Integer.toString(i));
      q.closeWrites();
      List<String> got = new ArrayList<>();
      assertEquals(5, q.forEachUntilClosed(got::add));
      assertEquals(List.of("0", "1", "2", "3", "4"), got);
    }
  }

  // (3) breaking out after k messages loses nothing: the next get takes message k+1.

  @Test
  void breakingOutAfterKLeavesTheRestInTheQueue() throws Exception {
    final int n = 10;
    final int k = 4;
    try (Queue q = Queue.open(names.next("fe-break"))) {
      for (int i = 0; i < n; ++i) q.put(Integer.toString(i));
      List<String> got = new ArrayList<>();
      Stop stop = new Stop();
      Stop thrown = assertThrows(Stop.class, () -> q.forEachUntilClosed(m -> {
        got.add(m);
        if (got.size() == k) throw stop;
      }));
      assertSame(stop, thrown, "the action's exception propagates as is");
      assertEquals(List.of("0", "1", "2", "3"), got, "the message given to the throwing action was taken");
      assertEquals(n - k, q.size(), "nothing was taken ahead");
      assertEquals(Integer.toString(k), q.take(), "the next get takes message k+1");
      q.closeWrites();
      List<byte[]> rest = new ArrayList<>();
      assertEquals(n - k - 1, q.forEachBytesUntilClosed(rest::add), "a second loop takes up the rest");
      assertEquals("5", new String(rest.get(0), StandardCharsets.UTF_8));
      assertEquals("9", new String(rest.get(rest.size() - 1), StandardCharsets.UTF_8));
    }
  }

  @Test
  void aClosedExceptionThrownByTheActionPropagatesAndIsNotTakenForTheEnd() throws Exception {
    try (Queue q = Queue.open(names.next("fe-action-closed"));
        Queue other = Queue.open(names.next("fe-other"))) {
      other.closeWrites();
      q.put("1");
      q.put("2");
      // the action forwards to a queue closed for writing: its ClosedException is the action's failure
      assertThrows(ClosedException.class, () -> q.forEachUntilClosed(other::add));
      assertEquals(1, q.size(), "the loop stopped at the first message");
      assertEquals("2", q.poll());
    }
  }

  // (4) a joinable queue: each message is a lease; taskDone each, and join returns.

  @Test
  void onAJoinableQueueEachMessageIsALeaseAndJoinReturns() throws Exception {
    final int n = 100;
    try (Queue q = Queue.builder(names.next("fe-join")).joinable(true).open()) {
      for (int i = 0; i < n; ++i) q.put(Integer.toString(i));
      q.closeWrites();
      assertFalse(q.join(Duration.ZERO), "work is outstanding before the loop");
      AtomicLong leased = new AtomicLong();
      long handled = q.forEachUntilClosed(m -> {
        if (m.equals(Integer.toString(n - 1))) {
          // the last message: nothing is left in the queue, but join must still wait for this lease
          assertEquals(0, q.size());
          try {
            if (!q.join(Duration.ZERO)) leased.incrementAndGet();
          } catch (InterruptedException e) {
            throw new AssertionError(e);
          }
        }
        q.taskDone(m);
      });
      assertEquals(n, handled);
      assertEquals(1, leased.get(), "the message in hand was a lease until taskDone");
      assertTrue(q.join(10, TimeUnit.SECONDS), "join returns: every message was marked done");
    }
  }

  // (5) cancellation: Thread.interrupt() ends a loop blocked on an empty queue with InterruptedException.

  /** Runs the loop on a thread, feeds it 3 messages, then interrupts it once it waits on the empty queue. */
  private static void assertInterruptEndsLoop(Queue q, boolean bytes) throws Exception {
    for (int i = 0; i < 3; ++i) q.put(Integer.toString(i));
    AtomicLong handled = new AtomicLong();
    AtomicBoolean interruptStatusAfter = new AtomicBoolean(true);
    AtomicLong caughtAt = new AtomicLong();
    CompletableFuture<Throwable> outcome = new CompletableFuture<>();
    CountDownLatch threeHandled = new CountDownLatch(3);
    Thread t = new Thread(() -> {
      try {
        if (bytes) {
          q.forEachBytesUntilClosed(m -> {
            handled.incrementAndGet();
            threeHandled.countDown();
          });
        } else {
          q.forEachUntilClosed(m -> {
            handled.incrementAndGet();
            threeHandled.countDown();
          });
        }
        outcome.complete(new AssertionError("the loop returned instead of being interrupted"));
      } catch (Throwable e) {
        caughtAt.set(System.nanoTime());
        interruptStatusAfter.set(Thread.currentThread().isInterrupted());
        outcome.complete(e);
      }
    }, "for-each-until-closed");
    t.start();
    assertTrue(threeHandled.await(20, TimeUnit.SECONDS), "the loop never handled the 3 messages");
    TimeoutsAndCancellationTest.awaitInNative(t, "NativeQueue_get"); // blocked on the now empty queue
    long t0 = System.nanoTime();
    t.interrupt();
    Throwable e = outcome.get(10, TimeUnit.SECONDS);
    assertInstanceOf(InterruptedException.class, e);
    long ms = TimeUnit.NANOSECONDS.toMillis(caughtAt.get() - t0);
    assertTrue(ms < CANCEL_BOUND_MS, "the loop noticed the interrupt after " + ms + " ms");
    assertFalse(interruptStatusAfter.get(), "the interrupt status is cleared, as take() does");
    assertEquals(3, handled.get());
    t.join(TimeUnit.SECONDS.toMillis(10));
    assertFalse(t.isAlive());
    // The queue still works: nothing was lost or taken ahead.
    q.put("\"after\"");
    assertEquals("\"after\"", q.poll());
    assertNull(q.poll());
  }

  @Test
  void interruptEndsALoopBlockedOnAnEmptyQueue() throws Exception {
    try (Queue q = Queue.open(names.next("fe-int"))) {
      assertInterruptEndsLoop(q, false);
    }
  }

  @Test
  void interruptEndsABytesLoopBlockedOnAnEmptyQueue() throws Exception {
    try (Queue q = Queue.builder(names.next("fe-int-bytes")).format(Format.BYTES).open()) {
      assertInterruptEndsLoop(q, true);
    }
  }

  @Test
  void anInterruptedThreadDoesNotEnterTheLoop() throws Exception {
    try (Queue q = Queue.open(names.next("fe-pre-int"))) {
      q.put("1");
      Thread.currentThread().interrupt();
      AtomicLong calls = new AtomicLong();
      assertThrows(InterruptedException.class, () -> q.forEachUntilClosed(m -> calls.incrementAndGet()));
      assertFalse(Thread.currentThread().isInterrupted(), "the status is cleared");
      assertEquals(0, calls.get());
      assertEquals("1", q.poll(), "nothing was taken");
    }
  }

  @Test
  void closingTheHandleEndsABlockedLoopWithHandleClosedException() throws Exception {
    Queue q = Queue.open(names.next("fe-close"));
    CompletableFuture<Object> outcome = new CompletableFuture<>();
    Thread t = new Thread(() -> {
      try {
        outcome.complete(q.forEachUntilClosed(m -> {}));
      } catch (Throwable e) {
        outcome.complete(e);
      }
    });
    t.start();
    TimeoutsAndCancellationTest.awaitInNative(t, "NativeQueue_get");
    q.close();
    assertInstanceOf(HandleClosedException.class, outcome.get(10, TimeUnit.SECONDS),
        "a closed handle is an error, not the end of the stream");
  }

  @Test
  void iteratorStaysUnsupported() {
    try (Queue q = Queue.open(names.next("fe-iter"))) {
      assertThrows(UnsupportedOperationException.class, q::iterator);
    }
  }
}
