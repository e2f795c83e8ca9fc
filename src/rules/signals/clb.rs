//! Signals of one Classic Load Balancer.

use super::{CORRELATED, Span, View, rank_correlation, windows};
use crate::alarm::Alarm;
use crate::evidence::cloudwatch::{Metrics, clb_metric};
use crate::evidence::{ClbEvidence, Evidence};
use crate::scope::CLB_NAMESPACE;

#[derive(Debug, Clone)]
pub(crate) struct ClbSignals {
    pub w: Span,
    pub requests: f64,
    pub elb_5xx: f64,
    pub elb_5xx_b: f64,
    pub requests_b: f64,
    pub backend_5xx: f64,
    pub backend_connection_errors: f64,
    pub spillover: f64,
    pub surge_max: Option<f64>,
    /// Latency Maximum over W, seconds.
    pub latency_max: Option<f64>,
    pub healthy_min: Option<f64>,
    /// ELB 5xx per minute follow RequestCount (rank correlation over W and B).
    pub load_correlated: bool,
    pub load_corr: Option<f64>,
}

fn view<'a>(m: &'a Metrics, name: &str, metric: &str, stat: &str) -> View<'a> {
    View {
        series: m.find(CLB_NAMESPACE, metric, &[("LoadBalancerName", name)], stat),
    }
}

pub(crate) fn clb_signals(alarm: &Alarm, e: &Evidence, c: &ClbEvidence) -> ClbSignals {
    let (w, b) = windows(alarm, e);
    let m = &e.metrics;
    let sum = |metric: &str| view(m, &c.name, metric, "Sum");
    let elb = sum(clb_metric::ELB_5XX);
    let backend = sum(clb_metric::BACKEND_5XX);
    let requests = sum(clb_metric::REQUESTS);
    let span = Span {
        start: b.start,
        end: w.end,
    };
    let pairs: Vec<(f64, f64)> = span
        .each_minute()
        .filter_map(|t| {
            Some((
                requests.at(t)?,
                elb.at(t).unwrap_or(0.0) + backend.at(t).unwrap_or(0.0),
            ))
        })
        .collect();
    let load_corr = rank_correlation(&pairs);
    ClbSignals {
        w,
        requests: requests.sum(w),
        elb_5xx: elb.sum(w),
        elb_5xx_b: elb.sum(b),
        requests_b: requests.sum(b),
        backend_5xx: backend.sum(w),
        backend_connection_errors: sum(clb_metric::BACKEND_CONNECTION_ERRORS).sum(w),
        spillover: sum(clb_metric::SPILLOVER).sum(w),
        surge_max: view(m, &c.name, clb_metric::SURGE_QUEUE, "Maximum").max(w),
        latency_max: view(m, &c.name, clb_metric::LATENCY, "Maximum").max(w),
        healthy_min: view(m, &c.name, clb_metric::HEALTHY_HOSTS, "Minimum").min(w),
        load_correlated: load_corr.is_some_and(|c| c >= CORRELATED),
        load_corr,
    }
}
