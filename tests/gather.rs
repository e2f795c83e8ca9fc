//! Gathering through the world port: waves, call counts, faults, the deadline, and
//! record → replay fidelity for every scenario.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Utc};
use fivexx::alarm::{self, Alarm};
use fivexx::evidence::acm::CertificateDetail;
use fivexx::evidence::cloudfront::Origin;
use fivexx::evidence::cloudwatch::{GetMetricData, MetricQuery, MetricRequest};
use fivexx::evidence::port::{Answer, Operation, Port};
use fivexx::evidence::record::Recorder;
use fivexx::evidence::world::{Fault, World};
use fivexx::triage::{TriageOptions, triage};
use fivexx::verdict::Verdict;

fn scenario_dir(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/scenarios")
        .join(name)
}

fn load(name: &str) -> (Alarm, World) {
    let dir = scenario_dir(name);
    let ev = std::fs::read_to_string(dir.join("event.json")).unwrap();
    (
        alarm::parse_str(&ev).unwrap(),
        World::load(&dir.join("world.json")).unwrap(),
    )
}

fn opts(world: &World, deadline: Duration) -> TriageOptions {
    TriageOptions {
        now: world.now.unwrap(),
        deadline: tokio::time::Instant::now() + deadline,
        home_region: world.region.clone(),
        home_account: world.account.clone(),
    }
}

/// The verdict without `stats` (elapsed time differs between runs).
fn comparable(v: &Verdict) -> serde_json::Value {
    let mut j = serde_json::to_value(v).unwrap();
    j.as_object_mut().unwrap().remove("stats");
    j
}

fn scenario_names() -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.join("world.json").exists())
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
    names.sort();
    names
}

#[tokio::test]
async fn a_recorded_world_replays_to_the_same_verdict() {
    for name in scenario_names() {
        let (alarm, world) = load(&name);
        let o = opts(&world, Duration::from_secs(10));
        let direct = triage(&world, &alarm, &o).await;
        let recorder = Recorder::new(&world, &world.region, world.account.clone(), o.now);
        let recorded = triage(&recorder, &alarm, &o).await;
        assert_eq!(comparable(&direct), comparable(&recorded), "{name}");
        let text = recorder.world().to_json();
        let replayed_world = World::parse(&text).unwrap();
        let replayed = triage(&replayed_world, &alarm, &o).await;
        assert_eq!(
            comparable(&direct),
            comparable(&replayed),
            "{name}: replay differs"
        );
        assert_eq!(
            direct.stats.round_trips, replayed.stats.round_trips,
            "{name}: waves differ"
        );
        // The recording holds what was read and no more than the scenario's world.
        assert!(
            text.len()
                <= std::fs::metadata(scenario_dir(&name).join("world.json"))
                    .unwrap()
                    .len() as usize
                    * 2
        );
    }
}

/// Whether a listener serves by SNI a certificate that is not issued (expired, say).
fn has_unissued_sni_certificate(world: &World) -> bool {
    world
        .elbv2
        .describe_listener_certificates
        .values()
        .flat_map(|l| &l.certificates)
        .filter(|c| c.is_default != Some(true))
        .filter_map(|c| world.acm.describe_certificate.get(&c.certificate_arn))
        .any(|c| c.certificate.status.as_deref() != Some("ISSUED"))
}

/// Whether every origin of the scenario's distributions is named by an ELB DNS name of the
/// world's region (the load balancer list read in wave 1 covers them).
fn origins_are_home_elb_names(world: &World) -> bool {
    // ALB and Classic: NAME-ID.REGION.elb.amazonaws.com; NLB: NAME-ID.elb.REGION.amazonaws.com.
    let suffix = format!(".{}.elb.amazonaws.com", world.region);
    let nlb_suffix = format!(".elb.{}.amazonaws.com", world.region);
    let origins: Vec<&Origin> = world
        .cloudfront
        .get_distribution_config
        .values()
        .flat_map(|c| &c.distribution_config.origins.items)
        .collect();
    !origins.is_empty()
        && origins.iter().all(|o| {
            let d = o.domain_name.trim_end_matches('.');
            d.ends_with(&suffix) || d.ends_with(&nlb_suffix)
        })
}

fn has_draining_target(world: &World) -> bool {
    world
        .elbv2
        .describe_target_health
        .values()
        .flat_map(|h| &h.target_health_descriptions)
        .any(|h| h.target_health.state.as_deref() == Some("draining"))
}

#[tokio::test]
async fn target_group_attributes_are_read_only_for_draining_targets() {
    let (alarm, world) = load("alb-502-deregistration-during-deploy");
    assert!(has_draining_target(&world));
    let v = triage(&world, &alarm, &opts(&world, Duration::from_secs(10))).await;
    assert_eq!(v.stats.round_trips, 3);
    let f = v
        .findings
        .iter()
        .find(|f| f.rule == "alb.deregistration_inflight")
        .expect("the draining rule");
    assert!(
        f.evidence
            .iter()
            .any(|e| e.starts_with("deregistration_delay.timeout_seconds")),
        "the delay was read: {:?}",
        f.evidence
    );
    // The attributes unreadable: still three waves (the call was made), and a gap.
    let (alarm, mut world) = load("alb-502-deregistration-during-deploy");
    world.faults.insert(
        "elasticloadbalancing:DescribeTargetGroupAttributes".into(),
        Fault {
            code: "AccessDeniedException".into(),
            message: "not authorized".into(),
        },
    );
    let denied = triage(&world, &alarm, &opts(&world, Duration::from_secs(10))).await;
    assert_eq!(denied.stats.round_trips, 3);
    assert!(
        denied
            .gaps
            .iter()
            .any(|g| g.source == "elasticloadbalancing:DescribeTargetGroupAttributes"),
        "{:?}",
        denied.gaps
    );
    // The same incident with no draining target: no attributes read, two waves.
    let (alarm, mut world) = load("alb-502-deregistration-during-deploy");
    let groups = world.elbv2.describe_target_health.len();
    for h in world.elbv2.describe_target_health.values_mut() {
        for t in &mut h.target_health_descriptions {
            if t.target_health.state.as_deref() == Some("draining") {
                t.target_health.state = Some("healthy".into());
            }
        }
    }
    let calm = triage(&world, &alarm, &opts(&world, Duration::from_secs(10))).await;
    assert_eq!(calm.stats.round_trips, 2);
    assert!(groups >= 1 && calm.stats.api_calls < v.stats.api_calls);
}

#[tokio::test]
async fn alb_triage_takes_two_waves_and_cloudfront_three_or_four() {
    for name in scenario_names() {
        let (alarm, world) = load(&name);
        let v = triage(&world, &alarm, &opts(&world, Duration::from_secs(10))).await;
        if name.starts_with("not-ours") {
            assert_eq!(
                v.stats.round_trips, 0,
                "{name}: no AWS call for an alarm not ours"
            );
            continue;
        }
        if let Some(want) = api_or_classic_waves(&name, &world) {
            assert_eq!(v.stats.round_trips, want, "{name}");
        } else if name.starts_with("cf-") && api_origin(&world) {
            // The distribution, the region's REST APIs (REST or HTTP API?), then the REST
            // API's 3 waves.
            assert_eq!(v.stats.round_trips, 1 + 1 + 3, "{name}");
        } else if name.starts_with("cf-") && only_s3_origins(&world) {
            // An S3 origin is not followed: the distribution and its metrics, one wave, and
            // after it the origin request policies and the edge-function metrics.
            assert_eq!(v.stats.round_trips, s3_waves(&world), "{name}");
        } else if name.starts_with("cf-")
            && v.findings.iter().all(|f| f.rule != "cf.origin_dns_failure")
        {
            // The origin's ALB found: 3 waves when its list was read in wave 1 (an ELB DNS
            // name of the home region), 4 when a Route 53 record leads to it.
            let want = if origins_are_home_elb_names(&world) {
                3
            } else {
                4
            };
            // An SNI certificate the list cannot answer for (not issued) is described after
            // the listener's certificates are read: one more wave on that chain.
            let want = want + usize::from(has_unissued_sni_certificate(&world));
            assert_eq!(v.stats.round_trips, want, "{name}");
        } else if !name.starts_with("cf-") {
            // A draining target: its group's attributes are read after its health. A
            // composite alarm is described (with its children) before its child's load
            // balancer is known: one wave more.
            let want = if has_draining_target(&world) { 3 } else { 2 };
            let want = want + usize::from(name.starts_with("composite-"));
            assert_eq!(v.stats.round_trips, want, "{name}");
        } else {
            assert!(v.stats.round_trips >= 2, "{name}: {}", v.stats.round_trips);
        }
        assert!(
            v.stats.api_calls >= 4,
            "{name}: {} calls",
            v.stats.api_calls
        );
        if world.faults.is_empty() && world.errors.is_empty() {
            // A composite alarm's children left out are named in a gap of their own.
            let read_gaps: Vec<_> = v
                .gaps
                .iter()
                .filter(|g| g.source != "composite rule")
                .collect();
            assert!(read_gaps.is_empty(), "{name}: {read_gaps:?}");
        }
    }
}

/// The waves of an API Gateway or Classic Load Balancer triage (`None` for the others): a
/// Classic Load Balancer 1 (the alarm names it); a REST API 3 (the API by name, then its
/// stage and resources, then the functions), an HTTP API 2 (its id is in the alarm); a load
/// balancer behind an integration adds its 2 ALB waves after what names it: a REST VPC link
/// (wave 3), an HTTP API VPC-link listener (wave 1), an HTTP integration URL (the region's
/// load balancer list, wave 2).
fn api_or_classic_waves(name: &str, world: &World) -> Option<usize> {
    if name.starts_with("clb-") {
        return Some(1);
    }
    if !name.starts_with("apigw-") {
        return None;
    }
    let rest = world.apigateway.get_rest_apis.is_some();
    let backend = !world
        .elbv2
        .describe_load_balancers
        .load_balancers
        .is_empty();
    let via_vpc_link = world
        .apigatewayv2
        .get_integrations
        .values()
        .flat_map(|i| &i.items)
        .any(|i| i.connection_type.as_deref() == Some("VPC_LINK"));
    Some(match (rest, backend) {
        (true, false) => 3,
        (true, true) => 3 + 2,
        (false, false) => 2,
        (false, true) if via_vpc_link => 1 + 2,
        (false, true) => 2 + 2,
    })
}

/// Whether an origin is an API Gateway endpoint (`*.execute-api.*`).
fn api_origin(world: &World) -> bool {
    world
        .cloudfront
        .get_distribution_config
        .values()
        .flat_map(|d| &d.distribution_config.origins.items)
        .any(|o| o.domain_name.contains(".execute-api."))
}

/// Whether every origin of every distribution is an S3 bucket (not followed).
fn only_s3_origins(world: &World) -> bool {
    world.cloudfront.get_distribution_config.values().all(|d| {
        d.distribution_config
            .origins
            .items
            .iter()
            .all(|o| o.s3_origin_config.is_some())
    })
}

/// The waves of a triage of S3-only distributions: the configs and metrics; a second wave
/// for origin request policies; the edge-function metrics beside it, listed then read (two
/// waves after the configs) when that second wave is taken anyway, else read at once (one).
fn s3_waves(world: &World) -> usize {
    let behaviors = || {
        world
            .cloudfront
            .get_distribution_config
            .values()
            .flat_map(|d| {
                let c = &d.distribution_config;
                std::iter::once(&c.default_cache_behavior)
                    .chain(c.cache_behaviors.iter().flat_map(|b| &b.items))
            })
    };
    let policies = behaviors().any(|b| b.origin_request_policy_id.is_some());
    let edge = behaviors().any(|b| {
        b.function_associations
            .as_ref()
            .is_some_and(|f| !f.items.is_empty())
            || b.lambda_function_associations
                .as_ref()
                .is_some_and(|l| !l.items.is_empty())
    });
    let edge_waves = match (edge, policies) {
        (false, _) => 0,
        (true, true) => 2,
        (true, false) => 1,
    };
    1 + usize::from(policies).max(edge_waves)
}

fn fail_home_lb_list(world: &mut World) {
    world.errors.insert(
        "elasticloadbalancing:DescribeLoadBalancers".into(),
        [(
            world.region.clone(),
            Fault {
                code: "AccessDenied".into(),
                message: "not authorized to perform elasticloadbalancing:DescribeLoadBalancers"
                    .into(),
            },
        )]
        .into(),
    );
}

#[tokio::test]
async fn the_home_load_balancer_list_read_early_is_a_gap_only_when_an_origin_needs_it() {
    // The origin is an eu-west-1 load balancer: the home region's list (us-east-1, read in
    // wave 1 before the origin was known) is not needed, and its failure says nothing.
    let (alarm, world) = load("cf-502-origin-alb-replaced");
    assert_eq!(world.region, "us-east-1");
    let clean = triage(&world, &alarm, &opts(&world, Duration::from_secs(10))).await;
    let mut failing = world.clone();
    fail_home_lb_list(&mut failing);
    let v = triage(&failing, &alarm, &opts(&failing, Duration::from_secs(10))).await;
    assert!(v.gaps.is_empty(), "{:?}", v.gaps);
    assert_eq!(comparable(&v), comparable(&clean));

    // The origin is an ELB DNS name of the home region: the list is needed, its failure is a
    // gap naming the region (the distribution's own evidence still decides the verdict).
    let (alarm, mut world) = load("cf-504-slow-origin");
    assert!(origins_are_home_elb_names(&world));
    fail_home_lb_list(&mut world);
    let v = triage(&world, &alarm, &opts(&world, Duration::from_secs(10))).await;
    let gap = v
        .gaps
        .iter()
        .find(|g| g.source == "elasticloadbalancing:DescribeLoadBalancers")
        .unwrap_or_else(|| panic!("{:?}", v.gaps));
    assert_eq!(gap.resource.as_deref(), Some("us-east-1"));
    assert!(gap.reason.starts_with("AccessDenied"), "{gap:?}");
    // No load balancer to follow: wave 1 and the last (metrics) wave.
    assert_eq!(v.stats.round_trips, 2);
}

#[tokio::test]
async fn a_load_balancer_named_by_the_alarm_and_behind_the_origin_is_described_once() {
    use fivexx::evidence::gather::{GatherOptions, gather};
    use fivexx::scope::{AlbRef, Scope};
    let (_, world) = load("cf-504-slow-origin");
    let dist = world
        .cloudfront
        .get_distribution_config
        .keys()
        .next()
        .unwrap()
        .clone();
    let lb = world.elbv2.describe_load_balancers.load_balancers[0].clone();
    let opts = GatherOptions {
        now: world.now.unwrap(),
        deadline: tokio::time::Instant::now() + Duration::from_secs(10),
        home_region: world.region.clone(),
        alarm_queries: Vec::new(),
        renewal_horizon: chrono::Duration::days(fivexx::rules::cert::RENEWAL_HORIZON_DAYS),
    };
    let cf_only = Scope {
        albs: Vec::new(),
        distributions: vec![dist.clone()],
        ..Scope::default()
    };
    let both = Scope {
        albs: vec![AlbRef {
            region: world.region.clone(),
            arn: lb.load_balancer_arn.clone(),
            target_groups: Vec::new(),
        }],
        distributions: vec![dist],
        ..Scope::default()
    };
    let a = gather(&world, &cf_only, &opts).await;
    let b = gather(&world, &both, &opts).await;
    assert_eq!(a.albs.len(), 1);
    assert_eq!(b.albs.len(), 1);
    // The alarm's own load balancer is described by the ALB path (its DescribeLoadBalancers
    // by ARN is the one extra call); the CloudFront path links the origin to it and does not
    // describe it again.
    assert_eq!(b.stats.api_calls, a.stats.api_calls + 1);
    assert_eq!(
        b.distributions[0].origins[0].alb_arn.as_deref(),
        Some(lb.load_balancer_arn.as_str())
    );
    // CloudFront alone: the origin's load balancer waits for the distribution config (3
    // waves). Named by the alarm too, it is gathered from the first wave, beside the config
    // and the policy it names (2 waves).
    assert_eq!(a.stats.round_trips, 3);
    assert_eq!(b.stats.round_trips, 2);
}

#[tokio::test]
async fn fifty_target_groups_still_take_two_waves() {
    let (alarm, mut world) = load("alb-502-keepalive-shorter-than-idle");
    let tg = world.elbv2.describe_target_groups.target_groups[0].clone();
    let health = world.elbv2.describe_target_health[&tg.target_group_arn].clone();
    let attrs = world.elbv2.describe_target_group_attributes[&tg.target_group_arn].clone();
    for i in 1..50 {
        let mut t = tg.clone();
        t.target_group_arn = t
            .target_group_arn
            .replace("web-tg/", &format!("web-tg-{i}/"));
        t.target_group_name = Some(format!("web-tg-{i}"));
        world
            .elbv2
            .describe_target_health
            .insert(t.target_group_arn.clone(), health.clone());
        world
            .elbv2
            .describe_target_group_attributes
            .insert(t.target_group_arn.clone(), attrs.clone());
        world.elbv2.describe_target_groups.target_groups.push(t);
    }
    let v = triage(&world, &alarm, &opts(&world, Duration::from_secs(10))).await;
    assert_eq!(v.stats.round_trips, 2);
    // Wave 1: 4 calls, the certificate list and the alarm's description. Wave 2: 50 x health
    // (no target draining: no attributes), 2 listeners' rules, the HTTPS listener's
    // certificates, no certificate description (issued, far from expiry: the list answers),
    // and 19 + 50 x 10 = 519 metric queries in 2 GetMetricData calls.
    assert_eq!(v.stats.api_calls, 6 + 50 + 2 + 1 + 2);
    assert!(v.gaps.is_empty(), "{:?}", v.gaps);
}

/// The scenario's listener certificate: issued, expiring in June 2027.
fn tls_scenario_with_certificate_days(days: Option<i64>) -> (Alarm, World, String) {
    let (alarm, mut world) = load("alb-502-target-tls-handshake");
    let now = world.now.unwrap();
    let (arn, cert) = world.acm.describe_certificate.iter_mut().next().unwrap();
    if let Some(days) = days {
        cert.certificate.not_after = Some(now + chrono::Duration::days(days));
    }
    let arn = arn.clone();
    (alarm, world, arn)
}

async fn certificate_evidence(world: &World, alarm: &Alarm) -> (CertificateDetail, usize) {
    let scope = fivexx::scope::scope(alarm, &world.region, world.account.as_deref()).unwrap();
    let o = opts(world, Duration::from_secs(10));
    let e = fivexx::evidence::gather::gather(
        world,
        &scope,
        &fivexx::evidence::gather::GatherOptions {
            now: o.now,
            deadline: o.deadline,
            home_region: o.home_region,
            alarm_queries: Vec::new(),
            renewal_horizon: chrono::Duration::days(fivexx::rules::cert::RENEWAL_HORIZON_DAYS),
        },
    )
    .await;
    let cert = e.albs[0].certificates.values().next().unwrap().clone();
    (cert, e.stats.api_calls)
}

#[tokio::test]
async fn a_certificate_is_described_only_near_expiry() {
    // Far from expiry: the summary from ListCertificates is kept, DescribeCertificate skipped.
    let (alarm, world, arn) = tls_scenario_with_certificate_days(None);
    let (listed, calls) = certificate_evidence(&world, &alarm).await;
    assert_eq!(listed.certificate_arn, arn);
    assert!(listed.not_after.is_some() && listed.status.as_deref() == Some("ISSUED"));
    assert!(
        listed.domain_validation_options.is_empty(),
        "a summary: {listed:?}"
    );
    // Within the renewal horizon: described, validation options and all; one call more.
    let (alarm, world, _) = tls_scenario_with_certificate_days(Some(30));
    let (described, calls_near) = certificate_evidence(&world, &alarm).await;
    assert!(!described.domain_validation_options.is_empty());
    assert_eq!(calls_near, calls + 1);
    // The list unreadable: described, and no gap for the list.
    let (alarm, mut world, _) = tls_scenario_with_certificate_days(None);
    world.errors.insert(
        "acm:ListCertificates".into(),
        [(
            world.region.clone(),
            Fault {
                code: "AccessDeniedException".into(),
                message: "not authorized".into(),
            },
        )]
        .into(),
    );
    let (described, calls_failed) = certificate_evidence(&world, &alarm).await;
    assert!(!described.domain_validation_options.is_empty());
    assert_eq!(calls_failed, calls + 1);
}

#[tokio::test]
async fn a_fault_becomes_a_gap_and_the_triage_goes_on() {
    let (alarm, mut world) = load("cf-502-origin-cert-expired");
    world.faults.insert(
        "acm:DescribeCertificate".into(),
        Fault {
            code: "AccessDeniedException".into(),
            message: "not authorized to perform acm:DescribeCertificate".into(),
        },
    );
    let v = triage(&world, &alarm, &opts(&world, Duration::from_secs(10))).await;
    let gap = v
        .gaps
        .iter()
        .find(|g| g.source == "acm:DescribeCertificate")
        .expect("a gap for ACM");
    assert!(gap.reason.starts_with("AccessDeniedException"), "{gap:?}");
    // The certificate list fails with it (one source in a world), and is no gap of its own:
    // the certificate was then described, and that failure is the gap.
    assert!(
        v.gaps.iter().all(|g| g.source != "acm:ListCertificates"),
        "{:?}",
        v.gaps
    );
    // Without the certificate the cause cannot be named: inconclusive, and it says why.
    assert_eq!(v.status.as_str(), "inconclusive");
    assert!(
        v.summary.contains("acm:DescribeCertificate"),
        "{}",
        v.summary
    );
    assert_eq!(v.stats.round_trips, 4, "the other sources were still read");
}

#[tokio::test]
async fn a_missing_target_group_health_is_a_gap_not_an_empty_group() {
    let (alarm, mut world) = load("alb-502-target-tls-handshake");
    world.elbv2.describe_target_health.clear();
    let v = triage(&world, &alarm, &opts(&world, Duration::from_secs(10))).await;
    assert!(
        v.gaps
            .iter()
            .any(|g| g.source == "elasticloadbalancing:DescribeTargetHealth")
    );
    assert!(
        v.findings
            .iter()
            .all(|f| f.rule != "alb.no_registered_targets")
    );
}

/// Paused tokio time: the hour-long sleep and the deadline resolve without waiting.
#[tokio::test(start_paused = true)]
async fn no_call_runs_past_the_deadline() {
    let (alarm, world) = load("alb-502-target-tls-handshake");
    // The certificates never answer (an hour); everything else at once.
    let hour = Duration::from_secs(3600);
    let port = Delayed::new(
        world,
        &[("DescribeCertificate", hour), ("ListCertificates", hour)],
        Duration::ZERO,
    );
    let start = tokio::time::Instant::now();
    let o = opts(&port.world, Duration::from_secs(10));
    let v = triage(&port, &alarm, &o).await;
    let waited = tokio::time::Instant::now() - start;
    assert!(waited <= Duration::from_secs(10), "waited {waited:?}");
    let gap = v
        .gaps
        .iter()
        .find(|g| g.source == "acm:DescribeCertificate")
        .unwrap();
    assert!(gap.reason.starts_with("DeadlineExceeded"), "{gap:?}");
    // Everything else arrived: the TLS cause is still found.
    assert_eq!(v.findings[0].rule, "alb.target_tls_handshake");
}

#[test]
fn world_metric_queries_match_dimension_sets_not_order() {
    let (_, world) = load("alb-502-keepalive-shorter-than-idle");
    let now: DateTime<Utc> = world.now.unwrap();
    let window = fivexx::evidence::gather::window_for(now);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let q = |dims: &[(&str, &str)], stat: &str| {
        MetricQuery::new(
            "us-east-1",
            "AWS/ApplicationELB",
            "RequestCount",
            dims,
            stat,
        )
    };
    let a = q(
        &[
            ("TargetGroup", "targetgroup/web-tg/81540f1e63039095"),
            ("LoadBalancer", "app/web/f3b962d72ac3e219"),
        ],
        "Sum",
    );
    let other_region = MetricQuery::new(
        "eu-west-1",
        "AWS/ApplicationELB",
        "RequestCount",
        &[("LoadBalancer", "app/web/f3b962d72ac3e219")],
        "Sum",
    );
    let missing = q(&[("LoadBalancer", "app/other/1")], "Sum");
    let series = rt
        .block_on(world.call::<GetMetricData>(
            "us-east-1",
            &MetricRequest {
                queries: vec![a, missing],
                window,
            },
        ))
        .unwrap();
    assert_eq!(series[0].points.len(), 120);
    assert!(series[1].is_empty(), "no matching series means no data");
    let eu = rt
        .block_on(world.call::<GetMetricData>(
            "eu-west-1",
            &MetricRequest {
                queries: vec![other_region],
                window,
            },
        ))
        .unwrap();
    assert!(eu[0].is_empty(), "series live in the world's region");
}

/// A port that answers from a world after a delay per operation (paused tokio time), and
/// notes when each call started.
struct Delayed {
    world: World,
    t0: tokio::time::Instant,
    delays: Vec<(&'static str, Duration)>,
    default: Duration,
    started: std::sync::Mutex<Vec<(&'static str, Duration)>>,
}

impl Delayed {
    fn new(world: World, delays: &[(&'static str, Duration)], default: Duration) -> Self {
        Self {
            world,
            t0: tokio::time::Instant::now(),
            delays: delays.to_vec(),
            default,
            started: std::sync::Mutex::new(Vec::new()),
        }
    }

    async fn wait(&self, op: &'static str) {
        self.started.lock().unwrap().push((op, self.t0.elapsed()));
        let delay = self
            .delays
            .iter()
            .find(|(o, _)| *o == op)
            .map_or(self.default, |(_, d)| *d);
        tokio::time::sleep(delay).await;
    }

    fn starts(&self, op: &str) -> Vec<Duration> {
        let started = self.started.lock().unwrap();
        started
            .iter()
            .filter(|(o, _)| *o == op)
            .map(|(_, t)| *t)
            .collect()
    }
}

impl Port for Delayed {
    async fn call<O: Operation>(&self, region: &str, input: &O::Input) -> Answer<O::Output> {
        let name = O::OP.iam_name();
        self.wait(name.split_once(':').map_or(name, |(_, op)| op))
            .await;
        self.world.call::<O>(region, input).await
    }
    fn api_calls(&self) -> usize {
        self.world.api_calls()
    }
}

/// Each ALB call waits for what it needs, not for the whole previous wave: a slow certificate
/// list (another service; up to 1,000 certificates a page) holds up only the certificates.
#[tokio::test(start_paused = true)]
async fn a_slow_certificate_list_holds_up_only_the_certificates() {
    let (alarm, world) = load("alb-502-target-tls-handshake");
    let slow = Duration::from_secs(2);
    let port = Delayed::new(
        world,
        &[("ListCertificates", slow)],
        Duration::from_millis(50),
    );
    let v = triage(&port, &alarm, &opts(&port.world, Duration::from_secs(10))).await;
    assert_eq!(v.stats.round_trips, 2);
    let wave2 = Duration::from_millis(50);
    for op in ["DescribeTargetHealth", "DescribeRules", "GetMetricData"] {
        let starts = port.starts(op);
        assert!(!starts.is_empty(), "{op} was not called");
        assert!(
            starts.iter().all(|t| *t == wave2),
            "{op} started at {starts:?}"
        );
    }
    // The certificate waits for the list, and is described when the list cannot answer.
    assert!(
        port.starts("DescribeCertificate")
            .iter()
            .all(|t| *t >= slow),
        "{:?}",
        port.starts("DescribeCertificate")
    );
    assert_eq!(v.findings[0].rule, "alb.target_tls_handshake");
}

/// The same with the target groups slow: their health, the metrics and the listeners' rules
/// wait for them (the rules are asked after the health, so that under a rate limit the health
/// takes the first tokens); the certificate list does not.
#[tokio::test(start_paused = true)]
async fn slow_target_groups_hold_up_what_is_asked_after_them_not_the_certificate_list() {
    let (alarm, world) = load("alb-502-target-tls-handshake");
    let slow = Duration::from_secs(2);
    let port = Delayed::new(
        world,
        &[("DescribeTargetGroups", slow)],
        Duration::from_millis(50),
    );
    let v = triage(&port, &alarm, &opts(&port.world, Duration::from_secs(10))).await;
    assert_eq!(port.starts("ListCertificates"), vec![Duration::ZERO]);
    for op in ["DescribeTargetHealth", "GetMetricData", "DescribeRules"] {
        let starts = port.starts(op);
        assert!(
            !starts.is_empty() && starts.iter().all(|t| *t == slow),
            "{op}: {starts:?}"
        );
    }
    assert_eq!(v.findings[0].rule, "alb.target_tls_handshake");
}

/// CloudWatch keys REST API metrics by `ApiName`: with two APIs of that name the series mix
/// both, and the verdict says so (a gap naming both ids' count and the one examined). Without
/// the API at all, the gap says it was not found.
#[tokio::test]
async fn rest_apis_sharing_a_name_are_a_gap() {
    let (alarm, mut world) = load("apigw-502-lambda-timeout");
    let list = world.apigateway.get_rest_apis.as_mut().unwrap();
    let mut twin = list.items[0].clone();
    twin.id = "zz9twin000".into();
    list.items.push(twin);
    let v = triage(&world, &alarm, &opts(&world, Duration::from_secs(10))).await;
    let gap = v
        .gaps
        .iter()
        .find(|g| g.source == "apigateway:GetRestApis")
        .expect("a gap for the shared name");
    assert!(gap.reason.starts_with("Ambiguous: 2 REST APIs"), "{gap:?}");
    assert!(gap.reason.contains("share one series"), "{gap:?}");
    assert_eq!(v.findings[0].rule, "apigw.lambda_timeout");

    world
        .apigateway
        .get_rest_apis
        .as_mut()
        .unwrap()
        .items
        .clear();
    let v = triage(&world, &alarm, &opts(&world, Duration::from_secs(10))).await;
    assert!(
        v.gaps.iter().any(|g| g
            .reason
            .starts_with("NotFound: no REST API named `orders-api`")),
        "{:?}",
        v.gaps
    );
}

/// Makes every `DescribeAlarms` of `world` fail with `code`.
fn fail_describe_alarms(world: &mut World, code: &str) {
    let fault = Fault {
        code: code.into(),
        message: "no".into(),
    };
    world
        .faults
        .insert("cloudwatch:DescribeAlarms".into(), fault);
}

/// `DescribeAlarms` runs beside the first wave: one call more, no wave more; its evaluation
/// periods set the alarm window (3 x 300 s: 15 minutes, where the payload alone gives 5).
/// Denied, it is a gap and the triage goes on from the payload, with its 5 minutes.
#[tokio::test]
async fn describe_alarms_sets_the_window_and_its_failure_is_a_gap() {
    let (alarm, world) = load("alb-504-window-from-describe-alarms");
    assert_eq!(alarm.evaluation_periods, None);
    let read = triage(&world, &alarm, &opts(&world, Duration::from_secs(10))).await;
    assert_eq!(read.alarm.evaluation_periods, Some(3));
    assert_eq!(read.alarm.period, Some(300));
    assert!(read.summary.contains("in 15 min"), "{}", read.summary);
    assert!(read.gaps.is_empty(), "{:?}", read.gaps);
    let (_, mut without) = load("alb-504-window-from-describe-alarms");
    without.cloudwatch.describe_alarms.clear();
    let payload_only = triage(&without, &alarm, &opts(&without, Duration::from_secs(10))).await;
    assert!(
        payload_only.summary.contains("in 5 min"),
        "{}",
        payload_only.summary
    );
    assert_eq!(payload_only.stats, read.stats);
    for code in ["AccessDenied", "Throttling"] {
        let (_, mut denied) = load("alb-504-window-from-describe-alarms");
        fail_describe_alarms(&mut denied, code);
        let v = triage(&denied, &alarm, &opts(&denied, Duration::from_secs(10))).await;
        let gap = v
            .gaps
            .iter()
            .find(|g| g.source == "cloudwatch:DescribeAlarms")
            .unwrap_or_else(|| panic!("{code}: no gap in {:?}", v.gaps));
        assert!(gap.reason.starts_with(code), "{}", gap.reason);
        assert_eq!(gap.resource.as_deref(), Some(alarm.name.as_str()));
        assert_eq!(v.status, read.status, "{code}");
        assert!(v.summary.contains("in 5 min"), "{code}: {}", v.summary);
        assert_eq!(v.alarm.evaluation_periods, None);
        assert_eq!(v.stats.round_trips, read.stats.round_trips);
    }
}

/// A composite alarm's children are described beside it (the payload carries the rule); when
/// only the description carries it, after it. Denied, the composite is inconclusive as before,
/// with the gap.
#[tokio::test]
async fn composite_alarms_are_triaged_from_their_children() {
    let (alarm, world) = load("composite-alb-504-child-targets-unreachable");
    assert!(alarm.metrics.is_empty());
    let v = triage(&world, &alarm, &opts(&world, Duration::from_secs(10))).await;
    assert_eq!(v.alarm.name, "web-frontdoor");
    assert_eq!(v.findings[0].rule, "alb.target_unreachable");
    assert_eq!(v.stats.round_trips, 3);
    let mut no_rule = alarm.clone();
    no_rule.alarm_rule = None;
    let late = triage(&world, &no_rule, &opts(&world, Duration::from_secs(10))).await;
    assert_eq!(late.findings[0].rule, "alb.target_unreachable");
    assert_eq!(late.stats.round_trips, 4);
    assert_eq!(late.stats.api_calls, v.stats.api_calls);
    let (_, mut denied) = load("composite-alb-504-child-targets-unreachable");
    fail_describe_alarms(&mut denied, "AccessDenied");
    let v = triage(&denied, &alarm, &opts(&denied, Duration::from_secs(10))).await;
    assert_eq!(v.status, fivexx::verdict::Status::Inconclusive);
    assert!(
        v.summary.contains("has no metrics of its own"),
        "{}",
        v.summary
    );
    assert!(
        v.gaps
            .iter()
            .any(|g| g.source == "cloudwatch:DescribeAlarms"),
        "{:?}",
        v.gaps
    );
}

/// Per-input errors (`Errors` in the world format): one target group of two throttled. Its
/// health is a gap whose remedy says to retry (not to grant a permission), the other group is
/// still read, the answer stands, and no health rule is "excluded" on the unread group.
#[tokio::test]
async fn one_throttled_target_group_is_a_gap_of_its_own() {
    let (alarm, mut world) = load("alb-503-fixed-response-maintenance");
    let api =
        "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/shop-api/1b3d5f7a9c2e4a68";
    world.errors.insert(
        "elasticloadbalancing:DescribeTargetHealth".into(),
        [(
            api.to_owned(),
            Fault {
                code: "Throttling".into(),
                message: "Rate exceeded".into(),
            },
        )]
        .into(),
    );
    let v = triage(&world, &alarm, &opts(&world, Duration::from_secs(10))).await;
    let health_gaps: Vec<_> = v
        .gaps
        .iter()
        .filter(|g| g.source == "elasticloadbalancing:DescribeTargetHealth")
        .collect();
    assert_eq!(health_gaps.len(), 1, "{:?}", v.gaps);
    assert_eq!(health_gaps[0].resource.as_deref(), Some(api));
    assert!(
        health_gaps[0].reason.starts_with("Throttling"),
        "{:?}",
        health_gaps[0]
    );
    assert_eq!(v.findings[0].rule, "alb.fixed_response_5xx");
    let r = v
        .ruled_out
        .iter()
        .find(|r| r.rule == "alb.all_targets_unhealthy")
        .expect("alb.all_targets_unhealthy ruled out or unchecked");
    assert_eq!(
        r.gap.as_deref(),
        Some("elasticloadbalancing:DescribeTargetHealth")
    );
    assert!(
        r.reason.contains("shop-api") && r.reason.contains("Throttling"),
        "{}",
        r.reason
    );
    if v.status == fivexx::verdict::Status::Inconclusive {
        assert!(v.summary.contains("retry"), "{}", v.summary);
    }
}

/// A port with AWS's rate limit modelled for the ELB API only (a token bucket, as
/// `evidence::pace` keeps one), recording which calls got a token, in order.
struct Paced {
    world: World,
    burst: f64,
    per_second: f64,
    bucket: std::sync::Mutex<(f64, tokio::time::Instant)>,
    granted: std::sync::Mutex<Vec<(String, String)>>,
}

impl Paced {
    fn new(world: World, burst: f64, per_second: f64) -> Self {
        Self {
            world,
            burst,
            per_second,
            bucket: std::sync::Mutex::new((burst, tokio::time::Instant::now())),
            granted: std::sync::Mutex::new(Vec::new()),
        }
    }

    fn granted(&self, op: &str) -> Vec<usize> {
        let granted = self.granted.lock().unwrap();
        granted
            .iter()
            .enumerate()
            .filter(|(_, (o, _))| o == op)
            .map(|(i, _)| i)
            .collect()
    }
}

impl Port for Paced {
    async fn call<O: Operation>(&self, region: &str, input: &O::Input) -> Answer<O::Output> {
        tokio::time::sleep(Duration::from_millis(50)).await;
        self.world.call::<O>(region, input).await
    }

    async fn pace<O: Operation>(
        &self,
        region: &str,
        input: &O::Input,
        latest: tokio::time::Instant,
    ) -> Answer<()> {
        let name = O::OP.iam_name();
        if !name.starts_with("elasticloadbalancing:") {
            return Ok(());
        }
        let now = tokio::time::Instant::now();
        let wait = {
            let mut b = self.bucket.lock().unwrap();
            let tokens = (b.0 + (now - b.1).as_secs_f64() * self.per_second).min(self.burst) - 1.0;
            let wait = Duration::from_secs_f64((-tokens).max(0.0) / self.per_second);
            if now + wait > latest {
                // Refilled, nothing taken.
                *b = (tokens + 1.0, now);
                return Err(fivexx::evidence::port::SourceError::budget_for_tests(wait));
            }
            *b = (tokens, now);
            wait
        };
        let (_, op) = name.split_once(':').unwrap();
        self.granted
            .lock()
            .unwrap()
            .push((op.to_owned(), O::key(region, input)));
        tokio::time::sleep(wait).await;
        Ok(())
    }

    fn api_calls(&self) -> usize {
        self.world.api_calls()
    }
}

/// A load balancer with 12 target groups behind 12 HTTPS listeners, its alarm on the 8th
/// group (`web-tg-7`): the world of `alb-502-target-tls-handshake`, widened.
fn wide_alb() -> (Alarm, World) {
    let dir = scenario_dir("alb-502-target-tls-handshake");
    let mut w: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("world.json")).unwrap()).unwrap();
    let elb = &mut w["ElasticLoadBalancingV2"];
    let tg0 = elb["DescribeTargetGroups"]["TargetGroups"][0].clone();
    let tg_arn0 = tg0["TargetGroupArn"].as_str().unwrap().to_owned();
    let health0 = elb["DescribeTargetHealth"][&tg_arn0].clone();
    let lb_arn = elb["DescribeLoadBalancers"]["LoadBalancers"][0]["LoadBalancerArn"]
        .as_str()
        .unwrap()
        .to_owned();
    let l0 = elb["DescribeListeners"][&lb_arn]["Listeners"][0].clone();
    let (mut tgs, mut listeners) = (Vec::new(), Vec::new());
    for i in 0..12 {
        let arn = format!(
            "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-tg-{i}/{i:016x}"
        );
        let mut tg = tg0.clone();
        tg["TargetGroupArn"] = arn.clone().into();
        tg["TargetGroupName"] = format!("web-tg-{i}").into();
        tgs.push(tg);
        elb["DescribeTargetHealth"][&arn] = health0.clone();
        let mut l = l0.clone();
        l["ListenerArn"] = format!(
            "{}/{i:016x}",
            lb_arn.replace(":loadbalancer/", ":listener/")
        )
        .into();
        l["Port"] = (8000 + i).into();
        l["DefaultActions"][0]["TargetGroupArn"] = arn.clone().into();
        l["DefaultActions"][0]["ForwardConfig"]["TargetGroups"][0]["TargetGroupArn"] = arn.into();
        listeners.push(l);
    }
    elb["DescribeTargetGroups"]["TargetGroups"] = tgs.into();
    elb["DescribeListeners"][&lb_arn]["Listeners"] = listeners.into();
    let world: World = serde_json::from_value(w).unwrap();
    let mut ev: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("event.json")).unwrap()).unwrap();
    ev["alarmData"]["configuration"]["metrics"][0]["metricStat"]["metric"]["dimensions"]["TargetGroup"] =
        "targetgroup/web-tg-7/0000000000000007".into();
    (alarm::parse_str(&ev.to_string()).unwrap(), world)
}

/// Under a drained ELB bucket (10 tokens, 5 a second), the calls go in the order the rules
/// need them: the alarm's own group's health first, then the other groups', then the
/// listeners' rules; the listeners' SNI certificates, which only the renewal warning reads,
/// may wait a second for a token and no longer: those that cannot are gaps of kind `budget`,
/// never errors, and nothing else is missing.
#[tokio::test(start_paused = true)]
async fn a_drained_bucket_serves_the_alarms_group_first_and_skips_details_for_budget() {
    let (alarm, world) = wide_alb();
    let port = Paced::new(world, 10.0, 5.0);
    let v = triage(&port, &alarm, &opts(&port.world, Duration::from_secs(10))).await;
    let health = port.granted("DescribeTargetHealth");
    let rules = port.granted("DescribeRules");
    let sni = port.granted("DescribeListenerCertificates");
    assert_eq!(health.len(), 12, "every group's health is read");
    assert_eq!(rules.len(), 12, "every listener's rules are read");
    let first = &port.granted.lock().unwrap()[health[0]];
    assert!(first.1.contains("web-tg-7"), "first health: {first:?}");
    assert!(
        health.iter().max() < rules.iter().min(),
        "health before rules"
    );
    assert!(
        sni.iter().all(|s| s > rules.iter().max().unwrap()),
        "certificates last"
    );
    assert!(sni.len() < 12 - 3, "most certificates cannot wait: {sni:?}");
    let budget: Vec<_> = v
        .gaps
        .iter()
        .filter(|g| g.kind == fivexx::evidence::GapKind::Budget)
        .collect();
    // More than three of one operation are one gap, with their count.
    assert_eq!(budget.len(), 1, "{:#?}", v.gaps);
    assert_eq!(
        budget[0].resource.as_deref(),
        Some(format!("{} resources", 12 - sni.len()).as_str())
    );
    assert!(budget.iter().all(
        |g| g.source == "elasticloadbalancing:DescribeListenerCertificates"
            && g.reason.starts_with("Budget: not asked")
    ));
    assert_eq!(v.gaps.len(), budget.len(), "no other gap: {:#?}", v.gaps);
    let json = serde_json::to_value(&v).unwrap();
    assert!(
        json["gaps"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["kind"] == "budget")
    );
    // The 24 health and rule calls after the first wave's 4 need 18 tokens past the burst's
    // remainder, 3.6 s at 5 a second: well inside the 10 s deadline.
    assert_eq!(v.findings[0].rule, "alb.target_tls_handshake");
}
