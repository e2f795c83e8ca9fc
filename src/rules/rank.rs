//! Ranking: the catalogue's precedence between findings, the reporting bar, the status and
//! the one-sentence summary.

use super::{Ctx, Draft, Kind, Outcome};
use crate::verdict::{REPORTING_BAR, Status};

/// Rules that name the sub-cause of `alb.all_targets_unhealthy` when they fire on their own
/// evidence.
const SUB_CAUSES: [&str; 7] = [
    "alb.target_unreachable",
    "alb.target_connection_refused",
    "alb.target_overloaded",
    "alb.target_response_timeout",
    "alb.target_tls_handshake",
    "alb.lambda_target_error",
    "alb.target_app_5xx",
];

/// Catalogue order: breaks ties between equal confidences, most specific first.
const ORDER: [&str; 30] = [
    "cf.origin_cert_expired",
    "cf.origin_cert_hostname_mismatch",
    "cf.origin_tls_protocol_mismatch",
    "cf.origin_port_mismatch",
    "cf.origin_dns_failure",
    "cf.origin_blocked_or_private",
    "cf.lambda_edge_validation_error",
    "cf.lambda_edge_execution_or_throttle",
    "cf.function_error",
    "alb.no_registered_targets",
    "alb.target_tls_handshake",
    "alb.target_unreachable",
    "alb.lambda_target_error",
    "alb.target_response_timeout",
    "alb.target_connection_refused",
    "alb.target_app_5xx",
    "alb.deregistration_inflight",
    "alb.target_overloaded",
    "alb.lb_generated_500",
    "alb.no_routable_targets",
    "alb.keepalive_shorter_than_idle",
    "alb.malformed_target_response",
    "alb.all_targets_unhealthy",
    "cf.origin_read_timeout",
    "cf.origin_capacity_503",
    "cf.origin_passthrough",
    "guard.cf_edge_capacity",
    "cert.renewal_risk",
    "guard.waf_not_5xx",
    "alb.connection_limit",
];

fn order(rule: &str) -> usize {
    ORDER.iter().position(|r| *r == rule).unwrap_or(ORDER.len())
}

fn is_cause(d: &Draft) -> bool {
    matches!(d.kind, Kind::Cause | Kind::Link)
}

/// Applies the precedence rules and decides the status.
pub fn rank(ctx: &Ctx<'_>, mut drafts: Vec<Draft>) -> Outcome {
    for d in &mut drafts {
        d.confidence = d.confidence.min(0.95);
    }
    // A sub-cause that fires on its own evidence is the answer; the unhealthy state is its
    // evidence.
    let subs: Vec<(Option<String>, &'static str, f64)> = drafts
        .iter()
        .filter(|d| SUB_CAUSES.contains(&d.rule) && d.confidence >= REPORTING_BAR)
        .map(|d| (d.alb_arn.clone(), d.rule, d.confidence))
        .collect();
    for d in drafts
        .iter_mut()
        .filter(|d| d.rule == "alb.all_targets_unhealthy")
    {
        if let Some((_, rule, c)) = subs
            .iter()
            .filter(|(arn, _, _)| *arn == d.alb_arn)
            .max_by(|a, b| a.2.total_cmp(&b.2))
        {
            d.confidence = d.confidence.min(c - 0.1).max(REPORTING_BAR);
            d.evidence
                .push(format!("the unhealthy state is explained by {rule}"));
        }
    }
    // cf.origin_passthrough stands beside the ALB rule that explains the origin's errors.
    // Any cause about the same origin load balancer (an ALB rule, or a CloudFront rule such as
    // cf.origin_capacity_503 that explains the origin's errors) is the answer beside the link.
    let alb_best: Vec<(Option<String>, &'static str, f64)> = drafts
        .iter()
        .filter(|d| d.kind == Kind::Cause && d.alb_arn.is_some() && d.confidence >= REPORTING_BAR)
        .map(|d| (d.alb_arn.clone(), d.rule, d.confidence))
        .collect();
    for d in drafts.iter_mut().filter(|d| d.kind == Kind::Link) {
        if let Some((_, rule, c)) = alb_best
            .iter()
            .filter(|(arn, _, _)| *arn == d.alb_arn)
            .max_by(|a, b| a.2.total_cmp(&b.2))
        {
            d.confidence = d.confidence.min(c - 0.05);
            d.evidence
                .push(format!("the origin's errors are explained by {rule}"));
        }
    }
    // On a CloudFront alarm, an origin ALB cause that explains other codes than CloudFront's
    // errors, with no passthrough linking the two, is a side issue of the origin.
    let linked: Vec<Option<String>> = drafts
        .iter()
        .filter(|d| d.kind == Kind::Link)
        .map(|d| d.alb_arn.clone())
        .collect();
    let cf_codes: Vec<u16> = ctx.cfs.iter().filter_map(|c| c.s.dominant()).collect();
    if !cf_codes.is_empty() {
        for d in drafts.iter_mut().filter(|d| {
            d.kind == Kind::Cause
                && d.rule.starts_with("alb.")
                && !linked.contains(&d.alb_arn)
                && !d.codes.iter().any(|c| cf_codes.contains(c))
        }) {
            d.confidence -= 0.15;
            d.evidence.push(format!(
                "CloudFront's errors are mostly {}, which this does not explain",
                cf_codes
                    .iter()
                    .map(u16::to_string)
                    .collect::<Vec<_>>()
                    .join("/")
            ));
        }
    }
    // Warnings stand beside the answer, never above a cause.
    let best_cause = drafts
        .iter()
        .filter(|d| is_cause(d) && d.confidence >= REPORTING_BAR)
        .map(|d| d.confidence)
        .fold(None, |acc: Option<f64>, c| {
            Some(acc.map_or(c, |a| a.max(c)))
        });
    if let Some(best) = best_cause {
        for d in drafts
            .iter_mut()
            .filter(|d| matches!(d.kind, Kind::Warning | Kind::Supporting))
        {
            d.confidence = d.confidence.min(best - 0.05);
        }
    }
    // Compare the confidences as reported (two decimals), so that 0.6 + 0.1 + 0.1 ties with
    // 0.8 and the catalogue order decides.
    for d in &mut drafts {
        d.confidence = super::clamp_confidence(d.confidence);
    }
    drafts.sort_by(|a, b| {
        b.confidence
            .total_cmp(&a.confidence)
            .then(order(a.rule).cmp(&order(b.rule)))
    });
    let diagnosed = drafts
        .first()
        .is_some_and(|d| is_cause(d) && d.confidence >= REPORTING_BAR);
    let name = crate::error::short(&ctx.alarm.name);
    if diagnosed {
        let summary = drafts
            .first()
            .map(|d| d.headline.clone())
            .unwrap_or_default();
        let findings = drafts
            .into_iter()
            .filter(|d| d.confidence >= REPORTING_BAR)
            .map(Draft::finish)
            .collect();
        return Outcome {
            status: Status::Diagnosed,
            summary,
            findings,
        };
    }
    // Inconclusive: say what was considered and what evidence would decide it.
    let mut summary = format!("No cause reaches the reporting bar for `{name}`");
    let mut unread: Vec<String> = Vec::new();
    for g in &ctx.e.gaps {
        let code = g.reason.split(':').next().unwrap_or_default();
        let item = format!("{} ({code})", g.source);
        if !unread.contains(&item) {
            unread.push(item);
        }
    }
    if let Some(d) = drafts.iter().find(|d| is_cause(d)) {
        summary.push_str(&format!(
            "; best candidate {} ({:.2})",
            d.rule,
            super::clamp_confidence(d.confidence)
        ));
        let not_in_gaps: Vec<&str> = d
            .missing
            .iter()
            .map(String::as_str)
            .filter(|m| !ctx.e.gaps.iter().any(|g| g.source == *m))
            .collect();
        if !not_in_gaps.is_empty() {
            summary.push_str(&format!(", which lacks {}", not_in_gaps.join(", ")));
        }
    }
    if !unread.is_empty() {
        summary.push_str(&format!(
            "; could not read {}: grant read access or retry",
            unread.join(", ")
        ));
    } else if ctx.albs.iter().all(|a| a.s.elb_5xx + a.s.target_5xx <= 0.0)
        && ctx.cfs.iter().all(|c| c.s.rate_5xx.unwrap_or(0.0) <= 0.0)
    {
        summary.push_str("; the metrics show no 5xx in the alarm window");
    }
    summary.push('.');
    // No answer: the candidate causes come first, warnings after them.
    drafts.sort_by_key(|d| !is_cause(d));
    let findings = drafts
        .into_iter()
        .filter(|d| d.confidence >= REPORTING_BAR || is_cause(d))
        .take(3)
        .map(Draft::finish)
        .collect();
    Outcome {
        status: Status::Inconclusive,
        summary,
        findings,
    }
}
