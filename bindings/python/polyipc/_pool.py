"""Pool: multiprocessing.Pool's submitting side over a named polyipc worker pool,
whose workers are processes in any language (Python, Go, Java, C#, Rust, C).

    with polyipc.Pool("thumbs") as pool:              # opens or creates "thumbs"
        r = pool.apply_async("resize", ("a.png", 64))  # the function's NAME, JSON arguments
        r.get(timeout=30)                              # the worker's JSON result
        pool.map("square", range(10))                  # [0, 1, 4, ...]

    # a worker, in another process (or a Go/Java/C#/Rust program):
    with polyipc.Pool("thumbs") as pool:
        pool.serve({"resize": resize, "square": lambda x: x * x})   # until close() and drained

Differences from multiprocessing.Pool, on purpose:
  - the pool has a name and lives in POSIX shared memory until polyipc.unlink()
    removes it; there are no worker processes of its own: any process that
    opens the pool by name and calls serve() (or take()) is a worker;
  - a function is named by a str, not passed as a callable, and its arguments
    and result travel as JSON (positional args: a JSON array; keyword args: a
    JSON object; submit() sends any one JSON value as is);
  - a failed task raises polyipc.PoolTaskError carrying the worker's error
    text (a Python worker sends "<ExceptionType>: <message>"), not the
    worker's exception itself;
  - close() ends the pool for every process (no more tasks: workers drain
    what is there, then serve() returns); terminate() (and leaving `with`)
    only releases this handle: workers elsewhere go on;
  - a task runs at least once: a worker that dies mid-task (or gives the task
    back) has it handed to another worker; its submitter still gets exactly
    one result.
  - map/imap/starmap send `chunksize` items to a pool message (map's default:
    len // 32, at most 1024): one worker runs a chunk's tasks in turn, yet
    every item is its own task with its own result, so workers in any
    language see plain calls; imap's `window` bounds how many tasks are
    outstanding (at least two chunks);
  - apply_async's callback/error_callback and map_async/starmap_async work as in
    multiprocessing; the callbacks run in the thread that receives the result: a
    completion thread of the handle's own (while callbacks wait), or a thread of
    yours in get() or next_result();
  - get(timeout) raises multiprocessing.TimeoutError as AsyncResult.get does;
    join(timeout) raises polyipc.TimeoutError (a builtins.TimeoutError) as
    JoinableQueue.join does.
"""

import collections
import concurrent.futures
import itertools
import json
import multiprocessing
import sys
import threading
import time
import traceback
import weakref

from . import _errors, _jsoncodec
from ._handle import Handle, HandleOwner, open_mode
from ._native import lib
from ._sync import _deadline, _slice_ns

__all__ = ["Pool", "AsyncResult", "MapResult", "PoolTask", "PoolTaskError"]

# serve() takes in slices this long, so a stop Event is noticed within one.
SERVE_SLICE_SECONDS = 0.15
_monotonic = time.monotonic
_Timeout = _errors.TimeoutError
_Empty = _errors.Empty
_Full = _errors.Full
_encode = _jsoncodec.encode
_decode = _jsoncodec.decode
_free_pool = lib.delete_NativePool
_free_task = lib.delete_NativePoolTask
_free_batch = lib.delete_NativePoolBatch
_submit_many = lib.polyipc_python_pool_submit_many
_submit_array = lib.polyipc_python_pool_submit_array
_OK, _TIMEOUT, _FULL = lib.POLYIPC_OK, lib.POLYIPC_ERR_TIMEOUT, lib.POLYIPC_ERR_FULL
MAX_AUTO_CHUNKSIZE = 1024
# map() submits tasks in groups of about this many (whole chunks), two groups out at a time.
MAP_GROUP_TASKS = 2048


class PoolTaskError(Exception):
    """A task that failed in its worker. str(e) (and `.text`) is the worker's error text:
    "<ExceptionType>: <message>" from a Python worker, whatever another language sent from
    another. `.task_id` is the task's id (of this handle), `.function` its function name
    when known.

    Raised by a serve() handler, it fails the task with exactly its text (no type prefix):
    a worker that forwards a failed sub-task's PoolTaskError passes the text on unchanged."""

    __module__ = "polyipc"

    def __init__(self, text, task_id=None, function=None):
        super().__init__(text)
        self.text = text
        self.task_id = task_id
        self.function = function


def error_text(exc):
    """The error text a Python worker sends for an exception: "<ExceptionType>: <message>"
    ("<ExceptionType>" alone when the message is empty); a PoolTaskError's text as is."""
    if isinstance(exc, PoolTaskError):
        return exc.text
    message = str(exc)
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def _in_slices(h, fn, ptr, deadline, *args, timeouts=_Timeout):
    """fn(ptr, *args, slice_ns) in slices until it returns; once the deadline passed, the
    last slice's `timeouts` error goes on. h.check() between slices."""
    while True:
        ns = _slice_ns(deadline)
        try:
            return fn(ptr, *args, ns)
        except timeouts:
            if ns == 0 or (deadline is not None and _monotonic() >= deadline):
                raise
            h.check()


def _check_function(func):
    if not isinstance(func, str):
        raise TypeError(f"a pool function is named by a str, not {type(func).__name__} "
                        f"(workers register their handlers under names: see Pool.serve)")
    return func


def _check_chunksize(chunksize):
    if isinstance(chunksize, bool) or not isinstance(chunksize, int):
        raise TypeError(f"chunksize must be an int, not {type(chunksize).__name__}")
    if chunksize < 1:
        raise ValueError(f"chunksize must be at least 1, not {chunksize}")
    return chunksize


def _auto_chunksize(chunksize, items):
    """map's chunksize: as given, or for None len // 32 between 1 and MAX_AUTO_CHUNKSIZE
    (multiprocessing takes len // (4 * processes); a named pool's workers are not known)."""
    if chunksize is not None:
        return chunksize
    return max(1, min(MAX_AUTO_CHUNKSIZE, len(items) // 32))


def _call_args(args, kwds):
    """The JSON value of one call: the keyword arguments as an object, else the positional
    ones as an array."""
    if kwds is not None:
        if args:
            raise TypeError("a pool task takes positional arguments (a JSON array) or keyword arguments "
                            "(a JSON object), not both")
        return dict(kwds)
    if isinstance(args, (str, bytes, bytearray, dict)):
        raise TypeError(f"'args' must be a sequence of arguments, not {type(args).__name__}")
    return list(args)


def _all_lists(calls):
    """True when every call's args are a JSON array (the handler gets *args), as map's are."""
    return set(map(type, calls)) <= {list}


def _run_starmap(handler, calls, results, errors):
    """handler(*args) for each call, appended to results, at C speed: list.extend keeps
    what it appended before an exception, and starmap goes on after one, so a failing
    call is recorded at its index and the rest still run."""
    it = itertools.starmap(handler, calls)
    while True:
        try:
            results.extend(it)
            return
        except Exception as e:  # noqa: BLE001 - the task's failure, reported to its submitter
            errors[str(len(results))] = error_text(e)
            results.append(None)


def _run_each(handler, calls, results, errors, stop):
    """handler on each call in turn, by the shape of its args; stops early once `stop` is set."""
    for args in calls:
        if results and stop is not None and stop.is_set():
            break
        try:
            if isinstance(args, list):
                results.append(handler(*args))
            elif isinstance(args, dict):
                results.append(handler(**args))
            else:
                results.append(handler(args))
        except Exception as e:  # noqa: BLE001 - the task's failure, reported to its submitter
            errors[str(len(results))] = error_text(e)
            results.append(None)


def _finish_batch(batch, results, errors):
    """Finishes the batch's next len(results) tasks; a result JSON cannot carry fails its task."""
    try:
        text = _encode(results)
    except (TypeError, ValueError, RecursionError):
        for i, value in enumerate(results):
            try:
                _encode(value)
            except (TypeError, ValueError, RecursionError) as e:
                errors[str(i)] = error_text(e)
                results[i] = None
        text = _encode(results)
    lib.NativePoolBatch_finish(batch, text, _encode(errors) if errors else b"")


def _reopen(name):
    return Pool(name, create=False)


def _check_callbacks(callback, error_callback):
    for what, fn in (("callback", callback), ("error_callback", error_callback)):
        if fn is not None and not callable(fn):
            raise TypeError(f"'{what}' must be callable or None, not {type(fn).__name__}")
    return None if callback is None and error_callback is None else (callback, error_callback)


def _report_callback_error(pool, what):
    """A callback raised: print it as threading does for a thread's uncaught exception, and
    go on delivering results (multiprocessing's result handler would stop for good)."""
    print(f"polyipc: a callback of pool {pool.name!r} for {what} raised:", file=sys.stderr)
    traceback.print_exc()


_running = threading.local()  # .results: the AsyncResults whose callbacks this thread runs (nested: several)


def _running_here():
    """The AsyncResults whose callbacks this thread is running (a callback that receives another
    result runs that one's too): their get() and join() here must not wait for themselves."""
    try:
        return _running.results
    except AttributeError:
        _running.results = []
        return _running.results


class AsyncResult:
    """The result of one task, as multiprocessing.pool.AsyncResult: get(timeout=None),
    wait(timeout=None), ready(), successful(); and, as concurrent.futures.Future, cancel()
    and cancelled(). `id` is the task's id (per submitting handle).

    With apply_async's callback / error_callback, the callback has run by the time get(),
    wait() or ready() report the result, as in multiprocessing."""

    __module__ = "polyipc"
    __slots__ = ("_pool", "id", "function", "_lock", "_done", "_ok", "_value", "_cancelled", "_callbacks",
                 "_callbacks_ran", "__weakref__")

    def __init__(self, pool, task_id, function, callbacks=None):
        self._pool = pool  # keeps the pool (and its handle) alive while a result is awaited
        self.id = task_id
        self.function = function
        self._lock = threading.Lock()  # one thread at a time asks the library for this id
        self._done = False
        self._ok = None
        self._value = None
        self._cancelled = False
        # [(callback, error_callback)] until the thread that received the result pops it
        # (list.pop is atomic: they run once); _callbacks_ran once they returned (waiters wait
        # on the handle's _Completions).
        self._callbacks = [callbacks] if callbacks is not None else None
        self._callbacks_ran = False

    def _set(self, message):
        """Stores the result message {"id":..,"ok":..,"result"|"error":..[,"cancelled":true]}."""
        ok = bool(message.get("ok"))
        self._value = message.get("result") if ok else message.get("error", "")
        self._ok = ok
        self._cancelled = message.get("cancelled") is True
        self._done = True

    def _fetch(self, deadline):
        """True once the result is here; False when the deadline passed first."""
        if self._done:
            return True
        if deadline is None:
            self._lock.acquire()
        elif not self._lock.acquire(timeout=max(0.0, deadline - _monotonic())):
            return self._done
        try:
            pool = self._pool
            h = pool._handle
            ptr = h.enter()
            try:
                while not self._done:
                    ns = _slice_ns(deadline)
                    try:
                        data = lib.NativePool_result(ptr, self.id, ns)
                    except _Timeout:
                        if ns == 0 or (deadline is not None and _monotonic() >= deadline):
                            return self._done
                        h.check()
                        continue
                    except _errors.InvalidArgument:
                        if pool._delivered(self):  # Pool.next_result() took it for us
                            break
                        raise
                    self._set(_decode(data))
            finally:
                h.leave()
        finally:
            self._lock.release()
        self._run_callbacks()  # (when this thread received it; else a no-op)
        return True

    def _run_callbacks(self):
        """Runs apply_async's callback (the value) or error_callback (the exception get() raises)
        once the result is here, in the thread that received it, holding no lock."""
        pending = self._callbacks
        if not pending:
            return
        try:
            callback, error_callback = pending.pop()
        except IndexError:  # another thread popped them first: it runs them
            return
        running = _running_here()
        running.append(self)
        try:
            if self._ok:
                if callback is not None:
                    callback(self._value)
            elif error_callback is not None:
                error_callback(self._exception())
        except Exception:  # noqa: BLE001 - a callback's error must not stop result delivery
            _report_callback_error(self._pool, f"task {self.id} ({self.function!r})")
        finally:
            running.pop()
            self._callbacks_ran = True
            self._pool._completions.ran(self)

    def _await_callbacks(self, deadline):
        """True once this result's callbacks have returned (at once without callbacks, or in
        the thread running them)."""
        if self._callbacks is None or self._callbacks_ran or self in _running_here():
            return True
        return self._pool._completions.wait_ran(self, deadline)

    def _exception(self):
        """What get() raises for a result that is not a value."""
        if self._cancelled:
            return concurrent.futures.CancelledError(
                f"pool {self._pool.name!r}: task {self.id} ({self.function!r}) was cancelled")
        return PoolTaskError(self._value, self.id, self.function)

    def ready(self):
        """True when the task has finished or was cancelled (its result is here); never blocks."""
        now = _monotonic()
        return self._fetch(now) and self._await_callbacks(now)

    def cancel(self):
        """Takes the task back out of the pool if no worker has taken it yet: True, and it
        never runs (get() raises concurrent.futures.CancelledError). False when a worker has
        it, or its result is here already: it runs to its end as usual."""
        if self._done:
            return self._cancelled
        pool = self._pool
        try:
            cancelled = bool(pool._call(lib.NativePool_cancel, self.id))
        except _errors.InvalidArgument:  # its result came meanwhile (or it was cancelled)
            return self._fetch(_monotonic()) and self._cancelled
        if cancelled:
            self._fetch(None)  # the cancelled result is in this handle's queue already
        return cancelled

    def cancelled(self):
        """True when cancel() took the task back before it ran."""
        return self._done and self._cancelled

    def successful(self):
        """True when the task finished with a result, False when it failed. ValueError while not ready."""
        if not self.ready():
            raise ValueError(f"task {self.id} ({self.function!r}) is not ready")
        return self._ok

    def wait(self, timeout=None):
        """Waits until the result is here or timeout seconds have passed; returns None."""
        deadline = _deadline(timeout)
        self._fetch(deadline) and self._await_callbacks(deadline)

    def get(self, timeout=None):
        """The task's result (decoded JSON). polyipc.PoolTaskError with the worker's error text
        when the task failed; multiprocessing.TimeoutError when it has not finished within
        timeout seconds (the task goes on: ask again). Can be called again: the same outcome."""
        deadline = _deadline(timeout)
        if not (self._fetch(deadline) and self._await_callbacks(deadline)):
            raise multiprocessing.TimeoutError(
                f"pool {self._pool.name!r}: task {self.id} ({self.function!r}) did not finish within {timeout} s")
        if self._ok:
            return self._value
        raise self._exception()

    def __repr__(self):
        state = ("ok" if self._ok else "cancelled" if self._cancelled else "failed") if self._done else "pending"
        return f"<polyipc.AsyncResult task {self.id} {self.function!r} {state}>"


class MapResult:
    """What map_async() and starmap_async() return, as multiprocessing's MapResult:
    get(timeout=None) (the list of results, or the first failure in order raised),
    wait(timeout=None), ready(), successful()."""

    __module__ = "polyipc"
    __slots__ = ("_pool", "function", "count", "_ended", "_ok", "_value")

    def __init__(self, pool, function, count):
        self._pool = pool
        self.function = function
        self.count = count  # how many tasks
        self._ended = threading.Event()  # set after the callbacks ran
        self._ok = None
        self._value = None

    def _set(self, ok, value, callbacks):
        self._ok, self._value = ok, value
        try:
            if callbacks is not None:
                callback, error_callback = callbacks
                if ok and callback is not None:
                    callback(value)
                elif not ok and error_callback is not None:
                    error_callback(value)
        except Exception:  # noqa: BLE001 - reported; the result stands
            _report_callback_error(self._pool, f"a map of {self.count} {self.function!r} tasks")
        finally:
            self._ended.set()

    def ready(self):
        """True once every task ended (and the callback ran); never blocks."""
        return self._ended.is_set()

    def successful(self):
        """True when every task succeeded. ValueError while not ready."""
        if not self.ready():
            raise ValueError(f"the map of {self.count} {self.function!r} tasks is not ready")
        return self._ok

    def wait(self, timeout=None):
        """Waits until ready or timeout seconds have passed; returns None."""
        _deadline(timeout)  # ValueError for a negative timeout, as everywhere
        self._ended.wait(timeout)

    def get(self, timeout=None):
        """The results in order; the first failed task (in order) raises its PoolTaskError.
        multiprocessing.TimeoutError when not ready within timeout seconds."""
        _deadline(timeout)
        if not self._ended.wait(timeout):
            raise multiprocessing.TimeoutError(f"pool {self._pool.name!r}: the map of {self.count} "
                                               f"{self.function!r} tasks did not end within {timeout} s")
        if self._ok:
            return self._value
        raise self._value

    def __repr__(self):
        state = ("ok" if self._ok else "failed") if self.ready() else "pending"
        return f"<polyipc.MapResult {self.count} {self.function!r} tasks {state}>"


class _Completions:
    """multiprocessing's result handler, for one Pool handle: while results that callbacks
    wait for are still to come, a daemon thread receives this handle's results as they come
    (next_result(), which runs their callbacks). It ends when none is left, and starts again
    with the next. Also counts the map_async calls running, for join()."""

    def __init__(self):
        # No reference to the pool: an idle handle is freed as soon as it is dropped. The
        # thread holds it while it runs (the results it waits for do too).
        self._cond = threading.Condition(threading.Lock())
        self._waiting = set()  # AsyncResults with callbacks that have not returned yet
        self._jobs = set()     # the threads of the map_async calls running
        self._thread = None

    def add(self, r):
        with self._cond:
            if r._callbacks_ran:  # received and run elsewhere already
                return
            self._waiting.add(r)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, args=(r._pool,), daemon=True,
                                                name=f"polyipc-pool-{r._pool.name}-results")
                self._thread.start()

    def ran(self, r):
        """r's callbacks returned (r._callbacks_ran is True)."""
        with self._cond:
            self._waiting.discard(r)
            self._cond.notify_all()

    def _wait_for(self, predicate, deadline):
        with self._cond:
            return self._cond.wait_for(predicate, None if deadline is None else max(0.0, deadline - _monotonic()))

    def wait_ran(self, r, deadline):
        """True once r's callbacks returned (another thread runs them); False at the deadline."""
        return self._wait_for(lambda: r._callbacks_ran, deadline)

    def job_started(self, thread):
        with self._cond:
            self._jobs.add(thread)

    def job_ended(self, thread):
        with self._cond:
            self._jobs.discard(thread)
            self._cond.notify_all()

    def after_close(self, timeout=1.0):
        """After the handle closed (terminate()): waits for this handle's own threads to leave
        the library (within a wait slice), so that the handle, its result queue with it, is
        released when terminate() returns. Never for the calling thread (a callback's)."""
        me = threading.current_thread()
        with self._cond:
            threads = [t for t in (self._thread, *self._jobs) if t is not None and t is not me]
        deadline = _monotonic() + timeout
        for t in threads:
            t.join(max(0.0, deadline - _monotonic()))

    def wait_idle(self, deadline):
        """True once no callback waits and no map_async call runs; False at the deadline. A
        callback's own thread does not wait for itself."""
        mine = _running_here()
        me = threading.current_thread()
        return self._wait_for(lambda: len(self._waiting) == sum(r in self._waiting for r in mine) and
                              len(self._jobs) == (me in self._jobs), deadline)

    def _run(self, pool):
        while True:
            with self._cond:
                if not self._waiting or pool._handle.closed:  # released: their callbacks never run
                    self._waiting.clear()
                    self._thread = None
                    self._cond.notify_all()
                    return
            try:
                pool.next_result(timeout=SERVE_SLICE_SECONDS)
            except multiprocessing.TimeoutError:
                pass
            except ValueError:  # none is to come here (other threads receive them by id), or released
                with self._cond:
                    if self._waiting and not pool._handle.closed:
                        self._cond.wait(SERVE_SLICE_SECONDS)
            except Exception:  # noqa: BLE001 - reported; receiving goes on
                _report_callback_error(pool, "its results")
                with self._cond:
                    self._cond.wait(SERVE_SLICE_SECONDS)


class PoolTask:
    """A task taken by this process (Pool.take()): `id`, `function` (str), `args` (the
    decoded JSON arguments), `args_json` (their text as sent). End it with complete(value)
    or fail(text); release() (or the garbage collector) gives an unfinished task back to
    the pool for another worker, as a worker's death does.

    As a context manager: leaving the block normally without complete()/fail() gives the
    task back; leaving it by an exception (an Exception subclass) fails the task with
    "<ExceptionType>: <message>" and lets the exception go on. KeyboardInterrupt and other
    BaseExceptions give it back."""

    __module__ = "polyipc"

    def __init__(self, handle, ptr):
        # The caller holds a call token of `handle` for us: the native pool stays open
        # (a terminate() elsewhere is deferred) until this task is released.
        self._handle = handle
        self._ptr = ptr
        self._lock = threading.Lock()
        self.id = lib.NativePoolTask_id(ptr)
        self.function = lib.NativePoolTask_function(ptr).decode("utf-8", "replace")
        self.args_json = lib.NativePoolTask_args(ptr).decode("utf-8", "replace")
        self._args = self
        self.finished = False  # True after complete() / fail()

    @property
    def args(self):
        """The arguments, decoded from JSON (any JSON value)."""
        if self._args is self:
            self._args = _jsoncodec.decode_text(self.args_json)
        return self._args

    @property
    def released(self):
        """True once the task is finished or given back (the native task is gone)."""
        return self._ptr is None

    def _finish(self, failed, data):
        with self._lock:
            ptr = self._ptr
            if ptr is None:
                raise ValueError(f"task {self.id} ({self.function!r}) was "
                                 f"{'finished' if self.finished else 'given back'} already")
            lib.NativePoolTask_finish(ptr, failed, data)  # INVALID_JSON leaves it unfinished
            self.finished = True
            self._release_locked()

    def complete(self, value):
        """Finishes the task with `value` (serialised to JSON) as its result. TypeError /
        ValueError for a value JSON cannot carry (the task stays unfinished)."""
        self._finish(0, _encode(value))

    def complete_json(self, text):
        """Finishes the task with a result already in JSON (str or bytes). polyipc.InvalidJSON
        when it is not JSON (the task stays unfinished)."""
        self._finish(0, text)

    def fail(self, text):
        """Finishes the task as failed with the error text `text` (str; an exception becomes
        "<ExceptionType>: <message>"): its submitter's get() raises PoolTaskError(text)."""
        if isinstance(text, BaseException):
            text = error_text(text)
        self._finish(1, str(text))

    def release(self):
        """Gives the task back to the pool for another worker, unless it was finished. Idempotent."""
        with self._lock:
            self._release_locked()

    def _release_locked(self):
        ptr, self._ptr = self._ptr, None
        if ptr is not None:
            try:
                _free_task(ptr)
            finally:
                self._handle.leave()  # the pool may be released now, after its task

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc is not None and isinstance(exc, Exception) and not self.finished and self._ptr is not None:
            try:
                self.fail(error_text(exc))
            except Exception:  # noqa: BLE001 - the original exception goes on; the task goes back
                pass
        self.release()

    def __del__(self):
        try:
            if getattr(self, "_ptr", None) is not None:
                self.release()
        except Exception:  # noqa: BLE001 - at interpreter exit the library may be gone
            pass

    def __repr__(self):
        state = "finished" if self.finished else ("given back" if self._ptr is None else "open")
        return f"<polyipc.PoolTask {self.id} {self.function!r} {state}>"


class Pool(HandleOwner):
    """A named worker pool shared by processes in any language.

    Pool(name, *, create=True, exclusive=False, capacity_bytes=0 (1 MiB), max_tasks=0
         (unbounded but for capacity_bytes), result_capacity_bytes=0 (1 MiB), mode=0 (0600))

    create=False opens an existing pool (polyipc.NotFound if there is none) as it is;
    exclusive=True fails with polyipc.Exists if it exists. Any handle can submit
    (apply_async, map, ...) and work (serve, take). Results come back to the submitting
    handle alone, through a private result queue made at its first submit and removed
    with the handle (terminate())."""

    __module__ = "polyipc"

    def __init__(self, name, *, create=True, exclusive=False, capacity_bytes=0, max_tasks=0,
                 result_capacity_bytes=0, mode=0):
        if not isinstance(name, str):
            raise TypeError(f"pool name must be str, not {type(name).__name__}")
        self._name = name
        self._handle = _NOT_OPEN
        for what, v in (("capacity_bytes", capacity_bytes), ("max_tasks", max_tasks),
                        ("result_capacity_bytes", result_capacity_bytes), ("mode", mode)):
            if v is None or v < 0:
                raise ValueError(f"'{what}' must be a non-negative number, not {v!r}")
        ptr = lib.NativePool_open(name, open_mode(create, exclusive), int(capacity_bytes), int(max_tasks),
                                  int(result_capacity_bytes), int(mode))
        self._handle = Handle(getattr(ptr, "this", ptr), f"Pool {name!r}", _free_pool)
        self._results = weakref.WeakValueDictionary()  # task id -> its AsyncResult, while someone holds it
        # next_result() calls in flight: one of them may have taken the result an AsyncResult waits for
        # (_delivery_lock is its lock, taken alone where nobody waits or is notified: a
        # Condition's own `with` runs in Python, the Lock's in C)
        self._delivery_lock = threading.Lock()
        self._delivery = threading.Condition(self._delivery_lock)
        self._delivering = 0
        # submits in flight, and results next_result() got for ids not registered yet (one of those)
        self._submitting = 0
        self._early = {}
        self._completions = _Completions()  # callbacks' results, and map_async calls, in flight

    # ---- plumbing -------------------------------------------------------------
    def _delivered(self, r):
        """After the library said r's result is not to come: True once a next_result() in
        flight has handed it to r (that takes microseconds); False when none is in flight,
        or none did within a second (r's id is no task of this handle)."""
        until = _monotonic() + 1.0
        with self._delivery:
            while not r._done and self._delivering:
                left = until - _monotonic()
                if left <= 0:
                    break
                self._delivery.wait(left)
            return r._done

    def _submit_text(self, func, text, timeout=None, callbacks=None):
        """Submits func(text) (text: JSON), waiting in slices for room; returns its AsyncResult.
        With callbacks, the completion thread receives its result unless someone else does."""
        _check_function(func)
        deadline = _deadline(timeout)
        h = self._handle
        ptr = h.enter()
        task_id = None
        with self._delivery_lock:
            self._submitting += 1
        try:
            try:
                task_id = _in_slices(h, lib.NativePool_submit, ptr, deadline, func, text, timeouts=(_Timeout, _Full))
            except (_Timeout, _Full) as e:
                raise _Full(str(e)) from None
        finally:
            with self._delivery_lock:
                results = self._end_submit(func, () if task_id is None else (task_id,), callbacks)
            h.leave()
        r = results[0]
        if callbacks is not None:
            self._completions.add(r)
            if r._done:  # a next_result() elsewhere received it before r was known
                r._run_callbacks()
        return r

    def _end_submit(self, func, task_ids, callbacks=None):
        """The AsyncResults of the tasks a submit put in (a next_result() elsewhere may hold
        their results already), as the submit ends; self._delivery held."""
        self._submitting -= 1
        results = []
        for task_id in task_ids:
            r = AsyncResult(self, task_id, func, callbacks)
            self._results[task_id] = r
            early = self._early.pop(task_id, None)
            if early is not None:
                r._set(early)
            results.append(r)
        if not self._submitting:
            self._early.clear()
        return results

    def _submit_chunk(self, func, texts, timeout=None):
        """Submits func(text) for each JSON text of `texts` (a tuple, two or more) as one chunk:
        one pool message whose tasks one worker runs in turn. Returns their AsyncResults;
        queue.Full as _submit_text."""
        deadline = _deadline(timeout)
        h = self._handle
        ptr = h.enter()
        first = done = 0
        with self._delivery_lock:
            self._submitting += 1
        try:
            while True:
                ns = _slice_ns(deadline)
                first, done, status, message = _submit_many(ptr, func, texts, len(texts), ns)
                if status == _OK:
                    break
                if status in (_TIMEOUT, _FULL):
                    if ns == 0 or (deadline is not None and _monotonic() >= deadline):
                        raise _Full(message)
                    h.check()
                    continue
                raise _errors.error_for(status, message)
        finally:
            with self._delivery_lock:
                results = self._end_submit(func, range(first, first + done))
            h.leave()
        return results

    # ---- submitting -------------------------------------------------------------
    def submit(self, func, args=None, *, timeout=None, callback=None, error_callback=None):
        """Submits func with `args` sent as one JSON value, as it is (None: null; a list: an
        array; a dict: an object; a str: a string ...). Waits for room in the pool:
        queue.Full (polyipc.Full) when there is none within timeout seconds; polyipc.Closed
        (an EOFError) after close(). Returns the task's AsyncResult. callback and
        error_callback as apply_async's."""
        callbacks = _check_callbacks(callback, error_callback)
        return self._submit_text(func, _encode(args), timeout, callbacks)

    def submit_json(self, func, args_json, *, timeout=None, callback=None, error_callback=None):
        """submit() with the arguments already in JSON (str or bytes). polyipc.InvalidJSON
        when they are not JSON."""
        callbacks = _check_callbacks(callback, error_callback)
        return self._submit_text(func, args_json, timeout, callbacks)

    def apply_async(self, func, args=(), kwds=None, callback=None, error_callback=None):
        """Submits the call func(*args) (a JSON array of args) or func(**kwds) (a JSON object)
        to a worker; returns an AsyncResult. `func` is the name the workers registered.

        As in multiprocessing, callback(result) or error_callback(exception) (the
        PoolTaskError, or CancelledError, that get() raises) runs once the result comes,
        with nobody waiting for it: this handle's completion thread receives it (as
        next_result() would) and runs the callback; a thread of yours that receives it first
        (get(), next_result()) runs it instead. Keep callbacks short, as multiprocessing
        asks. A callback that raises is reported on stderr. Callbacks whose results had not
        come when this handle was released (terminate()) never run."""
        callbacks = _check_callbacks(callback, error_callback)
        return self._submit_text(func, _encode(_call_args(args, kwds)), callbacks=callbacks)

    def apply(self, func, args=(), kwds=None):
        """apply_async(func, args, kwds).get(): waits for the result."""
        return self.apply_async(func, args, kwds).get()

    def next_result(self, timeout=None):
        """The next task of this handle to finish, whichever it is (the C API's task id 0):
        its AsyncResult, ready. ValueError (polyipc.InvalidArgument) when this handle has no
        task whose result is still to come; multiprocessing.TimeoutError when none finished
        within timeout seconds. A result fetched here is also what its AsyncResult returns
        (and its apply_async callback runs here). While callbacks wait for results, this
        handle's completion thread receives results too: a next_result() of yours then
        shares them with it."""
        r = self._next_result(timeout)
        r._run_callbacks()
        return r

    def _next_result(self, timeout):
        deadline = _deadline(timeout)
        h = self._handle
        ptr = h.enter()
        with self._delivery_lock:
            self._delivering += 1
        try:
            try:
                data = _in_slices(h, lib.NativePool_result, ptr, deadline, 0)
            except _Timeout:
                raise multiprocessing.TimeoutError(
                    f"pool {self._name!r}: no task finished within {timeout} s") from None
            message = _decode(data)
            task_id = message.get("id")
            with self._delivery_lock:
                r = self._results.get(task_id)
                if r is None:  # nobody holds its AsyncResult (any more, or yet): a fresh one
                    r = AsyncResult(self, task_id, None)
                    if self._submitting:  # perhaps its submit() has not registered it yet
                        self._early[task_id] = message
                r._set(message)
            return r
        finally:
            with self._delivery:
                self._delivering -= 1
                self._delivery.notify_all()
            h.leave()

    def _iter_results(self, func, calls, ordered, window, chunksize=1):
        """Submits func(call) for each JSON value of `calls`, `chunksize` to a pool message, at
        most `window` outstanding (at least two chunks); yields the results in submission order
        (ordered) or as they finish. func and chunksize are checked already."""
        window = max(window, 2 * chunksize)
        outstanding = []  # AsyncResults, in submission order
        mine = {}
        try:
            batch = []
            for args in calls:
                batch.append(_encode(args))
                if len(batch) == chunksize:
                    yield from self._submit_batch(func, tuple(batch), outstanding, mine, ordered, window)
                    batch = []
            if batch:
                yield from self._submit_batch(func, tuple(batch), outstanding, mine, ordered, window)
            while outstanding:
                yield self._take_one(outstanding, mine, ordered)
        finally:
            outstanding.clear()

    def _submit_batch(self, func, texts, outstanding, mine, ordered, window):
        """Submits texts (one task, or one chunk), first yielding results while the window is
        full or the pool has no room."""
        while True:
            if outstanding and len(outstanding) + len(texts) > window:
                yield self._take_one(outstanding, mine, ordered)
                continue
            timeout = 0 if outstanding else None
            try:
                if len(texts) == 1:
                    rs = [self._submit_text(func, texts[0], timeout=timeout)]
                else:
                    rs = self._submit_chunk(func, texts, timeout=timeout)
                break
            except _Full:  # no room: make some by collecting results (workers may wait for us)
                if not outstanding:
                    raise
                yield self._take_one(outstanding, mine, ordered)
        outstanding.extend(rs)
        for r in rs:
            mine[r.id] = r

    def _take_one(self, outstanding, mine, ordered):
        if ordered:
            r = outstanding.pop(0)
            del mine[r.id]
            return r.get()
        # unordered: the first to finish among ours (others of this handle are stored for their AsyncResult)
        for k, r in enumerate(outstanding):
            if r._done:
                del outstanding[k], mine[r.id]
                return r.get()
        while True:
            try:
                got = self.next_result(timeout=SERVE_SLICE_SECONDS)
            except multiprocessing.TimeoutError:
                got = None
            except _errors.InvalidArgument:  # another thread's next_result() took ours
                got = None
            if got is not None and got.id in mine:
                outstanding.remove(mine.pop(got.id))
                return got.get()
            for k, r in enumerate(outstanding):
                if r._done:
                    del outstanding[k], mine[r.id]
                    return r.get()

    def imap(self, func, iterable, chunksize=1, *, window=256):
        """Lazily: func(item) for each item (args [item]), results in order; a failed task raises
        PoolTaskError at its place. `chunksize` items go in one pool message (one worker runs
        them in turn). At most `window` tasks are outstanding at once (at least two chunks)."""
        _check_function(func)
        chunksize = _check_chunksize(chunksize)
        return self._iter_results(func, ([item] for item in iterable), True, max(1, window), chunksize)

    def imap_unordered(self, func, iterable, chunksize=1, *, window=256):
        """As imap, but results in the order the tasks finish."""
        _check_function(func)
        chunksize = _check_chunksize(chunksize)
        return self._iter_results(func, ([item] for item in iterable), False, max(1, window), chunksize)

    def map(self, func, iterable, chunksize=None):
        """[func(item) for item in iterable], each a task with args [item], run by the workers,
        `chunksize` to a pool message (None: len // 32, at most 1024, as multiprocessing picks
        one from the length). Once every task has ended, the first failed one (in order)
        raises its PoolTaskError."""
        _check_function(func)
        items = list(zip(iterable))  # args [item] each: a 1-tuple encodes as a one-element array
        return self._map_calls(func, items, _check_chunksize(_auto_chunksize(chunksize, items)))

    def starmap(self, func, iterable, chunksize=None):
        """[func(*args) for args in iterable], each a task with args the JSON array of args."""
        _check_function(func)
        calls = [_call_args(args, None) for args in iterable]
        return self._map_calls(func, calls, _check_chunksize(_auto_chunksize(chunksize, calls)))

    def map_async(self, func, iterable, chunksize=None, callback=None, error_callback=None):
        """map() in a thread of its own: returns a MapResult at once (the items are read now).
        callback(list of results) or error_callback(exception: what get() raises) runs in
        that thread before get() returns, as in multiprocessing."""
        _check_function(func)
        callbacks = _check_callbacks(callback, error_callback)
        items = list(zip(iterable))  # args [item] each: a 1-tuple encodes as a one-element array
        return self._map_async(func, items, _check_chunksize(_auto_chunksize(chunksize, items)), callbacks)

    def starmap_async(self, func, iterable, chunksize=None, callback=None, error_callback=None):
        """starmap() as map_async() is map()."""
        _check_function(func)
        callbacks = _check_callbacks(callback, error_callback)
        calls = [_call_args(args, None) for args in iterable]
        return self._map_async(func, calls, _check_chunksize(_auto_chunksize(chunksize, calls)), callbacks)

    def _map_async(self, func, calls, chunksize, callbacks):
        self._handle.check()
        result = MapResult(self, func, len(calls))

        def run():
            try:
                try:
                    value, ok = self._map_calls(func, calls, chunksize), True
                except Exception as e:  # noqa: BLE001 - get() raises it, error_callback gets it
                    value, ok = e, False
                # A map cut short by terminate() runs no callback (as an apply_async's).
                result._set(ok, value, callbacks if ok or not self._handle.closed else None)
            finally:
                self._completions.job_ended(thread)

        thread = threading.Thread(target=run, name=f"polyipc-pool-{self._name}-map", daemon=True)
        self._completions.job_started(thread)
        thread.start()
        return result

    def _map_calls(self, func, calls, chunksize):
        """The results of func(call) for each JSON value of the list `calls`, in order. The
        calls go in as JSON arrays (one native call per group of MAP_GROUP_TASKS), and the
        results come back the same way, a group at a time, two groups out; workers that
        serve() take a chunk's arguments and finish its tasks in one call each. These tasks'
        results are for this call alone (next_result() never returns them)."""
        group = max(chunksize, MAP_GROUP_TASKS // chunksize * chunksize)
        h = self._handle
        ptr = h.enter()
        try:
            out = []
            failure = None
            out_groups = collections.deque()  # (first task id, count), submitted, not collected yet
            i = 0
            while (i < len(calls) and failure is None) or out_groups:
                if i < len(calls) and failure is None and len(out_groups) < 2:
                    try:
                        text = _encode(calls[i:i + group])
                    except (TypeError, ValueError, RecursionError) as e:  # raised once what is out ended
                        failure = e
                        continue
                    first, done, status, message = _submit_array(ptr, func, text, chunksize, 0)
                    if not done and not out_groups and status in (_TIMEOUT, _FULL):
                        # Nothing of ours is out: wait for room, but for one chunk only, so that
                        # no result of ours fills the result queue while this call waits.
                        first, done, status, message = _submit_array(
                            ptr, func, _encode(calls[i:i + chunksize]), chunksize, _slice_ns(None))
                    if done:
                        out_groups.append((first, done))
                        i += done
                    if status == _OK or done:
                        continue
                    if status not in (_TIMEOUT, _FULL):
                        raise _errors.error_for(status, message)
                    if not out_groups:  # the pool is full of others' tasks: wait on
                        h.check()
                        continue
                first, count = out_groups.popleft()  # no room, or two groups out: collect the older
                values, failures = _decode(_in_slices(h, lib.NativePool_results, ptr, None, first, count))
                out += values
                if failures and failure is None:  # the rest still ends first: no result is left behind
                    failure = failures[min(failures, key=int)]
            if isinstance(failure, BaseException):
                raise failure
            if failure is not None:
                if failure.get("cancelled") is True:
                    raise concurrent.futures.CancelledError(
                        f"pool {self._name!r}: task {failure.get('id')} ({func!r}) was cancelled")
                raise PoolTaskError(failure.get("error", ""), failure.get("id"), func)
            return out
        finally:
            h.leave()

    # ---- working -----------------------------------------------------------------
    def take(self, timeout=None):
        """Takes the next task (a PoolTask; use it in `with`): waits up to timeout seconds
        (None: for ever) for one. queue.Empty (polyipc.Empty) when none came in time;
        polyipc.Closed (an EOFError) once close() was called and every task was finished."""
        deadline = _deadline(timeout)
        h = self._handle
        ptr = h.enter()
        try:
            try:
                task = _in_slices(h, lib.NativePool_take, ptr, deadline)
            except _Timeout as e:
                raise _Empty(str(e)) from None
            h.calls.append(None)  # the task's own token: the native pool outlives it (see PoolTask)
        finally:
            h.leave()
        try:
            return PoolTask(h, getattr(task, "this", task))
        except BaseException:
            _free_task(task)
            h.leave()
            raise

    def serve(self, functions, stop=None):
        """Works for the pool: takes tasks and runs functions[task.function] on each, until
        close() was called (by any process) and every task is finished, or `stop` (a
        threading.Event, polyipc.Event or anything with is_set()) is set. Returns how many
        tasks this call finished.

        A handler gets *args when the task's args are a JSON array, **kwargs when an object,
        else the single value; what it returns is the result (serialised to JSON). An
        exception fails the task with "<ExceptionType>: <message>" (a PoolTaskError: its
        text as is); a task whose function is not in `functions` fails with
        "no function '<name>' in this worker". KeyboardInterrupt (and any BaseException)
        gives the running task back to the pool and ends serve()."""
        try:
            return self._serve(functions, stop)
        finally:  # the tasks of a chunk this loop took and did not run go back for others
            try:
                self._call(lib.NativePool_give_back_held)
            except ValueError:  # the handle was closed meanwhile, which gave them back
                pass

    def _serve(self, functions, stop):
        served = 0
        h = self._handle
        while stop is None or not stop.is_set():
            ptr = h.enter()
            try:
                try:
                    batch = _in_slices(h, lib.NativePool_take_batch, ptr, _monotonic() + SERVE_SLICE_SECONDS, 0)
                except _Timeout:
                    continue
                except _errors.Closed:
                    break
                batch = getattr(batch, "this", batch)
                try:
                    served += self._run_batch(batch, functions, stop)
                finally:
                    _free_batch(batch)  # gives back what was not finished
            finally:
                h.leave()
        return served

    @staticmethod
    def _run_batch(batch, functions, stop):
        """Runs the tasks of a batch (a chunk's, or one plain task) and finishes them in one
        call; stops early once `stop` is set, and on a BaseException finishes the tasks that
        ran before it goes on (the rest go back to the pool). Returns how many it finished."""
        name = lib.NativePoolBatch_function(batch).decode("utf-8", "replace")
        handler = functions.get(name)
        calls = _decode(lib.NativePoolBatch_args(batch))
        results = []
        errors = {}
        if handler is None:
            results = [None] * len(calls)
            errors = {str(i): f"no function '{name}' in this worker" for i in range(len(calls))}
        else:
            try:
                if stop is None and _all_lists(calls):
                    _run_starmap(handler, calls, results, errors)
                else:
                    _run_each(handler, calls, results, errors, stop)
            except BaseException:
                if results:
                    _finish_batch(batch, results, errors)
                raise
        if results:
            _finish_batch(batch, results, errors)
        return len(results)

    # ---- the pool as a whole --------------------------------------------------------
    def close(self):
        """No more tasks, for every process (multiprocessing's Pool.close()): workers drain
        what was submitted, then serve() returns and take() raises polyipc.Closed; submitting
        raises polyipc.Closed. This handle stays open (results still come)."""
        self._call(lib.NativePool_close_tasks)

    def join(self, timeout=None):
        """Waits until every task ever submitted (by any process) has finished, and then until
        this handle's callbacks (apply_async) and map_async/starmap_async calls have run.
        timeout (seconds) raises polyipc.TimeoutError (a builtins.TimeoutError) when it runs
        out."""
        deadline = _deadline(timeout)
        h = self._handle
        ptr = h.enter()
        try:
            _in_slices(h, lib.NativePool_join, ptr, deadline)
        finally:
            h.leave()
        # Every task ended, so every result is on its way: wait for the callbacks and the
        # map_async calls of this handle, as multiprocessing's join() waits for its handlers.
        if not self._completions.wait_idle(deadline):
            raise _Timeout(f"pool {self._name!r}: every task ended, but callbacks or map_async calls of this "
                           f"handle did not within {timeout} s")

    def terminate(self):
        """Releases this handle (not the pool: see polyipc.unlink; workers elsewhere go on).
        Results still to come to it are dropped, and its result queue is removed. Tasks this
        handle took and has not finished are given back when released (the native pool is
        closed after the last of them). Idempotent; leaving `with` calls it. Waits (a wait
        slice at most) for the handle's completion thread and map_async calls to end."""
        self._handle.close()
        self._completions.after_close()

    def stat(self):
        """The pool's task queue (kind "pool") and this handle's results_pending, as a dict."""
        return json.loads(self._call(lib.NativePool_stat_json))

    def unlink(self):
        """Removes the pool's name (polyipc.unlink(self.name)); handles keep working."""
        lib.polyipc_unlink(self._name)

    closed = property(HandleOwner.closed.fget,
                      doc="True once terminate() released this handle (not: closed for tasks).")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.terminate()

    def __reduce__(self):
        # Another process reopens the pool by name (in its POLYIPC_NAMESPACE).
        return _reopen, (self._name,)

    def __repr__(self):
        state = " terminated" if self.closed else ""
        return f"<polyipc.Pool {self._name!r}{state}>"


_NOT_OPEN = Handle(None, "pool")
_NOT_OPEN.closed = True
