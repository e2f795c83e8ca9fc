//! One triage's calls: each under the deadline and within its service's rate limit, failures
//! into gaps, and the certificate list of a region read once however many branches need it.
//!
//! The budget: a call waits for its service's token (`evidence::pace`) only as long as it can
//! still expect an answer before the deadline ([`CALL_ALLOWANCE`]), and a detail ([`Need`])
//! no longer than [`DETAIL_MAX_WAIT`]. A call that cannot go in time is not made: it is a gap
//! of kind `budget`, which says what was left unread, not that AWS failed. Which calls come
//! first is the order they are asked in: the gathering asks what the rules need most first
//! (the alarm's own target group's health before the others', health before listener rules,
//! certificates last).

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::OnceCell;
use tokio::time::Instant;

use crate::evidence::acm::{CertificateSummary, ListCertificates};
use crate::evidence::port::{Answer, Operation, Port, SourceError};
use crate::evidence::{Gap, GapKind};

/// A call is started only if it can expect its answer before the deadline: AWS's control-plane
/// reads answer in tens to a few hundred milliseconds; half a second covers a slow one.
const CALL_ALLOWANCE: Duration = Duration::from_millis(500);

/// How long a detail may wait for its service's token: a certificate of a load balancer that
/// is no CloudFront origin feeds only the renewal warning (`cert.renewal_risk`), never the
/// cause of the errors, and is not worth holding the verdict more than a second for.
const DETAIL_MAX_WAIT: Duration = Duration::from_secs(1);

/// How much a call matters to the verdict, which decides how long it may wait for a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Need {
    /// Evidence a rule about the current errors reads: may wait until the deadline allows.
    Essential,
    /// Evidence only a warning reads: may wait [`DETAIL_MAX_WAIT`].
    Detail,
}

/// More calls of one operation than this skipped for budget are one gap, with their count:
/// 50 listeners' certificates left unread are one fact, not 50 lines of a message.
const BUDGET_GAPS_LISTED: usize = 3;

/// Budget gaps of one source beyond [`BUDGET_GAPS_LISTED`] as one gap (`N resources`), in the
/// place of the first; sorted input stays sorted.
fn merge_budget_gaps(gaps: Vec<Gap>) -> Vec<Gap> {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for g in gaps.iter().filter(|g| g.kind == GapKind::Budget) {
        *counts.entry(g.source.clone()).or_default() += 1;
    }
    let mut merged: BTreeSet<String> = BTreeSet::new();
    let mut out: Vec<Gap> = Vec::with_capacity(gaps.len());
    for g in gaps {
        let n = match g.kind {
            GapKind::Budget => counts.get(&g.source).copied().unwrap_or(0),
            GapKind::Error => 0,
        };
        if n <= BUDGET_GAPS_LISTED {
            out.push(g);
        } else if merged.insert(g.source.clone()) {
            out.push(Gap {
                resource: Some(format!("{n} resources")),
                ..g
            });
        }
    }
    out
}

/// `ListCertificates` of one region, read once per triage; `None` after a failure.
pub(super) type CertificateList = Option<Arc<Vec<CertificateSummary>>>;

pub(super) struct Calls<'a, P> {
    pub(super) port: &'a P,
    deadline: Instant,
    gaps: Mutex<Vec<Gap>>,
    /// `ListCertificates` per region: the first branch that needs a region's list reads it;
    /// a branch that needs it while it is being read waits for that answer.
    certificate_lists: Mutex<BTreeMap<String, Arc<OnceCell<CertificateList>>>>,
}

impl<'a, P: Port> Calls<'a, P> {
    pub(super) fn new(port: &'a P, deadline: Instant) -> Self {
        Self {
            port,
            deadline,
            gaps: Mutex::new(Vec::new()),
            certificate_lists: Mutex::new(BTreeMap::new()),
        }
    }

    /// The gaps so far, in a stable order: calls of a wave finish in any order, and a replay
    /// must list them the same way.
    pub(super) fn into_gaps(self) -> Vec<Gap> {
        let mut gaps = self.gaps.into_inner().unwrap_or_default();
        gaps.sort_by(|a, b| {
            (&a.source, &a.resource, &a.reason).cmp(&(&b.source, &b.resource, &b.reason))
        });
        merge_budget_gaps(gaps)
    }

    /// Runs one call under the deadline; a failure is returned for the caller to judge.
    /// Past the deadline a call is not started at all: `timeout_at` would still run a call
    /// that answers at once (a world), so a huge world could keep the triage busy past it.
    async fn within_deadline<T>(&self, fut: impl Future<Output = Answer<T>>) -> Answer<T> {
        if Instant::now() >= self.deadline {
            return Err(SourceError::new(
                "DeadlineExceeded",
                "not sent: the triage deadline had passed",
            ));
        }
        match tokio::time::timeout_at(self.deadline, fut).await {
            Ok(answer) => answer,
            Err(_) => Err(SourceError::new(
                "DeadlineExceeded",
                "no answer before the triage deadline",
            )),
        }
    }

    /// Runs operation `O` under the deadline; a failure is returned for the caller to judge.
    pub(super) async fn try_read<O: Operation>(
        &self,
        region: &str,
        input: &O::Input,
    ) -> Answer<O::Output> {
        self.try_read_as::<O>(Need::Essential, region, input).await
    }

    /// [`Self::try_read`] for a call that matters as much as `need` says.
    async fn try_read_as<O: Operation>(
        &self,
        need: Need,
        region: &str,
        input: &O::Input,
    ) -> Answer<O::Output> {
        let mut latest = self
            .deadline
            .checked_sub(CALL_ALLOWANCE)
            .unwrap_or(self.deadline);
        if need == Need::Detail {
            latest = latest.min(Instant::now() + DETAIL_MAX_WAIT);
        }
        // Futures are lazy: nothing is sent before `within_deadline` polls this one.
        self.within_deadline(async {
            self.port.pace::<O>(region, input, latest).await?;
            self.port.call::<O>(region, input).await
        })
        .await
    }

    /// Runs operation `O` under the deadline; a failure becomes a gap about `resource`.
    pub(super) async fn read<O: Operation>(
        &self,
        region: &str,
        input: &O::Input,
        resource: Option<&str>,
    ) -> Option<O::Output> {
        self.read_as::<O>(Need::Essential, region, input, resource)
            .await
    }

    /// [`Self::read`] for a call that matters as much as `need` says.
    pub(super) async fn read_as<O: Operation>(
        &self,
        need: Need,
        region: &str,
        input: &O::Input,
        resource: Option<&str>,
    ) -> Option<O::Output> {
        match self.try_read_as::<O>(need, region, input).await {
            Ok(v) => Some(v),
            Err(e) => {
                self.gap(O::OP.iam_name(), resource, &e);
                None
            }
        }
    }

    /// The certificate list of `region`, read by the first caller (a failed list is no gap:
    /// every certificate is then described, and fails there).
    pub(super) async fn certificate_list(&self, region: &str) -> CertificateList {
        let cell = match self.certificate_lists.lock() {
            Ok(mut lists) => Arc::clone(lists.entry(region.to_owned()).or_default()),
            Err(_) => return None,
        };
        cell.get_or_init(|| async {
            self.try_read::<ListCertificates>(region, &())
                .await
                .ok()
                .map(Arc::new)
        })
        .await
        .clone()
    }

    /// Marks the lists of `regions` as read by this triage, before any of them is asked for,
    /// so that [`Self::certificate_list_if_read`] waits for them whatever the poll order.
    pub(super) fn claim_certificate_lists(&self, regions: &BTreeSet<&str>) {
        if let Ok(mut lists) = self.certificate_lists.lock() {
            for r in regions {
                lists.entry((*r).to_owned()).or_default();
            }
        }
    }

    /// The certificate list of `region` if some branch reads or has read it, else `None`
    /// without a call (a certificate outside its load balancer's region is described).
    pub(super) async fn certificate_list_if_read(&self, region: &str) -> CertificateList {
        let listed = self
            .certificate_lists
            .lock()
            .ok()
            .is_some_and(|lists| lists.contains_key(region));
        if listed {
            self.certificate_list(region).await
        } else {
            None
        }
    }

    /// A gap that is no failed call: a source read whole that did not hold what it should, or
    /// held it ambiguously.
    pub(super) fn gap_text(&self, source: &str, resource: Option<&str>, code: &str, reason: &str) {
        self.gap(source, resource, &SourceError::new(code, reason));
    }

    pub(super) fn gap(&self, source: &str, resource: Option<&str>, e: &SourceError) {
        let gap = Gap {
            source: source.to_owned(),
            reason: crate::error::short(&e.to_string()),
            resource: resource.map(str::to_owned),
            kind: if e.is_budget() {
                GapKind::Budget
            } else {
                GapKind::Error
            },
        };
        if let Ok(mut gaps) = self.gaps.lock()
            && !gaps.contains(&gap)
        {
            gaps.push(gap);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gap(source: &str, resource: &str, kind: GapKind) -> Gap {
        Gap {
            source: source.into(),
            reason: "Budget: not asked".into(),
            resource: Some(resource.into()),
            kind,
        }
    }

    #[test]
    fn many_budget_gaps_of_one_source_are_one() {
        let mut gaps: Vec<Gap> = (0..50)
            .map(|i| {
                gap(
                    "elasticloadbalancing:DescribeListenerCertificates",
                    &format!("l{i:02}"),
                    GapKind::Budget,
                )
            })
            .collect();
        gaps.push(gap(
            "elasticloadbalancing:DescribeRules",
            "l1",
            GapKind::Budget,
        ));
        gaps.push(gap(
            "elasticloadbalancing:DescribeRules",
            "l2",
            GapKind::Budget,
        ));
        gaps.extend((0..5).map(|i| {
            gap(
                "elasticloadbalancing:DescribeTargetHealth",
                &format!("t{i}"),
                GapKind::Error,
            )
        }));
        let merged = merge_budget_gaps(gaps);
        assert_eq!(merged.len(), 1 + 2 + 5);
        assert_eq!(merged[0].resource.as_deref(), Some("50 resources"));
        assert_eq!(
            merged[1].resource.as_deref(),
            Some("l1"),
            "three or fewer stay apart"
        );
        assert!(
            merged[3..].iter().all(|g| g.kind == GapKind::Error),
            "errors are never merged"
        );
    }
}
