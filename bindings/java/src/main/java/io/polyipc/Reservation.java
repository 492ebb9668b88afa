package io.polyipc;

import java.lang.ref.Cleaner;
import java.lang.ref.Reference;
import java.nio.ByteBuffer;

/**
 * Room for one message in a {@link Queue}'s ring, from {@link Queue#reserve(int)}: write the message into
 * {@link #buffer()}, then {@link #commit()} publishes it, with no copy.
 *
 * <pre>{@code
 * try (Reservation r = queue.reserve(frame.length())) {
 *   frame.writeTo(r.buffer());   // straight into the queue's shared memory
 *   r.commit();                  // now getters see it
 * }                              // close(): cancelled if it was not committed
 * }</pre>
 *
 * <p>Until it is committed the bytes are this process's alone, and the ring behind them (for every process)
 * waits for it: keep it short. It ends once: by {@link #commit()}, by {@link #cancel()}, by {@link
 * #close()} (which cancels one that did not end), by the queue handle's {@link Queue#close()} (which
 * cancels it), or, if it is dropped without any of these, by the garbage collector (cancelled; do not rely
 * on it: the ring waits meanwhile). If this process dies first, the reservation is dropped.
 *
 * <p>A second {@link #commit()} or {@link #cancel()}, or {@link #buffer()} after the end, throws {@link
 * IllegalStateException}; after the queue handle was closed they throw {@link HandleClosedException}
 * instead. {@link #close()} never throws for either.
 *
 * <p><b>Lifetime of the buffer.</b> The buffer from {@link #buffer()} (and any slice, duplicate or view of
 * it) is valid memory for as long as it is reachable, even after the queue handle is closed: the handle is
 * released only once the last such buffer is garbage collected. But once the reservation ended, its bytes
 * belong to the queue again. As a guard, the end empties the buffer itself (limit 0: a stray put or get
 * through it throws); slices, duplicates and views you made of it are not emptied, and writing through one
 * after the end changes other processes' messages (or the queue's record headers). Drop them when you
 * commit.
 *
 * <p>The guard's methods are safe from any thread; the buffer is one ByteBuffer (not thread-safe): give
 * each thread its own {@code duplicate()} or {@code slice()}.
 */
public final class Reservation implements AutoCloseable {
  private final Queue queue;
  private final Queue.Lease lease;
  private final ByteBuffer buffer; // over the reserved bytes; the native handle is held while it is reachable
  private final Cleaner.Cleanable cleanable; // cancels the reservation when this guard is dropped unended
  private volatile String endedAs; // "committed", "cancelled" ...

  Reservation(Queue queue, Queue.Lease lease, ByteBuffer buffer) {
    this.queue = queue;
    this.lease = lease;
    this.buffer = buffer;
    lease.ref.holdFor(buffer);
    lease.show(buffer);
    this.cleanable = Queue.CLEANER.register(this, lease);
  }

  /**
   * The direct, writable ByteBuffer over the reserved bytes: capacity {@link #length()}, position 0 and limit
   * {@link #length()} at first. The same buffer each call (its position is where your writes left it);
   * big-endian like every new ByteBuffer (call {@code order(ByteOrder.nativeOrder())} to share binary
   * numbers with C). The bytes are not zeroed: write all of them. Emptied (limit 0) when the reservation
   * ends.
   *
   * @throws IllegalStateException the reservation ended
   * @throws HandleClosedException the queue handle was closed (which cancelled the reservation)
   */
  public ByteBuffer buffer() {
    if (lease.ended()) throw ended();
    return buffer;
  }

  /** The number of bytes reserved: the length of the message commit publishes. */
  public int length() {
    return buffer.capacity();
  }

  /** The queue it belongs to. */
  public Queue queue() {
    return queue;
  }

  /**
   * Publishes the bytes as one message (priority 0). On a JSON queue they are validated first: if they are
   * not valid JSON the message is dropped, and the reservation ends all the same.
   *
   * @throws InvalidJsonException a JSON queue, and the bytes are not valid JSON (dropped)
   * @throws IllegalStateException it ended already (committed or cancelled)
   * @throws HandleClosedException the queue handle was closed (which cancelled the reservation)
   */
  public void commit() {
    end(Queue.COMMIT, "committed");
  }

  /**
   * Drops the reservation: nobody sees its bytes, and the room comes back.
   *
   * @throws IllegalStateException it ended already (committed or cancelled)
   * @throws HandleClosedException the queue handle was closed (which cancelled the reservation)
   */
  public void cancel() {
    end(Queue.CANCEL, "cancelled");
  }

  /** Whether it ended (committed, cancelled, closed, or cancelled by the queue handle's close()). */
  public boolean isEnded() {
    return lease.ended();
  }

  /** Cancels the reservation unless it ended already; idempotent, quiet after the queue handle's close. */
  @Override
  public void close() {
    if (lease.ended()) return;
    try {
      cancel();
    } catch (HandleClosedException | IllegalStateException e) {
      // the queue handle's close() cancels it, or another thread ended it meanwhile
    }
  }

  private void end(int how, String what) {
    queue.enterGuard(); // HandleClosedException once the queue handle is closed
    try {
      if (!lease.claim()) throw ended();
      endedAs = what;
      try {
        lease.end(how);
      } catch (InvalidJsonException e) {
        endedAs = "dropped at commit (not valid JSON)";
        throw e;
      } finally {
        cleanable.clean(); // nothing left for the Cleaner to do
      }
    } finally {
      queue.exitGuard();
      Reference.reachabilityFence(this);
    }
  }

  private RuntimeException ended() {
    if (queue.isClosed()) return queue.closedHandle();
    String how = endedAs;
    return new IllegalStateException("queue '" + queue.name() + "': this reservation was "
        + (how != null ? how : "ended") + " already");
  }

  @Override
  public String toString() {
    String how = endedAs;
    return "Reservation[queue '" + queue.name() + "', " + length() + " bytes"
        + (lease.ended() ? ", " + (how != null ? how : "ended") : "") + "]";
  }
}
