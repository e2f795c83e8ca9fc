//! Derived signals, computed once per triage from the series (the rules in `docs/rules.md` read them).
//!
//! W is the alarm window (its evaluation periods, at least 5 minutes, ending with the minute
//! of the state change); B is the hour before W. Error *counts* that have no datapoint in a
//! minute with traffic count as zero, because ELB publishes count metrics only when they are
//! non-zero; *ratios* are computed only for minutes whose demand is known, so a missing
//! datapoint never reads as "no errors".

mod apigw;
mod clb;
mod cloudfront;
mod nlb;

pub(crate) use self::apigw::{ApiSignals, FnSignals, api_signals, errors_view};
pub(crate) use self::clb::{ClbSignals, clb_signals};
pub(crate) use self::cloudfront::{CfSignals, EdgeMetric, cf_signals, cf_view};
pub(crate) use self::nlb::{NlbSignals, nlb_signals};
use crate::evidence::cloudwatch::alb_metric;
use chrono::{DateTime, Duration, DurationRound, Utc};

use crate::alarm::Alarm;
use crate::evidence::cloudwatch::{Metrics, Series};
use crate::evidence::elb::attribute;
use crate::evidence::{AlbEvidence, Evidence};
use crate::scope::{ALB_NAMESPACE, CLOUDFRONT_NAMESPACE};

/// A code is "dominant" at this share of ELB 5xx.
pub(crate) const DOMINANT: f64 = 0.5;
/// Rank correlation at or above this is "load correlated".
pub(crate) const CORRELATED: f64 = 0.6;
/// A timeout is "reached" at this fraction of the configured value.
pub(crate) const REACHED: f64 = 0.9;
/// A code accounts for "nearly all" ELB 5xx at this share: room for a few stray other
/// codes, not for a second cause.
pub(crate) const NEARLY_ALL: f64 = 0.8;
/// Errors below this share of requests are every service's background, not an incident.
pub(crate) const NOISE_RATIO: f64 = 0.001;
/// The same floor for CloudFront's rates, which are percentages.
pub(crate) const NOISE_RATE_PCT: f64 = 0.1;
/// The alarm window W is the alarm's evaluation periods, at least this many minutes (fewer
/// minutes give no shape to read) ...
pub(crate) const MIN_WINDOW_MINUTES: i64 = 5;
/// ... and at most this many (an alarm evaluated over hours says nothing about its onset).
pub(crate) const MAX_WINDOW_MINUTES: i64 = 60;
/// A rank correlation needs this many minutes: fewer pairs correlate by chance.
pub(crate) const MIN_CORRELATION_PAIRS: usize = 9;
/// The errors are "chronic" when the hour before already ran at this fraction of the
/// window's error ratio: an old problem, not this alarm's onset.
const CHRONIC: f64 = 0.3;
/// Errors are "only at peaks" when the busiest third of minutes runs at this many times the
/// error ratio of the other minutes.
const PEAK_FACTOR: f64 = 3.0;
/// A step onset: the ratio was under this fraction of its later plateau the minute before ...
const STEP_BEFORE: f64 = 0.1;
/// ... reached this fraction of it within two minutes ...
const STEP_REACHED: f64 = 0.8;
/// ... and stayed above this fraction of it afterwards ...
const STEP_HOLDS: f64 = 0.5;
/// ... while demand stayed within this range of its value the minute before (about 30%
/// either way: the errors changed, not the load).
const STEADY_LOAD: std::ops::RangeInclusive<f64> = 0.7..=1.43;

/// A half-open time range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl Span {
    pub(crate) fn minutes(&self) -> i64 {
        (self.end - self.start).num_minutes()
    }

    pub(crate) fn each_minute(&self) -> impl Iterator<Item = DateTime<Utc>> + '_ {
        (0..self.minutes()).map(|i| self.start + Duration::minutes(i))
    }
}

/// W and B for an alarm.
pub(crate) fn windows(alarm: &Alarm, e: &Evidence) -> (Span, Span) {
    let changed = alarm.changed_at.unwrap_or(e.now).min(e.now);
    let end = changed
        .duration_trunc(Duration::minutes(1))
        .unwrap_or(changed)
        + Duration::minutes(1);
    let end = end.min(e.window.end.max(e.now));
    let period_min = alarm
        .primary_metric()
        .and_then(|m| m.period)
        .map_or(1, |p| (i64::from(p) / 60).max(1));
    let evals = i64::from(alarm.evaluation_periods.unwrap_or(1).max(1));
    let w_minutes = (period_min * evals).clamp(MIN_WINDOW_MINUTES, MAX_WINDOW_MINUTES);
    let w = Span {
        start: end - Duration::minutes(w_minutes),
        end,
    };
    let b = Span {
        start: w.start - Duration::minutes(60),
        end: w.start,
    };
    (w, b)
}

/// One series read as a per-minute function.
#[derive(Debug, Clone, Copy)]
pub(crate) struct View<'a> {
    pub series: Option<&'a Series>,
}

impl<'a> View<'a> {
    pub(crate) fn at(&self, t: DateTime<Utc>) -> Option<f64> {
        self.series.and_then(|s| s.value_at(t))
    }

    /// Sum over a span; missing minutes add nothing.
    pub(crate) fn sum(&self, span: Span) -> f64 {
        self.series
            .map_or(0.0, |s| s.sum_between(span.start, span.end))
    }

    pub(crate) fn max(&self, span: Span) -> Option<f64> {
        self.series
            .and_then(|s| s.max_between(span.start, span.end))
    }

    pub(crate) fn min(&self, span: Span) -> Option<f64> {
        self.series
            .and_then(|s| s.min_between(span.start, span.end))
    }

    pub(crate) fn mean(&self, span: Span) -> Option<f64> {
        self.series
            .and_then(|s| s.mean_between(span.start, span.end))
    }

    /// Datapoints inside the span.
    pub(crate) fn count(&self, span: Span) -> usize {
        self.series
            .map_or(0, |s| s.between(span.start, span.end).count())
    }
}

/// Spearman rank correlation of paired samples; `None` below 5 pairs or with no variance.
pub(crate) fn rank_correlation(pairs: &[(f64, f64)]) -> Option<f64> {
    if pairs.len() < 5 {
        return None;
    }
    let rx = ranks(&pairs.iter().map(|p| p.0).collect::<Vec<_>>());
    let ry = ranks(&pairs.iter().map(|p| p.1).collect::<Vec<_>>());
    pearson(&rx, &ry)
}

fn ranks(v: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..v.len()).collect();
    // total_cmp: a total order whatever the values (sort panics on an inconsistent one, and
    // partial_cmp with a NaN is one).
    idx.sort_by(|a, b| {
        let (x, y) = (v.get(*a).copied(), v.get(*b).copied());
        x.unwrap_or(f64::NAN).total_cmp(&y.unwrap_or(f64::NAN))
    });
    let mut out = vec![0.0; v.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && v.get(idx[j + 1]) == v.get(idx[i]) {
            j += 1;
        }
        let rank = (i + j) as f64 / 2.0 + 1.0;
        for k in &idx[i..=j] {
            if let Some(slot) = out.get_mut(*k) {
                *slot = rank;
            }
        }
        i = j + 1;
    }
    out
}

fn pearson(x: &[f64], y: &[f64]) -> Option<f64> {
    let n = x.len() as f64;
    let mx = x.iter().sum::<f64>() / n;
    let my = y.iter().sum::<f64>() / n;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx) * (a - mx);
        syy += (b - my) * (b - my);
    }
    (sxx > 0.0 && syy > 0.0).then(|| sxy / (sxx * syy).sqrt())
}

/// A step from about zero to a plateau within two periods, with no change in load.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct StepOnset {
    pub at: DateTime<Utc>,
    pub plateau: f64,
}

/// Finds a step onset in per-minute `ratio` (with `demand` to check that load held steady):
/// from at most 10% of the plateau to at least 80% within two minutes, staying above half of
/// the plateau afterwards, demand within x0.7..x1.43 across the step.
pub(crate) fn step_onset(
    minutes: &[(DateTime<Utc>, Option<f64>, Option<f64>)],
    plateau: f64,
    min_plateau: f64,
) -> Option<StepOnset> {
    if plateau <= 0.0 || plateau < min_plateau {
        return None;
    }
    let n = minutes.len();
    let mut found = None;
    for i in 0..n {
        let Some((_, Some(low), d0)) = minutes.get(i).copied() else {
            continue;
        };
        if low > STEP_BEFORE * plateau {
            continue;
        }
        for k in 1..=2 {
            let Some((t, Some(high), d1)) = minutes.get(i + k).copied() else {
                continue;
            };
            if high < STEP_REACHED * plateau {
                continue;
            }
            let steady = match (d0, d1) {
                (Some(a), Some(b)) if a > 0.0 => STEADY_LOAD.contains(&(b / a)),
                _ => true,
            };
            let holds = minutes
                .iter()
                .skip(i + k)
                .all(|(_, r, _)| r.is_none_or(|r| r >= STEP_HOLDS * plateau));
            if steady && holds {
                found = Some(StepOnset { at: t, plateau });
            }
            break;
        }
    }
    found
}

/// The facts about one load balancer's errors.
#[derive(Debug, Clone)]
pub(crate) struct AlbSignals {
    pub w: Span,
    pub b: Span,
    pub requests: f64,
    /// Mean RequestCount per minute over B, where B has data.
    pub base_requests_per_min: Option<f64>,
    pub elb_5xx: f64,
    pub elb_500: f64,
    pub elb_502: f64,
    pub elb_503: f64,
    pub elb_504: f64,
    pub target_5xx: f64,
    /// Target 5xx per request over B, where B has traffic.
    pub base_target_ratio: Option<f64>,
    pub target_2xx: f64,
    pub conn_errors: f64,
    pub tls_errors: f64,
    pub client_tls_errors: f64,
    pub rejected: f64,
    pub lambda_errors: f64,
    pub auth_errors: f64,
    /// Fixed-response actions that answered (`HTTP_Fixed_Response_Count`) over W.
    pub fixed_responses: f64,
    /// Whether CloudWatch answered for this load balancer at all (an empty answer counts; a
    /// failed GetMetricData does not).
    pub metrics_read: bool,
    /// (ELB 5xx + target 5xx) / demand over W.
    pub err_ratio: f64,
    /// Same over B.
    pub base_ratio: Option<f64>,
    /// ELB 502 / demand over W.
    pub ratio_502: f64,
    pub p500: f64,
    pub p502: f64,
    pub p503: f64,
    pub p504: f64,
    /// Target 5xx share of all 5xx.
    pub target_share: f64,
    pub step: Option<StepOnset>,
    pub load_corr: Option<f64>,
    pub load_correlated: bool,
    /// Errors appear only in the busiest minutes.
    pub only_at_peaks: bool,
    /// Error ratio in the quietest vs the busiest third of minutes (W ∪ B).
    pub ratio_low_load: Option<f64>,
    pub ratio_high_load: Option<f64>,
    pub chronic: bool,
    pub idle_timeout: f64,
    pub idle_timeout_set: bool,
    pub trt_max: Option<f64>,
    pub trt_p99: Option<f64>,
    pub trt_points_w: usize,
    pub trt_p99_load_corr: Option<f64>,
    /// Rank correlation of connection errors *per request* with demand.
    pub conn_err_load_corr: Option<f64>,
    /// HealthyHostCount Minimum over W, per target group ARN.
    pub healthy_min: std::collections::BTreeMap<String, f64>,
    /// RequestCount in W per target group (by ARN), where it was read.
    pub tg_requests: std::collections::BTreeMap<String, f64>,
}

fn alb_view<'a>(m: &'a Metrics, lb: &str, name: &str, stat: &str) -> View<'a> {
    View {
        series: m.find(ALB_NAMESPACE, name, &[("LoadBalancer", lb)], stat),
    }
}

pub(crate) fn share(part: f64, whole: f64) -> f64 {
    if whole > 0.0 { part / whole } else { 0.0 }
}

/// Computes the ALB signals for one load balancer.
pub(crate) fn alb_signals(alarm: &Alarm, e: &Evidence, alb: &AlbEvidence) -> AlbSignals {
    let (w, b) = windows(alarm, e);
    let m = &e.metrics;
    let lb = alb.dimension();
    let v = |name: &str| alb_view(m, lb, name, "Sum");
    let requests = v(alb_metric::REQUEST_COUNT);
    let elb5 = v(alb_metric::ELB_5XX);
    let elb500 = v(alb_metric::ELB_500);
    let elb502 = v(alb_metric::ELB_502);
    let elb503 = v(alb_metric::ELB_503);
    let elb504 = v(alb_metric::ELB_504);
    let t5 = v(alb_metric::TARGET_5XX);
    let conn = v(alb_metric::TARGET_CONNECTION_ERRORS);
    let trt_max = alb_view(m, lb, alb_metric::TARGET_RESPONSE_TIME, "Maximum");
    let trt_p99 = alb_view(m, lb, alb_metric::TARGET_RESPONSE_TIME, "p99");

    let sum_codes = elb500.sum(w) + elb502.sum(w) + elb503.sum(w) + elb504.sum(w);
    let elb_5xx = elb5.sum(w).max(sum_codes);
    let demand_at = |t: DateTime<Utc>| -> Option<f64> {
        let r = requests.at(t);
        let n503 = elb503.at(t);
        match (r, n503) {
            (None, None) => None,
            (r, n) => Some(r.unwrap_or(0.0) + n.unwrap_or(0.0)),
        }
    };
    let errors_at = |t: DateTime<Utc>| -> f64 {
        elb5.at(t).unwrap_or_else(|| {
            elb500.at(t).unwrap_or(0.0)
                + elb502.at(t).unwrap_or(0.0)
                + elb503.at(t).unwrap_or(0.0)
                + elb504.at(t).unwrap_or(0.0)
        }) + t5.at(t).unwrap_or(0.0)
    };
    let ratio_at = |t: DateTime<Utc>| -> Option<f64> {
        demand_at(t).filter(|d| *d > 0.0).map(|d| errors_at(t) / d)
    };
    let demand = requests.sum(w) + elb503.sum(w);
    let target_5xx = t5.sum(w);
    let errors = elb_5xx + target_5xx;
    let err_ratio = share(errors, demand);
    let base_demand = requests.sum(b) + elb503.sum(b);
    let base_errors = elb5
        .sum(b)
        .max(elb502.sum(b) + elb503.sum(b) + elb504.sum(b))
        + t5.sum(b);
    let base_ratio = (base_demand > 0.0).then(|| base_errors / base_demand);

    let whole = Span {
        start: e.window.start,
        end: w.end,
    };
    let minutes: Vec<_> = whole
        .each_minute()
        .map(|t| (t, ratio_at(t), demand_at(t)))
        .collect();
    let plateau_ratios: Vec<f64> = w.each_minute().filter_map(ratio_at).collect();
    let plateau = if plateau_ratios.is_empty() {
        0.0
    } else {
        plateau_ratios.iter().sum::<f64>() / plateau_ratios.len() as f64
    };
    // A plateau under 0.1% of demand is noise, not a step.
    let step = step_onset(&minutes, plateau, NOISE_RATIO);

    // Load correlation of the error ratio over W ∪ B.
    let wb = Span {
        start: b.start,
        end: w.end,
    };
    let pairs: Vec<(f64, f64)> = wb
        .each_minute()
        .filter_map(|t| Some((demand_at(t)?, ratio_at(t)?)))
        .collect();
    let load_corr = rank_correlation(&pairs);
    let (ratio_low_load, ratio_high_load, peaks) = load_thirds(&pairs);
    // A step with steady load is a change, not load: then errors at peaks are a coincidence.
    let only_at_peaks = peaks && step.is_none();
    let load_correlated = load_corr.is_some_and(|c| c >= CORRELATED) || only_at_peaks;
    let chronic = base_ratio.is_some_and(|r| plateau > 0.0 && r >= CHRONIC * plateau);

    let idle = alb
        .attributes
        .as_deref()
        .and_then(|a| attribute(a, "idle_timeout.timeout_seconds"))
        .and_then(|v| v.parse::<f64>().ok());
    let trt_p99_pairs: Vec<(f64, f64)> = wb
        .each_minute()
        .filter_map(|t| Some((demand_at(t)?, trt_p99.at(t)?)))
        .collect();
    // Connection errors per request against demand: a constant share also tracks load as a
    // count (`docs/rules.md`: correlate the ratio, not the count).
    let conn_pairs: Vec<(f64, f64)> = wb
        .each_minute()
        .filter_map(|t| {
            let d = demand_at(t).filter(|d| *d > 0.0)?;
            Some((d, conn.at(t).unwrap_or(0.0) / d))
        })
        .collect();
    AlbSignals {
        w,
        b,
        requests: requests.sum(w),
        base_requests_per_min: requests.mean(b),
        elb_5xx,
        elb_500: elb500.sum(w),
        elb_502: elb502.sum(w),
        elb_503: elb503.sum(w),
        elb_504: elb504.sum(w),
        target_5xx,
        base_target_ratio: (requests.sum(b) > 0.0).then(|| t5.sum(b) / requests.sum(b)),
        target_2xx: v(alb_metric::TARGET_2XX).sum(w),
        conn_errors: conn.sum(w),
        tls_errors: v(alb_metric::TARGET_TLS_ERRORS).sum(w),
        client_tls_errors: v(alb_metric::CLIENT_TLS_ERRORS).sum(w),
        rejected: v(alb_metric::REJECTED_CONNECTIONS).sum(w),
        // AWS publishes the Lambda target metrics per target group.
        lambda_errors: (v(alb_metric::LAMBDA_USER_ERROR).sum(w)
            + v(alb_metric::LAMBDA_INTERNAL_ERROR).sum(w))
        .max(
            alb.target_groups
                .iter()
                .flatten()
                .filter_map(|t| {
                    crate::names::target_group_dimension(&t.target_group.target_group_arn)
                })
                .map(|tg| {
                    [
                        alb_metric::LAMBDA_USER_ERROR,
                        alb_metric::LAMBDA_INTERNAL_ERROR,
                    ]
                    .iter()
                    .map(|name| {
                        View {
                            series: m.find(
                                ALB_NAMESPACE,
                                name,
                                &[("LoadBalancer", lb), ("TargetGroup", tg)],
                                "Sum",
                            ),
                        }
                        .sum(w)
                    })
                    .sum::<f64>()
                })
                .sum(),
        ),
        auth_errors: v(alb_metric::AUTH_ERROR).sum(w),
        fixed_responses: v(alb_metric::FIXED_RESPONSES).sum(w),
        metrics_read: m
            .iter()
            .any(|(q, _)| q.namespace == ALB_NAMESPACE && q.dimension("LoadBalancer") == Some(lb)),
        err_ratio,
        base_ratio,
        ratio_502: share(elb502.sum(w), demand),
        p500: share(elb500.sum(w), elb_5xx),
        p502: share(elb502.sum(w), elb_5xx),
        p503: share(elb503.sum(w), elb_5xx),
        p504: share(elb504.sum(w), elb_5xx),
        target_share: share(target_5xx, errors),
        step,
        load_corr,
        load_correlated,
        only_at_peaks,
        ratio_low_load,
        ratio_high_load,
        chronic,
        idle_timeout: idle.unwrap_or(super::aws_defaults::IDLE_TIMEOUT_S),
        idle_timeout_set: idle.is_some(),
        trt_max: trt_max.max(w),
        trt_p99: trt_p99.max(w),
        trt_points_w: trt_max
            .count(w)
            .max(alb_view(m, lb, alb_metric::TARGET_RESPONSE_TIME, "Average").count(w)),
        trt_p99_load_corr: rank_correlation(&trt_p99_pairs),
        conn_err_load_corr: rank_correlation(&conn_pairs),
        healthy_min: per_group(alb, |dim| {
            View {
                series: m.find(
                    ALB_NAMESPACE,
                    alb_metric::HEALTHY_HOSTS,
                    &[("LoadBalancer", lb), ("TargetGroup", dim)],
                    "Minimum",
                ),
            }
            .min(w)
        }),
        tg_requests: per_group(alb, |dim| {
            let series = m.find(
                ALB_NAMESPACE,
                alb_metric::REQUEST_COUNT,
                &[("LoadBalancer", lb), ("TargetGroup", dim)],
                "Sum",
            )?;
            Some(
                View {
                    series: Some(series),
                }
                .sum(w),
            )
        }),
    }
}

/// One value per target group of `alb`, keyed by ARN, from its `TargetGroup` dimension
/// (groups whose value is `None` are left out).
fn per_group(
    alb: &AlbEvidence,
    value: impl Fn(&str) -> Option<f64>,
) -> std::collections::BTreeMap<String, f64> {
    alb.target_groups
        .iter()
        .flatten()
        .filter_map(|t| {
            let arn = &t.target_group.target_group_arn;
            let dim = crate::names::target_group_dimension(arn)?;
            Some((arn.clone(), value(dim)?))
        })
        .collect()
}

impl AlbSignals {
    /// The evidence line for `subject` (the error ratio, named) following load, with the
    /// number that shows it ([`crate::rules::load_evidence`]); `None` when nothing supports it.
    pub(crate) fn load_line(&self, subject: &str) -> Option<String> {
        crate::rules::load_evidence(
            subject,
            self.load_corr,
            self.ratio_low_load,
            self.ratio_high_load,
            crate::rules::pct,
        )
    }
}

/// Error ratio in the quietest and the busiest third of minutes, and whether the errors
/// are concentrated in the busiest third: at least three times the rate of the other minutes
/// (a baseline of stray errors elsewhere does not hide a peak-only pattern).
fn load_thirds(pairs: &[(f64, f64)]) -> (Option<f64>, Option<f64>, bool) {
    if pairs.len() < MIN_CORRELATION_PAIRS {
        return (None, None, false);
    }
    let mut sorted = pairs.to_vec();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    let third = sorted.len() / 3;
    let mean = |s: &[(f64, f64)]| s.iter().map(|p| p.1).sum::<f64>() / s.len().max(1) as f64;
    let low = sorted.get(..third).map(mean);
    let high = sorted.get(sorted.len() - third..).map(mean);
    let rest = sorted.get(..sorted.len() - third).map(mean);
    let only_peaks = match (high, rest) {
        (Some(h), Some(r)) => h > 0.0 && h >= PEAK_FACTOR * r,
        _ => false,
    };
    (low, high, only_peaks)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rank_correlation_of_monotonic_pairs() {
        let up: Vec<(f64, f64)> = (0..10).map(|i| (f64::from(i), f64::from(i * i))).collect();
        assert!((rank_correlation(&up).unwrap() - 1.0).abs() < 1e-9);
        let down: Vec<(f64, f64)> = (0..10).map(|i| (f64::from(i), -f64::from(i))).collect();
        assert!((rank_correlation(&down).unwrap() + 1.0).abs() < 1e-9);
        let flat: Vec<(f64, f64)> = (0..10).map(|i| (f64::from(i), 1.0)).collect();
        assert_eq!(rank_correlation(&flat), None);
        assert_eq!(rank_correlation(&up[..3]), None);
    }

    #[test]
    fn step_onset_needs_a_step_and_steady_load() {
        let t0 = DateTime::parse_from_rfc3339("2026-11-22T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let at = |i: i64| t0 + Duration::minutes(i);
        let step: Vec<_> = (0..20)
            .map(|i| (at(i), Some(if i < 10 { 0.0 } else { 0.9 }), Some(1000.0)))
            .collect();
        let s = step_onset(&step, 0.9, 0.001).unwrap();
        assert!(
            step_onset(&step, 0.0005, 0.001).is_none(),
            "noise is no step"
        );
        assert_eq!(s.at, at(10));
        let ramp: Vec<_> = (0..20)
            .map(|i| (at(i), Some(i as f64 * 0.05), Some(1000.0)))
            .collect();
        assert!(step_onset(&ramp, 0.9, 0.001).is_none());
        let load_jump: Vec<_> = (0..20)
            .map(|i| {
                let d = if i < 10 { 1000.0 } else { 3000.0 };
                (at(i), Some(if i < 10 { 0.0 } else { 0.9 }), Some(d))
            })
            .collect();
        assert!(step_onset(&load_jump, 0.9, 0.001).is_none());
    }
}
