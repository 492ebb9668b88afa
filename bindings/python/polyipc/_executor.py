"""PoolExecutor: concurrent.futures' Executor over a named polyipc worker pool.

    with polyipc.PoolExecutor("thumbs") as ex:                 # opens or creates "thumbs"
        f = ex.submit("resize", "a.png", 64)                   # a concurrent.futures.Future
        for done in concurrent.futures.as_completed([f]):
            print(done.result())
        list(ex.map("square", range(10)))
        await asyncio.wrap_future(ex.submit("square", 7))      # from a coroutine

The futures are real concurrent.futures.Future objects (add_done_callback, wait,
as_completed, asyncio.wrap_future), completed by the pool handle's completion
thread (see Pool.apply_async's callbacks), with nobody waiting for them.
"""

import concurrent.futures
import threading

from ._pool import Pool

__all__ = ["PoolExecutor"]

_CancelledError = concurrent.futures.CancelledError
_InvalidStateError = concurrent.futures.InvalidStateError


class _TaskFuture(concurrent.futures.Future):
    """A Future whose cancel() takes the task back out of the pool (AsyncResult.cancel): True
    while no worker has taken it, False once one has (it then runs to its end)."""

    def __init__(self):
        super().__init__()
        self._task = None  # its AsyncResult (set before anyone else sees the Future)

    def cancel(self):
        if self.done():
            return self.cancelled()
        # The cancelled result runs the error callback (_settle), which cancels this Future.
        return self._task.cancel() and self.cancelled()

    def _settle(self, ok, value):
        try:
            if ok:
                self.set_result(value)
            elif isinstance(value, _CancelledError):
                super().cancel()
                self.set_running_or_notify_cancel()  # wakes waiters as an Executor's cancel does
            else:
                self.set_exception(value)
        except _InvalidStateError:  # a second outcome: never, as a task's result comes once
            pass


class PoolExecutor(concurrent.futures.Executor):
    """concurrent.futures.Executor over the named pool `name`, whose workers are processes in
    any language that serve() it. submit(fn, *args, **kwargs): `fn` is the function's NAME, and
    the arguments go as a JSON array (or, with keyword arguments, a JSON object; not both).
    `pool_options` are Pool's (create, exclusive, capacity_bytes, ...).

    shutdown(wait=True, cancel_futures=False) waits for this executor's futures (not for other
    processes' tasks in the pool), then releases the pool handle; the pool itself stays (see
    polyipc.unlink). `pool` is the Pool handle underneath."""

    __module__ = "polyipc"

    def __init__(self, name, **pool_options):
        self.pool = Pool(name, **pool_options)
        self._lock = threading.Lock()
        self._pending = set()  # futures not done yet
        self._shut = False

    def submit(self, fn, /, *args, **kwargs):
        # Under the lock, as ThreadPoolExecutor does: shutdown() sees every future submitted.
        with self._lock:
            if self._shut:
                raise RuntimeError("cannot schedule new futures after shutdown")
            f = _TaskFuture()
            f._task = self.pool.apply_async(fn, args, kwargs or None,
                                            callback=lambda v: f._settle(True, v),
                                            error_callback=lambda e: f._settle(False, e))
            self._pending.add(f)
        f.add_done_callback(self._forget)  # (at once if it is done already)
        return f

    def _forget(self, f):
        with self._lock:
            self._pending.discard(f)

    def shutdown(self, wait=True, *, cancel_futures=False):
        with self._lock:
            self._shut = True
            pending = list(self._pending)
        if cancel_futures:
            for f in pending:
                f.cancel()  # those a worker has run on
        if wait:
            concurrent.futures.wait(pending)
        if wait or not pending:
            self.pool.terminate()
        # else: the handle stays until the garbage collector takes the executor, so that the
        # futures still complete (the completion thread holds the pool while they wait)

    def __repr__(self):
        return f"<polyipc.PoolExecutor {self.pool.name!r}{' shut down' if self._shut else ''}>"
