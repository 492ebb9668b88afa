using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text;
using System.Threading;
using Newtonsoft.Json;
using Polyipc.Native;

namespace Polyipc
{
    /// <summary>
    /// A named queue in shared memory, shared with processes in any language (C, Go, Java, Python,
    /// Rust, C#). Messages are JSON text (the default; every put is validated) or bytes; strings go
    /// in and out as UTF-8.
    /// <code>
    /// using (var jobs = Queue.Open("jobs", QueueOptions.JoinableQueue())) {
    ///     jobs.PutObject(new { job = 1 });
    ///     var job = jobs.Take&lt;Job&gt;();
    ///     jobs.TaskDone();
    /// }
    /// </code>
    /// Timeouts: null waits forever, TimeSpan.Zero never waits. A wait runs in native code in slices
    /// of at most 50 ms, so a CancellationToken (OperationCanceledException) and Dispose from
    /// another thread are noticed within one slice; a cancelled wait takes or puts nothing.
    /// End of stream: after CloseWrites (from any process) puts throw QueueClosedException; getters
    /// receive what is left, then QueueClosedException.
    /// A handle is safe to use from several threads. Dispose releases this handle only (idempotent;
    /// it waits for calls in progress, at most one slice); afterwards every call throws
    /// ObjectDisposedException. Nothing here ever unlinks the queue except <see cref="Unlink"/> and
    /// <see cref="Names.Unlink"/>: not Dispose, not a finalizer, not process exit.
    /// Zero copy (<see cref="Reserve"/>, <see cref="Borrow"/>): the guards they return hold the
    /// handle, and with it the mapping of the ring their Span points into. Dispose with guards
    /// outstanding does not wait for them: it returns as usual, the Queue's own calls throw
    /// ObjectDisposedException from then on, but the guards keep working, and the native handle is
    /// closed (the ring unmapped) when the last of them ends (Commit, Cancel, Release or Dispose).
    /// </summary>
    public sealed class Queue : IDisposable
    {
        /// <summary>The longest single wait in native code.</summary>
        internal static readonly TimeSpan Slice = TimeSpan.FromMilliseconds(50);
        private const long SliceNanos = 50L * 1000 * 1000;
        private const long Forever = -1;

        private static readonly UTF8Encoding Utf8 = new UTF8Encoding(false, true);

        private readonly string name;
        private readonly JsonSerializerSettings jsonSettings;
        // The guard around the native handle (see SyncHandle): Dispose waits for calls in progress; the
        // zero-copy guards (Reservation, Borrowed) are its holds, each keeping the ring their Span
        // points into mapped until it ends.
        private readonly SyncHandle<NativeQueue> gate;
        private readonly IntPtr handle; // native's polyipc_queue*, for the put/take hot path

        private Queue(string name, NativeQueue native, JsonSerializerSettings jsonSettings)
        {
            this.name = name;
            gate = new SyncHandle<NativeQueue>("Polyipc.Queue", "queue '" + name + "'", native);
            this.handle = NativeQueue.getCPtr(native).Handle;
            this.jsonSettings = jsonSettings;
        }

        /// <summary>The queue's name (in the namespace $POLYIPC_NAMESPACE).</summary>
        public string Name
        {
            get { return name; }
        }

        // ---- opening --------------------------------------------------------------------------

        /// <summary>
        /// Opens queue <paramref name="name"/>, creating it with <paramref name="options"/> if it does
        /// not exist (null: FIFO, JSON, not joinable, 1 MiB). Names are 1..200 characters of
        /// [A-Za-z0-9._-] (PolyipcArgumentException otherwise).
        /// </summary>
        public static Queue Open(string name, QueueOptions options = null)
        {
            Library.CheckName(name);
            Library.EnsureLoaded();
            var o = options ?? new QueueOptions();
            Library.CheckOptionSize(o.MaxItems, "MaxItems");
            Library.CheckOptionSize(o.CapacityBytes, "CapacityBytes");
            Library.CheckOptionSize(o.MaxMessageBytes, "MaxMessageBytes");
            Library.CheckOptionMode(o.Mode);
            NativeQueue h;
            if (o.OpenMode == OpenMode.OpenOnly)
            {
                h = NativeQueue.open_existing(name);
            }
            else
            {
                h = NativeQueue.open(name, (int)o.OpenMode, (int)o.Order, (int)o.Format, o.Joinable ? 1 : 0,
                    (ulong)o.MaxItems, (ulong)o.CapacityBytes, (ulong)o.MaxMessageBytes, (uint)o.Mode,
                    o.Ephemeral ? 1 : 0);
            }
            if (h == null) throw new PolyipcException(Status.System, "queue '" + name + "': open returned no handle");
            return new Queue(name, h, o.JsonSettings);
        }

        // ---- the guard around the native handle ----------------------------------------------

        /// <summary>As SyncHandle.Enter, for the hot path: the polyipc_queue* itself.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private IntPtr EnterHandle()
        {
            gate.EnterCall();
            return handle;
        }

        /// <summary>For <see cref="Connection.WaitAny"/>: the live handle, in use until <see cref="LeaveNative"/>.</summary>
        internal NativeQueue EnterNative()
        {
            return gate.Enter();
        }

        internal void LeaveNative()
        {
            gate.Leave();
        }

        /// <summary>
        /// Releases this handle (never unlinks the queue). Waits for calls in progress on other
        /// threads, which end within one wait slice; later calls throw ObjectDisposedException.
        /// Idempotent; a finalizer of the native proxy releases a handle that was never disposed.
        /// </summary>
        /// <remarks>
        /// With a <see cref="Reservation"/> or <see cref="Borrowed"/> of this handle outstanding,
        /// Dispose still returns at once (after the calls in progress), but the native handle, and
        /// with it the mapping of the ring their Spans point into, is closed only when the last of
        /// them ends: they keep working (Span, Commit, Cancel, Release) until then. So no Span this
        /// process holds ever points at unmapped memory because of Dispose; only ending a guard
        /// ends its Span (see <see cref="Reservation"/>).
        /// </remarks>
        public void Dispose()
        {
            gate.Dispose();
        }

        /// <summary>Whether the native handle is still open (for tests: Dispose defers to outstanding guards).</summary>
        internal bool IsNativeOpen
        {
            get { return gate.IsNativeOpen; }
        }

        // ---- the sliced wait -------------------------------------------------------------------

        private static long ToNanos(TimeSpan? timeout)
        {
            if (timeout == null) return Forever;
            long ticks = timeout.Value.Ticks;
            if (ticks < 0)
            {
                if (timeout.Value == Timeout.InfiniteTimeSpan) return Forever;
                throw new ArgumentOutOfRangeException("timeout", "a timeout is null (forever), zero or positive");
            }
            return ticks > long.MaxValue / 100 ? long.MaxValue : ticks * 100;
        }

        /// <summary>
        /// The native timeout of the next slice of a blocking call: the wait runs in slices of at
        /// most 50 ms until it succeeds, fails for another reason than the slice running out, the
        /// whole timeout runs out (the library's exception for the last slice, <paramref name="ranOut"/>,
        /// is thrown), or the CancellationToken is cancelled (checked before every slice).
        /// </summary>
        private static long NextSlice(long total, long start, PolyipcTimeoutException ranOut)
        {
            if (total < 0) return SliceNanos;
            if (total == 0) return 0; // never wait
            long remaining = total - ElapsedNanos(start);
            if (remaining <= 0 && ranOut != null) throw ranOut;
            return Math.Max(1, Math.Min(remaining, SliceNanos));
        }

        // Put and take call the library through polyipc_cs_queue_put / _get_into (csharp.i):
        // plain DllImports returning the status. A slice of a longer wait that runs out, and a
        // Try* call that finds no room or no message, are "quiet": only the status comes back, no
        // exception is made, thrown and caught. Any other failure, and the running out of a whole
        // timeout of Put/Take, is the library's exception (with its message), as before.

        /// <summary>
        /// The native timeout of the next slice, or -1 when the whole timeout has run out; whether
        /// this slice ends the wait (its running out is the caller's to report) in <paramref name="last"/>.
        /// </summary>
        private static long NextSlice(long total, long start, out bool last)
        {
            if (total < 0)
            {
                last = false;
                return SliceNanos;
            }
            last = true;
            if (total == 0) return 0; // never wait
            long remaining = total - ElapsedNanos(start);
            if (remaining <= 0) return -1;
            if (remaining > SliceNanos)
            {
                last = false;
                return SliceNanos;
            }
            return remaining;
        }

        /// <summary>
        /// Puts the first <paramref name="length"/> bytes of <paramref name="data"/>, in slices of at
        /// most 50 ms (the CancellationToken is checked before each). False only for a Try call
        /// (<paramref name="tryOnly"/>) that found no room in time; Put throws the library's
        /// PolyipcTimeoutException (QueueFullException for TimeSpan.Zero) instead.
        /// </summary>
        private unsafe bool PutCore(byte[] data, int length, long priority, TimeSpan? timeout, CancellationToken ct,
            bool tryOnly = false)
        {
            return PutCore(null, data, length, priority, timeout, ct, tryOnly);
        }

        /// <summary>
        /// Puts <paramref name="text"/> as UTF-8, encoded by the glue in the same call into this
        /// thread's buffer (see <see cref="PutCore(string, byte[], int, long, TimeSpan?, CancellationToken, bool)"/>).
        /// </summary>
        private bool PutText(string text, long priority, TimeSpan? timeout, CancellationToken ct, bool tryOnly)
        {
            if (text == null) throw new ArgumentNullException("json");
            if (text.Length >= MaxKeptBuffer / 3)
            {
                int length;
                byte[] b = Encode(text, "json", out length);
                return PutCore(null, b, length, priority, timeout, ct, tryOnly);
            }
            return PutCore(text, GetBuffer((text.Length + 1) * 3), 0, priority, timeout, ct, tryOnly);
        }

        /// <summary>
        /// As above; with <paramref name="text"/>, <paramref name="data"/> is the scratch buffer (at
        /// least 3 bytes per character) the glue encodes it into. A lone surrogate, which the glue
        /// does not encode, goes through UTF8Encoding, which throws for it as before.
        /// </summary>
        private unsafe bool PutCore(string text, byte[] data, int length, long priority, TimeSpan? timeout,
            CancellationToken ct, bool tryOnly)
        {
            long total = ToNanos(timeout);
            long start = total > 0 ? Stopwatch.GetTimestamp() : 0;
            Exception ranOut = null; // the library's exception for the slice that ended the wait
            for (;;)
            {
                ct.ThrowIfCancellationRequested();
                bool last;
                long slice = NextSlice(total, start, out last);
                if (slice < 0)
                {
                    if (tryOnly) return false;
                    if (ranOut != null) throw ranOut;
                    slice = 1; // ran out between slices: one last, loud try
                }
                int rc;
                IntPtr q = EnterHandle();
                try
                {
                    fixed (byte* p = data)
                    {
                        if (text == null)
                        {
                            rc = polyipc_nativePINVOKE.QueuePut(q, p, length, priority, slice, tryOnly || !last ? 1 : 0);
                        }
                        else
                        {
                            fixed (char* t = text)
                            {
                                rc = polyipc_nativePINVOKE.QueuePutUtf16(q, t, text.Length, p, priority, slice, tryOnly || !last ? 1 : 0);
                            }
                        }
                    }
                }
                finally
                {
                    gate.Leave();
                }
                if (rc == 0) return true;
                if (rc == -2)
                {
                    data = Encode(text, "json", out length); // throws for the lone surrogate
                    text = null;
                    continue;
                }
                if (!IsWaitStatus(rc) || (!tryOnly && last))
                {
                    Exception e = polyipc_nativePINVOKE.TakePending(rc);
                    if (total == 0 || rc != (int)Status.Timeout) throw e;
                    ranOut = e; // this slice ran out; the whole wait may not have
                }
                else if (total == 0)
                {
                    return false; // quiet: a Try call with no room
                }
            }
        }

        private static bool IsWaitStatus(int rc)
        {
            return rc == (int)Status.Timeout || rc == (int)Status.Empty || rc == (int)Status.Full;
        }

        /// <summary>
        /// Takes the next message into this thread's buffer (or, for a message larger than it, a
        /// larger one) and returns that buffer; the message's length in <paramref name="length"/>.
        /// Waits as <see cref="PutCore"/>; null only for a Try call that found no message in time.
        /// </summary>
        private byte[] TakeCore(out int length, TimeSpan? timeout, CancellationToken ct, bool tryOnly = false)
        {
            char[] chars;
            return TakeCore(out length, out chars, false, timeout, ct, tryOnly);
        }

        /// <summary>
        /// As above; with <paramref name="text"/>, an all-ASCII message is also widened by the glue,
        /// in the same call, into this thread's char buffer, returned in <paramref name="chars"/>
        /// (null otherwise: decode the bytes).
        /// </summary>
        private unsafe byte[] TakeCore(out int length, out char[] chars, bool text, TimeSpan? timeout,
            CancellationToken ct, bool tryOnly)
        {
            byte[] buffer = GetBuffer(InitialBuffer);
            chars = text ? GetChars(buffer.Length) : null;
            long total = ToNanos(timeout);
            long start = total > 0 ? Stopwatch.GetTimestamp() : 0;
            Exception ranOut = null;
            for (;;)
            {
                ct.ThrowIfCancellationRequested();
                bool last;
                long slice = NextSlice(total, start, out last);
                if (slice < 0)
                {
                    if (tryOnly)
                    {
                        length = 0;
                        return null;
                    }
                    if (ranOut != null) throw ranOut;
                    slice = 1;
                }
                int rc;
                long n;
                IntPtr q = EnterHandle();
                try
                {
                    for (;;)
                    {
                        fixed (byte* p = buffer)
                        fixed (char* c = chars)
                        {
                            rc = polyipc_nativePINVOKE.QueueGetInto(q, p, buffer.Length, c, slice, tryOnly || !last ? 1 : 0, &n);
                        }
                        if (rc != -1) break;
                        // Larger than the buffer, and left in the queue: grow, take it again.
                        buffer = GetBuffer(n);
                        if (chars != null) chars = GetChars(buffer.Length);
                    }
                }
                finally
                {
                    gate.Leave();
                }
                if (rc == 0 || rc == -2)
                {
                    length = (int)n;
                    if (rc == 0) chars = null;
                    return buffer;
                }
                if (!IsWaitStatus(rc) || (!tryOnly && last))
                {
                    Exception e = polyipc_nativePINVOKE.TakePending(rc);
                    if (total == 0 || rc != (int)Status.Timeout) throw e;
                    ranOut = e;
                }
                else if (total == 0)
                {
                    length = 0;
                    return null; // quiet: a Try call with no message
                }
            }
        }

        /// <summary>Join, in slices (see <see cref="NextSlice"/>).</summary>
        private void JoinCore(TimeSpan? timeout, CancellationToken ct)
        {
            long total = ToNanos(timeout);
            long start = total > 0 ? Stopwatch.GetTimestamp() : 0;
            PolyipcTimeoutException ranOut = null;
            for (;;)
            {
                ct.ThrowIfCancellationRequested();
                long slice = total < 0 ? SliceNanos : NextSlice(total, start, ranOut);
                NativeQueue h = gate.Enter();
                try
                {
                    h.join(slice);
                    return;
                }
                catch (PolyipcTimeoutException e) when (total != 0 && e.Status == Status.Timeout)
                {
                    ranOut = e;
                }
                finally
                {
                    gate.Leave();
                }
            }
        }

        private static long ElapsedNanos(long start)
        {
            long ticks = Stopwatch.GetTimestamp() - start;
            return (long)(ticks * (1e9 / Stopwatch.Frequency));
        }

        // ---- the no-wait fast path -------------------------------------------------------------

        // Put(string), TryPut, Take() and TryTake first try once without waiting through
        // QueueFastCalls (raw mono internal calls: no GC transition, no exception, no message).
        // When that puts or takes, the call is done; any other outcome (no room or no message yet,
        // a buffer too small, an error) goes to the sliced P/Invoke path above as before, which
        // waits, and throws the library's exception for an error (the failed fast call changed
        // nothing). A bad timeout or a cancelled token skips the fast path, so they throw as before.

        /// <summary>Whether Put/Take may try the fast path first.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static bool FastAllowed(TimeSpan? timeout, CancellationToken ct)
        {
            if (!QueueFastCalls.Enabled || (ct.CanBeCanceled && ct.IsCancellationRequested)) return false;
            if (timeout == null) return true;
            long ticks = timeout.Value.Ticks;
            return ticks >= 0 || ticks == InfiniteTicks;
        }

        private static readonly long InfiniteTicks = Timeout.InfiniteTimeSpan.Ticks;

        /// <summary>Puts <paramref name="text"/> if there is room now: false otherwise, or for any error.</summary>
        [MethodImpl(MethodImplOptions.NoInlining)] // compiled after QueueFastCalls.Register (see there)
        private unsafe bool PutFast(string text, long priority)
        {
            if (text == null || text.Length >= MaxKeptBuffer / 3) return false;
            byte[] scratch = GetBuffer((text.Length + 1) * 3);
            int rc;
            IntPtr q = EnterHandle();
            try
            {
                fixed (char* t = text)
                fixed (byte* p = scratch)
                {
                    rc = QueueFastCalls.QueuePutUtf16(q, t, text.Length, p, priority);
                }
            }
            finally
            {
                gate.Leave();
            }
            return rc == 0;
        }

        /// <summary>The next message as text if there is one now (and it fits this thread's buffer): null otherwise.</summary>
        [MethodImpl(MethodImplOptions.NoInlining)]
        private unsafe string TakeFast()
        {
            byte[] buffer = GetBuffer(InitialBuffer);
            int rc;
            long n = 0;
            IntPtr q = EnterHandle();
            try
            {
                fixed (byte* p = buffer)
                {
                    rc = QueueFastCalls.QueueGetInto(q, p, buffer.Length, &n);
                }
            }
            finally
            {
                gate.Leave();
            }
            if (rc != 0) return null;
            if (n == 0) return "";
            // An all-ASCII message (the usual JSON) is widened straight into a new string: no
            // char buffer, no second copy; anything else is decoded as UTF-8.
            string s = new string('\0', (int)n);
            fixed (byte* p = buffer)
            fixed (char* c = s)
            {
                if (QueueFastCalls.WidenAscii(p, n, c) == n) return s;
            }
            return Decode(buffer, (int)n);
        }

        // ---- the per-thread buffer ---------------------------------------------------------------

        // Messages are encoded into, and copied out of, one buffer per thread (a call never runs
        // inside another on the same thread, and handles are shared between threads), so a
        // put+take of a string allocates only the string taken. A buffer grown past
        // MaxKeptBuffer is used for that call only.
        internal const int InitialBuffer = 4096;
        private const int MaxKeptBuffer = 1 << 20;

        [ThreadStatic] private static byte[] threadBuffer;

        /// <summary>Whether <paramref name="b"/> is this thread's buffer (shared with Connection).</summary>
        internal static bool IsThreadBuffer(byte[] b)
        {
            return ReferenceEquals(b, threadBuffer);
        }

        /// <summary>This thread's buffer, at least <paramref name="size"/> bytes.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static byte[] GetBuffer(long size)
        {
            byte[] b = threadBuffer;
            if (b != null && b.Length >= size) return b;
            return GrowBuffer(size);
        }

        /// <summary>A new buffer of at least <paramref name="size"/> bytes, kept as this thread's when small enough.</summary>
        [MethodImpl(MethodImplOptions.NoInlining)]
        private static byte[] GrowBuffer(long size)
        {
            byte[] b = threadBuffer;
            if (size > MaxArray) throw new OutOfMemoryException("polyipc: message of " + size + " bytes is larger than a C# array");
            int n = (int)size;
            if (n <= MaxKeptBuffer)
            {
                int grown = b == null ? InitialBuffer : b.Length;
                while (grown < n) grown *= 2;
                b = new byte[Math.Min(grown, MaxKeptBuffer)];
                threadBuffer = b;
                return b;
            }
            return new byte[n];
        }

        private const int MaxArray = 0x7FFFFFC7;

        [ThreadStatic] private static char[] threadChars;

        /// <summary>This thread's char buffer for <see cref="Take(TimeSpan?, CancellationToken)"/>, <paramref name="size"/> chars (kept when the byte buffer is).</summary>
        private static char[] GetChars(int size)
        {
            char[] c = threadChars;
            if (c != null && c.Length >= size) return c;
            c = new char[size];
            if (size <= MaxKeptBuffer) threadChars = c;
            return c;
        }

        /// <summary>The UTF-8 bytes of <paramref name="text"/> in a buffer (the thread's when it fits); their count in <paramref name="length"/>.</summary>
        internal static byte[] Encode(string text, string what, out int length)
        {
            if (text == null) throw new ArgumentNullException(what);
            if (text.Length < MaxKeptBuffer / 3)
            {
                byte[] b = GetBuffer((text.Length + 1) * 3); // Utf8.GetMaxByteCount
                length = EncodeAscii(text, b);
                if (length < 0) length = Utf8.GetBytes(text, 0, text.Length, b, 0);
                return b;
            }
            byte[] bytes = Utf8.GetBytes(text);
            length = bytes.Length;
            return bytes;
        }

        /// <summary>
        /// <paramref name="text"/> into <paramref name="buffer"/> (at least text.Length bytes) when it
        /// is all ASCII, 4 characters at a time: its length, or -1 at the first other character
        /// (the caller encodes it with Utf8, which also rejects lone surrogates). Mono's
        /// UTF8Encoding takes about half as long again for short ASCII text, the usual JSON.
        /// </summary>
        private static unsafe int EncodeAscii(string text, byte[] buffer)
        {
            int n = text.Length;
            fixed (char* src = text)
            fixed (byte* dst = buffer)
            {
                int i = 0;
                for (; i + 4 <= n; i += 4)
                {
                    ulong w = *(ulong*)(src + i);
                    if ((w & 0xFF80FF80FF80FF80UL) != 0) return -1;
                    *(uint*)(dst + i) = (uint)((w & 0xFF) | ((w >> 8) & 0xFF00) | ((w >> 16) & 0xFF0000) | ((w >> 24) & 0xFF000000));
                }
                for (; i < n; i++)
                {
                    char c = src[i];
                    if (c >= 0x80) return -1;
                    dst[i] = (byte)c;
                }
            }
            return n;
        }

        private string Decode(byte[] message, int length)
        {
            try
            {
                return Utf8.GetString(message, 0, length);
            }
            catch (DecoderFallbackException e)
            {
                throw new PolyipcException(Status.InvalidArg,
                    "queue '" + name + "': a message is not UTF-8 text (use TakeBytes): " + e.Message);
            }
        }

        private byte[] TakeCopy(TimeSpan? timeout, CancellationToken ct, bool tryOnly = false)
        {
            int length;
            byte[] b = TakeCore(out length, timeout, ct, tryOnly);
            if (b == null) return null;
            if (b.Length == length && !ReferenceEquals(b, threadBuffer)) return b; // a one-off buffer of the exact size
            byte[] copy = new byte[length];
            Buffer.BlockCopy(b, 0, copy, 0, length);
            return copy;
        }

        // ---- put -------------------------------------------------------------------------------

        /// <summary>
        /// Puts JSON text (on a JSON queue it must be valid JSON: InvalidJsonException otherwise, and
        /// the queue is unchanged). Waits for room up to <paramref name="timeout"/> (null: forever;
        /// PolyipcTimeoutException, or QueueFullException for TimeSpan.Zero).
        /// </summary>
        public void Put(string json, TimeSpan? timeout = null, CancellationToken ct = default(CancellationToken))
        {
            if (FastAllowed(timeout, ct) && PutFast(json, 0)) return;
            PutText(json, 0, timeout, ct, false);
        }

        /// <summary>Puts JSON text with a priority (PRIORITY queues: lowest first; ignored otherwise).</summary>
        public void Put(string json, long priority, TimeSpan? timeout = null, CancellationToken ct = default(CancellationToken))
        {
            if (FastAllowed(timeout, ct) && PutFast(json, priority)) return;
            PutText(json, priority, timeout, ct, false);
        }

        /// <summary>Puts raw bytes (on a JSON queue they must be UTF-8 JSON).</summary>
        public void PutBytes(byte[] data, TimeSpan? timeout = null, CancellationToken ct = default(CancellationToken))
        {
            if (data == null) throw new ArgumentNullException("data");
            PutCore(data, data.Length, 0, timeout, ct);
        }

        /// <summary>Puts raw bytes with a priority.</summary>
        public void PutBytes(byte[] data, long priority, TimeSpan? timeout = null, CancellationToken ct = default(CancellationToken))
        {
            if (data == null) throw new ArgumentNullException("data");
            PutCore(data, data.Length, priority, timeout, ct);
        }

        /// <summary>Puts <paramref name="value"/> serialised by Newtonsoft.Json.</summary>
        public void PutObject<T>(T value, TimeSpan? timeout = null, CancellationToken ct = default(CancellationToken))
        {
            Put(JsonText.Serialize(value, jsonSettings), timeout, ct);
        }

        /// <summary>Puts <paramref name="value"/> serialised by Newtonsoft.Json, with a priority.</summary>
        public void PutObject<T>(T value, long priority, TimeSpan? timeout = null, CancellationToken ct = default(CancellationToken))
        {
            Put(JsonText.Serialize(value, jsonSettings), priority, timeout, ct);
        }

        /// <summary>Puts JSON text if there is room within <paramref name="timeout"/>; false if not.</summary>
        public bool TryPut(string json, TimeSpan timeout, CancellationToken ct = default(CancellationToken))
        {
            if (FastAllowed(timeout, ct) && PutFast(json, 0)) return true;
            return PutText(json, 0, timeout, ct, true);
        }

        // ---- take ------------------------------------------------------------------------------

        /// <summary>
        /// Takes the next message as text. Waits up to <paramref name="timeout"/> (null: forever):
        /// PolyipcTimeoutException when it runs out (QueueEmptyException for TimeSpan.Zero),
        /// QueueClosedException at end of stream, OperationCanceledException when <paramref name="ct"/>
        /// is cancelled. On a joinable queue the message is leased until <see cref="TaskDone()"/>.
        /// </summary>
        public string Take(TimeSpan? timeout = null, CancellationToken ct = default(CancellationToken))
        {
            if (FastAllowed(timeout, ct))
            {
                string s = TakeFast();
                if (s != null) return s;
            }
            int length;
            char[] chars;
            byte[] b = TakeCore(out length, out chars, true, timeout, ct, false);
            return chars != null ? new string(chars, 0, length) : Decode(b, length);
        }

        /// <summary>Takes the next message as bytes (see <see cref="Take(TimeSpan?, CancellationToken)"/>).</summary>
        public byte[] TakeBytes(TimeSpan? timeout = null, CancellationToken ct = default(CancellationToken))
        {
            return TakeCopy(timeout, ct);
        }

        /// <summary>Takes the next message deserialised by Newtonsoft.Json into a <typeparamref name="T"/>.</summary>
        public T Take<T>(TimeSpan? timeout = null, CancellationToken ct = default(CancellationToken))
        {
            return JsonConvert.DeserializeObject<T>(Take(timeout, ct), jsonSettings);
        }

        // ---- consuming iteration (BlockingCollection's GetConsumingEnumerable) -----------------

        /// <summary>
        /// The messages of the queue as text, taken one by one until end of stream, as
        /// BlockingCollection&lt;T&gt;.GetConsumingEnumerable does:
        /// <code>
        /// foreach (string job in jobs.GetConsumingEnumerable(ct))
        /// {
        ///     Handle(job);
        ///     jobs.TaskDone(job);   // joinable queues: each message is a lease, as with Take
        /// }
        /// // here the queue is closed for writing (CloseWrites, by any process) and drained
        /// </code>
        /// Each step of the enumeration is exactly one blocking <see cref="Take(TimeSpan?, CancellationToken)"/>
        /// (no timeout) with <paramref name="cancellationToken"/>: nothing is taken ahead, so leaving
        /// the loop early (break) loses nothing, and the next Take gets the next message. The
        /// enumeration ends normally when the queue is closed for writing and empty (the Take's
        /// QueueClosedException ends it and is not thrown); any other failure is thrown as Take throws
        /// it: OperationCanceledException when the token is cancelled (within one 50 ms wait slice;
        /// nothing is taken), ObjectDisposedException after Dispose, the library's exceptions. The
        /// enumeration is lazy: nothing is taken until the first MoveNext, and each GetEnumerator
        /// starts another consumer of the same queue.
        /// </summary>
        public IEnumerable<string> GetConsumingEnumerable(CancellationToken cancellationToken = default(CancellationToken))
        {
            for (;;)
            {
                string message;
                try
                {
                    message = Take(null, cancellationToken);
                }
                catch (QueueClosedException)
                {
                    yield break; // end of stream: closed for writing and drained
                }
                yield return message;
            }
        }

        /// <summary>
        /// Bytes variant of <see cref="GetConsumingEnumerable"/>: the messages as
        /// <see cref="TakeBytes"/> returns them (a new byte[] each), one blocking TakeBytes per step,
        /// until end of stream. On a joinable queue mark each done with TaskDone() or
        /// <see cref="TaskDone(byte[])"/>.
        /// </summary>
        public IEnumerable<byte[]> GetConsumingBytes(CancellationToken cancellationToken = default(CancellationToken))
        {
            for (;;)
            {
                byte[] message;
                try
                {
                    message = TakeBytes(null, cancellationToken);
                }
                catch (QueueClosedException)
                {
                    yield break; // end of stream: closed for writing and drained
                }
                yield return message;
            }
        }

        /// <summary>
        /// Takes the next message if one comes within <paramref name="timeout"/>: false when the time
        /// runs out or (TimeSpan.Zero) the queue is empty. End of stream still throws QueueClosedException.
        /// </summary>
        public bool TryTake(out string json, TimeSpan timeout, CancellationToken ct = default(CancellationToken))
        {
            if (FastAllowed(timeout, ct))
            {
                json = TakeFast();
                if (json != null) return true;
            }
            int length;
            char[] chars;
            byte[] b = TakeCore(out length, out chars, true, timeout, ct, true);
            json = b == null ? null : chars != null ? new string(chars, 0, length) : Decode(b, length);
            return b != null;
        }

        /// <summary>Bytes variant of <see cref="TryTake(out string, TimeSpan, CancellationToken)"/>.</summary>
        public bool TryTakeBytes(out byte[] data, TimeSpan timeout, CancellationToken ct = default(CancellationToken))
        {
            data = TakeCopy(timeout, ct, true);
            return data != null;
        }

        /// <summary>Object variant of <see cref="TryTake(out string, TimeSpan, CancellationToken)"/>.</summary>
        public bool TryTake<T>(out T value, TimeSpan timeout, CancellationToken ct = default(CancellationToken))
        {
            string json;
            if (TryTake(out json, timeout, ct))
            {
                value = JsonConvert.DeserializeObject<T>(json, jsonSettings);
                return true;
            }
            value = default(T);
            return false;
        }

        // ---- zero copy ---------------------------------------------------------------------------

        /// <summary>
        /// Zero copy, for large messages: room for <paramref name="length"/> bytes in the queue's
        /// ring itself, written through <see cref="Reservation.Span"/> and published by
        /// <see cref="Reservation.Commit"/> (a JSON queue validates the bytes then:
        /// InvalidJsonException, and the message is dropped). <see cref="Reservation.Cancel"/>, or
        /// Dispose without Commit, drops it. Saves the copy a PutBytes makes from a byte[].
        /// <code>
        /// using (var r = q.Reserve(frame.Length, TimeSpan.FromSeconds(5)))
        /// {
        ///     Span&lt;byte&gt; s = r.Span;
        ///     Encode(frame, s);   // straight into shared memory
        ///     r.Commit();
        /// }                       // not committed (an exception): cancelled
        /// </code>
        /// Waits for room as <see cref="PutBytes(byte[], TimeSpan?, CancellationToken)"/> does (null:
        /// forever; PolyipcTimeoutException, or QueueFullException for TimeSpan.Zero;
        /// OperationCanceledException). A length the queue can never hold (more than its
        /// MaxMessageBytes, by default what the ring allows): MessageTooLargeException at once. After
        /// CloseWrites: QueueClosedException. The reservation has priority 0 (PRIORITY queues).
        /// Until it ends, the space behind it is not reused (the queue may fill up behind it) and it
        /// counts towards MaxItems: keep it short. A process that dies holding it loses it (nothing
        /// half-written is ever seen). Dispose the guard (a using block): one never ended holds its
        /// ring space until this process exits, and keeps this handle open after Dispose.
        /// </summary>
        public Reservation Reserve(int length, TimeSpan? timeout = null, CancellationToken ct = default(CancellationToken))
        {
            if (length < 0) throw new ArgumentOutOfRangeException("length", "a reservation of length >= 0");
            IntPtr data;
            long n;
            ulong ticket;
            StartZeroCopy(false, length, timeout, ct, false, out data, out n, out ticket);
            return NewReservation(data, length, ticket);
        }

        /// <summary>
        /// As <see cref="Reserve"/>, if there is room within <paramref name="timeout"/> (TimeSpan.Zero:
        /// only now): false, and <paramref name="reservation"/> null, when there is none.
        /// </summary>
        public bool TryReserve(int length, out Reservation reservation, TimeSpan timeout,
            CancellationToken ct = default(CancellationToken))
        {
            if (length < 0) throw new ArgumentOutOfRangeException("length", "a reservation of length >= 0");
            IntPtr data;
            long n;
            ulong ticket;
            reservation = StartZeroCopy(false, length, timeout, ct, true, out data, out n, out ticket)
                ? NewReservation(data, length, ticket)
                : null;
            return reservation != null;
        }

        /// <summary>
        /// Zero copy, for large messages: takes the next message as <see cref="TakeBytes"/> does, but
        /// leaves its bytes in the ring, read through <see cref="Borrowed.Span"/> until
        /// <see cref="Borrowed.Release"/> (or Dispose). Saves the copy into a byte[].
        /// <code>
        /// using (var m = q.Borrow(TimeSpan.FromSeconds(5)))
        /// {
        ///     ReadOnlySpan&lt;byte&gt; s = m.Span;
        ///     Decode(s);          // straight from shared memory
        /// }                       // released
        /// </code>
        /// Waits as TakeBytes does (null: forever; PolyipcTimeoutException, or QueueEmptyException
        /// for TimeSpan.Zero; QueueClosedException at end of stream; OperationCanceledException). The
        /// message is taken at once (others get the ones behind it meanwhile; on a joinable queue it
        /// is leased until TaskDone, as with Take). Until the release the space behind it is not
        /// reused: keep it short. A process that dies holding it gives it back to the queue for the
        /// next getter. Dispose the guard (a using block): one never released holds the message and
        /// its ring space until this process exits, and keeps this handle open after Dispose.
        /// </summary>
        public Borrowed Borrow(TimeSpan? timeout = null, CancellationToken ct = default(CancellationToken))
        {
            IntPtr data;
            long n;
            ulong ticket;
            StartZeroCopy(true, 0, timeout, ct, false, out data, out n, out ticket);
            return NewBorrowed(data, n, ticket);
        }

        /// <summary>
        /// As <see cref="Borrow"/>, if a message comes within <paramref name="timeout"/>
        /// (TimeSpan.Zero: only now): false, and <paramref name="borrowed"/> null, when none does. End
        /// of stream still throws QueueClosedException.
        /// </summary>
        public bool TryBorrow(out Borrowed borrowed, TimeSpan timeout, CancellationToken ct = default(CancellationToken))
        {
            IntPtr data;
            long n;
            ulong ticket;
            borrowed = StartZeroCopy(true, 0, timeout, ct, true, out data, out n, out ticket)
                ? NewBorrowed(data, n, ticket)
                : null;
            return borrowed != null;
        }

        /// <summary>
        /// Reserves (<paramref name="borrow"/> false: <paramref name="length"/> bytes) or borrows, in
        /// slices as <see cref="PutCore(string, byte[], int, long, TimeSpan?, CancellationToken, bool)"/>
        /// waits. On success the new guard is counted in `guards` before the call leaves the handle
        /// (see Dispose). False only for a Try call that found no room or no message in time.
        /// </summary>
        private unsafe bool StartZeroCopy(bool borrow, int length, TimeSpan? timeout, CancellationToken ct,
            bool tryOnly, out IntPtr data, out long len, out ulong ticket)
        {
            long total = ToNanos(timeout);
            long start = total > 0 ? Stopwatch.GetTimestamp() : 0;
            Exception ranOut = null;
            data = IntPtr.Zero;
            len = 0;
            ticket = 0;
            for (;;)
            {
                ct.ThrowIfCancellationRequested();
                bool last;
                long slice = NextSlice(total, start, out last);
                if (slice < 0)
                {
                    if (tryOnly) return false;
                    if (ranOut != null) throw ranOut;
                    slice = 1; // ran out between slices: one last, loud try
                }
                int quiet = tryOnly || !last ? 1 : 0;
                byte* p = null;
                long n = length;
                ulong t = 0;
                int rc;
                IntPtr q = EnterHandle();
                try
                {
                    rc = borrow
                        ? polyipc_nativePINVOKE.QueueBorrow(q, &p, &n, &t, slice, quiet)
                        : polyipc_nativePINVOKE.QueueReserve(q, length, &p, &t, slice, quiet);
                    if (rc == 0) gate.Hold();
                }
                finally
                {
                    gate.Leave();
                }
                if (rc == 0)
                {
                    data = (IntPtr)p;
                    len = n;
                    ticket = t;
                    return true;
                }
                if (!IsWaitStatus(rc) || (!tryOnly && last))
                {
                    Exception e = polyipc_nativePINVOKE.TakePending(rc);
                    if (total == 0 || rc != (int)Status.Timeout) throw e;
                    ranOut = e; // this slice ran out; the whole wait may not have
                }
                else if (total == 0)
                {
                    return false; // quiet: a Try call with no room or no message
                }
            }
        }

        /// <summary>The guard of a reservation just counted (cancelled again if it cannot be made).</summary>
        private Reservation NewReservation(IntPtr data, int length, ulong ticket)
        {
            try
            {
                return new Reservation(this, data, length, ticket);
            }
            catch
            {
                EndZeroCopy(ticket, ZeroCopyEnd.Cancel, false);
                throw;
            }
        }

        /// <summary>The guard of a message just borrowed and counted (released again if it cannot be made).</summary>
        private Borrowed NewBorrowed(IntPtr data, long length, ulong ticket)
        {
            try
            {
                return new Borrowed(this, data, length, ticket);
            }
            catch
            {
                EndZeroCopy(ticket, ZeroCopyEnd.Release, false);
                throw;
            }
        }

        /// <summary>
        /// Ends a guard's reservation or borrowed message (called once per guard, by the guard) and
        /// uncounts it; the last guard to end after Dispose closes the native handle. With
        /// <paramref name="raise"/>, a failure is thrown as the library's exception (the guard is
        /// ended anyway: see polyipc_cs_queue_end_zero_copy); without, only the status comes back.
        /// The handle needs no Enter: it stays open while this guard is counted.
        /// </summary>
        internal int EndZeroCopy(ulong ticket, ZeroCopyEnd how, bool raise)
        {
            int rc;
            try
            {
                rc = polyipc_nativePINVOKE.QueueEndZeroCopy(handle, ticket, (int)how, raise ? 1 : 0);
            }
            finally
            {
                gate.Release();
            }
            if (rc != 0 && raise) throw polyipc_nativePINVOKE.TakePending(rc);
            return rc;
        }

        // ---- joinable queues, end of stream, state ------------------------------------------------

        /// <summary>
        /// Marks the oldest message this process took and has not marked done as done (joinable
        /// queues only). Right when one thread takes and finishes messages in order; with several
        /// threads finishing them out of order use <see cref="TaskDone(string)"/>.
        /// </summary>
        public void TaskDone()
        {
            NativeQueue h = gate.Enter();
            try
            {
                h.task_done();
            }
            finally
            {
                gate.Leave();
            }
        }

        /// <summary>
        /// Marks the message <paramref name="message"/>, as taken by this process, as done (joinable
        /// queues only). Use it when several threads finish messages out of order (a thread pool):
        /// the plain <see cref="TaskDone()"/> ends the oldest lease of the process, not the one just
        /// finished, so if the process then died, a finished message would be handed out again and
        /// an unfinished one lost. Pass the string exactly as Take/TryTake returned it (its UTF-8
        /// bytes are the message; for Take&lt;T&gt;, take the string and deserialise it yourself).
        /// Of equal messages held, the oldest is ended. A message this process does not hold (never
        /// taken, or already done) is PolyipcArgumentException naming the queue, nothing ended.
        /// </summary>
        public void TaskDone(string message)
        {
            if (message == null) throw new ArgumentNullException("message");
            byte[] bytes;
            try
            {
                bytes = Utf8.GetBytes(message);
            }
            catch (EncoderFallbackException e)
            {
                throw new PolyipcArgumentException(
                    "queue '" + name + "': task_done of a string that is not valid UTF-16 text, so no message taken: " + e.Message);
            }
            TaskDone(bytes);
        }

        /// <summary>
        /// Bytes variant of <see cref="TaskDone(string)"/>: marks the message holding exactly
        /// <paramref name="message"/> (as TakeBytes returned it, or a copy of a <see cref="Borrowed"/>
        /// message's Span) as done.
        /// </summary>
        public void TaskDone(byte[] message)
        {
            if (message == null) throw new ArgumentNullException("message");
            NativeQueue h = gate.Enter();
            try
            {
                h.task_done_message(message);
            }
            finally
            {
                gate.Leave();
            }
        }

        /// <summary>
        /// Waits until every message put was taken and marked done (joinable queues only): null waits
        /// forever; PolyipcTimeoutException when <paramref name="timeout"/> runs out.
        /// </summary>
        public void Join(TimeSpan? timeout = null, CancellationToken ct = default(CancellationToken))
        {
            JoinCore(timeout, ct);
        }

        /// <summary>End of stream, for every process: later puts fail; getters drain what is there,
        /// then get QueueClosedException.</summary>
        public void CloseWrites()
        {
            NativeQueue h = gate.Enter();
            try
            {
                h.close_writes();
            }
            finally
            {
                gate.Leave();
            }
        }

        /// <summary>The number of messages in the queue now (Python's qsize()).</summary>
        public long Count
        {
            get
            {
                NativeQueue h = gate.Enter();
                try
                {
                    return (long)h.size();
                }
                finally
                {
                    gate.Leave();
                }
            }
        }

        /// <summary>The queue's name, options and counters as a JSON object.</summary>
        public string StatJson()
        {
            NativeQueue h = gate.Enter();
            try
            {
                return h.stat_json();
            }
            finally
            {
                gate.Leave();
            }
        }

        /// <summary>Removes the queue's name; this and other open handles keep working.</summary>
        public void Unlink()
        {
            Names.Unlink(name);
        }

        public override string ToString()
        {
            return "Polyipc.Queue(" + name + ")";
        }
    }
}
