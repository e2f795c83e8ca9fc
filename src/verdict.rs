//! The verdict: the JSON contract (`fivexx-verdict/1`, described in `docs/verdict-format.md`).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::alarm::{Alarm, Envelope};
use crate::evidence::Gap;

pub(crate) const VERDICT_FORMAT: &str = "fivexx-verdict/1";

/// Findings at or above this confidence are reported as causes (`docs/verdict-format.md`).
pub(crate) const REPORTING_BAR: f64 = 0.4;

/// No finding claims more: the rules read configuration and metrics, never the traffic
/// itself, so certainty is left to the person who checks.
pub(crate) const MAX_CONFIDENCE: f64 = 0.95;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Diagnosed,
    Inconclusive,
    Resolved,
    Ignored,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Diagnosed => "diagnosed",
            Status::Inconclusive => "inconclusive",
            Status::Resolved => "resolved",
            Status::Ignored => "ignored",
        }
    }
}

/// The alarm as the verdict shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlarmSummary {
    pub name: String,
    pub arn: Option<String>,
    pub account: Option<String>,
    pub region: Option<String>,
    pub envelope: Envelope,
    pub state: String,
    pub previous_state: Option<String>,
    pub changed_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_changed_at: Option<String>,
    pub namespace: Option<String>,
    pub metric: Option<String>,
    pub dimensions: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The alarm's evaluation, from the payload or `DescribeAlarms`; absent when neither says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evaluation_periods: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub datapoints_to_alarm: Option<u32>,
    /// The primary metric's period, in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period: Option<u32>,
}

impl AlarmSummary {
    pub(crate) fn of(alarm: &Alarm) -> Self {
        let primary = alarm.primary_metric();
        Self {
            name: alarm.name.clone(),
            arn: alarm.arn.clone(),
            account: alarm.account().map(str::to_owned),
            region: alarm.region().map(str::to_owned),
            envelope: alarm.envelope,
            state: alarm.state.clone(),
            previous_state: alarm.previous_state.clone(),
            changed_at: alarm
                .changed_at
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
            previous_changed_at: alarm
                .previous_changed_at
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
            namespace: primary.map(|m| m.namespace.clone()),
            metric: primary.map(|m| m.name.clone()),
            dimensions: primary.map(|m| m.dimensions.clone()).unwrap_or_default(),
            description: alarm.description.clone(),
            reason: alarm.reason.clone(),
            evaluation_periods: alarm.evaluation_periods,
            datapoints_to_alarm: alarm.datapoints_to_alarm,
            period: primary.and_then(|m| m.period),
        }
    }
}

/// One explained cause (or warning), named by its catalogue rule id.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub rule: String,
    pub confidence: f64,
    pub codes: Vec<u16>,
    pub title: String,
    pub evidence: Vec<String>,
    pub next_steps: Vec<String>,
    pub resources: Vec<String>,
}

/// Whether a catalogue rule that is not among the findings was excluded by what was read, or
/// could not be checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Check {
    /// Read, and the evidence excludes it.
    Excluded,
    /// What it needs could not be read: `gap` names the source.
    Unchecked,
}

/// A catalogue rule a person might suspect, with what excluded it (`docs/verdict-format.md`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuledOut {
    pub rule: String,
    pub check: Check,
    /// The evidence that excluded it, with its numbers; for an unchecked rule, what it lacks.
    pub reason: String,
    /// The source (`service:Operation`) that could not be read, for an unchecked rule.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gap: Option<String>,
}

/// The alarm's own metric over the last hour, one value per minute (`null` where CloudWatch
/// has no datapoint), for sparklines.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Trace {
    pub metric: String,
    pub stat: String,
    /// The minute after the last value.
    pub end: String,
    pub values: Vec<Option<f64>>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    pub api_calls: usize,
    pub round_trips: usize,
    pub elapsed_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    pub format: &'static str,
    pub alarm: AlarmSummary,
    pub status: Status,
    pub summary: String,
    pub findings: Vec<Finding>,
    /// The catalogue rules checked and excluded (or not checkable), most suspected first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ruled_out: Vec<RuledOut>,
    pub gaps: Vec<Gap>,
    pub stats: Stats,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace: Option<Trace>,
    /// Evidence reused from another alarm's triage of the same resources, read within the
    /// last minute (a storm: `docs/verdict-format.md#shared-evidence`); absent when every
    /// answer was read by this triage.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shared_evidence: Option<SharedFrom>,
    /// How this verdict was delivered, when it is worth saying (the incident store could not
    /// be read, so a duplicate may follow): shown in the message footers, not part of the
    /// JSON contract.
    #[serde(skip)]
    pub delivery_notes: Vec<String>,
    /// The incident this verdict belongs to (`alarm@opening time`), when the incident store
    /// knows it: named in the messages, an SNS attribute and the chat thread id.
    #[serde(skip)]
    pub incident: Option<String>,
}

/// Where a verdict's reused evidence came from ([`Verdict::shared_evidence`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SharedFrom {
    /// The alarm whose triage read it.
    pub alarm: String,
    /// When that triage finished reading.
    pub gathered_at: chrono::DateTime<chrono::Utc>,
    /// How old it was when this triage used it.
    pub age_ms: u64,
    /// Calls answered from it instead of AWS.
    pub answers_reused: usize,
    /// Their operations, IAM spelling.
    pub sources: Vec<String>,
}

impl SharedFrom {
    /// One line for the messages: what was reused, from whom, how old.
    pub fn line(&self) -> String {
        format!(
            "{} answers reused from the triage of `{}`, read {:.1} s earlier",
            self.answers_reused,
            self.alarm,
            self.age_ms as f64 / 1000.0
        )
    }
}

impl Verdict {
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Makes every string safe for a terminal, a log line and a message: the verdict quotes
    /// alarm text and AWS answers (names, descriptions, reasons), which may carry control
    /// characters (an ESC sequence, a line break that forges a log line). Every output (JSON,
    /// text, Slack, SNS, the log) is rendered from the verdict, so this is the one place.
    pub(crate) fn clean(&mut self) {
        use crate::untrusted::clean_in_place as c;
        let a = &mut self.alarm;
        for s in [&mut a.name, &mut a.state] {
            c(s);
        }
        for s in [
            &mut a.arn,
            &mut a.previous_state,
            &mut a.namespace,
            &mut a.metric,
            &mut a.description,
            &mut a.reason,
        ]
        .into_iter()
        .flatten()
        {
            c(s);
        }
        a.dimensions = std::mem::take(&mut a.dimensions)
            .into_iter()
            .map(|(k, v)| (crate::untrusted::clean(&k), crate::untrusted::clean(&v)))
            .collect();
        c(&mut self.summary);
        if let Some(shared) = &mut self.shared_evidence {
            c(&mut shared.alarm);
        }
        for f in &mut self.findings {
            c(&mut f.title);
            f.evidence
                .iter_mut()
                .chain(&mut f.next_steps)
                .chain(&mut f.resources)
                .for_each(c);
            if !f.confidence.is_finite() {
                f.confidence = 0.0;
            }
        }
        if let Some(t) = &mut self.trace {
            c(&mut t.metric);
            c(&mut t.stat);
        }
        for r in &mut self.ruled_out {
            c(&mut r.reason);
            if let Some(g) = &mut r.gap {
                c(g);
            }
        }
        for g in &mut self.gaps {
            c(&mut g.source);
            c(&mut g.reason);
            if let Some(r) = &mut g.resource {
                c(r);
            }
        }
    }
}

/// Rounds a confidence to two decimals, within 0..=0.95.
pub(crate) fn clamp_confidence(c: f64) -> f64 {
    (c.clamp(0.0, MAX_CONFIDENCE) * 100.0).round() / 100.0
}
