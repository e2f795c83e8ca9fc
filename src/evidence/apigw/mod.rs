//! Amazon API Gateway, REST APIs (`apigateway`) and HTTP APIs (`apigatewayv2`): what fivexx
//! reads of them, in each API's own JSON shapes (camelCase for REST, as `aws apigateway ...
//! --output json` prints it; PascalCase for HTTP APIs), and the world file's `APIGateway` and
//! `ApiGatewayV2` sections. The operations are in `ops.rs`, re-exported here.
//!
//! The rules do not care which kind of API they look at: [`Integration`] is one route's
//! backend, read from a REST method's `methodIntegration` or an HTTP API's integration.

mod ops;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use self::ops::{
    GetHttpApis, GetHttpIntegrations, GetHttpStage, GetHttpVpcLinks, GetRestApis, GetRestResources,
    GetRestStage, GetRestVpcLinks, StageRef,
};

// ---------------------------------------------------------------- REST APIs (camelCase)

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RestApi {
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_configuration: Option<EndpointConfiguration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_execute_api_endpoint: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EndpointConfiguration {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub types: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RestStage {
    pub stage_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_id: Option<String>,
    /// Stage variables (`${stageVariables.NAME}` in an integration URI).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub variables: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_updated_date: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Resource {
    pub id: String,
    #[serde(default)]
    pub path: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub resource_methods: BTreeMap<String, Method>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Method {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method_integration: Option<RestIntegration>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RestIntegration {
    /// `AWS_PROXY`, `AWS`, `HTTP`, `HTTP_PROXY`, `MOCK`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_in_millis: Option<i64>,
    /// `INTERNET` or `VPC_LINK`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_type: Option<String>,
    /// The VPC link's id when `connectionType` is `VPC_LINK`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_id: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RestVpcLink {
    pub id: String,
    #[serde(default)]
    pub name: String,
    /// The network load balancers the link reaches.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub target_arns: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

// ---------------------------------------------------------------- HTTP APIs (PascalCase)

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct HttpApi {
    pub api_id: String,
    #[serde(default)]
    pub name: String,
    /// `HTTP` or `WEBSOCKET`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_endpoint: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct HttpStage {
    pub stage_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_deploy: Option<bool>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub stage_variables: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_updated_date: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct HttpIntegration {
    #[serde(default)]
    pub integration_id: String,
    /// `AWS_PROXY`, `HTTP_PROXY`, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integration_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integration_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integration_method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload_format_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_in_millis: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_id: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct HttpVpcLink {
    pub vpc_link_id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vpc_link_status: Option<String>,
}

// ---------------------------------------------------------------- the world file's sections

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RestApis {
    #[serde(default)]
    pub items: Vec<RestApi>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Resources {
    #[serde(default)]
    pub items: Vec<Resource>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RestVpcLinks {
    #[serde(default)]
    pub items: Vec<RestVpcLink>,
}

/// `APIGateway`: REST APIs. `GetStage` is keyed `API_ID/STAGE`, `GetResources` by API id.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ApiGatewayWorld {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get_rest_apis: Option<RestApis>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub get_stage: BTreeMap<String, RestStage>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub get_resources: BTreeMap<String, Resources>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get_vpc_links: Option<RestVpcLinks>,
}

impl ApiGatewayWorld {
    pub(crate) fn is_empty(&self) -> bool {
        self.get_rest_apis.is_none()
            && self.get_stage.is_empty()
            && self.get_resources.is_empty()
            && self.get_vpc_links.is_none()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Items<T> {
    #[serde(default = "Vec::new")]
    pub items: Vec<T>,
}

/// `ApiGatewayV2`: HTTP APIs. `GetStage` is keyed `API_ID/STAGE`, `GetIntegrations` by API id.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ApiGatewayV2World {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get_apis: Option<Items<HttpApi>>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub get_stage: BTreeMap<String, HttpStage>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub get_integrations: BTreeMap<String, Items<HttpIntegration>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get_vpc_links: Option<Items<HttpVpcLink>>,
}

impl ApiGatewayV2World {
    pub(crate) fn is_empty(&self) -> bool {
        self.get_apis.is_none()
            && self.get_stage.is_empty()
            && self.get_integrations.is_empty()
            && self.get_vpc_links.is_none()
    }
}

/// The key of a stage in a world: `API_ID/STAGE`.
pub(crate) fn stage_key(api_id: &str, stage: &str) -> String {
    format!("{api_id}/{stage}")
}

// ---------------------------------------------------------------- one view of both kinds

/// Which kind of API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ApiKind {
    /// A REST API (`AWS/ApiGateway` metrics by `ApiName`).
    #[default]
    Rest,
    /// An HTTP API (`AWS/ApiGateway` metrics by `ApiId`).
    Http,
}

/// One route's backend, from either kind of API.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Integration {
    /// Where it is used: `POST /orders` (REST), or the integration id (HTTP APIs, whose
    /// routes name integrations, not the other way round).
    pub route: String,
    /// `AWS_PROXY`, `AWS`, `HTTP`, `HTTP_PROXY`, `MOCK`.
    pub kind: String,
    pub uri: Option<String>,
    /// The configured timeout; `None` means the default.
    pub timeout_ms: Option<i64>,
    /// `VPC_LINK` or `INTERNET`.
    pub connection_type: Option<String>,
    pub connection_id: Option<String>,
    /// HTTP APIs' Lambda payload format (`1.0`, `2.0`).
    pub payload_format: Option<String>,
}

impl Integration {
    pub(crate) fn from_rest(path: &str, method: &str, i: &RestIntegration) -> Self {
        Self {
            route: format!("{method} {path}"),
            kind: i.kind.clone().unwrap_or_default(),
            uri: i.uri.clone(),
            timeout_ms: i.timeout_in_millis,
            connection_type: i.connection_type.clone(),
            connection_id: i.connection_id.clone(),
            payload_format: None,
        }
    }

    pub(crate) fn from_http(i: &HttpIntegration) -> Self {
        Self {
            route: format!("integration {}", i.integration_id),
            kind: i.integration_type.clone().unwrap_or_default(),
            uri: i.integration_uri.clone(),
            timeout_ms: i.timeout_in_millis,
            connection_type: i.connection_type.clone(),
            connection_id: i.connection_id.clone(),
            payload_format: i.payload_format_version.clone(),
        }
    }

    /// A Lambda integration: `AWS_PROXY` (or `AWS`) whose URI names a function.
    pub(crate) fn is_lambda(&self) -> bool {
        matches!(self.kind.as_str(), "AWS_PROXY" | "AWS")
            && self.uri.as_deref().is_some_and(|u| u.contains(":lambda:"))
    }

    pub(crate) fn is_http(&self) -> bool {
        matches!(self.kind.as_str(), "HTTP" | "HTTP_PROXY")
    }

    pub(crate) fn via_vpc_link(&self) -> bool {
        self.connection_type.as_deref() == Some("VPC_LINK")
    }

    /// The effective timeout in milliseconds: the configured one, else the API's default.
    pub(crate) fn timeout_or_default(&self, kind: ApiKind) -> i64 {
        self.timeout_ms.filter(|t| *t > 0).unwrap_or(match kind {
            ApiKind::Rest => REST_DEFAULT_TIMEOUT_MS,
            ApiKind::Http => HTTP_MAX_TIMEOUT_MS,
        })
    }
}

/// A REST integration's default (and, without a quota increase, maximum) timeout: 29 s.
pub(crate) const REST_DEFAULT_TIMEOUT_MS: i64 = 29_000;
/// An HTTP API integration's default and maximum timeout: 30 s.
pub(crate) const HTTP_MAX_TIMEOUT_MS: i64 = 30_000;

/// The function an integration URI names, resolved against the stage's variables: the name
/// as the integration names it (`orders`, or `orders:live` with an alias or version) and its
/// region. `Err` says why it cannot be resolved (a stage variable the stage does not set).
pub(crate) fn lambda_target(
    uri: &str,
    variables: &BTreeMap<String, String>,
) -> Result<FunctionRef, String> {
    // REST: arn:aws:apigateway:REGION:lambda:path/2015-03-31/functions/FUNCTION_ARN/invocations
    // HTTP APIs: the function ARN itself.
    let arn = match uri.split_once("/functions/") {
        Some((_, rest)) => rest.strip_suffix("/invocations").unwrap_or(rest),
        None => uri,
    };
    let arn = resolve_stage_variables(arn, variables)?;
    // arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER], or a bare name.
    let parts: Vec<&str> = arn.split(':').collect();
    let (region, name, qualifier) = match parts.as_slice() {
        ["arn", _, "lambda", region, _, "function", name] => (Some(*region), *name, None),
        ["arn", _, "lambda", region, _, "function", name, q] => (Some(*region), *name, Some(*q)),
        [name] => (None, *name, None),
        [name, q] => (None, *name, Some(*q)),
        _ => return Err(format!("`{}` names no function", crate::error::short(&arn))),
    };
    // Lambda's own rules: a function name of letters, digits, `-` and `_` (64 at most), an
    // alias or version of those (and `$LATEST`). Anything else names no function, and never
    // reaches a next step's command.
    let qualifier_ok = qualifier
        .is_none_or(|q| q == "$LATEST" || q.is_empty() || crate::untrusted::is_simple_name(q, 128));
    if !crate::untrusted::is_simple_name(name, 64) || !qualifier_ok {
        return Err(format!("`{}` names no function", crate::error::short(&arn)));
    }
    Ok(FunctionRef {
        name: name.to_owned(),
        qualifier: qualifier.filter(|q| !q.is_empty()).map(str::to_owned),
        region: region
            .filter(|r| crate::untrusted::is_region(r))
            .map(str::to_owned),
    })
}

/// Replaces each `${stageVariables.NAME}` in `text` with the stage's value.
pub(crate) fn resolve_stage_variables(
    text: &str,
    variables: &BTreeMap<String, String>,
) -> Result<String, String> {
    const OPEN: &str = "${stageVariables.";
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find(OPEN) {
        out.push_str(&rest[..at]);
        let after = &rest[at + OPEN.len()..];
        let Some(end) = after.find('}') else {
            return Err(format!(
                "`{}` has an unclosed stage variable",
                crate::error::short(text)
            ));
        };
        let name = &after[..end];
        match variables.get(name) {
            Some(v) => out.push_str(v),
            None => {
                return Err(format!(
                    "stage variable `{}` is not set on the stage",
                    crate::error::short(name)
                ));
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// A function as an integration names it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct FunctionRef {
    pub name: String,
    /// An alias or version.
    pub qualifier: Option<String>,
    pub region: Option<String>,
}

impl FunctionRef {
    /// `name` or `name:qualifier`: the key of Lambda's per-function answers in a world.
    pub(crate) fn qualified(&self) -> String {
        match &self.qualifier {
            Some(q) => format!("{}:{q}", self.name),
            None => self.name.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn lambda_targets_from_rest_and_http_uris() {
        let rest = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:orders/invocations";
        let f = lambda_target(rest, &BTreeMap::new()).unwrap();
        assert_eq!(f.qualified(), "orders");
        assert_eq!(f.region.as_deref(), Some("us-east-1"));
        let http = "arn:aws:lambda:eu-west-1:123456789012:function:web:live";
        let f = lambda_target(http, &BTreeMap::new()).unwrap();
        assert_eq!(f.qualified(), "web:live");
        assert_eq!(f.region.as_deref(), Some("eu-west-1"));
    }

    #[test]
    fn stage_variables_name_the_function() {
        let uri = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:${stageVariables.fn}/invocations";
        let f = lambda_target(uri, &vars(&[("fn", "orders-prod")])).unwrap();
        assert_eq!(f.qualified(), "orders-prod");
        let err = lambda_target(uri, &BTreeMap::new()).unwrap_err();
        assert!(err.contains("`fn`"), "{err}");
        let alias = "arn:aws:lambda:us-east-1:123456789012:function:orders:${stageVariables.alias}";
        let f = lambda_target(alias, &vars(&[("alias", "live")])).unwrap();
        assert_eq!(f.qualified(), "orders:live");
    }

    #[test]
    fn hostile_uris_name_no_function() {
        for uri in [
            "",
            "arn:aws:lambda:x",
            "a:b:c",
            "${stageVariables.x",
            "arn:aws:lambda:us-east-1:1:function:$(id)",
            "arn:aws:lambda:us-east-1:1:function:a b",
            "arn:aws:lambda:us-east-1:1:function:ok:al;ias",
        ] {
            assert!(lambda_target(uri, &vars(&[("x", "y")])).is_err(), "{uri}");
        }
        let f = lambda_target("arn:aws:lambda:<!here>:1:function:f", &BTreeMap::new()).unwrap();
        assert_eq!(f.region, None);
    }
}
