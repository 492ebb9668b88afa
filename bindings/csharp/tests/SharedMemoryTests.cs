using System;
using System.IO;
using System.Threading;

namespace Polyipc.Tests
{
    /// <summary>SharedMemory, LongValue/DoubleValue and LongArray/DoubleArray within this process.</summary>
    public class SharedMemoryTests : Scratch
    {
        private static readonly TimeSpan Limit = TimeSpan.FromSeconds(20);

        [Test]
        public void CreateAttachAndShareTheBytes()
        {
            string name = NewName("shm");
            using (var shm = SharedMemory.Open(name, 10000))
            using (var other = SharedMemory.Attach(name))
            {
                Assert.Equal(10000L, shm.Length, "size");
                Assert.Equal(10000L, other.Length, "attached whatever the size");
                Span<byte> bytes = shm.Span;
                Assert.True(bytes.Length == 10000 && bytes.IndexOfAnyExcept0() < 0, "zeroed");
                bytes[0] = 1;
                bytes[9999] = 2;
                Assert.True(other.Span[0] == 1 && other.Span[9999] == 2, "the other handle sees the writes");
                Assert.Throws<IndexOutOfRangeException>(() => { var s = shm.Span; s[10000] = 1; }, "a Span is bounds-checked");
                Assert.Throws<ArgumentOutOfRangeException>(() => shm.GetSpan(9990, 11), "GetSpan outside");
                Assert.Equal(5, shm.GetSpan(9995, 5).Length, "GetSpan inside");
                shm.Access(b => { b[5000] = 7; });
                Assert.Equal(7, other.Access(b => (int)b[5000]), "Access");
                using (var stream = other.OpenStream())
                {
                    stream.Position = 100;
                    stream.Write(new byte[] { 9, 8, 7 }, 0, 3);
                }
                Assert.True(shm.Span[100] == 9 && shm.Span[102] == 7, "a stream writes the same bytes");
                Assert.Equal(10000, shm.ToArray().Length, "ToArray");

                Assert.Throws<IncompatibleException>(() => SharedMemory.Open(name, 20000), "another size");
                using (var again = SharedMemory.Open(name, 10000)) Assert.Equal(1, again.Span[0], "the same size attaches");
            }
            Assert.Throws<NotFoundException>(() => SharedMemory.Attach(NewName("missing")), "attach a missing name");
            Assert.Throws<NotFoundException>(() => SharedMemory.Open(NewName("missing0"), 0), "size 0, missing");
            Assert.Throws<PolyipcArgumentException>(() => SharedMemory.Open(NewName("zero"), 0, new SyncOptions { OpenMode = OpenMode.CreateOnly }), "create size 0");
            Assert.Throws<ArgumentOutOfRangeException>(() => SharedMemory.Open(NewName("neg"), -1), "negative size");
            var e = Assert.Throws<PolyipcException>(() => SharedMemory.Open(NewName("huge"), 1L << 43), "larger than /dev/shm");
            Assert.Equal(Status.NoMemory, e.Status, "NO_MEMORY");
        }

        [Test]
        public void UseAfterDisposeIsACleanErrorAndViewsKeepTheMapping()
        {
            string name = NewName("shmdispose");
            var shm = SharedMemory.Open(name, 4096);
            var stream = shm.OpenStream();
            var view = shm.Span; // (mcs cannot write through shm.Span[i] directly; Roslyn can)
            view[10] = 42;
            shm.Dispose();
            shm.Dispose(); // idempotent
            Assert.Throws<ObjectDisposedException>(() => { var s = shm.Span; }, "Span after Dispose");
            Assert.Throws<ObjectDisposedException>(() => shm.Access(b => { b[0] = 1; }), "Access after Dispose");
            Assert.Throws<ObjectDisposedException>(() => shm.OpenStream(), "OpenStream after Dispose");
            Assert.Throws<ObjectDisposedException>(() => { var n = shm.Length; }, "Length after Dispose");
            Assert.Throws<ObjectDisposedException>(() => shm.GetSpan(0, 1), "GetSpan after Dispose");

            // the stream holds the mapping: it still reads and writes the shared bytes
            stream.Position = 10;
            Assert.Equal(42, stream.ReadByte(), "the stream reads after the handle's Dispose");
            stream.WriteByte(43);
            using (var other = SharedMemory.Attach(name)) Assert.Equal(43, (int)other.Span[11], "and writes the shared bytes");
            stream.Dispose();
            Assert.Throws<ObjectDisposedException>(() => stream.ReadByte(), "a disposed stream");

            // an Access callback running while another thread disposes keeps a valid span
            using (var entered = new ManualResetEventSlim())
            using (var disposed = new ManualResetEventSlim())
            {
                var shm2 = SharedMemory.Open(name, 4096);
                var worker = Spawn(() => shm2.Access(b =>
                {
                    entered.Set();
                    Assert.True(disposed.Wait(Limit), "disposed meanwhile");
                    b.Fill(5); // still mapped
                    Assert.Equal(5, (int)b[4095], "writes land");
                }));
                Assert.True(entered.Wait(Limit), "the callback runs");
                shm2.Dispose(); // returns at once; the unmapping waits for the callback
                disposed.Set();
                JoinThread(worker, Limit);
                using (var other = SharedMemory.Attach(name)) Assert.Equal(5, (int)other.Span[4095], "the callback's writes are shared");
            }
        }

        [Test]
        public void AMappingOutlivesTheUnlinkOfItsName()
        {
            string name = NewName("shmunlink");
            using (var shm = SharedMemory.Open(name, 4096))
            {
                var view = shm.Span;
                view[0] = 77;
                shm.Unlink();
                Assert.Throws<NotFoundException>(() => SharedMemory.Attach(name), "the name is gone");
                view[1] = 78;
                Assert.True(shm.Span[0] == 77 && shm.Span[1] == 78, "the mapping works");
                using (var fresh = SharedMemory.Open(name, 4096)) Assert.Equal(0, (int)fresh.Span[0], "a new block under the name");
            }
        }

        // ---- Value and Array ----------------------------------------------------------------------

        [Test]
        public void LongValueAndArrayAtomicOperations()
        {
            using (var v = LongValue.Open(NewName("lv")))
            {
                Assert.Equal(0L, v.Value, "starts at 0");
                Assert.Equal(5L, v.Add(5), "Add returns the new value");
                Assert.Equal(6L, v.Increment(), "Increment");
                Assert.Equal(5L, v.Decrement(), "Decrement");
                Assert.Equal(5L, v.CompareExchange(9, 4), "CompareExchange returns what it found");
                Assert.Equal(5L, v.Read(), "not replaced");
                Assert.Equal(5L, v.CompareExchange(9, 5), "found the comparand");
                Assert.Equal(9L, v.Value, "replaced");
                Assert.Equal(9L, v.Exchange(long.MaxValue), "Exchange returns the value before");
                Assert.Equal(long.MinValue, v.Increment(), "wraps");
                v.Value = -3;
                Assert.Equal(-3L, v.Read(), "Value setter");
                Assert.Equal(1, v.Length, "a Value is an array of one");
            }
            string name = NewName("la");
            using (var a = LongArray.Open(name, 5))
            using (var same = LongArray.Open(name, 0))
            {
                Assert.Equal(5, same.Length, "length 0 attaches whatever the length");
                a[4] = 40;
                a.Add(0, 7);
                Assert.Equal(40L, same[4], "shared");
                Assert.Equal("7,0,0,0,40", string.Join(",", same.ToArray()), "ToArray");
                Assert.Throws<ArgumentOutOfRangeException>(() => { var x = a[5]; }, "index 5 of 5");
                Assert.Throws<ArgumentOutOfRangeException>(() => a[-1] = 1, "index -1");
                Assert.Throws<ArgumentOutOfRangeException>(() => a.CompareExchange(5, 1, 0), "CompareExchange out of range");
                Assert.Throws<IncompatibleException>(() => LongArray.Open(name, 6), "another length");
                Assert.Throws<IncompatibleException>(() => DoubleArray.Open(name, 5), "another type");
                Assert.Throws<IncompatibleException>(() => LongValue.Open(name), "a Value is of length 1");
            }
        }

        [Test]
        public void DoubleValueAndArrayAtomicOperations()
        {
            using (var d = DoubleValue.Open(NewName("dv")))
            {
                Assert.Equal(0.0, d.Value, "starts at 0");
                Assert.Equal(2.5, d.Add(2.5), "Add returns the new value");
                Assert.Equal(2.5, d.CompareExchange(1.0, 3.0), "not the comparand");
                Assert.Equal(2.5, d.CompareExchange(1.0, 2.5), "the comparand");
                Assert.Equal(1.0, d.Exchange(double.NaN), "Exchange");
                Assert.Equal(double.NaN, d.CompareExchange(-0.0, double.NaN), "NaN compares by its bits");
                Assert.True(BitConverter.DoubleToInt64Bits(d.Value) == BitConverter.DoubleToInt64Bits(-0.0), "-0.0 stored");
                Assert.Equal(-0.0, d.CompareExchange(7.0, 0.0), "0.0 is not -0.0");
                Assert.True(BitConverter.DoubleToInt64Bits(d.Value) == BitConverter.DoubleToInt64Bits(-0.0), "unchanged");
            }
            using (var a = DoubleArray.Open(NewName("da"), 3))
            {
                a[2] = 1.5;
                a.Add(2, 0.25);
                Assert.Equal("0,0,1.75", string.Join(",", Array.ConvertAll(a.ToArray(), x => x.ToString(System.Globalization.CultureInfo.InvariantCulture))), "ToArray");
                Assert.Throws<ArgumentOutOfRangeException>(() => a.Read(3), "out of range");
                Assert.Throws<IncompatibleException>(() => LongArray.Open(a.Name, 3), "another type");
            }
        }

        [Test]
        public void ThreadsAddExactlyAndTheLockGuardsCompoundUpdates()
        {
            using (var v = LongValue.Open(NewName("count")))
            using (var pair = LongArray.Open(NewName("pair"), 2))
            {
                const int Threads = 4, N = 5000;
                var threads = new Thread[Threads];
                for (int t = 0; t < Threads; t++)
                {
                    threads[t] = Spawn(() =>
                    {
                        for (int i = 0; i < N; i++)
                        {
                            v.Increment();
                            if (i % 50 == 0)
                            {
                                using (pair.Acquire(Limit))
                                {
                                    long x = pair[0];
                                    pair[0] = x + 1;    // a compound update: read, then write
                                    pair[1] = pair[1] + 2;
                                }
                            }
                        }
                    });
                }
                foreach (var t in threads) JoinThread(t, Limit);
                Assert.Equal((long)Threads * N, v.Value, "every add counted");
                Assert.Equal(Threads * N / 50L, pair[0], "every locked update counted");
                Assert.Equal(2 * pair[0], pair[1], "consistent pair");

                LockGuard g;
                using (var held = pair.Acquire(Limit))
                {
                    Assert.True(!held.PreviousOwnerDied, "a normal acquire");
                    bool other = true;
                    var t = Spawn(() => { LockGuard x; other = pair.TryAcquire(TimeSpan.FromMilliseconds(50), out x); });
                    JoinThread(t, Limit);
                    Assert.True(!other, "another thread cannot take it");
                }
                Assert.True(pair.TryAcquire(out g), "free again");
                g.Dispose();
                Assert.Throws<NotOwnerException>(() => pair.Release(), "release without holding");
            }
        }
    }

    internal static class SpanTestExtensions
    {
        public static int IndexOfAnyExcept0(this Span<byte> s)
        {
            for (int i = 0; i < s.Length; i++)
                if (s[i] != 0) return i;
            return -1;
        }
    }
}
