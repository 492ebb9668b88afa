// Cargo forwards no link arguments from polyipc-sys, so the rpath to the
// library directory it found (links metadata DEP_POLYIPC_LIB_DIR) is repeated
// here for this crate's own tests and examples.
fn main() {
    println!("cargo:rerun-if-env-changed=DEP_POLYIPC_LIB_DIR");
    if let Ok(dir) = std::env::var("DEP_POLYIPC_LIB_DIR") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}");
    }
}
