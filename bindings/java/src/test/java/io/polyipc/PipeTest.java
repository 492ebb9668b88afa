package io.polyipc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.EOFException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Pipes and Connection.waitAny within one process (both ends here). */
@Timeout(60)
class PipeTest {
  @RegisterExtension final TestNames names = new TestNames();

  private static final long CANCEL_BOUND_MS = 250;

  public static final class Point {
    public int x;
    public String label;

    public Point() {}

    Point(int x, String label) {
      this.x = x;
      this.label = label;
    }
  }

  @Test
  void aDuplexPipeCarriesStringsObjectsAndBytesBothWays() throws Exception {
    try (Pipe p = Pipe.open(names.next("duplex"))) {
      p.a().send("{\"héllo\": \"wörld 😀\"}");
      assertEquals("{\"héllo\": \"wörld 😀\"}", p.b().recv());
      p.b().sendObject(new Point(7, "seven"));
      Point pt = p.a().recvObject(Point.class);
      assertEquals(7, pt.x);
      assertEquals("seven", pt.label);
      p.a().sendObject(Map.of("k", List.of(1, 2)));
      Map<String, List<Integer>> m = p.b().recvObject(new TypeReference<Map<String, List<Integer>>>() {});
      assertEquals(Map.of("k", List.of(1, 2)), m);
      p.b().sendBytes("[1,2,3]".getBytes(StandardCharsets.UTF_8));
      assertArrayEquals("[1,2,3]".getBytes(StandardCharsets.UTF_8), p.a().recvBytes());
      p.a().sendBytes("xx[4]yy".getBytes(StandardCharsets.UTF_8), 2, 3);
      assertEquals("[4]", p.b().recv());
      assertEquals(Connection.End.A, p.a().end());
      assertEquals(Connection.End.B, p.b().end());
      assertTrue(p.a().statJson().contains("pipe"), p.a().statJson());
    }
  }

  @Test
  void recvIntoFillsArraysAndBuffersOrThrowsBufferTooShortWithTheMessage() throws Exception {
    try (Pipe p = Pipe.builder(names.next("into")).format(Format.BYTES).open()) {
      byte[] msg = {1, 2, 3, 4, 5};
      p.a().sendBytes(msg);
      byte[] dst = new byte[8];
      assertEquals(5, p.b().recvInto(dst, 2));
      assertArrayEquals(new byte[] {0, 0, 1, 2, 3, 4, 5, 0}, dst);

      p.a().sendBytes(msg);
      ByteBuffer bb = ByteBuffer.allocateDirect(16);
      bb.put((byte) 9);
      assertEquals(5, p.b().recvInto(bb));
      assertEquals(6, bb.position());
      assertEquals(3, bb.get(3));

      p.a().sendBytes(msg);
      byte[] small = new byte[4];
      BufferTooShortException e = assertThrows(BufferTooShortException.class, () -> p.b().recvInto(small));
      assertArrayEquals(msg, e.message());
      assertArrayEquals(new byte[4], small);
      assertEquals(Status.TOO_LARGE, e.status());
      assertFalse(p.b().poll(), "the message was taken");
      p.a().send("not json at all"); // a BYTES pipe takes any bytes
      assertEquals("not json at all", p.b().recv());
    }
  }

  @Test
  void aJsonPipeRefusesMalformedJsonAndMessagesLargerThanItsCapacity() throws Exception {
    try (Pipe p = Pipe.builder(names.next("json")).capacityBytes(4096).open()) {
      assertThrows(InvalidJsonException.class, () -> p.a().send("{oops"));
      assertThrows(TooLargeException.class, () -> p.a().send("\"" + "x".repeat(5000) + "\""));
      assertFalse(p.b().poll());
      // full: a timed send answers false, a send at timeout 0 too
      String chunk = "\"" + "y".repeat(1000) + "\"";
      int sent = 0;
      while (p.a().send(chunk, 0, TimeUnit.SECONDS)) ++sent;
      assertTrue(sent >= 2 && sent <= 4, "sent " + sent);
      long t0 = System.nanoTime();
      assertFalse(p.a().send(chunk, 120, TimeUnit.MILLISECONDS));
      long waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
      assertTrue(waited >= 110 && waited < 2000, "send waited " + waited + " ms");
      assertEquals(chunk, p.b().recv());
      assertTrue(p.a().send(chunk, 1, TimeUnit.SECONDS), "room again");
    }
  }

  @Test
  void aOneWayPipeSendsFromAToBOnly() throws Exception {
    try (Pipe p = Pipe.open(names.next("oneway"), false)) {
      p.a().send("1");
      assertEquals("1", p.b().recv());
      assertThrows(InvalidArgumentException.class, () -> p.b().send("2"));
      assertThrows(InvalidArgumentException.class, () -> p.a().recv(0, TimeUnit.SECONDS));
      assertThrows(IncompatibleException.class, () -> Pipe.open(p.name(), true), "an existing one-way pipe");
    }
  }

  @Test
  void closingAnEndGivesTheOtherWhatWasSentThenEndOfStream() throws Exception {
    try (Pipe p = Pipe.open(names.next("eof"))) {
      for (int i = 0; i < 3; ++i) p.a().send("{\"seq\":" + i + "}");
      p.a().close();
      for (int i = 0; i < 3; ++i) assertEquals(i, p.b().recvObject(JsonNode.class).get("seq").asInt());
      assertTrue(p.b().poll(), "end of stream: a recv would not wait");
      assertTrue(p.b().poll(1, TimeUnit.SECONDS));
      EOFException eof = assertThrows(EOFException.class, () -> p.b().recv());
      assertInstanceOf(ClosedException.class, eof.getCause());
      assertThrows(EOFException.class, () -> p.b().recvBytes(1, TimeUnit.SECONDS));
      assertThrows(EOFException.class, () -> p.b().recvInto(new byte[10]));
      assertThrows(ClosedException.class, () -> p.b().send("1"), "the other end is gone");
      assertThrows(HandleClosedException.class, () -> p.a().send("1"));
      p.a().close(); // idempotent
    }
  }

  @Test
  void connectionOpenAttachesByNameOrCreatesADefaultPipe() throws Exception {
    String name = names.next("byname");
    try (Pipe p = Pipe.builder(name).format(Format.BYTES).duplex(false).open();
        Connection b2 = Connection.open(name, Connection.End.B)) {
      p.a().send("not json");
      assertEquals("not json", b2.recv(), "a second handle on end B, whatever the pipe's options");
    }
    String fresh = names.next("fresh");
    try (Connection a = Connection.open(fresh, Connection.End.A);
        Connection b = Connection.open(fresh, Connection.End.B)) {
      b.send("{\"back\":true}");
      assertEquals("{\"back\":true}", a.recv(1, TimeUnit.SECONDS));
      assertThrows(InvalidJsonException.class, () -> a.send("nope"), "created JSON");
    }
    assertThrows(AlreadyExistsException.class, () -> Pipe.builder(fresh).createOnly().open());
    assertThrows(NotFoundException.class, () -> Pipe.builder(names.next("missing")).openOnly().openEnd(Connection.End.A));
  }

  @Test
  void timedRecvAndPollAnswerNullAndFalseWhenNothingComes() throws Exception {
    try (Pipe p = Pipe.open(names.next("timeout"))) {
      long t0 = System.nanoTime();
      assertNull(p.b().recv(150, TimeUnit.MILLISECONDS));
      long waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
      assertTrue(waited >= 140 && waited < 2000, "recv waited " + waited + " ms");
      assertNull(p.b().recvBytes(0, TimeUnit.SECONDS));
      assertFalse(p.b().poll(100, TimeUnit.MILLISECONDS));
      assertFalse(p.b().poll(-1, TimeUnit.SECONDS));
    }
  }

  @Test
  void anInterruptOrACloseEndsABlockedRecvQuickly() throws Exception {
    try (Pipe p = Pipe.open(names.next("cancel"))) {
      Thread[] t = new Thread[1];
      CompletableFuture<Object> f = CompletableFuture.supplyAsync(() -> {
        t[0] = Thread.currentThread();
        try {
          return p.b().recv();
        } catch (Exception e) {
          return e;
        }
      });
      while (t[0] == null) Thread.onSpinWait();
      assertNull(p.a().recv(100, TimeUnit.MILLISECONDS)); // let it block in recv (it ends the same way if not)
      long t0 = System.nanoTime();
      t[0].interrupt();
      assertInstanceOf(InterruptedException.class, f.get(10, TimeUnit.SECONDS));
      assertTrue(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0) < CANCEL_BOUND_MS);

      CompletableFuture<Object> g = CompletableFuture.supplyAsync(() -> {
        try {
          return p.b().recv();
        } catch (Exception e) {
          return e;
        }
      });
      assertNull(p.a().recv(100, TimeUnit.MILLISECONDS)); // let the other thread block in recv
      t0 = System.nanoTime();
      p.b().close();
      Object r = g.get(10, TimeUnit.SECONDS);
      assertInstanceOf(HandleClosedException.class, r instanceof ExecutionException ? ((Exception) r).getCause() : r);
      assertTrue(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0) < CANCEL_BOUND_MS);
    }
  }

  @Test
  void waitAnyReturnsTheReadyConnectionsAndQueues() throws Exception {
    try (Pipe p1 = Pipe.open(names.next("w1"));
        Pipe p2 = Pipe.open(names.next("w2"));
        Queue q = Queue.open(names.next("wq"))) {
      List<Object> all = List.of(p1.b(), p2.b(), q);
      long t0 = System.nanoTime();
      assertEquals(List.of(), Connection.waitAny(all, 150, TimeUnit.MILLISECONDS));
      long waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
      assertTrue(waited >= 140 && waited < 2000, "waitAny waited " + waited + " ms");
      assertEquals(List.of(), Connection.waitAny(all, 0, TimeUnit.SECONDS));

      p2.a().send("1");
      assertEquals(List.of(p2.b()), Connection.waitAny(all, 5, TimeUnit.SECONDS));
      q.put("2");
      assertEquals(List.of(p2.b(), q), Connection.waitAny(all));
      assertEquals("1", p2.b().recv());
      assertEquals("2", q.take());

      // a message arriving while it waits, from another thread
      CompletableFuture<List<Object>> f = CompletableFuture.supplyAsync(() -> {
        try {
          return Connection.waitAny(all, 20, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          throw new IllegalStateException(e);
        }
      });
      assertNull(p1.a().recv(100, TimeUnit.MILLISECONDS));
      p1.a().send("3");
      assertEquals(List.of(p1.b()), f.get(10, TimeUnit.SECONDS));
      assertEquals("3", p1.b().recv());

      p1.a().close(); // end of stream is ready too
      assertEquals(List.of(p1.b()), Connection.waitAny(all, 5, TimeUnit.SECONDS));

      assertThrows(IllegalArgumentException.class, () -> Connection.waitAny(List.of("x"), 1, TimeUnit.SECONDS));
      assertThrows(IllegalArgumentException.class, () -> Connection.waitAny(List.of(), 1, TimeUnit.SECONDS));
      p2.b().close();
      assertThrows(HandleClosedException.class, () -> Connection.waitAny(all, 1, TimeUnit.SECONDS));
    }
  }

  @Test
  void closingAConnectionEndsAWaitAnyOnIt() throws Exception {
    try (Pipe p = Pipe.open(names.next("wclose"))) {
      CompletableFuture<Object> f = CompletableFuture.supplyAsync(() -> {
        try {
          return Connection.waitAny(List.of(p.b()));
        } catch (Exception e) {
          return e;
        }
      });
      assertNull(p.a().recv(100, TimeUnit.MILLISECONDS));
      long t0 = System.nanoTime();
      p.b().close();
      assertInstanceOf(HandleClosedException.class, f.get(10, TimeUnit.SECONDS));
      assertTrue(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0) < CANCEL_BOUND_MS);
    }
  }
}
