//! The API Gateway + Lambda front door against moto server: a REST API and an HTTP API with
//! their Lambda functions are created through the real SDK clients (aws-sdk-apigateway,
//! aws-sdk-apigatewayv2, aws-sdk-lambda), metrics are seeded with `PutMetricData` (through the
//! CloudWatch protocol shim, `support/moto.rs`), then the triage runs live through the SDK
//! adapter with `--record`, and the recorded world replays to the same verdict.
//!
//! moto cannot express a function in state `Failed`, a throttled function or Lambda's account
//! settings (`GetAccountSettings` answers 404 in moto 5.2.5); those are the scenarios' (world
//! files under `tests/scenarios/apigw-*`).

// Test code: failing loudly is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/live.rs"]
mod live;
#[path = "support/moto.rs"]
mod moto;

use std::io::Write;

use aws_config::SdkConfig;
use chrono::{SubsecRound, Utc};
use serde_json::json;

use fivexx::verdict::Status;
use live::*;
use moto::MotoServer;

/// An IAM role for the functions, created by a hand-sent IAM query (moto checks that a
/// function's role exists; there is no IAM SDK crate among the dependencies).
fn create_role(moto: &MotoServer) -> String {
    let auth = "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/iam/aws4_request, \
                SignedHeaders=host, Signature=0";
    let policy = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22Service%22%3A%22lambda.amazonaws.com%22%7D%2C%22Action%22%3A%22sts%3AAssumeRole%22%7D%5D%7D";
    let (status, xml) = moto.http(
        "POST",
        "/",
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Authorization", auth),
        ],
        &format!(
            "Action=CreateRole&Version=2010-05-08&RoleName=fn-role&AssumeRolePolicyDocument={policy}"
        ),
    );
    assert_eq!(status, 200, "CreateRole on moto: {xml}");
    format!("arn:aws:iam::{ACCOUNT}:role/fn-role")
}

/// A zip holding one file (moto stores the code and never runs it here).
fn zip() -> Vec<u8> {
    // A minimal empty-but-valid zip archive: the end-of-central-directory record alone.
    let mut z = Vec::new();
    z.write_all(&[0x50, 0x4b, 0x05, 0x06]).unwrap();
    z.extend_from_slice(&[0u8; 18]);
    z
}

async fn create_function(cfg: &SdkConfig, role: &str, name: &str, timeout: i32) -> String {
    let lambda = aws_sdk_lambda::Client::new(cfg);
    let f = lambda
        .create_function()
        .function_name(name)
        .runtime(aws_sdk_lambda::types::Runtime::Python312)
        .role(role)
        .handler("app.handler")
        .timeout(timeout)
        .memory_size(512)
        .code(
            aws_sdk_lambda::types::FunctionCode::builder()
                .zip_file(aws_sdk_lambda::primitives::Blob::new(zip()))
                .build(),
        )
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateFunction {name}: {e:?}"));
    f.function_arn().unwrap().to_owned()
}

/// REST API `orders-api`, stage `prod`, `POST /orders` as a Lambda proxy integration (29 s)
/// to `orders` (Timeout 10 s); no invoke permission is granted. The API's id.
async fn seed_rest(cfg: &SdkConfig, function_arn: &str) -> String {
    let apigw = aws_sdk_apigateway::Client::new(cfg);
    let api = apigw
        .create_rest_api()
        .name("orders-api")
        .send()
        .await
        .unwrap();
    let id = api.id().unwrap().to_owned();
    let root = apigw
        .get_resources()
        .rest_api_id(&id)
        .send()
        .await
        .unwrap()
        .items()
        .iter()
        .find(|r| r.path() == Some("/"))
        .and_then(|r| r.id().map(str::to_owned))
        .unwrap();
    let res = apigw
        .create_resource()
        .rest_api_id(&id)
        .parent_id(root)
        .path_part("orders")
        .send()
        .await
        .unwrap();
    let rid = res.id().unwrap().to_owned();
    apigw
        .put_method()
        .rest_api_id(&id)
        .resource_id(&rid)
        .http_method("POST")
        .authorization_type("NONE")
        .send()
        .await
        .unwrap();
    apigw
        .put_integration()
        .rest_api_id(&id)
        .resource_id(&rid)
        .http_method("POST")
        .r#type(aws_sdk_apigateway::types::IntegrationType::AwsProxy)
        .integration_http_method("POST")
        .uri(format!(
            "arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{function_arn}/invocations"
        ))
        .timeout_in_millis(29_000)
        .send()
        .await
        .unwrap();
    apigw
        .create_deployment()
        .rest_api_id(&id)
        .stage_name("prod")
        .send()
        .await
        .unwrap();
    id
}

/// HTTP API `web-api` whose `$default` stage integrates `web` (payload 2.0), with the invoke
/// permission granted. The API's id.
async fn seed_http(cfg: &SdkConfig, function_arn: &str) -> String {
    let v2 = aws_sdk_apigatewayv2::Client::new(cfg);
    let api = v2
        .create_api()
        .name("web-api")
        .protocol_type(aws_sdk_apigatewayv2::types::ProtocolType::Http)
        .send()
        .await
        .unwrap();
    let id = api.api_id().unwrap().to_owned();
    v2.create_integration()
        .api_id(&id)
        .integration_type(aws_sdk_apigatewayv2::types::IntegrationType::AwsProxy)
        .integration_uri(function_arn)
        .payload_format_version("2.0")
        .timeout_in_millis(30_000)
        .send()
        .await
        .unwrap();
    v2.create_stage()
        .api_id(&id)
        .stage_name("$default")
        .auto_deploy(true)
        .send()
        .await
        .unwrap();
    aws_sdk_lambda::Client::new(cfg)
        .add_permission()
        .function_name("web")
        .statement_id("apigateway")
        .action("lambda:InvokeFunction")
        .principal("apigateway.amazonaws.com")
        .source_arn(format!("arn:aws:execute-api:{REGION}:{ACCOUNT}:{id}/*"))
        .send()
        .await
        .unwrap();
    id
}

/// A REST API whose function has no resource policy: every request answers 500 and the
/// function is never invoked. The live triage names `apigw.lambda_permission`, from the API,
/// its stage and resources, the function's configuration, concurrency and (missing) policy,
/// the account settings and the metrics; the recording replays to the same verdict.
#[tokio::test]
async fn rest_api_without_invoke_permission_record_then_replay() {
    let moto = MotoServer::start();
    let cfg = moto.sdk_config().await;
    let role = create_role(&moto);
    let arn = create_function(&cfg, &role, "orders", 10).await;
    let api_id = seed_rest(&cfg, &arn).await;
    let now = Utc::now().trunc_subsecs(0);
    let dims = [("ApiName", "orders-api"), ("Stage", "prod")];
    put(
        &cfg,
        "AWS/ApiGateway",
        "5XXError",
        &dims,
        &last_minutes(now, 5, 120.0),
    )
    .await;
    put(
        &cfg,
        "AWS/ApiGateway",
        "Count",
        &dims,
        &last_minutes(now, 5, 120.0),
    )
    .await;
    let alarm = alarm_at(
        now,
        "orders-api-5xx",
        "AWS/ApiGateway",
        "5XXError",
        json!({"ApiName": "orders-api", "Stage": "prod"}),
    );

    let (live, replayed, world) = record_and_replay(cfg, &alarm, now).await;
    assert_eq!(live.status, Status::Diagnosed, "{}", live.to_json());
    assert_eq!(
        live.findings[0].rule,
        "apigw.lambda_permission",
        "{}",
        live.to_json()
    );
    // moto 5.2.5 has no GetAccountSettings (it answers 404): the one gap, recorded under
    // `Errors` and replayed word for word. The rule does not need the account limit.
    let sources: Vec<&str> = live.gaps.iter().map(|g| g.source.as_str()).collect();
    assert_eq!(sources, ["lambda:GetAccountSettings"], "{:?}", live.gaps);
    assert!(world.errors.contains_key("lambda:GetAccountSettings"));
    assert!(
        live.findings[0].next_steps[0].contains(&format!("{api_id}/*")),
        "{:?}",
        live.findings[0].next_steps
    );
    // REST: the API by name, then its stage and resources, then the function: 3 waves.
    assert_eq!(live.stats.round_trips, 3);
    // What the recording holds: the API, the stage, the integration, the function.
    assert_eq!(
        world
            .apigateway
            .get_rest_apis
            .as_ref()
            .map(|l| l.items.len()),
        Some(1)
    );
    assert!(
        world
            .apigateway
            .get_stage
            .contains_key(&format!("{api_id}/prod"))
    );
    assert_eq!(
        world.lambda.get_function_configuration["orders"].timeout,
        Some(10)
    );
    assert!(
        world.lambda.get_policy.is_empty(),
        "no policy, as Lambda answered"
    );
    assert_eq!(without_stats(&replayed), without_stats(&live));
    assert_eq!(replayed.stats.round_trips, live.stats.round_trips);
}

/// An HTTP API whose function fails: Errors explain the 5xx. Two waves (the id is in the
/// alarm); the permission is granted, so `apigw.lambda_permission` stays silent.
#[tokio::test]
async fn http_api_with_failing_function_record_then_replay() {
    let moto = MotoServer::start();
    let cfg = moto.sdk_config().await;
    let role = create_role(&moto);
    let arn = create_function(&cfg, &role, "web", 30).await;
    let api_id = seed_http(&cfg, &arn).await;
    let now = Utc::now().trunc_subsecs(0);
    let dims = [("ApiId", api_id.as_str()), ("Stage", "$default")];
    put(
        &cfg,
        "AWS/ApiGateway",
        "5xx",
        &dims,
        &last_minutes(now, 5, 40.0),
    )
    .await;
    put(
        &cfg,
        "AWS/ApiGateway",
        "Count",
        &dims,
        &last_minutes(now, 5, 200.0),
    )
    .await;
    let f = [("FunctionName", "web")];
    put(
        &cfg,
        "AWS/Lambda",
        "Invocations",
        &f,
        &last_minutes(now, 5, 200.0),
    )
    .await;
    put(
        &cfg,
        "AWS/Lambda",
        "Errors",
        &f,
        &last_minutes(now, 5, 40.0),
    )
    .await;
    // A latency series: moto computes no p99 of it, which scripts/moto_main.py answers as an
    // empty series instead of failing the whole GetMetricData call.
    put(
        &cfg,
        "AWS/Lambda",
        "Duration",
        &f,
        &last_minutes(now, 5, 800.0),
    )
    .await;
    let alarm = alarm_at(
        now,
        "web-api-5xx",
        "AWS/ApiGateway",
        "5xx",
        json!({"ApiId": api_id, "Stage": "$default"}),
    );

    let (live, replayed, world) = record_and_replay(cfg, &alarm, now).await;
    assert_eq!(
        live.findings[0].rule,
        "apigw.lambda_errors",
        "{}",
        live.to_json()
    );
    assert!(
        live.findings
            .iter()
            .all(|f| f.rule != "apigw.lambda_permission")
    );
    assert_eq!(live.stats.round_trips, 2);
    assert!(
        live.gaps
            .iter()
            .all(|g| g.source != "cloudwatch:GetMetricData"),
        "{:?}",
        live.gaps
    );
    let duration = world
        .cloudwatch
        .metrics
        .iter()
        .find(|m| m.metric_name == "Duration")
        .expect("the Duration series is recorded");
    assert!(
        duration.datapoints.iter().any(|d| d.maximum == Some(800.0)),
        "{:?}",
        duration.datapoints
    );
    assert!(world.lambda.get_policy.contains_key("web"));
    assert_eq!(without_stats(&replayed), without_stats(&live));
}
