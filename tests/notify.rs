//! What Slack and SNS receive: snapshots of the payloads for several verdicts, Slack's limits,
//! and hostile alarm text rendered harmlessly.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::time::Duration;

use fivexx::alarm;
use fivexx::evidence::world::{Fault, World};
use fivexx::notify::{slack, sns};
use fivexx::triage::{TriageOptions, triage};
use fivexx::verdict::{Finding, Verdict};
use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

async fn verdict_for(event: &str, world: &str, edit: impl FnOnce(&mut World)) -> Verdict {
    let alarm = alarm::parse_str(&std::fs::read_to_string(root().join(event)).unwrap()).unwrap();
    let mut w = World::load(&root().join(world)).unwrap();
    edit(&mut w);
    let opts = TriageOptions {
        now: w.now.unwrap(),
        deadline: tokio::time::Instant::now() + Duration::from_secs(10),
        home_region: w.region.clone(),
        home_account: w.account.clone(),
    };
    triage(&w, &alarm, &opts).await
}

async fn scenario(name: &str) -> Verdict {
    verdict_for(
        &format!("tests/scenarios/{name}/event.json"),
        &format!("tests/scenarios/{name}/world.json"),
        |_| {},
    )
    .await
}

/// Every text in a Block Kit payload, with the limit it must meet.
fn texts(payload: &Value) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    for b in payload["blocks"].as_array().unwrap() {
        match b["type"].as_str().unwrap() {
            "header" => out.push((b["text"]["text"].as_str().unwrap().to_owned(), 150)),
            "section" => out.push((b["text"]["text"].as_str().unwrap().to_owned(), 3000)),
            "context" => {
                for e in b["elements"].as_array().unwrap() {
                    out.push((e["text"].as_str().unwrap().to_owned(), 3000));
                }
            }
            _ => {}
        }
    }
    out
}

fn assert_within_slack_limits(payload: &Value) {
    let blocks = payload["blocks"].as_array().unwrap();
    assert!(blocks.len() <= 50, "{} blocks", blocks.len());
    for (t, max) in texts(payload) {
        assert!(
            t.chars().count() <= max,
            "{} > {max}: {t:.80}",
            t.chars().count()
        );
    }
    let total = serde_json::to_string(payload).unwrap().chars().count();
    assert!(total <= 13_000, "{total} characters");
}

#[tokio::test]
async fn slack_and_sns_for_a_diagnosed_alb_cause() {
    let v = scenario("alb-504-targets-unreachable").await;
    let s = slack::message(&v);
    assert_within_slack_limits(&s);
    insta::assert_json_snapshot!("slack_alb_targets_unreachable", s);
    insta::assert_snapshot!("sns_alb_targets_unreachable", sns::body(&v, sns::MAX_BODY));
    let input = sns::publish_input(
        &v,
        Some("arn:aws:sns:us-east-1:123456789012:verdicts"),
        false,
    );
    assert_eq!(
        input.subject,
        "fivexx DIAGNOSED web-httpcode_elb_5xx_count: alb.target_unreachable"
    );
    assert_eq!(
        input.message_attributes["rule"].string_value,
        "alb.target_unreachable"
    );
    assert_eq!(input.message_attributes["status"].string_value, "diagnosed");
    assert_eq!(input.message_attributes["confidence"].data_type, "Number");
}

#[tokio::test]
async fn slack_for_a_cloudfront_cause() {
    let v = scenario("cf-502-origin-cert-expired").await;
    let s = slack::message(&v);
    assert_within_slack_limits(&s);
    insta::assert_json_snapshot!("slack_cf_origin_cert_expired", s);
}

#[tokio::test]
async fn slack_and_sns_for_an_inconclusive_verdict_with_gaps() {
    let v = verdict_for(
        "tests/scenarios/cf-502-origin-cert-expired/event.json",
        "tests/scenarios/cf-502-origin-cert-expired/world.json",
        |w| {
            w.faults.insert(
                "acm:DescribeCertificate".into(),
                Fault {
                    code: "AccessDeniedException".into(),
                    message: "not authorized".into(),
                },
            );
        },
    )
    .await;
    assert_eq!(v.status.as_str(), "inconclusive");
    let s = slack::message(&v);
    assert!(s.to_string().contains("Could not read"));
    insta::assert_json_snapshot!("slack_inconclusive_with_gaps", s);
    let chat = sns::publish_input(&v, None, true);
    assert_eq!(chat.message_structure.as_deref(), Some("json"));
    let per_protocol: Value = serde_json::from_str(&chat.message).unwrap();
    let notification: Value =
        serde_json::from_str(per_protocol["default"].as_str().unwrap()).unwrap();
    assert_eq!(notification["version"], "1.0");
    assert_eq!(notification["source"], "custom");
    assert_eq!(notification["content"]["textType"], "client-markdown");
    assert!(
        per_protocol["email"]
            .as_str()
            .unwrap()
            .contains("could not read")
    );
    insta::assert_json_snapshot!("sns_chat_inconclusive", notification);
}

#[tokio::test]
async fn resolved_alarms_get_a_short_follow_up() {
    let v = verdict_for(
        "events/eventbridge-alb-ok.json",
        "tests/scenarios/alb-503-no-registered-targets/world.json",
        |_| {},
    )
    .await;
    assert_eq!(v.status.as_str(), "resolved");
    let s = slack::message(&v);
    assert!(s["text"].as_str().unwrap().contains("after 180 min"), "{s}");
    assert!(s["blocks"].as_array().unwrap().len() <= 3);
    insta::assert_json_snapshot!("slack_resolved", s);
    insta::assert_snapshot!("sns_resolved", sns::body(&v, sns::MAX_BODY));
}

#[tokio::test]
async fn a_hostile_alarm_renders_safely() {
    let mut v = scenario("alb-504-targets-unreachable").await;
    let hostile = format!(
        "<!channel> <https://evil.example|click here> & {}",
        "x".repeat(5000)
    );
    v.alarm.name = "<!here> web & <@U123>".into();
    v.alarm.description = Some(hostile.clone());
    v.summary = hostile.clone();
    v.findings[0].evidence.push(hostile.clone());
    let s = slack::message(&v);
    assert_within_slack_limits(&s);
    let all: String = texts(&s)
        .into_iter()
        .map(|(t, _)| t)
        .collect::<Vec<_>>()
        .join("\n");
    for bad in ["<!channel>", "<!here>", "<@U123>", "<https://evil.example|"] {
        assert!(!all.contains(bad), "`{bad}` got through");
    }
    assert!(all.contains("&lt;!channel&gt;"));
    // Links fivexx builds itself are the only `<...|...>` in the message.
    for piece in all.split('<').skip(1) {
        assert!(
            piece.starts_with("https://"),
            "unexpected markup: <{piece:.60}"
        );
    }
    let input = sns::publish_input(&v, None, false);
    assert!(input.subject.len() <= 99);
    assert!(
        input
            .subject
            .chars()
            .all(|c| c.is_ascii() && !c.is_control())
    );
}

#[tokio::test]
async fn a_huge_verdict_drops_detail_not_validity() {
    let mut v = scenario("alb-504-targets-unreachable").await;
    let template = v.findings[0].clone();
    v.findings = (0..40)
        .map(|i| Finding {
            title: format!("finding {i} {}", "t".repeat(400)),
            evidence: (0..30)
                .map(|j| format!("evidence {j} {}", "e".repeat(300)))
                .collect(),
            next_steps: (0..10)
                .map(|j| format!("step {j} {}", "s".repeat(400)))
                .collect(),
            ..template.clone()
        })
        .collect();
    v.gaps = (0..100)
        .map(|i| fivexx::evidence::Gap {
            source: "acm:DescribeCertificate".into(),
            reason: format!("AccessDeniedException: {i} {}", "r".repeat(200)),
            resource: Some(format!("arn:aws:acm:us-east-1:1:certificate/{i}")),
            kind: fivexx::evidence::GapKind::Error,
        })
        .collect();
    let s = slack::message(&v);
    assert_within_slack_limits(&s);
    assert!(s.to_string().contains("finding 0"));
}

#[test]
fn subjects_are_ascii_and_short() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut v = rt.block_on(scenario("alb-503-no-registered-targets"));
    v.alarm.name = format!("héllo\nworld {}", "n".repeat(200));
    let s = sns::subject(&v);
    assert!(s.chars().count() <= 99, "{}", s.len());
    assert!(s.chars().all(|c| c.is_ascii_graphic() || c == ' '), "{s}");
    assert!(s.ends_with("..."));
}

/// Defect 6: SNS messages of 500 KB to 2 MB: the body cap counted characters, not bytes (and
/// in chat mode the email text sits beside two copies of the chat JSON), and the chat
/// notification's `id` and `threadId` were uncapped.
#[tokio::test]
async fn sns_publish_fits_256_kib_in_bytes() {
    let mut v = scenario("alb-504-targets-unreachable").await;
    // Four bytes a character in UTF-8; quotes and backslashes double when JSON-escaped.
    let wide = "😀\"\\".repeat(60_000);
    v.alarm.name = wide.clone();
    v.alarm.arn = Some(format!(
        "arn:aws:cloudwatch:us-east-1:123456789012:alarm:{wide}"
    ));
    v.summary = wide.clone();
    v.findings[0].evidence = vec![wide.clone(); 20];
    v.findings[0].next_steps = vec![wide.clone(); 20];
    v.findings[0].resources = vec![wide.clone(); 50];
    for chat in [false, true] {
        let input = sns::publish_input(&v, Some("arn:aws:sns:us-east-1:123456789012:t"), chat);
        let attrs: usize = input
            .message_attributes
            .iter()
            .map(|(k, a)| k.len() + a.data_type.len() + a.string_value.len())
            .sum();
        let total = input.message.len() + input.subject.len() + attrs;
        assert!(
            total <= sns::MAX_PUBLISH_BYTES,
            "chat={chat}: {total} bytes"
        );
        if chat {
            let m: Value = serde_json::from_str(&input.message).unwrap();
            let note: Value = serde_json::from_str(m["default"].as_str().unwrap()).unwrap();
            assert!(note["id"].as_str().unwrap().chars().count() <= sns::MAX_CHAT_ID);
            let thread = note["metadata"]["threadId"].as_str().unwrap();
            assert!(thread.chars().count() <= sns::MAX_CHAT_ID);
            assert!(!m["email"].as_str().unwrap().is_empty());
        }
    }
}

/// Issue 19: a verdict that belongs to an incident names it: an SNS message attribute for
/// filters, the Amazon Q Developer thread id (one thread per incident, not per alarm), the
/// text and the Slack "resolved" message.
#[tokio::test]
async fn an_incident_is_an_sns_attribute_a_chat_thread_and_named_when_resolved() {
    let mut v = scenario("alb-504-targets-unreachable").await;
    v.incident = Some("web-alb-5xx@2026-11-22T12:36:15Z".into());
    let input = sns::publish_input(&v, None, true);
    assert_eq!(
        input.message_attributes["incident"].string_value,
        "web-alb-5xx@2026-11-22T12:36:15Z"
    );
    let per_protocol: Value = serde_json::from_str(&input.message).unwrap();
    let chat: Value = serde_json::from_str(per_protocol["default"].as_str().unwrap()).unwrap();
    assert_eq!(
        chat["metadata"]["threadId"],
        "web-alb-5xx@2026-11-22T12:36:15Z"
    );
    assert!(
        per_protocol["email"]
            .as_str()
            .unwrap()
            .contains("incident web-alb-5xx@2026-11-22T12:36:15Z")
    );
    v.status = fivexx::verdict::Status::Resolved;
    let resolved = slack::message(&v).to_string();
    assert!(
        resolved.contains("Incident `web-alb-5xx@2026-11-22T12:36:15Z` resolved"),
        "{resolved}"
    );
    // Without an incident, the thread is the alarm's, and there is no attribute.
    v.incident = None;
    let input = sns::publish_input(&v, None, false);
    assert!(!input.message_attributes.contains_key("incident"));
}
