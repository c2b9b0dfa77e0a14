#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the C ABI's tables (version numbers, status codes) from abi/abi.json into every copy.

    python3 scripts/gen-abi-tables.py            # rewrite the generated regions in place
    python3 scripts/gen-abi-tables.py --check    # ctest abi_tables: fail (and show the diff)
                                                 # when a region differs from the table
    python3 scripts/gen-abi-tables.py --self-test

abi/abi.json is the one source. Each copy is a region of an ordinary source file, between a line
holding `BEGIN GENERATED abi:<id>` and one holding `END GENERATED abi:<id>`; everything outside
the markers is hand-written. Regions are found by their id anywhere under include/, Sources/,
bindings/ and docs/ (so a file may move between folders without touching this script); each id must occur
exactly once. Only python3 is needed: no Swift, Go or Rust toolchain reads anything here.
"""

import argparse
import difflib
import json
import os
import re
import sys
import textwrap

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TABLE = "abi/abi.json"
SEARCHED = ("include", "Sources", "bindings", "docs")
SUFFIXES = (".h", ".hpp", ".swift", ".go", ".py", ".rs", ".toml", ".md")
SKIPPED_DIRS = {".build", "target", ".cache", "__pycache__", "node_modules"}


# -- the table --------------------------------------------------------------------------------

def load(root):
    with open(os.path.join(root, TABLE), encoding="utf-8") as f:
        table = json.load(f)
    validate(table)
    return table


def validate(table):
    """The rules a table must keep, so a bad edit fails here and not in five compilers."""
    v = table["version"]
    for key in ("major", "minor", "patch", "abi"):
        if not isinstance(v.get(key), int) or v[key] < 0:
            raise SystemExit("%s: version.%s must be a non-negative integer" % (TABLE, key))
    for key in ("minor", "patch"):  # PMX_VERSION_NUMBER packs them in two decimal digits each
        if v[key] > 99:
            raise SystemExit("%s: version.%s must be at most 99" % (TABLE, key))
    seen_codes, seen_names = set(), set()
    for i, s in enumerate(table["statuses"]):
        where = "%s: statuses[%d]" % (TABLE, i)
        for key in ("code", "name", "swift", "error_class"):
            if key not in s:
                raise SystemExit("%s: missing %r" % (where, key))
        if s["code"] in seen_codes or s["name"] in seen_names:
            raise SystemExit("%s: %s / %d used twice" % (where, s["name"], s["code"]))
        seen_codes.add(s["code"])
        seen_names.add(s["name"])
        if s["code"] > 0 or (s["code"] == 0) != (s["name"] == "PMX_OK"):
            raise SystemExit("%s: only PMX_OK is 0, every error is negative" % where)
        if s["code"] and not re.fullmatch(r"PMX_ERR_[A-Z0-9_]+", s["name"]):
            raise SystemExit("%s: %s: names are PMX_ERR_<CAPITALS>" % (where, s["name"]))
        if s["code"] and not all(k in s for k in ("doc", "python_class", "python_base")):
            raise SystemExit("%s: an error needs doc, python_class and python_base" % where)
    seen_codes, seen_names = set(), set()
    for i, e in enumerate(table.get("event_types", [])):
        where = "%s: event_types[%d]" % (TABLE, i)
        for key in ("code", "name", "json", "swift", "doc"):
            if key not in e:
                raise SystemExit("%s: missing %r" % (where, key))
        if e["code"] in seen_codes or e["name"] in seen_names or e["code"] <= 0:
            raise SystemExit("%s: %s / %d: codes are positive and used once" % (where, e["name"], e["code"]))
        if not re.fullmatch(r"PMX_EVENT_[A-Z0-9_]+", e["name"]):
            raise SystemExit("%s: %s: names are PMX_EVENT_<CAPITALS>" % (where, e["name"]))
        seen_codes.add(e["code"])
        seen_names.add(e["name"])
    defined = {"ProviderMuxError", "UpstreamError"}  # hand-written in _errors.py
    for s in errors(table):
        if s["python_base"] not in defined:
            raise SystemExit("%s: %s's base %s must be listed before it"
                             % (TABLE, s["python_class"], s["python_base"]))
        openai_base = s.get("python_openai_base")
        if openai_base is not None and openai_base not in OPENAI_BASES:
            raise SystemExit("%s: %s's python_openai_base %s is not one of %s"
                             % (TABLE, s["python_class"], openai_base, ", ".join(OPENAI_BASES)))
        defined.add(s["python_class"])


# The openai SDK's exception names, hand-written in bindings/python/providermux/_errors.py: a
# status's optional "python_openai_base" makes its class derive from one of them too, so that
# `except providermux.RateLimitError` (openai's name) and `except RateLimitedError` both catch it.
OPENAI_BASES = ("APIError", "APIConnectionError", "APITimeoutError", "APIStatusError",
                "BadRequestError", "AuthenticationError", "NotFoundError", "RateLimitError",
                "InternalServerError")


def errors(table):
    return [s for s in table["statuses"] if s["code"] != 0]


def version_string(v):
    return "%d.%d.%d" % (v["major"], v["minor"], v["patch"])


def camel(name):
    """PMX_ERR_UPSTREAM_HTTP -> UpstreamHttp (Rust's naming of acronyms)."""
    return "".join(w.capitalize() for w in name[len("PMX_ERR_"):].split("_"))


def go_name(s):
    """Swift's case with a capital: upstreamHTTP -> UpstreamHTTP (Go keeps acronyms whole)."""
    return s.get("go") or s["swift"][0].upper() + s["swift"][1:]


def lower_first(text):
    """A header sentence continued after "NAME: " in a binding's doc."""
    return text[:1].lower() + text[1:]


def wrap(text, width, first, rest):
    return textwrap.wrap(text, width=width, initial_indent=first, subsequent_indent=rest,
                         break_long_words=False, break_on_hyphens=False)


# -- C header ---------------------------------------------------------------------------------

def c_version(t):
    v = t["version"]
    return [
        "#define PMX_VERSION_MAJOR %d" % v["major"],
        "#define PMX_VERSION_MINOR %d" % v["minor"],
        "#define PMX_VERSION_PATCH %d" % v["patch"],
        '#define PMX_VERSION_STRING "%s"' % version_string(v),
        "/** The ABI number; it is the SONAME suffix (libprovidermux.so.%d) and changes only on ABI"
        " breaks. */" % v["abi"],
        "#define PMX_ABI_VERSION %d" % v["abi"],
    ]


def c_status(t):
    out = []
    for s in t["statuses"]:
        if s.get("doc"):
            one = "/** %s */" % s["doc"]
            if len(one) <= 100:
                out.append(one)
            else:
                lines = wrap(s["doc"], 96, "/** ", " *  ")
                out.extend(lines[:-1] + [lines[-1] + " */"])
        pad = max(1, 33 - len(s["name"]) - 1)
        out.append("#define %s %s" % (s["name"], str(s["code"]).rjust(pad)))
    return out


# -- Swift --------------------------------------------------------------------------------------

def swift_version(t):
    # The shape of Support/Version.swift's LibraryVersion (helper "abi"), so the region can sit
    # in either place.
    v = t["version"]
    return [
        "    public static let major: Int32 = %d" % v["major"],
        "    public static let minor: Int32 = %d" % v["minor"],
        "    public static let patch: Int32 = %d" % v["patch"],
        '    /// "MAJOR.MINOR.PATCH"; a StaticString so that the C string it hands out is static.',
        '    public static let string: StaticString = "%s"' % version_string(v),
        "    /// The SONAME number (libprovidermux.so.<abi>): changes only when the ABI breaks.",
        "    public static let abi: Int32 = %d" % v["abi"],
    ]


def swift_case(s):
    return "`%s`" % s["swift"] if s["swift"] in ("internal", "default", "case") else s["swift"]


def swift_status(t):
    out = ["public enum Status: Int32, Sendable, CaseIterable {"]
    out += ["    case %s = %d" % (swift_case(s), s["code"]) for s in t["statuses"]]
    out += ["", '    /// The macro name, e.g. "PMX_ERR_TIMEOUT".',
            "    public var name: StaticString {", "        switch self {"]
    out += ['        case .%s: "%s"' % (s["swift"], s["name"]) for s in t["statuses"]]
    out += ["        }", "    }", "",
            "    public var nameString: String { name.description }", "",
            "    /// The provider-independent error class users branch on (the `error_class` of"
            " error events).",
            "    public var errorClass: String {", "        switch self {"]
    out += ['        case .%s: "%s"' % (s["swift"], s["error_class"]) for s in t["statuses"]]
    out += ["        }", "    }", "}"]
    return out


# -- Go -----------------------------------------------------------------------------------------

def go_status(t):
    width = max(len("Code" + go_name(s)) for s in t["statuses"])
    out = ["// Status codes (pmx_status). 0 is OK, errors are negative; values are append-only.",
           "const ("]
    for s in t["statuses"]:
        code = str(s["code"]) if s["code"] == 0 else "%-3d // %s" % (s["code"], s["name"])
        out.append("\t%s int32 = %s" % (("Code" + go_name(s)).ljust(width), code))
    out += [")", "",
            "// Sentinel errors, one per status code: errors.Is(err, ErrTimeout) is true for any"
            " *Error",
            "// whose Code is CodeTimeout.", "var ("]
    width = max(len("Err" + go_name(s)) for s in errors(t))
    for s in errors(t):
        out.append("\t%s = sentinel(Code%s)" % (("Err" + go_name(s)).ljust(width), go_name(s)))
    out += [")", "", "// allSentinels lists every sentinel, in header order.",
            "var allSentinels = []*Error{"]
    out += ["\tErr%s," % go_name(s) for s in errors(t)]
    out += ["}", ""]  # gofmt wants a blank line before the END marker's comment
    return out


# -- Python -------------------------------------------------------------------------------------

def python_version(t):
    return ['__version__ = "%s"' % version_string(t["version"])]


def python_soname(t):
    return ['_SONAME = "libprovidermux.so.%d"' % t["version"]["abi"]]


def python_backend_soname(t):
    return ['SONAME = "libprovidermux.so.%d"' % t["version"]["abi"]]


def python_codes(t):
    return ["%s = %d" % (s["name"][len("PMX_"):], s["code"]) for s in t["statuses"]]


def python_classes(t):
    out = []
    for s in errors(t):
        doc = "%s: %s" % (s["name"], s.get("python_doc") or lower_first(s["doc"]))
        lines = wrap(doc, 96, '    """', "    ")
        if len(lines) == 1 and len(lines[0]) + 3 <= 100:
            lines[0] += '"""'
        else:
            lines[-1] += '"""'
        bases = s["python_base"]
        if s.get("python_openai_base"):  # first: a base after its own subclass has no valid MRO
            bases = s["python_openai_base"] + ", " + bases
        out += ["class %s(%s):" % (s["python_class"], bases)] + lines
        out += ["    default_code = %s" % s["name"][len("PMX_"):], "", ""]
    out.append("#: Status code -> exception class, covering every PMX_ERR_* code of"
               " include/providermux.h.")
    out.append("ERROR_CLASSES: Mapping[int, Type[ProviderMuxError]] = {")
    out.append("    cls.default_code: cls for cls in (")
    out += wrap(", ".join(s["python_class"] for s in errors(t)) + ",", 96, "        ", "        ")
    out += ["    )", "}", ""]
    names = (["OK", "status_name", "ERROR_CLASSES"]
             + [s["name"][len("PMX_"):] for s in errors(t)]
             + ["ProviderMuxError", "UpstreamError"] + [s["python_class"] for s in errors(t)])
    out.append("__all__ = [")
    out += wrap(", ".join('"%s"' % n for n in names) + ",", 96, "    ", "    ")
    out.append("]")
    return out


# -- Rust ---------------------------------------------------------------------------------------

def rust_version(t):
    v = t["version"]
    return [
        "pub const PMX_VERSION_MAJOR: i32 = %d;" % v["major"],
        "pub const PMX_VERSION_MINOR: i32 = %d;" % v["minor"],
        "pub const PMX_VERSION_PATCH: i32 = %d;" % v["patch"],
        "/// Version of the header these declarations follow (MAJOR * 10000 + MINOR * 100 + PATCH).",
        "pub const PMX_VERSION_NUMBER: i32 =",
        "    PMX_VERSION_MAJOR * 10000 + PMX_VERSION_MINOR * 100 + PMX_VERSION_PATCH;",
        'pub const PMX_VERSION_STRING: &str = "%s";' % version_string(v),
        "pub const PMX_ABI_VERSION: i32 = %d;" % v["abi"],
    ]


def rust_status(t):
    out = ["pub const %s: pmx_status = %d;" % (s["name"], s["code"]) for s in t["statuses"]]
    out += ["/// Every error status of the header, in header order (PMX_OK excluded).",
            "pub const PMX_ERR_ALL: &[pmx_status] = &["]
    out += ["    %s," % s["name"] for s in errors(t)]
    out.append("];")
    return out


def rust_kinds(t):
    out = []
    for s in errors(t):
        out += wrap("%s: %s" % (s["name"], s.get("rust_doc") or lower_first(s["doc"])), 96, "    /// ", "    /// ")
        out.append("    %s," % camel(s["name"]))
    return out


def rust_from_code(t):
    return ["            sys::%s => %s," % (s["name"], camel(s["name"])) for s in errors(t)]


def rust_to_code(t):
    return ["            %s => sys::%s," % (camel(s["name"]), s["name"]) for s in errors(t)]


def md_status(t):
    out = ["| code | name | `error_class` | meaning |", "|---|---|---|---|"]
    for s in t["statuses"]:
        doc = (s.get("doc") or "Success.").replace("|", "\\|")
        out.append("| %d | `%s` | `%s` | %s |" % (s["code"], s["name"], s["error_class"], doc))
    return out


def cargo_version(t):
    return ['version = "%s"' % version_string(t["version"])]


def cargo_sys_dependency(t):
    # The two crates are released together: the safe crate's tables match its sys crate's.
    return ['version = "=%s"' % version_string(t["version"])]


# -- typed event types (pmx_event.type) ----------------------------------------------------------

def event_types(t):
    return t.get("event_types", [])


def c_event_types(t):
    out = []
    for e in event_types(t):
        out.append("/** \"%s\": %s */" % (e["json"], e["doc"]))
        out.append("#define %s %d" % (e["name"].ljust(19), e["code"]))
    return out


def swift_event_types(t):
    out = ["public enum EventType: Int32, Sendable, CaseIterable {"]
    out += ["    /// \"%s\": %s\n    case %s = %d" % (e["json"], e["doc"], e["swift"], e["code"])
            for e in event_types(t)]
    out.append("}")
    return "\n".join(out).split("\n")


def go_event_types(t):
    width = max(len("Event" + e["swift"].capitalize()) for e in event_types(t))
    out = ["// Typed event types (pmx_event.type), the JSON events' \"type\" as numbers.", "const ("]
    for e in event_types(t):
        out.append("\t%s int32 = %d // %s" % (("Event" + e["swift"].capitalize()).ljust(width), e["code"], e["json"]))
    out += [")", ""]
    return out


def python_event_types(t):
    return ["%s = %d" % (e["name"][len("PMX_"):], e["code"]) for e in event_types(t)] + [
        "#: pmx_event.type -> the JSON events' \"type\".",
        "EVENT_TYPE_NAMES = {%s}" % ", ".join('%d: "%s"' % (e["code"], e["json"]) for e in event_types(t))]


def rust_event_types(t):
    return ["pub const %s: i32 = %d;" % (e["name"], e["code"]) for e in event_types(t)]


def md_event_types(t):
    out = ["| `type` (C) | value | JSON `type` | meaning |", "|---|---|---|---|"]
    for e in event_types(t):
        out.append("| `%s` | %d | `%s` | %s |" % (e["name"], e["code"], e["json"], e["doc"].replace("|", "\\|")))
    return out


REGIONS = {
    "c-version": c_version,
    "c-status": c_status,
    "swift-version": swift_version,
    "swift-status": swift_status,
    "go-status": go_status,
    "python-version": python_version,
    "python-soname": python_soname,
    "python-backend-soname": python_backend_soname,
    "python-codes": python_codes,
    "python-classes": python_classes,
    "rust-version": rust_version,
    "rust-status": rust_status,
    "rust-kinds": rust_kinds,
    "rust-from-code": rust_from_code,
    "rust-to-code": rust_to_code,
    "cargo-version": cargo_version,
    "cargo-sys-version": cargo_version,
    "cargo-sys-dependency": cargo_sys_dependency,
    "md-status": md_status,
    "c-event-types": c_event_types,
    "swift-event-types": swift_event_types,
    "go-event-types": go_event_types,
    "python-event-types": python_event_types,
    "rust-event-types": rust_event_types,
    "md-event-types": md_event_types,
}


# -- regions in files ---------------------------------------------------------------------------

MARKER = re.compile(r"(BEGIN|END) GENERATED abi:([a-z-]+)")


def source_files(root):
    for top in SEARCHED:
        for dirpath, dirnames, filenames in os.walk(os.path.join(root, top)):
            dirnames[:] = sorted(d for d in dirnames if d not in SKIPPED_DIRS)
            for name in sorted(filenames):
                if name.endswith(SUFFIXES):
                    yield os.path.join(dirpath, name)


def regenerate(text, table, path):
    """The file's text with every region rewritten, and the region ids it holds."""
    lines = text.split("\n")
    out, ids, open_id = [], [], None
    for number, line in enumerate(lines, 1):
        m = MARKER.search(line)
        if open_id is None:
            out.append(line)
            if m and m.group(1) == "BEGIN":
                open_id = m.group(2)
                if open_id not in REGIONS:
                    raise SystemExit("%s:%d: unknown region abi:%s" % (path, number, open_id))
                ids.append(open_id)
                out.extend(REGIONS[open_id](table))
        elif m:
            if m.group(1) != "END" or m.group(2) != open_id:
                raise SystemExit("%s:%d: expected END GENERATED abi:%s" % (path, number, open_id))
            out.append(line)
            open_id = None
    if open_id is not None:
        raise SystemExit("%s: abi:%s has no END marker" % (path, open_id))
    return "\n".join(out), ids


def run(root, check):
    table = load(root)
    found, changed = {}, []
    for path in source_files(root):
        with open(path, encoding="utf-8") as f:
            text = f.read()
        if "GENERATED abi:" not in text:
            continue
        new, ids = regenerate(text, table, os.path.relpath(path, root))
        for region in ids:
            found.setdefault(region, []).append(os.path.relpath(path, root))
        if new != text:
            changed.append((path, text, new))
    problems = []
    for region in REGIONS:
        where = found.get(region, [])
        if len(where) != 1:
            problems.append("abi:%s must occur exactly once under %s, found in %s%s"
                            % (region, "/".join(SEARCHED), where or "no file",
                               "" if where else ": put a `BEGIN GENERATED abi:%s` line and an "
                               "`END GENERATED abi:%s` line (as comments) around that copy, "
                               "e.g. the Swift version constants, then run the generator"
                               % (region, region)))
    for path, old, new in changed:
        rel = os.path.relpath(path, root)
        if check:
            sys.stdout.writelines(difflib.unified_diff(
                old.splitlines(True), new.splitlines(True), rel + " (committed)",
                rel + " (from " + TABLE + ")"))
            problems.append("%s differs from %s" % (rel, TABLE))
        else:
            with open(path, "w", encoding="utf-8") as f:
                f.write(new)
            print("wrote", rel)
    for p in problems:
        print("gen-abi-tables:", p, file=sys.stderr)
    if problems and check:
        print("gen-abi-tables: run `python3 scripts/gen-abi-tables.py` and commit the result",
              file=sys.stderr)
    return 1 if problems else 0


def quiet(fn):
    with open(os.devnull, "w") as null:
        saved = sys.stdout, sys.stderr
        sys.stdout = sys.stderr = null
        try:
            return fn()
        finally:
            sys.stdout, sys.stderr = saved


def self_test():
    """The check must catch a copy edited by hand, a status added to the table only, and a
    region that went missing: plant each in a scratch copy of the repository's files."""
    import shutil
    import tempfile
    failures = []
    with tempfile.TemporaryDirectory() as scratch:
        def copy_tree():
            root = os.path.join(scratch, "repo%d" % len(os.listdir(scratch)))
            os.makedirs(os.path.join(root, "abi"))
            shutil.copy(os.path.join(ROOT, TABLE), os.path.join(root, TABLE))
            for path in source_files(ROOT):
                with open(path, encoding="utf-8") as f:
                    if "GENERATED abi:" not in f.read():
                        continue
                dest = os.path.join(root, os.path.relpath(path, ROOT))
                os.makedirs(os.path.dirname(dest), exist_ok=True)
                shutil.copy(path, dest)
            return root

        def expect(root, want, what):
            got = quiet(lambda: run(root, check=True))
            if got != want:
                failures.append("%s: --check returned %d, expected %d" % (what, got, want))

        root = copy_tree()
        expect(root, 0, "the committed tree")

        root = copy_tree()
        go = os.path.join(root, "bindings", "go", "codes.go")
        with open(go, encoding="utf-8") as f:
            text = f.read()
        with open(go, "w", encoding="utf-8") as f:
            f.write(text.replace("int32 = -12 ", "int32 = -112 "))
        expect(root, 1, "a Go code edited by hand")

        root = copy_tree()
        with open(os.path.join(root, TABLE), encoding="utf-8") as f:
            table = json.load(f)
        table["statuses"].append({"code": -33, "name": "PMX_ERR_SELF_TEST", "swift": "selfTest",
                                  "error_class": "internal", "doc": "Planted.",
                                  "python_class": "SelfTestError",
                                  "python_base": "ProviderMuxError"})
        with open(os.path.join(root, TABLE), "w", encoding="utf-8") as f:
            json.dump(table, f)
        expect(root, 1, "a status added to the table only")
        quiet(lambda: run(root, check=False))
        expect(root, 0, "the same after regenerating")
        with open(os.path.join(root, "include", "providermux.h"), encoding="utf-8") as f:
            if "#define PMX_ERR_SELF_TEST             -33" not in f.read():
                failures.append("the planted status did not reach the header")

        root = copy_tree()
        rs = os.path.join(root, "bindings", "rust", "providermux", "src", "error.rs")
        with open(rs, encoding="utf-8") as f:
            text = f.read()
        with open(rs, "w", encoding="utf-8") as f:
            f.write(text.replace("GENERATED abi:rust-to-code", "generated (gone)"))
        expect(root, 1, "a region removed")
    for failure in failures:
        print("gen-abi-tables self-test:", failure, file=sys.stderr)
    return 1 if failures else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="fail on any difference")
    parser.add_argument("--self-test", action="store_true", help="test the check itself")
    parser.add_argument("--root", default=ROOT)
    args = parser.parse_args()
    if args.self_test:
        return self_test()
    return run(os.path.abspath(args.root), args.check)


if __name__ == "__main__":
    sys.exit(main())
