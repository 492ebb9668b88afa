using System;
using System.Threading;
using Polyipc.Native;

namespace Polyipc
{
    /// <summary>
    /// A named barrier of a fixed number of participants (1..256) shared by processes in any language
    /// (Python's multiprocessing.Barrier, made robust). <see cref="SignalAndWait"/> returns this
    /// caller's arrival index (0 first, ParticipantCount - 1 last), and the barrier is ready for the
    /// next round at once.
    /// <code>
    /// using (var phase = Barrier.Open("phase", 3))
    /// {
    ///     int index = phase.SignalAndWait(TimeSpan.FromSeconds(30), ct);
    ///     if (index == 0) Console.WriteLine("first to arrive");
    /// }
    /// </code>
    /// Broken: a timeout, a cancellation, <see cref="Abort"/>, <see cref="Reset"/> or a waiting process
    /// that dies breaks the barrier for every waiter: they get BrokenBarrierException (the one that
    /// timed out gets PolyipcTimeoutException, the cancelled one OperationCanceledException), and so
    /// does every later SignalAndWait until <see cref="Reset"/>.
    /// SignalAndWait arrives, then waits in native slices of at most 50 ms; on cancellation, on its own
    /// deadline or on Dispose it gives up its arrival, which breaks the barrier (as Java's CyclicBarrier
    /// does on interrupt) unless the round completed meanwhile: then that counts and it returns the index.
    /// Note: the name clashes with System.Threading.Barrier in a file that uses both namespaces;
    /// write Polyipc.Barrier there (or `using Barrier = Polyipc.Barrier;`).
    /// </summary>
    public sealed class Barrier : IDisposable
    {
        private readonly string name;
        private readonly int participantCount;
        private readonly SyncHandle<NativeBarrier> handle;

        private Barrier(string name, NativeBarrier native, int participantCount)
        {
            this.name = name;
            this.participantCount = participantCount;
            handle = new SyncHandle<NativeBarrier>("Polyipc.Barrier", "barrier '" + name + "'", native);
        }

        /// <summary>
        /// Opens (or creates) barrier <paramref name="name"/> of <paramref name="participantCount"/>
        /// parties (1..256; PolyipcArgumentException otherwise). An existing barrier of another count is
        /// IncompatibleException.
        /// </summary>
        public static Barrier Open(string name, int participantCount, SyncOptions options = null)
        {
            Library.CheckName(name);
            if (participantCount <= 0) throw new ArgumentOutOfRangeException("participantCount", "participantCount must be 1..256");
            Library.EnsureLoaded();
            var o = SyncOptions.OrDefault(options);
            NativeBarrier h = NativeBarrier.open(name, (int)o.OpenMode, (uint)participantCount, (uint)o.Mode, o.Ephemeral ? 1 : 0);
            if (h == null) throw new PolyipcException(Status.System, "barrier '" + name + "': open returned no handle");
            return new Barrier(name, h, participantCount);
        }

        /// <summary>The barrier's name (in the namespace $POLYIPC_NAMESPACE).</summary>
        public string Name
        {
            get { return name; }
        }

        /// <summary>The number of parties a round needs.</summary>
        public int ParticipantCount
        {
            get { return participantCount; }
        }

        /// <summary>How many parties are waiting in the current round (0 when broken; Python's n_waiting).</summary>
        public int ParticipantsWaiting
        {
            get { return (int)handle.Use(h => h.n_waiting()); }
        }

        /// <summary>How many more parties the current round needs.</summary>
        public int ParticipantsRemaining
        {
            get { return participantCount - ParticipantsWaiting; }
        }

        /// <summary>Whether the barrier is broken (until <see cref="Reset"/>).</summary>
        public bool IsBroken
        {
            get { return handle.Use(h => h.broken()) != 0; }
        }

        /// <summary>
        /// Arrives and waits for the other parties, up to <paramref name="timeout"/> (null: forever):
        /// returns the arrival index. PolyipcTimeoutException when the time runs out and
        /// OperationCanceledException when <paramref name="ct"/> is cancelled (either breaks the
        /// barrier); BrokenBarrierException when it is, or becomes, broken.
        /// </summary>
        public int SignalAndWait(TimeSpan? timeout = null, CancellationToken ct = default(CancellationToken))
        {
            var deadline = SlicedDeadline.Start(timeout);
            ct.ThrowIfCancellationRequested();
            // The handle is held for the whole wait: Dispose from another thread makes it give up
            // its arrival (breaking the barrier) at the next slice instead of leaving it behind.
            NativeBarrier h = handle.Enter();
            try
            {
                ulong ticket = h.arrive();
                for (;;)
                {
                    long slice = deadline.NextSlice();
                    try
                    {
                        return (int)h.await_ticket(ticket, slice);
                    }
                    catch (PolyipcTimeoutException e) when (e.Status == Status.Timeout)
                    {
                        bool cancelled = ct.IsCancellationRequested;
                        bool disposed = handle.DisposeRequested;
                        if (!cancelled && !disposed && !deadline.Expired) continue;
                        // Giving up: a round that completed meanwhile still counts; otherwise the
                        // barrier breaks for everyone (cancel_ticket, unlike abort, never breaks a
                        // later round).
                        try
                        {
                            return (int)h.cancel_ticket(ticket);
                        }
                        catch (BrokenBarrierException) { }
                        if (cancelled) throw new OperationCanceledException(ct);
                        if (disposed) throw handle.Disposed();
                        throw new PolyipcTimeoutException(handle.Label + ": not all " + participantCount +
                            " parties arrived within the timeout; the barrier is now broken");
                    }
                }
            }
            finally
            {
                handle.Leave();
            }
        }

        /// <summary>Breaks the barrier: every waiter gets BrokenBarrierException, and so does every later
        /// SignalAndWait until <see cref="Reset"/>.</summary>
        public void Abort()
        {
            handle.Use(h => h.abort());
        }

        /// <summary>Starts a fresh round: waiters of the current one get BrokenBarrierException; the
        /// barrier is no longer broken.</summary>
        public void Reset()
        {
            handle.Use(h => h.reset());
        }

        /// <summary>The barrier's state and counters as a JSON object.</summary>
        public string StatJson()
        {
            return handle.Use(h => h.stat_json());
        }

        /// <summary>Removes the name; open handles keep working.</summary>
        public void Unlink()
        {
            Names.Unlink(name);
        }

        /// <summary>Closes this handle (idempotent); never unlinks. A SignalAndWait in progress on another
        /// thread gives up its arrival (which breaks the barrier) and throws ObjectDisposedException within one slice.</summary>
        public void Dispose()
        {
            handle.Dispose();
        }

        public override string ToString()
        {
            return "Polyipc.Barrier(" + name + ")";
        }
    }
}
