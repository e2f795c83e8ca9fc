//! The AWS SDK side of the port: one client set per region, built lazily from one shared
//! configuration, answers converted into the model's shapes.
//!
//! The SDK's standard configuration applies (credentials chain, `AWS_REGION`,
//! `AWS_ENDPOINT_URL`), with timeouts and retries set here so that no call can hang past the
//! triage deadline. Pagination is done by hand so that every page is counted in
//! `stats.api_calls`.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, ConfigLoader, Region, SdkConfig};
use aws_sdk_cloudwatch::types as cw;
use aws_sdk_elasticloadbalancingv2::types as elb;
use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::{Connector, tls};
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use chrono::{DateTime, Utc};

use super::metrics::{MetricQuery, Series};
use super::model as m;
use super::port::{Answer, AwsPort, SourceError, Window};

/// Timeouts for every AWS call: a slow endpoint fails fast and is retried within the deadline.
pub fn timeout_config() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(2))
        .operation_attempt_timeout(Duration::from_secs(4))
        .operation_timeout(Duration::from_secs(9))
        .build()
}

/// The SDK's standard retry mode (exponential backoff with jitter), 3 attempts.
pub fn retry_config() -> RetryConfig {
    RetryConfig::standard().with_max_attempts(3)
}

/// The HTTPS client for every AWS call: the SDK's default client (hyper and rustls, a pool per
/// connector setting, `HTTP(S)_PROXY`/`NO_PROXY` from the environment), built the way
/// `aws-smithy-runtime` builds it (through `build_with_connector_fn`, which is hidden from the
/// crate's docs), with ring instead of aws-lc-rs as rustls's crypto provider: aws-lc-rs's C
/// library is compiled in every clean build (README, "Design"). `tests/cli.rs` checks the proxy.
pub fn https_client() -> SharedHttpClient {
    aws_smithy_http_client::Builder::new().build_with_connector_fn(|settings, components| {
        let mut connector = Connector::builder().tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ));
        connector.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            connector.set_sleep_impl(components.sleep_impl());
        }
        connector.set_proxy_config(Some(ProxyConfig::from_env()));
        connector.build()
    })
}

/// The SDK's standard configuration loader with fivexx's HTTPS client, timeouts and retries.
pub fn sdk_defaults() -> ConfigLoader {
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(https_client())
        .timeout_config(timeout_config())
        .retry_config(retry_config())
}

/// Loads the SDK's standard configuration with fivexx's HTTPS client, timeouts and retries.
pub async fn load_sdk_config() -> SdkConfig {
    sdk_defaults().load().await
}

#[derive(Clone)]
struct RegionClients {
    elb: aws_sdk_elasticloadbalancingv2::Client,
    acm: aws_sdk_acm::Client,
    cw: aws_sdk_cloudwatch::Client,
}

/// The port backed by the AWS SDK.
pub struct AwsSdk {
    config: SdkConfig,
    regional: Mutex<HashMap<String, RegionClients>>,
    cloudfront: aws_sdk_cloudfront::Client,
    route53: aws_sdk_route53::Client,
    calls: AtomicUsize,
    origin_regions: Vec<String>,
}

impl AwsSdk {
    /// Clients are created per region on first use and kept for warm invocations.
    pub fn new(config: SdkConfig) -> Self {
        // CloudFront and Route 53 are global services signed in us-east-1.
        let global = config
            .to_builder()
            .region(Region::from_static("us-east-1"))
            .build();
        Self {
            cloudfront: aws_sdk_cloudfront::Client::new(&global),
            route53: aws_sdk_route53::Client::new(&global),
            config,
            regional: Mutex::new(HashMap::new()),
            calls: AtomicUsize::new(0),
            origin_regions: Vec::new(),
        }
    }

    /// Regions where CloudFront origins behind custom names may live (besides the home region).
    pub fn with_origin_regions(mut self, regions: Vec<String>) -> Self {
        self.origin_regions = regions;
        self
    }

    /// The region of the SDK configuration, if any.
    pub fn home_region(&self) -> Option<String> {
        self.config.region().map(|r| r.to_string())
    }

    fn clients(&self, region: &str) -> RegionClients {
        let mut map = match self.regional.lock() {
            Ok(m) => m,
            Err(poisoned) => poisoned.into_inner(),
        };
        map.entry(region.to_owned())
            .or_insert_with(|| {
                let cfg = self
                    .config
                    .to_builder()
                    .region(Region::new(region.to_owned()))
                    .build();
                RegionClients {
                    elb: aws_sdk_elasticloadbalancingv2::Client::new(&cfg),
                    acm: aws_sdk_acm::Client::new(&cfg),
                    cw: aws_sdk_cloudwatch::Client::new(&cfg),
                }
            })
            .clone()
    }

    fn count(&self) {
        self.calls.fetch_add(1, Ordering::Relaxed);
    }
}

/// An SDK error as a code and a message. Transport failures have no AWS code; they are named
/// by kind. The message never carries the request (URLs, headers).
fn source_error<E: ProvideErrorMetadata>(err: SdkError<E, HttpResponse>) -> SourceError {
    let kind = match &err {
        SdkError::TimeoutError(_) => Some("TimeoutError"),
        SdkError::DispatchFailure(_) => Some("DispatchFailure"),
        SdkError::ConstructionFailure(_) => Some("ConstructionFailure"),
        SdkError::ResponseError(_) => Some("ResponseError"),
        _ => None,
    };
    let status = err.raw_response().map(|r| r.status().as_u16());
    match (err.code(), kind, status) {
        (Some(code), _, _) => SourceError::new(code, err.message().unwrap_or_default()),
        (None, Some(kind), _) => SourceError::new(kind, "the request did not complete"),
        (None, None, Some(status)) => SourceError::new(
            format!("Http{status}"),
            format!("HTTP {status} without an AWS error code"),
        ),
        (None, None, None) => SourceError::new("Unknown", "an error without an AWS error code"),
    }
}

/// Runs an SDK call as a task of the runtime and waits for it, so the per-call CPU of a wide
/// wave (signing, serializing, parsing: about 0.2 ms a call) spreads over every worker thread
/// the runtime has instead of the one thread polling the wave. Dropping the wait (the triage
/// deadline) aborts the call.
trait OnWorker<T, E> {
    fn on_worker(self) -> impl Future<Output = Answer<T>> + Send;
}

impl<F, T, E> OnWorker<T, E> for F
where
    F: Future<Output = Result<T, SdkError<E, HttpResponse>>> + Send + 'static,
    T: Send + 'static,
    E: ProvideErrorMetadata + Send + 'static,
{
    async fn on_worker(self) -> Answer<T> {
        struct AbortOnDrop<R>(tokio::task::JoinHandle<R>);
        impl<R> Drop for AbortOnDrop<R> {
            fn drop(&mut self) {
                self.0.abort();
            }
        }
        let mut task = AbortOnDrop(tokio::spawn(self));
        match (&mut task.0).await {
            Ok(result) => result.map_err(source_error),
            Err(e) if e.is_panic() => Err(SourceError::new("Internal", "the call panicked")),
            Err(_) => Err(SourceError::new("Internal", "the call was cancelled")),
        }
    }
}

fn time(t: &aws_smithy_types::DateTime) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(t.secs(), t.subsec_nanos())
}

fn opt_str<T: AsRef<str>>(v: Option<T>) -> Option<String> {
    v.map(|s| s.as_ref().to_owned())
}

fn load_balancer(lb: &elb::LoadBalancer) -> m::LoadBalancer {
    m::LoadBalancer {
        load_balancer_arn: lb.load_balancer_arn().unwrap_or_default().to_owned(),
        dns_name: opt_str(lb.dns_name()),
        canonical_hosted_zone_id: opt_str(lb.canonical_hosted_zone_id()),
        load_balancer_name: opt_str(lb.load_balancer_name()),
        scheme: lb.scheme().map(|s| s.as_str().to_owned()),
        vpc_id: opt_str(lb.vpc_id()),
        state: lb.state().map(|s| m::LoadBalancerState {
            code: s.code().map(|c| c.as_str().to_owned()),
            reason: opt_str(s.reason()),
        }),
        kind: lb.r#type().map(|t| t.as_str().to_owned()),
        security_groups: lb.security_groups().to_vec(),
        ip_address_type: lb.ip_address_type().map(|t| t.as_str().to_owned()),
    }
}

fn action(a: &elb::Action) -> m::Action {
    m::Action {
        kind: a
            .r#type()
            .map(|t| t.as_str().to_owned())
            .unwrap_or_default(),
        order: a.order(),
        target_group_arn: opt_str(a.target_group_arn()),
        forward_config: a.forward_config().map(|f| m::ForwardConfig {
            target_groups: f
                .target_groups()
                .iter()
                .map(|t| m::TargetGroupTuple {
                    target_group_arn: t.target_group_arn().unwrap_or_default().to_owned(),
                    weight: t.weight(),
                })
                .collect(),
        }),
        fixed_response_config: a.fixed_response_config().map(|f| m::FixedResponseConfig {
            status_code: opt_str(f.status_code()),
            content_type: opt_str(f.content_type()),
        }),
    }
}

fn listener(l: &elb::Listener) -> m::Listener {
    m::Listener {
        listener_arn: l.listener_arn().unwrap_or_default().to_owned(),
        load_balancer_arn: opt_str(l.load_balancer_arn()),
        port: l.port(),
        protocol: l.protocol().map(|p| p.as_str().to_owned()),
        certificates: l
            .certificates()
            .iter()
            .map(|c| m::ListenerCertificate {
                certificate_arn: c.certificate_arn().unwrap_or_default().to_owned(),
                is_default: c.is_default(),
            })
            .collect(),
        ssl_policy: opt_str(l.ssl_policy()),
        default_actions: l.default_actions().iter().map(action).collect(),
    }
}

fn target_group(t: &elb::TargetGroup) -> m::TargetGroup {
    m::TargetGroup {
        target_group_arn: t.target_group_arn().unwrap_or_default().to_owned(),
        target_group_name: opt_str(t.target_group_name()),
        protocol: t.protocol().map(|p| p.as_str().to_owned()),
        protocol_version: opt_str(t.protocol_version()),
        port: t.port(),
        target_type: t.target_type().map(|x| x.as_str().to_owned()),
        health_check_enabled: t.health_check_enabled(),
        health_check_protocol: t.health_check_protocol().map(|p| p.as_str().to_owned()),
        health_check_port: opt_str(t.health_check_port()),
        health_check_path: opt_str(t.health_check_path()),
        health_check_interval_seconds: t.health_check_interval_seconds(),
        health_check_timeout_seconds: t.health_check_timeout_seconds(),
        healthy_threshold_count: t.healthy_threshold_count(),
        unhealthy_threshold_count: t.unhealthy_threshold_count(),
        matcher: t.matcher().map(|x| m::Matcher {
            http_code: opt_str(x.http_code()),
            grpc_code: opt_str(x.grpc_code()),
        }),
        load_balancer_arns: t.load_balancer_arns().to_vec(),
        vpc_id: opt_str(t.vpc_id()),
    }
}

fn target_health(d: &elb::TargetHealthDescription) -> m::TargetHealthDescription {
    m::TargetHealthDescription {
        target: d
            .target()
            .map(|t| m::TargetDescription {
                id: t.id().unwrap_or_default().to_owned(),
                port: t.port(),
                availability_zone: opt_str(t.availability_zone()),
            })
            .unwrap_or_default(),
        health_check_port: opt_str(d.health_check_port()),
        target_health: d
            .target_health()
            .map(|h| m::TargetHealth {
                state: h.state().map(|s| s.as_str().to_owned()),
                reason: h.reason().map(|r| r.as_str().to_owned()),
                description: opt_str(h.description()),
            })
            .unwrap_or_default(),
    }
}

fn attributes<'a>(
    pairs: impl Iterator<Item = (Option<&'a str>, Option<&'a str>)>,
) -> Vec<m::Attribute> {
    pairs
        .filter_map(|(k, v)| {
            k.map(|k| m::Attribute {
                key: k.to_owned(),
                value: v.unwrap_or_default().to_owned(),
            })
        })
        .collect()
}

fn certificate(c: &aws_sdk_acm::types::CertificateDetail) -> m::CertificateDetail {
    m::CertificateDetail {
        certificate_arn: c.certificate_arn().unwrap_or_default().to_owned(),
        domain_name: opt_str(c.domain_name()),
        subject_alternative_names: c.subject_alternative_names().to_vec(),
        kind: c.r#type().map(|t| t.as_str().to_owned()),
        status: c.status().map(|s| s.as_str().to_owned()),
        not_before: c.not_before().and_then(time),
        not_after: c.not_after().and_then(time),
        renewal_eligibility: c.renewal_eligibility().map(|r| r.as_str().to_owned()),
        renewal_summary: c.renewal_summary().map(|r| m::RenewalSummary {
            renewal_status: Some(r.renewal_status().as_str().to_owned()),
            renewal_status_reason: r.renewal_status_reason().map(|x| x.as_str().to_owned()),
            updated_at: time(r.updated_at()),
        }),
        domain_validation_options: c
            .domain_validation_options()
            .iter()
            .map(|d| m::DomainValidation {
                domain_name: d.domain_name().to_owned(),
                validation_domain: opt_str(d.validation_domain()),
                validation_status: d.validation_status().map(|s| s.as_str().to_owned()),
                validation_method: d.validation_method().map(|s| s.as_str().to_owned()),
            })
            .collect(),
        in_use_by: c.in_use_by().to_vec(),
        issuer: opt_str(c.issuer()),
    }
}

fn certificate_summary(c: &aws_sdk_acm::types::CertificateSummary) -> m::CertificateSummary {
    let names = c.subject_alternative_name_summaries().to_vec();
    m::CertificateSummary {
        names_complete: !names.is_empty()
            && c.has_additional_subject_alternative_names() != Some(true),
        detail: m::CertificateDetail {
            certificate_arn: c.certificate_arn().unwrap_or_default().to_owned(),
            domain_name: opt_str(c.domain_name()),
            subject_alternative_names: names,
            kind: c.r#type().map(|t| t.as_str().to_owned()),
            status: c.status().map(|s| s.as_str().to_owned()),
            not_before: c.not_before().and_then(time),
            not_after: c.not_after().and_then(time),
            renewal_eligibility: c.renewal_eligibility().map(|r| r.as_str().to_owned()),
            ..m::CertificateDetail::default()
        },
    }
}

mod cf_convert {
    //! CloudFront's XML-shaped types into the model.
    use aws_sdk_cloudfront::types as cf;

    use super::super::model::{self as m, Items};
    use super::opt_str;

    pub(super) fn distribution_config(d: &cf::DistributionConfig) -> m::DistributionConfig {
        m::DistributionConfig {
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

    fn origin(o: &cf::Origin) -> m::Origin {
        m::Origin {
            id: o.id().to_owned(),
            domain_name: o.domain_name().to_owned(),
            origin_path: opt_str(o.origin_path()),
            custom_origin_config: o.custom_origin_config().map(|c| m::CustomOriginConfig {
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

    fn lambdas(
        l: Option<&cf::LambdaFunctionAssociations>,
    ) -> Option<Items<m::LambdaFunctionAssociation>> {
        l.map(|l| {
            Items::new(
                l.items()
                    .iter()
                    .map(|a| m::LambdaFunctionAssociation {
                        lambda_function_arn: a.lambda_function_arn().to_owned(),
                        event_type: a.event_type().as_str().to_owned(),
                    })
                    .collect(),
            )
        })
    }

    fn functions(f: Option<&cf::FunctionAssociations>) -> Option<Items<m::FunctionAssociation>> {
        f.map(|f| {
            Items::new(
                f.items()
                    .iter()
                    .map(|a| m::FunctionAssociation {
                        function_arn: a.function_arn().to_owned(),
                        event_type: a.event_type().as_str().to_owned(),
                    })
                    .collect(),
            )
        })
    }

    // `ForwardedValues` is deprecated in favour of policies, but distributions still use it, and
    // a `Host` whitelisted there changes which name the origin certificate must cover.
    fn forwarded(f: Option<&cf::ForwardedValues>) -> Option<m::ForwardedValues> {
        f.map(|f| m::ForwardedValues {
            headers: f.headers().map(|h| Items::new(h.items().to_vec())),
        })
    }

    #[allow(deprecated)]
    fn default_behavior(b: &cf::DefaultCacheBehavior) -> m::CacheBehavior {
        m::CacheBehavior {
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
    fn behavior(b: &cf::CacheBehavior) -> m::CacheBehavior {
        m::CacheBehavior {
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

    pub(super) fn origin_request_policy(p: &cf::OriginRequestPolicy) -> m::OriginRequestPolicy {
        let cfg = p.origin_request_policy_config();
        m::OriginRequestPolicy {
            id: p.id().to_owned(),
            origin_request_policy_config: m::OriginRequestPolicyConfig {
                name: cfg.map(|c| c.name().to_owned()).unwrap_or_default(),
                headers_config: cfg
                    .and_then(|c| c.headers_config())
                    .map(|h| m::HeadersConfig {
                        header_behavior: h.header_behavior().as_str().to_owned(),
                        headers: h.headers().map(|x| Items::new(x.items().to_vec())),
                    })
                    .unwrap_or_default(),
            },
        }
    }
}

fn metric_query(id: usize, q: &MetricQuery) -> cw::MetricDataQuery {
    let mut metric = cw::Metric::builder()
        .namespace(&q.namespace)
        .metric_name(&q.name);
    for (k, v) in &q.dimensions {
        metric = metric.dimensions(cw::Dimension::builder().name(k).value(v).build());
    }
    let stat = cw::MetricStat::builder()
        .metric(metric.build())
        .period(60)
        .stat(&q.stat)
        .build();
    cw::MetricDataQuery::builder()
        .id(format!("m{id}"))
        .metric_stat(stat)
        .return_data(true)
        .build()
}

fn smithy_time(t: DateTime<Utc>) -> aws_smithy_types::DateTime {
    aws_smithy_types::DateTime::from_secs(t.timestamp())
}

impl AwsPort for AwsSdk {
    async fn describe_load_balancers(
        &self,
        region: &str,
        arn: Option<&str>,
    ) -> Answer<Vec<m::LoadBalancer>> {
        let client = self.clients(region).elb;
        let mut out = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            self.count();
            let mut req = client.describe_load_balancers().set_marker(marker.take());
            if let Some(a) = arn {
                req = req.load_balancer_arns(a);
            }
            let resp = req.send().on_worker().await?;
            out.extend(resp.load_balancers().iter().map(load_balancer));
            match resp.next_marker() {
                Some(next) if !next.is_empty() => marker = Some(next.to_owned()),
                _ => return Ok(out),
            }
        }
    }

    async fn describe_load_balancer_attributes(
        &self,
        region: &str,
        lb_arn: &str,
    ) -> Answer<Vec<m::Attribute>> {
        self.count();
        let resp = self
            .clients(region)
            .elb
            .describe_load_balancer_attributes()
            .load_balancer_arn(lb_arn)
            .send()
            .on_worker()
            .await?;
        Ok(attributes(
            resp.attributes().iter().map(|a| (a.key(), a.value())),
        ))
    }

    async fn describe_listeners(&self, region: &str, lb_arn: &str) -> Answer<Vec<m::Listener>> {
        let client = self.clients(region).elb;
        let mut out = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            self.count();
            let resp = client
                .describe_listeners()
                .load_balancer_arn(lb_arn)
                .set_marker(marker.take())
                .send()
                .on_worker()
                .await?;
            out.extend(resp.listeners().iter().map(listener));
            match resp.next_marker() {
                Some(next) if !next.is_empty() => marker = Some(next.to_owned()),
                _ => return Ok(out),
            }
        }
    }

    async fn describe_rules(&self, region: &str, listener_arn: &str) -> Answer<Vec<m::Rule>> {
        let client = self.clients(region).elb;
        let mut out = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            self.count();
            let resp = client
                .describe_rules()
                .listener_arn(listener_arn)
                .set_marker(marker.take())
                .send()
                .on_worker()
                .await?;
            out.extend(resp.rules().iter().map(|r| m::Rule {
                rule_arn: r.rule_arn().unwrap_or_default().to_owned(),
                priority: opt_str(r.priority()),
                actions: r.actions().iter().map(action).collect(),
                is_default: r.is_default(),
            }));
            match resp.next_marker() {
                Some(next) if !next.is_empty() => marker = Some(next.to_owned()),
                _ => return Ok(out),
            }
        }
    }

    async fn describe_target_groups(
        &self,
        region: &str,
        lb_arn: &str,
    ) -> Answer<Vec<m::TargetGroup>> {
        let client = self.clients(region).elb;
        let mut out = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            self.count();
            let resp = client
                .describe_target_groups()
                .load_balancer_arn(lb_arn)
                .set_marker(marker.take())
                .send()
                .on_worker()
                .await?;
            out.extend(resp.target_groups().iter().map(target_group));
            match resp.next_marker() {
                Some(next) if !next.is_empty() => marker = Some(next.to_owned()),
                _ => return Ok(out),
            }
        }
    }

    async fn describe_target_group_attributes(
        &self,
        region: &str,
        tg_arn: &str,
    ) -> Answer<Vec<m::Attribute>> {
        self.count();
        let resp = self
            .clients(region)
            .elb
            .describe_target_group_attributes()
            .target_group_arn(tg_arn)
            .send()
            .on_worker()
            .await?;
        Ok(attributes(
            resp.attributes().iter().map(|a| (a.key(), a.value())),
        ))
    }

    async fn describe_target_health(
        &self,
        region: &str,
        tg_arn: &str,
    ) -> Answer<Vec<m::TargetHealthDescription>> {
        self.count();
        let resp = self
            .clients(region)
            .elb
            .describe_target_health()
            .target_group_arn(tg_arn)
            .send()
            .on_worker()
            .await?;
        Ok(resp
            .target_health_descriptions()
            .iter()
            .map(target_health)
            .collect())
    }

    async fn describe_certificate(&self, region: &str, arn: &str) -> Answer<m::CertificateDetail> {
        self.count();
        let resp = self
            .clients(region)
            .acm
            .describe_certificate()
            .certificate_arn(arn)
            .send()
            .on_worker()
            .await?;
        resp.certificate().map(certificate).ok_or_else(|| {
            SourceError::new(
                "EmptyResponse",
                format!("no certificate in the answer for `{arn}`"),
            )
        })
    }

    async fn list_certificates(&self, region: &str) -> Answer<Vec<m::CertificateSummary>> {
        use aws_sdk_acm::types::{Filters, KeyAlgorithm};
        self.count();
        // Every key type: without a filter ACM lists only RSA-2048 certificates. One page; a
        // certificate beyond it is described on its own.
        let key_types = KeyAlgorithm::values()
            .iter()
            .map(|k| KeyAlgorithm::from(*k))
            .collect();
        let resp = self
            .clients(region)
            .acm
            .list_certificates()
            .includes(Filters::builder().set_key_types(Some(key_types)).build())
            .max_items(1000)
            .send()
            .on_worker()
            .await?;
        Ok(resp
            .certificate_summary_list()
            .iter()
            .map(certificate_summary)
            .collect())
    }

    async fn get_distribution_config(&self, id: &str) -> Answer<m::DistributionConfigEnvelope> {
        self.count();
        let resp = self
            .cloudfront
            .get_distribution_config()
            .id(id)
            .send()
            .on_worker()
            .await?;
        let cfg = resp.distribution_config().ok_or_else(|| {
            SourceError::new("EmptyResponse", format!("no configuration for `{id}`"))
        })?;
        Ok(m::DistributionConfigEnvelope {
            etag: opt_str(resp.e_tag()),
            distribution_config: cf_convert::distribution_config(cfg),
        })
    }

    async fn get_origin_request_policy(&self, id: &str) -> Answer<m::OriginRequestPolicyEnvelope> {
        self.count();
        let resp = self
            .cloudfront
            .get_origin_request_policy()
            .id(id)
            .send()
            .on_worker()
            .await?;
        let p = resp.origin_request_policy().ok_or_else(|| {
            SourceError::new("EmptyResponse", format!("no origin request policy `{id}`"))
        })?;
        Ok(m::OriginRequestPolicyEnvelope {
            etag: opt_str(resp.e_tag()),
            origin_request_policy: cf_convert::origin_request_policy(p),
        })
    }

    async fn list_hosted_zones(&self) -> Answer<Vec<m::HostedZone>> {
        let mut out = Vec::new();
        let mut next: Option<(String, Option<String>)> = None;
        loop {
            self.count();
            let mut req = self.route53.list_hosted_zones_by_name();
            if let Some((name, zone)) = next.take() {
                req = req.dns_name(name).set_hosted_zone_id(zone);
            }
            let resp = req.send().on_worker().await?;
            out.extend(resp.hosted_zones().iter().map(|z| m::HostedZone {
                id: z.id().to_owned(),
                name: z.name().to_owned(),
                config: z.config().map(|c| m::HostedZoneConfig {
                    private_zone: c.private_zone(),
                }),
            }));
            match (resp.is_truncated(), resp.next_dns_name()) {
                (true, Some(name)) => {
                    next = Some((name.to_owned(), opt_str(resp.next_hosted_zone_id())));
                }
                _ => return Ok(out),
            }
        }
    }

    async fn list_resource_record_sets(
        &self,
        zone_id: &str,
        name: &str,
    ) -> Answer<Vec<m::ResourceRecordSet>> {
        self.count();
        let want = super::world::fqdn(name);
        // Records are sorted by name: the ones named `name` come first from `StartRecordName`.
        let resp = self
            .route53
            .list_resource_record_sets()
            .hosted_zone_id(zone_id)
            .start_record_name(&want)
            .max_items(20)
            .send()
            .on_worker()
            .await?;
        Ok(resp
            .resource_record_sets()
            .iter()
            .filter(|r| super::world::fqdn(r.name()).eq_ignore_ascii_case(&want))
            .map(|r| m::ResourceRecordSet {
                name: r.name().to_owned(),
                kind: r.r#type().as_str().to_owned(),
                ttl: r.ttl(),
                resource_records: r
                    .resource_records()
                    .iter()
                    .map(|v| m::ResourceRecord {
                        value: v.value().to_owned(),
                    })
                    .collect(),
                alias_target: r.alias_target().map(|a| m::AliasTarget {
                    hosted_zone_id: a.hosted_zone_id().to_owned(),
                    dns_name: a.dns_name().to_owned(),
                    evaluate_target_health: a.evaluate_target_health(),
                }),
            })
            .collect())
    }

    async fn get_metric_data(
        &self,
        region: &str,
        queries: &[MetricQuery],
        window: Window,
    ) -> Answer<Vec<Series>> {
        let client = self.clients(region).cw;
        let built: Vec<cw::MetricDataQuery> = queries
            .iter()
            .enumerate()
            .map(|(i, q)| metric_query(i, q))
            .collect();
        let mut points: Vec<Vec<(DateTime<Utc>, f64)>> = vec![Vec::new(); queries.len()];
        let mut token: Option<String> = None;
        loop {
            self.count();
            let resp = client
                .get_metric_data()
                .set_metric_data_queries(Some(built.clone()))
                .start_time(smithy_time(window.start))
                .end_time(smithy_time(window.end))
                .scan_by(cw::ScanBy::TimestampAscending)
                .set_next_token(token.take())
                .send()
                .on_worker()
                .await?;
            for r in resp.metric_data_results() {
                let Some(idx) = r
                    .id()
                    .and_then(|id| id.strip_prefix('m'))
                    .and_then(|n| n.parse::<usize>().ok())
                else {
                    continue;
                };
                if let Some(slot) = points.get_mut(idx) {
                    slot.extend(
                        r.timestamps()
                            .iter()
                            .zip(r.values())
                            .filter_map(|(t, v)| time(t).map(|t| (t, *v))),
                    );
                }
            }
            match resp.next_token() {
                Some(next) if !next.is_empty() => token = Some(next.to_owned()),
                _ => break,
            }
        }
        Ok(points.into_iter().map(Series::new).collect())
    }

    fn api_calls(&self) -> usize {
        self.calls.load(Ordering::Relaxed)
    }

    fn origin_regions(&self) -> Vec<String> {
        self.origin_regions.clone()
    }
}
