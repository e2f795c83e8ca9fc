//! The ELB v2 operations: for each, its SDK call, its world answer and its recording.

use aws_sdk_elasticloadbalancingv2::types as sdk_elb;

use super::{
    Action, Attribute, Attributes, ConditionValues, FixedResponseConfig, ForwardConfig, Listener,
    ListenerCertificate, ListenerCertificates, Listeners, LoadBalancer, LoadBalancerState, Matcher,
    Rule, RuleCondition, Rules, TargetDescription, TargetGroup, TargetGroupTuple, TargetHealth,
    TargetHealthDescription, TargetHealthDescriptions,
};
use crate::evidence::port::{Answer, Op, Operation};
use crate::evidence::record::{Recording, push_unique};
use crate::evidence::sdk::{AwsSdk, OnWorker, marker, opt_str};
use crate::evidence::world::World;

/// `DescribeLoadBalancers` for one load balancer, by ARN.
pub struct DescribeLoadBalancer;

impl Operation for DescribeLoadBalancer {
    const OP: Op = Op::DescribeLoadBalancers;
    type Input = str;
    type Output = Vec<LoadBalancer>;

    fn key(_region: &str, arn: &str) -> String {
        arn.to_owned()
    }

    async fn sdk(sdk: &AwsSdk, region: &str, arn: &str) -> Answer<Vec<LoadBalancer>> {
        describe_load_balancers(sdk, region, Some(arn)).await
    }

    fn world(w: &World, region: &str, arn: &str) -> Answer<Vec<LoadBalancer>> {
        w.load_balancer(region, arn).map(|lb| vec![lb.clone()])
    }

    fn record(rec: &mut Recording, _region: &str, _arn: &str, out: &Vec<LoadBalancer>) {
        record_load_balancers(rec, out);
    }
}

/// `DescribeLoadBalancers` without an ARN: every load balancer of the region.
pub struct ListLoadBalancers;

impl Operation for ListLoadBalancers {
    const OP: Op = Op::DescribeLoadBalancers;
    type Input = ();
    type Output = Vec<LoadBalancer>;

    fn key(region: &str, _: &()) -> String {
        region.to_owned()
    }

    async fn sdk(sdk: &AwsSdk, region: &str, _: &()) -> Answer<Vec<LoadBalancer>> {
        describe_load_balancers(sdk, region, None).await
    }

    fn world(w: &World, region: &str, _: &()) -> Answer<Vec<LoadBalancer>> {
        Ok(w.elbv2
            .describe_load_balancers
            .load_balancers
            .iter()
            .filter(|lb| w.in_region(&lb.load_balancer_arn, region))
            .cloned()
            .collect())
    }

    fn record(rec: &mut Recording, _region: &str, _: &(), out: &Vec<LoadBalancer>) {
        record_load_balancers(rec, out);
    }
}

/// `DescribeLoadBalancers`, every page: of one load balancer by ARN, or of the whole region.
async fn describe_load_balancers(
    sdk: &AwsSdk,
    region: &str,
    arn: Option<&str>,
) -> Answer<Vec<LoadBalancer>> {
    let client = sdk.elb(region);
    let mut out = Vec::new();
    sdk.paginate(
        |m| {
            client
                .describe_load_balancers()
                .set_load_balancer_arns(arn.map(|a| vec![a.to_owned()]))
                .set_marker(m)
                .send()
                .on_worker()
        },
        |r| marker(r.next_marker()),
        |r| out.extend(r.load_balancers().iter().map(load_balancer)),
    )
    .await?;
    Ok(out)
}

/// Both forms of `DescribeLoadBalancers` are recorded in the one list of the world file.
fn record_load_balancers(rec: &mut Recording, out: &[LoadBalancer]) {
    push_unique(
        &mut rec.world.elbv2.describe_load_balancers.load_balancers,
        out,
    );
}

pub struct DescribeLoadBalancerAttributes;

impl Operation for DescribeLoadBalancerAttributes {
    const OP: Op = Op::DescribeLoadBalancerAttributes;
    type Input = str;
    type Output = Vec<Attribute>;

    fn key(_region: &str, lb_arn: &str) -> String {
        lb_arn.to_owned()
    }

    async fn sdk(sdk: &AwsSdk, region: &str, lb_arn: &str) -> Answer<Vec<Attribute>> {
        let resp = sdk
            .once(
                sdk.elb(region)
                    .describe_load_balancer_attributes()
                    .load_balancer_arn(lb_arn)
                    .send()
                    .on_worker(),
            )
            .await?;
        Ok(attributes(
            resp.attributes().iter().map(|a| (a.key(), a.value())),
        ))
    }

    fn world(w: &World, region: &str, lb_arn: &str) -> Answer<Vec<Attribute>> {
        w.load_balancer(region, lb_arn)?;
        // An attribute never set is absent (moto and AWS alike): the defaults apply.
        Ok(w.elbv2
            .describe_load_balancer_attributes
            .get(lb_arn)
            .map(|a| a.attributes.clone())
            .unwrap_or_default())
    }

    fn record(rec: &mut Recording, _region: &str, lb_arn: &str, out: &Vec<Attribute>) {
        rec.world.elbv2.describe_load_balancer_attributes.insert(
            lb_arn.to_owned(),
            Attributes {
                attributes: out.clone(),
            },
        );
    }
}

pub struct DescribeListeners;

impl Operation for DescribeListeners {
    const OP: Op = Op::DescribeListeners;
    type Input = str;
    type Output = Vec<Listener>;

    fn key(_region: &str, lb_arn: &str) -> String {
        lb_arn.to_owned()
    }

    async fn sdk(sdk: &AwsSdk, region: &str, lb_arn: &str) -> Answer<Vec<Listener>> {
        let client = sdk.elb(region);
        let mut out = Vec::new();
        sdk.paginate(
            |m| {
                client
                    .describe_listeners()
                    .load_balancer_arn(lb_arn)
                    .set_marker(m)
                    .send()
                    .on_worker()
            },
            |r| marker(r.next_marker()),
            |r| out.extend(r.listeners().iter().map(listener)),
        )
        .await?;
        Ok(out)
    }

    fn world(w: &World, region: &str, lb_arn: &str) -> Answer<Vec<Listener>> {
        w.load_balancer(region, lb_arn)?;
        Ok(w.elbv2
            .describe_listeners
            .get(lb_arn)
            .map(|l| l.listeners.clone())
            .unwrap_or_default())
    }

    fn record(rec: &mut Recording, _region: &str, lb_arn: &str, out: &Vec<Listener>) {
        rec.world.elbv2.describe_listeners.insert(
            lb_arn.to_owned(),
            Listeners {
                listeners: out.clone(),
            },
        );
    }
}

pub struct DescribeRules;

impl Operation for DescribeRules {
    const OP: Op = Op::DescribeRules;
    type Input = str;
    type Output = Vec<Rule>;

    fn key(_region: &str, listener_arn: &str) -> String {
        listener_arn.to_owned()
    }

    async fn sdk(sdk: &AwsSdk, region: &str, listener_arn: &str) -> Answer<Vec<Rule>> {
        let client = sdk.elb(region);
        let mut out = Vec::new();
        sdk.paginate(
            |m| {
                client
                    .describe_rules()
                    .listener_arn(listener_arn)
                    .set_marker(m)
                    .send()
                    .on_worker()
            },
            |r| marker(r.next_marker()),
            |r| {
                out.extend(r.rules().iter().map(|r| {
                    Rule {
                        rule_arn: r.rule_arn().unwrap_or_default().to_owned(),
                        priority: opt_str(r.priority()),
                        conditions: r
                            .conditions()
                            .iter()
                            .map(|c| RuleCondition {
                                field: c.field().unwrap_or_default().to_owned(),
                                values: c.values().to_vec(),
                                path_pattern_config: c.path_pattern_config().map(|p| {
                                    ConditionValues {
                                        values: p.values().to_vec(),
                                    }
                                }),
                                host_header_config: c.host_header_config().map(|h| {
                                    ConditionValues {
                                        values: h.values().to_vec(),
                                    }
                                }),
                            })
                            .collect(),
                        actions: r.actions().iter().map(action).collect(),
                        is_default: r.is_default(),
                    }
                }));
            },
        )
        .await?;
        Ok(out)
    }

    fn world(w: &World, region: &str, listener_arn: &str) -> Answer<Vec<Rule>> {
        let listener = w.listener(region, listener_arn)?;
        Ok(match w.elbv2.describe_rules.get(listener_arn) {
            Some(r) => r.rules.clone(),
            // AWS always answers with at least the default rule, made of the default actions.
            None => vec![Rule {
                rule_arn: format!("{listener_arn}/default"),
                priority: Some("default".into()),
                conditions: Vec::new(),
                actions: listener.default_actions.clone(),
                is_default: Some(true),
            }],
        })
    }

    fn record(rec: &mut Recording, _region: &str, listener_arn: &str, out: &Vec<Rule>) {
        rec.world
            .elbv2
            .describe_rules
            .insert(listener_arn.to_owned(), Rules { rules: out.clone() });
    }
}

/// Every certificate of a listener: the default one and those it serves by SNI
/// (`DescribeListeners` names only the default one).
pub struct DescribeListenerCertificates;

impl Operation for DescribeListenerCertificates {
    const OP: Op = Op::DescribeListenerCertificates;
    type Input = str;
    type Output = Vec<ListenerCertificate>;

    fn key(_region: &str, listener_arn: &str) -> String {
        listener_arn.to_owned()
    }

    async fn sdk(
        sdk: &AwsSdk,
        region: &str,
        listener_arn: &str,
    ) -> Answer<Vec<ListenerCertificate>> {
        let client = sdk.elb(region);
        let mut out = Vec::new();
        sdk.paginate(
            |m| {
                client
                    .describe_listener_certificates()
                    .listener_arn(listener_arn)
                    .set_marker(m)
                    .send()
                    .on_worker()
            },
            |r| marker(r.next_marker()),
            |r| out.extend(r.certificates().iter().map(listener_certificate)),
        )
        .await?;
        Ok(out)
    }

    /// A listener without an entry has the certificates `DescribeListeners` gave it (its
    /// default one): what AWS answers for a listener with no SNI certificate.
    fn world(w: &World, region: &str, listener_arn: &str) -> Answer<Vec<ListenerCertificate>> {
        let listener = w.listener(region, listener_arn)?;
        Ok(w.elbv2
            .describe_listener_certificates
            .get(listener_arn)
            .map_or_else(|| listener.certificates.clone(), |c| c.certificates.clone()))
    }

    fn record(
        rec: &mut Recording,
        _region: &str,
        listener_arn: &str,
        out: &Vec<ListenerCertificate>,
    ) {
        rec.world.elbv2.describe_listener_certificates.insert(
            listener_arn.to_owned(),
            ListenerCertificates {
                certificates: out.clone(),
            },
        );
    }
}

/// The target groups attached to a load balancer.
pub struct DescribeTargetGroups;

impl Operation for DescribeTargetGroups {
    const OP: Op = Op::DescribeTargetGroups;
    type Input = str;
    type Output = Vec<TargetGroup>;

    fn key(_region: &str, lb_arn: &str) -> String {
        lb_arn.to_owned()
    }

    async fn sdk(sdk: &AwsSdk, region: &str, lb_arn: &str) -> Answer<Vec<TargetGroup>> {
        let client = sdk.elb(region);
        let mut out = Vec::new();
        sdk.paginate(
            |m| {
                client
                    .describe_target_groups()
                    .load_balancer_arn(lb_arn)
                    .set_marker(m)
                    .send()
                    .on_worker()
            },
            |r| marker(r.next_marker()),
            |r| out.extend(r.target_groups().iter().map(target_group)),
        )
        .await?;
        Ok(out)
    }

    fn world(w: &World, region: &str, lb_arn: &str) -> Answer<Vec<TargetGroup>> {
        w.load_balancer(region, lb_arn)?;
        Ok(w.elbv2
            .describe_target_groups
            .target_groups
            .iter()
            .filter(|tg| tg.load_balancer_arns.iter().any(|a| a == lb_arn))
            .cloned()
            .collect())
    }

    fn record(rec: &mut Recording, _region: &str, _lb_arn: &str, out: &Vec<TargetGroup>) {
        push_unique(
            &mut rec.world.elbv2.describe_target_groups.target_groups,
            out,
        );
    }
}

pub struct DescribeTargetGroupAttributes;

impl Operation for DescribeTargetGroupAttributes {
    const OP: Op = Op::DescribeTargetGroupAttributes;
    type Input = str;
    type Output = Vec<Attribute>;

    fn key(_region: &str, tg_arn: &str) -> String {
        tg_arn.to_owned()
    }

    async fn sdk(sdk: &AwsSdk, region: &str, tg_arn: &str) -> Answer<Vec<Attribute>> {
        let resp = sdk
            .once(
                sdk.elb(region)
                    .describe_target_group_attributes()
                    .target_group_arn(tg_arn)
                    .send()
                    .on_worker(),
            )
            .await?;
        Ok(attributes(
            resp.attributes().iter().map(|a| (a.key(), a.value())),
        ))
    }

    fn world(w: &World, region: &str, tg_arn: &str) -> Answer<Vec<Attribute>> {
        w.target_group(region, tg_arn)?;
        Ok(w.elbv2
            .describe_target_group_attributes
            .get(tg_arn)
            .map(|a| a.attributes.clone())
            .unwrap_or_default())
    }

    fn record(rec: &mut Recording, _region: &str, tg_arn: &str, out: &Vec<Attribute>) {
        rec.world.elbv2.describe_target_group_attributes.insert(
            tg_arn.to_owned(),
            Attributes {
                attributes: out.clone(),
            },
        );
    }
}

pub struct DescribeTargetHealth;

impl Operation for DescribeTargetHealth {
    const OP: Op = Op::DescribeTargetHealth;
    type Input = str;
    type Output = Vec<TargetHealthDescription>;

    fn key(_region: &str, tg_arn: &str) -> String {
        tg_arn.to_owned()
    }

    async fn sdk(sdk: &AwsSdk, region: &str, tg_arn: &str) -> Answer<Vec<TargetHealthDescription>> {
        let resp = sdk
            .once(
                sdk.elb(region)
                    .describe_target_health()
                    .target_group_arn(tg_arn)
                    .send()
                    .on_worker(),
            )
            .await?;
        Ok(resp
            .target_health_descriptions()
            .iter()
            .map(target_health)
            .collect())
    }

    fn world(w: &World, region: &str, tg_arn: &str) -> Answer<Vec<TargetHealthDescription>> {
        w.target_group(region, tg_arn)?;
        // A target group the world holds but whose health it does not: an empty answer would
        // read as "no targets", a strong claim, so say the world cannot answer.
        w.elbv2
            .describe_target_health
            .get(tg_arn)
            .map(|t| t.target_health_descriptions.clone())
            .ok_or_else(|| {
                crate::evidence::port::SourceError::new(
                    "WorldIncomplete",
                    format!("the world holds no target health for `{tg_arn}`"),
                )
            })
    }

    fn record(
        rec: &mut Recording,
        _region: &str,
        tg_arn: &str,
        out: &Vec<TargetHealthDescription>,
    ) {
        rec.world.elbv2.describe_target_health.insert(
            tg_arn.to_owned(),
            TargetHealthDescriptions {
                target_health_descriptions: out.clone(),
            },
        );
    }
}

// ---------------------------------------------------------------- SDK shapes into the model

fn load_balancer(lb: &sdk_elb::LoadBalancer) -> LoadBalancer {
    LoadBalancer {
        load_balancer_arn: lb.load_balancer_arn().unwrap_or_default().to_owned(),
        dns_name: opt_str(lb.dns_name()),
        canonical_hosted_zone_id: opt_str(lb.canonical_hosted_zone_id()),
        load_balancer_name: opt_str(lb.load_balancer_name()),
        scheme: lb.scheme().map(|s| s.as_str().to_owned()),
        vpc_id: opt_str(lb.vpc_id()),
        state: lb.state().map(|s| LoadBalancerState {
            code: s.code().map(|c| c.as_str().to_owned()),
            reason: opt_str(s.reason()),
        }),
        kind: lb.r#type().map(|t| t.as_str().to_owned()),
        security_groups: lb.security_groups().to_vec(),
        ip_address_type: lb.ip_address_type().map(|t| t.as_str().to_owned()),
    }
}

fn action(a: &sdk_elb::Action) -> Action {
    Action {
        kind: a
            .r#type()
            .map(|t| t.as_str().to_owned())
            .unwrap_or_default(),
        order: a.order(),
        target_group_arn: opt_str(a.target_group_arn()),
        forward_config: a.forward_config().map(|f| ForwardConfig {
            target_groups: f
                .target_groups()
                .iter()
                .map(|t| TargetGroupTuple {
                    target_group_arn: t.target_group_arn().unwrap_or_default().to_owned(),
                    weight: t.weight(),
                })
                .collect(),
        }),
        fixed_response_config: a.fixed_response_config().map(|f| FixedResponseConfig {
            status_code: opt_str(f.status_code()),
            content_type: opt_str(f.content_type()),
        }),
    }
}

fn listener(l: &sdk_elb::Listener) -> Listener {
    Listener {
        listener_arn: l.listener_arn().unwrap_or_default().to_owned(),
        load_balancer_arn: opt_str(l.load_balancer_arn()),
        port: l.port(),
        protocol: l.protocol().map(|p| p.as_str().to_owned()),
        certificates: l.certificates().iter().map(listener_certificate).collect(),
        ssl_policy: opt_str(l.ssl_policy()),
        default_actions: l.default_actions().iter().map(action).collect(),
    }
}

fn listener_certificate(c: &sdk_elb::Certificate) -> ListenerCertificate {
    ListenerCertificate {
        certificate_arn: c.certificate_arn().unwrap_or_default().to_owned(),
        is_default: c.is_default(),
    }
}

fn target_group(t: &sdk_elb::TargetGroup) -> TargetGroup {
    TargetGroup {
        target_group_arn: t.target_group_arn().unwrap_or_default().to_owned(),
        target_group_name: opt_str(t.target_group_name()),
        protocol: t.protocol().map(|p| p.as_str().to_owned()),
        protocol_version: opt_str(t.protocol_version()),
        port: t.port(),
        target_type: t.target_type().map(|x| x.as_str().to_owned()),
        health_check_enabled: t.health_check_enabled(),
        health_check_protocol: t.health_check_protocol().map(|p| p.as_str().to_owned()),
        health_check_port: opt_str(t.health_check_port()),
        health_check_path: opt_str(t.health_check_path()),
        health_check_interval_seconds: t.health_check_interval_seconds(),
        health_check_timeout_seconds: t.health_check_timeout_seconds(),
        healthy_threshold_count: t.healthy_threshold_count(),
        unhealthy_threshold_count: t.unhealthy_threshold_count(),
        matcher: t.matcher().map(|x| Matcher {
            http_code: opt_str(x.http_code()),
            grpc_code: opt_str(x.grpc_code()),
        }),
        load_balancer_arns: t.load_balancer_arns().to_vec(),
        vpc_id: opt_str(t.vpc_id()),
    }
}

fn target_health(d: &sdk_elb::TargetHealthDescription) -> TargetHealthDescription {
    TargetHealthDescription {
        target: d
            .target()
            .map(|t| TargetDescription {
                id: t.id().unwrap_or_default().to_owned(),
                port: t.port(),
                availability_zone: opt_str(t.availability_zone()),
            })
            .unwrap_or_default(),
        health_check_port: opt_str(d.health_check_port()),
        target_health: d
            .target_health()
            .map(|h| TargetHealth {
                state: h.state().map(|s| s.as_str().to_owned()),
                reason: h.reason().map(|r| r.as_str().to_owned()),
                description: opt_str(h.description()),
            })
            .unwrap_or_default(),
    }
}

fn attributes<'a>(
    pairs: impl Iterator<Item = (Option<&'a str>, Option<&'a str>)>,
) -> Vec<Attribute> {
    pairs
        .filter_map(|(k, v)| {
            k.map(|k| Attribute {
                key: k.to_owned(),
                value: v.unwrap_or_default().to_owned(),
            })
        })
        .collect()
}
