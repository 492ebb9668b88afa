using System;
using System.Collections.Generic;
using System.IO;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;
using Polyipc.Native;

namespace Polyipc
{
    /// <summary>
    /// A worker pool shared by name with processes in any language (Python's Pool.apply_async
    /// across processes): a submitter names a function and passes JSON arguments; a worker, in
    /// any process, takes the task, runs what it registered under that name and completes it with
    /// a JSON result or fails it with an error text, which goes back to the submitting handle alone.
    /// <code>
    /// // worker process
    /// using (var pool = Pool.Open("resize"))
    ///     pool.Serve(new Dictionary&lt;string, Func&lt;JToken, object&gt;&gt; {
    ///         ["add"] = args =&gt; (long)args[0] + (long)args[1],
    ///     }, ct);                                   // until CloseTasks (or ct)
    ///
    /// // submitter
    /// using (var pool = Pool.Open("resize"))
    /// {
    ///     PoolResult r = pool.Submit("add", new[] { 1, 2 });
    ///     long sum = r.Get&lt;long&gt;(TimeSpan.FromSeconds(5));   // 3; a failed task: PoolTaskException
    ///     pool.CloseTasks();                           // the workers drain the pool, then end
    /// }
    /// </code>
    /// Any handle can submit and work. A task taken is leased: a worker that dies, or disposes the
    /// task without Complete/Fail, gives it back to the pool for another worker, so a task runs at
    /// least once; this handle receives each task's result once.
    /// Timeouts: null waits forever, TimeSpan.Zero never waits. Waits run in native code in slices
    /// of at most 50 ms, so a CancellationToken (OperationCanceledException) and Dispose from another
    /// thread (ObjectDisposedException) are noticed within one slice. A handle is safe to use from
    /// several threads; several threads may wait for results of different tasks at once.
    /// Dispose releases this handle only (never unlinks); a <see cref="PoolTask"/> still open keeps
    /// the native handle open until it ends (the task keeps working); the results of this handle's
    /// tasks not yet received are lost with the handle (they go to its private result queue).
    /// </summary>
    public sealed class Pool : IDisposable
    {
        private static readonly UTF8Encoding Utf8 = new UTF8Encoding(false, true);
        /// <summary>The take wait of <see cref="Serve"/>: it notices its CancellationToken in each.</summary>
        private static readonly TimeSpan ServeSlice = TimeSpan.FromMilliseconds(200);

        private readonly string name;
        private readonly JsonSerializerSettings jsonSettings;
        // The guard around the native handle (see SyncHandle), as Queue's: a task taken is a hold, counted
        // before the take leaves the handle, so the task that ends last after Dispose closes it.
        private readonly SyncHandle<NativePool> gate;

        // Results. Submit registers each task's PoolResult in `waiting` until its result is
        // received, by its own Wait or by NextResult (any task of this handle); a result received
        // for an id Submit has not registered yet (a quick worker) waits in `early` for it.
        // `receiving` counts the native result calls in progress: one that got a result counts
        // until it has delivered it, so a Wait told "no such task" (another thread received it)
        // waits for the delivery while a call is in progress. All under `results`.
        private readonly object results = new object();
        private readonly Dictionary<ulong, PoolResult> waiting = new Dictionary<ulong, PoolResult>();
        private readonly Dictionary<ulong, PoolResult> early = new Dictionary<ulong, PoolResult>();
        private int receiving;
        // PoolResult.WaitAsync: the awaitings and the completion thread, under `results` too.
        private readonly PoolCompletions completions;

        private Pool(string name, NativePool native, JsonSerializerSettings jsonSettings)
        {
            this.name = name;
            gate = new SyncHandle<NativePool>("Polyipc.Pool", "pool '" + name + "'", native);
            this.jsonSettings = jsonSettings;
            completions = new PoolCompletions(this, results);
        }

        /// <summary>The pool's name (in the namespace $POLYIPC_NAMESPACE).</summary>
        public string Name
        {
            get { return name; }
        }

        internal JsonSerializerSettings JsonSettings
        {
            get { return jsonSettings; }
        }

        // ---- opening ------------------------------------------------------------------------------

        /// <summary>
        /// Opens pool <paramref name="name"/>, creating it with <paramref name="options"/> if it does
        /// not exist (null: the defaults). Pool names are at most 160 characters of [A-Za-z0-9._-]
        /// (PolyipcArgumentException otherwise); a name that holds another kind of object:
        /// IncompatibleException; OpenOnly of no pool: NotFoundException.
        /// </summary>
        public static Pool Open(string name, PoolOptions options = null)
        {
            Library.CheckName(name);
            Library.EnsureLoaded();
            var o = options ?? new PoolOptions();
            Library.CheckOptionSize(o.CapacityBytes, "CapacityBytes");
            Library.CheckOptionSize(o.MaxTasks, "MaxTasks");
            Library.CheckOptionSize(o.ResultCapacityBytes, "ResultCapacityBytes");
            Library.CheckOptionMode(o.Mode);
            NativePool h = NativePool.open(name, (int)o.OpenMode, (ulong)o.CapacityBytes, (ulong)o.MaxTasks,
                (ulong)o.ResultCapacityBytes, (uint)o.Mode);
            if (h == null) throw new PolyipcException(Status.System, "pool '" + name + "': open returned no handle");
            return new Pool(name, h, o.JsonSettings);
        }

        // ---- the guard around the native handle ----------------------------------------------------

        /// <summary>
        /// Releases this handle (never unlinks the pool). Waits for calls in progress on other
        /// threads, which end within one wait slice; later calls throw ObjectDisposedException.
        /// Tasks this handle took and has not ended keep the native handle open until they end
        /// (Complete, Fail or Dispose). Tasks of <see cref="PoolResult.WaitAsync"/> still waiting fault
        /// with ObjectDisposedException and the completion thread ends. Idempotent.
        /// </summary>
        public void Dispose()
        {
            gate.Dispose();
            completions.Dispose(); // after: no call is in progress, so no result can still arrive
        }

        /// <summary>True once Dispose has started (then Wait throws <see cref="DisposedException"/>).</summary>
        internal bool DisposeRequested
        {
            get { return gate.DisposeRequested; }
        }

        /// <summary>What a call on this disposed handle throws.</summary>
        internal ObjectDisposedException DisposedException()
        {
            return gate.Disposed();
        }

        /// <summary>PoolResult.WaitAsync's registry and thread.</summary>
        internal PoolCompletions Completions
        {
            get { return completions; }
        }

        /// <summary>The thread completing WaitAsync's tasks, null when none runs (for tests).</summary>
        internal Thread CompletionThread
        {
            get { return completions.Thread; }
        }

        /// <summary>Whether the native handle is still open (for tests: Dispose defers to open tasks).</summary>
        internal bool IsNativeOpen
        {
            get { return gate.IsNativeOpen; }
        }

        internal static byte[] Encode(string text, string what)
        {
            if (text == null) throw new ArgumentNullException(what);
            return Utf8.GetBytes(text); // a lone surrogate: EncoderFallbackException (an ArgumentException)
        }

        internal static string Decode(byte[] bytes)
        {
            return Utf8.GetString(bytes);
        }

        /// <summary>A JSON text as a JToken, the values as sent (no date conversion).</summary>
        internal static JToken ParseJson(string text)
        {
            using (var reader = new JsonTextReader(new StringReader(text)))
            {
                reader.DateParseHandling = DateParseHandling.None;
                reader.FloatParseHandling = FloatParseHandling.Double;
                return JToken.ReadFrom(reader);
            }
        }

        private static void CheckFunction(string function)
        {
            if (function == null) throw new ArgumentNullException("function");
            if (function.IndexOf('\0') >= 0)
                throw new PolyipcArgumentException("polyipc: function name contains a NUL character: \"" +
                                                   function.Replace("\0", "\\0") + "\"");
        }

        // ---- submitter -------------------------------------------------------------------------

        /// <summary>
        /// Submits <paramref name="function"/>(<paramref name="args"/>), the arguments serialised by
        /// Newtonsoft.Json (any value: an array, an object, a string, null ...). Waits up to
        /// <paramref name="timeout"/> (null: forever) for room in the pool: PolyipcTimeoutException
        /// (QueueFullException for TimeSpan.Zero). After CloseTasks: QueueClosedException. An empty
        /// function name: PolyipcArgumentException; arguments too large: MessageTooLargeException.
        /// </summary>
        public PoolResult Submit(string function, object args, TimeSpan? timeout = null,
            CancellationToken ct = default(CancellationToken))
        {
            CheckFunction(function);
            return SubmitJson(function, JsonText.Serialize(args, jsonSettings), timeout, ct);
        }

        /// <summary>About how many tasks <see cref="Map"/> submits in one native call (whole chunks).</summary>
        internal const int MapGroupTasks = 2048;

        /// <summary>
        /// Python's Pool.map: runs <paramref name="function"/> over each of <paramref name="args"/>
        /// (each serialised as <see cref="Submit"/> does) on the pool's workers and returns the results
        /// in the order of the arguments. <paramref name="chunkSize"/> tasks go to a pool message (a
        /// worker takes a chunk's tasks together; 0: as Python picks, the count / 32 between 1 and
        /// 1024). The arguments go in as JSON arrays, a group of about 2048 tasks per native call, and
        /// the results come back the same way, two groups out at a time: a map larger than the pool or
        /// than this handle's result queue never waits on itself. Once every task submitted has ended,
        /// the first failed one (in order) throws its PoolTaskException (a cancelled one
        /// OperationCanceledException); no result is left behind. Cancelling <paramref name="ct"/>
        /// leaves the tasks out to run, their results dropped with the handle. These tasks' results
        /// never go to <see cref="NextResult"/>.
        /// </summary>
        public List<JToken> Map(string function, System.Collections.IEnumerable args, int chunkSize = 0,
            CancellationToken ct = default(CancellationToken))
        {
            CheckFunction(function);
            if (args == null) throw new ArgumentNullException("args");
            if (chunkSize < 0) throw new ArgumentOutOfRangeException("chunkSize", "a chunk of " + chunkSize + " tasks");
            var texts = new List<string>();
            foreach (object a in args) texts.Add(JsonText.Serialize(a, jsonSettings));
            int n = texts.Count;
            int chunk = chunkSize > 0 ? chunkSize : Math.Max(1, Math.Min(1024, n / 32));
            int group = Math.Max(chunk, MapGroupTasks / chunk * chunk);
            var values = new List<JToken>(n);
            var spans = new Queue<KeyValuePair<ulong, int>>(); // (first id, count) out, in order
            JToken failure = null; // the first failed task's result message
            int next = 0;
            while ((next < n && failure == null) || spans.Count > 0)
            {
                ct.ThrowIfCancellationRequested();
                if (next < n && failure == null && spans.Count < 2)
                {
                    JArray r = SubmitArray(function, texts, next, Math.Min(n, next + group), chunk, 0);
                    if ((int)r[1] == 0 && spans.Count == 0 && NoRoom((int)r[2]))
                    {
                        // Nothing of ours is out: wait for room (a slice), but for one chunk only, so
                        // that no result of ours fills the result queue while this call waits.
                        r = SubmitArray(function, texts, next, Math.Min(n, next + chunk), chunk, SlicedDeadline.SliceNanos);
                    }
                    int done = (int)r[1], status = (int)r[2];
                    if (done > 0)
                    {
                        spans.Enqueue(new KeyValuePair<ulong, int>((ulong)r[0], done));
                        next += done;
                        continue;
                    }
                    if (status == 0 || (NoRoom(status) && spans.Count == 0)) continue;
                    if (!NoRoom(status)) throw PolyipcException.FromNative(status, (string)r[3]);
                }
                var g = spans.Dequeue(); // no room, or two groups out: collect the older
                JToken failed = CollectResults(g.Key, g.Value, values, ct);
                if (failure == null) failure = failed; // the rest still ends first: no result is left behind
            }
            if (failure != null)
            {
                ulong id = (ulong)failure["id"];
                if ((bool?)failure["cancelled"] == true)
                    throw new OperationCanceledException("pool '" + name + "': task " + id + " was cancelled");
                throw new PoolTaskException(id, function, (string)failure["error"]);
            }
            return values;
        }

        private static bool NoRoom(int status)
        {
            return status == (int)Status.Full || status == (int)Status.Timeout;
        }

        /// <summary>texts[from .. to-1] submitted as one JSON array: [first id, how many went in, status, message].</summary>
        private JArray SubmitArray(string function, List<string> texts, int from, int to, int chunk, long timeoutNs)
        {
            byte[] data = Encode("[" + string.Join(",", texts.GetRange(from, to - from)) + "]", "args");
            byte[] reply = gate.Use(h => h.submit_array(function, data, (uint)chunk, timeoutNs));
            return (JArray)ParseJson(Encoding.UTF8.GetString(reply)); // (a message cut mid-character: U+FFFD)
        }

        /// <summary>Waits for the results of tasks first .. first+count-1, adds their values to
        /// <paramref name="values"/> (null for a failed task) and answers the first failed one's result
        /// message, or null.</summary>
        private JToken CollectResults(ulong first, int count, List<JToken> values, CancellationToken ct)
        {
            byte[] got = null;
            gate.Sliced(null, ct, false, (h, slice) => { got = h.results(first, (uint)count, slice); });
            var both = ParseJson(Decode(got)) as JArray;
            var vs = both == null ? null : both[0] as JArray;
            var failures = both == null ? null : both[1] as JObject;
            if (vs == null || failures == null || vs.Count != count)
                throw new IncompatibleException("pool '" + name + "': results of tasks from " + first + " that are not [values, failures]");
            values.AddRange(vs);
            JToken firstFailure = null;
            long at = long.MaxValue;
            foreach (var f in failures)
            {
                long k;
                if (long.TryParse(f.Key, out k) && k < at)
                {
                    at = k;
                    firstFailure = f.Value;
                }
            }
            return firstFailure;
        }

        /// <summary>
        /// As <see cref="Submit"/>, with the arguments as JSON text, passed on as they are
        /// (malformed JSON: InvalidJsonException, nothing is submitted).
        /// </summary>
        public PoolResult SubmitJson(string function, string argsJson, TimeSpan? timeout = null,
            CancellationToken ct = default(CancellationToken))
        {
            CheckFunction(function);
            byte[] data = Encode(argsJson, "argsJson");
            ulong id = 0;
            gate.Sliced(timeout, ct, false, (h, slice) => { id = h.submit(function, data, slice); });
            return Expect(id, function);
        }

        /// <summary>The PoolResult of task <paramref name="id"/>, submitted by this handle: registered
        /// until its result is received (or completed already, when a quick worker's result came first).</summary>
        internal PoolResult Expect(ulong id, string function)
        {
            lock (results)
            {
                PoolResult r;
                if (early.TryGetValue(id, out r))
                {
                    early.Remove(id);
                    r.Function = function;
                    return r;
                }
                r = new PoolResult(this, id, function);
                waiting[id] = r;
                return r;
            }
        }

        /// <summary>Calls <paramref name="call"/> with the native handle, counted as a call in progress
        /// (for tests: native calls the C# API has no member for).</summary>
        internal TResult UseNative<TResult>(Func<NativePool, TResult> call)
        {
            return gate.Use(call);
        }

        /// <summary>
        /// Waits for the next result of any task of this handle whose result no
        /// <see cref="PoolResult.Wait"/> received yet, and returns that task's PoolResult, completed
        /// (its Wait/Get/Result return at once; a failed task throws PoolTaskException there, a
        /// cancelled one OperationCanceledException, not here). PolyipcTimeoutException when none
        /// comes in time; PolyipcArgumentException when this handle has no task whose result is
        /// still to come. While tasks of <see cref="PoolResult.WaitAsync"/> wait, this handle's
        /// completion thread takes results the same way: each goes to one of them, so this may return
        /// fewer (the others are in their PoolResults, completed).
        /// </summary>
        public PoolResult NextResult(TimeSpan? timeout = null, CancellationToken ct = default(CancellationToken))
        {
            return Receive(null, timeout, ct, false);
        }

        /// <summary>As <see cref="NextResult"/>, but false (and null) when none comes within <paramref name="timeout"/>.</summary>
        public bool TryNextResult(out PoolResult result, TimeSpan timeout, CancellationToken ct = default(CancellationToken))
        {
            result = Receive(null, timeout, ct, true);
            return result != null;
        }

        /// <summary>
        /// Receives the result of <paramref name="want"/>'s task (null: of any task) in slices: the
        /// PoolResult completed, or null for <paramref name="tryOnly"/> when the time ran out.
        /// </summary>
        internal PoolResult Receive(PoolResult want, TimeSpan? timeout, CancellationToken ct, bool tryOnly)
        {
            ulong id = want == null ? 0 : want.Id;
            SlicedDeadline deadline = SlicedDeadline.Start(timeout);
            for (;;)
            {
                if (want != null && want.IsCompleted) return want;
                ct.ThrowIfCancellationRequested();
                long slice = deadline.NextSlice();
                byte[] message = null;
                PoolResult got = null;
                PolyipcException failure = null;
                NativePool h = gate.Enter();
                lock (results) receiving++;
                try
                {
                    message = h.result(id, slice);
                }
                catch (PolyipcTimeoutException e)
                {
                    failure = e;
                }
                catch (PolyipcArgumentException e) when (want != null)
                {
                    failure = e;
                }
                finally
                {
                    try
                    {
                        if (message != null) got = Deliver(message);
                    }
                    finally
                    {
                        lock (results)
                        {
                            receiving--;
                            Monitor.PulseAll(results);
                        }
                        gate.Leave();
                    }
                }
                // Its WaitAsync tasks, here: outside the lock and the call count (see PoolCompletions).
                if (got != null) got.Signal();
                if (got != null && (want == null || got == want)) return got;
                if (failure is PolyipcArgumentException)
                {
                    // No result of this task is to come: another thread of this handle received it
                    // (NextResult, or a Wait of the same PoolResult) and is delivering it.
                    if (AwaitDelivery(want, deadline, ct)) return want;
                    if (Volatile.Read(ref receiving) == 0) throw failure; // nobody has it: not a task of this handle
                    if (tryOnly) return null;
                    throw new PolyipcTimeoutException("pool '" + name + "': no result came within the timeout");
                }
                if (failure != null && deadline.Expired)
                {
                    if (want != null && want.IsCompleted) return want;
                    if (tryOnly) return null;
                    throw failure;
                }
            }
        }

        /// <summary>
        /// Waits (until the deadline) while a result call is in progress for a result another thread
        /// received to be delivered to <paramref name="want"/>: whether it was.
        /// </summary>
        private bool AwaitDelivery(PoolResult want, SlicedDeadline deadline, CancellationToken ct)
        {
            lock (results)
            {
                while (!want.IsCompleted && receiving > 0 && !deadline.Expired)
                {
                    ct.ThrowIfCancellationRequested();
                    Monitor.Wait(results, 50);
                }
                return want.IsCompleted;
            }
        }

        /// <summary>
        /// <see cref="PoolResult.Cancel"/>: takes <paramref name="r"/>'s task back out of the pool if
        /// no worker has taken it yet; then receives its (cancelled) result, so that
        /// <paramref name="r"/> is completed as cancelled when this returns true.
        /// </summary>
        internal bool Cancel(PoolResult r)
        {
            if (r.IsCompleted) return false;
            int cancelled;
            NativePool h = gate.Enter();
            try
            {
                cancelled = h.cancel(r.Id);
            }
            catch (PolyipcArgumentException)
            {
                return false; // no task that could still run: cancelled already, or its result came
            }
            finally
            {
                gate.Leave();
            }
            if (cancelled == 0) return false; // a worker has it: its result comes as usual
            // The cancelled result is in this handle's result queue already: received here, or by a
            // thread already waiting for it (then this waits for that thread's delivery).
            Receive(r, null, CancellationToken.None, false);
            return true;
        }

        /// <summary>The native result calls in progress (for tests: a thread is waiting for a result).</summary>
        internal int ReceivingCalls
        {
            get { return Volatile.Read(ref receiving); }
        }

        /// <summary>Parses a result message and completes its task's PoolResult (made now if Submit has not yet).</summary>
        private PoolResult Deliver(byte[] message)
        {
            string text = Decode(message);
            JToken m = ParseJson(text);
            ulong id = (ulong)m["id"];
            bool ok = (bool)m["ok"];
            bool cancelled = !ok && ((bool?)m["cancelled"] ?? false); // {"ok":false,"cancelled":true,...}
            JToken result = ok ? m["result"] : null;
            string error = ok || cancelled ? null : (string)m["error"];
            lock (results)
            {
                PoolResult r;
                if (waiting.TryGetValue(id, out r))
                {
                    waiting.Remove(id);
                }
                else if (!early.TryGetValue(id, out r))
                {
                    r = new PoolResult(this, id, null);
                    early[id] = r;
                }
                r.Complete(ok, cancelled, result, error, text);
                return r;
            }
        }

        // ---- worker ------------------------------------------------------------------------------

        /// <summary>
        /// Takes the next task (a lease: Complete or Fail it, or Dispose it to give it back; a
        /// using block). Waits up to <paramref name="timeout"/> (null: forever):
        /// PolyipcTimeoutException when it runs out (QueueEmptyException for TimeSpan.Zero);
        /// QueueClosedException once CloseTasks was called and every task has been finished.
        /// </summary>
        public PoolTask Take(TimeSpan? timeout = null, CancellationToken ct = default(CancellationToken))
        {
            PoolTask task;
            TakeCore(timeout, ct, false, out task);
            return task;
        }

        /// <summary>As <see cref="Take"/>, but false (and null) when no task comes within <paramref name="timeout"/>.
        /// The end (CloseTasks) still throws QueueClosedException.</summary>
        public bool TryTake(out PoolTask task, TimeSpan timeout, CancellationToken ct = default(CancellationToken))
        {
            return TakeCore(timeout, ct, true, out task);
        }

        private bool TakeCore(TimeSpan? timeout, CancellationToken ct, bool tryOnly, out PoolTask task)
        {
            NativePoolTask nt = null;
            task = null;
            bool got = gate.Sliced(timeout, ct, tryOnly, (h, slice) =>
            {
                nt = h.take(slice);
                if (nt == null) throw new PolyipcException(Status.System, "pool '" + name + "': take returned no task");
                // Only Complete/Fail/Dispose free it (no finalizer: the native pool may be gone by then).
                GC.SuppressFinalize(nt);
                gate.Hold();
            });
            if (!got) return false;
            try
            {
                task = new PoolTask(this, nt);
            }
            catch
            {
                EndTask(nt);
                throw;
            }
            return true;
        }

        /// <summary>Frees a task (one not finished goes back to the pool); the last after Dispose closes the handle.</summary>
        internal void EndTask(NativePoolTask nt)
        {
            try
            {
                nt.Dispose();
            }
            finally
            {
                gate.Release();
            }
        }

        /// <summary>
        /// The worker loop: takes tasks and runs the handler registered under each task's function
        /// name with its arguments; the value it returns, serialised by Newtonsoft.Json, is the
        /// task's result. An exception from the handler fails the task with the exception's Message
        /// as the error text; a function with no handler fails it with "no function '&lt;name&gt;' in
        /// this worker". The tasks of a chunk (a submitter's map with a chunk size) are taken
        /// together and run in turn, and the results of those that ran are sent in one call (a plain
        /// task is a chunk of one). Returns (the number of tasks finished) once the pool is closed
        /// (<see cref="CloseTasks"/>, from any process) and drained, or once
        /// <paramref name="ct"/> is cancelled (noticed between tasks, within 200 ms while waiting;
        /// a handler running is not interrupted; stopped in the middle of a chunk, it finishes the
        /// tasks that ran and gives the rest back to the pool). Errors of the pool itself are thrown.
        /// </summary>
        public long Serve(IDictionary<string, Func<JToken, object>> handlers, CancellationToken ct = default(CancellationToken))
        {
            if (handlers == null) throw new ArgumentNullException("handlers");
            long served = 0;
            try
            {
                while (!ct.IsCancellationRequested)
                {
                    NativePoolBatch batch;
                    try
                    {
                        batch = TakeBatch(ServeSlice, ct);
                        if (batch == null) continue;
                    }
                    catch (QueueClosedException)
                    {
                        break;
                    }
                    catch (OperationCanceledException) when (ct.IsCancellationRequested)
                    {
                        break;
                    }
                    try
                    {
                        served += RunBatch(batch, handlers, ct);
                    }
                    finally
                    {
                        EndBatch(batch); // its tasks not finished go back to the pool
                    }
                }
            }
            finally
            {
                GiveBackHeld();
            }
            return served;
        }

        /// <summary>
        /// Takes the tasks of the next chunk this handle holds or takes (or one plain task) together,
        /// a hold on the native handle until <see cref="EndBatch"/>; null when none came within
        /// <paramref name="timeout"/>. The end (CloseTasks) throws QueueClosedException.
        /// </summary>
        private NativePoolBatch TakeBatch(TimeSpan timeout, CancellationToken ct)
        {
            NativePoolBatch nb = null;
            bool got = gate.Sliced(timeout, ct, true, (h, slice) =>
            {
                nb = h.take_batch(0, slice);
                if (nb == null) throw new PolyipcException(Status.System, "pool '" + name + "': take returned no tasks");
                // Only EndBatch frees it (no finalizer: the native pool may be gone by then).
                GC.SuppressFinalize(nb);
                gate.Hold();
            });
            return got ? nb : null;
        }

        /// <summary>Frees a batch (its tasks not finished go back to the pool); the last hold after Dispose closes the handle.</summary>
        private void EndBatch(NativePoolBatch nb)
        {
            try
            {
                nb.Dispose();
            }
            finally
            {
                gate.Release();
            }
        }

        /// <summary>
        /// The tasks of chunks (Python's map with a chunksize, Go's SubmitMany) that this handle took but
        /// has not handed out yet go back to the pool for other workers. Serve does it when it returns; a
        /// loop of its own over Take calls it when it stops taking. Disposing the handle does it too.
        /// </summary>
        public void GiveBackHeld()
        {
            NativePool h;
            try
            {
                h = gate.Enter();
            }
            catch (ObjectDisposedException)
            {
                return; // disposing gave them back
            }
            try
            {
                h.give_back_held();
            }
            finally
            {
                gate.Leave();
            }
        }

        /// <summary>
        /// Runs the handler of a batch's tasks in turn, each as a task of its own (its arguments as its
        /// submitter sent them, an exception or a result that cannot be serialised failing that task
        /// alone), and finishes the tasks that ran in one call. Stops before the next task
        /// once <paramref name="ct"/> is cancelled or this handle is being disposed; the tasks it did
        /// not run go back to the pool with the batch. Returns how many it finished.
        /// </summary>
        private int RunBatch(NativePoolBatch batch, IDictionary<string, Func<JToken, object>> handlers, CancellationToken ct)
        {
            string function = Decode(batch.function());
            ulong first = batch.first_id();
            int count = (int)batch.count();
            var results = new string[count]; // a task's result JSON, or null when it failed
            var errors = new string[count];  // a failed task's error text
            int done = 0;
            try
            {
                Func<JToken, object> handler;
                if (!handlers.TryGetValue(function, out handler) || handler == null)
                {
                    string error = "no function '" + function + "' in this worker";
                    for (; done < count; done++) errors[done] = error;
                    return done;
                }
                JToken[] all = BatchArgs(batch, count);
                for (; done < count; done++)
                {
                    if (done > 0 && (ct.IsCancellationRequested || gate.DisposeRequested)) break;
                    try
                    {
                        JToken args = all != null ? all[done] : ParseJson(Decode(batch.task_args((uint)done)));
                        results[done] = JsonText.Serialize(handler(args), jsonSettings);
                    }
                    catch (Exception e)
                    {
                        errors[done] = ErrorText(e);
                    }
                }
                return done;
            }
            finally
            {
                // Also when something escapes the loop (a ThreadAbortException): the tasks that ran.
                if (done > 0) FinishBatch(batch, first, function, results, errors, done);
            }
        }

        /// <summary>
        /// A chunk's arguments in one parse (one native call and one reader for the chunk, not one per
        /// task), each detached from the array, so that it is what its own text parses to (no parent, path
        /// ""). Null for a single task, or when the array does not read as one value per task (under a
        /// Json.NET with a depth limit, 64 in 13.x, arguments at the limit are one level too deep in the
        /// array): then each task's own text is parsed, and a task that cannot be fails alone.
        /// </summary>
        private static JToken[] BatchArgs(NativePoolBatch batch, int count)
        {
            if (count < 2) return null;
            JArray all;
            try
            {
                all = ParseJson(Decode(batch.args())) as JArray;
            }
            catch (Exception e) when (e is JsonException || e is ArgumentException)
            {
                return null;
            }
            if (all == null || all.Count != count) return null;
            var items = new JToken[count];
            all.CopyTo(items, 0);
            all.RemoveAll(); // detaches them
            return items;
        }

        private static readonly byte[] NoErrors = new byte[0];
        private static readonly byte[] OneNull = Encoding.ASCII.GetBytes("[null]");
        /// <summary>For error texts: a lone surrogate becomes U+FFFD (as the library makes invalid UTF-8).</summary>
        private static readonly UTF8Encoding LenientUtf8 = new UTF8Encoding(false, false);

        /// <summary>
        /// Finishes the first <paramref name="count"/> tasks of a batch in one call: the results array
        /// (null for a failed task) and the object of the failed tasks' error texts by index. A
        /// result that is not JSON (a JRaw) fails its task saying so; one that is not UTF-8 (a lone
        /// surrogate) with the encoder's text.
        /// </summary>
        private void FinishBatch(NativePoolBatch batch, ulong first, string function, string[] results, string[] errors,
                                 int count)
        {
            byte[] data;
            try
            {
                data = Utf8.GetBytes(ResultsJson(results, errors, count));
            }
            catch (EncoderFallbackException) // which task's result?
            {
                for (int i = 0; i < count; i++)
                {
                    if (errors[i] != null) continue;
                    try
                    {
                        Utf8.GetByteCount(results[i]);
                    }
                    catch (EncoderFallbackException e)
                    {
                        errors[i] = ErrorText(e);
                    }
                }
                data = Utf8.GetBytes(ResultsJson(results, errors, count));
            }
            try
            {
                batch.finish(data, ErrorsJson(errors, 0, count));
            }
            catch (InvalidJsonException) // a result that is not JSON: finish them one by one to see which
            {
                for (int i = 0; i < count; i++)
                {
                    if (errors[i] == null)
                    {
                        try
                        {
                            batch.finish(Utf8.GetBytes("[" + results[i] + "]"), NoErrors);
                            continue;
                        }
                        catch (InvalidJsonException)
                        {
                            errors[i] = "pool '" + name + "': task " + (first + (ulong)i) + ": the result of '" +
                                        function + "' is not valid JSON";
                        }
                    }
                    batch.finish(OneNull, ErrorsJson(errors, i, 1));
                }
            }
        }

        /// <summary>"[r0,r1,...]": null for a failed task.</summary>
        private static string ResultsJson(string[] results, string[] errors, int count)
        {
            int length = 2;
            for (int i = 0; i < count; i++) length += 1 + (errors[i] != null ? 4 : results[i].Length);
            var sb = new StringBuilder(length);
            sb.Append('[');
            for (int i = 0; i < count; i++)
            {
                if (i > 0) sb.Append(',');
                sb.Append(errors[i] != null ? "null" : results[i]);
            }
            return sb.Append(']').ToString();
        }

        /// <summary>{"index":"error text",...} of the failed tasks among <paramref name="from"/> ..
        /// from+count-1, indexed from <paramref name="from"/>; empty when none failed.</summary>
        private static byte[] ErrorsJson(string[] errors, int from, int count)
        {
            StringBuilder sb = null;
            for (int i = 0; i < count; i++)
            {
                string error = errors[from + i];
                if (error == null) continue;
                sb = sb == null ? new StringBuilder("{") : sb.Append(',');
                sb.Append('"').Append(i).Append("\":").Append(JsonText.Quote(error));
            }
            return sb == null ? NoErrors : LenientUtf8.GetBytes(sb.Append('}').ToString());
        }

        private static string ErrorText(Exception e)
        {
            for (;;)
            {
                var agg = e as AggregateException;
                if (e is TargetInvocationException && e.InnerException != null) e = e.InnerException;
                else if (agg != null && agg.InnerExceptions.Count == 1) e = agg.InnerExceptions[0];
                else return e.Message;
            }
        }

        // ---- the pool as a whole -----------------------------------------------------------------

        /// <summary>
        /// No more tasks, for every process (Python's Pool.close()): submits throw
        /// QueueClosedException; workers take what is left, then Take throws QueueClosedException
        /// and Serve returns.
        /// </summary>
        public void CloseTasks()
        {
            NativePool h = gate.Enter();
            try
            {
                h.close_tasks();
            }
            finally
            {
                gate.Leave();
            }
        }

        /// <summary>
        /// Waits until every task submitted by anyone has been finished (Python's Pool.join()): null
        /// waits forever; PolyipcTimeoutException when <paramref name="timeout"/> runs out.
        /// </summary>
        public void Join(TimeSpan? timeout = null, CancellationToken ct = default(CancellationToken))
        {
            gate.Sliced(timeout, ct, false, (h, slice) => h.join(slice));
        }

        /// <summary>The pool's stat (kind "pool", its task queue's counters) and this handle's results_pending, as JSON.</summary>
        public string StatJson()
        {
            NativePool h = gate.Enter();
            try
            {
                return h.stat_json();
            }
            finally
            {
                gate.Leave();
            }
        }

        /// <summary>Removes the pool's name; this and other open handles keep working.</summary>
        public void Unlink()
        {
            Names.Unlink(name);
        }

        public override string ToString()
        {
            return "Polyipc.Pool(" + name + ")";
        }
    }

    /// <summary>
    /// The result to come of a task submitted by <see cref="Pool.Submit"/> (Python's AsyncResult).
    /// Wait for it with <see cref="Wait"/>, <see cref="Get{T}"/> or <see cref="Result"/>; once
    /// received it stays here (every later call returns it at once, even after the Pool is
    /// disposed). <see cref="Cancel"/> takes a task no worker has taken yet back out of the pool
    /// (java.util.concurrent's Future.cancel(false)). Or await it (<see cref="WaitAsync"/>,
    /// <see cref="GetAsync{T}"/>, <c>await result</c>): no thread of yours waits. Safe to use from
    /// several threads.
    /// </summary>
    public sealed class PoolResult
    {
        private readonly Pool pool;
        private readonly ulong id;
        private string function;
        // Set once, under the pool's results lock, before `completed`.
        private bool ok;
        private bool cancelled;
        private JToken result;
        private string error;
        private string messageJson;
        private volatile bool completed;
        // WaitAsync's tasks still waiting (null: none), registered with the pool's PoolCompletions;
        // Complete moves them to ToSignal, which the receiving thread sets after its call. Both
        // under the pool's results lock.
        internal List<TaskCompletionSource<JToken>> Awaitings;
        internal List<TaskCompletionSource<JToken>> ToSignal;

        internal PoolResult(Pool pool, ulong id, string function)
        {
            this.pool = pool;
            this.id = id;
            this.function = function;
        }

        /// <summary>The task's id (per submitting handle, from 1).</summary>
        public ulong Id
        {
            get { return id; }
        }

        /// <summary>The function the task names.</summary>
        public string Function
        {
            get { return function; }
            internal set { function = value; }
        }

        /// <summary>Whether the result was received (a worker completed or failed the task, or it was cancelled).</summary>
        public bool IsCompleted
        {
            get { return completed; }
        }

        /// <summary>Received, and the worker failed the task (its text in <see cref="Error"/>).</summary>
        public bool IsFaulted
        {
            get { return completed && !ok && !cancelled; }
        }

        /// <summary>Received, and the task was cancelled (<see cref="Cancel"/>, by this handle): it never ran.</summary>
        public bool IsCanceled
        {
            get { return completed && cancelled; }
        }

        /// <summary>The worker's error text of a failed task; null otherwise (or not received yet).</summary>
        public string Error
        {
            get { return completed ? error : null; }
        }

        /// <summary>The result message as received, {"id":..,"ok":..,"result"|"error":..} (cancelled:
        /// {"id":..,"ok":false,"cancelled":true,"error":"cancelled"}); null until then.</summary>
        public string MessageJson
        {
            get { return completed ? messageJson : null; }
        }

        internal void Complete(bool ok, bool cancelled, JToken result, string error, string messageJson)
        {
            if (completed) return;
            this.ok = ok;
            this.cancelled = cancelled;
            this.result = result;
            this.error = error;
            this.messageJson = messageJson;
            completed = true;
            pool.Completions.Completed(this); // (under the results lock, as every Complete)
        }

        /// <summary>Sets the WaitAsync tasks Complete detached (by the thread that received the
        /// result, once its native call ended: outside every lock).</summary>
        internal void Signal()
        {
            List<TaskCompletionSource<JToken>> awaitings = Interlocked.Exchange(ref ToSignal, null);
            if (awaitings == null) return;
            foreach (var a in awaitings) SetOutcome(a);
        }

        /// <summary>Ends a WaitAsync task as Wait returns or throws now (once completed).</summary>
        internal void SetOutcome(TaskCompletionSource<JToken> awaiting)
        {
            if (cancelled) awaiting.TrySetCanceled();
            else if (!ok) awaiting.TrySetException(new PoolTaskException(id, function, error));
            else awaiting.TrySetResult(result);
        }

        /// <summary>
        /// Waits up to <paramref name="timeout"/> (null: forever) for the task's result and returns
        /// it (a JSON null is a JValue of type Null). A failed task: PoolTaskException with the
        /// worker's error text; a cancelled one: OperationCanceledException. Not yet:
        /// PolyipcTimeoutException (the task goes on: wait again).
        /// </summary>
        public JToken Wait(TimeSpan? timeout = null, CancellationToken ct = default(CancellationToken))
        {
            if (!completed) pool.Receive(this, timeout, ct, false);
            return Value();
        }

        /// <summary>True once the result was received (then Wait returns or throws at once); false if
        /// it did not come within <paramref name="timeout"/>.</summary>
        public bool TryWait(TimeSpan timeout, CancellationToken ct = default(CancellationToken))
        {
            return completed || pool.Receive(this, timeout, ct, true) != null;
        }

        /// <summary>The result deserialised by Newtonsoft.Json into a <typeparamref name="T"/> (see <see cref="Wait"/>).</summary>
        public T Get<T>(TimeSpan? timeout = null, CancellationToken ct = default(CancellationToken))
        {
            return As<T>(Wait(timeout, ct));
        }

        /// <summary>A result as a T, by Newtonsoft.Json with the pool's settings (Get and GetAsync).</summary>
        private T As<T>(JToken v)
        {
            return v.ToObject<T>(JsonSerializer.Create(pool.JsonSettings ?? new JsonSerializerSettings()));
        }

        /// <summary>The result, waiting for it as long as it takes (Wait()).</summary>
        public JToken Result
        {
            get { return Wait(); }
        }

        /// <summary>
        /// A task that ends with the task's result, as <see cref="Wait"/> would, without a thread of
        /// yours waiting: the value (a JSON null is a JValue of type Null); a failed task faults with
        /// PoolTaskException (the worker's error text); a cancelled one (<see cref="Cancel"/>) ends
        /// canceled (awaiting it throws TaskCanceledException, an OperationCanceledException); if the
        /// Pool is disposed before the result came it faults with ObjectDisposedException. Completed
        /// already: the task is too. <paramref name="ct"/> ends this awaiting alone (the task ends
        /// canceled); the pool task goes on, and a later Wait or WaitAsync gets its result.
        /// The result comes by whatever path receives it (a Wait in another thread, NextResult);
        /// otherwise the pool's completion thread receives it: one background thread per Pool handle,
        /// started when a result is awaited that is not here yet and ending once no task waits.
        /// While tasks wait, that thread takes this handle's results as <see cref="Pool.NextResult"/>
        /// does, so a NextResult caller shares them with it (and may get fewer). Continuations run
        /// on the thread pool, never on that thread.
        /// </summary>
        public Task<JToken> WaitAsync(CancellationToken ct = default(CancellationToken))
        {
            return pool.Completions.Await(this, ct);
        }

        /// <summary>The result deserialised by Newtonsoft.Json into a <typeparamref name="T"/>, awaited
        /// as <see cref="WaitAsync"/> does (the same outcomes, the completion thread and NextResult
        /// as there; a value that does not convert faults the task with the exception Get throws).</summary>
        public async Task<T> GetAsync<T>(CancellationToken ct = default(CancellationToken))
        {
            return As<T>(await WaitAsync(ct).ConfigureAwait(false));
        }

        /// <summary><c>await result</c>: <see cref="WaitAsync"/> without a token (see there, also for
        /// the completion thread and NextResult).</summary>
        public TaskAwaiter<JToken> GetAwaiter()
        {
            return WaitAsync().GetAwaiter();
        }

        /// <summary>
        /// Cancels the task if no worker has taken it yet (java.util.concurrent's
        /// Future.cancel(false)): true, and then it never runs, <see cref="Pool.Join"/> does not wait
        /// for it, <see cref="IsCanceled"/> and <see cref="IsCompleted"/> are true and Wait/Get/Result
        /// throw OperationCanceledException (also in a thread already waiting for it). False when a
        /// worker has it (its result comes as usual), it was cancelled already or its result came.
        /// </summary>
        public bool Cancel()
        {
            return pool.Cancel(this);
        }

        private JToken Value()
        {
            if (cancelled) throw new OperationCanceledException("pool '" + pool.Name + "': task " + id + " was cancelled");
            if (!ok) throw new PoolTaskException(id, function, error);
            return result;
        }

        public override string ToString()
        {
            return "Polyipc.PoolResult(" + pool.Name + " task " + id +
                   (completed ? cancelled ? ": cancelled" : ok ? ": ok" : ": failed" : "") + ")";
        }
    }

    /// <summary>
    /// A task a worker took (<see cref="Pool.Take"/>): its function name and arguments. Finish it
    /// with <see cref="Complete"/> (a result) or <see cref="Fail"/> (an error text); Dispose without
    /// either gives it back to the pool for another worker. Use a using block: a task never ended
    /// stays taken by this process until it exits (there is no finalizer) and keeps the Pool's
    /// native handle open. The task keeps its Pool's native handle open until it ends, also after
    /// the Pool is disposed.
    /// </summary>
    public sealed class PoolTask : IDisposable
    {
        private readonly Pool pool;
        private readonly object sync = new object();
        private NativePoolTask native; // null once ended
        private bool finished;
        private readonly ulong id;
        private readonly string function;
        private readonly string argsJson;
        private JToken args;

        internal PoolTask(Pool pool, NativePoolTask native)
        {
            this.pool = pool;
            this.native = native;
            id = native.id();
            function = Pool.Decode(native.function());
            argsJson = Pool.Decode(native.args());
        }

        /// <summary>The pool this task came from.</summary>
        public Pool Pool
        {
            get { return pool; }
        }

        /// <summary>The task's id (per submitting handle: ids of different submitters may be equal).</summary>
        public ulong Id
        {
            get { return id; }
        }

        /// <summary>The function name the submitter gave.</summary>
        public string Function
        {
            get { return function; }
        }

        /// <summary>The arguments as JSON text, exactly as submitted.</summary>
        public string ArgsJson
        {
            get { return argsJson; }
        }

        /// <summary>The arguments parsed (no date conversion; parsed once).</summary>
        public JToken Args
        {
            get
            {
                JToken a = Volatile.Read(ref args);
                if (a == null)
                {
                    a = Pool.ParseJson(argsJson);
                    Interlocked.CompareExchange(ref args, a, null);
                    a = args;
                }
                return a;
            }
        }

        /// <summary>The arguments deserialised by Newtonsoft.Json into a <typeparamref name="T"/>.</summary>
        public T ArgsAs<T>()
        {
            return JsonConvert.DeserializeObject<T>(argsJson, pool.JsonSettings);
        }

        /// <summary>Whether Complete or Fail succeeded.</summary>
        public bool IsFinished
        {
            get { lock (sync) return finished; }
        }

        /// <summary>
        /// Finishes the task with <paramref name="result"/> serialised by Newtonsoft.Json; it goes to
        /// the submitter. Waits while the submitter's result queue is full. Already ended:
        /// InvalidOperationException.
        /// </summary>
        public void Complete(object result)
        {
            CompleteJson(JsonText.Serialize(result, pool.JsonSettings));
        }

        /// <summary>As <see cref="Complete"/>, with the result as JSON text (malformed:
        /// InvalidJsonException, and the task stays taken: finish it again).</summary>
        public void CompleteJson(string resultJson)
        {
            Finish(false, Pool.Encode(resultJson, "resultJson"));
        }

        /// <summary>Finishes the task as failed; the submitter's Wait throws PoolTaskException with
        /// <paramref name="error"/> as its message. Already ended: InvalidOperationException.</summary>
        public void Fail(string error)
        {
            Finish(true, Pool.Encode(error, "error"));
        }

        private void Finish(bool failed, byte[] data)
        {
            lock (sync)
            {
                if (native == null)
                {
                    throw new InvalidOperationException("pool '" + pool.Name + "': task " + id + " was " +
                                                        (finished ? "finished already" : "given back (disposed)"));
                }
                native.finish(failed ? 1 : 0, data); // throws (InvalidJsonException ...): the task stays taken
                finished = true;
                NativePoolTask nt = native;
                native = null;
                pool.EndTask(nt);
            }
        }

        /// <summary>Ends the task: one not finished goes back to the pool for another worker. Idempotent.</summary>
        public void Dispose()
        {
            lock (sync)
            {
                if (native == null) return;
                NativePoolTask nt = native;
                native = null;
                pool.EndTask(nt);
            }
        }

        public override string ToString()
        {
            return "Polyipc.PoolTask(" + pool.Name + " task " + id + " " + function + ")";
        }
    }
}
