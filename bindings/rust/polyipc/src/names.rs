//! Calls on names (unlink, list, stat, peek, gc) and the string helpers.
use crate::error::{ErrBuf, Error, Result, Status};
use polyipc_sys as sys;
use std::ffi::{CStr, CString, c_char};
use std::ptr;

/// A name as a C string. The library checks the rest of the rules.
pub(crate) fn c_name(kind: &str, name: &str) -> Result<CString> {
    CString::new(name).map_err(|_| {
        Error::new(
            Status::InvalidArg,
            format!("{kind} name {name:?} contains a NUL byte"),
        )
    })
}

/// Copies a library-allocated C string and releases it with polyipc_free.
///
/// # Safety
/// `p` is null or a NUL-terminated string from the library, not used after.
pub(crate) unsafe fn take_c_string(p: *mut c_char) -> String {
    if p.is_null() {
        return String::new();
    }
    let s = unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned();
    unsafe { sys::polyipc_free(p.cast()) };
    s
}

/// Calls `f(&mut json, err)` and returns the JSON text it produced.
fn json_call(f: impl FnOnce(*mut *mut c_char, *mut sys::polyipc_error) -> i32) -> Result<String> {
    crate::ensure_library_version()?;
    let mut json: *mut c_char = ptr::null_mut();
    let mut err = ErrBuf::new();
    let rc = f(&mut json, err.as_mut_ptr());
    err.check(rc)?;
    // SAFETY: on success the library returned a string for us to free.
    Ok(unsafe { take_c_string(json) })
}

/// Removes the name `name` from the namespace. Handles already open keep
/// working; the memory goes when the last one closes. No `Drop` in this crate
/// ever unlinks: this is the only way (besides ephemeral queues).
pub fn unlink(name: &str) -> Result<()> {
    crate::ensure_library_version()?;
    let cname = c_name("object", name)?;
    let mut err = ErrBuf::new();
    // SAFETY: valid C string and error buffer.
    let rc = unsafe { sys::polyipc_unlink(cname.as_ptr(), err.as_mut_ptr()) };
    err.check(rc)
}

/// Every object of the namespace as a JSON array of stat objects.
pub fn list_json() -> Result<String> {
    json_call(|json, err| unsafe { sys::polyipc_list_json(json, err) })
}

/// One object's name, options and counters as a JSON object, without
/// attaching to it.
pub fn stat_json(name: &str) -> Result<String> {
    let cname = c_name("object", name)?;
    json_call(|json, err| unsafe { sys::polyipc_stat_json(cname.as_ptr(), json, err) })
}

/// Up to `max_count` messages of queue `name`, without taking them, as a JSON
/// array of `{"message": ..., "priority": n}` (bytes messages under "base64").
pub fn peek_json(name: &str, max_count: usize) -> Result<String> {
    let cname = c_name("queue", name)?;
    json_call(|json, err| unsafe { sys::polyipc_peek_json(cname.as_ptr(), max_count, json, err) })
}

/// Removes ephemeral objects whose attached processes are all dead; returns
/// `{"removed": [...], "stale": [...]}`.
pub fn gc_json() -> Result<String> {
    json_call(|json, err| unsafe { sys::polyipc_gc_json(json, err) })
}
