using System;
using System.Threading;
using Polyipc.Native;

namespace Polyipc
{
    /// <summary>
    /// What the Value and Array classes share: a named array of int64 or double in shared memory
    /// (Python's multiprocessing.Value / Array; a Value is an array of length 1), every operation a
    /// sequentially consistent atomic, plus an optional robust lock for compound updates.
    /// Elements start at 0. An index outside 0..Length-1: ArgumentOutOfRangeException.
    /// Dispose closes this handle only (idempotent; never releases the lock, never unlinks).
    /// </summary>
    public abstract class SharedArrayBase : IDisposable, IReleasable
    {
        private const int Int64Type = 0;
        private readonly string name;
        private readonly int length;
        internal readonly SyncHandle<NativeArray> handle;

        internal SharedArrayBase(string kind, string name, bool isDouble, long length, SyncOptions options)
        {
            Library.CheckName(name);
            Library.EnsureLoaded();
            if (length < 0 || length > int.MaxValue) throw new ArgumentOutOfRangeException("length", "0 (attach whatever the length) .. int.MaxValue");
            var o = SyncOptions.OrDefault(options);
            NativeArray h = NativeArray.open(name, (int)o.OpenMode, isDouble ? 1 : 0, (ulong)length, (uint)o.Mode, o.Ephemeral ? 1 : 0);
            if (h == null) throw new PolyipcException(Status.System, kind + " '" + name + "': open returned no handle");
            try
            {
                ulong n = h.length();
                if (n > int.MaxValue) throw new PolyipcException(Status.InvalidArg, kind + " '" + name + "': " + n + " elements do not fit a C# index");
                if ((h.elem_type() != Int64Type) != isDouble)
                    throw new IncompatibleException(kind + " '" + name + "': the array holds " + (isDouble ? "int64" : "double") + " elements");
                this.length = (int)n;
            }
            catch
            {
                h.Dispose();
                throw;
            }
            this.name = name;
            handle = new SyncHandle<NativeArray>("Polyipc." + GetType().Name, kind + " '" + name + "'", h);
        }

        /// <summary>The name (in the namespace $POLYIPC_NAMESPACE).</summary>
        public string Name
        {
            get { return name; }
        }

        /// <summary>The number of elements (1 for a Value).</summary>
        public int Length
        {
            get { return length; }
        }

        internal ulong Index(int index)
        {
            if ((uint)index >= (uint)length)
                throw new ArgumentOutOfRangeException("index", index, handle.Label + ": index outside 0.." + (length - 1));
            return (ulong)index;
        }

        /// <summary>The live handle for one operation on an element, and the element's native index:
        /// dispose it (a struct, so `using` costs no allocation) to leave the handle.</summary>
        private struct ElementCall : IDisposable
        {
            private readonly SyncHandle<NativeArray> handle;
            internal readonly NativeArray Native;
            internal readonly ulong Index;

            internal ElementCall(SyncHandle<NativeArray> handle, ulong index)
            {
                Index = index;
                Native = handle.Enter();
                this.handle = handle;
            }

            public void Dispose()
            {
                handle.Leave();
            }
        }

        /// <summary>Checks <paramref name="index"/> (ArgumentOutOfRangeException), then enters the handle
        /// (ObjectDisposedException once disposed).</summary>
        private ElementCall Element(int index)
        {
            return new ElementCall(handle, Index(index));
        }

        // ---- the optional lock ------------------------------------------------------------------

        /// <summary>
        /// Acquires the array's lock (Python's get_lock()), for updates that take several operations:
        /// the guard releases it. Robust and owned by the OS thread, as a <see cref="Lock"/>: a holder
        /// that died shows as <see cref="LockGuard.PreviousOwnerDied"/>. null waits forever;
        /// PolyipcTimeoutException when the time runs out; OperationCanceledException on cancel.
        /// The atomic operations never take the lock.
        /// </summary>
        public LockGuard Acquire(TimeSpan? timeout = null, CancellationToken ct = default(CancellationToken))
        {
            return handle.AcquireLock(this, timeout, ct, (h, slice) => h.acquire(slice));
        }

        /// <summary>Acquires the lock if it is free within <paramref name="timeout"/> (false otherwise).</summary>
        public bool TryAcquire(TimeSpan timeout, out LockGuard guard, CancellationToken ct = default(CancellationToken))
        {
            return handle.TryAcquireLock(this, timeout, ct, (h, slice) => h.acquire(slice), out guard);
        }

        /// <summary>Acquires the lock if it is free now.</summary>
        public bool TryAcquire(out LockGuard guard)
        {
            return TryAcquire(TimeSpan.Zero, out guard);
        }

        /// <summary>Releases the lock (NotOwnerException when this thread does not hold it). Prefer the guard.</summary>
        public void Release()
        {
            handle.Use(h => h.release());
        }

        /// <summary>The array's type, length, lock state and attached processes as a JSON object.</summary>
        public string StatJson()
        {
            return handle.Use(h => h.stat_json());
        }

        /// <summary>Removes the name; open handles keep working.</summary>
        public void Unlink()
        {
            Names.Unlink(name);
        }

        /// <summary>Closes this handle (idempotent). Never releases the lock and never unlinks.</summary>
        public void Dispose()
        {
            handle.Dispose();
        }

        public override string ToString()
        {
            return "Polyipc." + GetType().Name + "(" + name + ")";
        }

        // ---- the element operations, shared by the four classes ------------------------------

        // One native call on element i each: the index is checked first, then the handle is held
        // (as Use holds it) until the call returns. No delegate, no allocation.
        internal long LoadI64(int i) { using (var c = Element(i)) return c.Native.load_i64(c.Index); }
        internal void StoreI64(int i, long v) { using (var c = Element(i)) c.Native.store_i64(c.Index, v); }
        internal long AddI64(int i, long d) { using (var c = Element(i)) return unchecked(c.Native.add_i64(c.Index, d) + d); }
        internal long CasI64(int i, long value, long comparand) { using (var c = Element(i)) return c.Native.compare_exchange_value_i64(c.Index, comparand, value); }

        internal long ExchangeI64(int i, long value)
        {
            long current = LoadI64(i);
            for (;;)
            {
                long found = CasI64(i, value, current);
                if (found == current) return found;
                current = found;
            }
        }

        internal double LoadF64(int i) { using (var c = Element(i)) return c.Native.load_f64(c.Index); }
        internal void StoreF64(int i, double v) { using (var c = Element(i)) c.Native.store_f64(c.Index, v); }
        internal double AddF64(int i, double d) { using (var c = Element(i)) return c.Native.add_f64(c.Index, d) + d; }
        internal double CasF64(int i, double value, double comparand) { using (var c = Element(i)) return c.Native.compare_exchange_value_f64(c.Index, comparand, value); }

        internal double ExchangeF64(int i, double value)
        {
            double current = LoadF64(i);
            for (;;)
            {
                double found = CasF64(i, value, current);
                if (BitConverter.DoubleToInt64Bits(found) == BitConverter.DoubleToInt64Bits(current)) return found;
                current = found;
            }
        }
    }

    /// <summary>
    /// A named array of int64 (Python's multiprocessing.Array('q', n)) with atomic operations named
    /// after System.Threading.Interlocked.
    /// <code>
    /// using (var counts = LongArray.Open("counts", 8))
    /// {
    ///     counts.Increment(3);
    ///     long seen = counts[3];
    ///     using (counts.Acquire()) { counts[0] = counts[1] + counts[2]; }   // compound update
    /// }
    /// </code>
    /// </summary>
    public sealed class LongArray : SharedArrayBase
    {
        private LongArray(string name, long length, SyncOptions options) : base("array", name, false, length, options) { }

        /// <summary>Opens (or creates, zeroed) the int64 array <paramref name="name"/> of <paramref name="length"/>
        /// elements; length 0 attaches whatever the length. Another length or type: IncompatibleException.</summary>
        public static LongArray Open(string name, int length, SyncOptions options = null)
        {
            return new LongArray(name, length, options);
        }

        /// <summary>Atomic read / write of element <paramref name="index"/>.</summary>
        public long this[int index]
        {
            get { return LoadI64(index); }
            set { StoreI64(index, value); }
        }

        public long Read(int index) { return LoadI64(index); }
        public void Write(int index, long value) { StoreI64(index, value); }
        /// <summary>Adds (wrapping) and returns the new value.</summary>
        public long Add(int index, long delta) { return AddI64(index, delta); }
        public long Increment(int index) { return AddI64(index, 1); }
        public long Decrement(int index) { return AddI64(index, -1); }
        /// <summary>Sets the element and returns the value before.</summary>
        public long Exchange(int index, long value) { return ExchangeI64(index, value); }
        /// <summary>Replaces the element by <paramref name="value"/> if it equals <paramref name="comparand"/>; returns the value found (replaced when it equals comparand).</summary>
        public long CompareExchange(int index, long value, long comparand) { return CasI64(index, value, comparand); }

        /// <summary>A copy of the elements (each read atomically, not all at one instant).</summary>
        public long[] ToArray()
        {
            var r = new long[Length];
            for (int i = 0; i < r.Length; i++) r[i] = LoadI64(i);
            return r;
        }
    }

    /// <summary>A named array of doubles (Python's multiprocessing.Array('d', n)); see <see cref="LongArray"/>.
    /// CompareExchange compares the bits (NaN can be replaced; -0.0 is not 0.0).</summary>
    public sealed class DoubleArray : SharedArrayBase
    {
        private DoubleArray(string name, long length, SyncOptions options) : base("array", name, true, length, options) { }

        public static DoubleArray Open(string name, int length, SyncOptions options = null)
        {
            return new DoubleArray(name, length, options);
        }

        public double this[int index]
        {
            get { return LoadF64(index); }
            set { StoreF64(index, value); }
        }

        public double Read(int index) { return LoadF64(index); }
        public void Write(int index, double value) { StoreF64(index, value); }
        /// <summary>Adds atomically and returns the new value.</summary>
        public double Add(int index, double delta) { return AddF64(index, delta); }
        public double Exchange(int index, double value) { return ExchangeF64(index, value); }
        public double CompareExchange(int index, double value, double comparand) { return CasF64(index, value, comparand); }

        public double[] ToArray()
        {
            var r = new double[Length];
            for (int i = 0; i < r.Length; i++) r[i] = LoadF64(i);
            return r;
        }
    }

    /// <summary>
    /// A named int64 (Python's multiprocessing.Value('q')): an array of length 1, shared with every
    /// language's Value. <code>using (var hits = LongValue.Open("hits")) hits.Increment();</code>
    /// </summary>
    public sealed class LongValue : SharedArrayBase
    {
        private LongValue(string name, SyncOptions options) : base("value", name, false, 1, options) { }

        /// <summary>Opens (or creates, 0) the int64 Value <paramref name="name"/>.</summary>
        public static LongValue Open(string name, SyncOptions options = null)
        {
            return new LongValue(name, options);
        }

        /// <summary>Atomic read / write (Python's .value).</summary>
        public long Value
        {
            get { return LoadI64(0); }
            set { StoreI64(0, value); }
        }

        public long Read() { return LoadI64(0); }
        public void Write(long value) { StoreI64(0, value); }
        public long Add(long delta) { return AddI64(0, delta); }
        public long Increment() { return AddI64(0, 1); }
        public long Decrement() { return AddI64(0, -1); }
        public long Exchange(long value) { return ExchangeI64(0, value); }
        public long CompareExchange(long value, long comparand) { return CasI64(0, value, comparand); }
    }

    /// <summary>A named double (Python's multiprocessing.Value('d')); see <see cref="LongValue"/>.</summary>
    public sealed class DoubleValue : SharedArrayBase
    {
        private DoubleValue(string name, SyncOptions options) : base("value", name, true, 1, options) { }

        public static DoubleValue Open(string name, SyncOptions options = null)
        {
            return new DoubleValue(name, options);
        }

        public double Value
        {
            get { return LoadF64(0); }
            set { StoreF64(0, value); }
        }

        public double Read() { return LoadF64(0); }
        public void Write(double value) { StoreF64(0, value); }
        public double Add(double delta) { return AddF64(0, delta); }
        public double Exchange(double value) { return ExchangeF64(0, value); }
        public double CompareExchange(double value, double comparand) { return CasF64(0, value, comparand); }
    }
}
