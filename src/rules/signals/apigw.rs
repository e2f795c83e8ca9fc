//! Signals of one API Gateway stage and the functions it integrates.
//!
//! The API's 5xx are read over S, from the onset of the current run of errors (the first
//! minute at or above 10% of the plateau, scanning back from the state change) to the state
//! change; absence tests on a function ("no invocations") are read over S too, not over the
//! whole alarm window, which may start before the errors did.

use chrono::{DateTime, Duration, Utc};

use super::{Span, View, rank_correlation, windows};
use crate::alarm::Alarm;
use crate::evidence::apigw::ApiKind;
use crate::evidence::cloudwatch::{Metrics, apigw_metric, lambda_metric};
use crate::evidence::{ApiEvidence, Evidence, FunctionEvidence};
use crate::scope::{APIGW_NAMESPACE, LAMBDA_NAMESPACE};

/// The onset is the first minute at or above this share of the plateau (the highest minute
/// in the alarm window).
const ONSET_SHARE: f64 = 0.1;
/// How far back the onset is looked for from the state change.
const ONSET_LOOKBACK_MINUTES: i64 = 60;

#[derive(Debug, Clone)]
pub(crate) struct ApiSignals {
    pub w: Span,
    pub b: Span,
    /// From the onset of the errors to the state change (W when no onset is found).
    pub s: Span,
    /// The first minute of the current run of errors, when there are errors.
    pub onset: Option<DateTime<Utc>>,
    /// The API's 5xx over S.
    pub errors: f64,
    /// Requests over S.
    pub requests: f64,
    pub integration_latency_max: Option<f64>,
    pub functions: Vec<FnSignals>,
}

/// One integrated function over S.
#[derive(Debug, Clone, Default)]
pub(crate) struct FnSignals {
    /// Whether Lambda's metrics for it were read.
    pub read: bool,
    pub invocations: f64,
    pub errors: f64,
    pub throttles: f64,
    /// Duration Maximum over S (ms).
    pub duration_max: Option<f64>,
    pub concurrent_max: Option<f64>,
    /// Rank correlation of throttles with the API's requests per minute (W and B).
    pub throttle_load_corr: Option<f64>,
}

impl ApiSignals {
    /// 5xx per request over S.
    pub(crate) fn ratio(&self) -> f64 {
        super::share(self.errors, self.requests)
    }
}

/// The API's own series of `name`/`stat`.
pub(crate) fn api_view<'a>(m: &'a Metrics, api: &ApiEvidence, name: &str, stat: &str) -> View<'a> {
    let id_dim = match api.kind {
        ApiKind::Rest => "ApiName",
        ApiKind::Http => "ApiId",
    };
    let mut dims = vec![(id_dim, api.key.as_str())];
    if let Some(s) = &api.stage_name {
        dims.push(("Stage", s.as_str()));
    }
    View {
        series: m.find(APIGW_NAMESPACE, name, &dims, stat),
    }
}

/// A function's series of `name`/`stat`: its alias's or version's own (`Resource`) when the
/// integration names one and that series was read, else the function's.
pub(crate) fn fn_view<'a>(
    m: &'a Metrics,
    f: &FunctionEvidence,
    name: &str,
    stat: &str,
) -> View<'a> {
    let bare = f.bare_name();
    if f.qualifier().is_some()
        && let Some(s) = m.find(
            LAMBDA_NAMESPACE,
            name,
            &[("FunctionName", bare), ("Resource", &f.name)],
            stat,
        )
        && !s.is_empty()
    {
        return View { series: Some(s) };
    }
    View {
        series: m.find(LAMBDA_NAMESPACE, name, &[("FunctionName", bare)], stat),
    }
}

/// The API's 5xx series: `5XXError` for a REST API; `5xx` for an HTTP API, or `5XXError`
/// when only that spelling has data (older documentation used it for HTTP APIs too).
pub(crate) fn errors_view<'a>(m: &'a Metrics, api: &ApiEvidence) -> View<'a> {
    match api.kind {
        ApiKind::Rest => api_view(m, api, apigw_metric::REST_5XX, "Sum"),
        ApiKind::Http => {
            let v = api_view(m, api, apigw_metric::HTTP_5XX, "Sum");
            let legacy = api_view(m, api, apigw_metric::REST_5XX, "Sum");
            if v.series.is_none_or(|s| s.is_empty()) && legacy.series.is_some_and(|s| !s.is_empty())
            {
                legacy
            } else {
                v
            }
        }
    }
}

pub(crate) fn api_signals(alarm: &Alarm, e: &Evidence, api: &ApiEvidence) -> ApiSignals {
    let (w, b) = windows(alarm, e);
    let m = &e.metrics;
    let e5 = errors_view(m, api);
    let count = api_view(m, api, apigw_metric::COUNT, "Sum");
    let plateau = w
        .each_minute()
        .filter_map(|t| e5.at(t))
        .fold(0.0_f64, f64::max);
    let mut onset = None;
    if plateau > 0.0 {
        let mut t = w.end - Duration::minutes(1);
        let earliest = w.end - Duration::minutes(ONSET_LOOKBACK_MINUTES);
        while t >= earliest && e5.at(t).unwrap_or(0.0) >= ONSET_SHARE * plateau {
            onset = Some(t);
            t -= Duration::minutes(1);
        }
    }
    let s = match onset {
        Some(start) if start < w.end => Span { start, end: w.end },
        _ => w,
    };
    let corr_span = Span {
        start: b.start,
        end: w.end,
    };
    let functions = api
        .functions
        .iter()
        .map(|f| fn_signals(m, f, s, corr_span, &count))
        .collect();
    ApiSignals {
        w,
        b,
        s,
        onset,
        errors: e5.sum(s),
        requests: count.sum(s),
        integration_latency_max: api_view(m, api, apigw_metric::INTEGRATION_LATENCY, "Maximum")
            .max(s),
        functions,
    }
}

fn fn_signals(
    m: &Metrics,
    f: &FunctionEvidence,
    s: Span,
    corr_span: Span,
    count: &View<'_>,
) -> FnSignals {
    let v = |name: &str, stat: &str| fn_view(m, f, name, stat);
    let invocations = v(lambda_metric::INVOCATIONS, "Sum");
    let throttles = v(lambda_metric::THROTTLES, "Sum");
    let pairs: Vec<(f64, f64)> = corr_span
        .each_minute()
        .filter_map(|t: DateTime<Utc>| Some((count.at(t)?, throttles.at(t).unwrap_or(0.0))))
        .collect();
    FnSignals {
        read: invocations.series.is_some(),
        invocations: invocations.sum(s),
        errors: v(lambda_metric::ERRORS, "Sum").sum(s),
        throttles: throttles.sum(s),
        duration_max: v(lambda_metric::DURATION, "Maximum").max(s),
        concurrent_max: v(lambda_metric::CONCURRENT, "Maximum").max(s),
        throttle_load_corr: rank_correlation(&pairs),
    }
}
