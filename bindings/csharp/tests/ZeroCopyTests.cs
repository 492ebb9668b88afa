using System;
using System.Diagnostics;
using System.Linq;
using System.Text;
using System.Threading;

namespace Polyipc.Tests
{
    /// <summary>Queue.Reserve / Borrow: bytes written and read in the ring itself, and the guards' lifetime.</summary>
    public class ZeroCopyTests : Scratch
    {
        private static readonly TimeSpan Short = TimeSpan.FromSeconds(5);
        private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);

        private static QueueOptions Bytes(long capacity = 1 << 20)
        {
            return new QueueOptions { Format = MessageFormat.Bytes, CapacityBytes = capacity };
        }

        private static byte[] Pattern(int n, int seed)
        {
            var b = new byte[n];
            for (int i = 0; i < n; i++) b[i] = (byte)((i * 131 + seed) & 0xff);
            return b;
        }

        private static void Write(Reservation r, byte[] bytes)
        {
            Span<byte> s = r.Span;
            new ReadOnlySpan<byte>(bytes).CopyTo(s);
        }

        private static void Write(Reservation r, string text)
        {
            Write(r, Encoding.UTF8.GetBytes(text));
        }

        private static byte[] Read(Borrowed m)
        {
            ReadOnlySpan<byte> s = m.Span;
            return s.ToArray();
        }

        private static string Text(Borrowed m)
        {
            return Encoding.UTF8.GetString(Read(m));
        }

        [Test]
        public void ReservedBytesArriveAsAMessage()
        {
            using (var q = NewQueue("reserve", Bytes()))
            {
                byte[] big = Pattern(200000, 3);
                using (var r = q.Reserve(big.Length, Short))
                {
                    Assert.Equal(big.Length, r.Length, "Length");
                    Span<byte> s = r.Span;
                    Assert.Equal(big.Length, s.Length, "Span.Length");
                    new ReadOnlySpan<byte>(big).CopyTo(s);
                    Assert.Equal(0L, q.Count, "nothing published before Commit");
                    r.Commit();
                    Assert.True(r.IsEnded, "IsEnded after Commit");
                }
                Assert.Equal(1L, q.Count);
                Assert.True(big.SequenceEqual(q.TakeBytes(Short)), "200 kB reserved, committed, taken");
            }
            using (var q = NewQueue("reservejson"))
            {
                const string json = "{\"frame\":1,\"from\":\"csharp ✓\"}";
                using (var r = q.Reserve(Encoding.UTF8.GetByteCount(json)))
                {
                    Write(r, json);
                    r.Commit();
                }
                Assert.Equal(json, q.Take(Short), "a JSON queue takes valid JSON");
            }
        }

        [Test]
        public void BorrowReadsInPlaceAndOthersGetTheNextMeanwhile()
        {
            using (var q = NewQueue("borrow"))
            {
                q.Put("{\"n\":1}");
                q.Put("{\"n\":2}");
                using (var m = q.Borrow(Short))
                {
                    Assert.Equal("{\"n\":1}", Text(m), "the first message, in place");
                    Assert.Equal(7, m.Length, "Length");
                    Assert.Equal(7L, m.LongLength, "LongLength");
                    Assert.Equal(1L, q.Count, "taken, as a Take takes it");
                    Assert.Equal("{\"n\":2}", q.Take(Short), "the next one, meanwhile (FIFO)");
                    Assert.Equal("{\"n\":1}", Text(m), "still there after the Take");
                    m.Release();
                    Assert.True(m.IsReleased, "IsReleased");
                }
                Assert.Equal(0L, q.Count);
                string s;
                Assert.True(!q.TryTake(out s, TimeSpan.Zero), "empty: the borrowed message left on Release");
            }
            using (var q = NewQueue("borrowbig", Bytes()))
            {
                byte[] big = Pattern(300000, 9);
                q.PutBytes(big);
                using (var m = q.Borrow(Short))
                {
                    Assert.True(big.SequenceEqual(Read(m)), "300 kB borrowed");
                    ReadOnlySpan<byte> part = m.GetSpan(1000, 10);
                    for (int i = 0; i < 10; i++) Assert.Equal(big[1000 + i], part[i], "GetSpan byte " + i);
                    Assert.Equal(0, m.GetSpan(big.Length, 0).Length, "an empty span at the end");
                    Assert.Throws<ArgumentOutOfRangeException>(() => m.GetSpan(big.Length - 5, 6).ToArray(), "GetSpan past the end");
                    Assert.Throws<ArgumentOutOfRangeException>(() => m.GetSpan(-1, 1).ToArray(), "GetSpan before the start");
                }
            }
        }

        [Test]
        public void ManyRoundsReuseTheRing()
        {
            // 64 KiB ring, 2000 messages of ~1 KiB: the ring wraps dozens of times, so every
            // Commit and Release (Dispose) gave its space back.
            using (var q = NewQueue("wrap", Bytes(64 << 10)))
            {
                for (int i = 0; i < 2000; i++)
                {
                    byte[] msg = Pattern(900 + i % 200, i);
                    using (var r = q.Reserve(msg.Length, TimeSpan.Zero))
                    {
                        Write(r, msg);
                        r.Commit();
                    }
                    using (var m = q.Borrow(TimeSpan.Zero))
                    {
                        if (!msg.SequenceEqual(Read(m))) throw new AssertionException("round " + i + ": other bytes");
                    }
                }
                Assert.Equal(0L, q.Count);
            }
        }

        [Test]
        public void CancelAndDisposeWithoutCommitDrop()
        {
            using (var q = NewQueue("cancel", Bytes(64 << 10)))
            {
                var r = q.Reserve(40000, Short);
                Write(r, Pattern(40000, 1));
                r.Cancel();
                Assert.True(r.IsEnded, "IsEnded after Cancel");
                Assert.Equal(0L, q.Count, "cancelled: nothing published");
                r.Dispose(); // nothing more to do
                using (var r2 = q.Reserve(40000, TimeSpan.Zero)) // the space came back (two do not fit)
                {
                    Write(r2, Pattern(40000, 2));
                } // disposed uncommitted: cancelled
                Assert.Equal(0L, q.Count, "disposed uncommitted: nothing published");
                byte[] data;
                Assert.True(!q.TryTakeBytes(out data, TimeSpan.Zero), "nothing to take");
                q.PutBytes(Pattern(40000, 3), TimeSpan.Zero); // and the space came back again
                Assert.True(Pattern(40000, 3).SequenceEqual(q.TakeBytes(Short)), "a put after the cancels");
            }
        }

        [Test]
        public void DisposingABorrowedMessageReleasesIt()
        {
            using (var q = NewQueue("disposeborrow", Bytes(64 << 10)))
            {
                q.PutBytes(Pattern(40000, 1));
                var m = q.Borrow(Short);
                Assert.Throws<QueueFullException>(() => q.PutBytes(Pattern(40000, 2), TimeSpan.Zero), "the borrowed message holds its space");
                m.Dispose();
                Assert.True(m.IsReleased, "released by Dispose");
                m.Dispose(); // again: nothing
                q.PutBytes(Pattern(40000, 2), TimeSpan.Zero);
                Assert.True(Pattern(40000, 2).SequenceEqual(q.TakeBytes(Short)), "the space came back");
            }
        }

        [Test]
        public void EndingTwiceIsAnInvalidOperationAndSpansEndWithTheGuard()
        {
            using (var q = NewQueue("twice"))
            {
                var r = q.Reserve(2);
                Write(r, "42");
                r.Commit();
                var e = Assert.ThrowsExactly<InvalidOperationException>(() => r.Commit(), "Commit twice");
                Assert.True(e.Message.Contains(q.Name) && e.Message.Contains("committed"), "the message says so: " + e.Message);
                Assert.ThrowsExactly<InvalidOperationException>(() => r.Cancel(), "Cancel after Commit");
                Assert.ThrowsExactly<ObjectDisposedException>(() => r.Span.ToArray(), "Span after Commit");
                Assert.Equal(2, r.Length, "Length stays readable");
                r.Dispose();
                Assert.Equal("42", q.Take(Short), "committed once");

                var c = q.Reserve(2);
                c.Cancel();
                Assert.ThrowsExactly<InvalidOperationException>(() => c.Commit(), "Commit after Cancel");
                Assert.ThrowsExactly<InvalidOperationException>(() => c.Cancel(), "Cancel twice");
                Assert.ThrowsExactly<ObjectDisposedException>(() => c.Span.ToArray(), "Span after Cancel");

                var d = q.Reserve(2);
                d.Dispose();
                Assert.ThrowsExactly<InvalidOperationException>(() => d.Commit(), "Commit after Dispose");
                Assert.ThrowsExactly<ObjectDisposedException>(() => d.Span.ToArray(), "Span after Dispose");
                Assert.Equal(0L, q.Count, "nothing but the first was published");

                q.Put("7");
                var m = q.Borrow(Short);
                m.Release();
                e = Assert.ThrowsExactly<InvalidOperationException>(() => m.Release(), "Release twice");
                Assert.True(e.Message.Contains(q.Name) && e.Message.Contains("released"), "the message says so: " + e.Message);
                Assert.ThrowsExactly<ObjectDisposedException>(() => m.Span.ToArray(), "Span after Release");
                Assert.ThrowsExactly<ObjectDisposedException>(() => m.GetSpan(0, 1).ToArray(), "GetSpan after Release");
                m.Dispose();

                q.Put("8");
                var n = q.Borrow(Short);
                n.Dispose();
                Assert.ThrowsExactly<InvalidOperationException>(() => n.Release(), "Release after Dispose");
                Assert.Equal(0L, q.Count);
            }
        }

        [Test]
        public void AJsonQueueRejectsInvalidBytesAtCommit()
        {
            using (var q = NewQueue("json", new QueueOptions { CapacityBytes = 64 << 10 }))
            {
                var r = q.Reserve(40000, Short);
                Span<byte> s = r.Span;
                s.Fill((byte)'[');
                var e = Assert.ThrowsExactly<InvalidJsonException>(() => r.Commit(), "Commit of invalid JSON");
                Assert.Equal(Status.InvalidJson, e.Status);
                Assert.True(e.Message.Contains(q.Name), "the message names the queue: " + e.Message);
                Assert.True(r.IsEnded, "the reservation ended (dropped)");
                Assert.ThrowsExactly<ObjectDisposedException>(() => r.Span.ToArray(), "Span after the failed Commit");
                Assert.ThrowsExactly<InvalidOperationException>(() => r.Commit(), "Commit again");
                r.Dispose();
                Assert.Equal(0L, q.Count, "the message was dropped");
                // The queue is still usable, and the dropped space came back (two do not fit).
                string big = "\"" + new string('x', 39998) + "\"";
                using (var ok = q.Reserve(big.Length, TimeSpan.Zero))
                {
                    Write(ok, big);
                    ok.Commit();
                }
                Assert.Equal(big, q.Take(Short), "a valid reservation after the invalid one");
                q.Put("[1,2,3]");
                Assert.Equal("[1,2,3]", q.Take(Short));
            }
        }

        [Test]
        public void AZeroLengthReservation()
        {
            using (var q = NewQueue("zerobytes", Bytes()))
            {
                using (var r = q.Reserve(0, TimeSpan.Zero))
                {
                    Assert.Equal(0, r.Length, "Length");
                    Assert.Equal(0, r.Span.Length, "an empty Span");
                    r.Commit();
                }
                Assert.Equal(1L, q.Count, "an empty message");
                using (var m = q.Borrow(Short))
                {
                    Assert.Equal(0, m.Length, "borrowed empty message");
                    Assert.Equal(0, m.Span.Length, "its empty Span");
                }
                q.PutBytes(new byte[0]);
                Assert.Equal(0, q.TakeBytes(Short).Length, "a plain empty message still round-trips");
            }
            using (var q = NewQueue("zerojson"))
            {
                var r = q.Reserve(0);
                Assert.ThrowsExactly<InvalidJsonException>(() => r.Commit(), "no bytes are no JSON value");
                Assert.Equal(0L, q.Count);
            }
        }

        [Test]
        public void AReservationLargerThanTheQueueCanEverHold()
        {
            using (var q = NewQueue("toolarge", Bytes(64 << 10)))
            {
                var sw = Stopwatch.StartNew();
                var e = Assert.ThrowsExactly<MessageTooLargeException>(() => q.Reserve(1 << 20, null), "1 MiB into a 64 KiB ring, waiting forever");
                Assert.True(sw.Elapsed < Short, "at once, not after a wait: " + sw.ElapsedMilliseconds + " ms");
                Assert.Equal(Status.TooLarge, e.Status);
                Assert.True(e.Message.Contains(q.Name), "the message names the queue: " + e.Message);
                Reservation r;
                Assert.Throws<MessageTooLargeException>(() => q.TryReserve(1 << 20, out r, TimeSpan.Zero), "TryReserve too");
                Assert.Throws<ArgumentOutOfRangeException>(() => q.Reserve(-1), "a negative length");
                Assert.Equal(0L, q.Count);
                using (var ok = q.Reserve(1000, TimeSpan.Zero)) ok.Commit(); // still usable
                Assert.Equal(1000, q.TakeBytes(Short).Length);
            }
            using (var q = NewQueue("maxmessage", new QueueOptions { Format = MessageFormat.Bytes, MaxMessageBytes = 1000 }))
            {
                Assert.ThrowsExactly<MessageTooLargeException>(() => q.Reserve(1001), "past MaxMessageBytes");
                using (var ok = q.Reserve(1000)) ok.Commit();
                Assert.Equal(1000, q.TakeBytes(Short).Length, "exactly MaxMessageBytes");
            }
        }

        [Test]
        public void TryReserveAndTimeoutsOnAFullQueue()
        {
            using (var q = NewQueue("full", new QueueOptions { Format = MessageFormat.Bytes, MaxItems = 1 }))
            {
                q.PutBytes(new byte[] { 1 });
                Reservation r;
                Assert.True(!q.TryReserve(10, out r, TimeSpan.Zero) && r == null, "TryReserve(zero) on a full queue");
                Assert.True(!q.TryReserve(10, out r, TimeSpan.FromMilliseconds(30)) && r == null, "TryReserve(30 ms) on a full queue");
                Assert.ThrowsExactly<QueueFullException>(() => q.Reserve(10, TimeSpan.Zero), "Reserve(zero)");
                var e = Assert.ThrowsExactly<PolyipcTimeoutException>(() => q.Reserve(10, TimeSpan.FromMilliseconds(60)), "Reserve(60 ms)");
                Assert.Equal(Status.Timeout, e.Status);
                using (var cts = new CancellationTokenSource())
                {
                    cts.Cancel();
                    Assert.Throws<OperationCanceledException>(() => q.Reserve(10, null, cts.Token), "a cancelled Reserve");
                }

                // A Reserve waiting for room gets it when a Take makes some.
                byte[] got = null;
                var putter = Spawn(() =>
                {
                    using (var w = q.Reserve(3, Limit))
                    {
                        Write(w, new byte[] { 7, 8, 9 });
                        w.Commit();
                    }
                });
                Assert.Equal(1, q.TakeBytes(Short)[0], "the first message");
                JoinThread(putter, Limit);
                got = q.TakeBytes(Short);
                Assert.True(got.SequenceEqual(new byte[] { 7, 8, 9 }), "the waiting reservation, committed");

                // An outstanding reservation counts towards MaxItems.
                Assert.True(q.TryReserve(4, out r, TimeSpan.Zero), "room for one");
                Assert.True(!q.TryPut("1", TimeSpan.Zero), "the reservation fills the queue");
                r.Cancel();
                Assert.True(q.TryPut("1", TimeSpan.Zero), "room again after Cancel");
            }
        }

        [Test]
        public void TryBorrowAndTimeoutsOnAnEmptyQueue()
        {
            using (var q = NewQueue("empty"))
            {
                Borrowed m;
                Assert.True(!q.TryBorrow(out m, TimeSpan.Zero) && m == null, "TryBorrow(zero) on an empty queue");
                Assert.True(!q.TryBorrow(out m, TimeSpan.FromMilliseconds(30)) && m == null, "TryBorrow(30 ms)");
                Assert.ThrowsExactly<QueueEmptyException>(() => q.Borrow(TimeSpan.Zero), "Borrow(zero)");
                Assert.ThrowsExactly<PolyipcTimeoutException>(() => q.Borrow(TimeSpan.FromMilliseconds(60)), "Borrow(60 ms)");
                using (var cts = new CancellationTokenSource())
                {
                    cts.Cancel();
                    Assert.Throws<OperationCanceledException>(() => q.Borrow(null, cts.Token), "a cancelled Borrow");
                }

                // A Borrow waiting for a message gets the next Put.
                string got = null;
                var getter = Spawn(() =>
                {
                    using (var b = q.Borrow(Limit)) got = Text(b);
                });
                q.Put("\"late\"");
                JoinThread(getter, Limit);
                Assert.Equal("\"late\"", got);

                q.Put("1");
                Assert.True(q.TryBorrow(out m, TimeSpan.Zero), "TryBorrow with a message");
                using (m) Assert.Equal("1", Text(m));

                q.CloseWrites();
                Assert.Throws<QueueClosedException>(() => q.Borrow(Short), "Borrow at end of stream");
                Assert.Throws<QueueClosedException>(() => q.TryBorrow(out m, TimeSpan.Zero), "TryBorrow at end of stream");
                Assert.Throws<QueueClosedException>(() => q.Reserve(1, Short), "Reserve after CloseWrites");
            }
        }

        [Test]
        public void QueueDisposeLeavesOutstandingGuardsWorkingAndClosesAfterTheLast()
        {
            string name = NewName("disposeq");
            using (var other = Queue.Open(name, Bytes()))
            {
                other.PutBytes(new byte[] { 42 });
                var q = Queue.Open(name, Bytes());
                var m = q.Borrow(Short);
                var r = q.Reserve(3, Short);
                var sw = Stopwatch.StartNew();
                q.Dispose();
                Assert.True(sw.Elapsed < Short, "Dispose does not wait for the guards");
                Assert.Throws<ObjectDisposedException>(() => q.PutBytes(new byte[1]), "the Queue's calls after Dispose");
                Assert.Throws<ObjectDisposedException>(() => q.Reserve(1), "Reserve after Dispose");
                Assert.Throws<ObjectDisposedException>(() => q.Borrow(TimeSpan.Zero), "Borrow after Dispose");
                Assert.True(q.IsNativeOpen, "the handle stays open for the guards");
                q.Dispose(); // idempotent, still deferred
                Assert.True(q.IsNativeOpen, "still open after a second Dispose");

                Assert.Equal(42, Read(m)[0], "the borrowed message is still readable");
                Write(r, new byte[] { 1, 2, 3 });
                r.Commit();
                Assert.True(q.IsNativeOpen, "open while the Borrowed is outstanding");
                m.Release();
                Assert.True(!q.IsNativeOpen, "closed when the last guard ended");
                Assert.True(new byte[] { 1, 2, 3 }.SequenceEqual(other.TakeBytes(Short)), "the Commit after Dispose published");
                Assert.Equal(0L, other.Count);

                // Dispose with no guard closes at once; a guard Disposed (not ended explicitly) closes too.
                var q2 = Queue.Open(name, Bytes());
                var r2 = q2.Reserve(5);
                q2.Dispose();
                Assert.True(q2.IsNativeOpen, "deferred for the reservation");
                r2.Dispose();
                Assert.True(!q2.IsNativeOpen, "closed by the guard's Dispose");
                Assert.Equal(0L, other.Count, "the reservation was cancelled");
                var q3 = Queue.Open(name, Bytes());
                q3.Dispose();
                Assert.True(!q3.IsNativeOpen, "no guard: closed by Dispose");
            }
        }

        [Test]
        public void QueueDisposeOnAnotherThreadNeverUnmapsASpanInUse()
        {
            string name = NewName("disposeconc");
            using (var other = Queue.Open(name, Bytes()))
            {
                var q = Queue.Open(name, Bytes());
                using (var reserved = new ManualResetEventSlim())
                using (var disposed = new ManualResetEventSlim())
                {
                    const int n = 100000;
                    var writer = Spawn(() =>
                    {
                        using (var r = q.Reserve(n, Limit))
                        {
                            Span<byte> s = r.Span;
                            s.Slice(0, n / 2).Fill(5);
                            reserved.Set();
                            if (!disposed.Wait(Limit)) throw new TimeoutException("no Dispose");
                            s.Slice(n / 2).Fill(6); // the Queue is disposed: the ring is still mapped
                            r.Commit();
                        }
                    });
                    Assert.True(reserved.Wait(Limit), "the writer reserved");
                    q.Dispose();
                    disposed.Set();
                    JoinThread(writer, Limit);
                }
                Assert.True(!q.IsNativeOpen, "closed once the writer's reservation ended");
                byte[] got = other.TakeBytes(Short);
                Assert.Equal(100000, got.Length, "the message");
                Assert.True(got.Take(50000).All(b => b == 5) && got.Skip(50000).All(b => b == 6), "written before and after the Dispose");
            }
        }

        [Test]
        public void GuardsAreUsableFromAnyThread()
        {
            using (var q = NewQueue("threads", Bytes()))
            {
                var r = q.Reserve(1);
                Write(r, new byte[] { 9 });
                var committer = Spawn(() => r.Commit());
                JoinThread(committer, Limit);
                var m = q.Borrow(Short);
                Assert.Equal(9, Read(m)[0]);
                var releaser = Spawn(() => m.Release());
                JoinThread(releaser, Limit);
                Assert.Equal(0L, q.Count);
                q.PutBytes(new byte[] { 1 }, TimeSpan.Zero);
            }
        }

        [Test]
        public void AJoinableBorrowIsALeaseUntilTaskDone()
        {
            using (var q = NewQueue("joinable", QueueOptions.JoinableQueue()))
            {
                using (var r = q.Reserve(1))
                {
                    Write(r, "7");
                    r.Commit();
                }
                using (var m = q.Borrow(Short)) Assert.Equal("7", Text(m));
                Assert.Throws<PolyipcTimeoutException>(() => q.Join(TimeSpan.Zero), "released, but not done");
                q.TaskDone();
                q.Join(TimeSpan.Zero);
            }
        }

        // ---- across processes ------------------------------------------------------------------

        [Test]
        public void AKilledBorrowerGivesTheMessageBack()
        {
            using (var q = NewQueue("killborrow", Bytes(64 << 10)))
            {
                byte[] big = Pattern(40 << 10, 11); // two do not fit the ring at once
                q.PutBytes(big);
                var child = StartChild("borrow", q.Name);
                Assert.Equal("borrowed " + big.Length + " " + Checksum(big), ReadLine(child, Limit));
                Assert.Equal(0L, q.Count, "the child holds the only message");
                Kill9(child, Limit); // SIGKILL: no Release, no cleanup in the child
                Assert.True(big.SequenceEqual(q.TakeBytes(Limit)), "the message is redelivered to the next getter");
                Assert.Equal(0L, q.Count);
            }
        }

        [Test]
        public void AKilledReserverLosesOnlyItsReservation()
        {
            using (var q = NewQueue("killreserve", Bytes(64 << 10)))
            {
                const int n = 40 << 10; // two do not fit the ring at once
                var child = StartChild("reserve", q.Name, n.ToString());
                Assert.Equal("reserved " + n, ReadLine(child, Limit));
                Kill9(child, Limit);
                byte[] data;
                Assert.True(!q.TryTakeBytes(out data, TimeSpan.Zero), "nothing half-written shows");
                byte[] big = Pattern(n, 12);
                using (var r = q.Reserve(n, Limit)) // the child's space comes back
                {
                    Write(r, big);
                    r.Commit();
                }
                Assert.True(big.SequenceEqual(q.TakeBytes(Short)), "the reservation that needed its space");
            }
        }

        /// <summary>The sum of the bytes, as the child prints it.</summary>
        private static long Checksum(byte[] b)
        {
            long sum = 0;
            foreach (byte x in b) sum += x;
            return sum;
        }
    }
}
