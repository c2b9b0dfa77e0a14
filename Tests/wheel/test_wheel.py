# SPDX-License-Identifier: Apache-2.0
"""The Python distribution as a user gets it (ctest python_wheel, issue 15 item 2).

scripts/build-wheel.sh (the README's command) makes the manylinux wheel from the library this
build made (PROVIDERMUX_LIB: no Swift build); it is installed into a fresh venv in a temp dir and
run from outside the repository with no PROVIDERMUX_LIB, PYTHONPATH or LD_LIBRARY_PATH: it must
load its own stripped library and the libcurl auditwheel bundled, never the system's, and stream
a chat from the fake upstream over loopback. The sdist (python -m build) must carry the Swift
sources and, with no toolchain, stop with a message naming what is missing.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile

import pytest

ROOT = os.environ.get("PMX_SOURCE_DIR") or os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
BINDINGS = os.path.join(ROOT, "bindings", "python")
sys.path[:0] = [os.path.join(ROOT, "Tests", "upstream"), os.path.join(ROOT, "Tests", "python")]
import pip_env  # noqa: E402
from pip_env import clean_env  # noqa: E402
from upstream import FakeUpstream  # noqa: E402

KEY = "sk-test-WHEEL-8c1d2e7a90"


def version():
    with open(os.path.join(ROOT, "abi", "abi.json"), encoding="utf-8") as f:
        v = json.load(f)["version"]
    return "%d.%d.%d" % (v["major"], v["minor"], v["patch"])


def run(args, timeout=300, **kwargs):
    return pip_env.run(args, timeout=timeout, **kwargs)


def library():
    lib = os.environ.get("PROVIDERMUX_LIB")
    if not lib:
        pytest.fail("PROVIDERMUX_LIB must name the built library (ctest sets it)")
    return os.path.realpath(lib)


def readelf(*args):
    return run(["readelf", "--wide"] + list(args)).stdout


def build_id(path):
    match = re.search(r"Build ID: ([0-9a-f]+)", readelf("-n", path))
    assert match, "no build id in %s" % path
    return match.group(1)


def needed(path):
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", readelf("-d", path))


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    result = run([os.path.join(ROOT, "scripts", "build-wheel.sh"), str(out)],
                 env=clean_env(PROVIDERMUX_LIB=library()), cwd=str(out))
    path = result.stdout.strip().splitlines()[-1]
    assert os.path.dirname(path) == str(out) and os.path.isfile(path), result.stdout
    return path


@pytest.fixture(scope="module")
def venv(tmp_path_factory, wheel):
    """A fresh venv outside the repository with the wheel installed offline."""
    path = tmp_path_factory.mktemp("venv") / "env"
    run([sys.executable, "-m", "venv", str(path)], env=clean_env())
    python = str(path / "bin" / "python")
    run([python, "-m", "pip", "install", "-q", wheel], env=clean_env())
    site = run([python, "-I", "-c", "import sysconfig; print(sysconfig.get_paths()['platlib'])"],
               env=clean_env()).stdout.strip()
    return python, os.path.realpath(site)


def test_wheel_is_manylinux_and_bundles_libcurl(wheel):
    name = os.path.basename(wheel)
    assert re.match(r"providermux-%s-py3-none-manylinux_2_\d+_x86_64\.whl$" % re.escape(version()),
                    name), name
    shown = " ".join(run([sys.executable, "-m", "auditwheel", "show", wheel]).stdout.split())
    assert re.search(r'consistent with the following platform tag: "manylinux_2_\d+_x86_64"',
                     shown), shown
    with zipfile.ZipFile(wheel) as whl:
        names = whl.namelist()
    bundled = [n for n in names if n.startswith("providermux.libs/")]
    assert any(re.match(r"providermux\.libs/libcurl-[0-9a-f]+\.so", n) for n in bundled), bundled
    assert not any("jansson" in n for n in names), "the library does not use jansson"


def test_wheel_library_is_the_given_one_stripped(wheel, tmp_path):
    with zipfile.ZipFile(wheel) as whl:
        native = whl.extract("providermux/_native/libprovidermux.so.0", str(tmp_path))
        info = whl.getinfo("providermux/_native/libprovidermux.so.0")
    assert (info.external_attr >> 16) & 0o111, "not executable"
    given = library()
    assert build_id(native) == build_id(given)
    sections = readelf("-S", native)
    assert ".symtab" in readelf("-S", given) and ".symtab" not in sections, "not stripped"
    assert not re.search(r"\.debug_", sections), "debug info left"
    assert os.path.getsize(native) < os.path.getsize(given) * 0.75
    assert re.search(r"\bpmx_router_stream\b", readelf("--dyn-syms", native)), \
        "the exported functions must survive the strip"


def test_wheel_metadata_license_and_version(wheel):
    dist = "providermux-%s.dist-info/" % version()
    with zipfile.ZipFile(wheel) as whl:
        metadata = whl.read(dist + "METADATA").decode()
        license_text = whl.read(dist + "licenses/LICENSE")
    assert "\nVersion: %s\n" % version() in metadata
    assert "\nLicense-Expression: Apache-2.0\n" in metadata
    assert "\nLicense-File: LICENSE\n" in metadata
    with open(os.path.join(ROOT, "LICENSE"), "rb") as f:
        assert license_text == f.read()
    # The release check knows the wheel too (one version, one license).
    run([sys.executable, os.path.join(ROOT, "scripts", "check-release.py"), "--root", ROOT,
         "--wheel", wheel])


INSTALLED_SCRIPT = r"""
import json, sys
import providermux
config = {"providers": [{"name": "w", "type": "openai-compatible", "base_url": sys.argv[1],
                         "api_key": sys.argv[2]}]}
with providermux.Router(config) as router:
    events = list(router.stream({"model": "fake-small",
                                 "messages": [{"role": "user", "content": "hello from the wheel"}]}))
maps = sorted({line.split()[-1] for line in open("/proc/self/maps") if ".so" in line})
print(json.dumps({"library_path": providermux.library_path, "file": providermux.__file__,
                  "maps": maps, "types": [e["type"] for e in events],
                  "text": "".join(e.content or "" for e in events if e.type == "delta")}))
"""


def test_installed_wheel_streams_over_loopback_with_its_own_libcurl(venv, tmp_path):
    python, site = venv
    with FakeUpstream() as up:
        result = run([python, "-I", "-c", INSTALLED_SCRIPT, up.base("w"), KEY],
                     env=clean_env(), cwd=str(tmp_path), timeout=120)
        requests = up.requests("w")
    info = json.loads(result.stdout)
    assert info["text"] == "echo: hello from the wheel"
    assert info["types"][0] == "start" and info["types"][-1] == "done", info["types"]
    assert [r["path"] for r in requests] == ["/w/v1/chat/completions"]
    assert requests[0]["json"]["stream"] is True
    assert os.path.realpath(info["file"]).startswith(site + os.sep), info["file"]
    own = os.path.join(site, "providermux", "_native", "libprovidermux.so.0")
    assert os.path.realpath(info["library_path"]) == own
    maps = [os.path.realpath(p) for p in info["maps"]]
    curl = [p for p in maps if "libcurl" in os.path.basename(p)]
    assert curl and all(p.startswith(os.path.join(site, "providermux.libs") + os.sep)
                        for p in curl), curl
    system = [p for p in maps if not p.startswith(site + os.sep) and
              re.search(r"/lib(curl|jansson|nghttp2)[.-]", p)]
    assert system == [], "system libraries loaded: %s" % system
    # curl's TLS library is the bundled one too (the interpreter's own _ssl/_hashlib may load
    # the system's OpenSSL beside it, privately: extension modules are dlopen'ed RTLD_LOCAL).
    assert any(re.match(r"libssl-[0-9a-f]+\.so", os.path.basename(p)) for p in maps), maps


def test_installed_library_needs_no_system_libcurl_or_jansson(venv):
    _python, site = venv
    lib = os.path.join(site, "providermux", "_native", "libprovidermux.so.0")
    entries = needed(lib)
    assert any(re.match(r"libcurl-[0-9a-f]+\.so", n) for n in entries), entries
    assert not any(n.startswith(("libcurl.so", "libjansson")) for n in entries), entries
    for name in entries:
        if not name.startswith(("libc.so", "libm.so", "libstdc++", "libgcc_s", "ld-linux")):
            assert os.path.isfile(os.path.join(site, "providermux.libs", name)), name
    assert "$ORIGIN/../../providermux.libs" in readelf("-d", lib)


# -- the sdist -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def built_by_build(tmp_path_factory):
    """`python -m build` (sdist, then the wheel from the unpacked sdist) with the given library."""
    out = tmp_path_factory.mktemp("build")
    run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), BINDINGS],
        env=clean_env(PROVIDERMUX_LIB=library()), cwd=str(out))
    sdists = sorted(out.glob("providermux-*.tar.gz"))
    wheels = sorted(out.glob("providermux-*.whl"))
    assert len(sdists) == 1 and len(wheels) == 1, os.listdir(str(out))
    return str(sdists[0]), str(wheels[0])


def test_sdist_carries_what_the_library_build_needs(built_by_build):
    sdist, wheel = built_by_build
    base = "providermux-%s/" % version()
    with tarfile.open(sdist) as tar:
        names = set(tar.getnames())
        pkg_info = tar.extractfile(base + "PKG-INFO").read().decode()
        with open(os.path.join(ROOT, "LICENSE"), "rb") as f:
            assert tar.extractfile(base + "LICENSE").read() == f.read()
    for name in ("pyproject.toml", "hatch_build.py", "providermux/__init__.py",
                 "native/Package.swift", "native/include/providermux.h",
                 "native/scripts/build-lib.sh", "native/Sources/ProviderMux/exports.map"):
        assert base + name in names, name
    for folder in os.listdir(os.path.join(ROOT, "Sources")):  # every target of Package.swift
        assert any(n.startswith(base + "native/Sources/%s/" % folder) for n in names), folder
    assert "\nLicense-Expression: Apache-2.0\n" in pkg_info
    assert "\nVersion: %s\n" % version() in pkg_info
    assert not any("__pycache__" in n or "/_native/" in n for n in names)
    # The wheel built from the unpacked sdist took the given library too.
    with zipfile.ZipFile(wheel) as whl:
        native = whl.extract("providermux/_native/libprovidermux.so.0",
                             os.path.dirname(wheel) + "/x")
    assert build_id(native) == build_id(library())


def path_without_swift():
    return os.pathsep.join(d for d in os.environ.get("PATH", "").split(os.pathsep)
                           if d and not os.path.exists(os.path.join(d, "swift")))


def test_sdist_without_swift_says_what_is_missing(built_by_build, tmp_path):
    """No library given, none installed, no toolchain: the build stops and names swift."""
    with tarfile.open(built_by_build[0]) as tar:
        tar.extractall(str(tmp_path / "a" / "b"))
    src = tmp_path / "a" / "b" / ("providermux-%s" % version())
    empty = tmp_path / "empty"
    empty.mkdir()
    env = clean_env(PATH=path_without_swift(), PKG_CONFIG_PATH=str(empty),
                    PKG_CONFIG_LIBDIR=str(empty))  # hides an installed providermux.pc
    result = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps",
                             "--no-build-isolation", "-w", str(tmp_path / "out"), str(src)],
                            capture_output=True, text=True, timeout=300, env=env,
                            cwd=str(tmp_path))
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "cannot build libprovidermux from source" in output, output
    assert "`swift` is not on PATH" in output, output
    assert "PROVIDERMUX_LIB" in output, output
    assert "<curl/curl.h> not found" not in output, "the headers are installed here"
    assert not (tmp_path / "out").exists() or not os.listdir(str(tmp_path / "out"))


def test_missing_prerequisites_names_each_piece(tmp_path):
    sys.path.insert(0, BINDINGS)
    try:
        import hatch_build
    finally:
        sys.path.remove(BINDINGS)
    missing = hatch_build.missing_prerequisites(path=str(tmp_path), header_dirs=[str(tmp_path)])
    assert len(missing) == 3, missing
    assert "`swift` is not on PATH" in missing[0]
    assert "<curl/curl.h> not found" in missing[1] and "libcurl4-openssl-dev" in missing[1]
    assert "<hiredis/hiredis.h> not found" in missing[2] and "libhiredis-dev" in missing[2]
    for header in ("curl/curl.h", "hiredis/hiredis.h"):
        (tmp_path / header).parent.mkdir(exist_ok=True)
        (tmp_path / header).write_text("")
    swift = tmp_path / "swift"
    swift.write_text("#!/bin/sh\n")
    swift.chmod(0o755)
    assert hatch_build.missing_prerequisites(path=str(tmp_path), header_dirs=[str(tmp_path)]) == []
