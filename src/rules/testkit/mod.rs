//! A small builder of rule inputs for the rule tests: an [`Alarm`], a load balancer (listeners,
//! one target group with its health and attributes, listener certificates), a CloudFront
//! distribution (one custom origin and its link to the load balancer) and per-minute metric
//! series over the two hours before `now`.
//!
//! Time is counted in minutes before `now`: minute `m` starts at `now - m min`, `m = 1..=120`.
//! The alarm changes state in minute 1 and watches 5 periods of 60 s, so the alarm window W is
//! `m = 1..=5` and the baseline B (the hour before W) is `m = 6..=65`.
//!
//! Load varies from minute to minute ([`load`]) so that "does it follow load" has an answer;
//! error counts are given as a share of that load ([`step`], [`flat`], [`with_load`]).
//!
//! Test-only: the rule tests beside each family (`alb/tests.rs`, `cloudfront/tests.rs`, ...)
//! build their input with it and assert with [`assertions`]; [`fixtures`] holds the incidents
//! several of them share.

#![allow(dead_code)] // each test uses its own part of the kit

mod alb;
mod apigw;
mod assertions;
mod clb;
mod cloudfront;
mod fixtures;

pub(crate) use self::alb::*;
pub(crate) use self::apigw::*;
pub(crate) use self::assertions::*;
pub(crate) use self::clb::*;
pub(crate) use self::cloudfront::*;
pub(crate) use self::fixtures::*;
pub(crate) use crate::rules::{Ctx, Draft, Kind, catalog};
pub(crate) use crate::verdict::{Finding, Status};

pub(crate) use crate::alarm::{Alarm, AlarmKind, AlarmMetric, Envelope};
pub(crate) use crate::evidence::acm::{CertificateDetail, DomainValidation, RenewalSummary};
pub(crate) use crate::evidence::cloudfront::{
    CacheBehavior, CustomOriginConfig, DistributionConfig, FunctionAssociation, HeadersConfig,
    Items, LambdaFunctionAssociation, Origin, OriginRequestPolicy, OriginRequestPolicyConfig,
};
pub(crate) use crate::evidence::cloudwatch::{MetricQuery, MetricRead, Metrics, Series, Unread};
pub(crate) use crate::evidence::elb::{
    Action, Attribute, ForwardConfig, Listener, ListenerCertificate, LoadBalancer,
    LoadBalancerState, Matcher, TargetDescription, TargetGroup, TargetGroupTuple, TargetHealth,
    TargetHealthDescription,
};
pub(crate) use crate::evidence::port::Window;
pub(crate) use crate::evidence::{
    AlbEvidence, DistributionEvidence, Evidence, Gap, GatherStats, OriginLink, TargetGroupEvidence,
};
pub(crate) use crate::rules::{self, Outcome};
pub(crate) use chrono::{DateTime, Duration, TimeZone, Utc};
pub(crate) use std::collections::BTreeMap;

pub(crate) const REGION: &str = "us-east-1";
pub(crate) const ACCOUNT: &str = "123456789012";
pub(crate) const LB_NAME: &str = "web";
pub(crate) const LB_DIM: &str = "app/web/f3b962d72ac3e219";
pub(crate) const LB_ARN: &str =
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web/f3b962d72ac3e219";
pub(crate) const LB_DNS: &str = "web-1179370118.us-east-1.elb.amazonaws.com";
pub(crate) const LB_SG: &str = "sg-0c2d1c0bd";
pub(crate) const TG_NAME: &str = "web-tg";
pub(crate) const TG_DIM: &str = "targetgroup/web-tg/81540f1e63039095";
pub(crate) const TG_ARN: &str =
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-tg/81540f1e63039095";
pub(crate) const HTTP_LISTENER_ARN: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/web/f3b962d72ac3e219/e9cd3a195afd4454";
pub(crate) const HTTPS_LISTENER_ARN: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/web/f3b962d72ac3e219/02cf02726d865f0f";
pub(crate) const CERT_ARN: &str =
    "arn:aws:acm:us-east-1:123456789012:certificate/6f7a8996-7109-5ebe-ee56-f66fa1e1f116";
pub(crate) const DIST_ID: &str = "E2QWRUHAPOMQZL";
pub(crate) const ORIGIN_ID: &str = "web-alb";
/// The origin's custom domain: a Route 53 alias to [`LB_DNS`].
pub(crate) const ORIGIN_DOMAIN: &str = "origin.example.com";
pub(crate) const LAMBDA_EDGE_ARN: &str =
    "arn:aws:lambda:us-east-1:123456789012:function:edge-headers:7";
pub(crate) const FUNCTION_NAME: &str = "rewrite-uri";
pub(crate) const FUNCTION_ARN: &str = "arn:aws:cloudfront::123456789012:function/rewrite-uri";
/// AWS managed origin request policies.
pub(crate) const ALL_VIEWER: &str = "216adef6-5c7f-47e4-b989-5492eafa07d3";
pub(crate) const ALL_VIEWER_EXCEPT_HOST: &str = "b689b0a8-53d0-40ab-baf2-68738e2966ac";

/// Minutes in the alarm window W.
pub(crate) const W_MINUTES: i64 = 5;
/// Minutes of metrics read (the evidence window).
pub(crate) const HISTORY: i64 = 120;

// ---------------------------------------------------------------- time and load

/// The triage clock.
pub(crate) fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 12, 40, 0)
        .single()
        .unwrap_or_default()
}

/// The start of minute `m` before `now`.
pub(crate) fn minute(m: i64) -> DateTime<Utc> {
    now() - Duration::minutes(m)
}

pub(crate) fn in_w(m: i64) -> bool {
    (1..=W_MINUTES).contains(&m)
}

/// Requests per minute: between 800 and 1,300, in a ten-minute cycle. W (`m = 1..=5`) sees
/// 1,200, 1,100, 1,300, 1,100, 1,200: neither the quietest nor only the busiest minutes, and
/// the step into W changes load by less than x1.43. Multiples of 100, so 1% of them is whole.
pub(crate) fn load(m: i64) -> f64 {
    const CYCLE: [f64; 10] = [
        1000.0, 1200.0, 1100.0, 1300.0, 1100.0, 1200.0, 900.0, 800.0, 1000.0, 900.0,
    ];
    CYCLE
        .get(usize::try_from(m.rem_euclid(10)).unwrap_or(0))
        .copied()
        .unwrap_or(1000.0)
}

/// A share of load that starts with W (none before): a step onset.
pub(crate) fn step(share: f64) -> impl Fn(i64) -> f64 {
    move |m| if in_w(m) { share } else { 0.0 }
}

/// The same share of load in every minute, W and B alike.
pub(crate) fn flat(share: f64) -> impl Fn(i64) -> f64 {
    move |_| share
}

/// A share that rises with load: 2% in the quietest minutes (800), 12% in the busiest (1,300).
pub(crate) fn with_load(m: i64) -> f64 {
    0.0002 * (load(m) - 700.0)
}

/// A per-minute series from `value(m)`; `None` is no datapoint.
pub(crate) fn series(value: impl Fn(i64) -> Option<f64>) -> Series {
    Series::new(
        (1..=HISTORY)
            .filter_map(|m| value(m).map(|v| (minute(m), v)))
            .collect(),
    )
}

// ---------------------------------------------------------------- alarms

fn alarm(name: &str, metric: AlarmMetric) -> Alarm {
    Alarm {
        envelope: Envelope::Sns,
        kind: AlarmKind::Metric,
        name: name.to_owned(),
        arn: Some(format!(
            "arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{name}"
        )),
        account: Some(ACCOUNT.to_owned()),
        region: Some(REGION.to_owned()),
        description: None,
        state: "ALARM".to_owned(),
        previous_state: Some("OK".to_owned()),
        reason: None,
        changed_at: Some(minute(1) + Duration::seconds(15)),
        previous_changed_at: None,
        metrics: vec![metric],
        threshold: Some(20.0),
        comparison: Some("GreaterThanThreshold".to_owned()),
        evaluation_periods: Some(u32::try_from(W_MINUTES).unwrap_or(5)),
        datapoints_to_alarm: Some(3),
        alarm_rule: None,
    }
}

fn dims(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// An alarm on an AWS/ApplicationELB metric of the load balancer (Sum per minute).
pub(crate) fn alb_alarm(metric: &str) -> Alarm {
    alarm(
        &format!("web-{}", metric.to_ascii_lowercase()),
        AlarmMetric {
            namespace: "AWS/ApplicationELB".to_owned(),
            name: metric.to_owned(),
            dimensions: dims(&[("LoadBalancer", LB_DIM)]),
            stat: Some("Sum".to_owned()),
            period: Some(60),
        },
    )
}

/// An alarm on an AWS/NetworkELB metric of the load balancer and `web-tg`.
pub(crate) fn nlb_alarm(metric: &str, stat: &str) -> Alarm {
    alarm(
        &format!("web-nlb-{}", metric.to_ascii_lowercase()),
        AlarmMetric {
            namespace: "AWS/NetworkELB".to_owned(),
            name: metric.to_owned(),
            dimensions: dims(&[("LoadBalancer", LB_DIM), ("TargetGroup", TG_DIM)]),
            stat: Some(stat.to_owned()),
            period: Some(60),
        },
    )
}

/// An alarm on a target group metric (`HealthyHostCount`, `UnHealthyHostCount`).
pub(crate) fn tg_alarm(metric: &str, stat: &str) -> Alarm {
    alarm(
        &format!("web-tg-{}", metric.to_ascii_lowercase()),
        AlarmMetric {
            namespace: "AWS/ApplicationELB".to_owned(),
            name: metric.to_owned(),
            dimensions: dims(&[("LoadBalancer", LB_DIM), ("TargetGroup", TG_DIM)]),
            stat: Some(stat.to_owned()),
            period: Some(60),
        },
    )
}

/// An alarm on an AWS/CloudFront rate metric of the distribution (Average per minute).
pub(crate) fn cf_alarm(metric: &str) -> Alarm {
    alarm(
        &format!("cdn-{}", metric.to_ascii_lowercase()),
        AlarmMetric {
            namespace: "AWS/CloudFront".to_owned(),
            name: metric.to_owned(),
            dimensions: dims(&[("DistributionId", DIST_ID), ("Region", "Global")]),
            stat: Some("Average".to_owned()),
            period: Some(60),
        },
    )
}

// ---------------------------------------------------------------- the whole input

/// An alarm and the evidence gathered for it.
#[derive(Debug, Clone)]
pub(crate) struct Scenario {
    pub alarm: Alarm,
    pub albs: Vec<AlbEvidence>,
    pub distributions: Vec<DistributionEvidence>,
    pub apis: Vec<crate::evidence::ApiEvidence>,
    pub classic: Vec<crate::evidence::ClbEvidence>,
    pub metrics: Metrics,
    pub gaps: Vec<Gap>,
    /// ELB 5xx per minute, summed from the per-code series.
    elb_5xx: BTreeMap<i64, f64>,
    /// CloudFront 5xx rate (percent) per minute, summed from the per-code rates.
    cf_5xx: BTreeMap<i64, f64>,
}

fn alb_query(name: &str, stat: &str) -> MetricQuery {
    MetricQuery::new(
        REGION,
        "AWS/ApplicationELB",
        name,
        &[("LoadBalancer", LB_DIM)],
        stat,
    )
}

fn cf_query(name: &str, dims: &[(&str, &str)], stat: &str) -> MetricQuery {
    MetricQuery::new("us-east-1", "AWS/CloudFront", name, dims, stat)
}

impl Scenario {
    pub(crate) fn new(alarm: Alarm) -> Self {
        Self {
            alarm,
            albs: Vec::new(),
            distributions: Vec::new(),
            apis: Vec::new(),
            classic: Vec::new(),
            metrics: Metrics::default(),
            gaps: Vec::new(),
            elb_5xx: BTreeMap::new(),
            cf_5xx: BTreeMap::new(),
        }
    }

    pub(crate) fn alb(mut self, alb: Alb) -> Self {
        self.albs.push(alb.0);
        self
    }

    pub(crate) fn dist(mut self, dist: Dist) -> Self {
        self.distributions.push(dist.0);
        self
    }

    /// A source that could not be read.
    pub(crate) fn gap(mut self, source: &str, reason: &str) -> Self {
        self.gaps.push(Gap {
            source: source.to_owned(),
            reason: reason.to_owned(),
            resource: None,
            kind: crate::evidence::GapKind::Error,
        });
        self
    }

    // ------------------------------------------------------------ NLB metrics

    /// AWS/NetworkELB `name` (Sum) on the load balancer: `value(m)` per minute.
    pub(crate) fn nlb_metric(mut self, name: &str, value: impl Fn(i64) -> Option<f64>) -> Self {
        self.metrics.insert(
            MetricQuery::new(
                REGION,
                "AWS/NetworkELB",
                name,
                &[("LoadBalancer", LB_DIM)],
                "Sum",
            ),
            series(value),
        );
        self
    }

    /// AWS/NetworkELB `name`/`stat` on `web-tg`.
    pub(crate) fn nlb_tg_metric(
        mut self,
        name: &str,
        stat: &str,
        value: impl Fn(i64) -> Option<f64>,
    ) -> Self {
        self.metrics.insert(
            MetricQuery::new(
                REGION,
                "AWS/NetworkELB",
                name,
                &[("LoadBalancer", LB_DIM), ("TargetGroup", TG_DIM)],
                stat,
            ),
            series(value),
        );
        self
    }

    // ------------------------------------------------------------ ALB metrics

    /// AWS/ApplicationELB `name`/`stat` on the load balancer: `value(m)` per minute.
    pub(crate) fn alb_metric(
        mut self,
        name: &str,
        stat: &str,
        value: impl Fn(i64) -> Option<f64>,
    ) -> Self {
        self.metrics.insert(alb_query(name, stat), series(value));
        self
    }

    /// AWS/ApplicationELB `name`/`stat` on `web-tg` (LoadBalancer and TargetGroup dimensions).
    pub(crate) fn tg_metric(
        mut self,
        name: &str,
        stat: &str,
        value: impl Fn(i64) -> Option<f64>,
    ) -> Self {
        self.metrics.insert(
            MetricQuery::new(
                REGION,
                "AWS/ApplicationELB",
                name,
                &[("LoadBalancer", LB_DIM), ("TargetGroup", TG_DIM)],
                stat,
            ),
            series(value),
        );
        self
    }

    /// `RequestCount` of target group `name` (one made by [`Alb::routed_group`], or `web-tg`):
    /// `share` of [`load`] in every minute.
    pub(crate) fn group_requests(mut self, name: &str, share: f64) -> Self {
        let dim = TG_DIM.replace(TG_NAME, name);
        self.metrics.insert(
            MetricQuery::new(
                REGION,
                "AWS/ApplicationELB",
                "RequestCount",
                &[("LoadBalancer", LB_DIM), ("TargetGroup", &dim)],
                "Sum",
            ),
            series(move |m| Some((share * load(m)).round())),
        );
        self
    }

    /// A count metric on the load balancer: `share(m)` of [`load`], no datapoint where it is 0
    /// (ELB publishes counts only when they are non-zero).
    pub(crate) fn alb_count(self, name: &str, share: impl Fn(i64) -> f64) -> Self {
        self.alb_metric(name, "Sum", move |m| {
            let v = (share(m) * load(m)).round();
            (v > 0.0).then_some(v)
        })
    }

    /// `RequestCount` = [`load`] in every minute.
    pub(crate) fn requests(self) -> Self {
        self.alb_metric("RequestCount", "Sum", |m| Some(load(m)))
    }

    /// `RequestCount` = [`load`] before W only: in W no request reaches a target.
    pub(crate) fn requests_stop_in_w(self) -> Self {
        self.alb_metric("RequestCount", "Sum", |m| (!in_w(m)).then(|| load(m)))
    }

    /// `HTTPCode_ELB_{code}_Count` = `share(m)` of load (also added to `HTTPCode_ELB_5XX_Count`).
    pub(crate) fn elb(mut self, code: u16, share: impl Fn(i64) -> f64) -> Self {
        for m in 1..=HISTORY {
            let v = (share(m) * load(m)).round();
            if v > 0.0 {
                *self.elb_5xx.entry(m).or_default() += v;
            }
        }
        self.alb_count(&format!("HTTPCode_ELB_{code}_Count"), share)
    }

    /// `HTTPCode_Target_5XX_Count` = `share(m)` of load.
    pub(crate) fn target_5xx(self, share: impl Fn(i64) -> f64) -> Self {
        self.alb_count("HTTPCode_Target_5XX_Count", share)
    }

    /// `HTTPCode_Target_2XX_Count` = `share(m)` of load.
    pub(crate) fn target_2xx(self, share: impl Fn(i64) -> f64) -> Self {
        self.alb_count("HTTPCode_Target_2XX_Count", share)
    }

    /// `TargetResponseTime` `stat` in seconds, every minute.
    pub(crate) fn response_time(self, stat: &str, secs: impl Fn(i64) -> Option<f64>) -> Self {
        self.alb_metric("TargetResponseTime", stat, secs)
    }

    /// `HealthyHostCount` Minimum of `web-tg`.
    pub(crate) fn healthy_hosts(self, n: impl Fn(i64) -> f64) -> Self {
        self.tg_metric("HealthyHostCount", "Minimum", move |m| Some(n(m)))
    }

    // ------------------------------------------------------------ CloudFront metrics

    /// AWS/CloudFront `name`/`stat` of the distribution (DistributionId, Region=Global).
    pub(crate) fn cf_metric(
        mut self,
        name: &str,
        stat: &str,
        value: impl Fn(i64) -> Option<f64>,
    ) -> Self {
        self.metrics.insert(
            cf_query(
                name,
                &[("DistributionId", DIST_ID), ("Region", "Global")],
                stat,
            ),
            series(value),
        );
        self
    }

    /// CloudFront `Requests` = `per_alb_request` x [`load`] every minute.
    pub(crate) fn cf_requests(self, per_alb_request: f64) -> Self {
        self.cf_metric("Requests", "Sum", move |m| Some(per_alb_request * load(m)))
    }

    /// CloudFront `{code}ErrorRate` (percent of all requests) = `share(m)` x 100, every
    /// minute; added to `5xxErrorRate`. Code 500 has no rate metric of its own.
    pub(crate) fn cf_errors(mut self, code: u16, share: impl Fn(i64) -> f64) -> Self {
        for m in 1..=HISTORY {
            *self.cf_5xx.entry(m).or_default() += share(m) * 100.0;
        }
        if code == 500 {
            return self;
        }
        self.cf_metric(&format!("{code}ErrorRate"), "Average", move |m| {
            Some(share(m) * 100.0)
        })
    }

    /// `OriginLatency` `stat` in milliseconds.
    pub(crate) fn origin_latency(self, stat: &str, ms: impl Fn(i64) -> Option<f64>) -> Self {
        self.cf_metric("OriginLatency", stat, ms)
    }

    /// A Lambda@Edge metric of the distribution (`LambdaValidationError`, ...): `share(m)` of
    /// ten times [`load`], no datapoint where 0.
    pub(crate) fn lambda_edge_metric(self, name: &str, share: impl Fn(i64) -> f64) -> Self {
        self.cf_metric(name, "Sum", move |m| {
            let v = (share(m) * 10.0 * load(m)).round();
            (v > 0.0).then_some(v)
        })
    }

    /// A CloudFront Functions metric of [`FUNCTION_NAME`] (FunctionName, Region=Global).
    pub(crate) fn function_metric(mut self, name: &str, share: impl Fn(i64) -> f64) -> Self {
        self.metrics.insert(
            cf_query(
                name,
                &[("FunctionName", FUNCTION_NAME), ("Region", "Global")],
                "Sum",
            ),
            series(move |m| {
                let v = (share(m) * 10.0 * load(m)).round();
                (v > 0.0).then_some(v)
            }),
        );
        self
    }

    // ------------------------------------------------------------ out

    /// An edge-function metric (`function`: `None` for Lambda@Edge) whose read failed.
    pub(crate) fn edge_metric_failed(mut self, function: Option<&str>, name: &str) -> Self {
        let dims = match function {
            Some(f) => [("FunctionName", f), ("Region", "Global")],
            None => [("DistributionId", DIST_ID), ("Region", "Global")],
        };
        self.metrics
            .mark_unread(cf_query(name, &dims, "Sum"), Unread::Failed);
        self
    }

    pub(crate) fn evidence(&self) -> Evidence {
        let mut metrics = self.metrics.clone();
        // As gathering leaves them: every edge-function metric of the configuration is asked
        // for; those a scenario does not set came back without datapoints.
        for d in &self.distributions {
            let Some(cfg) = &d.config else { continue };
            let mut queries = Vec::new();
            if cfg.has_lambda_edge() {
                queries.extend(crate::evidence::gather::lambda_edge_queries(&d.id));
            }
            for f in cfg.function_names() {
                queries.extend(crate::evidence::gather::function_queries(f));
            }
            for q in queries {
                let dims: Vec<(&str, &str)> = q
                    .dimensions
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                let state = metrics.read_state(&q.namespace, &q.name, &dims, &q.stat);
                if state == MetricRead::NotAsked {
                    metrics.insert(q, Series::default());
                }
            }
        }
        if !self.elb_5xx.is_empty() {
            let totals = self.elb_5xx.clone();
            metrics.insert(
                alb_query("HTTPCode_ELB_5XX_Count", "Sum"),
                series(move |m| totals.get(&m).copied()),
            );
        }
        if !self.cf_5xx.is_empty() {
            let totals = self.cf_5xx.clone();
            metrics.insert(
                cf_query(
                    "5xxErrorRate",
                    &[("DistributionId", DIST_ID), ("Region", "Global")],
                    "Average",
                ),
                series(move |m| totals.get(&m).copied()),
            );
        }
        Evidence {
            now: now(),
            window: Window {
                start: minute(HISTORY),
                end: now(),
            },
            albs: self.albs.clone(),
            distributions: self.distributions.clone(),
            apis: self.apis.clone(),
            classic: self.classic.clone(),
            metrics,
            gaps: self.gaps.clone(),
            stats: GatherStats::default(),
        }
    }

    /// Runs every rule: `crate::rules::evaluate`.
    pub(crate) fn evaluate(&self) -> Outcome {
        rules::evaluate(&self.alarm, &self.evidence())
    }
}
