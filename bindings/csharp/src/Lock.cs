using System;
using System.Threading;
using Polyipc.Native;

namespace Polyipc
{
    /// <summary>Something a <see cref="LockGuard"/> releases: a Lock, an RLock, or a Condition's lock.</summary>
    internal interface IReleasable
    {
        void Release();
    }

    /// <summary>
    /// A held lock, from <see cref="LockBase.Acquire"/>, <see cref="LockBase.TryAcquire(TimeSpan, out LockGuard, CancellationToken)"/>
    /// or <see cref="Condition.Acquire"/>: Dispose releases it (once; later calls do nothing).
    /// Dispose it on the thread that acquired: locks are owned by OS threads, and a release from
    /// another thread throws NotOwnerException (so does code after an await that resumed elsewhere).
    /// <code>
    /// using (var guard = accounts.Acquire(TimeSpan.FromSeconds(5)))
    /// {
    ///     if (guard.PreviousOwnerDied) RepairAccounts(); // the last holder was killed mid-update
    ///     Transfer();
    /// }
    /// </code>
    /// </summary>
    public sealed class LockGuard : IDisposable
    {
        private readonly IReleasable owner;
        private readonly bool previousOwnerDied;
        private bool released;

        internal LockGuard(IReleasable owner, bool previousOwnerDied)
        {
            this.owner = owner;
            this.previousOwnerDied = previousOwnerDied;
        }

        /// <summary>
        /// The acquire succeeded, but the previous holder died holding the lock (polyipc's OWNER_DEAD:
        /// a process killed, or a thread that ended, while holding it). The lock is held and works
        /// normally; what it guards may be half-updated: repair it before going on.
        /// </summary>
        public bool PreviousOwnerDied
        {
            get { return previousOwnerDied; }
        }

        /// <summary>Whether Dispose has released the lock.</summary>
        public bool IsReleased
        {
            get { return released; }
        }

        /// <summary>Releases the lock (once). NotOwnerException on a thread that does not hold it;
        /// ObjectDisposedException when the lock's handle was disposed first (the lock stays held).</summary>
        public void Dispose()
        {
            if (released) return;
            owner.Release();
            released = true;
        }
    }

    /// <summary>
    /// What <see cref="Lock"/> and <see cref="RLock"/> share: a lock in shared memory, owned by the OS
    /// thread that acquired it, robust (a holder that dies never wedges the others: the next acquire
    /// reports <see cref="LockGuard.PreviousOwnerDied"/>).
    /// Timeouts: null waits forever, TimeSpan.Zero never waits. Waits run in native slices of at most
    /// 50 ms, so a CancellationToken (OperationCanceledException) and Dispose from another thread
    /// (ObjectDisposedException) are noticed within one slice.
    /// Dispose closes this handle only: it never releases a lock this process holds, and never
    /// unlinks the name (<see cref="Unlink"/> does).
    /// </summary>
    public abstract class LockBase : IDisposable, IReleasable
    {
        private readonly string name;
        internal readonly SyncHandle<NativeLock> handle;

        internal LockBase(string name, bool recursive, SyncOptions options)
        {
            Library.CheckName(name);
            Library.EnsureLoaded();
            var o = SyncOptions.OrDefault(options);
            NativeLock h = NativeLock.open(name, (int)o.OpenMode, recursive ? 1 : 0, (uint)o.Mode, o.Ephemeral ? 1 : 0);
            if (h == null) throw new PolyipcException(Status.System, KindName(recursive) + " '" + name + "': open returned no handle");
            this.name = name;
            handle = new SyncHandle<NativeLock>(recursive ? "Polyipc.RLock" : "Polyipc.Lock", KindName(recursive) + " '" + name + "'", h);
        }

        private static string KindName(bool recursive)
        {
            return recursive ? "rlock" : "lock";
        }

        /// <summary>The lock's name (in the namespace $POLYIPC_NAMESPACE).</summary>
        public string Name
        {
            get { return name; }
        }

        /// <summary>
        /// Acquires the lock, waiting up to <paramref name="timeout"/> (null: forever): the guard
        /// releases it. PolyipcTimeoutException when the time runs out (TimeSpan.Zero: the lock is
        /// held); OperationCanceledException when <paramref name="ct"/> is cancelled (not acquired).
        /// A Lock acquired again by its holder thread: PolyipcArgumentException (it would wait for
        /// itself; use an RLock), or PolyipcTimeoutException with TimeSpan.Zero.
        /// </summary>
        public LockGuard Acquire(TimeSpan? timeout = null, CancellationToken ct = default(CancellationToken))
        {
            return handle.AcquireLock(this, timeout, ct, (h, slice) => h.acquire(slice));
        }

        /// <summary>Acquires the lock if it is free within <paramref name="timeout"/>: false (and a null
        /// guard) when the time runs out.</summary>
        public bool TryAcquire(TimeSpan timeout, out LockGuard guard, CancellationToken ct = default(CancellationToken))
        {
            return handle.TryAcquireLock(this, timeout, ct, (h, slice) => h.acquire(slice), out guard);
        }

        /// <summary>Acquires the lock if it is free now (Python's acquire(False)).</summary>
        public bool TryAcquire(out LockGuard guard)
        {
            return TryAcquire(TimeSpan.Zero, out guard);
        }

        /// <summary>Releases the lock once (an RLock is free after as many releases as acquires).
        /// NotOwnerException when this thread does not hold it. Prefer disposing the guard.</summary>
        public void Release()
        {
            handle.Use(h => h.release());
        }

        /// <summary>Whether any thread of any process holds the lock now.</summary>
        public bool Locked
        {
            get { return handle.Use(h => h.locked()) != 0; }
        }

        /// <summary>How many times the calling thread holds the lock (0: it does not; a Lock: 0 or 1).</summary>
        public int HeldCount
        {
            get { return (int)handle.Use(h => h.held()); }
        }

        /// <summary>Whether the calling thread holds the lock.</summary>
        public bool IsHeldByCurrentThread
        {
            get { return HeldCount > 0; }
        }

        /// <summary>The lock's state and counters as a JSON object.</summary>
        public string StatJson()
        {
            return handle.Use(h => h.stat_json());
        }

        /// <summary>Removes the name; open handles keep working.</summary>
        public void Unlink()
        {
            Names.Unlink(name);
        }

        /// <summary>Closes this handle (idempotent). Never releases the lock and never unlinks it.</summary>
        public void Dispose()
        {
            handle.Dispose();
        }
    }

    /// <summary>
    /// A named, non-recursive, robust lock shared by processes in any language (Python's
    /// multiprocessing.Lock, made robust). Owned by the OS thread that acquired it.
    /// <code>
    /// using (var l = Lock.Open("accounts.lock"))
    /// using (var guard = l.Acquire(TimeSpan.FromSeconds(5), ct))
    /// {
    ///     if (guard.PreviousOwnerDied) Repair();
    ///     Update();
    /// }
    /// </code>
    /// </summary>
    public sealed class Lock : LockBase
    {
        private Lock(string name, SyncOptions options) : base(name, false, options) { }

        /// <summary>Opens (or creates, per <paramref name="options"/>) the lock <paramref name="name"/>.
        /// IncompatibleException when the name holds another kind of object (an RLock included).</summary>
        public static Lock Open(string name, SyncOptions options = null)
        {
            return new Lock(name, options);
        }

        public override string ToString()
        {
            return "Polyipc.Lock(" + Name + ")";
        }
    }

    /// <summary>
    /// A named recursive lock (Python's multiprocessing.RLock): the holder thread may acquire it
    /// again; it is free after as many releases (guard disposals) as acquires. <see cref="LockBase.HeldCount"/>
    /// is the exact depth.
    /// </summary>
    public sealed class RLock : LockBase
    {
        private RLock(string name, SyncOptions options) : base(name, true, options) { }

        /// <summary>Opens (or creates) the rlock <paramref name="name"/>; IncompatibleException when the
        /// name holds another kind of object (a Lock included).</summary>
        public static RLock Open(string name, SyncOptions options = null)
        {
            return new RLock(name, options);
        }

        public override string ToString()
        {
            return "Polyipc.RLock(" + Name + ")";
        }
    }
}
