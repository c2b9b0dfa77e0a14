#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The suite-wide secret scan: no test API key may appear in anything the library handed to a
test, across the whole ctest suite (C, C++, Python, Swift, Go, Rust, examples).

    Tests/secret-scan.py --source ROOT --transcripts DIR [--ctest-dir DIR] [--list-keys]

1. Keys: every API key the test sources use, found by per-language patterns (``api_key``
   fields in JSON literals, ``api_key=`` arguments, string constants named like a key or a
   secret, environment variables named like one set by a test, credential headers). Fewer than
   MIN_KEYS, or one of the REQUIRED keys missing, fails: a broken extractor cannot pass.
2. Transcripts: ctest runs every test with ``PMX_TRANSCRIPT_DIR=<build>/transcripts/<test>``,
   so the library appends each string it hands to the test (log lines at every level, errors,
   responses, events, stats, models, health) to ``<test>/pmx-<pid>.log``, one tagged line
   each. Any key in any line fails, listing file:line, the kind and the key MASKED (the key
   itself is never printed).
3. Not vacuous: the tests that ran (from ctest's own log) must have left transcripts of the
   kinds they are known to produce (EXPECTED); when every expected test ran, the totals must
   reach FULL_RUN_MINIMUM. ctest's log of the tests' own output is scanned for keys too.

Exit status 0 when clean, 1 on a finding, 2 on bad usage.
"""

from __future__ import annotations

import argparse
import collections
import glob
import json
import os
import re
import sys
import urllib.parse

# ---------------------------------------------------------------------------------------------
# What a run must show (lines per kind, at least), per ctest test. Figures are about a third
# of a full run's (see the report this script prints), so they hold on a slow machine and fail
# when a test stops reaching its transcript.
# ---------------------------------------------------------------------------------------------
EXPECTED: dict[str, dict[str, int]] = {
    "c_basics": {"log": 5, "error": 25, "response": 1, "event": 1, "stats": 1, "models": 1, "health": 1},
    "c_mock": {"log": 8, "error": 8, "response": 2, "event": 15, "stats": 1, "models": 1, "health": 1},
    "c_async": {"log": 15, "event": 100},
    "c_upstream": {"log": 25, "error": 4, "response": 4, "event": 15, "stats": 1, "models": 1, "health": 1},
    "c_protocols": {"log": 4, "response": 4, "event": 20, "stats": 1},
    "c_routing": {"log": 5, "error": 4, "response": 3, "stats": 1},
    "c_abuse": {"log": 15, "error": 100, "response": 2, "event": 50},
    "header_cxx": {"response": 1, "event": 1},
    "cxx_wrapper": {"log": 10, "error": 5, "response": 4, "event": 15, "stats": 2, "models": 1, "health": 1},
    "cxx_chat_example": {"log": 1, "event": 3},  # typed events: the response comes in the done event
    "install_pkgconfig": {"log": 1, "response": 1, "event": 2},
    "swift_tests": {"log": 250, "error": 12, "response": 100, "event": 200, "stats": 1, "models": 2, "health": 2},
    "python_tests": {"log": 200, "error": 40, "response": 60, "event": 400, "stats": 4, "models": 1, "health": 1,
                     "manage": 1},
    "go_binding": {"log": 35, "error": 5, "response": 1, "event": 150, "stats": 1, "models": 1, "health": 1},
    "rust_binding": {"log": 80, "error": 6, "response": 70, "event": 25, "stats": 2, "models": 1, "health": 1},
    # pmx-gateway's own process: the bodies it sends (Gateway/Responses.swift, ChunkEncoder).
    "gateway": {"log": 8, "error": 5, "response": 2, "event": 8, "stats": 1, "models": 1, "health": 1},
}
# Tests that never load the library (no transcript expected).
NO_LIBRARY = {"transcripts_clean", "secret_scan", "library_shape", "stage_install", "fuzz_smoke", "gateway_build"}
# A full run (every EXPECTED test ran): totals over all transcripts, and processes (files).
# A full run had log 2111, error 778, response 805, event 3378, stats 43, models 16, health 16
# lines from 40 processes.
FULL_RUN_MINIMUM = {"log": 700, "error": 250, "response": 250, "event": 1000, "stats": 12,
                    "models": 5, "health": 5}
FULL_RUN_MIN_PROCESSES = 20

MIN_KEYS = 20
MIN_KEY_LENGTH = 8  # shorter test values ("k", "x", "sk-abc") are ordinary text, not keys

# Keys the extractor must find (file, how to read the value independently of the extractor).
REQUIRED = [
    ("Tests/python/pmx_testlib.py", r'^SECRET = "([^"]+)"'),
    ("Tests/c/test_upstream.c", r'^#define KEY "([^"]+)"'),
    ("Tests/c/test_basics.c", r'^#define SECRET_VALUE "([^"]+)"'),
    ("Tests/ProviderMuxCoreTests/Integration/IntegrationTests.swift", r'^private let apiKey = "([^"]+)"'),
    ("Tests/python/test_transcript.py", r'^AZURE_KEY = "([^"]+)"'),
    ("bindings/go/providermux_test.go", r'^const goDeadKey = "([^"]+)"'),
]

# Where test keys live, relative to the source root.
KEY_SOURCES = ["Tests", "examples", "examples-c", "examples-cxx", "examples-python", "bindings",
               "soak", "bench"]
SOURCE_EXTENSIONS = {".swift", ".c", ".h", ".cpp", ".hpp", ".py", ".go", ".rs", ".json", ".sh"}
SKIP_DIRS = {".build", ".build-test", ".build-release", ".cache", "target", "build", "__pycache__",
             ".git", "corpus", "node_modules", ".venv", "stage"}
THIS_FILE = os.path.abspath(__file__)

# ---------------------------------------------------------------------------------------------
# Key extraction
# ---------------------------------------------------------------------------------------------
KEYISH_NAME = r"[A-Za-z_]*(?:[Kk]ey|KEY|[Ss]ecret|SECRET|[Tt]oken|TOKEN)[A-Za-z0-9_]*"
CREDENTIAL_HEADERS = r"(?:authorization|x-api-key|api-key|x-goog-api-key)"
VALUE = r"([^\"'\\\n]+)"

PATTERNS = [
    # "api_key":"v" in JSON, in any language's string literal (escaped quotes included).
    ("api_key field", re.compile(r'api_key\\?"\s*:\s*\\?"' + VALUE)),
    # api_key="v" as a keyword argument or a Go/Rust/Swift field.
    ("api_key argument", re.compile(r'\bapi_?[Kk]ey\s*[=:]\s*[rb]?["\']' + VALUE)),
    # let/var/const/static NAME = "v", NAME = "v", NAME := "v" with a key-like name.
    ("key constant", re.compile(r'\b' + KEYISH_NAME + r'\s*(?::\s*[&\'\w ]+)?\s*:?=\s*[rb]?["\']' + VALUE)),
    # #define NAME "v"
    ("key macro", re.compile(r'#define\s+' + KEYISH_NAME + r'\s+"' + VALUE)),
    # setenv("NAME", "v"), monkeypatch.setenv, os.Setenv, t.Setenv, env::set_var, os.environ[...] = "v"
    ("key in environment", re.compile(
        r'(?:setenv|Setenv|set_var)\(\s*"?' + KEYISH_NAME + r'"?\s*,\s*[rb]?["\']' + VALUE)),
    ("key in environment", re.compile(r'environ\[\s*["\']' + KEYISH_NAME + r'["\']\s*\]\s*=\s*["\']' + VALUE)),
    # {"LOCAL_KEY": "v"}: an environment given to a config parser, a dictionary of secrets.
    ("key in a dictionary", re.compile(r'["\']' + KEYISH_NAME + r'["\']\s*:\s*["\']' + VALUE)),
    # json_object_set_new(p, "api_key", json_string("v")): C building a config.
    ("api_key in C", re.compile(r'"api_key"\s*,\s*(?:json_string\()?"' + VALUE)),
    # Any string literal shaped like a provider's key (OpenAI/Anthropic sk-, Gemini AIza, Groq
    # gsk_, xAI xai-, Hugging Face hf_), wherever it is: a dictionary of keys by provider.
    ("key-shaped literal", re.compile(r'["\'`]((?:sk-|AIza|gsk_|xai-|hf_)[A-Za-z0-9_-]{6,})["\'`]')),
    # {"authorization": "Bearer v"}, {"api-key": "v"}
    ("credential header", re.compile(
        r'["\']' + CREDENTIAL_HEADERS + r'["\']\s*:\s*["\'](?:Bearer )?' + VALUE, re.I)),
]
# Placeholders that make a value a template: printf, str.format / f-strings, Swift
# interpolation, Go/Rust format verbs, and the config's own ${ENV} references.
PLACEHOLDER = re.compile(r'%[-+ 0#]*\d*[sdxv]|\{[^}]*\}|\\#?\(|\$\{')


def key_from_value(raw: str):
    """('key', text) for a literal key, ('pattern', regex) for a template, or None."""
    value = raw.strip()
    if "${" in value or value.startswith("\\(") or value.startswith("\\#("):
        return None  # an environment reference or a variable, resolved where it is defined
    m = PLACEHOLDER.search(value)
    if m:
        prefix = value[:m.start()]
        if len(prefix) < MIN_KEY_LENGTH or not re.search(r"[-_]", prefix):
            return None
        # test-key-%s: the prefix followed by a name-like word.
        return ("pattern", re.escape(prefix) + r"[A-Za-z0-9._-]+")
    if len(value) < MIN_KEY_LENGTH or re.search(r"\s", value):
        return None
    if "/" in value or value.endswith((".pem", ".json", ".py", ".log", ".txt")):
        return None  # a path, not a key
    if re.fullmatch(r"[A-Z][A-Z0-9_]*", value):
        return None  # an environment variable's name (messages may name it)
    if not re.search(r"[0-9]", value) and not re.search(r"[A-Z]", value) and "-" not in value:
        return None  # an ordinary identifier
    return ("key", value)


def source_files(root: str):
    for top in KEY_SOURCES:
        base = os.path.join(root, top)
        if os.path.isfile(base):
            yield base
            continue
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
            for name in sorted(filenames):
                path = os.path.join(dirpath, name)
                if os.path.splitext(name)[1] in SOURCE_EXTENSIONS and os.path.abspath(path) != THIS_FILE:
                    yield path


def extract_keys(root: str):
    """{key: first source 'file:line'} and {pattern: first source}."""
    keys: dict[str, str] = {}
    patterns: dict[str, str] = {}
    for path in source_files(root):
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                lines = f.read().splitlines()
        except OSError:
            continue
        rel = os.path.relpath(path, root)
        for n, line in enumerate(lines, 1):
            for _, pattern in PATTERNS:
                for m in pattern.finditer(line):
                    found = key_from_value(m.group(m.lastindex))
                    if found is None:
                        continue
                    kind, text = found
                    (keys if kind == "key" else patterns).setdefault(text, f"{rel}:{n}")
    return keys, patterns


def required_keys(root: str):
    out = []
    for rel, regex in REQUIRED:
        with open(os.path.join(root, rel), encoding="utf-8") as f:
            m = re.search(regex, f.read(), re.M)
        out.append((rel, m.group(1) if m else None))
    return out


def masked(key: str) -> str:
    """The library's own masking: never print a key."""
    return "****" + key[-4:]


def variants(key: str):
    """The key as it may appear in a line: verbatim, JSON-escaped, URL-encoded."""
    forms = {key, json.dumps(key)[1:-1], urllib.parse.quote(key, safe="")}
    return [f for f in forms if f]


class Matcher:
    def __init__(self, keys: dict[str, str], patterns: dict[str, str]):
        self.keys = keys
        self.patterns = patterns
        self.form_to_key = {}
        for k in keys:
            for form in variants(k):
                self.form_to_key.setdefault(form, k)
        alternatives = [re.escape(f) for f in sorted(self.form_to_key, key=len, reverse=True)]
        alternatives += [f"(?:{p})" for p in patterns]
        self.regex = re.compile("|".join(alternatives)) if alternatives else None

    def find(self, text: str):
        """The keys (or pattern matches) in `text`."""
        if self.regex is None:
            return []
        return [self.form_to_key.get(m.group(0), m.group(0)) for m in self.regex.finditer(text)]

    def mask_all(self, text: str) -> str:
        if self.regex is None:
            return text
        return self.regex.sub(lambda m: masked(m.group(0)), text)

    def origin(self, key: str) -> str:
        if key in self.keys:
            return self.keys[key]
        for p, src in self.patterns.items():
            if re.fullmatch(p, key):
                return src + " (pattern)"
        return "?"


# ---------------------------------------------------------------------------------------------
# ctest's log: which tests ran, and their output
# ---------------------------------------------------------------------------------------------
def ctest_log(ctest_dir: str | None):
    """(path, text) of the current (or last) ctest log, or (None, '')."""
    if not ctest_dir:
        return None, ""
    candidates = glob.glob(os.path.join(ctest_dir, "LastTest*.log.tmp")) or \
        glob.glob(os.path.join(ctest_dir, "LastTest*.log"))
    if not candidates:
        return None, ""
    path = max(candidates, key=os.path.getmtime)
    with open(path, encoding="utf-8", errors="replace") as f:
        return path, f.read()


def tests_that_ran(log_text: str) -> list[str]:
    return re.findall(r"^\d+/\d+ Testing: (\S+)\s*$", log_text, re.M)


# ---------------------------------------------------------------------------------------------
# Scan
# ---------------------------------------------------------------------------------------------
def scan(args) -> int:
    problems: list[str] = []
    keys, patterns = extract_keys(args.source)
    if args.list_keys:
        for k, src in sorted(keys.items(), key=lambda kv: kv[1]):
            print(f"  key {masked(k):12} len {len(k):3}  {src}")
        for p, src in sorted(patterns.items(), key=lambda kv: kv[1]):
            print(f"  pattern {p}  {src}")
    print(f"secret-scan: {len(keys)} test keys and {len(patterns)} key patterns from the test sources")
    if len(keys) < args.min_keys:
        problems.append(f"only {len(keys)} keys extracted from {args.source} (at least {args.min_keys} "
                        f"expected): the extractor is broken or the sources moved")
    for rel, key in (required_keys(args.source) if not args.no_required else []):
        if key is None:
            problems.append(f"{rel}: the known test key is no longer where REQUIRED says")
        elif key not in keys:
            problems.append(f"{rel}: the extractor missed its key {masked(key)}")
    matcher = Matcher(keys, patterns)

    # Transcripts, by test (first directory level).
    if not os.path.isdir(args.transcripts):
        problems.append(f"no transcript directory {args.transcripts}: did the tests run with "
                        f"PMX_TRANSCRIPT_DIR set?")
        files = []
    else:
        files = sorted(glob.glob(os.path.join(args.transcripts, "**", "pmx-*.log"), recursive=True))
    per_test: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    processes: collections.Counter = collections.Counter()
    totals: collections.Counter = collections.Counter()
    hits = 0
    total_bytes = 0
    for path in files:
        rel = os.path.relpath(path, args.transcripts)
        test = rel.split(os.sep)[0] if os.sep in rel else "."
        processes[test] += 1
        with open(path, encoding="utf-8", errors="replace") as f:
            for n, line in enumerate(f, 1):
                total_bytes += len(line)
                kind = line.split(" ", 1)[0]
                per_test[test][kind] += 1
                totals[kind] += 1
                found = matcher.find(line)
                if found:
                    hits += 1
                    if hits <= args.max_report:
                        which = ", ".join(sorted({f"{masked(k)} (from {matcher.origin(k)})" for k in found}))
                        excerpt = matcher.mask_all(line.rstrip("\n"))[:300]
                        problems.append(f"{path}:{n}: [{kind}] contains test key {which}\n      {excerpt}")
    if hits > args.max_report:
        problems.append(f"... {hits - args.max_report} more lines with keys not listed")

    # ctest's own log: which tests ran, and what they printed.
    log_path, log_text = ctest_log(args.ctest_dir)
    ran = tests_that_ran(log_text)
    if log_path:
        for n, line in enumerate(log_text.splitlines(), 1):
            found = matcher.find(line)
            if found:
                which = ", ".join(sorted({masked(k) for k in found}))
                problems.append(f"{log_path}:{n}: test output contains test key {which}\n      "
                                f"{matcher.mask_all(line)[:300]}")

    # Not vacuous.
    checked = [t for t in ran if t in EXPECTED] if log_path else [t for t in EXPECTED if t in per_test]
    for test in checked:
        counts = per_test.get(test)
        if not counts:
            problems.append(f"{test} ran but left no transcript under {args.transcripts}/{test}: "
                            f"PMX_TRANSCRIPT_DIR did not reach it?")
            continue
        short = {k: (counts[k], n) for k, n in EXPECTED[test].items() if counts[k] < n}
        if short:
            problems.append(f"{test}: too few transcript lines: " +
                            ", ".join(f"{k} {have} < {need}" for k, (have, need) in short.items()))
    for test in ran:
        if test not in EXPECTED and test not in NO_LIBRARY and test not in per_test:
            print(f"secret-scan: note: {test} ran and left no transcript (not in EXPECTED)")
    full_run = all(t in ran for t in EXPECTED) if log_path else args.full
    if full_run:
        short = {k: (totals[k], n) for k, n in FULL_RUN_MINIMUM.items() if totals[k] < n}
        if short:
            problems.append("full run: too few transcript lines: " +
                            ", ".join(f"{k} {have} < {need}" for k, (have, need) in short.items()))
        if len(files) < FULL_RUN_MIN_PROCESSES:
            problems.append(f"full run: transcripts from only {len(files)} processes "
                            f"(at least {FULL_RUN_MIN_PROCESSES} expected)")
    if not files:
        problems.append("no transcript files at all")

    # Report.
    print(f"secret-scan: {sum(totals.values())} transcript lines ({total_bytes / 1e6:.1f} MB) "
          f"from {len(files)} processes of {len(processes)} tests"
          + (f"; ctest log {log_path}: {len(ran)} tests ran" if log_path else "; no ctest log")
          + ("; full run" if full_run else ""))
    for test in sorted(per_test):
        c = per_test[test]
        print(f"  {test:20} {processes[test]:4} proc  " +
              "  ".join(f"{k} {c[k]}" for k in sorted(c)))
    if problems:
        print(f"secret-scan: FAILED ({len(problems)} problems)")
        for p in problems:
            print("  " + p)
        return 1
    print("secret-scan: clean: no test key in any transcript line or test output")
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--source", required=True, help="the repository root (test sources)")
    ap.add_argument("--transcripts", required=True, help="PMX_TRANSCRIPT_DIR root: one directory per test")
    ap.add_argument("--ctest-dir", help="ctest's Testing/Temporary directory (which tests ran, their output)")
    ap.add_argument("--full", action="store_true", help="without a ctest log: apply the full-run minimums")
    ap.add_argument("--min-keys", type=int, default=MIN_KEYS)
    ap.add_argument("--no-required", action="store_true", help="skip the REQUIRED keys check (self-tests)")
    ap.add_argument("--max-report", type=int, default=50)
    ap.add_argument("--list-keys", action="store_true", help="print the keys found (masked) and their sources")
    args = ap.parse_args(argv)
    return scan(args)


if __name__ == "__main__":
    sys.exit(main())
