package io.polyipc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Dict and List version() / awaitChange(): what counts as a change, timeouts, a change by another process
 * (a second JVM) waking a waiter, cancellation by interrupt and by close, and a closed handle.
 */
@Timeout(180)
class WatchTest {
  @RegisterExtension final TestNames names = new TestNames();

  private static final long CANCEL_BOUND_MS = 300;

  /** Dict and List seen through their watching methods, so that each test runs on both. */
  private interface Watched extends AutoCloseable {
    long version();

    long awaitChange(long seen) throws InterruptedException;

    long awaitChange(long seen, long timeout, TimeUnit unit) throws InterruptedException;

    /** One change (a set, an append). */
    void change();

    /** The JNI method a blocked wait is in. */
    String nativeWait();

    String kind();

    String name();

    @Override
    void close();
  }

  private static Watched watched(Dict d) {
    return new Watched() {
      private int n;

      public long version() {
        return d.version();
      }

      public long awaitChange(long seen) throws InterruptedException {
        return d.awaitChange(seen);
      }

      public long awaitChange(long seen, long timeout, TimeUnit unit) throws InterruptedException {
        return d.awaitChange(seen, timeout, unit);
      }

      public void change() {
        d.put("k", ++n);
      }

      public String nativeWait() {
        return "NativeDict_wait_change";
      }

      public String kind() {
        return "dict";
      }

      public String name() {
        return d.name();
      }

      public void close() {
        d.close();
      }
    };
  }

  private static Watched watched(io.polyipc.List l) {
    return new Watched() {
      public long version() {
        return l.version();
      }

      public long awaitChange(long seen) throws InterruptedException {
        return l.awaitChange(seen);
      }

      public long awaitChange(long seen, long timeout, TimeUnit unit) throws InterruptedException {
        return l.awaitChange(seen, timeout, unit);
      }

      public void change() {
        l.add(1);
      }

      public String nativeWait() {
        return "NativeList_wait_change";
      }

      public String kind() {
        return "list";
      }

      public String name() {
        return l.name();
      }

      public void close() {
        l.close();
      }
    };
  }

  private Watched newDict() {
    return watched(Dict.builder(names.next("watch-dict")).createOnly().open());
  }

  private Watched newList() {
    return watched(io.polyipc.List.builder(names.next("watch-list")).createOnly().open());
  }

  interface Waiting {
    long run() throws Exception;
  }

  /** A wait running on its own thread: its result or what it threw, and when it ended. */
  private static final class Waiter {
    final CompletableFuture<Object> outcome = new CompletableFuture<>();
    volatile long endedAt;
    volatile boolean interruptStatusAtEnd;
    final Thread thread;

    Waiter(Waiting wait) {
      thread = new Thread(() -> {
        try {
          long v = wait.run();
          end();
          outcome.complete(v);
        } catch (Throwable e) {
          end();
          outcome.complete(e);
        }
      }, "watch-waiter");
      thread.setDaemon(true);
      thread.start();
    }

    private void end() {
      endedAt = System.nanoTime();
      interruptStatusAtEnd = Thread.currentThread().isInterrupted();
    }

    Object get() throws Exception {
      try {
        return outcome.get(30, TimeUnit.SECONDS);
      } finally {
        thread.interrupt(); // never leave it blocked if the test failed
      }
    }

    long msSince(long t0) {
      return TimeUnit.NANOSECONDS.toMillis(endedAt - t0);
    }
  }

  // ---- what counts as a change ------------------------------------------------------------------------

  @Test
  void dictVersionCountsChangesNotReadsOrMisses() {
    String name = names.next("watch-dict-count");
    try (Dict d = Dict.builder(name).createOnly().open(); Dict other = Dict.open(name)) {
      assertEquals(0, d.version(), "a new dict");
      d.get("a");
      d.containsKey("a");
      d.keys();
      d.snapshot();
      d.size();
      assertEquals(0, d.version(), "reads are no change");
      d.put("a", 1);
      assertEquals(1, d.version());
      d.put("a", 1);
      assertEquals(2, d.version(), "every set counts, even to the same value");
      d.putJson("b", "[1, 2]");
      assertEquals(3, d.version());
      assertFalse(d.remove("missing"));
      assertEquals(3, d.version(), "a remove of a missing key is no change");
      assertFalse(d.compareAndSetJson("a", "2", "3"));
      assertEquals(3, d.version(), "a compare-and-set that failed is no change");
      assertTrue(d.compareAndSetJson("a", "1", "3"));
      assertEquals(4, d.version());
      assertTrue(d.remove("b"));
      assertEquals(5, d.version());
      assertEquals(5, other.version(), "another handle sees the same version");
      other.clear();
      assertEquals(6, d.version(), "a clear by another handle");
      assertTrue(d.isEmpty());
      assertEquals(6, d.version());
    }
  }

  @Test
  void listVersionCountsChangesNotReadsOrMisses() {
    String name = names.next("watch-list-count");
    try (io.polyipc.List l = io.polyipc.List.builder(name).createOnly().open();
        io.polyipc.List other = io.polyipc.List.open(name)) {
      assertEquals(0, l.version(), "a new list");
      l.snapshot();
      l.size();
      assertEquals(0, l.version(), "reads are no change");
      l.add("a");
      assertEquals(1, l.version());
      l.addJson("{\"b\": 2}");
      assertEquals(2, l.version());
      l.add(0, "first");
      assertEquals(3, l.version(), "an insert");
      l.set(-1, "c");
      assertEquals(4, l.version(), "a set");
      l.get(0);
      l.getJson(-1);
      assertThrows(IndexOutOfBoundsException.class, () -> l.get(10));
      assertEquals(4, l.version(), "reads, and a read out of range, are no change");
      l.pop();
      assertEquals(5, l.version(), "a pop");
      assertEquals(5, other.version(), "another handle sees the same version");
      other.clear();
      assertEquals(6, l.version(), "a clear by another handle");
      assertThrows(EmptyException.class, l::pop);
      assertEquals(6, l.version(), "a pop of an empty list is no change");
    }
  }

  // ---- timeouts -----------------------------------------------------------------------------------------

  @Test
  void aWaitWithNoChangeTimesOutAndAnswersTheSeenVersion() throws Exception {
    for (Watched w : new Watched[] {newDict(), newList()}) {
      try (w) {
        w.change();
        long seen = w.version();
        assertEquals(1, seen, w.kind());
        long t0 = System.nanoTime();
        assertEquals(seen, w.awaitChange(seen, 300, TimeUnit.MILLISECONDS), w.kind() + ": timed out");
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertTrue(ms >= 290, w.kind() + ": it waited the timeout out (in slices), not " + ms + " ms");
        assertTrue(ms < 10_000, w.kind() + ": " + ms + " ms");
        // a timeout of 0 or less only checks
        t0 = System.nanoTime();
        assertEquals(seen, w.awaitChange(seen, 0, TimeUnit.SECONDS), w.kind());
        assertEquals(seen, w.awaitChange(seen, -5, TimeUnit.SECONDS), w.kind());
        ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertTrue(ms < 1000, w.kind() + ": a zero timeout took " + ms + " ms");
        assertEquals(seen, w.version(), w.kind() + ": waiting is no change");
      }
    }
  }

  @Test
  void aWaitFromAnOldVersionReturnsAtOnce() throws Exception {
    for (Watched w : new Watched[] {newDict(), newList()}) {
      try (w) {
        long old = w.version();
        w.change();
        w.change();
        long now = w.version();
        assertEquals(old + 2, now, w.kind());
        long t0 = System.nanoTime();
        assertEquals(now, w.awaitChange(old), w.kind() + ": no limit");
        assertEquals(now, w.awaitChange(old, 0, TimeUnit.SECONDS), w.kind() + ": a zero timeout");
        assertEquals(now, w.awaitChange(old, 1, TimeUnit.HOURS), w.kind() + ": a long timeout");
        assertEquals(now, w.awaitChange(now + 100, 1, TimeUnit.HOURS), w.kind() + ": any other version");
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertTrue(ms < 1000, w.kind() + ": took " + ms + " ms");
      }
    }
  }

  @Test
  void aChangeByAnotherThreadWakesAWaiter() throws Exception {
    for (Watched w : new Watched[] {newDict(), newList()}) {
      try (w) {
        long seen = w.version();
        Waiter waiter = new Waiter(() -> w.awaitChange(seen));
        TimeoutsAndCancellationTest.awaitInNative(waiter.thread, w.nativeWait());
        w.change();
        assertEquals(seen + 1, waiter.get(), w.kind());
      }
    }
  }

  // ---- another process ----------------------------------------------------------------------------------

  /** The child changes the object once the parent's waiter is blocked in the native wait. */
  private void changeByAnotherProcessWakesABlockedWaiter(String kind, boolean noLimit) throws Exception {
    String goName = names.next("watch-go");
    try (Watched w = kind.equals("dict") ? newDict() : newList(); Event go = Event.open(goName)) {
      String name = w.name();
      long seen = w.version();
      try (ChildProcess child = ChildProcess.start("watch-write", kind, name, goName)) {
        assertEquals("ready", child.nextLine(60, TimeUnit.SECONDS), child.output());
        Waiter waiter = new Waiter(() -> noLimit ? w.awaitChange(seen) : w.awaitChange(seen, 120, TimeUnit.SECONDS));
        TimeoutsAndCancellationTest.awaitInNative(waiter.thread, w.nativeWait());
        long t0 = System.nanoTime();
        go.set();
        Object result = waiter.get();
        assertEquals(seen + 1, result, kind + ": woken by the child's change\n" + child.output());
        long ms = waiter.msSince(t0);
        String line = child.nextLine(60, TimeUnit.SECONDS);
        assertTrue(line.startsWith("changed "), line + "\n" + child.output());
        assertEquals(0, child.waitFor(30, TimeUnit.SECONDS), child.output());
        checkChildChange(kind, name, Long.parseLong(line.substring("changed ".length())));
        assertTrue(ms < 20_000, kind + ": woken " + ms + " ms after the go (the timeout was 120 s)");
        System.out.println(kind + " watch: woken " + ms + " ms after the go (child event wait + write)");
      }
    }
  }

  /** The child changes the object and exits before the parent waits: the wait returns at once. */
  private void changeByAnotherProcessBeforeTheWaitIsNotMissed(String kind) throws Exception {
    try (Watched w = kind.equals("dict") ? newDict() : newList()) {
      String name = w.name();
      long seen = w.version();
      try (ChildProcess child = ChildProcess.start("watch-write", kind, name, "-")) {
        String line = child.nextLine(60, TimeUnit.SECONDS);
        assertTrue(line.startsWith("changed "), line + "\n" + child.output());
        assertEquals(0, child.waitFor(30, TimeUnit.SECONDS), child.output());
        long t0 = System.nanoTime();
        assertEquals(seen + 1, w.awaitChange(seen, 120, TimeUnit.SECONDS), kind);
        assertEquals(seen + 1, w.awaitChange(seen), kind);
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertTrue(ms < 1000, kind + ": the waits took " + ms + " ms");
        checkChildChange(kind, name, Long.parseLong(line.substring("changed ".length())));
      }
    }
  }

  private static void checkChildChange(String kind, String name, long pid) {
    if (kind.equals("dict")) {
      try (Dict d = Dict.builder(name).openOnly().open()) {
        assertEquals(pid, d.get("from-child", Long.class));
      }
    } else {
      try (io.polyipc.List l = io.polyipc.List.builder(name).openOnly().open()) {
        assertEquals(pid, l.get(-1).path("from-child").asLong());
      }
    }
  }

  @Test
  void aDictChangeByAnotherProcessWakesAWaiter() throws Exception {
    changeByAnotherProcessWakesABlockedWaiter("dict", false);
    changeByAnotherProcessWakesABlockedWaiter("dict", true);
    changeByAnotherProcessBeforeTheWaitIsNotMissed("dict");
  }

  @Test
  void aListChangeByAnotherProcessWakesAWaiter() throws Exception {
    changeByAnotherProcessWakesABlockedWaiter("list", false);
    changeByAnotherProcessWakesABlockedWaiter("list", true);
    changeByAnotherProcessBeforeTheWaitIsNotMissed("list");
  }

  // ---- cancellation and closed handles --------------------------------------------------------------------

  @Test
  void anInterruptEndsABlockedWaitPromptly() throws Exception {
    for (Watched w : new Watched[] {newDict(), newList()}) {
      try (w) {
        long seen = w.version();
        for (boolean noLimit : new boolean[] {true, false}) {
          String what = w.kind() + (noLimit ? " awaitChange(seen)" : " awaitChange(seen, 30 s)");
          Waiter waiter = new Waiter(() -> noLimit ? w.awaitChange(seen) : w.awaitChange(seen, 30, TimeUnit.SECONDS));
          TimeoutsAndCancellationTest.awaitInNative(waiter.thread, w.nativeWait());
          long t0 = System.nanoTime();
          waiter.thread.interrupt();
          Object outcome = waiter.get();
          assertInstanceOf(InterruptedException.class, outcome, what);
          assertFalse(waiter.interruptStatusAtEnd, what + ": the interrupt status is cleared with the exception");
          long ms = waiter.msSince(t0);
          assertTrue(ms < CANCEL_BOUND_MS, what + ": the interrupt was noticed after " + ms + " ms");
        }
        // an already interrupted thread throws at once, and the handle still works afterwards
        Thread.currentThread().interrupt();
        assertThrows(InterruptedException.class, () -> w.awaitChange(seen, 30, TimeUnit.SECONDS));
        assertFalse(Thread.interrupted());
        assertEquals(seen, w.version());
        w.change();
        assertEquals(seen + 1, w.awaitChange(seen, 30, TimeUnit.SECONDS));
      }
    }
  }

  @Test
  void closeEndsABlockedWaitPromptly() throws Exception {
    for (Watched w : new Watched[] {newDict(), newList()}) {
      long seen = w.version();
      Waiter waiter = new Waiter(() -> w.awaitChange(seen));
      TimeoutsAndCancellationTest.awaitInNative(waiter.thread, w.nativeWait());
      long t0 = System.nanoTime();
      w.close();
      assertInstanceOf(HandleClosedException.class, waiter.get(), w.kind());
      long ms = waiter.msSince(t0);
      assertTrue(ms < CANCEL_BOUND_MS, w.kind() + ": close was noticed after " + ms + " ms");
    }
  }

  @Test
  void aClosedHandleIsAnError() throws Exception {
    Dict d = Dict.builder(names.next("watch-dict-closed")).createOnly().open();
    io.polyipc.List l = io.polyipc.List.builder(names.next("watch-list-closed")).createOnly().open();
    d.close();
    l.close();
    assertThrows(HandleClosedException.class, d::version);
    assertThrows(HandleClosedException.class, () -> d.awaitChange(0));
    assertThrows(HandleClosedException.class, () -> d.awaitChange(0, 0, TimeUnit.SECONDS));
    assertThrows(HandleClosedException.class, () -> d.awaitChange(0, 10, TimeUnit.SECONDS));
    assertThrows(HandleClosedException.class, l::version);
    assertThrows(HandleClosedException.class, () -> l.awaitChange(0));
    assertThrows(HandleClosedException.class, () -> l.awaitChange(0, 0, TimeUnit.SECONDS));
    assertThrows(HandleClosedException.class, () -> l.awaitChange(0, 10, TimeUnit.SECONDS));
  }
}
