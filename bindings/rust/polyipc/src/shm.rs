//! `SharedMemory` (a named block of bytes) and `Array` / `Value` of `i64` or
//! `f64` with atomic operations (Python's `multiprocessing.shared_memory`,
//! `Array` and `Value`).
use crate::error::{Error, Result, Status};
use crate::options::{OpenMode, SyncOptions, timeout_ns};
use crate::sync::{call, json, open_handle};
use polyipc_sys as sys;
use std::ffi::c_void;
use std::fmt;
use std::marker::PhantomData;
use std::ptr::{self, NonNull};
use std::time::Duration;

/// A named block of shared memory, created zeroed and page-aligned, its
/// bytes seen as a slice: [`as_slice`](SharedMemory::as_slice) and
/// [`as_mut_slice`](SharedMemory::as_mut_slice), zero-copy over the mapping.
///
/// The slices borrow the handle, so the mapping cannot be unmapped under
/// them: a slice used after [`close`](SharedMemory::close) does not compile.
///
/// ```compile_fail
/// let shm = polyipc::SharedMemory::open("block", 4096)?;
/// let bytes = shm.as_slice();
/// shm.close(); // error: `shm` is borrowed by `bytes`
/// println!("{}", bytes[0]);
/// # Ok::<(), polyipc::Error>(())
/// ```
///
/// The mapping stays valid until the handle goes, even after another process
/// [`unlink`](crate::unlink)s the name.
///
/// **Other processes**: Rust's borrow rules cover this process only. Other
/// processes (and other handles on the same name in this one) may write the
/// bytes at any time; a slice assumes no one writes what it covers while it
/// is borrowed. Coordinate with a [`Lock`](crate::Lock), an
/// [`Event`](crate::Event) or a pipe message (as with any memory-mapped
/// file), or use [`as_ptr`](SharedMemory::as_ptr) with volatile or atomic
/// accesses, or an [`Array`], for data written concurrently.
pub struct SharedMemory {
    h: NonNull<sys::polyipc_shm>,
    name: String,
    data: NonNull<u8>,
    len: usize,
}

// SAFETY: the C handle may be used from several threads; the bytes are
// reached through &self (shared) or &mut self (exclusive) only.
unsafe impl Send for SharedMemory {}
unsafe impl Sync for SharedMemory {}

impl SharedMemory {
    /// Opens block `name`, or creates it with `size` bytes (zeroed). `size`
    /// 0 attaches to an existing block whatever its size (`Status::NotFound`
    /// when there is none); another size than the existing one is
    /// `Status::Incompatible`; more than /dev/shm holds is
    /// `Status::NoMemory`.
    pub fn open(name: &str, size: usize) -> Result<SharedMemory> {
        SharedMemory::open_with(name, size, &SyncOptions::new())
    }

    /// Attaches to the existing block `name` whatever its size.
    pub fn attach(name: &str) -> Result<SharedMemory> {
        SharedMemory::open_with(name, 0, &SyncOptions::new().open_mode(OpenMode::OpenOnly))
    }

    /// As [`open`](SharedMemory::open), with an open mode, permission bits
    /// and `ephemeral` (unlinked when the last attached process goes).
    pub fn open_with(name: &str, size: usize, opts: &SyncOptions) -> Result<SharedMemory> {
        let copts = opts.to_c();
        let h = open_handle("shared_memory", name, |cname, out, err| unsafe {
            // SAFETY: valid C string, options struct and out pointer.
            sys::polyipc_shm_open(cname, opts.c_open_mode(), size as u64, &copts, out, err)
        })?;
        let mut data: *mut c_void = ptr::null_mut();
        let mut len: u64 = 0;
        // SAFETY: valid out pointers; the handle is open.
        let got =
            call(|err| unsafe { sys::polyipc_shm_data(h.as_ptr(), &mut data, &mut len, err) });
        let checked = got.and_then(|()| {
            let len = usize::try_from(len).map_err(|_| {
                Error::new(
                    Status::NoMemory,
                    format!("shared_memory '{name}': {len} bytes do not fit in this address space"),
                )
            })?;
            Ok((
                NonNull::new(data.cast::<u8>()).unwrap_or(NonNull::dangling()),
                len,
            ))
        });
        match checked {
            Ok((data, len)) => Ok(SharedMemory {
                h,
                name: name.to_owned(),
                data,
                len,
            }),
            Err(e) => {
                // SAFETY: the handle is open and not used after.
                unsafe { sys::polyipc_shm_close(h.as_ptr()) };
                Err(e)
            }
        }
    }

    /// The block's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its size in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True for a block of no bytes (never, in practice: size 0 cannot be created).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The bytes, zero-copy (see the type's notes about other processes).
    pub fn as_slice(&self) -> &[u8] {
        // SAFETY: the mapping holds `len` bytes and lives as long as the
        // handle, which the slice borrows.
        unsafe { std::slice::from_raw_parts(self.data.as_ptr(), self.len) }
    }

    /// The bytes, writable, zero-copy (see the type's notes about other
    /// processes).
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        // SAFETY: as in as_slice; &mut self makes it the only borrow in this
        // handle.
        unsafe { std::slice::from_raw_parts_mut(self.data.as_ptr(), self.len) }
    }

    /// The address of the first byte, valid while this handle lives.
    pub fn as_ptr(&self) -> *mut u8 {
        self.data.as_ptr()
    }

    /// Its name, size and counters as a JSON object.
    pub fn stat_json(&self) -> Result<String> {
        // SAFETY: valid out pointers; the handle is open.
        json(|json, err| unsafe { sys::polyipc_shm_stat_json(self.h.as_ptr(), json, err) })
    }

    /// Unmaps it and releases the handle (never the name: see
    /// [`unlink`](crate::unlink)). Dropping it does the same; neither can
    /// happen while a slice of it is borrowed.
    pub fn close(self) {
        drop(self)
    }

    /// Removes the name `name` (same as [`crate::unlink`]); handles already
    /// open keep their bytes.
    pub fn unlink(name: &str) -> Result<()> {
        crate::unlink(name)
    }
}

impl AsRef<[u8]> for SharedMemory {
    fn as_ref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl AsMut<[u8]> for SharedMemory {
    fn as_mut(&mut self) -> &mut [u8] {
        self.as_mut_slice()
    }
}

impl Drop for SharedMemory {
    fn drop(&mut self) {
        // SAFETY: the handle is open; with &mut self no slice of it is left.
        unsafe { sys::polyipc_shm_close(self.h.as_ptr()) }
    }
}

impl fmt::Debug for SharedMemory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedMemory")
            .field("name", &self.name)
            .field("len", &self.len)
            .finish_non_exhaustive()
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for i64 {}
    impl Sealed for f64 {}
}

type Raw = *mut sys::polyipc_array;
type Err = *mut sys::polyipc_error;

/// An element type of [`Array`] and [`Value`]: `i64` or `f64` (sealed).
pub trait Element: sealed::Sealed + Copy + PartialEq + fmt::Debug + Send + Sync + 'static {
    #[doc(hidden)]
    const C_TYPE: sys::polyipc_elem_type;
    #[doc(hidden)]
    const NAME: &'static str;
    #[doc(hidden)]
    unsafe fn c_load(a: Raw, i: u64, out: *mut Self, err: Err) -> i32;
    #[doc(hidden)]
    unsafe fn c_store(a: Raw, i: u64, v: Self, err: Err) -> i32;
    #[doc(hidden)]
    unsafe fn c_add(a: Raw, i: u64, d: Self, prev: *mut Self, err: Err) -> i32;
    #[doc(hidden)]
    unsafe fn c_cas(
        a: Raw,
        i: u64,
        e: Self,
        d: Self,
        act: *mut Self,
        sw: *mut i32,
        err: Err,
    ) -> i32;
    #[doc(hidden)]
    fn zero() -> Self;
}

macro_rules! element {
    ($t:ty, $c:expr, $name:literal, $load:path, $store:path, $add:path, $cas:path, $zero:expr) => {
        impl Element for $t {
            const C_TYPE: sys::polyipc_elem_type = $c;
            const NAME: &'static str = $name;
            unsafe fn c_load(a: Raw, i: u64, out: *mut Self, err: Err) -> i32 {
                unsafe { $load(a, i, out, err) }
            }
            unsafe fn c_store(a: Raw, i: u64, v: Self, err: Err) -> i32 {
                unsafe { $store(a, i, v, err) }
            }
            unsafe fn c_add(a: Raw, i: u64, d: Self, prev: *mut Self, err: Err) -> i32 {
                unsafe { $add(a, i, d, prev, err) }
            }
            unsafe fn c_cas(
                a: Raw,
                i: u64,
                e: Self,
                d: Self,
                act: *mut Self,
                sw: *mut i32,
                err: Err,
            ) -> i32 {
                unsafe { $cas(a, i, e, d, act, sw, err) }
            }
            fn zero() -> Self {
                $zero
            }
        }
    };
}

element!(
    i64,
    sys::polyipc_elem_type_POLYIPC_INT64,
    "int64",
    sys::polyipc_array_load_i64,
    sys::polyipc_array_store_i64,
    sys::polyipc_array_add_i64,
    sys::polyipc_array_compare_exchange_i64,
    0
);
element!(
    f64,
    sys::polyipc_elem_type_POLYIPC_DOUBLE,
    "double",
    sys::polyipc_array_load_f64,
    sys::polyipc_array_store_f64,
    sys::polyipc_array_add_f64,
    sys::polyipc_array_compare_exchange_f64,
    0.0
);

/// A named fixed-length array of `i64` or `f64` in shared memory
/// (Python's `multiprocessing.Array('q' / 'd', n)`), every element starting
/// at 0, with sequentially consistent atomic operations named as in
/// `std::sync::atomic`, and an optional robust lock for compound updates
/// ([`lock`](Array::lock)).
///
/// An index out of range is an `Err` with `Status::OutOfRange`, never a
/// panic. Opening a name that holds the other element type or another
/// length is `Status::Incompatible`.
///
/// ```no_run
/// use polyipc::Array;
///
/// let a = Array::<f64>::open("weights", 3)?;
/// a.store(0, 0.5)?;
/// let before = a.fetch_add(0, 1.0)?;          // 0.5
/// assert_eq!(a.compare_exchange(0, 1.5, 2.0)?, Ok(1.5));
/// assert_eq!(a.to_vec()?, vec![2.0, 0.0, 0.0]);
/// assert!(a.load(3).is_err());                // out of range: an error
/// # Ok::<(), polyipc::Error>(())
/// ```
pub struct Array<T: Element> {
    h: NonNull<sys::polyipc_array>,
    name: String,
    len: usize,
    _t: PhantomData<T>,
}

// SAFETY: the C API allows every call on one handle from several threads at
// once; the close call runs in Drop, when no borrow (and no guard) is left.
unsafe impl<T: Element> Send for Array<T> {}
unsafe impl<T: Element> Sync for Array<T> {}

impl<T: Element> Array<T> {
    /// Opens array `name`, or creates it with `len` elements (all 0). `len`
    /// 0 attaches to an existing array whatever its length.
    pub fn open(name: &str, len: usize) -> Result<Array<T>> {
        Array::open_with(name, len, &SyncOptions::new())
    }

    /// Attaches to the existing array `name` whatever its length
    /// (`Status::NotFound` when there is none).
    pub fn attach(name: &str) -> Result<Array<T>> {
        Array::open_with(name, 0, &SyncOptions::new().open_mode(OpenMode::OpenOnly))
    }

    /// As [`open`](Array::open), with an open mode, permission bits and
    /// `ephemeral`.
    pub fn open_with(name: &str, len: usize, opts: &SyncOptions) -> Result<Array<T>> {
        let copts = opts.to_c();
        let h = open_handle("array", name, |cname, out, err| unsafe {
            // SAFETY: valid C string, options struct and out pointer.
            sys::polyipc_array_open(
                cname,
                opts.c_open_mode(),
                T::C_TYPE,
                len as u64,
                &copts,
                out,
                err,
            )
        })?;
        // From here on, Drop closes the handle on any error.
        let mut a = Array {
            h,
            name: name.to_owned(),
            len: 0,
            _t: PhantomData,
        };
        let mut n: u64 = 0;
        let mut ty: sys::polyipc_elem_type = T::C_TYPE;
        // SAFETY: valid out pointers; the handle is open.
        call(|err| unsafe { sys::polyipc_array_length(h.as_ptr(), &mut n, err) })?;
        call(|err| unsafe { sys::polyipc_array_type(h.as_ptr(), &mut ty, err) })?;
        if ty != T::C_TYPE {
            return Err(Error::new(
                Status::Incompatible,
                format!("array '{name}' holds another element type than {}", T::NAME),
            ));
        }
        a.len = usize::try_from(n).map_err(|_| {
            Error::new(
                Status::NoMemory,
                format!("array '{name}': length {n} too large"),
            )
        })?;
        Ok(a)
    }

    /// The array's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its number of elements (fixed at creation).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Never true (an array has at least one element).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Element `index`.
    pub fn load(&self, index: usize) -> Result<T> {
        let mut out = T::zero();
        // SAFETY: valid out pointer; the handle is open; the library checks the index.
        call(|err| unsafe { T::c_load(self.h.as_ptr(), index as u64, &mut out, err) })?;
        Ok(out)
    }

    /// Sets element `index` to `value`.
    pub fn store(&self, index: usize, value: T) -> Result<()> {
        // SAFETY: the handle is open; the library checks the index.
        call(|err| unsafe { T::c_store(self.h.as_ptr(), index as u64, value, err) })
    }

    /// Adds `delta` to element `index` (wrapping for `i64`) and returns the
    /// value before.
    pub fn fetch_add(&self, index: usize, delta: T) -> Result<T> {
        let mut previous = T::zero();
        // SAFETY: valid out pointer; the handle is open.
        call(|err| unsafe { T::c_add(self.h.as_ptr(), index as u64, delta, &mut previous, err) })?;
        Ok(previous)
    }

    /// Replaces element `index` by `new` if it is `current`, as
    /// `AtomicI64::compare_exchange`: `Ok(Ok(previous))` when replaced,
    /// `Ok(Err(actual))` when it held something else. Doubles are compared
    /// bit for bit (so NaN can be replaced, and -0.0 is not 0.0).
    pub fn compare_exchange(
        &self,
        index: usize,
        current: T,
        new: T,
    ) -> Result<std::result::Result<T, T>> {
        let mut actual = T::zero();
        let mut swapped = 0;
        // SAFETY: valid out pointers; the handle is open.
        call(|err| unsafe {
            T::c_cas(
                self.h.as_ptr(),
                index as u64,
                current,
                new,
                &mut actual,
                &mut swapped,
                err,
            )
        })?;
        Ok(if swapped != 0 {
            Ok(actual)
        } else {
            Err(actual)
        })
    }

    /// Every element, each loaded atomically (not a snapshot of the whole
    /// array: hold the [`lock`](Array::lock) for that, if writers do too).
    pub fn to_vec(&self) -> Result<Vec<T>> {
        (0..self.len).map(|i| self.load(i)).collect()
    }

    /// Elements `range` (Python's slicing read); `Status::OutOfRange` when
    /// the range does not lie within the array.
    pub fn load_range(&self, range: std::ops::Range<usize>) -> Result<Vec<T>> {
        if range.start > range.end || range.end > self.len {
            return Err(Error::new(
                Status::OutOfRange,
                format!(
                    "array '{}': range {}..{} is outside 0..{}",
                    self.name, range.start, range.end, self.len
                ),
            ));
        }
        range.map(|i| self.load(i)).collect()
    }

    /// Takes the array's lock, a robust lock shared by every process (Python's
    /// `get_lock()`), waiting at most `timeout` (`None`: forever;
    /// `Status::Timeout`). The guard releases it on `Drop`. The atomic
    /// operations never take it: it serves compound updates among those who
    /// agree to take it. Acquiring it again from the holding thread is
    /// `Status::InvalidArg`.
    pub fn lock(&self, timeout: Option<Duration>) -> Result<ArrayGuard<'_>> {
        match call(|err| unsafe {
            // SAFETY: the handle is open.
            sys::polyipc_array_acquire(self.h.as_ptr(), timeout_ns(timeout), err)
        }) {
            Ok(()) => Ok(ArrayGuard::new(self.h, false)),
            Err(e) if e.status() == Status::OwnerDead => Ok(ArrayGuard::new(self.h, true)),
            Err(e) => Err(e),
        }
    }

    /// Takes the lock if that needs no waiting: `Ok(None)` when it is held.
    pub fn try_lock(&self) -> Result<Option<ArrayGuard<'_>>> {
        match self.lock(Some(Duration::ZERO)) {
            Ok(g) => Ok(Some(g)),
            Err(e) if e.status() == Status::Timeout => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Its name, type, length and counters as a JSON object.
    pub fn stat_json(&self) -> Result<String> {
        // SAFETY: valid out pointers; the handle is open.
        json(|json, err| unsafe { sys::polyipc_array_stat_json(self.h.as_ptr(), json, err) })
    }

    /// Releases the handle (never the array: see [`unlink`](crate::unlink)).
    /// Dropping it does the same; neither can happen while a guard lives.
    pub fn close(self) {
        drop(self)
    }

    /// Removes the name `name` (same as [`crate::unlink`]).
    pub fn unlink(name: &str) -> Result<()> {
        crate::unlink(name)
    }
}

impl<T: Element> Drop for Array<T> {
    fn drop(&mut self) {
        // SAFETY: the handle is open and, with &mut self, used by no one else.
        unsafe { sys::polyipc_array_close(self.h.as_ptr()) }
    }
}

impl<T: Element> fmt::Debug for Array<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Array")
            .field("type", &T::NAME)
            .field("name", &self.name)
            .field("len", &self.len)
            .finish_non_exhaustive()
    }
}

/// The held lock of an [`Array`] or [`Value`]: released when dropped.
/// `!Send` (the lock belongs to the OS thread that took it), and it borrows
/// its handle, which cannot be closed under it:
///
/// ```compile_fail
/// let v = polyipc::Value::<i64>::open("v")?;
/// let guard = v.lock(None)?;
/// v.close(); // error: `v` is borrowed by `guard`
/// drop(guard);
/// # Ok::<(), polyipc::Error>(())
/// ```
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct ArrayGuard<'a> {
    h: NonNull<sys::polyipc_array>,
    owner_died: bool,
    _handle: PhantomData<&'a ()>,
    _not_send: PhantomData<*const ()>,
}

impl ArrayGuard<'_> {
    fn new<'a>(h: NonNull<sys::polyipc_array>, owner_died: bool) -> ArrayGuard<'a> {
        ArrayGuard {
            h,
            owner_died,
            _handle: PhantomData,
            _not_send: PhantomData,
        }
    }

    /// True when the previous holder died holding the lock: it is held all
    /// the same, but a compound update may be half done.
    pub fn previous_owner_died(&self) -> bool {
        self.owner_died
    }

    /// Releases the lock now, reporting an error (dropping the guard does
    /// the same and ignores it).
    pub fn release(self) -> Result<()> {
        let h = self.h;
        std::mem::forget(self);
        // SAFETY: the handle is open (borrowed by the guard until now).
        call(|err| unsafe { sys::polyipc_array_release(h.as_ptr(), err) })
    }
}

impl Drop for ArrayGuard<'_> {
    fn drop(&mut self) {
        // SAFETY: the handle is open (borrowed); held by this thread.
        let _ = call(|err| unsafe { sys::polyipc_array_release(self.h.as_ptr(), err) });
    }
}

impl fmt::Debug for ArrayGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ArrayGuard")
            .field("previous_owner_died", &self.owner_died)
            .finish()
    }
}

/// A named `i64` or `f64` in shared memory (Python's
/// `multiprocessing.Value('q' / 'd')`): an [`Array`] of length 1, starting
/// at 0, with the same atomic operations and lock.
///
/// ```no_run
/// use polyipc::Value;
///
/// let hits = Value::<i64>::open("hits")?;
/// hits.fetch_add(1)?;
/// {
///     let _g = hits.lock(None)?; // compound update under the shared lock
///     let v = hits.load()?;
///     hits.store(v * 2)?;
/// }
/// # Ok::<(), polyipc::Error>(())
/// ```
pub struct Value<T: Element> {
    array: Array<T>,
}

impl<T: Element> Value<T> {
    /// Opens value `name`, or creates it (0).
    pub fn open(name: &str) -> Result<Value<T>> {
        Value::open_with(name, &SyncOptions::new())
    }

    /// As [`open`](Value::open), with an open mode, permission bits and
    /// `ephemeral`. A name holding an array of another length is
    /// `Status::Incompatible`.
    pub fn open_with(name: &str, opts: &SyncOptions) -> Result<Value<T>> {
        Ok(Value {
            array: Array::open_with(name, 1, opts)?,
        })
    }

    pub fn name(&self) -> &str {
        self.array.name()
    }

    pub fn load(&self) -> Result<T> {
        self.array.load(0)
    }

    pub fn store(&self, value: T) -> Result<()> {
        self.array.store(0, value)
    }

    /// Adds `delta` (wrapping for `i64`) and returns the value before.
    pub fn fetch_add(&self, delta: T) -> Result<T> {
        self.array.fetch_add(0, delta)
    }

    /// As [`Array::compare_exchange`].
    pub fn compare_exchange(&self, current: T, new: T) -> Result<std::result::Result<T, T>> {
        self.array.compare_exchange(0, current, new)
    }

    /// As [`Array::lock`].
    pub fn lock(&self, timeout: Option<Duration>) -> Result<ArrayGuard<'_>> {
        self.array.lock(timeout)
    }

    /// As [`Array::try_lock`].
    pub fn try_lock(&self) -> Result<Option<ArrayGuard<'_>>> {
        self.array.try_lock()
    }

    /// The array of one element underneath.
    pub fn as_array(&self) -> &Array<T> {
        &self.array
    }

    pub fn stat_json(&self) -> Result<String> {
        self.array.stat_json()
    }

    /// Releases the handle (never the value: see [`unlink`](crate::unlink)).
    pub fn close(self) {
        drop(self)
    }
}

impl<T: Element> fmt::Debug for Value<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Value")
            .field("type", &T::NAME)
            .field("name", &self.array.name)
            .finish_non_exhaustive()
    }
}
