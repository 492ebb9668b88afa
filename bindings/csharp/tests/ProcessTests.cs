using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Newtonsoft.Json.Linq;

namespace Polyipc.Tests
{
    /// <summary>Real processes: the child is a separate mono process running PolyipcTestChild.exe.</summary>
    public class ProcessTests : Scratch
    {
        private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);

        [Test]
        public void AChildProducesAndThisProcessConsumes()
        {
            using (var q = NewQueue("fromchild"))
            {
                const int n = 200;
                var child = StartChild("produce", q.Name, n.ToString());
                var seen = new HashSet<int>();
                for (int k = 0; k < n; k++)
                {
                    var m = JObject.Parse(q.Take(Limit));
                    Assert.Equal("csharp-child", (string)m["from"]);
                    Assert.True(seen.Add((int)m["i"]), "no duplicates");
                }
                Assert.Equal("produced " + n, ReadLine(child, Limit));
                WaitExit(child, Limit);
                Assert.True(seen.SetEquals(Enumerable.Range(0, n)), "every message arrived");
            }
        }

        [Test]
        public void ThisProcessProducesAndAChildConsumesToTheEndOfStream()
        {
            using (var q = NewQueue("tochild", new QueueOptions { MaxItems = 16 }))
            {
                const int n = 300;
                var child = StartChild("consume", q.Name);
                for (int k = 0; k < n; k++) q.PutObject(new { i = k }, Limit);
                q.CloseWrites();
                Assert.Equal("consumed " + n + " " + (n * (n - 1) / 2), ReadLine(child, Limit));
                WaitExit(child, Limit);
            }
        }

        [Test]
        public void AKilledLeaseHolderLosesNoWork()
        {
            using (var q = NewQueue("lease", QueueOptions.JoinableQueue()))
            {
                q.Put("{\"job\":1}");
                var child = StartChild("hold", q.Name);
                Assert.Equal("holding {\"job\":1}", ReadLine(child, Limit));
                Assert.Equal(0L, q.Count, "the child holds the only message");
                Assert.Throws<PolyipcTimeoutException>(() => q.Join(TimeSpan.Zero), "join while the lease is held");
                Kill9(child, Limit); // SIGKILL: no TaskDone, no cleanup in the child
                Assert.Equal("{\"job\":1}", q.Take(Limit), "the job is redelivered");
                q.TaskDone();
                q.Join(Limit);
                var stat = JObject.Parse(q.StatJson());
                Assert.True((long)stat["counters"]["redeliveries"] >= 1, "stat counts the redelivery: " + stat);
            }
        }

        [Test]
        public void AKilledConsumerThatEndedItemsByMessageLeavesOnlyItsUnfinishedOne()
        {
            using (var q = NewQueue("donemsg", QueueOptions.JoinableQueue()))
            {
                foreach (var m in new[] { "\"a\"", "\"b\"", "\"c\"" }) q.Put(m);
                var child = StartChild("done-out-of-order", q.Name);
                // The child ended "c" and "b" by message; "a", the oldest, it still holds.
                Assert.Equal("holding \"a\" done \"c\" \"b\"", ReadLine(child, Limit));
                Assert.Equal(0L, q.Count, "the child took all three");
                Assert.Throws<PolyipcTimeoutException>(() => q.Join(TimeSpan.Zero), "join while \"a\" is held");
                Kill9(child, Limit); // SIGKILL: no TaskDone, no cleanup in the child
                Assert.Equal("\"a\"", q.Take(Limit), "the unfinished one is handed out again");
                string more;
                Assert.True(!q.TryTake(out more, TimeSpan.FromMilliseconds(300)), "nothing else is handed out again: " + more);
                Assert.Throws<PolyipcTimeoutException>(() => q.Join(TimeSpan.Zero), "join while this process holds \"a\"");
                q.TaskDone("\"a\"");
                q.Join(Limit);
            }
        }

        [Test]
        public void TheDemoProducerAndWorkerExchangeJobs()
        {
            string dir = Environment.GetEnvironmentVariable("POLYIPC_CSHARP_EXAMPLES_DIR");
            if (string.IsNullOrEmpty(dir) || !File.Exists(Path.Combine(dir, "worker.exe")))
            {
                Console.WriteLine("  (examples not built: skipped)");
                return;
            }
            // demo.jobs is a fixed name: a namespace of its own for the children.
            var env = new Dictionary<string, string> { { "POLYIPC_NAMESPACE", Library.Namespace + "-demo-" + System.Diagnostics.Process.GetCurrentProcess().Id } };
            try
            {
                var worker = StartMono(Path.Combine(dir, "worker.exe"), env);
                var producer = StartMono(Path.Combine(dir, "producer.exe"), env, "5");
                var lines = new List<string>();
                for (int i = 0; i < 5; i++) lines.Add(ReadLine(worker, Limit));
                WaitExit(producer, Limit);
                WaitExit(worker, Limit);
                for (int i = 1; i <= 5; i++)
                    Assert.True(lines.Any(l => l.StartsWith("worker csharp pid ") && l.EndsWith(": job " + i + " done")), "job " + i + " in " + string.Join(" | ", lines));
            }
            finally
            {
                var cleanup = StartMono(Path.Combine(AppDomain.CurrentDomain.BaseDirectory, "PolyipcTestChild.exe"), env, "unlink", "demo.jobs");
                cleanup.WaitForExit(30000);
            }
        }
    }
}
