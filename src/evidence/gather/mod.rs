//! Gathering: the AWS calls of one triage, in as few sequential waves as their dependencies
//! allow, each call started as soon as the answers it needs are in (not when the whole
//! previous wave is: a wave waits for its slowest call).
//!
//! ALB alarm (2 waves; 3 when a target is draining), see [`alb_pipeline`]:
//!   1. DescribeLoadBalancers, DescribeLoadBalancerAttributes, DescribeListeners,
//!      DescribeTargetGroups (the ARN is built from the alarm's dimension), and
//!      ListCertificates once per region.
//!   2. after the target groups: per group DescribeTargetHealth, and GetMetricData for the
//!      load balancer and every group (≤ 500 queries a call, calls concurrent); after the
//!      listeners: per listener DescribeRules; after the listeners and the certificate
//!      list: DescribeCertificate per certificate the list cannot answer for
//!      ([`needs_description`]).
//!   3. DescribeTargetGroupAttributes of a target group with a draining target, as soon as
//!      its health answers (the deregistration delay, for `alb.deregistration_inflight`).
//!
//! CloudFront alarm:
//!   1. GetDistributionConfig, ListHostedZonesByName, GetMetricData (CloudFront, us-east-1,
//!      with the alarm's own metrics), and DescribeLoadBalancers of the home region and the
//!      port's `origin_regions`, read before any origin is known.
//!   2. The ALB waves above for every origin named by an ELB DNS name of those regions (3
//!      waves in all). Beside them: GetOriginRequestPolicy, ListResourceRecordSets for custom
//!      origin names, DescribeLoadBalancers of other regions; an origin found that way takes
//!      its ALB waves after them (4 waves; 5 for an alias into a region not listed yet).
//!
//! `stats.round_trips` is the longest chain of waves, the one the verdict waits for.
//!
//! Every call runs under one deadline; a call that fails or runs past it becomes a [`Gap`]
//! and the triage goes on with the rest.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, DurationRound, Utc};
use futures::future::join_all;
use tokio::sync::OnceCell;
use tokio::time::Instant;

use super::arn;
use super::metrics::{MetricQuery, Metrics, Series};
use super::model::{
    Attribute, CertificateDetail, CertificateSummary, HostedZone, Listener, LoadBalancer,
    ResourceRecordSet, Rule, TargetGroup, TargetHealthDescription,
};
use super::port::{Answer, AwsPort, Op, SourceError, Window};
use super::world::fqdn;
use super::{
    AlbEvidence, DistributionEvidence, Evidence, Gap, GatherStats, OriginLink, TargetGroupEvidence,
};
use crate::scope::{ALB_NAMESPACE, CLOUDFRONT_NAMESPACE, Scope};

/// GetMetricData accepts at most 500 queries a call.
pub const MAX_QUERIES_PER_CALL: usize = 500;
/// CloudFront metrics live in us-east-1.
pub const CLOUDFRONT_METRICS_REGION: &str = "us-east-1";
/// How far back metrics are read.
pub const LOOKBACK_MINUTES: i64 = 120;

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
}

/// `ListCertificates` of one region, read once per triage; `None` after a failure.
type CertificateList = Option<Arc<Vec<CertificateSummary>>>;

struct Ctx<'a, P> {
    port: &'a P,
    deadline: Instant,
    gaps: Mutex<Vec<Gap>>,
    /// `ListCertificates` per region: the first branch that needs a region's list reads it;
    /// a branch that needs it while it is being read waits for that answer.
    certificate_lists: Mutex<BTreeMap<String, Arc<OnceCell<CertificateList>>>>,
}

impl<P: AwsPort> Ctx<'_, P> {
    /// Runs one AWS call under the deadline; a failure is returned for the caller to judge.
    /// Past the deadline a call is not started at all: `timeout_at` would still run a call
    /// that answers at once (a world), so a huge world could keep the triage busy past it.
    async fn try_call<T>(&self, fut: impl Future<Output = Answer<T>>) -> Answer<T> {
        let late = || SourceError::new("DeadlineExceeded", "no answer before the triage deadline");
        if Instant::now() >= self.deadline {
            return Err(late());
        }
        match tokio::time::timeout_at(self.deadline, fut).await {
            Ok(answer) => answer,
            Err(_) => Err(late()),
        }
    }

    /// Runs one AWS call under the deadline; a failure becomes a gap.
    async fn call<T>(
        &self,
        op: Op,
        resource: Option<&str>,
        fut: impl Future<Output = Answer<T>>,
    ) -> Option<T> {
        match self.try_call(fut).await {
            Ok(v) => Some(v),
            Err(e) => {
                self.gap(op.iam_name(), resource, &e);
                None
            }
        }
    }

    /// The certificate list of `region`, read by the first caller (a failed list is no gap:
    /// every certificate is then described, and fails there).
    async fn certificate_list(&self, region: &str) -> CertificateList {
        let cell = match self.certificate_lists.lock() {
            Ok(mut lists) => Arc::clone(lists.entry(region.to_owned()).or_default()),
            Err(_) => return None,
        };
        cell.get_or_init(|| async {
            self.try_call(self.port.list_certificates(region))
                .await
                .ok()
                .map(Arc::new)
        })
        .await
        .clone()
    }

    /// Marks the lists of `regions` as read by this triage, before any of them is asked for,
    /// so that [`Self::certificate_list_if_read`] waits for them whatever the poll order.
    fn claim_certificate_lists(&self, regions: &BTreeSet<&str>) {
        if let Ok(mut lists) = self.certificate_lists.lock() {
            for r in regions {
                lists.entry((*r).to_owned()).or_default();
            }
        }
    }

    /// The certificate list of `region` if some branch reads or has read it, else `None`
    /// without a call (a certificate outside its load balancer's region is described).
    async fn certificate_list_if_read(&self, region: &str) -> CertificateList {
        let listed = self
            .certificate_lists
            .lock()
            .ok()
            .is_some_and(|lists| lists.contains_key(region));
        if listed {
            self.certificate_list(region).await
        } else {
            None
        }
    }

    fn gap(&self, source: &str, resource: Option<&str>, e: &SourceError) {
        let gap = Gap {
            source: source.to_owned(),
            reason: crate::error::short(&e.to_string()),
            resource: resource.map(str::to_owned),
        };
        if let Ok(mut gaps) = self.gaps.lock()
            && !gaps.contains(&gap)
        {
            gaps.push(gap);
        }
    }
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
pub async fn gather<P: AwsPort>(port: &P, scope: &Scope, opts: &GatherOptions) -> Evidence {
    let ctx = Ctx {
        port,
        deadline: opts.deadline,
        gaps: Mutex::new(Vec::new()),
        certificate_lists: Mutex::new(BTreeMap::new()),
    };
    let window = window_for(opts.now);
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
    let (alb_extra, cf_extra) = if !albs.is_empty() {
        (opts.alarm_queries.as_slice(), none)
    } else {
        (none, opts.alarm_queries.as_slice())
    };
    // The alarm's own load balancers and the CloudFront path run side by side; the CloudFront
    // path leaves those load balancers to this one (no describe twice).
    let scope_arns: Vec<String> = albs.iter().map(|a| a.arn.clone()).collect();
    let ((alb_depth, alb_read), cf) = futures::join!(
        alb_pipeline(&ctx, &mut albs, opts.now, names_needed, alb_extra, window),
        async {
            if scope.distributions.is_empty() {
                None
            } else {
                let scope = CloudFrontScope {
                    ids: &scope.distributions,
                    home_region: &opts.home_region,
                    known: &scope_arns,
                    extra_queries: cf_extra,
                    now: opts.now,
                    window,
                };
                Some(cloudfront(&ctx, scope).await)
            }
        }
    );
    let mut depth = alb_depth;
    for (q, s) in alb_read {
        metrics.insert(q, s);
    }
    let mut distributions = Vec::new();
    if let Some(cf) = cf {
        depth = depth.max(cf.depth);
        distributions = cf.dists;
        for (q, s) in cf.read {
            metrics.insert(q, s);
        }
        albs.extend(cf.albs);
    } else if albs.is_empty() && !opts.alarm_queries.is_empty() {
        // An alarm on neither: its own metrics, one wave.
        depth = 1;
        for (q, s) in metric_calls(&ctx, &opts.alarm_queries, window).await {
            metrics.insert(q, s);
        }
    }
    // Calls of a wave finish in any order: sort, so a replay lists the gaps the same way.
    let mut gaps = ctx.gaps.into_inner().unwrap_or_default();
    gaps.sort_by(|a, b| {
        (&a.source, &a.resource, &a.reason).cmp(&(&b.source, &b.resource, &b.reason))
    });
    Evidence {
        now: opts.now,
        window,
        albs,
        distributions,
        metrics,
        gaps,
        stats: GatherStats {
            api_calls: port.api_calls().saturating_sub(calls_before),
            round_trips: depth,
        },
    }
}

/// Whether a listed certificate must be described: the list says nothing of renewal or
/// validation, which matter for a certificate that is not issued, expired or near expiry
/// (`cert.renewal_risk`, `cf.origin_cert_expired`); and it may not carry every name, which
/// the origin hostname check needs.
pub fn needs_description(c: &CertificateSummary, now: DateTime<Utc>, names_needed: bool) -> bool {
    let horizon = now + Duration::days(crate::rules::cert::RENEWAL_HORIZON_DAYS);
    c.detail.status.as_deref() != Some("ISSUED")
        || c.detail.not_after.is_none_or(|t| t <= horizon)
        || (names_needed && !c.names_complete)
}

fn has_draining_target(health: &Option<Vec<TargetHealthDescription>>) -> bool {
    health
        .iter()
        .flatten()
        .any(|h| h.target_health.state.as_deref() == Some("draining"))
}

/// Health of one target group, then (a further wave, only then) its attributes when a target
/// is draining: the deregistration delay is the one attribute the rules read, and only for
/// draining targets (`alb.deregistration_inflight`).
async fn health_and_attributes<P: AwsPort>(
    ctx: &Ctx<'_, P>,
    region: &str,
    arn: &str,
) -> (Option<Vec<TargetHealthDescription>>, Option<Vec<Attribute>>) {
    let port = ctx.port;
    let health = ctx
        .call(
            Op::DescribeTargetHealth,
            Some(arn),
            port.describe_target_health(region, arn),
        )
        .await;
    let attributes = if has_draining_target(&health) {
        ctx.call(
            Op::DescribeTargetGroupAttributes,
            Some(arn),
            port.describe_target_group_attributes(region, arn),
        )
        .await
    } else {
        None
    };
    (health, attributes)
}

/// One call per load balancer of `albs`, concurrent, each named by the load balancer's ARN.
fn per_alb<'v, P, T, F, Fut>(
    ctx: &'v Ctx<'_, P>,
    albs: &'v [AlbEvidence],
    op: Op,
    call: F,
) -> impl Future<Output = Vec<Option<T>>> + 'v
where
    P: AwsPort,
    F: Fn(&'v AlbEvidence) -> Fut + 'v,
    Fut: Future<Output = Answer<T>> + 'v,
    T: 'v,
{
    join_all(
        albs.iter()
            .map(move |a| ctx.call(op, Some(&a.arn), call(a))),
    )
}

/// What the listener side of [`alb_pipeline`] read: per load balancer its listeners; per
/// listener its rules; the certificates taken from a list and those described.
struct ListenerSide {
    listeners: Vec<Option<Vec<Listener>>>,
    rules: Vec<(ByAlb, Option<Vec<Rule>>)>,
    certificates: Vec<(ByAlb, Option<CertificateDetail>)>,
}

/// A resource of one load balancer of the pipeline: its index, and the resource's ARN.
type ByAlb = (usize, String);

/// The ALB calls for `albs`, each as soon as what it needs has answered, not when the whole
/// previous wave has (2 waves; 3 when a target is draining):
/// - wave 1: the load balancer (when not known yet), its attributes, listeners and target
///   groups, and the certificate list of each region not listed yet;
/// - after a load balancer's target groups: their health (then the attributes of a group
///   with a draining target), and, once every group list is in, GetMetricData for the load
///   balancers, their groups and `extra_queries`;
/// - after its listeners: their rules; after its listeners and the region's certificate
///   list: the certificates the list cannot answer for ([`needs_description`]).
///
/// Why per dependency: the waves are what the verdict waits for, and a wave waits for its
/// slowest call. ACM's list (another service, up to 1,000 certificates) or one slow ELB
/// answer no longer holds up the calls that do not need it.
///
/// Returns the waves on the longest chain and the metrics read.
async fn alb_pipeline<P: AwsPort>(
    ctx: &Ctx<'_, P>,
    albs: &mut [AlbEvidence],
    now: DateTime<Utc>,
    names_needed: bool,
    extra_queries: &[MetricQuery],
    window: Window,
) -> (usize, Vec<(MetricQuery, Series)>) {
    if albs.is_empty() {
        return (0, Vec::new());
    }
    let port = ctx.port;
    let view: &[AlbEvidence] = albs;
    let lbs = join_all(view.iter().map(|a| async move {
        if a.load_balancer.is_some() {
            return None;
        }
        ctx.call(
            Op::DescribeLoadBalancers,
            Some(&a.arn),
            port.describe_load_balancers(&a.region, Some(&a.arn)),
        )
        .await
        .and_then(|v| v.into_iter().next())
    }));
    let attrs = per_alb(ctx, view, Op::DescribeLoadBalancerAttributes, |a| {
        port.describe_load_balancer_attributes(&a.region, &a.arn)
    });
    // The certificate list of each region, read beside the listeners (a listener's
    // certificate is in its load balancer's region).
    let regions: BTreeSet<&str> = view.iter().map(|a| a.region.as_str()).collect();
    ctx.claim_certificate_lists(&regions);
    let lists = join_all(regions.iter().map(|r| ctx.certificate_list(r)));
    // Groups, then their health and the metrics.
    let groups = async {
        let tgs = per_alb(ctx, view, Op::DescribeTargetGroups, |a| {
            port.describe_target_groups(&a.region, &a.arn)
        })
        .await;
        let mut queries: Vec<MetricQuery> = Vec::new();
        // (alb index, tg index, region, arn)
        let mut keys: Vec<(usize, usize, &str, String)> = Vec::new();
        for (i, (a, t)) in view.iter().zip(&tgs).enumerate() {
            let groups = t.iter().flatten();
            queries.extend(alb_queries_for(&a.region, a.dimension(), groups.clone()));
            for (j, tg) in groups.enumerate() {
                keys.push((i, j, a.region.as_str(), tg.target_group_arn.clone()));
            }
        }
        add_missing(&mut queries, extra_queries);
        let health = join_all(
            keys.iter()
                .map(|(_, _, region, arn)| health_and_attributes(ctx, region, arn)),
        );
        let (health, read) = futures::join!(health, metric_calls(ctx, &queries, window));
        let health: Vec<_> = keys
            .into_iter()
            .map(|(i, j, _, _)| (i, j))
            .zip(health)
            .collect();
        (tgs, health, read)
    };
    // Listeners, then their rules, and the certificates once the region's list is in.
    let listener_side = async {
        let listeners = per_alb(ctx, view, Op::DescribeListeners, |a| {
            port.describe_listeners(&a.region, &a.arn)
        })
        .await;
        // (alb index, region, arn)
        let mut listener_keys: Vec<(usize, &str, &str)> = Vec::new();
        let mut cert_keys: Vec<(usize, String, &str)> = Vec::new();
        for (i, (a, ls)) in view.iter().zip(&listeners).enumerate() {
            for l in ls.iter().flatten() {
                listener_keys.push((i, a.region.as_str(), l.listener_arn.as_str()));
                for c in &l.certificates {
                    // A certificate lives in the region of its ARN (ACM is regional).
                    let region = arn::region(&c.certificate_arn).unwrap_or(&a.region);
                    if !cert_keys
                        .iter()
                        .any(|(k, _, arn)| *k == i && *arn == c.certificate_arn)
                    {
                        cert_keys.push((i, region.to_owned(), c.certificate_arn.as_str()));
                    }
                }
            }
        }
        let rules = join_all(listener_keys.iter().map(|(_, region, arn)| {
            ctx.call(
                Op::DescribeRules,
                Some(arn),
                port.describe_rules(region, arn),
            )
        }));
        let certificates = join_all(cert_keys.iter().map(|(_, region, arn)| async move {
            // Taken from the list when it answers for the certificate well enough.
            let listed = ctx.certificate_list_if_read(region).await.and_then(|list| {
                list.iter()
                    .find(|c| c.detail.certificate_arn == *arn)
                    .filter(|c| !needs_description(c, now, names_needed))
                    .map(|c| c.detail.clone())
            });
            match listed {
                Some(detail) => Some(detail),
                None => {
                    ctx.call(
                        Op::DescribeCertificate,
                        Some(arn),
                        port.describe_certificate(region, arn),
                    )
                    .await
                }
            }
        }));
        let (rules, certificates) = futures::join!(rules, certificates);
        let rules = listener_keys
            .iter()
            .map(|(i, _, arn)| (*i, (*arn).to_owned()))
            .zip(rules)
            .collect();
        let certificates = cert_keys
            .iter()
            .map(|(i, _, arn)| (*i, (*arn).to_owned()))
            .zip(certificates)
            .collect();
        ListenerSide {
            listeners,
            rules,
            certificates,
        }
    };
    let (lbs, attrs, (tgs, health, read), side, _) =
        futures::join!(lbs, attrs, groups, listener_side, lists);
    // Asked for, whether or not they could be read.
    let draining = health.iter().any(|(_, (h, _))| has_draining_target(h));
    for (((alb, lb), at), tg) in albs.iter_mut().zip(lbs).zip(attrs).zip(tgs) {
        if lb.is_some() {
            alb.load_balancer = lb;
        }
        alb.attributes = at;
        alb.target_groups = tg.map(|v| {
            v.into_iter()
                .map(|t| TargetGroupEvidence {
                    target_group: t,
                    attributes: None,
                    health: None,
                })
                .collect()
        });
    }
    for ((i, j), (h, a)) in health {
        if let Some(tg) = albs
            .get_mut(i)
            .and_then(|alb| alb.target_groups.as_mut())
            .and_then(|tgs| tgs.get_mut(j))
        {
            tg.health = h;
            tg.attributes = a;
        }
    }
    for (alb, li) in albs.iter_mut().zip(side.listeners) {
        alb.listeners = li;
    }
    for ((i, arn), r) in side.rules {
        if let (Some(alb), Some(r)) = (albs.get_mut(i), r) {
            alb.rules.insert(arn, r);
        }
    }
    for ((i, arn), c) in side.certificates {
        if let (Some(alb), Some(c)) = (albs.get_mut(i), c) {
            alb.certificates.insert(arn, c);
        }
    }
    (if draining { 3 } else { 2 }, read)
}

/// Adds to `queries` those of `extra` it does not hold yet (the alarm's own metrics).
fn add_missing(queries: &mut Vec<MetricQuery>, extra: &[MetricQuery]) {
    for q in extra {
        if !queries.contains(q) {
            queries.push(q.clone());
        }
    }
}

/// Every query of `queries`, grouped by region, at most 500 a call, all calls concurrent.
async fn metric_calls<P: AwsPort>(
    ctx: &Ctx<'_, P>,
    queries: &[MetricQuery],
    window: Window,
) -> Vec<(MetricQuery, Series)> {
    let mut by_region: BTreeMap<&str, Vec<&MetricQuery>> = BTreeMap::new();
    for q in queries {
        by_region.entry(q.region.as_str()).or_default().push(q);
    }
    let mut batches: Vec<(&str, Vec<MetricQuery>)> = Vec::new();
    for (region, qs) in by_region {
        for chunk in qs.chunks(MAX_QUERIES_PER_CALL) {
            batches.push((region, chunk.iter().map(|q| (*q).clone()).collect()));
        }
    }
    let answers = join_all(batches.iter().map(|(region, qs)| async move {
        let resource = format!("{} queries in {region}", qs.len());
        ctx.call(
            Op::GetMetricData,
            Some(&resource),
            ctx.port.get_metric_data(region, qs, window),
        )
        .await
    }))
    .await;
    let mut out = Vec::new();
    for ((_, qs), answer) in batches.into_iter().zip(answers) {
        if let Some(series) = answer {
            out.extend(qs.into_iter().zip(series));
        }
    }
    out
}

const ALB_LB_SUMS: [&str; 16] = [
    "RequestCount",
    "HTTPCode_ELB_5XX_Count",
    "HTTPCode_ELB_500_Count",
    "HTTPCode_ELB_502_Count",
    "HTTPCode_ELB_503_Count",
    "HTTPCode_ELB_504_Count",
    "HTTPCode_ELB_4XX_Count",
    "HTTPCode_Target_5XX_Count",
    "HTTPCode_Target_2XX_Count",
    "TargetConnectionErrorCount",
    "TargetTLSNegotiationErrorCount",
    "ClientTLSNegotiationErrorCount",
    "RejectedConnectionCount",
    "LambdaUserError",
    "LambdaInternalError",
    "ELBAuthError",
];

const ALB_TG_SUMS: [&str; 5] = [
    "RequestCount",
    "HTTPCode_Target_5XX_Count",
    "HTTPCode_Target_2XX_Count",
    "TargetConnectionErrorCount",
    "TargetTLSNegotiationErrorCount",
];

const LATENCY_STATS: [&str; 3] = ["Average", "Maximum", "p99"];

/// The metric queries for one load balancer and its target groups (causes.md, "Metrics").
pub fn alb_queries(alb: &AlbEvidence) -> Vec<MetricQuery> {
    alb_queries_for(
        &alb.region,
        alb.dimension(),
        alb.target_groups.iter().flatten().map(|t| &t.target_group),
    )
}

/// [`alb_queries`] from the load balancer's region, `LoadBalancer` dimension and groups.
fn alb_queries_for<'t>(
    region: &str,
    lb: &str,
    groups: impl Iterator<Item = &'t TargetGroup>,
) -> Vec<MetricQuery> {
    let lb_dims = [("LoadBalancer", lb)];
    let mut out: Vec<MetricQuery> = ALB_LB_SUMS
        .iter()
        .map(|m| MetricQuery::new(region, ALB_NAMESPACE, m, &lb_dims, "Sum"))
        .collect();
    out.extend(
        LATENCY_STATS
            .iter()
            .map(|s| MetricQuery::new(region, ALB_NAMESPACE, "TargetResponseTime", &lb_dims, s)),
    );
    for tg in groups {
        let Some(tg_dim) = arn::target_group_dimension(&tg.target_group_arn) else {
            continue;
        };
        let dims = [("LoadBalancer", lb), ("TargetGroup", tg_dim)];
        out.push(MetricQuery::new(
            region,
            ALB_NAMESPACE,
            "HealthyHostCount",
            &dims,
            "Minimum",
        ));
        out.push(MetricQuery::new(
            region,
            ALB_NAMESPACE,
            "UnHealthyHostCount",
            &dims,
            "Maximum",
        ));
        out.extend(
            ALB_TG_SUMS
                .iter()
                .map(|m| MetricQuery::new(region, ALB_NAMESPACE, m, &dims, "Sum")),
        );
        out.extend(
            LATENCY_STATS
                .iter()
                .map(|s| MetricQuery::new(region, ALB_NAMESPACE, "TargetResponseTime", &dims, s)),
        );
        if tg.target_type.as_deref() == Some("lambda") {
            for m in ["LambdaUserError", "LambdaInternalError"] {
                out.push(MetricQuery::new(region, ALB_NAMESPACE, m, &dims, "Sum"));
            }
        }
    }
    out
}

/// The CloudFront metric queries for one distribution (us-east-1, `Region=Global`).
pub fn cloudfront_queries(distribution_id: &str) -> Vec<MetricQuery> {
    let dims = [("DistributionId", distribution_id), ("Region", "Global")];
    let r = CLOUDFRONT_METRICS_REGION;
    let mut out = vec![MetricQuery::new(
        r,
        CLOUDFRONT_NAMESPACE,
        "Requests",
        &dims,
        "Sum",
    )];
    for m in [
        "5xxErrorRate",
        "4xxErrorRate",
        "TotalErrorRate",
        "502ErrorRate",
        "503ErrorRate",
        "504ErrorRate",
        "CacheHitRate",
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
            "OriginLatency",
            &dims,
            s,
        ));
    }
    out
}

/// What a custom origin's domain name is, before any lookup.
enum OriginName {
    /// An ELB DNS name, with its region.
    Elb(String),
    /// Anything else: to be followed through Route 53.
    Custom,
    /// Not a custom origin (S3, VPC origin, ...): not followed.
    Skip(&'static str),
}

fn classify_origin(origin: &super::model::Origin) -> OriginName {
    if origin.custom_origin_config.is_none() {
        return if origin.vpc_origin_config.is_some() {
            OriginName::Skip("a VPC origin: not followed")
        } else {
            OriginName::Skip("not a custom origin")
        };
    }
    match arn::elb_dns_region(&origin.domain_name) {
        Some(region) => OriginName::Elb(region),
        None => OriginName::Custom,
    }
}

/// The public hosted zone with the longest name that contains `domain`.
fn zone_for<'z>(zones: &'z [HostedZone], domain: &str) -> Option<&'z HostedZone> {
    let d = fqdn(domain).to_ascii_lowercase();
    zones
        .iter()
        .filter(|z| !z.config.as_ref().is_some_and(|c| c.private_zone))
        .filter(|z| {
            let zn = fqdn(&z.name).to_ascii_lowercase();
            d == zn || d.ends_with(&format!(".{zn}"))
        })
        .max_by_key(|z| z.name.len())
}

/// The ELB DNS name a record points to: an alias target, or a CNAME value.
fn record_target(records: &[ResourceRecordSet]) -> Option<String> {
    records.iter().find_map(|r| {
        if let Some(alias) = &r.alias_target {
            return Some(alias.dns_name.clone());
        }
        (r.kind == "CNAME")
            .then(|| r.resource_records.first().map(|v| v.value.clone()))
            .flatten()
    })
}

/// What the CloudFront path hands back: the distributions, the load balancers behind their
/// origins (their first ALB wave done; those in `known` left out), the CloudFront metrics,
/// and its sequential waves.
struct CloudFrontPart {
    dists: Vec<DistributionEvidence>,
    albs: Vec<AlbEvidence>,
    read: Vec<(MetricQuery, Series)>,
    depth: usize,
}

/// Load balancer lists by region, as answered (a failure becomes a gap only where an origin
/// needs the list).
type LbLists = BTreeMap<String, Answer<Vec<LoadBalancer>>>;

/// What [`cloudfront`] gathers for: the distributions, and what it needs besides.
struct CloudFrontScope<'s> {
    ids: &'s [String],
    /// Where an origin behind a custom name is looked for first.
    home_region: &'s str,
    /// Load balancers the alarm names (gathered by the ALB path, only linked here).
    known: &'s [String],
    /// The alarm's own metrics, read with the CloudFront metrics.
    extra_queries: &'s [MetricQuery],
    now: DateTime<Utc>,
    window: Window,
}

/// CloudFront waves: distribution configs, origin request policies, and the origin ALBs.
///
/// Wave 1 reads the load balancer lists of the home region and the port's `origin_regions`
/// alongside the configs, before any origin is known: an origin named by an ELB DNS name of
/// one of those regions (the common case) goes straight to its ALB describe wave, while
/// policies and Route 53 records are read beside it. One free call per region, wasted when
/// no origin is a load balancer.
async fn cloudfront<P: AwsPort>(ctx: &Ctx<'_, P>, scope: CloudFrontScope<'_>) -> CloudFrontPart {
    let CloudFrontScope {
        ids,
        home_region,
        known,
        extra_queries,
        now,
        window,
    } = scope;
    let port = ctx.port;
    // Wave 1.
    let listed: BTreeSet<String> = std::iter::once(home_region.to_owned())
        .chain(port.origin_regions())
        .collect();
    let mut cf_queries: Vec<MetricQuery> =
        ids.iter().flat_map(|id| cloudfront_queries(id)).collect();
    add_missing(&mut cf_queries, extra_queries);
    let configs = join_all(ids.iter().map(|id| {
        ctx.call(
            Op::GetDistributionConfig,
            Some(id),
            port.get_distribution_config(id),
        )
    }));
    let zones = ctx.try_call(port.list_hosted_zones());
    let lbs = join_all(
        listed
            .iter()
            .map(|r| ctx.try_call(port.describe_load_balancers(r, None))),
    );
    let (configs, zones, lbs, mut read) =
        futures::join!(configs, zones, lbs, metric_calls(ctx, &cf_queries, window));
    let lb_lists: LbLists = listed.into_iter().zip(lbs).collect();
    let mut dists: Vec<DistributionEvidence> = ids
        .iter()
        .zip(configs)
        .map(|(id, c)| DistributionEvidence {
            id: id.clone(),
            config: c.map(|c| c.distribution_config),
            ..DistributionEvidence::default()
        })
        .collect();

    // What wave 2 needs: policies, records, and the lists of regions not read yet.
    let mut policy_ids: BTreeSet<String> = BTreeSet::new();
    let mut regions: BTreeSet<String> = BTreeSet::new();
    // (dist index, origin id, domain, zone short id)
    let mut lookups: Vec<(usize, String, String, String)> = Vec::new();
    let mut zones_needed = false;
    for (i, d) in dists.iter_mut().enumerate() {
        let Some(cfg) = &d.config else { continue };
        let behaviors = std::iter::once(&cfg.default_cache_behavior)
            .chain(cfg.cache_behaviors.iter().flat_map(|b| &b.items));
        for b in behaviors {
            if let Some(p) = &b.origin_request_policy_id {
                policy_ids.insert(p.clone());
            }
        }
        for o in &cfg.origins.items {
            let mut link = OriginLink {
                origin_id: o.id.clone(),
                domain_name: o.domain_name.clone(),
                ..OriginLink::default()
            };
            match classify_origin(o) {
                OriginName::Skip(why) => link.how = why.into(),
                OriginName::Elb(region) => {
                    link.elb_dns_name = Some(arn::normalize_dns(&o.domain_name));
                    link.how = "ELB DNS name".into();
                    if !lb_lists.contains_key(&region) {
                        regions.insert(region);
                    }
                }
                OriginName::Custom => {
                    zones_needed = true;
                    match &zones {
                        Ok(z) => match zone_for(z, &o.domain_name) {
                            Some(zone) => {
                                link.how = format!("Route 53 zone `{}`", zone.name);
                                lookups.push((
                                    i,
                                    o.id.clone(),
                                    o.domain_name.clone(),
                                    zone.short_id().to_owned(),
                                ));
                            }
                            None => {
                                link.how = format!(
                                    "no public hosted zone of this account contains `{}`",
                                    o.domain_name
                                );
                            }
                        },
                        Err(e) => link.how = format!("hosted zones unreadable: {}", e.code),
                    }
                }
            }
            d.origins.push(link);
        }
    }
    if zones_needed && let Err(e) = &zones {
        ctx.gap(Op::ListHostedZonesByName.iam_name(), None, e);
    }

    // Origins whose load balancer list is in hand are linked now; the rest after wave 2.
    let mut linked: BTreeSet<(usize, String)> = BTreeSet::new();
    let mut early = link_origins(ctx, &mut dists, &lb_lists, &mut linked, known, false);
    let early_known: Vec<String> = known
        .iter()
        .cloned()
        .chain(early.iter().map(|a| a.arn.clone()))
        .collect();
    let wave2 = Wave2 {
        policy_ids,
        regions,
        lookups,
    };
    let after = AfterWave1 {
        wave2,
        lb_lists,
        known: &early_known,
        now,
        window,
    };
    let ((early_depth, early_read), (late, late_depth, late_read)) = futures::join!(
        alb_pipeline(ctx, &mut early, now, true, &[], window),
        origins_after_wave1(ctx, &mut dists, &mut linked, after)
    );
    early.extend(late);
    read.extend(early_read);
    read.extend(late_read);
    CloudFrontPart {
        dists,
        albs: early,
        read,
        depth: 1 + early_depth.max(late_depth),
    }
}

/// The calls that wait for the distribution configs.
struct Wave2 {
    policy_ids: BTreeSet<String>,
    regions: BTreeSet<String>,
    lookups: Vec<(usize, String, String, String)>,
}

/// What [`origins_after_wave1`] starts from.
struct AfterWave1<'k> {
    wave2: Wave2,
    lb_lists: LbLists,
    /// Load balancers gathered elsewhere (the alarm's, the origins linked in wave 1).
    known: &'k [String],
    now: DateTime<Utc>,
    window: Window,
}

/// Wave 2 (policies, Route 53 records, load balancer lists of other regions), a further list
/// wave for an alias into a region not listed yet (rare), then the ALB calls
/// ([`alb_pipeline`]) for the load balancers found this way and not in `known`. Returns
/// them, the waves taken and the metrics read.
async fn origins_after_wave1<P: AwsPort>(
    ctx: &Ctx<'_, P>,
    dists: &mut [DistributionEvidence],
    linked: &mut BTreeSet<(usize, String)>,
    after: AfterWave1<'_>,
) -> (Vec<AlbEvidence>, usize, Vec<(MetricQuery, Series)>) {
    let port = ctx.port;
    let AfterWave1 {
        wave2,
        mut lb_lists,
        known,
        now,
        window,
    } = after;
    let Wave2 {
        policy_ids,
        regions,
        lookups,
    } = wave2;
    let mut depth = 0;
    if !policy_ids.is_empty() || !lookups.is_empty() || !regions.is_empty() {
        depth += 1;
        let policies = join_all(policy_ids.iter().map(|id| {
            ctx.call(
                Op::GetOriginRequestPolicy,
                Some(id),
                port.get_origin_request_policy(id),
            )
        }));
        let records = join_all(lookups.iter().map(|(_, _, domain, zone)| {
            ctx.call(
                Op::ListResourceRecordSets,
                Some(domain),
                port.list_resource_record_sets(zone, domain),
            )
        }));
        let lbs = join_all(
            regions
                .iter()
                .map(|r| ctx.try_call(port.describe_load_balancers(r, None))),
        );
        let (policies, records, lbs) = futures::join!(policies, records, lbs);
        for (id, p) in policy_ids.iter().zip(policies) {
            if let Some(p) = p {
                for d in dists.iter_mut() {
                    d.origin_request_policies
                        .insert(id.clone(), p.origin_request_policy.clone());
                }
            }
        }
        lb_lists.extend(regions.into_iter().zip(lbs));
        for ((i, origin_id, domain, _), recs) in lookups.iter().zip(records) {
            let Some(link) = dists
                .get_mut(*i)
                .and_then(|d| d.origins.iter_mut().find(|o| o.origin_id == *origin_id))
            else {
                continue;
            };
            match recs.as_deref().and_then(record_target) {
                Some(target) if arn::elb_dns_region(&target).is_some() => {
                    link.how = format!("{} → `{}`", link.how, target.trim_end_matches('.'));
                    link.elb_dns_name = Some(arn::normalize_dns(&target));
                }
                Some(target) => {
                    link.how = format!(
                        "{} → `{}`, which is no load balancer name",
                        link.how,
                        target.trim_end_matches('.')
                    );
                }
                None if recs.is_some() => {
                    link.how = format!("{}: no alias or CNAME record named `{domain}`", link.how);
                }
                None => {}
            }
        }
    }

    // An alias into a region not listed yet (rare): one more wave.
    let missing: BTreeSet<String> = dists
        .iter()
        .flat_map(|d| &d.origins)
        .filter_map(|o| o.elb_dns_name.as_deref().and_then(arn::elb_dns_region))
        .filter(|r| !lb_lists.contains_key(r))
        .collect();
    if !missing.is_empty() {
        depth += 1;
        let lbs = join_all(
            missing
                .iter()
                .map(|r| ctx.try_call(port.describe_load_balancers(r, None))),
        )
        .await;
        lb_lists.extend(missing.into_iter().zip(lbs));
    }

    let mut albs = link_origins(ctx, dists, &lb_lists, linked, known, true);
    let (alb_depth, read) = alb_pipeline(ctx, &mut albs, now, true, &[], window).await;
    (albs, depth + alb_depth, read)
}

/// Links origins to load balancers by DNS name, from the lists in `lb_lists`, and returns
/// the load balancers found that are not in `known` (each once). Origins in `linked` are done
/// already and skipped; those handled here are added to it. Before the last pass
/// (`last == false`), an origin whose DNS name or region list is not known yet waits; in the
/// last pass it gets its explanation, and a gap when it should have led somewhere.
fn link_origins<P: AwsPort>(
    ctx: &Ctx<'_, P>,
    dists: &mut [DistributionEvidence],
    lb_lists: &LbLists,
    linked: &mut BTreeSet<(usize, String)>,
    known: &[String],
    last: bool,
) -> Vec<AlbEvidence> {
    let mut albs: Vec<AlbEvidence> = Vec::new();
    for (i, d) in dists.iter_mut().enumerate() {
        for o in &mut d.origins {
            if linked.contains(&(i, o.origin_id.clone())) {
                continue;
            }
            let Some(dns) = o.elb_dns_name.clone() else {
                if !last {
                    continue;
                }
                if !o.how.starts_with("not a custom") && !o.how.starts_with("a VPC") {
                    ctx.gap(
                        "origin-resolution",
                        Some(&o.domain_name),
                        &SourceError::new(
                            "NoLoadBalancerFound",
                            format!("origin `{}`: {}", o.origin_id, o.how),
                        ),
                    );
                }
                linked.insert((i, o.origin_id.clone()));
                continue;
            };
            let Some(region) = arn::elb_dns_region(&dns) else {
                linked.insert((i, o.origin_id.clone()));
                continue;
            };
            let list = match lb_lists.get(&region) {
                Some(Ok(list)) => list,
                Some(Err(e)) => {
                    ctx.gap(Op::DescribeLoadBalancers.iam_name(), Some(&region), e);
                    o.how = format!("{}; load balancers of `{region}` unreadable", o.how);
                    linked.insert((i, o.origin_id.clone()));
                    continue;
                }
                None if !last => continue,
                None => {
                    o.how = format!("{}; load balancers of `{region}` unreadable", o.how);
                    linked.insert((i, o.origin_id.clone()));
                    continue;
                }
            };
            linked.insert((i, o.origin_id.clone()));
            let found = list.iter().find(|lb| {
                lb.dns_name
                    .as_deref()
                    .is_some_and(|n| arn::normalize_dns(n) == dns)
            });
            match found {
                Some(lb) => {
                    o.alb_arn = Some(lb.load_balancer_arn.clone());
                    if !known.contains(&lb.load_balancer_arn)
                        && !albs.iter().any(|a| a.arn == lb.load_balancer_arn)
                    {
                        albs.push(AlbEvidence {
                            region: region.clone(),
                            arn: lb.load_balancer_arn.clone(),
                            load_balancer: Some(lb.clone()),
                            found_via: format!(
                                "CloudFront {} origin `{}` ({})",
                                d.id, o.origin_id, o.how
                            ),
                            ..AlbEvidence::default()
                        });
                    }
                }
                None => {
                    o.how = format!(
                        "{}; no load balancer in `{region}` has DNS name `{dns}`",
                        o.how
                    );
                }
            }
        }
    }
    albs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::model::HostedZoneConfig;

    fn zone(id: &str, name: &str, private: bool) -> HostedZone {
        HostedZone {
            id: format!("/hostedzone/{id}"),
            name: name.into(),
            config: Some(HostedZoneConfig {
                private_zone: private,
            }),
        }
    }

    fn listed(status: &str, days: i64, names_complete: bool) -> CertificateSummary {
        CertificateSummary {
            detail: CertificateDetail {
                certificate_arn: "arn:aws:acm:us-east-1:1:certificate/c".into(),
                status: Some(status.into()),
                not_after: Some(now() + Duration::days(days)),
                ..CertificateDetail::default()
            },
            names_complete,
        }
    }

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-22T12:37:30Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn a_listed_certificate_is_described_only_when_the_list_cannot_answer() {
        let now = now();
        // Issued, far from expiry: the list is enough, unless names are needed and partial.
        assert!(!needs_description(&listed("ISSUED", 200, true), now, true));
        assert!(!needs_description(
            &listed("ISSUED", 200, false),
            now,
            false
        ));
        assert!(needs_description(&listed("ISSUED", 200, false), now, true));
        // Renewal and validation matter: within the renewal horizon, expired, not issued.
        assert!(needs_description(&listed("ISSUED", 45, true), now, false));
        assert!(!needs_description(&listed("ISSUED", 46, true), now, false));
        assert!(needs_description(&listed("ISSUED", -1, true), now, false));
        assert!(needs_description(&listed("EXPIRED", 200, true), now, false));
        assert!(needs_description(
            &listed("PENDING_VALIDATION", 200, true),
            now,
            false
        ));
        let mut no_expiry = listed("ISSUED", 200, true);
        no_expiry.detail.not_after = None;
        assert!(needs_description(&no_expiry, now, false));
    }

    #[test]
    fn longest_public_zone_wins() {
        let zones = vec![
            zone("A", "example.com.", false),
            zone("B", "web.example.com.", false),
            zone("C", "origin.web.example.com.", true),
            zone("D", "ample.com.", false),
        ];
        let z = zone_for(&zones, "origin.web.example.com").unwrap();
        assert_eq!(z.short_id(), "B");
        assert!(zone_for(&zones, "other.org").is_none());
        assert_eq!(zone_for(&zones, "x.example.com.").unwrap().short_id(), "A");
    }

    #[test]
    fn window_is_two_whole_hours() {
        let now = DateTime::parse_from_rfc3339("2026-11-22T12:37:30Z")
            .unwrap()
            .with_timezone(&Utc);
        let w = window_for(now);
        assert_eq!(w.end.to_rfc3339(), "2026-11-22T12:37:00+00:00");
        assert_eq!(w.start.to_rfc3339(), "2026-11-22T10:37:00+00:00");
    }

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
                    target_group: crate::evidence::model::TargetGroup {
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
        assert_eq!(n, 19 + 48 * 10);
        assert!(n <= MAX_QUERIES_PER_CALL);
    }
}
