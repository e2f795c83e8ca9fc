//! The API Gateway operations (REST and HTTP APIs): for each, its SDK call, its world answer
//! and its recording. Every list is read whole, page by page, each page counted.

use std::collections::BTreeMap;

use super::{
    ApiGatewayV2World, EndpointConfiguration, HttpApi, HttpIntegration, HttpStage, HttpVpcLink,
    Items, Method, Resource, Resources, RestApi, RestApis, RestIntegration, RestStage, RestVpcLink,
    RestVpcLinks, stage_key,
};
use crate::evidence::port::{Answer, Op, Operation, SourceError};
use crate::evidence::record::{Recording, push_unique};
use crate::evidence::sdk::{AwsSdk, OnWorker, marker, opt_str, time};
use crate::evidence::world::World;

/// A stage of an API: the input of both kinds' `GetStage`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageRef {
    pub api_id: String,
    pub stage: String,
}

/// API Gateway's page size limit for REST lists.
const REST_PAGE: i32 = 500;

fn not_found(what: String) -> SourceError {
    SourceError::new("NotFoundException", what)
}

fn rfc3339(t: Option<&aws_smithy_types::DateTime>) -> Option<String> {
    t.and_then(time).map(|t| t.to_rfc3339())
}

// ---------------------------------------------------------------- REST APIs

/// `GetRestApis`: every REST API of the region (the alarm names one by `ApiName`).
pub struct GetRestApis;

impl Operation for GetRestApis {
    const OP: Op = Op::GetRestApis;
    type Input = ();
    type Output = Vec<RestApi>;

    fn key(region: &str, _: &()) -> String {
        region.to_owned()
    }

    async fn sdk(sdk: &AwsSdk, region: &str, _: &()) -> Answer<Vec<RestApi>> {
        let client = sdk.apigateway(region);
        let mut out = Vec::new();
        sdk.paginate(
            |p| {
                client
                    .get_rest_apis()
                    .limit(REST_PAGE)
                    .set_position(p)
                    .send()
                    .on_worker()
            },
            |r| marker(r.position()),
            |r| {
                out.extend(r.items().iter().map(|a| RestApi {
                    id: a.id().unwrap_or_default().to_owned(),
                    name: a.name().unwrap_or_default().to_owned(),
                    endpoint_configuration: a.endpoint_configuration().map(|e| {
                        EndpointConfiguration {
                            types: e.types().iter().map(|t| t.as_str().to_owned()).collect(),
                        }
                    }),
                    disable_execute_api_endpoint: Some(a.disable_execute_api_endpoint()),
                }))
            },
        )
        .await?;
        Ok(out)
    }

    fn world(w: &World, _region: &str, _: &()) -> Answer<Vec<RestApi>> {
        Ok(w.apigateway
            .get_rest_apis
            .as_ref()
            .map(|l| l.items.clone())
            .unwrap_or_default())
    }

    fn record(rec: &mut Recording, _region: &str, _: &(), out: &Vec<RestApi>) {
        let list = rec
            .world
            .apigateway
            .get_rest_apis
            .get_or_insert_with(RestApis::default);
        push_unique(&mut list.items, out);
    }
}

/// `GetStage` of a REST API: its variables.
pub struct GetRestStage;

impl Operation for GetRestStage {
    const OP: Op = Op::GetStage;
    type Input = StageRef;
    type Output = RestStage;

    fn key(_region: &str, s: &StageRef) -> String {
        stage_key(&s.api_id, &s.stage)
    }

    async fn sdk(sdk: &AwsSdk, region: &str, s: &StageRef) -> Answer<RestStage> {
        let r = sdk
            .once(
                sdk.apigateway(region)
                    .get_stage()
                    .rest_api_id(&s.api_id)
                    .stage_name(&s.stage)
                    .send()
                    .on_worker(),
            )
            .await?;
        Ok(RestStage {
            stage_name: r.stage_name().unwrap_or(&s.stage).to_owned(),
            deployment_id: opt_str(r.deployment_id()),
            variables: r
                .variables()
                .map(|v| v.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default(),
            last_updated_date: rfc3339(r.last_updated_date()),
        })
    }

    fn world(w: &World, _region: &str, s: &StageRef) -> Answer<RestStage> {
        w.apigateway
            .get_stage
            .get(&stage_key(&s.api_id, &s.stage))
            .cloned()
            .ok_or_else(|| {
                not_found(format!(
                    "stage `{}` of REST API `{}` not found",
                    s.stage, s.api_id
                ))
            })
    }

    fn record(rec: &mut Recording, _region: &str, s: &StageRef, out: &RestStage) {
        rec.world
            .apigateway
            .get_stage
            .insert(stage_key(&s.api_id, &s.stage), out.clone());
    }
}

/// `GetResources` with the methods embedded: every route's integration.
pub struct GetRestResources;

impl Operation for GetRestResources {
    const OP: Op = Op::GetResources;
    type Input = str;
    type Output = Vec<Resource>;

    fn key(_region: &str, api_id: &str) -> String {
        api_id.to_owned()
    }

    async fn sdk(sdk: &AwsSdk, region: &str, api_id: &str) -> Answer<Vec<Resource>> {
        let client = sdk.apigateway(region);
        let mut out = Vec::new();
        sdk.paginate(
            |p| {
                client
                    .get_resources()
                    .rest_api_id(api_id)
                    .embed("methods")
                    .limit(REST_PAGE)
                    .set_position(p)
                    .send()
                    .on_worker()
            },
            |r| marker(r.position()),
            |r| out.extend(r.items().iter().map(resource)),
        )
        .await?;
        Ok(out)
    }

    fn world(w: &World, _region: &str, api_id: &str) -> Answer<Vec<Resource>> {
        w.apigateway
            .get_resources
            .get(api_id)
            .map(|r| r.items.clone())
            .ok_or_else(|| not_found(format!("REST API `{api_id}` not found")))
    }

    fn record(rec: &mut Recording, _region: &str, api_id: &str, out: &Vec<Resource>) {
        rec.world
            .apigateway
            .get_resources
            .insert(api_id.to_owned(), Resources { items: out.clone() });
    }
}

fn resource(r: &aws_sdk_apigateway::types::Resource) -> Resource {
    let methods = r
        .resource_methods()
        .map(|m| {
            m.iter()
                .map(|(verb, m)| {
                    (
                        verb.clone(),
                        Method {
                            http_method: opt_str(m.http_method()),
                            method_integration: m.method_integration().map(|i| RestIntegration {
                                kind: i.r#type().map(|t| t.as_str().to_owned()),
                                uri: opt_str(i.uri()),
                                timeout_in_millis: Some(i64::from(i.timeout_in_millis()))
                                    .filter(|t| *t > 0),
                                connection_type: i.connection_type().map(|c| c.as_str().to_owned()),
                                connection_id: opt_str(i.connection_id()),
                            }),
                        },
                    )
                })
                .collect::<BTreeMap<_, _>>()
        })
        .unwrap_or_default();
    Resource {
        id: r.id().unwrap_or_default().to_owned(),
        path: r.path().unwrap_or_default().to_owned(),
        resource_methods: methods,
    }
}

/// `GetVpcLinks` (REST): the links and the network load balancers they reach.
pub struct GetRestVpcLinks;

impl Operation for GetRestVpcLinks {
    const OP: Op = Op::GetVpcLinks;
    type Input = ();
    type Output = Vec<RestVpcLink>;

    fn key(region: &str, _: &()) -> String {
        region.to_owned()
    }

    async fn sdk(sdk: &AwsSdk, region: &str, _: &()) -> Answer<Vec<RestVpcLink>> {
        let client = sdk.apigateway(region);
        let mut out = Vec::new();
        sdk.paginate(
            |p| {
                client
                    .get_vpc_links()
                    .limit(REST_PAGE)
                    .set_position(p)
                    .send()
                    .on_worker()
            },
            |r| marker(r.position()),
            |r| {
                out.extend(r.items().iter().map(|l| RestVpcLink {
                    id: l.id().unwrap_or_default().to_owned(),
                    name: l.name().unwrap_or_default().to_owned(),
                    target_arns: l.target_arns().to_vec(),
                    status: l.status().map(|s| s.as_str().to_owned()),
                }))
            },
        )
        .await?;
        Ok(out)
    }

    fn world(w: &World, _region: &str, _: &()) -> Answer<Vec<RestVpcLink>> {
        Ok(w.apigateway
            .get_vpc_links
            .as_ref()
            .map(|l| l.items.clone())
            .unwrap_or_default())
    }

    fn record(rec: &mut Recording, _region: &str, _: &(), out: &Vec<RestVpcLink>) {
        let list = rec
            .world
            .apigateway
            .get_vpc_links
            .get_or_insert_with(RestVpcLinks::default);
        push_unique(&mut list.items, out);
    }
}

// ---------------------------------------------------------------- HTTP APIs

/// `GetApis`: every HTTP (and WebSocket) API of the region.
pub struct GetHttpApis;

impl Operation for GetHttpApis {
    const OP: Op = Op::GetApis;
    type Input = ();
    type Output = Vec<HttpApi>;

    fn key(region: &str, _: &()) -> String {
        region.to_owned()
    }

    async fn sdk(sdk: &AwsSdk, region: &str, _: &()) -> Answer<Vec<HttpApi>> {
        let client = sdk.apigatewayv2(region);
        let mut out = Vec::new();
        sdk.paginate(
            |t| client.get_apis().set_next_token(t).send().on_worker(),
            |r| marker(r.next_token()),
            |r| {
                out.extend(r.items().iter().map(|a| HttpApi {
                    api_id: a.api_id().unwrap_or_default().to_owned(),
                    name: a.name().unwrap_or_default().to_owned(),
                    protocol_type: a.protocol_type().map(|p| p.as_str().to_owned()),
                    api_endpoint: opt_str(a.api_endpoint()),
                }))
            },
        )
        .await?;
        Ok(out)
    }

    fn world(w: &World, _region: &str, _: &()) -> Answer<Vec<HttpApi>> {
        Ok(w.apigatewayv2
            .get_apis
            .as_ref()
            .map(|l| l.items.clone())
            .unwrap_or_default())
    }

    fn record(rec: &mut Recording, _region: &str, _: &(), out: &Vec<HttpApi>) {
        let list = v2(rec).get_apis.get_or_insert_with(Items::default);
        push_unique(&mut list.items, out);
    }
}

fn v2(rec: &mut Recording) -> &mut ApiGatewayV2World {
    &mut rec.world.apigatewayv2
}

/// `GetStage` of an HTTP API.
pub struct GetHttpStage;

impl Operation for GetHttpStage {
    const OP: Op = Op::GetStage;
    type Input = StageRef;
    type Output = HttpStage;

    fn key(_region: &str, s: &StageRef) -> String {
        stage_key(&s.api_id, &s.stage)
    }

    async fn sdk(sdk: &AwsSdk, region: &str, s: &StageRef) -> Answer<HttpStage> {
        let r = sdk
            .once(
                sdk.apigatewayv2(region)
                    .get_stage()
                    .api_id(&s.api_id)
                    .stage_name(&s.stage)
                    .send()
                    .on_worker(),
            )
            .await?;
        Ok(HttpStage {
            stage_name: r.stage_name().unwrap_or(&s.stage).to_owned(),
            auto_deploy: r.auto_deploy(),
            stage_variables: r
                .stage_variables()
                .map(|v| v.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default(),
            deployment_id: opt_str(r.deployment_id()),
            last_updated_date: rfc3339(r.last_updated_date()),
        })
    }

    fn world(w: &World, _region: &str, s: &StageRef) -> Answer<HttpStage> {
        w.apigatewayv2
            .get_stage
            .get(&stage_key(&s.api_id, &s.stage))
            .cloned()
            .ok_or_else(|| {
                not_found(format!(
                    "stage `{}` of HTTP API `{}` not found",
                    s.stage, s.api_id
                ))
            })
    }

    fn record(rec: &mut Recording, _region: &str, s: &StageRef, out: &HttpStage) {
        v2(rec)
            .get_stage
            .insert(stage_key(&s.api_id, &s.stage), out.clone());
    }
}

/// `GetIntegrations` of an HTTP API.
pub struct GetHttpIntegrations;

impl Operation for GetHttpIntegrations {
    const OP: Op = Op::GetIntegrations;
    type Input = str;
    type Output = Vec<HttpIntegration>;

    fn key(_region: &str, api_id: &str) -> String {
        api_id.to_owned()
    }

    async fn sdk(sdk: &AwsSdk, region: &str, api_id: &str) -> Answer<Vec<HttpIntegration>> {
        let client = sdk.apigatewayv2(region);
        let mut out = Vec::new();
        sdk.paginate(
            |t| {
                client
                    .get_integrations()
                    .api_id(api_id)
                    .set_next_token(t)
                    .send()
                    .on_worker()
            },
            |r| marker(r.next_token()),
            |r| {
                out.extend(r.items().iter().map(|i| HttpIntegration {
                    integration_id: i.integration_id().unwrap_or_default().to_owned(),
                    integration_type: i.integration_type().map(|t| t.as_str().to_owned()),
                    integration_uri: opt_str(i.integration_uri()),
                    integration_method: opt_str(i.integration_method()),
                    payload_format_version: opt_str(i.payload_format_version()),
                    timeout_in_millis: i.timeout_in_millis().map(i64::from),
                    connection_type: i.connection_type().map(|c| c.as_str().to_owned()),
                    connection_id: opt_str(i.connection_id()),
                }))
            },
        )
        .await?;
        Ok(out)
    }

    fn world(w: &World, _region: &str, api_id: &str) -> Answer<Vec<HttpIntegration>> {
        w.apigatewayv2
            .get_integrations
            .get(api_id)
            .map(|r| r.items.clone())
            .ok_or_else(|| not_found(format!("HTTP API `{api_id}` not found")))
    }

    fn record(rec: &mut Recording, _region: &str, api_id: &str, out: &Vec<HttpIntegration>) {
        v2(rec)
            .get_integrations
            .insert(api_id.to_owned(), Items { items: out.clone() });
    }
}

/// `GetVpcLinks` (HTTP APIs).
pub struct GetHttpVpcLinks;

impl Operation for GetHttpVpcLinks {
    const OP: Op = Op::GetVpcLinks;
    type Input = ();
    type Output = Vec<HttpVpcLink>;

    fn key(region: &str, _: &()) -> String {
        region.to_owned()
    }

    async fn sdk(sdk: &AwsSdk, region: &str, _: &()) -> Answer<Vec<HttpVpcLink>> {
        let client = sdk.apigatewayv2(region);
        let mut out = Vec::new();
        sdk.paginate(
            |t| client.get_vpc_links().set_next_token(t).send().on_worker(),
            |r| marker(r.next_token()),
            |r| {
                out.extend(r.items().iter().map(|l| HttpVpcLink {
                    vpc_link_id: l.vpc_link_id().unwrap_or_default().to_owned(),
                    name: l.name().unwrap_or_default().to_owned(),
                    vpc_link_status: l.vpc_link_status().map(|s| s.as_str().to_owned()),
                }))
            },
        )
        .await?;
        Ok(out)
    }

    fn world(w: &World, _region: &str, _: &()) -> Answer<Vec<HttpVpcLink>> {
        Ok(w.apigatewayv2
            .get_vpc_links
            .as_ref()
            .map(|l| l.items.clone())
            .unwrap_or_default())
    }

    fn record(rec: &mut Recording, _region: &str, _: &(), out: &Vec<HttpVpcLink>) {
        let list = v2(rec).get_vpc_links.get_or_insert_with(Items::default);
        push_unique(&mut list.items, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::port::Port;

    const WORLD: &str = r#"{"Format":"fivexx-world/1","Region":"us-east-1",
        "APIGateway":{"GetRestApis":{"items":[{"id":"a1","name":"orders"}]},
          "GetStage":{"a1/prod":{"stageName":"prod","variables":{"fn":"orders"}}},
          "GetResources":{"a1":{"items":[{"id":"r","path":"/o","resourceMethods":{"POST":{"methodIntegration":{"type":"AWS_PROXY","uri":"u","timeoutInMillis":29000}}}}]}}},
        "ApiGatewayV2":{"GetApis":{"Items":[{"ApiId":"h1","Name":"web"}]},
          "GetStage":{"h1/$default":{"StageName":"$default"}},
          "GetIntegrations":{"h1":{"Items":[{"IntegrationId":"i","IntegrationType":"HTTP_PROXY"}]}}}}"#;

    fn stage(api: &str, stage: &str) -> StageRef {
        StageRef {
            api_id: api.into(),
            stage: stage.into(),
        }
    }

    #[tokio::test]
    async fn world_answers_both_kinds_of_api() {
        let w = World::parse(WORLD).unwrap();
        let apis = w.call::<GetRestApis>("us-east-1", &()).await.unwrap();
        assert_eq!(apis[0].name, "orders");
        let st = w
            .call::<GetRestStage>("us-east-1", &stage("a1", "prod"))
            .await
            .unwrap();
        assert_eq!(st.variables.get("fn").map(String::as_str), Some("orders"));
        let rs = w.call::<GetRestResources>("us-east-1", "a1").await.unwrap();
        assert_eq!(rs[0].resource_methods.len(), 1);
        let e = w
            .call::<GetRestStage>("us-east-1", &stage("a1", "dev"))
            .await
            .unwrap_err();
        assert_eq!(e.code, "NotFoundException");
        let is = w
            .call::<GetHttpIntegrations>("us-east-1", "h1")
            .await
            .unwrap();
        assert_eq!(is[0].integration_type.as_deref(), Some("HTTP_PROXY"));
        assert!(
            w.call::<GetHttpStage>("us-east-1", &stage("h1", "$default"))
                .await
                .is_ok()
        );
        // A world without the section answers empty lists.
        let empty = World::parse(r#"{"Format":"fivexx-world/1","Region":"us-east-1"}"#).unwrap();
        assert!(
            empty
                .call::<GetHttpVpcLinks>("us-east-1", &())
                .await
                .unwrap()
                .is_empty()
        );
    }

    #[tokio::test]
    async fn the_iam_action_fails_every_api_gateway_read() {
        let w = World::parse(&WORLD.replacen(
            "\"Region\":\"us-east-1\",",
            "\"Region\":\"us-east-1\",\"Faults\":{\"apigateway:GET\":{\"Code\":\"AccessDeniedException\"}},",
            1,
        ))
        .unwrap();
        assert!(w.call::<GetRestApis>("us-east-1", &()).await.is_err());
        assert!(
            w.call::<GetHttpIntegrations>("us-east-1", "h1")
                .await
                .is_err()
        );
        let one = World::parse(&WORLD.replacen(
            "\"Region\":\"us-east-1\",",
            "\"Region\":\"us-east-1\",\"Errors\":{\"apigateway:GetResources\":{\"a1\":{\"Code\":\"TooManyRequestsException\"}}},",
            1,
        ))
        .unwrap();
        assert!(
            one.call::<GetRestResources>("us-east-1", "a1")
                .await
                .is_err()
        );
        assert!(one.call::<GetRestApis>("us-east-1", &()).await.is_ok());
    }

    #[test]
    fn recordings_write_the_same_shapes() {
        let mut rec = Recording::default();
        let w = World::parse(WORLD).unwrap();
        let apis = GetRestApis::world(&w, "us-east-1", &()).unwrap();
        GetRestApis::record(&mut rec, "us-east-1", &(), &apis);
        let st = GetRestStage::world(&w, "us-east-1", &stage("a1", "prod")).unwrap();
        GetRestStage::record(&mut rec, "us-east-1", &stage("a1", "prod"), &st);
        let again = World::parse(&{
            let mut out = rec.world.clone();
            out.format = crate::evidence::world::WORLD_FORMAT.into();
            out.region = "us-east-1".into();
            out.to_json()
        })
        .unwrap();
        assert_eq!(GetRestApis::world(&again, "us-east-1", &()).unwrap(), apis);
        assert_eq!(
            GetRestStage::world(&again, "us-east-1", &stage("a1", "prod")).unwrap(),
            st
        );
    }
}
