#!/usr/bin/env python3
"""A protocol shim in front of moto server: CloudWatch in Smithy RPCv2 CBOR, the rest as is.

aws-sdk-cloudwatch (1.100 and later) speaks Smithy RPCv2 CBOR (POST
/service/GraniteServiceVersion20100801/operation/<Op>, header `smithy-protocol: rpc-v2-cbor`,
CBOR bodies); moto 5.2.5 only speaks CloudWatch's awsJson 1.0 and awsQuery protocols and
answers 404. This shim listens on 127.0.0.1 only and forwards every request to moto
unchanged, except RPCv2 CBOR CloudWatch requests, which it translates:

- the CBOR input becomes the awsJson 1.0 request moto handles (`X-Amz-Target:
  GraniteServiceVersion20100801.<Op>`, tag-1 timestamps as epoch seconds, byte strings as
  base64); the `Authorization` header is kept, since moto routes and picks the region by its
  credential scope;
- moto's JSON answer becomes CBOR following the operation's output shape in botocore's
  CloudWatch model (timestamps as tag 1, doubles as floats, blobs as byte strings), with the
  `smithy-protocol: rpc-v2-cbor` and `Content-Type: application/cbor` headers; an operation
  without output answers an empty body. The model's JSON file is read directly: importing
  botocore would cost about 0.3 s of CPU at every start;
- errors keep moto's status code and become a CBOR map with `__type` and `message`;
  `x-amzn-query-error` is passed on (the SDK takes the error code from it, CloudWatch being
  awsQuery-compatible); a moto answer that is no JSON (moto's 500 page, for example on a
  percentile statistic it cannot compute) becomes `InternalFailure` naming the operation;
- `GetMetricData` pagination is emulated here, because moto ignores `MaxDatapoints` and
  `NextToken`: moto is asked for everything, and the shim returns at most `MaxDatapoints`
  datapoints per page (in query order, then moto's `ScanBy` order) with a `NextToken`
  holding the offset and a digest of the request; a token that does not fit the request
  answers `InvalidNextToken`;
- an operation that is not in the model, or that moto 5.2.5 does not implement, answers 404
  `UnknownOperationException` (as a Smithy server does), so the SDK gets a parsed error at
  once instead of retrying moto's 500.

Test-only: it does no signature check and keeps no state.

Usage: cw_cbor_shim.py --port PORT --upstream http://127.0.0.1:MOTO_PORT
"""

import argparse
import base64
import datetime
import gzip
import hashlib
import http.client
import http.server
import importlib.util
import json
import pathlib
import re
import sys
import urllib.parse

import cbor2

CLOUDWATCH = "GraniteServiceVersion20100801"
RPC_V2_PATH = re.compile(r"/service/(?P<service>\w+)/operation/(?P<operation>\w+)$")
# CloudWatch operations moto 5.2.5 implements (the handlers of moto.cloudwatch.responses.
# CloudWatchResponse); the others answer UnknownOperationException instead of moto's 500.
MOTO_OPERATIONS = frozenset(
    {
        "DeleteAlarms",
        "DeleteDashboards",
        "DeleteInsightRules",
        "DescribeAlarms",
        "DescribeAlarmsForMetric",
        "DescribeInsightRules",
        "DisableAlarmActions",
        "DisableInsightRules",
        "EnableAlarmActions",
        "EnableInsightRules",
        "GetDashboard",
        "GetMetricData",
        "GetMetricStatistics",
        "ListDashboards",
        "ListMetrics",
        "ListTagsForResource",
        "PutDashboard",
        "PutInsightRule",
        "PutMetricAlarm",
        "PutMetricData",
        "SetAlarmState",
        "TagResource",
        "UntagResource",
    }
)
# CloudWatch's own limit when MaxDatapoints is not given.
DEFAULT_MAX_DATAPOINTS = 100_800
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "content-length",
}
# Used when an unsigned CBOR request reaches the shim: moto needs a credential scope.
DEFAULT_AUTH = (
    "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/monitoring/aws4_request, "
    "SignedHeaders=host, Signature=0"
)
UTC = datetime.timezone.utc


class ShimError(Exception):
    """An error answered to the client as an RPCv2 CBOR error."""

    def __init__(self, status, code, message, query_code=None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        # `Code;Sender` for x-amzn-query-error, as CloudWatch sends it.
        self.query_code = query_code


# ------------------------------------------------------------------ CBOR <-> JSON values


def json_ready(value):
    """A decoded CBOR input as awsJson wants it: epoch seconds, base64 blobs."""
    if isinstance(value, dict):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(v) for v in value]
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.timestamp()
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode("ascii")
    return value


def as_datetime(value):
    if isinstance(value, (int, float)):
        return datetime.datetime.fromtimestamp(value, tz=UTC)
    if isinstance(value, str):
        try:
            return datetime.datetime.fromtimestamp(float(value), tz=UTC)
        except ValueError:
            t = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
            return t if t.tzinfo else t.replace(tzinfo=UTC)
    raise ValueError(f"not a timestamp: {value!r}")


def cbor_ready(shapes, name, value):
    """A JSON value as the RPCv2 CBOR shape `name` of the model's `shapes` wants it."""
    if value is None:
        return None
    shape = shapes[name]
    kind = shape["type"]
    if kind == "structure":
        return {
            member: cbor_ready(shapes, ref["shape"], value[member])
            for member, ref in shape.get("members", {}).items()
            if value.get(member) is not None
        }
    if kind == "list":
        return [cbor_ready(shapes, shape["member"]["shape"], v) for v in value]
    if kind == "map":
        return {k: cbor_ready(shapes, shape["value"]["shape"], v) for k, v in value.items()}
    if kind == "timestamp":
        return as_datetime(value)
    if kind == "blob":
        return base64.b64decode(value) if isinstance(value, str) else bytes(value)
    if kind in ("double", "float"):
        return float(value)
    if kind in ("integer", "long", "short", "byte"):
        return int(value)
    if kind == "boolean":
        return bool(value)
    return value


def encode(value):
    return cbor2.dumps(value, datetime_as_timestamp=True, timezone=UTC)


# ------------------------------------------------------------------ GetMetricData pages


def request_digest(params):
    canonical = json.dumps(params, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def next_token(offset, digest):
    raw = json.dumps({"offset": offset, "request": digest}).encode()
    return base64.urlsafe_b64encode(raw).decode("ascii")


def token_offset(token, digest):
    try:
        decoded = json.loads(base64.urlsafe_b64decode(token.encode("ascii")))
        offset = decoded["offset"]
        ok = isinstance(offset, int) and offset >= 0 and decoded["request"] == digest
    except (ValueError, KeyError, TypeError, AttributeError):
        ok = False
    if not ok:
        raise ShimError(
            400,
            "InvalidNextToken",
            "The NextToken does not belong to this request.",
            "InvalidNextToken;Sender",
        )
    return offset


def page_of(results, offset, max_points):
    """One page of GetMetricData results: datapoints [offset, offset + max_points) counted
    across the queries in order; the next offset, or None on the last page."""
    end = offset + max_points
    pos = 0
    page = []
    for r in results:
        ts = r.get("Timestamps") or []
        vs = r.get("Values") or []
        n = len(ts)
        lo = min(max(offset - pos, 0), n)
        hi = max(min(end - pos, n), lo)
        item = dict(r, Timestamps=ts[lo:hi], Values=vs[lo:hi])
        if pos + n > end:
            item["StatusCode"] = "PartialData"
        page.append(item)
        pos += n
    return page, (end if end < pos else None)


# ------------------------------------------------------------------ the server


def load_model():
    """botocore's CloudWatch model (the newest API version it has): the JSON document."""
    spec = importlib.util.find_spec("botocore")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("cw_cbor_shim: botocore is not installed (it comes with moto): run scripts/setup")
    root = pathlib.Path(spec.submodule_search_locations[0]) / "data" / "cloudwatch"
    found = sorted(root.glob("*/service-2.json*"))
    if not found:
        sys.exit(f"cw_cbor_shim: no CloudWatch model under {root}")
    path = found[-1]
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        return json.load(f)


class Shim(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "cw-cbor-shim"
    # Head and body leave in one write, without Nagle: written apart, the body waited for the
    # client's delayed ACK (40 ms a request on a kept-alive connection).
    disable_nagle_algorithm = True
    wbufsize = -1
    upstream = None  # (host, port), set in main()
    model = None  # botocore's CloudWatch model, set in main()

    def do_any(self):
        try:
            body = self.read_body()
        except (ValueError, OSError) as e:
            self.reply(400, {"Content-Type": "text/plain"}, f"unreadable request: {e}".encode())
            return
        path = urllib.parse.urlsplit(self.path).path
        m = RPC_V2_PATH.search(path)
        if (
            self.command == "POST"
            and m
            and m["service"] == CLOUDWATCH
            and self.headers.get("smithy-protocol", "").strip().lower() == "rpc-v2-cbor"
        ):
            self.cloudwatch(m["operation"], body)
        else:
            self.forward(body)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = do_any

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            out = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(out)
                out += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def upstream_request(self, method, path, headers, body):
        conn = http.client.HTTPConnection(*self.upstream, timeout=60)
        try:
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            return resp.status, resp.getheaders(), resp.read()
        finally:
            conn.close()

    def reply(self, status, headers, body, head_length=None):
        self.send_response(status)
        for k, v in headers.items() if isinstance(headers, dict) else headers:
            # send_response writes its own Server and Date.
            if k.lower() not in HOP_BY_HOP and k.lower() not in ("server", "date"):
                self.send_header(k, v)
        length = head_length if head_length is not None else len(body)
        self.send_header("Content-Length", str(length))
        self.end_headers()
        if self.command != "HEAD" and body:
            self.wfile.write(body)

    # ---------------------------------------------------------------- plain forwarding

    def forward(self, body):
        headers = [(k, v) for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP]
        if body or self.command in ("POST", "PUT", "PATCH"):
            headers.append(("Content-Length", str(len(body))))
        try:
            status, resp_headers, resp_body = self.upstream_request(
                self.command, self.path, dict_multi(headers), body
            )
        except (OSError, http.client.HTTPException) as e:
            self.reply(502, {"Content-Type": "text/plain"}, f"moto did not answer: {e!r}".encode())
            return
        head_length = None
        if self.command == "HEAD":
            head_length = next(
                (v for k, v in resp_headers if k.lower() == "content-length"), "0"
            )
        self.reply(status, resp_headers, resp_body, head_length)

    # ---------------------------------------------------------------- CloudWatch in CBOR

    def cloudwatch(self, operation, body):
        request_id = None
        try:
            status, headers, out, request_id = self.translate(operation, body)
        except ShimError as e:
            status, out = e.status, encode({"__type": e.code, "message": e.message})
            headers = {"x-amzn-query-error": e.query_code} if e.query_code else {}
        except Exception as e:  # a bug here must answer, never hang the client
            self.log_message("shim error on %s: %r", operation, e)
            status = 500
            out = encode({"__type": "InternalFailure", "message": f"cw_cbor_shim: {e!r}"})
            headers = {}
        headers = dict(headers)
        headers["smithy-protocol"] = "rpc-v2-cbor"
        if out:
            headers["Content-Type"] = "application/cbor"
        if request_id:
            headers["x-amzn-RequestId"] = request_id
        self.reply(status, headers, out)

    def translate(self, operation, body):
        if operation not in self.model["operations"]:
            raise ShimError(
                404, "UnknownOperationException", f"CloudWatch has no operation {operation}"
            )
        if operation not in MOTO_OPERATIONS:
            raise ShimError(
                404,
                "UnknownOperationException",
                f"moto 5.2.5 does not implement CloudWatch {operation} (cw_cbor_shim)",
            )
        try:
            params = cbor2.loads(body) if body else {}
        except Exception as e:
            raise ShimError(400, "SerializationException", f"the body is no CBOR: {e}") from e
        if not isinstance(params, dict):
            raise ShimError(400, "SerializationException", "the body is no CBOR map")
        params = json_ready(params)

        offset, max_points, digest = 0, None, None
        if operation == "GetMetricData":
            token = params.pop("NextToken", None)
            max_points = params.pop("MaxDatapoints", None)
            if max_points is None:
                max_points = DEFAULT_MAX_DATAPOINTS
            if not isinstance(max_points, int) or max_points < 1:
                raise ShimError(
                    400,
                    "InvalidParameterValue",
                    "MaxDatapoints must be a positive integer.",
                    "InvalidParameterValue;Sender",
                )
            digest = request_digest({**params, "MaxDatapoints": max_points})
            if token is not None:
                offset = token_offset(token, digest)

        headers = {
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": f"{CLOUDWATCH}.{operation}",
            "Authorization": self.headers.get("Authorization") or DEFAULT_AUTH,
        }
        for h in ("Host", "X-Amz-Date", "X-Amz-Security-Token", "amz-sdk-invocation-id"):
            if self.headers.get(h):
                headers[h] = self.headers[h]
        try:
            status, resp_headers, resp_body = self.upstream_request(
                "POST", "/", headers, json.dumps(params).encode()
            )
        except (OSError, http.client.HTTPException) as e:
            raise ShimError(502, "InternalFailure", f"moto did not answer: {e!r}") from e
        resp_headers = {k.lower(): v for k, v in resp_headers}
        request_id = resp_headers.get("x-amzn-requestid")
        try:
            answer = json.loads(resp_body) if resp_body.strip() else {}
        except ValueError:
            answer = None

        if status >= 300:
            if isinstance(answer, dict) and answer.get("__type"):
                message = answer.get("message") or answer.get("Message") or ""
                query_error = resp_headers.get("x-amzn-query-error")
                raise ShimError(status, answer["__type"], message, query_error)
            text = re.sub(r"<[^>]+>|\s+", " ", resp_body.decode("utf-8", "replace")).strip()
            raise ShimError(
                status if status >= 400 else 500,
                "InternalFailure",
                f"moto answered {status} to CloudWatch {operation} (not JSON; moto cannot "
                f"compute percentile statistics, for one): {text[:200]}",
            )
        if not isinstance(answer, dict):
            raise ShimError(500, "InternalFailure", f"moto answered no JSON object to {operation}")

        if operation == "GetMetricData":
            results = answer.get("MetricDataResults") or []
            results, next_offset = page_of(results, offset, max_points)
            answer["MetricDataResults"] = results
            answer.pop("NextToken", None)
            if next_offset is not None:
                answer["NextToken"] = next_token(next_offset, digest)

        output = self.model["operations"][operation].get("output")
        if output is None:
            return status, {}, b"", request_id
        out = encode(cbor_ready(self.model["shapes"], output["shape"], answer))
        return status, {}, out, request_id

    def log_message(self, fmt, *args):
        sys.stderr.write(f"cw_cbor_shim {self.address_string()} {fmt % args}\n")


def dict_multi(pairs):
    """http.client takes a dict; repeated headers are joined as HTTP allows."""
    out = {}
    for k, v in pairs:
        out[k] = f"{out[k]}, {v}" if k in out else v
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True, help="port on 127.0.0.1")
    parser.add_argument("--upstream", required=True, help="moto server URL, http://127.0.0.1:PORT")
    args = parser.parse_args()
    up = urllib.parse.urlsplit(args.upstream)
    if up.scheme != "http" or not up.hostname or not up.port:
        parser.error("--upstream must be http://HOST:PORT")
    Shim.upstream = (up.hostname, up.port)
    Shim.model = load_model()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Shim)
    server.daemon_threads = True
    sys.stderr.write(f"cw_cbor_shim: 127.0.0.1:{server.server_address[1]} -> {args.upstream}\n")
    sys.stderr.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
