//! Every scenario under `tests/scenarios/NAME/` runs end to end through the `fivexx` binary
//! (`triage --event event.json --world world.json`) and meets its `expect.json`.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn scenarios() -> Vec<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("expect.json").exists())
        .collect();
    dirs.sort();
    dirs
}

fn strings(v: &Value, key: &str) -> Vec<String> {
    v.get(key)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// Checks one scenario; returns the problems found.
/// Issue 18, defect 7: words must not contradict the numbers. An evidence line that claims a
/// link ("rises with", "tracks", "follow") and quotes a rank correlation must quote one at or
/// above 0.6 (the catalogue's bar for "correlated").
fn unsupported_correlations(v: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for f in v["findings"].as_array().into_iter().flatten() {
        for line in f["evidence"].as_array().into_iter().flatten() {
            let line = line.as_str().unwrap_or_default();
            let Some((_, rest)) = line.split_once("rank correlation ") else {
                continue;
            };
            let number: String = rest
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == '-')
                .collect();
            let claims = ["rises", "track", "follow"]
                .iter()
                .any(|w| line.contains(w));
            if claims && number.parse::<f64>().is_ok_and(|c| c < 0.6) {
                out.push(format!(
                    "{}: `{line}` claims a link on a weak correlation",
                    f["rule"]
                ));
            }
        }
    }
    out
}

fn check(dir: &Path) -> Vec<String> {
    let expect: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("expect.json")).unwrap()).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_fivexx"))
        .args(["triage", "--format", "json", "--event"])
        .arg(dir.join("event.json"))
        .arg("--world")
        .arg(dir.join("world.json"))
        .output()
        .unwrap();
    let mut problems = Vec::new();
    let want_exit = expect.get("exit").and_then(Value::as_i64).unwrap_or(0);
    let code = i64::from(out.status.code().unwrap_or(-1));
    if code != want_exit {
        problems.push(format!(
            "exit {code}, expected {want_exit}; stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
        return problems;
    }
    if want_exit != 0 {
        return problems;
    }
    let v: Value = match serde_json::from_slice(&out.stdout) {
        Ok(v) => v,
        Err(e) => return vec![format!("stdout is not JSON: {e}")],
    };
    assert_eq!(v["format"], "fivexx-verdict/1");
    let status = v["status"].as_str().unwrap_or_default().to_owned();
    let statuses = strings(&expect, "status");
    if !statuses.is_empty() && !statuses.contains(&status) {
        problems.push(format!("status {status}, expected one of {statuses:?}"));
    }
    let rules: Vec<String> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_owned())
        .collect();
    problems.extend(unsupported_correlations(&v));
    let top = rules.first().cloned().unwrap_or_default();
    if let Some(want) = expect.get("top").and_then(Value::as_str)
        && top != want
    {
        problems.push(format!(
            "findings[0] is `{top}`, expected `{want}` (all: {rules:?})"
        ));
    }
    for r in strings(&expect, "include") {
        if !rules.contains(&r) {
            problems.push(format!("`{r}` missing from findings {rules:?}"));
        }
    }
    for r in strings(&expect, "not_top") {
        if top == r {
            problems.push(format!("`{r}` must not be findings[0]"));
        }
    }
    let summary = v["summary"].as_str().unwrap_or_default();
    for want in strings(&expect, "summary") {
        if !summary.contains(&want) {
            problems.push(format!("`{want}` missing from the summary `{summary}`"));
        }
    }
    let gaps = v["gaps"].to_string();
    for g in strings(&expect, "gaps") {
        if !gaps.contains(&g) {
            problems.push(format!("gap `{g}` missing from {gaps}"));
        }
    }
    if let Some(max) = expect
        .get("max_findings_confidence")
        .and_then(Value::as_f64)
    {
        for f in v["findings"].as_array().unwrap() {
            let c = f["confidence"].as_f64().unwrap();
            if c >= max {
                problems.push(format!("{} claims {c}, at most {max} allowed", f["rule"]));
            }
        }
    }
    // Contract invariants that hold for every verdict.
    let confidences: Vec<f64> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["confidence"].as_f64().unwrap())
        .collect();
    if confidences.windows(2).any(|w| w[0] < w[1]) {
        problems.push(format!(
            "findings not sorted by confidence: {confidences:?}"
        ));
    }
    if v["summary"].as_str().unwrap_or_default().is_empty() {
        problems.push("empty summary".into());
    }
    problems
}

#[test]
fn every_scenario_meets_its_expectations() {
    let dirs = scenarios();
    assert!(dirs.len() >= 10, "only {} scenarios", dirs.len());
    let mut failures = Vec::new();
    for dir in &dirs {
        let p = check(dir);
        if !p.is_empty() {
            failures.push(format!(
                "{}:\n  {}",
                dir.file_name().unwrap().to_string_lossy(),
                p.join("\n  ")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} scenarios failed:\n{}",
        failures.len(),
        dirs.len(),
        failures.join("\n")
    );
}

#[test]
fn text_format_shows_summary_findings_and_stats() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/scenarios/alb-504-targets-unreachable");
    let out = Command::new(env!("CARGO_BIN_EXE_fivexx"))
        .args(["triage", "--format", "text", "--event"])
        .arg(dir.join("event.json"))
        .arg("--world")
        .arg(dir.join("world.json"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("DIAGNOSED"), "{text}");
    assert!(text.contains("[alb.target_unreachable]"), "{text}");
    assert!(text.contains("next steps:"), "{text}");
    assert!(text.contains("AWS calls in 2 round trips"), "{text}");
}

/// Every metric name fivexx knows: the constants of `src/evidence/cloudwatch.rs`.
fn known_metric_names() -> Vec<String> {
    let src = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src/evidence/cloudwatch.rs"),
    )
    .unwrap();
    let mut names: Vec<String> = src
        .lines()
        .filter_map(|l| {
            let l = l.trim();
            let rest = l.strip_prefix("pub(crate) const ")?;
            let (_, value) = rest.split_once(": &str = \"")?;
            let name = value.strip_suffix("\";")?;
            // `5xx` and `4xx` (HTTP APIs' metric names) are also how prose names the codes.
            let prose = matches!(name, "5xx" | "4xx");
            (!name.is_empty() && !name.contains('/') && !name.contains(' ') && !prose)
                .then(|| name.to_owned())
        })
        .collect();
    names.sort();
    names.dedup();
    names
}

/// Whether `name` occurs in `line` as a whole word (`Errors` is not in `FunctionExecutionErrors`).
fn mentions(line: &str, name: &str) -> bool {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    line.match_indices(name).any(|(i, _)| {
        let before = line[..i].chars().next_back();
        let after = line[i + name.len()..].chars().next();
        !before.is_some_and(word) && !after.is_some_and(word)
    })
}

/// Issue 18, defect class 1, over every scenario world: no finding's evidence line (and no
/// "excluded" reason of `ruled_out`) names a metric that was not read in that triage. What was
/// read is what a recording of the replay holds (every series asked and answered, empty ones
/// included); lines that say a metric is missing, not read or not listed are the honest
/// exceptions.
#[tokio::test]
async fn no_evidence_line_names_a_metric_that_was_not_read() {
    use fivexx::evidence::record::Recorder;
    use fivexx::evidence::world::World;
    use fivexx::triage::{TriageOptions, triage};
    let known = known_metric_names();
    assert!(known.len() >= 40, "only {} metric names found", known.len());
    assert!(known.iter().any(|n| n == "TargetResponseTime"));
    let mut problems = Vec::new();
    let mut lines_checked = 0;
    for dir in scenarios() {
        let Ok(event) = std::fs::read_to_string(dir.join("event.json")) else {
            continue;
        };
        let (Ok(alarm), Ok(world)) = (
            fivexx::alarm::parse_str(&event),
            World::load(&dir.join("world.json")),
        ) else {
            continue;
        };
        let now = world.now.unwrap();
        let opts = TriageOptions {
            now,
            deadline: tokio::time::Instant::now() + std::time::Duration::from_secs(10),
            home_region: world.region.clone(),
            home_account: world.account.clone(),
        };
        let recorder = Recorder::new(&world, &world.region, world.account.clone(), now);
        let v = triage(&recorder, &alarm, &opts).await;
        let read: Vec<String> = recorder
            .world()
            .cloudwatch
            .metrics
            .iter()
            .map(|s| s.metric_name.clone())
            .collect();
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        let claims = v
            .findings
            .iter()
            .flat_map(|f| f.evidence.iter().map(move |e| (f.rule.clone(), e.clone())))
            .chain(
                v.ruled_out
                    .iter()
                    .filter(|r| r.gap.is_none())
                    .map(|r| (r.rule.clone(), r.reason.clone())),
            );
        for (rule, line) in claims {
            if line.starts_with("missing:")
                || line.contains("not read")
                || line.contains("not listed")
            {
                continue;
            }
            lines_checked += 1;
            for m in known.iter().filter(|m| mentions(&line, m)) {
                if !read.contains(m) {
                    problems.push(format!("{name}: {rule}: `{line}` names {m}, never read"));
                }
            }
        }
    }
    assert!(lines_checked > 200, "only {lines_checked} lines checked");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn whole_word_mentions() {
    assert!(mentions("Lambda Errors 3 in 4 min", "Errors"));
    assert!(!mentions("FunctionExecutionErrors: 2", "Errors"));
    assert!(mentions("TargetResponseTime p99 3 s", "TargetResponseTime"));
    assert!(!mentions("HTTPCode_ELB_5XX_Count", "HTTPCode_ELB_5XX"));
}
