//! Metric series: what was asked of CloudWatch and what came back.
//!
//! A [`MetricQuery`] names one series and one statistic in one region; a [`Series`] is its
//! per-minute datapoints. Missing minutes are absent, never zero: CloudWatch publishes ELB
//! metrics only while requests flow, and a rule that read a gap as "0 errors" would lie.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

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

    pub fn dimension(&self, name: &str) -> Option<&str> {
        self.dimensions
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// `SUM` (classic alarm JSON) and `Sum` (API) name the same statistic.
pub fn normalize_stat(stat: &str) -> String {
    match stat.to_ascii_lowercase().as_str() {
        "sum" => "Sum".into(),
        "average" | "avg" => "Average".into(),
        "minimum" | "min" => "Minimum".into(),
        "maximum" | "max" => "Maximum".into(),
        "samplecount" => "SampleCount".into(),
        other if other.starts_with('p') || other.starts_with("tm") => other.to_owned(),
        _ => stat.to_owned(),
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
    pub fn new(mut points: Vec<(DateTime<Utc>, f64)>) -> Self {
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
    pub fn between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> impl Iterator<Item = &(DateTime<Utc>, f64)> {
        self.points
            .iter()
            .filter(move |(t, _)| *t >= from && *t < to)
    }

    pub fn sum_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
        self.between(from, to).map(|(_, v)| v).sum()
    }

    pub fn max_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Option<f64> {
        self.between(from, to).map(|(_, v)| *v).reduce(f64::max)
    }

    pub fn min_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Option<f64> {
        self.between(from, to).map(|(_, v)| *v).reduce(f64::min)
    }

    pub fn mean_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Option<f64> {
        let (n, s) = self
            .between(from, to)
            .fold((0usize, 0.0), |(n, s), (_, v)| (n + 1, s + v));
        (n > 0).then(|| s / n as f64)
    }

    pub fn value_at(&self, t: DateTime<Utc>) -> Option<f64> {
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
    pub fn insert(&mut self, query: MetricQuery, series: Series) {
        self.series.insert(query, series);
    }

    pub fn get(&self, query: &MetricQuery) -> Option<&Series> {
        self.series.get(query)
    }

    /// The series of `name`/`stat` whose dimensions are exactly `dimensions`, in any region.
    pub fn find(
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

    pub fn iter(&self) -> impl Iterator<Item = (&MetricQuery, &Series)> {
        self.series.iter()
    }

    pub fn len(&self) -> usize {
        self.series.len()
    }

    pub fn is_empty(&self) -> bool {
        self.series.is_empty()
    }
}
