//! SDK-level tests of the AWS adapter (`fivexx::evidence::sdk::AwsSdk`) against moto server,
//! the AWS emulator: the real SDK clients seed moto, then gathering, triage and record/replay
//! run through the adapter exactly as in production, only the endpoint differs.
//!
//! Each test starts its own moto process (tests run in parallel threads) on a free
//! 127.0.0.1 port, behind the CloudWatch protocol shim (`scripts/cw_cbor_shim.py`, also on
//! loopback): aws-sdk-cloudwatch speaks Smithy RPCv2 CBOR, which moto 5.2.5 answers 404, and
//! the shim translates it to moto's awsJson protocol. See `support/moto.rs`. Nothing listens
//! beyond loopback. Metrics are seeded with `PutMetricData` through the same SDK client, at
//! whole minutes inside the triage window (`window_for(now)`); moto cannot compute percentile
//! statistics (a seeded `TargetResponseTime` would fail the whole `GetMetricData` on its
//! `p99` query), so none is seeded.
//!
//! What moto cannot do is covered in `aws_mocks.rs`: target health `unhealthy`/`initial`,
//! EMAIL validation and renewal summaries in ACM, access-denied errors, and CloudFront origin
//! request policies (moto 5.2.5 has no `GetOriginRequestPolicy`).

// Test code: failing loudly is the point (clippy.toml only covers #[test] bodies).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/live.rs"]
mod live;
#[path = "support/moto.rs"]
mod moto;

use std::collections::BTreeMap;
use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_acm::primitives::Blob;
use aws_sdk_cloudwatch::error::ProvideErrorMetadata;
use aws_sdk_cloudwatch::types as cw;
use aws_sdk_elasticloadbalancingv2::types as elb;
use chrono::{DateTime, SubsecRound, Utc};
use serde_json::{Value, json};

use fivexx::alarm::{self, Alarm};
use fivexx::evidence::Evidence;
use fivexx::evidence::acm::DescribeCertificate;
use fivexx::evidence::cloudwatch::{GetMetricData, MetricQuery, MetricRequest};
use fivexx::evidence::elb::attribute;
use fivexx::evidence::elb::{DescribeListenerCertificates, DescribeTargetGroupAttributes};
use fivexx::evidence::gather::{GatherOptions, gather, window_for};
use fivexx::evidence::port::Port;
use fivexx::evidence::record::Recorder;
use fivexx::evidence::sdk::AwsSdk;
use fivexx::evidence::world::World;
use fivexx::scope;
use fivexx::triage::{TriageOptions, triage};
use fivexx::verdict::{Status, Verdict};
use moto::MotoServer;

const ACCOUNT: &str = "123456789012";
const REGION: &str = "us-east-1";
/// Set on the load balancer; moto (like AWS) omits the attribute until it is set.
const IDLE_TIMEOUT: &str = "120";
/// The imported certificate expires this many days from today.
const CERT_DAYS: i64 = 20;

// ------------------------------------------------------------------------------- seeding

/// What `seed_alb` created.
struct SeededAlb {
    arn: String,
    dimension: String,
    dns_name: String,
    target_groups: Vec<String>,
    https_listener: String,
    http_listener: String,
    cert_arn: String,
    cert_not_after: DateTime<Utc>,
}

/// Imports a self-signed certificate into ACM; its ARN.
async fn import_certificate(acm: &aws_sdk_acm::Client, cert: &moto::SelfSigned) -> String {
    acm.import_certificate()
        .certificate(Blob::new(cert.cert_pem.as_bytes()))
        .private_key(Blob::new(cert.key_pem.as_bytes()))
        .send()
        .await
        .expect("ImportCertificate")
        .certificate_arn()
        .expect("a certificate ARN")
        .to_owned()
}

/// An ALB `web` in moto's default VPC: two IP target groups with two targets each, an HTTPS
/// listener (imported self-signed certificate) forwarding to the first group, an HTTP
/// listener forwarding to the second, and `idle_timeout.timeout_seconds` set.
async fn seed_alb(moto: &MotoServer, cfg: &SdkConfig, cert_days: i64) -> SeededAlb {
    let elbv2 = aws_sdk_elasticloadbalancingv2::Client::new(cfg);
    let acm = aws_sdk_acm::Client::new(cfg);
    let (vpc, subnets) = moto.default_subnets();

    let lb = elbv2
        .create_load_balancer()
        .name("web")
        .set_subnets(Some(subnets))
        .scheme(elb::LoadBalancerSchemeEnum::InternetFacing)
        .r#type(elb::LoadBalancerTypeEnum::Application)
        .send()
        .await
        .expect("CreateLoadBalancer");
    let lb = lb.load_balancers().first().expect("a load balancer");
    let arn = lb.load_balancer_arn().expect("ARN").to_owned();
    let dns_name = lb.dns_name().expect("DNS name").to_owned();
    let dimension = arn
        .split_once(":loadbalancer/")
        .map(|(_, d)| d.to_owned())
        .expect("a load balancer ARN");

    elbv2
        .modify_load_balancer_attributes()
        .load_balancer_arn(&arn)
        .attributes(
            elb::LoadBalancerAttribute::builder()
                .key("idle_timeout.timeout_seconds")
                .value(IDLE_TIMEOUT)
                .build(),
        )
        .send()
        .await
        .expect("ModifyLoadBalancerAttributes");

    let mut target_groups = Vec::new();
    for (i, name) in ["web-a", "web-b"].iter().enumerate() {
        let tg = elbv2
            .create_target_group()
            .name(*name)
            .protocol(elb::ProtocolEnum::Http)
            .port(8080)
            .vpc_id(&vpc)
            .target_type(elb::TargetTypeEnum::Ip)
            .health_check_path("/health")
            .send()
            .await
            .expect("CreateTargetGroup");
        let tg_arn = tg
            .target_groups()
            .first()
            .and_then(|t| t.target_group_arn())
            .expect("a target group ARN")
            .to_owned();
        elbv2
            .register_targets()
            .target_group_arn(&tg_arn)
            .targets(
                elb::TargetDescription::builder()
                    .id(format!("172.31.{i}.10"))
                    .port(8080)
                    .build(),
            )
            .targets(
                elb::TargetDescription::builder()
                    .id(format!("172.31.{i}.11"))
                    .port(8080)
                    .build(),
            )
            .send()
            .await
            .expect("RegisterTargets");
        target_groups.push(tg_arn);
    }

    let cert = moto::self_signed("www.example.com", cert_days);
    let cert_arn = import_certificate(&acm, &cert).await;

    let forward = |tg: &str| {
        elb::Action::builder()
            .r#type(elb::ActionTypeEnum::Forward)
            .target_group_arn(tg)
            .build()
    };
    let https_listener = elbv2
        .create_listener()
        .load_balancer_arn(&arn)
        .protocol(elb::ProtocolEnum::Https)
        .port(443)
        .ssl_policy("ELBSecurityPolicy-TLS13-1-2-2021-06")
        .certificates(
            elb::Certificate::builder()
                .certificate_arn(&cert_arn)
                .build(),
        )
        .default_actions(forward(&target_groups[0]))
        .send()
        .await
        .expect("CreateListener HTTPS")
        .listeners()
        .first()
        .and_then(|l| l.listener_arn())
        .expect("a listener ARN")
        .to_owned();
    let http_listener = elbv2
        .create_listener()
        .load_balancer_arn(&arn)
        .protocol(elb::ProtocolEnum::Http)
        .port(80)
        .default_actions(forward(&target_groups[1]))
        .send()
        .await
        .expect("CreateListener HTTP")
        .listeners()
        .first()
        .and_then(|l| l.listener_arn())
        .expect("a listener ARN")
        .to_owned();

    SeededAlb {
        arn,
        dimension,
        dns_name,
        target_groups,
        https_listener,
        http_listener,
        cert_arn,
        cert_not_after: cert.not_after,
    }
}

/// A CloudFront distribution with one custom origin `alb` at `domain`, https-only.
async fn seed_distribution(cfg: &SdkConfig, domain: &str) -> String {
    use aws_sdk_cloudfront::types as cf;
    let cloudfront = aws_sdk_cloudfront::Client::new(cfg);
    let origin = cf::Origin::builder()
        .id("alb")
        .domain_name(domain)
        .custom_origin_config(
            cf::CustomOriginConfig::builder()
                .http_port(80)
                .https_port(443)
                .origin_protocol_policy(cf::OriginProtocolPolicy::HttpsOnly)
                .origin_ssl_protocols(
                    cf::OriginSslProtocols::builder()
                        .quantity(1)
                        .items(cf::SslProtocol::TlSv12)
                        .build()
                        .expect("OriginSslProtocols"),
                )
                .origin_read_timeout(30)
                .origin_keepalive_timeout(5)
                .build()
                .expect("CustomOriginConfig"),
        )
        .build()
        .expect("Origin");
    let config = cf::DistributionConfig::builder()
        .caller_reference(format!("fivexx-{domain}"))
        .comment("fivexx test")
        .enabled(true)
        .origins(
            cf::Origins::builder()
                .quantity(1)
                .items(origin)
                .build()
                .expect("Origins"),
        )
        .default_cache_behavior(
            cf::DefaultCacheBehavior::builder()
                .target_origin_id("alb")
                .viewer_protocol_policy(cf::ViewerProtocolPolicy::RedirectToHttps)
                // Managed-CachingDisabled
                .cache_policy_id("4135ea2d-6df8-44a3-9df3-4b5a84be39ad")
                .build()
                .expect("DefaultCacheBehavior"),
        )
        .build()
        .expect("DistributionConfig");
    cloudfront
        .create_distribution()
        .distribution_config(config)
        .send()
        .await
        .expect("CreateDistribution")
        .distribution()
        .expect("a distribution")
        .id()
        .to_owned()
}

/// A public hosted zone `zone` with an alias A record `name` to the load balancer `dns_name`
/// (as the console writes it: `dualstack.` in front).
async fn seed_alias(cfg: &SdkConfig, zone: &str, name: &str, dns_name: &str) {
    use aws_sdk_route53::types as r53;
    let route53 = aws_sdk_route53::Client::new(cfg);
    let zone_id = route53
        .create_hosted_zone()
        .name(zone)
        .caller_reference(format!("fivexx-{zone}"))
        .send()
        .await
        .expect("CreateHostedZone")
        .hosted_zone()
        .expect("a hosted zone")
        .id()
        .to_owned();
    let record = r53::ResourceRecordSet::builder()
        .name(name)
        .r#type(r53::RrType::A)
        .alias_target(
            r53::AliasTarget::builder()
                .hosted_zone_id("Z35SXDOTRQ7X7K")
                .dns_name(format!("dualstack.{dns_name}"))
                .evaluate_target_health(true)
                .build()
                .expect("AliasTarget"),
        )
        .build()
        .expect("ResourceRecordSet");
    route53
        .change_resource_record_sets()
        .hosted_zone_id(&zone_id)
        .change_batch(
            r53::ChangeBatch::builder()
                .changes(
                    r53::Change::builder()
                        .action(r53::ChangeAction::Upsert)
                        .resource_record_set(record)
                        .build()
                        .expect("Change"),
                )
                .build()
                .expect("ChangeBatch"),
        )
        .send()
        .await
        .expect("ChangeResourceRecordSets");
}

// ------------------------------------------------------------------------------- metrics

const ALB_NAMESPACE: &str = "AWS/ApplicationELB";

/// Datapoints `(time, value)`, one per whole minute: every statistic of that minute (`Sum`,
/// `Minimum`, ...) is the value itself.
type Points = Vec<(DateTime<Utc>, f64)>;

/// `count` datapoints at whole minutes inside the triage window at `now`, every `step`
/// minutes back from its end, valued `first`, `first + 1`, ...; sorted by time.
fn minutes_back(now: DateTime<Utc>, count: i64, step: i64, first: f64) -> Points {
    let end = window_for(now).end;
    let mut points: Points = (1..=count)
        .map(|k| {
            (
                end - chrono::Duration::minutes(k * step),
                first + (k - 1) as f64,
            )
        })
        .collect();
    points.sort_by_key(|(t, _)| *t);
    points
}

/// The `TargetGroup` dimension of a target group ARN (`targetgroup/NAME/ID`).
fn target_group_dimension(arn: &str) -> &str {
    arn.rsplit_once(':')
        .map(|(_, d)| d)
        .expect("a target group ARN")
}

/// What `seed_alb_metrics` put into moto, each series in the statistic fivexx asks for.
struct AlbMetrics {
    lb: String,
    target_group: String,
    elb_5xx: Points,
    requests: Points,
    healthy: Points,
}

/// Five minutes of ELB 5xx and requests on the load balancer and three of healthy hosts on
/// its first target group, in the last minutes of the triage window at `now`.
async fn seed_alb_metrics(cfg: &SdkConfig, seeded: &SeededAlb, now: DateTime<Utc>) -> AlbMetrics {
    let m = AlbMetrics {
        lb: seeded.dimension.clone(),
        target_group: target_group_dimension(&seeded.target_groups[0]).to_owned(),
        elb_5xx: minutes_back(now, 5, 1, 120.0),
        requests: minutes_back(now, 5, 1, 1000.0),
        healthy: minutes_back(now, 3, 2, 2.0),
    };
    let lb = [("LoadBalancer", m.lb.as_str())];
    live::put(
        cfg,
        ALB_NAMESPACE,
        "HTTPCode_ELB_5XX_Count",
        &lb,
        &m.elb_5xx,
    )
    .await;
    live::put(cfg, ALB_NAMESPACE, "RequestCount", &lb, &m.requests).await;
    let tg = [
        ("LoadBalancer", m.lb.as_str()),
        ("TargetGroup", m.target_group.as_str()),
    ];
    live::put(cfg, ALB_NAMESPACE, "HealthyHostCount", &tg, &m.healthy).await;
    m
}

/// The dimensions of a distribution's CloudFront metrics, sorted by name.
fn cf_dims(distribution_id: &str) -> [(&str, &str); 2] {
    [("DistributionId", distribution_id), ("Region", "Global")]
}

/// Four minutes of CloudFront `5xxErrorRate` (percent) for `distribution_id` (us-east-1,
/// `Region=Global`), in the last minutes of the triage window at `now`.
async fn seed_cloudfront_5xx_rate(
    cfg: &SdkConfig,
    distribution_id: &str,
    now: DateTime<Utc>,
) -> Points {
    let points = minutes_back(now, 4, 1, 12.5);
    live::put(
        cfg,
        "AWS/CloudFront",
        "5xxErrorRate",
        &cf_dims(distribution_id),
        &points,
    )
    .await;
    points
}

impl AlbMetrics {
    /// The recording holds every seeded datapoint, time and value, and nothing else for
    /// those series.
    fn assert_read(&self, world: &World) {
        let lb = [("LoadBalancer", self.lb.as_str())];
        let tg = [
            ("LoadBalancer", self.lb.as_str()),
            ("TargetGroup", self.target_group.as_str()),
        ];
        assert_eq!(
            recorded(world, "HTTPCode_ELB_5XX_Count", &lb, "Sum"),
            self.elb_5xx
        );
        assert_eq!(recorded(world, "RequestCount", &lb, "Sum"), self.requests);
        assert_eq!(
            recorded(world, "HealthyHostCount", &tg, "Minimum"),
            self.healthy
        );
    }
}

/// The datapoints a recording holds for one series and statistic, sorted by time.
fn recorded(world: &World, name: &str, dims: &[(&str, &str)], stat: &str) -> Points {
    let series = world
        .cloudwatch
        .metrics
        .iter()
        .find(|s| {
            s.metric_name == name
                && s.dimensions.len() == dims.len()
                && dims
                    .iter()
                    .all(|(k, v)| s.dimensions.iter().any(|d| d.name == *k && d.value == *v))
        })
        .unwrap_or_else(|| panic!("no recorded series {name} {dims:?}"));
    series
        .datapoints
        .iter()
        .filter_map(|d| {
            let v = match stat {
                "Sum" => d.sum,
                "Minimum" => d.minimum,
                "Maximum" => d.maximum,
                "Average" => d.average,
                other => panic!("no such statistic here: {other}"),
            };
            v.map(|v| (d.timestamp, v))
        })
        .collect()
}

// ------------------------------------------------------------------------------- alarms

/// A direct alarm-action payload (`alarmData` at the top), as Lambda receives it.
fn direct_event(name: &str, namespace: &str, metric: &str, dims: Value, stat: &str) -> Value {
    json!({
        "source": "aws.cloudwatch",
        "alarmArn": format!("arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{name}"),
        "accountId": ACCOUNT,
        "time": "2026-11-22T12:36:15.000+0000",
        "region": REGION,
        "alarmData": {
            "alarmName": name,
            "state": {
                "value": "ALARM",
                "reason": "Threshold Crossed: 1 out of the last 1 datapoints was greater than the threshold.",
                "timestamp": "2026-11-22T12:36:15.000+0000"
            },
            "previousState": {
                "value": "OK",
                "reason": "Threshold Crossed",
                "timestamp": "2026-11-22T09:36:15.000+0000"
            },
            "configuration": {
                "description": format!("{metric} on {name}"),
                "metrics": [{
                    "id": "m1",
                    "metricStat": {
                        "metric": {"namespace": namespace, "name": metric, "dimensions": dims},
                        "period": 60,
                        "stat": stat
                    },
                    "returnData": true
                }]
            }
        }
    })
}

fn alb_alarm(dimension: &str) -> Alarm {
    let event = direct_event(
        "web-httpcode_elb_5xx_count",
        "AWS/ApplicationELB",
        "HTTPCode_ELB_5XX_Count",
        json!({"LoadBalancer": dimension}),
        "Sum",
    );
    alarm::parse(&event).expect("an ALB alarm")
}

fn cloudfront_alarm(distribution_id: &str) -> Alarm {
    let event = direct_event(
        "cdn-5xx-rate",
        "AWS/CloudFront",
        "5xxErrorRate",
        json!({"DistributionId": distribution_id, "Region": "Global"}),
        "Average",
    );
    alarm::parse(&event).expect("a CloudFront alarm")
}

// ------------------------------------------------------------------------------- running

/// The triage clock: the wall clock (the certificate's expiry is relative to it), whole seconds.
fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(0)
}

fn deadline() -> tokio::time::Instant {
    tokio::time::Instant::now() + Duration::from_secs(30)
}

fn triage_options(now: DateTime<Utc>) -> TriageOptions {
    TriageOptions {
        now,
        deadline: deadline(),
        home_region: REGION.into(),
        home_account: Some(ACCOUNT.into()),
    }
}

/// Gathers the evidence for `alarm` through `port`, as `triage` would.
async fn gather_for<P: Port>(port: &P, alarm: &Alarm, now: DateTime<Utc>) -> Evidence {
    let scope = scope::scope(alarm, REGION, Some(ACCOUNT)).expect("the alarm is in scope");
    let opts = GatherOptions {
        now,
        deadline: deadline(),
        home_region: REGION.into(),
        alarm_queries: Vec::new(),
        renewal_horizon: chrono::Duration::days(fivexx::rules::cert::RENEWAL_HORIZON_DAYS),
    };
    gather(port, &scope, &opts).await
}

/// Writes `world` to a file, loads it back, and triages `alarm` against it at `now`.
async fn replay(world: &World, alarm: &Alarm, now: DateTime<Utc>) -> (World, Verdict) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("world.json");
    std::fs::write(&path, world.to_json()).expect("write the world");
    let loaded = World::load(&path).expect("the recorded world loads");
    assert_eq!(loaded.now, Some(now), "the world keeps the triage clock");
    let opts = TriageOptions {
        now,
        deadline: deadline(),
        home_region: loaded.region.clone(),
        home_account: loaded.account.clone(),
    };
    let verdict = triage(&loaded, alarm, &opts).await;
    (loaded, verdict)
}

/// A verdict as JSON without `stats` (call counts differ between live and replay).
fn without_stats(v: &Verdict) -> Value {
    let mut j = serde_json::to_value(v).expect("verdict JSON");
    j.as_object_mut().expect("an object").remove("stats");
    j
}

fn metric_gaps(e: &Evidence) -> usize {
    e.gaps
        .iter()
        .filter(|g| g.source == "cloudwatch:GetMetricData")
        .count()
}

// ------------------------------------------------------------------------------- tests

/// Covers the ALB path end to end through the SDK adapter and the recorder: load balancer,
/// attributes (the idle timeout set), both listeners and their rules, both target groups with
/// health (and, read directly, attributes), the imported certificate's `NotAfter`, the seeded
/// metrics (`GetMetricData` in RPCv2 CBOR through the shim), and `round_trips == 2`.
#[tokio::test]
async fn alb_path_through_the_sdk() {
    let moto = MotoServer::start();
    let cfg = moto.sdk_config().await;
    let seeded = seed_alb(&moto, &cfg, CERT_DAYS).await;
    let now = now();
    let metrics = seed_alb_metrics(&cfg, &seeded, now).await;
    let sdk = AwsSdk::new(cfg);
    let recorder = Recorder::new(&sdk, REGION, Some(ACCOUNT.into()), now);
    let alarm = alb_alarm(&seeded.dimension);

    let evidence = gather_for(&recorder, &alarm, now).await;

    assert_eq!(evidence.albs.len(), 1);
    let alb = &evidence.albs[0];
    assert_eq!(
        alb.arn, seeded.arn,
        "the ARN is built from the alarm's dimension"
    );
    let lb = alb
        .load_balancer
        .as_ref()
        .expect("the load balancer was found");
    assert_eq!(lb.load_balancer_arn, seeded.arn);
    assert_eq!(lb.dns_name.as_deref(), Some(seeded.dns_name.as_str()));
    assert_eq!(lb.kind.as_deref(), Some("application"));
    assert_eq!(lb.scheme.as_deref(), Some("internet-facing"));

    let attrs = alb.attributes.as_deref().expect("attributes read");
    assert_eq!(
        attribute(attrs, "idle_timeout.timeout_seconds"),
        Some(IDLE_TIMEOUT)
    );

    let listeners = alb.listeners.as_deref().expect("listeners read");
    assert_eq!(listeners.len(), 2, "{listeners:?}");
    let https = listeners
        .iter()
        .find(|l| l.listener_arn == seeded.https_listener)
        .expect("the HTTPS listener");
    assert_eq!(https.port, Some(443));
    assert_eq!(https.protocol.as_deref(), Some("HTTPS"));
    assert_eq!(
        https.ssl_policy.as_deref(),
        Some("ELBSecurityPolicy-TLS13-1-2-2021-06")
    );
    assert_eq!(https.certificates.len(), 1);
    assert_eq!(https.certificates[0].certificate_arn, seeded.cert_arn);
    assert_eq!(
        https.default_actions[0].target_group_arns(),
        vec![seeded.target_groups[0].as_str()]
    );
    let http = listeners
        .iter()
        .find(|l| l.listener_arn == seeded.http_listener)
        .expect("the HTTP listener");
    assert_eq!(
        (http.port, http.protocol.as_deref()),
        (Some(80), Some("HTTP"))
    );
    assert_eq!(
        http.default_actions[0].target_group_arns(),
        vec![seeded.target_groups[1].as_str()]
    );
    for l in [&seeded.https_listener, &seeded.http_listener] {
        let rules = alb.rules.get(l).expect("rules read for every listener");
        assert!(
            rules.iter().any(|r| r.is_default == Some(true)),
            "a default rule: {rules:?}"
        );
    }

    let tgs = alb.target_groups.as_deref().expect("target groups read");
    let mut tg_arns: Vec<&str> = tgs
        .iter()
        .map(|t| t.target_group.target_group_arn.as_str())
        .collect();
    tg_arns.sort_unstable();
    let mut want: Vec<&str> = seeded.target_groups.iter().map(String::as_str).collect();
    want.sort_unstable();
    assert_eq!(tg_arns, want);
    for tg in tgs {
        assert_eq!(tg.target_group.port, Some(8080));
        assert_eq!(tg.target_group.target_type.as_deref(), Some("ip"));
        assert_eq!(
            tg.target_group.health_check_path.as_deref(),
            Some("/health")
        );
        assert!(tg.target_group.load_balancer_arns.contains(&seeded.arn));
        // No target is draining: the attributes are not read (the deregistration delay is
        // all the rules want of them). The adapter, read directly (moto shows `draining` only
        // for a terminated instance named in the request, which the gathering never does):
        assert!(tg.attributes.is_none(), "{:?}", tg.attributes);
        let attrs = sdk
            .call::<DescribeTargetGroupAttributes>(REGION, &tg.target_group.target_group_arn)
            .await
            .expect("target group attributes");
        assert!(
            attribute(&attrs, "deregistration_delay.timeout_seconds").is_some(),
            "{attrs:?}"
        );
        let health = tg.health.as_deref().expect("target health read");
        assert_eq!(health.len(), 2, "{health:?}");
        for h in health {
            assert_eq!(h.target.port, Some(8080));
            assert_eq!(h.target_health.state.as_deref(), Some("healthy"));
        }
    }

    let cert = alb
        .certificates
        .get(&seeded.cert_arn)
        .expect("the listener certificate was described");
    assert_eq!(cert.kind.as_deref(), Some("IMPORTED"));
    assert_eq!(cert.domain_name.as_deref(), Some("www.example.com"));
    assert_eq!(
        cert.not_after.map(|t| t.date_naive()),
        Some(seeded.cert_not_after.date_naive()),
        "NotAfter comes from the certificate"
    );
    // Expiring within 45 days: described, not only listed (InUseBy is not in the list).
    assert!(cert.in_use_by.contains(&seeded.https_listener));

    assert_eq!(evidence.stats.round_trips, 2);
    // 4 describe calls and the certificate list, then 2 health, 2 rules, the HTTPS listener's
    // certificates, 1 certificate, 1 metrics call.
    assert_eq!(evidence.stats.api_calls, 5 + 2 + 2 + 1 + 1 + 1);

    // Nothing is missing: CloudWatch answers, and the seeded datapoints are read with their
    // times and values.
    assert_eq!(metric_gaps(&evidence), 0, "{:?}", evidence.gaps);
    assert!(evidence.gaps.is_empty(), "{:?}", evidence.gaps);
    assert!(!evidence.metrics.is_empty());
    metrics.assert_read(&recorder.world());

    let verdict = triage(&recorder, &alarm, &triage_options(now)).await;
    assert!(
        matches!(verdict.status, Status::Diagnosed | Status::Inconclusive),
        "{verdict:?}"
    );
    assert!(verdict.gaps.is_empty(), "{:?}", verdict.gaps);
    assert_eq!(verdict.stats.round_trips, 2);
}

/// Covers `ListCertificates` through the SDK: a certificate issued and far from expiry is
/// taken from the list (every key type is asked for: this one is ECDSA P-256), not described;
/// a recording writes it as a `DescribeCertificate` entry, so the replay gives the same verdict.
#[tokio::test]
async fn a_certificate_far_from_expiry_is_read_from_the_list() {
    let moto = MotoServer::start();
    let cfg = moto.sdk_config().await;
    let seeded = seed_alb(&moto, &cfg, 200).await;
    // Another certificate of the account, on no listener: listed, never recorded.
    let other = moto::self_signed("other.example.com", 200);
    import_certificate(&aws_sdk_acm::Client::new(&cfg), &other).await;
    let sdk = AwsSdk::new(cfg);
    let now = now();
    let alarm = alb_alarm(&seeded.dimension);

    let evidence = gather_for(&sdk, &alarm, now).await;
    let cert = evidence.albs[0]
        .certificates
        .get(&seeded.cert_arn)
        .expect("the listener certificate, from the list");
    assert_eq!(cert.kind.as_deref(), Some("IMPORTED"));
    assert_eq!(cert.status.as_deref(), Some("ISSUED"));
    assert_eq!(cert.domain_name.as_deref(), Some("www.example.com"));
    assert_eq!(
        cert.not_after.map(|t| t.date_naive()),
        Some(seeded.cert_not_after.date_naive())
    );
    assert!(cert.in_use_by.is_empty(), "not described: {cert:?}");
    // 4 describe calls and the certificate list, then 2 health, 2 rules, the HTTPS listener's
    // certificates, no certificate description, 1 metrics call.
    assert_eq!(evidence.stats.api_calls, 5 + 2 + 2 + 1 + 1);
    assert!(evidence.gaps.is_empty(), "{:?}", evidence.gaps);

    let recorder = Recorder::new(&sdk, REGION, Some(ACCOUNT.into()), now);
    let live = triage(&recorder, &alarm, &triage_options(now)).await;
    let world = recorder.world();
    assert_eq!(
        world.acm.describe_certificate.keys().collect::<Vec<_>>(),
        vec![&seeded.cert_arn],
        "the listener's certificate, and no other of the account"
    );
    let (_, replayed) = replay(&world, &alarm, now).await;
    assert_eq!(without_stats(&replayed), without_stats(&live));
}

/// Covers `--record` then `--world`: a world recorded from a live (moto) triage with seeded
/// metrics, written to a file and loaded back, holds the seeded datapoints and replays to the
/// same verdict (`stats` aside), with no gap in either.
#[tokio::test]
async fn alb_record_then_replay_gives_the_same_verdict() {
    let moto = MotoServer::start();
    let cfg = moto.sdk_config().await;
    let seeded = seed_alb(&moto, &cfg, CERT_DAYS).await;
    let now = now();
    let metrics = seed_alb_metrics(&cfg, &seeded, now).await;
    let sdk = AwsSdk::new(cfg);
    let recorder = Recorder::new(&sdk, REGION, Some(ACCOUNT.into()), now);
    let alarm = alb_alarm(&seeded.dimension);

    let live = triage(&recorder, &alarm, &triage_options(now)).await;
    let world = recorder.world();
    assert!(world.errors.is_empty(), "{:?}", world.errors);
    assert!(world.faults.is_empty(), "{:?}", world.faults);
    metrics.assert_read(&world);
    assert!(live.gaps.is_empty(), "{:?}", live.gaps);

    let (loaded, replayed) = replay(&world, &alarm, now).await;
    assert_eq!(loaded.region, REGION);
    assert_eq!(loaded.account.as_deref(), Some(ACCOUNT));
    metrics.assert_read(&loaded);
    assert_eq!(without_stats(&replayed), without_stats(&live));
    assert_eq!(replayed.stats.round_trips, live.stats.round_trips);
    assert!(replayed.gaps.is_empty(), "{:?}", replayed.gaps);
}

/// Covers the CloudFront path with the origin named by the ALB's own DNS name: the origin is
/// linked to the load balancer (found by listing the region's load balancers), the ALB is
/// then examined, in at most 4 round trips; record then replay gives the same verdict.
///
/// No origin request policy here: moto 5.2.5 has no `GetOriginRequestPolicy` (covered in
/// `aws_mocks.rs`).
#[tokio::test]
async fn cloudfront_origin_by_elb_dns_name() {
    let moto = MotoServer::start();
    let cfg = moto.sdk_config().await;
    let seeded = seed_alb(&moto, &cfg, CERT_DAYS).await;
    let dist = seed_distribution(&cfg, &seeded.dns_name).await;
    let now = now();
    let rate_5xx = seed_cloudfront_5xx_rate(&cfg, &dist, now).await;
    let sdk = AwsSdk::new(cfg);
    let alarm = cloudfront_alarm(&dist);

    let recorder = Recorder::new(&sdk, REGION, Some(ACCOUNT.into()), now);
    let evidence = gather_for(&recorder, &alarm, now).await;
    assert_eq!(evidence.distributions.len(), 1);
    let d = &evidence.distributions[0];
    assert_eq!(d.id, dist);
    let config = d.config.as_ref().expect("the distribution config was read");
    let origin = &config.origins.items[0];
    assert_eq!(origin.domain_name, seeded.dns_name);
    let custom = origin
        .custom_origin_config
        .as_ref()
        .expect("a custom origin");
    assert_eq!(custom.origin_protocol_policy.as_deref(), Some("https-only"));
    assert_eq!(custom.https_port, Some(443));
    assert_eq!(d.origins.len(), 1);
    assert_eq!(
        d.origins[0].alb_arn.as_deref(),
        Some(seeded.arn.as_str()),
        "origin linked: {:?}",
        d.origins[0]
    );
    assert_eq!(d.origins[0].how, "ELB DNS name");
    let alb = evidence
        .alb(&seeded.arn)
        .expect("the origin ALB is examined");
    assert!(alb.listeners.as_ref().is_some_and(|l| l.len() == 2));
    assert!(alb.certificates.contains_key(&seeded.cert_arn));
    assert!(evidence.stats.round_trips <= 4, "{:?}", evidence.stats);
    // Nothing is missing: the CloudFront and the ALB metric calls both answer, and the
    // seeded CloudFront rate is read.
    assert!(evidence.gaps.is_empty(), "{:?}", evidence.gaps);
    assert_eq!(
        recorded(
            &recorder.world(),
            "5xxErrorRate",
            &cf_dims(&dist),
            "Average"
        ),
        rate_5xx
    );

    let recorder = Recorder::new(&sdk, REGION, Some(ACCOUNT.into()), now);
    let live = triage(&recorder, &alarm, &triage_options(now)).await;
    assert!(live.stats.round_trips <= 4);
    let (_, replayed) = replay(&recorder.world(), &alarm, now).await;
    assert_eq!(without_stats(&replayed), without_stats(&live));
}

/// Covers the CloudFront path with the origin behind a custom name: a public Route 53 zone
/// holds an alias A record `origin.<zone>` to the ALB (`dualstack.` form), the distribution's
/// origin uses that name, and the origin is linked to the ALB through the alias in at most 4
/// round trips; record then replay gives the same verdict.
#[tokio::test]
async fn cloudfront_origin_through_a_route53_alias() {
    let moto = MotoServer::start();
    let cfg = moto.sdk_config().await;
    let seeded = seed_alb(&moto, &cfg, CERT_DAYS).await;
    seed_alias(&cfg, "example.com", "origin.example.com", &seeded.dns_name).await;
    let dist = seed_distribution(&cfg, "origin.example.com").await;
    let now = now();
    let rate_5xx = seed_cloudfront_5xx_rate(&cfg, &dist, now).await;
    let sdk = AwsSdk::new(cfg);
    let alarm = cloudfront_alarm(&dist);

    let recorder = Recorder::new(&sdk, REGION, Some(ACCOUNT.into()), now);
    let evidence = gather_for(&recorder, &alarm, now).await;
    let link = &evidence.distributions[0].origins[0];
    assert_eq!(link.domain_name, "origin.example.com");
    assert_eq!(
        link.alb_arn.as_deref(),
        Some(seeded.arn.as_str()),
        "origin linked: {link:?}"
    );
    assert_eq!(
        link.elb_dns_name.as_deref(),
        Some(seeded.dns_name.to_ascii_lowercase().as_str())
    );
    assert!(link.how.contains("example.com"), "{}", link.how);
    assert!(evidence.alb(&seeded.arn).is_some());
    assert!(evidence.stats.round_trips <= 4, "{:?}", evidence.stats);
    assert!(evidence.gaps.is_empty(), "{:?}", evidence.gaps);
    assert_eq!(
        recorded(
            &recorder.world(),
            "5xxErrorRate",
            &cf_dims(&dist),
            "Average"
        ),
        rate_5xx
    );

    let recorder = Recorder::new(&sdk, REGION, Some(ACCOUNT.into()), now);
    let live = triage(&recorder, &alarm, &triage_options(now)).await;
    assert!(live.stats.round_trips <= 4);
    let world = recorder.world();
    assert_eq!(
        world.route53.list_hosted_zones_by_name.hosted_zones.len(),
        1
    );
    let (_, replayed) = replay(&world, &alarm, now).await;
    assert_eq!(without_stats(&replayed), without_stats(&live));
}

/// Covers a fault moto itself returns: the HTTPS listener's certificate was deleted from ACM
/// after the listener was created, so `DescribeCertificate` answers
/// `ResourceNotFoundException`. It must become a gap naming the certificate, not a crash, and
/// the rest of the evidence must still be there.
#[tokio::test]
async fn a_deleted_listener_certificate_is_a_gap() {
    let moto = MotoServer::start();
    let cfg = moto.sdk_config().await;
    let seeded = seed_alb(&moto, &cfg, CERT_DAYS).await;
    aws_sdk_acm::Client::new(&cfg)
        .delete_certificate()
        .certificate_arn(&seeded.cert_arn)
        .send()
        .await
        .expect("DeleteCertificate");
    let sdk = AwsSdk::new(cfg);

    let err = sdk
        .call::<DescribeCertificate>(REGION, &seeded.cert_arn)
        .await
        .expect_err("the certificate is gone");
    assert_eq!(err.code, "ResourceNotFoundException");
    assert!(err.is_not_found());

    let now = now();
    let alarm = alb_alarm(&seeded.dimension);
    let evidence = gather_for(&sdk, &alarm, now).await;
    let gap = evidence
        .gaps
        .iter()
        .find(|g| g.source == "acm:DescribeCertificate")
        .expect("a gap for the certificate");
    assert!(
        gap.reason.starts_with("ResourceNotFoundException"),
        "{}",
        gap.reason
    );
    assert_eq!(gap.resource.as_deref(), Some(seeded.cert_arn.as_str()));
    let alb = &evidence.albs[0];
    assert!(alb.certificates.is_empty());
    assert!(alb.listeners.as_ref().is_some_and(|l| l.len() == 2));
    assert!(alb.target_groups.as_ref().is_some_and(|t| t.len() == 2));
    assert_eq!(
        evidence.gaps.len(),
        1,
        "the certificate only (metrics answer): {:?}",
        evidence.gaps
    );

    // Recorded and replayed, the gap is the same word for word: the recorder keeps the error
    // AWS sent for that certificate under `Errors`, and `gather` sorts the gaps.
    let recorder = Recorder::new(&sdk, REGION, Some(ACCOUNT.into()), now);
    let live = triage(&recorder, &alarm, &triage_options(now)).await;
    let world = recorder.world();
    assert!(
        world
            .errors
            .get("acm:DescribeCertificate")
            .is_some_and(|per_input| per_input.contains_key(&seeded.cert_arn))
    );
    assert!(world.faults.is_empty());
    let (_, replayed) = replay(&world, &alarm, now).await;
    assert_eq!(without_stats(&replayed), without_stats(&live));
    assert_eq!(replayed.gaps, live.gaps);
    assert!(
        gap_keys(&live).contains(&(
            "acm:DescribeCertificate".to_owned(),
            "ResourceNotFoundException".to_owned(),
            Some(seeded.cert_arn.clone())
        )),
        "{:?}",
        live.gaps
    );
}

/// Gaps as sorted (source, error code, resource) triples.
fn gap_keys(v: &Verdict) -> Vec<(String, String, Option<String>)> {
    let mut keys: Vec<_> = v
        .gaps
        .iter()
        .map(|g| {
            let code = g.reason.split(':').next().unwrap_or_default().to_owned();
            (g.source.clone(), code, g.resource.clone())
        })
        .collect();
    keys.sort();
    keys
}

/// Covers `DescribeListenerCertificates` through the real aws-sdk-elasticloadbalancingv2
/// client: a certificate added to the HTTPS listener for SNI (`AddListenerCertificates`)
/// reaches the listener's certificates and is read from ACM beside the default one, and a
/// recording replays it.
#[tokio::test]
async fn an_sni_certificate_reaches_the_evidence() {
    let moto = MotoServer::start();
    let cfg = moto.sdk_config().await;
    let seeded = seed_alb(&moto, &cfg, CERT_DAYS).await;
    let cert = moto::self_signed("api.example.com", CERT_DAYS);
    let sni_arn = import_certificate(&aws_sdk_acm::Client::new(&cfg), &cert).await;
    aws_sdk_elasticloadbalancingv2::Client::new(&cfg)
        .add_listener_certificates()
        .listener_arn(&seeded.https_listener)
        .certificates(
            aws_sdk_elasticloadbalancingv2::types::Certificate::builder()
                .certificate_arn(&sni_arn)
                .build(),
        )
        .send()
        .await
        .expect("AddListenerCertificates");
    let sdk = AwsSdk::new(cfg);

    let listed = sdk
        .call::<DescribeListenerCertificates>(REGION, &seeded.https_listener)
        .await
        .expect("DescribeListenerCertificates");
    assert!(
        listed.iter().any(|c| c.certificate_arn == sni_arn),
        "{listed:?}"
    );

    let now = now();
    let alarm = alb_alarm(&seeded.dimension);
    let evidence = gather_for(&sdk, &alarm, now).await;
    let alb = &evidence.albs[0];
    let https = alb
        .listeners
        .iter()
        .flatten()
        .find(|l| l.listener_arn == seeded.https_listener)
        .expect("the HTTPS listener");
    let arns: Vec<&str> = https
        .certificates
        .iter()
        .map(|c| c.certificate_arn.as_str())
        .collect();
    assert!(arns.contains(&seeded.cert_arn.as_str()), "{arns:?}");
    assert!(arns.contains(&sni_arn.as_str()), "{arns:?}");
    let detail = alb
        .certificates
        .get(&sni_arn)
        .expect("the SNI certificate's details");
    assert_eq!(detail.domain_name.as_deref(), Some("api.example.com"));

    let recorder = Recorder::new(&sdk, REGION, Some(ACCOUNT.into()), now);
    let live = triage(&recorder, &alarm, &triage_options(now)).await;
    let world = recorder.world();
    assert!(
        world
            .elbv2
            .describe_listener_certificates
            .contains_key(&seeded.https_listener)
    );
    let (_, replayed) = replay(&world, &alarm, now).await;
    assert_eq!(without_stats(&replayed), without_stats(&live));
}

/// Times as the SDK gives them, in chrono.
fn chrono_time(t: &aws_sdk_cloudwatch::primitives::DateTime) -> DateTime<Utc> {
    DateTime::from_timestamp(t.secs(), t.subsec_nanos()).expect("a time")
}

/// One `MetricStat` query `id` for `Sum` of `name` on the load balancer `lb`, per minute.
fn sum_query(id: &str, name: &str, lb: &str) -> cw::MetricDataQuery {
    let metric = cw::Metric::builder()
        .namespace(ALB_NAMESPACE)
        .metric_name(name)
        .dimensions(
            cw::Dimension::builder()
                .name("LoadBalancer")
                .value(lb)
                .build(),
        )
        .build();
    cw::MetricDataQuery::builder()
        .id(id)
        .metric_stat(
            cw::MetricStat::builder()
                .metric(metric)
                .period(60)
                .stat("Sum")
                .build(),
        )
        .return_data(true)
        .build()
}

/// Covers the CloudWatch round trip through the shim (RPCv2 CBOR, as aws-sdk-cloudwatch
/// speaks it): series seeded with `PutMetricData` come back from `GetMetricData` with their
/// exact times and values, through fivexx's adapter (one call) and through the SDK client page
/// by page: `MaxDatapoints` 4 over 10 datapoints gives 3 pages, each `NextToken` leading to the
/// next, a series with datapoints still to come `PartialData`; a token from another request is
/// `InvalidNextToken`; `ScanBy` descending reverses the order; `ListMetrics` lists what was put.
#[tokio::test]
async fn get_metric_data_round_trips_seeded_series_page_by_page() {
    let moto = MotoServer::start();
    let cfg = moto.sdk_config().await;
    let now = now();
    let window = window_for(now);
    let lb = "app/web/0123456789abcdef";
    // 7 datapoints 3 minutes apart, then 3 a minute apart, fractional values.
    let errors: Points = minutes_back(now, 7, 3, 10.25);
    let requests: Points = minutes_back(now, 3, 1, 500.5);
    live::put(
        &cfg,
        ALB_NAMESPACE,
        "HTTPCode_ELB_5XX_Count",
        &[("LoadBalancer", lb)],
        &errors,
    )
    .await;
    live::put(
        &cfg,
        ALB_NAMESPACE,
        "RequestCount",
        &[("LoadBalancer", lb)],
        &requests,
    )
    .await;

    // fivexx's adapter: every series in one call, the unseeded one empty.
    let sdk = AwsSdk::new(cfg.clone());
    let query = |name: &str, stat: &str| {
        MetricQuery::new(REGION, ALB_NAMESPACE, name, &[("LoadBalancer", lb)], stat)
    };
    let request = MetricRequest {
        queries: vec![
            query("HTTPCode_ELB_5XX_Count", "Sum"),
            query("RequestCount", "Sum"),
            query("HTTPCode_ELB_502_Count", "Sum"),
        ],
        window,
    };
    let series = sdk
        .call::<GetMetricData>(REGION, &request)
        .await
        .expect("GetMetricData through the adapter");
    assert_eq!(series.len(), 3);
    assert_eq!(series[0].points, errors);
    assert_eq!(series[1].points, requests);
    assert!(series[2].is_empty(), "{:?}", series[2]);

    // The SDK client, 4 datapoints a page.
    let client = aws_sdk_cloudwatch::Client::new(&cfg);
    let queries = vec![
        sum_query("errors", "HTTPCode_ELB_5XX_Count", lb),
        sum_query("requests", "RequestCount", lb),
    ];
    let start = aws_sdk_cloudwatch::primitives::DateTime::from_secs(window.start.timestamp());
    let end = aws_sdk_cloudwatch::primitives::DateTime::from_secs(window.end.timestamp());
    let page = |token: Option<String>| {
        client
            .get_metric_data()
            .set_metric_data_queries(Some(queries.clone()))
            .start_time(start)
            .end_time(end)
            .scan_by(cw::ScanBy::TimestampAscending)
            .max_datapoints(4)
            .set_next_token(token)
            .send()
    };
    let mut got: BTreeMap<String, Points> = BTreeMap::new();
    let mut token = None;
    let mut pages = Vec::new();
    loop {
        let out = page(token.clone()).await.expect("a GetMetricData page");
        let mut on_page = 0;
        let mut statuses = Vec::new();
        for r in out.metric_data_results() {
            assert_eq!(r.timestamps().len(), r.values().len());
            on_page += r.values().len();
            statuses.push(r.status_code().cloned());
            got.entry(r.id().expect("an id").to_owned())
                .or_default()
                .extend(
                    r.timestamps()
                        .iter()
                        .map(chrono_time)
                        .zip(r.values().iter().copied()),
                );
        }
        pages.push((on_page, statuses));
        token = out.next_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
        assert!(pages.len() < 10, "pagination does not end: {pages:?}");
    }
    let partial = Some(cw::StatusCode::PartialData);
    let complete = Some(cw::StatusCode::Complete);
    assert_eq!(
        pages,
        vec![
            // Both series have datapoints still to come: the second has none on this page.
            (4, vec![partial.clone(), partial.clone()]),
            (4, vec![complete.clone(), partial.clone()]),
            (2, vec![complete.clone(), complete.clone()]),
        ],
        "datapoints and status codes per page"
    );
    assert_eq!(got["errors"], errors);
    assert_eq!(got["requests"], requests);

    // A token is only good for the request it came from.
    let first = page(None).await.expect("the first page");
    let token = first.next_token().expect("a NextToken").to_owned();
    let err = client
        .get_metric_data()
        .metric_data_queries(sum_query("errors", "RequestCount", lb))
        .start_time(start)
        .end_time(end)
        .max_datapoints(4)
        .next_token(token)
        .send()
        .await
        .expect_err("a token from another request");
    assert_eq!(err.code(), Some("InvalidNextToken"), "{err:?}");
    assert!(err.into_service_error().is_invalid_next_token());

    // Newest first, in one page.
    let out = client
        .get_metric_data()
        .metric_data_queries(sum_query("errors", "HTTPCode_ELB_5XX_Count", lb))
        .start_time(start)
        .end_time(end)
        .scan_by(cw::ScanBy::TimestampDescending)
        .send()
        .await
        .expect("GetMetricData descending");
    assert!(out.next_token().is_none());
    let r = &out.metric_data_results()[0];
    let newest_first: Points = r
        .timestamps()
        .iter()
        .map(chrono_time)
        .zip(r.values().iter().copied())
        .collect();
    assert_eq!(
        newest_first,
        errors.iter().rev().copied().collect::<Points>()
    );

    let listed = client
        .list_metrics()
        .namespace(ALB_NAMESPACE)
        .send()
        .await
        .expect("ListMetrics");
    let mut names: Vec<&str> = listed
        .metrics()
        .iter()
        .filter_map(|m| m.metric_name())
        .collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names, vec!["HTTPCode_ELB_5XX_Count", "RequestCount"]);
}

/// Covers what the shim does not translate: a CloudWatch operation moto 5.2.5 lacks, called
/// through the SDK, answers at once a 404 `UnknownOperationException` the SDK parses (no
/// retries, no hang), and so does an operation CloudWatch does not have, sent by hand in RPCv2
/// CBOR (with the `smithy-protocol` and CBOR content-type headers). moto alone still answers
/// RPCv2 CBOR with a bare 404: when a moto upgrade speaks it, this fails and the shim can go.
#[tokio::test]
async fn an_unknown_cbor_operation_answers_an_error_the_sdk_parses() {
    let moto = MotoServer::start();
    let cfg = moto.sdk_config().await;
    let client = aws_sdk_cloudwatch::Client::new(&cfg);

    let err = tokio::time::timeout(
        Duration::from_secs(10),
        client.get_metric_stream().name("web").send(),
    )
    .await
    .expect("an answer, not a hang")
    .expect_err("moto has no metric streams");
    assert_eq!(err.code(), Some("UnknownOperationException"), "{err:?}");
    assert!(
        err.message().is_some_and(|m| m.contains("GetMetricStream")),
        "{err:?}"
    );
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(404));

    let cbor = [
        ("smithy-protocol", "rpc-v2-cbor"),
        ("Content-Type", "application/cbor"),
        ("Accept", "application/cbor"),
    ];
    let path = "/service/GraniteServiceVersion20100801/operation/NoSuchOperation";
    // 0xa0: the empty CBOR map.
    let (status, head, body) = moto.http_raw(false, "POST", path, &cbor, &[0xa0]);
    assert_eq!(status, 404, "{head}");
    let head = head.to_ascii_lowercase();
    assert!(head.contains("\r\nsmithy-protocol: rpc-v2-cbor"), "{head}");
    assert!(
        head.contains("\r\ncontent-type: application/cbor"),
        "{head}"
    );
    for text in ["__type", "UnknownOperationException", "NoSuchOperation"] {
        assert!(body.contains(text), "{text} not in {body:?}");
    }

    let direct = fivexx::evidence::sdk::sdk_defaults()
        .region(aws_config::Region::new(REGION))
        .endpoint_url(moto.moto_endpoint())
        .credentials_provider(aws_sdk_cloudwatch::config::Credentials::new(
            "test", "test", None, None, "test",
        ))
        .load()
        .await;
    let err = aws_sdk_cloudwatch::Client::new(&direct)
        .get_metric_data()
        .metric_data_queries(sum_query("m0", "RequestCount", "app/web/1"))
        .start_time(aws_sdk_cloudwatch::primitives::DateTime::from_secs(0))
        .end_time(aws_sdk_cloudwatch::primitives::DateTime::from_secs(60))
        .send()
        .await
        .expect_err("moto alone does not speak RPCv2 CBOR");
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(404));
}

/// Covers the Classic Load Balancer's operations through aws-sdk-elasticloadbalancing against
/// moto: a load balancer `legacy` (an HTTP listener, a health check, an idle timeout of 120 s,
/// two registered instances, one of them stopped) read back by name and with the region's
/// list, its instance health and attributes, a missing name (`LoadBalancerNotFound`), and a
/// recording that replays every answer. (Not wired into gathering yet: read directly.)
#[tokio::test]
async fn classic_load_balancer_through_the_sdk() {
    use aws_sdk_elasticloadbalancing::types as clb;
    use fivexx::evidence::clb::{
        ClassicLoadBalancers, DescribeClassicLoadBalancerAttributes, DescribeClassicLoadBalancers,
        DescribeInstanceHealth,
    };

    let moto = MotoServer::start();
    let cfg = moto.sdk_config().await;
    let client = aws_sdk_elasticloadbalancing::Client::new(&moto.setup_config().await);
    client
        .create_load_balancer()
        .load_balancer_name("legacy")
        .availability_zones("us-east-1a")
        .listeners(
            clb::Listener::builder()
                .protocol("HTTP")
                .load_balancer_port(80)
                .instance_protocol("HTTP")
                .instance_port(8080)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("CreateLoadBalancer");
    client
        .configure_health_check()
        .load_balancer_name("legacy")
        .health_check(
            clb::HealthCheck::builder()
                .target("HTTP:8080/health")
                .interval(30)
                .timeout(5)
                .unhealthy_threshold(2)
                .healthy_threshold(10)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("ConfigureHealthCheck");
    client
        .modify_load_balancer_attributes()
        .load_balancer_name("legacy")
        .load_balancer_attributes(
            clb::LoadBalancerAttributes::builder()
                .connection_settings(
                    clb::ConnectionSettings::builder()
                        .idle_timeout(120)
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await
        .expect("ModifyLoadBalancerAttributes");
    let instances = moto.run_instances(2);
    let mut register = client
        .register_instances_with_load_balancer()
        .load_balancer_name("legacy");
    for id in &instances {
        register = register.instances(clb::Instance::builder().instance_id(id).build());
    }
    register
        .send()
        .await
        .expect("RegisterInstancesWithLoadBalancer");
    moto.stop_instance(&instances[1]);

    let sdk = AwsSdk::new(cfg);
    let recorder = Recorder::new(&sdk, REGION, Some(ACCOUNT.into()), now());
    let legacy = ClassicLoadBalancers::Named(vec!["legacy".into()]);

    let lbs = recorder
        .call::<DescribeClassicLoadBalancers>(REGION, &legacy)
        .await
        .expect("DescribeLoadBalancers by name");
    assert_eq!(lbs.len(), 1);
    let lb = &lbs[0];
    assert_eq!(lb.load_balancer_name, "legacy");
    let dns = lb.dns_name.as_deref().expect("a DNS name");
    assert!(dns.ends_with(".us-east-1.elb.amazonaws.com"), "{dns}");
    let listener = &lb.listener_descriptions[0].listener;
    assert_eq!(listener.protocol.as_deref(), Some("HTTP"));
    assert_eq!(listener.load_balancer_port, Some(80));
    assert_eq!(listener.instance_port, Some(8080));
    let target = lb
        .health_check
        .as_ref()
        .and_then(|h| h.parsed_target())
        .expect("the health check target");
    assert_eq!(
        (
            target.protocol.as_str(),
            target.port,
            target.path.as_deref()
        ),
        ("HTTP", 8080, Some("/health"))
    );
    let mut registered: Vec<&str> = lb
        .instances
        .iter()
        .map(|i| i.instance_id.as_str())
        .collect();
    registered.sort_unstable();
    let mut expected: Vec<&str> = instances.iter().map(String::as_str).collect();
    expected.sort_unstable();
    assert_eq!(registered, expected);

    let all = recorder
        .call::<DescribeClassicLoadBalancers>(REGION, &ClassicLoadBalancers::All)
        .await
        .expect("DescribeLoadBalancers of the region");
    assert_eq!(all, lbs);

    let health = recorder
        .call::<DescribeInstanceHealth>(REGION, "legacy")
        .await
        .expect("DescribeInstanceHealth");
    let state = |id: &str| {
        health
            .iter()
            .find(|s| s.instance_id == id)
            .and_then(|s| s.state.as_deref())
    };
    assert_eq!(state(&instances[0]), Some("InService"), "{health:?}");
    assert_eq!(state(&instances[1]), Some("OutOfService"), "{health:?}");

    let attrs = recorder
        .call::<DescribeClassicLoadBalancerAttributes>(REGION, "legacy")
        .await
        .expect("DescribeLoadBalancerAttributes");
    assert_eq!(attrs.idle_timeout(), 120);

    let missing = ClassicLoadBalancers::Named(vec!["gone".into()]);
    let err = recorder
        .call::<DescribeClassicLoadBalancers>(REGION, &missing)
        .await
        .unwrap_err();
    assert_eq!(err.code, "LoadBalancerNotFound");
    assert!(err.is_not_found());

    // The recording, through its file, answers the same.
    let world = World::parse(&recorder.world().to_json()).expect("the recorded world loads");
    assert_eq!(
        world
            .call::<DescribeClassicLoadBalancers>(REGION, &legacy)
            .await,
        Ok(lbs)
    );
    assert_eq!(
        world
            .call::<DescribeClassicLoadBalancers>(REGION, &ClassicLoadBalancers::All)
            .await,
        Ok(all)
    );
    assert_eq!(
        world.call::<DescribeInstanceHealth>(REGION, "legacy").await,
        Ok(health)
    );
    assert_eq!(
        world
            .call::<DescribeClassicLoadBalancerAttributes>(REGION, "legacy")
            .await,
        Ok(attrs)
    );
    assert_eq!(
        world
            .call::<DescribeClassicLoadBalancers>(REGION, &missing)
            .await,
        Err(err)
    );
}
