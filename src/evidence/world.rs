//! The world file: recorded AWS answers, replayed through the same port as the SDK.
//!
//! Format `fivexx-world/1` (`docs/world-format.md`): each service's answers in its API's JSON shape,
//! keyed by the operation and its input. Each service's section and answers live with the
//! service (`elb`, `acm`, ...). A resource the world does not hold answers the way AWS would
//! (`LoadBalancerNotFound`, ...); `Faults` fails an operation for every input, `Errors` one
//! input of it.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::acm::AcmWorld;
use super::apigw::{ApiGatewayV2World, ApiGatewayWorld};
use super::clb::ClassicWorld;
use super::cloudfront::CloudFrontWorld;
use super::cloudwatch::CloudWatchWorld;
use super::elb::ElbWorld;
use super::lambda::LambdaWorld;
use super::port::{Answer, Op, Operation, Port, SourceError};
use super::route53::Route53World;
use crate::error::InputError;
use crate::names;

pub(crate) const WORLD_FORMAT: &str = "fivexx-world/1";

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
    /// Classic Load Balancers; left out when empty.
    #[serde(
        rename = "ElasticLoadBalancing",
        default,
        skip_serializing_if = "ClassicWorld::is_empty"
    )]
    pub elb_classic: ClassicWorld,
    #[serde(rename = "ACM", default)]
    pub acm: AcmWorld,
    #[serde(rename = "CloudFront", default)]
    pub cloudfront: CloudFrontWorld,
    #[serde(rename = "Route53", default)]
    pub route53: Route53World,
    #[serde(rename = "CloudWatch", default)]
    pub cloudwatch: CloudWatchWorld,
    #[serde(
        rename = "APIGateway",
        default,
        skip_serializing_if = "ApiGatewayWorld::is_empty"
    )]
    pub apigateway: ApiGatewayWorld,
    #[serde(
        rename = "ApiGatewayV2",
        default,
        skip_serializing_if = "ApiGatewayV2World::is_empty"
    )]
    pub apigatewayv2: ApiGatewayV2World,
    #[serde(
        rename = "Lambda",
        default,
        skip_serializing_if = "LambdaWorld::is_empty"
    )]
    pub lambda: LambdaWorld,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub faults: BTreeMap<String, Fault>,
    /// Errors for one input of an operation, as a recording saw them:
    /// `{"acm:DescribeCertificate": {"<CertificateArn>": {"Code": ..., "Message": ...}}}`.
    /// The input key is the one the operation's answers are keyed by (`GetMetricData`: the
    /// region; `DescribeLoadBalancers`: the ARN, or the region for a list, and for the Classic
    /// API the names joined by `,`, or `classic REGION` for a list; `ListResourceRecordSets`:
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
    pub(crate) fn error(&self) -> SourceError {
        SourceError::new(&self.code, &self.message)
    }
}

impl World {
    /// An empty world, ready to be filled by a recording.
    pub(crate) fn new(region: &str, account: Option<String>, now: DateTime<Utc>) -> Self {
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

    /// How `op` fails for input `key`: its `Faults` entry (every input), else its `Errors`
    /// entry for that input.
    pub(crate) fn fault(&self, op: Op, key: &str) -> Option<SourceError> {
        let names = [op.iam_name(), op.iam_action()];
        names
            .iter()
            .find_map(|n| self.faults.get(*n))
            .or_else(|| {
                names
                    .iter()
                    .find_map(|n| self.errors.get(*n).and_then(|per_input| per_input.get(key)))
            })
            .map(Fault::error)
    }

    /// Whether a resource is in `region`: its ARN's region, else the world's.
    pub(crate) fn in_region(&self, resource_arn: &str, region: &str) -> bool {
        names::region(resource_arn).unwrap_or(&self.region) == region
    }
}

impl Port for World {
    async fn call<O: Operation>(&self, region: &str, input: &O::Input) -> Answer<O::Output> {
        self.calls.0.fetch_add(1, Ordering::Relaxed);
        match self.fault(O::OP, &O::key(region, input)) {
            Some(e) => Err(e),
            None => O::world(self, region, input),
        }
    }

    fn api_calls(&self) -> usize {
        self.calls.0.load(Ordering::Relaxed)
    }

    /// Every region the world holds load balancers in: an ALB's is in its ARN, a Classic Load
    /// Balancer's in its DNS name.
    fn origin_regions(&self) -> Vec<String> {
        let mut regions: Vec<String> = self
            .elbv2
            .describe_load_balancers
            .load_balancers
            .iter()
            .filter_map(|lb| names::region(&lb.load_balancer_arn).map(str::to_owned))
            .chain(
                self.elb_classic
                    .describe_load_balancers
                    .load_balancer_descriptions
                    .iter()
                    .filter_map(|lb| lb.dns_region()),
            )
            .collect();
        regions.sort();
        regions.dedup();
        regions
    }
}
