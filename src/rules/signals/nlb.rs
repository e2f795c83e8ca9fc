//! Signals of one Network Load Balancer: it has no HTTP codes of its own, so what it says is
//! resets, TLS negotiation errors, port allocation errors, flows and host counts.

use std::collections::BTreeMap;

use super::{Span, View, windows};
use crate::alarm::Alarm;
use crate::evidence::cloudwatch::{Metrics, nlb_metric};
use crate::evidence::{AlbEvidence, Evidence};
use crate::names;
use crate::scope::NLB_NAMESPACE;

#[derive(Debug, Clone)]
pub(crate) struct NlbSignals {
    pub w: Span,
    pub b: Span,
    pub target_resets: f64,
    pub target_resets_b: f64,
    pub elb_resets: f64,
    pub target_tls_errors: f64,
    pub client_tls_errors: f64,
    pub port_allocation_errors: f64,
    pub new_flows: f64,
    pub new_flows_b: f64,
    /// HealthyHostCount Minimum over W, per target group ARN.
    pub healthy_min: BTreeMap<String, f64>,
}

fn nlb_view<'a>(m: &'a Metrics, lb: &str, name: &str, stat: &str) -> View<'a> {
    View {
        series: m.find(NLB_NAMESPACE, name, &[("LoadBalancer", lb)], stat),
    }
}

pub(crate) fn nlb_signals(alarm: &Alarm, e: &Evidence, nlb: &AlbEvidence) -> NlbSignals {
    let (w, b) = windows(alarm, e);
    let m = &e.metrics;
    let lb = nlb.dimension();
    let v = |name: &str| nlb_view(m, lb, name, "Sum");
    let resets = v(nlb_metric::TARGET_RESETS);
    let flows = v(nlb_metric::NEW_FLOWS);
    let mut healthy_min = BTreeMap::new();
    for tg in nlb.target_groups.iter().flatten() {
        let arn = &tg.target_group.target_group_arn;
        let Some(tg_dim) = names::target_group_dimension(arn) else {
            continue;
        };
        let view = View {
            series: m.find(
                NLB_NAMESPACE,
                nlb_metric::HEALTHY_HOSTS,
                &[("LoadBalancer", lb), ("TargetGroup", tg_dim)],
                "Minimum",
            ),
        };
        if let Some(min) = view.min(w) {
            healthy_min.insert(arn.clone(), min);
        }
    }
    NlbSignals {
        w,
        b,
        target_resets: resets.sum(w),
        target_resets_b: resets.sum(b),
        elb_resets: v(nlb_metric::ELB_RESETS).sum(w),
        target_tls_errors: v(nlb_metric::TARGET_TLS_ERRORS).sum(w),
        client_tls_errors: v(nlb_metric::CLIENT_TLS_ERRORS).sum(w),
        port_allocation_errors: v(nlb_metric::PORT_ALLOCATION_ERRORS).sum(w),
        new_flows: flows.sum(w),
        new_flows_b: flows.sum(b),
        healthy_min,
    }
}
