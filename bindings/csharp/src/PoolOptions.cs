using Newtonsoft.Json;

namespace Polyipc
{
    /// <summary>
    /// How to open or create a worker pool (<see cref="Pool.Open"/>). When the pool exists, the sizes
    /// are those of its creator.
    /// </summary>
    public sealed class PoolOptions
    {
        /// <summary>Open or create (the default), create only, or open only.</summary>
        public OpenMode OpenMode { get; set; }
        /// <summary>Shared memory for the waiting tasks; 0: the library's default (1 MiB).</summary>
        public long CapacityBytes { get; set; }
        /// <summary>At most this many tasks waiting to be taken; 0: bounded by CapacityBytes only.</summary>
        public long MaxTasks { get; set; }
        /// <summary>The queue of results of this handle's tasks; 0: the library's default (1 MiB).
        /// A result larger than it reaches the submitter as a failed task.</summary>
        public long ResultCapacityBytes { get; set; }
        /// <summary>Permission bits of the pool and the result queues (e.g. Convert.ToInt32("660", 8)); 0: 0600.</summary>
        public int Mode { get; set; }
        /// <summary>Newtonsoft.Json settings for Submit, Complete, ArgsAs&lt;T&gt; and Get&lt;T&gt;; null: the defaults.</summary>
        public JsonSerializerSettings JsonSettings { get; set; }
    }
}
