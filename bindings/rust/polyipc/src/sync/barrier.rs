//! `Barrier`.
use super::{call, open_handle, sync_handle};
use crate::error::{Error, Result, Status};
use crate::options::{SyncOptions, timeout_ns};
use polyipc_sys as sys;
use std::ptr::NonNull;
use std::time::{Duration, Instant};

/// How long one C await blocks before the wait loop looks at its deadline.
const SLICE: Duration = Duration::from_millis(50);

/// A named barrier of `parties` (1..256) shared by processes (Python's
/// `multiprocessing.Barrier`). [`wait`](Barrier::wait) returns the arrival
/// index (0 first, `parties - 1` last).
///
/// A timeout, an [`abort`](Barrier::abort), a [`reset`](Barrier::reset)
/// while parties wait, or a waiting process that dies breaks it: every
/// waiter gets `Status::Broken` (the one whose timeout ran out gets
/// `Status::Timeout`), and so does every later wait until `reset`.
pub struct Barrier {
    h: NonNull<sys::polyipc_barrier>,
    name: String,
}

sync_handle!(
    Barrier,
    "barrier",
    sys::polyipc_barrier_close,
    sys::polyipc_barrier_stat_json
);

impl Barrier {
    /// Opens or creates it. An existing barrier of other parties is
    /// `Status::Incompatible`.
    pub fn open(name: &str, parties: usize) -> Result<Barrier> {
        Barrier::open_with(name, parties, &SyncOptions::new())
    }

    pub fn open_with(name: &str, parties: usize, opts: &SyncOptions) -> Result<Barrier> {
        // out of u32's range: let the library say why with the largest value
        let parties = u32::try_from(parties).unwrap_or(u32::MAX);
        let copts = opts.to_c();
        let h = open_handle("barrier", name, |cname, out, err| unsafe {
            // SAFETY: valid C string, options struct and out pointer.
            sys::polyipc_barrier_open(cname, opts.c_open_mode(), parties, &copts, out, err)
        })?;
        Ok(Barrier {
            h,
            name: name.to_owned(),
        })
    }

    /// Arrives and waits for the other parties, at most `timeout` (`None`:
    /// forever): `Ok(arrival index)`; `Status::Broken`; `Status::Timeout`
    /// when the timeout ran out, which breaks the barrier for everyone.
    ///
    /// It waits in slices of 50 ms (arrive, then await the arrival's round
    /// again and again), and when its deadline has passed gives the arrival
    /// up, which breaks the barrier as `java.util.concurrent.CyclicBarrier`
    /// does on a timeout (unless the round completed at that very moment:
    /// then it returns the index, and a later round is never broken).
    pub fn wait(&self, timeout: Option<Duration>) -> Result<usize> {
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        let mut ticket = 0u64;
        // SAFETY: valid out pointer; the handle is open.
        call(|err| unsafe { sys::polyipc_barrier_arrive(self.h.as_ptr(), &mut ticket, err) })?;
        loop {
            let slice = match (timeout, deadline) {
                (Some(_), Some(deadline)) => {
                    SLICE.min(deadline.saturating_duration_since(Instant::now()))
                }
                _ => SLICE, // forever, or beyond Instant's range
            };
            match self.await_ticket(ticket, slice) {
                Err(e) if e.status() == Status::Timeout => {
                    if deadline.is_some_and(|d| Instant::now() >= d) {
                        return self.give_up(ticket);
                    }
                }
                other => return other,
            }
        }
    }

    fn await_ticket(&self, ticket: u64, slice: Duration) -> Result<usize> {
        let mut index = 0u64;
        // SAFETY: valid out pointer; the handle is open.
        call(|err| unsafe {
            sys::polyipc_barrier_await(
                self.h.as_ptr(),
                ticket,
                timeout_ns(Some(slice)),
                &mut index,
                err,
            )
        })?;
        Ok(index as usize)
    }

    /// The deadline passed: gives the arrival up (C's cancel), which breaks
    /// the barrier for everyone unless the round completed at the last
    /// moment (then its index), and never breaks a later round.
    fn give_up(&self, ticket: u64) -> Result<usize> {
        let mut index = 0u64;
        // SAFETY: valid out pointer; the handle is open.
        match call(|err| unsafe {
            sys::polyipc_barrier_cancel(self.h.as_ptr(), ticket, &mut index, err)
        }) {
            Ok(()) => Ok(index as usize),
            Err(e) if e.status() == Status::Broken => Err(Error::new(
                Status::Timeout,
                format!(
                    "barrier '{}': not all parties arrived within the timeout; the barrier is now broken",
                    self.name
                ),
            )),
            Err(e) => Err(e),
        }
    }

    /// Breaks it: every waiter, and every wait until [`reset`](Barrier::reset),
    /// gets `Status::Broken`.
    pub fn abort(&self) -> Result<()> {
        // SAFETY: the handle is open.
        call(|err| unsafe { sys::polyipc_barrier_abort(self.h.as_ptr(), err) })
    }

    /// Starts afresh: parties waiting now get `Status::Broken`; later waits
    /// work again.
    pub fn reset(&self) -> Result<()> {
        // SAFETY: the handle is open.
        call(|err| unsafe { sys::polyipc_barrier_reset(self.h.as_ptr(), err) })
    }

    pub fn parties(&self) -> Result<usize> {
        let mut out = 0u32;
        // SAFETY: valid out pointer; the handle is open.
        call(|err| unsafe { sys::polyipc_barrier_parties(self.h.as_ptr(), &mut out, err) })?;
        Ok(out as usize)
    }

    /// How many parties wait in the current round (0 when broken).
    pub fn n_waiting(&self) -> Result<usize> {
        let mut out = 0u32;
        // SAFETY: valid out pointer; the handle is open.
        call(|err| unsafe { sys::polyipc_barrier_n_waiting(self.h.as_ptr(), &mut out, err) })?;
        Ok(out as usize)
    }

    pub fn is_broken(&self) -> Result<bool> {
        let mut out = 0;
        // SAFETY: valid out pointer; the handle is open.
        call(|err| unsafe { sys::polyipc_barrier_broken(self.h.as_ptr(), &mut out, err) })?;
        Ok(out != 0)
    }
}
