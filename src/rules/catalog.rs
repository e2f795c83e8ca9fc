//! The cause catalogue as data: one [`Rule`] per cause, declared next to its detection in its
//! family's file, and [`RULES`], the one registry, in catalogue order.
//!
//! The order matters: it breaks ties between findings of equal confidence (most specific
//! first), and it is the order of `docs/rules.md`, which `fivexx rules` prints from this
//! registry. A rule that is declared but not registered is dead code (rustc says so); the
//! tests below fail on a duplicate id and on a precedence naming an unknown id.

use super::alb;
use super::apigw::{self, ApiCtx};
use super::clb::{self, ClbCtx};
use super::cloudfront::{self, OriginCtx};
use super::nlb;
use super::signals::NlbSignals;
use super::{AlbCtx, CfCtx, Ctx, Draft, Kind, cert};
use crate::evidence::TargetGroupEvidence;

/// One cause of the catalogue.
#[derive(Debug)]
pub(crate) struct Rule {
    /// Stable id, part of the verdict contract (`alb.target_unreachable`).
    pub id: &'static str,
    pub kind: Kind,
    /// Confidence before corroboration and penalties.
    pub base: f64,
    /// The HTTP status codes it explains.
    pub codes: &'static [u16],
    /// The finding this one explains when it fires on its own evidence: that finding is then
    /// capped below this one (`rank`).
    pub sub_cause_of: Option<&'static str>,
    /// What is wrong, in one sentence.
    pub cause: &'static str,
    /// What the rule reads to fire.
    pub needs: &'static str,
    /// What tells it apart from the causes it could be confused with.
    pub differs: &'static str,
    pub detect: Detect,
}

/// How a rule is run, and on what.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Detect {
    /// Once per load balancer, with the target groups its listeners route to.
    Alb(fn(&AlbCtx<'_>, &[&TargetGroupEvidence]) -> Option<Draft>),
    /// Once per custom origin of each distribution.
    Origin(fn(&Ctx<'_>, &OriginCtx<'_, '_>) -> Option<Draft>),
    /// Once per distribution, with its origins.
    Distribution(fn(&Ctx<'_>, &CfCtx<'_>, &[OriginCtx<'_, '_>]) -> Vec<Draft>),
    /// Once per Network Load Balancer, with its signals and the target groups its listeners
    /// route to (ALB rules are not run on NLBs).
    Nlb(fn(&Ctx<'_>, &AlbCtx<'_>, &NlbSignals, &[&TargetGroupEvidence]) -> Option<Draft>),
    /// Once per Classic Load Balancer.
    Clb(fn(&Ctx<'_>, &ClbCtx<'_>) -> Option<Draft>),
    /// Once per API stage.
    Api(fn(&Ctx<'_>, &ApiCtx<'_>) -> Vec<Draft>),
    /// Once per triage.
    Triage(fn(&Ctx<'_>) -> Vec<Draft>),
}

impl Rule {
    /// A finding of this rule at its base confidence.
    pub(crate) fn draft(&'static self) -> Draft {
        Draft::new(self)
    }

    /// Its place in [`RULES`] (the catalogue order); unregistered rules sort last.
    pub(crate) fn order(id: &str) -> usize {
        RULES.iter().position(|r| r.id == id).unwrap_or(RULES.len())
    }

    pub(crate) fn get(id: &str) -> Option<&'static Rule> {
        RULES.iter().copied().find(|r| r.id == id)
    }
}

/// Every rule, in catalogue order: CloudFront's origin and edge causes (the most specific
/// configuration faults), the ALB causes from the most to the least specific, then the
/// broad ones, the link, the guards, the warnings and the supporting finding.
pub(crate) const RULES: &[&Rule] = &[
    &cloudfront::ORIGIN_CERT_EXPIRED,
    &cloudfront::ORIGIN_CERT_HOSTNAME_MISMATCH,
    &cloudfront::ORIGIN_TLS_PROTOCOL_MISMATCH,
    &cloudfront::ORIGIN_PORT_MISMATCH,
    &cloudfront::ORIGIN_DNS_FAILURE,
    &cloudfront::ORIGIN_BLOCKED_OR_PRIVATE,
    &cloudfront::LAMBDA_EDGE_VALIDATION_ERROR,
    &cloudfront::LAMBDA_EDGE_EXECUTION_OR_THROTTLE,
    &cloudfront::FUNCTION_ERROR,
    &alb::FIXED_RESPONSE_5XX,
    &alb::NO_REGISTERED_TARGETS,
    &alb::TARGET_TLS_HANDSHAKE,
    &alb::TARGET_UNREACHABLE,
    &alb::LAMBDA_TARGET_ERROR,
    &alb::TARGET_RESPONSE_TIMEOUT,
    &alb::TARGET_CONNECTION_REFUSED,
    &alb::TARGET_APP_5XX,
    &alb::DEREGISTRATION_INFLIGHT,
    &alb::TARGET_OVERLOADED,
    &alb::LB_GENERATED_500,
    &alb::NO_ROUTABLE_TARGETS,
    &alb::KEEPALIVE_SHORTER_THAN_IDLE,
    &alb::MALFORMED_TARGET_RESPONSE,
    &alb::ALL_TARGETS_UNHEALTHY,
    &clb::NO_HEALTHY_INSTANCES,
    &clb::SURGE_QUEUE_FULL,
    &clb::IDLE_TIMEOUT,
    &clb::BACKEND_CONNECTION_ERRORS,
    &clb::BACKEND_5XX,
    &clb::KEEPALIVE_SHORTER_THAN_IDLE,
    &nlb::NO_REGISTERED_TARGETS,
    &nlb::TARGET_TLS_HANDSHAKE,
    &nlb::PORT_ALLOCATION,
    &nlb::ALL_TARGETS_UNHEALTHY,
    &nlb::TARGET_RESETS,
    &apigw::LAMBDA_NOT_ACTIVE,
    &apigw::LAMBDA_PERMISSION,
    &apigw::LAMBDA_THROTTLED,
    &apigw::LAMBDA_TIMEOUT,
    &apigw::INTEGRATION_TIMEOUT,
    &apigw::LAMBDA_ERRORS,
    &apigw::MALFORMED_PROXY_RESPONSE,
    &cloudfront::ORIGIN_READ_TIMEOUT,
    &cloudfront::ORIGIN_CAPACITY_503,
    &cloudfront::ORIGIN_PASSTHROUGH,
    &apigw::BACKEND_PASSTHROUGH,
    &apigw::BACKEND_5XX,
    &cloudfront::EDGE_CAPACITY,
    &cert::RENEWAL_RISK,
    &cloudfront::WAF_NOT_5XX,
    &alb::CONNECTION_LIMIT,
];

/// Runs every registered rule on everything in `ctx`, in catalogue order.
pub(crate) fn detect(ctx: &Ctx<'_>) -> Vec<Draft> {
    let routed: Vec<Vec<&TargetGroupEvidence>> = ctx.albs.iter().map(alb::routed_groups).collect();
    let origins: Vec<Vec<OriginCtx<'_, '_>>> = ctx
        .cfs
        .iter()
        .map(|cf| cloudfront::origins(ctx, cf))
        .collect();
    let mut out = Vec::new();
    for rule in RULES {
        match rule.detect {
            Detect::Alb(f) => {
                for (a, r) in ctx.albs.iter().zip(&routed) {
                    if a.nlb.is_none() {
                        out.extend(f(a, r));
                    }
                }
            }
            Detect::Nlb(f) => {
                for (a, r) in ctx.albs.iter().zip(&routed) {
                    if let Some(s) = &a.nlb {
                        out.extend(f(ctx, a, s, r));
                    }
                }
            }
            Detect::Origin(f) => {
                for o in origins.iter().flatten() {
                    out.extend(f(ctx, o));
                }
            }
            Detect::Distribution(f) => {
                for (cf, os) in ctx.cfs.iter().zip(&origins) {
                    out.extend(f(ctx, cf, os));
                }
            }
            Detect::Clb(f) => {
                for c in &ctx.classic {
                    out.extend(f(ctx, c));
                }
            }
            Detect::Api(f) => {
                for a in &ctx.apis {
                    out.extend(f(ctx, a));
                }
            }
            Detect::Triage(f) => out.extend(f(ctx)),
        }
    }
    out
}

/// The catalogue as Markdown: what `fivexx rules` prints and `docs/rules.md` holds.
pub fn markdown() -> String {
    use std::fmt::Write;
    let mut md = String::new();
    md.push_str(
        "# Rules\n\n\
         <!-- Generated by `fivexx rules` from src/rules/catalog.rs; tests/cli.rs fails when \
         this file is stale. -->\n\n\
         Every finding in a verdict names one of these rules. A rule is a pure function of the \
         evidence (the AWS answers and two hours of metrics): it fires at its base confidence, \
         gains 0.1 for each independent corroborating signal (at most 0.95), loses 0.2 for each \
         key input it could not read (named in its evidence) and 0.15 when a competing cause \
         fits the same evidence as well. The rules are listed in catalogue order, which breaks \
         ties between equal confidences.\n\n\
         Kinds: a **cause** can be the verdict's answer; a **link** ties a CloudFront alarm to \
         the cause found on its origin load balancer and is capped just below it; a **warning** \
         stands beside the answer and is never above a cause; a **supporting** finding raises \
         other causes and is never the answer on its own. A rule marked *sub-cause of* \
         `alb.all_targets_unhealthy` names why the targets are unhealthy, and caps that \
         finding below itself when it fires on its own evidence.\n\n\
         Fix and rollback: where a finding's remedy is a configuration change, its next steps \
         carry `` Fix: `aws ...` `` (the AWS CLI command with the identifiers read and the proposed \
         value, then what it changes from what to what) and `` Rollback: `aws ...` `` (the same \
         command with the value read). fivexx never runs them. Identifiers are quoted for a \
         POSIX shell; a value fivexx cannot know (the certificate to attach, the path that \
         answers a health check, the targets' keep-alive) is a `<placeholder>` that the shell or \
         AWS refuses as it stands; when an identifier or the current value was not read the line is `Fix: no \
         command: ...` and names it. A proposed limit is twice the longest time (or peak \
         concurrency) seen, within AWS's range: an idle timeout or `OriginReadTimeout` twice the \
         longer of the timeout and the longest measured (at most 60 s for `OriginReadTimeout`), \
         a deregistration delay twice the longest request, a reserved concurrency twice the \
         reservation or peak within the account's unreserved pool; a server keep-alive 5 s \
         above the idle timeout; a function timeout 1 s under its integration's. CloudFront has \
         no per-field update: the command reads the distribution config, edits the origin's \
         field with jq and sends it back with its ETag.\n\n",
    );
    md.push_str("| rule | kind | codes | base | sub-cause of |\n|---|---|---|---|---|\n");
    for r in RULES {
        let _ = writeln!(
            md,
            "| [`{id}`](#{anchor}) | {kind} | {codes} | {base:.2} | {sub} |",
            id = r.id,
            anchor = r.id.replace('.', ""),
            kind = r.kind.as_str(),
            codes = codes(r.codes),
            base = r.base,
            sub = r.sub_cause_of.map_or(String::new(), |s| format!("`{s}`")),
        );
    }
    for r in RULES {
        let _ = write!(
            md,
            "\n## {id}\n\n{cause}\n\n- **Kind:** {kind}; **explains:** {codes}; **base \
             confidence:** {base:.2}{sub}\n- **Evidence:** {needs}\n- **Differential:** {differs}\n",
            id = r.id,
            cause = r.cause,
            kind = r.kind.as_str(),
            codes = codes(r.codes),
            base = r.base,
            sub = r
                .sub_cause_of
                .map_or(String::new(), |s| format!("; **sub-cause of** `{s}`")),
            needs = r.needs,
            differs = r.differs,
        );
    }
    md.push_str(&metrics_section());
    md
}

/// The metrics every triage asks for, from the gathering's own query builders (so this list
/// cannot drift from what is read).
fn metrics_section() -> String {
    use crate::evidence::elb::TargetGroup;
    use crate::evidence::gather::{
        alb_queries, api_queries, clb_queries, cloudfront_queries, function_queries,
        lambda_edge_queries, lambda_queries,
    };
    use crate::evidence::{AlbEvidence, TargetGroupEvidence};
    let group = |kind: &str| TargetGroupEvidence {
        target_group: TargetGroup {
            target_group_arn: format!(
                "arn:aws:elasticloadbalancing:us-east-1:111122223333:targetgroup/{kind}/1"
            ),
            target_type: Some(kind.to_owned()),
            ..TargetGroup::default()
        },
        ..TargetGroupEvidence::default()
    };
    let alb = |groups: Vec<TargetGroupEvidence>| AlbEvidence {
        region: "us-east-1".into(),
        arn: "arn:aws:elasticloadbalancing:us-east-1:111122223333:loadbalancer/app/a/1".into(),
        target_groups: Some(groups),
        ..AlbEvidence::default()
    };
    let list = |qs: &[crate::evidence::cloudwatch::MetricQuery]| {
        qs.iter()
            .map(|q| format!("`{}` ({})", q.name, q.stat))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let lb_only = alb_queries(&alb(Vec::new()));
    let nlb = |groups: Vec<TargetGroupEvidence>| AlbEvidence {
        arn: "arn:aws:elasticloadbalancing:us-east-1:111122223333:loadbalancer/net/n/1".into(),
        ..alb(groups)
    };
    let nlb_lb_only = alb_queries(&nlb(Vec::new()));
    let nlb_per_group: Vec<_> = alb_queries(&nlb(vec![group("instance")]))
        .into_iter()
        .filter(|q| !nlb_lb_only.contains(q))
        .collect();
    let with_instance = alb_queries(&alb(vec![group("instance")]));
    let with_lambda = alb_queries(&alb(vec![group("lambda")]));
    let per_group: Vec<_> = with_instance
        .iter()
        .filter(|q| !lb_only.contains(q))
        .cloned()
        .collect();
    let lambda_extra: Vec<_> = with_lambda
        .iter()
        .filter(|q| {
            !lb_only.contains(q)
                && !per_group
                    .iter()
                    .any(|p| p.name == q.name && p.stat == q.stat)
        })
        .cloned()
        .collect();
    format!(
        "\n## Metrics read\n\nEvery triage reads the two hours before the alarm, per minute, in \
         one `GetMetricData` call per region for up to 500 queries.\n\n\
         - **Per load balancer** (`AWS/ApplicationELB`, dimension `LoadBalancer`): {}.\n\
         - **Per target group** (dimensions `LoadBalancer` and `TargetGroup`): {}; for a Lambda \
         target group also {}.\n\
         - **Per distribution** (`AWS/CloudFront` in us-east-1, dimensions `DistributionId` and \
         `Region=Global`): {}.\n\
         - **Per edge function of a distribution**, only when a cache behaviour has one: \
         `ListMetrics` (us-east-1, `AWS/CloudFront`, last three hours; by `DistributionId` for \
         Lambda@Edge, by `FunctionName` for each CloudFront Function) finds which of these \
         exist, and those are read: Lambda@Edge {}; CloudFront Function {}. One not listed \
         had no datapoint in three hours and reads as 0, as does one read without datapoints \
         (CloudFront publishes these counts only when errors occur). When nothing but the \
         configuration is read for the origins (S3 origins, no origin request policy), all are \
         read at once without `ListMetrics`, to save a wave. \
         The per-region `AWS/Lambda` metrics of a Lambda@Edge function are not read.\n\
         - **Per API stage** (`AWS/ApiGateway`, dimensions `ApiName` and `Stage` for a REST \
         API): {}; an HTTP API's are the same by `ApiId` and `Stage`, with the error counts \
         spelled `5xx` and `4xx` (`5XXError` is read too, an older spelling of HTTP APIs' errors).\n\
         - **Per integrated Lambda function** (`AWS/Lambda`, dimension `FunctionName`; for an \
         alias or version also with `Resource` = `NAME:QUALIFIER`): {}.\n\
         - **Per Classic Load Balancer** (`AWS/ELB`, dimension `LoadBalancerName`): {}.\n\
         - **Per Network Load Balancer** (`AWS/NetworkELB`, dimension `LoadBalancer`): {}; per \
         target group (`LoadBalancer` and `TargetGroup`): {}.\n\
         - The alarm's own metric and statistic, for its trace.\n",
        list(&lb_only),
        list(&per_group),
        list(&lambda_extra),
        list(&cloudfront_queries("ID")),
        list(&lambda_edge_queries("ID")),
        list(&function_queries("NAME")),
        list(&api_queries("us-east-1", false, "API", Some("prod"))),
        list(&lambda_queries("us-east-1", "fn")),
        list(&clb_queries("us-east-1", "NAME")),
        list(&nlb_lb_only),
        list(&nlb_per_group),
    )
}

fn codes(codes: &[u16]) -> String {
    if codes.is_empty() {
        return "none".into();
    }
    codes
        .iter()
        .map(u16::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_well_formed() {
        for (i, r) in RULES.iter().enumerate() {
            assert!(
                RULES.iter().skip(i + 1).all(|o| o.id != r.id),
                "`{}` is registered twice",
                r.id
            );
            let family = r.id.split('.').next().unwrap_or_default();
            assert!(
                ["alb", "apigw", "cf", "cert", "clb", "guard", "nlb"].contains(&family),
                "`{}`: unknown family",
                r.id
            );
            assert!(
                (0.0..=0.95).contains(&r.base),
                "`{}`: base {}",
                r.id,
                r.base
            );
            assert!(!r.cause.is_empty() && !r.needs.is_empty() && !r.differs.is_empty());
        }
    }

    #[test]
    fn precedence_names_registered_rules() {
        for r in RULES {
            if let Some(parent) = r.sub_cause_of {
                let p = Rule::get(parent);
                assert!(
                    p.is_some(),
                    "`{}` is a sub-cause of unknown `{parent}`",
                    r.id
                );
                assert_ne!(parent, r.id);
            }
        }
        assert!(RULES.iter().any(|r| r.sub_cause_of.is_some()));
    }

    /// Every rule declared in a family file is in the registry (rustc's dead-code lint says
    /// the same of a declared rule nothing registers; this names it).
    #[test]
    fn every_declared_rule_is_registered() {
        let sources = [
            include_str!("alb/routing.rs"),
            include_str!("alb/targets.rs"),
            include_str!("cloudfront/tls.rs"),
            include_str!("cloudfront/origin.rs"),
            include_str!("cloudfront/edge.rs"),
            include_str!("cert.rs"),
            include_str!("apigw/lambda.rs"),
            include_str!("apigw/integration.rs"),
            include_str!("nlb/mod.rs"),
            include_str!("clb/mod.rs"),
        ];
        let declared: Vec<&str> = sources
            .iter()
            .flat_map(|s| s.lines())
            .filter_map(|l| l.strip_prefix("    id: \""))
            .filter_map(|l| l.strip_suffix("\","))
            .collect();
        assert_eq!(declared.len(), RULES.len(), "{declared:?}");
        for id in declared {
            assert!(
                Rule::get(id).is_some(),
                "`{id}` is declared but not in RULES"
            );
        }
    }

    #[test]
    fn unregistered_ids_sort_last() {
        assert_eq!(Rule::order("alb.nope"), RULES.len());
        assert_eq!(Rule::order(RULES[0].id), 0);
    }
}
