//! Elastic Load Balancing (the Classic Load Balancer, API version 2012-06-01): what fivexx
//! reads of it, in the API's own JSON shapes, and the world file's `ElasticLoadBalancing`
//! section. The operations are in `ops.rs`, re-exported here.
//!
//! A Classic Load Balancer has no ARN in its API: its name is its id, unique in its region, and
//! its region is the one in its DNS name (`NAME-123.REGION.elb.amazonaws.com`). A world keys its
//! Classic answers by name, so it holds one Classic Load Balancer of a name.

mod ops;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use self::ops::{
    ClassicLoadBalancers, DescribeClassicLoadBalancerAttributes, DescribeClassicLoadBalancers,
    DescribeInstanceHealth,
};
use super::port::{Answer, SourceError};
use super::world::World;
use crate::names;

/// One Classic Load Balancer, as `DescribeLoadBalancers` describes it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LoadBalancerDescription {
    pub load_balancer_name: String,
    #[serde(rename = "DNSName", default, skip_serializing_if = "Option::is_none")]
    pub dns_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canonical_hosted_zone_name: Option<String>,
    #[serde(
        rename = "CanonicalHostedZoneNameID",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub canonical_hosted_zone_name_id: Option<String>,
    /// `internet-facing` or `internal`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheme: Option<String>,
    #[serde(rename = "VPCId", default, skip_serializing_if = "Option::is_none")]
    pub vpc_id: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub availability_zones: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subnets: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub security_groups: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_time: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub listener_descriptions: Vec<ListenerDescription>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_check: Option<HealthCheck>,
    /// The registered instances.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub instances: Vec<Instance>,
}

impl LoadBalancerDescription {
    /// The region in its DNS name, when it has one that names a region.
    pub(crate) fn dns_region(&self) -> Option<String> {
        self.dns_name.as_deref().and_then(names::classic_dns_region)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListenerDescription {
    /// Always present in AWS's answers; an empty one when a world leaves it out.
    #[serde(default)]
    pub listener: Listener,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policy_names: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Listener {
    /// `HTTP`, `HTTPS`, `TCP` or `SSL`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_balancer_port: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_protocol: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_port: Option<i32>,
    /// The certificate of an `HTTPS` or `SSL` listener: an ACM or IAM server certificate ARN.
    #[serde(
        rename = "SSLCertificateId",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub ssl_certificate_id: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct HealthCheck {
    /// `PROTOCOL:PORT[PATH]`, such as `HTTP:80/health` or `TCP:8080`: see
    /// [`HealthCheck::parsed_target`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Seconds between two checks of one instance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<i32>,
    /// Seconds without an answer that fail a check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unhealthy_threshold: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub healthy_threshold: Option<i32>,
}

impl HealthCheck {
    /// The target, read; `None` when there is none or it is not one AWS would accept.
    pub fn parsed_target(&self) -> Option<HealthCheckTarget> {
        self.target.as_deref().and_then(HealthCheckTarget::parse)
    }
}

/// A health check's target (`HTTP:80/health`): what is checked, on which instance port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthCheckTarget {
    /// `HTTP`, `HTTPS`, `TCP` or `SSL`, upper case.
    pub protocol: String,
    pub port: u16,
    /// The path of an `HTTP` or `HTTPS` check (`/health`, always with its leading `/`);
    /// `None` for `TCP` and `SSL`, which only open a connection.
    pub path: Option<String>,
}

impl HealthCheckTarget {
    /// Parses `PROTOCOL:PORT[PATH]` the way AWS validates it: an `HTTP` or `HTTPS` check has a
    /// path starting with `/`, a `TCP` or `SSL` check none; the port is 1 to 65535; the
    /// protocol may be in any case (AWS stores it upper case).
    pub(crate) fn parse(target: &str) -> Option<Self> {
        let (protocol, rest) = target.trim().split_once(':')?;
        let protocol = protocol.to_ascii_uppercase();
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let (port, path) = rest.split_at(digits);
        let port: u16 = port.parse().ok().filter(|p| *p > 0)?;
        let path = match (protocol.as_str(), path) {
            ("HTTP" | "HTTPS", p) if p.starts_with('/') => Some(p.to_owned()),
            ("TCP" | "SSL", "") => None,
            _ => return None,
        };
        Some(Self {
            protocol,
            port,
            path,
        })
    }
}

/// A registered instance.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Instance {
    pub instance_id: String,
}

/// One instance's health, as `DescribeInstanceHealth` gives it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct InstanceState {
    pub instance_id: String,
    /// `InService`, `OutOfService` or `Unknown`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// `ELB` (the load balancer's side: registration, capacity), `Instance` (the instance
    /// fails its health check) or `N/A`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// A Classic Load Balancer's attributes (`DescribeLoadBalancerAttributes`): named fields, not
/// v2's key/value list.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LoadBalancerAttributes {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_settings: Option<ConnectionSettings>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_draining: Option<ConnectionDraining>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cross_zone_load_balancing: Option<CrossZoneLoadBalancing>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_log: Option<AccessLog>,
}

/// AWS's idle timeout of a Classic Load Balancer that was never given one.
pub(crate) const DEFAULT_IDLE_TIMEOUT: i32 = 60;

impl LoadBalancerAttributes {
    /// The idle timeout in seconds: the time a connection may stay idle, either way, before
    /// the load balancer closes it (a 504 when the instance has not answered by then).
    ///
    /// `DEFAULT_IDLE_TIMEOUT` (60 s) when unset: that is AWS's default, which applies to a
    /// load balancer whose `ConnectionSettings` were never modified, and AWS's answer always
    /// carries `ConnectionSettings`; only a world written by hand, or an attribute answer the
    /// world does not hold, leaves it out. A value outside AWS's range (1 to 4,000 s), which
    /// only a hand-written world can hold, reads as unset too.
    pub fn idle_timeout(&self) -> i32 {
        self.connection_settings
            .as_ref()
            .and_then(|c| c.idle_timeout)
            .filter(|t| (1..=4000).contains(t))
            .unwrap_or(DEFAULT_IDLE_TIMEOUT)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ConnectionSettings {
    /// Seconds: see [`LoadBalancerAttributes::idle_timeout`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle_timeout: Option<i32>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ConnectionDraining {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Seconds an instance being deregistered keeps its connections.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<i32>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CrossZoneLoadBalancing {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AccessLog {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

// ---------------------------------------------------------------- the world file's section

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LoadBalancerDescriptions {
    #[serde(default)]
    pub load_balancer_descriptions: Vec<LoadBalancerDescription>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct InstanceStates {
    #[serde(default)]
    pub instance_states: Vec<InstanceState>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LoadBalancerAttributesEnvelope {
    #[serde(default)]
    pub load_balancer_attributes: LoadBalancerAttributes,
}

/// The world file's `ElasticLoadBalancing` section: Classic Load Balancers. Left out of a
/// world that holds none, so worlds without them serialize as before.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ClassicWorld {
    /// Every Classic Load Balancer of the world, any region: one bare list.
    #[serde(default, skip_serializing_if = "LoadBalancerDescriptions::is_empty")]
    pub describe_load_balancers: LoadBalancerDescriptions,
    /// By load balancer name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub describe_instance_health: BTreeMap<String, InstanceStates>,
    /// By load balancer name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub describe_load_balancer_attributes: BTreeMap<String, LoadBalancerAttributesEnvelope>,
}

impl LoadBalancerDescriptions {
    pub(crate) fn is_empty(&self) -> bool {
        self.load_balancer_descriptions.is_empty()
    }
}

impl ClassicWorld {
    pub(crate) fn is_empty(&self) -> bool {
        self.describe_load_balancers.is_empty()
            && self.describe_instance_health.is_empty()
            && self.describe_load_balancer_attributes.is_empty()
    }
}

/// Lookups of the world's Classic answers, as AWS finds them: in the region asked.
impl World {
    /// The region of a Classic Load Balancer: its DNS name's, else the world's.
    pub(crate) fn classic_region(&self, lb: &LoadBalancerDescription) -> String {
        lb.dns_region().unwrap_or_else(|| self.region.clone())
    }

    /// Whether a Classic Load Balancer is in `region`.
    pub(crate) fn classic_in_region(&self, lb: &LoadBalancerDescription, region: &str) -> bool {
        self.classic_region(lb) == region
    }

    pub(crate) fn classic_load_balancer(
        &self,
        region: &str,
        name: &str,
    ) -> Answer<&LoadBalancerDescription> {
        self.elb_classic
            .describe_load_balancers
            .load_balancer_descriptions
            .iter()
            .find(|lb| lb.load_balancer_name == name && self.classic_in_region(lb, region))
            .ok_or_else(|| {
                SourceError::new(
                    "LoadBalancerNotFound",
                    format!("load balancer `{name}` not found"),
                )
            })
    }
}
