//! What `DescribeAlarms` adds to a payload: the evaluation periods, datapoints to alarm and
//! period the direct and EventBridge payloads leave out, the metrics of a payload that names
//! none, and a composite alarm's children.
//!
//! The payload wins wherever it has a value: the description fills only what it lacks.

use std::collections::BTreeMap;

use super::{Alarm, AlarmKind, AlarmMetric};
use crate::evidence::cloudwatch::{DescribedAlarms, Dimension, MetricAlarm};
use crate::names::normalize_stat;

/// A count or a period from CloudWatch: positive and within `u32`, else unknown.
fn positive(n: Option<i64>) -> Option<u32> {
    n.and_then(|n| u32::try_from(n).ok()).filter(|n| *n > 0)
}

fn dimension_map(dims: &[Dimension]) -> BTreeMap<String, String> {
    dims.iter()
        .map(|d| (d.name.clone(), d.value.clone()))
        .collect()
}

/// Every metric a described alarm watches: its own metric, else its metric math inputs.
fn metrics_of(a: &MetricAlarm) -> Vec<AlarmMetric> {
    let mut out = Vec::new();
    if let (Some(namespace), Some(name)) = (&a.namespace, &a.metric_name)
        && !namespace.is_empty()
        && !name.is_empty()
    {
        out.push(AlarmMetric {
            namespace: namespace.clone(),
            name: name.clone(),
            dimensions: dimension_map(&a.dimensions),
            stat: a
                .statistic
                .as_deref()
                .or(a.extended_statistic.as_deref())
                .map(normalize_stat),
            period: positive(a.period),
        });
    }
    for q in &a.metrics {
        let Some(ms) = &q.metric_stat else {
            continue;
        };
        if ms.metric.namespace.is_empty() || ms.metric.metric_name.is_empty() {
            continue;
        }
        out.push(AlarmMetric {
            namespace: ms.metric.namespace.clone(),
            name: ms.metric.metric_name.clone(),
            dimensions: dimension_map(&ms.metric.dimensions),
            stat: ms.stat.as_deref().map(normalize_stat),
            period: positive(ms.period),
        });
    }
    out
}

/// A composite alarm's children, as the triage saw them.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Children {
    /// The children whose metrics the triage examines.
    pub triaged: Vec<String>,
    /// The others, each with why not (`b is on AWS/RDS`).
    pub not_triaged: Vec<String>,
}

impl Alarm {
    /// Fills what the payload lacks from the alarm's own description (`None`: CloudWatch knew
    /// no metric alarm of that name, and the payload stays as it is).
    pub(crate) fn fill_from(&mut self, own: Option<&MetricAlarm>) {
        let Some(own) = own else {
            return;
        };
        let described = metrics_of(own);
        if self.metrics.is_empty() && !described.is_empty() {
            self.kind = if own.metrics.is_empty() {
                AlarmKind::Metric
            } else {
                AlarmKind::MetricMath
            };
            self.metrics = described;
        } else {
            for m in &mut self.metrics {
                let same = described.iter().find(|d| {
                    d.namespace == m.namespace && d.name == m.name && d.dimensions == m.dimensions
                });
                if let Some(d) = same {
                    m.period = m.period.or(d.period);
                    m.stat = m.stat.take().or_else(|| d.stat.clone());
                }
            }
        }
        self.evaluation_periods = self.evaluation_periods.or(positive(own.evaluation_periods));
        self.datapoints_to_alarm = self
            .datapoints_to_alarm
            .or(positive(own.datapoints_to_alarm));
        self.threshold = self.threshold.or(own.threshold.filter(|t| t.is_finite()));
        if self.comparison.is_none() {
            self.comparison.clone_from(&own.comparison_operator);
        }
        if self.arn.is_none() {
            self.arn.clone_from(&own.alarm_arn);
        }
    }

    /// A composite alarm's rule: the payload's, else the description's.
    pub(crate) fn rule<'a>(&'a self, described: &'a DescribedAlarms) -> Option<&'a str> {
        self.alarm_rule.as_deref().or_else(|| {
            described
                .composite_alarm(&self.name)
                .and_then(|c| c.alarm_rule.as_deref())
        })
    }

    /// Takes a composite alarm's children that are metric alarms on a front door as its
    /// metrics (the first of them fills the evaluation, as its own description would), and
    /// says why each other child is not examined. When no child is on a front door, the first
    /// metric child's metrics are taken, so the scope says which namespace it watches.
    pub(crate) fn fill_from_children(
        &mut self,
        names: &[String],
        described: &DescribedAlarms,
    ) -> Children {
        let mut children = Children::default();
        let mut first_metric_child: Option<&MetricAlarm> = None;
        let mut first_triaged: Option<&MetricAlarm> = None;
        for name in names {
            if let Some(child) = described.metric_alarm(name) {
                let metrics = metrics_of(child);
                first_metric_child = first_metric_child.or(Some(child));
                let on_front_door = metrics
                    .iter()
                    .any(|m| crate::scope::is_front_door(&m.namespace));
                if let (false, Some(m)) = (on_front_door, metrics.first()) {
                    children
                        .not_triaged
                        .push(format!("{name} is on {}", m.namespace));
                } else if metrics.is_empty() {
                    children.not_triaged.push(format!("{name} names no metric"));
                } else {
                    first_triaged = first_triaged.or(Some(child));
                    children.triaged.push(name.clone());
                    for m in metrics {
                        if !self.metrics.contains(&m) {
                            self.metrics.push(m);
                        }
                    }
                }
            } else if described.composite_alarm(name).is_some() {
                children
                    .not_triaged
                    .push(format!("{name} is a composite alarm"));
            } else {
                children.not_triaged.push(format!("{name} was not found"));
            }
        }
        if let Some(child) = first_triaged.or(first_metric_child) {
            if self.metrics.is_empty() {
                self.metrics = metrics_of(child);
            }
            // The evaluation and threshold are the child's: the composite has none.
            let (metrics, kind) = (std::mem::take(&mut self.metrics), self.kind);
            self.fill_from(Some(child));
            self.metrics = metrics;
            self.kind = kind;
        }
        children
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alarm::Envelope;
    use crate::evidence::cloudwatch::{
        AlarmMetricName, AlarmMetricStat, AlarmQuery, CompositeAlarm,
    };

    fn payload(metrics: Vec<AlarmMetric>) -> Alarm {
        Alarm {
            envelope: Envelope::Direct,
            kind: if metrics.is_empty() {
                AlarmKind::Composite
            } else {
                AlarmKind::Metric
            },
            name: "web".into(),
            arn: None,
            account: None,
            region: None,
            description: None,
            state: "ALARM".into(),
            previous_state: None,
            reason: None,
            changed_at: None,
            previous_changed_at: None,
            metrics,
            threshold: None,
            comparison: None,
            evaluation_periods: None,
            datapoints_to_alarm: None,
            alarm_rule: None,
        }
    }

    fn alb_metric(period: Option<u32>) -> AlarmMetric {
        AlarmMetric {
            namespace: "AWS/ApplicationELB".into(),
            name: "HTTPCode_ELB_5XX_Count".into(),
            dimensions: [("LoadBalancer".to_owned(), "app/web/1".to_owned())].into(),
            stat: Some("Sum".into()),
            period,
        }
    }

    fn described(name: &str, namespace: &str) -> MetricAlarm {
        MetricAlarm {
            alarm_name: name.into(),
            namespace: Some(namespace.into()),
            metric_name: Some("HTTPCode_ELB_5XX_Count".into()),
            dimensions: vec![Dimension {
                name: "LoadBalancer".into(),
                value: "app/web/1".into(),
            }],
            period: Some(300),
            statistic: Some("Sum".into()),
            evaluation_periods: Some(3),
            datapoints_to_alarm: Some(2),
            threshold: Some(10.0),
            comparison_operator: Some("GreaterThanThreshold".into()),
            ..MetricAlarm::default()
        }
    }

    #[test]
    fn the_payload_wins_and_the_description_fills_the_rest() {
        let mut a = payload(vec![alb_metric(Some(60))]);
        a.threshold = Some(5.0);
        a.fill_from(Some(&described("web", "AWS/ApplicationELB")));
        assert_eq!(a.evaluation_periods, Some(3));
        assert_eq!(a.datapoints_to_alarm, Some(2));
        assert_eq!(a.metrics[0].period, Some(60));
        assert_eq!(a.threshold, Some(5.0));
        let mut b = payload(vec![alb_metric(None)]);
        b.evaluation_periods = Some(7);
        b.fill_from(Some(&described("web", "AWS/ApplicationELB")));
        assert_eq!(b.metrics[0].period, Some(300));
        assert_eq!(b.evaluation_periods, Some(7));
        let mut odd = described("web", "AWS/ApplicationELB");
        odd.evaluation_periods = Some(-1);
        odd.period = Some(i64::MAX);
        let mut c = payload(vec![alb_metric(None)]);
        c.fill_from(Some(&odd));
        assert_eq!(c.evaluation_periods, None);
        assert_eq!(c.metrics[0].period, None);
    }

    #[test]
    fn a_payload_without_metrics_takes_the_described_ones() {
        let mut a = payload(Vec::new());
        let mut math = MetricAlarm {
            alarm_name: "web".into(),
            evaluation_periods: Some(2),
            ..MetricAlarm::default()
        };
        math.metrics = vec![
            AlarmQuery {
                id: "e1".into(),
                expression: Some("m1".into()),
                ..AlarmQuery::default()
            },
            AlarmQuery {
                id: "m1".into(),
                metric_stat: Some(AlarmMetricStat {
                    metric: AlarmMetricName {
                        namespace: "AWS/ApplicationELB".into(),
                        metric_name: "RequestCount".into(),
                        dimensions: Vec::new(),
                    },
                    period: Some(60),
                    stat: Some("Sum".into()),
                }),
                ..AlarmQuery::default()
            },
        ];
        a.fill_from(Some(&math));
        assert_eq!(a.kind, AlarmKind::MetricMath);
        assert_eq!(a.metrics.len(), 1);
        assert_eq!(a.metrics[0].name, "RequestCount");
        assert_eq!(a.evaluation_periods, Some(2));
    }

    #[test]
    fn composite_children_on_a_front_door_are_its_metrics() {
        let mut a = payload(Vec::new());
        let answer = DescribedAlarms {
            metric_alarms: vec![
                described("db", "AWS/RDS"),
                described("alb", "AWS/ApplicationELB"),
            ],
            composite_alarms: vec![CompositeAlarm {
                alarm_name: "inner".into(),
                ..CompositeAlarm::default()
            }],
        };
        let names: Vec<String> = ["db", "alb", "inner", "gone"].map(str::to_owned).to_vec();
        let children = a.fill_from_children(&names, &answer);
        assert_eq!(children.triaged, ["alb"]);
        assert_eq!(
            children.not_triaged,
            [
                "db is on AWS/RDS",
                "inner is a composite alarm",
                "gone was not found"
            ]
        );
        assert_eq!(a.metrics.len(), 1);
        assert_eq!(a.metrics[0].namespace, "AWS/ApplicationELB");
        assert_eq!(a.evaluation_periods, Some(3));
        assert_eq!(a.kind, AlarmKind::Composite);
        let mut foreign = payload(Vec::new());
        let only_db = DescribedAlarms {
            metric_alarms: vec![described("db", "AWS/RDS")],
            ..DescribedAlarms::default()
        };
        let children = foreign.fill_from_children(&["db".to_owned()], &only_db);
        assert!(children.triaged.is_empty());
        assert_eq!(foreign.metrics[0].namespace, "AWS/RDS");
    }
}
