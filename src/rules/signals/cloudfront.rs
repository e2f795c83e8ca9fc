//! The derived signals of one CloudFront distribution.

use super::*;
use crate::evidence::cloudwatch::cf_metric;

/// The facts about one distribution's errors (rates are percentages of all requests).
#[derive(Debug, Clone)]
pub(crate) struct CfSignals {
    /// The triage clock.
    pub now: DateTime<Utc>,
    pub w: Span,
    pub rate_5xx: Option<f64>,
    pub rate_502: Option<f64>,
    pub rate_503: Option<f64>,
    pub rate_504: Option<f64>,
    /// `4xxErrorRate` and `TotalErrorRate` over W: what an alarm on all errors is made of.
    pub rate_4xx: Option<f64>,
    pub rate_total: Option<f64>,
    /// 5xx responses over W (rate x requests).
    pub errors_5xx: f64,
    pub origin_latency_p99_ms: Option<f64>,
    pub origin_latency_max_ms: Option<f64>,
    pub origin_latency_points_w: usize,
    /// Lambda@Edge and CloudFront Functions errors over W.
    pub edge_errors: f64,
    pub step: Option<StepOnset>,
    pub load_corr: Option<f64>,
    pub load_correlated: bool,
    /// The 5xx rate (%) in the quietest and the busiest third of minutes (W and B).
    pub rate_quiet: Option<f64>,
    pub rate_busy: Option<f64>,
}

impl CfSignals {
    /// The errors in W are mostly 4xx: `4xxErrorRate` at least half of all errors (the
    /// `TotalErrorRate`, or 4xx + 5xx when that was not read) and above the noise floor.
    pub(crate) fn mostly_4xx(&self) -> bool {
        let Some(r4) = self.rate_4xx.filter(|r| *r >= NOISE_RATE_PCT) else {
            return false;
        };
        let total = self
            .rate_total
            .unwrap_or(r4 + self.rate_5xx.unwrap_or(0.0))
            .max(r4);
        r4 >= DOMINANT * total
    }

    /// The code whose rate is at least half of the 5xx rate, if any.
    pub(crate) fn dominant(&self) -> Option<u16> {
        let total = self.rate_5xx?;
        if total <= 0.0 {
            return None;
        }
        [
            (502, self.rate_502),
            (503, self.rate_503),
            (504, self.rate_504),
        ]
        .into_iter()
        .filter_map(|(c, r)| r.map(|r| (c, r)))
        .find(|(_, r)| *r >= DOMINANT * total)
        .map(|(c, _)| c)
    }

    /// The per-minute CloudFront 5xx count at `t` (rate x requests).
    pub(crate) fn errors_at(&self, e: &Evidence, id: &str, t: DateTime<Utc>) -> Option<f64> {
        let v = cf_view(&e.metrics, id, cf_metric::RATE_5XX, "Average");
        let r = cf_view(&e.metrics, id, cf_metric::REQUESTS, "Sum");
        Some(v.at(t)? / 100.0 * r.at(t)?)
    }
}

pub(crate) fn cf_view<'a>(m: &'a Metrics, id: &str, name: &str, stat: &str) -> View<'a> {
    View {
        series: m.find(
            CLOUDFRONT_NAMESPACE,
            name,
            &[("DistributionId", id), ("Region", "Global")],
            stat,
        ),
    }
}

pub(crate) fn cf_signals(
    alarm: &Alarm,
    e: &Evidence,
    dist: &crate::evidence::DistributionEvidence,
) -> CfSignals {
    let id = dist.id.as_str();
    let (w, b) = windows(alarm, e);
    let m = &e.metrics;
    // Lambda@Edge (per distribution) and CloudFront Functions (per function) errors in W.
    let sum = |name: &str, dims: &[(&str, &str)]| {
        View {
            series: m.find(CLOUDFRONT_NAMESPACE, name, dims, "Sum"),
        }
        .sum(w)
    };
    let dist_dims = [("DistributionId", id), ("Region", "Global")];
    let mut edge_errors: f64 = [
        cf_metric::LAMBDA_EXECUTION_ERROR,
        cf_metric::LAMBDA_VALIDATION_ERROR,
        cf_metric::LAMBDA_THROTTLES,
    ]
    .iter()
    .map(|n| sum(n, &dist_dims))
    .sum();
    if let Some(cfg) = &dist.config {
        let behaviors = cfg.behaviors();
        for b in behaviors {
            for f in b.function_associations.iter().flat_map(|f| &f.items) {
                let name = f.function_arn.rsplit('/').next().unwrap_or(&f.function_arn);
                let dims = [("FunctionName", name), ("Region", "Global")];
                edge_errors += [
                    cf_metric::FUNCTION_VALIDATION_ERRORS,
                    cf_metric::FUNCTION_EXECUTION_ERRORS,
                    cf_metric::FUNCTION_THROTTLES,
                ]
                .iter()
                .map(|n| sum(n, &dims))
                .sum::<f64>();
            }
        }
    }
    let rate = |name: &str| cf_view(m, id, name, "Average").mean(w);
    let req = cf_view(m, id, cf_metric::REQUESTS, "Sum");
    let r5 = cf_view(m, id, cf_metric::RATE_5XX, "Average");
    let latency_p99 = cf_view(m, id, cf_metric::ORIGIN_LATENCY, "p99");
    let latency_max = cf_view(m, id, cf_metric::ORIGIN_LATENCY, "Maximum");
    let latency_avg = cf_view(m, id, cf_metric::ORIGIN_LATENCY, "Average");
    let whole = Span {
        start: e.window.start,
        end: w.end,
    };
    let minutes: Vec<_> = whole
        .each_minute()
        .map(|t| (t, r5.at(t), req.at(t)))
        .collect();
    let rate_5xx = r5.mean(w);
    // Rates are percentages: a plateau under 0.1% is noise.
    let step = step_onset(&minutes, rate_5xx.unwrap_or(0.0), NOISE_RATE_PCT);
    let wb = Span {
        start: b.start,
        end: w.end,
    };
    let pairs: Vec<(f64, f64)> = wb
        .each_minute()
        .filter_map(|t| Some((req.at(t)?, r5.at(t)?)))
        .collect();
    let load_corr = rank_correlation(&pairs);
    let (rate_quiet, rate_busy, peaks) = load_thirds(&pairs);
    let only_peaks = peaks && step.is_none();
    let errors_5xx = w
        .each_minute()
        .filter_map(|t| Some(r5.at(t)? / 100.0 * req.at(t)?))
        .sum();
    CfSignals {
        now: e.now,
        w,
        rate_5xx,
        rate_502: rate(cf_metric::RATE_502),
        rate_503: rate(cf_metric::RATE_503),
        rate_504: rate(cf_metric::RATE_504),
        rate_4xx: rate(cf_metric::RATE_4XX),
        rate_total: rate(cf_metric::RATE_TOTAL),
        errors_5xx,
        origin_latency_p99_ms: latency_p99.max(w),
        origin_latency_max_ms: latency_max.max(w),
        origin_latency_points_w: latency_avg.count(w).max(latency_max.count(w)),
        edge_errors,
        step,
        load_corr,
        load_correlated: load_corr.is_some_and(|c| c >= CORRELATED) || only_peaks,
        rate_quiet,
        rate_busy,
    }
}
