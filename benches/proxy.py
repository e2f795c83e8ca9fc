"""A latency-injecting stand-in for AWS, in front of moto server (benchmarks only).

Every request waits `delay` seconds, then is answered. The first time a request is seen
(same method, path, query and body; signatures and dates are ignored) it is forwarded to moto
and the answer is kept; later identical requests are answered from memory. Why: moto is one
Python process, so 100 concurrent calls queue behind each other for moto's own CPU time,
which would measure moto rather than the client. With the answers kept, every call costs
exactly the injected delay, the way a real AWS endpoint that serves calls in parallel does.
The harness runs each client once (the warm-up) before it measures, and reports any request
that still missed the memory.

It counts what it sees: requests, per operation, and CloudWatch metrics requested (each
`MetricStat` of a GetMetricData call, the unit CloudWatch bills by), so the harness can
check that fivexx and the boto3 baseline make the same calls.

An asyncio protocol with hand-parsed HTTP/1.1 (the requests come from two known clients), and
a timer per answer. The proxy shares the machine's cores with the client it measures, which
real AWS does not, so its CPU per request is kept small: a thread per connection under the GIL
cost about a millisecond per request; stream readers with a task per request, 85 to 100 µs;
this, 60 to 70 µs (a 50-group ALB triage, 107 calls: 9.0 and 10.6 ms of proxy CPU before,
6.4 and 7.2 ms after, in two runs side by side), most of it accepting and closing
connections. The Python callbacks themselves take about 10 µs a request.

DynamoDB is never answered from memory: its answers depend on what was written before (the
evidence table of `fivexx triage --share-table`), so every DynamoDB request goes to moto
(counted as `forwarded`, not as a miss) and is answered after the same delay.

Throttling (off unless `proxy.throttle = Limits()`): AWS's token buckets, one per account
(the access key), region and API (from the SigV4 credential scope) and, where AWS documents
them, one per operation as well (`AWS_LIMITS`, with sources). A call that finds a bucket
empty takes no token and is answered, after the same delay, with the throttling error AWS
sends, in the protocol the client speaks (`throttling_response`). Counted in `Stats`
(`throttled`, by service and by operation). DynamoDB and other services are not throttled.
Listens on 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import http.client
import re
import threading
import time
import urllib.parse
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

try:  # uvloop: about a quarter less proxy CPU per request (benches/requirements.txt)
    import uvloop

    def new_event_loop() -> asyncio.AbstractEventLoop:
        return uvloop.new_event_loop()
except ImportError:  # pragma: no cover - the harness smoke run works without it
    new_event_loop = asyncio.new_event_loop

HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "date", "server", "content-length"}
REST_OPS = [
    (re.compile(r"^GET /2020-05-31/distribution/[^/]+/config"), "GetDistributionConfig"),
    (re.compile(r"^GET /2020-05-31/origin-request-policy/[^/]+"), "GetOriginRequestPolicy"),
    (re.compile(r"^GET /2013-04-01/hostedzonesbyname"), "ListHostedZonesByName"),
    (re.compile(r"^GET /2013-04-01/hostedzone/[^/]+/rrset"), "ListResourceRecordSets"),
]
CBOR_OP = re.compile(r"/service/[^/]+/operation/([A-Za-z]+)")
QUERY_ACTION = re.compile(rb"(?:^|&)Action=([A-Za-z0-9]+)")
# A CBOR text string of length 10 ("MetricStat"), as a map key.
CBOR_METRIC_STAT = b"\x6aMetricStat"
QUERY_METRIC_STAT = re.compile(rb"MetricDataQueries\.member\.\d+\.MetricStat\.Metric\.MetricName=")
JSON_METRIC_STAT = b'"MetricStat"'


class Headers(dict):
    """Request headers, looked up case-insensitively (`get` only; the proxy reads a few)."""

    def __setitem__(self, key: str, value: str) -> None:
        super().__setitem__(key.lower(), (key, value))

    def get(self, key: str, default=None):
        item = super().get(key.lower())
        return default if item is None else item[1]

    def items(self):
        return super().values()


def operation(method: str, path: str, headers, body: bytes) -> str:
    """The AWS operation a request calls, from whichever protocol it speaks."""
    target = headers.get("X-Amz-Target")
    if target:
        return target.rsplit(".", 1)[-1]
    m = CBOR_OP.search(path)
    if m:
        return m.group(1)
    m = QUERY_ACTION.search(body)
    if m:
        return m.group(1).decode("ascii")
    line = f"{method} {path}"
    for pattern, name in REST_OPS:
        if pattern.search(line):
            return name
    return f"{method} {urllib.parse.urlsplit(path).path}"


def metrics_requested(body: bytes) -> int:
    # CBOR (the Rust SDK), JSON (boto3 with a custom endpoint), query (older clients).
    return (body.count(CBOR_METRIC_STAT) + body.count(JSON_METRIC_STAT)
            + len(QUERY_METRIC_STAT.findall(body)))


# --- throttling ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Limit:
    """A token bucket: `burst` tokens, refilled at `per_second` (a TPS quota without a
    documented burst is a bucket of that size refilled at that rate)."""

    burst: float
    per_second: float


@dataclass(frozen=True)
class ApiLimits:
    """The buckets one API has per account and region: one for the whole API (`api`), one per
    operation (`operations`, else `default_operation` for an operation not listed), a call
    taking a token from each that applies. `source`: where the figures come from."""

    api: Limit | None = None
    operations: dict[str, Limit] = field(default_factory=dict)
    default_operation: Limit | None = None
    source: str = ""


# What the proxy enforces, by API (SigV4 service, with Classic ELB told apart from ELB v2 by
# its `Version`). Sources and the reasoning for each figure: bench/README.md, "Throttling: the
# limits the proxy enforces".
AWS_LIMITS: dict[str, ApiLimits] = {
    # "ELB API version 2 ... version 1 ... Each ELB API version has its own buckets and
    # tokens"; non-mutating (Describe*) actions: a bucket of 40 tokens refilled at 10 per
    # second. The figures of the version 1 (Classic) buckets were not found: the same taken.
    "elbv2": ApiLimits(api=Limit(40, 10), source="https://docs.aws.amazon.com/elasticloadbalancing/latest/userguide/elb-api-throttling.html"),
    "elb": ApiLimits(api=Limit(40, 10), source="https://docs.aws.amazon.com/elasticloadbalancing/latest/userguide/elb-api-throttling.html (Classic: own bucket, figures assumed equal to v2)"),
    # Per-operation requests per second, no burst documented; operations not listed (none
    # that fivexx calls): 1 per second, conservative.
    "acm": ApiLimits(operations={"DescribeCertificate": Limit(10, 10), "GetCertificate": Limit(10, 10),
                                 "ListCertificates": Limit(8, 8), "ListTagsForCertificate": Limit(10, 10)},
                     default_operation=Limit(1, 1),
                     source="https://docs.aws.amazon.com/acm/latest/userguide/acm-limits.html (API rate quotas)"),
    # TPS per operation, per account and region. Operations not listed: 3 TPS, the lowest the
    # quotas page gives for an alarm read (DescribeAlarmsForMetric, DescribeAlarmHistory).
    "monitoring": ApiLimits(operations={"GetMetricData": Limit(50, 50), "ListMetrics": Limit(25, 25),
                                        "DescribeAlarms": Limit(9, 9), "GetMetricStatistics": Limit(400, 400)},
                            default_operation=Limit(3, 3),
                            source="https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_limits.html"),
    # No published request rate for the CloudFront control-plane API: 10 tokens refilled at
    # 5 per second, conservative (the figure fivexx paces CloudFront to).
    "cloudfront": ApiLimits(api=Limit(10, 5), source="none published: conservative"),
    # Account level: 50 tokens refilled at 10 per second; each API action also has its own
    # bucket, 50 at 10 for any action not listed (ListHostedZonesByName and
    # ListResourceRecordSets are not); a request takes a token from both.
    "route53": ApiLimits(api=Limit(50, 10), default_operation=Limit(50, 10),
                         source="https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/throttling-api-requests.html"),
}

CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/[^/]+/([^/]+)/([^/]+)/aws4_request")
CLASSIC_ELB_VERSION = re.compile(rb"(?:^|&)Version=2012-06-01(?:&|$)")


def signed_scope(headers) -> tuple[str, str, str] | None:
    """(access key, region, service) from a SigV4 `Authorization` header."""
    m = CREDENTIAL.search(headers.get("Authorization") or "")
    return (m.group(1), m.group(2), m.group(3)) if m else None


def api_of(service: str, body: bytes) -> str:
    """The API a request calls, as `AWS_LIMITS` names it: the SigV4 service, except that ELB
    v2 and Classic ELB sign as the same service (`elasticloadbalancing`) and are told apart by
    the query's `Version`."""
    if service == "elasticloadbalancing":
        return "elb" if CLASSIC_ELB_VERSION.search(body) else "elbv2"
    return service


class _Bucket:
    __slots__ = ("limit", "tokens", "at")

    def __init__(self, limit: Limit, now: float) -> None:
        self.limit, self.tokens, self.at = limit, float(limit.burst), now

    def refill(self, now: float) -> None:
        self.tokens = min(self.limit.burst, self.tokens + (now - self.at) * self.limit.per_second)
        self.at = now


class Limits:
    """AWS's buckets, enforced: `proxy.throttle = Limits()`. Buckets start full and are made
    on first use; `reset()` refills them all (the harness does before every run). `scale`
    multiplies every burst and rate (at least one token), for testing the error answers."""

    def __init__(self, table: dict[str, ApiLimits] | None = None, scale: float = 1.0) -> None:
        self.table = AWS_LIMITS if table is None else table
        self.scale = scale
        self.buckets: dict[tuple, _Bucket] = {}

    def reset(self) -> None:
        self.buckets = {}

    def _limit(self, limit: Limit) -> Limit:
        if self.scale == 1.0:
            return limit
        return Limit(max(1.0, limit.burst * self.scale), limit.per_second * self.scale)

    def take(self, scope: tuple[str, str, str], api: str, op: str, now: float) -> bool:
        """Takes a token from every bucket that applies, or none when one is empty (False:
        throttled). APIs without limits always pass."""
        limits = self.table.get(api)
        if limits is None:
            return True
        account, region, _ = scope
        wanted = []
        if limits.api is not None:
            wanted.append(((account, region, api), limits.api))
        op_limit = limits.operations.get(op, limits.default_operation)
        if op_limit is not None:
            wanted.append(((account, region, api, op), op_limit))
        buckets = []
        for key, limit in wanted:
            b = self.buckets.get(key)
            if b is None:
                b = self.buckets[key] = _Bucket(self._limit(limit), now)
            b.refill(now)
            buckets.append(b)
        # A nanosecond's worth of refill short of a token is rounding, not a missing token.
        if any(b.tokens < 1.0 - 1e-9 for b in buckets):
            return False
        for b in buckets:
            b.tokens -= 1.0
        return True

    def describe(self) -> dict:
        """The table, for the results file."""
        out = {}
        for api, l in self.table.items():
            out[api] = {"api": None if l.api is None else [l.api.burst, l.api.per_second],
                        "operations": {k: [v.burst, v.per_second] for k, v in l.operations.items()},
                        "default_operation": None if l.default_operation is None
                        else [l.default_operation.burst, l.default_operation.per_second],
                        "source": l.source}
        return {"scale": self.scale, "apis": out}


ELB_NAMESPACE = {"elbv2": "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/",
                 "elb": "http://elasticloadbalancing.amazonaws.com/doc/2012-06-01/"}
XML_NAMESPACE = {"cloudfront": "http://cloudfront.amazonaws.com/doc/2020-05-31/",
                 "route53": "https://route53.amazonaws.com/doc/2013-04-01/",
                 "monitoring": "http://monitoring.amazonaws.com/doc/2010-08-01/"}
THROTTLED_MESSAGE = "Rate exceeded"


def _cbor_text(s: str) -> bytes:
    """A CBOR text string (major type 3), for the short strings of an error map."""
    data = s.encode("utf-8")
    n = len(data)
    if n < 24:
        return bytes([0x60 + n]) + data
    if n < 256:
        return bytes([0x78, n]) + data
    return bytes([0x79]) + n.to_bytes(2, "big") + data


def cbor_error(code: str, message: str) -> bytes:
    """`{"__type": code, "message": message}` in CBOR (a definite map of two pairs)."""
    return (b"\xa2" + _cbor_text("__type") + _cbor_text(code)
            + _cbor_text("message") + _cbor_text(message))


def _xml_error(namespace: str | None, code: str, request_id: str) -> bytes:
    ns = f' xmlns="{namespace}"' if namespace else ""
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse{ns}><Error><Type>Sender</Type>'
            f'<Code>{code}</Code><Message>{THROTTLED_MESSAGE}</Message></Error>'
            f'<RequestId>{request_id}</RequestId></ErrorResponse>').encode()


def throttling_response(api: str, path: str, headers) -> bytes:
    """AWS's throttling error (status 400) in the protocol of the request, as a complete
    HTTP/1.1 response:
    - ELB v2 and Classic (awsQuery): an XML `ErrorResponse`, code `Throttling`;
    - ACM (awsJson 1.1): `{"__type": "ThrottlingException", ...}`;
    - CloudWatch: RPCv2 CBOR (the Rust SDK) a CBOR map `__type: Throttling` with
      `x-amzn-query-error: Throttling;Sender` (CloudWatch is awsQuery-compatible); awsJson 1.0
      (boto3 with `X-Amz-Target`) the same as JSON; else awsQuery XML;
    - CloudFront and Route 53 (restXml): an XML `ErrorResponse`, code `Throttling`."""
    request_id = str(uuid.uuid4())
    extra: list[str] = []
    if api in ELB_NAMESPACE:
        ctype, body = "text/xml", _xml_error(ELB_NAMESPACE[api], "Throttling", request_id)
    elif api == "acm":
        ctype = "application/x-amz-json-1.1"
        body = b'{"__type":"ThrottlingException","message":"Rate exceeded"}'
        extra.append("x-amzn-ErrorType: ThrottlingException")
    elif api == "monitoring" and CBOR_OP.search(path):
        ctype, body = "application/cbor", cbor_error("Throttling", THROTTLED_MESSAGE)
        extra += ["smithy-protocol: rpc-v2-cbor", "x-amzn-query-error: Throttling;Sender"]
    elif api == "monitoring" and headers.get("X-Amz-Target"):
        ctype = "application/x-amz-json-1.0"
        body = b'{"__type":"Throttling","message":"Rate exceeded"}'
        extra.append("x-amzn-query-error: Throttling;Sender")
    else:  # CloudWatch over query; CloudFront; Route 53
        ctype, body = "text/xml", _xml_error(XML_NAMESPACE.get(api), "Throttling", request_id)
    head = ["HTTP/1.1 400 Bad Request", f"Content-Type: {ctype}", f"x-amzn-RequestId: {request_id}",
            *extra, f"Content-Length: {len(body)}", "", ""]
    return "\r\n".join(head).encode("latin-1") + body


class Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.calls = 0
            self.misses = 0
            self.forwarded = 0  # DynamoDB: always to moto (see the module's docstring)
            self.metrics = 0
            self.ops: Counter[str] = Counter()
            # Only while throttling (the service is read from the signature then): calls by
            # API (`AWS_LIMITS`' names; others by SigV4 service), throttled answers by API and
            # by `api:Operation`.
            self.by_api: Counter[str] = Counter()
            self.throttled: Counter[str] = Counter()
            self.throttled_ops: Counter[str] = Counter()
            self.missed_ops: Counter[str] = Counter()  # which operations missed the memory
            self.in_flight = 0
            self.max_in_flight = 0
            self.t0 = time.perf_counter()
            self.timeline: list[tuple[str, float, float]] = []

    def snapshot(self) -> dict:
        with self.lock:
            return {
                "calls": self.calls,
                "cache_misses": self.misses,
                "forwarded": self.forwarded,
                "calls_by_api": dict(sorted(self.by_api.items())),
                "throttled": dict(sorted(self.throttled.items())),
                "throttled_by_operation": dict(sorted(self.throttled_ops.items())),
                "cache_misses_by_operation": dict(sorted(self.missed_ops.items())),
                "metrics_requested": self.metrics,
                "max_in_flight": self.max_in_flight,
                "operations": dict(sorted(self.ops.items())),
                # (operation, arrived, answered), seconds since reset(), in arrival order.
                "timeline": sorted(self.timeline, key=lambda t: t[1]),
            }


class LatencyProxy:
    """`with LatencyProxy(moto_port) as p:` ... `p.url`, `p.delay = 0.05`, `p.stats`."""

    def __init__(self, upstream_port: int, delay: float = 0.0) -> None:
        self.upstream_port = upstream_port
        self.delay = delay
        self.throttle: Limits | None = None  # `Limits()`: AWS's buckets enforced
        self.stats = Stats()
        self.memory: dict[tuple, bytes] = {}
        self.connections: set[_Connection] = set()
        self.local = threading.local()
        self.pool = ThreadPoolExecutor(8)  # forwarding to moto (warm-up only)
        self.loop = new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.port = 0
        self.url = ""

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        server = self.loop.run_until_complete(
            self.loop.create_server(self._protocol, "127.0.0.1", 0, backlog=1024))
        self.server = server
        self.port = server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.ready.set()
        self.loop.run_forever()

    def cpu_seconds(self) -> float:
        """CPU time of the proxy's event loop thread so far."""
        ident = self.thread.ident
        return time.clock_gettime(time.pthread_getcpuclockid(ident)) if ident else 0.0

    def __enter__(self) -> "LatencyProxy":
        self.thread.start()
        self.ready.wait(10)
        return self

    def __exit__(self, *exc) -> None:
        async def stop() -> None:
            self.server.close()
            for conn in list(self.connections):
                conn.abort()

        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.pool.shutdown(wait=False)

    def _protocol(self) -> "_Connection":
        return _Connection(self)

    def upstream(self) -> http.client.HTTPConnection:
        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = http.client.HTTPConnection("127.0.0.1", self.upstream_port, timeout=60)
            self.local.conn = conn
        return conn

    def forward(self, method: str, path: str, headers: Headers, body: bytes) -> bytes:
        """One request to moto, as a complete HTTP/1.1 response (thread pool)."""
        for attempt in range(2):
            conn = self.upstream()
            try:
                conn.request(method, path, body=body, headers=dict(headers.items()))
                resp = conn.getresponse()
                data = resp.read()
                out = [f"HTTP/1.1 {resp.status} {resp.reason}"]
                out += [f"{k}: {v}" for k, v in resp.getheaders() if k.lower() not in HOP_HEADERS]
                out += [f"Content-Length: {len(data)}", "", ""]
                return "\r\n".join(out).encode("latin-1") + data
            except (http.client.HTTPException, OSError):
                conn.close()
                self.local.conn = None
                if attempt == 1:
                    raise
        raise RuntimeError("unreachable")

    def serve(self, conn: "_Connection", method: str, path: str, headers: Headers, body: bytes,
              close: bool) -> None:
        """Counts one request and answers it on `conn` once `delay` has passed since it arrived
        (a timer, not a task: this is the proxy's hot path)."""
        started = time.perf_counter()
        op = operation(method, path, headers, body)
        st = self.stats
        st.calls += 1  # the event loop is the only writer: no lock needed for these
        st.ops[op] += 1
        if op == "GetMetricData":
            st.metrics += metrics_requested(body)
        st.in_flight += 1
        st.max_in_flight = max(st.max_in_flight, st.in_flight)
        key = (method, path, body)
        if self.throttle is not None:
            scope = signed_scope(headers)
            if scope is not None:
                api = api_of(scope[2], body)
                st.by_api[api] += 1
                if not self.throttle.take(scope, api, op, started):
                    st.throttled[api] += 1
                    st.throttled_ops[f"{api}:{op}"] += 1
                    op = f"{op} (throttled)"
                    key = None  # answered below with the error, not from memory
        stateful = (headers.get("X-Amz-Target") or "").startswith("DynamoDB_")
        response = None if stateful or key is None else self.memory.get(key)

        def answer(response: bytes) -> None:
            st.in_flight -= 1
            st.timeline.append((op, started - st.t0, time.perf_counter() - st.t0))
            conn.answer(response, close)

        def later(response: bytes) -> None:
            remaining = self.delay - (time.perf_counter() - started)
            if remaining > 0:
                self.loop.call_later(remaining, answer, response)
            else:
                answer(response)

        if key is None:
            later(throttling_response(api, path, headers))
            return
        if response is not None:
            later(response)
            return
        if stateful:
            st.forwarded += 1
        else:
            st.misses += 1
            st.missed_ops[op] += 1
        forwarded = self.loop.run_in_executor(self.pool, self.forward, method, path, headers, body)

        def done(f: "asyncio.Future[bytes]") -> None:
            if f.cancelled() or f.exception() is not None:
                st.in_flight -= 1
                conn.abort()
                return
            if not stateful:
                self.memory[key] = f.result()
            later(f.result())

        forwarded.add_done_callback(done)


class _Connection(asyncio.Protocol):
    """One client connection: requests parsed from the byte stream by hand (HTTP/1.1,
    Content-Length bodies), one at a time, answered in order."""

    def __init__(self, proxy: LatencyProxy) -> None:
        self.proxy = proxy
        self.buf = bytearray()
        self.transport: asyncio.Transport | None = None
        self.busy = False  # a request is waiting for its answer

    def connection_made(self, transport) -> None:
        self.transport = transport
        self.proxy.connections.add(self)

    def connection_lost(self, exc) -> None:
        self.transport = None
        self.proxy.connections.discard(self)

    def data_received(self, data: bytes) -> None:
        self.buf += data
        self._next()

    def _next(self) -> None:
        if self.busy or self.transport is None:
            return
        end = self.buf.find(b"\r\n\r\n")
        if end < 0:
            return
        lines = bytes(self.buf[:end]).decode("latin-1").split("\r\n")
        method, path, _ = lines[0].split(" ", 2)
        headers = Headers()
        for line in lines[1:]:
            k, sep, v = line.partition(":")
            if sep:
                headers[k.strip()] = v.strip()
        if headers.get("Transfer-Encoding", "").lower() == "chunked":
            self.abort()  # the two clients never send chunked request bodies
            return
        length = int(headers.get("Content-Length") or 0)
        if len(self.buf) < end + 4 + length:
            return  # the body is still coming
        body = bytes(self.buf[end + 4:end + 4 + length])
        del self.buf[:end + 4 + length]
        self.busy = True
        close = headers.get("Connection", "").lower() == "close"
        self.proxy.serve(self, method, path, headers, body, close)

    def answer(self, response: bytes, close: bool) -> None:
        self.busy = False
        if self.transport is None:
            return  # the client went away
        self.transport.write(response)
        if close:
            self.transport.close()
        else:
            self._next()

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()
