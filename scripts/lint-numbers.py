#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Lint for numeric conversions that can trap a Swift process (issue 12, "numbers from outside
can never trap").

Scans Sources/**/*.swift (and gateway/Sources, pmx-gateway's own) for risky patterns and fails unless every hit is explained in the
allow-list (scripts/lint-numbers.allow). Patterns:

  int-conversion   `Int(`, `Int64(`, `Int32(`, `UInt…(` … whose argument is not obviously an
                   integer: Swift traps when a Double is NaN, infinite or out of range, and when
                   a wider integer does not fit. `clamping:`, `truncatingIfNeeded:`,
                   `bitPattern:` and `exactly:` never trap and are not flagged; neither are
                   integer literals and `.count`. Use SafeNumbers.int / .int64 / .nanos instead.
  rounded-to-int   the same, fed a `.rounded(` value (a Double by construction).
  ms-to-ns         `* 1_000_000`, `* 1000`, `* 1e6`, `&* 1_000_000`: a unit conversion that
                   overflows (or wraps) for a large value; use SafeNumbers.nanos(ms:).
  unwrap-number    `intValue!` / `doubleValue!`: a number from a document force-unwrapped.

Allow-list format (exact line text, not line numbers, so edits elsewhere do not break it):

    file: Sources/MuxRouting/Router+Stats.swift
    why: counters are Int; Int → Int64 is the same width on every supported (64-bit) platform
        o["requests"] = .int(Int64(t.requests))

An indented line is the exact text of a source line (leading/trailing spaces ignored) in the
current `file:`, explained by the current `why:` (required, a real sentence). One entry covers
every identical line of that file. Entries that match nothing are reported as stale (warning).

Usage: lint-numbers.py [--root DIR] [--allow FILE] | --self-test
Prints each unexplained hit as `file:line: [kind] text` and exits 1 when there is any.
Python standard library only.
"""

import argparse
import os
import re
import sys
import tempfile

INT_TYPES = r"U?Int(?:8|16|32|64)?"
CONVERSION = re.compile(r"(?<![\w.])(" + INT_TYPES + r")\(")
SAFE_LABEL = re.compile(r"\s*(clamping|truncatingIfNeeded|bitPattern|exactly|ascii)\s*:")
OBVIOUS_INT = re.compile(r"^\s*(-?[0-9][0-9_]*|[\w.]+\.count)\s*$")
MS_TO_NS = re.compile(r"&?\*\s*(1_000_000|1000000|1_000|1000|1e6|1e3)\b(?!\.)")
UNWRAP = re.compile(r"\b(intValue|doubleValue)!")


def code_only(line):
    """The code of one line: a `//` comment removed and string literal text blanked (string
    interpolations `\\(…)` are code and kept)."""
    out = []
    in_string = False
    depth = 0  # parentheses open inside the current interpolation
    i = 0
    while i < len(line):
        c = line[i]
        if in_string and depth == 0:
            if c == "\\" and line.startswith("\\(", i):
                out.append("\\(")
                depth = 1
                i += 2
                continue
            if c == "\\":
                out.append("  ")
                i += 2
                continue
            if c == '"':
                in_string = False
                out.append(c)
            else:
                out.append(" ")
            i += 1
            continue
        if c == '"':
            in_string = True
        elif not in_string and line.startswith("//", i):
            break
        elif in_string:  # inside an interpolation
            if c == "(":
                depth += 1
            elif c == ")":
                depth -= 1
        out.append(c)
        i += 1
    return "".join(out)


def argument(code, open_paren):
    """Text between the parenthesis at `open_paren` and its match (to the end of the line if
    the call spans lines)."""
    depth = 0
    for j in range(open_paren, len(code)):
        if code[j] == "(":
            depth += 1
        elif code[j] == ")":
            depth -= 1
            if depth == 0:
                return code[open_paren + 1:j]
    return code[open_paren + 1:]


def hits_in_line(code):
    """The kinds of risky pattern in one line of code (comment already stripped)."""
    kinds = []
    for m in CONVERSION.finditer(code):
        arg = argument(code, m.end() - 1)
        if SAFE_LABEL.match(arg) or OBVIOUS_INT.match(arg):
            continue
        kinds.append("rounded-to-int" if ".rounded(" in arg else "int-conversion")
    if MS_TO_NS.search(code):
        kinds.append("ms-to-ns")
    if UNWRAP.search(code):
        kinds.append("unwrap-number")
    return sorted(set(kinds))


def scan(root):
    """[(relative path, line number, stripped text, kinds)] for every Sources/**/*.swift hit."""
    hits = []
    # gateway/Sources: pmx-gateway's own targets (its Mux* folders are symlinks to Sources/,
    # which os.walk does not follow: each file is scanned once, under Sources/).
    walks = [os.walk(os.path.join(root, top)) for top in ("Sources", os.path.join("gateway", "Sources"))]
    for dirpath, dirnames, filenames in (entry for walk in walks for entry in walk):
        dirnames.sort()
        for name in sorted(filenames):
            if not name.endswith(".swift"):
                continue
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, root).replace(os.sep, "/")
            with open(path, encoding="utf-8") as f:
                in_block_comment = False
                for n, line in enumerate(f, 1):
                    text = line.strip()
                    if in_block_comment:
                        if "*/" in text:
                            in_block_comment = False
                        continue
                    if text.startswith("/*"):
                        in_block_comment = "*/" not in text
                        continue
                    kinds = hits_in_line(code_only(line))
                    if kinds:
                        hits.append((rel, n, text, kinds))
    return hits


class AllowListError(Exception):
    pass


def load_allow(path):
    """{(file, text): reason} from the allow-list; raises AllowListError naming the line."""
    entries = {}
    if not os.path.exists(path):
        return entries
    current_file = None
    reason = None
    with open(path, encoding="utf-8") as f:
        for n, raw in enumerate(f, 1):
            line = raw.rstrip("\n")
            stripped = line.strip()
            if not stripped or stripped.startswith("#"):
                continue
            where = "%s:%d" % (path, n)
            if not line[0].isspace():
                key, _, value = stripped.partition(":")
                value = value.strip()
                if key == "file":
                    current_file, reason = value, None
                elif key == "why":
                    if len(value) < 10:
                        raise AllowListError("%s: a reason must say why the line is safe" % where)
                    reason = value
                else:
                    raise AllowListError("%s: expected `file:`, `why:` or an indented source line" % where)
                continue
            if current_file is None:
                raise AllowListError("%s: an entry before any `file:` line" % where)
            if reason is None:
                raise AllowListError("%s: an entry without a `why:` reason" % where)
            entries[(current_file, stripped)] = reason
    return entries


def lint(root, allow_path, out=sys.stdout):
    """Prints unexplained hits (and stale entries); returns the number of unexplained hits."""
    try:
        allowed = load_allow(allow_path)
    except AllowListError as e:
        print("lint-numbers: %s" % e, file=out)
        return 1
    hits = scan(root)
    used = set()
    bad = 0
    for rel, n, text, kinds in hits:
        key = (rel, text)
        if key in allowed:
            used.add(key)
            continue
        bad += 1
        print("%s:%d: [%s] %s" % (rel, n, ", ".join(kinds), text), file=out)
    for rel, text in sorted(set(allowed) - used):
        print("lint-numbers: warning: stale allow-list entry (no such line now): %s: %s" % (rel, text), file=out)
    if bad:
        print("lint-numbers: %d unexplained hit(s). Use SafeNumbers (Sources/MuxBase/Support/"
              "SafeNumbers.swift), or add the exact line to %s under a `why:` that says why it "
              "cannot trap." % (bad, os.path.relpath(allow_path, root)), file=out)
    else:
        print("lint-numbers: %d hit(s), all explained in the allow-list" % len(hits), file=out)
    return bad


def self_test():
    """Plants risky lines in a scratch tree and checks that they are caught, reported as
    file:line, and accepted only with a reason."""
    import io

    failures = []

    def check(cond, what):
        if not cond:
            failures.append(what)

    with tempfile.TemporaryDirectory() as root:
        os.makedirs(os.path.join(root, "Sources", "M"))
        src = os.path.join(root, "Sources", "M", "Planted.swift")
        with open(src, "w") as f:
            f.write("let fine = Int(clamping: big)\n"                 # 1: safe label
                    "let n = Int(someDouble)\n"                      # 2: caught
                    "// let c = Int(inAComment)\n"                   # 3: comment
                    "let ns = UInt64(ms) * 1_000_000\n"               # 4: two kinds
                    "let r = Int64((x * 1000).rounded())\n"          # 5: rounded + ms-to-ns
                    "let k = Int(list.count)\n"                      # 6: obviously an integer
                    "let s = \"Int(not code)\" // Int(neither)\n"    # 7: inside a string and a comment
                    "let u = v.intValue!\n"                           # 8: force unwrap
                    "let m = \"\\(Int(d)) ms\"\n")                       # 9: interpolation is code
        allow = os.path.join(root, "allow")

        buf = io.StringIO()
        bad = lint(root, allow, out=buf)
        text = buf.getvalue()
        check(bad == 5, "5 unexplained hits expected, got %d:\n%s" % (bad, text))
        check("Sources/M/Planted.swift:2: [int-conversion] let n = Int(someDouble)" in text, "planted Int(someDouble) not reported:\n" + text)
        check("Sources/M/Planted.swift:4: [int-conversion, ms-to-ns]" in text, "UInt64(ms) * 1_000_000 not reported:\n" + text)
        check("Sources/M/Planted.swift:5: [ms-to-ns, rounded-to-int]" in text, "rounded conversion not reported:\n" + text)
        check("Sources/M/Planted.swift:8: [unwrap-number]" in text, "force unwrap not reported:\n" + text)
        for n in (1, 3, 6, 7):
            check("Planted.swift:%d:" % n not in text, "line %d wrongly reported:\n%s" % (n, text))

        with open(allow, "w") as f:
            f.write("file: Sources/M/Planted.swift\n"
                    "    let n = Int(someDouble)\n")
        buf = io.StringIO()
        check(lint(root, allow, out=buf) == 1 and "without a `why:`" in buf.getvalue(),
              "an entry without a reason must be refused:\n" + buf.getvalue())

        with open(allow, "w") as f:
            f.write("file: Sources/M/Planted.swift\n"
                    "why: someDouble is clamped to 0...100 two lines above\n"
                    "    let n = Int(someDouble)\n"
                    "    let ns = UInt64(ms) * 1_000_000\n"
                    "    let r = Int64((x * 1000).rounded())\n"
                    "    let u = v.intValue!\n"
                    "    let m = \"\\(Int(d)) ms\"\n"
                    "    let gone = Int(removedLine)\n")
        buf = io.StringIO()
        bad = lint(root, allow, out=buf)
        check(bad == 0, "every hit explained, yet %d reported:\n%s" % (bad, buf.getvalue()))
        check("stale allow-list entry" in buf.getvalue() and "Int(removedLine)" in buf.getvalue(),
              "stale entry not reported:\n" + buf.getvalue())

        # Line numbers do not matter: an edit above the line keeps the entry valid.
        with open(src) as f:
            body = f.read()
        with open(src, "w") as f:
            f.write("// a new first line\n" + body)
        check(lint(root, allow, out=io.StringIO()) == 0, "an edit elsewhere broke the allow-list")

    if failures:
        print("lint-numbers self-test FAILED:")
        for f in failures:
            print("  - " + f)
        return 1
    print("lint-numbers self-test: ok")
    return 0


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", default=os.path.dirname(here), help="repository root (default: this script's parent)")
    parser.add_argument("--allow", help="allow-list (default: scripts/lint-numbers.allow under the root)")
    parser.add_argument("--self-test", action="store_true", help="check that planted risky lines are caught")
    args = parser.parse_args()
    if args.self_test:
        return self_test()
    allow = args.allow or os.path.join(args.root, "scripts", "lint-numbers.allow")
    return 1 if lint(args.root, allow) else 0


if __name__ == "__main__":
    sys.exit(main())
