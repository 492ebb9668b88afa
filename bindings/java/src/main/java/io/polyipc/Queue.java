package io.polyipc;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.lang.ref.Cleaner;
import java.lang.ref.Reference;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Collection;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * A named queue in shared memory, shared with processes in any language (Go, C#, Python, Rust, C, Java).
 * Messages are JSON text (the default; every put is validated) or bytes ({@link Format#BYTES}); strings go
 * in and out as UTF-8.
 *
 * <pre>{@code
 * try (Queue jobs = Queue.builder("jobs").joinable(true).open()) {
 *   jobs.putObject(Map.of("job", 1));
 *   Job job = jobs.takeObject(Job.class);
 *   jobs.taskDone();
 * }
 * }</pre>
 *
 * <p>It is a {@link BlockingQueue}{@code <String>} with the java.util.concurrent conventions: {@link
 * #put}/{@link #take} block, honouring {@link Thread#interrupt()} within about 50 ms ({@link
 * InterruptedException}); {@link #offer(String, long, TimeUnit)} answers false and {@link #poll(long,
 * TimeUnit)} null when the time runs out; {@link #add} throws {@link IllegalStateException} when full and
 * {@link #remove()}/{@link #element()} {@link NoSuchElementException} when empty. The methods that would
 * need to walk or edit the middle of a queue other processes are using ({@link #iterator()}, {@link
 * #contains}, {@link #remove(Object)}, {@link #toArray()} ...) throw {@link UnsupportedOperationException}.
 *
 * <p>End of stream: after {@link #closeWrites()} (from any process) puts throw {@link ClosedException};
 * getters receive what is left, then {@link #take}, {@link #poll} and friends throw {@link
 * ClosedException}; {@link #forEachUntilClosed} is the consuming loop that takes every message until then
 * and ends there normally. Joinable queues ({@link Builder#joinable(boolean)}): each get is a lease until {@link
 * #taskDone()} (the process's oldest lease) or {@link #taskDone(String)} (the lease on that message, for
 * threads finishing out of order); if the getting process dies first, the message goes back to the queue.
 *
 * <p>Zero copy, for large messages: {@link #reserve(int)} gives a {@link Reservation}, room in the queue's
 * ring to write a message into before {@link Reservation#commit()} publishes it; {@link #borrow()} gives a
 * {@link Borrowed} message, read in place until {@link Borrowed#release()}. Each saves one copy of the
 * message.
 *
 * <p>A handle is safe to use from several threads. {@link #close()} releases this handle only (idempotent;
 * it waits for calls in progress, at most one 50 ms wait slice); afterwards every call throws {@link
 * HandleClosedException}. It also cancels this handle's reservations and releases its borrowed messages
 * still outstanding; buffers they gave stay valid memory (the native handle is kept until the last one is
 * unreachable). Nothing in this binding ever unlinks a queue except {@link #unlink()} and {@link
 * Polyipc#unlink(String)}: not close, not the garbage collector, not JVM exit.
 */
public final class Queue implements BlockingQueue<String>, AutoCloseable {
  /** The longest single wait in native code, so interrupts and close() are noticed quickly. */
  static final long SLICE_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

  private static final long FOREVER = -1;
  static final Cleaner CLEANER = Cleaner.create();

  private final String name;
  private final ObjectMapper mapper;
  // The guard around the native handle: every call counts itself in `users` (enter/exit) for as long as it
  // uses the handle; close() sets `closing`, then waits for `users` to drop to 0 before it releases the
  // handle. A call that finds `closing` set backs out with HandleClosedException. (One atomic add each way:
  // the entering call adds, then reads `closing`; close() writes `closing`, then reads `users`; so one of
  // them always sees the other.)
  private static final VarHandle USERS;

  static {
    try {
      USERS = MethodHandles.lookup().findVarHandle(Queue.class, "users", int.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private volatile int users;
  private volatile boolean closing; // set once, by close()
  private volatile Thread closer; // the thread in close() waiting for `users` to drop to 0
  private final Object closeLock = new Object();
  private NativeQueue handle; // null once closed; read between enter() and exit(), written by close()
  private long address; // the handle's native pointer (0 once closed), for the fast paths; as `handle`
  private NativeRef nativeRef; // who releases the handle (null once closed); as `handle`
  private ScratchBuffer scratch; // the buffer of the thread that used this queue last (see scratch())
  private final Cleaner.Cleanable release;
  private volatile Options options; // fetched from the queue's stat on first need

  /** The options the queue really has (those of its creator). */
  private static final class Options {
    final Order order;
    final Format format;
    final boolean joinable;
    final long maxItems;
    final long capacityBytes;

    Options(JsonNode stat) {
      order = Order.fromName(stat.path("order").asText("fifo"));
      format = Format.fromName(stat.path("format").asText("json"));
      joinable = stat.path("joinable").asBoolean(false);
      maxItems = stat.path("max_items").asLong(0);
      capacityBytes = stat.path("capacity_bytes").asLong(0);
    }
  }

  /**
   * The native handle and who holds it: this Queue (until close() or its Cleaner), each zero-copy ticket
   * still outstanding ({@link Lease}) and each buffer handed out over the ring (until it is unreachable).
   * polyipc_queue_close, which unmaps the ring, runs at the last unref, so no reachable buffer ever points
   * at unmapped memory.
   */
  static final class NativeRef extends RefCount {
    final NativeQueue handle;
    final long address;
    final Set<Lease> leases = ConcurrentHashMap.newKeySet(); // the tickets outstanding

    NativeRef(NativeQueue handle) {
      super(handle::delete);
      this.handle = handle;
      this.address = NativeQueue.getCPtr(handle);
    }

    /** A buffer over the ring keeps the handle until it (and every view of it) is unreachable. */
    void holdFor(ByteBuffer buffer) {
      ref();
      CLEANER.register(buffer, this::unref);
    }

    /** The Queue lets go: ends the tickets still outstanding, then drops its reference. */
    void closeOwner() {
      for (Lease l : leases) l.endQuietly();
      unref();
    }
  }

  static final int COMMIT = 0;
  static final int CANCEL = 1;
  static final int RELEASE = 2;

  /**
   * A zero-copy ticket of this process (a reservation or a borrowed message), ended exactly once: by its
   * guard ({@link Reservation}, {@link Borrowed}), by Queue.close(), or (as its Runnable) by the Cleaner
   * when the guard was dropped without ending it. Holds a reference on the handle until it ends. Never
   * refers to its guard, so the guard can be collected.
   */
  static final class Lease implements Runnable {
    final NativeRef ref;
    final long ticket;
    final boolean borrowed;
    private final AtomicBoolean ended = new AtomicBoolean();
    // The guard's buffer, emptied (limit 0) at the end so that a stray use of it throws instead of
    // touching other messages' bytes. Dropped then, so the lease never keeps it reachable after the end.
    private volatile ByteBuffer shown;

    Lease(NativeRef ref, long ticket, boolean borrowed) {
      this.ref = ref;
      this.ticket = ticket;
      this.borrowed = borrowed;
      ref.leases.add(this);
      ref.ref();
    }

    /** The buffer the guard hands out, to be emptied at the end. */
    void show(ByteBuffer buffer) {
      shown = buffer;
    }

    /** Whether it ended (or an end is under way). */
    boolean ended() {
      return ended.get();
    }

    /** Claims the end; false when it ended already. A claimed lease must then be finished with end(how). */
    boolean claim() {
      return ended.compareAndSet(false, true);
    }

    /** The native end of a claimed lease; throws what the library reports (the ticket is ended anyway). */
    void end(int how) {
      try {
        polyipc_nativeJNI.NativeQueue_end(ref.address, ticket, how);
      } finally {
        ByteBuffer b = shown;
        shown = null;
        if (b != null) b.limit(0); // best effort: another thread's view of the fields may lag
        ref.leases.remove(this);
        ref.unref();
      }
    }

    /** Cancels a reservation or releases a borrowed message, if it has not ended yet; never throws. */
    void endQuietly() {
      if (!claim()) return;
      try {
        end(borrowed ? RELEASE : CANCEL);
      } catch (RuntimeException ignored) {
        // the ticket is gone either way; nobody to tell (a Cleaner, or close())
      }
    }

    @Override
    public void run() {
      endQuietly();
    }
  }

  /** Closes a handle that was dropped without close(): releases it, never unlinks. */
  private static final class Release implements Runnable {
    private final NativeRef ref;

    Release(NativeRef ref) {
      this.ref = ref;
    }

    @Override
    public void run() {
      ref.closeOwner();
    }
  }

  private Queue(String name, NativeQueue handle, ObjectMapper mapper) {
    this.name = name;
    this.handle = handle;
    this.nativeRef = new NativeRef(handle);
    this.address = nativeRef.address;
    this.mapper = mapper;
    this.release = CLEANER.register(this, new Release(nativeRef));
  }

  // ---- opening --------------------------------------------------------------------------------------

  /** Opens queue {@code name}, creating it (FIFO, JSON, not joinable, 1 MiB) if it does not exist. */
  public static Queue open(String name) {
    return builder(name).open();
  }

  /** Options for opening or creating queue {@code name}; finish with {@link Builder#open()}. */
  public static Builder builder(String name) {
    return new Builder(Polyipc.requireName(name));
  }

  /**
   * How to open a queue. By default it opens the queue or creates it with the options given; when it exists
   * its order, format and joinable must agree with them ({@link IncompatibleException} otherwise).
   */
  public static final class Builder {
    private final String name;
    private SyncOptions how = SyncOptions.DEFAULT; // open mode, permission bits, ephemeral
    private boolean optionsGiven;
    private Order order = Order.FIFO;
    private Format format = Format.JSON;
    private boolean joinable;
    private long maxItems;
    private long capacityBytes;
    private long maxMessageBytes;
    private ObjectMapper mapper;

    private Builder(String name) {
      this.name = name;
    }

    /** FIFO (default), LIFO or PRIORITY (lowest priority first). */
    public Builder order(Order order) {
      this.order = Objects.requireNonNull(order, "order");
      optionsGiven = true;
      return this;
    }

    /** JSON (default: puts are validated) or BYTES. */
    public Builder format(Format format) {
      this.format = Objects.requireNonNull(format, "format");
      optionsGiven = true;
      return this;
    }

    /** Joinable: {@link #taskDone()}/{@link #join()} work, and each get is a lease until taskDone. */
    public Builder joinable(boolean joinable) {
      this.joinable = joinable;
      optionsGiven = true;
      return this;
    }

    /** At most this many messages (Python's maxsize); 0 (default): bounded by capacityBytes only. */
    public Builder maxItems(long maxItems) {
      this.maxItems = Polyipc.requireNonNegative(maxItems, "maxItems");
      optionsGiven = true;
      return this;
    }

    /** Shared memory for the messages; 0: the library's default (1 MiB). */
    public Builder capacityBytes(long capacityBytes) {
      this.capacityBytes = Polyipc.requireNonNegative(capacityBytes, "capacityBytes");
      optionsGiven = true;
      return this;
    }

    /** The largest message; 0 (default): as large as capacityBytes allows. */
    public Builder maxMessageBytes(long maxMessageBytes) {
      this.maxMessageBytes = Polyipc.requireNonNegative(maxMessageBytes, "maxMessageBytes");
      optionsGiven = true;
      return this;
    }

    /** Permission bits of a created queue, e.g. {@code 0600} (the default) or {@code 0660}. */
    public Builder mode(int mode) {
      how = how.mode(mode);
      optionsGiven = true;
      return this;
    }

    /** Ephemeral: the queue is unlinked when the last attached process detaches or dies. */
    public Builder ephemeral(boolean ephemeral) {
      how = how.ephemeral(ephemeral);
      optionsGiven = true;
      return this;
    }

    /** Fail with {@link AlreadyExistsException} if the name exists. */
    public Builder createOnly() {
      how = how.createOnly();
      return this;
    }

    /**
     * Fail with {@link NotFoundException} if the name does not exist. Without other options it attaches to
     * the queue whatever its options are.
     */
    public Builder openOnly() {
      how = how.openOnly();
      return this;
    }

    /** Open the queue or create it (the default). */
    public Builder openOrCreate() {
      how = how.openOrCreate();
      return this;
    }

    /** The Jackson mapper for {@link Queue#putObject} and {@link Queue#takeObject}; default: a plain one. */
    public Builder objectMapper(ObjectMapper mapper) {
      this.mapper = Objects.requireNonNull(mapper, "mapper");
      return this;
    }

    /** Opens (or creates) the queue. */
    public Queue open() {
      NativeLoader.load();
      NativeQueue h;
      if (how.openMode == SyncOptions.OPEN_ONLY && !optionsGiven) {
        h = NativeQueue.open_existing(name);
      } else {
        h = NativeQueue.open(name, how.openMode, order.code, format.code, joinable ? 1 : 0, maxItems, capacityBytes,
            maxMessageBytes, how.mode, how.ephemeral ? 1 : 0);
      }
      return new Queue(name, Polyipc.requireHandle("queue", name, h), mapper);
    }
  }

  // ---- the guard around the native handle ----------------------------------------------------------

  /** Counts a call in; HandleClosedException when the handle is closed or being closed. Pair with exit(). */
  private void enter() {
    USERS.getAndAdd(this, 1);
    if (closing) {
      exit();
      throw closedHandle();
    }
  }

  private void exit() {
    if ((int) USERS.getAndAdd(this, -1) == 1 && closing) {
      Thread t = closer;
      if (t != null) LockSupport.unpark(t);
    }
  }

  /** The live handle; call between enter() and exit(). */
  private NativeQueue live() {
    NativeQueue h = handle;
    if (h == null) throw closedHandle();
    return h;
  }

  /** The live handle's native pointer; call between enter() and exit(). */
  private long liveAddress() {
    long a = address;
    if (a == 0) throw closedHandle();
    return a;
  }

  /** The live handle's owner; call between enter() and exit(). */
  private NativeRef liveRef() {
    NativeRef r = nativeRef;
    if (r == null) throw closedHandle();
    return r;
  }

  HandleClosedException closedHandle() {
    return new HandleClosedException("queue '" + name + "': this handle was closed");
  }

  /**
   * The calling thread's scratch buffer: the one this queue used last when it is the caller's, else the
   * thread-local one (ScratchBuffer.owner is final, so a racy read of the field is safe).
   */
  private ScratchBuffer scratch() {
    ScratchBuffer s = scratch;
    if (s == null || s.owner != Thread.currentThread().getId()) {
      s = ScratchBuffer.get();
      scratch = s;
    }
    return s;
  }

  /**
   * Releases this handle (the queue itself stays, for everyone). Idempotent; waits for calls in progress on
   * other threads, which then throw {@link HandleClosedException} instead of waiting further.
   */
  @Override
  public void close() {
    synchronized (closeLock) {
      if (handle == null) return;
      closer = Thread.currentThread();
      closing = true;
      boolean interrupted = false;
      while (users != 0) { // calls in progress end within a wait slice
        LockSupport.parkNanos(this, TimeUnit.MILLISECONDS.toNanos(1));
        if (Thread.interrupted()) interrupted = true;
      }
      closer = null;
      handle = null;
      address = 0;
      nativeRef = null;
      scratch = null;
      release.clean(); // runs Release once: ends outstanding tickets, then polyipc_queue_close once unheld
      if (interrupted) Thread.currentThread().interrupt();
    }
  }

  /** For {@link Reservation} and {@link Borrowed}: counts a call in (pair with {@link #exitGuard()}). */
  void enterGuard() {
    enter();
  }

  void exitGuard() {
    exit();
  }

  /**
   * For {@link Connection#waitAny}: the live handle, counted in (pair with {@link #exitNative()}), never
   * blocking; HandleClosedException when closed or being closed.
   */
  NativeQueue tryEnterNative() {
    enter();
    NativeQueue h = handle;
    if (h == null) {
      exit();
      throw closedHandle();
    }
    return h;
  }

  void exitNative() {
    exit();
  }

  /** Whether {@link #close()} was called on this handle. */
  public boolean isClosed() {
    return closing;
  }

  /** Removes the queue's name (see {@link Polyipc#unlink}); attached handles, this one too, keep working. */
  public void unlink() {
    Polyipc.unlink(name);
  }

  // ---- native calls in slices --------------------------------------------------------------------

  private static long toNanos(long timeout, TimeUnit unit) {
    Objects.requireNonNull(unit, "unit");
    return timeout <= 0 ? 0 : unit.toNanos(timeout);
  }

  /**
   * One native put of at most {@code slice} ns: true when put, false when there was no room. Messages up to
   * {@link ScratchBuffer#MAX} bytes are already in {@code s} (see {@link ScratchBuffer}); larger ones
   * ({@code s == null}) go as the array.
   */
  private boolean putOnce(ScratchBuffer s, byte[] data, long priority, long slice) {
    enter();
    try {
      if (s != null) return polyipc_nativeJNI.NativeQueue_put(liveAddress(), s.address, data.length, priority, slice) == 0;
      try {
        live().put_array(data, priority, slice);
        return true;
      } catch (FullException | PolyipcTimeoutException e) {
        return false;
      }
    } finally {
      exit();
      Reference.reachabilityFence(this); // the Cleaner must not release the handle during the call
    }
  }

  /** The thread's scratch buffer holding data, or null when data is too large for one. */
  private ScratchBuffer staged(byte[] data) {
    if (data.length > ScratchBuffer.MAX) return null;
    ScratchBuffer s = scratch();
    s.load(data);
    return s;
  }

  /**
   * Puts bytes, waiting up to timeoutNanos (FOREVER: no limit) in slices. Answers false when there was no
   * room in time.
   */
  private boolean putRaw(byte[] data, long priority, long timeoutNanos) throws InterruptedException {
    final long start = timeoutNanos > 0 ? System.nanoTime() : 0;
    final ScratchBuffer s = staged(data);
    for (;;) {
      if (Thread.interrupted()) throw new InterruptedException("put on queue '" + name + "' interrupted");
      long slice;
      if (timeoutNanos < 0) {
        slice = SLICE_NANOS;
      } else {
        slice = Math.min(SLICE_NANOS, Math.max(0, timeoutNanos - (System.nanoTime() - start)));
      }
      if (putOnce(s, data, priority, slice)) return true;
      if (slice == 0 || (timeoutNanos >= 0 && System.nanoTime() - start >= timeoutNanos)) return false;
    }
  }

  /** Non-blocking put; false when full. */
  private boolean putNow(byte[] data, long priority) {
    return putOnce(staged(data), data, priority, 0);
  }

  /** getOnce found nothing. */
  private static final int NOTHING = -1;
  /** getOnce took a message larger than the scratch buffer: it is in {@link ScratchBuffer#large}. */
  private static final int LARGE = -2;

  /**
   * One native get of at most {@code slice} ns into the thread's scratch buffer: the length of the message
   * taken, {@link #NOTHING}, or {@link #LARGE}. Throws ClosedException at the end of the stream.
   */
  private int getOnce(ScratchBuffer s, long slice) {
    enter();
    try {
      final long q = liveAddress();
      long r = polyipc_nativeJNI.NativeQueue_get(q, s.address, s.capacity, slice);
      while (r < NOTHING) { // the next message needs -2 - r bytes; it is still in the queue
        long need = -2 - r;
        if (need > ScratchBuffer.MAX) {
          try {
            s.large = live().get_array(0);
            return LARGE;
          } catch (EmptyException | PolyipcTimeoutException e) {
            return NOTHING; // another getter took it first
          }
        }
        s.ensure((int) need);
        r = polyipc_nativeJNI.NativeQueue_get(q, s.address, s.capacity, 0);
      }
      return (int) r;
    } finally {
      exit();
      Reference.reachabilityFence(this);
    }
  }

  /**
   * Gets into the thread's scratch buffer (see {@link #getOnce}), waiting up to timeoutNanos (FOREVER: no
   * limit) in slices. Throws ClosedException at the end of the stream.
   */
  private int getRaw(ScratchBuffer s, long timeoutNanos) throws InterruptedException {
    final long start = timeoutNanos > 0 ? System.nanoTime() : 0;
    for (;;) {
      if (Thread.interrupted()) throw new InterruptedException("get on queue '" + name + "' interrupted");
      long slice;
      if (timeoutNanos < 0) {
        slice = SLICE_NANOS;
      } else {
        slice = Math.min(SLICE_NANOS, Math.max(0, timeoutNanos - (System.nanoTime() - start)));
      }
      int r = getOnce(s, slice);
      if (r != NOTHING) return r;
      if (slice == 0 || (timeoutNanos >= 0 && System.nanoTime() - start >= timeoutNanos)) return NOTHING;
    }
  }

  /** What getOnce/getRaw produced, as bytes (null: nothing). */
  private static byte[] bytesOf(ScratchBuffer s, int r) {
    if (r == NOTHING) return null;
    if (r == LARGE) return s.takeLarge();
    return s.toBytes(r);
  }

  /** What getOnce/getRaw produced, as a String (null: nothing). */
  private static String stringOf(ScratchBuffer s, int r) {
    if (r == NOTHING) return null;
    if (r == LARGE) return string(s.takeLarge());
    return s.toUtf8String(r);
  }

  /**
   * Gets bytes, waiting up to timeoutNanos (FOREVER: no limit) in slices; null when nothing came in time.
   * Throws ClosedException at the end of the stream.
   */
  private byte[] getRaw(long timeoutNanos) throws InterruptedException {
    ScratchBuffer s = scratch();
    return bytesOf(s, getRaw(s, timeoutNanos));
  }

  /** Non-blocking get as a String; null when empty. */
  private String getStringNow() {
    ScratchBuffer s = scratch();
    return stringOf(s, getOnce(s, 0));
  }

  /** {@link #getRaw(long)} as a String. */
  private String getString(long timeoutNanos) throws InterruptedException {
    ScratchBuffer s = scratch();
    return stringOf(s, getRaw(s, timeoutNanos));
  }

  private static byte[] utf8(String s) {
    return Objects.requireNonNull(s, "message").getBytes(StandardCharsets.UTF_8);
  }

  private static String string(byte[] b) {
    return b == null ? null : new String(b, StandardCharsets.UTF_8);
  }

  // ---- BlockingQueue<String>: putting ------------------------------------------------------------

  /**
   * Puts a message, waiting as long as it takes for room.
   *
   * @throws InvalidJsonException a JSON-format queue was given malformed JSON (the queue is unchanged)
   * @throws ClosedException the queue was closed for writing
   * @throws InterruptedException the thread was interrupted while waiting
   */
  @Override
  public void put(String message) throws InterruptedException {
    putRaw(utf8(message), 0, FOREVER);
  }

  /** {@link #put(String)} with a priority (PRIORITY queues: lowest first; ignored by FIFO/LIFO). */
  public void put(String message, long priority) throws InterruptedException {
    putRaw(utf8(message), priority, FOREVER);
  }

  /** Puts a message if there is room now; false if not. */
  @Override
  public boolean offer(String message) {
    return putNow(utf8(message), 0);
  }

  /** Puts a message, waiting up to the timeout for room; false if there was none in time. */
  @Override
  public boolean offer(String message, long timeout, TimeUnit unit) throws InterruptedException {
    return putRaw(utf8(message), 0, toNanos(timeout, unit));
  }

  /** {@link #offer(String, long, TimeUnit)} with a priority. */
  public boolean offer(String message, long priority, long timeout, TimeUnit unit) throws InterruptedException {
    return putRaw(utf8(message), priority, toNanos(timeout, unit));
  }

  /**
   * Puts a message if there is room now.
   *
   * @throws IllegalStateException the queue is full
   */
  @Override
  public boolean add(String message) {
    if (!offer(message)) throw new IllegalStateException("queue '" + name + "' is full");
    return true;
  }

  /** {@link #add} of each message, in order. */
  @Override
  public boolean addAll(Collection<? extends String> messages) {
    if (messages == this) throw new IllegalArgumentException("addAll of a queue to itself");
    boolean changed = false;
    for (String m : messages) changed |= add(m);
    return changed;
  }

  // ---- BlockingQueue<String>: getting -------------------------------------------------------------

  /**
   * Takes the next message, waiting as long as it takes.
   *
   * @throws ClosedException the queue was closed for writing and is drained (end of stream)
   * @throws InterruptedException the thread was interrupted while waiting
   */
  @Override
  public String take() throws InterruptedException {
    return getString(FOREVER);
  }

  /**
   * The consuming loop: takes the messages one by one as {@link #take()} does, passes each to {@code action},
   * and returns normally at the end of the stream ({@link #closeWrites()} from any process, and the queue
   * drained). The {@link ClosedException} that {@link #take()} throws there ends the loop; nothing else does.
   *
   * <pre>{@code
   * long n = jobs.forEachUntilClosed(m -> {
   *   handle(m);
   *   jobs.taskDone(m); // joinable queues: each message is a lease, as with take()
   * });
   * }</pre>
   *
   * <p>Each step is one {@link #take()}: nothing is taken ahead, so messages the loop did not reach stay in
   * the queue for the next getter. It blocks as {@link #take()} does (in 50 ms slices) while the queue is
   * empty and the stream not ended. On a joinable queue each message passed to {@code action} is a lease,
   * exactly as with {@link #take()}: the caller marks it done ({@link #taskDone()} or {@link
   * #taskDone(String)}).
   *
   * <p>An exception thrown by {@code action} propagates at once and ends the loop; the message it was given
   * has been taken (and, on a joinable queue, is leased by this process) all the same. That is also the way
   * to stop early: throw from {@code action} (a {@link ClosedException} thrown by {@code action} propagates
   * too; it is not taken for the end of this queue's stream), or use {@link #take()} in a loop of your own.
   *
   * <p>Unlike {@link #iterator()} (unsupported: the {@link Collection} contract does not consume), this
   * method empties the queue.
   *
   * @param action called with each message taken, in the queue's order
   * @return the number of messages passed to {@code action} (every call of it returned normally)
   * @throws InterruptedException the thread was interrupted while waiting (noticed within about 50 ms; the
   *     interrupt status is cleared, as {@link #take()} does)
   * @throws HandleClosedException this handle was closed, also by another thread while the loop waits
   */
  public long forEachUntilClosed(Consumer<? super String> action) throws InterruptedException {
    Objects.requireNonNull(action, "action");
    long n = 0;
    for (;;) {
      String m;
      try {
        m = take();
      } catch (ClosedException endOfStream) {
        return n;
      }
      action.accept(m);
      ++n;
    }
  }

  /**
   * Takes the next message if there is one now; null if not.
   *
   * @throws ClosedException the queue was closed for writing and is drained
   */
  @Override
  public String poll() {
    return getStringNow();
  }

  /**
   * Takes the next message, waiting up to the timeout; null if none came in time.
   *
   * @throws ClosedException the queue was closed for writing and is drained
   */
  @Override
  public String poll(long timeout, TimeUnit unit) throws InterruptedException {
    return getString(toNanos(timeout, unit));
  }

  /**
   * Takes the next message if there is one now.
   *
   * @throws NoSuchElementException the queue is empty
   */
  @Override
  public String remove() {
    String m = poll();
    if (m == null) throw new NoSuchElementException("queue '" + name + "' is empty");
    return m;
  }

  /**
   * The next message without taking it, or null when there is none. It is read by name from the
   * namespace; on JSON queues it comes back re-serialised (the same JSON value; whitespace may differ).
   * Another process may take it before you do.
   */
  @Override
  public String peek() {
    JsonNode item = peekItem();
    if (item == null) return null;
    if (item.has("base64")) return string(Base64.getDecoder().decode(item.get("base64").asText()));
    try {
      return Json.mapper().writeValueAsString(item.get("message"));
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * {@link #peek()}, but throws when the queue is empty.
   *
   * @throws NoSuchElementException the queue is empty
   */
  @Override
  public String element() {
    String m = peek();
    if (m == null) throw new NoSuchElementException("queue '" + name + "' is empty");
    return m;
  }

  private JsonNode peekItem() {
    String json;
    enter();
    try {
      live();
      json = polyipc_native.polyipc_native_peek_json(name, 1);
    } finally {
      exit();
    }
    try {
      JsonNode items = Json.mapper().readTree(json);
      return items.size() == 0 ? null : items.get(0);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Takes every message there is now into {@code c} (each one a lease on joinable queues: call {@link
   * #taskDone()} for each). Stops quietly at the end of the stream.
   */
  @Override
  public int drainTo(Collection<? super String> c) {
    return drainTo(c, Integer.MAX_VALUE);
  }

  /** {@link #drainTo(Collection)}, taking at most maxElements. */
  @Override
  public int drainTo(Collection<? super String> c, int maxElements) {
    Objects.requireNonNull(c, "collection");
    if (c == this) throw new IllegalArgumentException("drainTo of a queue to itself");
    int n = 0;
    while (n < maxElements) {
      String m;
      try {
        m = getStringNow();
      } catch (ClosedException e) {
        break;
      }
      if (m == null) break;
      c.add(m);
      ++n;
    }
    return n;
  }

  /** Takes and discards every message there is now; on joinable queues marks each one done. */
  @Override
  public void clear() {
    boolean joinable = options().joinable;
    ScratchBuffer s = scratch();
    for (;;) {
      int r;
      try {
        r = getOnce(s, 0);
      } catch (ClosedException e) {
        return;
      }
      if (r == NOTHING) return;
      s.large = null;
      if (joinable) taskDone();
    }
  }

  // ---- sizes ----------------------------------------------------------------------------------------

  /** The number of messages waiting (Python's qsize()); leased messages are not counted. */
  @Override
  public int size() {
    long n = sizeAsLong();
    return n > Integer.MAX_VALUE ? Integer.MAX_VALUE : (int) n;
  }

  /** {@link #size()} as a long. */
  public long sizeAsLong() {
    enter();
    try {
      return live().size();
    } finally {
      exit();
    }
  }

  @Override
  public boolean isEmpty() {
    return sizeAsLong() == 0;
  }

  /**
   * How many more messages maxItems allows now; {@link Integer#MAX_VALUE} when the queue has no maxItems.
   * (capacityBytes may still refuse a large message.)
   */
  @Override
  public int remainingCapacity() {
    long max = options().maxItems;
    if (max <= 0) return Integer.MAX_VALUE;
    long left = Math.max(0, max - sizeAsLong());
    return left > Integer.MAX_VALUE ? Integer.MAX_VALUE : (int) left;
  }

  // ---- bytes and objects --------------------------------------------------------------------------

  /** Puts raw bytes (on JSON queues they must be UTF-8 JSON text), waiting for room. */
  public void putBytes(byte[] message) throws InterruptedException {
    putRaw(Objects.requireNonNull(message, "message"), 0, FOREVER);
  }

  /** {@link #putBytes(byte[])} with a priority. */
  public void putBytes(byte[] message, long priority) throws InterruptedException {
    putRaw(Objects.requireNonNull(message, "message"), priority, FOREVER);
  }

  /** Puts raw bytes, waiting up to the timeout; false when there was no room in time. */
  public boolean offerBytes(byte[] message, long priority, long timeout, TimeUnit unit) throws InterruptedException {
    return putRaw(Objects.requireNonNull(message, "message"), priority, toNanos(timeout, unit));
  }

  /** Takes the next message as bytes, waiting as long as it takes. */
  public byte[] takeBytes() throws InterruptedException {
    return getRaw(FOREVER);
  }

  /**
   * {@link #forEachUntilClosed(Consumer)} with each message as bytes, taken as {@link #takeBytes()} takes
   * it (for {@link Format#BYTES} queues whose messages need not be UTF-8). The same rules: one {@link
   * #takeBytes()} per message, nothing taken ahead; the end of the stream ends it normally; an exception
   * thrown by {@code action} propagates at once (the message it was given has been taken); on a joinable
   * queue each message is a lease ({@link #taskDone(byte[])}).
   *
   * @return the number of messages passed to {@code action}
   * @throws InterruptedException the thread was interrupted while waiting (the interrupt status is cleared)
   * @throws HandleClosedException this handle was closed, also by another thread while the loop waits
   */
  public long forEachBytesUntilClosed(Consumer<? super byte[]> action) throws InterruptedException {
    Objects.requireNonNull(action, "action");
    long n = 0;
    for (;;) {
      byte[] m;
      try {
        m = takeBytes();
      } catch (ClosedException endOfStream) {
        return n;
      }
      action.accept(m);
      ++n;
    }
  }

  /** Takes the next message as bytes, waiting up to the timeout; null if none came. */
  public byte[] pollBytes(long timeout, TimeUnit unit) throws InterruptedException {
    return getRaw(toNanos(timeout, unit));
  }

  private ObjectMapper mapper() {
    return mapper != null ? mapper : Json.mapper();
  }

  private byte[] serialize(Object value) {
    try {
      return mapper().writeValueAsBytes(value);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("queue '" + name + "': cannot write " + value.getClass().getName()
          + " as JSON: " + e.getOriginalMessage(), e);
    }
  }

  private <T> T deserialize(byte[] message, Class<T> type) {
    if (message == null) return null;
    try {
      return mapper().readValue(message, type);
    } catch (IOException e) {
      throw new UncheckedIOException("queue '" + name + "': the message taken does not read as "
          + type.getName() + ": " + e.getMessage(), e);
    }
  }

  private <T> T deserialize(byte[] message, TypeReference<T> type) {
    if (message == null) return null;
    try {
      return mapper().readValue(message, type);
    } catch (IOException e) {
      throw new UncheckedIOException("queue '" + name + "': the message taken does not read as "
          + type.getType() + ": " + e.getMessage(), e);
    }
  }

  /** Puts {@code value} written as JSON by Jackson, waiting for room. */
  public void putObject(Object value) throws InterruptedException {
    putRaw(serialize(value), 0, FOREVER);
  }

  /** {@link #putObject(Object)} with a priority. */
  public void putObject(Object value, long priority) throws InterruptedException {
    putRaw(serialize(value), priority, FOREVER);
  }

  /** Puts {@code value} as JSON, waiting up to the timeout; false when there was no room in time. */
  public boolean offerObject(Object value, long timeout, TimeUnit unit) throws InterruptedException {
    return putRaw(serialize(value), 0, toNanos(timeout, unit));
  }

  /**
   * Takes the next message and reads it as a {@code type} with Jackson, waiting as long as it takes.
   *
   * @throws UncheckedIOException the message does not read as a {@code type} (it is taken all the same)
   * @throws ClosedException end of stream
   */
  public <T> T takeObject(Class<T> type) throws InterruptedException {
    return deserialize(getRaw(FOREVER), type);
  }

  /** {@link #takeObject(Class)} for generic types, e.g. {@code new TypeReference<Map<String, Object>>() {}}. */
  public <T> T takeObject(TypeReference<T> type) throws InterruptedException {
    return deserialize(getRaw(FOREVER), type);
  }

  /** {@link #takeObject(Class)} waiting up to the timeout; null if nothing came in time. */
  public <T> T pollObject(Class<T> type, long timeout, TimeUnit unit) throws InterruptedException {
    return deserialize(getRaw(toNanos(timeout, unit)), type);
  }

  // ---- zero copy ------------------------------------------------------------------------------------

  /**
   * Reserves room for a message of {@code length} bytes in the queue's ring, waiting as long as it takes:
   * write the bytes into {@link Reservation#buffer()}, then {@link Reservation#commit()} publishes them
   * (priority 0; a JSON queue validates them then). Use try-with-resources: {@link Reservation#close()}
   * cancels a reservation that was not committed. Saves the copy a {@link #putBytes} makes, for large
   * messages; the room (and the ring behind it, for every process) is held until commit or cancel, so
   * keep it short. If this process dies first, the reservation is dropped.
   *
   * @throws TooLargeException {@code length} exceeds the queue's maxMessageBytes (it would never fit)
   * @throws ClosedException the queue was closed for writing
   * @throws InterruptedException the thread was interrupted while waiting
   */
  public Reservation reserve(int length) throws InterruptedException {
    return reserveRaw(length, FOREVER);
  }

  /**
   * {@link #reserve(int)} waiting up to the timeout; null when there was no room in time ({@link
   * Duration#ZERO}: only if there is room now).
   */
  public Reservation reserve(int length, Duration timeout) throws InterruptedException {
    return reserveRaw(length, durationNanos(timeout));
  }

  /** {@link #reserve(int)} waiting up to the timeout; null when there was no room in time. */
  public Reservation reserve(int length, long timeout, TimeUnit unit) throws InterruptedException {
    return reserveRaw(length, toNanos(timeout, unit));
  }

  /**
   * Takes the next message as {@link #take()} does, waiting as long as it takes, but leaves its bytes in
   * the queue's ring: read them through {@link Borrowed#buffer()} (read-only), then {@link
   * Borrowed#release()} (or close, with try-with-resources). Saves the copy a {@link #takeBytes} makes,
   * for large messages; the ring behind the message is held (for every process) until the release, so keep
   * it short. If this process dies first, the message goes back to the queue for the next getter. On a
   * joinable queue it is also a lease until {@link #taskDone()}, as a take is.
   *
   * @throws ClosedException the queue was closed for writing and is drained (end of stream)
   * @throws InterruptedException the thread was interrupted while waiting
   */
  public Borrowed borrow() throws InterruptedException {
    return borrowRaw(FOREVER);
  }

  /**
   * {@link #borrow()} waiting up to the timeout; null when nothing came in time ({@link Duration#ZERO}:
   * only if there is a message now).
   */
  public Borrowed borrow(Duration timeout) throws InterruptedException {
    return borrowRaw(durationNanos(timeout));
  }

  /** {@link #borrow()} waiting up to the timeout; null when nothing came in time. */
  public Borrowed borrow(long timeout, TimeUnit unit) throws InterruptedException {
    return borrowRaw(toNanos(timeout, unit));
  }

  private static long durationNanos(Duration timeout) {
    Objects.requireNonNull(timeout, "timeout");
    return timeout.isNegative() ? 0 : saturatedNanos(timeout);
  }

  /** The wait slice: SLICE_NANOS, or less when the timeout ends sooner (0: do not wait). */
  private static long slice(long timeoutNanos, long start) {
    if (timeoutNanos < 0) return SLICE_NANOS;
    return Math.min(SLICE_NANOS, Math.max(0, timeoutNanos - (System.nanoTime() - start)));
  }

  private Reservation reserveRaw(int length, long timeoutNanos) throws InterruptedException {
    if (length < 0) throw new IllegalArgumentException("queue '" + name + "': reserve of " + length + " bytes");
    final long[] ticket = new long[1];
    return zeroCopySliced("reserve", timeoutNanos, slice -> {
      NativeRef ref = liveRef();
      ByteBuffer b = polyipc_nativeJNI.NativeQueue_reserve(ref.address, length, slice, ticket);
      return b == null ? null : leased(ref, ticket[0], false, lease -> new Reservation(this, lease, b));
    });
  }

  private Borrowed borrowRaw(long timeoutNanos) throws InterruptedException {
    final long[] ticket = new long[1];
    return zeroCopySliced("borrow", timeoutNanos, slice -> {
      NativeRef ref = liveRef();
      ByteBuffer b = polyipc_nativeJNI.NativeQueue_borrow(ref.address, slice, ticket);
      return b == null ? null : leased(ref, ticket[0], true, lease -> new Borrowed(this, lease, b));
    });
  }

  /**
   * The wait of reserve and borrow: one native attempt of at most a slice at a time (once returns null
   * when there was no room or nothing came), between the handle guard's enter and exit, until it gives
   * something or the time runs out (null).
   */
  private <T> T zeroCopySliced(String what, long timeoutNanos, java.util.function.LongFunction<T> once)
      throws InterruptedException {
    final long start = timeoutNanos > 0 ? System.nanoTime() : 0;
    for (;;) {
      if (Thread.interrupted()) throw new InterruptedException(what + " on queue '" + name + "' interrupted");
      long slice = slice(timeoutNanos, start);
      T t;
      enter();
      try {
        t = once.apply(slice);
      } finally {
        exit();
        Reference.reachabilityFence(this);
      }
      if (t != null) return t;
      if (slice == 0 || (timeoutNanos >= 0 && System.nanoTime() - start >= timeoutNanos)) return null;
    }
  }

  /** make(lease) for the ticket the native call just took; the ticket is ended at once if that fails. */
  private static <T> T leased(NativeRef ref, long ticket, boolean borrowed, java.util.function.Function<Lease, T> make) {
    Lease lease;
    try {
      lease = new Lease(ref, ticket, borrowed);
    } catch (RuntimeException | Error e) {
      polyipc_nativeJNI.NativeQueue_end(ref.address, ticket, borrowed ? RELEASE : CANCEL);
      throw e;
    }
    try {
      return make.apply(lease);
    } catch (RuntimeException | Error e) {
      lease.endQuietly();
      throw e;
    }
  }

  // ---- joinable and end of stream -----------------------------------------------------------------

  /**
   * Marks one message taken by this process as done (joinable queues).
   *
   * @throws InvalidArgumentException the queue is not joinable, or nothing is outstanding
   */
  public void taskDone() {
    enter();
    try {
      live().task_done();
    } finally {
      exit();
    }
  }

  /**
   * Marks done the message this process took that is exactly {@code message} (joinable queues): the
   * lease on those bytes ends, whichever of this process's leases is oldest.
   *
   * <p>Use it when several threads take messages and finish them out of order (a thread pool): {@link
   * #taskDone()} ends this process's oldest lease, which may be another thread's unfinished message; if
   * the process then died, that message would be lost and the finished one handed out again. With {@code
   * taskDone(message)} a process that dies leaves exactly its unfinished messages to be handed out again.
   *
   * <p>Pass the message as it was taken: the String from {@link #take()}/{@link #poll()} (its UTF-8
   * encoding is the exact bytes got), not a re-serialized object. On a {@link Format#BYTES} queue whose
   * messages may not be UTF-8, take them with {@link #takeBytes()} and use {@link #taskDone(byte[])}. Of
   * two leases on equal messages it ends the older, which then does not matter.
   *
   * @throws InvalidArgumentException the queue is not joinable, or this process holds no lease on {@code
   *     message}
   */
  public void taskDone(String message) {
    taskDoneMessage(utf8(message));
  }

  /**
   * {@link #taskDone(String)} for the message as bytes, exactly as {@link #takeBytes()} (or {@link
   * #borrow()}, copied out) got it.
   *
   * @throws InvalidArgumentException the queue is not joinable, or this process holds no lease on {@code
   *     message}
   */
  public void taskDone(byte[] message) {
    taskDoneMessage(Objects.requireNonNull(message, "message"));
  }

  private void taskDoneMessage(byte[] message) {
    enter();
    try {
      live().task_done_message(message);
    } finally {
      exit();
    }
  }

  /** Waits until every message put was taken and marked done (joinable queues). */
  public void join() throws InterruptedException {
    joinRaw(FOREVER);
  }

  /** {@link #join()} waiting up to the timeout; false if work was still outstanding then. */
  public boolean join(long timeout, TimeUnit unit) throws InterruptedException {
    return joinRaw(toNanos(timeout, unit));
  }

  /** {@link #join()} waiting up to the timeout; false if work was still outstanding then. */
  public boolean join(Duration timeout) throws InterruptedException {
    return joinRaw(timeout.isNegative() ? 0 : saturatedNanos(timeout));
  }

  private static long saturatedNanos(Duration d) {
    try {
      return d.toNanos();
    } catch (ArithmeticException e) {
      return Long.MAX_VALUE;
    }
  }

  private boolean joinRaw(long timeoutNanos) throws InterruptedException {
    final long start = timeoutNanos > 0 ? System.nanoTime() : 0;
    for (;;) {
      if (Thread.interrupted()) throw new InterruptedException("join on queue '" + name + "' interrupted");
      long slice;
      if (timeoutNanos < 0) {
        slice = SLICE_NANOS;
      } else {
        slice = Math.min(SLICE_NANOS, Math.max(0, timeoutNanos - (System.nanoTime() - start)));
      }
      enter();
      try {
        live().join(slice);
        return true;
      } catch (PolyipcTimeoutException e) {
        if (slice == 0 || (timeoutNanos >= 0 && System.nanoTime() - start >= timeoutNanos)) return false;
      } finally {
        exit();
      }
    }
  }

  /**
   * Ends the stream, for every process: puts fail from now on, getters receive what is left and then
   * {@link ClosedException}. Idempotent.
   */
  public void closeWrites() {
    enter();
    try {
      live().close_writes();
    } finally {
      exit();
    }
  }

  // ---- about the queue ------------------------------------------------------------------------------

  /** The queue's name. */
  public String name() {
    return name;
  }

  /** The queue's order (that of its creator). */
  public Order order() {
    return options().order;
  }

  /** The queue's format (that of its creator). */
  public Format format() {
    return options().format;
  }

  /** Whether the queue is joinable. */
  public boolean isJoinable() {
    return options().joinable;
  }

  /** The queue's maxItems; 0 when bounded by bytes only. */
  public long maxItems() {
    return options().maxItems;
  }

  /** The queue's capacity in bytes. */
  public long capacityBytes() {
    return options().capacityBytes;
  }

  /** The queue's name, options and counters as a JSON object (see {@code polyipc stat}). */
  public String statJson() {
    enter();
    try {
      return live().stat_json();
    } finally {
      exit();
    }
  }

  private Options options() {
    Options o = options;
    if (o == null) {
      try {
        o = new Options(Json.mapper().readTree(statJson()));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      options = o;
    }
    return o;
  }

  @Override
  public String toString() {
    return "Queue[" + name + (isClosed() ? ", closed handle]" : "]");
  }

  // ---- what a shared queue cannot do -----------------------------------------------------------------

  private UnsupportedOperationException unsupported(String what) {
    return new UnsupportedOperationException(
        what + " is not supported by a shared queue (queue '" + name + "'): other processes change it meanwhile");
  }

  /** Unsupported: a shared queue cannot be walked. @throws UnsupportedOperationException always */
  @Override
  public Iterator<String> iterator() {
    throw unsupported("iterator()");
  }

  /** Unsupported. @throws UnsupportedOperationException always */
  @Override
  public boolean contains(Object o) {
    throw unsupported("contains()");
  }

  /** Unsupported: messages can only be taken from the head. @throws UnsupportedOperationException always */
  @Override
  public boolean remove(Object o) {
    throw unsupported("remove(Object)");
  }

  /** Unsupported. @throws UnsupportedOperationException always */
  @Override
  public Object[] toArray() {
    throw unsupported("toArray()");
  }

  /** Unsupported. @throws UnsupportedOperationException always */
  @Override
  public <T> T[] toArray(T[] a) {
    throw unsupported("toArray()");
  }

  /** Unsupported. @throws UnsupportedOperationException always */
  @Override
  public boolean containsAll(Collection<?> c) {
    throw unsupported("containsAll()");
  }

  /** Unsupported. @throws UnsupportedOperationException always */
  @Override
  public boolean removeAll(Collection<?> c) {
    throw unsupported("removeAll()");
  }

  /** Unsupported. @throws UnsupportedOperationException always */
  @Override
  public boolean retainAll(Collection<?> c) {
    throw unsupported("retainAll()");
  }

  /** Unsupported. @throws UnsupportedOperationException always */
  @Override
  public boolean removeIf(Predicate<? super String> filter) {
    throw unsupported("removeIf()");
  }
}
