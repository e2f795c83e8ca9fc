//! Every recorded scenario gives the same verdict JSON, byte for byte (`elapsed_ms` aside),
//! as the one kept in `tests/snapshots/verdicts/NAME.json`.
//!
//! The snapshots guard refactoring: a change that moves code without meaning to change a
//! verdict must leave every file here as it is, including the API call and wave counts
//! (`api_calls`, `round_trips`). A change that means to change verdicts rewrites them with
//! `FIVEXX_BLESS=1 cargo test --test verdicts` and shows the difference in its commit.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn scenarios() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root().join("tests/scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("event.json").exists() && p.join("world.json").exists())
        .collect();
    dirs.sort();
    dirs
}

/// The verdict JSON of one scenario, pretty-printed, with `elapsed_ms` set to 0 (the only
/// field that measures wall time); when the CLI refuses the scenario, its exit status and
/// error are the snapshot instead.
fn verdict(dir: &Path) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_fivexx"))
        .args(["triage", "--format", "json", "--event"])
        .arg(dir.join("event.json"))
        .arg("--world")
        .arg(dir.join("world.json"))
        .output()
        .unwrap();
    if !out.status.success() {
        return format!(
            "exit {}\n{}",
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let mut v: Value = serde_json::from_slice(&out.stdout).unwrap();
    if let Some(stats) = v.get_mut("stats").and_then(Value::as_object_mut) {
        stats.insert("elapsed_ms".into(), Value::from(0));
    }
    let mut text = serde_json::to_string_pretty(&v).unwrap();
    text.push('\n');
    text
}

#[test]
fn every_scenario_gives_its_recorded_verdict() {
    let bless = std::env::var_os("FIVEXX_BLESS").is_some();
    let snapshots = root().join("tests/snapshots/verdicts");
    let dirs = scenarios();
    assert!(dirs.len() >= 20, "only {} scenarios", dirs.len());
    let mut differ = Vec::new();
    for dir in &dirs {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let got = verdict(dir);
        let path = snapshots.join(format!("{name}.json"));
        if bless {
            std::fs::create_dir_all(&snapshots).unwrap();
            std::fs::write(&path, &got).unwrap();
            continue;
        }
        let want = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e} (bless to create it)", path.display()));
        if got != want {
            let line = got
                .lines()
                .zip(want.lines())
                .position(|(a, b)| a != b)
                .unwrap_or_else(|| got.lines().count().min(want.lines().count()));
            differ.push(format!(
                "{name}: first difference at line {}\n  now:    {}\n  before: {}",
                line + 1,
                got.lines().nth(line).unwrap_or("<end>"),
                want.lines().nth(line).unwrap_or("<end>")
            ));
        }
    }
    assert!(
        differ.is_empty(),
        "{} of {} verdicts changed:\n{}",
        differ.len(),
        dirs.len(),
        differ.join("\n")
    );
}

#[test]
fn no_snapshot_without_its_scenario() {
    let names: Vec<String> = scenarios()
        .iter()
        .map(|d| format!("{}.json", d.file_name().unwrap().to_string_lossy()))
        .collect();
    let Ok(entries) = std::fs::read_dir(root().join("tests/snapshots/verdicts")) else {
        return;
    };
    for e in entries {
        let file = e.unwrap().file_name().to_string_lossy().into_owned();
        assert!(names.contains(&file), "`{file}` has no scenario: remove it");
    }
}
