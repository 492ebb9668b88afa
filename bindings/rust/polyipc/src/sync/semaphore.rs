//! `Semaphore` (and BoundedSemaphore) with its permit.
use super::{call, open_handle, sync_handle};
use crate::error::{Error, Result, Status};
use crate::options::{SyncOptions, timeout_ns};
use polyipc_sys as sys;
use std::ptr::NonNull;
use std::time::Duration;

/// A named counting semaphore shared by processes (Python's
/// `multiprocessing.Semaphore`, or `BoundedSemaphore` when opened with a
/// bound). Slots are counted per holder process: the slots a process held
/// when it died come back.
///
/// [`acquire`](Semaphore::acquire) returns a [`SemaphorePermit`] that gives
/// its slots back when dropped; [`SemaphorePermit::forget`] keeps them taken
/// (for a semaphore used as a signal, released by someone else with
/// [`release`](Semaphore::release)). Permits are `Send`: slots belong to the
/// process, not to a thread.
pub struct Semaphore {
    h: NonNull<sys::polyipc_semaphore>,
    name: String,
}

sync_handle!(
    Semaphore,
    "semaphore",
    sys::polyipc_semaphore_close,
    sys::polyipc_semaphore_stat_json
);

/// Slots taken from a [`Semaphore`], given back when dropped.
#[must_use = "the slots are given back as soon as the permit is dropped"]
#[derive(Debug)]
pub struct SemaphorePermit<'a> {
    sem: &'a Semaphore,
    n: u64,
}

impl SemaphorePermit<'_> {
    /// How many slots this permit holds.
    pub fn count(&self) -> u64 {
        self.n
    }

    /// Keeps the slots taken: someone (any process) gives them back with
    /// [`Semaphore::release`], or they come back when this process dies.
    pub fn forget(self) {
        std::mem::forget(self)
    }

    /// Gives the slots back now, reporting an error (a bounded semaphore
    /// already released up to its maximum by someone else).
    pub fn release(self) -> Result<()> {
        let (sem, n) = (self.sem, self.n);
        std::mem::forget(self);
        sem.release(n)
    }
}

impl Drop for SemaphorePermit<'_> {
    fn drop(&mut self) {
        let _ = self.sem.release(self.n);
    }
}

impl Semaphore {
    /// Opens or creates an unbounded semaphore; `initial` is its value when
    /// this call creates it.
    pub fn open(name: &str, initial: u64) -> Result<Semaphore> {
        Semaphore::open_with(name, initial, None, &SyncOptions::new())
    }

    /// Opens or creates a bounded semaphore (`BoundedSemaphore`): releasing
    /// it past `max` fails with `Status::InvalidArg` (Python's ValueError).
    pub fn open_bounded(name: &str, initial: u64, max: u64) -> Result<Semaphore> {
        Semaphore::open_with(name, initial, Some(max), &SyncOptions::new())
    }

    /// The general form: `bound` `None` is unbounded, `Some(max)` bounded
    /// (max >= 1). An existing semaphore with another bound is
    /// `Status::Incompatible`, except with `OpenMode::OpenOnly`, which takes
    /// it as it is.
    pub fn open_with(
        name: &str,
        initial: u64,
        bound: Option<u64>,
        opts: &SyncOptions,
    ) -> Result<Semaphore> {
        if bound == Some(0) {
            return Err(Error::new(
                Status::InvalidArg,
                format!("semaphore '{name}': a bounded semaphore's maximum must be at least 1"),
            ));
        }
        let copts = opts.to_c();
        let h = open_handle("semaphore", name, |cname, out, err| unsafe {
            // SAFETY: valid C string, options struct and out pointer.
            sys::polyipc_semaphore_open(
                cname,
                opts.c_open_mode(),
                initial,
                bound.unwrap_or(0),
                &copts,
                out,
                err,
            )
        })?;
        Ok(Semaphore {
            h,
            name: name.to_owned(),
        })
    }

    /// Takes one slot, waiting at most `timeout` (`None`: forever;
    /// `Status::Timeout` when none came in time).
    pub fn acquire(&self, timeout: Option<Duration>) -> Result<SemaphorePermit<'_>> {
        self.acquire_many(1, timeout)
    }

    /// Takes `n` slots at once, all or none.
    pub fn acquire_many(&self, n: u64, timeout: Option<Duration>) -> Result<SemaphorePermit<'_>> {
        // SAFETY: the handle is open.
        call(|err| unsafe {
            sys::polyipc_semaphore_acquire_n(self.h.as_ptr(), n, timeout_ns(timeout), err)
        })?;
        Ok(SemaphorePermit { sem: self, n })
    }

    /// Takes one slot if one is free now; `Ok(None)` if not.
    pub fn try_acquire(&self) -> Result<Option<SemaphorePermit<'_>>> {
        match self.acquire(Some(Duration::ZERO)) {
            Ok(p) => Ok(Some(p)),
            Err(e) if e.status() == Status::Timeout => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Gives `n` slots back (anyone may: a semaphore is not owned).
    /// `Status::InvalidArg` when a bounded semaphore would exceed its maximum.
    pub fn release(&self, n: u64) -> Result<()> {
        // SAFETY: the handle is open.
        call(|err| unsafe { sys::polyipc_semaphore_release(self.h.as_ptr(), n, err) })
    }

    /// Free slots now.
    pub fn value(&self) -> Result<u64> {
        let mut v = 0;
        // SAFETY: valid out pointer; the handle is open.
        call(|err| unsafe { sys::polyipc_semaphore_value(self.h.as_ptr(), &mut v, err) })?;
        Ok(v)
    }

    /// Takes every slot free now, as one permit (possibly of 0 slots).
    pub fn drain(&self) -> Result<SemaphorePermit<'_>> {
        let mut n = 0;
        // SAFETY: valid out pointer; the handle is open.
        call(|err| unsafe { sys::polyipc_semaphore_drain(self.h.as_ptr(), &mut n, err) })?;
        Ok(SemaphorePermit { sem: self, n })
    }
}
