//! `--record`: a port wrapper that writes down every answer as a world file.
//!
//! A recorded world replays to the same verdict: it holds exactly what the triage read, and
//! every failure (access denied, not found, throttling, a deadline) under `Errors`, keyed by
//! the operation and its input, with AWS's own code and message, so the replay has the same
//! gaps word for word.

use std::collections::BTreeMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};

use super::metrics::{MetricQuery, Series};
use super::model::{
    Attribute, CertificateDetail, CertificateSummary, DistributionConfigEnvelope, HostedZone,
    Listener, LoadBalancer, OriginRequestPolicyEnvelope, ResourceRecordSet, Rule, TargetGroup,
    TargetHealthDescription,
};
use super::port::{Answer, AwsPort, Op, Window};
use super::world::{
    Attributes, CertificateEnvelope, Datapoint, Dimension, Fault, Listeners, ResourceRecordSets,
    Rules, TargetHealthDescriptions, World, WorldSeries,
};

pub struct Recorder<'a, P> {
    inner: &'a P,
    world: Mutex<World>,
    /// Certificates listed by `ListCertificates`, by ARN.
    listed: Mutex<BTreeMap<String, CertificateDetail>>,
}

impl<'a, P: AwsPort> Recorder<'a, P> {
    pub fn new(inner: &'a P, region: &str, account: Option<String>, now: DateTime<Utc>) -> Self {
        Self {
            inner,
            world: Mutex::new(World::new(region, account, now)),
            listed: Mutex::new(BTreeMap::new()),
        }
    }

    /// The world seen so far. A listener certificate the triage read from `ListCertificates`
    /// and did not describe is written as a `DescribeCertificate` entry holding the summary's
    /// fields: the replay lists it again, from that entry. Other listed certificates are left
    /// out (they are the account's, not the incident's).
    pub fn world(&self) -> World {
        let mut w = self.world.lock().map(|w| w.clone()).unwrap_or_default();
        let Ok(listed) = self.listed.lock() else {
            return w;
        };
        let arns: Vec<String> = w
            .elbv2
            .describe_listeners
            .values()
            .flat_map(|l| &l.listeners)
            .flat_map(|l| &l.certificates)
            .map(|c| c.certificate_arn.clone())
            .collect();
        let described_or_failed = |w: &World, arn: &str| {
            w.acm.describe_certificate.contains_key(arn)
                || w.errors
                    .get(Op::DescribeCertificate.iam_name())
                    .is_some_and(|e| e.contains_key(arn))
        };
        for arn in arns {
            if let Some(detail) = listed.get(&arn)
                && !described_or_failed(&w, &arn)
            {
                w.acm.describe_certificate.insert(
                    arn,
                    CertificateEnvelope {
                        certificate: detail.clone(),
                    },
                );
            }
        }
        w
    }

    fn note<T>(
        &self,
        op: Op,
        key: &str,
        answer: Answer<T>,
        keep: impl FnOnce(&mut World, &T),
    ) -> Answer<T> {
        if let Ok(mut w) = self.world.lock() {
            match &answer {
                Ok(v) => keep(&mut w, v),
                Err(e) => {
                    w.errors
                        .entry(op.iam_name().to_owned())
                        .or_default()
                        .insert(
                            key.to_owned(),
                            Fault {
                                code: e.code.clone(),
                                message: e.message.clone(),
                            },
                        );
                }
            }
        }
        answer
    }
}

fn push_unique<T: PartialEq + Clone>(list: &mut Vec<T>, items: &[T]) {
    for item in items {
        if !list.contains(item) {
            list.push(item.clone());
        }
    }
}

impl<P: AwsPort> AwsPort for Recorder<'_, P> {
    async fn describe_load_balancers(
        &self,
        region: &str,
        arn: Option<&str>,
    ) -> Answer<Vec<LoadBalancer>> {
        let a = self.inner.describe_load_balancers(region, arn).await;
        self.note(
            Op::DescribeLoadBalancers,
            arn.unwrap_or(region),
            a,
            |w, v| {
                push_unique(&mut w.elbv2.describe_load_balancers.load_balancers, v);
            },
        )
    }

    async fn describe_load_balancer_attributes(
        &self,
        region: &str,
        lb_arn: &str,
    ) -> Answer<Vec<Attribute>> {
        let a = self
            .inner
            .describe_load_balancer_attributes(region, lb_arn)
            .await;
        self.note(Op::DescribeLoadBalancerAttributes, lb_arn, a, |w, v| {
            w.elbv2.describe_load_balancer_attributes.insert(
                lb_arn.to_owned(),
                Attributes {
                    attributes: v.clone(),
                },
            );
        })
    }

    async fn describe_listeners(&self, region: &str, lb_arn: &str) -> Answer<Vec<Listener>> {
        let a = self.inner.describe_listeners(region, lb_arn).await;
        self.note(Op::DescribeListeners, lb_arn, a, |w, v| {
            w.elbv2.describe_listeners.insert(
                lb_arn.to_owned(),
                Listeners {
                    listeners: v.clone(),
                },
            );
        })
    }

    async fn describe_rules(&self, region: &str, listener_arn: &str) -> Answer<Vec<Rule>> {
        let a = self.inner.describe_rules(region, listener_arn).await;
        self.note(Op::DescribeRules, listener_arn, a, |w, v| {
            w.elbv2
                .describe_rules
                .insert(listener_arn.to_owned(), Rules { rules: v.clone() });
        })
    }

    async fn describe_target_groups(&self, region: &str, lb_arn: &str) -> Answer<Vec<TargetGroup>> {
        let a = self.inner.describe_target_groups(region, lb_arn).await;
        self.note(Op::DescribeTargetGroups, lb_arn, a, |w, v| {
            push_unique(&mut w.elbv2.describe_target_groups.target_groups, v);
        })
    }

    async fn describe_target_group_attributes(
        &self,
        region: &str,
        tg_arn: &str,
    ) -> Answer<Vec<Attribute>> {
        let a = self
            .inner
            .describe_target_group_attributes(region, tg_arn)
            .await;
        self.note(Op::DescribeTargetGroupAttributes, tg_arn, a, |w, v| {
            w.elbv2.describe_target_group_attributes.insert(
                tg_arn.to_owned(),
                Attributes {
                    attributes: v.clone(),
                },
            );
        })
    }

    async fn describe_target_health(
        &self,
        region: &str,
        tg_arn: &str,
    ) -> Answer<Vec<TargetHealthDescription>> {
        let a = self.inner.describe_target_health(region, tg_arn).await;
        self.note(Op::DescribeTargetHealth, tg_arn, a, |w, v| {
            w.elbv2.describe_target_health.insert(
                tg_arn.to_owned(),
                TargetHealthDescriptions {
                    target_health_descriptions: v.clone(),
                },
            );
        })
    }

    async fn describe_certificate(&self, region: &str, arn: &str) -> Answer<CertificateDetail> {
        let a = self.inner.describe_certificate(region, arn).await;
        self.note(Op::DescribeCertificate, arn, a, |w, v| {
            w.acm.describe_certificate.insert(
                arn.to_owned(),
                CertificateEnvelope {
                    certificate: v.clone(),
                },
            );
        })
    }

    /// Not written as such (the world format has no list): kept, and the certificates the
    /// triage took from it are written as `DescribeCertificate` entries by [`Recorder::world`].
    async fn list_certificates(&self, region: &str) -> Answer<Vec<CertificateSummary>> {
        let a = self.inner.list_certificates(region).await;
        if let Ok(list) = &a
            && let Ok(mut listed) = self.listed.lock()
        {
            for c in list {
                listed.insert(c.detail.certificate_arn.clone(), c.detail.clone());
            }
        }
        self.note(Op::ListCertificates, region, a, |_, _| {})
    }

    async fn get_distribution_config(&self, id: &str) -> Answer<DistributionConfigEnvelope> {
        let a = self.inner.get_distribution_config(id).await;
        self.note(Op::GetDistributionConfig, id, a, |w, v| {
            w.cloudfront
                .get_distribution_config
                .insert(id.to_owned(), v.clone());
        })
    }

    async fn get_origin_request_policy(&self, id: &str) -> Answer<OriginRequestPolicyEnvelope> {
        let a = self.inner.get_origin_request_policy(id).await;
        self.note(Op::GetOriginRequestPolicy, id, a, |w, v| {
            w.cloudfront
                .get_origin_request_policy
                .insert(id.to_owned(), v.clone());
        })
    }

    async fn list_hosted_zones(&self) -> Answer<Vec<HostedZone>> {
        let a = self.inner.list_hosted_zones().await;
        self.note(Op::ListHostedZonesByName, "*", a, |w, v| {
            w.route53.list_hosted_zones_by_name.hosted_zones = v.clone();
        })
    }

    async fn list_resource_record_sets(
        &self,
        zone_id: &str,
        name: &str,
    ) -> Answer<Vec<ResourceRecordSet>> {
        let a = self.inner.list_resource_record_sets(zone_id, name).await;
        self.note(
            Op::ListResourceRecordSets,
            &format!("{zone_id} {name}"),
            a,
            |w, v| {
                let key = zone_id.trim_start_matches("/hostedzone/").to_owned();
                let entry = w
                    .route53
                    .list_resource_record_sets
                    .entry(key)
                    .or_insert_with(ResourceRecordSets::default);
                push_unique(&mut entry.resource_record_sets, v);
            },
        )
    }

    async fn get_metric_data(
        &self,
        region: &str,
        queries: &[MetricQuery],
        window: Window,
    ) -> Answer<Vec<Series>> {
        let a = self.inner.get_metric_data(region, queries, window).await;
        self.note(Op::GetMetricData, region, a, |w, v| {
            for (q, s) in queries.iter().zip(v) {
                record_series(w, region, q, s);
            }
        })
    }

    fn api_calls(&self) -> usize {
        self.inner.api_calls()
    }

    fn origin_regions(&self) -> Vec<String> {
        self.inner.origin_regions()
    }
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
            && m.dimensions.len() == dims.len()
            && m.dimensions
                .iter()
                .all(|d| dims.iter().any(|e| e.name == d.name && e.value == d.value))
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
