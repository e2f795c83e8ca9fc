#!/usr/bin/env python3
"""Generates recorded-incident scenarios for tests/scenarios/ (see its README.md).

Each scenario is one incident, modelled the way AWS would report it, and written as
`event.json` (the alarm payload), `world.json` (what the AWS APIs answered, format
`fivexx-world/1`, see docs/world-format.md) and `expect.json`.

    scripts/scenario-gen.py                 # (re)write every scenario below
    scripts/scenario-gen.py NAME [NAME...]  # only these
    scripts/scenario-gen.py --list

Python 3 standard library only, and deterministic: every scenario seeds its own
random.Random from its name, so a rerun writes byte-identical files.

How the worlds are modelled (the facts each choice stands on):

- Time: `Now` is 2026-11-22T12:37:00Z; series are per minute over the 120 minutes before it
  (10:37 .. 12:36). Alarms change state at 12:36:15 after their datapoints at 12:33, 12:34
  and 12:35 breached (3 of 3 unless said otherwise), so incidents start around 12:33.
- ALB metrics are published only while requests flow, and count metrics only when non-zero
  ("Reporting criteria: There is a nonzero value", ALB CloudWatch metrics docs). So a minute
  without ELB 502s has no HTTPCode_ELB_502_Count datapoint, never a 0.
  HTTPCode_ELB_5XX_Count / HTTPCode_ELB_4XX_Count / HTTPCode_Target_*: "Minimum, Maximum and
  Average all return 1": SampleCount = Sum. Other counts are modelled as one sample per load
  balancer node (one node per enabled Availability Zone). RequestCount is "always reported"
  while the load balancer receives requests (0 when no target could be chosen) and counts
  only requests for which a target was chosen.
- Dimensions are the ones AWS publishes: ELB codes, ELBAuthError, Client TLS errors and
  RejectedConnectionCount per LoadBalancer only; target metrics per LoadBalancer and per
  (LoadBalancer, TargetGroup); HealthyHostCount/UnHealthyHostCount only per
  (LoadBalancer, TargetGroup) and only while health checks are enabled; LambdaUserError and
  LambdaInternalError only per (LoadBalancer, TargetGroup) and per TargetGroup, never per
  LoadBalancer alone (CloudWatch "metrics that support enriched dimensions" table).
  Only the series fivexx queries are written, as `--record` would.
- TargetResponseTime: lognormal latencies per minute (Average, Minimum, Maximum, p99,
  SampleCount = responses); present only in minutes where targets answered.
- CloudFront (us-east-1, DistributionId + Region=Global): Requests (Sum), the error rates as
  percentages of all requests (cache hits included), CacheHitRate, and OriginLatency in
  milliseconds for requests served from the origin (additional metrics enabled).
- Target health reason codes and descriptions are spelled as DescribeTargetHealth writes
  them ("Target deregistration is in progress", "Health checks failed", ...).
- IDs (load balancer, target group, listener, instance, certificate, distribution, zone)
  have AWS's shapes and lengths, and every ARN, DNS name and dimension of one world agrees.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import os
import random
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "scenarios")
ACCOUNT = "123456789012"
UTC = dt.timezone.utc
NOW = dt.datetime(2026, 11, 22, 12, 37, 0, tzinfo=UTC)
N = 120
START = NOW - dt.timedelta(minutes=N)  # 10:37, the first datapoint
CHANGED = dt.datetime(2026, 11, 22, 12, 36, 15, 490000, tzinfo=UTC)
ALB_ZONE = {"us-east-1": "Z35SXDOTRQ7X7K", "eu-west-1": "Z32O12XQLNTSW2"}
CLOUDFRONT_ZONE = "Z2FDTNDATAQYW2"
REGION_NAME = {"us-east-1": "US East (N. Virginia)", "eu-west-1": "EU (Ireland)"}

# Managed CloudFront policies (ids are AWS's own).
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ORP_ALL_VIEWER = "216adef6-5c7f-47e4-b989-5492eafa07d3"
ORP_ALL_VIEWER_EXCEPT_HOST = "b689b0a8-53d0-40ab-baf2-68738e2966ac"

# Target health as DescribeTargetHealth spells it.
HEALTH = {
    "healthy": ("healthy", None, None),
    "initial-registration": ("initial", "Elb.RegistrationInProgress", "Target registration is in progress"),
    "initial-checking": ("initial", "Elb.InitialHealthChecking", "Initial health checks in progress"),
    "failed": ("unhealthy", "Target.FailedHealthChecks", "Health checks failed"),
    "timeout": ("unhealthy", "Target.Timeout", "Request timed out"),
    "draining": ("draining", "Target.DeregistrationInProgress", "Target deregistration is in progress"),
    "notinuse-az": ("unused", "Target.NotInUse", "Target is in an Availability Zone that is not enabled for the load balancer"),
    "notinuse-tg": ("unused", "Target.NotInUse", "Target group is not configured to receive traffic from the load balancer"),
    "hc-disabled": ("unavailable", "Target.HealthCheckDisabled", "Health checks are disabled"),
}


# ----------------------------------------------------------------------------- time helpers


def ts(i: int) -> str:
    return (START + dt.timedelta(minutes=i)).strftime("%Y-%m-%dT%H:%M:%SZ")


def idx(hhmm: str) -> int:
    """Index of the datapoint of minute HH:MM."""
    h, m = hhmm.split(":")[:2]
    return (int(h) * 60 + int(m)) - (START.hour * 60 + START.minute)


def secs(hhmmss: str) -> float:
    """Seconds since START of a wall-clock time HH:MM[:SS] on the incident day."""
    parts = [int(p) for p in hhmmss.split(":")]
    while len(parts) < 3:
        parts.append(0)
    return (parts[0] * 3600 + parts[1] * 60 + parts[2]) - (START.hour * 3600 + START.minute * 60)


def share_of_minute(i: int, start: str | None = None, end: str | None = None) -> float:
    """Fraction of minute i inside [start, end)."""
    a, b = i * 60.0, i * 60.0 + 60.0
    lo = a if start is None else max(a, secs(start))
    hi = b if end is None else min(b, secs(end))
    return max(0.0, hi - lo) / 60.0


def iso(t: dt.datetime, millis: bool = False) -> str:
    if millis:
        return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}+0000"
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


# ----------------------------------------------------------------------------- randomness


class Gen:
    """Seeded randomness and AWS-shaped identifiers for one scenario."""

    def __init__(self, name: str):
        seed = int(hashlib.sha256(name.encode()).hexdigest()[:16], 16)
        self.r = random.Random(seed)

    def hex(self, n: int) -> str:
        return "".join(self.r.choice("0123456789abcdef") for _ in range(n))

    def upper(self, n: int) -> str:
        return "".join(self.r.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") for _ in range(n))

    def lower(self, n: int) -> str:
        return "".join(self.r.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(n))

    def uuid(self) -> str:
        return f"{self.hex(8)}-{self.hex(4)}-4{self.hex(3)}-{self.r.choice('89ab')}{self.hex(3)}-{self.hex(12)}"

    def instance(self) -> str:
        return "i-0" + self.hex(16)

    def sg(self) -> str:
        return "sg-0" + self.hex(16)

    def dns_number(self) -> str:
        return str(self.r.randint(300_000_000, 2_099_999_999))

    def gauss(self, mu: float, sigma: float) -> float:
        return self.r.gauss(mu, sigma)

    def uniform(self, a: float, b: float) -> float:
        return self.r.uniform(a, b)

    def poisson(self, lam: float) -> int:
        if lam <= 0:
            return 0
        if lam > 60:
            return max(0, int(round(self.r.gauss(lam, math.sqrt(lam)))))
        limit, k, p = math.exp(-lam), 0, 1.0
        while True:
            p *= self.r.random()
            if p <= limit:
                return k
            k += 1

    def binomial(self, n: int, p: float) -> int:
        p = min(max(p, 0.0), 1.0)
        if n <= 0 or p <= 0:
            return 0
        if p >= 1:
            return n
        mean = n * p
        if mean < 30:
            return min(n, self.poisson(mean))
        sd = math.sqrt(n * p * (1 - p))
        return min(n, max(0, int(round(self.r.gauss(mean, sd)))))


def demand_curve(g: Gen, base: float, trend: float = 0.0, waves=((37, 0.05), (11, 0.03)), noise: float = 0.03, shape=None) -> list[float]:
    """Per-minute request rate: a level, a linear trend across the two hours, a few slow waves
    (traffic is never flat), multiplicative noise, and an optional shape(i) factor."""
    phases = [g.uniform(0, 2 * math.pi) for _ in waves]
    out = []
    for i in range(N):
        x = i / (N - 1)
        f = 1.0 + trend * (x - 0.5)
        for (period, amp), ph in zip(waves, phases):
            f += amp * math.sin(2 * math.pi * i / period + ph)
        if shape is not None:
            f *= shape(i)
        f *= 1.0 + g.gauss(0, noise)
        out.append(max(0.0, base * f))
    return out


# ----------------------------------------------------------------------------- datapoints


def rnd(x: float, digits: int = 6) -> float:
    if x == 0:
        return 0.0
    return float(f"{x:.{digits}g}")


def dp_count(g: Gen, i: int, total: int | None, nodes: int, ones: bool = False, zero_ok: bool = False) -> dict | None:
    """A count datapoint, or None when AWS would publish nothing (zero)."""
    if total is None or (total <= 0 and not zero_ok):
        return None
    total = int(total)
    if ones and total > 0:
        return {"Timestamp": ts(i), "SampleCount": float(total), "Sum": float(total), "Average": 1.0, "Minimum": 1.0, "Maximum": 1.0, "Unit": "Count"}
    if total == 0:
        return {"Timestamp": ts(i), "SampleCount": float(nodes), "Sum": 0.0, "Average": 0.0, "Minimum": 0.0, "Maximum": 0.0, "Unit": "Count"}
    weights = [g.uniform(0.75, 1.25) for _ in range(nodes)]
    s = sum(weights)
    parts = [int(total * w / s) for w in weights]
    parts[0] += total - sum(parts)
    parts = [p for p in parts if p > 0]
    return {"Timestamp": ts(i), "SampleCount": float(len(parts)), "Sum": float(total), "Average": rnd(total / len(parts)),
            "Minimum": float(min(parts)), "Maximum": float(max(parts)), "Unit": "Count"}


def dp_gauge(i: int, per_node: list[float], unit: str = "Count") -> dict:
    """A gauge reported once a minute by every load balancer node (HealthyHostCount)."""
    return {"Timestamp": ts(i), "SampleCount": float(len(per_node)), "Sum": float(sum(per_node)),
            "Average": rnd(sum(per_node) / len(per_node)), "Minimum": float(min(per_node)), "Maximum": float(max(per_node)), "Unit": unit}


def dp_latency(g: Gen, i: int, n: int, median: float, sigma: float, cap: float | None = None,
               max_override: float | None = None, p99_override: float | None = None, unit: str = "Seconds", scale: float = 1.0) -> dict | None:
    """Lognormal latency statistics for n responses (seconds, or ms with scale=1000)."""
    if n <= 0:
        return None
    mu = math.log(median)
    avg = math.exp(mu + sigma * sigma / 2)
    p99 = math.exp(mu + 2.326 * sigma)
    zmax = math.sqrt(2 * math.log(max(n, 2))) + g.gauss(0, 0.25)
    mx = math.exp(mu + zmax * sigma)
    mn = math.exp(mu - zmax * sigma * 0.8)
    if cap is not None:
        mx, p99 = min(mx, cap), min(p99, cap)
    if p99_override is not None:
        p99 = p99_override
        avg = max(avg, p99 * 0.06)
    if max_override is not None:
        mx = max_override
    mx = max(mx, p99)
    avg *= 1 + g.gauss(0, 0.03)
    dp = {"Timestamp": ts(i), "SampleCount": float(n), "Sum": rnd(avg * n * scale), "Average": rnd(avg * scale),
          "Minimum": rnd(mn * scale, 4), "Maximum": rnd(mx * scale), "Unit": unit,
          "ExtendedStatistics": {"p99": rnd(p99 * scale)}}
    return dp


def dp_rate(i: int, value: float) -> dict:
    v = rnd(value, 5)
    return {"Timestamp": ts(i), "SampleCount": 1.0, "Sum": v, "Average": v, "Minimum": v, "Maximum": v, "Unit": "Percent"}


def dp_requests(i: int, n: int) -> dict:
    return {"Timestamp": ts(i), "SampleCount": 1.0, "Sum": float(n), "Average": float(n), "Minimum": float(n), "Maximum": float(n), "Unit": "None"}


def series(ns: str, name: str, dims: list[tuple[str, str]], points: list, region: str | None = None) -> dict:
    s = {"Namespace": ns, "MetricName": name, "Dimensions": [{"Name": k, "Value": v} for k, v in dims], "Period": 60}
    if region is not None:
        s["Region"] = region
    s["Datapoints"] = [p for p in points if p is not None]
    return s


# ----------------------------------------------------------------------------- resources


class Alb:
    """One Application Load Balancer with its listeners and target groups."""

    def __init__(self, g: Gen, name: str, region: str = "us-east-1", scheme: str = "internet-facing",
                 azs: tuple[str, ...] = ("a", "b"), idle: int = 60, created: str = "2024-03-14T09:21:44.370Z",
                 attrs: dict | None = None):
        self.g, self.name, self.region, self.scheme = g, name, region, scheme
        self.id = g.hex(16)
        self.arn = f"arn:aws:elasticloadbalancing:{region}:{ACCOUNT}:loadbalancer/app/{name}/{self.id}"
        self.dim = f"app/{name}/{self.id}"
        prefix = "internal-" if scheme == "internal" else ""
        self.dns = f"{prefix}{name}-{g.dns_number()}.{region}.elb.amazonaws.com"
        self.vpc = "vpc-0" + g.hex(16)
        self.sgs = [g.sg()]
        self.azs = [f"{region}{z}" for z in azs]
        self.nodes = len(self.azs)
        self.created = created
        self.idle = idle
        self.extra_attrs = attrs or {}
        self.listeners: list[dict] = []
        self.rules: dict[str, list] = {}
        self.tgs: list[Tg] = []
        self.series: list[dict] = []
        self.metric_region = None if region == "us-east-1" else region

    def describe(self) -> dict:
        return {
            "LoadBalancerArn": self.arn, "DNSName": self.dns, "CanonicalHostedZoneId": ALB_ZONE[self.region],
            "CreatedTime": self.created, "LoadBalancerName": self.name, "Scheme": self.scheme, "VpcId": self.vpc,
            "State": {"Code": "active"}, "Type": "application",
            "AvailabilityZones": [{"ZoneName": az, "SubnetId": "subnet-0" + self.g.hex(16), "LoadBalancerAddresses": []} for az in self.azs],
            "SecurityGroups": self.sgs, "IpAddressType": "ipv4", "EnablePrefixForIpv6SourceNat": "off",
        }

    def attributes(self) -> dict:
        a = {
            "access_logs.s3.enabled": "true", "access_logs.s3.bucket": f"acme-{self.region}-alb-logs",
            "access_logs.s3.prefix": self.name, "connection_logs.s3.enabled": "false", "connection_logs.s3.bucket": "",
            "connection_logs.s3.prefix": "", "deletion_protection.enabled": "true",
            "idle_timeout.timeout_seconds": str(self.idle), "client_keep_alive.seconds": "3600",
            "routing.http.desync_mitigation_mode": "defensive", "routing.http.drop_invalid_header_fields.enabled": "true",
            "routing.http.preserve_host_header.enabled": "false", "routing.http.x_amz_tls_version_and_cipher_suite.enabled": "false",
            "routing.http.xff_client_port.enabled": "false", "routing.http.xff_header_processing.mode": "append",
            "routing.http2.enabled": "true", "waf.fail_open.enabled": "false", "zonal_shift.config.enabled": "false",
            "load_balancing.cross_zone.enabled": "true",
        }
        a.update(self.extra_attrs)
        return {"Attributes": [{"Key": k, "Value": v} for k, v in a.items()]}

    def listener(self, port: int, protocol: str, actions: list, certs: list[str] | None = None, policy: str | None = None) -> dict:
        l = {"ListenerArn": f"arn:aws:elasticloadbalancing:{self.region}:{ACCOUNT}:listener/app/{self.name}/{self.id}/{self.g.hex(16)}",
             "LoadBalancerArn": self.arn, "Port": port, "Protocol": protocol}
        if certs:
            l["Certificates"] = [{"CertificateArn": c} for c in certs]
            l["SslPolicy"] = policy
        for n, a in enumerate(actions, 1):
            a.setdefault("Order", n)
        l["DefaultActions"] = actions
        self.listeners.append(l)
        return l

    def https_redirect(self) -> dict:
        return self.listener(80, "HTTP", [{"Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "Host": "#{host}", "Path": "/#{path}", "Query": "#{query}", "StatusCode": "HTTP_301"}}])

    def dims(self) -> list[tuple[str, str]]:
        return [("LoadBalancer", self.dim)]


def forward(tg: "Tg") -> dict:
    return {"Type": "forward", "TargetGroupArn": tg.arn,
            "ForwardConfig": {"TargetGroups": [{"TargetGroupArn": tg.arn, "Weight": 1}], "TargetGroupStickinessConfig": {"Enabled": False}}}


class Tg:
    def __init__(self, alb: Alb, name: str, protocol: str | None = "HTTP", port: int | None = 8080, target_type: str = "instance",
                 hc_path: str = "/health", hc_interval: int = 30, hc_timeout: int = 5, healthy: int = 5, unhealthy: int = 2,
                 matcher: str = "200", dereg: int = 300, hc_enabled: bool = True, attrs: dict | None = None):
        g = alb.g
        self.alb, self.name = alb, name
        self.id = g.hex(16)
        self.arn = f"arn:aws:elasticloadbalancing:{alb.region}:{ACCOUNT}:targetgroup/{name}/{self.id}"
        self.dim = f"targetgroup/{name}/{self.id}"
        self.protocol, self.port, self.target_type = protocol, port, target_type
        self.hc = dict(path=hc_path, interval=hc_interval, timeout=hc_timeout, healthy=healthy, unhealthy=unhealthy, matcher=matcher, enabled=hc_enabled)
        self.dereg = dereg
        self.extra_attrs = attrs or {}
        self.targets: list[dict] = []
        alb.tgs.append(self)

    def describe(self) -> dict:
        d = {"TargetGroupArn": self.arn, "TargetGroupName": self.name}
        if self.target_type != "lambda":
            d.update({"Protocol": self.protocol, "Port": self.port, "VpcId": self.alb.vpc})
        d.update({
            "HealthCheckProtocol": "HTTP" if self.target_type != "lambda" else None,
            "HealthCheckPort": "traffic-port" if self.target_type != "lambda" else None,
            "HealthCheckEnabled": self.hc["enabled"], "HealthCheckIntervalSeconds": self.hc["interval"],
            "HealthCheckTimeoutSeconds": self.hc["timeout"], "HealthyThresholdCount": self.hc["healthy"],
            "UnhealthyThresholdCount": self.hc["unhealthy"], "HealthCheckPath": self.hc["path"],
            "Matcher": {"HttpCode": self.hc["matcher"]}, "LoadBalancerArns": [self.alb.arn], "TargetType": self.target_type,
        })
        if self.target_type != "lambda":
            d.update({"ProtocolVersion": "HTTP1", "IpAddressType": "ipv4"})
        return {k: v for k, v in d.items() if v is not None}

    def attributes(self) -> dict:
        if self.target_type == "lambda":
            a = {"lambda.multi_value_headers.enabled": "false"}
        else:
            a = {
                "deregistration_delay.timeout_seconds": str(self.dereg), "stickiness.enabled": "false",
                "stickiness.type": "lb_cookie", "stickiness.lb_cookie.duration_seconds": "86400",
                "stickiness.app_cookie.cookie_name": "", "stickiness.app_cookie.duration_seconds": "86400",
                "load_balancing.algorithm.type": "round_robin", "load_balancing.algorithm.anomaly_mitigation": "off",
                "slow_start.duration_seconds": "0", "load_balancing.cross_zone.enabled": "use_load_balancer_configuration",
                "target_group_health.dns_failover.minimum_healthy_targets.count": "1",
                "target_group_health.dns_failover.minimum_healthy_targets.percentage": "off",
                "target_group_health.unhealthy_state_routing.minimum_healthy_targets.count": "1",
                "target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage": "off",
            }
        a.update(self.extra_attrs)
        return {"Attributes": [{"Key": k, "Value": v} for k, v in a.items()]}

    def add(self, target_id: str, az: str | None, health: str, port: int | None = None, code: str | None = None):
        state, reason, desc = HEALTH[health]
        if code is not None:  # Target.ResponseCodeMismatch
            state, reason, desc = "unhealthy", "Target.ResponseCodeMismatch", f"Health checks failed with these codes: [{code}]"
        t = {"Target": {"Id": target_id}}
        if self.target_type == "lambda":
            t["Target"]["AvailabilityZone"] = "all"
        else:
            t["Target"]["Port"] = port or self.port
            t["Target"]["AvailabilityZone"] = az
            t["HealthCheckPort"] = str(port or self.port)
        th = {"State": state}
        if reason:
            th["Reason"] = reason
            th["Description"] = desc
        t["TargetHealth"] = th
        self.targets.append(t)

    def dims(self) -> list[tuple[str, str]]:
        return [("LoadBalancer", self.alb.dim), ("TargetGroup", self.dim)]


class AlbMetrics:
    """Per-minute values for one load balancer (and its one routed target group)."""

    COUNTS_ONES = {"HTTPCode_ELB_5XX_Count", "HTTPCode_ELB_4XX_Count", "HTTPCode_Target_2XX_Count", "HTTPCode_Target_5XX_Count"}

    def __init__(self, alb: Alb, tg: Tg):
        self.alb, self.tg = alb, tg
        z = lambda: [0] * N  # noqa: E731
        self.requests = z()           # requests for which a target was chosen
        self.elb = {500: z(), 502: z(), 503: z(), 504: z()}
        self.elb_4xx = z()
        self.t2xx, self.t3xx, self.t4xx, self.t5xx = z(), z(), z(), z()
        self.conn_err, self.tls_err, self.client_tls_err, self.rejected = z(), z(), z(), z()
        self.auth_err = z()
        self.lambda_user, self.lambda_internal = z(), z()
        self.trt: list[dict | None] = [None] * N
        self.healthy: list[list[float] | None] = [None] * N
        self.unhealthy: list[list[float] | None] = [None] * N
        self.lb_receives = [True] * N  # whether any request reached the load balancer that minute

    def set_health(self, i: int, healthy_per_node: list[float], unhealthy_per_node: list[float]):
        self.healthy[i] = healthy_per_node
        self.unhealthy[i] = unhealthy_per_node

    def emit(self) -> list[dict]:
        a, tg, g = self.alb, self.tg, self.alb.g
        ns, nodes, reg = "AWS/ApplicationELB", a.nodes, a.metric_region
        out = []

        def counts(name, values, dims, ones=False, zero_ok_when_receiving=False):
            pts = []
            for i, v in enumerate(values):
                zero_ok = zero_ok_when_receiving and self.lb_receives[i]
                pts.append(dp_count(g, i, v, nodes, ones=ones, zero_ok=zero_ok))
            out.append(series(ns, name, dims, pts, reg))

        elb5 = [sum(self.elb[c][i] for c in self.elb) for i in range(N)]
        lbd, tgd = a.dims(), tg.dims()
        counts("RequestCount", self.requests, lbd, zero_ok_when_receiving=True)
        counts("HTTPCode_ELB_5XX_Count", elb5, lbd, ones=True)
        for c in (500, 502, 503, 504):
            counts(f"HTTPCode_ELB_{c}_Count", self.elb[c], lbd)
        counts("HTTPCode_ELB_4XX_Count", self.elb_4xx, lbd, ones=True)
        counts("HTTPCode_Target_2XX_Count", self.t2xx, lbd, ones=True)
        counts("HTTPCode_Target_5XX_Count", self.t5xx, lbd, ones=True)
        counts("TargetConnectionErrorCount", self.conn_err, lbd)
        counts("TargetTLSNegotiationErrorCount", self.tls_err, lbd)
        counts("ClientTLSNegotiationErrorCount", self.client_tls_err, lbd)
        counts("RejectedConnectionCount", self.rejected, lbd)
        counts("ELBAuthError", self.auth_err, lbd)
        out.append(series(ns, "TargetResponseTime", lbd, self.trt, reg))
        # Per target group (one routed group: its values equal the load balancer's).
        counts("RequestCount", self.requests, tgd)
        counts("HTTPCode_Target_2XX_Count", self.t2xx, tgd, ones=True)
        counts("HTTPCode_Target_5XX_Count", self.t5xx, tgd, ones=True)
        counts("TargetConnectionErrorCount", self.conn_err, tgd)
        counts("TargetTLSNegotiationErrorCount", self.tls_err, tgd)
        out.append(series(ns, "TargetResponseTime", tgd, self.trt, reg))
        if tg.hc["enabled"]:
            out.append(series(ns, "HealthyHostCount", tgd, [dp_gauge(i, v) if v is not None else None for i, v in enumerate(self.healthy)], reg))
            out.append(series(ns, "UnHealthyHostCount", tgd, [dp_gauge(i, v) if v is not None else None for i, v in enumerate(self.unhealthy)], reg))
        if tg.target_type == "lambda":
            counts("LambdaUserError", self.lambda_user, tgd)
            counts("LambdaInternalError", self.lambda_internal, tgd)
        # Drop series that have no datapoint at all: CloudWatch answers them as empty.
        return [s for s in out if s["Datapoints"]]


def elb_world(albs: list[Alb], certs: dict | None = None) -> dict:
    """The ElasticLoadBalancingV2 section for these load balancers."""
    w = {
        "DescribeLoadBalancers": {"LoadBalancers": [a.describe() for a in albs]},
        "DescribeLoadBalancerAttributes": {a.arn: a.attributes() for a in albs},
        "DescribeListeners": {a.arn: {"Listeners": a.listeners} for a in albs},
        "DescribeTargetGroups": {"TargetGroups": [t.describe() for a in albs for t in a.tgs]},
        "DescribeTargetGroupAttributes": {t.arn: t.attributes() for a in albs for t in a.tgs},
        "DescribeTargetHealth": {t.arn: {"TargetHealthDescriptions": t.targets} for a in albs for t in a.tgs},
    }
    rules = {}
    for a in albs:
        for l in a.listeners:
            extra = a.rules.get(l["ListenerArn"], [])
            default = {"RuleArn": l["ListenerArn"].replace(":listener/", ":listener-rule/") + "/" + a.g.hex(16),
                       "Priority": "default", "Conditions": [], "Actions": l["DefaultActions"], "IsDefault": True}
            rules[l["ListenerArn"]] = {"Rules": extra + [default]}
    w["DescribeRules"] = rules
    return w


def acm_cert(g: Gen, region: str, domain: str, sans: list[str], not_before: str, not_after: str, in_use_by: list[str],
             method: str = "DNS", status: str = "ISSUED", renewal: dict | None = None, eligibility: str = "ELIGIBLE") -> tuple[str, dict]:
    arn = f"arn:aws:acm:{region}:{ACCOUNT}:certificate/{g.uuid()}"
    dvos = []
    for name in sans:
        d = {"DomainName": name, "ValidationDomain": name if method == "DNS" else domain.lstrip("*."), "ValidationStatus": "SUCCESS", "ValidationMethod": method}
        if method == "DNS":
            d["ResourceRecord"] = {"Name": f"_{g.hex(32)}.{name.lstrip('*.')}.", "Type": "CNAME", "Value": f"_{g.hex(32)}.{g.lower(10)}.acm-validations.aws."}
        else:
            base = domain.lstrip("*.")
            d["ValidationEmails"] = [f"admin@{base}", f"administrator@{base}", f"hostmaster@{base}", f"postmaster@{base}", f"webmaster@{base}"]
        dvos.append(d)
    c = {
        "CertificateArn": arn, "DomainName": domain, "SubjectAlternativeNames": sans, "DomainValidationOptions": dvos,
        "Serial": ":".join(g.hex(2) for _ in range(16)), "Subject": f"CN={domain}", "Issuer": "Amazon",
        "CreatedAt": not_before, "IssuedAt": not_before, "Status": status, "NotBefore": not_before, "NotAfter": not_after,
        "KeyAlgorithm": "RSA-2048", "SignatureAlgorithm": "SHA256WITHRSA", "InUseBy": in_use_by, "Type": "AMAZON_ISSUED",
        "KeyUsages": [{"Name": "DIGITAL_SIGNATURE"}, {"Name": "KEY_ENCIPHERMENT"}],
        "ExtendedKeyUsages": [{"Name": "TLS_WEB_SERVER_AUTHENTICATION", "OID": "1.3.6.1.5.5.7.3.1"}, {"Name": "TLS_WEB_CLIENT_AUTHENTICATION", "OID": "1.3.6.1.5.5.7.3.2"}],
        "RenewalEligibility": eligibility, "Options": {"CertificateTransparencyLoggingPreference": "ENABLED"},
    }
    if renewal is not None:
        c["RenewalSummary"] = renewal
    return arn, {"Certificate": c}


def world(region: str = "us-east-1", elb: dict | None = None, acm: dict | None = None, cloudfront: dict | None = None,
          route53: dict | None = None, metrics: list | None = None, faults: dict | None = None) -> dict:
    w = {"Format": "fivexx-world/1", "Now": iso(NOW), "Region": region, "Account": ACCOUNT,
         "ElasticLoadBalancingV2": elb or {"DescribeLoadBalancers": {"LoadBalancers": []}},
         "ACM": {"DescribeCertificate": acm or {}},
         "CloudFront": cloudfront or {"GetDistributionConfig": {}},
         "Route53": route53 or {"ListHostedZonesByName": {"HostedZones": []}, "ListResourceRecordSets": {}},
         "CloudWatch": {"Metrics": metrics or []}}
    if faults:
        w["Faults"] = faults
    return w


# ----------------------------------------------------------------------------- CloudFront


def distribution(g: Gen, comment: str, aliases: list[str], origins: list[dict], default_behavior: dict,
                 behaviors: list[dict] | None = None, viewer_cert: str | None = None) -> tuple[str, dict]:
    dist_id = "E" + g.upper(13)
    cfg = {
        "CallerReference": f"terraform-{g.hex(20)}",
        "Aliases": {"Quantity": len(aliases), "Items": aliases},
        "DefaultRootObject": "",
        "Origins": {"Quantity": len(origins), "Items": origins},
        "OriginGroups": {"Quantity": 0},
        "DefaultCacheBehavior": default_behavior,
        "CacheBehaviors": {"Quantity": len(behaviors or []), "Items": behaviors or []} if behaviors else {"Quantity": 0},
        "CustomErrorResponses": {"Quantity": 0},
        "Comment": comment,
        "Logging": {"Enabled": False, "IncludeCookies": False, "Bucket": "", "Prefix": ""},
        "PriceClass": "PriceClass_100",
        "Enabled": True,
        "ViewerCertificate": {"CloudFrontDefaultCertificate": False, "ACMCertificateArn": viewer_cert, "SSLSupportMethod": "sni-only",
                              "MinimumProtocolVersion": "TLSv1.2_2021", "Certificate": viewer_cert, "CertificateSource": "acm"},
        "Restrictions": {"GeoRestriction": {"RestrictionType": "none", "Quantity": 0}},
        "WebACLId": "",
        "HttpVersion": "http2and3",
        "IsIPV6Enabled": True,
        "ContinuousDeploymentPolicyId": "",
        "Staging": False,
    }
    return dist_id, {"ETag": "E" + g.upper(13), "DistributionConfig": cfg}


def custom_origin(origin_id: str, domain: str, policy: str, protocols=("TLSv1.2",), read_timeout: int = 30,
                  keepalive: int = 5, http_port: int = 80, https_port: int = 443) -> dict:
    return {
        "Id": origin_id, "DomainName": domain, "OriginPath": "", "CustomHeaders": {"Quantity": 0},
        "CustomOriginConfig": {"HTTPPort": http_port, "HTTPSPort": https_port, "OriginProtocolPolicy": policy,
                               "OriginSslProtocols": {"Quantity": len(protocols), "Items": list(protocols)},
                               "OriginReadTimeout": read_timeout, "OriginKeepaliveTimeout": keepalive},
        "ConnectionAttempts": 3, "ConnectionTimeout": 10, "OriginShield": {"Enabled": False}, "OriginAccessControlId": "",
    }


def behavior(origin_id: str, cache_policy: str, orp: str | None, path: str | None = None) -> dict:
    b = {}
    if path:
        b["PathPattern"] = path
    b.update({
        "TargetOriginId": origin_id,
        "TrustedSigners": {"Enabled": False, "Quantity": 0}, "TrustedKeyGroups": {"Enabled": False, "Quantity": 0},
        "ViewerProtocolPolicy": "redirect-to-https",
        "AllowedMethods": {"Quantity": 7, "Items": ["HEAD", "DELETE", "POST", "GET", "OPTIONS", "PUT", "PATCH"],
                           "CachedMethods": {"Quantity": 2, "Items": ["HEAD", "GET"]}},
        "SmoothStreaming": False, "Compress": True,
        "LambdaFunctionAssociations": {"Quantity": 0}, "FunctionAssociations": {"Quantity": 0},
        "FieldLevelEncryptionId": "", "CachePolicyId": cache_policy,
    })
    if orp:
        b["OriginRequestPolicyId"] = orp
    return b


ORP_CONFIGS = {
    ORP_ALL_VIEWER: {"Comment": "Policy to forward all parameters in viewer requests", "Name": "Managed-AllViewer",
                     "HeadersConfig": {"HeaderBehavior": "allViewer"}, "CookiesConfig": {"CookieBehavior": "all"},
                     "QueryStringsConfig": {"QueryStringBehavior": "all"}},
    ORP_ALL_VIEWER_EXCEPT_HOST: {"Comment": "Policy to forward all parameters in viewer requests except for the Host header",
                                 "Name": "Managed-AllViewerExceptHostHeader",
                                 "HeadersConfig": {"HeaderBehavior": "allExcept", "Headers": {"Quantity": 1, "Items": ["host"]}},
                                 "CookiesConfig": {"CookieBehavior": "all"}, "QueryStringsConfig": {"QueryStringBehavior": "all"}},
}


def orp_world(ids: list[str]) -> dict:
    return {i: {"ETag": "E23ZP02F085DFQ", "OriginRequestPolicy": {"Id": i, "LastModifiedTime": "2022-08-09T21:42:00.466Z",
                                                                  "OriginRequestPolicyConfig": ORP_CONFIGS[i]}} for i in ids}


class CfMetrics:
    """Per-minute CloudFront values for one distribution."""

    def __init__(self, g: Gen, dist_id: str):
        self.g, self.id = g, dist_id
        self.requests = [0] * N
        self.hit_rate = [0.0] * N       # percent
        self.e4xx = [0.0] * N           # percent of requests
        self.e500 = [0.0] * N           # 5xx other than 502/503/504 (e.g. origin 500s passed on)
        self.e502 = [0.0] * N
        self.e503 = [0.0] * N
        self.e504 = [0.0] * N
        self.origin_latency: list[dict | None] = [None] * N

    def emit(self) -> list[dict]:
        ns, dims = "AWS/CloudFront", [("Region", "Global"), ("DistributionId", self.id)]
        out = [series(ns, "Requests", dims, [dp_requests(i, n) for i, n in enumerate(self.requests)])]
        five = [self.e500[i] + self.e502[i] + self.e503[i] + self.e504[i] for i in range(N)]
        for name, vals in (("5xxErrorRate", five), ("4xxErrorRate", self.e4xx),
                           ("TotalErrorRate", [five[i] + self.e4xx[i] for i in range(N)]),
                           ("502ErrorRate", self.e502), ("503ErrorRate", self.e503), ("504ErrorRate", self.e504),
                           ("CacheHitRate", self.hit_rate)):
            out.append(series(ns, name, dims, [dp_rate(i, v) for i, v in enumerate(vals)]))
        out.append(series(ns, "OriginLatency", dims, self.origin_latency))
        return [s for s in out if s["Datapoints"]]


def hosted_zone(g: Gen, name: str, count: int, private: bool = False) -> dict:
    z = {"Id": "/hostedzone/Z0" + g.upper(19), "Name": name, "CallerReference": g.uuid(),
         "Config": {"Comment": "managed by terraform", "PrivateZone": private}, "ResourceRecordSetCount": count}
    return z


def zone_records(zone: dict, records: list[dict]) -> list[dict]:
    name = zone["Name"]
    base = [
        {"Name": name, "Type": "NS", "TTL": 172800, "ResourceRecords": [{"Value": "ns-1321.awsdns-37.org."}, {"Value": "ns-640.awsdns-16.net."}, {"Value": "ns-1922.awsdns-48.co.uk."}, {"Value": "ns-313.awsdns-39.com."}]},
        {"Name": name, "Type": "SOA", "TTL": 900, "ResourceRecords": [{"Value": "ns-1321.awsdns-37.org. awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400"}]},
    ]
    return base + records


def alias(name: str, dns: str, zone_id: str, kind: str = "A") -> dict:
    return {"Name": name, "Type": kind, "AliasTarget": {"HostedZoneId": zone_id, "DNSName": dns, "EvaluateTargetHealth": True}}


# ----------------------------------------------------------------------------- alarm events


def breach_reason(values: list[tuple[int, float]], threshold: float, op: str, dta: int, evals: int) -> str:
    """CloudWatch's NewStateReason for an OK -> ALARM transition (newest datapoint first)."""
    words = {"GreaterThanThreshold": "greater than", "LessThanThreshold": "less than",
             "GreaterThanOrEqualToThreshold": "greater than or equal to", "LessThanOrEqualToThreshold": "less than or equal to"}[op]
    pts = ", ".join(f"{v!r} ({(START + dt.timedelta(minutes=i)).strftime('%d/%m/%y %H:%M:%S')})" for i, v in values)
    if evals == 1:
        return f"Threshold Crossed: 1 datapoint [{pts}] was {words} the threshold ({threshold!r})."
    return (f"Threshold Crossed: {dta} out of the last {evals} datapoints [{pts}] were {words} the threshold ({threshold!r}) "
            f"(minimum {dta} datapoint{'s' if dta > 1 else ''} for OK -> ALARM transition).")


class Alarm:
    def __init__(self, name: str, description: str, namespace: str, metric: str, dims: list[tuple[str, str]], stat: str,
                 threshold: float, op: str, values: list[tuple[int, float]], period: int = 60, evals: int = 3, dta: int = 3,
                 region: str = "us-east-1", treat_missing: str = "notBreaching", previous: str = "2026-11-21T23:14:09.811+0000",
                 sample_counts: list[float] | None = None, points: list | None = None):
        self.__dict__.update(locals())
        self.arn = f"arn:aws:cloudwatch:{region}:{ACCOUNT}:alarm:{name}"
        self.reason = breach_reason(values, threshold, op, dta, evals)
        if points is not None:
            check_alarm(self, points, stat)

    def reason_data(self) -> str:
        start = START + dt.timedelta(minutes=min(i for i, _ in self.values))
        pts = []
        for n, (i, v) in enumerate(self.values):
            p = {"timestamp": iso(START + dt.timedelta(minutes=i), millis=True)}
            if self.sample_counts:
                p["sampleCount"] = self.sample_counts[n]
            p["value"] = v
            pts.append(p)
        return json.dumps({"version": "1.0", "queryDate": iso(CHANGED - dt.timedelta(milliseconds=7), millis=True),
                           "startDate": iso(start, millis=True), "statistic": self.stat, "period": self.period,
                           "recentDatapoints": [v for _, v in reversed(self.values)], "threshold": self.threshold,
                           "evaluatedDatapoints": pts}, separators=(",", ":"))

    def modern_body(self) -> dict:
        return {
            "alarmName": self.name,
            "state": {"value": "ALARM", "reason": self.reason, "reasonData": self.reason_data(), "timestamp": iso(CHANGED, millis=True)},
            "previousState": {"value": "OK", "reason": "Threshold Crossed: no datapoints were received for 3 periods and 3 missing datapoints were treated as [NonBreaching].",
                              "reasonData": json.dumps({"version": "1.0", "queryDate": self.previous, "statistic": self.stat, "period": self.period,
                                                        "recentDatapoints": [], "threshold": self.threshold}, separators=(",", ":")),
                              "timestamp": self.previous},
            "configuration": {
                "description": self.description,
                "metrics": [{"id": "m1", "metricStat": {"metric": {"namespace": self.namespace, "name": self.metric,
                                                                    "dimensions": dict(self.dims)},
                                                         "period": self.period, "stat": self.stat}, "returnData": True}],
            },
        }

    def direct(self, g: Gen) -> dict:
        return {"source": "aws.cloudwatch", "alarmArn": self.arn, "accountId": ACCOUNT, "time": iso(CHANGED, millis=True),
                "region": self.region, "alarmData": self.modern_body()}

    def eventbridge(self, g: Gen) -> dict:
        return {"version": "0", "id": g.uuid(), "detail-type": "CloudWatch Alarm State Change", "source": "aws.cloudwatch",
                "account": ACCOUNT, "time": iso(CHANGED), "region": self.region, "resources": [self.arn], "detail": self.modern_body()}

    def sns(self, g: Gen) -> dict:
        topic = f"arn:aws:sns:{self.region}:{ACCOUNT}:ops-alarms"
        msg = {
            "AlarmName": self.name, "AlarmDescription": self.description, "AWSAccountId": ACCOUNT,
            "AlarmConfigurationUpdatedTimestamp": "2026-09-30T14:02:51.227+0000", "NewStateValue": "ALARM",
            "NewStateReason": self.reason, "StateChangeTime": iso(CHANGED, millis=True), "Region": REGION_NAME[self.region],
            "AlarmArn": self.arn, "OldStateValue": "OK", "OKActions": [topic], "AlarmActions": [topic], "InsufficientDataActions": [],
            "Trigger": {"MetricName": self.metric, "Namespace": self.namespace, "StatisticType": "Statistic",
                        "Statistic": self.stat.upper(), "Unit": None,
                        "Dimensions": [{"value": v, "name": k} for k, v in self.dims], "Period": self.period,
                        "EvaluationPeriods": self.evals, "DatapointsToAlarm": self.dta, "ComparisonOperator": self.op,
                        "Threshold": self.threshold, "TreatMissingData": self.treat_missing, "EvaluateLowSampleCountPercentile": ""},
        }
        return {"Records": [{
            "EventSource": "aws:sns", "EventVersion": "1.0",
            "EventSubscriptionArn": f"{topic}:{g.uuid()}",
            "Sns": {"Type": "Notification", "MessageId": g.uuid(), "TopicArn": topic,
                    "Subject": f"ALARM: \"{self.name}\" in {REGION_NAME[self.region]}"[:100],
                    "Message": json.dumps(msg), "Timestamp": iso(CHANGED, millis=False).replace("Z", ".512Z"),
                    "SignatureVersion": "1", "Signature": "EXAMPLEpH+..", "SigningCertUrl": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-9c6465fa7f48f5cacd23014631ec1136.pem",
                    "UnsubscribeUrl": f"https://sns.{self.region}.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={topic}:{g.uuid()}",
                    "MessageAttributes": {}},
        }]}


def alarm_values(points: list[dict | None], stat: str, minutes=("12:33", "12:34", "12:35")) -> list[tuple[int, float]]:
    """The evaluated datapoints, newest first, as CloudWatch writes them in the reason."""
    out = []
    for m in reversed(minutes):
        i = idx(m)
        p = points[i]
        v = 0.0 if p is None else (p["ExtendedStatistics"][stat] if stat.startswith("p") else p[stat])
        out.append((i, float(rnd(v, 6))))
    return out


def check_alarm(al: "Alarm", points: list[dict | None], stat: str):
    """Refuses a world whose alarm would not have changed state exactly at 12:36:15: its
    evaluated datapoints (12:33-12:35) must breach, and no earlier run of them may have."""
    if al.period != 60:
        return
    def breaches(i):
        p = points[i]
        if p is None:
            return al.treat_missing == "breaching"
        v = p["ExtendedStatistics"][stat] if stat.startswith("p") else p[stat]
        return v > al.threshold if al.op.startswith("Greater") else v < al.threshold
    first = next((i for i in range(al.dta - 1, N) if all(breaches(k) for k in range(i - al.dta + 1, i + 1))), None)
    if first != idx("12:35"):
        when = "never" if first is None else ts(first)
        raise SystemExit(f"{al.name}: the alarm's first {al.dta}-of-{al.evals} breach ends at {when}, not 12:35")


def find_series(metrics: list[dict], name: str, dims: list[tuple[str, str]]) -> list[dict | None]:
    want = sorted(dims)
    for s in metrics:
        if s["MetricName"] == name and sorted((d["Name"], d["Value"]) for d in s["Dimensions"]) == want:
            by = {p["Timestamp"]: p for p in s["Datapoints"]}
            return [by.get(ts(i)) for i in range(N)]
    return [None] * N


# ----------------------------------------------------------------------------- output


def dumps(o, ind: int = 0) -> str:
    """JSON with one datapoint per line (worlds stay readable and small)."""
    pad, pad1 = " " * ind, " " * (ind + 1)
    if isinstance(o, dict):
        if "Timestamp" in o or not o:
            return json.dumps(o)
        items = [f"{pad1}{json.dumps(k)}: {dumps(v, ind + 1)}" for k, v in o.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(o, list):
        if not o:
            return "[]"
        if all(not isinstance(x, (dict, list)) for x in o):
            return json.dumps(o)
        items = [f"{pad1}{dumps(v, ind + 1)}" for v in o]
        return "[\n" + ",\n".join(items) + "\n" + pad + "]"
    return json.dumps(o)


def write(name: str, event: dict, wld: dict, expect: dict):
    d = os.path.join(ROOT, name)
    os.makedirs(d, exist_ok=True)
    for fname, obj in (("event.json", event), ("world.json", wld), ("expect.json", expect)):
        with open(os.path.join(d, fname), "w") as f:
            f.write((json.dumps(obj, indent=2) if fname != "world.json" else dumps(wld)) + "\n")
    size = os.path.getsize(os.path.join(d, "world.json"))
    print(f"{name}: world.json {size // 1024} KB")


# ----------------------------------------------------------------------------- shared traffic


def normal_minute(g: Gen, m: AlbMetrics, i: int, req: float, t5_rate: float = 0.0004, t4_rate: float = 0.012,
                  t3_rate: float = 0.02, elb4_rate: float = 0.0008, median: float = 0.045, sigma: float = 0.9, cap=None):
    """A healthy minute: targets answer everything (with the usual sprinkle of 4xx and 5xx)."""
    n = g.poisson(req)
    t5 = g.binomial(n, t5_rate)
    t4 = g.binomial(n, t4_rate)
    t3 = g.binomial(n, t3_rate)
    m.requests[i] = n
    m.t5xx[i], m.t4xx[i], m.t3xx[i] = t5, t4, t3
    m.t2xx[i] = n - t5 - t4 - t3
    m.elb_4xx[i] = g.binomial(n, elb4_rate)
    m.trt[i] = dp_latency(g, i, n, median * (1 + g.gauss(0, 0.04)), sigma, cap=cap)
    return n


# =============================================================================== scenarios


def alb_503_targets_in_disabled_az():
    """alb.no_routable_targets (503).

    web-prod (ALB in us-east-1a/1b) forwards to web-prod-tg, the target group of an Auto
    Scaling group. At 12:05 someone moved the ASG to new private subnets in us-east-1c/1d
    and started an instance refresh (MinHealthyPercentage 50, health check type EC2, so it
    never waits for the load balancer). New instances register in AZs the ALB does not have
    enabled: `unused` / Target.NotInUse ("Target is in an Availability Zone that is not
    enabled for the load balancer"). The refresh terminated the old instances two at a time:
    at 12:19:40 the first pair was deregistered (HealthyHostCount 4 -> 2) and at 12:33:20
    the last pair (HealthyHostCount 0). Deregistration delay is 300 s, so at 12:37 the last
    pair is still `draining`. From 12:33:20 the ALB has no target it may route to and
    answers every request with 503; RequestCount (requests for which a target was chosen)
    drops to 0 while the 503s replace it, so demand stays steady.
    Near misses: targets exist (not alb.no_registered_targets); none is `unhealthy` (the ALB
    does not fail open, not alb.all_targets_unhealthy); draining targets but no 502
    (not alb.deregistration_inflight).
    Alarm: HealthyHostCount Minimum < 1 on the target group, 3 of 3, EventBridge.
    """
    name = "alb-503-targets-in-disabled-az"
    g = Gen(name)
    alb = Alb(g, "web-prod", azs=("a", "b"), created="2023-06-02T08:14:51.020Z")
    tg = Tg(alb, "web-prod-tg", port=8080, hc_path="/healthz", hc_interval=15, healthy=3, unhealthy=2, dereg=300)
    cert_arn, cert = acm_cert(g, "us-east-1", "www.acme-shop.com", ["www.acme-shop.com", "acme-shop.com"],
                              "2026-06-03T00:00:00Z", "2027-07-02T23:59:59Z", [alb.arn])
    alb.listener(443, "HTTPS", [forward(tg)], [cert_arn], "ELBSecurityPolicy-TLS13-1-2-2021-06")
    alb.https_redirect()
    for az in ("us-east-1c", "us-east-1d", "us-east-1c", "us-east-1d"):
        tg.add(g.instance(), az, "notinuse-az")
    for az in ("us-east-1a", "us-east-1b"):
        tg.add(g.instance(), az, "draining")

    m = AlbMetrics(alb, tg)
    demand = demand_curve(g, 2600, trend=0.12)
    cut1, cut2 = "12:19:40", "12:33:20"

    def healthy_at(t: float) -> int:  # 4 old instances, 2 after the first pair, 0 after the last
        return 4 if t < secs(cut1) else (2 if t < secs(cut2) else 0)

    for i in range(N):
        routable = 1.0 - share_of_minute(i, cut2)
        n = normal_minute(g, m, i, demand[i] * routable) if routable > 0 else 0
        if routable <= 0:
            m.requests[i], m.t2xx[i], m.t3xx[i], m.t4xx[i], m.t5xx[i], m.trt[i] = 0, 0, 0, 0, 0, None
            m.elb_4xx[i] = g.binomial(int(demand[i]), 0.0008)
        m.elb[503][i] = g.poisson(demand[i] * (1.0 - routable))
        lo, hi = healthy_at(i * 60), healthy_at(i * 60 + 59)
        m.set_health(i, [hi if k % 2 else lo for k in range(alb.nodes)], [0] * alb.nodes)
    metrics = m.emit()
    hh = find_series(metrics, "HealthyHostCount", tg.dims())
    al = Alarm("web-prod-tg-no-healthy-hosts", "No healthy target behind web-prod (pages on-call)", "AWS/ApplicationELB",
               "HealthyHostCount", tg.dims(), "Minimum", 1.0, "LessThanThreshold", alarm_values(hh, "Minimum"),
               treat_missing="breaching", sample_counts=[2.0, 2.0, 2.0], points=hh)
    w = world(elb=elb_world([alb]), acm={cert_arn: cert}, metrics=metrics)
    expect = {"status": ["diagnosed"], "top": "alb.no_routable_targets",
              "not_top": ["alb.no_registered_targets", "alb.all_targets_unhealthy", "alb.deregistration_inflight"]}
    write(name, al.eventbridge(g), w, expect)


def alb_502_targets_refuse_connections():
    """alb.target_connection_refused (502).

    orders-api runs on 6 instances. At 12:32:50 a configuration push raised the JVM heap of
    the service above what the three t3.large instances of the mixed fleet can hold: the
    process is OOM-killed every minute or so and systemd restarts it (about 15 s with the
    port closed). While the port is closed the ALB's connections are refused (RST):
    TargetConnectionErrorCount and ELB 502 (plus 502 for the requests in flight when the
    process dies). Health checks every 10 s, unhealthy threshold 2, healthy threshold 2: the
    three targets flap between healthy and unhealthy with Target.FailedHealthChecks ("Health
    checks failed"); at 12:37 two of them are unhealthy, one just came back.
    Near misses: 502 at a low ratio like keep-alive, but with connection errors
    (not alb.keepalive_shorter_than_idle); no 504, so no filtered network
    (not alb.target_unreachable); traffic is at its usual level (not alb.target_overloaded).
    Alarm: HTTPCode_ELB_5XX_Count Sum > 100, 3 of 3, direct alarm action.
    """
    name = "alb-502-targets-refuse-connections"
    g = Gen(name)
    alb = Alb(g, "orders-api", azs=("a", "b", "c"), created="2022-11-08T15:40:02.118Z")
    tg = Tg(alb, "orders-api-tg", port=8080, hc_path="/actuator/health", hc_interval=10, healthy=2, unhealthy=2, dereg=120)
    cert_arn, cert = acm_cert(g, "us-east-1", "api.acme-orders.com", ["api.acme-orders.com"],
                              "2026-03-10T00:00:00Z", "2027-04-08T23:59:59Z", [alb.arn])
    alb.listener(443, "HTTPS", [forward(tg)], [cert_arn], "ELBSecurityPolicy-TLS13-1-2-2021-06")
    azs = ["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1a", "us-east-1b", "us-east-1c"]
    states = ["healthy", "healthy", "healthy", "failed", "failed", "healthy"]
    for az, st in zip(azs, states):
        tg.add(g.instance(), az, st)

    m = AlbMetrics(alb, tg)
    demand = demand_curve(g, 3200, trend=-0.05, waves=((41, 0.06), (13, 0.03)))
    onset = "12:32:50"
    for i in range(N):
        bad = share_of_minute(i, onset)
        if bad <= 0:
            normal_minute(g, m, i, demand[i], median=0.06)
            m.set_health(i, [6] * alb.nodes, [0] * alb.nodes)
            continue
        n = g.poisson(demand[i])
        # Share of requests routed to a crashed-but-not-yet-unhealthy target, this minute.
        refused_share = bad * g.uniform(0.035, 0.075)
        refused = g.binomial(n, refused_share)
        cut = g.binomial(n, bad * g.uniform(0.004, 0.009))  # in flight when the process died
        m.conn_err[i] = refused + g.poisson(refused * 0.08)  # a few retried connects counted twice
        m.elb[502][i] = refused + cut
        ok = n - refused - cut
        t5, t4, t3 = g.binomial(ok, 0.0004), g.binomial(ok, 0.012), g.binomial(ok, 0.02)
        m.requests[i], m.t5xx[i], m.t4xx[i], m.t3xx[i], m.t2xx[i] = n, t5, t4, t3, ok - t5 - t4 - t3
        m.elb_4xx[i] = g.binomial(n, 0.0008)
        m.trt[i] = dp_latency(g, i, ok, 0.06 * (1 + g.gauss(0, 0.05)), 0.9)
        unhealthy = [g.r.choice([1, 2, 2, 3]) for _ in range(alb.nodes)] if bad > 0.5 else [g.r.choice([0, 1]) for _ in range(alb.nodes)]
        m.set_health(i, [6 - u for u in unhealthy], unhealthy)
    metrics = m.emit()
    pts = find_series(metrics, "HTTPCode_ELB_5XX_Count", alb.dims())
    vals = alarm_values(pts, "Sum")
    al = Alarm("orders-api-alb-5xx", "orders-api: load balancer 5xx above 100/min", "AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count",
               alb.dims(), "Sum", 100.0, "GreaterThanThreshold", vals, sample_counts=[v for _, v in vals], points=pts)
    w = world(elb=elb_world([alb]), acm={cert_arn: cert}, metrics=metrics)
    expect = {"status": ["diagnosed"], "top": "alb.target_connection_refused",
              "not_top": ["alb.keepalive_shorter_than_idle", "alb.target_unreachable", "alb.target_overloaded", "alb.malformed_target_response"]}
    write(name, al.direct(g), w, expect)


def alb_5xx_targets_overloaded_at_peak():
    """alb.target_overloaded (502 and 504 rising with load).

    checkout runs on 4 c6i.large instances (gunicorn, 8 sync workers each, --timeout 30);
    the Auto Scaling group is at its maximum. A promotion email at 11:50 drives traffic from
    about 2,600 to 7,200 requests a minute over 45 minutes, in waves. Above about 4,800 a
    minute the workers saturate: p99 TargetResponseTime climbs from 0.5 s to about 6 s, the accept backlog
    fills (SYNs dropped: connections not established within 10 s, TargetConnectionErrorCount
    and ELB 504), and gunicorn kills workers stuck for 30 s (connection closed without a
    response: ELB 502). The error ratio follows the load, peak by peak; TargetResponseTime
    Maximum stays just under 30 s, far from the 60 s idle timeout. One target fails its
    health check with Target.Timeout at 12:37, three are healthy.
    Near misses: ELB 504 with connection errors (alb.target_unreachable's signature, but
    following load and with healthy targets); 504 without the idle timeout being reached
    (not alb.target_response_timeout).
    Alarm: HTTPCode_ELB_5XX_Count Sum > 125, 3 of 3, SNS.
    """
    name = "alb-5xx-targets-overloaded-at-peak"
    g = Gen(name)
    alb = Alb(g, "checkout", azs=("a", "b", "c"), created="2023-01-19T11:02:37.554Z")
    tg = Tg(alb, "checkout-tg", port=8000, hc_path="/health", hc_interval=15, hc_timeout=5, healthy=3, unhealthy=3, dereg=60)
    cert_arn, cert = acm_cert(g, "us-east-1", "checkout.acme-shop.com", ["checkout.acme-shop.com"],
                              "2026-05-20T00:00:00Z", "2027-06-18T23:59:59Z", [alb.arn])
    alb.listener(443, "HTTPS", [forward(tg)], [cert_arn], "ELBSecurityPolicy-TLS13-1-2-2021-06")
    alb.https_redirect()
    for az, st in zip(["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1a"], ["healthy", "timeout", "healthy", "healthy"]):
        tg.add(g.instance(), az, st)

    def campaign(i):  # opens build up over 45 minutes, in waves as mail providers deliver
        t = i - idx("11:50")
        if t < 0:
            return 1.0
        ramp = min(1.0, t / 45.0) ** 1.6
        return 1.0 + 1.7 * ramp * (0.84 + 0.16 * math.sin(2 * math.pi * t / 9.0 + 1.1))

    demand = demand_curve(g, 2600, trend=0.05, waves=((29, 0.03),), noise=0.025, shape=campaign)
    capacity = 4800.0
    m = AlbMetrics(alb, tg)
    for i in range(N):
        d = demand[i]
        over = max(0.0, d / capacity - 1.0)
        n = g.poisson(d)
        p504 = min(0.25, 0.09 * over ** 1.4)
        p502 = min(0.2, 0.07 * over ** 1.3)
        e504 = g.binomial(n, p504)
        e502 = g.binomial(n - e504, p502)
        ok = n - e504 - e502
        m.elb[504][i], m.elb[502][i] = e504, e502
        m.conn_err[i] = e504 + g.poisson(e504 * 0.3) if e504 else 0
        t5 = g.binomial(ok, 0.0004 + 0.004 * over)
        t4, t3 = g.binomial(ok, 0.01), g.binomial(ok, 0.015)
        m.requests[i], m.t5xx[i], m.t4xx[i], m.t3xx[i], m.t2xx[i] = n, t5, t4, t3, ok - t5 - t4 - t3
        m.elb_4xx[i] = g.binomial(n, 0.0007)
        # Queueing: p99 grows steeply past saturation; Maximum is bounded by gunicorn's 30 s
        # worker timeout (slower requests are killed and become ELB 502s, with no TRT).
        p99 = 0.42 * (1 + 3.0 * over) * math.exp(3.5 * over) * (1 + g.gauss(0, 0.05))
        mx = min(29.9, max(p99 * 2.5, 1.6 + 40 * over)) * (1 - abs(g.gauss(0, 0.01)))
        m.trt[i] = dp_latency(g, i, ok, 0.07 * (1 + 1.5 * over) * (1 + g.gauss(0, 0.04)), 0.85,
                              p99_override=p99 if over > 0 else None, max_override=mx if over > 0.05 else None, cap=29.9)
        # Health checks time out on the busiest target once the fleet saturates.
        unhealthy = [0 if over < 0.12 else g.r.choice([1, 1, 1, 2]) for _ in range(alb.nodes)]
        m.set_health(i, [4 - u for u in unhealthy], unhealthy)
    metrics = m.emit()
    pts = find_series(metrics, "HTTPCode_ELB_5XX_Count", alb.dims())
    vals = alarm_values(pts, "Sum")
    al = Alarm("checkout-alb-5xx", "checkout: ELB 5xx > 125/min", "AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", alb.dims(),
               "Sum", 125.0, "GreaterThanThreshold", vals, points=pts)
    w = world(elb=elb_world([alb]), acm={cert_arn: cert}, metrics=metrics)
    expect = {"status": ["diagnosed"], "top": "alb.target_overloaded",
              "not_top": ["alb.target_response_timeout", "alb.target_unreachable", "alb.all_targets_unhealthy"]}
    write(name, al.sns(g), w, expect)


def alb_502_malformed_response_after_deploy():
    """alb.malformed_target_response (502, high ratio, step after a deploy).

    catalog runs as an ECS Fargate service (4 tasks, ip targets on 8080). Release v413,
    rolled out at 12:31-12:33 (new tasks healthy 12:33:05, old ones deregistered with a
    30 s delay), adds a `Link: <...>; rel=preload` entry per product image to product and
    category pages: their response headers exceed the ALB's 32 KB limit and the ALB answers
    502 to about 38% of requests, from the first minute after the switch, at any load. The
    health check (/ping) answers small headers, so every target stays healthy; no
    connection or TLS error is counted (the ALB connects and reads a response it rejects).
    Near misses: 502 with healthy targets and no connection errors is also the
    keep-alive signature, but at 38% of requests and with a step onset it is not a race
    (not alb.keepalive_shorter_than_idle); the deploy's old tasks are gone by 12:37
    (not alb.deregistration_inflight).
    Alarm: HTTPCode_ELB_5XX_Count Sum > 200, 3 of 3, EventBridge.
    """
    name = "alb-502-malformed-response-after-deploy"
    g = Gen(name)
    alb = Alb(g, "catalog", azs=("a", "b"), created="2024-02-27T13:55:10.902Z")
    tg = Tg(alb, "catalog-ecs-tg", port=8080, target_type="ip", hc_path="/ping", hc_interval=15, healthy=2, unhealthy=3, dereg=30)
    cert_arn, cert = acm_cert(g, "us-east-1", "*.acme-shop.com", ["*.acme-shop.com", "acme-shop.com"],
                              "2026-08-11T00:00:00Z", "2027-09-09T23:59:59Z", [alb.arn])
    alb.listener(443, "HTTPS", [forward(tg)], [cert_arn], "ELBSecurityPolicy-TLS13-1-2-2021-06")
    alb.https_redirect()
    for ip, az in (("10.40.11.87", "us-east-1a"), ("10.40.27.201", "us-east-1b"), ("10.40.14.19", "us-east-1a"), ("10.40.22.143", "us-east-1b")):
        tg.add(ip, az, "healthy")

    m = AlbMetrics(alb, tg)
    demand = demand_curve(g, 3000, trend=0.04, waves=((43, 0.05), (12, 0.03)))
    switch = "12:33:05"
    for i in range(N):
        frac = share_of_minute(i, switch)
        n = g.poisson(demand[i])
        bad = g.binomial(n, 0.38 * frac * (1 + g.gauss(0, 0.04)))
        ok = n - bad
        t5, t4, t3 = g.binomial(ok, 0.0003), g.binomial(ok, 0.011), g.binomial(ok, 0.018)
        m.requests[i], m.elb[502][i], m.t5xx[i], m.t4xx[i], m.t3xx[i], m.t2xx[i] = n, bad, t5, t4, t3, ok - t5 - t4 - t3
        m.elb_4xx[i] = g.binomial(n, 0.0008)
        m.trt[i] = dp_latency(g, i, ok, 0.038 * (1 + g.gauss(0, 0.04)), 0.8)
        # During the rollout (12:31-12:33) 8 tasks are registered; 4 before and after.
        h = 8 if idx("12:31") <= i <= idx("12:32") else (6 if i == idx("12:33") else 4)
        m.set_health(i, [h] * alb.nodes, [0] * alb.nodes)
    metrics = m.emit()
    pts = find_series(metrics, "HTTPCode_ELB_5XX_Count", alb.dims())
    vals = alarm_values(pts, "Sum")
    al = Alarm("catalog-alb-5xx", "catalog ELB 5xx", "AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", alb.dims(), "Sum", 200.0,
               "GreaterThanThreshold", vals, sample_counts=[v for _, v in vals], points=pts)
    w = world(elb=elb_world([alb]), acm={cert_arn: cert}, metrics=metrics)
    expect = {"status": ["diagnosed"], "top": "alb.malformed_target_response",
              "not_top": ["alb.keepalive_shorter_than_idle", "alb.deregistration_inflight", "alb.target_overloaded"]}
    write(name, al.eventbridge(g), w, expect)


def alb_502_deregistration_during_deploy():
    """alb.deregistration_inflight (502 while targets drain).

    reports serves dashboards (fast) and CSV exports that run 30 s to 4 minutes (the idle
    timeout is 300 s for them). Last week someone lowered the target group's
    deregistration_delay.timeout_seconds from 300 to 20 to make deploys faster. At 12:30:08
    a CodeDeploy in-place deployment (OneAtATime, BlockTraffic/AllowTraffic) started on the
    8 instances: each instance is deregistered, drains for 20 s, is updated, registered and
    waits to be healthy (about 100 s a cycle). Every time a drain runs out, the exports
    still running on that instance are cut and the ALB answers them 502: about 40 at
    12:30:28, 12:32:08, 12:33:48 and 12:35:28. At 12:37 the fifth instance has been
    draining for 12 s (Target.DeregistrationInProgress), the others are healthy.
    TargetResponseTime Maximum (the exports that complete) is about 230 s, above the delay.
    Near misses: a low ELB 502 ratio with healthy targets and no connection errors looks
    like keep-alive (not alb.keepalive_shorter_than_idle) or a malformed response
    (not alb.malformed_target_response): only the draining target and the delay tell.
    Alarm: HTTPCode_ELB_502_Count Sum over 5 minutes > 25, 1 of 1, SNS.
    """
    name = "alb-502-deregistration-during-deploy"
    g = Gen(name)
    alb = Alb(g, "reports", azs=("a", "b"), idle=300, created="2021-09-14T07:45:19.660Z")
    tg = Tg(alb, "reports-tg", port=8080, hc_path="/status", hc_interval=10, healthy=3, unhealthy=2, dereg=20)
    cert_arn, cert = acm_cert(g, "us-east-1", "reports.acme-analytics.io", ["reports.acme-analytics.io"],
                              "2026-04-02T00:00:00Z", "2027-05-01T23:59:59Z", [alb.arn])
    alb.listener(443, "HTTPS", [forward(tg)], [cert_arn], "ELBSecurityPolicy-TLS13-1-2-2021-06")
    alb.https_redirect()
    azs = ["us-east-1a", "us-east-1b"] * 4
    for k, az in enumerate(azs):
        tg.add(g.instance(), az, "draining" if k == 4 else "healthy")

    m = AlbMetrics(alb, tg)
    demand = demand_curve(g, 4000, trend=0.06)
    expiries = ["12:30:28", "12:32:08", "12:33:48", "12:35:28"]
    registered = ["12:31:15", "12:32:55", "12:34:35", "12:36:15"]
    for i in range(N):
        n = g.poisson(demand[i])
        # The exports still running on the drained instance are cut when its delay runs out.
        cut = sum(g.poisson(40) for e in expiries if i * 60 <= secs(e) < i * 60 + 60)
        t5, t4, t3 = g.binomial(n - cut, 0.0005), g.binomial(n - cut, 0.009), g.binomial(n - cut, 0.01)
        ok = n - cut
        m.requests[i], m.elb[502][i], m.t5xx[i], m.t4xx[i], m.t3xx[i], m.t2xx[i] = n, cut, t5, t4, t3, ok - t5 - t4 - t3
        m.elb_4xx[i] = g.binomial(n, 0.0006)
        exports_done = g.poisson(ok * 0.012)
        mx = g.uniform(170, 238) if exports_done else None
        m.trt[i] = dp_latency(g, i, ok, 0.09 * (1 + g.gauss(0, 0.04)), 1.1, p99_override=g.uniform(9, 16), max_override=mx)
        # HealthyHostCount: 8, minus the instance being deployed (out of service from its
        # deregistration until healthy again, about 80 s of every 100 s cycle): the worst
        # node reports 7 from 12:30, the best one 8 in the minutes an instance came back.
        if i >= idx("12:30"):
            back = any(i * 60 <= secs(r) < i * 60 + 60 for r in registered)
            m.set_health(i, [7, 8 if back else 7], [0] * alb.nodes)
        else:
            m.set_health(i, [8] * alb.nodes, [0] * alb.nodes)
    metrics = m.emit()
    pts = find_series(metrics, "HTTPCode_ELB_502_Count", alb.dims())
    total = sum((pts[i]["Sum"] if pts[i] else 0.0) for i in range(idx("12:31"), idx("12:36")))
    al = Alarm("reports-alb-502", "reports: ELB 502 in 5 min", "AWS/ApplicationELB", "HTTPCode_ELB_502_Count", alb.dims(), "Sum",
               25.0, "GreaterThanThreshold", [(idx("12:31"), total)], period=300, evals=1, dta=1, points=pts)
    w = world(elb=elb_world([alb]), acm={cert_arn: cert}, metrics=metrics)
    expect = {"status": ["diagnosed"], "top": "alb.deregistration_inflight",
              "not_top": ["alb.keepalive_shorter_than_idle", "alb.malformed_target_response"]}
    write(name, al.sns(g), w, expect)


def alb_502_lambda_target_errors():
    """alb.lambda_target_error (502 from a Lambda target).

    The internal ALB pricing-api forwards to a Lambda target group (health checks
    disabled, the default for Lambda: the function shows `unavailable` /
    Target.HealthCheckDisabled). At 12:33:05 the `live` alias of pricing-quote was moved to
    version 58, whose handler returns `{"body": ...}` without `statusCode` on the quote
    path: the ALB counts LambdaUserError ("JSON that is malformed or missing required
    fields") and answers 502 to about 42% of requests. LambdaUserError is published per
    (LoadBalancer, TargetGroup) and per TargetGroup, as AWS does; there is no
    TargetConnectionErrorCount or HealthyHostCount for Lambda targets.
    Near misses: 502 at a high ratio with a step onset and no connection/TLS errors
    (alb.malformed_target_response's signature, but the target is a Lambda function).
    Alarm: HTTPCode_ELB_5XX_Count Sum > 50, 3 of 3, direct alarm action.
    """
    name = "alb-502-lambda-target-errors"
    g = Gen(name)
    alb = Alb(g, "pricing-api", scheme="internal", azs=("a", "b", "c"), created="2024-10-03T16:27:41.332Z")
    tg = Tg(alb, "pricing-quote-fn", protocol=None, port=None, target_type="lambda", hc_path="/", hc_interval=35,
            hc_timeout=30, healthy=5, unhealthy=2, hc_enabled=False)
    fn = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:pricing-quote:live"
    tg.add(fn, None, "hc-disabled")
    alb.listener(80, "HTTP", [forward(tg)])

    m = AlbMetrics(alb, tg)
    demand = demand_curve(g, 1400, trend=0.08, waves=((31, 0.07), (9, 0.04)))
    onset = "12:33:05"
    for i in range(N):
        n = g.poisson(demand[i])
        frac = share_of_minute(i, onset)
        user = g.binomial(n, 0.42 * frac)
        base_err = g.binomial(n, 0.0002)  # the odd timeout, as before the change
        ok = n - user - base_err
        t5, t4 = g.binomial(ok, 0.002), g.binomial(ok, 0.03)
        m.requests[i], m.lambda_user[i], m.elb[502][i] = n, user + base_err, user + base_err
        m.t5xx[i], m.t4xx[i], m.t2xx[i] = t5, t4, ok - t5 - t4
        m.elb_4xx[i] = g.binomial(n, 0.0004)
        m.trt[i] = dp_latency(g, i, ok + user, 0.11 * (1 + g.gauss(0, 0.05)), 0.6)
    metrics = m.emit()
    pts = find_series(metrics, "HTTPCode_ELB_5XX_Count", alb.dims())
    vals = alarm_values(pts, "Sum")
    al = Alarm("pricing-api-alb-5xx", "pricing-api ELB 5xx", "AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", alb.dims(), "Sum", 50.0,
               "GreaterThanThreshold", vals, sample_counts=[v for _, v in vals], points=pts)
    w = world(elb=elb_world([alb]), metrics=metrics)
    expect = {"status": ["diagnosed"], "top": "alb.lambda_target_error", "not_top": ["alb.malformed_target_response"]}
    write(name, al.direct(g), w, expect)


def alb_500_oidc_idp_unreachable():
    """alb.lb_generated_500 (ELB 500 from the authenticate-oidc action).

    backoffice is an internet-facing ALB whose HTTPS listener authenticates users with
    Okta (authenticate-oidc, then forward). At 12:32:40 a security-group cleanup replaced
    the ALB security group's egress rule 0.0.0.0/0 with the VPC CIDR: the load balancer can
    no longer reach the IdP's token endpoint. Every login callback (/oauth2/idpresponse)
    now fails: ELB 500 and ELBAuthError, rising as sessions (1 h) expire and users retry.
    Requests with a valid session cookie still reach the targets, which stay healthy.
    Near misses: none of the target signals (no 502/503/504, no connection errors); no WAF
    web ACL is involved (guard.waf_not_5xx says WAF blocks answer 403).
    Alarm: HTTPCode_ELB_5XX_Count Sum > 20, 3 of 3, EventBridge.
    """
    name = "alb-500-oidc-idp-unreachable"
    g = Gen(name)
    alb = Alb(g, "backoffice", azs=("a", "b"), created="2023-03-30T10:12:09.441Z")
    tg = Tg(alb, "backoffice-tg", port=3000, hc_path="/api/health", hc_interval=30, healthy=3, unhealthy=2, dereg=60)
    cert_arn, cert = acm_cert(g, "us-east-1", "backoffice.acme-corp.net", ["backoffice.acme-corp.net"],
                              "2026-07-01T00:00:00Z", "2027-07-30T23:59:59Z", [alb.arn])
    oidc = {"Type": "authenticate-oidc", "AuthenticateOidcConfig": {
        "Issuer": "https://acme-corp.okta.com", "AuthorizationEndpoint": "https://acme-corp.okta.com/oauth2/v1/authorize",
        "TokenEndpoint": "https://acme-corp.okta.com/oauth2/v1/token", "UserInfoEndpoint": "https://acme-corp.okta.com/oauth2/v1/userinfo",
        "ClientId": "0oa8k2m3n4p5q6r7s8t9", "SessionCookieName": "AWSELBAuthSessionCookie", "Scope": "openid profile email",
        "SessionTimeout": 3600, "AuthenticationRequestExtraParams": {}, "OnUnauthenticatedRequest": "authenticate",
        "UseExistingClientSecret": True}}
    alb.listener(443, "HTTPS", [oidc, forward(tg)], [cert_arn], "ELBSecurityPolicy-TLS13-1-2-2021-06")
    alb.https_redirect()
    for az in ("us-east-1a", "us-east-1b", "us-east-1a"):
        tg.add(g.instance(), az, "healthy", port=3000)

    m = AlbMetrics(alb, tg)
    demand = demand_curve(g, 900, trend=0.1, waves=((27, 0.08), (7, 0.05)), noise=0.05)
    onset = "12:32:40"
    for i in range(N):
        frac = share_of_minute(i, onset)
        since = max(0.0, (i * 60 + 30 - secs(onset)) / 60.0)
        logins = g.poisson(demand[i] * 0.012)          # callbacks: sessions expiring, new users
        retries = g.poisson(logins * min(2.5, 0.6 * since)) if frac > 0 else 0
        failed = g.binomial(logins, frac) + retries
        n = g.poisson(demand[i] * (1 - 0.15 * min(1.0, since / 4)))  # users locked out stop browsing
        normal_minute(g, m, i, n, median=0.12, sigma=0.7)
        m.elb[500][i] = failed
        m.auth_err[i] = failed
        m.set_health(i, [3] * alb.nodes, [0] * alb.nodes)
    metrics = m.emit()
    pts = find_series(metrics, "HTTPCode_ELB_5XX_Count", alb.dims())
    vals = alarm_values(pts, "Sum")
    al = Alarm("backoffice-alb-5xx", "backoffice: load balancer 5xx", "AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", alb.dims(), "Sum", 20.0,
               "GreaterThanThreshold", vals, sample_counts=[v for _, v in vals], points=pts)
    w = world(elb=elb_world([alb]), acm={cert_arn: cert}, metrics=metrics)
    expect = {"status": ["diagnosed"], "top": "alb.lb_generated_500"}
    write(name, al.eventbridge(g), w, expect)


# --------------------------------------------------------------- CloudFront in front of an ALB


def cf_front(g: Gen, cf: CfMetrics, base: float, hit: float, trend: float = 0.05, waves=((33, 0.05), (10, 0.03)), shape=None):
    """Fills a distribution's normal traffic; returns the per-minute origin request counts."""
    demand = demand_curve(g, base, trend=trend, waves=waves, shape=shape)
    origin = []
    for i in range(N):
        n = g.poisson(demand[i])
        h = min(99.0, max(0.0, hit + g.gauss(0, 1.2)))
        cf.requests[i], cf.hit_rate[i] = n, h
        cf.e4xx[i] = max(0.0, 0.9 + g.gauss(0, 0.08))
        origin.append(int(round(n * (1 - h / 100.0))))
    return origin


def cf_from_origin(cf: CfMetrics, i: int, origin_5xx: dict[int, int]):
    """CloudFront passes the origin's 5xx on: rates as shares of all requests."""
    n = max(1, cf.requests[i])
    for code, count in origin_5xx.items():
        target = {502: cf.e502, 503: cf.e503, 504: cf.e504}.get(code, cf.e500)
        target[i] += 100.0 * count / n


def origin_alb_minute(g: Gen, m: AlbMetrics, i: int, n: int, median=0.05, sigma=0.85, t5_rate=0.0004):
    """The origin ALB answering CloudFront's requests normally (no 3xx: API-ish origin)."""
    t5 = g.binomial(n, t5_rate)
    t4 = g.binomial(n, 0.01)
    m.requests[i], m.t5xx[i], m.t4xx[i], m.t2xx[i] = n, t5, t4, n - t5 - t4
    m.elb_4xx[i] = g.binomial(n, 0.0005)
    m.trt[i] = dp_latency(g, i, n, median * (1 + g.gauss(0, 0.04)), sigma)
    m.set_health(i, [len(m.tg.targets)] * m.alb.nodes, [0] * m.alb.nodes)


def cf_origin_latency(g: Gen, cf: CfMetrics, i: int, n: int, median_ms: float = 60.0, sigma: float = 0.8, **kw):
    cf.origin_latency[i] = dp_latency(g, i, n, median_ms / 1000.0 * (1 + g.gauss(0, 0.04)), sigma, unit="Milliseconds", scale=1000.0, **kw)


def cf_alarm(name: str, desc: str, cf: CfMetrics, threshold: float, metrics: list[dict]) -> Alarm:
    dims = [("DistributionId", cf.id), ("Region", "Global")]
    pts = find_series(metrics, "5xxErrorRate", dims)
    vals = alarm_values(pts, "Average")
    return Alarm(name, desc, "AWS/CloudFront", "5xxErrorRate", dims, "Average", threshold, "GreaterThanThreshold", vals, points=pts)


def shop_origin_setup(g: Gen, alb: Alb, tg: Tg, zone_name: str, origin_host: str, aliases: list[str], policy="https-only",
                      protocols=("TLSv1.2",), comment="", cache=CACHING_OPTIMIZED, orp=ORP_ALL_VIEWER_EXCEPT_HOST):
    """A distribution whose origin is a Route 53 alias to the ALB; returns (dist_id, cfg, route53)."""
    viewer_cert = f"arn:aws:acm:us-east-1:{ACCOUNT}:certificate/{g.uuid()}"
    dist_id, cfg = distribution(g, comment, aliases, [custom_origin("alb-origin", origin_host, policy, protocols)],
                                behavior("alb-origin", cache, orp), viewer_cert=viewer_cert)
    zone = hosted_zone(g, zone_name + ".", 9)
    other = hosted_zone(g, "internal.acme.", 41, private=True)
    cf_domain = f"d{g.lower(13)}.cloudfront.net."
    recs = [alias(origin_host + ".", "dualstack." + alb.dns + ".", ALB_ZONE[alb.region])]
    for a in aliases:
        recs.append(alias(a + ".", cf_domain, CLOUDFRONT_ZONE))
        recs.append(alias(a + ".", cf_domain, CLOUDFRONT_ZONE, kind="AAAA"))
    recs.append({"Name": f"_dmarc.{zone_name}.", "Type": "TXT", "TTL": 300, "ResourceRecords": [{"Value": "\"v=DMARC1; p=quarantine\""}]})
    route53 = {"ListHostedZonesByName": {"HostedZones": [other, zone]},
               "ListResourceRecordSets": {zone["Id"].split("/")[-1]: {"ResourceRecordSets": zone_records(zone, recs)}}}
    return dist_id, cfg, route53


def cf_502_origin_tls13_only_listener():
    """cf.origin_tls_protocol_mismatch (CloudFront 502).

    shop's CloudFront distribution reaches its origin origin.shop.acme-retail.com (a Route
    53 alias to the ALB shop-origin) over https-only with OriginSslProtocols [TLSv1.2].
    At 12:33:10 a security hardening change set the ALB's HTTPS listener policy to
    ELBSecurityPolicy-TLS13-1-3-2021-06 (TLS 1.3 only). CloudFront offers at most TLS 1.2 to
    origins, so every origin handshake fails: CloudFront answers 502 to every cache miss
    (about 35% of requests; cached pages keep working). The ALB counts the failed
    handshakes in ClientTLSNegotiationErrorCount and receives no more requests (RequestCount
    and TargetResponseTime stop); its targets stay healthy. OriginLatency stops with them.
    Near misses: the certificate is valid and covers the origin name (not
    cf.origin_cert_hostname_mismatch, not cf.origin_cert_expired); a listener exists on 443
    (not cf.origin_port_mismatch).
    Alarm: 5xxErrorRate Average > 5, 3 of 3, SNS.
    """
    name = "cf-502-origin-tls13-only-listener"
    g = Gen(name)
    alb = Alb(g, "shop-origin", azs=("a", "b", "c"), created="2022-05-17T12:31:56.005Z")
    tg = Tg(alb, "shop-web-tg", port=8080, hc_path="/healthz", hc_interval=15, healthy=3, unhealthy=2, dereg=60)
    cert_arn, cert = acm_cert(g, "us-east-1", "origin.shop.acme-retail.com", ["origin.shop.acme-retail.com", "shop.acme-retail.com"],
                              "2026-09-01T00:00:00Z", "2027-09-30T23:59:59Z", [alb.arn])
    alb.listener(443, "HTTPS", [forward(tg)], [cert_arn], "ELBSecurityPolicy-TLS13-1-3-2021-06")
    for az in ("us-east-1a", "us-east-1b", "us-east-1c", "us-east-1a"):
        tg.add(g.instance(), az, "healthy")
    dist_id, cfg, r53 = shop_origin_setup(g, alb, tg, "acme-retail.com", "origin.shop.acme-retail.com", ["shop.acme-retail.com"],
                                          comment="shop storefront")
    cf = CfMetrics(g, dist_id)
    m = AlbMetrics(alb, tg)
    origin = cf_front(g, cf, 21000, 65.0, trend=0.08)
    onset = "12:33:10"
    for i in range(N):
        frac = share_of_minute(i, onset)
        failed = int(round(origin[i] * frac))
        served = origin[i] - failed
        if served > 0:
            origin_alb_minute(g, m, i, served, median=0.08)
            cf_origin_latency(g, cf, i, served, median_ms=95)
        else:
            m.requests[i] = 0
            m.lb_receives[i] = False
            m.set_health(i, [4] * alb.nodes, [0] * alb.nodes)
        m.client_tls_err[i] = failed + g.poisson(failed * 0.9) if failed else g.poisson(0.3)
        cf_from_origin(cf, i, {502: failed, 500: m.t5xx[i]})
    metrics = cf.emit() + m.emit()
    al = cf_alarm("shop-cdn-5xx-rate", "shop storefront: CloudFront 5xx rate above 5%", cf, 5.0, metrics)
    w = world(elb=elb_world([alb]), acm={cert_arn: cert},
              cloudfront={"GetDistributionConfig": {dist_id: cfg}, "GetOriginRequestPolicy": orp_world([ORP_ALL_VIEWER_EXCEPT_HOST])},
              route53=r53, metrics=metrics)
    expect = {"status": ["diagnosed"], "top": "cf.origin_tls_protocol_mismatch",
              "not_top": ["cf.origin_cert_hostname_mismatch", "cf.origin_cert_expired", "cf.origin_port_mismatch"]}
    write(name, al.sns(g), w, expect)


def cf_504_origin_https_no_listener():
    """cf.origin_port_mismatch (CloudFront 504: https-only, the ALB listens on HTTP:80 only).

    news-origin has one HTTP:80 listener; its security group admits port 80 from the
    CloudFront origin-facing prefix list only. At 12:32:30 a security review switched the
    distribution's origin to https-only (HTTPS port 443). The change reaches the edge
    locations over about two minutes; from then on CloudFront's connections to port 443 are
    dropped by the security group and time out (ConnectionTimeout 10 s, 3 attempts): 504 for
    every cache miss (about 18% of requests on this news site). The ALB's traffic falls
    away, OriginLatency stops (no origin answers), targets stay healthy.
    Near misses: 504 with OriginLatency absent (cf.origin_blocked_or_private's signature,
    but the ALB is internet-facing); 504 dominant (cf.origin_read_timeout needs a slow
    origin, and there is none); no HTTPS listener, so no certificate to blame.
    Alarm: 5xxErrorRate Average > 5, 3 of 3, direct alarm action.
    """
    name = "cf-504-origin-https-no-listener"
    g = Gen(name)
    alb = Alb(g, "news-origin", azs=("a", "b"), created="2021-02-08T09:03:12.870Z")
    tg = Tg(alb, "news-web-tg", port=80, hc_path="/", hc_interval=30, healthy=5, unhealthy=2, dereg=300)
    alb.listener(80, "HTTP", [forward(tg)])
    for az in ("us-east-1a", "us-east-1b", "us-east-1a", "us-east-1b", "us-east-1a"):
        tg.add(g.instance(), az, "healthy", port=80)
    dist_id, cfg, r53 = shop_origin_setup(g, alb, tg, "dailyacme.news", "origin.dailyacme.news",
                                          ["www.dailyacme.news", "dailyacme.news"], comment="dailyacme.news",
                                          orp=ORP_ALL_VIEWER)
    cf = CfMetrics(g, dist_id)
    m = AlbMetrics(alb, tg)
    origin = cf_front(g, cf, 48000, 82.0, trend=0.1)
    edges = {idx("12:32"): 0.2, idx("12:33"): 0.75, idx("12:34"): 0.96}
    for i in range(N):
        frac = 1.0 if i > idx("12:34") else edges.get(i, 0.0)
        failed = int(round(origin[i] * frac))
        served = origin[i] - failed
        if served > 0:
            origin_alb_minute(g, m, i, served, median=0.03, sigma=1.0)
            cf_origin_latency(g, cf, i, served, median_ms=48)
        else:
            m.requests[i] = 0
            m.lb_receives[i] = False
            m.set_health(i, [5] * alb.nodes, [0] * alb.nodes)
        cf_from_origin(cf, i, {504: failed, 500: m.t5xx[i]})
    metrics = cf.emit() + m.emit()
    al = cf_alarm("dailyacme-cdn-5xx", "dailyacme.news CloudFront 5xx rate", cf, 5.0, metrics)
    w = world(elb=elb_world([alb]),
              cloudfront={"GetDistributionConfig": {dist_id: cfg}, "GetOriginRequestPolicy": orp_world([ORP_ALL_VIEWER])},
              route53=r53, metrics=metrics)
    expect = {"status": ["diagnosed"], "top": "cf.origin_port_mismatch",
              "not_top": ["cf.origin_blocked_or_private", "cf.origin_read_timeout"]}
    write(name, al.direct(g), w, expect)


def cf_502_origin_alb_replaced():
    """cf.origin_dns_failure (CloudFront 502: the origin ALB no longer exists).

    The API distribution's origin is the raw ELB name of api-public in eu-west-1
    (http-only, as set up years ago). At 12:31 a CloudFormation update renamed the load
    balancer to api-edge, which replaces it: the new ALB got a new DNS name, and at 12:33:00
    the stack deleted api-public. Its DNS name stops resolving (60 s TTL): CloudFront answers
    502 to every request it cannot serve from cache (about 93% of this API's requests).
    DescribeLoadBalancers in eu-west-1 lists api-edge and an unrelated ALB, none with the
    origin's DNS name. OriginLatency stops.
    Near misses: none of the certificate or listener rules can be checked (no ALB found).
    Alarm: 5xxErrorRate Average > 10, 3 of 3, EventBridge.
    """
    name = "cf-502-origin-alb-replaced"
    g = Gen(name)
    old_dns = f"api-public-{g.dns_number()}.eu-west-1.elb.amazonaws.com"
    new = Alb(g, "api-edge", region="eu-west-1", azs=("a", "b", "c"), created="2026-11-22T12:31:07.228Z")
    tg = Tg(new, "api-edge-tg", port=8080, hc_path="/health", hc_interval=15, healthy=3, unhealthy=2, dereg=60)
    new.listener(80, "HTTP", [forward(tg)])
    for az in ("eu-west-1a", "eu-west-1b", "eu-west-1c"):
        tg.add(g.instance(), az, "healthy")
    other = Alb(g, "grafana", region="eu-west-1", scheme="internal", azs=("a", "b"), created="2020-10-21T14:55:40.001Z")
    otg = Tg(other, "grafana-tg", port=3000, hc_path="/api/health")
    other.listener(80, "HTTP", [forward(otg)])
    otg.add(g.instance(), "eu-west-1a", "healthy", port=3000)
    origin = custom_origin("api-origin", old_dns, "http-only")
    dist_id, cfg = distribution(g, "public API", ["api.acme-travel.com"], [origin],
                                behavior("api-origin", CACHING_DISABLED, ORP_ALL_VIEWER_EXCEPT_HOST, None),
                                viewer_cert=f"arn:aws:acm:us-east-1:{ACCOUNT}:certificate/{g.uuid()}")
    cf = CfMetrics(g, dist_id)
    origin_req = cf_front(g, cf, 9000, 7.0, trend=0.12, waves=((23, 0.06), (8, 0.04)))
    deleted = "12:33:00"
    for i in range(N):
        # Resolvers keep the old answer for up to the 60 s TTL after the deletion.
        frac = min(1.0, max(0.0, (i * 60 + 60 - secs(deleted)) / 90.0))
        failed = int(round(origin_req[i] * frac))
        served = origin_req[i] - failed
        if served > 0:
            cf_origin_latency(g, cf, i, served, median_ms=140)
        cf_from_origin(cf, i, {502: failed, 500: g.binomial(served, 0.0004)})
    metrics = cf.emit()
    al = cf_alarm("api-cdn-5xx-rate", "public API: CloudFront 5xx > 10%", cf, 10.0, metrics)
    w = world(elb=elb_world([new, other]),
              cloudfront={"GetDistributionConfig": {dist_id: cfg}, "GetOriginRequestPolicy": orp_world([ORP_ALL_VIEWER_EXCEPT_HOST])},
              route53={"ListHostedZonesByName": {"HostedZones": [hosted_zone(g, "acme-travel.com.", 14)]}, "ListResourceRecordSets": {}},
              metrics=metrics)
    expect = {"status": ["diagnosed"], "top": "cf.origin_dns_failure"}
    write(name, al.eventbridge(g), w, expect)


def cf_504_origin_internal_alb():
    """cf.origin_blocked_or_private (CloudFront 504: the origin is an internal ALB).

    The partner API distribution reaches api-origin.acme-partners.net, a Route 53 alias. As
    part of a (half-finished) move to CloudFront VPC origins, the platform team created the
    internal ALB partner-api-int and at 12:33:00 pointed the alias at it, without creating
    the VPC origin. CloudFront now resolves private 10.x addresses it cannot reach:
    connections time out (10 s x 3 attempts) and it answers 504 to every cache miss (about
    96% of requests). OriginLatency has no data from 12:34. The internal ALB itself is fine:
    it serves internal clients and its targets are healthy.
    Near misses: 504 dominant (cf.origin_read_timeout needs OriginLatency near
    OriginReadTimeout; here there is none); a listener matches (not cf.origin_port_mismatch).
    Alarm: 5xxErrorRate Average > 5, 3 of 3, direct alarm action.
    """
    name = "cf-504-origin-internal-alb"
    g = Gen(name)
    old = Alb(g, "partner-api", azs=("a", "b"), created="2022-01-11T10:40:31.507Z")
    otg = Tg(old, "partner-api-tg", port=8080, hc_path="/health")
    int_alb = Alb(g, "partner-api-int", scheme="internal", azs=("a", "b"), created="2026-11-20T15:12:44.096Z")
    tg = Tg(int_alb, "partner-api-int-tg", port=8080, hc_path="/health", hc_interval=15, healthy=3, unhealthy=2, dereg=60)
    cert_arn, cert = acm_cert(g, "us-east-1", "api-origin.acme-partners.net", ["api-origin.acme-partners.net"],
                              "2026-11-20T00:00:00Z", "2027-12-19T23:59:59Z", [old.arn, int_alb.arn])
    old.listener(443, "HTTPS", [forward(otg)], [cert_arn], "ELBSecurityPolicy-TLS13-1-2-2021-06")
    int_alb.listener(443, "HTTPS", [forward(tg)], [cert_arn], "ELBSecurityPolicy-TLS13-1-2-2021-06")
    ips = (("10.12.3.41", "us-east-1a"), ("10.12.19.7", "us-east-1b"), ("10.12.4.230", "us-east-1a"))
    for ip, az in ips:
        tg.add(g.instance(), az, "healthy")
        otg.add(g.instance(), az, "healthy")
    viewer_cert = f"arn:aws:acm:us-east-1:{ACCOUNT}:certificate/{g.uuid()}"
    dist_id, cfg = distribution(g, "partner API", ["partners.acme-partners.net"],
                                [custom_origin("partner-api", "api-origin.acme-partners.net", "https-only")],
                                behavior("partner-api", CACHING_DISABLED, ORP_ALL_VIEWER_EXCEPT_HOST), viewer_cert=viewer_cert)
    zone = hosted_zone(g, "acme-partners.net.", 7)
    cf_domain = f"d{g.lower(13)}.cloudfront.net."
    recs = [alias("api-origin.acme-partners.net.", "dualstack." + int_alb.dns + ".", ALB_ZONE["us-east-1"]),
            alias("partners.acme-partners.net.", cf_domain, CLOUDFRONT_ZONE)]
    r53 = {"ListHostedZonesByName": {"HostedZones": [zone]},
           "ListResourceRecordSets": {zone["Id"].split("/")[-1]: {"ResourceRecordSets": zone_records(zone, recs)}}}
    cf = CfMetrics(g, dist_id)
    m = AlbMetrics(int_alb, tg)
    origin = cf_front(g, cf, 6500, 4.0, trend=0.06)
    internal = demand_curve(g, 420, trend=0.0, noise=0.08)
    switched = "12:33:00"
    for i in range(N):
        frac = min(1.0, max(0.0, (i * 60 + 60 - secs(switched)) / 75.0))
        failed = int(round(origin[i] * frac))
        served = origin[i] - failed
        if served > 0:
            cf_origin_latency(g, cf, i, served, median_ms=85)
        cf_from_origin(cf, i, {504: failed, 500: g.binomial(served, 0.0005)})
        origin_alb_minute(g, m, i, g.poisson(internal[i]), median=0.07)
    metrics = cf.emit() + m.emit()
    al = cf_alarm("partner-api-cdn-5xx", "partner API: CloudFront 5xx rate", cf, 5.0, metrics)
    w = world(elb=elb_world([old, int_alb]), acm={cert_arn: cert},
              cloudfront={"GetDistributionConfig": {dist_id: cfg}, "GetOriginRequestPolicy": orp_world([ORP_ALL_VIEWER_EXCEPT_HOST])},
              route53=r53, metrics=metrics)
    expect = {"status": ["diagnosed"], "top": "cf.origin_blocked_or_private", "not_top": ["cf.origin_read_timeout"]}
    write(name, al.direct(g), w, expect)


def cf_5xx_origin_app_errors_after_deploy():
    """cf.origin_passthrough beside alb.target_app_5xx (CloudFront 5xx from the origin's app).

    The storefront distribution (us-east-1) reaches its origin, the ALB web-eu in
    eu-west-1, through origin.eu.acme-fashion.com (Route 53 alias). At 12:33:00 an ECS
    deploy of the web service (release 2026.11.22-2) went live; its cart and checkout
    endpoints throw on a renamed environment variable: the targets answer 500 to about 27%
    of the requests that reach them. The ALB generates no 5xx of its own, targets are
    healthy. CloudFront passes the 500s on (5xxErrorRate only: 500 is none of 502/503/504)
    for cache misses, about 12% of all requests. CloudFront's 5xx per minute tracks the
    ALB's target 5xx, as it did for the odd error before the deploy.
    The ALB, its certificate and its metrics live in eu-west-1 (series carry "Region").
    Expect: the ALB rule is the answer, cf.origin_passthrough stands beside it.
    Alarm: 5xxErrorRate Average > 3, 3 of 3, SNS.
    """
    name = "cf-5xx-origin-app-errors-after-deploy"
    g = Gen(name)
    alb = Alb(g, "web-eu", region="eu-west-1", azs=("a", "b", "c"), created="2023-08-22T06:51:38.338Z")
    tg = Tg(alb, "web-eu-ecs-tg", port=8080, target_type="ip", hc_path="/health", hc_interval=15, healthy=2, unhealthy=3, dereg=30)
    cert_arn, cert = acm_cert(g, "eu-west-1", "origin.eu.acme-fashion.com", ["origin.eu.acme-fashion.com"],
                              "2026-10-05T00:00:00Z", "2027-11-03T23:59:59Z", [alb.arn])
    alb.listener(443, "HTTPS", [forward(tg)], [cert_arn], "ELBSecurityPolicy-TLS13-1-2-2021-06")
    for ip, az in (("10.70.1.23", "eu-west-1a"), ("10.70.2.171", "eu-west-1b"), ("10.70.3.94", "eu-west-1c"),
                   ("10.70.1.208", "eu-west-1a"), ("10.70.2.66", "eu-west-1b"), ("10.70.3.12", "eu-west-1c")):
        tg.add(ip, az, "healthy")
    dist_id, cfg, r53 = shop_origin_setup(g, alb, tg, "acme-fashion.com", "origin.eu.acme-fashion.com",
                                          ["www.acme-fashion.com"], comment="storefront")
    cf = CfMetrics(g, dist_id)
    m = AlbMetrics(alb, tg)
    origin = cf_front(g, cf, 26000, 56.0, trend=0.1)
    deploy = "12:33:00"
    for i in range(N):
        n = origin[i]
        frac = share_of_minute(i, deploy)
        broken = g.binomial(n, 0.27 * frac)
        origin_alb_minute(g, m, i, n - broken, median=0.07, t5_rate=0.0005)
        m.requests[i] = n
        m.t5xx[i] += broken
        cf_from_origin(cf, i, {500: m.t5xx[i]})
        cf_origin_latency(g, cf, i, n, median_ms=110)
    metrics = cf.emit() + m.emit()
    al = cf_alarm("storefront-cdn-5xx", "storefront: CloudFront 5xx rate above 3%", cf, 3.0, metrics)
    w = world(elb=elb_world([alb]), acm={cert_arn: cert},
              cloudfront={"GetDistributionConfig": {dist_id: cfg}, "GetOriginRequestPolicy": orp_world([ORP_ALL_VIEWER_EXCEPT_HOST])},
              route53=r53, metrics=metrics)
    expect = {"status": ["diagnosed"], "top": "alb.target_app_5xx", "include": ["cf.origin_passthrough"],
              "not_top": ["cf.origin_passthrough"]}
    write(name, al.sns(g), w, expect)


def cf_503_origin_capacity_at_peak():
    """cf.origin_capacity_503 (CloudFront 503 rising with Requests).

    tickets sells seats for a tour going on sale at 12:31. From 12:00 the waiting room
    fills (CloudFront requests 15,000 -> 27,000 a minute), then the sale opens and everyone
    refreshes: 45,000-50,000 a minute. The API behaviour is not cacheable; the origin (ALB
    tickets-origin, ECS service at its maximum of 12 tasks, about 33,000 requests a minute
    of capacity) protects itself with a concurrency limiter that answers 503 when its queue
    is full. The 503s start as the load passes capacity and grow with it; CloudFront passes
    them on, so 503ErrorRate dominates and follows Requests. The targets stay healthy (/health bypasses the
    limiter); a few ELB 502 appear at the highest peaks (connections reset by tasks under
    pressure).
    Near misses: the origin's errors are target 5xx (alb.target_app_5xx's evidence, but
    load-correlated: capacity, per that rule's "told apart from" column);
    guard.cf_edge_capacity needs 503s without origin errors and without load.
    Alarm: 5xxErrorRate Average > 5, 3 of 3, EventBridge.
    """
    name = "cf-503-origin-capacity-at-peak"
    g = Gen(name)
    alb = Alb(g, "tickets-origin", azs=("a", "b", "c"), created="2024-05-06T17:20:02.640Z")
    tg = Tg(alb, "tickets-api-tg", port=8080, target_type="ip", hc_path="/health", hc_interval=10, healthy=2, unhealthy=3, dereg=30)
    cert_arn, cert = acm_cert(g, "us-east-1", "origin.tickets.acme-live.com", ["origin.tickets.acme-live.com"],
                              "2026-05-02T00:00:00Z", "2027-05-31T23:59:59Z", [alb.arn])
    alb.listener(443, "HTTPS", [forward(tg)], [cert_arn], "ELBSecurityPolicy-TLS13-1-2-2021-06")
    for k in range(12):
        tg.add(f"10.55.{k % 3 + 1}.{g.r.randint(10, 250)}", f"us-east-1{'abc'[k % 3]}", "healthy")
    dist_id, cfg, r53 = shop_origin_setup(g, alb, tg, "acme-live.com", "origin.tickets.acme-live.com",
                                          ["tickets.acme-live.com"], comment="tickets", cache=CACHING_DISABLED)

    def onsale(i):
        """The waiting room fills from 12:00; the sale opens at 12:31 and everyone refreshes."""
        t = i - idx("12:00")
        if t < 0:
            return 1.0
        build = 1.0 + 0.8 * min(1.0, t / 30.0)
        s = i - idx("12:31")
        if s < 0:
            return build
        return build + 1.45 * min(1.0, (s + 1) / 4.0) * (0.88 + 0.12 * math.sin(2 * math.pi * s / 5.0))

    cf = CfMetrics(g, dist_id)
    m = AlbMetrics(alb, tg)
    origin = cf_front(g, cf, 15000, 9.0, trend=0.04, waves=((19, 0.04),), shape=onsale)
    capacity = 33000.0
    for i in range(N):
        n = origin[i]
        over = max(0.0, n / capacity - 1.0)
        shed = g.binomial(n, min(0.5, 0.55 * over + (0.004 if over > 0 else 0.0)))
        resets = g.binomial(n, 0.0004 * over * 10) if over > 0.15 else 0
        origin_alb_minute(g, m, i, n - shed - resets, median=0.09 * (1 + 2 * over), sigma=0.9)
        m.requests[i] = n
        m.t5xx[i] += shed
        m.elb[502][i] = resets
        cf_from_origin(cf, i, {503: shed, 502: resets, 500: m.t5xx[i] - shed})
        cf_origin_latency(g, cf, i, n, median_ms=100 * (1 + 2 * over))
    metrics = cf.emit() + m.emit()
    dims = [("DistributionId", cf.id), ("Region", "Global")]
    pts = find_series(metrics, "5xxErrorRate", dims)
    vals = alarm_values(pts, "Average")
    al = Alarm("tickets-cdn-5xx", "tickets: CloudFront 5xx rate", "AWS/CloudFront", "5xxErrorRate", dims, "Average", 5.0,
               "GreaterThanThreshold", vals, points=pts)
    w = world(elb=elb_world([alb]), acm={cert_arn: cert},
              cloudfront={"GetDistributionConfig": {dist_id: cfg}, "GetOriginRequestPolicy": orp_world([ORP_ALL_VIEWER_EXCEPT_HOST])},
              route53=r53, metrics=metrics)
    expect = {"status": ["diagnosed"], "top": "cf.origin_capacity_503", "include": ["cf.origin_passthrough"],
              "not_top": ["guard.cf_edge_capacity", "alb.keepalive_shorter_than_idle"]}
    write(name, al.eventbridge(g), w, expect)


def alb_502_keepalive_cert_renewal_risk():
    """alb.keepalive_shorter_than_idle with cert.renewal_risk beside it.

    portal's targets run Node.js 20 with the default server.keepAliveTimeout of 5 s; the
    ALB's idle timeout is 120 s (raised for report downloads). The race is standing: about
    1.1% of requests end in ELB 502 at any load, all morning. The alarm (ELB 502 > 75 a
    minute) fires now only because the traffic peak after the 12:30 customer newsletter
    makes the same ratio a larger count.
    Targets healthy, no connection or TLS errors.
    The HTTPS listener's certificate portal.acme-insure.com is email-validated and expires
    on 2026-12-12 (20 days): ACM sent the renewal mails 45 days before and is waiting
    (RenewalStatus PENDING_VALIDATION). A real risk, and no cause of the current 502s.
    Alarm: HTTPCode_ELB_502_Count Sum > 75, 3 of 3, direct alarm action.
    """
    name = "alb-502-keepalive-cert-renewal-risk"
    g = Gen(name)
    alb = Alb(g, "portal", azs=("a", "b"), idle=120, created="2022-08-29T08:33:47.112Z")
    tg = Tg(alb, "portal-node-tg", port=3000, hc_path="/healthz", hc_interval=20, healthy=3, unhealthy=2, dereg=60)
    cert_arn, cert = acm_cert(g, "us-east-1", "portal.acme-insure.com", ["portal.acme-insure.com"],
                              "2025-12-12T00:00:00Z", "2026-12-12T23:59:59Z", [alb.arn], method="EMAIL",
                              renewal={"RenewalStatus": "PENDING_VALIDATION",
                                       "DomainValidationOptions": [{"DomainName": "portal.acme-insure.com", "ValidationDomain": "acme-insure.com",
                                                                    "ValidationStatus": "PENDING_VALIDATION", "ValidationMethod": "EMAIL",
                                                                    "ValidationEmails": ["admin@acme-insure.com", "hostmaster@acme-insure.com", "webmaster@acme-insure.com"]}],
                                       "UpdatedAt": "2026-10-28T23:59:59Z"})
    alb.listener(443, "HTTPS", [forward(tg)], [cert_arn], "ELBSecurityPolicy-TLS13-1-2-2021-06")
    alb.https_redirect()
    for az in ("us-east-1a", "us-east-1b", "us-east-1a", "us-east-1b"):
        tg.add(g.instance(), az, "healthy", port=3000)

    def newsletter(i):  # the 12:30 customer newsletter brings a short peak
        t = i - idx("12:30")
        return 1.0 if t < 0 else 1.0 + 0.75 * min(1.0, (t + 1) / 4.0)

    m = AlbMetrics(alb, tg)
    demand = demand_curve(g, 4300, trend=0.1, waves=((31, 0.05), (9, 0.03)), shape=newsletter)
    for i in range(N):
        n = g.poisson(demand[i])
        e502 = g.binomial(n, 0.011 * (1 + g.gauss(0, 0.06)))
        ok = n - e502
        t5, t4, t3 = g.binomial(ok, 0.0003), g.binomial(ok, 0.013), g.binomial(ok, 0.025)
        m.requests[i], m.elb[502][i], m.t5xx[i], m.t4xx[i], m.t3xx[i], m.t2xx[i] = n, e502, t5, t4, t3, ok - t5 - t4 - t3
        m.elb_4xx[i] = g.binomial(n, 0.0009)
        m.trt[i] = dp_latency(g, i, ok, 0.055 * (1 + g.gauss(0, 0.04)), 0.95)
        m.set_health(i, [4] * alb.nodes, [0] * alb.nodes)
    metrics = m.emit()
    pts = find_series(metrics, "HTTPCode_ELB_502_Count", alb.dims())
    vals = alarm_values(pts, "Sum")
    al = Alarm("portal-alb-502", "portal: ELB 502 above 75/min", "AWS/ApplicationELB", "HTTPCode_ELB_502_Count", alb.dims(), "Sum", 75.0,
               "GreaterThanThreshold", vals, points=pts)
    w = world(elb=elb_world([alb]), acm={cert_arn: cert}, metrics=metrics)
    expect = {"status": ["diagnosed"], "top": "alb.keepalive_shorter_than_idle", "include": ["cert.renewal_risk"],
              "not_top": ["cert.renewal_risk"]}
    write(name, al.direct(g), w, expect)


def alb_503_target_health_access_denied():
    """Inconclusive: the decisive source (DescribeTargetHealth) is denied.

    billing's ECS service was scaled to 0 at 12:33:05 by a scheduled scaling action meant
    for a staging cluster; the target group has no registered target any more and the ALB
    answers every request 503 (RequestCount, which counts requests with a chosen target,
    drops to 0; HealthyHostCount to 0). The triage role was created from an older policy
    without elasticloadbalancing:DescribeTargetHealth: the call fails with AccessDenied (the
    ELB API's own error code) and the world, as recorded, holds no target health. Without
    it, "no registered targets" and "no routable targets" cannot be told apart, so no rule
    may claim the answer: the verdict is inconclusive and names the missing source.
    Alarm: HTTPCode_ELB_5XX_Count Sum > 100, 3 of 3, SNS.
    """
    name = "alb-503-target-health-access-denied"
    g = Gen(name)
    alb = Alb(g, "billing", azs=("a", "b"), created="2023-12-04T12:09:55.317Z")
    tg = Tg(alb, "billing-ecs-tg", port=8080, target_type="ip", hc_path="/health", hc_interval=15, healthy=2, unhealthy=3, dereg=30)
    cert_arn, cert = acm_cert(g, "us-east-1", "billing.acme-saas.io", ["billing.acme-saas.io"],
                              "2026-02-14T00:00:00Z", "2027-03-15T23:59:59Z", [alb.arn])
    alb.listener(443, "HTTPS", [forward(tg)], [cert_arn], "ELBSecurityPolicy-TLS13-1-2-2021-06")
    alb.https_redirect()

    m = AlbMetrics(alb, tg)
    demand = demand_curve(g, 1800, trend=0.1)
    gone = "12:33:05"
    for i in range(N):
        up = 1.0 - share_of_minute(i, gone)
        if up > 0:
            normal_minute(g, m, i, demand[i] * up, median=0.05)
        else:
            m.requests[i] = 0
            m.elb_4xx[i] = g.binomial(int(demand[i]), 0.0008)
        m.elb[503][i] = g.poisson(demand[i] * (1 - up))
        h = 4 if up >= 1 else 0
        m.set_health(i, [h] * alb.nodes, [0] * alb.nodes)
    metrics = m.emit()
    pts = find_series(metrics, "HTTPCode_ELB_5XX_Count", alb.dims())
    vals = alarm_values(pts, "Sum")
    al = Alarm("billing-alb-5xx", "billing: load balancer 5xx", "AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", alb.dims(), "Sum", 100.0,
               "GreaterThanThreshold", vals, points=pts)
    elb = elb_world([alb])
    del elb["DescribeTargetHealth"]  # what a recording with the call denied holds
    faults = {"elasticloadbalancing:DescribeTargetHealth": {
        "Code": "AccessDenied",
        "Message": f"User: arn:aws:sts::{ACCOUNT}:assumed-role/fivexx-triage/fivexx is not authorized to perform: "
                   "elasticloadbalancing:DescribeTargetHealth because no identity-based policy allows the "
                   "elasticloadbalancing:DescribeTargetHealth action"}}
    w = world(elb=elb, acm={cert_arn: cert}, metrics=metrics, faults=faults)
    expect = {"status": ["inconclusive"], "gaps": ["elasticloadbalancing:DescribeTargetHealth"],
              "max_findings_confidence": 0.4}
    write(name, al.sns(g), w, expect)


def not_ours_rds_cpu():
    """An alarm that is not ours: AWS/RDS CPUUtilization (EventBridge).

    The same alarm topic also carries database alarms. fivexx triages only
    AWS/ApplicationELB and AWS/CloudFront alarms: it must make no AWS call that matters and
    claim nothing (status inconclusive, no finding at 0.4 or above). The world is empty,
    as a recording of such a triage is.
    """
    name = "not-ours-rds-cpu"
    g = Gen(name)
    dims = [("DBInstanceIdentifier", "orders-db-prod-1")]
    vals = [(idx("12:35"), 96.2833333333333), (idx("12:34"), 95.9), (idx("12:33"), 93.4666666666667)]
    al = Alarm("orders-db-prod-1-cpu-high", "orders-db-prod-1 CPU above 90% for 3 minutes", "AWS/RDS", "CPUUtilization", dims,
               "Average", 90.0, "GreaterThanThreshold", vals)
    w = world()
    expect = {"status": ["inconclusive"], "max_findings_confidence": 0.4}
    write(name, al.eventbridge(g), w, expect)


SCENARIOS = {f.__name__.replace("_", "-"): f for f in (
    alb_503_targets_in_disabled_az,
    alb_502_targets_refuse_connections,
    alb_5xx_targets_overloaded_at_peak,
    alb_502_malformed_response_after_deploy,
    alb_502_deregistration_during_deploy,
    alb_502_lambda_target_errors,
    alb_500_oidc_idp_unreachable,
    cf_502_origin_tls13_only_listener,
    cf_504_origin_https_no_listener,
    cf_502_origin_alb_replaced,
    cf_504_origin_internal_alb,
    cf_5xx_origin_app_errors_after_deploy,
    cf_503_origin_capacity_at_peak,
    alb_502_keepalive_cert_renewal_risk,
    alb_503_target_health_access_denied,
    not_ours_rds_cpu,
)}


def main(argv: list[str]) -> int:
    if "--list" in argv:
        for name, f in SCENARIOS.items():
            print(f"{name}: {(f.__doc__ or '').strip().splitlines()[0]}")
        return 0
    names = argv or list(SCENARIOS)
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        print(f"unknown scenario(s): {', '.join(unknown)}; see --list", file=sys.stderr)
        return 2
    for n in names:
        SCENARIOS[n]()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
