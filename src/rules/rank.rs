//! Ranking: the catalogue's precedence between findings, the reporting bar, the status and
//! the one-sentence summary.

use super::catalog::Rule;
use super::{Ctx, Draft, Kind, Outcome};
use crate::verdict::{MAX_CONFIDENCE, REPORTING_BAR, Status};

/// How far below the sub-cause that explains it `alb.all_targets_unhealthy` is capped: the
/// unhealthy state is the sub-cause's evidence, not a second answer.
const SUB_CAUSE_MARGIN: f64 = 0.1;
/// How far below the cause found on its origin the link `cf.origin_passthrough` is capped:
/// the origin's cause is the answer, the link says how it reached CloudFront.
const LINK_MARGIN: f64 = 0.05;
/// What an origin load balancer's cause loses on a CloudFront alarm when nothing links it
/// and it explains none of CloudFront's main codes: a side issue of the origin.
const SIDE_ISSUE: f64 = 0.15;
/// How far below the best cause warnings and supporting findings are capped: beside the
/// answer, never above it.
const BESIDE_MARGIN: f64 = 0.05;

/// The finding the ALB sub-causes explain.
const ALL_TARGETS_UNHEALTHY: &str = super::alb::ALL_TARGETS_UNHEALTHY.id;

fn order(rule: &str) -> usize {
    Rule::order(rule)
}

/// Whether `rule` explains `parent` when it fires on its own evidence.
fn is_sub_cause_of(rule: &str, parent: &str) -> bool {
    Rule::get(rule).is_some_and(|r| r.sub_cause_of == Some(parent))
}

fn is_cause(d: &Draft) -> bool {
    matches!(d.kind, Kind::Cause | Kind::Link)
}

/// Applies the precedence rules and decides the status.
pub fn rank(ctx: &Ctx<'_>, mut drafts: Vec<Draft>) -> Outcome {
    for d in &mut drafts {
        d.confidence = d.confidence.min(MAX_CONFIDENCE);
    }
    // A sub-cause that fires on its own evidence is the answer; the unhealthy state is its
    // evidence.
    let subs: Vec<(Option<String>, &'static str, f64)> = drafts
        .iter()
        .filter(|d| is_sub_cause_of(d.rule, ALL_TARGETS_UNHEALTHY) && d.confidence >= REPORTING_BAR)
        .map(|d| (d.alb_arn.clone(), d.rule, d.confidence))
        .collect();
    for d in drafts
        .iter_mut()
        .filter(|d| d.rule == ALL_TARGETS_UNHEALTHY)
    {
        if let Some((_, rule, c)) = subs
            .iter()
            .filter(|(arn, _, _)| *arn == d.alb_arn)
            .max_by(|a, b| a.2.total_cmp(&b.2))
        {
            d.confidence = d.confidence.min(c - SUB_CAUSE_MARGIN).max(REPORTING_BAR);
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
            d.confidence = d.confidence.min(c - LINK_MARGIN);
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
            d.confidence -= SIDE_ISSUE;
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
            d.confidence = d.confidence.min(best - BESIDE_MARGIN);
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
