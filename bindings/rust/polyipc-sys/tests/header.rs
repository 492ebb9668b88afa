//! Checks the committed declarations against capi/include/polyipc.h:
//! - with a C compiler (always on the project's machines): every constant,
//!   struct size and field offset as C sees them equals what Rust sees;
//! - with bindgen installed (bindings/rust/setup.sh installs it): regenerating
//!   gives exactly the committed src/bindings.rs;
//! - the linked library is the version the declarations were made from.
use polyipc_sys::*;
use std::ffi::CStr;
use std::mem::{offset_of, size_of};
use std::path::PathBuf;
use std::process::Command;

fn include_dir() -> PathBuf {
    match std::env::var_os("POLYIPC_INCLUDE_DIR").filter(|d| !d.is_empty()) {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../capi/include"),
    }
}

fn have(cmd: &str) -> bool {
    Command::new(cmd)
        .arg("--version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// (name, value as Rust sees it); the C program prints the same names with C's values.
fn rust_facts() -> Vec<(&'static str, i128)> {
    macro_rules! facts {
        ($($name:expr => $value:expr),* $(,)?) => { vec![$(($name, $value as i128)),*] };
    }
    facts![
        "POLYIPC_VERSION_MAJOR" => POLYIPC_VERSION_MAJOR,
        "POLYIPC_VERSION_MINOR" => POLYIPC_VERSION_MINOR,
        "POLYIPC_VERSION_PATCH" => POLYIPC_VERSION_PATCH,
        "POLYIPC_VERSION_NUMBER" => POLYIPC_VERSION_NUMBER,
        "POLYIPC_FOREVER" => POLYIPC_FOREVER,
        "POLYIPC_MAX_NAME" => POLYIPC_MAX_NAME,
        "POLYIPC_JSON_MAX_DEPTH" => POLYIPC_JSON_MAX_DEPTH,
        "POLYIPC_OK" => polyipc_status_POLYIPC_OK,
        "POLYIPC_ERR_TIMEOUT" => polyipc_status_POLYIPC_ERR_TIMEOUT,
        "POLYIPC_ERR_EMPTY" => polyipc_status_POLYIPC_ERR_EMPTY,
        "POLYIPC_ERR_FULL" => polyipc_status_POLYIPC_ERR_FULL,
        "POLYIPC_ERR_CLOSED" => polyipc_status_POLYIPC_ERR_CLOSED,
        "POLYIPC_ERR_NOT_FOUND" => polyipc_status_POLYIPC_ERR_NOT_FOUND,
        "POLYIPC_ERR_EXISTS" => polyipc_status_POLYIPC_ERR_EXISTS,
        "POLYIPC_ERR_INVALID_ARG" => polyipc_status_POLYIPC_ERR_INVALID_ARG,
        "POLYIPC_ERR_INVALID_JSON" => polyipc_status_POLYIPC_ERR_INVALID_JSON,
        "POLYIPC_ERR_TOO_LARGE" => polyipc_status_POLYIPC_ERR_TOO_LARGE,
        "POLYIPC_ERR_PERMISSION" => polyipc_status_POLYIPC_ERR_PERMISSION,
        "POLYIPC_ERR_OWNER_DEAD" => polyipc_status_POLYIPC_ERR_OWNER_DEAD,
        "POLYIPC_ERR_INCOMPATIBLE" => polyipc_status_POLYIPC_ERR_INCOMPATIBLE,
        "POLYIPC_ERR_NO_MEMORY" => polyipc_status_POLYIPC_ERR_NO_MEMORY,
        "POLYIPC_ERR_NOT_OWNER" => polyipc_status_POLYIPC_ERR_NOT_OWNER,
        "POLYIPC_ERR_BROKEN" => polyipc_status_POLYIPC_ERR_BROKEN,
        "POLYIPC_ERR_SYSTEM" => polyipc_status_POLYIPC_ERR_SYSTEM,
        "POLYIPC_OPEN_OR_CREATE" => polyipc_open_mode_POLYIPC_OPEN_OR_CREATE,
        "POLYIPC_CREATE_ONLY" => polyipc_open_mode_POLYIPC_CREATE_ONLY,
        "POLYIPC_OPEN_ONLY" => polyipc_open_mode_POLYIPC_OPEN_ONLY,
        "POLYIPC_FIFO" => polyipc_queue_order_POLYIPC_FIFO,
        "POLYIPC_LIFO" => polyipc_queue_order_POLYIPC_LIFO,
        "POLYIPC_PRIORITY" => polyipc_queue_order_POLYIPC_PRIORITY,
        "POLYIPC_FORMAT_JSON" => polyipc_format_POLYIPC_FORMAT_JSON,
        "POLYIPC_FORMAT_BYTES" => polyipc_format_POLYIPC_FORMAT_BYTES,
        "sizeof(polyipc_error)" => size_of::<polyipc_error>(),
        "offsetof(polyipc_error,code)" => offset_of!(polyipc_error, code),
        "offsetof(polyipc_error,message)" => offset_of!(polyipc_error, message),
        "sizeof(polyipc_queue_options)" => size_of::<polyipc_queue_options>(),
        "offsetof(polyipc_queue_options,struct_size)" => offset_of!(polyipc_queue_options, struct_size),
        "offsetof(polyipc_queue_options,order)" => offset_of!(polyipc_queue_options, order),
        "offsetof(polyipc_queue_options,format)" => offset_of!(polyipc_queue_options, format),
        "offsetof(polyipc_queue_options,joinable)" => offset_of!(polyipc_queue_options, joinable),
        "offsetof(polyipc_queue_options,max_items)" => offset_of!(polyipc_queue_options, max_items),
        "offsetof(polyipc_queue_options,capacity_bytes)" => offset_of!(polyipc_queue_options, capacity_bytes),
        "offsetof(polyipc_queue_options,max_message_bytes)" => offset_of!(polyipc_queue_options, max_message_bytes),
        "offsetof(polyipc_queue_options,mode)" => offset_of!(polyipc_queue_options, mode),
        "offsetof(polyipc_queue_options,ephemeral)" => offset_of!(polyipc_queue_options, ephemeral),
        "sizeof(polyipc_sync_options)" => size_of::<polyipc_sync_options>(),
        "offsetof(polyipc_sync_options,struct_size)" => offset_of!(polyipc_sync_options, struct_size),
        "offsetof(polyipc_sync_options,mode)" => offset_of!(polyipc_sync_options, mode),
        "offsetof(polyipc_sync_options,ephemeral)" => offset_of!(polyipc_sync_options, ephemeral),
        "POLYIPC_END_A" => polyipc_pipe_end_POLYIPC_END_A,
        "POLYIPC_END_B" => polyipc_pipe_end_POLYIPC_END_B,
        "POLYIPC_INT64" => polyipc_elem_type_POLYIPC_INT64,
        "POLYIPC_DOUBLE" => polyipc_elem_type_POLYIPC_DOUBLE,
        "sizeof(polyipc_pipe_options)" => size_of::<polyipc_pipe_options>(),
        "offsetof(polyipc_pipe_options,struct_size)" => offset_of!(polyipc_pipe_options, struct_size),
        "offsetof(polyipc_pipe_options,duplex)" => offset_of!(polyipc_pipe_options, duplex),
        "offsetof(polyipc_pipe_options,format)" => offset_of!(polyipc_pipe_options, format),
        "offsetof(polyipc_pipe_options,mode)" => offset_of!(polyipc_pipe_options, mode),
        "offsetof(polyipc_pipe_options,capacity_bytes)" => offset_of!(polyipc_pipe_options, capacity_bytes),
        "offsetof(polyipc_pipe_options,ephemeral)" => offset_of!(polyipc_pipe_options, ephemeral),
        "offsetof(polyipc_pipe_options,reserved)" => offset_of!(polyipc_pipe_options, reserved),
        "sizeof(polyipc_pool_options)" => size_of::<polyipc_pool_options>(),
        "offsetof(polyipc_pool_options,struct_size)" => offset_of!(polyipc_pool_options, struct_size),
        "offsetof(polyipc_pool_options,mode)" => offset_of!(polyipc_pool_options, mode),
        "offsetof(polyipc_pool_options,capacity_bytes)" => offset_of!(polyipc_pool_options, capacity_bytes),
        "offsetof(polyipc_pool_options,max_tasks)" => offset_of!(polyipc_pool_options, max_tasks),
        "offsetof(polyipc_pool_options,result_capacity_bytes)" => offset_of!(polyipc_pool_options, result_capacity_bytes),
        "sizeof(polyipc_waitable)" => size_of::<polyipc_waitable>(),
        "offsetof(polyipc_waitable,pipe)" => offset_of!(polyipc_waitable, pipe),
        "offsetof(polyipc_waitable,queue)" => offset_of!(polyipc_waitable, queue),
        "offsetof(polyipc_waitable,ready)" => offset_of!(polyipc_waitable, ready),
        "sizeof(polyipc_pipe_end)" => size_of::<polyipc_pipe_end>(),
        "sizeof(polyipc_elem_type)" => size_of::<polyipc_elem_type>(),
        "sizeof(polyipc_status)" => size_of::<polyipc_status>(),
        "sizeof(polyipc_open_mode)" => size_of::<polyipc_open_mode>(),
        "sizeof(size_t)" => size_of::<usize>(),
    ]
}

#[test]
fn constants_and_layouts_match_what_c_sees() {
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    if !have(&cc) {
        eprintln!("SKIPPED: no C compiler ({cc}) to compare the declarations with");
        return;
    }
    let facts = rust_facts();
    let mut c = String::from(
        "#include <polyipc.h>\n#include <stdio.h>\n#include <stddef.h>\nint main(void) {\n",
    );
    for (name, _) in &facts {
        // "offsetof(T,f)" and "sizeof(T)" are C expressions as written; the rest are constants.
        c.push_str(&format!(
            "  printf(\"%s %lld\\n\", \"{name}\", (long long)({name}));\n"
        ));
    }
    c.push_str("  return 0;\n}\n");
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let src = dir.join("polyipc_header_facts.c");
    let exe = dir.join("polyipc_header_facts");
    std::fs::write(&src, c).unwrap();
    let out = Command::new(&cc)
        .arg("-std=c11")
        .arg("-I")
        .arg(include_dir())
        .arg(&src)
        .arg("-o")
        .arg(&exe)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cc failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = Command::new(&exe).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let mut mismatches = Vec::new();
    for ((name, rust), line) in facts.iter().zip(text.lines()) {
        let (c_name, c_value) = line.rsplit_once(' ').unwrap();
        assert_eq!(*name, c_name);
        let c_value: i128 = c_value.parse().unwrap();
        if c_value != *rust {
            mismatches.push(format!("{name}: C says {c_value}, Rust says {rust}"));
        }
    }
    assert_eq!(text.lines().count(), facts.len());
    assert!(
        mismatches.is_empty(),
        "src/bindings.rs disagrees with polyipc.h:\n{}",
        mismatches.join("\n")
    );
}

#[test]
fn bindings_are_what_bindgen_makes_of_the_header() {
    if std::env::var_os("POLYIPC_SKIP_BINDGEN_CHECK").is_some() || !have("bindgen") {
        eprintln!("SKIPPED: bindgen not installed (bindings/rust/setup.sh installs it)");
        return;
    }
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("generate.sh");
    let out = Command::new(&script)
        .arg("--check")
        .env("POLYIPC_INCLUDE_DIR", include_dir())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn linked_library_is_the_declared_version() {
    let number = unsafe { polyipc_version_number() };
    let version = unsafe { CStr::from_ptr(polyipc_version()) };
    assert_eq!(number, POLYIPC_VERSION_NUMBER, "library {version:?}");
    assert_eq!(version.to_bytes_with_nul(), POLYIPC_VERSION_STRING);
    let name = unsafe {
        CStr::from_ptr(polyipc_status_name(
            polyipc_status_POLYIPC_ERR_TIMEOUT as i32,
        ))
    };
    assert_eq!(name.to_str().unwrap(), "POLYIPC_ERR_TIMEOUT");
}

#[test]
fn options_init_fills_struct_size() {
    let mut o = std::mem::MaybeUninit::<polyipc_queue_options>::zeroed();
    unsafe { polyipc_queue_options_init(o.as_mut_ptr()) };
    let o = unsafe { o.assume_init() };
    assert_eq!(o.struct_size as usize, size_of::<polyipc_queue_options>());
    assert_eq!(o.mode, 0o600);
}

#[test]
fn sync_options_init_fills_struct_size() {
    let mut o = std::mem::MaybeUninit::<polyipc_sync_options>::zeroed();
    unsafe { polyipc_sync_options_init(o.as_mut_ptr()) };
    let o = unsafe { o.assume_init() };
    assert_eq!(o.struct_size as usize, size_of::<polyipc_sync_options>());
    assert_eq!(o.mode, 0o600);
    assert_eq!(o.ephemeral, 0);
}

#[test]
fn pipe_options_init_fills_struct_size() {
    let mut o = std::mem::MaybeUninit::<polyipc_pipe_options>::zeroed();
    unsafe { polyipc_pipe_options_init(o.as_mut_ptr()) };
    let o = unsafe { o.assume_init() };
    assert_eq!(o.struct_size as usize, size_of::<polyipc_pipe_options>());
    assert_eq!(o.mode, 0o600);
    assert_eq!(o.duplex, 1);
    assert_eq!(o.format, polyipc_format_POLYIPC_FORMAT_JSON);
}

#[test]
fn pool_options_init_fills_struct_size() {
    let mut o = std::mem::MaybeUninit::<polyipc_pool_options>::zeroed();
    unsafe { polyipc_pool_options_init(o.as_mut_ptr()) };
    let o = unsafe { o.assume_init() };
    assert_eq!(o.struct_size as usize, size_of::<polyipc_pool_options>());
    assert_eq!(o.mode, 0o600);
    assert_eq!(o.capacity_bytes, 1 << 20);
    assert_eq!(o.max_tasks, 0);
    assert_eq!(o.result_capacity_bytes, 1 << 20);
}
