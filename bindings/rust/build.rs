//! Finds libprovidermux for linking.
//!
//! Order: `PROVIDERMUX_LIB_DIR` (a directory holding libprovidermux.so; final when set), then
//! `pkg-config --libs --cflags providermux` (the `pkg-config` binary, run through
//! std::process::Command: no build dependency). Every library directory found is also put in
//! the rpath of this package's binaries, tests and examples (`-Wl,-rpath,DIR`), so they run
//! without LD_LIBRARY_PATH; set `PROVIDERMUX_NO_RPATH=1` to leave the rpath out.

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

    let mut dirs: Vec<PathBuf> = Vec::new();
    let mut libs: Vec<String> = Vec::new();

    if let Some(dir) = env::var_os("PROVIDERMUX_LIB_DIR").filter(|d| !d.is_empty()) {
        let dir = PathBuf::from(dir);
        if !dir.is_dir() {
            panic!("PROVIDERMUX_LIB_DIR={} is not a directory", dir.display());
        }
        dirs.push(dir);
        libs.push("providermux".into());
    } else {
        match pkg_config() {
            Ok((d, l)) => {
                dirs = d;
                libs = l;
            }
            Err(why) => {
                println!(
                    "cargo:warning=libprovidermux not located ({why}); set PKG_CONFIG_PATH to \
                     PREFIX/lib/pkgconfig or PROVIDERMUX_LIB_DIR to PREFIX/lib. Trying the \
                     linker's default search path."
                );
            }
        }
    }
    if !libs.iter().any(|l| l == "providermux") {
        libs.push("providermux".into());
    }

    let rpath = env::var_os("PROVIDERMUX_NO_RPATH").map_or(true, |v| v.is_empty() || v == "0");
    for dir in &dirs {
        let dir = dir.canonicalize().unwrap_or_else(|_| dir.clone());
        println!("cargo:rustc-link-search=native={}", dir.display());
        if rpath {
            println!("cargo:rustc-link-arg=-Wl,-rpath,{}", dir.display());
        }
        // Exposed to dependents' build scripts as DEP_PROVIDERMUX_LIB_DIR (links = "providermux").
        println!("cargo:lib_dir={}", dir.display());
    }
    for lib in &libs {
        println!("cargo:rustc-link-lib=dylib={lib}");
    }
}

/// Runs `pkg-config --libs --cflags providermux` and returns (-L dirs, -l names).
fn pkg_config() -> Result<(Vec<PathBuf>, Vec<String>), String> {
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
    let mut dirs = Vec::new();
    let mut libs = Vec::new();
    for token in text.split_whitespace() {
        if let Some(dir) = token.strip_prefix("-L") {
            dirs.push(PathBuf::from(dir));
        } else if let Some(lib) = token.strip_prefix("-l") {
            libs.push(lib.to_string());
        }
    }
    Ok((dirs, libs))
}
