//! The AWS SDK side of the port: one client set per region, built lazily from one shared
//! configuration; what every operation's SDK call shares (pagination, running on a worker,
//! error mapping). The calls themselves live with their service.
//!
//! The SDK's standard configuration applies (credentials chain, `AWS_REGION`,
//! `AWS_ENDPOINT_URL`), with timeouts and retries set here so that no call can hang past the
//! triage deadline. Pagination is done here, not by the SDK's paginators, so that every page
//! is counted in `stats.api_calls`.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, ConfigLoader, Region, SdkConfig};
use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::{Connector, tls};
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use chrono::{DateTime, Utc};

use super::port::{Answer, Operation, Port, SourceError};
use crate::names::GLOBAL_REGION;

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
/// library is compiled in every clean build (`docs/decisions.md`). `tests/cli.rs` checks the proxy.
pub(crate) fn https_client() -> SharedHttpClient {
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
pub(crate) async fn load_sdk_config() -> SdkConfig {
    sdk_defaults().load().await
}

#[derive(Clone)]
struct RegionClients {
    elb: aws_sdk_elasticloadbalancingv2::Client,
    elb_classic: aws_sdk_elasticloadbalancing::Client,
    acm: aws_sdk_acm::Client,
    cw: aws_sdk_cloudwatch::Client,
    apigateway: aws_sdk_apigateway::Client,
    apigatewayv2: aws_sdk_apigatewayv2::Client,
    lambda: aws_sdk_lambda::Client,
}

/// The port backed by the AWS SDK.
pub struct AwsSdk {
    config: SdkConfig,
    regional: Mutex<HashMap<String, RegionClients>>,
    cloudfront: aws_sdk_cloudfront::Client,
    route53: aws_sdk_route53::Client,
    calls: AtomicUsize,
    origin_regions: Vec<String>,
    /// Paces each service's calls to AWS's bucket (`evidence::pace`).
    pacer: super::pace::Pacer,
}

impl AwsSdk {
    /// Clients are created per region on first use and kept for warm invocations.
    pub fn new(config: SdkConfig) -> Self {
        // CloudFront and Route 53 are global services signed in us-east-1.
        let global = config
            .to_builder()
            .region(Region::from_static(GLOBAL_REGION))
            .build();
        Self {
            cloudfront: aws_sdk_cloudfront::Client::new(&global),
            route53: aws_sdk_route53::Client::new(&global),
            config,
            regional: Mutex::new(HashMap::new()),
            calls: AtomicUsize::new(0),
            origin_regions: Vec::new(),
            pacer: super::pace::Pacer::default(),
        }
    }

    /// Without pacing (`FIVEXX_API_PACING=false`): for an endpoint without AWS's rate limits.
    pub(crate) fn without_pacing(mut self) -> Self {
        self.pacer = super::pace::Pacer::off();
        self
    }

    /// Regions where CloudFront origins behind custom names may live (besides the home region).
    pub(crate) fn with_origin_regions(mut self, regions: Vec<String>) -> Self {
        self.origin_regions = regions;
        self
    }

    /// The region of the SDK configuration, if any.
    pub(crate) fn home_region(&self) -> Option<String> {
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
                    elb_classic: aws_sdk_elasticloadbalancing::Client::new(&cfg),
                    acm: aws_sdk_acm::Client::new(&cfg),
                    cw: aws_sdk_cloudwatch::Client::new(&cfg),
                    apigateway: aws_sdk_apigateway::Client::new(&cfg),
                    apigatewayv2: aws_sdk_apigatewayv2::Client::new(&cfg),
                    lambda: aws_sdk_lambda::Client::new(&cfg),
                }
            })
            .clone()
    }

    fn count(&self) {
        self.calls.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn elb(&self, region: &str) -> aws_sdk_elasticloadbalancingv2::Client {
        self.clients(region).elb
    }

    /// The Classic Load Balancer's API (`elasticloadbalancing`, version 2012-06-01).
    pub(crate) fn elb_classic(&self, region: &str) -> aws_sdk_elasticloadbalancing::Client {
        self.clients(region).elb_classic
    }

    pub(crate) fn acm(&self, region: &str) -> aws_sdk_acm::Client {
        self.clients(region).acm
    }

    pub(crate) fn cw(&self, region: &str) -> aws_sdk_cloudwatch::Client {
        self.clients(region).cw
    }

    pub(crate) fn apigateway(&self, region: &str) -> aws_sdk_apigateway::Client {
        self.clients(region).apigateway
    }

    pub(crate) fn apigatewayv2(&self, region: &str) -> aws_sdk_apigatewayv2::Client {
        self.clients(region).apigatewayv2
    }

    pub(crate) fn lambda(&self, region: &str) -> aws_sdk_lambda::Client {
        self.clients(region).lambda
    }

    pub(crate) fn cloudfront(&self) -> &aws_sdk_cloudfront::Client {
        &self.cloudfront
    }

    pub(crate) fn route53(&self) -> &aws_sdk_route53::Client {
        &self.route53
    }

    /// One request, counted.
    pub(crate) async fn once<T>(&self, request: impl Future<Output = Answer<T>>) -> Answer<T> {
        self.count();
        request.await
    }

    /// Every page of one request, each counted: `send` asks for the page after `token`
    /// (`None`: the first), `next` reads the following page's token from an answer (`None`:
    /// it was the last), `take` keeps what a page holds. The first failure ends it.
    pub(crate) async fn paginate<Tok, Resp, Fut>(
        &self,
        mut send: impl FnMut(Option<Tok>) -> Fut,
        next: impl Fn(&Resp) -> Option<Tok>,
        mut take: impl FnMut(Resp),
    ) -> Answer<()>
    where
        Fut: Future<Output = Answer<Resp>>,
    {
        let mut token = None;
        loop {
            self.count();
            let resp = send(token.take()).await?;
            token = next(&resp);
            take(resp);
            if token.is_none() {
                return Ok(());
            }
        }
    }
}

impl Port for AwsSdk {
    async fn call<O: Operation>(&self, region: &str, input: &O::Input) -> Answer<O::Output> {
        O::sdk(self, region, input).await
    }

    async fn pace<O: Operation>(
        &self,
        region: &str,
        _input: &O::Input,
        latest: tokio::time::Instant,
    ) -> Answer<()> {
        // Global services are paced in the region they are signed in.
        let service = O::OP.iam_name().split(':').next().unwrap_or_default();
        let paced_region = match service {
            "cloudfront" | "route53" => GLOBAL_REGION,
            _ => region,
        };
        self.pacer
            .acquire_by(service, paced_region, Some(latest))
            .await
            .map_err(|wait| SourceError::budget(service, wait))
    }

    fn api_calls(&self) -> usize {
        self.calls.load(Ordering::Relaxed)
    }

    fn origin_regions(&self) -> Vec<String> {
        self.origin_regions.clone()
    }
}

/// A pagination marker or token as the next page's: absent or empty means no next page.
pub(crate) fn marker(token: Option<&str>) -> Option<String> {
    token.filter(|t| !t.is_empty()).map(str::to_owned)
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
pub(crate) trait OnWorker<T, E> {
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

pub(crate) fn time(t: &aws_smithy_types::DateTime) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(t.secs(), t.subsec_nanos())
}

pub(crate) fn opt_str<T: AsRef<str>>(v: Option<T>) -> Option<String> {
    v.map(|s| s.as_ref().to_owned())
}

pub(crate) fn smithy_time(t: DateTime<Utc>) -> aws_smithy_types::DateTime {
    aws_smithy_types::DateTime::from_secs(t.timestamp())
}
