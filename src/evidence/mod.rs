//! Evidence: everything AWS said about the resources of one alarm.
//!
//! [`gather::gather`] fills an [`Evidence`] through a [`port::Port`] (the SDK or a world
//! file); the rules read it and nothing else. A source that could not be read is `None` (or
//! absent from its map) and has a [`Gap`] naming the operation and the AWS error code.
//!
//! One module per AWS service ([`elb`], [`clb`] (the Classic Load Balancer), [`acm`],
//! [`cloudfront`], [`route53`], [`cloudwatch`]) holds what fivexx reads of it: its answers in
//! the API's own documented JSON shapes (PascalCase, with the services' spellings such as
//! `DNSName`), its world-file section, and its operations ([`port::Operation`]: the SDK call,
//! the world's answer, the recording). The same types serve the rules, the world file and
//! `--record`; only the fields fivexx uses are modelled, unknown fields in a world are ignored
//! (a full API answer pasted into a world loads), and every field is optional because AWS
//! omits what is unset.
//! [`sdk`], [`world`] and [`record`] are the three ports; [`gather`] orders the calls.

pub mod acm;
pub mod apigw;
pub mod clb;
pub mod cloudfront;
pub mod cloudwatch;
pub mod elb;
pub mod gather;
pub mod lambda;
pub(crate) mod pace;
pub mod port;
pub mod record;
pub(crate) mod reuse;
pub(crate) mod route53;
pub mod sdk;
pub mod world;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use self::acm::CertificateDetail;
use self::apigw::{ApiKind, Integration};
use self::cloudfront::{DistributionConfig, OriginRequestPolicy};
use self::cloudwatch::Metrics;
use self::elb::{Attribute, Listener, LoadBalancer, Rule, TargetGroup, TargetHealthDescription};
use self::lambda::{AccountSettings, FunctionConcurrency, FunctionConfiguration, PolicyState};
use self::port::Window;
use crate::names;

/// A source that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Gap {
    /// `service:Operation`, IAM spelling, or a description for gaps that are no single call.
    pub source: String,
    /// `ErrorCode: message`.
    pub reason: String,
    /// The resource asked about, when there was one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// Why it is missing: AWS failed or refused (`error`), or the call was not made because
    /// the service's rate limit left no room for it before the deadline (`budget`).
    pub kind: GapKind,
}

/// Why a source is missing (`Gap::kind`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum GapKind {
    /// The call failed: an AWS error code, a timeout, a deadline.
    #[default]
    Error,
    /// The call was not made: AWS's rate limit for its service would not let it start in time.
    Budget,
}

/// One load balancer and what hangs off it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AlbEvidence {
    pub region: String,
    pub arn: String,
    pub load_balancer: Option<LoadBalancer>,
    /// `None` when unreadable; an empty list when no attribute was ever set.
    pub attributes: Option<Vec<Attribute>>,
    pub listeners: Option<Vec<Listener>>,
    /// Rules per listener ARN.
    pub rules: BTreeMap<String, Vec<Rule>>,
    pub target_groups: Option<Vec<TargetGroupEvidence>>,
    /// ACM details per certificate ARN, for every listener certificate that could be read.
    pub certificates: BTreeMap<String, CertificateDetail>,
    /// Target groups the alarm names (ARNs): the triage's focus when not empty.
    pub focus_target_groups: Vec<String>,
    /// How this load balancer was found (`LoadBalancer dimension`, `origin ... via Route 53 ...`).
    pub found_via: String,
}

impl AlbEvidence {
    /// Whether it is a Network Load Balancer (`net/` in its ARN, or `Type` network).
    pub(crate) fn is_network(&self) -> bool {
        names::is_network_dimension(&self.arn)
            || self
                .load_balancer
                .as_ref()
                .is_some_and(|lb| lb.kind.as_deref() == Some("network"))
    }

    /// `app/NAME/ID`, the `LoadBalancer` metric dimension.
    pub(crate) fn dimension(&self) -> &str {
        names::load_balancer_dimension(&self.arn).unwrap_or(&self.arn)
    }

    pub(crate) fn name(&self) -> &str {
        self.load_balancer
            .as_ref()
            .and_then(|lb| lb.load_balancer_name.as_deref())
            .unwrap_or_else(|| names::load_balancer_name(&self.arn))
    }

    /// The target groups in focus: the alarm's, else all of them.
    pub(crate) fn focused_target_groups(&self) -> Vec<&TargetGroupEvidence> {
        let all = self.target_groups.as_deref().unwrap_or_default();
        let focused: Vec<_> = all
            .iter()
            .filter(|t| {
                self.focus_target_groups
                    .contains(&t.target_group.target_group_arn)
            })
            .collect();
        if focused.is_empty() {
            all.iter().collect()
        } else {
            focused
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct TargetGroupEvidence {
    pub target_group: TargetGroup,
    pub attributes: Option<Vec<Attribute>>,
    pub health: Option<Vec<TargetHealthDescription>>,
}

/// How a CloudFront origin maps to a load balancer.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OriginLink {
    pub origin_id: String,
    pub domain_name: String,
    /// The load balancer found behind it.
    pub alb_arn: Option<String>,
    /// The ELB DNS name the origin resolves to, when one was found.
    pub elb_dns_name: Option<String>,
    /// How it was followed, or why it could not be.
    pub how: String,
    /// Whether it should lead to a load balancer (a custom origin); S3 and VPC origins are
    /// not followed, and not finding one behind them is no gap.
    pub followed: bool,
    /// Its ELB DNS name matched no ELB v2 load balancer: it may be a Classic one.
    pub unmatched: bool,
    /// The Classic Load Balancer found behind it, by name.
    pub classic_name: Option<String>,
    /// The API Gateway stage behind it (`*.execute-api.*`): the API's id and the stage.
    pub api: Option<(String, Option<String>)>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct DistributionEvidence {
    pub id: String,
    pub config: Option<DistributionConfig>,
    /// Origin request policies by id, for every behaviour that names one.
    pub origin_request_policies: BTreeMap<String, OriginRequestPolicy>,
    pub origins: Vec<OriginLink>,
}

/// One Classic Load Balancer and what AWS says of it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClbEvidence {
    pub region: String,
    pub name: String,
    /// `None` when unreadable.
    pub load_balancer: Option<clb::LoadBalancerDescription>,
    pub health: Option<Vec<clb::InstanceState>>,
    pub attributes: Option<clb::LoadBalancerAttributes>,
    pub found_via: String,
}

impl ClbEvidence {
    /// Its ARN, as IAM and the console name it (the Classic API has none of its own).
    pub(crate) fn arn(&self, account: Option<&str>) -> String {
        format!(
            "arn:{}:elasticloadbalancing:{}:{}:loadbalancer/{}",
            names::partition(&self.region),
            self.region,
            account.unwrap_or(""),
            self.name
        )
    }
}

/// One API Gateway stage and what it integrates with.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ApiEvidence {
    pub region: String,
    pub kind: ApiKind,
    /// The alarm's `ApiName` (REST) or `ApiId` (HTTP API): the metrics' dimension.
    pub key: String,
    /// The alarm's `Stage`; `None` when it watches the whole API.
    pub stage_name: Option<String>,
    /// The API's id, once found (REST APIs are found by name).
    pub id: Option<String>,
    pub name: Option<String>,
    /// REST APIs with the alarm's name: their metrics share one series when more than one.
    pub same_name: usize,
    /// The stage's variables; `None` when the stage could not be read (or none was named).
    pub stage_variables: Option<BTreeMap<String, String>>,
    /// Every route's integration; `None` when unreadable.
    pub integrations: Option<Vec<Integration>>,
    pub functions: Vec<FunctionEvidence>,
    /// Lambda's account settings in the API's region (read when a function is integrated).
    pub account: Option<AccountSettings>,
    /// The load balancers the integrations reach, with how each was found.
    pub backends: Vec<BackendLink>,
    /// Why an integration's function or backend could not be named (a stage variable the
    /// stage does not set, a URI naming no function).
    pub unresolved: Vec<String>,
}

impl ApiEvidence {
    /// What the messages call it: `orders-api (prod)`.
    pub(crate) fn label(&self) -> String {
        let name = self.name.as_deref().unwrap_or(&self.key);
        match &self.stage_name {
            Some(s) => format!("{name} ({s})"),
            None => name.to_owned(),
        }
    }
}

/// A function an API integrates, and what Lambda says of it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FunctionEvidence {
    /// `name` or `name:qualifier`, as the integration names it.
    pub name: String,
    pub region: String,
    /// The routes that invoke it (`POST /orders`).
    pub routes: Vec<String>,
    /// The integration timeout of those routes, the longest (ms).
    pub integration_timeout_ms: i64,
    pub config: Option<FunctionConfiguration>,
    /// `None` when unreadable.
    pub concurrency: Option<FunctionConcurrency>,
    /// `None` when unreadable.
    pub policy: Option<PolicyState>,
}

impl FunctionEvidence {
    pub(crate) fn bare_name(&self) -> &str {
        lambda::bare(&self.name)
    }

    /// The alias or version after `:`, if any.
    pub(crate) fn qualifier(&self) -> Option<&str> {
        self.name.split_once(':').map(|(_, q)| q)
    }
}

/// An integration's backend that is a load balancer of this account.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BackendLink {
    pub route: String,
    /// The load balancer's ARN.
    pub lb_arn: String,
    /// How it was found (`HTTP integration URI ...`, `VPC link ...`).
    pub how: String,
}

/// Counters for the verdict's `stats`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct GatherStats {
    pub api_calls: usize,
    pub round_trips: usize,
}

/// Everything gathered for one alarm.
#[derive(Debug, Clone, PartialEq)]
pub struct Evidence {
    /// The triage clock.
    pub now: DateTime<Utc>,
    /// The metric window read (two hours before `now`).
    pub window: Window,
    pub albs: Vec<AlbEvidence>,
    pub distributions: Vec<DistributionEvidence>,
    pub apis: Vec<ApiEvidence>,
    pub classic: Vec<ClbEvidence>,
    pub metrics: Metrics,
    pub gaps: Vec<Gap>,
    pub stats: GatherStats,
}

impl Evidence {
    pub fn alb(&self, arn: &str) -> Option<&AlbEvidence> {
        self.albs.iter().find(|a| a.arn == arn)
    }
}
