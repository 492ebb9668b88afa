using System;
using System.Threading;

namespace Polyipc
{
    /// <summary>How a zero-copy guard ends (the `how` of polyipc_cs_queue_end_zero_copy).</summary>
    internal enum ZeroCopyEnd
    {
        Commit = 0,
        Cancel = 1,
        Release = 2,
    }

    /// <summary>
    /// Room for one message in a queue's ring, from <see cref="Queue.Reserve"/>: write the bytes
    /// through <see cref="Span"/>, then <see cref="Commit"/> publishes them, or <see cref="Cancel"/>
    /// (or Dispose without Commit) drops them.
    /// <code>
    /// using (var r = q.Reserve(n))
    /// {
    ///     Span&lt;byte&gt; s = r.Span;
    ///     Fill(s);
    ///     r.Commit();
    /// }
    /// </code>
    /// Lifetime rules (the Span points into shared memory, not into a managed array):
    ///  - <see cref="Span"/> is valid until the reservation ends (Commit, Cancel or Dispose); after
    ///    that the property throws ObjectDisposedException. A Span taken before must not be used
    ///    after: it then points at ring space the queue hands to others (or, when it was the last
    ///    guard of a disposed Queue, at unmapped memory). A Span is a ref struct: the compiler keeps
    ///    it in the method that took it (and the methods it passes it to), never in a field, a lambda,
    ///    an async method or another thread, so the rule is one you can check in that method: take
    ///    the Span inside the using block and end the reservation last.
    ///  - Disposing the <see cref="Queue"/> does not end it: the Queue's native handle (and the
    ///    ring's mapping) stays open until the last guard ends, and the reservation keeps working
    ///    (Span, Commit, Cancel). A Span in use on another thread while the Queue is disposed stays
    ///    valid.
    ///  - Commit, Cancel and Dispose may be called from any thread (the ticket belongs to the
    ///    process), but not while another thread still writes through a Span of this reservation.
    ///  - Commit or Cancel a second time (after either, or after Dispose):
    ///    InvalidOperationException; Dispose after anything does nothing.
    ///  - Dispose it: one never ended holds its ring space until the process exits (there is no
    ///    finalizer, so a Span taken from it can never be ended behind your back by the garbage
    ///    collector), and keeps a disposed Queue's native handle open.
    /// </summary>
    public sealed unsafe class Reservation : IDisposable
    {
        private readonly Queue queue;
        private readonly byte* data;
        private readonly int length;
        private readonly ulong ticket;
        private int ended; // 0 while live, else (int)ZeroCopyEnd + 1 of the call that ended it

        internal Reservation(Queue queue, IntPtr data, int length, ulong ticket)
        {
            this.queue = queue;
            this.data = (byte*)data;
            this.length = length;
            this.ticket = ticket;
        }

        /// <summary>The number of bytes reserved (the message's length once committed).</summary>
        public int Length
        {
            get { return length; }
        }

        /// <summary>Whether the reservation has ended (committed, cancelled or disposed).</summary>
        public bool IsEnded
        {
            get { return Volatile.Read(ref ended) != 0; }
        }

        /// <summary>
        /// The reserved bytes, in the ring itself: exactly <see cref="Length"/> bytes, writable, of
        /// unspecified content until written. Valid until the reservation ends (see the lifetime
        /// rules above); afterwards ObjectDisposedException. With mcs, write through a local
        /// (<c>var s = r.Span; s[0] = 1;</c>).
        /// </summary>
        public Span<byte> Span
        {
            get
            {
                if (Volatile.Read(ref ended) != 0) throw Ended("its Span is gone");
                return new Span<byte>(data, length);
            }
        }

        /// <summary>
        /// Publishes the bytes as a message (FIFO/LIFO: as a put now would; PRIORITY: priority 0). On
        /// a JSON queue they must be one valid UTF-8 JSON value: InvalidJsonException otherwise, and
        /// the reservation is dropped (the queue is unchanged). The reservation has ended after
        /// Commit, whatever the outcome. Already ended: InvalidOperationException.
        /// </summary>
        public void Commit()
        {
            Begin(ZeroCopyEnd.Commit);
            queue.EndZeroCopy(ticket, ZeroCopyEnd.Commit, true);
        }

        /// <summary>Drops the reservation: nothing is published. Already ended: InvalidOperationException.</summary>
        public void Cancel()
        {
            Begin(ZeroCopyEnd.Cancel);
            queue.EndZeroCopy(ticket, ZeroCopyEnd.Cancel, true);
        }

        /// <summary>Cancels the reservation if neither Commit nor Cancel was called; otherwise does nothing. Never throws.</summary>
        public void Dispose()
        {
            if (Interlocked.CompareExchange(ref ended, (int)ZeroCopyEnd.Cancel + 1, 0) != 0) return;
            queue.EndZeroCopy(ticket, ZeroCopyEnd.Cancel, false);
        }

        private void Begin(ZeroCopyEnd how)
        {
            if (Interlocked.CompareExchange(ref ended, (int)how + 1, 0) != 0)
                throw new InvalidOperationException(EndedText("it cannot be " + (how == ZeroCopyEnd.Commit ? "committed" : "cancelled")));
        }

        private ObjectDisposedException Ended(string what)
        {
            return new ObjectDisposedException("Polyipc.Reservation", EndedText(what));
        }

        private string EndedText(string what)
        {
            string how = Volatile.Read(ref ended) == (int)ZeroCopyEnd.Commit + 1 ? "committed" : "cancelled";
            return "queue '" + queue.Name + "': this reservation of " + length + " bytes was " + how + " already: " + what;
        }

        public override string ToString()
        {
            return "Polyipc.Reservation(" + queue.Name + ", " + length + " bytes" + (IsEnded ? ", ended)" : ")");
        }
    }

    /// <summary>
    /// A message taken from a queue but left in its ring, from <see cref="Queue.Borrow"/>: read it
    /// through <see cref="Span"/>, then <see cref="Release"/> (or Dispose) frees its space.
    /// <code>
    /// using (var m = q.Borrow())
    /// {
    ///     ReadOnlySpan&lt;byte&gt; s = m.Span;
    ///     Parse(s);
    /// }
    /// </code>
    /// The message is taken when Borrow returns (others get the ones behind it meanwhile); the
    /// lifetime rules are those of <see cref="Reservation"/>: <see cref="Span"/> is valid until
    /// Release or Dispose (afterwards ObjectDisposedException; a Span taken before must not be
    /// used after), disposing the Queue does not end it (the ring stays mapped until the last guard
    /// ends), Release a second time throws InvalidOperationException, Dispose after anything does
    /// nothing, and one never released holds the message's ring space until the process exits. A
    /// process that dies holding it gives the message back to the queue for the next getter.
    /// </summary>
    public sealed unsafe class Borrowed : IDisposable
    {
        private readonly Queue queue;
        private readonly byte* data;
        private readonly long length;
        private readonly ulong ticket;
        private int released; // 0 or 1

        internal Borrowed(Queue queue, IntPtr data, long length, ulong ticket)
        {
            this.queue = queue;
            this.data = (byte*)data;
            this.length = length;
            this.ticket = ticket;
        }

        /// <summary>The message's length in bytes (InvalidOperationException past 2 GiB - 1: see <see cref="LongLength"/>).</summary>
        public int Length
        {
            get
            {
                if (length > int.MaxValue) throw TooLong();
                return (int)length;
            }
        }

        /// <summary>The message's length in bytes.</summary>
        public long LongLength
        {
            get { return length; }
        }

        /// <summary>Whether the message has been released (Release or Dispose).</summary>
        public bool IsReleased
        {
            get { return Volatile.Read(ref released) != 0; }
        }

        /// <summary>
        /// The message's bytes, in the ring itself, read only. Valid until the release (see the
        /// lifetime rules above); afterwards ObjectDisposedException. A message longer than 2 GiB - 1
        /// does not fit one Span: InvalidOperationException (use <see cref="GetSpan"/>).
        /// </summary>
        public ReadOnlySpan<byte> Span
        {
            get
            {
                Live();
                if (length > int.MaxValue) throw TooLong();
                return new ReadOnlySpan<byte>(data, (int)length);
            }
        }

        /// <summary>
        /// <paramref name="count"/> bytes of the message from <paramref name="offset"/>, as
        /// <see cref="Span"/> (ArgumentOutOfRangeException outside the message).
        /// </summary>
        public ReadOnlySpan<byte> GetSpan(long offset, int count)
        {
            Live();
            if (offset < 0 || offset > length) throw new ArgumentOutOfRangeException("offset");
            if (count < 0 || count > length - offset) throw new ArgumentOutOfRangeException("count");
            return new ReadOnlySpan<byte>(data + offset, count);
        }

        /// <summary>
        /// Releases the message: its ring space is reused (the message itself was taken by Borrow).
        /// Already released: InvalidOperationException.
        /// </summary>
        public void Release()
        {
            if (Interlocked.Exchange(ref released, 1) != 0)
                throw new InvalidOperationException(ReleasedText("it cannot be released again"));
            queue.EndZeroCopy(ticket, ZeroCopyEnd.Release, true);
        }

        /// <summary>Releases the message if <see cref="Release"/> was not called; otherwise does nothing. Never throws.</summary>
        public void Dispose()
        {
            if (Interlocked.Exchange(ref released, 1) != 0) return;
            queue.EndZeroCopy(ticket, ZeroCopyEnd.Release, false);
        }

        private void Live()
        {
            if (Volatile.Read(ref released) != 0)
                throw new ObjectDisposedException("Polyipc.Borrowed", ReleasedText("its Span is gone"));
        }

        private InvalidOperationException TooLong()
        {
            return new InvalidOperationException("queue '" + queue.Name + "': the borrowed message of " + length +
                                                 " bytes does not fit one Span; use LongLength and GetSpan(offset, count)");
        }

        private string ReleasedText(string what)
        {
            return "queue '" + queue.Name + "': this borrowed message of " + length + " bytes was released already: " + what;
        }

        public override string ToString()
        {
            return "Polyipc.Borrowed(" + queue.Name + ", " + length + " bytes" + (IsReleased ? ", released)" : ")");
        }
    }
}
