//! Sharing evidence across a storm: when many alarms fire together on one load balancer or
//! distribution, the first triage to start reads it and shares what it read through the
//! incident store; the others reuse it instead of each reading it again, which a storm of 20
//! alarms would otherwise do 20 times against one rate limit per account (`evidence::pace`).
//!
//! Single flight, through one record per resource set (`IncidentStore::claim_share`):
//! - the first triage claims the record (`gathering`) and reads as usual, recording; when it
//!   is done it publishes the shareable part (`evidence::reuse`) and the record is `ready`;
//! - a triage that finds it `ready` and fresh ([`FRESH_FOR`]) reuses it at once;
//! - a triage that finds it `gathering` polls it every [`POLL`] until it is ready, keeping
//!   [`OWN_CALLS_RESERVE`] of its gathering time for its own calls; if the sharer never
//!   publishes (it died, or its evidence was too big), the waiter reads everything itself.
//!
//! A reusing triage still reads its own alarm's description and metrics, and any call the
//! shared evidence does not answer; its verdict says what it reused, from whom and how old
//! it was ([`crate::verdict::SharedFrom`]). The store failing never fails a triage: it reads
//! everything itself.

use std::time::Duration;

use chrono::Utc;
use tokio::time::Instant;

use crate::alarm::Alarm;
use crate::evidence::port::Port;
use crate::evidence::record::Recorder;
use crate::evidence::reuse::{FRESH_FOR, SharedEvidence};
use crate::incident::store::{IncidentStore, ShareClaim, SharedRecord};
use crate::scope;
use crate::triage::{self, TriageOptions, triage_examining as run};
use crate::verdict::{SharedFrom, Verdict};

/// How often a waiting triage looks for the sharer's evidence: a strongly consistent read of
/// one item, four a second.
pub(crate) const POLL: Duration = Duration::from_millis(250);

/// What a waiting triage keeps of its gathering time for its own calls: the alarm's
/// description and metrics (one wave), or, when the sharer never publishes, reading the
/// resource itself under the call budget.
pub(crate) const OWN_CALLS_RESERVE: Duration = Duration::from_secs(2);

/// A DynamoDB item holds at most 400 KB; evidence bigger than this (compressed) is not shared.
const MAX_SHARED_BYTES: usize = 350 * 1024;

/// The longest key a record is made for (DynamoDB allows 2,048 bytes of partition key).
const MAX_KEY_BYTES: usize = 1_500;

/// The resources a triage of `alarm` reads, as a store key: the same for every alarm on
/// them (an alarm's own target group changes the order of the calls, not the calls). `None`
/// when the alarm names nothing to read.
pub(crate) fn share_key(alarm: &Alarm, opts: &TriageOptions) -> Option<String> {
    let account = alarm.account().or(opts.home_account.as_deref());
    let scope = scope::scope(alarm, &opts.home_region, account).ok()?;
    if scope.is_empty() {
        return None;
    }
    let mut parts: Vec<String> = Vec::new();
    parts.extend(scope.albs.iter().map(|a| format!("alb {}", a.arn)));
    parts.extend(scope.distributions.iter().map(|d| format!("cf {d}")));
    parts.extend(
        scope
            .classic
            .iter()
            .map(|c| format!("clb {} {}", c.region, c.name)),
    );
    parts.extend(scope.apis.iter().map(|a| {
        format!(
            "api {} {} {} {}",
            a.region,
            if a.http { "http" } else { "rest" },
            a.key,
            a.stage.as_deref().unwrap_or("*")
        )
    }));
    parts.sort();
    let key = format!(
        "{}|{}|{}",
        account.unwrap_or("-"),
        alarm.region().unwrap_or(&opts.home_region),
        parts.join("|")
    );
    (key.len() <= MAX_KEY_BYTES).then_some(key)
}

/// A token naming this triage's claim: the process, the time and a counter.
fn share_token() -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    format!(
        "{}-{}-{}",
        std::process::id(),
        Utc::now().timestamp_nanos_opt().unwrap_or_default(),
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    )
}

/// A recorder of `port` for a triage of `alarm`: the leader's, or, reusing, the others'. One
/// recorder type for both: another port type would be one more compiled copy of the whole
/// gathering (0.53 MB of release binary).
fn recorder<'a, P: Port>(port: &'a P, alarm: &Alarm, opts: &TriageOptions) -> Recorder<'a, P> {
    let region = alarm.region().unwrap_or(&opts.home_region);
    Recorder::new(port, region, opts.home_account.clone(), opts.now)
}

/// Triages `alarm`, sharing the evidence with the other triages of its resources through
/// `store` (see the module doc). `at_ok`: an incident going back to OK (`triage_examining`).
pub(crate) async fn triage<P: Port>(
    port: &P,
    store: &IncidentStore,
    alarm: &Alarm,
    opts: &TriageOptions,
    at_ok: bool,
) -> Verdict {
    let key = match share_key(alarm, opts) {
        Some(key) if triage::reads_evidence(alarm, at_ok) => key,
        _ => return run(port, alarm, opts, at_ok).await,
    };
    let token = share_token();
    let now = Utc::now();
    let left = opts.deadline.saturating_duration_since(Instant::now());
    let lease_until = now + chrono::Duration::from_std(left).unwrap_or(chrono::Duration::zero());
    let claim = store
        .claim_share(&key, &token, &alarm.name, now, FRESH_FOR, lease_until)
        .await;
    let record = match claim {
        Ok(ShareClaim::Lead) => return lead(port, store, alarm, opts, at_ok, &key, &token).await,
        Ok(ShareClaim::Ready(record)) => Some(record),
        Ok(ShareClaim::Gathering { by }) => {
            tracing::info!(alarm = %alarm.name, sharer = %crate::untrusted::clean(&by), "waiting for shared evidence");
            wait(store, &key, opts.deadline).await
        }
        Err(e) => {
            tracing::warn!(error = %e, "evidence not shared: the incident store is unavailable");
            None
        }
    };
    let Some(record) = record else {
        return run(port, alarm, opts, at_ok).await;
    };
    let shared = match SharedEvidence::decode(&record.evidence) {
        Ok(shared) => shared,
        Err(e) => {
            tracing::warn!(error = %e, "shared evidence not reused");
            return run(port, alarm, opts, at_ok).await;
        }
    };
    let reuse = recorder(port, alarm, opts).reusing(&shared);
    let mut verdict = run(&reuse, alarm, opts, at_ok).await;
    let (answers_reused, sources) = reuse.reused();
    if answers_reused > 0 {
        let age = Utc::now() - record.gathered_at;
        verdict.shared_evidence = Some(SharedFrom {
            alarm: crate::untrusted::clean(&record.by),
            gathered_at: record.gathered_at,
            age_ms: u64::try_from(age.num_milliseconds()).unwrap_or(0),
            answers_reused,
            sources,
        });
    }
    verdict
}

/// Reads the resources as usual, recording, then publishes what others may reuse.
async fn lead<P: Port>(
    port: &P,
    store: &IncidentStore,
    alarm: &Alarm,
    opts: &TriageOptions,
    at_ok: bool,
    key: &str,
    token: &str,
) -> Verdict {
    let recorder = recorder(port, alarm, opts);
    let verdict = run(&recorder, alarm, opts, at_ok).await;
    let shared = recorder.shared();
    let published = match shared.encode() {
        Ok(bytes) if bytes.len() <= MAX_SHARED_BYTES && shared.len() > 0 => {
            let size = bytes.len();
            store
                .publish_share(key, token, Utc::now(), bytes)
                .await
                .inspect(|_| {
                    tracing::info!(answers = shared.len(), bytes = size, "evidence shared");
                })
        }
        Ok(bytes) => {
            tracing::info!(
                answers = shared.len(),
                bytes = bytes.len(),
                "evidence not shared: nothing to share, or too big for one record"
            );
            Ok(false)
        }
        Err(e) => {
            tracing::warn!(error = %e, "evidence not shared");
            Ok(false)
        }
    };
    if !matches!(published, Ok(true))
        && let Err(e) = store.release_share(key, token).await
    {
        tracing::warn!(error = %e, "shared evidence claim not released");
    }
    verdict
}

/// Polls the record until its evidence is ready, it goes away, or the wait must end.
async fn wait(store: &IncidentStore, key: &str, deadline: Instant) -> Option<SharedRecord> {
    let until = deadline.checked_sub(OWN_CALLS_RESERVE).unwrap_or(deadline);
    while Instant::now() + POLL <= until {
        tokio::time::sleep(POLL).await;
        match store.share(key).await {
            Ok(Some(ShareClaim::Ready(record))) => return Some(record),
            Ok(Some(ShareClaim::Gathering { .. })) => {}
            Ok(Some(ShareClaim::Lead) | None) => return None,
            Err(e) => {
                tracing::warn!(error = %e, "shared evidence not read: the incident store is unavailable");
                return None;
            }
        }
    }
    tracing::info!("shared evidence not ready in time: reading it here");
    None
}
