//! Hostile input, one test per defect found by attacking fivexx as a hostile publisher or a
//! broken upstream would (issue 15): each builds the input that broke it, triages it in
//! process (`cli::replay`, the `triage --event --world` path) and checks every output format.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use fivexx::cli::{Format, replay};
use serde_json::{Value, json};

const SCENARIO: &str = "alb-503-no-registered-targets";

fn read(path: PathBuf) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn scenario(file: &str) -> Value {
    read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join(format!("tests/scenarios/{SCENARIO}/{file}")),
    )
}

/// Every format for one event/world pair; panics (fails) on an error result.
fn all_formats(event: &Value, world: &Value) -> Vec<(Format, String)> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (e, w) = (event.to_string(), world.to_string());
    [Format::Json, Format::Text, Format::Slack, Format::Sns]
        .into_iter()
        .map(|f| {
            let out = rt
                .block_on(replay(("event", &e), ("world", &w), f, None, 5.0))
                .unwrap_or_else(|err| panic!("{f:?}: {err}"));
            (f, out)
        })
        .collect()
}

fn output(outs: &[(Format, String)], format: Format) -> &str {
    &outs.iter().find(|(f, _)| *f == format).unwrap().1
}

/// Every string inside a JSON value.
fn strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
        Value::Object(o) => o.values().for_each(|x| strings(x, out)),
        _ => {}
    }
}

/// No Slack markup from untrusted text: no `<!`, `<@`, `<#`, and every `<` opens a link
/// fivexx built to the AWS console.
fn assert_no_slack_markup(slack: &str) {
    let v: Value = serde_json::from_str(slack).unwrap();
    let mut all = Vec::new();
    strings(&v, &mut all);
    for s in all {
        for bad in ["<!", "<@", "<#"] {
            assert!(!s.contains(bad), "`{bad}` in {s}");
        }
        for (i, _) in s.match_indices('<') {
            let rest = &s[i + 1..];
            assert!(rest.starts_with("https://"), "raw `<` in {s}");
            let url = rest.split('|').next().unwrap();
            assert!(url.contains(".console.aws.amazon.com/"), "{url}");
            assert!(!url.contains(['<', '>', ' ', '&']), "{url}");
        }
    }
}

/// Defect 1: the region from the alarm ARN (or the envelope's `region`) went raw into console
/// links, so `<!channel>` reached Slack unescaped.
#[test]
fn region_in_the_alarm_cannot_inject_slack_markup() {
    let world = scenario("world.json");
    for region in ["<!channel>", "us-east-1&x=<@U012AB3CD>", "<#C012AB3CD>"] {
        let mut event = scenario("event.json");
        event["alarmArn"] = json!(format!(
            "arn:aws:cloudwatch:{region}:123456789012:alarm:web-httpcode_elb_5xx_count"
        ));
        event["region"] = json!(region);
        let outs = all_formats(&event, &world);
        assert_no_slack_markup(output(&outs, Format::Slack));
        let verdict: Value = serde_json::from_str(output(&outs, Format::Json)).unwrap();
        assert!(verdict["alarm"]["region"].is_null(), "{}", verdict["alarm"]);
    }
}

/// Defect 2a: metric values near `f64::MAX` summed to infinity, and a sort over NaN panicked.
/// Defect 8: `NaN%`, `inf%` and saturated integers in the words.
#[test]
fn overflowing_metric_values_neither_panic_nor_reach_the_words() {
    let event = scenario("event.json");
    let mut world = scenario("world.json");
    for series in world["CloudWatch"]["Metrics"].as_array_mut().unwrap() {
        for point in series["Datapoints"].as_array_mut().unwrap() {
            for stat in ["Sum", "Average", "Maximum", "Minimum", "SampleCount"] {
                if point.get(stat).is_some() {
                    point[stat] = json!(1.7e308);
                }
            }
        }
    }
    let outs = all_formats(&event, &world);
    for (format, out) in &outs {
        for bad in [
            "NaN",
            "inf%",
            " inf",
            "9,223,372,036,854,775,807",
            "9223372036854775807",
        ] {
            assert!(!out.contains(bad), "{format:?}: `{bad}` in {out}");
        }
    }
}

/// Defect 2b: an alarm timestamp in year -262143 passed the fallback parser, then date
/// arithmetic overflowed; a world `Now` there did the same.
#[test]
fn far_timestamps_do_not_panic() {
    let world = scenario("world.json");
    for t in [
        "-262143-01-01T00:00:00.000+0000",
        "+262143-12-31T23:59:59.000+0000",
        "0000-01-01T00:00:00Z",
    ] {
        let mut event = scenario("event.json");
        event["alarmData"]["state"]["timestamp"] = json!(t);
        event["alarmData"]["previousState"]["timestamp"] = json!(t);
        all_formats(&event, &world);
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let event = scenario("event.json").to_string();
    for now in [
        "-262143-01-01T00:00:00Z",
        "+262143-12-31T23:59:59Z",
        "1900-01-01T00:00:00Z",
    ] {
        let mut world = scenario("world.json");
        world["Now"] = json!(now);
        let w = world.to_string();
        let err = rt
            .block_on(replay(
                ("event", &event),
                ("world", &w),
                Format::Json,
                None,
                5.0,
            ))
            .unwrap_err();
        assert_eq!(err.exit_code(), 2, "{now}: {err}");
        assert_eq!(err.to_string().lines().count(), 1, "{err}");
    }
}

/// Defect 3: an alarm naming N load balancers fanned out to every one of them (2,000 took
/// 72 s under a 2 s deadline; one Lambda event made about 8,000 calls). The scope is capped
/// and the rest named in a gap.
#[test]
fn an_alarm_naming_thousands_of_load_balancers_is_capped() {
    let world = scenario("world.json");
    let mut event = scenario("event.json");
    let template = event["alarmData"]["configuration"]["metrics"][0].clone();
    let metrics: Vec<Value> = (0..2000)
        .map(|i| {
            let mut m = template.clone();
            m["id"] = json!(format!("m{i}"));
            m["metricStat"]["metric"]["dimensions"]["LoadBalancer"] =
                json!(format!("app/web-{i}/{i:016x}"));
            m
        })
        .collect();
    event["alarmData"]["configuration"]["metrics"] = json!(metrics);
    let outs = all_formats(&event, &world);
    let v: Value = serde_json::from_str(output(&outs, Format::Json)).unwrap();
    let calls = v["stats"]["api_calls"].as_u64().unwrap();
    // Ten load balancers (the world holds none of them): the first wave's four describe
    // calls each, plus the metric calls; uncapped it was four for each of the 2,000.
    assert!(calls <= 60, "{calls} API calls for a capped scope");
    let gaps = v["gaps"].as_array().unwrap();
    let scope_gap = gaps.iter().find(|g| g["source"] == "scope").unwrap();
    assert!(
        scope_gap["reason"].as_str().unwrap().contains("1990 more"),
        "{scope_gap}"
    );
}

/// Defect 7: ESC and other control characters from alarm text reached `--format text` (a
/// terminal) and the SNS email body.
#[test]
fn control_characters_never_reach_a_terminal_or_an_email() {
    let world = scenario("world.json");
    let mut event = scenario("event.json");
    let hostile = "web\u{1b}[2J\u{1b}[31mFAKE\nlevel=ERROR msg=forged\r\u{7}\u{202e}";
    event["alarmData"]["alarmName"] = json!(hostile);
    event["alarmData"]["configuration"]["description"] = json!(hostile);
    event["alarmData"]["state"]["reason"] = json!(hostile);
    let outs = all_formats(&event, &world);
    let text = output(&outs, Format::Text);
    assert!(
        !text.chars().any(|c| c.is_control() && c != '\n'),
        "{text:?}"
    );
    assert!(!text.contains("\nlevel=ERROR"), "{text}");
    let sns: Value = serde_json::from_str(output(&outs, Format::Sns)).unwrap();
    let body = sns["Message"].as_str().unwrap();
    assert!(
        !body.chars().any(|c| c.is_control() && c != '\n'),
        "{body:?}"
    );
    let verdict: Value = serde_json::from_str(output(&outs, Format::Json)).unwrap();
    let mut all = Vec::new();
    strings(&verdict, &mut all);
    assert!(all.iter().all(|s| !s.chars().any(char::is_control)));
}

/// Defect 9: the alarm console link was not capped: a long alarm name gave a 6,541-character
/// Slack context element (the limit is 3,000).
#[test]
fn long_alarm_names_keep_slack_within_its_limits() {
    let world = scenario("world.json");
    for name in ["x".repeat(2000), "<&>".repeat(700), "é".repeat(5000)] {
        let mut event = scenario("event.json");
        event["alarmData"]["alarmName"] = json!(name);
        let outs = all_formats(&event, &world);
        let slack: Value = serde_json::from_str(output(&outs, Format::Slack)).unwrap();
        let blocks = slack["blocks"].as_array().unwrap();
        assert!(blocks.len() <= 50);
        for b in blocks {
            match b["type"].as_str().unwrap() {
                "header" => assert!(b["text"]["text"].as_str().unwrap().chars().count() <= 150),
                "section" => assert!(b["text"]["text"].as_str().unwrap().chars().count() <= 3000),
                "context" => {
                    for e in b["elements"].as_array().unwrap() {
                        let n = e["text"].as_str().unwrap().chars().count();
                        assert!(n <= 3000, "context element of {n} characters");
                    }
                }
                _ => {}
            }
        }
        assert!(slack.to_string().chars().count() <= 13_000);
        assert_no_slack_markup(output(&outs, Format::Slack));
    }
}

/// Defect 3, the other half: every loop answers to the deadline. A world answers at once, so
/// `timeout_at` alone let a huge world keep a triage calling past its deadline; past it, no
/// call starts.
#[test]
fn past_the_deadline_no_call_starts() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (e, w) = (
        scenario("event.json").to_string(),
        scenario("world.json").to_string(),
    );
    let out = rt
        .block_on(replay(
            ("event", &e),
            ("world", &w),
            Format::Json,
            None,
            1e-9,
        ))
        .unwrap();
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["stats"]["api_calls"], 0, "{}", v["stats"]);
    let gaps = v["gaps"].as_array().unwrap();
    assert!(!gaps.is_empty());
    assert!(
        gaps.iter().all(|g| g["reason"]
            .as_str()
            .unwrap()
            .starts_with("DeadlineExceeded: not sent")),
        "a call never sent says so, not that it got no answer: {gaps:?}"
    );
    assert_eq!(v["status"], "inconclusive");
}
