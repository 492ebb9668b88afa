using System;
using System.Collections;
using System.Collections.Generic;
using System.Threading;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;
using Polyipc.Native;

namespace Polyipc
{
    /// <summary>
    /// A named sequence of JSON values in shared memory, shared with processes in any language
    /// (Python's multiprocessing.Manager().list(), without a manager process). Every call is atomic:
    /// a process killed in the middle of one leaves the list as it was before or after.
    /// <code>
    /// using (var jobs = List.Open("jobs")) {
    ///     jobs.Add(new { id = 1, url = "..." });
    ///     jobs.Insert(0, "urgent");                      // before element 0
    ///     Job last = jobs.Pop&lt;Job&gt;();                // removes and returns the last
    ///     foreach (JToken v in jobs) ...                 // one snapshot
    /// }
    /// </code>
    /// Indexes count from the end when negative (-1: the last); outside [-Count, Count) they are
    /// PolyipcOutOfRangeException (a PolyipcArgumentException; the check is made atomically in shared memory, where
    /// the length may change under this process). Insert takes any index, as Python's list.insert:
    /// at or past Count appends, at or before -Count prepends. Values are one JSON text each: the
    /// object variants (Add, Get&lt;T&gt;, Set, Pop&lt;T&gt; ...) go through Newtonsoft.Json with
    /// <see cref="ListOptions.JsonSettings"/>, the *Json variants take and give the text itself
    /// (malformed JSON: InvalidJsonException, the list unchanged). Pop of an empty list:
    /// QueueEmptyException; beyond <see cref="ListOptions.MaxItems"/> values or the room left:
    /// QueueFullException; a value that could never fit: MessageTooLargeException.
    /// A handle is safe to use from several threads. Dispose releases this handle only (idempotent;
    /// never unlinks); afterwards every call throws ObjectDisposedException.
    /// </summary>
    public sealed class List : IDisposable, IEnumerable<JToken>
    {
        private readonly string name;
        private readonly JsonSerializerSettings jsonSettings;
        // The guard around the native handle (see SyncHandle): Dispose waits for calls in progress.
        private readonly SyncHandle<NativeList> gate;

        private List(string name, NativeList native, JsonSerializerSettings jsonSettings)
        {
            this.name = name;
            this.jsonSettings = jsonSettings;
            gate = new SyncHandle<NativeList>("Polyipc.List", "list '" + name + "'", native);
        }

        /// <summary>The list's name (in the namespace $POLYIPC_NAMESPACE).</summary>
        public string Name
        {
            get { return name; }
        }

        // ---- opening ------------------------------------------------------------------------------

        /// <summary>
        /// Opens list <paramref name="name"/>, creating it with <paramref name="options"/> if it does
        /// not exist (null: 1 MiB, 4096 values). Names are 1..200 characters of [A-Za-z0-9._-]
        /// (PolyipcArgumentException otherwise); a name that holds another kind of object (a dict, a
        /// queue ...): IncompatibleException; OpenOnly of no list: NotFoundException.
        /// </summary>
        public static List Open(string name, ListOptions options = null)
        {
            Library.CheckName(name);
            Library.EnsureLoaded();
            var o = options ?? new ListOptions();
            o.Check();
            NativeList h = NativeList.open(name, (int)o.OpenMode, (ulong)o.CapacityBytes, (ulong)o.MaxItems,
                (uint)o.Mode, o.Ephemeral ? 1 : 0);
            if (h == null) throw new PolyipcException(Status.System, "list '" + name + "': open returned no handle");
            return new List(name, h, o.JsonSettings);
        }

        /// <summary>
        /// Releases this handle (never unlinks the list). Waits for calls in progress on other
        /// threads; later calls throw ObjectDisposedException. Idempotent.
        /// </summary>
        public void Dispose()
        {
            gate.Dispose();
        }

        // ---- encoding -----------------------------------------------------------------------------

        /// <summary>A JSON text as UTF-8; null: ArgumentNullException; "": InvalidJsonException.</summary>
        private byte[] JsonBytes(string json)
        {
            byte[] b = Pool.Encode(json, "json");
            if (b.Length == 0) throw new InvalidJsonException("list '" + name + "': json is empty, not a JSON text");
            return b;
        }

        private byte[] ValueBytes(object value)
        {
            if (ReferenceEquals(value, Dict.Absent))
                throw new ArgumentException("Dict.Absent is not a value", "value");
            return JsonBytes(JsonText.Serialize(value, jsonSettings));
        }

        private T Deserialize<T>(string json)
        {
            return JsonConvert.DeserializeObject<T>(json, jsonSettings);
        }

        private R Call<R>(Func<NativeList, R> f)
        {
            NativeList h = gate.Enter();
            try
            {
                return f(h);
            }
            finally
            {
                gate.Leave();
            }
        }

        private void Call(Action<NativeList> f)
        {
            NativeList h = gate.Enter();
            try
            {
                f(h);
            }
            finally
            {
                gate.Leave();
            }
        }

        // ---- adding and replacing -----------------------------------------------------------------

        /// <summary>Appends <paramref name="value"/> serialised by Newtonsoft.Json (null: the JSON value null).</summary>
        public void Add(object value)
        {
            byte[] v = ValueBytes(value);
            Call(h => h.append(v));
        }

        /// <summary>Appends the JSON text <paramref name="json"/>, stored as given (malformed:
        /// InvalidJsonException, nothing changes).</summary>
        public void AddJson(string json)
        {
            byte[] v = JsonBytes(json);
            Call(h => h.append(v));
        }

        /// <summary>Appends every value of <paramref name="values"/>, one Add each (not atomic as a whole).</summary>
        public void AddRange(IEnumerable<object> values)
        {
            if (values == null) throw new ArgumentNullException("values");
            foreach (object v in values) Add(v);
        }

        /// <summary>Inserts <paramref name="value"/> before element <paramref name="index"/>; any
        /// index is accepted, as in Python's list.insert (>= Count appends, &lt;= -Count prepends).</summary>
        public void Insert(long index, object value)
        {
            byte[] v = ValueBytes(value);
            Call(h => h.insert(index, v));
        }

        /// <summary><see cref="Insert"/> of a JSON text.</summary>
        public void InsertJson(long index, string json)
        {
            byte[] v = JsonBytes(json);
            Call(h => h.insert(index, v));
        }

        /// <summary>Replaces element <paramref name="index"/> by <paramref name="value"/> (out of range:
        /// PolyipcOutOfRangeException).</summary>
        public void Set(long index, object value)
        {
            byte[] v = ValueBytes(value);
            Call(h => h.set(index, v));
        }

        /// <summary><see cref="Set"/> of a JSON text.</summary>
        public void SetJson(long index, string json)
        {
            byte[] v = JsonBytes(json);
            Call(h => h.set(index, v));
        }

        // ---- reading and removing -----------------------------------------------------------------

        /// <summary>The JSON text of element <paramref name="index"/> as it was stored (negative: from
        /// the end; out of range: PolyipcOutOfRangeException).</summary>
        public string GetJson(long index)
        {
            return Pool.Decode(Call(h => h.get(index)));
        }

        /// <summary>Element <paramref name="index"/> deserialised by Newtonsoft.Json.</summary>
        public T Get<T>(long index)
        {
            return Deserialize<T>(GetJson(index));
        }

        /// <summary>Element <paramref name="index"/> as a JSON value (no date conversion); set by
        /// the indexer from any object, serialised by Newtonsoft.Json.</summary>
        public JToken this[long index]
        {
            get { return Pool.ParseJson(GetJson(index)); }
            set { Set(index, value); }
        }

        /// <summary>Removes element <paramref name="index"/> (default -1: the last) and returns its JSON
        /// text; an empty list: QueueEmptyException; out of range: PolyipcOutOfRangeException.</summary>
        public string PopJson(long index = -1)
        {
            return Pool.Decode(Call(h => h.pop(index)));
        }

        /// <summary><see cref="PopJson"/>, the value deserialised by Newtonsoft.Json.</summary>
        public T Pop<T>(long index = -1)
        {
            return Deserialize<T>(PopJson(index));
        }

        /// <summary>Removes element <paramref name="index"/>, discarding it (as List&lt;T&gt;.RemoveAt).</summary>
        public void RemoveAt(long index)
        {
            Call(h => h.pop(index));
        }

        // ---- the whole list -----------------------------------------------------------------------

        /// <summary>The number of values now.</summary>
        public long Count
        {
            get { return (long)Call(h => h.len()); }
        }

        /// <summary>Every value now as one JSON array (one snapshot).</summary>
        public string ItemsJson()
        {
            return Pool.Decode(Call(h => h.items()));
        }

        /// <summary>Every value now, as JSON values (no date conversion), in order (one snapshot).</summary>
        public JArray Items()
        {
            return (JArray)Pool.ParseJson(ItemsJson());
        }

        /// <summary>Every value now, deserialised by Newtonsoft.Json into <typeparamref name="T"/> (one snapshot).</summary>
        public List<T> Snapshot<T>()
        {
            var r = new List<T>();
            var serializer = JsonSerializer.Create(jsonSettings ?? new JsonSerializerSettings());
            foreach (JToken v in Items()) r.Add(v.ToObject<T>(serializer));
            return r;
        }

        /// <summary>The values of one snapshot (<see cref="Items"/>), taken when enumeration starts.</summary>
        public IEnumerator<JToken> GetEnumerator()
        {
            foreach (JToken v in Items()) yield return v;
        }

        IEnumerator IEnumerable.GetEnumerator()
        {
            return GetEnumerator();
        }

        /// <summary>Removes every value.</summary>
        public void Clear()
        {
            Call(h => h.clear());
        }

        // ---- watching for changes -----------------------------------------------------------------

        /// <summary>
        /// The list's version now: 0 for a new list, +1 for every change made by any process (every
        /// <see cref="Add(object)"/>, insert, set, pop, <see cref="RemoveAt"/> and <see cref="Clear"/>).
        /// Reads and calls that fail (an index out of range, a pop of an empty list) change nothing.
        /// For <see cref="WaitChange"/>: read the version first, then what you need.
        /// </summary>
        public ulong Version
        {
            get { return Call(h => h.version()); }
        }

        /// <summary>
        /// Waits until the list's version differs from <paramref name="seenVersion"/> (a change by any
        /// process) and returns the version seen then; when <paramref name="timeout"/> (null or
        /// Timeout.InfiniteTimeSpan: forever; TimeSpan.Zero: just look) runs out first, returns
        /// <paramref name="seenVersion"/> itself (compare, as Event.Wait's false: no exception). A
        /// version older than the current one returns at once. Read <see cref="Version"/>, then the
        /// values, then wait from that version: no change in between is missed.
        /// <code>
        /// ulong seen = jobs.Version;
        /// while (jobs.Count == 0) seen = jobs.WaitChange(seen, null, ct);   // until something is appended
        /// </code>
        /// Runs in native slices of at most 50 ms, each from the same <paramref name="seenVersion"/>:
        /// <paramref name="ct"/> ends it with OperationCanceledException, Dispose from another thread
        /// with ObjectDisposedException. A negative timeout other than InfiniteTimeSpan:
        /// ArgumentOutOfRangeException.
        /// </summary>
        public ulong WaitChange(ulong seenVersion, TimeSpan? timeout = null, CancellationToken ct = default(CancellationToken))
        {
            var deadline = SlicedDeadline.Start(timeout);
            ulong now = seenVersion;
            PolyipcTimeoutException ranOut;
            return gate.WaitSliced(deadline, ct, (h, slice) => now = h.wait_change(seenVersion, slice), out ranOut)
                ? now
                : seenVersion;
        }

        /// <summary>The list's name, sizes, counters and attached processes as a JSON object.</summary>
        public string StatJson()
        {
            return Call(h => h.stat_json());
        }

        /// <summary>Removes the list's name; this and other open handles keep working.</summary>
        public void Unlink()
        {
            Names.Unlink(name);
        }

        public override string ToString()
        {
            return "Polyipc.List(" + name + ")";
        }
    }
}
