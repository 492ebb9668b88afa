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
    /// A named map from string keys to JSON values in shared memory, shared with processes in any
    /// language (Python's multiprocessing.Manager().dict(), without a manager process). Every call
    /// is atomic: a process killed in the middle of one leaves the dict as it was before or after.
    /// <code>
    /// using (var config = Dict.Open("config")) {
    ///     config.Set("limits", new { cpu = 4, mem = "2G" });
    ///     Limits l;
    ///     if (config.TryGet("limits", out l)) ...
    ///     config.AddOrUpdate("hits", 1L, n => n + 1);          // compare-and-set loop
    ///     config.TryAdd("owner", Environment.MachineName);      // only if absent
    /// }
    /// </code>
    /// Keys are strings of at most 4096 UTF-8 bytes without NUL (PolyipcArgumentException);
    /// values are one JSON text each: the object variants (Set, Get&lt;T&gt;, CompareAndSet ...)
    /// go through Newtonsoft.Json with <see cref="DictOptions.JsonSettings"/>, the *Json variants take
    /// and give the text itself (malformed JSON: InvalidJsonException, the dict unchanged). A set
    /// beyond <see cref="DictOptions.MaxItems"/> keys or the room left: QueueFullException (status
    /// Full); an entry that could never fit: MessageTooLargeException. Keys, Items and the enumerator
    /// list the entries in the order they were last set, each a snapshot taken at one instant.
    /// A handle is safe to use from several threads. Dispose releases this handle only (idempotent;
    /// never unlinks); afterwards every call throws ObjectDisposedException.
    /// </summary>
    public sealed class Dict : IDisposable, IEnumerable<KeyValuePair<string, JToken>>
    {
        /// <summary>"No entry", for <see cref="CompareAndSet"/>: as expected, only if the key is absent;
        /// as desired, delete the key. (C# null is the JSON value null.)</summary>
        public static readonly object Absent = new AbsentValue();

        private sealed class AbsentValue
        {
            public override string ToString()
            {
                return "Polyipc.Dict.Absent";
            }
        }

        private static readonly byte[] NoValue = new byte[0]; // absent, for the native compare_and_set

        private readonly string name;
        private readonly JsonSerializerSettings jsonSettings;
        // The guard around the native handle (see SyncHandle): Dispose waits for calls in progress.
        private readonly SyncHandle<NativeDict> gate;

        private Dict(string name, NativeDict native, JsonSerializerSettings jsonSettings)
        {
            this.name = name;
            this.jsonSettings = jsonSettings;
            gate = new SyncHandle<NativeDict>("Polyipc.Dict", "dict '" + name + "'", native);
        }

        /// <summary>The dict's name (in the namespace $POLYIPC_NAMESPACE).</summary>
        public string Name
        {
            get { return name; }
        }

        // ---- opening ------------------------------------------------------------------------------

        /// <summary>
        /// Opens dict <paramref name="name"/>, creating it with <paramref name="options"/> if it does
        /// not exist (null: 1 MiB, 4096 keys). Names are 1..200 characters of [A-Za-z0-9._-]
        /// (PolyipcArgumentException otherwise); a name that holds another kind of object:
        /// IncompatibleException; OpenOnly of no dict: NotFoundException.
        /// </summary>
        public static Dict Open(string name, DictOptions options = null)
        {
            Library.CheckName(name);
            Library.EnsureLoaded();
            var o = options ?? new DictOptions();
            o.Check();
            NativeDict h = NativeDict.open(name, (int)o.OpenMode, (ulong)o.CapacityBytes, (ulong)o.MaxItems,
                (uint)o.Mode, o.Ephemeral ? 1 : 0);
            if (h == null) throw new PolyipcException(Status.System, "dict '" + name + "': open returned no handle");
            return new Dict(name, h, o.JsonSettings);
        }

        /// <summary>
        /// Releases this handle (never unlinks the dict). Waits for calls in progress on other
        /// threads; later calls throw ObjectDisposedException. Idempotent.
        /// </summary>
        public void Dispose()
        {
            gate.Dispose();
        }

        // ---- encoding -----------------------------------------------------------------------------

        private static byte[] KeyBytes(string key)
        {
            return Pool.Encode(key, "key"); // null: ArgumentNullException; a lone surrogate: EncoderFallbackException
        }

        /// <summary>A JSON text as UTF-8; null: ArgumentNullException; "" (which would mean "absent"
        /// to the native layer): InvalidJsonException.</summary>
        private byte[] JsonBytes(string json, string what)
        {
            byte[] b = Pool.Encode(json, what);
            if (b.Length == 0) throw new InvalidJsonException("dict '" + name + "': " + what + " is empty, not a JSON text");
            return b;
        }

        /// <summary>As <see cref="JsonBytes"/>, null being "absent" (an empty array).</summary>
        private byte[] OptionalJsonBytes(string json, string what)
        {
            return json == null ? NoValue : JsonBytes(json, what);
        }

        private string Serialize(object value, string what)
        {
            if (ReferenceEquals(value, Absent))
                throw new ArgumentException("Dict.Absent is not a value (only CompareAndSet takes it)", what);
            return JsonText.Serialize(value, jsonSettings);
        }

        private T Deserialize<T>(string json)
        {
            return JsonConvert.DeserializeObject<T>(json, jsonSettings);
        }

        // ---- set ----------------------------------------------------------------------------------

        /// <summary>Sets <paramref name="key"/> to <paramref name="value"/> serialised by Newtonsoft.Json
        /// (null: the JSON value null).</summary>
        public void Set(string key, object value)
        {
            SetJson(key, Serialize(value, "value"));
        }

        /// <summary>Sets <paramref name="key"/> to the JSON text <paramref name="json"/>, stored as given
        /// (malformed: InvalidJsonException, nothing changes).</summary>
        public void SetJson(string key, string json)
        {
            byte[] k = KeyBytes(key), v = JsonBytes(json, "json");
            NativeDict h = gate.Enter();
            try
            {
                h.set(k, v);
            }
            finally
            {
                gate.Leave();
            }
        }

        // ---- get ----------------------------------------------------------------------------------

        /// <summary>The JSON text of <paramref name="key"/> as it was set, or false (and null) when it is absent.</summary>
        public bool TryGetJson(string key, out string json)
        {
            byte[] k = KeyBytes(key);
            byte[] v;
            NativeDict h = gate.Enter();
            try
            {
                v = h.get(k); // empty: absent (a JSON text never is)
            }
            finally
            {
                gate.Leave();
            }
            json = v.Length == 0 ? null : Pool.Decode(v);
            return json != null;
        }

        /// <summary>The JSON text of <paramref name="key"/> as it was set; null when it is absent.</summary>
        public string GetJson(string key)
        {
            string json;
            TryGetJson(key, out json);
            return json;
        }

        /// <summary>The value of <paramref name="key"/> deserialised by Newtonsoft.Json, or false (and
        /// default(T)) when it is absent.</summary>
        public bool TryGet<T>(string key, out T value)
        {
            string json;
            if (!TryGetJson(key, out json))
            {
                value = default(T);
                return false;
            }
            value = Deserialize<T>(json);
            return true;
        }

        /// <summary>The value of <paramref name="key"/> deserialised by Newtonsoft.Json;
        /// KeyNotFoundException when it is absent (as Dictionary's indexer).</summary>
        public T Get<T>(string key)
        {
            T value;
            if (!TryGet(key, out value))
                throw new KeyNotFoundException("dict '" + name + "': no key \"" + key + "\"");
            return value;
        }

        /// <summary>The value of <paramref name="key"/>, or <paramref name="defaultValue"/> when it is absent.</summary>
        public T GetValueOrDefault<T>(string key, T defaultValue = default(T))
        {
            T value;
            return TryGet(key, out value) ? value : defaultValue;
        }

        /// <summary>Whether <paramref name="key"/> has a value now.</summary>
        public bool ContainsKey(string key)
        {
            string json;
            return TryGetJson(key, out json);
        }

        // ---- remove -------------------------------------------------------------------------------

        /// <summary>Deletes <paramref name="key"/>; true when it was there.</summary>
        public bool Remove(string key)
        {
            byte[] k = KeyBytes(key);
            NativeDict h = gate.Enter();
            try
            {
                return h.remove(k) != 0;
            }
            finally
            {
                gate.Leave();
            }
        }

        // ---- compare-and-set ----------------------------------------------------------------------

        /// <summary>
        /// Sets <paramref name="key"/> to <paramref name="desiredJson"/> only if its value equals
        /// <paramref name="expectedJson"/> as JSON (1 equals 1.0; whitespace and key order do not
        /// count), in one atomic step; true when the value matched and <paramref name="desiredJson"/> is
        /// now in place, false when it did not match (nothing changed). Expected null: only if the key
        /// is absent; desired null: delete the key. Malformed JSON: InvalidJsonException, nothing changes.
        /// </summary>
        public bool CompareAndSetJson(string key, string expectedJson, string desiredJson)
        {
            byte[] k = KeyBytes(key);
            byte[] x = OptionalJsonBytes(expectedJson, "expectedJson");
            byte[] v = OptionalJsonBytes(desiredJson, "desiredJson");
            NativeDict h = gate.Enter();
            try
            {
                return h.compare_and_set(k, x, v) != 0;
            }
            finally
            {
                gate.Leave();
            }
        }

        /// <summary>
        /// <see cref="CompareAndSetJson"/> with values serialised by Newtonsoft.Json:
        /// <see cref="Absent"/> as <paramref name="expected"/> means "only if the key is absent", as
        /// <paramref name="desired"/> "delete the key" (C# null is the JSON value null).
        /// </summary>
        public bool CompareAndSet(string key, object expected, object desired)
        {
            return CompareAndSetJson(key,
                ReferenceEquals(expected, Absent) ? null : Serialize(expected, "expected"),
                ReferenceEquals(desired, Absent) ? null : Serialize(desired, "desired"));
        }

        /// <summary>Sets <paramref name="key"/> only if it is absent (put-if-absent, ConcurrentDictionary's
        /// TryAdd); true when this call added it.</summary>
        public bool TryAdd(string key, object value)
        {
            return CompareAndSetJson(key, null, Serialize(value, "value"));
        }

        /// <summary><see cref="TryAdd"/> of a JSON text.</summary>
        public bool TryAddJson(string key, string json)
        {
            if (json == null) throw new ArgumentNullException("json");
            return CompareAndSetJson(key, null, json);
        }

        /// <summary>
        /// The value of <paramref name="key"/>; when it is absent, adds <paramref name="value"/>
        /// first and returns it (Python's setdefault; atomic: of several processes adding at once,
        /// one value wins and every one of them returns it).
        /// </summary>
        public T GetOrAdd<T>(string key, T value)
        {
            string json = Serialize(value, "value");
            for (;;)
            {
                string found;
                if (TryGetJson(key, out found)) return Deserialize<T>(found);
                if (CompareAndSetJson(key, null, json)) return value;
            }
        }

        /// <summary>
        /// Adds <paramref name="addValue"/> when <paramref name="key"/> is absent, else replaces its
        /// value v by <paramref name="update"/>(v), retrying with compare-and-set until no other
        /// writer came in between (<paramref name="update"/> may run more than once); the value set.
        /// <code>long hits = dict.AddOrUpdate("hits", 1L, n => n + 1);</code>
        /// </summary>
        public T AddOrUpdate<T>(string key, T addValue, Func<T, T> update)
        {
            if (update == null) throw new ArgumentNullException("update");
            for (;;)
            {
                string found;
                if (!TryGetJson(key, out found))
                {
                    if (CompareAndSetJson(key, null, Serialize(addValue, "addValue"))) return addValue;
                    continue;
                }
                T next = update(Deserialize<T>(found));
                if (CompareAndSetJson(key, found, Serialize(next, "update's value"))) return next;
            }
        }

        // ---- the whole dict -----------------------------------------------------------------------

        /// <summary>The number of keys now.</summary>
        public long Count
        {
            get
            {
                NativeDict h = gate.Enter();
                try
                {
                    return (long)h.len();
                }
                finally
                {
                    gate.Leave();
                }
            }
        }

        /// <summary>The keys now, in the order they were last set (a snapshot).</summary>
        public IReadOnlyList<string> Keys
        {
            get
            {
                byte[] json;
                NativeDict h = gate.Enter();
                try
                {
                    json = h.keys();
                }
                finally
                {
                    gate.Leave();
                }
                var keys = new List<string>();
                foreach (JToken k in (JArray)Pool.ParseJson(Pool.Decode(json))) keys.Add((string)k);
                return keys;
            }
        }

        /// <summary>Every entry now as one JSON object (keys in the order they were last set).</summary>
        public string ItemsJson()
        {
            NativeDict h = gate.Enter();
            try
            {
                return Pool.Decode(h.items());
            }
            finally
            {
                gate.Leave();
            }
        }

        /// <summary>Every entry now, as JSON values (no date conversion), in the order they were last set.</summary>
        public JObject Items()
        {
            return (JObject)Pool.ParseJson(ItemsJson());
        }

        /// <summary>Every entry now, the values deserialised by Newtonsoft.Json into <typeparamref name="T"/>.</summary>
        public Dictionary<string, T> Snapshot<T>()
        {
            var r = new Dictionary<string, T>();
            var serializer = JsonSerializer.Create(jsonSettings ?? new JsonSerializerSettings());
            foreach (var p in Items().Properties()) r.Add(p.Name, p.Value.ToObject<T>(serializer));
            return r;
        }

        /// <summary>The entries of one snapshot (<see cref="Items"/>), taken when enumeration starts.</summary>
        public IEnumerator<KeyValuePair<string, JToken>> GetEnumerator()
        {
            foreach (var p in Items().Properties()) yield return new KeyValuePair<string, JToken>(p.Name, p.Value);
        }

        IEnumerator IEnumerable.GetEnumerator()
        {
            return GetEnumerator();
        }

        /// <summary>Deletes every key.</summary>
        public void Clear()
        {
            NativeDict h = gate.Enter();
            try
            {
                h.clear();
            }
            finally
            {
                gate.Leave();
            }
        }

        // ---- watching for changes -----------------------------------------------------------------

        /// <summary>
        /// The dict's version now: 0 for a new dict, +1 for every change made by any process (a set,
        /// a <see cref="Remove"/> that found its key, a <see cref="Clear"/>, a compare-and-set that
        /// swapped). Reads, a remove of a missing key and a compare-and-set that did not match change
        /// nothing. For <see cref="WaitChange"/>: read the version first, then what you need.
        /// </summary>
        public ulong Version
        {
            get
            {
                NativeDict h = gate.Enter();
                try
                {
                    return h.version();
                }
                finally
                {
                    gate.Leave();
                }
            }
        }

        /// <summary>
        /// Waits until the dict's version differs from <paramref name="seenVersion"/> (a change by any
        /// process) and returns the version seen then; when <paramref name="timeout"/> (null or
        /// Timeout.InfiniteTimeSpan: forever; TimeSpan.Zero: just look) runs out first, returns
        /// <paramref name="seenVersion"/> itself (compare, as Event.Wait's false: no exception). A
        /// version older than the current one returns at once. Read <see cref="Version"/>, then the
        /// entries, then wait from that version: no change in between is missed.
        /// <code>
        /// ulong seen = config.Version;
        /// for (;;) {
        ///     Apply(config.Items());                                  // read after the version
        ///     ulong now = config.WaitChange(seen, TimeSpan.FromSeconds(30), ct);
        ///     if (now == seen) continue;                              // timed out: nothing changed
        ///     seen = now;
        /// }
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

        /// <summary>The dict's name, sizes, counters and attached processes as a JSON object.</summary>
        public string StatJson()
        {
            NativeDict h = gate.Enter();
            try
            {
                return h.stat_json();
            }
            finally
            {
                gate.Leave();
            }
        }

        /// <summary>Removes the dict's name; this and other open handles keep working.</summary>
        public void Unlink()
        {
            Names.Unlink(name);
        }

        public override string ToString()
        {
            return "Polyipc.Dict(" + name + ")";
        }
    }
}
