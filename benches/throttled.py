"""The throttled cases of the benchmark harness (`harness.py --throttled`; method:
bench/README.md, "Throttled cases").

Every AWS call is delayed as in the latency cases, and AWS's token buckets are enforced by the
proxy (`proxy.Limits`, `proxy.AWS_LIMITS`), all of them full at the start of every run:

- alb-N: one ALB alarm on a load balancer with N target groups (N HTTPS listeners, N
  certificates);
- storm-K: K alarms on the `--storm-groups` load balancer (`storm-1`..`storm-K`, half on
  HTTPCode_ELB_5XX_Count, half on HTTPCode_Target_5XX_Count, the same LoadBalancer
  dimension), K fivexx processes started evenly over one second against the shared buckets;
- cloudfront-K: K alarms (`cf-storm-1`..) on a distribution whose origin is a Route 53 name
  aliased to the `--cf-groups` load balancer, also started over one second.

Measured per run: first process start to last verdict (wall; ÷ delay = waves), the calls the
proxy saw by API (DynamoDB, the evidence table of `--share-table`, apart from the AWS control
plane), the calls it throttled (by API and operation), each verdict's gaps (and how many are
`Throttling`), verdicts without gaps, and each verdict's own `stats`. Each case runs `runs`
times: medians with min and max.

Each binary (`--before` and the one measured) runs every case. A binary whose `triage --help`
mentions `--share-table` gets `--share-table fivexx-bench-share`: a DynamoDB table (string keys
`pk` and `sk`, on demand) made in moto before each run, so every run starts cold.

moto sits behind scripts/cw_cbor_shim.py here, so CloudWatch answers the Rust SDK (RPCv2
CBOR) and a verdict without gaps is possible; the latency cases keep moto alone.
"""

from __future__ import annotations

import collections
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import boto3

from proxy import AWS_LIMITS, LatencyProxy, Limits

SHARE_TABLE = "fivexx-bench-share"
# Sequential waves of an ALB alarm without throttling (bench/README.md, "Waves"): the goal
# bound of a throttled run is the ELB calls beyond the bucket at the refill rate, plus these.
ALB_WAVES = 2
PROCESS_TIMEOUT_S = 180


@dataclass
class Binary:
    label: str  # "before" or "after"
    path: str
    share: bool  # passes --share-table


def supports_share_table(path: str) -> bool:
    out = subprocess.run([path, "triage", "--help"], capture_output=True, text=True, timeout=60)
    return "--share-table" in out.stdout + out.stderr


class Shim:
    """scripts/cw_cbor_shim.py in front of moto, on a free loopback port."""

    def __init__(self, moto_url: str, free_port, wait_for_port) -> None:
        root = Path(__file__).resolve().parent.parent
        self.port = free_port()
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen([sys.executable, str(root / "scripts/cw_cbor_shim.py"), "--port",
                                      str(self.port), "--upstream", moto_url],
                                     stdout=self.log, stderr=self.log, start_new_session=True)
        wait_for_port(self.port, 30)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def reset_share_table(ddb) -> None:
    """Drops and makes again the evidence table (moto makes it ACTIVE at once)."""
    try:
        ddb.delete_table(TableName=SHARE_TABLE)
    except ddb.exceptions.ResourceNotFoundException:
        pass
    ddb.create_table(TableName=SHARE_TABLE, BillingMode="PAY_PER_REQUEST",
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                {"AttributeName": "sk", "KeyType": "RANGE"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                           {"AttributeName": "sk", "AttributeType": "S"}])


def launch(binary: Binary, events: list[Path], now_s: str, endpoint: str, spread_s: float,
           creds: dict) -> list[dict]:
    """Starts one fivexx process per event, evenly over `spread_s` seconds (the first at 0),
    waits for all. Per process: start and end (seconds since the first start), exit code, the
    verdict (None when it printed none) and the end of its stderr."""
    env = {**os.environ, **creds, "AWS_ENDPOINT_URL": endpoint}
    n = len(events)
    rows: list[dict] = [{} for _ in events]
    waiters = []
    t0 = time.perf_counter()
    for i, event in enumerate(events):
        at = t0 + spread_s * i / n
        pause = at - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        cmd = [binary.path, "triage", "--event", str(event), "--now", now_s]
        if binary.share:
            cmd += ["--share-table", SHARE_TABLE]
        out, err = tempfile.TemporaryFile(), tempfile.TemporaryFile()
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=err)

        def wait(i=i, proc=proc, out=out, err=err, started=started) -> None:
            timer = threading.Timer(PROCESS_TIMEOUT_S, proc.kill)
            timer.start()
            try:
                # wait4 returns the moment the process exits (see harness.run_fivexx).
                _, status, _ = os.wait4(proc.pid, 0)
            finally:
                timer.cancel()
            ended = time.perf_counter()
            proc.returncode = os.waitstatus_to_exitcode(status)
            out.seek(0)
            err.seek(0)
            text = out.read()
            try:
                verdict = json.loads(text) if text.strip() else None
            except json.JSONDecodeError:
                verdict = None
            rows[i] = {"started": started - t0, "ended": ended - t0, "exit": proc.returncode,
                       "verdict": verdict, "stderr": err.read().decode(errors="replace")[-1500:]}
            out.close()
            err.close()

        th = threading.Thread(target=wait, daemon=True)
        th.start()
        waiters.append(th)
    for th in waiters:
        th.join()
    return rows


def reason_code(reason: str) -> str:
    return reason.split(":", 1)[0].strip() or reason


def run_summary(rows: list[dict], stats: dict, delay: float, elb_needed: int) -> dict:
    """One run's figures, from the processes' rows and the proxy's snapshot; `elb_needed`: the
    ELB calls the same processes made unthrottled (the warm-up)."""
    wall = max(r["ended"] for r in rows) - min(r["started"] for r in rows)
    verdicts = [r["verdict"] for r in rows]
    gaps = [len(v["gaps"]) if v else None for v in verdicts]
    # A gap of kind `budget` is a call fivexx chose not to make (AWS's limit left no room
    # before the deadline): said in the verdict, not a failure. Before the change no gap had a
    # kind: every gap was an error.
    error_gaps = [sum(1 for g in v["gaps"] if g.get("kind", "error") != "budget") if v else None
                  for v in verdicts]
    budget_gaps = [sum(1 for g in v["gaps"] if g.get("kind") == "budget") if v else None
                   for v in verdicts]
    throttling_gaps = [sum(1 for g in v["gaps"] if g["reason"].startswith("Throttling")) if v else None
                       for v in verdicts]
    reasons = collections.Counter(reason_code(g["reason"]) for v in verdicts if v for g in v["gaps"])
    sources = collections.Counter(f'{g["source"]} {reason_code(g["reason"])}' for v in verdicts if v
                                  for g in v["gaps"])
    by_api = stats["calls_by_api"]
    dynamodb = by_api.get("dynamodb", 0)
    throttled = stats["throttled"]
    elb_calls = by_api.get("elbv2", 0) + by_api.get("elb", 0)
    elb_ok = elb_calls - throttled.get("elbv2", 0) - throttled.get("elb", 0)
    elb = AWS_LIMITS["elbv2"].api
    return {
        "wall_ms": round(wall * 1000, 1),
        "waves": round(wall / delay, 2),
        "calls": stats["calls"] - dynamodb,  # the AWS control plane
        "dynamodb_calls": dynamodb,
        "calls_by_api": by_api,
        "operations": stats["operations"],
        "throttled": sum(throttled.values()),
        "throttled_by_api": throttled,
        "throttled_by_operation": stats["throttled_by_operation"],
        "cache_misses": stats["cache_misses"],
        "cache_misses_by_operation": stats["cache_misses_by_operation"],
        "max_in_flight": stats["max_in_flight"],
        "elb_calls": elb_calls,
        "elb_calls_through": elb_ok,
        # The ELB goal: the calls the triage needs (unthrottled) beyond the bucket, at the
        # refill rate, plus the unthrottled waves.
        "elb_calls_needed": elb_needed,
        "elb_goal_ms": round((max(0, elb_needed - elb.burst) / elb.per_second + ALB_WAVES * delay) * 1000, 1),
        "verdicts": len(rows),
        "failed": sum(1 for r in rows if r["exit"] != 0 or r["verdict"] is None),
        "gaps": sum(g for g in gaps if g is not None),
        "throttling_gaps": sum(g for g in throttling_gaps if g is not None),
        "gaps_per_verdict": gaps,
        "throttling_gaps_per_verdict": throttling_gaps,
        "gap_reasons": dict(reasons.most_common()),
        "gap_sources": dict(sources.most_common()),
        "complete": sum(1 for g in error_gaps if g == 0),
        "gap_free": sum(1 for g in gaps if g == 0),
        "error_gaps": sum(g for g in error_gaps if g is not None),
        "budget_gaps": sum(g for g in budget_gaps if g is not None),
        "reused": sum(1 for v in verdicts if v and v.get("shared_evidence")),
        "verdict_stats": [v["stats"] if v else None for v in verdicts],
        "verdict_status": [v["status"] if v else None for v in verdicts],
        "process_ms": [[round(r["started"] * 1000, 1), round(r["ended"] * 1000, 1)] for r in rows],
        "errors": [r["stderr"] for r in rows if r["exit"] != 0 or r["verdict"] is None][:3],
    }


SUMMARIZED = ("wall_ms", "waves", "calls", "dynamodb_calls", "throttled", "gaps", "throttling_gaps",
              "complete", "gap_free", "error_gaps", "budget_gaps", "reused", "failed", "cache_misses", "elb_calls", "elb_calls_through", "elb_calls_needed",
              "elb_goal_ms")


def summarize(runs: list[dict]) -> dict:
    out = {}
    for k in SUMMARIZED:
        values = [r[k] for r in runs]
        out[k] = statistics.median(values)
        out[k + "_min"], out[k + "_max"] = min(values), max(values)
    # The run whose wall time is the median (the lower one for an even count): its details.
    ordered = sorted(runs, key=lambda r: r["wall_ms"])
    mid = ordered[(len(ordered) - 1) // 2]
    for k in ("calls_by_api", "throttled_by_api", "throttled_by_operation", "gaps_per_verdict",
              "throttling_gaps_per_verdict", "gap_reasons", "gap_sources", "verdict_stats", "errors",
              "cache_misses_by_operation"):
        out[k] = mid[k]
    out["runs"] = runs
    return out


def _range(s: dict, k: str, fmt: str = "{:.0f}") -> str:
    if s[k + "_min"] == s[k + "_max"]:
        return fmt.format(s[k])
    return f"{fmt.format(s[k])} [{fmt.format(s[k + '_min'])}–{fmt.format(s[k + '_max'])}]"


def line(label: str, s: dict) -> str:
    apis = ", ".join(f"{k} {v}" for k, v in s["calls_by_api"].items() if k != "dynamodb")
    return (f"{label}: {_range(s, 'wall_ms')} ms ({_range(s, 'waves', '{:.1f}')} waves), calls "
            f"{_range(s, 'calls')} ({apis}) + {_range(s, 'dynamodb_calls')} dynamodb, throttled "
            f"{_range(s, 'throttled')}, gaps {_range(s, 'gaps')} ({_range(s, 'throttling_gaps')} Throttling, "
            f"{_range(s, 'budget_gaps')} budget), complete (no error gap) "
            f"{_range(s, 'complete')}/{len(s['gaps_per_verdict'])}, reused {_range(s, 'reused')}"
            + (f", FAILED {_range(s, 'failed')}" if s["failed_max"] else "")
            + (f", cache misses {_range(s, 'cache_misses')} (e.g. {s['cache_misses_by_operation']})"
               if s["cache_misses_max"] else ""))


def seed_route53_origin(h, session, lb: dict, n: int) -> tuple[str, str]:
    """A hosted zone `bench-N.example.com` with `origin.bench-N.example.com` aliased to the
    load balancer, and a distribution whose origin is that name (fivexx reads Route 53 to
    find the load balancer). Returns (distribution id, origin name)."""
    r53, cf = session.client("route53"), session.client("cloudfront")
    zone_name = f"bench-{n}.example.com"
    zone = r53.create_hosted_zone(Name=zone_name, CallerReference=f"bench-{n}-{time.time()}")["HostedZone"]
    origin = f"origin.{zone_name}"
    r53.change_resource_record_sets(HostedZoneId=zone["Id"], ChangeBatch={"Changes": [{
        "Action": "UPSERT", "ResourceRecordSet": {
            "Name": origin, "Type": "A",
            "AliasTarget": {"HostedZoneId": lb["CanonicalHostedZoneId"], "DNSName": lb["DNSName"],
                            "EvaluateTargetHealth": False}}}]})
    dist = h.custom_origin_distribution(cf, f"bench-r53-{n}", f"bench {n} via Route 53", origin)
    return dist["Id"], origin


def run(h, binaries: list[Binary], delay: float, runs: int, sizes: list[int], storms: list[int],
        storm_groups: int, cf_alarms: int, cf_groups: int, scale: float, work: Path) -> dict:
    """`h`: the harness module (Moto, seed, alarm_event, CREDS, REGION, free_port,
    wait_for_port, _endpoint_session)."""
    moto = h.Moto()
    shim = Shim(moto.url, h.free_port, h.wait_for_port)
    try:
        return _run(h, moto, shim, binaries, delay, runs, sizes, storms, storm_groups, cf_alarms,
                    cf_groups, scale, work)
    finally:
        shim.stop()
        moto.stop()


def _run(h, moto, shim, binaries, delay, runs, sizes, storms, storm_groups, cf_alarms, cf_groups,
         scale, work) -> dict:
    session = boto3.session.Session(region_name=h.REGION)
    ec2 = session.client("ec2", endpoint_url=moto.url)
    ddb = session.client("dynamodb", endpoint_url=moto.url)
    vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    subnets = [s["SubnetId"] for s in
               ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]][:2]
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    now_s = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    endpoint_session = h._endpoint_session(moto.url)
    needed = sorted(set(sizes) | ({storm_groups} if storms else set()) | ({cf_groups} if cf_alarms else set()))
    lbs = {}
    t = time.perf_counter()
    for n in needed:
        lbs[n] = h.seed(endpoint_session, n, vpc, subnets)["lb"]
    cf_dist = seed_route53_origin(h, endpoint_session, lbs[cf_groups], cf_groups)[0] if cf_alarms else None
    print(f"throttled: seeded {needed} target groups in {time.perf_counter() - t:.0f} s", flush=True)

    def write(name: str, event: dict) -> Path:
        path = work / f"throttled-{name}.json"
        path.write_text(json.dumps(event))
        return path

    def alb_dim(n: int) -> dict:
        return {"LoadBalancer": lbs[n]["LoadBalancerArn"].split(":loadbalancer/", 1)[1]}

    # (name, kind, size, alarm events, spread seconds)
    cases = []
    for n in sizes:
        cases.append((f"alb-{n}", "alb", n, [write(f"alb-{n}", h.alarm_event(
            f"throttled-{n}-alb-5xx", "AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", alb_dim(n), now))], 0.0))
    for k in storms:
        events = [write(f"storm-{k}-{i}", h.alarm_event(
            f"storm-{i}", "AWS/ApplicationELB",
            "HTTPCode_ELB_5XX_Count" if i % 2 else "HTTPCode_Target_5XX_Count", alb_dim(storm_groups), now))
            for i in range(1, k + 1)]
        cases.append((f"storm-{k}", "storm", storm_groups, events, 1.0))
    if cf_alarms:
        events = [write(f"cf-{i}", h.alarm_event(f"cf-storm-{i}", "AWS/CloudFront", "5xxErrorRate",
                                                 {"DistributionId": cf_dist, "Region": "Global"}, now))
                  for i in range(1, cf_alarms + 1)]
        cases.append((f"cloudfront-{cf_alarms}", "cloudfront", cf_groups, events, 1.0))

    limits = Limits(scale=scale)
    rows = []
    with LatencyProxy(shim.port) as proxy:
        # Warm-up, no delay, no throttling: the proxy learns every answer each binary asks for.
        # Without --share-table, so that every process reads everything (sharing only leaves
        # reads out; a read it adds would show as a cache miss), and so the events of a case
        # can run at once (a paced binary takes seconds per wide triage even unthrottled).
        # An empty table of limits: calls counted by API, none throttled.
        t = time.perf_counter()
        proxy.delay, proxy.throttle = 0.0, Limits(table={})
        warm = collections.Counter()
        unthrottled_calls: dict[tuple[str, str], dict] = {}
        unthrottled_gaps: dict[tuple[str, str], int] = {}
        for b in binaries:
            alone = Binary(b.label, b.path, False)
            for name, _, _, events, _ in cases:
                proxy.stats.reset()
                gaps = 0
                for r, event in zip(launch(alone, events, now_s, proxy.url, 0.0, h.CREDS), events):
                    if r["exit"] != 0 or r["verdict"] is None:
                        raise SystemExit(f"harness: warm-up of {b.label} on {event.name} failed "
                                         f"({r['exit']}): {r['stderr']}")
                    gaps += len(r["verdict"]["gaps"])
                unthrottled_gaps[(b.label, name)] = gaps
                snap = proxy.stats.snapshot()
                warm[b.label] += snap["cache_misses"]
                unthrottled_calls[(b.label, name)] = snap["calls_by_api"]
        print(f"throttled: warm-up {time.perf_counter() - t:.0f} s, answers learned "
              f"{dict(warm)}", flush=True)
        proxy.delay, proxy.throttle = delay, limits
        for name, kind, n, events, spread in cases:
            row = {"case": name, "kind": kind, "target_groups": n, "alarms": len(events),
                   "spread_s": spread}
            for b in binaries:
                per_run = []
                for _ in range(runs):
                    if b.share:
                        reset_share_table(ddb)
                    limits.reset()  # every bucket full
                    proxy.stats.reset()
                    procs = launch(b, events, now_s, proxy.url, spread, h.CREDS)
                    unthrottled = unthrottled_calls[(b.label, name)]
                    per_run.append(run_summary(procs, proxy.stats.snapshot(), delay,
                                               unthrottled.get("elbv2", 0) + unthrottled.get("elb", 0)))
                row[b.label] = summarize(per_run)
                row[b.label]["share_table"] = b.share
                row[b.label]["unthrottled_calls_by_api"] = unthrottled_calls[(b.label, name)]
                # Gaps without throttling or delay (the warm-up): a binary that paces itself can
                # run out of time even then, and then the calls it made are fewer than it needs.
                row[b.label]["unthrottled_gaps"] = unthrottled_gaps[(b.label, name)]
            rows.append(row)
            print(f"throttled: {name:14} ({len(events)} alarm{'s' if len(events) > 1 else ''}, {n} target groups)",
                  flush=True)
            for b in binaries:
                s = row[b.label]
                print(f"  {line(b.label, s)}", flush=True)
                if kind == "alb":
                    print(f"  {b.label}: ELB goal bound {s['elb_goal_ms']:.0f} ms ((ELB calls needed "
                          f"{s['elb_calls_needed']:.0f} - 40) / 10 per s + {ALB_WAVES} waves x delay; "
                          f"{s['elb_calls']:.0f} ELB calls made, {s['elb_calls_through']:.0f} through); "
                          f"verdict stats {s['verdict_stats'][0]}", flush=True)
                if s["unthrottled_gaps"]:
                    print(f"  {b.label}: unthrottled (warm-up, no delay) its verdicts had "
                          f"{s['unthrottled_gaps']} gaps too", flush=True)
                if len(events) > 1:
                    print(f"  {b.label}: gaps per verdict {s['gaps_per_verdict']}", flush=True)
                if s["gap_sources"]:
                    print(f"  {b.label}: gaps by source {s['gap_sources']}", flush=True)
                for e in s["errors"][:1]:
                    print(f"  {b.label}: a process failed: {e.strip()[-400:]}", flush=True)
    return {"delay_ms": delay * 1000, "runs": runs, "limits": limits.describe(),
            "binaries": {b.label: {"path": b.path, "share_table": b.share} for b in binaries},
            "alb_waves_assumed": ALB_WAVES, "rows": rows}
