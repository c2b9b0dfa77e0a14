// SPDX-License-Identifier: Apache-2.0
//! Finds libprovidermux and links it (the `*-sys` convention: only this package links it).
//!
//! Order: `PROVIDERMUX_LIB_DIR` (a directory holding libprovidermux.so; when set it wins, so an
//! explicit choice can override a system-wide install), then `pkg-config --libs --cflags
//! providermux` (set `PKG_CONFIG_PATH=PREFIX/lib/pkgconfig` for an installed prefix; the
//! `pkg-config` binary is run directly: no build dependency), then the linker's default path.
//!
//! Every library directory found is
//! - put in the rpath of this package's own tests (`-Wl,-rpath,DIR`), and
//! - handed to the build scripts of the packages depending on this one (`links =
//!   "providermux"` metadata) as `DEP_PROVIDERMUX_LIB_DIR` and `DEP_PROVIDERMUX_RPATH`
//!   (PATH-style lists), with the header directory as `DEP_PROVIDERMUX_INCLUDE`.
//!
//! Cargo never passes a dependency's link arguments on to the final binary, so a package that
//! builds binaries puts the rpath in with its own build script from `DEP_PROVIDERMUX_RPATH`
//! (the `providermux` crate does for its tests and examples; its README shows the four lines
//! for an application).
//!
//! `PROVIDERMUX_NO_RPATH=1` leaves the rpath out (e.g. for a distribution package).

use std::env;
use std::path::PathBuf;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    for var in [
        "PROVIDERMUX_LIB_DIR",
        "PROVIDERMUX_NO_RPATH",
        "PKG_CONFIG",
        "PKG_CONFIG_PATH",
        "PKG_CONFIG_LIBDIR",
        "PKG_CONFIG_SYSROOT_DIR",
    ] {
        println!("cargo:rerun-if-env-changed={var}");
    }
    // docs.rs builds the documentation without the library: nothing to link.
    if env::var_os("DOCS_RS").is_some() {
        return;
    }

    let mut found = Found::default();
    if let Some(dir) = env::var_os("PROVIDERMUX_LIB_DIR").filter(|d| !d.is_empty()) {
        let dir = PathBuf::from(dir);
        if !dir.is_dir() {
            panic!("PROVIDERMUX_LIB_DIR={} is not a directory", dir.display());
        }
        // PREFIX/lib -> PREFIX/include, when it is there.
        if let Some(include) = dir
            .parent()
            .map(|p| p.join("include"))
            .filter(|i| i.join("providermux.h").is_file())
        {
            found.includes.push(include);
        }
        found.dirs.push(dir);
    } else {
        match pkg_config() {
            Ok(f) => found = f,
            Err(why) => println!(
                "cargo:warning=libprovidermux not located ({why}); set PKG_CONFIG_PATH to \
                 PREFIX/lib/pkgconfig or PROVIDERMUX_LIB_DIR to PREFIX/lib. Trying the \
                 linker's default search path."
            ),
        }
    }
    if !found.libs.iter().any(|l| l == "providermux") {
        found.libs.push("providermux".into());
    }

    let rpath = env::var_os("PROVIDERMUX_NO_RPATH").map_or(true, |v| v.is_empty() || v == "0");
    let dirs: Vec<PathBuf> = found
        .dirs
        .iter()
        .map(|d| d.canonicalize().unwrap_or_else(|_| d.clone()))
        .collect();
    for dir in &dirs {
        println!("cargo:rustc-link-search=native={}", dir.display());
        if rpath {
            println!("cargo:rustc-link-arg=-Wl,-rpath,{}", dir.display());
        }
    }
    for lib in &found.libs {
        println!("cargo:rustc-link-lib=dylib={lib}");
    }
    // `links` metadata for direct dependents' build scripts: DEP_PROVIDERMUX_LIB_DIR,
    // DEP_PROVIDERMUX_RPATH (the same list, absent with PROVIDERMUX_NO_RPATH) and
    // DEP_PROVIDERMUX_INCLUDE.
    if let Ok(joined) = env::join_paths(&dirs) {
        if !dirs.is_empty() {
            println!("cargo:lib_dir={}", joined.to_string_lossy());
            if rpath {
                println!("cargo:rpath={}", joined.to_string_lossy());
            }
        }
    }
    if let Ok(joined) = env::join_paths(&found.includes) {
        if !found.includes.is_empty() {
            println!("cargo:include={}", joined.to_string_lossy());
        }
    }
}

#[derive(Default)]
struct Found {
    dirs: Vec<PathBuf>,
    includes: Vec<PathBuf>,
    libs: Vec<String>,
}

/// Runs `pkg-config --libs --cflags providermux`: its -L dirs, -I dirs and -l names.
fn pkg_config() -> Result<Found, String> {
    let exe = env::var("PKG_CONFIG").unwrap_or_else(|_| "pkg-config".into());
    let out = Command::new(&exe)
        .args(["--libs", "--cflags", "providermux"])
        .output()
        .map_err(|e| format!("cannot run {exe}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{exe} --libs --cflags providermux failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut found = Found::default();
    for token in text.split_whitespace() {
        if let Some(dir) = token.strip_prefix("-L") {
            found.dirs.push(PathBuf::from(dir));
        } else if let Some(dir) = token.strip_prefix("-I") {
            found.includes.push(PathBuf::from(dir));
        } else if let Some(lib) = token.strip_prefix("-l") {
            found.libs.push(lib.to_string());
        }
    }
    Ok(found)
}
