//! What `Dict` and `List` share: JSON values going to the C API as C strings,
//! and serde_json's errors as `Status::InvalidJson` naming the object.
use crate::error::{Error, Result, Status};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::ffi::CString;

/// A JSON text as a C string (a `Vec` is moved, not copied): a NUL byte in
/// it is `Status::InvalidJson` (no JSON text holds one). `label` names the
/// object (`dict 'x'`), `what` the argument.
pub(crate) fn c_json(label: &str, what: &str, text: impl Into<Vec<u8>>) -> Result<CString> {
    CString::new(text).map_err(|e| {
        Error::new(
            Status::InvalidJson,
            format!(
                "{label}: {what} holds a NUL byte at offset {}",
                e.nul_position()
            ),
        )
    })
}

/// `value` as JSON text; `Status::InvalidJson` saying "{label}: {what}
/// cannot be serialised" when serde_json cannot serialise it.
pub(crate) fn encode<T: Serialize + ?Sized>(
    label: &str,
    what: impl FnOnce() -> String,
    value: &T,
) -> Result<Vec<u8>> {
    serde_json::to_vec(value).map_err(|e| {
        Error::new(
            Status::InvalidJson,
            format!("{label}: {} cannot be serialised as JSON: {e}", what()),
        )
    })
}

/// `text` (what the library gave) deserialised; `Status::InvalidJson`
/// saying "{label}: {what} the requested type" when it is not a `T`.
pub(crate) fn decode<T: DeserializeOwned>(
    label: &str,
    what: impl FnOnce() -> String,
    text: &str,
) -> Result<T> {
    serde_json::from_str(text).map_err(|e| {
        Error::new(
            Status::InvalidJson,
            format!("{label}: {} the requested type: {e}", what()),
        )
    })
}
