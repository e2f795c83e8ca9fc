//! SDK-level tests of the AWS adapter (`fivexx::evidence::sdk::AwsSdk`) with canned HTTP
//! answers, for what moto cannot produce (see `aws_moto.rs` for everything it can):
//!
//! - CloudWatch `GetMetricData` answers shaped by hand (pages merged in query order, an error
//!   code kept): aws-sdk-cloudwatch 1.100+ speaks Smithy RPCv2 CBOR, which moto 5.2.5 answers
//!   404; against moto it goes through the shim (`scripts/cw_cbor_shim.py`, see `aws_moto.rs`).
//!   The answers here are CBOR, encoded by hand.
//! - target health `unhealthy` / `initial` (moto only says `healthy`, `unused`, ...);
//! - ACM `AccessDeniedException`, and EMAIL validation with a `RenewalSummary` (moto reports
//!   every certificate as DNS-validated and has no renewal summaries);
//! - CloudFront `GetOriginRequestPolicy` (not implemented by moto 5.2.5);
//! - the Classic Load Balancer's pages (moto pages by 50, so one needs 51 load balancers),
//!   its requests of more than 20 names, `LoadBalancerNotFound` as AWS words it, and instance
//!   health reasons (moto says `N/A`).
//!
//! How: `AwsSdk` builds its clients itself from an `SdkConfig`, and an `SdkConfig` carries no
//! interceptors, so `aws-smithy-mocks` (an interceptor set on one service client's config)
//! cannot reach those clients. What an `SdkConfig` does carry is the HTTP client: these tests
//! give it a fake one (`Canned`, built on `aws_smithy_runtime_api`'s `HttpConnector`, already
//! a dependency) that answers each request with the bytes the real service would send. So
//! the real SDK serializers, deserializers, error parsing, retry and timeout layers all run,
//! and nothing leaves the process: the fake connector never opens a socket.

// Test code: failing loudly is the point (clippy.toml only covers #[test] bodies).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::{BehaviorVersion, Region};
use aws_sdk_elasticloadbalancingv2::config::Credentials;
use aws_smithy_runtime_api::client::http::{
    HttpConnector, HttpConnectorFuture, SharedHttpConnector, http_client_fn,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use chrono::{DateTime, Utc};

use fivexx::evidence::acm::{DescribeCertificate, ListCertificates};
use fivexx::evidence::clb::{
    ClassicLoadBalancers, DescribeClassicLoadBalancerAttributes, DescribeClassicLoadBalancers,
    DescribeInstanceHealth,
};
use fivexx::evidence::cloudfront::GetOriginRequestPolicy;
use fivexx::evidence::cloudwatch::{GetMetricData, MetricQuery, MetricRequest};
use fivexx::evidence::elb::DescribeTargetHealth;
use fivexx::evidence::gather::{GatherOptions, gather};
use fivexx::evidence::port::{Port, Window};
use fivexx::evidence::record::Recorder;
use fivexx::evidence::sdk::AwsSdk;
use fivexx::scope::{AlbRef, Scope};

const REGION: &str = "us-east-1";
const ACCOUNT: &str = "123456789012";
const LB_ARN: &str =
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web/f3b962d72ac3e219";
const TG_ARN: &str =
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-tg/73e2d6bc24d8a067";
const LISTENER_ARN: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/web/f3b962d72ac3e219/8d1f5e2a9c3b4a10";
const CERT_ARN: &str =
    "arn:aws:acm:us-east-1:123456789012:certificate/6f0b1d2e-3c4d-4e5f-8a9b-0c1d2e3f4a5b";

// ------------------------------------------------------------------------ the fake transport

/// One request as the fake transport saw it.
#[derive(Debug, Clone)]
struct Seen {
    uri: String,
    /// `X-Amz-Target` (JSON protocols: ACM).
    target: Option<String>,
    body: Vec<u8>,
}

impl Seen {
    /// The `Action` of an awsQuery request (ELBv2).
    fn action(&self) -> Option<&str> {
        std::str::from_utf8(&self.body)
            .ok()?
            .split('&')
            .find_map(|kv| kv.strip_prefix("Action="))
    }

    fn body_contains(&self, needle: &str) -> bool {
        self.body
            .windows(needle.len())
            .any(|w| w == needle.as_bytes())
    }
}

/// An HTTP answer: status, content type, extra headers, body.
struct Reply {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn xml(body: &str) -> Self {
        Self {
            status: 200,
            headers: vec![("content-type", "text/xml".into())],
            body: body.as_bytes().to_vec(),
        }
    }

    fn json(status: u16, body: &str) -> Self {
        Self {
            status,
            headers: vec![("content-type", "application/x-amz-json-1.1".into())],
            body: body.as_bytes().to_vec(),
        }
    }

    fn cbor(value: &Cbor) -> Self {
        let mut body = Vec::new();
        value.encode(&mut body);
        Self {
            status: 200,
            headers: vec![
                ("content-type", "application/cbor".into()),
                ("smithy-protocol", "rpc-v2-cbor".into()),
            ],
            body,
        }
    }

    fn header(mut self, name: &'static str, value: &str) -> Self {
        self.headers.push((name, value.to_owned()));
        self
    }
}

type Route = dyn Fn(&Seen) -> Reply + Send + Sync;

/// A fake HTTP connector: every request is answered by `route`, and kept in `seen`.
/// A request `route` does not expect panics (the test fails naming it).
#[derive(Clone)]
struct Canned {
    route: Arc<Route>,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl fmt::Debug for Canned {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Canned")
    }
}

impl Canned {
    fn new(route: impl Fn(&Seen) -> Reply + Send + Sync + 'static) -> Self {
        Self {
            route: Arc::new(route),
            seen: Arc::new(Mutex::new(Vec::new())),
        }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// An adapter whose every client (any region, any service) talks to this connector,
    /// with fivexx's own timeouts and retries.
    async fn sdk(&self) -> AwsSdk {
        let connector = self.clone();
        let http = http_client_fn(move |_, _| SharedHttpConnector::new(connector.clone()));
        let config = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(REGION))
            .credentials_provider(Credentials::new("test", "test", None, None, "test"))
            .http_client(http)
            .timeout_config(fivexx::evidence::sdk::timeout_config())
            .retry_config(fivexx::evidence::sdk::retry_config())
            .load()
            .await;
        AwsSdk::new(config)
    }
}

impl HttpConnector for Canned {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let seen = Seen {
            uri: request.uri().to_owned(),
            target: request.headers().get("x-amz-target").map(str::to_owned),
            body: request.body().bytes().unwrap_or_default().to_vec(),
        };
        self.seen.lock().unwrap().push(seen.clone());
        let reply = (self.route)(&seen);
        let mut response = HttpResponse::new(
            StatusCode::try_from(reply.status).unwrap(),
            SdkBody::from(reply.body),
        );
        for (k, v) in reply.headers {
            response.headers_mut().insert(k, v);
        }
        HttpConnectorFuture::ready(Ok(response))
    }
}

fn unexpected(seen: &Seen) -> Reply {
    panic!(
        "unexpected request: {} {:?} {:?}",
        seen.uri,
        seen.target,
        String::from_utf8_lossy(&seen.body)
    )
}

// ------------------------------------------------------------------------ CBOR, by hand

/// The few CBOR items a `GetMetricData` answer needs (RFC 8949).
enum Cbor {
    Map(Vec<(&'static str, Cbor)>),
    Array(Vec<Cbor>),
    Text(String),
    Float(f64),
    /// Tag 1 (epoch seconds), as Smithy RPCv2 CBOR writes timestamps.
    Time(DateTime<Utc>),
}

impl Cbor {
    fn head(out: &mut Vec<u8>, major: u8, n: u64) {
        let m = major << 5;
        match n {
            0..=23 => out.push(m | n as u8),
            24..=0xff => out.extend([m | 24, n as u8]),
            0x100..=0xffff => {
                out.push(m | 25);
                out.extend((n as u16).to_be_bytes());
            }
            0x1_0000..=0xffff_ffff => {
                out.push(m | 26);
                out.extend((n as u32).to_be_bytes());
            }
            _ => {
                out.push(m | 27);
                out.extend(n.to_be_bytes());
            }
        }
    }

    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Cbor::Map(pairs) => {
                Self::head(out, 5, pairs.len() as u64);
                for (k, v) in pairs {
                    Cbor::Text((*k).to_owned()).encode(out);
                    v.encode(out);
                }
            }
            Cbor::Array(items) => {
                Self::head(out, 4, items.len() as u64);
                for item in items {
                    item.encode(out);
                }
            }
            Cbor::Text(s) => {
                Self::head(out, 3, s.len() as u64);
                out.extend(s.as_bytes());
            }
            Cbor::Float(f) => {
                out.push(0xfb);
                out.extend(f.to_be_bytes());
            }
            Cbor::Time(t) => {
                Self::head(out, 6, 1);
                Self::head(out, 0, u64::try_from(t.timestamp()).unwrap());
            }
        }
    }
}

/// One `MetricDataResult`.
fn result(id: &str, points: &[(DateTime<Utc>, f64)]) -> Cbor {
    Cbor::Map(vec![
        ("Id", Cbor::Text(id.into())),
        ("Label", Cbor::Text(format!("label {id}"))),
        (
            "Timestamps",
            Cbor::Array(points.iter().map(|(t, _)| Cbor::Time(*t)).collect()),
        ),
        (
            "Values",
            Cbor::Array(points.iter().map(|(_, v)| Cbor::Float(*v)).collect()),
        ),
        ("StatusCode", Cbor::Text("Complete".into())),
    ])
}

fn metric_page(results: Vec<Cbor>, next_token: Option<&str>) -> Cbor {
    let mut pairs = vec![("MetricDataResults", Cbor::Array(results))];
    if let Some(t) = next_token {
        pairs.push(("NextToken", Cbor::Text(t.into())));
    }
    Cbor::Map(pairs)
}

fn is_get_metric_data(seen: &Seen) -> bool {
    seen.uri
        .ends_with("/service/GraniteServiceVersion20100801/operation/GetMetricData")
}

// ------------------------------------------------------------------------ canned answers

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// An awsQuery (ELBv2) answer for `action` with `result` inside its `...Result` element.
fn elb_xml(action: &str, result: &str) -> Reply {
    Reply::xml(&format!(
        r#"<{action}Response xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/">
  <{action}Result>{result}</{action}Result>
  <ResponseMetadata><RequestId>0a1b2c3d-test</RequestId></ResponseMetadata>
</{action}Response>"#
    ))
}

const TARGET_HEALTH: &str = r#"
<TargetHealthDescriptions>
  <member>
    <Target><Id>i-0aaa1111</Id><Port>8080</Port><AvailabilityZone>us-east-1a</AvailabilityZone></Target>
    <HealthCheckPort>8080</HealthCheckPort>
    <TargetHealth>
      <State>unhealthy</State>
      <Reason>Target.Timeout</Reason>
      <Description>Request timed out</Description>
    </TargetHealth>
  </member>
  <member>
    <Target><Id>i-0bbb2222</Id><Port>8080</Port><AvailabilityZone>us-east-1b</AvailabilityZone></Target>
    <HealthCheckPort>8080</HealthCheckPort>
    <TargetHealth>
      <State>initial</State>
      <Reason>Elb.InitialHealthChecking</Reason>
      <Description>Initial health checks in progress</Description>
    </TargetHealth>
  </member>
</TargetHealthDescriptions>"#;

/// The ELBv2 side of one ALB `web`: one HTTPS listener with `CERT_ARN` (its only
/// certificate), one target group.
fn elb_answer(seen: &Seen) -> Reply {
    let action = seen.action().unwrap_or_default().to_owned();
    let result = match action.as_str() {
        "DescribeLoadBalancers" => format!(
            r#"<LoadBalancers><member>
  <LoadBalancerArn>{LB_ARN}</LoadBalancerArn>
  <DNSName>web-1234567890.us-east-1.elb.amazonaws.com</DNSName>
  <CanonicalHostedZoneId>Z35SXDOTRQ7X7K</CanonicalHostedZoneId>
  <LoadBalancerName>web</LoadBalancerName>
  <Scheme>internet-facing</Scheme>
  <VpcId>vpc-0abc</VpcId>
  <State><Code>active</Code></State>
  <Type>application</Type>
  <SecurityGroups><member>sg-1</member></SecurityGroups>
  <IpAddressType>ipv4</IpAddressType>
</member></LoadBalancers>"#
        ),
        "DescribeLoadBalancerAttributes" => r#"<Attributes>
  <member><Key>idle_timeout.timeout_seconds</Key><Value>60</Value></member>
</Attributes>"#
            .to_owned(),
        "DescribeListeners" => format!(
            r#"<Listeners><member>
  <ListenerArn>{LISTENER_ARN}</ListenerArn>
  <LoadBalancerArn>{LB_ARN}</LoadBalancerArn>
  <Port>443</Port>
  <Protocol>HTTPS</Protocol>
  <SslPolicy>ELBSecurityPolicy-TLS13-1-2-2021-06</SslPolicy>
  <Certificates><member><CertificateArn>{CERT_ARN}</CertificateArn></member></Certificates>
  <DefaultActions><member><Type>forward</Type><TargetGroupArn>{TG_ARN}</TargetGroupArn></member></DefaultActions>
</member></Listeners>"#
        ),
        "DescribeRules" => format!(
            r#"<Rules><member>
  <RuleArn>{LISTENER_ARN}/default</RuleArn>
  <Priority>default</Priority>
  <IsDefault>true</IsDefault>
  <Actions><member><Type>forward</Type><TargetGroupArn>{TG_ARN}</TargetGroupArn></member></Actions>
</member></Rules>"#
        ),
        "DescribeListenerCertificates" => format!(
            r#"<Certificates><member>
  <CertificateArn>{CERT_ARN}</CertificateArn>
  <IsDefault>true</IsDefault>
</member></Certificates>"#
        ),
        "DescribeTargetGroups" => format!(
            r#"<TargetGroups><member>
  <TargetGroupArn>{TG_ARN}</TargetGroupArn>
  <TargetGroupName>web-tg</TargetGroupName>
  <Protocol>HTTP</Protocol>
  <Port>8080</Port>
  <TargetType>instance</TargetType>
  <HealthCheckPath>/health</HealthCheckPath>
  <HealthCheckTimeoutSeconds>5</HealthCheckTimeoutSeconds>
  <HealthCheckIntervalSeconds>30</HealthCheckIntervalSeconds>
  <Matcher><HttpCode>200</HttpCode></Matcher>
  <LoadBalancerArns><member>{LB_ARN}</member></LoadBalancerArns>
</member></TargetGroups>"#
        ),
        "DescribeTargetGroupAttributes" => r#"<Attributes>
  <member><Key>deregistration_delay.timeout_seconds</Key><Value>300</Value></member>
</Attributes>"#
            .to_owned(),
        "DescribeTargetHealth" => TARGET_HEALTH.to_owned(),
        _ => return unexpected(seen),
    };
    elb_xml(&action, &result)
}

/// ACM's answer when the caller may not describe certificates.
fn access_denied() -> Reply {
    Reply::json(
        400,
        r#"{"__type":"AccessDeniedException","message":"User: arn:aws:sts::123456789012:assumed-role/fivexx/fivexx is not authorized to perform: acm:DescribeCertificate"}"#,
    )
    .header("x-amzn-requestid", "4e5f-test")
}

fn is_describe_certificate(seen: &Seen) -> bool {
    seen.target.as_deref() == Some("CertificateManager.DescribeCertificate")
}

// ------------------------------------------------------------------------ tests

/// Covers `GetMetricData` through `AwsSdk` through the real aws-sdk-cloudwatch client and its
/// RPCv2 CBOR (de)serializers: two queries (`m0`, `m1`), answered over two pages (a
/// `NextToken` on the first), results out of query order and timestamps out of time order.
/// The series come back in query order with the pages merged, and both pages are counted.
/// Moto cannot serve this: it answers RPCv2 CBOR requests with 404 (`docs/decisions.md`).
#[tokio::test]
async fn get_metric_data_merges_pages_in_query_order() {
    let (t0, t1, t2) = (
        t("2026-11-22T12:30:00Z"),
        t("2026-11-22T12:31:00Z"),
        t("2026-11-22T12:32:00Z"),
    );
    let canned = Canned::new(move |seen| {
        if !is_get_metric_data(seen) {
            return unexpected(seen);
        }
        if seen.body_contains("page-2") {
            Reply::cbor(&metric_page(
                vec![
                    result("m0", &[(t2, 11.0)]),
                    result("m1", &[(t2, 0.75), (t0, 0.5)]),
                ],
                None,
            ))
        } else {
            Reply::cbor(&metric_page(
                vec![
                    result("m1", &[(t1, 0.25)]),
                    result("m0", &[(t1, 7.0), (t0, 3.0)]),
                ],
                Some("page-2"),
            ))
        }
    });
    let sdk = canned.sdk().await;
    let lb = [("LoadBalancer", "app/web/f3b962d72ac3e219")];
    let queries = vec![
        MetricQuery::new(
            REGION,
            "AWS/ApplicationELB",
            "HTTPCode_ELB_5XX_Count",
            &lb,
            "Sum",
        ),
        MetricQuery::new(
            REGION,
            "AWS/ApplicationELB",
            "TargetResponseTime",
            &lb,
            "p99",
        ),
    ];
    let window = Window {
        start: t("2026-11-22T10:37:00Z"),
        end: t("2026-11-22T12:37:00Z"),
    };

    let series = sdk
        .call::<GetMetricData>(REGION, &MetricRequest { queries, window })
        .await
        .unwrap();

    assert_eq!(series.len(), 2);
    assert_eq!(series[0].points, vec![(t0, 3.0), (t1, 7.0), (t2, 11.0)]);
    assert_eq!(series[1].points, vec![(t0, 0.5), (t1, 0.25), (t2, 0.75)]);
    assert_eq!(sdk.api_calls(), 2);
    let seen = canned.seen();
    assert_eq!(seen.len(), 2);
    assert!(
        seen.iter()
            .all(|s| s.body_contains("m0") && s.body_contains("m1") && s.body_contains("p99")),
        "every page asks for both queries"
    );
    assert!(!seen[0].body_contains("page-2"));
    assert!(seen[1].body_contains("page-2"), "the token is sent back");
    assert!(
        seen[0]
            .uri
            .starts_with("https://monitoring.us-east-1.amazonaws.com")
    );
}

/// Covers a CloudWatch error in RPCv2 CBOR: it becomes a `SourceError` with the AWS code.
#[tokio::test]
async fn get_metric_data_error_keeps_its_code() {
    let canned = Canned::new(|seen| {
        if !is_get_metric_data(seen) {
            return unexpected(seen);
        }
        let mut body = Vec::new();
        Cbor::Map(vec![
            ("__type", Cbor::Text("InvalidNextToken".into())),
            ("message", Cbor::Text("the token is stale".into())),
        ])
        .encode(&mut body);
        Reply {
            status: 400,
            headers: vec![
                ("content-type", "application/cbor".into()),
                ("smithy-protocol", "rpc-v2-cbor".into()),
            ],
            body,
        }
    });
    let sdk = canned.sdk().await;
    let q = MetricQuery::new(
        REGION,
        "AWS/CloudFront",
        "Requests",
        &[("DistributionId", "E1"), ("Region", "Global")],
        "Sum",
    );
    let window = Window {
        start: t("2026-11-22T10:37:00Z"),
        end: t("2026-11-22T12:37:00Z"),
    };
    let err = sdk
        .call::<GetMetricData>(
            REGION,
            &MetricRequest {
                queries: vec![q],
                window,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.code, "InvalidNextToken");
    assert_eq!(err.message, "the token is stale");
}

/// Covers target health states moto never produces: `unhealthy` / `Target.Timeout` and
/// `initial` / `Elb.InitialHealthChecking` convert with state, reason and description.
#[tokio::test]
async fn target_health_unhealthy_and_initial() {
    let canned = Canned::new(|seen| match seen.action() {
        Some("DescribeTargetHealth") => elb_answer(seen),
        _ => unexpected(seen),
    });
    let sdk = canned.sdk().await;

    let health = sdk
        .call::<DescribeTargetHealth>(REGION, TG_ARN)
        .await
        .unwrap();

    assert_eq!(health.len(), 2);
    let (a, b) = (&health[0], &health[1]);
    assert_eq!(a.target.id, "i-0aaa1111");
    assert_eq!(a.target.port, Some(8080));
    assert_eq!(a.target.availability_zone.as_deref(), Some("us-east-1a"));
    assert_eq!(a.health_check_port.as_deref(), Some("8080"));
    assert_eq!(a.target_health.state.as_deref(), Some("unhealthy"));
    assert_eq!(a.target_health.reason.as_deref(), Some("Target.Timeout"));
    assert_eq!(
        a.target_health.description.as_deref(),
        Some("Request timed out")
    );
    assert_eq!(b.target.id, "i-0bbb2222");
    assert_eq!(b.target_health.state.as_deref(), Some("initial"));
    assert_eq!(
        b.target_health.reason.as_deref(),
        Some("Elb.InitialHealthChecking")
    );
    assert_eq!(
        b.target_health.description.as_deref(),
        Some("Initial health checks in progress")
    );
    let seen = canned.seen();
    assert!(seen[0].body_contains("TargetGroupArn=arn%3Aaws%3Aelasticloadbalancing"));
}

/// Covers ACM `AccessDeniedException`: the adapter turns it into
/// `SourceError { code: "AccessDeniedException", .. }`, and a whole gathering (every other
/// call answered) turns it into exactly one gap `acm:DescribeCertificate` naming the
/// certificate, while the rest of the evidence is there. The recorder writes it under
/// `Faults`, so a replay has the same gap.
#[tokio::test]
async fn acm_access_denied_is_a_gap() {
    let canned = Canned::new(|seen| {
        if is_describe_certificate(seen) {
            access_denied()
        } else if is_get_metric_data(seen) {
            Reply::cbor(&metric_page(Vec::new(), None))
        } else if seen.action().is_some() {
            elb_answer(seen)
        } else {
            unexpected(seen)
        }
    });
    let sdk = canned.sdk().await;

    let err = sdk
        .call::<DescribeCertificate>(REGION, CERT_ARN)
        .await
        .unwrap_err();
    assert_eq!(err.code, "AccessDeniedException");
    assert!(err.message.contains("not authorized"), "{}", err.message);
    assert!(!err.is_not_found());

    let now = t("2026-11-22T12:37:00Z");
    let recorder = Recorder::new(&sdk, REGION, Some(ACCOUNT.into()), now);
    let scope = Scope {
        albs: vec![AlbRef {
            region: REGION.into(),
            arn: LB_ARN.into(),
            target_groups: Vec::new(),
        }],
        ..Scope::default()
    };
    let opts = GatherOptions {
        now,
        deadline: tokio::time::Instant::now() + Duration::from_secs(30),
        home_region: REGION.into(),
        alarm_queries: Vec::new(),
        renewal_horizon: chrono::Duration::days(fivexx::rules::cert::RENEWAL_HORIZON_DAYS),
    };
    let evidence = gather(&recorder, &scope, &opts).await;

    assert_eq!(evidence.gaps.len(), 1, "{:?}", evidence.gaps);
    let gap = &evidence.gaps[0];
    assert_eq!(gap.source, "acm:DescribeCertificate");
    assert!(
        gap.reason.starts_with("AccessDeniedException"),
        "{}",
        gap.reason
    );
    assert_eq!(gap.resource.as_deref(), Some(CERT_ARN));
    let alb = &evidence.albs[0];
    assert!(alb.load_balancer.is_some());
    assert!(alb.certificates.is_empty());
    assert_eq!(alb.listeners.as_ref().map(Vec::len), Some(1));
    let tgs = alb.target_groups.as_deref().unwrap();
    assert_eq!(tgs[0].health.as_ref().map(Vec::len), Some(2));
    assert_eq!(evidence.stats.round_trips, 2);

    let world = recorder.world();
    let fault = world
        .errors
        .get("acm:DescribeCertificate")
        .and_then(|per_input| per_input.get(CERT_ARN))
        .expect("the denial is recorded for that certificate");
    assert_eq!(fault.code, "AccessDeniedException");
    assert!(
        world.faults.is_empty(),
        "a recording never fails a whole operation"
    );
    let replayed = gather(&world, &scope, &opts).await;
    assert_eq!(replayed.gaps, evidence.gaps);
}

/// Covers an EMAIL-validated, Amazon-issued certificate whose renewal waits for validation:
/// `ValidationMethod` and `RenewalSummary.RenewalStatus` come through (moto reports DNS for
/// every certificate and has no renewal summaries).
#[tokio::test]
async fn acm_email_validation_pending_renewal() {
    let canned = Canned::new(|seen| {
        if !is_describe_certificate(seen) {
            return unexpected(seen);
        }
        Reply::json(
            200,
            &format!(
                r#"{{"Certificate": {{
  "CertificateArn": "{CERT_ARN}",
  "DomainName": "www.example.com",
  "SubjectAlternativeNames": ["www.example.com", "example.com"],
  "Type": "AMAZON_ISSUED",
  "Status": "ISSUED",
  "Issuer": "Amazon",
  "NotBefore": 1763769600,
  "NotAfter": 1796083200,
  "RenewalEligibility": "ELIGIBLE",
  "RenewalSummary": {{
    "RenewalStatus": "PENDING_VALIDATION",
    "RenewalStatusReason": "NO_AVAILABLE_CONTACTS",
    "DomainValidationOptions": [
      {{"DomainName": "www.example.com", "ValidationMethod": "EMAIL", "ValidationStatus": "PENDING_VALIDATION",
        "ValidationDomain": "example.com", "ValidationEmails": ["admin@example.com"]}}
    ],
    "UpdatedAt": 1795305600
  }},
  "DomainValidationOptions": [
    {{"DomainName": "www.example.com", "ValidationDomain": "example.com", "ValidationStatus": "SUCCESS",
      "ValidationMethod": "EMAIL", "ValidationEmails": ["admin@example.com"]}},
    {{"DomainName": "example.com", "ValidationDomain": "example.com", "ValidationStatus": "SUCCESS",
      "ValidationMethod": "EMAIL", "ValidationEmails": ["admin@example.com"]}}
  ],
  "InUseBy": ["{LB_ARN}"]
}}}}"#
            ),
        )
    });
    let sdk = canned.sdk().await;

    let cert = sdk
        .call::<DescribeCertificate>(REGION, CERT_ARN)
        .await
        .unwrap();

    assert_eq!(cert.certificate_arn, CERT_ARN);
    assert_eq!(cert.kind.as_deref(), Some("AMAZON_ISSUED"));
    assert_eq!(cert.status.as_deref(), Some("ISSUED"));
    assert_eq!(cert.issuer.as_deref(), Some("Amazon"));
    assert_eq!(cert.not_before, Some(t("2025-11-22T00:00:00Z")));
    assert_eq!(cert.not_after, Some(t("2026-12-01T00:00:00Z")));
    assert_eq!(cert.renewal_eligibility.as_deref(), Some("ELIGIBLE"));
    let renewal = cert.renewal_summary.as_ref().expect("a renewal summary");
    assert_eq!(
        renewal.renewal_status.as_deref(),
        Some("PENDING_VALIDATION")
    );
    assert_eq!(
        renewal.renewal_status_reason.as_deref(),
        Some("NO_AVAILABLE_CONTACTS")
    );
    assert_eq!(renewal.updated_at, Some(t("2026-11-22T00:00:00Z")));
    assert_eq!(cert.domain_validation_options.len(), 2);
    for d in &cert.domain_validation_options {
        assert_eq!(d.validation_method.as_deref(), Some("EMAIL"));
        assert_eq!(d.validation_status.as_deref(), Some("SUCCESS"));
        assert_eq!(d.validation_domain.as_deref(), Some("example.com"));
    }
    assert_eq!(
        cert.subject_alternative_names,
        vec!["www.example.com", "example.com"]
    );
    assert_eq!(cert.in_use_by, vec![LB_ARN]);
}

/// Covers CloudFront `GetOriginRequestPolicy` (REST-XML, `ETag` header), which moto 5.2.5
/// does not implement: the header behaviour and its header list come through.
#[tokio::test]
async fn cloudfront_origin_request_policy() {
    const ID: &str = "b689b0a8-53d0-40ab-baf2-68738e2966ac";
    let canned = Canned::new(|seen| {
        if !seen
            .uri
            .contains(&format!("/2020-05-31/origin-request-policy/{ID}"))
        {
            return unexpected(seen);
        }
        Reply::xml(&format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<OriginRequestPolicy xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/">
  <Id>{ID}</Id>
  <LastModifiedTime>2026-11-01T08:00:00Z</LastModifiedTime>
  <OriginRequestPolicyConfig>
    <Name>forward-host</Name>
    <HeadersConfig>
      <HeaderBehavior>whitelist</HeaderBehavior>
      <Headers><Quantity>2</Quantity><Items><Name>Host</Name><Name>CloudFront-Viewer-Country</Name></Items></Headers>
    </HeadersConfig>
    <CookiesConfig><CookieBehavior>none</CookieBehavior></CookiesConfig>
    <QueryStringsConfig><QueryStringBehavior>all</QueryStringBehavior></QueryStringsConfig>
  </OriginRequestPolicyConfig>
</OriginRequestPolicy>"#
        ))
        .header("etag", "E2QWRUHEXAMPLE")
    });
    let sdk = canned.sdk().await;

    let policy = sdk
        .call::<GetOriginRequestPolicy>("us-east-1", ID)
        .await
        .unwrap();

    assert_eq!(policy.etag.as_deref(), Some("E2QWRUHEXAMPLE"));
    let p = &policy.origin_request_policy;
    assert_eq!(p.id, ID);
    assert_eq!(p.origin_request_policy_config.name, "forward-host");
    let headers = &p.origin_request_policy_config.headers_config;
    assert_eq!(headers.header_behavior, "whitelist");
    let items = headers.headers.as_ref().expect("a header list");
    assert_eq!(items.quantity, 2);
    assert_eq!(items.items, vec!["Host", "CloudFront-Viewer-Country"]);
    assert!(
        canned.seen()[0]
            .uri
            .starts_with("https://cloudfront.amazonaws.com/")
    );
}

/// Covers `ListCertificates` through `AwsSdk` with a real ACM answer's shape (moto lists neither
/// `SubjectAlternativeNameSummaries` nor `HasAdditionalSubjectAlternativeNames`): every key
/// type is asked for, at most 1,000 certificates, and a summary's names are complete only when
/// listed and not flagged as cut short.
#[tokio::test]
async fn acm_list_certificates_summaries() {
    let canned = Canned::new(|seen| {
        if seen.target.as_deref() != Some("CertificateManager.ListCertificates") {
            return unexpected(seen);
        }
        let body = String::from_utf8_lossy(&seen.body);
        assert!(body.contains(r#""MaxItems":1000"#), "{body}");
        for key in ["RSA_2048", "EC_prime256v1", "EC_secp384r1"] {
            assert!(body.contains(key), "{key} asked for: {body}");
        }
        Reply::json(
            200,
            &format!(
                r#"{{"CertificateSummaryList": [
  {{"CertificateArn": "{CERT_ARN}", "DomainName": "www.example.com",
    "SubjectAlternativeNameSummaries": ["www.example.com", "example.com"],
    "HasAdditionalSubjectAlternativeNames": false, "Status": "ISSUED", "Type": "AMAZON_ISSUED",
    "KeyAlgorithm": "EC_prime256v1", "InUse": true, "RenewalEligibility": "ELIGIBLE",
    "NotBefore": 1763769600, "NotAfter": 1796083200}},
  {{"CertificateArn": "{CERT_ARN}-many", "DomainName": "a.example.com",
    "SubjectAlternativeNameSummaries": ["a.example.com"],
    "HasAdditionalSubjectAlternativeNames": true, "Status": "ISSUED", "Type": "IMPORTED"}},
  {{"CertificateArn": "{CERT_ARN}-none", "DomainName": "b.example.com", "Status": "EXPIRED"}}
]}}"#
            ),
        )
    });
    let sdk = canned.sdk().await;

    let list = sdk.call::<ListCertificates>(REGION, &()).await.unwrap();

    assert_eq!(list.len(), 3);
    let c = &list[0];
    assert_eq!(c.detail.certificate_arn, CERT_ARN);
    assert_eq!(
        c.detail.subject_alternative_names,
        ["www.example.com", "example.com"]
    );
    assert!(c.names_complete);
    assert_eq!(c.detail.kind.as_deref(), Some("AMAZON_ISSUED"));
    assert_eq!(c.detail.status.as_deref(), Some("ISSUED"));
    assert_eq!(c.detail.renewal_eligibility.as_deref(), Some("ELIGIBLE"));
    assert_eq!(c.detail.not_before, Some(t("2025-11-22T00:00:00Z")));
    assert_eq!(c.detail.not_after, Some(t("2026-12-01T00:00:00Z")));
    assert!(!list[1].names_complete, "more names than listed");
    assert!(!list[2].names_complete, "no names listed");
    assert_eq!(list[2].detail.status.as_deref(), Some("EXPIRED"));
    assert_eq!(sdk.api_calls(), 1);
}

// ------------------------------------------------------------------------ Classic Load Balancer

/// A Classic (`elasticloadbalancing` 2012-06-01, awsQuery) answer for `action`.
fn clb_xml(action: &str, result: &str) -> Reply {
    Reply::xml(&format!(
        r#"<{action}Response xmlns="http://elasticloadbalancing.amazonaws.com/doc/2012-06-01/">
  <{action}Result>{result}</{action}Result>
  <ResponseMetadata><RequestId>5d6e-test</RequestId></ResponseMetadata>
</{action}Response>"#
    ))
}

/// One Classic load balancer `NAME` in us-east-1, as `DescribeLoadBalancers` lists it.
fn clb_member(name: &str) -> String {
    format!(
        r#"<member>
  <LoadBalancerName>{name}</LoadBalancerName>
  <DNSName>{name}-123.us-east-1.elb.amazonaws.com</DNSName>
  <CanonicalHostedZoneNameID>Z35SXDOTRQ7X7K</CanonicalHostedZoneNameID>
  <Scheme>internet-facing</Scheme>
  <VPCId>vpc-0abc</VPCId>
  <AvailabilityZones><member>us-east-1a</member></AvailabilityZones>
  <ListenerDescriptions><member>
    <Listener><Protocol>HTTPS</Protocol><LoadBalancerPort>443</LoadBalancerPort><InstanceProtocol>HTTP</InstanceProtocol><InstancePort>8080</InstancePort><SSLCertificateId>{CERT_ARN}</SSLCertificateId></Listener>
    <PolicyNames><member>ELBSecurityPolicy-2016-08</member></PolicyNames>
  </member></ListenerDescriptions>
  <HealthCheck><Target>HTTP:8080/health</Target><Interval>30</Interval><Timeout>5</Timeout><UnhealthyThreshold>2</UnhealthyThreshold><HealthyThreshold>10</HealthyThreshold></HealthCheck>
  <Instances><member><InstanceId>i-0aaa1111</InstanceId></member></Instances>
  <CreatedTime>2019-03-01T10:00:00.000Z</CreatedTime>
</member>"#
    )
}

/// The `LoadBalancerNames.member.N` of a Classic `DescribeLoadBalancers` request.
fn clb_names_asked(seen: &Seen) -> Vec<String> {
    std::str::from_utf8(&seen.body)
        .unwrap()
        .split('&')
        .filter_map(|kv| kv.strip_prefix("LoadBalancerNames.member."))
        .filter_map(|kv| kv.split_once('=').map(|(_, v)| v.to_owned()))
        .collect()
}

fn is_classic(seen: &Seen) -> bool {
    seen.body_contains("Version=2012-06-01")
}

/// Covers the Classic whole-region list through aws-sdk-elasticloadbalancing: two pages (a
/// `NextMarker` on the first, sent back as `Marker`), merged in order and both counted; every
/// field of a description converts.
#[tokio::test]
async fn classic_load_balancers_of_a_region_over_two_pages() {
    let canned = Canned::new(|seen| {
        if !is_classic(seen) || seen.action() != Some("DescribeLoadBalancers") {
            return unexpected(seen);
        }
        assert!(clb_names_asked(seen).is_empty(), "a list names nothing");
        if seen.body_contains("Marker=page2") {
            clb_xml(
                "DescribeLoadBalancers",
                &format!(
                    "<LoadBalancerDescriptions>{}</LoadBalancerDescriptions><NextMarker></NextMarker>",
                    clb_member("c")
                ),
            )
        } else {
            clb_xml(
                "DescribeLoadBalancers",
                &format!(
                    "<LoadBalancerDescriptions>{}{}</LoadBalancerDescriptions><NextMarker>page2</NextMarker>",
                    clb_member("a"),
                    clb_member("b")
                ),
            )
        }
    });
    let sdk = canned.sdk().await;

    let lbs = sdk
        .call::<DescribeClassicLoadBalancers>(REGION, &ClassicLoadBalancers::All)
        .await
        .unwrap();

    let names: Vec<&str> = lbs.iter().map(|l| l.load_balancer_name.as_str()).collect();
    assert_eq!(names, ["a", "b", "c"]);
    assert_eq!(sdk.api_calls(), 2);
    let seen = canned.seen();
    assert_eq!(seen.len(), 2);
    assert!(!seen[0].body_contains("Marker="));
    assert!(seen[1].body_contains("Marker=page2"));
    let a = &lbs[0];
    assert_eq!(
        a.dns_name.as_deref(),
        Some("a-123.us-east-1.elb.amazonaws.com")
    );
    assert_eq!(
        a.canonical_hosted_zone_name_id.as_deref(),
        Some("Z35SXDOTRQ7X7K")
    );
    assert_eq!(a.scheme.as_deref(), Some("internet-facing"));
    assert_eq!(a.vpc_id.as_deref(), Some("vpc-0abc"));
    assert_eq!(a.availability_zones, ["us-east-1a"]);
    assert_eq!(a.created_time, Some(t("2019-03-01T10:00:00Z")));
    let listener = &a.listener_descriptions[0];
    assert_eq!(listener.listener.protocol.as_deref(), Some("HTTPS"));
    assert_eq!(listener.listener.load_balancer_port, Some(443));
    assert_eq!(listener.listener.instance_protocol.as_deref(), Some("HTTP"));
    assert_eq!(listener.listener.instance_port, Some(8080));
    assert_eq!(
        listener.listener.ssl_certificate_id.as_deref(),
        Some(CERT_ARN)
    );
    assert_eq!(listener.policy_names, ["ELBSecurityPolicy-2016-08"]);
    let check = a.health_check.as_ref().unwrap();
    assert_eq!(check.target.as_deref(), Some("HTTP:8080/health"));
    assert_eq!(
        (
            check.interval,
            check.timeout,
            check.unhealthy_threshold,
            check.healthy_threshold
        ),
        (Some(30), Some(5), Some(2), Some(10))
    );
    assert_eq!(
        check.parsed_target().and_then(|t| t.path).as_deref(),
        Some("/health")
    );
    assert_eq!(a.instances[0].instance_id, "i-0aaa1111");
}

/// Covers Classic `DescribeLoadBalancers` by names: 25 names go as 20 and 5 (each request
/// counted), a repeated name is asked once, and `LoadBalancerNotFound` (what AWS sends; the
/// SDK's variant is `AccessPointNotFoundException`) keeps AWS's code and message.
#[tokio::test]
async fn classic_load_balancers_by_name() {
    let canned = Canned::new(|seen| {
        if !is_classic(seen) || seen.action() != Some("DescribeLoadBalancers") {
            return unexpected(seen);
        }
        let asked = clb_names_asked(seen);
        if asked.iter().any(|n| n == "gone") {
            return Reply {
                status: 400,
                headers: vec![("content-type", "text/xml".into())],
                body: br#"<ErrorResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2012-06-01/">
  <Error><Type>Sender</Type><Code>LoadBalancerNotFound</Code><Message>There is no ACTIVE Load Balancer named 'gone'</Message></Error>
  <RequestId>6e7f-test</RequestId>
</ErrorResponse>"#
                    .to_vec(),
            };
        }
        let members: String = asked.iter().map(|n| clb_member(n)).collect();
        clb_xml(
            "DescribeLoadBalancers",
            &format!("<LoadBalancerDescriptions>{members}</LoadBalancerDescriptions>"),
        )
    });
    let sdk = canned.sdk().await;

    let mut names: Vec<String> = (0..25).map(|i| format!("lb{i:02}")).collect();
    names.push("lb03".into());
    let lbs = sdk
        .call::<DescribeClassicLoadBalancers>(REGION, &ClassicLoadBalancers::Named(names))
        .await
        .unwrap();
    assert_eq!(lbs.len(), 25);
    assert_eq!(lbs[24].load_balancer_name, "lb24");
    let seen = canned.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(clb_names_asked(&seen[0]).len(), 20);
    assert_eq!(
        clb_names_asked(&seen[1]),
        ["lb20", "lb21", "lb22", "lb23", "lb24"]
    );
    assert_eq!(sdk.api_calls(), 2);

    let err = sdk
        .call::<DescribeClassicLoadBalancers>(
            REGION,
            &ClassicLoadBalancers::Named(vec!["lb00".into(), "gone".into()]),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code, "LoadBalancerNotFound");
    assert_eq!(err.message, "There is no ACTIVE Load Balancer named 'gone'");
    assert!(err.is_not_found());

    // No name: no request.
    let none = sdk
        .call::<DescribeClassicLoadBalancers>(REGION, &ClassicLoadBalancers::Named(Vec::new()))
        .await
        .unwrap();
    assert!(none.is_empty());
    assert_eq!(canned.seen().len(), 3);
}

/// Covers Classic `DescribeInstanceHealth` and `DescribeLoadBalancerAttributes`: states
/// moto does not give (`ReasonCode` `Instance` with AWS's description), and the attributes'
/// named fields.
#[tokio::test]
async fn classic_instance_health_and_attributes() {
    let canned = Canned::new(|seen| {
        if !is_classic(seen) || !seen.body_contains("LoadBalancerName=legacy") {
            return unexpected(seen);
        }
        match seen.action() {
            Some("DescribeInstanceHealth") => clb_xml(
                "DescribeInstanceHealth",
                r#"<InstanceStates>
  <member><InstanceId>i-0aaa1111</InstanceId><State>OutOfService</State><ReasonCode>Instance</ReasonCode><Description>Instance has failed at least the UnhealthyThreshold number of health checks consecutively.</Description></member>
  <member><InstanceId>i-0bbb2222</InstanceId><State>InService</State><ReasonCode>N/A</ReasonCode><Description>N/A</Description></member>
</InstanceStates>"#,
            ),
            Some("DescribeLoadBalancerAttributes") => clb_xml(
                "DescribeLoadBalancerAttributes",
                r#"<LoadBalancerAttributes>
  <ConnectionSettings><IdleTimeout>120</IdleTimeout></ConnectionSettings>
  <ConnectionDraining><Enabled>true</Enabled><Timeout>300</Timeout></ConnectionDraining>
  <CrossZoneLoadBalancing><Enabled>false</Enabled></CrossZoneLoadBalancing>
  <AccessLog><Enabled>false</Enabled></AccessLog>
</LoadBalancerAttributes>"#,
            ),
            _ => unexpected(seen),
        }
    });
    let sdk = canned.sdk().await;

    let health = sdk
        .call::<DescribeInstanceHealth>(REGION, "legacy")
        .await
        .unwrap();
    assert_eq!(health.len(), 2);
    assert_eq!(health[0].instance_id, "i-0aaa1111");
    assert_eq!(health[0].state.as_deref(), Some("OutOfService"));
    assert_eq!(health[0].reason_code.as_deref(), Some("Instance"));
    assert!(
        health[0]
            .description
            .as_deref()
            .is_some_and(|d| d.contains("UnhealthyThreshold"))
    );
    assert_eq!(health[1].state.as_deref(), Some("InService"));

    let attrs = sdk
        .call::<DescribeClassicLoadBalancerAttributes>(REGION, "legacy")
        .await
        .unwrap();
    assert_eq!(attrs.idle_timeout(), 120);
    let draining = attrs.connection_draining.as_ref().unwrap();
    assert_eq!(
        (draining.enabled, draining.timeout),
        (Some(true), Some(300))
    );
    assert_eq!(
        attrs.cross_zone_load_balancing.and_then(|c| c.enabled),
        Some(false)
    );
    assert_eq!(attrs.access_log.and_then(|c| c.enabled), Some(false));
    assert_eq!(sdk.api_calls(), 2);
}
