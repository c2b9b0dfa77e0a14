#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Turns the callgrind dumps of bench/c/counted.c into instructions per request and per
chunk, and guards them against a committed baseline (bench/instructions-baseline.json).

Usage:
  instructions.py measure DUMP_FILE --lib LIBDIR [--json OUT] [--baseline B [--check]]
                                              [--update-baseline B]
  instructions.py check MEASURED_JSON BASELINE_JSON
  instructions.py selftest MEASURED_JSON
  instructions.py python DUMP_FILE --json OUT      (bench/python/bench.py --count-instructions)
  instructions.py profile DUMP_FILE WORKLOAD [SIDE] [TOP]   (self cost per unit by function)

Every phase of the driver is one dump (all threads, its "totals:" line); the dumps named
"between phases" hold the unmeasured work and are ignored. A workload's per-unit figure is the
difference of its two phases divided by the units between them, so fixed costs cancel:
  complete: (12 requests - 2 requests) / 10         streams: (2 x 256 - 2 x 16 chunks) / 480
Sides: pmx (the library), raw (libcurl moving and framing the bytes, no JSON: the floor the
issue-14 targets are "added" to), rawjson (the same client parsing every body / event with
jansson, as a real client does). "added" = pmx - raw.

The guard compares pmx figures (per request, per chunk of each protocol) with the baseline and
fails when one exceeds it by more than the baseline's tolerance (10 %); it prints the table
either way. Exit status: 0 pass, 1 regression (or a figure missing), 2 bad input.
"""
import datetime
import glob
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
WORKLOADS = [
    # key, label, small phase, large phase, units between them
    ("complete", "per request, pmx_router_complete (OpenAI body)", "complete 2", "complete 12", 10),
    ("openai", "per chunk, OpenAI SSE (pmx_router_stream, JSON callback)", "openai 16", "openai 256", 480),
    ("anthropic", "per chunk, Anthropic SSE", "anthropic 16", "anthropic 256", 480),
    ("gemini", "per chunk, Gemini SSE", "gemini 16", "gemini 256", 480),
    ("ollama", "per chunk, Ollama NDJSON", "ollama 16", "ollama 256", 480),
]
SIDES = ("pmx", "raw", "rawjson")
DEFAULT_TOLERANCE = 0.10


def read_dumps(out_file):
    """{"pmx complete 2": instructions, ...} from OUT_FILE.1, OUT_FILE.2, ..."""
    phases = {}
    for path in glob.glob(out_file + ".*"):
        if not re.search(r"\.\d+$", path):
            continue
        label = total = None
        with open(path, errors="replace") as f:
            for line in f:
                if line.startswith("desc: Trigger: Client Request: "):
                    label = line.split("Client Request: ", 1)[1].strip()
                elif line.startswith("totals:"):
                    total = int(line.split()[1])
        if label is not None and total is not None:
            phases[label] = total
    return phases


def figures(phases):
    """Per-unit instructions for every workload and side; raises KeyError naming a missing phase."""
    out = {}
    for key, _, small, large, units in WORKLOADS:
        row = {}
        for side in SIDES + (("pull",) if key != "complete" else ()):
            a, b = "%s %s" % (side, small), "%s %s" % (side, large)
            if a not in phases or b not in phases:
                raise KeyError("phase '%s' or '%s' missing from the callgrind dumps" % (a, b))
            row[side] = round((phases[b] - phases[a]) / units)
        if "pull" in row:
            row["pull_added"] = row["pull"] - row["raw"]
        row["added"] = row["pmx"] - row["raw"]
        row["added_vs_jansson"] = row["pmx"] - row["rawjson"]
        out[key] = row
    return out


def git_describe():
    try:
        return subprocess.run(["git", "-C", HERE, "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def load_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        print("instructions: cannot read %s: %s" % (path, e), file=sys.stderr)
        sys.exit(2)


def guarded():
    """The figures the guard checks: (side, workload key, label) — pmx for every workload, the
    typed pull stream for every stream protocol."""
    out = [("pmx", key, label) for key, label, *_ in WORKLOADS]
    out += [("pull", key, label) for key, label, *_ in WORKLOADS if key != "complete"]
    return out


def compare(measured, baseline):
    """[(name, measured, baseline, change, ok)] and the list of problems."""
    tol = float(baseline.get("tolerance", DEFAULT_TOLERANCE))
    rows, problems = [], []
    for side, key, label in guarded():
        name = key if side == "pmx" else "%s %s" % (side, key)
        m = measured.get("figures", {}).get(key, {}).get(side)
        b = baseline.get(side, {}).get(key)
        if m is None:
            problems.append("%s: no measured figure" % name)
            rows.append((name, None, b, None, False))
            continue
        if not isinstance(b, (int, float)) or b <= 0:
            problems.append("%s: no baseline figure (run bench/instructions.sh --update-baseline)" % name)
            rows.append((name, m, None, None, False))
            continue
        change = (m - b) / b
        ok = m <= b * (1 + tol)
        if not ok:
            problems.append("%s %s: %s instructions, baseline %s, +%.1f %% > %.0f %%" % (
                name, label.split(",")[0], fmt(m), fmt(b), change * 100, tol * 100))
        rows.append((name, m, b, change, ok))
    return rows, problems, tol


def fmt(v):
    return "—" if v is None else "{:,}".format(int(v))


def table(measured, baseline=None):
    f = measured["figures"]
    lines = ["instructions (callgrind, all threads; lib %s)" % measured.get("lib", "?"),
             "%-58s %10s %10s %10s %11s %10s %10s" % ("", "pmx", "raw curl", "added", "raw+jansson", "pmx-jansson",
                                                      "typed pull")]
    for key, label, *_ in WORKLOADS:
        r = f[key]
        lines.append("%-58s %10s %10s %10s %11s %10s %10s" % (
            label, fmt(r["pmx"]), fmt(r["raw"]), fmt(r["added"]), fmt(r["rawjson"]), fmt(r["added_vs_jansson"]),
            fmt(r.get("pull"))))
    lines.append("(pmx: pmx_router_complete / pmx_router_stream with the JSON callback; typed pull: "
                 "pmx_router_stream_open + pmx_stream_next, 64 events a call)")
    if baseline is not None:
        rows, problems, tol = compare(measured, baseline)
        lines.append("")
        lines.append("guard: against the baseline (%s), tolerance +%.0f %%" % (
            baseline.get("source", "?"), tol * 100))
        below = False
        for key, m, b, change, ok in rows:
            ch = "—" if change is None else "%+.1f %%" % (change * 100)
            verdict = "REGRESSION" if not ok else "ok"
            if ok and change is not None and change < -tol:
                verdict, below = "ok, well below", True
            lines.append("  %-15s %10s  baseline %10s  %8s  %s" % (key, fmt(m), fmt(b), ch, verdict))
        if below:
            lines.append("Figures more than %.0f %% below the baseline leave room for a regression to pass: "
                         "lower it (bench/instructions.sh LIBDIR --update-baseline, commit the file)." % (tol * 100))
    return "\n".join(lines)


def cmd_measure(args):
    dump = args[0]
    opts = {"--lib": None, "--json": None, "--baseline": None, "--update-baseline": None}
    check = False
    i = 1
    while i < len(args):
        if args[i] == "--check":
            check = True
            i += 1
        elif args[i] in opts and i + 1 < len(args):
            opts[args[i]] = args[i + 1]
            i += 2
        else:
            print("instructions: unknown argument %s" % args[i], file=sys.stderr)
            return 2
    phases = read_dumps(dump)
    try:
        figs = figures(phases)
    except KeyError as e:
        print("instructions: %s (did the driver run under callgrind?)" % e.args[0], file=sys.stderr)
        return 2
    measured = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": git_describe(), "lib": opts["--lib"], "figures": figs, "phases": phases,
        "method": "callgrind totals per phase; per unit = (large phase - small phase) / units",
    }
    if opts["--json"]:
        with open(opts["--json"], "w") as f:
            json.dump(measured, f, indent=2)
            f.write("\n")
    baseline = load_json(opts["--baseline"]) if opts["--baseline"] and os.path.exists(opts["--baseline"]) else None
    if check and baseline is None:
        print("instructions: --check needs a baseline file (%s is missing)" % opts["--baseline"], file=sys.stderr)
        return 2
    print(table(measured, baseline))
    if opts["--update-baseline"]:
        write_baseline(opts["--update-baseline"], measured, baseline)
        print("\nwrote %s" % opts["--update-baseline"])
    if check:
        _, problems, _ = compare(measured, baseline)
        if problems:
            print("\nFAIL: instructions regressed beyond the baseline's tolerance:", file=sys.stderr)
            for p in problems:
                print("  " + p, file=sys.stderr)
            print("If the increase is intended, update the baseline: bench/instructions.sh --update-baseline",
                  file=sys.stderr)
            return 1
        print("\nguard: every figure within the tolerance")
    return 0


def write_baseline(path, measured, old):
    tol = float(old.get("tolerance", DEFAULT_TOLERANCE)) if old else DEFAULT_TOLERANCE
    doc = {
        "about": "pmx instructions per request / per chunk that ctest instructions_guard allows, +tolerance. "
                 "Update with bench/instructions.sh --update-baseline on the commit the figures belong to.",
        "source": "%s, %s" % (measured.get("commit") or "?", measured["date"]),
        "tolerance": tol,
        "pmx": {key: measured["figures"][key]["pmx"] for key, *_ in WORKLOADS},
        "pull": {key: measured["figures"][key]["pull"] for key, *_ in WORKLOADS if key != "complete"},
        "raw": {key: measured["figures"][key]["raw"] for key, *_ in WORKLOADS},
    }
    with open(path, "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")


def cmd_check(args):
    measured, baseline = load_json(args[0]), load_json(args[1])
    print(table(measured, baseline))
    _, problems, _ = compare(measured, baseline)
    for p in problems:
        print("REGRESSION " + p, file=sys.stderr)
    return 1 if problems else 0


def cmd_selftest(args):
    """The guard's comparison on real measured figures: it passes against a baseline equal to
    them, and fails against one 20 % lower (each figure in turn) or one missing a figure."""
    measured = load_json(args[0])
    figs = measured["figures"]
    same = {"tolerance": DEFAULT_TOLERANCE, "source": "selftest", "pmx": {}, "pull": {}}
    for side, key, _ in guarded():
        same[side][key] = figs[key][side]
    failures = []
    _, problems, _ = compare(measured, same)
    if problems:
        failures.append("a baseline equal to the measured figures fails: %s" % problems)
    for side, key, _ in guarded():
        name = key if side == "pmx" else "%s %s" % (side, key)
        lower = json.loads(json.dumps(same))
        lower[side][key] = int(figs[key][side] * 0.8)
        _, problems, _ = compare(measured, lower)
        if len(problems) != 1 or not problems[0].startswith(name + " "):
            failures.append("a baseline 20 %% lower for %s gives %s" % (name, problems))
        within = json.loads(json.dumps(same))
        within[side][key] = int(figs[key][side] / 1.09)
        _, problems, _ = compare(measured, within)
        if problems:
            failures.append("a figure 9 %% above the baseline for %s fails: %s" % (name, problems))
    missing = json.loads(json.dumps(same))
    del missing["pmx"]["gemini"]
    _, problems, _ = compare(measured, missing)
    if not any(p.startswith("gemini: no baseline") for p in problems):
        failures.append("a baseline without gemini passes: %s" % problems)
    # End to end through the command the guard's exit status comes from.
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        for name, doc, want in (("equal", same, 0), ("lower", lower_all(same), 1)):
            path = os.path.join(tmp, name + ".json")
            with open(path, "w") as f:
                json.dump(doc, f)
            print("--- check against a baseline %s" % ("equal to the figures" if want == 0 else "20 % lower"))
            got = cmd_check([args[0], path])
            if got != want:
                failures.append("check against the %s baseline exits %d, expected %d" % (name, got, want))
    for f in failures:
        print("selftest FAIL: " + f, file=sys.stderr)
    if not failures:
        print("selftest: the guard passes at the baseline and at +9 %%, fails at +25 %% (a baseline 20 %% "
              "lower) for each of %d figures, and fails on a missing baseline figure" % len(guarded()))
    return 1 if failures else 0


def lower_all(baseline):
    doc = json.loads(json.dumps(baseline))
    for side in ("pmx", "pull"):
        doc[side] = {k: int(v * 0.8) for k, v in doc[side].items()}
    return doc


def self_costs(path):
    """{function: self instructions} of one callgrind dump (name-compressed format: "fn=(id) name"
    defines an id; the cost line after "calls=" is the call's inclusive cost, not self cost)."""
    names, objs, costs, fn, skip, ob = {}, {}, {}, None, False, ""
    with open(path, errors="replace") as f:
        for line in f:
            c = line[:1]
            if line.startswith(("ob=", "cob=")):
                m = re.match(r"c?ob=\((\d+)\)(?: (.*))?", line.strip())
                if m:
                    if m.group(2):
                        objs[m.group(1)] = os.path.basename(m.group(2))
                    if line.startswith("ob="):
                        ob = objs.get(m.group(1), "")
                continue
            if c.isdigit() or c in "+-*":
                if skip:
                    skip = False
                    continue
                parts = line.split()
                if fn is not None and len(parts) >= 2:
                    costs[fn] = costs.get(fn, 0) + int(parts[1])
            elif line.startswith("fn="):
                m = re.match(r"fn=\((\d+)\)(?: (.*))?", line.strip())
                if m:
                    if m.group(2):
                        names[m.group(1)] = m.group(2)
                    fn = names.get(m.group(1), m.group(1))
                    if fn.startswith("0x") and ob:  # no symbol: say which library
                        fn = "%s [%s]" % (fn, ob)
                else:
                    fn = line[3:].strip()
            elif line.startswith("calls="):
                skip = True
            elif line.startswith(("cfn=", "cfi=")):
                m = re.match(r"c(?:fn|fi|ob)=\((\d+)\) (.*)", line.strip())
                if m and line.startswith("cfn="):
                    names[m.group(1)] = m.group(2)
    return costs


def cmd_profile(args):
    """profile DUMP_FILE WORKLOAD [SIDE] [TOP]: self instructions per unit by function, the
    large phase minus the small one (what the figure is made of)."""
    dump, key = args[0], args[1]
    side = args[2] if len(args) > 2 else "pmx"
    top = int(args[3]) if len(args) > 3 else 25
    w = [x for x in WORKLOADS if x[0] == key]
    if not w:
        print("instructions: unknown workload %s (%s)" % (key, ", ".join(x[0] for x in WORKLOADS)), file=sys.stderr)
        return 2
    _, label, small, large, units = w[0]
    files = {}
    for path in glob.glob(dump + ".*"):
        with open(path, errors="replace") as f:
            for line in f:
                if line.startswith("desc: Trigger: Client Request: "):
                    files[line.split("Client Request: ", 1)[1].strip()] = path
                    break
    a, b = files.get("%s %s" % (side, small)), files.get("%s %s" % (side, large))
    if not a or not b:
        print("instructions: no dumps for %s %s" % (side, key), file=sys.stderr)
        return 2
    ca, cb = self_costs(a), self_costs(b)
    diff = {k: (cb.get(k, 0) - ca.get(k, 0)) / units for k in set(ca) | set(cb)}
    total = sum(diff.values())
    print("%s, %s: %s instructions per unit, self cost by function (large - small phase)" % (
        label, side, fmt(total)))
    for k, v in sorted(diff.items(), key=lambda kv: -kv[1])[:top]:
        print("%10s %5.1f %%  %s" % (fmt(v), 100.0 * v / total if total else 0, k[:110]))
    return 0


# Python (bench/python/bench.py --count-instructions under callgrind): per request of each
# client (2 and 8 requests) and per chunk of iterating each client's stream (2 streams of 16 and
# of 256 chunks), all threads of the interpreter (providermux's I/O thread included).
PY_CHAT_CLIENTS = ("providermux", "openai", "http.client")
PY_STREAM_CLIENTS = ("providermux", "providermux-cb", "openai", "http.client")


def python_figures(phases):
    out = {"request": {}, "chunk": {}}
    for c in PY_CHAT_CLIENTS:
        a, b = phases.get("py %s chat 2" % c), phases.get("py %s chat 8" % c)
        if a is None or b is None:
            raise KeyError("phase 'py %s chat 2/8' missing from the callgrind dumps" % c)
        out["request"][c] = round((b - a) / 6)
    for c in PY_STREAM_CLIENTS:
        a, b = phases.get("py %s stream 16" % c), phases.get("py %s stream 256" % c)
        if a is None or b is None:
            raise KeyError("phase 'py %s stream 16/256' missing from the callgrind dumps" % c)
        out["chunk"][c] = round((b - a) / 480)
    return out


def cmd_python(args):
    """python DUMP_FILE --json OUT: the Python clients' instructions per request and per chunk."""
    if len(args) != 3 or args[1] != "--json":
        print("usage: instructions.py python DUMP_FILE --json OUT", file=sys.stderr)
        return 2
    phases = read_dumps(args[0])
    try:
        figs = python_figures(phases)
    except KeyError as e:
        print("instructions: %s" % e.args[0], file=sys.stderr)
        return 2
    doc = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
           "commit": git_describe(), "figures": figs, "phases": phases,
           "method": "callgrind totals per phase; per request = (8 - 2 requests) / 6, "
                     "per chunk = (2 x 256 - 2 x 16 chunks) / 480"}
    with open(args[2], "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    print("Python instructions (callgrind, all threads of the interpreter)")
    print("%-16s %14s %14s" % ("client", "per request", "per chunk"))
    for c in PY_STREAM_CLIENTS:
        print("%-16s %14s %14s" % (c, fmt(figs["request"].get(c)), fmt(figs["chunk"].get(c))))
    return 0


def main(argv):
    cmds = {"measure": cmd_measure, "check": cmd_check, "selftest": cmd_selftest, "python": cmd_python,
            "profile": cmd_profile}
    if len(argv) < 2 or argv[0] not in cmds:
        print(__doc__, file=sys.stderr)
        return 2
    return cmds[argv[0]](argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
