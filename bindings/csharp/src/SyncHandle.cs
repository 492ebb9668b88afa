using System;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Threading;

namespace Polyipc
{
    /// <summary>
    /// A native handle guarded against Dispose (synchronisation objects, pipe ends, queues, pools):
    /// a call counts itself in `calls`, then checks `disposing`; Dispose sets `disposing`, waits
    /// until no call is in progress (waits run in slices, so that is at most one slice), then closes
    /// the handle. Both sides use full fences, so either the call sees `disposing` or Dispose sees
    /// it. Closing never releases a lock and never unlinks.
    /// What outlives the call that made it and still needs the handle (Queue's zero-copy guards,
    /// Pool's tasks) is counted in `holds` (<see cref="Hold"/>) before that call leaves, so Dispose,
    /// once no call is in progress, sees every hold: it sets `closeWhenIdle` and closes if none is
    /// left, otherwise the last <see cref="Release"/> closes. Both sides again use full fences (the
    /// count's decrement / the flag's exchange, then a read of the other): at least one of them sees
    /// both, and CloseNative closes once.
    /// </summary>
    internal sealed class SyncHandle<T> : CallGate where T : class, IDisposable
    {
        private T native; // set to null by CloseNative

        internal SyncHandle(string type, string label, T native) : base(type, label)
        {
            this.native = native;
        }

        /// <summary>The live handle, counted as in use until <see cref="CallGate.Leave"/>.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal T Enter()
        {
            EnterCall();
            return native;
        }

        /// <summary>Whether the native handle is still open (for tests: Dispose defers to holds).</summary>
        internal bool IsNativeOpen
        {
            get { return Volatile.Read(ref native) != null; }
        }

        /// <summary>Closes the native handle (once): by Dispose, or by the last hold released after it.</summary>
        protected override void CloseNative()
        {
            T h = Interlocked.Exchange(ref native, null);
            if (h != null) h.Dispose();
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
            return WaitSliced(deadline, ct, wait, false, false, out ownerDied, out ranOut);
        }

        /// <summary>
        /// <see cref="WaitSliced(SlicedDeadline, CancellationToken, Action{T, long}, out PolyipcTimeoutException)"/>
        /// for a call that takes a robust lock: OwnerDeadException (the lock is held, its previous
        /// holder died) ends the wait as a success, with <paramref name="ownerDied"/> true.
        /// </summary>
        internal bool WaitSlicedRobust(SlicedDeadline deadline, CancellationToken ct, Action<T, long> wait, out bool ownerDied, out PolyipcTimeoutException ranOut)
        {
            return WaitSliced(deadline, ct, wait, true, false, out ownerDied, out ranOut);
        }

        /// <summary>
        /// Calls <paramref name="call"/> with the handle and the next slice's native timeout until it
        /// returns. A slice that runs out (PolyipcTimeoutException: Timeout, or Empty/Full for a zero
        /// wait) is repeated until the whole timeout has run out; then it is thrown, or false comes
        /// back for <paramref name="tryOnly"/>. The token is checked before each slice.
        /// </summary>
        internal bool Sliced(TimeSpan? timeout, CancellationToken ct, bool tryOnly, Action<T, long> call)
        {
            bool ownerDied;
            PolyipcTimeoutException ranOut;
            if (WaitSliced(SlicedDeadline.Start(timeout), ct, call, false, true, out ownerDied, out ranOut)) return true;
            if (tryOnly) return false;
            ExceptionDispatchInfo.Capture(ranOut).Throw(); // rethrown with its own stack
            return false;
        }

        /// <summary>The sliced wait; <paramref name="anyTimeout"/>: every PolyipcTimeoutException ends a
        /// slice, not only Status.Timeout.</summary>
        private bool WaitSliced(SlicedDeadline deadline, CancellationToken ct, Action<T, long> wait, bool robust,
            bool anyTimeout, out bool ownerDied, out PolyipcTimeoutException ranOut)
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
                catch (PolyipcTimeoutException e) when (anyTimeout || e.Status == Status.Timeout)
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
    }

    /// <summary>
    /// The call count and deferred close of a <see cref="SyncHandle{T}"/>, apart from its type
    /// parameter: Mono inlines these non-generic methods into Queue's put/take hot path.
    /// </summary>
    internal abstract class CallGate
    {
        private readonly string type;  // "Polyipc.Lock", for ObjectDisposedException
        private readonly string label; // "lock 'name'", for messages
        private readonly object gate = new object();
        private int calls;
        private int disposing; // 0 or 1
        private int holds;
        private int closeWhenIdle; // 0 or 1: set by Dispose once no call is in progress

        protected CallGate(string type, string label)
        {
            this.type = type;
            this.label = label;
        }

        internal string Label
        {
            get { return label; }
        }

        /// <summary>Counts a call in progress until <see cref="Leave"/>; ObjectDisposedException once disposed.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal void EnterCall()
        {
            Interlocked.Increment(ref calls);
            if (Volatile.Read(ref disposing) != 0) ThrowDisposed();
        }

        /// <summary>For <see cref="EnterCall"/> on a disposed handle: leaves and throws.</summary>
        [MethodImpl(MethodImplOptions.NoInlining)]
        private void ThrowDisposed()
        {
            Leave();
            throw Disposed();
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal void Leave()
        {
            if (Interlocked.Decrement(ref calls) == 0 && Volatile.Read(ref disposing) != 0) WakeDispose();
        }

        /// <summary>The last call out wakes a waiting <see cref="Dispose"/>.</summary>
        [MethodImpl(MethodImplOptions.NoInlining)]
        private void WakeDispose()
        {
            lock (gate) Monitor.PulseAll(gate);
        }

        /// <summary>Counts one more holder of the handle; call it between EnterCall and Leave.</summary>
        internal void Hold()
        {
            Interlocked.Increment(ref holds);
        }

        /// <summary>Uncounts a holder; the last one after Dispose closes the native handle.</summary>
        internal void Release()
        {
            if (Interlocked.Decrement(ref holds) == 0 && Volatile.Read(ref closeWhenIdle) != 0) CloseNative();
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

        /// <summary>Idempotent: waits for calls in progress, then closes unless a hold defers it.</summary>
        internal void Dispose()
        {
            Interlocked.Exchange(ref disposing, 1);
            lock (gate)
            {
                while (Volatile.Read(ref calls) > 0) Monitor.Wait(gate, 10);
            }
            // No call is in progress and none can start: every hold is counted.
            Interlocked.Exchange(ref closeWhenIdle, 1);
            if (Volatile.Read(ref holds) == 0) CloseNative();
        }

        protected abstract void CloseNative();
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
