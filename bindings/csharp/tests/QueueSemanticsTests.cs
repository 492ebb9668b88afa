using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Threading;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace Polyipc.Tests
{
    public class Job
    {
        [JsonProperty("job")] public int Number { get; set; }
        [JsonProperty("from")] public string From { get; set; }
        [JsonProperty("tags")] public List<string> Tags { get; set; }
    }

    public class QueueSemanticsTests : Scratch
    {
        private static readonly TimeSpan Short = TimeSpan.FromSeconds(5);

        [Test]
        public void FifoHandsOutInPutOrder()
        {
            using (var q = NewQueue("fifo"))
            {
                for (int i = 0; i < 5; i++) q.Put(i.ToString());
                for (int i = 0; i < 5; i++) Assert.Equal(i.ToString(), q.Take(Short));
            }
        }

        [Test]
        public void LifoHandsOutNewestFirst()
        {
            using (var q = NewQueue("lifo", new QueueOptions { Order = QueueOrder.Lifo }))
            {
                for (int i = 0; i < 5; i++) q.Put(i.ToString());
                for (int i = 4; i >= 0; i--) Assert.Equal(i.ToString(), q.Take(Short));
            }
        }

        [Test]
        public void PriorityHandsOutLowestFirstAndFifoAmongEquals()
        {
            using (var q = NewQueue("prio", new QueueOptions { Order = QueueOrder.Priority }))
            {
                q.Put("\"c1\"", 3);
                q.Put("\"a\"", 1);
                q.Put("\"c2\"", 3);
                q.PutObject("neg", -5);
                q.PutBytes(Encoding.UTF8.GetBytes("\"b\""), 2);
                var order = Enumerable.Range(0, 5).Select(_ => q.Take(Short)).ToArray();
                Assert.Equal("\"neg\",\"a\",\"b\",\"c1\",\"c2\"", string.Join(",", order), "priority order");
            }
        }

        [Test]
        public void BytesQueueCarriesAnyBytes()
        {
            using (var q = NewQueue("bytes", new QueueOptions { Format = MessageFormat.Bytes }))
            {
                var data = new byte[] { 0, 1, 0xff, 0xfe, 0x80, 0, (byte)'{' };
                q.PutBytes(data);
                q.PutBytes(new byte[0]);
                var big = new byte[200000];
                new Random(7).NextBytes(big);
                q.PutBytes(big);
                Assert.True(data.SequenceEqual(q.TakeBytes(Short)), "binary message round trip");
                Assert.Equal(0, q.TakeBytes(Short).Length, "empty message");
                Assert.True(big.SequenceEqual(q.TakeBytes(Short)), "200 kB message round trip");
                q.PutBytes(new byte[] { 0xff, 0xfe });
                var e = Assert.Throws<PolyipcException>(() => q.Take(Short), "Take of non-UTF-8 bytes");
                Assert.True(e.Message.Contains(q.Name), "message names the queue");
            }
        }

        [Test]
        public void ObjectsRoundTripThroughNewtonsoft()
        {
            using (var q = NewQueue("objects"))
            {
                q.PutObject(new Job { Number = 7, From = "csharp ünïcødé ✓", Tags = new List<string> { "a", "b" } });
                var raw = q.Take(Short);
                Assert.Equal(7, (int)JObject.Parse(raw)["job"], "job field as JSON");
                q.Put(raw);
                var job = q.Take<Job>(Short);
                Assert.Equal(7, job.Number);
                Assert.Equal("csharp ünïcødé ✓", job.From);
                Assert.Equal("a,b", string.Join(",", job.Tags));
                q.PutObject(new Dictionary<string, int> { { "x", 1 } });
                Dictionary<string, int> dict;
                Assert.True(q.TryTake(out dict, Short) && dict["x"] == 1, "TryTake<T>");
                Assert.True(!q.TryTake(out dict, TimeSpan.Zero), "empty afterwards");
                Assert.True(dict == null, "default on false");
            }
        }

        [Test]
        public void CountFollowsTheDepth()
        {
            using (var q = NewQueue("count"))
            {
                Assert.Equal(0L, q.Count);
                q.Put("1");
                q.Put("2");
                Assert.Equal(2L, q.Count);
                q.Take(Short);
                Assert.Equal(1L, q.Count);
            }
        }

        [Test]
        public void MaxItemsBoundsTheQueue()
        {
            using (var q = NewQueue("maxitems", new QueueOptions { MaxItems = 2 }))
            {
                q.Put("1");
                q.Put("2");
                Assert.True(!q.TryPut("3", TimeSpan.Zero), "TryPut on a full queue");
                Assert.ThrowsExactly<QueueFullException>(() => q.Put("3", TimeSpan.Zero), "Put(zero) on a full queue");
                var e = Assert.ThrowsExactly<PolyipcTimeoutException>(() => q.Put("3", TimeSpan.FromMilliseconds(30)));
                Assert.Equal(Status.Timeout, e.Status);
                Assert.Equal("1", q.Take(Short));
                Assert.True(q.TryPut("3", TimeSpan.Zero), "room again after a take");
                Assert.Equal(2L, q.Count);
            }
        }

        [Test]
        public void CapacityBytesRejectsWhatCanNeverFit()
        {
            using (var q = NewQueue("capacity", new QueueOptions { Format = MessageFormat.Bytes, CapacityBytes = 4096 }))
            {
                var e = Assert.Throws<MessageTooLargeException>(() => q.PutBytes(new byte[8192], TimeSpan.Zero));
                Assert.Equal(Status.TooLarge, e.Status);
                Assert.Equal(0L, q.Count, "nothing was put");
                q.PutBytes(new byte[100]);
                Assert.Equal(1L, q.Count);
            }
        }

        [Test]
        public void CloseWritesEndsTheStreamAfterTheDrain()
        {
            using (var q = NewQueue("close"))
            {
                q.Put("1");
                q.Put("2");
                q.CloseWrites();
                Assert.Throws<QueueClosedException>(() => q.Put("3"), "put after CloseWrites");
                Assert.Equal("1", q.Take(Short));
                string s;
                Assert.True(q.TryTake(out s, Short) && s == "2", "drain");
                var e = Assert.Throws<QueueClosedException>(() => q.Take(), "take when closed and drained");
                Assert.Equal(Status.Closed, e.Status);
                Assert.Throws<QueueClosedException>(() => q.TryTake(out s, TimeSpan.Zero), "TryTake when closed");
            }
        }

        [Test]
        public void JoinWaitsForEveryTaskDone()
        {
            using (var q = NewQueue("join", QueueOptions.JoinableQueue()))
            {
                q.Join(TimeSpan.Zero); // nothing unfinished
                q.Put("1");
                q.Put("2");
                Assert.Throws<PolyipcTimeoutException>(() => q.Join(TimeSpan.FromMilliseconds(20)), "join with 2 unfinished");
                q.Take(Short);
                q.TaskDone();
                q.Take(Short);
                Assert.Throws<PolyipcTimeoutException>(() => q.Join(TimeSpan.Zero), "join with 1 unfinished");
                var joined = Spawn(() => q.Join(Short));
                q.TaskDone();
                JoinThread(joined, Short);
                q.Join(TimeSpan.Zero);
            }
        }

        [Test]
        public void TaskDoneAndJoinNeedAJoinableQueue()
        {
            using (var q = NewQueue("notjoinable"))
            {
                Assert.Throws<PolyipcException>(() => q.TaskDone(), "TaskDone");
                Assert.Throws<PolyipcException>(() => q.Join(TimeSpan.Zero), "Join");
            }
        }

        [Test]
        public void TaskDoneByMessageEndsThatLeaseAndPlainTaskDoneTheOldestLeft()
        {
            using (var q = NewQueue("donemsg", QueueOptions.JoinableQueue()))
            {
                q.Put("{\"job\":1}");
                q.Put("{\"job\":\"zwei \u00e9\"}");
                q.Put("\"drei \u00fc\"");
                string first = q.Take(Short), second = q.Take(Short), third = q.Take(Short);
                Assert.Equal("\"drei \u00fc\"", third);
                q.TaskDone(third);  // the 3rd (non-ASCII: its UTF-8 bytes are the message)
                q.TaskDone(first);  // then the 1st
                Assert.Throws<PolyipcTimeoutException>(() => q.Join(TimeSpan.Zero), "join while the 2nd is leased");
                var notHeld = Assert.Throws<PolyipcArgumentException>(() => q.TaskDone(first), "the 1st again");
                Assert.Equal(Status.InvalidArg, notHeld.Status);
                Assert.True(notHeld.Message.Contains(q.Name), "message names the queue: " + notHeld.Message);
                Assert.Throws<PolyipcArgumentException>(() => q.TaskDone("\"never put\""), "a message never taken");
                q.TaskDone();       // the plain form ends the one left: the 2nd
                q.Join(TimeSpan.Zero);
                var e = Assert.Throws<PolyipcArgumentException>(() => q.TaskDone(second), "the 2nd, already done");
                Assert.True(e.Message.Contains(q.Name), "message names the queue: " + e.Message);
                Assert.Throws<ArgumentNullException>(() => q.TaskDone((string)null), "null string");
                Assert.Throws<ArgumentNullException>(() => q.TaskDone((byte[])null), "null bytes");
            }
        }

        [Test]
        public void TaskDoneByBytesOnABytesQueue()
        {
            using (var q = NewQueue("donebytes", new QueueOptions { Joinable = true, Format = MessageFormat.Bytes }))
            {
                q.PutBytes(new byte[] { 0xff, 0x00, 0x01 });
                q.PutBytes(new byte[0]);
                q.PutBytes(new byte[] { 0xff, 0x00, 0x01 });
                byte[] a = q.TakeBytes(Short), empty = q.TakeBytes(Short), again = q.TakeBytes(Short);
                Assert.Equal(0, empty.Length);
                q.TaskDone(empty);  // an empty message is a message
                q.TaskDone(again);  // of two equal leases, one ends
                Assert.Throws<PolyipcTimeoutException>(() => q.Join(TimeSpan.Zero), "join with one leased");
                q.TaskDone(a);
                q.Join(TimeSpan.Zero);
                Assert.Throws<PolyipcArgumentException>(() => q.TaskDone(a), "no lease left");
                q.PutBytes(new byte[] { 7, 8, 9 });
                byte[] copy;
                using (var m = q.Borrow(Short)) copy = m.Span.ToArray();
                Assert.Throws<PolyipcTimeoutException>(() => q.Join(TimeSpan.Zero), "a released borrow is still leased");
                q.TaskDone(copy);   // a borrowed message, by its bytes
                q.Join(TimeSpan.Zero);
            }
            using (var plain = NewQueue("donenotjoinable"))
                Assert.Throws<PolyipcArgumentException>(() => plain.TaskDone("1"), "TaskDone(message) needs a joinable queue");
        }

        [Test]
        public void OpenModesAndOptionChecks()
        {
            string name = NewName("modes");
            Assert.Throws<NotFoundException>(() => Queue.Open(name, new QueueOptions { OpenMode = OpenMode.OpenOnly }), "OpenOnly of nothing");
            using (var q = Queue.Open(name, new QueueOptions { OpenMode = OpenMode.CreateOnly, Joinable = true, Order = QueueOrder.Lifo }))
            {
                Assert.Throws<AlreadyExistsException>(() => Queue.Open(name, new QueueOptions { OpenMode = OpenMode.CreateOnly, Joinable = true, Order = QueueOrder.Lifo }), "CreateOnly twice");
                var e = Assert.Throws<IncompatibleException>(() => Queue.Open(name), "open with other options");
                Assert.True(e.Message.Contains(name), "message names the queue: " + e.Message);
                q.Put("1");
                using (var other = Queue.Open(name, new QueueOptions { OpenMode = OpenMode.OpenOnly }))
                {
                    Assert.Equal(1L, other.Count, "OpenOnly attaches whatever the options");
                    Assert.Equal("1", other.Take(Short));
                    other.TaskDone();
                }
                Assert.True(JObject.Parse(q.StatJson())["order"].ToString() == "lifo", "stat shows the order");
            }
        }

        [Test]
        public void DisposeReleasesButNeverUnlinks()
        {
            string name = NewName("keep");
            using (var q = Queue.Open(name)) q.Put("42");
            GC.Collect();
            GC.WaitForPendingFinalizers();
            using (var q = Queue.Open(name, new QueueOptions { OpenMode = OpenMode.OpenOnly }))
                Assert.Equal("42", q.Take(Short), "the message outlived every handle");
        }

        [Test]
        public void UnlinkRemovesTheNameButHandlesKeepWorking()
        {
            using (var q = NewQueue("unlink"))
            {
                q.Put("1");
                Assert.True(Names.ListJson().Contains("\"" + q.Name + "\""), "ListJson shows the queue");
                Assert.True(Names.StatJson(q.Name).Contains("\"depth\":1"), "StatJson: " + Names.StatJson(q.Name));
                Assert.True(JArray.Parse(Names.PeekJson(q.Name, 10))[0]["message"].ToString() == "1", "PeekJson");
                q.Unlink();
                Assert.Throws<NotFoundException>(() => Names.Unlink(q.Name), "second unlink");
                Assert.True(!Names.TryUnlink(q.Name), "TryUnlink of nothing");
                Assert.Throws<NotFoundException>(() => Queue.Open(q.Name, new QueueOptions { OpenMode = OpenMode.OpenOnly }), "open after unlink");
                q.Put("2");
                Assert.Equal("1", q.Take(Short));
                Assert.Equal("2", q.Take(Short));
            }
        }

        [Test]
        public void ManyThreadsShareOneHandle()
        {
            const int producers = 4, perProducer = 500;
            using (var q = NewQueue("threads", new QueueOptions { MaxItems = 64 }))
            {
                var seen = new int[producers * perProducer];
                var threads = new List<Thread>();
                for (int p = 0; p < producers; p++)
                {
                    int first = p * perProducer;
                    threads.Add(Spawn(() => { for (int i = 0; i < perProducer; i++) q.Put((first + i).ToString(), Short); }));
                }
                int taken = 0;
                for (int c = 0; c < 3; c++)
                {
                    threads.Add(Spawn(() =>
                    {
                        while (Interlocked.Increment(ref taken) <= seen.Length)
                            Interlocked.Increment(ref seen[int.Parse(q.Take(Short))]);
                    }));
                }
                foreach (var t in threads) JoinThread(t, TimeSpan.FromSeconds(30));
                Assert.True(seen.All(n => n == 1), "every message taken exactly once");
                Assert.Equal(0L, q.Count);
            }
        }
    }
}
