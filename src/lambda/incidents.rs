//! The incident bookkeeping of one invocation (`docs/incidents.md`): claiming the alarm's
//! transition, reading and writing its incident, grouping a storm, and what a post does to
//! the incident in Slack. The handler (`super`) calls it around the triage and the delivery.

use std::time::{Duration, SystemTime};

use chrono::Utc;
use serde_json::{Value, json};
use tokio::time::Instant;

use super::{App, NOTIFY_RESERVE, delivered};
use crate::alarm;
use crate::incident::TransitionKey;
use crate::incident::store::{Claim, Group, Incident, Lead, StoreError};
use crate::notify::deliver::{Report, SlackMessage, SlackPlan};
use crate::notify::slack;
use crate::verdict::{Status, Verdict};

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
pub(super) enum Held {
    /// No store, no key, or a transition nobody is told about: nothing to claim.
    Nothing,
    /// This invocation claimed the transition and must complete or release it.
    Claim { key: TransitionKey, token: String },
    /// The store failed: post anyway, and say so.
    Degraded(StoreError),
}

impl App {
    /// Claims the alarm's transition in the incident store. `Err` carries the invocation's
    /// result when another delivery of the same transition posts it (or already did): then
    /// nothing is triaged or posted.
    pub(super) async fn claim(
        &self,
        alarm: &alarm::Alarm,
        lambda_deadline: Instant,
    ) -> Result<Held, Value> {
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
    pub(super) async fn incident(&self, held: &Held) -> Option<Incident> {
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
    pub(super) async fn storm(
        &self,
        alarm: &alarm::Alarm,
        held: &Held,
        v: &Verdict,
        until: Instant,
    ) -> Step {
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
    pub(super) async fn record_incident(
        &self,
        held: &Held,
        step: Step,
        v: &Verdict,
        report: &Report,
    ) {
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
    pub(super) async fn settle(&self, held: &Held, posted: &str) {
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
    pub(super) async fn release(&self, held: &Held) {
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
pub(super) enum Step {
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

pub(super) fn step(
    alarm: &alarm::Alarm,
    v: &Verdict,
    incident: Option<&Incident>,
    flap: Duration,
) -> Step {
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
    pub(super) fn incident_name(&self, alarm: &alarm::Alarm, held: &Held) -> Option<String> {
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
    pub(super) fn plan(&self, v: &Verdict) -> SlackPlan {
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

pub(super) fn store_code(e: &StoreError) -> String {
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
pub(super) fn posted(r: &Report) -> String {
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
