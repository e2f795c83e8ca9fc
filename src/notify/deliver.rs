//! Delivery: posting a rendered verdict to Slack and publishing it to SNS.
//!
//! Slack: an incoming webhook or `chat.postMessage`. Retries on 429 (honouring `Retry-After`)
//! and on 5xx or transport errors with exponential backoff, all before `until`; no retry on
//! other 4xx; a 200 whose body is not a success (`ok` for webhooks, `{"ok": true}` for the Web
//! API) is a failure. Secrets are read once and cached for warm invocations. No URL, token or
//! secret value ever reaches an error message or a log line: HTTP errors are stripped of their
//! URL before they are kept.

use std::time::Duration;

use aws_sdk_sns::types::MessageAttributeValue;
use serde_json::Value;
use thiserror::Error;
use tokio::sync::OnceCell;
use tokio::time::Instant;

use super::{slack, sns};
use crate::config::{Config, SecretRef, SlackTarget};
use crate::verdict::Verdict;

/// At most this many attempts per Slack message.
pub(crate) const MAX_ATTEMPTS: u32 = 5;
/// First backoff after a 5xx or a transport error; doubles each time.
pub(crate) const FIRST_BACKOFF: Duration = Duration::from_millis(250);

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum DeliveryError {
    #[error("slack answered HTTP {status}: `{body}`")]
    Status { status: u16, body: String },
    #[error("slack answered 200 with an error: `{0}`")]
    Rejected(String),
    #[error("slack rate limit: retry after {0} s is past the deadline")]
    RateLimited(u64),
    #[error(
        "slack rate limit: still HTTP 429 after {attempts} attempts (last `Retry-After`: {retry_after} s)"
    )]
    RateLimitedTooOften { attempts: u32, retry_after: u64 },
    #[error("no answer from slack: {0}")]
    Transport(String),
    #[error("no time left before the lambda deadline after {0} attempts")]
    Deadline(u32),
    #[error("cannot read the slack secret `{which}`: {code}")]
    Secret { which: String, code: String },
    #[error("sns publish to `{topic}` failed: {code}")]
    Sns { topic: String, code: String },
}

/// What happened on each configured channel.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Report {
    /// Slack attempts made, or why it failed; `None` when Slack is not configured.
    pub slack: Option<Result<u32, DeliveryError>>,
    /// The SNS message id, or why it failed; `None` when SNS is not configured.
    pub sns: Option<Result<String, DeliveryError>>,
    /// The Slack message posted with the bot token (its channel and timestamp), which an
    /// incident keeps to thread and update.
    pub slack_message: Option<SlackMessage>,
}

/// A Slack message, as the Web API names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SlackMessage {
    pub channel: String,
    pub ts: String,
}

/// Where a verdict goes in Slack beyond a new message (bot token only: a webhook cannot
/// thread or update, and posts as usual).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct SlackPlan {
    /// Post this instead of the verdict's message (a thread reply's content).
    pub message: Option<Value>,
    /// Post as a reply in this message's thread.
    pub reply_to: Option<SlackMessage>,
    /// Then replace this message (the incident's parent) with the given content.
    pub update: Option<(SlackMessage, Value)>,
}

impl Report {
    /// Every configured channel failed (and at least one was configured).
    pub(crate) fn all_failed(&self) -> bool {
        let outcomes: Vec<bool> = [
            self.slack.as_ref().map(Result::is_ok),
            self.sns.as_ref().map(Result::is_ok),
        ]
        .into_iter()
        .flatten()
        .collect();
        !outcomes.is_empty() && outcomes.iter().all(|ok| !ok)
    }
}

/// Clients and configuration, built once at cold start.
pub(crate) struct Delivery {
    http: reqwest::Client,
    sns: aws_sdk_sns::Client,
    secrets: aws_sdk_secretsmanager::Client,
    #[cfg(feature = "ssm")]
    ssm: aws_sdk_ssm::Client,
    config: Config,
    slack_secret: OnceCell<String>,
}

fn short(s: &str) -> String {
    crate::error::short(s)
}

/// A secret's string: the value itself, or a JSON object's `url` / `webhook_url` / `token` /
/// `bot_token` member.
pub(crate) fn secret_value(raw: &str) -> String {
    let trimmed = raw.trim();
    if trimmed.starts_with('{')
        && let Ok(Value::Object(map)) = serde_json::from_str::<Value>(trimmed)
    {
        for key in ["url", "webhook_url", "token", "bot_token"] {
            if let Some(Value::String(v)) = map.get(key) {
                return v.trim().to_owned();
            }
        }
    }
    trimmed.to_owned()
}

/// A reqwest client builder with ring as the TLS crypto provider. reqwest is built without one
/// (`rustls-no-provider`, so that aws-lc-rs is not compiled in) and panics when no process
/// default is installed: this installs ring, the provider the AWS clients use, first.
pub fn http_client_builder() -> reqwest::ClientBuilder {
    // An error means a provider is installed already (an earlier call did it): keep that one.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
}

impl Delivery {
    pub(crate) fn new(config: Config, sdk: &aws_config::SdkConfig) -> Result<Self, DeliveryError> {
        let http = http_client_builder()
            .connect_timeout(Duration::from_secs(3))
            .timeout(Duration::from_secs(8))
            .user_agent(concat!("fivexx/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| DeliveryError::Transport(short(&e.without_url().to_string())))?;
        Ok(Self {
            http,
            sns: aws_sdk_sns::Client::new(sdk),
            secrets: aws_sdk_secretsmanager::Client::new(sdk),
            #[cfg(feature = "ssm")]
            ssm: aws_sdk_ssm::Client::new(sdk),
            config,
            slack_secret: OnceCell::new(),
        })
    }

    pub(crate) fn config(&self) -> &Config {
        &self.config
    }

    async fn read_secret(&self, r: &SecretRef) -> Result<String, DeliveryError> {
        let fail = |code: String| DeliveryError::Secret {
            which: r.describe(),
            code,
        };
        let raw = match r {
            SecretRef::SecretsManager(id) => self
                .secrets
                .get_secret_value()
                .secret_id(id)
                .send()
                .await
                .map_err(|e| fail(aws_code(&e)))?
                .secret_string()
                .map(str::to_owned),
            #[cfg(feature = "ssm")]
            SecretRef::Parameter(name) => self
                .ssm
                .get_parameter()
                .name(name)
                .with_decryption(true)
                .send()
                .await
                .map_err(|e| fail(aws_code(&e)))?
                .parameter()
                .and_then(|p| p.value())
                .map(str::to_owned),
            // Config::from_env refuses a parameter in a build without the feature.
            #[cfg(not(feature = "ssm"))]
            SecretRef::Parameter(_) => {
                return Err(fail("this build has no Parameter Store support".into()));
            }
        };
        let value = raw.map(|s| secret_value(&s)).unwrap_or_default();
        if value.is_empty() {
            return Err(fail("the secret is empty".into()));
        }
        Ok(value)
    }

    /// The Slack secret, read on first use and kept for warm invocations.
    async fn slack_secret(&self, r: &SecretRef) -> Result<&str, DeliveryError> {
        self.slack_secret
            .get_or_try_init(|| self.read_secret(r))
            .await
            .map(String::as_str)
    }

    /// Posts and publishes the verdict on every configured channel, concurrently; in Slack
    /// where the incident's `plan` says (a new message by default).
    pub(crate) async fn deliver(&self, v: &Verdict, until: Instant, plan: &SlackPlan) -> Report {
        let slack = async {
            match &self.config.slack {
                Some(target) => Some(self.to_slack(target, v, until, plan).await),
                None => None,
            }
        };
        let sns = async {
            match &self.config.sns_topic_arn {
                Some(topic) => Some(self.to_sns(topic, v, until).await),
                None => None,
            }
        };
        let (slack, sns) = futures::join!(slack, sns);
        let (slack, slack_message) = match slack {
            Some(Ok((attempts, message))) => (Some(Ok(attempts)), message),
            Some(Err(e)) => (Some(Err(e)), None),
            None => (None, None),
        };
        Report {
            slack,
            sns,
            slack_message,
        }
    }

    async fn to_slack(
        &self,
        target: &SlackTarget,
        v: &Verdict,
        until: Instant,
        plan: &SlackPlan,
    ) -> Result<(u32, Option<SlackMessage>), DeliveryError> {
        let mut payload = plan.message.clone().unwrap_or_else(|| slack::message(v));
        match target {
            SlackTarget::Webhook(secret) => {
                let url = self.slack_secret(secret).await?.to_owned();
                let attempts = post_slack(&self.http, &url, None, &payload, until).await?;
                Ok((attempts, None))
            }
            SlackTarget::Bot { token, channel } => {
                let token = self.slack_secret(token).await?.to_owned();
                if let Some(obj) = payload.as_object_mut() {
                    let (to, thread) = match &plan.reply_to {
                        Some(m) => (m.channel.clone(), Some(m.ts.clone())),
                        None => (channel.clone(), None),
                    };
                    obj.insert("channel".into(), Value::String(to));
                    if let Some(ts) = thread {
                        obj.insert("thread_ts".into(), Value::String(ts));
                    }
                }
                let url = format!("{}/chat.postMessage", self.config.slack_api_url);
                let (attempts, body) =
                    send_slack(&self.http, &url, Some(&token), &payload, until).await?;
                let posted = serde_json::from_str::<Value>(&body).ok().and_then(|b| {
                    Some(SlackMessage {
                        channel: b.get("channel")?.as_str()?.to_owned(),
                        ts: b.get("ts")?.as_str()?.to_owned(),
                    })
                });
                if let Some((parent, content)) = &plan.update {
                    let mut update = content.clone();
                    if let Some(obj) = update.as_object_mut() {
                        obj.insert("channel".into(), Value::String(parent.channel.clone()));
                        obj.insert("ts".into(), Value::String(parent.ts.clone()));
                    }
                    let url = format!("{}/chat.update", self.config.slack_api_url);
                    // The reply is out: a failed update leaves the parent as it was, which
                    // the log says, but is no failure of the delivery.
                    if let Err(e) = send_slack(&self.http, &url, Some(&token), &update, until).await
                    {
                        tracing::warn!(error = %e, "could not update the incident's message");
                    }
                }
                Ok((attempts, posted))
            }
        }
    }

    async fn to_sns(
        &self,
        topic: &str,
        v: &Verdict,
        until: Instant,
    ) -> Result<String, DeliveryError> {
        let input = sns::publish_input(v, Some(topic), self.config.sns_chat_notification);
        let fail = |code: String| DeliveryError::Sns {
            topic: topic.to_owned(),
            code,
        };
        let mut attrs = std::collections::HashMap::new();
        for (k, a) in &input.message_attributes {
            let value = MessageAttributeValue::builder()
                .data_type(&a.data_type)
                .string_value(&a.string_value)
                .build()
                .map_err(|e| fail(short(&e.to_string())))?;
            attrs.insert(k.clone(), value);
        }
        let send = self
            .sns
            .publish()
            .topic_arn(topic)
            .subject(&input.subject)
            .message(&input.message)
            .set_message_structure(input.message_structure.clone())
            .set_message_attributes(Some(attrs))
            .send();
        match tokio::time::timeout_at(until, send).await {
            Ok(Ok(out)) => Ok(out.message_id().unwrap_or_default().to_owned()),
            Ok(Err(e)) => Err(fail(aws_code(&e))),
            Err(_) => Err(fail("no answer before the lambda deadline".into())),
        }
    }
}

/// An AWS error's code (never its request).
fn aws_code<E: aws_smithy_types::error::metadata::ProvideErrorMetadata>(e: &E) -> String {
    match (e.code(), e.message()) {
        (Some(c), Some(m)) => format!("{c}: {}", short(m)),
        (Some(c), None) => c.to_owned(),
        _ => "an error without an AWS code".into(),
    }
}

/// `Retry-After` in whole seconds (Slack sends seconds), at least 1.
fn retry_after(resp: &reqwest::Response) -> u64 {
    resp.headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(1)
        .max(1)
}

/// What is kept of a Slack answer's body for an error: nothing when it quotes the request's
/// URL (a webhook URL is a credential: its path is the secret), its path, or the token, as an
/// echoing endpoint or proxy would; else the body, shortened.
fn keep_body(body: &str, url: &str, token: Option<&str>) -> String {
    let path = url
        .split_once("://")
        .and_then(|(_, rest)| rest.find('/').map(|i| &rest[i..]))
        .unwrap_or_default();
    let last = path.rsplit('/').next().unwrap_or_default();
    let secrets = [Some(url), Some(path), Some(last), token];
    let quoted = secrets
        .into_iter()
        .flatten()
        .filter(|s| s.len() >= 8)
        .any(|s| body.contains(s));
    if quoted {
        "(the answer quotes the request's URL or token: not kept)".into()
    } else {
        short(body)
    }
}

/// Posts one Slack payload with the retry policy above; returns the attempts made.
pub async fn post_slack(
    http: &reqwest::Client,
    url: &str,
    token: Option<&str>,
    payload: &Value,
    until: Instant,
) -> Result<u32, DeliveryError> {
    send_slack(http, url, token, payload, until)
        .await
        .map(|(attempts, _)| attempts)
}

/// [`post_slack`], also returning the body of the successful answer (the Web API's
/// `{"ok": true, "channel": ..., "ts": ...}`).
async fn send_slack(
    http: &reqwest::Client,
    url: &str,
    token: Option<&str>,
    payload: &Value,
    until: Instant,
) -> Result<(u32, String), DeliveryError> {
    let mut backoff = FIRST_BACKOFF;
    let mut last = DeliveryError::Deadline(0);
    for attempt in 1..=MAX_ATTEMPTS {
        if Instant::now() >= until {
            return Err(DeliveryError::Deadline(attempt - 1));
        }
        let mut req = http.post(url).json(payload);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = match tokio::time::timeout_at(until, req.send()).await {
            Err(_) => return Err(DeliveryError::Deadline(attempt)),
            Ok(Err(e)) => {
                // Never keep the URL: a webhook URL is a credential.
                last = DeliveryError::Transport(short(&e.without_url().to_string()));
                None
            }
            Ok(Ok(r)) => Some(r),
        };
        let wait = match resp {
            None => backoff,
            Some(r) => {
                let status = r.status().as_u16();
                match status {
                    200..=299 => {
                        let body = r.text().await.unwrap_or_default();
                        return slack_body_ok(token.is_some(), &body)
                            .map(|()| (attempt, body))
                            .map_err(|e| match e {
                                DeliveryError::Rejected(kept) => {
                                    DeliveryError::Rejected(keep_body(&kept, url, token))
                                }
                                other => other,
                            });
                    }
                    429 => {
                        let secs = retry_after(&r);
                        if Instant::now() + Duration::from_secs(secs) >= until {
                            return Err(DeliveryError::RateLimited(secs));
                        }
                        last = DeliveryError::RateLimited(secs);
                        Duration::from_secs(secs)
                    }
                    500..=599 => {
                        let body = r.text().await.unwrap_or_default();
                        last = DeliveryError::Status {
                            status,
                            body: keep_body(&body, url, token),
                        };
                        backoff
                    }
                    _ => {
                        let body = r.text().await.unwrap_or_default();
                        return Err(DeliveryError::Status {
                            status,
                            body: keep_body(&body, url, token),
                        });
                    }
                }
            }
        };
        if attempt == MAX_ATTEMPTS {
            return Err(match last {
                DeliveryError::RateLimited(retry_after) => DeliveryError::RateLimitedTooOften {
                    attempts: attempt,
                    retry_after,
                },
                other => other,
            });
        }
        if Instant::now() + wait >= until {
            return Err(last);
        }
        tokio::time::sleep(wait).await;
        backoff = backoff.saturating_mul(2);
    }
    Err(last)
}

/// Webhooks answer `ok`; the Web API answers `{"ok": true}` (and 200 with `ok: false` on error).
fn slack_body_ok(web_api: bool, body: &str) -> Result<(), DeliveryError> {
    if web_api {
        let v: Value =
            serde_json::from_str(body).map_err(|_| DeliveryError::Rejected(short(body)))?;
        if v.get("ok").and_then(Value::as_bool) == Some(true) {
            Ok(())
        } else {
            Err(DeliveryError::Rejected(short(
                v.get("error").and_then(Value::as_str).unwrap_or(body),
            )))
        }
    } else if body.trim() == "ok" {
        Ok(())
    } else {
        Err(DeliveryError::Rejected(short(body)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_as_strings_or_json() {
        assert_eq!(
            secret_value(" https://hooks.example/x \n"),
            "https://hooks.example/x"
        );
        assert_eq!(secret_value(r#"{"url": "https://h/x"}"#), "https://h/x");
        assert_eq!(secret_value(r#"{"token": "xoxb-1"}"#), "xoxb-1");
    }

    /// Defect: a Slack endpoint that echoed the request path put the webhook path into the
    /// logs and the invocation result.
    #[test]
    fn bodies_quoting_the_url_or_token_are_not_kept() {
        let url = "https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXX";
        for body in [
            "no route for POST /services/T000/B000/XXXXXXXXXXXXXXXX",
            "bad hook XXXXXXXXXXXXXXXX",
            url,
        ] {
            let kept = keep_body(body, url, None);
            assert!(!kept.contains("XXXXXXXX"), "{kept}");
        }
        let kept = keep_body(
            "invalid token xoxb-1234-secret",
            "https://slack.com/api/chat.postMessage",
            Some("xoxb-1234-secret"),
        );
        assert!(!kept.contains("xoxb"), "{kept}");
        assert_eq!(keep_body("invalid_payload", url, None), "invalid_payload");
    }

    #[test]
    fn slack_bodies() {
        assert!(slack_body_ok(false, "ok").is_ok());
        assert!(slack_body_ok(false, "invalid_payload").is_err());
        assert!(slack_body_ok(true, r#"{"ok":true}"#).is_ok());
        assert_eq!(
            slack_body_ok(true, r#"{"ok":false,"error":"channel_not_found"}"#),
            Err(DeliveryError::Rejected("channel_not_found".into()))
        );
    }

    #[test]
    fn all_failed_needs_every_configured_channel_down() {
        let ok = Report {
            slack: Some(Ok(1)),
            sns: Some(Err(DeliveryError::Deadline(1))),
            slack_message: None,
        };
        assert!(!ok.all_failed());
        let down = Report {
            slack: Some(Err(DeliveryError::Deadline(1))),
            sns: None,
            slack_message: None,
        };
        assert!(down.all_failed());
        assert!(!Report::default().all_failed());
    }
}
