#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Checks the Rust declarations (bindings/rust/providermux-sys/src/lib.rs) against the C header.

    python3 scripts/check-rust-sys.py [--root DIR]   # ctest rust_sys_decls
    python3 scripts/check-rust-sys.py --self-test    # ctest rust_sys_decls_selftest

The declarations are hand-written (no bindgen: no libclang on a user's machine), so this compares
them with include/providermux.h as text, both ways: every `PMX_API` function with its return and
parameter types in order, every callback typedef, the fields of every struct (name, type, order)
and every numeric `#define PMX_*` with its value. A C type maps to exactly one Rust spelling
(int32_t -> i32, const char * -> *const c_char, pmx_router ** -> *mut *mut pmx_router, ...); a
field the header calls `type` is `type_` in Rust. Only python3 is needed.
"""
import argparse
import os
import re
import shutil
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HEADER = os.path.join("include", "providermux.h")
RUST = os.path.join("bindings", "rust", "providermux-sys", "src", "lib.rs")

SCALARS = {"int32_t": "i32", "int64_t": "i64", "uint32_t": "u32", "size_t": "usize",
           "double": "f64", "char": "c_char", "void": "c_void"}
# Defines that are not plain numbers (or not constants): mirrored differently or not at all.
NOT_NUMERIC = {"PROVIDERMUX_H", "PMX_API", "PMX_VERSION_STRING", "PMX_VERSION_NUMBER",
               "PMX_EVENT_SIZE_MIN", "PMX_VERSION_ENCODE", "PMX_AT_LEAST_VERSION"}


def c_type(text):
    """A C type as written in the header -> its Rust spelling."""
    text = " ".join(text.replace("*", " * ").split())
    stars = text.count("*")
    words = [w for w in text.split() if w != "*"]
    const = "const" in words
    base = [w for w in words if w not in ("const", "struct")]
    if len(base) != 1:
        raise ValueError("cannot map C type %r" % text)
    rust = SCALARS.get(base[0], base[0])
    if stars == 0:
        return "()" if rust == "c_void" else rust
    # The const qualifies the pointee (`const char *`): the innermost pointer.
    out = ("*const " if const else "*mut ") + rust
    for _ in range(stars - 1):
        out = "*mut " + out
    return out


def split_params(text):
    text = text.strip()
    if text in ("", "void"):
        return []
    return [p.strip() for p in text.split(",")]


def c_param(param):
    m = re.match(r"(.*?)(\w+)$", param.strip())
    if not m:
        raise ValueError("cannot read C parameter %r" % param)
    return c_type(m.group(1))


def strip_c_comments(text):
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"//[^\n]*", " ", text)


def parse_header(text):
    text = strip_c_comments(text)
    funcs, callbacks, structs, consts = {}, {}, {}, {}
    for m in re.finditer(r"PMX_API\s+([^;(]*?)\b(pmx_\w+)\s*\(([^)]*)\)\s*;", text):
        funcs[m.group(2)] = (c_type(m.group(1)), [c_param(p) for p in split_params(m.group(3))])
    for m in re.finditer(r"typedef\s+([^;(]*?)\(\s*\*\s*(\w+)\s*\)\s*\(([^)]*)\)\s*;", text):
        callbacks[m.group(2)] = (c_type(m.group(1)), [c_param(p) for p in split_params(m.group(3))])
    for m in re.finditer(r"typedef\s+struct\s+(\w+)\s*\{(.*?)\}\s*(\w+)\s*;", text, flags=re.S):
        fields = []
        for decl in m.group(2).split(";"):
            decl = " ".join(decl.split())
            if not decl:
                continue
            f = re.match(r"(.*?)(\w+)\s*(?:\[(\d+)\])?$", decl)
            name, rust = f.group(2), c_type(f.group(1))
            if f.group(3):
                rust = "[%s; %s]" % (rust, f.group(3))
            fields.append(("type_" if name == "type" else name, rust))
        structs[m.group(1)] = fields
    for m in re.finditer(r"(?m)^\s*#define\s+(PMX_\w+)(\(?)\s*(.*)$", text):
        name, value = m.group(1), m.group(3).strip()
        if name in NOT_NUMERIC or m.group(2):
            continue
        num = re.fullmatch(r"(-?\d+)u?", value)
        if not num:
            raise ValueError("#define %s %s: not a number (add it to NOT_NUMERIC if intended)" % (name, value))
        consts[name] = int(num.group(1))
    return funcs, callbacks, structs, consts


def rust_type(text):
    text = " ".join(text.split())
    return "()" if text in ("", "()") else text


def rust_params(text):
    out = []
    for param in [p for p in re.split(r",(?![^<>()\[\]]*[>)\]])", text) if p.strip()]:
        name, _, ty = param.partition(":")
        out.append(rust_type(ty))
    return out


def parse_rust(text):
    text = re.sub(r"//[^\n]*", " ", text)
    funcs, callbacks, structs, consts = {}, {}, {}, {}
    for block in re.finditer(r'extern\s+"C"\s*\{(.*?)\n\}', text, flags=re.S):
        for m in re.finditer(r"pub\s+fn\s+(\w+)\s*\((.*?)\)\s*(?:->\s*([^;]+))?;", block.group(1), flags=re.S):
            funcs[m.group(1)] = (rust_type(m.group(3) or ""), rust_params(m.group(2)))
    for m in re.finditer(r'pub\s+type\s+(\w+)\s*=\s*Option<\s*unsafe\s+extern\s+"C"\s+fn\s*\((.*?)\)\s*'
                         r'(?:->\s*([^,>]+?))?\s*,?\s*>\s*;', text, flags=re.S):
        callbacks[m.group(1)] = (rust_type(m.group(3) or ""), rust_params(m.group(2)))
    for m in re.finditer(r"#\[repr\(C\)\][^{;]*?pub\s+struct\s+(\w+)\s*\{(.*?)\n\}", text, flags=re.S):
        fields = []
        for f in re.finditer(r"pub\s+(\w+)\s*:\s*([^,]+),", m.group(2)):
            fields.append((f.group(1), rust_type(f.group(2))))
        if fields:
            structs[m.group(1)] = fields
    for m in re.finditer(r"pub\s+const\s+(PMX_\w+)\s*:\s*[\w&\[\]]+\s*=\s*(-?\d+)\s*;", text):
        consts[m.group(1)] = int(m.group(2))
    return funcs, callbacks, structs, consts


def compare(header_text, rust_text):
    problems = []
    h_funcs, h_cbs, h_structs, h_consts = parse_header(header_text)
    r_funcs, r_cbs, r_structs, r_consts = parse_rust(rust_text)
    for kind, h, r in (("function", h_funcs, r_funcs), ("callback type", h_cbs, r_cbs)):
        for name in sorted(set(h) | set(r)):
            if name not in r:
                problems.append("%s %s: in the header, not declared in Rust" % (kind, name))
            elif name not in h:
                problems.append("%s %s: declared in Rust, not in the header" % (kind, name))
            elif h[name] != r[name]:
                problems.append("%s %s: header (%s) -> %s, Rust (%s) -> %s"
                                % (kind, name, ", ".join(h[name][1]), h[name][0],
                                   ", ".join(r[name][1]), r[name][0]))
    for name in sorted(h_structs):
        if name not in r_structs:
            problems.append("struct %s: in the header, not declared in Rust" % name)
        elif h_structs[name] != r_structs[name]:
            problems.append("struct %s: header fields %s, Rust fields %s"
                            % (name, h_structs[name], r_structs[name]))
    for name in sorted(h_consts):
        if name not in r_consts:
            problems.append("constant %s: in the header, not in Rust" % name)
        elif h_consts[name] != r_consts[name]:
            problems.append("constant %s: header %d, Rust %d" % (name, h_consts[name], r_consts[name]))
    if not h_funcs or not h_structs:
        problems.append("nothing read from the header: the parser no longer fits it")
    return problems


def check(root):
    with open(os.path.join(root, HEADER), encoding="utf-8") as f:
        header = f.read()
    with open(os.path.join(root, RUST), encoding="utf-8") as f:
        rust = f.read()
    return compare(header, rust)


def self_test():
    if check(ROOT):
        return ["the repository itself fails: " + "; ".join(check(ROOT))]
    cases = [
        (RUST, "        timeout_ms: i32,\n", "        timeout_ms: i64,\n", "function pmx_stream_next"),
        (RUST, "    pub fn pmx_stream_cancel(stream: *mut pmx_stream);\n", "", "pmx_stream_cancel: in the header"),
        (RUST, "    pub upstream_cost_usd: f64,\n    pub tokens_per_second: f64,\n",
         "    pub tokens_per_second: f64,\n    pub upstream_cost_usd: f64,\n", "struct pmx_event"),
        (RUST, "pub const PMX_LOG_WARN: i32 = 3;", "pub const PMX_LOG_WARN: i32 = 30;", "PMX_LOG_WARN"),
        (HEADER, "const char *request_json, pmx_error *err);",
         "char *request_json, pmx_error *err);", "function pmx_router_complete"),
        (HEADER, "typedef int32_t (*pmx_event_fn)(const char *event_json, size_t len, void *userdata);",
         "typedef int32_t (*pmx_event_fn)(const char *event_json, size_t len);", "pmx_event_fn"),
    ]
    failures = []
    for path, old, new, expect in cases:
        with tempfile.TemporaryDirectory() as tmp:
            for rel in (HEADER, RUST):
                os.makedirs(os.path.dirname(os.path.join(tmp, rel)), exist_ok=True)
                shutil.copyfile(os.path.join(ROOT, rel), os.path.join(tmp, rel))
            target = os.path.join(tmp, path)
            with open(target, encoding="utf-8") as f:
                text = f.read()
            if old not in text:
                failures.append("%s: the self-test's anchor %r is gone" % (path, old))
                continue
            with open(target, "w", encoding="utf-8") as f:
                f.write(text.replace(old, new, 1))
            problems = check(tmp)
            if not any(expect in p for p in problems):
                failures.append("%s edited (%r -> %r): not caught (%s)" % (path, old, new, problems))
    return failures


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=ROOT)
    parser.add_argument("--self-test", action="store_true")
    args = parser.parse_args()
    if args.self_test:
        failures = self_test()
        for failure in failures:
            print("check-rust-sys self-test:", failure, file=sys.stderr)
        if not failures:
            print("check-rust-sys self-test: ok")
        return 1 if failures else 0
    problems = check(os.path.abspath(args.root))
    for problem in problems:
        print("rust sys declarations:", problem, file=sys.stderr)
    if not problems:
        print("rust sys declarations: every function, callback, struct and constant matches %s" % HEADER)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
