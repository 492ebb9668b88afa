using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using Newtonsoft.Json.Linq;
using Semaphore = Polyipc.Semaphore;
using Barrier = Polyipc.Barrier;

namespace Polyipc.Tests
{
    /// <summary>Lock, RLock, Semaphore, Event, Condition and Barrier within this process (threads).</summary>
    public class SyncTests : Scratch
    {
        private static readonly TimeSpan Limit = TimeSpan.FromSeconds(20);

        /// <summary>A thread that acquires `l`, signals, and releases when told to (locks belong to threads).</summary>
        private sealed class Holder : IDisposable
        {
            private readonly ManualResetEventSlim held = new ManualResetEventSlim();
            private readonly ManualResetEventSlim release = new ManualResetEventSlim();
            private readonly Thread thread;

            public Holder(Scratch scratch, Func<LockGuard> acquire)
            {
                thread = new Thread(() =>
                {
                    using (acquire())
                    {
                        held.Set();
                        release.Wait(Limit);
                    }
                }) { IsBackground = true };
                thread.Start();
                Assert.True(held.Wait(Limit), "the holder thread acquired");
            }

            public void Dispose()
            {
                release.Set();
                Assert.True(thread.Join(Limit), "the holder thread released");
            }
        }

        private static void TakesAbout(TimeSpan expected, Action action, string what)
        {
            var sw = Stopwatch.StartNew();
            action();
            long ms = sw.ElapsedMilliseconds;
            Assert.True(ms >= expected.TotalMilliseconds - 10 && ms < expected.TotalMilliseconds + 1500,
                what + ": took " + ms + " ms, expected about " + expected.TotalMilliseconds);
        }

        // ---- Lock ------------------------------------------------------------------------------

        [Test]
        public void LockAcquireReleaseAndState()
        {
            using (var l = Lock.Open(NewName("lock")))
            {
                Assert.True(!l.Locked && l.HeldCount == 0, "free at first");
                using (var g = l.Acquire(Limit))
                {
                    Assert.True(!g.PreviousOwnerDied, "nobody died");
                    Assert.True(l.Locked && l.IsHeldByCurrentThread && l.HeldCount == 1, "held by this thread");
                    LockGuard again;
                    Assert.True(!l.TryAcquire(out again) && again == null, "a Lock is not recursive: TryAcquire() is false");
                    Assert.Throws<PolyipcArgumentException>(() => l.Acquire(TimeSpan.FromSeconds(5)), "a blocking re-acquire by the holder");
                    bool otherGot = true;
                    var t = Spawn(() =>
                    {
                        LockGuard x;
                        otherGot = l.TryAcquire(TimeSpan.FromMilliseconds(100), out x);
                        Assert.True(!l.IsHeldByCurrentThread && l.Locked, "another thread sees it locked, not held by itself");
                        Assert.Throws<NotOwnerException>(() => l.Release(), "release by a thread that does not hold it");
                    });
                    JoinThread(t, Limit);
                    Assert.True(!otherGot, "another thread cannot acquire it");
                    g.Dispose();
                    Assert.True(g.IsReleased && !l.Locked, "the guard released it");
                    g.Dispose(); // idempotent
                }
                Assert.Throws<NotOwnerException>(() => l.Release(), "release of a lock nobody holds");
                LockGuard g2;
                Assert.True(l.TryAcquire(out g2) && !g2.PreviousOwnerDied, "TryAcquire of a free lock");
                l.Release(); // the explicit form
                Assert.True(!l.Locked, "released");
                var stat = JObject.Parse(l.StatJson());
                Assert.Equal("lock", (string)stat["kind"], "stat kind");
            }
        }

        [Test]
        public void LockWaitsForItsHolderAndTimesOut()
        {
            using (var l = Lock.Open(NewName("lockwait")))
            {
                using (new Holder(this, () => l.Acquire()))
                {
                    TakesAbout(TimeSpan.FromMilliseconds(250), () =>
                        Assert.Throws<PolyipcTimeoutException>(() => l.Acquire(TimeSpan.FromMilliseconds(250)), "Acquire(250 ms)"), "a timed-out acquire");
                    TakesAbout(TimeSpan.Zero, () =>
                        Assert.Throws<PolyipcTimeoutException>(() => l.Acquire(TimeSpan.Zero), "Acquire(0)"), "a zero acquire");
                    CancelsPromptly(ct => l.Acquire(null, ct), "Acquire(forever)");
                    LockGuard g;
                    CancelsPromptly(ct => l.TryAcquire(TimeSpan.FromSeconds(30), out g, ct), "TryAcquire(30 s)");
                }
                // Released by the holder: a waiter gets it.
                var holder = new Holder(this, () => l.Acquire());
                var waiter = Spawn(() =>
                {
                    using (var g = l.Acquire(Limit)) Assert.True(!g.PreviousOwnerDied, "a normal hand-over");
                });
                holder.Dispose();
                JoinThread(waiter, Limit);
            }
        }

        [Test]
        public void ALockHeldByAThreadThatEndedReportsOwnerDeath()
        {
            using (var l = Lock.Open(NewName("deadthread")))
            {
                var t = Spawn(() => l.Acquire()); // acquires and ends without releasing
                JoinThread(t, Limit);
                using (var g = l.Acquire(Limit))
                {
                    Assert.True(g.PreviousOwnerDied, "the previous holder (an ended thread) died holding it");
                    Assert.Equal(1, l.HeldCount, "and the lock is held");
                }
                using (var g = l.Acquire(Limit)) Assert.True(!g.PreviousOwnerDied, "repaired: the next acquire is normal");
                var stat = JObject.Parse(l.StatJson());
                Assert.Equal(1L, (long)stat["counters"]["owner_dead_recoveries"], "stat counts the recovery");
            }
        }

        [Test]
        public void RLockCountsExactly()
        {
            using (var r = RLock.Open(NewName("rlock")))
            {
                var guards = new List<LockGuard>();
                for (int i = 1; i <= 5; i++)
                {
                    guards.Add(r.Acquire(TimeSpan.Zero));
                    Assert.Equal(i, r.HeldCount, "depth after " + i + " acquires");
                }
                bool otherGot = true;
                JoinThread(Spawn(() => { LockGuard x; otherGot = r.TryAcquire(TimeSpan.FromMilliseconds(50), out x); }), Limit);
                Assert.True(!otherGot, "another thread waits while any depth is held");
                for (int i = 4; i >= 0; i--)
                {
                    guards[i].Dispose();
                    Assert.Equal(i, r.HeldCount, "depth after a release");
                }
                Assert.True(!r.Locked, "free after as many releases as acquires");
                Assert.Throws<NotOwnerException>(() => r.Release(), "one release too many");
                JoinThread(Spawn(() => { using (r.Acquire(Limit)) otherGot = true; }), Limit);
                Assert.True(otherGot, "another thread acquires it now");
            }
        }

        [Test]
        public void KindsAndNamesAreChecked()
        {
            string name = NewName("kind");
            using (RLock.Open(name))
            {
                Assert.Throws<IncompatibleException>(() => Lock.Open(name), "a Lock on an RLock's name");
                Assert.Throws<IncompatibleException>(() => Event.Open(name), "an Event on an RLock's name");
                Assert.Throws<IncompatibleException>(() => Semaphore.Open(name), "a Semaphore on an RLock's name");
                Assert.Throws<IncompatibleException>(() => Barrier.Open(name, 2), "a Barrier on an RLock's name");
                Assert.Throws<AlreadyExistsException>(() => RLock.Open(name, new SyncOptions { OpenMode = OpenMode.CreateOnly }), "create-only");
            }
            Assert.Throws<NotFoundException>(() => Event.Open(NewName("missing"), new SyncOptions { OpenMode = OpenMode.OpenOnly }), "open-only");
            Assert.Throws<ArgumentNullException>(() => Lock.Open(null), "null name");
            Assert.Throws<ArgumentNullException>(() => Condition.Open(null), "null condition name");
            Assert.Throws<PolyipcArgumentException>(() => Lock.Open("bad/name"), "a bad name");
            Assert.Throws<PolyipcArgumentException>(() => Semaphore.Open(""), "an empty name");
            Assert.Throws<PolyipcArgumentException>(() => Event.Open("nul\0name"), "a NUL in a name");
            Assert.Throws<PolyipcArgumentException>(() => Condition.Open(NewName("c"), "bad lock/name"), "a bad lock name");
            Assert.Throws<ArgumentOutOfRangeException>(() => Lock.Open(NewName("m"), new SyncOptions { Mode = 01000 }), "a bad mode");
            Assert.Throws<PolyipcArgumentException>(() => Barrier.Open(NewName("b"), 257), "257 parties");
            Assert.Throws<ArgumentOutOfRangeException>(() => Barrier.Open(NewName("b"), 0), "0 parties");
            Assert.Throws<ArgumentOutOfRangeException>(() => Semaphore.Open(NewName("s"), -1), "a negative count");
            Assert.Throws<ArgumentOutOfRangeException>(() => Semaphore.Open(NewName("s"), 3, 2), "initial above max");
            Assert.Throws<ArgumentOutOfRangeException>(() => Semaphore.Open(NewName("s"), 0, 0), "a zero max");
        }

        [Test]
        public void TimeoutsOfEverySign()
        {
            using (var l = Lock.Open(NewName("signs")))
            using (var e = Event.Open(NewName("signs")))
            using (var s = Semaphore.Open(NewName("signs"), 0))
            using (var b = Barrier.Open(NewName("signs"), 2))
            {
                Assert.Throws<ArgumentOutOfRangeException>(() => l.Acquire(TimeSpan.FromMilliseconds(-5)), "lock, negative");
                Assert.Throws<ArgumentOutOfRangeException>(() => e.Wait(TimeSpan.FromTicks(-1)), "event, negative");
                Assert.Throws<ArgumentOutOfRangeException>(() => s.Wait(TimeSpan.MinValue), "semaphore, negative");
                Assert.Throws<ArgumentOutOfRangeException>(() => b.SignalAndWait(TimeSpan.FromSeconds(-1)), "barrier, negative");
                Assert.True(!b.IsBroken && b.ParticipantsWaiting == 0, "a rejected timeout did not arrive");
                Assert.Throws<ArgumentOutOfRangeException>(() => s.Wait(-1, TimeSpan.Zero), "a negative count");
                Assert.Throws<ArgumentOutOfRangeException>(() => s.Release(-1), "a negative release");
                e.Set();
                Assert.True(e.Wait(Timeout.InfiniteTimeSpan), "InfiniteTimeSpan is forever");
                Assert.True(e.Wait(TimeSpan.MaxValue), "TimeSpan.MaxValue");
                Assert.True(e.Wait(TimeSpan.Zero), "zero");
                using (l.Acquire(TimeSpan.MaxValue)) { }
            }
        }

        [Test]
        public void EveryCallAfterDisposeThrowsObjectDisposed()
        {
            var l = Lock.Open(NewName("disposed"));
            var r = RLock.Open(NewName("disposed"));
            var s = Semaphore.Open(NewName("disposed"));
            var e = Event.Open(NewName("disposed"));
            var c = Condition.Open(Track(NewName("disposed")));
            Track(c.LockName);
            var b = Barrier.Open(NewName("disposed"), 2);
            var guard = l.Acquire();
            l.Dispose();
            l.Dispose();
            Assert.Throws<ObjectDisposedException>(() => guard.Dispose(), "a guard disposed after its lock");
            r.Dispose();
            s.Dispose();
            e.Dispose();
            c.Dispose();
            b.Dispose();
            foreach (var call in new Action[] {
                () => l.Acquire(), () => { var x = l.Locked; }, () => l.Release(), () => { var x = l.HeldCount; },
                () => r.Acquire(TimeSpan.Zero), () => l.StatJson(),
                () => s.Wait(), () => s.Release(), () => { var x = s.CurrentCount; }, () => s.Drain(),
                () => e.Set(), () => e.Reset(), () => e.Wait(), () => { var x = e.IsSet; },
                () => c.Acquire(), () => c.Wait(), () => c.Notify(), () => c.NotifyAll(), () => c.Release(),
                () => b.SignalAndWait(), () => b.Abort(), () => b.Reset(), () => { var x = b.IsBroken; },
                () => { var x = b.ParticipantsWaiting; } })
            {
                Assert.Throws<ObjectDisposedException>(call);
            }
        }

        [Test]
        public void DisposeEndsWaitsOnOtherThreads()
        {
            using (var holder = Lock.Open(NewName("dispwait")))
            using (new Holder(this, () => holder.Acquire()))
            {
                var l = Lock.Open(holder.Name);
                var e = Event.Open(NewName("dispwait"));
                var s = Semaphore.Open(NewName("dispwait"), 0);
                var b = Barrier.Open(NewName("dispwait"), 2);
                var waits = new Action[] { () => l.Acquire(), () => e.Wait(), () => s.Wait(), () => b.SignalAndWait() };
                var disposals = new Action[] { l.Dispose, e.Dispose, s.Dispose, b.Dispose };
                for (int k = 0; k < waits.Length; k++)
                {
                    var entered = new ManualResetEventSlim();
                    Exception seen = null;
                    var wait = waits[k];
                    var t = Spawn(() =>
                    {
                        entered.Set();
                        try
                        {
                            wait();
                        }
                        catch (Exception x)
                        {
                            seen = x;
                        }
                    });
                    Assert.True(entered.Wait(Limit), "the waiter started");
                    if (k == 3)
                    {
                        // The barrier waiter must have arrived for the abort to be observable.
                        var until = DateTime.UtcNow + Limit;
                        using (var watch = Barrier.Open(b.Name, 2))
                            while (watch.ParticipantsWaiting < 1 && DateTime.UtcNow < until) Thread.Sleep(5); // bounded poll of the count
                    }
                    else
                    {
                        Thread.Sleep(100); // likely blocked by now; ObjectDisposedException either way
                    }
                    var sw = Stopwatch.StartNew();
                    disposals[k]();
                    JoinThread(t, Limit);
                    Assert.True(sw.Elapsed < TimeSpan.FromSeconds(1), "wait #" + k + " ended " + sw.ElapsedMilliseconds + " ms after Dispose");
                    Assert.True(seen is ObjectDisposedException, "wait #" + k + " saw ObjectDisposedException, not " + seen);
                }
                using (var b2 = Barrier.Open(b.Name, 2)) Assert.True(b2.IsBroken, "the abandoned barrier wait aborted the barrier");
            }
        }

        // ---- Semaphore ----------------------------------------------------------------------

        [Test]
        public void SemaphoreCountsAndBounds()
        {
            string name = NewName("sem");
            using (var s = Semaphore.Open(name, 2))
            {
                Assert.True(s.MaxCount == null, "unbounded");
                Assert.Equal(2L, s.CurrentCount);
                Assert.True(s.Wait(TimeSpan.Zero) && s.Wait(TimeSpan.Zero), "two slots");
                Assert.True(!s.Wait(TimeSpan.Zero), "then none");
                TakesAbout(TimeSpan.FromMilliseconds(200), () => Assert.True(!s.Wait(TimeSpan.FromMilliseconds(200)), "a timed-out wait"), "Wait(200 ms)");
                Assert.Throws<PolyipcTimeoutException>(() => s.Acquire(TimeSpan.Zero), "Acquire(0) throws");
                s.Release(5);
                Assert.Equal(5L, s.CurrentCount, "an unbounded semaphore grows");
                Assert.True(!s.Wait(6, TimeSpan.Zero), "6 of 5: all or none");
                Assert.Equal(5L, s.CurrentCount, "none taken");
                Assert.True(s.Wait(3, TimeSpan.Zero), "3 of 5");
                using (var g = s.Acquire(2, TimeSpan.Zero))
                {
                    Assert.Equal(0L, s.CurrentCount);
                    Assert.Equal(2L, g.Count);
                }
                Assert.Equal(2L, s.CurrentCount, "the guard gave its slots back");
                Assert.Equal(2L, s.Drain(), "drain takes what is free");
                Assert.Equal(0L, s.CurrentCount);
                s.Release(3);
                using (var again = Semaphore.Open(name, 99)) Assert.Equal(3L, again.CurrentCount, "an existing semaphore keeps its count");
                Assert.Throws<IncompatibleException>(() => Semaphore.Open(name, 1, 5), "another maximum");
            }
            string bname = NewName("bsem");
            using (var b = Semaphore.OpenBounded(bname, 2))
            {
                Assert.Equal((long?)2, b.MaxCount, "bounded");
                Assert.Throws<PolyipcArgumentException>(() => b.Release(), "released past the maximum (Python's ValueError)");
                Assert.Equal(2L, b.CurrentCount, "nothing released");
                using (b.Acquire(Limit)) Assert.Equal(1L, b.CurrentCount);
                Assert.Throws<PolyipcArgumentException>(() => b.Wait(3, TimeSpan.Zero), "more than the maximum can never succeed");
                using (var any = Semaphore.Open(bname, 0, null, new SyncOptions { OpenMode = OpenMode.OpenOnly }))
                    Assert.Equal((long?)2, any.MaxCount, "open-only takes it as it is");
                Assert.Throws<IncompatibleException>(() => Semaphore.Open(bname, 0), "unbounded on a bounded name");
            }
        }

        [Test]
        public void SemaphoreWaitIsWokenAndCancellable()
        {
            using (var s = Semaphore.Open(NewName("semwake"), 0))
            {
                CancelsPromptly(ct => s.Wait(null, ct), "Wait(forever)");
                CancelsPromptly(ct => s.Acquire(TimeSpan.FromSeconds(30), ct), "Acquire(30 s)");
                CancelsPromptly(ct => s.Wait(ct), "Wait(ct)");
                Assert.Equal(0L, s.CurrentCount, "a cancelled wait took nothing");
                bool got = false;
                var t = Spawn(() => got = s.Wait(Limit));
                s.Release();
                JoinThread(t, Limit);
                Assert.True(got && s.CurrentCount == 0, "the waiter took the released slot");
            }
        }

        // ---- Event ------------------------------------------------------------------------------

        [Test]
        public void EventSetsWakesAndClears()
        {
            using (var e = Event.Open(NewName("event")))
            {
                Assert.True(!e.IsSet && !e.Wait(TimeSpan.Zero), "not set at first");
                TakesAbout(TimeSpan.FromMilliseconds(200), () => Assert.True(!e.Wait(TimeSpan.FromMilliseconds(200)), "times out"), "Wait(200 ms)");
                CancelsPromptly(ct => e.Wait(null, ct), "Wait(forever)");
                CancelsPromptly(ct => e.Wait(ct), "Wait(ct)");
                var woken = new bool[3];
                var threads = Enumerable.Range(0, 3).Select(i => Spawn(() => woken[i] = e.Wait(Limit))).ToList();
                e.Set();
                foreach (var t in threads) JoinThread(t, Limit);
                Assert.True(woken.All(w => w), "Set wakes every waiter");
                Assert.True(e.IsSet && e.Wait(TimeSpan.Zero), "stays set");
                e.Reset();
                Assert.True(!e.IsSet, "Reset clears");
                e.Set();
                e.Clear();
                Assert.True(!e.IsSet, "Clear clears");
            }
        }

        [Test]
        public void EventSetThenResetDuringASlicedWaitIsSeen()
        {
            using (var e = Event.Open(NewName("pulse")))
            {
                var started = Stopwatch.StartNew();
                bool? got = null;
                var waiter = Spawn(() => got = e.Wait(Limit));
                // blocked for a few 50 ms slices, and asleep in one now
                var bound = Stopwatch.StartNew();
                while ((started.ElapsedMilliseconds < 120 || (int)JObject.Parse(e.StatJson())["waiting"] < 1)
                       && bound.Elapsed < Limit)
                    Thread.Sleep(1);
                Assert.True(waiter.IsAlive, "the waiter is still waiting before the pulse");
                e.Set();
                e.Reset();
                JoinThread(waiter, Limit);
                Assert.True(got == true, "a Set then Reset during the wait was seen");
                Assert.True(!e.IsSet, "Reset cleared it");
            }
        }

        // ---- Condition ------------------------------------------------------------------------

        private Condition NewCondition(string label, string lockName = null)
        {
            var c = Condition.Open(Track(NewName(label)), lockName);
            Track(c.LockName);
            return c;
        }

        [Test]
        public void ConditionProducerAndConsumer()
        {
            using (var c = NewCondition("cond"))
            {
                Assert.Equal(c.Name + ".lock", c.LockName, "the default lock name");
                var items = new Queue<int>();
                const int n = 200;
                var consumer = Spawn(() =>
                {
                    for (int i = 0; i < n; i++)
                    {
                        using (c.Acquire(Limit))
                        {
                            Assert.True(c.WaitFor(() => items.Count > 0, Limit), "an item came");
                            Assert.Equal(i, items.Dequeue(), "in order");
                            c.NotifyAll();
                        }
                    }
                });
                for (int i = 0; i < n; i++)
                {
                    using (c.Acquire(Limit))
                    {
                        Assert.True(c.WaitFor(() => items.Count < 4, Limit), "room came");
                        items.Enqueue(i);
                        c.Notify();
                    }
                }
                JoinThread(consumer, Limit);
                Assert.Equal(0, items.Count, "all consumed");
            }
        }

        [Test]
        public void ConditionWaitTimesOutHoldingTheLock()
        {
            using (var c = NewCondition("condwait"))
            using (var l = Lock.Open(c.LockName))
            {
                Assert.Throws<NotOwnerException>(() => c.Wait(TimeSpan.Zero), "wait without the lock");
                Assert.Throws<NotOwnerException>(() => c.Notify(), "notify without the lock");
                Assert.Throws<NotOwnerException>(() => c.NotifyAll(), "notify_all without the lock");
                using (var g = c.Acquire(Limit))
                {
                    Assert.True(!g.PreviousOwnerDied, "normal");
                    Assert.Equal(1, l.HeldCount, "the condition's lock is the lock named LockName");
                    TakesAbout(TimeSpan.FromMilliseconds(200), () => Assert.True(!c.Wait(TimeSpan.FromMilliseconds(200)), "not notified"), "Wait(200 ms)");
                    Assert.Equal(1, l.HeldCount, "held again after a timeout");
                    Assert.True(!c.Wait(TimeSpan.Zero), "Wait(0)");
                    CancelsPromptly(ct => c.Wait(null, ct), "Wait(forever)");
                    Assert.Equal(1, l.HeldCount, "held again after a cancellation");
                    int calls = 0;
                    TakesAbout(TimeSpan.FromMilliseconds(150), () => Assert.True(!c.WaitFor(() => ++calls < 0, TimeSpan.FromMilliseconds(150)), "the predicate stayed false"), "WaitFor(150 ms)");
                    Assert.True(calls >= 2, "the predicate was evaluated again after the wait: " + calls);
                    Assert.True(c.WaitFor(() => true, TimeSpan.Zero), "a true predicate returns at once");
                    bool woke = false;
                    // While this thread waits (the lock released), another takes the lock and notifies.
                    var notifier = Spawn(() =>
                    {
                        using (c.Acquire(Limit)) c.Notify(1);
                    });
                    woke = c.Wait(Limit);
                    JoinThread(notifier, Limit);
                    Assert.True(woke && l.HeldCount == 1, "notified, and the lock held again");
                }
                Assert.True(!l.Locked, "the guard released it");
            }
        }

        [Test]
        public void ConditionOnAnRLockWaitsAtAnyDepth()
        {
            string rname = NewName("condr");
            using (var r = RLock.Open(rname))
            using (var c = NewCondition("condr", rname))
            {
                Assert.Equal(rname, c.LockName, "bound to the rlock");
                using (c.Acquire(Limit))
                using (r.Acquire(Limit))
                {
                    Assert.Equal(2, r.HeldCount, "depth 2");
                    bool otherGot = false;
                    var t = Spawn(() =>
                    {
                        using (c.Acquire(Limit))
                        {
                            otherGot = true;
                            c.NotifyAll();
                        }
                    });
                    Assert.True(c.Wait(Limit), "notified while the rlock was released entirely");
                    JoinThread(t, Limit);
                    Assert.True(otherGot && r.HeldCount == 2, "the whole depth is back");
                }
                Assert.True(!r.Locked, "released");
                Assert.Throws<IncompatibleException>(() => Condition.Open(c.Name, NewName("otherlock")), "bound to another lock");
            }
        }

        // ---- Barrier ---------------------------------------------------------------------------

        [Test]
        public void BarrierRoundsGiveEveryIndexOnce()
        {
            using (var b = Barrier.Open(NewName("barrier"), 3))
            {
                Assert.True(b.ParticipantCount == 3 && b.ParticipantsRemaining == 3 && !b.IsBroken, "fresh");
                const int rounds = 5;
                var indexes = new int[3, rounds];
                var threads = Enumerable.Range(0, 3).Select(p => Spawn(() =>
                {
                    for (int r = 0; r < rounds; r++) indexes[p, r] = b.SignalAndWait(Limit);
                })).ToList();
                foreach (var t in threads) JoinThread(t, Limit);
                for (int r = 0; r < rounds; r++)
                {
                    var set = new HashSet<int> { indexes[0, r], indexes[1, r], indexes[2, r] };
                    Assert.True(set.SetEquals(new[] { 0, 1, 2 }), "round " + r + ": indexes 0, 1, 2");
                }
                using (var single = Barrier.Open(NewName("single"), 1)) Assert.Equal(0, single.SignalAndWait(TimeSpan.Zero), "one party never waits");
                Assert.Throws<IncompatibleException>(() => Barrier.Open(b.Name, 4), "another party count");
            }
        }

        [Test]
        public void ABarrierTimeoutBreaksItForEveryone()
        {
            using (var b = Barrier.Open(NewName("btimeout"), 3))
            {
                Exception other = null;
                var arrived = Spawn(() =>
                {
                    try
                    {
                        b.SignalAndWait(Limit);
                    }
                    catch (Exception e)
                    {
                        other = e;
                    }
                });
                TakesAbout(TimeSpan.FromMilliseconds(300), () =>
                    Assert.ThrowsExactly<PolyipcTimeoutException>(() => b.SignalAndWait(TimeSpan.FromMilliseconds(300)), "the one that timed out"), "SignalAndWait(300 ms)");
                JoinThread(arrived, Limit);
                Assert.True(other is BrokenBarrierException, "the other waiter: broken, not " + other);
                Assert.True(b.IsBroken && b.ParticipantsWaiting == 0, "broken");
                Assert.Throws<BrokenBarrierException>(() => b.SignalAndWait(Limit), "broken until reset");
                b.Reset();
                Assert.True(!b.IsBroken, "reset");
                Assert.Throws<PolyipcTimeoutException>(() => b.SignalAndWait(TimeSpan.Zero), "a zero wait that cannot pass times out");
                Assert.True(b.IsBroken, "and breaks it");
                b.Reset();
            }
        }

        [Test]
        public void BarrierAbortAndCancellation()
        {
            using (var b = Barrier.Open(NewName("babort"), 2))
            {
                CancelsPromptly(ct => b.SignalAndWait(null, ct), "SignalAndWait(forever)");
                Assert.True(b.IsBroken, "a cancelled wait breaks the barrier");
                b.Reset();
                Exception seen = null;
                var entered = new ManualResetEventSlim();
                var t = Spawn(() =>
                {
                    entered.Set();
                    try
                    {
                        b.SignalAndWait(Limit);
                    }
                    catch (Exception e)
                    {
                        seen = e;
                    }
                });
                Assert.True(entered.Wait(Limit), "started");
                var deadline = DateTime.UtcNow + Limit;
                while (b.ParticipantsWaiting < 1 && DateTime.UtcNow < deadline) Thread.Sleep(5); // bounded poll of the count
                Assert.Equal(1, b.ParticipantsWaiting, "one waiting");
                Assert.Equal(1, b.ParticipantsRemaining, "one more needed");
                b.Abort();
                JoinThread(t, Limit);
                Assert.True(seen is BrokenBarrierException, "abort breaks a waiter: " + seen);
                b.Reset();
                int i0 = -1, i1 = -1;
                var t2 = Spawn(() => i0 = b.SignalAndWait(Limit));
                i1 = b.SignalAndWait(Limit);
                JoinThread(t2, Limit);
                Assert.True(i0 + i1 == 1, "usable again after reset");
            }
        }
    }
}
