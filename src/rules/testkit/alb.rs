//! The load balancer side of the kit: targets, certificates, listeners, the `Alb` builder.

use super::*;

// ---------------------------------------------------------------- load balancer

/// One target's health, with the description AWS gives for its reason.
pub(crate) fn target(i: usize, state: &str, reason: Option<&str>) -> TargetHealthDescription {
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
pub(crate) fn certificate(domain: &str, sans: &[&str]) -> CertificateDetail {
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
pub(crate) fn validated_by(mut c: CertificateDetail, method: &str) -> CertificateDetail {
    for v in &mut c.domain_validation_options {
        v.validation_method = Some(method.to_owned());
    }
    c
}

/// Sets the renewal status of a certificate.
pub(crate) fn renewal(mut c: CertificateDetail, status: &str) -> CertificateDetail {
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
pub(crate) struct Alb(pub AlbEvidence);

impl Default for Alb {
    fn default() -> Self {
        Self::new()
    }
}

impl Alb {
    pub(crate) fn new() -> Self {
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
    pub(crate) fn idle_timeout(mut self, secs: u32) -> Self {
        if let Some(a) = self.0.attributes.as_mut() {
            a.retain(|a| a.key != "idle_timeout.timeout_seconds");
            a.push(attr("idle_timeout.timeout_seconds", &secs.to_string()));
        }
        self
    }

    /// `DescribeLoadBalancerAttributes` could not be read.
    pub(crate) fn attributes_unreadable(mut self) -> Self {
        self.0.attributes = None;
        self
    }

    /// Scheme `internal`, DNS name `internal-...`.
    pub(crate) fn internal(mut self) -> Self {
        if let Some(lb) = self.0.load_balancer.as_mut() {
            lb.scheme = Some("internal".into());
            lb.dns_name = Some(format!("internal-{LB_DNS}"));
        }
        self
    }

    /// The targets of `web-tg`, one `(state, reason)` per target.
    pub(crate) fn targets(mut self, list: &[(&str, Option<&str>)]) -> Self {
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

    /// Another target group `name` (a copy of `web-tg`'s settings) with `list` targets, routed
    /// to by a second listener (HTTP:8080) of the load balancer.
    pub(crate) fn routed_group(mut self, name: &str, list: &[(&str, Option<&str>)]) -> Self {
        let Some(mut tg) = self.tg().cloned() else {
            return self;
        };
        let arn = TG_ARN.replace(TG_NAME, name);
        tg.target_group.target_group_arn = arn.clone();
        tg.target_group.target_group_name = Some(name.to_owned());
        tg.health = Some(
            list.iter()
                .enumerate()
                .map(|(i, (state, reason))| target(i + 10, state, *reason))
                .collect(),
        );
        if let Some(ls) = self.0.listeners.as_mut() {
            ls.push(Listener {
                listener_arn: format!("{HTTP_LISTENER_ARN}{name}"),
                load_balancer_arn: Some(LB_ARN.to_owned()),
                port: Some(8080 + ls.len() as i32),
                protocol: Some("HTTP".into()),
                certificates: Vec::new(),
                ssl_policy: None,
                default_actions: vec![forward(&arn)],
            });
        }
        if let Some(groups) = self.0.target_groups.as_mut() {
            groups.push(tg);
        }
        self
    }

    /// `n` targets, all in the same state.
    pub(crate) fn all_targets(self, n: usize, state: &str, reason: Option<&str>) -> Self {
        let list: Vec<(&str, Option<&str>)> = (0..n).map(|_| (state, reason)).collect();
        self.targets(&list)
    }

    /// `DescribeTargetHealth` could not be read.
    pub(crate) fn health_unreadable(mut self) -> Self {
        if let Some(tg) = self.tg() {
            tg.health = None;
        }
        self
    }

    /// The target group's protocol (`HTTP`, `HTTPS`).
    pub(crate) fn tg_protocol(mut self, protocol: &str) -> Self {
        if let Some(tg) = self.tg() {
            tg.target_group.protocol = Some(protocol.to_owned());
            tg.target_group.port = Some(if protocol == "HTTPS" { 8443 } else { 8080 });
            tg.target_group.health_check_protocol = Some(protocol.to_owned());
        }
        self
    }

    /// A Lambda target group: one function, health checks disabled (the default).
    pub(crate) fn lambda_target(mut self) -> Self {
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
    pub(crate) fn deregistration_delay(mut self, secs: u32) -> Self {
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
    pub(crate) fn tg_attributes_unreadable(mut self) -> Self {
        if let Some(tg) = self.tg() {
            tg.attributes = None;
        }
        self
    }

    /// The alarm names `web-tg` (a `TargetGroup` dimension).
    pub(crate) fn focus_tg(mut self) -> Self {
        self.0.focus_target_groups = vec![TG_ARN.to_owned()];
        self
    }

    /// Adds an HTTPS:443 listener forwarding to `web-tg` with `cert` (read from ACM) and
    /// `ssl_policy`.
    pub(crate) fn https(mut self, cert: CertificateDetail, ssl_policy: &str) -> Self {
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
    pub(crate) fn sni(mut self, mut cert: CertificateDetail) -> Self {
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
    pub(crate) fn certificates_unreadable(mut self) -> Self {
        self.0.certificates.clear();
        self
    }

    /// A Network Load Balancer (`Type` network, a TCP listener) with the same names.
    pub(crate) fn network(mut self) -> Self {
        if let Some(lb) = &mut self.0.load_balancer {
            lb.kind = Some("network".into());
            lb.security_groups.clear();
        }
        for l in self.0.listeners.iter_mut().flatten() {
            l.protocol = Some("TCP".into());
        }
        for tg in self.0.target_groups.iter_mut().flatten() {
            if tg.target_group.protocol.as_deref() != Some("TLS") {
                tg.target_group.protocol = Some("TCP".into());
            }
            tg.target_group.health_check_protocol = Some("TCP".into());
        }
        self
    }

    /// A maintenance rule on every listener: priority 1, `path-pattern /*`, a fixed-response
    /// `code`.
    pub(crate) fn fixed_response_rule(mut self, code: &str) -> Self {
        for l in self.0.listeners.iter().flatten() {
            let rule = crate::evidence::elb::Rule {
                rule_arn: format!("{}/maintenance", l.listener_arn),
                priority: Some("1".into()),
                conditions: vec![crate::evidence::elb::RuleCondition {
                    field: "path-pattern".into(),
                    values: vec!["/*".into()],
                    ..Default::default()
                }],
                actions: vec![Action {
                    kind: "fixed-response".into(),
                    fixed_response_config: Some(crate::evidence::elb::FixedResponseConfig {
                        status_code: Some(code.into()),
                        content_type: Some("text/html".into()),
                    }),
                    ..Action::default()
                }],
                is_default: Some(false),
            };
            self.0
                .rules
                .entry(l.listener_arn.clone())
                .or_default()
                .push(rule);
        }
        self
    }

    /// An `authenticate-oidc` action in front of the forward on every listener.
    pub(crate) fn authenticate_oidc(mut self) -> Self {
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
