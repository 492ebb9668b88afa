using System;
using System.Threading;
using Newtonsoft.Json.Linq;
using Polyipc.Native;

namespace Polyipc
{
    /// <summary>Slots of a <see cref="Semaphore"/>, from <see cref="Semaphore.Acquire(TimeSpan?, CancellationToken)"/>:
    /// Dispose releases them (once). Any thread may dispose it: slots have no owner thread.</summary>
    public sealed class SemaphoreGuard : IDisposable
    {
        private readonly Semaphore owner;
        private readonly long count;
        private int released;

        internal SemaphoreGuard(Semaphore owner, long count)
        {
            this.owner = owner;
            this.count = count;
        }

        /// <summary>How many slots this guard holds.</summary>
        public long Count
        {
            get { return count; }
        }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref released, 1) != 0) return;
            try
            {
                owner.Release(count);
            }
            catch
            {
                Volatile.Write(ref released, 0);
                throw;
            }
        }
    }

    /// <summary>
    /// A named counting semaphore shared by processes in any language (Python's
    /// multiprocessing.Semaphore / BoundedSemaphore; the names follow SemaphoreSlim). Robust: the
    /// slots a process holds when it dies come back. Bounded (MaxCount set): releasing past the
    /// maximum throws PolyipcArgumentException (Python's ValueError, SemaphoreSlim's SemaphoreFullException).
    /// <code>
    /// using (var slots = Semaphore.Open("gpu.slots", initialCount: 3))
    /// using (slots.Acquire(TimeSpan.FromSeconds(30), ct))
    /// {
    ///     Render();
    /// }
    /// </code>
    /// Timeouts: null waits forever, TimeSpan.Zero never waits; waits run in native slices of at most
    /// 50 ms (CancellationToken: OperationCanceledException, nothing taken). Dispose closes this handle
    /// only (the slots this process holds stay taken until released or until the process exits).
    /// Note: the name clashes with System.Threading.Semaphore in a file that uses both namespaces;
    /// write Polyipc.Semaphore there (or `using Semaphore = Polyipc.Semaphore;`).
    /// </summary>
    public sealed class Semaphore : IDisposable
    {
        private readonly string name;
        private readonly long maxCount; // 0: unbounded
        private readonly SyncHandle<NativeSemaphore> handle;

        private Semaphore(string name, NativeSemaphore native)
        {
            this.name = name;
            handle = new SyncHandle<NativeSemaphore>("Polyipc.Semaphore", "semaphore '" + name + "'", native);
            try
            {
                maxCount = (long)JObject.Parse(handle.Use(h => h.stat_json()))["max"];
            }
            catch
            {
                handle.Dispose();
                throw;
            }
        }

        /// <summary>
        /// Opens semaphore <paramref name="name"/>, creating it with <paramref name="initialCount"/>
        /// free slots if it does not exist. <paramref name="maxCount"/>: null for an unbounded
        /// semaphore, else a BoundedSemaphore whose count never exceeds it. An existing semaphore keeps
        /// its count; another maximum is IncompatibleException, except with OpenMode.OpenOnly, which
        /// takes it as it is.
        /// </summary>
        public static Semaphore Open(string name, long initialCount = 1, long? maxCount = null, SyncOptions options = null)
        {
            Library.CheckName(name);
            if (initialCount < 0) throw new ArgumentOutOfRangeException("initialCount", "initialCount < 0");
            if (maxCount != null && maxCount.Value <= 0) throw new ArgumentOutOfRangeException("maxCount", "maxCount must be positive (null: unbounded)");
            if (maxCount != null && initialCount > maxCount.Value) throw new ArgumentOutOfRangeException("initialCount", "initialCount > maxCount");
            Library.EnsureLoaded();
            var o = SyncOptions.OrDefault(options);
            NativeSemaphore h = NativeSemaphore.open(name, (int)o.OpenMode, (ulong)initialCount, (ulong)(maxCount ?? 0),
                (uint)o.Mode, o.Ephemeral ? 1 : 0);
            if (h == null) throw new PolyipcException(Status.System, "semaphore '" + name + "': open returned no handle");
            return new Semaphore(name, h);
        }

        /// <summary>Python's BoundedSemaphore(value): <paramref name="value"/> slots, never more.</summary>
        public static Semaphore OpenBounded(string name, long value = 1, SyncOptions options = null)
        {
            return Open(name, value, value, options);
        }

        /// <summary>The semaphore's name (in the namespace $POLYIPC_NAMESPACE).</summary>
        public string Name
        {
            get { return name; }
        }

        /// <summary>The maximum count of a bounded semaphore; null when unbounded.</summary>
        public long? MaxCount
        {
            get { return maxCount == 0 ? (long?)null : maxCount; }
        }

        /// <summary>The number of free slots now (Python's get_value()).</summary>
        public long CurrentCount
        {
            get { return (long)handle.Use(h => h.value()); }
        }

        /// <summary>Takes one slot, waiting as long as it takes (or until <paramref name="ct"/> is cancelled).</summary>
        public void Wait(CancellationToken ct)
        {
            Wait(null, ct);
        }

        /// <summary>Takes one slot, waiting up to <paramref name="timeout"/> (null: forever): false when
        /// the time runs out (SemaphoreSlim.Wait).</summary>
        public bool Wait(TimeSpan? timeout = null, CancellationToken ct = default(CancellationToken))
        {
            PolyipcTimeoutException ranOut;
            return WaitCore(1, timeout, ct, out ranOut);
        }

        /// <summary>Takes <paramref name="count"/> slots at once, all or none (0: returns true at once);
        /// false when the time runs out. More than a bounded semaphore's maximum: PolyipcArgumentException.</summary>
        public bool Wait(long count, TimeSpan? timeout = null, CancellationToken ct = default(CancellationToken))
        {
            PolyipcTimeoutException ranOut;
            return WaitCore(count, timeout, ct, out ranOut);
        }

        /// <summary>Takes one slot (PolyipcTimeoutException when the time runs out); the guard gives it back.</summary>
        public SemaphoreGuard Acquire(TimeSpan? timeout = null, CancellationToken ct = default(CancellationToken))
        {
            return Acquire(1, timeout, ct);
        }

        /// <summary>Takes <paramref name="count"/> slots at once (PolyipcTimeoutException when the time
        /// runs out); the guard gives them back.</summary>
        public SemaphoreGuard Acquire(long count, TimeSpan? timeout = null, CancellationToken ct = default(CancellationToken))
        {
            PolyipcTimeoutException ranOut;
            if (!WaitCore(count, timeout, ct, out ranOut)) throw ranOut;
            return new SemaphoreGuard(this, count);
        }

        private bool WaitCore(long count, TimeSpan? timeout, CancellationToken ct, out PolyipcTimeoutException ranOut)
        {
            if (count < 0) throw new ArgumentOutOfRangeException("count", "count < 0");
            return handle.WaitSliced(SlicedDeadline.Start(timeout), ct, (h, slice) => h.acquire((ulong)count, slice), out ranOut);
        }

        /// <summary>Gives back <paramref name="count"/> slots (any process or thread may). Past a bounded
        /// semaphore's maximum: PolyipcArgumentException, and nothing is released.</summary>
        public void Release(long count = 1)
        {
            if (count < 0) throw new ArgumentOutOfRangeException("count", "count < 0");
            handle.Use(h => h.release((ulong)count));
        }

        /// <summary>Takes every slot free now and returns how many.</summary>
        public long Drain()
        {
            return (long)handle.Use(h => h.drain());
        }

        /// <summary>The semaphore's state (value, max, holders) and counters as a JSON object.</summary>
        public string StatJson()
        {
            return handle.Use(h => h.stat_json());
        }

        /// <summary>Removes the name; open handles keep working.</summary>
        public void Unlink()
        {
            Names.Unlink(name);
        }

        /// <summary>Closes this handle (idempotent); never releases slots, never unlinks.</summary>
        public void Dispose()
        {
            handle.Dispose();
        }

        public override string ToString()
        {
            return "Polyipc.Semaphore(" + name + ")";
        }
    }
}
