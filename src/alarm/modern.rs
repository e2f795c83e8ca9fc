//! The direct alarm action and EventBridge bodies: camelCase `alarmName`, `state`,
//! `previousState`, `configuration.metrics[].metricStat.metric` with a dimensions map, or
//! `configuration.alarmRule` for a composite alarm.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::{
    Alarm, AlarmKind, AlarmMetric, Envelope, check_state, known_state, parse_time, str_field,
    threshold_from_reason, u32_field,
};
use crate::error::EventError;
use crate::names::normalize_stat;

pub(super) fn parse_body(
    envelope: Envelope,
    header: &Map<String, Value>,
    body: &Value,
    arn: Option<&str>,
) -> Result<Alarm, EventError> {
    let env = envelope.as_str();
    let malformed = |reason: &str| EventError::Malformed {
        envelope: env,
        reason: reason.to_owned(),
    };
    if !body.is_object() {
        return Err(malformed("the alarm body is not an object"));
    }
    let name = str_field(body, "alarmName")
        .ok_or_else(|| malformed("no `alarmName`"))?
        .to_owned();
    let state = body.get("state").ok_or_else(|| malformed("no `state`"))?;
    let state_value = check_state(
        env,
        str_field(state, "value").ok_or_else(|| malformed("no `state.value`"))?,
    )?;
    let reason = str_field(state, "reason").map(str::to_owned);
    let config = body.get("configuration");
    let mut metrics = Vec::new();
    let mut kind = AlarmKind::Composite;
    if let Some(list) = config
        .and_then(|c| c.get("metrics"))
        .and_then(Value::as_array)
    {
        kind = if list.len() > 1 || list.iter().any(|m| m.get("expression").is_some()) {
            AlarmKind::MetricMath
        } else {
            AlarmKind::Metric
        };
        for entry in list {
            if let Some(ms) = entry.get("metricStat")
                && let Some(m) = modern_metric(ms)
            {
                metrics.push(m);
            }
        }
    }
    let header_str = |k: &str| header.get(k).and_then(Value::as_str).map(str::to_owned);
    Ok(Alarm {
        envelope,
        kind,
        name,
        arn: arn.map(str::to_owned),
        account: header_str("accountId").or_else(|| header_str("account")),
        region: header_str("region"),
        description: config
            .and_then(|c| str_field(c, "description"))
            .map(str::to_owned),
        state: state_value,
        previous_state: body
            .get("previousState")
            .and_then(|p| str_field(p, "value"))
            .and_then(known_state),
        previous_changed_at: body
            .get("previousState")
            .and_then(|p| str_field(p, "timestamp"))
            .and_then(parse_time),
        threshold: reason.as_deref().and_then(threshold_from_reason),
        reason,
        changed_at: str_field(state, "timestamp")
            .and_then(parse_time)
            .or_else(|| header_str("time").as_deref().and_then(parse_time)),
        metrics,
        comparison: None,
        evaluation_periods: None,
        datapoints_to_alarm: None,
        alarm_rule: config
            .and_then(|c| str_field(c, "alarmRule"))
            .map(str::to_owned),
    })
}

/// `{metric: {namespace, name, dimensions: {k: v}}, period, stat}`.
fn modern_metric(ms: &Value) -> Option<AlarmMetric> {
    let metric = ms.get("metric")?;
    let name = str_field(metric, "name").or_else(|| str_field(metric, "metricName"))?;
    let namespace = str_field(metric, "namespace")?;
    let mut dimensions = BTreeMap::new();
    match metric.get("dimensions") {
        Some(Value::Object(map)) => {
            for (k, v) in map {
                if let Some(v) = v.as_str() {
                    dimensions.insert(k.clone(), v.to_owned());
                }
            }
        }
        Some(Value::Array(list)) => {
            for d in list {
                let key = str_field(d, "name").or_else(|| str_field(d, "Name"));
                let value = str_field(d, "value").or_else(|| str_field(d, "Value"));
                if let (Some(k), Some(v)) = (key, value) {
                    dimensions.insert(k.to_owned(), v.to_owned());
                }
            }
        }
        _ => {}
    }
    Some(AlarmMetric {
        namespace: namespace.to_owned(),
        name: name.to_owned(),
        dimensions,
        stat: str_field(ms, "stat").map(normalize_stat),
        period: u32_field(ms, "period"),
    })
}
