using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Newtonsoft.Json.Linq;

namespace Polyipc
{
    /// <summary>
    /// Task-based waiting for the results of one Pool handle (<see cref="PoolResult.WaitAsync"/>).
    /// Each awaiting is a TaskCompletionSource kept in its PoolResult; a PoolResult with awaitings is
    /// registered here, and while any is, one background thread per handle (started by the first
    /// awaiting of a result not here yet, ending itself once none is registered) receives this
    /// handle's results as NextResult does (any task, in slices) through Pool.Receive, so each goes
    /// to its own PoolResult by the one path (Deliver, then PoolResult.Complete). Complete, by any
    /// path (this thread, a Wait, NextResult, Cancel), detaches the PoolResult's awaitings; the
    /// receiving thread sets them (<see cref="PoolResult.Signal"/>) once its native call has ended,
    /// outside every lock and outside the handle's call count, so that nothing a task's completion
    /// runs inline can hold up Dispose or another receiver. The sources are made with
    /// RunContinuationsAsynchronously: awaiters' continuations never run on the receiving thread.
    /// All state here is under the Pool's results lock (the one Complete runs under), whose monitor
    /// this thread waits on when no result can come to it.
    /// </summary>
    internal sealed class PoolCompletions
    {
        /// <summary>One result call of the thread: the registry is looked at again after each.</summary>
        private static readonly TimeSpan ReceiveSlice = TimeSpan.FromMilliseconds(50);
        /// <summary>How long the thread waits for a change when no result can come to it, at most.</summary>
        private const int IdleSliceMs = 50;

        private readonly Pool pool;
        private readonly object sync; // the Pool's results lock
        private readonly HashSet<PoolResult> registered = new HashSet<PoolResult>();
        private Thread thread; // null when none runs
        private bool disposed;
        // +1 for each change the thread waits for: a result completed, an awaiting added or dropped, Dispose.
        private long changes;

        internal PoolCompletions(Pool pool, object sync)
        {
            this.pool = pool;
            this.sync = sync;
        }

        /// <summary>The completion thread, null when none runs (for tests).</summary>
        internal Thread Thread
        {
            get { lock (sync) return thread; }
        }

        /// <summary>PoolResult.WaitAsync: a task that ends as the result's Wait would.</summary>
        internal Task<JToken> Await(PoolResult r, CancellationToken ct)
        {
            var awaiting = new TaskCompletionSource<JToken>(TaskCreationOptions.RunContinuationsAsynchronously);
            Thread start = null;
            lock (sync)
            {
                if (r.IsCompleted)
                {
                    r.SetOutcome(awaiting); // received already: as Wait, also after Dispose and whatever the token
                    return awaiting.Task;
                }
                if (ct.IsCancellationRequested)
                {
                    awaiting.TrySetCanceled(ct);
                    return awaiting.Task;
                }
                if (disposed || pool.DisposeRequested)
                {
                    awaiting.TrySetException(pool.DisposedException()); // what Wait throws then
                    return awaiting.Task;
                }
                if (r.Awaitings == null)
                {
                    r.Awaitings = new List<TaskCompletionSource<JToken>>();
                    registered.Add(r);
                }
                r.Awaitings.Add(awaiting);
                changes++;
                if (thread == null)
                {
                    thread = new Thread(Run) { IsBackground = true, Name = "polyipc-pool-" + pool.Name + "-completions" };
                    start = thread;
                }
            }
            if (start != null) start.Start(); // (outside the lock, which the thread's first step takes)
            if (ct.CanBeCanceled)
            {
                // The token ends this awaiting alone (the pool task goes on). The registration goes
                // once the awaiting has ended, from a continuation, so never under the lock: its
                // Dispose waits for a callback in progress, and the callback takes the lock.
                CancellationTokenRegistration registration = ct.Register(() => Drop(r, awaiting, ct));
                awaiting.Task.ContinueWith(_ => registration.Dispose(), CancellationToken.None,
                    TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }
            return awaiting.Task;
        }

        /// <summary>The token of an awaiting was cancelled: it ends canceled, unless the result came first.</summary>
        private void Drop(PoolResult r, TaskCompletionSource<JToken> awaiting, CancellationToken ct)
        {
            lock (sync)
            {
                if (r.Awaitings == null || !r.Awaitings.Remove(awaiting)) return; // completed, faulted: set by that
                if (r.Awaitings.Count == 0)
                {
                    r.Awaitings = null;
                    registered.Remove(r); // the last: the thread may end
                }
                changes++;
                Monitor.PulseAll(sync);
            }
            awaiting.TrySetCanceled(ct);
        }

        /// <summary>From PoolResult.Complete, under the lock: its awaitings go to the receiving thread's Signal.</summary>
        internal void Completed(PoolResult r)
        {
            if (r.Awaitings == null) return;
            r.ToSignal = r.Awaitings;
            r.Awaitings = null;
            registered.Remove(r);
            changes++;
            Monitor.PulseAll(sync);
        }

        /// <summary>
        /// Pool.Dispose, once no call is in progress (so no result can still arrive): the awaitings
        /// registered fault with ObjectDisposedException, later ones at once; the thread ends.
        /// </summary>
        internal void Dispose()
        {
            List<TaskCompletionSource<JToken>> pending;
            lock (sync)
            {
                disposed = true;
                pending = DetachAll();
            }
            foreach (var a in pending) a.TrySetException(pool.DisposedException());
        }

        /// <summary>Under the lock: every registered awaiting, unregistered; wakes the thread.</summary>
        private List<TaskCompletionSource<JToken>> DetachAll()
        {
            var all = new List<TaskCompletionSource<JToken>>();
            foreach (PoolResult r in registered)
            {
                all.AddRange(r.Awaitings);
                r.Awaitings = null;
            }
            registered.Clear();
            changes++;
            Monitor.PulseAll(sync);
            return all;
        }

        /// <summary>The completion thread: receives this handle's results while an awaiting is registered.</summary>
        private void Run()
        {
            for (;;)
            {
                long seen;
                lock (sync)
                {
                    if (registered.Count == 0 || disposed)
                    {
                        thread = null; // under the lock: the next awaiting starts another
                        return;
                    }
                    seen = changes;
                }
                Exception failure;
                try
                {
                    // As NextResult: the next result of any task of this handle that no Wait receives,
                    // delivered (and signalled) to its PoolResult by Receive; none within the slice: null.
                    pool.Receive(null, ReceiveSlice, CancellationToken.None, true);
                    continue;
                }
                catch (PolyipcArgumentException)
                {
                    // No result is to come to result(0): every task still out is waited for by id by
                    // another thread's Wait (or is being delivered). Those end in Complete, which pulses.
                    failure = null;
                }
                catch (ObjectDisposedException)
                {
                    // Pool.Dispose faults the awaitings once no call is in progress; new ones fault at once.
                    lock (sync) thread = null;
                    return;
                }
                catch (Exception e)
                {
                    failure = e; // what NextResult would have thrown (a damaged message, a system error)
                }
                if (failure != null)
                {
                    // The awaitings end with it, as a Wait would; a later WaitAsync starts afresh.
                    List<TaskCompletionSource<JToken>> pending;
                    lock (sync) pending = DetachAll();
                    foreach (var a in pending) a.TrySetException(failure);
                    continue;
                }
                lock (sync)
                {
                    // Not a spin: wait for a change, in a bounded slice (a Wait by id that gives up
                    // without its result hands its task back to result(0) without a change here).
                    int until = Environment.TickCount + IdleSliceMs;
                    while (changes == seen && registered.Count > 0 && !disposed)
                    {
                        int left = until - Environment.TickCount;
                        if (left <= 0) break;
                        Monitor.Wait(sync, left);
                    }
                }
            }
        }
    }
}
