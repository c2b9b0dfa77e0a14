#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Every source file of the repository names its license in an SPDX line.

    scripts/spdx.py          check: list the tracked source files without the line (exit 1)
    scripts/spdx.py --fix    add the line where it is missing

The line goes first, or right after the lines that must stay first: a `#!` interpreter line,
Package.swift's `// swift-tools-version` line, a Python coding line. Which files count as
source: tracked files with the extensions below and CMakeLists.txt (symlinks and fuzz seeds are
not sources). ctest `spdx_headers` runs the check.
"""
import os
import subprocess
import sys

LICENSE = "Apache-2.0"
SLASH = {"swift", "hpp", "cpp", "go", "rs"}
BLOCK = {"c", "h"}  # /* */: the header stays valid C89 for hosts that compile with -std=c89
HASH = {"py", "sh", "cmake", "toml", "in", "supp"}
SKIP_PREFIXES = ("fuzz/corpus/",)


def comment_for(path):
    name = os.path.basename(path)
    if name == "CMakeLists.txt":
        return "#"
    ext = name.rsplit(".", 1)[-1] if "." in name else ""
    if ext in SLASH:
        return "//"
    if ext in BLOCK:
        return "/*"
    if ext in HASH:
        return "#"
    return None


def sources(root):
    files = subprocess.run(["git", "-C", root, "ls-files", "-z"], check=True,
                           capture_output=True).stdout.decode().split("\0")
    for f in files:
        if not f or f.startswith(SKIP_PREFIXES):
            continue
        full = os.path.join(root, f)
        if os.path.islink(full) or not os.path.isfile(full):
            continue
        mark = comment_for(f)
        if mark:
            yield f, full, mark


def must_stay_first(line):
    return (line.startswith("#!") or line.startswith("// swift-tools-version")
            or (line.startswith("#") and "coding" in line and line.count("\n") <= 1 and "-*-" in line))


def main():
    fix = "--fix" in sys.argv[1:]
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    missing = []
    for rel, full, mark in sources(root):
        with open(full, encoding="utf-8", errors="surrogateescape") as fh:
            text = fh.read()
        head = text[:2048]
        if "SPDX-License-Identifier:" in head:
            continue
        missing.append(rel)
        if not fix:
            continue
        lines = text.splitlines(keepends=True)
        at = 0
        while at < len(lines) and must_stay_first(lines[at]):
            at += 1
        line = "%s SPDX-License-Identifier: %s%s\n" % (mark, LICENSE, " */" if mark == "/*" else "")
        if rel.endswith(".go"):
            line += "\n"  # detached: a comment right above `package` would join the package doc
        lines.insert(at, line)
        with open(full, "w", encoding="utf-8", errors="surrogateescape") as fh:
            fh.write("".join(lines))
    if fix:
        print("spdx: added the line to %d file(s)" % len(missing))
        return 0
    if missing:
        print("spdx: %d source file(s) without `SPDX-License-Identifier: %s` near the top "
              "(scripts/spdx.py --fix adds it):" % (len(missing), LICENSE))
        print("\n".join("  " + m for m in missing))
        return 1
    print("spdx: every source file names its license")
    return 0


if __name__ == "__main__":
    sys.exit(main())
