//! The SNS envelope: `Records[0].Sns.Message` holds the classic alarm JSON (PascalCase,
//! `Trigger` with `Dimensions: [{name, value}]` or, for metric math, `Metrics[]`).

use std::collections::BTreeMap;

use serde_json::Value;

use super::{
    Alarm, AlarmKind, AlarmMetric, Envelope, check_state, known_state, num_field, parse_time,
    str_field, threshold_from_reason, u32_field,
};
use crate::error::EventError;
use crate::names::normalize_stat;

const ENV: &str = "sns";

fn malformed(reason: impl Into<String>) -> EventError {
    EventError::Malformed {
        envelope: ENV,
        reason: reason.into(),
    }
}

pub(super) fn parse_sns(records: &Value) -> Result<Alarm, EventError> {
    let record = records
        .as_array()
        .and_then(|r| r.first())
        .ok_or_else(|| EventError::UnknownEnvelope("`Records` is empty or not a list".into()))?;
    let source = str_field(record, "EventSource")
        .or_else(|| str_field(record, "eventSource"))
        .unwrap_or_default();
    if source != "aws:sns" {
        let what = if source.is_empty() {
            "records without an `EventSource`".to_owned()
        } else {
            format!("a `{}` event", crate::error::short(source))
        };
        return Err(EventError::UnknownEnvelope(format!("{what}, not an alarm")));
    }
    let sns = record
        .get("Sns")
        .ok_or_else(|| malformed("`Records[0].Sns` is missing"))?;
    let message = str_field(sns, "Message").ok_or_else(|| malformed("no `Sns.Message`"))?;
    let alarm: Value = serde_json::from_str(message).map_err(|_| {
        EventError::UnknownEnvelope(format!(
            "an SNS message that is not CloudWatch alarm JSON (starts `{}`)",
            crate::error::short(&message.chars().take(60).collect::<String>())
        ))
    })?;
    if alarm.get("AlarmName").is_none() || alarm.get("NewStateValue").is_none() {
        return Err(EventError::UnknownEnvelope(
            "an SNS message without `AlarmName` and `NewStateValue`: not a CloudWatch alarm".into(),
        ));
    }
    parse_classic(&alarm)
}

/// The classic alarm JSON that CloudWatch publishes to SNS.
pub(super) fn parse_classic(v: &Value) -> Result<Alarm, EventError> {
    let name = str_field(v, "AlarmName")
        .ok_or_else(|| malformed("`AlarmName` is empty"))?
        .to_owned();
    let state = check_state(
        ENV,
        str_field(v, "NewStateValue").ok_or_else(|| malformed("`NewStateValue` is empty"))?,
    )?;
    let reason = str_field(v, "NewStateReason").map(str::to_owned);
    let trigger = v.get("Trigger").filter(|t| t.is_object());
    let mut metrics = Vec::new();
    let mut kind = AlarmKind::Composite;
    if let Some(t) = trigger {
        if let Some(m) = classic_metric(t, t.get("Dimensions")) {
            metrics.push(m);
            kind = AlarmKind::Metric;
        }
        if let Some(list) = t.get("Metrics").and_then(Value::as_array) {
            kind = AlarmKind::MetricMath;
            for entry in list {
                if let Some(ms) = entry.get("MetricStat")
                    && let Some(metric) = ms.get("Metric")
                    && let Some(mut m) = classic_metric(metric, metric.get("Dimensions"))
                {
                    m.stat = str_field(ms, "Stat").map(normalize_stat);
                    m.period = u32_field(ms, "Period");
                    metrics.push(m);
                }
            }
        }
    }
    let threshold = trigger
        .and_then(|t| num_field(t, "Threshold"))
        .or_else(|| reason.as_deref().and_then(threshold_from_reason));
    Ok(Alarm {
        envelope: Envelope::Sns,
        kind,
        name,
        arn: str_field(v, "AlarmArn").map(str::to_owned),
        account: str_field(v, "AWSAccountId").map(str::to_owned),
        region: None,
        description: str_field(v, "AlarmDescription").map(str::to_owned),
        state,
        previous_state: str_field(v, "OldStateValue").and_then(known_state),
        reason,
        changed_at: str_field(v, "StateChangeTime").and_then(parse_time),
        previous_changed_at: None,
        metrics,
        threshold,
        comparison: trigger
            .and_then(|t| str_field(t, "ComparisonOperator"))
            .map(str::to_owned),
        evaluation_periods: trigger.and_then(|t| u32_field(t, "EvaluationPeriods")),
        datapoints_to_alarm: trigger.and_then(|t| u32_field(t, "DatapointsToAlarm")),
        alarm_rule: str_field(v, "AlarmRule").map(str::to_owned),
    })
}

/// `{MetricName, Namespace, Statistic|ExtendedStatistic, Period}` with `[{name, value}]`.
fn classic_metric(v: &Value, dims: Option<&Value>) -> Option<AlarmMetric> {
    let name = str_field(v, "MetricName")?;
    let namespace = str_field(v, "Namespace")?;
    let mut dimensions = BTreeMap::new();
    for d in dims.and_then(Value::as_array).into_iter().flatten() {
        let key = str_field(d, "name").or_else(|| str_field(d, "Name"));
        let value = str_field(d, "value").or_else(|| str_field(d, "Value"));
        if let (Some(k), Some(val)) = (key, value) {
            dimensions.insert(k.to_owned(), val.to_owned());
        }
    }
    Some(AlarmMetric {
        namespace: namespace.to_owned(),
        name: name.to_owned(),
        dimensions,
        stat: str_field(v, "ExtendedStatistic")
            .or_else(|| str_field(v, "Statistic"))
            .map(normalize_stat),
        period: u32_field(v, "Period"),
    })
}
