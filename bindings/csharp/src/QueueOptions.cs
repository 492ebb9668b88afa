using Newtonsoft.Json;

namespace Polyipc
{
    /// <summary>In which order a queue hands out its messages.</summary>
    public enum QueueOrder
    {
        Fifo = 0,
        Lifo = 1,
        /// <summary>Lowest priority first, FIFO among equals.</summary>
        Priority = 2,
    }

    /// <summary>What a queue's messages are.</summary>
    public enum MessageFormat
    {
        /// <summary>JSON text: every put is validated (malformed JSON: InvalidJsonException).</summary>
        Json = 0,
        /// <summary>Any bytes.</summary>
        Bytes = 1,
    }

    /// <summary>Whether <see cref="Queue.Open"/> may create the queue.</summary>
    public enum OpenMode
    {
        /// <summary>Open it, or create it if it does not exist (race-free).</summary>
        OpenOrCreate = 0,
        /// <summary>Create it; AlreadyExistsException if it exists.</summary>
        CreateOnly = 1,
        /// <summary>Attach to the existing queue whatever its options; NotFoundException if there is none.
        /// The other options are not used.</summary>
        OpenOnly = 2,
    }

    /// <summary>
    /// How to open or create a queue. When the queue exists, Order, Format and Joinable must agree
    /// with it (IncompatibleException otherwise); the sizes are those of its creator.
    /// </summary>
    public sealed class QueueOptions
    {
        public OpenMode OpenMode { get; set; }
        public QueueOrder Order { get; set; }
        public MessageFormat Format { get; set; }
        /// <summary>TaskDone/Join work, and each get is a lease until TaskDone: if the getting process
        /// dies first, the message is handed to another consumer.</summary>
        public bool Joinable { get; set; }
        /// <summary>At most this many messages (Python's maxsize); 0: bounded by CapacityBytes only.</summary>
        public long MaxItems { get; set; }
        /// <summary>Shared memory for the messages; 0: the library's default (1 MiB).</summary>
        public long CapacityBytes { get; set; }
        /// <summary>The largest message; 0: as large as CapacityBytes allows.</summary>
        public long MaxMessageBytes { get; set; }
        /// <summary>Permission bits of a created queue (e.g. Convert.ToInt32("660", 8)); 0: 0600.</summary>
        public int Mode { get; set; }
        /// <summary>Unlinked when the last attached process detaches or dies.</summary>
        public bool Ephemeral { get; set; }
        /// <summary>Newtonsoft.Json settings for PutObject/Take&lt;T&gt;; null: the defaults.</summary>
        public JsonSerializerSettings JsonSettings { get; set; }

        /// <summary>Options of a joinable queue (the other options at their defaults).</summary>
        public static QueueOptions JoinableQueue()
        {
            return new QueueOptions { Joinable = true };
        }
    }
}
