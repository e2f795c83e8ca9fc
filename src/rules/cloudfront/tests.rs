//! Rule tests: each rule's positive case and its near misses (the evidence of the causes it
//! is told apart from).

use crate::rules::testkit::*;

// ---------------------------------------------------------------- cf.origin_cert_hostname_mismatch

#[test]
fn hostname_mismatch_is_the_answer_for_a_raw_elb_origin_name() {
    let o = cf_hostname_mismatch(Dist::new()).evaluate();
    assert_answer(&o, "cf.origin_cert_hostname_mismatch");
    let f = &o.findings[0];
    assert_evidence(f, "*.elb.amazonaws.com");
    assert_evidence(f, "ClientTLSNegotiationErrorCount");
}

#[test]
fn hostname_mismatch_when_the_host_header_is_excluded() {
    // Managed-AllViewerExceptHostHeader: Host is the origin domain, which no name covers.
    let o = cf_hostname_mismatch(Dist::new().origin_request_policy(
        ALL_VIEWER_EXCEPT_HOST,
        "Managed-AllViewerExceptHostHeader",
        "allExcept",
        &["host"],
    ))
    .evaluate();
    assert_answer(&o, "cf.origin_cert_hostname_mismatch");
}

#[test]
fn hostname_mismatch_silent_when_the_forwarded_host_is_covered() {
    // Managed-AllViewer forwards the viewer's Host (www.example.com), which the certificate
    // covers: the handshake succeeds.
    let o = cf_hostname_mismatch(Dist::new().origin_request_policy(
        ALL_VIEWER,
        "Managed-AllViewer",
        "allViewer",
        &[],
    ))
    .evaluate();
    assert_silent(&o, "cf.origin_cert_hostname_mismatch");
}

#[test]
fn hostname_mismatch_silent_when_the_names_match_but_the_certificate_expired() {
    let o = cf_cert_expired(Dist::new()).evaluate();
    assert_silent(&o, "cf.origin_cert_hostname_mismatch");
    assert_answer(&o, "cf.origin_cert_expired");
}

// ---------------------------------------------------------------- SNI certificates

/// A default certificate for another domain, and the origin's own name served by SNI.
fn sni_origin(origin_cert: crate::evidence::acm::CertificateDetail) -> Scenario {
    cf_502_origin_unreachable(
        Alb::new()
            .https(certificate("www.other.org", &["other.org"]), TLS12_13)
            .sni(origin_cert),
        Dist::new(),
    )
}

#[test]
fn a_valid_sni_certificate_for_the_origin_is_no_hostname_mismatch() {
    let o = sni_origin(certificate(ORIGIN_DOMAIN, &[])).evaluate();
    assert_silent(&o, "cf.origin_cert_hostname_mismatch");
    assert_silent(&o, "cf.origin_cert_expired");
}

#[test]
fn an_expired_sni_certificate_breaks_the_host_it_serves_while_the_default_is_valid() {
    let mut c = renewal(certificate(ORIGIN_DOMAIN, &[]), "FAILED");
    c.not_after = Some(now() - Duration::days(2));
    c.status = Some("EXPIRED".into());
    let o = sni_origin(c).evaluate();
    assert_answer(&o, "cf.origin_cert_expired");
    let f = &o.findings[0];
    assert!(
        f.resources.iter().any(|r| r.ends_with("-sni1")),
        "{:?}",
        f.resources
    );
    assert_evidence(f, "serves it by SNI");
    assert_silent(&o, "cf.origin_cert_hostname_mismatch");
}

#[test]
fn an_expired_default_certificate_is_harmless_to_a_host_a_valid_sni_certificate_covers() {
    let o = cf_502_origin_unreachable(
        Alb::new()
            .https(expired_certificate(), TLS12_13)
            .sni(certificate(ORIGIN_DOMAIN, &[])),
        Dist::new(),
    )
    .evaluate();
    assert_silent(&o, "cf.origin_cert_expired");
}

#[test]
fn no_certificate_of_the_listener_covering_the_origin_is_a_hostname_mismatch() {
    let o = sni_origin(certificate("api.example.net", &[])).evaluate();
    assert_answer(&o, "cf.origin_cert_hostname_mismatch");
    assert_evidence(&o.findings[0], "none of the listener's 2 certificates");
}

#[test]
fn an_sni_certificate_near_expiry_is_a_renewal_risk() {
    let mut c = validated_by(certificate("api.example.com", &[]), "EMAIL");
    c.not_after = Some(now() + Duration::days(20));
    let o = cf_502_origin_unreachable(
        Alb::new()
            .https(certificate("*.example.com", &["example.com"]), TLS12_13)
            .sni(c),
        Dist::new(),
    )
    .evaluate();
    assert_fires(&o, "cert.renewal_risk");
}

// ---------------------------------------------------------------- cf.origin_cert_expired

#[test]
fn origin_cert_expired_is_the_answer_for_an_expired_listener_certificate() {
    let o = cf_cert_expired(Dist::new()).evaluate();
    assert_answer(&o, "cf.origin_cert_expired");
    let f = &o.findings[0];
    assert_eq!(f.codes, vec![502]);
    assert_evidence(f, "renewal FAILED");
    assert_silent(&o, "cert.renewal_risk");
}

#[test]
fn origin_cert_expired_by_status_alone() {
    let mut c = certificate("*.example.com", &["example.com"]);
    c.status = Some("EXPIRED".into());
    c.not_after = None;
    let o = cf_502_origin_unreachable(Alb::new().https(c, TLS12_13), Dist::new()).evaluate();
    assert_answer(&o, "cf.origin_cert_expired");
}

#[test]
fn origin_cert_expired_silent_for_a_certificate_not_yet_expired() {
    // cert.renewal_risk's evidence: expires in 20 days and will not renew by itself.
    let o = cf_502_origin_unreachable(
        Alb::new().https(expiring_certificate(), TLS12_13),
        Dist::new(),
    )
    .evaluate();
    assert_silent(&o, "cf.origin_cert_expired");
    assert_fires(&o, "cert.renewal_risk");
    assert_ne!(
        o.status,
        Status::Diagnosed,
        "a warning is no diagnosis: {}",
        show(&o)
    );
}

// ---------------------------------------------------------------- cf.origin_tls_protocol_mismatch

#[test]
fn tls_protocol_mismatch_is_the_answer_for_a_tls13_only_listener() {
    let o = cf_tls_mismatch(TLS13_ONLY).evaluate();
    assert_answer(&o, "cf.origin_tls_protocol_mismatch");
    assert_evidence(&o.findings[0], "TLSv1.2");
}

#[test]
fn tls_protocol_mismatch_silent_when_a_protocol_is_shared() {
    let o = cf_tls_mismatch(TLS12_13).evaluate();
    assert_silent(&o, "cf.origin_tls_protocol_mismatch");
}

// ---------------------------------------------------------------- cf.origin_port_mismatch

#[test]
fn port_mismatch_is_the_answer_for_https_only_with_only_an_http_listener() {
    let o = cf_502_origin_unreachable(Alb::new(), Dist::new()).evaluate();
    assert_answer(&o, "cf.origin_port_mismatch");
    assert_evidence(&o.findings[0], "HTTP:80");
}

#[test]
fn port_mismatch_silent_when_the_https_listener_exists() {
    // The listener is there; the handshake fails on protocols instead.
    let o = cf_tls_mismatch(TLS13_ONLY).evaluate();
    assert_silent(&o, "cf.origin_port_mismatch");
    assert_answer(&o, "cf.origin_tls_protocol_mismatch");
}

#[test]
fn port_mismatch_silent_for_http_only_to_an_http_listener() {
    let o =
        cf_502_origin_unreachable(Alb::new(), Dist::new().protocol_policy("http-only")).evaluate();
    assert_silent(&o, "cf.origin_port_mismatch");
}

// ---------------------------------------------------------------- cf.origin_dns_failure

#[test]
fn origin_dns_failure_is_the_answer_when_the_origin_alb_is_gone() {
    let o = Scenario::new(cf_alarm(CF_5XX))
        .dist(Dist::new().origin_gone("web-old-1234567890.us-east-1.elb.amazonaws.com"))
        .gap(
            "origin-resolution",
            "NoLoadBalancerFound: no load balancer has that DNS name",
        )
        .cf_requests(10.0)
        .cf_errors(502, step(0.5))
        .evaluate();
    assert_answer(&o, "cf.origin_dns_failure");
}

#[test]
fn origin_dns_failure_silent_when_the_origin_alb_exists() {
    let o = cf_hostname_mismatch(Dist::new()).evaluate();
    assert_silent(&o, "cf.origin_dns_failure");
    assert_answer(&o, "cf.origin_cert_hostname_mismatch");
}

// ---------------------------------------------------------------- cf.origin_blocked_or_private

#[test]
fn blocked_or_private_is_the_answer_for_an_internal_alb_origin() {
    let o = cf_internal_origin(Dist::new()).evaluate();
    assert_answer(&o, "cf.origin_blocked_or_private");
    let f = &o.findings[0];
    assert_eq!(f.codes, vec![504]);
    assert_evidence(f, "OriginLatency has no data");
}

#[test]
fn blocked_or_private_silent_for_a_vpc_origin() {
    let o = cf_internal_origin(Dist::new().vpc_origin()).evaluate();
    assert_silent(&o, "cf.origin_blocked_or_private");
}

#[test]
fn blocked_or_private_silent_when_the_origin_is_reachable_but_slow() {
    let o = cf_slow_origin(60, false).evaluate();
    assert_silent(&o, "cf.origin_blocked_or_private");
    assert_answer(&o, "cf.origin_read_timeout");
}

// ---------------------------------------------------------------- cf.origin_read_timeout

#[test]
fn origin_read_timeout_is_the_answer_when_cloudfront_times_out_first() {
    let o = cf_slow_origin(60, false).evaluate();
    assert_answer(&o, "cf.origin_read_timeout");
    let f = &o.findings[0];
    assert_evidence(f, "OriginReadTimeout 30 s");
    assert_evidence(f, "TargetResponseTime");
    assert!(
        f.next_steps[0].contains("Fix origin latency or capacity first"),
        "fix the origin first, raise OriginReadTimeout last: {:#?}",
        f.next_steps
    );
}

#[test]
fn origin_read_timeout_yields_to_the_alb_when_its_idle_timeout_is_not_longer() {
    // ALB idle timeout 30 s = OriginReadTimeout, and the ALB answers 504 itself.
    let o = cf_slow_origin(30, true).evaluate();
    assert_silent(&o, "cf.origin_read_timeout");
    assert_answer(&o, "alb.target_response_timeout");
    assert_above(&o, "alb.target_response_timeout", "cf.origin_passthrough");
}

#[test]
fn origin_read_timeout_silent_for_an_unreachable_origin() {
    let o = cf_internal_origin(Dist::new()).evaluate();
    assert_silent(&o, "cf.origin_read_timeout");
    assert_answer(&o, "cf.origin_blocked_or_private");
}

// ---------------------------------------------------------------- cf.origin_passthrough

#[test]
fn passthrough_links_cloudfront_to_the_alb_answer() {
    let o = cf_passthrough_keepalive().evaluate();
    let f = finding(&o, "cf.origin_passthrough");
    assert_evidence(f, "tracks the ALB's");
    assert_evidence(f, "explained by alb.keepalive_shorter_than_idle");
    assert_answer(&o, "alb.keepalive_shorter_than_idle");
}

#[test]
fn passthrough_silent_when_the_origin_has_no_errors() {
    let o = cf_edge_503().evaluate();
    assert_silent(&o, "cf.origin_passthrough");
    let o = cf_cert_expired(Dist::new()).evaluate();
    assert_silent(&o, "cf.origin_passthrough");
    assert_answer(&o, "cf.origin_cert_expired");
}

/// Defect class 3: CloudFront carries a tiny background 5xx in the hour before while the
/// origin has none; at W both step up in the same minute with matching counts. The rank
/// correlation over the hour is weak (the background dominates CloudFront's ranks), the onset
/// and the counts link them.
fn cf_step_with_background(alb_share: impl Fn(i64) -> f64 + 'static) -> Scenario {
    Scenario::new(cf_alarm(CF_5XX))
        .dist(Dist::new())
        .alb(https_alb())
        .cf_requests(1.0)
        .cf_errors(502, |m| if in_w(m) { 0.05 } else { 0.0002 })
        .requests()
        .elb(502, alb_share)
        .target_2xx(|m| if in_w(m) { 0.95 } else { 1.0 })
}

#[test]
fn passthrough_links_on_the_same_onset_despite_background_noise() {
    let o = cf_step_with_background(step(0.05)).evaluate();
    let f = finding(&o, "cf.origin_passthrough");
    assert_evidence(f, "both began failing at");
    assert_evidence(f, "(the origin's are 100% of CloudFront's)");
    assert!(
        !f.evidence.iter().any(|e| e.contains("rank correlation")),
        "a weak correlation is not quoted as support: {}",
        show(&o)
    );
}

#[test]
fn passthrough_near_misses_on_onset_and_counts() {
    // The origin's errors start three minutes later: no shared onset, no correlation.
    let o = cf_step_with_background(|m| if (4..=5).contains(&m) { 0.12 } else { 0.0 }).evaluate();
    assert_silent(&o, "cf.origin_passthrough");
    // Same minute, but the origin's errors are a tenth of CloudFront's.
    let o = cf_step_with_background(step(0.005)).evaluate();
    assert_silent(&o, "cf.origin_passthrough");
}

// ---------------------------------------------------------------- cf.origin_capacity_503

#[test]
fn origin_capacity_503_fires_when_origin_503s_follow_load() {
    let o = cf_origin_capacity().evaluate();
    let f = finding(&o, "cf.origin_capacity_503");
    assert_eq!(f.codes, vec![503]);
    assert_evidence(f, "the 5xx rate rises with load");
    assert_eq!(o.status, Status::Diagnosed, "{}", show(&o));
}

/// `docs/rules.md`: `cf.origin_passthrough` is "a linking finding: the verdict's answer
/// (`findings[0]`) is the ALB rule that explains the origin's errors, and this finding stands
/// beside it as evidence". Here the rule that explains the origin's 503s is
/// `cf.origin_capacity_503`; the link must not stand above it.
#[test]
fn catalogue_origin_capacity_503_is_the_answer_not_the_passthrough_link() {
    let o = cf_origin_capacity().evaluate();
    assert_answer(&o, "cf.origin_capacity_503");
    assert_above(&o, "cf.origin_capacity_503", "cf.origin_passthrough");
}

#[test]
fn origin_capacity_503_silent_when_the_origin_is_clean() {
    let o = cf_edge_503().evaluate();
    assert_silent(&o, "cf.origin_capacity_503");
    assert_fires(&o, "guard.cf_edge_capacity");
}

#[test]
fn origin_capacity_503_not_the_answer_when_lambda_edge_is_throttled() {
    let o = cf_lambda_throttle().elb(503, with_load).evaluate();
    assert_not_answer(&o, "cf.origin_capacity_503");
    assert_answer(&o, "cf.lambda_edge_execution_or_throttle");
}

/// `docs/rules.md`: `cf.origin_capacity_503` needs "no Lambda@Edge errors".
#[test]
fn catalogue_origin_capacity_503_silent_with_lambda_edge_errors() {
    let o = cf_lambda_throttle().elb(503, with_load).evaluate();
    assert_silent(&o, "cf.origin_capacity_503");
}

// ---------------------------------------------------------------- cf.lambda_edge_validation_error

#[test]
fn lambda_edge_validation_error_is_the_answer_for_invalid_function_responses() {
    let o = cf_lambda_validation().evaluate();
    assert_answer(&o, "cf.lambda_edge_validation_error");
    assert_eq!(o.findings[0].codes, vec![502]);
}

#[test]
fn lambda_edge_validation_error_silent_without_an_association() {
    let o = cf_with_clean_origin(Dist::new())
        .cf_errors(502, step(0.3))
        .lambda_edge_metric("LambdaValidationError", step(0.3))
        .evaluate();
    assert_silent(&o, "cf.lambda_edge_validation_error");
}

#[test]
fn lambda_edge_validation_error_silent_for_a_cloudfront_function_error() {
    let o = cf_function_error().evaluate();
    assert_silent(&o, "cf.lambda_edge_validation_error");
    assert_answer(&o, "cf.function_error");
}

// ---------------------------------------------------------------- cf.lambda_edge_execution_or_throttle

#[test]
fn lambda_edge_throttle_is_the_answer_when_throttles_follow_requests() {
    let o = cf_lambda_throttle().evaluate();
    assert_answer(&o, "cf.lambda_edge_execution_or_throttle");
    let f = &o.findings[0];
    assert_eq!(f.codes, vec![503]);
    assert_evidence(f, "throttling follows Requests");
}

#[test]
fn lambda_edge_execution_error_is_the_answer_for_a_failing_function() {
    let o = cf_with_clean_origin(Dist::new().lambda_edge())
        .cf_errors(503, step(0.2))
        .lambda_edge_metric("LambdaExecutionError", step(0.2))
        .evaluate();
    assert_answer(&o, "cf.lambda_edge_execution_or_throttle");
}

#[test]
fn lambda_edge_execution_silent_for_validation_errors() {
    let o = cf_lambda_validation().evaluate();
    assert_silent(&o, "cf.lambda_edge_execution_or_throttle");
    assert_answer(&o, "cf.lambda_edge_validation_error");
}

// ---------------------------------------------------------------- cf.function_error

#[test]
fn function_error_is_the_answer_for_a_failing_cloudfront_function() {
    let o = cf_function_error().evaluate();
    assert_answer(&o, "cf.function_error");
}

#[test]
fn function_error_silent_for_lambda_edge_errors() {
    let o = cf_lambda_validation().evaluate();
    assert_silent(&o, "cf.function_error");
    assert_answer(&o, "cf.lambda_edge_validation_error");
}

#[test]
fn function_error_silent_without_an_association() {
    let o = cf_with_clean_origin(Dist::new())
        .cf_errors(503, step(0.3))
        .function_metric("FunctionExecutionErrors", step(0.3))
        .evaluate();
    assert_silent(&o, "cf.function_error");
}

// ---------------------------------------------------------------- guard.waf_not_5xx

/// Defect class 8: a `TotalErrorRate` alarm whose errors are 403s. `dist` gives the origin and
/// the web ACL; `rate_4xx` is the 4xx percentage in W.
fn all_errors_alarm(dist: Dist, rate_4xx: f64) -> Scenario {
    Scenario::new(cf_alarm("TotalErrorRate"))
        .dist(dist)
        .cf_requests(10.0)
        .cf_metric("5xxErrorRate", "Average", |_| Some(0.0))
        .cf_metric("4xxErrorRate", "Average", move |m| {
            Some(if in_w(m) { rate_4xx } else { 0.01 })
        })
        .cf_metric("TotalErrorRate", "Average", move |m| {
            Some(if in_w(m) { rate_4xx } else { 0.01 })
        })
}

#[test]
fn a_4xx_alarm_says_what_the_errors_are_and_which_guard_applies() {
    // An S3 origin, no web ACL: the summary names the errors and the bucket's 403s.
    let o = all_errors_alarm(Dist::new().s3_origin(), 6.0).evaluate();
    assert!(
        o.summary.contains(
            "are 4xx, not 5xx (4xxErrorRate 6.0% of requests against 5xxErrorRate 0% over 5 min)"
        ),
        "{}",
        show(&o)
    );
    assert!(
        o.summary
            .contains("bucket policy or the origin access control"),
        "{}",
        show(&o)
    );
    // A web ACL attached: the WAF guard says the errors are 4xx and where blocks show.
    let o = all_errors_alarm(Dist::new().web_acl(), 6.0).evaluate();
    let f = finding(&o, "guard.waf_not_5xx");
    assert!(f.title.contains("are 4xx, not 5xx"), "{}", show(&o));
    assert_evidence(f, "4xxErrorRate 6.0%");
    assert!(o.summary.contains("guard.waf_not_5xx"), "{}", show(&o));
}

#[test]
fn a_4xx_note_needs_the_4xx_to_be_most_of_the_errors() {
    // 4xx under the noise floor: nothing to say about them.
    let o = all_errors_alarm(Dist::new().web_acl(), 0.05).evaluate();
    assert!(!o.summary.contains("4xx"), "{}", show(&o));
    assert_silent(&o, "guard.waf_not_5xx");
    // 5xx are most of the errors: the 5xx triage, not a 4xx note.
    let o = cf_with_clean_origin(Dist::new().web_acl())
        .cf_errors(503, step(0.05))
        .cf_metric("4xxErrorRate", "Average", |_| Some(1.0))
        .evaluate();
    assert!(!o.summary.contains("are 4xx"), "{}", show(&o));
}

#[test]
fn waf_guard_warns_beside_the_answer_when_a_web_acl_is_attached() {
    let o = cf_cert_expired(Dist::new().web_acl()).evaluate();
    assert_answer(&o, "cf.origin_cert_expired");
    let f = finding(&o, "guard.waf_not_5xx");
    assert_evidence(f, "403");
    assert_above(&o, "cf.origin_cert_expired", "guard.waf_not_5xx");
}

#[test]
fn waf_guard_silent_without_a_web_acl() {
    let o = cf_cert_expired(Dist::new()).evaluate();
    assert_silent(&o, "guard.waf_not_5xx");
    assert_answer(&o, "cf.origin_cert_expired");
}

#[test]
fn waf_guard_is_never_the_answer_even_alone() {
    // CloudFront 503 nothing explains, with a web ACL attached: the guard says WAF is not the
    // reason, and the verdict stays inconclusive rather than blaming (or crediting) WAF.
    let o = cf_with_clean_origin(Dist::new().web_acl())
        .cf_errors(503, step(0.05))
        .evaluate();
    let f = finding(&o, "guard.waf_not_5xx");
    assert!(f.codes.is_empty(), "WAF explains no code: {:?}", f.codes);
    assert_ne!(o.status, Status::Diagnosed, "{}", show(&o));
    assert!(
        !o.summary.contains("guard.waf_not_5xx"),
        "the guard is no candidate cause: {}",
        o.summary
    );
}

// ---------------------------------------------------------------- guard.cf_edge_capacity

#[test]
fn edge_capacity_is_at_most_0_3_and_never_a_diagnosis() {
    let o = cf_edge_503().evaluate();
    let f = finding(&o, "guard.cf_edge_capacity");
    assert!(f.confidence <= 0.3, "{}", show(&o));
    assert!(
        f.next_steps.iter().any(|s| s.contains("AWS Support")),
        "{:#?}",
        f.next_steps
    );
    assert_eq!(o.status, Status::Inconclusive, "{}", show(&o));
    assert!(
        o.summary.contains("guard.cf_edge_capacity"),
        "{}",
        o.summary
    );
}

#[test]
fn edge_capacity_silent_when_503s_follow_load_at_the_origin() {
    let s = cf_origin_capacity();
    assert!(drafted(&s, "guard.cf_edge_capacity").is_none());
    assert_fires(&s.evaluate(), "cf.origin_capacity_503");
}

#[test]
fn edge_capacity_silent_when_the_origin_answers_5xx() {
    let s = cf_edge_503().elb(503, step(0.05));
    assert!(drafted(&s, "guard.cf_edge_capacity").is_none());
}

#[test]
fn edge_capacity_not_the_answer_with_lambda_edge_errors() {
    let o = cf_with_clean_origin(Dist::new().lambda_edge())
        .cf_errors(503, step(0.2))
        .lambda_edge_metric("LambdaExecutionError", step(0.2))
        .evaluate();
    assert_not_answer(&o, "guard.cf_edge_capacity");
    assert_answer(&o, "cf.lambda_edge_execution_or_throttle");
}

/// `docs/rules.md`: `guard.cf_edge_capacity` needs "no Lambda@Edge or CloudFront Functions
/// errors in the metrics read". Checked on the drafts: at 0.3 the guard is dropped from a
/// diagnosed verdict, but it would be drafted.
#[test]
fn catalogue_edge_capacity_silent_with_lambda_edge_errors() {
    let s = cf_with_clean_origin(Dist::new().lambda_edge())
        .cf_errors(503, step(0.2))
        .lambda_edge_metric("LambdaExecutionError", step(0.2));
    let d = drafted(&s, "guard.cf_edge_capacity");
    assert!(
        d.is_none(),
        "drafted despite Lambda@Edge execution errors: {:?}",
        d.map(|d| d.evidence)
    );
}

#[test]
fn edge_capacity_is_drafted_for_a_clean_origin() {
    let d = drafted(&cf_edge_503(), "guard.cf_edge_capacity").expect("should fire");
    assert_eq!(d.kind, Kind::Cause);
}

// ---------------------------------------------------------------- edge metrics: asked, not asked, failed

/// The guard's evidence for a clean origin and a distribution built by `dist`, with `edit`
/// applied to the scenario.
fn edge_capacity_draft(dist: Dist, edit: impl FnOnce(Scenario) -> Scenario) -> Option<Draft> {
    drafted(
        &edit(cf_with_clean_origin(dist).cf_errors(503, step(0.05))),
        "guard.cf_edge_capacity",
    )
}

#[test]
fn an_edge_metric_asked_and_empty_reads_as_zero_and_says_why() {
    let d = edge_capacity_draft(Dist::new().function(), |s| s).expect("should fire");
    let line = format!(
        "FunctionValidationErrors, FunctionExecutionErrors, FunctionThrottles of {FUNCTION_NAME}: asked, no datapoints in the window (published only when errors occur): 0"
    );
    assert!(d.evidence.contains(&line), "{:#?}", d.evidence);
    assert!(d.missing.is_empty(), "{:#?}", d.missing);
    assert!((d.confidence - 0.3).abs() < 1e-9, "{}", d.confidence);
}

#[test]
fn an_edge_metric_not_listed_reads_as_zero_and_says_so() {
    let d = edge_capacity_draft(Dist::new().lambda_edge(), |mut s| {
        for n in [
            "LambdaExecutionError",
            "LambdaValidationError",
            "LambdaLimitExceededErrors",
        ] {
            s.metrics.mark_unread(
                MetricQuery::new(
                    "us-east-1",
                    "AWS/CloudFront",
                    n,
                    &[("DistributionId", DIST_ID), ("Region", "Global")],
                    "Sum",
                ),
                Unread::Unlisted,
            );
        }
        s
    })
    .expect("should fire");
    assert_evidence_line(
        &d.evidence,
        "LambdaValidationError, LambdaExecutionError, LambdaLimitExceededErrors: not listed by ListMetrics for the last 3 hours (published only when errors occur): 0",
    );
    assert!(d.missing.is_empty(), "{:#?}", d.missing);
}

#[test]
fn edge_metrics_not_asked_are_not_mentioned() {
    // No edge function on the distribution: nothing was asked, and nothing is said of them.
    let d = edge_capacity_draft(Dist::new(), |s| s).expect("should fire");
    assert!(
        d.evidence
            .iter()
            .all(|l| !l.contains("Function") && !l.contains("Lambda") && !l.contains("function")),
        "{:#?}",
        d.evidence
    );
    assert!(d.missing.is_empty(), "{:#?}", d.missing);
}

#[test]
fn an_edge_metric_that_failed_is_missing_and_not_claimed_as_zero() {
    let d = edge_capacity_draft(Dist::new().function(), |s| {
        s.edge_metric_failed(Some(FUNCTION_NAME), "FunctionExecutionErrors")
            .gap("cloudwatch:GetMetricData", "AccessDenied: not authorized")
    })
    .expect("a clean origin still leaves the guard, lowered");
    assert_eq!(
        d.missing,
        vec![format!(
            "FunctionExecutionErrors of {FUNCTION_NAME} (not read)"
        )]
    );
    assert!((d.confidence - 0.1).abs() < 1e-9, "{}", d.confidence);
    assert!(
        d.evidence
            .iter()
            .all(|l| !l.starts_with("FunctionExecutionErrors") && !l.contains("no function errors")),
        "{:#?}",
        d.evidence
    );
    // The metrics that were read still say what they read.
    assert_evidence_line(
        &d.evidence,
        &format!(
            "FunctionValidationErrors, FunctionThrottles of {FUNCTION_NAME}: asked, no datapoints in the window (published only when errors occur): 0"
        ),
    );
}

#[test]
fn origin_capacity_503_with_an_unread_function_metric_is_lowered_and_names_it() {
    let with_function = |mut s: Scenario| {
        s.distributions = vec![Dist::new().function().0];
        s
    };
    let read = with_function(cf_origin_capacity()).evaluate();
    let failed = with_function(cf_origin_capacity())
        .edge_metric_failed(Some(FUNCTION_NAME), "FunctionThrottles")
        .evaluate();
    let (f_read, f_failed) = (
        finding(&read, "cf.origin_capacity_503"),
        finding(&failed, "cf.origin_capacity_503"),
    );
    assert_evidence(f_read, "asked, no datapoints in the window");
    assert_evidence(
        f_failed,
        &format!("missing: FunctionThrottles of {FUNCTION_NAME}"),
    );
    assert!(
        f_failed.confidence < f_read.confidence,
        "{} vs {}",
        f_failed.confidence,
        f_read.confidence
    );
}

#[test]
fn function_error_names_the_metric_that_has_errors() {
    let o = cf_function_error().evaluate();
    let f = finding(&o, "cf.function_error");
    assert_evidence(f, "FunctionExecutionErrors of rewrite-uri: ");
    assert_evidence(
        f,
        "FunctionValidationErrors, FunctionThrottles of rewrite-uri: asked, no datapoints",
    );
}

fn assert_evidence_line(evidence: &[String], line: &str) {
    assert!(
        evidence.iter().any(|l| l == line),
        "no line `{line}` in {evidence:#?}"
    );
}

// ---------------------------------------------------------------- S3 origins

/// CloudFront 503 at 20% from W on, the cache hit rate falling from 90% to 10% with it.
fn s3_slow_down(hits_in_w: f64) -> Scenario {
    Scenario::new(cf_alarm(CF_5XX))
        .dist(Dist::new().s3_origin())
        .cf_requests(10.0)
        .cf_errors(503, step(0.2))
        .cf_metric("CacheHitRate", "Average", move |m| {
            Some(if in_w(m) { hits_in_w } else { 90.0 })
        })
}

#[test]
fn origin_capacity_503_names_an_s3_origin_after_the_cache_collapsed() {
    let o = s3_slow_down(10.0).evaluate();
    assert_answer(&o, "cf.origin_capacity_503");
    let f = finding(&o, "cf.origin_capacity_503");
    assert_evidence(f, "S3 bucket assets");
    assert_evidence(f, "CacheHitRate fell from 90% to 10%");
}

#[test]
fn origin_capacity_503_silent_for_an_s3_origin_with_a_steady_cache() {
    // A step of 503s with the cache as before and no load link: not S3 scaling.
    let o = s3_slow_down(90.0).evaluate();
    assert_silent(&o, "cf.origin_capacity_503");
}

// ---------------------------------------------------------------- fix and rollback commands

/// The read-edit-send sequence for origin `web-alb` of the distribution, with `args` (the
/// jq `--argjson` values) and `edit` (the jq assignments).
fn cf_update(args: &str, edit: &str) -> String {
    format!(
        "aws cloudfront get-distribution-config --id '{DIST_ID}' > dist.json && jq --arg id '{ORIGIN_ID}' {args} '.DistributionConfig | (.Origins.Items[] | select(.Id == $id) | .CustomOriginConfig) |= ({edit})' dist.json > dist-config.json && aws cloudfront update-distribution --id '{DIST_ID}' --if-match \"$(jq -r .ETag dist.json)\" --distribution-config file://dist-config.json"
    )
}

#[test]
fn read_timeout_fix_doubles_the_timeout_within_cloudfronts_range() {
    let o = cf_slow_origin(60, false).evaluate();
    let f = finding(&o, "cf.origin_read_timeout");
    assert_fix(
        f,
        &cf_update("--argjson v0 '60'", ".OriginReadTimeout = $v0"),
        &cf_update("--argjson v0 '30'", ".OriginReadTimeout = $v0"),
    );
    assert!(
        step_starting(f, "Fix: ").contains(
            "DistributionConfig.Origins.Items[?Id=='web-alb'].CustomOriginConfig.OriginReadTimeout from 30 to 60"
        ),
        "{:#?}",
        f.next_steps
    );
    // Near miss: already at 60 s, the most without a quota increase.
    let mut s = cf_slow_origin(90, false);
    s.distributions = vec![Dist::new().read_timeout(60).0];
    let o = s
        .origin_latency("p99", |m| Some(if in_w(m) { 59_000.0 } else { 800.0 }))
        .evaluate();
    assert_no_fix(finding(&o, "cf.origin_read_timeout"), "quota increase");
}

#[test]
fn port_fix_points_the_origin_at_the_https_listener_port() {
    let mut alb = https_alb();
    for l in alb.0.listeners.iter_mut().flatten() {
        if l.protocol.as_deref() == Some("HTTPS") {
            l.port = Some(8443);
        }
    }
    let o = cf_502_origin_unreachable(alb, Dist::new()).evaluate();
    let f = finding(&o, "cf.origin_port_mismatch");
    assert_fix(
        f,
        &cf_update("--argjson v0 '8443'", ".HTTPSPort = $v0"),
        &cf_update("--argjson v0 '443'", ".HTTPSPort = $v0"),
    );
}

#[test]
fn port_fix_moves_an_http_origin_to_the_https_listener_never_the_other_way() {
    let mut alb = https_alb();
    if let Some(ls) = alb.0.listeners.as_mut() {
        ls.retain(|l| l.protocol.as_deref() == Some("HTTPS"));
    }
    let o = cf_502_origin_unreachable(alb, Dist::new().protocol_policy("http-only")).evaluate();
    assert_fix(
        finding(&o, "cf.origin_port_mismatch"),
        &cf_update(
            "--argjson v0 '\"https-only\"' --argjson v1 '443'",
            ".OriginProtocolPolicy = $v0 | .HTTPSPort = $v1",
        ),
        &cf_update(
            "--argjson v0 '\"http-only\"' --argjson v1 '443'",
            ".OriginProtocolPolicy = $v0 | .HTTPSPort = $v1",
        ),
    );
    // Near miss: HTTPS wanted, only HTTP served: no downgrade is proposed.
    let o = cf_502_origin_unreachable(Alb::new(), Dist::new()).evaluate();
    assert_no_fix(
        finding(&o, "cf.origin_port_mismatch"),
        "web has no HTTPS listener",
    );
}

#[test]
fn tls_protocol_fix_sets_a_listener_policy_with_tls12() {
    let o = cf_tls_mismatch(TLS13_ONLY).evaluate();
    assert_fix(
        finding(&o, "cf.origin_tls_protocol_mismatch"),
        &format!(
            "aws elbv2 modify-listener --listener-arn '{HTTPS_LISTENER_ARN}' --ssl-policy 'ELBSecurityPolicy-TLS13-1-2-2021-06'"
        ),
        &format!(
            "aws elbv2 modify-listener --listener-arn '{HTTPS_LISTENER_ARN}' --ssl-policy '{TLS13_ONLY}'"
        ),
    );
}

#[test]
fn tls_protocol_fix_adds_tls12_to_the_origin_when_the_listener_takes_it() {
    let o = cf_502_origin_unreachable(
        Alb::new().https(certificate("*.example.com", &["example.com"]), TLS12_13),
        Dist::new().ssl_protocols(&["TLSv1"]),
    )
    .evaluate();
    let f = finding(&o, "cf.origin_tls_protocol_mismatch");
    assert_fix(
        f,
        &cf_update(
            "--argjson v0 '{\"Items\":[\"TLSv1\",\"TLSv1.2\"],\"Quantity\":2}'",
            ".OriginSslProtocols = $v0",
        ),
        &cf_update(
            "--argjson v0 '{\"Items\":[\"TLSv1\"],\"Quantity\":1}'",
            ".OriginSslProtocols = $v0",
        ),
    );
}

#[test]
fn expired_certificate_fix_replaces_the_default_certificate() {
    let o = cf_cert_expired(Dist::new()).evaluate();
    let f = finding(&o, "cf.origin_cert_expired");
    assert_fix(
        f,
        &format!(
            "aws elbv2 modify-listener --listener-arn '{HTTPS_LISTENER_ARN}' --certificates CertificateArn=<new-certificate-arn>"
        ),
        &format!(
            "aws elbv2 modify-listener --listener-arn '{HTTPS_LISTENER_ARN}' --certificates CertificateArn='{CERT_ARN}'"
        ),
    );
    assert!(
        step_starting(f, "Fix: ").contains(
            "aws acm request-certificate --domain-name 'origin.example.com' --validation-method DNS"
        ),
        "{:#?}",
        f.next_steps
    );
}

#[test]
fn expired_sni_certificate_fix_swaps_it_and_rolls_back() {
    let mut c = renewal(certificate(ORIGIN_DOMAIN, &[]), "FAILED");
    c.not_after = Some(now() - Duration::days(2));
    c.status = Some("EXPIRED".into());
    let o = sni_origin(c).evaluate();
    let sni = format!("{CERT_ARN}-sni1");
    let op = |op: &str, arn: &str| {
        format!(
            "aws elbv2 {op}-listener-certificates --listener-arn '{HTTPS_LISTENER_ARN}' --certificates CertificateArn={arn}"
        )
    };
    let new = "<new-certificate-arn>";
    assert_fix(
        finding(&o, "cf.origin_cert_expired"),
        &format!(
            "{} && {}",
            op("add", new),
            op("remove", &format!("'{sni}'"))
        ),
        &format!(
            "{} && {}",
            op("add", &format!("'{sni}'")),
            op("remove", new)
        ),
    );
}

#[test]
fn hostname_fix_adds_a_certificate_for_the_origin_name() {
    let o = sni_origin(certificate("api.example.net", &[])).evaluate();
    let op = |op: &str| {
        format!(
            "aws elbv2 {op}-listener-certificates --listener-arn '{HTTPS_LISTENER_ARN}' --certificates CertificateArn=<new-certificate-arn>"
        )
    };
    assert_fix(
        finding(&o, "cf.origin_cert_hostname_mismatch"),
        &op("add"),
        &op("remove"),
    );
    // Near miss: no certificate can cover the raw ELB name.
    let o = cf_502_origin_unreachable(
        Alb::new().https(certificate("api.example.net", &[]), TLS12_13),
        Dist::new().origin_domain(LB_DNS),
    )
    .evaluate();
    assert_no_fix(
        finding(&o, "cf.origin_cert_hostname_mismatch"),
        "no ACM certificate can cover",
    );
}
