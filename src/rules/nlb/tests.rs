//! Each NLB rule: a positive case and a near miss.

use crate::rules::testkit::*;

/// An alarm on the NLB's `UnHealthyHostCount` for `web-tg`.
fn nlb_scenario(alb: Alb) -> Scenario {
    Scenario::new(nlb_alarm("UnHealthyHostCount", "Maximum")).alb(alb.network())
}

#[test]
fn all_targets_unhealthy_on_an_nlb_is_the_nlb_rule() {
    let o = nlb_scenario(Alb::new().all_targets(3, "unhealthy", Some("Target.FailedHealthChecks")))
        .nlb_tg_metric("HealthyHostCount", "Minimum", |m| {
            Some(if in_w(m) { 0.0 } else { 3.0 })
        })
        .evaluate();
    assert_answer(&o, "nlb.all_targets_unhealthy");
    assert_evidence(
        finding(&o, "nlb.all_targets_unhealthy"),
        "HealthyHostCount Minimum 0",
    );
    assert!(
        o.findings.iter().all(|f| !f.rule.starts_with("alb.")),
        "{}",
        show(&o)
    );
    // Near miss: healthy targets.
    let o = nlb_scenario(Alb::new().all_targets(3, "healthy", None)).evaluate();
    assert_silent(&o, "nlb.all_targets_unhealthy");
}

#[test]
fn no_registered_targets_on_an_nlb() {
    let o = nlb_scenario(Alb::new().targets(&[])).evaluate();
    assert_answer(&o, "nlb.no_registered_targets");
    let o = nlb_scenario(Alb::new().all_targets(2, "healthy", None)).evaluate();
    assert_silent(&o, "nlb.no_registered_targets");
}

#[test]
fn target_resets_rising_from_healthy_targets() {
    let o = nlb_scenario(Alb::new().all_targets(3, "healthy", None))
        .nlb_metric("TCP_Target_Reset_Count", |m| {
            Some(if in_w(m) { 400.0 } else { 2.0 })
        })
        .evaluate();
    assert_answer(&o, "nlb.target_resets");
    // Near miss: the same rate as the hour before.
    let o = nlb_scenario(Alb::new().all_targets(3, "healthy", None))
        .nlb_metric("TCP_Target_Reset_Count", |_| Some(40.0))
        .evaluate();
    assert_silent(&o, "nlb.target_resets");
}

#[test]
fn target_tls_handshake_needs_a_tls_group() {
    let o = nlb_scenario(
        Alb::new()
            .all_targets(3, "healthy", None)
            .tg_protocol("TLS"),
    )
    .nlb_metric("TargetTLSNegotiationErrorCount", |m| {
        Some(if in_w(m) { 90.0 } else { 0.0 })
    })
    .evaluate();
    assert_answer(&o, "nlb.target_tls_handshake");
    let o = nlb_scenario(
        Alb::new()
            .all_targets(3, "healthy", None)
            .tg_protocol("TCP"),
    )
    .nlb_metric("TargetTLSNegotiationErrorCount", |m| {
        Some(if in_w(m) { 90.0 } else { 0.0 })
    })
    .evaluate();
    assert_silent(&o, "nlb.target_tls_handshake");
}

#[test]
fn port_allocation_errors() {
    let o = nlb_scenario(Alb::new().all_targets(3, "healthy", None))
        .nlb_metric("PortAllocationErrorCount", |m| {
            Some(if in_w(m) { 25.0 } else { 0.0 })
        })
        .evaluate();
    assert_answer(&o, "nlb.port_allocation");
    let o = nlb_scenario(Alb::new().all_targets(3, "healthy", None))
        .nlb_metric("PortAllocationErrorCount", |_| Some(0.0))
        .evaluate();
    assert_silent(&o, "nlb.port_allocation");
}
