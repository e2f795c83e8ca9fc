//! Alarm payloads: three envelopes in, one [`Alarm`] out.
//!
//! The envelope is detected by the fields present, never by trying one deserialiser after
//! another: `Records[0].EventSource == "aws:sns"` is SNS, `detail-type == "CloudWatch Alarm
//! State Change"` is EventBridge, a top-level `alarmData` is the direct alarm action. Payloads
//! seen in the wild mix the shapes, so each parser reads leniently: only the alarm name and its
//! new state are required. Anything that is no alarm (an S3 or SQS record, an SNS subscription
//! confirmation, a logs event) is an [`EventError`] saying what it is.
//!
//! `aws_lambda_events` is not used here: its `CloudWatchMetricAlarm` rejects metric-math alarms
//! (no `metricStat`), its SNS alarm payload requires `AlarmDescription`, and its SNS record
//! requires signature fields that forwarded samples lack.

mod classic;
mod described;
mod modern;
pub(crate) mod rule;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::error::EventError;

/// How the alarm reached us.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Envelope {
    Direct,
    Sns,
    Eventbridge,
}

impl Envelope {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Envelope::Direct => "direct",
            Envelope::Sns => "sns",
            Envelope::Eventbridge => "eventbridge",
        }
    }
}

/// What kind of alarm it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlarmKind {
    /// One metric and a statistic.
    Metric,
    /// Several metrics combined by an expression.
    MetricMath,
    /// A rule over other alarms; no metrics of its own.
    Composite,
}

/// One metric an alarm watches.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlarmMetric {
    pub namespace: String,
    pub name: String,
    pub dimensions: BTreeMap<String, String>,
    /// `Sum`, `Average`, ..., `p99`; normalised spelling.
    pub stat: Option<String>,
    pub period: Option<u32>,
}

/// A CloudWatch alarm state change, whatever envelope carried it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alarm {
    pub envelope: Envelope,
    pub kind: AlarmKind,
    pub name: String,
    pub arn: Option<String>,
    pub account: Option<String>,
    pub region: Option<String>,
    pub description: Option<String>,
    /// `ALARM`, `OK` or `INSUFFICIENT_DATA`.
    pub state: String,
    pub previous_state: Option<String>,
    pub reason: Option<String>,
    pub changed_at: Option<DateTime<Utc>>,
    /// When the previous state began (direct and EventBridge payloads carry it; SNS does not).
    pub previous_changed_at: Option<DateTime<Utc>>,
    /// Every metric with a namespace and a name, expression inputs included.
    pub metrics: Vec<AlarmMetric>,
    pub threshold: Option<f64>,
    pub comparison: Option<String>,
    pub evaluation_periods: Option<u32>,
    pub datapoints_to_alarm: Option<u32>,
    /// The rule of a composite alarm.
    pub alarm_rule: Option<String>,
}

impl Alarm {
    /// The metric the alarm is about: the first one (for metric math, the first input).
    pub fn primary_metric(&self) -> Option<&AlarmMetric> {
        self.metrics.first()
    }

    /// Every value of dimension `name` across the alarm's metrics, without repeats.
    pub fn dimension_values(&self, name: &str) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for m in &self.metrics {
            if let Some(v) = m.dimensions.get(name)
                && !out.contains(&v.as_str())
            {
                out.push(v);
            }
        }
        out
    }

    /// The alarm's region: from its ARN, else from the envelope; only a well-formed region
    /// name (it builds ARNs and console links).
    pub fn region(&self) -> Option<&str> {
        self.arn
            .as_deref()
            .and_then(crate::names::region)
            .or(self.region.as_deref())
            .filter(|r| crate::untrusted::is_region(r))
    }

    /// The alarm's account: from its ARN, else from the envelope; only twelve digits.
    pub fn account(&self) -> Option<&str> {
        self.arn
            .as_deref()
            .and_then(crate::names::account)
            .or(self.account.as_deref())
            .filter(|a| crate::untrusted::is_account(a))
    }
}

/// Parses a Lambda payload given as text.
pub fn parse_str(text: &str) -> Result<Alarm, EventError> {
    let value: Value = serde_json::from_str(text).map_err(|e| {
        EventError::NotJson(format!(
            "line {} column {}: {}",
            e.line(),
            e.column(),
            crate::error::short(&e.to_string())
        ))
    })?;
    parse(&value)
}

/// Detects the envelope and parses the alarm it carries.
pub fn parse(payload: &Value) -> Result<Alarm, EventError> {
    let Some(obj) = payload.as_object() else {
        return Err(EventError::UnknownEnvelope(format!(
            "expected a JSON object, got {}",
            json_kind(payload)
        )));
    };
    if let Some(records) = obj.get("Records") {
        return classic::parse_sns(records);
    }
    if let Some(dt) = obj.get("detail-type") {
        let dt = dt.as_str().unwrap_or_default();
        if dt == "CloudWatch Alarm State Change" {
            // Some samples carry `alarmData` under an EventBridge header.
            let body = obj
                .get("detail")
                .or_else(|| obj.get("alarmData"))
                .ok_or_else(|| EventError::Malformed {
                    envelope: "eventbridge",
                    reason: "no `detail`".into(),
                })?;
            let arn = obj
                .get("resources")
                .and_then(|r| r.get(0))
                .and_then(Value::as_str)
                .or_else(|| obj.get("alarmArn").and_then(Value::as_str));
            return modern::parse_body(Envelope::Eventbridge, obj, body, arn);
        }
        return Err(EventError::UnknownEnvelope(format!(
            "an EventBridge event of detail-type `{}`, not a CloudWatch alarm state change",
            crate::error::short(dt)
        )));
    }
    if let Some(body) = obj.get("alarmData") {
        let arn = obj.get("alarmArn").and_then(Value::as_str);
        return modern::parse_body(Envelope::Direct, obj, body, arn);
    }
    if obj.get("Type").and_then(Value::as_str) == Some("SubscriptionConfirmation") {
        return Err(EventError::UnknownEnvelope(
            "an SNS subscription confirmation, not an alarm".into(),
        ));
    }
    if obj.contains_key("awslogs") {
        return Err(EventError::UnknownEnvelope(
            "a CloudWatch Logs subscription event, not an alarm".into(),
        ));
    }
    if obj.contains_key("AlarmName") && obj.contains_key("NewStateValue") {
        return Err(EventError::UnknownEnvelope(
            "a bare classic alarm message: wrap it in an SNS record (`Records[0].Sns.Message`)"
                .into(),
        ));
    }
    let mut keys: Vec<&str> = obj.keys().map(String::as_str).take(8).collect();
    keys.sort_unstable();
    Err(EventError::UnknownEnvelope(format!(
        "none of `Records`, `detail-type`, `alarmData` at the top level (keys: {})",
        crate::error::short(&keys.join(", "))
    )))
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Alarm timestamps come as RFC 3339 (`...Z`) or as `2026-11-22T12:36:15.000+0000`; a time
/// outside the years a triage can reason about (`%Y` accepts `-262143`) is no time.
pub(crate) fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .or_else(|_| DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z"))
        .ok()
        .map(|t| t.with_timezone(&Utc))
        .filter(crate::untrusted::sane_time)
}

/// The threshold quoted in a state reason: `... was greater than the threshold (100).`
pub(crate) fn threshold_from_reason(reason: &str) -> Option<f64> {
    let rest = reason.split("threshold (").nth(1)?;
    let num = rest.split(')').next()?;
    num.trim().parse().ok()
}

pub(crate) fn str_field<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// A number, or a string holding one (classic alarm JSON quotes some); never NaN or infinite
/// (`"NaN"` and `"inf"` parse as f64).
pub(crate) fn num_field(v: &Value, key: &str) -> Option<f64> {
    match v.get(key)? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|n: &f64| n.is_finite())
}

pub(crate) fn u32_field(v: &Value, key: &str) -> Option<u32> {
    num_field(v, key)
        .filter(|n| *n >= 0.0 && *n <= f64::from(u32::MAX))
        .map(|n| n as u32)
}

/// The previous state when it is one of the three; anything else is not known (it is
/// echoed in summaries, so payload text there would be words fivexx never meant).
pub(crate) fn known_state(state: &str) -> Option<String> {
    matches!(state, "ALARM" | "OK" | "INSUFFICIENT_DATA").then(|| state.to_owned())
}

/// `ALARM`, `OK`, `INSUFFICIENT_DATA`; anything else is refused.
pub(crate) fn check_state(envelope: &'static str, state: &str) -> Result<String, EventError> {
    match state {
        "ALARM" | "OK" | "INSUFFICIENT_DATA" => Ok(state.to_owned()),
        other => Err(EventError::Malformed {
            envelope,
            reason: format!("unknown alarm state `{}`", crate::error::short(other)),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_in_both_spellings() {
        let a = parse_time("2026-11-22T12:36:15.000+0000").unwrap();
        let b = parse_time("2026-11-22T12:36:15Z").unwrap();
        assert_eq!(a, b);
        assert!(parse_time("yesterday").is_none());
    }

    #[test]
    fn far_timestamps_are_no_time() {
        assert!(parse_time("-262143-01-01T00:00:00.000+0000").is_none());
        assert!(parse_time("+262143-12-31T23:59:59Z").is_none());
        assert!(parse_time("1969-12-31T23:59:59Z").is_none());
        assert!(parse_time("9999-12-31T23:59:59.999Z").is_some());
    }

    #[test]
    fn threshold_in_reason() {
        let r = "Threshold Crossed: 1 out of the last 1 datapoints [20.2 (22/11/26 12:36:00)] was greater than the threshold (20).";
        assert_eq!(threshold_from_reason(r), Some(20.0));
        assert_eq!(threshold_from_reason("no number"), None);
    }
}
