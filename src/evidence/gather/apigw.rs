//! The API Gateway calls of one triage: the API, its stage and integrations, the functions
//! they invoke, and the load balancers behind HTTP and VPC-link integrations, whose ALB calls
//! follow ([`super::alb`]).
//!
//! REST API (metrics are keyed by `ApiName`, so the API is found by name): 3 waves, more for a
//! load balancer backend:
//!   1. GetRestApis, GetMetricData (the API stage's metrics and the alarm's own);
//!   2. GetStage (its variables may name the function) and GetResources (every method's
//!      integration);
//!   3. per integrated function GetFunctionConfiguration, GetFunctionConcurrency, GetPolicy,
//!      and GetAccountSettings and GetMetricData for the functions; GetVpcLinks when an
//!      integration goes through a VPC link, DescribeLoadBalancers of the region when an HTTP
//!      integration names an ELB DNS name;
//!   4. the ALB waves of each load balancer backend (2 or 3 more).
//!
//! HTTP API (`ApiId` is in the alarm): GetApis, GetStage, GetIntegrations and the metrics in
//! wave 1, the functions in wave 2; a VPC-link integration names its listener's ARN, so its
//! load balancer's ALB waves start in wave 2.

use std::collections::{BTreeMap, BTreeSet};

use futures::future::join_all;

use super::alb::alb_pipeline;
use super::calls::Calls;
use super::metrics::{add_missing, api_queries, lambda_queries, metric_calls};
use crate::evidence::apigw::{
    ApiKind, FunctionRef, GetHttpApis, GetHttpIntegrations, GetHttpStage, GetRestApis,
    GetRestResources, GetRestStage, GetRestVpcLinks, Integration, StageRef, lambda_target,
    resolve_stage_variables,
};
use crate::evidence::cloudwatch::{MetricQuery, Series};
use crate::evidence::elb::ListLoadBalancers;
use crate::evidence::lambda::{
    GetAccountSettings, GetFunctionConcurrency, GetFunctionConfiguration, GetPolicy, bare,
};
use crate::evidence::port::{Port, Window};
use crate::evidence::{AlbEvidence, ApiEvidence, BackendLink, FunctionEvidence};
use crate::names;
use crate::scope::ApiRef;

/// What the API Gateway path hands back: the APIs, the load balancers behind them (their ALB
/// waves done; those in `known` left out), the metrics read and its sequential waves.
pub(crate) struct ApiPart {
    pub(super) apis: Vec<ApiEvidence>,
    pub(super) albs: Vec<AlbEvidence>,
    pub(super) read: Vec<(MetricQuery, Series)>,
    pub(super) depth: usize,
}

/// What [`apis`] gathers for.
pub(super) struct ApiScope<'s> {
    pub(super) apis: &'s [ApiRef],
    /// Load balancers the alarm names (gathered by the ALB path, only linked here).
    pub(super) known: &'s [String],
    pub(super) extra_queries: &'s [MetricQuery],
    pub(super) horizon: chrono::DateTime<chrono::Utc>,
    pub(super) window: Window,
}

pub(super) async fn apis<P: Port>(ctx: &Calls<'_, P>, scope: ApiScope<'_>) -> ApiPart {
    let ApiScope {
        apis: refs,
        known,
        extra_queries,
        horizon,
        window,
    } = scope;
    // Wave 1: the API lists (REST by name, HTTP by id), HTTP stages and integrations, and
    // every stage's metrics.
    let mut queries: Vec<MetricQuery> = refs
        .iter()
        .flat_map(|r| api_queries(&r.region, r.http, &r.key, r.stage.as_deref()))
        .collect();
    add_missing(&mut queries, extra_queries);
    let rest_regions: BTreeSet<&str> = refs
        .iter()
        .filter(|r| !r.http)
        .map(|r| r.region.as_str())
        .collect();
    let http_regions: BTreeSet<&str> = refs
        .iter()
        .filter(|r| r.http)
        .map(|r| r.region.as_str())
        .collect();
    let rest_lists = join_all(
        rest_regions
            .iter()
            .map(|r| ctx.read::<GetRestApis>(r, &(), Some(r))),
    );
    let http_lists = join_all(
        http_regions
            .iter()
            .map(|r| ctx.read::<GetHttpApis>(r, &(), Some(r))),
    );
    let http_details = join_all(refs.iter().filter(|r| r.http).map(|r| async move {
        let stage = async {
            match &r.stage {
                Some(s) => {
                    let input = StageRef {
                        api_id: r.key.clone(),
                        stage: s.clone(),
                    };
                    ctx.read::<GetHttpStage>(&r.region, &input, Some(&r.key))
                        .await
                        .map(|st| st.stage_variables)
                }
                None => None,
            }
        };
        let integrations = ctx.read::<GetHttpIntegrations>(&r.region, &r.key, Some(&r.key));
        futures::join!(stage, integrations)
    }));
    let (rest_lists, http_lists, http_details, mut read) = futures::join!(
        rest_lists,
        http_lists,
        http_details,
        metric_calls(ctx, &queries, window)
    );
    let rest_lists: BTreeMap<&str, _> = rest_regions.into_iter().zip(rest_lists).collect();
    let http_lists: BTreeMap<&str, _> = http_regions.into_iter().zip(http_lists).collect();
    let mut http_details = http_details.into_iter();
    let mut apis: Vec<ApiEvidence> = Vec::new();
    for r in refs {
        let mut api = ApiEvidence {
            region: r.region.clone(),
            kind: if r.http { ApiKind::Http } else { ApiKind::Rest },
            key: r.key.clone(),
            stage_name: r.stage.clone(),
            ..ApiEvidence::default()
        };
        if r.http {
            api.id = Some(r.key.clone());
            if let Some(Some(list)) = http_lists.get(r.region.as_str()) {
                api.name = list
                    .iter()
                    .find(|a| a.api_id == r.key)
                    .map(|a| a.name.clone());
            }
            if let Some((vars, integrations)) = http_details.next() {
                api.stage_variables = vars;
                api.integrations =
                    integrations.map(|is| is.iter().map(Integration::from_http).collect());
            }
        } else {
            api.name = Some(r.key.clone());
            if let Some(Some(list)) = rest_lists.get(r.region.as_str()) {
                let same: Vec<_> = list.iter().filter(|a| a.name == r.key).collect();
                api.same_name = same.len();
                api.id = same.first().map(|a| a.id.clone());
                if same.len() > 1 {
                    // CloudWatch keys REST API metrics by name: the series mix them all.
                    ctx.gap_text(
                        "apigateway:GetRestApis",
                        Some(&r.key),
                        "Ambiguous",
                        &format!(
                            "{} REST APIs in {} are named `{}`: their metrics share one series (ApiName); the first, `{}`, was examined",
                            same.len(),
                            r.region,
                            r.key,
                            same.first().map(|a| a.id.as_str()).unwrap_or_default()
                        ),
                    );
                }
                if same.is_empty() {
                    ctx.gap_text(
                        "apigateway:GetRestApis",
                        Some(&r.key),
                        "NotFound",
                        &format!("no REST API named `{}` in {}", r.key, r.region),
                    );
                }
            }
        }
        apis.push(api);
    }
    let mut depth = 1;

    // Wave 2 (REST only): the stage and the resources of each API found by name.
    let rest_reads = join_all(apis.iter().filter(|a| a.kind == ApiKind::Rest).map(
        |a| async move {
            let Some(id) = a.id.clone() else {
                return (None, None);
            };
            let stage = async {
                match &a.stage_name {
                    Some(s) => {
                        let input = StageRef {
                            api_id: id.clone(),
                            stage: s.clone(),
                        };
                        ctx.read::<GetRestStage>(&a.region, &input, Some(&a.key))
                            .await
                            .map(|st| st.variables)
                    }
                    None => None,
                }
            };
            let resources = ctx.read::<GetRestResources>(&a.region, &id, Some(&a.key));
            futures::join!(stage, resources)
        },
    ))
    .await;
    if apis
        .iter()
        .any(|a| a.kind == ApiKind::Rest && a.id.is_some())
    {
        depth += 1;
    }
    let mut rest_reads = rest_reads.into_iter();
    for a in apis.iter_mut().filter(|a| a.kind == ApiKind::Rest) {
        if let Some((vars, resources)) = rest_reads.next() {
            a.stage_variables = vars;
            a.integrations = resources.map(|rs| {
                rs.iter()
                    .flat_map(|r| {
                        r.resource_methods.iter().filter_map(|(verb, m)| {
                            m.method_integration
                                .as_ref()
                                .map(|i| Integration::from_rest(&r.path, verb, i))
                        })
                    })
                    .collect()
            });
        }
    }

    // What the integrations name: functions, and load balancers.
    let mut backends_by_dns: Vec<(usize, String, String)> = Vec::new();
    let mut rest_links_needed: BTreeSet<String> = BTreeSet::new();
    for (i, a) in apis.iter_mut().enumerate() {
        resolve_integrations(i, a, &mut backends_by_dns, &mut rest_links_needed);
    }

    // Wave 3 (REST; 2 for HTTP APIs): the functions, their metrics, the account's limits,
    // VPC links, and the load balancer lists an HTTP integration needs.
    let lambda_q: Vec<MetricQuery> = apis
        .iter()
        .flat_map(|a| a.functions.iter())
        .flat_map(|f| lambda_queries(&f.region, &f.name))
        .collect();
    let function_reads = join_all(apis.iter().enumerate().flat_map(|(i, a)| {
        a.functions
            .iter()
            .enumerate()
            .map(move |(j, f)| async move {
                let (config, concurrency, policy) = futures::join!(
                    ctx.read::<GetFunctionConfiguration>(&f.region, &f.name, Some(&f.name)),
                    ctx.read::<GetFunctionConcurrency>(&f.region, bare(&f.name), Some(&f.name)),
                    ctx.read::<GetPolicy>(&f.region, &f.name, Some(&f.name)),
                );
                (i, j, config, concurrency, policy)
            })
    }));
    let account_regions: BTreeSet<String> = apis
        .iter()
        .filter(|a| !a.functions.is_empty())
        .map(|a| a.region.clone())
        .collect();
    let accounts = join_all(
        account_regions
            .iter()
            .map(|r| ctx.read::<GetAccountSettings>(r, &(), Some(r))),
    );
    let links = join_all(
        rest_links_needed
            .iter()
            .map(|r| ctx.read::<GetRestVpcLinks>(r, &(), Some(r))),
    );
    let dns_regions: BTreeSet<String> = backends_by_dns.iter().map(|b| b.2.clone()).collect();
    let lb_lists = join_all(
        dns_regions
            .iter()
            .map(|r| ctx.read::<ListLoadBalancers>(r, &(), Some(r))),
    );
    let wave3 = !lambda_q.is_empty() || !rest_links_needed.is_empty() || !dns_regions.is_empty();
    // HTTP API VPC-link backends are known already: their ALB waves run beside wave 2.
    let mut early: Vec<AlbEvidence> = backend_albs(&apis, known, &[]);
    let ((early_depth, early_read), (functions, accounts, links, lb_lists, lambda_read)) = futures::join!(
        alb_pipeline(ctx, &mut early, horizon, false, &[], window),
        async {
            futures::join!(
                function_reads,
                accounts,
                links,
                lb_lists,
                metric_calls(ctx, &lambda_q, window)
            )
        }
    );
    read.extend(early_read);
    read.extend(lambda_read);
    let accounts: BTreeMap<String, _> = account_regions.into_iter().zip(accounts).collect();
    for (i, j, config, concurrency, policy) in functions {
        if let Some(f) = apis.get_mut(i).and_then(|a| a.functions.get_mut(j)) {
            f.config = config;
            f.concurrency = concurrency;
            f.policy = policy;
        }
    }
    for a in &mut apis {
        if !a.functions.is_empty() {
            a.account = accounts.get(&a.region).cloned().flatten();
        }
    }
    // VPC links (REST): their target NLBs.
    let links: BTreeMap<String, Vec<_>> = rest_links_needed
        .into_iter()
        .zip(links)
        .filter_map(|(r, l)| l.map(|l| (r, l)))
        .collect();
    for a in apis.iter_mut() {
        let Some(list) = links.get(&a.region) else {
            continue;
        };
        let integrations = a.integrations.clone().unwrap_or_default();
        for i in &integrations {
            if a.kind != ApiKind::Rest || !i.via_vpc_link() {
                continue;
            }
            let Some(link) = list
                .iter()
                .find(|l| Some(&l.id) == i.connection_id.as_ref())
            else {
                a.unresolved.push(format!(
                    "{}: VPC link `{}` not found",
                    i.route,
                    i.connection_id.as_deref().unwrap_or("?")
                ));
                continue;
            };
            for arn in &link.target_arns {
                push_backend(
                    a,
                    &i.route,
                    arn,
                    format!("VPC link `{}` ({}) targets it", link.name, link.id),
                );
            }
        }
    }
    // HTTP integrations by ELB DNS name.
    let lb_lists: BTreeMap<String, _> = dns_regions.into_iter().zip(lb_lists).collect();
    for (i, dns, region) in backends_by_dns {
        let Some(Some(list)) = lb_lists.get(&region) else {
            continue;
        };
        let Some(a) = apis.get_mut(i) else { continue };
        match list.iter().find(|lb| {
            lb.dns_name
                .as_deref()
                .is_some_and(|d| names::normalize_dns(d) == dns)
        }) {
            Some(lb) => {
                let route = a
                    .integrations
                    .iter()
                    .flatten()
                    .find(|i| i.uri.as_deref().is_some_and(|u| u.contains(&dns)))
                    .map(|i| i.route.clone())
                    .unwrap_or_default();
                let arn = lb.load_balancer_arn.clone();
                push_backend(
                    a,
                    &route,
                    &arn,
                    format!("HTTP integration URI names `{dns}`"),
                );
            }
            None => a.unresolved.push(format!(
                "`{dns}` is no load balancer of this account in {region}"
            )),
        }
    }
    if wave3 {
        depth += 1;
    }
    let early_arns: Vec<String> = early.iter().map(|a| a.arn.clone()).collect();
    let mut late = backend_albs(&apis, known, &early_arns);
    let (late_depth, late_read) = alb_pipeline(ctx, &mut late, horizon, false, &[], window).await;
    read.extend(late_read);
    let depth = (1 + early_depth).max(depth + late_depth);
    early.extend(late);
    ApiPart {
        apis,
        albs: early,
        read,
        depth,
    }
}

/// Reads what `a`'s integrations name: its functions (resolved against the stage's
/// variables), HTTP API VPC-link listeners (their load balancer, at once), ELB DNS names
/// (to find in the region's list, `backends`), and REST VPC links to list (`links`).
fn resolve_integrations(
    index: usize,
    a: &mut ApiEvidence,
    backends: &mut Vec<(usize, String, String)>,
    links: &mut BTreeSet<String>,
) {
    let empty = BTreeMap::new();
    let vars = a.stage_variables.clone().unwrap_or_default();
    let integrations = a.integrations.clone().unwrap_or_default();
    let mut functions: BTreeMap<FunctionRef, FunctionEvidence> = BTreeMap::new();
    for i in &integrations {
        let timeout = i.timeout_or_default(a.kind);
        if i.is_lambda() {
            let uri = i.uri.as_deref().unwrap_or_default();
            let vars = if a.stage_variables.is_some() {
                &vars
            } else {
                &empty
            };
            match lambda_target(uri, vars) {
                Ok(f) => {
                    let region = f.region.clone().unwrap_or_else(|| a.region.clone());
                    let e = functions
                        .entry(f.clone())
                        .or_insert_with(|| FunctionEvidence {
                            name: f.qualified(),
                            region,
                            ..FunctionEvidence::default()
                        });
                    e.routes.push(i.route.clone());
                    e.integration_timeout_ms = e.integration_timeout_ms.max(timeout);
                }
                Err(why) => a.unresolved.push(format!("{}: {why}", i.route)),
            }
            continue;
        }
        if i.via_vpc_link() {
            match a.kind {
                ApiKind::Rest => {
                    links.insert(a.region.clone());
                }
                ApiKind::Http => {
                    // The integration URI is a listener ARN (ALB or NLB), or a Cloud Map
                    // service (not followed).
                    let uri = i.uri.as_deref().unwrap_or_default();
                    match names::listener_load_balancer_arn(uri) {
                        Some(lb) => {
                            push_backend(
                                a,
                                &i.route,
                                &lb,
                                "VPC-link integration names its listener".into(),
                            );
                        }
                        None => a.unresolved.push(format!(
                            "{}: VPC-link integration `{}` names no load balancer listener",
                            i.route,
                            crate::error::short(uri)
                        )),
                    }
                }
            }
            continue;
        }
        if i.is_http() {
            let uri = i.uri.as_deref().unwrap_or_default();
            let Ok(uri) = resolve_stage_variables(uri, &vars) else {
                continue;
            };
            if let Some(host) = url_host(&uri)
                && let Some(region) = names::elb_dns_region(host)
            {
                let dns = names::normalize_dns(host);
                if !backends.iter().any(|b| b.0 == index && b.1 == dns) {
                    backends.push((index, dns, region));
                }
            }
        }
    }
    a.functions = functions.into_values().collect();
}

/// The host of an `http(s)://HOST[:PORT]/...` URL.
fn url_host(uri: &str) -> Option<&str> {
    let rest = uri
        .strip_prefix("https://")
        .or_else(|| uri.strip_prefix("http://"))?;
    let host = rest.split(['/', '?', '#']).next()?;
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    let host = host.split(':').next()?;
    (!host.is_empty()).then_some(host)
}

fn push_backend(a: &mut ApiEvidence, route: &str, lb_arn: &str, how: String) {
    if a.backends
        .iter()
        .any(|b| b.lb_arn == lb_arn && b.route == route)
    {
        return;
    }
    a.backends.push(BackendLink {
        route: route.to_owned(),
        lb_arn: lb_arn.to_owned(),
        how,
    });
}

/// The load balancers behind `apis` not in `known` or `done`, each once, ready for their ALB
/// waves.
fn backend_albs(apis: &[ApiEvidence], known: &[String], done: &[String]) -> Vec<AlbEvidence> {
    let mut out: Vec<AlbEvidence> = Vec::new();
    for a in apis {
        for b in &a.backends {
            if known.contains(&b.lb_arn)
                || done.contains(&b.lb_arn)
                || out.iter().any(|x| x.arn == b.lb_arn)
            {
                continue;
            }
            let Some(region) = names::region(&b.lb_arn) else {
                continue;
            };
            out.push(AlbEvidence {
                region: region.to_owned(),
                arn: b.lb_arn.clone(),
                found_via: format!("API {} {}: {}", a.label(), b.route, b.how),
                ..AlbEvidence::default()
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_of_integration_urls() {
        assert_eq!(
            url_host("http://internal-web-1.us-east-1.elb.amazonaws.com/orders/{proxy}"),
            Some("internal-web-1.us-east-1.elb.amazonaws.com")
        );
        assert_eq!(
            url_host("https://a.example.com:8443"),
            Some("a.example.com")
        );
        assert_eq!(
            url_host("https://u:p@h.example.com/x"),
            Some("h.example.com")
        );
        assert_eq!(url_host("arn:aws:lambda:x"), None);
        assert_eq!(url_host("http:///x"), None);
    }
}
