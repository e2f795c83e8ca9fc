//! CloudFront origin causes on the way to the load balancer: ports, names, reachability,
//! timeouts, capacity, and the link to the origin's own errors.

use super::*;
use crate::evidence::cloudwatch::alb_metric;
use crate::rules::fix::{self, OriginEdit};
use chrono::{DateTime, Utc};
use serde_json::Value as Json;

pub(in crate::rules) const ORIGIN_PORT_MISMATCH: Rule = Rule {
    id: "cf.origin_port_mismatch",
    kind: Kind::Cause,
    base: 0.8,
    codes: &[502, 504],
    sub_cause_of: None,
    cause: "CloudFront connects to the origin ALB with a protocol and port where the ALB has no matching listener, so connections are refused (502) or dropped (504).",
    needs: "Reads the linked ALB's listeners. For `https-only`/`match-viewer` it expects HTTPS on `HTTPSPort` (443 by default), otherwise HTTP on `HTTPPort` (80 by default), and fires when no listener has that port and protocol. A dominant 502 or 504 rate, or a step onset, adds confidence.",
    differs: "Nothing suitable listens on that port, whereas the TLS and certificate rules assume a working HTTPS listener. The ALB exists (unlike `cf.origin_dns_failure`), and the problem is listeners, not the internal scheme that `cf.origin_blocked_or_private` reads.",
    detect: Detect::Origin(origin_port_mismatch),
};

fn origin_port_mismatch(_: &Ctx<'_>, o: &OriginCtx<'_, '_>) -> Option<Draft> {
    let a = o.alb?;
    let listeners = a.alb.listeners.as_ref()?;
    let (want_proto, want_port) = if o.uses_https() {
        ("HTTPS", o.https_port())
    } else {
        ("HTTP", o.http_port())
    };
    // An NLB passes TCP through (HTTP or HTTPS alike) and terminates TLS as HTTPS.
    let network = a.alb.is_network();
    let serves = |proto: Option<&str>| match proto {
        Some(p) if p == want_proto => true,
        Some("TCP" | "TCP_UDP") => network,
        Some("TLS") => network && want_proto == "HTTPS",
        _ => false,
    };
    if listeners
        .iter()
        .any(|l| l.port == Some(want_port) && serves(l.protocol.as_deref()))
    {
        return None;
    }
    let on_port = listeners.iter().find(|l| l.port == Some(want_port));
    let mut d = o.draft(&ORIGIN_PORT_MISMATCH);
    d.title = format!(
        "No {want_proto} listener on port {want_port} of {} for CloudFront {}",
        a.alb.name(),
        o.id()
    );
    d.headline = format!(
        "CloudFront {} connects to {} with {want_proto} on port {want_port}, where the ALB has no such listener.",
        o.id(),
        a.alb.name()
    );
    d.evidence(format!(
        "{}: protocol policy {}, HTTP port {}, HTTPS port {}",
        o.label(),
        o.protocol_policy(),
        o.http_port(),
        o.https_port()
    ));
    let have: Vec<String> = listeners
        .iter()
        .map(|l| {
            format!(
                "{}:{}",
                l.protocol.as_deref().unwrap_or("?"),
                l.port.unwrap_or_default()
            )
        })
        .collect();
    d.evidence(format!(
        "listeners of {}: {}",
        a.alb.name(),
        have.join(", ")
    ));
    if let Some(l) = on_port {
        d.evidence(format!(
            "port {want_port} speaks {}, not {want_proto}",
            l.protocol.as_deref().unwrap_or("?")
        ));
    }
    // Refused connections show as 502, dropped ones (security group) as 504.
    let code = if o.cf.s.dominant() == Some(504) {
        504
    } else {
        502
    };
    config_pattern(&mut d, &o.cf.s, code);
    d.step(format!(
        "Add a {want_proto} listener on port {want_port} to {}, or change the origin protocol policy / port of origin `{}` to match a listener ({}).",
        a.alb.name(),
        o.origin.id,
        have.join(", ")
    ));
    // The origin moved to a listener that serves it: the same protocol on another port, or
    // HTTPS where CloudFront spoke HTTP. Never from HTTPS down to HTTP.
    let https_listener = listeners.iter().find(|l| {
        l.protocol.as_deref() == Some("HTTPS") || (network && l.protocol.as_deref() == Some("TLS"))
    });
    let edits = match listeners
        .iter()
        .find(|l| serves(l.protocol.as_deref()))
        .and_then(|l| l.port)
    {
        Some(port) => port_edit(o, want_proto, port).map(|e| vec![e]),
        None => match (want_proto, https_listener.and_then(|l| l.port)) {
            ("HTTP", Some(port)) => o
                .custom_field("OriginProtocolPolicy", |c| {
                    c.origin_protocol_policy.clone().map(Json::from)
                })
                .and_then(|current| {
                    Ok(vec![
                        OriginEdit {
                            field: "OriginProtocolPolicy",
                            proposed: Json::from("https-only"),
                            current,
                        },
                        port_edit(o, "HTTPS", port)?,
                    ])
                }),
            _ => Err(format!(
                "{} has no {want_proto} listener to point the origin at: add one (fivexx proposes no move from HTTPS to HTTP, which would send the requests unencrypted)",
                a.alb.name()
            )),
        },
    };
    fix::push(
        &mut d,
        edits.and_then(|e| fix::cf_origin(o.id(), &o.origin.id, &e)),
    );
    Some(d)
}

/// The origin's `HTTPSPort` (for HTTPS) or `HTTPPort` set to `port`.
fn port_edit(o: &OriginCtx<'_, '_>, proto: &str, port: i32) -> Result<OriginEdit, String> {
    let field = if proto == "HTTPS" {
        "HTTPSPort"
    } else {
        "HTTPPort"
    };
    let current = o.custom_field(field, |c| {
        if proto == "HTTPS" {
            c.https_port
        } else {
            c.http_port
        }
        .map(Json::from)
    })?;
    Ok(OriginEdit {
        field,
        proposed: Json::from(port),
        current,
    })
}

pub(in crate::rules) const ORIGIN_DNS_FAILURE: Rule = Rule {
    id: "cf.origin_dns_failure",
    kind: Kind::Cause,
    base: 0.8,
    codes: &[502],
    sub_cause_of: None,
    cause: "The origin points at a load balancer name that no longer exists (usually a deleted or recreated ALB), so CloudFront cannot resolve it and returns 502.",
    needs: "Follows the origin domain, directly or through a Route 53 alias/CNAME, to an ELB-style DNS name, and fires when `DescribeLoadBalancers` in that region lists no load balancer with that name. It never checks whether other names resolve.",
    differs: "No ALB could be linked at all, so the listener, certificate and scheme rules cannot apply. Once the name maps to an existing ALB, this rule is silent and those rules take over.",
    detect: Detect::Origin(origin_dns_failure),
};

fn origin_dns_failure(_: &Ctx<'_>, o: &OriginCtx<'_, '_>) -> Option<Draft> {
    let link = o.link?;
    let dns = link.elb_dns_name.as_deref()?;
    if link.alb_arn.is_some() || !link.how.contains("no load balancer in") {
        return None;
    }
    let mut d = o.draft(&ORIGIN_DNS_FAILURE);
    d.title = format!(
        "The origin of {} names a load balancer that does not exist",
        o.id()
    );
    d.headline = format!(
        "Origin `{}` of CloudFront {} leads to `{dns}`, and no load balancer has that name any more: CloudFront cannot resolve or reach it (502).",
        o.origin.id,
        o.id()
    );
    d.evidence(format!("{}: {}", o.label(), link.how));
    config_pattern(&mut d, &o.cf.s, 502);
    d.step(format!(
        "Point origin `{}` (or its DNS record) at the current load balancer's DNS name: a recreated ALB gets a new name.",
        o.origin.id
    ));
    Some(d)
}

pub(in crate::rules) const ORIGIN_BLOCKED_OR_PRIVATE: Rule = Rule {
    id: "cf.origin_blocked_or_private",
    kind: Kind::Cause,
    base: 0.8,
    codes: &[504],
    sub_cause_of: None,
    cause: "The origin is an internal ALB that CloudFront cannot reach without a VPC origin, so origin requests time out with 504.",
    needs: "Fires when the linked ALB's `Scheme` is `internal` and the origin has no `VpcOriginConfig`; security groups are not checked. Confidence rises with no `OriginLatency` data in the window, a dominant 504 rate, or ALB `RequestCount` below 20% of the previous hour's mean.",
    differs: "Unlike `cf.origin_read_timeout`, the origin is never reached (no latency data), not reached and slow. Unlike `cf.origin_port_mismatch`, the listeners may be fine: the load balancer's scheme is what blocks CloudFront.",
    detect: Detect::Origin(origin_blocked_or_private),
};

fn origin_blocked_or_private(_: &Ctx<'_>, o: &OriginCtx<'_, '_>) -> Option<Draft> {
    let a = o.alb?;
    let lb = a.alb.load_balancer.as_ref()?;
    if lb.scheme.as_deref() != Some("internal") || o.origin.vpc_origin_config.is_some() {
        return None;
    }
    let s = &o.cf.s;
    let mut d = o.draft(&ORIGIN_BLOCKED_OR_PRIVATE);
    d.title = format!(
        "CloudFront {} cannot reach the internal load balancer {}",
        o.id(),
        a.alb.name()
    );
    d.headline = format!(
        "Origin `{}` of CloudFront {} is the internal load balancer {}, which CloudFront cannot reach without a VPC origin (504).",
        o.origin.id,
        o.id(),
        a.alb.name()
    );
    d.evidence(format!("{}: scheme internal", a.alb.name()));
    if s.origin_latency_points_w == 0 {
        d.corroborate("OriginLatency has no data in the alarm window: no origin answered");
    }
    if s.dominant() == Some(504) {
        d.corroborate(rate_line(s, "504", s.rate_504));
    }
    let per_min_w = a.s.requests / a.s.w.minutes().max(1) as f64;
    if let Some(base) = a.s.base_requests_per_min
        && base > 0.0
        && per_min_w < TRAFFIC_COLLAPSE * base
    {
        d.corroborate(format!(
            "RequestCount on {} fell from {}/min to {}/min: CloudFront's requests no longer arrive",
            a.alb.name(),
            count(base),
            count(per_min_w)
        ));
    }
    d.step(format!(
        "Use a CloudFront VPC origin for {} , or an internet-facing load balancer whose security group admits the CloudFront origin-facing prefix list (com.amazonaws.global.cloudfront.origin-facing).",
        a.alb.name()
    ));
    Some(d)
}

pub(in crate::rules) const ORIGIN_READ_TIMEOUT: Rule = Rule {
    id: "cf.origin_read_timeout",
    kind: Kind::Cause,
    base: 0.7,
    codes: &[504],
    sub_cause_of: None,
    cause: "The origin answers more slowly than the origin's `OriginReadTimeout`, so CloudFront stops waiting and returns 504.",
    needs: "Needs `504ErrorRate` at least half of `5xxErrorRate`, and `OriginLatency` p99 (or Maximum if p99 is missing) at 90% or more of `OriginReadTimeout` (30 s if unset). ALB `TargetResponseTime` at half the timeout or more, and a load-correlated rate, add confidence.",
    differs: "The origin is reached but slow, unlike `cf.origin_blocked_or_private`, where there is no latency at all. If the ALB idle timeout is at or below `OriginReadTimeout` and the ALB has ELB 504s, this rule stays silent and `alb.target_response_timeout` explains the errors.",
    detect: Detect::Origin(origin_read_timeout),
};

fn origin_read_timeout(_: &Ctx<'_>, o: &OriginCtx<'_, '_>) -> Option<Draft> {
    let s = &o.cf.s;
    if s.dominant() != Some(504) {
        return None;
    }
    let timeout = o.read_timeout();
    let p99_s = s.origin_latency_p99_ms.map(|v| v / 1000.0);
    let max_s = s.origin_latency_max_ms.map(|v| v / 1000.0);
    let latency = p99_s.or(max_s)?;
    if latency < REACHED * timeout {
        return None;
    }
    // If the ALB times out first, the ALB answers 504 and its rule is the answer.
    if let Some(a) = o.alb
        && a.s.idle_timeout <= timeout
        && a.s.elb_504 > 0.0
    {
        return None;
    }
    let mut d = o.draft(&ORIGIN_READ_TIMEOUT);
    d.title = format!(
        "The origin of {} answers slower than OriginReadTimeout ({})",
        o.id(),
        secs(timeout)
    );
    d.headline = format!(
        "Origin `{}` of CloudFront {} takes up to {} (OriginLatency {}) against an OriginReadTimeout of {}: CloudFront gives up and answers 504 to {} of requests.",
        o.origin.id,
        o.id(),
        secs(latency),
        if p99_s.is_some() { "p99" } else { "Maximum" },
        secs(timeout),
        pct(s.rate_504.unwrap_or(0.0) / 100.0)
    );
    d.evidence(rate_line(s, "504", s.rate_504));
    d.evidence(format!(
        "OriginLatency {} {} (OriginReadTimeout {})",
        if p99_s.is_some() { "p99" } else { "Maximum" },
        secs(latency),
        secs(timeout)
    ));
    if let Some(a) = o.alb {
        d.evidence(format!(
            "ALB {} idle timeout {} is above OriginReadTimeout: CloudFront times out first",
            a.alb.name(),
            secs(a.s.idle_timeout)
        ));
        if let Some(trt) = a.s.trt_p99.or(a.s.trt_max)
            && trt >= SLOW_TARGETS * timeout
        {
            d.corroborate(format!(
                "TargetResponseTime on {} reaches {}: the targets are slow",
                a.alb.name(),
                secs(trt)
            ));
        }
    }
    if s.load_correlated
        && let Some(line) = s.load_line()
    {
        d.corroborate(format!("{line}: the origin saturates at peak"));
    }
    d.step(format!(
        "Fix origin latency or capacity first: find the slow requests on the origin (ALB access logs: target_processing_time over {}) and scale or optimise them.",
        secs(REACHED * timeout)
    ));
    d.step(format!(
        "Raise OriginReadTimeout of origin `{}` (now {}) only for requests that legitimately run long: it treats the symptom.",
        o.origin.id,
        secs(timeout)
    ));
    // Requests cut at the timeout were never measured: twice the longer of the timeout and
    // the latency, within what CloudFront takes without a quota increase.
    let edit = o
        .custom_field("OriginReadTimeout", |c| c.origin_read_timeout.map(Json::from))
        .and_then(|current| {
            let now = current.as_u64().and_then(|n| u32::try_from(n).ok()).unwrap_or(0);
            let proposed =
                fix::proposal(timeout.max(latency), fix::ORIGIN_READ_TIMEOUT_MAX_S);
            if proposed <= now {
                return Err(format!(
                    "OriginReadTimeout of origin `{}` is already {now} s; above {} s CloudFront needs a quota increase (up to 180 s)",
                    o.origin.id,
                    fix::ORIGIN_READ_TIMEOUT_MAX_S
                ));
            }
            Ok(OriginEdit {
                field: "OriginReadTimeout",
                proposed: Json::from(proposed),
                current,
            })
        });
    fix::push(
        &mut d,
        edit.and_then(|e| fix::cf_origin(o.id(), &o.origin.id, &[e])),
    );
    Some(d)
}

pub(in crate::rules) const ORIGIN_PASSTHROUGH: Rule = Rule {
    id: "cf.origin_passthrough",
    kind: Kind::Link,
    base: 0.8,
    codes: &[502, 503, 504],
    sub_cause_of: None,
    cause: "CloudFront is passing on the linked ALB's own 5xx; the real cause is at the origin load balancer.",
    needs: "For an API Gateway origin (`*.execute-api.*`, stage from the origin path): the stage's 5xx at least 30% of CloudFront's 5xx in W. For a Network Load Balancer origin (no HTTP codes of its own): its own trouble in W (every routed target unhealthy or none registered, rising target resets, TLS or port allocation errors) while CloudFront has 5xx. Otherwise needs a linked ALB whose ELB 5xx plus target 5xx in the window is above 0 and at least 30% of CloudFront's 5xx count (`5xxErrorRate` x `Requests`), and either both per-minute counts stepping up within a minute of each other or a per-minute rank correlation of 0.6+ between the two over the window and the hour before (both together add confidence).",
    differs: "It is a link, not a cause: ranking keeps it 0.05 below the best cause on the same ALB, and that cause is the answer. CloudFront-side rules (certificates, ports, edge functions) describe failures that never show in the ALB's counts.",
    detect: Detect::Origin(origin_passthrough),
};

fn origin_passthrough(ctx: &Ctx<'_>, o: &OriginCtx<'_, '_>) -> Option<Draft> {
    if let Some(c) = o.classic {
        return classic_passthrough(ctx, o, c);
    }
    if let Some(a) = o.api {
        return api_passthrough(o, a);
    }
    let a = o.alb?;
    if let Some(trouble) = crate::rules::nlb::trouble(a) {
        // An NLB has no HTTP codes to compare: its own trouble during CloudFront's 5xx links.
        if o.cf.s.errors_5xx <= 0.0 {
            return None;
        }
        let mut d = o.draft(&ORIGIN_PASSTHROUGH);
        d.title = format!(
            "CloudFront {} passes on the failures of its origin NLB {}",
            o.id(),
            a.alb.name()
        );
        d.headline = format!(
            "CloudFront {} answers 5xx because its origin, the Network Load Balancer {}, fails ({trouble}).",
            o.id(),
            a.alb.name()
        );
        d.evidence(format!("origin NLB {}: {trouble}", a.alb.name()));
        d.evidence(rate_line(&o.cf.s, "5xx", o.cf.s.rate_5xx));
        d.step(format!(
            "Triage the Network Load Balancer {}: the cause is at the origin, see the finding above.",
            a.alb.name()
        ));
        return Some(d);
    }
    let s = &o.cf.s;
    let alb_errors = a.s.elb_5xx + a.s.target_5xx;
    if alb_errors <= 0.0 || s.errors_5xx <= 0.0 {
        return None;
    }
    let lb = a.alb.dimension();
    let m = &ctx.e.metrics;
    let view = |name: &str| crate::rules::signals::View {
        series: m.find(
            crate::scope::ALB_NAMESPACE,
            name,
            &[("LoadBalancer", lb)],
            "Sum",
        ),
    };
    let elb = view(alb_metric::ELB_5XX);
    let tgt = view(alb_metric::TARGET_5XX);
    let span = crate::rules::signals::Span {
        start: a.s.b.start,
        end: a.s.w.end,
    };
    // What a person links on: both sides start failing in the same minute, with counts of
    // the same magnitude in the alarm window; a per-minute rank correlation over the hour is
    // one more signal, not the test (CloudFront's own background 5xx before the onset can
    // dominate its ranks while the origin had none).
    let minutes: Vec<(DateTime<Utc>, Option<f64>, f64)> = span
        .each_minute()
        .map(|t| {
            let cf = s.errors_at(ctx.e, &o.cf.dist.id, t);
            (t, cf, elb.at(t).unwrap_or(0.0) + tgt.at(t).unwrap_or(0.0))
        })
        .collect();
    let pairs: Vec<(f64, f64)> = minutes
        .iter()
        .filter_map(|(_, cf, lb)| Some(((*cf)?, *lb)))
        .collect();
    let corr = rank_correlation(&pairs).filter(|c| *c >= CORRELATED);
    let cf_onset = count_onset(
        minutes.iter().map(|(t, cf, _)| (*t, *cf)),
        s.errors_5xx,
        a.s.w,
    );
    let lb_onset = count_onset(
        minutes.iter().map(|(t, _, lb)| (*t, Some(*lb))),
        alb_errors,
        a.s.w,
    );
    let same_onset = match (cf_onset, lb_onset) {
        (Some(x), Some(y)) => ((x - y).num_minutes().abs() <= ONSET_SLACK_MINUTES).then_some(x),
        _ => None,
    };
    // The origin's errors must be of CloudFront's magnitude, not stray ones that happen to
    // correlate.
    if alb_errors < PASSTHROUGH_SHARE * s.errors_5xx || (same_onset.is_none() && corr.is_none()) {
        return None;
    }
    let mut d = o.draft(&ORIGIN_PASSTHROUGH);
    d.title = format!(
        "CloudFront {} passes on the 5xx of its origin {}",
        o.id(),
        a.alb.name()
    );
    d.headline = format!(
        "CloudFront {} passes on the 5xx of its origin ALB {} ({} in {} min).",
        o.id(),
        a.alb.name(),
        count(alb_errors),
        a.s.w.minutes()
    );
    d.evidence(format!(
        "in {} min: origin {} ELB 5xx + target 5xx {}, CloudFront 5xx {} (the origin's are {} of CloudFront's)",
        a.s.w.minutes(),
        a.alb.name(),
        count(alb_errors),
        count(s.errors_5xx),
        pct(alb_errors / s.errors_5xx)
    ));
    if let Some(at) = same_onset {
        d.evidence(format!(
            "both began failing at {} UTC (within a minute of each other)",
            at.format("%H:%M")
        ));
    }
    if let Some(c) = corr {
        let line = format!("CloudFront 5xx per minute tracks the ALB's (rank correlation {c:.2})");
        if same_onset.is_some() {
            d.corroborate(line);
        } else {
            d.evidence(line);
        }
    }
    d.step(format!(
        "Triage the load balancer {}: the cause is at the origin, see the finding above.",
        a.alb.name()
    ));
    Some(d)
}

/// Two onsets within this many minutes are "the same minute": CloudFront and the load balancer
/// publish per minute and may bucket one request a minute apart.
const ONSET_SLACK_MINUTES: i64 = 1;

/// Errors per minute below this are no plateau to step onto.
const MIN_ONSET_PER_MINUTE: f64 = 1.0;

/// The minute a per-minute error count stepped up to its alarm-window level (`total` over `w`),
/// whatever the demand did: the shape of `signals::step_onset`, on counts.
fn count_onset(
    minutes: impl Iterator<Item = (DateTime<Utc>, Option<f64>)>,
    total: f64,
    w: crate::rules::signals::Span,
) -> Option<DateTime<Utc>> {
    let per_minute = total / (w.minutes().max(1) as f64);
    let rows: Vec<_> = minutes.map(|(t, v)| (t, v, None)).collect();
    crate::rules::signals::step_onset(&rows, per_minute, MIN_ONSET_PER_MINUTE).map(|s| s.at)
}

/// `cf.origin_passthrough` for a Classic Load Balancer origin: its ELB and backend 5xx are at
/// least 30% of CloudFront's 5xx in W.
fn classic_passthrough(
    ctx: &Ctx<'_>,
    o: &OriginCtx<'_, '_>,
    c: &crate::rules::clb::ClbCtx<'_>,
) -> Option<Draft> {
    let s = &o.cf.s;
    let errors = c.s.elb_5xx + c.s.backend_5xx;
    if errors <= 0.0 || s.errors_5xx <= 0.0 || errors < PASSTHROUGH_SHARE * s.errors_5xx {
        return None;
    }
    let arn = c.clb.arn(ctx.alarm.account());
    let mut d = o.draft(&ORIGIN_PASSTHROUGH);
    d.alb_arn = Some(arn.clone());
    d.resources.push(arn);
    d.title = format!(
        "CloudFront {} passes on the 5xx of its origin {}",
        o.id(),
        c.name()
    );
    d.headline = format!(
        "CloudFront {} passes on the 5xx of its origin, the Classic Load Balancer {} ({} in {} min).",
        o.id(),
        c.name(),
        count(errors),
        c.s.w.minutes()
    );
    d.evidence(format!(
        "origin {} (Classic): HTTPCode_ELB_5XX + HTTPCode_Backend_5XX {} in {} min",
        c.name(),
        count(errors),
        c.s.w.minutes()
    ));
    d.evidence(rate_line(s, "5xx", s.rate_5xx));
    d.step(format!(
        "Triage the Classic Load Balancer {}: the cause is at the origin, see the finding above.",
        c.name()
    ));
    Some(d)
}

/// `cf.origin_passthrough` for an API Gateway origin: the stage's own 5xx are at least 30% of
/// CloudFront's 5xx in W.
fn api_passthrough(o: &OriginCtx<'_, '_>, a: &crate::rules::apigw::ApiCtx<'_>) -> Option<Draft> {
    let s = &o.cf.s;
    if a.s.errors <= 0.0 || s.errors_5xx <= 0.0 || a.s.errors < PASSTHROUGH_SHARE * s.errors_5xx {
        return None;
    }
    let mut d = o.draft(&ORIGIN_PASSTHROUGH);
    if let Some(arn) = a.arn() {
        d.alb_arn = Some(arn.clone());
        d.resources.push(arn);
    }
    d.title = format!(
        "CloudFront {} passes on the 5xx of its origin API {}",
        o.id(),
        a.api.label()
    );
    d.headline = format!(
        "CloudFront {} passes on the 5xx of its origin, the API Gateway stage {}.",
        o.id(),
        a.api.label()
    );
    d.evidence(a.errors_line());
    d.evidence(rate_line(s, "5xx", s.rate_5xx));
    d.step(format!(
        "Triage the API {}: the cause is behind CloudFront, see the finding above.",
        a.api.label()
    ));
    Some(d)
}

pub(in crate::rules) const ORIGIN_CAPACITY_503: Rule = Rule {
    id: "cf.origin_capacity_503",
    kind: Kind::Cause,
    base: 0.6,
    codes: &[503],
    sub_cause_of: None,
    cause: "The origin runs out of capacity at peak traffic and answers 503, which CloudFront passes on to viewers; an S3 origin answers 503 Slow Down when requests reach it faster than it has scaled, typically right after the cache stops absorbing them.",
    needs: "Needs `503ErrorRate` dominant, `5xxErrorRate` correlating with `Requests` (rank 0.6+, or errors only at peaks), no Lambda@Edge or CloudFront Functions errors in the metrics read for the distribution's edge functions (an edge metric not read lowers confidence and is named), and ELB 503 plus target 5xx above 0 on the linked ALB. Load-correlated ALB errors and no step onset add confidence. For an S3 origin: `503ErrorRate` dominant, no edge function errors read (as above), and either load-correlated errors or `CacheHitRate` in W below half of the hour before (each adds confidence).",
    differs: "It is load-driven with the origin erroring, whereas `guard.cf_edge_capacity` needs 503s with a clean origin and no load link. The Lambda@Edge and Function rules explain 503s that are made at the edge.",
    detect: Detect::Distribution(origin_capacity_503_any),
};

/// CacheHitRate has "collapsed" when W's mean is below this share of the hour before's.
const CACHE_COLLAPSE: f64 = 0.5;

/// Custom origins with a linked load balancer ([`origin_capacity_503`]), and S3 origins
/// ([`s3_slow_down`]).
fn origin_capacity_503_any(
    ctx: &Ctx<'_>,
    cf: &crate::rules::CfCtx<'_>,
    origins: &[OriginCtx<'_, '_>],
) -> Vec<Draft> {
    let mut out: Vec<Draft> = origins
        .iter()
        .filter_map(|o| origin_capacity_503(ctx, o))
        .collect();
    out.extend(s3_slow_down(ctx, cf));
    out
}

/// An S3 origin answering 503 Slow Down: CloudFront's 503s dominant, no edge function
/// errors, and the request rate reaching the bucket up (load-correlated errors, or the cache
/// hit rate collapsed so that far more requests go through to S3).
fn s3_slow_down(ctx: &Ctx<'_>, cf: &crate::rules::CfCtx<'_>) -> Vec<Draft> {
    use crate::evidence::cloudwatch::cf_metric;
    use crate::rules::signals::{Span, cf_view};
    let s = &cf.s;
    if s.dominant() != Some(503) || s.edge_errors > 0.0 {
        return Vec::new();
    }
    let Some(cfg) = cf.dist.config.as_ref() else {
        return Vec::new();
    };
    let hits = cf_view(
        &ctx.e.metrics,
        &cf.dist.id,
        cf_metric::CACHE_HIT_RATE,
        "Average",
    );
    let b = Span {
        start: s.w.start - chrono::Duration::minutes(60),
        end: s.w.start,
    };
    let (hit_w, hit_b) = (hits.mean(s.w), hits.mean(b));
    let collapsed =
        matches!((hit_w, hit_b), (Some(w), Some(b)) if b > 0.0 && w < CACHE_COLLAPSE * b);
    if !collapsed && !s.load_correlated {
        return Vec::new();
    }
    let mut out = Vec::new();
    for origin in cfg
        .origins
        .items
        .iter()
        .filter(|o| o.custom_origin_config.is_none() && o.vpc_origin_config.is_none())
    {
        let Some(bucket) = crate::names::s3_bucket(&origin.domain_name) else {
            continue;
        };
        let mut d = ORIGIN_CAPACITY_503.draft();
        d.resources
            .push(format!("cloudfront:distribution/{}", cf.dist.id));
        d.title = format!(
            "S3 bucket {bucket} slows down the origin requests of {}",
            cf.dist.id
        );
        d.headline = format!(
            "The S3 origin {bucket} of CloudFront {} answers 503 Slow Down: more requests reach it than it has scaled to ({} of requests fail).",
            cf.dist.id,
            pct(s.rate_503.unwrap_or(0.0) / 100.0)
        );
        d.evidence(rate_line(s, "503", s.rate_503));
        d.evidence(format!("origin {}: S3 bucket {bucket}", origin.id));
        super::edge::note_no_edge_errors(&mut d, s);
        if let (true, Some(w), Some(b)) = (collapsed, hit_w, hit_b) {
            d.corroborate(format!(
                "CacheHitRate fell from {} to {}: far more requests go through to S3",
                pct(b / 100.0),
                pct(w / 100.0)
            ));
            d.step(format!(
                "Find what stopped the cache from absorbing requests to {} (a new query string or header in the cache key, an invalidation, a deploy that changed object names) and restore it.",
                cf.dist.id
            ));
        }
        if s.load_correlated
            && let Some(line) = s.load_line()
        {
            d.corroborate(line);
        }
        d.step(format!(
            "S3 scales per prefix (at least 5,500 GET/HEAD requests a second per partitioned prefix) and answers 503 Slow Down while it scales: spread hot objects of {bucket} over more prefixes, and let CloudFront retry (its origin connection attempts)."
        ));
        d.step(format!(
            "Confirm in the bucket's request metrics (AWS/S3 5xxErrors, if enabled) or its server access logs: 503 SlowDown on {bucket}."
        ));
        out.push(d);
    }
    out
}

fn origin_capacity_503(_: &Ctx<'_>, o: &OriginCtx<'_, '_>) -> Option<Draft> {
    let s = &o.cf.s;
    // Lambda@Edge or function errors explain 503s at the edge instead.
    if s.dominant() != Some(503) || !s.load_correlated || s.edge_errors > 0.0 {
        return None;
    }
    let a = o.alb?;
    if a.s.elb_503 + a.s.target_5xx <= 0.0 {
        return None;
    }
    let mut d = o.draft(&ORIGIN_CAPACITY_503);
    d.title = format!("The origin of {} runs out of capacity at peak", o.id());
    d.headline = format!(
        "The origin {} of CloudFront {} answers 503 as traffic peaks ({} of requests).",
        a.alb.name(),
        o.id(),
        pct(s.rate_503.unwrap_or(0.0) / 100.0)
    );
    d.evidence(rate_line(s, "503", s.rate_503));
    if let Some(line) = s.load_line() {
        d.evidence(line);
    }
    d.evidence(format!(
        "origin {}: {} ELB 503, {} target 5xx in {} min",
        a.alb.name(),
        count(a.s.elb_503),
        count(a.s.target_5xx),
        a.s.w.minutes()
    ));
    super::edge::note_no_edge_errors(&mut d, s);
    if a.s.load_correlated
        && let Some(line) =
            a.s.load_line(&format!("the error ratio of the origin {}", a.alb.name()))
    {
        d.corroborate(line);
    }
    if s.step.is_none() {
        d.corroborate("no step onset: the errors grow with traffic, not with a change");
    }
    d.step(format!(
        "Add capacity behind {} and check its scaling reacts before the peak; raise cache hit ratio for cacheable paths.",
        a.alb.name()
    ));
    Some(d)
}
