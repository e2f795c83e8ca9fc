//! The world file: recorded AWS answers, replayed through the same port as the SDK.
//!
//! Format `fivexx-world/1` (contracts §4): each service's answers in its API's JSON shape,
//! keyed by the operation and its input. A resource the world does not hold answers the way
//! AWS would (`LoadBalancerNotFound`, ...); `Faults` fails an operation for every input.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::arn;
use super::metrics::{MetricQuery, Series, normalize_stat};
use super::model::{
    Attribute, CertificateDetail, CertificateSummary, DistributionConfigEnvelope, HostedZone,
    Listener, LoadBalancer, OriginRequestPolicyEnvelope, ResourceRecordSet, Rule, TargetGroup,
    TargetHealthDescription,
};
use super::port::{Answer, AwsPort, Op, SourceError, Window};
use crate::error::InputError;

pub const WORLD_FORMAT: &str = "fivexx-world/1";

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct World {
    pub format: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub now: Option<DateTime<Utc>>,
    #[serde(default)]
    pub region: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    #[serde(rename = "ElasticLoadBalancingV2", default)]
    pub elbv2: ElbWorld,
    #[serde(rename = "ACM", default)]
    pub acm: AcmWorld,
    #[serde(rename = "CloudFront", default)]
    pub cloudfront: CloudFrontWorld,
    #[serde(rename = "Route53", default)]
    pub route53: Route53World,
    #[serde(rename = "CloudWatch", default)]
    pub cloudwatch: CloudWatchWorld,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub faults: BTreeMap<String, Fault>,
    /// Errors for one input of an operation, as a recording saw them:
    /// `{"acm:DescribeCertificate": {"<CertificateArn>": {"Code": ..., "Message": ...}}}`.
    /// The input key is the one the operation's answers are keyed by (`GetMetricData`: the
    /// region; `DescribeLoadBalancers`: the ARN, or the region for a list; `ListResourceRecordSets`:
    /// `ZONE NAME`; `ListHostedZonesByName`: `*`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub errors: BTreeMap<String, BTreeMap<String, Fault>>,
    /// Requests answered; not part of the file.
    #[serde(skip)]
    calls: Counter,
}

/// An `AtomicUsize` that clones by value, so `World` stays `Clone`.
#[derive(Debug, Default)]
struct Counter(AtomicUsize);

impl Clone for Counter {
    fn clone(&self) -> Self {
        Self(AtomicUsize::new(self.0.load(Ordering::Relaxed)))
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Fault {
    pub code: String,
    #[serde(default)]
    pub message: String,
}

impl Fault {
    /// The error this fault makes an operation fail with.
    pub fn error(&self) -> SourceError {
        SourceError::new(&self.code, &self.message)
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LoadBalancers {
    #[serde(default)]
    pub load_balancers: Vec<LoadBalancer>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Attributes {
    #[serde(default)]
    pub attributes: Vec<Attribute>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Listeners {
    #[serde(default)]
    pub listeners: Vec<Listener>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Rules {
    #[serde(default)]
    pub rules: Vec<Rule>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TargetGroups {
    #[serde(default)]
    pub target_groups: Vec<TargetGroup>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TargetHealthDescriptions {
    #[serde(default)]
    pub target_health_descriptions: Vec<TargetHealthDescription>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ElbWorld {
    #[serde(default)]
    pub describe_load_balancers: LoadBalancers,
    #[serde(default)]
    pub describe_load_balancer_attributes: BTreeMap<String, Attributes>,
    #[serde(default)]
    pub describe_listeners: BTreeMap<String, Listeners>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub describe_rules: BTreeMap<String, Rules>,
    #[serde(default)]
    pub describe_target_groups: TargetGroups,
    #[serde(default)]
    pub describe_target_group_attributes: BTreeMap<String, Attributes>,
    #[serde(default)]
    pub describe_target_health: BTreeMap<String, TargetHealthDescriptions>,
    /// Kept as written: fivexx reads SSL policies by name, not through this.
    #[serde(
        rename = "DescribeSSLPolicies",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub describe_ssl_policies: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CertificateEnvelope {
    pub certificate: CertificateDetail,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AcmWorld {
    #[serde(default)]
    pub describe_certificate: BTreeMap<String, CertificateEnvelope>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CloudFrontWorld {
    #[serde(default)]
    pub get_distribution_config: BTreeMap<String, DistributionConfigEnvelope>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub get_origin_request_policy: BTreeMap<String, OriginRequestPolicyEnvelope>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct HostedZones {
    #[serde(default)]
    pub hosted_zones: Vec<HostedZone>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ResourceRecordSets {
    #[serde(default)]
    pub resource_record_sets: Vec<ResourceRecordSet>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Route53World {
    #[serde(default)]
    pub list_hosted_zones_by_name: HostedZones,
    #[serde(default)]
    pub list_resource_record_sets: BTreeMap<String, ResourceRecordSets>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CloudWatchWorld {
    #[serde(default)]
    pub metrics: Vec<WorldSeries>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Dimension {
    pub name: String,
    pub value: String,
}

/// One metric with its datapoints, `GetMetricStatistics`-style: every statistic per point.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct WorldSeries {
    pub namespace: String,
    pub metric_name: String,
    #[serde(default)]
    pub dimensions: Vec<Dimension>,
    #[serde(default = "default_period")]
    pub period: i32,
    /// Only when it differs from the world's `Region`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default)]
    pub datapoints: Vec<Datapoint>,
}

fn default_period() -> i32 {
    60
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Datapoint {
    pub timestamp: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sum: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub average: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maximum: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample_count: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extended_statistics: BTreeMap<String, f64>,
}

impl Datapoint {
    pub fn stat(&self, stat: &str) -> Option<f64> {
        match stat {
            "Sum" => self.sum,
            "Average" => self.average,
            "Minimum" => self.minimum,
            "Maximum" => self.maximum,
            "SampleCount" => self.sample_count,
            other => self.extended_statistics.get(other).copied(),
        }
    }

    pub fn set_stat(&mut self, stat: &str, value: f64) {
        match stat {
            "Sum" => self.sum = Some(value),
            "Average" => self.average = Some(value),
            "Minimum" => self.minimum = Some(value),
            "Maximum" => self.maximum = Some(value),
            "SampleCount" => self.sample_count = Some(value),
            other => {
                self.extended_statistics.insert(other.to_owned(), value);
            }
        }
    }
}

impl World {
    /// An empty world, ready to be filled by a recording.
    pub fn new(region: &str, account: Option<String>, now: DateTime<Utc>) -> Self {
        Self {
            format: WORLD_FORMAT.to_owned(),
            now: Some(now),
            region: region.to_owned(),
            account,
            ..Self::default()
        }
    }

    /// Reads and validates a world file.
    pub fn load(path: &Path) -> Result<Self, InputError> {
        let text = std::fs::read_to_string(path).map_err(|e| InputError::Read {
            what: "world",
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        Self::parse(&text).map_err(|reason| InputError::Invalid {
            what: "world",
            path: path.display().to_string(),
            reason,
        })
    }

    /// Parses world JSON; the error says where and why.
    pub fn parse(text: &str) -> Result<Self, String> {
        let world: World = serde_json::from_str(text).map_err(|e| {
            format!(
                "line {} column {}: {}",
                e.line(),
                e.column(),
                crate::error::short(&e.to_string())
            )
        })?;
        if world.format != WORLD_FORMAT {
            return Err(format!(
                "`Format` is `{}`, expected `{WORLD_FORMAT}`",
                crate::error::short(&world.format)
            ));
        }
        // The world is untrusted: its clock does date arithmetic and its regions build
        // clients, ARNs and links.
        if let Some(now) = world.now
            && !crate::untrusted::sane_time(&now)
        {
            return Err(format!(
                "`Now` is `{}`, outside the years {} to {}",
                now.to_rfc3339(),
                crate::untrusted::MIN_YEAR,
                crate::untrusted::MAX_YEAR
            ));
        }
        let regions = std::iter::once(&world.region).chain(
            world
                .cloudwatch
                .metrics
                .iter()
                .filter_map(|m| m.region.as_ref()),
        );
        for region in regions {
            if !crate::untrusted::is_region(region) {
                return Err(format!(
                    "`Region` `{}` is not a region name (e.g. `eu-west-1`)",
                    crate::error::short(region)
                ));
            }
        }
        if let Some(account) = &world.account
            && !crate::untrusted::is_account(account)
        {
            return Err(format!(
                "`Account` `{}` is not an account id (twelve digits)",
                crate::error::short(account)
            ));
        }
        for key in world.faults.keys().chain(world.errors.keys()) {
            if Op::from_iam_name(key).is_none() {
                return Err(format!(
                    "`Faults`/`Errors` name `{}`, which is no operation fivexx uses (IAM spelling, e.g. `acm:DescribeCertificate`)",
                    crate::error::short(key)
                ));
            }
        }
        Ok(world)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    fn answer<T>(&self, op: Op, key: &str, f: impl FnOnce() -> Answer<T>) -> Answer<T> {
        self.calls.0.fetch_add(1, Ordering::Relaxed);
        match self.fault(op, key) {
            Some(e) => Err(e),
            None => f(),
        }
    }

    /// How `op` fails for input `key`: its `Faults` entry (every input), else its `Errors`
    /// entry for that input.
    fn fault(&self, op: Op, key: &str) -> Option<SourceError> {
        self.faults
            .get(op.iam_name())
            .or_else(|| {
                self.errors
                    .get(op.iam_name())
                    .and_then(|per_input| per_input.get(key))
            })
            .map(Fault::error)
    }

    fn in_region(&self, resource_arn: &str, region: &str) -> bool {
        arn::region(resource_arn).unwrap_or(&self.region) == region
    }

    fn load_balancer(&self, region: &str, lb_arn: &str) -> Answer<&LoadBalancer> {
        self.elbv2
            .describe_load_balancers
            .load_balancers
            .iter()
            .find(|lb| lb.load_balancer_arn == lb_arn && self.in_region(lb_arn, region))
            .ok_or_else(|| {
                SourceError::new(
                    "LoadBalancerNotFound",
                    format!("load balancer `{lb_arn}` not found"),
                )
            })
    }

    fn target_group(&self, region: &str, tg_arn: &str) -> Answer<&TargetGroup> {
        self.elbv2
            .describe_target_groups
            .target_groups
            .iter()
            .find(|tg| tg.target_group_arn == tg_arn && self.in_region(tg_arn, region))
            .ok_or_else(|| {
                SourceError::new(
                    "TargetGroupNotFound",
                    format!("target group `{tg_arn}` not found"),
                )
            })
    }

    fn listener(&self, region: &str, listener_arn: &str) -> Answer<&Listener> {
        self.elbv2
            .describe_listeners
            .values()
            .flat_map(|l| &l.listeners)
            .find(|l| l.listener_arn == listener_arn && self.in_region(listener_arn, region))
            .ok_or_else(|| {
                SourceError::new(
                    "ListenerNotFound",
                    format!("listener `{listener_arn}` not found"),
                )
            })
    }

    fn series_region<'a>(&'a self, s: &'a WorldSeries) -> &'a str {
        s.region.as_deref().unwrap_or(&self.region)
    }

    fn query_metric(&self, q: &MetricQuery, window: Window) -> Series {
        let found = self.cloudwatch.metrics.iter().find(|s| {
            if s.namespace != q.namespace
                || s.metric_name != q.name
                || self.series_region(s) != q.region
                || s.dimensions.len() != q.dimensions.len()
            {
                return false;
            }
            let mut dims: Vec<(&str, &str)> = s
                .dimensions
                .iter()
                .map(|d| (d.name.as_str(), d.value.as_str()))
                .collect();
            dims.sort();
            dims.iter()
                .zip(&q.dimensions)
                .all(|((k, v), (k2, v2))| k == k2 && v == v2)
        });
        let stat = normalize_stat(&q.stat);
        Series::new(
            found
                .map(|s| {
                    s.datapoints
                        .iter()
                        .filter(|d| d.timestamp >= window.start && d.timestamp < window.end)
                        .filter_map(|d| d.stat(&stat).map(|v| (d.timestamp, v)))
                        .collect()
                })
                .unwrap_or_default(),
        )
    }
}

impl AwsPort for World {
    async fn describe_load_balancers(
        &self,
        region: &str,
        lb_arn: Option<&str>,
    ) -> Answer<Vec<LoadBalancer>> {
        self.answer(
            Op::DescribeLoadBalancers,
            lb_arn.unwrap_or(region),
            || match lb_arn {
                Some(a) => self.load_balancer(region, a).map(|lb| vec![lb.clone()]),
                None => Ok(self
                    .elbv2
                    .describe_load_balancers
                    .load_balancers
                    .iter()
                    .filter(|lb| self.in_region(&lb.load_balancer_arn, region))
                    .cloned()
                    .collect()),
            },
        )
    }

    async fn describe_load_balancer_attributes(
        &self,
        region: &str,
        lb_arn: &str,
    ) -> Answer<Vec<Attribute>> {
        self.answer(Op::DescribeLoadBalancerAttributes, lb_arn, || {
            self.load_balancer(region, lb_arn)?;
            // An attribute never set is absent (moto and AWS alike): the defaults apply.
            Ok(self
                .elbv2
                .describe_load_balancer_attributes
                .get(lb_arn)
                .map(|a| a.attributes.clone())
                .unwrap_or_default())
        })
    }

    async fn describe_listeners(&self, region: &str, lb_arn: &str) -> Answer<Vec<Listener>> {
        self.answer(Op::DescribeListeners, lb_arn, || {
            self.load_balancer(region, lb_arn)?;
            Ok(self
                .elbv2
                .describe_listeners
                .get(lb_arn)
                .map(|l| l.listeners.clone())
                .unwrap_or_default())
        })
    }

    async fn describe_rules(&self, region: &str, listener_arn: &str) -> Answer<Vec<Rule>> {
        self.answer(Op::DescribeRules, listener_arn, || {
            let listener = self.listener(region, listener_arn)?;
            Ok(match self.elbv2.describe_rules.get(listener_arn) {
                Some(r) => r.rules.clone(),
                // AWS always answers with at least the default rule, made of the default actions.
                None => vec![Rule {
                    rule_arn: format!("{listener_arn}/default"),
                    priority: Some("default".into()),
                    actions: listener.default_actions.clone(),
                    is_default: Some(true),
                }],
            })
        })
    }

    async fn describe_target_groups(&self, region: &str, lb_arn: &str) -> Answer<Vec<TargetGroup>> {
        self.answer(Op::DescribeTargetGroups, lb_arn, || {
            self.load_balancer(region, lb_arn)?;
            Ok(self
                .elbv2
                .describe_target_groups
                .target_groups
                .iter()
                .filter(|tg| tg.load_balancer_arns.iter().any(|a| a == lb_arn))
                .cloned()
                .collect())
        })
    }

    async fn describe_target_group_attributes(
        &self,
        region: &str,
        tg_arn: &str,
    ) -> Answer<Vec<Attribute>> {
        self.answer(Op::DescribeTargetGroupAttributes, tg_arn, || {
            self.target_group(region, tg_arn)?;
            Ok(self
                .elbv2
                .describe_target_group_attributes
                .get(tg_arn)
                .map(|a| a.attributes.clone())
                .unwrap_or_default())
        })
    }

    async fn describe_target_health(
        &self,
        region: &str,
        tg_arn: &str,
    ) -> Answer<Vec<TargetHealthDescription>> {
        self.answer(Op::DescribeTargetHealth, tg_arn, || {
            self.target_group(region, tg_arn)?;
            // A target group the world holds but whose health it does not: an empty answer
            // would read as "no targets", a strong claim, so say the world cannot answer.
            self.elbv2
                .describe_target_health
                .get(tg_arn)
                .map(|t| t.target_health_descriptions.clone())
                .ok_or_else(|| {
                    SourceError::new(
                        "WorldIncomplete",
                        format!("the world holds no target health for `{tg_arn}`"),
                    )
                })
        })
    }

    async fn describe_certificate(
        &self,
        region: &str,
        cert_arn: &str,
    ) -> Answer<CertificateDetail> {
        self.answer(Op::DescribeCertificate, cert_arn, || {
            self.acm
                .describe_certificate
                .get(cert_arn)
                .filter(|_| self.in_region(cert_arn, region))
                .map(|c| c.certificate.clone())
                .ok_or_else(|| {
                    SourceError::new(
                        "ResourceNotFoundException",
                        format!("certificate `{cert_arn}` not found"),
                    )
                })
        })
    }

    /// Not part of the world format: answered from the `DescribeCertificate` entries of the
    /// region, as summaries. The world's certificates are one source: a fault on
    /// `acm:DescribeCertificate` fails this list too, and a certificate with an error of its
    /// own is left out of it (so the triage describes it, and meets the error).
    async fn list_certificates(&self, region: &str) -> Answer<Vec<CertificateSummary>> {
        self.answer(Op::ListCertificates, region, || {
            if let Some(fault) = self.faults.get(Op::DescribeCertificate.iam_name()) {
                return Err(fault.error());
            }
            Ok(self
                .acm
                .describe_certificate
                .iter()
                .filter(|(arn, _)| self.in_region(arn, region))
                .filter(|(arn, _)| self.fault(Op::DescribeCertificate, arn).is_none())
                .map(|(_, c)| c.certificate.summary())
                .collect())
        })
    }

    async fn get_distribution_config(&self, id: &str) -> Answer<DistributionConfigEnvelope> {
        self.answer(Op::GetDistributionConfig, id, || {
            self.cloudfront
                .get_distribution_config
                .get(id)
                .cloned()
                .ok_or_else(|| {
                    SourceError::new(
                        "NoSuchDistribution",
                        format!("distribution `{id}` not found"),
                    )
                })
        })
    }

    async fn get_origin_request_policy(&self, id: &str) -> Answer<OriginRequestPolicyEnvelope> {
        self.answer(Op::GetOriginRequestPolicy, id, || {
            self.cloudfront
                .get_origin_request_policy
                .get(id)
                .cloned()
                .ok_or_else(|| {
                    SourceError::new(
                        "NoSuchOriginRequestPolicy",
                        format!("origin request policy `{id}` not found"),
                    )
                })
        })
    }

    async fn list_hosted_zones(&self) -> Answer<Vec<HostedZone>> {
        self.answer(Op::ListHostedZonesByName, "*", || {
            Ok(self.route53.list_hosted_zones_by_name.hosted_zones.clone())
        })
    }

    async fn list_resource_record_sets(
        &self,
        zone_id: &str,
        name: &str,
    ) -> Answer<Vec<ResourceRecordSet>> {
        self.answer(
            Op::ListResourceRecordSets,
            &format!("{zone_id} {name}"),
            || {
                let short = zone_id.trim_start_matches("/hostedzone/");
                let known = self
                    .route53
                    .list_hosted_zones_by_name
                    .hosted_zones
                    .iter()
                    .any(|z| z.short_id() == short);
                let records = self.route53.list_resource_record_sets.get(short);
                if records.is_none() && !known {
                    return Err(SourceError::new(
                        "NoSuchHostedZone",
                        format!("hosted zone `{short}` not found"),
                    ));
                }
                let want = fqdn(name);
                Ok(records
                    .map(|r| {
                        r.resource_record_sets
                            .iter()
                            .filter(|rr| fqdn(&rr.name).eq_ignore_ascii_case(&want))
                            .cloned()
                            .collect()
                    })
                    .unwrap_or_default())
            },
        )
    }

    async fn get_metric_data(
        &self,
        region: &str,
        queries: &[MetricQuery],
        window: Window,
    ) -> Answer<Vec<Series>> {
        self.answer(Op::GetMetricData, region, || {
            Ok(queries
                .iter()
                .map(|q| {
                    let mut q = q.clone();
                    q.region = region.to_owned();
                    self.query_metric(&q, window)
                })
                .collect())
        })
    }

    fn api_calls(&self) -> usize {
        self.calls.0.load(Ordering::Relaxed)
    }

    /// Every region the world holds load balancers in.
    fn origin_regions(&self) -> Vec<String> {
        let mut regions: Vec<String> = self
            .elbv2
            .describe_load_balancers
            .load_balancers
            .iter()
            .filter_map(|lb| arn::region(&lb.load_balancer_arn).map(str::to_owned))
            .collect();
        regions.sort();
        regions.dedup();
        regions
    }
}

/// `name` with exactly one trailing dot.
pub fn fqdn(name: &str) -> String {
    format!("{}.", name.trim_end_matches('.'))
}
