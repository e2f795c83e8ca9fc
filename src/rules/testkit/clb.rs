//! The Classic Load Balancer side of the kit.

use super::*;
use crate::evidence::ClbEvidence;
use crate::evidence::clb::{
    ConnectionSettings, HealthCheck, Instance, InstanceState, LoadBalancerAttributes,
    LoadBalancerDescription,
};

pub(crate) const CLB_NAME: &str = "legacy";

/// An alarm on the Classic Load Balancer's `metric` (Sum per minute).
pub(crate) fn clb_alarm(metric: &str) -> Alarm {
    alarm(
        &format!("legacy-{}", metric.to_ascii_lowercase()),
        AlarmMetric {
            namespace: "AWS/ELB".to_owned(),
            name: metric.to_owned(),
            dimensions: dims(&[("LoadBalancerName", CLB_NAME)]),
            stat: Some("Sum".to_owned()),
            period: Some(60),
        },
    )
}

/// Classic Load Balancer `legacy`: HTTP:80 to 8080, health check `HTTP:8080/health`, idle
/// timeout 60 s, `n` instances with the given states.
#[derive(Debug, Clone)]
pub(crate) struct Clb(pub ClbEvidence);

impl Clb {
    pub(crate) fn new(states: &[&str]) -> Self {
        let ids: Vec<String> = (0..states.len()).map(|i| format!("i-0{i:016x}")).collect();
        Self(ClbEvidence {
            region: REGION.to_owned(),
            name: CLB_NAME.to_owned(),
            load_balancer: Some(LoadBalancerDescription {
                load_balancer_name: CLB_NAME.to_owned(),
                dns_name: Some(format!("{CLB_NAME}-1234567890.us-east-1.elb.amazonaws.com")),
                health_check: Some(HealthCheck {
                    target: Some("HTTP:8080/health".into()),
                    interval: Some(30),
                    timeout: Some(5),
                    unhealthy_threshold: Some(2),
                    healthy_threshold: Some(10),
                }),
                instances: ids
                    .iter()
                    .map(|id| Instance {
                        instance_id: id.clone(),
                    })
                    .collect(),
                ..LoadBalancerDescription::default()
            }),
            health: Some(
                ids.iter()
                    .zip(states)
                    .map(|(id, state)| InstanceState {
                        instance_id: id.clone(),
                        state: Some((*state).to_owned()),
                        reason_code: Some(if *state == "InService" { "N/A" } else { "Instance" }.to_owned()),
                        description: (*state != "InService").then(|| {
                            "Instance has failed at least the UnhealthyThreshold number of health checks consecutively.".to_owned()
                        }),
                    })
                    .collect(),
            ),
            attributes: Some(LoadBalancerAttributes {
                connection_settings: Some(ConnectionSettings {
                    idle_timeout: Some(60),
                }),
                ..LoadBalancerAttributes::default()
            }),
            found_via: "the alarm's LoadBalancerName dimension".into(),
        })
    }
}

impl Scenario {
    pub(crate) fn clb(mut self, clb: Clb) -> Self {
        self.classic.push(clb.0);
        self
    }

    /// AWS/ELB `name`/`stat` of `legacy`: `value(m)` per minute.
    pub(crate) fn clb_metric(
        mut self,
        name: &str,
        stat: &str,
        value: impl Fn(i64) -> Option<f64>,
    ) -> Self {
        self.metrics.insert(
            MetricQuery::new(
                REGION,
                "AWS/ELB",
                name,
                &[("LoadBalancerName", CLB_NAME)],
                stat,
            ),
            series(value),
        );
        self
    }

    /// `RequestCount` = `load(m)`.
    pub(crate) fn clb_requests(self) -> Self {
        self.clb_metric("RequestCount", "Sum", |m| Some(load(m)))
    }
}
