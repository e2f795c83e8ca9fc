"""The runtime benchmarks of scripts/bench (method: bench/README.md).

    harness.py BINARY OUT.json [--delay-ms 50] [--runs 5] [--sizes 1,10,50]
               [--throttled | --only-throttled] [--before BINARY] [--throttled-runs 3]
               [--throttled-sizes 1,10,50,100] [--storms 5,20] [--storm-groups 50]
               [--cf-alarms 10] [--cf-groups 10] [--limits-scale 1]

BINARY is a release build of fivexx. Starts moto server on a free loopback port, seeds it,
and measures:

- latency: the latency proxy (benches/proxy.py) in front of moto adds a fixed delay to every
  AWS call; fivexx triages an ALB alarm with N target groups (N HTTPS listeners, N
  certificates) and a CloudFront alarm whose origin is that ALB. Wall time / delay = the
  sequential waves actually paid. The boto3 baseline (benches/baseline.py) gathers the same
  evidence through the same proxy, sequentially.
- cold start: fivexx as a Lambda function under a minimal Lambda Runtime API served here:
  process start to its first `next` request (ready), to its first answer (first verdict,
  against moto), to its second answer (warm); CPU time and peak RSS (VmHWM).
- replay: the CLI replaying every scenario world (tests/scenarios): wall, CPU, peak RSS.
- throttled (`--throttled`, after the others; `--only-throttled` alone): the same delay with
  AWS's API rate limits enforced by the proxy, one alarm and storms of concurrent alarms,
  BINARY and the `--before` binary side by side (benches/throttled.py).

Everything listens on 127.0.0.1 only and is stopped at exit.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import boto3
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

sys.path.insert(0, str(Path(__file__).parent))
import baseline  # noqa: E402
import throttled  # noqa: E402
from proxy import LatencyProxy  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
GNU_TIME = "/usr/bin/time"
HAVE_GNU_TIME = os.access(GNU_TIME, os.X_OK)
ACCOUNT = "123456789012"
REGION = "us-east-1"
CREDS = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_REGION": REGION,
         "AWS_DEFAULT_REGION": REGION}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"harness: nothing listens on 127.0.0.1:{port} after {seconds} s")


class Moto:
    def __init__(self) -> None:
        self.port = free_port()
        moto = Path(sys.executable).parent / "moto_server"
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen([str(moto), "-H", "127.0.0.1", "-p", str(self.port)],
                                     stdout=self.log, stderr=self.log, start_new_session=True)
        wait_for_port(self.port, 30)
        self.url = f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        self.proc.wait(10)


# --- seeding -------------------------------------------------------------------------------

def self_signed(name: str) -> tuple[bytes, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=90))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .sign(key, hashes.SHA256()))
    return (cert.public_bytes(serialization.Encoding.PEM),
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()))


def seed(session, n: int, vpc: str, subnets: list[str]) -> dict:
    """ALB `bench-N`: N target groups (2 targets each), N certificates, N HTTPS listeners;
    CloudFront distribution with that ALB as its custom origin."""
    elb, acm, cf = session.client("elbv2"), session.client("acm"), session.client("cloudfront")
    lb = elb.create_load_balancer(Name=f"bench-{n}", Subnets=subnets, Scheme="internet-facing",
                                  Type="application")["LoadBalancers"][0]
    for i in range(n):
        tg = elb.create_target_group(Name=f"bench-{n}-tg-{i}", Protocol="HTTP", Port=8080, VpcId=vpc,
                                     TargetType="ip", HealthCheckPath="/health")["TargetGroups"][0]
        elb.register_targets(TargetGroupArn=tg["TargetGroupArn"],
                             Targets=[{"Id": f"10.0.{i}.10", "Port": 8080}, {"Id": f"10.0.{i}.11", "Port": 8080}])
        cert_pem, key_pem = self_signed(f"app{i}.bench{n}.example.com")
        cert = acm.import_certificate(Certificate=cert_pem, PrivateKey=key_pem)["CertificateArn"]
        elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTPS", Port=8000 + i,
                            Certificates=[{"CertificateArn": cert}],
                            DefaultActions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}])
    dist = custom_origin_distribution(cf, f"bench-{n}", f"bench {n}", lb["DNSName"])
    return {"lb": lb, "distribution_id": dist["Id"]}


def custom_origin_distribution(cf, reference: str, comment: str, domain: str) -> dict:
    """A distribution whose one origin is the custom origin `domain` (HTTPS only)."""
    return cf.create_distribution(DistributionConfig={
        "CallerReference": f"{reference}-{time.time()}", "Comment": comment, "Enabled": True,
        "Origins": {"Quantity": 1, "Items": [{
            "Id": "alb", "DomainName": domain,
            "CustomOriginConfig": {"HTTPPort": 80, "HTTPSPort": 443, "OriginProtocolPolicy": "https-only",
                                   "OriginReadTimeout": 30, "OriginKeepaliveTimeout": 5,
                                   "OriginSslProtocols": {"Quantity": 1, "Items": ["TLSv1.2"]}}}]},
        "DefaultCacheBehavior": {"TargetOriginId": "alb", "ViewerProtocolPolicy": "redirect-to-https",
                                 "CachePolicyId": "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"},
    })["Distribution"]


def alarm_event(name: str, namespace: str, metric: str, dims: dict, at: dt.datetime) -> dict:
    stamp = at.strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    return {
        "source": "aws.cloudwatch", "alarmArn": f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{name}",
        "accountId": ACCOUNT, "region": REGION, "time": stamp,
        "alarmData": {"alarmName": name,
                      "state": {"value": "ALARM", "reason": "Threshold Crossed", "timestamp": stamp},
                      "previousState": {"value": "OK", "reason": "Threshold Crossed", "timestamp": stamp},
                      "configuration": {"metrics": [{"id": "m1", "returnData": True, "metricStat": {
                          "metric": {"namespace": namespace, "name": metric, "dimensions": dims},
                          "period": 60, "stat": "Sum" if namespace.endswith("ELB") else "Average"}}]}}}


# --- latency -------------------------------------------------------------------------------

def run_fivexx(binary: str, event: Path, now: str, endpoint: str) -> tuple[float, dict, float]:
    """Wall seconds, the verdict, and the process's CPU seconds (user + system)."""
    # The latency-bound figures: the critical path alone, so no pacing to AWS's rate limits
    # (this proxy enforces none); the throttled cases (benches/throttled.py) measure with both.
    env = {**os.environ, **CREDS, "AWS_ENDPOINT_URL": endpoint, "FIVEXX_API_PACING": "false"}
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen([binary, "triage", "--event", str(event), "--now", now], env=env,
                                stdout=out, stderr=err)
        # A blocking wait4 returns the moment the process exits (Popen.wait(timeout=...) polls
        # with sleeps of up to 50 ms, which would land in the wall time); a timer bounds it.
        killed = threading.Event()

        def kill() -> None:
            killed.set()
            proc.kill()

        timer = threading.Timer(120, kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        if killed.is_set():
            raise SystemExit("harness: fivexx ran past 120 s")
        cpu = usage.ru_utime + usage.ru_stime
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            raise SystemExit(f"harness: fivexx failed ({proc.returncode}): {err.read().decode().strip()}")
        return wall, json.loads(out.read()), cpu


def latency(binary: str, moto: Moto, delay: float, runs: int, sizes: list[int], work: Path) -> dict:
    session = boto3.session.Session(region_name=REGION)
    ec2 = session.client("ec2", endpoint_url=moto.url)
    vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    subnets = [s["SubnetId"] for s in
               ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]][:2]
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    now_s = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    rows = []
    with LatencyProxy(moto.port) as proxy:
        clients = baseline.Clients(session, proxy.url)
        for n in sizes:
            seeded = seed(_endpoint_session(moto.url), n, vpc, subnets)
            lb, dist_id = seeded["lb"], seeded["distribution_id"]
            dim = lb["LoadBalancerArn"].split(":loadbalancer/", 1)[1]
            cases = {
                "alb": (alarm_event(f"bench-{n}-alb-5xx", "AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count",
                                    {"LoadBalancer": dim}, now),
                        lambda: baseline.gather_alb_alarm(clients, f"bench-{n}-alb-5xx",
                                                          lb["LoadBalancerArn"], now)),
                "cloudfront": (alarm_event(f"bench-{n}-cf-5xx", "AWS/CloudFront", "5xxErrorRate",
                                           {"DistributionId": dist_id, "Region": "Global"}, now),
                               lambda: baseline.gather_cloudfront_alarm(clients, f"bench-{n}-cf-5xx",
                                                                        dist_id, now)),
            }
            proxy.memory.clear()  # the seeding changed what moto answers
            for kind, (event, gather_baseline) in cases.items():
                path = work / f"{kind}-{n}.json"
                path.write_text(json.dumps(event))
                # Warm-up, no delay: the proxy learns moto's answers (see proxy.py).
                proxy.delay = 0.0
                run_fivexx(binary, path, now_s, proxy.url)
                gather_baseline()
                proxy.delay = delay
                walls, spans, startups, cpus, proxy_cpus, verdict, stats = [], [], [], [], [], None, None
                for _ in range(runs):
                    proxy.stats.reset()
                    proxy_cpu = proxy.cpu_seconds()
                    wall, verdict, cpu = run_fivexx(binary, path, now_s, proxy.url)
                    walls.append(wall)
                    cpus.append(cpu)
                    proxy_cpus.append(proxy.cpu_seconds() - proxy_cpu)
                    stats = proxy.stats.snapshot()
                    timeline = stats["timeline"]
                    if timeline:
                        spans.append(max(t[2] for t in timeline) - timeline[0][1])
                        startups.append(timeline[0][1])
                # The baseline runs once: its time is its calls one after another, each paying
                # the delay (two runs per case differed by at most 1.1% on 2026-11-30), and at 50
                # groups one run takes 5 to 8 s.
                proxy.stats.reset()
                started = time.perf_counter()
                gather_baseline()
                base_walls = [time.perf_counter() - started]
                base_stats = proxy.stats.snapshot()
                wall = statistics.median(walls)
                base_wall = base_walls[0]
                row = {
                    "case": kind, "target_groups": n, "certificates": n, "delay_ms": delay * 1000,
                    "fivexx_wall_ms": round(wall * 1000, 1),
                    "fivexx_wall_ms_runs": [round(w * 1000, 1) for w in walls],
                    "waves_measured": round(wall / delay, 2),
                    # CPU of the fivexx process (all threads, start-up included) and of the
                    # proxy's event loop thread, which shares the same cores.
                    "fivexx_cpu_ms": round(statistics.median(cpus) * 1000, 1),
                    "proxy_cpu_ms": round(statistics.median(proxy_cpus) * 1000, 1),
                    "round_trips_reported": verdict["stats"]["round_trips"],
                    "api_calls": stats["calls"], "api_calls_reported": verdict["stats"]["api_calls"],
                    "metrics_requested": stats["metrics_requested"],
                    "max_in_flight": stats["max_in_flight"], "cache_misses": stats["cache_misses"],
                    "operations": stats["operations"],
                    "verdict_status": verdict["status"],
                    # Medians: process start to first AWS call; first AWS call to last answer
                    # (the waves themselves, without start-up: what a warm Lambda pays).
                    "startup_ms": round(statistics.median(startups) * 1000, 1) if startups else None,
                    "calls_span_waves": round(statistics.median(spans) / delay, 2) if spans else None,
                    "after_last_answer_ms": round((walls[-1] - max(t[2] for t in timeline)) * 1000, 1)
                    if timeline else None,
                    "timeline_ms": [(op, round(a * 1000, 1), round(d * 1000, 1)) for op, a, d in timeline],
                    "baseline_wall_ms": round(base_wall * 1000, 1),
                    "baseline_wall_ms_runs": [round(w * 1000, 1) for w in base_walls],
                    "baseline_api_calls": base_stats["calls"],
                    "baseline_metrics_requested": base_stats["metrics_requested"],
                    "baseline_operations": base_stats["operations"],
                    "baseline_cache_misses": base_stats["cache_misses"],
                    "speedup_vs_baseline": round(base_wall / wall, 1),
                }
                rows.append(row)
                if row["api_calls"] != row["baseline_api_calls"]:
                    raise SystemExit(f"harness: {kind} N={n}: fivexx made {row['api_calls']} calls "
                                     f"{row['operations']}, the baseline {row['baseline_api_calls']} "
                                     f"{row['baseline_operations']}: update benches/baseline.py")
                print(f"latency: {kind:10} N={n:<3} fivexx {row['fivexx_wall_ms']:7.1f} ms "
                      f"({row['waves_measured']:.2f} x delay, CPU {row['fivexx_cpu_ms']:.0f} ms, proxy {row['proxy_cpu_ms']:.0f} ms, "
                      f"{row['api_calls']} calls, "
                      f"{row['metrics_requested']} metrics) | boto3 {row['baseline_wall_ms']:8.1f} ms "
                      f"({row['baseline_api_calls']} calls) | x{row['speedup_vs_baseline']}", flush=True)
    return {"delay_ms": delay * 1000, "runs": runs, "rows": rows}


def _endpoint_session(url: str):
    class WithEndpoint:
        def __init__(self) -> None:
            self.session = boto3.session.Session(region_name=REGION)

        def client(self, name: str):
            return self.session.client(name, endpoint_url=url)

    return WithEndpoint()


# --- cold start ----------------------------------------------------------------------------

class RuntimeApi:
    """The Lambda Runtime API, enough for one function process: serves `events` in order, then
    holds the next `next` open until the process is killed. Records when things happen."""

    def __init__(self, events: list[bytes]) -> None:
        self.events = list(events)
        self.marks: list[tuple[str, float]] = []
        self.answers: list[bytes] = []
        self.pid: int | None = None
        self.cpu_at_ready: float | None = None
        self.cond = threading.Condition()
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                if not self.path.endswith("/runtime/invocation/next"):
                    self.send_error(404)
                    return
                api.mark("next")
                with api.cond:
                    if api.cpu_at_ready is None and api.pid is not None:
                        api.cpu_at_ready = cpu_seconds(api.pid)
                    if not api.events:
                        api.cond.wait(60)
                        self.send_error(410)
                        return
                    body = api.events.pop(0)
                request_id = f"req-{len(api.marks)}"
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Lambda-Runtime-Aws-Request-Id", request_id)
                self.send_header("Lambda-Runtime-Deadline-Ms", str(int(time.time() * 1000) + 30000))
                self.send_header("Lambda-Runtime-Invoked-Function-Arn",
                                 f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:fivexx")
                self.send_header("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                data = self.rfile.read(length)
                kind = "error" if self.path.endswith("/error") else "response"
                api.mark(kind)
                with api.cond:
                    api.answers.append(data)
                    api.cond.notify_all()
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address) -> None:
                pass  # the function is killed with a `next` request open: expected

        self.server = Server(("127.0.0.1", 0), Handler)
        self.address = f"127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def mark(self, what: str) -> None:
        with self.cond:
            self.marks.append((what, time.perf_counter()))

    def wait_answers(self, n: int, seconds: float) -> None:
        end = time.monotonic() + seconds
        with self.cond:
            while len(self.answers) < n and time.monotonic() < end:
                self.cond.wait(0.05)

    def close(self) -> None:
        with self.cond:
            self.cond.notify_all()
        self.server.shutdown()
        self.server.server_close()


def cpu_seconds(pid: int) -> float:
    """CPU time of every thread of `pid`, from schedstat (nanoseconds; /proc/PID/stat ticks are
    10 ms, too coarse)."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            pass
    return total / 1e9


def peak_rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def cold_start(binary: str, moto: Moto, runs: int) -> dict:
    s = _endpoint_session(moto.url)
    topic = s.client("sns").create_topic(Name="fivexx-bench")["TopicArn"]
    elb = s.client("elbv2")
    # The smallest seeded load balancer (`bench-N`).
    lb = min((l for l in elb.describe_load_balancers()["LoadBalancers"] if l["LoadBalancerName"].startswith("bench-")),
             key=lambda l: int(l["LoadBalancerName"].split("-")[1]))
    dim = lb["LoadBalancerArn"].split(":loadbalancer/", 1)[1]
    now = dt.datetime.now(dt.timezone.utc)
    event = json.dumps(alarm_event("bench-cold-alb-5xx", "AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count",
                                   {"LoadBalancer": dim}, now)).encode()
    rows = []
    for _ in range(runs):
        api = RuntimeApi([event, event])
        env = {"PATH": os.environ.get("PATH", ""), **CREDS, "AWS_ENDPOINT_URL": moto.url,
               "AWS_LAMBDA_RUNTIME_API": api.address, "AWS_LAMBDA_FUNCTION_NAME": "fivexx",
               "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256", "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
               "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/fivexx", "AWS_LAMBDA_LOG_STREAM_NAME": "bench",
               "AWS_LAMBDA_LOG_FORMAT": "JSON", "FIVEXX_SNS_TOPIC_ARN": topic}
        started = time.perf_counter()
        proc = subprocess.Popen([binary], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        with api.cond:
            api.pid = proc.pid
        api.wait_answers(2, 60)
        answered = len(api.answers)
        rss = peak_rss_kb(proc.pid) if proc.poll() is None else 0
        cpu_total = cpu_seconds(proc.pid) if proc.poll() is None else 0.0
        proc.kill()
        _, stderr = proc.communicate(10)
        api.close()
        if answered < 2:
            raise SystemExit(f"harness: the function answered {answered} of 2 events: {stderr.decode()[-2000:]}")
        marks = [(w, t - started) for w, t in api.marks]
        first_next = next(t for w, t in marks if w == "next")
        answers = [t for w, t in marks if w in ("response", "error")]
        verdict = json.loads(api.answers[0])
        rows.append({"ready_ms": first_next * 1000, "first_verdict_ms": answers[0] * 1000,
                     "warm_verdict_ms": (answers[1] - answers[0]) * 1000,
                     "cpu_at_ready_ms": (api.cpu_at_ready or 0) * 1000, "cpu_total_ms": cpu_total * 1000,
                     "peak_rss_kb": rss, "status": verdict.get("status"),
                     "answer_kinds": [w for w, _ in marks if w != "next"]})
    summary = {k: round(statistics.median(r[k] for r in rows), 1)
               for k in ("ready_ms", "first_verdict_ms", "warm_verdict_ms", "cpu_at_ready_ms", "cpu_total_ms")}
    summary["peak_rss_mb"] = round(max(r["peak_rss_kb"] for r in rows) / 1024, 1)
    summary["runs"] = rows
    print(f"cold start: ready {summary['ready_ms']} ms (CPU {summary['cpu_at_ready_ms']} ms), first verdict "
          f"{summary['first_verdict_ms']} ms, warm {summary['warm_verdict_ms']} ms, "
          f"peak RSS {summary['peak_rss_mb']} MB", flush=True)
    return summary


def replay(binary: str, runs: int) -> dict:
    rows = []
    for d in sorted((ROOT / "tests/scenarios").iterdir()):
        if not (d / "world.json").is_file():
            continue
        walls, cpus, rss = [], [], 0
        for _ in range(runs):
            # Peak RSS through GNU time: a child forked by Python inherits Python's own peak
            # in ru_maxrss (about 50 MB), so it cannot be read from our wait4.
            with tempfile.NamedTemporaryFile("r") as rss_file:
                wrap = [GNU_TIME, "-o", rss_file.name, "-f", "%M"] if HAVE_GNU_TIME else []
                started = time.perf_counter()
                proc = subprocess.Popen(wrap + [binary, "triage", "--event", str(d / "event.json"),
                                                "--world", str(d / "world.json")],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                _, status, usage = os.wait4(proc.pid, 0)
                walls.append(time.perf_counter() - started)
                proc.returncode = os.waitstatus_to_exitcode(status)
                if proc.returncode != 0:
                    raise SystemExit(f"harness: replay of {d.name} exited {proc.returncode}")
                cpus.append(usage.ru_utime + usage.ru_stime)
                if HAVE_GNU_TIME:
                    rss = max(rss, int(rss_file.read().split()[-1]))
        rows.append({"scenario": d.name, "wall_ms": round(statistics.median(walls) * 1000, 2),
                     "cpu_ms": round(statistics.median(cpus) * 1000, 2), "peak_rss_kb": rss})
    summary = {"scenarios": len(rows),
               "wall_ms_median": round(statistics.median(r["wall_ms"] for r in rows), 2),
               "wall_ms_max": max(r["wall_ms"] for r in rows),
               "cpu_ms_median": round(statistics.median(r["cpu_ms"] for r in rows), 2),
               "cpu_ms_max": max(r["cpu_ms"] for r in rows),
               "peak_rss_mb": round(max(r["peak_rss_kb"] for r in rows) / 1024, 1), "rows": rows}
    print(f"replay: {len(rows)} scenarios, wall median {summary['wall_ms_median']} ms (max "
          f"{summary['wall_ms_max']}), CPU median {summary['cpu_ms_median']} ms, peak RSS "
          f"{summary['peak_rss_mb']} MB", flush=True)
    return summary


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("out")
    ap.add_argument("--delay-ms", type=float, default=50)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--sizes", default="1,10,50")
    ap.add_argument("--throttled", action="store_true", help="run the throttled cases after the others")
    ap.add_argument("--only-throttled", action="store_true", help="run the throttled cases only")
    ap.add_argument("--before", help="a fivexx binary from before the change: every throttled case runs it too")
    ap.add_argument("--throttled-runs", type=int, default=3)
    ap.add_argument("--throttled-sizes", default="1,10,50,100", help="target groups of the one-alarm cases")
    ap.add_argument("--storms", default="5,20", help="alarms per storm (empty: none)")
    ap.add_argument("--storm-groups", type=int, default=50, help="target groups of the storms' load balancer")
    ap.add_argument("--cf-alarms", type=int, default=10, help="concurrent CloudFront alarms (0: none)")
    ap.add_argument("--cf-groups", type=int, default=10, help="target groups behind the CloudFront origin")
    ap.add_argument("--limits-scale", type=float, default=1.0,
                    help="multiplies every bucket's size and rate (testing the throttling answers)")
    args = ap.parse_args()
    for k, v in CREDS.items():
        os.environ[k] = v
    os.environ.pop("AWS_ENDPOINT_URL", None)
    os.environ.pop("AWS_PROFILE", None)
    sizes = [int(x) for x in args.sizes.split(",")]
    if not HAVE_GNU_TIME:
        print(f"harness: `{GNU_TIME}` not found (Debian: apt-get install time): replay peak RSS not measured",
              file=sys.stderr)
    work = Path(tempfile.mkdtemp(prefix="fivexx-bench-"))
    results = {}
    try:
        if not args.only_throttled:
            moto = Moto()
            try:
                results = {
                    "replay": replay(args.binary, 3),
                    "latency": latency(args.binary, moto, args.delay_ms / 1000, args.runs, sizes, work),
                    "cold_start": cold_start(args.binary, moto, args.runs),
                }
            finally:
                moto.stop()
        if args.throttled or args.only_throttled:
            binaries = []
            if args.before:
                binaries.append(throttled.Binary("before", args.before, throttled.supports_share_table(args.before)))
            binaries.append(throttled.Binary("after", args.binary, throttled.supports_share_table(args.binary)))
            for b in binaries:
                print(f"throttled: {b.label} = {b.path}" + (" (with --share-table)" if b.share else ""), flush=True)
            results["throttled"] = throttled.run(
                sys.modules[__name__], binaries, args.delay_ms / 1000, args.throttled_runs,
                [int(x) for x in args.throttled_sizes.split(",") if x],
                [int(x) for x in args.storms.split(",") if x], args.storm_groups, args.cf_alarms,
                args.cf_groups, args.limits_scale, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
    print(f"harness: wrote {args.out}")


if __name__ == "__main__":
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(max(soft, 4096), hard), hard))
    main()
