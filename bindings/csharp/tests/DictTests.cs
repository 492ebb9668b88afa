using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Threading;
using Newtonsoft.Json.Linq;

namespace Polyipc.Tests
{
    /// <summary>Dict: semantics, bad input, and real processes (PolyipcTestChild.exe, kill -9).</summary>
    public class DictTests : Scratch
    {
        private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);
        private const string Emoji = "\U0001F600"; // outside the BMP: a surrogate pair in C#, 4 bytes in UTF-8

        public class Point
        {
            public int X { get; set; }
            public int Y { get; set; }
        }

        private Dict NewDict(string label, DictOptions options = null)
        {
            return Dict.Open(NewName(label), options);
        }

        [Test]
        public void SetGetReplaceDeleteCountKeysItemsClear()
        {
            using (var d = NewDict("basic"))
            {
                Assert.Equal(0L, d.Count, "empty");
                Assert.Equal(null, d.GetJson("a"), "absent: GetJson is null");
                string json;
                Assert.True(!d.TryGetJson("a", out json) && json == null, "absent: TryGetJson false");
                Point p;
                Assert.True(!d.TryGet("a", out p) && p == null, "absent: TryGet false");
                Assert.Throws<KeyNotFoundException>(() => d.Get<Point>("a"), "absent: Get");
                Assert.Equal(7, d.GetValueOrDefault("a", 7), "absent: the default");
                Assert.True(!d.ContainsKey("a"), "absent: ContainsKey");

                d.SetJson("a", "{\"x\": [1, 2]}");
                d.Set("b", new Point { X = 1, Y = 2 });
                d.Set("", "empty key");
                d.Set("n", null);
                Assert.Equal("{\"x\": [1, 2]}", d.GetJson("a"), "the text as given");
                Assert.Equal("{\"X\":1,\"Y\":2}", d.GetJson("b"), "Newtonsoft's text");
                Assert.Equal("null", d.GetJson("n"), "C# null is JSON null");
                Assert.True(d.ContainsKey("n"), "a null value is present");
                Assert.Equal(2, d.Get<Point>("b").Y, "Get<T>");
                Assert.True(d.TryGet("b", out p) && p.X == 1, "TryGet<T>");
                Assert.Equal("empty key", d.Get<string>(""), "the empty key");
                Assert.Equal(4L, d.Count, "four keys");

                d.Set("a", 3); // replacing moves it to the end
                Assert.Equal(3L, d.Get<long>("a"), "replaced");
                Assert.Equal(4L, d.Count, "still four");
                Assert.Equal("b||n|a", string.Join("|", d.Keys), "keys in the order last set");
                Assert.True(JToken.DeepEquals(JObject.Parse("{\"b\":{\"X\":1,\"Y\":2},\"\":\"empty key\",\"n\":null,\"a\":3}"), d.Items()), "items: " + d.ItemsJson());
                Assert.Equal("b||n|a", string.Join("|", d.Select(kv => kv.Key)), "the enumerator");
                Assert.Equal(3L, (long)d.First(kv => kv.Key == "a").Value, "an enumerated value");
                var snap = d.Snapshot<JToken>();
                Assert.Equal(4, snap.Count, "snapshot");
                Assert.Equal("empty key", (string)snap[""], "snapshot value");

                Assert.True(d.Remove("b"), "removed");
                Assert.True(!d.Remove("b"), "already gone");
                Assert.True(!d.Remove("never"), "never there");
                Assert.Equal(3L, d.Count, "three");

                using (var other = Dict.Open(d.Name, new DictOptions { OpenMode = OpenMode.OpenOnly }))
                {
                    Assert.Equal("3", other.GetJson("a"), "a second handle sees the entries");
                    other.Remove("a");
                }
                Assert.True(!d.ContainsKey("a"), "and its changes are seen");

                d.Clear();
                Assert.Equal(0L, d.Count, "cleared");
                Assert.Equal("{}", d.ItemsJson(), "no items");
                Assert.Equal(0, d.Keys.Count, "no keys");
                d.Set("after-clear", true);
                Assert.True(d.Get<bool>("after-clear"), "usable after clear");
                var stat = JObject.Parse(d.StatJson());
                Assert.Equal(d.Name, (string)stat["name"], "stat names the dict: " + stat);
            }
        }

        [Test]
        public void UnicodeKeysAndValuesRoundTripAsUtf8()
        {
            using (var d = NewDict("unicode"))
            {
                string k1 = "emoji-" + Emoji, k2 = "κλειδί", k3 = "中文";
                d.Set(k1, "value " + Emoji);
                d.SetJson(k2, "\"" + Emoji + "\"");
                d.Set(k3, new[] { Emoji, "ü" });
                Assert.Equal("value " + Emoji, d.Get<string>(k1), "non-BMP key and value");
                Assert.Equal("\"" + Emoji + "\"", d.GetJson(k2), "raw text with a non-BMP character");
                Assert.Equal(Emoji, d.Get<string[]>(k3)[0], "array value");
                Assert.Equal(k1 + "|" + k2 + "|" + k3, string.Join("|", d.Keys), "keys come back exactly");
                Assert.Equal("value " + Emoji, (string)d.Items()[k1], "items");
                // The key is stored as UTF-8 (4 bytes for the emoji), not as modified UTF-8 / CESU-8
                // (6 bytes): a key of 4096 UTF-8 bytes fits, and the native layer counts 4 per emoji.
                string longest = string.Concat(Enumerable.Repeat(Emoji, 1024));
                Assert.Equal(4096, Encoding.UTF8.GetByteCount(longest), "4096 bytes");
                d.Set(longest, 1);
                Assert.Equal(1, d.Get<int>(longest), "a 4096-byte key of emoji");
                Assert.Throws<PolyipcArgumentException>(() => d.Set(longest + "x", 1), "4097 bytes");
                Assert.True(d.CompareAndSet(k1, "value " + Emoji, Emoji), "compare-and-set on a non-BMP key and value");
                Assert.True(d.Remove(k1), "remove a non-BMP key");
            }
        }

        [Test]
        public void CompareAndSetComparesAsJsonAndAbsentIsItsOwnValue()
        {
            using (var d = NewDict("cas"))
            {
                Assert.True(d.CompareAndSetJson("n", null, "1.0"), "expected null: only if absent");
                Assert.True(!d.CompareAndSetJson("n", null, "100"), "present now");
                Assert.True(!d.CompareAndSetJson("n", "2", "5"), "2 is not 1.0");
                Assert.True(d.CompareAndSet("n", 1, 2), "1 equals 1.0 as JSON");
                Assert.Equal("2", d.GetJson("n"), "swapped");
                d.SetJson("o", "{\"a\":1,\"b\":[true,null]}");
                Assert.True(d.CompareAndSetJson("o", "{ \"b\" : [ true , null ], \"a\" : 1.0 }", "{}"), "key order and whitespace do not count");
                Assert.True(d.CompareAndSet("o", new { }, new[] { 1, 2 }), "objects, serialised");
                Assert.Equal("[1,2]", d.GetJson("o"), "the desired text");
                Assert.True(!d.CompareAndSet("o", new[] { 2, 1 }, Dict.Absent), "arrays keep their order");
                Assert.True(d.CompareAndSet("o", new[] { 1, 2 }, Dict.Absent), "desired Absent deletes");
                Assert.True(!d.ContainsKey("o"), "deleted");
                Assert.True(!d.CompareAndSet("o", null, 1), "JSON null is not absent");
                Assert.True(!d.ContainsKey("o"), "still absent");
                Assert.True(d.CompareAndSet("o", Dict.Absent, null), "expected Absent, desired JSON null");
                Assert.Equal("null", d.GetJson("o"), "a JSON null now");
                Assert.True(!d.CompareAndSet("o", Dict.Absent, 5), "not absent any more");
                Assert.True(d.CompareAndSet("o", null, Dict.Absent), "JSON null matches null");
                // absent -> absent: the comparison matches (true, as in the C API), and the key stays absent
                Assert.True(d.CompareAndSetJson("o", null, null), "absent -> absent matches");
                Assert.True(!d.ContainsKey("o"), "and stays absent");

                // put-if-absent and its relatives
                Assert.True(d.TryAdd("owner", "first"), "TryAdd adds");
                Assert.True(!d.TryAdd("owner", "second"), "TryAdd leaves a present key");
                Assert.True(!d.TryAddJson("owner", "\"third\""), "TryAddJson too");
                Assert.Equal("first", d.Get<string>("owner"), "the first stays");
                Assert.Equal("first", d.GetOrAdd("owner", "other"), "GetOrAdd returns the present value");
                Assert.Equal(42L, d.GetOrAdd("fresh", 42L), "GetOrAdd adds");
                Assert.Equal(42L, d.Get<long>("fresh"), "and it is there");
                Assert.Equal(1L, d.AddOrUpdate("hits", 1L, c => c + 1), "AddOrUpdate adds");
                Assert.Equal(2L, d.AddOrUpdate("hits", 1L, c => c + 1), "AddOrUpdate updates");
            }
        }

        [Test]
        public void ThreadsIncrementingByCompareAndSetLoseNothing()
        {
            using (var d = NewDict("threads"))
            {
                const int n = 300;
                var threads = Enumerable.Range(0, 3).Select(_ => Spawn(() =>
                {
                    for (int i = 0; i < n; i++) d.AddOrUpdate("c", 1L, c => c + 1);
                })).ToList();
                foreach (var t in threads) JoinThread(t, Limit);
                Assert.Equal(3L * n, d.Get<long>("c"), "every increment counted");
            }
        }

        [Test]
        public void BadInputIsRefusedAndChangesNothing()
        {
            using (var d = NewDict("bad"))
            {
                d.Set("k", 1);
                // null where C# allows it: keys and JSON texts (a null object is JSON null)
                Assert.Throws<ArgumentNullException>(() => d.Set(null, 1), "null key: Set");
                Assert.Throws<ArgumentNullException>(() => d.SetJson(null, "1"), "null key: SetJson");
                Assert.Throws<ArgumentNullException>(() => d.SetJson("k", null), "null JSON text");
                Assert.Throws<ArgumentNullException>(() => d.GetJson(null), "null key: GetJson");
                Assert.Throws<ArgumentNullException>(() => d.Get<int>(null), "null key: Get");
                Assert.Throws<ArgumentNullException>(() => d.Remove(null), "null key: Remove");
                Assert.Throws<ArgumentNullException>(() => d.ContainsKey(null), "null key: ContainsKey");
                Assert.Throws<ArgumentNullException>(() => d.CompareAndSet(null, 1, 2), "null key: CompareAndSet");
                Assert.Throws<ArgumentNullException>(() => d.TryAddJson("k", null), "null JSON text: TryAddJson");
                Assert.Throws<ArgumentNullException>(() => d.AddOrUpdate<long>("k", 1, null), "null update");
                Assert.Throws<ArgumentException>(() => d.Set("k", Dict.Absent), "Absent is not a value");
                // malformed JSON: nothing changes
                var bad = Assert.Throws<InvalidJsonException>(() => d.SetJson("k", "{\"a\":"), "malformed");
                Assert.Equal(Status.InvalidJson, bad.Status, "status");
                Assert.True(bad.Message.Contains("dict '"), "the message names the dict: " + bad.Message);
                Assert.Throws<InvalidJsonException>(() => d.SetJson("k", "1 2"), "trailing bytes");
                Assert.Throws<InvalidJsonException>(() => d.SetJson("k", ""), "empty text");
                Assert.Throws<InvalidJsonException>(() => d.SetJson("k", "\"a\0b\""), "a NUL in the text");
                Assert.Throws<InvalidJsonException>(() => d.CompareAndSetJson("k", "{bad", "3"), "malformed expected");
                Assert.Throws<InvalidJsonException>(() => d.CompareAndSetJson("k", "1", "[1,"), "malformed desired");
                Assert.Throws<InvalidJsonException>(() => d.CompareAndSetJson("k", "", "3"), "empty expected is not absent");
                // bad keys
                Assert.Throws<PolyipcArgumentException>(() => d.Set("a\0b", 1), "a NUL in the key");
                Assert.Throws<PolyipcArgumentException>(() => d.Set(new string('k', 4097), 1), "a key over 4096 bytes");
                Assert.Throws<ArgumentException>(() => d.Set("\uD800", 1), "a lone surrogate is no UTF-8");
                Assert.Equal("{\"k\":1}", d.ItemsJson(), "nothing changed");
            }
        }

        [Test]
        public void FullTooLargeAndOptions()
        {
            using (var d = NewDict("full", new DictOptions { MaxItems = 3, CapacityBytes = 1024 }))
            {
                d.Set("a", 1);
                d.Set("b", 2);
                d.Set("c", 3);
                var full = Assert.Throws<QueueFullException>(() => d.Set("d", 4), "max_items reached");
                Assert.Equal(Status.Full, full.Status, "status Full");
                Assert.Throws<QueueFullException>(() => d.TryAdd("d", 4), "TryAdd of a 4th key");
                d.Set("c", 33); // replacing is not adding
                string big = new string('x', 700);
                d.Set("a", big);
                full = Assert.Throws<QueueFullException>(() => d.Set("b", big), "no room for a second big value");
                Assert.True(full.Message.Contains("room"), "the message says why: " + full.Message);
                var huge = Assert.Throws<MessageTooLargeException>(() => d.Set("b", new string('x', 2000)), "can never fit");
                Assert.Equal(Status.TooLarge, huge.Status, "status TooLarge");
                Assert.Equal("{\"b\":2,\"c\":33,\"a\":\"" + big + "\"}", d.ItemsJson(), "nothing lost");
            }
        }

        [Test]
        public void UseAfterDisposeAndOtherKindsAndOpenModes()
        {
            var d = NewDict("closed");
            d.Set("k", 1);
            d.Dispose();
            d.Dispose(); // idempotent
            Assert.Throws<ObjectDisposedException>(() => d.Set("k", 2), "Set after Dispose");
            Assert.Throws<ObjectDisposedException>(() => d.GetJson("k"), "GetJson after Dispose");
            Assert.Throws<ObjectDisposedException>(() => d.Remove("k"), "Remove after Dispose");
            Assert.Throws<ObjectDisposedException>(() => d.CompareAndSet("k", 1, 2), "CompareAndSet after Dispose");
            Assert.Throws<ObjectDisposedException>(() => { var n = d.Count; }, "Count after Dispose");
            Assert.Throws<ObjectDisposedException>(() => { var k = d.Keys; }, "Keys after Dispose");
            Assert.Throws<ObjectDisposedException>(() => d.ItemsJson(), "ItemsJson after Dispose");
            Assert.Throws<ObjectDisposedException>(() => d.Clear(), "Clear after Dispose");
            Assert.Throws<ObjectDisposedException>(() => d.ToList(), "enumerating after Dispose");
            using (var again = Dict.Open(d.Name, new DictOptions { OpenMode = OpenMode.OpenOnly }))
                Assert.Equal(1, again.Get<int>("k"), "Dispose never unlinks");

            using (var q = NewQueue("aqueue"))
            {
                var e = Assert.Throws<IncompatibleException>(() => Dict.Open(q.Name), "a queue under the name");
                Assert.True(e.Message.Contains("queue"), "the message names the kind: " + e.Message);
            }
            Assert.Throws<NotFoundException>(() => Dict.Open(NewName("none"), new DictOptions { OpenMode = OpenMode.OpenOnly }), "OpenOnly of no dict");
            string name = NewName("created");
            using (Dict.Open(name, new DictOptions { OpenMode = OpenMode.CreateOnly }))
                Assert.Throws<AlreadyExistsException>(() => Dict.Open(name, new DictOptions { OpenMode = OpenMode.CreateOnly }), "CreateOnly of an existing dict");
            Assert.Throws<PolyipcArgumentException>(() => Dict.Open("a/b"), "a bad name");
            Assert.Throws<ArgumentNullException>(() => Dict.Open(null), "a null name");
            Assert.Throws<ArgumentOutOfRangeException>(() => Dict.Open(NewName("neg"), new DictOptions { MaxItems = -1 }), "negative MaxItems");
            Assert.Throws<ArgumentOutOfRangeException>(() => Dict.Open(NewName("neg"), new DictOptions { CapacityBytes = -1 }), "negative CapacityBytes");
            Assert.Throws<PolyipcArgumentException>(() => Dict.Open(NewName("tiny"), new DictOptions { CapacityBytes = 16 }), "capacity too small");
        }

        // ---- real processes ------------------------------------------------------------------------

        [Test]
        public void ChildProcessesIncrementOneCounterByCompareAndSetExactly()
        {
            using (var d = NewDict("counter"))
            {
                const int n = 20000;
                string barrier = NewName("start");
                var children = Enumerable.Range(0, 2).Select(_ => StartChild("dict-increment", d.Name, n.ToString(), barrier, "3")).ToList();
                // All three start together (a barrier, not a sleep); this process increments with the
                // raw compare-and-set loop, the children with AddOrUpdate.
                using (var start = Barrier.Open(barrier, 3)) start.SignalAndWait(Limit);
                for (int i = 0; i < n; i++)
                {
                    for (;;)
                    {
                        string found = d.GetJson("counter");
                        string next = found == null ? "1" : (long.Parse(found) + 1).ToString();
                        if (d.CompareAndSetJson("counter", found, next)) break;
                    }
                }
                foreach (var c in children)
                {
                    Assert.Equal("incremented " + n, ReadLine(c, Limit), "the child's report");
                    WaitExit(c, Limit);
                }
                Assert.Equal(3L * n, d.Get<long>("counter"), "every increment of three processes counted");
                var stat = JObject.Parse(d.StatJson());
                Console.WriteLine("  ({0} compare-and-sets lost to another process and retried)", (long)stat["counters"]["gets"] - (long)stat["counters"]["sets"]);
            }
        }

        [Test]
        public void AChildKilledWhileSettingLeavesAUsableDict()
        {
            using (var d = NewDict("killed", new DictOptions { CapacityBytes = 16 * 1024 }))
            {
                for (int round = 0; round < 5; round++)
                {
                    var child = StartChild("dict-set-loop", d.Name);
                    // Killed at a moment that differs from round to round: after 100, 300, ... 900 sets.
                    string want = "set " + (100 + 200 * round);
                    for (string line = ReadLine(child, Limit); line != want; line = ReadLine(child, Limit))
                        Assert.True(line != null && line.StartsWith("set "), "the child's progress: " + line);
                    Kill9(child, Limit); // SIGKILL, mid-loop: maybe mid-set

                    // Every value present is complete: {"i": i, "pad": "p" x (i % 97)} under its key.
                    JObject items = d.Items();
                    Assert.True(items.Count >= 1 && items.Count <= 16, "round " + round + ": " + items.Count + " keys");
                    foreach (var p in items.Properties())
                    {
                        Assert.True(p.Name.StartsWith("k-" + Emoji + "-"), "a key the child set: " + p.Name);
                        long i = (long)p.Value["i"];
                        Assert.Equal(p.Name, "k-" + Emoji + "-" + (i % 16), "the key matches its value");
                        Assert.Equal(new string('p', (int)(i % 97)), (string)p.Value["pad"], "a complete value");
                    }
                    Assert.Equal((long)items.Count, d.Count, "Count agrees with Items");
                    // ... and the dict takes writes and reads as before.
                    d.Set("parent", round);
                    Assert.Equal(round, d.Get<int>("parent"), "the parent writes and reads");
                    Assert.True(d.CompareAndSet("parent", round, round + 1), "and compare-and-sets");
                    Assert.True(d.Remove("parent"), "and removes");
                }
                var stat = JObject.Parse(d.StatJson());
                Assert.True(stat["name"] != null, "stat after the kills: " + stat);
            }
        }
    }
}
