//! Rules: the cause catalogue (`docs/rules.md`, generated from the registry) as pure functions of the evidence.
//!
//! Each rule reads [`Ctx`] (the alarm, the evidence, the derived signals) and returns at most
//! a few [`Draft`] findings; [`rank`] orders them, applies the catalogue's precedence (sub-causes
//! above `alb.all_targets_unhealthy`, the ALB answer above `cf.origin_passthrough`, warnings
//! never above a cause) and decides the status. No rule does I/O or reads a clock: the triage
//! time is `evidence.now`.
//!
//! Confidence: start at the rule's base, +0.1 per independent corroborating
//! signal (at most 0.95), -0.15 when a competing rule fits the same evidence as well, -0.2
//! when a key input is missing (and say which).

pub(crate) mod alb;
pub(crate) mod apigw;
pub(crate) mod aws_defaults;
pub mod catalog;
pub mod cert;
pub(crate) mod clb;
pub(crate) mod cloudfront;
pub(crate) mod fix;
pub(crate) mod nlb;
pub(crate) mod rank;
pub(crate) mod ruled_out;
pub(crate) mod signals;
pub(crate) mod tls;

#[cfg(test)]
pub(crate) mod testkit;

use crate::alarm::Alarm;
use crate::evidence::{AlbEvidence, Evidence};
use crate::verdict::{Finding, Status, clamp_confidence};

use self::catalog::Rule;
use self::signals::{AlbSignals, CfSignals};

/// What a finding is, for ranking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A cause of the current errors.
    Cause,
    /// Links a CloudFront alarm to the origin's answer (`cf.origin_passthrough`).
    Link,
    /// Worth knowing, never the answer (`cert.renewal_risk`, `guard.waf_not_5xx`).
    Warning,
    /// Raises other causes, never the answer on its own (`alb.connection_limit`).
    Supporting,
}

impl Kind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Kind::Cause => "cause",
            Kind::Link => "link",
            Kind::Warning => "warning",
            Kind::Supporting => "supporting",
        }
    }
}

/// What one independent signal pointing the same way adds: the same step for every rule,
/// so the number of corroborations, not their wording, moves a finding.
pub(crate) const CORROBORATION: f64 = 0.1;
/// What a key input that could not be read takes away: a finding resting on less evidence
/// says so in its number (and names the input).
pub(crate) const MISSING_INPUT: f64 = 0.2;
/// What a finding loses when another cause fits the same evidence as well.
pub(crate) const COMPETING: f64 = 0.15;

/// A front door passes on the errors of what stands behind it (a CloudFront origin, an API
/// Gateway integration's load balancer) when those are at least this share of the front
/// door's 5xx: stray backend errors that happen to correlate are not the answer.
pub(crate) const PASSTHROUGH_SHARE: f64 = 0.3;

/// A finding being built.
#[derive(Debug, Clone)]
pub(crate) struct Draft {
    pub rule: &'static str,
    pub kind: Kind,
    pub confidence: f64,
    pub codes: Vec<u16>,
    pub title: String,
    /// One sentence for the verdict's summary when this finding is the answer.
    pub headline: String,
    pub evidence: Vec<String>,
    pub next_steps: Vec<String>,
    pub resources: Vec<String>,
    /// The load balancer this finding is about, for linking and ranking.
    pub alb_arn: Option<String>,
    /// Missing inputs that lowered the confidence.
    pub missing: Vec<String>,
}

impl Draft {
    /// A finding of `rule` at its base confidence.
    pub(crate) fn new(rule: &'static Rule) -> Self {
        Self {
            rule: rule.id,
            kind: rule.kind,
            confidence: rule.base,
            codes: rule.codes.to_vec(),
            title: String::new(),
            headline: String::new(),
            evidence: Vec::new(),
            next_steps: Vec::new(),
            resources: Vec::new(),
            alb_arn: None,
            missing: Vec::new(),
        }
    }

    /// An independent corroborating signal: +0.1 and its evidence line.
    pub(crate) fn corroborate(&mut self, line: impl Into<String>) {
        self.confidence += CORROBORATION;
        self.evidence.push(line.into());
    }

    /// A key input is missing: -0.2, named.
    pub(crate) fn missing(&mut self, what: impl Into<String>) {
        let what = what.into();
        self.confidence -= MISSING_INPUT;
        self.evidence.push(format!("missing: {what}"));
        self.missing.push(what);
    }

    /// A competing rule fits as well: -0.15.
    pub(crate) fn competes(&mut self, other: &str) {
        self.confidence -= COMPETING;
        self.evidence.push(format!(
            "{other} fits the same evidence: confidence lowered"
        ));
    }

    pub(crate) fn evidence(&mut self, line: impl Into<String>) {
        self.evidence.push(line.into());
    }

    pub(crate) fn step(&mut self, line: impl Into<String>) {
        self.next_steps.push(line.into());
    }

    pub(crate) fn finish(self) -> Finding {
        Finding {
            rule: self.rule.to_owned(),
            confidence: clamp_confidence(self.confidence),
            codes: self.codes,
            title: self.title,
            evidence: self.evidence,
            next_steps: self.next_steps,
            resources: self.resources,
        }
    }
}

/// One load balancer with its signals.
pub(crate) struct AlbCtx<'a> {
    pub alb: &'a AlbEvidence,
    pub s: AlbSignals,
    /// A Network Load Balancer's own signals (`None` for an ALB).
    pub nlb: Option<signals::NlbSignals>,
}

/// One distribution with its signals.
pub(crate) struct CfCtx<'a> {
    pub dist: &'a crate::evidence::DistributionEvidence,
    pub s: CfSignals,
}

/// What every rule reads.
pub(crate) struct Ctx<'a> {
    pub alarm: &'a Alarm,
    pub e: &'a Evidence,
    pub albs: Vec<AlbCtx<'a>>,
    pub cfs: Vec<CfCtx<'a>>,
    pub apis: Vec<apigw::ApiCtx<'a>>,
    pub classic: Vec<clb::ClbCtx<'a>>,
}

impl<'a> Ctx<'a> {
    pub(crate) fn new(alarm: &'a Alarm, e: &'a Evidence) -> Self {
        Self {
            alarm,
            e,
            albs: e
                .albs
                .iter()
                .map(|alb| AlbCtx {
                    alb,
                    s: signals::alb_signals(alarm, e, alb),
                    nlb: alb
                        .is_network()
                        .then(|| signals::nlb_signals(alarm, e, alb)),
                })
                .collect(),
            cfs: e
                .distributions
                .iter()
                .map(|dist| CfCtx {
                    dist,
                    s: signals::cf_signals(alarm, e, dist),
                })
                .collect(),
            apis: e
                .apis
                .iter()
                .map(|api| apigw::ApiCtx {
                    api,
                    s: signals::api_signals(alarm, e, api),
                })
                .collect(),
            classic: e
                .classic
                .iter()
                .map(|c| clb::ClbCtx {
                    clb: c,
                    s: signals::clb_signals(alarm, e, c),
                })
                .collect(),
        }
    }

    pub(crate) fn alb(&self, arn: &str) -> Option<&AlbCtx<'a>> {
        self.albs.iter().find(|a| a.alb.arn == arn)
    }
}

/// The rules' answer.
pub(crate) struct Outcome {
    pub status: Status,
    pub summary: String,
    pub findings: Vec<Finding>,
    /// The rules checked and excluded, most suspected first (`ruled_out`).
    pub ruled_out: Vec<crate::verdict::RuledOut>,
}

/// Runs every rule and ranks the findings.
pub(crate) fn evaluate(alarm: &Alarm, e: &Evidence) -> Outcome {
    let ctx = Ctx::new(alarm, e);
    let drafts = catalog::detect(&ctx);
    let ruled_out = ruled_out::ruled_out(&ctx, &drafts);
    let mut outcome = rank::rank(&ctx, drafts);
    outcome.ruled_out = ruled_out;
    outcome
}

/// What to do about a source that could not be read, following its error code: access denied
/// names the IAM action to grant; throttling says to retry later (AWS limited the request
/// rate, no permission is missing); not found says the resource is gone or misnamed; a
/// timeout says the call did not finish in time. `source` is the gap's `service:Operation`.
pub(crate) fn remedy(source: &str, code: &str) -> String {
    let c = code.to_ascii_lowercase();
    if c.contains("accessdenied")
        || c.contains("unauthorized")
        || c.contains("authorizationerror")
        || c.contains("forbidden")
    {
        // The IAM action that allows the operation (every API Gateway read is apigateway:GET).
        let action = crate::evidence::port::Op::named_by(source)
            .first()
            .map_or(source, |op| op.iam_action());
        format!("grant `{action}` to the function's role")
    } else if c.contains("throttl")
        || c.contains("toomanyrequests")
        || c.contains("requestlimitexceeded")
        || c.contains("slowdown")
        || c.contains("ratelimit")
    {
        "AWS throttled the read (its API request rate, not a permission): retry in a minute".into()
    } else if c.ends_with("notfound") || c.ends_with("notfoundexception") || c.starts_with("nosuch")
    {
        "the resource is gone or its name is wrong: check it still exists".into()
    } else if c.contains("deadline") || c.contains("timeout") || c.contains("dispatch") {
        "the call did not finish in time: retry, or allow a longer deadline".into()
    } else {
        "retry; if it fails again, look up the error code".into()
    }
}

/// The evidence line for errors that follow load, stating the number that shows it: the rank
/// correlation when it reaches [`signals::CORRELATED`], else the error level in the busiest
/// third of minutes against the quietest (errors only at peaks correlate weakly over all
/// minutes). `None` when neither supports it: then nothing is written.
pub(crate) fn load_evidence(
    subject: &str,
    corr: Option<f64>,
    quiet: Option<f64>,
    busy: Option<f64>,
    level: fn(f64) -> String,
) -> Option<String> {
    match corr {
        Some(c) if c >= signals::CORRELATED => Some(format!(
            "{subject} rises with load (rank correlation {c:.2})"
        )),
        _ => match (quiet, busy) {
            (Some(q), Some(b)) if b > q => Some(format!(
                "{subject} is highest in the busiest minutes: {} there, {} in the quietest",
                level(b),
                level(q)
            )),
            _ => None,
        },
    }
}

/// A CloudFront rate (a percentage) as people say it.
pub(crate) fn rate_pct(v: f64) -> String {
    pct(v / 100.0)
}

/// What a number that is not one reads as. Metric values are checked where they are read
/// (`untrusted::metric_value`), so this is a last guard, not a path.
const NOT_A_NUMBER: &str = "an unreadable number";

/// `12,345` for counts.
pub(crate) fn count(v: f64) -> String {
    if !v.is_finite() || v.abs() >= 1e15 {
        return NOT_A_NUMBER.into();
    }
    let n = v.round() as i64;
    let s = n.abs().to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// `1.1%` for shares in 0..=1.
pub(crate) fn pct(share: f64) -> String {
    if !share.is_finite() || share.abs() >= 1e7 {
        return NOT_A_NUMBER.into();
    }
    // `+ 0.0` turns a negative zero (a share of nothing) into zero: never "-0%".
    let p = share * 100.0 + 0.0;
    if p >= 10.0 || p == 0.0 {
        format!("{p:.0}%")
    } else {
        format!("{p:.1}%")
    }
}

/// `12.5 s` for seconds.
pub(crate) fn secs(v: f64) -> String {
    if !v.is_finite() {
        return NOT_A_NUMBER.into();
    }
    if v >= 10.0 {
        format!("{v:.0} s")
    } else {
        format!("{v:.1} s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Defect (issue 18): "the error ratio rises with load (rank correlation 0.21)": the words
    /// must carry a number that supports them, or not be written.
    #[test]
    fn load_words_carry_a_supporting_number() {
        let strong = load_evidence("the error ratio", Some(0.82), Some(0.01), Some(0.05), pct);
        assert_eq!(
            strong.as_deref(),
            Some("the error ratio rises with load (rank correlation 0.82)")
        );
        let peaks = load_evidence("the error ratio", Some(0.21), Some(0.01), Some(0.05), pct)
            .unwrap_or_default();
        assert!(!peaks.contains("rank correlation"), "{peaks}");
        assert!(
            peaks.contains("5.0% there, 1.0% in the quietest"),
            "{peaks}"
        );
        assert_eq!(
            load_evidence("x", Some(0.2), Some(0.05), Some(0.01), pct),
            None
        );
        assert_eq!(load_evidence("x", None, None, None, pct), None);
    }

    /// Defect (issue 18): a throttled read suggested "grant read access".
    #[test]
    fn remedies_follow_the_error_code() {
        let denied = remedy("elasticloadbalancing:DescribeTargetHealth", "AccessDenied");
        assert!(
            denied.contains("`elasticloadbalancing:DescribeTargetHealth`"),
            "{denied}"
        );
        assert!(
            remedy("apigateway:GetResources", "AccessDeniedException").contains("`apigateway:GET`")
        );
        for code in [
            "Throttling",
            "ThrottlingException",
            "TooManyRequestsException",
        ] {
            let r = remedy("elasticloadbalancing:DescribeTargetHealth", code);
            assert!(r.contains("retry") && !r.contains("grant"), "{code}: {r}");
        }
        assert!(remedy("acm:DescribeCertificate", "ResourceNotFoundException").contains("gone"));
        assert!(remedy("cloudwatch:GetMetricData", "DeadlineExceeded").contains("in time"));
        assert!(!remedy("x:Y", "InternalFailure").contains("grant"));
    }

    #[test]
    fn numbers_read_like_a_person_writes_them() {
        assert_eq!(count(10444.3), "10,444");
        assert_eq!(count(999.0), "999");
        assert_eq!(count(1_000_000.0), "1,000,000");
        assert_eq!(pct(0.011), "1.1%");
        assert_eq!(pct(0.93), "93%");
        assert_eq!(pct(-0.0), "0%");
        assert_eq!(secs(59.88), "60 s");
        assert_eq!(secs(0.4), "0.4 s");
    }

    #[test]
    fn numbers_in_words_are_never_nan_inf_or_saturated() {
        for v in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 1e300] {
            for words in [count(v), pct(v), secs(v)] {
                assert!(!words.contains("NaN") && !words.contains("inf"), "{words}");
                assert!(!words.contains("9,223,372,036,854,775,807"), "{words}");
            }
        }
    }
}
