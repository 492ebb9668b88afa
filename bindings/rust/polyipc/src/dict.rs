//! `Dict`: a named map from string keys to JSON values in shared memory
//! (Python's `multiprocessing.Manager().dict()`, without the manager).
use crate::error::{Error, Result, Status};
use crate::json_text;
use crate::names::take_c_string;
use crate::options::{DictOptions, timeout_ns};
use crate::sync::{call, json, open_handle, sync_handle};
use polyipc_sys as sys;
use serde::de::{DeserializeOwned, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use std::ffi::{CStr, CString, c_char, c_int};
use std::fmt;
use std::marker::PhantomData;
use std::ptr::{self, NonNull};
use std::time::Duration;

/// A handle on dict `name` in the namespace `$POLYIPC_NAMESPACE`: string
/// keys to JSON values, read and written directly by every attached process,
/// in any language.
///
/// Each call is atomic (one robust lock, one journaled change): a process
/// killed in the middle of a call leaves the dict as it was before or after
/// it, and usable. Values are JSON: [`set`](Dict::set) / [`get`](Dict::get)
/// go through serde_json, [`set_json`](Dict::set_json) /
/// [`get_json`](Dict::get_json) take and give the text as it is (validated
/// by the library: `Status::InvalidJson`). An absent key is `Ok(None)`, a
/// JSON `null` is a value like any other. [`keys`](Dict::keys) and
/// [`items`](Dict::items) list the entries in the order they were last set.
///
/// ```no_run
/// use polyipc::{Dict, DictOptions};
///
/// let d = Dict::open("settings", &DictOptions::new())?;
/// d.set("retries", &3)?;
/// d.set_json("name", r#""primary""#)?;
/// assert_eq!(d.get::<i64>("retries")?, Some(3));
/// assert_eq!(d.get_json("name")?.as_deref(), Some(r#""primary""#));
/// assert!(!d.set_if_absent("retries", &10)?);       // there already
/// // an atomic increment, across processes: retry until no one came between
/// loop {
///     let now = d.get_json("hits")?;                // None: absent
///     let next = now.as_deref().map_or(0, |t| t.parse::<i64>().unwrap()) + 1;
///     if d.compare_and_set("hits", now.as_deref(), Some(&next.to_string()))? {
///         break;
///     }
/// }
/// # Ok::<(), polyipc::Error>(())
/// ```
///
/// `Dict` is `Send + Sync` (share it with `Arc`). [`close`](Dict::close) or
/// dropping it releases the handle only; the dict lives on until
/// [`unlink`](crate::unlink) (or, if ephemeral, until the last process
/// detaches). `close` takes the handle by value, so a call after it does not
/// compile:
///
/// ```compile_fail,E0382
/// let d = polyipc::Dict::open("d", &polyipc::DictOptions::new())?;
/// d.close();
/// d.len()?; // error: use of moved value `d`
/// # Ok::<(), polyipc::Error>(())
/// ```
///
/// Keys are UTF-8 of at most 4096 bytes (longer: `Status::InvalidArg`); a
/// key holding a NUL byte is `Status::InvalidArg`, a value holding one
/// `Status::InvalidJson`, both naming the dict. `Status::Full`: the dict
/// holds `max_items` keys, or has no room left for this entry;
/// `Status::TooLarge`: the entry could never fit. A name holding another
/// kind of object is `Status::Incompatible`.
pub struct Dict {
    h: NonNull<sys::polyipc_dict>,
    name: String,
}

sync_handle!(
    Dict,
    "dict",
    sys::polyipc_dict_close,
    sys::polyipc_dict_stat_json
);

impl Dict {
    /// Opens (or creates, per `opts.open_mode`) dict `name`. Names are
    /// 1..200 characters of `[A-Za-z0-9._-]`.
    pub fn open(name: &str, opts: &DictOptions) -> Result<Dict> {
        let h = open_handle("dict", name, |cname, out, err| {
            // Built after open_handle has checked the library version.
            let copts = opts.to_c();
            // SAFETY: valid C string, options struct and out pointer.
            unsafe { sys::polyipc_dict_open(cname, opts.c_open_mode(), &copts, out, err) }
        })?;
        Ok(Dict {
            h,
            name: name.to_owned(),
        })
    }

    /// Sets `key` to `value` serialised with serde_json (`Status::InvalidJson`
    /// when it cannot be).
    pub fn set<T: Serialize + ?Sized>(&self, key: &str, value: &T) -> Result<()> {
        let ckey = self.c_key(key)?;
        self.set_c(&ckey, &self.c_json("value", self.encode(key, value)?)?)
    }

    /// Sets `key` to the JSON text `json`, stored as it is.
    pub fn set_json(&self, key: &str, json: &str) -> Result<()> {
        self.set_c(&self.c_key(key)?, &self.c_json("value", json)?)
    }

    fn set_c(&self, key: &CStr, json: &CStr) -> Result<()> {
        // SAFETY: valid C strings; the handle is open.
        call(|err| unsafe {
            sys::polyipc_dict_set(self.h.as_ptr(), key.as_ptr(), json.as_ptr(), err)
        })
    }

    /// The value of `key` deserialised with serde_json, `None` when the key
    /// is absent. A value that is not a `T` is `Status::InvalidJson`.
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>> {
        match self.get_json(key)? {
            None => Ok(None),
            Some(text) => json_text::decode(
                &self.label(),
                || format!("the value of key {key:?} is not"),
                &text,
            )
            .map(Some),
        }
    }

    /// The JSON text of `key` as it was set, `None` when the key is absent.
    pub fn get_json(&self, key: &str) -> Result<Option<String>> {
        let ckey = self.c_key(key)?;
        let mut text: *mut c_char = ptr::null_mut();
        let mut found: c_int = 0;
        // SAFETY: valid C string and out pointers; the handle is open.
        call(|err| unsafe {
            sys::polyipc_dict_get(
                self.h.as_ptr(),
                ckey.as_ptr(),
                &mut text,
                ptr::null_mut(),
                &mut found,
                err,
            )
        })?;
        // SAFETY: on success the library returned a string for us to free (or
        // null for an absent key). A JSON text holds no NUL byte.
        let text = unsafe { take_c_string(text) };
        Ok((found != 0).then_some(text))
    }

    /// True when `key` is in the dict.
    pub fn contains_key(&self, key: &str) -> Result<bool> {
        Ok(self.get_json(key)?.is_some())
    }

    /// Removes `key`: true when it was there.
    pub fn remove(&self, key: &str) -> Result<bool> {
        let ckey = self.c_key(key)?;
        let mut deleted: c_int = 0;
        // SAFETY: valid C string and out pointer; the handle is open.
        call(|err| unsafe {
            sys::polyipc_dict_delete(self.h.as_ptr(), ckey.as_ptr(), &mut deleted, err)
        })?;
        Ok(deleted != 0)
    }

    /// Atomically sets `key` to `desired` if its value equals `expected` as
    /// JSON (`1` equals `1.0`; whitespace and the order of object keys do not
    /// count); true when it changed. `expected` `None`: only if the key is
    /// absent; `desired` `None`: removes the key. Malformed `expected` or
    /// `desired` is `Status::InvalidJson`, and nothing changes.
    pub fn compare_and_set(
        &self,
        key: &str,
        expected: Option<&str>,
        desired: Option<&str>,
    ) -> Result<bool> {
        let ckey = self.c_key(key)?;
        let cexpected = expected.map(|t| self.c_json("expected", t)).transpose()?;
        let cdesired = desired.map(|t| self.c_json("desired", t)).transpose()?;
        self.compare_and_set_c(&ckey, cexpected.as_deref(), cdesired.as_deref())
    }

    fn compare_and_set_c(
        &self,
        key: &CStr,
        expected: Option<&CStr>,
        desired: Option<&CStr>,
    ) -> Result<bool> {
        let mut swapped: c_int = 0;
        // SAFETY: valid (or null) C strings and out pointer; the handle is open.
        call(|err| unsafe {
            sys::polyipc_dict_compare_and_set(
                self.h.as_ptr(),
                key.as_ptr(),
                expected.map_or(ptr::null(), CStr::as_ptr),
                desired.map_or(ptr::null(), CStr::as_ptr),
                &mut swapped,
                err,
            )
        })?;
        Ok(swapped != 0)
    }

    /// Sets `key` to `value` (serialised with serde_json) only if the key is
    /// absent, atomically: true when it was set (Java's `putIfAbsent`,
    /// Python's `setdefault`).
    pub fn set_if_absent<T: Serialize + ?Sized>(&self, key: &str, value: &T) -> Result<bool> {
        let ckey = self.c_key(key)?;
        let desired = self.c_json("value", self.encode(key, value)?)?;
        self.compare_and_set_c(&ckey, None, Some(&desired))
    }

    /// [`set_if_absent`](Dict::set_if_absent) with JSON text.
    pub fn set_json_if_absent(&self, key: &str, json: &str) -> Result<bool> {
        self.compare_and_set(key, None, Some(json))
    }

    /// The number of keys.
    pub fn len(&self) -> Result<usize> {
        let mut n: u64 = 0;
        // SAFETY: valid out pointer; the handle is open.
        call(|err| unsafe { sys::polyipc_dict_len(self.h.as_ptr(), &mut n, err) })?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }

    /// True when the dict holds no key.
    pub fn is_empty(&self) -> Result<bool> {
        Ok(self.len()? == 0)
    }

    /// The keys, in the order they were last set (one snapshot).
    pub fn keys(&self) -> Result<Vec<String>> {
        self.decode("keys", &self.keys_json()?)
    }

    /// The keys as a JSON array, in the order they were last set.
    pub fn keys_json(&self) -> Result<String> {
        // SAFETY: valid out pointer; the handle is open.
        json(|text, err| unsafe { sys::polyipc_dict_keys(self.h.as_ptr(), text, err) })
    }

    /// Every entry, its value deserialised with serde_json, in the order
    /// they were last set (one snapshot). Use `serde_json::Value` for values
    /// of mixed types; one that is not a `T` is `Status::InvalidJson`.
    pub fn items<T: DeserializeOwned>(&self) -> Result<Vec<(String, T)>> {
        let Ordered(items) = self.decode("items", &self.items_json()?)?;
        Ok(items)
    }

    /// Every entry as one JSON object, in the order they were last set (one
    /// snapshot).
    pub fn items_json(&self) -> Result<String> {
        // SAFETY: valid out pointer; the handle is open.
        json(|text, err| unsafe { sys::polyipc_dict_items(self.h.as_ptr(), text, err) })
    }

    /// Removes every key.
    pub fn clear(&self) -> Result<()> {
        // SAFETY: the handle is open.
        call(|err| unsafe { sys::polyipc_dict_clear(self.h.as_ptr(), err) })
    }

    /// The dict's version: 0 for a new dict, +1 per change made by any
    /// process (a set, a [`remove`](Dict::remove) that found its key, a
    /// [`clear`](Dict::clear), a [`compare_and_set`](Dict::compare_and_set)
    /// or [`set_if_absent`](Dict::set_if_absent) that changed the dict).
    /// Reads, and calls that found nothing to change, leave it as it is.
    ///
    /// Read it before reading what you need, then give it to
    /// [`wait_change`](Dict::wait_change): no change in between is missed.
    pub fn version(&self) -> Result<u64> {
        let mut version: u64 = 0;
        // SAFETY: valid out pointer; the handle is open.
        call(|err| unsafe { sys::polyipc_dict_version(self.h.as_ptr(), &mut version, err) })?;
        Ok(version)
    }

    /// Waits until the dict's version differs from `seen`, at most `timeout`
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
    /// use polyipc::{Dict, DictOptions};
    /// use std::time::Duration;
    ///
    /// let d = Dict::open("settings", &DictOptions::new())?;
    /// let mut seen = d.version()?;                     // first the version,
    /// let mut retries = d.get::<i64>("retries")?;      // then the reads
    /// loop {
    ///     let now = d.wait_change(seen, Some(Duration::from_secs(1)))?;
    ///     if now == seen {
    ///         continue;                                // timed out: check a stop flag
    ///     }
    ///     seen = now;
    ///     retries = d.get::<i64>("retries")?;          // changes after `now` wake the next wait
    ///     # break;
    /// }
    /// # let _ = retries;
    /// # Ok::<(), polyipc::Error>(())
    /// ```
    ///
    /// Like every call, it cannot reach a closed handle (`close` takes the
    /// handle by value), and the handle cannot be closed while a wait
    /// borrows it:
    ///
    /// ```compile_fail,E0382
    /// let d = polyipc::Dict::open("d", &polyipc::DictOptions::new())?;
    /// let seen = d.version()?;
    /// d.close();
    /// d.wait_change(seen, None)?; // error: use of moved value `d`
    /// # Ok::<(), polyipc::Error>(())
    /// ```
    pub fn wait_change(&self, seen: u64, timeout: Option<Duration>) -> Result<u64> {
        let mut version: u64 = seen;
        // SAFETY: valid out pointer; the handle is open.
        match call(|err| unsafe {
            sys::polyipc_dict_wait_change(
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

    /// `key` as a C string: a NUL byte in it is `Status::InvalidArg`.
    fn c_key(&self, key: &str) -> Result<CString> {
        CString::new(key).map_err(|e| {
            Error::new(
                Status::InvalidArg,
                format!(
                    "dict '{}': key {key:?} holds a NUL byte at offset {}",
                    self.name,
                    e.nul_position()
                ),
            )
        })
    }

    /// A JSON text as a C string: a NUL byte in it is `Status::InvalidJson`
    /// naming the dict. `what` names the argument.
    fn c_json(&self, what: &str, text: impl Into<Vec<u8>>) -> Result<CString> {
        json_text::c_json(&self.label(), what, text)
    }

    /// `value` as JSON text; `Status::InvalidJson` naming the dict and key
    /// when serde_json cannot serialise it.
    fn encode<T: Serialize + ?Sized>(&self, key: &str, value: &T) -> Result<Vec<u8>> {
        json_text::encode(
            &self.label(),
            || format!("the value for key {key:?}"),
            value,
        )
    }

    /// `text` (what the library listed) deserialised; `Status::InvalidJson`
    /// naming the dict when it is not a `T`.
    fn decode<T: DeserializeOwned>(&self, what: &str, text: &str) -> Result<T> {
        json_text::decode(&self.label(), || format!("{what} are not"), text)
    }

    fn label(&self) -> String {
        format!("dict '{}'", self.name)
    }
}

/// The entries of a JSON object in their order in the text (serde_json's
/// own map sorts them).
struct Ordered<T>(Vec<(String, T)>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Ordered<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Entries<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for Entries<T> {
            type Value = Ordered<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<Ordered<T>, A::Error> {
                let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0));
                while let Some(entry) = map.next_entry()? {
                    entries.push(entry);
                }
                Ok(Ordered(entries))
            }
        }
        d.deserialize_map(Entries(PhantomData))
    }
}
