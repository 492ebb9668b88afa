//! Raw declarations of the polyipc C API (`capi/include/polyipc.h`), generated
//! by bindgen into `src/bindings.rs` (see `generate.sh`) and committed, so a
//! build needs no libclang. Every rule of the API lives in the header's
//! comments; the safe crate `polyipc` is the one to use.
#![allow(non_camel_case_types, non_upper_case_globals, non_snake_case)]

include!("bindings.rs");

/// `POLYIPC_FOREVER` (`(int64_t)-1`): bindgen skips macros with casts. The
/// crate's header test checks it against the header.
pub const POLYIPC_FOREVER: i64 = -1;

/// A zeroed error struct to pass as the last argument of every call.
pub const fn polyipc_error_empty() -> polyipc_error {
    polyipc_error {
        code: 0,
        message: [0; 256],
    }
}
