using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading;
using Newtonsoft.Json;
using Polyipc.Native;

namespace Polyipc
{
    /// <summary>The two ends of a pipe. A one-way pipe sends from A to B only.</summary>
    public enum PipeEnd
    {
        A = 0,
        B = 1,
    }

    /// <summary>
    /// How to open or create a pipe. When the pipe exists, Duplex and Format must agree with it
    /// (IncompatibleException otherwise); OpenMode.OpenOnly attaches whatever its options.
    /// </summary>
    public sealed class PipeOptions
    {
        public PipeOptions()
        {
            Duplex = true;
        }

        /// <summary>Open or create (the default), create only, or open only (whatever its options).</summary>
        public OpenMode OpenMode { get; set; }
        /// <summary>Both ends send and receive (the default); false: only end A sends, only end B receives.</summary>
        public bool Duplex { get; set; }
        /// <summary>JSON text (the default: every send is validated) or any bytes.</summary>
        public MessageFormat Format { get; set; }
        /// <summary>Bytes per direction (0: 4 MiB); a message is at most CapacityBytes - 8 bytes.</summary>
        public long CapacityBytes { get; set; }
        /// <summary>Permission bits of a created pipe (0: 0600).</summary>
        public int Mode { get; set; }
        /// <summary>Unlinked when the last attached process detaches or dies.</summary>
        public bool Ephemeral { get; set; }
        /// <summary>Newtonsoft.Json settings for SendObject / ReceiveObject (null: the defaults).</summary>
        public JsonSerializerSettings JsonSettings { get; set; }

        internal static PipeOptions OrDefault(PipeOptions o)
        {
            var r = o ?? new PipeOptions();
            Library.CheckOptionSize(r.CapacityBytes, "CapacityBytes");
            Library.CheckOptionMode(r.Mode);
            if (r.OpenMode < OpenMode.OpenOrCreate || r.OpenMode > OpenMode.OpenOnly)
                throw new ArgumentOutOfRangeException("options", "OpenMode");
            return r;
        }
    }

    /// <summary>
    /// A send to a pipe whose other end is gone (every handle of it closed, or its processes died):
    /// Python's BrokenPipeError. The native exception (Status.Closed) is the InnerException.
    /// </summary>
    [Serializable]
    public class BrokenPipeException : IOException
    {
        public BrokenPipeException(string message, Exception inner) : base(message, inner) { }
    }

    /// <summary>
    /// <see cref="Connection.ReceiveInto(Span{byte}, TimeSpan?, CancellationToken)"/> with a buffer
    /// smaller than the next message (Python's BufferTooShort). Unlike Python's, the message stays in
    /// the pipe: receive it again with a buffer of <see cref="RequiredLength"/> bytes.
    /// </summary>
    [Serializable]
    public class BufferTooShortException : MessageTooLargeException
    {
        public long RequiredLength { get; private set; }

        public BufferTooShortException(string message, long requiredLength) : base(message)
        {
            RequiredLength = requiredLength;
        }
    }

    /// <summary>
    /// A named pipe opened at both ends in this process (Python's multiprocessing.Pipe()):
    /// <code>
    /// using (var pipe = Pipe.Open("work"))      // duplex JSON
    /// {
    ///     pipe.A.SendObject(new { job = 1 });
    ///     var job = pipe.B.ReceiveObject&lt;Job&gt;();
    /// }
    /// Connection a, b;
    /// Pipe.Open("work").Deconstruct(out a, out b);
    /// </code>
    /// Another process opens one end by name with <see cref="Connection.Open"/>. Dispose closes both
    /// ends (never unlinks).
    /// </summary>
    public sealed class Pipe : IDisposable
    {
        private readonly Connection a, b;

        private Pipe(Connection a, Connection b)
        {
            this.a = a;
            this.b = b;
        }

        /// <summary>
        /// Opens (or creates) pipe <paramref name="name"/> and both its ends. <paramref name="duplex"/>
        /// false: A only sends, B only receives. <paramref name="options"/> (its Duplex is overridden
        /// by <paramref name="duplex"/>): format, capacity, open mode, permissions, ephemeral.
        /// </summary>
        public static Pipe Open(string name, bool duplex = true, PipeOptions options = null)
        {
            var o = PipeOptions.OrDefault(options);
            var copy = new PipeOptions
            {
                OpenMode = o.OpenMode, Duplex = duplex, Format = o.Format, CapacityBytes = o.CapacityBytes,
                Mode = o.Mode, Ephemeral = o.Ephemeral, JsonSettings = o.JsonSettings,
            };
            var a = Connection.Open(name, PipeEnd.A, copy);
            try
            {
                // The pipe exists now: the second end attaches (a create-only would fail here).
                if (copy.OpenMode == OpenMode.CreateOnly) copy.OpenMode = OpenMode.OpenOrCreate;
                return new Pipe(a, Connection.Open(name, PipeEnd.B, copy));
            }
            catch
            {
                a.Dispose();
                throw;
            }
        }

        /// <summary>End A (the sending end of a one-way pipe).</summary>
        public Connection A
        {
            get { return a; }
        }

        /// <summary>End B (the receiving end of a one-way pipe).</summary>
        public Connection B
        {
            get { return b; }
        }

        /// <summary>`var (a, b) = Pipe.Open(name)` where deconstruction is available.</summary>
        public void Deconstruct(out Connection endA, out Connection endB)
        {
            endA = a;
            endB = b;
        }

        /// <summary>Closes both ends (the other ends elsewhere then see end of stream).</summary>
        public void Dispose()
        {
            a.Dispose();
            b.Dispose();
        }
    }

    /// <summary>
    /// One end of a named pipe (Python's multiprocessing.connection.Connection): send and receive
    /// JSON text, objects (Newtonsoft.Json) or bytes, in order, with the other end, in this or
    /// another process of any language.
    /// <code>
    /// using (var conn = Connection.Open("work", PipeEnd.B))
    /// {
    ///     while (true)
    ///     {
    ///         Job job;
    ///         try { job = conn.ReceiveObject&lt;Job&gt;(); }
    ///         catch (EndOfStreamException) { break; }   // the other end closed, or died
    ///         conn.SendObject(Run(job));
    ///     }
    /// }
    /// </code>
    /// End of stream: once every handle of the other end is closed, or its processes died (noticed
    /// within ~100 ms), and everything it sent was received, Receive* throw
    /// System.IO.EndOfStreamException (InnerException: the native QueueClosedException, Status.Closed)
    /// and Poll returns true; Send* throw <see cref="BrokenPipeException"/> (an IOException).
    /// Timeouts: null waits forever, TimeSpan.Zero never waits; PolyipcTimeoutException when it runs
    /// out (QueueEmptyException / QueueFullException for TimeSpan.Zero). Waits run in native slices
    /// of at most 50 ms: a CancellationToken (OperationCanceledException) and Dispose from another
    /// thread (ObjectDisposedException) end them within one slice. Safe to use from several threads.
    /// Dispose closes this handle's hold on its end (idempotent); it never unlinks the pipe.
    /// </summary>
    public sealed class Connection : IDisposable
    {
        private static readonly UTF8Encoding Utf8 = new UTF8Encoding(false, true);

        private readonly string name;
        private readonly PipeEnd end;
        private readonly JsonSerializerSettings jsonSettings;
        internal readonly SyncHandle<NativePipe> handle;

        private Connection(string name, PipeEnd end, NativePipe native, JsonSerializerSettings jsonSettings)
        {
            this.name = name;
            this.end = end;
            this.jsonSettings = jsonSettings;
            handle = new SyncHandle<NativePipe>("Polyipc.Connection", "pipe '" + name + "' end " + end, native);
        }

        /// <summary>
        /// Opens end <paramref name="end"/> of pipe <paramref name="name"/>, creating the pipe with
        /// <paramref name="options"/> if it does not exist (null: duplex, JSON, 4 MiB per direction).
        /// OpenMode.OpenOnly attaches to an existing pipe whatever its options (NotFoundException
        /// when there is none). Several handles, in several processes, may hold one end.
        /// </summary>
        public static Connection Open(string name, PipeEnd end, PipeOptions options = null)
        {
            Library.CheckName(name);
            Library.EnsureLoaded();
            if (end != PipeEnd.A && end != PipeEnd.B) throw new ArgumentOutOfRangeException("end");
            var o = PipeOptions.OrDefault(options);
            NativePipe h = o.OpenMode == OpenMode.OpenOnly
                ? NativePipe.open_existing(name, (int)end)
                : NativePipe.open(name, (int)o.OpenMode, (int)end, o.Duplex ? 1 : 0, (int)o.Format,
                    (ulong)o.CapacityBytes, (uint)o.Mode, o.Ephemeral ? 1 : 0);
            if (h == null) throw new PolyipcException(Status.System, "pipe '" + name + "': open returned no handle");
            return new Connection(name, end, h, o.JsonSettings);
        }

        /// <summary>The pipe's name (in the namespace $POLYIPC_NAMESPACE).</summary>
        public string Name
        {
            get { return name; }
        }

        /// <summary>Which end this handle holds.</summary>
        public PipeEnd End
        {
            get { return end; }
        }

        // ---- sending -------------------------------------------------------------------------

        /// <summary>
        /// Sends JSON text (a JSON pipe validates it: InvalidJsonException, nothing sent). Waits for
        /// room up to <paramref name="timeout"/>. BrokenPipeException when the other end is gone;
        /// MessageTooLargeException beyond the capacity - 8 bytes; PolyipcArgumentException from the
        /// receiving end of a one-way pipe.
        /// </summary>
        public void Send(string json, TimeSpan? timeout = null, CancellationToken ct = default(CancellationToken))
        {
            int length;
            byte[] b = Queue.Encode(json, "json", out length);
            SendCore(new ReadOnlySpan<byte>(b, 0, length), timeout, ct);
        }

        /// <summary>Sends <paramref name="value"/> serialised by Newtonsoft.Json (Python's send(obj)).</summary>
        public void SendObject<T>(T value, TimeSpan? timeout = null, CancellationToken ct = default(CancellationToken))
        {
            Send(JsonText.Serialize(value, jsonSettings), timeout, ct);
        }

        /// <summary>Sends bytes (on a JSON pipe they must be UTF-8 JSON). Python's send_bytes.</summary>
        public void SendBytes(byte[] data, TimeSpan? timeout = null, CancellationToken ct = default(CancellationToken))
        {
            if (data == null) throw new ArgumentNullException("data");
            SendCore(data, timeout, ct);
        }

        /// <summary>Sends <paramref name="count"/> bytes of <paramref name="data"/> from <paramref name="offset"/>.</summary>
        public void SendBytes(byte[] data, int offset, int count, TimeSpan? timeout = null, CancellationToken ct = default(CancellationToken))
        {
            if (data == null) throw new ArgumentNullException("data");
            SendCore(new ReadOnlySpan<byte>(data, offset, count), timeout, ct);
        }

        /// <summary>Sends the bytes of a span (no copy on the C# side).</summary>
        public void SendBytes(ReadOnlySpan<byte> data, TimeSpan? timeout = null, CancellationToken ct = default(CancellationToken))
        {
            SendCore(data, timeout, ct);
        }

        private unsafe void SendCore(ReadOnlySpan<byte> data, TimeSpan? timeout, CancellationToken ct)
        {
            var deadline = SlicedDeadline.Start(timeout);
            fixed (byte* p = &MemoryMarshal.GetReference(data))
            {
                var span = new polyipc_nativePINVOKE.Span((IntPtr)p, data.Length);
                for (;;)
                {
                    ct.ThrowIfCancellationRequested();
                    long slice = deadline.NextSlice();
                    NativePipe h = handle.Enter();
                    try
                    {
                        h.send_buffer(span, slice);
                        return;
                    }
                    catch (PolyipcTimeoutException e) when (e.Status == Status.Timeout)
                    {
                        if (deadline.Expired) throw;
                    }
                    catch (QueueClosedException e)
                    {
                        throw new BrokenPipeException(handle.Label + ": the other end is closed (" + e.Message + ")", e);
                    }
                    finally
                    {
                        handle.Leave();
                    }
                }
            }
        }

        // ---- receiving -----------------------------------------------------------------------

        /// <summary>
        /// The next message into <paramref name="buffer"/>: its length, or -(its length) when it does
        /// not fit (and it stays in the pipe). Waits in slices; end of stream: EndOfStreamException.
        /// </summary>
        private unsafe long ReceiveCore(Span<byte> buffer, ref SlicedDeadline deadline, CancellationToken ct)
        {
            fixed (byte* p = &MemoryMarshal.GetReference(buffer))
            {
                var span = new polyipc_nativePINVOKE.Span((IntPtr)p, buffer.Length);
                for (;;)
                {
                    ct.ThrowIfCancellationRequested();
                    long slice = deadline.NextSlice();
                    NativePipe h = handle.Enter();
                    try
                    {
                        return h.recv_into(span, slice);
                    }
                    catch (PolyipcTimeoutException e) when (e.Status == Status.Timeout)
                    {
                        if (deadline.Expired) throw;
                    }
                    catch (QueueClosedException e)
                    {
                        throw EndOfStream(e);
                    }
                    finally
                    {
                        handle.Leave();
                    }
                }
            }
        }

        private EndOfStreamException EndOfStream(Exception e)
        {
            return new EndOfStreamException(handle.Label + ": end of stream (the other end is closed and everything it sent was received)", e);
        }

        /// <summary>The next message in this thread's buffer (or a larger one); its length in <paramref name="length"/>.</summary>
        private byte[] ReceiveBuffer(out int length, TimeSpan? timeout, CancellationToken ct)
        {
            var deadline = SlicedDeadline.Start(timeout);
            byte[] buffer = Queue.GetBuffer(Queue.InitialBuffer);
            for (;;)
            {
                long n = ReceiveCore(buffer, ref deadline, ct);
                if (n >= 0)
                {
                    length = (int)n;
                    return buffer;
                }
                buffer = Queue.GetBuffer(-n); // larger than the buffer, and left in the pipe
            }
        }

        /// <summary>
        /// Receives the next message as text (Python's recv() without the JSON decoding). Waits up to
        /// <paramref name="timeout"/> (null: forever): PolyipcTimeoutException (QueueEmptyException
        /// for TimeSpan.Zero); EndOfStreamException at end of stream; PolyipcArgumentException on the
        /// sending end of a one-way pipe.
        /// </summary>
        public string Receive(TimeSpan? timeout = null, CancellationToken ct = default(CancellationToken))
        {
            int length;
            byte[] b = ReceiveBuffer(out length, timeout, ct);
            try
            {
                return Utf8.GetString(b, 0, length);
            }
            catch (DecoderFallbackException e)
            {
                throw new PolyipcException(Status.InvalidArg, handle.Label + ": a message is not UTF-8 text (use ReceiveBytes): " + e.Message);
            }
        }

        /// <summary>Receives the next message deserialised by Newtonsoft.Json (Python's recv()).</summary>
        public T ReceiveObject<T>(TimeSpan? timeout = null, CancellationToken ct = default(CancellationToken))
        {
            return JsonConvert.DeserializeObject<T>(Receive(timeout, ct), jsonSettings);
        }

        /// <summary>Receives the next message as a new byte[] (Python's recv_bytes()).</summary>
        public byte[] ReceiveBytes(TimeSpan? timeout = null, CancellationToken ct = default(CancellationToken))
        {
            int length;
            byte[] b = ReceiveBuffer(out length, timeout, ct);
            if (b.Length == length && !Queue.IsThreadBuffer(b)) return b;
            byte[] copy = new byte[length];
            Buffer.BlockCopy(b, 0, copy, 0, length);
            return copy;
        }

        /// <summary>
        /// Receives the next message into <paramref name="buffer"/> and returns its length (Python's
        /// recv_bytes_into). A message longer than the buffer: <see cref="BufferTooShortException"/>
        /// with its length, and the message stays in the pipe.
        /// </summary>
        public int ReceiveInto(Span<byte> buffer, TimeSpan? timeout = null, CancellationToken ct = default(CancellationToken))
        {
            var deadline = SlicedDeadline.Start(timeout);
            long n = ReceiveCore(buffer, ref deadline, ct);
            if (n < 0)
                throw new BufferTooShortException(handle.Label + ": the next message is " + (-n) + " bytes, the buffer " +
                                                  buffer.Length + " (the message stays in the pipe)", -n);
            return (int)n;
        }

        /// <summary>Receives into <paramref name="buffer"/> from <paramref name="offset"/> (see <see cref="ReceiveInto(Span{byte}, TimeSpan?, CancellationToken)"/>).</summary>
        public int ReceiveInto(byte[] buffer, int offset = 0, TimeSpan? timeout = null, CancellationToken ct = default(CancellationToken))
        {
            if (buffer == null) throw new ArgumentNullException("buffer");
            if (offset < 0 || offset > buffer.Length) throw new ArgumentOutOfRangeException("offset");
            return ReceiveInto(new Span<byte>(buffer, offset, buffer.Length - offset), timeout, ct);
        }

        /// <summary>Receives the next message if one comes within <paramref name="timeout"/>: false when
        /// the time runs out. End of stream still throws EndOfStreamException.</summary>
        public bool TryReceive(out string json, TimeSpan timeout, CancellationToken ct = default(CancellationToken))
        {
            try
            {
                json = Receive(timeout, ct);
                return true;
            }
            catch (PolyipcTimeoutException)
            {
                json = null;
                return false;
            }
        }

        // ---- poll ----------------------------------------------------------------------------

        /// <summary>Whether a Receive would not wait now (a message, or end of stream). Python's poll().</summary>
        public bool Poll()
        {
            return Poll(TimeSpan.Zero);
        }

        /// <summary>
        /// Waits up to <paramref name="timeout"/> (null: forever) until a Receive would not wait: true
        /// when a message is waiting or at end of stream (Receive then throws EndOfStreamException),
        /// false when the time ran out.
        /// </summary>
        public bool Poll(TimeSpan? timeout, CancellationToken ct = default(CancellationToken))
        {
            var deadline = SlicedDeadline.Start(timeout);
            for (;;)
            {
                ct.ThrowIfCancellationRequested();
                long slice = deadline.NextSlice();
                NativePipe h = handle.Enter();
                try
                {
                    h.poll(slice);
                    return true;
                }
                catch (QueueClosedException)
                {
                    return true;
                }
                catch (PolyipcTimeoutException)
                {
                    if (deadline.Expired) return false;
                }
                finally
                {
                    handle.Leave();
                }
            }
        }

        // ---- waiting on several --------------------------------------------------------------

        /// <summary>
        /// Waits until at least one of <paramref name="objects"/> (Connections and Queues) is ready, as
        /// Python's multiprocessing.connection.wait: a Connection whose Receive, or a Queue whose Take,
        /// would not wait (a message, or end of stream). Returns the ready ones, in the order given;
        /// an empty list when <paramref name="timeout"/> (null: forever) ran out. Waits in native
        /// slices of at most 50 ms (cancellation: OperationCanceledException; any of them disposed:
        /// ObjectDisposedException).
        /// </summary>
        public static IList<object> WaitAny(IEnumerable<object> objects, TimeSpan? timeout = null,
                                            CancellationToken ct = default(CancellationToken))
        {
            if (objects == null) throw new ArgumentNullException("objects");
            var items = new List<object>(objects);
            if (items.Count == 0) throw new ArgumentException("nothing to wait on", "objects");
            foreach (var o in items)
            {
                if (!(o is Connection) && !(o is Queue))
                    throw new ArgumentException("WaitAny waits on Connections and Queues, not " +
                                                (o == null ? "null" : o.GetType().FullName), "objects");
            }
            Library.EnsureLoaded();
            var deadline = SlicedDeadline.Start(timeout);
            for (;;)
            {
                ct.ThrowIfCancellationRequested();
                long slice = deadline.NextSlice();
                int entered = 0;
                NativeWaitSet set = NativeWaitSet.create();
                try
                {
                    // Every handle stays in use for the slice: Dispose elsewhere waits for it to end.
                    foreach (var o in items)
                    {
                        var c = o as Connection;
                        if (c != null) set.add_pipe(c.handle.Enter());
                        else set.add_queue(((Queue)o).EnterNative());
                        entered++;
                    }
                    try
                    {
                        set.wait(slice);
                    }
                    catch (PolyipcTimeoutException)
                    {
                        if (deadline.Expired) return new List<object>();
                        continue;
                    }
                    var ready = new List<object>();
                    for (int i = 0; i < items.Count; i++)
                        if (set.ready((uint)i) != 0) ready.Add(items[i]);
                    return ready;
                }
                finally
                {
                    for (int i = 0; i < entered; i++)
                    {
                        var c = items[i] as Connection;
                        if (c != null) c.handle.Leave();
                        else ((Queue)items[i]).LeaveNative();
                    }
                    set.Dispose();
                }
            }
        }

        // ---- state ---------------------------------------------------------------------------

        /// <summary>The pipe's options and counters as a JSON object.</summary>
        public string StatJson()
        {
            return handle.Use(h => h.stat_json());
        }

        /// <summary>Removes the pipe's name; open handles keep working.</summary>
        public void Unlink()
        {
            Names.Unlink(name);
        }

        /// <summary>Closes this handle (idempotent; waits for calls in progress, at most one slice).
        /// When no handle of this end is left, the other end sees end of stream. Never unlinks.</summary>
        public void Dispose()
        {
            handle.Dispose();
        }

        public override string ToString()
        {
            return "Polyipc.Connection(" + name + ", " + end + ")";
        }
    }
}
