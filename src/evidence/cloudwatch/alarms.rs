//! `DescribeAlarms`: the alarm's own configuration (evaluation periods, period, metrics, a
//! composite alarm's rule), and the world file's `CloudWatch.DescribeAlarms` section.
//!
//! The section is keyed by alarm name and holds what
//! `aws cloudwatch describe-alarms --alarm-names NAME --alarm-types MetricAlarm CompositeAlarm`
//! prints. A name the section does not hold answers empty lists, as CloudWatch answers for an
//! alarm it does not know; a world with no section at all answers the same way (it was written
//! before fivexx read alarms, and the triage then works from the payload alone).

use std::collections::BTreeMap;

use aws_sdk_cloudwatch::types as cw;
use serde::{Deserialize, Serialize};

use super::Dimension;
use crate::evidence::port::{Answer, Op, Operation};
use crate::evidence::record::Recording;
use crate::evidence::sdk::{AwsSdk, OnWorker, opt_str};
use crate::evidence::world::World;

/// CloudWatch takes at most this many names in one `DescribeAlarms` request.
pub(crate) const MAX_ALARM_NAMES: usize = 100;

/// What `DescribeAlarms` answers: the metric and composite alarms with the names asked for.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribedAlarms {
    #[serde(default)]
    pub metric_alarms: Vec<MetricAlarm>,
    #[serde(default)]
    pub composite_alarms: Vec<CompositeAlarm>,
}

impl DescribedAlarms {
    pub(crate) fn metric_alarm(&self, name: &str) -> Option<&MetricAlarm> {
        self.metric_alarms.iter().find(|a| a.alarm_name == name)
    }

    pub(crate) fn composite_alarm(&self, name: &str) -> Option<&CompositeAlarm> {
        self.composite_alarms.iter().find(|a| a.alarm_name == name)
    }

    /// Adds the alarms of `other` that this answer does not hold yet.
    pub(crate) fn merge(&mut self, other: &DescribedAlarms) {
        for a in &other.metric_alarms {
            if self.metric_alarm(&a.alarm_name).is_none() {
                self.metric_alarms.push(a.clone());
            }
        }
        for a in &other.composite_alarms {
            if self.composite_alarm(&a.alarm_name).is_none() {
                self.composite_alarms.push(a.clone());
            }
        }
    }

    /// The part of this answer about alarm `name`.
    fn only(&self, name: &str) -> DescribedAlarms {
        DescribedAlarms {
            metric_alarms: self
                .metric_alarms
                .iter()
                .filter(|a| a.alarm_name == name)
                .cloned()
                .collect(),
            composite_alarms: self
                .composite_alarms
                .iter()
                .filter(|a| a.alarm_name == name)
                .cloned()
                .collect(),
        }
    }
}

/// A metric alarm, in the fields fivexx reads. Numbers are `i64` so that an odd world value
/// loads and is judged where it is used, not refused with the whole file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MetricAlarm {
    #[serde(default)]
    pub alarm_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alarm_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric_name: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dimensions: Vec<Dimension>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statistic: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extended_statistic: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evaluation_periods: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datapoints_to_alarm: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comparison_operator: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub treat_missing_data: Option<String>,
    /// A metric math alarm's queries.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metrics: Vec<AlarmQuery>,
}

/// One query of a metric math alarm: a metric, or an expression over the others.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AlarmQuery {
    #[serde(default)]
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expression: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric_stat: Option<AlarmMetricStat>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_data: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AlarmMetricStat {
    #[serde(default)]
    pub metric: AlarmMetricName,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stat: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AlarmMetricName {
    #[serde(default)]
    pub namespace: String,
    #[serde(default)]
    pub metric_name: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dimensions: Vec<Dimension>,
}

/// A composite alarm: a rule over other alarms.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CompositeAlarm {
    #[serde(default)]
    pub alarm_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alarm_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alarm_rule: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_value: Option<String>,
}

fn dimensions(list: &[cw::Dimension]) -> Vec<Dimension> {
    list.iter()
        .filter_map(|d| {
            Some(Dimension {
                name: d.name()?.to_owned(),
                value: d.value()?.to_owned(),
            })
        })
        .collect()
}

fn metric_alarm(a: &cw::MetricAlarm) -> MetricAlarm {
    MetricAlarm {
        alarm_name: a.alarm_name().unwrap_or_default().to_owned(),
        alarm_arn: opt_str(a.alarm_arn()),
        namespace: opt_str(a.namespace()),
        metric_name: opt_str(a.metric_name()),
        dimensions: dimensions(a.dimensions()),
        period: a.period().map(i64::from),
        statistic: a.statistic().map(|s| s.as_str().to_owned()),
        extended_statistic: opt_str(a.extended_statistic()),
        evaluation_periods: a.evaluation_periods().map(i64::from),
        datapoints_to_alarm: a.datapoints_to_alarm().map(i64::from),
        threshold: a.threshold(),
        comparison_operator: a.comparison_operator().map(|c| c.as_str().to_owned()),
        treat_missing_data: opt_str(a.treat_missing_data()),
        metrics: a
            .metrics()
            .iter()
            .map(|q| AlarmQuery {
                id: q.id().unwrap_or_default().to_owned(),
                expression: opt_str(q.expression()),
                metric_stat: q.metric_stat().map(|ms| AlarmMetricStat {
                    metric: ms
                        .metric()
                        .map(|m| AlarmMetricName {
                            namespace: m.namespace().unwrap_or_default().to_owned(),
                            metric_name: m.metric_name().unwrap_or_default().to_owned(),
                            dimensions: dimensions(m.dimensions()),
                        })
                        .unwrap_or_default(),
                    period: ms.period().map(i64::from),
                    stat: opt_str(ms.stat()),
                }),
                return_data: q.return_data(),
            })
            .collect(),
    }
}

fn composite_alarm(a: &cw::CompositeAlarm) -> CompositeAlarm {
    CompositeAlarm {
        alarm_name: a.alarm_name().unwrap_or_default().to_owned(),
        alarm_arn: opt_str(a.alarm_arn()),
        alarm_rule: opt_str(a.alarm_rule()),
        state_value: a.state_value().map(|s| s.as_str().to_owned()),
    }
}

/// `DescribeAlarms` of metric and composite alarms by name (at most [`MAX_ALARM_NAMES`]).
pub struct DescribeAlarms;

impl Operation for DescribeAlarms {
    const OP: Op = Op::DescribeAlarms;
    /// The alarm names.
    type Input = [String];
    type Output = DescribedAlarms;

    /// The name; several names joined by `,`.
    fn key(_region: &str, names: &[String]) -> String {
        names.join(",")
    }

    async fn sdk(sdk: &AwsSdk, region: &str, names: &[String]) -> Answer<DescribedAlarms> {
        let client = sdk.cw(region);
        let mut out = DescribedAlarms::default();
        sdk.paginate(
            |token| {
                client
                    .describe_alarms()
                    .set_alarm_names(Some(names.to_vec()))
                    .alarm_types(cw::AlarmType::MetricAlarm)
                    .alarm_types(cw::AlarmType::CompositeAlarm)
                    .set_next_token(token)
                    .send()
                    .on_worker()
            },
            |r| crate::evidence::sdk::marker(r.next_token()),
            |r| {
                out.metric_alarms
                    .extend(r.metric_alarms().iter().map(metric_alarm));
                out.composite_alarms
                    .extend(r.composite_alarms().iter().map(composite_alarm));
            },
        )
        .await?;
        Ok(out)
    }

    /// Each name's entry, merged; a name without one answers nothing (CloudWatch's empty
    /// lists for an alarm it does not know).
    fn world(w: &World, _region: &str, names: &[String]) -> Answer<DescribedAlarms> {
        let mut out = DescribedAlarms::default();
        for name in names {
            if let Some(entry) = w.cloudwatch.describe_alarms.get(name) {
                out.merge(entry);
            }
        }
        Ok(out)
    }

    /// One entry per name asked for, empty when CloudWatch knew no such alarm, so the replay
    /// answers the same.
    fn record(rec: &mut Recording, _region: &str, names: &[String], out: &DescribedAlarms) {
        for name in names {
            rec.world
                .cloudwatch
                .describe_alarms
                .insert(name.clone(), out.only(name));
        }
    }
}

/// The world section: each alarm name's `DescribeAlarms` answer.
pub(crate) type AlarmsWorld = BTreeMap<String, DescribedAlarms>;

#[cfg(test)]
mod tests {
    use super::*;

    fn world(text: &str) -> World {
        World::parse(text).unwrap()
    }

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    const WORLD: &str = r#"{"Format":"fivexx-world/1","Region":"us-east-1","CloudWatch":{"DescribeAlarms":{
        "web-5xx":{"MetricAlarms":[{"AlarmName":"web-5xx","Namespace":"AWS/ApplicationELB",
            "MetricName":"HTTPCode_ELB_5XX_Count","Dimensions":[{"Name":"LoadBalancer","Value":"app/web/1"}],
            "Period":300,"Statistic":"Sum","EvaluationPeriods":3,"DatapointsToAlarm":2,
            "Threshold":10.0,"ComparisonOperator":"GreaterThanThreshold","TreatMissingData":"notBreaching"}],
            "CompositeAlarms":[]},
        "front":{"MetricAlarms":[],"CompositeAlarms":[{"AlarmName":"front","AlarmRule":"ALARM(web-5xx)","StateValue":"ALARM"}]},
        "math":{"MetricAlarms":[{"AlarmName":"math","EvaluationPeriods":2,"Metrics":[
            {"Id":"e1","Expression":"m1/m2","ReturnData":true},
            {"Id":"m1","MetricStat":{"Metric":{"Namespace":"AWS/ApplicationELB","MetricName":"HTTPCode_ELB_5XX_Count",
              "Dimensions":[{"Name":"LoadBalancer","Value":"app/web/1"}]},"Period":60,"Stat":"Sum"},"ReturnData":false}]}]}
    }}}"#;

    #[test]
    fn world_answers_by_name_and_empty_for_an_unknown_one() {
        let w = world(WORLD);
        let a = DescribeAlarms::world(&w, "us-east-1", &names(&["web-5xx"])).unwrap();
        let m = a.metric_alarm("web-5xx").unwrap();
        assert_eq!(m.evaluation_periods, Some(3));
        assert_eq!(m.period, Some(300));
        assert_eq!(m.dimensions[0].value, "app/web/1");
        let none = DescribeAlarms::world(&w, "us-east-1", &names(&["gone"])).unwrap();
        assert_eq!(none, DescribedAlarms::default());
        let both =
            DescribeAlarms::world(&w, "us-east-1", &names(&["front", "math", "gone"])).unwrap();
        assert_eq!(
            both.composite_alarm("front").unwrap().alarm_rule.as_deref(),
            Some("ALARM(web-5xx)")
        );
        let math = both.metric_alarm("math").unwrap();
        assert_eq!(math.metrics.len(), 2);
        assert_eq!(
            math.metrics[1]
                .metric_stat
                .as_ref()
                .unwrap()
                .metric
                .metric_name,
            "HTTPCode_ELB_5XX_Count"
        );
    }

    #[test]
    fn a_world_without_the_section_answers_empty_lists() {
        let w = world(r#"{"Format":"fivexx-world/1","Region":"us-east-1"}"#);
        assert_eq!(
            DescribeAlarms::world(&w, "us-east-1", &names(&["web-5xx"])).unwrap(),
            DescribedAlarms::default()
        );
        assert!(!w.to_json().contains("DescribeAlarms"));
    }

    #[tokio::test]
    async fn faults_and_errors_fail_it() {
        use crate::evidence::port::Port;
        let faulted = world(
            r#"{"Format":"fivexx-world/1","Region":"us-east-1",
                "Faults":{"cloudwatch:DescribeAlarms":{"Code":"AccessDenied","Message":"no"}}}"#,
        );
        let input = names(&["web-5xx"]);
        let answer = faulted.call::<DescribeAlarms>("us-east-1", &input).await;
        assert_eq!(answer.unwrap_err().code, "AccessDenied");
        let errored = world(
            r#"{"Format":"fivexx-world/1","Region":"us-east-1",
                "Errors":{"cloudwatch:DescribeAlarms":{"web-5xx":{"Code":"Throttling"}}}}"#,
        );
        let answer = errored.call::<DescribeAlarms>("us-east-1", &input).await;
        assert_eq!(answer.unwrap_err().code, "Throttling");
        let other = names(&["other"]);
        assert!(
            errored
                .call::<DescribeAlarms>("us-east-1", &other)
                .await
                .is_ok()
        );
    }

    #[test]
    fn a_recording_keeps_each_name_apart() {
        let w = world(WORLD);
        let asked = names(&["web-5xx", "front", "gone"]);
        let answer = DescribeAlarms::world(&w, "us-east-1", &asked).unwrap();
        let mut rec = Recording {
            world: world(r#"{"Format":"fivexx-world/1","Region":"us-east-1"}"#),
            ..Recording::default()
        };
        DescribeAlarms::record(&mut rec, "us-east-1", &asked, &answer);
        let saved = &rec.world.cloudwatch.describe_alarms;
        assert_eq!(saved.len(), 3);
        assert_eq!(saved["gone"], DescribedAlarms::default());
        assert_eq!(saved["front"].composite_alarms.len(), 1);
        assert!(saved["front"].metric_alarms.is_empty());
        let replayed = World::parse(&rec.world.to_json()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            DescribeAlarms::world(&replayed, "us-east-1", &asked).unwrap(),
            answer
        );
    }
}
