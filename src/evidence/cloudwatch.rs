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

/// Every series read in one triage.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Metrics {
    series: BTreeMap<MetricQuery, Series>,
}

impl Metrics {
    pub(crate) fn insert(&mut self, query: MetricQuery, series: Series) {
        self.series.insert(query, series);
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
        let mut dims: Vec<(&str, &str)> = dimensions.to_vec();
        dims.sort();
        let stat = normalize_stat(stat);
        self.series.iter().find_map(|(q, s)| {
            let same_dims = q.dimensions.len() == dims.len()
                && q.dimensions
                    .iter()
                    .zip(&dims)
                    .all(|((k, v), (k2, v2))| k == k2 && v == v2);
            (q.namespace == namespace && q.name == name && q.stat == stat && same_dims).then_some(s)
        })
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (&MetricQuery, &Series)> {
        self.series.iter()
    }

    pub fn is_empty(&self) -> bool {
        self.series.is_empty()
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

/// Merges one statistic's datapoints into the world's series for that metric.
fn record_series(w: &mut World, region: &str, q: &MetricQuery, s: &Series) {
    let series_region = (region != w.region).then(|| region.to_owned());
    let dims: Vec<Dimension> = q
        .dimensions
        .iter()
        .map(|(k, v)| Dimension {
            name: k.clone(),
            value: v.clone(),
        })
        .collect();
    let idx = w.cloudwatch.metrics.iter().position(|m| {
        m.namespace == q.namespace
            && m.metric_name == q.name
            && m.region == series_region
            && same_dimensions(&m.dimensions, &q.dimensions)
    });
    let idx = match idx {
        Some(i) => i,
        None => {
            w.cloudwatch.metrics.push(WorldSeries {
                namespace: q.namespace.clone(),
                metric_name: q.name.clone(),
                dimensions: dims,
                period: 60,
                region: series_region,
                datapoints: Vec::new(),
            });
            w.cloudwatch.metrics.len() - 1
        }
    };
    let Some(series) = w.cloudwatch.metrics.get_mut(idx) else {
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
