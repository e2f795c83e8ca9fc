//! The command line's contract: exit 0 with a verdict, 2 with one line for unusable input.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn scenario(name: &str, file: &str) -> PathBuf {
    root().join("tests/scenarios").join(name).join(file)
}

fn fivexx(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_fivexx"))
        .args(args)
        .output()
        .unwrap()
}

fn s(p: &std::path::Path) -> String {
    p.display().to_string()
}

/// Exit 2, one line on stderr naming the file, nothing on stdout, no panic.
fn assert_input_error(out: &Output, mentions: &[&str]) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "stderr: {err}");
    assert!(!err.contains("panicked"), "{err}");
    for m in mentions {
        assert!(err.contains(m), "`{m}` not in: {err}");
    }
    assert!(out.stdout.is_empty());
}

#[test]
fn truncated_event_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let ev = dir.path().join("event.json");
    let full = std::fs::read_to_string(root().join("events/direct-alb-5xx.json")).unwrap();
    std::fs::write(&ev, &full[..full.len() / 2]).unwrap();
    let world = scenario("alb-503-no-registered-targets", "world.json");
    let out = fivexx(&["triage", "--event", &s(&ev), "--world", &s(&world)]);
    assert_input_error(&out, &["event file", "event.json", "line"]);
}

#[test]
fn unknown_envelope_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let ev = dir.path().join("s3.json");
    std::fs::write(&ev, r#"{"Records":[{"eventSource":"aws:s3"}]}"#).unwrap();
    let world = scenario("alb-503-no-registered-targets", "world.json");
    let out = fivexx(&["triage", "--event", &s(&ev), "--world", &s(&world)]);
    assert_input_error(&out, &["aws:s3", "not an alarm"]);
}

#[test]
fn missing_event_file_exits_2() {
    let out = fivexx(&["triage", "--event", "/nonexistent/event.json"]);
    assert_input_error(&out, &["/nonexistent/event.json"]);
}

#[test]
fn wrong_world_format_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let w = dir.path().join("world.json");
    std::fs::write(&w, r#"{"Format": "fivexx-world/9", "Region": "us-east-1"}"#).unwrap();
    let ev = root().join("events/direct-alb-5xx.json");
    let out = fivexx(&["triage", "--event", &s(&ev), "--world", &s(&w)]);
    assert_input_error(&out, &["world file", "fivexx-world/9"]);
}

#[test]
fn truncated_world_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let w = dir.path().join("world.json");
    let full =
        std::fs::read_to_string(scenario("alb-503-no-registered-targets", "world.json")).unwrap();
    std::fs::write(&w, &full[..1000]).unwrap();
    let ev = root().join("events/direct-alb-5xx.json");
    let out = fivexx(&["triage", "--event", &s(&ev), "--world", &s(&w)]);
    assert_input_error(&out, &["world file", "line"]);
}

#[test]
fn unknown_fault_name_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let w = dir.path().join("world.json");
    std::fs::write(
        &w,
        r#"{"Format": "fivexx-world/1", "Region": "us-east-1", "Faults": {"acm:DescribeEverything": {"Code": "X"}}}"#,
    )
    .unwrap();
    let ev = root().join("events/direct-alb-5xx.json");
    let out = fivexx(&["triage", "--event", &s(&ev), "--world", &s(&w)]);
    assert_input_error(&out, &["acm:DescribeEverything"]);
}

#[test]
fn event_from_stdin() {
    let world = scenario("alb-503-no-registered-targets", "world.json");
    let ev = std::fs::read(scenario("alb-503-no-registered-targets", "event.json")).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_fivexx"))
        .args(["triage", "--event", "-", "--world", &s(&world)])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(&ev).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["findings"][0]["rule"], "alb.no_registered_targets");
}

#[test]
fn resolved_and_ignored_transitions_make_no_aws_calls() {
    let world = scenario("alb-503-no-registered-targets", "world.json");
    for (event, status) in [
        ("sns-alb-ok.json", "resolved"),
        ("direct-insufficient-data-to-ok.json", "ignored"),
    ] {
        let ev = root().join("events").join(event);
        let out = fivexx(&["triage", "--event", &s(&ev), "--world", &s(&world)]);
        assert!(out.status.success());
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["status"], status, "{event}");
        assert_eq!(v["stats"]["api_calls"], 0, "{event}");
        assert!(v["findings"].as_array().unwrap().is_empty());
    }
}

#[test]
fn alarms_that_are_not_ours_are_ignored_or_inconclusive_with_the_reason() {
    let world = scenario("alb-503-no-registered-targets", "world.json");
    // An alarm on a namespace fivexx does not triage is ignored (not posted); a composite
    // without metrics of its own is inconclusive (posted: its children may be ours).
    for (event, says, status) in [
        ("direct-not-ours-ec2.json", "AWS/EC2", "ignored"),
        ("direct-composite.json", "composite alarm", "inconclusive"),
    ] {
        let ev = root().join("events").join(event);
        let out = fivexx(&["triage", "--event", &s(&ev), "--world", &s(&world)]);
        assert!(out.status.success(), "{event}");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["status"], status, "{event}");
        assert!(
            v["summary"].as_str().unwrap().contains(says),
            "{event}: {}",
            v["summary"]
        );
        assert!(v["findings"].as_array().unwrap().is_empty());
    }
}

#[test]
fn now_flag_overrides_the_world_clock() {
    let world = scenario("alb-503-no-registered-targets", "world.json");
    let ev = scenario("alb-503-no-registered-targets", "event.json");
    // Three hours later the metrics window holds no datapoints: nothing to diagnose.
    let out = fivexx(&[
        "triage",
        "--event",
        &s(&ev),
        "--world",
        &s(&world),
        "--now",
        "2026-11-22T18:00:00Z",
    ]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_ne!(v["status"], "diagnosed", "{v}");
}

/// Defect: `--now garbage` and `--deadline abc` exited 2 (reserved for an unusable event or
/// world file) with clap's three-line usage. Usage errors exit 1 with one line.
#[test]
fn usage_errors_exit_1_with_one_line() {
    let ev = s(&scenario("alb-503-no-registered-targets", "event.json"));
    for args in [
        vec!["--now", "garbage"],
        vec!["--now", "-262143-01-01T00:00:00Z"],
        vec!["--deadline", "abc"],
        vec!["--deadline", "NaN"],
        vec!["--deadline", "0"],
        vec!["--format", "xml"],
        vec!["--no-such-flag"],
        vec!["--share-table", "a/b"],
        vec!["--share-table", "t1", "--record", "/nonexistent/x.json"],
        vec!["--share-table", "t1", "--world", "/nonexistent/w.json"],
    ] {
        let mut all = vec!["triage", "--event", ev.as_str()];
        all.extend(args.iter().copied());
        let out = fivexx(&all);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("fivexx: "), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    let help = fivexx(&["triage", "--help"]);
    assert_eq!(help.status.code(), Some(0));
}

/// A loopback listener, detached until the test process ends: for each connection, `keep`
/// reads what it needs, may answer, and returns what the test looks at.
fn loopback_listener<T: Send + 'static>(
    keep: impl Fn(&mut std::net::TcpStream) -> Option<T> + Send + 'static,
) -> (u16, std::sync::Arc<std::sync::Mutex<Vec<T>>>) {
    use std::sync::{Arc, Mutex};

    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = Arc::clone(&seen);
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            if let Some(kept) = keep(&mut conn) {
                record.lock().unwrap().push(kept);
            }
        }
    });
    (port, seen)
}

/// A live ALB triage (3 s deadline, test credentials) against `endpoint`, with no proxy from
/// the test's own environment.
fn live_triage(endpoint: &str) -> Command {
    let event = root().join("events/direct-alb-5xx.json");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_fivexx"));
    cmd.args(["triage", "--event", &s(&event), "--deadline", "3"])
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1");
    for proxy in [
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "NO_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
        "no_proxy",
    ] {
        cmd.env_remove(proxy);
    }
    cmd
}

/// The AWS clients honour `HTTP_PROXY` as the SDK's default client does: fivexx builds its own
/// client (to choose ring as the crypto provider, `evidence/aws.rs`), and a proxy the
/// environment names must still carry every call. A loopback listener plays the proxy and
/// answers 503; the endpoint's name does not resolve, so only the proxy can have been asked.
#[test]
fn live_calls_go_through_the_proxy_the_environment_names() {
    use std::io::{Read, Write};

    let (port, seen) = loopback_listener(|conn| {
        let mut buf = [0u8; 8192];
        let n = conn.read(&mut buf).unwrap_or(0);
        let head = String::from_utf8_lossy(&buf[..n]);
        let first = head.lines().next().unwrap_or("").to_owned();
        let _ = conn.write_all(
            b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
        );
        Some(first)
    });
    let out = live_triage("http://aws.fivexx.invalid")
        .env("HTTP_PROXY", format!("http://127.0.0.1:{port}"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen = seen.lock().unwrap().clone();
    assert!(!seen.is_empty(), "no call reached the proxy");
    for head in &seen {
        assert!(
            head.starts_with("POST http://aws.fivexx.invalid/"),
            "not a proxied request: `{head}`"
        );
    }
}

/// A loopback listener that keeps the first bytes each connection sends and hangs up: a TLS
/// client's first record is a handshake (0x16, version 0x03..).
fn first_bytes_listener() -> (u16, std::sync::Arc<std::sync::Mutex<Vec<Vec<u8>>>>) {
    use std::io::Read;

    loopback_listener(|conn| {
        let mut buf = [0u8; 3];
        conn.read_exact(&mut buf).ok().map(|()| buf.to_vec())
    })
}

/// The AWS clients speak TLS through ring (fivexx's own HTTPS client, `evidence/aws.rs`): a
/// live triage against an `https://` endpoint opens with a TLS handshake, and an endpoint that
/// hangs up makes failed calls in the verdict, not a crash.
#[test]
fn live_calls_open_with_a_tls_handshake() {
    let (port, seen) = first_bytes_listener();
    let out = live_triage(&format!("https://127.0.0.1:{port}"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    let seen = seen.lock().unwrap().clone();
    assert!(!seen.is_empty(), "no connection reached the endpoint");
    for first in &seen {
        assert_eq!(
            (first[0], first[1]),
            (0x16, 0x03),
            "not a TLS handshake: {first:?}"
        );
    }
}
/// Slack's client (reqwest without a built-in crypto provider) gets ring before it is built:
/// an `https://` request opens with a TLS handshake instead of panicking.
#[tokio::test]
async fn the_slack_client_speaks_tls() {
    let (port, seen) = first_bytes_listener();
    let http = fivexx::notify::deliver::http_client_builder()
        .no_proxy()
        .timeout(std::time::Duration::from_secs(5))
        .build()
        .unwrap();
    let answer = http.get(format!("https://127.0.0.1:{port}/")).send().await;
    assert!(answer.is_err(), "the listener hangs up; got {answer:?}");
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!((seen[0][0], seen[0][1]), (0x16, 0x03), "{seen:?}");
}

/// `docs/rules.md` is `fivexx rules`, byte for byte: regenerate it with
/// `cargo run -- rules > docs/rules.md` when a rule changes.
#[test]
fn docs_rules_md_is_the_registry() {
    let out = fivexx(&["rules"]);
    assert_eq!(out.status.code(), Some(0));
    let printed = String::from_utf8(out.stdout).unwrap();
    let kept = std::fs::read_to_string(root().join("docs/rules.md")).unwrap();
    assert!(
        printed == kept,
        "docs/rules.md is stale: run `cargo run -- rules > docs/rules.md`"
    );
    // Every rule a verdict can name has its section.
    for id in printed
        .lines()
        .filter_map(|l| l.strip_prefix("| [`"))
        .filter_map(|l| l.split('`').next())
    {
        assert!(
            printed.contains(&format!("\n## {id}\n")),
            "`{id}` has no section"
        );
    }
}
