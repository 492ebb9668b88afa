using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Threading;
using Newtonsoft.Json.Linq;

namespace Polyipc.Tests
{
    /// <summary>Pipe, Connection and Connection.WaitAny within this process.</summary>
    public class PipeTests : Scratch
    {
        private static readonly TimeSpan Limit = TimeSpan.FromSeconds(20);

        private class Job
        {
            public int id = 0;
            public string from = null;
        }

        [Test]
        public void DuplexTextObjectsAndBytesBothWays()
        {
            using (var pipe = Pipe.Open(NewName("duplex")))
            {
                Connection a, b;
                pipe.Deconstruct(out a, out b);
                Assert.Equal(PipeEnd.A, a.End, "end A");
                a.Send("{\"hello\": \"w\u00f6rld\"}", Limit);
                Assert.Equal("{\"hello\": \"w\u00f6rld\"}", b.Receive(Limit), "text A -> B");
                b.SendObject(new Job { id = 7, from = "csharp" }, Limit);
                var job = a.ReceiveObject<Job>(Limit);
                Assert.True(job.id == 7 && job.from == "csharp", "object B -> A");

                // bytes: from a span, into a span; a buffer too short leaves the message
                byte[] msg = System.Text.Encoding.UTF8.GetBytes("[1,2,3,4,5,6,7,8,9,10]");
                a.SendBytes(new ReadOnlySpan<byte>(msg, 0, msg.Length), Limit);
                var small = new byte[4];
                var e = Assert.Throws<BufferTooShortException>(() => b.ReceiveInto(small, 0, Limit), "short buffer");
                Assert.Equal((long)msg.Length, e.RequiredLength, "needed length");
                Span<byte> big = new byte[64];
                int n = b.ReceiveInto(big, Limit);
                Assert.Equal(msg.Length, n, "received length");
                Assert.True(big.Slice(0, n).SequenceEqual(msg), "same bytes");

                // a message larger than the per-thread buffer (grown, then copied out)
                string large = "\"" + new string('x', 100000) + "\"";
                b.Send(large, Limit);
                Assert.Equal(large.Length, a.ReceiveBytes(Limit).Length, "large message");
                Assert.True(!a.Poll() && !b.Poll(), "nothing left");
                Assert.True(JObject.Parse(a.StatJson()) != null, "stat_json is a JSON object");
            }
        }

        [Test]
        public void OneWayPipeSendsOnlyFromAToB()
        {
            using (var pipe = Pipe.Open(NewName("oneway"), duplex: false))
            {
                pipe.A.Send("1", Limit);
                Assert.Throws<PolyipcArgumentException>(() => pipe.B.Send("2", Limit), "B cannot send");
                Assert.Throws<PolyipcArgumentException>(() => pipe.A.Receive(Limit), "A cannot receive");
                Assert.Equal("1", pipe.B.Receive(Limit), "B receives");
                Assert.Throws<IncompatibleException>(() => Connection.Open(pipe.A.Name, PipeEnd.B).Dispose(),
                    "a duplex open of a one-way pipe");
                using (var b2 = Connection.Open(pipe.A.Name, PipeEnd.B, new PipeOptions { OpenMode = OpenMode.OpenOnly }))
                {
                    pipe.A.Send("3", Limit);
                    Assert.Equal("3", b2.Receive(Limit), "a second handle of end B, attached whatever the options");
                }
            }
        }

        [Test]
        public void EndOfStreamOnceTheOtherEndIsClosedAndDrained()
        {
            string name = NewName("eof");
            var a = Connection.Open(name, PipeEnd.A);
            using (var b = Connection.Open(name, PipeEnd.B))
            {
                a.Send("1", Limit);
                a.Send("2", Limit);
                a.Dispose();
                a.Dispose(); // idempotent
                Assert.Throws<ObjectDisposedException>(() => a.Send("3"), "send after Dispose");
                Assert.Equal("1", b.Receive(Limit), "first");
                Assert.Equal("2", b.Receive(Limit), "what was sent is received first");
                Assert.True(b.Poll(), "Poll is true at end of stream");
                var sw = Stopwatch.StartNew();
                var e = Assert.Throws<EndOfStreamException>(() => b.Receive(Limit), "then end of stream");
                Assert.True(sw.ElapsedMilliseconds < 1000, "promptly");
                Assert.True(e.InnerException is QueueClosedException, "the native CLOSED inside");
                Assert.Throws<EndOfStreamException>(() => b.ReceiveBytes(TimeSpan.Zero), "again, zero timeout");
                Assert.Throws<BrokenPipeException>(() => b.Send("4", Limit), "send to a closed end");
            }
        }

        [Test]
        public void TimeoutsErrorsCancellationAndDispose()
        {
            using (var pipe = Pipe.Open(NewName("timeouts"), options: new PipeOptions { CapacityBytes = 4096 }))
            {
                Assert.Throws<PolyipcTimeoutException>(() => pipe.B.Receive(TimeSpan.Zero), "zero timeout, empty");
                var sw = Stopwatch.StartNew();
                Assert.Throws<PolyipcTimeoutException>(() => pipe.B.Receive(TimeSpan.FromMilliseconds(120)), "timeout");
                Assert.True(sw.ElapsedMilliseconds >= 110 && sw.ElapsedMilliseconds < 2000, "about 120 ms: " + sw.ElapsedMilliseconds);
                Assert.True(!pipe.B.Poll(TimeSpan.FromMilliseconds(60)), "poll times out");
                string s;
                Assert.True(!pipe.B.TryReceive(out s, TimeSpan.Zero), "TryReceive false");
                Assert.Throws<ArgumentOutOfRangeException>(() => pipe.B.Receive(TimeSpan.FromSeconds(-2)), "negative timeout");
                Assert.Throws<InvalidJsonException>(() => pipe.A.Send("{not json", Limit), "a JSON pipe validates");
                Assert.Throws<MessageTooLargeException>(() => pipe.A.Send("\"" + new string('x', 5000) + "\"", Limit), "too large");
                // fill the direction A -> B, then a zero-timeout send is Full and a timed one times out
                string chunk = "\"" + new string('y', 1000) + "\"";
                int sent = 0;
                while (pipe.A.TrySendForTest(chunk)) sent++;
                Assert.True(sent >= 2, "some fit: " + sent);
                Assert.Throws<QueueFullException>(() => pipe.A.Send(chunk, TimeSpan.Zero), "full");
                Assert.Throws<PolyipcTimeoutException>(() => pipe.A.Send(chunk, TimeSpan.FromMilliseconds(60)), "full, timed");

                using (var cts = new CancellationTokenSource())
                {
                    cts.CancelAfter(150);
                    sw.Restart();
                    Assert.Throws<OperationCanceledException>(() => pipe.A.Receive(null, cts.Token), "cancelled receive");
                    Assert.True(sw.ElapsedMilliseconds < 1000, "within a slice or so: " + sw.ElapsedMilliseconds);
                }
                // Dispose from another thread ends a waiting receive
                var waiter = Spawn(() => Assert.Throws<ObjectDisposedException>(() => pipe.A.Receive(Limit), "disposed while waiting"));
                Thread.Sleep(100); // let it start waiting (the assertion holds either way)
                pipe.A.Dispose();
                JoinThread(waiter, TimeSpan.FromSeconds(5));
            }
        }

        [Test]
        public void WaitAnyOverConnectionsAndQueues()
        {
            using (var p1 = Pipe.Open(NewName("w1")))
            using (var p2 = Pipe.Open(NewName("w2")))
            using (var q = NewQueue("wq"))
            {
                var all = new List<object> { p1.B, p2.B, q };
                var sw = Stopwatch.StartNew();
                Assert.Equal(0, Connection.WaitAny(all, TimeSpan.FromMilliseconds(120)).Count, "nothing ready: empty");
                Assert.True(sw.ElapsedMilliseconds >= 110, "waited the timeout");
                Assert.Equal(0, Connection.WaitAny(all, TimeSpan.Zero).Count, "zero timeout");

                q.Put("1");
                var ready = Connection.WaitAny(all, Limit);
                Assert.True(ready.Count == 1 && ReferenceEquals(ready[0], q), "the queue");
                p2.A.Send("2");
                ready = Connection.WaitAny(all, Limit);
                Assert.True(ready.Count == 2 && ReferenceEquals(ready[0], p2.B) && ReferenceEquals(ready[1], q), "in the order given");
                q.Take();
                p2.B.Receive();

                // a sender on another thread wakes the wait
                var sender = Spawn(() => { Thread.Sleep(100); p1.A.Send("3"); });
                ready = Connection.WaitAny(all, Limit);
                Assert.True(ready.Count == 1 && ReferenceEquals(ready[0], p1.B), "woken by the send");
                JoinThread(sender, Limit);
                p1.B.Receive();

                // end of stream counts as ready
                p2.A.Dispose();
                ready = Connection.WaitAny(all, Limit);
                Assert.True(ready.Count == 1 && ReferenceEquals(ready[0], p2.B), "end of stream is ready");

                using (var cts = new CancellationTokenSource())
                {
                    cts.CancelAfter(100);
                    Assert.Throws<OperationCanceledException>(() => Connection.WaitAny(new object[] { p1.B, q }, null, cts.Token), "cancelled");
                }
                Assert.Throws<ArgumentException>(() => Connection.WaitAny(new object[] { p1.B, "x" }), "only Connections and Queues");
                Assert.Throws<ArgumentException>(() => Connection.WaitAny(new object[0]), "nothing to wait on");
                p1.B.Dispose();
                Assert.Throws<ObjectDisposedException>(() => Connection.WaitAny(new object[] { p1.B, q }, TimeSpan.Zero), "a disposed connection");
            }
        }
    }

    internal static class ConnectionTestExtensions
    {
        /// <summary>A send that never waits: false when the pipe is full.</summary>
        public static bool TrySendForTest(this Connection c, string json)
        {
            try
            {
                c.Send(json, TimeSpan.Zero);
                return true;
            }
            catch (QueueFullException)
            {
                return false;
            }
        }
    }
}
