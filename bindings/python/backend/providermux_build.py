# SPDX-License-Identifier: Apache-2.0
"""In-tree PEP 517 / PEP 660 build backend for the ``providermux`` wheel (standard library only).

No setuptools, no wheel package, nothing fetched: ``pip install ./bindings/python`` works
offline in a fresh venv. The wheel carries the Python package and a copy of the native library
as ``providermux/_native/libprovidermux.so.0`` (symlinks resolved), taken from, in order:

1. ``PROVIDERMUX_LIB`` (environment) or ``-C lib=PATH`` (pip ``--config-settings``): that file;
2. the repository's build tree: ``../../build/lib/libprovidermux.so*``;
3. an installed tree: ``pkg-config --variable=libdir providermux`` (PKG_CONFIG_PATH applies);
4. a fresh build: ``../../scripts/build-lib.sh TMPDIR`` (slow: Swift, release mode), unless
   ``PROVIDERMUX_NO_BUILD`` is set.

Paths 2 and 4 are relative to this project directory (bindings/python), the working directory
of every hook. The wheel is tagged ``py3-none-<platform>`` (the library is native code that
links the system's libcurl; it parses JSON itself).
"""

import base64
import hashlib
import io
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import tempfile
import zipfile

NAME = "providermux"
# BEGIN GENERATED abi:python-backend-soname (scripts/gen-abi-tables.py from abi/abi.json: edit the table, not this)
SONAME = "libprovidermux.so.0"
# END GENERATED abi:python-backend-soname
NATIVE = NAME + "/_native/" + SONAME
_EPOCH = (1980, 1, 1, 0, 0, 0)  # fixed timestamps: the same inputs give the same wheel


def _project():
    return os.path.abspath(os.getcwd())


def _version():
    with open(os.path.join(_project(), NAME, "_version.py"), encoding="utf-8") as f:
        return re.search(r'__version__\s*=\s*"([^"]+)"', f.read()).group(1)


def _dist_info():
    return "%s-%s.dist-info" % (NAME, _version())


def _log(message):
    print("providermux_build: " + message, file=sys.stderr, flush=True)


def _metadata():
    with open(os.path.join(_project(), "pyproject.toml"), encoding="utf-8") as f:
        pyproject = f.read()

    def field(key):  # `key = "value"` in [project]; tomllib is not in every supported Python
        match = re.search(r'(?m)^%s\s*=\s*"([^"]*)"' % re.escape(key), pyproject)
        return match.group(1) if match else ""

    lines = ["Metadata-Version: 2.1", "Name: " + NAME, "Version: " + _version(),
             "Summary: " + field("description"), "License: " + field("license"),
             "Requires-Python: " + field("requires-python")]
    lines += ["Classifier: " + c for c in re.findall(r'(?m)^\s*"([A-Z][^"]* :: [^"]*)",?$',
                                                       pyproject)]
    readme = os.path.join(_project(), "README.md")
    body = ""
    if os.path.exists(readme):
        lines.append("Description-Content-Type: text/markdown")
        with open(readme, encoding="utf-8") as f:
            body = f.read()
    return ("\n".join(lines) + "\n\n" + body).encode("utf-8")


def _license_file():
    """The license text: this directory's copy of the repository's LICENSE (ctest
    release_metadata keeps them identical), so that an unpacked sdist has it too."""
    return os.path.join(_project(), "LICENSE")


def _tag(editable=False):
    if editable:
        return "py3-none-any"
    return "py3-none-" + re.sub(r"[-.]", "_", sysconfig.get_platform())


def _wheel_file(tag):
    return ("Wheel-Version: 1.0\nGenerator: providermux_build\nRoot-Is-Purelib: %s\nTag: %s\n"
            % ("true" if tag.endswith("-any") else "false", tag)).encode("utf-8")


def _package_files():
    """(archive name, path) of the Python package's files, without caches or a stray _native."""
    base = os.path.join(_project(), NAME)
    for folder, dirs, files in os.walk(base):
        dirs[:] = sorted(d for d in dirs if d not in ("__pycache__", "_native"))
        for name in sorted(files):
            if not name.endswith((".pyc", ".pyo")):
                path = os.path.join(folder, name)
                yield os.path.relpath(path, _project()).replace(os.sep, "/"), path


def _is_elf(path):
    with open(path, "rb") as f:
        return f.read(4) == b"\x7fELF"


def _find_library(config_settings, scratch):
    """The native library to ship (a real file) and where it came from."""
    setting = (config_settings or {}).get("lib")
    explicit = setting or os.environ.get("PROVIDERMUX_LIB")
    if explicit:
        if not os.path.isfile(explicit):
            raise RuntimeError("PROVIDERMUX_LIB / -C lib=: no such file: %s" % explicit)
        return os.path.realpath(explicit), "-C lib=" if setting else "PROVIDERMUX_LIB"
    repo = os.path.dirname(os.path.dirname(_project()))
    names = (SONAME, "libprovidermux.so")
    for name in names:
        path = os.path.join(repo, "build", "lib", name)
        if os.path.isfile(path):
            return os.path.realpath(path), "the build tree"
    try:
        libdir = subprocess.run(["pkg-config", "--variable=libdir", NAME], capture_output=True,
                                text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        libdir = ""
    for name in names if libdir else ():
        path = os.path.join(libdir, name)
        if os.path.isfile(path):
            return os.path.realpath(path), "pkg-config"
    script = os.path.join(repo, "scripts", "build-lib.sh")
    if os.path.isfile(script) and not os.environ.get("PROVIDERMUX_NO_BUILD"):
        _log("no library found: building it with %s (slow)" % script)
        subprocess.run(["bash", script, scratch], check=True, stdout=sys.stderr)
        return os.path.realpath(os.path.join(scratch, SONAME)), "scripts/build-lib.sh"
    raise RuntimeError(
        "libprovidermux not found: set PROVIDERMUX_LIB to libprovidermux.so.0, build the "
        "repository (build/lib), or make `pkg-config --variable=libdir providermux` find it")


def _write_wheel(directory, tag, entries):
    """entries: (archive name, bytes or file path, executable). Adds the dist-info files."""
    dist_info = _dist_info()
    name = "%s-%s-%s.whl" % (NAME, _version(), tag)
    entries = list(entries) + [(dist_info + "/METADATA", _metadata(), False),
                               (dist_info + "/LICENSE", _license_file(), False),
                               (dist_info + "/WHEEL", _wheel_file(tag), False)]
    record = []
    with zipfile.ZipFile(os.path.join(directory, name), "w", zipfile.ZIP_DEFLATED) as whl:
        for arcname, content, executable in entries:
            if not isinstance(content, bytes):
                with open(content, "rb") as f:
                    content = f.read()
            info = zipfile.ZipInfo(arcname, _EPOCH)
            info.external_attr = (0o100755 if executable else 0o100644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            whl.writestr(info, content)
            digest = base64.urlsafe_b64encode(hashlib.sha256(content).digest()).rstrip(b"=")
            record.append("%s,sha256=%s,%d" % (arcname, digest.decode("ascii"), len(content)))
        record.append(dist_info + "/RECORD,,")
        info = zipfile.ZipInfo(dist_info + "/RECORD", _EPOCH)
        info.external_attr = 0o100644 << 16
        whl.writestr(info, ("\n".join(record) + "\n").encode("utf-8"), zipfile.ZIP_DEFLATED)
    return name


# -- PEP 517 hooks -------------------------------------------------------------------------

def get_requires_for_build_wheel(config_settings=None):
    return []


get_requires_for_build_sdist = get_requires_for_build_editable = get_requires_for_build_wheel


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    path = os.path.join(metadata_directory, _dist_info())
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, "METADATA"), "wb") as f:
        f.write(_metadata())
    with open(os.path.join(path, "WHEEL"), "wb") as f:
        f.write(_wheel_file(_tag()))
    return _dist_info()


def prepare_metadata_for_build_editable(metadata_directory, config_settings=None):
    return prepare_metadata_for_build_wheel(metadata_directory, config_settings)


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    scratch = tempfile.mkdtemp(prefix="providermux-build-")
    try:
        library, source = _find_library(config_settings, scratch)
        if not _is_elf(library):
            raise RuntimeError("%s is not an ELF shared library" % library)
        _log("shipping %s (from %s) as %s" % (library, source, NATIVE))
        entries = [(arc, path, False) for arc, path in _package_files()]
        entries.append((NATIVE, library, True))
        return _write_wheel(wheel_directory, _tag(), entries)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    """``pip install -e``: a .pth file puts this directory on sys.path; no library is copied
    (it is found at run time: PROVIDERMUX_LIB, the build tree, then the system)."""
    pth = ("%s\n" % _project()).encode("utf-8")
    return _write_wheel(wheel_directory, _tag(editable=True),
                        [("__editable__.%s.pth" % NAME, pth, False)])


def build_sdist(sdist_directory, config_settings=None):
    """The sources only: building a wheel from it needs PROVIDERMUX_LIB or pkg-config."""
    base = "%s-%s" % (NAME, _version())
    name = base + ".tar.gz"
    files = [("pyproject.toml", os.path.join(_project(), "pyproject.toml")),
             ("README.md", os.path.join(_project(), "README.md")),
             ("LICENSE", _license_file()),
             ("backend/providermux_build.py", os.path.abspath(__file__))]
    files += list(_package_files())
    with tarfile.open(os.path.join(sdist_directory, name), "w:gz", format=tarfile.PAX_FORMAT) as tar:
        def add(arcname, data):
            info = tarfile.TarInfo(base + "/" + arcname)
            info.size, info.mode, info.mtime = len(data), 0o644, 315532800
            tar.addfile(info, io.BytesIO(data))
        for arcname, path in files:
            if os.path.exists(path):
                with open(path, "rb") as f:
                    add(arcname, f.read())
        add("PKG-INFO", _metadata())
    return name
