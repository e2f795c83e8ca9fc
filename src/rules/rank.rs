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

/// Whether `rule` explains `parent` when it fires on its own evidence.
fn is_sub_cause_of(rule: &str, parent: &str) -> bool {
    Rule::get(rule).is_some_and(|r| r.sub_cause_of == Some(parent))
}

fn is_cause(d: &Draft) -> bool {
    matches!(d.kind, Kind::Cause | Kind::Link)
}

/// Applies the precedence rules and decides the status.
pub(crate) fn rank(ctx: &Ctx<'_>, mut drafts: Vec<Draft>) -> Outcome {
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
            .then(Rule::order(a.rule).cmp(&Rule::order(b.rule)))
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
            ruled_out: Vec::new(),
        };
    }
    // Inconclusive: say what was considered and what evidence would decide it.
    let mut summary = format!("No cause reaches the reporting bar for `{name}`");
    let mut unread: Vec<String> = Vec::new();
    for g in &ctx.e.gaps {
        let code = g.reason.split(':').next().unwrap_or_default();
        let item = format!("{} ({code}: {})", g.source, super::remedy(&g.source, code));
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
    let four_xx = super::cloudfront::four_xx_note(ctx);
    if let Some(note) = &four_xx {
        summary.push_str(&format!("; {note}"));
    }
    if !unread.is_empty() {
        summary.push_str(&format!("; could not read {}", unread.join("; ")));
    } else if four_xx.is_none()
        && ctx.albs.iter().all(|a| a.s.elb_5xx + a.s.target_5xx <= 0.0)
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
        ruled_out: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testkit::*;

    // ---------------------------------------------------------------- ranking

    /// Defect (issue 18): the inconclusive summary said "grant read access" for a throttled
    /// read; the remedy follows the error code.
    #[test]
    fn an_inconclusive_summary_gives_the_remedy_of_each_gap() {
        let throttled = Scenario::new(alb_alarm(ELB_5XX))
            .alb(Alb::new().health_unreadable())
            .gap(
                "elasticloadbalancing:DescribeTargetHealth",
                "Throttling: Rate exceeded",
            )
            .evaluate();
        assert_eq!(
            throttled.status,
            Status::Inconclusive,
            "{}",
            show(&throttled)
        );
        assert!(
            throttled.summary.contains("retry in a minute"),
            "{}",
            throttled.summary
        );
        assert!(
            !throttled.summary.contains("grant"),
            "{}",
            throttled.summary
        );
        let denied = Scenario::new(alb_alarm(ELB_5XX))
            .alb(Alb::new().health_unreadable())
            .gap(
                "elasticloadbalancing:DescribeTargetHealth",
                "AccessDenied: not authorized",
            )
            .evaluate();
        assert!(
            denied
                .summary
                .contains("grant `elasticloadbalancing:DescribeTargetHealth`"),
            "{}",
            denied.summary
        );
    }

    #[test]
    fn ranking_sub_cause_above_all_targets_unhealthy_which_stays_among_findings() {
        // The catalogue's example: connection errors and Target.Timeout on every target.
        let o = unreachable().evaluate();
        assert_answer(&o, "alb.target_unreachable");
        assert_above(&o, "alb.target_unreachable", "alb.all_targets_unhealthy");
        assert_evidence(
            finding(&o, "alb.all_targets_unhealthy"),
            "explained by alb.target_unreachable",
        );
    }

    #[test]
    fn ranking_sub_cause_wins_even_with_less_confidence_of_its_own() {
        // Every target unhealthy (Target.ResponseCodeMismatch: the application answers errors
        // while it restarts), and from W on it refuses connections: ELB 502 with connection
        // errors. target_connection_refused fires on its own evidence at 0.55 (no
        // Target.FailedHealthChecks, no flapping), below the 0.8 of the state it explains, and
        // is still the answer.
        let o = Scenario::new(alb_alarm(ELB_5XX))
            .alb(Alb::new().all_targets(3, "unhealthy", Some("Target.ResponseCodeMismatch")))
            .requests()
            .elb(502, step(0.3))
            .alb_count("TargetConnectionErrorCount", step(0.3))
            .target_2xx(|m| if in_w(m) { 0.3 } else { 1.0 })
            .evaluate();
        assert_answer(&o, "alb.target_connection_refused");
        assert!(o.findings[0].confidence < 0.8, "{}", show(&o));
        assert_above(
            &o,
            "alb.target_connection_refused",
            "alb.all_targets_unhealthy",
        );
        assert_evidence(
            finding(&o, "alb.all_targets_unhealthy"),
            "explained by alb.target_connection_refused",
        );
    }

    #[test]
    fn ranking_alb_answer_above_passthrough_for_a_cloudfront_alarm() {
        let o = cf_passthrough_keepalive().evaluate();
        assert_answer(&o, "alb.keepalive_shorter_than_idle");
        assert_above(
            &o,
            "alb.keepalive_shorter_than_idle",
            "cf.origin_passthrough",
        );
    }

    #[test]
    fn ranking_app_5xx_at_the_origin_above_passthrough() {
        // The application behind the ALB answers 503 to 20% of requests from W on; CloudFront
        // passes them on (no caching): the answer is the ALB rule, the link stands beside it.
        let o = Scenario::new(cf_alarm(CF_5XX))
            .dist(Dist::new())
            .alb(https_alb())
            .cf_requests(1.0)
            .cf_errors(503, step(0.2))
            .requests()
            .target_5xx(step(0.2))
            .target_2xx(|m| if in_w(m) { 0.8 } else { 1.0 })
            .evaluate();
        assert_answer(&o, "alb.target_app_5xx");
        assert_above(&o, "alb.target_app_5xx", "cf.origin_passthrough");
    }

    #[test]
    fn ranking_renewal_risk_never_above_a_cause() {
        // The cause (no_routable_targets, base 0.65) is less sure than the warning's base (0.7).
        let o = alb_503_outage(
            Alb::new()
                .targets(&[
                    ("unused", Some("Target.NotInUse")),
                    ("unused", Some("Target.NotInUse")),
                    ("draining", Some("Target.DeregistrationInProgress")),
                ])
                .https(expiring_certificate(), TLS12_13),
        )
        .evaluate();
        assert_answer(&o, "alb.no_routable_targets");
        assert_above(&o, "alb.no_routable_targets", "cert.renewal_risk");
    }

    #[test]
    fn ranking_below_the_bar_is_inconclusive_and_says_what_is_missing() {
        // CloudFront 502 from an HTTPS origin whose listener certificate could not be read: the
        // certificate rules are candidates below 0.4, not a diagnosis.
        let o = cf_502_origin_unreachable(https_alb().certificates_unreadable(), Dist::new())
            .gap(
                "acm:DescribeCertificate",
                "AccessDeniedException: User is not authorized to perform: acm:DescribeCertificate",
            )
            .evaluate();
        assert_eq!(o.status, Status::Inconclusive, "{}", show(&o));
        assert!(!o.findings.is_empty(), "{}", show(&o));
        assert!(
            o.findings.iter().all(|f| f.confidence < 0.4),
            "{}",
            show(&o)
        );
        assert!(
            o.summary.contains("cf.origin_cert_"),
            "the summary names the best candidate: {}",
            o.summary
        );
        assert!(
            o.summary.contains("acm:DescribeCertificate"),
            "the summary says what is missing: {}",
            o.summary
        );
        assert_evidence(&o.findings[0], "missing: acm:DescribeCertificate");
    }

    #[test]
    fn ranking_missing_key_input_lowers_confidence_by_0_2_and_names_it() {
        let with = deregistration(draining_alb().deregistration_delay(300)).evaluate();
        let without = deregistration(draining_alb().tg_attributes_unreadable()).evaluate();
        let a = finding(&with, "alb.deregistration_inflight");
        let b = finding(&without, "alb.deregistration_inflight");
        assert!(
            (a.confidence - b.confidence - 0.2).abs() < 1e-9,
            "with {:.2}, without {:.2}",
            a.confidence,
            b.confidence
        );
        assert_evidence(b, "missing: target group attributes (deregistration delay)");
        assert!(!a.evidence.iter().any(|e| e.starts_with("missing")));
    }

    #[test]
    fn ranking_missing_waf_association_lowers_lb_generated_500() {
        // With an authenticate action the 500s are explained without the WAF association; without
        // one, the unread WAF association is the missing key input.
        let with = lb_500(Alb::new().authenticate_oidc(), false).evaluate();
        let without = lb_500(Alb::new(), false).evaluate();
        let a = finding(&with, "alb.lb_generated_500");
        let b = finding(&without, "alb.lb_generated_500");
        assert!(
            (a.confidence - b.confidence - 0.2).abs() < 1e-9,
            "with {:.2}, without {:.2}",
            a.confidence,
            b.confidence
        );
        assert_evidence(b, "missing: the WAF web ACL association");
    }
}
