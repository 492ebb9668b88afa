using System;
using System.Threading;
using Polyipc.Native;

namespace Polyipc
{
    /// <summary>
    /// A named manual-reset event shared by processes in any language (Python's
    /// multiprocessing.Event; the names follow ManualResetEventSlim): Set wakes every waiter of every
    /// process, and the event stays set until Reset.
    /// <code>
    /// using (var ready = Event.Open("cache.ready"))
    /// {
    ///     if (!ready.Wait(TimeSpan.FromSeconds(10), ct)) throw new TimeoutException("cache not ready");
    /// }
    /// </code>
    /// Wait runs in native slices of at most 50 ms (CancellationToken: OperationCanceledException).
    /// A wait returns true once a Set came after it began, even if Reset followed before the waiter
    /// ran (between two of its slices too).
    /// </summary>
    public sealed class Event : IDisposable
    {
        private readonly string name;
        private readonly SyncHandle<NativeEvent> handle;

        private Event(string name, NativeEvent native)
        {
            this.name = name;
            handle = new SyncHandle<NativeEvent>("Polyipc.Event", "event '" + name + "'", native);
        }

        /// <summary>Opens (or creates, not set) the event <paramref name="name"/>.</summary>
        public static Event Open(string name, SyncOptions options = null)
        {
            Library.CheckName(name);
            Library.EnsureLoaded();
            var o = SyncOptions.OrDefault(options);
            NativeEvent h = NativeEvent.open(name, (int)o.OpenMode, (uint)o.Mode, o.Ephemeral ? 1 : 0);
            if (h == null) throw new PolyipcException(Status.System, "event '" + name + "': open returned no handle");
            return new Event(name, h);
        }

        /// <summary>The event's name (in the namespace $POLYIPC_NAMESPACE).</summary>
        public string Name
        {
            get { return name; }
        }

        /// <summary>Sets the event: every waiter, in every process, wakes; later waits return at once.</summary>
        public void Set()
        {
            handle.Use(h => h.set());
        }

        /// <summary>Clears the event (ManualResetEventSlim's name; Python's clear()).</summary>
        public void Reset()
        {
            handle.Use(h => h.clear());
        }

        /// <summary>Clears the event (the same as <see cref="Reset"/>; Python's name).</summary>
        public void Clear()
        {
            Reset();
        }

        /// <summary>Whether the event is set now.</summary>
        public bool IsSet
        {
            get { return handle.Use(h => h.is_set()) != 0; }
        }

        /// <summary>Waits until the event is set (or <paramref name="ct"/> is cancelled).</summary>
        public void Wait(CancellationToken ct)
        {
            Wait(null, ct);
        }

        /// <summary>Waits until the event is set: true; false when <paramref name="timeout"/> (null:
        /// forever; TimeSpan.Zero: just look) runs out first.</summary>
        public bool Wait(TimeSpan? timeout = null, CancellationToken ct = default(CancellationToken))
        {
            var deadline = SlicedDeadline.Start(timeout);
            // Taken once: every slice then counts a Set made since the call began, even one a Reset
            // undid before (or between) slices.
            uint token = handle.Use(h => h.token());
            PolyipcTimeoutException ranOut;
            return handle.WaitSliced(deadline, ct, (h, slice) => h.wait_since(token, slice), out ranOut);
        }

        /// <summary>The event's state and counters as a JSON object.</summary>
        public string StatJson()
        {
            return handle.Use(h => h.stat_json());
        }

        /// <summary>Removes the name; open handles keep working.</summary>
        public void Unlink()
        {
            Names.Unlink(name);
        }

        /// <summary>Closes this handle (idempotent); never unlinks.</summary>
        public void Dispose()
        {
            handle.Dispose();
        }

        public override string ToString()
        {
            return "Polyipc.Event(" + name + ")";
        }
    }
}
