//! polyipc: named queues, pipes, shared memory, shared values and arrays,
//! dicts (string keys to JSON values), lists (sequences of JSON values),
//! synchronisation primitives (Lock, RLock, Semaphore, Event, Condition,
//! Barrier) and worker pools in POSIX shared memory, shared by processes
//! written in Rust, C, Go, Java, C# and Python; queues and pipes exchange
//! JSON (or bytes) messages, pools JSON tasks and results.
//!
//! ```no_run
//! use polyipc::{Queue, QueueOptions};
//! use std::time::Duration;
//!
//! let q = Queue::open("jobs", &QueueOptions::new().joinable(true))?;
//! q.put_json(&serde_json::json!({"job": 1}), None)?;
//! let job: serde_json::Value = q.get_json(Some(Duration::from_secs(1)))?;
//! q.task_done()?;
//! q.close(); // the handle only: the queue stays until polyipc::unlink("jobs")
//! # Ok::<(), polyipc::Error>(())
//! ```
//!
//! Objects live in the namespace named by `$POLYIPC_NAMESPACE` (default
//! "default"). The rules of every call are those of `polyipc.h`.
mod dict;
mod error;
mod json_text;
mod list;
mod message;
mod names;
mod options;
mod pipe;
mod pool;
mod queue;
mod shm;
mod sync;

pub use dict::Dict;
pub use error::{Error, Result, Status};
pub use list::List;
pub use names::{gc_json, list_json, peek_json, stat_json, unlink};
pub use options::{
    DictOptions, End, Format, ListOptions, OpenMode, Order, PipeOptions, PoolOptions, QueueOptions,
    SyncOptions,
};
pub use pipe::{Connection, Pipe, Waitable, wait};
/// The raw declarations, for what this crate does not wrap yet.
pub use polyipc_sys as sys;
pub use pool::{Handler, Pool, PoolTask, TaskId, TaskResult};
pub use queue::{Borrowed, Messages, Queue, Reservation};
pub use shm::{Array, ArrayGuard, Element, SharedMemory, Value};
pub use sync::{
    Barrier, Condition, ConditionGuard, Event, Lock, LockGuard, RLock, Semaphore, SemaphorePermit,
};

use std::ffi::CStr;
use std::sync::OnceLock;

/// The version number of polyipc.h this binding was generated from
/// (MAJOR*1000000 + MINOR*1000 + PATCH).
pub const BINDING_VERSION_NUMBER: i32 = sys::POLYIPC_VERSION_NUMBER;

/// The loaded library's version, e.g. "0.2.0".
pub fn version() -> &'static str {
    // SAFETY: static text.
    unsafe { CStr::from_ptr(sys::polyipc_version()) }
        .to_str()
        .unwrap_or("?")
}

/// The loaded library's version number.
pub fn version_number() -> i32 {
    unsafe { sys::polyipc_version_number() }
}

/// Checks once per process, before the first object is opened, that the
/// loaded libpolyipc is the one the declarations were generated from.
pub(crate) fn ensure_library_version() -> Result<()> {
    static CHECKED: OnceLock<Result<()>> = OnceLock::new();
    CHECKED
        .get_or_init(|| check_version(version_number(), version(), BINDING_VERSION_NUMBER))
        .clone()
}

fn check_version(found: i32, found_text: &str, expected: i32) -> Result<()> {
    if found == expected {
        return Ok(());
    }
    Err(Error::new(
        Status::Incompatible,
        format!(
            "the loaded libpolyipc is version {found_text} ({found}) but this Rust binding was generated \
             for version number {expected}: rebuild the binding against this library or load the matching \
             library (POLYIPC_LIB_DIR, rpath, LD_LIBRARY_PATH)"
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_mismatch_is_a_clear_error() {
        assert!(check_version(2000, "0.2.0", 2000).is_ok());
        let e = check_version(2003, "0.2.3", 1000).unwrap_err();
        assert_eq!(e.status(), Status::Incompatible);
        assert!(e.message().contains("0.2.3 (2003)"), "{e}");
        assert!(e.message().contains("1000"), "{e}");
    }

    #[test]
    fn loaded_library_matches() {
        assert_eq!(version_number(), BINDING_VERSION_NUMBER);
        assert!(ensure_library_version().is_ok());
    }

    #[test]
    fn every_status_round_trips_through_its_code() {
        assert_eq!(Status::from_code(0), None);
        for code in 1..=17 {
            let s = Status::from_code(code).unwrap();
            assert_eq!(s.code(), code);
        }
        assert_eq!(Status::from_code(1), Some(Status::Timeout));
        assert_eq!(Status::from_code(99), Some(Status::Other(99)));
        assert_eq!(Status::InvalidJson.name(), "POLYIPC_ERR_INVALID_JSON");
    }

    #[test]
    fn handles_are_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Queue>();
        check::<Pool>();
        check::<PoolTask<'static>>();
        check::<TaskResult>();
        check::<Error>();
        check::<Lock>();
        check::<RLock>();
        check::<Semaphore>();
        check::<Event>();
        check::<Condition>();
        check::<Barrier>();
        check::<SemaphorePermit<'static>>();
        check::<Connection>();
        check::<SharedMemory>();
        check::<Array<i64>>();
        check::<Value<f64>>();
        check::<Dict>();
        check::<List>();
    }
}
