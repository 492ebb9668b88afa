using System;
using System.Threading;

namespace Polyipc.Tests
{
    public class ErrorsTests : Scratch
    {
        [Test]
        public void MalformedJsonIsRejectedAndTheQueueIsUnchanged()
        {
            using (var q = NewQueue("badjson"))
            {
                q.Put("{\"ok\":true}");
                foreach (var bad in new[] { "{bad", "", "{\"a\":1", "[1,]", "nul", "{\"a\":1} trailing", "'single'" })
                {
                    var e = Assert.Throws<InvalidJsonException>(() => q.Put(bad), "Put(" + bad + ")");
                    Assert.Equal(Status.InvalidJson, e.Status);
                    Assert.True(e.Message.Contains("'" + q.Name + "'"), "the message names the queue: " + e.Message);
                }
                Assert.Throws<InvalidJsonException>(() => q.PutBytes(new byte[] { 0xff, 0x7b }), "PutBytes of garbage");
                Assert.Equal(1L, q.Count, "a rejected put leaves the queue as it was");
                Assert.Equal("{\"ok\":true}", q.Take(TimeSpan.Zero));
            }
        }

        [Test]
        public void BadNamesAreRejected()
        {
            var bad = new[] { "", "a/b", "..", "../x", "with space", "a\\b", "ü", new string('x', 201) };
            foreach (var name in bad)
            {
                var e = Assert.Throws<PolyipcArgumentException>(() => Queue.Open(name), "Open(\"" + name + "\")");
                Assert.Equal(Status.InvalidArg, e.Status);
                Assert.Throws<PolyipcArgumentException>(() => Names.Unlink(name), "Unlink(\"" + name + "\")");
            }
            Assert.Throws<PolyipcArgumentException>(() => Queue.Open("a\0b"), "a name with NUL");
            Assert.Throws<ArgumentNullException>(() => Queue.Open(null), "null name");
            using (var q = Queue.Open(NewName(new string('x', 150)))) Assert.True(q.Name.Length <= 200, "a long valid name");
        }

        [Test]
        public void BadArgumentsAreRejectedBeforeTheLibrary()
        {
            using (var q = NewQueue("args"))
            {
                Assert.Throws<ArgumentNullException>(() => q.Put(null), "Put(null)");
                Assert.Throws<ArgumentNullException>(() => q.PutBytes(null), "PutBytes(null)");
                Assert.Throws<ArgumentOutOfRangeException>(() => q.Take(TimeSpan.FromMilliseconds(-5)), "negative timeout");
                Assert.Throws<ArgumentOutOfRangeException>(() => Queue.Open(NewName("neg"), new QueueOptions { MaxItems = -1 }), "negative MaxItems");
                Assert.Equal(0L, q.Count);
            }
        }

        [Test]
        public void UseAfterDisposeIsObjectDisposedException()
        {
            var q = NewQueue("disposed", QueueOptions.JoinableQueue());
            q.Put("1");
            q.Dispose();
            q.Dispose(); // idempotent
            string s;
            Assert.Throws<ObjectDisposedException>(() => q.Put("2"), "Put");
            Assert.Throws<ObjectDisposedException>(() => q.PutBytes(new byte[] { 0x31 }), "PutBytes");
            Assert.Throws<ObjectDisposedException>(() => q.Take(), "Take");
            Assert.Throws<ObjectDisposedException>(() => q.TryTake(out s, TimeSpan.Zero), "TryTake");
            Assert.Throws<ObjectDisposedException>(() => { var n = q.Count; }, "Count");
            Assert.Throws<ObjectDisposedException>(() => q.TaskDone(), "TaskDone");
            Assert.Throws<ObjectDisposedException>(() => q.Join(), "Join");
            Assert.Throws<ObjectDisposedException>(() => q.CloseWrites(), "CloseWrites");
            Assert.Throws<ObjectDisposedException>(() => q.StatJson(), "StatJson");
            using (var again = Queue.Open(q.Name, new QueueOptions { OpenMode = OpenMode.OpenOnly }))
                Assert.Equal(1L, again.Count, "the queue is still there");
        }

        [Test]
        public void ConcurrentDisposeNeverCrashes()
        {
            for (int round = 0; round < 20; round++)
            {
                var q = NewQueue("race");
                var start = new ManualResetEventSlim();
                var users = new Thread[3];
                for (int i = 0; i < users.Length; i++)
                {
                    users[i] = Spawn(() =>
                    {
                        start.Wait();
                        try
                        {
                            for (int k = 0; k < 1000; k++)
                            {
                                q.Put("1");
                                q.Take(TimeSpan.FromSeconds(5));
                            }
                        }
                        catch (ObjectDisposedException)
                        {
                        }
                    });
                }
                var disposer = Spawn(() => { start.Wait(); q.Dispose(); q.Dispose(); });
                start.Set();
                foreach (var t in users) JoinThread(t, TimeSpan.FromSeconds(20));
                JoinThread(disposer, TimeSpan.FromSeconds(20));
            }
        }

        [Test]
        public void StatusesMapToTheirExceptions()
        {
            Assert.True(PolyipcException.FromNative(1, "m") is PolyipcTimeoutException, "timeout");
            Assert.True(PolyipcException.FromNative(2, "m") is QueueEmptyException, "empty");
            Assert.True(PolyipcException.FromNative(4, "m") is QueueClosedException, "closed");
            Assert.True(PolyipcException.FromNative(8, "m") is InvalidJsonException, "invalid json");
            Assert.True(PolyipcException.FromNative(11, "m") is OwnerDeadException, "owner dead");
            Assert.True(PolyipcException.FromNative(14, "m") is NotOwnerException, "not owner");
            Assert.True(PolyipcException.FromNative(15, "m") is BrokenBarrierException, "broken");
            Assert.Equal(Status.Broken, PolyipcException.FromNative(15, "m").Status, "broken status");
            var other = PolyipcException.FromNative(16, "errno text");
            Assert.Equal(Status.System, other.Status);
            Assert.Equal("errno text", other.Message);
            Assert.Equal((Status)99, PolyipcException.FromNative(99, "").Status, "an unknown future status");
            Assert.Equal("POLYIPC_ERR_TIMEOUT", Library.StatusName(Status.Timeout));
        }

        [Test]
        public void TheBindingChecksTheLibraryVersion()
        {
            Assert.Equal(Library.BindingVersionNumber, Library.VersionNumber, "binding and loaded library agree");
            Assert.True(Library.Version.StartsWith(Library.VersionNumber / 1000000 + "."), "version text");
            Library.CheckVersion(1000, 1000);
            var e = Assert.Throws<IncompatibleException>(() => Library.CheckVersion(1000, 2003), "a mismatch");
            Assert.True(e.Message.Contains("0.1.0 (1000)") && e.Message.Contains("0.2.3 (2003)"), "names both versions: " + e.Message);
        }
    }
}
