//! The one interface between evidence gathering and AWS.
//!
//! Every AWS operation fivexx uses is a type implementing [`Operation`], defined in the
//! home of its service (`sources/`): its input and output, its SDK call, how a world file
//! answers it and how a recording writes its answer down. A [`Port`] runs any operation:
//! [`crate::evidence::sdk::AwsSdk`] (the SDK), [`crate::evidence::world::World`] (a world
//! file), and [`crate::evidence::record::Recorder`], which wraps either and writes down what
//! it saw. Gathering never knows which it has, and a new operation widens none of them.

use std::fmt;
use std::future::Future;

use chrono::{DateTime, Utc};
use tokio::time::Instant;

use super::record::Recording;
use super::sdk::AwsSdk;
use super::world::World;

/// An AWS operation, named the way IAM names it (`acm:DescribeCertificate`). REST and HTTP
/// APIs share `apigateway:GetStage` and `apigateway:GetVpcLinks` (their inputs never collide:
/// API ids differ).
///
/// The Classic Load Balancer's API (`elasticloadbalancing`, version 2012-06-01) shares its IAM
/// namespace with v2: its `DescribeLoadBalancers` and `DescribeLoadBalancerAttributes` are the
/// same IAM actions as v2's, so [`Op::DescribeClassicLoadBalancers`] and
/// [`Op::DescribeClassicLoadBalancerAttributes`] have the same [`Op::iam_name`] as
/// [`Op::DescribeLoadBalancers`] and [`Op::DescribeLoadBalancerAttributes`]. A world's `Faults`
/// entry under that name fails both APIs, as an IAM deny of the action does; an `Errors` entry
/// fails the one whose input key it names (the Classic inputs are names, v2's ARNs, and the
/// Classic list of a region has a key of its own: see `evidence::clb`). Gaps of either read
/// the same IAM name, the permission to grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Op {
    DescribeLoadBalancers,
    DescribeLoadBalancerAttributes,
    DescribeListeners,
    DescribeRules,
    DescribeListenerCertificates,
    DescribeTargetGroups,
    DescribeTargetGroupAttributes,
    DescribeTargetHealth,
    /// Classic `DescribeLoadBalancers` (IAM: `elasticloadbalancing:DescribeLoadBalancers`).
    DescribeClassicLoadBalancers,
    /// Classic `DescribeLoadBalancerAttributes` (IAM:
    /// `elasticloadbalancing:DescribeLoadBalancerAttributes`).
    DescribeClassicLoadBalancerAttributes,
    /// Classic `DescribeInstanceHealth`.
    DescribeInstanceHealth,
    DescribeCertificate,
    ListCertificates,
    GetDistributionConfig,
    GetOriginRequestPolicy,
    ListHostedZonesByName,
    ListResourceRecordSets,
    GetMetricData,
    DescribeAlarms,
    /// `ListMetrics`: which series exist (the edge-function metrics of a distribution).
    ListMetrics,
    GetRestApis,
    GetStage,
    GetResources,
    GetVpcLinks,
    GetApis,
    GetIntegrations,
    GetFunctionConfiguration,
    GetFunctionConcurrency,
    GetPolicy,
    GetAccountSettings,
}

impl Op {
    pub(crate) const ALL: [Op; 30] = [
        Op::DescribeLoadBalancers,
        Op::DescribeLoadBalancerAttributes,
        Op::DescribeListeners,
        Op::DescribeRules,
        Op::DescribeListenerCertificates,
        Op::DescribeTargetGroups,
        Op::DescribeTargetGroupAttributes,
        Op::DescribeTargetHealth,
        Op::DescribeClassicLoadBalancers,
        Op::DescribeClassicLoadBalancerAttributes,
        Op::DescribeInstanceHealth,
        Op::DescribeCertificate,
        Op::ListCertificates,
        Op::GetDistributionConfig,
        Op::GetOriginRequestPolicy,
        Op::ListHostedZonesByName,
        Op::ListResourceRecordSets,
        Op::GetMetricData,
        Op::DescribeAlarms,
        Op::ListMetrics,
        Op::GetRestApis,
        Op::GetStage,
        Op::GetResources,
        Op::GetVpcLinks,
        Op::GetApis,
        Op::GetIntegrations,
        Op::GetFunctionConfiguration,
        Op::GetFunctionConcurrency,
        Op::GetPolicy,
        Op::GetAccountSettings,
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
            Op::DescribeListenerCertificates => "elasticloadbalancing:DescribeListenerCertificates",
            Op::DescribeTargetGroups => "elasticloadbalancing:DescribeTargetGroups",
            Op::DescribeTargetGroupAttributes => {
                "elasticloadbalancing:DescribeTargetGroupAttributes"
            }
            Op::DescribeTargetHealth => "elasticloadbalancing:DescribeTargetHealth",
            // The Classic API's actions: two of them are v2's (see [`Op`]).
            Op::DescribeClassicLoadBalancers => "elasticloadbalancing:DescribeLoadBalancers",
            Op::DescribeClassicLoadBalancerAttributes => {
                "elasticloadbalancing:DescribeLoadBalancerAttributes"
            }
            Op::DescribeInstanceHealth => "elasticloadbalancing:DescribeInstanceHealth",
            Op::DescribeCertificate => "acm:DescribeCertificate",
            Op::ListCertificates => "acm:ListCertificates",
            Op::GetDistributionConfig => "cloudfront:GetDistributionConfig",
            Op::GetOriginRequestPolicy => "cloudfront:GetOriginRequestPolicy",
            Op::ListHostedZonesByName => "route53:ListHostedZonesByName",
            Op::ListResourceRecordSets => "route53:ListResourceRecordSets",
            Op::GetMetricData => "cloudwatch:GetMetricData",
            Op::DescribeAlarms => "cloudwatch:DescribeAlarms",
            Op::ListMetrics => "cloudwatch:ListMetrics",
            Op::GetRestApis => "apigateway:GetRestApis",
            Op::GetStage => "apigateway:GetStage",
            Op::GetResources => "apigateway:GetResources",
            Op::GetVpcLinks => "apigateway:GetVpcLinks",
            Op::GetApis => "apigateway:GetApis",
            Op::GetIntegrations => "apigateway:GetIntegrations",
            Op::GetFunctionConfiguration => "lambda:GetFunctionConfiguration",
            Op::GetFunctionConcurrency => "lambda:GetFunctionConcurrency",
            Op::GetPolicy => "lambda:GetPolicy",
            Op::GetAccountSettings => "lambda:GetAccountSettings",
        }
    }

    /// The IAM action that allows it, where IAM does not name actions after operations:
    /// every API Gateway read (REST and HTTP APIs) is `apigateway:GET` on the resource's
    /// path. infra/check_iam.py reads this function and [`Op::iam_name`]: an operation
    /// missing here is required under its own name.
    pub fn iam_action(self) -> &'static str {
        match self {
            Op::GetRestApis
            | Op::GetStage
            | Op::GetResources
            | Op::GetVpcLinks
            | Op::GetApis
            | Op::GetIntegrations => "apigateway:GET",
            other => other.iam_name(),
        }
    }

    /// The operations a world's `Faults`/`Errors` key names: the operation's own name, or its
    /// IAM action, which names every operation it allows (`apigateway:GET`, as an IAM deny
    /// would).
    pub(crate) fn named_by(name: &str) -> Vec<Op> {
        Op::ALL
            .into_iter()
            .filter(|op| op.iam_name() == name || op.iam_action() == name)
            .collect()
    }

    pub(crate) fn from_iam_name(name: &str) -> Option<Op> {
        Op::named_by(name).into_iter().next()
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
    pub(crate) fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            message: message.into(),
        }
    }

    /// A call not made: AWS's rate limit for its service would not let it start before the
    /// triage's deadline (a gap of kind `budget`, not an error).
    pub(crate) fn budget(service: &str, wait: std::time::Duration) -> Self {
        Self::new(
            BUDGET,
            format!(
                "not asked: {service}'s rate limit leaves no call in time (the next token in {:.1} s)",
                wait.as_secs_f64()
            ),
        )
    }

    /// [`Self::budget`] for a port outside the crate (tests modelling a rate limit).
    #[doc(hidden)]
    pub fn budget_for_tests(wait: std::time::Duration) -> Self {
        Self::budget("elasticloadbalancing", wait)
    }

    /// The call was not made, for budget ([`Self::budget`]).
    pub fn is_budget(&self) -> bool {
        self.code == BUDGET
    }

    /// The resource does not exist (as opposed to: we may not look, or AWS failed).
    pub fn is_not_found(&self) -> bool {
        self.code.ends_with("NotFound")
            || self.code.ends_with("NotFoundException")
            || self.code.starts_with("NoSuch")
    }
}

impl std::error::Error for SourceError {}

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

/// The code of a call skipped for budget ([`SourceError::budget`]); a world's `Errors` entry
/// with it replays the skip.
pub(crate) const BUDGET: &str = "Budget";

/// The time range of a metric read: `start <= t < end`, 60 s periods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// One AWS operation: everything fivexx knows about it, in one place.
pub trait Operation: Send + Sync + 'static {
    /// Its IAM name: the source of its gaps, its key in a world's `Faults` and `Errors`.
    const OP: Op;
    /// What the call is about (an ARN, a zone and a name, metric queries and a window).
    type Input: ?Sized + Sync;
    /// The answer, in the model's shapes.
    type Output: Send;

    /// The input's key in a world's `Errors` (and in a recording's).
    fn key(region: &str, input: &Self::Input) -> String;

    /// The SDK call (every page of it, each counted by the port).
    fn sdk(
        sdk: &AwsSdk,
        region: &str,
        input: &Self::Input,
    ) -> impl Future<Output = Answer<Self::Output>> + Send;

    /// The world file's answer, as AWS would give it (a resource the world does not hold is
    /// not found); faults are applied by the world before this is asked.
    fn world(world: &World, region: &str, input: &Self::Input) -> Answer<Self::Output>;

    /// Writes a successful answer into a recording (failures are written by the recorder).
    fn record(rec: &mut Recording, region: &str, input: &Self::Input, output: &Self::Output);

    /// The metrics this call asks CloudWatch for, the unit `GetMetricData` is billed by (0
    /// for every other operation).
    fn metrics_requested(_input: &Self::Input) -> usize {
        0
    }
}

/// What fivexx asks of AWS: any [`Operation`], in a region (global services ignore it).
pub trait Port: Sync {
    fn call<O: Operation>(
        &self,
        region: &str,
        input: &O::Input,
    ) -> impl Future<Output = Answer<O::Output>> + Send;

    /// Waits until a call of `O` in `region` fits its service's rate limit
    /// (`evidence::pace`), unless it could not start by `latest`: then the call is not to be
    /// made, and the error says so ([`SourceError::budget`]). A port with no rate limit (a
    /// world) lets every call go at once.
    fn pace<O: Operation>(
        &self,
        region: &str,
        input: &O::Input,
        latest: Instant,
    ) -> impl Future<Output = Answer<()>> + Send {
        let _ = (region, input, latest);
        async { Ok(()) }
    }

    /// How many requests this port has sent (pages included).
    fn api_calls(&self) -> usize;

    /// Regions, besides the home region, where a CloudFront origin ALB may live: their load
    /// balancers are listed in the first wave, beside the distribution configs, so an origin
    /// there costs no extra wave.
    fn origin_regions(&self) -> Vec<String> {
        Vec::new()
    }
}
