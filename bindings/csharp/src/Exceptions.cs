using System;

namespace Polyipc
{
    /// <summary>
    /// A failed polyipc call. <see cref="Status"/> is the library's status code; the message
    /// names the object and the cause. The subclasses below exist for the statuses a program
    /// commonly handles; every other status comes as a plain PolyipcException.
    /// </summary>
    [Serializable]
    public class PolyipcException : Exception
    {
        public Status Status { get; private set; }

        public PolyipcException(Status status, string message) : base(message)
        {
            Status = status;
        }

        /// <summary>The exception for a status the library returned (used by the native glue).</summary>
        public static PolyipcException FromNative(int code, string message)
        {
            var status = (Status)code;
            if (string.IsNullOrEmpty(message)) message = "polyipc: " + status;
            switch (status)
            {
                case Status.Timeout: return new PolyipcTimeoutException(status, message);
                case Status.Empty: return new QueueEmptyException(message);
                case Status.Full: return new QueueFullException(message);
                case Status.Closed: return new QueueClosedException(message);
                case Status.NotFound: return new NotFoundException(message);
                case Status.Exists: return new AlreadyExistsException(message);
                case Status.InvalidArg: return new PolyipcArgumentException(message);
                case Status.InvalidJson: return new InvalidJsonException(message);
                case Status.TooLarge: return new MessageTooLargeException(message);
                case Status.Permission: return new PolyipcPermissionException(message);
                case Status.OwnerDead: return new OwnerDeadException(message);
                case Status.Incompatible: return new IncompatibleException(message);
                case Status.NotOwner: return new NotOwnerException(message);
                case Status.Broken: return new BrokenBarrierException(message);
                case Status.OutOfRange: return new PolyipcOutOfRangeException(message);
                default: return new PolyipcException(status, message);
            }
        }
    }

    /// <summary>A wait ran out (Timeout), or a zero wait found nothing to do (its subclasses Empty and Full).</summary>
    [Serializable]
    public class PolyipcTimeoutException : PolyipcException
    {
        public PolyipcTimeoutException(string message) : base(Status.Timeout, message) { }
        protected internal PolyipcTimeoutException(Status status, string message) : base(status, message) { }
    }

    /// <summary>A get that must not wait (timeout zero) found the queue empty (Python's queue.Empty).</summary>
    [Serializable]
    public class QueueEmptyException : PolyipcTimeoutException
    {
        public QueueEmptyException(string message) : base(Status.Empty, message) { }
    }

    /// <summary>A put that must not wait (timeout zero) found the queue full (Python's queue.Full).</summary>
    [Serializable]
    public class QueueFullException : PolyipcTimeoutException
    {
        public QueueFullException(string message) : base(Status.Full, message) { }
    }

    /// <summary>End of stream: the queue was closed for writing (puts fail) and is drained (gets fail).</summary>
    [Serializable]
    public class QueueClosedException : PolyipcException
    {
        public QueueClosedException(string message) : base(Status.Closed, message) { }
    }

    /// <summary>Open-only (or unlink, stat) of a name that does not exist.</summary>
    [Serializable]
    public class NotFoundException : PolyipcException
    {
        public NotFoundException(string message) : base(Status.NotFound, message) { }
    }

    /// <summary>Create-only of a name that exists.</summary>
    [Serializable]
    public class AlreadyExistsException : PolyipcException
    {
        public AlreadyExistsException(string message) : base(Status.Exists, message) { }
    }

    /// <summary>A bad name, size or option.</summary>
    [Serializable]
    public class PolyipcArgumentException : PolyipcException
    {
        public PolyipcArgumentException(string message) : base(Status.InvalidArg, message) { }
        protected PolyipcArgumentException(Status status, string message) : base(status, message) { }
    }

    /// <summary>An index outside a list (Status.OutOfRange). A PolyipcArgumentException, as it was
    /// before the library had a status of its own for it.</summary>
    [Serializable]
    public class PolyipcOutOfRangeException : PolyipcArgumentException
    {
        public PolyipcOutOfRangeException(string message) : base(Status.OutOfRange, message) { }
    }

    /// <summary>A JSON-format queue was given malformed JSON; the queue is unchanged.</summary>
    [Serializable]
    public class InvalidJsonException : PolyipcException
    {
        public InvalidJsonException(string message) : base(Status.InvalidJson, message) { }
    }

    /// <summary>The message is larger than the queue can ever hold.</summary>
    [Serializable]
    public class MessageTooLargeException : PolyipcException
    {
        public MessageTooLargeException(string message) : base(Status.TooLarge, message) { }
    }

    /// <summary>The OS refused access to the object.</summary>
    [Serializable]
    public class PolyipcPermissionException : PolyipcException
    {
        public PolyipcPermissionException(string message) : base(Status.Permission, message) { }
    }

    /// <summary>
    /// Acquired, but the previous holder died holding it: repair the state it guards. The lock
    /// classes do not throw it from Acquire: they report it as <see cref="LockGuard.PreviousOwnerDied"/>
    /// (the lock is held). Other calls never see it either: a Condition wait that re-acquires from a
    /// dead holder counts as a wake-up.
    /// </summary>
    [Serializable]
    public class OwnerDeadException : PolyipcException
    {
        public OwnerDeadException(string message) : base(Status.OwnerDead, message) { }
    }

    /// <summary>The name holds another kind of object, another layout version, or options that disagree;
    /// also: this binding and the loaded libpolyipc are of different versions.</summary>
    [Serializable]
    public class IncompatibleException : PolyipcException
    {
        public IncompatibleException(string message) : base(Status.Incompatible, message) { }
    }

    /// <summary>A release (or a Condition wait/notify) by a thread that does not hold the lock; locks
    /// are owned by the OS thread that acquired them (C#'s SynchronizationLockException).</summary>
    [Serializable]
    public class NotOwnerException : PolyipcException
    {
        public NotOwnerException(string message) : base(Status.NotOwner, message) { }
    }

    /// <summary>The barrier is broken (aborted, reset, timed out, or a waiting process died) until Reset.</summary>
    [Serializable]
    public class BrokenBarrierException : PolyipcException
    {
        public BrokenBarrierException(string message) : base(Status.Broken, message) { }
    }

    /// <summary>
    /// A pool task whose worker failed it (<see cref="PoolTask.Fail"/>, or an exception in a
    /// <see cref="Pool.Serve"/> handler): thrown by <see cref="PoolResult.Wait"/> and
    /// <see cref="PoolResult.Get{T}"/>. The message is the worker's error text, exactly.
    /// <see cref="PolyipcException.Status"/> is Ok: the pool did its part; the task's function failed.
    /// </summary>
    [Serializable]
    public class PoolTaskException : PolyipcException
    {
        /// <summary>The task's id (per submitting handle).</summary>
        public ulong TaskId { get; private set; }
        /// <summary>The function the task named (null if this handle does not know it).</summary>
        public string Function { get; private set; }

        public PoolTaskException(ulong taskId, string function, string error) : base(Status.Ok, error ?? "")
        {
            TaskId = taskId;
            Function = function;
        }
    }
}
