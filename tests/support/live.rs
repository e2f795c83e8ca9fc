//! What the front-door tests against moto share: the account and region, alarm payloads
//! changed to ALARM now, metric seeding through the CloudWatch shim, and a live triage with a
//! recording, written to a file, loaded and replayed.

#![allow(dead_code)] // each test binary uses its own part of this helper

use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_cloudwatch::types as cw;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use fivexx::alarm::{self, Alarm};
use fivexx::evidence::gather::window_for;
use fivexx::evidence::record::Recorder;
use fivexx::evidence::sdk::AwsSdk;
use fivexx::evidence::world::World;
use fivexx::triage::{TriageOptions, triage};
use fivexx::verdict::Verdict;

pub const ACCOUNT: &str = "123456789012";
pub const REGION: &str = "us-east-1";

/// Datapoints `(time, value)`, one per whole minute.
pub type Points = Vec<(DateTime<Utc>, f64)>;

/// `value` at each of the whole minutes `minutes_ago` before the end of the window at `now`,
/// sorted by time.
pub fn at(now: DateTime<Utc>, minutes_ago: &[i64], value: f64) -> Points {
    let end = window_for(now).end;
    let mut points: Points = minutes_ago
        .iter()
        .map(|k| (end - chrono::Duration::minutes(*k), value))
        .collect();
    points.sort_by_key(|(t, _)| *t);
    points
}

/// `value` at each of the `minutes` whole minutes before the end of the window at `now`.
pub fn last_minutes(now: DateTime<Utc>, minutes: i64, value: f64) -> Points {
    at(now, &(1..=minutes).collect::<Vec<_>>(), value)
}

/// Seeds `points` of one metric into moto's CloudWatch (through the shim, in RPCv2 CBOR).
/// `dims` in the order fivexx asks for them (sorted by name): moto compares them in order.
pub async fn put(
    cfg: &SdkConfig,
    namespace: &str,
    name: &str,
    dims: &[(&str, &str)],
    points: &[(DateTime<Utc>, f64)],
) {
    let mut req = aws_sdk_cloudwatch::Client::new(cfg)
        .put_metric_data()
        .namespace(namespace);
    for (t, v) in points {
        let mut d = cw::MetricDatum::builder()
            .metric_name(name)
            .timestamp(aws_sdk_cloudwatch::primitives::DateTime::from_secs(
                t.timestamp(),
            ))
            .value(*v);
        for (k, v) in dims {
            d = d.dimensions(cw::Dimension::builder().name(*k).value(*v).build());
        }
        req = req.metric_data(d.build());
    }
    req.send()
        .await
        .unwrap_or_else(|e| panic!("PutMetricData {name}: {e:?}"));
}

/// A direct alarm-action payload for `namespace`/`metric` of `dims` (Sum per minute), changed
/// to ALARM a second before `now`.
pub fn alarm_at(
    now: DateTime<Utc>,
    name: &str,
    namespace: &str,
    metric: &str,
    dims: Value,
) -> Alarm {
    let t = (now - chrono::Duration::seconds(1))
        .format("%Y-%m-%dT%H:%M:%S%.3f+0000")
        .to_string();
    let event = json!({
        "source": "aws.cloudwatch",
        "alarmArn": format!("arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{name}"),
        "accountId": ACCOUNT,
        "time": t,
        "region": REGION,
        "alarmData": {
            "alarmName": name,
            "state": {"value": "ALARM", "reason": "Threshold Crossed", "timestamp": t},
            "previousState": {"value": "OK", "reason": "Threshold Crossed", "timestamp": "2026-11-22T09:36:15.000+0000"},
            "configuration": {"metrics": [{"id": "m1", "returnData": true, "metricStat": {
                "metric": {"namespace": namespace, "name": metric, "dimensions": dims},
                "period": 60, "stat": "Sum"}}]}
        }
    });
    alarm::parse(&event).unwrap_or_else(|e| panic!("an {namespace} alarm: {e:?}"))
}

pub fn options(now: DateTime<Utc>) -> TriageOptions {
    TriageOptions {
        now,
        deadline: tokio::time::Instant::now() + Duration::from_secs(30),
        home_region: REGION.into(),
        home_account: Some(ACCOUNT.into()),
    }
}

/// A verdict as JSON without `stats` (call counts and times differ between live and replay).
pub fn without_stats(v: &Verdict) -> Value {
    let mut j = serde_json::to_value(v).expect("verdict JSON");
    j.as_object_mut().expect("an object").remove("stats");
    j
}

/// Triages `alarm` live through the SDK with a recording, writes the recorded world to a
/// file, loads it and replays it: the live verdict, the replayed one and the loaded world.
pub async fn record_and_replay(
    cfg: SdkConfig,
    alarm: &Alarm,
    now: DateTime<Utc>,
) -> (Verdict, Verdict, World) {
    let sdk = AwsSdk::new(cfg);
    let recorder = Recorder::new(&sdk, REGION, Some(ACCOUNT.into()), now);
    let live = triage(&recorder, alarm, &options(now)).await;
    let world = recorder.world();
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("world.json");
    std::fs::write(&path, world.to_json()).expect("write the world");
    let loaded = World::load(&path).expect("the recorded world loads");
    assert_eq!(loaded.now, Some(now), "the world keeps the triage clock");
    let replayed = triage(&loaded, alarm, &options(now)).await;
    (live, replayed, loaded)
}
