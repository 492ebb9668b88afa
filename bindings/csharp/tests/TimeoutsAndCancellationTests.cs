using System;
using System.Diagnostics;
using System.Threading;

namespace Polyipc.Tests
{
    public class TimeoutsAndCancellationTests : Scratch
    {
        [Test]
        public void TakeTimesOutAfterItsTimeout()
        {
            using (var q = NewQueue("timeout"))
            {
                var sw = Stopwatch.StartNew();
                var e = Assert.ThrowsExactly<PolyipcTimeoutException>(() => q.Take(TimeSpan.FromMilliseconds(250)));
                long ms = sw.ElapsedMilliseconds;
                Assert.True(ms >= 240 && ms < 2000, "waited about 250 ms, not " + ms);
                Assert.True(e.Message.Contains(q.Name), "message names the queue: " + e.Message);
                sw.Restart();
                Assert.ThrowsExactly<QueueEmptyException>(() => q.Take(TimeSpan.Zero));
                string s;
                Assert.True(!q.TryTake(out s, TimeSpan.Zero) && s == null, "TryTake(zero) on empty");
                Assert.True(!q.TryTake(out s, TimeSpan.FromMilliseconds(30)), "TryTake(30 ms) on empty");
                Assert.True(sw.ElapsedMilliseconds < 2000, "zero waits do not wait");
            }
        }

        [Test]
        public void ABlockedTakeReceivesALaterPut()
        {
            using (var q = NewQueue("wake"))
            {
                string got = null;
                var taker = Spawn(() => got = q.Take(TimeSpan.FromSeconds(20)));
                q.Put("\"hello\"");
                JoinThread(taker, TimeSpan.FromSeconds(20));
                Assert.Equal("\"hello\"", got);
            }
        }

        [Test]
        public void CancellationEndsABlockedTake()
        {
            using (var q = NewQueue("canceltake"))
            {
                CancelsPromptly(ct => q.Take(null, ct), "Take(forever)");
                CancelsPromptly(ct => q.Take(TimeSpan.FromSeconds(30), ct), "Take(30 s)");
                string s;
                CancelsPromptly(ct => q.TryTake(out s, TimeSpan.FromSeconds(30), ct), "TryTake(30 s)");
                q.Put("1");
                Assert.Equal("1", q.Take(TimeSpan.Zero), "a cancelled take took nothing");
            }
        }

        [Test]
        public void CancellationEndsABlockedPutAndJoin()
        {
            using (var q = NewQueue("cancelput", new QueueOptions { Joinable = true, MaxItems = 1 }))
            {
                q.Put("1");
                CancelsPromptly(ct => q.Put("2", null, ct), "Put on a full queue");
                CancelsPromptly(ct => q.Join(null, ct), "Join with an unfinished task");
                Assert.Equal(1L, q.Count, "a cancelled put put nothing");
            }
        }

        [Test]
        public void AnAlreadyCancelledTokenTakesNothing()
        {
            using (var q = NewQueue("precancelled"))
            using (var cts = new CancellationTokenSource())
            {
                q.Put("1");
                cts.Cancel();
                Assert.Throws<OperationCanceledException>(() => q.Take(null, cts.Token), "Take");
                Assert.Throws<OperationCanceledException>(() => q.Put("2", null, cts.Token), "Put");
                Assert.Equal(1L, q.Count);
            }
        }

        [Test]
        public void DisposeEndsABlockedTakeOnAnotherThread()
        {
            var q = NewQueue("disposewait");
            Exception seen = null;
            var entered = new ManualResetEventSlim();
            var taker = Spawn(() =>
            {
                try
                {
                    entered.Set();
                    q.Take();
                }
                catch (Exception e)
                {
                    seen = e;
                }
            });
            Assert.True(entered.Wait(TimeSpan.FromSeconds(10)), "taker started");
            var sw = Stopwatch.StartNew();
            q.Dispose();
            Assert.True(sw.Elapsed < Promptly + Promptly, "Dispose waited " + sw.ElapsedMilliseconds + " ms");
            JoinThread(taker, TimeSpan.FromSeconds(5));
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(1), "the taker ended after " + sw.ElapsedMilliseconds + " ms");
            Assert.True(seen is ObjectDisposedException, "the taker saw ObjectDisposedException, not " + seen);
        }
    }
}
