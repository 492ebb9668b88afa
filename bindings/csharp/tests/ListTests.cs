using System;
using System.Collections.Generic;
using System.Linq;
using Newtonsoft.Json.Linq;

namespace Polyipc.Tests
{
    /// <summary>List: semantics, bad input, and real processes (PolyipcTestChild.exe, kill -9).</summary>
    public class ListTests : Scratch
    {
        private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);
        private const string Emoji = "\U0001F600"; // outside the BMP: a surrogate pair in C#, 4 bytes in UTF-8

        public class Point
        {
            public int X { get; set; }
            public int Y { get; set; }
        }

        private List NewList(string label, ListOptions options = null)
        {
            return List.Open(NewName(label), options);
        }

        private static string Ints(List l)
        {
            return string.Join(",", l.Snapshot<long>());
        }

        [Test]
        public void AddGetSetCountItemsClear()
        {
            using (var l = NewList("basic"))
            {
                Assert.Equal(0L, l.Count, "empty");
                Assert.Equal("[]", l.ItemsJson(), "no items");
                l.AddJson("{\"x\": [1, 2]}");
                l.Add(new Point { X = 1, Y = 2 });
                l.Add(null);
                l.Add("text");
                Assert.Equal(4L, l.Count, "four values");
                Assert.Equal("{\"x\": [1, 2]}", l.GetJson(0), "the text as given");
                Assert.Equal("{\"X\":1,\"Y\":2}", l.GetJson(1), "Newtonsoft's text");
                Assert.Equal(2, l.Get<Point>(1).Y, "Get<T>");
                Assert.Equal("null", l.GetJson(2), "C# null is JSON null");
                Assert.Equal("text", l.Get<string>(-1), "-1: the last");
                Assert.Equal(1, l.Get<Point>(-3).X, "-3 counts from the end");
                Assert.Equal("{\"x\": [1, 2]}", l.GetJson(-4), "-Count: the first");
                Assert.Equal(2L, (long)l[0]["x"][1], "the indexer");

                l.Set(0, 10);
                l.SetJson(-1, "\"last\"");
                l[2] = new JArray(1, 2);
                Assert.Equal(10, l.Get<int>(0), "Set");
                Assert.Equal("last", l.Get<string>(3), "SetJson at -1");
                Assert.Equal("[1,2]", l.GetJson(2), "the indexer sets");
                Assert.True(JToken.DeepEquals(JArray.Parse("[10,{\"X\":1,\"Y\":2},[1,2],\"last\"]"), l.Items()), "items: " + l.ItemsJson());
                Assert.Equal(4, l.Count(), "the enumerator (a snapshot)");
                Assert.Equal("last", (string)l.Last(), "an enumerated value");
                l.AddRange(new object[] { 5, "six" });
                Assert.Equal(6L, l.Count, "AddRange");

                using (var other = List.Open(l.Name, new ListOptions { OpenMode = OpenMode.OpenOnly }))
                {
                    Assert.Equal("\"six\"", other.GetJson(-1), "a second handle sees the values");
                    other.Clear();
                }
                Assert.Equal(0L, l.Count, "and its changes are seen");
                l.Add(true);
                Assert.True(l.Get<bool>(0), "usable after clear");
                var stat = JObject.Parse(l.StatJson());
                Assert.Equal(l.Name, (string)stat["name"], "stat names the list: " + stat);
            }
        }

        [Test]
        public void InsertAndPopAtFrontMiddleAndEnd()
        {
            using (var l = NewList("insert"))
            {
                l.Insert(0, 2);         // into an empty list
                l.Insert(0, 0);         // front
                l.Insert(1, 1);         // middle
                l.Insert(3, 4);         // index == Count: the end
                l.Insert(-1, 3);        // before the last
                Assert.Equal("0,1,2,3,4", Ints(l), "inserted");
                l.Insert(100, 6);       // past the end appends
                l.Insert(-100, -1);     // before the start prepends
                l.InsertJson(-1, "5");
                Assert.Equal("-1,0,1,2,3,4,5,6", Ints(l), "Python's list.insert");

                Assert.Equal(6L, l.Pop<long>(), "pop: the last by default");
                Assert.Equal(-1L, l.Pop<long>(0), "pop at the front");
                Assert.Equal("3", l.PopJson(3), "pop in the middle");
                Assert.Equal("4", l.PopJson(-2), "pop at -2");
                Assert.Equal("0,1,2,5", Ints(l), "what is left");
                l.RemoveAt(1);
                Assert.Equal("0,2,5", Ints(l), "RemoveAt");
                Assert.Equal(5L, l.Pop<long>(-1), "pop -1");
                Assert.Equal(0L, l.Pop<long>(-2), "pop -Count");
                Assert.Equal(2L, l.Pop<long>(), "the last one");
                Assert.Equal(0L, l.Count, "empty again");
                var empty = Assert.Throws<QueueEmptyException>(() => l.PopJson(), "pop of an empty list");
                Assert.Equal(Status.Empty, empty.Status, "status Empty");
                Assert.Throws<QueueEmptyException>(() => l.Pop<int>(0), "pop 0 of an empty list");
            }
        }

        [Test]
        public void UnicodeValuesRoundTripAsUtf8()
        {
            using (var l = NewList("unicode"))
            {
                l.Add("value " + Emoji);
                l.AddJson("\"" + Emoji + "ü\"");
                l.Insert(0, new[] { Emoji, "中文" });
                Assert.Equal(Emoji, l.Get<string[]>(0)[0], "an array with a non-BMP character");
                Assert.Equal("value " + Emoji, l.Get<string>(1), "a string");
                Assert.Equal("\"" + Emoji + "ü\"", l.GetJson(2), "the raw text");
                Assert.Equal("value " + Emoji, (string)l.Items()[1], "items");
                l.Set(1, "κ" + Emoji);
                Assert.Equal("κ" + Emoji, l.Pop<string>(1), "set and pop");
            }
        }

        [Test]
        public void BadInputIsRefusedAndChangesNothing()
        {
            using (var l = NewList("bad"))
            {
                l.Add(1);
                Assert.Throws<ArgumentNullException>(() => l.AddJson(null), "null JSON text: AddJson");
                Assert.Throws<ArgumentNullException>(() => l.InsertJson(0, null), "null JSON text: InsertJson");
                Assert.Throws<ArgumentNullException>(() => l.SetJson(0, null), "null JSON text: SetJson");
                Assert.Throws<ArgumentNullException>(() => l.AddRange(null), "null AddRange");
                Assert.Throws<ArgumentException>(() => l.Add(Dict.Absent), "Absent is not a value");
                var bad = Assert.Throws<InvalidJsonException>(() => l.AddJson("{\"a\":"), "malformed");
                Assert.Equal(Status.InvalidJson, bad.Status, "status");
                Assert.True(bad.Message.Contains("list '"), "the message names the list: " + bad.Message);
                Assert.Throws<InvalidJsonException>(() => l.AddJson("1 2"), "trailing bytes");
                Assert.Throws<InvalidJsonException>(() => l.AddJson(""), "empty text");
                Assert.Throws<InvalidJsonException>(() => l.AddJson("\"a\0b\""), "a NUL in the text");
                Assert.Throws<InvalidJsonException>(() => l.InsertJson(0, "[1,"), "malformed insert");
                Assert.Throws<InvalidJsonException>(() => l.SetJson(0, "nope"), "malformed set");
                Assert.Throws<ArgumentException>(() => l.AddJson("\"\uD800\""), "a lone surrogate is no UTF-8");
                // out of range: [-Count, Count)
                var oor = Assert.Throws<PolyipcOutOfRangeException>(() => l.GetJson(1), "get at Count");
                Assert.Equal(Status.OutOfRange, oor.Status, "status OutOfRange");
                Assert.True(oor is PolyipcArgumentException, "still a PolyipcArgumentException, as before 0.7.0");
                Assert.True(oor.Message.Contains("range"), "the message says why: " + oor.Message);
                Assert.Throws<PolyipcArgumentException>(() => l.GetJson(-2), "get at -Count-1");
                Assert.Throws<PolyipcOutOfRangeException>(() => l.Set(5, 1), "set out of range");
                Assert.Throws<PolyipcArgumentException>(() => l.SetJson(-2, "1"), "set at -Count-1");
                Assert.Throws<PolyipcOutOfRangeException>(() => l.PopJson(1), "pop out of range");
                Assert.Throws<PolyipcArgumentException>(() => l.Pop<int>(-2), "pop at -Count-1");
                Assert.Throws<PolyipcArgumentException>(() => { var v = l[long.MaxValue]; }, "the indexer, far out");
                Assert.Equal("[1]", l.ItemsJson(), "nothing changed");
            }
        }

        [Test]
        public void FullTooLargeAndOptions()
        {
            using (var l = NewList("full", new ListOptions { MaxItems = 3, CapacityBytes = 1024 }))
            {
                l.Add(1);
                l.Add(2);
                l.Add(3);
                var full = Assert.Throws<QueueFullException>(() => l.Add(4), "max_items reached");
                Assert.Equal(Status.Full, full.Status, "status Full");
                Assert.Throws<QueueFullException>(() => l.Insert(0, 4), "insert of a 4th value");
                l.Set(2, 33); // replacing is not adding
                string big = new string('x', 700);
                l.Set(0, big);
                l.Pop<int>(1);
                full = Assert.Throws<QueueFullException>(() => l.Add(big), "no room for a second big value");
                var huge = Assert.Throws<MessageTooLargeException>(() => l.Add(new string('x', 2000)), "can never fit");
                Assert.Equal(Status.TooLarge, huge.Status, "status TooLarge");
                Assert.Equal("[\"" + big + "\",33]", l.ItemsJson(), "nothing lost");
            }
        }

        [Test]
        public void UseAfterDisposeAndOtherKindsAndOpenModes()
        {
            var l = NewList("closed");
            l.Add(1);
            l.Dispose();
            l.Dispose(); // idempotent
            Assert.Throws<ObjectDisposedException>(() => l.Add(2), "Add after Dispose");
            Assert.Throws<ObjectDisposedException>(() => l.AddJson("2"), "AddJson after Dispose");
            Assert.Throws<ObjectDisposedException>(() => l.Insert(0, 2), "Insert after Dispose");
            Assert.Throws<ObjectDisposedException>(() => l.GetJson(0), "GetJson after Dispose");
            Assert.Throws<ObjectDisposedException>(() => l.Set(0, 2), "Set after Dispose");
            Assert.Throws<ObjectDisposedException>(() => l.PopJson(), "PopJson after Dispose");
            Assert.Throws<ObjectDisposedException>(() => { var n = l.Count; }, "Count after Dispose");
            Assert.Throws<ObjectDisposedException>(() => l.ItemsJson(), "ItemsJson after Dispose");
            Assert.Throws<ObjectDisposedException>(() => l.Clear(), "Clear after Dispose");
            Assert.Throws<ObjectDisposedException>(() => l.StatJson(), "StatJson after Dispose");
            Assert.Throws<ObjectDisposedException>(() => l.ToList(), "enumerating after Dispose");
            using (var again = List.Open(l.Name, new ListOptions { OpenMode = OpenMode.OpenOnly }))
                Assert.Equal(1, again.Get<int>(0), "Dispose never unlinks");

            using (var d = Dict.Open(NewName("adict")))
            {
                var e = Assert.Throws<IncompatibleException>(() => List.Open(d.Name), "a dict under the name");
                Assert.True(e.Message.Contains("dict"), "the message names the kind: " + e.Message);
            }
            using (var q = NewQueue("aqueue"))
                Assert.Throws<IncompatibleException>(() => List.Open(q.Name), "a queue under the name");
            using (var l2 = NewList("notadict"))
                Assert.Throws<IncompatibleException>(() => Dict.Open(l2.Name), "a list is no dict");
            Assert.Throws<NotFoundException>(() => List.Open(NewName("none"), new ListOptions { OpenMode = OpenMode.OpenOnly }), "OpenOnly of no list");
            string name = NewName("created");
            using (List.Open(name, new ListOptions { OpenMode = OpenMode.CreateOnly }))
                Assert.Throws<AlreadyExistsException>(() => List.Open(name, new ListOptions { OpenMode = OpenMode.CreateOnly }), "CreateOnly of an existing list");
            Assert.Throws<PolyipcArgumentException>(() => List.Open("a/b"), "a bad name");
            Assert.Throws<ArgumentNullException>(() => List.Open(null), "a null name");
            Assert.Throws<ArgumentOutOfRangeException>(() => List.Open(NewName("neg"), new ListOptions { MaxItems = -1 }), "negative MaxItems");
            Assert.Throws<ArgumentOutOfRangeException>(() => List.Open(NewName("neg"), new ListOptions { CapacityBytes = -1 }), "negative CapacityBytes");
        }

        [Test]
        public void ThreadsAppendingLoseNothing()
        {
            using (var l = NewList("threads"))
            {
                const int n = 300;
                var threads = Enumerable.Range(0, 3).Select(t => Spawn(() =>
                {
                    for (int i = 0; i < n; i++) l.Add(new { t = t, i = i });
                })).ToList();
                foreach (var t in threads) JoinThread(t, Limit);
                Assert.Equal(3L * n, l.Count, "every append counted");
            }
        }

        // ---- real processes ------------------------------------------------------------------------

        [Test]
        public void TwoChildrenAppendConcurrentlyAndKeepTheirOrder()
        {
            using (var l = NewList("append", new ListOptions { MaxItems = 10000 }))
            {
                const int n = 3000;
                string barrier = NewName("start");
                var children = new[] { "a", "b" }.Select(tag => StartChild("list-append", l.Name, n.ToString(), tag, barrier, "3")).ToList();
                using (var start = Barrier.Open(barrier, 3)) start.SignalAndWait(Limit);
                foreach (var c in children)
                {
                    Assert.Equal("appended " + n, ReadLine(c, Limit), "the child's report");
                    WaitExit(c, Limit);
                }
                JArray items = l.Items();
                Assert.Equal(2 * n, items.Count, "nothing lost");
                var next = new Dictionary<string, long> { { "a", 0 }, { "b", 0 } };
                int switches = 0;
                string prev = null;
                foreach (JToken v in items)
                {
                    string from = (string)v["from"];
                    Assert.True(next.ContainsKey(from), "a child's value: " + v);
                    Assert.Equal(next[from], (long)v["seq"], "child " + from + "'s values in order");
                    next[from]++;
                    if (prev != null && prev != from) switches++;
                    prev = from;
                }
                Assert.Equal((long)n, next["a"], "all of a");
                Assert.Equal((long)n, next["b"], "all of b");
                Console.WriteLine("  ({0} switches between the children)", switches);
            }
        }

        [Test]
        public void AChildKilledWhileAppendingAndPoppingLeavesAUsableList()
        {
            using (var l = NewList("killed", new ListOptions { MaxItems = 100000 })) // 1 MiB: room for every round's values
            {
                for (int round = 0; round < 4; round++)
                {
                    var child = StartChild("list-loop", l.Name);
                    string want = "round " + (100 + 200 * round);
                    for (string line = ReadLine(child, Limit); line != want; line = ReadLine(child, Limit))
                        Assert.True(line != null && line.StartsWith("round "), "the child's progress: " + line);
                    Kill9(child, Limit); // SIGKILL, mid-loop: maybe mid-append or mid-pop

                    // Every value present is complete: {"i": i, "pad": "p" x (i % 97)}.
                    JArray items = l.Items();
                    Assert.True(items.Count >= 1, "round " + round + ": " + items.Count + " values");
                    foreach (JToken v in items)
                    {
                        long i = (long)v["i"];
                        Assert.Equal(new string('p', (int)(i % 97)), (string)v["pad"], "a complete value");
                    }
                    Assert.Equal((long)items.Count, l.Count, "Count agrees with Items");
                    // ... and the list takes writes and reads as before.
                    l.Insert(0, "front");
                    l.Add("parent");
                    Assert.Equal("parent", l.Pop<string>(), "the parent appends and pops");
                    Assert.Equal("front", l.Pop<string>(0), "and inserts and pops at the front");
                    l.Set(-1, new { i = 0, pad = "" });
                    if (round % 2 == 1) l.Clear();
                }
                var stat = JObject.Parse(l.StatJson());
                Assert.True(stat["name"] != null, "stat after the kills: " + stat);
            }
        }
    }
}
