//! CloudWatch: what was asked of it and what came back, `GetMetricData`, and the world
//! file's `CloudWatch` section.
//!
//! A [`MetricQuery`] names one series and one statistic in one region; a [`Series`] is its
//! per-minute datapoints. Missing minutes are absent, never zero: CloudWatch publishes ELB
//! metrics only while requests flow, and a rule that read a gap as "0 errors" would lie.
//!
//! `DescribeAlarms` (the alarm's own configuration) lives in [`alarms`].

mod alarms;

pub(crate) use self::alarms::MAX_ALARM_NAMES;
pub use self::alarms::{
    AlarmMetricName, AlarmMetricStat, AlarmQuery, CompositeAlarm, DescribeAlarms, DescribedAlarms,
    MetricAlarm,
};

use std::collections::BTreeMap;

use aws_sdk_cloudwatch::types as cw;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::port::{Answer, Op, Operation, Window};
use super::record::Recording;
use super::sdk::{AwsSdk, OnWorker, smithy_time, time};
use super::world::World;
use crate::names::normalize_stat;

/// The Application Load Balancer metrics fivexx reads (namespace `AWS/ApplicationELB`), named
/// once for the gathering that asks for them and the rules that read them.
pub(crate) mod alb_metric {
    pub(crate) const REQUEST_COUNT: &str = "RequestCount";
    pub(crate) const ELB_5XX: &str = "HTTPCode_ELB_5XX_Count";
    pub(crate) const ELB_500: &str = "HTTPCode_ELB_500_Count";
    pub(crate) const ELB_502: &str = "HTTPCode_ELB_502_Count";
    pub(crate) const ELB_503: &str = "HTTPCode_ELB_503_Count";
    pub(crate) const ELB_504: &str = "HTTPCode_ELB_504_Count";
    pub(crate) const ELB_4XX: &str = "HTTPCode_ELB_4XX_Count";
    pub(crate) const TARGET_5XX: &str = "HTTPCode_Target_5XX_Count";
    pub(crate) const TARGET_2XX: &str = "HTTPCode_Target_2XX_Count";
    pub(crate) const TARGET_CONNECTION_ERRORS: &str = "TargetConnectionErrorCount";
    pub(crate) const TARGET_TLS_ERRORS: &str = "TargetTLSNegotiationErrorCount";
    pub(crate) const CLIENT_TLS_ERRORS: &str = "ClientTLSNegotiationErrorCount";
    pub(crate) const REJECTED_CONNECTIONS: &str = "RejectedConnectionCount";
    pub(crate) const LAMBDA_USER_ERROR: &str = "LambdaUserError";
    pub(crate) const LAMBDA_INTERNAL_ERROR: &str = "LambdaInternalError";
    pub(crate) const AUTH_ERROR: &str = "ELBAuthError";
    pub(crate) const FIXED_RESPONSES: &str = "HTTP_Fixed_Response_Count";
    pub(crate) const TARGET_RESPONSE_TIME: &str = "TargetResponseTime";
    pub(crate) const HEALTHY_HOSTS: &str = "HealthyHostCount";
    pub(crate) const UNHEALTHY_HOSTS: &str = "UnHealthyHostCount";
}

/// The CloudFront metrics fivexx reads (namespace `AWS/CloudFront`, region us-east-1,
/// dimension `Region=Global`). Rates are percentages of all requests.
/// Classic Load Balancer metric names (`AWS/ELB`, dimension `LoadBalancerName`).
pub(crate) mod clb_metric {
    pub(crate) const ELB_5XX: &str = "HTTPCode_ELB_5XX";
    pub(crate) const BACKEND_5XX: &str = "HTTPCode_Backend_5XX";
    pub(crate) const BACKEND_CONNECTION_ERRORS: &str = "BackendConnectionErrors";
    pub(crate) const SPILLOVER: &str = "SpilloverCount";
    pub(crate) const SURGE_QUEUE: &str = "SurgeQueueLength";
    pub(crate) const REQUESTS: &str = "RequestCount";
    pub(crate) const LATENCY: &str = "Latency";
    pub(crate) const HEALTHY_HOSTS: &str = "HealthyHostCount";
    pub(crate) const UNHEALTHY_HOSTS: &str = "UnHealthyHostCount";
}

/// Network Load Balancer metric names (`AWS/NetworkELB`). Host counts carry `LoadBalancer`
/// and `TargetGroup`; resets, TLS errors and port allocation errors carry `LoadBalancer` only.
pub(crate) mod nlb_metric {
    pub(crate) const TARGET_RESETS: &str = "TCP_Target_Reset_Count";
    pub(crate) const ELB_RESETS: &str = "TCP_ELB_Reset_Count";
    pub(crate) const CLIENT_RESETS: &str = "TCP_Client_Reset_Count";
    pub(crate) const TARGET_TLS_ERRORS: &str = "TargetTLSNegotiationErrorCount";
    pub(crate) const CLIENT_TLS_ERRORS: &str = "ClientTLSNegotiationErrorCount";
    pub(crate) const PORT_ALLOCATION_ERRORS: &str = "PortAllocationErrorCount";
    pub(crate) const NEW_FLOWS: &str = "NewFlowCount";
    pub(crate) const HEALTHY_HOSTS: &str = "HealthyHostCount";
    pub(crate) const UNHEALTHY_HOSTS: &str = "UnHealthyHostCount";
}

/// API Gateway metric names (`AWS/ApiGateway`): REST APIs spell the error counts
/// `5XXError`/`4XXError` (dimensions `ApiName`, `Stage`), HTTP APIs `5xx`/`4xx` (`ApiId`,
/// `Stage`); the rest is shared. Latencies are in milliseconds.
pub(crate) mod apigw_metric {
    pub(crate) const REST_5XX: &str = "5XXError";
    pub(crate) const REST_4XX: &str = "4XXError";
    pub(crate) const HTTP_5XX: &str = "5xx";
    pub(crate) const HTTP_4XX: &str = "4xx";
    pub(crate) const COUNT: &str = "Count";
    pub(crate) const LATENCY: &str = "Latency";
    pub(crate) const INTEGRATION_LATENCY: &str = "IntegrationLatency";
}

/// Lambda metric names (`AWS/Lambda`, dimension `FunctionName`, and `Resource` for an alias
/// or version). `Duration` is in milliseconds.
pub(crate) mod lambda_metric {
    pub(crate) const INVOCATIONS: &str = "Invocations";
    pub(crate) const ERRORS: &str = "Errors";
    pub(crate) const THROTTLES: &str = "Throttles";
    pub(crate) const DURATION: &str = "Duration";
    pub(crate) const CONCURRENT: &str = "ConcurrentExecutions";
}

pub(crate) mod cf_metric {
    pub(crate) const REQUESTS: &str = "Requests";
    pub(crate) const RATE_5XX: &str = "5xxErrorRate";
    pub(crate) const RATE_4XX: &str = "4xxErrorRate";
    pub(crate) const RATE_TOTAL: &str = "TotalErrorRate";
    pub(crate) const RATE_502: &str = "502ErrorRate";
    pub(crate) const RATE_503: &str = "503ErrorRate";
    pub(crate) const RATE_504: &str = "504ErrorRate";
    pub(crate) const CACHE_HIT_RATE: &str = "CacheHitRate";
    pub(crate) const ORIGIN_LATENCY: &str = "OriginLatency";
    pub(crate) const LAMBDA_EXECUTION_ERROR: &str = "LambdaExecutionError";
    pub(crate) const LAMBDA_VALIDATION_ERROR: &str = "LambdaValidationError";
    pub(crate) const LAMBDA_THROTTLES: &str = "LambdaLimitExceededErrors";
    pub(crate) const FUNCTION_VALIDATION_ERRORS: &str = "FunctionValidationErrors";
    pub(crate) const FUNCTION_EXECUTION_ERRORS: &str = "FunctionExecutionErrors";
    pub(crate) const FUNCTION_THROTTLES: &str = "FunctionThrottles";
    /// The Lambda@Edge error counts of a distribution (`DistributionId`, `Region=Global`,
    /// Sum), published only in minutes with such errors.
    pub(crate) const LAMBDA_EDGE_ERRORS: [&str; 3] = [
        LAMBDA_VALIDATION_ERROR,
        LAMBDA_EXECUTION_ERROR,
        LAMBDA_THROTTLES,
    ];
    /// The error counts of a CloudFront Function (`FunctionName`, `Region=Global`, Sum),
    /// published only in minutes with such errors.
    pub(crate) const FUNCTION_ERRORS: [&str; 3] = [
        FUNCTION_VALIDATION_ERRORS,
        FUNCTION_EXECUTION_ERRORS,
        FUNCTION_THROTTLES,
    ];
}

/// One metric, one statistic, one region.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct MetricQuery {
    pub region: String,
    pub namespace: String,
    pub name: String,
    /// Sorted by name: CloudWatch matches dimension sets, not their order.
    pub dimensions: Vec<(String, String)>,
    /// `Sum`, `Average`, `Minimum`, `Maximum`, `SampleCount` or a percentile such as `p99`.
    pub stat: String,
}

impl MetricQuery {
    pub fn new(
        region: &str,
        namespace: &str,
        name: &str,
        dimensions: &[(&str, &str)],
        stat: &str,
    ) -> Self {
        let mut dims: Vec<(String, String)> = dimensions
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        dims.sort();
        Self {
            region: region.to_owned(),
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            dimensions: dims,
            stat: normalize_stat(stat),
        }
    }

    pub(crate) fn dimension(&self, name: &str) -> Option<&str> {
        self.dimensions
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Datapoints of one query, sorted by time.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Series {
    pub points: Vec<(DateTime<Utc>, f64)>,
}

impl Series {
    /// Every datapoint, from CloudWatch or a world, enters here: a value that is not a finite
    /// count of sane size, or a time outside the years a triage reasons about, is left out
    /// (that minute reads as missing), so no rule sums its way to infinity.
    pub(crate) fn new(mut points: Vec<(DateTime<Utc>, f64)>) -> Self {
        points.retain(|(t, v)| {
            crate::untrusted::sane_time(t) && crate::untrusted::metric_value(*v).is_some()
        });
        points.sort_by_key(|(t, _)| *t);
        points.dedup_by_key(|(t, _)| *t);
        Self { points }
    }

    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    /// Datapoints with `from <= t < to`.
    pub(crate) fn between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> impl Iterator<Item = &(DateTime<Utc>, f64)> {
        self.points
            .iter()
            .filter(move |(t, _)| *t >= from && *t < to)
    }

    pub(crate) fn sum_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
        self.between(from, to).map(|(_, v)| v).sum()
    }

    pub(crate) fn max_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Option<f64> {
        self.between(from, to).map(|(_, v)| *v).reduce(f64::max)
    }

    pub(crate) fn min_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Option<f64> {
        self.between(from, to).map(|(_, v)| *v).reduce(f64::min)
    }

    pub(crate) fn mean_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Option<f64> {
        let (n, s) = self
            .between(from, to)
            .fold((0usize, 0.0), |(n, s), (_, v)| (n + 1, s + v));
        (n > 0).then(|| s / n as f64)
    }

    pub(crate) fn value_at(&self, t: DateTime<Utc>) -> Option<f64> {
        self.points
            .binary_search_by_key(&t, |(ts, _)| *ts)
            .ok()
            .and_then(|i| self.points.get(i))
            .map(|(_, v)| *v)
    }
}

/// Every series read in one triage, and the metrics asked for that could not be read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Metrics {
    series: BTreeMap<MetricQuery, Series>,
    /// Asked for, and no series came back (a failed call, or not listed by `ListMetrics`).
    unread: BTreeMap<MetricQuery, Unread>,
}

/// Why a metric that was asked for has no series in [`Metrics`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unread {
    /// The call that would have read it (`GetMetricData`, or the `ListMetrics` that was to
    /// find it) failed; its error is a gap of the verdict.
    Failed,
    /// `ListMetrics` (`RecentlyActive=PT3H`) was asked and lists no such series: CloudWatch
    /// holds no datapoint of it in the last three hours, which cover the whole window.
    Unlisted,
}

/// How one metric reads in a triage's evidence.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum MetricRead<'a> {
    /// Never asked for.
    NotAsked,
    /// Asked for, and not read.
    Unread(Unread),
    /// Asked and answered; an empty series had no datapoint in the window.
    Read(&'a Series),
}

impl Metrics {
    pub(crate) fn insert(&mut self, query: MetricQuery, series: Series) {
        self.unread.remove(&query);
        self.series.insert(query, series);
    }

    /// Notes a metric that was asked for and not read; a series read for it stays.
    pub(crate) fn mark_unread(&mut self, query: MetricQuery, why: Unread) {
        if !self.series.contains_key(&query) {
            self.unread.insert(query, why);
        }
    }

    pub(crate) fn get(&self, query: &MetricQuery) -> Option<&Series> {
        self.series.get(query)
    }

    /// The series of `name`/`stat` whose dimensions are exactly `dimensions`, in any region.
    pub(crate) fn find(
        &self,
        namespace: &str,
        name: &str,
        dimensions: &[(&str, &str)],
        stat: &str,
    ) -> Option<&Series> {
        let key = QueryKey::new(namespace, name, dimensions, stat);
        self.series
            .iter()
            .find_map(|(q, s)| key.matches(q).then_some(s))
    }

    /// How the metric `name`/`stat` with exactly `dimensions` reads, in any region: its
    /// series, why it was not read, or that nobody asked for it.
    pub(crate) fn read_state(
        &self,
        namespace: &str,
        name: &str,
        dimensions: &[(&str, &str)],
        stat: &str,
    ) -> MetricRead<'_> {
        if let Some(s) = self.find(namespace, name, dimensions, stat) {
            return MetricRead::Read(s);
        }
        let key = QueryKey::new(namespace, name, dimensions, stat);
        self.unread
            .iter()
            .find_map(|(q, why)| key.matches(q).then_some(MetricRead::Unread(*why)))
            .unwrap_or(MetricRead::NotAsked)
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (&MetricQuery, &Series)> {
        self.series.iter()
    }

    pub fn is_empty(&self) -> bool {
        self.series.is_empty()
    }
}

/// A metric named the way rules name it (dimensions in any order), matched against queries.
struct QueryKey<'a> {
    namespace: &'a str,
    name: &'a str,
    dimensions: Vec<(&'a str, &'a str)>,
    stat: String,
}

impl<'a> QueryKey<'a> {
    fn new(
        namespace: &'a str,
        name: &'a str,
        dimensions: &[(&'a str, &'a str)],
        stat: &str,
    ) -> Self {
        let mut dimensions = dimensions.to_vec();
        dimensions.sort();
        Self {
            namespace,
            name,
            dimensions,
            stat: normalize_stat(stat),
        }
    }

    fn matches(&self, q: &MetricQuery) -> bool {
        q.namespace == self.namespace
            && q.name == self.name
            && q.stat == self.stat
            && q.dimensions.len() == self.dimensions.len()
            && q.dimensions
                .iter()
                .zip(&self.dimensions)
                .all(|((k, v), (k2, v2))| k == k2 && v == v2)
    }
}

// ---------------------------------------------------------------- the world file's section

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CloudWatchWorld {
    #[serde(default)]
    pub metrics: Vec<WorldSeries>,
    /// `DescribeAlarms` answers by alarm name ([`alarms`]).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub describe_alarms: alarms::AlarmsWorld,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Dimension {
    pub name: String,
    pub value: String,
}

/// One metric with its datapoints, `GetMetricStatistics`-style: every statistic per point.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct WorldSeries {
    pub namespace: String,
    pub metric_name: String,
    #[serde(default)]
    pub dimensions: Vec<Dimension>,
    #[serde(default = "default_period")]
    pub period: i32,
    /// Only when it differs from the world's `Region`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default)]
    pub datapoints: Vec<Datapoint>,
}

fn default_period() -> i32 {
    60
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Datapoint {
    pub timestamp: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sum: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub average: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maximum: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample_count: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extended_statistics: BTreeMap<String, f64>,
}

impl Datapoint {
    pub(crate) fn stat(&self, stat: &str) -> Option<f64> {
        match stat {
            "Sum" => self.sum,
            "Average" => self.average,
            "Minimum" => self.minimum,
            "Maximum" => self.maximum,
            "SampleCount" => self.sample_count,
            other => self.extended_statistics.get(other).copied(),
        }
    }

    pub(crate) fn set_stat(&mut self, stat: &str, value: f64) {
        match stat {
            "Sum" => self.sum = Some(value),
            "Average" => self.average = Some(value),
            "Minimum" => self.minimum = Some(value),
            "Maximum" => self.maximum = Some(value),
            "SampleCount" => self.sample_count = Some(value),
            other => {
                self.extended_statistics.insert(other.to_owned(), value);
            }
        }
    }
}

impl World {
    /// The series answering `q` in the window: the world's series with the same namespace,
    /// name, region and dimension set, its statistic per datapoint.
    fn query_metric(&self, q: &MetricQuery, window: Window) -> Series {
        let found = self.cloudwatch.metrics.iter().find(|s| {
            s.namespace == q.namespace
                && s.metric_name == q.name
                && s.region.as_deref().unwrap_or(&self.region) == q.region
                && same_dimensions(&s.dimensions, &q.dimensions)
        });
        let stat = normalize_stat(&q.stat);
        Series::new(
            found
                .map(|s| {
                    s.datapoints
                        .iter()
                        .filter(|d| d.timestamp >= window.start && d.timestamp < window.end)
                        .filter_map(|d| d.stat(&stat).map(|v| (d.timestamp, v)))
                        .collect()
                })
                .unwrap_or_default(),
        )
    }
}

/// Whether a world series' dimensions are the set `sorted` (sorted by name, as a query's
/// are): CloudWatch matches dimension sets, not their order.
fn same_dimensions(dims: &[Dimension], sorted: &[(String, String)]) -> bool {
    if dims.len() != sorted.len() {
        return false;
    }
    let mut dims: Vec<(&str, &str)> = dims
        .iter()
        .map(|d| (d.name.as_str(), d.value.as_str()))
        .collect();
    dims.sort();
    dims.iter()
        .zip(sorted)
        .all(|((k, v), (k2, v2))| k == k2 && v == v2)
}

// ---------------------------------------------------------------- the operation

/// At most 500 queries, all in one region, over one window.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricRequest {
    pub queries: Vec<MetricQuery>,
    pub window: Window,
}

/// One series per query, in order (empty = no data).
pub struct GetMetricData;

impl Operation for GetMetricData {
    const OP: Op = Op::GetMetricData;
    type Input = MetricRequest;
    type Output = Vec<Series>;

    fn key(region: &str, _: &MetricRequest) -> String {
        region.to_owned()
    }

    async fn sdk(sdk: &AwsSdk, region: &str, req: &MetricRequest) -> Answer<Vec<Series>> {
        let client = sdk.cw(region);
        let built: Vec<cw::MetricDataQuery> = req
            .queries
            .iter()
            .enumerate()
            .map(|(i, q)| metric_query(i, q))
            .collect();
        let mut points: Vec<Vec<(DateTime<Utc>, f64)>> = vec![Vec::new(); req.queries.len()];
        sdk.paginate(
            |token| {
                client
                    .get_metric_data()
                    .set_metric_data_queries(Some(built.clone()))
                    .start_time(smithy_time(req.window.start))
                    .end_time(smithy_time(req.window.end))
                    .scan_by(cw::ScanBy::TimestampAscending)
                    .set_next_token(token)
                    .send()
                    .on_worker()
            },
            |r| super::sdk::marker(r.next_token()),
            |r| {
                for r in r.metric_data_results() {
                    let Some(idx) = r
                        .id()
                        .and_then(|id| id.strip_prefix('m'))
                        .and_then(|n| n.parse::<usize>().ok())
                    else {
                        continue;
                    };
                    if let Some(slot) = points.get_mut(idx) {
                        slot.extend(
                            r.timestamps()
                                .iter()
                                .zip(r.values())
                                .filter_map(|(t, v)| time(t).map(|t| (t, *v))),
                        );
                    }
                }
            },
        )
        .await?;
        Ok(points.into_iter().map(Series::new).collect())
    }

    fn world(w: &World, region: &str, req: &MetricRequest) -> Answer<Vec<Series>> {
        Ok(req
            .queries
            .iter()
            .map(|q| {
                let mut q = q.clone();
                q.region = region.to_owned();
                w.query_metric(&q, req.window)
            })
            .collect())
    }

    fn record(rec: &mut Recording, region: &str, req: &MetricRequest, out: &Vec<Series>) {
        for (q, s) in req.queries.iter().zip(out) {
            record_series(&mut rec.world, region, q, s);
        }
    }

    fn metrics_requested(req: &MetricRequest) -> usize {
        req.queries.len()
    }
}

fn metric_query(id: usize, q: &MetricQuery) -> cw::MetricDataQuery {
    let mut metric = cw::Metric::builder()
        .namespace(&q.namespace)
        .metric_name(&q.name);
    for (k, v) in &q.dimensions {
        metric = metric.dimensions(cw::Dimension::builder().name(k).value(v).build());
    }
    let stat = cw::MetricStat::builder()
        .metric(metric.build())
        .period(60)
        .stat(&q.stat)
        .build();
    cw::MetricDataQuery::builder()
        .id(format!("m{id}"))
        .metric_stat(stat)
        .return_data(true)
        .build()
}

/// Merges one statistic's datapoints into the world's series for that metric. A query that
/// came back empty still leaves its series (without datapoints): a replay lists it again.
fn record_series(w: &mut World, region: &str, q: &MetricQuery, s: &Series) {
    let Some(series) = world_series(w, region, &q.namespace, &q.name, &q.dimensions) else {
        return;
    };
    for (t, v) in &s.points {
        match series.datapoints.iter_mut().find(|d| d.timestamp == *t) {
            Some(d) => d.set_stat(&q.stat, *v),
            None => {
                let mut d = Datapoint {
                    timestamp: *t,
                    ..Datapoint::default()
                };
                d.set_stat(&q.stat, *v);
                series.datapoints.push(d);
            }
        }
    }
    series.datapoints.sort_by_key(|d| d.timestamp);
}

/// The world's series of one metric in `region` (dimensions sorted by name), added without
/// datapoints when the world has none yet.
fn world_series<'w>(
    w: &'w mut World,
    region: &str,
    namespace: &str,
    name: &str,
    dimensions: &[(String, String)],
) -> Option<&'w mut WorldSeries> {
    let series_region = (region != w.region).then(|| region.to_owned());
    let idx = w.cloudwatch.metrics.iter().position(|m| {
        m.namespace == namespace
            && m.metric_name == name
            && m.region == series_region
            && same_dimensions(&m.dimensions, dimensions)
    });
    let idx = match idx {
        Some(i) => i,
        None => {
            w.cloudwatch.metrics.push(WorldSeries {
                namespace: namespace.to_owned(),
                metric_name: name.to_owned(),
                dimensions: dimensions
                    .iter()
                    .map(|(k, v)| Dimension {
                        name: k.clone(),
                        value: v.clone(),
                    })
                    .collect(),
                period: 60,
                region: series_region,
                datapoints: Vec::new(),
            });
            w.cloudwatch.metrics.len() - 1
        }
    };
    w.cloudwatch.metrics.get_mut(idx)
}

// ---------------------------------------------------------------- ListMetrics

/// How far back `ListMetrics` looks (`RecentlyActive`, the only value CloudWatch takes): a
/// series with no datapoint in the last three hours is not listed.
pub(crate) const RECENTLY_ACTIVE_HOURS: i64 = 3;

/// A dimension filter of `ListMetrics`: with a value it matches that value only, without
/// one any value of the dimension.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct DimensionFilter {
    pub name: String,
    pub value: Option<String>,
}

impl DimensionFilter {
    pub(crate) fn new(name: &str, value: Option<&str>) -> Self {
        Self {
            name: name.to_owned(),
            value: value.map(str::to_owned),
        }
    }
}

/// What `ListMetrics` is asked, always with `RecentlyActive=PT3H`: the series of a namespace
/// (and of one metric name, if given) that have every filtered dimension; they may have
/// other dimensions too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricListing {
    pub namespace: String,
    pub metric_name: Option<String>,
    pub dimensions: Vec<DimensionFilter>,
}

impl MetricListing {
    /// Whether a series of `namespace`/`name` with `dimensions` is one this listing names.
    fn lists(&self, namespace: &str, name: &str, dimensions: &[Dimension]) -> bool {
        namespace == self.namespace
            && self.metric_name.as_deref().is_none_or(|n| n == name)
            && self.dimensions.iter().all(|f| {
                dimensions
                    .iter()
                    .any(|d| d.name == f.name && f.value.as_deref().is_none_or(|v| v == d.value))
            })
    }
}

/// One series `ListMetrics` names: a metric and its whole dimension set (sorted by name).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ListedMetric {
    pub namespace: String,
    pub name: String,
    pub dimensions: Vec<(String, String)>,
}

impl ListedMetric {
    fn new(
        namespace: &str,
        name: &str,
        dimensions: impl Iterator<Item = (String, String)>,
    ) -> Self {
        let mut dimensions: Vec<(String, String)> = dimensions.collect();
        dimensions.sort();
        Self {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            dimensions,
        }
    }

    /// Whether this is the series `query` reads (statistic and region aside).
    pub(crate) fn is(&self, query: &MetricQuery) -> bool {
        self.namespace == query.namespace
            && self.name == query.name
            && self.dimensions == query.dimensions
    }
}

/// The series matching a listing, each once, sorted.
pub struct ListMetrics;

impl Operation for ListMetrics {
    const OP: Op = Op::ListMetrics;
    type Input = MetricListing;
    type Output = Vec<ListedMetric>;

    /// `REGION NAMESPACE METRIC FILTERS`: `*` for no metric name, the filters as `Name=Value`
    /// or `Name` (any value), sorted and joined by `,` (`*` for none). For example
    /// `us-east-1 AWS/CloudFront * FunctionName=rewrite`.
    fn key(region: &str, l: &MetricListing) -> String {
        let mut filters: Vec<String> = l
            .dimensions
            .iter()
            .map(|f| match &f.value {
                Some(v) => format!("{}={v}", f.name),
                None => f.name.clone(),
            })
            .collect();
        filters.sort();
        let filters = if filters.is_empty() {
            "*".to_owned()
        } else {
            filters.join(",")
        };
        format!(
            "{region} {} {} {filters}",
            l.namespace,
            l.metric_name.as_deref().unwrap_or("*")
        )
    }

    async fn sdk(sdk: &AwsSdk, region: &str, l: &MetricListing) -> Answer<Vec<ListedMetric>> {
        let client = sdk.cw(region);
        let filters: Vec<cw::DimensionFilter> = l
            .dimensions
            .iter()
            .map(|f| {
                cw::DimensionFilter::builder()
                    .name(&f.name)
                    .set_value(f.value.clone())
                    .build()
            })
            .collect();
        let mut out = Vec::new();
        sdk.paginate(
            |token| {
                client
                    .list_metrics()
                    .namespace(&l.namespace)
                    .set_metric_name(l.metric_name.clone())
                    .set_dimensions(Some(filters.clone()))
                    .recently_active(cw::RecentlyActive::Pt3H)
                    .set_next_token(token)
                    .send()
                    .on_worker()
            },
            |r| super::sdk::marker(r.next_token()),
            |r| {
                out.extend(r.metrics().iter().filter_map(|m| {
                    let dims = m
                        .dimensions()
                        .iter()
                        .filter_map(|d| Some((d.name()?.to_owned(), d.value()?.to_owned())));
                    Some(ListedMetric::new(m.namespace()?, m.metric_name()?, dims))
                }));
            },
        )
        .await?;
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// The world's series in `region` that the listing names, with or without datapoints: a
    /// world holds a series because CloudWatch had it (a recording writes every series it
    /// listed or read), so `RecentlyActive` is not applied again.
    fn world(w: &World, region: &str, l: &MetricListing) -> Answer<Vec<ListedMetric>> {
        let mut out: Vec<ListedMetric> = w
            .cloudwatch
            .metrics
            .iter()
            .filter(|s| s.region.as_deref().unwrap_or(&w.region) == region)
            .filter(|s| l.lists(&s.namespace, &s.metric_name, &s.dimensions))
            .map(|s| {
                ListedMetric::new(
                    &s.namespace,
                    &s.metric_name,
                    s.dimensions
                        .iter()
                        .map(|d| (d.name.clone(), d.value.clone())),
                )
            })
            .collect();
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// Every listed series is written (without datapoints unless a read adds them), so the
    /// replay lists the same series.
    fn record(rec: &mut Recording, region: &str, _: &MetricListing, out: &Vec<ListedMetric>) {
        for m in out {
            world_series(&mut rec.world, region, &m.namespace, &m.name, &m.dimensions);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::port::Port;
    use crate::evidence::record::Recorder;

    const WORLD: &str = r#"{"Format":"fivexx-world/1","Region":"eu-west-1","CloudWatch":{"Metrics":[
        {"Namespace":"AWS/CloudFront","MetricName":"FunctionExecutionErrors","Region":"us-east-1",
         "Dimensions":[{"Name":"Region","Value":"Global"},{"Name":"FunctionName","Value":"rewrite"}]},
        {"Namespace":"AWS/CloudFront","MetricName":"FunctionInvocations","Region":"us-east-1",
         "Dimensions":[{"Name":"FunctionName","Value":"rewrite"},{"Name":"Region","Value":"Global"}],
         "Datapoints":[{"Timestamp":"2026-11-22T12:00:00Z","Sum":5}]},
        {"Namespace":"AWS/CloudFront","MetricName":"FunctionExecutionErrors","Region":"us-east-1",
         "Dimensions":[{"Name":"FunctionName","Value":"other"},{"Name":"Region","Value":"Global"}]},
        {"Namespace":"AWS/CloudFront","MetricName":"LambdaExecutionError","Region":"us-east-1",
         "Dimensions":[{"Name":"DistributionId","Value":"E1"},{"Name":"Region","Value":"Global"}]},
        {"Namespace":"AWS/CloudFront","MetricName":"FunctionExecutionErrors",
         "Dimensions":[{"Name":"FunctionName","Value":"rewrite"},{"Name":"Region","Value":"Global"}]}
    ]}}"#;

    fn listing(name: Option<&str>, filters: &[(&str, Option<&str>)]) -> MetricListing {
        MetricListing {
            namespace: "AWS/CloudFront".into(),
            metric_name: name.map(str::to_owned),
            dimensions: filters
                .iter()
                .map(|(k, v)| DimensionFilter::new(k, *v))
                .collect(),
        }
    }

    fn names(out: &[ListedMetric]) -> Vec<String> {
        out.iter()
            .map(|m| {
                let dims: Vec<String> = m
                    .dimensions
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect();
                format!("{} {}", m.name, dims.join(","))
            })
            .collect()
    }

    fn listed(w: &World, region: &str, l: &MetricListing) -> Vec<String> {
        names(&ListMetrics::world(w, region, l).unwrap())
    }

    #[test]
    fn a_filter_with_a_value_matches_that_value_only() {
        let w = World::parse(WORLD).unwrap();
        let out = ListMetrics::world(
            &w,
            "us-east-1",
            &listing(None, &[("FunctionName", Some("rewrite"))]),
        )
        .unwrap();
        // Every series with that dimension, whatever else it has, with or without datapoints.
        assert_eq!(
            names(&out),
            [
                "FunctionExecutionErrors FunctionName=rewrite,Region=Global",
                "FunctionInvocations FunctionName=rewrite,Region=Global",
            ]
        );
    }

    #[test]
    fn a_filter_without_a_value_matches_any_value() {
        let w = World::parse(WORLD).unwrap();
        let out = ListMetrics::world(
            &w,
            "us-east-1",
            &listing(Some("FunctionExecutionErrors"), &[("FunctionName", None)]),
        )
        .unwrap();
        assert_eq!(
            names(&out),
            [
                "FunctionExecutionErrors FunctionName=other,Region=Global",
                "FunctionExecutionErrors FunctionName=rewrite,Region=Global",
            ]
        );
    }

    #[test]
    fn a_series_needs_every_filtered_dimension_not_an_exact_set() {
        let w = World::parse(WORLD).unwrap();
        let both = listing(
            None,
            &[("DistributionId", Some("E1")), ("Region", Some("Global"))],
        );
        assert_eq!(
            names(&ListMetrics::world(&w, "us-east-1", &both).unwrap()),
            ["LambdaExecutionError DistributionId=E1,Region=Global"]
        );
        let missing_one = listing(
            None,
            &[("DistributionId", Some("E1")), ("FunctionName", None)],
        );
        assert!(listed(&w, "us-east-1", &missing_one).is_empty());
        let other_value = listing(None, &[("DistributionId", Some("E2"))]);
        assert!(listed(&w, "us-east-1", &other_value).is_empty());
    }

    #[test]
    fn a_listing_answers_from_the_region_asked_only() {
        let w = World::parse(WORLD).unwrap();
        let l = listing(
            Some("FunctionExecutionErrors"),
            &[("FunctionName", Some("rewrite"))],
        );
        // One series in us-east-1 (its `Region`), one in the world's own region.
        assert_eq!(listed(&w, "us-east-1", &l).len(), 1);
        assert_eq!(listed(&w, "eu-west-1", &l).len(), 1);
        assert!(listed(&w, "ap-south-1", &l).is_empty());
        let other_namespace = MetricListing {
            namespace: "AWS/Lambda".into(),
            ..l
        };
        assert!(listed(&w, "us-east-1", &other_namespace).is_empty());
    }

    #[test]
    fn the_errors_key_names_region_namespace_metric_and_filters() {
        let l = listing(None, &[("Region", Some("Global")), ("FunctionName", None)]);
        assert_eq!(
            ListMetrics::key("us-east-1", &l),
            "us-east-1 AWS/CloudFront * FunctionName,Region=Global"
        );
        let w = World::parse(
            r#"{"Format":"fivexx-world/1","Region":"us-east-1","Errors":{"cloudwatch:ListMetrics":
                {"us-east-1 AWS/CloudFront * FunctionName,Region=Global":{"Code":"AccessDenied"}}}}"#,
        )
        .unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let err = rt
            .block_on(w.call::<ListMetrics>("us-east-1", &l))
            .unwrap_err();
        assert_eq!(err.code, "AccessDenied");
        assert!(
            rt.block_on(w.call::<ListMetrics>("us-east-1", &listing(None, &[])))
                .is_ok()
        );
    }

    #[test]
    fn a_listed_series_read_empty_is_recorded_and_listed_again() {
        let w = World::parse(WORLD).unwrap();
        let now = DateTime::parse_from_rfc3339("2026-11-22T13:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let rec = Recorder::new(&w, "eu-west-1", None, now);
        let l = listing(None, &[("FunctionName", Some("rewrite"))]);
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let listed = rt
            .block_on(rec.call::<ListMetrics>("us-east-1", &l))
            .unwrap();
        let errors = MetricQuery::new(
            "us-east-1",
            "AWS/CloudFront",
            "FunctionExecutionErrors",
            &[("FunctionName", "rewrite"), ("Region", "Global")],
            "Sum",
        );
        let request = MetricRequest {
            queries: vec![errors],
            window: Window {
                start: now - chrono::Duration::hours(2),
                end: now,
            },
        };
        let read = rt
            .block_on(rec.call::<GetMetricData>("us-east-1", &request))
            .unwrap();
        assert!(read[0].is_empty());
        let replay = World::parse(&rec.world().to_json()).unwrap();
        assert_eq!(
            ListMetrics::world(&replay, "us-east-1", &l).unwrap(),
            listed
        );
    }
}
