//! ALB rules (`docs/rules.md`): who made the 5xx, and why.

use std::collections::BTreeMap;

use super::catalog::{Detect, Rule};

use super::signals::{AlbSignals, CORRELATED, DOMINANT, NEARLY_ALL, NOISE_RATIO, REACHED};
use super::{AlbCtx, COMPETING, Draft, Kind, aws_defaults, count, pct, secs};
use crate::evidence::TargetGroupEvidence;
use crate::evidence::elb::attribute;

/// The target groups' own 5xx are "the" errors at this share of all 5xx: below it the load
/// balancer makes errors of its own.
const TARGETS_MOSTLY: f64 = 0.9;
/// At least this many target 5xx in the window before an application error is an incident.
const NOISE_COUNT: f64 = 10.0;
/// An error ratio this many times its hour-before baseline is new, not chronic.
const ABOVE_BASELINE: f64 = 3.0;
/// A keep-alive race hits a few idle connections: 502s above this share of requests are
/// something else.
const RACE_CEILING: f64 = 0.05;
/// The error ratio "climbs with load" when the busiest third of minutes has more than this
/// many times the quietest third's; within this factor either way it is flat.
const LOAD_FACTOR: f64 = 2.0;
/// The targets "still serve users" when their 2xx are at least this share of requests.
const MOSTLY_SERVED: f64 = 0.5;

/// Target health of one group, counted.
#[derive(Debug, Clone, Default)]
pub struct Health {
    pub total: usize,
    /// Targets per state (`healthy`, `unhealthy`, `unused`, `draining`, `initial`, ...).
    pub states: BTreeMap<String, usize>,
    /// Targets per reason code.
    pub reasons: BTreeMap<String, usize>,
    /// One description per reason, as AWS wrote it.
    pub descriptions: BTreeMap<String, String>,
}

impl Health {
    pub fn of(tg: &TargetGroupEvidence) -> Option<Self> {
        let list = tg.health.as_ref()?;
        let mut h = Health {
            total: list.len(),
            ..Health::default()
        };
        for d in list {
            let state = d
                .target_health
                .state
                .clone()
                .unwrap_or_else(|| "unknown".into());
            *h.states.entry(state).or_default() += 1;
            if let Some(r) = &d.target_health.reason {
                *h.reasons.entry(r.clone()).or_default() += 1;
                if let Some(desc) = &d.target_health.description {
                    h.descriptions
                        .entry(r.clone())
                        .or_insert_with(|| desc.clone());
                }
            }
        }
        Some(h)
    }

    pub fn n(&self, state: &str) -> usize {
        self.states.get(state).copied().unwrap_or(0)
    }

    /// The most common reason and its count.
    pub fn dominant_reason(&self) -> Option<(&str, usize)> {
        self.reasons
            .iter()
            .max_by_key(|(_, n)| **n)
            .map(|(r, n)| (r.as_str(), *n))
    }

    /// `3/3 targets unhealthy: Target.Timeout (Request timed out)`.
    pub fn describe(&self, state: &str) -> String {
        let mut s = format!("{}/{} targets {state}", self.n(state), self.total);
        if let Some((reason, _)) = self.dominant_reason() {
            s.push_str(&format!(": {reason}"));
            if let Some(d) = self.descriptions.get(reason) {
                s.push_str(&format!(" ({})", crate::error::short(d)));
            }
        }
        s
    }
}

/// The target groups that receive traffic: those forwarded to by a listener's default action
/// or one of its rules, narrowed to the alarm's target groups when it names some.
pub fn routed_groups<'a>(a: &'a AlbCtx<'_>) -> Vec<&'a TargetGroupEvidence> {
    let focused = a.alb.focused_target_groups();
    let Some(listeners) = &a.alb.listeners else {
        return focused;
    };
    let mut arns: Vec<&str> = Vec::new();
    for l in listeners {
        let rule_actions = a.alb.rules.get(&l.listener_arn).into_iter().flatten();
        for action in l
            .default_actions
            .iter()
            .chain(rule_actions.flat_map(|r| &r.actions))
        {
            arns.extend(action.target_group_arns());
        }
    }
    let routed: Vec<_> = focused
        .iter()
        .copied()
        .filter(|t| arns.contains(&t.target_group.target_group_arn.as_str()))
        .collect();
    if routed.is_empty() { focused } else { routed }
}

fn lb_name(a: &AlbCtx<'_>) -> String {
    a.alb.name().to_owned()
}

fn base(a: &AlbCtx<'_>, rule: &'static Rule) -> Draft {
    let mut d = rule.draft();
    d.alb_arn = Some(a.alb.arn.clone());
    d.resources.push(a.alb.arn.clone());
    d
}

fn elb_line(s: &AlbSignals, code: u16, n: f64, share: f64) -> String {
    format!(
        "HTTPCode_ELB_{code}_Count: {} in {} min ({} of ELB 5xx)",
        count(n),
        s.w.minutes(),
        pct(share)
    )
}

fn idle_line(s: &AlbSignals) -> String {
    if s.idle_timeout_set {
        format!("idle timeout {}", secs(s.idle_timeout))
    } else {
        format!(
            "idle timeout {} (attribute never set: the default)",
            secs(s.idle_timeout)
        )
    }
}

fn healths<'a>(routed: &[&'a TargetGroupEvidence]) -> Vec<(&'a TargetGroupEvidence, Health)> {
    routed
        .iter()
        .filter_map(|t| Health::of(t).map(|h| (*t, h)))
        .collect()
}

/// No target is `unhealthy` in any routed group (and health was read).
fn targets_healthy(routed: &[&TargetGroupEvidence]) -> Option<bool> {
    let hs = healths(routed);
    if hs.is_empty() {
        return None;
    }
    Some(
        hs.iter()
            .all(|(_, h)| h.n("unhealthy") == 0 && h.n("healthy") > 0),
    )
}

pub(super) const NO_REGISTERED_TARGETS: Rule = Rule {
    id: "alb.no_registered_targets",
    kind: Kind::Cause,
    base: 0.9,
    codes: &[503],
    sub_cause_of: None,
    cause: "The target group the listener forwards to has no registered targets, so the ALB answers 503 to everything routed there.",
    needs: "Needs `DescribeTargetHealth` to return zero targets for a routed target group, and `HTTPCode_ELB_503_Count` above 0 and at least 80% of ELB 5xx. If no ALB metrics could be read at all, it still fires, 0.2 lower.",
    differs: "Here there are no targets, rather than targets that cannot be used. Registered but all unused, draining or initial is `alb.no_routable_targets`; all unhealthy is `alb.all_targets_unhealthy`, which fails open and so is not a 503.",
    detect: Detect::PerAlb(no_registered_targets),
};

fn no_registered_targets(a: &AlbCtx<'_>, routed: &[&TargetGroupEvidence]) -> Option<Draft> {
    let s = &a.s;
    // Without metrics an empty routed group still answers every request it gets with 503:
    // the rule holds, with the missing counts named and the confidence lowered.
    if s.metrics_read && (s.elb_503 <= 0.0 || s.p503 < NEARLY_ALL) {
        return None;
    }
    let (tg, _) = healths(routed).into_iter().find(|(_, h)| h.total == 0)?;
    let name = tg.target_group.display_name();
    let mut d = base(a, &NO_REGISTERED_TARGETS);
    d.title = format!("Target group {name} has no registered targets");
    d.resources.push(tg.target_group.target_group_arn.clone());
    d.evidence(format!("DescribeTargetHealth({name}): 0 targets"));
    if s.metrics_read {
        d.headline = format!(
            "Target group {name} behind {} has no registered targets: the ALB answered {} requests with 503 in {} min.",
            lb_name(a),
            count(s.elb_503),
            s.w.minutes()
        );
        d.evidence(elb_line(s, 503, s.elb_503, s.p503));
    } else {
        d.headline = format!(
            "Target group {name} behind {} has no registered targets: every request routed to it is answered 503.",
            lb_name(a)
        );
        d.missing("cloudwatch:GetMetricData (the ELB 503 counts)");
    }
    if s.metrics_read && s.requests <= 0.0 {
        d.evidence(format!(
            "RequestCount: {} in {} min (requests answered 503 without a target are not counted)",
            count(s.requests),
            s.w.minutes()
        ));
    }
    if let Some(step) = s.step {
        d.evidence(format!(
            "errors began at {} (step from ~0 to {} of demand)",
            step.at.format("%H:%M UTC"),
            pct(step.plateau)
        ));
    }
    d.step(format!(
        "Register targets in {name}: check the Auto Scaling group, ECS service or deployment that should register them (desired count, failed launches, a rollback that deregistered everything)."
    ));
    d.step(format!(
        "If a deploy swapped target groups, check that the listener of {} forwards to the group that has targets.",
        lb_name(a)
    ));
    d.step("Confirm recovery: HTTPCode_ELB_503_Count back to 0 and HealthyHostCount above 0.");
    Some(d)
}

pub(super) const NO_ROUTABLE_TARGETS: Rule = Rule {
    id: "alb.no_routable_targets",
    kind: Kind::Cause,
    base: 0.65,
    codes: &[503],
    sub_cause_of: None,
    cause: "Targets are registered but none can take traffic (all unused, draining or still initial), so the ALB answers 503.",
    needs: "Needs ELB 503 at least 80% of ELB 5xx, and a routed target group whose targets, per `DescribeTargetHealth`, are all `unused`, `draining` or `initial`, with none healthy or unhealthy.",
    differs: "Unlike `alb.no_registered_targets`, the group does have targets. Unlike `alb.all_targets_unhealthy`, none is `unhealthy`: unhealthy targets fail open and produce 502/504, not 503.",
    detect: Detect::PerAlb(no_routable_targets),
};

fn no_routable_targets(a: &AlbCtx<'_>, routed: &[&TargetGroupEvidence]) -> Option<Draft> {
    let s = &a.s;
    if s.elb_503 <= 0.0 || s.p503 < NEARLY_ALL {
        return None;
    }
    let (tg, h) = healths(routed).into_iter().find(|(_, h)| {
        h.total > 0
            && h.n("healthy") == 0
            && h.n("unhealthy") == 0
            && h.n("unused") + h.n("draining") + h.n("initial") == h.total
    })?;
    let name = tg.target_group.display_name();
    let mut d = base(a, &NO_ROUTABLE_TARGETS);
    d.title = format!("No target of {name} can take traffic");
    let states: Vec<String> = h.states.iter().map(|(k, v)| format!("{v} {k}")).collect();
    d.headline = format!(
        "No target of {name} can take traffic ({}): the ALB answered {} requests with 503 in {} min.",
        states.join(", "),
        count(s.elb_503),
        s.w.minutes()
    );
    d.resources.push(tg.target_group.target_group_arn.clone());
    d.evidence(format!(
        "DescribeTargetHealth({name}): {} of {} targets, none healthy or unhealthy",
        states.join(", "),
        h.total
    ));
    if let Some((reason, n)) = h.dominant_reason() {
        d.evidence(format!("{n} targets report {reason}"));
    }
    d.evidence(elb_line(s, 503, s.elb_503, s.p503));
    if h.n("unused") > 0 {
        d.step(format!(
            "Targets `unused` (Target.NotInUse / Target.InvalidState): check that {name} is attached to a listener rule and that its targets are running in an Availability Zone enabled on {}.",
            lb_name(a)
        ));
    }
    if h.n("initial") > 0 {
        d.step(format!(
            "Targets `initial`: registration or first health checks still in progress; if it lasts longer than healthy threshold x interval, check the health check of {name}."
        ));
    }
    if h.n("draining") > 0 {
        d.step("Targets `draining`: every target is being deregistered; register the new targets of the deployment before draining the old ones.");
    }
    Some(d)
}

pub(super) const ALL_TARGETS_UNHEALTHY: Rule = Rule {
    id: "alb.all_targets_unhealthy",
    kind: Kind::Cause,
    base: 0.8,
    codes: &[502, 504],
    sub_cause_of: None,
    cause: "Every target in the routed target group fails its health checks; the ALB fails open, and users see 502/504 or application errors.",
    needs: "Fires when `DescribeTargetHealth` shows every target of a routed group as `unhealthy`. The dominant reason code picks the advice; `HealthyHostCount` Minimum 0 is noted; `HTTPCode_Target_2XX_Count` at half of `RequestCount` or more adds confidence.",
    differs: "It is the answer only when no sub-cause rule (unreachable, refused, overloaded, response timeout, TLS, Lambda, app 5xx) fires for the same ALB. 2xx still flowing points to a bad health check, and fail-open is not the 503 of the no-target rules.",
    detect: Detect::PerAlb(all_targets_unhealthy),
};

fn all_targets_unhealthy(a: &AlbCtx<'_>, routed: &[&TargetGroupEvidence]) -> Option<Draft> {
    let s = &a.s;
    let (tg, h) = healths(routed)
        .into_iter()
        .find(|(_, h)| h.total > 0 && h.n("unhealthy") == h.total)?;
    let t = &tg.target_group;
    let name = t.display_name();
    let mut d = base(a, &ALL_TARGETS_UNHEALTHY);
    d.resources.push(t.target_group_arn.clone());
    d.title = format!("Every target of {name} is unhealthy");
    d.evidence(h.describe("unhealthy"));
    let reason = h
        .dominant_reason()
        .map(|(r, _)| r.to_owned())
        .unwrap_or_default();
    let path = t.health_check_path.as_deref().unwrap_or("/");
    let port = match t.health_check_port.as_deref() {
        None | Some("traffic-port") => t
            .port
            .map_or_else(|| "traffic-port".into(), |p| p.to_string()),
        Some(p) => p.to_owned(),
    };
    let matcher = t
        .matcher
        .as_ref()
        .and_then(|m| m.http_code.as_deref())
        .unwrap_or(aws_defaults::HEALTH_CHECK_MATCHER);
    let (default_timeout, default_interval) =
        aws_defaults::health_check_timing(t.target_type.as_deref());
    d.evidence(format!(
        "health check: {} {path} on port {port}, expects {matcher}, timeout {} s every {} s",
        t.health_check_protocol.as_deref().unwrap_or("HTTP"),
        t.health_check_timeout_seconds.unwrap_or(default_timeout),
        t.health_check_interval_seconds.unwrap_or(default_interval)
    ));
    let users_served = s.target_2xx > 0.0 && s.target_2xx >= MOSTLY_SERVED * s.requests.max(1.0);
    if users_served {
        d.corroborate(format!(
            "HTTPCode_Target_2XX_Count: {} in {} min: the ALB fails open and the targets still serve users",
            count(s.target_2xx),
            s.w.minutes()
        ));
        d.codes.clear();
        d.title = format!("Every target of {name} fails its health check while serving traffic");
        d.headline = format!(
            "Every target of {name} fails its health check ({reason}) yet serves {} successful responses in {} min: the health check is misconfigured, not the application.",
            count(s.target_2xx),
            s.w.minutes()
        );
    } else {
        d.headline = format!(
            "Every target of {name} is unhealthy ({reason}) and {} sees {} of requests fail.",
            lb_name(a),
            pct(s.err_ratio)
        );
    }
    if healthy_min(a, tg).is_some_and(|m| m <= 0.0) {
        d.evidence("HealthyHostCount Minimum 0 in the alarm window");
    }
    match reason.as_str() {
        "Target.ResponseCodeMismatch" => {
            d.step(format!(
                "The health check of {name} gets an unexpected status: request {path} on a target yourself (curl -i http://TARGET:{port}{path}) and compare with the matcher {matcher}."
            ));
            d.step(format!(
                "Fix the health check path or matcher of {name} (or the endpoint): a missing route (404) or a redirect (301/302) is the usual cause after a deploy."
            ));
        }
        "Target.Timeout" => {
            d.step(format!(
                "Health checks time out: check that the targets' security group admits the load balancer's security group ({}) on port {port}, and the subnets' NACLs and routes.",
                a.alb
                    .load_balancer
                    .as_ref()
                    .map(|l| l.security_groups.join(", "))
                    .unwrap_or_else(|| "see the load balancer".into())
            ));
            d.step("If the network is open, the targets are overloaded or stuck: check CPU, memory and thread pools.");
        }
        "Target.FailedHealthChecks" => {
            d.step(format!(
                "Connections to the targets fail: check that the application listens on port {port} (and speaks {} there).",
                t.health_check_protocol.as_deref().unwrap_or("HTTP")
            ));
        }
        _ => {
            d.step(format!(
                "Read the reason codes of {name} in the console (Targets tab) and fix the first one."
            ));
        }
    }
    Some(d)
}

fn healthy_min(a: &AlbCtx<'_>, tg: &TargetGroupEvidence) -> Option<f64> {
    a.s.healthy_min
        .get(&tg.target_group.target_group_arn)
        .copied()
}

pub(super) const KEEPALIVE_SHORTER_THAN_IDLE: Rule = Rule {
    id: "alb.keepalive_shorter_than_idle",
    kind: Kind::Cause,
    base: 0.55,
    codes: &[502],
    sub_cause_of: None,
    cause: "The targets' keep-alive timeout is shorter than the ALB idle timeout, so the ALB sometimes reuses a connection the target just closed and gets a 502.",
    needs: "Needs ELB 502 at least half of ELB 5xx but under 5% of demand, zero target connection and TLS errors, no unhealthy or draining routed targets, and a ratio that is neither peak-only nor over twice as high at high load as at low load.",
    differs: "The rate is low and flat across load, unlike overload. There are no connection errors (`alb.target_connection_refused`) and no draining targets (`alb.deregistration_inflight`). At a 502 ratio of 5% or more it stops firing and `alb.malformed_target_response` remains.",
    detect: Detect::PerAlb(keepalive_shorter_than_idle),
};

fn keepalive_shorter_than_idle(a: &AlbCtx<'_>, routed: &[&TargetGroupEvidence]) -> Option<Draft> {
    let s = &a.s;
    if s.elb_502 <= 0.0 || s.p502 < DOMINANT || s.ratio_502 >= RACE_CEILING {
        return None;
    }
    if s.conn_errors > 0.0 || s.tls_errors > 0.0 {
        return None;
    }
    if targets_healthy(routed) == Some(false) {
        return None;
    }
    if healths(routed).iter().any(|(_, h)| h.n("draining") > 0) {
        return None;
    }
    // "At low and high load alike": a ratio that climbs with load is no keep-alive race.
    let climbs = matches!(
        (s.ratio_low_load, s.ratio_high_load),
        (Some(low), Some(high)) if high > LOAD_FACTOR * low.max(1e-9)
    );
    if s.only_at_peaks || climbs {
        return None;
    }
    let mut d = base(a, &KEEPALIVE_SHORTER_THAN_IDLE);
    let tg_names: Vec<&str> = routed
        .iter()
        .map(|t| t.target_group.display_name())
        .collect();
    let tgs = tg_names.join(", ");
    d.title = format!(
        "Targets of {tgs} close idle connections before {} does ({})",
        lb_name(a),
        idle_line(s)
    );
    d.headline = format!(
        "The targets of {tgs} close keep-alive connections before the ALB's {}: {} of requests on {} end in ELB 502.",
        idle_line(s),
        pct(s.ratio_502),
        lb_name(a)
    );
    for t in routed {
        d.resources.push(t.target_group.target_group_arn.clone());
    }
    d.evidence(format!(
        "HTTPCode_ELB_502_Count: {} of requests ({} in {} min, {} of ELB 5xx)",
        pct(s.ratio_502),
        count(s.elb_502),
        s.w.minutes(),
        pct(s.p502)
    ));
    d.evidence(idle_line(s));
    d.evidence(
        "TargetConnectionErrorCount 0, TargetTLSNegotiationErrorCount 0: connections open fine",
    );
    if targets_healthy(routed) == Some(true) {
        d.evidence("all targets healthy");
    } else {
        d.missing("target health");
    }
    if let (Some(low), Some(high)) = (s.ratio_low_load, s.ratio_high_load)
        && !s.load_correlated
        && low > 0.0
        && (1.0 / LOAD_FACTOR..=LOAD_FACTOR).contains(&(high / low))
    {
        d.corroborate(format!(
            "flat across load: {} of requests in the quietest minutes, {} in the busiest",
            pct(low),
            pct(high)
        ));
    }
    if s.chronic {
        d.corroborate(format!(
            "already {} in the hour before: a standing race, not an event",
            pct(s.base_ratio.unwrap_or(0.0))
        ));
    }
    if s.load_correlated {
        d.competes("alb.target_overloaded");
    }
    d.step(format!(
        "Set the server's keep-alive timeout above the ALB idle timeout (now {}) on the targets of {tgs} (Node: server.keepAliveTimeout; nginx: keepalive_timeout; Apache: KeepAliveTimeout; Gunicorn: --keep-alive).",
        secs(s.idle_timeout)
    ));
    d.step(format!(
        "Or lower the idle timeout of {} below the targets' keep-alive (idle_timeout.timeout_seconds), if no request legitimately idles that long.",
        lb_name(a)
    ));
    d.step("Confirm in ALB access logs: elb_status_code 502 with target_status_code '-' on reused connections.");
    Some(d)
}

pub(super) const TARGET_CONNECTION_REFUSED: Rule = Rule {
    id: "alb.target_connection_refused",
    kind: Kind::Cause,
    base: 0.7,
    codes: &[502],
    sub_cause_of: Some("alb.all_targets_unhealthy"),
    cause: "Targets refuse or reset the ALB's connections (process down, wrong port, full backlog), so the ALB returns 502.",
    needs: "Fires on `TargetConnectionErrorCount` above 0 with ELB 502 at least half of ELB 5xx. Targets reporting `Target.FailedHealthChecks`, or a mix of healthy and unhealthy targets, add confidence; with neither it loses 0.15.",
    differs: "A refused connection fails fast as 502, whereas a filtered network times out as 504 (`alb.target_unreachable`). The connection errors exclude `alb.keepalive_shorter_than_idle` and `alb.malformed_target_response`.",
    detect: Detect::PerAlb(target_connection_refused),
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

pub(super) const TARGET_UNREACHABLE: Rule = Rule {
    id: "alb.target_unreachable",
    kind: Kind::Cause,
    base: 0.7,
    codes: &[504],
    sub_cause_of: Some("alb.all_targets_unhealthy"),
    cause: "The ALB cannot open connections to its targets (a security group, NACL or route drops the packets), so requests time out with 504.",
    needs: "Needs ELB 504 at least half of ELB 5xx and `TargetConnectionErrorCount` above 0, plus at least one of: every routed target unhealthy with `Target.Timeout`, no `TargetResponseTime` data in the window, or a step onset. Load correlation lowers it.",
    differs: "Connection errors separate it from `alb.target_response_timeout`, where targets connect and then answer slowly. The step, missing latency or all-Timeout health separates it from `alb.target_overloaded`, and 504 rather than 502 from `alb.target_connection_refused`.",
    detect: Detect::PerAlb(target_unreachable),
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

pub(super) const TARGET_OVERLOADED: Rule = Rule {
    id: "alb.target_overloaded",
    kind: Kind::Cause,
    base: 0.6,
    codes: &[502, 504],
    sub_cause_of: Some("alb.all_targets_unhealthy"),
    cause: "The targets run out of capacity as traffic rises, so failed connections and slow answers turn into 502/504.",
    needs: "Needs ELB 502+504 above 0 and errors that follow load (error or connection-error ratio rank-correlated with demand at 0.6+, or errors only at peaks), plus one of: connection errors following load, `TargetResponseTime` p99 tracking demand, or some `Target.Timeout` targets beside healthy ones.",
    differs: "The errors track RequestCount, whereas `alb.target_unreachable` and `alb.target_connection_refused` describe failures that occur at any load. `RejectedConnectionCount` adds confidence here.",
    detect: Detect::PerAlb(target_overloaded),
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
    // The errors must follow load: the ratio does, or the connection errors do.
    if !(s.load_correlated || conn_follows) || !(conn_follows || some_timeout || p99_follows) {
        return None;
    }
    let mut d = base(a, &TARGET_OVERLOADED);
    d.title = format!("Targets behind {} are overloaded", lb_name(a));
    d.headline = format!(
        "Targets behind {} are overloaded: the error ratio rises with load to {} of requests.",
        lb_name(a),
        pct(s.err_ratio)
    );
    d.evidence(format!(
        "error ratio vs load: rank correlation {:.2}",
        s.load_corr.unwrap_or(0.0)
    ));
    if conn_follows {
        d.corroborate(format!(
            "TargetConnectionErrorCount {} in {} min, rising with RequestCount",
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

pub(super) const TARGET_RESPONSE_TIMEOUT: Rule = Rule {
    id: "alb.target_response_timeout",
    kind: Kind::Cause,
    base: 0.75,
    codes: &[504],
    sub_cause_of: Some("alb.all_targets_unhealthy"),
    cause: "Targets accept the connection but take longer than the ALB idle timeout to answer, so the ALB gives up with 504.",
    needs: "Needs ELB 504 at least half of ELB 5xx, `TargetResponseTime` Maximum at 90% or more of `idle_timeout.timeout_seconds` (60 s if unset), and no routed group with unhealthy targets. Zero connection errors and all targets healthy add confidence.",
    differs: "No connection failure is required, unlike `alb.target_unreachable`; load correlation only changes the advice. Behind CloudFront, when the idle timeout is at or below `OriginReadTimeout` and the ALB has ELB 504s, `cf.origin_read_timeout` steps aside for this rule.",
    detect: Detect::PerAlb(target_response_timeout),
};

fn target_response_timeout(a: &AlbCtx<'_>, routed: &[&TargetGroupEvidence]) -> Option<Draft> {
    let s = &a.s;
    if s.elb_504 <= 0.0 || s.p504 < DOMINANT {
        return None;
    }
    let max = s.trt_max?;
    if max < REACHED * s.idle_timeout {
        return None;
    }
    if targets_healthy(routed) == Some(false) {
        return None;
    }
    let mut d = base(a, &TARGET_RESPONSE_TIMEOUT);
    d.title = format!(
        "Targets behind {} answer slower than the {}",
        lb_name(a),
        idle_line(s)
    );
    d.headline = format!(
        "Targets behind {} take up to {} to answer, reaching the ALB {}: {} ELB 504 in {} min.",
        lb_name(a),
        secs(max),
        idle_line(s),
        count(s.elb_504),
        s.w.minutes()
    );
    d.evidence(elb_line(s, 504, s.elb_504, s.p504));
    d.evidence(format!(
        "TargetResponseTime Maximum {} against the {}",
        secs(max),
        idle_line(s)
    ));
    if let Some(p99) = s.trt_p99 {
        d.evidence(format!("TargetResponseTime p99 {}", secs(p99)));
    }
    if s.conn_errors <= 0.0 {
        d.corroborate("TargetConnectionErrorCount 0: connections open, answers are slow");
    }
    if targets_healthy(routed) == Some(true) {
        d.corroborate("all targets healthy");
    }
    if s.load_correlated {
        d.evidence(format!(
            "the error ratio rises with load (rank correlation {:.2}): a capacity limit",
            s.load_corr.unwrap_or(0.0)
        ));
        d.step("The slowness follows load: add capacity or fix the saturated dependency (database, downstream API) that the slow requests wait on.");
    } else {
        d.step("The slowness does not follow load: find the slow endpoints in ALB access logs (target_processing_time near the idle timeout) and fix them.");
    }
    d.step(format!(
        "Raise idle_timeout.timeout_seconds of {} (now {}) only for requests that legitimately run long; it treats the symptom.",
        lb_name(a),
        secs(s.idle_timeout)
    ));
    Some(d)
}

pub(super) const TARGET_TLS_HANDSHAKE: Rule = Rule {
    id: "alb.target_tls_handshake",
    kind: Kind::Cause,
    base: 0.8,
    codes: &[502],
    sub_cause_of: Some("alb.all_targets_unhealthy"),
    cause: "The ALB cannot complete TLS with its HTTPS targets (protocol or cipher mismatch, or plain HTTP on the TLS port), so requests end in 502.",
    needs: "Fires when `TargetTLSNegotiationErrorCount` is above 0 in the window and a routed target group uses Protocol HTTPS. A dominant ELB 502 share and a step onset add confidence.",
    differs: "The connection opens but the handshake fails, unlike `alb.target_connection_refused`. Target certificate expiry is never blamed (the ALB does not validate target certificates), and any TLS errors rule out the keep-alive and malformed-response rules.",
    detect: Detect::PerAlb(target_tls_handshake),
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

pub(super) const MALFORMED_TARGET_RESPONSE: Rule = Rule {
    id: "alb.malformed_target_response",
    kind: Kind::Cause,
    base: 0.45,
    codes: &[502],
    sub_cause_of: None,
    cause: "Targets send responses the ALB cannot parse (oversized or invalid headers, broken chunked encoding), so it replies 502.",
    needs: "Needs ELB 502 at least half of ELB 5xx, no connection or TLS errors, no load correlation, and every routed group healthy with no unhealthy targets. A step onset or a 502 ratio of 5%+ adds confidence; below 5% it loses 0.15 to the keep-alive rule.",
    differs: "This is what is left once connection, TLS and load causes are excluded. A low, steady rate favours `alb.keepalive_shorter_than_idle`; a higher or step-shaped rate favours this rule.",
    detect: Detect::PerAlb(malformed_target_response),
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

pub(super) const DEREGISTRATION_INFLIGHT: Rule = Rule {
    id: "alb.deregistration_inflight",
    kind: Kind::Cause,
    base: 0.6,
    codes: &[502],
    sub_cause_of: None,
    cause: "Targets are being deregistered during a deploy or scale-in, and requests still in flight on them are cut off with 502.",
    needs: "Needs ELB 502 above 0 and at least one `draining` target in a routed group per `DescribeTargetHealth`. A `deregistration_delay.timeout_seconds` of 0 or below `TargetResponseTime` Maximum, and a non-chronic step onset, add confidence; unread attributes cost 0.2.",
    differs: "It is tied to draining targets at triage time. `alb.keepalive_shorter_than_idle` will not fire while any target drains, and describes steady 502s outside deploys.",
    detect: Detect::PerAlb(deregistration_inflight),
};

fn deregistration_inflight(a: &AlbCtx<'_>, routed: &[&TargetGroupEvidence]) -> Option<Draft> {
    let s = &a.s;
    if s.elb_502 <= 0.0 {
        return None;
    }
    let (tg, h) = healths(routed)
        .into_iter()
        .find(|(_, h)| h.n("draining") > 0)?;
    let name = tg.target_group.display_name();
    let delay = tg
        .attributes
        .as_deref()
        .and_then(|a| attribute(a, "deregistration_delay.timeout_seconds"))
        .and_then(|v| v.parse::<f64>().ok());
    let mut d = base(a, &DEREGISTRATION_INFLIGHT);
    d.resources.push(tg.target_group.target_group_arn.clone());
    d.title = format!("Requests cut off while targets of {name} deregister");
    d.headline = format!(
        "Targets of {name} are being deregistered ({} draining) and in-flight requests end in 502.",
        h.n("draining")
    );
    d.evidence(h.describe("draining"));
    d.evidence(elb_line(s, 502, s.elb_502, s.p502));
    match delay {
        Some(delay) => {
            d.evidence(format!(
                "deregistration_delay.timeout_seconds {}",
                secs(delay)
            ));
            if delay <= 0.0 || s.trt_max.is_some_and(|m| m > delay) {
                d.corroborate(format!(
                    "the delay ({}) is shorter than the longest requests ({})",
                    secs(delay),
                    secs(s.trt_max.unwrap_or(0.0))
                ));
            }
        }
        None => d.missing("target group attributes (deregistration delay)"),
    }
    if s.step.is_some() && !s.chronic {
        d.corroborate("errors began with the deploy or scale-in, not before");
    }
    d.step(format!(
        "Raise deregistration_delay.timeout_seconds of {name} above the longest request, and make the application finish in-flight requests on SIGTERM before exiting."
    ));
    d.step(
        "Check the deployment's draining order: new targets healthy before old ones deregister.",
    );
    Some(d)
}

pub(super) const LAMBDA_TARGET_ERROR: Rule = Rule {
    id: "alb.lambda_target_error",
    kind: Kind::Cause,
    base: 0.8,
    codes: &[502, 504],
    sub_cause_of: Some("alb.all_targets_unhealthy"),
    cause: "The Lambda function behind the ALB fails its invocations, so the ALB returns 502/504.",
    needs: "Needs a routed target group with TargetType `lambda`, and `LambdaUserError` plus `LambdaInternalError` above 0 in the window (the larger of the per-load-balancer and per-target-group readings). ELB 502s add confidence.",
    differs: "It applies only to Lambda target groups, where connection, TLS and health-reason signals do not exist. The Lambda error metrics show the function failed, not the network or a timeout.",
    detect: Detect::PerAlb(lambda_target_error),
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

pub(super) const TARGET_APP_5XX: Rule = Rule {
    id: "alb.target_app_5xx",
    kind: Kind::Cause,
    base: 0.85,
    codes: &[500],
    sub_cause_of: Some("alb.all_targets_unhealthy"),
    cause: "The application on the targets is returning 5xx itself; the load balancer only passes those responses on.",
    needs: "Needs `HTTPCode_Target_5XX_Count` to be at least 90% of all 5xx (ELB plus target), and either 0.1% of `RequestCount` and at least 10 responses, or three times the previous hour's ratio. A step onset adds confidence; a load-correlated ratio takes 0.15 off.",
    differs: "ELB-generated codes are near zero, so the connection, TLS, timeout and no-target rules do not fit. A step with steady load points to a deploy or dependency; a ratio that rises with load points to capacity.",
    detect: Detect::PerAlb(target_app_5xx),
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

fn share(part: f64, whole: f64) -> f64 {
    super::signals::share(part, whole)
}

pub(super) const LB_GENERATED_500: Rule = Rule {
    id: "alb.lb_generated_500",
    kind: Kind::Cause,
    base: 0.7,
    codes: &[500, 561],
    sub_cause_of: None,
    cause: "The ALB itself returns 500, usually because an authenticate action (OIDC/Cognito) or a WAF web ACL evaluation is failing.",
    needs: "Fires when `HTTPCode_ELB_500_Count` is above 0 and at least half of ELB 5xx. `ELBAuthError` above 0 adds confidence, and an authenticate action on a listener is noted; otherwise it loses 0.2, because the WAF association is not read.",
    differs: "The 500 comes from the load balancer, not the application (`alb.target_app_5xx` reads target 5xx). WAF is implicated only for evaluation errors, never for ordinary blocks, which return 403 (`guard.waf_not_5xx`).",
    detect: Detect::PerAlb(lb_generated_500),
};

fn lb_generated_500(a: &AlbCtx<'_>, _: &[&TargetGroupEvidence]) -> Option<Draft> {
    let s = &a.s;
    if s.elb_500 <= 0.0 || s.p500 < DOMINANT {
        return None;
    }
    let mut d = base(a, &LB_GENERATED_500);
    d.title = format!("{} itself answers 500", lb_name(a));
    d.headline = format!(
        "{} itself answers 500 ({} in {} min): an authentication action or WAF evaluation fails.",
        lb_name(a),
        count(s.elb_500),
        s.w.minutes()
    );
    d.evidence(elb_line(s, 500, s.elb_500, s.p500));
    let auth_action = a.alb.listeners.iter().flatten().any(|l| {
        l.default_actions
            .iter()
            .chain(
                a.alb
                    .rules
                    .get(&l.listener_arn)
                    .into_iter()
                    .flatten()
                    .flat_map(|r| &r.actions),
            )
            .any(|x| x.kind.starts_with("authenticate"))
    });
    if s.auth_errors > 0.0 {
        d.corroborate(format!(
            "ELBAuthError: {} in {} min: the authenticate action fails",
            count(s.auth_errors),
            s.w.minutes()
        ));
        d.step("Check the identity provider's availability and the listener's authenticate action (client secret, endpoints, token size).");
    } else if auth_action {
        d.evidence(
            "a listener rule authenticates users (authenticate-oidc / authenticate-cognito)",
        );
        d.step("Check the identity provider and the authenticate action's configuration.");
    } else {
        d.missing("the WAF web ACL association of the load balancer (not read)");
        d.step("If a WAF web ACL is associated, check its evaluation errors; otherwise open an AWS Support case: the load balancer answers 500 on its own.");
    }
    Some(d)
}

pub(super) const CONNECTION_LIMIT: Rule = Rule {
    id: "alb.connection_limit",
    kind: Kind::Supporting,
    base: 0.3,
    codes: &[],
    sub_cause_of: None,
    cause: "The load balancer is rejecting client connections because it has reached its connection limit.",
    needs: "Fires whenever `RejectedConnectionCount` is above 0 in the window, as a supporting finding at 0.3 that ranking keeps below the best cause.",
    differs: "It is never the answer on its own. The same signal adds confidence to `alb.target_overloaded`, the load-type cause it usually comes with.",
    detect: Detect::PerAlb(connection_limit),
};

fn connection_limit(a: &AlbCtx<'_>, _: &[&TargetGroupEvidence]) -> Option<Draft> {
    let s = &a.s;
    if s.rejected <= 0.0 {
        return None;
    }
    let mut d = base(a, &CONNECTION_LIMIT);
    d.title = format!("{} rejects connections", lb_name(a));
    d.headline = d.title.clone();
    d.evidence(format!(
        "RejectedConnectionCount: {} in {} min",
        count(s.rejected),
        s.w.minutes()
    ));
    d.step("The load balancer reached its connection limit: this adds to load-type causes; check for connection storms or missing keep-alive on clients.");
    Some(d)
}
