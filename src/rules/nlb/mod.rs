//! Network Load Balancer rules. An NLB works at layer 4 and has no HTTP codes of its own: the
//! 5xx users see come from what stands in front of it (CloudFront 502/504, API Gateway through
//! a VPC link) or from a proxy behind it. These rules fire on the NLB's own evidence (target
//! health, resets, TLS negotiation and port allocation errors); a front door's 5xx, when the
//! alarm came through one, is linked by `cf.origin_passthrough` or `apigw.backend_passthrough`.
//!
//! Facts (AWS documentation): when every target of a group is unhealthy the NLB fails open and
//! sends traffic to all of them; `TCP_*_Reset_Count`, the TLS error counts and
//! `PortAllocationErrorCount` carry `LoadBalancer` (and `AvailabilityZone`) but no
//! `TargetGroup` dimension, so they are the load balancer's, not a group's.
//! `PortAllocationErrorCount` counts ephemeral port allocation errors in the client IP
//! translation (about 55,000 connections a minute to one target IP and port).

#[cfg(test)]
mod tests;

use super::alb::healths;
use super::catalog::{Detect, Rule};
use super::signals::NlbSignals;
use super::{AlbCtx, Ctx, Draft, Kind, count};
use crate::evidence::TargetGroupEvidence;

/// Target resets are "rising" when W's per-minute count is this many times the hour
/// before's, or the hour before had none.
const RISING: f64 = 3.0;

fn base(a: &AlbCtx<'_>, rule: &'static Rule) -> Draft {
    let mut d = rule.draft();
    d.alb_arn = Some(a.alb.arn.clone());
    d.resources.push(a.alb.arn.clone());
    d
}

fn w_line(s: &NlbSignals, what: &str, n: f64) -> String {
    format!("{what}: {} in {} min", count(n), s.w.minutes())
}

/// Whether a routed group has every target unhealthy.
fn all_unhealthy(routed: &[&TargetGroupEvidence]) -> bool {
    healths(routed)
        .iter()
        .any(|(_, h)| h.total > 0 && h.n("unhealthy") == h.total)
}

/// What is wrong with a Network Load Balancer in W, in a few words, for the findings that
/// link a front door to it; `None` for an ALB or a healthy NLB.
pub(crate) fn trouble(a: &AlbCtx<'_>) -> Option<String> {
    let s = a.nlb.as_ref()?;
    let routed = super::alb::routed_groups(a);
    if let Some((tg, h)) = healths(&routed)
        .into_iter()
        .find(|(_, h)| h.total > 0 && h.n("unhealthy") == h.total)
    {
        return Some(format!(
            "every target of {} unhealthy: {}",
            tg.target_group.display_name(),
            h.describe("unhealthy")
        ));
    }
    if let Some(tg) = routed
        .iter()
        .find(|t| t.health.as_ref().is_some_and(|h| h.is_empty()))
    {
        return Some(format!(
            "{} has no registered targets",
            tg.target_group.display_name()
        ));
    }
    if rising(
        s.target_resets,
        s.w.minutes(),
        s.target_resets_b,
        s.b.minutes(),
    ) {
        return Some(w_line(s, "TCP_Target_Reset_Count", s.target_resets));
    }
    if s.target_tls_errors > 0.0 {
        return Some(w_line(
            s,
            "TargetTLSNegotiationErrorCount",
            s.target_tls_errors,
        ));
    }
    if s.port_allocation_errors > 0.0 {
        return Some(w_line(
            s,
            "PortAllocationErrorCount",
            s.port_allocation_errors,
        ));
    }
    None
}

pub(crate) const ALL_TARGETS_UNHEALTHY: Rule = Rule {
    id: "nlb.all_targets_unhealthy",
    kind: Kind::Cause,
    base: 0.8,
    codes: &[502, 504],
    sub_cause_of: None,
    cause: "Every target of a Network Load Balancer's target group fails its health check: the NLB fails open onto targets that do not answer, and the front door in front of it answers 502 or 504.",
    needs: "Needs a routed target group whose targets are all `unhealthy` (`DescribeTargetHealth`, reason codes as for an ALB); `HealthyHostCount` Minimum 0 in W adds confidence.",
    differs: "A group with no targets at all is `nlb.no_registered_targets`; resets from healthy targets are `nlb.target_resets`.",
    detect: Detect::Nlb(all_targets_unhealthy),
};

fn all_targets_unhealthy(
    _: &Ctx<'_>,
    a: &AlbCtx<'_>,
    s: &NlbSignals,
    routed: &[&TargetGroupEvidence],
) -> Option<Draft> {
    let (tg, h) = healths(routed)
        .into_iter()
        .find(|(_, h)| h.total > 0 && h.n("unhealthy") == h.total)?;
    let t = &tg.target_group;
    let name = t.display_name();
    let reason = h
        .dominant_reason()
        .map(|(r, _)| r.to_owned())
        .unwrap_or_default();
    let mut d = base(a, &ALL_TARGETS_UNHEALTHY);
    d.resources.push(t.target_group_arn.clone());
    d.title = format!(
        "Every target of {name} behind NLB {} is unhealthy",
        a.alb.name()
    );
    d.headline = format!(
        "Every target of {name} behind the Network Load Balancer {} is unhealthy ({reason}): it fails open onto targets that do not answer.",
        a.alb.name()
    );
    d.evidence(h.describe("unhealthy"));
    let port = match t.health_check_port.as_deref() {
        None | Some("traffic-port") => t
            .port
            .map_or_else(|| "traffic-port".into(), |p| p.to_string()),
        Some(p) => p.to_owned(),
    };
    let protocol = t
        .health_check_protocol
        .as_deref()
        .or(t.protocol.as_deref())
        .unwrap_or("TCP");
    d.evidence(format!(
        "health check: {protocol}{} on port {port}",
        t.health_check_path
            .as_deref()
            .filter(|_| protocol.starts_with("HTTP"))
            .map(|p| format!(" {p}"))
            .unwrap_or_default()
    ));
    if s.healthy_min
        .get(&t.target_group_arn)
        .is_some_and(|m| *m <= 0.0)
    {
        d.corroborate("HealthyHostCount Minimum 0 in the alarm window");
    }
    if s.target_resets > 0.0 {
        d.evidence(w_line(s, "TCP_Target_Reset_Count", s.target_resets));
    }
    d.step(format!(
        "Check that the targets of {name} listen on port {port} ({protocol}) and that their security groups admit the NLB's health checks (from the NLB's security groups, or its subnets' addresses when it has none)."
    ));
    d.step(format!(
        "If a deploy or configuration push just happened, roll it back on the targets of {name}; the NLB uses them again once they pass {} consecutive checks.",
        t.healthy_threshold_count.unwrap_or(3)
    ));
    Some(d)
}

pub(crate) const NO_REGISTERED_TARGETS: Rule = Rule {
    id: "nlb.no_registered_targets",
    kind: Kind::Cause,
    base: 0.85,
    codes: &[502, 503],
    sub_cause_of: None,
    cause: "The Network Load Balancer's listener forwards to a target group with no registered targets: connections have nowhere to go, and the front door answers 502 or 503.",
    needs: "Needs a routed target group whose `DescribeTargetHealth` lists no target.",
    differs: "Registered but unhealthy targets are `nlb.all_targets_unhealthy`.",
    detect: Detect::Nlb(no_registered_targets),
};

fn no_registered_targets(
    _: &Ctx<'_>,
    a: &AlbCtx<'_>,
    _: &NlbSignals,
    routed: &[&TargetGroupEvidence],
) -> Option<Draft> {
    let tg = routed
        .iter()
        .find(|t| t.health.as_ref().is_some_and(|h| h.is_empty()))?;
    let name = tg.target_group.display_name();
    let mut d = base(a, &NO_REGISTERED_TARGETS);
    d.resources.push(tg.target_group.target_group_arn.clone());
    d.title = format!("{name} behind NLB {} has no targets", a.alb.name());
    d.headline = format!(
        "The Network Load Balancer {} forwards to {name}, which has no registered targets.",
        a.alb.name()
    );
    d.evidence(format!("{name}: 0 targets registered"));
    d.step(format!(
        "Register targets in {name}: check the Auto Scaling group, ECS service or controller that should register them."
    ));
    Some(d)
}

pub(crate) const TARGET_RESETS: Rule = Rule {
    id: "nlb.target_resets",
    kind: Kind::Cause,
    base: 0.65,
    codes: &[502],
    sub_cause_of: None,
    cause: "The targets reset connections (`TCP_Target_Reset_Count`) while passing their health checks: the application closes connections mid-request (a crash loop, an idle timeout shorter than the NLB's 350 s, a full accept queue).",
    needs: "Needs `TCP_Target_Reset_Count` in W above 0 and rising against the hour before (3 times its per-minute rate, or none before), and no routed group with every target unhealthy.",
    differs: "Unhealthy targets are `nlb.all_targets_unhealthy`; TLS failures toward the targets are `nlb.target_tls_handshake`.",
    detect: Detect::Nlb(target_resets),
};

fn rising(w: f64, w_minutes: i64, b: f64, b_minutes: i64) -> bool {
    if w <= 0.0 {
        return false;
    }
    if b <= 0.0 {
        return true;
    }
    let per_w = w / w_minutes.max(1) as f64;
    let per_b = b / b_minutes.max(1) as f64;
    per_w >= RISING * per_b
}

fn target_resets(
    _: &Ctx<'_>,
    a: &AlbCtx<'_>,
    s: &NlbSignals,
    routed: &[&TargetGroupEvidence],
) -> Option<Draft> {
    if !rising(
        s.target_resets,
        s.w.minutes(),
        s.target_resets_b,
        s.b.minutes(),
    ) || all_unhealthy(routed)
    {
        return None;
    }
    let mut d = base(a, &TARGET_RESETS);
    d.title = format!("The targets of NLB {} reset connections", a.alb.name());
    d.headline = format!(
        "The targets behind the Network Load Balancer {} reset {} connections in {} min while passing their health checks.",
        a.alb.name(),
        count(s.target_resets),
        s.w.minutes()
    );
    d.evidence(w_line(s, "TCP_Target_Reset_Count", s.target_resets));
    d.evidence(format!("the hour before: {}", count(s.target_resets_b)));
    if s.new_flows > 0.0 {
        d.evidence(format!(
            "NewFlowCount: {} in {} min, {} the hour before",
            count(s.new_flows),
            s.w.minutes(),
            count(s.new_flows_b)
        ));
    }
    if s.elb_resets > 0.0 {
        d.evidence(w_line(
            s,
            "TCP_ELB_Reset_Count (the NLB's own resets)",
            s.elb_resets,
        ));
    }
    d.step("Read the targets' application logs for crashes or closed connections at the same minutes; an idle timeout on the targets shorter than the NLB's (350 s) resets idle connections.");
    d.step("Check the targets' accept backlog and connection limits under the current flow count.");
    Some(d)
}

pub(crate) const TARGET_TLS_HANDSHAKE: Rule = Rule {
    id: "nlb.target_tls_handshake",
    kind: Kind::Cause,
    base: 0.75,
    codes: &[502],
    sub_cause_of: None,
    cause: "TLS negotiation between the Network Load Balancer and its targets fails on a TLS target group (certificate, protocol or cipher mismatch, or a target demanding a client certificate): those connections never reach the application.",
    needs: "Needs `TargetTLSNegotiationErrorCount` above 0 in W and a routed target group with protocol TLS.",
    differs: "Client-side TLS errors (`ClientTLSNegotiationErrorCount`) are between clients and the NLB; resets after a handshake are `nlb.target_resets`.",
    detect: Detect::Nlb(target_tls_handshake),
};

fn target_tls_handshake(
    _: &Ctx<'_>,
    a: &AlbCtx<'_>,
    s: &NlbSignals,
    routed: &[&TargetGroupEvidence],
) -> Option<Draft> {
    if s.target_tls_errors <= 0.0 {
        return None;
    }
    let tg = routed
        .iter()
        .find(|t| t.target_group.protocol.as_deref() == Some("TLS"))?;
    let name = tg.target_group.display_name();
    let mut d = base(a, &TARGET_TLS_HANDSHAKE);
    d.resources.push(tg.target_group.target_group_arn.clone());
    d.title = format!("TLS to the targets of {name} fails");
    d.headline = format!(
        "The Network Load Balancer {} cannot complete TLS with the targets of {name}: {} failed negotiations in {} min.",
        a.alb.name(),
        count(s.target_tls_errors),
        s.w.minutes()
    );
    d.evidence(w_line(
        s,
        "TargetTLSNegotiationErrorCount",
        s.target_tls_errors,
    ));
    if s.client_tls_errors > 0.0 {
        d.evidence(w_line(
            s,
            "ClientTLSNegotiationErrorCount (clients to the NLB, a separate matter)",
            s.client_tls_errors,
        ));
    }
    d.evidence(format!(
        "{name}: protocol TLS on port {}",
        tg.target_group
            .port
            .map_or_else(|| "?".to_owned(), |p| p.to_string())
    ));
    if s.new_flows > 0.0 {
        d.evidence(w_line(s, "NewFlowCount", s.new_flows));
    }
    d.step(format!(
        "Check what the targets of {name} now require in the handshake: the protocol versions and ciphers the NLB offers, and whether they demand a client certificate (the NLB presents none)."
    ));
    d.step("Test one target by hand from inside the VPC: `openssl s_client -connect TARGET:PORT`.");
    Some(d)
}

pub(crate) const PORT_ALLOCATION: Rule = Rule {
    id: "nlb.port_allocation",
    kind: Kind::Cause,
    base: 0.7,
    codes: &[502, 504],
    sub_cause_of: None,
    cause: "The Network Load Balancer runs out of source ports toward a target (`PortAllocationErrorCount`): when it translates client addresses (client IP preservation off), about 55,000 connections a minute to one target IP and port exhaust them, and new connections are dropped.",
    needs: "Needs `PortAllocationErrorCount` above 0 in W.",
    differs: "Resets by healthy targets are `nlb.target_resets`; this is the NLB refusing new flows, not the targets.",
    detect: Detect::Nlb(port_allocation),
};

fn port_allocation(
    _: &Ctx<'_>,
    a: &AlbCtx<'_>,
    s: &NlbSignals,
    _: &[&TargetGroupEvidence],
) -> Option<Draft> {
    if s.port_allocation_errors <= 0.0 {
        return None;
    }
    let mut d = base(a, &PORT_ALLOCATION);
    d.title = format!("NLB {} runs out of source ports", a.alb.name());
    d.headline = format!(
        "The Network Load Balancer {} could not allocate source ports for {} connections in {} min: too many connections per target.",
        a.alb.name(),
        count(s.port_allocation_errors),
        s.w.minutes()
    );
    d.evidence(w_line(
        s,
        "PortAllocationErrorCount",
        s.port_allocation_errors,
    ));
    if s.new_flows > 0.0 {
        d.evidence(w_line(s, "NewFlowCount", s.new_flows));
    }
    d.step("Add targets (each target IP and port has its own pool of about 55,000 ports a minute), or turn client IP preservation on for the target group where the targets allow it.");
    d.step("Reuse connections from the clients (keep-alive, pooling) instead of opening one per request.");
    Some(d)
}
