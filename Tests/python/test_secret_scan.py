# SPDX-License-Identifier: Apache-2.0
"""Self-tests of the suite-wide secret scan (Tests/secret-scan.py): it finds keys in every
language's test sources, fails on a planted key naming file:line and the MASKED key (never the
key), fails when the transcripts are missing or a test that ran left none, and passes on clean
transcripts. Runs on fake source trees and transcripts; the real scan is ctest's secret_scan.
"""

import os
import subprocess
import sys

from pmx_testlib import ROOT

SCANNER = os.path.join(ROOT, "Tests", "secret-scan.py")

# One key per language and style (planted in a fake source tree).
FAKE_SOURCES = {
    "Tests/swift/A.swift": 'private let apiKey = "sk-swift-PLANTED-1111"\n'
                           'let p = #"{"name":"a","api_key":"sk-swiftjson-PLANTED-2222"}"#\n',
    "Tests/c/a.c": '#define KEY "sk-c-PLANTED-3333"\n'
                   'setenv("X_SECRET_KEY", "sk-cenv-PLANTED-4444", 1);\n'
                   '"\\"api_key\\":\\"test-pattern-key-%s\\"%s},"\n',
    "Tests/cxx/a.cpp": 'R"({"providers":[{"name":"m","type":"mock","api_key":"sk-cxx-PLANTED-5555"}]})";\n',
    "Tests/python/a.py": 'SECRET = "sk-py-PLANTED-6666"\n'
                         'monkeypatch.setenv("OPENAI_API_KEY", "sk-pyenv-PLANTED-7777")\n'
                         'client = Client(api_key="sk-pykw-PLANTED-8888")\n'
                         'HEADERS = {"x-api-key": "xk-pyhdr-PLANTED-9999"}\n'
                         'parse(env={"LOCAL_KEY": "sk-pydict-PLANTED-aaaa"})\n'
                         'BY_PROVIDER = {\n    "openai": "sk-pyshape-PLANTED-eeee",\n}\n',
    "bindings/go/a_test.go": 'const goKey = "sk-go-PLANTED-bbbb"\n',
    "bindings/rust/tests/a.rs": 'const TEST_API_KEY: &str = "sk-rust-PLANTED-cccc";\n'
                                'let c = r#"{"api_key":"sk-rustjson-PLANTED-dddd"}"#;\n',
    # Not keys: env references, variables, short values, names of variables, paths.
    "Tests/c/not.c": '"api_key":"${SOME_KEY}" "api_key":"k" #define SECRET_VAR "PMX_SOME_SECRET"\n'
                     'let key = dir.appendingPathComponent("key.pem").path\n',
}
PLANTED = ["sk-swift-PLANTED-1111", "sk-swiftjson-PLANTED-2222", "sk-c-PLANTED-3333",
           "sk-cenv-PLANTED-4444", "sk-cxx-PLANTED-5555", "sk-py-PLANTED-6666",
           "sk-pyenv-PLANTED-7777", "sk-pykw-PLANTED-8888", "xk-pyhdr-PLANTED-9999",
           "sk-pydict-PLANTED-aaaa", "sk-go-PLANTED-bbbb", "sk-rust-PLANTED-cccc",
           "sk-rustjson-PLANTED-dddd", "sk-pyshape-PLANTED-eeee"]

CLEAN = [
    "start 2025-01-01T00:00:00.000Z pid 1 program /bin/test",
    "log 2025-01-01T00:00:00.000Z DEBUG router created with 1 providers: a",
    'error 2025-01-01T00:00:00.000Z {"type":"error","message":"401: key ****1111 rejected"}',
    'response 2025-01-01T00:00:00.000Z {"object":"chat.completion"}',
]


def fake_tree(tmp_path):
    src = tmp_path / "src"
    for rel, text in FAKE_SOURCES.items():
        path = src / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return src


def transcripts(tmp_path, lines, test="c_fake"):
    d = tmp_path / "transcripts" / test
    d.mkdir(parents=True, exist_ok=True)
    (d / "pmx-4242.log").write_text("\n".join(lines) + "\n")
    return tmp_path / "transcripts"


def scan(src, tdir, *extra):
    proc = subprocess.run([sys.executable, SCANNER, "--source", str(src), "--transcripts", str(tdir),
                           "--no-required", "--min-keys", str(len(PLANTED)), *extra],
                          capture_output=True, text=True, timeout=120)
    return proc.returncode, proc.stdout + proc.stderr


def test_finds_every_language_key_and_nothing_else(tmp_path):
    src = fake_tree(tmp_path)
    rc, out = scan(src, transcripts(tmp_path, CLEAN), "--list-keys")
    assert rc == 0, out
    assert f"{len(PLANTED)} test keys and 1 key patterns" in out, out
    for key in PLANTED:
        assert "****" + key[-4:] in out, key
        assert key not in out, "the scanner printed a key"
    for not_a_key in ("SOME_KEY", "PMX_SOME_SECRET", "key.pem"):
        assert not_a_key not in out


def test_a_planted_key_fails_naming_file_line_and_masked_key(tmp_path):
    src = fake_tree(tmp_path)
    for i, key in enumerate(("sk-rust-PLANTED-cccc", "sk-pyenv-PLANTED-7777")):
        lines = CLEAN + [f'error 2025-01-01T00:00:00.000Z {{"message":"bad key {key} given"}}']
        tdir = transcripts(tmp_path / f"case{i}", lines)
        rc, out = scan(src, tdir)
        assert rc == 1, out
        assert f"pmx-4242.log:{len(lines)}: [error] contains test key ****{key[-4:]}" in out, out
        assert key not in out, "the scanner printed the key it found"


def test_a_key_made_from_a_template_is_found(tmp_path):
    """"test-pattern-key-%s" in a C format string: any test-pattern-key-<name> is a key."""
    src = fake_tree(tmp_path)
    rc, out = scan(src, transcripts(tmp_path, CLEAN + ["log x DEBUG sent test-pattern-key-anthropic"]))
    assert rc == 1 and "contains test key" in out and "(pattern)" in out, out
    assert "test-pattern-key-anthropic" not in out


def test_missing_or_empty_transcripts_fail(tmp_path):
    src = fake_tree(tmp_path)
    rc, out = scan(src, tmp_path / "nowhere")
    assert rc == 1 and "no transcript directory" in out, out
    (tmp_path / "empty").mkdir()
    rc, out = scan(src, tmp_path / "empty")
    assert rc == 1 and "no transcript files at all" in out, out


def scan_with_ctest_log(tmp_path, log_text):
    """Scans clean transcripts of a test c_fake, with ctest's log (during the run) `log_text`."""
    ctest = tmp_path / "Temporary"
    ctest.mkdir()
    (ctest / "LastTest.log.tmp").write_text(log_text)
    return scan(fake_tree(tmp_path), transcripts(tmp_path, CLEAN), "--ctest-dir", str(ctest))


def test_a_test_that_ran_without_transcript_fails(tmp_path):
    rc, out = scan_with_ctest_log(tmp_path, "Start testing\n1/3 Testing: transcripts_clean\n2/3 Testing: c_basics\n")
    assert rc == 1 and "c_basics ran but left no transcript" in out, out


def test_too_few_lines_of_a_kind_fails(tmp_path):
    src = fake_tree(tmp_path)
    tdir = transcripts(tmp_path, CLEAN, test="c_basics")
    rc, out = scan(src, tdir)
    assert rc == 1 and "c_basics: too few transcript lines" in out, out


def test_a_key_in_the_tests_output_fails(tmp_path):
    rc, out = scan_with_ctest_log(tmp_path, "1/2 Testing: c_fake\nOutput:\nconfig uses sk-go-PLANTED-bbbb\n")
    assert rc == 1 and "LastTest.log.tmp:3: test output contains test key ****bbbb" in out, out
    assert "sk-go-PLANTED-bbbb" not in out


def test_the_real_sources_yield_enough_keys_in_every_language(tmp_path):
    proc = subprocess.run([sys.executable, SCANNER, "--source", ROOT, "--transcripts",
                           str(transcripts(tmp_path, CLEAN)), "--list-keys"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout
    sources = [line.split()[-1] for line in proc.stdout.splitlines() if line.startswith("  key ")]
    for ext in (".swift", ".c", ".cpp", ".py", ".go", ".rs"):
        assert any(s.split(":")[0].endswith(ext) for s in sources), (ext, proc.stdout)
