using System;
using System.Threading;
using Newtonsoft.Json.Linq;
using Semaphore = Polyipc.Semaphore;
using Barrier = Polyipc.Barrier;

namespace Polyipc.Tests
{
    /// <summary>The synchronisation primitives across real processes (PolyipcTestChild.exe, kill -9).</summary>
    public class SyncProcessTests : Scratch
    {
        private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);

        [Test]
        public void AKilledLockHolderIsReportedToTheNextAcquirer()
        {
            using (var l = Lock.Open(NewName("killedholder")))
            {
                var child = StartChild("lock-hold", l.Name);
                Assert.Equal("holding", ReadLine(child, Limit));
                Assert.True(l.Locked && l.HeldCount == 0, "the child holds it");
                LockGuard g;
                Assert.True(!l.TryAcquire(out g), "held by the child");
                Kill9(child, Limit); // SIGKILL: the child cannot release
                using (var guard = l.Acquire(Limit))
                {
                    Assert.True(guard.PreviousOwnerDied, "the acquire reports the owner's death");
                    Assert.Equal(1, l.HeldCount, "and holds the lock");
                }
                using (var guard = l.Acquire(Limit)) Assert.True(!guard.PreviousOwnerDied, "the next acquire is normal");
            }
        }

        [Test]
        public void AKilledProcessSemaphoreSlotsComeBack()
        {
            using (var s = Semaphore.Open(NewName("slots"), 2))
            {
                var child = StartChild("sem-hold", s.Name, "2");
                Assert.Equal("holding 2", ReadLine(child, Limit));
                Assert.True(!s.Wait(TimeSpan.Zero), "the child holds both slots");
                var holders = (JArray)JObject.Parse(s.StatJson())["holders"];
                Assert.True(holders.Count == 1, "one holder process: " + holders);
                Kill9(child, Limit);
                Assert.True(s.Wait(2, Limit), "its two slots came back");
                s.Release(2);
                Assert.Equal(2L, s.CurrentCount, "both free");
            }
        }

        [Test]
        public void AnEventWakesAChild()
        {
            using (var e = Event.Open(NewName("wakechild")))
            {
                var child = StartChild("event-wait", e.Name);
                Assert.Equal("waiting", ReadLine(child, Limit));
                e.Set();
                Assert.Equal("woken", ReadLine(child, Limit));
                WaitExit(child, Limit);
            }
        }

        [Test]
        public void ABarrierWithAChildAndAKilledWaiterBreaksIt()
        {
            using (var b = Barrier.Open(NewName("pbarrier"), 2))
            {
                var child = StartChild("barrier", b.Name, "2");
                Assert.Equal("arriving", ReadLine(child, Limit));
                int mine = b.SignalAndWait(Limit);
                string theirs = ReadLine(child, Limit);
                WaitExit(child, Limit);
                Assert.True(theirs == "index " + (1 - mine), "indexes 0 and 1: this " + mine + ", the child " + theirs);

                // A waiting process that dies breaks the barrier for the others.
                using (var b3 = Barrier.Open(NewName("pbarrier3"), 3))
                {
                    var waiter = StartChild("barrier", b3.Name, "3");
                    Assert.Equal("arriving", ReadLine(waiter, Limit));
                    var deadline = DateTime.UtcNow + Limit;
                    while (b3.ParticipantsWaiting < 1 && DateTime.UtcNow < deadline) Thread.Sleep(5); // bounded poll of the count
                    Assert.Equal(1, b3.ParticipantsWaiting, "the child waits");
                    Kill9(waiter, Limit);
                    Assert.Throws<BrokenBarrierException>(() => b3.SignalAndWait(Limit), "a dead waiter breaks the barrier");
                    Assert.True(b3.IsBroken, "broken until reset");
                }
            }
        }
    }
}
