using System;
using System.Diagnostics;
using System.Threading;

namespace Polyipc.Tests
{
    /// <summary>
    /// Dict and List: Version and WaitChange (watching for a change), in this process and with a
    /// real child process (PolyipcTestChild.exe) making the change. No sleep synchronises anything:
    /// the child starts at a Barrier or reports on stdout, and every wait is bounded.
    /// </summary>
    public class WatchTests : Scratch
    {
        private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);

        private Dict NewDict(string label)
        {
            return Dict.Open(NewName(label));
        }

        private List NewList(string label)
        {
            return List.Open(NewName(label));
        }

        // ---- Version ------------------------------------------------------------------------------

        [Test]
        public void DictVersionCountsChangesNotReadsOrMisses()
        {
            using (var d = NewDict("dversion"))
            {
                Assert.Equal(0UL, d.Version, "a new dict");
                d.Set("a", 1);
                Assert.Equal(1UL, d.Version, "a set");
                // reads change nothing
                d.GetJson("a");
                d.GetJson("missing");
                d.ContainsKey("a");
                var n = d.Count;
                var k = d.Keys;
                d.ItemsJson();
                d.StatJson();
                Assert.Equal(1UL, d.Version, "reads");
                d.Set("a", 2);
                Assert.Equal(2UL, d.Version, "a set of an existing key");
                Assert.True(!d.Remove("missing"), "a missing key");
                Assert.Equal(2UL, d.Version, "a delete of a missing key is no change");
                Assert.True(!d.CompareAndSet("a", 7, 8), "no match");
                Assert.True(!d.TryAdd("a", 9), "present");
                Assert.Equal(2UL, d.Version, "compare-and-sets that did not swap are no change");
                Assert.True(d.CompareAndSet("a", 2, 3), "a match");
                Assert.Equal(3UL, d.Version, "a compare-and-set that swapped");
                d.Set("b", true);
                Assert.True(d.Remove("b"), "present");
                Assert.Equal(5UL, d.Version, "a set, then a delete that found its key");
                Assert.Throws<InvalidJsonException>(() => d.SetJson("a", "{bad"), "malformed");
                Assert.Equal(5UL, d.Version, "a refused set is no change");
                d.Clear();
                Assert.Equal(6UL, d.Version, "a clear");
                using (var other = Dict.Open(d.Name, new DictOptions { OpenMode = OpenMode.OpenOnly }))
                {
                    Assert.Equal(6UL, other.Version, "another handle sees the same version");
                    other.Set("c", 1);
                }
                Assert.Equal(7UL, d.Version, "and its changes count");
            }
        }

        [Test]
        public void ListVersionCountsChangesNotReadsOrMisses()
        {
            using (var l = NewList("lversion"))
            {
                Assert.Equal(0UL, l.Version, "a new list");
                l.Add(1);
                l.AddJson("2");
                Assert.Equal(2UL, l.Version, "two appends");
                // reads and failed calls change nothing
                l.GetJson(0);
                var t = l[-1];
                var n = l.Count;
                l.ItemsJson();
                l.StatJson();
                Assert.Throws<PolyipcArgumentException>(() => l.GetJson(5), "out of range");
                Assert.Throws<PolyipcArgumentException>(() => l.Set(5, 0), "out of range");
                Assert.Throws<InvalidJsonException>(() => l.AddJson("[1,"), "malformed");
                Assert.Equal(2UL, l.Version, "reads and refused calls");
                l.Insert(0, 0);
                Assert.Equal(3UL, l.Version, "an insert");
                l.Set(1, 10);
                Assert.Equal(4UL, l.Version, "a set");
                Assert.Equal(2L, l.Pop<long>(), "the last");
                Assert.Equal(5UL, l.Version, "a pop");
                l.RemoveAt(0);
                Assert.Equal(6UL, l.Version, "a RemoveAt (a pop)");
                l.Clear();
                Assert.Equal(7UL, l.Version, "a clear");
                Assert.Throws<QueueEmptyException>(() => l.PopJson(), "empty");
                Assert.Equal(7UL, l.Version, "a pop of an empty list is no change");
                using (var other = List.Open(l.Name, new ListOptions { OpenMode = OpenMode.OpenOnly }))
                {
                    Assert.Equal(7UL, other.Version, "another handle sees the same version");
                    other.Add("x");
                }
                Assert.Equal(8UL, l.Version, "and its changes count");
            }
        }

        // ---- WaitChange in one process -------------------------------------------------------------

        /// <summary>The timeouts of WaitChange on any handle: `version` reads it, `wait` waits, `change` makes one.</summary>
        private static void TimesOutAndReturnsAtOnce(string what, Func<ulong> version, Func<ulong, TimeSpan?, ulong> wait, Action change)
        {
            ulong seen = version();
            Assert.Equal(seen, wait(seen, TimeSpan.Zero), what + ": TimeSpan.Zero, no change: the seen version");
            var sw = Stopwatch.StartNew();
            Assert.Equal(seen, wait(seen, TimeSpan.FromMilliseconds(180)), what + ": a timeout of several slices, no change: the seen version");
            Assert.True(sw.ElapsedMilliseconds >= 170, what + ": it waited the timeout (" + sw.ElapsedMilliseconds + " ms)");
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(5), what + ": and no more (" + sw.ElapsedMilliseconds + " ms)");
            Assert.Equal(seen, version(), what + ": waiting is no change");

            change();
            sw.Restart();
            Assert.Equal(seen + 1, wait(seen, Limit), what + ": from an old version: the current one");
            Assert.Equal(seen + 1, wait(seen, null), what + ": forever, from an old version");
            Assert.Equal(seen + 1, wait(seen, TimeSpan.Zero), what + ": TimeSpan.Zero, from an old version");
            Assert.Equal(seen + 1, wait(seen, Timeout.InfiniteTimeSpan), what + ": InfiniteTimeSpan, from an old version");
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(5), what + ": at once (" + sw.ElapsedMilliseconds + " ms)");
            Assert.Equal(seen + 1, wait(seen + 1, TimeSpan.Zero), what + ": from the current version: no change yet");
            Assert.Throws<ArgumentOutOfRangeException>(() => wait(seen, TimeSpan.FromMilliseconds(-5)), what + ": a negative timeout");
        }

        [Test]
        public void DictWaitTimesOutWithTheSeenVersionAndReturnsAtOnceFromAnOldOne()
        {
            using (var d = NewDict("dwait"))
            {
                d.Set("a", 1);
                TimesOutAndReturnsAtOnce("dict", () => d.Version, (v, t) => d.WaitChange(v, t), () => d.Set("a", 2));
            }
        }

        [Test]
        public void ListWaitTimesOutWithTheSeenVersionAndReturnsAtOnceFromAnOldOne()
        {
            using (var l = NewList("lwait"))
            {
                TimesOutAndReturnsAtOnce("list", () => l.Version, (v, t) => l.WaitChange(v, t), () => l.Add(1));
            }
        }

        [Test]
        public void AThreadsChangeWakesAWaiterOnAnotherHandle()
        {
            using (var d = NewDict("dthread"))
            using (var l = NewList("lthread"))
            {
                ulong dv = d.Version, lv = l.Version;
                var writer = Spawn(() =>
                {
                    using (var d2 = Dict.Open(d.Name, new DictOptions { OpenMode = OpenMode.OpenOnly }))
                    using (var l2 = List.Open(l.Name, new ListOptions { OpenMode = OpenMode.OpenOnly }))
                    {
                        d2.Set("k", "v");
                        l2.Add("v");
                    }
                });
                Assert.True(d.WaitChange(dv, Limit) > dv, "the dict's waiter woke");
                Assert.True(l.WaitChange(lv, Limit) > lv, "the list's waiter woke");
                JoinThread(writer, Limit);
                Assert.Equal("v", d.Get<string>("k"), "the change is there to read");
            }
        }

        // ---- WaitChange with another process -------------------------------------------------------

        // The child makes its change after a 2-party Barrier that this process passes just before it
        // waits (the child's mono process then still has to run its increment, so this process is
        // in its wait almost always); or it has made the change and said so before this process
        // waits. Either way the wait returns with a newer version, well within its long timeout.

        [Test]
        public void DictChangedByAChildAfterTheWaitBeganWakesTheWaiter()
        {
            using (var d = NewDict("dchild-after"))
            {
                ulong seen = d.Version;
                string barrier = NewName("go");
                var child = StartChild("dict-increment", d.Name, "1", barrier, "2");
                using (var go = Barrier.Open(barrier, 2)) go.SignalAndWait(Limit);
                var sw = Stopwatch.StartNew();
                ulong now = d.WaitChange(seen, Limit);
                Assert.True(now > seen, "a newer version: " + now + " after " + seen);
                Assert.True(sw.Elapsed < Limit, "woken, not timed out (" + sw.ElapsedMilliseconds + " ms)");
                Console.WriteLine("  (woken after {0:0.0} ms)", sw.Elapsed.TotalMilliseconds);
                Assert.Equal(1L, d.Get<long>("counter"), "the child's change is there to read");
                Assert.Equal("incremented 1", ReadLine(child, Limit), "the child's report");
                WaitExit(child, Limit);
                Assert.Equal(seen + 1, d.Version, "one change (one compare-and-set that swapped)");
            }
        }

        [Test]
        public void DictChangedByAChildBeforeTheWaitReturnsAtOnce()
        {
            using (var d = NewDict("dchild-before"))
            {
                ulong seen = d.Version;
                var child = StartChild("dict-increment", d.Name, "3");
                Assert.Equal("incremented 3", ReadLine(child, Limit), "the child's report");
                WaitExit(child, Limit);
                var sw = Stopwatch.StartNew();
                Assert.Equal(seen + 3, d.WaitChange(seen, Limit), "three changes since the version read");
                Assert.True(sw.Elapsed < TimeSpan.FromSeconds(5), "at once (" + sw.ElapsedMilliseconds + " ms)");
                Assert.Equal(3L, d.Get<long>("counter"), "the child's changes");
            }
        }

        [Test]
        public void ListChangedByAChildAfterTheWaitBeganWakesTheWaiter()
        {
            using (var l = NewList("lchild-after"))
            {
                ulong seen = l.Version;
                string barrier = NewName("go");
                var child = StartChild("list-append", l.Name, "5", "child", barrier, "2");
                using (var go = Barrier.Open(barrier, 2)) go.SignalAndWait(Limit);
                var sw = Stopwatch.StartNew();
                ulong now = l.WaitChange(seen, Limit);
                Assert.True(now > seen, "a newer version: " + now + " after " + seen);
                Assert.True(sw.Elapsed < Limit, "woken, not timed out (" + sw.ElapsedMilliseconds + " ms)");
                Console.WriteLine("  (woken after {0:0.0} ms at version {1} of {2})", sw.Elapsed.TotalMilliseconds, now - seen, 5);
                Assert.True(l.Count >= 1, "the child's append is there to read");
                Assert.Equal("appended 5", ReadLine(child, Limit), "the child's report");
                WaitExit(child, Limit);
                Assert.Equal(seen + 5, l.Version, "five appends, five changes");
                // Waiting again from what the first wait returned: the rest of the appends, at once.
                if (now < seen + 5) Assert.Equal(seen + 5, l.WaitChange(now, TimeSpan.Zero), "the rest, from the returned version");
            }
        }

        [Test]
        public void ListChangedByAChildBeforeTheWaitReturnsAtOnce()
        {
            using (var l = NewList("lchild-before"))
            {
                ulong seen = l.Version;
                var child = StartChild("list-append", l.Name, "4", "child");
                Assert.Equal("appended 4", ReadLine(child, Limit), "the child's report");
                WaitExit(child, Limit);
                var sw = Stopwatch.StartNew();
                Assert.Equal(seen + 4, l.WaitChange(seen, Limit), "four appends since the version read");
                Assert.True(sw.Elapsed < TimeSpan.FromSeconds(5), "at once (" + sw.ElapsedMilliseconds + " ms)");
                Assert.Equal(4L, l.Count, "the child's values");
            }
        }

        // ---- cancellation and closed handles -------------------------------------------------------

        [Test]
        public void CancellationEndsABlockedWaitPromptly()
        {
            using (var d = NewDict("dcancel"))
            using (var l = NewList("lcancel"))
            {
                ulong dv = d.Version, lv = l.Version;
                CancelsPromptly(ct => d.WaitChange(dv, null, ct), "dict, forever");
                CancelsPromptly(ct => d.WaitChange(dv, Limit, ct), "dict, a long timeout");
                CancelsPromptly(ct => l.WaitChange(lv, null, ct), "list, forever");
                CancelsPromptly(ct => l.WaitChange(lv, Limit, ct), "list, a long timeout");
                Assert.Equal(dv, d.Version, "nothing changed the dict");
                Assert.Equal(lv, l.Version, "nothing changed the list");
                using (var cancelled = new CancellationTokenSource())
                {
                    cancelled.Cancel();
                    Assert.Throws<OperationCanceledException>(() => d.WaitChange(dv, TimeSpan.Zero, cancelled.Token), "dict, cancelled before");
                    Assert.Throws<OperationCanceledException>(() => l.WaitChange(lv, TimeSpan.Zero, cancelled.Token), "list, cancelled before");
                }
            }
        }

        [Test]
        public void AClosedHandleIsAnError()
        {
            var d = NewDict("dclosed");
            var l = NewList("lclosed");
            ulong dv = d.Version, lv = l.Version;
            d.Dispose();
            l.Dispose();
            Assert.Throws<ObjectDisposedException>(() => { var v = d.Version; }, "dict: Version after Dispose");
            Assert.Throws<ObjectDisposedException>(() => d.WaitChange(dv, TimeSpan.Zero), "dict: WaitChange after Dispose");
            Assert.Throws<ObjectDisposedException>(() => d.WaitChange(dv, Limit), "dict: a long WaitChange after Dispose");
            Assert.Throws<ObjectDisposedException>(() => { var v = l.Version; }, "list: Version after Dispose");
            Assert.Throws<ObjectDisposedException>(() => l.WaitChange(lv, TimeSpan.Zero), "list: WaitChange after Dispose");
            Assert.Throws<ObjectDisposedException>(() => l.WaitChange(lv, Limit), "list: a long WaitChange after Dispose");
        }

        [Test]
        public void DisposeEndsAWaitOnAnotherThread()
        {
            var d = NewDict("ddispose");
            var l = NewList("ldispose");
            ulong dv = d.Version, lv = l.Version;
            Exception dictSaw = null, listSaw = null;
            var waiters = new[]
            {
                Spawn(() => { try { d.WaitChange(dv, Limit); } catch (Exception e) { dictSaw = e; } }),
                Spawn(() => { try { l.WaitChange(lv, Limit); } catch (Exception e) { listSaw = e; } }),
            };
            // Blocked by now or not yet begun: ObjectDisposedException either way, within a slice.
            var sw = Stopwatch.StartNew();
            d.Dispose();
            l.Dispose();
            foreach (var t in waiters) JoinThread(t, Limit);
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(5), "the waits ended " + sw.ElapsedMilliseconds + " ms after Dispose");
            Assert.True(dictSaw is ObjectDisposedException, "dict: ObjectDisposedException, not " + dictSaw);
            Assert.True(listSaw is ObjectDisposedException, "list: ObjectDisposedException, not " + listSaw);
        }
    }
}
