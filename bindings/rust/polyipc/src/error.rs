//! Status codes of the C API as a Rust enum, and the error every call returns.
use polyipc_sys as sys;
use std::ffi::CStr;
use std::fmt;
use std::mem::MaybeUninit;

/// Why a call failed: one variant per `POLYIPC_ERR_*` code of polyipc.h.
/// Codes are only ever appended to the C API; one this binding does not know
/// yet comes back as `Other(code)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Status {
    /// The wait ran out.
    Timeout,
    /// Non-blocking get on an empty queue (Python's `queue.Empty`).
    Empty,
    /// Non-blocking put on a full queue (Python's `queue.Full`), or a dict
    /// set that finds `max_items` keys or no room left.
    Full,
    /// Closed for writing and drained (end of stream), or peer gone.
    Closed,
    /// `OpenMode::OpenOnly` of a name that does not exist.
    NotFound,
    /// `OpenMode::CreateOnly` of a name that exists.
    Exists,
    /// Bad name, bad size, bad option, task_done without a lease ...
    InvalidArg,
    /// A JSON-format queue was given malformed JSON (or `get_json` could not
    /// decode a message into the requested type).
    InvalidJson,
    /// A message larger than the queue can ever hold, or a caller buffer too
    /// small (see [`Error::required_len`]).
    TooLarge,
    /// The OS refused access to the object.
    Permission,
    /// Acquired, but the previous holder died holding it. The safe crate
    /// never returns it as an error: the acquire succeeds and its guard's
    /// `previous_owner_died()` is true.
    OwnerDead,
    /// The name holds another kind of object, other options, another layout
    /// version, or a library of another version was loaded.
    Incompatible,
    /// /dev/shm has no room for the object (or a pipe's next pages), or a
    /// primitive is out of holder / waiter slots.
    NoMemory,
    /// Release (or condition wait / notify) by a thread that does not hold
    /// the lock. A lock whose previous holder died is not an error: see
    /// [`LockGuard::previous_owner_died`](crate::LockGuard::previous_owner_died).
    NotOwner,
    /// The barrier is broken (aborted, reset, timed out or a waiter died)
    /// until `Barrier::reset`.
    Broken,
    /// An unexpected OS error; the message carries the errno text.
    System,
    /// An index outside a list or array (since 0.7.0; `InvalidArg` before).
    OutOfRange,
    /// A code newer than this binding.
    Other(i32),
}

impl Status {
    /// The status of a C return code; `None` for `POLYIPC_OK`.
    pub fn from_code(code: i32) -> Option<Status> {
        use Status::*;
        Some(match code {
            0 => return None,
            1 => Timeout,
            2 => Empty,
            3 => Full,
            4 => Closed,
            5 => NotFound,
            6 => Exists,
            7 => InvalidArg,
            8 => InvalidJson,
            9 => TooLarge,
            10 => Permission,
            11 => OwnerDead,
            12 => Incompatible,
            13 => NoMemory,
            14 => NotOwner,
            15 => Broken,
            16 => System,
            17 => OutOfRange,
            other => Other(other),
        })
    }

    /// The C code (`POLYIPC_ERR_*`).
    pub fn code(self) -> i32 {
        use Status::*;
        match self {
            Timeout => 1,
            Empty => 2,
            Full => 3,
            Closed => 4,
            NotFound => 5,
            Exists => 6,
            InvalidArg => 7,
            InvalidJson => 8,
            TooLarge => 9,
            Permission => 10,
            OwnerDead => 11,
            Incompatible => 12,
            NoMemory => 13,
            NotOwner => 14,
            Broken => 15,
            System => 16,
            OutOfRange => 17,
            Other(code) => code,
        }
    }

    /// The C name, e.g. `"POLYIPC_ERR_TIMEOUT"` (from `polyipc_status_name`).
    pub fn name(self) -> &'static str {
        // SAFETY: polyipc_status_name returns static text for any code.
        let name = unsafe { sys::polyipc_status_name(self.code()) };
        if name.is_null() {
            return "POLYIPC_ERR_UNKNOWN";
        }
        unsafe { CStr::from_ptr(name) }
            .to_str()
            .unwrap_or("POLYIPC_ERR_UNKNOWN")
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A failed call: the status and the message the library wrote for that very
/// call (naming the object and the cause).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    status: Status,
    message: String,
    required_len: Option<usize>,
}

impl Error {
    pub(crate) fn new(status: Status, message: impl Into<String>) -> Error {
        Error {
            status,
            message: message.into(),
            required_len: None,
        }
    }

    pub(crate) fn with_required_len(mut self, len: usize) -> Error {
        self.required_len = Some(len);
        self
    }

    /// Why the call failed.
    pub fn status(&self) -> Status {
        self.status
    }

    /// The library's message, e.g. `queue 'jobs': message 0 is not valid JSON ...`.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// True for end of stream (`Status::Closed`): a pipe whose other end is
    /// gone and drained, or a queue closed for writing and drained. Rust's
    /// counterpart of Python's `EOFError`.
    pub fn is_eof(&self) -> bool {
        self.status == Status::Closed
    }

    /// For [`Status::TooLarge`] from `Queue::get_into` or
    /// `Connection::recv_into`: the buffer size the waiting message needs
    /// (the message stays where it was).
    pub fn required_len(&self) -> Option<usize> {
        self.required_len
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.message.is_empty() {
            f.write_str(self.status.name())
        } else {
            write!(f, "{} ({})", self.message, self.status.name())
        }
    }
}

impl std::error::Error for Error {}

/// `Result<T, polyipc::Error>`.
pub type Result<T> = std::result::Result<T, Error>;

/// The `polyipc_error *err` of one call. Only `code` and the first message
/// byte are initialised: the library fills the struct on failure, and on
/// success nothing reads it, so the hot path skips zeroing 260 bytes.
pub(crate) struct ErrBuf(MaybeUninit<sys::polyipc_error>);

impl ErrBuf {
    #[inline]
    pub(crate) fn new() -> ErrBuf {
        let mut e = MaybeUninit::<sys::polyipc_error>::uninit();
        let p = e.as_mut_ptr();
        // SAFETY: writes through a raw pointer into our own allocation.
        unsafe {
            (*p).code = 0;
            (*p).message[0] = 0;
        }
        ErrBuf(e)
    }

    #[inline]
    pub(crate) fn as_mut_ptr(&mut self) -> *mut sys::polyipc_error {
        self.0.as_mut_ptr()
    }

    /// `Ok(())` for `POLYIPC_OK`, else the error with the library's message.
    #[inline]
    pub(crate) fn check(&self, rc: i32) -> Result<()> {
        if rc == 0 { Ok(()) } else { Err(self.error(rc)) }
    }

    #[cold]
    fn error(&self, rc: i32) -> Error {
        let status = Status::from_code(rc).unwrap_or(Status::Other(rc));
        let p = self.0.as_ptr();
        // SAFETY: message[0] was initialised by new(); the library writes a
        // NUL-terminated message into the 256 bytes on failure. Reading stops
        // at the first NUL, and never past the array.
        let bytes = unsafe { std::slice::from_raw_parts((*p).message.as_ptr() as *const u8, 256) };
        let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
        let message = String::from_utf8_lossy(&bytes[..end]).into_owned();
        Error::new(status, message)
    }
}
