//! CPU per triage: the pure path (gathering from an in-memory world, the rules, the verdict,
//! and rendering it as text, Slack Block Kit and SNS) over every scenario world under
//! `tests/scenarios`. No I/O is timed: worlds and events are parsed once, before measuring.
//!
//! `cargo bench --bench triage` (scripts/bench runs it with short measurement times). Besides
//! criterion's own report, it writes `bench/out/scenarios.json`: per scenario, the API calls,
//! sequential waves and CloudWatch metrics requested that a live triage of the same incident
//! would make (counted on the world port), which is what the cost table is computed from.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use fivexx::alarm::{self, Alarm};
use fivexx::evidence::port::{Answer, Operation, Port};
use fivexx::evidence::world::World;
use fivexx::triage::{TriageOptions, triage};
use fivexx::{notify, render};

struct Scenario {
    name: String,
    alarm: Alarm,
    world: World,
}

fn scenarios() -> Vec<Scenario> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("world.json").is_file())
        .collect();
    dirs.sort();
    dirs.iter().map(|d| load(d)).collect()
}

fn load(dir: &Path) -> Scenario {
    let event = std::fs::read_to_string(dir.join("event.json")).unwrap();
    let world = std::fs::read_to_string(dir.join("world.json")).unwrap();
    Scenario {
        name: dir.file_name().unwrap().to_string_lossy().into_owned(),
        alarm: alarm::parse_str(&event).unwrap(),
        world: World::parse(&world).unwrap(),
    }
}

fn options(world: &World) -> TriageOptions {
    TriageOptions {
        now: world.now.unwrap_or_else(chrono::Utc::now),
        deadline: tokio::time::Instant::now() + Duration::from_secs(3600),
        home_region: world.region.clone(),
        home_account: world.account.clone(),
    }
}

/// The whole pure path for one alarm: what the Lambda does between the event and the POSTs.
fn run_once(rt: &tokio::runtime::Runtime, s: &Scenario) -> usize {
    let verdict = rt.block_on(triage(&s.world, &s.alarm, &options(&s.world)));
    let text = render::text::render(&verdict);
    let slack = notify::slack::message(&verdict);
    let sns = notify::sns::publish_input(&verdict, Some("arn:aws:sns:us-east-1:1:t"), true);
    text.len() + slack.to_string().len() + sns.message.len() + verdict.to_json().len()
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let all = scenarios();
    assert!(!all.is_empty(), "no scenarios under tests/scenarios");
    write_costs(&rt, &all);
    // Criterion samples linearly (1, 2, .. n iterations): 100 samples mean at least 5,050
    // iterations, about 1 s here per scenario and 34 s for the whole set, whatever the
    // measurement time. 50 and 10 samples keep scripts/bench's criterion step near 25 s.
    let mut group = c.benchmark_group("triage");
    group.sample_size(50);
    for s in &all {
        group.bench_function(&s.name, |b| {
            b.iter(|| black_box(run_once(&rt, black_box(s))))
        });
    }
    group.finish();
    let mut whole = c.benchmark_group("all_scenarios");
    whole.sample_size(10);
    whole.bench_function("sequentially", |b| {
        b.iter(|| {
            all.iter()
                .map(|s| run_once(&rt, black_box(s)))
                .sum::<usize>()
        })
    });
    whole.finish();
}

/// A world port that counts the CloudWatch metrics requested, the unit CloudWatch bills.
struct Counting<'a> {
    inner: &'a World,
    metrics: AtomicUsize,
}

impl Port for Counting<'_> {
    async fn call<O: Operation>(&self, region: &str, input: &O::Input) -> Answer<O::Output> {
        self.metrics
            .fetch_add(O::metrics_requested(input), Ordering::Relaxed);
        self.inner.call::<O>(region, input).await
    }
    fn api_calls(&self) -> usize {
        self.inner.api_calls()
    }
    fn origin_regions(&self) -> Vec<String> {
        self.inner.origin_regions()
    }
}

fn write_costs(rt: &tokio::runtime::Runtime, all: &[Scenario]) {
    let rows: Vec<serde_json::Value> = all
        .iter()
        .map(|s| {
            let port = Counting {
                inner: &s.world,
                metrics: AtomicUsize::new(0),
            };
            let v = rt.block_on(triage(&port, &s.alarm, &options(&s.world)));
            serde_json::json!({
                "scenario": s.name,
                "rule": v.findings.first().map(|f| f.rule.clone()),
                "api_calls": v.stats.api_calls,
                "round_trips": v.stats.round_trips,
                "metrics_requested": port.metrics.load(Ordering::Relaxed),
            })
        })
        .collect();
    let out = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("bench/out");
    std::fs::create_dir_all(&out).unwrap();
    let text = serde_json::to_string_pretty(&rows).unwrap();
    std::fs::write(out.join("scenarios.json"), text + "\n").unwrap();
}

criterion_group!(benches, bench);
criterion_main!(benches);
