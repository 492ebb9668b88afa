//! `Pool`: a worker pool shared by name (Python's `Pool.apply_async` across
//! processes and languages).
use crate::error::{ErrBuf, Error, Result, Status};
use crate::names::{c_name, take_c_string};
use crate::options::{PoolOptions, timeout_ns};
use crate::sync::{call, json, open_handle};
use polyipc_sys as sys;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::collections::{HashMap, VecDeque};
use std::ffi::{CStr, c_char, c_int, c_void};
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::ptr::{self, NonNull};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// How long [`Pool::serve`] waits for a task before it looks at its stop
/// flag again.
const SERVE_SLICE: Duration = Duration::from_millis(100);

/// A task handler for [`Pool::serve`]: gets the task's arguments, returns
/// its result, or an error text that the submitter receives as the failure.
pub type Handler = Box<dyn Fn(Value) -> std::result::Result<Value, String>>;

/// The id of a task submitted through one [`Pool`] handle (ids are per
/// handle: another handle's task 1 is another task).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TaskId(u64);

impl TaskId {
    /// The number, as the C API and other languages show it.
    pub fn get(self) -> u64 {
        self.0
    }
}

impl From<TaskId> for u64 {
    fn from(id: TaskId) -> u64 {
        id.0
    }
}

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A finished task as its submitter sees it: the value the worker returned,
/// or its error text, or that it was cancelled ([`Pool::cancel`]).
#[derive(Debug, Clone, PartialEq)]
pub struct TaskResult {
    /// Which task.
    pub id: TaskId,
    /// `Ok(result)` or `Err(error text)` of the worker; `Err("cancelled")`
    /// for a cancelled task (see [`cancelled`](TaskResult::cancelled)).
    pub outcome: std::result::Result<Value, String>,
    /// The task was cancelled before any worker took it: it never ran (a
    /// worker that fails a task with the text "cancelled" does not set it).
    pub cancelled: bool,
}

impl TaskResult {
    /// Whether the task was cancelled (never ran): [`cancelled`](TaskResult::cancelled).
    pub fn is_cancelled(&self) -> bool {
        self.cancelled
    }

    /// The result deserialised into a `T`: `Ok(Ok(t))`, `Ok(Err(text))` for
    /// a failed task, `Err` (`Status::InvalidJson`) for a result that is
    /// not a `T`. A cancelled task gives `Ok(Err("cancelled"))`: look at
    /// [`cancelled`](TaskResult::cancelled) first to tell it from a failure.
    pub fn decode<T: DeserializeOwned>(self) -> Result<std::result::Result<T, String>> {
        match self.outcome {
            Err(text) => Ok(Err(text)),
            Ok(v) => serde_json::from_value(v).map(Ok).map_err(|e| {
                Error::new(
                    Status::InvalidJson,
                    format!(
                        "task {}: the result is not the requested type: {e}",
                        self.id
                    ),
                )
            }),
        }
    }

    /// Parses a result message `{"id":7,"ok":true,"result":...}`,
    /// `{"id":7,"ok":false,"error":"text"}` or
    /// `{"id":7,"ok":false,"cancelled":true,"error":"cancelled"}`.
    fn parse(pool: &str, text: &[u8]) -> Result<TaskResult> {
        let bad = |why: &str| {
            Error::new(
                Status::InvalidJson,
                format!(
                    "pool '{pool}': result message {:?} {why}",
                    String::from_utf8_lossy(&text[..text.len().min(120)])
                ),
            )
        };
        let v: Value = serde_json::from_slice(text).map_err(|e| bad(&e.to_string()))?;
        let Value::Object(mut m) = v else {
            return Err(bad("is not an object"));
        };
        let id = m
            .get("id")
            .and_then(Value::as_u64)
            .ok_or_else(|| bad("has no id"))?;
        let outcome = match m.get("ok").and_then(Value::as_bool) {
            Some(true) => Ok(m.remove("result").unwrap_or(Value::Null)),
            Some(false) => match m.remove("error") {
                Some(Value::String(s)) => Err(s),
                _ => return Err(bad("has no error text")),
            },
            None => return Err(bad("has no ok")),
        };
        let cancelled =
            outcome.is_err() && m.get("cancelled").and_then(Value::as_bool) == Some(true);
        Ok(TaskResult {
            id: TaskId(id),
            outcome,
            cancelled,
        })
    }
}

/// A handle on worker pool `name` in the namespace `$POLYIPC_NAMESPACE`.
///
/// Submitters name a function and give JSON arguments; workers (processes
/// in any language, or threads of this one) take tasks, run what they
/// registered under that name, and complete each task with a JSON result or
/// fail it with an error text, which reaches the submitting handle alone.
/// A task taken by a worker that dies, or dropped unfinished, goes to
/// another worker: a task runs at least once, and a handle returns each
/// task's result once.
///
/// Any handle can submit and work. Every call may come from several threads
/// at once (`Pool` is `Send` and `Sync`; share it with `Arc`), threads may
/// wait for the results of different tasks at once. Dropping the handle (or
/// [`close`](Pool::close)) releases it and removes its result queue (results
/// still to come for it are dropped); the pool itself lives on until
/// [`unlink`](crate::unlink).
///
/// Timeouts: `None` waits forever, `Some(Duration::ZERO)` never blocks,
/// any other duration waits at most that long (`Status::Timeout`).
///
/// ```no_run
/// use polyipc::{Handler, Pool, PoolOptions};
/// use serde_json::{Value, json};
/// use std::collections::HashMap;
/// use std::sync::atomic::AtomicBool;
/// use std::time::Duration;
///
/// // a worker: runs until the pool is closed (or `stop` is set)
/// let pool = Pool::open("jobs", &PoolOptions::new())?;
/// let mut handlers: HashMap<String, Handler> = HashMap::new();
/// handlers.insert("add".into(), Box::new(|args: Value| {
///     let [a, b] = serde_json::from_value::<[i64; 2]>(args).map_err(|e| e.to_string())?;
///     Ok(json!(a + b)) // Err(text) fails the task
/// }));
/// let served = pool.serve(&handlers, &AtomicBool::new(false))?;
///
/// // a submitter (any process, any language)
/// let pool = Pool::open("jobs", &PoolOptions::new())?;
/// let id = pool.submit("add", &[2, 3])?;
/// let r = pool.result(id, Some(Duration::from_secs(5)))?;
/// assert_eq!(r.outcome, Ok(json!(5)));
/// pool.close_tasks()?; // Pool.close(): workers drain, then end
/// pool.join(None)?; // every task finished
/// # Ok::<(), polyipc::Error>(())
/// ```
pub struct Pool {
    h: NonNull<sys::polyipc_pool>,
    name: String,
    /// The highest task id this handle issued (ids count up from 1), so
    /// [`cancel`](Pool::cancel) tells a task that ended from no task.
    last_id: AtomicU64,
}

// SAFETY: the C API allows every call on one handle from several threads at
// once; polyipc_pool_close runs in Drop, when no borrow of the Pool (and so
// no PoolTask, which borrows it) is left.
unsafe impl Send for Pool {}
unsafe impl Sync for Pool {}

impl Pool {
    /// Opens (or creates, per `opts.open_mode`) pool `name`: 1..160
    /// characters of `[A-Za-z0-9._-]`.
    pub fn open(name: &str, opts: &PoolOptions) -> Result<Pool> {
        let h = open_handle("pool", name, |cname, out, err| {
            // Built after open_handle has checked the library version.
            let copts = opts.to_c();
            // SAFETY: valid C string, options struct and out pointer.
            unsafe { sys::polyipc_pool_open(cname, opts.c_open_mode(), &copts, out, err) }
        })?;
        Ok(Pool {
            h,
            name: name.to_owned(),
            last_id: AtomicU64::new(0),
        })
    }

    /// The pool's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    // ---- submitter ---------------------------------------------------------

    /// Submits `function(args)`, `args` serialised with serde_json; waits
    /// for room in the pool as long as it takes. The id names the task in
    /// [`result`](Pool::result).
    pub fn submit<T: Serialize + ?Sized>(&self, function: &str, args: &T) -> Result<TaskId> {
        self.submit_timeout(function, args, None)
    }

    /// [`submit`](Pool::submit) waiting at most `timeout` for room
    /// (`Status::Full` / `Status::Timeout`).
    pub fn submit_timeout<T: Serialize + ?Sized>(
        &self,
        function: &str,
        args: &T,
        timeout: Option<Duration>,
    ) -> Result<TaskId> {
        let args = serde_json::to_vec(args).map_err(|e| {
            Error::new(
                Status::InvalidJson,
                format!(
                    "pool '{}': arguments of '{function}' cannot be serialised as JSON: {e}",
                    self.name
                ),
            )
        })?;
        self.submit_raw(function, &args, timeout)
    }

    /// Submits `function(args)` with `args` as JSON text, sent as it is
    /// (`Status::InvalidJson` when it is not JSON).
    pub fn submit_json(&self, function: &str, args: &str) -> Result<TaskId> {
        self.submit_raw(function, args.as_bytes(), None)
    }

    /// [`submit_json`](Pool::submit_json) waiting at most `timeout` for room.
    pub fn submit_json_timeout(
        &self,
        function: &str,
        args: &str,
        timeout: Option<Duration>,
    ) -> Result<TaskId> {
        self.submit_raw(function, args.as_bytes(), timeout)
    }

    fn submit_raw(&self, function: &str, args: &[u8], timeout: Option<Duration>) -> Result<TaskId> {
        let cfunction = c_name("function", function).map_err(|e| {
            Error::new(
                e.status(),
                format!("pool '{}': submit: {}", self.name, e.message()),
            )
        })?;
        let mut id: u64 = 0;
        // SAFETY: valid C string, args valid for args.len() bytes, out pointer; the handle is open.
        call(|err| unsafe {
            sys::polyipc_pool_submit(
                self.h.as_ptr(),
                cfunction.as_ptr(),
                args.as_ptr() as *const c_void,
                args.len(),
                timeout_ns(timeout),
                &mut id,
                err,
            )
        })?;
        self.last_id.fetch_max(id, Ordering::Relaxed);
        Ok(TaskId(id))
    }

    /// Python's `Pool.map`: runs `function` over each of `args` on the
    /// pool's workers, `chunk` tasks to a pool message (a worker takes a
    /// chunk's tasks together; 1 or 0: plain tasks), and returns every
    /// task's result in the order of `args`, failed ones included (their
    /// `outcome` is `Err(text)`). The arguments go in as JSON arrays, a group
    /// of about 2048 tasks per native call, and the results come back the
    /// same way, two groups out at a time; a map larger than the pool or
    /// than this handle's result queue never waits on itself. It waits as
    /// long as it takes. `Status::InvalidJson` (nothing submitted) for
    /// arguments that cannot be serialised; another error leaves the tasks
    /// out to run, their results dropped with the handle. These tasks'
    /// results never go to [`result_any`](Pool::result_any).
    pub fn map<T: Serialize>(
        &self,
        function: &str,
        args: &[T],
        chunk: usize,
    ) -> Result<Vec<TaskResult>> {
        const GROUP_TASKS: usize = 2048;
        let chunk = chunk.max(1);
        let cfunction = c_name("function", function).map_err(|e| {
            Error::new(
                e.status(),
                format!("pool '{}': map: {}", self.name, e.message()),
            )
        })?;
        let texts = args
            .iter()
            .enumerate()
            .map(|(i, a)| {
                serde_json::to_string(a).map_err(|e| {
                    Error::new(
                        Status::InvalidJson,
                        format!(
                            "pool '{}': map '{function}': arguments {i} cannot be serialised as JSON: {e}",
                            self.name
                        ),
                    )
                })
            })
            .collect::<Result<Vec<String>>>()?;
        let group = chunk.max(GROUP_TASKS / chunk * chunk);
        let mut out = Vec::with_capacity(texts.len());
        let mut spans: VecDeque<(u64, usize)> = VecDeque::new(); // (first id, count) out, in order
        let mut next = 0;
        while next < texts.len() || !spans.is_empty() {
            if next < texts.len() && spans.len() < 2 {
                let end = texts.len().min(next + group);
                let (mut first, mut done) = (0u64, 0usize);
                let mut status = self.submit_array(
                    &cfunction,
                    &texts[next..end],
                    chunk,
                    Some(Duration::ZERO),
                    &mut first,
                    &mut done,
                );
                if done == 0 && spans.is_empty() && is_no_room(&status) {
                    // Nothing of ours is out: wait for room, but for one chunk only, so
                    // that no result of ours fills the result queue while this call waits.
                    let end = texts.len().min(next + chunk);
                    status = self.submit_array(
                        &cfunction,
                        &texts[next..end],
                        chunk,
                        None,
                        &mut first,
                        &mut done,
                    );
                }
                if done > 0 {
                    spans.push_back((first, done));
                    next += done;
                    continue;
                }
                match status {
                    Ok(()) => continue,
                    Err(e)
                        if spans.is_empty()
                            || !matches!(e.status(), Status::Full | Status::Timeout) =>
                    {
                        return Err(e);
                    }
                    Err(_) => {} // no room: collect the older group first
                }
            }
            let (first, count) = spans.pop_front().expect("a group is out");
            out.extend(self.results(first, count)?);
        }
        self.last_id
            .fetch_max(out.last().map_or(0, |r| r.id.0), Ordering::Relaxed);
        Ok(out)
    }

    /// `polyipc_pool_submit_array` of `texts` as one JSON array; `first` and
    /// `done` say what went in, also on an error.
    fn submit_array(
        &self,
        function: &std::ffi::CStr,
        texts: &[String],
        chunk: usize,
        timeout: Option<Duration>,
        first: &mut u64,
        done: &mut usize,
    ) -> Result<()> {
        let array = format!("[{}]", texts.join(","));
        // SAFETY: valid C string, array valid for its length, out pointers; the handle is open.
        call(|err| unsafe {
            sys::polyipc_pool_submit_array(
                self.h.as_ptr(),
                function.as_ptr(),
                array.as_ptr() as *const c_void,
                array.len(),
                chunk,
                timeout_ns(timeout),
                first,
                done,
                err,
            )
        })
    }

    /// The results of tasks `first` .. `first + count - 1`, in order, once all came.
    fn results(&self, first: u64, count: usize) -> Result<Vec<TaskResult>> {
        let (mut values, mut failures): (*mut c_char, *mut c_char) =
            (ptr::null_mut(), ptr::null_mut());
        // SAFETY: valid out pointers; the handle is open.
        call(|err| unsafe {
            sys::polyipc_pool_results(
                self.h.as_ptr(),
                first,
                count,
                timeout_ns(None),
                &mut values,
                ptr::null_mut(),
                &mut failures,
                ptr::null_mut(),
                err,
            )
        })?;
        // SAFETY: on success the library returned two strings for us to free.
        let (values, failures) = unsafe { (take_c_string(values), take_c_string(failures)) };
        let bad = |why: String| {
            Error::new(
                Status::Incompatible,
                format!("pool '{}': results of tasks {first}..: {why}", self.name),
            )
        };
        let values: Vec<Value> = serde_json::from_str(&values).map_err(|e| bad(e.to_string()))?;
        let failures: serde_json::Map<String, Value> =
            serde_json::from_str(&failures).map_err(|e| bad(e.to_string()))?;
        if values.len() != count {
            return Err(bad(format!("{} values for {count} tasks", values.len())));
        }
        let mut out: Vec<TaskResult> = values
            .into_iter()
            .enumerate()
            .map(|(i, v)| TaskResult {
                id: TaskId(first + i as u64),
                outcome: Ok(v),
                cancelled: false,
            })
            .collect();
        for (index, message) in failures {
            let i: usize = index
                .parse()
                .map_err(|_| bad(format!("a failure at {index:?}")))?;
            let slot = out
                .get_mut(i)
                .ok_or_else(|| bad(format!("a failure at {i}")))?;
            *slot = TaskResult::parse(&self.name, message.to_string().as_bytes())?;
        }
        Ok(out)
    }

    /// Cancels task `id` of this handle if no worker has taken it yet
    /// (java.util.concurrent's `Future.cancel(false)`): then `true`, the
    /// task never runs, [`join`](Pool::join) does not wait for it, and its
    /// result (to [`result`](Pool::result), [`result_any`](Pool::result_any),
    /// or a thread already waiting for it) is cancelled
    /// ([`TaskResult::cancelled`], `outcome` `Err("cancelled")`). `false`
    /// when a worker has it (its result comes as usual), or when it was
    /// cancelled already or its result came already. `Status::InvalidArg`
    /// for an id this handle never issued.
    pub fn cancel(&self, id: TaskId) -> Result<bool> {
        let mut cancelled: c_int = 0;
        // SAFETY: valid out pointer; the handle is open.
        match call(|err| unsafe {
            sys::polyipc_pool_cancel(self.h.as_ptr(), id.0, &mut cancelled, err)
        }) {
            Ok(()) => Ok(cancelled != 0),
            // No task of ours that could still run: one we issued has ended
            // (cancelled, or its result came), as Future.cancel's false.
            Err(e)
                if e.status() == Status::InvalidArg
                    && id.0 != 0
                    && id.0 <= self.last_id.load(Ordering::Relaxed) =>
            {
                Ok(false)
            }
            Err(e) => Err(e),
        }
    }

    /// Waits for the result of task `id` of this handle. `Status::Timeout`
    /// when it did not come in time (the task goes on: ask again);
    /// `Status::InvalidArg` for an id this handle expects no result for
    /// (never submitted here, or its result returned already). A task
    /// cancelled with [`cancel`](Pool::cancel) gives a result with
    /// [`cancelled`](TaskResult::cancelled) set, to this call, to
    /// `result_any`, or to a thread already waiting.
    pub fn result(&self, id: TaskId, timeout: Option<Duration>) -> Result<TaskResult> {
        TaskResult::parse(&self.name, self.result_json_raw(id.0, timeout)?.as_bytes())
    }

    /// Waits for the result of any task of this handle (`Status::InvalidArg`
    /// when no result is still to come); cancelled ones included.
    pub fn result_any(&self, timeout: Option<Duration>) -> Result<TaskResult> {
        TaskResult::parse(&self.name, self.result_json_raw(0, timeout)?.as_bytes())
    }

    /// As [`result`](Pool::result) (or `result_any` for `None`) but the
    /// result message as the library gives it:
    /// `{"id":7,"ok":true,"result":<json>}`,
    /// `{"id":7,"ok":false,"error":"text"}` or (cancelled)
    /// `{"id":7,"ok":false,"cancelled":true,"error":"cancelled"}`.
    pub fn result_json(&self, id: Option<TaskId>, timeout: Option<Duration>) -> Result<String> {
        self.result_json_raw(id.map_or(0, |id| id.0), timeout)
    }

    fn result_json_raw(&self, id: u64, timeout: Option<Duration>) -> Result<String> {
        let mut text: *mut c_char = ptr::null_mut();
        let mut len: usize = 0;
        let mut err = ErrBuf::new();
        // SAFETY: valid out pointers; the handle is open.
        let rc = unsafe {
            sys::polyipc_pool_result(
                self.h.as_ptr(),
                id,
                timeout_ns(timeout),
                &mut text,
                &mut len,
                err.as_mut_ptr(),
            )
        };
        err.check(rc)?;
        if text.is_null() {
            return Ok(String::new());
        }
        // SAFETY: on success the library returned len bytes (JSON, so UTF-8)
        // at text, ours to release with polyipc_free.
        let bytes = unsafe { std::slice::from_raw_parts(text as *const u8, len) };
        let s = String::from_utf8_lossy(bytes).into_owned();
        unsafe { sys::polyipc_free(text.cast()) };
        Ok(s)
    }

    // ---- worker ------------------------------------------------------------

    /// Takes the next task. `Status::Empty` (timeout zero) or
    /// `Status::Timeout` when none came; `Status::Closed` once
    /// [`close_tasks`](Pool::close_tasks) was called and every task was
    /// finished. The task borrows the pool; dropped unfinished, it goes back
    /// to the pool for another worker.
    pub fn take(&self, timeout: Option<Duration>) -> Result<PoolTask<'_>> {
        let mut t: *mut sys::polyipc_pool_task = ptr::null_mut();
        // SAFETY: valid out pointer; the handle is open.
        call(|err| unsafe {
            sys::polyipc_pool_take(self.h.as_ptr(), timeout_ns(timeout), &mut t, err)
        })?;
        let t = NonNull::new(t).ok_or_else(|| {
            Error::new(
                Status::System,
                format!("pool '{}': take returned no task", self.name),
            )
        })?;
        // SAFETY: the task is valid until freed; the strings live as long as it.
        let (id, function, args) = unsafe {
            let id = sys::polyipc_pool_task_id(t.as_ptr());
            let function = c_text(sys::polyipc_pool_task_function(t.as_ptr()));
            let mut len: usize = 0;
            let args = text_of(sys::polyipc_pool_task_args(t.as_ptr(), &mut len), len);
            (id, function, args)
        };
        Ok(PoolTask {
            pool: self,
            t,
            id: TaskId(id),
            function,
            args,
        })
    }

    /// The worker loop: takes tasks and runs the handler registered under
    /// each one's function name, completing the task with what the handler
    /// returns or failing it with its error text (a panicking handler fails
    /// the task with the panic message; a function not in `handlers` fails
    /// with `no function '<name>' in this worker`). Returns the number of
    /// tasks finished once the pool is closed and drained
    /// (`Status::Closed`), or when `stop` is seen set (checked before every
    /// take, and every 100 ms while waiting). Any other error ends the loop
    /// (a task being run then goes back to the pool).
    ///
    /// `handlers` maps names to boxed closures (see [`Handler`]; any boxed
    /// `Fn(Value) -> Result<Value, String>` does).
    pub fn serve<F>(&self, handlers: &HashMap<String, Box<F>>, stop: &AtomicBool) -> Result<usize>
    where
        F: Fn(Value) -> std::result::Result<Value, String> + ?Sized,
    {
        let served = self.serve_loop(handlers, stop);
        // The tasks of a chunk this loop took and did not run go back for others.
        let given_back = self.give_back_held();
        let served = served?;
        given_back.map(|()| served)
    }

    fn serve_loop<F>(&self, handlers: &HashMap<String, Box<F>>, stop: &AtomicBool) -> Result<usize>
    where
        F: Fn(Value) -> std::result::Result<Value, String> + ?Sized,
    {
        let mut served = 0;
        while !stop.load(Ordering::Acquire) {
            let batch = match self.take_batch(Some(SERVE_SLICE)) {
                Ok(batch) => batch,
                Err(e) if matches!(e.status(), Status::Timeout | Status::Empty) => continue,
                Err(e) if e.status() == Status::Closed => break,
                Err(e) => return Err(e),
            };
            served += batch.run(handlers, stop)?;
        }
        Ok(served)
    }

    /// The tasks of a chunk (or one plain task), taken together.
    fn take_batch(&self, timeout: Option<Duration>) -> Result<Batch<'_>> {
        let mut b: *mut sys::polyipc_pool_batch = ptr::null_mut();
        // SAFETY: valid out pointer; the handle is open.
        call(|err| unsafe {
            sys::polyipc_pool_take_batch(self.h.as_ptr(), 0, timeout_ns(timeout), &mut b, err)
        })?;
        let b = NonNull::new(b).ok_or_else(|| {
            Error::new(
                Status::System,
                format!("pool '{}': take_batch returned no batch", self.name),
            )
        })?;
        // SAFETY: the batch is valid until freed; the strings live as long as it.
        let (function, args) = unsafe {
            let function = c_text(sys::polyipc_pool_batch_function(b.as_ptr()));
            let mut len: usize = 0;
            let args = text_of(sys::polyipc_pool_batch_args(b.as_ptr(), &mut len), len);
            (function, args)
        };
        Ok(Batch {
            b,
            function,
            args,
            _pool: std::marker::PhantomData,
        })
    }

    /// The tasks of chunks (Python's `map` with a chunksize, Go's
    /// `SubmitMany`) that this handle took but has not handed out yet go
    /// back to the pool for other workers. `serve` does it when it returns;
    /// a loop of its own over `take` calls it when it stops taking.
    /// Dropping the handle does it too.
    pub fn give_back_held(&self) -> Result<()> {
        // SAFETY: the handle is open.
        call(|err| unsafe { sys::polyipc_pool_give_back_held(self.h.as_ptr(), err) })
    }

    /// No more tasks (Python's `Pool.close()`): submits fail with
    /// `Status::Closed`, workers drain what is there, then `take` gets
    /// `Status::Closed`.
    pub fn close_tasks(&self) -> Result<()> {
        // SAFETY: the handle is open.
        call(|err| unsafe { sys::polyipc_pool_close_tasks(self.h.as_ptr(), err) })
    }

    /// Waits until every task submitted by anyone has been finished
    /// (Python's `Pool.join()`), or `Status::Timeout`.
    pub fn join(&self, timeout: Option<Duration>) -> Result<()> {
        // SAFETY: the handle is open.
        call(|err| unsafe { sys::polyipc_pool_join(self.h.as_ptr(), timeout_ns(timeout), err) })
    }

    /// The task queue's stat (kind "pool") and this handle's
    /// `results_pending` and `result_queue`, as a JSON object.
    pub fn stat_json(&self) -> Result<String> {
        // SAFETY: valid out pointer; the handle is open.
        json(|json, err| unsafe { sys::polyipc_pool_stat_json(self.h.as_ptr(), json, err) })
    }

    /// Releases the handle (never the pool: see [`unlink`](crate::unlink)).
    /// Dropping the pool does the same.
    pub fn close(self) {
        drop(self)
    }

    /// Removes the name `name` (same as [`crate::unlink`]).
    pub fn unlink(name: &str) -> Result<()> {
        crate::unlink(name)
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        // SAFETY: the handle is open and, with &mut self, used by no one else
        // (every PoolTask borrowing it is gone).
        unsafe { sys::polyipc_pool_close(self.h.as_ptr()) }
    }
}

impl fmt::Debug for Pool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pool")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// A task taken by a worker ([`Pool::take`]). Finish it with
/// [`complete`](PoolTask::complete), [`complete_json`](PoolTask::complete_json)
/// or [`fail`](PoolTask::fail); dropped unfinished, it goes back to the pool
/// for another worker (as when its worker dies).
///
/// The task borrows its pool, so the handle stays open while it lives:
///
/// ```compile_fail
/// # use polyipc::{Pool, PoolOptions};
/// let pool = Pool::open("jobs", &PoolOptions::new())?;
/// let task = pool.take(None)?;
/// pool.close(); // error: `pool` is borrowed by `task`
/// task.fail("too late")?;
/// # Ok::<(), polyipc::Error>(())
/// ```
pub struct PoolTask<'p> {
    pool: &'p Pool,
    t: NonNull<sys::polyipc_pool_task>,
    id: TaskId,
    function: String,
    args: String,
}

// SAFETY: a task may be finished or freed from any thread of the process
// (its lease belongs to the process); &self methods read only our copies.
unsafe impl Send for PoolTask<'_> {}
unsafe impl Sync for PoolTask<'_> {}

impl PoolTask<'_> {
    /// The id its submitter got (ids are per submitting handle).
    pub fn id(&self) -> TaskId {
        self.id
    }

    /// The function name (invalid UTF-8 from another language shows as U+FFFD).
    pub fn function(&self) -> &str {
        &self.function
    }

    /// The arguments as sent: JSON text.
    pub fn args_json(&self) -> &str {
        &self.args
    }

    /// The arguments deserialised with serde_json (`Status::InvalidJson`
    /// when they are not a `T`; the task stays yours to finish).
    pub fn args<T: DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_str(&self.args).map_err(|e| {
            Error::new(
                Status::InvalidJson,
                format!(
                    "pool '{}': arguments of task {} ('{}') are not the requested type: {e}",
                    self.pool.name, self.id, self.function
                ),
            )
        })
    }

    /// Completes the task with `result` serialised with serde_json. If it
    /// cannot be serialised, the task is failed with that error's text (a
    /// worker would only fail the same way again) and the error
    /// (`Status::InvalidJson`) is returned.
    pub fn complete<T: Serialize + ?Sized>(self, result: &T) -> Result<()> {
        match serde_json::to_vec(result) {
            Ok(json) => self.complete_bytes(&json),
            Err(e) => {
                let e = Error::new(
                    Status::InvalidJson,
                    format!(
                        "pool '{}': the result of task {} ('{}') cannot be serialised as JSON: {e}",
                        self.pool.name, self.id, self.function
                    ),
                );
                self.finish(true, e.message().as_bytes())?;
                Err(e)
            }
        }
    }

    /// Completes the task with `result`, JSON text sent as it is. Text that
    /// is not JSON (`Status::InvalidJson`, returned) fails the task with the
    /// library's message instead, so its submitter learns of it.
    pub fn complete_json(self, result: &str) -> Result<()> {
        self.complete_bytes(result.as_bytes())
    }

    fn complete_bytes(mut self, json: &[u8]) -> Result<()> {
        match self.finish_in_place(false, json) {
            Err(e) if e.status() == Status::InvalidJson => {
                let text = e.message().trim_end_matches(" (the task stays taken)");
                self.finish(true, text.as_bytes())?;
                Err(Error::new(
                    Status::InvalidJson,
                    format!("{text} (the task was failed with this text)"),
                ))
            }
            other => other,
        }
    }

    /// Fails the task: its submitter gets `Err(message)`.
    pub fn fail(self, message: &str) -> Result<()> {
        self.finish(true, message.as_bytes())
    }

    /// Finishes, then frees the task (an unfinished one, after an error,
    /// goes back to the pool).
    fn finish(mut self, failed: bool, data: &[u8]) -> Result<()> {
        self.finish_in_place(failed, data)
    }

    fn finish_in_place(&mut self, failed: bool, data: &[u8]) -> Result<()> {
        // SAFETY: the task is valid until Drop; data valid for data.len() bytes.
        call(|err| unsafe {
            sys::polyipc_pool_finish(
                self.t.as_ptr(),
                failed as i32,
                data.as_ptr() as *const c_void,
                data.len(),
                err,
            )
        })
    }
}

impl Drop for PoolTask<'_> {
    fn drop(&mut self) {
        // SAFETY: the task is valid and freed once; its pool is open (borrowed).
        unsafe { sys::polyipc_pool_task_free(self.t.as_ptr()) }
    }
}

impl fmt::Debug for PoolTask<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PoolTask")
            .field("pool", &self.pool.name)
            .field("id", &self.id)
            .field("function", &self.function)
            .finish_non_exhaustive()
    }
}

/// A pool with no room now (what a call with timeout zero, or a slice, says).
fn is_no_room(r: &Result<()>) -> bool {
    matches!(r, Err(e) if matches!(e.status(), Status::Full | Status::Timeout))
}

/// A NUL-terminated text of the library's, or "" for NULL.
///
/// # Safety
/// `p` is NULL or a valid NUL-terminated string.
unsafe fn c_text(p: *const c_char) -> String {
    if p.is_null() {
        String::new()
    } else {
        // SAFETY: as the caller promises.
        unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
    }
}

/// `len` bytes of the library's at `p` as text, or "" for NULL.
///
/// # Safety
/// `p` is NULL or valid for `len` bytes.
unsafe fn text_of(p: *const c_char, len: usize) -> String {
    if p.is_null() {
        String::new()
    } else {
        // SAFETY: as the caller promises.
        String::from_utf8_lossy(unsafe { std::slice::from_raw_parts(p as *const u8, len) })
            .into_owned()
    }
}

/// The tasks [`Pool::serve`] took together (a chunk's, or one plain task):
/// run one after another, finished in one call. Dropping it gives back the
/// tasks not finished.
struct Batch<'a> {
    b: NonNull<sys::polyipc_pool_batch>,
    function: String,
    args: String,                              // a JSON array of each task's arguments
    _pool: std::marker::PhantomData<&'a Pool>, // a batch refers to its handle
}

impl Batch<'_> {
    /// Runs the handler of each task in turn (stopping early once `stop` is
    /// set), then finishes the tasks that ran: each with its handler's value,
    /// or failed with its error text, as [`Pool::serve`] describes. Returns
    /// how many it finished.
    fn run<F>(self, handlers: &HashMap<String, Box<F>>, stop: &AtomicBool) -> Result<usize>
    where
        F: Fn(Value) -> std::result::Result<Value, String> + ?Sized,
    {
        let calls: Vec<Value> = match serde_json::from_str(&self.args) {
            Ok(calls) => calls,
            Err(e) => {
                // SAFETY: the batch is valid until Drop.
                let n = unsafe { sys::polyipc_pool_batch_count(self.b.as_ptr()) };
                let text = format!(
                    "the arguments of '{}' cannot be decoded: {e}",
                    self.function
                );
                return self.finish(
                    vec![Value::Null; n],
                    (0..n).map(|i| (i, text.clone())).collect(),
                );
            }
        };
        let handler = handlers.get(&self.function);
        let mut results = Vec::with_capacity(calls.len());
        let mut failures = Vec::new();
        for args in calls {
            if !results.is_empty() && stop.load(Ordering::Acquire) {
                break; // the rest go back with the batch
            }
            let outcome = match handler {
                None => Err(format!("no function '{}' in this worker", self.function)),
                Some(handler) => match catch_unwind(AssertUnwindSafe(|| handler(args))) {
                    Ok(outcome) => outcome,
                    Err(panic) => {
                        let text = panic
                            .downcast_ref::<&str>()
                            .map(|s| s.to_string())
                            .or_else(|| panic.downcast_ref::<String>().cloned())
                            .unwrap_or_else(|| "the handler panicked".to_string());
                        Err(format!("panic: {text}"))
                    }
                },
            };
            match outcome {
                Ok(value) => results.push(value),
                Err(text) => {
                    failures.push((results.len(), text));
                    results.push(Value::Null);
                }
            }
        }
        self.finish(results, failures)
    }

    /// Finishes the next `results.len()` tasks; `failures` fails those
    /// indexes with their texts.
    fn finish(self, results: Vec<Value>, failures: Vec<(usize, String)>) -> Result<usize> {
        let n = results.len();
        if n == 0 {
            return Ok(0);
        }
        let results = Value::Array(results).to_string();
        let errors = if failures.is_empty() {
            String::new()
        } else {
            let m: serde_json::Map<String, Value> = failures
                .into_iter()
                .map(|(i, text)| (i.to_string(), Value::String(text)))
                .collect();
            Value::Object(m).to_string()
        };
        // SAFETY: the batch is valid until Drop; both texts valid for their lengths.
        call(|err| unsafe {
            sys::polyipc_pool_batch_finish(
                self.b.as_ptr(),
                results.as_ptr() as *const c_void,
                results.len(),
                errors.as_ptr() as *const c_void,
                errors.len(),
                err,
            )
        })?;
        Ok(n)
    }
}

impl Drop for Batch<'_> {
    fn drop(&mut self) {
        // SAFETY: freed once, here; unfinished tasks go back to the pool.
        unsafe { sys::polyipc_pool_batch_free(self.b.as_ptr()) }
    }
}
