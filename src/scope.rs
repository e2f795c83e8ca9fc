//! Which resources an alarm is about.
//!
//! ALB alarms name their load balancer in the `LoadBalancer` dimension (`app/NAME/ID`); its ARN
//! is built from that plus the alarm's account and region, so no lookup is needed. A
//! `TargetGroup` dimension narrows the triage to that group. CloudFront alarms name a
//! `DistributionId`; its origins are found while gathering (they need the distribution config).

use serde::Serialize;

use crate::alarm::{Alarm, AlarmMetric};
use crate::names;

pub(crate) const ALB_NAMESPACE: &str = "AWS/ApplicationELB";
pub(crate) const CLOUDFRONT_NAMESPACE: &str = "AWS/CloudFront";

/// A load balancer to examine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AlbRef {
    pub region: String,
    pub arn: String,
    /// Target groups named by the alarm (ARNs); empty means every group of the load balancer.
    pub target_groups: Vec<String>,
}

/// At most this many load balancers and distributions are examined for one alarm. A metric
/// math alarm references at most 10 metrics (a hard CloudWatch limit) and each names one
/// resource, so an alarm AWS could send never needs more; a payload naming thousands (hostile
/// or hand-made) would otherwise fan out to thousands of API calls past any deadline.
pub(crate) const MAX_RESOURCES: usize = 10;

/// What to examine for one alarm.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Scope {
    pub albs: Vec<AlbRef>,
    pub distributions: Vec<String>,
    /// Resources the alarm names beyond [`MAX_RESOURCES`]: not examined.
    pub skipped: std::collections::BTreeSet<String>,
}

impl Scope {
    pub(crate) fn is_empty(&self) -> bool {
        self.albs.is_empty() && self.distributions.is_empty()
    }

    /// Whether a metric's resource is one the triage examines.
    pub(crate) fn covers(&self, region: &str, account: Option<&str>, m: &AlarmMetric) -> bool {
        if let Some(id) = m.dimensions.get("DistributionId") {
            return self.distributions.contains(id);
        }
        match (m.dimensions.get("LoadBalancer"), account) {
            (Some(dim), Some(account)) => {
                let lb = names::load_balancer_arn(region, account, dim);
                self.albs.iter().any(|a| a.arn == lb)
            }
            _ => false,
        }
    }

    fn skip(&mut self, what: &str) {
        self.skipped.insert(crate::error::short(what));
    }
}

/// Why an alarm has nothing for fivexx to examine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutOfScope(pub String);

/// The resources named by the alarm's metrics. `fallback_region`/`fallback_account` are used
/// when the alarm carries neither (a hand-written event).
pub fn scope(
    alarm: &Alarm,
    fallback_region: &str,
    fallback_account: Option<&str>,
) -> Result<Scope, OutOfScope> {
    let ours: Vec<_> = alarm
        .metrics
        .iter()
        .filter(|m| m.namespace == ALB_NAMESPACE || m.namespace == CLOUDFRONT_NAMESPACE)
        .collect();
    if ours.is_empty() {
        return Err(OutOfScope(
            match (alarm.metrics.first(), &alarm.alarm_rule) {
                (Some(m), _) => format!(
                    "alarm `{}` watches `{}` in `{}`: fivexx triages only AWS/ApplicationELB and AWS/CloudFront alarms",
                    crate::error::short(&alarm.name),
                    crate::error::short(&m.name),
                    crate::error::short(&m.namespace)
                ),
                (None, Some(rule)) => format!(
                    "composite alarm `{}` has no metrics of its own (rule: `{}`): triage the child alarms it names",
                    crate::error::short(&alarm.name),
                    crate::error::short(rule)
                ),
                (None, None) => format!(
                    "alarm `{}` names no metric, so no load balancer or distribution can be found",
                    crate::error::short(&alarm.name)
                ),
            },
        ));
    }
    let region = alarm.region().unwrap_or(fallback_region).to_owned();
    let account = alarm.account().or(fallback_account);
    let mut out = Scope::default();
    // The alarm's own order is the order of relevance: the primary metric (the one a metric
    // alarm watches, the first input of an expression) comes first.
    for m in ours {
        let full = out.albs.len() + out.distributions.len() >= MAX_RESOURCES;
        if m.namespace == CLOUDFRONT_NAMESPACE {
            if let Some(id) = m.dimensions.get("DistributionId")
                && !out.distributions.contains(id)
            {
                if full {
                    out.skip(&format!("distribution {id}"));
                } else {
                    out.distributions.push(id.clone());
                }
            }
            continue;
        }
        let Some(lb_dim) = m.dimensions.get("LoadBalancer") else {
            continue;
        };
        let Some(account) = account else {
            return Err(OutOfScope(format!(
                "alarm `{}` carries no account id, so the load balancer ARN cannot be built",
                crate::error::short(&alarm.name)
            )));
        };
        let lb_arn = names::load_balancer_arn(&region, account, lb_dim);
        let tg = m
            .dimensions
            .get("TargetGroup")
            .map(|d| names::target_group_arn(&region, account, d));
        match out.albs.iter_mut().find(|a| a.arn == lb_arn) {
            Some(existing) => {
                if let Some(tg) = tg
                    && !existing.target_groups.contains(&tg)
                {
                    existing.target_groups.push(tg);
                }
            }
            None if full => out.skip(&format!("load balancer {lb_dim}")),
            None => out.albs.push(AlbRef {
                region: region.clone(),
                arn: lb_arn,
                target_groups: tg.into_iter().collect(),
            }),
        }
    }
    if out.is_empty() {
        return Err(OutOfScope(format!(
            "alarm `{}` has no `LoadBalancer` or `DistributionId` dimension to start from",
            crate::error::short(&alarm.name)
        )));
    }
    Ok(out)
}
