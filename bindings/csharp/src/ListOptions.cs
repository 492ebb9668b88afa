using Newtonsoft.Json;

namespace Polyipc
{
    /// <summary>
    /// How to open or create a list (<see cref="List.Open"/>), as <see cref="DictOptions"/> for a
    /// dict. When the list exists, the sizes are those of its creator.
    /// </summary>
    public sealed class ListOptions
    {
        /// <summary>Open or create (the default), create only (AlreadyExistsException if it exists), or
        /// open only (NotFoundException if it does not).</summary>
        public OpenMode OpenMode { get; set; }
        /// <summary>Shared memory for the values; 0: the library's default (1 MiB; the object maps
        /// twice that).</summary>
        public long CapacityBytes { get; set; }
        /// <summary>At most this many values; 0: the library's default (4096).</summary>
        public long MaxItems { get; set; }
        /// <summary>Permission bits of a created list (e.g. Convert.ToInt32("660", 8)); 0: 0600.</summary>
        public int Mode { get; set; }
        /// <summary>Unlinked when the last attached process detaches or dies.</summary>
        public bool Ephemeral { get; set; }
        /// <summary>Newtonsoft.Json settings for Add, Get&lt;T&gt;, Pop&lt;T&gt; and the other object
        /// variants; null: the defaults.</summary>
        public JsonSerializerSettings JsonSettings { get; set; }
    }
}
