//! `--record`: a port wrapper that writes down every answer as a world file.
//!
//! A recorded world replays to the same verdict: it holds exactly what the triage read, and
//! every failure (access denied, not found, throttling, a deadline) under `Errors`, keyed by
//! the operation and its input, with AWS's own code and message, so the replay has the same
//! gaps word for word. Each operation writes its own answers ([`Operation::record`]).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{DateTime, Utc};

use super::acm::{CertificateDetail, CertificateEnvelope};
use super::port::{Answer, Op, Operation, Port, SourceError};
use super::reuse::{SharedEvidence, answer_key, shareable};
use super::world::{Fault, World};

/// What a recording holds while the triage runs.
#[derive(Debug, Default)]
pub struct Recording {
    pub world: World,
    /// Certificates listed by `ListCertificates`, by ARN: the world format has no list.
    pub listed: BTreeMap<String, CertificateDetail>,
    /// The shareable calls answered or skipped for budget (`evidence::reuse`), as
    /// [`answer_key`]s.
    pub answered: BTreeSet<String>,
}

/// Writes down what `inner` answers. It can also answer from evidence another triage shared
/// ([`Self::reusing`], `evidence::reuse`): one type for both, so that the whole gathering is
/// compiled once for it (a separate reusing port was a third copy: 0.53 MB of release binary).
pub struct Recorder<'a, P> {
    inner: &'a P,
    recording: Mutex<Recording>,
    shared: Option<&'a SharedEvidence>,
    reused: AtomicUsize,
    sources: Mutex<BTreeSet<&'static str>>,
}

impl<'a, P: Port> Recorder<'a, P> {
    pub fn new(inner: &'a P, region: &str, account: Option<String>, now: DateTime<Utc>) -> Self {
        Self {
            inner,
            recording: Mutex::new(Recording {
                world: World::new(region, account, now),
                listed: BTreeMap::new(),
                answered: BTreeSet::new(),
            }),
            shared: None,
            reused: AtomicUsize::new(0),
            sources: Mutex::new(BTreeSet::new()),
        }
    }

    /// Answers what `shared` holds from it, with no call to `inner` and no token of AWS's
    /// rate limit; any other call goes to `inner`. A call the sharer skipped for budget is
    /// skipped again (its `Errors` entry).
    pub(crate) fn reusing(mut self, shared: &'a SharedEvidence) -> Self {
        self.shared = Some(shared);
        self
    }

    /// The calls answered from the shared evidence, and their operations (IAM spelling).
    pub(crate) fn reused(&self) -> (usize, Vec<String>) {
        let sources = self
            .sources
            .lock()
            .map(|s| s.iter().map(|s| (*s).to_owned()).collect())
            .unwrap_or_default();
        (self.reused.load(Ordering::Relaxed), sources)
    }

    /// The shared evidence, if it answers this call.
    fn shared_for<O: Operation>(&self, region: &str, input: &O::Input) -> Option<&SharedEvidence> {
        self.shared
            .filter(|s| s.holds(O::OP, region, &O::key(region, input)))
    }

    /// The world seen so far. A listener certificate the triage read from `ListCertificates`
    /// and did not describe is written as a `DescribeCertificate` entry holding the summary's
    /// fields: the replay lists it again, from that entry. Other listed certificates are left
    /// out (they are the account's, not the incident's).
    pub fn world(&self) -> World {
        let Ok(rec) = self.recording.lock() else {
            return World::default();
        };
        let mut w = rec.world.clone();
        let arns: Vec<String> = w
            .elbv2
            .describe_listeners
            .values()
            .flat_map(|l| &l.listeners)
            .flat_map(|l| &l.certificates)
            .map(|c| c.certificate_arn.clone())
            .collect();
        let described_or_failed = |w: &World, arn: &str| {
            w.acm.describe_certificate.contains_key(arn)
                || w.errors
                    .get(Op::DescribeCertificate.iam_name())
                    .is_some_and(|e| e.contains_key(arn))
        };
        for arn in arns {
            if let Some(detail) = rec.listed.get(&arn)
                && !described_or_failed(&w, &arn)
            {
                w.acm.describe_certificate.insert(
                    arn,
                    CertificateEnvelope {
                        certificate: detail.clone(),
                    },
                );
            }
        }
        w
    }
}

impl<P: Port> Recorder<'_, P> {
    /// What other triages of the same resources may reuse (`evidence::reuse`).
    pub(crate) fn shared(&self) -> SharedEvidence {
        let answered = self
            .recording
            .lock()
            .map(|r| r.answered.clone())
            .unwrap_or_default();
        SharedEvidence::from_recording(self.world(), answered)
    }
}

impl<P: Port> Port for Recorder<'_, P> {
    async fn call<O: Operation>(&self, region: &str, input: &O::Input) -> Answer<O::Output> {
        if let Some(shared) = self.shared_for::<O>(region, input) {
            self.reused.fetch_add(1, Ordering::Relaxed);
            if let Ok(mut s) = self.sources.lock() {
                s.insert(O::OP.iam_name());
            }
            return shared.world().call::<O>(region, input).await;
        }
        let answer = self.inner.call::<O>(region, input).await;
        if let Ok(mut rec) = self.recording.lock() {
            match &answer {
                Ok(out) => {
                    O::record(&mut rec, region, input, out);
                    mark_answered::<O>(&mut rec, region, input);
                }
                Err(e) => record_error::<O>(&mut rec, region, input, e),
            }
        }
        answer
    }

    /// A call skipped for budget is written down as such (`Errors`, code `Budget`): the
    /// replay, which has no rate limit, skips it too.
    async fn pace<O: Operation>(
        &self,
        region: &str,
        input: &O::Input,
        latest: tokio::time::Instant,
    ) -> Answer<()> {
        if self.shared_for::<O>(region, input).is_some() {
            return Ok(());
        }
        let paced = self.inner.pace::<O>(region, input, latest).await;
        if let (Err(e), Ok(mut rec)) = (&paced, self.recording.lock()) {
            record_error::<O>(&mut rec, region, input, e);
        }
        paced
    }

    fn api_calls(&self) -> usize {
        self.inner.api_calls()
    }

    fn origin_regions(&self) -> Vec<String> {
        self.inner.origin_regions()
    }
}

/// Appends the items of `items` that `list` does not hold yet.
pub(crate) fn push_unique<T: PartialEq + Clone>(list: &mut Vec<T>, items: &[T]) {
    for item in items {
        if !list.contains(item) {
            list.push(item.clone());
        }
    }
}

/// Notes a shareable call as answered by the recording (`evidence::reuse`).
fn mark_answered<O: Operation>(rec: &mut Recording, region: &str, input: &O::Input) {
    if shareable(O::OP) {
        rec.answered
            .insert(answer_key(O::OP, region, &O::key(region, input)));
    }
}

/// Writes a failed (or skipped) call under the world's `Errors`, keyed by its input. A call
/// skipped for budget is an answer others may reuse: they skip it too.
fn record_error<O: Operation>(
    rec: &mut Recording,
    region: &str,
    input: &O::Input,
    e: &SourceError,
) {
    if e.is_budget() {
        mark_answered::<O>(rec, region, input);
    }
    rec.world
        .errors
        .entry(O::OP.iam_name().to_owned())
        .or_default()
        .insert(
            O::key(region, input),
            Fault {
                code: e.code.clone(),
                message: e.message.clone(),
            },
        );
}
