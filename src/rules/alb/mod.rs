//! ALB rules (`docs/rules.md`): who made the 5xx, and why. [`routing`] holds the causes of the
//! load balancer and its routing, [`targets`] those of the targets' answers; the helpers and
//! thresholds they share are here.

mod routing;
mod targets;
#[cfg(test)]
mod tests;

pub(super) use self::routing::{
    ALL_TARGETS_UNHEALTHY, CONNECTION_LIMIT, DEREGISTRATION_INFLIGHT, FIXED_RESPONSE_5XX,
    KEEPALIVE_SHORTER_THAN_IDLE, LB_GENERATED_500, NO_REGISTERED_TARGETS, NO_ROUTABLE_TARGETS,
};
pub(super) use self::targets::{
    LAMBDA_TARGET_ERROR, MALFORMED_TARGET_RESPONSE, TARGET_APP_5XX, TARGET_CONNECTION_REFUSED,
    TARGET_OVERLOADED, TARGET_RESPONSE_TIMEOUT, TARGET_TLS_HANDSHAKE, TARGET_UNREACHABLE,
};

use std::collections::BTreeMap;

use super::catalog::{Detect, Rule};

use super::fix::{self, Elbv2, Proposed};
use super::{AlbCtx, COMPETING, Draft, Kind, aws_defaults, count, pct, secs};
use crate::evidence::TargetGroupEvidence;
use crate::evidence::elb::attribute;
use crate::rules::signals::{
    AlbSignals, CORRELATED, DOMINANT, NEARLY_ALL, NOISE_RATIO, REACHED, share,
};

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
pub(crate) struct Health {
    pub total: usize,
    /// Targets per state (`healthy`, `unhealthy`, `unused`, `draining`, `initial`, ...).
    pub states: BTreeMap<String, usize>,
    /// Targets per reason code.
    pub reasons: BTreeMap<String, usize>,
    /// One description per reason, as AWS wrote it.
    pub descriptions: BTreeMap<String, String>,
    /// Targets per (state, reason code): a state is described with its own targets' reasons.
    pub state_reasons: BTreeMap<(String, String), usize>,
}

impl Health {
    pub(crate) fn of(tg: &TargetGroupEvidence) -> Option<Self> {
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
            *h.states.entry(state.clone()).or_default() += 1;
            if let Some(r) = &d.target_health.reason {
                *h.reasons.entry(r.clone()).or_default() += 1;
                *h.state_reasons.entry((state, r.clone())).or_default() += 1;
                if let Some(desc) = &d.target_health.description {
                    h.descriptions
                        .entry(r.clone())
                        .or_insert_with(|| desc.clone());
                }
            }
        }
        Some(h)
    }

    pub(crate) fn n(&self, state: &str) -> usize {
        self.states.get(state).copied().unwrap_or(0)
    }

    /// The most common reason and its count.
    pub(crate) fn dominant_reason(&self) -> Option<(&str, usize)> {
        self.reasons
            .iter()
            .max_by_key(|(_, n)| **n)
            .map(|(r, n)| (r.as_str(), *n))
    }

    /// The most common reason among the targets in `state`.
    pub(crate) fn dominant_reason_in(&self, state: &str) -> Option<&str> {
        self.state_reasons
            .iter()
            .filter(|((st, _), _)| st == state)
            .max_by_key(|(_, n)| **n)
            .map(|((_, r), _)| r.as_str())
    }

    /// `3/3 targets unhealthy: Target.Timeout (Request timed out)`: the reason is that of the
    /// targets in `state`, never another state's (draining targets are not described with
    /// the unhealthy ones' reason).
    pub(crate) fn describe(&self, state: &str) -> String {
        let mut s = format!("{}/{} targets {state}", self.n(state), self.total);
        if let Some(reason) = self.dominant_reason_in(state) {
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
pub(crate) fn routed_groups<'a>(a: &'a AlbCtx<'_>) -> Vec<&'a TargetGroupEvidence> {
    routed_among(a, a.alb.focused_target_groups())
}

/// Every target group the listeners route to, whatever the alarm names: where else the same
/// fault sits.
pub(crate) fn all_routed_groups<'a>(a: &'a AlbCtx<'_>) -> Vec<&'a TargetGroupEvidence> {
    routed_among(a, a.alb.target_groups.iter().flatten().collect())
}

fn routed_among<'a>(
    a: &'a AlbCtx<'_>,
    candidates: Vec<&'a TargetGroupEvidence>,
) -> Vec<&'a TargetGroupEvidence> {
    let Some(listeners) = &a.alb.listeners else {
        return candidates;
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
    let routed: Vec<_> = candidates
        .iter()
        .copied()
        .filter(|t| arns.contains(&t.target_group.target_group_arn.as_str()))
        .collect();
    if routed.is_empty() {
        candidates
    } else {
        routed
    }
}

/// A target group's share of the load balancer's requests in W, from the per-group
/// RequestCount (`None` where a group's count was not read).
fn request_share(a: &AlbCtx<'_>, tg: &TargetGroupEvidence) -> Option<f64> {
    let mine = *a.s.tg_requests.get(&tg.target_group.target_group_arn)?;
    let total: f64 = a.s.tg_requests.values().sum();
    (total > 0.0).then(|| mine / total)
}

/// `web-tg (62% of requests)`, or the bare name when its requests were not read.
fn with_share(a: &AlbCtx<'_>, tg: &TargetGroupEvidence) -> String {
    let name = tg.target_group.display_name();
    match request_share(a, tg) {
        Some(p) => format!("{name} ({} of requests)", pct(p)),
        None => format!("{name} (its RequestCount not read)"),
    }
}

/// The same fault on the other routed groups: a finding about one group (the alarm's, or the
/// first found) names every group `fault` holds for, each with its share of requests, and
/// lists them among its resources. Returns how many other groups it named.
fn name_every_affected_group(
    a: &AlbCtx<'_>,
    d: &mut Draft,
    first: &TargetGroupEvidence,
    fault: impl Fn(&TargetGroupEvidence, &Health) -> bool,
) -> usize {
    let others: Vec<&TargetGroupEvidence> = healths(&all_routed_groups(a))
        .into_iter()
        .filter(|(t, h)| {
            t.target_group.target_group_arn != first.target_group.target_group_arn && fault(t, h)
        })
        .map(|(t, _)| t)
        .collect();
    if others.is_empty() {
        if let Some(p) = request_share(a, first).filter(|p| *p < 1.0) {
            d.evidence(format!(
                "{} carries {} of {}'s requests; no other routed group shows this fault",
                first.target_group.display_name(),
                pct(p),
                lb_name(a)
            ));
        }
        return 0;
    }
    let mut names = vec![with_share(a, first)];
    names.extend(others.iter().map(|t| with_share(a, t)));
    d.evidence(format!(
        "the same fault on {} routed groups: {}",
        names.len(),
        names.join(", ")
    ));
    for t in &others {
        d.resources.push(t.target_group.target_group_arn.clone());
    }
    others.len()
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

/// The ALB attribute that holds the idle timeout.
const IDLE_TIMEOUT_KEY: &str = "idle_timeout.timeout_seconds";

/// The idle timeout as read (the AWS default when the attributes were read without it), or
/// what is missing for a command.
fn idle_timeout_read(a: &AlbCtx<'_>) -> Result<u32, String> {
    if a.alb.attributes.is_none() {
        return Err(format!(
            "the attributes of {} (its current idle timeout) were not read",
            lb_name(a)
        ));
    }
    fix::whole(a.s.idle_timeout).ok_or_else(|| {
        format!(
            "the idle timeout of {} is not a whole number of seconds",
            lb_name(a)
        )
    })
}

/// Sets the load balancer's idle timeout from `current` to `proposed`.
fn set_idle_timeout(a: &AlbCtx<'_>, current: u32, proposed: Proposed) -> fix::Built {
    fix::elbv2_attribute(
        Elbv2::LoadBalancer,
        &a.alb.arn,
        IDLE_TIMEOUT_KEY,
        current,
        proposed,
    )
}

pub(crate) fn healths<'a>(
    routed: &[&'a TargetGroupEvidence],
) -> Vec<(&'a TargetGroupEvidence, Health)> {
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
