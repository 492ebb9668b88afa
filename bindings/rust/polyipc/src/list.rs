//! `List`: a named sequence of JSON values in shared memory (Python's
//! `multiprocessing.Manager().list()`, without the manager).
use crate::error::{Result, Status};
use crate::json_text;
use crate::names::take_c_string;
use crate::options::{ListOptions, timeout_ns};
use crate::sync::{call, json, open_handle, sync_handle};
use polyipc_sys as sys;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::ffi::{CString, c_char};
use std::ptr::{self, NonNull};
use std::time::Duration;

/// A handle on list `name` in the namespace `$POLYIPC_NAMESPACE`: a
/// sequence of JSON values, read and written directly by every attached
/// process, in any language.
///
/// Each call is atomic (one robust lock, one journaled change): a process
/// killed in the middle of a call leaves the list as it was before or after
/// it, and usable. Values go through serde_json ([`append`](List::append),
/// [`get`](List::get), ...) or as JSON text as it is (the `_json` methods;
/// validated by the library: `Status::InvalidJson`).
///
/// Indexes are `i64` and count from the end when negative (-1: the last);
/// outside `-len..len` they are `Status::OutOfRange`.
/// [`insert`](List::insert) takes any index, as Python's `list.insert`: at or
/// past the end appends, at or before `-len` prepends. [`pop`](List::pop)
/// and [`pop_at`](List::pop_at) return `Ok(None)` on an empty list.
///
/// ```no_run
/// use polyipc::{List, ListOptions};
///
/// let l = List::open("jobs", &ListOptions::new())?;
/// l.append(&serde_json::json!({"job": 1}))?;
/// l.append_json("2")?;
/// l.insert(0, "first")?;
/// assert_eq!(l.get::<String>(0)?, "first");
/// assert_eq!(l.get_json(-1)?, "2");
/// assert_eq!(l.pop::<i64>()?, Some(2));            // the last
/// assert_eq!(l.pop_at::<String>(0)?.as_deref(), Some("first"));
/// assert_eq!(l.items::<serde_json::Value>()?.len(), 1);
/// # Ok::<(), polyipc::Error>(())
/// ```
///
/// `List` is `Send + Sync` (share it with `Arc`). [`close`](List::close) or
/// dropping it releases the handle only; the list lives on until
/// [`unlink`](crate::unlink) (or, if ephemeral, until the last process
/// detaches). `close` takes the handle by value, so a call after it does not
/// compile:
///
/// ```compile_fail,E0382
/// let l = polyipc::List::open("l", &polyipc::ListOptions::new())?;
/// l.close();
/// l.len()?; // error: use of moved value `l`
/// # Ok::<(), polyipc::Error>(())
/// ```
///
/// A value holding a NUL byte is `Status::InvalidJson` naming the list.
/// `Status::Full`: the list holds `max_items` values, or has no room left
/// for this one; `Status::TooLarge`: the value could never fit. A name
/// holding another kind of object is `Status::Incompatible`.
pub struct List {
    h: NonNull<sys::polyipc_list>,
    name: String,
}

sync_handle!(
    List,
    "list",
    sys::polyipc_list_close,
    sys::polyipc_list_stat_json
);

impl List {
    /// Opens (or creates, per `opts.open_mode`) list `name`. Names are
    /// 1..200 characters of `[A-Za-z0-9._-]`.
    pub fn open(name: &str, opts: &ListOptions) -> Result<List> {
        let h = open_handle("list", name, |cname, out, err| {
            // Built after open_handle has checked the library version.
            let copts = opts.to_c();
            // SAFETY: valid C string, options struct and out pointer.
            unsafe { sys::polyipc_list_open(cname, opts.c_open_mode(), &copts, out, err) }
        })?;
        Ok(List {
            h,
            name: name.to_owned(),
        })
    }

    /// Appends `value` serialised with serde_json (`Status::InvalidJson`
    /// when it cannot be).
    pub fn append<T: Serialize + ?Sized>(&self, value: &T) -> Result<()> {
        self.append_c(&self.c_json(self.encode(value)?)?)
    }

    /// Appends the JSON text `json`, stored as it is.
    pub fn append_json(&self, json: &str) -> Result<()> {
        self.append_c(&self.c_json(json)?)
    }

    fn append_c(&self, json: &CString) -> Result<()> {
        // SAFETY: valid C string; the handle is open.
        call(|err| unsafe { sys::polyipc_list_append(self.h.as_ptr(), json.as_ptr(), err) })
    }

    /// Inserts `value` (serde_json) before element `index`; an index at or
    /// past the end appends, at or before `-len` prepends.
    pub fn insert<T: Serialize + ?Sized>(&self, index: i64, value: &T) -> Result<()> {
        self.insert_c(index, &self.c_json(self.encode(value)?)?)
    }

    /// [`insert`](List::insert) with JSON text.
    pub fn insert_json(&self, index: i64, json: &str) -> Result<()> {
        self.insert_c(index, &self.c_json(json)?)
    }

    fn insert_c(&self, index: i64, json: &CString) -> Result<()> {
        // SAFETY: valid C string; the handle is open.
        call(|err| unsafe { sys::polyipc_list_insert(self.h.as_ptr(), index, json.as_ptr(), err) })
    }

    /// Element `index` deserialised with serde_json; a value that is not a
    /// `T` is `Status::InvalidJson`, an index out of range
    /// `Status::OutOfRange`.
    pub fn get<T: DeserializeOwned>(&self, index: i64) -> Result<T> {
        self.decode(index, &self.get_json(index)?)
    }

    /// The JSON text of element `index` as it was stored.
    pub fn get_json(&self, index: i64) -> Result<String> {
        let mut text: *mut c_char = ptr::null_mut();
        // SAFETY: valid out pointers; the handle is open.
        call(|err| unsafe {
            sys::polyipc_list_get(self.h.as_ptr(), index, &mut text, ptr::null_mut(), err)
        })?;
        // SAFETY: on success the library returned a string for us to free.
        Ok(unsafe { take_c_string(text) })
    }

    /// Replaces element `index` with `value` (serde_json).
    pub fn set<T: Serialize + ?Sized>(&self, index: i64, value: &T) -> Result<()> {
        self.set_c(index, &self.c_json(self.encode(value)?)?)
    }

    /// [`set`](List::set) with JSON text.
    pub fn set_json(&self, index: i64, json: &str) -> Result<()> {
        self.set_c(index, &self.c_json(json)?)
    }

    fn set_c(&self, index: i64, json: &CString) -> Result<()> {
        // SAFETY: valid C string; the handle is open.
        call(|err| unsafe { sys::polyipc_list_set(self.h.as_ptr(), index, json.as_ptr(), err) })
    }

    /// Removes and returns the last element (serde_json); `None` when the
    /// list is empty. An element that is not a `T` is `Status::InvalidJson`
    /// (it is removed all the same: use [`pop_json`](List::pop_json) to
    /// keep the text).
    pub fn pop<T: DeserializeOwned>(&self) -> Result<Option<T>> {
        self.pop_at(-1)
    }

    /// Removes and returns element `index` (serde_json); `None` when the
    /// list is empty, `Status::OutOfRange` when `index` is out of range.
    pub fn pop_at<T: DeserializeOwned>(&self, index: i64) -> Result<Option<T>> {
        self.pop_json_at(index)?
            .map(|text| self.decode(index, &text))
            .transpose()
    }

    /// Removes and returns the last element's JSON text; `None` when the
    /// list is empty.
    pub fn pop_json(&self) -> Result<Option<String>> {
        self.pop_json_at(-1)
    }

    /// Removes and returns element `index`'s JSON text; `None` when the list
    /// is empty, `Status::OutOfRange` when `index` is out of range.
    pub fn pop_json_at(&self, index: i64) -> Result<Option<String>> {
        let mut text: *mut c_char = ptr::null_mut();
        // SAFETY: valid out pointers; the handle is open.
        let popped = call(|err| unsafe {
            sys::polyipc_list_pop(self.h.as_ptr(), index, &mut text, ptr::null_mut(), err)
        });
        match popped {
            Ok(()) => Ok(Some(unsafe {
                // SAFETY: on success the library returned a string for us to free.
                take_c_string(text)
            })),
            Err(e) if e.status() == Status::Empty => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The number of values.
    pub fn len(&self) -> Result<usize> {
        let mut n: u64 = 0;
        // SAFETY: valid out pointer; the handle is open.
        call(|err| unsafe { sys::polyipc_list_len(self.h.as_ptr(), &mut n, err) })?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }

    /// True when the list holds no value.
    pub fn is_empty(&self) -> Result<bool> {
        Ok(self.len()? == 0)
    }

    /// Every value deserialised with serde_json, in order (one snapshot).
    /// Use `serde_json::Value` for values of mixed types; one that is not a
    /// `T` is `Status::InvalidJson`.
    pub fn items<T: DeserializeOwned>(&self) -> Result<Vec<T>> {
        json_text::decode(
            &self.label(),
            || "items are not".to_string(),
            &self.items_json()?,
        )
    }

    /// Every value as one JSON array, in order (one snapshot).
    pub fn items_json(&self) -> Result<String> {
        // SAFETY: valid out pointer; the handle is open.
        json(|text, err| unsafe { sys::polyipc_list_items(self.h.as_ptr(), text, err) })
    }

    /// Removes every value.
    pub fn clear(&self) -> Result<()> {
        // SAFETY: the handle is open.
        call(|err| unsafe { sys::polyipc_list_clear(self.h.as_ptr(), err) })
    }

    /// The list's version: 0 for a new list, +1 per change made by any
    /// process (every append, insert, set, pop that removed a value, and
    /// clear). Reads, and a [`pop`](List::pop) on an empty list, leave it as
    /// it is.
    ///
    /// Read it before reading what you need, then give it to
    /// [`wait_change`](List::wait_change): no change in between is missed.
    pub fn version(&self) -> Result<u64> {
        let mut version: u64 = 0;
        // SAFETY: valid out pointer; the handle is open.
        call(|err| unsafe { sys::polyipc_list_version(self.h.as_ptr(), &mut version, err) })?;
        Ok(version)
    }

    /// Waits until the list's version differs from `seen`, at most `timeout`
    /// (`None`: no limit; `Some(Duration::ZERO)`: never blocks), and returns
    /// the version at return: a different one when something changed (in
    /// this process or any other), `seen` itself on timeout (compare, as
    /// [`Event::wait`](crate::Event::wait) gives `false`: a timeout is not an
    /// error). A `seen` that is not the current version returns at once.
    ///
    /// One native wait, not slices. Rust has no cancellation token: as for
    /// the crate's other blocking calls, the timeout is the cancellation.
    /// Changes made by a 0.5 process, or by one killed before its wake-up,
    /// are seen within 100 ms.
    ///
    /// ```no_run
    /// use polyipc::{List, ListOptions};
    /// use std::time::Duration;
    ///
    /// let l = List::open("jobs", &ListOptions::new())?;
    /// let mut seen = l.version()?;                     // first the version,
    /// let mut n = l.len()?;                            // then the reads
    /// loop {
    ///     let now = l.wait_change(seen, Some(Duration::from_secs(1)))?;
    ///     if now == seen {
    ///         continue;                                // timed out: check a stop flag
    ///     }
    ///     seen = now;
    ///     n = l.len()?;                                // changes after `now` wake the next wait
    ///     # break;
    /// }
    /// # let _ = n;
    /// # Ok::<(), polyipc::Error>(())
    /// ```
    ///
    /// Like every call, it cannot reach a closed handle (`close` takes the
    /// handle by value), and the handle cannot be closed while a wait
    /// borrows it:
    ///
    /// ```compile_fail,E0382
    /// let l = polyipc::List::open("l", &polyipc::ListOptions::new())?;
    /// let seen = l.version()?;
    /// l.close();
    /// l.wait_change(seen, None)?; // error: use of moved value `l`
    /// # Ok::<(), polyipc::Error>(())
    /// ```
    pub fn wait_change(&self, seen: u64, timeout: Option<Duration>) -> Result<u64> {
        let mut version: u64 = seen;
        // SAFETY: valid out pointer; the handle is open.
        match call(|err| unsafe {
            sys::polyipc_list_wait_change(
                self.h.as_ptr(),
                seen,
                timeout_ns(timeout),
                &mut version,
                err,
            )
        }) {
            Ok(()) => Ok(version),
            Err(e) if e.status() == Status::Timeout => Ok(seen),
            Err(e) => Err(e),
        }
    }

    /// Removes the name `name` (same as [`crate::unlink`]); handles already
    /// open keep working.
    pub fn unlink(name: &str) -> Result<()> {
        crate::unlink(name)
    }

    fn c_json(&self, text: impl Into<Vec<u8>>) -> Result<CString> {
        json_text::c_json(&self.label(), "value", text)
    }

    fn encode<T: Serialize + ?Sized>(&self, value: &T) -> Result<Vec<u8>> {
        json_text::encode(&self.label(), || "the value".to_string(), value)
    }

    fn decode<T: DeserializeOwned>(&self, index: i64, text: &str) -> Result<T> {
        json_text::decode(&self.label(), || format!("element {index} is not"), text)
    }

    fn label(&self) -> String {
        format!("list '{}'", self.name)
    }
}
