//! Evidence shared across a storm: what one triage read of a load balancer or distribution,
//! reused by the triages of other alarms on it that start within [`FRESH_FOR`].
//!
//! What is shared is a recording ([`super::record::Recorder`]) cut down to what every alarm on
//! the resource reads the same way: the control-plane answers (load balancers, listeners,
//! rules, target groups and their health, certificates, distributions, Route 53, API Gateway,
//! Lambda configuration) and the calls the sharer skipped for budget. CloudWatch is left out:
//! its metrics are each alarm's own and move minute by minute, and `DescribeAlarms` names one
//! alarm. Failures are left out too: a throttled or timed-out call may answer for the next
//! triage, which asks again. The shared world is the world file's format, so a shared
//! triage replays like any other.
//!
//! A triage that found shared evidence reads through `Recorder::reusing`: a call the evidence
//! answers is answered from it without a call to AWS (and takes no token of AWS's rate
//! limit); any other goes to AWS.

use std::collections::BTreeSet;
use std::io::{Read, Write};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::port::Op;
use super::world::World;

/// How old shared evidence may be: target health and configuration a minute old still describe
/// the incident (health checks run every 5 to 300 s, 30 s by default), and alarms that fire
/// together on one resource fire within a minute of each other (one evaluation period).
pub(crate) const FRESH_FOR: chrono::Duration = chrono::Duration::seconds(60);

const SHARED_FORMAT: &str = "fivexx-shared/1";

/// A shared blob larger than this, decompressed, is refused: the largest load balancer fivexx
/// triages (100 target groups behind 100 listeners) records about 0.3 MB of control-plane
/// answers.
const MAX_DECODED_BYTES: u64 = 16 * 1024 * 1024;

#[derive(Debug, Error)]
pub(crate) enum ShareError {
    #[error("shared evidence unreadable: {0}")]
    Unreadable(String),
    #[error("shared evidence has format `{0}`, not `fivexx-shared/1`")]
    Format(String),
}

/// What one triage read that others may reuse.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct SharedEvidence {
    format: String,
    /// The answers, in the world file's format.
    world: World,
    /// The calls the world answers, as [`answer_key`]s: a call not listed goes to AWS (a world
    /// answers what it does not hold as not found, which would be wrong here).
    answered: BTreeSet<String>,
}

/// A call's identity: its operation, region and input key.
pub(crate) fn answer_key(op: Op, region: &str, key: &str) -> String {
    format!("{} {region} {key}", op.iam_name())
}

/// Whether a call's answer is the same for every alarm on a resource (see the module doc).
pub(crate) fn shareable(op: Op) -> bool {
    !op.iam_name().starts_with("cloudwatch:")
}

impl SharedEvidence {
    /// The shareable part of a recording: its world without CloudWatch and without failures
    /// other than budget skips; `answered` the shareable calls it answered or skipped.
    pub(crate) fn from_recording(mut world: World, answered: BTreeSet<String>) -> Self {
        world.cloudwatch = Default::default();
        world.faults.clear();
        world
            .errors
            .retain(|op, _| Op::from_iam_name(op).is_some_and(shareable));
        for errors in world.errors.values_mut() {
            errors.retain(|_, fault| fault.error().is_budget());
        }
        world.errors.retain(|_, errors| !errors.is_empty());
        Self {
            format: SHARED_FORMAT.to_owned(),
            world,
            answered,
        }
    }

    /// How many calls it answers.
    pub(crate) fn len(&self) -> usize {
        self.answered.len()
    }

    /// Whether it answers the call of `op` in `region` with input key `key`.
    pub(crate) fn holds(&self, op: Op, region: &str, key: &str) -> bool {
        self.answered.contains(&answer_key(op, region, key))
    }

    /// The answers, as a world.
    pub(crate) fn world(&self) -> &World {
        &self.world
    }

    /// Gzipped JSON, for the store.
    pub(crate) fn encode(&self) -> Result<Vec<u8>, ShareError> {
        let json = serde_json::to_vec(self).map_err(|e| ShareError::Unreadable(e.to_string()))?;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&json)
            .and_then(|()| gz.finish())
            .map_err(|e| ShareError::Unreadable(e.to_string()))
    }

    /// Reads [`Self::encode`]'s bytes, refusing more than [`MAX_DECODED_BYTES`] of JSON.
    pub(crate) fn decode(bytes: &[u8]) -> Result<Self, ShareError> {
        let mut json = Vec::new();
        flate2::read::GzDecoder::new(bytes)
            .take(MAX_DECODED_BYTES + 1)
            .read_to_end(&mut json)
            .map_err(|e| ShareError::Unreadable(e.to_string()))?;
        if json.len() as u64 > MAX_DECODED_BYTES {
            return Err(ShareError::Unreadable(format!(
                "more than {MAX_DECODED_BYTES} bytes"
            )));
        }
        let shared: Self =
            serde_json::from_slice(&json).map_err(|e| ShareError::Unreadable(e.to_string()))?;
        if shared.format != SHARED_FORMAT {
            return Err(ShareError::Format(crate::error::short(&shared.format)));
        }
        Ok(shared)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::Path;

    use super::*;
    use crate::evidence::port::Port;
    use crate::evidence::record::Recorder;
    use crate::evidence::world::Fault;
    use crate::triage::{TriageOptions, triage};

    const TG: &str =
        "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-tg/81540f1e63039095";

    const LISTENER: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/web/f3b962d72ac3e219/02cf02726d865f0f";

    fn scenario() -> (crate::alarm::Alarm, World) {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/scenarios/alb-502-target-tls-handshake");
        let event = std::fs::read_to_string(dir.join("event.json")).unwrap();
        (
            crate::alarm::parse_str(&event).unwrap(),
            World::load(&dir.join("world.json")).unwrap(),
        )
    }

    fn opts(w: &World) -> TriageOptions {
        TriageOptions {
            now: w.now.unwrap(),
            deadline: tokio::time::Instant::now() + std::time::Duration::from_secs(10),
            home_region: w.region.clone(),
            home_account: w.account.clone(),
        }
    }

    fn fault(code: &str) -> Fault {
        Fault {
            code: code.into(),
            message: "m".into(),
        }
    }

    /// What a triage shares: the control-plane answers and the budget skips; not CloudWatch
    /// (each alarm's own, and moving), not a throttled call (the next triage asks again).
    /// Reused, it gives the same verdict with only the unshared calls made.
    #[tokio::test]
    async fn a_triage_shares_control_plane_answers_and_budget_skips_only() {
        let (alarm, mut world) = scenario();
        world.errors.insert(
            "elasticloadbalancing:DescribeTargetHealth".into(),
            BTreeMap::from([(TG.to_owned(), fault("Throttling"))]),
        );
        world.errors.insert(
            "elasticloadbalancing:DescribeRules".into(),
            BTreeMap::from([(LISTENER.to_owned(), fault("Budget"))]),
        );
        let recorder = Recorder::new(&world, "us-east-1", None, world.now.unwrap());
        let first = triage(&recorder, &alarm, &opts(&world)).await;
        let shared = recorder.shared();
        assert!(shared.world.cloudwatch.metrics.is_empty());
        assert!(
            shared
                .answered
                .iter()
                .all(|k| !k.starts_with("cloudwatch:"))
        );
        assert!(
            shared
                .answered
                .iter()
                .any(|k| k.starts_with("elasticloadbalancing:DescribeListeners ")),
            "{:?}",
            shared.answered
        );
        assert!(
            !shared
                .answered
                .iter()
                .any(|k| k.starts_with("elasticloadbalancing:DescribeTargetHealth ")),
            "a throttled call is not shared"
        );
        // Of the two failures, the budget skip is kept: the next triage skips it too.
        assert_eq!(
            shared.world.errors.keys().collect::<Vec<_>>(),
            vec!["elasticloadbalancing:DescribeRules"]
        );
        assert!(shared.answered.contains(&format!(
            "elasticloadbalancing:DescribeRules us-east-1 {LISTENER}"
        )));

        let bytes = shared.encode().unwrap();
        let back = SharedEvidence::decode(&bytes).unwrap();
        assert_eq!(back.answered, shared.answered);

        // Reused: the answers come from the shared evidence; only what it does not hold
        // (CloudWatch, the throttled health) goes to the port.
        let mut live = world.clone();
        live.errors.clear();
        let before = live.api_calls();
        let reuse = Recorder::new(&live, "us-east-1", None, world.now.unwrap()).reusing(&back);
        let second = triage(&reuse, &alarm, &opts(&world)).await;
        let (reused, sources) = reuse.reused();
        assert_eq!(reused, back.len());
        assert!(sources.contains(&"elasticloadbalancing:DescribeListeners".to_owned()));
        let asked_live = live.api_calls() - before;
        assert!(
            asked_live < first.stats.api_calls,
            "{asked_live} live calls of {}",
            first.stats.api_calls
        );
        assert_eq!(second.findings[0].rule, first.findings[0].rule);
        // The throttled health was read live; the rules are skipped again, for budget.
        assert_eq!(second.gaps.len(), 1, "{:?}", second.gaps);
        assert_eq!(second.gaps[0].source, "elasticloadbalancing:DescribeRules");
        assert_eq!(second.gaps[0].kind, crate::evidence::GapKind::Budget);
    }

    #[test]
    fn shared_evidence_that_is_not_ours_is_refused() {
        assert!(SharedEvidence::decode(b"not gzip").is_err());
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(br#"{"format":"other/1","world":{"Format":"fivexx-world/1"},"answered":[]}"#)
            .unwrap();
        let other = gz.finish().unwrap();
        assert!(matches!(
            SharedEvidence::decode(&other),
            Err(ShareError::Format(_))
        ));
        // A bomb: 17 MB of zeros in a few KB.
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&vec![b' '; 17 * 1024 * 1024]).unwrap();
        let bomb = gz.finish().unwrap();
        assert!(bomb.len() < 100 * 1024);
        assert!(matches!(
            SharedEvidence::decode(&bomb),
            Err(ShareError::Unreadable(_))
        ));
    }
}
