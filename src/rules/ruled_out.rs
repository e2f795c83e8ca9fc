//! Ruled out, and why: the catalogue rules of the front doors in this triage that produced no
//! finding, each with the evidence that excludes it, or the source that could not be read so
//! that it could not be checked. Most suspected first ([`SUSPICION`]): what an on-call
//! engineer would look at first for a 5xx on that front door.
//!
//! Only causes and links are listed: warnings and supporting findings are never the answer, so
//! nobody needs them excluded. Each reason is written from the same signals the rules read,
//! with its numbers; a rule whose input was not read is "unchecked", never "excluded".

use super::alb::{Health, healths, routed_groups};
use super::catalog::{RULES, Rule};
use super::{AlbCtx, CfCtx, Ctx, Draft, Kind, count, pct, secs};
use crate::verdict::{Check, RuledOut};

/// The order a person suspects causes in, per front door; rules not named here follow in
/// catalogue order. The most common 5xx causes of each front door come first (unhealthy or
/// missing targets, application errors, timeouts), then certificates and configuration.
const SUSPICION: &[&str] = &[
    "alb.all_targets_unhealthy",
    "alb.target_app_5xx",
    "alb.target_response_timeout",
    "alb.no_registered_targets",
    "alb.deregistration_inflight",
    "alb.target_overloaded",
    "alb.target_connection_refused",
    "alb.target_unreachable",
    "alb.keepalive_shorter_than_idle",
    "alb.no_routable_targets",
    "alb.lb_generated_500",
    "alb.target_tls_handshake",
    "alb.lambda_target_error",
    "alb.malformed_target_response",
    "alb.fixed_response_5xx",
    "cf.origin_passthrough",
    "cf.origin_cert_expired",
    "cf.origin_read_timeout",
    "cf.origin_cert_hostname_mismatch",
    "cf.origin_capacity_503",
    "cf.origin_port_mismatch",
    "cf.origin_tls_protocol_mismatch",
    "cf.origin_blocked_or_private",
    "cf.origin_dns_failure",
    "cf.function_error",
    "cf.lambda_edge_execution_or_throttle",
    "cf.lambda_edge_validation_error",
    "apigw.lambda_errors",
    "apigw.lambda_timeout",
    "apigw.lambda_throttled",
    "apigw.integration_timeout",
    "apigw.lambda_permission",
    "apigw.malformed_proxy_response",
    "apigw.lambda_not_active",
    "apigw.backend_passthrough",
    "apigw.backend_5xx",
    "clb.no_healthy_instances",
    "clb.backend_5xx",
    "clb.idle_timeout",
    "clb.backend_connection_errors",
    "clb.surge_queue_full",
    "clb.keepalive_shorter_than_idle",
    "nlb.all_targets_unhealthy",
    "nlb.no_registered_targets",
    "nlb.target_resets",
    "nlb.target_tls_handshake",
    "nlb.port_allocation",
];

/// One rule's check.
enum Why {
    Excluded(String),
    /// Could not be checked: `source` failed or was not read, `what` says what is missing.
    Unchecked {
        source: &'static str,
        what: String,
    },
}

fn excluded(s: impl Into<String>) -> Option<Why> {
    Some(Why::Excluded(s.into()))
}

fn unchecked(source: &'static str, what: impl Into<String>) -> Option<Why> {
    Some(Why::Unchecked {
        source,
        what: what.into(),
    })
}

const METRICS: &str = "cloudwatch:GetMetricData";
const TARGET_HEALTH: &str = "elasticloadbalancing:DescribeTargetHealth";
const CERTIFICATES: &str = "acm:DescribeCertificate";
const LIST_METRICS: &str = "cloudwatch:ListMetrics";

/// The rules of the front doors in `ctx` that produced no draft, with why.
pub(crate) fn ruled_out(ctx: &Ctx<'_>, drafts: &[Draft]) -> Vec<RuledOut> {
    let fired = |id: &str| drafts.iter().any(|d| d.rule == id);
    let mut out: Vec<(usize, RuledOut)> = Vec::new();
    for rule in RULES.iter().copied() {
        if !matches!(rule.kind, Kind::Cause | Kind::Link) || fired(rule.id) {
            continue;
        }
        let Some(why) = explain(ctx, rule) else {
            continue;
        };
        let entry = match why {
            Why::Excluded(reason) => RuledOut {
                rule: rule.id.to_owned(),
                check: Check::Excluded,
                reason,
                gap: None,
            },
            Why::Unchecked { source, what } => {
                let failed = ctx
                    .e
                    .gaps
                    .iter()
                    .find(|g| g.source == source)
                    .map(|g| g.reason.split(':').next().unwrap_or_default().to_owned());
                RuledOut {
                    rule: rule.id.to_owned(),
                    check: Check::Unchecked,
                    reason: match failed {
                        Some(code) => format!("not checked: {what} ({source} failed: {code})"),
                        None => format!("not checked: {what} (not read)"),
                    },
                    gap: Some(source.to_owned()),
                }
            }
        };
        let rank = SUSPICION
            .iter()
            .position(|id| *id == rule.id)
            .unwrap_or(SUSPICION.len() + Rule::order(rule.id));
        out.push((rank, entry));
    }
    out.sort_by_key(|(rank, _)| *rank);
    out.into_iter().map(|(_, r)| r).collect()
}

/// Why `rule` did not fire, from the first front door of its family in `ctx`; `None` when no
/// front door of its family is in this triage.
fn explain(ctx: &Ctx<'_>, rule: &Rule) -> Option<Why> {
    let family = rule.id.split('.').next().unwrap_or_default();
    match family {
        "alb" => {
            let a = ctx.albs.iter().find(|a| a.nlb.is_none())?;
            alb(a, rule.id)
        }
        "nlb" => {
            let a = ctx.albs.iter().find(|a| a.nlb.is_some())?;
            nlb(a, rule.id)
        }
        "cf" => {
            let cf = ctx.cfs.first()?;
            cloudfront(ctx, cf, rule.id)
        }
        "clb" => {
            let c = ctx.classic.first()?;
            clb(c, rule.id)
        }
        "apigw" => {
            let api = ctx.apis.first()?;
            apigw(api, rule.id)
        }
        _ => None,
    }
}

/// `web-tg: 3/3 healthy` for each routed group.
fn group_states(hs: &[(&crate::evidence::TargetGroupEvidence, Health)]) -> String {
    hs.iter()
        .map(|(t, h)| {
            let states: Vec<String> = h.states.iter().map(|(k, n)| format!("{n} {k}")).collect();
            format!(
                "{}: {}",
                t.target_group.display_name(),
                if states.is_empty() {
                    "no targets".to_owned()
                } else {
                    states.join(", ")
                }
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn elb_count(a: &AlbCtx<'_>, code: u16, n: f64, share: f64) -> String {
    format!(
        "HTTPCode_ELB_{code}_Count {} in {} min ({} of ELB 5xx)",
        count(n),
        a.s.w.minutes(),
        pct(share)
    )
}

fn alb(a: &AlbCtx<'_>, id: &str) -> Option<Why> {
    let s = &a.s;
    let routed = routed_groups(a);
    let hs = healths(&routed);
    let needs_health = matches!(
        id,
        "alb.all_targets_unhealthy"
            | "alb.no_registered_targets"
            | "alb.no_routable_targets"
            | "alb.deregistration_inflight"
    );
    // A group whose health was not read (one of several throttled, say) leaves every health
    // rule unchecked: "no group has every target unhealthy" would claim it too.
    let unread: Vec<&str> = routed
        .iter()
        .filter(|t| t.health.is_none())
        .map(|t| t.target_group.display_name())
        .collect();
    if needs_health && (hs.is_empty() || !unread.is_empty()) {
        let what = if unread.is_empty() {
            "the routed target groups' health".to_owned()
        } else {
            format!("the health of {}", unread.join(", "))
        };
        return unchecked(TARGET_HEALTH, what);
    }
    let metrics_only = !matches!(
        id,
        "alb.all_targets_unhealthy" | "alb.no_registered_targets" | "alb.fixed_response_5xx"
    );
    if metrics_only && !s.metrics_read {
        return unchecked(
            METRICS,
            format!("the load balancer's metrics ({})", a.alb.name()),
        );
    }
    let w = s.w.minutes();
    match id {
        "alb.all_targets_unhealthy" => excluded(format!(
            "no routed group has every target unhealthy: {}",
            group_states(&hs)
        )),
        "alb.no_registered_targets" => excluded(format!(
            "every routed group has registered targets: {}",
            group_states(&hs)
        )),
        "alb.no_routable_targets" => excluded(format!(
            "every routed group has healthy or unhealthy targets to route to: {}",
            group_states(&hs)
        )),
        "alb.deregistration_inflight" => {
            let draining: usize = hs.iter().map(|(_, h)| h.n("draining")).sum();
            if draining == 0 {
                excluded(format!(
                    "no routed target is draining: {}",
                    group_states(&hs)
                ))
            } else if s.elb_502 <= 0.0 {
                excluded(format!(
                    "{draining} target(s) draining but no ELB 502 in {w} min"
                ))
            } else {
                excluded(format!(
                    "{draining} target(s) draining beside targets failing health checks: the orchestrator replacing failed targets, not a deploy"
                ))
            }
        }
        "alb.target_app_5xx" => excluded(format!(
            "HTTPCode_Target_5XX_Count {} in {w} min ({} of the load balancer's 5xx): the targets' own errors are not the incident",
            count(s.target_5xx),
            pct(s.target_share)
        )),
        "alb.target_response_timeout" => {
            if s.elb_504 <= 0.0 {
                excluded(format!("no ELB 504 in {w} min"))
            } else if s.p504 < super::signals::DOMINANT {
                excluded(elb_count(a, 504, s.elb_504, s.p504))
            } else if s.conn_errors > 0.0 {
                excluded(format!(
                    "the ELB 504 come with TargetConnectionErrorCount {} in {w} min: connections fail, answers are not slow",
                    count(s.conn_errors)
                ))
            } else if hs.iter().any(|(_, h)| h.n("unhealthy") > 0) {
                excluded(format!(
                    "routed targets fail health checks: {}",
                    group_states(&hs)
                ))
            } else {
                excluded(format!(
                    "TargetResponseTime Maximum {} stays under the idle timeout {}",
                    s.trt_max.map_or_else(|| "not measured".to_owned(), secs),
                    secs(s.idle_timeout)
                ))
            }
        }
        "alb.target_overloaded" => excluded(match s.load_corr {
            Some(c) if !s.load_correlated => format!(
                "the error ratio does not follow load (rank correlation {c:.2}, below 0.60)"
            ),
            None if !s.load_correlated => {
                "too few minutes with requests to tie the errors to load".to_owned()
            }
            _ => format!(
                "the errors follow load but no target shows it is out of capacity: TargetConnectionErrorCount {}, no Target.Timeout targets beside healthy ones",
                count(s.conn_errors)
            ),
        }),
        "alb.target_connection_refused" | "alb.target_unreachable" => {
            if s.conn_errors <= 0.0 {
                excluded(format!("TargetConnectionErrorCount 0 in {w} min"))
            } else if id == "alb.target_connection_refused" {
                excluded(format!(
                    "TargetConnectionErrorCount {} in {w} min, but {}",
                    count(s.conn_errors),
                    elb_count(a, 502, s.elb_502, s.p502)
                ))
            } else {
                excluded(format!(
                    "TargetConnectionErrorCount {} in {w} min, but not every routed target times out its health checks ({})",
                    count(s.conn_errors),
                    group_states(&hs)
                ))
            }
        }
        "alb.keepalive_shorter_than_idle" | "alb.malformed_target_response" => {
            let draining: usize = hs.iter().map(|(_, h)| h.n("draining")).sum();
            if s.elb_502 <= 0.0 {
                excluded(format!("no ELB 502 in {w} min"))
            } else if draining > 0 {
                excluded(format!(
                    "{}, while {draining} target(s) drain: 502s of a deploy or scale-in, not of the targets' answers",
                    elb_count(a, 502, s.elb_502, s.p502)
                ))
            } else {
                excluded(format!(
                    "{}, {} of requests; TargetConnectionErrorCount {}, TargetTLSNegotiationErrorCount {}: not the uniform 502 pattern",
                    elb_count(a, 502, s.elb_502, s.p502),
                    pct(s.ratio_502),
                    count(s.conn_errors),
                    count(s.tls_errors)
                ))
            }
        }
        "alb.lb_generated_500" => excluded(format!(
            "{}; ELBAuthError {}",
            elb_count(a, 500, s.elb_500, s.p500),
            count(s.auth_errors)
        )),
        "alb.target_tls_handshake" => excluded(format!(
            "TargetTLSNegotiationErrorCount {} in {w} min",
            count(s.tls_errors)
        )),
        "alb.lambda_target_error" => excluded(format!(
            "LambdaUserError + LambdaInternalError {} in {w} min",
            count(s.lambda_errors)
        )),
        "alb.fixed_response_5xx" => excluded(format!(
            "HTTP_Fixed_Response_Count {} in {w} min",
            count(s.fixed_responses)
        )),
        _ => None,
    }
}

fn nlb(a: &AlbCtx<'_>, id: &str) -> Option<Why> {
    let n = a.nlb.as_ref()?;
    let hs = healths(&routed_groups(a));
    let w = n.w.minutes();
    match id {
        "nlb.all_targets_unhealthy" | "nlb.no_registered_targets" if hs.is_empty() => {
            unchecked(TARGET_HEALTH, "the routed target groups' health")
        }
        "nlb.all_targets_unhealthy" => excluded(format!(
            "no routed group has every target unhealthy: {}",
            group_states(&hs)
        )),
        "nlb.no_registered_targets" => excluded(format!(
            "every routed group has registered targets: {}",
            group_states(&hs)
        )),
        "nlb.target_resets" => excluded(format!(
            "TCP_Target_Reset_Count {} in {w} min against {} in the hour before",
            count(n.target_resets),
            count(n.target_resets_b)
        )),
        "nlb.target_tls_handshake" => excluded(format!(
            "TargetTLSNegotiationErrorCount {} in {w} min",
            count(n.target_tls_errors)
        )),
        "nlb.port_allocation" => excluded(format!(
            "PortAllocationErrorCount {} in {w} min",
            count(n.port_allocation_errors)
        )),
        _ => None,
    }
}

fn clb(c: &super::clb::ClbCtx<'_>, id: &str) -> Option<Why> {
    let s = &c.s;
    let w = s.w.minutes();
    match id {
        "clb.no_healthy_instances" => match &c.clb.health {
            None => unchecked(
                "elasticloadbalancing:DescribeInstanceHealth",
                "the instances' health",
            ),
            Some(h) => {
                let in_service = h
                    .iter()
                    .filter(|i| i.state.as_deref() == Some("InService"))
                    .count();
                excluded(format!("{in_service}/{} instances InService", h.len()))
            }
        },
        "clb.backend_5xx" => excluded(format!(
            "HTTPCode_Backend_5XX {} in {w} min against ELB 5xx {}",
            count(s.backend_5xx),
            count(s.elb_5xx)
        )),
        "clb.backend_connection_errors" => excluded(format!(
            "BackendConnectionErrors {} in {w} min",
            count(s.backend_connection_errors)
        )),
        "clb.surge_queue_full" => excluded(format!(
            "SpilloverCount {} in {w} min, SurgeQueueLength Maximum {}",
            count(s.spillover),
            s.surge_max.map_or_else(|| "not measured".to_owned(), count)
        )),
        "clb.idle_timeout" | "clb.keepalive_shorter_than_idle" => excluded(format!(
            "Latency Maximum {} in {w} min; ELB 5xx {}",
            s.latency_max
                .map_or_else(|| "not measured".to_owned(), secs),
            count(s.elb_5xx)
        )),
        _ => None,
    }
}

fn apigw(api: &super::apigw::ApiCtx<'_>, id: &str) -> Option<Why> {
    let s = &api.s;
    let fns = &s.functions;
    let read = fns.iter().any(|f| f.read);
    let lambda_rule = matches!(
        id,
        "apigw.lambda_errors" | "apigw.lambda_timeout" | "apigw.lambda_throttled"
    );
    if lambda_rule && fns.is_empty() {
        return excluded("no Lambda integration on the stage");
    }
    if lambda_rule && !read {
        return unchecked(METRICS, "the integrated functions' Lambda metrics");
    }
    let sum = |f: fn(&super::signals::FnSignals) -> f64| fns.iter().map(f).sum::<f64>();
    let minutes = s.s.minutes();
    match id {
        "apigw.lambda_errors" => excluded(format!(
            "Lambda Errors {} in {minutes} min of {} invocations",
            count(sum(|f| f.errors)),
            count(sum(|f| f.invocations))
        )),
        "apigw.lambda_throttled" => excluded(format!(
            "Lambda Throttles {} in {minutes} min",
            count(sum(|f| f.throttles))
        )),
        "apigw.lambda_timeout" => {
            let each: Vec<String> = api
                .api
                .functions
                .iter()
                .zip(fns)
                .map(|(f, sig)| {
                    format!(
                        "{}: Duration Maximum {} against its timeout {}",
                        f.name,
                        sig.duration_max
                            .map_or_else(|| "not measured".to_owned(), |ms| secs(ms / 1000.0)),
                        f.config
                            .as_ref()
                            .and_then(|c| c.timeout)
                            .map_or_else(|| "not read".to_owned(), |t| secs(t as f64))
                    )
                })
                .collect();
            excluded(format!("over {minutes} min, {}", each.join("; ")))
        }
        "apigw.integration_timeout" => excluded(format!(
            "IntegrationLatency Maximum {} in {minutes} min against the integration timeout {}",
            s.integration_latency_max
                .map_or_else(|| "not measured".to_owned(), |ms| secs(ms / 1000.0)),
            api.api
                .functions
                .iter()
                .map(|f| f.integration_timeout_ms)
                .max()
                .map_or_else(|| "of each route".to_owned(), |ms| secs(ms as f64 / 1000.0))
        )),
        _ => None,
    }
}

fn cloudfront(ctx: &Ctx<'_>, cf: &CfCtx<'_>, id: &str) -> Option<Why> {
    let Some(cfg) = cf.dist.config.as_ref() else {
        return unchecked(
            "cloudfront:GetDistributionConfig",
            format!("the configuration of {}", cf.dist.id),
        );
    };
    let s = &cf.s;
    let w = s.w.minutes();
    let custom: Vec<_> = cfg
        .origins
        .items
        .iter()
        .filter_map(|o| o.custom_origin_config.as_ref().map(|c| (o, c)))
        .collect();
    let policy = |c: &crate::evidence::cloudfront::CustomOriginConfig| {
        c.origin_protocol_policy
            .clone()
            .unwrap_or_else(|| "http-only".into())
    };
    match id {
        "cf.origin_cert_expired" | "cf.origin_cert_hostname_mismatch" => {
            if custom.is_empty() {
                return excluded(
                    "no custom origin: CloudFront's own and S3's certificates are AWS's to renew",
                );
            }
            if custom.iter().all(|(_, c)| policy(c) == "http-only") {
                return excluded(
                    "CloudFront reaches every custom origin over HTTP (http-only): no origin certificate in play",
                );
            }
            let albs: Vec<&AlbCtx<'_>> = cf
                .dist
                .origins
                .iter()
                .filter_map(|l| l.alb_arn.as_deref())
                .filter_map(|arn| ctx.alb(arn))
                .collect();
            if albs.is_empty() {
                return excluded(
                    "no origin is a load balancer of this account: its certificate is not readable here",
                );
            }
            let certs: Vec<_> = albs
                .iter()
                .flat_map(|a| a.alb.certificates.values())
                .collect();
            if certs.is_empty() {
                return unchecked(CERTIFICATES, "the origin listeners' certificates");
            }
            if id == "cf.origin_cert_expired" {
                match certs.iter().filter_map(|c| c.not_after).min() {
                    Some(t) => excluded(format!(
                        "the origin listeners' certificates are valid until {} or later",
                        t.format("%Y-%m-%d")
                    )),
                    None => unchecked(CERTIFICATES, "the certificates' expiry dates"),
                }
            } else {
                excluded(format!(
                    "a certificate of the origin listener covers the name CloudFront sends ({} certificate(s) read)",
                    certs.len()
                ))
            }
        }
        "cf.origin_read_timeout" => {
            if s.rate_504.is_none() {
                return unchecked(METRICS, "504ErrorRate (an additional CloudFront metric)");
            }
            excluded(format!(
                "504ErrorRate {} of requests in {w} min; OriginLatency p99 {}",
                pct(s.rate_504.unwrap_or(0.0) / 100.0),
                s.origin_latency_p99_ms
                    .map_or_else(|| "not measured".to_owned(), |ms| secs(ms / 1000.0))
            ))
        }
        "cf.origin_port_mismatch" => {
            let ports: Vec<String> = custom
                .iter()
                .map(|(o, c)| {
                    format!(
                        "{} {} (HTTP {}, HTTPS {})",
                        o.id,
                        policy(c),
                        c.http_port.unwrap_or(super::aws_defaults::ORIGIN_HTTP_PORT),
                        c.https_port
                            .unwrap_or(super::aws_defaults::ORIGIN_HTTPS_PORT)
                    )
                })
                .collect();
            if ports.is_empty() {
                return excluded("no custom origin");
            }
            excluded(format!(
                "each origin's protocol and port meet a listener of the load balancer behind it: {}",
                ports.join("; ")
            ))
        }
        "cf.origin_tls_protocol_mismatch" => {
            let tls: Vec<String> = custom
                .iter()
                .filter(|(_, c)| policy(c) != "http-only")
                .map(|(o, c)| {
                    let protocols = c
                        .origin_ssl_protocols
                        .as_ref()
                        .map(|p| p.items.join(", "))
                        .unwrap_or_else(|| "the default".to_owned());
                    format!("{} offers {protocols}", o.id)
                })
                .collect();
            if custom.is_empty() {
                return excluded("no custom origin");
            }
            if tls.is_empty() {
                return excluded(
                    "CloudFront reaches every custom origin over HTTP (http-only): no TLS handshake",
                );
            }
            excluded(format!(
                "the origin listeners' security policies accept a protocol CloudFront offers: {}",
                tls.join("; ")
            ))
        }
        "cf.origin_dns_failure" | "cf.origin_blocked_or_private" => {
            let reached: Vec<String> = cf
                .dist
                .origins
                .iter()
                .filter_map(|l| ctx.alb(l.alb_arn.as_deref()?))
                .filter(|a| a.s.requests > 0.0)
                .map(|a| {
                    format!(
                        "{} ({}) received {} requests in {w} min",
                        a.alb.name(),
                        a.alb
                            .load_balancer
                            .as_ref()
                            .and_then(|l| l.scheme.as_deref())
                            .unwrap_or("scheme not read"),
                        count(a.s.requests)
                    )
                })
                .collect();
            if reached.is_empty() {
                excluded(format!(
                    "502ErrorRate {} of requests in {w} min: not the pattern of an origin CloudFront cannot reach",
                    s.rate_502
                        .map_or_else(|| "not read".to_owned(), |r| pct(r / 100.0))
                ))
            } else {
                excluded(format!(
                    "the origin resolves and is reachable: {}",
                    reached.join("; ")
                ))
            }
        }
        "cf.origin_capacity_503" => excluded(format!(
            "503ErrorRate {} of requests in {w} min{}",
            s.rate_503
                .map_or_else(|| "not read".to_owned(), |r| pct(r / 100.0)),
            if s.load_correlated {
                ""
            } else {
                ", not following load"
            }
        )),
        "cf.origin_passthrough"
            if !cf
                .dist
                .origins
                .iter()
                .any(|l| l.alb_arn.is_some() || l.classic_name.is_some() || l.api.is_some()) =>
        {
            excluded("no origin is a load balancer or API stage of this account to link to")
        }
        "cf.origin_passthrough" => excluded(format!(
            "the origins' own 5xx do not match CloudFront's {} in {w} min (no shared onset, correlation or count of the same size)",
            count(s.errors_5xx)
        )),
        "cf.function_error"
        | "cf.lambda_edge_validation_error"
        | "cf.lambda_edge_execution_or_throttle" => {
            let functions = id == "cf.function_error";
            let keep = |m: &super::signals::EdgeMetric| m.function.is_some() == functions;
            let what = if functions {
                "CloudFront Function"
            } else {
                "Lambda@Edge function"
            };
            if !s.edge.metrics.iter().any(keep) {
                return excluded(format!("no {what} is associated with any cache behaviour"));
            }
            if let Some(missing) = s.edge.unread(keep) {
                let source = if ctx.e.gaps.iter().any(|g| g.source == LIST_METRICS) {
                    LIST_METRICS
                } else {
                    METRICS
                };
                return unchecked(source, missing);
            }
            excluded(s.edge.lines(keep).join("; "))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testkit::*;
    use crate::verdict::Check;

    fn reason<'a>(o: &'a crate::rules::Outcome, rule: &str) -> &'a crate::verdict::RuledOut {
        o.ruled_out
            .iter()
            .find(|r| r.rule == rule)
            .unwrap_or_else(|| panic!("{rule} not ruled out: {:#?}", o.ruled_out))
    }

    #[test]
    fn rules_that_fired_are_never_ruled_out_and_the_others_carry_numbers() {
        let o = connection_refused().evaluate();
        assert_answer(&o, "alb.target_connection_refused");
        for f in &o.findings {
            assert!(
                o.ruled_out.iter().all(|r| r.rule != f.rule),
                "{} is a finding and ruled out",
                f.rule
            );
        }
        let r = reason(&o, "alb.target_response_timeout");
        assert_eq!(r.check, Check::Excluded);
        assert_eq!(r.reason, "no ELB 504 in 5 min");
        let r = reason(&o, "alb.no_registered_targets");
        assert!(
            r.reason.contains("web-tg: 2 healthy, 1 unhealthy"),
            "{}",
            r.reason
        );
        // Only the front doors in the triage: no CloudFront or API Gateway rule.
        assert!(
            o.ruled_out.iter().all(|r| r.rule.starts_with("alb.")),
            "{:#?}",
            o.ruled_out
        );
    }

    #[test]
    fn ruled_out_is_ordered_by_suspicion() {
        let o = keepalive().evaluate();
        let order: Vec<&str> = o.ruled_out.iter().map(|r| r.rule.as_str()).collect();
        assert_eq!(
            order.first(),
            Some(&"alb.all_targets_unhealthy"),
            "{order:?}"
        );
        let pos = |id: &str| order.iter().position(|r| *r == id);
        assert!(
            pos("alb.target_app_5xx") < pos("alb.fixed_response_5xx"),
            "{order:?}"
        );
    }

    #[test]
    fn an_unread_source_makes_a_rule_unchecked_never_excluded() {
        let o = alb_503_outage(Alb::new().health_unreadable()).evaluate();
        let r = reason(&o, "alb.all_targets_unhealthy");
        assert_eq!(r.check, Check::Unchecked);
        assert_eq!(
            r.gap.as_deref(),
            Some("elasticloadbalancing:DescribeTargetHealth")
        );
        assert!(r.reason.starts_with("not checked:"), "{}", r.reason);
        // No metrics at all: the metric rules are unchecked, with the source named.
        let o = Scenario::new(alb_alarm(ELB_5XX)).alb(Alb::new()).evaluate();
        let r = reason(&o, "alb.target_response_timeout");
        assert_eq!(r.check, Check::Unchecked);
        assert_eq!(r.gap.as_deref(), Some("cloudwatch:GetMetricData"));
    }

    #[test]
    fn one_unread_group_leaves_the_health_rules_unchecked() {
        // web-tg's health could not be read, api-tg's was: nothing is claimed of both.
        let o = alb_503_outage(
            Alb::new()
                .routed_group("api-tg", &[("healthy", None), ("healthy", None)])
                .health_unreadable(),
        )
        .evaluate();
        let r = reason(&o, "alb.all_targets_unhealthy");
        assert_eq!(r.check, Check::Unchecked);
        assert!(r.reason.contains("the health of web-tg"), "{}", r.reason);
    }

    #[test]
    fn cloudfront_rules_are_ruled_out_from_the_configuration_and_certificates() {
        let o = cf_passthrough_keepalive().evaluate();
        let r = reason(&o, "cf.origin_cert_expired");
        assert!(r.reason.contains("valid until"), "{}", r.reason);
        let r = reason(&o, "cf.function_error");
        assert_eq!(
            r.reason,
            "no CloudFront Function is associated with any cache behaviour"
        );
        let o = cf_passthrough_keepalive().evaluate();
        assert!(o.ruled_out.iter().any(|r| r.rule.starts_with("alb.")));
    }
}
