//! The rule engine against the cause catalogue (`docs/rules.md`), one rule at a time.
//!
//! Every rule id the code implements has a positive case (an alarm and evidence built in code
//! with `support/evidence.rs`, asserting the rule fires and, for causes, that it is the answer:
//! `findings[0]` with status diagnosed) and at least one near miss: the evidence of its nearest
//! neighbour in the catalogue's "told apart from" column, asserting the rule stays silent (or
//! is not the answer) and how the two rank. The catalogue's ranking rules (sub-causes above
//! `alb.all_targets_unhealthy`, the ALB answer above `cf.origin_passthrough`, warnings never
//! above a cause, the reporting bar, missing inputs) have tests of their own.
//!
//! Tests named `catalogue_*` state a catalogue requirement the rules did not meet when they
//! were written; they fail until the rule is fixed (see the report that came with this file).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/evidence.rs"]
mod evidence_builder;

use chrono::Duration;
use fivexx::rules::{Ctx, Draft, Kind, Outcome, catalog};
use fivexx::verdict::{Finding, Status};

use evidence_builder::{
    ALL_VIEWER, ALL_VIEWER_EXCEPT_HOST, Alb, Dist, LB_DNS, ORIGIN_DOMAIN, Scenario, alb_alarm,
    certificate, cf_alarm, flat, in_w, now, renewal, step, tg_alarm, validated_by, with_load,
};

// ---------------------------------------------------------------- assertions

/// Every finding the rules draft before ranking (the ranking drops findings below the
/// reporting bar, so a rule that fires at 0.3 is only visible here).
fn drafts(s: &Scenario) -> Vec<Draft> {
    let e = s.evidence();
    catalog::detect(&Ctx::new(&s.alarm, &e))
}

fn drafted(s: &Scenario, rule: &str) -> Option<Draft> {
    drafts(s).into_iter().find(|d| d.rule == rule)
}

/// The outcome in one line per finding, for failure messages.
fn show(o: &Outcome) -> String {
    let mut s = format!("status {:?}: {}\n", o.status, o.summary);
    for f in &o.findings {
        s.push_str(&format!("  {} {:.2}\n", f.rule, f.confidence));
        for e in &f.evidence {
            s.push_str(&format!("      - {e}\n"));
        }
    }
    s
}

fn position(o: &Outcome, rule: &str) -> Option<usize> {
    o.findings.iter().position(|f| f.rule == rule)
}

#[track_caller]
fn finding<'a>(o: &'a Outcome, rule: &str) -> &'a Finding {
    match o.findings.iter().find(|f| f.rule == rule) {
        Some(f) => f,
        None => panic!("{rule} should fire; got\n{}", show(o)),
    }
}

/// `rule` is the answer: findings[0], status diagnosed.
#[track_caller]
fn assert_answer(o: &Outcome, rule: &str) {
    assert_eq!(
        o.findings.first().map(|f| f.rule.as_str()),
        Some(rule),
        "{rule} should be findings[0]; got\n{}",
        show(o)
    );
    assert_eq!(o.status, Status::Diagnosed, "{}", show(o));
    assert!(o.findings[0].confidence >= 0.4, "{}", show(o));
}

#[track_caller]
fn assert_fires(o: &Outcome, rule: &str) {
    let _ = finding(o, rule);
}

#[track_caller]
fn assert_silent(o: &Outcome, rule: &str) {
    assert!(
        position(o, rule).is_none(),
        "{rule} should stay silent; got\n{}",
        show(o)
    );
}

#[track_caller]
fn assert_not_answer(o: &Outcome, rule: &str) {
    assert_ne!(
        o.findings.first().map(|f| f.rule.as_str()),
        Some(rule),
        "{rule} must not be findings[0]; got\n{}",
        show(o)
    );
}

/// Both fire and `upper` ranks above `lower`.
#[track_caller]
fn assert_above(o: &Outcome, upper: &str, lower: &str) {
    let (Some(u), Some(l)) = (position(o, upper), position(o, lower)) else {
        panic!("{upper} and {lower} should both fire; got\n{}", show(o));
    };
    assert!(u < l, "{upper} should rank above {lower}; got\n{}", show(o));
    assert!(
        o.findings[u].confidence >= o.findings[l].confidence,
        "{}",
        show(o)
    );
}

/// `rule` ranks above `other` when both fire; `other` may be silent or below the bar.
#[track_caller]
fn assert_outranks_if_present(o: &Outcome, rule: &str, other: &str) {
    let r = position(o, rule).unwrap_or_else(|| panic!("{rule} should fire; got\n{}", show(o)));
    if let Some(x) = position(o, other) {
        assert!(r < x, "{rule} should rank above {other}; got\n{}", show(o));
    }
}

#[track_caller]
fn assert_evidence(f: &Finding, needle: &str) {
    assert!(
        f.evidence.iter().any(|e| e.contains(needle)),
        "{}: no evidence line contains `{needle}`: {:#?}",
        f.rule,
        f.evidence
    );
}

// ---------------------------------------------------------------- ALB scenarios

const ELB_5XX: &str = "HTTPCode_ELB_5XX_Count";

/// ELB 503 for every request from W on; no request reaches a target (RequestCount stops).
fn alb_503_outage(alb: Alb) -> Scenario {
    Scenario::new(alb_alarm(ELB_5XX))
        .alb(alb)
        .requests_stop_in_w()
        .target_2xx(|m| if in_w(m) { 0.0 } else { 1.0 })
        .elb(503, step(1.0))
}

/// `web-tg` has no targets at all: ELB 503.
fn no_registered_targets() -> Scenario {
    alb_503_outage(Alb::new().targets(&[])).healthy_hosts(|_| 0.0)
}

/// Targets registered but none can take traffic (two `unused`, one `draining`): ELB 503.
fn no_routable_targets() -> Scenario {
    alb_503_outage(Alb::new().targets(&[
        ("unused", Some("Target.NotInUse")),
        ("unused", Some("Target.NotInUse")),
        ("draining", Some("Target.DeregistrationInProgress")),
    ]))
}

/// Every target fails a health check on a path that answers 404, while users are served:
/// an alarm on UnHealthyHostCount.
fn all_unhealthy_wrong_health_path() -> Scenario {
    Scenario::new(tg_alarm("UnHealthyHostCount", "Maximum"))
        .alb(
            Alb::new()
                .focus_tg()
                .all_targets(3, "unhealthy", Some("Target.ResponseCodeMismatch")),
        )
        .requests()
        .target_2xx(flat(1.0))
        .healthy_hosts(|m| if in_w(m) { 0.0 } else { 3.0 })
        .tg_metric("UnHealthyHostCount", "Maximum", |m| {
            Some(if in_w(m) { 3.0 } else { 0.0 })
        })
        .response_time("Average", |_| Some(0.12))
}

/// 1% of requests end in ELB 502 in every minute, quiet or busy, for the whole two hours;
/// targets healthy, no connection or TLS errors; idle timeout 120 s.
fn keepalive() -> Scenario {
    Scenario::new(alb_alarm(ELB_5XX))
        .alb(Alb::new().idle_timeout(120))
        .requests()
        .elb(502, flat(0.01))
        .target_2xx(flat(0.99))
        .response_time("Average", |_| Some(0.15))
        .response_time("Maximum", |_| Some(2.0))
}

/// ELB 502 from W on with connection errors; one of three targets fails health checks.
fn connection_refused() -> Scenario {
    Scenario::new(alb_alarm(ELB_5XX))
        .alb(Alb::new().targets(&[
            ("healthy", None),
            ("healthy", None),
            ("unhealthy", Some("Target.FailedHealthChecks")),
        ]))
        .requests()
        .elb(502, step(0.3))
        .alb_count("TargetConnectionErrorCount", step(0.3))
        .target_2xx(|m| if in_w(m) { 0.7 } else { 1.0 })
        .response_time("Average", |_| Some(0.15))
}

/// A deploy: one target draining from W on, deregistration delay 5 s against requests up to
/// 20 s; 2% of requests end in ELB 502 from the deploy on.
fn deregistration(alb: Alb) -> Scenario {
    Scenario::new(alb_alarm(ELB_5XX))
        .alb(alb)
        .requests()
        .elb(502, step(0.02))
        .target_2xx(|m| if in_w(m) { 0.98 } else { 1.0 })
        .response_time("Average", |_| Some(0.3))
        .response_time("Maximum", |_| Some(20.0))
}

fn draining_alb() -> Alb {
    Alb::new().targets(&[
        ("healthy", None),
        ("healthy", None),
        ("draining", Some("Target.DeregistrationInProgress")),
    ])
}

/// 10% of requests end in ELB 502 from W on, independent of load; targets healthy, no
/// connection or TLS errors.
fn malformed() -> Scenario {
    Scenario::new(alb_alarm(ELB_5XX))
        .alb(Alb::new())
        .requests()
        .elb(502, step(0.1))
        .target_2xx(|m| if in_w(m) { 0.9 } else { 1.0 })
        .response_time("Average", |_| Some(0.15))
        .response_time("Maximum", |_| Some(2.0))
}

/// From W on every request times out connecting (ELB 504, connection errors), every target
/// fails health checks with Target.Timeout, no TargetResponseTime in W.
fn unreachable() -> Scenario {
    Scenario::new(alb_alarm(ELB_5XX))
        .alb(Alb::new().all_targets(3, "unhealthy", Some("Target.Timeout")))
        .requests()
        .elb(504, step(1.0))
        .alb_count("TargetConnectionErrorCount", step(3.0))
        .target_2xx(|m| if in_w(m) { 0.0 } else { 1.0 })
        .response_time("Maximum", |m| (!in_w(m)).then_some(0.4))
        .healthy_hosts(|m| if in_w(m) { 0.0 } else { 3.0 })
}

/// From W on 5% of requests end in ELB 504 after TargetResponseTime reaches the 60 s idle
/// timeout; connections open fine, targets healthy.
fn response_timeout(alb: Alb, timeout: f64) -> Scenario {
    Scenario::new(alb_alarm(ELB_5XX))
        .alb(alb)
        .requests()
        .elb(504, step(0.05))
        .target_2xx(|m| if in_w(m) { 0.95 } else { 1.0 })
        .response_time("Maximum", move |m| {
            Some(if in_w(m) { timeout - 0.1 } else { 2.0 })
        })
        .response_time("p99", move |m| {
            Some(if in_w(m) { timeout - 1.0 } else { 1.2 })
        })
}

/// The error ratio rises with load (2% quiet, 12% busy) in W and B alike: ELB 504 and
/// connection errors following RequestCount, p99 latency following it, one target of three
/// failing health checks with Target.Timeout.
fn overloaded() -> Scenario {
    Scenario::new(alb_alarm(ELB_5XX))
        .alb(Alb::new().targets(&[
            ("healthy", None),
            ("healthy", None),
            ("unhealthy", Some("Target.Timeout")),
        ]))
        .requests()
        .elb(504, with_load)
        .alb_count("TargetConnectionErrorCount", |m| 0.5 * with_load(m))
        .target_2xx(|m| 1.0 - with_load(m))
        .response_time("p99", |m| Some(2.0 + 20.0 * with_load(m)))
        .response_time("Maximum", |m| Some(7.0 + 20.0 * with_load(m)))
}

/// HTTPS target group; from W on TLS handshakes to the targets fail: ELB 502 and
/// TargetTLSNegotiationErrorCount.
fn tls_handshake(protocol: &str) -> Scenario {
    Scenario::new(alb_alarm(ELB_5XX))
        .alb(Alb::new().tg_protocol(protocol))
        .requests()
        .elb(502, step(0.3))
        .alb_count("TargetTLSNegotiationErrorCount", step(0.3))
        .target_2xx(|m| if in_w(m) { 0.7 } else { 1.0 })
}

/// A Lambda target group whose function fails from W on (LambdaUserError, ELB 502).
fn lambda_error() -> Scenario {
    Scenario::new(alb_alarm(ELB_5XX))
        .alb(Alb::new().lambda_target())
        .requests()
        .elb(502, step(0.2))
        .alb_count("LambdaUserError", step(0.2))
        .target_2xx(|m| if in_w(m) { 0.8 } else { 1.0 })
}

/// From W on the application answers 20% of requests with 5xx; the load balancer adds none.
fn app_5xx() -> Scenario {
    Scenario::new(alb_alarm("HTTPCode_Target_5XX_Count"))
        .alb(Alb::new())
        .requests()
        .target_5xx(step(0.2))
        .target_2xx(|m| if in_w(m) { 0.8 } else { 1.0 })
        .response_time("Average", |_| Some(0.2))
}

/// From W on the load balancer answers 30% of requests with 500 itself (`alb` decides
/// whether an authenticate action exists); `auth_errors` adds ELBAuthError.
fn lb_500(alb: Alb, auth_errors: bool) -> Scenario {
    let s = Scenario::new(alb_alarm(ELB_5XX))
        .alb(alb)
        .requests()
        .elb(500, step(0.3))
        .target_2xx(|m| if in_w(m) { 0.7 } else { 1.0 });
    if auth_errors {
        s.alb_count("ELBAuthError", step(0.3))
    } else {
        s
    }
}

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
    // Idle timeout 120 s: a 59.9 s maximum is nowhere near it.
    let o = response_timeout(Alb::new().idle_timeout(120), 60.0).evaluate();
    assert_silent(&o, "alb.target_response_timeout");
    let o = response_timeout(Alb::new().idle_timeout(120), 120.0).evaluate();
    assert_answer(&o, "alb.target_response_timeout");
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

// ---------------------------------------------------------------- CloudFront scenarios

const CF_5XX: &str = "5xxErrorRate";
const TLS12_13: &str = "ELBSecurityPolicy-TLS13-1-2-2021-06";
const TLS13_ONLY: &str = "ELBSecurityPolicy-TLS13-1-3-2021-06";

/// An ALB whose HTTPS:443 listener has a valid certificate for `*.example.com`.
fn https_alb() -> Alb {
    Alb::new().https(certificate("*.example.com", &["example.com"]), TLS12_13)
}

/// A CloudFront alarm whose 502 rate steps to 40% in W while the origin ALB sees its requests
/// fall away (CloudFront cannot complete a connection to it).
fn cf_502_origin_unreachable(alb: Alb, dist: Dist) -> Scenario {
    Scenario::new(cf_alarm(CF_5XX))
        .dist(dist)
        .alb(alb)
        .cf_requests(10.0)
        .cf_errors(502, step(0.4))
        .requests_stop_in_w()
        .target_2xx(|m| if in_w(m) { 0.0 } else { 1.0 })
}

/// The ALB is fine and busy; CloudFront's errors come from the edge.
fn cf_with_clean_origin(dist: Dist) -> Scenario {
    Scenario::new(cf_alarm(CF_5XX))
        .dist(dist)
        .alb(https_alb())
        .cf_requests(10.0)
        .requests()
        .target_2xx(flat(1.0))
}

/// The origin certificate `*.example.com` expired two days ago; DNS renewal failed.
fn expired_certificate() -> fivexx::evidence::acm::CertificateDetail {
    let mut c = renewal(certificate("*.example.com", &["example.com"]), "FAILED");
    c.not_after = Some(now() - Duration::days(2));
    c.status = Some("EXPIRED".into());
    c
}

/// An email-validated certificate that expires in 20 days, renewal waiting for approval.
fn expiring_certificate() -> fivexx::evidence::acm::CertificateDetail {
    let mut c = renewal(
        validated_by(certificate("*.example.com", &["example.com"]), "EMAIL"),
        "PENDING_VALIDATION",
    );
    c.not_after = Some(now() + Duration::days(20));
    c
}

fn cf_cert_expired(dist: Dist) -> Scenario {
    cf_502_origin_unreachable(Alb::new().https(expired_certificate(), TLS12_13), dist)
}

/// The origin is the ALB's raw DNS name, the certificate covers www.example.com only.
fn cf_hostname_mismatch(dist: Dist) -> Scenario {
    cf_502_origin_unreachable(
        Alb::new().https(certificate("www.example.com", &["example.com"]), TLS12_13),
        dist.origin_domain(LB_DNS),
    )
    .alb_count("ClientTLSNegotiationErrorCount", |m| {
        if in_w(m) { 0.4 } else { 0.0 }
    })
}

fn cf_tls_mismatch(policy: &str) -> Scenario {
    cf_502_origin_unreachable(
        Alb::new().https(certificate("*.example.com", &["example.com"]), policy),
        Dist::new().ssl_protocols(&["TLSv1.2"]),
    )
}

/// 20% of CloudFront requests end in 504 from W on; OriginLatency reaches 29.5 s against
/// OriginReadTimeout 30 s; the ALB (idle timeout `idle`) sees TargetResponseTime near 30 s.
fn cf_slow_origin(idle: u32, alb_504: bool) -> Scenario {
    let s = Scenario::new(cf_alarm(CF_5XX))
        .dist(Dist::new().read_timeout(30))
        .alb(https_alb().idle_timeout(idle))
        .cf_requests(1.0)
        .cf_errors(504, step(0.2))
        .origin_latency("p99", |m| Some(if in_w(m) { 29_500.0 } else { 800.0 }))
        .origin_latency("Maximum", |m| {
            Some(if in_w(m) { 30_000.0 } else { 1_500.0 })
        })
        .origin_latency("Average", |m| Some(if in_w(m) { 6_000.0 } else { 200.0 }))
        .requests()
        .target_2xx(|m| if in_w(m) { 0.8 } else { 1.0 })
        .response_time("p99", |m| Some(if in_w(m) { 29.0 } else { 0.7 }))
        .response_time("Maximum", move |m| {
            Some(if in_w(m) {
                f64::from(idle).min(45.0) - 0.1
            } else {
                1.4
            })
        });
    if alb_504 { s.elb(504, step(0.2)) } else { s }
}

/// An internal ALB behind CloudFront: 504 from W on, no OriginLatency in W, ALB requests gone.
fn cf_internal_origin(dist: Dist) -> Scenario {
    Scenario::new(cf_alarm(CF_5XX))
        .dist(dist)
        .alb(https_alb().internal())
        .cf_requests(10.0)
        .cf_errors(504, step(0.5))
        .origin_latency("Average", |m| (!in_w(m)).then_some(150.0))
        .requests_stop_in_w()
}

/// Keep-alive 502s at the ALB (1% of requests), passed on one for one by CloudFront (no
/// caching: CloudFront requests = ALB requests).
fn cf_passthrough_keepalive() -> Scenario {
    Scenario::new(cf_alarm(CF_5XX))
        .dist(Dist::new())
        .alb(https_alb().idle_timeout(120))
        .cf_requests(1.0)
        .cf_errors(502, flat(0.01))
        .requests()
        .elb(502, flat(0.01))
        .target_2xx(flat(0.99))
}

/// CloudFront 503 rising with load, the origin ALB answering ELB 503 in step with it.
fn cf_origin_capacity() -> Scenario {
    Scenario::new(cf_alarm(CF_5XX))
        .dist(Dist::new())
        .alb(https_alb())
        .cf_requests(1.0)
        .cf_errors(503, with_load)
        .requests()
        .elb(503, with_load)
        .target_2xx(|m| 1.0 - with_load(m))
}

/// A Lambda@Edge function returns invalid responses from W on: CloudFront 502.
fn cf_lambda_validation() -> Scenario {
    cf_with_clean_origin(Dist::new().lambda_edge())
        .cf_errors(502, step(0.3))
        .lambda_edge_metric("LambdaValidationError", step(0.3))
}

/// A Lambda@Edge function is throttled as traffic peaks: CloudFront 503 rising with load.
fn cf_lambda_throttle() -> Scenario {
    cf_with_clean_origin(Dist::new().lambda_edge())
        .cf_errors(503, with_load)
        .lambda_edge_metric("LambdaLimitExceededErrors", with_load)
}

/// A CloudFront Function fails from W on: CloudFront 502/503.
fn cf_function_error() -> Scenario {
    cf_with_clean_origin(Dist::new().function())
        .cf_errors(503, step(0.3))
        .function_metric("FunctionExecutionErrors", step(0.3))
}

/// CloudFront 503 at 5% from W on, the origin clean, nothing following load.
fn cf_edge_503() -> Scenario {
    cf_with_clean_origin(Dist::new()).cf_errors(503, step(0.05))
}

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
fn sni_origin(origin_cert: fivexx::evidence::acm::CertificateDetail) -> Scenario {
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

// ---------------------------------------------------------------- cf.origin_capacity_503

#[test]
fn origin_capacity_503_fires_when_origin_503s_follow_load() {
    let o = cf_origin_capacity().evaluate();
    let f = finding(&o, "cf.origin_capacity_503");
    assert_eq!(f.codes, vec![503]);
    assert_evidence(f, "503ErrorRate rises with Requests");
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

// ---------------------------------------------------------------- cert.renewal_risk

#[test]
fn renewal_risk_warns_beside_the_answer() {
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
    let f = finding(&o, "cert.renewal_risk");
    assert!(f.codes.is_empty(), "no 5xx yet: {:?}", f.codes);
    assert_evidence(f, "email-validated");
}

#[test]
fn renewal_risk_for_an_imported_certificate() {
    let mut c = certificate("*.example.com", &["example.com"]);
    c.kind = Some("IMPORTED".into());
    c.renewal_eligibility = Some("INELIGIBLE".into());
    c.renewal_summary = None;
    c.not_after = Some(now() + Duration::days(30));
    let o = keepalive()
        .alb(Alb::new().idle_timeout(120).https(c, TLS12_13))
        .evaluate();
    let f = finding(&o, "cert.renewal_risk");
    assert_evidence(f, "imported");
}

#[test]
fn renewal_risk_silent_for_a_renewing_dns_certificate() {
    let mut c = renewal(
        certificate("*.example.com", &["example.com"]),
        "PENDING_AUTO_RENEWAL",
    );
    c.not_after = Some(now() + Duration::days(20));
    let o = cf_502_origin_unreachable(Alb::new().https(c, TLS12_13), Dist::new()).evaluate();
    assert_silent(&o, "cert.renewal_risk");
}

#[test]
fn renewal_risk_silent_for_an_expired_certificate() {
    let o = cf_cert_expired(Dist::new()).evaluate();
    assert_silent(&o, "cert.renewal_risk");
    assert_answer(&o, "cf.origin_cert_expired");
}

// ---------------------------------------------------------------- guard.waf_not_5xx

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

/// `docs/rules.md`: `guard.cf_edge_capacity` is "CloudFront 503 with no origin errors, no function
/// errors, no load anomaly". Checked on the drafts: at 0.3 the guard is dropped from a
/// diagnosed verdict, but it is drafted, with the evidence line "no function errors".
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

// ---------------------------------------------------------------- ranking

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
