//! The AWS answers fivexx reads, in the APIs' own documented JSON shapes.
//!
//! These types serve three roles at once: what the rules read, what a world file holds, and
//! what `--record` writes. Field names follow each service's API reference (PascalCase, with
//! the services' own spellings such as `DNSName` and `HTTPPort`). Only the fields fivexx uses
//! are modelled; unknown fields in a world file are ignored, so a full API answer pasted into
//! a world still loads. Every field is optional because AWS omits what is unset.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

// ---------------------------------------------------------------- Elastic Load Balancing v2

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LoadBalancer {
    pub load_balancer_arn: String,
    #[serde(rename = "DNSName", default, skip_serializing_if = "Option::is_none")]
    pub dns_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canonical_hosted_zone_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_balancer_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheme: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vpc_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<LoadBalancerState>,
    #[serde(rename = "Type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub security_groups: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_address_type: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LoadBalancerState {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A key/value attribute of a load balancer or target group.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Attribute {
    pub key: String,
    #[serde(default)]
    pub value: String,
}

/// The value of `key` among `attributes`, if present.
pub fn attribute<'a>(attributes: &'a [Attribute], key: &str) -> Option<&'a str> {
    attributes
        .iter()
        .find(|a| a.key == key)
        .map(|a| a.value.as_str())
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Listener {
    pub listener_arn: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_balancer_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub certificates: Vec<ListenerCertificate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssl_policy: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub default_actions: Vec<Action>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListenerCertificate {
    pub certificate_arn: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_default: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Action {
    #[serde(rename = "Type", default)]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_group_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forward_config: Option<ForwardConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed_response_config: Option<FixedResponseConfig>,
}

impl Action {
    /// Every target group this action forwards to.
    pub fn target_group_arns(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        if let Some(arn) = &self.target_group_arn {
            out.push(arn);
        }
        if let Some(fc) = &self.forward_config {
            for tg in &fc.target_groups {
                if !out.contains(&tg.target_group_arn.as_str()) {
                    out.push(&tg.target_group_arn);
                }
            }
        }
        out
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ForwardConfig {
    #[serde(default)]
    pub target_groups: Vec<TargetGroupTuple>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TargetGroupTuple {
    pub target_group_arn: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<i32>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct FixedResponseConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Rule {
    pub rule_arn: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<Action>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_default: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TargetGroup {
    pub target_group_arn: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_group_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_check_enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_check_protocol: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_check_port: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_check_path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_check_interval_seconds: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_check_timeout_seconds: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub healthy_threshold_count: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unhealthy_threshold_count: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matcher: Option<Matcher>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub load_balancer_arns: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vpc_id: Option<String>,
}

impl TargetGroup {
    /// The name, or the ARN when the name is missing.
    pub fn display_name(&self) -> &str {
        self.target_group_name
            .as_deref()
            .unwrap_or(&self.target_group_arn)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Matcher {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grpc_code: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TargetHealthDescription {
    pub target: TargetDescription,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_check_port: Option<String>,
    #[serde(default)]
    pub target_health: TargetHealth,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TargetDescription {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub availability_zone: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TargetHealth {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

// ---------------------------------------------------------------- ACM

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CertificateDetail {
    pub certificate_arn: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain_name: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subject_alternative_names: Vec<String>,
    #[serde(rename = "Type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_before: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_after: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renewal_eligibility: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renewal_summary: Option<RenewalSummary>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub domain_validation_options: Vec<DomainValidation>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub in_use_by: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
}

/// One certificate of ACM's `ListCertificates`: the summary's fields in a detail's shape (no
/// renewal summary, validation options, users or issuer: `DescribeCertificate` has those).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CertificateSummary {
    pub detail: CertificateDetail,
    /// Whether `detail.subject_alternative_names` holds every name of the certificate (a
    /// summary lists at most the first 100, and may list none).
    pub names_complete: bool,
}

impl CertificateDetail {
    /// What `ListCertificates` would say of this certificate.
    pub fn summary(&self) -> CertificateSummary {
        CertificateSummary {
            detail: CertificateDetail {
                certificate_arn: self.certificate_arn.clone(),
                domain_name: self.domain_name.clone(),
                subject_alternative_names: self.subject_alternative_names.clone(),
                kind: self.kind.clone(),
                status: self.status.clone(),
                not_before: self.not_before,
                not_after: self.not_after,
                renewal_eligibility: self.renewal_eligibility.clone(),
                ..CertificateDetail::default()
            },
            names_complete: true,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RenewalSummary {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renewal_status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renewal_status_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DomainValidation {
    pub domain_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation_domain: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation_status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation_method: Option<String>,
}

// ---------------------------------------------------------------- CloudFront

/// A CloudFront list: `{"Quantity": n, "Items": [...]}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Items<T> {
    #[serde(default)]
    pub quantity: i32,
    #[serde(default = "Vec::new")]
    pub items: Vec<T>,
}

impl<T> Default for Items<T> {
    fn default() -> Self {
        Self {
            quantity: 0,
            items: Vec::new(),
        }
    }
}

impl<T> Items<T> {
    pub fn new(items: Vec<T>) -> Self {
        Self {
            quantity: i32::try_from(items.len()).unwrap_or(i32::MAX),
            items,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DistributionConfigEnvelope {
    #[serde(rename = "ETag", default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    pub distribution_config: DistributionConfig,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DistributionConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aliases: Option<Items<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    #[serde(default)]
    pub origins: Items<Origin>,
    #[serde(default)]
    pub default_cache_behavior: CacheBehavior,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_behaviors: Option<Items<CacheBehavior>>,
    #[serde(rename = "WebACLId", default, skip_serializing_if = "Option::is_none")]
    pub web_acl_id: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Origin {
    pub id: String,
    pub domain_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin_path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_origin_config: Option<CustomOriginConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3_origin_config: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vpc_origin_config: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_attempts: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_timeout: Option<i32>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CustomOriginConfig {
    #[serde(rename = "HTTPPort", default, skip_serializing_if = "Option::is_none")]
    pub http_port: Option<i32>,
    #[serde(rename = "HTTPSPort", default, skip_serializing_if = "Option::is_none")]
    pub https_port: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin_protocol_policy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin_ssl_protocols: Option<Items<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin_read_timeout: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin_keepalive_timeout: Option<i32>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CacheBehavior {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_pattern: Option<String>,
    #[serde(default)]
    pub target_origin_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub viewer_protocol_policy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_policy_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin_request_policy_id: Option<String>,
    /// Legacy cache settings; `Headers` may whitelist `Host`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forwarded_values: Option<ForwardedValues>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lambda_function_associations: Option<Items<LambdaFunctionAssociation>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function_associations: Option<Items<FunctionAssociation>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ForwardedValues {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headers: Option<Items<String>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LambdaFunctionAssociation {
    #[serde(rename = "LambdaFunctionARN", default)]
    pub lambda_function_arn: String,
    #[serde(default)]
    pub event_type: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct FunctionAssociation {
    #[serde(rename = "FunctionARN", default)]
    pub function_arn: String,
    #[serde(default)]
    pub event_type: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct OriginRequestPolicyEnvelope {
    #[serde(rename = "ETag", default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    pub origin_request_policy: OriginRequestPolicy,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct OriginRequestPolicy {
    pub id: String,
    pub origin_request_policy_config: OriginRequestPolicyConfig,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct OriginRequestPolicyConfig {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub headers_config: HeadersConfig,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct HeadersConfig {
    #[serde(default)]
    pub header_behavior: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headers: Option<Items<String>>,
}

// ---------------------------------------------------------------- Route 53

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct HostedZone {
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<HostedZoneConfig>,
}

impl HostedZone {
    /// The zone id without its `/hostedzone/` prefix, as `ListResourceRecordSets` keys it.
    pub fn short_id(&self) -> &str {
        self.id.trim_start_matches("/hostedzone/")
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct HostedZoneConfig {
    #[serde(default)]
    pub private_zone: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ResourceRecordSet {
    pub name: String,
    #[serde(rename = "Type")]
    pub kind: String,
    #[serde(rename = "TTL", default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<i64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resource_records: Vec<ResourceRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias_target: Option<AliasTarget>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ResourceRecord {
    pub value: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AliasTarget {
    pub hosted_zone_id: String,
    #[serde(rename = "DNSName")]
    pub dns_name: String,
    #[serde(default)]
    pub evaluate_target_health: bool,
}
