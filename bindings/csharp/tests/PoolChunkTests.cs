using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;
using Polyipc.Native;

namespace Polyipc.Tests
{
    /// <summary>
    /// Pool.Serve over chunks (tasks submitted many to a pool message, as Python's map with a
    /// chunksize or Go's SubmitMany send them): it takes a chunk's tasks together, runs them in turn
    /// and finishes those that ran in one call. The C# API submits plain tasks only, so the chunks
    /// come from the library's polyipc_pool_submit_many, called on the test's own Pool handle.
    /// </summary>
    public class PoolChunkTests : Scratch
    {
        private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);

        [DllImport("libpolyipc.so.0", EntryPoint = "polyipc_pool_submit_many")]
        private static extern int SubmitMany(IntPtr pool, byte[] function, IntPtr[] args, UIntPtr[] lens,
            UIntPtr count, UIntPtr chunk, long timeoutNs, out ulong firstId, out UIntPtr submitted, byte[] error);

        /// <summary>
        /// Submits function(argsJson[i]) for each i, <paramref name="chunk"/> tasks to a pool message,
        /// each argument text as it is; the PoolResults in order.
        /// </summary>
        private static List<PoolResult> SubmitChunks(Pool p, string function, IList<string> argsJson, int chunk)
        {
            var pins = argsJson.Select(a => GCHandle.Alloc(Encoding.UTF8.GetBytes(a), GCHandleType.Pinned)).ToList();
            try
            {
                IntPtr[] ptrs = pins.Select(h => h.AddrOfPinnedObject()).ToArray();
                UIntPtr[] lens = argsJson.Select(a => (UIntPtr)Encoding.UTF8.GetByteCount(a)).ToArray();
                byte[] fn = Encoding.UTF8.GetBytes(function + "\0");
                var error = new byte[4 + 256 + 4]; // polyipc_error: int code; char message[256]
                ulong first = 0;
                UIntPtr submitted = UIntPtr.Zero;
                int rc = p.UseNative(h => SubmitMany(NativePool.getCPtr(h).Handle, fn, ptrs, lens,
                    (UIntPtr)argsJson.Count, (UIntPtr)chunk, 10L * 1000 * 1000 * 1000, out first, out submitted, error));
                if (rc != 0)
                {
                    string message = Encoding.UTF8.GetString(error, 4, 256).TrimEnd('\0');
                    throw new AssertionException("polyipc_pool_submit_many: status " + rc + ": " + message);
                }
                Assert.Equal((ulong)argsJson.Count, (ulong)submitted, "submitted them all");
                return Enumerable.Range(0, argsJson.Count).Select(i => p.Expect(first + (ulong)i, function)).ToList();
            }
            finally
            {
                foreach (var h in pins) h.Free();
            }
        }

        private static List<string> Numbers(int from, int count)
        {
            return Enumerable.Range(from, count).Select(i => i.ToString()).ToList();
        }

        private static long Depth(Pool p)
        {
            return (long)JObject.Parse(p.StatJson())["depth"];
        }

        [Test]
        public void ServeRunsTheTasksOfChunksEachAsATaskOfItsOwn()
        {
            using (var p = Pool.Open(NewName("chunks")))
            {
                var seen = new List<string>();
                var handlers = new Dictionary<string, Func<JToken, object>>
                {
                    { "sq", a => (long)a * (long)a },
                    // The arguments as a task's own: parsed alone (no parent, no path), no date conversion.
                    { "echo", a => { lock (seen) seen.Add(a.Type + " " + (a.Parent == null) + " '" + a.Path + "'"); return a; } },
                    { "inv", a => { if ((long)a == 0) throw new DivideByZeroException("zero " + (long)a); return 1.0 / (long)a; } },
                    { "raw", a => new JRaw((string)a) },                                       // not JSON
                    { "loop", a => { var o = new List<object>(); o.Add(o); return o; } },    // not serialisable
                    { "lone", a => "x\ud800y" },                                             // not UTF-8
                };
                // 10 tasks in chunks of 4, 4 and 2; a plain task (a chunk of one) among them.
                List<PoolResult> squares = SubmitChunks(p, "sq", Numbers(0, 10), 4);
                PoolResult plain = p.Submit("sq", 12);
                // Argument texts as sent: commas, brackets and quotes inside strings, spaces around.
                var echoArgs = new List<string>
                {
                    " {\"s\": \"a,]}\\\"[{,\", \"n\": [1, {\"x\": null}]} ",
                    "\"2020-01-02T03:04:05Z\"",
                    "[]",
                    "\"\\\\\"",
                    "-1.5e3",
                };
                List<PoolResult> echoes = SubmitChunks(p, "echo", echoArgs, 5);
                List<PoolResult> inverses = SubmitChunks(p, "inv", Numbers(-1, 4), 4);   // -1 0 1 2
                List<PoolResult> unknown = SubmitChunks(p, "nope", Numbers(0, 3), 3);
                List<PoolResult> raws = SubmitChunks(p, "raw", new[] { "\"[1]\"", "\"{oops\"", "\"2\"", "\"NaN\"" }, 4);
                List<PoolResult> loops = SubmitChunks(p, "loop", Numbers(0, 2), 2);
                List<PoolResult> lone = SubmitChunks(p, "lone", Numbers(0, 2), 2);
                p.CloseTasks();

                long served = p.Serve(handlers); // the pool is closed: it drains it and returns
                Assert.Equal(10L + 1 + 5 + 4 + 3 + 4 + 2 + 2, served, "served every task once");

                for (int i = 0; i < 10; i++) Assert.Equal((long)i * i, squares[i].Get<long>(Limit), "sq " + i);
                Assert.Equal(144L, plain.Get<long>(Limit), "the plain task");

                for (int i = 0; i < echoArgs.Count; i++)
                {
                    Assert.True(JToken.DeepEquals(Pool.ParseJson(echoArgs[i]), echoes[i].Wait(Limit)), "echo " + i + ": " + echoes[i].MessageJson);
                }
                Assert.Equal("Object True ''|String True ''|Array True ''|String True ''|Float True ''",
                    string.Join("|", seen), "each handler got its task's arguments alone");
                Assert.Equal("2020-01-02T03:04:05Z", echoes[1].Get<string>(Limit), "no date conversion");

                Assert.Equal(-1.0, inverses[0].Get<double>(Limit), "inv -1");
                Assert.Equal("zero 0", Assert.ThrowsExactly<PoolTaskException>(() => inverses[1].Wait(Limit)).Message,
                    "an exception fails its task alone, with its Message");
                Assert.Equal(1.0, inverses[2].Get<double>(Limit), "the task after a failed one");
                Assert.Equal(0.5, inverses[3].Get<double>(Limit), "inv 2");

                foreach (var r in unknown)
                {
                    Assert.Equal("no function 'nope' in this worker", Assert.Throws<PoolTaskException>(() => r.Wait(Limit)).Message,
                        "an unknown function, task " + r.Id);
                }

                Assert.True(JToken.DeepEquals(new JArray(1), raws[0].Wait(Limit)), "a raw result that is JSON");
                Assert.Equal(2L, raws[2].Get<long>(Limit), "raw 2");
                foreach (int i in new[] { 1, 3 })
                {
                    string message = Assert.Throws<PoolTaskException>(() => raws[i].Wait(Limit)).Message;
                    Assert.True(message.Contains("task " + raws[i].Id + ": the result of 'raw' is not valid JSON"),
                                "a result that is not JSON fails its task alone: " + message);
                }

                foreach (var r in loops)
                {
                    string error = Assert.Throws<PoolTaskException>(() => r.Wait(Limit)).Message;
                    Assert.True(error.Contains("loop"), "a result that cannot be serialised fails its task: " + error);
                }
                foreach (var r in lone)
                {
                    string error = Assert.Throws<PoolTaskException>(() => r.Wait(Limit)).Message;
                    Assert.True(error.Length > 0, "a result that is not UTF-8 fails its task: " + error);
                }
                Assert.Throws<PolyipcArgumentException>(() => p.NextResult(TimeSpan.Zero), "one result per task, no other");
                p.Join(TimeSpan.Zero);
                Assert.Equal(0L, Depth(p), "nothing left in the pool");
            }
        }

        [Test]
        public void ErrorTextsWithControlCharactersReachTheSubmitterAsTheyAre()
        {
            // Exception messages quote what went wrong, which may hold any character.
            string[] texts = { "tab\there", "line\nthen a control \u0001", "nul\u0000 bell\u0007 esc\u001b", "quote\" back\\ sep\u2028\u2029 nel\u0085", "plain" };
            var handlers = new Dictionary<string, Func<JToken, object>>
            {
                { "fail", a => { throw new InvalidOperationException(texts[(int)a]); } },
            };
            using (var p = Pool.Open(NewName("errtext")))
            {
                List<PoolResult> rs = SubmitChunks(p, "fail", Numbers(0, texts.Length), texts.Length);
                PoolResult plain = p.Submit("fail", 1); // a chunk of one
                p.CloseTasks();
                Assert.Equal((long)texts.Length + 1, p.Serve(handlers), "served");
                for (int i = 0; i < texts.Length; i++)
                {
                    Assert.Equal(texts[i], Assert.ThrowsExactly<PoolTaskException>(() => rs[i].Wait(Limit)).Message, "task " + i);
                }
                Assert.Equal(texts[1], Assert.ThrowsExactly<PoolTaskException>(() => plain.Wait(Limit)).Message, "the plain task");
            }
        }

        /// <summary>Writes integers as JSON strings: settings under which Json.NET's text differs from the default.</summary>
        private sealed class IntegersAsText : JsonConverter
        {
            public override bool CanConvert(Type t)
            {
                return t == typeof(long) || t == typeof(int) || t == typeof(short) || t == typeof(byte) || t == typeof(ulong);
            }

            public override void WriteJson(JsonWriter writer, object value, JsonSerializer serializer)
            {
                writer.WriteValue("#" + Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture));
            }

            public override object ReadJson(JsonReader reader, Type t, object existing, JsonSerializer serializer)
            {
                throw new NotSupportedException();
            }
        }

        private static readonly object[] Scalars = { null, 7L, -7, (short)3, (byte)255, ulong.MaxValue, true, false, 1.5, "s" };

        [Test]
        public void ScalarResultsOfAChunkAreWrittenAsTheSettingsWriteThem()
        {
            // Under Json.NET's defaults, null, integers and booleans are written without it; the
            // pool's settings, or settings made the default globally, may write them otherwise.
            var handlers = new Dictionary<string, Func<JToken, object>> { { "scalar", a => Scalars[(int)a] } };
            const string plain = "null 7 -7 3 255 18446744073709551615 true false 1.5 \"s\"";
            const string marked = "null \"#7\" \"#-7\" \"#3\" \"#255\" \"#18446744073709551615\" true false 1.5 \"s\"";
            var custom = new JsonSerializerSettings();
            custom.Converters.Add(new IntegersAsText());
            foreach (string how in new[] { "defaults", "the pool's settings", "global default settings" })
            {
                Func<JsonSerializerSettings> before = JsonConvert.DefaultSettings;
                if (how == "global default settings") JsonConvert.DefaultSettings = () => custom;
                try
                {
                    var options = new PoolOptions { JsonSettings = how == "the pool's settings" ? custom : null };
                    using (var p = Pool.Open(NewName("scalars"), options))
                    {
                        List<PoolResult> rs = SubmitChunks(p, "scalar", Numbers(0, Scalars.Length), Scalars.Length);
                        p.CloseTasks();
                        Assert.Equal((long)Scalars.Length, p.Serve(handlers), "served, under " + how);
                        string got = string.Join(" ", rs.Select(r => r.Wait(Limit).ToString(Formatting.None)));
                        Assert.Equal(how == "defaults" ? plain : marked, got, "the results under " + how);
                    }
                }
                finally
                {
                    JsonConvert.DefaultSettings = before;
                }
            }
        }

        [Test]
        public void ServeCancelledMidChunkFinishesWhatRanAndTheRestIsServedAgain()
        {
            using (var p = Pool.Open(NewName("chunkcancel")))
            using (var cts = new CancellationTokenSource())
            {
                var ran = new List<long>();
                var handlers = new Dictionary<string, Func<JToken, object>>
                {
                    { "n", a =>
                        {
                            long n = (long)a;
                            ran.Add(n);
                            if (n == 2) cts.Cancel(); // between this task and the next
                            return 10 * n;
                        }
                    },
                };
                List<PoolResult> rs = SubmitChunks(p, "n", Numbers(0, 6), 6);
                Assert.Equal(1L, Depth(p), "one chunk, one pool message");

                long served = p.Serve(handlers, cts.Token); // returns once cancelled, here mid-chunk
                Assert.Equal(3L, served, "finished the three tasks that ran");
                Assert.Equal("0 1 2", string.Join(" ", ran), "ran tasks 0..2 and stopped");
                for (int i = 0; i < 3; i++) Assert.Equal(10L * i, rs[i].Get<long>(Limit), "task " + i + " finished");
                for (int i = 3; i < 6; i++) Assert.True(!rs[i].TryWait(TimeSpan.Zero), "task " + i + " did not run");
                Assert.Equal(1L, Depth(p), "the chunk went back whole");

                p.CloseTasks();
                Assert.Equal(6L, p.Serve(handlers), "a second Serve runs the whole chunk again");
                Assert.Equal("0 1 2 0 1 2 3 4 5", string.Join(" ", ran), "ran");
                for (int i = 3; i < 6; i++) Assert.Equal(10L * i, rs[i].Get<long>(Limit), "task " + i);
                Assert.Throws<PolyipcArgumentException>(() => p.NextResult(TimeSpan.Zero), "the second results of 0..2 were dropped");
                p.Join(TimeSpan.Zero);
                Assert.Equal(0L, Depth(p), "nothing left");
            }
        }

        [Test]
        public void ServeOfAHandleDisposedMidChunkFinishesWhatRanAndThrows()
        {
            using (var p = Pool.Open(NewName("chunkdispose")))
            {
                var worker = Pool.Open(p.Name);
                var ran = new List<long>();
                Func<JToken, object> n = a =>
                {
                    ran.Add((long)a);
                    if ((long)a == 1) worker.Dispose(); // from the handler: the batch holds the native handle
                    return -(long)a;
                };
                var handlers = new Dictionary<string, Func<JToken, object>> { { "n", n } };
                List<PoolResult> rs = SubmitChunks(p, "n", Numbers(0, 4), 4);
                Assert.Throws<ObjectDisposedException>(() => worker.Serve(handlers), "Serve of a disposed handle");
                Assert.Equal("0 1", string.Join(" ", ran), "stopped after the task that disposed");
                Assert.True(!worker.IsNativeOpen, "the native handle closed once the batch ended");
                Assert.Equal(0L, rs[0].Get<long>(Limit), "task 0");
                Assert.Equal(-1L, rs[1].Get<long>(Limit), "task 1");

                p.CloseTasks();
                Assert.Equal(4L, p.Serve(handlers), "another handle serves the chunk given back");
                for (int i = 0; i < 4; i++) Assert.Equal(-(long)i, rs[i].Get<long>(Limit), "task " + i);
                p.Join(TimeSpan.Zero);
            }
        }

        /// <summary>Map through a pool of 2 messages and a 4 KiB result queue: results in order for any
        /// chunk, the first failure in order thrown once all ended, nothing left behind.</summary>
        [Test]
        public void MapReturnsResultsInOrderThroughAPoolSmallerThanTheMap()
        {
            string name = NewName("map");
            using (var p = Pool.Open(name, new PoolOptions { MaxTasks = 2, ResultCapacityBytes = 4096 }))
            {
                var handlers = new Dictionary<string, Func<JToken, object>>
                {
                    { "sq", a => (long)a * (long)a },
                    { "inv", a => { if ((long)a == 0) throw new DivideByZeroException("zero"); return 10 / (long)a; } },
                };
                var cts = new CancellationTokenSource();
                var workers = Enumerable.Range(0, 2).Select(_ => new Thread(() =>
                {
                    using (var w = Pool.Open(name)) w.Serve(handlers, cts.Token);
                })).ToList();
                workers.ForEach(t => t.Start());
                try
                {
                    var xs = Enumerable.Range(0, 5000).Select(i => (object)(long)i).ToList();
                    foreach (int chunk in new[] { 0, 1, 7, 600 })
                    {
                        List<JToken> got = p.Map("sq", xs, chunk);
                        Assert.Equal(xs.Count, got.Count, "chunk " + chunk);
                        for (int i = 0; i < got.Count; i++) Assert.Equal((long)i * i, (long)got[i], "chunk " + chunk + ", task " + i);
                    }
                    var ys = Enumerable.Range(1, 3000).Select(i => (object)(long)(i == 2500 || i == 1200 ? 0 : i)).ToList();
                    var e = Assert.Throws<PoolTaskException>(() => p.Map("inv", ys, 7));
                    Assert.Equal("zero", e.Message, "the first failure in order");
                    Assert.Equal("inv", e.Function, "its function");
                    Assert.Equal(0L, (long)JObject.Parse(p.StatJson())["results_pending"], "no result left behind");
                    Assert.Equal(0, p.Map("sq", new object[0]).Count, "an empty map");
                    Assert.Throws<ArgumentOutOfRangeException>(() => p.Map("sq", xs, -1));
                }
                finally
                {
                    cts.Cancel();
                    workers.ForEach(t => t.Join(Limit));
                }
            }
        }
    }
}
