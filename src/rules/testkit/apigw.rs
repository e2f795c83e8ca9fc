//! The API Gateway side of the kit: an API stage with its integrations and functions, and
//! their metrics.

use super::*;
use crate::evidence::apigw::{ApiKind, Integration};
use crate::evidence::lambda::{
    AccountLimit, AccountSettings, FunctionConcurrency, FunctionConfiguration, Policy, PolicyState,
};
use crate::evidence::{ApiEvidence, FunctionEvidence};

pub(crate) const API_NAME: &str = "orders-api";
pub(crate) const API_ID: &str = "a1b2c3d4e5";
pub(crate) const STAGE: &str = "prod";
pub(crate) const FN_NAME: &str = "orders";
pub(crate) const ROUTE: &str = "POST /orders";

/// An alarm on the REST API's `5XXError` (ApiName and Stage, Sum per minute).
pub(crate) fn api_alarm() -> Alarm {
    alarm(
        "orders-api-5xx",
        AlarmMetric {
            namespace: "AWS/ApiGateway".to_owned(),
            name: "5XXError".to_owned(),
            dimensions: dims(&[("ApiName", API_NAME), ("Stage", STAGE)]),
            stat: Some("Sum".to_owned()),
            period: Some(60),
        },
    )
}

/// The resource policy statement `aws lambda add-permission` writes for the API.
pub(crate) fn invoke_grant(api_id: &str) -> PolicyState {
    PolicyState::Read(Policy {
        policy: format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"Service":"apigateway.amazonaws.com"}},"Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:us-east-1:123456789012:function:orders","Condition":{{"ArnLike":{{"AWS:SourceArn":"arn:aws:execute-api:us-east-1:123456789012:{api_id}/*/POST/orders"}}}}}}]}}"#
        ),
        revision_id: None,
    })
}

/// A REST API stage `orders-api (prod)` whose `POST /orders` is a Lambda proxy integration
/// (29 s) to function `orders` (Timeout 60 s, Active, granted, no reservation, account limit
/// 1,000).
#[derive(Debug, Clone)]
pub(crate) struct Api(pub ApiEvidence);

impl Api {
    pub(crate) fn lambda_proxy() -> Self {
        let integration = Integration {
            route: ROUTE.to_owned(),
            kind: "AWS_PROXY".to_owned(),
            uri: Some(format!(
                "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:{FN_NAME}/invocations"
            )),
            timeout_ms: Some(29_000),
            ..Integration::default()
        };
        Self(ApiEvidence {
            region: REGION.to_owned(),
            kind: ApiKind::Rest,
            key: API_NAME.to_owned(),
            stage_name: Some(STAGE.to_owned()),
            id: Some(API_ID.to_owned()),
            name: Some(API_NAME.to_owned()),
            same_name: 1,
            stage_variables: Some(BTreeMap::new()),
            integrations: Some(vec![integration]),
            functions: vec![FunctionEvidence {
                name: FN_NAME.to_owned(),
                region: REGION.to_owned(),
                routes: vec![ROUTE.to_owned()],
                integration_timeout_ms: 29_000,
                config: Some(FunctionConfiguration {
                    function_name: FN_NAME.to_owned(),
                    function_arn: Some(format!(
                        "arn:aws:lambda:us-east-1:123456789012:function:{FN_NAME}"
                    )),
                    timeout: Some(60),
                    memory_size: Some(512),
                    state: Some("Active".to_owned()),
                    last_update_status: Some("Successful".to_owned()),
                    last_modified: Some("2026-10-01T08:00:00.000+0000".to_owned()),
                    ..FunctionConfiguration::default()
                }),
                concurrency: Some(FunctionConcurrency::default()),
                policy: Some(invoke_grant(API_ID)),
            }],
            account: Some(AccountSettings {
                account_limit: Some(AccountLimit {
                    concurrent_executions: Some(1000),
                    unreserved_concurrent_executions: Some(900),
                }),
                account_usage: None,
            }),
            ..ApiEvidence::default()
        })
    }

    /// An HTTP_PROXY integration to `uri` instead of the function.
    pub(crate) fn http_proxy(uri: &str) -> Self {
        let mut a = Self::lambda_proxy();
        a.0.functions.clear();
        a.0.account = None;
        a.0.integrations = Some(vec![Integration {
            route: "ANY /{proxy+}".to_owned(),
            kind: "HTTP_PROXY".to_owned(),
            uri: Some(uri.to_owned()),
            timeout_ms: Some(29_000),
            ..Integration::default()
        }]);
        a
    }

    pub(crate) fn function(mut self, edit: impl FnOnce(&mut FunctionEvidence)) -> Self {
        if let Some(f) = self.0.functions.first_mut() {
            edit(f);
        }
        self
    }

    pub(crate) fn config(self, edit: impl FnOnce(&mut FunctionConfiguration)) -> Self {
        self.function(|f| {
            if let Some(c) = &mut f.config {
                edit(c);
            }
        })
    }
}

fn api_query(name: &str, stat: &str) -> MetricQuery {
    MetricQuery::new(
        REGION,
        "AWS/ApiGateway",
        name,
        &[("ApiName", API_NAME), ("Stage", STAGE)],
        stat,
    )
}

fn fn_query(name: &str, stat: &str) -> MetricQuery {
    MetricQuery::new(
        REGION,
        "AWS/Lambda",
        name,
        &[("FunctionName", FN_NAME)],
        stat,
    )
}

impl Scenario {
    pub(crate) fn api(mut self, api: Api) -> Self {
        self.apis.push(api.0);
        self
    }

    /// AWS/ApiGateway `name`/`stat` of the stage: `value(m)` per minute.
    pub(crate) fn api_metric(
        mut self,
        name: &str,
        stat: &str,
        value: impl Fn(i64) -> Option<f64>,
    ) -> Self {
        self.metrics.insert(api_query(name, stat), series(value));
        self
    }

    /// AWS/Lambda `name`/`stat` of function `orders`: `value(m)` per minute.
    pub(crate) fn fn_metric(
        mut self,
        name: &str,
        stat: &str,
        value: impl Fn(i64) -> Option<f64>,
    ) -> Self {
        self.metrics.insert(fn_query(name, stat), series(value));
        self
    }

    /// The API's traffic (`Count`, `load(m)`) and `share(m)` of it as `5XXError`, with
    /// `IntegrationLatency` Maximum of 300 ms; the function runs every request it gets
    /// (`Invocations` = Count, Duration Maximum 250 ms, no errors or throttles) unless a test
    /// says otherwise.
    pub(crate) fn api_errors(self, share: impl Fn(i64) -> f64 + 'static) -> Self {
        self.api_metric("Count", "Sum", |m| Some(load(m)))
            .api_metric("5XXError", "Sum", move |m| {
                Some((load(m) * share(m)).round())
            })
            .api_metric("IntegrationLatency", "Maximum", |_| Some(300.0))
            .fn_metric("Invocations", "Sum", |m| Some(load(m)))
            .fn_metric("Errors", "Sum", |_| Some(0.0))
            .fn_metric("Throttles", "Sum", |_| Some(0.0))
            .fn_metric("Duration", "Maximum", |_| Some(250.0))
            .fn_metric("ConcurrentExecutions", "Maximum", |_| Some(20.0))
    }
}
