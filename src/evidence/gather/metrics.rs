//! The metrics a triage reads, and how they are asked for: grouped by region, at most 500 a
//! call, every call concurrent.

use std::collections::BTreeMap;

use futures::future::join_all;

use super::calls::Calls;
use crate::evidence::AlbEvidence;
use crate::evidence::cloudwatch::{GetMetricData, MetricQuery, MetricRequest, Series};
use crate::evidence::cloudwatch::{
    alb_metric, apigw_metric, cf_metric, clb_metric, lambda_metric, nlb_metric,
};
use crate::evidence::elb::TargetGroup;
use crate::evidence::port::{Port, Window};
use crate::names::{self, GLOBAL_REGION};
use crate::scope::{
    ALB_NAMESPACE, APIGW_NAMESPACE, CLB_NAMESPACE, CLOUDFRONT_NAMESPACE, LAMBDA_NAMESPACE,
    NLB_NAMESPACE,
};

/// GetMetricData accepts at most 500 queries a call.
pub(crate) const MAX_QUERIES_PER_CALL: usize = 500;

/// Adds to `queries` those of `extra` it does not hold yet (the alarm's own metrics).
pub(super) fn add_missing(queries: &mut Vec<MetricQuery>, extra: &[MetricQuery]) {
    for q in extra {
        if !queries.contains(q) {
            queries.push(q.clone());
        }
    }
}

/// Every query of `queries`, grouped by region, at most 500 a call, all calls concurrent;
/// the queries of a failed call are left out (the failure is a gap).
pub(super) async fn metric_calls<P: Port>(
    ctx: &Calls<'_, P>,
    queries: &[MetricQuery],
    window: Window,
) -> Vec<(MetricQuery, Series)> {
    metric_calls_each(ctx, queries, window)
        .await
        .into_iter()
        .filter_map(|(q, s)| Some((q, s?)))
        .collect()
}

/// [`metric_calls`], keeping every query: `None` for those of a failed call.
pub(super) async fn metric_calls_each<P: Port>(
    ctx: &Calls<'_, P>,
    queries: &[MetricQuery],
    window: Window,
) -> Vec<(MetricQuery, Option<Series>)> {
    let mut by_region: BTreeMap<&str, Vec<&MetricQuery>> = BTreeMap::new();
    for q in queries {
        by_region.entry(q.region.as_str()).or_default().push(q);
    }
    let mut batches: Vec<(&str, MetricRequest)> = Vec::new();
    for (region, qs) in by_region {
        for chunk in qs.chunks(MAX_QUERIES_PER_CALL) {
            let queries = chunk.iter().map(|q| (*q).clone()).collect();
            batches.push((region, MetricRequest { queries, window }));
        }
    }
    let answers = join_all(batches.iter().map(|(region, request)| async move {
        let resource = format!("{} queries in {region}", request.queries.len());
        ctx.read::<GetMetricData>(region, request, Some(&resource))
            .await
    }))
    .await;
    let mut out = Vec::new();
    for ((_, request), answer) in batches.into_iter().zip(answers) {
        match answer {
            Some(series) => out.extend(
                request
                    .queries
                    .into_iter()
                    .zip(series.into_iter().map(Some)),
            ),
            None => out.extend(request.queries.into_iter().map(|q| (q, None))),
        }
    }
    out
}

const ALB_LB_SUMS: [&str; 17] = [
    alb_metric::REQUEST_COUNT,
    alb_metric::ELB_5XX,
    alb_metric::ELB_500,
    alb_metric::ELB_502,
    alb_metric::ELB_503,
    alb_metric::ELB_504,
    alb_metric::ELB_4XX,
    alb_metric::TARGET_5XX,
    alb_metric::TARGET_2XX,
    alb_metric::TARGET_CONNECTION_ERRORS,
    alb_metric::TARGET_TLS_ERRORS,
    alb_metric::CLIENT_TLS_ERRORS,
    alb_metric::REJECTED_CONNECTIONS,
    alb_metric::LAMBDA_USER_ERROR,
    alb_metric::LAMBDA_INTERNAL_ERROR,
    alb_metric::AUTH_ERROR,
    alb_metric::FIXED_RESPONSES,
];

const ALB_TG_SUMS: [&str; 5] = [
    alb_metric::REQUEST_COUNT,
    alb_metric::TARGET_5XX,
    alb_metric::TARGET_2XX,
    alb_metric::TARGET_CONNECTION_ERRORS,
    alb_metric::TARGET_TLS_ERRORS,
];

const LATENCY_STATS: [&str; 3] = ["Average", "Maximum", "p99"];

/// The metric queries for one load balancer and its target groups (`docs/rules.md`, "Metrics read").
pub(crate) fn alb_queries(alb: &AlbEvidence) -> Vec<MetricQuery> {
    alb_queries_for(
        &alb.region,
        alb.dimension(),
        alb.target_groups.iter().flatten().map(|t| &t.target_group),
    )
}

/// [`alb_queries`] from the load balancer's region, `LoadBalancer` dimension and groups.
pub(super) fn alb_queries_for<'t>(
    region: &str,
    lb: &str,
    groups: impl Iterator<Item = &'t TargetGroup> + Clone,
) -> Vec<MetricQuery> {
    // A Network Load Balancer: `net/` in its name, or layer-4 target groups (what is known
    // when the queries are built; an emulator may name an NLB `app/`).
    let layer4 = groups.clone().any(|tg| {
        matches!(
            tg.protocol.as_deref(),
            Some("TCP" | "TLS" | "UDP" | "TCP_UDP")
        )
    });
    if names::is_network_dimension(lb) || layer4 {
        return nlb_queries_for(region, lb, groups);
    }
    let lb_dims = [("LoadBalancer", lb)];
    let mut out: Vec<MetricQuery> = ALB_LB_SUMS
        .iter()
        .map(|m| MetricQuery::new(region, ALB_NAMESPACE, m, &lb_dims, "Sum"))
        .collect();
    out.extend(LATENCY_STATS.iter().map(|s| {
        MetricQuery::new(
            region,
            ALB_NAMESPACE,
            alb_metric::TARGET_RESPONSE_TIME,
            &lb_dims,
            s,
        )
    }));
    for tg in groups {
        let Some(tg_dim) = names::target_group_dimension(&tg.target_group_arn) else {
            continue;
        };
        let dims = [("LoadBalancer", lb), ("TargetGroup", tg_dim)];
        out.push(MetricQuery::new(
            region,
            ALB_NAMESPACE,
            alb_metric::HEALTHY_HOSTS,
            &dims,
            "Minimum",
        ));
        out.push(MetricQuery::new(
            region,
            ALB_NAMESPACE,
            alb_metric::UNHEALTHY_HOSTS,
            &dims,
            "Maximum",
        ));
        out.extend(
            ALB_TG_SUMS
                .iter()
                .map(|m| MetricQuery::new(region, ALB_NAMESPACE, m, &dims, "Sum")),
        );
        out.extend(LATENCY_STATS.iter().map(|s| {
            MetricQuery::new(
                region,
                ALB_NAMESPACE,
                alb_metric::TARGET_RESPONSE_TIME,
                &dims,
                s,
            )
        }));
        if tg.target_type.as_deref() == Some("lambda") {
            for m in [
                alb_metric::LAMBDA_USER_ERROR,
                alb_metric::LAMBDA_INTERNAL_ERROR,
            ] {
                out.push(MetricQuery::new(region, ALB_NAMESPACE, m, &dims, "Sum"));
            }
        }
    }
    out
}

const NLB_LB_SUMS: [&str; 7] = [
    nlb_metric::TARGET_RESETS,
    nlb_metric::ELB_RESETS,
    nlb_metric::CLIENT_RESETS,
    nlb_metric::TARGET_TLS_ERRORS,
    nlb_metric::CLIENT_TLS_ERRORS,
    nlb_metric::PORT_ALLOCATION_ERRORS,
    nlb_metric::NEW_FLOWS,
];

/// The metric queries for one Network Load Balancer (`net/NAME/ID`) and its target groups
/// (`docs/rules.md`, "Metrics read").
pub(crate) fn nlb_queries_for<'t>(
    region: &str,
    lb: &str,
    groups: impl Iterator<Item = &'t TargetGroup>,
) -> Vec<MetricQuery> {
    let lb_dims = [("LoadBalancer", lb)];
    let mut out: Vec<MetricQuery> = NLB_LB_SUMS
        .iter()
        .map(|m| MetricQuery::new(region, NLB_NAMESPACE, m, &lb_dims, "Sum"))
        .collect();
    for tg in groups {
        let Some(tg_dim) = names::target_group_dimension(&tg.target_group_arn) else {
            continue;
        };
        let dims = [("LoadBalancer", lb), ("TargetGroup", tg_dim)];
        out.push(MetricQuery::new(
            region,
            NLB_NAMESPACE,
            nlb_metric::HEALTHY_HOSTS,
            &dims,
            "Minimum",
        ));
        out.push(MetricQuery::new(
            region,
            NLB_NAMESPACE,
            nlb_metric::UNHEALTHY_HOSTS,
            &dims,
            "Maximum",
        ));
    }
    out
}

/// The metric queries for one Classic Load Balancer (`docs/rules.md`, "Metrics read").
pub(crate) fn clb_queries(region: &str, name: &str) -> Vec<MetricQuery> {
    let dims = [("LoadBalancerName", name)];
    let mut out: Vec<MetricQuery> = [
        clb_metric::ELB_5XX,
        clb_metric::BACKEND_5XX,
        clb_metric::BACKEND_CONNECTION_ERRORS,
        clb_metric::SPILLOVER,
        clb_metric::REQUESTS,
    ]
    .iter()
    .map(|m| MetricQuery::new(region, CLB_NAMESPACE, m, &dims, "Sum"))
    .collect();
    out.push(MetricQuery::new(
        region,
        CLB_NAMESPACE,
        clb_metric::SURGE_QUEUE,
        &dims,
        "Maximum",
    ));
    out.push(MetricQuery::new(
        region,
        CLB_NAMESPACE,
        clb_metric::HEALTHY_HOSTS,
        &dims,
        "Minimum",
    ));
    out.push(MetricQuery::new(
        region,
        CLB_NAMESPACE,
        clb_metric::UNHEALTHY_HOSTS,
        &dims,
        "Maximum",
    ));
    out.extend(
        LATENCY_STATS
            .iter()
            .map(|s| MetricQuery::new(region, CLB_NAMESPACE, clb_metric::LATENCY, &dims, s)),
    );
    out
}

/// The CloudFront metric queries for one distribution (us-east-1, `Region=Global`).
pub(crate) fn cloudfront_queries(distribution_id: &str) -> Vec<MetricQuery> {
    let dims = [("DistributionId", distribution_id), ("Region", "Global")];
    let r = GLOBAL_REGION;
    let mut out = vec![MetricQuery::new(
        r,
        CLOUDFRONT_NAMESPACE,
        cf_metric::REQUESTS,
        &dims,
        "Sum",
    )];
    for m in [
        cf_metric::RATE_5XX,
        cf_metric::RATE_4XX,
        cf_metric::RATE_TOTAL,
        cf_metric::RATE_502,
        cf_metric::RATE_503,
        cf_metric::RATE_504,
        cf_metric::CACHE_HIT_RATE,
    ] {
        out.push(MetricQuery::new(
            r,
            CLOUDFRONT_NAMESPACE,
            m,
            &dims,
            "Average",
        ));
    }
    for s in LATENCY_STATS {
        out.push(MetricQuery::new(
            r,
            CLOUDFRONT_NAMESPACE,
            cf_metric::ORIGIN_LATENCY,
            &dims,
            s,
        ));
    }
    out
}

/// The Lambda@Edge error queries of a distribution (us-east-1, `Region=Global`, Sum).
pub(crate) fn lambda_edge_queries(distribution_id: &str) -> Vec<MetricQuery> {
    edge_queries(
        &cf_metric::LAMBDA_EDGE_ERRORS,
        ("DistributionId", distribution_id),
    )
}

/// The error queries of a CloudFront Function (us-east-1, `Region=Global`, Sum).
pub(crate) fn function_queries(function_name: &str) -> Vec<MetricQuery> {
    edge_queries(&cf_metric::FUNCTION_ERRORS, ("FunctionName", function_name))
}

/// The sums of `names` with dimensions `of` and `Region=Global`, in us-east-1.
fn edge_queries(names: &[&str], of: (&str, &str)) -> Vec<MetricQuery> {
    let dims = [of, ("Region", "Global")];
    names
        .iter()
        .map(|m| MetricQuery::new(GLOBAL_REGION, CLOUDFRONT_NAMESPACE, m, &dims, "Sum"))
        .collect()
}

/// The metric queries for one API stage (`docs/rules.md`, "Metrics read"): REST APIs by
/// `ApiName` (and `Stage`), HTTP APIs by `ApiId` (and `Stage`).
pub(crate) fn api_queries(
    region: &str,
    http: bool,
    key: &str,
    stage: Option<&str>,
) -> Vec<MetricQuery> {
    let (id_dim, e5, e4) = if http {
        ("ApiId", apigw_metric::HTTP_5XX, apigw_metric::HTTP_4XX)
    } else {
        ("ApiName", apigw_metric::REST_5XX, apigw_metric::REST_4XX)
    };
    let mut dims = vec![(id_dim, key)];
    if let Some(s) = stage {
        dims.push(("Stage", s));
    }
    let mut out: Vec<MetricQuery> = [e5, e4, apigw_metric::COUNT]
        .iter()
        .map(|m| MetricQuery::new(region, APIGW_NAMESPACE, m, &dims, "Sum"))
        .collect();
    if http {
        // Older documentation spelled an HTTP API's error count `5XXError`, as REST APIs do:
        // read both, the rules take whichever has data.
        out.push(MetricQuery::new(
            region,
            APIGW_NAMESPACE,
            apigw_metric::REST_5XX,
            &dims,
            "Sum",
        ));
    }
    for m in [apigw_metric::LATENCY, apigw_metric::INTEGRATION_LATENCY] {
        out.extend(
            LATENCY_STATS
                .iter()
                .map(|s| MetricQuery::new(region, APIGW_NAMESPACE, m, &dims, s)),
        );
    }
    out
}

/// The metric queries for one integrated function: by `FunctionName`, and for an alias or
/// version also by `FunctionName` + `Resource` (`NAME:QUALIFIER`), the series of that alias
/// alone.
pub(crate) fn lambda_queries(region: &str, name: &str) -> Vec<MetricQuery> {
    let bare = crate::evidence::lambda::bare(name);
    let mut dim_sets: Vec<Vec<(&str, &str)>> = vec![vec![("FunctionName", bare)]];
    if bare != name {
        dim_sets.push(vec![("FunctionName", bare), ("Resource", name)]);
    }
    let mut out = Vec::new();
    for dims in &dim_sets {
        for m in [
            lambda_metric::INVOCATIONS,
            lambda_metric::ERRORS,
            lambda_metric::THROTTLES,
        ] {
            out.push(MetricQuery::new(region, LAMBDA_NAMESPACE, m, dims, "Sum"));
        }
        out.extend(
            LATENCY_STATS.iter().map(|s| {
                MetricQuery::new(region, LAMBDA_NAMESPACE, lambda_metric::DURATION, dims, s)
            }),
        );
        out.push(MetricQuery::new(
            region,
            LAMBDA_NAMESPACE,
            lambda_metric::CONCURRENT,
            dims,
            "Maximum",
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::TargetGroupEvidence;

    #[test]
    fn query_count_fits_one_call_up_to_48_groups() {
        let mut alb = AlbEvidence {
            region: "us-east-1".into(),
            arn: "arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/app/web/1".into(),
            ..AlbEvidence::default()
        };
        alb.target_groups = Some(
            (0..48)
                .map(|i| TargetGroupEvidence {
                    target_group: TargetGroup {
                        target_group_arn: format!(
                            "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/tg{i}/1"
                        ),
                        ..Default::default()
                    },
                    ..Default::default()
                })
                .collect(),
        );
        let n = alb_queries(&alb).len();
        assert_eq!(n, 20 + 48 * 10);
        assert!(n <= MAX_QUERIES_PER_CALL);
    }
}
