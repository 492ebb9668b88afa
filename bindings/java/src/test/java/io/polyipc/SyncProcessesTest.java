package io.polyipc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.Set;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The sync primitives across real processes (second JVMs), killed with SIGKILL where it matters. */
@Timeout(120)
class SyncProcessesTest {
  @RegisterExtension final TestNames names = new TestNames();
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void aLockWhoseHolderWasKilledPassesOnReportingOwnerDeath() throws Exception {
    String name = names.next("dead-holder");
    try (Lock lock = Lock.open(name)) {
      try (ChildProcess child = ChildProcess.start("hold-lock", name)) {
        assertEquals("holding", child.nextLine(30, TimeUnit.SECONDS));
        assertTrue(lock.locked());
        assertFalse(lock.tryLock(100, TimeUnit.MILLISECONDS));
        child.kill();
      }
      assertTrue(lock.tryLock(20, TimeUnit.SECONDS), "the dead holder's lock passes on");
      try {
        assertTrue(lock.previousOwnerDied());
      } finally {
        lock.unlock();
      }
      lock.lock(); // the next acquisition is an ordinary one
      try {
        assertFalse(lock.previousOwnerDied());
      } finally {
        lock.unlock();
      }
      JsonNode stat = JSON.readTree(lock.statJson());
      assertEquals(1, stat.path("counters").path("owner_dead_recoveries").asInt(), stat.toString());
    }
  }

  @Test
  void acquireReportingOwnerDeathAnswersTrueAfterAKill() throws Exception {
    String name = names.next("dead-holder2");
    try (Lock lock = Lock.open(name); ChildProcess child = ChildProcess.start("hold-lock", name)) {
      assertEquals("holding", child.nextLine(30, TimeUnit.SECONDS));
      child.kill();
      assertTrue(lock.acquireReportingOwnerDeath());
      lock.unlock();
      assertFalse(lock.acquireReportingOwnerDeath());
      lock.unlock();
    }
  }

  @Test
  void aKilledHoldersPermitComesBack() throws Exception {
    String name = names.next("permit");
    try (Semaphore s = Semaphore.open(name, 1)) {
      try (ChildProcess child = ChildProcess.start("hold-permit", name)) {
        assertEquals("holding", child.nextLine(30, TimeUnit.SECONDS));
        assertEquals(0, s.availablePermits());
        assertFalse(s.tryAcquire(100, TimeUnit.MILLISECONDS));
        child.kill();
      }
      assertTrue(s.tryAcquire(20, TimeUnit.SECONDS), "the dead holder's permit came back");
      s.release();
      assertEquals(1, s.availablePermits());
    }
  }

  @Test
  void settingAnEventWakesAChild() throws Exception {
    String name = names.next("event");
    try (Event e = Event.open(name); ChildProcess child = ChildProcess.start("await-event", name)) {
      assertEquals("waiting", child.nextLine(30, TimeUnit.SECONDS));
      e.set();
      assertEquals("woken", child.nextLine(30, TimeUnit.SECONDS));
      assertEquals(0, child.waitFor(30, TimeUnit.SECONDS));
    }
  }

  @Test
  void signalWakesAChildWaitingOnTheCondition() throws Exception {
    String name = names.next("cond");
    names.also(name + ".lock");
    try (Condition c = Condition.open(name); ChildProcess child = ChildProcess.start("await-condition", name)) {
      assertEquals("ready", child.nextLine(30, TimeUnit.SECONDS));
      assertTrue(c.tryLock(30, TimeUnit.SECONDS)); // free only once the child waits
      try {
        c.signal();
      } finally {
        c.unlock();
      }
      assertEquals("notified", child.nextLine(30, TimeUnit.SECONDS));
      assertEquals(0, child.waitFor(30, TimeUnit.SECONDS));
    }
  }

  @Test
  void aBarrierAcrossProcesses() throws Exception {
    String name = names.next("barrier");
    try (Barrier b = Barrier.open(name, 2); ChildProcess child = ChildProcess.start("barrier", name, "2")) {
      assertEquals("arriving", child.nextLine(30, TimeUnit.SECONDS));
      int mine = b.await(30, TimeUnit.SECONDS);
      String line = child.nextLine(30, TimeUnit.SECONDS);
      assertTrue(line.startsWith("index "), line);
      int theirs = Integer.parseInt(line.substring(6));
      assertEquals(Set.of(0, 1), Set.of(mine, theirs));
    }
  }

  @Test
  void aKilledWaiterBreaksTheBarrier() throws Exception {
    String name = names.next("barrier-kill");
    try (Barrier b = Barrier.open(name, 3)) {
      try (ChildProcess child = ChildProcess.start("barrier", name, "3")) {
        assertEquals("arriving", child.nextLine(30, TimeUnit.SECONDS));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (b.getNumberWaiting() < 1 && System.nanoTime() < deadline) Thread.onSpinWait();
        assertEquals(1, b.getNumberWaiting());
        child.kill();
      }
      assertThrows(BrokenBarrierException.class, () -> b.await(20, TimeUnit.SECONDS));
      assertTrue(b.isBroken());
      b.reset();
      assertFalse(b.isBroken());
    }
  }
}
