# Shared by scripts/lambda-local and scripts/demo (sourced, not run): a moto server (behind
# its CloudWatch protocol shim) and the function under `cargo lambda watch`, all on free
# loopback ports, stopped on exit or Ctrl-C.
VENV="$PWD/.venv"
export PATH="$VENV/bin:$PATH"
WORK=$(mktemp -d)
pids=()

free_port() { "$VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
# free_ports N: N distinct free loopback ports on one line (all held until each is picked).
free_ports() { "$VENV/bin/python" -c 'import socket, sys; ss = [socket.socket() for _ in range(int(sys.argv[1]))]; [s.bind(("127.0.0.1", 0)) for s in ss]; print(*(s.getsockname()[1] for s in ss))' "$1"; }

cleanup() {
  for p in "${pids[@]}"; do kill -- "-$p" 2>/dev/null || kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_for_port PORT SECONDS
wait_for_port() {
  local i
  for i in $(seq 1 $(( $2 * 5 ))); do
    if "$VENV/bin/python" -c "import socket; socket.create_connection(('127.0.0.1', $1), 0.2)" 2>/dev/null; then return 0; fi
    sleep 0.2
  done
  echo "nothing listens on 127.0.0.1:$1 after $2 s" >&2
  return 1
}

# start_moto: a moto server (scripts/moto_main.py: moto_server with GetMetricData kept whole
# when a percentile cannot be computed) on loopback behind the CloudWatch protocol shim
# (scripts/cw_cbor_shim.py, also on loopback: it forwards everything to moto and translates
# CloudWatch's RPCv2 CBOR, which the Rust SDK speaks and moto answers 404); exports AWS_* for
# the shim. Both are started at once and stopped by cleanup.
start_moto() {
  read -r MOTO_PORT SHIM_PORT <<<"$(free_ports 2)"
  setsid "$VENV/bin/python" scripts/moto_main.py -H 127.0.0.1 -p "$MOTO_PORT" >"$WORK/moto.log" 2>&1 &
  pids+=($!)
  setsid "$VENV/bin/python" scripts/cw_cbor_shim.py --port "$SHIM_PORT" --upstream "http://127.0.0.1:$MOTO_PORT" \
    >"$WORK/shim.log" 2>&1 &
  pids+=($!)
  wait_for_port "$MOTO_PORT" 20
  wait_for_port "$SHIM_PORT" 20
  export AWS_ENDPOINT_URL="http://127.0.0.1:$SHIM_PORT" AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 \
    AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
}

# start_function ENV_VARS: `cargo lambda watch` on loopback with the given KEY=VALUE,... list
# (and the cargo flags in WATCH_FLAGS).
# Not --release: `cargo lambda build --release` adds panic = "abort" (docs/decisions.md).
start_function() {
  LAMBDA_PORT=$(free_port)
  setsid cargo lambda watch ${WATCH_FLAGS:-} --invoke-address 127.0.0.1 --invoke-port "$LAMBDA_PORT" --ignore-changes \
    --env-var "AWS_ENDPOINT_URL=$AWS_ENDPOINT_URL,AWS_REGION=us-east-1,AWS_ACCESS_KEY_ID=test,AWS_SECRET_ACCESS_KEY=test,AWS_LAMBDA_LOG_FORMAT=JSON,$1" \
    >"$WORK/watch.log" 2>&1 &
  pids+=($!)
  wait_for_port "$LAMBDA_PORT" 300
}

# invoke FILE: prints the function's JSON answer; fails when the invocation fails.
invoke() {
  cargo lambda invoke --invoke-address 127.0.0.1 --invoke-port "$LAMBDA_PORT" --data-file "$1" --output-format json fivexx
}
