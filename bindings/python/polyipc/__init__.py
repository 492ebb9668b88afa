"""polyipc: multiprocessing's queues, synchronisation primitives (Lock, RLock,
Semaphore, BoundedSemaphore, Event, Condition, Barrier), pipes (Pipe, Connection,
connection.wait), SharedMemory, Value, Array, Dict and List as named objects in POSIX shared
memory, and worker pools (Pool), shared with processes written in Go, Java, C#, Rust and C (JSON
messages).

    import polyipc
    q = polyipc.JoinableQueue("jobs")          # opens or creates "jobs"
    q.put({"job": 1})                          # any process, any language, can get it
    job = q.get(timeout=5)                     # queue.Empty when nothing comes
    q.task_done()
    q.close()                                  # this handle; polyipc.unlink("jobs") removes the name

    with polyipc.Lock("ledger"):               # any process, any language: robust to a holder's death
        ...

    a, b = polyipc.Pipe("chat")                # two Connections; another process: polyipc.Connection("chat", "b")
    a.send([1, 2]); b.recv()                   # JSON; EOFError once the other end is closed or died
    shm = polyipc.SharedMemory("frame", create=True, size=4096)   # shm.buf: a memoryview
    hits = polyipc.Value("q", 0, name="hits")  # hits.value, hits.get_lock(), hits.add(1)
    scores = polyipc.Dict("scores")            # Manager().dict() without a manager: str keys, JSON values
    scores["ada"] = 3; scores.compare_and_set("ada", 3, 4)
    jobs = polyipc.List("jobs")                # Manager().list() without a manager: JSON values
    jobs.append({"id": 1}); jobs.pop(0)        # l[i], l[i] = v, del l[i], insert: each one atomic

    pool = polyipc.Pool("thumbs")              # a worker pool; workers in any language
    pool.apply_async("resize", ("a.png", 64)).get(timeout=30)   # the function by NAME, JSON args
    pool.serve({"resize": resize})             # another process: work until pool.close()

Objects live in the namespace $POLYIPC_NAMESPACE (default "default") until
polyipc.unlink() removes them: nothing is removed at exit or by the garbage
collector. Errors are polyipc.PolyipcError subclasses that are also the
builtin exception you would catch (see polyipc._errors).
"""

from ._errors import (BarrierTimeout, Broken, Closed, Empty, Exists, Full, Incompatible, InvalidArgument,
                      InvalidJSON, NoMemory, NotFound, NotOwner, OutOfRange, OwnerDead, OwnerDeadWarning,
                      PermissionDenied, PolyipcError, SystemFailure, TimeoutError, TooLarge, BrokenPipe)
from ._native import BINDING_VERSION_NUMBER, LIBRARY_VERSION_NUMBER, lib as _lib
from ._names import gc, list_objects, namespace, peek, stat, unlink
from ._queues import BYTES, FIFO, JSON, LIFO, PRIORITY, Borrowed, JoinableQueue, Queue, Reservation, SimpleQueue
from ._sync import Barrier, BoundedSemaphore, Condition, Event, Lock, RLock, Semaphore
from ._pool import AsyncResult, MapResult, Pool, PoolTask, PoolTaskError
from ._executor import PoolExecutor
from . import connection
from .connection import BufferTooShort, Connection, ConnectionClosedError, Pipe
from .shared_memory import SharedMemory
from ._values import Array, Value
from ._dict import ABSENT, Dict
from ._list import List

__version__ = _lib.polyipc_version()

__all__ = [
    "Queue", "JoinableQueue", "SimpleQueue", "Reservation", "Borrowed", "FIFO", "LIFO", "PRIORITY", "JSON", "BYTES",
    "Lock", "RLock", "Semaphore", "BoundedSemaphore", "Event", "Condition", "Barrier",
    "Pipe", "Connection", "connection", "SharedMemory", "Value", "Array", "Dict", "ABSENT", "List",
    "Pool", "AsyncResult", "MapResult", "PoolTask", "PoolTaskError", "PoolExecutor",
    "unlink", "list_objects", "stat", "peek", "gc", "namespace",
    "PolyipcError", "TimeoutError", "Empty", "Full", "Closed", "NotFound", "Exists", "InvalidArgument",
    "InvalidJSON", "TooLarge", "PermissionDenied", "OwnerDead", "Incompatible", "NoMemory", "NotOwner", "Broken",
    "BarrierTimeout", "SystemFailure", "OutOfRange", "OwnerDeadWarning", "BrokenPipe", "BufferTooShort", "ConnectionClosedError",
    "BINDING_VERSION_NUMBER", "LIBRARY_VERSION_NUMBER",
]
