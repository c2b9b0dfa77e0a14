# SPDX-License-Identifier: Apache-2.0
"""Hatchling build hook: the native library goes into the wheel, stripped.

hatchling builds the package (metadata, license, sdist, editable installs); this hook only adds
``providermux/_native/libprovidermux.so.0`` to a regular wheel and tags the wheel for this
platform (``py3-none-linux_x86_64``: ctypes, so any Python 3; scripts/build-wheel.sh then
turns it into a manylinux wheel with auditwheel). The library is taken from the first of:

1. ``PROVIDERMUX_LIB``: that file (an already built library: no Swift build);
2. the checkout's build tree: ``../../build/lib/libprovidermux.so.0`` (or ``.so``), when
   ``../..`` is the checkout (has Package.swift);
3. an installed tree: ``pkg-config --variable=libdir providermux`` (PKG_CONFIG_PATH applies);
4. a build from source with ``scripts/build-lib.sh``: in the sdist's ``native/`` copy of the
   Swift package, else in the checkout. Unless ``PROVIDERMUX_NO_BUILD`` is set; when the
   toolchain or a header is missing, the build stops and names each missing piece.

Paths are relative to this project directory (bindings/python, or the unpacked sdist). The copy
is stripped (``strip --strip-unneeded``: the dynamic symbol table, all ctypes needs, stays): the
symbols and debug info are more than half of the release library's size.
"""

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

# BEGIN GENERATED abi:python-backend-soname (scripts/gen-abi-tables.py from abi/abi.json: edit the table, not this)
SONAME = "libprovidermux.so.0"
# END GENERATED abi:python-backend-soname
NATIVE = "providermux/_native/" + SONAME
NAMES = (SONAME, "libprovidermux.so")
# Headers the Swift build compiles against: (header, pkg-config name, Debian package). jansson is
# not one: the library parses JSON itself, only the Swift tests link jansson (Package.swift).
# hiredis's headers are (Sources/CHiredis); its library is loaded at run time, only by a router
# configured with "shared", so the wheel needs nothing of it.
HEADERS = (("curl/curl.h", "libcurl", "libcurl4-openssl-dev"), ("hiredis/hiredis.h", "hiredis", "libhiredis-dev"))


def log(message):
    print("providermux build: " + message, file=sys.stderr, flush=True)


def is_elf(path):
    with open(path, "rb") as f:
        return f.read(4) == b"\x7fELF"


def source_tree(project):
    """The Swift package to build from: the sdist's native/ copy, else the checkout (../..)."""
    for tree in (os.path.join(project, "native"), os.path.dirname(os.path.dirname(project))):
        if os.path.isfile(os.path.join(tree, "Package.swift")) and \
                os.path.isfile(os.path.join(tree, "scripts", "build-lib.sh")):
            return tree
    return None


def _pkg_config(*args):
    try:
        return subprocess.run(["pkg-config"] + list(args), capture_output=True, text=True,
                              timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def include_dirs(package):
    """Where the compiler looks for PACKAGE's headers: pkg-config's -I flags, then the system's."""
    dirs = [flag[2:] for flag in _pkg_config("--cflags-only-I", package).split()
            if flag.startswith("-I")]
    multiarch = sysconfig.get_config_var("MULTIARCH")
    dirs += ["/usr/local/include", "/usr/include"]
    if multiarch:  # Debian keeps curl/curl.h under /usr/include/x86_64-linux-gnu
        dirs.append("/usr/include/" + multiarch)
    return dirs


def missing_prerequisites(path=None, header_dirs=None):
    """What a build from source lacks, one phrase each (empty: nothing). ``path`` is the PATH to
    search for swift, ``header_dirs`` replaces the include search (both for tests)."""
    missing = []
    if shutil.which("swift", path=path) is None:
        missing.append("the Swift toolchain: `swift` is not on PATH (Swift 6.1 or newer)")
    for header, package, debian in HEADERS:
        dirs = include_dirs(package) if header_dirs is None else header_dirs
        if not any(os.path.isfile(os.path.join(d, header)) for d in dirs):
            missing.append("the %s development headers: <%s> not found (Debian/Ubuntu: apt-get "
                           "install %s)" % (package, header, debian))
    return missing


def build_from_source(tree, out):
    missing = missing_prerequisites()
    if missing:
        raise RuntimeError(
            "cannot build libprovidermux from source in %s, missing: %s. Install what is "
            "missing, or set PROVIDERMUX_LIB to an already built libprovidermux.so.0"
            % (tree, "; ".join(missing)))
    log("no library given: building it from source in %s (Swift, release: minutes)" % tree)
    # The sdist leaves the Swift tests out (the library does not need them), but SwiftPM stops
    # on a test target whose folder is missing: an empty one stands in for each.
    with open(os.path.join(tree, "Package.swift"), encoding="utf-8") as f:
        for name in re.findall(r'\.testTarget\(\s*name:\s*"([^"]+)"', f.read()):
            os.makedirs(os.path.join(tree, "Tests", name), exist_ok=True)
    subprocess.run(["bash", os.path.join(tree, "scripts", "build-lib.sh"), out], check=True,
                   stdout=sys.stderr)
    return os.path.join(out, SONAME)


def find_library(project, scratch):
    """(the library to ship, a real file; where it came from)."""
    explicit = os.environ.get("PROVIDERMUX_LIB")
    if explicit:
        if not os.path.isfile(explicit):
            raise RuntimeError("PROVIDERMUX_LIB: no such file: %s" % explicit)
        return os.path.realpath(explicit), "PROVIDERMUX_LIB"
    repo = os.path.dirname(os.path.dirname(project))
    # Only a checkout's build tree: an unpacked sdist's ../.. is any folder (pip's temp dir).
    in_checkout = os.path.isfile(os.path.join(repo, "Package.swift"))
    for name in NAMES if in_checkout else ():
        path = os.path.join(repo, "build", "lib", name)
        if os.path.isfile(path):
            return os.path.realpath(path), "the build tree"
    libdir = _pkg_config("--variable=libdir", "providermux")
    for name in NAMES if libdir else ():
        path = os.path.join(libdir, name)
        if os.path.isfile(path):
            return os.path.realpath(path), "pkg-config"
    tree = source_tree(project)
    if tree is not None and not os.environ.get("PROVIDERMUX_NO_BUILD"):
        return os.path.realpath(build_from_source(tree, scratch)), "a build from source"
    raise RuntimeError(
        "libprovidermux not found: set PROVIDERMUX_LIB to libprovidermux.so.0, build the "
        "repository (build/lib), or make `pkg-config --variable=libdir providermux` find it%s"
        % ("" if tree else " (no Swift sources here to build it from: the sdist has them)"))


def stripped_copy(library, out):
    """A copy of the library without its symbol table and debug info."""
    strip = shutil.which("strip")
    if strip is None:
        log("`strip` not found (binutils): the library goes in unstripped")
        shutil.copyfile(library, out)
    else:
        subprocess.run([strip, "--strip-unneeded", "-o", out, library], check=True)
    os.chmod(out, 0o755)
    return out


def platform_tag():
    return "py3-none-" + sysconfig.get_platform().replace("-", "_").replace(".", "_")


class ProviderMuxBuildHook(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version, build_data):
        # An editable install (pip install -e) ships no library: it is found at run time
        # (PROVIDERMUX_LIB, the build tree, then the system), as providermux/_lib.py says.
        if self.target_name != "wheel" or version == "editable":
            return
        self._scratch = tempfile.mkdtemp(prefix="providermux-build-")
        library, source = find_library(self.root, os.path.join(self._scratch, "lib"))
        if not is_elf(library):
            raise RuntimeError("%s is not an ELF shared library" % library)
        shipped = stripped_copy(library, os.path.join(self._scratch, SONAME))
        log("shipping %s (from %s) as %s, stripped: %d -> %d bytes" % (
            library, source, NATIVE, os.path.getsize(library), os.path.getsize(shipped)))
        build_data["pure_python"] = False
        build_data["tag"] = platform_tag()
        build_data["force_include"][shipped] = NATIVE

    def finalize(self, version, build_data, artifact_path):
        scratch = getattr(self, "_scratch", None)
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)
