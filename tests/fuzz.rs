//! Structural fuzzing of the replay path (`fivexx::cli::replay`, in-process): mutated alarm
//! payloads and world files (`support/mutate.rs`) must give a verdict that meets the output
//! contracts in every format, or a one-line exit-2 error, never a panic (`support/fuzz_checks.rs`).
//!
//! - `fuzz_short_run`: about 30 s of random cases inside `cargo test`. `FIVEXX_FUZZ_SEED`
//!   reproduces a run (the seed is printed on stderr: `cargo test --test fuzz -- --nocapture`),
//!   `FIVEXX_FUZZ_CASES` sets the number of cases, `FIVEXX_FUZZ_SECONDS` the time budget (0: none),
//!   `FIVEXX_FUZZ_THREADS` runs that many seeds side by side, `FIVEXX_FUZZ_LONG=1` allows the
//!   long run's sizes (1 MB strings, 10,000 copies). `scripts/fuzz` is the long run.
//!   A failing case is shrunk and saved under `tests/fuzz-regressions/<hash>/`.
//! - `fuzz_regressions_replay`: every folder of `tests/fuzz-regressions/` through the same
//!   checks.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/fuzz_checks.rs"]
mod fuzz_checks;
#[path = "support/mutate.rs"]
mod mutate;

use std::cell::{Cell, RefCell};
use std::hash::{BuildHasher, Hasher};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use fuzz_checks::Checker;
use mutate::{Applied, Case, Limits};
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};
use serde_json::Value;

/// The world paired with a sample event: no AWS resource at all.
const SMALL_WORLD: &str = r#"{"Format":"fivexx-world/1","Now":"2026-11-22T12:37:00Z","Region":"us-east-1","Account":"123456789012"}"#;

/// Cases in the short run: about 50 a second in the debug build on one core of the 2-core
/// machine (one triage rendered in four formats per case), so about 30 s; the time budget
/// bounds a slower machine.
const SHORT_RUN_CASES: u32 = 1500;
const SHORT_RUN_SECONDS: f64 = 30.0;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

struct Document {
    name: String,
    value: Value,
    /// The file as it is, for a case that does not mutate it.
    text: String,
}

impl Document {
    fn load(path: &Path) -> Self {
        let text = std::fs::read_to_string(path).unwrap();
        let value = serde_json::from_str(&text).unwrap();
        let name = path
            .strip_prefix(root())
            .unwrap_or(path)
            .display()
            .to_string();
        Self { name, value, text }
    }
}

/// Every input a case starts from, parsed once.
struct Bases {
    /// (event, world) of each `tests/scenarios/*`.
    scenarios: Vec<(Document, Document)>,
    /// `events/*.json`.
    events: Vec<Document>,
    small_world: Document,
}

fn sorted_dir(dir: &Path) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    paths
}

impl Bases {
    fn load() -> Self {
        let scenarios = sorted_dir(&root().join("tests/scenarios"))
            .into_iter()
            .filter(|d| d.join("event.json").exists() && d.join("world.json").exists())
            .map(|d| {
                (
                    Document::load(&d.join("event.json")),
                    Document::load(&d.join("world.json")),
                )
            })
            .collect();
        let events = sorted_dir(&root().join("events"))
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .map(|p| Document::load(&p))
            .collect();
        let small_world = Document {
            name: "(small world)".into(),
            value: serde_json::from_str(SMALL_WORLD).unwrap(),
            text: SMALL_WORLD.into(),
        };
        Self {
            scenarios,
            events,
            small_world,
        }
    }

    /// The event and world a case starts from. Sample events come first, so shrinking the
    /// base towards 0 also shrinks the world towards the small one.
    fn base(&self, case: &Case) -> (&Document, &Document) {
        let n = self.scenarios.len();
        if case.base >= self.events.len() {
            let (e, w) = &self.scenarios[(case.base - self.events.len()) % n];
            return (e, w);
        }
        let world = match case.world {
            0 => &self.small_world,
            k => &self.scenarios[(k - 1) % n].1,
        };
        (&self.events[case.base], world)
    }

    fn describe(&self, case: &Case) -> String {
        let (e, w) = self.base(case);
        format!("event {} with world {}", e.name, w.name)
    }

    fn apply(&self, case: &Case, limits: Limits) -> Applied {
        let (e, w) = self.base(case);
        let mut free = Vec::new();
        let mut event = e.value.clone();
        mutate::apply_inner(&mut event, &case.inner, limits, &mut free);
        mutate::apply_all(&mut event, &case.event, limits, &mut free);
        let event = if case.inner.is_empty() && case.event.is_empty() {
            e.text.clone()
        } else {
            mutate::to_text(&event)
        };
        let world = if case.world_ops.is_empty() {
            w.text.clone()
        } else {
            let mut world = w.value.clone();
            mutate::apply_all(&mut world, &case.world_ops, limits, &mut free);
            mutate::to_text(&world)
        };
        let mut applied = Applied {
            event,
            world,
            free_text: free,
        };
        if let Some(op) = case.text {
            mutate::apply_text(&mut applied, op);
        }
        applied
    }
}

fn env<T: std::str::FromStr>(name: &str) -> Option<T> {
    let v = std::env::var(name).ok()?;
    Some(
        v.trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v} is not a valid value")),
    )
}

/// ChaCha's 32-byte seed from a printable u64 (splitmix64).
fn seed_bytes(seed: u64) -> [u8; 32] {
    let mut out = [0u8; 32];
    let mut x = seed;
    for chunk in out.chunks_mut(8) {
        x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        chunk.copy_from_slice(&(z ^ (z >> 31)).to_le_bytes());
    }
    out
}

fn short_hash(a: &Applied) -> String {
    let mut h = std::hash::DefaultHasher::new();
    h.write(a.event.as_bytes());
    h.write_u8(0);
    h.write(a.world.as_bytes());
    format!("{:012x}", h.finish() & 0xffff_ffff_ffff)
}

/// Saves a failing case as a regression input; returns its folder.
fn save(applied: &Applied, why: &str) -> PathBuf {
    let dir = root()
        .join("tests/fuzz-regressions")
        .join(short_hash(applied));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("event.json"), &applied.event).unwrap();
    std::fs::write(dir.join("world.json"), &applied.world).unwrap();
    std::fs::write(dir.join("why.txt"), why).unwrap();
    dir
}

/// What one fuzzing thread did.
struct Run {
    seed: u64,
    executions: u64,
    elapsed: Duration,
    slowest: Duration,
    finding: Option<String>,
}

struct Settings {
    cases: u32,
    budget: Option<Duration>,
    limits: Limits,
    shrink_time: Duration,
}

/// Runs cases from `seed` until `cases` are done, the budget is spent or `stop` is set.
fn fuzz(bases: &Bases, seed: u64, settings: &Settings, stop: &AtomicBool) -> Run {
    let config = Config {
        cases: settings.cases,
        failure_persistence: None,
        // A reject ends the run at once: how a time budget or another thread's finding stops it.
        max_global_rejects: 0,
        max_shrink_iters: 5_000,
        max_shrink_time: u32::try_from(settings.shrink_time.as_millis()).unwrap_or(u32::MAX),
        ..Config::default()
    };
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes(seed));
    let mut runner = TestRunner::new_with_rng(config, rng);
    let strategy = mutate::case(bases.scenarios.len(), bases.events.len(), settings.limits);
    let checker = RefCell::new(Checker::new());
    let executions = Cell::new(0u64);
    // The first failure's class: while shrinking, only a case failing the same way counts.
    let failing: RefCell<Option<String>> = RefCell::new(None);
    let started = Instant::now();
    let progress = Cell::new(started);
    let stopped = Cell::new(false);
    let result = runner.run(&strategy, |case| {
        let shrinking = failing.borrow().is_some();
        if !shrinking
            && (stop.load(Ordering::Relaxed)
                || settings.budget.is_some_and(|b| started.elapsed() > b))
        {
            stopped.set(true);
            return Err(TestCaseError::reject(
                "time budget spent or another thread found something",
            ));
        }
        let applied = bases.apply(&case, settings.limits);
        executions.set(executions.get() + 1);
        if progress.get().elapsed() > Duration::from_secs(60) {
            progress.set(Instant::now());
            eprintln!(
                "fivexx fuzz: seed {seed}: {} executions in {:.0} s",
                executions.get(),
                started.elapsed().as_secs_f64()
            );
        }
        let outcome =
            checker
                .borrow_mut()
                .check(&applied.event, &applied.world, &applied.free_text);
        match outcome {
            Ok(()) => Ok(()),
            Err(f) => {
                let mut class = failing.borrow_mut();
                match class.as_deref() {
                    Some(c) if c != f.class() => Ok(()),
                    _ => {
                        // The other threads stop while this one shrinks.
                        stop.store(true, Ordering::Relaxed);
                        *class = Some(f.class());
                        Err(TestCaseError::fail(f.to_string()))
                    }
                }
            }
        }
    });
    let elapsed = started.elapsed();
    let finding = match result {
        Ok(()) => None,
        Err(TestError::Abort(_)) if stopped.get() => None,
        Err(TestError::Abort(why)) => Some(format!("proptest aborted: {why}")),
        Err(TestError::Fail(reason, case)) => {
            let applied = bases.apply(&case, settings.limits);
            let again =
                checker
                    .borrow_mut()
                    .check(&applied.event, &applied.world, &applied.free_text);
            let failure = match again {
                Err(f) => format!(
                    "property: {}\nfailure: {}\ndetail: {}",
                    f.property, f.kind, f.detail
                ),
                Ok(()) => format!("failure (did not fail again when re-run): {reason}"),
            };
            let why = format!(
                "Found by tests/fuzz.rs with FIVEXX_FUZZ_SEED={seed} (shrunk).\n{failure}\n\
                 base: {}\ncase: {case:?}\n",
                bases.describe(&case)
            );
            let dir = save(&applied, &why);
            Some(format!(
                "seed {seed}: {}\n  saved in {}",
                why.lines().skip(1).take(3).collect::<Vec<_>>().join("\n  "),
                dir.strip_prefix(root()).unwrap_or(&dir).display()
            ))
        }
    };
    let slowest = checker.borrow().slowest;
    Run {
        seed,
        executions: executions.get(),
        elapsed,
        slowest,
        finding,
    }
}

#[test]
fn fuzz_short_run() {
    let seed = env::<u64>("FIVEXX_FUZZ_SEED").unwrap_or_else(|| {
        std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish()
    });
    let threads = env::<u64>("FIVEXX_FUZZ_THREADS").unwrap_or(1).max(1);
    let seconds = env::<f64>("FIVEXX_FUZZ_SECONDS").unwrap_or(SHORT_RUN_SECONDS);
    let long = env::<u8>("FIVEXX_FUZZ_LONG").is_some_and(|v| v == 1);
    let settings = Settings {
        cases: env::<u32>("FIVEXX_FUZZ_CASES").unwrap_or(SHORT_RUN_CASES),
        budget: (seconds > 0.0).then(|| Duration::from_secs_f64(seconds)),
        limits: if long { Limits::LONG } else { Limits::SHORT },
        shrink_time: Duration::from_secs(if long { 600 } else { 120 }),
    };
    let bases = Bases::load();
    eprintln!(
        "fivexx fuzz: seed {seed} (FIVEXX_FUZZ_SEED={seed} to reproduce), {threads} thread(s), \
         {} cases each, {} bases",
        settings.cases,
        bases.scenarios.len() + bases.events.len()
    );
    let stop = AtomicBool::new(false);
    let runs: Vec<Run> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|i| {
                let (bases, settings, stop) = (&bases, &settings, &stop);
                // The CLI's main thread has 8 MiB of stack; the test harness's threads 2 MiB.
                std::thread::Builder::new()
                    .name(format!("fuzz-{i}"))
                    .stack_size(8 << 20)
                    .spawn_scoped(s, move || fuzz(bases, seed.wrapping_add(i), settings, stop))
                    .unwrap()
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    });
    let mut findings = Vec::new();
    for r in &runs {
        // One line per thread for scripts/fuzz to add up.
        eprintln!(
            "fuzz-summary seed={} executions={} seconds={:.1} slowest_call_ms={} findings={}",
            r.seed,
            r.executions,
            r.elapsed.as_secs_f64(),
            r.slowest.as_millis(),
            usize::from(r.finding.is_some())
        );
        findings.extend(r.finding.clone());
    }
    assert!(
        findings.is_empty(),
        "fuzzing found:\n{}",
        findings.join("\n")
    );
}

#[test]
fn fuzz_regressions_replay() {
    // The stack the short run's cases get.
    std::thread::Builder::new()
        .stack_size(8 << 20)
        .spawn(replay_regressions)
        .unwrap()
        .join()
        .unwrap_or_else(|e| std::panic::resume_unwind(e));
}

fn replay_regressions() {
    let dirs: Vec<PathBuf> = sorted_dir(&root().join("tests/fuzz-regressions"))
        .into_iter()
        .filter(|d| d.join("event.json").exists())
        .collect();
    assert!(!dirs.is_empty(), "tests/fuzz-regressions holds no case");
    let mut checker = Checker::new();
    let mut failures = Vec::new();
    for dir in &dirs {
        // Saved as bytes: a truncated case may not even be valid UTF-8 JSON any more.
        let read = |name: &str| {
            std::fs::read(dir.join(name))
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_else(|_| SMALL_WORLD.into())
        };
        let (event, world) = (read("event.json"), read("world.json"));
        if let Err(f) = checker.check(&event, &world, &[]) {
            failures.push(format!(
                "{}: {f}",
                dir.file_name().unwrap_or_default().to_string_lossy()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} regression inputs fail:\n{}",
        failures.len(),
        dirs.len(),
        failures.join("\n")
    );
}
