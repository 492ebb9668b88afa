// The rpath to the libpolyipc that polyipc-sys linked (DEP_POLYIPC_LIB_DIR),
// so the agent runs without LD_LIBRARY_PATH.
fn main() {
    println!("cargo:rerun-if-env-changed=DEP_POLYIPC_LIB_DIR");
    if let Ok(dir) = std::env::var("DEP_POLYIPC_LIB_DIR") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}");
    }
}
