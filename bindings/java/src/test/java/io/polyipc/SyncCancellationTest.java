package io.polyipc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Every blocking wait of the sync classes notices Thread.interrupt() (and close) within about a slice. */
@Timeout(60)
class SyncCancellationTest {
  @RegisterExtension final TestNames names = new TestNames();

  private static final long CANCEL_BOUND_MS = 300;

  interface Blocking {
    void run() throws Exception;
  }

  /** Runs `call` on a thread until it is inside nativeMethod, interrupts it, returns what it threw and when. */
  private static Throwable interrupt(String nativeMethod, Blocking call, AtomicLong ms) throws Exception {
    CompletableFuture<Throwable> outcome = new CompletableFuture<>();
    AtomicLong caughtAt = new AtomicLong();
    Thread t = new Thread(() -> {
      try {
        call.run();
        outcome.complete(null);
      } catch (Throwable e) {
        caughtAt.set(System.nanoTime());
        outcome.complete(e);
      }
    });
    t.start();
    TimeoutsAndCancellationTest.awaitInNative(t, nativeMethod);
    long t0 = System.nanoTime();
    t.interrupt();
    Throwable e = outcome.get(10, TimeUnit.SECONDS);
    ms.set(TimeUnit.NANOSECONDS.toMillis(caughtAt.get() - t0));
    return e;
  }

  private void assertInterruptedPromptly(String nativeMethod, Blocking call) throws Exception {
    AtomicLong ms = new AtomicLong();
    Throwable e = interrupt(nativeMethod, call, ms);
    assertInstanceOf(InterruptedException.class, e, nativeMethod);
    assertTrue(ms.get() < CANCEL_BOUND_MS, nativeMethod + ": the interrupt was noticed after " + ms + " ms");
  }

  @Test
  void lockWaitsAreInterruptibleWhereTheJdkOnesAre() throws Exception {
    String name = names.next("lock-int");
    try (Lock lock = Lock.open(name); ChildProcess holder = ChildProcess.start("hold-lock", name)) {
      assertEquals("holding", holder.nextLine(30, TimeUnit.SECONDS));
      assertInterruptedPromptly("NativeLock_acquire", lock::lockInterruptibly);
      assertInterruptedPromptly("NativeLock_acquire", () -> lock.tryLock(30, TimeUnit.SECONDS));
      assertInterruptedPromptly("NativeLock_acquire", lock::acquireReportingOwnerDeath);
      // lock() is not interruptible: it keeps waiting, with the interrupt left pending
      CompletableFuture<Boolean> got = new CompletableFuture<>();
      Thread t = new Thread(() -> {
        lock.lock();
        boolean pending = Thread.currentThread().isInterrupted();
        lock.unlock();
        got.complete(pending);
      });
      t.start();
      TimeoutsAndCancellationTest.awaitInNative(t, "NativeLock_acquire");
      t.interrupt();
      assertFalse(got.isDone());
      holder.kill(); // its lock passes to the waiting lock()
      assertTrue(got.get(20, TimeUnit.SECONDS), "lock() returned with the interrupt still pending");
    }
  }

  @Test
  void semaphoreEventAndConditionWaitsAreInterruptible() throws Exception {
    try (Semaphore s = Semaphore.open(names.next("sem-int"), 0);
        Event e = Event.open(names.next("event-int"));
        Condition c = Condition.open(names.next("cond-int"))) {
      names.also(c.name() + ".lock");
      assertInterruptedPromptly("NativeSemaphore_acquire", s::acquire);
      assertInterruptedPromptly("NativeSemaphore_acquire", () -> s.tryAcquire(2, 30, TimeUnit.SECONDS));
      assertEquals(0, s.availablePermits());
      assertInterruptedPromptly("NativeEvent_wait_since", e::await);
      assertInterruptedPromptly("NativeEvent_wait_since", () -> e.await(30, TimeUnit.SECONDS));
      AtomicLong held = new AtomicLong(-1);
      assertInterruptedPromptly("NativeCondition_wait_ns", () -> {
        c.lock();
        try {
          c.await();
        } finally {
          held.set(c.tryLock() ? 1 : 0); // a Lock: tryLock by its holder answers false
          c.unlock(); // throws NotOwner if await had not taken the lock back
        }
      });
      assertEquals(0, held.get());
      assertInterruptedPromptly("NativeCondition_wait_ns", () -> {
        c.lock();
        try {
          c.waitFor(() -> false, 30, TimeUnit.SECONDS);
        } finally {
          c.unlock();
        }
      });
    }
  }

  @Test
  void anInterruptedBarrierWaitBreaksItForTheOthers() throws Exception {
    String name = names.next("barrier-int");
    try (Barrier b = Barrier.open(name, 3)) {
      CompletableFuture<Object> other = CompletableFuture.supplyAsync(() -> {
        try (Barrier mine = Barrier.open(name, 3)) {
          return mine.await(20, TimeUnit.SECONDS);
        } catch (Exception e) {
          return e;
        }
      });
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (b.getNumberWaiting() < 1 && System.nanoTime() < deadline) Thread.onSpinWait();
      assertInterruptedPromptly("NativeBarrier_await_ticket", b::await);
      assertInstanceOf(BrokenBarrierException.class, other.get(20, TimeUnit.SECONDS));
      assertTrue(b.isBroken());
      b.reset();
      // an already interrupted caller breaks it at once, as CyclicBarrier does
      Thread.currentThread().interrupt();
      try {
        b.await();
      } catch (InterruptedException expected) {
        assertFalse(Thread.currentThread().isInterrupted());
      }
      assertTrue(b.isBroken());
    }
  }

  @Test
  void closeWakesABarrierWaiter() throws Exception {
    Barrier b = Barrier.open(names.next("barrier-close"), 2);
    CompletableFuture<Throwable> outcome = new CompletableFuture<>();
    Thread t = new Thread(() -> {
      try {
        b.await();
        outcome.complete(null);
      } catch (Throwable e) {
        outcome.complete(e);
      }
    });
    t.start();
    TimeoutsAndCancellationTest.awaitInNative(t, "NativeBarrier_await_ticket");
    long t0 = System.nanoTime();
    b.close();
    assertInstanceOf(HandleClosedException.class, outcome.get(10, TimeUnit.SECONDS));
    long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    assertTrue(ms < CANCEL_BOUND_MS, "close took " + ms + " ms");
    try (Barrier again = Barrier.open(b.name(), 2)) {
      assertTrue(again.isBroken(), "the waiter gave up: broken for everyone");
    }
  }
}
