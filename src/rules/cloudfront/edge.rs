//! CloudFront causes at the edge: Lambda@Edge, CloudFront Functions, WAF (a guard), and the
//! edge's own capacity.

use super::*;
use crate::evidence::cloudwatch::cf_metric;
use crate::rules::signals::EdgeMetric;

/// Notes on a finding that rests on "no edge-function errors": what each edge-function metric
/// read (a count asked and empty reads as 0, and the line says why), and, when one was not
/// read, that it is missing. A distribution without edge functions gets nothing: nothing was
/// asked about them.
pub(in crate::rules) fn note_no_edge_errors(d: &mut Draft, s: &CfSignals) {
    note_edge(d, s, |_| true);
}

/// What the edge-function metrics `keep` selects read, as evidence lines, and those not
/// read as one missing input of `d`.
fn note_edge(d: &mut Draft, s: &CfSignals, keep: impl Fn(&EdgeMetric) -> bool) {
    for line in s.edge.lines(&keep) {
        d.evidence(line);
    }
    if let Some(unread) = s.edge.unread(&keep) {
        d.missing(unread);
    }
}

pub(in crate::rules) const LAMBDA_EDGE_VALIDATION_ERROR: Rule = Rule {
    id: "cf.lambda_edge_validation_error",
    kind: Kind::Cause,
    base: 0.8,
    codes: &[502],
    sub_cause_of: None,
    cause: "A Lambda@Edge function on the distribution returns a response that CloudFront rejects as invalid, so viewers get 502.",
    needs: "Needs a Lambda@Edge association on some cache behaviour, and `LambdaValidationError` (AWS/CloudFront, `DistributionId`, `Region=Global`, read as under \"Metrics read\") summing above 0 over the window. A dominant 502 rate, or a step onset without load correlation, adds confidence.",
    differs: "The function ran but built a bad response (502). Crashes and throttles are `cf.lambda_edge_execution_or_throttle` (503), and CloudFront Functions belong to `cf.function_error`.",
    detect: Detect::Distribution(lambda_edge_validation_error),
};

fn lambda_edge_validation_error(
    _: &Ctx<'_>,
    cf: &CfCtx<'_>,
    _: &[OriginCtx<'_, '_>],
) -> Vec<Draft> {
    let s = &cf.s;
    let validation = s.edge.sum(None, cf_metric::LAMBDA_VALIDATION_ERROR);
    if validation <= 0.0 {
        return Vec::new();
    }
    let mut d = dist_draft(cf, &LAMBDA_EDGE_VALIDATION_ERROR);
    d.title = format!(
        "A Lambda@Edge function of {} returns invalid responses",
        cf.dist.id
    );
    d.headline = format!(
        "A Lambda@Edge function of CloudFront {} returns responses CloudFront rejects ({} validation errors in {} min).",
        cf.dist.id,
        count(validation),
        s.w.minutes()
    );
    d.evidence(format!(
        "LambdaValidationError: {} in {} min",
        count(validation),
        s.w.minutes()
    ));
    config_pattern(&mut d, s, 502);
    d.step("Roll back the function to its previous version in the cache behaviour, then check the response it builds (status, headers, body size limits).");
    vec![d]
}

pub(in crate::rules) const LAMBDA_EDGE_EXECUTION_OR_THROTTLE: Rule = Rule {
    id: "cf.lambda_edge_execution_or_throttle",
    kind: Kind::Cause,
    base: 0.75,
    codes: &[503],
    sub_cause_of: None,
    cause: "A Lambda@Edge function on the distribution fails while running or is throttled, so CloudFront answers 503.",
    needs: "Needs a Lambda@Edge association, and `LambdaExecutionError` plus `LambdaLimitExceededErrors` (per distribution, `Region=Global`, read as under \"Metrics read\") summing above 0 over the window; one of the two not read lowers confidence. Throttles together with a load-correlated 5xx rate add confidence.",
    differs: "This is a runtime failure, not a malformed response (the validation-error rule, 502). Any edge-function errors suppress `cf.origin_capacity_503` and `guard.cf_edge_capacity`.",
    detect: Detect::Distribution(lambda_edge_execution_or_throttle),
};

fn lambda_edge_execution_or_throttle(
    _: &Ctx<'_>,
    cf: &CfCtx<'_>,
    _: &[OriginCtx<'_, '_>],
) -> Vec<Draft> {
    let s = &cf.s;
    let exec = s.edge.sum(None, cf_metric::LAMBDA_EXECUTION_ERROR);
    let throttled = s.edge.sum(None, cf_metric::LAMBDA_THROTTLES);
    if exec + throttled <= 0.0 {
        return Vec::new();
    }
    let mut d = dist_draft(cf, &LAMBDA_EDGE_EXECUTION_OR_THROTTLE);
    d.title = format!(
        "A Lambda@Edge function of {} fails or is throttled",
        cf.dist.id
    );
    d.headline = format!(
        "A Lambda@Edge function of CloudFront {} fails or is throttled ({} errors, {} throttles in {} min).",
        cf.dist.id,
        count(exec),
        count(throttled),
        s.w.minutes()
    );
    note_edge(&mut d, s, |m| {
        m.function.is_none()
            && [
                cf_metric::LAMBDA_EXECUTION_ERROR,
                cf_metric::LAMBDA_THROTTLES,
            ]
            .contains(&m.name)
    });
    if throttled > 0.0 && s.load_correlated {
        d.corroborate("throttling follows Requests");
    }
    d.step("Read the function's logs in the regions serving the errors (/aws/lambda/us-east-1.NAME) and raise its concurrency if throttled.");
    vec![d]
}

pub(in crate::rules) const FUNCTION_ERROR: Rule = Rule {
    id: "cf.function_error",
    kind: Kind::Cause,
    base: 0.8,
    codes: &[502, 503],
    sub_cause_of: None,
    cause: "A CloudFront Function on the distribution fails validation, errors or is throttled, producing 502/503 at the edge.",
    needs: "For each function in a behaviour's `FunctionAssociations` (named by the last part of its ARN), reads `FunctionValidationErrors`, `FunctionExecutionErrors` and `FunctionThrottles` (dimensions `FunctionName`, `Region=Global`, as under \"Metrics read\"), sums them over the window, and fires when the total is above 0; one of them not read lowers confidence.",
    differs: "This covers CloudFront Functions, not Lambda@Edge (the `cf.lambda_edge_*` rules). Its errors also exclude `cf.origin_capacity_503` and `guard.cf_edge_capacity`, so the origin is not blamed.",
    detect: Detect::Distribution(function_error),
};

fn function_error(_: &Ctx<'_>, cf: &CfCtx<'_>, _: &[OriginCtx<'_, '_>]) -> Vec<Draft> {
    let s = &cf.s;
    let Some(cfg) = cf.dist.config.as_ref() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for f in cfg.function_names() {
        let errors: f64 = cf_metric::FUNCTION_ERRORS
            .iter()
            .map(|n| s.edge.sum(Some(f), n))
            .sum();
        if errors > 0.0 {
            let mut d = FUNCTION_ERROR.draft();
            d.resources.push(format!("cloudfront:function/{f}"));
            d.title = format!("CloudFront Function {f} fails");
            d.headline = format!(
                "CloudFront Function {f} on {} fails ({} validation, execution or throttle errors in {} min).",
                cf.dist.id,
                count(errors),
                s.w.minutes()
            );
            note_edge(&mut d, s, |m| m.function.as_deref() == Some(f));
            d.step(format!(
                "Test {f} in the CloudFront console with a failing request, and roll back to the previous LIVE version."
            ));
            out.push(d);
        }
    }
    out
}

pub(in crate::rules) const WAF_NOT_5XX: Rule = Rule {
    id: "guard.waf_not_5xx",
    kind: Kind::Warning,
    base: 0.5,
    codes: &[],
    sub_cause_of: None,
    cause: "A WAF web ACL is attached, but WAF blocks return 403, so WAF is not why the distribution is serving 5xx.",
    needs: "A warning with base 0.5 that fires when the distribution's `WebACLId` is non-empty and its mean `5xxErrorRate` over the window is above 0, or when its errors are mostly 4xx (`4xxErrorRate` at least half of `TotalErrorRate`): then it says the errors are 4xx and that WAF blocks answer 403. WAF rule actions and custom responses are not read.",
    differs: "It clears WAF for an engineer who would suspect it, and never outranks a cause. WAF is implicated only through `alb.lb_generated_500` (ELB 500s from WAF evaluation), or when a WAF custom response returns a 5xx code.",
    detect: Detect::Distribution(waf_not_5xx),
};

/// `guard.waf_not_5xx`: a web ACL is attached, so a person may suspect WAF; WAF blocks with
/// 403 unless a custom response says otherwise.
fn waf_not_5xx(_: &Ctx<'_>, cf: &CfCtx<'_>, _: &[OriginCtx<'_, '_>]) -> Vec<Draft> {
    waf_guard(cf).into_iter().collect()
}

fn waf_guard(cf: &CfCtx<'_>) -> Option<Draft> {
    // GetDistributionConfig answers `"WebACLId": ""` when no web ACL is attached.
    let acl = cf
        .dist
        .config
        .as_ref()?
        .web_acl_id
        .as_deref()
        .filter(|a| !a.is_empty())?;
    let four_xx = cf.s.mostly_4xx();
    if cf.s.rate_5xx.unwrap_or(0.0) <= 0.0 && !four_xx {
        return None;
    }
    let mut d = WAF_NOT_5XX.draft();
    d.resources.push(acl.to_owned());
    if four_xx {
        // The alarm counts all errors and they are 4xx: WAF blocks are one of the places
        // 403s come from, so this guard says where to look instead of clearing WAF.
        d.title = format!("The errors of {} are 4xx, not 5xx", cf.dist.id);
        d.headline = format!(
            "The errors of CloudFront {} are 4xx ({}), not 5xx: a web ACL is attached, and WAF blocks answer 403.",
            cf.dist.id,
            four_xx_numbers(&cf.s)
        );
        d.evidence(four_xx_numbers(&cf.s));
        d.evidence(format!(
            "web ACL {} is attached to {}: its blocks answer 403",
            crate::error::short(acl),
            cf.dist.id
        ));
        d.step("Look at the web ACL's sampled requests and its BlockedRequests metric (AWS/WAFV2, by rule) for the alarm window: a new rule or a managed rule group update blocking real users shows there.");
        d.step("Compare with the 403s in CloudFront's standard logs (sc-status 403, x-edge-result-type Error): blocks by WAF carry the web ACL's response, origin denials the origin's.");
    } else {
        d.title = "WAF is not why CloudFront answers 5xx".into();
        d.headline = d.title.clone();
        d.evidence(format!(
            "web ACL {} is attached to {}; WAF blocks answer 403 unless a custom response returns a 5xx code",
            crate::error::short(acl),
            cf.dist.id
        ));
        d.step("Only if a WAF rule uses a custom response with a 5xx status code could WAF explain these errors; check the rule actions before looking there.");
    }
    Some(d)
}

/// `4xxErrorRate 4.2% of requests against 5xxErrorRate 0.0% over 5 min`.
fn four_xx_numbers(s: &crate::rules::signals::CfSignals) -> String {
    format!(
        "4xxErrorRate {} of requests against 5xxErrorRate {} over {} min",
        pct(s.rate_4xx.unwrap_or(0.0) / 100.0),
        s.rate_5xx
            .map_or_else(|| "not read".to_owned(), |r| pct(r / 100.0)),
        s.w.minutes()
    )
}

/// For an alarm whose errors are 4xx (a `TotalErrorRate` alarm, say): what the errors are and
/// which guard applies, for the verdict's summary when no cause explains them. `None` when
/// no distribution's errors are mostly 4xx.
pub(crate) fn four_xx_note(ctx: &Ctx<'_>) -> Option<String> {
    let cf = ctx.cfs.iter().find(|c| c.s.mostly_4xx())?;
    let mut note = format!(
        "the errors of CloudFront {} are 4xx, not 5xx ({})",
        cf.dist.id,
        four_xx_numbers(&cf.s)
    );
    let cfg = cf.dist.config.as_ref();
    if cfg
        .and_then(|c| c.web_acl_id.as_deref())
        .is_some_and(|a| !a.is_empty())
    {
        note.push_str("; a web ACL is attached and WAF blocks answer 403 (guard.waf_not_5xx)");
    }
    let buckets: Vec<String> = cfg
        .map(|c| {
            c.origins
                .items
                .iter()
                .filter(|o| o.custom_origin_config.is_none())
                .filter_map(|o| crate::names::s3_bucket(&o.domain_name))
                .collect()
        })
        .unwrap_or_default();
    if !buckets.is_empty() {
        note.push_str(&format!(
            "; the S3 origin {} answers 403 when its bucket policy or the origin access control denies CloudFront, and for a missing object when CloudFront may not list the bucket",
            buckets.join(", ")
        ));
    }
    if !note.contains(';') {
        note.push_str(
            "; 4xx are answers to the clients' requests (401, 403, 404, 429): see sc-status in CloudFront's standard logs",
        );
    }
    Some(note)
}

pub(in crate::rules) const EDGE_CAPACITY: Rule = Rule {
    id: "guard.cf_edge_capacity",
    kind: Kind::Cause,
    base: 0.3,
    codes: &[503],
    sub_cause_of: None,
    cause: "CloudFront is answering 503 while its origins are clean, which may be a rare capacity constraint at the edge.",
    needs: "Needs `503ErrorRate` dominant without load correlation, no Lambda@Edge or CloudFront Functions errors in the metrics read for the distribution's edge functions (an edge metric not read lowers confidence and is named), and every custom origin linked to an ALB with no ELB or target 5xx in the window. It stays at 0.3, below the reporting bar.",
    differs: "It is what remains after `cf.origin_capacity_503` (load-correlated, origin erroring) and the edge-function rules are ruled out. Below the bar it can only appear as a candidate in an inconclusive verdict, pointing to AWS Support.",
    detect: Detect::Distribution(edge_capacity_rule),
};

/// `guard.cf_edge_capacity`: CloudFront 503 with no origin, function or load explanation.
fn edge_capacity_rule(_: &Ctx<'_>, cf: &CfCtx<'_>, os: &[OriginCtx<'_, '_>]) -> Vec<Draft> {
    edge_capacity(cf, os).into_iter().collect()
}

fn edge_capacity(cf: &CfCtx<'_>, os: &[OriginCtx<'_, '_>]) -> Option<Draft> {
    let s = &cf.s;
    if s.dominant() != Some(503) || s.load_correlated || s.edge_errors > 0.0 {
        return None;
    }
    let origins_clean = !os.is_empty()
        && os
            .iter()
            .all(|o| o.alb.is_some_and(|a| a.s.elb_5xx + a.s.target_5xx <= 0.0));
    if !origins_clean {
        return None;
    }
    let mut d = dist_draft(cf, &EDGE_CAPACITY);
    d.title = format!(
        "CloudFront {} answers 503 with a healthy origin",
        cf.dist.id
    );
    d.headline = format!(
        "CloudFront {} answers 503 ({} of requests) while its origins answer no 5xx: possibly a rare edge capacity constraint.",
        cf.dist.id,
        pct(s.rate_503.unwrap_or(0.0) / 100.0)
    );
    d.evidence(rate_line(s, "503", s.rate_503));
    d.evidence("origin load balancers: no ELB or target 5xx; no load anomaly");
    note_no_edge_errors(&mut d, s);
    d.step("Open an AWS Support case with the distribution id and the time range; collect x-amz-cf-id values of failing requests from the standard logs.");
    Some(d)
}
