//! Incidents, end to end through the Lambda handler: the incident table in moto server's
//! DynamoDB, a local Slack sink (wiremock) answering `chat.postMessage`, and the handler with
//! its real clients. One post per transition however many deliveries arrive, concurrently or
//! as retries, through any envelope; the store down means posting anyway, and saying so.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/moto.rs"]
mod moto;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
};
use fivexx::config::Config;
use fivexx::lambda::App;
use serde_json::{Value, json};
use tokio::time::Instant;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use moto::MotoServer;

const TABLE: &str = "fivexx-incidents";

fn event(name: &str) -> Value {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("events")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

/// The incident table as the SAM template makes it: `pk`/`sk` strings, on demand.
async fn create_table(moto: &MotoServer) {
    let db = aws_sdk_dynamodb::Client::new(&moto.setup_config().await);
    let attr = |n: &str| {
        AttributeDefinition::builder()
            .attribute_name(n)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .unwrap()
    };
    let key = |n: &str, t: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(n)
            .key_type(t)
            .build()
            .unwrap()
    };
    db.create_table()
        .table_name(TABLE)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attr("pk"))
        .attribute_definitions(attr("sk"))
        .key_schema(key("pk", KeyType::Hash))
        .key_schema(key("sk", KeyType::Range))
        .send()
        .await
        .unwrap();
}

/// A Slack sink answering `chat.postMessage` and `chat.update` like Slack. Every message
/// gets the same `ts`: the tests read threading from the requests.
async fn slack_sink() -> MockServer {
    let slack = MockServer::start().await;
    for endpoint in ["/api/chat.postMessage", "/api/chat.update"] {
        Mock::given(method("POST"))
            .and(path(endpoint))
            .respond_with(ResponseTemplate::new(200).set_body_json(
                json!({"ok": true, "channel": "C0ONCALL", "ts": "1700000000.000100"}),
            ))
            .mount(&slack)
            .await;
    }
    slack
}

/// What the sink received on `method` (`chat.postMessage`, `chat.update`), in order.
async fn calls(slack: &MockServer, method: &str) -> Vec<Value> {
    slack
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path().ends_with(method))
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect()
}

/// The sample SNS alarm of `web-alb-5xx`, its alarm JSON changed by `edit`.
fn sns_edited(edit: impl FnOnce(&mut Value)) -> Value {
    let mut e = event("sns-alb-5xx.json");
    let msg = e["Records"][0]["Sns"]["Message"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut m: Value = serde_json::from_str(&msg).unwrap();
    edit(&mut m);
    e["Records"][0]["Sns"]["Message"] = json!(m.to_string());
    e
}

/// The sample SNS alarm of `web-alb-5xx`, entering `state` from `old` at `at`.
fn sns(state: &str, old: &str, at: &str) -> Value {
    sns_edited(|m| {
        m["NewStateValue"] = json!(state);
        m["OldStateValue"] = json!(old);
        m["StateChangeTime"] = json!(at);
    })
}

/// The function with a bot token (from Secrets Manager), the sink, and `table`.
async fn app(moto: &MotoServer, slack: &MockServer, table: &str) -> App {
    let cfg = moto.sdk_config().await;
    aws_sdk_secretsmanager::Client::new(&moto.setup_config().await)
        .create_secret()
        .name("fivexx/slack-bot-token")
        .secret_string("xoxb-incident-tests")
        .send()
        .await
        .unwrap();
    let pairs = [
        (
            "FIVEXX_SLACK_BOT_TOKEN_SECRET",
            "fivexx/slack-bot-token".to_owned(),
        ),
        ("FIVEXX_SLACK_CHANNEL", "C0ONCALL".to_owned()),
        ("FIVEXX_SLACK_API_URL", format!("{}/api", slack.uri())),
        ("FIVEXX_INCIDENT_TABLE", table.to_owned()),
        ("FIVEXX_GATHER_TIMEOUT_MS", "5000".to_owned()),
        // moto under a loaded test run can take seconds: the store must not be given up on.
        ("FIVEXX_INCIDENT_TIMEOUT_MS", "20000".to_owned()),
    ];
    let map: std::collections::HashMap<&str, String> = pairs.into_iter().collect();
    let config = Config::from_lookup(|k| map.get(k).cloned()).unwrap();
    App::with_sdk_config(config, cfg).unwrap()
}

async fn posts(slack: &MockServer) -> Vec<Value> {
    calls(slack, "/chat.postMessage").await
}

fn deadline() -> Instant {
    Instant::now() + Duration::from_secs(30)
}

#[tokio::test]
async fn twenty_concurrent_deliveries_of_one_transition_post_once() {
    let moto = MotoServer::start();
    create_table(&moto).await;
    let slack = slack_sink().await;
    let app = app(&moto, &slack, TABLE).await;
    let payload = event("sns-alb-5xx.json");
    let started = std::time::Instant::now();
    let results =
        futures::future::join_all((0..20).map(|_| app.handle(&payload, deadline()))).await;
    let wall = started.elapsed();
    let outcomes: Vec<Value> = results.into_iter().map(Result::unwrap).collect();
    assert_eq!(posts(&slack).await.len(), 1, "{outcomes:#?}");
    let duplicates = outcomes
        .iter()
        .filter(|o| o["status"] == "duplicate")
        .count();
    assert_eq!(duplicates, 19, "{outcomes:#?}");
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| o["slack"] == "delivered")
            .count(),
        1
    );
    eprintln!("20 concurrent deliveries: 1 post, 19 duplicates, {wall:?}");
}

#[tokio::test]
async fn a_retry_after_a_failed_post_posts_once_and_a_retry_after_success_posts_nothing() {
    let moto = MotoServer::start();
    create_table(&moto).await;
    let slack = MockServer::start().await;
    // The first post is refused (Slack answers 200 with an error: not retried in-process).
    Mock::given(method("POST"))
        .and(path("/api/chat.postMessage"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"ok": false, "error": "fatal_error"})),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&slack)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/chat.postMessage"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"ok": true, "channel": "C0ONCALL", "ts": "1.1"})),
        )
        .with_priority(2)
        .mount(&slack)
        .await;
    let app = app(&moto, &slack, TABLE).await;
    let payload = event("eventbridge-alb-5xx.json");
    // The first invocation fails: Lambda will retry it, so its claim is given up.
    let first = app.handle(&payload, deadline()).await;
    assert!(first.is_err(), "{first:?}");
    // Lambda's retry posts it.
    let retry = app.handle(&payload, deadline()).await.unwrap();
    assert_eq!(retry["slack"], "delivered", "{retry}");
    assert_eq!(posts(&slack).await.len(), 2, "one refused, one posted");
    // A second retry (or a late redelivery) after the successful post posts nothing.
    let again = app.handle(&payload, deadline()).await.unwrap();
    assert_eq!(again["status"], "duplicate", "{again}");
    assert_eq!(posts(&slack).await.len(), 2);
}

#[tokio::test]
async fn one_transition_through_every_envelope_posts_once() {
    let moto = MotoServer::start();
    create_table(&moto).await;
    let slack = slack_sink().await;
    let app = app(&moto, &slack, TABLE).await;
    // The same transition, delivered by the alarm action, by SNS and by EventBridge, twice
    // each, all at once.
    let payloads: Vec<Value> = [
        "direct-alb-5xx.json",
        "sns-alb-5xx.json",
        "eventbridge-alb-5xx.json",
    ]
    .iter()
    .flat_map(|n| [event(n), event(n)])
    .collect();
    let results =
        futures::future::join_all(payloads.iter().map(|p| app.handle(p, deadline()))).await;
    for r in &results {
        assert!(r.is_ok(), "{r:?}");
    }
    assert_eq!(posts(&slack).await.len(), 1);
    // The OK transition of the same alarm is another transition: posted once too.
    for _ in 0..2 {
        app.handle(&event("sns-alb-ok.json"), deadline())
            .await
            .unwrap();
    }
    let all = posts(&slack).await;
    assert_eq!(all.len(), 2, "{all:#?}");
}

#[tokio::test]
async fn the_store_down_means_posting_anyway_and_saying_so() {
    let moto = MotoServer::start();
    // No table: every store call fails (ResourceNotFoundException).
    let slack = slack_sink().await;
    let app = app(&moto, &slack, "fivexx-no-such-table").await;
    let payload = event("sns-alb-5xx.json");
    let first = app.handle(&payload, deadline()).await.unwrap();
    assert_eq!(first["slack"], "delivered", "{first}");
    assert!(
        first["store"]
            .as_str()
            .unwrap_or_default()
            .starts_with("degraded"),
        "{first}"
    );
    // At least once beats never: the duplicate is posted too, and says why.
    app.handle(&payload, deadline()).await.unwrap();
    let sent = posts(&slack).await;
    assert_eq!(sent.len(), 2);
    let footer = sent[0].to_string();
    assert!(
        footer.contains("incident store unavailable (ResourceNotFoundException)"),
        "{footer}"
    );
}

#[tokio::test]
async fn alarm_then_ok_updates_the_message_in_place_and_replies_in_its_thread() {
    let moto = MotoServer::start();
    create_table(&moto).await;
    let slack = slack_sink().await;
    let app = app(&moto, &slack, TABLE).await;
    let alarm = sns("ALARM", "OK", "2026-11-22T12:36:15.000+0000");
    let ok = sns("OK", "ALARM", "2026-11-22T12:48:15.000+0000");
    app.handle(&alarm, deadline()).await.unwrap();
    // OK delivered twice: one update, one reply.
    for _ in 0..2 {
        app.handle(&ok, deadline()).await.unwrap();
    }
    let posted = posts(&slack).await;
    let updated = calls(&slack, "/chat.update").await;
    assert_eq!(posted.len(), 2, "{posted:#?}");
    assert!(posted[0].get("thread_ts").is_none(), "{}", posted[0]);
    assert_eq!(posted[1]["thread_ts"], "1700000000.000100", "{}", posted[1]);
    assert_eq!(posted[1]["channel"], "C0ONCALL");
    let reply = posted[1].to_string();
    // The SNS payload carries no time for the ALARM state: the incident knows it.
    assert!(reply.contains("Back to OK after 12 min"), "{reply}");
    assert_eq!(updated.len(), 1, "{updated:#?}");
    assert_eq!(updated[0]["ts"], "1700000000.000100");
    let parent = updated[0].to_string();
    assert!(
        parent.contains("Resolved") && parent.contains("after 12 min"),
        "{parent}"
    );
    assert!(parent.contains("Was: "), "{parent}");
}

#[tokio::test]
async fn a_new_alarm_within_the_flap_window_reopens_the_incident_in_its_thread() {
    let moto = MotoServer::start();
    create_table(&moto).await;
    let slack = slack_sink().await;
    let app = app(&moto, &slack, TABLE).await;
    for (state, old, at) in [
        ("ALARM", "OK", "2026-11-22T12:36:15.000+0000"),
        ("OK", "ALARM", "2026-11-22T12:40:15.000+0000"),
        // 10 min after OK, inside the 30 min window: the same incident.
        ("ALARM", "OK", "2026-11-22T12:50:15.000+0000"),
    ] {
        app.handle(&sns(state, old, at), deadline()).await.unwrap();
    }
    let posted = posts(&slack).await;
    let updated = calls(&slack, "/chat.update").await;
    assert_eq!(posted.len(), 3, "{posted:#?}");
    assert!(posted[0].get("thread_ts").is_none());
    assert!(
        posted[1..]
            .iter()
            .all(|p| p["thread_ts"] == "1700000000.000100"),
        "{posted:#?}"
    );
    assert_eq!(updated.len(), 2, "resolved, then reopened: {updated:#?}");
    assert!(
        updated[1].to_string().contains("Reopened (1×)"),
        "{}",
        updated[1]
    );
    // Near miss: OK again, then an ALARM 50 min later, past the window: a new incident, a
    // new top-level message.
    app.handle(
        &sns("OK", "ALARM", "2026-11-22T12:55:15.000+0000"),
        deadline(),
    )
    .await
    .unwrap();
    app.handle(
        &sns("ALARM", "OK", "2026-11-22T13:45:15.000+0000"),
        deadline(),
    )
    .await
    .unwrap();
    let posted = posts(&slack).await;
    assert_eq!(posted.len(), 5, "{posted:#?}");
    assert_eq!(posted[3]["thread_ts"], "1700000000.000100", "{}", posted[3]);
    assert!(posted[4].get("thread_ts").is_none(), "{}", posted[4]);
}

/// A webhook cannot thread or update: each transition is posted once, and the OK names the
/// incident it resolves.
#[tokio::test]
async fn a_webhook_posts_each_transition_once_and_names_the_incident_at_ok() {
    const HOOK: &str = "/services/T0/B0/incident-tests";
    let moto = MotoServer::start();
    create_table(&moto).await;
    let slack = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(HOOK))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .mount(&slack)
        .await;
    aws_sdk_secretsmanager::Client::new(&moto.setup_config().await)
        .create_secret()
        .name("fivexx/slack-webhook")
        .secret_string(format!("{}{HOOK}", slack.uri()))
        .send()
        .await
        .unwrap();
    let map: std::collections::HashMap<&str, String> = [
        (
            "FIVEXX_SLACK_WEBHOOK_SECRET",
            "fivexx/slack-webhook".to_owned(),
        ),
        ("FIVEXX_INCIDENT_TABLE", TABLE.to_owned()),
        ("FIVEXX_GATHER_TIMEOUT_MS", "5000".to_owned()),
        ("FIVEXX_INCIDENT_TIMEOUT_MS", "20000".to_owned()),
    ]
    .into_iter()
    .collect();
    let config = Config::from_lookup(|k| map.get(k).cloned()).unwrap();
    let app = App::with_sdk_config(config, moto.sdk_config().await).unwrap();
    for (state, old, at) in [
        ("ALARM", "OK", "2026-11-22T12:36:15.000+0000"),
        ("ALARM", "OK", "2026-11-22T12:36:15.000+0000"),
        ("OK", "ALARM", "2026-11-22T12:48:15.000+0000"),
        ("OK", "ALARM", "2026-11-22T12:48:15.000+0000"),
    ] {
        app.handle(&sns(state, old, at), deadline()).await.unwrap();
    }
    let sent = calls(&slack, HOOK).await;
    assert_eq!(sent.len(), 2, "{sent:#?}");
    let ok = sent[1].to_string();
    assert!(
        ok.contains("Incident `web-alb-5xx@2026-11-22T12:36:15Z` resolved"),
        "{ok}"
    );
}

/// `web-alb-5xx`'s SNS alarm renamed `name` and moved to load balancer `lb`.
fn storm_alarm(name: &str, lb: &str) -> Value {
    sns_edited(|m| {
        m["AlarmName"] = json!(name);
        m["AlarmArn"] = json!(format!(
            "arn:aws:cloudwatch:us-east-1:123456789012:alarm:{name}"
        ));
        m["Trigger"]["Dimensions"] = json!([{"name": "LoadBalancer", "value": lb}]);
    })
}

/// Answers `chat.postMessage` with a new `ts` per message and remembers which message got
/// which: a storm's replies can then be matched to the message they thread under.
#[derive(Clone, Default)]
struct NumberedPosts {
    next: Arc<AtomicU64>,
    given: Arc<Mutex<Vec<(String, Value)>>>,
}

impl wiremock::Respond for NumberedPosts {
    fn respond(&self, req: &wiremock::Request) -> ResponseTemplate {
        let n = self.next.fetch_add(1, Ordering::SeqCst) + 1;
        let ts = format!("1700000000.{n:06}");
        let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
        self.given.lock().unwrap().push((ts.clone(), body));
        ResponseTemplate::new(200)
            .set_body_json(json!({"ok": true, "channel": "C0ONCALL", "ts": ts}))
    }
}

/// A storm: 4 load balancers lose their targets at once, each with 5 alarms on it (ELB 5xx,
/// target 5xx, unhealthy hosts, ...), each delivered twice, all concurrently. One incident per
/// load balancer leads (its message at the top level), the other four alarms reply in its
/// thread and are listed on it; no transition is posted twice.
#[tokio::test]
async fn a_storm_groups_by_load_balancer_into_one_thread_each() {
    let moto = MotoServer::start();
    create_table(&moto).await;
    let slack = MockServer::start().await;
    let numbered = NumberedPosts::default();
    Mock::given(method("POST"))
        .and(path("/api/chat.postMessage"))
        .respond_with(numbered.clone())
        .mount(&slack)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/chat.update"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": true})))
        .mount(&slack)
        .await;
    let app = app(&moto, &slack, TABLE).await;
    let payloads: Vec<Value> = (0..4)
        .flat_map(|lb| {
            (0..5).flat_map(move |a| {
                let p = storm_alarm(
                    &format!("lb{lb}-alarm{a}"),
                    &format!("app/lb{lb}/000000000000000{lb}"),
                );
                [p.clone(), p]
            })
        })
        .collect();
    let started = std::time::Instant::now();
    let results =
        futures::future::join_all(payloads.iter().map(|p| app.handle(p, deadline()))).await;
    let wall = started.elapsed();
    let outcomes: Vec<Value> = results.into_iter().map(Result::unwrap).collect();
    let posted = posts(&slack).await;
    let top: Vec<&Value> = posted
        .iter()
        .filter(|p| p.get("thread_ts").is_none())
        .collect();
    let replies: Vec<&Value> = posted
        .iter()
        .filter(|p| p.get("thread_ts").is_some())
        .collect();
    let duplicates = outcomes
        .iter()
        .filter(|o| o["status"] == "duplicate")
        .count();
    let updates = calls(&slack, "/chat.update").await;
    // The triages run concurrently on one port whose call counter they share, so each
    // verdict's `api_calls` counts its neighbours' too: the largest is the triages' total.
    let triage_calls = outcomes
        .iter()
        .filter_map(|o| o["stats"]["api_calls"].as_u64())
        .max()
        .unwrap_or(0);
    let triaged = outcomes.iter().filter(|o| o["stats"].is_object()).count();
    eprintln!(
        "storm: 40 deliveries -> {} parent posts, {} thread replies, {} updates, {duplicates} duplicates suppressed (not triaged), {triaged} triages making about {triage_calls} AWS calls, {wall:?}",
        top.len(),
        replies.len(),
        updates.len()
    );
    assert_eq!(top.len(), 4, "{posted:#?}");
    assert_eq!(replies.len(), 16, "{posted:#?}");
    assert_eq!(duplicates, 20);
    // Each reply threads under the parent of its own load balancer, and each update lists
    // the grouped alarms on that parent.
    let given = numbered.given.lock().unwrap().clone();
    let lb_of = |v: &Value| {
        let text = v.to_string();
        (0..4).find(|lb| text.contains(&format!("lb{lb}-alarm")))
    };
    for reply in &replies {
        let parent = given
            .iter()
            .find(|(ts, _)| reply["thread_ts"] == ts.as_str())
            .map(|(_, body)| body)
            .expect("a reply under a message fivexx posted");
        assert!(
            parent.get("thread_ts").is_none(),
            "replies thread under parents"
        );
        assert_eq!(lb_of(parent), lb_of(reply), "{reply}");
    }
    for u in &updates {
        assert!(u.to_string().contains("Grouped in this thread"), "{u}");
    }
}

/// A claim whose invocation died (its lease ended, nothing posted) is taken over by the next
/// delivery, which posts: a crash never swallows a verdict. A live claim is respected.
#[tokio::test]
async fn a_dead_invocations_claim_is_taken_over_and_a_live_one_is_not() {
    use aws_sdk_dynamodb::types::AttributeValue as A;
    let moto = MotoServer::start();
    create_table(&moto).await;
    let slack = slack_sink().await;
    let app = app(&moto, &slack, TABLE).await;
    let db = aws_sdk_dynamodb::Client::new(&moto.setup_config().await);
    let claim = |at: &str, lease_ms: i64| {
        db.put_item()
            .table_name(TABLE)
            .item(
                "pk",
                A::S("ALARM#arn:aws:cloudwatch:us-east-1:123456789012:alarm:web-alb-5xx".into()),
            )
            .item("sk", A::S(format!("T#{at}#ALARM")))
            .item("status", A::S("in_progress".into()))
            .item("token", A::S("a-crashed-invocation".into()))
            .item("lease_until", A::N(lease_ms.to_string()))
            .send()
    };
    let now_ms = chrono::Utc::now().timestamp_millis();
    // A lease that ended a minute ago: taken over.
    claim("2026-11-22T12:36:15.000Z", now_ms - 60_000)
        .await
        .unwrap();
    let out = app
        .handle(
            &sns("ALARM", "OK", "2026-11-22T12:36:15.000+0000"),
            deadline(),
        )
        .await
        .unwrap();
    assert_eq!(out["slack"], "delivered", "{out}");
    // A lease still running (another invocation is posting): nothing posted.
    claim("2026-11-22T13:36:15.000Z", now_ms + 60_000)
        .await
        .unwrap();
    let out = app
        .handle(
            &sns("ALARM", "OK", "2026-11-22T13:36:15.000+0000"),
            deadline(),
        )
        .await
        .unwrap();
    assert_eq!(out["status"], "duplicate", "{out}");
    assert_eq!(posts(&slack).await.len(), 1);
}

/// An ALB in moto's default VPC with 3 target groups (2 targets each) behind 3 HTTP
/// listeners; its `LoadBalancer` dimension.
async fn seed_lb(moto: &MotoServer) -> String {
    use aws_sdk_elasticloadbalancingv2::types as elb;
    let elbv2 = aws_sdk_elasticloadbalancingv2::Client::new(&moto.setup_config().await);
    let (vpc, subnets) = moto.default_subnets();
    let lb = elbv2
        .create_load_balancer()
        .name("shared")
        .set_subnets(Some(subnets))
        .r#type(elb::LoadBalancerTypeEnum::Application)
        .send()
        .await
        .unwrap();
    let arn = lb.load_balancers()[0]
        .load_balancer_arn()
        .unwrap()
        .to_owned();
    for i in 0..3 {
        let tg = elbv2
            .create_target_group()
            .name(format!("shared-{i}"))
            .protocol(elb::ProtocolEnum::Http)
            .port(8080)
            .vpc_id(&vpc)
            .target_type(elb::TargetTypeEnum::Ip)
            .send()
            .await
            .unwrap();
        let tg = tg.target_groups()[0].target_group_arn().unwrap().to_owned();
        let target = |n: u8| {
            elb::TargetDescription::builder()
                .id(format!("172.31.{i}.{n}"))
                .port(8080)
                .build()
        };
        elbv2
            .register_targets()
            .target_group_arn(&tg)
            .targets(target(10))
            .targets(target(11))
            .send()
            .await
            .unwrap();
        elbv2
            .create_listener()
            .load_balancer_arn(&arn)
            .protocol(elb::ProtocolEnum::Http)
            .port(8080 + i)
            .default_actions(
                elb::Action::builder()
                    .r#type(elb::ActionTypeEnum::Forward)
                    .target_group_arn(&tg)
                    .build(),
            )
            .send()
            .await
            .unwrap();
    }
    arn.split_once(":loadbalancer/").unwrap().1.to_owned()
}

/// A storm on one load balancer: 5 alarms on it at once. One triage reads the load balancer
/// and shares what it read through the incident table; the other four reuse it (their
/// footers say from whom and how old) and reach the same answer; the record is `ready`.
#[tokio::test]
async fn a_storm_on_one_load_balancer_reads_it_once_and_shares_it() {
    let moto = MotoServer::start();
    create_table(&moto).await;
    let slack = slack_sink().await;
    let dimension = seed_lb(&moto).await;
    let app = app(&moto, &slack, TABLE).await;
    let payloads: Vec<Value> = (0..5)
        .map(|a| storm_alarm(&format!("shared-alarm{a}"), &dimension))
        .collect();
    let outcomes: Vec<Value> =
        futures::future::join_all(payloads.iter().map(|p| app.handle(p, deadline())))
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect();
    let posted = posts(&slack).await;
    assert_eq!(posted.len(), 5, "{outcomes:#?}");
    let reused: Vec<&Value> = posted
        .iter()
        .filter(|p| p.to_string().contains("answers reused from the triage of"))
        .collect();
    assert_eq!(reused.len(), 4, "{posted:#?}");
    for p in &reused {
        assert!(p.to_string().contains("shared-alarm"), "{p}");
    }
    let answers: std::collections::BTreeSet<String> =
        outcomes.iter().map(|o| o["rule"].to_string()).collect();
    assert_eq!(
        answers.len(),
        1,
        "one answer for one load balancer: {outcomes:#?}"
    );
    let db = aws_sdk_dynamodb::Client::new(&moto.setup_config().await);
    let items = db.scan().table_name(TABLE).send().await.unwrap();
    let shared: Vec<_> = items
        .items()
        .iter()
        .filter(|i| i["pk"].as_s().unwrap().starts_with("SHARE#"))
        .collect();
    assert_eq!(shared.len(), 1, "{shared:#?}");
    assert_eq!(shared[0]["status"].as_s().unwrap(), "ready");
    assert!(shared[0]["evidence"].as_b().is_ok());
}
