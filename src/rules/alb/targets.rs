//! ALB causes in the targets' answers: connections refused or timing out, overload, slow or
//! malformed responses, TLS to the targets, Lambda targets, the application's own 5xx.

use super::*;

pub(in crate::rules) const TARGET_CONNECTION_REFUSED: Rule = Rule {
    id: "alb.target_connection_refused",
    kind: Kind::Cause,
    base: 0.7,
    codes: &[502],
    sub_cause_of: Some("alb.all_targets_unhealthy"),
    cause: "Targets refuse or reset the ALB's connections (process down, wrong port, full backlog), so the ALB returns 502.",
    needs: "Fires on `TargetConnectionErrorCount` above 0 with ELB 502 at least half of ELB 5xx. Targets reporting `Target.FailedHealthChecks`, or a mix of healthy and unhealthy targets, add confidence; with neither it loses 0.15.",
    differs: "A refused connection fails fast as 502, whereas a filtered network times out as 504 (`alb.target_unreachable`). The connection errors exclude `alb.keepalive_shorter_than_idle` and `alb.malformed_target_response`.",
    detect: Detect::Alb(target_connection_refused),
};

fn target_connection_refused(a: &AlbCtx<'_>, routed: &[&TargetGroupEvidence]) -> Option<Draft> {
    let s = &a.s;
    if s.conn_errors <= 0.0 || s.elb_502 <= 0.0 || s.p502 < DOMINANT {
        return None;
    }
    let hs = healths(routed);
    let failed: Vec<_> = hs
        .iter()
        .filter(|(_, h)| h.reasons.contains_key("Target.FailedHealthChecks"))
        .collect();
    let flapping = hs
        .iter()
        .any(|(_, h)| h.n("unhealthy") > 0 && h.n("healthy") > 0);
    let mut d = base(a, &TARGET_CONNECTION_REFUSED);
    d.title = format!("Targets behind {} refuse or reset connections", lb_name(a));
    d.headline = format!(
        "Targets behind {} refuse or reset connections: {} connection errors and {} ELB 502 in {} min.",
        lb_name(a),
        count(s.conn_errors),
        count(s.elb_502),
        s.w.minutes()
    );
    d.evidence(format!(
        "TargetConnectionErrorCount: {} in {} min",
        count(s.conn_errors),
        s.w.minutes()
    ));
    d.evidence(elb_line(s, 502, s.elb_502, s.p502));
    for (tg, h) in &failed {
        d.resources.push(tg.target_group.target_group_arn.clone());
        d.corroborate(format!(
            "{}: {}",
            tg.target_group.display_name(),
            h.describe("unhealthy")
        ));
    }
    if flapping && failed.is_empty() {
        d.corroborate("some targets healthy, some unhealthy: targets flapping");
    }
    if failed.is_empty() && !flapping {
        d.confidence -= COMPETING;
        d.evidence("no target reports Target.FailedHealthChecks");
    }
    d.step("Check that the application is running and listening on the target port on every target (a crashed process or a port change after deploy refuses connections).");
    d.step("Check the targets' connection limits (backlog, max connections) and whether they reset connections under load.");
    Some(d)
}

pub(in crate::rules) const TARGET_UNREACHABLE: Rule = Rule {
    id: "alb.target_unreachable",
    kind: Kind::Cause,
    base: 0.7,
    codes: &[504],
    sub_cause_of: Some("alb.all_targets_unhealthy"),
    cause: "The ALB cannot open connections to its targets (a security group, NACL or route drops the packets), so requests time out with 504.",
    needs: "Needs ELB 504 at least half of ELB 5xx and `TargetConnectionErrorCount` above 0, plus at least one of: every routed target unhealthy with `Target.Timeout`, no `TargetResponseTime` data in the window, or a step onset. Load correlation lowers it.",
    differs: "Connection errors separate it from `alb.target_response_timeout`, where targets connect and then answer slowly. The step, missing latency or all-Timeout health separates it from `alb.target_overloaded`, and 504 rather than 502 from `alb.target_connection_refused`.",
    detect: Detect::Alb(target_unreachable),
};

fn target_unreachable(a: &AlbCtx<'_>, routed: &[&TargetGroupEvidence]) -> Option<Draft> {
    let s = &a.s;
    if s.elb_504 <= 0.0 || s.p504 < DOMINANT || s.conn_errors <= 0.0 {
        return None;
    }
    let mut d = base(a, &TARGET_UNREACHABLE);
    d.title = format!(
        "{} cannot reach its targets (connections time out)",
        lb_name(a)
    );
    d.headline = format!(
        "{} cannot open connections to its targets: {} ELB 504 and {} connection errors in {} min.",
        lb_name(a),
        count(s.elb_504),
        count(s.conn_errors),
        s.w.minutes()
    );
    d.evidence(elb_line(s, 504, s.elb_504, s.p504));
    d.evidence(format!(
        "TargetConnectionErrorCount: {} in {} min",
        count(s.conn_errors),
        s.w.minutes()
    ));
    let hs = healths(routed);
    let all_timeout = !hs.is_empty()
        && hs.iter().all(|(_, h)| {
            h.total > 0 && h.reasons.get("Target.Timeout").copied().unwrap_or(0) == h.total
        });
    for (tg, h) in &hs {
        d.resources.push(tg.target_group.target_group_arn.clone());
        if all_timeout {
            d.evidence(format!(
                "{}: {}",
                tg.target_group.display_name(),
                h.describe("unhealthy")
            ));
        }
    }
    let trt_absent = s.trt_points_w == 0;
    // Connection errors alone also come with overload: unreachable needs one of its own signs.
    if !(all_timeout || trt_absent || s.step.is_some()) {
        return None;
    }
    if all_timeout {
        d.corroborate(
            "every target fails health checks with Target.Timeout: the network drops the packets",
        );
    } else if hs.is_empty() {
        d.missing("target health");
    }
    if s.load_correlated {
        d.competes("alb.target_overloaded");
    }
    if trt_absent {
        d.corroborate(
            "TargetResponseTime has no data in the alarm window: no request reached a target",
        );
    }
    if let Some(step) = s.step {
        d.corroborate(format!(
            "step onset at {} with steady load: a change, not capacity",
            step.at.format("%H:%M UTC")
        ));
    }
    let sgs = a
        .alb
        .load_balancer
        .as_ref()
        .map(|l| l.security_groups.join(", "))
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "its security groups".into());
    let port = routed
        .first()
        .and_then(|t| t.target_group.port)
        .map(|p| p.to_string())
        .unwrap_or_else(|| "the target port".into());
    d.step(format!(
        "Check the targets' security group: it must admit {sgs} (the security groups of {}) on port {port}; look for a recent change to either (CloudTrail: AuthorizeSecurityGroupIngress / RevokeSecurityGroupIngress).",
        lb_name(a)
    ));
    d.step("Check the NACLs of the target subnets (ephemeral ports 1024-65535 back to the ALB subnets) and the route tables.");
    d.step("If the network is unchanged, check that the targets are running and not stuck (instance status checks, task state).");
    Some(d)
}

pub(in crate::rules) const TARGET_OVERLOADED: Rule = Rule {
    id: "alb.target_overloaded",
    kind: Kind::Cause,
    base: 0.6,
    codes: &[502, 504],
    sub_cause_of: Some("alb.all_targets_unhealthy"),
    cause: "The targets run out of capacity as traffic rises, so failed connections and slow answers turn into 502/504.",
    needs: "Needs ELB 502+504 above 0 and errors that follow load (error or connection-error ratio rank-correlated with demand at 0.6+, or errors only at peaks), plus one of the signs the targets are out of capacity: `TargetConnectionErrorCount` above 0, or some `Target.Timeout` targets beside healthy ones. Connection errors following load, `TargetResponseTime` p99 tracking demand and `RejectedConnectionCount` add confidence; a p99 that follows load is never enough on its own.",
    differs: "The errors track RequestCount, whereas `alb.target_unreachable` and `alb.target_connection_refused` describe failures that occur at any load. `RejectedConnectionCount` adds confidence here.",
    detect: Detect::Alb(target_overloaded),
};

fn target_overloaded(a: &AlbCtx<'_>, routed: &[&TargetGroupEvidence]) -> Option<Draft> {
    let s = &a.s;
    if s.elb_502 + s.elb_504 <= 0.0 {
        return None;
    }
    let some_timeout = healths(routed)
        .iter()
        .any(|(_, h)| h.reasons.contains_key("Target.Timeout") && h.n("healthy") > 0);
    let p99_follows = s.trt_p99_load_corr.is_some_and(|c| c >= CORRELATED);
    let conn_follows = s.conn_errors > 0.0 && s.conn_err_load_corr.is_some_and(|c| c >= 0.6);
    // The errors must follow load (the ratio does, or the connection errors do), and the
    // targets must show they are out of capacity the way the catalogue names it: connection
    // errors, or targets timing out health checks beside healthy ones. A p99 that follows
    // load only corroborates: slow answers alone are `alb.target_response_timeout`.
    let conn = s.conn_errors > 0.0;
    if !(s.load_correlated || conn_follows) || !(conn || some_timeout) {
        return None;
    }
    let mut d = base(a, &TARGET_OVERLOADED);
    d.title = format!("Targets behind {} are overloaded", lb_name(a));
    d.headline = format!(
        "Targets behind {} are overloaded: the error ratio rises with load to {} of requests.",
        lb_name(a),
        pct(s.err_ratio)
    );
    if let Some(line) = s.load_line("the error ratio") {
        d.evidence(line);
    }
    if conn_follows {
        d.corroborate(format!(
            "TargetConnectionErrorCount {} in {} min, rising with RequestCount (rank correlation {:.2})",
            count(s.conn_errors),
            s.w.minutes(),
            s.conn_err_load_corr.unwrap_or(0.0)
        ));
    } else if conn {
        d.evidence(format!(
            "TargetConnectionErrorCount {} in {} min",
            count(s.conn_errors),
            s.w.minutes()
        ));
    }
    if p99_follows {
        d.corroborate(format!(
            "TargetResponseTime p99 rises with load (up to {})",
            secs(s.trt_p99.unwrap_or(0.0))
        ));
    }
    if some_timeout {
        d.corroborate(
            "some targets fail health checks with Target.Timeout while others are healthy",
        );
    }
    if s.rejected > 0.0 {
        d.corroborate(format!(
            "RejectedConnectionCount {}: the load balancer hit its connection limit",
            count(s.rejected)
        ));
    }
    d.step("Add capacity to the target groups (scale out, raise the Auto Scaling maximum) and check the scaling policy reacts to RequestCountPerTarget or CPU in time.");
    d.step("Find the saturated resource on the targets (CPU, memory, connection pools, a slow dependency) for the busiest minutes.");
    Some(d)
}

pub(in crate::rules) const TARGET_RESPONSE_TIMEOUT: Rule = Rule {
    id: "alb.target_response_timeout",
    kind: Kind::Cause,
    base: 0.75,
    codes: &[504],
    sub_cause_of: Some("alb.all_targets_unhealthy"),
    cause: "Targets accept the connection but take longer than the ALB idle timeout to answer, so the ALB gives up with 504.",
    needs: "Needs ELB 504 at least half of ELB 5xx, no routed group with unhealthy targets, and either `TargetResponseTime` Maximum at 90% or more of `idle_timeout.timeout_seconds` (60 s if unset) or the 504s saying it themselves: 504 at least 80% of ELB 5xx, `TargetConnectionErrorCount` read and 0, every target healthy (a request that times out is never measured in `TargetResponseTime`, so the maximum can stay low). Zero connection errors and all targets healthy add confidence.",
    differs: "No connection failure is required, unlike `alb.target_unreachable`; load correlation only changes the advice. Behind CloudFront, when the idle timeout is at or below `OriginReadTimeout` and the ALB has ELB 504s, `cf.origin_read_timeout` steps aside for this rule.",
    detect: Detect::Alb(target_response_timeout),
};

fn target_response_timeout(a: &AlbCtx<'_>, routed: &[&TargetGroupEvidence]) -> Option<Draft> {
    let s = &a.s;
    if s.elb_504 <= 0.0 || s.p504 < DOMINANT {
        return None;
    }
    if targets_healthy(routed) == Some(false) {
        return None;
    }
    let reached = s.trt_max.filter(|m| *m >= REACHED * s.idle_timeout);
    // A request the ALB gave up on is never measured in TargetResponseTime, so in a plateau of
    // timeouts the maximum can sit far below the idle timeout. The 504s say it on their own
    // when they are nearly all the ELB 5xx, no connection to a target failed (read, not
    // assumed) and every target is healthy: the target was reached and did not answer.
    let said_by_504s = s.metrics_read
        && s.conn_errors <= 0.0
        && s.p504 >= NEARLY_ALL
        && targets_healthy(routed) == Some(true);
    if reached.is_none() && !said_by_504s {
        return None;
    }
    let mut d = base(a, &TARGET_RESPONSE_TIMEOUT);
    d.title = format!(
        "Targets behind {} answer slower than the {}",
        lb_name(a),
        idle_line(s)
    );
    d.headline = match reached {
        Some(max) => format!(
            "Targets behind {} take up to {} to answer, reaching the ALB {}: {} ELB 504 in {} min.",
            lb_name(a),
            secs(max),
            idle_line(s),
            count(s.elb_504),
            s.w.minutes()
        ),
        None => format!(
            "Targets behind {} accept connections but do not answer within the ALB {}: {} ELB 504 in {} min, no connection errors.",
            lb_name(a),
            idle_line(s),
            count(s.elb_504),
            s.w.minutes()
        ),
    };
    d.evidence(elb_line(s, 504, s.elb_504, s.p504));
    match (reached, s.trt_max) {
        (Some(max), _) => d.evidence(format!(
            "TargetResponseTime Maximum {} against the {}",
            secs(max),
            idle_line(s)
        )),
        (None, Some(max)) => d.evidence(format!(
            "TargetResponseTime Maximum {} is below the {}: requests that time out are never measured there, so the answered ones set the maximum",
            secs(max),
            idle_line(s)
        )),
        (None, None) => d.evidence(format!(
            "TargetResponseTime has no data in the window: no request was answered (the {})",
            idle_line(s)
        )),
    }
    if let Some(p99) = s.trt_p99 {
        d.evidence(format!("TargetResponseTime p99 {}", secs(p99)));
    }
    if s.metrics_read && s.conn_errors <= 0.0 {
        d.corroborate("TargetConnectionErrorCount 0: connections open, answers are slow");
    }
    if targets_healthy(routed) == Some(true) {
        d.corroborate("all targets healthy");
    }
    if s.load_correlated {
        if let Some(line) = s.load_line("the error ratio") {
            d.evidence(format!("{line}: a capacity limit"));
        }
        d.step("The slowness follows load: add capacity or fix the saturated dependency (database, downstream API) that the slow requests wait on.");
    } else {
        d.step("The slowness does not follow load: find the slow endpoints in ALB access logs (target_processing_time near the idle timeout) and fix them.");
    }
    d.step(format!(
        "Raise idle_timeout.timeout_seconds of {} (now {}) only for requests that legitimately run long; it treats the symptom.",
        lb_name(a),
        secs(s.idle_timeout)
    ));
    fix::push(&mut d, raise_idle_timeout(a));
    Some(d)
}

/// The idle timeout raised to [`fix::HEADROOM`] times the longer of the timeout and the
/// longest answer measured: requests cut at the timeout were never measured, so their length
/// is unknown.
fn raise_idle_timeout(a: &AlbCtx<'_>) -> fix::Built {
    let current = idle_timeout_read(a)?;
    let longest = f64::from(current).max(a.s.trt_max.unwrap_or(0.0));
    let proposed = fix::proposal(longest, fix::IDLE_TIMEOUT_MAX_S);
    if proposed <= current {
        return Err(format!(
            "the idle timeout of {} is at its highest ({current} s)",
            lb_name(a)
        ));
    }
    set_idle_timeout(a, current, Proposed::Value(proposed))
}

pub(in crate::rules) const TARGET_TLS_HANDSHAKE: Rule = Rule {
    id: "alb.target_tls_handshake",
    kind: Kind::Cause,
    base: 0.8,
    codes: &[502],
    sub_cause_of: Some("alb.all_targets_unhealthy"),
    cause: "The ALB cannot complete TLS with its HTTPS targets (protocol or cipher mismatch, or plain HTTP on the TLS port), so requests end in 502.",
    needs: "Fires when `TargetTLSNegotiationErrorCount` is above 0 in the window and a routed target group uses Protocol HTTPS. A dominant ELB 502 share and a step onset add confidence.",
    differs: "The connection opens but the handshake fails, unlike `alb.target_connection_refused`. Target certificate expiry is never blamed (the ALB does not validate target certificates), and any TLS errors rule out the keep-alive and malformed-response rules.",
    detect: Detect::Alb(target_tls_handshake),
};

fn target_tls_handshake(a: &AlbCtx<'_>, routed: &[&TargetGroupEvidence]) -> Option<Draft> {
    let s = &a.s;
    if s.tls_errors <= 0.0 {
        return None;
    }
    let https: Vec<_> = routed
        .iter()
        .filter(|t| t.target_group.protocol.as_deref() == Some("HTTPS"))
        .collect();
    let tg = https.first()?;
    let name = tg.target_group.display_name();
    let mut d = base(a, &TARGET_TLS_HANDSHAKE);
    d.resources.push(tg.target_group.target_group_arn.clone());
    d.title = format!(
        "TLS handshakes from {} to the targets of {name} fail",
        lb_name(a)
    );
    d.headline = format!(
        "TLS handshakes from {} to the HTTPS targets of {name} fail: {} negotiation errors and {} ELB 502 in {} min.",
        lb_name(a),
        count(s.tls_errors),
        count(s.elb_502),
        s.w.minutes()
    );
    d.evidence(format!(
        "TargetTLSNegotiationErrorCount: {} in {} min",
        count(s.tls_errors),
        s.w.minutes()
    ));
    d.evidence(format!(
        "{name}: protocol HTTPS, port {}",
        tg.target_group
            .port
            .map(|p| p.to_string())
            .unwrap_or_default()
    ));
    if s.p502 >= DOMINANT && s.elb_502 > 0.0 {
        d.corroborate(elb_line(s, 502, s.elb_502, s.p502));
    }
    if let Some(step) = s.step {
        d.corroborate(format!(
            "step onset at {}: a change on the targets",
            step.at.format("%H:%M UTC")
        ));
    }
    d.evidence("the ALB does not validate target certificates: an expired or self-signed target certificate is not the cause");
    d.step(format!(
        "Check that the targets of {name} speak TLS on port {} (a plain-HTTP server on the HTTPS port fails every handshake) and what changed there at the onset.",
        tg.target_group.port.map(|p| p.to_string()).unwrap_or_default()
    ));
    d.step("Check the TLS versions and ciphers the targets accept: the ALB needs TLS 1.2 or 1.3 (or 1.0/1.1) with a common cipher; a target restricted to an unusual cipher suite fails.");
    Some(d)
}

pub(in crate::rules) const MALFORMED_TARGET_RESPONSE: Rule = Rule {
    id: "alb.malformed_target_response",
    kind: Kind::Cause,
    base: 0.45,
    codes: &[502],
    sub_cause_of: None,
    cause: "Targets send responses the ALB cannot parse (oversized or invalid headers, broken chunked encoding), so it replies 502.",
    needs: "Needs ELB 502 at least half of ELB 5xx, no connection or TLS errors, no load correlation, and every routed group healthy with no unhealthy targets. A step onset or a 502 ratio of 5%+ adds confidence; below 5% it loses 0.15 to the keep-alive rule.",
    differs: "This is what is left once connection, TLS and load causes are excluded. A low, steady rate favours `alb.keepalive_shorter_than_idle`; a higher or step-shaped rate favours this rule.",
    detect: Detect::Alb(malformed_target_response),
};

fn malformed_target_response(a: &AlbCtx<'_>, routed: &[&TargetGroupEvidence]) -> Option<Draft> {
    let s = &a.s;
    if s.elb_502 <= 0.0 || s.p502 < DOMINANT || s.conn_errors > 0.0 || s.tls_errors > 0.0 {
        return None;
    }
    if s.load_correlated || targets_healthy(routed) != Some(true) {
        return None;
    }
    let mut d = base(a, &MALFORMED_TARGET_RESPONSE);
    d.title = format!(
        "Targets behind {} send responses the ALB rejects",
        lb_name(a)
    );
    d.headline = format!(
        "Targets behind {} send responses the ALB cannot parse: {} of requests end in ELB 502.",
        lb_name(a),
        pct(s.ratio_502)
    );
    d.evidence(elb_line(s, 502, s.elb_502, s.p502));
    d.evidence("targets healthy, no connection or TLS errors, errors independent of load");
    if let Some(step) = s.step {
        d.corroborate(format!(
            "step onset at {}: a change in what the targets send",
            step.at.format("%H:%M UTC")
        ));
    }
    if s.ratio_502 >= RACE_CEILING {
        d.corroborate(format!(
            "{} of requests fail: too many for keep-alive races",
            pct(s.ratio_502)
        ));
    } else {
        d.competes("alb.keepalive_shorter_than_idle");
    }
    d.step("Find the failing requests in ALB access logs (elb_status_code 502, target_status_code '-') and replay one against a target: look for headers over 32 KB in total, invalid header names or values, or a broken chunked encoding.");
    d.step(
        "Check what the last deploy changed in response headers (large cookies, tracing headers).",
    );
    Some(d)
}

pub(in crate::rules) const LAMBDA_TARGET_ERROR: Rule = Rule {
    id: "alb.lambda_target_error",
    kind: Kind::Cause,
    base: 0.8,
    codes: &[502, 504],
    sub_cause_of: Some("alb.all_targets_unhealthy"),
    cause: "The Lambda function behind the ALB fails its invocations, so the ALB returns 502/504.",
    needs: "Needs a routed target group with TargetType `lambda`, and `LambdaUserError` plus `LambdaInternalError` above 0 in the window (the larger of the per-load-balancer and per-target-group readings). ELB 502s add confidence.",
    differs: "It applies only to Lambda target groups, where connection, TLS and health-reason signals do not exist. The Lambda error metrics show the function failed, not the network or a timeout.",
    detect: Detect::Alb(lambda_target_error),
};

fn lambda_target_error(a: &AlbCtx<'_>, routed: &[&TargetGroupEvidence]) -> Option<Draft> {
    let s = &a.s;
    let tg = routed
        .iter()
        .find(|t| t.target_group.target_type.as_deref() == Some("lambda"))?;
    if s.lambda_errors <= 0.0 {
        return None;
    }
    let name = tg.target_group.display_name();
    let mut d = base(a, &LAMBDA_TARGET_ERROR);
    d.resources.push(tg.target_group.target_group_arn.clone());
    d.title = format!("The Lambda function behind {name} fails");
    d.headline = format!(
        "The Lambda function behind {name} fails: {} Lambda errors in {} min.",
        count(s.lambda_errors),
        s.w.minutes()
    );
    d.evidence(format!(
        "LambdaUserError + LambdaInternalError: {} in {} min",
        count(s.lambda_errors),
        s.w.minutes()
    ));
    if s.elb_502 > 0.0 {
        d.corroborate(elb_line(s, 502, s.elb_502, s.p502));
    }
    d.step("Read the function's logs for the failing invocations: an unhandled error, a timeout, or a response over 1 MB or without statusCode becomes a 502.");
    d.step(
        "Check the function's concurrency (throttles) and timeout against the ALB idle timeout.",
    );
    Some(d)
}

pub(in crate::rules) const TARGET_APP_5XX: Rule = Rule {
    id: "alb.target_app_5xx",
    kind: Kind::Cause,
    base: 0.85,
    codes: &[500],
    sub_cause_of: Some("alb.all_targets_unhealthy"),
    cause: "The application on the targets is returning 5xx itself; the load balancer only passes those responses on.",
    needs: "Needs `HTTPCode_Target_5XX_Count` to be at least 90% of all 5xx (ELB plus target), and either 0.1% of `RequestCount` and at least 10 responses, or three times the previous hour's ratio. A step onset adds confidence; a load-correlated ratio takes 0.15 off.",
    differs: "ELB-generated codes are near zero, so the connection, TLS, timeout and no-target rules do not fit. A step with steady load points to a deploy or dependency; a ratio that rises with load points to capacity.",
    detect: Detect::Alb(target_app_5xx),
};

fn target_app_5xx(a: &AlbCtx<'_>, routed: &[&TargetGroupEvidence]) -> Option<Draft> {
    let s = &a.s;
    if s.target_5xx <= 0.0 || s.target_share < TARGETS_MOSTLY {
        return None;
    }
    // A few stray 5xx are every service's baseline, not an incident: at least 0.1% of requests
    // (and 10 responses), or three times the hour before.
    let ratio = share(s.target_5xx, s.requests);
    let above_floor = ratio >= NOISE_RATIO && s.target_5xx >= NOISE_COUNT;
    let above_base = s
        .base_target_ratio
        .is_some_and(|b| b > 0.0 && ratio >= ABOVE_BASELINE * b);
    if !(above_floor || above_base) {
        return None;
    }
    let mut d = base(a, &TARGET_APP_5XX);
    let names: Vec<&str> = routed
        .iter()
        .map(|t| t.target_group.display_name())
        .collect();
    for t in routed {
        d.resources.push(t.target_group.target_group_arn.clone());
    }
    let tgs = if names.is_empty() {
        lb_name(a)
    } else {
        names.join(", ")
    };
    d.title = format!("The application on {tgs} answers 5xx");
    let share_of_requests = pct(share(s.target_5xx, s.requests));
    d.headline = format!(
        "The application on {tgs} answers 5xx itself: {} responses ({share_of_requests} of requests) in {} min, the load balancer adds none.",
        count(s.target_5xx),
        s.w.minutes()
    );
    d.evidence(format!(
        "HTTPCode_Target_5XX_Count: {} in {} min ({share_of_requests} of requests)",
        count(s.target_5xx),
        s.w.minutes()
    ));
    d.evidence(format!(
        "HTTPCode_ELB_5XX_Count: {} ({} of all 5xx)",
        count(s.elb_5xx),
        pct(1.0 - s.target_share)
    ));
    if let Some(step) = s.step {
        d.corroborate(format!(
            "step onset at {} with steady load: a deploy, a config change or a failing dependency",
            step.at.format("%H:%M UTC")
        ));
        d.step(format!(
            "Check what was deployed or changed around {} (application release, feature flag, configuration) and roll it back if it matches.",
            step.at.format("%H:%M UTC")
        ));
    } else if s.load_correlated {
        d.competes("a capacity cause (the error ratio rises with load)");
        d.step("Scale out the targets and check the dependency the failing requests wait on.");
    }
    d.step(format!(
        "Read the application logs on the targets of {tgs} for the 5xx responses: the status code and stack traces name the failing code path or dependency."
    ));
    Some(d)
}
