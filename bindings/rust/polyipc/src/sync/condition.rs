//! `Condition` and its guard.
use super::{call, open_handle, sync_handle};
use crate::error::{Error, Result, Status};
use crate::names::c_name;
use crate::options::{SyncOptions, timeout_ns};
use polyipc_sys as sys;
use std::marker::PhantomData;
use std::ptr::{self, NonNull};
use std::time::{Duration, Instant};

/// A named condition variable shared by processes (Python's
/// `multiprocessing.Condition`), bound to a [`Lock`](crate::Lock) or
/// [`RLock`](crate::RLock) by name (by default `"<name>.lock"`).
///
/// [`acquire`](Condition::acquire) takes that lock and returns a
/// [`ConditionGuard`] (`!Send`, released on drop), through which the holder
/// waits and notifies:
///
/// ```no_run
/// use polyipc::Condition;
/// use std::time::Duration;
///
/// let cond = Condition::open("buffer")?;
/// let mut g = cond.acquire(None)?;
/// let ready = g.wait_for(|| true /* check the shared state */, Some(Duration::from_secs(5)))?;
/// g.notify_all()?;
/// drop(g);
/// # Ok::<(), polyipc::Error>(())
/// ```
pub struct Condition {
    h: NonNull<sys::polyipc_condition>,
    name: String,
}

sync_handle!(
    Condition,
    "condition",
    sys::polyipc_condition_close,
    sys::polyipc_condition_stat_json
);

/// The lock of a [`Condition`], held by this thread; released when dropped.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct ConditionGuard<'a> {
    cond: &'a Condition,
    owner_died: bool,
    _not_send: PhantomData<*const ()>,
}

impl Condition {
    /// Opens (or creates) it, bound to the lock `"<name>.lock"` (opened or
    /// created too).
    pub fn open(name: &str) -> Result<Condition> {
        Condition::open_with(name, None, &SyncOptions::new())
    }

    /// Bound to the lock or rlock `lock_name` (`None`: `"<name>.lock"`). An
    /// existing condition bound to another lock is `Status::Incompatible`.
    pub fn open_with(name: &str, lock_name: Option<&str>, opts: &SyncOptions) -> Result<Condition> {
        if lock_name == Some("") {
            // the C API would take "" for NULL (the default lock)
            return Err(Error::new(
                Status::InvalidArg,
                format!("condition '{name}': empty lock name (None means \"{name}.lock\")"),
            ));
        }
        let clock = lock_name.map(|l| c_name("lock", l)).transpose()?;
        let copts = opts.to_c();
        let h = open_handle("condition", name, |cname, out, err| unsafe {
            // SAFETY: valid C strings (or NULL), options struct and out pointer.
            sys::polyipc_condition_open(
                cname,
                opts.c_open_mode(),
                clock.as_ref().map_or(ptr::null(), |c| c.as_ptr()),
                &copts,
                out,
                err,
            )
        })?;
        Ok(Condition {
            h,
            name: name.to_owned(),
        })
    }

    /// Takes the condition's lock, waiting at most `timeout`
    /// (`Status::Timeout`). A previous holder that died leaves it acquired,
    /// with [`ConditionGuard::previous_owner_died`] true.
    pub fn acquire(&self, timeout: Option<Duration>) -> Result<ConditionGuard<'_>> {
        // SAFETY: the handle is open.
        let owner_died = match call(|err| unsafe {
            sys::polyipc_condition_acquire(self.h.as_ptr(), timeout_ns(timeout), err)
        }) {
            Ok(()) => false,
            Err(e) if e.status() == Status::OwnerDead => true,
            Err(e) => return Err(e),
        };
        Ok(ConditionGuard {
            cond: self,
            owner_died,
            _not_send: PhantomData,
        })
    }

    /// Takes the lock if that needs no waiting; `Ok(None)` if it is held.
    pub fn try_acquire(&self) -> Result<Option<ConditionGuard<'_>>> {
        match self.acquire(Some(Duration::ZERO)) {
            Ok(g) => Ok(Some(g)),
            Err(e) if e.status() == Status::Timeout => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Same as [`ConditionGuard::wait`]; `guard` must come from this handle.
    pub fn wait(&self, guard: &mut ConditionGuard<'_>, timeout: Option<Duration>) -> Result<bool> {
        self.check_guard(guard)?;
        guard.wait(timeout)
    }

    /// Same as [`ConditionGuard::wait_for`]; `guard` must come from this handle.
    pub fn wait_for(
        &self,
        guard: &mut ConditionGuard<'_>,
        predicate: impl FnMut() -> bool,
        timeout: Option<Duration>,
    ) -> Result<bool> {
        self.check_guard(guard)?;
        guard.wait_for(predicate, timeout)
    }

    /// Wakes up to `n` waiters, longest waiting first. The calling thread
    /// must hold the lock (else `Status::NotOwner`).
    pub fn notify(&self, n: u64) -> Result<()> {
        // SAFETY: the handle is open.
        call(|err| unsafe { sys::polyipc_condition_notify(self.h.as_ptr(), n, err) })
    }

    /// Wakes every waiter. The calling thread must hold the lock (else
    /// `Status::NotOwner`).
    pub fn notify_all(&self) -> Result<()> {
        // SAFETY: the handle is open.
        call(|err| unsafe { sys::polyipc_condition_notify_all(self.h.as_ptr(), err) })
    }

    fn check_guard(&self, guard: &ConditionGuard<'_>) -> Result<()> {
        if ptr::eq(guard.cond, self) {
            Ok(())
        } else {
            Err(Error::new(
                Status::InvalidArg,
                format!(
                    "condition '{}': wait with the guard of another handle ('{}')",
                    self.name, guard.cond.name
                ),
            ))
        }
    }

    fn release(&self) -> Result<()> {
        // SAFETY: the handle is open.
        call(|err| unsafe { sys::polyipc_condition_release(self.h.as_ptr(), err) })
    }
}

impl ConditionGuard<'_> {
    /// True when the lock was taken from a holder that died (at the acquire
    /// or on the way out of a wait): repair what it guards.
    pub fn previous_owner_died(&self) -> bool {
        self.owner_died
    }

    /// Releases the lock, waits for a notify at most `timeout` (`None`:
    /// forever), takes the lock back (however long that takes): `Ok(true)`
    /// when notified, `Ok(false)` on timeout. Re-taking the lock from a
    /// holder that died counts as a wake-up and sets
    /// [`previous_owner_died`](ConditionGuard::previous_owner_died).
    pub fn wait(&mut self, timeout: Option<Duration>) -> Result<bool> {
        // SAFETY: the handle is open (borrowed by the guard).
        match call(|err| unsafe {
            sys::polyipc_condition_wait(self.cond.h.as_ptr(), timeout_ns(timeout), err)
        }) {
            Ok(()) => Ok(true),
            Err(e) if e.status() == Status::Timeout => Ok(false),
            Err(e) if e.status() == Status::OwnerDead => {
                self.owner_died = true;
                Ok(true)
            }
            Err(e) => Err(e),
        }
    }

    /// Waits until `predicate()` is true, at most `timeout` in all (Python's
    /// `wait_for`): returns the predicate's last value (false: timed out).
    /// The predicate runs with the lock held.
    pub fn wait_for(
        &mut self,
        mut predicate: impl FnMut() -> bool,
        timeout: Option<Duration>,
    ) -> Result<bool> {
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        loop {
            if predicate() {
                return Ok(true);
            }
            let rest = match (timeout, deadline) {
                (None, _) => None,
                (Some(_), Some(deadline)) => {
                    let rest = deadline.saturating_duration_since(Instant::now());
                    if rest.is_zero() {
                        return Ok(false);
                    }
                    Some(rest)
                }
                (Some(t), None) => Some(t), // beyond Instant's range: as good as forever
            };
            self.wait(rest)?;
        }
    }

    /// Waits while `condition()` is true (std's `Condvar::wait_timeout_while`
    /// shape): `Ok(true)` once it is false, `Ok(false)` on timeout.
    pub fn wait_while(
        &mut self,
        mut condition: impl FnMut() -> bool,
        timeout: Option<Duration>,
    ) -> Result<bool> {
        self.wait_for(|| !condition(), timeout)
    }

    /// Wakes up to `n` waiters, longest waiting first.
    pub fn notify(&self, n: u64) -> Result<()> {
        self.cond.notify(n)
    }

    pub fn notify_all(&self) -> Result<()> {
        self.cond.notify_all()
    }

    /// Releases the lock now, reporting an error (dropping does the same).
    pub fn release(self) -> Result<()> {
        let cond = self.cond;
        std::mem::forget(self);
        cond.release()
    }
}

impl Drop for ConditionGuard<'_> {
    fn drop(&mut self) {
        let _ = self.cond.release();
    }
}

impl std::fmt::Debug for ConditionGuard<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConditionGuard")
            .field("condition", &self.cond.name)
            .field("previous_owner_died", &self.owner_died)
            .finish()
    }
}
