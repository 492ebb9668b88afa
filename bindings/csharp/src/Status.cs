namespace Polyipc
{
    /// <summary>The library's status codes (polyipc_status in polyipc.h); stable numbers.</summary>
    public enum Status
    {
        Ok = 0,
        /// <summary>The wait ran out.</summary>
        Timeout = 1,
        /// <summary>A non-blocking get found the queue empty.</summary>
        Empty = 2,
        /// <summary>A non-blocking put found the queue full.</summary>
        Full = 3,
        /// <summary>Closed for writing and drained, or the peer is gone.</summary>
        Closed = 4,
        NotFound = 5,
        Exists = 6,
        /// <summary>Bad handle, name, size or option.</summary>
        InvalidArg = 7,
        /// <summary>A JSON-format queue was given malformed JSON.</summary>
        InvalidJson = 8,
        TooLarge = 9,
        Permission = 10,
        OwnerDead = 11,
        /// <summary>The name holds another kind of object, another layout version, or other options.</summary>
        Incompatible = 12,
        /// <summary>/dev/shm has no room for the object (or a pipe's next pages), or a table of handles is full.</summary>
        NoMemory = 13,
        NotOwner = 14,
        Broken = 15,
        /// <summary>An unexpected OS error; the message carries the errno text.</summary>
        System = 16,
        /// <summary>An index outside a list or array (since 0.7.0; InvalidArg before).</summary>
        OutOfRange = 17,
    }
}
