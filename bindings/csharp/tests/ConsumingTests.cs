using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Text;
using System.Threading;
using Newtonsoft.Json.Linq;

namespace Polyipc.Tests
{
    /// <summary>
    /// Queue.GetConsumingEnumerable / GetConsumingBytes: one blocking Take per step, ending
    /// normally at end of stream (CloseWrites and drained).
    /// </summary>
    public class ConsumingTests : Scratch
    {
        private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);

        /// <summary>A token that ends a loop that would otherwise hang (the bound of every loop here).</summary>
        private static CancellationTokenSource Bound()
        {
            var cts = new CancellationTokenSource();
            cts.CancelAfter(Limit);
            return cts;
        }

        private static string Json(int i)
        {
            return "{\"i\":" + i + "}";
        }

        // (1) another process puts N then closes: exactly those N, in FIFO order, then the end.

        [Test]
        public void AChildsMessagesAreConsumedInOrderUntilItClosesTheQueue()
        {
            // MaxItems 16: the child blocks on a full queue, so the loop also waits for puts.
            using (var q = NewQueue("consume.child", new QueueOptions { MaxItems = 16 }))
            using (var bound = Bound())
            {
                const int n = 300;
                var child = StartChild("produce", q.Name, n.ToString(), "--close");
                var seen = new List<int>();
                foreach (string m in q.GetConsumingEnumerable(bound.Token))
                {
                    var o = JObject.Parse(m);
                    Assert.Equal("csharp-child", (string)o["from"]);
                    seen.Add((int)o["i"]);
                }
                Assert.Equal("produced " + n, ReadLine(child, Limit));
                WaitExit(child, Limit);
                Assert.Equal(n, seen.Count, "message count");
                Assert.True(seen.SequenceEqual(Enumerable.Range(0, n)), "FIFO order: " + string.Join(",", seen.Take(20)));
                Assert.Throws<QueueClosedException>(() => q.Take(TimeSpan.Zero), "the queue is at end of stream");
            }
        }

        [Test]
        public void AChildsMessagesAreConsumedAsBytesUntilItClosesTheQueue()
        {
            using (var q = NewQueue("consume.childbytes", new QueueOptions { MaxItems = 16 }))
            using (var bound = Bound())
            {
                const int n = 200;
                var child = StartChild("produce", q.Name, n.ToString(), "--close");
                var seen = new List<int>();
                foreach (byte[] m in q.GetConsumingBytes(bound.Token))
                    seen.Add((int)JObject.Parse(Encoding.UTF8.GetString(m))["i"]);
                Assert.Equal("produced " + n, ReadLine(child, Limit));
                WaitExit(child, Limit);
                Assert.Equal(n, seen.Count, "message count");
                Assert.True(seen.SequenceEqual(Enumerable.Range(0, n)), "FIFO order");
            }
        }

        // (2) closed and drained: the loop ends at once with nothing.

        [Test]
        public void AClosedAndDrainedQueueEndsTheLoopAtOnce()
        {
            using (var q = NewQueue("consume.drained"))
            using (var bound = Bound())
            {
                q.Put("1");
                q.CloseWrites();
                Assert.Equal("1", q.Take(TimeSpan.Zero), "what was left before the close");
                var sw = Stopwatch.StartNew();
                Assert.Equal(0, q.GetConsumingEnumerable(bound.Token).Count(), "strings yielded");
                Assert.Equal(0, q.GetConsumingBytes(bound.Token).Count(), "byte[]s yielded");
                Assert.Equal(0, q.GetConsumingEnumerable().Count(), "strings yielded (no token)");
                Assert.True(sw.ElapsedMilliseconds < 1000, "ended at once, not after " + sw.ElapsedMilliseconds + " ms");
            }
        }

        [Test]
        public void AClosedQueueYieldsWhatIsLeftThenEnds()
        {
            using (var q = NewQueue("consume.left"))
            using (var bound = Bound())
            {
                for (int i = 0; i < 5; i++) q.Put(Json(i));
                q.CloseWrites();
                var got = q.GetConsumingEnumerable(bound.Token).ToList();
                Assert.True(got.SequenceEqual(Enumerable.Range(0, 5).Select(Json)), "the five, in order: " + string.Join(" ", got));
                Assert.Equal(0L, q.Count);
            }
        }

        // (3) break after k: the rest stays in the queue, the next get gets message k+1.

        [Test]
        public void BreakingOutOfTheLoopLeavesTheRestInTheQueue()
        {
            using (var q = NewQueue("consume.break"))
            using (var bound = Bound())
            {
                const int n = 10, k = 3;
                for (int i = 0; i < n; i++) q.Put(Json(i));
                var got = new List<string>();
                foreach (string m in q.GetConsumingEnumerable(bound.Token))
                {
                    got.Add(m);
                    if (got.Count == k) break;
                }
                Assert.True(got.SequenceEqual(Enumerable.Range(0, k).Select(Json)), "the first k");
                Assert.Equal((long)(n - k), q.Count, "nothing taken ahead");
                Assert.Equal(Json(k), q.Take(TimeSpan.Zero), "the next get gets message k+1");

                // The bytes loop too (LINQ's Take(2) disposes the enumerator after the 2nd).
                var bytes = q.GetConsumingBytes(bound.Token).Take(2).ToList();
                Assert.Equal(Json(k + 1), Encoding.UTF8.GetString(bytes[0]));
                Assert.Equal(Json(k + 2), Encoding.UTF8.GetString(bytes[1]));
                Assert.Equal((long)(n - k - 3), q.Count, "nothing taken ahead by the bytes loop");
                Assert.Equal(Json(k + 3), q.Take(TimeSpan.Zero), "the next get after the bytes loop");

                // A new loop over the same queue goes on from there to the end of stream.
                q.CloseWrites();
                var rest = q.GetConsumingEnumerable(bound.Token).ToList();
                Assert.True(rest.SequenceEqual(Enumerable.Range(k + 4, n - k - 4).Select(Json)), "the rest: " + string.Join(" ", rest));
            }
        }

        // (4) a joinable queue: each message is a lease; TaskDone each; Join returns.

        [Test]
        public void AJoinableQueueIsConsumedWithTaskDoneAndJoinReturns()
        {
            using (var q = NewQueue("consume.join", QueueOptions.JoinableQueue()))
            using (var bound = Bound())
            {
                const int n = 120;
                var producer = Spawn(() =>
                {
                    using (var p = Queue.Open(q.Name, new QueueOptions { OpenMode = OpenMode.OpenOnly }))
                    {
                        for (int i = 0; i < n; i++) p.Put(Json(i), Limit);
                        p.CloseWrites();
                    }
                });
                int count = 0;
                foreach (string m in q.GetConsumingEnumerable(bound.Token))
                {
                    Assert.Equal(Json(count), m, "message " + count);
                    if (count == 0)
                        Assert.Throws<PolyipcTimeoutException>(() => q.Join(TimeSpan.Zero), "join while the first lease is held");
                    if (count % 2 == 0) q.TaskDone(m); else q.TaskDone();
                    count++;
                }
                JoinThread(producer, Limit);
                Assert.Equal(n, count, "message count");
                q.Join(Limit); // every lease ended: returns
                Assert.Equal(0L, q.Count);
            }
        }

        [Test]
        public void AJoinableQueueIsConsumedAsBytesWithTaskDone()
        {
            using (var q = NewQueue("consume.joinbytes", new QueueOptions { Joinable = true, Format = MessageFormat.Bytes }))
            using (var bound = Bound())
            {
                for (int i = 0; i < 100; i++) q.PutBytes(new[] { (byte)i, (byte)(i * 7) });
                q.CloseWrites();
                int count = 0;
                foreach (byte[] m in q.GetConsumingBytes(bound.Token))
                {
                    Assert.True(m.Length == 2 && m[0] == (byte)count && m[1] == (byte)(count * 7), "message " + count);
                    q.TaskDone(m);
                    count++;
                }
                Assert.Equal(100, count, "message count");
                q.Join(Limit);
            }
        }

        // (5) cancellation ends a loop blocked on an empty queue: OperationCanceledException, promptly.

        [Test]
        public void CancellationEndsALoopBlockedOnAnEmptyQueue()
        {
            using (var q = NewQueue("consume.cancel"))
            {
                q.Put("1");
                q.Put("2");
                var got = new List<string>();
                // CancelsPromptly cancels the token 300 ms on (from a timer), when the loop has taken
                // both and waits on the empty queue, and checks that OperationCanceledException with
                // this token comes within 200 ms of the cancellation.
                CancelsPromptly(ct =>
                {
                    foreach (string m in q.GetConsumingEnumerable(ct)) got.Add(m);
                }, "foreach over GetConsumingEnumerable(ct)");
                Assert.True(got.SequenceEqual(new[] { "1", "2" }), "took the two before it blocked: " + string.Join(" ", got));

                CancelsPromptly(ct =>
                {
                    foreach (byte[] m in q.GetConsumingBytes(ct)) got.Add("bytes");
                }, "foreach over GetConsumingBytes(ct)");
                Assert.Equal(2, got.Count, "the bytes loop took nothing");

                q.Put("3");
                Assert.Equal("3", q.Take(TimeSpan.Zero), "a cancelled loop took nothing");
            }
        }

        [Test]
        public void AnAlreadyCancelledTokenTakesNothing()
        {
            using (var q = NewQueue("consume.precancelled"))
            using (var cts = new CancellationTokenSource())
            {
                q.Put("1");
                cts.Cancel();
                Assert.Throws<OperationCanceledException>(() => q.GetConsumingEnumerable(cts.Token).ToList(), "strings");
                Assert.Throws<OperationCanceledException>(() => q.GetConsumingBytes(cts.Token).ToList(), "bytes");
                Assert.Equal(1L, q.Count, "nothing taken");
            }
        }

        [Test]
        public void ADisposedQueueThrowsRatherThanEndingTheLoop()
        {
            var q = NewQueue("consume.disposed");
            q.Put("1");
            q.Dispose();
            Assert.Throws<ObjectDisposedException>(() => q.GetConsumingEnumerable().ToList(), "strings");
            Assert.Throws<ObjectDisposedException>(() => q.GetConsumingBytes().ToList(), "bytes");
        }
    }
}
