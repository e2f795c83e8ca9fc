//! The Lambda end to end, in process: the handler with its real clients against moto server
//! (SNS with an SQS subscription to read the message back, Secrets Manager for the webhook URL)
//! and a local HTTP sink (wiremock) standing in for Slack. Also Slack's retry policy, and that
//! no webhook URL reaches an error or a log line.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/moto.rs"]
mod moto;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use fivexx::config::Config;
use fivexx::lambda::App;
use fivexx::notify::deliver::{DeliveryError, http_client_builder, post_slack};
use serde_json::{Value, json};
use tokio::time::Instant;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use moto::MotoServer;

const HOOK_PATH: &str = "/services/T0SECRET/B0SECRET/xoxWebhookSecretPart";

fn event(name: &str) -> Value {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("events")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

fn config(pairs: &[(&str, String)]) -> Config {
    let map: std::collections::HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    Config::from_lookup(|k| map.get(k).cloned()).unwrap()
}

/// A topic with an SQS queue subscribed, and a secret holding the webhook URL.
struct Sinks {
    topic_arn: String,
    queue_url: String,
    sqs: aws_sdk_sqs::Client,
}

async fn sinks(moto: &MotoServer, webhook: &str) -> Sinks {
    let cfg = moto.sdk_config().await;
    let sns = aws_sdk_sns::Client::new(&cfg);
    let sqs = aws_sdk_sqs::Client::new(&cfg);
    let secrets = aws_sdk_secretsmanager::Client::new(&cfg);
    let topic_arn = sns
        .create_topic()
        .name("fivexx-verdicts")
        .send()
        .await
        .unwrap()
        .topic_arn()
        .unwrap()
        .to_owned();
    let queue_url = sqs
        .create_queue()
        .queue_name("verdicts")
        .send()
        .await
        .unwrap()
        .queue_url()
        .unwrap()
        .to_owned();
    let queue_arn = "arn:aws:sqs:us-east-1:123456789012:verdicts";
    sns.subscribe()
        .topic_arn(&topic_arn)
        .protocol("sqs")
        .endpoint(queue_arn)
        .send()
        .await
        .unwrap();
    secrets
        .create_secret()
        .name("fivexx/slack-webhook")
        .secret_string(json!({ "url": webhook }).to_string())
        .send()
        .await
        .unwrap();
    Sinks {
        topic_arn,
        queue_url,
        sqs,
    }
}

/// The function configured with the webhook secret and the topic of `sinks`.
async fn slack_and_sns_app(moto: &MotoServer, s: &Sinks) -> App {
    App::with_sdk_config(
        config(&[
            ("FIVEXX_SLACK_WEBHOOK_SECRET", "fivexx/slack-webhook".into()),
            ("FIVEXX_SNS_TOPIC_ARN", s.topic_arn.clone()),
        ]),
        moto.sdk_config().await,
    )
    .unwrap()
}

async fn read_queue(s: &Sinks) -> Vec<Value> {
    let out = s
        .sqs
        .receive_message()
        .queue_url(&s.queue_url)
        .max_number_of_messages(10)
        .send()
        .await
        .unwrap();
    out.messages()
        .iter()
        .map(|m| serde_json::from_str(m.body().unwrap()).unwrap())
        .collect()
}

/// Captures every log line written while it is the default subscriber.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// Every log line of this test binary, from a global subscriber installed once.
///
/// Global, not per-thread: with `set_default`, a callsite first reached on another test's
/// thread can cache "no interest" and drop lines (seen on CI). Every test calls this first, so
/// the subscriber exists before anything logs; assertions look for their own alarm's lines.
fn capture_logs() -> Captured {
    static LOGS: std::sync::OnceLock<Captured> = std::sync::OnceLock::new();
    LOGS.get_or_init(|| {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .with_max_level(tracing::Level::DEBUG)
            .finish();
        tracing::subscriber::set_global_default(subscriber).unwrap();
        captured
    })
    .clone()
}

#[tokio::test]
async fn an_alarm_reaches_slack_and_sns() {
    let logs = capture_logs();
    let moto = MotoServer::start();
    let slack = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(HOOK_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .expect(1)
        .mount(&slack)
        .await;
    let webhook = format!("{}{HOOK_PATH}", slack.uri());
    let s = sinks(&moto, &webhook).await;
    let app = slack_and_sns_app(&moto, &s).await;
    let out = app
        .handle(
            &event("direct-alb-5xx.json"),
            Instant::now() + Duration::from_secs(30),
        )
        .await
        .unwrap();
    assert_eq!(out["slack"], "delivered", "{out}");
    assert_eq!(out["sns"], "delivered", "{out}");
    // moto has no such load balancer: the verdict says what it could not read.
    assert_eq!(out["status"], "inconclusive");

    let received = slack.received_requests().await.unwrap();
    assert_eq!(received.len(), 1);
    let body: Value = serde_json::from_slice(&received[0].body).unwrap();
    assert!(
        body["blocks"][0]["text"]["text"]
            .as_str()
            .unwrap()
            .contains("web-alb-5xx")
    );

    let messages = read_queue(&s).await;
    assert_eq!(messages.len(), 1, "{messages:?}");
    let m = &messages[0];
    assert!(
        m["Subject"]
            .as_str()
            .unwrap()
            .starts_with("fivexx INCONCLUSIVE web-alb-5xx")
    );
    assert!(m["Message"].as_str().unwrap().contains("could not read"));
    assert_eq!(m["MessageAttributes"]["status"]["Value"], "inconclusive");

    let text = logs.text();
    let line = text
        .lines()
        .find(|l| l.contains(" triage ") && l.contains("alarm=web-alb-5xx"))
        .unwrap_or_else(|| panic!("one line per triage: {text}"));
    for field in [
        "status=",
        "top_rule=",
        "confidence=",
        "api_calls=",
        "round_trips=",
        "elapsed_ms=",
    ] {
        assert!(line.contains(field), "{field} missing from: {line}");
    }
    assert!(!text.contains("xoxWebhookSecretPart"), "{text}");
}

#[tokio::test]
async fn ignored_transitions_post_nothing() {
    capture_logs();
    let slack = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .expect(0)
        .mount(&slack)
        .await;
    let moto = MotoServer::start();
    let s = sinks(&moto, &format!("{}{HOOK_PATH}", slack.uri())).await;
    let app = slack_and_sns_app(&moto, &s).await;
    let out = app
        .handle(
            &event("direct-insufficient-data-to-ok.json"),
            Instant::now() + Duration::from_secs(30),
        )
        .await
        .unwrap();
    assert_eq!(out["status"], "ignored");
    assert!(out["slack"].is_null());
    assert!(read_queue(&s).await.is_empty());
}

#[tokio::test]
async fn an_unusable_event_is_an_invalid_event_error() {
    capture_logs();
    let moto = MotoServer::start();
    let app = App::with_sdk_config(
        config(&[(
            "FIVEXX_SNS_TOPIC_ARN",
            "arn:aws:sns:us-east-1:123456789012:nope".into(),
        )]),
        moto.sdk_config().await,
    )
    .unwrap();
    let err = app
        .handle(
            &json!({"Records": [{"eventSource": "aws:s3"}]}),
            Instant::now() + Duration::from_secs(5),
        )
        .await
        .unwrap_err();
    let d: lambda_runtime::Diagnostic = err.into();
    assert_eq!(d.error_type, "InvalidEvent");
    assert!(d.error_message.contains("aws:s3"));
}

#[tokio::test]
async fn every_channel_failing_fails_the_invocation_without_leaking_the_url() {
    let logs = capture_logs();
    let moto = MotoServer::start();
    let slack = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(404).set_body_string("no_service"))
        .mount(&slack)
        .await;
    let webhook = format!("{}{HOOK_PATH}", slack.uri());
    let s = sinks(&moto, &webhook).await;
    let app = App::with_sdk_config(
        config(&[
            ("FIVEXX_SLACK_WEBHOOK_SECRET", "fivexx/slack-webhook".into()),
            // A topic that does not exist: SNS fails too.
            (
                "FIVEXX_SNS_TOPIC_ARN",
                "arn:aws:sns:us-east-1:123456789012:missing".into(),
            ),
        ]),
        moto.sdk_config().await,
    )
    .unwrap();
    let _ = s;
    let err = app
        .handle(
            &event("sns-alb-5xx.json"),
            Instant::now() + Duration::from_secs(30),
        )
        .await
        .unwrap_err();
    let d: lambda_runtime::Diagnostic = err.into();
    assert_eq!(d.error_type, "NotifyFailed");
    assert!(d.error_message.contains("slack"), "{}", d.error_message);
    assert!(d.error_message.contains("sns"), "{}", d.error_message);
    for leak in ["xoxWebhookSecretPart", "T0SECRET"] {
        assert!(!d.error_message.contains(leak), "{}", d.error_message);
        assert!(!logs.text().contains(leak), "{}", logs.text());
    }
}

fn payload() -> Value {
    json!({"text": "t", "blocks": []})
}

/// Posts `payload()` to a Slack stand-in that always gives `answer`, with `seconds` until the
/// deadline: the outcome and how many requests Slack received.
async fn post_to_slack_answering(
    answer: ResponseTemplate,
    seconds: u64,
) -> (Result<u32, DeliveryError>, usize) {
    let slack = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(answer)
        .mount(&slack)
        .await;
    let http = http_client_builder().build().unwrap();
    let url = format!("{}{HOOK_PATH}", slack.uri());
    let outcome = post_slack(
        &http,
        &url,
        None,
        &payload(),
        Instant::now() + Duration::from_secs(seconds),
    )
    .await;
    (outcome, slack.received_requests().await.unwrap().len())
}

#[tokio::test]
async fn slack_retries_on_500_then_succeeds() {
    capture_logs();
    let slack = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(2)
        .mount(&slack)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .mount(&slack)
        .await;
    let http = http_client_builder().build().unwrap();
    let url = format!("{}{HOOK_PATH}", slack.uri());
    let attempts = post_slack(
        &http,
        &url,
        None,
        &payload(),
        Instant::now() + Duration::from_secs(20),
    )
    .await
    .unwrap();
    assert_eq!(attempts, 3);
    assert_eq!(slack.received_requests().await.unwrap().len(), 3);
}

#[tokio::test]
async fn slack_429_waits_for_retry_after() {
    capture_logs();
    let slack = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "2"))
        .up_to_n_times(1)
        .mount(&slack)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .mount(&slack)
        .await;
    let http = http_client_builder().build().unwrap();
    let url = format!("{}{HOOK_PATH}", slack.uri());
    let started = std::time::Instant::now();
    let attempts = post_slack(
        &http,
        &url,
        None,
        &payload(),
        Instant::now() + Duration::from_secs(20),
    )
    .await
    .unwrap();
    assert_eq!(attempts, 2);
    // A lower bound only: the retry came no sooner than Slack asked.
    assert!(started.elapsed() >= Duration::from_secs(2));
}

#[tokio::test]
async fn slack_429_beyond_the_deadline_gives_up_at_once() {
    capture_logs();
    let (outcome, requests) = post_to_slack_answering(
        ResponseTemplate::new(429).insert_header("Retry-After", "120"),
        10,
    )
    .await;
    assert_eq!(outcome, Err(DeliveryError::RateLimited(120)));
    assert_eq!(requests, 1);
}

#[tokio::test]
async fn slack_400_is_not_retried() {
    capture_logs();
    let (outcome, requests) = post_to_slack_answering(
        ResponseTemplate::new(400).set_body_string("invalid_blocks"),
        10,
    )
    .await;
    assert_eq!(
        outcome,
        Err(DeliveryError::Status {
            status: 400,
            body: "invalid_blocks".into()
        })
    );
    assert_eq!(requests, 1);
}

#[tokio::test]
async fn slack_web_api_200_with_an_error_is_a_failure() {
    capture_logs();
    let slack = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/chat.postMessage"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"ok": false, "error": "not_in_channel"})),
        )
        .mount(&slack)
        .await;
    let http = http_client_builder().build().unwrap();
    let url = format!("{}/chat.postMessage", slack.uri());
    let err = post_slack(
        &http,
        &url,
        Some("xoxb-token"),
        &payload(),
        Instant::now() + Duration::from_secs(10),
    )
    .await
    .unwrap_err();
    assert_eq!(err, DeliveryError::Rejected("not_in_channel".into()));
    let req = &slack.received_requests().await.unwrap()[0];
    assert_eq!(
        req.headers.get("authorization").unwrap().to_str().unwrap(),
        "Bearer xoxb-token"
    );
}

#[tokio::test]
async fn transport_errors_never_carry_the_url() {
    capture_logs();
    // A closed port on loopback: the connection is refused.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}{HOOK_PATH}");
    let http = http_client_builder().build().unwrap();
    let err = post_slack(
        &http,
        &url,
        None,
        &payload(),
        Instant::now() + Duration::from_secs(3),
    )
    .await
    .unwrap_err();
    let text = err.to_string();
    assert!(!text.contains("xoxWebhookSecretPart"), "{text}");
    assert!(!text.contains(&port.to_string()), "{text}");
}

#[cfg(feature = "ssm")]
#[tokio::test]
async fn a_bot_token_from_parameter_store_posts_to_the_channel() {
    capture_logs();
    let moto = MotoServer::start();
    let cfg = moto.sdk_config().await;
    aws_sdk_ssm::Client::new(&cfg)
        .put_parameter()
        .name("/fivexx/slack-bot-token")
        .value("xoxb-from-parameter-store")
        .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
        .send()
        .await
        .unwrap();
    let slack = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/chat.postMessage"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": true, "ts": "1.2"})))
        .expect(2)
        .mount(&slack)
        .await;
    let app = App::with_sdk_config(
        config(&[
            (
                "FIVEXX_SLACK_BOT_TOKEN_PARAMETER",
                "/fivexx/slack-bot-token".into(),
            ),
            ("FIVEXX_SLACK_CHANNEL", "C0ONCALL".into()),
            ("FIVEXX_SLACK_API_URL", format!("{}/api", slack.uri())),
        ]),
        cfg,
    )
    .unwrap();
    // Two invocations: the token is read once and cached for the warm one.
    for ev in ["sns-alb-5xx.json", "eventbridge-alb-ok.json"] {
        let out = app
            .handle(&event(ev), Instant::now() + Duration::from_secs(30))
            .await
            .unwrap();
        assert_eq!(out["slack"], "delivered", "{ev}: {out}");
        assert!(out["sns"].is_null());
    }
    let received = slack.received_requests().await.unwrap();
    let body: Value = serde_json::from_slice(&received[0].body).unwrap();
    assert_eq!(body["channel"], "C0ONCALL");
    assert_eq!(
        received[0]
            .headers
            .get("authorization")
            .unwrap()
            .to_str()
            .unwrap(),
        "Bearer xoxb-from-parameter-store"
    );
    let resolved: Value = serde_json::from_slice(&received[1].body).unwrap();
    assert!(resolved["text"].as_str().unwrap().contains("Resolved"));
}

/// Defects 1 and 7 end to end in Lambda mode: a region of `<!channel>` in the alarm ARN and
/// the envelope reached Slack raw inside console links, and a line break in the alarm name
/// forged log lines in the text log format.
#[tokio::test]
async fn hostile_alarm_text_reaches_neither_slack_markup_nor_the_log() {
    let logs = capture_logs();
    let moto = MotoServer::start();
    let slack = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(HOOK_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .mount(&slack)
        .await;
    let webhook = format!("{}{HOOK_PATH}", slack.uri());
    let s = sinks(&moto, &webhook).await;
    let app = slack_and_sns_app(&moto, &s).await;
    let mut ev = event("direct-alb-5xx.json");
    ev["alarmArn"] = json!("arn:aws:cloudwatch:<!channel>:123456789012:alarm:web-alb-5xx");
    ev["region"] = json!("<!here>");
    ev["alarmData"]["alarmName"] = json!("web-alb-5xx-hostile\nlevel=ERROR forged=yes\u{1b}[2J");
    let out = app
        .handle(&ev, Instant::now() + Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(out["slack"], "delivered", "{out}");
    let received = slack.received_requests().await.unwrap();
    let body = String::from_utf8_lossy(&received[0].body).into_owned();
    for bad in ["<!channel>", "<!here>", "\\u001b"] {
        assert!(!body.contains(bad), "`{bad}` in {body}");
    }
    let text = logs.text();
    assert!(
        text.lines()
            .any(|l| l.contains("web-alb-5xx-hostile level=ERROR")),
        "{text}"
    );
    assert!(
        !text.lines().any(|l| l.starts_with("level=ERROR forged")),
        "{text}"
    );
    let messages = read_queue(&s).await;
    let m = messages[0]["Message"].as_str().unwrap();
    assert!(!m.contains('\u{1b}'), "{m}");
}

/// Defect 11: after five 429s the error said the retry was "past the deadline" with 26 s left.
#[tokio::test]
async fn slack_429_on_every_attempt_says_so() {
    capture_logs();
    let (outcome, requests) = post_to_slack_answering(
        ResponseTemplate::new(429).insert_header("Retry-After", "1"),
        30,
    )
    .await;
    let err = outcome.unwrap_err();
    assert_eq!(
        err,
        DeliveryError::RateLimitedTooOften {
            attempts: 5,
            retry_after: 1
        }
    );
    assert!(!err.to_string().contains("deadline"), "{err}");
    assert_eq!(requests, 5);
}

/// Defect 10: a Slack endpoint (or a proxy) that echoes the request path in its error body
/// put the webhook path into the logs and the invocation result.
#[tokio::test]
async fn slack_answers_echoing_the_webhook_are_not_kept() {
    let logs = capture_logs();
    for (status, body) in [
        (404, format!("no route for POST {HOOK_PATH}")),
        (200, format!("unknown hook {HOOK_PATH}")),
        (503, format!("upstream {HOOK_PATH} down")),
    ] {
        let answer = ResponseTemplate::new(status).set_body_string(body);
        let err = post_to_slack_answering(answer, 3).await.0.unwrap_err();
        assert!(!err.to_string().contains("xoxWebhookSecretPart"), "{err}");
        assert!(!err.to_string().contains("B0SECRET"), "{err}");
    }
    assert!(!logs.text().contains("xoxWebhookSecretPart"));
}
