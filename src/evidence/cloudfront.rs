//! CloudFront: distribution configurations and origin request policies, and the world
//! file's `CloudFront` section. A global service: the region a port is asked in is ignored.

use std::collections::BTreeMap;

use aws_sdk_cloudfront::types as cf;
use serde::{Deserialize, Serialize};

use super::port::{Answer, Op, Operation, SourceError};
use super::record::Recording;
use super::sdk::{AwsSdk, OnWorker, opt_str};
use super::world::World;

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
    pub(crate) fn new(items: Vec<T>) -> Self {
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

impl DistributionConfig {
    /// The default cache behaviour, then the others in their order.
    pub(crate) fn behaviors(&self) -> impl Iterator<Item = &CacheBehavior> {
        std::iter::once(&self.default_cache_behavior)
            .chain(self.cache_behaviors.iter().flat_map(|b| &b.items))
    }

    /// Whether some cache behaviour runs a Lambda@Edge function.
    pub(crate) fn has_lambda_edge(&self) -> bool {
        self.behaviors().any(|b| {
            b.lambda_function_associations
                .as_ref()
                .is_some_and(|l| !l.items.is_empty())
        })
    }

    /// The CloudFront Functions of every cache behaviour, by name (the last `/` part of the
    /// function ARN, the metrics' `FunctionName`), each once, in order of first use.
    pub(crate) fn function_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for f in self
            .behaviors()
            .flat_map(|b| b.function_associations.iter().flat_map(|f| &f.items))
        {
            let name = f.function_arn.rsplit('/').next().unwrap_or(&f.function_arn);
            if !name.is_empty() && !names.contains(&name) {
                names.push(name);
            }
        }
        names
    }
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

// ---------------------------------------------------------------- the world file's section

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CloudFrontWorld {
    #[serde(default)]
    pub get_distribution_config: BTreeMap<String, DistributionConfigEnvelope>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub get_origin_request_policy: BTreeMap<String, OriginRequestPolicyEnvelope>,
}

// ---------------------------------------------------------------- operations

pub(crate) struct GetDistributionConfig;

impl Operation for GetDistributionConfig {
    const OP: Op = Op::GetDistributionConfig;
    type Input = str;
    type Output = DistributionConfigEnvelope;

    fn key(_region: &str, id: &str) -> String {
        id.to_owned()
    }

    async fn sdk(sdk: &AwsSdk, _region: &str, id: &str) -> Answer<DistributionConfigEnvelope> {
        let resp = sdk
            .once(
                sdk.cloudfront()
                    .get_distribution_config()
                    .id(id)
                    .send()
                    .on_worker(),
            )
            .await?;
        let cfg = resp.distribution_config().ok_or_else(|| {
            SourceError::new("EmptyResponse", format!("no configuration for `{id}`"))
        })?;
        Ok(DistributionConfigEnvelope {
            etag: opt_str(resp.e_tag()),
            distribution_config: distribution_config(cfg),
        })
    }

    fn world(w: &World, _region: &str, id: &str) -> Answer<DistributionConfigEnvelope> {
        w.cloudfront
            .get_distribution_config
            .get(id)
            .cloned()
            .ok_or_else(|| {
                SourceError::new(
                    "NoSuchDistribution",
                    format!("distribution `{id}` not found"),
                )
            })
    }

    fn record(rec: &mut Recording, _region: &str, id: &str, out: &DistributionConfigEnvelope) {
        rec.world
            .cloudfront
            .get_distribution_config
            .insert(id.to_owned(), out.clone());
    }
}

pub struct GetOriginRequestPolicy;

impl Operation for GetOriginRequestPolicy {
    const OP: Op = Op::GetOriginRequestPolicy;
    type Input = str;
    type Output = OriginRequestPolicyEnvelope;

    fn key(_region: &str, id: &str) -> String {
        id.to_owned()
    }

    async fn sdk(sdk: &AwsSdk, _region: &str, id: &str) -> Answer<OriginRequestPolicyEnvelope> {
        let resp = sdk
            .once(
                sdk.cloudfront()
                    .get_origin_request_policy()
                    .id(id)
                    .send()
                    .on_worker(),
            )
            .await?;
        let p = resp.origin_request_policy().ok_or_else(|| {
            SourceError::new("EmptyResponse", format!("no origin request policy `{id}`"))
        })?;
        Ok(OriginRequestPolicyEnvelope {
            etag: opt_str(resp.e_tag()),
            origin_request_policy: origin_request_policy(p),
        })
    }

    fn world(w: &World, _region: &str, id: &str) -> Answer<OriginRequestPolicyEnvelope> {
        w.cloudfront
            .get_origin_request_policy
            .get(id)
            .cloned()
            .ok_or_else(|| {
                SourceError::new(
                    "NoSuchOriginRequestPolicy",
                    format!("origin request policy `{id}` not found"),
                )
            })
    }

    fn record(rec: &mut Recording, _region: &str, id: &str, out: &OriginRequestPolicyEnvelope) {
        rec.world
            .cloudfront
            .get_origin_request_policy
            .insert(id.to_owned(), out.clone());
    }
}

// ---------------------------------------------------------------- SDK shapes into the model

fn distribution_config(d: &cf::DistributionConfig) -> DistributionConfig {
    DistributionConfig {
        aliases: d.aliases().map(|a| Items::new(a.items().to_vec())),
        comment: Some(d.comment().to_owned()),
        enabled: Some(d.enabled()),
        origins: Items::new(
            d.origins()
                .map(|o| o.items().iter().map(origin).collect())
                .unwrap_or_default(),
        ),
        default_cache_behavior: d
            .default_cache_behavior()
            .map(default_behavior)
            .unwrap_or_default(),
        cache_behaviors: d
            .cache_behaviors()
            .map(|b| Items::new(b.items().iter().map(behavior).collect())),
        web_acl_id: opt_str(d.web_acl_id()).filter(|s| !s.is_empty()),
    }
}

fn origin(o: &cf::Origin) -> Origin {
    Origin {
        id: o.id().to_owned(),
        domain_name: o.domain_name().to_owned(),
        origin_path: opt_str(o.origin_path()),
        custom_origin_config: o.custom_origin_config().map(|c| CustomOriginConfig {
            http_port: Some(c.http_port()),
            https_port: Some(c.https_port()),
            origin_protocol_policy: Some(c.origin_protocol_policy().as_str().to_owned()),
            origin_ssl_protocols: c
                .origin_ssl_protocols()
                .map(|p| Items::new(p.items().iter().map(|x| x.as_str().to_owned()).collect())),
            origin_read_timeout: c.origin_read_timeout(),
            origin_keepalive_timeout: c.origin_keepalive_timeout(),
        }),
        s3_origin_config: o
            .s3_origin_config()
            .map(|_| serde_json::Value::Object(serde_json::Map::new())),
        vpc_origin_config: o
            .vpc_origin_config()
            .map(|v| serde_json::json!({ "VpcOriginId": v.vpc_origin_id() })),
        connection_attempts: o.connection_attempts(),
        connection_timeout: o.connection_timeout(),
    }
}

fn lambdas(l: Option<&cf::LambdaFunctionAssociations>) -> Option<Items<LambdaFunctionAssociation>> {
    l.map(|l| {
        Items::new(
            l.items()
                .iter()
                .map(|a| LambdaFunctionAssociation {
                    lambda_function_arn: a.lambda_function_arn().to_owned(),
                    event_type: a.event_type().as_str().to_owned(),
                })
                .collect(),
        )
    })
}

fn functions(f: Option<&cf::FunctionAssociations>) -> Option<Items<FunctionAssociation>> {
    f.map(|f| {
        Items::new(
            f.items()
                .iter()
                .map(|a| FunctionAssociation {
                    function_arn: a.function_arn().to_owned(),
                    event_type: a.event_type().as_str().to_owned(),
                })
                .collect(),
        )
    })
}

// `ForwardedValues` is deprecated in favour of policies, but distributions still use it, and
// a `Host` whitelisted there changes which name the origin certificate must cover.
fn forwarded(f: Option<&cf::ForwardedValues>) -> Option<ForwardedValues> {
    f.map(|f| ForwardedValues {
        headers: f.headers().map(|h| Items::new(h.items().to_vec())),
    })
}

#[allow(deprecated)]
fn default_behavior(b: &cf::DefaultCacheBehavior) -> CacheBehavior {
    CacheBehavior {
        path_pattern: None,
        target_origin_id: b.target_origin_id().to_owned(),
        viewer_protocol_policy: Some(b.viewer_protocol_policy().as_str().to_owned()),
        cache_policy_id: opt_str(b.cache_policy_id()),
        origin_request_policy_id: opt_str(b.origin_request_policy_id()),
        forwarded_values: forwarded(b.forwarded_values()),
        lambda_function_associations: lambdas(b.lambda_function_associations()),
        function_associations: functions(b.function_associations()),
    }
}

#[allow(deprecated)]
fn behavior(b: &cf::CacheBehavior) -> CacheBehavior {
    CacheBehavior {
        path_pattern: Some(b.path_pattern().to_owned()),
        target_origin_id: b.target_origin_id().to_owned(),
        viewer_protocol_policy: Some(b.viewer_protocol_policy().as_str().to_owned()),
        cache_policy_id: opt_str(b.cache_policy_id()),
        origin_request_policy_id: opt_str(b.origin_request_policy_id()),
        forwarded_values: forwarded(b.forwarded_values()),
        lambda_function_associations: lambdas(b.lambda_function_associations()),
        function_associations: functions(b.function_associations()),
    }
}

fn origin_request_policy(p: &cf::OriginRequestPolicy) -> OriginRequestPolicy {
    let cfg = p.origin_request_policy_config();
    OriginRequestPolicy {
        id: p.id().to_owned(),
        origin_request_policy_config: OriginRequestPolicyConfig {
            name: cfg.map(|c| c.name().to_owned()).unwrap_or_default(),
            headers_config: cfg
                .and_then(|c| c.headers_config())
                .map(|h| HeadersConfig {
                    header_behavior: h.header_behavior().as_str().to_owned(),
                    headers: h.headers().map(|x| Items::new(x.items().to_vec())),
                })
                .unwrap_or_default(),
        },
    }
}
