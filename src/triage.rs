//! One triage: alarm → status → scope → evidence → rules → verdict.
//!
//! The only I/O is through the port; the clock comes in as `now`.

use chrono::{DateTime, Utc};
use tokio::time::Instant;

use crate::alarm::Alarm;
use crate::evidence::cloudwatch::MetricQuery;
use crate::evidence::gather::{self, GatherOptions};
use crate::evidence::port::Port;
use crate::evidence::{Evidence, Gap};
use crate::names::GLOBAL_REGION;
use crate::rules;
use crate::scope::{self, CLOUDFRONT_NAMESPACE, Scope};
use crate::verdict::{AlarmSummary, Stats, Status, Trace, VERDICT_FORMAT, Verdict};

/// What a triage needs besides the alarm and the port.
#[derive(Debug, Clone)]
pub struct TriageOptions {
    pub now: DateTime<Utc>,
    /// No AWS call may run past this instant.
    pub deadline: Instant,
    /// Used when the alarm carries no region, and to look for origins behind custom names.
    pub home_region: String,
    /// Used when the alarm carries no account id.
    pub home_account: Option<String>,
}

/// What the alarm's state change asks of us, before any AWS call.
pub(crate) fn transition_status(alarm: &Alarm) -> Option<(Status, String)> {
    let name = crate::error::short(&alarm.name);
    let prev = alarm.previous_state.as_deref().unwrap_or("unknown");
    match alarm.state.as_str() {
        "ALARM" => None,
        "OK" if prev == "ALARM" => {
            let after = match (alarm.previous_changed_at, alarm.changed_at) {
                (Some(start), Some(end)) if end >= start => {
                    format!(" after {} min in ALARM", (end - start).num_minutes())
                }
                _ => " after being in ALARM".into(),
            };
            Some((
                Status::Resolved,
                format!("`{name}` is back to OK{after}: nothing to do unless it flaps."),
            ))
        }
        state => Some((
            Status::Ignored,
            format!("`{name}` went from {prev} to {state}: not an incident, nothing to triage."),
        )),
    }
}

/// The alarm's own metrics as queries, for the rules and the sparkline: those of the
/// resources in scope, at most [`scope::MAX_RESOURCES`] (an alarm has at most 10 metrics).
fn alarm_queries(
    alarm: &Alarm,
    scope: &Scope,
    region: &str,
    account: Option<&str>,
) -> Vec<MetricQuery> {
    alarm
        .metrics
        .iter()
        .filter(|m| scope.covers(region, account, m))
        .take(scope::MAX_RESOURCES)
        .filter_map(|m| {
            let stat = m.stat.as_deref()?;
            let r = if m.namespace == CLOUDFRONT_NAMESPACE {
                GLOBAL_REGION
            } else {
                region
            };
            let dims: Vec<(&str, &str)> = m
                .dimensions
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            Some(MetricQuery::new(r, &m.namespace, &m.name, &dims, stat))
        })
        .collect()
}

/// The last hour of the alarm's own metric, per minute.
fn trace(e: &Evidence, q: &MetricQuery) -> Option<Trace> {
    let series = e.metrics.get(q)?;
    if series.is_empty() {
        return None;
    }
    let end = e.window.end;
    let values = (0..60)
        .map(|i| series.value_at(end - chrono::Duration::minutes(60 - i)))
        .collect();
    Some(Trace {
        metric: q.name.clone(),
        stat: q.stat.clone(),
        end: end.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        values,
    })
}

/// The resources the alarm names beyond the scope's cap, as a gap: named, not examined.
fn skipped_gap(scope: &Scope) -> Option<Gap> {
    const NAMED: usize = 5;
    if scope.skipped.is_empty() {
        return None;
    }
    let named: Vec<&str> = scope
        .skipped
        .iter()
        .take(NAMED)
        .map(String::as_str)
        .collect();
    let more = scope.skipped.len().saturating_sub(NAMED);
    Some(Gap {
        source: "scope".into(),
        reason: format!(
            "the alarm names {} more resources than the {} one triage examines (a metric math alarm has at most 10 metrics): {}{}",
            scope.skipped.len(),
            scope::MAX_RESOURCES,
            named.join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        ),
        resource: None,
    })
}

/// Triages one alarm. `elapsed_ms` is left 0: the caller measures wall time. Every string of
/// the verdict is clean of control characters ([`Verdict::clean`]).
pub async fn triage<P: Port>(port: &P, alarm: &Alarm, opts: &TriageOptions) -> Verdict {
    let mut verdict = assess(port, alarm, opts).await;
    verdict.clean();
    verdict
}

async fn assess<P: Port>(port: &P, alarm: &Alarm, opts: &TriageOptions) -> Verdict {
    let mut verdict = Verdict {
        format: VERDICT_FORMAT,
        alarm: AlarmSummary::of(alarm),
        status: Status::Inconclusive,
        summary: String::new(),
        findings: Vec::new(),
        ruled_out: Vec::new(),
        gaps: Vec::new(),
        stats: Stats::default(),
        trace: None,
    };
    if let Some((status, summary)) = transition_status(alarm) {
        verdict.status = status;
        verdict.summary = summary;
        return verdict;
    }
    let scope = match scope::scope(alarm, &opts.home_region, opts.home_account.as_deref()) {
        Ok(s) => s,
        Err(out) => {
            if out.foreign() {
                verdict.status = Status::Ignored;
            }
            verdict.summary = format!("{}.", out.0);
            return verdict;
        }
    };
    let region = alarm.region().unwrap_or(&opts.home_region).to_owned();
    let account = alarm.account().or(opts.home_account.as_deref());
    let queries = alarm_queries(alarm, &scope, &region, account);
    let evidence = gather::gather(
        port,
        &scope,
        &GatherOptions {
            now: opts.now,
            deadline: opts.deadline,
            home_region: opts.home_region.clone(),
            alarm_queries: queries.clone(),
            renewal_horizon: chrono::Duration::days(crate::rules::cert::RENEWAL_HORIZON_DAYS),
        },
    )
    .await;
    verdict.trace = queries.first().and_then(|q| trace(&evidence, q));
    let outcome = rules::evaluate(alarm, &evidence);
    verdict.status = outcome.status;
    verdict.summary = outcome.summary;
    verdict.findings = outcome.findings;
    verdict.ruled_out = outcome.ruled_out;
    verdict.gaps = evidence.gaps.clone();
    if let Some(gap) = skipped_gap(&scope) {
        verdict.gaps.push(gap);
    }
    verdict.stats = Stats {
        api_calls: evidence.stats.api_calls,
        round_trips: evidence.stats.round_trips,
        elapsed_ms: 0,
    };
    verdict
}
