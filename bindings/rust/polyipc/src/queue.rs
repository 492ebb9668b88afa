//! `Queue`: a handle on a named shared-memory queue.
#[cfg(doc)]
use crate::error::Error;
use crate::error::{ErrBuf, Result};
use crate::message;
use crate::options::{QueueOptions, timeout_ns};
use crate::sync::{call, json, open_handle};
use polyipc_sys as sys;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::ffi::c_void;
use std::fmt;
use std::iter::FusedIterator;
use std::ptr::{self, NonNull};
use std::time::Duration;

/// The C calls of the shared put / get code (see `message`).
const CALLS: message::Calls<sys::polyipc_queue> = message::Calls {
    what: "queue",
    put: sys::polyipc_queue_put,
    get: sys::polyipc_queue_get,
    get_into: sys::polyipc_queue_get_into,
};

/// A handle on queue `name` in the namespace `$POLYIPC_NAMESPACE`.
///
/// Every call may come from several threads at once (`Queue` is `Send` and
/// `Sync`; share it with `Arc`). [`Queue::close`] or dropping the handle
/// releases only the handle: the queue itself lives on until
/// [`unlink`](crate::unlink) (or, for an ephemeral queue, until the last
/// process detaches). Because `close` takes the queue by value, no call can
/// run on a closed handle.
///
/// Timeouts: `None` waits forever, `Some(Duration::ZERO)` never blocks
/// (`Status::Empty` / `Status::Full`), any other duration waits at most that
/// long (`Status::Timeout`).
pub struct Queue {
    h: NonNull<sys::polyipc_queue>,
    name: String,
}

// SAFETY: the C API allows every call on one handle from several threads at
// once; the only call that must not race with others, polyipc_queue_close,
// runs in Drop, when no borrow of the Queue is left.
unsafe impl Send for Queue {}
unsafe impl Sync for Queue {}

impl Queue {
    /// Opens (or creates, per `opts.open_mode`) queue `name`. Names are 1..200
    /// characters of `[A-Za-z0-9._-]`.
    pub fn open(name: &str, opts: &QueueOptions) -> Result<Queue> {
        let h = open_handle("queue", name, |cname, out, err| {
            // Built after open_handle has checked the library version.
            let copts = opts.to_c();
            // SAFETY: valid C string, options struct and out pointer.
            unsafe { sys::polyipc_queue_open(cname, opts.c_open_mode(), &copts, out, err) }
        })?;
        Ok(Queue {
            h,
            name: name.to_owned(),
        })
    }

    /// The C handle, for `wait`.
    pub(crate) fn raw(&self) -> *mut sys::polyipc_queue {
        self.h.as_ptr()
    }

    /// The queue's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Puts one message; on a JSON queue it must be valid JSON.
    #[inline]
    pub fn put(&self, data: &[u8], timeout: Option<Duration>) -> Result<()> {
        // SAFETY: the handle is open.
        unsafe { CALLS.put(self.h.as_ptr(), data, timeout) }
    }

    /// Puts one message with a priority: on `Order::Priority` queues the
    /// lowest priority comes out first (FIFO among equals); other queues
    /// ignore it.
    #[inline]
    pub fn put_priority(
        &self,
        data: &[u8],
        priority: i64,
        timeout: Option<Duration>,
    ) -> Result<()> {
        let mut err = ErrBuf::new();
        // SAFETY: as in put.
        let rc = unsafe {
            sys::polyipc_queue_put_priority(
                self.h.as_ptr(),
                data.as_ptr() as *const c_void,
                data.len(),
                priority,
                timeout_ns(timeout),
                err.as_mut_ptr(),
            )
        };
        err.check(rc)
    }

    /// Takes one message. On a joinable queue this is a lease until
    /// [`task_done`](Queue::task_done) (or
    /// [`task_done_message`](Queue::task_done_message)). After `close_writes`, the remaining
    /// messages come out and then `Status::Closed`.
    #[inline]
    pub fn get(&self, timeout: Option<Duration>) -> Result<Vec<u8>> {
        // SAFETY: the handle is open.
        unsafe { CALLS.take(self.h.as_ptr(), timeout) }
    }

    /// Takes one message into `buf` without allocating and returns its
    /// length. If it does not fit, fails with `Status::TooLarge`, leaves the
    /// message in the queue (taking no lease) and tells the size needed in
    /// [`Error::required_len`].
    #[inline]
    pub fn get_into(&self, buf: &mut [u8], timeout: Option<Duration>) -> Result<usize> {
        // SAFETY: the handle is open.
        unsafe { CALLS.take_into(self.h.as_ptr(), buf, timeout) }
    }

    /// Consuming iteration, as [`std::sync::mpsc::Receiver::iter`]: each
    /// `next()` is one blocking [`get(None)`](Queue::get) (nothing is taken
    /// ahead, so leaving the loop early loses nothing: the next get takes the
    /// next message). End of stream (`Status::Closed`: closed for writing,
    /// by any process, and drained) ends the iteration with `None`; any other
    /// error comes out once as `Some(Err(e))`, and the iterator then ends
    /// (it is fused). On a joinable queue each message is a lease, as with
    /// `get`: call [`task_done`](Queue::task_done) for it. `&Queue` is
    /// [`IntoIterator`] too:
    ///
    /// ```no_run
    /// # let q = polyipc::Queue::open("jobs", &polyipc::QueueOptions::new())?;
    /// for msg in &q {
    ///     let msg = msg?; // Vec<u8>
    ///     println!("{}", String::from_utf8_lossy(&msg));
    /// }
    /// // here the queue was closed for writing and drained
    /// # Ok::<(), polyipc::Error>(())
    /// ```
    pub fn iter(&self) -> Messages<'_> {
        Messages {
            q: self,
            done: false,
        }
    }

    /// Serialises `value` with serde_json and puts it.
    pub fn put_json<T: Serialize + ?Sized>(
        &self,
        value: &T,
        timeout: Option<Duration>,
    ) -> Result<()> {
        self.put(&CALLS.encode_json(&self.name, value)?, timeout)
    }

    /// Serialises `value` with serde_json and puts it with a priority.
    pub fn put_json_priority<T: Serialize + ?Sized>(
        &self,
        value: &T,
        priority: i64,
        timeout: Option<Duration>,
    ) -> Result<()> {
        self.put_priority(&CALLS.encode_json(&self.name, value)?, priority, timeout)
    }

    /// Takes one message and deserialises it with serde_json. A message that
    /// is not a `T` fails with `Status::InvalidJson`; it has been taken all
    /// the same (and on a joinable queue still needs its `task_done`).
    pub fn get_json<T: DeserializeOwned>(&self, timeout: Option<Duration>) -> Result<T> {
        CALLS.decode_json(&self.name, &self.get(timeout)?)
    }

    /// Zero copy: takes the next message as [`get`](Queue::get) does but
    /// leaves it in the shared ring, readable through the returned guard
    /// (`Deref<Target = [u8]>`) until it is dropped or
    /// [`released`](Borrowed::release). If this process dies first, the
    /// message goes back to the queue. Space behind it is reused only after
    /// the release: keep the borrow short.
    pub fn borrow(&self, timeout: Option<Duration>) -> Result<Borrowed<'_>> {
        let mut data: *const c_void = ptr::null();
        let mut len: usize = 0;
        let mut ticket: u64 = 0;
        let mut err = ErrBuf::new();
        // SAFETY: valid out pointers; the handle is open.
        let rc = unsafe {
            sys::polyipc_queue_borrow(
                self.h.as_ptr(),
                &mut data,
                &mut len,
                &mut ticket,
                timeout_ns(timeout),
                err.as_mut_ptr(),
            )
        };
        err.check(rc)?;
        Ok(Borrowed {
            q: self,
            data: data as *const u8,
            len,
            ticket,
        })
    }

    /// Zero copy: `len` bytes of room in the shared ring, written through the
    /// returned guard (`DerefMut<Target = [u8]>`), published by
    /// [`Reservation::commit`] (a JSON queue validates them then) and dropped
    /// if the guard is dropped uncommitted, or if this process dies first.
    /// Waits for room as [`put`](Queue::put) does.
    pub fn reserve(&self, len: usize, timeout: Option<Duration>) -> Result<Reservation<'_>> {
        let mut data: *mut c_void = ptr::null_mut();
        let mut ticket: u64 = 0;
        let mut err = ErrBuf::new();
        // SAFETY: valid out pointers; the handle is open.
        let rc = unsafe {
            sys::polyipc_queue_reserve(
                self.h.as_ptr(),
                len,
                &mut data,
                &mut ticket,
                timeout_ns(timeout),
                err.as_mut_ptr(),
            )
        };
        err.check(rc)?;
        Ok(Reservation {
            q: self,
            data: data as *mut u8,
            len,
            ticket,
            ended: false,
        })
    }

    fn end_zero_copy(
        &self,
        f: unsafe extern "C" fn(*mut sys::polyipc_queue, u64, *mut sys::polyipc_error) -> i32,
        ticket: u64,
    ) -> Result<()> {
        // SAFETY: the handle is open (the guard borrows the Queue).
        call(|err| unsafe { f(self.h.as_ptr(), ticket, err) })
    }

    /// Number of messages waiting (leased ones not included).
    pub fn size(&self) -> Result<u64> {
        let mut n: u64 = 0;
        let mut err = ErrBuf::new();
        // SAFETY: valid out pointer; the handle is open.
        let rc = unsafe { sys::polyipc_queue_size(self.h.as_ptr(), &mut n, err.as_mut_ptr()) };
        err.check(rc)?;
        Ok(n)
    }

    /// Joinable queues: marks the oldest lease this process holds as done.
    /// Threads finishing items out of order: see
    /// [`task_done_message`](Queue::task_done_message).
    pub fn task_done(&self) -> Result<()> {
        // SAFETY: the handle is open.
        call(|err| unsafe { sys::polyipc_queue_task_done(self.h.as_ptr(), err) })
    }

    /// Joinable queues: marks as done the lease this process holds on the
    /// message `msg`, which must be the exact bytes got, as
    /// [`get`](Queue::get) returned them. For JSON, keep those bytes (`get`,
    /// then `serde_json::from_slice`): a value serialised again may differ
    /// from them.
    ///
    /// Use it instead of [`task_done`](Queue::task_done) when several
    /// threads finish items out of order (a thread pool): `task_done` ends the
    /// oldest lease, which may be an item still being worked on, so that if
    /// the process then dies a finished item is handed out again and an
    /// unfinished one is lost. With `task_done_message`, a process that dies
    /// leaves exactly its unfinished items to be handed out again. Of several
    /// leases on equal bytes, the oldest is ended (equal messages are
    /// interchangeable).
    /// Fails with `Status::InvalidArg` when this process holds no lease on
    /// these bytes (or the queue is not joinable).
    pub fn task_done_message(&self, msg: impl AsRef<[u8]>) -> Result<()> {
        let msg = msg.as_ref();
        // SAFETY: msg.len() readable bytes at msg.as_ptr(); the handle is open.
        call(|err| unsafe {
            sys::polyipc_queue_task_done_message(
                self.h.as_ptr(),
                msg.as_ptr() as *const c_void,
                msg.len(),
                err,
            )
        })
    }

    /// Joinable queues: waits until every message put was taken and
    /// task_done (or `Status::Timeout`).
    pub fn join(&self, timeout: Option<Duration>) -> Result<()> {
        // SAFETY: the handle is open.
        call(|err| unsafe { sys::polyipc_queue_join(self.h.as_ptr(), timeout_ns(timeout), err) })
    }

    /// End of stream: puts fail with `Status::Closed` from now on; getters
    /// drain what is there, then get `Status::Closed`.
    pub fn close_writes(&self) -> Result<()> {
        // SAFETY: the handle is open.
        call(|err| unsafe { sys::polyipc_queue_close_writes(self.h.as_ptr(), err) })
    }

    /// The queue's name, options and counters as a JSON object.
    pub fn stat_json(&self) -> Result<String> {
        // SAFETY: valid out pointer; the handle is open.
        json(|json, err| unsafe { sys::polyipc_queue_stat_json(self.h.as_ptr(), json, err) })
    }

    /// Releases the handle (never the queue: see [`unlink`](crate::unlink)).
    /// Dropping the queue does the same.
    pub fn close(self) {
        drop(self)
    }

    /// Removes the name `name` (same as [`crate::unlink`]).
    pub fn unlink(name: &str) -> Result<()> {
        crate::unlink(name)
    }
}

impl Drop for Queue {
    fn drop(&mut self) {
        // SAFETY: the handle is open and, with &mut self, used by no one else.
        unsafe { sys::polyipc_queue_close(self.h.as_ptr()) }
    }
}

impl fmt::Debug for Queue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Queue")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// The messages of a queue until end of stream: see [`Queue::iter`]. Each
/// item is one blocking get; `Status::Closed` ends it, any other error is the
/// last item.
pub struct Messages<'q> {
    q: &'q Queue,
    done: bool,
}

/// One step of [`Messages`]: a message, or the end (Closed: `None`; another
/// error: once, then `None` for ever).
fn next_message(done: &mut bool, got: Result<Vec<u8>>) -> Option<Result<Vec<u8>>> {
    match got {
        Ok(msg) => Some(Ok(msg)),
        Err(e) => {
            *done = true;
            if e.is_eof() { None } else { Some(Err(e)) }
        }
    }
}

impl Iterator for Messages<'_> {
    type Item = Result<Vec<u8>>;

    fn next(&mut self) -> Option<Result<Vec<u8>>> {
        if self.done {
            return None;
        }
        next_message(&mut self.done, self.q.get(None))
    }
}

impl FusedIterator for Messages<'_> {}

impl<'q> IntoIterator for &'q Queue {
    type Item = Result<Vec<u8>>;
    type IntoIter = Messages<'q>;

    /// Same as [`Queue::iter`].
    fn into_iter(self) -> Messages<'q> {
        self.iter()
    }
}

impl fmt::Debug for Messages<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Messages")
            .field("queue", &self.q.name)
            .field("done", &self.done)
            .finish()
    }
}

/// # Safety
/// `len` bytes at `data` stay readable for the returned lifetime (`data` may
/// be null only when `len` is 0).
unsafe fn ring_bytes<'a>(data: *const u8, len: usize) -> &'a [u8] {
    if len == 0 {
        return &[];
    }
    // SAFETY: per the contract above.
    unsafe { std::slice::from_raw_parts(data, len) }
}

/// A message read in place (see [`Queue::borrow`]); released when dropped.
pub struct Borrowed<'q> {
    q: &'q Queue,
    data: *const u8,
    len: usize,
    ticket: u64,
}

// SAFETY: the bytes stay mapped and unchanged while the guard lives (it
// borrows the Queue, and nobody writes a borrowed record); a ticket belongs to
// the process, so any thread may release it.
unsafe impl Send for Borrowed<'_> {}
unsafe impl Sync for Borrowed<'_> {}

impl Borrowed<'_> {
    /// Releases the message now, reporting any error (drop ignores them).
    pub fn release(self) -> Result<()> {
        let me = std::mem::ManuallyDrop::new(self);
        me.q.end_zero_copy(sys::polyipc_queue_release, me.ticket)
    }
}

impl std::ops::Deref for Borrowed<'_> {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        // SAFETY: the library handed out len readable bytes at data, valid until release.
        unsafe { ring_bytes(self.data, self.len) }
    }
}

impl Drop for Borrowed<'_> {
    fn drop(&mut self) {
        let _ = self
            .q
            .end_zero_copy(sys::polyipc_queue_release, self.ticket);
    }
}

impl fmt::Debug for Borrowed<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Borrowed")
            .field("len", &self.len)
            .finish_non_exhaustive()
    }
}

/// Room in the ring for one message (see [`Queue::reserve`]); cancelled when
/// dropped without [`commit`](Reservation::commit).
pub struct Reservation<'q> {
    q: &'q Queue,
    data: *mut u8,
    len: usize,
    ticket: u64,
    ended: bool,
}

// SAFETY: as for Borrowed; the bytes are this process's alone until commit.
unsafe impl Send for Reservation<'_> {}
unsafe impl Sync for Reservation<'_> {}

impl Reservation<'_> {
    /// Publishes the bytes as a message (JSON queues: `Status::InvalidJson`
    /// if they are not JSON, and the reservation is dropped).
    pub fn commit(mut self) -> Result<()> {
        self.ended = true;
        self.q.end_zero_copy(sys::polyipc_queue_commit, self.ticket)
    }
}

impl std::ops::Deref for Reservation<'_> {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        // SAFETY: len bytes at data are this process's until commit or cancel.
        unsafe { ring_bytes(self.data, self.len) }
    }
}

impl std::ops::DerefMut for Reservation<'_> {
    fn deref_mut(&mut self) -> &mut [u8] {
        if self.len == 0 {
            return &mut [];
        }
        // SAFETY: as for deref, and &mut self makes the access exclusive.
        unsafe { std::slice::from_raw_parts_mut(self.data, self.len) }
    }
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        if !self.ended {
            let _ = self.q.end_zero_copy(sys::polyipc_queue_cancel, self.ticket);
        }
    }
}

impl fmt::Debug for Reservation<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reservation")
            .field("len", &self.len)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::next_message;
    use crate::error::{Error, Status};

    #[test]
    fn closed_ends_the_messages_and_other_errors_come_out_once() {
        let mut done = false;
        assert_eq!(
            next_message(&mut done, Ok(b"x".to_vec())),
            Some(Ok(b"x".to_vec()))
        );
        assert!(!done);
        assert_eq!(
            next_message(&mut done, Err(Error::new(Status::Closed, ""))),
            None
        );
        assert!(done, "end of stream: no further get");

        let mut done = false;
        let e = Error::new(Status::System, "boom");
        assert_eq!(next_message(&mut done, Err(e.clone())), Some(Err(e)));
        assert!(done, "the error is the last item");
    }
}
