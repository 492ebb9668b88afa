//! The synchronisation primitives of `polyipc.h` (Python's multiprocessing
//! Lock, RLock, Semaphore, BoundedSemaphore, Event, Condition and Barrier),
//! shared by name across processes and languages, and robust: a holder that
//! dies never wedges the others.
//!
//! Every handle is `Send + Sync` (share it with `Arc`); `close` (or dropping
//! it) releases the handle only, never a lock and never the object, which
//! lives until [`unlink`](crate::unlink). Guards release what they hold on
//! `Drop`, and borrow their handle, so a handle cannot be closed while one of
//! its guards lives.
mod barrier;
mod condition;
mod event;
mod lock;
mod semaphore;

pub use barrier::Barrier;
pub use condition::{Condition, ConditionGuard};
pub use event::Event;
pub use lock::{Lock, LockGuard, RLock};
pub use semaphore::{Semaphore, SemaphorePermit};

use crate::error::{ErrBuf, Error, Result, Status};
use crate::names::{c_name, take_c_string};
use polyipc_sys as sys;
use std::ffi::{c_char, c_int};
use std::ptr::{self, NonNull};

/// Opens a handle: `f(name, &mut out, err)` is the C open call.
pub(crate) fn open_handle<T>(
    kind: &str,
    name: &str,
    f: impl FnOnce(*const c_char, *mut *mut T, *mut sys::polyipc_error) -> c_int,
) -> Result<NonNull<T>> {
    crate::ensure_library_version()?;
    let cname = c_name(kind, name)?;
    let mut out: *mut T = ptr::null_mut();
    let mut err = ErrBuf::new();
    let rc = f(cname.as_ptr(), &mut out, err.as_mut_ptr());
    err.check(rc)?;
    NonNull::new(out).ok_or_else(|| {
        Error::new(
            Status::System,
            format!("{kind} '{name}': open returned no handle"),
        )
    })
}

/// One C call whose only output is its status.
#[inline]
pub(crate) fn call(f: impl FnOnce(*mut sys::polyipc_error) -> c_int) -> Result<()> {
    let mut err = ErrBuf::new();
    let rc = f(err.as_mut_ptr());
    err.check(rc)
}

/// A C call that returns a library-allocated JSON text.
pub(crate) fn json(
    f: impl FnOnce(*mut *mut c_char, *mut sys::polyipc_error) -> c_int,
) -> Result<String> {
    let mut text: *mut c_char = ptr::null_mut();
    call(|err| f(&mut text, err))?;
    // SAFETY: on success the library returned a string for us to free.
    Ok(unsafe { take_c_string(text) })
}

/// The boilerplate of a handle type with fields `h: NonNull<$raw>` and
/// `name: String`: Send + Sync, Drop (closes the handle), Debug, `name`,
/// `stat_json` and `close`.
macro_rules! sync_handle {
    ($ty:ident, $kind:literal, $close:path, $stat:path) => {
        // SAFETY: the C API allows every call on one handle from several
        // threads at once; the close call runs in Drop, when no borrow (and
        // so no guard) of the handle is left.
        unsafe impl Send for $ty {}
        unsafe impl Sync for $ty {}

        impl Drop for $ty {
            fn drop(&mut self) {
                // SAFETY: the handle is open and, with &mut self, used by no one else.
                unsafe { $close(self.h.as_ptr()) }
            }
        }

        impl std::fmt::Debug for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($ty))
                    .field("name", &self.name)
                    .finish_non_exhaustive()
            }
        }

        impl $ty {
            /// The object's name.
            pub fn name(&self) -> &str {
                &self.name
            }

            /// The object's name, kind, state and counters as a JSON object.
            pub fn stat_json(&self) -> $crate::Result<String> {
                // SAFETY: valid out pointers; the handle is open.
                $crate::sync::json(|json, err| unsafe { $stat(self.h.as_ptr(), json, err) })
            }

            #[doc = concat!("Releases the handle (never the ", $kind, " itself: see [`unlink`](crate::unlink)).")]
            /// Dropping it does the same. It takes the handle by value, so no
            /// call can reach a closed handle, and it cannot run while a
            /// guard borrowed from this handle lives.
            pub fn close(self) {
                drop(self)
            }
        }
    };
}
pub(crate) use sync_handle;
