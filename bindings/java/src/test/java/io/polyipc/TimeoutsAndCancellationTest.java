package io.polyipc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

@Timeout(60)
class TimeoutsAndCancellationTest {
  @RegisterExtension final TestNames names = new TestNames();

  /** How fast a blocked call must notice an interrupt or close: the 50 ms slice plus scheduling slack. */
  private static final long CANCEL_BOUND_MS = 200;

  private static long ms(long nanos) {
    return TimeUnit.NANOSECONDS.toMillis(nanos);
  }

  @Test
  void pollAndOfferAnswerNullAndFalseWhenTheTimeRunsOut() throws Exception {
    try (Queue q = Queue.builder(names.next("timeouts")).maxItems(1).open()) {
      long t0 = System.nanoTime();
      assertNull(q.poll(150, TimeUnit.MILLISECONDS));
      long waited = ms(System.nanoTime() - t0);
      assertTrue(waited >= 140 && waited < 2000, "poll waited " + waited + " ms");
      assertNull(q.poll(0, TimeUnit.SECONDS));
      assertNull(q.poll(-5, TimeUnit.SECONDS));

      q.put("1");
      t0 = System.nanoTime();
      assertFalse(q.offer("2", 120, TimeUnit.MILLISECONDS));
      waited = ms(System.nanoTime() - t0);
      assertTrue(waited >= 110 && waited < 2000, "offer waited " + waited + " ms");
      assertFalse(q.offer("2", 0, TimeUnit.MILLISECONDS));
    }
  }

  @Test
  void aWaitingPollReceivesWhatAnotherThreadPuts() throws Exception {
    try (Queue q = Queue.open(names.next("handoff"))) {
      CompletableFuture<String> got = CompletableFuture.supplyAsync(() -> {
        try {
          return q.poll(20, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          throw new RuntimeException(e);
        }
      });
      q.put("{\"hello\":1}");
      assertEquals("{\"hello\":1}", got.get(20, TimeUnit.SECONDS));
    }
  }

  /** Blocks `call` on a thread, waits until it is inside native code, interrupts it and times the answer. */
  private static long interruptAndTime(String nativeMethod, Blocking call) throws Exception {
    AtomicLong caughtAt = new AtomicLong();
    List<Throwable> outcome = Collections.synchronizedList(new ArrayList<>());
    CountDownLatch done = new CountDownLatch(1);
    Thread t = new Thread(() -> {
      try {
        call.run();
        outcome.add(new AssertionError("returned instead of being interrupted"));
      } catch (Throwable e) {
        caughtAt.set(System.nanoTime());
        outcome.add(e);
      } finally {
        done.countDown();
      }
    });
    t.start();
    awaitInNative(t, nativeMethod);
    long t0 = System.nanoTime();
    t.interrupt();
    assertTrue(done.await(10, TimeUnit.SECONDS), "the interrupted call never returned");
    assertInstanceOf(InterruptedException.class, outcome.get(0));
    long ms = ms(caughtAt.get() - t0);
    System.out.println("interrupt of " + nativeMethod + " answered after " + ms + " ms");
    return ms;
  }

  interface Blocking {
    void run() throws Exception;
  }

  /** Polls the thread's stack until it is inside polyipc_nativeJNI.<method> (bounded). */
  static void awaitInNative(Thread t, String method) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (System.nanoTime() < deadline) {
      for (StackTraceElement f : t.getStackTrace()) {
        if (f.getClassName().endsWith("polyipc_nativeJNI") && f.getMethodName().equals(method)) return;
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
    }
    fail("thread never reached " + method);
  }

  @Test
  void takeHonoursInterruptPromptly() throws Exception {
    try (Queue q = Queue.open(names.next("take-int"))) {
      long ms = interruptAndTime("NativeQueue_get", q::take);
      assertTrue(ms < CANCEL_BOUND_MS, "take noticed the interrupt after " + ms + " ms");
      ms = interruptAndTime("NativeQueue_get", () -> q.poll(30, TimeUnit.SECONDS));
      assertTrue(ms < CANCEL_BOUND_MS, "poll noticed the interrupt after " + ms + " ms");
    }
  }

  @Test
  void putOnAFullQueueHonoursInterruptPromptly() throws Exception {
    try (Queue q = Queue.builder(names.next("put-int")).maxItems(1).open()) {
      q.put("1");
      long ms = interruptAndTime("NativeQueue_put", () -> q.put("2"));
      assertTrue(ms < CANCEL_BOUND_MS, "put noticed the interrupt after " + ms + " ms");
      ms = interruptAndTime("NativeQueue_put", () -> q.offer("2", 30, TimeUnit.SECONDS));
      assertTrue(ms < CANCEL_BOUND_MS, "offer noticed the interrupt after " + ms + " ms");
      assertEquals(1, q.size());
    }
  }

  @Test
  void joinHonoursInterruptPromptly() throws Exception {
    try (Queue q = Queue.builder(names.next("join-int")).joinable(true).open()) {
      q.put("1");
      long ms = interruptAndTime("NativeQueue_join", q::join);
      assertTrue(ms < CANCEL_BOUND_MS, "join noticed the interrupt after " + ms + " ms");
    }
  }

  @Test
  void anInterruptedThreadDoesNotBlockAtAll() {
    try (Queue q = Queue.open(names.next("pre-int"))) {
      Thread.currentThread().interrupt();
      try {
        q.take();
        fail("take on an interrupted thread returned");
      } catch (InterruptedException expected) {
        assertFalse(Thread.currentThread().isInterrupted()); // the convention: the status is cleared
      }
    }
  }

  @Test
  void closeWakesABlockedTakeWithAHandleClosedError() throws Exception {
    Queue q = Queue.open(names.next("close-wakes"));
    CompletableFuture<Object> taker = new CompletableFuture<>();
    Thread t = new Thread(() -> {
      try {
        taker.complete(q.take());
      } catch (Throwable e) {
        taker.complete(e);
      }
    });
    t.start();
    awaitInNative(t, "NativeQueue_get");
    long t0 = System.nanoTime();
    q.close();
    Object result = taker.get(10, TimeUnit.SECONDS);
    long waited = ms(System.nanoTime() - t0);
    assertInstanceOf(HandleClosedException.class, result);
    assertTrue(waited < CANCEL_BOUND_MS, "close took " + waited + " ms");
  }

  @Test
  void oneHandleServesManyThreads() throws Exception {
    int threads = 4;
    int each = 500;
    try (Queue q = Queue.builder(names.next("threads")).maxItems(64).open()) {
      List<CompletableFuture<Void>> producers = new ArrayList<>();
      for (int p = 0; p < threads; ++p) {
        int id = p;
        producers.add(CompletableFuture.runAsync(() -> {
          try {
            for (int i = 0; i < each; ++i) q.put("[" + id + "," + i + "]");
          } catch (InterruptedException e) {
            throw new RuntimeException(e);
          }
        }));
      }
      Set<String> seen = Collections.synchronizedSet(new HashSet<>());
      List<Thread> consumers = new ArrayList<>();
      for (int c = 0; c < threads; ++c) {
        Thread t = new Thread(() -> {
          try {
            for (String m; (m = q.poll(5, TimeUnit.SECONDS)) != null; ) {
              if (!seen.add(m)) throw new AssertionError("delivered twice: " + m);
              if (seen.size() == threads * each) return;
            }
          } catch (ClosedException endOfStream) {
            // done
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        });
        consumers.add(t);
        t.start();
      }
      for (CompletableFuture<Void> f : producers) {
        try {
          f.get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
          throw new AssertionError(e.getCause());
        }
      }
      q.closeWrites(); // lets the consumers still waiting see the end of the stream
      for (Thread t : consumers) {
        t.join(TimeUnit.SECONDS.toMillis(30));
        assertFalse(t.isAlive());
      }
      assertEquals(threads * each, seen.size());
    }
  }
}
