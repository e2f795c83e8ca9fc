//! The Classic Load Balancer's world answers, world section and recording. The SDK calls are
//! covered in `tests/aws_mocks.rs` (pages, errors) and `tests/aws_moto.rs` (moto).

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::*;
use crate::evidence::elb::ListLoadBalancers;
use crate::evidence::port::{Op, Operation, Port};
use crate::evidence::record::Recorder;

/// The contract's example section (`contracts.md`, section 4), with a second load balancer in
/// eu-west-1 and an internal one in us-east-1.
fn section() -> Value {
    json!({
        "DescribeLoadBalancers": {"LoadBalancerDescriptions": [
            {"LoadBalancerName": "legacy", "DNSName": "legacy-123.us-east-1.elb.amazonaws.com",
             "ListenerDescriptions": [{"Listener": {"Protocol": "HTTP", "LoadBalancerPort": 80, "InstanceProtocol": "HTTP", "InstancePort": 8080}}],
             "HealthCheck": {"Target": "HTTP:8080/health", "Interval": 30, "Timeout": 5, "UnhealthyThreshold": 2, "HealthyThreshold": 10},
             "Instances": [{"InstanceId": "i-0abc"}], "SecurityGroups": ["sg-1"]},
            {"LoadBalancerName": "eu", "DNSName": "dualstack.eu-456.eu-west-1.elb.amazonaws.com",
             "Scheme": "internet-facing", "VPCId": "vpc-1",
             "CanonicalHostedZoneName": "eu-456.eu-west-1.elb.amazonaws.com",
             "CanonicalHostedZoneNameID": "Z32O12XQLNTSW2",
             "AvailabilityZones": ["eu-west-1a"], "Subnets": ["subnet-1"],
             "CreatedTime": "2019-03-01T10:00:00Z",
             "ListenerDescriptions": [{"Listener": {"Protocol": "HTTPS", "LoadBalancerPort": 443, "InstanceProtocol": "HTTP", "InstancePort": 80, "SSLCertificateId": "arn:aws:acm:eu-west-1:123456789012:certificate/c1"}, "PolicyNames": ["ELBSecurityPolicy-2016-08"]}],
             "SomethingNew": {"ignored": true}},
            {"LoadBalancerName": "inner", "DNSName": "internal-inner-789.us-east-1.elb.amazonaws.com", "Scheme": "internal"}
        ]},
        "DescribeInstanceHealth": {"legacy": {"InstanceStates": [{"InstanceId": "i-0abc", "State": "OutOfService", "ReasonCode": "Instance", "Description": "Instance has failed at least the UnhealthyThreshold number of health checks consecutively."}]}},
        "DescribeLoadBalancerAttributes": {"legacy": {"LoadBalancerAttributes": {"ConnectionSettings": {"IdleTimeout": 120}, "ConnectionDraining": {"Enabled": true, "Timeout": 300}, "CrossZoneLoadBalancing": {"Enabled": true}, "AccessLog": {"Enabled": false}}}}
    })
}

fn world_with(extra: Value) -> World {
    let mut w = json!({
        "Format": "fivexx-world/1",
        "Now": "2026-11-22T12:37:00Z",
        "Region": "us-east-1",
        "Account": "123456789012",
        "ElasticLoadBalancingV2": {"DescribeLoadBalancers": {"LoadBalancers": [
            {"LoadBalancerArn": "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web/abc"}
        ]}},
        "ElasticLoadBalancing": section(),
    });
    if let (Some(w), Some(extra)) = (w.as_object_mut(), extra.as_object()) {
        w.extend(extra.clone());
    }
    World::parse(&w.to_string()).unwrap()
}

fn world() -> World {
    world_with(json!({}))
}

fn names(names: &[&str]) -> ClassicLoadBalancers {
    ClassicLoadBalancers::Named(names.iter().map(|n| (*n).to_owned()).collect())
}

fn lb_names(lbs: &[LoadBalancerDescription]) -> Vec<&str> {
    lbs.iter()
        .map(|lb| lb.load_balancer_name.as_str())
        .collect()
}

async fn call<O: Operation>(port: &impl Port, region: &str, input: &O::Input) -> Answer<O::Output> {
    port.call::<O>(region, input).await
}

// ---------------------------------------------------------------- model and section

#[test]
fn the_contract_section_round_trips() {
    let w = world();
    let text = w.to_json();
    let again = World::parse(&text).unwrap();
    assert_eq!(again.elb_classic, w.elb_classic);
    assert_eq!(again.to_json(), text);
    // Unknown fields are ignored, known ones kept with the API's spellings.
    let eu = &w
        .elb_classic
        .describe_load_balancers
        .load_balancer_descriptions[1];
    assert_eq!(eu.vpc_id.as_deref(), Some("vpc-1"));
    assert_eq!(
        eu.canonical_hosted_zone_name_id.as_deref(),
        Some("Z32O12XQLNTSW2")
    );
    assert_eq!(
        eu.listener_descriptions[0]
            .listener
            .ssl_certificate_id
            .as_deref(),
        Some("arn:aws:acm:eu-west-1:123456789012:certificate/c1")
    );
    assert_eq!(eu.created_time.map(|t| t.timestamp()), Some(1_551_434_400));
    let out: Value = serde_json::from_str(&text).unwrap();
    let section = &out["ElasticLoadBalancing"];
    assert_eq!(
        section["DescribeLoadBalancers"]["LoadBalancerDescriptions"][1]["CanonicalHostedZoneNameID"],
        "Z32O12XQLNTSW2"
    );
    assert_eq!(
        section["DescribeLoadBalancers"]["LoadBalancerDescriptions"][1]["ListenerDescriptions"][0]
            ["Listener"]["SSLCertificateId"],
        "arn:aws:acm:eu-west-1:123456789012:certificate/c1"
    );
    assert_eq!(
        section["DescribeLoadBalancerAttributes"]["legacy"]["LoadBalancerAttributes"]["ConnectionSettings"]
            ["IdleTimeout"],
        120
    );
    assert!(
        section["DescribeLoadBalancers"]["LoadBalancerDescriptions"][1]
            .get("SomethingNew")
            .is_none()
    );
}

#[test]
fn a_world_without_classic_load_balancers_serializes_without_the_section() {
    let w = World::parse(r#"{"Format": "fivexx-world/1", "Region": "us-east-1"}"#).unwrap();
    assert!(w.elb_classic.is_empty());
    assert!(
        !w.to_json().contains("ElasticLoadBalancing\""),
        "{}",
        w.to_json()
    );
    // An empty section reads as none.
    let w = World::parse(
        r#"{"Format": "fivexx-world/1", "Region": "us-east-1", "ElasticLoadBalancing": {}}"#,
    )
    .unwrap();
    assert!(w.elb_classic.is_empty());
}

#[test]
fn health_check_targets() {
    let t = |s: &str| HealthCheckTarget::parse(s);
    assert_eq!(
        t("HTTP:8080/health"),
        Some(HealthCheckTarget {
            protocol: "HTTP".into(),
            port: 8080,
            path: Some("/health".into()),
        })
    );
    assert_eq!(
        t("https:443/"),
        Some(HealthCheckTarget {
            protocol: "HTTPS".into(),
            port: 443,
            path: Some("/".into()),
        })
    );
    assert_eq!(
        t("TCP:80"),
        Some(HealthCheckTarget {
            protocol: "TCP".into(),
            port: 80,
            path: None,
        })
    );
    assert_eq!(t("SSL:443").map(|t| t.port), Some(443));
    assert_eq!(
        t("HTTP:80/a/b?c=d").and_then(|t| t.path).as_deref(),
        Some("/a/b?c=d")
    );
    for bad in [
        "",
        "HTTP",
        "HTTP:",
        "HTTP:80",
        "HTTP:/health",
        "HTTP:0/",
        "HTTP:65536/",
        "TCP:80/health",
        "UDP:53",
        "HTTP:-1/",
        ":80",
        "HTTP:80health",
    ] {
        assert_eq!(t(bad), None, "{bad}");
    }
    let lb = &world()
        .elb_classic
        .describe_load_balancers
        .load_balancer_descriptions[0];
    let check = lb.health_check.as_ref().unwrap();
    assert_eq!(check.parsed_target().map(|t| t.port), Some(8080));
    assert_eq!(HealthCheck::default().parsed_target(), None);
}

#[test]
fn idle_timeout_defaults_to_60() {
    let with = |t: Option<i32>| LoadBalancerAttributes {
        connection_settings: Some(ConnectionSettings { idle_timeout: t }),
        ..LoadBalancerAttributes::default()
    };
    assert_eq!(LoadBalancerAttributes::default().idle_timeout(), 60);
    assert_eq!(with(None).idle_timeout(), 60);
    assert_eq!(with(Some(120)).idle_timeout(), 120);
    assert_eq!(with(Some(4000)).idle_timeout(), 4000);
    assert_eq!(with(Some(0)).idle_timeout(), 60);
    assert_eq!(with(Some(-5)).idle_timeout(), 60);
    assert_eq!(with(Some(4001)).idle_timeout(), 60);
}

#[test]
fn origin_regions_count_classic_load_balancers() {
    assert_eq!(world().origin_regions(), ["eu-west-1", "us-east-1"]);
    let only_classic = World::parse(
        &json!({"Format": "fivexx-world/1", "Region": "us-east-1",
        "ElasticLoadBalancing": {"DescribeLoadBalancers": {"LoadBalancerDescriptions": [
            {"LoadBalancerName": "a", "DNSName": "a-1.ap-south-1.elb.amazonaws.com"},
            {"LoadBalancerName": "b", "DNSName": "b-1.not_a_region.elb.amazonaws.com"},
            {"LoadBalancerName": "c"}
        ]}}})
        .to_string(),
    )
    .unwrap();
    assert_eq!(only_classic.origin_regions(), ["ap-south-1"]);
}

#[test]
fn operation_names_and_keys() {
    assert_eq!(
        Op::DescribeClassicLoadBalancers.iam_name(),
        Op::DescribeLoadBalancers.iam_name()
    );
    assert_eq!(
        Op::DescribeClassicLoadBalancerAttributes.iam_name(),
        Op::DescribeLoadBalancerAttributes.iam_name()
    );
    assert_eq!(
        Op::DescribeInstanceHealth.iam_name(),
        "elasticloadbalancing:DescribeInstanceHealth"
    );
    for op in Op::ALL {
        assert!(Op::from_iam_name(op.iam_name()).is_some(), "{op:?}");
    }
    assert_eq!(
        DescribeClassicLoadBalancers::key("us-east-1", &names(&["a", "b"])),
        "a,b"
    );
    assert_eq!(
        DescribeClassicLoadBalancers::key("us-east-1", &ClassicLoadBalancers::All),
        "classic us-east-1"
    );
    assert_eq!(DescribeInstanceHealth::key("us-east-1", "legacy"), "legacy");
    assert_eq!(
        DescribeClassicLoadBalancerAttributes::key("us-east-1", "legacy"),
        "legacy"
    );
}

#[test]
fn faults_and_errors_keys_are_validated() {
    for key in [
        "elasticloadbalancing:DescribeInstanceHealth",
        "elasticloadbalancing:DescribeLoadBalancers",
        "elasticloadbalancing:DescribeLoadBalancerAttributes",
    ] {
        let text = json!({"Format": "fivexx-world/1", "Region": "us-east-1",
                          "Faults": {key: {"Code": "AccessDenied"}},
                          "Errors": {key: {"legacy": {"Code": "Throttling"}}}})
        .to_string();
        assert!(World::parse(&text).is_ok(), "{key}");
    }
    let text = json!({"Format": "fivexx-world/1", "Region": "us-east-1",
                      "Faults": {"elasticloadbalancing:DescribeInstanceHealthz": {"Code": "X"}}})
    .to_string();
    assert!(World::parse(&text).is_err());
}

// ---------------------------------------------------------------- world answers

#[tokio::test]
async fn describe_load_balancers_by_name() {
    let w = world();
    let got = call::<DescribeClassicLoadBalancers>(&w, "us-east-1", &names(&["legacy"]))
        .await
        .unwrap();
    assert_eq!(
        got,
        [w.elb_classic
            .describe_load_balancers
            .load_balancer_descriptions[0]
            .clone()]
    );
    let got = call::<DescribeClassicLoadBalancers>(
        &w,
        "us-east-1",
        &names(&["inner", "legacy", "inner"]),
    )
    .await
    .unwrap();
    assert_eq!(lb_names(&got), ["inner", "legacy"]);
    let got = call::<DescribeClassicLoadBalancers>(&w, "eu-west-1", &names(&["eu"]))
        .await
        .unwrap();
    assert_eq!(lb_names(&got), ["eu"]);
    // No name: nothing asked, nothing answered (not the whole region).
    let got = call::<DescribeClassicLoadBalancers>(&w, "us-east-1", &names(&[]))
        .await
        .unwrap();
    assert!(got.is_empty());
}

#[tokio::test]
async fn describe_load_balancers_not_found() {
    let w = world();
    // One missing name fails the whole call, as AWS does.
    let err = call::<DescribeClassicLoadBalancers>(&w, "us-east-1", &names(&["legacy", "gone"]))
        .await
        .unwrap_err();
    assert_eq!(err.code, "LoadBalancerNotFound");
    assert_eq!(err.message, "load balancer `gone` not found");
    assert!(err.is_not_found());
    // A load balancer is found in its own region only.
    let err = call::<DescribeClassicLoadBalancers>(&w, "us-east-1", &names(&["eu"]))
        .await
        .unwrap_err();
    assert_eq!(err.code, "LoadBalancerNotFound");
    // The v2 section is not the Classic one.
    let err = call::<DescribeClassicLoadBalancers>(&w, "us-east-1", &names(&["web"]))
        .await
        .unwrap_err();
    assert_eq!(err.code, "LoadBalancerNotFound");
}

#[tokio::test]
async fn describe_load_balancers_of_a_region() {
    let w = world();
    let all = ClassicLoadBalancers::All;
    let got = call::<DescribeClassicLoadBalancers>(&w, "us-east-1", &all)
        .await
        .unwrap();
    assert_eq!(lb_names(&got), ["legacy", "inner"]);
    let got = call::<DescribeClassicLoadBalancers>(&w, "eu-west-1", &all)
        .await
        .unwrap();
    assert_eq!(lb_names(&got), ["eu"]);
    let got = call::<DescribeClassicLoadBalancers>(&w, "ap-south-1", &all)
        .await
        .unwrap();
    assert!(got.is_empty());
}

#[tokio::test]
async fn a_fault_on_a_shared_iam_name_fails_both_apis() {
    let w = world_with(json!({"Faults": {
        "elasticloadbalancing:DescribeLoadBalancers": {"Code": "AccessDenied", "Message": "not authorized"},
        "elasticloadbalancing:DescribeLoadBalancerAttributes": {"Code": "AccessDenied"}
    }}));
    let err = call::<DescribeClassicLoadBalancers>(&w, "us-east-1", &names(&["legacy"]))
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "AccessDenied: not authorized");
    let err = call::<DescribeClassicLoadBalancers>(&w, "us-east-1", &ClassicLoadBalancers::All)
        .await
        .unwrap_err();
    assert_eq!(err.code, "AccessDenied");
    let err = call::<ListLoadBalancers>(&w, "us-east-1", &())
        .await
        .unwrap_err();
    assert_eq!(err.code, "AccessDenied");
    let err = call::<DescribeClassicLoadBalancerAttributes>(&w, "us-east-1", "legacy")
        .await
        .unwrap_err();
    assert_eq!(err.code, "AccessDenied");
    // Instance health is its own action.
    assert!(
        call::<DescribeInstanceHealth>(&w, "us-east-1", "legacy")
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn errors_fail_one_input_of_one_api() {
    let w = world_with(json!({"Errors": {
        "elasticloadbalancing:DescribeLoadBalancers": {
            "legacy": {"Code": "Throttling", "Message": "Rate exceeded"},
            "classic eu-west-1": {"Code": "Throttling"},
            "us-east-1": {"Code": "InternalFailure"}
        },
        "elasticloadbalancing:DescribeInstanceHealth": {"legacy": {"Code": "Throttling"}},
        "elasticloadbalancing:DescribeLoadBalancerAttributes": {"legacy": {"Code": "Throttling"}}
    }}));
    let err = call::<DescribeClassicLoadBalancers>(&w, "us-east-1", &names(&["legacy"]))
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "Throttling: Rate exceeded");
    assert!(
        call::<DescribeClassicLoadBalancers>(&w, "us-east-1", &names(&["inner"]))
            .await
            .is_ok()
    );
    // The key names the input as asked: `legacy` alone, not within a longer list.
    assert!(
        call::<DescribeClassicLoadBalancers>(&w, "us-east-1", &names(&["legacy", "inner"]))
            .await
            .is_ok()
    );
    let all = ClassicLoadBalancers::All;
    let err = call::<DescribeClassicLoadBalancers>(&w, "eu-west-1", &all)
        .await
        .unwrap_err();
    assert_eq!(err.code, "Throttling");
    // The bare region is v2's list: it fails v2's list, not the Classic one.
    assert!(
        call::<DescribeClassicLoadBalancers>(&w, "us-east-1", &all)
            .await
            .is_ok()
    );
    let err = call::<ListLoadBalancers>(&w, "us-east-1", &())
        .await
        .unwrap_err();
    assert_eq!(err.code, "InternalFailure");
    assert!(
        call::<ListLoadBalancers>(&w, "eu-west-1", &())
            .await
            .is_ok()
    );

    for result in [
        call::<DescribeInstanceHealth>(&w, "us-east-1", "legacy")
            .await
            .map(|_| ()),
        call::<DescribeClassicLoadBalancerAttributes>(&w, "us-east-1", "legacy")
            .await
            .map(|_| ()),
    ] {
        assert_eq!(result.unwrap_err().code, "Throttling");
    }
}

#[tokio::test]
async fn describe_instance_health() {
    let w = world();
    let got = call::<DescribeInstanceHealth>(&w, "us-east-1", "legacy")
        .await
        .unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].instance_id, "i-0abc");
    assert_eq!(got[0].state.as_deref(), Some("OutOfService"));
    assert_eq!(got[0].reason_code.as_deref(), Some("Instance"));
    // Unknown, or in another region: not found.
    for (region, name) in [("us-east-1", "gone"), ("us-east-1", "eu")] {
        let err = call::<DescribeInstanceHealth>(&w, region, name)
            .await
            .unwrap_err();
        assert_eq!(err.code, "LoadBalancerNotFound", "{name}");
        assert_eq!(err.message, format!("load balancer `{name}` not found"));
    }
    // Known, without an entry: the world cannot say.
    let err = call::<DescribeInstanceHealth>(&w, "us-east-1", "inner")
        .await
        .unwrap_err();
    assert_eq!(err.code, "WorldIncomplete");
    assert_eq!(
        err.message,
        "the world holds no instance health for `inner`"
    );
    let w = world_with(json!({"Faults": {
        "elasticloadbalancing:DescribeInstanceHealth": {"Code": "AccessDenied"}
    }}));
    let err = call::<DescribeInstanceHealth>(&w, "us-east-1", "legacy")
        .await
        .unwrap_err();
    assert_eq!(err.code, "AccessDenied");
}

#[tokio::test]
async fn describe_load_balancer_attributes() {
    let w = world();
    let got = call::<DescribeClassicLoadBalancerAttributes>(&w, "us-east-1", "legacy")
        .await
        .unwrap();
    assert_eq!(got.idle_timeout(), 120);
    assert_eq!(
        got.connection_draining,
        Some(ConnectionDraining {
            enabled: Some(true),
            timeout: Some(300)
        })
    );
    assert_eq!(
        got.cross_zone_load_balancing.and_then(|c| c.enabled),
        Some(true)
    );
    assert_eq!(got.access_log.and_then(|c| c.enabled), Some(false));
    // Known, without an entry: AWS's defaults.
    let got = call::<DescribeClassicLoadBalancerAttributes>(&w, "us-east-1", "inner")
        .await
        .unwrap();
    assert_eq!(got, LoadBalancerAttributes::default());
    assert_eq!(got.idle_timeout(), 60);
    let err = call::<DescribeClassicLoadBalancerAttributes>(&w, "eu-west-1", "legacy")
        .await
        .unwrap_err();
    assert_eq!(err.code, "LoadBalancerNotFound");
}

// ---------------------------------------------------------------- recording

#[tokio::test]
async fn a_recording_replays_the_same_answers() {
    let w = world_with(json!({"Errors": {
        "elasticloadbalancing:DescribeInstanceHealth": {"legacy": {"Code": "Throttling", "Message": "Rate exceeded"}}
    }}));
    let now: DateTime<Utc> = w.now.unwrap();
    let rec = Recorder::new(&w, "us-east-1", Some("123456789012".into()), now);
    let all = ClassicLoadBalancers::All;
    let by_name = names(&["eu"]);
    let missing = names(&["gone"]);

    let us_all = call::<DescribeClassicLoadBalancers>(&rec, "us-east-1", &all).await;
    let eu = call::<DescribeClassicLoadBalancers>(&rec, "eu-west-1", &by_name).await;
    let gone = call::<DescribeClassicLoadBalancers>(&rec, "us-east-1", &missing).await;
    let health = call::<DescribeInstanceHealth>(&rec, "us-east-1", "legacy").await;
    let attrs = call::<DescribeClassicLoadBalancerAttributes>(&rec, "us-east-1", "legacy").await;
    let inner_attrs =
        call::<DescribeClassicLoadBalancerAttributes>(&rec, "us-east-1", "inner").await;
    assert!(us_all.is_ok() && eu.is_ok() && attrs.is_ok() && inner_attrs.is_ok());
    assert!(gone.is_err() && health.is_err());

    // Through the file, as `--record` writes it.
    let recorded = World::parse(&rec.world().to_json()).unwrap();
    assert_eq!(
        lb_names(
            &recorded
                .elb_classic
                .describe_load_balancers
                .load_balancer_descriptions
        ),
        ["legacy", "inner", "eu"]
    );
    assert_eq!(
        call::<DescribeClassicLoadBalancers>(&recorded, "us-east-1", &all).await,
        us_all
    );
    assert_eq!(
        call::<DescribeClassicLoadBalancers>(&recorded, "eu-west-1", &by_name).await,
        eu
    );
    assert_eq!(
        call::<DescribeClassicLoadBalancers>(&recorded, "us-east-1", &missing).await,
        gone
    );
    assert_eq!(
        call::<DescribeInstanceHealth>(&recorded, "us-east-1", "legacy").await,
        health
    );
    assert_eq!(
        call::<DescribeClassicLoadBalancerAttributes>(&recorded, "us-east-1", "legacy").await,
        attrs
    );
    assert_eq!(
        call::<DescribeClassicLoadBalancerAttributes>(&recorded, "us-east-1", "inner").await,
        inner_attrs
    );
    // The recording holds the answers in the contract's shapes.
    let out: Value = serde_json::from_str(&recorded.to_json()).unwrap();
    assert_eq!(
        out["ElasticLoadBalancing"]["DescribeLoadBalancerAttributes"]["legacy"]["LoadBalancerAttributes"]
            ["ConnectionSettings"]["IdleTimeout"],
        120
    );
    assert_eq!(
        out["Errors"]["elasticloadbalancing:DescribeLoadBalancers"]["gone"]["Code"],
        "LoadBalancerNotFound"
    );
    assert_eq!(
        out["Errors"]["elasticloadbalancing:DescribeInstanceHealth"]["legacy"]["Message"],
        "Rate exceeded"
    );
}

#[tokio::test]
async fn recorded_instance_health_replays() {
    let w = world();
    let rec = Recorder::new(&w, "us-east-1", None, w.now.unwrap());
    let health = call::<DescribeInstanceHealth>(&rec, "us-east-1", "legacy")
        .await
        .unwrap();
    // A recording holds what was read: the load balancer must be recorded too for the
    // replay to know it.
    call::<DescribeClassicLoadBalancers>(&rec, "us-east-1", &names(&["legacy"]))
        .await
        .unwrap();
    let recorded = World::parse(&rec.world().to_json()).unwrap();
    assert_eq!(
        call::<DescribeInstanceHealth>(&recorded, "us-east-1", "legacy")
            .await
            .unwrap(),
        health
    );
    assert_eq!(
        recorded.elb_classic.describe_instance_health["legacy"].instance_states,
        health
    );
}
