package io.polyipc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Lock, RLock, Semaphore, Event, Condition and Barrier within one process (threads). */
@Timeout(60)
class SyncPrimitivesTest {
  @RegisterExtension final TestNames names = new TestNames();
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Runs `body` on another (platform) thread and returns its result, waiting at most 20 s. */
  private static <T> T onOtherThread(java.util.concurrent.Callable<T> body) throws Exception {
    CompletableFuture<T> f = new CompletableFuture<>();
    Thread t = new Thread(() -> {
      try {
        f.complete(body.call());
      } catch (Throwable e) {
        f.completeExceptionally(e);
      }
    });
    t.start();
    try {
      return f.get(20, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof Exception) throw (Exception) e.getCause();
      throw e;
    }
  }

  // ---- Lock ----------------------------------------------------------------------------------------

  @Test
  void lockIsOwnedByItsThreadAndNotReentrant() throws Exception {
    try (Lock lock = Lock.open(names.next("lock"))) {
      assertFalse(lock.locked());
      lock.lock();
      try {
        assertTrue(lock.locked());
        assertTrue(lock.isHeldByCurrentThread());
        assertFalse(lock.previousOwnerDied());
        // a Lock is not reentrant: tryLock answers false, a blocking acquire is an error (not a dead-lock)
        assertFalse(lock.tryLock());
        assertThrows(InvalidArgumentException.class, () -> lock.tryLock(1, TimeUnit.SECONDS));
        // another thread: cannot take it, cannot release it
        assertFalse(onOtherThread(() -> lock.tryLock()).booleanValue());
        assertFalse(onOtherThread(() -> lock.tryLock(60, TimeUnit.MILLISECONDS)));
        assertFalse(onOtherThread(() -> lock.isHeldByCurrentThread()).booleanValue());
        NotOwnerException e = assertThrows(NotOwnerException.class, () -> onOtherThread(() -> {
          lock.unlock();
          return null;
        }));
        assertEquals(Status.NOT_OWNER, e.status());
      } finally {
        lock.unlock();
      }
      assertFalse(lock.locked());
      assertThrows(NotOwnerException.class, lock::unlock);
      assertTrue(onOtherThread(() -> {
        boolean got = lock.tryLock(5, TimeUnit.SECONDS);
        lock.unlock();
        return got;
      }));
    }
  }

  @Test
  void lockGivesMutualExclusionAcrossThreadsAndHandles() throws Exception {
    String name = names.next("mutex");
    int threads = 4;
    int each = 200;
    int[] counter = {0};
    List<CompletableFuture<Void>> workers = new ArrayList<>();
    for (int t = 0; t < threads; ++t) {
      workers.add(CompletableFuture.runAsync(() -> {
        try (Lock lock = Lock.open(name)) { // a handle per thread: one lock by name
          for (int i = 0; i < each; ++i) {
            lock.lock();
            try {
              int v = counter[0];
              Thread.yield();
              counter[0] = v + 1;
            } finally {
              lock.unlock();
            }
          }
        }
      }));
    }
    for (CompletableFuture<Void> w : workers) w.get(30, TimeUnit.SECONDS);
    assertEquals(threads * each, counter[0]);
  }

  @Test
  void rlockCountsExactly() throws Exception {
    try (RLock r = RLock.open(names.next("rlock"))) {
      assertEquals(0, r.getHoldCount());
      r.lock();
      assertTrue(r.tryLock());
      assertTrue(r.tryLock(1, TimeUnit.SECONDS));
      r.lockInterruptibly();
      assertEquals(4, r.getHoldCount());
      assertFalse(onOtherThread(() -> r.tryLock()).booleanValue());
      for (int k = 3; k >= 0; --k) {
        r.unlock();
        assertEquals(k, r.getHoldCount());
        assertEquals(k > 0, r.locked());
      }
      assertThrows(NotOwnerException.class, r::unlock);
      assertTrue(onOtherThread(() -> {
        boolean got = r.tryLock();
        r.unlock();
        return got;
      }));
    }
  }

  @Test
  void aLockIsNotAnRLock() {
    String name = names.next("kind");
    try (Lock lock = Lock.open(name)) {
      IncompatibleException e = assertThrows(IncompatibleException.class, () -> RLock.open(name));
      assertEquals(Status.INCOMPATIBLE, e.status());
      assertThrows(IncompatibleException.class, () -> Semaphore.open(name, 1));
      assertThrows(IncompatibleException.class, () -> Queue.open(name));
      assertTrue(lock.statJson().contains("\"lock\""), lock.statJson());
    }
  }

  @Test
  void badInputIsACleanError() {
    assertThrows(NullPointerException.class, () -> Lock.open(null));
    assertThrows(NullPointerException.class, () -> Barrier.open(null, 2));
    for (String bad : new String[] {"", "a/b", "..", "with space", "n".repeat(201)}) {
      assertThrows(InvalidArgumentException.class, () -> Lock.open(bad), bad);
      assertThrows(InvalidArgumentException.class, () -> RLock.open(bad), bad);
      assertThrows(InvalidArgumentException.class, () -> Semaphore.open(bad, 1), bad);
      assertThrows(InvalidArgumentException.class, () -> Event.open(bad), bad);
      assertThrows(InvalidArgumentException.class, () -> Condition.open(bad), bad);
      assertThrows(InvalidArgumentException.class, () -> Barrier.open(bad, 2), bad);
    }
    assertThrows(InvalidArgumentException.class, () -> Condition.open(names.next("cond"), "a/b"));
    assertThrows(NotFoundException.class, () -> Event.open(names.next("none"), SyncOptions.DEFAULT.openOnly()));
    String exists = names.next("exists");
    try (Event e = Event.open(exists)) {
      assertThrows(AlreadyExistsException.class, () -> Event.open(exists, SyncOptions.DEFAULT.createOnly()));
    }
    assertThrows(IllegalArgumentException.class, () -> SyncOptions.DEFAULT.mode(01000));
    assertThrows(IllegalArgumentException.class, () -> Semaphore.open(names.next("neg"), -1));
    assertThrows(IllegalArgumentException.class, () -> Semaphore.openBounded(names.next("neg"), 3, 2));
    assertThrows(IllegalArgumentException.class, () -> Barrier.open(names.next("b"), 0));
    assertThrows(InvalidArgumentException.class, () -> Barrier.open(names.next("b"), 257));
    String b = names.next("parties");
    try (Barrier two = Barrier.open(b, 2)) {
      assertThrows(IncompatibleException.class, () -> Barrier.open(b, 3));
    }
  }

  @Test
  void useAfterCloseIsAHandleClosedError() throws Exception {
    Lock lock = Lock.open(names.next("closed"));
    Semaphore sem = Semaphore.open(names.next("closed"), 1);
    Event event = Event.open(names.next("closed"));
    Condition cond = Condition.open(names.next("closed"));
    names.also(cond.name() + ".lock");
    Barrier barrier = Barrier.open(names.next("closed"), 2);
    for (SyncHandle<?> h : List.of(lock, sem, event, cond, barrier)) {
      h.close();
      h.close(); // idempotent
      assertTrue(h.isClosed());
      HandleClosedException e = assertThrows(HandleClosedException.class, h::statJson);
      assertTrue(e.getMessage().contains(h.name()), e.getMessage());
    }
    assertThrows(HandleClosedException.class, lock::lock);
    assertThrows(HandleClosedException.class, lock::tryLock);
    assertThrows(HandleClosedException.class, lock::unlock);
    assertThrows(HandleClosedException.class, sem::acquire);
    assertThrows(HandleClosedException.class, sem::release);
    assertThrows(HandleClosedException.class, event::set);
    assertThrows(HandleClosedException.class, () -> event.await(1, TimeUnit.SECONDS));
    assertThrows(HandleClosedException.class, cond::signal);
    assertThrows(HandleClosedException.class, cond::await);
    assertThrows(HandleClosedException.class, barrier::await);
    assertThrows(HandleClosedException.class, barrier::reset);
  }

  @Test
  void closingNeverReleasesALock() throws Exception {
    String name = names.next("keep");
    Lock lock = Lock.open(name);
    lock.lock();
    lock.close();
    try (Lock again = Lock.open(name)) {
      assertTrue(again.locked());
      assertTrue(again.isHeldByCurrentThread());
      again.unlock();
      assertFalse(again.locked());
    }
  }

  // ---- Semaphore -------------------------------------------------------------------------------------

  @Test
  void semaphoreMirrorsTheJdkOne() throws Exception {
    try (Semaphore s = Semaphore.open(names.next("sem"), 3)) {
      assertEquals(3, s.availablePermits());
      assertFalse(s.isBounded());
      s.acquire();
      s.acquire(2);
      assertEquals(0, s.availablePermits());
      assertFalse(s.tryAcquire());
      long t0 = System.nanoTime();
      assertFalse(s.tryAcquire(100, TimeUnit.MILLISECONDS));
      long waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
      assertTrue(waited >= 90 && waited < 2000, "waited " + waited + " ms");
      assertFalse(s.tryAcquire(0, TimeUnit.SECONDS));
      assertFalse(s.tryAcquire(-1, TimeUnit.SECONDS));
      s.release(3);
      assertFalse(s.tryAcquire(4)); // all or none
      assertEquals(3, s.availablePermits());
      assertTrue(s.tryAcquire(2, 1, TimeUnit.SECONDS));
      assertTrue(s.tryAcquire(0)); // nothing to take
      s.acquireUninterruptibly();
      assertEquals(0, s.availablePermits());
      // a release from another thread wakes a waiter
      CompletableFuture<Boolean> waiter = CompletableFuture.supplyAsync(() -> {
        try {
          return s.tryAcquire(20, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          throw new RuntimeException(e);
        }
      });
      s.release();
      assertTrue(waiter.get(20, TimeUnit.SECONDS));
      s.release(5);
      assertEquals(5, s.drainPermits());
      assertEquals(0, s.availablePermits());
      assertThrows(IllegalArgumentException.class, () -> s.acquire(-1));
      assertThrows(IllegalArgumentException.class, () -> s.release(-1));
      assertThrows(IllegalArgumentException.class, () -> s.tryAcquire(-2));
    }
  }

  @Test
  void boundedSemaphoreRefusesAReleasePastItsMaximum() {
    String name = names.next("bounded");
    try (Semaphore s = Semaphore.openBounded(name, 2, 2)) {
      assertTrue(s.isBounded());
      assertEquals(2, s.maxPermits());
      InvalidArgumentException e = assertThrows(InvalidArgumentException.class, s::release);
      assertTrue(e.getMessage().contains(name), e.getMessage());
      assertTrue(s.tryAcquire(2));
      s.release(2);
      assertThrows(InvalidArgumentException.class, () -> s.release(1));
      assertEquals(2, s.availablePermits());
      assertThrows(IncompatibleException.class, () -> Semaphore.open(name, 2));
      assertThrows(IncompatibleException.class, () -> Semaphore.openBounded(name, 2, 3));
      try (Semaphore any = Semaphore.open(name, 0, SyncOptions.DEFAULT.openOnly())) {
        assertEquals(2, any.maxPermits());
      }
    }
  }

  // ---- Event ----------------------------------------------------------------------------------------

  @Test
  void eventWakesEveryWaiter() throws Exception {
    try (Event e = Event.open(names.next("event"))) {
      assertFalse(e.isSet());
      assertFalse(e.await(0, TimeUnit.SECONDS));
      long t0 = System.nanoTime();
      assertFalse(e.await(80, TimeUnit.MILLISECONDS));
      assertTrue(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0) >= 70);
      List<CompletableFuture<Boolean>> waiters = new ArrayList<>();
      for (int i = 0; i < 3; ++i) {
        waiters.add(CompletableFuture.supplyAsync(() -> {
          try {
            return e.await(20, TimeUnit.SECONDS);
          } catch (InterruptedException x) {
            throw new RuntimeException(x);
          }
        }));
      }
      e.set();
      for (CompletableFuture<Boolean> w : waiters) assertTrue(w.get(20, TimeUnit.SECONDS));
      assertTrue(e.isSet());
      e.await();
      e.clear();
      assertFalse(e.isSet());
      assertFalse(e.await(10, TimeUnit.MILLISECONDS));
    }
  }

  @Test
  void aSetAndClearDuringAWaitOfSeveralSlicesIsSeen() throws Exception {
    try (Event e = Event.open(names.next("pulse"))) {
      long t0 = System.nanoTime();
      CompletableFuture<Boolean> waiter = CompletableFuture.supplyAsync(() -> {
        try {
          return e.await(20, TimeUnit.SECONDS);
        } catch (InterruptedException x) {
          throw new RuntimeException(x);
        }
      });
      // blocked for a few 50 ms slices, and asleep in one now
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while ((System.nanoTime() - t0 < TimeUnit.MILLISECONDS.toNanos(120)
              || JSON.readTree(e.statJson()).path("waiting").asInt() < 1)
          && System.nanoTime() < deadline) {
        java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
      }
      assertFalse(waiter.isDone(), "the waiter returned before the pulse");
      e.set();
      e.clear();
      assertTrue(waiter.get(20, TimeUnit.SECONDS), "a set then clear during the wait was missed");
      assertFalse(e.isSet());
    }
  }

  // ---- Condition ---------------------------------------------------------------------------------------

  @Test
  void conditionFromALockBoundedBuffer() throws Exception {
    String lockName = names.next("buf");
    names.also(lockName + ".cond");
    List<Integer> items = new ArrayList<>(); // guarded by the polyipc lock
    int capacity = 2;
    int n = 100;
    try (Lock lock = Lock.open(lockName); Condition changed = lock.newCondition()) {
      assertEquals(lockName + ".cond", changed.name());
      assertEquals(lockName, changed.lockName());
      CompletableFuture<List<Integer>> consumer = CompletableFuture.supplyAsync(() -> {
        List<Integer> got = new ArrayList<>();
        try {
          for (int i = 0; i < n; ++i) {
            lock.lock();
            try {
              assertTrue(changed.waitFor(() -> !items.isEmpty(), 20, TimeUnit.SECONDS));
              got.add(items.remove(0));
              changed.signalAll();
            } finally {
              lock.unlock();
            }
          }
        } catch (InterruptedException e) {
          throw new RuntimeException(e);
        }
        return got;
      });
      for (int i = 0; i < n; ++i) {
        lock.lock();
        try {
          while (items.size() >= capacity) assertTrue(changed.await(20, TimeUnit.SECONDS));
          items.add(i);
          changed.signal();
        } finally {
          lock.unlock();
        }
      }
      List<Integer> got = consumer.get(30, TimeUnit.SECONDS);
      for (int i = 0; i < n; ++i) assertEquals(i, got.get(i));
    }
  }

  @Test
  void conditionOnItsOwnAndItsRules() throws Exception {
    String name = names.next("cond");
    names.also(name + ".lock");
    try (Condition c = Condition.open(name)) {
      assertEquals(name + ".lock", c.lockName());
      // without the lock: NotOwner
      assertThrows(NotOwnerException.class, c::signal);
      assertThrows(NotOwnerException.class, () -> c.await(10, TimeUnit.MILLISECONDS));
      assertThrows(NotOwnerException.class, c::unlock);
      c.lock();
      try {
        long t0 = System.nanoTime();
        assertFalse(c.await(80, TimeUnit.MILLISECONDS)); // timed out
        assertTrue(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0) >= 70);
        assertTrue(c.awaitNanos(TimeUnit.MILLISECONDS.toNanos(20)) <= 0);
        assertFalse(c.waitFor(() -> false, 30, TimeUnit.MILLISECONDS));
        assertTrue(c.waitFor(() -> true, 0, TimeUnit.SECONDS));
        assertThrows(IllegalArgumentException.class, () -> c.notify(-1));
        c.notify(3); // nobody waits: fine
      } finally {
        c.unlock();
      }
      // the lock is the named Lock: a Lock handle sees it
      try (Lock l = Lock.open(name + ".lock")) {
        assertTrue(c.tryLock());
        assertTrue(l.locked());
        assertTrue(l.isHeldByCurrentThread());
        l.unlock(); // the same lock, by another handle
        assertFalse(l.locked());
      }
      // bound to another lock: incompatible
      assertThrows(IncompatibleException.class, () -> Condition.open(name, names.next("other")));
    }
  }

  @Test
  void notifyWakesExactlyN() throws Exception {
    String name = names.next("notify");
    names.also(name + ".lock");
    try (Condition c = Condition.open(name)) {
      AtomicInteger woken = new AtomicInteger();
      List<Thread> threads = new ArrayList<>();
      for (int i = 0; i < 3; ++i) {
        Thread t = new Thread(() -> {
          c.lock();
          try {
            if (c.await(20, TimeUnit.SECONDS)) woken.incrementAndGet();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          } finally {
            c.unlock();
          }
        });
        threads.add(t);
        t.start();
      }
      // wait (bounded) until all three are waiting
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (JSON.readTree(c.statJson()).path("waiting").asInt() < 3 && System.nanoTime() < deadline) {
        Thread.onSpinWait();
      }
      c.lock();
      try {
        c.notify(2);
      } finally {
        c.unlock();
      }
      long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (woken.get() < 2 && System.nanoTime() < until) Thread.onSpinWait();
      assertEquals(2, woken.get());
      c.lock();
      try {
        c.signalAll();
      } finally {
        c.unlock();
      }
      for (Thread t : threads) {
        t.join(TimeUnit.SECONDS.toMillis(20));
        assertFalse(t.isAlive());
      }
      assertEquals(3, woken.get());
    }
  }

  @Test
  void rlockConditionReleasesEveryLevelWhileWaiting() throws Exception {
    String name = names.next("rcond");
    names.also(name + ".cond");
    try (RLock r = RLock.open(name); Condition c = r.newCondition()) {
      r.lock();
      r.lock();
      CompletableFuture<Boolean> other = CompletableFuture.supplyAsync(() -> {
        try {
          boolean got = r.tryLock(20, TimeUnit.SECONDS); // possible only while we wait
          if (got) {
            c.signal();
            r.unlock();
          }
          return got;
        } catch (InterruptedException e) {
          throw new RuntimeException(e);
        }
      });
      assertTrue(c.await(20, TimeUnit.SECONDS));
      assertEquals(2, r.getHoldCount());
      assertTrue(other.get(20, TimeUnit.SECONDS));
      r.unlock();
      r.unlock();
      assertFalse(r.locked());
    }
  }

  // ---- Barrier ----------------------------------------------------------------------------------------

  @Test
  void barrierReturnsArrivalIndexesRoundAfterRound() throws Exception {
    String name = names.next("barrier");
    int parties = 3;
    int rounds = 4;
    try (Barrier b = Barrier.open(name, parties)) {
      assertEquals(parties, b.getParties());
      assertEquals(0, b.getNumberWaiting());
      List<CompletableFuture<List<Integer>>> all = new ArrayList<>();
      for (int p = 0; p < parties; ++p) {
        all.add(CompletableFuture.supplyAsync(() -> {
          List<Integer> got = new ArrayList<>();
          try (Barrier mine = Barrier.open(name, parties)) {
            for (int r = 0; r < rounds; ++r) got.add(mine.await(20, TimeUnit.SECONDS));
          } catch (Exception e) {
            throw new RuntimeException(e);
          }
          return got;
        }));
      }
      List<Set<Integer>> perRound = new ArrayList<>();
      for (int r = 0; r < rounds; ++r) perRound.add(new HashSet<>());
      for (CompletableFuture<List<Integer>> f : all) {
        List<Integer> got = f.get(30, TimeUnit.SECONDS);
        for (int r = 0; r < rounds; ++r) perRound.get(r).add(got.get(r));
      }
      for (Set<Integer> s : perRound) assertEquals(Set.of(0, 1, 2), s);
      assertFalse(b.isBroken());
    }
  }

  @Test
  void aTimeoutBreaksTheBarrierForEveryoneUntilReset() throws Exception {
    String name = names.next("btimeout");
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
      assertThrows(TimeoutException.class, () -> b.await(50, TimeUnit.MILLISECONDS));
      assertTrue(other.get(20, TimeUnit.SECONDS) instanceof BrokenBarrierException);
      assertTrue(b.isBroken());
      assertThrows(BrokenBarrierException.class, b::await);
      assertThrows(BrokenBarrierException.class, () -> b.await(0, TimeUnit.SECONDS));
      b.reset();
      assertFalse(b.isBroken());
      // a one-party round passes at once, even with no time to wait
      try (Barrier one = Barrier.open(names.next("one"), 1)) {
        assertEquals(0, one.await(0, TimeUnit.SECONDS));
        assertEquals(0, one.await());
      }
      b.abort();
      assertTrue(b.isBroken());
      assertThrows(BrokenBarrierException.class, () -> b.await(1, TimeUnit.SECONDS));
      b.reset();
      assertThrows(TimeoutException.class, () -> b.await(0, TimeUnit.SECONDS)); // no wait at all: broken
      assertTrue(b.isBroken());
    }
  }
}
