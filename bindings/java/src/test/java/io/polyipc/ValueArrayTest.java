package io.polyipc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

@Timeout(120)
class ValueArrayTest {
  @RegisterExtension final TestNames names = new TestNames();

  @Test
  void aLongValueHasTheAtomicLongMethods() {
    String name = names.next("long");
    try (LongValue v = LongValue.open(name); LongValue w = LongValue.open(name)) {
      assertEquals(0, v.get());
      v.set(40);
      assertEquals(41, w.incrementAndGet());
      assertEquals(41, v.getAndIncrement());
      assertEquals(42, v.getAndAdd(8));
      assertEquals(45, v.addAndGet(-5));
      assertEquals(44, v.decrementAndGet());
      assertEquals(44, v.getAndDecrement());
      assertFalse(v.compareAndSet(1, 2));
      assertTrue(v.compareAndSet(43, 100));
      assertEquals(100, v.getAndSet(7));
      assertEquals(14, v.updateAndGet(x -> x * 2));
      assertEquals(14, v.getAndUpdate(x -> x + 1));
      assertEquals(30, v.accumulateAndGet(2, (x, y) -> x * y));
      v.set(Long.MAX_VALUE);
      assertEquals(Long.MIN_VALUE, v.incrementAndGet(), "wraps");
      assertEquals(1, v.length());
      assertEquals(Long.toString(Long.MIN_VALUE), w.toString());
    }
  }

  @Test
  void aDoubleValueComparesBits() {
    try (DoubleValue d = DoubleValue.open(names.next("double"))) {
      assertEquals(0.0, d.get());
      d.set(1.5);
      assertEquals(1.5, d.getAndAdd(0.25));
      assertEquals(2.0, d.addAndGet(0.25));
      d.set(Double.NaN);
      assertTrue(d.compareAndSet(Double.NaN, -0.0), "NaN can be replaced");
      assertFalse(d.compareAndSet(0.0, 1.0), "-0.0 is not 0.0");
      assertTrue(d.compareAndSet(-0.0, 1.0));
      assertEquals(1.0, d.getAndSet(3.0));
      assertEquals(9.0, d.updateAndGet(x -> x * x));
    }
  }

  @Test
  void arraysIndexCheckAndSlice() {
    String name = names.next("arr");
    try (LongArray a = LongArray.open(name, 5); LongArray b = LongArray.attach(name)) {
      assertEquals(5, b.length());
      for (int i = 0; i < 5; ++i) a.set(i, i * 10);
      assertArrayEquals(new long[] {0, 10, 20, 30, 40}, b.toArray());
      assertArrayEquals(new long[] {10, 20}, b.toArray(1, 3));
      assertEquals(21, b.incrementAndGet(2));
      assertTrue(b.compareAndSet(4, 40, -4));
      assertEquals(-4, a.get(4));
      assertEquals(-4, a.getAndAdd(4, 4));
      assertThrows(IndexOutOfBoundsException.class, () -> a.get(5));
      assertThrows(IndexOutOfBoundsException.class, () -> a.set(-1, 0));
      assertThrows(IndexOutOfBoundsException.class, () -> a.toArray(3, 6));
      assertThrows(IncompatibleException.class, () -> LongArray.open(name, 6), "another length");
      assertThrows(IncompatibleException.class, () -> DoubleArray.open(name, 5), "another type");
      assertThrows(IncompatibleException.class, () -> LongValue.open(name), "a value is an array of 1");
      assertThrows(IllegalArgumentException.class, () -> LongArray.open(name, 0));
      assertEquals("[0, 10, 21, 30, 0]", a.toString());
    }
    String dname = names.next("darr");
    try (DoubleArray d = DoubleArray.open(dname, 3)) {
      d.set(1, 0.5);
      assertEquals(0.5, d.getAndAdd(1, 1.0));
      assertArrayEquals(new double[] {0.0, 1.5, 0.0}, d.toArray());
      assertThrows(IndexOutOfBoundsException.class, () -> d.get(3));
      assertThrows(IncompatibleException.class, () -> LongArray.attach(dname));
    }
    String one = names.next("one");
    try (LongValue v = LongValue.open(one); LongArray a = LongArray.open(one, 1)) {
      v.set(9);
      assertEquals(9, a.get(0), "a Value is an Array of length 1");
    }
    assertThrows(NotFoundException.class, () -> LongArray.attach(names.next("missing")));
  }

  @Test
  void useAfterCloseIsAHandleClosedException() {
    LongValue v = LongValue.open(names.next("closed"));
    v.close();
    v.close();
    assertThrows(HandleClosedException.class, v::get);
    assertThrows(HandleClosedException.class, () -> v.set(1));
    assertThrows(HandleClosedException.class, () -> v.getLock().tryLock());
  }

  @Test
  void theLockIsPerThreadAndExcludesOtherThreads() throws Exception {
    try (LongValue v = LongValue.open(names.next("lock"))) {
      ValueLock lock = v.getLock();
      assertTrue(lock.tryLock());
      assertFalse(lock.previousOwnerDied());
      assertFalse(lock.tryLock(), "not reentrant");
      assertThrows(InvalidArgumentException.class, lock::lock);
      CompletableFuture<Boolean> other = CompletableFuture.supplyAsync(() -> {
        try {
          lock.unlock();
          return false;
        } catch (NotOwnerException e) {
          try {
            return !lock.tryLock(100, TimeUnit.MILLISECONDS);
          } catch (InterruptedException ie) {
            return false;
          }
        }
      });
      assertTrue(other.get(10, TimeUnit.SECONDS), "another thread can neither release nor take it");
      lock.unlock();
      assertThrows(NotOwnerException.class, lock::unlock);
      assertThrows(UnsupportedOperationException.class, lock::newCondition);
    }
  }

  @Test
  void threadsIncrementingTogetherLoseNothing() throws Exception {
    try (LongValue v = LongValue.open(names.next("threads"))) {
      List<Thread> threads = new ArrayList<>();
      for (int t = 0; t < 4; ++t) {
        Thread th = new Thread(() -> {
          for (int i = 0; i < 5000; ++i) v.incrementAndGet();
        });
        threads.add(th);
        th.start();
      }
      for (Thread th : threads) th.join(30_000);
      assertEquals(20000, v.get());
    }
  }

  @Test
  void childJvmsIncrementingOneValueEndExact() throws Exception {
    String name = names.next("count");
    final int children = 3;
    final int n = 20000;
    List<ChildProcess> started = new ArrayList<>();
    try (LongValue v = LongValue.open(name)) {
      try {
        for (int c = 0; c < children; ++c) started.add(ChildProcess.start("count", name, Integer.toString(n)));
        for (ChildProcess c : started) assertEquals("counting", c.nextLine(30, TimeUnit.SECONDS));
        for (int i = 0; i < n; ++i) v.getAndIncrement(); // and this process too, at the same time
        for (ChildProcess c : started) {
          assertEquals("counted " + n, c.nextLine(60, TimeUnit.SECONDS));
          assertEquals(0, c.waitFor(30, TimeUnit.SECONDS));
        }
      } finally {
        for (ChildProcess c : started) c.close();
      }
      assertEquals((long) (children + 1) * n, v.get());
    }
  }

  @Test
  void aValueLockWhoseHolderWasKilledPassesOnReportingOwnerDeath() throws Exception {
    String name = names.next("deadlock");
    try (LongValue v = LongValue.open(name)) {
      try (ChildProcess child = ChildProcess.start("hold-value-lock", name)) {
        assertEquals("holding", child.nextLine(30, TimeUnit.SECONDS));
        assertFalse(v.getLock().tryLock(100, TimeUnit.MILLISECONDS));
        child.kill();
      }
      ValueLock lock = v.getLock();
      assertTrue(lock.tryLock(20, TimeUnit.SECONDS), "the dead holder's lock passes on");
      try {
        assertTrue(lock.previousOwnerDied());
        assertEquals(-1, v.get(), "the half-done update is there to repair");
        v.set(0);
      } finally {
        lock.unlock();
      }
      lock.lock();
      try {
        assertFalse(lock.previousOwnerDied());
      } finally {
        lock.unlock();
      }
    }
  }
}
