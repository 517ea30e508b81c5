#!/usr/bin/env python3
"""report.py - the table and plots of scripts/bench.sh.

    report.py --csv FILE --out DIR --mode quick|full --command CMD --machine TEXT [--doc BENCHMARKS.md]

Reads the CSV that bench.sh writes (scenario,metric,stack,value,unit,status,note,
others_busy_pct; one row per number, a failed row has no value and its reason in
note) and writes:

* DIR/bench-results.md (without --doc): the results table (raw floor, Sluice, Sluice native
  demi, kernel, and the Sluice/kernel ratio), then the targets of issue 6,
  each with its measured ratio and "met" / "NOT MET" / "failed";
* DIR/bench-latency.png and DIR/bench-throughput.png (matplotlib, Agg);
* with --doc, that Markdown between the lines "<!-- bench:begin -->" and
  "<!-- bench:end -->" of that file (appended if the markers are missing).

Prints the Markdown on stdout. Exit status 0; 1 if the CSV cannot be read.
A scenario with a failed side never gets a ratio: it is shown as failed.
"""
import argparse
import csv
import os
import sys

STACKS = ["raw", "sluice", "sluice-demi", "kernel"]
STACK_NAMES = {"raw": "raw floor", "sluice": "Sluice", "sluice-demi": "Sluice native demi", "kernel": "kernel"}

SCENARIO_NAMES = {
    "crr": "short connections (connect, 64 B, 64 B, close)",
    "cpu": "redis-server CPU per million requests (-c 50)",
    "idle_cpu": "idle listening redis-server",
    "idle_mem": "memory per idle connection (10,000)",
    "c10k_get_c1": "redis GET -c 1, idle connections held (C10K)",
}

# (label, scenario, metric, kind, numerator, denominator-or-limit, comparison)
#   kind "ratio": value(num) / value(den) compared with the limit
#   kind "abs":   value(num) compared with the limit
TARGETS = [
    ("64 B RTT p50: Sluice / raw floor", "latency_64", "p50_us", "ratio", "sluice", "raw", "<=", 4.0),
    ("64 B RTT p50: Sluice / kernel", "latency_64", "p50_us", "ratio", "sluice", "kernel", "<=", 0.1),
    ("redis GET -c 1: Sluice / kernel req/s", "redis_get_c1", "rps", "ratio", "sluice", "kernel", ">=", 3.0),
    ("redis GET -c 50: Sluice / kernel req/s", "redis_get_c50", "rps", "ratio", "sluice", "kernel", ">=", 2.0),
    ("one stream at MTU 9000: Sluice / kernel", "tput_1x_mtu9000", "gbps", "ratio", "sluice", "kernel", ">=", 1.0),
    ("connection rate: Sluice / kernel", "crr", "conns_per_s", "ratio", "sluice", "kernel", ">=", 2.0),
    ("idle listening server, Sluice (% of one core)", "idle_cpu", "pct_core", "abs", "sluice", None, "<", 5.0),
    ("C10K: Sluice's GET -c 1 req/s with 5,000 idle connections / with none", "c10k_get_c1", "held_over_none", "abs",
     "sluice", None, ">=", 0.9),
    ("memory per idle connection, Sluice's stack (native server; KiB)", "idle_mem", "kib_per_conn", "abs", "sluice-demi",
     None, "<=", 8.0),
]


def load(path):
    rows = {}
    order = []
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            key = (r["scenario"], r["metric"])
            if key not in rows:
                rows[key] = {}
                order.append(key)
            rows[key][r["stack"]] = r
    return rows, order


def value(rows, scenario, metric, stack):
    r = rows.get((scenario, metric), {}).get(stack)
    if r is None or r["status"] != "ok" or r["value"] == "":
        return None
    try:
        return float(r["value"])
    except ValueError:
        return None


def scenario_name(s):
    if s in SCENARIO_NAMES:
        return SCENARIO_NAMES[s]
    if s.startswith("latency_"):
        return "TCP ping-pong RTT, %s B" % s.split("_")[1]
    if s.startswith("tput_"):
        _, streams, mtu = s.split("_")
        return "throughput, %s stream%s, MTU %s" % (streams[:-1], "" if streams == "1x" else "s", mtu[3:])
    if s.startswith("redis_"):
        parts = s.split("_")
        rest = " ".join(parts[2:]).replace("c", "-c ", 1).replace("P16", "-P 16")
        return "redis-benchmark %s %s" % (parts[1].upper(), rest)
    return s


def fmt(v):
    if v is None:
        return ""
    if v >= 1000:
        return "{:,.0f}".format(v)
    if v >= 100:
        return "%.0f" % v
    if v >= 10:
        return "%.1f" % v
    return "%.3g" % v if v >= 0.01 else "%.2g" % v


BUSY_FLAG = 25  # % of the CPUs other jobs used before a step: above it, the number is flagged


def busy(r):
    try:
        return float(r.get("others_busy_pct") or 0)
    except ValueError:
        return 0.0


def cell(rows, key, stack):
    r = rows.get(key, {}).get(stack)
    if r is None:
        return ""
    if r["status"] != "ok":
        return "**failed**"
    return fmt(float(r["value"])) + (" †" if busy(r) > BUSY_FLAG else "")


def engines_table(rows):
    """Engines per thread (bench.sh step 5b): 1 vs 2 engines a side, native."""
    stacks = sorted({st for (sc, _), by in rows.items() if sc == "engines_crr" for st in by})
    if not stacks:
        return []
    out = ["", "Engines per thread (native `tcp_engines`, connect + 1 KiB echoed + close, over net_memif "
           "with a queue pair per engine; docs/BENCHMARKS.md \"Engines\"):", "",
           "| engines a side | connections/s | CPU s per million connections (both processes) |", "|---|---|---|"]
    for st in stacks:
        n = st.rsplit("-", 1)[-1].replace("eng", "")
        out.append("| %s | %s | %s |" % (n, cell(rows, ("engines_crr", "conns_per_s"), st),
                                         cell(rows, ("engines_crr", "cpu_s_per_Mconn"), st)))
    return out + engines_apps_table(rows)


def engines_apps_table(rows):
    """Engines under sluice-run (bench.sh step 6c): redis and nginx, 1 vs 2 engines."""
    stacks = sorted({st for (sc, _), by in rows.items() if sc in ENGINE_APPS for st in by})
    if not stacks:
        return []
    out = ["", "Engines under sluice-run (net_af_xdp on a veth with a queue per engine, clients on the kernel; "
           "redis-server is one process, nginx has 2 workers; docs/BENCHMARKS.md \"Engines\"):", "",
           "| engines | redis GET req/s (-c 50) | redis CPU s per million requests | nginx req/s (wrk -c 100) "
           "| nginx CPU s per million requests |", "|---|---|---|---|---|"]
    for st in stacks:
        n = st.rsplit("-", 1)[-1].replace("eng", "")
        out.append("| %s | %s | %s | %s | %s |" % (
            n, cell(rows, ("engines_redis", "rps"), st), cell(rows, ("engines_redis", "cpu_s_per_Mreq"), st),
            cell(rows, ("engines_nginx", "rps"), st), cell(rows, ("engines_nginx", "cpu_s_per_Mreq"), st)))
    return out


ENGINE_APPS = ("engines_redis", "engines_nginx")


def markdown(rows, order, args):
    out = []
    out.append("Made by `%s` (%s mode) on %s. Every number of one run comes from that run; "
               "the machine is shared, so compare ratios, not absolute values." % (args.command, args.mode, args.machine))
    out.append("")
    out.append("| scenario | metric | unit | raw floor | Sluice | Sluice native demi | kernel | Sluice / kernel |")
    out.append("|---|---|---|---|---|---|---|---|")
    for key in order:
        scenario, metric = key
        if scenario == "engines_crr" or scenario in ENGINE_APPS:
            continue  # tables of their own (engines_table)
        unit = next(iter(rows[key].values()))["unit"]
        s, k = value(rows, scenario, metric, "sluice"), value(rows, scenario, metric, "kernel")
        failed = any(r["status"] != "ok" for st, r in rows[key].items() if st in ("sluice", "kernel"))
        ratio = "failed" if failed else ("%.2f" % (s / k) if s is not None and k else "")
        out.append("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
            scenario_name(scenario), metric, unit, cell(rows, key, "raw"), cell(rows, key, "sluice"),
            cell(rows, key, "sluice-demi"), cell(rows, key, "kernel"), ratio))
    out.extend(engines_table(rows))
    if any(busy(r) > BUSY_FLAG for key in order for r in rows[key].values()):
        out.append("")
        out.append("† measured while other jobs kept more than %d %% of the CPUs busy (sampled just before "
                   "the step): Sluice's two polling processes then share a core, so its numbers there are "
                   "not representative." % BUSY_FLAG)
    out.append("")
    out.append("Targets of issue 6 (checked here, not by the tests):")
    out.append("")
    out.append("| target | measured | wanted | verdict |")
    out.append("|---|---|---|---|")
    for label, scenario, metric, kind, num, den, cmp, limit in TARGETS:
        a = value(rows, scenario, metric, num)
        b = value(rows, scenario, metric, den) if den else 1.0
        if a is None or b is None or b == 0:
            out.append("| %s | failed | %s %g | **failed** (no number: see the failures below) |" % (label, cmp, limit))
            continue
        got = a / b if kind == "ratio" else a
        ok = {"<=": got <= limit, "<": got < limit, ">=": got >= limit}[cmp]
        loaded = any(busy(r) > BUSY_FLAG for r in rows.get((scenario, metric), {}).values())
        out.append("| %s | %s | %s %g | %s |" % (label, "%.3g" % got + (" †" if loaded else ""), cmp, limit,
                                                 "met" if ok else "**NOT MET**"))
    fails = [(key, st, r["note"]) for key in order for st, r in rows[key].items() if r["status"] != "ok"]
    if fails:
        out.append("")
        out.append("Failed (reported as failed, never as a number):")
        out.append("")
        seen = set()
        for (scenario, metric), st, note in fails:
            k = (scenario, st, note)
            if k in seen:
                continue
            seen.add(k)
            out.append("* %s, %s: %s" % (scenario_name(scenario), STACK_NAMES.get(st, st), note.strip()))
    notes = []
    for key in order:
        for st, r in rows[key].items():
            if r["status"] == "ok" and r["note"] and key[0] in ("cpu", "idle_cpu", "idle_mem"):
                notes.append("* %s, %s: %s" % (scenario_name(key[0]), STACK_NAMES.get(st, st), r["note"]))
    if notes:
        out.append("")
        out.append("How the cost figures are taken:")
        out.append("")
        out.extend(notes)
    return "\n".join(out) + "\n"


def plots(rows, order, outdir):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("report.py: python3-matplotlib is missing: no plots", file=sys.stderr)
        return
    colors = {"raw": "#999999", "sluice": "#1f77b4", "sluice-demi": "#17becf", "kernel": "#d62728"}

    # latency: p50 and p99 per size, log scale
    sizes = sorted({int(s.split("_")[1]) for s, _ in order if s.startswith("latency_")})
    if sizes:
        fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
        for ax, metric, title in ((axes[0], "p50_us", "RTT p50"), (axes[1], "p99_us", "RTT p99")):
            width = 0.8 / 3
            for i, st in enumerate(("raw", "sluice", "kernel")):
                xs, ys, fails = [], [], []
                for j, size in enumerate(sizes):
                    v = value(rows, "latency_%d" % size, metric, st)
                    if v is None:
                        fails.append(j + (i - 1) * width)
                    else:
                        xs.append(j + (i - 1) * width)
                        ys.append(v)
                bars = ax.bar(xs, ys, width, label=STACK_NAMES[st], color=colors[st])
                ax.bar_label(bars, labels=[fmt(y) for y in ys], fontsize=7)
                for x in fails:
                    ax.text(x, 0.03, "failed", rotation=90, ha="center", va="bottom", fontsize=7, color=colors[st],
                            transform=ax.get_xaxis_transform())
            ax.set_yscale("log")
            ax.set_xticks(range(len(sizes)))
            ax.set_xticklabels(["%d B" % s if s < 1024 else "%d KiB" % (s // 1024) for s in sizes])
            ax.set_ylabel("microseconds (log)")
            ax.set_title("TCP ping-pong %s (sockperf; raw: no stack)" % title)
            ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(os.path.join(outdir, "bench-latency.png"), dpi=110)
        plt.close(fig)

    # throughput-like numbers: Sluice vs kernel, one panel per family
    families = [
        ("throughput (iperf3)", [s for s, m in order if s.startswith("tput_") and m == "gbps"], "gbps", "Gbit/s"),
        ("redis-benchmark", [s for s, m in order if s.startswith("redis_") and m == "rps"], "rps", "requests/s"),
        ("short connections", [s for s, m in order if s == "crr"], "conns_per_s", "connections/s"),
    ]
    families = [f for f in families if f[1]]
    if families:
        fig, axes = plt.subplots(1, len(families), figsize=(5 * len(families), 4.6),
                                 gridspec_kw={"width_ratios": [max(1, len(f[1])) for f in families]})
        if len(families) == 1:
            axes = [axes]
        for ax, (title, scen, metric, unit) in zip(axes, families):
            width = 0.38
            for i, st in enumerate(("sluice", "kernel")):
                xs, ys = [], []
                for j, s in enumerate(scen):
                    v = value(rows, s, metric, st)
                    x = j + (i - 0.5) * width
                    if v is None:
                        ax.text(x, 0.03, "failed", rotation=90, ha="center", va="bottom", fontsize=8, color=colors[st],
                                transform=ax.get_xaxis_transform())
                    else:
                        xs.append(x)
                        ys.append(v)
                bars = ax.bar(xs, ys, width, label=STACK_NAMES[st], color=colors[st])
                ax.bar_label(bars, labels=[fmt(y) for y in ys], fontsize=7)
            ax.set_xticks(range(len(scen)))
            labels = [scenario_name(s).replace("throughput, ", "").replace("redis-benchmark ", "")
                      .replace("short connections ", "").replace("(connect, 64 B, 64 B, close)", "64 B request,\n64 B reply").replace(", ", "\n") for s in scen]
            ax.set_xticklabels(labels, fontsize=7, rotation=30 if len(scen) > 4 else 0)
            ax.set_ylabel(unit)
            ax.set_title(title)
            ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(os.path.join(outdir, "bench-throughput.png"), dpi=110)
        plt.close(fig)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--csv", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--mode", default="full")
    ap.add_argument("--command", default="./scripts/bench.sh")
    ap.add_argument("--machine", default="")
    ap.add_argument("--doc")
    args = ap.parse_args()
    try:
        rows, order = load(args.csv)
    except OSError as e:
        print("report.py: %s" % e, file=sys.stderr)
        return 1
    md = markdown(rows, order, args)
    if not args.doc:  # with --doc the table goes into that page instead
        with open(os.path.join(args.out, "bench-results.md"), "w") as f:
            f.write(md)
    plots(rows, order, args.out)
    if args.doc:
        begin, end = "<!-- bench:begin -->", "<!-- bench:end -->"
        text = open(args.doc).read() if os.path.exists(args.doc) else ""
        block = begin + "\n" + md + end
        if begin in text and end in text:
            text = text[:text.index(begin)] + block + text[text.index(end) + len(end):]
        else:
            text = text + ("\n" if text and not text.endswith("\n") else "") + block + "\n"
        with open(args.doc, "w") as f:
            f.write(text)
    sys.stdout.write(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
