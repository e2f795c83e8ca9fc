//! API Gateway rules: an API stage's 5xx explained by its Lambda functions ([`lambda`]) or by
//! its integrations and their backends ([`integration`]).
//!
//! Facts they stand on (AWS documentation): a REST integration times out at 29 s by default
//! (`timeoutInMillis`, 50 ms to 29 s; regional and private APIs may raise it by quota) and
//! answers 504; an HTTP API integration at 30 s at most, and the client sees 503. A Lambda
//! proxy integration answers 502 when the function fails (an exception, its own timeout) or
//! returns something that is not the proxy shape; 500 when Lambda refuses the invocation
//! (throttled, or no permission for this API in the function's resource policy). A function
//! whose timeout is longer than the integration's keeps running after API Gateway gave up.

pub(crate) mod integration;
pub(crate) mod lambda;
#[cfg(test)]
mod tests;

use chrono::{DateTime, Duration, Utc};

use super::catalog::Rule;
use super::signals::{ApiSignals, FnSignals};
use super::{Draft, count};
use crate::evidence::apigw::ApiKind;
use crate::evidence::{ApiEvidence, FunctionEvidence};

pub(crate) use self::integration::{BACKEND_5XX, BACKEND_PASSTHROUGH, INTEGRATION_TIMEOUT};
pub(crate) use self::lambda::{
    LAMBDA_ERRORS, LAMBDA_NOT_ACTIVE, LAMBDA_PERMISSION, LAMBDA_THROTTLED, LAMBDA_TIMEOUT,
    MALFORMED_PROXY_RESPONSE,
};

/// One API stage with its signals.
pub(crate) struct ApiCtx<'a> {
    pub api: &'a ApiEvidence,
    pub s: ApiSignals,
}

impl ApiCtx<'_> {
    /// Whether the API has errors worth explaining over S: some 5xx, above the noise floor of
    /// its requests when those are known.
    pub(crate) fn has_errors(&self) -> bool {
        self.s.errors > 0.0
            && (self.s.requests <= 0.0 || self.s.ratio() >= super::signals::NOISE_RATIO)
    }

    /// `5XXError` or `5xx`, as the API's metrics spell it.
    pub(crate) fn errors_metric(&self) -> &'static str {
        match self.api.kind {
            ApiKind::Rest => "5XXError",
            ApiKind::Http => "5xx",
        }
    }

    /// `1,234 5XXError in 12 min`.
    pub(crate) fn errors_line(&self) -> String {
        format!(
            "API {}: {} {} in {} min{}",
            self.api.label(),
            count(self.s.errors),
            self.errors_metric(),
            self.s.s.minutes(),
            if self.s.requests > 0.0 {
                format!(
                    " ({} of {} requests)",
                    super::pct(self.s.ratio()),
                    count(self.s.requests)
                )
            } else {
                String::new()
            }
        )
    }

    /// The stage's ARN (`arn:aws:apigateway:REGION::/restapis/ID/stages/STAGE`), once the
    /// API's id is known: its resource in findings, and the key that links a front door's
    /// passthrough finding (`cf.origin_passthrough`) to the causes found here.
    pub(crate) fn arn(&self) -> Option<String> {
        let id = self.api.id.as_ref()?;
        Some(format!(
            "arn:aws:apigateway:{}::/{}/{id}/stages/{}",
            self.api.region,
            match self.api.kind {
                ApiKind::Rest => "restapis",
                ApiKind::Http => "apis",
            },
            self.api.stage_name.as_deref().unwrap_or("*")
        ))
    }

    /// A finding of `rule` about this API.
    pub(crate) fn draft(&self, rule: &'static Rule) -> Draft {
        let mut d = rule.draft();
        if let Some(arn) = self.arn() {
            d.alb_arn = Some(arn.clone());
            d.resources.push(arn);
        }
        d
    }

    /// The functions with their signals.
    pub(crate) fn functions(&self) -> impl Iterator<Item = (&FunctionEvidence, &FnSignals)> {
        self.api.functions.iter().zip(&self.s.functions)
    }

    /// The codes this kind of API answers an integration timeout with.
    pub(crate) fn timeout_code(&self) -> u16 {
        match self.api.kind {
            ApiKind::Rest => 504,
            ApiKind::Http => 503,
        }
    }

    /// The onset of the errors, when one was found.
    pub(crate) fn onset(&self) -> Option<DateTime<Utc>> {
        self.s.onset
    }
}

/// A function change at most this long before the onset (or 2 minutes after it, the metric's
/// own lag) counts as "the change that started it".
const CHANGE_BEFORE_ONSET_MINUTES: i64 = 30;

/// Whether `f` was changed (code or configuration) just before the errors started.
pub(crate) fn changed_before_onset(a: &ApiCtx<'_>, f: &FunctionEvidence) -> Option<DateTime<Utc>> {
    let changed = f.config.as_ref()?.last_modified_at()?;
    let onset = a.onset()?;
    (changed >= onset - Duration::minutes(CHANGE_BEFORE_ONSET_MINUTES)
        && changed <= onset + Duration::minutes(2))
    .then_some(changed)
}

/// `12:31`.
pub(crate) fn hhmm(t: DateTime<Utc>) -> String {
    t.format("%H:%M").to_string()
}

/// Seconds of a millisecond value, as people say them.
pub(crate) fn ms_as_secs(ms: f64) -> String {
    super::secs(ms / 1000.0)
}
