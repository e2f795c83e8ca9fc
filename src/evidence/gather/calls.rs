//! One triage's calls: each under the deadline, failures into gaps, and the certificate list
//! of a region read once however many branches need it.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;
use tokio::time::Instant;

use crate::evidence::Gap;
use crate::evidence::acm::{CertificateSummary, ListCertificates};
use crate::evidence::port::{Answer, Operation, Port, SourceError};

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
        gaps
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
        // Futures are lazy: nothing is sent before `within_deadline` polls this one.
        self.within_deadline(self.port.call::<O>(region, input))
            .await
    }

    /// Runs operation `O` under the deadline; a failure becomes a gap about `resource`.
    pub(super) async fn read<O: Operation>(
        &self,
        region: &str,
        input: &O::Input,
        resource: Option<&str>,
    ) -> Option<O::Output> {
        match self.try_read::<O>(region, input).await {
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
        };
        if let Ok(mut gaps) = self.gaps.lock()
            && !gaps.contains(&gap)
        {
            gaps.push(gap);
        }
    }
}
