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
pub mod clb;
pub mod cloudfront;
pub mod cloudwatch;
pub mod elb;
pub mod gather;
pub mod port;
pub mod record;
pub(crate) mod route53;
pub mod sdk;
pub mod world;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use self::acm::CertificateDetail;
use self::cloudfront::{DistributionConfig, OriginRequestPolicy};
use self::cloudwatch::Metrics;
use self::elb::{Attribute, Listener, LoadBalancer, Rule, TargetGroup, TargetHealthDescription};
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
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct DistributionEvidence {
    pub id: String,
    pub config: Option<DistributionConfig>,
    /// Origin request policies by id, for every behaviour that names one.
    pub origin_request_policies: BTreeMap<String, OriginRequestPolicy>,
    pub origins: Vec<OriginLink>,
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
    pub metrics: Metrics,
    pub gaps: Vec<Gap>,
    pub stats: GatherStats,
}

impl Evidence {
    pub fn alb(&self, arn: &str) -> Option<&AlbEvidence> {
        self.albs.iter().find(|a| a.arn == arn)
    }
}
