//! `Event`.
use super::{call, open_handle, sync_handle};
use crate::error::{Result, Status};
use crate::options::{SyncOptions, timeout_ns};
use polyipc_sys as sys;
use std::ptr::NonNull;
use std::time::Duration;

/// A named event shared by processes (Python's `multiprocessing.Event`):
/// [`set`](Event::set) wakes every waiter in every process.
pub struct Event {
    h: NonNull<sys::polyipc_event>,
    name: String,
}

sync_handle!(
    Event,
    "event",
    sys::polyipc_event_close,
    sys::polyipc_event_stat_json
);

impl Event {
    /// Opens (or creates, cleared) it with the default options.
    pub fn open(name: &str) -> Result<Event> {
        Event::open_with(name, &SyncOptions::new())
    }

    pub fn open_with(name: &str, opts: &SyncOptions) -> Result<Event> {
        let copts = opts.to_c();
        let h = open_handle("event", name, |cname, out, err| unsafe {
            // SAFETY: valid C string, options struct and out pointer.
            sys::polyipc_event_open(cname, opts.c_open_mode(), &copts, out, err)
        })?;
        Ok(Event {
            h,
            name: name.to_owned(),
        })
    }

    /// Sets it and wakes every waiter.
    pub fn set(&self) -> Result<()> {
        // SAFETY: the handle is open.
        call(|err| unsafe { sys::polyipc_event_set(self.h.as_ptr(), err) })
    }

    pub fn clear(&self) -> Result<()> {
        // SAFETY: the handle is open.
        call(|err| unsafe { sys::polyipc_event_clear(self.h.as_ptr(), err) })
    }

    pub fn is_set(&self) -> Result<bool> {
        let mut out = 0;
        // SAFETY: valid out pointer; the handle is open.
        call(|err| unsafe { sys::polyipc_event_is_set(self.h.as_ptr(), &mut out, err) })?;
        Ok(out != 0)
    }

    /// Waits until it is set, at most `timeout` (`None`: forever): `Ok(true)`
    /// when set (a `set` after the call began counts even if `clear` came
    /// right after), `Ok(false)` on timeout. One native wait, not slices, so
    /// there is no gap between slices for a set-then-clear to fall into.
    pub fn wait(&self, timeout: Option<Duration>) -> Result<bool> {
        // SAFETY: the handle is open.
        match call(|err| unsafe {
            sys::polyipc_event_wait(self.h.as_ptr(), timeout_ns(timeout), err)
        }) {
            Ok(()) => Ok(true),
            Err(e) if e.status() == Status::Timeout => Ok(false),
            Err(e) => Err(e),
        }
    }
}
