using System;
using System.Diagnostics;
using System.Threading;
using Newtonsoft.Json.Linq;
using Polyipc.Native;

namespace Polyipc
{
    /// <summary>
    /// A named condition variable shared by processes in any language (Python's
    /// multiprocessing.Condition), bound to a Lock (by default the lock named "NAME.lock"; it may be
    /// an RLock). The condition acquires and releases that lock itself, so one handle is enough:
    /// <code>
    /// using (var cond = Condition.Open("buffer"))
    /// {
    ///     using (cond.Acquire())
    ///     {
    ///         if (!cond.WaitFor(() => HasItems(), TimeSpan.FromSeconds(5), ct)) return; // timed out
    ///         TakeItem();
    ///         cond.NotifyAll();
    ///     }
    /// }
    /// </code>
    /// Wait, Notify and NotifyAll need the lock held by the calling thread (NotOwnerException
    /// otherwise). Wait releases the lock, waits, and holds it again when it returns, whatever the
    /// outcome (true, false, OperationCanceledException). It waits in native slices of at most 50 ms:
    /// a notify is never lost between slices (the lock is held between them, and notifiers hold it
    /// too), but a waiter goes to the back of the queue at each slice, so Notify(1) does not pick the
    /// longest waiter reliably. A lock re-acquired from a holder that died counts as a wake-up.
    /// </summary>
    public sealed class Condition : IDisposable, IReleasable
    {
        private readonly string name;
        private readonly string lockName;
        private readonly SyncHandle<NativeCondition> handle;

        private Condition(string name, NativeCondition native)
        {
            this.name = name;
            handle = new SyncHandle<NativeCondition>("Polyipc.Condition", "condition '" + name + "'", native);
            try
            {
                lockName = (string)JObject.Parse(handle.Use(h => h.stat_json()))["lock"];
            }
            catch
            {
                handle.Dispose();
                throw;
            }
        }

        /// <summary>
        /// Opens (or creates) condition <paramref name="name"/>, bound to the lock (or rlock)
        /// <paramref name="lockName"/> (null: "NAME.lock"), which is opened or created as a Lock. An
        /// existing condition bound to another lock than an explicit <paramref name="lockName"/> is
        /// IncompatibleException.
        /// </summary>
        public static Condition Open(string name, string lockName = null, SyncOptions options = null)
        {
            Library.CheckName(name);
            if (lockName != null) Library.CheckName(lockName);
            Library.EnsureLoaded();
            var o = SyncOptions.OrDefault(options);
            NativeCondition h = NativeCondition.open(name, (int)o.OpenMode, lockName ?? "", (uint)o.Mode, o.Ephemeral ? 1 : 0);
            if (h == null) throw new PolyipcException(Status.System, "condition '" + name + "': open returned no handle");
            return new Condition(name, h);
        }

        /// <summary>The condition's name (in the namespace $POLYIPC_NAMESPACE).</summary>
        public string Name
        {
            get { return name; }
        }

        /// <summary>The name of the lock the condition is bound to.</summary>
        public string LockName
        {
            get { return lockName; }
        }

        /// <summary>Acquires the condition's lock (as <see cref="LockBase.Acquire"/>): the guard releases
        /// it and reports <see cref="LockGuard.PreviousOwnerDied"/>.</summary>
        public LockGuard Acquire(TimeSpan? timeout = null, CancellationToken ct = default(CancellationToken))
        {
            return handle.AcquireLock(this, timeout, ct, (h, slice) => h.acquire(slice));
        }

        /// <summary>Acquires the condition's lock if it is free within <paramref name="timeout"/>.</summary>
        public bool TryAcquire(TimeSpan timeout, out LockGuard guard, CancellationToken ct = default(CancellationToken))
        {
            return handle.TryAcquireLock(this, timeout, ct, (h, slice) => h.acquire(slice), out guard);
        }

        /// <summary>Releases the condition's lock once (NotOwnerException when this thread does not hold
        /// it). Prefer disposing the guard.</summary>
        public void Release()
        {
            handle.Use(h => h.release());
        }

        /// <summary>
        /// With the lock held: releases it, waits for a Notify (true) or for <paramref name="timeout"/>
        /// to run out (false; null: forever), and holds the lock again before returning. On
        /// cancellation: OperationCanceledException, with the lock held again.
        /// </summary>
        public bool Wait(TimeSpan? timeout = null, CancellationToken ct = default(CancellationToken))
        {
            // A lock re-acquired from a holder that died counts as a wake-up.
            bool ownerDied;
            PolyipcTimeoutException ranOut;
            return handle.WaitSlicedRobust(SlicedDeadline.Start(timeout), ct, (h, slice) => h.wait(slice), out ownerDied, out ranOut);
        }

        /// <summary>
        /// Waits until <paramref name="predicate"/> is true (Python's wait_for): evaluates it (with the
        /// lock held) first and after every wake-up; returns its last value, false when
        /// <paramref name="timeout"/> ran out with it still false.
        /// </summary>
        public bool WaitFor(Func<bool> predicate, TimeSpan? timeout = null, CancellationToken ct = default(CancellationToken))
        {
            if (predicate == null) throw new ArgumentNullException("predicate");
            long total = SlicedDeadline.ToNanos(timeout);
            var sw = Stopwatch.StartNew();
            bool result = predicate();
            for (bool first = true; !result; first = false)
            {
                TimeSpan? wait = null;
                if (total >= 0)
                {
                    long left = total / 100 - (first ? 0 : sw.Elapsed.Ticks);
                    if (!first && left <= 0) break;
                    wait = TimeSpan.FromTicks(Math.Max(0, left));
                }
                Wait(wait, ct);
                result = predicate();
            }
            return result;
        }

        /// <summary>With the lock held: wakes up to <paramref name="count"/> waiters (in any process).</summary>
        public void Notify(long count = 1)
        {
            if (count < 0) throw new ArgumentOutOfRangeException("count", "count < 0");
            handle.Use(h => h.notify((ulong)count));
        }

        /// <summary>With the lock held: wakes every waiter.</summary>
        public void NotifyAll()
        {
            handle.Use(h => h.notify_all());
        }

        /// <summary>The condition's state and counters as a JSON object.</summary>
        public string StatJson()
        {
            return handle.Use(h => h.stat_json());
        }

        /// <summary>Removes the condition's name (not its lock's); open handles keep working.</summary>
        public void Unlink()
        {
            Names.Unlink(name);
        }

        /// <summary>Closes this handle (idempotent); never releases the lock, never unlinks.</summary>
        public void Dispose()
        {
            handle.Dispose();
        }

        public override string ToString()
        {
            return "Polyipc.Condition(" + name + ")";
        }
    }
}
