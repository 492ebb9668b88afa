package io.polyipc;

import java.lang.ref.Cleaner;
import java.lang.ref.Reference;
import java.nio.ByteBuffer;

/**
 * A message taken from a {@link Queue} but read in place, in the queue's ring, from {@link Queue#borrow()}:
 * read it through {@link #buffer()}, then {@link #release()} it, with no copy.
 *
 * <pre>{@code
 * try (Borrowed m = queue.borrow()) {
 *   ByteBuffer bytes = m.buffer();   // read-only, over the queue's shared memory
 *   process(bytes);
 * }                                  // close(): released
 * }</pre>
 *
 * <p>It is taken as {@link Queue#take()} takes it (others get the messages behind it meanwhile); the ring
 * behind it (for every process) waits for the release: keep it short. It ends once: by {@link #release()},
 * by {@link #close()} (which releases one that did not end), by the queue handle's {@link Queue#close()}
 * (which releases it), or, if it is dropped without any of these, by the garbage collector (released; do
 * not rely on it: the ring waits meanwhile). If this process dies first, the message goes back to the queue
 * for the next getter. On a joinable queue it is also a lease until {@link Queue#taskDone()}.
 *
 * <p>A second {@link #release()}, or {@link #buffer()} after the end, throws {@link IllegalStateException};
 * after the queue handle was closed they throw {@link HandleClosedException} instead. {@link #close()}
 * never throws for either.
 *
 * <p><b>Lifetime of the buffer.</b> The buffer from {@link #buffer()} (and any slice, duplicate or view of
 * it) is valid memory for as long as it is reachable, even after the queue handle is closed: the handle is
 * released only once the last such buffer is garbage collected. But once the message is released, its
 * bytes belong to the queue again and other messages take their place. As a guard, the release empties
 * the buffer itself (limit 0: a stray get through it throws); slices, duplicates and views you made of it
 * are not emptied, and reading through one after the release reads other messages. Copy out what you keep
 * before the release.
 *
 * <p>The guard's methods are safe from any thread; the buffer is one ByteBuffer (not thread-safe): give
 * each thread its own {@code duplicate()} or {@code slice()}.
 */
public final class Borrowed implements AutoCloseable {
  private final Queue queue;
  private final Queue.Lease lease;
  private final ByteBuffer view; // read-only, over the message; keeps the buffer the handle is held for
  private final Cleaner.Cleanable cleanable; // releases the message when this guard is dropped unended

  Borrowed(Queue queue, Queue.Lease lease, ByteBuffer buffer) {
    this.queue = queue;
    this.lease = lease;
    lease.ref.holdFor(buffer); // every view of it keeps it reachable
    this.view = buffer.asReadOnlyBuffer();
    lease.show(view);
    this.cleanable = Queue.CLEANER.register(this, lease);
  }

  /**
   * The direct, read-only ByteBuffer over the message's bytes: capacity {@link #length()}, position 0 and
   * limit {@link #length()} at first. The same buffer each call (its position is where your reads left it);
   * big-endian like every new ByteBuffer (call {@code order(ByteOrder.nativeOrder())} to read binary
   * numbers from C). Emptied (limit 0) when the message is released.
   *
   * @throws IllegalStateException the message was released
   * @throws HandleClosedException the queue handle was closed (which released the message)
   */
  public ByteBuffer buffer() {
    if (lease.ended()) throw ended();
    return view;
  }

  /** The message's length in bytes. */
  public int length() {
    return view.capacity();
  }

  /** The queue it came from. */
  public Queue queue() {
    return queue;
  }

  /**
   * Releases the message: it is taken for good, and its room in the ring comes back.
   *
   * @throws IllegalStateException it was released already
   * @throws HandleClosedException the queue handle was closed (which released the message)
   */
  public void release() {
    queue.enterGuard(); // HandleClosedException once the queue handle is closed
    try {
      if (!lease.claim()) throw ended();
      try {
        lease.end(Queue.RELEASE);
      } finally {
        cleanable.clean(); // nothing left for the Cleaner to do
      }
    } finally {
      queue.exitGuard();
      Reference.reachabilityFence(this);
    }
  }

  /** Whether it ended (released, closed, or released by the queue handle's close()). */
  public boolean isReleased() {
    return lease.ended();
  }

  /** Releases the message unless it was released already; idempotent, quiet after the queue handle's close. */
  @Override
  public void close() {
    if (lease.ended()) return;
    try {
      release();
    } catch (HandleClosedException | IllegalStateException e) {
      // the queue handle's close() releases it, or another thread released it meanwhile
    }
  }

  private RuntimeException ended() {
    if (queue.isClosed()) return queue.closedHandle();
    return new IllegalStateException("queue '" + queue.name() + "': this borrowed message was released already");
  }

  @Override
  public String toString() {
    return "Borrowed[queue '" + queue.name() + "', " + length() + " bytes" + (lease.ended() ? ", released" : "")
        + "]";
  }
}
