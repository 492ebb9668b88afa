using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace Polyipc.Tests
{
    /// <summary>Worker pools: one process (this one, several threads) and workers in child processes.</summary>
    public class PoolTests : Scratch
    {
        private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);

        private Pool NewPool(string label, PoolOptions options = null)
        {
            return Pool.Open(NewName(label), options);
        }

        public class Pair
        {
            [JsonProperty("a")] public long A { get; set; }
            [JsonProperty("b")] public string B { get; set; }
        }

        [Test]
        public void ATaskGoesToAWorkerAndItsResultBackToTheSubmitter()
        {
            using (var p = NewPool("roundtrip"))
            {
                PoolResult r = p.Submit("add", new[] { 1, 2 });
                Assert.Equal(1UL, r.Id, "the first task id of a handle");
                Assert.Equal("add", r.Function);
                Assert.True(!r.IsCompleted, "not finished yet");
                using (PoolTask t = p.Take(TimeSpan.Zero))
                {
                    Assert.Equal(r.Id, t.Id, "task id");
                    Assert.Equal("add", t.Function);
                    Assert.Equal("[1,2]", t.ArgsJson, "args as sent");
                    Assert.Equal(JTokenType.Array, t.Args.Type);
                    long[] args = t.ArgsAs<long[]>();
                    Assert.True(t.Pool == p, "the task's pool");
                    t.Complete(args[0] + args[1]);
                    Assert.True(t.IsFinished, "finished");
                }
                Assert.Equal(3L, r.Get<long>(Limit), "the result");
                Assert.True(r.IsCompleted && !r.IsFaulted, "completed ok");
                Assert.Equal(3L, (long)r.Result, "Result returns it again at once");
                Assert.Equal(3L, (long)r.Wait(TimeSpan.Zero), "and Wait");
                var m = JObject.Parse(r.MessageJson);
                Assert.Equal(true, (bool)m["ok"], "the message");
                Assert.Equal((long)r.Id, (long)m["id"], "the message's id");

                // Objects in, objects out; text as sent, Unicode included.
                PoolResult r2 = p.Submit("echo \u00e9\U0001F600", new Pair { A = 7, B = "\u00fc\U0001F600" });
                using (PoolTask t = p.Take(Limit))
                {
                    Assert.Equal("echo \u00e9\U0001F600", t.Function, "any text as a function name");
                    Pair pair = t.ArgsAs<Pair>();
                    Assert.Equal(7L, pair.A);
                    Assert.Equal("\u00fc\U0001F600", pair.B);
                    t.Complete(t.Args);
                }
                Pair back = r2.Get<Pair>(Limit);
                Assert.Equal(7L, back.A);
                Assert.Equal("\u00fc\U0001F600", back.B);

                // Raw JSON in; a JSON null result; a date-like string stays a string.
                PoolResult r3 = p.SubmitJson("raw", " {\"when\": \"2020-01-02T03:04:05Z\", \"n\": [1.5, null]} ");
                using (PoolTask t = p.Take(Limit))
                {
                    Assert.Equal(" {\"when\": \"2020-01-02T03:04:05Z\", \"n\": [1.5, null]} ", t.ArgsJson, "byte for byte");
                    Assert.Equal(JTokenType.String, t.Args["when"].Type, "no date conversion");
                    t.CompleteJson("null");
                }
                Assert.Equal(JTokenType.Null, r3.Wait(Limit).Type, "a JSON null result");
                Assert.Equal(null, r3.Get<string>(Limit));
            }
        }

        [Test]
        public void AFailedTaskRaisesPoolTaskExceptionWithTheWorkersText()
        {
            using (var p = NewPool("failed"))
            {
                PoolResult r = p.Submit("divide", new { x = 1, y = 0 });
                using (PoolTask t = p.Take(Limit)) t.Fail("division by zero \u00e9");
                var e = Assert.ThrowsExactly<PoolTaskException>(() => r.Wait(Limit), "Wait");
                Assert.Equal("division by zero \u00e9", e.Message, "the worker's text, exactly");
                Assert.Equal(r.Id, e.TaskId);
                Assert.Equal("divide", e.Function);
                Assert.True(e is PolyipcException, "a PolyipcException");
                Assert.True(r.IsCompleted && r.IsFaulted, "completed, faulted");
                Assert.Equal("division by zero \u00e9", r.Error);
                Assert.Throws<PoolTaskException>(() => r.Get<int>(TimeSpan.Zero), "Get throws it again");
                Assert.Throws<PoolTaskException>(() => { var x = r.Result; }, "and Result");
            }
        }

        /// <summary>Until a thread of <paramref name="p"/> is in a native result call (bounded).</summary>
        private static void AwaitAWaiter(Pool p)
        {
            var sw = Stopwatch.StartNew();
            while (p.ReceivingCalls == 0)
            {
                if (sw.Elapsed > Limit) throw new AssertionException("no thread came to wait for a result");
                Thread.Yield();
            }
        }

        [Test]
        public void CancelOfATaskNoWorkerTookWithdrawsIt()
        {
            using (var p = NewPool("cancel"))
            {
                PoolResult r = p.Submit("f", 1);
                PoolResult next = p.Submit("f", 2);
                Assert.True(r.Cancel(), "no worker took it: cancelled");
                Assert.True(r.IsCanceled && r.IsCompleted && !r.IsFaulted, "completed, cancelled, not faulted");
                Assert.Equal(null, r.Error, "no worker's error text");
                var e = Assert.ThrowsExactly<OperationCanceledException>(() => r.Wait(Limit), "Wait");
                Assert.True(e.Message.Contains("task " + r.Id + " was cancelled"), e.Message);
                Assert.Throws<OperationCanceledException>(() => r.Get<long>(TimeSpan.Zero), "Get");
                Assert.Throws<OperationCanceledException>(() => { var x = r.Result; }, "Result");
                Assert.True(r.TryWait(TimeSpan.Zero), "TryWait: there at once");
                var m = JObject.Parse(r.MessageJson);
                Assert.Equal(true, (bool)m["cancelled"], "the message says cancelled");
                Assert.Equal(false, (bool)m["ok"], "not ok");
                Assert.Equal((long)r.Id, (long)m["id"], "the message's id");
                Assert.True(r.ToString().EndsWith(": cancelled)"), r.ToString());
                Assert.True(!r.Cancel(), "cancel twice: false");

                // A worker takes the next task, never the cancelled one; join does not wait for it.
                using (PoolTask t = p.Take(Limit))
                {
                    Assert.Equal(next.Id, t.Id, "the next task");
                    t.Complete(20);
                }
                PoolTask none;
                Assert.True(!p.TryTake(out none, TimeSpan.Zero), "nothing else to take");
                p.Join(Limit);
                Assert.Equal(20L, next.Get<long>(Limit), "the next task's result");
                Assert.True(!next.Cancel(), "cancel after its result came: false");
                Assert.Throws<PolyipcArgumentException>(() => p.NextResult(TimeSpan.Zero), "no result still to come");

                // A task given back unfinished can be cancelled too; a failed one cannot.
                PoolResult back = p.Submit("f", 3);
                p.Take(Limit).Dispose();
                Assert.True(back.Cancel(), "given back: cancelled");
                Assert.True(back.IsCanceled, "cancelled");
                PoolResult failed = p.Submit("f", 4);
                using (PoolTask t = p.Take(Limit)) t.Fail("no");
                Assert.Throws<PoolTaskException>(() => failed.Wait(Limit), "failed");
                Assert.True(!failed.Cancel() && !failed.IsCanceled && failed.IsFaulted, "cancel of a failed task: false");
                Assert.True(!p.TryTake(out none, TimeSpan.Zero), "nothing ran");
                p.Join(TimeSpan.Zero);
                p.Dispose();
                Assert.True(!r.Cancel() && !next.Cancel(), "after Dispose, of results received: false");
            }
        }

        [Test]
        public void CancelOfATaskAWorkerTookIsFalseAndItsResultComes()
        {
            using (var p = NewPool("cancel-taken"))
            {
                PoolResult r = p.Submit("f", 1);
                using (PoolTask t = p.Take(Limit))
                {
                    Assert.Equal(r.Id, t.Id, "taken");
                    Assert.True(!r.Cancel(), "a worker has it: false");
                    Assert.True(!r.IsCompleted && !r.IsCanceled, "still to come");
                    Assert.Throws<PolyipcTimeoutException>(() => r.Wait(TimeSpan.Zero), "not yet");
                    t.Complete(5);
                }
                Assert.Equal(5L, r.Get<long>(Limit), "the real result");
                Assert.True(r.IsCompleted && !r.IsCanceled && !r.IsFaulted, "completed ok");
                Assert.True(!r.Cancel(), "cancel after completion: false");
                Assert.True(!r.Cancel(), "and again");
                p.Join(TimeSpan.Zero);
            }
        }

        [Test]
        public void CancelAnswersAThreadAlreadyWaitingWithCancellation()
        {
            using (var p = NewPool("cancel-waiting"))
            {
                // Waiting by id (Wait).
                PoolResult r = p.Submit("f", 1);
                Exception seen = null;
                Thread waiter = Spawn(() =>
                {
                    try
                    {
                        r.Wait(Limit);
                    }
                    catch (OperationCanceledException e)
                    {
                        Volatile.Write(ref seen, e);
                    }
                });
                AwaitAWaiter(p);
                Assert.True(r.Cancel(), "cancelled");
                JoinThread(waiter, Limit);
                Assert.True(Volatile.Read(ref seen) != null, "the waiting thread got OperationCanceledException");
                Assert.True(r.IsCanceled, "cancelled");

                // Waiting for any task (NextResult): it gets the cancelled one, or (when Cancel's own
                // receive came first) the next result; either way every result is right, once.
                PoolResult c = p.Submit("f", 2);
                PoolResult other = p.Submit("g", 3);
                PoolResult any = null;
                Thread anyWaiter = Spawn(() => { any = p.NextResult(Limit); });
                AwaitAWaiter(p);
                Assert.True(c.Cancel(), "cancelled");
                Assert.True(c.IsCanceled, "cancelled at once");
                using (PoolTask t = p.Take(Limit))
                {
                    Assert.Equal(other.Id, t.Id, "the other task, not the cancelled one");
                    t.Complete(30);
                }
                JoinThread(anyWaiter, Limit);
                Assert.True(any == c || any == other, "NextResult returned one of this handle's PoolResults");
                if (any == c)
                {
                    Assert.True(any.IsCanceled, "NextResult: the cancelled one");
                    Assert.Throws<OperationCanceledException>(() => any.Wait(TimeSpan.Zero), "its Wait");
                }
                Assert.Equal(30L, other.Get<long>(Limit), "the other's result");
                Assert.Throws<PolyipcArgumentException>(() => p.NextResult(TimeSpan.Zero), "nothing left");
                p.Join(Limit);
            }
        }

        [Test]
        public void ResultsComeBackByIdWhateverTheOrderTheyFinishIn()
        {
            using (var p = NewPool("order"))
            {
                var rs = Enumerable.Range(0, 6).Select(i => p.Submit("sq", i)).ToList();
                var ts = Enumerable.Range(0, 6).Select(_ => p.Take(Limit)).ToList();
                for (int i = 5; i >= 0; i--) ts[i].Complete((long)ts[i].Args * (long)ts[i].Args); // last first
                foreach (var t in ts) t.Dispose(); // finished already: nothing happens
                Assert.Equal(1L, rs[1].Get<long>(Limit), "by id: task 1");
                Assert.Equal(16L, rs[4].Get<long>(Limit), "by id: task 4");
                // Any task's result: the rest, each once, as the tasks' own PoolResults.
                var seen = new HashSet<ulong>();
                for (int k = 0; k < 4; k++)
                {
                    PoolResult any = p.NextResult(Limit);
                    Assert.True(any.IsCompleted, "completed");
                    Assert.True(rs.Contains(any), "the PoolResult Submit returned");
                    Assert.True(any != rs[1] && any != rs[4], "not one received already");
                    Assert.True(seen.Add(any.Id), "each once");
                }
                for (int i = 0; i < 6; i++) Assert.Equal((long)i * i, rs[i].Get<long>(TimeSpan.Zero), "task " + i);
                Assert.Throws<PolyipcArgumentException>(() => p.NextResult(TimeSpan.Zero), "no result is still to come");
                PoolResult none;
                Assert.Throws<PolyipcArgumentException>(() => p.TryNextResult(out none, TimeSpan.Zero), "nor for TryNextResult");
            }
        }

        [Test]
        public void AResultNotThereYetTimesOutAndTheTaskGoesOn()
        {
            using (var p = NewPool("timeout"))
            {
                Assert.Throws<QueueEmptyException>(() => p.Take(TimeSpan.Zero), "take of nothing, no wait");
                var sw = Stopwatch.StartNew();
                var e = Assert.Throws<PolyipcTimeoutException>(() => p.Take(TimeSpan.FromMilliseconds(150)), "take of nothing");
                Assert.Equal(Status.Timeout, e.Status);
                Assert.True(sw.ElapsedMilliseconds >= 140, "waited the timeout: " + sw.ElapsedMilliseconds + " ms");
                PoolTask none;
                Assert.True(!p.TryTake(out none, TimeSpan.FromMilliseconds(20)) && none == null, "TryTake: false");

                PoolResult r = p.Submit("slow", null);
                Assert.Throws<PolyipcTimeoutException>(() => r.Wait(TimeSpan.Zero), "not yet, no wait");
                sw.Restart();
                Assert.Throws<PolyipcTimeoutException>(() => r.Wait(TimeSpan.FromMilliseconds(150)), "not yet");
                Assert.True(sw.ElapsedMilliseconds >= 140, "waited the timeout: " + sw.ElapsedMilliseconds + " ms");
                Assert.True(!r.TryWait(TimeSpan.FromMilliseconds(20)), "TryWait: false");
                PoolResult any;
                Assert.True(!p.TryNextResult(out any, TimeSpan.FromMilliseconds(20)) && any == null, "TryNextResult: false");
                using (PoolTask t = p.Take(Limit))
                {
                    Assert.Equal("null", t.ArgsJson, "null args");
                    t.Complete("done");
                }
                Assert.True(r.TryWait(Limit), "then it comes");
                Assert.Equal("done", r.Get<string>(TimeSpan.Zero));
                CancelsPromptly(ct => p.Take(null, ct), "Take");
                PoolResult r2 = p.Submit("never", 1);
                CancelsPromptly(ct => r2.Wait(null, ct), "Wait");
                CancelsPromptly(ct => p.Join(null, ct), "Join");
            }
        }

        [Test]
        public void OptionsBoundTheTasksAndTheResults()
        {
            using (var p = NewPool("bounded", new PoolOptions { MaxTasks = 1, ResultCapacityBytes = 4096 }))
            {
                PoolResult r = p.Submit("big", 0);
                Assert.Throws<QueueFullException>(() => p.Submit("f", 1, TimeSpan.Zero), "full, no wait");
                var sw = Stopwatch.StartNew();
                var e = Assert.ThrowsExactly<PolyipcTimeoutException>(() => p.Submit("f", 1, TimeSpan.FromMilliseconds(120)), "full");
                Assert.True(sw.ElapsedMilliseconds >= 110, "waited the timeout: " + sw.ElapsedMilliseconds + " ms");
                Assert.Equal(Status.Timeout, e.Status);
                CancelsPromptly(ct => p.Submit("f", 1, null, ct), "Submit");
                using (PoolTask t = p.Take(Limit)) t.Complete(new string('x', 10000));
                var big = Assert.Throws<PoolTaskException>(() => r.Wait(Limit), "a result too large for the result queue");
                Assert.True(big.Message.Contains("exceeds"), big.Message);
                PoolResult r2 = p.Submit("f", 1, TimeSpan.Zero); // room again
                using (PoolTask t = p.Take(Limit)) t.Complete(2);
                Assert.Equal(2L, r2.Get<long>(Limit));
            }
        }

        [Test]
        public void ATaskDisposedUnfinishedGoesBackToThePool()
        {
            using (var p = NewPool("giveback"))
            {
                PoolResult r = p.Submit("f", new[] { "x" });
                PoolTask first = p.Take(Limit);
                PoolTask none;
                Assert.True(!p.TryTake(out none, TimeSpan.Zero), "taken: no other task");
                first.Dispose(); // unfinished: back to the pool
                first.Dispose(); // idempotent
                Assert.Throws<InvalidOperationException>(() => first.Complete(1), "complete after giving back");
                using (PoolTask again = p.Take(Limit))
                {
                    Assert.Equal(r.Id, again.Id, "the same task again");
                    Assert.Equal("[\"x\"]", again.ArgsJson, "with its args");
                    again.Complete(2);
                    Assert.Throws<InvalidOperationException>(() => again.Fail("no"), "finished already");
                }
                Assert.Equal(2L, r.Get<long>(Limit), "one result");
                Assert.Throws<PolyipcArgumentException>(() => p.NextResult(TimeSpan.Zero), "and only one");
                p.Join(TimeSpan.Zero); // finished once
            }
        }

        [Test]
        public void CloseTasksLetsWorkersDrainThenEnd()
        {
            using (var p = NewPool("close"))
            {
                PoolResult r = p.Submit("f", 1);
                p.CloseTasks();
                Assert.Throws<QueueClosedException>(() => p.Submit("f", 2), "no submit after CloseTasks");
                using (PoolTask t = p.Take(Limit))
                {
                    PoolTask none;
                    Assert.True(!p.TryTake(out none, TimeSpan.Zero), "the taken task may still come back");
                    t.Complete(10);
                }
                var sw = Stopwatch.StartNew();
                Assert.Throws<QueueClosedException>(() => p.Take(Limit), "then takes end");
                Assert.True(sw.ElapsedMilliseconds < 1000, "at once: " + sw.ElapsedMilliseconds + " ms");
                Assert.Equal(0L, p.Serve(new Dictionary<string, Func<JToken, object>>()), "Serve returns at the end");
                Assert.Equal(10L, r.Get<long>(Limit), "the result still comes");
            }
        }

        [Test]
        public void JoinWaitsForEveryTask()
        {
            using (var p = NewPool("join"))
            using (var worker = Pool.Open(p.Name))
            {
                p.Submit("f", 1);
                p.Submit("f", 2);
                Assert.Throws<PolyipcTimeoutException>(() => p.Join(TimeSpan.Zero), "two to do");
                var ts = new[] { worker.Take(Limit), worker.Take(Limit) };
                ts[0].Complete(1);
                Assert.Throws<PolyipcTimeoutException>(() => p.Join(TimeSpan.FromMilliseconds(60)), "one to do");
                bool joined = false;
                Thread j = Spawn(() =>
                {
                    p.Join(Limit);
                    Volatile.Write(ref joined, true);
                });
                Assert.True(!j.Join(100) && !Volatile.Read(ref joined), "Join waits for the last one");
                ts[1].Fail("a failed task counts as finished");
                JoinThread(j, Limit);
                Assert.True(joined, "joined");
                var stat = JObject.Parse(p.StatJson());
                Assert.Equal("pool", (string)stat["kind"], "stat kind");
            }
        }

        [Test]
        public void BadInputGetsTheRightExceptionAndChangesNothing()
        {
            using (var p = NewPool("bad"))
            using (var q = NewQueue("aqueue"))
            {
                Assert.Throws<ArgumentNullException>(() => p.Submit(null, 1), "null function");
                var e = Assert.Throws<PolyipcArgumentException>(() => p.Submit("", 1), "empty function");
                Assert.True(e.Message.Contains("function name is empty"), e.Message);
                Assert.Throws<PolyipcArgumentException>(() => p.Submit("f\0g", 1), "NUL in a function name");
                var j = Assert.Throws<InvalidJsonException>(() => p.SubmitJson("f", "[1,]"), "malformed args");
                Assert.True(j.Message.Contains("byte 3"), j.Message);
                Assert.Throws<InvalidJsonException>(() => p.SubmitJson("f", ""), "empty args");
                Assert.Throws<ArgumentNullException>(() => p.SubmitJson("f", null), "null args text");
                Assert.Throws<MessageTooLargeException>(() => p.Submit("f", new string('x', 2 << 20)), "args too large");
                Assert.Throws<PolyipcArgumentException>(() => p.NextResult(TimeSpan.Zero), "result of no task");
                Assert.Throws<PolyipcArgumentException>(() => Pool.Open(new string('p', 161)), "a name too long");
                Assert.Throws<PolyipcArgumentException>(() => Pool.Open("../x"), "a path");
                Assert.Throws<IncompatibleException>(() => Pool.Open(q.Name), "a queue's name");
                Assert.Throws<IncompatibleException>(() => Queue.Open(p.Name), "a pool opened as a queue");
                Assert.Throws<NotFoundException>(() => Pool.Open(NewName("none"), new PoolOptions { OpenMode = OpenMode.OpenOnly }), "no such pool");
                Assert.Throws<ArgumentOutOfRangeException>(() => Pool.Open(NewName("neg"), new PoolOptions { MaxTasks = -1 }), "negative MaxTasks");
                Assert.Throws<ArgumentOutOfRangeException>(() => p.Take(TimeSpan.FromSeconds(-2)), "negative timeout");
                PoolTask none;
                Assert.True(!p.TryTake(out none, TimeSpan.Zero), "nothing was submitted");

                // A result that is not JSON leaves the task taken: finish it again.
                PoolResult r = p.Submit("f", 1);
                using (PoolTask t = p.Take(Limit))
                {
                    var ij = Assert.Throws<InvalidJsonException>(() => t.CompleteJson("{\"a\":"), "malformed result");
                    Assert.True(ij.Message.Contains("task " + t.Id), ij.Message);
                    Assert.True(!t.IsFinished, "still taken");
                    Assert.Throws<PolyipcTimeoutException>(() => r.Wait(TimeSpan.Zero), "no result yet");
                    Assert.Throws<ArgumentNullException>(() => t.Fail(null), "a null error text");
                    t.CompleteJson("[]");
                }
                Assert.Equal(0, ((JArray)r.Wait(Limit)).Count, "the second finish counts");
                p.Join(TimeSpan.Zero);

                // Options of an existing pool and OpenOnly.
                using (var again = Pool.Open(p.Name, new PoolOptions { OpenMode = OpenMode.OpenOnly }))
                    Assert.Equal(p.Name, again.Name);
                Assert.Throws<AlreadyExistsException>(() => Pool.Open(p.Name, new PoolOptions { OpenMode = OpenMode.CreateOnly }), "create only");
            }
        }

        [Test]
        public void DisposeWithATaskOpenKeepsTheTaskWorking()
        {
            string name;
            using (var submitter = NewPool("disposed"))
            {
                name = submitter.Name;
                PoolResult r = submitter.Submit("f", 5);
                var worker = Pool.Open(name);
                PoolTask t = worker.Take(Limit);
                worker.Dispose();
                worker.Dispose(); // idempotent
                Assert.True(worker.IsNativeOpen, "the open task keeps the native handle");
                Assert.Throws<ObjectDisposedException>(() => worker.Take(TimeSpan.Zero), "the Pool's own calls end");
                Assert.Throws<ObjectDisposedException>(() => worker.Submit("f", 1), "submit too");
                Assert.Equal(5L, (long)t.Args, "the task still reads");
                t.Complete(6);
                Assert.True(!worker.IsNativeOpen, "closed when the task ended");
                Assert.Equal(6L, r.Get<long>(Limit), "the result arrived");

                // A task given back after its Pool was disposed reaches another worker.
                PoolResult r2 = submitter.Submit("f", 7);
                var w2 = Pool.Open(name);
                PoolTask t2 = w2.Take(Limit);
                w2.Dispose();
                t2.Dispose();
                Assert.True(!w2.IsNativeOpen, "closed");
                using (PoolTask t3 = submitter.Take(Limit))
                {
                    Assert.Equal(r2.Id, t3.Id, "given back");
                    t3.Complete(8);
                }
                Assert.Equal(8L, r2.Get<long>(Limit));
            }
        }

        [Test]
        public void ServeRunsHandlersAndEndsAtCloseTasksOrCancellation()
        {
            using (var p = NewPool("serve"))
            {
                var handlers = new Dictionary<string, Func<JToken, object>>
                {
                    { "add", a => (long)a[0] + (long)a[1] },
                    { "concat", a => string.Concat(a["parts"].Select(x => (string)x)) },
                    { "fail", a => { throw new InvalidOperationException((string)a); } },
                    { "raw", a => new JRaw("{oops") }, // Newtonsoft writes it as it is; not JSON
                    { "loop", a => { var o = new List<object>(); o.Add(o); return o; } }, // not serialisable
                };
                long served = -1;
                var worker = Spawn(() =>
                {
                    using (var w = Pool.Open(p.Name)) served = w.Serve(handlers);
                });
                PoolResult add = p.Submit("add", new[] { 2, 40 });
                PoolResult concat = p.Submit("concat", new { parts = new[] { "p", "1", "\u00e9\U0001F600" } });
                PoolResult fail = p.Submit("fail", "boom 3");
                PoolResult unknown = p.Submit("nope", null);
                PoolResult raw = p.Submit("raw", null);
                PoolResult loop = p.Submit("loop", null);
                Assert.Equal(42L, add.Get<long>(Limit), "add");
                Assert.Equal("p1\u00e9\U0001F600", concat.Get<string>(Limit), "concat");
                Assert.Equal("boom 3", Assert.Throws<PoolTaskException>(() => fail.Wait(Limit)).Message, "an exception's message");
                Assert.Equal("no function 'nope' in this worker", Assert.Throws<PoolTaskException>(() => unknown.Wait(Limit)).Message, "unknown");
                var notJson = Assert.Throws<PoolTaskException>(() => raw.Wait(Limit)).Message;
                Assert.True(notJson.Contains("not valid JSON"), "a result that is not JSON fails the task: " + notJson);
                var loopError = Assert.Throws<PoolTaskException>(() => loop.Wait(Limit)).Message;
                Assert.True(loopError.Contains("loop"), "a result that cannot be serialised fails the task: " + loopError);
                p.CloseTasks();
                JoinThread(worker, Limit);
                Assert.Equal(6L, served, "served every task");
            }
            using (var p = NewPool("servecancel"))
            {
                CancelsServe(p);
            }
        }

        private void CancelsServe(Pool p)
        {
            using (var cts = new CancellationTokenSource())
            {
                long served = -1;
                var worker = Spawn(() => served = p.Serve(new Dictionary<string, Func<JToken, object>> { { "f", a => a } }, cts.Token));
                Assert.Equal(1L, p.Submit("f", 1).Get<long>(Limit), "served");
                var sw = Stopwatch.StartNew();
                cts.Cancel();
                JoinThread(worker, Limit);
                Assert.True(sw.ElapsedMilliseconds < 1000, "Serve returned promptly: " + sw.ElapsedMilliseconds + " ms");
                Assert.Equal(1L, served, "and says how many");
            }
        }

        [Test]
        public void ThreadsWaitingForResultsEachGetTheirsOnce()
        {
            using (var p = NewPool("threads"))
            {
                const int N = 200;
                var handlers = new Dictionary<string, Func<JToken, object>> { { "neg", a => -(long)a } };
                var workers = Enumerable.Range(0, 2).Select(_ => Spawn(() =>
                {
                    using (var w = Pool.Open(p.Name)) w.Serve(handlers);
                })).ToList();
                var rs = Enumerable.Range(0, N).Select(i => p.Submit("neg", i)).ToList();
                // Three threads wait for their own tasks by id while one takes any result.
                var waiters = Enumerable.Range(0, 3).Select(k => Spawn(() =>
                {
                    for (int i = k; i < N; i += 4)
                        if (rs[i].Get<long>(Limit) != -i) throw new Exception("task " + i + ": wrong result");
                })).ToList();
                var any = Spawn(() =>
                {
                    try
                    {
                        for (;;)
                        {
                            PoolResult r = p.NextResult(Limit);
                            if (!r.IsCompleted || r.Get<long>(TimeSpan.Zero) != -(long)(r.Id - 1)) throw new Exception("wrong: " + r);
                        }
                    }
                    catch (PolyipcArgumentException)
                    {
                        // none left to come
                    }
                });
                foreach (var t in waiters) JoinThread(t, Limit);
                for (int i = 3; i < N; i += 4) Assert.Equal((long)-i, rs[i].Get<long>(Limit), "task " + i);
                JoinThread(any, Limit);
                Assert.True(rs.All(r => r.IsCompleted && !r.IsFaulted), "every task completed");
                p.CloseTasks();
                foreach (var t in workers) JoinThread(t, Limit);
            }
        }

        [Test]
        public void AWorkerProcessKilledMidTaskHasItsTaskFinishedByAnother()
        {
            using (var p = NewPool("killed"))
            {
                const int N = 6;
                var first = StartChild("pool-serve", p.Name, "--hang-after", "2");
                var rs = Enumerable.Range(0, N).Select(i => p.Submit("echo", new { i })).ToList();
                string took = ReadLine(first, Limit);
                Assert.True(took != null && took.StartsWith("took task "), "the child took a task: " + took);
                ulong hung = ulong.Parse(took.Substring("took task ".Length));
                Assert.True(rs.Any(r => r.Id == hung), "one of ours");
                var done = new List<PoolResult> { p.NextResult(Limit), p.NextResult(Limit) };
                Assert.True(done.All(r => r.Id != hung), "the held task is not finished");
                Kill9(first, Limit); // SIGKILL mid-task
                var second = StartChild("pool-serve", p.Name);
                for (int k = 2; k < N; k++) done.Add(p.NextResult(Limit));
                Assert.Equal(N, done.Select(r => r.Id).Distinct().Count(), "one result per task");
                foreach (var r in rs) Assert.Equal((long)(r.Id - 1), (long)r.Wait(TimeSpan.Zero)["i"], "task " + r.Id);
                Assert.Throws<PolyipcArgumentException>(() => p.NextResult(TimeSpan.Zero), "no other result to come");
                Assert.Equal("csharp-child", p.Submit("whoami", null).Get<string>(Limit), "the second worker");
                p.CloseTasks();
                Assert.Equal("served " + (N - 2 + 1), ReadLine(second, Limit));
                WaitExit(second, Limit);
                p.Join(TimeSpan.Zero);
                var stat = JObject.Parse(p.StatJson());
                Assert.Equal(1L, (long)stat["counters"]["redeliveries"], "the killed worker's task was handed out again once");
            }
        }
    }
}
