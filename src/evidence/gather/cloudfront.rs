//! The CloudFront calls of one triage: distribution configurations, origin request
//! policies, and the load balancers behind the origins (found by their ELB DNS name, directly
//! or through a Route 53 alias or CNAME), whose ALB calls follow ([`super::alb`]).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use futures::future::join_all;

use super::alb::alb_pipeline;
use super::calls::Calls;
use super::metrics::{
    add_missing, cloudfront_queries, function_queries, lambda_edge_queries, metric_calls,
    metric_calls_each,
};
use crate::evidence::apigw::GetRestApis;
use crate::evidence::clb::{ClassicLoadBalancers, DescribeClassicLoadBalancers};
use crate::evidence::cloudfront::{GetDistributionConfig, GetOriginRequestPolicy, Origin};
use crate::evidence::cloudwatch::{
    DimensionFilter, ListMetrics, MetricListing, MetricQuery, Series, Unread,
};
use crate::evidence::elb::ListLoadBalancers;
use crate::evidence::elb::LoadBalancer;
use crate::evidence::port::{Answer, Op, Port, SourceError, Window};
use crate::evidence::route53::{
    HostedZone, ListHostedZones, ListResourceRecordSets, RecordName, ResourceRecordSet,
};
use crate::evidence::{AlbEvidence, ClbEvidence, DistributionEvidence, OriginLink};
use crate::names::{self, GLOBAL_REGION, fqdn};
use crate::scope::{ApiRef, CLOUDFRONT_NAMESPACE, ClbRef};

/// What a custom origin's domain name is, before any lookup.
enum OriginName {
    /// An ELB DNS name, with its region.
    Elb(String),
    /// An API Gateway endpoint (`ID.execute-api.REGION.amazonaws.com`): its id and region.
    Api(String, String),
    /// Anything else: to be followed through Route 53.
    Custom,
    /// Not a custom origin (S3, VPC origin, ...): not followed.
    Skip(&'static str),
}

fn classify_origin(origin: &Origin) -> OriginName {
    if origin.custom_origin_config.is_none() {
        return if origin.vpc_origin_config.is_some() {
            OriginName::Skip("a VPC origin: not followed")
        } else {
            OriginName::Skip("not a custom origin")
        };
    }
    if let Some((id, region)) = names::execute_api(&origin.domain_name) {
        return OriginName::Api(id, region);
    }
    match names::elb_dns_region(&origin.domain_name) {
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
pub(super) struct CloudFrontPart {
    pub(super) dists: Vec<DistributionEvidence>,
    pub(super) albs: Vec<AlbEvidence>,
    /// Classic Load Balancers behind origins.
    pub(super) classic: Vec<ClbEvidence>,
    /// API Gateway stages behind origins.
    pub(super) apis: Vec<crate::evidence::ApiEvidence>,
    pub(super) read: Vec<(MetricQuery, Series)>,
    /// Edge-function metrics asked for and not read, and why.
    pub(super) unread: Vec<(MetricQuery, Unread)>,
    pub(super) depth: usize,
}

/// Load balancer lists by region, as answered (a failure becomes a gap only where an origin
/// needs the list).
type LbLists = BTreeMap<String, Answer<Vec<LoadBalancer>>>;

/// What [`cloudfront`] gathers for: the distributions, and what it needs besides.
pub(super) struct CloudFrontScope<'s> {
    pub(super) ids: &'s [String],
    /// Where an origin behind a custom name is looked for first.
    pub(super) home_region: &'s str,
    /// Load balancers the alarm names (gathered by the ALB path, only linked here).
    pub(super) known: &'s [String],
    /// The alarm's own metrics, read with the CloudFront metrics.
    pub(super) extra_queries: &'s [MetricQuery],
    /// Certificates expiring before this are described (see [`super::alb`]).
    pub(super) horizon: DateTime<Utc>,
    pub(super) window: Window,
}

/// CloudFront waves: distribution configs, origin request policies, and the origin ALBs.
///
/// Wave 1 reads the load balancer lists of the home region and the port's `origin_regions`
/// alongside the configs, before any origin is known: an origin named by an ELB DNS name of
/// one of those regions (the common case) goes straight to its ALB describe wave, while
/// policies and Route 53 records are read beside it. One free call per region, wasted when
/// no origin is a load balancer.
pub(super) async fn cloudfront<P: Port>(
    ctx: &Calls<'_, P>,
    scope: CloudFrontScope<'_>,
) -> CloudFrontPart {
    let CloudFrontScope {
        ids,
        home_region,
        known,
        extra_queries,
        horizon,
        window,
    } = scope;
    // Wave 1.
    let listed: BTreeSet<String> = std::iter::once(home_region.to_owned())
        .chain(ctx.port.origin_regions())
        .collect();
    let mut cf_queries: Vec<MetricQuery> =
        ids.iter().flat_map(|id| cloudfront_queries(id)).collect();
    add_missing(&mut cf_queries, extra_queries);
    let configs = join_all(
        ids.iter()
            .map(|id| ctx.read::<GetDistributionConfig>(GLOBAL_REGION, id, Some(id))),
    );
    let zones = ctx.try_read::<ListHostedZones>(GLOBAL_REGION, &());
    let lbs = join_all(
        listed
            .iter()
            .map(|r| ctx.try_read::<ListLoadBalancers>(r, &())),
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
    let mut lookups: Vec<Lookup> = Vec::new();
    let mut zones_needed = false;
    for (i, d) in dists.iter_mut().enumerate() {
        let Some(cfg) = &d.config else { continue };
        let behaviors = cfg.behaviors();
        for b in behaviors {
            if let Some(p) = &b.origin_request_policy_id {
                policy_ids.insert(p.clone());
            }
        }
        for o in &cfg.origins.items {
            let mut link = OriginLink {
                origin_id: o.id.clone(),
                domain_name: o.domain_name.clone(),
                followed: true,
                ..OriginLink::default()
            };
            match classify_origin(o) {
                OriginName::Skip(why) => {
                    link.how = why.into();
                    link.followed = false;
                }
                OriginName::Api(id, region) => {
                    // The stage is the origin path's first segment (`/prod`).
                    let stage = o
                        .origin_path
                        .as_deref()
                        .and_then(|p| p.trim_start_matches('/').split('/').next())
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned);
                    link.how = format!("API Gateway endpoint of API `{id}` in {region}");
                    link.followed = false;
                    link.api = Some((id, stage));
                }
                OriginName::Elb(region) => {
                    link.elb_dns_name = Some(names::normalize_dns(&o.domain_name));
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
                                lookups.push(Lookup {
                                    distribution: i,
                                    origin_id: o.id.clone(),
                                    record: RecordName {
                                        zone_id: zone.short_id().to_owned(),
                                        name: o.domain_name.clone(),
                                    },
                                });
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
        horizon,
        window,
    };
    let dists_api_origins: Vec<(String, String, Option<String>)> = dists
        .iter()
        .flat_map(|d| &d.origins)
        .filter_map(|o| {
            let (id, stage) = o.api.clone()?;
            let (_, region) = names::execute_api(&o.domain_name)?;
            Some((id, region, stage))
        })
        .collect();
    let early_arns = early_known.clone();
    // Finding the edge series first takes a wave; it is free when the origins take a wave
    // after the configs anyway (at most one more for a Route 53 lookup that leads nowhere).
    // Otherwise the series are read at once, one wave.
    let origins_wait = !after.wave2.policy_ids.is_empty()
        || !after.wave2.lookups.is_empty()
        || !after.wave2.regions.is_empty()
        || !early.is_empty()
        || !dists_api_origins.is_empty()
        || dists.iter().flat_map(|d| &d.origins).any(|o| o.unmatched);
    let edge = edge_listings(&dists, &cf_queries);
    let origins = async {
        let ((early_depth, early_read), (late, late_depth, late_read)) = futures::join!(
            alb_pipeline(ctx, &mut early, horizon, true, &[], window),
            origins_after_wave1(ctx, &mut dists, &mut linked, after)
        );
        early.extend(late);
        read.extend(early_read);
        read.extend(late_read);
        let ((classic, classic_depth, classic_read), api) = futures::join!(
            classic_origins(ctx, &mut dists, window),
            api_origins(ctx, &dists_api_origins, &early_arns, horizon, window)
        );
        read.extend(classic_read);
        let mut albs = early;
        let mut apis = Vec::new();
        let mut api_depth = 0;
        if let Some(api) = api {
            read.extend(api.read);
            albs.extend(api.albs);
            apis = api.apis;
            api_depth = 1 + api.depth;
        }
        let depth = (early_depth.max(late_depth) + classic_depth).max(api_depth);
        (albs, classic, apis, depth)
    };
    // The edge-function metrics go beside the origins, from the configs on.
    let ((albs, classic, apis, origin_depth), edge) =
        futures::join!(origins, edge_metrics(ctx, edge, origins_wait, window));
    read.extend(edge.read);
    CloudFrontPart {
        dists,
        albs,
        classic,
        apis,
        read,
        unread: edge.unread,
        depth: 1 + origin_depth.max(edge.depth),
    }
}

/// One `ListMetrics` of the edge-function metrics, and the series it may list that the
/// triage reads.
struct EdgeListing {
    listing: MetricListing,
    /// The resource a failure is about (the distribution id, or the function's name).
    resource: String,
    wanted: Vec<MetricQuery>,
}

/// The listings for the distributions' edge functions (none for a distribution without
/// any): one per distribution with Lambda@Edge, by `DistributionId`; one per CloudFront
/// Function, by `FunctionName` (a function on two distributions is listed once). Metrics in
/// `read` (the alarm's own, read in wave 1) are not asked again.
fn edge_listings(dists: &[DistributionEvidence], read: &[MetricQuery]) -> Vec<EdgeListing> {
    let mut out: Vec<EdgeListing> = Vec::new();
    let mut push = |filter: (&str, &str), wanted: Vec<MetricQuery>| {
        let wanted: Vec<MetricQuery> = wanted.into_iter().filter(|q| !read.contains(q)).collect();
        if wanted.is_empty() || out.iter().any(|l| l.wanted == wanted) {
            return;
        }
        out.push(EdgeListing {
            listing: MetricListing {
                namespace: CLOUDFRONT_NAMESPACE.to_owned(),
                metric_name: None,
                dimensions: vec![DimensionFilter::new(filter.0, Some(filter.1))],
            },
            resource: filter.1.to_owned(),
            wanted,
        });
    };
    for d in dists {
        let Some(cfg) = &d.config else { continue };
        if cfg.has_lambda_edge() {
            push(("DistributionId", &d.id), lambda_edge_queries(&d.id));
        }
        for f in cfg.function_names() {
            push(("FunctionName", f), function_queries(f));
        }
    }
    out
}

/// What [`edge_metrics`] read.
struct EdgePart {
    /// Waves after the configs: 0 without edge functions, 1 when nothing wanted is listed.
    depth: usize,
    read: Vec<(MetricQuery, Series)>,
    unread: Vec<(MetricQuery, Unread)>,
}

/// The edge-function metrics. With `discover`, `ListMetrics` says which of the wanted series
/// CloudWatch has (in the last three hours), and only those are read with `GetMetricData`; a
/// wanted series not listed is [`Unread::Unlisted`]. Without, every wanted series is read at
/// once (one wave, for a triage that would otherwise end with the configs). A series whose
/// listing or read failed is [`Unread::Failed`] (the failure is a gap).
async fn edge_metrics<P: Port>(
    ctx: &Calls<'_, P>,
    listings: Vec<EdgeListing>,
    discover: bool,
    window: Window,
) -> EdgePart {
    let mut part = EdgePart {
        depth: 0,
        read: Vec::new(),
        unread: Vec::new(),
    };
    if listings.is_empty() {
        return part;
    }
    part.depth = 1;
    if !discover {
        let wanted: Vec<MetricQuery> = listings.into_iter().flat_map(|l| l.wanted).collect();
        read_edge_series(ctx, &wanted, window, &mut part).await;
        return part;
    }
    let answers = join_all(
        listings
            .iter()
            .map(|l| ctx.read::<ListMetrics>(GLOBAL_REGION, &l.listing, Some(&l.resource))),
    )
    .await;
    let mut to_read: Vec<MetricQuery> = Vec::new();
    for (l, listed) in listings.into_iter().zip(answers) {
        for q in l.wanted {
            match &listed {
                None => part.unread.push((q, Unread::Failed)),
                Some(listed) if listed.iter().any(|m| m.is(&q)) => to_read.push(q),
                Some(_) => part.unread.push((q, Unread::Unlisted)),
            }
        }
    }
    if to_read.is_empty() {
        return part;
    }
    part.depth = 2;
    read_edge_series(ctx, &to_read, window, &mut part).await;
    part
}

/// Reads `queries` into `part`: each series, or [`Unread::Failed`] for a failed call.
async fn read_edge_series<P: Port>(
    ctx: &Calls<'_, P>,
    queries: &[MetricQuery],
    window: Window,
    part: &mut EdgePart,
) {
    for (q, s) in metric_calls_each(ctx, queries, window).await {
        match s {
            Some(s) => part.read.push((q, s)),
            None => part.unread.push((q, Unread::Failed)),
        }
    }
}

/// The API Gateway stages behind `*.execute-api.*` origins: the region's REST APIs are listed
/// to tell a REST API (its metrics are keyed by name) from an HTTP API (by id), then the API
/// Gateway waves follow ([`super::apigw`]). Done beside the load balancer waves.
async fn api_origins<P: Port>(
    ctx: &Calls<'_, P>,
    origins: &[(String, String, Option<String>)],
    known: &[String],
    horizon: DateTime<Utc>,
    window: Window,
) -> Option<super::apigw::ApiPart> {
    if origins.is_empty() {
        return None;
    }
    let regions: BTreeSet<&str> = origins.iter().map(|(_, r, _)| r.as_str()).collect();
    let lists = join_all(
        regions
            .iter()
            .map(|r| ctx.read::<GetRestApis>(r, &(), Some(r))),
    )
    .await;
    let lists: BTreeMap<&str, _> = regions.into_iter().zip(lists).collect();
    let mut refs: Vec<ApiRef> = Vec::new();
    for (id, region, stage) in origins {
        let rest = lists
            .get(region.as_str())
            .and_then(|l| l.as_ref())
            .and_then(|l| l.iter().find(|a| &a.id == id));
        let r = match rest {
            Some(api) => ApiRef {
                region: region.clone(),
                http: false,
                key: api.name.clone(),
                stage: stage.clone(),
            },
            None => ApiRef {
                region: region.clone(),
                http: true,
                key: id.clone(),
                stage: Some(stage.clone().unwrap_or_else(|| "$default".into())),
            },
        };
        if !refs.contains(&r) {
            refs.push(r);
        }
    }
    let scope = super::apigw::ApiScope {
        apis: &refs,
        known,
        extra_queries: &[],
        horizon,
        window,
    };
    Some(Box::pin(super::apigw::apis(ctx, scope)).await)
}

/// Origins named by an ELB DNS name that no ELB v2 load balancer has: the Classic Load
/// Balancers of their regions are listed, and those found are read ([`super::clb`]). Two more
/// waves, only when such an origin exists (an ALB's and a Classic DNS name look alike, and a
/// CloudFront triage does not list Classic Load Balancers speculatively).
async fn classic_origins<P: Port>(
    ctx: &Calls<'_, P>,
    dists: &mut [DistributionEvidence],
    window: Window,
) -> (Vec<ClbEvidence>, usize, Vec<(MetricQuery, Series)>) {
    let regions: BTreeSet<String> = dists
        .iter()
        .flat_map(|d| &d.origins)
        .filter(|o| o.unmatched)
        .filter_map(|o| o.elb_dns_name.as_deref().and_then(names::elb_dns_region))
        .collect();
    if regions.is_empty() {
        return (Vec::new(), 0, Vec::new());
    }
    let lists =
        join_all(regions.iter().map(|r| {
            ctx.read::<DescribeClassicLoadBalancers>(r, &ClassicLoadBalancers::All, Some(r))
        }))
        .await;
    let lists: BTreeMap<String, Vec<_>> = regions
        .into_iter()
        .zip(lists)
        .filter_map(|(r, l)| l.map(|l| (r, l)))
        .collect();
    let mut refs: Vec<ClbRef> = Vec::new();
    for d in dists.iter_mut() {
        for o in d.origins.iter_mut().filter(|o| o.unmatched) {
            let Some(dns) = o.elb_dns_name.clone() else {
                continue;
            };
            let Some(region) = names::elb_dns_region(&dns) else {
                continue;
            };
            let found = lists.get(&region).and_then(|l| {
                l.iter().find(|lb| {
                    lb.dns_name
                        .as_deref()
                        .is_some_and(|n| names::normalize_dns(n) == dns)
                })
            });
            if let Some(lb) = found {
                o.classic_name = Some(lb.load_balancer_name.clone());
                o.how = format!(
                    "{}; the Classic Load Balancer `{}`",
                    o.how, lb.load_balancer_name
                );
                if !refs.iter().any(|r| r.name == lb.load_balancer_name) {
                    refs.push(ClbRef {
                        region,
                        name: lb.load_balancer_name.clone(),
                    });
                }
            }
        }
    }
    if refs.is_empty() {
        return (Vec::new(), 1, Vec::new());
    }
    let (mut clbs, read) = super::clb::classic(ctx, &refs, &[], window).await;
    for c in &mut clbs {
        c.found_via = "a CloudFront origin's DNS name".into();
    }
    (clbs, 2, read)
}

/// The calls that wait for the distribution configs.
struct Wave2 {
    policy_ids: BTreeSet<String>,
    regions: BTreeSet<String>,
    lookups: Vec<Lookup>,
}

/// A custom origin name to look up in a hosted zone of the account.
struct Lookup {
    /// The distribution's index.
    distribution: usize,
    origin_id: String,
    record: RecordName,
}

/// What [`origins_after_wave1`] starts from.
struct AfterWave1<'k> {
    wave2: Wave2,
    lb_lists: LbLists,
    /// Load balancers gathered elsewhere (the alarm's, the origins linked in wave 1).
    known: &'k [String],
    /// Certificates expiring before this are described (see [`super::alb`]).
    horizon: DateTime<Utc>,
    window: Window,
}

/// Wave 2 (policies, Route 53 records, load balancer lists of other regions), a further list
/// wave for an alias into a region not listed yet (rare), then the ALB calls
/// ([`alb_pipeline`]) for the load balancers found this way and not in `known`. Returns
/// them, the waves taken and the metrics read.
async fn origins_after_wave1<P: Port>(
    ctx: &Calls<'_, P>,
    dists: &mut [DistributionEvidence],
    linked: &mut BTreeSet<(usize, String)>,
    after: AfterWave1<'_>,
) -> (Vec<AlbEvidence>, usize, Vec<(MetricQuery, Series)>) {
    let AfterWave1 {
        wave2,
        mut lb_lists,
        known,
        horizon,
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
        let policies = join_all(
            policy_ids
                .iter()
                .map(|id| ctx.read::<GetOriginRequestPolicy>(GLOBAL_REGION, id, Some(id))),
        );
        let records = join_all(lookups.iter().map(|lookup| {
            ctx.read::<ListResourceRecordSets>(
                GLOBAL_REGION,
                &lookup.record,
                Some(&lookup.record.name),
            )
        }));
        let lbs = join_all(
            regions
                .iter()
                .map(|r| ctx.try_read::<ListLoadBalancers>(r, &())),
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
        for (lookup, recs) in lookups.iter().zip(records) {
            let domain = &lookup.record.name;
            let Some(link) = dists.get_mut(lookup.distribution).and_then(|d| {
                d.origins
                    .iter_mut()
                    .find(|o| o.origin_id == lookup.origin_id)
            }) else {
                continue;
            };
            match recs.as_deref().and_then(record_target) {
                Some(target) if names::elb_dns_region(&target).is_some() => {
                    link.how = format!("{} → `{}`", link.how, target.trim_end_matches('.'));
                    link.elb_dns_name = Some(names::normalize_dns(&target));
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
        .filter_map(|o| o.elb_dns_name.as_deref().and_then(names::elb_dns_region))
        .filter(|r| !lb_lists.contains_key(r))
        .collect();
    if !missing.is_empty() {
        depth += 1;
        let lbs = join_all(
            missing
                .iter()
                .map(|r| ctx.try_read::<ListLoadBalancers>(r, &())),
        )
        .await;
        lb_lists.extend(missing.into_iter().zip(lbs));
    }

    let mut albs = link_origins(ctx, dists, &lb_lists, linked, known, true);
    let (alb_depth, read) = alb_pipeline(ctx, &mut albs, horizon, true, &[], window).await;
    (albs, depth + alb_depth, read)
}

/// Links origins to load balancers by DNS name, from the lists in `lb_lists`, and returns
/// the load balancers found that are not in `known` (each once). Origins in `linked` are done
/// already and skipped; those handled here are added to it. Before the last pass
/// (`last == false`), an origin whose DNS name or region list is not known yet waits; in the
/// last pass it gets its explanation, and a gap when it should have led somewhere.
fn link_origins<P: Port>(
    ctx: &Calls<'_, P>,
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
                if o.followed {
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
            let Some(region) = names::elb_dns_region(&dns) else {
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
                    .is_some_and(|n| names::normalize_dns(n) == dns)
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
                    o.unmatched = true;
                }
            }
        }
    }
    albs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::route53::HostedZoneConfig;

    fn zone(id: &str, name: &str, private: bool) -> HostedZone {
        HostedZone {
            id: format!("/hostedzone/{id}"),
            name: name.into(),
            config: Some(HostedZoneConfig {
                private_zone: private,
            }),
        }
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
}
