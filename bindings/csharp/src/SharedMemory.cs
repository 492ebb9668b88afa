using System;
using System.IO;
using System.Threading;
using Polyipc.Native;

namespace Polyipc
{
    /// <summary>A callback given the bytes of a <see cref="SharedMemory"/> (see <see cref="SharedMemory.Access(SpanAction)"/>).</summary>
    public delegate void SpanAction(Span<byte> bytes);

    /// <summary>A callback given the bytes of a <see cref="SharedMemory"/>, returning a result.</summary>
    public delegate TResult SpanFunc<TResult>(Span<byte> bytes);

    /// <summary>
    /// The mapping of a SharedMemory, counted: the SharedMemory holds one reference until Dispose,
    /// each running Access callback and each open stream one more. The native handle (and with it
    /// the mapping) is closed when the last reference goes.
    /// </summary>
    internal sealed unsafe class ShmMapping
    {
        private readonly object gate = new object();
        private NativeSharedMemory native;
        private int refs = 1;
        internal readonly byte* Address;
        internal readonly long Size;

        internal ShmMapping(NativeSharedMemory native)
        {
            this.native = native;
            Address = (byte*)native.address();
            Size = (long)native.size();
        }

        internal bool TryAddRef()
        {
            lock (gate)
            {
                if (refs == 0) return false;
                refs++;
                return true;
            }
        }

        internal void Release()
        {
            NativeSharedMemory n = null;
            lock (gate)
            {
                if (refs == 0) return;
                if (--refs == 0)
                {
                    n = native;
                    native = null;
                }
            }
            if (n != null) n.Dispose();
        }

        internal string StatJson()
        {
            lock (gate)
            {
                if (native == null) throw new ObjectDisposedException("Polyipc.SharedMemory");
                return native.stat_json();
            }
        }
    }

    /// <summary>A stream over a SharedMemory's bytes; it keeps the mapping until it is disposed (or collected).</summary>
    internal sealed unsafe class SharedMemoryStream : UnmanagedMemoryStream
    {
        private ShmMapping mapping;

        internal SharedMemoryStream(ShmMapping mapping, FileAccess access)
            : base(mapping.Address, mapping.Size, mapping.Size, access)
        {
            this.mapping = mapping;
        }

        protected override void Dispose(bool disposing)
        {
            try
            {
                base.Dispose(disposing);
            }
            finally
            {
                var m = Interlocked.Exchange(ref mapping, null);
                if (m != null) m.Release();
            }
        }

        ~SharedMemoryStream()
        {
            Dispose(false);
        }
    }

    /// <summary>
    /// A named block of shared memory (Python's multiprocessing.shared_memory.SharedMemory), shared
    /// by name with processes in any language. The bytes start zeroed.
    /// <code>
    /// using (var shm = SharedMemory.Open("frame", 1 &lt;&lt; 20))
    /// {
    ///     Span&lt;byte&gt; bytes = shm.Span;           // zero-copy view of the mapping
    ///     bytes[0] = 42;
    ///     shm.Access(b =&gt; b.Fill(7));             // safe against Dispose on another thread
    ///     using (var s = shm.OpenStream()) s.Write(data, 0, data.Length);
    /// }
    /// SharedMemory.Unlink("frame");               // Dispose never unlinks
    /// </code>
    /// Lifetime rules (the mapping is unmapped when nothing can use it any more):
    ///  - <see cref="Span"/> is a raw view of the mapping, as a pointer from SafeBuffer.AcquirePointer:
    ///    it is valid until Dispose. Reading the property after Dispose throws ObjectDisposedException;
    ///    a Span kept from before Dispose must not be used after it (a Span cannot be tracked). Keep
    ///    the SharedMemory referenced (a using block) while you use its Span.
    ///  - <see cref="Access(SpanAction)"/> runs a callback with the span while holding the mapping:
    ///    a Dispose meanwhile (any thread) takes effect, but the unmapping waits for the callback.
    ///  - <see cref="OpenStream"/> returns an UnmanagedMemoryStream that holds the mapping until the
    ///    stream is disposed: it keeps working after the SharedMemory's Dispose.
    /// Another process unlinking the name never invalidates a mapping.
    /// </summary>
    public sealed unsafe class SharedMemory : IDisposable
    {
        private readonly string name;
        private ShmMapping mapping; // null once disposed

        private SharedMemory(string name, ShmMapping mapping)
        {
            this.name = name;
            this.mapping = mapping;
        }

        /// <summary>
        /// Opens shared memory <paramref name="name"/>, creating it with <paramref name="size"/> bytes
        /// (zeroed) if it does not exist. size 0: attach to an existing block whatever its size
        /// (NotFoundException when there is none). An existing block of another size:
        /// IncompatibleException; more than /dev/shm can hold: PolyipcException (Status.NoMemory).
        /// </summary>
        public static SharedMemory Open(string name, long size, SyncOptions options = null)
        {
            Library.CheckName(name);
            Library.EnsureLoaded();
            if (size < 0) throw new ArgumentOutOfRangeException("size", "size >= 0 (0: attach whatever the size)");
            var o = SyncOptions.OrDefault(options);
            NativeSharedMemory h = NativeSharedMemory.open(name, (int)o.OpenMode, (ulong)size, (uint)o.Mode, o.Ephemeral ? 1 : 0);
            if (h == null) throw new PolyipcException(Status.System, "shared memory '" + name + "': open returned no handle");
            try
            {
                return new SharedMemory(name, new ShmMapping(h));
            }
            catch
            {
                h.Dispose();
                throw;
            }
        }

        /// <summary>Attaches to the existing shared memory <paramref name="name"/>, whatever its size.</summary>
        public static SharedMemory Attach(string name)
        {
            return Open(name, 0, new SyncOptions { OpenMode = OpenMode.OpenOnly });
        }

        /// <summary>The block's name (in the namespace $POLYIPC_NAMESPACE).</summary>
        public string Name
        {
            get { return name; }
        }

        private ShmMapping Live
        {
            get
            {
                var m = Volatile.Read(ref mapping);
                if (m == null) throw new ObjectDisposedException("Polyipc.SharedMemory", "shared memory '" + name + "': this handle was disposed");
                return m;
            }
        }

        /// <summary>The size in bytes.</summary>
        public long Length
        {
            get { return Live.Size; }
        }

        /// <summary>
        /// The bytes, as a zero-copy Span over the mapping (see the lifetime rules above: valid until
        /// Dispose). A block larger than 2 GiB - 1: use <see cref="GetSpan"/> or a stream.
        /// </summary>
        public Span<byte> Span
        {
            get
            {
                var m = Live;
                if (m.Size > int.MaxValue)
                    throw new InvalidOperationException("shared memory '" + name + "': " + m.Size + " bytes do not fit one Span; use GetSpan(offset, length)");
                return new Span<byte>(m.Address, (int)m.Size);
            }
        }

        /// <summary><paramref name="length"/> bytes from <paramref name="offset"/> (ArgumentOutOfRangeException outside the block).</summary>
        public Span<byte> GetSpan(long offset, int length)
        {
            var m = Live;
            if (offset < 0 || offset > m.Size) throw new ArgumentOutOfRangeException("offset");
            if (length < 0 || length > m.Size - offset) throw new ArgumentOutOfRangeException("length");
            return new Span<byte>(m.Address + offset, length);
        }

        private ShmMapping Lease()
        {
            var m = Live;
            if (!m.TryAddRef()) throw new ObjectDisposedException("Polyipc.SharedMemory", "shared memory '" + name + "': this handle was disposed");
            return m;
        }

        /// <summary>
        /// Runs <paramref name="action"/> with the bytes; the mapping stays until it returns, even if
        /// the SharedMemory is disposed meanwhile. ObjectDisposedException after Dispose.
        /// </summary>
        public void Access(SpanAction action)
        {
            if (action == null) throw new ArgumentNullException("action");
            var m = Lease();
            try
            {
                if (m.Size > int.MaxValue) throw new InvalidOperationException("shared memory '" + name + "': larger than one Span");
                action(new Span<byte>(m.Address, (int)m.Size));
            }
            finally
            {
                m.Release();
            }
        }

        /// <summary>As <see cref="Access(SpanAction)"/>, returning the callback's result.</summary>
        public TResult Access<TResult>(SpanFunc<TResult> func)
        {
            if (func == null) throw new ArgumentNullException("func");
            var m = Lease();
            try
            {
                if (m.Size > int.MaxValue) throw new InvalidOperationException("shared memory '" + name + "': larger than one Span");
                return func(new Span<byte>(m.Address, (int)m.Size));
            }
            finally
            {
                m.Release();
            }
        }

        /// <summary>
        /// A stream over the bytes (position 0, fixed length). It holds the mapping until it is
        /// disposed: it stays usable after this SharedMemory's Dispose. Dispose it (or it holds the
        /// mapping until the garbage collector finalizes it).
        /// </summary>
        public UnmanagedMemoryStream OpenStream(FileAccess access = FileAccess.ReadWrite)
        {
            var m = Lease();
            try
            {
                return new SharedMemoryStream(m, access);
            }
            catch
            {
                m.Release();
                throw;
            }
        }

        /// <summary>A copy of the bytes.</summary>
        public byte[] ToArray()
        {
            return Access(b => b.ToArray());
        }

        /// <summary>The block's name, size and attached processes as a JSON object.</summary>
        public string StatJson()
        {
            return Live.StatJson();
        }

        /// <summary>Removes the name; attached mappings (here and elsewhere) keep working.</summary>
        public void Unlink()
        {
            Names.Unlink(name);
        }

        /// <summary>Removes the name <paramref name="name"/> (Names.Unlink).</summary>
        public static void Unlink(string name)
        {
            Names.Unlink(name);
        }

        /// <summary>
        /// Closes this handle (idempotent): the mapping is unmapped now, or when the last running
        /// Access callback returns / the last open stream is disposed. Never unlinks.
        /// </summary>
        public void Dispose()
        {
            var m = Interlocked.Exchange(ref mapping, null);
            if (m != null) m.Release();
        }

        public override string ToString()
        {
            return "Polyipc.SharedMemory(" + name + ")";
        }
    }
}
