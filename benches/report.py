"""Collects scripts/bench's pieces into bench/results.json and bench/results.md.

Reads bench/out/ (harness.json, scenarios.json, the *.seconds of each build and step), the
criterion estimates under target/criterion/, and the zipped builds under target/bench-lambda/.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench/out"

# List prices, us-east-1, as of 2026-11 (https://aws.amazon.com/cloudwatch/pricing/,
# https://aws.amazon.com/lambda/pricing/). ELBv2 Describe*, ACM, CloudFront Get* and Route 53
# List* calls carry no charge.
USD_PER_METRIC_REQUESTED = 0.01 / 1000  # GetMetricData
USD_PER_GB_SECOND_ARM64 = 0.0000133334
USD_PER_REQUEST = 0.20 / 1_000_000
LAMBDA_MEMORY_MB = 256  # infra/template.yaml


TARGETS = {
    "alb_waves_max": 2.5,
    "cloudfront_waves_max": 4.5,
    "ready_cpu_ms_max": 50,
    "peak_rss_mb_max": 40,
    "zip_mb_max": 8,
    "run_seconds_max": 600,
}


def sh(*cmd: str) -> str:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        return ""


def machine() -> dict:
    model = next((l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines()
                  if l.startswith("model name")), platform.processor())
    mem_kb = next(int(l.split()[1]) for l in Path("/proc/meminfo").read_text().splitlines()
                  if l.startswith("MemTotal:"))
    return {"cpu": model, "cores": os.cpu_count(), "memory_gb": round(mem_kb / 1024 / 1024, 1),
            "kernel": platform.release(), "rustc": sh("rustc", "--version"),
            "python": platform.python_version(), "moto": sh(str(ROOT / ".venv/bin/python"), "-c",
                                                           "import moto; print(moto.__version__)")}


def _field(name: str, i: int) -> int | None:
    """Field I of bench/out/NAME.seconds: wall seconds, then, for a build, crates compiled and
    CPU seconds."""
    p = OUT / f"{name}.seconds"
    parts = p.read_text().split() if p.exists() else []
    return int(parts[i]) if len(parts) > i else None


def seconds(name: str) -> int | None:
    return _field(name, 0)


def compiled(name: str) -> int | None:
    """How many crates that build compiled (0: everything was up to date)."""
    return _field(name, 1)


def cpu_seconds(name: str) -> int | None:
    """User + system CPU seconds of that build (the third field, when recorded)."""
    return _field(name, 2)


def sizes() -> dict:
    out = {}
    for arch in ("x86_64", "arm64"):
        z = ROOT / f"target/bench-lambda/{arch}/fivexx/bootstrap.zip"
        if not z.exists():
            continue
        with zipfile.ZipFile(z) as f:
            binary = sum(i.file_size for i in f.infolist())
        out[arch] = {"binary_bytes": binary, "zip_bytes": z.stat().st_size,
                     "binary_mb": round(binary / 1e6, 2), "zip_mb": round(z.stat().st_size / 1e6, 2),
                     "build_seconds": seconds(f"build-{arch}"), "build_cpu_seconds": cpu_seconds(f"build-{arch}"),
                     "build_crates_compiled": compiled(f"build-{arch}")}
    return out


def criterion() -> dict:
    base = ROOT / "target/criterion"
    rows = {}
    for est in sorted(base.glob("*/*/new/estimates.json")) + sorted(base.glob("*/new/estimates.json")):
        rel = est.parent.parent.relative_to(base)
        data = json.loads(est.read_text())
        rows[str(rel)] = {"mean_us": round(data["mean"]["point_estimate"] / 1000, 1),
                          "median_us": round(data["median"]["point_estimate"] / 1000, 1)}
    per = [v["median_us"] for k, v in rows.items() if k.startswith("triage/")]
    summary = {"scenarios": len(per)}
    if per:
        summary.update({"median_us": round(statistics.median(per), 1), "max_us": max(per),
                        "min_us": min(per)})
    if "all_scenarios/sequentially" in rows:
        summary["all_scenarios_us"] = rows["all_scenarios/sequentially"]["median_us"]
    return {"summary": summary, "benchmarks": rows, "seconds": seconds("criterion"),
            "build_seconds": seconds("build-criterion"), "build_cpu_seconds": cpu_seconds("build-criterion"),
            "build_crates_compiled": compiled("build-criterion")}


def cost(scenarios: list[dict], latency: dict, cold: dict) -> dict:
    metrics = [s["metrics_requested"] for s in scenarios]
    calls = [s["api_calls"] for s in scenarios]
    live = {f"{r['case']}-{r['target_groups']}": r["metrics_requested"] for r in latency["rows"]}
    worst_live = max(live.values()) if live else 0
    duration_s = cold["first_verdict_ms"] / 1000
    lambda_usd = 1000 * (duration_s * LAMBDA_MEMORY_MB / 1024 * USD_PER_GB_SECOND_ARM64 + USD_PER_REQUEST)
    return {
        "scenario_api_calls_median": statistics.median(calls), "scenario_api_calls_max": max(calls),
        "scenario_metrics_median": statistics.median(metrics), "scenario_metrics_max": max(metrics),
        "cloudwatch_usd_per_1000_alarms_median": round(statistics.median(metrics) * 1000 * USD_PER_METRIC_REQUESTED, 3),
        "cloudwatch_usd_per_1000_alarms_max_scenario": round(max(metrics) * 1000 * USD_PER_METRIC_REQUESTED, 3),
        "live_metrics_requested": live,
        "cloudwatch_usd_per_1000_alarms_50_target_groups": round(worst_live * 1000 * USD_PER_METRIC_REQUESTED, 3),
        "lambda_usd_per_1000_alarms_cold": round(lambda_usd, 4),
        "lambda_assumptions": f"arm64, {LAMBDA_MEMORY_MB} MB, billed for the measured cold first-verdict time "
                              f"({cold['first_verdict_ms']} ms, loopback AWS); real AWS calls add their latency",
        "prices": {"usd_per_metric_requested": USD_PER_METRIC_REQUESTED, "usd_per_gb_second_arm64": USD_PER_GB_SECOND_ARM64,
                   "usd_per_request": USD_PER_REQUEST},
    }


def verdicts(results: dict) -> list[str]:
    t, notes = TARGETS, []
    for r in results["latency"]["rows"]:
        limit = t["alb_waves_max"] if r["case"] == "alb" else t["cloudfront_waves_max"]
        ok = r["waves_measured"] <= limit
        notes.append(f"{'met' if ok else 'MISSED'}: {r['case']} N={r['target_groups']}: "
                     f"{r['waves_measured']} x delay (target <= {limit}; calls span {r['calls_span_waves']}, "
                     f"start-up {r['startup_ms']} ms)")
        if r["cache_misses"] or r["api_calls"] != r["baseline_api_calls"] or \
                r["metrics_requested"] != r["baseline_metrics_requested"]:
            notes.append(f"CHECK: {r['case']} N={r['target_groups']}: fivexx {r['api_calls']} calls/"
                         f"{r['metrics_requested']} metrics vs baseline {r['baseline_api_calls']}/"
                         f"{r['baseline_metrics_requested']}, {r['cache_misses']} proxy misses")
    cold = results["cold_start"]
    notes.append(f"{'met' if cold['cpu_at_ready_ms'] <= t['ready_cpu_ms_max'] else 'MISSED'}: ready after "
                 f"{cold['cpu_at_ready_ms']} ms of CPU (target < {t['ready_cpu_ms_max']})")
    rss = max(cold["peak_rss_mb"], results["replay"]["peak_rss_mb"])
    notes.append(f"{'met' if rss <= t['peak_rss_mb_max'] else 'MISSED'}: peak RSS {rss} MB "
                 f"(target < {t['peak_rss_mb_max']})")
    for arch, s in results["sizes"].items():
        notes.append(f"{'met' if s['zip_mb'] <= t['zip_mb_max'] else 'MISSED'}: {arch} zip {s['zip_mb']} MB "
                     f"(target < {t['zip_mb_max']})")
    total, fresh = results["total_seconds"], results["sizes"].get("x86_64", {}).get("build_crates_compiled")
    if total:
        kind = "builds from nothing" if (fresh or 0) > 100 else "incremental builds"
        notes.append(f"{'met' if total <= t['run_seconds_max'] else 'MISSED'}: scripts/bench in {total} s, "
                     f"{kind} (target < {t['run_seconds_max']} on 2 cores from a fresh clone)")
    return notes


def phases(r: dict) -> str:
    """Where the run's time went: the three builds side by side, then each measurement."""
    p = r.get("phases", {})
    crit = r["criterion"]
    def build(name: str, s: dict) -> str:
        return f"{name} {s.get('build_seconds')} s, {s.get('build_cpu_seconds')} s of CPU"
    return (f"setup and builds side by side {p.get('builds_seconds')} s ("
            + "; ".join([build("criterion's", crit)] + [build(a, s) for a, s in r["sizes"].items()])
            + f"), criterion {crit.get('seconds')} s, harness {p.get('harness_seconds')} s")


def _span(s: dict, k: str, fmt: str = "{:.0f}") -> str:
    """Median, and [min–max] when the runs differ."""
    if s[k + "_min"] == s[k + "_max"]:
        return fmt.format(s[k])
    return f"{fmt.format(s[k])} [{fmt.format(s[k + '_min'])}–{fmt.format(s[k + '_max'])}]"


def throttled_markdown(t: dict) -> list[str]:
    """A table per throttled case: each binary side by side (before, after)."""
    labels = [b for b in ("before", "after") if b in t["binaries"]]
    lines = [
        f"**Throttled** (every AWS call delayed {t['delay_ms']:.0f} ms and AWS's API rate limits "
        f"enforced by the proxy, every bucket full at the start of a run; median of {t['runs']} runs, "
        "[min–max]; bench/README.md, \"Throttled cases\")",
        "",
        "Binaries: " + "; ".join(
            f"{b}: `{t['binaries'][b]['path']}`" + (" with `--share-table`" if t["binaries"][b]["share_table"] else "")
            for b in labels) + ".",
    ]
    if t["limits"].get("scale", 1.0) != 1.0:
        lines.append(f"Every bucket scaled by {t['limits']['scale']} (`--limits-scale`): not AWS's figures.")
    for row in t["rows"]:
        what = {"alb": f"one ALB alarm, {row['target_groups']} target groups",
                "storm": f"{row['alarms']} ALB alarms on one load balancer ({row['target_groups']} target groups), "
                         f"started over {row['spread_s']:.0f} s",
                "cloudfront": f"{row['alarms']} CloudFront alarms on one distribution (Route 53 origin, "
                              f"{row['target_groups']} target groups), started over {row['spread_s']:.0f} s"}[row["kind"]]
        lines += ["", f"*{row['case']}*: {what}", "",
                  "| measure | " + " | ".join(labels) + " |", "|---|" + "---:|" * len(labels)]

        def add(name: str, cell) -> None:
            lines.append(f"| {name} | " + " | ".join(cell(row[b]) for b in labels) + " |")

        add("first start → last verdict", lambda s: _span(s, "wall_ms") + " ms")
        add("÷ delay", lambda s: _span(s, "waves", "{:.1f}"))
        add("AWS calls (median run, by API)", lambda s: _span(s, "calls") + " (" + ", ".join(
            f"{k} {v}" for k, v in s["calls_by_api"].items() if k != "dynamodb") + ")")
        add("DynamoDB calls (evidence table)", lambda s: _span(s, "dynamodb_calls"))
        add("throttled calls", lambda s: _span(s, "throttled"))
        add("gaps (of them `Throttling`)", lambda s: f"{_span(s, 'gaps')} ({_span(s, 'throttling_gaps')})")
        add("gaps of kind `budget` (calls not made, said in the verdict)", lambda s: _span(s, "budget_gaps"))
        add("verdicts without an error gap (complete)", lambda s: f"{_span(s, 'complete')} of {row['alarms']}")
        add("verdicts without any gap", lambda s: f"{_span(s, 'gap_free')} of {row['alarms']}")
        add("verdicts that reused shared evidence", lambda s: f"{_span(s, 'reused')} of {row['alarms']}")
        if row["alarms"] > 1:
            add("gaps per verdict (median run)", lambda s: " ".join(str(g) for g in s["gaps_per_verdict"]))
        if row["kind"] == "alb":
            add("ELB goal bound: (ELB calls unthrottled − 40) ÷ 10/s + 2 × delay",
                lambda s: f"{_span(s, 'elb_goal_ms')} ms ({s['elb_calls_needed']:.0f} calls)")
        if any(row[b].get("unthrottled_gaps") for b in labels):
            add("gaps unthrottled (warm-up: no delay, no limits)", lambda s: str(s.get("unthrottled_gaps", "")))
        if any(row[b]["failed_max"] for b in labels):
            add("processes without a verdict", lambda s: _span(s, "failed"))
        if any(row[b]["cache_misses_max"] for b in labels):
            add("proxy cache misses (answered by moto)", lambda s: _span(s, "cache_misses"))
    return lines


def markdown(r: dict) -> str:
    m, lat, cold, rep, crit, c = r["machine"], r["latency"], r["cold_start"], r["replay"], r["criterion"], r["cost"]
    biggest = max(lat["rows"], key=lambda x: x["metrics_requested"])
    lines = [
        f"Measured {r['date']} on {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB, {m['rustc']}, "
        f"moto {m['moto']}; `scripts/bench` took {r['total_seconds']} s in all: {phases(r)}.",
        "",
        f"**Critical path** (every AWS call delayed {lat['delay_ms']:.0f} ms by the proxy; median of "
        f"{lat['runs']} runs; boto3 baseline: the same calls made one after another, one run)",
        "",
        "| alarm | target groups = certificates | fivexx (CLI process) | wall ÷ delay | first call → last answer ÷ delay | fivexx CPU | proxy CPU | API calls | metrics | boto3 baseline | fivexx faster by |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in lat["rows"]:
        lines.append(f"| {'ALB' if row['case'] == 'alb' else 'CloudFront → ALB'} | {row['target_groups']} | "
                     f"{row['fivexx_wall_ms']:.0f} ms | {row['waves_measured']:.2f} | {row['calls_span_waves']:.2f} | "
                     f"{row.get('fivexx_cpu_ms', 0):.0f} ms | {row.get('proxy_cpu_ms', 0):.0f} ms | {row['api_calls']} | {row['metrics_requested']} | {row['baseline_wall_ms']:.0f} ms | "
                     f"{row['speedup_vs_baseline']}× |")
    lines += [
        "",
        "**Start-up, memory, size** (release build, x86_64 binary run here; arm64 built for size)",
        "",
        "| measure | value |",
        "|---|---:|",
        f"| Lambda: process start → ready for the first event (wall / CPU) | {cold['ready_ms']:.1f} ms / {cold['cpu_at_ready_ms']:.1f} ms |",
        f"| Lambda: process start → first verdict, against moto (cold) | {cold['first_verdict_ms']:.1f} ms |",
        f"| Lambda: second event (warm) | {cold['warm_verdict_ms']:.1f} ms |",
        f"| Lambda: peak RSS after two events | {cold['peak_rss_mb']} MB |",
        f"| CLI replay of {rep['scenarios']} scenario worlds: wall median / max | {rep['wall_ms_median']} ms / {rep['wall_ms_max']} ms |",
        f"| CLI replay: CPU median / max, peak RSS | {rep['cpu_ms_median']} ms / {rep['cpu_ms_max']} ms, {rep['peak_rss_mb']} MB |",
    ]
    for arch, s in r["sizes"].items():
        built = ("up to date" if s["build_crates_compiled"] == 0
                 else f"{s['build_crates_compiled']} crates compiled in {s['build_seconds']} s")
        lines.append(f"| {arch}: stripped binary / zip (build in this run: {built}) | {s['binary_mb']} MB / {s['zip_mb']} MB |")
    cs = crit["summary"]
    lines += [
        f"| CPU per triage, pure path (criterion, {cs.get('scenarios', 0)} scenarios): median / max | "
        f"{cs.get('median_us', 0)} µs / {cs.get('max_us', 0)} µs |",
        "",
        "**Cost** (list prices: GetMetricData $0.01 per 1,000 metrics requested; the other calls are free)",
        "",
        "| per triage | API calls | metrics requested | CloudWatch per 1,000 alarms |",
        "|---|---:|---:|---:|",
        f"| scenario worlds, median | {c['scenario_api_calls_median']} | {c['scenario_metrics_median']} | "
        f"${c['cloudwatch_usd_per_1000_alarms_median']:.2f} |",
        f"| scenario worlds, max | {c['scenario_api_calls_max']} | {c['scenario_metrics_max']} | "
        f"${c['cloudwatch_usd_per_1000_alarms_max_scenario']:.2f} |",
        f"| largest live case above ({biggest['case']}, {biggest['target_groups']} target groups) | "
        f"{biggest['api_calls']} | {biggest['metrics_requested']} | "
        f"${c['cloudwatch_usd_per_1000_alarms_50_target_groups']:.2f} |",
        "",
        f"Lambda compute: ${c['lambda_usd_per_1000_alarms_cold']:.4f} per 1,000 alarms ({c['lambda_assumptions']}).",
        "",
        "Targets: " + "; ".join(r["targets_check"]) + ".",
    ]
    if r.get("throttled"):
        lines += [""] + throttled_markdown(r["throttled"])
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--total-seconds", type=int, default=0)
    args = ap.parse_args()
    harness = json.loads((OUT / "harness.json").read_text())
    scenarios = json.loads((OUT / "scenarios.json").read_text())
    results = {
        "date": dt.date.today().isoformat(),
        "machine": machine(),
        "total_seconds": args.total_seconds,
        "phases": {"builds_seconds": seconds("builds"), "criterion_seconds": seconds("criterion"),
                   "harness_seconds": seconds("harness")},
        "sizes": sizes(),
        "criterion": criterion(),
        "scenarios": scenarios,
        **harness,
    }
    results["cost"] = cost(scenarios, harness["latency"], harness["cold_start"])
    results["targets"] = TARGETS
    results["targets_check"] = verdicts(results)
    (ROOT / "bench").mkdir(exist_ok=True)
    (ROOT / "bench/results.json").write_text(json.dumps(results, indent=2) + "\n")
    md = markdown(results)
    (ROOT / "bench/results.md").write_text(md)
    print(md)


if __name__ == "__main__":
    main()
