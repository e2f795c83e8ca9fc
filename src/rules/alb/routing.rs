//! ALB causes of the load balancer and its routing: no targets to send to, every target
//! unhealthy, keep-alive and idle timeouts, deregistration, errors the load balancer makes
//! itself.

use super::*;
use crate::rules::fix::HealthChange;

pub(in crate::rules) const FIXED_RESPONSE_5XX: Rule = Rule {
    id: "alb.fixed_response_5xx",
    kind: Kind::Cause,
    base: 0.85,
    codes: &[500, 501, 502, 503, 504],
    sub_cause_of: None,
    cause: "A listener rule (or the default action) answers a fixed 5xx response from the load balancer itself, often a maintenance rule left in place: it looks exactly like an outage while every target is healthy.",
    needs: "Needs a listener rule or default action of type `fixed-response` with a 5xx `StatusCode`, that code's `HTTPCode_ELB_<code>_Count` (or ELB 5xx) at least half of ELB 5xx in W, and no routed target group without a healthy target. `HTTP_Fixed_Response_Count` rising with it adds confidence.",
    differs: "With healthy targets, ELB 503s from no registered or no healthy targets (`alb.no_registered_targets`, `alb.all_targets_unhealthy`) do not apply; an authenticate action's 500s are `alb.lb_generated_500`.",
    detect: Detect::Alb(fixed_response_5xx),
};

/// A fixed-response action answering a 5xx: where it is and what it answers.
struct FixedAnswer {
    code: u16,
    listener: String,
    priority: String,
    conditions: String,
    rule_arn: Option<String>,
}

fn fixed_answers(a: &AlbCtx<'_>) -> Vec<FixedAnswer> {
    let code_of = |x: &crate::evidence::elb::Action| -> Option<u16> {
        if x.kind != "fixed-response" {
            return None;
        }
        let code: u16 = x
            .fixed_response_config
            .as_ref()?
            .status_code
            .as_deref()?
            .parse()
            .ok()?;
        (500..600).contains(&code).then_some(code)
    };
    let mut out = Vec::new();
    for l in a.alb.listeners.iter().flatten() {
        let listener = format!(
            "{}:{}",
            l.protocol.as_deref().unwrap_or("?"),
            l.port.map_or_else(|| "?".to_owned(), |p| p.to_string())
        );
        match a.alb.rules.get(&l.listener_arn) {
            Some(rules) => {
                for r in rules {
                    for code in r.actions.iter().filter_map(code_of) {
                        out.push(FixedAnswer {
                            code,
                            listener: listener.clone(),
                            priority: r.priority.clone().unwrap_or_default(),
                            conditions: r
                                .conditions
                                .iter()
                                .map(|c| c.describe())
                                .collect::<Vec<_>>()
                                .join(" and "),
                            rule_arn: (r.is_default != Some(true)).then(|| r.rule_arn.clone()),
                        });
                    }
                }
            }
            None => {
                for code in l.default_actions.iter().filter_map(code_of) {
                    out.push(FixedAnswer {
                        code,
                        listener: listener.clone(),
                        priority: "default".into(),
                        conditions: String::new(),
                        rule_arn: None,
                    });
                }
            }
        }
    }
    out
}

fn fixed_response_5xx(a: &AlbCtx<'_>, routed: &[&TargetGroupEvidence]) -> Option<Draft> {
    let s = &a.s;
    if s.elb_5xx <= 0.0 {
        return None;
    }
    let answers = fixed_answers(a);
    let (answer, n) = answers
        .iter()
        .map(|f| {
            let n = match f.code {
                500 => s.elb_500,
                502 => s.elb_502,
                503 => s.elb_503,
                504 => s.elb_504,
                _ => s.elb_5xx - s.elb_500 - s.elb_502 - s.elb_503 - s.elb_504,
            };
            (f, n)
        })
        .max_by(|x, y| x.1.total_cmp(&y.1))?;
    if n <= 0.0 || n < DOMINANT * s.elb_5xx {
        return None;
    }
    // Targets healthy: every routed group whose health was read has a healthy target.
    let unhealthy_group = routed.iter().any(|tg| {
        tg.health.as_ref().is_some_and(|h| {
            !h.iter()
                .any(|t| t.target_health.state.as_deref() == Some("healthy"))
        })
    });
    if unhealthy_group {
        return None;
    }
    let mut d = base(a, &FIXED_RESPONSE_5XX);
    d.codes = vec![answer.code];
    let which = if answer.priority == "default" {
        format!("the default action of the {} listener", answer.listener)
    } else {
        format!(
            "listener rule priority {} ({}) on the {} listener",
            answer.priority,
            if answer.conditions.is_empty() {
                "no conditions".to_owned()
            } else {
                answer.conditions.clone()
            },
            answer.listener
        )
    };
    d.title = format!("{} answers a fixed {} itself", lb_name(a), answer.code);
    d.headline = format!(
        "{} of {} answers a fixed {} (a maintenance rule?): {} in {} min while the targets are healthy.",
        which,
        lb_name(a),
        answer.code,
        count(n),
        s.w.minutes()
    );
    d.evidence(format!("{which}: fixed-response {}", answer.code));
    d.evidence(elb_line(s, answer.code, n, share(n, s.elb_5xx)));
    d.evidence("every routed target group has healthy targets");
    if s.fixed_responses >= DOMINANT * n {
        d.corroborate(format!(
            "HTTP_Fixed_Response_Count: {} in {} min, rising with the {}s",
            count(s.fixed_responses),
            s.w.minutes(),
            answer.code
        ));
    }
    if let Some(arn) = &answer.rule_arn {
        d.resources.push(arn.clone());
    }
    // The ARN goes into a shell command only when it is a plain one.
    match answer
        .rule_arn
        .as_ref()
        .filter(|a| crate::untrusted::is_plain_arn(a))
    {
        Some(arn) => {
            d.step(format!(
                "If the maintenance is over, delete the rule or point it back at the application: `aws elbv2 delete-rule --rule-arn {arn}`."
            ));
        }
        None => d.step(format!(
            "Change the default action of the {} listener back to forward to the application's target group (`aws elbv2 modify-listener`).",
            answer.listener
        )),
    }
    d.step("Check who changed the listener and when (CloudTrail: CreateRule / ModifyRule / ModifyListener).");
    Some(d)
}

pub(in crate::rules) const NO_REGISTERED_TARGETS: Rule = Rule {
    id: "alb.no_registered_targets",
    kind: Kind::Cause,
    base: 0.9,
    codes: &[503],
    sub_cause_of: None,
    cause: "The target group the listener forwards to has no registered targets, so the ALB answers 503 to everything routed there.",
    needs: "Needs `DescribeTargetHealth` to return zero targets for a routed target group, and `HTTPCode_ELB_503_Count` above 0 and at least 80% of ELB 5xx. If no ALB metrics could be read at all, it still fires, 0.2 lower.",
    differs: "Here there are no targets, rather than targets that cannot be used. Registered but all unused, draining or initial is `alb.no_routable_targets`; all unhealthy is `alb.all_targets_unhealthy`, which fails open and so is not a 503.",
    detect: Detect::Alb(no_registered_targets),
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
    name_every_affected_group(a, &mut d, tg, |_, h| h.total == 0);
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

pub(in crate::rules) const NO_ROUTABLE_TARGETS: Rule = Rule {
    id: "alb.no_routable_targets",
    kind: Kind::Cause,
    base: 0.65,
    codes: &[503],
    sub_cause_of: None,
    cause: "Targets are registered but none can take traffic (all unused, draining or still initial), so the ALB answers 503.",
    needs: "Needs ELB 503 at least 80% of ELB 5xx, and a routed target group whose targets, per `DescribeTargetHealth`, are all `unused`, `draining` or `initial`, with none healthy or unhealthy.",
    differs: "Unlike `alb.no_registered_targets`, the group does have targets. Unlike `alb.all_targets_unhealthy`, none is `unhealthy`: unhealthy targets fail open and produce 502/504, not 503.",
    detect: Detect::Alb(no_routable_targets),
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
    name_every_affected_group(a, &mut d, tg, |_, h| {
        h.total > 0
            && h.n("healthy") == 0
            && h.n("unhealthy") == 0
            && h.n("unused") + h.n("draining") + h.n("initial") == h.total
    });
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

pub(in crate::rules) const ALL_TARGETS_UNHEALTHY: Rule = Rule {
    id: "alb.all_targets_unhealthy",
    kind: Kind::Cause,
    base: 0.8,
    codes: &[502, 504],
    sub_cause_of: None,
    cause: "Every target in the routed target group fails its health checks; the ALB fails open, and users see 502/504 or application errors.",
    needs: "Fires when `DescribeTargetHealth` shows every target of a routed group as `unhealthy`. The dominant reason code picks the advice; `HealthyHostCount` Minimum 0 is noted; `HTTPCode_Target_2XX_Count` at half of `RequestCount` or more adds confidence.",
    differs: "It is the answer only when no sub-cause rule (unreachable, refused, overloaded, response timeout, TLS, Lambda, app 5xx) fires for the same ALB. 2xx still flowing points to a bad health check, and fail-open is not the 503 of the no-target rules.",
    detect: Detect::Alb(all_targets_unhealthy),
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
    d.evidence(h.describe("unhealthy"));
    let reason = h
        .dominant_reason()
        .map(|(r, _)| r.to_owned())
        .unwrap_or_default();
    let more = name_every_affected_group(a, &mut d, tg, |_, h| {
        h.total > 0
            && h.n("unhealthy") == h.total
            && h.dominant_reason_in("unhealthy") == Some(reason.as_str())
    });
    let name = if more > 0 {
        format!(
            "{name} and {more} more routed group{}",
            if more == 1 { "" } else { "s" }
        )
    } else {
        name.to_owned()
    };
    d.title = format!("Every target of {name} is unhealthy");
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
            let change = health_change(h.descriptions.get(reason.as_str()), matcher);
            fix::push(&mut d, health_check_fix(t, &change));
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

/// What to change in a health check whose targets answer other codes than the matcher's, from
/// AWS's description (`Health checks failed with these codes: [204]`): codes that are all
/// successes (2xx) are the application's on purpose, so the matcher takes them; any other
/// code (a 404, a redirect) means the path is wrong, and only the application knows the
/// right one.
fn health_change(description: Option<&String>, matcher: &str) -> HealthChange {
    let codes: Vec<u16> = description
        .and_then(|d| d.split_once('['))
        .and_then(|(_, rest)| rest.split_once(']'))
        .map(|(list, _)| {
            list.split(',')
                .filter_map(|c| c.trim().parse().ok())
                .collect()
        })
        .unwrap_or_default();
    if !codes.is_empty() && codes.iter().all(|c| (200..300).contains(c)) {
        let mut all = matcher.to_owned();
        for c in codes {
            all.push_str(&format!(",{c}"));
        }
        HealthChange::Matcher(all)
    } else {
        HealthChange::Path
    }
}

/// The health check command of a target group, from the path, matcher and port read.
fn health_check_fix(t: &crate::evidence::elb::TargetGroup, change: &HealthChange) -> fix::Built {
    fn read<'v>(v: Option<&'v str>, what: &str, name: &str) -> Result<&'v str, String> {
        v.ok_or_else(|| format!("the health check {what} of {name} was not read"))
    }
    let name = t.display_name();
    let now = fix::HealthCheck {
        path: read(t.health_check_path.as_deref(), "path", name)?,
        matcher: read(
            t.matcher.as_ref().and_then(|m| m.http_code.as_deref()),
            "matcher",
            name,
        )?,
        port: read(t.health_check_port.as_deref(), "port", name)?,
    };
    fix::tg_health_check(&t.target_group_arn, now, change)
}

fn healthy_min(a: &AlbCtx<'_>, tg: &TargetGroupEvidence) -> Option<f64> {
    a.s.healthy_min
        .get(&tg.target_group.target_group_arn)
        .copied()
}

pub(in crate::rules) const KEEPALIVE_SHORTER_THAN_IDLE: Rule = Rule {
    id: "alb.keepalive_shorter_than_idle",
    kind: Kind::Cause,
    base: 0.55,
    codes: &[502],
    sub_cause_of: None,
    cause: "The targets' keep-alive timeout is shorter than the ALB idle timeout, so the ALB sometimes reuses a connection the target just closed and gets a 502.",
    needs: "Needs ELB 502 at least half of ELB 5xx but under 5% of demand, zero target connection and TLS errors, no unhealthy or draining routed targets, and a ratio that is neither peak-only nor over twice as high at high load as at low load.",
    differs: "The rate is low and flat across load, unlike overload. There are no connection errors (`alb.target_connection_refused`) and no draining targets (`alb.deregistration_inflight`). At a 502 ratio of 5% or more it stops firing and `alb.malformed_target_response` remains.",
    detect: Detect::Alb(keepalive_shorter_than_idle),
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
    // The server's setting, not an AWS call: a few seconds above the idle timeout.
    match fix::whole(s.idle_timeout) {
        Some(idle) => d.step(format!(
            "Set the server's keep-alive timeout above the ALB idle timeout (now {}) on the targets of {tgs}, to {} s: {}.",
            secs(s.idle_timeout),
            idle + fix::KEEPALIVE_ABOVE_IDLE_S,
            fix::keepalive_directives(idle + fix::KEEPALIVE_ABOVE_IDLE_S)
        )),
        None => d.step(format!(
            "Set the server's keep-alive timeout above the ALB idle timeout (now {}) on the targets of {tgs} (Node: server.keepAliveTimeout; nginx: keepalive_timeout; Apache: KeepAliveTimeout; Gunicorn: --keep-alive).",
            secs(s.idle_timeout)
        )),
    }
    d.step(format!(
        "Or lower the idle timeout of {} below the targets' keep-alive (idle_timeout.timeout_seconds), if no request legitimately idles that long; fivexx cannot read the targets' keep-alive, so the value is yours to fill in.",
        lb_name(a)
    ));
    fix::push(
        &mut d,
        idle_timeout_read(a).and_then(|now| {
            set_idle_timeout(
                a,
                now,
                Proposed::Placeholder("seconds-below-the-targets-keep-alive"),
            )
        }),
    );
    d.step("Confirm in ALB access logs: elb_status_code 502 with target_status_code '-' on reused connections.");
    Some(d)
}

pub(in crate::rules) const DEREGISTRATION_INFLIGHT: Rule = Rule {
    id: "alb.deregistration_inflight",
    kind: Kind::Cause,
    base: 0.6,
    codes: &[502],
    sub_cause_of: None,
    cause: "Targets are being deregistered during a deploy or scale-in, and requests still in flight on them are cut off with 502.",
    needs: "Needs ELB 502 above 0, at least one `draining` target in a routed group per `DescribeTargetHealth`, and no `unhealthy` target in any routed group (draining beside failing targets is the orchestrator replacing them: a crash loop, whose cause the health-check rules name). A `deregistration_delay.timeout_seconds` of 0 or below `TargetResponseTime` Maximum, and a non-chronic step onset, add confidence; unread attributes cost 0.2.",
    differs: "It is tied to draining targets at triage time. `alb.keepalive_shorter_than_idle` will not fire while any target drains, and describes steady 502s outside deploys.",
    detect: Detect::Alb(deregistration_inflight),
};

fn deregistration_inflight(a: &AlbCtx<'_>, routed: &[&TargetGroupEvidence]) -> Option<Draft> {
    let s = &a.s;
    if s.elb_502 <= 0.0 {
        return None;
    }
    let hs = healths(routed);
    // Targets failing health checks beside draining ones: the orchestrator (ECS, an Auto
    // Scaling group) is replacing failed targets, a crash loop or a bad release. Draining is
    // then a consequence, and the health-check rules carry the cause.
    if hs.iter().any(|(_, h)| h.n("unhealthy") > 0) {
        return None;
    }
    let (tg, h) = hs.into_iter().find(|(_, h)| h.n("draining") > 0)?;
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
    fix::push(&mut d, raise_deregistration_delay(tg, delay, s.trt_max));
    d.step(
        "Check the deployment's draining order: new targets healthy before old ones deregister.",
    );
    Some(d)
}

/// The deregistration delay raised to [`fix::HEADROOM`] times the longest request measured
/// (`TargetResponseTime` Maximum): the delay must outlast the requests a target still serves.
fn raise_deregistration_delay(
    tg: &TargetGroupEvidence,
    delay: Option<f64>,
    longest: Option<f64>,
) -> fix::Built {
    let name = tg.target_group.display_name();
    let current = delay
        .ok_or_else(|| format!("the deregistration delay of {name} was not read"))
        .and_then(|v| {
            fix::whole(v).ok_or_else(|| {
                format!("the deregistration delay of {name} is not a whole number of seconds")
            })
        })?;
    let longest = longest
        .ok_or("TargetResponseTime Maximum (the longest request) was not read".to_owned())?;
    let proposed = fix::proposal(longest, fix::DEREGISTRATION_DELAY_MAX_S);
    if proposed <= current {
        return Err(format!(
            "the delay of {name} ({current} s) already outlasts twice the longest request ({}): the fix is in how the application shuts down",
            secs(longest)
        ));
    }
    fix::elbv2_attribute(
        Elbv2::TargetGroup,
        &tg.target_group.target_group_arn,
        "deregistration_delay.timeout_seconds",
        current,
        Proposed::Value(proposed),
    )
}

pub(in crate::rules) const LB_GENERATED_500: Rule = Rule {
    id: "alb.lb_generated_500",
    kind: Kind::Cause,
    base: 0.7,
    codes: &[500, 561],
    sub_cause_of: None,
    cause: "The ALB itself returns 500, usually because an authenticate action (OIDC/Cognito) or a WAF web ACL evaluation is failing.",
    needs: "Fires when `HTTPCode_ELB_500_Count` is above 0 and at least half of ELB 5xx. `ELBAuthError` above 0 adds confidence, and an authenticate action on a listener is noted; otherwise it loses 0.2, because the WAF association is not read.",
    differs: "The 500 comes from the load balancer, not the application (`alb.target_app_5xx` reads target 5xx). WAF is implicated only for evaluation errors, never for ordinary blocks, which return 403 (`guard.waf_not_5xx`).",
    detect: Detect::Alb(lb_generated_500),
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

pub(in crate::rules) const CONNECTION_LIMIT: Rule = Rule {
    id: "alb.connection_limit",
    kind: Kind::Supporting,
    base: 0.3,
    codes: &[],
    sub_cause_of: None,
    cause: "The load balancer is rejecting client connections because it has reached its connection limit.",
    needs: "Fires whenever `RejectedConnectionCount` is above 0 in the window, as a supporting finding at 0.3 that ranking keeps below the best cause.",
    differs: "It is never the answer on its own. The same signal adds confidence to `alb.target_overloaded`, the load-type cause it usually comes with.",
    detect: Detect::Alb(connection_limit),
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
