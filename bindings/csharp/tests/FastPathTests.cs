using System;
using System.Threading;
using Polyipc.Native;

namespace Polyipc.Tests
{
    /// <summary>
    /// Put(string)/TryPut/Take()/TryTake first try once without waiting through raw mono internal
    /// calls (QueueFastCalls), and fall back to the sliced P/Invoke path for anything else. Every
    /// outcome of that first try must look as it did before: errors with the library's exception
    /// and message, timeouts, cancellation, Dispose, messages larger than the thread's buffer,
    /// and a collection (which stops the thread with a signal) in the middle of a call.
    /// The whole suite also passes with POLYIPC_CS_NO_FAST_CALLS=1 (P/Invoke only).
    /// </summary>
    public class FastPathTests : Scratch
    {
        private static readonly TimeSpan Short = TimeSpan.FromSeconds(5);

        [Test]
        public void FastCallsAreRegisteredOnMono()
        {
            Library.EnsureLoaded();
            bool mono = Type.GetType("Mono.Runtime") != null;
            bool off = Environment.GetEnvironmentVariable("POLYIPC_CS_NO_FAST_CALLS") != null;
            Assert.Equal(mono && !off, QueueFastCalls.Enabled, "QueueFastCalls.Enabled");
        }

        [Test]
        public void ErrorsOfTheFirstTryAreTheLibrarysExceptions()
        {
            using (var q = NewQueue("fasterr"))
            {
                var e = Assert.Throws<InvalidJsonException>(() => q.Put("{not json"), "invalid JSON");
                Assert.True(e.Message.Length > 0, "with the library's message");
                Assert.Equal(0L, q.Count, "nothing put");
                Assert.Throws<ArgumentNullException>(() => q.Put(null), "null");
                Assert.Throws<ArgumentOutOfRangeException>(() => q.Put("1", TimeSpan.FromSeconds(-2)), "negative timeout");
                Assert.Equal(0L, q.Count, "nothing put for a bad timeout");
                Assert.Throws<QueueEmptyException>(() => q.Take(TimeSpan.Zero), "empty, no wait");
                string got;
                Assert.True(!q.TryTake(out got, TimeSpan.Zero), "TryTake on empty");
                Assert.Throws<PolyipcTimeoutException>(() => q.Take(TimeSpan.FromMilliseconds(30)), "empty, short wait");
                q.Put("[1]", Timeout.InfiniteTimeSpan);
                Assert.Throws<ArgumentOutOfRangeException>(() => q.Take(TimeSpan.FromSeconds(-2)), "negative timeout");
                Assert.Equal(1L, q.Count, "nothing taken for a bad timeout");
                q.CloseWrites();
                Assert.Throws<QueueClosedException>(() => q.Put("2"), "put after CloseWrites");
                Assert.Equal("[1]", q.Take(), "what is left");
                Assert.Throws<QueueClosedException>(() => q.Take(), "end of stream");
                Assert.Throws<QueueClosedException>(() => q.TryTake(out got, TimeSpan.Zero), "end of stream, TryTake");
            }
        }

        [Test]
        public void FullQueuesAndCancelledTokensAsBefore()
        {
            using (var q = NewQueue("fastfull", new QueueOptions { MaxItems = 2 }))
            {
                q.Put("1");
                Assert.True(q.TryPut("2", TimeSpan.Zero), "room for a second");
                Assert.True(!q.TryPut("3", TimeSpan.Zero), "full: TryPut");
                Assert.Throws<QueueFullException>(() => q.Put("3", TimeSpan.Zero), "full: Put, no wait");
                Assert.Throws<PolyipcTimeoutException>(() => q.Put("3", TimeSpan.FromMilliseconds(30)), "full: Put, short wait");
                using (var cts = new CancellationTokenSource())
                {
                    cts.Cancel();
                    Assert.Throws<OperationCanceledException>(() => q.Take(null, cts.Token), "cancelled, a message waiting");
                    Assert.Equal(2L, q.Count, "nothing taken when cancelled");
                    Assert.Equal("1", q.Take(), "first");
                    Assert.Throws<OperationCanceledException>(() => q.Put("4", null, cts.Token), "cancelled, room");
                    Assert.Equal(1L, q.Count, "nothing put when cancelled");
                }
                Assert.Equal("2", q.Take(), "second");
            }
        }

        [Test]
        public void MessagesLargerThanTheThreadBufferAndNonAscii()
        {
            using (var q = NewQueue("fastbig", new QueueOptions { Format = MessageFormat.Bytes, CapacityBytes = 8 << 20 }))
            {
                foreach (int n in new[] { 0, 1, 4095, 4096, 4097, 100000, 400000 })
                {
                    string ascii = new string('a', n);
                    q.Put(ascii);
                    Assert.Equal(ascii, q.Take(), "ASCII of " + n);
                    string mixed = ascii + "\u00e9\ud83d\ude00" + ascii;
                    q.Put(mixed);
                    string got;
                    Assert.True(q.TryTake(out got, Short), "TryTake of " + n);
                    Assert.Equal(mixed, got, "non-ASCII of " + n);
                }
                Assert.Equal(0L, q.Count, "nothing left");
            }
        }

        [Test]
        public void DisposedHandlesThrow()
        {
            var q = NewQueue("fastdisposed");
            q.Put("1");
            q.Dispose();
            Assert.Throws<ObjectDisposedException>(() => q.Put("2"), "Put");
            Assert.Throws<ObjectDisposedException>(() => q.Take(), "Take");
            string got;
            Assert.Throws<ObjectDisposedException>(() => q.TryTake(out got, TimeSpan.Zero), "TryTake");
        }

        [Test]
        public void CollectionsDuringCallsFromSeveralThreads()
        {
            const int PerThread = 100000;
            using (var q = NewQueue("fastgc", new QueueOptions { MaxItems = 64 }))
            {
                int stop = 0;
                var collector = Spawn(() =>
                {
                    while (Volatile.Read(ref stop) == 0)
                    {
                        GC.Collect();
                        Thread.Sleep(1);
                    }
                });
                var producers = new Thread[2];
                for (int t = 0; t < producers.Length; t++)
                {
                    int id = t;
                    producers[t] = Spawn(() =>
                    {
                        for (int i = 0; i < PerThread; i++) q.Put("{\"t\":" + id + ",\"i\":" + i + "}", Short);
                    });
                }
                var last = new int[producers.Length];
                for (int t = 0; t < last.Length; t++) last[t] = -1;
                var consumer = Spawn(() =>
                {
                    for (int k = 0; k < PerThread * producers.Length; k++)
                    {
                        string m = q.Take(Short);
                        int t = m[5] - '0';
                        int i = int.Parse(m.Substring(11, m.Length - 12));
                        if (i != last[t] + 1) throw new InvalidOperationException("out of order: " + m);
                        last[t] = i;
                    }
                });
                foreach (var p in producers) JoinThread(p, TimeSpan.FromSeconds(120));
                JoinThread(consumer, TimeSpan.FromSeconds(120));
                Volatile.Write(ref stop, 1);
                JoinThread(collector, TimeSpan.FromSeconds(10));
                Assert.Equal(0L, q.Count, "all taken");
            }
        }
    }
}
