//! Finds libpolyipc.so and tells rustc to link it dynamically.
//!
//! Order: `POLYIPC_LIB_DIR` when set (ctest sets it to the CMake build's
//! library dir, so tests never pick up an installed copy by accident), else
//! `pkg-config polyipc`, else the linker's default search path.
//!
//! A directory found either way is also passed on as links metadata
//! (`DEP_POLYIPC_LIB_DIR` for direct dependents) and as an rpath for this
//! crate's own tests. Cargo does not forward link arguments to dependents, so
//! a dependent that wants the rpath too emits it from its build script (the
//! safe crate `polyipc` does).
use std::env;
use std::path::PathBuf;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=POLYIPC_LIB_DIR");
    println!("cargo:rerun-if-env-changed=PKG_CONFIG_PATH");

    let dirs = match env::var_os("POLYIPC_LIB_DIR").filter(|d| !d.is_empty()) {
        Some(dir) => {
            let dir = PathBuf::from(dir);
            if !dir.join("libpolyipc.so").exists() && !dir.join("libpolyipc.so.0").exists() {
                println!(
                    "cargo:warning=POLYIPC_LIB_DIR={} holds no libpolyipc.so; linking will likely fail",
                    dir.display()
                );
            }
            vec![dir]
        }
        None => match pkg_config_lib_dirs() {
            Some(dirs) => dirs,
            None => {
                println!(
                    "cargo:warning=polyipc-sys: neither POLYIPC_LIB_DIR nor `pkg-config polyipc` \
                     found libpolyipc; relying on the linker's default search path"
                );
                Vec::new()
            }
        },
    };

    for dir in &dirs {
        println!("cargo:rustc-link-search=native={}", dir.display());
        println!("cargo:rustc-link-arg=-Wl,-rpath,{}", dir.display());
    }
    if let Some(first) = dirs.first() {
        println!("cargo:lib_dir={}", first.display());
    }
    println!("cargo:rustc-link-lib=dylib=polyipc");
}

/// The `-L` directories of `pkg-config --libs polyipc` (possibly none, when
/// the library sits in a default path), or None when pkg-config or its
/// polyipc.pc is missing.
fn pkg_config_lib_dirs() -> Option<Vec<PathBuf>> {
    let pkg_config = env::var("PKG_CONFIG").unwrap_or_else(|_| "pkg-config".to_string());
    let out = Command::new(pkg_config)
        .args(["--libs-only-L", "polyipc"])
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?;
    Some(
        text.split_whitespace()
            .filter_map(|a| a.strip_prefix("-L"))
            .map(PathBuf::from)
            .collect(),
    )
}
