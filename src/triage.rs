//! One triage: alarm → status → scope → evidence → rules → verdict.
//!
//! The only I/O is through the port; the clock comes in as `now`.

use chrono::{DateTime, Utc};
use tokio::time::Instant;

use crate::alarm::Alarm;
use crate::alarm::rule::child_alarms;
use crate::evidence::cloudwatch::DescribedAlarms;
use crate::evidence::cloudwatch::MetricQuery;
use crate::evidence::gather::{self, AlarmLookup, GatherOptions};
use crate::evidence::port::Port;
use crate::evidence::{Evidence, Gap, GapKind, GatherStats};
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
        kind: GapKind::Error,
    })
}

/// Fills a payload that names no metric from `DescribeAlarms`: the alarm's own metrics, or a
/// composite alarm's children's. For a composite with children left out, a note that names
/// them (with the rule), for the verdict's gaps.
fn fill_from_description(alarm: &mut Alarm, described: &DescribedAlarms) -> Option<Gap> {
    alarm.fill_from(described.metric_alarm(&alarm.name));
    if !alarm.metrics.is_empty() {
        return None;
    }
    let rule = alarm.rule(described)?.to_owned();
    let names: Vec<String> = child_alarms(&rule)
        .into_iter()
        .filter(|n| *n != alarm.name)
        .collect();
    let children = alarm.fill_from_children(&names, described);
    if children.not_triaged.is_empty() {
        return None;
    }
    const NAMED: usize = 5;
    let mut rest: Vec<String> = children
        .not_triaged
        .iter()
        .take(NAMED)
        .map(|n| crate::error::short(n))
        .collect();
    let more = children.not_triaged.len().saturating_sub(NAMED);
    if more > 0 {
        rest.push(format!("and {more} more"));
    }
    Some(Gap {
        source: "composite rule".into(),
        reason: format!(
            "composite rule: {}; {}, not triaged",
            crate::error::short(&rule),
            rest.join("; ")
        ),
        resource: Some(alarm.name.clone()),
        kind: GapKind::Error,
    })
}

/// Triages one alarm. `elapsed_ms` is left 0: the caller measures wall time. Every string of
/// the verdict is clean of control characters ([`Verdict::clean`]).
pub async fn triage<P: Port>(port: &P, alarm: &Alarm, opts: &TriageOptions) -> Verdict {
    triage_examining(port, alarm, opts, false).await
}

/// Whether a triage of `alarm` reads any evidence: [`assess`]'s first decision (a transition
/// nobody needs is answered without a call; one back to OK is examined only `at_ok`).
pub(crate) fn reads_evidence(alarm: &Alarm, at_ok: bool) -> bool {
    match transition_status(alarm) {
        None => true,
        Some((Status::Resolved, _)) => at_ok,
        Some(_) => false,
    }
}

/// [`triage`]; with `at_ok`, for an alarm back to OK that an incident remembers: the evidence
/// is read and the rules run as for an ALARM, so that the incident can say what changed; the
/// status and summary stay those of a resolved alarm.
pub(crate) async fn triage_examining<P: Port>(
    port: &P,
    alarm: &Alarm,
    opts: &TriageOptions,
    at_ok: bool,
) -> Verdict {
    // Boxed: the whole gathering nests in it, too deep to lay out inline in a caller.
    let mut verdict = Box::pin(assess(port, alarm, opts, at_ok)).await;
    verdict.clean();
    verdict
}

async fn assess<P: Port>(
    port: &P,
    alarm: &Alarm,
    opts: &TriageOptions,
    examine_resolved: bool,
) -> Verdict {
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
        shared_evidence: None,
        delivery_notes: Vec::new(),
        incident: None,
    };
    let resolved = match transition_status(alarm) {
        Some((Status::Resolved, summary)) if examine_resolved => Some(summary),
        Some((status, summary)) => {
            verdict.status = status;
            verdict.summary = summary;
            return verdict;
        }
        None => None,
    };
    let region = alarm.region().unwrap_or(&opts.home_region).to_owned();
    let account = alarm.account().or(opts.home_account.as_deref());
    let mut lookup = AlarmLookup {
        region: region.clone(),
        name: alarm.name.clone(),
        rule: alarm.alarm_rule.clone(),
        children: false,
    };
    let mut alarm = alarm.clone();
    // An alarm whose payload names no metric (a composite alarm) is described first: its
    // scope comes from its description, or its children's.
    let mut before: Option<(Vec<Gap>, GatherStats)> = None;
    let mut composite_note: Option<Gap> = None;
    let scoped = match scope::scope(&alarm, &opts.home_region, account) {
        Err(out) if !out.foreign() && alarm.metrics.is_empty() => {
            lookup.children = true;
            let (read, gaps, stats) = gather::describe_alarm(port, &lookup, opts.deadline).await;
            composite_note = fill_from_description(&mut alarm, &read.described);
            verdict.alarm = AlarmSummary::of(&alarm);
            before = Some((gaps, stats));
            scope::scope(&alarm, &opts.home_region, account)
        }
        scoped => scoped,
    };
    let scope = match scoped {
        Ok(s) => s,
        Err(out) => {
            if let Some(summary) = resolved {
                // Back to OK, and nothing to examine: still resolved.
                verdict.status = Status::Resolved;
                verdict.summary = summary;
                return verdict;
            }
            if out.foreign() {
                verdict.status = Status::Ignored;
            }
            verdict.summary = format!("{}.", out.0);
            if let Some((gaps, stats)) = before {
                verdict.gaps = gaps;
                verdict.gaps.extend(composite_note);
                verdict.stats.api_calls = stats.api_calls;
                verdict.stats.round_trips = stats.round_trips;
            }
            return verdict;
        }
    };
    let queries = alarm_queries(&alarm, &scope, &region, account);
    let gather_opts = GatherOptions {
        now: opts.now,
        deadline: opts.deadline,
        home_region: opts.home_region.clone(),
        alarm_queries: queries.clone(),
        renewal_horizon: chrono::Duration::days(crate::rules::cert::RENEWAL_HORIZON_DAYS),
    };
    let evidence = match before {
        // Described already: the rest as usual, after it.
        Some((gaps, stats)) => {
            let mut e = Box::pin(gather::gather(port, &scope, &gather_opts)).await;
            e.gaps.splice(0..0, gaps);
            e.stats.api_calls += stats.api_calls;
            e.stats.round_trips += stats.round_trips;
            e
        }
        None => {
            // Boxed: the gathering's future is too deep to lay out inline twice.
            let (e, read) =
                Box::pin(gather::gather_alarm(port, &scope, &gather_opts, &lookup)).await;
            alarm.fill_from(read.described.metric_alarm(&alarm.name));
            verdict.alarm = AlarmSummary::of(&alarm);
            e
        }
    };
    let alarm = &alarm;
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
    verdict.gaps.extend(composite_note);
    verdict.stats = Stats {
        api_calls: evidence.stats.api_calls,
        round_trips: evidence.stats.round_trips,
        elapsed_ms: 0,
    };
    if let Some(summary) = resolved {
        verdict.status = Status::Resolved;
        verdict.summary = summary;
    }
    verdict
}
