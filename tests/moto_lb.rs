//! The two load balancer front doors that are not ALBs, against moto server: a Classic Load
//! Balancer (`AWS/ELB`) and a Network Load Balancer (`AWS/NetworkELB`) are created through the
//! real SDK clients (aws-sdk-elasticloadbalancing, aws-sdk-elasticloadbalancingv2; EC2
//! instances by hand-sent queries, `support/moto.rs`), metrics are seeded with `PutMetricData`
//! (through the CloudWatch protocol shim), then the triage runs live through the SDK adapter
//! with a recording, and the recorded world, written to a file and loaded back, replays to the
//! same verdict.
//!
//! What moto 5.2.5 cannot express: a Classic instance `OutOfService` for a failed health check
//! while its EC2 instance runs (moto derives a Classic instance's health from its EC2 state
//! only, so the instances here are stopped, and it reports reason `N/A` where AWS says
//! `Instance`), an NLB target `unhealthy` (moto reports every registered target of a running
//! instance `healthy`), and an NLB's own name: moto names every ELBv2 load balancer
//! `loadbalancer/app/NAME/ID`, a Network one too (see the NLB test). Those are the scenarios'
//! (world files under `tests/scenarios/clb-*` and `tests/scenarios/nlb-*`).

// Test code: failing loudly is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/live.rs"]
mod live;
#[path = "support/moto.rs"]
mod moto;

use aws_config::SdkConfig;
use aws_sdk_elasticloadbalancingv2::types as elb;
use chrono::{DateTime, SubsecRound, Utc};
use serde_json::json;

use fivexx::evidence::sdk::AwsSdk;
use fivexx::evidence::world::World;
use fivexx::triage::triage;
use fivexx::verdict::Status;
use live::*;
use moto::MotoServer;

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
    let mut points: Points = series
        .datapoints
        .iter()
        .filter_map(|d| {
            let v = match stat {
                "Sum" => d.sum,
                "Minimum" => d.minimum,
                other => panic!("no such statistic here: {other}"),
            };
            v.map(|v| (d.timestamp, v))
        })
        .collect();
    points.sort_by_key(|(t, _)| *t);
    points
}

// ------------------------------------------------------------------- Classic Load Balancer

/// Creates the Classic Load Balancer `legacy` (HTTP 80 to instance port 8080, health check
/// `HTTP:8080/health`, idle timeout 120 s) with two instances registered, both stopped; the
/// instance ids, sorted.
async fn seed_classic(moto: &MotoServer) -> Vec<String> {
    use aws_sdk_elasticloadbalancing::types as clb;
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
    let mut instances = moto.run_instances(2);
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
    for id in &instances {
        moto.stop_instance(id);
    }
    instances.sort_unstable();
    instances
}

/// A Classic Load Balancer whose two instances are both out of service (stopped: see the
/// module comment) while it answers 5xx. The live triage reads it in one wave
/// (DescribeLoadBalancers, DescribeInstanceHealth, DescribeLoadBalancerAttributes and
/// GetMetricData together), names `clb.no_healthy_instances` first with no gap, and the
/// recording holds every answer and the seeded datapoints; it replays to the same verdict.
#[tokio::test]
async fn classic_load_balancer_without_instances_in_service_record_then_replay() {
    let moto = MotoServer::start();
    let cfg = moto.sdk_config().await;
    let instances = seed_classic(&moto).await;
    let now = Utc::now().trunc_subsecs(0);
    let dims = [("LoadBalancerName", "legacy")];
    let recent = [1, 2, 3, 4, 5];
    let elb_5xx = at(now, &recent, 250.0);
    let requests = at(now, &recent, 260.0);
    let healthy = at(now, &recent, 0.0);
    put(&cfg, "AWS/ELB", "HTTPCode_ELB_5XX", &dims, &elb_5xx).await;
    put(&cfg, "AWS/ELB", "RequestCount", &dims, &requests).await;
    put(&cfg, "AWS/ELB", "HealthyHostCount", &dims, &healthy).await;
    let alarm = alarm_at(
        now,
        "legacy-elb-5xx",
        "AWS/ELB",
        "HTTPCode_ELB_5XX",
        json!({"LoadBalancerName": "legacy"}),
    );

    let (live, replayed, world) = record_and_replay(cfg, &alarm, now).await;
    assert_eq!(live.status, Status::Diagnosed, "{}", live.to_json());
    let first = &live.findings[0];
    assert_eq!(first.rule, "clb.no_healthy_instances", "{}", live.to_json());
    assert!(
        first
            .evidence
            .iter()
            .any(|e| e.starts_with("2/2 instances OutOfService")),
        "{:?}",
        first.evidence
    );
    assert!(
        first
            .evidence
            .iter()
            .any(|e| e == "HealthyHostCount Minimum 0 in the alarm window"),
        "the seeded HealthyHostCount corroborates: {:?}",
        first.evidence
    );
    assert!(
        first
            .resources
            .iter()
            .any(|r| r.ends_with(":loadbalancer/legacy")),
        "{:?}",
        first.resources
    );
    assert!(live.gaps.is_empty(), "{:?}", live.gaps);
    assert!(world.errors.is_empty(), "{:?}", world.errors);
    // The alarm names the load balancer: everything in one wave.
    assert_eq!(live.stats.round_trips, 1);
    let trace = live.trace.as_ref().expect("a trace of the alarm's metric");
    assert_eq!(trace.metric, "HTTPCode_ELB_5XX");
    assert_eq!(trace.values[55..], [Some(250.0); 5]);

    // What the recording holds: the three Classic answers ...
    let c = &world.elb_classic;
    let lbs = &c.describe_load_balancers.load_balancer_descriptions;
    assert_eq!(lbs.len(), 1, "{lbs:?}");
    assert_eq!(lbs[0].load_balancer_name, "legacy");
    assert_eq!(
        lbs[0]
            .health_check
            .as_ref()
            .and_then(|h| h.target.as_deref()),
        Some("HTTP:8080/health")
    );
    let mut registered: Vec<&str> = lbs[0]
        .instances
        .iter()
        .map(|i| i.instance_id.as_str())
        .collect();
    registered.sort_unstable();
    assert_eq!(registered, instances);
    let health = &c.describe_instance_health["legacy"].instance_states;
    let mut out: Vec<&str> = health
        .iter()
        .filter(|s| s.state.as_deref() == Some("OutOfService"))
        .map(|s| s.instance_id.as_str())
        .collect();
    out.sort_unstable();
    assert_eq!(out, instances, "{health:?}");
    assert_eq!(
        c.describe_load_balancer_attributes["legacy"]
            .load_balancer_attributes
            .idle_timeout(),
        120
    );
    // ... and every seeded datapoint, time and value.
    assert_eq!(recorded(&world, "HTTPCode_ELB_5XX", &dims, "Sum"), elb_5xx);
    assert_eq!(recorded(&world, "RequestCount", &dims, "Sum"), requests);
    assert_eq!(
        recorded(&world, "HealthyHostCount", &dims, "Minimum"),
        healthy
    );

    assert_eq!(without_stats(&replayed), without_stats(&live));
    assert_eq!(replayed.stats.round_trips, live.stats.round_trips);
}

// --------------------------------------------------------------------- Network Load Balancer

/// What `seed_nlb` created.
struct SeededNlb {
    /// The `LoadBalancer` dimension moto's ARN gives: `app/ingest/ID` (see the module comment).
    dimension: String,
    target_group_arn: String,
    /// Sorted.
    instances: Vec<String>,
}

/// The `LoadBalancer` dimension of a load balancer ARN (`TYPE/NAME/ID`).
fn lb_dimension(arn: &str) -> String {
    arn.split_once(":loadbalancer/")
        .map(|(_, d)| d.to_owned())
        .expect("a load balancer ARN")
}

/// An NLB `ingest` (`Type` network) in moto's default VPC with a TCP listener on 9000
/// forwarding to the TCP target group `ingest-tcp` (instance targets, TCP health check), two
/// running instances registered in it.
async fn seed_nlb(moto: &MotoServer, cfg: &SdkConfig) -> SeededNlb {
    let elbv2 = aws_sdk_elasticloadbalancingv2::Client::new(cfg);
    let (vpc, subnets) = moto.default_subnets();
    let lb = elbv2
        .create_load_balancer()
        .name("ingest")
        .set_subnets(Some(subnets))
        .scheme(elb::LoadBalancerSchemeEnum::Internal)
        .r#type(elb::LoadBalancerTypeEnum::Network)
        .send()
        .await
        .expect("CreateLoadBalancer (network)");
    let lb = lb.load_balancers().first().expect("a load balancer");
    assert_eq!(lb.r#type(), Some(&elb::LoadBalancerTypeEnum::Network));
    let arn = lb.load_balancer_arn().expect("ARN").to_owned();
    let dimension = lb_dimension(&arn);
    // AWS names it `net/ingest/ID`; moto 5.2.5 names every ELBv2 load balancer `app/...`.
    assert!(
        dimension.starts_with("app/ingest/"),
        "moto names NLBs `{dimension}` now, as AWS does: fivexx reads their AWS/NetworkELB \
         metrics and no ALB ones, so the ALB-500s half of the NLB test no longer applies"
    );

    let target_group_arn = elbv2
        .create_target_group()
        .name("ingest-tcp")
        .protocol(elb::ProtocolEnum::Tcp)
        .port(9000)
        .vpc_id(&vpc)
        .target_type(elb::TargetTypeEnum::Instance)
        .health_check_protocol(elb::ProtocolEnum::Tcp)
        .send()
        .await
        .expect("CreateTargetGroup (TCP)")
        .target_groups()
        .first()
        .and_then(|t| t.target_group_arn())
        .expect("a target group ARN")
        .to_owned();
    let mut instances = moto.run_instances(2);
    let mut register = elbv2.register_targets().target_group_arn(&target_group_arn);
    for id in &instances {
        register = register.targets(elb::TargetDescription::builder().id(id).port(9000).build());
    }
    register.send().await.expect("RegisterTargets");
    elbv2
        .create_listener()
        .load_balancer_arn(&arn)
        .protocol(elb::ProtocolEnum::Tcp)
        .port(9000)
        .default_actions(
            elb::Action::builder()
                .r#type(elb::ActionTypeEnum::Forward)
                .target_group_arn(&target_group_arn)
                .build(),
        )
        .send()
        .await
        .expect("CreateListener TCP");
    instances.sort_unstable();
    SeededNlb {
        dimension,
        target_group_arn,
        instances,
    }
}

/// An ALB `web` (no listener: the control needs only its metrics); its `LoadBalancer`
/// dimension.
async fn seed_alb(moto: &MotoServer, cfg: &SdkConfig) -> String {
    let (_, subnets) = moto.default_subnets();
    let lb = aws_sdk_elasticloadbalancingv2::Client::new(cfg)
        .create_load_balancer()
        .name("web")
        .set_subnets(Some(subnets))
        .r#type(elb::LoadBalancerTypeEnum::Application)
        .send()
        .await
        .expect("CreateLoadBalancer (application)");
    lb_dimension(
        lb.load_balancers()
            .first()
            .and_then(|l| l.load_balancer_arn())
            .expect("ARN"),
    )
}

/// Four minutes of ALB-generated 500s (`AWS/ApplicationELB`: ELB 5xx all 500, with
/// `ELBAuthError`) on the load balancer named `dimension`: what makes `alb.lb_generated_500`
/// fire on an ALB. The 500 points.
async fn seed_alb_500s(cfg: &SdkConfig, dimension: &str, now: DateTime<Utc>) -> Points {
    let lb = [("LoadBalancer", dimension)];
    let recent = [1, 2, 3, 4];
    let errors = at(now, &recent, 40.0);
    for name in [
        "HTTPCode_ELB_5XX_Count",
        "HTTPCode_ELB_500_Count",
        "ELBAuthError",
    ] {
        put(cfg, "AWS/ApplicationELB", name, &lb, &errors).await;
    }
    put(
        cfg,
        "AWS/ApplicationELB",
        "RequestCount",
        &lb,
        &at(now, &recent, 1000.0),
    )
    .await;
    errors
}

/// A Network Load Balancer whose two healthy targets start resetting connections
/// (`TCP_Target_Reset_Count` high in the last minutes, a trickle in the hour before), with an
/// alarm on it. The live triage reads it in two waves without a gap, names `nlb.target_resets`
/// first and runs no ALB rule on it; the recording holds the NLB (`Type` network), its TCP
/// listener and group, both targets healthy and the seeded resets, and replays to the same
/// verdict.
///
/// moto 5.2.5 names the NLB `loadbalancer/app/ingest/ID`, as if it were an ALB (AWS names it
/// `net/ingest/ID` and publishes its metrics under that `LoadBalancer` dimension), so the
/// alarm and the metrics here carry moto's name. fivexx tells it is an NLB from
/// `DescribeLoadBalancers`' `Type` (the `nlb.*` rules run, the `alb.*` ones do not) and from
/// its layer-4 target groups (the `AWS/NetworkELB` metrics are read). ALB-generated 500s are
/// seeded on it and on a control ALB in the same moto, where they make `alb.lb_generated_500`
/// fire; on the NLB they are not read and no `alb.*` finding may appear.
#[tokio::test]
async fn network_load_balancer_record_then_replay() {
    let moto = MotoServer::start();
    let cfg = moto.sdk_config().await;
    let nlb = seed_nlb(&moto, &cfg).await;
    let alb = seed_alb(&moto, &cfg).await;
    let now = Utc::now().trunc_subsecs(0);
    let lb = [("LoadBalancer", nlb.dimension.as_str())];
    // W is the 5 minutes before the alarm changed (now); the hour before it is B.
    let mut resets = at(now, &[15, 30, 45], 4.0);
    resets.extend(at(now, &[1, 2, 3, 4], 600.0));
    resets.sort_by_key(|(t, _)| *t);
    put(
        &cfg,
        "AWS/NetworkELB",
        "TCP_Target_Reset_Count",
        &lb,
        &resets,
    )
    .await;
    let nlb_500s = seed_alb_500s(&cfg, &nlb.dimension, now).await;
    seed_alb_500s(&cfg, &alb, now).await;

    // The control: on an ALB, the same metrics make an ALB rule fire.
    let control_alarm = alarm_at(
        now,
        "web-elb-5xx",
        "AWS/ApplicationELB",
        "HTTPCode_ELB_5XX_Count",
        json!({"LoadBalancer": alb}),
    );
    let control = triage(&AwsSdk::new(cfg.clone()), &control_alarm, &options(now)).await;
    assert_eq!(
        control.findings.first().map(|f| f.rule.as_str()),
        Some("alb.lb_generated_500"),
        "{}",
        control.to_json()
    );

    let alarm = alarm_at(
        now,
        "ingest-target-resets",
        "AWS/NetworkELB",
        "TCP_Target_Reset_Count",
        json!({"LoadBalancer": nlb.dimension}),
    );
    // The alarm itself, which the triage describes: its evaluation reaches the verdict.
    aws_sdk_cloudwatch::Client::new(&cfg)
        .put_metric_alarm()
        .alarm_name("ingest-target-resets")
        .namespace("AWS/NetworkELB")
        .metric_name("TCP_Target_Reset_Count")
        .dimensions(
            aws_sdk_cloudwatch::types::Dimension::builder()
                .name("LoadBalancer")
                .value(&nlb.dimension)
                .build(),
        )
        .statistic(aws_sdk_cloudwatch::types::Statistic::Sum)
        .period(60)
        .evaluation_periods(2)
        .datapoints_to_alarm(2)
        .threshold(100.0)
        .comparison_operator(aws_sdk_cloudwatch::types::ComparisonOperator::GreaterThanThreshold)
        .send()
        .await
        .unwrap_or_else(|e| panic!("PutMetricAlarm: {e:?}"));
    let (live, replayed, world) = record_and_replay(cfg, &alarm, now).await;
    assert_eq!(live.alarm.evaluation_periods, Some(2), "{}", live.to_json());
    assert_eq!(live.alarm.datapoints_to_alarm, Some(2));
    assert!(
        world.cloudwatch.describe_alarms["ingest-target-resets"]
            .metric_alarms
            .iter()
            .any(|a| a.evaluation_periods == Some(2)),
        "{}",
        world.to_json()
    );
    assert_eq!(live.status, Status::Diagnosed, "{}", live.to_json());
    let first = &live.findings[0];
    assert_eq!(first.rule, "nlb.target_resets", "{}", live.to_json());
    // W is 4 minutes of 600 (the 5th is empty); the hour before, 3 of 4.
    assert_eq!(
        first.evidence[..2],
        [
            "TCP_Target_Reset_Count: 2,400 in 5 min",
            "the hour before: 12"
        ],
        "{:?}",
        first.evidence
    );
    let trace = live.trace.as_ref().expect("a trace of the alarm's metric");
    assert_eq!(trace.metric, "TCP_Target_Reset_Count");
    assert_eq!(trace.values[56..], [Some(600.0); 4]);
    let alb_rules: Vec<&str> = live
        .findings
        .iter()
        .map(|f| f.rule.as_str())
        .filter(|r| r.starts_with("alb."))
        .collect();
    assert!(
        alb_rules.is_empty(),
        "ALB rules ran on an NLB: {alb_rules:?}"
    );
    // Both targets are healthy: no rule may say otherwise.
    assert!(
        live.findings.iter().all(|f| f.rule != "nlb.all_targets_unhealthy"
            && f.rule != "nlb.no_registered_targets"),
        "{}",
        live.to_json()
    );
    assert!(live.gaps.is_empty(), "{:?}", live.gaps);
    assert!(world.errors.is_empty(), "{:?}", world.errors);
    // The load balancer, its listeners and groups; then health, rules and metrics.
    assert_eq!(live.stats.round_trips, 2);

    // What the recording holds: the NLB, its TCP listener and group, both targets healthy ...
    let elbv2 = &world.elbv2;
    let lbs = &elbv2.describe_load_balancers.load_balancers;
    assert_eq!(lbs.len(), 1, "{lbs:?}");
    assert_eq!(lbs[0].kind.as_deref(), Some("network"));
    let listeners = &elbv2.describe_listeners[&lbs[0].load_balancer_arn].listeners;
    assert_eq!(listeners.len(), 1, "{listeners:?}");
    assert_eq!(listeners[0].protocol.as_deref(), Some("TCP"));
    let groups = &elbv2.describe_target_groups.target_groups;
    assert_eq!(groups.len(), 1, "{groups:?}");
    assert_eq!(groups[0].target_group_arn, nlb.target_group_arn);
    assert_eq!(groups[0].protocol.as_deref(), Some("TCP"));
    let health = &elbv2.describe_target_health[&nlb.target_group_arn];
    let mut healthy: Vec<&str> = health
        .target_health_descriptions
        .iter()
        .filter(|d| d.target_health.state.as_deref() == Some("healthy"))
        .map(|d| d.target.id.as_str())
        .collect();
    healthy.sort_unstable();
    assert_eq!(healthy, nlb.instances, "{health:?}");
    // ... the seeded resets; the NLB's metrics are read from AWS/NetworkELB (its TCP target
    // group tells it is one, whatever moto names it), never the ALB ones seeded on it.
    assert_eq!(
        recorded(&world, "TCP_Target_Reset_Count", &lb, "Sum"),
        resets
    );
    assert!(!nlb_500s.is_empty());
    assert!(
        world.cloudwatch.metrics.iter().all(|m| {
            m.namespace != "AWS/ApplicationELB"
                || !m.dimensions.iter().any(|d| d.value == nlb.dimension)
        }),
        "ALB metrics were read for the NLB"
    );
    assert!(
        world
            .cloudwatch
            .metrics
            .iter()
            .any(|m| m.namespace == "AWS/NetworkELB" && m.metric_name == "NewFlowCount"),
        "the NLB's NewFlowCount was not asked for"
    );

    assert_eq!(without_stats(&replayed), without_stats(&live));
    assert_eq!(replayed.stats.round_trips, live.stats.round_trips);
}
