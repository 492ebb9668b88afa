//! What `Queue` and `Connection` share: sending one message, taking one
//! (into a caller's buffer, a library-allocated copy, or a stack buffer
//! first) and the serde_json conversions, written once over [`Calls`], the
//! C functions that differ (`polyipc_queue_*` or `polyipc_pipe_*`, same
//! signatures). Each type holds its `Calls` in a `const` and the methods are
//! `#[inline]`, so every call site keeps its direct C call.
use crate::error::{ErrBuf, Error, Result, Status};
use crate::options::timeout_ns;
use polyipc_sys as sys;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::ffi::{c_int, c_void};
use std::mem::MaybeUninit;
use std::ptr;
use std::time::{Duration, Instant};

/// Messages up to this size take [`take`]'s one-copy path.
const SMALL_MESSAGE: usize = 512;

/// `polyipc_queue_put` / `polyipc_pipe_send`.
pub(crate) type PutFn<H> =
    unsafe extern "C" fn(*mut H, *const c_void, usize, i64, *mut sys::polyipc_error) -> c_int;
/// `polyipc_queue_get` / `polyipc_pipe_recv`.
pub(crate) type GetFn<H> = unsafe extern "C" fn(
    *mut H,
    *mut *mut c_void,
    *mut usize,
    i64,
    *mut sys::polyipc_error,
) -> c_int;
/// `polyipc_queue_get_into` / `polyipc_pipe_recv_into`.
pub(crate) type GetIntoFn<H> = unsafe extern "C" fn(
    *mut H,
    *mut c_void,
    usize,
    *mut usize,
    i64,
    *mut sys::polyipc_error,
) -> c_int;

/// The C functions of one kind of handle `H`, and its name in messages.
pub(crate) struct Calls<H> {
    /// "queue" or "pipe".
    pub(crate) what: &'static str,
    pub(crate) put: PutFn<H>,
    pub(crate) get: GetFn<H>,
    pub(crate) get_into: GetIntoFn<H>,
}

impl<H> Calls<H> {
    /// Puts / sends `data`.
    ///
    /// # Safety
    /// `h` is an open handle for the whole call.
    #[inline]
    pub(crate) unsafe fn put(
        &self,
        h: *mut H,
        data: &[u8],
        timeout: Option<Duration>,
    ) -> Result<()> {
        // SAFETY: per the contract above.
        unsafe { put(h, self.put, data, timeout) }
    }

    /// Takes / receives one message (see [`take`]).
    ///
    /// # Safety
    /// `h` is an open handle for the whole call.
    #[inline]
    pub(crate) unsafe fn take(&self, h: *mut H, timeout: Option<Duration>) -> Result<Vec<u8>> {
        // SAFETY: per the contract above.
        unsafe { take(h, self.get_into, self.get, timeout) }
    }

    /// Takes / receives one message into `buf` (see [`take_into`]).
    ///
    /// # Safety
    /// `h` is an open handle for the whole call.
    #[inline]
    pub(crate) unsafe fn take_into(
        &self,
        h: *mut H,
        buf: &mut [u8],
        timeout: Option<Duration>,
    ) -> Result<usize> {
        // SAFETY: buf is valid for writes of buf.len() bytes; the handle is open.
        unsafe { take_into(h, self.get_into, buf.as_mut_ptr(), buf.len(), timeout) }
    }

    /// `value` as JSON bytes; `Status::InvalidJson` naming the object when
    /// serde_json cannot serialise it.
    pub(crate) fn encode_json<T: Serialize + ?Sized>(
        &self,
        name: &str,
        value: &T,
    ) -> Result<Vec<u8>> {
        let what = self.what;
        serde_json::to_vec(value).map_err(|e| {
            Error::new(
                Status::InvalidJson,
                format!("{what} '{name}': value cannot be serialised as JSON: {e}"),
            )
        })
    }

    /// `message` deserialised with serde_json; `Status::InvalidJson` naming
    /// the object when it is not a `T`.
    pub(crate) fn decode_json<T: DeserializeOwned>(&self, name: &str, message: &[u8]) -> Result<T> {
        let what = self.what;
        serde_json::from_slice(message).map_err(|e| {
            Error::new(
                Status::InvalidJson,
                format!(
                    "{what} '{name}': message of {} bytes is not the requested type: {e}",
                    message.len()
                ),
            )
        })
    }
}

/// Puts / sends `data` with `put` on handle `h`.
///
/// # Safety
/// `h` is an open handle for the whole call.
#[inline]
unsafe fn put<H>(h: *mut H, put: PutFn<H>, data: &[u8], timeout: Option<Duration>) -> Result<()> {
    let mut err = ErrBuf::new();
    // SAFETY: data is valid for data.len() bytes; the handle is open.
    let rc = unsafe {
        put(
            h,
            data.as_ptr() as *const c_void,
            data.len(),
            timeout_ns(timeout),
            err.as_mut_ptr(),
        )
    };
    err.check(rc)
}

/// Takes one message with `get_into` and `get`: a small one (the common
/// case) is copied into a stack buffer and from there into the Vec, one
/// allocation, as in C. A larger one is left where it is by `get_into`
/// (taking no lease) and fetched with `get`, a library-allocated copy,
/// within what is left of the timeout.
///
/// # Safety
/// `h` is an open handle for the whole call.
#[inline]
unsafe fn take<H>(
    h: *mut H,
    get_into: GetIntoFn<H>,
    get: GetFn<H>,
    timeout: Option<Duration>,
) -> Result<Vec<u8>> {
    let deadline = match timeout {
        Some(d) if !d.is_zero() => Instant::now().checked_add(d),
        _ => None,
    };
    let mut small = MaybeUninit::<[u8; SMALL_MESSAGE]>::uninit();
    // SAFETY: the library writes (never reads) at most SMALL_MESSAGE bytes;
    // the handle is open.
    match unsafe {
        take_into(
            h,
            get_into,
            small.as_mut_ptr().cast(),
            SMALL_MESSAGE,
            timeout,
        )
    } {
        // SAFETY: on success the first `len` bytes were written.
        Ok(len) => {
            Ok(unsafe { std::slice::from_raw_parts(small.as_ptr().cast::<u8>(), len) }.to_vec())
        }
        Err(e) if e.status() == Status::TooLarge && e.required_len().is_some() => {
            let rest = match (timeout, deadline) {
                (Some(_), Some(deadline)) => {
                    Some(deadline.saturating_duration_since(Instant::now()))
                }
                _ => timeout, // forever, never blocking, or beyond Instant's range
            };
            // SAFETY: the handle is open.
            unsafe { take_allocated(h, get, rest) }
        }
        Err(e) => Err(e),
    }
}

/// Takes one message with `get`, as a copy the library allocates.
///
/// # Safety
/// `h` is an open handle for the whole call.
unsafe fn take_allocated<H>(
    h: *mut H,
    get: GetFn<H>,
    timeout: Option<Duration>,
) -> Result<Vec<u8>> {
    let mut data: *mut c_void = ptr::null_mut();
    let mut len: usize = 0;
    let mut err = ErrBuf::new();
    // SAFETY: out pointers are valid; the handle is open.
    let rc = unsafe {
        get(
            h,
            &mut data,
            &mut len,
            timeout_ns(timeout),
            err.as_mut_ptr(),
        )
    };
    err.check(rc)?;
    if data.is_null() {
        return Ok(Vec::new());
    }
    // SAFETY: on success the library returned `len` bytes at `data`, ours to
    // release with polyipc_free.
    let message = unsafe { std::slice::from_raw_parts(data as *const u8, len) }.to_vec();
    unsafe { sys::polyipc_free(data) };
    Ok(message)
}

/// Takes one message with `get_into` into `buf` and returns its length. If
/// it does not fit: `Status::TooLarge` with [`Error::required_len`], the
/// message left where it was.
///
/// # Safety
/// `h` is an open handle for the whole call; `buf` is valid for writes of
/// `cap` bytes (initialised or not).
#[inline]
unsafe fn take_into<H>(
    h: *mut H,
    get_into: GetIntoFn<H>,
    buf: *mut u8,
    cap: usize,
    timeout: Option<Duration>,
) -> Result<usize> {
    let mut len: usize = 0;
    let mut err = ErrBuf::new();
    // SAFETY: per the contract above.
    let rc = unsafe {
        get_into(
            h,
            buf as *mut c_void,
            cap,
            &mut len,
            timeout_ns(timeout),
            err.as_mut_ptr(),
        )
    };
    match err.check(rc) {
        Ok(()) => Ok(len),
        Err(e) if e.status() == Status::TooLarge && len > cap => Err(e.with_required_len(len)),
        Err(e) => Err(e),
    }
}
