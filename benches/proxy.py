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
Listens on 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import http.client
import re
import threading
import time
import urllib.parse
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

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


class Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.calls = 0
            self.misses = 0
            self.metrics = 0
            self.ops: Counter[str] = Counter()
            self.in_flight = 0
            self.max_in_flight = 0
            self.t0 = time.perf_counter()
            self.timeline: list[tuple[str, float, float]] = []

    def snapshot(self) -> dict:
        with self.lock:
            return {
                "calls": self.calls,
                "cache_misses": self.misses,
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
        response = self.memory.get(key)

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

        if response is not None:
            later(response)
            return
        st.misses += 1
        forwarded = self.loop.run_in_executor(self.pool, self.forward, method, path, headers, body)

        def done(f: "asyncio.Future[bytes]") -> None:
            if f.cancelled() or f.exception() is not None:
                st.in_flight -= 1
                conn.abort()
                return
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
