//! The command line: `fivexx triage --event FILE [--world FILE] [--record FILE]
//! [--format json|text] [--now RFC3339]` (`docs/verdict-format.md`).
//!
//! Exit status: 0 with a verdict, 2 when the event or world file cannot be used (one line on
//! stderr), 1 for anything else.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand, ValueEnum};
use thiserror::Error;

use crate::alarm::{self, Alarm};
use crate::error::InputError;
use crate::evidence::record::Recorder;
use crate::evidence::sdk::{AwsSdk, load_sdk_config};
use crate::evidence::world::World;
use crate::triage::{TriageOptions, triage};
use crate::verdict::Verdict;
use crate::{notify, render};

/// The whole gathering must finish within this, by default.
pub(crate) const DEFAULT_DEADLINE: Duration = Duration::from_secs(10);

#[derive(Debug, Parser)]
#[command(
    name = "fivexx",
    version,
    about = "Why is CloudFront or my ALB answering 5xx, and what do I do now?"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Triage one alarm payload and print the verdict. Never posts anything.
    Triage(TriageArgs),
    /// Print the rule catalogue as Markdown (what `docs/rules.md` holds).
    Rules,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// The verdict (`docs/verdict-format.md`).
    Json,
    /// For a terminal.
    Text,
    /// The exact Slack payload the Lambda would post.
    Slack,
    /// The exact SNS Publish input the Lambda would send (topic from `FIVEXX_SNS_TOPIC_ARN`).
    Sns,
}

#[derive(Debug, clap::Args)]
pub struct TriageArgs {
    /// A Lambda payload (direct alarm action, SNS or EventBridge); `-` reads stdin.
    #[arg(long, value_name = "FILE")]
    pub event: PathBuf,
    /// Answer every AWS query from this world file instead of calling AWS.
    #[arg(long, value_name = "FILE", conflicts_with = "record")]
    pub world: Option<PathBuf>,
    /// After gathering from AWS, write what was seen as a world file.
    #[arg(long, value_name = "FILE")]
    pub record: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Json)]
    pub format: Format,
    /// The triage clock (RFC 3339); default: the world's `Now`, else the system clock.
    #[arg(long, value_name = "RFC3339", value_parser = parse_now)]
    pub now: Option<DateTime<Utc>>,
    /// Share evidence with concurrent triages of alarms on the same resources through this
    /// DynamoDB table (the incident table: string keys `pk` and `sk`), as the Lambda does
    /// with `FIVEXX_INCIDENT_TABLE`.
    #[arg(long, value_name = "TABLE", conflicts_with_all = ["world", "record"], value_parser = parse_table)]
    pub share_table: Option<String>,
    /// Seconds the gathering may take in all.
    #[arg(long, value_name = "SECONDS", default_value_t = DEFAULT_DEADLINE.as_secs_f64())]
    pub deadline: f64,
}

fn parse_table(s: &str) -> Result<String, String> {
    crate::config::check_table_name(s)
        .map(|()| s.to_owned())
        .map_err(|why| format!("`{}`: {why}", crate::error::short(s)))
}

fn parse_now(s: &str) -> Result<DateTime<Utc>, String> {
    let t = DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("`{}` is not an RFC 3339 time: {e}", crate::error::short(s)))?;
    if !crate::untrusted::sane_time(&t) {
        return Err(format!(
            "`{}` is outside the years {} to {}",
            crate::error::short(s),
            crate::untrusted::MIN_YEAR,
            crate::untrusted::MAX_YEAR
        ));
    }
    Ok(t)
}

/// A command-line usage error in one line, for exit status 1 (`docs/verdict-format.md`: 2 is only for an
/// event or world file that cannot be used): clap's own message, without its usage block.
pub fn usage_line(e: &clap::Error) -> String {
    let text = e.to_string();
    let first = text.lines().next().unwrap_or_default();
    let first = first.strip_prefix("error: ").unwrap_or(first);
    format!(
        "{} (see `fivexx triage --help`)",
        crate::error::short(first)
    )
}

/// Failures of the CLI, each with its exit status.
#[derive(Debug, Error)]
pub enum CliError {
    #[error(transparent)]
    Input(#[from] InputError),
    #[error("cannot write `{path}`: {reason}")]
    Write { path: String, reason: String },
    #[error("{0}")]
    Usage(String),
}

impl CliError {
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::Input(_) => 2,
            CliError::Write { .. } | CliError::Usage(_) => 1,
        }
    }
}

/// Reads an input file (`-` is stdin) as text.
fn read_text(what: &'static str, path: &Path) -> Result<String, InputError> {
    let display = path.display().to_string();
    let read = if display == "-" {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s).map(|_| s)
    } else {
        std::fs::read_to_string(path)
    };
    read.map_err(|e| InputError::Read {
        what,
        path: crate::error::short(&display),
        reason: e.to_string(),
    })
}

fn parse_event(path: &str, text: &str) -> Result<Alarm, InputError> {
    alarm::parse_str(text).map_err(|e| InputError::Invalid {
        what: "event",
        path: crate::error::short(path),
        reason: e.to_string(),
    })
}

fn parse_world(path: &str, text: &str) -> Result<World, InputError> {
    World::parse(text).map_err(|reason| InputError::Invalid {
        what: "world",
        path: crate::error::short(path),
        reason,
    })
}

/// The gathering deadline from `--deadline` seconds: more than 0, at most 900.
fn deadline_of(seconds: f64) -> Result<tokio::time::Instant, CliError> {
    if !(seconds.is_finite() && seconds > 0.0 && seconds <= 900.0) {
        return Err(CliError::Usage(format!(
            "`--deadline {seconds}` must be between 0 and 900 seconds"
        )));
    }
    Ok(tokio::time::Instant::now() + Duration::from_secs_f64(seconds))
}

/// An offline triage from texts already read: `triage --event EVENT --world WORLD` once the
/// files are read. `event` and `world` are (name for messages, content). What `run_triage`
/// does with `--world`, and what the fuzz tests call in-process.
pub async fn replay(
    event: (&str, &str),
    world: (&str, &str),
    format: Format,
    now: Option<DateTime<Utc>>,
    deadline_seconds: f64,
) -> Result<String, CliError> {
    let verdict = replay_verdict(event, world, now, deadline_seconds).await?;
    Ok(render(format, &verdict))
}

/// [`replay`]'s verdict, before rendering: the fuzz tests render one verdict in every format.
pub async fn replay_verdict(
    event: (&str, &str),
    world: (&str, &str),
    now: Option<DateTime<Utc>>,
    deadline_seconds: f64,
) -> Result<Verdict, CliError> {
    let started = std::time::Instant::now();
    let alarm = parse_event(event.0, event.1)?;
    let deadline = deadline_of(deadline_seconds)?;
    let world = parse_world(world.0, world.1)?;
    let opts = TriageOptions {
        now: now.or(world.now).unwrap_or_else(Utc::now),
        deadline,
        home_region: world.region.clone(),
        home_account: world.account.clone(),
    };
    Ok(with_elapsed(triage(&world, &alarm, &opts).await, started))
}

/// Runs `triage` and returns what to print on stdout.
pub async fn run_triage(args: TriageArgs) -> Result<String, CliError> {
    let event_name = args.event.display().to_string();
    let event_text = read_text("event", &args.event)?;
    if let Some(path) = &args.world {
        let world_text = match read_text("world", path) {
            Ok(text) => text,
            Err(e) => {
                // A bad event is named before an unreadable world, as `replay` names it first.
                parse_event(&event_name, &event_text)?;
                return Err(e.into());
            }
        };
        let world_name = path.display().to_string();
        return replay(
            (&event_name, &event_text),
            (&world_name, &world_text),
            args.format,
            args.now,
            args.deadline,
        )
        .await;
    }
    let started = std::time::Instant::now();
    let alarm = parse_event(&event_name, &event_text)?;
    let deadline = deadline_of(args.deadline)?;
    let origin_regions =
        crate::config::parse_regions(std::env::var("FIVEXX_ORIGIN_REGIONS").ok().as_deref())
            .map_err(|e| CliError::Usage(e.to_string()))?;
    let pacing = crate::config::api_pacing(&|k| std::env::var(k).ok())
        .map_err(|e| CliError::Usage(e.to_string()))?;
    let sdk = AwsSdk::new(load_sdk_config().await).with_origin_regions(origin_regions);
    let sdk = if pacing { sdk } else { sdk.without_pacing() };
    let now = args.now.unwrap_or_else(Utc::now);
    let home_region = sdk
        .home_region()
        .or_else(|| alarm.region().map(str::to_owned))
        .unwrap_or_else(|| "us-east-1".into());
    let opts = TriageOptions {
        now,
        deadline,
        home_region: home_region.clone(),
        home_account: alarm.account().map(str::to_owned),
    };
    let verdict = match &args.record {
        Some(path) => {
            let recorder = Recorder::new(&sdk, &home_region, opts.home_account.clone(), now);
            let v = triage(&recorder, &alarm, &opts).await;
            write_world(path, &recorder.world())?;
            v
        }
        None => match &args.share_table {
            Some(table) => {
                let store = share_store(table).await;
                crate::share::triage(&sdk, &store, &alarm, &opts, false).await
            }
            None => triage(&sdk, &alarm, &opts).await,
        },
    };
    Ok(render(args.format, &with_elapsed(verdict, started)))
}

/// The incident store `--share-table` names (checked by [`parse_table`]), with the Lambda's
/// store timeout.
async fn share_store(table: &str) -> crate::incident::store::IncidentStore {
    crate::incident::store::IncidentStore::new(
        aws_sdk_dynamodb::Client::new(&load_sdk_config().await),
        table,
        crate::config::DEFAULT_INCIDENT_TIMEOUT,
    )
}

/// The verdict as `--format` asks.
pub fn render(format: Format, verdict: &Verdict) -> String {
    match format {
        Format::Json => verdict.to_json(),
        Format::Text => render::text::render(verdict),
        Format::Slack => {
            serde_json::to_string_pretty(&notify::slack::message(verdict)).unwrap_or_default()
        }
        Format::Sns => {
            let topic = std::env::var("FIVEXX_SNS_TOPIC_ARN").ok();
            let chat = std::env::var("FIVEXX_SNS_CHAT_NOTIFICATION")
                .is_ok_and(|v| v.eq_ignore_ascii_case("true"));
            let input = notify::sns::publish_input(verdict, topic.as_deref(), chat);
            serde_json::to_string_pretty(&input).unwrap_or_default()
        }
    }
}

fn with_elapsed(mut v: Verdict, started: std::time::Instant) -> Verdict {
    v.stats.elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    v
}

fn write_world(path: &Path, world: &World) -> Result<(), CliError> {
    std::fs::write(path, world.to_json() + "\n").map_err(|e| CliError::Write {
        path: path.display().to_string(),
        reason: e.to_string(),
    })
}
