//! Every sample payload in `events/` parses into the alarm it describes, and malformed or
//! foreign payloads are refused with a message saying what they are.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use fivexx::alarm::{self, AlarmKind, Envelope};
use fivexx::error::EventError;

fn events_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("events")
}

fn load(name: &str) -> fivexx::alarm::Alarm {
    let text = std::fs::read_to_string(events_dir().join(name)).unwrap();
    alarm::parse_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn every_sample_event_parses() {
    let mut n = 0;
    for entry in std::fs::read_dir(events_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let a = alarm::parse_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(!a.name.is_empty(), "{}", path.display());
        assert_eq!(a.account(), Some("123456789012"), "{}", path.display());
        assert_eq!(a.region(), Some("us-east-1"), "{}", path.display());
        assert!(a.changed_at.is_some(), "{}", path.display());
        n += 1;
    }
    assert!(n >= 15, "only {n} sample events");
}

#[test]
fn the_three_envelopes_give_the_same_alb_alarm() {
    let direct = load("direct-alb-5xx.json");
    let sns = load("sns-alb-5xx.json");
    let eb = load("eventbridge-alb-5xx.json");
    assert_eq!(direct.envelope, Envelope::Direct);
    assert_eq!(sns.envelope, Envelope::Sns);
    assert_eq!(eb.envelope, Envelope::Eventbridge);
    for a in [&direct, &sns, &eb] {
        assert_eq!(a.name, "web-alb-5xx");
        assert_eq!(a.state, "ALARM");
        assert_eq!(a.previous_state.as_deref(), Some("OK"));
        assert_eq!(a.kind, AlarmKind::Metric);
        assert_eq!(
            a.arn.as_deref(),
            Some("arn:aws:cloudwatch:us-east-1:123456789012:alarm:web-alb-5xx")
        );
        let m = a.primary_metric().unwrap();
        assert_eq!(m.namespace, "AWS/ApplicationELB");
        assert_eq!(m.name, "HTTPCode_ELB_5XX_Count");
        assert_eq!(m.stat.as_deref(), Some("Sum"));
        assert_eq!(m.period, Some(60));
        assert_eq!(
            m.dimensions.get("LoadBalancer").map(String::as_str),
            Some("app/web/f3b962d72ac3e219")
        );
        assert_eq!(a.threshold, Some(100.0));
        assert_eq!(
            a.changed_at.unwrap().to_rfc3339(),
            "2026-11-22T12:36:15+00:00"
        );
    }
    assert_eq!(sns.evaluation_periods, Some(1));
    assert_eq!(sns.comparison.as_deref(), Some("GreaterThanThreshold"));
}

#[test]
fn cloudfront_alarm_in_every_envelope() {
    for name in [
        "direct-cloudfront-5xx.json",
        "sns-cloudfront-5xx.json",
        "eventbridge-cloudfront-5xx.json",
    ] {
        let a = load(name);
        let m = a.primary_metric().unwrap();
        assert_eq!(m.namespace, "AWS/CloudFront", "{name}");
        assert_eq!(m.name, "5xxErrorRate", "{name}");
        assert_eq!(m.stat.as_deref(), Some("Average"), "{name}");
        assert_eq!(a.dimension_values("DistributionId"), ["E6E3E663D9586"]);
        assert_eq!(a.threshold, Some(5.0), "{name}");
    }
}

#[test]
fn ok_transitions() {
    for name in ["sns-alb-ok.json", "eventbridge-alb-ok.json"] {
        let a = load(name);
        assert_eq!(a.state, "OK");
        assert_eq!(a.previous_state.as_deref(), Some("ALARM"));
    }
    let a = load("direct-insufficient-data-to-ok.json");
    assert_eq!(a.previous_state.as_deref(), Some("INSUFFICIENT_DATA"));
}

#[test]
fn metric_math_alarms_take_every_input_metric() {
    for name in ["direct-metric-math-alb.json", "sns-metric-math-alb.json"] {
        let a = load(name);
        assert_eq!(a.kind, AlarmKind::MetricMath, "{name}");
        let names: Vec<&str> = a.metrics.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["HTTPCode_ELB_5XX_Count", "RequestCount"], "{name}");
        assert_eq!(
            a.dimension_values("LoadBalancer"),
            ["app/web/f3b962d72ac3e219"]
        );
        assert_eq!(a.threshold, Some(1.0), "{name}");
    }
}

#[test]
fn composite_alarms_parse_without_metrics() {
    for name in [
        "direct-composite.json",
        "eventbridge-composite.json",
        "sns-composite.json",
    ] {
        let a = load(name);
        assert_eq!(a.kind, AlarmKind::Composite, "{name}");
        assert!(a.metrics.is_empty(), "{name}");
        assert!(
            a.alarm_rule.as_deref().unwrap().contains("web-alb-5xx"),
            "{name}"
        );
    }
}

#[test]
fn mixed_shapes_seen_in_the_wild() {
    let a = load("eventbridge-header-with-alarmdata.json");
    assert_eq!(a.envelope, Envelope::Eventbridge);
    assert_eq!(a.name, "web-alb-5xx");
    let a = load("sns-alb-no-description.json");
    assert_eq!(a.description, None);
    assert_eq!(a.name, "web-alb-5xx");
    let a = load("sns-alb-healthyhostcount.json");
    let m = a.primary_metric().unwrap();
    assert_eq!(m.stat.as_deref(), Some("Minimum"));
    assert_eq!(
        a.dimension_values("TargetGroup"),
        ["targetgroup/web-tg/81540f1e63039095"]
    );
}

fn refused(text: &str) -> EventError {
    match alarm::parse_str(text) {
        Ok(a) => panic!("accepted {text:.80}: {}", a.name),
        Err(e) => e,
    }
}

#[test]
fn malformed_and_foreign_payloads_are_refused_with_a_reason() {
    let truncated =
        &std::fs::read_to_string(events_dir().join("direct-alb-5xx.json")).unwrap()[..200];
    assert!(matches!(refused(truncated), EventError::NotJson(_)));
    assert!(matches!(refused(""), EventError::NotJson(_)));
    assert!(matches!(refused("[1,2]"), EventError::UnknownEnvelope(_)));
    assert!(matches!(
        refused("\"alarm\""),
        EventError::UnknownEnvelope(_)
    ));
    let e = refused(r#"{"hello": "world"}"#);
    assert!(e.to_string().contains("hello"), "{e}");
    let s3 = r#"{"Records":[{"eventSource":"aws:s3","s3":{}}]}"#;
    assert!(refused(s3).to_string().contains("aws:s3"));
    let confirm = r#"{"Type":"SubscriptionConfirmation","TopicArn":"arn:aws:sns:us-east-1:1:t"}"#;
    assert!(
        refused(confirm)
            .to_string()
            .contains("subscription confirmation")
    );
    let logs = r#"{"awslogs":{"data":"H4sIAAAA"}}"#;
    assert!(refused(logs).to_string().contains("Logs"));
    let sns_text = r#"{"Records":[{"EventSource":"aws:sns","Sns":{"Message":"deploy finished"}}]}"#;
    assert!(
        refused(sns_text)
            .to_string()
            .contains("not CloudWatch alarm JSON")
    );
    let sns_other_json =
        r#"{"Records":[{"EventSource":"aws:sns","Sns":{"Message":"{\"build\":1}"}}]}"#;
    assert!(refused(sns_other_json).to_string().contains("AlarmName"));
    let other_detail = r#"{"detail-type":"EC2 Instance State-change Notification","detail":{}}"#;
    assert!(refused(other_detail).to_string().contains("EC2 Instance"));
    let bad_state = r#"{"source":"aws.cloudwatch","alarmArn":"arn:aws:cloudwatch:us-east-1:1:alarm:x","alarmData":{"alarmName":"x","state":{"value":"BROKEN"}}}"#;
    assert!(refused(bad_state).to_string().contains("BROKEN"));
    let no_name = r#"{"source":"aws.cloudwatch","alarmData":{"state":{"value":"ALARM"}}}"#;
    assert!(refused(no_name).to_string().contains("alarmName"));
}

#[test]
fn hostile_text_is_capped_in_errors() {
    let long_key = "k".repeat(5000);
    let e = refused(&format!(r#"{{"{long_key}": 1}}"#));
    assert!(e.to_string().len() < 400, "{} chars", e.to_string().len());
}
