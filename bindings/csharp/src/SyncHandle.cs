using System;
using System.Diagnostics;
using System.Threading;

namespace Polyipc
{
    /// <summary>
    /// The native handle of a synchronisation object, guarded as Queue guards its own: a call counts
    /// itself in `calls`, then checks `disposing`; Dispose sets `disposing`, waits until no call is in
    /// progress (waits run in slices, so that is at most one slice), then closes the handle. Closing
    /// never releases a lock and never unlinks.
    /// </summary>
    internal sealed class SyncHandle<T> where T : class, IDisposable
    {
        private readonly string type;  // "Polyipc.Lock", for ObjectDisposedException
        private readonly string label; // "lock 'name'", for messages
        private readonly object gate = new object();
        private T native;
        private int calls;
        private int disposing;

        internal SyncHandle(string type, string label, T native)
        {
            this.type = type;
            this.label = label;
            this.native = native;
        }

        internal string Label
        {
            get { return label; }
        }

        /// <summary>The live handle, counted as in use until <see cref="Leave"/>.</summary>
        internal T Enter()
        {
            Interlocked.Increment(ref calls);
            if (Volatile.Read(ref disposing) != 0)
            {
                Leave();
                throw Disposed();
            }
            return native;
        }

        internal void Leave()
        {
            if (Interlocked.Decrement(ref calls) == 0 && Volatile.Read(ref disposing) != 0)
            {
                lock (gate) Monitor.PulseAll(gate);
            }
        }

        /// <summary>True once Dispose has started: a long wait that holds the handle gives up.</summary>
        internal bool DisposeRequested
        {
            get { return Volatile.Read(ref disposing) != 0; }
        }

        internal ObjectDisposedException Disposed()
        {
            return new ObjectDisposedException(type, label + ": this handle was disposed");
        }

        internal void Use(Action<T> call)
        {
            T h = Enter();
            try
            {
                call(h);
            }
            finally
            {
                Leave();
            }
        }

        internal TResult Use<TResult>(Func<T, TResult> call)
        {
            T h = Enter();
            try
            {
                return call(h);
            }
            finally
            {
                Leave();
            }
        }

        /// <summary>
        /// A blocking native call waited for in slices of <paramref name="deadline"/>: calls
        /// <paramref name="wait"/> with the handle and the slice's native timeout until it returns
        /// (true) or the deadline runs out (false; <paramref name="ranOut"/> is the last slice's
        /// PolyipcTimeoutException). <paramref name="ct"/> is checked before every slice
        /// (OperationCanceledException) and Dispose is noticed by Enter (ObjectDisposedException).
        /// Every other exception, OwnerDeadException included, passes through.
        /// </summary>
        internal bool WaitSliced(SlicedDeadline deadline, CancellationToken ct, Action<T, long> wait, out PolyipcTimeoutException ranOut)
        {
            bool ownerDied;
            return WaitSliced(deadline, ct, wait, false, out ownerDied, out ranOut);
        }

        /// <summary>
        /// <see cref="WaitSliced(SlicedDeadline, CancellationToken, Action{T, long}, out PolyipcTimeoutException)"/>
        /// for a call that takes a robust lock: OwnerDeadException (the lock is held, its previous
        /// holder died) ends the wait as a success, with <paramref name="ownerDied"/> true.
        /// </summary>
        internal bool WaitSlicedRobust(SlicedDeadline deadline, CancellationToken ct, Action<T, long> wait, out bool ownerDied, out PolyipcTimeoutException ranOut)
        {
            return WaitSliced(deadline, ct, wait, true, out ownerDied, out ranOut);
        }

        private bool WaitSliced(SlicedDeadline deadline, CancellationToken ct, Action<T, long> wait, bool robust,
            out bool ownerDied, out PolyipcTimeoutException ranOut)
        {
            ownerDied = false;
            ranOut = null;
            for (;;)
            {
                ct.ThrowIfCancellationRequested();
                long slice = deadline.NextSlice();
                T h = Enter();
                try
                {
                    wait(h, slice);
                    return true;
                }
                catch (OwnerDeadException) when (robust)
                {
                    ownerDied = true;
                    return true;
                }
                catch (PolyipcTimeoutException e) when (e.Status == Status.Timeout)
                {
                    if (deadline.Expired)
                    {
                        ranOut = e;
                        return false;
                    }
                }
                finally
                {
                    Leave();
                }
            }
        }

        /// <summary>
        /// Acquires the robust lock that <paramref name="acquire"/> takes in one slice, for
        /// <paramref name="owner"/> (a Lock, an RLock, a Condition's lock, an array's lock): the guard
        /// releases it and reports <see cref="LockGuard.PreviousOwnerDied"/>. PolyipcTimeoutException
        /// when the time runs out; OperationCanceledException on cancel.
        /// </summary>
        internal LockGuard AcquireLock(IReleasable owner, TimeSpan? timeout, CancellationToken ct, Action<T, long> acquire)
        {
            bool ownerDied;
            PolyipcTimeoutException ranOut;
            if (!WaitSlicedRobust(SlicedDeadline.Start(timeout), ct, acquire, out ownerDied, out ranOut)) throw ranOut;
            return new LockGuard(owner, ownerDied);
        }

        /// <summary><see cref="AcquireLock"/>, but false (and a null guard) when the time runs out.</summary>
        internal bool TryAcquireLock(IReleasable owner, TimeSpan? timeout, CancellationToken ct, Action<T, long> acquire, out LockGuard guard)
        {
            bool ownerDied;
            PolyipcTimeoutException ranOut;
            guard = WaitSlicedRobust(SlicedDeadline.Start(timeout), ct, acquire, out ownerDied, out ranOut) ? new LockGuard(owner, ownerDied) : null;
            return guard != null;
        }

        internal void Dispose()
        {
            Interlocked.Exchange(ref disposing, 1);
            T h;
            lock (gate)
            {
                while (Volatile.Read(ref calls) > 0) Monitor.Wait(gate, 10);
                h = native;
                native = null;
            }
            if (h != null) h.Dispose();
        }
    }

    /// <summary>
    /// The deadline of a blocking call, waited for in native slices of at most 50 ms so that a
    /// CancellationToken and Dispose are noticed within one slice. null: forever; TimeSpan.Zero:
    /// never wait; Timeout.InfiniteTimeSpan: forever; any other negative timeout:
    /// ArgumentOutOfRangeException.
    /// </summary>
    internal struct SlicedDeadline
    {
        internal const long SliceNanos = 50L * 1000 * 1000;

        private readonly long total; // -1 forever, 0 never wait, > 0 nanoseconds
        private readonly long start;

        private SlicedDeadline(long total)
        {
            this.total = total;
            start = total > 0 ? Stopwatch.GetTimestamp() : 0;
        }

        internal static SlicedDeadline Start(TimeSpan? timeout)
        {
            return new SlicedDeadline(ToNanos(timeout));
        }

        internal static long ToNanos(TimeSpan? timeout)
        {
            if (timeout == null) return -1;
            long ticks = timeout.Value.Ticks;
            if (ticks < 0)
            {
                if (timeout.Value == Timeout.InfiniteTimeSpan) return -1;
                throw new ArgumentOutOfRangeException("timeout", "a timeout is null (forever), zero or positive");
            }
            return ticks > long.MaxValue / 100 ? long.MaxValue : ticks * 100;
        }

        internal bool IsImmediate
        {
            get { return total == 0; }
        }

        /// <summary>The native timeout of the next slice: 0 for a zero timeout, else 1 ns .. 50 ms.</summary>
        internal long NextSlice()
        {
            if (total < 0) return SliceNanos;
            if (total == 0) return 0;
            long remaining = total - ElapsedNanos();
            return Math.Max(1, Math.Min(remaining, SliceNanos));
        }

        /// <summary>After a slice ran out: whether the whole timeout has.</summary>
        internal bool Expired
        {
            get { return total == 0 || (total > 0 && ElapsedNanos() >= total); }
        }

        private long ElapsedNanos()
        {
            long ticks = Stopwatch.GetTimestamp() - start;
            return (long)(ticks * (1e9 / Stopwatch.Frequency));
        }
    }
}
