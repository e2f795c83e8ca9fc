//! Gathering: the AWS calls of one triage, in as few sequential waves as their dependencies
//! allow, each call started as soon as the answers it needs are in (not when the whole
//! previous wave is: a wave waits for its slowest call).
//!
//! ALB alarm (2 waves; 3 when a target is draining or an SNI certificate must be described),
//! see [`alb`]:
//!   1. DescribeLoadBalancers, DescribeLoadBalancerAttributes, DescribeListeners,
//!      DescribeTargetGroups (the ARN is built from the alarm's dimension), and
//!      ListCertificates once per region.
//!   2. after the target groups and the listeners, in this order (the order their tokens are
//!      taken under AWS's rate limit, see [`calls`]): per group DescribeTargetHealth (the
//!      alarm's own groups first), GetMetricData for the load balancer and every group (≤ 500
//!      queries a call, calls concurrent), per listener DescribeRules, and per HTTPS or TLS
//!      listener DescribeListenerCertificates (its SNI certificates beside the default one);
//!      after the listeners and the certificate list: DescribeCertificate per default
//!      certificate the list cannot answer for (`alb::needs_description`).
//!   3. DescribeTargetGroupAttributes of a target group with a draining target, as soon as
//!      its health answers (the deregistration delay, for `alb.deregistration_inflight`);
//!      DescribeCertificate of an SNI certificate the list cannot answer for, as soon as its
//!      listener's certificates are in.
//!
//! Classic Load Balancer alarm (1 wave), see [`clb`]: DescribeLoadBalancers (by name),
//! DescribeInstanceHealth, DescribeLoadBalancerAttributes and GetMetricData together.
//!
//! API Gateway alarm (3 waves for a REST API, 2 for an HTTP API, more for a load balancer
//! behind an integration), see [`apigw`].
//!
//! CloudFront alarm, see [`cloudfront`]:
//!   1. GetDistributionConfig, ListHostedZonesByName, GetMetricData (CloudFront, us-east-1,
//!      with the alarm's own metrics), and DescribeLoadBalancers of the home region and the
//!      port's `origin_regions`, read before any origin is known.
//!   2. The ALB waves above for every origin named by an ELB DNS name of those regions (3
//!      waves in all). Beside them: GetOriginRequestPolicy, ListResourceRecordSets for custom
//!      origin names, DescribeLoadBalancers of other regions; an origin found that way takes
//!      its ALB waves after them (4 waves; 5 for an alias into a region not listed yet).
//!   3. Beside 2, from the configs on, the edge functions of a distribution that has any
//!      (none otherwise): ListMetrics (us-east-1, `AWS/CloudFront`; by `DistributionId` when a
//!      behaviour has Lambda@Edge, by `FunctionName` for each CloudFront Function), then
//!      GetMetricData of the error series listed (none listed: no second call), 3 waves in
//!      all: no more than an ALB origin takes, one more than a Route 53 lookup that leads
//!      nowhere. When nothing else follows the configs (S3 origins, no origin request
//!      policy), the error series are read at once instead, without ListMetrics: 2 waves
//!      instead of 1.
//!
//! Every alarm in scope is described too (`DescribeAlarms`, see [`alarm`]), in the first wave
//! beside the calls above: it adds a call, never a wave. An alarm whose payload names no metric
//! (a composite alarm) is described before its scope is known, with its children
//! ([`describe_alarm`]): one wave, two when only the description holds the rule.
//!
//! `stats.round_trips` is the longest chain of waves, the one the verdict waits for. How each
//! call is made, under the deadline and with failures as gaps, is [`calls`]; which metrics
//! are read is [`metrics`].
//!
//! Every call runs under one deadline; a call that fails or runs past it becomes a [`Gap`]
//! and the triage goes on with the rest.

mod alarm;
mod alb;
mod apigw;
mod calls;
mod clb;
mod cloudfront;
mod metrics;

use chrono::{DateTime, Duration, DurationRound, Utc};
use tokio::time::Instant;

pub use self::alarm::{AlarmLookup, AlarmRead};
use self::apigw::ApiScope;
use self::calls::Calls;
use self::cloudfront::CloudFrontScope;
pub(crate) use self::metrics::{
    alb_queries, api_queries, clb_queries, cloudfront_queries, function_queries,
    lambda_edge_queries, lambda_queries,
};
use super::cloudwatch::{MetricQuery, Metrics};
use super::port::{Port, Window};
use super::{AlbEvidence, ClbEvidence, Evidence, Gap, GatherStats};
use crate::scope::Scope;

/// How far back metrics are read.
pub(crate) const LOOKBACK_MINUTES: i64 = 120;

/// What a gathering needs besides the port.
#[derive(Debug, Clone)]
pub struct GatherOptions {
    /// The triage clock: metrics are read for the two hours before it.
    pub now: DateTime<Utc>,
    /// No call may run past this instant.
    pub deadline: Instant,
    /// Where an origin behind a custom domain name is looked for first (the Lambda's region,
    /// or the world's).
    pub home_region: String,
    /// The alarm's own metrics, read too (for the sparkline and the rules).
    pub alarm_queries: Vec<MetricQuery>,
    /// A listed certificate expiring within this much of `now` is described, so the
    /// certificate rules see its renewal status (`rules::cert::RENEWAL_HORIZON`).
    pub renewal_horizon: Duration,
}

/// The metric window for a triage at `now`: the 120 whole minutes before it.
pub fn window_for(now: DateTime<Utc>) -> Window {
    let end = now.duration_trunc(Duration::minutes(1)).unwrap_or(now);
    Window {
        start: end - Duration::minutes(LOOKBACK_MINUTES),
        end,
    }
}

/// Gathers the evidence for `scope`.
pub async fn gather<P: Port>(port: &P, scope: &Scope, opts: &GatherOptions) -> Evidence {
    run(port, scope, opts, None).await.0
}

/// Gathers the evidence for `scope` and describes the alarm in the first wave.
pub async fn gather_alarm<P: Port>(
    port: &P,
    scope: &Scope,
    opts: &GatherOptions,
    lookup: &AlarmLookup,
) -> (Evidence, AlarmRead) {
    run(port, scope, opts, Some(lookup)).await
}

/// Describes an alarm (and a composite's children) before anything else is known: its
/// answer, the failures as gaps, and the calls and waves it took.
pub async fn describe_alarm<P: Port>(
    port: &P,
    lookup: &AlarmLookup,
    deadline: Instant,
) -> (AlarmRead, Vec<Gap>, GatherStats) {
    let ctx = Calls::new(port, deadline);
    let calls_before = port.api_calls();
    let read = alarm::describe(&ctx, lookup).await;
    let stats = GatherStats {
        api_calls: port.api_calls().saturating_sub(calls_before),
        round_trips: read.waves,
    };
    (read, ctx.into_gaps(), stats)
}

async fn run<P: Port>(
    port: &P,
    scope: &Scope,
    opts: &GatherOptions,
    lookup: Option<&AlarmLookup>,
) -> (Evidence, AlarmRead) {
    let ctx = Calls::new(port, opts.deadline);
    let window = window_for(opts.now);
    let horizon = opts.now + opts.renewal_horizon;
    // A port lives across warm invocations: count this triage's calls only.
    let calls_before = port.api_calls();
    let mut metrics = Metrics::default();
    let mut albs: Vec<AlbEvidence> = scope
        .albs
        .iter()
        .map(|a| AlbEvidence {
            region: a.region.clone(),
            arn: a.arn.clone(),
            focus_target_groups: a.target_groups.clone(),
            found_via: "the alarm's LoadBalancer dimension".into(),
            ..AlbEvidence::default()
        })
        .collect();
    // Certificate names matter only for an origin's hostname check.
    let names_needed = !scope.distributions.is_empty();
    // The alarm's own metrics go out with the first metric batch there is: the alarm's load
    // balancers', else the distributions' (wave 1), else alone.
    let none: &[MetricQuery] = &[];
    let all = opts.alarm_queries.as_slice();
    let (alb_extra, cf_extra, api_extra, clb_extra) = if !albs.is_empty() {
        (all, none, none, none)
    } else if !scope.distributions.is_empty() {
        (none, all, none, none)
    } else if !scope.apis.is_empty() {
        (none, none, all, none)
    } else {
        (none, none, none, all)
    };
    // The alarm's own load balancers and the CloudFront path run side by side; the CloudFront
    // path leaves those load balancers to this one (no describe twice).
    let scope_arns: Vec<String> = albs.iter().map(|a| a.arn.clone()).collect();
    let api_part = async {
        if scope.apis.is_empty() {
            None
        } else {
            let api_scope = ApiScope {
                apis: &scope.apis,
                known: &scope_arns,
                extra_queries: api_extra,
                horizon,
                window,
            };
            Some(Box::pin(apigw::apis(&ctx, api_scope)).await)
        }
    };
    let classic_part = async {
        if scope.classic.is_empty() {
            None
        } else {
            Some(clb::classic(&ctx, &scope.classic, clb_extra, window).await)
        }
    };
    let alarm_part = async {
        match lookup {
            // Boxed, as the other branches: the join is already deep.
            Some(l) => Box::pin(alarm::describe(&ctx, l)).await,
            None => AlarmRead::default(),
        }
    };
    let ((alb_depth, alb_read), cf, api, classic, alarm_read) = futures::join!(
        alb::alb_pipeline(&ctx, &mut albs, horizon, names_needed, alb_extra, window),
        async {
            if scope.distributions.is_empty() {
                None
            } else {
                let scope = CloudFrontScope {
                    ids: &scope.distributions,
                    home_region: &opts.home_region,
                    known: &scope_arns,
                    extra_queries: cf_extra,
                    horizon,
                    window,
                };
                // Boxed: its future nests the ALB pipeline twice, too deep to lay out inline.
                Some(Box::pin(cloudfront::cloudfront(&ctx, scope)).await)
            }
        },
        api_part,
        classic_part,
        alarm_part
    );
    let mut depth = alb_depth.max(alarm_read.waves);
    for (q, s) in alb_read {
        metrics.insert(q, s);
    }
    let mut distributions = Vec::new();
    let mut cf_classic = Vec::new();
    let mut cf_apis = Vec::new();
    if let Some(cf) = cf {
        depth = depth.max(cf.depth);
        distributions = cf.dists;
        for (q, s) in cf.read {
            metrics.insert(q, s);
        }
        for (q, why) in cf.unread {
            metrics.mark_unread(q, why);
        }
        albs.extend(cf.albs);
        cf_classic = cf.classic;
        cf_apis = cf.apis;
    }
    let mut apis = cf_apis;
    if let Some(api) = api {
        depth = depth.max(api.depth);
        apis.extend(api.apis);
        for (q, s) in api.read {
            metrics.insert(q, s);
        }
        albs.extend(api.albs);
    }
    let mut classic_lbs = Vec::new();
    if let Some((clbs, read)) = classic {
        depth = depth.max(1);
        classic_lbs = clbs;
        for (q, s) in read {
            metrics.insert(q, s);
        }
    }
    if scope.albs.is_empty()
        && scope.distributions.is_empty()
        && scope.apis.is_empty()
        && scope.classic.is_empty()
        && !opts.alarm_queries.is_empty()
    {
        // An alarm on neither: its own metrics, one wave.
        depth = 1;
        for (q, s) in metrics::metric_calls(&ctx, &opts.alarm_queries, window).await {
            metrics.insert(q, s);
        }
    }
    let gaps = ctx.into_gaps();
    let evidence = Evidence {
        now: opts.now,
        window,
        albs,
        distributions,
        apis,
        classic: {
            classic_lbs.extend(
                cf_classic
                    .into_iter()
                    .filter(|c: &ClbEvidence| !scope.classic.iter().any(|r| r.name == c.name)),
            );
            classic_lbs
        },
        metrics,
        gaps,
        stats: GatherStats {
            api_calls: port.api_calls().saturating_sub(calls_before),
            round_trips: depth,
        },
    };
    (evidence, alarm_read)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_is_two_whole_hours() {
        let now = DateTime::parse_from_rfc3339("2026-11-22T12:37:30Z")
            .unwrap()
            .with_timezone(&Utc);
        let w = window_for(now);
        assert_eq!(w.end.to_rfc3339(), "2026-11-22T12:37:00+00:00");
        assert_eq!(w.start.to_rfc3339(), "2026-11-22T10:37:00+00:00");
    }
}
