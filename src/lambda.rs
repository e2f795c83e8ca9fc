//! Lambda mode: one alarm payload in, a verdict posted to Slack and SNS.
//!
//! Clients and configuration are built once at cold start and borrowed by every invocation.
//! The Lambda deadline bounds everything: the gathering ends early enough to leave time to
//! notify, and notification retries stop `FIVEXX_DEADLINE_MARGIN_MS` before the deadline.
//! Errors carry a stable `errorType`, so an async invoke's on-failure destination keeps the
//! event of a failed run. With an incident table, `incidents` claims each transition before
//! the triage and records what the post did to the alarm's incident.

use std::panic::AssertUnwindSafe;
use std::time::{Duration, SystemTime};

use futures::FutureExt;

use chrono::Utc;
use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use serde_json::{Value, json};
use thiserror::Error;
use tokio::time::Instant;

use crate::alarm;
use crate::config::{Config, ConfigError};
use crate::evidence::sdk::{AwsSdk, load_sdk_config};
use crate::incident::store::{Incident, IncidentStore};
use crate::notify::deliver::{Delivery, DeliveryError, Report};
use crate::triage::{TriageOptions, triage_examining};
use crate::verdict::{Status, Verdict};

mod incidents;
use incidents::{Held, Step, posted, step, store_code};

/// Time kept for notifying after the gathering.
pub(crate) const NOTIFY_RESERVE: Duration = Duration::from_secs(3);

/// Why an invocation failed. `error_type` is stable: alarms and dashboards match on it.
#[derive(Debug, Error)]
pub enum HandlerError {
    #[error("invalid event: {0}")]
    InvalidEvent(String),
    #[error("every notification channel failed: {0}")]
    NotifyFailed(String),
    /// A bug: no input should reach a panic. The container stays up for the next event.
    #[error("fivexx failed while triaging `{alarm}`: {message}")]
    Panicked { alarm: String, message: String },
}

impl HandlerError {
    pub(crate) fn error_type(&self) -> &'static str {
        match self {
            HandlerError::InvalidEvent(_) => "InvalidEvent",
            HandlerError::NotifyFailed(_) => "NotifyFailed",
            HandlerError::Panicked { .. } => "Panicked",
        }
    }
}

/// Replaces a payload that is no JSON value (not JSON, truncated, invalid UTF-8, nested deeper
/// than serde_json's 128 levels) before the runtime deserializes it, so the handler answers
/// `InvalidEvent` like for any other unusable event, instead of the runtime's own error.
const UNREADABLE: &str = "fivexx:unreadable-payload";

/// The Lambda runtime layer that does the replacement.
#[derive(Clone)]
struct Readable<S>(S);

impl<S> lambda_runtime::Service<lambda_runtime::LambdaInvocation> for Readable<S>
where
    S: lambda_runtime::Service<
            lambda_runtime::LambdaInvocation,
            Response = (),
            Error = lambda_runtime::Error,
        >,
{
    type Response = ();
    type Error = lambda_runtime::Error;
    type Future = S::Future;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, mut invocation: lambda_runtime::LambdaInvocation) -> Self::Future {
        if let Err(reason) = readable(&invocation.body) {
            invocation.body = json!({ UNREADABLE: reason })
                .to_string()
                .into_bytes()
                .into();
        }
        self.0.call(invocation)
    }
}

/// Whether a payload parses as JSON as the runtime will parse it (into a `Value`: skipping
/// with `IgnoredAny` would not check the UTF-8 inside strings); else why not.
fn readable(body: &[u8]) -> Result<(), String> {
    serde_json::from_slice::<Value>(body)
        .map(|_| ())
        .map_err(|e| {
            crate::error::EventError::NotJson(format!(
                "line {} column {}: {}",
                e.line(),
                e.column(),
                crate::error::short(&e.to_string())
            ))
            .to_string()
        })
}

impl From<HandlerError> for Diagnostic {
    fn from(e: HandlerError) -> Self {
        Diagnostic {
            error_type: e.error_type().to_owned(),
            error_message: e.to_string(),
        }
    }
}

/// Cold-start failures: the function cannot start with this configuration.
#[derive(Debug, Error)]
pub enum StartError {
    #[error("configuration: {0}")]
    Config(#[from] ConfigError),
    #[error("clients: {0}")]
    Clients(#[from] DeliveryError),
}

/// Everything built once per container.
pub struct App {
    sdk: AwsSdk,
    delivery: Delivery,
    home_region: String,
    /// The incident store, when `FIVEXX_INCIDENT_TABLE` is set.
    store: Option<IncidentStore>,
}

impl App {
    /// Builds the clients from the SDK's standard configuration.
    pub(crate) async fn new(config: Config) -> Result<Self, StartError> {
        Self::with_sdk_config(config, load_sdk_config().await)
    }

    /// Builds the clients from a given SDK configuration (tests point it at an emulator).
    pub fn with_sdk_config(
        config: Config,
        sdk_config: aws_config::SdkConfig,
    ) -> Result<Self, StartError> {
        let home_region = sdk_config
            .region()
            .map(|r| r.to_string())
            .unwrap_or_else(|| "us-east-1".into());
        let origin_regions = config.origin_regions.clone();
        let store = config.incident_table.as_ref().map(|table| {
            IncidentStore::new(
                aws_sdk_dynamodb::Client::new(&sdk_config),
                table.clone(),
                config.incident_timeout,
            )
        });
        let pacing = config.api_pacing;
        let delivery = Delivery::new(config, &sdk_config)?;
        Ok(Self {
            sdk: {
                let sdk = AwsSdk::new(sdk_config).with_origin_regions(origin_regions);
                if pacing { sdk } else { sdk.without_pacing() }
            },
            delivery,
            home_region,
            store,
        })
    }

    /// Handles one invocation. `lambda_deadline` is when Lambda stops the function.
    pub async fn handle(
        &self,
        payload: &Value,
        lambda_deadline: Instant,
    ) -> Result<Value, HandlerError> {
        guarded(payload, self.handle_event(payload, lambda_deadline)).await
    }

    async fn handle_event(
        &self,
        payload: &Value,
        lambda_deadline: Instant,
    ) -> Result<Value, HandlerError> {
        if let Some(reason) = payload.get(UNREADABLE).and_then(Value::as_str) {
            tracing::warn!(error = %reason, "invalid event");
            return Err(HandlerError::InvalidEvent(reason.to_owned()));
        }
        let alarm = alarm::parse(payload).map_err(|e| {
            tracing::warn!(error = %e, "invalid event");
            HandlerError::InvalidEvent(e.to_string())
        })?;
        let config = self.delivery.config();
        let started = Instant::now();
        let remaining_ms = u64::try_from(
            lambda_deadline
                .saturating_duration_since(started)
                .as_millis(),
        )
        .unwrap_or(u64::MAX);
        tracing::info!(remaining_ms, "invocation");
        let notify_until = lambda_deadline
            .checked_sub(config.deadline_margin)
            .unwrap_or(started);
        let gather_until = (started + config.gather_timeout)
            .min(notify_until.checked_sub(NOTIFY_RESERVE).unwrap_or(started));
        let held = match self.claim(&alarm, lambda_deadline).await {
            Ok(held) => held,
            Err(duplicate) => return Ok(duplicate),
        };
        let opts = TriageOptions {
            now: Utc::now(),
            deadline: gather_until,
            home_region: self.home_region.clone(),
            home_account: alarm.account().map(str::to_owned),
        };
        let incident = self.incident(&held).await;
        let back_to_ok = alarm.state == "OK" && incident.as_ref().is_some_and(Incident::is_open);
        // Boxed: the triage future is deep, and the runtime nests it further. An incident
        // going back to OK is triaged too, to say what changed.
        let mut verdict = match &self.store {
            // Alarms firing together on one resource share what one triage read.
            Some(store) if config.share_evidence => {
                Box::pin(crate::share::triage(
                    &self.sdk, store, &alarm, &opts, back_to_ok,
                ))
                .await
            }
            _ => triage_examining(&self.sdk, &alarm, &opts, back_to_ok).await,
        };
        verdict.stats.elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        log_triage(&verdict);
        if verdict.status == Status::Ignored {
            tracing::info!(alarm = %verdict.alarm.name, reason = %verdict.summary, "nothing posted: ignored (a transition nobody needs, or an alarm on a namespace fivexx does not triage)");
            self.settle(&held, "ignored: nothing posted").await;
            return Ok(outcome(&verdict, None));
        }
        if let Held::Degraded(e) = &held {
            verdict.delivery_notes.push(format!(
                "incident store unavailable ({}): posted without duplicate suppression",
                crate::untrusted::clean(&store_code(e))
            ));
        }
        let mut step = step(
            &alarm,
            &verdict,
            incident.as_ref(),
            self.delivery.config().flap_window,
        );
        verdict.incident = step.incident_name(&alarm, &held);
        if matches!(step, Step::Open { .. }) {
            step = self.storm(&alarm, &held, &verdict, notify_until).await;
            if let Step::Join { group, .. } = &step {
                verdict.incident = Some(group.leader.clone());
            }
        }
        let plan = step.plan(&verdict);
        let report = Box::pin(self.delivery.deliver(&verdict, notify_until, &plan)).await;
        log_report(&report);
        if report.all_failed() {
            self.release(&held).await;
            return Err(HandlerError::NotifyFailed(describe_failures(&report)));
        }
        self.record_incident(&held, step, &verdict, &report).await;
        self.settle(&held, &posted(&report)).await;
        let mut out = outcome(&verdict, Some(&report));
        if let (Some(obj), Held::Degraded(e)) = (out.as_object_mut(), &held) {
            obj.insert("store".into(), json!(format!("degraded: {e}")));
        }
        Ok(out)
    }
}

fn log_triage(v: &Verdict) {
    let top = v.findings.first();
    tracing::info!(
        alarm = %v.alarm.name,
        status = v.status.as_str(),
        top_rule = top.map_or("none", |f| f.rule.as_str()),
        confidence = top.map_or(0.0, |f| f.confidence),
        api_calls = v.stats.api_calls,
        round_trips = v.stats.round_trips,
        gaps = v.gaps.len(),
        elapsed_ms = v.stats.elapsed_ms,
        "triage"
    );
}

fn log_report(r: &Report) {
    if let Some(Err(e)) = &r.slack {
        tracing::warn!(channel = "slack", error = %e, "delivery failed");
    }
    if let Some(Err(e)) = &r.sns {
        tracing::warn!(channel = "sns", error = %e, "delivery failed");
    }
}

fn describe_failures(r: &Report) -> String {
    let slack = r.slack.as_ref().and_then(|x| x.as_ref().err());
    let sns = r.sns.as_ref().and_then(|x| x.as_ref().err());
    [("slack", slack), ("sns", sns)]
        .into_iter()
        .filter_map(|(name, e)| e.map(|e| format!("{name}: {e}")))
        .collect::<Vec<_>>()
        .join("; ")
}

fn delivered<T>(r: Option<&Result<T, DeliveryError>>) -> Value {
    match r {
        None => Value::Null,
        Some(Ok(_)) => json!("delivered"),
        Some(Err(e)) => json!(format!("failed: {e}")),
    }
}

/// The invocation's result: the verdict's headline and where it went.
fn outcome(v: &Verdict, report: Option<&Report>) -> Value {
    json!({
        "alarm": v.alarm.name,
        "status": v.status.as_str(),
        "rule": v.findings.first().map(|f| f.rule.clone()),
        "confidence": v.findings.first().map(|f| f.confidence),
        "summary": v.summary,
        "slack": delivered(report.and_then(|r| r.slack.as_ref())),
        "sns": delivered(report.and_then(|r| r.sns.as_ref())),
        "stats": v.stats,
    })
}

/// Used when the invocation carries no usable deadline.
pub(crate) const FALLBACK_BUDGET: Duration = Duration::from_secs(15);

/// The Lambda deadline as a tokio instant. Lambda sends epoch milliseconds; a value more than a
/// day in the past is no deadline at all (`cargo lambda watch` sends its timeout, 600000, in
/// that header), so the function falls back to its own budget instead of giving up at once.
fn deadline_of(ctx: &lambda_runtime::Context) -> Instant {
    let now = SystemTime::now();
    let deadline = ctx.deadline();
    match deadline.duration_since(now) {
        Ok(remaining) => Instant::now() + remaining,
        Err(late) if late.duration() < Duration::from_secs(86_400) => Instant::now(),
        Err(_) => {
            tracing::warn!(
                deadline_ms = ctx.deadline,
                fallback_ms = u64::try_from(FALLBACK_BUDGET.as_millis()).unwrap_or(u64::MAX),
                "the invocation's deadline is not a time: using the fallback budget"
            );
            Instant::now() + FALLBACK_BUDGET
        }
    }
}

/// Runs one invocation's work, turning a panic into a [`HandlerError::Panicked`] that names
/// the alarm. A panic is a bug, but one bad input must not take a warm container down
/// silently: the invoker gets an error (an async invoke's on-failure destination keeps the
/// event), the log names the alarm, and the next event is served.
async fn guarded(
    payload: &Value,
    work: impl Future<Output = Result<Value, HandlerError>>,
) -> Result<Value, HandlerError> {
    match AssertUnwindSafe(work).catch_unwind().await {
        Ok(result) => result,
        Err(panic) => {
            let alarm = std::panic::catch_unwind(|| alarm::parse(payload).ok().map(|a| a.name))
                .ok()
                .flatten()
                .map_or_else(
                    || "an unreadable alarm".into(),
                    |n| crate::untrusted::clean(&crate::error::short(&n)),
                );
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .map_or_else(
                    || "a panic".into(),
                    |m| crate::untrusted::clean(&crate::error::short(&m)),
                );
            tracing::error!(alarm = %alarm, error = %message, "triage panicked");
            Err(HandlerError::Panicked { alarm, message })
        }
    }
}

impl StartError {
    /// The `errorType` Lambda shows for a failed cold start.
    pub(crate) fn error_type(&self) -> &'static str {
        match self {
            StartError::Config(_) => "ConfigError",
            StartError::Clients(_) => "ClientError",
        }
    }
}

/// Tells Lambda why the cold start failed (`/runtime/init/error`), so the console and the
/// invoker see the reason instead of a bare exit. Best effort: the process exits either way.
async fn report_init_error(api: &str, e: &StartError) {
    let url = format!("http://{api}/2018-06-01/runtime/init/error");
    let body = json!({"errorType": e.error_type(), "errorMessage": e.to_string()});
    let client = match crate::notify::deliver::http_client_builder()
        .timeout(Duration::from_secs(2))
        .build()
    {
        Ok(c) => c,
        Err(err) => {
            tracing::warn!(error = %err.without_url(), "cannot report the init error");
            return;
        }
    };
    let sent = client
        .post(url)
        .header("Lambda-Runtime-Function-Error-Type", e.error_type())
        .json(&body)
        .send()
        .await;
    if let Err(err) = sent {
        tracing::warn!(error = %err.without_url(), "cannot report the init error");
    }
}

/// Runs the function: cold start, then invocations until Lambda stops the process.
pub async fn run() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let started = match Config::from_env() {
        Ok(config) => App::new(config).await,
        Err(e) => Err(StartError::from(e)),
    };
    let app = match started {
        Ok(a) => a,
        Err(e) => {
            tracing::error!(error = %e, error_type = e.error_type(), "cold start failed");
            if let Ok(api) = std::env::var("AWS_LAMBDA_RUNTIME_API") {
                report_init_error(&api, &e).await;
            }
            return Err(Box::new(e));
        }
    };
    let app = &app;
    let handler = service_fn(move |event: LambdaEvent<Value>| async move {
        let deadline = deadline_of(&event.context);
        Box::pin(app.handle(&event.payload, deadline)).await
    });
    // As `lambda_runtime::run` builds it, plus the layer that turns an unreadable payload into
    // an `InvalidEvent` answer (it runs first: a layer added later sees the request earlier).
    lambda_runtime::Runtime::new(handler)
        .layer(lambda_runtime::layers::TracingLayer::new())
        .layer(lambda_runtime::tower::layer::layer_fn(Readable))
        .run()
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// No input should reach a panic; if one does, the invocation fails with `Panicked`
    /// naming the alarm, and the process lives on.
    #[tokio::test]
    async fn a_panic_is_an_error_naming_the_alarm() {
        let payload: Value =
            serde_json::from_str(include_str!("../events/direct-alb-5xx.json")).unwrap_or_default();
        #[allow(clippy::panic)]
        let work = async { panic!("boom\nforged") };
        let e = guarded(&payload, work).await.err();
        let Some(HandlerError::Panicked { alarm, message }) = &e else {
            unreachable!("{e:?}");
        };
        assert!(
            !alarm.is_empty() && alarm != "an unreadable alarm",
            "{alarm}"
        );
        assert_eq!(message, "boom forged");
        assert_eq!(e.as_ref().map(HandlerError::error_type), Some("Panicked"));
    }

    /// Defect: bodies that are no JSON value failed with the runtime's deserializer error
    /// instead of `InvalidEvent`.
    #[test]
    fn unreadable_bodies_are_named() {
        let deep = "[".repeat(200) + &"]".repeat(200);
        for body in [
            &b"not json"[..],
            b"{\"Records\": [",
            b"{\"a\": \"\xff\"}",
            deep.as_bytes(),
        ] {
            let reason = readable(body).err().unwrap_or_default();
            assert!(reason.starts_with("not JSON: line "), "{reason}");
        }
        assert!(readable(br#"{"a": [1, 2]}"#).is_ok());
    }
}
