//! Rule tests: each rule's positive case and its near misses (the evidence of the causes it
//! is told apart from).

use crate::rules::testkit::*;

// ---------------------------------------------------------------- alb.no_registered_targets

#[test]
fn no_registered_targets_is_the_answer_for_503_with_an_empty_target_group() {
    let o = no_registered_targets().evaluate();
    assert_answer(&o, "alb.no_registered_targets");
    assert!(o.findings[0].confidence >= 0.9, "{}", show(&o));
    assert_eq!(o.findings[0].codes, vec![503]);
    assert_silent(&o, "alb.no_routable_targets");
    assert_silent(&o, "alb.all_targets_unhealthy");
}

#[test]
fn no_registered_targets_without_metrics_still_names_the_empty_group() {
    // CloudWatch unreadable (no series at all for the load balancer): the empty routed group
    // is still the answer, 0.2 lower, with the missing counts named.
    let o = Scenario::new(alb_alarm(ELB_5XX))
        .alb(Alb::new().targets(&[]))
        .evaluate();
    assert_answer(&o, "alb.no_registered_targets");
    let f = &o.findings[0];
    assert!((f.confidence - 0.7).abs() < 1e-9, "{}", show(&o));
    assert!(
        f.evidence
            .iter()
            .any(|e| e.contains("missing: cloudwatch:GetMetricData")),
        "{}",
        show(&o)
    );
}

#[test]
fn no_registered_targets_silent_when_targets_exist_but_none_routable() {
    let o = no_routable_targets().evaluate();
    assert_silent(&o, "alb.no_registered_targets");
    assert_answer(&o, "alb.no_routable_targets");
}

#[test]
fn no_registered_targets_silent_when_registered_targets_are_unhealthy() {
    let o =
        alb_503_outage(Alb::new().all_targets(3, "unhealthy", Some("Target.Timeout"))).evaluate();
    assert_silent(&o, "alb.no_registered_targets");
    assert_fires(&o, "alb.all_targets_unhealthy");
}

#[test]
fn no_registered_targets_needs_503_to_dominate() {
    // An empty target group, but the ELB 5xx are 502s: not the documented no-target 503.
    let o = Scenario::new(alb_alarm(ELB_5XX))
        .alb(Alb::new().targets(&[]))
        .requests()
        .elb(502, step(0.5))
        .elb(503, step(0.05))
        .evaluate();
    assert_silent(&o, "alb.no_registered_targets");
}

// ---------------------------------------------------------------- alb.no_routable_targets

#[test]
fn no_routable_targets_is_the_answer_for_503_with_unused_and_draining_targets() {
    let o = no_routable_targets().evaluate();
    assert_answer(&o, "alb.no_routable_targets");
    assert_eq!(o.findings[0].codes, vec![503]);
}

#[test]
fn no_routable_targets_counts_initial_targets() {
    let o = alb_503_outage(Alb::new().all_targets(2, "initial", Some("Elb.InitialHealthChecking")))
        .evaluate();
    assert_answer(&o, "alb.no_routable_targets");
}

#[test]
fn no_routable_targets_silent_when_the_group_is_empty() {
    let o = no_registered_targets().evaluate();
    assert_silent(&o, "alb.no_routable_targets");
    assert_answer(&o, "alb.no_registered_targets");
}

#[test]
fn no_routable_targets_silent_when_targets_are_unhealthy_because_they_fail_open() {
    let o =
        alb_503_outage(Alb::new().all_targets(3, "unhealthy", Some("Target.ResponseCodeMismatch")))
            .evaluate();
    assert_silent(&o, "alb.no_routable_targets");
    assert_answer(&o, "alb.all_targets_unhealthy");
}

// ---------------------------------------------------------------- alb.all_targets_unhealthy

/// Defect class 4: the alarm names `web-tg`, but the same failing health check sits on the
/// other routed groups, which carry most of the traffic: every affected group is named with
/// its share of requests.
fn same_health_check_on_three_groups(api_reason: &str) -> Scenario {
    let bad = Some("Target.ResponseCodeMismatch");
    Scenario::new(tg_alarm("UnHealthyHostCount", "Maximum"))
        .alb(
            Alb::new()
                .focus_tg()
                .all_targets(3, "unhealthy", bad)
                .routed_group("api-tg", &[("unhealthy", Some(api_reason)); 4])
                .routed_group("admin-tg", &[("unhealthy", bad), ("unhealthy", bad)]),
        )
        .requests()
        .group_requests("web-tg", 0.2)
        .group_requests("api-tg", 0.7)
        .group_requests("admin-tg", 0.1)
        .target_2xx(flat(1.0))
}

#[test]
fn all_targets_unhealthy_names_every_group_with_the_same_fault() {
    let o = same_health_check_on_three_groups("Target.ResponseCodeMismatch").evaluate();
    assert_answer(&o, "alb.all_targets_unhealthy");
    let f = &o.findings[0];
    assert_evidence(
        f,
        "the same fault on 3 routed groups: web-tg (20% of requests), api-tg (70% of requests), admin-tg (10% of requests)",
    );
    assert!(
        f.title.contains("web-tg and 2 more routed groups"),
        "{}",
        show(&o)
    );
    assert_eq!(
        f.resources
            .iter()
            .filter(|r| r.contains(":targetgroup/"))
            .count(),
        3,
        "{}",
        show(&o)
    );
}

#[test]
fn all_targets_unhealthy_near_miss_a_different_fault_elsewhere() {
    // api-tg fails for another reason: not "the same fault", so only admin-tg joins.
    let o = same_health_check_on_three_groups("Target.Timeout").evaluate();
    let f = finding(&o, "alb.all_targets_unhealthy");
    assert_evidence(
        f,
        "the same fault on 2 routed groups: web-tg (20% of requests), admin-tg (10% of requests)",
    );
    // One group alone: its share is stated, and no other group is named.
    let o = all_unhealthy_wrong_health_path()
        .group_requests("web-tg", 1.0)
        .evaluate();
    let f = finding(&o, "alb.all_targets_unhealthy");
    assert!(
        !f.evidence.iter().any(|e| e.contains("the same fault")),
        "{}",
        show(&o)
    );
}

#[test]
fn all_targets_unhealthy_is_the_answer_when_the_health_check_is_wrong() {
    let o = all_unhealthy_wrong_health_path().evaluate();
    assert_answer(&o, "alb.all_targets_unhealthy");
    let f = &o.findings[0];
    assert_evidence(f, "Target.ResponseCodeMismatch");
    assert_evidence(f, "HTTPCode_Target_2XX_Count");
    assert_evidence(f, "HealthyHostCount Minimum 0");
    assert!(
        f.title.contains("health check"),
        "users are served: the title should blame the health check: {}",
        f.title
    );
}

#[test]
fn all_targets_unhealthy_without_users_served_is_an_outage() {
    // Every target unhealthy, nothing served (fail open: the requests end in ELB 502).
    let o = Scenario::new(alb_alarm(ELB_5XX))
        .alb(Alb::new().all_targets(3, "unhealthy", Some("Target.ResponseCodeMismatch")))
        .requests()
        .elb(502, step(1.0))
        .target_2xx(|m| if in_w(m) { 0.0 } else { 1.0 })
        .healthy_hosts(|m| if in_w(m) { 0.0 } else { 3.0 })
        .evaluate();
    assert_answer(&o, "alb.all_targets_unhealthy");
    assert_eq!(o.findings[0].codes, vec![502, 504], "{}", show(&o));
    assert!(!o.findings[0].title.contains("health check"));
}

#[test]
fn all_targets_unhealthy_silent_when_targets_are_unused_not_unhealthy() {
    let o = no_routable_targets().evaluate();
    assert_silent(&o, "alb.all_targets_unhealthy");
    assert_answer(&o, "alb.no_routable_targets");
}

#[test]
fn all_targets_unhealthy_silent_when_only_some_targets_are_unhealthy() {
    let o = connection_refused().evaluate();
    assert_silent(&o, "alb.all_targets_unhealthy");
    assert_answer(&o, "alb.target_connection_refused");
}

// ---------------------------------------------------------------- alb.keepalive_shorter_than_idle

#[test]
fn keepalive_is_the_answer_for_a_low_steady_502_ratio() {
    let o = keepalive().evaluate();
    assert_answer(&o, "alb.keepalive_shorter_than_idle");
    let f = &o.findings[0];
    assert_eq!(f.codes, vec![502]);
    assert_evidence(f, "idle timeout 120 s");
    assert!(
        f.next_steps.iter().any(|s| s.contains("120 s")),
        "the next step names the configured idle timeout: {:#?}",
        f.next_steps
    );
}

#[test]
fn keepalive_silent_when_targets_refuse_connections() {
    let o = connection_refused().evaluate();
    assert_silent(&o, "alb.keepalive_shorter_than_idle");
    assert_answer(&o, "alb.target_connection_refused");
}

#[test]
fn keepalive_silent_when_targets_are_draining_in_a_deploy() {
    let o = deregistration(draining_alb().deregistration_delay(5)).evaluate();
    assert_silent(&o, "alb.keepalive_shorter_than_idle");
    assert_answer(&o, "alb.deregistration_inflight");
}

#[test]
fn keepalive_silent_when_502s_are_too_many_for_keepalive_races() {
    let o = malformed().evaluate();
    assert_silent(&o, "alb.keepalive_shorter_than_idle");
    assert_answer(&o, "alb.malformed_target_response");
}

#[test]
fn keepalive_outranks_malformed_for_a_uniform_low_rate() {
    let o = keepalive().evaluate();
    assert_not_answer(&o, "alb.malformed_target_response");
    assert_outranks_if_present(
        &o,
        "alb.keepalive_shorter_than_idle",
        "alb.malformed_target_response",
    );
}

// ---------------------------------------------------------------- alb.target_connection_refused

#[test]
fn connection_refused_is_the_answer_for_502_with_connection_errors() {
    let o = connection_refused().evaluate();
    assert_answer(&o, "alb.target_connection_refused");
    assert_evidence(&o.findings[0], "Target.FailedHealthChecks");
}

#[test]
fn connection_refused_also_reads_flapping_targets() {
    // No Target.FailedHealthChecks, but one target healthy and one not: flapping.
    let o = Scenario::new(alb_alarm(ELB_5XX))
        .alb(Alb::new().targets(&[
            ("healthy", None),
            ("unhealthy", Some("Target.ResponseCodeMismatch")),
        ]))
        .requests()
        .elb(502, step(0.3))
        .alb_count("TargetConnectionErrorCount", step(0.3))
        .evaluate();
    assert_answer(&o, "alb.target_connection_refused");
    assert_evidence(&o.findings[0], "flapping");
}

#[test]
fn connection_refused_silent_when_the_network_drops_packets_504() {
    let o = unreachable().evaluate();
    assert_silent(&o, "alb.target_connection_refused");
    assert_answer(&o, "alb.target_unreachable");
}

#[test]
fn connection_refused_silent_without_connection_errors() {
    let o = keepalive().evaluate();
    assert_silent(&o, "alb.target_connection_refused");
    assert_answer(&o, "alb.keepalive_shorter_than_idle");
}

// ---------------------------------------------------------------- alb.target_unreachable

#[test]
fn target_unreachable_is_the_answer_for_504_with_connection_timeouts() {
    let o = unreachable().evaluate();
    assert_answer(&o, "alb.target_unreachable");
    let f = &o.findings[0];
    assert_eq!(f.codes, vec![504]);
    assert_evidence(f, "Target.Timeout");
    assert_evidence(f, "TargetResponseTime has no data");
    assert_evidence(f, "step onset");
    assert!(f.confidence >= 0.9, "{}", show(&o));
}

#[test]
fn target_unreachable_silent_when_targets_connect_and_answer_slowly() {
    let o = response_timeout(Alb::new(), 60.0).evaluate();
    assert_silent(&o, "alb.target_unreachable");
    assert_answer(&o, "alb.target_response_timeout");
}

#[test]
fn target_unreachable_below_overloaded_when_errors_follow_load() {
    let o = overloaded().evaluate();
    assert_answer(&o, "alb.target_overloaded");
    assert_not_answer(&o, "alb.target_unreachable");
}

// ---------------------------------------------------------------- alb.target_overloaded

#[test]
fn target_overloaded_is_the_answer_when_errors_rise_with_load() {
    let o = overloaded().evaluate();
    assert_answer(&o, "alb.target_overloaded");
    let f = &o.findings[0];
    assert_evidence(f, "TargetConnectionErrorCount");
    assert_evidence(f, "p99");
    assert_evidence(f, "Target.Timeout");
}

#[test]
fn target_overloaded_silent_for_a_step_that_ignores_load() {
    let o = unreachable().evaluate();
    assert_silent(&o, "alb.target_overloaded");
    assert_answer(&o, "alb.target_unreachable");
    let o = connection_refused().evaluate();
    assert_silent(&o, "alb.target_overloaded");
    assert_answer(&o, "alb.target_connection_refused");
}

/// `docs/rules.md`, derived signals: "`load_correlated`: the error *ratio* (not the count: a
/// constant 1% of requests also tracks load) rises with RequestCount". Here 30% of requests
/// fail with connection errors in every minute, quiet or busy: the count of connection errors
/// tracks RequestCount, the ratio does not, and no target times out.
#[test]
fn catalogue_target_overloaded_silent_for_a_constant_error_ratio() {
    let o = Scenario::new(alb_alarm(ELB_5XX))
        .alb(Alb::new().targets(&[
            ("healthy", None),
            ("healthy", None),
            ("unhealthy", Some("Target.FailedHealthChecks")),
        ]))
        .requests()
        .elb(502, flat(0.3))
        .alb_count("TargetConnectionErrorCount", flat(0.3))
        .target_2xx(flat(0.7))
        .evaluate();
    assert_answer(&o, "alb.target_connection_refused");
    assert_silent(&o, "alb.target_overloaded");
}

// ---------------------------------------------------------------- alb.target_response_timeout

#[test]
fn target_response_timeout_is_the_answer_for_504_at_the_idle_timeout() {
    let o = response_timeout(Alb::new(), 60.0).evaluate();
    assert_answer(&o, "alb.target_response_timeout");
    let f = &o.findings[0];
    assert_eq!(f.codes, vec![504]);
    assert_evidence(f, "TargetResponseTime Maximum 60 s");
}

#[test]
fn target_response_timeout_reads_the_configured_idle_timeout() {
    // Idle timeout 120 s: a 59.9 s maximum is nowhere near it, and the finding rests on the
    // 504s (healthy targets, no connection errors), quoting the configured timeout.
    let o = response_timeout(Alb::new().idle_timeout(120), 60.0).evaluate();
    assert_answer(&o, "alb.target_response_timeout");
    assert_evidence(&o.findings[0], "below the idle timeout 120 s");
    let o = response_timeout(Alb::new().idle_timeout(120), 120.0).evaluate();
    assert_answer(&o, "alb.target_response_timeout");
    assert_evidence(
        &o.findings[0],
        "Maximum 120 s against the idle timeout 120 s",
    );
}

/// Defect class 2: the requests the ALB gave up on are not in `TargetResponseTime`. A 504
/// plateau with healthy targets and no connection errors is a response timeout even when the
/// maximum measured answer (8 s) is far below the 60 s idle timeout.
fn timeouts_unmeasured() -> Scenario {
    timeouts_unmeasured_on(Alb::new())
}

fn timeouts_unmeasured_on(alb: Alb) -> Scenario {
    Scenario::new(alb_alarm(ELB_5XX))
        .alb(alb)
        .requests()
        .elb(504, step(0.05))
        .target_2xx(|m| if in_w(m) { 0.95 } else { 1.0 })
        .response_time("Maximum", |_| Some(8.0))
        .response_time("p99", |_| Some(3.0))
}

#[test]
fn target_response_timeout_needs_no_maximum_when_the_504s_say_it() {
    let o = timeouts_unmeasured().evaluate();
    assert_answer(&o, "alb.target_response_timeout");
    let f = &o.findings[0];
    assert_evidence(f, "never measured");
    assert_evidence(f, "TargetConnectionErrorCount 0");
    assert!(f.confidence >= 0.8, "{}", show(&o));
}

#[test]
fn target_response_timeout_near_misses_without_the_maximum() {
    // Connection errors: the 504s are failed connections, not slow answers.
    let o = timeouts_unmeasured()
        .alb_count("TargetConnectionErrorCount", step(0.05))
        .evaluate();
    assert_silent(&o, "alb.target_response_timeout");
    // 504 only 60% of ELB 5xx: the 504s alone do not say it.
    let o = timeouts_unmeasured().elb(502, step(0.033)).evaluate();
    assert_silent(&o, "alb.target_response_timeout");
    // A target failing health checks: not the healthy-target picture.
    let o = timeouts_unmeasured_on(Alb::new().targets(&[
        ("healthy", None),
        ("healthy", None),
        ("unhealthy", Some("Target.Timeout")),
    ]))
    .evaluate();
    assert_silent(&o, "alb.target_response_timeout");
    // No metrics read at all: nothing says the connections were fine.
    let o = Scenario::new(alb_alarm(ELB_5XX)).alb(Alb::new()).evaluate();
    assert_silent(&o, "alb.target_response_timeout");
}

/// Defect class 2, second half: a p99 that follows load is not overload on its own; the
/// catalogue names connection errors or `Target.Timeout` targets.
#[test]
fn target_overloaded_needs_connection_errors_or_timing_out_targets() {
    let slow_under_load = || {
        Scenario::new(alb_alarm(ELB_5XX))
            .alb(Alb::new())
            .requests()
            .elb(504, with_load)
            .target_2xx(|m| 1.0 - with_load(m))
            .response_time("p99", |m| Some(2.0 + 20.0 * with_load(m)))
            .response_time("Maximum", |m| Some(7.0 + 20.0 * with_load(m)))
    };
    let o = slow_under_load().evaluate();
    assert_silent(&o, "alb.target_overloaded");
    assert_answer(&o, "alb.target_response_timeout");
    // Near miss: the same with connection errors is overload.
    let o = slow_under_load()
        .alb_count("TargetConnectionErrorCount", |m| 0.5 * with_load(m))
        .evaluate();
    assert_answer(&o, "alb.target_overloaded");
}

#[test]
fn target_response_timeout_silent_when_connections_time_out() {
    let o = unreachable().evaluate();
    assert_silent(&o, "alb.target_response_timeout");
    assert_answer(&o, "alb.target_unreachable");
}

// ---------------------------------------------------------------- alb.target_tls_handshake

#[test]
fn target_tls_handshake_is_the_answer_for_tls_errors_on_an_https_group() {
    let o = tls_handshake("HTTPS").evaluate();
    assert_answer(&o, "alb.target_tls_handshake");
    let f = &o.findings[0];
    assert_evidence(f, "TargetTLSNegotiationErrorCount");
    assert!(
        f.evidence
            .iter()
            .any(|e| e.contains("does not validate target certificates")),
        "never blame target certificate expiry: {:#?}",
        f.evidence
    );
}

#[test]
fn target_tls_handshake_silent_on_a_plain_http_group() {
    let o = tls_handshake("HTTP").evaluate();
    assert_silent(&o, "alb.target_tls_handshake");
}

#[test]
fn target_tls_handshake_silent_without_tls_errors() {
    let o = Scenario::new(alb_alarm(ELB_5XX))
        .alb(Alb::new().tg_protocol("HTTPS"))
        .requests()
        .elb(502, step(0.1))
        .evaluate();
    assert_silent(&o, "alb.target_tls_handshake");
    assert_answer(&o, "alb.malformed_target_response");
}

// ---------------------------------------------------------------- alb.malformed_target_response

#[test]
fn malformed_is_the_answer_for_a_sudden_502_share_with_healthy_targets() {
    let o = malformed().evaluate();
    assert_answer(&o, "alb.malformed_target_response");
    assert!(
        o.findings[0].confidence < 0.8,
        "a diagnosis by elimination stays modest: {}",
        show(&o)
    );
}

#[test]
fn malformed_not_the_answer_for_a_uniform_low_rate() {
    let o = keepalive().evaluate();
    assert_not_answer(&o, "alb.malformed_target_response");
    assert_answer(&o, "alb.keepalive_shorter_than_idle");
}

#[test]
fn malformed_silent_with_connection_or_tls_errors() {
    let o = connection_refused().evaluate();
    assert_silent(&o, "alb.malformed_target_response");
    assert_answer(&o, "alb.target_connection_refused");
    let o = tls_handshake("HTTPS").evaluate();
    assert_silent(&o, "alb.malformed_target_response");
    assert_answer(&o, "alb.target_tls_handshake");
}

// ---------------------------------------------------------------- alb.deregistration_inflight

#[test]
fn deregistration_inflight_is_the_answer_when_502s_begin_with_draining() {
    let o = deregistration(draining_alb().deregistration_delay(5)).evaluate();
    assert_answer(&o, "alb.deregistration_inflight");
    let f = &o.findings[0];
    assert_evidence(f, "draining");
    assert_evidence(f, "shorter than the longest requests");
}

/// Defect class 5: draining beside targets that fail health checks is the orchestrator
/// replacing failed targets (a crash loop), not a deploy cutting requests off.
#[test]
fn deregistration_inflight_silent_in_a_crash_loop() {
    let crash_loop = Alb::new()
        .targets(&[
            ("unhealthy", Some("Target.FailedHealthChecks")),
            ("unhealthy", Some("Target.ResponseCodeMismatch")),
            ("draining", Some("Target.DeregistrationInProgress")),
            ("initial", Some("Elb.InitialHealthChecking")),
        ])
        .deregistration_delay(5);
    let o = deregistration(crash_loop).evaluate();
    assert_silent(&o, "alb.deregistration_inflight");
    // Near miss: a deploy (healthy, registering and draining targets) still fires.
    let deploy = Alb::new()
        .targets(&[
            ("healthy", None),
            ("initial", Some("Elb.RegistrationInProgress")),
            ("draining", Some("Target.DeregistrationInProgress")),
        ])
        .deregistration_delay(5);
    let o = deregistration(deploy).evaluate();
    assert_answer(&o, "alb.deregistration_inflight");
}

#[test]
fn deregistration_inflight_silent_for_steady_errors_outside_deploys() {
    let o = keepalive().evaluate();
    assert_silent(&o, "alb.deregistration_inflight");
    assert_answer(&o, "alb.keepalive_shorter_than_idle");
}

#[test]
fn deregistration_inflight_above_malformed_during_a_deploy() {
    let o = deregistration(draining_alb().deregistration_delay(5)).evaluate();
    assert_outranks_if_present(
        &o,
        "alb.deregistration_inflight",
        "alb.malformed_target_response",
    );
}

// ---------------------------------------------------------------- alb.lambda_target_error

#[test]
fn lambda_target_error_is_the_answer_for_a_failing_function() {
    let o = lambda_error().evaluate();
    assert_answer(&o, "alb.lambda_target_error");
    assert_evidence(&o.findings[0], "LambdaUserError");
}

#[test]
fn lambda_target_error_silent_without_lambda_errors() {
    let o = Scenario::new(alb_alarm(ELB_5XX))
        .alb(Alb::new().lambda_target())
        .requests()
        .elb(502, step(0.2))
        .evaluate();
    assert_silent(&o, "alb.lambda_target_error");
}

#[test]
fn lambda_target_error_silent_on_an_instance_group() {
    let o = Scenario::new(alb_alarm(ELB_5XX))
        .alb(Alb::new())
        .requests()
        .elb(502, step(0.2))
        .alb_count("LambdaUserError", step(0.2))
        .evaluate();
    assert_silent(&o, "alb.lambda_target_error");
}

// ---------------------------------------------------------------- alb.target_app_5xx

#[test]
fn target_app_5xx_is_the_answer_when_only_the_application_answers_5xx() {
    let o = app_5xx().evaluate();
    assert_answer(&o, "alb.target_app_5xx");
    let f = &o.findings[0];
    assert_evidence(f, "HTTPCode_Target_5XX_Count");
    assert_evidence(f, "step onset");
}

#[test]
fn target_app_5xx_silent_when_the_load_balancer_makes_the_5xx() {
    // Some target 5xx, but most 5xx are ELB 502s (keep-alive).
    let o = keepalive().target_5xx(flat(0.001)).evaluate();
    assert_silent(&o, "alb.target_app_5xx");
    assert_answer(&o, "alb.keepalive_shorter_than_idle");
}

#[test]
fn target_app_5xx_load_correlated_reads_as_capacity() {
    let o = Scenario::new(alb_alarm("HTTPCode_Target_5XX_Count"))
        .alb(Alb::new())
        .requests()
        .target_5xx(with_load)
        .evaluate();
    assert_answer(&o, "alb.target_app_5xx");
    assert_evidence(&o.findings[0], "rises with load");
}

// ---------------------------------------------------------------- alb.lb_generated_500

#[test]
fn lb_generated_500_is_the_answer_for_elb_500_with_auth_errors() {
    let o = lb_500(Alb::new().authenticate_oidc(), true).evaluate();
    assert_answer(&o, "alb.lb_generated_500");
    assert_evidence(&o.findings[0], "ELBAuthError");
}

#[test]
fn lb_generated_500_silent_for_502s() {
    let o = malformed().evaluate();
    assert_silent(&o, "alb.lb_generated_500");
    assert_answer(&o, "alb.malformed_target_response");
}

#[test]
fn lb_generated_500_is_not_waf_for_cloudfront_5xx() {
    // A CloudFront web ACL is no reason to blame the load balancer or WAF for 502s.
    let o = cf_cert_expired(Dist::new().web_acl()).evaluate();
    assert_silent(&o, "alb.lb_generated_500");
    assert_answer(&o, "cf.origin_cert_expired");
}

// ---------------------------------------------------------------- alb.fixed_response_5xx

#[test]
fn fixed_response_5xx_names_the_maintenance_rule() {
    let o = alb_503_outage(Alb::new().fixed_response_rule("503"))
        .alb_count("HTTP_Fixed_Response_Count", step(1.0))
        .evaluate();
    assert_answer(&o, "alb.fixed_response_5xx");
    let f = finding(&o, "alb.fixed_response_5xx");
    assert_evidence(f, "listener rule priority 1 (path-pattern /*)");
    assert_evidence(f, "HTTP_Fixed_Response_Count");
    assert!(
        f.next_steps[0].contains("delete-rule"),
        "{:?}",
        f.next_steps
    );
}

#[test]
fn fixed_response_5xx_silent_without_such_a_rule_or_with_unhealthy_targets() {
    // The same 503s without the rule: another cause.
    assert_silent(
        &no_registered_targets().evaluate(),
        "alb.fixed_response_5xx",
    );
    // A fixed 404 is no 5xx.
    let o = alb_503_outage(Alb::new().fixed_response_rule("404")).evaluate();
    assert_silent(&o, "alb.fixed_response_5xx");
    // Every target unhealthy: the 503s are the targets', whatever the rule.
    let o = alb_503_outage(Alb::new().fixed_response_rule("503").all_targets(
        3,
        "unhealthy",
        Some("Target.Timeout"),
    ))
    .evaluate();
    assert_silent(&o, "alb.fixed_response_5xx");
}

// ---------------------------------------------------------------- alb.connection_limit

#[test]
fn connection_limit_supports_a_load_cause_and_is_never_the_answer() {
    let s = overloaded().alb_count("RejectedConnectionCount", |m| 0.1 * with_load(m));
    let d = drafted(&s, "alb.connection_limit").expect("alb.connection_limit should fire");
    assert_eq!(d.kind, Kind::Supporting);
    assert!(d.confidence <= 0.3 + 1e-9, "base 0.3: {}", d.confidence);
    let o = s.evaluate();
    assert_answer(&o, "alb.target_overloaded");
    assert_not_answer(&o, "alb.connection_limit");
}

#[test]
fn connection_limit_raises_the_load_type_cause() {
    // Overloaded without the p99 signal (0.8), so the raise is visible below the 0.95 cap.
    let without_p99 = || {
        Scenario::new(alb_alarm(ELB_5XX))
            .alb(Alb::new().targets(&[
                ("healthy", None),
                ("healthy", None),
                ("unhealthy", Some("Target.Timeout")),
            ]))
            .requests()
            .elb(504, with_load)
            .alb_count("TargetConnectionErrorCount", |m| 0.5 * with_load(m))
    };
    let base = without_p99().evaluate();
    let o = without_p99()
        .alb_count("RejectedConnectionCount", |m| 0.1 * with_load(m))
        .evaluate();
    assert_answer(&o, "alb.target_overloaded");
    assert!(
        finding(&o, "alb.target_overloaded").confidence
            > finding(&base, "alb.target_overloaded").confidence,
        "rejected connections raise the load-type cause:\nwith:\n{}\nwithout:\n{}",
        show(&o),
        show(&base)
    );
}

#[test]
fn connection_limit_alone_is_not_a_diagnosis() {
    let s = Scenario::new(alb_alarm("RejectedConnectionCount"))
        .alb(Alb::new())
        .requests()
        .target_2xx(flat(1.0))
        .alb_count("RejectedConnectionCount", step(0.05));
    assert!(drafted(&s, "alb.connection_limit").is_some());
    let o = s.evaluate();
    assert_ne!(o.status, Status::Diagnosed, "{}", show(&o));
    assert_not_answer(&o, "alb.connection_limit");
}

#[test]
fn connection_limit_silent_without_rejected_connections() {
    assert!(drafted(&overloaded(), "alb.connection_limit").is_none());
}

/// Defect (issue 18, class 5): draining targets were described with another target's reason
/// code. Each state is described with its own targets' reason.
#[test]
fn each_state_is_described_with_its_own_reason() {
    let tg = TargetGroupEvidence {
        health: Some(vec![
            target(0, "unhealthy", Some("Target.Timeout")),
            target(1, "unhealthy", Some("Target.Timeout")),
            target(2, "unhealthy", Some("Target.Timeout")),
            target(3, "draining", Some("Target.DeregistrationInProgress")),
            target(4, "draining", Some("Target.DeregistrationInProgress")),
            target(5, "healthy", None),
        ]),
        ..TargetGroupEvidence::default()
    };
    let h = super::Health::of(&tg).unwrap();
    let draining = h.describe("draining");
    assert!(
        draining.starts_with("2/6 targets draining: Target.DeregistrationInProgress"),
        "{draining}"
    );
    assert!(!draining.contains("Target.Timeout"), "{draining}");
    let unhealthy = h.describe("unhealthy");
    assert!(
        unhealthy.contains("3/6 targets unhealthy: Target.Timeout"),
        "{unhealthy}"
    );
    // A state with no reason of its own gets none, not another state's.
    assert_eq!(h.describe("healthy"), "1/6 targets healthy");
}

// ---------------------------------------------------------------- fix and rollback commands

#[test]
fn response_timeout_fix_doubles_the_idle_timeout_the_requests_ran_into() {
    let o = response_timeout(Alb::new(), 60.0).evaluate();
    let f = finding(&o, "alb.target_response_timeout");
    assert_fix(
        f,
        &format!(
            "aws elbv2 modify-load-balancer-attributes --load-balancer-arn '{LB_ARN}' --attributes Key=idle_timeout.timeout_seconds,Value=120"
        ),
        &format!(
            "aws elbv2 modify-load-balancer-attributes --load-balancer-arn '{LB_ARN}' --attributes Key=idle_timeout.timeout_seconds,Value=60"
        ),
    );
    assert!(step_starting(f, "Fix: ").contains("from 60 to 120"));
    // Near miss: the attributes were not read, so the current value is unknown.
    let o = response_timeout(Alb::new().attributes_unreadable(), 60.0).evaluate();
    assert_no_fix(
        finding(&o, "alb.target_response_timeout"),
        "the attributes of web (its current idle timeout) were not read",
    );
}

#[test]
fn keepalive_fix_gives_the_server_directive_and_the_idle_timeout_command() {
    let o = keepalive().evaluate();
    let f = finding(&o, "alb.keepalive_shorter_than_idle");
    let server = step_starting(f, "Set the server's keep-alive timeout");
    assert!(server.contains("to 125 s"), "{server}");
    assert!(
        server.contains("nginx `keepalive_timeout 125s;`"),
        "{server}"
    );
    assert!(
        server.contains("Node `server.keepAliveTimeout = 125000`"),
        "{server}"
    );
    // The targets' keep-alive is not read: the value to lower to is a placeholder.
    assert_fix(
        f,
        &format!(
            "aws elbv2 modify-load-balancer-attributes --load-balancer-arn '{LB_ARN}' --attributes Key=idle_timeout.timeout_seconds,Value=<seconds-below-the-targets-keep-alive>"
        ),
        &format!(
            "aws elbv2 modify-load-balancer-attributes --load-balancer-arn '{LB_ARN}' --attributes Key=idle_timeout.timeout_seconds,Value=120"
        ),
    );
}

#[test]
fn health_check_fix_changes_the_path_when_the_targets_answer_404() {
    let o = all_unhealthy_wrong_health_path().evaluate();
    let f = finding(&o, "alb.all_targets_unhealthy");
    assert_fix(
        f,
        &format!(
            "aws elbv2 modify-target-group --target-group-arn '{TG_ARN}' --health-check-path <health-check-path> --matcher HttpCode=200 --health-check-port 'traffic-port'"
        ),
        &format!(
            "aws elbv2 modify-target-group --target-group-arn '{TG_ARN}' --health-check-path '/healthz' --matcher HttpCode=200 --health-check-port 'traffic-port'"
        ),
    );
}

#[test]
fn health_check_fix_widens_the_matcher_when_the_targets_answer_a_success() {
    let mut alb =
        Alb::new()
            .focus_tg()
            .all_targets(3, "unhealthy", Some("Target.ResponseCodeMismatch"));
    for t in alb
        .0
        .target_groups
        .iter_mut()
        .flatten()
        .flat_map(|g| g.health.iter_mut().flatten())
    {
        t.target_health.description = Some("Health checks failed with these codes: [204]".into());
    }
    let mut s = all_unhealthy_wrong_health_path();
    s.albs = vec![alb.0];
    let o = s.evaluate();
    let f = finding(&o, "alb.all_targets_unhealthy");
    assert_fix(
        f,
        &format!(
            "aws elbv2 modify-target-group --target-group-arn '{TG_ARN}' --health-check-path '/healthz' --matcher '{{\"HttpCode\":\"200,204\"}}' --health-check-port 'traffic-port'"
        ),
        &format!(
            "aws elbv2 modify-target-group --target-group-arn '{TG_ARN}' --health-check-path '/healthz' --matcher HttpCode=200 --health-check-port 'traffic-port'"
        ),
    );
}

#[test]
fn deregistration_fix_outlasts_twice_the_longest_request() {
    // Delay 5 s against requests up to 20 s: 40 s.
    let o = deregistration(draining_alb().deregistration_delay(5)).evaluate();
    let f = finding(&o, "alb.deregistration_inflight");
    assert_fix(
        f,
        &format!(
            "aws elbv2 modify-target-group-attributes --target-group-arn '{TG_ARN}' --attributes Key=deregistration_delay.timeout_seconds,Value=40"
        ),
        &format!(
            "aws elbv2 modify-target-group-attributes --target-group-arn '{TG_ARN}' --attributes Key=deregistration_delay.timeout_seconds,Value=5"
        ),
    );
    // Near misses: the default 300 s already outlasts them; the delay not read.
    let o = deregistration(draining_alb()).evaluate();
    assert_no_fix(
        finding(&o, "alb.deregistration_inflight"),
        "already outlasts",
    );
    let o = deregistration(draining_alb().tg_attributes_unreadable()).evaluate();
    assert_no_fix(
        finding(&o, "alb.deregistration_inflight"),
        "the deregistration delay of web-tg was not read",
    );
}
