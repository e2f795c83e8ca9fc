//! Lambda mode: one alarm payload in, a verdict posted to Slack and SNS.
//!
//! Clients and configuration are built once at cold start and borrowed by every invocation.
//! The Lambda deadline bounds everything: the gathering ends early enough to leave time to
//! notify, and notification retries stop `FIVEXX_DEADLINE_MARGIN_MS` before the deadline.
//! Errors carry a stable `errorType`, so an async invoke's on-failure destination keeps the
//! event of a failed run.

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
use crate::incident::TransitionKey;
use crate::incident::store::{Claim, Group, Incident, IncidentStore, Lead, StoreError};
use crate::notify::deliver::{Delivery, DeliveryError, Report};
use crate::notify::deliver::{SlackMessage, SlackPlan};
use crate::notify::slack;
use crate::triage::{TriageOptions, triage, triage_at_ok};
use crate::verdict::{Status, Verdict};

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

/// How long a storm's follower waits for the leading incident's message before posting on its
/// own: the leader triages (seconds) before it posts.
const GROUP_WAIT: Duration = Duration::from_secs(10);
/// How often a follower looks for that message.
const GROUP_POLL: Duration = Duration::from_millis(250);

/// A claim outlives the invocation's deadline by this much: Lambda has stopped the claimant
/// by then, so a later delivery may take the transition over without racing a live post.
const LEASE_BEYOND_DEADLINE: chrono::Duration = chrono::Duration::seconds(5);

/// A token naming this invocation's claims: the process, the time and a counter, unique
/// among the invocations that could race for one transition.
fn claim_token() -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(
        "{}-{nanos}-{}",
        std::process::id(),
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    )
}

/// What this invocation holds in the incident store.
enum Held {
    /// No store, no key, or a transition nobody is told about: nothing to claim.
    Nothing,
    /// This invocation claimed the transition and must complete or release it.
    Claim { key: TransitionKey, token: String },
    /// The store failed: post anyway, and say so.
    Degraded(StoreError),
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
        let delivery = Delivery::new(config, &sdk_config)?;
        Ok(Self {
            sdk: AwsSdk::new(sdk_config).with_origin_regions(origin_regions),
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
        let mut verdict = if back_to_ok {
            Box::pin(triage_at_ok(&self.sdk, &alarm, &opts)).await
        } else {
            Box::pin(triage(&self.sdk, &alarm, &opts)).await
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

    /// Claims the alarm's transition in the incident store. `Err` carries the invocation's
    /// result when another delivery of the same transition posts it (or already did): then
    /// nothing is triaged or posted.
    async fn claim(&self, alarm: &alarm::Alarm, lambda_deadline: Instant) -> Result<Held, Value> {
        let Some(store) = &self.store else {
            return Ok(Held::Nothing);
        };
        if matches!(
            crate::triage::transition_status(alarm),
            Some((Status::Ignored, _))
        ) {
            return Ok(Held::Nothing);
        }
        // The alarm's name is untrusted: cleaned before it reaches a log line.
        let name = crate::untrusted::clean(&alarm.name);
        let Some(key) = TransitionKey::of(alarm) else {
            tracing::info!(alarm = %name, "no state-change time in the payload: posted without duplicate suppression");
            return Ok(Held::Nothing);
        };
        let token = claim_token();
        let now = Utc::now();
        let remaining = lambda_deadline.saturating_duration_since(Instant::now());
        let lease_until = now
            + chrono::Duration::from_std(remaining).unwrap_or(chrono::Duration::zero())
            + LEASE_BEYOND_DEADLINE;
        match store.claim(&key, &token, now, lease_until).await {
            Ok(Claim::Owned { took_over }) => {
                if took_over {
                    tracing::warn!(alarm = %name, transition = %key.sort(), "took over a claim whose invocation did not finish");
                }
                Ok(Held::Claim { key, token })
            }
            Ok(Claim::InProgress { lease_until }) => {
                tracing::info!(alarm = %name, transition = %key.sort(), lease_until = %lease_until, "duplicate delivery: another invocation is posting this transition");
                Err(duplicate(alarm, "in progress elsewhere"))
            }
            Ok(Claim::Done { posted }) => {
                tracing::info!(alarm = %name, transition = %key.sort(), posted = %posted, "duplicate delivery: this transition was already posted");
                Err(duplicate(alarm, "already posted"))
            }
            Err(e) => {
                tracing::warn!(alarm = %name, error = %e, degraded = true, "incident store unavailable: posting without duplicate suppression");
                emit_degraded_metric();
                Ok(Held::Degraded(e))
            }
        }
    }

    /// The alarm's incident, when this invocation holds its transition.
    async fn incident(&self, held: &Held) -> Option<Incident> {
        let (Some(store), Held::Claim { key, .. }) = (&self.store, held) else {
            return None;
        };
        match store.incident(key).await {
            Ok(i) => i,
            Err(e) => {
                tracing::warn!(error = %e, "could not read the alarm's incident: posting as a new message");
                None
            }
        }
    }

    /// For a new incident: lead the storm group of the alarm's resource, or join the incident
    /// that leads it (opened within the grouping window), waiting a little for its message.
    async fn storm(&self, alarm: &alarm::Alarm, held: &Held, v: &Verdict, until: Instant) -> Step {
        let alone = Step::Open { leads: None };
        let (Some(store), Held::Claim { .. }, Some(key), Some(name)) = (
            &self.store,
            held,
            crate::incident::group_key(alarm),
            v.incident.clone(),
        ) else {
            return alone;
        };
        // The alarms' own clock, as for the flap window: a storm's alarms change state
        // within the window of each other, whenever they are delivered.
        let Held::Claim {
            key: transition, ..
        } = held
        else {
            return alone;
        };
        let now = transition.at;
        let window = chrono::Duration::from_std(self.delivery.config().group_window)
            .unwrap_or(chrono::Duration::zero());
        // A resource the findings reach (the ALB behind a CloudFront alarm) may already lead
        // a storm: join it rather than open a second thread.
        let linked: Vec<String> = crate::incident::linked_group_keys(v)
            .into_iter()
            .filter(|k| *k != key)
            .collect();
        let mut joined = None;
        for k in &linked {
            if let Ok(Some(g)) = store.group(k).await
                && g.opened_at >= now - window
                && g.opened_at <= now + window
            {
                joined = Some((k.clone(), g));
                break;
            }
        }
        let (key, mut group) = match joined {
            Some(found) => found,
            None => match store.lead_group(&key, &name, now, now - window).await {
                Ok(Lead::Leader) => {
                    // Lead the linked resources' storms too, where nobody leads them yet.
                    for k in &linked {
                        if let Err(e) = store.lead_group(k, &name, now, now - window).await {
                            tracing::warn!(error = %e, "could not lead a linked storm group");
                        }
                    }
                    return Step::Open {
                        leads: Some(std::iter::once(key).chain(linked).collect()),
                    };
                }
                Ok(Lead::Follower(g)) => (key, g),
                Err(e) => {
                    tracing::warn!(error = %e, "could not group the alarm with a storm: posted on its own");
                    return alone;
                }
            },
        };
        // The leader posts after its own triage: wait for its message, at most until the
        // wait ends or the post's own budget would suffer.
        let wait_until =
            (Instant::now() + GROUP_WAIT).min(until.checked_sub(NOTIFY_RESERVE).unwrap_or(until));
        while group.ts.is_none() && Instant::now() < wait_until {
            tokio::time::sleep(GROUP_POLL).await;
            match store.group(&key).await {
                Ok(Some(g)) if g.leader == group.leader => group = g,
                Ok(_) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "could not read the storm group");
                    break;
                }
            }
        }
        if group.ts.is_none() {
            tracing::warn!(leader = %group.leader, "the storm's leading message did not appear in time: posted on its own");
            return alone;
        }
        let members = match store
            .join_group(&key, &crate::untrusted::clean(&alarm.name))
            .await
        {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(error = %e, "could not list the alarm on the storm's message");
                vec![crate::untrusted::clean(&alarm.name)]
            }
        };
        Step::Join { group, members }
    }

    /// Writes what the post did to the alarm's incident: opened, resolved or reopened.
    async fn record_incident(&self, held: &Held, step: Step, v: &Verdict, report: &Report) {
        let (Some(store), Held::Claim { key, .. }) = (&self.store, held) else {
            return;
        };
        let incident = match step {
            Step::Open { leads } => {
                if let (Some(groups), Some(m), Some(name)) =
                    (&leads, &report.slack_message, &v.incident)
                {
                    let parent = slack::message(v).to_string();
                    for group in groups {
                        // Conditional on leading it: a linked group led by another is left.
                        if let Err(e) = store
                            .set_group_message(group, name, &m.channel, &m.ts, &parent)
                            .await
                        {
                            tracing::warn!(error = %e, "could not record the storm group's message: its followers post their own");
                        }
                    }
                }
                Incident {
                    id: key.sort(),
                    opened_at: key.at,
                    resolved_at: None,
                    channel: report.slack_message.as_ref().map(|m| m.channel.clone()),
                    ts: report.slack_message.as_ref().map(|m| m.ts.clone()),
                    reopened: 0,
                    summary: crate::error::short(&v.summary),
                    rules: v.findings.iter().take(3).map(|f| f.rule.clone()).collect(),
                    grouped_under: None,
                }
            }
            Step::Join { group, .. } => Incident {
                id: key.sort(),
                opened_at: key.at,
                resolved_at: None,
                channel: group.channel.clone(),
                ts: group.ts.clone(),
                reopened: 0,
                summary: crate::error::short(&v.summary),
                rules: v.findings.iter().take(3).map(|f| f.rule.clone()).collect(),
                grouped_under: Some(group.leader.clone()),
            },
            Step::Resolve(mut i) | Step::ResolvePlain(mut i) | Step::ResolveGrouped(mut i) => {
                i.resolved_at = Some(key.at);
                i
            }
            Step::Reopen(mut i) => {
                i.resolved_at = None;
                i.reopened += 1;
                i
            }
            Step::Plain => return,
        };
        if let Err(e) = store.save_incident(key, &incident, Utc::now()).await {
            tracing::warn!(error = %e, incident = %incident.id, "could not record the incident: the next transition posts anew");
        }
    }

    /// Marks a held claim completed with what was posted.
    async fn settle(&self, held: &Held, posted: &str) {
        let (Some(store), Held::Claim { key, token }) = (&self.store, held) else {
            return;
        };
        match store.complete(key, token, Utc::now(), posted).await {
            Ok(true) => {}
            Ok(false) => {
                tracing::warn!(transition = %key.sort(), "the claim was taken over before it completed: a duplicate post is possible")
            }
            Err(e) => {
                tracing::warn!(transition = %key.sort(), error = %e, "could not mark the transition posted: a redelivery may post it again")
            }
        }
    }

    /// Gives a held claim up after every channel failed, so that Lambda's retry posts.
    async fn release(&self, held: &Held) {
        let (Some(store), Held::Claim { key, token }) = (&self.store, held) else {
            return;
        };
        if let Err(e) = store.release(key, token).await {
            tracing::warn!(transition = %key.sort(), error = %e, "could not release the claim: a retry waits for its lease to end");
        }
    }
}

/// What a post does to the alarm's incident.
#[derive(Debug)]
enum Step {
    /// An ALARM with no incident to reopen: a new message, a new incident; with the key of
    /// the storm group it leads, whose followers will reply under its message.
    Open { leads: Option<Vec<String>> },
    /// An ALARM on a resource another incident opened within the grouping window (a storm):
    /// its verdict in that incident's thread, the parent listing the grouped alarms.
    Join { group: Group, members: Vec<String> },
    /// OK for an incident that joined another's thread: a reply there, no update.
    ResolveGrouped(Incident),
    /// OK for an open incident with a Slack message: the message updated in place, the
    /// difference in its thread.
    Resolve(Incident),
    /// An ALARM while open, or within the flap window after OK: the verdict in the thread.
    Reopen(Incident),
    /// OK for an open incident without a Slack message (a webhook): posted as it comes,
    /// naming the incident, which is marked resolved.
    ResolvePlain(Incident),
    /// Anything else: posted as it comes.
    Plain,
}

fn step(alarm: &alarm::Alarm, v: &Verdict, incident: Option<&Incident>, flap: Duration) -> Step {
    let flap = chrono::Duration::from_std(flap).unwrap_or(chrono::Duration::zero());
    let threaded = |i: &Incident| i.channel.is_some() && i.ts.is_some();
    match (v.status, incident) {
        (Status::Diagnosed | Status::Inconclusive, Some(i)) if threaded(i) => {
            let within = match (i.resolved_at, alarm.changed_at) {
                (None, _) => true,
                (Some(ok), Some(now)) => now >= ok && now - ok <= flap,
                (Some(_), None) => false,
            };
            if within {
                Step::Reopen(i.clone())
            } else {
                Step::Open { leads: None }
            }
        }
        (Status::Diagnosed | Status::Inconclusive, _) => Step::Open { leads: None },
        (Status::Resolved, Some(i)) if i.is_open() && i.grouped_under.is_some() && threaded(i) => {
            Step::ResolveGrouped(i.clone())
        }
        (Status::Resolved, Some(i)) if i.is_open() && threaded(i) => Step::Resolve(i.clone()),
        (Status::Resolved, Some(i)) if i.is_open() => Step::ResolvePlain(i.clone()),
        _ => Step::Plain,
    }
}

impl Step {
    /// The incident's name for the messages, when there is one.
    fn incident_name(&self, alarm: &alarm::Alarm, held: &Held) -> Option<String> {
        let opened = match (self, held) {
            (Step::Open { .. } | Step::Join { .. }, Held::Claim { key, .. }) => key.at,
            (
                Step::Resolve(i)
                | Step::Reopen(i)
                | Step::ResolvePlain(i)
                | Step::ResolveGrouped(i),
                _,
            ) => i.opened_at,
            _ => return None,
        };
        Some(crate::incident::incident_name(&alarm.name, opened))
    }

    /// Where the verdict goes in Slack.
    fn plan(&self, v: &Verdict) -> SlackPlan {
        let parent = |i: &Incident| {
            Some(SlackMessage {
                channel: i.channel.clone()?,
                ts: i.ts.clone()?,
            })
        };
        match self {
            Step::Open { .. } | Step::Plain | Step::ResolvePlain(_) => SlackPlan::default(),
            Step::Join { group, members } => {
                let (Some(channel), Some(ts)) = (group.channel.clone(), group.ts.clone()) else {
                    return SlackPlan::default();
                };
                let p = SlackMessage { channel, ts };
                let update = group
                    .parent
                    .as_deref()
                    .and_then(|m| serde_json::from_str::<Value>(m).ok())
                    .map(|parent| (p.clone(), slack::with_grouped(parent, members)));
                SlackPlan {
                    message: None,
                    reply_to: Some(p),
                    update,
                }
            }
            Step::ResolveGrouped(i) => {
                let Some(p) = parent(i) else {
                    return SlackPlan::default();
                };
                SlackPlan {
                    message: Some(slack::resolution_reply(v, None, &changes(i, v))),
                    reply_to: Some(p),
                    update: None,
                }
            }
            Step::Resolve(i) => {
                let Some(p) = parent(i) else {
                    return SlackPlan::default();
                };
                // The incident knows when it opened, even when the OK payload does not.
                let minutes = v
                    .alarm
                    .changed_at
                    .as_deref()
                    .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                    .map(|t| (t.with_timezone(&Utc) - i.opened_at).num_minutes())
                    .filter(|m| *m >= 0);
                SlackPlan {
                    message: Some(slack::resolution_reply(v, minutes, &changes(i, v))),
                    reply_to: Some(p.clone()),
                    update: Some((
                        p,
                        slack::resolved_parent(v, minutes, &i.summary, &i.rules, i.reopened),
                    )),
                }
            }
            Step::Reopen(i) => {
                let Some(p) = parent(i) else {
                    return SlackPlan::default();
                };
                SlackPlan {
                    message: None,
                    reply_to: Some(p.clone()),
                    update: Some((p, slack::reopened_parent(v, i.reopened + 1))),
                }
            }
        }
    }
}

/// What changed between the incident's opening findings and the triage at OK: each opening
/// rule's exclusion now (with its evidence), or that it still fires.
fn changes(i: &Incident, ok: &Verdict) -> Vec<String> {
    i.rules
        .iter()
        .map(|rule| {
            if let Some(r) = ok.ruled_out.iter().find(|r| &r.rule == rule) {
                match r.check {
                    crate::verdict::Check::Excluded => {
                        format!("`{rule}` no longer holds: {}", r.reason)
                    }
                    crate::verdict::Check::Unchecked => format!("`{rule}`: {}", r.reason),
                }
            } else if let Some(f) = ok.findings.iter().find(|f| &f.rule == rule) {
                format!("`{rule}` still fires at OK: {}", f.title)
            } else {
                format!("`{rule}`: not examined at OK")
            }
        })
        .collect()
}

fn store_code(e: &StoreError) -> String {
    match e {
        StoreError::Unavailable { code, .. } => code.clone(),
    }
}

/// One CloudWatch embedded-metric line: `fivexx` / `IncidentStoreDegraded` = 1, so that an
/// alarm can watch how often the store failed and duplicates were possible.
fn emit_degraded_metric() {
    let line = json!({
        "_aws": {
            "Timestamp": Utc::now().timestamp_millis(),
            "CloudWatchMetrics": [{
                "Namespace": "fivexx",
                "Dimensions": [[]],
                "Metrics": [{"Name": "IncidentStoreDegraded", "Unit": "Count"}],
            }],
        },
        "IncidentStoreDegraded": 1,
    });
    println!("{line}");
}

/// What a report posted, for the transition's record.
fn posted(r: &Report) -> String {
    json!({
        "slack": delivered(r.slack.as_ref()),
        "sns": r.sns.as_ref().and_then(|x| x.as_ref().ok()),
    })
    .to_string()
}

/// The result of an invocation that posted nothing because the transition is another's.
fn duplicate(alarm: &alarm::Alarm, why: &str) -> Value {
    json!({
        "alarm": crate::untrusted::clean(&alarm.name),
        "status": "duplicate",
        "summary": format!("duplicate delivery of this transition: {why}; nothing posted"),
        "slack": Value::Null,
        "sns": Value::Null,
    })
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
