package io.polyipc;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * One end of a named {@link Pipe} (Python's {@code multiprocessing.connection.Connection}): messages go in
 * order to the other end, in any language. A pipe is JSON (every send is validated) or bytes ({@link
 * Format}); strings go in and out as UTF-8.
 *
 * <pre>{@code
 * try (Connection c = Connection.open("jobs", Connection.End.B)) {   // in another process
 *   for (;;) {
 *     Job job;
 *     try {
 *       job = c.recvObject(Job.class);
 *     } catch (EOFException endOfStream) {  // the other end closed (or its processes died)
 *       break;
 *     }
 *     c.sendObject(new Result(job));
 *   }
 * }
 * }</pre>
 *
 * <p><b>End of stream</b> is {@link EOFException} (checked, the java.io idiom, as Python raises EOFError):
 * the receiving methods throw it once every handle of the other end is closed, or the processes holding it
 * died (noticed within about 100 ms), and everything they sent was received. Sending to an end that is gone
 * throws {@link ClosedException} (unchecked, like a put on a closed {@link Queue}). {@link #poll} answers
 * true at end of stream (a recv would not wait: it would throw EOFException).
 *
 * <p><b>Waiting</b> is done in 50 ms slices: {@link Thread#interrupt()} ends a blocking send, recv or poll
 * with {@link InterruptedException}, and {@link #close()} from another thread is noticed, within about 50
 * ms. {@link #waitAny} waits on several connections and queues at once.
 *
 * <p>A one-way pipe ({@code Pipe.open(name, false)}): only end A sends and only end B receives; the other
 * calls throw {@link InvalidArgumentException}. Several handles (threads, processes) may hold one end.
 * {@link #close()} releases this handle (idempotent); the other end sees the end of stream when no handle
 * of this end is left. Use after close throws {@link HandleClosedException}.
 */
public final class Connection extends SyncHandle<NativePipe> {
  /** The two ends of a pipe. In a one-way pipe, A sends and B receives. */
  public enum End {
    A(0),
    B(1);

    final int code;

    End(int code) {
      this.code = code;
    }
  }

  private final End end;
  private final ObjectMapper mapper;

  Connection(String name, End end, NativePipe handle, ObjectMapper mapper) {
    super("pipe", name, handle, handle::delete);
    this.end = end;
    this.mapper = mapper;
  }

  /**
   * Opens one end of pipe {@code name} as it is (whatever its options), or creates the pipe with the
   * defaults (duplex, JSON, 4 MiB per direction) when it does not exist. {@link Pipe#builder} chooses the
   * options, or refuses to create.
   */
  public static Connection open(String name, End end) {
    Polyipc.requireName(name);
    Objects.requireNonNull(end, "end");
    NativeLoader.load();
    NativePipe h;
    try {
      h = NativePipe.open_existing(name, end.code);
    } catch (NotFoundException missing) {
      h = NativePipe.open(name, 0, end.code, 1, Format.JSON.code, 0, 0, 0);
    }
    return new Connection(name, end, h, null);
  }

  /** Which end of the pipe this is. */
  public End end() {
    return end;
  }

  // ---- sending -------------------------------------------------------------------------------------

  private boolean sendRaw(byte[] data, long timeoutNanos) throws InterruptedException {
    final long start = System.nanoTime();
    for (;;) {
      if (Thread.interrupted()) throw interrupted("send");
      final long slice = slice(timeoutNanos, start);
      NativePipe h = enter();
      try {
        h.send(data, slice);
        return true;
      } catch (FullException | PolyipcTimeoutException e) {
        // no room yet
      } finally {
        exit();
      }
      if (slice == 0 || expired(timeoutNanos, start)) return false;
    }
  }

  /**
   * Sends a message (JSON text on a JSON pipe: validated), waiting as long as it takes for room.
   *
   * @throws InvalidJsonException a JSON pipe was given malformed JSON (nothing was sent)
   * @throws ClosedException the other end is gone (closed by every holder, or their processes died)
   * @throws TooLargeException the message can never fit (larger than the pipe's capacity - 8 bytes)
   * @throws InvalidArgumentException this end may not send (end B of a one-way pipe)
   * @throws InterruptedException the thread was interrupted while waiting for room
   */
  public void send(String message) throws InterruptedException {
    sendRaw(utf8(message), FOREVER);
  }

  /** {@link #send(String)} waiting up to the timeout (at most 0: do not wait); false when there was no room. */
  public boolean send(String message, long timeout, TimeUnit unit) throws InterruptedException {
    return sendRaw(utf8(message), nanos(timeout, unit));
  }

  /** Sends {@code value} written as JSON by Jackson, waiting for room (Python's {@code send(obj)}). */
  public void sendObject(Object value) throws InterruptedException {
    sendRaw(serialize(value), FOREVER);
  }

  /** Sends raw bytes (on a JSON pipe they must be UTF-8 JSON text), waiting for room. */
  public void sendBytes(byte[] message) throws InterruptedException {
    sendRaw(Objects.requireNonNull(message, "message"), FOREVER);
  }

  /** Sends {@code length} bytes of {@code message} from {@code offset} (Python's send_bytes(buf, offset, size)). */
  public void sendBytes(byte[] message, int offset, int length) throws InterruptedException {
    Objects.checkFromIndexSize(offset, length, Objects.requireNonNull(message, "message").length);
    byte[] part = offset == 0 && length == message.length ? message : java.util.Arrays.copyOfRange(message, offset,
        offset + length);
    sendRaw(part, FOREVER);
  }

  /** {@link #sendBytes(byte[])} waiting up to the timeout; false when there was no room in time. */
  public boolean sendBytes(byte[] message, long timeout, TimeUnit unit) throws InterruptedException {
    return sendRaw(Objects.requireNonNull(message, "message"), nanos(timeout, unit));
  }

  // ---- receiving -----------------------------------------------------------------------------------

  /** The next message, waiting up to timeoutNanos (FOREVER: no limit); null when nothing came in time. */
  private byte[] recvRaw(long timeoutNanos) throws EOFException, InterruptedException {
    final long start = System.nanoTime();
    for (;;) {
      if (Thread.interrupted()) throw interrupted("recv");
      final long slice = slice(timeoutNanos, start);
      NativePipe h = enter();
      try {
        return h.recv(slice);
      } catch (EmptyException | PolyipcTimeoutException e) {
        // nothing yet
      } catch (ClosedException e) {
        throw endOfStream(e);
      } finally {
        exit();
      }
      if (slice == 0 || expired(timeoutNanos, start)) return null;
    }
  }

  private EOFException endOfStream(ClosedException cause) {
    EOFException eof = new EOFException("pipe '" + name() + "' end " + end + ": end of stream (" + cause.getMessage()
        + ")");
    eof.initCause(cause);
    return eof;
  }

  /**
   * Receives the next message as a string, waiting as long as it takes.
   *
   * @throws EOFException end of stream: the other end is closed (or its processes died) and all it sent was
   *     received
   * @throws InvalidArgumentException this end may not receive (end A of a one-way pipe)
   * @throws InterruptedException the thread was interrupted while waiting
   */
  public String recv() throws EOFException, InterruptedException {
    return string(recvRaw(FOREVER));
  }

  /** {@link #recv()} waiting up to the timeout (at most 0: do not wait); null when nothing came. */
  public String recv(long timeout, TimeUnit unit) throws EOFException, InterruptedException {
    return string(recvRaw(nanos(timeout, unit)));
  }

  /** Receives the next message as bytes (Python's recv_bytes), waiting as long as it takes. */
  public byte[] recvBytes() throws EOFException, InterruptedException {
    return recvRaw(FOREVER);
  }

  /** {@link #recvBytes()} waiting up to the timeout; null when nothing came. */
  public byte[] recvBytes(long timeout, TimeUnit unit) throws EOFException, InterruptedException {
    return recvRaw(nanos(timeout, unit));
  }

  /**
   * Receives the next message and reads it as a {@code type} with Jackson (Python's {@code recv()}).
   *
   * @throws UncheckedIOException the message does not read as a {@code type} (it is taken all the same)
   */
  public <T> T recvObject(Class<T> type) throws EOFException, InterruptedException {
    return deserialize(recvRaw(FOREVER), type);
  }

  /** {@link #recvObject(Class)} for generic types. */
  public <T> T recvObject(TypeReference<T> type) throws EOFException, InterruptedException {
    byte[] m = recvRaw(FOREVER);
    try {
      return mapper().readValue(m, type);
    } catch (IOException e) {
      throw new UncheckedIOException(notReadable(type.getType().getTypeName(), e), e);
    }
  }

  /** {@link #recvObject(Class)} waiting up to the timeout; null when nothing came. */
  public <T> T recvObject(Class<T> type, long timeout, TimeUnit unit) throws EOFException, InterruptedException {
    return deserialize(recvRaw(nanos(timeout, unit)), type);
  }

  /**
   * Receives the next message into {@code buffer} from index 0 (Python's recv_bytes_into); returns its
   * length.
   *
   * @throws BufferTooShortException the message is longer than the buffer: it was taken and is in the
   *     exception, the buffer is unchanged
   */
  public int recvInto(byte[] buffer) throws EOFException, InterruptedException {
    return recvInto(buffer, 0);
  }

  /** {@link #recvInto(byte[])} at {@code offset} of the buffer. */
  public int recvInto(byte[] buffer, int offset) throws EOFException, InterruptedException {
    Objects.checkFromToIndex(offset, buffer.length, buffer.length);
    byte[] m = recvRaw(FOREVER);
    if (m.length > buffer.length - offset) throw tooShort(m, buffer.length - offset);
    System.arraycopy(m, 0, buffer, offset, m.length);
    return m.length;
  }

  /**
   * Receives the next message into {@code buffer} at its position, which advances past it; returns its
   * length.
   *
   * @throws BufferTooShortException the message is longer than {@code buffer.remaining()}: it was taken and
   *     is in the exception, the buffer is unchanged
   */
  public int recvInto(ByteBuffer buffer) throws EOFException, InterruptedException {
    if (buffer.isReadOnly()) throw new java.nio.ReadOnlyBufferException();
    byte[] m = recvRaw(FOREVER);
    if (m.length > buffer.remaining()) throw tooShort(m, buffer.remaining());
    buffer.put(m);
    return m.length;
  }

  private BufferTooShortException tooShort(byte[] m, int room) {
    return new BufferTooShortException("pipe '" + name() + "': a message of " + m.length + " bytes does not fit in "
        + room + " bytes", m);
  }

  /**
   * Whether a recv would not wait now: a message is there, or the end of stream (then recv throws
   * EOFException).
   */
  public boolean poll() {
    return call(Connection::pollNow);
  }

  private static boolean pollNow(NativePipe h) {
    try {
      h.poll(0);
      return true;
    } catch (PolyipcTimeoutException | EmptyException e) {
      return false;
    } catch (ClosedException e) {
      return true;
    }
  }

  /**
   * Waits up to the timeout (at most 0: do not wait) until a recv would not wait: answers true for a
   * message or the end of stream, false when neither came in time.
   */
  public boolean poll(long timeout, TimeUnit unit) throws InterruptedException {
    return sliced(nanos(timeout, unit), "poll", (h, slice) -> {
      try {
        h.poll(slice);
        return 1;
      } catch (PolyipcTimeoutException | EmptyException e) {
        return 0;
      } catch (ClosedException e) {
        return 1;
      }
    }) != 0;
  }

  // ---- waiting on several ----------------------------------------------------------------------------

  /**
   * Waits until at least one of {@code objects} ({@link Connection}s and {@link Queue}s) is ready, or the
   * timeout passes (at most 0: do not wait); returns the ready ones, in the order given, or an empty list
   * on timeout (Python's {@code multiprocessing.connection.wait}). Ready means a recv/take would not wait:
   * a message, or the end of the stream.
   *
   * @throws IllegalArgumentException an object is neither a Connection nor a Queue, or there is none
   * @throws HandleClosedException one of them is closed (or is closed while waiting)
   * @throws InterruptedException the thread was interrupted (noticed within about 50 ms)
   */
  public static List<Object> waitAny(Collection<?> objects, long timeout, TimeUnit unit) throws InterruptedException {
    return waitAnyRaw(objects, nanos(timeout, unit));
  }

  /** {@link #waitAny(Collection, long, TimeUnit)} without a time limit. */
  public static List<Object> waitAny(Collection<?> objects) throws InterruptedException {
    return waitAnyRaw(objects, FOREVER);
  }

  private static List<Object> waitAnyRaw(Collection<?> objects, long timeoutNanos) throws InterruptedException {
    final List<Object> items = List.copyOf(objects);
    if (items.isEmpty()) throw new IllegalArgumentException("waitAny: nothing to wait on");
    for (Object o : items) {
      if (!(o instanceof Connection) && !(o instanceof Queue)) {
        throw new IllegalArgumentException("waitAny: " + o.getClass().getName() + " is neither a Connection nor a Queue");
      }
    }
    NativeLoader.load();
    final long start = System.nanoTime();
    for (;;) {
      if (Thread.interrupted()) throw new InterruptedException("waitAny interrupted");
      final long slice = slice(timeoutNanos, start);
      // Each slice holds the read side of every handle (so none is released under the native wait), taken
      // without blocking; a close() in progress makes the wait throw HandleClosedException.
      NativeWaitSet set = NativeWaitSet.create();
      int entered = 0;
      try {
        for (Object o : items) {
          if (o instanceof Connection) {
            set.add_pipe(((Connection) o).tryEnter());
          } else {
            set.add_queue(((Queue) o).tryEnterNative());
          }
          ++entered;
        }
        try {
          set.wait_ns(slice);
          List<Object> ready = new ArrayList<>();
          for (int i = 0; i < items.size(); ++i) {
            if (set.ready(i) != 0) ready.add(items.get(i));
          }
          return ready;
        } catch (PolyipcTimeoutException | EmptyException e) {
          // none ready in this slice
        }
      } finally {
        for (int i = 0; i < entered; ++i) {
          Object o = items.get(i);
          if (o instanceof Connection) {
            ((Connection) o).exit();
          } else {
            ((Queue) o).exitNative();
          }
        }
        set.delete();
      }
      if (slice == 0 || expired(timeoutNanos, start)) return new ArrayList<>();
    }
  }

  // ---- helpers -------------------------------------------------------------------------------------

  private static byte[] utf8(String s) {
    return Objects.requireNonNull(s, "message").getBytes(StandardCharsets.UTF_8);
  }

  private static String string(byte[] b) {
    return b == null ? null : new String(b, StandardCharsets.UTF_8);
  }

  private ObjectMapper mapper() {
    return mapper != null ? mapper : Json.mapper();
  }

  private byte[] serialize(Object value) {
    try {
      return mapper().writeValueAsBytes(value);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("pipe '" + name() + "': cannot write "
          + (value == null ? "null" : value.getClass().getName()) + " as JSON: " + e.getOriginalMessage(), e);
    }
  }

  private <T> T deserialize(byte[] message, Class<T> type) {
    if (message == null) return null;
    try {
      return mapper().readValue(message, type);
    } catch (IOException e) {
      throw new UncheckedIOException(notReadable(type.getName(), e), e);
    }
  }

  private String notReadable(String type, IOException e) {
    return "pipe '" + name() + "': the message received does not read as " + type + ": " + e.getMessage();
  }

  @Override
  String nativeStat(NativePipe h) {
    return h.stat_json();
  }

  @Override
  public String toString() {
    return "Connection[" + name() + ", end " + end + (isClosed() ? ", closed handle]" : "]");
  }
}
