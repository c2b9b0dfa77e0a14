#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Merges bench/.out/c.json and bench/.out/python.json into bench/.out/results.json and writes
bench/RESULTS.md: the machine, every figure with its target, and which targets were met.

Usage: report.py [--out bench/.out] [--md bench/RESULTS.md]

Either input may be missing (its section is then left out and said so). Targets are reported,
never enforced: a miss does not make this script fail.
"""
import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except FileNotFoundError:
        return None


def fmt(v, digits=1):
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return "{:,}".format(v)
    if abs(v) >= 1000:
        return "{:,.0f}".format(v)
    return "{:.{}f}".format(v, digits)


class Table:
    """Rows of (figure, value, unit, target, met) and the targets list."""

    def __init__(self):
        self.rows = []
        self.targets = []

    def add(self, section, figure, value, unit="", target=None, met=None, digits=1):
        self.rows.append((section, figure, fmt(value, digits), unit, target or "", met))
        if target is not None and met is not None:
            self.targets.append({"section": section, "name": figure, "value": value, "unit": unit,
                                 "target": target, "met": bool(met)})


def c_rows(t, c):
    ns = c["nonstream"]
    s = "C: non-streaming"
    t.add(s, "raw libcurl + jansson, median", ns["raw_us"], "µs")
    t.add(s, "pmx_router_complete + pmx_string_free, median", ns["pmx_us"], "µs")
    t.add(s, "added by pmx", ns["added_us"], "µs", "≤ 25 µs", ns["added_us"] <= 25)
    t.add(s, "ratio pmx / raw", ns["ratio"], "×", digits=2)
    if "pmx_cpu_us" in ns:
        t.add(s, "process CPU per request (all threads): raw / pmx", None)
        t.rows[-1] = (s, "process CPU per request (all threads): raw / pmx, median",
                      "%s / %s" % (fmt(ns["raw_cpu_us"]), fmt(ns["pmx_cpu_us"])), "µs", "", None)

    for n in sorted(c["stream"], key=int):
        st = c["stream"][n]
        s = "C: OpenAI SSE, %s chunks" % n
        t.add(s, "raw libcurl + SSE splitter + jansson, median total", st["raw_ms"], "ms", digits=3)
        t.add(s, "pmx_router_stream (callback counts events), median total", st["pmx_ms"], "ms", digits=3)
        t.add(s, "added per chunk", st["added_us_per_chunk"], "µs", "≤ 2 µs", st["added_us_per_chunk"] <= 2,
              digits=2)
        t.add(s, "ratio pmx / raw", st["ratio"], "×", digits=2)
        if "pmx_cpu_ms" in st:
            t.rows.append((s, "process CPU per stream (all threads): raw / pmx, median",
                           "%s / %s" % (fmt(st["raw_cpu_ms"], 3), fmt(st["pmx_cpu_ms"], 3)), "ms", "", None))
            t.add(s, "added CPU per chunk", st["added_cpu_us_per_chunk"], "µs", digits=2)
        t.add(s, "events/s through the pmx callback", st["pmx_events_per_s"], "events/s")
        if "pmx_async_ms" in st:
            t.add(s, "pmx_router_stream_async (events on the I/O thread), median total", st["pmx_async_ms"], "ms",
                  digits=3)
            t.add(s, "async: added per chunk (informative: no hand-off to the caller)",
                  st["pmx_async_added_us_per_chunk"], "µs", digits=2)
        t.add(s, "events/s parsed by the raw client", st["raw_events_per_s"], "events/s")
        t.add(s, "time to first delta: raw, median", st["raw_ttft_us"], "µs")
        t.add(s, "time to first delta: pmx, median", st["pmx_ttft_us"], "µs")
        t.add(s, "time to first delta: added by pmx", st["pmx_ttft_us"] - st["raw_ttft_us"], "µs")

    if "256" in c["stream"] and "4096" in c["stream"]:
        a, b = c["stream"]["256"], c["stream"]["4096"]
        slope = ((b["pmx_ms"] - a["pmx_ms"]) - (b["raw_ms"] - a["raw_ms"])) * 1000.0 / (b["chunks"] - a["chunks"])
        t.add("C: OpenAI SSE, marginal", "added per extra chunk, 256 → 4096 (fixed per-request cost removed)", slope,
              "µs", digits=2)

    for name, label in (("anthropic", "C: Anthropic SSE, 256 chunks (anthropic type)"),
                        ("gemini", "C: Gemini SSE, 256 chunks (gemini type)"),
                        ("ollama", "C: Ollama NDJSON, 256 chunks (ollama type)")):
        st = c["protocols"].get(name)
        if not st:
            continue
        t.add(label, "pmx_router_stream, median total", st["pmx_ms"], "ms", digits=3)
        t.add(label, "pmx per chunk", st["pmx_us_per_chunk"], "µs", digits=2)
        t.add(label, "raw (same minimal splitter + jansson), median total", st["raw_ms"], "ms", digits=3)
        t.add(label, "added per chunk (informative)", st["added_us_per_chunk"], "µs", digits=2)
        if "pmx_async_ms" in st:
            t.add(label, "pmx_router_stream_async: median total / added per chunk", None)
            t.rows[-1] = (label, "pmx_router_stream_async: median total (ms) / added per chunk (µs)",
                          "%s / %s" % (fmt(st["pmx_async_ms"], 3), fmt(st["pmx_async_added_us_per_chunk"], 2)), "", "",
                          None)
        t.add(label, "events/s through the pmx callback", st["pmx_events_per_s"], "events/s")
        t.add(label, "time to first delta: raw / pmx", None, "µs")
        t.rows[-1] = (label, "time to first delta: raw / pmx, median",
                      "%s / %s" % (fmt(st["raw_ttft_us"]), fmt(st["pmx_ttft_us"])), "µs", "", None)

    ins = c.get("instructions")
    if ins:
        f = ins["figures"]
        s = "C: instructions (callgrind, all threads)"
        targets = {"complete": ("≤ 75,000 added", 75000)}
        for key in ("openai", "anthropic", "gemini", "ollama"):
            targets[key] = ("≤ 6,000 added", 6000)
        labels = {"complete": "per request, pmx_router_complete (OpenAI body)",
                  "openai": "per chunk, OpenAI SSE (pmx_router_stream, JSON callback)",
                  "anthropic": "per chunk, Anthropic SSE", "gemini": "per chunk, Gemini SSE",
                  "ollama": "per chunk, Ollama NDJSON"}
        for key, label in labels.items():
            r = f.get(key)
            if not r:
                continue
            t.rows.append((s, label + ": pmx / raw libcurl / raw libcurl + jansson",
                           "%s / %s / %s" % (fmt(r["pmx"]), fmt(r["raw"]), fmt(r["rawjson"])), "instructions", "",
                           None))
            tgt, limit = targets[key]
            t.add(s, label + ": added by pmx (pmx − raw libcurl)", r["added"], "instructions", tgt,
                  r["added"] <= limit)
            if "pull" in r:
                t.add(s, label.replace("(pmx_router_stream, JSON callback)", "") +
                      ": typed pull stream (pmx_stream_next), added", r["pull_added"], "instructions", tgt,
                      r["pull_added"] <= limit)

    ov = c.get("overhead")
    if ov:
        s = "C: fixed cost of one blocking request (what holds the non-streaming figure back)"
        t.add(s, "bare round trip between two threads (mutex + condvar, no library), median", ov["handoff_us"], "µs")
        t.add(s, "pmx_router_complete, in-process mock provider (no HTTP), median", ov["mock_complete_us"], "µs")
        t.add(s, "pmx_router_complete over HTTP, median", ov["http_complete_us"], "µs")
        t.add(s, "raw libcurl + jansson, median", ov["raw_complete_us"], "µs")
        t.add(s, "added over raw (this program's interleaving)", ov["http_complete_us"] - ov["raw_complete_us"], "µs")

    cc = c["concurrency"]
    rounds = cc["rounds"]
    first = rounds[0]
    walls = sorted(r["wall_ms"] for r in rounds)
    s = "C: %d concurrent 256-chunk streams, one router (stream_async)" % cc["streams"]
    t.add(s, "rounds", len(rounds))
    t.add(s, "wall time, median of rounds", walls[len(walls) // 2], "ms")
    t.add(s, "deltas/s (round 1)", first["deltas_per_s"], "deltas/s")
    t.add(s, "peak streams between start and terminal event (round 1)", first["max_in_flight"])
    t.add(s, "stream errors (all rounds)", sum(r["errors"] for r in rounds), "", "0",
          sum(r["errors"] for r in rounds) == 0)
    t.add(s, "VmHWM before → after round 1", None, "KiB")
    t.rows[-1] = (s, "VmHWM before → after round 1",
                  "%s → %s" % (fmt(first["vmhwm_before_kib"]), fmt(first["vmhwm_after_kib"])), "KiB", "", None)
    t.add(s, "RSS growth per stream (VmHWM, round 1)", first["rss_growth_per_stream_kib"], "KiB", "≤ 64 KiB",
          first["rss_growth_per_stream_kib"] <= 64)
    if len(rounds) > 1:
        t.add(s, "VmHWM after the last round", rounds[-1]["vmhwm_after_kib"], "KiB")
    own = cc.get("bench_own_threads_during_run", 2)
    lib_threads = max(r["max_threads"] for r in rounds) - own
    t.add(s, "threads: process before router / with router idle", None)
    t.rows[-1] = (s, "threads: process before router / with router idle",
                  "%d / %d" % (cc["threads_before_router"], cc["threads_with_router"]), "", "", None)
    t.add(s, "threads: process peak during the run (incl. main + sampler)", max(r["max_threads"] for r in rounds))
    t.add(s, "library threads during the run", lib_threads, "", "1 I/O thread per router", lib_threads == 1)

    r = c["rss"]
    s = "C: RSS, sequential non-streaming requests"
    t.add(s, "VmRSS after router creation", r["vmrss_router_created_kib"], "KiB")
    t.add(s, "VmRSS after %s requests (warm)" % fmt(r["warm_requests"]), r["vmrss_after_warm_kib"], "KiB")
    t.add(s, "VmRSS after %s requests" % fmt(r["total_requests"]), r["vmrss_after_total_kib"], "KiB")
    t.add(s, "growth between the two", r["growth_kib"], "KiB", "no leak (< 1 MiB)", r["growth_kib"] < 1024)
    t.add(s, "mean request time during the run", r["mean_request_us"], "µs")

    cr = c["create"]
    s = "C: router creation"
    t.add(s, "pmx_router_new, %d providers, median of %d" % (cr["providers"], cr["iterations"]), cr["new_us"], "µs",
          "< 1 ms", cr["new_us"] < 1000)
    t.add(s, "pmx_router_free, median", cr["free_us"], "µs")

    sz = c["size"]
    s = "C: library size"
    t.add(s, "libprovidermux.so unstripped", sz["unstripped_bytes"] / 1e6, "MB", digits=2)
    t.add(s, "libprovidermux.so stripped", sz["stripped_bytes"] / 1e6, "MB", "≤ 10 MB",
          sz["stripped_bytes"] <= 10e6, digits=2)


def python_rows(t, p):
    s = "Python (bench/python/bench.py)"
    for row in p.get("rows", []):
        t.add(s, "%s, %s: median (p95 %s µs, n %s)" % (row["name"], row["client"], fmt(row.get("p95_us")),
                                                        fmt(row.get("n"))), row["median_us"], "µs")
    targets = {tg["name"]: tg for tg in p.get("targets", [])}
    for k, v in p.get("ratios", {}).items():
        tg = targets.pop(k, None)
        if tg:
            t.add(s, "ratio " + k, v, "×", tg.get("target", ""), bool(tg.get("met")), digits=3)
        else:
            t.add(s, "ratio " + k, v, "×", digits=3)
    for tg in targets.values():
        t.targets.append({"section": s, "name": tg["name"], "value": tg.get("ratio"), "unit": "×",
                          "target": tg.get("target", ""), "met": bool(tg.get("met"))})


def python_instruction_rows(t, pi):
    f = pi["figures"]
    s = "Python: instructions (callgrind, all threads)"
    for client in ("providermux", "openai", "http.client"):
        if client in f["request"]:
            t.add(s, "per request, %s" % client, f["request"][client], "instructions")
    for client, what in (("providermux", "iterating router.stream()"),
                         ("providermux-cb", "router.stream(request, on_event)"),
                         ("openai", "iterating the SDK's stream"),
                         ("http.client", "readline + json.loads loop")):
        if client in f["chunk"]:
            t.add(s, "per chunk, %s: %s" % (client, what), f["chunk"][client], "instructions")
    pmx_req, raw_req = f["request"].get("providermux"), f["request"].get("http.client")
    if pmx_req is not None and raw_req:
        t.add(s, "per request: providermux / http.client loop", pmx_req / raw_req, "×", "≤ 1",
              pmx_req <= raw_req, digits=3)
    pmx_chunk, raw_chunk = f["chunk"].get("providermux"), f["chunk"].get("http.client")
    if pmx_chunk is not None and raw_chunk:
        t.add(s, "per chunk: router.stream() iterator / http.client loop", pmx_chunk / raw_chunk, "×", "≤ 1",
              pmx_chunk <= raw_chunk, digits=3)


def markdown(t, c, p):
    lines = ["# libprovidermux benchmark results", ""]
    meta = (c or {}).get("meta", {})
    lines += ["Produced by `bench/run.sh%s` (bench/README.md says what each figure measures)." %
              (" --quick" if meta.get("quick") else ""), ""]
    lines += ["| | |", "|---|---|"]
    for k, label in (("date", "Date"), ("uname", "Machine (`uname -a`)"), ("cpu", "CPU"), ("cores", "Cores"),
                     ("loadavg_before", "Load average before / after"), ("nginx", "nginx"),
                     ("libcurl", "libcurl"), ("jansson", "jansson"), ("cc", "C compiler")):
        v = meta.get(k)
        if k == "loadavg_before":
            v = "%s / %s" % (meta.get("loadavg_before"), meta.get("loadavg_after"))
        if v is not None:
            lines.append("| %s | %s |" % (label, str(v).replace("|", "\\|")))
    if p:
        vers = p.get("versions", {})
        lines.append("| Python bench | python %s, openai %s, %s, providermux %s |" % (
            vers.get("python"), vers.get("openai"), vers.get("httpx"), vers.get("providermux")))
    lines.append("")
    if not c:
        lines += ["C results missing (bench/.out/c.json not found).", ""]
    if not p:
        lines += ["Python results missing (bench/.out/python.json not found or the Python bench did not run).", ""]

    lines += ["## Figures", "", "| Section | Figure | Value | Unit | Target | Met |", "|---|---|---:|---|---|---|"]
    for section, figure, value, unit, target, met in t.rows:
        m = "" if met is None or not target else ("met" if met else "**not met**")
        lines.append("| %s | %s | %s | %s | %s | %s |" % (section, figure, value, unit, target, m))
    lines.append("")
    met = [x for x in t.targets if x["met"]]
    missed = [x for x in t.targets if not x["met"]]
    lines += ["## Targets: %d met, %d not met" % (len(met), len(missed)), ""]
    for x in t.targets:
        v = x["value"]
        lines.append("- %s — %s: %s %s (target %s)" % ("met" if x["met"] else "**NOT MET**",
                                                   "%s: %s" % (x["section"], x["name"]),
                                                   fmt(v, 3 if x["unit"] == "×" else 2), x["unit"], x["target"]))
    if p and p.get("problems"):
        lines += ["", "Python bench problems:"] + ["- " + s for s in p["problems"]]
    lines += ["", ANALYSIS.strip(), ""]
    return "\n".join(lines)


# What the misses come from, as measured (callgrind instruction counts are repeatable; the
# figures above are wall-clock medians on a shared machine). Kept here so that every run's
# RESULTS.md carries it; bench/README.md says how each figure was taken.
ANALYSIS = """
## Where the gaps come from (measured)

**Non-streaming, added ≈ 150–250 µs over raw libcurl (target ≤ 25 µs).** Three parts, from
the "fixed cost of one blocking request" rows and `valgrind --tool=callgrind`:

1. *The hand-off to the I/O thread and back.* A blocking call queues its request for the
   router's one I/O thread (`curl_multi_wakeup`) and sleeps until the answer is signalled: two
   cross-thread wake-ups where raw libcurl has none. A bare mutex + condition-variable round
   trip between two threads, no library at all, already costs the "bare round trip" row
   (≈ 13 µs here), and a wake-up through the curl multi handle's socket pair and `poll` costs
   more. This is the price of the design's one-loop-thread model (thousands of streams on one
   thread, ~40 KiB each); a caller that wants no hand-off uses `pmx_router_stream_async`.
2. *Routing work that raw libcurl does not do:* the request is validated and parsed (jansson +
   conversion), routed (lanes, strategies, breaker, rate limits, pricing), the body re-written
   for the provider, the response parsed and re-written with `provider`, `attempts`, timings
   and cost. With the in-process mock provider (no HTTP) a whole call costs the "mock" row.
3. *Instructions:* callgrind counts ~316k instructions per pmx_router_complete (process total,
   both threads) against ~135k for the raw client's curl_easy_perform + json_loadb: the extra
   ~180k are spread thin — malloc/free (~25k), a second jansson parse (the caller's request),
   curl easy-handle setup and header matching, JSON writing, Swift reference counting — with no
   single hot spot left above ~3 %.

**Streaming, added per chunk.** At 256 and 4096 chunks the added cost per chunk is within the
2 µs target for both `pmx_router_stream` and `pmx_router_stream_async`: the decoding path (SSE
framing, one jansson parse read in place, accumulation, event JSON written straight into a
reused buffer) costs about what the raw client's does, and the blocking call's reader takes
events in batches (it sleeps at once on an empty queue; issue 14 removed a 20 µs spin that made
the instruction count depend on scheduling). The 16-chunk row misses only because the fixed per-request cost above
is spread over 16 chunks. Events/s through the callback stay below 500,000 mainly because every
chunk costs one jansson parse (~30k instructions, paid by the raw client too), not because of
the router.

**Met:** 1,000 concurrent streams on one I/O thread at ~40 KiB RSS each (≤ 64 KiB); no RSS
growth over 10,000 requests; router creation < 1 ms; stripped .so ≤ 10 MB; from Python,
providermux is several times faster than the official `openai` SDK on every row.
"""


KEEP_MARKER = "<!-- report.py rewrites everything above this line and keeps everything below it -->"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=os.path.join(HERE, ".out"))
    ap.add_argument("--md", default=os.path.join(HERE, "RESULTS.md"))
    args = ap.parse_args()
    c = (load(os.path.join(args.out, "c.json")) or {}).get("c")
    p = (load(os.path.join(args.out, "python.json")) or {}).get("python")
    pi = load(os.path.join(args.out, "python-instructions.json"))
    if p and pi:
        p["instructions"] = pi
    if not c and not p:
        print("report.py: neither c.json nor python.json in %s" % args.out, file=sys.stderr)
        return 1
    t = Table()
    if c:
        c_rows(t, c)
    if p:
        python_rows(t, p)
        if p.get("instructions"):
            python_instruction_rows(t, p["instructions"])
    results = {"c": c, "python": p, "targets": t.targets}
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump(results, f, indent=2)
        f.write("\n")
    md = markdown(t, c, p)
    # Sections written by hand below KEEP_MARKER (per-issue before/after figures) survive a run.
    kept = ""
    try:
        with open(args.md) as f:
            old = f.read()
        if KEEP_MARKER in old:
            kept = "\n" + KEEP_MARKER + old.split(KEEP_MARKER, 1)[1]
    except FileNotFoundError:
        pass
    with open(args.md, "w") as f:
        f.write(md + kept)
    for x in t.targets:
        print("%-10s %s: %s" % ("met" if x["met"] else "NOT MET", x["section"], x["name"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
