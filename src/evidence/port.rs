//! The narrow interface between evidence gathering and AWS.
//!
//! One method per AWS operation fivexx uses, answering in the model's shapes. Two
//! implementations: [`crate::evidence::aws::AwsSdk`] (the SDK) and
//! [`crate::evidence::world::World`] (a world file). [`crate::evidence::record::Recorder`]
//! wraps either and writes down what it saw. The gathering logic never knows which it has.

use std::fmt;
use std::future::Future;

use chrono::{DateTime, Utc};

use super::metrics::{MetricQuery, Series};
use super::model::{
    Attribute, CertificateDetail, CertificateSummary, DistributionConfigEnvelope, HostedZone,
    Listener, LoadBalancer, OriginRequestPolicyEnvelope, ResourceRecordSet, Rule, TargetGroup,
    TargetHealthDescription,
};

/// An AWS operation, named the way IAM names it (`acm:DescribeCertificate`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Op {
    DescribeLoadBalancers,
    DescribeLoadBalancerAttributes,
    DescribeListeners,
    DescribeRules,
    DescribeTargetGroups,
    DescribeTargetGroupAttributes,
    DescribeTargetHealth,
    DescribeCertificate,
    ListCertificates,
    GetDistributionConfig,
    GetOriginRequestPolicy,
    ListHostedZonesByName,
    ListResourceRecordSets,
    GetMetricData,
}

impl Op {
    pub const ALL: [Op; 14] = [
        Op::DescribeLoadBalancers,
        Op::DescribeLoadBalancerAttributes,
        Op::DescribeListeners,
        Op::DescribeRules,
        Op::DescribeTargetGroups,
        Op::DescribeTargetGroupAttributes,
        Op::DescribeTargetHealth,
        Op::DescribeCertificate,
        Op::ListCertificates,
        Op::GetDistributionConfig,
        Op::GetOriginRequestPolicy,
        Op::ListHostedZonesByName,
        Op::ListResourceRecordSets,
        Op::GetMetricData,
    ];

    /// `service:Operation`, IAM spelling: the key of a world's `Faults` and of a gap.
    pub fn iam_name(self) -> &'static str {
        match self {
            Op::DescribeLoadBalancers => "elasticloadbalancing:DescribeLoadBalancers",
            Op::DescribeLoadBalancerAttributes => {
                "elasticloadbalancing:DescribeLoadBalancerAttributes"
            }
            Op::DescribeListeners => "elasticloadbalancing:DescribeListeners",
            Op::DescribeRules => "elasticloadbalancing:DescribeRules",
            Op::DescribeTargetGroups => "elasticloadbalancing:DescribeTargetGroups",
            Op::DescribeTargetGroupAttributes => {
                "elasticloadbalancing:DescribeTargetGroupAttributes"
            }
            Op::DescribeTargetHealth => "elasticloadbalancing:DescribeTargetHealth",
            Op::DescribeCertificate => "acm:DescribeCertificate",
            Op::ListCertificates => "acm:ListCertificates",
            Op::GetDistributionConfig => "cloudfront:GetDistributionConfig",
            Op::GetOriginRequestPolicy => "cloudfront:GetOriginRequestPolicy",
            Op::ListHostedZonesByName => "route53:ListHostedZonesByName",
            Op::ListResourceRecordSets => "route53:ListResourceRecordSets",
            Op::GetMetricData => "cloudwatch:GetMetricData",
        }
    }

    pub fn from_iam_name(name: &str) -> Option<Op> {
        Op::ALL.into_iter().find(|op| op.iam_name() == name)
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.iam_name())
    }
}

/// Why a source could not be read: the AWS error code and its message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceError {
    pub code: String,
    pub message: String,
}

impl SourceError {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            message: message.into(),
        }
    }

    /// The resource does not exist (as opposed to: we may not look, or AWS failed).
    pub fn is_not_found(&self) -> bool {
        self.code.ends_with("NotFound")
            || self.code.ends_with("NotFoundException")
            || self.code.starts_with("NoSuch")
    }
}

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.message.is_empty() {
            f.write_str(&self.code)
        } else {
            write!(f, "{}: {}", self.code, self.message)
        }
    }
}

pub type Answer<T> = Result<T, SourceError>;

/// The time range of a metric read: `start <= t < end`, 60 s periods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// Everything fivexx asks of AWS. Regional operations take the region to ask in.
pub trait AwsPort: Sync {
    /// One load balancer by ARN, or (with `None`) every load balancer of the region.
    fn describe_load_balancers(
        &self,
        region: &str,
        arn: Option<&str>,
    ) -> impl Future<Output = Answer<Vec<LoadBalancer>>> + Send;
    fn describe_load_balancer_attributes(
        &self,
        region: &str,
        lb_arn: &str,
    ) -> impl Future<Output = Answer<Vec<Attribute>>> + Send;
    fn describe_listeners(
        &self,
        region: &str,
        lb_arn: &str,
    ) -> impl Future<Output = Answer<Vec<Listener>>> + Send;
    fn describe_rules(
        &self,
        region: &str,
        listener_arn: &str,
    ) -> impl Future<Output = Answer<Vec<Rule>>> + Send;
    /// The target groups attached to a load balancer.
    fn describe_target_groups(
        &self,
        region: &str,
        lb_arn: &str,
    ) -> impl Future<Output = Answer<Vec<TargetGroup>>> + Send;
    fn describe_target_group_attributes(
        &self,
        region: &str,
        tg_arn: &str,
    ) -> impl Future<Output = Answer<Vec<Attribute>>> + Send;
    fn describe_target_health(
        &self,
        region: &str,
        tg_arn: &str,
    ) -> impl Future<Output = Answer<Vec<TargetHealthDescription>>> + Send;
    fn describe_certificate(
        &self,
        region: &str,
        arn: &str,
    ) -> impl Future<Output = Answer<CertificateDetail>> + Send;
    /// The region's certificates, every key type, as summaries: the first page only (up to
    /// 1,000). A certificate not in it is described on its own.
    fn list_certificates(
        &self,
        region: &str,
    ) -> impl Future<Output = Answer<Vec<CertificateSummary>>> + Send;
    fn get_distribution_config(
        &self,
        id: &str,
    ) -> impl Future<Output = Answer<DistributionConfigEnvelope>> + Send;
    fn get_origin_request_policy(
        &self,
        id: &str,
    ) -> impl Future<Output = Answer<OriginRequestPolicyEnvelope>> + Send;
    /// Every hosted zone of the account (`ListHostedZonesByName` without a name, all pages).
    fn list_hosted_zones(&self) -> impl Future<Output = Answer<Vec<HostedZone>>> + Send;
    /// The records of zone `zone_id` named `name` (a fully qualified name, trailing dot optional).
    fn list_resource_record_sets(
        &self,
        zone_id: &str,
        name: &str,
    ) -> impl Future<Output = Answer<Vec<ResourceRecordSet>>> + Send;
    /// At most 500 queries, all in `region`; one series per query, in order (empty = no data).
    fn get_metric_data(
        &self,
        region: &str,
        queries: &[MetricQuery],
        window: Window,
    ) -> impl Future<Output = Answer<Vec<Series>>> + Send;
    /// How many requests this port has sent (pages included).
    fn api_calls(&self) -> usize;
    /// Regions, besides the home region, where a CloudFront origin ALB may live: their load
    /// balancers are listed in the first wave, beside the distribution configs, so an origin
    /// there costs no extra wave.
    fn origin_regions(&self) -> Vec<String> {
        Vec::new()
    }
}
