// SPDX-License-Identifier: Apache-2.0
// The rpath of an application's binary: the library directory providermux-sys found.
fn main() {
    if let Some(dirs) = std::env::var_os("DEP_PROVIDERMUX_RPATH") {
        for dir in std::env::split_paths(&dirs) {
            println!("cargo:rustc-link-arg=-Wl,-rpath,{}", dir.display());
        }
    }
}
