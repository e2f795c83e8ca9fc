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
pub(crate) const APIGW_NAMESPACE: &str = "AWS/ApiGateway";
pub(crate) const NLB_NAMESPACE: &str = "AWS/NetworkELB";
pub(crate) const CLB_NAMESPACE: &str = "AWS/ELB";

/// A Classic Load Balancer to examine, by name (its `LoadBalancerName` dimension).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClbRef {
    pub region: String,
    pub name: String,
}
pub(crate) const LAMBDA_NAMESPACE: &str = "AWS/Lambda";

/// An API Gateway stage to examine: a REST API by name (`ApiName`, as its metrics are keyed),
/// or an HTTP API by id (`ApiId`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiRef {
    pub region: String,
    /// `true`: an HTTP API named by `ApiId`; `false`: a REST API named by `ApiName`.
    pub http: bool,
    /// The `ApiName` (REST) or `ApiId` (HTTP API) dimension.
    pub key: String,
    /// The `Stage` dimension; `None` when the alarm watches the whole API.
    pub stage: Option<String>,
}

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
    pub apis: Vec<ApiRef>,
    pub classic: Vec<ClbRef>,
    /// Resources the alarm names beyond [`MAX_RESOURCES`]: not examined.
    pub skipped: std::collections::BTreeSet<String>,
}

impl Scope {
    pub(crate) fn is_empty(&self) -> bool {
        self.albs.is_empty()
            && self.distributions.is_empty()
            && self.apis.is_empty()
            && self.classic.is_empty()
    }

    fn len(&self) -> usize {
        self.albs.len() + self.distributions.len() + self.apis.len() + self.classic.len()
    }

    /// Whether a metric's resource is one the triage examines.
    pub(crate) fn covers(&self, region: &str, account: Option<&str>, m: &AlarmMetric) -> bool {
        if let Some(id) = m.dimensions.get("DistributionId") {
            return self.distributions.contains(id);
        }
        if m.namespace == CLB_NAMESPACE {
            return m
                .dimensions
                .get("LoadBalancerName")
                .is_some_and(|n| self.classic.iter().any(|c| &c.name == n));
        }
        if m.namespace == APIGW_NAMESPACE {
            return api_ref(region, m).is_some_and(|r| {
                self.apis
                    .iter()
                    .any(|a| a.http == r.http && a.key == r.key && a.stage == r.stage)
            });
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

impl OutOfScope {
    /// Whether the alarm watches no namespace fivexx triages (an RDS or EC2 alarm routed to
    /// it): nobody needs to hear from fivexx about it, so its verdict is `ignored`. An alarm
    /// on a front door that lacks what a triage needs (a dimension, an account id, a composite
    /// without metrics) is `inconclusive` instead, and posted.
    pub fn foreign(&self) -> bool {
        self.0.contains(FOREIGN)
    }
}

/// The words that mark an alarm on a namespace fivexx does not triage.
const FOREIGN: &str = "fivexx triages only";

/// Whether a namespace is one of the front doors fivexx triages.
pub(crate) fn is_front_door(namespace: &str) -> bool {
    [
        ALB_NAMESPACE,
        NLB_NAMESPACE,
        CLB_NAMESPACE,
        CLOUDFRONT_NAMESPACE,
        APIGW_NAMESPACE,
    ]
    .contains(&namespace)
}

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
        .filter(|m| is_front_door(&m.namespace))
        .collect();
    if ours.is_empty() {
        return Err(OutOfScope(
            match (alarm.metrics.first(), &alarm.alarm_rule) {
                (Some(m), _) => format!(
                    "alarm `{}` watches `{}` in `{}`: {FOREIGN} AWS/ApplicationELB, AWS/NetworkELB, AWS/ELB, AWS/CloudFront and AWS/ApiGateway alarms",
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
        let full = out.len() >= MAX_RESOURCES;
        if m.namespace == CLB_NAMESPACE {
            // Classic names: letters, digits and `-`, 32 at most (an unusable one is skipped).
            if let Some(name) = m
                .dimensions
                .get("LoadBalancerName")
                .filter(|n| crate::untrusted::is_simple_name(n, 32) && !n.contains('_'))
                && !out.classic.iter().any(|c| &c.name == name)
            {
                if full {
                    out.skip(&format!("Classic Load Balancer {name}"));
                } else {
                    out.classic.push(ClbRef {
                        region: region.clone(),
                        name: name.clone(),
                    });
                }
            }
            continue;
        }
        if m.namespace == APIGW_NAMESPACE {
            if let Some(r) = api_ref(&region, m)
                && !out.apis.contains(&r)
            {
                if full {
                    out.skip(&format!("API {}", r.key));
                } else {
                    out.apis.push(r);
                }
            }
            continue;
        }
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
            "alarm `{}` has no `LoadBalancer`, `LoadBalancerName`, `DistributionId`, `ApiName` or `ApiId` dimension to start from",
            crate::error::short(&alarm.name)
        )));
    }
    Ok(out)
}

/// The API stage an `AWS/ApiGateway` metric names: `ApiId` (an HTTP API) or `ApiName` (a
/// REST API), with its `Stage` when it has one.
fn api_ref(region: &str, m: &AlarmMetric) -> Option<ApiRef> {
    let (http, key) = match (m.dimensions.get("ApiId"), m.dimensions.get("ApiName")) {
        (Some(id), _) => (true, id),
        (None, Some(name)) => (false, name),
        (None, None) => return None,
    };
    if key.is_empty() {
        return None;
    }
    Some(ApiRef {
        region: region.to_owned(),
        http,
        key: key.clone(),
        stage: m.dimensions.get("Stage").filter(|s| !s.is_empty()).cloned(),
    })
}
