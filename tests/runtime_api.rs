//! The binary as a Lambda function behind a local Lambda Runtime API (wiremock on loopback):
//! payloads that are no JSON value answer `InvalidEvent` (not the runtime's deserializer
//! error), and a cold start that fails tells the Runtime API why (`/runtime/init/error`).

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const NEXT: &str = "/2018-06-01/runtime/invocation/next";

/// The function process, pointed at `api`, with the environment Lambda would give it.
fn function(api: &MockServer, extra: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_fivexx"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_LAMBDA_RUNTIME_API", api.address().to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", "fivexx")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        // Nothing listens there: these invocations must not reach AWS.
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (k, v) in extra {
        cmd.env(k, v);
    }
    cmd
}

fn deadline_ms() -> String {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    (now + Duration::from_secs(30)).as_millis().to_string()
}

/// Requests the function sent to `path_prefix`.
async fn sent(api: &MockServer, path_prefix: &str) -> Vec<Request> {
    api.received_requests()
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|r| r.url.path().starts_with(path_prefix))
        .collect()
}

#[tokio::test]
async fn unreadable_payloads_answer_invalid_event() {
    let api = MockServer::start().await;
    let deep = "[".repeat(200) + &"]".repeat(200);
    let bodies: Vec<Vec<u8>> = vec![
        b"not json at all".to_vec(),
        br#"{"Records": [{"EventSource": "aws:sns", "Sns": {"#.to_vec(),
        b"{\"alarmData\": \"\xff\xfe\"}".to_vec(),
        deep.into_bytes(),
    ];
    for (i, body) in bodies.iter().enumerate() {
        Mock::given(method("GET"))
            .and(path(NEXT))
            .respond_with(
                ResponseTemplate::new(200)
                    .insert_header("Lambda-Runtime-Aws-Request-Id", format!("req-{i}").as_str())
                    .insert_header("Lambda-Runtime-Deadline-Ms", deadline_ms().as_str())
                    .insert_header(
                        "Lambda-Runtime-Invoked-Function-Arn",
                        "arn:aws:lambda:us-east-1:123456789012:function:fivexx",
                    )
                    .set_body_raw(body.clone(), "application/json"),
            )
            .up_to_n_times(1)
            .with_priority(u8::try_from(i + 1).unwrap())
            .mount(&api)
            .await;
    }
    // Once the payloads are served, `next` hangs: the test stops the process.
    Mock::given(method("GET"))
        .and(path(NEXT))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(60)))
        .with_priority(100)
        .mount(&api)
        .await;
    Mock::given(method("POST"))
        .and(path_regex(
            r"^/2018-06-01/runtime/invocation/[^/]+/(error|response)$",
        ))
        .respond_with(ResponseTemplate::new(202))
        .mount(&api)
        .await;
    let mut child = function(
        &api,
        &[(
            "FIVEXX_SNS_TOPIC_ARN",
            "arn:aws:sns:us-east-1:123456789012:t",
        )],
    )
    .spawn()
    .unwrap();
    let started = std::time::Instant::now();
    while sent(&api, "/2018-06-01/runtime/invocation/req-")
        .await
        .len()
        < bodies.len()
        && started.elapsed() < Duration::from_secs(30)
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    let answers = sent(&api, "/2018-06-01/runtime/invocation/req-").await;
    assert_eq!(answers.len(), bodies.len(), "one answer per payload");
    for a in answers {
        assert!(a.url.path().ends_with("/error"), "{}", a.url.path());
        let body: Value = serde_json::from_slice(&a.body).unwrap();
        assert_eq!(body["errorType"], "InvalidEvent", "{body}");
        let message = body["errorMessage"].as_str().unwrap();
        assert!(
            message.starts_with("invalid event: not JSON: line "),
            "{message}"
        );
    }
}

#[tokio::test]
async fn a_failed_cold_start_reports_its_reason() {
    let api = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/2018-06-01/runtime/init/error"))
        .respond_with(ResponseTemplate::new(202))
        .mount(&api)
        .await;
    // No Slack and no topic: the configuration is unusable.
    let out = function(&api, &[]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let reports = sent(&api, "/2018-06-01/runtime/init/error").await;
    assert_eq!(reports.len(), 1);
    let r = &reports[0];
    assert_eq!(
        r.headers
            .get("Lambda-Runtime-Function-Error-Type")
            .and_then(|v| v.to_str().ok()),
        Some("ConfigError")
    );
    let body: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(body["errorType"], "ConfigError");
    assert!(
        body["errorMessage"]
            .as_str()
            .unwrap()
            .contains("notification channel"),
        "{body}"
    );
    // A Slack API URL that only looks like loopback is refused at cold start as well.
    for url in [
        "http://127.0.0.1.evil.example/api",
        "http://127.0.0.1@evil.example/api",
    ] {
        let out = function(
            &api,
            &[
                (
                    "FIVEXX_SNS_TOPIC_ARN",
                    "arn:aws:sns:us-east-1:123456789012:t",
                ),
                ("FIVEXX_SLACK_API_URL", url),
            ],
        )
        .output()
        .unwrap();
        assert_eq!(out.status.code(), Some(1), "{url}");
    }
    assert_eq!(sent(&api, "/2018-06-01/runtime/init/error").await.len(), 3);
}
