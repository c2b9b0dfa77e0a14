#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Release metadata: one version everywhere, one license everywhere (ctest release_metadata).

    python3 scripts/check-release.py [--root DIR]   # exit 1 listing every drift
    python3 scripts/check-release.py --self-test    # plants each drift in a copy, checks it is caught
    python3 scripts/check-release.py --wheel WHL    # a built wheel's version and license metadata

The version's one source is abi/abi.json. The copies scripts/gen-abi-tables.py writes (header,
Swift, Python, Rust) are checked by ctest abi_tables; this script checks the places a generator
cannot own: the newest release in CHANGELOG.md, the versioned file names in README.md, that
CMake, pkg-config and the Python package read the version instead of spelling it, and that
every package declares the license of LICENSE (Apache-2.0) and ships its text where the
package is published on its own (the Go module and the Python project live in subdirectories:
each has its own copy).
Only python3 is needed.
"""

import argparse
import json
import os
import re
import shutil
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LICENSE_ID = "Apache-2.0"
LICENSE_FIRST_LINE = "Apache License"


def read(root, path):
    with open(os.path.join(root, path), encoding="utf-8") as f:
        return f.read()


def version(root):
    v = json.loads(read(root, "abi/abi.json"))["version"]
    return "%d.%d.%d" % (v["major"], v["minor"], v["patch"])


def check_version(root, problems):
    want = version(root)
    changelog = read(root, "CHANGELOG.md")
    if not re.search(r"(?m)^## \[Unreleased\]", changelog):
        problems.append("CHANGELOG.md: no '## [Unreleased]' section")
    releases = re.findall(r"(?m)^## \[(\d+\.\d+\.\d+)\]", changelog)
    if not releases or releases[0] != want:
        problems.append("CHANGELOG.md: newest release is %s, abi/abi.json says %s (add its section)"
                        % (releases[0] if releases else "missing", want))
    for found in sorted(set(re.findall(r"libprovidermux\.so\.(\d+\.\d+\.\d+)", read(root, "README.md")))):
        if found != want:
            problems.append("README.md: names libprovidermux.so.%s, the version is %s" % (found, want))
    # Places that must read the version, never spell it.
    cmake = read(root, "CMakeLists.txt")
    if not re.search(r'string\(JSON _pmx_\$\{_part\} GET "\$\{_pmx_abi_table\}" version', cmake) \
            or "project(providermux VERSION ${_pmx_major}.${_pmx_minor}.${_pmx_patch}" not in cmake:
        problems.append("CMakeLists.txt: project() must take its VERSION from abi/abi.json")
    if "Version: @PROJECT_VERSION@" not in read(root, "cmake/providermux.pc.in"):
        problems.append("cmake/providermux.pc.in: Version must be @PROJECT_VERSION@")
    pyproject = read(root, "bindings/python/pyproject.toml")
    if not re.search(r'(?m)^dynamic\s*=\s*\[[^\]]*"version"', pyproject) \
            or re.search(r'(?m)^version\s*=', pyproject):
        problems.append("bindings/python/pyproject.toml: the version must be dynamic "
                        "(providermux/_version.py, generated from abi/abi.json)")
    if not re.search(r'(?m)^\[tool\.hatch\.version\]\s*\npath\s*=\s*"providermux/_version\.py"',
                     pyproject):
        problems.append("bindings/python/pyproject.toml: [tool.hatch.version] must read "
                        "providermux/_version.py")


def check_license(root, problems):
    text = read(root, "LICENSE")
    if not any(LICENSE_FIRST_LINE in line for line in text.splitlines()[:3]):
        problems.append("LICENSE: not the Apache License text")
    for copy in ("bindings/go/LICENSE", "bindings/python/LICENSE",  # published on their own
                 "bindings/rust/providermux/LICENSE", "bindings/rust/providermux-sys/LICENSE"):
        if read(root, copy) != text:
            problems.append("%s: differs from LICENSE (the package ships its own copy)" % copy)
    wanted = {
        "bindings/python/pyproject.toml": r'(?m)^license\s*=\s*"%s"' % re.escape(LICENSE_ID),
        "bindings/rust/providermux/Cargo.toml": r'(?m)^license\s*=\s*"%s"' % re.escape(LICENSE_ID),
        "bindings/rust/providermux-sys/Cargo.toml": r'(?m)^license\s*=\s*"%s"' % re.escape(LICENSE_ID),
        "bindings/go/providermux.go": r"(?m)^// SPDX-License-Identifier: %s|^// Licensed under the %s"
                                      % (re.escape(LICENSE_ID), re.escape(LICENSE_ID)),
        "README.md": r"(?m)^## License\s*\n(?:.*\n){0,3}.*%s" % re.escape(LICENSE_ID),
    }
    for path, pattern in wanted.items():
        if not re.search(pattern, read(root, path)):
            problems.append("%s: no %s license declaration" % (path, LICENSE_ID))
    if not re.search(r'(?m)^license-files\s*=\s*\["LICENSE"\]',
                     read(root, "bindings/python/pyproject.toml")):
        problems.append("bindings/python/pyproject.toml: license-files must be [\"LICENSE\"] "
                        "(the wheel and sdist carry the text)")


def check_wheel(root, path):
    """A built wheel's metadata: the one version, the license expression and the license text
    (scripts/build-wheel.sh's output; ctest python_wheel runs this on it)."""
    import zipfile
    problems = []
    want = version(root)
    with zipfile.ZipFile(path) as whl:
        names = whl.namelist()
        dist = "providermux-%s.dist-info/" % want
        if dist + "METADATA" not in names:
            return ["%s: no %sMETADATA (another version?)" % (path, dist)]
        metadata = whl.read(dist + "METADATA").decode("utf-8")
        license_text = whl.read(dist + "licenses/LICENSE") if dist + "licenses/LICENSE" in names \
            else None
    headers = metadata.split("\n\n", 1)[0].splitlines()
    for line in ("Version: " + want, "License-Expression: " + LICENSE_ID, "License-File: LICENSE"):
        if line not in headers:
            problems.append("%s: METADATA has no '%s'" % (path, line))
    if license_text is None or license_text.decode("utf-8") != read(root, "LICENSE"):
        problems.append("%s: %slicenses/LICENSE is not the repository's LICENSE" % (path, dist))
    return problems


def check(root):
    problems = []
    check_version(root, problems)
    check_license(root, problems)
    return problems


# -- self-test ---------------------------------------------------------------------------------

COPIED = ("abi/abi.json", "CHANGELOG.md", "README.md", "CMakeLists.txt", "cmake/providermux.pc.in",
          "bindings/python/pyproject.toml", "bindings/rust/providermux/Cargo.toml",
          "bindings/rust/providermux-sys/Cargo.toml", "bindings/go/providermux.go",
          "bindings/go/LICENSE", "bindings/python/LICENSE", "bindings/rust/providermux/LICENSE",
          "bindings/rust/providermux-sys/LICENSE", "LICENSE")


def self_test():
    def planted(edit_path, old, new, expect):
        with tempfile.TemporaryDirectory() as tmp:
            for path in COPIED:
                os.makedirs(os.path.dirname(os.path.join(tmp, path)) or tmp, exist_ok=True)
                shutil.copyfile(os.path.join(ROOT, path), os.path.join(tmp, path))
            target = os.path.join(tmp, edit_path)
            with open(target, encoding="utf-8") as f:
                text = f.read()
            if old not in text:
                return "%s: the self-test's anchor %r is gone" % (edit_path, old)
            with open(target, "w", encoding="utf-8") as f:
                f.write(text.replace(old, new, 1))
            problems = check(tmp)
            if not any(expect in p for p in problems):
                return "%s edited (%r -> %r): not caught (%s)" % (edit_path, old, new, problems)
        return None

    if check(ROOT):
        return ["the repository itself fails: " + "; ".join(check(ROOT))]
    v = version(ROOT)
    table = json.loads(read(ROOT, "abi/abi.json"))["version"]
    bumped = '"patch": %d' % (table["patch"] + 1)
    cases = [
        ("abi/abi.json", '"patch": %d' % table["patch"], bumped, "CHANGELOG.md: newest release"),
        ("CHANGELOG.md", "## [%s]" % v, "## [9.9.9]", "CHANGELOG.md: newest release"),
        ("CHANGELOG.md", "## [Unreleased]", "## Next", "Unreleased"),
        ("README.md", "libprovidermux.so.%s" % v, "libprovidermux.so.9.9.9", "README.md: names"),
        ("cmake/providermux.pc.in", "@PROJECT_VERSION@", v, "providermux.pc.in"),
        ("bindings/python/pyproject.toml", 'dynamic = ["version"]', 'version = "%s"' % v, "dynamic"),
        ("bindings/python/pyproject.toml", 'path = "providermux/_version.py"', 'path = "v.py"',
         "[tool.hatch.version]"),
        ("bindings/python/pyproject.toml", 'license-files = ["LICENSE"]', 'license-files = []',
         "license-files"),
        ("bindings/rust/providermux/Cargo.toml", 'license = "Apache-2.0"', 'license = "MIT"', "Cargo.toml"),
        ("bindings/rust/providermux-sys/Cargo.toml", 'license = "Apache-2.0"', 'license = "MIT"',
         "providermux-sys/Cargo.toml"),
        ("bindings/rust/providermux-sys/LICENSE", "Apache License", "Other License",
         "bindings/rust/providermux-sys/LICENSE"),
        ("bindings/python/pyproject.toml", 'license = "Apache-2.0"', 'license = "MIT"', "pyproject.toml: no"),
        ("bindings/go/LICENSE", "Apache License", "Other License", "bindings/go/LICENSE"),
        ("bindings/python/LICENSE", "Version 2.0", "Version 3.0", "bindings/python/LICENSE"),
    ]
    failures = [f for f in (planted(*c) for c in cases) if f]
    return failures


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=ROOT)
    parser.add_argument("--self-test", action="store_true")
    parser.add_argument("--wheel", metavar="WHL", help="check a built wheel's metadata instead")
    args = parser.parse_args()
    if args.wheel:
        problems = check_wheel(args.root, args.wheel)
        for p in problems:
            print(p, file=sys.stderr)
        if not problems:
            print("wheel metadata: version %s and %s" % (version(args.root), LICENSE_ID))
        return 1 if problems else 0
    if args.self_test:
        failures = self_test()
        for f in failures:
            print("self-test: " + f, file=sys.stderr)
        print("check-release self-test: %s" % ("FAILED" if failures else "ok"))
        return 1 if failures else 0
    problems = check(args.root)
    for p in problems:
        print(p, file=sys.stderr)
    if not problems:
        print("release metadata: version %s and %s everywhere" % (version(args.root), LICENSE_ID))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
