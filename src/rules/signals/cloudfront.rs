//! The derived signals of one CloudFront distribution.

use super::*;
use crate::evidence::cloudwatch::{MetricRead, RECENTLY_ACTIVE_HOURS, Unread, cf_metric};

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
    /// Lambda@Edge and CloudFront Functions errors over W, from the series read.
    pub edge_errors: f64,
    /// How each edge-function metric the configuration calls for read.
    pub edge: EdgeReads,
    pub step: Option<StepOnset>,
    pub load_corr: Option<f64>,
    pub load_correlated: bool,
    /// The 5xx rate (%) in the quietest and the busiest third of minutes (W and B).
    pub rate_quiet: Option<f64>,
    pub rate_busy: Option<f64>,
}

impl CfSignals {
    /// The evidence line for the 5xx rate following load, with the number that shows it
    /// ([`crate::rules::load_evidence`]); `None` when nothing supports it.
    pub(crate) fn load_line(&self) -> Option<String> {
        crate::rules::load_evidence(
            "the 5xx rate",
            self.load_corr,
            self.rate_quiet,
            self.rate_busy,
            crate::rules::rate_pct,
        )
    }

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
    let edge = edge_reads(m, dist, w);
    let edge_errors = edge.errors();
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
        edge,
        step,
        load_corr,
        load_correlated: load_corr.is_some_and(|c| c >= CORRELATED) || only_peaks,
        rate_quiet,
        rate_busy,
    }
}

/// How one edge-function metric read.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum EdgeRead {
    /// The series has datapoints in the window: their sum over W (0 when all lie before W).
    Sum(f64),
    /// Asked with `GetMetricData`, no datapoint in the window.
    Empty,
    /// `ListMetrics` lists no such series for the last three hours.
    Unlisted,
    /// Not read: its call failed (a gap), or it was never asked.
    Unknown,
}

impl EdgeRead {
    /// Errors over W: a count CloudWatch publishes only in minutes with errors reads 0 when
    /// it was asked and has no datapoint; `None` when it was not read.
    pub(crate) fn errors(self) -> Option<f64> {
        match self {
            EdgeRead::Sum(v) => Some(v),
            EdgeRead::Empty | EdgeRead::Unlisted => Some(0.0),
            EdgeRead::Unknown => None,
        }
    }
}

/// One edge-function metric the distribution's configuration calls for.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct EdgeMetric {
    pub name: &'static str,
    /// The CloudFront Function's name; `None` for a Lambda@Edge metric (per distribution).
    pub function: Option<String>,
    pub read: EdgeRead,
}

impl EdgeMetric {
    /// The metric and whose it is: `LambdaExecutionError`, `FunctionThrottles of rewrite`.
    fn label(&self) -> String {
        match &self.function {
            Some(f) => format!("{} of {f}", self.name),
            None => self.name.to_owned(),
        }
    }
}

/// The edge-function metrics of a distribution: the Lambda@Edge error counts when a cache
/// behaviour has a Lambda@Edge association, each CloudFront Function's error counts; none
/// without edge functions (nothing is said about what was not asked).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct EdgeReads {
    pub metrics: Vec<EdgeMetric>,
    /// W's length, for the evidence lines.
    pub minutes: i64,
}

impl EdgeReads {
    /// Errors over W in the metrics read.
    pub(crate) fn errors(&self) -> f64 {
        self.metrics.iter().filter_map(|m| m.read.errors()).sum()
    }

    /// How one metric read (`function`: `None` for Lambda@Edge); `None` when the
    /// configuration does not call for it.
    pub(crate) fn get(&self, function: Option<&str>, name: &str) -> Option<EdgeRead> {
        self.metrics
            .iter()
            .find(|m| m.name == name && m.function.as_deref() == function)
            .map(|m| m.read)
    }

    /// Errors over W of one metric (0 when not read or not called for).
    pub(crate) fn sum(&self, function: Option<&str>, name: &str) -> f64 {
        self.get(function, name)
            .and_then(EdgeRead::errors)
            .unwrap_or(0.0)
    }

    /// The metrics `keep` selects that were not read, labelled, joined: what a finding
    /// resting on them names as missing. `None` when every one was read.
    pub(crate) fn unread(&self, keep: impl Fn(&EdgeMetric) -> bool) -> Option<String> {
        let labels: Vec<String> = self
            .metrics
            .iter()
            .filter(|m| keep(m) && m.read == EdgeRead::Unknown)
            .map(EdgeMetric::label)
            .collect();
        (!labels.is_empty()).then(|| format!("{} (not read)", labels.join(", ")))
    }

    /// For the metrics `keep` selects: one evidence line per metric with datapoints, one per
    /// group of metrics read as 0 without any, saying why that reads as 0 (metrics not read
    /// get none: see [`Self::unread`]).
    pub(crate) fn lines(&self, keep: impl Fn(&EdgeMetric) -> bool) -> Vec<String> {
        let mut out = Vec::new();
        let mut groups: Vec<(Option<&str>, EdgeRead, Vec<&str>)> = Vec::new();
        for m in self.metrics.iter().filter(|m| keep(m)) {
            match m.read {
                EdgeRead::Sum(v) => out.push(format!(
                    "{}: {} in {} min",
                    m.label(),
                    crate::rules::count(v),
                    self.minutes
                )),
                EdgeRead::Unknown => {}
                read => match groups
                    .iter_mut()
                    .find(|(f, r, _)| *f == m.function.as_deref() && *r == read)
                {
                    Some((_, _, names)) => names.push(m.name),
                    None => groups.push((m.function.as_deref(), read, vec![m.name])),
                },
            }
        }
        for (function, read, names) in groups {
            let of = function.map(|f| format!(" of {f}")).unwrap_or_default();
            let how = if read == EdgeRead::Unlisted {
                format!("not listed by ListMetrics for the last {RECENTLY_ACTIVE_HOURS} hours")
            } else {
                "asked, no datapoints in the window".to_owned()
            };
            out.push(format!(
                "{}{of}: {how} (published only when errors occur): 0",
                names.join(", ")
            ));
        }
        out
    }
}

/// The edge-function metrics `dist`'s configuration calls for, as they read over W.
pub(crate) fn edge_reads(
    m: &Metrics,
    dist: &crate::evidence::DistributionEvidence,
    w: Span,
) -> EdgeReads {
    let Some(cfg) = &dist.config else {
        return EdgeReads::default();
    };
    let read = |name: &'static str, dims: &[(&str, &str)], function: Option<&str>| {
        let read = match m.read_state(CLOUDFRONT_NAMESPACE, name, dims, "Sum") {
            MetricRead::Read(s) if s.is_empty() => EdgeRead::Empty,
            MetricRead::Read(s) => EdgeRead::Sum(s.sum_between(w.start, w.end)),
            MetricRead::Unread(Unread::Unlisted) => EdgeRead::Unlisted,
            MetricRead::Unread(Unread::Failed) | MetricRead::NotAsked => EdgeRead::Unknown,
        };
        EdgeMetric {
            name,
            function: function.map(str::to_owned),
            read,
        }
    };
    let mut metrics = Vec::new();
    if cfg.has_lambda_edge() {
        let dims = [("DistributionId", dist.id.as_str()), ("Region", "Global")];
        metrics.extend(
            cf_metric::LAMBDA_EDGE_ERRORS
                .iter()
                .map(|n| read(n, &dims, None)),
        );
    }
    for f in cfg.function_names() {
        let dims = [("FunctionName", f), ("Region", "Global")];
        metrics.extend(
            cf_metric::FUNCTION_ERRORS
                .iter()
                .map(|n| read(n, &dims, Some(f))),
        );
    }
    EdgeReads {
        metrics,
        minutes: w.minutes(),
    }
}
