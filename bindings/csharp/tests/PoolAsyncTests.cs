using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Newtonsoft.Json.Linq;

namespace Polyipc.Tests
{
    /// <summary>
    /// Task-based waiting for pool results (PoolResult.WaitAsync, GetAsync, await): the pool's
    /// completion thread receives the results while tasks wait, and every other path that receives
    /// one (Wait, NextResult, Cancel) completes its tasks too.
    /// </summary>
    public class PoolAsyncTests : Scratch
    {
        private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);

        private Pool NewPool(string label, PoolOptions options = null)
        {
            return Pool.Open(NewName(label), options);
        }

        /// <summary>Until <paramref name="t"/> has ended (bounded), without throwing its exception.</summary>
        private static void Settle(Task t, string what)
        {
            try
            {
                t.Wait(Limit);
            }
            catch (AggregateException)
            {
                // looked at by the caller
            }
            Assert.True(t.IsCompleted, what + ": ended within " + Limit.TotalSeconds + " s");
        }

        /// <summary>The exception <paramref name="t"/> faulted with (it must have faulted).</summary>
        private static Exception FaultOf(Task t, string what)
        {
            Settle(t, what);
            Assert.True(t.IsFaulted, what + ": faulted, not " + t.Status);
            return t.Exception.InnerException;
        }

        /// <summary>Until the completion thread <paramref name="t"/> has ended (bounded).</summary>
        private static void AwaitThreadEnd(Thread t, string what)
        {
            Assert.True(t != null, what + ": there was a completion thread");
            Assert.True(t.Join(Limit), what + ": the completion thread ended");
        }

        private static async Task<long> GetAndNoteThread(PoolResult r, List<string> threads)
        {
            long v = await r.GetAsync<long>();
            lock (threads) threads.Add(Thread.CurrentThread.Name ?? "");
            return v;
        }

        [Test]
        public void AThousandTasksAwaitedTogetherAreServedByAWorkerProcess()
        {
            using (var p = NewPool("thousand"))
            {
                const int N = 1000;
                var rs = Enumerable.Range(0, N).Select(i => p.Submit("add", new long[] { i, (long)i * i })).ToList();
                var threads = new List<string>();
                // Every task awaited, nobody calling Wait; the worker comes after, in another process.
                Task<long[]> all = Task.WhenAll(rs.Select(r => GetAndNoteThread(r, threads)));
                Thread completions = p.CompletionThread;
                Assert.True(completions != null, "the first awaiting of a result not here yet started the thread");
                Assert.Equal("polyipc-pool-" + p.Name + "-completions", completions.Name, "its name");
                Assert.True(completions.IsBackground, "a background thread");
                var child = StartChild("pool-serve", p.Name);
                Assert.True(all.Wait(Limit), "every task completed within " + Limit.TotalSeconds + " s");
                long[] values = all.Result;
                for (int i = 0; i < N; i++) Assert.Equal((long)i + (long)i * i, values[i], "task " + i);
                Assert.True(rs.All(r => r.IsCompleted && !r.IsFaulted), "every PoolResult completed");
                Assert.Equal(N, threads.Count, "every continuation ran");
                Assert.True(threads.All(t => t != completions.Name), "no continuation ran on the completion thread");
                AwaitThreadEnd(completions, "nothing left to wait for");
                Assert.True(p.CompletionThread == null, "and none runs");
                Task<string> who = p.Submit("whoami", null).GetAsync<string>();
                Settle(who, "whoami");
                Assert.Equal("csharp-child", who.Result, "the worker is the child");
                p.CloseTasks();
                Assert.Equal("served " + (N + 1), ReadLine(child, Limit));
                WaitExit(child, Limit);
                Assert.Throws<PolyipcArgumentException>(() => p.NextResult(TimeSpan.Zero), "no result left behind");
            }
        }

        private static async Task<string> AwaitTheText(PoolResult r)
        {
            try
            {
                await r;
                return "no exception";
            }
            catch (PoolTaskException e)
            {
                return e.Message;
            }
        }

        [Test]
        public void AFailedTaskFaultsWithPoolTaskExceptionCarryingTheWorkersText()
        {
            using (var p = NewPool("failed"))
            {
                PoolResult r = p.Submit("divide", new { x = 1, y = 0 });
                Task<JToken> waiting = r.WaitAsync();
                Task<long> getting = r.GetAsync<long>();
                Task<string> awaited = AwaitTheText(r);
                Assert.True(!waiting.IsCompleted, "no result yet");
                using (PoolTask t = p.Take(Limit)) t.Fail("division by zero \u00e9");
                var e = FaultOf(waiting, "WaitAsync") as PoolTaskException;
                Assert.True(e != null && e.GetType() == typeof(PoolTaskException), "PoolTaskException");
                Assert.Equal("division by zero \u00e9", e.Message, "the worker's text, exactly");
                Assert.Equal(r.Id, e.TaskId);
                Assert.Equal("divide", e.Function);
                Assert.True(FaultOf(getting, "GetAsync") is PoolTaskException, "GetAsync: the same");
                Assert.True(awaited.Wait(Limit), "await ended");
                Assert.Equal("division by zero \u00e9", awaited.Result, "await throws it");
                Assert.True(r.IsFaulted, "the PoolResult too");
                // Received already: at once, and the same.
                Task<JToken> again = r.WaitAsync();
                Assert.True(again.IsFaulted, "a later WaitAsync: faulted at once");
                Assert.Equal("division by zero \u00e9", again.Exception.InnerException.Message, "with the text");
                Assert.Throws<PoolTaskException>(() => r.Wait(TimeSpan.Zero), "as Wait throws");
            }
        }

        [Test]
        public void ACancelledTaskEndsCanceled()
        {
            using (var p = NewPool("cancel"))
            {
                PoolResult r = p.Submit("f", 1); // no worker runs: nobody can take it
                Task<JToken> waiting = r.WaitAsync();
                Task<long> getting = r.GetAsync<long>();
                Assert.True(p.CompletionThread != null, "the thread waits for it");
                Assert.True(r.Cancel(), "cancelled");
                Settle(waiting, "WaitAsync");
                Assert.True(waiting.IsCanceled, "WaitAsync: canceled, not " + waiting.Status);
                Assert.Throws<OperationCanceledException>(() => waiting.GetAwaiter().GetResult(), "awaiting it throws");
                Settle(getting, "GetAsync");
                Assert.True(getting.IsCanceled, "GetAsync: canceled, not " + getting.Status);
                Task<JToken> again = r.WaitAsync();
                Assert.True(again.IsCanceled, "a later WaitAsync: canceled at once");
                Assert.Throws<OperationCanceledException>(() => r.Wait(TimeSpan.Zero), "as Wait throws");
                PoolTask none;
                Assert.True(!p.TryTake(out none, TimeSpan.Zero), "it never runs");
                p.Join(TimeSpan.Zero);
            }
        }

        [Test]
        public void DisposingThePoolFaultsTheTasksStillWaitingAndEndsTheThread()
        {
            PoolResult done, pending;
            Task<JToken> a, b, viaToken;
            Thread completions;
            var cts = new CancellationTokenSource();
            using (var p = NewPool("disposed"))
            {
                done = p.Submit("f", 1);
                pending = p.Submit("f", 2);
                PoolResult other = p.Submit("f", 3);
                using (PoolTask t = p.Take(Limit)) t.Complete(10);
                Assert.Equal(10L, done.Get<long>(Limit), "one result came");
                a = pending.WaitAsync();
                b = other.WaitAsync();
                viaToken = pending.WaitAsync(cts.Token);
                completions = p.CompletionThread;
                Assert.True(completions != null, "the thread waits for them");
                Exception waited = null;
                Thread waiter = Spawn(() =>
                {
                    try
                    {
                        other.Wait(Limit);
                    }
                    catch (ObjectDisposedException e)
                    {
                        Volatile.Write(ref waited, e);
                    }
                });
                var sw = Stopwatch.StartNew();
                p.Dispose();
                foreach (var t in new[] { a, b, viaToken })
                {
                    Assert.True(FaultOf(t, "a task still waiting") is ObjectDisposedException, "ObjectDisposedException");
                }
                Assert.True(sw.ElapsedMilliseconds < 1000, "at once: " + sw.ElapsedMilliseconds + " ms");
                AwaitThreadEnd(completions, "after Dispose");
                Assert.True(completions.Join(TimeSpan.Zero) && p.CompletionThread == null, "none runs");
                JoinThread(waiter, Limit);
                Assert.True(Volatile.Read(ref waited) != null, "a Wait in progress ended with ObjectDisposedException");

                // What Wait throws then, and what it returns: the same.
                Type disposedType = Assert.Throws<ObjectDisposedException>(() => pending.Wait(TimeSpan.Zero), "Wait after Dispose").GetType();
                Assert.Equal(disposedType, FaultOf(a, "a").GetType(), "the exception Wait throws");
                Assert.True(FaultOf(pending.WaitAsync(), "WaitAsync after Dispose") is ObjectDisposedException, "at once");
                Assert.True(FaultOf(pending.GetAsync<long>(), "GetAsync after Dispose") is ObjectDisposedException, "GetAsync too");
                Task<JToken> received = done.WaitAsync();
                Assert.True(received.IsCompleted && (long)received.Result == 10, "a result received before stays");
                Assert.True(p.CompletionThread == null, "no thread started after Dispose");
            }
            cts.Cancel(); // after the fault: nothing changes
            Assert.True(viaToken.IsFaulted, "still faulted");
            cts.Dispose();
        }

        [Test]
        public void WaitInOtherThreadsAndWaitAsyncTogetherLoseNothing()
        {
            using (var p = NewPool("mix"))
            {
                const int N = 400;
                var rs = Enumerable.Range(0, N).Select(i => p.Submit("neg", i)).ToList();
                // Each task awaited, some twice; before any worker runs, so the thread waits for them.
                var tasks = rs.Select(r => r.WaitAsync()).ToList();
                var twice = rs.Where((r, i) => i % 5 == 0).Select(r => r.GetAsync<long>()).ToList();
                // Two threads wait for theirs by id (Wait), one takes any result (NextResult): the
                // completion thread shares the results with it.
                var waiters = Enumerable.Range(0, 2).Select(k => Spawn(() =>
                {
                    for (int i = k; i < N; i += 3)
                        if (rs[i].Get<long>(Limit) != -i) throw new Exception("task " + i + ": wrong result");
                })).ToList();
                int anyCount = 0;
                var any = Spawn(() =>
                {
                    try
                    {
                        for (;;)
                        {
                            PoolResult r = p.NextResult(Limit);
                            if (!r.IsCompleted || r.Get<long>(TimeSpan.Zero) != -(long)(r.Id - 1)) throw new Exception("wrong: " + r);
                            anyCount++;
                        }
                    }
                    catch (PolyipcArgumentException)
                    {
                        // none left to come to it
                    }
                });
                var handlers = new Dictionary<string, Func<JToken, object>> { { "neg", a => -(long)a } };
                var workers = Enumerable.Range(0, 2).Select(_ => Spawn(() =>
                {
                    using (var w = Pool.Open(p.Name)) w.Serve(handlers);
                })).ToList();
                Task all = Task.WhenAll(tasks.Cast<Task>().Concat(twice));
                Assert.True(all.Wait(Limit), "every task completed within " + Limit.TotalSeconds + " s");
                for (int i = 0; i < N; i++) Assert.Equal((long)-i, (long)tasks[i].Result, "task " + i);
                for (int k = 0; k < twice.Count; k++) Assert.Equal((long)-5 * k, twice[k].Result, "GetAsync " + k);
                foreach (var t in waiters) JoinThread(t, Limit);
                JoinThread(any, Limit);
                Assert.True(rs.All(r => r.IsCompleted && !r.IsFaulted), "every PoolResult completed, once");
                Assert.Throws<PolyipcArgumentException>(() => p.NextResult(TimeSpan.Zero), "no result left behind");
                Console.WriteLine("  (NextResult got " + anyCount + " of " + N + ")");
                p.CloseTasks();
                foreach (var t in workers) JoinThread(t, Limit);
            }
        }

        [Test]
        public void TheTokenOfWaitAsyncCancelsTheAwaitingOnly()
        {
            using (var p = NewPool("token"))
            using (var cts = new CancellationTokenSource())
            {
                PoolResult r = p.Submit("f", 1);
                Task<JToken> cancelled = r.WaitAsync(cts.Token);
                Task<long> alsoCancelled = r.GetAsync<long>(cts.Token);
                Task<JToken> staying = r.WaitAsync();
                Thread completions = p.CompletionThread;
                Assert.True(completions != null, "the thread waits for it");
                cts.Cancel();
                Settle(cancelled, "WaitAsync(ct)");
                Assert.True(cancelled.IsCanceled, "canceled, not " + cancelled.Status);
                var oce = Assert.Throws<OperationCanceledException>(() => cancelled.GetAwaiter().GetResult(), "awaiting it");
                Assert.True(oce.CancellationToken == cts.Token, "with the token");
                Settle(alsoCancelled, "GetAsync(ct)");
                Assert.True(alsoCancelled.IsCanceled, "GetAsync: canceled, not " + alsoCancelled.Status);
                Assert.True(!r.IsCompleted && !staying.IsCompleted, "the pool task and the other awaiting go on");
                Assert.True(r.WaitAsync(cts.Token).IsCanceled, "a cancelled token: canceled at once");

                // The task is still in the pool and runs.
                using (PoolTask t = p.Take(Limit))
                {
                    Assert.Equal(r.Id, t.Id, "not cancelled");
                    t.Complete(42);
                }
                Settle(staying, "the other awaiting");
                Assert.Equal(42L, (long)staying.Result, "it got the value");
                AwaitThreadEnd(completions, "idle");

                // A token cancelled with nothing else waiting: the thread ends; the result comes later.
                PoolResult r2 = p.Submit("f", 2);
                using (var cts2 = new CancellationTokenSource())
                {
                    Task<JToken> w = r2.WaitAsync(cts2.Token);
                    Thread second = p.CompletionThread;
                    cts2.Cancel();
                    Settle(w, "WaitAsync(ct) again");
                    Assert.True(w.IsCanceled, "canceled");
                    AwaitThreadEnd(second, "no awaiting left");
                    using (PoolTask t = p.Take(Limit)) t.Complete(43);
                }
                Assert.True(!r2.IsCompleted, "nobody received it yet");
                Task<JToken> later = r2.WaitAsync();
                Settle(later, "a later WaitAsync");
                Assert.Equal(43L, (long)later.Result, "returns its value");
                Assert.True(r.WaitAsync(cts.Token).Result.Value<long>() == 42, "received: the value, whatever the token");
            }
        }

        [Test]
        public void TheCompletionThreadEndsWhenIdleAndStartsAgainOnDemand()
        {
            using (var p = NewPool("idle"))
            {
                Assert.True(p.CompletionThread == null, "none before any WaitAsync");
                PoolResult r1 = p.Submit("f", 1);
                Task<JToken> t1 = r1.WaitAsync();
                Thread first = p.CompletionThread;
                Assert.True(first != null && first.IsAlive, "started by the awaiting");
                using (PoolTask t = p.Take(Limit)) t.Complete(1);
                Settle(t1, "first");
                Assert.Equal(1L, (long)t1.Result, "first value");
                AwaitThreadEnd(first, "idle");
                Assert.True(p.CompletionThread == null, "none runs");
                Assert.True(r1.WaitAsync().IsCompleted && p.CompletionThread == null, "a result here: no thread");

                // Started again by the next awaiting of a result not here yet.
                PoolResult r2 = p.Submit("f", 2);
                Task<long> t2 = r2.GetAsync<long>();
                Thread second = p.CompletionThread;
                Assert.True(second != null && second != first, "a new thread");
                using (PoolTask t = p.Take(Limit)) t.Complete(2);
                Settle(t2, "second");
                Assert.Equal(2L, t2.Result, "second value");
                AwaitThreadEnd(second, "idle again");

                // A result already in this handle's result queue (not received yet): the thread comes for it.
                PoolResult r3 = p.Submit("f", 3);
                using (PoolTask t = p.Take(Limit)) t.Complete(3);
                Task<JToken> t3 = r3.WaitAsync();
                Thread third = p.CompletionThread; // (may have come and gone already)
                Settle(t3, "third");
                Assert.Equal(3L, (long)t3.Result, "third value");
                if (third != null) AwaitThreadEnd(third, "idle once more");

                // Completed by a Wait in another thread while the thread waits for it: the task
                // completes, the thread ends. Meanwhile result(0) has nothing for the thread (the one
                // task out is awaited by id): it waits on the monitor, it does not spin.
                PoolResult r4 = p.Submit("f", 4);
                Task<JToken> t4 = r4.WaitAsync();
                Thread fourth = p.CompletionThread;
                Assert.True(fourth != null, "started");
                Thread byId = Spawn(() => r4.Wait(Limit));
                TimeSpan cpu = Process.GetCurrentProcess().TotalProcessorTime;
                var window = Stopwatch.StartNew();
                Assert.True(!t4.Wait(TimeSpan.FromMilliseconds(400)), "no result yet");
                double used = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMilliseconds;
                Assert.True(used < window.ElapsedMilliseconds / 2.0,
                    "the process used " + used.ToString("0") + " ms of CPU in " + window.ElapsedMilliseconds + " ms (a spin?)");
                using (PoolTask t = p.Take(Limit)) t.Complete(4);
                JoinThread(byId, Limit);
                Settle(t4, "fourth");
                Assert.Equal(4L, (long)t4.Result, "fourth value");
                AwaitThreadEnd(fourth, "idle at the end");
            }
        }
    }
}
