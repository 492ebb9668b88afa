using System;
using System.Diagnostics;
using System.IO;
using Newtonsoft.Json.Linq;

namespace Polyipc.Tests
{
    /// <summary>Pipes, shared memory and Values across real processes (PolyipcTestChild.exe, kill -9).</summary>
    public class IpcProcessTests : Scratch
    {
        private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);

        [Test]
        public void AKilledPipePeerGivesEndOfStreamWithinABound()
        {
            string name = NewName("killedpeer");
            using (var b = Connection.Open(name, PipeEnd.B))
            {
                var child = StartChild("pipe-send", name, "3", "--hang");
                Assert.Equal("sent 3", ReadLine(child, Limit));
                Assert.Equal("holding", ReadLine(child, Limit));
                for (int i = 0; i < 3; i++)
                    Assert.Equal((long)i, (long)JObject.Parse(b.Receive(Limit))["seq"], "message " + i);
                Assert.True(!b.Poll(TimeSpan.FromMilliseconds(50)), "the peer is alive and sends nothing");
                Kill9(child, Limit); // SIGKILL: end A is never closed
                var sw = Stopwatch.StartNew();
                Assert.Throws<EndOfStreamException>(() => b.Receive(Limit), "end of stream after the kill");
                Assert.True(sw.ElapsedMilliseconds < 2000, "noticed within the bound: " + sw.ElapsedMilliseconds + " ms");
                Assert.Throws<BrokenPipeException>(() => b.Send("1", Limit), "and sends fail");
            }
        }

        [Test]
        public void ARoundTripWithAChildThenEndOfStream()
        {
            string name = NewName("echo");
            using (var a = Connection.Open(name, PipeEnd.A))
            {
                var child = StartChild("pipe-echo", name);
                for (int i = 0; i < 50; i++)
                {
                    a.SendObject(new { seq = i, from = "csharp" }, Limit);
                    Assert.Equal((long)i, (long)a.ReceiveObject<JObject>(Limit)["seq"], "echo " + i);
                }
                a.Dispose(); // the child sees end of stream
                Assert.Equal("eof after 50", ReadLine(child, Limit));
                WaitExit(child, Limit);
            }
        }

        [Test]
        public void ChildrenIncrementAValueExactly()
        {
            using (var v = LongValue.Open(NewName("counter")))
            {
                const int Children = 3, N = 20000;
                var children = new Process[Children];
                for (int c = 0; c < Children; c++) children[c] = StartChild("value-add", v.Name, N.ToString());
                for (int i = 0; i < N; i++) v.Increment(); // this process too, at the same time
                foreach (var child in children)
                {
                    Assert.Equal("added " + N, ReadLine(child, Limit));
                    WaitExit(child, Limit);
                }
                Assert.Equal((long)(Children + 1) * N, v.Value, "every add of every process counted");
            }
        }

        [Test]
        public void AValueLockHeldByAKilledChildIsReportedToTheNextHolder()
        {
            using (var v = LongValue.Open(NewName("vlock")))
            {
                var child = StartChild("value-lock-hold", v.Name);
                Assert.Equal("holding", ReadLine(child, Limit));
                LockGuard g;
                Assert.True(!v.TryAcquire(out g), "the child holds it");
                Assert.Equal(-1L, v.Value, "atomic operations never take the lock");
                Kill9(child, Limit);
                using (var guard = v.Acquire(Limit))
                {
                    Assert.True(guard.PreviousOwnerDied, "the acquire reports the holder's death");
                    v.Value = 0; // repaired
                }
                using (var guard = v.Acquire(Limit)) Assert.True(!guard.PreviousOwnerDied, "the next acquire is normal");
            }
        }

        [Test]
        public void AChildFillsSharedMemoryThisProcessReads()
        {
            using (var shm = SharedMemory.Open(NewName("shmfill"), 65536 + 123))
            {
                var child = StartChild("shm-fill", shm.Name, "17");
                Assert.Equal("filled " + shm.Length, ReadLine(child, Limit));
                WaitExit(child, Limit);
                Span<byte> bytes = shm.Span;
                for (int i = 0; i < bytes.Length; i++)
                    if (bytes[i] != (byte)((i * 131 + 17) & 0xff)) throw new AssertionException("byte " + i + " is " + bytes[i]);
            }
        }
    }
}
