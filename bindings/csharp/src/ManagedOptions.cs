using System;
using Newtonsoft.Json;

namespace Polyipc
{
    /// <summary>
    /// How to open or create a dict or a list (<see cref="DictOptions"/>, <see cref="ListOptions"/>):
    /// the same fields for both. When the object exists, the sizes are those of its creator.
    /// </summary>
    public abstract class ManagedOptions
    {
        /// <summary>Open or create (the default), create only (AlreadyExistsException if it exists), or
        /// open only (NotFoundException if it does not).</summary>
        public OpenMode OpenMode { get; set; }
        /// <summary>Shared memory for the keys and values; 0: the library's default (1 MiB; the object
        /// maps twice that).</summary>
        public long CapacityBytes { get; set; }
        /// <summary>At most this many keys (dict) or values (list); 0: the library's default (4096).</summary>
        public long MaxItems { get; set; }
        /// <summary>Permission bits of a created object (e.g. Convert.ToInt32("660", 8)); 0: 0600.</summary>
        public int Mode { get; set; }
        /// <summary>Unlinked when the last attached process detaches or dies.</summary>
        public bool Ephemeral { get; set; }
        /// <summary>Newtonsoft.Json settings for the object variants (Set, Add, Get&lt;T&gt;, ...);
        /// null: the defaults.</summary>
        public JsonSerializerSettings JsonSettings { get; set; }

        /// <summary>The checks Dict.Open and List.Open make before the native call.</summary>
        internal void Check()
        {
            Library.CheckOptionSize(CapacityBytes, "CapacityBytes");
            Library.CheckOptionSize(MaxItems, "MaxItems");
            Library.CheckOptionMode(Mode);
            if (OpenMode < OpenMode.OpenOrCreate || OpenMode > OpenMode.OpenOnly)
                throw new ArgumentOutOfRangeException("options", "OpenMode");
        }
    }

    /// <summary>How to open or create a dict (<see cref="Dict.Open"/>).</summary>
    public sealed class DictOptions : ManagedOptions
    {
    }

    /// <summary>How to open or create a list (<see cref="List.Open"/>).</summary>
    public sealed class ListOptions : ManagedOptions
    {
    }
}
