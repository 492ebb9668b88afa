// The C# interop agent: Polyipc.dll and Newtonsoft.Json (mono). Messages and
// command lines: see tests/interop/README.md.
//
// Workarounds for the platform's number conversions (see the README):
//  - writing: Newtonsoft.Json 6 on mono writes doubles with double.ToString("R"),
//    which drops the sign of -0.0 ("0.0") and for some values does not
//    round-trip (-4.7000000000000003e-299 comes out as "-4.7E-299", another
//    double). The producer's serializer settings carry ExactDoubleConverter,
//    which writes "G17" (exact on mono) and "-0.0";
//  - reading: Newtonsoft's own float parser is not correctly rounded (e.g.
//    -6.76e-298 comes back 1 ULP off), and mono's double.Parse neither (3 of the
//    40,000 doubles of the matrix) nor keeps the sign of -0.0. Decode() builds the
//    tree from Newtonsoft's token reader and converts each float token's text
//    with ParseExact (BigInteger, round half to even). Everything else is
//    Newtonsoft's own result.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;
using Polyipc;
using Barrier = Polyipc.Barrier;
using Lock = Polyipc.Lock;
using List = Polyipc.List; // beside System.Collections.Generic (mcs would take List<T>)
using Semaphore = Polyipc.Semaphore;

namespace Polyipc.Interop
{
    internal sealed class ExactDoubleConverter : JsonConverter
    {
        public override bool CanConvert(Type t) { return t == typeof(double); }
        public override bool CanRead { get { return false; } }

        public override object ReadJson(JsonReader r, Type t, object existing, JsonSerializer s)
        {
            throw new NotSupportedException();
        }

        public override void WriteJson(JsonWriter w, object value, JsonSerializer s)
        {
            w.WriteRawValue(Format((double)value));
        }

        internal static string Format(double d)
        {
            if (d == 0) return BitConverter.DoubleToInt64Bits(d) < 0 ? "-0.0" : "0.0";
            string text = d.ToString("G17", CultureInfo.InvariantCulture);
            return text.IndexOfAny(new[] { '.', 'E', 'N', 'I' }) >= 0 ? text : text + ".0";
        }

        private static readonly BigInteger Two52 = BigInteger.One << 52;
        private static readonly BigInteger Two53 = BigInteger.One << 53;

        /// The double nearest to the decimal number `text` (a JSON number), ties to even.
        internal static double ParseExact(string text)
        {
            int p = 0;
            bool negative = false;
            if (p < text.Length && (text[p] == '-' || text[p] == '+')) negative = text[p++] == '-';
            var digits = new StringBuilder();
            int exp10 = 0;
            for (; p < text.Length && char.IsDigit(text[p]); ++p) digits.Append(text[p]);
            if (p < text.Length && text[p] == '.')
                for (++p; p < text.Length && char.IsDigit(text[p]); ++p, --exp10) digits.Append(text[p]);
            if (p < text.Length && (text[p] == 'e' || text[p] == 'E'))
                exp10 += int.Parse(text.Substring(p + 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            BigInteger num = BigInteger.Parse(digits.ToString(), CultureInfo.InvariantCulture);
            if (num.IsZero) return negative ? -0.0 : 0.0;
            BigInteger den = BigInteger.One;
            if (exp10 >= 0) num *= BigInteger.Pow(10, exp10);
            else den = BigInteger.Pow(10, -exp10);
            // value = num/den = q * 2^e with 2^52 <= q < 2^53 (or e = -1074, subnormal)
            int e = Math.Max(-1074, (int)Math.Floor(BigInteger.Log(num, 2) - BigInteger.Log(den, 2)) - 52);
            BigInteger q, r, d2;
            for (;;)
            {
                BigInteger n2 = e >= 0 ? num : num << -e;
                d2 = e >= 0 ? den << e : den;
                q = BigInteger.DivRem(n2, d2, out r);
                if (q >= Two53) ++e;
                else if (q < Two52 && e > -1074) --e;
                else break;
            }
            int c = (r * 2).CompareTo(d2);
            if (c > 0 || (c == 0 && !q.IsEven)) ++q;
            if (q == Two53)
            {
                q >>= 1;
                ++e;
            }
            if (e + 52 > 1023) return negative ? double.NegativeInfinity : double.PositiveInfinity;
            long bits = q < Two52 ? (long)q : ((long)(e + 52 + 1023) << 52) | (long)(q - Two52);
            return BitConverter.Int64BitsToDouble(negative ? bits | long.MinValue : bits);
        }
    }

    internal sealed class Failure : Exception
    {
        public Failure(string message) : base(message) { }
    }

    internal static class Agent
    {
        private const string Lang = "csharp";
        private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(TimeoutSeconds());

        private const string Fixed = "h\u00e9llo w\u00f6rld \u2014 \u6f22\u5b57\u304b\u306a\ud55c\uae00 " +
            "\U0001F600\U0001F389 \U0001F469\u200d\U0001F4BB e\u0301 \U0001D11E \U0010FFFF";
        private const string Escapes = "quote\" backslash\\ slash/ bs\b ff\f nl\n cr\r tab\t nul\0 us\u001f " +
            "del\u007f ls\u2028 ps\u2029 <&>";

        private static double TimeoutSeconds()
        {
            string s = Environment.GetEnvironmentVariable("POLYIPC_INTEROP_TIMEOUT");
            double t;
            return !string.IsNullOrEmpty(s) && double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out t)
                ? t : 60.0;
        }

        private static string Cp(long n) { return char.ConvertFromUtf32((int)n); }

        private static JArray Arr(params object[] items)
        {
            var a = new JArray();
            foreach (var x in items) a.Add(x is JToken ? (JToken)x : new JValue(x));
            return a;
        }

        internal static JObject Message(string producer, long i)
        {
            double d = i;
            var m = new JObject();
            m["seq"] = new JValue(i);
            m["producer"] = new JValue(producer);
            m["ints"] = Arr(long.MinValue, long.MaxValue, long.MaxValue - i, long.MinValue + i, i * 1000000007L, -i, 0L);
            m["doubles"] = Arr(1.7976931348623157e308, 5e-324, -0.0, 2.2250738585072014e-308, (d + 0.5) / 7.0,
                -((d + 1) * 1e-300), (d + 1) * 1e21, d + 0.25);
            m["flags"] = Arr(true, false, null);
            var strings = new JObject();
            strings["fixed"] = new JValue(Fixed);
            strings["escapes"] = new JValue(Escapes);
            strings["computed"] = new JValue(Cp(0x4E00 + i % 20902) + Cp(0x1F600 + i % 80) + "a" + Cp(0x0301) +
                Cp(0xAC00 + i % 11172) + Cp(0x10000 + (i * 7919) % 0x100000));
            strings["empty"] = new JValue("");
            m["strings"] = strings;
            m["\u043a\u043b\u044e\u0447\U0001F511"] = new JValue(i);
            var e = Arr(new JArray(), new JObject(), null, true, false);
            var dArr = Arr(i, new JObject(new JProperty("e", e)), Arr(Arr(Arr("deep"))));
            m["nested"] = new JObject(new JProperty("a", new JObject(new JProperty("b", new JObject(
                new JProperty("c", new JObject(new JProperty("d", dArr))))))));
            var list = new JArray();
            for (long k = 0; k < i % 10; ++k) list.Add(new JValue(k));
            m["list"] = list;
            if (i % 1000 == 999) m["big"] = new JValue(new string('\u00fc', 20000) + "|" + i);
            return m;
        }

        // ---- decoding ------------------------------------------------------------------------

        internal static JToken Decode(string text)
        {
            var lineStarts = new List<int> { 0 };
            for (int k = 0; k < text.Length; ++k)
                if (text[k] == '\n') lineStarts.Add(k + 1);
            var r = new JsonTextReader(new StringReader(text));
            r.DateParseHandling = DateParseHandling.None;
            r.FloatParseHandling = FloatParseHandling.Double;
            if (!r.Read()) throw new Failure("empty message");
            return Build(r, text, lineStarts);
        }

        private static JToken Build(JsonTextReader r, string text, List<int> lineStarts)
        {
            switch (r.TokenType)
            {
                case JsonToken.StartObject:
                {
                    var o = new JObject();
                    while (r.Read() && r.TokenType != JsonToken.EndObject)
                    {
                        string key = (string)r.Value;
                        r.Read();
                        o[key] = Build(r, text, lineStarts);
                    }
                    return o;
                }
                case JsonToken.StartArray:
                {
                    var a = new JArray();
                    while (r.Read() && r.TokenType != JsonToken.EndArray) a.Add(Build(r, text, lineStarts));
                    return a;
                }
                case JsonToken.Float:
                {
                    return new JValue(ExactDoubleConverter.ParseExact(NumberText(r, text, lineStarts)));
                }
                case JsonToken.Null:
                    return new JValue((object)null);
                default:
                    return new JValue(r.Value);
            }
        }

        // The text of the number token just read: it ends where the reader stands.
        private static string NumberText(JsonTextReader r, string text, List<int> lineStarts)
        {
            int end = lineStarts[Math.Min(r.LineNumber, lineStarts.Count) - 1] + r.LinePosition;
            int start = end;
            while (start > 0 && "0123456789+-.eE".IndexOf(text[start - 1]) >= 0) --start;
            return text.Substring(start, end - start);
        }

        // ---- comparing -----------------------------------------------------------------------

        private static string Show(JToken v)
        {
            string s = v == null ? "(nothing)"
                : v.Type == JTokenType.Float ? ExactDoubleConverter.Format((double)((JValue)v).Value)
                : v.ToString(Formatting.None);
            return s.Length <= 120 ? s : s.Substring(0, 117) + "...";
        }

        private static string Kind(JToken v)
        {
            if (v == null) return "missing";
            if (v.Type == JTokenType.Float) return "double";
            return v.Type.ToString().ToLowerInvariant();
        }

        /// null when equal, else the first difference.
        internal static string Diff(JToken got, JToken want, string path)
        {
            bool same = false;
            if (got != null)
            {
                switch (want.Type)
                {
                    case JTokenType.Null:
                        same = got.Type == JTokenType.Null;
                        break;
                    case JTokenType.Boolean:
                        same = got.Type == JTokenType.Boolean && (bool)got == (bool)want;
                        break;
                    case JTokenType.Integer:
                        same = got.Type == JTokenType.Integer && ((JValue)got).Value is long &&
                               (long)((JValue)got).Value == (long)((JValue)want).Value;
                        break;
                    case JTokenType.Float:
                        same = got.Type == JTokenType.Float && ((JValue)got).Value is double &&
                               BitConverter.DoubleToInt64Bits((double)((JValue)got).Value) ==
                               BitConverter.DoubleToInt64Bits((double)((JValue)want).Value);
                        break;
                    case JTokenType.String:
                        same = got.Type == JTokenType.String && string.Equals((string)got, (string)want, StringComparison.Ordinal);
                        break;
                    case JTokenType.Array:
                        if (got.Type == JTokenType.Array)
                        {
                            var g = (JArray)got;
                            var w = (JArray)want;
                            if (g.Count != w.Count) return path + ": array of " + g.Count + " elements, want " + w.Count;
                            for (int k = 0; k < w.Count; ++k)
                            {
                                string d = Diff(g[k], w[k], path + "[" + k + "]");
                                if (d != null) return d;
                            }
                            return null;
                        }
                        break;
                    case JTokenType.Object:
                        if (got.Type == JTokenType.Object)
                        {
                            var g = (JObject)got;
                            var w = (JObject)want;
                            foreach (var p in w.Properties())
                                if (g.Property(p.Name) == null) return path + ": key \"" + p.Name + "\" missing";
                            foreach (var p in g.Properties())
                                if (w.Property(p.Name) == null) return path + ": unexpected key \"" + p.Name + "\"";
                            foreach (var p in w.Properties())
                            {
                                string d = Diff(g[p.Name], p.Value, path + "." + p.Name);
                                if (d != null) return d;
                            }
                            return null;
                        }
                        break;
                }
            }
            if (same) return null;
            return path + ": got " + Show(got) + " (" + Kind(got) + "), want " + Show(want) + " (" + Kind(want) + ")";
        }

        private static void Check(JToken msg, string producer, long seq)
        {
            string d = Diff(msg, Message(producer, seq), "$");
            if (d != null) throw new Failure("message " + producer + "#" + seq + ": " + d);
        }

        // ---- the commands --------------------------------------------------------------------

        private static QueueOptions Options(bool joinable)
        {
            var settings = new JsonSerializerSettings();
            settings.Converters.Add(new ExactDoubleConverter());
            return new QueueOptions { Joinable = joinable, JsonSettings = settings };
        }

        /// The next message decoded; QueueClosedException passes through at end of stream.
        private static JObject Get(Queue q, string what)
        {
            string text;
            try
            {
                text = q.Take(Timeout);
            }
            catch (PolyipcTimeoutException)
            {
                throw new Failure(what + ": nothing came within " + Timeout.TotalSeconds + " s");
            }
            JToken m;
            try
            {
                m = Decode(text);
            }
            catch (JsonException e)
            {
                throw new Failure(what + ": Newtonsoft.Json cannot decode it: " + e.Message);
            }
            if (m.Type != JTokenType.Object) throw new Failure(what + ": not an object: " + Show(m));
            return (JObject)m;
        }

        private static void Produce(string queue, long n, string id)
        {
            using (var q = Queue.Open(queue, Options(false)))
            {
                for (long i = 0; i < n; ++i) q.PutObject(Message(id, i), Timeout);
            }
            Console.WriteLine(Lang + ": produced " + n + " messages on " + queue);
        }

        private static void Consume(string queue, long n, string id)
        {
            using (var q = Queue.Open(queue, Options(false)))
            {
                for (long k = 0; k < n; ++k)
                {
                    JObject m;
                    try
                    {
                        m = Get(q, "waiting for message #" + k);
                    }
                    catch (QueueClosedException)
                    {
                        throw new Failure("end of stream after " + k + " messages");
                    }
                    JToken seq = m["seq"];
                    JToken prod = m["producer"];
                    if (seq == null || seq.Type != JTokenType.Integer || (long)seq != k || prod == null ||
                        prod.Type != JTokenType.String || (string)prod != id)
                    {
                        throw new Failure("message #" + k + ": got seq " + Show(seq) + " from " + Show(prod) +
                                          ", want seq " + k + " from \"" + id + "\"");
                    }
                    Check(m, id, k);
                }
                string extra;
                if (q.TryTake(out extra, TimeSpan.Zero))
                {
                    throw new Failure("after " + n + " messages the queue still holds one: " +
                                      extra.Substring(0, Math.Min(120, extra.Length)));
                }
            }
            Console.WriteLine(Lang + ": ok " + n + " messages from " + id);
        }

        private static void ConsumeUntilClosed(string queue, string output, bool joinable, long hangAfter)
        {
            var got = new StringBuilder();
            long count = 0;
            var last = new Dictionary<string, long>();
            try
            {
                using (var q = Queue.Open(queue, Options(joinable)))
                {
                    for (;;)
                    {
                        JObject m;
                        try
                        {
                            m = Get(q, "waiting for message #" + count);
                        }
                        catch (QueueClosedException)
                        {
                            break;
                        }
                        JToken p = m["producer"];
                        JToken s = m["seq"];
                        if (hangAfter >= 0 && count == hangAfter)
                        {
                            Console.WriteLine("took job " + (string)p + " " + (s == null ? "?" : s.ToString()));
                            Console.Out.Flush();
                            Thread.Sleep(System.Threading.Timeout.Infinite); // holds the lease until killed
                        }
                        if (p == null || p.Type != JTokenType.String || s == null || s.Type != JTokenType.Integer)
                            throw new Failure("message #" + count + ": no producer/seq: " + Show(m));
                        string producer = (string)p;
                        long seq = (long)s;
                        Check(m, producer, seq);
                        long l;
                        if (last.TryGetValue(producer, out l) && seq <= l)
                            throw new Failure("message " + producer + "#" + seq + " came after " + producer + "#" + l);
                        last[producer] = seq;
                        got.Append(producer).Append(' ').Append(seq).Append('\n');
                        ++count;
                        if (joinable) q.TaskDone();
                    }
                }
            }
            finally
            {
                File.WriteAllText(output, got.ToString(), new UTF8Encoding(false));
            }
            Console.WriteLine(Lang + ": ok " + count + " messages, end of stream");
        }

        /// <summary>
        /// watch QUEUE SECONDS (for scripts/demo.sh): follows the queue's counters through
        /// Names.StatJson (which does not attach), printing a line whenever the work in progress
        /// changes, until the queue is closed for writing with every task done (exit 0) or the
        /// time runs out (exit 1).
        /// </summary>
        private static int Watch(string queue, double seconds)
        {
            var deadline = DateTime.UtcNow.AddSeconds(seconds);
            string last = null;
            bool seen = false;
            for (;;)
            {
                JObject st = null;
                try
                {
                    st = JObject.Parse(Names.StatJson(queue));
                }
                catch (NotFoundException)
                {
                    if (seen)
                    {
                        Console.WriteLine("watcher csharp: " + queue + " was removed before its work was done");
                        return 1;
                    }
                }
                if (st != null)
                {
                    seen = true;
                    long puts = (long)st["counters"]["puts"];
                    long redelivered = (long)st["counters"]["redeliveries"];
                    long unfinished = (long)st["unfinished_tasks"];
                    bool closed = (bool)st["closed"];
                    string line = queue + ": " + puts + " put, " + (long)st["depth"] + " waiting, " + (long)st["leased"] +
                                  " being worked on, " + (puts - unfinished) + " done, " + redelivered + " redelivered" +
                                  (closed ? ", closed for writing" : "");
                    if (line != last) Console.WriteLine("watcher csharp: " + line);
                    last = line;
                    if (closed && puts > 0 && unfinished == 0)
                    {
                        Console.WriteLine("watcher csharp: all " + puts + " jobs done, " + redelivered + " of them redelivered");
                        return 0;
                    }
                }
                if (DateTime.UtcNow > deadline)
                {
                    Console.WriteLine("watcher csharp: FAIL: the work on " + queue + " did not finish within " + seconds + " s");
                    return 1;
                }
                Thread.Sleep(50); // sampling interval of the display, not a synchronisation
            }
        }

        // ---- synchronisation scenarios (README: "Synchronisation scenarios") ----------------------

        [DllImport("libc", SetLastError = true)]
        private static extern int rename(string from, string to);

        private static JObject ReadState(string file)
        {
            try
            {
                var t = JToken.Parse(File.ReadAllText(file, Encoding.UTF8));
                if (t.Type != JTokenType.Object) throw new Failure(file + ": not a JSON object");
                return (JObject)t;
            }
            catch (IOException e)
            {
                throw new Failure(file + ": cannot read: " + e.Message);
            }
            catch (JsonException e)
            {
                throw new Failure(file + ": not JSON (torn?): " + e.Message);
            }
        }

        /// FILE rewritten atomically: FILE.tmp.PID, then rename(2) over FILE.
        private static void WriteState(string file, JObject state)
        {
            string tmp = file + ".tmp." + System.Diagnostics.Process.GetCurrentProcess().Id;
            File.WriteAllText(tmp, state.ToString(Formatting.None), new UTF8Encoding(false));
            if (rename(tmp, file) != 0)
                throw new Failure("rename " + tmp + " -> " + file + ": errno " + Marshal.GetLastWin32Error());
        }

        private static void HangUntilKilled()
        {
            Console.WriteLine("holding");
            Console.Out.Flush();
            Thread.Sleep(System.Threading.Timeout.Infinite);
        }

        private static LockGuard AcquireOrFail(Func<TimeSpan?, CancellationToken, LockGuard> acquire, string what)
        {
            try
            {
                return acquire(Timeout, default(CancellationToken));
            }
            catch (PolyipcTimeoutException)
            {
                throw new Failure(what + ": not acquired within " + Timeout.TotalSeconds + " s");
            }
        }

        private static long Int(JObject o, string key, string file)
        {
            JToken t = o[key];
            if (t == null || t.Type != JTokenType.Integer) throw new Failure(file + ": \"" + key + "\" is not an integer: " + Show(o));
            return (long)t;
        }

        /// tickets LOCK FILE ID [--hang]
        private static void Tickets(string lockName, string file, string id, bool hang)
        {
            long bought = 0;
            using (var l = Lock.Open(lockName))
            {
                for (;;)
                {
                    using (var guard = AcquireOrFail(l.Acquire, "lock '" + lockName + "'"))
                    {
                        JObject st = ReadState(file);
                        JToken pending = st["pending"];
                        if (pending != null && pending.Type != JTokenType.Null)
                        {
                            if (!guard.PreviousOwnerDied)
                                throw new Failure(file + ": a sale is pending but the lock's previous holder did not die: " + Show(st));
                            var p = (JObject)pending;
                            st["remaining"] = p["remaining"];
                            st["sold"] = p["sold"];
                            st["buyers"] = p["buyers"];
                            st["repairs"] = Int(st, "repairs", file) + 1;
                            st["pending"] = JValue.CreateNull();
                            WriteState(file, st);
                        }
                        long remaining = Int(st, "remaining", file);
                        if (remaining == 0) break;
                        long sold = Int(st, "sold", file);
                        var buyers = st["buyers"] as JObject;
                        if (buyers == null) throw new Failure(file + ": \"buyers\" is not an object: " + Show(st));
                        var before = new JObject(new JProperty("remaining", remaining), new JProperty("sold", sold),
                            new JProperty("buyers", buyers.DeepClone()));
                        JToken mine = buyers[id];
                        buyers[id] = (mine == null ? 0 : (long)mine) + 1;
                        st["remaining"] = remaining - 1;
                        st["sold"] = sold + 1;
                        st["pending"] = before;
                        WriteState(file, st);
                        if (hang) HangUntilKilled();
                        st["pending"] = JValue.CreateNull();
                        WriteState(file, st);
                        ++bought;
                    }
                }
            }
            Console.WriteLine("tickets " + id + ": bought " + bought);
        }

        private static JObject LogEvent(string id, string ev)
        {
            return new JObject(new JProperty("id", id), new JProperty("pid", System.Diagnostics.Process.GetCurrentProcess().Id),
                new JProperty("ev", ev));
        }

        /// semaphore SEM LOG ID ITERATIONS [--hang]
        private static void SemaphoreScenario(string semName, string logName, string id, long iterations, bool hang)
        {
            using (var sem = Semaphore.Open(semName, 3))
            using (var log = Queue.Open(logName))
            {
                for (long i = 0; i < (hang ? 1 : iterations); ++i)
                {
                    if (!sem.Wait(Timeout)) throw new Failure("semaphore '" + semName + "': no slot within " + Timeout.TotalSeconds + " s");
                    log.Put(LogEvent(id, "enter").ToString(Formatting.None), Timeout);
                    if (hang) HangUntilKilled();
                    // Inside for a moment: 20 yields and at least 2 ms, so that processes started
                    // ~100 ms apart (mono) still overlap and the 3 slots are really contended.
                    var inside = System.Diagnostics.Stopwatch.StartNew();
                    for (int k = 0; k < 20 || inside.ElapsedTicks < System.Diagnostics.Stopwatch.Frequency / 500; ++k) Thread.Yield();
                    log.Put(LogEvent(id, "exit").ToString(Formatting.None), Timeout);
                    sem.Release();
                }
            }
            Console.WriteLine("semaphore " + id + ": " + iterations + " iterations");
        }

        /// event-wait EVENT READY ID
        private static void EventWait(string eventName, string readyName, string id)
        {
            using (var ev = Polyipc.Event.Open(eventName))
            using (var ready = Queue.Open(readyName))
            {
                ready.Put(new JObject(new JProperty("id", id)).ToString(Formatting.None), Timeout);
                if (!ev.Wait(Timeout)) throw new Failure("event '" + eventName + "': not set within " + Timeout.TotalSeconds + " s");
            }
            Console.WriteLine("event " + id + ": woken");
        }

        /// event-set EVENT ID
        private static void EventSet(string eventName, string id)
        {
            using (var ev = Polyipc.Event.Open(eventName)) ev.Set();
            Console.WriteLine("event " + id + ": set");
        }

        /// barrier BARRIER PARTIES ROUNDS OUT ID
        private static void BarrierRounds(string name, int parties, long rounds, string outName, string id)
        {
            var indexes = new JArray();
            using (var b = Barrier.Open(name, parties))
            {
                for (long r = 0; r < rounds; ++r)
                {
                    try
                    {
                        indexes.Add(b.SignalAndWait(Timeout));
                    }
                    catch (PolyipcTimeoutException)
                    {
                        throw new Failure("barrier '" + name + "' round " + r + ": not all " + parties + " parties within " + Timeout.TotalSeconds + " s");
                    }
                }
            }
            using (var q = Queue.Open(outName))
                q.Put(new JObject(new JProperty("id", id), new JProperty("indexes", indexes)).ToString(Formatting.None), Timeout);
            Console.WriteLine("barrier " + id + ": " + rounds + " rounds");
        }

        /// barrier-timeout BARRIER PARTIES TIMEOUT_MS ID: 0 when timed out or broken, 1 when it passed.
        private static int BarrierTimeout(string name, int parties, long timeoutMs, string id)
        {
            using (var b = Barrier.Open(name, parties))
            {
                try
                {
                    b.SignalAndWait(TimeSpan.FromMilliseconds(timeoutMs));
                }
                catch (PolyipcTimeoutException)
                {
                    Console.WriteLine("barrier " + id + ": timeout");
                    return 0;
                }
                catch (BrokenBarrierException)
                {
                    Console.WriteLine("barrier " + id + ": broken");
                    return 0;
                }
            }
            Console.WriteLine("barrier " + id + ": passed");
            return 1;
        }

        /// condition-produce / condition-consume COND FILE N ID: a bounded buffer in FILE.
        private static void ConditionScenario(string condName, string file, long n, string id, bool produce)
        {
            using (var c = Condition.Open(condName))
            {
                for (long i = 0; i < n; ++i)
                {
                    using (AcquireOrFail(c.Acquire, "condition '" + condName + "'"))
                    {
                        JObject st = null;
                        JArray items = null;
                        Func<bool> ready = () =>
                        {
                            st = ReadState(file);
                            items = st["items"] as JArray;
                            if (items == null) throw new Failure(file + ": \"items\" is not an array: " + Show(st));
                            return produce ? items.Count < Int(st, "capacity", file) : items.Count > 0;
                        };
                        if (!c.WaitFor(ready, Timeout))
                            throw new Failure("condition '" + condName + "': " + (produce ? "no room" : "no item") + " for #" + i +
                                              " within " + Timeout.TotalSeconds + " s");
                        if (produce)
                        {
                            items.Add(i);
                        }
                        else
                        {
                            JToken first = items[0];
                            if (first.Type != JTokenType.Integer || (long)first != i)
                                throw new Failure(file + ": consumed " + Show(first) + ", want " + i);
                            items.RemoveAt(0);
                        }
                        WriteState(file, st);
                        c.NotifyAll();
                    }
                }
            }
            Console.WriteLine("condition " + id + ": " + (produce ? "produced " : "consumed ") + n);
        }

        // ---- pipe and shared-memory scenarios (README: "Pipe and shared-memory scenarios") ----

        private static long Seq(string json, string what)
        {
            JToken seq = JObject.Parse(json)["seq"];
            if (seq == null || seq.Type != JTokenType.Integer) throw new Failure(what + ": no integer \"seq\" in " + json);
            return (long)seq;
        }

        /// pipe-ping / pipe-pong PIPE N ID
        private static void PipePingPong(string pipe, long n, string id, bool pong)
        {
            using (var conn = Connection.Open(pipe, pong ? PipeEnd.B : PipeEnd.A))
            {
                for (long i = 0; i < n; ++i)
                {
                    if (!pong) conn.Send(new JObject(new JProperty("seq", i), new JProperty("ping", id)).ToString(Formatting.None), Timeout);
                    string m;
                    try
                    {
                        m = conn.Receive(Timeout);
                    }
                    catch (EndOfStreamException)
                    {
                        throw new Failure("pipe '" + pipe + "': end of stream after " + i + " messages");
                    }
                    if (Seq(m, "pipe '" + pipe + "'") != i) throw new Failure("pipe '" + pipe + "': expected seq " + i + ", got " + m);
                    if (pong) conn.Send(new JObject(new JProperty("seq", i), new JProperty("pong", id)).ToString(Formatting.None), Timeout);
                }
            }
            Console.WriteLine("pipe " + id + ": " + n + (pong ? " replies" : " round trips"));
        }

        /// pipe-send PIPE K ID [--hang]
        private static void PipeSend(string pipe, long k, string id, bool hang)
        {
            using (var conn = Connection.Open(pipe, PipeEnd.A))
            {
                for (long i = 0; i < k; ++i)
                    conn.Send(new JObject(new JProperty("seq", i), new JProperty("from", id)).ToString(Formatting.None), Timeout);
                Console.WriteLine("pipe " + id + ": sent " + k);
                if (hang) HangUntilKilled();
            }
        }

        /// pipe-eof PIPE ID: receives until end of stream (EndOfStreamException).
        private static void PipeEof(string pipe, string id)
        {
            long k = 0;
            using (var conn = Connection.Open(pipe, PipeEnd.B))
            {
                for (;;)
                {
                    string m;
                    try
                    {
                        m = conn.Receive(Timeout);
                    }
                    catch (EndOfStreamException)
                    {
                        break;
                    }
                    if (Seq(m, "pipe '" + pipe + "'") != k) throw new Failure("pipe '" + pipe + "': expected seq " + k + ", got " + m);
                    ++k;
                }
            }
            Console.WriteLine("pipe " + id + ": eof after " + k + " messages");
        }

        /// shm-write / shm-check SHM SIZE SEED ID, through the Span over the mapping.
        private static void Shm(string name, long size, long seed, string id, bool write)
        {
            using (var shm = write ? SharedMemory.Open(name, size) : SharedMemory.Attach(name))
            {
                if (shm.Length != size) throw new Failure("shared memory '" + name + "': size " + shm.Length + ", expected " + size);
                Span<byte> bytes = shm.Span;
                for (int i = 0; i < bytes.Length; ++i)
                {
                    byte want = (byte)((i * 131L + seed) % 256);
                    if (write) bytes[i] = want;
                    else if (bytes[i] != want) throw new Failure("shared memory '" + name + "': byte " + i + " is " + bytes[i] + ", expected " + want);
                }
            }
            Console.WriteLine("shm " + id + ": " + (write ? "wrote " : "checked ") + size);
        }

        /// counter ARRAY N ID: N atomic adds of 1 to the int64 Value ARRAY.
        private static void Counter(string name, long n, string id)
        {
            using (var v = LongValue.Open(name))
                for (long i = 0; i < n; ++i) v.Increment();
            Console.WriteLine("counter " + id + ": added " + n);
        }

        // ---- dict and list (README: "Dict", "List") ----------------------------------------------

        private static string DictKey(string lang) { return "\u043a\u043b\u044e\u0447\U0001F511." + lang; }

        private static JObject DictValue(string lang)
        {
            var v = new JObject();
            v["lang"] = new JValue(lang);
            v["text"] = new JValue("h\u00e9llo w\u00f6rld \U0001F600 \u6f22\u5b57 quote\" backslash\\ nl\n nul\0");
            v["ints"] = Arr(long.MinValue, long.MaxValue, 0L, -1L);
            v["doubles"] = Arr(0.5, 1e300, -2.25);
            v["flags"] = Arr(true, false, null);
            v["nested"] = new JObject(new JProperty("a", Arr(new JArray(), new JObject(), Arr(Arr("deep")))));
            return v;
        }

        private static IEnumerable<string> Langs(string langs)
        {
            return langs.Split(',');
        }

        /// dict-write DICT N ID: K(ID) = V(ID), then N increments of "counter" by get + compare-and-set.
        private static void DictWrite(string name, long n, string id)
        {
            using (var d = Dict.Open(name))
            {
                d.SetJson(DictKey(id), DictValue(id).ToString(Formatting.None, new ExactDoubleConverter()));
                for (long i = 0; i < n; ++i)
                {
                    for (;;)
                    {
                        string found = d.GetJson("counter");
                        string next = found == null ? "1" : (long.Parse(found, CultureInfo.InvariantCulture) + 1).ToString(CultureInfo.InvariantCulture);
                        if (d.CompareAndSetJson("counter", found, next)) break;
                    }
                }
            }
            Console.WriteLine("dict " + id + ": wrote, " + n + " increments");
        }

        /// dict-check DICT LANGS ID: K(L) decodes to V(L) for every L of LANGS.
        private static void DictCheck(string name, string langs, string id)
        {
            int checkedCount = 0;
            using (var d = Dict.Open(name, new DictOptions { OpenMode = OpenMode.OpenOnly }))
            {
                foreach (string other in Langs(langs))
                {
                    string text = d.GetJson(DictKey(other));
                    if (text == null) throw new Failure("dict '" + name + "': no entry of " + other);
                    string diff = Diff(Decode(text), DictValue(other), "$");
                    if (diff != null) throw new Failure("the entry of " + other + " differs: " + diff);
                    ++checkedCount;
                }
            }
            Console.WriteLine("dict " + id + ": checked " + checkedCount + " entries");
        }

        /// list-append LIST N ID: appends {"from": ID, "seq": i} for i in 0..N-1.
        private static void ListAppend(string name, long n, string id)
        {
            using (var l = List.Open(name))
                for (long i = 0; i < n; ++i)
                    l.AddJson(new JObject(new JProperty("from", id), new JProperty("seq", i)).ToString(Formatting.None));
            Console.WriteLine("list " + id + ": appended " + n);
        }

        /// list-check LIST LANGS N ID: one snapshot holds N values per language, each's seq 0..N-1 in order.
        private static void ListCheck(string name, string langs, long n, string id)
        {
            string text;
            using (var l = List.Open(name, new ListOptions { OpenMode = OpenMode.OpenOnly }))
                text = l.ItemsJson();
            var items = Decode(text) as JArray;
            if (items == null) throw new Failure("list '" + name + "': the items are no JSON array");
            var next = new Dictionary<string, long>();
            foreach (string lang in Langs(langs)) next[lang] = 0;
            foreach (JToken v in items)
            {
                var o = v as JObject;
                JToken from = o == null ? null : o["from"], seq = o == null ? null : o["seq"];
                if (from == null || from.Type != JTokenType.String || seq == null || seq.Type != JTokenType.Integer)
                    throw new Failure("not a value of this scenario: " + Show(v));
                long want;
                if (!next.TryGetValue((string)from, out want)) throw new Failure("a value from an unknown language: " + Show(v));
                if ((long)seq != want) throw new Failure("out of order or lost: " + Show(v) + ", expected seq " + want);
                next[(string)from] = want + 1;
            }
            foreach (var p in next)
                if (p.Value != n) throw new Failure(p.Key + " has " + p.Value + " values, expected " + n);
            Console.WriteLine("list " + id + ": checked " + items.Count + " values");
        }

        /// dict-relay DICT INDEX COUNT ROUNDS ID: a token round the languages; each turn waits in WaitChange.
        private static void DictRelay(string name, long index, long count, long rounds, string id)
        {
            using (var d = Dict.Open(name))
            {
                for (long r = 0; r < rounds; ++r)
                {
                    long turn = r * count + index;
                    for (;;)  // the version, then the token, then wait from that version: no change is missed
                    {
                        ulong version = d.Version;
                        string found = d.GetJson("token");
                        long token = found == null ? 0 : long.Parse(found, CultureInfo.InvariantCulture);
                        if (token == turn) break;
                        if (token > turn) throw new Failure("the token passed turn " + turn + ": " + token);
                        if (d.WaitChange(version, TimeSpan.FromSeconds(60)) == version)
                            throw new Failure("no change for 60 s while waiting for turn " + turn);
                    }
                    d.SetJson("token", (turn + 1).ToString(CultureInfo.InvariantCulture));
                }
            }
            Console.WriteLine("relay " + id + ": " + rounds + " turns");
        }

        private static readonly HashSet<string> IpcCommands = new HashSet<string> {
            "pipe-ping", "pipe-pong", "pipe-send", "pipe-eof", "shm-write", "shm-check", "counter",
            "dict-write", "dict-check", "list-append", "list-check", "dict-relay" };

        /// The pipe and shared-memory sub-commands.
        private static int Ipc(string[] a)
        {
            string cmd = a[0];
            if (cmd == "pipe-ping" && a.Length == 4) PipePingPong(a[1], long.Parse(a[2]), a[3], false);
            else if (cmd == "pipe-pong" && a.Length == 4) PipePingPong(a[1], long.Parse(a[2]), a[3], true);
            else if (cmd == "pipe-send" && (a.Length == 4 || (a.Length == 5 && a[4] == "--hang")))
                PipeSend(a[1], long.Parse(a[2]), a[3], a.Length == 5);
            else if (cmd == "pipe-eof" && a.Length == 3) PipeEof(a[1], a[2]);
            else if (cmd == "shm-write" && a.Length == 5) Shm(a[1], long.Parse(a[2]), long.Parse(a[3]), a[4], true);
            else if (cmd == "shm-check" && a.Length == 5) Shm(a[1], long.Parse(a[2]), long.Parse(a[3]), a[4], false);
            else if (cmd == "counter" && a.Length == 4) Counter(a[1], long.Parse(a[2]), a[3]);
            else if (cmd == "dict-write" && a.Length == 4) DictWrite(a[1], long.Parse(a[2]), a[3]);
            else if (cmd == "dict-check" && a.Length == 4) DictCheck(a[1], a[2], a[3]);
            else if (cmd == "list-append" && a.Length == 4) ListAppend(a[1], long.Parse(a[2]), a[3]);
            else if (cmd == "list-check" && a.Length == 5) ListCheck(a[1], a[2], long.Parse(a[3]), a[4]);
            else if (cmd == "dict-relay" && a.Length == 6)
                DictRelay(a[1], long.Parse(a[2]), long.Parse(a[3]), long.Parse(a[4]), a[5]);
            else
            {
                Console.Error.WriteLine("usage: agent pipe-ping|pipe-pong PIPE N ID | pipe-send PIPE K ID [--hang] | pipe-eof PIPE ID | " +
                                        "shm-write|shm-check SHM SIZE SEED ID | counter ARRAY N ID | dict-write DICT N ID | " +
                                        "dict-check DICT LANGS ID | list-append LIST N ID | list-check LIST LANGS N ID | " +
                                        "dict-relay DICT INDEX COUNT ROUNDS ID");
                return 2;
            }
            return 0;
        }

        private static readonly HashSet<string> SyncCommands = new HashSet<string> {
            "tickets", "semaphore", "event-wait", "event-set", "barrier", "barrier-timeout",
            "condition-produce", "condition-consume" };

        /// The synchronisation sub-commands; -1 when `a` is none of them.
        private static int Sync(string[] a)
        {
            string cmd = a[0];
            bool hang = a.Length > 0 && a[a.Length - 1] == "--hang";
            int n = hang ? a.Length - 1 : a.Length;
            if (cmd == "tickets" && n == 4) Tickets(a[1], a[2], a[3], hang);
            else if (cmd == "semaphore" && n == 5) SemaphoreScenario(a[1], a[2], a[3], long.Parse(a[4]), hang);
            else if (cmd == "event-wait" && a.Length == 4) EventWait(a[1], a[2], a[3]);
            else if (cmd == "event-set" && a.Length == 3) EventSet(a[1], a[2]);
            else if (cmd == "barrier" && a.Length == 6) BarrierRounds(a[1], int.Parse(a[2]), long.Parse(a[3]), a[4], a[5]);
            else if (cmd == "barrier-timeout" && a.Length == 5) return BarrierTimeout(a[1], int.Parse(a[2]), long.Parse(a[3]), a[4]);
            else if (cmd == "condition-produce" && a.Length == 5) ConditionScenario(a[1], a[2], long.Parse(a[3]), a[4], true);
            else if (cmd == "condition-consume" && a.Length == 5) ConditionScenario(a[1], a[2], long.Parse(a[3]), a[4], false);
            else
            {
                Console.Error.WriteLine("usage: agent tickets LOCK FILE ID [--hang] | semaphore SEM LOG ID ITERATIONS [--hang] | " +
                                        "event-wait EVENT READY ID | event-set EVENT ID | barrier BARRIER PARTIES ROUNDS OUT ID | " +
                                        "barrier-timeout BARRIER PARTIES TIMEOUT_MS ID | condition-produce|condition-consume COND FILE N ID");
                return 2;
            }
            return 0;
        }

        // ---- worker pools ----------------------------------------------------------------------

        private static readonly HashSet<string> PoolCommands = new HashSet<string> { "pool-work", "pool-submit", "pool-complete" };

        /// The five functions every worker serves (README "Worker pools").
        private static Dictionary<string, Func<JToken, object>> PoolHandlers()
        {
            return new Dictionary<string, Func<JToken, object>>
            {
                { "add", a => (long)a[0] + (long)a[1] },
                { "concat", a => string.Concat(((JArray)a["parts"]).Select(x => (string)x)) },
                { "echo", a => a },
                { "fail", a => { throw new Failure((string)a); } },
                { "whoami", a => Lang },
            };
        }

        /// pool-work POOL [--hang-after K]: Serve until the end of tasks; with --hang-after, Serve
        /// stops after K tasks (its token is cancelled by the K-th handler, and Serve finishes
        /// that task first), then one more task is taken and held until this process is killed.
        private static void PoolWork(string name, long hangAfter)
        {
            using (var pool = Pool.Open(name))
            {
                var handlers = PoolHandlers();
                long served = 0;
                using (var stop = new CancellationTokenSource())
                {
                    if (hangAfter >= 0)
                    {
                        long started = 0;
                        foreach (string fn in new List<string>(handlers.Keys))
                        {
                            Func<JToken, object> h = handlers[fn];
                            handlers[fn] = a =>
                            {
                                if (++started >= hangAfter) stop.Cancel();
                                return h(a);
                            };
                        }
                        if (hangAfter == 0) stop.Cancel();
                    }
                    served = pool.Serve(handlers, stop.Token);
                    if (hangAfter >= 0 && stop.IsCancellationRequested)
                    {
                        PoolTask held;
                        if (!pool.TryTake(out held, Timeout)) throw new Failure("no task came within " + Timeout.TotalSeconds + " s");
                        Console.WriteLine("took task " + held.Id);
                        Console.Out.Flush();
                        Thread.Sleep(System.Threading.Timeout.Infinite); // holds the task until killed
                        GC.KeepAlive(held);
                    }
                }
                Console.WriteLine("served " + served);
            }
        }

        /// The error text of fail task n: a named escape two characters in, then a \u one (Json.NET 6's
        /// JsonConvert.ToString threw on that), quotes, a backslash, a line separator.
        private static string Boom(string n) { return "nl\nctl\u0001 boom " + n + " \"q\" \\ ls\u2028"; }

        /// Task i of pool-submit: its function, arguments, and the result (ok) or error text it must get.
        private static void PoolTaskOf(long i, out string function, out JToken args, out bool ok, out JToken want)
        {
            string n = i.ToString(CultureInfo.InvariantCulture);
            switch (i % 4)
            {
                case 0:
                    function = "add";
                    args = Arr(i, 2 * i);
                    ok = true;
                    want = new JValue(3 * i);
                    break;
                case 1:
                    function = "concat";
                    args = new JObject { { "parts", Arr("p", n, "\u00e9\U0001F600") } };
                    ok = true;
                    want = new JValue("p" + n + "\u00e9\U0001F600");
                    break;
                case 2:
                    function = "echo";
                    args = new JObject
                    {
                        { "i", new JValue(i) },
                        { "v", Arr(i, "x", JValue.CreateNull(), true, 1.5, new JObject { { "k", new JValue("\u00fc") } }) },
                    };
                    ok = true;
                    want = args;
                    break;
                default:
                    function = "fail";
                    args = new JValue(Boom(n));
                    ok = false;
                    want = args;
                    break;
            }
        }

        /// pool-submit POOL N: N tasks, at most 64 outstanding, results of any task, each checked.
        private static void PoolSubmit(string name, long n)
        {
            using (var pool = Pool.Open(name))
            {
                var outstanding = new Dictionary<ulong, long>(); // task id -> i
                long next = 0, checkedCount = 0;
                while (checkedCount < n)
                {
                    while (next < n && outstanding.Count < 64)
                    {
                        string fn;
                        JToken args, want;
                        bool ok;
                        PoolTaskOf(next, out fn, out args, out ok, out want);
                        PoolResult submitted = pool.SubmitJson(fn, args.ToString(Formatting.None), Timeout);
                        outstanding[submitted.Id] = next++;
                    }
                    PoolResult r;
                    try
                    {
                        r = pool.NextResult(Timeout);
                    }
                    catch (PolyipcTimeoutException)
                    {
                        throw new Failure("no result came within " + Timeout.TotalSeconds + " s (" + checkedCount + " of " + n + " checked)");
                    }
                    long i;
                    if (!outstanding.TryGetValue(r.Id, out i)) throw new Failure("a result for no outstanding task: " + r.MessageJson);
                    PoolCheck(i, r);
                    outstanding.Remove(r.Id);
                    ++checkedCount;
                }
                Console.WriteLine("results ok " + n);
            }
        }

        /// Fails unless r, received, is the outcome task i of pool-submit must have.
        private static void PoolCheck(long i, PoolResult r)
        {
            string function;
            JToken a, expected;
            bool expectOk;
            PoolTaskOf(i, out function, out a, out expectOk, out expected);
            JToken message = Decode(r.MessageJson); // exact numbers
            JToken got = message[expectOk ? "result" : "error"];
            string diff = message["ok"] == null || message["ok"].Type != JTokenType.Boolean || (bool)message["ok"] != expectOk
                ? "ok is " + Show(message["ok"])
                : Diff(got, expected, expectOk ? "result" : "error");
            if (diff != null)
            {
                string text = "task " + i + " (" + function + "): expected " + (expectOk ? "result " : "error ") +
                              Show(expected) + ", got " + r.MessageJson + " (" + diff + ")";
                Console.WriteLine(text);
                throw new Failure(text);
            }
        }

        /// pool-complete POOL N: the tasks of pool-submit, all submitted at once and awaited
        /// together (Task.WhenAll of WaitAsync: the handle's completion thread receives the
        /// results, nobody Waits); then each checked.
        private static void PoolComplete(string name, long n)
        {
            using (var pool = Pool.Open(name))
            {
                var results = new System.Collections.Generic.List<PoolResult>();
                for (long i = 0; i < n; ++i)
                {
                    string fn;
                    JToken args, want;
                    bool ok;
                    PoolTaskOf(i, out fn, out args, out ok, out want);
                    results.Add(pool.SubmitJson(fn, args.ToString(Formatting.None), Timeout));
                }
                System.Threading.Tasks.Task all = System.Threading.Tasks.Task.WhenAll(results.Select(r => r.WaitAsync()));
                // The "fail" tasks fault it: only its end counts here, each is checked below.
                if (!all.ContinueWith(t => { }, System.Threading.Tasks.TaskContinuationOptions.ExecuteSynchronously).Wait(Timeout))
                    throw new Failure(results.Count(r => r.IsCompleted) + " of " + n + " results came within " +
                                      Timeout.TotalSeconds + " s");
                for (int i = 0; i < n; ++i) PoolCheck(i, results[i]);
                Console.WriteLine("results ok " + n);
            }
        }

        /// The pool sub-commands.
        private static int PoolCommand(string[] a)
        {
            if (a[0] == "pool-work" && a.Length == 2) PoolWork(a[1], -1);
            else if (a[0] == "pool-work" && a.Length == 4 && a[2] == "--hang-after") PoolWork(a[1], long.Parse(a[3]));
            else if (a[0] == "pool-submit" && a.Length == 3) PoolSubmit(a[1], long.Parse(a[2]));
            else if (a[0] == "pool-complete" && a.Length == 3) PoolComplete(a[1], long.Parse(a[2]));
            else
            {
                Console.Error.WriteLine("usage: agent pool-work POOL [--hang-after K] | pool-submit POOL N | pool-complete POOL N");
                return 2;
            }
            return 0;
        }

        private static int Main(string[] a)
        {
            try
            {
                string cmd = a.Length > 0 ? a[0] : "";
                if (SyncCommands.Contains(cmd) || IpcCommands.Contains(cmd) || PoolCommands.Contains(cmd))
                {
                    try
                    {
                        return SyncCommands.Contains(cmd) ? Sync(a) : IpcCommands.Contains(cmd) ? Ipc(a) : PoolCommand(a);
                    }
                    catch (Failure e)
                    {
                        Console.Error.WriteLine("FAIL: " + Lang + ": " + e.Message);
                        return 1;
                    }
                    catch (Exception e)
                    {
                        Console.Error.WriteLine("FAIL: " + Lang + ": " + e.GetType().Name + ": " + e.Message.Replace('\n', ' '));
                        Console.Error.WriteLine(e);
                        return 1;
                    }
                }
                if (a.Length == 4 && cmd == "produce") Produce(a[1], long.Parse(a[2]), a[3]);
                else if (a.Length == 4 && cmd == "consume") Consume(a[1], long.Parse(a[2]), a[3]);
                else if (a.Length == 3 && cmd == "many-consume") ConsumeUntilClosed(a[1], a[2], false, -1);
                else if (a.Length == 3 && cmd == "jobs-consume") ConsumeUntilClosed(a[1], a[2], true, -1);
                else if (a.Length == 5 && cmd == "jobs-consume" && a[3] == "--hang-after")
                    ConsumeUntilClosed(a[1], a[2], true, long.Parse(a[4]));
                else if (a.Length == 3 && cmd == "watch")
                    return Watch(a[1], double.Parse(a[2], CultureInfo.InvariantCulture));
                else if (a.Length == 2 && cmd == "parse-selftest")
                {
                    int bad = 0, n = 0;
                    foreach (string line in File.ReadAllLines(a[1]))
                    {
                        string[] f = line.Split(' ');
                        ++n;
                        string got = BitConverter.DoubleToInt64Bits(ExactDoubleConverter.ParseExact(f[0])).ToString("x16");
                        if (got != f[1])
                        {
                            if (++bad < 5) Console.Error.WriteLine(f[0] + ": got " + got + ", want " + f[1]);
                        }
                    }
                    Console.WriteLine("parse-selftest: " + bad + " wrong of " + n);
                    return bad == 0 ? 0 : 1;
                }
                else if (a.Length == 3 && cmd == "dump")
                    Console.WriteLine(JsonConvert.SerializeObject(Message(a[2], long.Parse(a[1])), Options(false).JsonSettings));
                else
                {
                    Console.Error.WriteLine("usage: agent produce|consume QUEUE N ID | many-consume|jobs-consume QUEUE OUT [--hang-after K] | " +
                                            "pool-work POOL [--hang-after K] | pool-submit POOL N | pool-complete POOL N");
                    return 2;
                }
                return 0;
            }
            catch (Failure e)
            {
                Console.Error.WriteLine(Lang + ": FAIL: " + e.Message);
                return 1;
            }
            catch (Exception e)
            {
                Console.Error.WriteLine(Lang + ": FAIL: " + e);
                return 1;
            }
        }
    }
}
