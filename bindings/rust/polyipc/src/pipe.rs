//! `Pipe` and `Connection`: named two-ended connections (Python's
//! `multiprocessing.Pipe`), and [`wait`] over several connections and queues
//! (`multiprocessing.connection.wait`).
#[cfg(doc)]
use crate::error::Error;
use crate::error::{ErrBuf, Result, Status};
use crate::message;

use crate::options::{End, OpenMode, PipeOptions, timeout_ns};
use crate::queue::Queue;
use crate::sync::{json, open_handle};
use polyipc_sys as sys;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fmt;
use std::ptr::{self, NonNull};
use std::time::Duration;

/// The C calls of the shared put / get code (see `message`).
const CALLS: message::Calls<sys::polyipc_pipe> = message::Calls {
    what: "pipe",
    put: sys::polyipc_pipe_send,
    get: sys::polyipc_pipe_recv,
    get_into: sys::polyipc_pipe_recv_into,
};

/// Opens both ends of a pipe in this process (Python's
/// `multiprocessing.Pipe(duplex)`): see [`Pipe::open`]. Another process
/// takes one end by name with [`Connection::open`] or
/// [`Connection::attach`].
#[derive(Debug)]
pub enum Pipe {}

impl Pipe {
    /// Opens (or creates, per `opts.open_mode`) pipe `name` and returns its
    /// end A and end B. On a one-way pipe (`duplex(false)`) A sends and B
    /// receives. The pipe lives until [`unlink`](crate::unlink) (or, when
    /// ephemeral, until the last process detaches); dropping the connections
    /// releases only the handles.
    pub fn open(name: &str, opts: &PipeOptions) -> Result<(Connection, Connection)> {
        let a = Connection::open(name, End::A, opts)?;
        // The pipe exists now: B joins it (even after a CreateOnly for A).
        let b_opts = match opts.get_open_mode() {
            OpenMode::CreateOnly => opts.clone().open_mode(OpenMode::OpenOnly),
            _ => opts.clone(),
        };
        let b = Connection::open(name, End::B, &b_opts)?;
        Ok((a, b))
    }

    /// Removes the name `name` (same as [`crate::unlink`]).
    pub fn unlink(name: &str) -> Result<()> {
        crate::unlink(name)
    }
}

/// One end of pipe `name`: [`send`](Connection::send) /
/// [`recv`](Connection::recv) bytes, or [`send_json`](Connection::send_json) /
/// [`recv_json`](Connection::recv_json) serde values.
///
/// **End of stream** is `Err(e)` with `e.status() == Status::Closed` (see
/// [`Error::is_eof`]): `recv` returns it once every handle on the other end
/// was closed, or every process holding one died (noticed within ~100 ms),
/// and everything it sent was received. `send` to an end nobody holds any
/// more is `Status::Closed` too (a broken pipe). A receiver waits for an end
/// that was never opened.
///
/// Timeouts: `None` waits forever, `Some(Duration::ZERO)` never blocks
/// (`Status::Empty` / `Status::Full`), any other duration waits at most that
/// long (`Status::Timeout`). `Connection` is `Send + Sync`; several handles
/// (threads, processes) may hold one end. [`close`](Connection::close) takes
/// it by value, so no call can reach a closed connection.
pub struct Connection {
    h: NonNull<sys::polyipc_pipe>,
    name: String,
    end: End,
}

// SAFETY: the C API allows every call on one handle from several threads at
// once; polyipc_pipe_close runs in Drop, when no borrow is left.
unsafe impl Send for Connection {}
unsafe impl Sync for Connection {}

impl Connection {
    /// Opens (or creates, per `opts.open_mode`) end `end` of pipe `name`.
    /// An existing pipe with another duplex or format is
    /// `Status::Incompatible`.
    pub fn open(name: &str, end: End, opts: &PipeOptions) -> Result<Connection> {
        let copts = opts.to_c();
        let h = open_handle("pipe", name, |cname, out, err| unsafe {
            // SAFETY: valid C string, options struct and out pointer.
            sys::polyipc_pipe_open(cname, opts.c_open_mode(), end.to_c(), &copts, out, err)
        })?;
        Ok(Connection {
            h,
            name: name.to_owned(),
            end,
        })
    }

    /// Opens end `end` of the existing pipe `name` whatever its options
    /// (`Status::NotFound` when there is none).
    pub fn attach(name: &str, end: End) -> Result<Connection> {
        let h = open_handle("pipe", name, |cname, out, err| unsafe {
            // SAFETY: valid C string and out pointer; NULL options are allowed.
            sys::polyipc_pipe_open(
                cname,
                OpenMode::OpenOnly.to_c(),
                end.to_c(),
                ptr::null(),
                out,
                err,
            )
        })?;
        Ok(Connection {
            h,
            name: name.to_owned(),
            end,
        })
    }

    /// The pipe's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Which end this is.
    pub fn end(&self) -> End {
        self.end
    }

    /// Sends one message (valid JSON on a JSON pipe, else
    /// `Status::InvalidJson`). `Status::Full` (timeout zero) or
    /// `Status::Timeout` without room, `Status::Closed` when the other end
    /// is gone, `Status::TooLarge` above `capacity_bytes - 8`,
    /// `Status::InvalidArg` on end B of a one-way pipe.
    #[inline]
    pub fn send(&self, data: &[u8], timeout: Option<Duration>) -> Result<()> {
        // SAFETY: the handle is open.
        unsafe { CALLS.put(self.h.as_ptr(), data, timeout) }
    }

    /// Serialises `value` with serde_json and sends it.
    pub fn send_json<T: Serialize + ?Sized>(
        &self,
        value: &T,
        timeout: Option<Duration>,
    ) -> Result<()> {
        self.send(&CALLS.encode_json(&self.name, value)?, timeout)
    }

    /// Receives one message. `Status::Closed` at end of stream
    /// ([`Error::is_eof`]); `Status::Empty` (timeout zero) or
    /// `Status::Timeout` when nothing came; `Status::InvalidArg` on end A of
    /// a one-way pipe.
    #[inline]
    pub fn recv(&self, timeout: Option<Duration>) -> Result<Vec<u8>> {
        // SAFETY: the handle is open.
        unsafe { CALLS.take(self.h.as_ptr(), timeout) }
    }

    /// Receives one message into `buf` without allocating and returns its
    /// length. If it does not fit: `Status::TooLarge`, the message stays in
    /// the pipe and [`Error::required_len`] tells the size needed.
    #[inline]
    pub fn recv_into(&self, buf: &mut [u8], timeout: Option<Duration>) -> Result<usize> {
        // SAFETY: the handle is open.
        unsafe { CALLS.take_into(self.h.as_ptr(), buf, timeout) }
    }

    /// Receives one message and deserialises it with serde_json. A message
    /// that is not a `T` fails with `Status::InvalidJson` (it was taken).
    pub fn recv_json<T: DeserializeOwned>(&self, timeout: Option<Duration>) -> Result<T> {
        CALLS.decode_json(&self.name, &self.recv(timeout)?)
    }

    /// Whether a `recv` would not wait, within `timeout` (Python's
    /// `Connection.poll`): `Ok(true)` when a message is waiting **or at end
    /// of stream** (the next `recv` then fails with `Status::Closed`),
    /// `Ok(false)` when neither came in time.
    pub fn poll(&self, timeout: Option<Duration>) -> Result<bool> {
        let mut err = ErrBuf::new();
        // SAFETY: the handle is open.
        let rc = unsafe {
            sys::polyipc_pipe_poll(self.h.as_ptr(), timeout_ns(timeout), err.as_mut_ptr())
        };
        match err.check(rc) {
            Ok(()) => Ok(true),
            Err(e) if e.status() == Status::Closed => Ok(true),
            Err(e) if e.status() == Status::Timeout || e.status() == Status::Empty => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// The pipe's name, options and counters as a JSON object.
    pub fn stat_json(&self) -> Result<String> {
        // SAFETY: valid out pointer; the handle is open.
        json(|json, err| unsafe { sys::polyipc_pipe_stat_json(self.h.as_ptr(), json, err) })
    }

    /// Releases this handle's hold on its end: when no handle of this end is
    /// left, the other end sees end of stream. Never removes the pipe (see
    /// [`unlink`](crate::unlink)). Dropping the connection does the same.
    pub fn close(self) {
        drop(self)
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        // SAFETY: the handle is open and, with &mut self, used by no one else.
        unsafe { sys::polyipc_pipe_close(self.h.as_ptr()) }
    }
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("name", &self.name)
            .field("end", &self.end)
            .finish_non_exhaustive()
    }
}

mod sealed {
    pub trait Sealed {}
}

/// What [`wait`] waits on: a [`Connection`] or a [`Queue`] (sealed).
pub trait Waitable: sealed::Sealed {
    #[doc(hidden)]
    fn as_c_waitable(&self) -> sys::polyipc_waitable;
}

impl sealed::Sealed for Connection {}
impl Waitable for Connection {
    fn as_c_waitable(&self) -> sys::polyipc_waitable {
        sys::polyipc_waitable {
            pipe: self.h.as_ptr(),
            queue: ptr::null_mut(),
            ready: 0,
        }
    }
}

impl sealed::Sealed for Queue {}
impl Waitable for Queue {
    fn as_c_waitable(&self) -> sys::polyipc_waitable {
        sys::polyipc_waitable {
            pipe: ptr::null_mut(),
            queue: self.raw(),
            ready: 0,
        }
    }
}

/// Waits until at least one of `objects` is ready, at most `timeout`
/// (`None`: forever), and returns the indexes (into `objects`, ascending) of
/// those that are (Python's `multiprocessing.connection.wait`). Ready means
/// a `recv` / `get` would not wait: a message is there, or end of stream.
/// An empty `Vec` when none became ready in time; `Status::InvalidArg` for
/// an empty `objects`.
///
/// ```no_run
/// use polyipc::{Connection, End, PipeOptions, Queue, QueueOptions, wait};
/// use std::time::Duration;
///
/// let conn = Connection::open("replies", End::B, &PipeOptions::new())?;
/// let jobs = Queue::open("jobs", &QueueOptions::new())?;
/// for i in wait(&[&conn, &jobs], Some(Duration::from_secs(1)))? {
///     println!("object {i} is ready");
/// }
/// # Ok::<(), polyipc::Error>(())
/// ```
pub fn wait(objects: &[&dyn Waitable], timeout: Option<Duration>) -> Result<Vec<usize>> {
    let mut items: Vec<sys::polyipc_waitable> = objects.iter().map(|o| o.as_c_waitable()).collect();
    let mut err = ErrBuf::new();
    // SAFETY: the handles are borrowed (open) for the whole call; items is
    // valid for items.len() elements.
    let rc = unsafe {
        sys::polyipc_wait(
            items.as_mut_ptr(),
            items.len(),
            timeout_ns(timeout),
            err.as_mut_ptr(),
        )
    };
    match err.check(rc) {
        Ok(()) => Ok(items
            .iter()
            .enumerate()
            .filter(|(_, it)| it.ready != 0)
            .map(|(i, _)| i)
            .collect()),
        Err(e) if e.status() == Status::Timeout || e.status() == Status::Empty => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}
