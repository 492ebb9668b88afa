//! `Lock` and `RLock`, and the guard both hand out.
use super::{call, open_handle, sync_handle};
use crate::error::{Result, Status};
use crate::options::{SyncOptions, timeout_ns};
use polyipc_sys as sys;
use std::marker::PhantomData;
use std::ptr::NonNull;
use std::time::Duration;

/// A named lock shared by processes (Python's `multiprocessing.Lock`), robust:
/// when its holder dies, the next [`acquire`](Lock::acquire) succeeds and
/// says so ([`LockGuard::previous_owner_died`]).
///
/// Ownership is per OS thread: the [`LockGuard`] is `!Send`, and releases
/// the lock when dropped. Acquiring it again from the holding thread fails
/// with `Status::InvalidArg` (a `Lock` is not recursive: see [`RLock`]), or
/// returns `Ok(None)` from [`try_acquire`](Lock::try_acquire).
///
/// ```no_run
/// use polyipc::Lock;
/// use std::time::Duration;
///
/// let lock = Lock::open("tickets.lock")?;
/// let guard = lock.acquire(Some(Duration::from_secs(5)))?; // Status::Timeout if not
/// if guard.previous_owner_died() {
///     // the previous holder died inside its critical section: repair
/// }
/// drop(guard); // released
/// # Ok::<(), polyipc::Error>(())
/// ```
pub struct Lock {
    h: NonNull<sys::polyipc_lock>,
    name: String,
}

/// A named recursive lock (Python's `multiprocessing.RLock`): the holding
/// thread may acquire it again; it is free again when every guard is gone.
/// Otherwise as [`Lock`]. A name holds either a lock or an rlock: opening it
/// as the other kind fails with `Status::Incompatible`.
pub struct RLock {
    h: NonNull<sys::polyipc_lock>,
    name: String,
}

sync_handle!(
    Lock,
    "lock",
    sys::polyipc_lock_close,
    sys::polyipc_lock_stat_json
);
sync_handle!(
    RLock,
    "rlock",
    sys::polyipc_lock_close,
    sys::polyipc_lock_stat_json
);

/// Held acquisition of a [`Lock`] or [`RLock`]: released when dropped.
///
/// `!Send`: the lock belongs to the OS thread that acquired it, and only
/// that thread may release it:
///
/// ```compile_fail
/// let lock = polyipc::Lock::open("l")?;
/// let guard = lock.acquire(None)?;
/// std::thread::scope(|s| { s.spawn(move || drop(guard)); }); // error: not Send
/// # Ok::<(), polyipc::Error>(())
/// ```
///
/// and it borrows its handle, which therefore cannot be closed under it:
///
/// ```compile_fail
/// let lock = polyipc::Lock::open("l")?;
/// let guard = lock.acquire(None)?;
/// lock.close(); // error: `lock` is borrowed by `guard`
/// drop(guard);
/// # Ok::<(), polyipc::Error>(())
/// ```
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct LockGuard<'a> {
    h: NonNull<sys::polyipc_lock>,
    owner_died: bool,
    _handle: PhantomData<&'a ()>,
    _not_send: PhantomData<*const ()>,
}

impl LockGuard<'_> {
    /// True when the previous holder died holding the lock (C's
    /// `POLYIPC_ERR_OWNER_DEAD`): the lock is held all the same, but what it
    /// guards may be half-updated and should be repaired.
    pub fn previous_owner_died(&self) -> bool {
        self.owner_died
    }

    /// Releases the lock now, reporting an error (dropping the guard does
    /// the same and ignores it; with a live guard there is none to expect).
    pub fn release(self) -> Result<()> {
        let h = self.h;
        std::mem::forget(self);
        release(h)
    }

    /// Keeps the lock held and forgets the guard; the same thread releases
    /// it later with `Lock::release` / `RLock::release`.
    pub fn leak(self) {
        std::mem::forget(self)
    }
}

impl Drop for LockGuard<'_> {
    fn drop(&mut self) {
        // Held by this thread (the guard never left it): cannot fail.
        let _ = release(self.h);
    }
}

impl std::fmt::Debug for LockGuard<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LockGuard")
            .field("previous_owner_died", &self.owner_died)
            .finish()
    }
}

fn open(name: &str, recursive: bool, opts: &SyncOptions) -> Result<NonNull<sys::polyipc_lock>> {
    let copts = opts.to_c();
    let kind = if recursive { "rlock" } else { "lock" };
    open_handle(kind, name, |cname, out, err| unsafe {
        // SAFETY: valid C string, options struct and out pointer.
        sys::polyipc_lock_open(
            cname,
            opts.c_open_mode(),
            recursive as i32,
            &copts,
            out,
            err,
        )
    })
}

fn release(h: NonNull<sys::polyipc_lock>) -> Result<()> {
    // SAFETY: the handle is open.
    call(|err| unsafe { sys::polyipc_lock_release(h.as_ptr(), err) })
}

/// Acquires: `Ok(owner_died)`, else the error (TIMEOUT included).
fn acquire_raw(h: NonNull<sys::polyipc_lock>, timeout_ns: i64) -> Result<bool> {
    // SAFETY: the handle is open.
    match call(|err| unsafe { sys::polyipc_lock_acquire(h.as_ptr(), timeout_ns, err) }) {
        Ok(()) => Ok(false),
        Err(e) if e.status() == Status::OwnerDead => Ok(true),
        Err(e) => Err(e),
    }
}

fn guard<'a>(h: NonNull<sys::polyipc_lock>, owner_died: bool) -> LockGuard<'a> {
    LockGuard {
        h,
        owner_died,
        _handle: PhantomData,
        _not_send: PhantomData,
    }
}

macro_rules! lock_methods {
    ($ty:ident, $recursive:expr) => {
        impl $ty {
            /// Opens (or creates) it with the default options.
            pub fn open(name: &str) -> Result<$ty> {
                $ty::open_with(name, &SyncOptions::new())
            }

            /// Opens or creates it as `opts` say (open mode, permission bits, ephemeral).
            pub fn open_with(name: &str, opts: &SyncOptions) -> Result<$ty> {
                Ok($ty {
                    h: open(name, $recursive, opts)?,
                    name: name.to_owned(),
                })
            }

            /// Acquires it, waiting at most `timeout` (`None`: forever;
            /// `Some(Duration::ZERO)`: not at all); `Status::Timeout` when
            /// not acquired in time. A holder that died leaves it acquired,
            /// with [`LockGuard::previous_owner_died`] true.
            pub fn acquire(&self, timeout: Option<Duration>) -> Result<LockGuard<'_>> {
                let owner_died = acquire_raw(self.h, timeout_ns(timeout))?;
                Ok(guard(self.h, owner_died))
            }

            /// Acquires it if that needs no waiting: `Ok(None)` when it is held
            /// (by another thread or process, or, for a `Lock`, by this thread).
            pub fn try_acquire(&self) -> Result<Option<LockGuard<'_>>> {
                match acquire_raw(self.h, 0) {
                    Ok(owner_died) => Ok(Some(guard(self.h, owner_died))),
                    Err(e) if e.status() == Status::Timeout => Ok(None),
                    Err(e) => Err(e),
                }
            }

            /// Whether anyone (any thread of any process) holds it now.
            pub fn locked(&self) -> Result<bool> {
                let mut out = 0;
                // SAFETY: valid out pointer; the handle is open.
                call(|err| unsafe { sys::polyipc_lock_locked(self.h.as_ptr(), &mut out, err) })?;
                Ok(out != 0)
            }

            /// How many times the calling thread holds it (0: it does not).
            pub fn held_by_current_thread(&self) -> Result<u32> {
                let mut depth = 0;
                // SAFETY: valid out pointer; the handle is open.
                call(|err| unsafe { sys::polyipc_lock_held(self.h.as_ptr(), &mut depth, err) })?;
                Ok(depth)
            }

            /// Releases an acquisition whose guard was [`leak`](LockGuard::leak)ed.
            /// `Status::NotOwner` when the calling thread does not hold it.
            pub fn release(&self) -> Result<()> {
                release(self.h)
            }
        }
    };
}

lock_methods!(Lock, false);
lock_methods!(RLock, true);
