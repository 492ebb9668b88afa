namespace Polyipc
{
    /// <summary>
    /// How to open or create a Lock, RLock, Semaphore, Event, Condition or Barrier. The object is
    /// shared by name with every process (of any language) in the namespace $POLYIPC_NAMESPACE.
    /// </summary>
    public sealed class SyncOptions
    {
        /// <summary>Open or create (the default), create only (AlreadyExistsException if it exists), or
        /// open only (NotFoundException if it does not; a semaphore is then taken as it is).</summary>
        public OpenMode OpenMode { get; set; }
        /// <summary>Permission bits of a created object (e.g. Convert.ToInt32("660", 8)); 0: 0600.</summary>
        public int Mode { get; set; }
        /// <summary>Unlinked when the last attached process detaches or dies.</summary>
        public bool Ephemeral { get; set; }

        internal static SyncOptions OrDefault(SyncOptions o)
        {
            var r = o ?? new SyncOptions();
            Library.CheckOptionMode(r.Mode);
            if (r.OpenMode < OpenMode.OpenOrCreate || r.OpenMode > OpenMode.OpenOnly)
                throw new System.ArgumentOutOfRangeException("options", "OpenMode");
            return r;
        }
    }
}
