//! AWS Lambda: the functions behind API Gateway integrations (configuration, reserved
//! concurrency, resource policy) and the account's concurrency limit, and the world file's
//! `Lambda` section.
//!
//! Per-function answers are keyed by the function as the integration names it: its name, with
//! an alias or version kept as `name:qualifier` (the Lambda API accepts that form wherever it
//! takes a function name). `GetFunctionConcurrency` takes no qualifier and is keyed by the bare
//! name; `{}` is no reservation, as the CLI prints it. A function without a resource policy
//! answers `GetPolicy` with `ResourceNotFoundException`, as Lambda does: that is no gap but
//! evidence (nothing may invoke it), see [`PolicyState`].

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::port::{Answer, Op, Operation, SourceError};
use super::record::Recording;
use super::sdk::{AwsSdk, OnWorker, opt_str};
use super::world::World;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct FunctionConfiguration {
    #[serde(default)]
    pub function_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime: Option<String>,
    /// Seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<i64>,
    /// MB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_size: Option<i64>,
    /// `Pending`, `Active`, `Inactive`, `Failed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_reason_code: Option<String>,
    /// `Successful`, `Failed`, `InProgress`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_update_status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_update_status_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_update_status_reason_code: Option<String>,
    /// As Lambda prints it: `2026-11-22T12:20:00.000+0000` (see [`Self::last_modified_at`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

impl FunctionConfiguration {
    /// `LastModified` as a time: Lambda writes the offset without a colon (`+0000`), which is
    /// not RFC 3339; both forms are read. A time outside the sane range is no time.
    pub(crate) fn last_modified_at(&self) -> Option<DateTime<Utc>> {
        let s = self.last_modified.as_deref()?;
        DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z")
            .or_else(|_| DateTime::parse_from_rfc3339(s))
            .ok()
            .map(|t| t.with_timezone(&Utc))
            .filter(crate::untrusted::sane_time)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct FunctionConcurrency {
    /// `None`: no reservation (the function shares the account's unreserved pool).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reserved_concurrent_executions: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Policy {
    /// The policy document, a JSON string.
    #[serde(default)]
    pub policy: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision_id: Option<String>,
}

/// What a function's resource policy says of an API's right to invoke it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyState {
    /// The function has no resource policy (`GetPolicy`: `ResourceNotFoundException`).
    None,
    /// The policy as read.
    Read(Policy),
}

/// Whether a resource policy lets API Gateway invoke the function for one API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grant {
    /// An `Allow` for `apigateway.amazonaws.com` whose source ARN (if any) covers the API.
    Granted,
    /// Statements for API Gateway exist, none for this API.
    OtherApisOnly,
    /// No statement lets API Gateway invoke it.
    NotGranted,
    /// The document could not be read as a policy.
    Unreadable,
}

/// Reads `policy` for an `Allow` of `lambda:InvokeFunction` (or `lambda:*`, `*`) to the
/// `apigateway.amazonaws.com` service whose `AWS:SourceArn` condition, when present, matches
/// an `execute-api` ARN of `api_id` (`arn:aws:execute-api:REGION:ACCOUNT:API_ID/...`, `*`
/// wildcards allowed).
pub(crate) fn grant_for_api(policy: &Policy, api_id: &str) -> Grant {
    let Ok(doc) = serde_json::from_str::<serde_json::Value>(&policy.policy) else {
        return Grant::Unreadable;
    };
    let statements: Vec<&serde_json::Value> = match doc.get("Statement") {
        Some(serde_json::Value::Array(a)) => a.iter().collect(),
        Some(s @ serde_json::Value::Object(_)) => vec![s],
        _ => return Grant::NotGranted,
    };
    let mut for_apigw = false;
    for s in statements {
        if s.get("Effect").and_then(|e| e.as_str()) != Some("Allow") {
            continue;
        }
        let principal_is_apigw = strings(s.get("Principal").and_then(|p| p.get("Service")))
            .contains(&"apigateway.amazonaws.com");
        let invokes = strings(s.get("Action"))
            .iter()
            .any(|a| matches!(*a, "lambda:InvokeFunction" | "lambda:*" | "*"));
        if !principal_is_apigw || !invokes {
            continue;
        }
        for_apigw = true;
        let sources: Vec<&str> = s
            .get("Condition")
            .and_then(|c| c.as_object())
            .into_iter()
            .flat_map(|c| c.values())
            .flat_map(|op| {
                op.as_object()
                    .into_iter()
                    .flat_map(|m| m.iter())
                    .filter(|(k, _)| k.eq_ignore_ascii_case("AWS:SourceArn"))
                    .flat_map(|(_, v)| strings(Some(v)))
            })
            .collect();
        if sources.is_empty() || sources.iter().any(|arn| source_covers(arn, api_id)) {
            return Grant::Granted;
        }
    }
    if for_apigw {
        Grant::OtherApisOnly
    } else {
        Grant::NotGranted
    }
}

/// A string or a list of strings, as IAM policy fields are.
fn strings(v: Option<&serde_json::Value>) -> Vec<&str> {
    match v {
        Some(serde_json::Value::String(s)) => vec![s.as_str()],
        Some(serde_json::Value::Array(a)) => a.iter().filter_map(|x| x.as_str()).collect(),
        _ => Vec::new(),
    }
}

/// Whether an `AWS:SourceArn` pattern covers API `api_id`: its resource part starts with the
/// API id, or with a wildcard.
fn source_covers(pattern: &str, api_id: &str) -> bool {
    let resource = pattern.splitn(6, ':').nth(5).unwrap_or(pattern);
    let api = resource.split('/').next().unwrap_or(resource);
    api == "*"
        || api == api_id
        || (api.ends_with('*') && api_id.starts_with(api.trim_end_matches('*')))
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AccountSettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_limit: Option<AccountLimit>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_usage: Option<AccountUsage>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AccountLimit {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrent_executions: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unreserved_concurrent_executions: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AccountUsage {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function_count: Option<i64>,
}

// ---------------------------------------------------------------- the world file's section

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LambdaWorld {
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub get_function_configuration: BTreeMap<String, FunctionConfiguration>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub get_function_concurrency: BTreeMap<String, FunctionConcurrency>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub get_policy: BTreeMap<String, Policy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get_account_settings: Option<AccountSettings>,
}

impl LambdaWorld {
    pub(crate) fn is_empty(&self) -> bool {
        self.get_function_configuration.is_empty()
            && self.get_function_concurrency.is_empty()
            && self.get_policy.is_empty()
            && self.get_account_settings.is_none()
    }
}

fn function_not_found(name: &str) -> SourceError {
    SourceError::new(
        "ResourceNotFoundException",
        format!("Function not found: `{name}`"),
    )
}

/// The bare function name of `name[:qualifier]`.
pub(crate) fn bare(name: &str) -> &str {
    name.split(':').next().unwrap_or(name)
}

// ---------------------------------------------------------------- operations

pub struct GetFunctionConfiguration;

impl Operation for GetFunctionConfiguration {
    const OP: Op = Op::GetFunctionConfiguration;
    /// `name` or `name:qualifier`.
    type Input = str;
    type Output = FunctionConfiguration;

    fn key(_region: &str, name: &str) -> String {
        name.to_owned()
    }

    async fn sdk(sdk: &AwsSdk, region: &str, name: &str) -> Answer<FunctionConfiguration> {
        let r = sdk
            .once(
                sdk.lambda(region)
                    .get_function_configuration()
                    .function_name(name)
                    .send()
                    .on_worker(),
            )
            .await?;
        Ok(FunctionConfiguration {
            function_name: r.function_name().unwrap_or(bare(name)).to_owned(),
            function_arn: opt_str(r.function_arn()),
            runtime: r.runtime().map(|x| x.as_str().to_owned()),
            timeout: r.timeout().map(i64::from),
            memory_size: r.memory_size().map(i64::from),
            state: r.state().map(|x| x.as_str().to_owned()),
            state_reason: opt_str(r.state_reason()),
            state_reason_code: r.state_reason_code().map(|x| x.as_str().to_owned()),
            last_update_status: r.last_update_status().map(|x| x.as_str().to_owned()),
            last_update_status_reason: opt_str(r.last_update_status_reason()),
            last_update_status_reason_code: r
                .last_update_status_reason_code()
                .map(|x| x.as_str().to_owned()),
            last_modified: opt_str(r.last_modified()),
            version: opt_str(r.version()),
        })
    }

    fn world(w: &World, _region: &str, name: &str) -> Answer<FunctionConfiguration> {
        w.lambda
            .get_function_configuration
            .get(name)
            .cloned()
            .ok_or_else(|| function_not_found(name))
    }

    fn record(rec: &mut Recording, _region: &str, name: &str, out: &FunctionConfiguration) {
        rec.world
            .lambda
            .get_function_configuration
            .insert(name.to_owned(), out.clone());
    }
}

pub struct GetFunctionConcurrency;

impl Operation for GetFunctionConcurrency {
    const OP: Op = Op::GetFunctionConcurrency;
    /// The bare function name.
    type Input = str;
    type Output = FunctionConcurrency;

    fn key(_region: &str, name: &str) -> String {
        name.to_owned()
    }

    async fn sdk(sdk: &AwsSdk, region: &str, name: &str) -> Answer<FunctionConcurrency> {
        let r = sdk
            .once(
                sdk.lambda(region)
                    .get_function_concurrency()
                    .function_name(name)
                    .send()
                    .on_worker(),
            )
            .await?;
        Ok(FunctionConcurrency {
            reserved_concurrent_executions: r.reserved_concurrent_executions().map(i64::from),
        })
    }

    /// A function the world holds a configuration for but no concurrency entry has no
    /// reservation (the CLI prints `{}`); one it does not hold at all is not found.
    fn world(w: &World, _region: &str, name: &str) -> Answer<FunctionConcurrency> {
        if let Some(c) = w.lambda.get_function_concurrency.get(name) {
            return Ok(c.clone());
        }
        let known = w
            .lambda
            .get_function_configuration
            .keys()
            .any(|k| bare(k) == name);
        if known {
            Ok(FunctionConcurrency::default())
        } else {
            Err(function_not_found(name))
        }
    }

    fn record(rec: &mut Recording, _region: &str, name: &str, out: &FunctionConcurrency) {
        rec.world
            .lambda
            .get_function_concurrency
            .insert(name.to_owned(), out.clone());
    }
}

pub struct GetPolicy;

impl Operation for GetPolicy {
    const OP: Op = Op::GetPolicy;
    /// `name` or `name:qualifier`.
    type Input = str;
    type Output = PolicyState;

    fn key(_region: &str, name: &str) -> String {
        name.to_owned()
    }

    async fn sdk(sdk: &AwsSdk, region: &str, name: &str) -> Answer<PolicyState> {
        let answer = sdk
            .once(
                sdk.lambda(region)
                    .get_policy()
                    .function_name(name)
                    .send()
                    .on_worker(),
            )
            .await;
        match answer {
            Ok(r) => Ok(PolicyState::Read(Policy {
                policy: r.policy().unwrap_or_default().to_owned(),
                revision_id: opt_str(r.revision_id()),
            })),
            Err(e) if e.code == "ResourceNotFoundException" => Ok(PolicyState::None),
            Err(e) => Err(e),
        }
    }

    /// No entry: no policy, for a function the world holds; not found otherwise (then it is
    /// the function that is missing, which `GetFunctionConfiguration` says).
    fn world(w: &World, _region: &str, name: &str) -> Answer<PolicyState> {
        match w.lambda.get_policy.get(name) {
            Some(p) => Ok(PolicyState::Read(p.clone())),
            None if w.lambda.get_function_configuration.contains_key(name) => Ok(PolicyState::None),
            None => Err(function_not_found(name)),
        }
    }

    fn record(rec: &mut Recording, _region: &str, name: &str, out: &PolicyState) {
        if let PolicyState::Read(p) = out {
            rec.world
                .lambda
                .get_policy
                .insert(name.to_owned(), p.clone());
        }
    }
}

pub struct GetAccountSettings;

impl Operation for GetAccountSettings {
    const OP: Op = Op::GetAccountSettings;
    type Input = ();
    type Output = AccountSettings;

    fn key(region: &str, _: &()) -> String {
        region.to_owned()
    }

    async fn sdk(sdk: &AwsSdk, region: &str, _: &()) -> Answer<AccountSettings> {
        let r = sdk
            .once(sdk.lambda(region).get_account_settings().send().on_worker())
            .await?;
        Ok(AccountSettings {
            account_limit: r.account_limit().map(|l| AccountLimit {
                concurrent_executions: Some(i64::from(l.concurrent_executions())),
                unreserved_concurrent_executions: l
                    .unreserved_concurrent_executions()
                    .map(i64::from),
            }),
            account_usage: r.account_usage().map(|u| AccountUsage {
                function_count: Some(u.function_count()),
            }),
        })
    }

    fn world(w: &World, _region: &str, _: &()) -> Answer<AccountSettings> {
        w.lambda.get_account_settings.clone().ok_or_else(|| {
            SourceError::new(
                "ResourceNotFoundException",
                "the world holds no Lambda account settings",
            )
        })
    }

    fn record(rec: &mut Recording, _region: &str, _: &(), out: &AccountSettings) {
        rec.world.lambda.get_account_settings = Some(out.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(doc: &str) -> Policy {
        Policy {
            policy: doc.to_owned(),
            revision_id: None,
        }
    }

    #[test]
    fn an_api_gateway_grant_for_the_api_is_found() {
        let p = policy(
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"a","Effect":"Allow","Principal":{"Service":"apigateway.amazonaws.com"},"Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:us-east-1:123456789012:function:orders","Condition":{"ArnLike":{"AWS:SourceArn":"arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/*/POST/orders"}}}]}"#,
        );
        assert_eq!(grant_for_api(&p, "a1b2c3d4e5"), Grant::Granted);
        assert_eq!(grant_for_api(&p, "zzzzzzzzzz"), Grant::OtherApisOnly);
    }

    #[test]
    fn grants_without_a_source_or_for_other_principals() {
        let any = policy(
            r#"{"Statement":{"Effect":"Allow","Principal":{"Service":["apigateway.amazonaws.com"]},"Action":["lambda:InvokeFunction"]}}"#,
        );
        assert_eq!(grant_for_api(&any, "x"), Grant::Granted);
        let other = policy(
            r#"{"Statement":[{"Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"lambda:InvokeFunction"}]}"#,
        );
        assert_eq!(grant_for_api(&other, "x"), Grant::NotGranted);
        let deny = policy(
            r#"{"Statement":[{"Effect":"Deny","Principal":{"Service":"apigateway.amazonaws.com"},"Action":"lambda:InvokeFunction"}]}"#,
        );
        assert_eq!(grant_for_api(&deny, "x"), Grant::NotGranted);
        assert_eq!(grant_for_api(&policy("not json"), "x"), Grant::Unreadable);
    }

    #[test]
    fn lambda_times_are_read_in_both_spellings() {
        let mut c = FunctionConfiguration {
            last_modified: Some("2026-11-22T12:20:00.000+0000".into()),
            ..FunctionConfiguration::default()
        };
        assert_eq!(
            c.last_modified_at().map(|t| t.to_rfc3339()),
            Some("2026-11-22T12:20:00+00:00".into())
        );
        c.last_modified = Some("2026-11-22T12:20:00Z".into());
        assert!(c.last_modified_at().is_some());
        c.last_modified = Some("yesterday".into());
        assert!(c.last_modified_at().is_none());
    }

    #[test]
    fn world_answers_as_lambda_does() {
        let w = World::parse(
            r#"{"Format":"fivexx-world/1","Region":"us-east-1","Lambda":{
                "GetFunctionConfiguration":{"orders":{"FunctionName":"orders","Timeout":10},"web:live":{"FunctionName":"web"}},
                "GetFunctionConcurrency":{"orders":{"ReservedConcurrentExecutions":5}},
                "GetAccountSettings":{"AccountLimit":{"ConcurrentExecutions":1000}}}}"#,
        )
        .unwrap();
        assert_eq!(
            GetFunctionConcurrency::world(&w, "us-east-1", "orders")
                .unwrap()
                .reserved_concurrent_executions,
            Some(5)
        );
        assert_eq!(
            GetFunctionConcurrency::world(&w, "us-east-1", "web").unwrap(),
            FunctionConcurrency::default()
        );
        assert_eq!(
            GetPolicy::world(&w, "us-east-1", "orders").unwrap(),
            PolicyState::None
        );
        assert!(
            GetPolicy::world(&w, "us-east-1", "nope")
                .unwrap_err()
                .is_not_found()
        );
        assert!(GetFunctionConfiguration::world(&w, "us-east-1", "web").is_err());
        assert!(GetFunctionConfiguration::world(&w, "us-east-1", "web:live").is_ok());
    }
}
