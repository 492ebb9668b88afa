using Newtonsoft.Json;

namespace Polyipc
{
    /// <summary>
    /// How to open or create a dict (<see cref="Dict.Open"/>). When the dict exists, the sizes are
    /// those of its creator.
    /// </summary>
    public sealed class DictOptions
    {
        /// <summary>Open or create (the default), create only (AlreadyExistsException if it exists), or
        /// open only (NotFoundException if it does not).</summary>
        public OpenMode OpenMode { get; set; }
        /// <summary>Shared memory for the keys and values; 0: the library's default (1 MiB; the object
        /// maps twice that).</summary>
        public long CapacityBytes { get; set; }
        /// <summary>At most this many keys; 0: the library's default (4096).</summary>
        public long MaxItems { get; set; }
        /// <summary>Permission bits of a created dict (e.g. Convert.ToInt32("660", 8)); 0: 0600.</summary>
        public int Mode { get; set; }
        /// <summary>Unlinked when the last attached process detaches or dies.</summary>
        public bool Ephemeral { get; set; }
        /// <summary>Newtonsoft.Json settings for Set, Get&lt;T&gt;, CompareAndSet and the other object
        /// variants; null: the defaults.</summary>
        public JsonSerializerSettings JsonSettings { get; set; }
    }
}
