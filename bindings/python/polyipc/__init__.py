"""polyipc: multiprocessing's queues and synchronisation primitives (Lock, RLock,
Semaphore, BoundedSemaphore, Event, Condition, Barrier) as named objects in POSIX
shared memory, shared with processes written in Go, Java, C#, Rust and C (JSON
messages).

    import polyipc
    q = polyipc.JoinableQueue("jobs")          # opens or creates "jobs"
    q.put({"job": 1})                          # any process, any language, can get it
    job = q.get(timeout=5)                     # queue.Empty when nothing comes
    q.task_done()
    q.close()                                  # this handle; polyipc.unlink("jobs") removes the name

    with polyipc.Lock("ledger"):               # any process, any language: robust to a holder's death
        ...

Objects live in the namespace $POLYIPC_NAMESPACE (default "default") until
polyipc.unlink() removes them: nothing is removed at exit or by the garbage
collector. Errors are polyipc.PolyipcError subclasses that are also the
builtin exception you would catch (see polyipc._errors).
"""

from ._errors import (BarrierTimeout, Broken, Closed, Empty, Exists, Full, Incompatible, InvalidArgument,
                      InvalidJSON, NoMemory, NotFound, NotOwner, OwnerDead, OwnerDeadWarning, PermissionDenied,
                      PolyipcError, SystemFailure, TimeoutError, TooLarge)
from ._native import BINDING_VERSION_NUMBER, LIBRARY_VERSION_NUMBER, lib as _lib
from ._names import gc, list_objects, namespace, peek, stat, unlink
from ._queues import BYTES, FIFO, JSON, LIFO, PRIORITY, JoinableQueue, Queue, SimpleQueue
from ._sync import Barrier, BoundedSemaphore, Condition, Event, Lock, RLock, Semaphore

__version__ = _lib.polyipc_version()

__all__ = [
    "Queue", "JoinableQueue", "SimpleQueue", "FIFO", "LIFO", "PRIORITY", "JSON", "BYTES",
    "Lock", "RLock", "Semaphore", "BoundedSemaphore", "Event", "Condition", "Barrier",
    "unlink", "list_objects", "stat", "peek", "gc", "namespace",
    "PolyipcError", "TimeoutError", "Empty", "Full", "Closed", "NotFound", "Exists", "InvalidArgument",
    "InvalidJSON", "TooLarge", "PermissionDenied", "OwnerDead", "Incompatible", "NoMemory", "NotOwner", "Broken",
    "BarrierTimeout", "SystemFailure", "OwnerDeadWarning", "BINDING_VERSION_NUMBER", "LIBRARY_VERSION_NUMBER",
]
