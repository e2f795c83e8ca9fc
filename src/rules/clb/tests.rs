//! Each Classic Load Balancer rule: a positive case and a near miss.

use crate::rules::testkit::*;

const IN: &str = "InService";
const OUT: &str = "OutOfService";

fn elb_5xx(clb: Clb, share: impl Fn(i64) -> f64 + 'static) -> Scenario {
    Scenario::new(clb_alarm("HTTPCode_ELB_5XX"))
        .clb(clb)
        .clb_requests()
        .clb_metric("HTTPCode_ELB_5XX", "Sum", move |m| {
            Some((load(m) * share(m)).round())
        })
}

#[test]
fn no_healthy_instances_when_every_instance_is_out() {
    let o = elb_5xx(Clb::new(&[OUT, OUT, OUT, OUT]), step(1.0))
        .clb_metric("HealthyHostCount", "Minimum", |m| {
            Some(if in_w(m) { 0.0 } else { 4.0 })
        })
        .evaluate();
    assert_answer(&o, "clb.no_healthy_instances");
    assert_evidence(
        finding(&o, "clb.no_healthy_instances"),
        "4/4 instances OutOfService",
    );
    // Near miss: one of six out, the others' own 5xx.
    let o = Scenario::new(clb_alarm("HTTPCode_Backend_5XX"))
        .clb(Clb::new(&[OUT, IN, IN, IN, IN, IN]))
        .clb_requests()
        .clb_metric("HTTPCode_Backend_5XX", "Sum", |m| {
            Some(if in_w(m) { 80.0 } else { 1.0 })
        })
        .evaluate();
    assert_silent(&o, "clb.no_healthy_instances");
    assert_answer(&o, "clb.backend_5xx");
}

#[test]
fn surge_queue_full_when_requests_spill_over() {
    let o = elb_5xx(Clb::new(&[IN, IN, IN]), with_load)
        .clb_metric("SpilloverCount", "Sum", |m| {
            Some((load(m) * with_load(m)).round())
        })
        .clb_metric("SurgeQueueLength", "Maximum", |_| Some(1024.0))
        .evaluate();
    assert_answer(&o, "clb.surge_queue_full");
    assert_evidence(
        finding(&o, "clb.surge_queue_full"),
        "SurgeQueueLength Maximum 1,024",
    );
    let o = elb_5xx(Clb::new(&[IN, IN, IN]), with_load)
        .clb_metric("SurgeQueueLength", "Maximum", |_| Some(300.0))
        .evaluate();
    assert_silent(&o, "clb.surge_queue_full");
}

#[test]
fn idle_timeout_when_latency_reaches_it() {
    let o = elb_5xx(Clb::new(&[IN, IN, IN]), step(0.05))
        .clb_metric("Latency", "Maximum", |m| {
            Some(if in_w(m) { 60.0 } else { 2.0 })
        })
        .evaluate();
    assert_answer(&o, "clb.idle_timeout");
    // The fix doubles the timeout the requests ran into.
    assert_fix(
        finding(&o, "clb.idle_timeout"),
        "aws elb modify-load-balancer-attributes --load-balancer-name 'legacy' --load-balancer-attributes '{\"ConnectionSettings\":{\"IdleTimeout\":120}}'",
        "aws elb modify-load-balancer-attributes --load-balancer-name 'legacy' --load-balancer-attributes '{\"ConnectionSettings\":{\"IdleTimeout\":60}}'",
    );
    let o = elb_5xx(Clb::new(&[IN, IN, IN]), step(0.05))
        .clb_metric("Latency", "Maximum", |_| Some(20.0))
        .evaluate();
    assert_silent(&o, "clb.idle_timeout");
}

#[test]
fn backend_connection_errors_with_instances_in_service() {
    let o = elb_5xx(Clb::new(&[IN, IN, IN]), step(0.1))
        .clb_metric("BackendConnectionErrors", "Sum", |m| {
            Some(if in_w(m) { 110.0 } else { 0.0 })
        })
        .evaluate();
    assert_answer(&o, "clb.backend_connection_errors");
    let o = elb_5xx(Clb::new(&[OUT, OUT, OUT]), step(0.1))
        .clb_metric("BackendConnectionErrors", "Sum", |m| {
            Some(if in_w(m) { 110.0 } else { 0.0 })
        })
        .evaluate();
    assert_silent(&o, "clb.backend_connection_errors");
}

#[test]
fn keepalive_race_is_low_and_steady() {
    let o = elb_5xx(Clb::new(&[IN, IN, IN]), flat(0.003)).evaluate();
    assert_answer(&o, "clb.keepalive_shorter_than_idle");
    // Near miss: an onset, not steady.
    let o = elb_5xx(Clb::new(&[IN, IN, IN]), step(0.003)).evaluate();
    assert_silent(&o, "clb.keepalive_shorter_than_idle");
}

#[test]
fn backend_5xx_when_the_instances_answer_them() {
    let o = Scenario::new(clb_alarm("HTTPCode_Backend_5XX"))
        .clb(Clb::new(&[IN, IN, IN]))
        .clb_requests()
        .clb_metric("HTTPCode_Backend_5XX", "Sum", |m| {
            Some(if in_w(m) { 150.0 } else { 0.0 })
        })
        .evaluate();
    assert_answer(&o, "clb.backend_5xx");
    // Near miss: the load balancer's own 5xx are as many.
    let o = elb_5xx(Clb::new(&[IN, IN, IN]), step(0.1))
        .clb_metric("HTTPCode_Backend_5XX", "Sum", |m| {
            Some(if in_w(m) { 100.0 } else { 0.0 })
        })
        .evaluate();
    assert_silent(&o, "clb.backend_5xx");
}

#[test]
fn a_cloudfront_origin_that_is_a_classic_load_balancer_is_linked() {
    let dns = "legacy-1234567890.us-east-1.elb.amazonaws.com";
    let cf = || {
        Scenario::new(cf_alarm(CF_5XX))
            .dist(Dist::new().classic_origin(CLB_NAME, dns))
            .cf_requests(1.0)
            .cf_errors(503, step(1.0))
            .clb_requests()
            .clb_metric("HTTPCode_ELB_5XX", "Sum", |m| {
                Some(if in_w(m) { load(m) } else { 0.0 })
            })
    };
    let o = cf().clb(Clb::new(&[OUT, OUT, OUT])).evaluate();
    assert_answer(&o, "clb.no_healthy_instances");
    assert_fires(&o, "cf.origin_passthrough");
    assert_above(&o, "clb.no_healthy_instances", "cf.origin_passthrough");
    // Near miss: the Classic Load Balancer's own counts stay clean.
    let o = Scenario::new(cf_alarm(CF_5XX))
        .dist(Dist::new().classic_origin(CLB_NAME, dns))
        .cf_requests(1.0)
        .cf_errors(503, step(1.0))
        .clb(Clb::new(&[IN, IN, IN]))
        .clb_requests()
        .evaluate();
    assert_silent(&o, "cf.origin_passthrough");
}

// ---------------------------------------------------------------- fix and rollback commands

#[test]
fn keepalive_fix_gives_the_server_directive_and_the_idle_timeout_command() {
    let o = elb_5xx(Clb::new(&[IN, IN, IN]), flat(0.003)).evaluate();
    let f = finding(&o, "clb.keepalive_shorter_than_idle");
    assert!(
        step_starting(f, "Set the instances' keep-alive").contains("Apache `KeepAliveTimeout 65`")
    );
    assert_fix(
        f,
        "aws elb modify-load-balancer-attributes --load-balancer-name 'legacy' --load-balancer-attributes '{\"ConnectionSettings\":{\"IdleTimeout\":<seconds-below-the-instances-keep-alive>}}'",
        "aws elb modify-load-balancer-attributes --load-balancer-name 'legacy' --load-balancer-attributes '{\"ConnectionSettings\":{\"IdleTimeout\":60}}'",
    );
    // Near miss: the attributes were not read.
    let mut clb = Clb::new(&[IN, IN, IN]);
    clb.0.attributes = None;
    let o = elb_5xx(clb, flat(0.003)).evaluate();
    assert_no_fix(
        finding(&o, "clb.keepalive_shorter_than_idle"),
        "the attributes of legacy (its current idle timeout) were not read",
    );
}

#[test]
fn health_check_fix_restores_the_target_read() {
    let o = elb_5xx(Clb::new(&[OUT, OUT, OUT, OUT]), step(1.0)).evaluate();
    assert_fix(
        finding(&o, "clb.no_healthy_instances"),
        "aws elb configure-health-check --load-balancer-name 'legacy' --health-check '{\"HealthyThreshold\":10,\"Interval\":30,\"Target\":\"<new-target>\",\"Timeout\":5,\"UnhealthyThreshold\":2}'",
        "aws elb configure-health-check --load-balancer-name 'legacy' --health-check '{\"HealthyThreshold\":10,\"Interval\":30,\"Target\":\"HTTP:8080/health\",\"Timeout\":5,\"UnhealthyThreshold\":2}'",
    );
}
