//! A small builder of rule inputs for `tests/rules.rs`: an [`Alarm`], a load balancer (listeners,
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

#![allow(dead_code)] // each test uses its own part of the builder

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, TimeZone, Utc};
use fivexx::alarm::{Alarm, AlarmKind, AlarmMetric, Envelope};
use fivexx::evidence::acm::{CertificateDetail, DomainValidation, RenewalSummary};
use fivexx::evidence::cloudfront::{
    CacheBehavior, CustomOriginConfig, DistributionConfig, FunctionAssociation, HeadersConfig,
    Items, LambdaFunctionAssociation, Origin, OriginRequestPolicy, OriginRequestPolicyConfig,
};
use fivexx::evidence::cloudwatch::{MetricQuery, Metrics, Series};
use fivexx::evidence::elb::{
    Action, Attribute, ForwardConfig, Listener, ListenerCertificate, LoadBalancer,
    LoadBalancerState, Matcher, TargetDescription, TargetGroup, TargetGroupTuple, TargetHealth,
    TargetHealthDescription,
};
use fivexx::evidence::port::Window;
use fivexx::evidence::{
    AlbEvidence, DistributionEvidence, Evidence, Gap, GatherStats, OriginLink, TargetGroupEvidence,
};
use fivexx::rules::{self, Outcome};

pub const REGION: &str = "us-east-1";
pub const ACCOUNT: &str = "123456789012";
pub const LB_NAME: &str = "web";
pub const LB_DIM: &str = "app/web/f3b962d72ac3e219";
pub const LB_ARN: &str =
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web/f3b962d72ac3e219";
pub const LB_DNS: &str = "web-1179370118.us-east-1.elb.amazonaws.com";
pub const LB_SG: &str = "sg-0c2d1c0bd";
pub const TG_NAME: &str = "web-tg";
pub const TG_DIM: &str = "targetgroup/web-tg/81540f1e63039095";
pub const TG_ARN: &str =
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-tg/81540f1e63039095";
pub const HTTP_LISTENER_ARN: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/web/f3b962d72ac3e219/e9cd3a195afd4454";
pub const HTTPS_LISTENER_ARN: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/web/f3b962d72ac3e219/02cf02726d865f0f";
pub const CERT_ARN: &str =
    "arn:aws:acm:us-east-1:123456789012:certificate/6f7a8996-7109-5ebe-ee56-f66fa1e1f116";
pub const DIST_ID: &str = "E2QWRUHAPOMQZL";
pub const ORIGIN_ID: &str = "web-alb";
/// The origin's custom domain: a Route 53 alias to [`LB_DNS`].
pub const ORIGIN_DOMAIN: &str = "origin.example.com";
pub const LAMBDA_EDGE_ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:edge-headers:7";
pub const FUNCTION_NAME: &str = "rewrite-uri";
pub const FUNCTION_ARN: &str = "arn:aws:cloudfront::123456789012:function/rewrite-uri";
/// AWS managed origin request policies.
pub const ALL_VIEWER: &str = "216adef6-5c7f-47e4-b989-5492eafa07d3";
pub const ALL_VIEWER_EXCEPT_HOST: &str = "b689b0a8-53d0-40ab-baf2-68738e2966ac";

/// Minutes in the alarm window W.
pub const W_MINUTES: i64 = 5;
/// Minutes of metrics read (the evidence window).
pub const HISTORY: i64 = 120;

// ---------------------------------------------------------------- time and load

/// The triage clock.
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 12, 40, 0)
        .single()
        .unwrap_or_default()
}

/// The start of minute `m` before `now`.
pub fn minute(m: i64) -> DateTime<Utc> {
    now() - Duration::minutes(m)
}

pub fn in_w(m: i64) -> bool {
    (1..=W_MINUTES).contains(&m)
}

/// Requests per minute: between 800 and 1,300, in a ten-minute cycle. W (`m = 1..=5`) sees
/// 1,200, 1,100, 1,300, 1,100, 1,200: neither the quietest nor only the busiest minutes, and
/// the step into W changes load by less than x1.43. Multiples of 100, so 1% of them is whole.
pub fn load(m: i64) -> f64 {
    const CYCLE: [f64; 10] = [
        1000.0, 1200.0, 1100.0, 1300.0, 1100.0, 1200.0, 900.0, 800.0, 1000.0, 900.0,
    ];
    CYCLE
        .get(usize::try_from(m.rem_euclid(10)).unwrap_or(0))
        .copied()
        .unwrap_or(1000.0)
}

/// A share of load that starts with W (none before): a step onset.
pub fn step(share: f64) -> impl Fn(i64) -> f64 {
    move |m| if in_w(m) { share } else { 0.0 }
}

/// The same share of load in every minute, W and B alike.
pub fn flat(share: f64) -> impl Fn(i64) -> f64 {
    move |_| share
}

/// A share that rises with load: 2% in the quietest minutes (800), 12% in the busiest (1,300).
pub fn with_load(m: i64) -> f64 {
    0.0002 * (load(m) - 700.0)
}

/// A per-minute series from `value(m)`; `None` is no datapoint.
pub fn series(value: impl Fn(i64) -> Option<f64>) -> Series {
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
pub fn alb_alarm(metric: &str) -> Alarm {
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

/// An alarm on a target group metric (`HealthyHostCount`, `UnHealthyHostCount`).
pub fn tg_alarm(metric: &str, stat: &str) -> Alarm {
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
pub fn cf_alarm(metric: &str) -> Alarm {
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

// ---------------------------------------------------------------- load balancer

/// One target's health, with the description AWS gives for its reason.
pub fn target(i: usize, state: &str, reason: Option<&str>) -> TargetHealthDescription {
    let description = reason.map(|r| {
        match r {
            "Target.Timeout" => "Request timed out",
            "Target.ResponseCodeMismatch" => "Health checks failed with these codes: [404]",
            "Target.FailedHealthChecks" => "Health checks failed",
            "Target.NotInUse" => {
                "Target group is not configured to receive traffic from the load balancer"
            }
            "Target.InvalidState" => "Target is in the stopped state",
            "Target.DeregistrationInProgress" => "Target deregistration is in progress",
            "Target.HealthCheckDisabled" => "Health checks are disabled",
            "Elb.InitialHealthChecking" => "Initial health checks in progress",
            _ => "",
        }
        .to_owned()
    });
    TargetHealthDescription {
        target: TargetDescription {
            id: format!("i-0{i:016x}"),
            port: Some(8080),
            availability_zone: Some(
                if i.is_multiple_of(2) {
                    "us-east-1a"
                } else {
                    "us-east-1b"
                }
                .into(),
            ),
        },
        health_check_port: Some("8080".into()),
        target_health: TargetHealth {
            state: Some(state.to_owned()),
            reason: reason.map(str::to_owned),
            description,
        },
    }
}

fn attr(key: &str, value: &str) -> Attribute {
    Attribute {
        key: key.to_owned(),
        value: value.to_owned(),
    }
}

fn forward(tg: &str) -> Action {
    Action {
        kind: "forward".into(),
        order: Some(1),
        target_group_arn: Some(tg.to_owned()),
        forward_config: Some(ForwardConfig {
            target_groups: vec![TargetGroupTuple {
                target_group_arn: tg.to_owned(),
                weight: Some(1),
            }],
        }),
        fixed_response_config: None,
    }
}

/// An ACM certificate that is fine: Amazon-issued, DNS-validated, renewing, 200 days left.
pub fn certificate(domain: &str, sans: &[&str]) -> CertificateDetail {
    let mut names: Vec<String> = vec![domain.to_owned()];
    names.extend(sans.iter().map(|s| (*s).to_owned()));
    CertificateDetail {
        certificate_arn: CERT_ARN.to_owned(),
        domain_name: Some(domain.to_owned()),
        subject_alternative_names: names.clone(),
        kind: Some("AMAZON_ISSUED".into()),
        status: Some("ISSUED".into()),
        not_before: Some(now() - Duration::days(165)),
        not_after: Some(now() + Duration::days(200)),
        renewal_eligibility: Some("ELIGIBLE".into()),
        renewal_summary: Some(RenewalSummary {
            renewal_status: Some("SUCCESS".into()),
            renewal_status_reason: None,
            updated_at: Some(now() - Duration::days(165)),
        }),
        domain_validation_options: names
            .iter()
            .map(|n| DomainValidation {
                domain_name: n.clone(),
                validation_domain: Some(n.clone()),
                validation_status: Some("SUCCESS".into()),
                validation_method: Some("DNS".into()),
            })
            .collect(),
        in_use_by: vec![LB_ARN.to_owned()],
        issuer: Some("Amazon".into()),
    }
}

/// Sets every validation method of a certificate (`DNS`, `EMAIL`).
pub fn validated_by(mut c: CertificateDetail, method: &str) -> CertificateDetail {
    for v in &mut c.domain_validation_options {
        v.validation_method = Some(method.to_owned());
    }
    c
}

/// Sets the renewal status of a certificate.
pub fn renewal(mut c: CertificateDetail, status: &str) -> CertificateDetail {
    c.renewal_summary = Some(RenewalSummary {
        renewal_status: Some(status.to_owned()),
        renewal_status_reason: None,
        updated_at: Some(now() - Duration::days(3)),
    });
    c
}

/// A load balancer `web` (internet-facing) with an HTTP:80 listener forwarding to target
/// group `web-tg` (HTTP:8080, instances, 3 healthy targets, deregistration delay 300 s) and
/// an idle timeout of 60 s read from its attributes.
#[derive(Debug, Clone)]
pub struct Alb(pub AlbEvidence);

impl Default for Alb {
    fn default() -> Self {
        Self::new()
    }
}

impl Alb {
    pub fn new() -> Self {
        let tg = TargetGroup {
            target_group_arn: TG_ARN.to_owned(),
            target_group_name: Some(TG_NAME.to_owned()),
            protocol: Some("HTTP".into()),
            protocol_version: Some("HTTP1".into()),
            port: Some(8080),
            target_type: Some("instance".into()),
            health_check_enabled: Some(true),
            health_check_protocol: Some("HTTP".into()),
            health_check_port: Some("traffic-port".into()),
            health_check_path: Some("/healthz".into()),
            health_check_interval_seconds: Some(30),
            health_check_timeout_seconds: Some(5),
            healthy_threshold_count: Some(5),
            unhealthy_threshold_count: Some(2),
            matcher: Some(Matcher {
                http_code: Some("200".into()),
                grpc_code: None,
            }),
            load_balancer_arns: vec![LB_ARN.to_owned()],
            vpc_id: Some("vpc-0a1b2c3d".into()),
        };
        Self(AlbEvidence {
            region: REGION.to_owned(),
            arn: LB_ARN.to_owned(),
            load_balancer: Some(LoadBalancer {
                load_balancer_arn: LB_ARN.to_owned(),
                dns_name: Some(LB_DNS.to_owned()),
                canonical_hosted_zone_id: Some("Z35SXDOTRQ7X7K".into()),
                load_balancer_name: Some(LB_NAME.to_owned()),
                scheme: Some("internet-facing".into()),
                vpc_id: Some("vpc-0a1b2c3d".into()),
                state: Some(LoadBalancerState {
                    code: Some("active".into()),
                    reason: None,
                }),
                kind: Some("application".into()),
                security_groups: vec![LB_SG.to_owned()],
                ip_address_type: Some("ipv4".into()),
            }),
            attributes: Some(vec![
                attr("idle_timeout.timeout_seconds", "60"),
                attr("routing.http2.enabled", "true"),
            ]),
            listeners: Some(vec![Listener {
                listener_arn: HTTP_LISTENER_ARN.to_owned(),
                load_balancer_arn: Some(LB_ARN.to_owned()),
                port: Some(80),
                protocol: Some("HTTP".into()),
                certificates: Vec::new(),
                ssl_policy: None,
                default_actions: vec![forward(TG_ARN)],
            }]),
            rules: BTreeMap::new(),
            target_groups: Some(vec![TargetGroupEvidence {
                target_group: tg,
                attributes: Some(vec![
                    attr("deregistration_delay.timeout_seconds", "300"),
                    attr("stickiness.enabled", "false"),
                ]),
                health: Some((0..3).map(|i| target(i, "healthy", None)).collect()),
            }]),
            certificates: BTreeMap::new(),
            focus_target_groups: Vec::new(),
            found_via: "LoadBalancer dimension".into(),
        })
    }

    fn tg(&mut self) -> Option<&mut TargetGroupEvidence> {
        self.0.target_groups.as_mut().and_then(|v| v.first_mut())
    }

    /// `idle_timeout.timeout_seconds`.
    pub fn idle_timeout(mut self, secs: u32) -> Self {
        if let Some(a) = self.0.attributes.as_mut() {
            a.retain(|a| a.key != "idle_timeout.timeout_seconds");
            a.push(attr("idle_timeout.timeout_seconds", &secs.to_string()));
        }
        self
    }

    /// `DescribeLoadBalancerAttributes` could not be read.
    pub fn attributes_unreadable(mut self) -> Self {
        self.0.attributes = None;
        self
    }

    /// Scheme `internal`, DNS name `internal-...`.
    pub fn internal(mut self) -> Self {
        if let Some(lb) = self.0.load_balancer.as_mut() {
            lb.scheme = Some("internal".into());
            lb.dns_name = Some(format!("internal-{LB_DNS}"));
        }
        self
    }

    /// The targets of `web-tg`, one `(state, reason)` per target.
    pub fn targets(mut self, list: &[(&str, Option<&str>)]) -> Self {
        if let Some(tg) = self.tg() {
            tg.health = Some(
                list.iter()
                    .enumerate()
                    .map(|(i, (state, reason))| target(i, state, *reason))
                    .collect(),
            );
        }
        self
    }

    /// `n` targets, all in the same state.
    pub fn all_targets(self, n: usize, state: &str, reason: Option<&str>) -> Self {
        let list: Vec<(&str, Option<&str>)> = (0..n).map(|_| (state, reason)).collect();
        self.targets(&list)
    }

    /// `DescribeTargetHealth` could not be read.
    pub fn health_unreadable(mut self) -> Self {
        if let Some(tg) = self.tg() {
            tg.health = None;
        }
        self
    }

    /// The target group's protocol (`HTTP`, `HTTPS`).
    pub fn tg_protocol(mut self, protocol: &str) -> Self {
        if let Some(tg) = self.tg() {
            tg.target_group.protocol = Some(protocol.to_owned());
            tg.target_group.port = Some(if protocol == "HTTPS" { 8443 } else { 8080 });
            tg.target_group.health_check_protocol = Some(protocol.to_owned());
        }
        self
    }

    /// A Lambda target group: one function, health checks disabled (the default).
    pub fn lambda_target(mut self) -> Self {
        if let Some(tg) = self.tg() {
            tg.target_group.target_type = Some("lambda".into());
            tg.target_group.protocol = None;
            tg.target_group.port = None;
            tg.target_group.health_check_enabled = Some(false);
            tg.attributes = Some(vec![attr("lambda.multi_value_headers.enabled", "false")]);
            let mut t = target(0, "unavailable", Some("Target.HealthCheckDisabled"));
            t.target.id = "arn:aws:lambda:us-east-1:123456789012:function:web-api".into();
            t.target.port = None;
            tg.health = Some(vec![t]);
        }
        self
    }

    /// `deregistration_delay.timeout_seconds` of `web-tg`.
    pub fn deregistration_delay(mut self, secs: u32) -> Self {
        if let Some(tg) = self.tg()
            && let Some(a) = tg.attributes.as_mut()
        {
            a.retain(|a| a.key != "deregistration_delay.timeout_seconds");
            a.push(attr(
                "deregistration_delay.timeout_seconds",
                &secs.to_string(),
            ));
        }
        self
    }

    /// `DescribeTargetGroupAttributes` could not be read.
    pub fn tg_attributes_unreadable(mut self) -> Self {
        if let Some(tg) = self.tg() {
            tg.attributes = None;
        }
        self
    }

    /// The alarm names `web-tg` (a `TargetGroup` dimension).
    pub fn focus_tg(mut self) -> Self {
        self.0.focus_target_groups = vec![TG_ARN.to_owned()];
        self
    }

    /// Adds an HTTPS:443 listener forwarding to `web-tg` with `cert` (read from ACM) and
    /// `ssl_policy`.
    pub fn https(mut self, cert: CertificateDetail, ssl_policy: &str) -> Self {
        if let Some(ls) = self.0.listeners.as_mut() {
            ls.push(Listener {
                listener_arn: HTTPS_LISTENER_ARN.to_owned(),
                load_balancer_arn: Some(LB_ARN.to_owned()),
                port: Some(443),
                protocol: Some("HTTPS".into()),
                certificates: vec![ListenerCertificate {
                    certificate_arn: cert.certificate_arn.clone(),
                    is_default: Some(true),
                }],
                ssl_policy: Some(ssl_policy.to_owned()),
                default_actions: vec![forward(TG_ARN)],
            });
        }
        self.0
            .certificates
            .insert(cert.certificate_arn.clone(), cert);
        self
    }

    /// Adds `cert` to the HTTPS listener (added first) as a certificate it serves by SNI,
    /// under an ARN of its own.
    pub fn sni(mut self, mut cert: CertificateDetail) -> Self {
        let Some(l) = self
            .0
            .listeners
            .iter_mut()
            .flatten()
            .find(|l| l.listener_arn == HTTPS_LISTENER_ARN)
        else {
            return self;
        };
        cert.certificate_arn = format!("{CERT_ARN}-sni{}", l.certificates.len());
        l.certificates.push(ListenerCertificate {
            certificate_arn: cert.certificate_arn.clone(),
            is_default: Some(false),
        });
        self.0
            .certificates
            .insert(cert.certificate_arn.clone(), cert);
        self
    }

    /// `acm:DescribeCertificate` could not be read: the listeners name certificates whose
    /// details are unknown.
    pub fn certificates_unreadable(mut self) -> Self {
        self.0.certificates.clear();
        self
    }

    /// An `authenticate-oidc` action in front of the forward on every listener.
    pub fn authenticate_oidc(mut self) -> Self {
        for l in self.0.listeners.iter_mut().flatten() {
            l.default_actions.insert(
                0,
                Action {
                    kind: "authenticate-oidc".into(),
                    order: Some(0),
                    ..Action::default()
                },
            );
        }
        self
    }
}

// ---------------------------------------------------------------- distribution

/// A distribution with one custom origin `web-alb` on [`ORIGIN_DOMAIN`] (https-only to 443,
/// TLSv1.2, OriginReadTimeout 30 s), linked to the load balancer through a Route 53 alias;
/// the default behaviour sends no origin request policy (Host is the origin domain).
#[derive(Debug, Clone)]
pub struct Dist(pub DistributionEvidence);

impl Default for Dist {
    fn default() -> Self {
        Self::new()
    }
}

impl Dist {
    pub fn new() -> Self {
        let origin = Origin {
            id: ORIGIN_ID.to_owned(),
            domain_name: ORIGIN_DOMAIN.to_owned(),
            origin_path: None,
            custom_origin_config: Some(CustomOriginConfig {
                http_port: Some(80),
                https_port: Some(443),
                origin_protocol_policy: Some("https-only".into()),
                origin_ssl_protocols: Some(Items::new(vec!["TLSv1.2".into()])),
                origin_read_timeout: Some(30),
                origin_keepalive_timeout: Some(5),
            }),
            s3_origin_config: None,
            vpc_origin_config: None,
            connection_attempts: Some(3),
            connection_timeout: Some(10),
        };
        Self(DistributionEvidence {
            id: DIST_ID.to_owned(),
            config: Some(DistributionConfig {
                aliases: Some(Items::new(vec!["www.example.com".into()])),
                comment: Some("web".into()),
                enabled: Some(true),
                origins: Items::new(vec![origin]),
                default_cache_behavior: CacheBehavior {
                    path_pattern: None,
                    target_origin_id: ORIGIN_ID.to_owned(),
                    viewer_protocol_policy: Some("redirect-to-https".into()),
                    cache_policy_id: Some("658327ea-f89d-4fab-a63d-7e88639e58f6".into()),
                    origin_request_policy_id: None,
                    forwarded_values: None,
                    lambda_function_associations: None,
                    function_associations: None,
                },
                cache_behaviors: None,
                web_acl_id: None,
            }),
            origin_request_policies: BTreeMap::new(),
            origins: vec![OriginLink {
                origin_id: ORIGIN_ID.to_owned(),
                domain_name: ORIGIN_DOMAIN.to_owned(),
                alb_arn: Some(LB_ARN.to_owned()),
                elb_dns_name: Some(LB_DNS.to_owned()),
                how: format!("Route 53 alias {ORIGIN_DOMAIN} -> {LB_DNS}"),
                followed: true,
            }],
        })
    }

    fn cfg(&mut self) -> Option<&mut DistributionConfig> {
        self.0.config.as_mut()
    }

    fn origin(&mut self) -> Option<&mut Origin> {
        self.cfg().and_then(|c| c.origins.items.first_mut())
    }

    fn custom(&mut self) -> Option<&mut CustomOriginConfig> {
        self.origin().and_then(|o| o.custom_origin_config.as_mut())
    }

    /// The origin's domain; an ELB DNS name is linked directly, any other through Route 53.
    pub fn origin_domain(mut self, domain: &str) -> Self {
        if let Some(o) = self.origin() {
            o.domain_name = domain.to_owned();
        }
        if let Some(l) = self.0.origins.first_mut() {
            l.domain_name = domain.to_owned();
            l.how = if domain.ends_with(".elb.amazonaws.com") {
                "origin domain is the load balancer's DNS name".into()
            } else {
                format!("Route 53 alias {domain} -> {LB_DNS}")
            };
        }
        self
    }

    /// `OriginProtocolPolicy` (`https-only`, `http-only`, `match-viewer`).
    pub fn protocol_policy(mut self, policy: &str) -> Self {
        if let Some(c) = self.custom() {
            c.origin_protocol_policy = Some(policy.to_owned());
        }
        self
    }

    pub fn ssl_protocols(mut self, protocols: &[&str]) -> Self {
        if let Some(c) = self.custom() {
            c.origin_ssl_protocols = Some(Items::new(
                protocols.iter().map(|p| (*p).to_owned()).collect(),
            ));
        }
        self
    }

    /// `OriginReadTimeout` in seconds.
    pub fn read_timeout(mut self, secs: i32) -> Self {
        if let Some(c) = self.custom() {
            c.origin_read_timeout = Some(secs);
        }
        self
    }

    /// The default behaviour uses origin request policy `id` (read with
    /// `GetOriginRequestPolicy`).
    pub fn origin_request_policy(
        mut self,
        id: &str,
        name: &str,
        header_behavior: &str,
        headers: &[&str],
    ) -> Self {
        if let Some(c) = self.cfg() {
            c.default_cache_behavior.origin_request_policy_id = Some(id.to_owned());
        }
        self.0.origin_request_policies.insert(
            id.to_owned(),
            OriginRequestPolicy {
                id: id.to_owned(),
                origin_request_policy_config: OriginRequestPolicyConfig {
                    name: name.to_owned(),
                    headers_config: HeadersConfig {
                        header_behavior: header_behavior.to_owned(),
                        headers: (!headers.is_empty())
                            .then(|| Items::new(headers.iter().map(|h| (*h).to_owned()).collect())),
                    },
                },
            },
        );
        self
    }

    /// The origin is the ELB name `elb_dns`, and no load balancer has that name any more.
    pub fn origin_gone(mut self, elb_dns: &str) -> Self {
        self = self.origin_domain(elb_dns);
        if let Some(l) = self.0.origins.first_mut() {
            l.alb_arn = None;
            l.elb_dns_name = Some(elb_dns.to_owned());
            l.how = format!(
                "origin domain is an ELB DNS name; no load balancer in `{REGION}` has DNS name `{elb_dns}`"
            );
        }
        self
    }

    /// The origin is a CloudFront VPC origin.
    pub fn vpc_origin(mut self) -> Self {
        if let Some(o) = self.origin() {
            o.vpc_origin_config = Some(serde_json::json!({
                "VpcOriginId": "vo_0a1b2c3d4e5f",
                "OriginReadTimeout": 30,
                "OriginKeepaliveTimeout": 5
            }));
        }
        self
    }

    pub fn web_acl(mut self) -> Self {
        if let Some(c) = self.cfg() {
            c.web_acl_id = Some(format!(
                "arn:aws:wafv2:us-east-1:{ACCOUNT}:global/webacl/cdn-acl/a1b2c3d4-5678-90ab-cdef-EXAMPLE11111"
            ));
        }
        self
    }

    /// A Lambda@Edge function on the default behaviour's origin-response.
    pub fn lambda_edge(mut self) -> Self {
        if let Some(c) = self.cfg() {
            c.default_cache_behavior.lambda_function_associations =
                Some(Items::new(vec![LambdaFunctionAssociation {
                    lambda_function_arn: LAMBDA_EDGE_ARN.to_owned(),
                    event_type: "origin-response".into(),
                }]));
        }
        self
    }

    /// A CloudFront Function on the default behaviour's viewer-request.
    pub fn function(mut self) -> Self {
        if let Some(c) = self.cfg() {
            c.default_cache_behavior.function_associations =
                Some(Items::new(vec![FunctionAssociation {
                    function_arn: FUNCTION_ARN.to_owned(),
                    event_type: "viewer-request".into(),
                }]));
        }
        self
    }
}

// ---------------------------------------------------------------- the whole input

/// An alarm and the evidence gathered for it.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub alarm: Alarm,
    pub albs: Vec<AlbEvidence>,
    pub distributions: Vec<DistributionEvidence>,
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
    pub fn new(alarm: Alarm) -> Self {
        Self {
            alarm,
            albs: Vec::new(),
            distributions: Vec::new(),
            metrics: Metrics::default(),
            gaps: Vec::new(),
            elb_5xx: BTreeMap::new(),
            cf_5xx: BTreeMap::new(),
        }
    }

    pub fn alb(mut self, alb: Alb) -> Self {
        self.albs.push(alb.0);
        self
    }

    pub fn dist(mut self, dist: Dist) -> Self {
        self.distributions.push(dist.0);
        self
    }

    /// A source that could not be read.
    pub fn gap(mut self, source: &str, reason: &str) -> Self {
        self.gaps.push(Gap {
            source: source.to_owned(),
            reason: reason.to_owned(),
            resource: None,
        });
        self
    }

    // ------------------------------------------------------------ ALB metrics

    /// AWS/ApplicationELB `name`/`stat` on the load balancer: `value(m)` per minute.
    pub fn alb_metric(
        mut self,
        name: &str,
        stat: &str,
        value: impl Fn(i64) -> Option<f64>,
    ) -> Self {
        self.metrics.insert(alb_query(name, stat), series(value));
        self
    }

    /// AWS/ApplicationELB `name`/`stat` on `web-tg` (LoadBalancer and TargetGroup dimensions).
    pub fn tg_metric(mut self, name: &str, stat: &str, value: impl Fn(i64) -> Option<f64>) -> Self {
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

    /// A count metric on the load balancer: `share(m)` of [`load`], no datapoint where it is 0
    /// (ELB publishes counts only when they are non-zero).
    pub fn alb_count(self, name: &str, share: impl Fn(i64) -> f64) -> Self {
        self.alb_metric(name, "Sum", move |m| {
            let v = (share(m) * load(m)).round();
            (v > 0.0).then_some(v)
        })
    }

    /// `RequestCount` = [`load`] in every minute.
    pub fn requests(self) -> Self {
        self.alb_metric("RequestCount", "Sum", |m| Some(load(m)))
    }

    /// `RequestCount` = [`load`] before W only: in W no request reaches a target.
    pub fn requests_stop_in_w(self) -> Self {
        self.alb_metric("RequestCount", "Sum", |m| (!in_w(m)).then(|| load(m)))
    }

    /// `HTTPCode_ELB_{code}_Count` = `share(m)` of load (also added to `HTTPCode_ELB_5XX_Count`).
    pub fn elb(mut self, code: u16, share: impl Fn(i64) -> f64) -> Self {
        for m in 1..=HISTORY {
            let v = (share(m) * load(m)).round();
            if v > 0.0 {
                *self.elb_5xx.entry(m).or_default() += v;
            }
        }
        self.alb_count(&format!("HTTPCode_ELB_{code}_Count"), share)
    }

    /// `HTTPCode_Target_5XX_Count` = `share(m)` of load.
    pub fn target_5xx(self, share: impl Fn(i64) -> f64) -> Self {
        self.alb_count("HTTPCode_Target_5XX_Count", share)
    }

    /// `HTTPCode_Target_2XX_Count` = `share(m)` of load.
    pub fn target_2xx(self, share: impl Fn(i64) -> f64) -> Self {
        self.alb_count("HTTPCode_Target_2XX_Count", share)
    }

    /// `TargetResponseTime` `stat` in seconds, every minute.
    pub fn response_time(self, stat: &str, secs: impl Fn(i64) -> Option<f64>) -> Self {
        self.alb_metric("TargetResponseTime", stat, secs)
    }

    /// `HealthyHostCount` Minimum of `web-tg`.
    pub fn healthy_hosts(self, n: impl Fn(i64) -> f64) -> Self {
        self.tg_metric("HealthyHostCount", "Minimum", move |m| Some(n(m)))
    }

    // ------------------------------------------------------------ CloudFront metrics

    /// AWS/CloudFront `name`/`stat` of the distribution (DistributionId, Region=Global).
    pub fn cf_metric(mut self, name: &str, stat: &str, value: impl Fn(i64) -> Option<f64>) -> Self {
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
    pub fn cf_requests(self, per_alb_request: f64) -> Self {
        self.cf_metric("Requests", "Sum", move |m| Some(per_alb_request * load(m)))
    }

    /// CloudFront `{code}ErrorRate` (percent of all requests) = `share(m)` x 100, every
    /// minute; added to `5xxErrorRate`. Code 500 has no rate metric of its own.
    pub fn cf_errors(mut self, code: u16, share: impl Fn(i64) -> f64) -> Self {
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
    pub fn origin_latency(self, stat: &str, ms: impl Fn(i64) -> Option<f64>) -> Self {
        self.cf_metric("OriginLatency", stat, ms)
    }

    /// A Lambda@Edge metric of the distribution (`LambdaValidationError`, ...): `share(m)` of
    /// ten times [`load`], no datapoint where 0.
    pub fn lambda_edge_metric(self, name: &str, share: impl Fn(i64) -> f64) -> Self {
        self.cf_metric(name, "Sum", move |m| {
            let v = (share(m) * 10.0 * load(m)).round();
            (v > 0.0).then_some(v)
        })
    }

    /// A CloudFront Functions metric of [`FUNCTION_NAME`] (FunctionName, Region=Global).
    pub fn function_metric(mut self, name: &str, share: impl Fn(i64) -> f64) -> Self {
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

    pub fn evidence(&self) -> Evidence {
        let mut metrics = self.metrics.clone();
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
            metrics,
            gaps: self.gaps.clone(),
            stats: GatherStats::default(),
        }
    }

    /// Runs every rule: `fivexx::rules::evaluate`.
    pub fn evaluate(&self) -> Outcome {
        rules::evaluate(&self.alarm, &self.evidence())
    }
}
