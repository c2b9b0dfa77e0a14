// SPDX-License-Identifier: Apache-2.0
//! Puts the library directory that providermux-sys found (DEP_PROVIDERMUX_RPATH, from its
//! `links = "providermux"` metadata) in the rpath of this package's tests and examples, so they
//! run without LD_LIBRARY_PATH. Cargo applies a build script's link arguments to its own
//! package's binaries only, so an application does the same in its own build.rs (README).
fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if let Some(dirs) = std::env::var_os("DEP_PROVIDERMUX_RPATH") {
        for dir in std::env::split_paths(&dirs) {
            println!("cargo:rustc-link-arg=-Wl,-rpath,{}", dir.display());
        }
    }
}
