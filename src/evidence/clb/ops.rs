//! The Classic Load Balancer operations: for each, its SDK call, its world answer and its
//! recording.

use aws_sdk_elasticloadbalancing::types as sdk_clb;

use super::{
    AccessLog, ConnectionDraining, ConnectionSettings, CrossZoneLoadBalancing, HealthCheck,
    Instance, InstanceState, InstanceStates, Listener, ListenerDescription, LoadBalancerAttributes,
    LoadBalancerAttributesEnvelope, LoadBalancerDescription,
};
use crate::evidence::port::{Answer, Op, Operation, SourceError};
use crate::evidence::record::{Recording, push_unique};
use crate::evidence::sdk::{AwsSdk, OnWorker, marker, opt_str, time};
use crate::evidence::world::World;

/// The names one `DescribeLoadBalancers` request carries at most. The Classic API reference
/// states no limit on `LoadBalancerNames`; this is v2's documented one (20 ARNs or names),
/// kept as a bound that AWS is sure to accept. More names take several requests.
pub(crate) const NAMES_PER_CALL: usize = 20;

/// What [`DescribeClassicLoadBalancers`] describes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClassicLoadBalancers {
    /// These load balancers, by name. AWS fails the whole call with `LoadBalancerNotFound`
    /// when one of them is not in the region. A name asked twice is described once; no name
    /// at all is an empty answer, without a request (AWS would list the whole region).
    Named(Vec<String>),
    /// Every Classic Load Balancer of the region, every page.
    All,
}

impl ClassicLoadBalancers {
    /// The names asked, each once, in the order given.
    fn unique_names(names: &[String]) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for name in names {
            if !out.contains(&name.as_str()) {
                out.push(name);
            }
        }
        out
    }
}

/// Classic `DescribeLoadBalancers` (IAM `elasticloadbalancing:DescribeLoadBalancers`, v2's
/// action too: see [`Op`]).
///
/// `Errors` key: the names joined by `,` (as asked), or `classic REGION` for the whole region:
/// not the bare region, which keys v2's list of the region under the same IAM name, so an
/// error recorded for one list replays for that list only.
pub struct DescribeClassicLoadBalancers;

impl Operation for DescribeClassicLoadBalancers {
    const OP: Op = Op::DescribeClassicLoadBalancers;
    type Input = ClassicLoadBalancers;
    type Output = Vec<LoadBalancerDescription>;

    fn key(region: &str, input: &ClassicLoadBalancers) -> String {
        match input {
            ClassicLoadBalancers::Named(names) => names.join(","),
            ClassicLoadBalancers::All => format!("classic {region}"),
        }
    }

    async fn sdk(
        sdk: &AwsSdk,
        region: &str,
        input: &ClassicLoadBalancers,
    ) -> Answer<Vec<LoadBalancerDescription>> {
        let mut out = Vec::new();
        match input {
            ClassicLoadBalancers::Named(names) => {
                let names = ClassicLoadBalancers::unique_names(names);
                for chunk in names.chunks(NAMES_PER_CALL) {
                    let chunk = chunk.iter().map(|n| (*n).to_owned()).collect();
                    describe_load_balancers(sdk, region, Some(chunk), &mut out).await?;
                }
            }
            ClassicLoadBalancers::All => {
                describe_load_balancers(sdk, region, None, &mut out).await?;
            }
        }
        Ok(out)
    }

    fn world(
        w: &World,
        region: &str,
        input: &ClassicLoadBalancers,
    ) -> Answer<Vec<LoadBalancerDescription>> {
        match input {
            ClassicLoadBalancers::Named(names) => ClassicLoadBalancers::unique_names(names)
                .into_iter()
                .map(|name| w.classic_load_balancer(region, name).cloned())
                .collect(),
            ClassicLoadBalancers::All => Ok(w
                .elb_classic
                .describe_load_balancers
                .load_balancer_descriptions
                .iter()
                .filter(|lb| w.classic_in_region(lb, region))
                .cloned()
                .collect()),
        }
    }

    /// Both forms are recorded in the one list of the world file.
    fn record(
        rec: &mut Recording,
        _region: &str,
        _input: &ClassicLoadBalancers,
        out: &Vec<LoadBalancerDescription>,
    ) {
        push_unique(
            &mut rec
                .world
                .elb_classic
                .describe_load_balancers
                .load_balancer_descriptions,
            out,
        );
    }
}

/// `DescribeLoadBalancers`, every page, of the load balancers `names` (at most
/// [`NAMES_PER_CALL`]) or of the whole region (`None`).
async fn describe_load_balancers(
    sdk: &AwsSdk,
    region: &str,
    names: Option<Vec<String>>,
    out: &mut Vec<LoadBalancerDescription>,
) -> Answer<()> {
    let client = sdk.elb_classic(region);
    sdk.paginate(
        |m| {
            client
                .describe_load_balancers()
                .set_load_balancer_names(names.clone())
                .set_marker(m)
                .send()
                .on_worker()
        },
        |r| marker(r.next_marker()),
        |r| {
            out.extend(
                r.load_balancer_descriptions()
                    .iter()
                    .map(load_balancer_description),
            );
        },
    )
    .await
}

/// The health of every instance registered with a Classic Load Balancer, by its name.
pub struct DescribeInstanceHealth;

impl Operation for DescribeInstanceHealth {
    const OP: Op = Op::DescribeInstanceHealth;
    type Input = str;
    type Output = Vec<InstanceState>;

    fn key(_region: &str, name: &str) -> String {
        name.to_owned()
    }

    async fn sdk(sdk: &AwsSdk, region: &str, name: &str) -> Answer<Vec<InstanceState>> {
        let resp = sdk
            .once(
                sdk.elb_classic(region)
                    .describe_instance_health()
                    .load_balancer_name(name)
                    .send()
                    .on_worker(),
            )
            .await?;
        Ok(resp.instance_states().iter().map(instance_state).collect())
    }

    fn world(w: &World, region: &str, name: &str) -> Answer<Vec<InstanceState>> {
        w.classic_load_balancer(region, name)?;
        // A load balancer the world holds but whose instance health it does not: an empty
        // answer would read as "no instances registered", a strong claim, so say the world
        // cannot answer.
        w.elb_classic
            .describe_instance_health
            .get(name)
            .map(|h| h.instance_states.clone())
            .ok_or_else(|| {
                SourceError::new(
                    "WorldIncomplete",
                    format!("the world holds no instance health for `{name}`"),
                )
            })
    }

    fn record(rec: &mut Recording, _region: &str, name: &str, out: &Vec<InstanceState>) {
        rec.world.elb_classic.describe_instance_health.insert(
            name.to_owned(),
            InstanceStates {
                instance_states: out.clone(),
            },
        );
    }
}

/// Classic `DescribeLoadBalancerAttributes`, by load balancer name (IAM
/// `elasticloadbalancing:DescribeLoadBalancerAttributes`, v2's action too: see [`Op`]).
pub struct DescribeClassicLoadBalancerAttributes;

impl Operation for DescribeClassicLoadBalancerAttributes {
    const OP: Op = Op::DescribeClassicLoadBalancerAttributes;
    type Input = str;
    type Output = LoadBalancerAttributes;

    fn key(_region: &str, name: &str) -> String {
        name.to_owned()
    }

    async fn sdk(sdk: &AwsSdk, region: &str, name: &str) -> Answer<LoadBalancerAttributes> {
        let resp = sdk
            .once(
                sdk.elb_classic(region)
                    .describe_load_balancer_attributes()
                    .load_balancer_name(name)
                    .send()
                    .on_worker(),
            )
            .await?;
        Ok(resp
            .load_balancer_attributes()
            .map(load_balancer_attributes)
            .unwrap_or_default())
    }

    fn world(w: &World, region: &str, name: &str) -> Answer<LoadBalancerAttributes> {
        w.classic_load_balancer(region, name)?;
        // No entry: no attribute known, so AWS's defaults apply (an idle timeout of 60 s).
        Ok(w.elb_classic
            .describe_load_balancer_attributes
            .get(name)
            .map(|a| a.load_balancer_attributes.clone())
            .unwrap_or_default())
    }

    fn record(rec: &mut Recording, _region: &str, name: &str, out: &LoadBalancerAttributes) {
        rec.world
            .elb_classic
            .describe_load_balancer_attributes
            .insert(
                name.to_owned(),
                LoadBalancerAttributesEnvelope {
                    load_balancer_attributes: out.clone(),
                },
            );
    }
}

// ---------------------------------------------------------------- SDK shapes into the model

fn load_balancer_description(lb: &sdk_clb::LoadBalancerDescription) -> LoadBalancerDescription {
    LoadBalancerDescription {
        load_balancer_name: lb.load_balancer_name().unwrap_or_default().to_owned(),
        dns_name: opt_str(lb.dns_name()),
        canonical_hosted_zone_name: opt_str(lb.canonical_hosted_zone_name()),
        canonical_hosted_zone_name_id: opt_str(lb.canonical_hosted_zone_name_id()),
        scheme: opt_str(lb.scheme()),
        vpc_id: opt_str(lb.vpc_id()),
        availability_zones: lb.availability_zones().to_vec(),
        subnets: lb.subnets().to_vec(),
        security_groups: lb.security_groups().to_vec(),
        created_time: lb.created_time().and_then(time),
        listener_descriptions: lb
            .listener_descriptions()
            .iter()
            .map(|d| ListenerDescription {
                listener: d.listener().map(listener).unwrap_or_default(),
                policy_names: d.policy_names().to_vec(),
            })
            .collect(),
        health_check: lb.health_check().map(health_check),
        instances: lb
            .instances()
            .iter()
            .filter_map(|i| {
                i.instance_id().map(|id| Instance {
                    instance_id: id.to_owned(),
                })
            })
            .collect(),
    }
}

/// The SDK models a listener's protocol and ports as required: an empty protocol (never sent
/// by AWS) reads as absent.
fn listener(l: &sdk_clb::Listener) -> Listener {
    Listener {
        protocol: Some(l.protocol())
            .filter(|p| !p.is_empty())
            .map(str::to_owned),
        load_balancer_port: Some(l.load_balancer_port()),
        instance_protocol: opt_str(l.instance_protocol()),
        instance_port: Some(l.instance_port()),
        ssl_certificate_id: opt_str(l.ssl_certificate_id()),
    }
}

fn health_check(h: &sdk_clb::HealthCheck) -> HealthCheck {
    HealthCheck {
        target: Some(h.target())
            .filter(|t| !t.is_empty())
            .map(str::to_owned),
        interval: Some(h.interval()),
        timeout: Some(h.timeout()),
        unhealthy_threshold: Some(h.unhealthy_threshold()),
        healthy_threshold: Some(h.healthy_threshold()),
    }
}

fn instance_state(s: &sdk_clb::InstanceState) -> InstanceState {
    InstanceState {
        instance_id: s.instance_id().unwrap_or_default().to_owned(),
        state: opt_str(s.state()),
        reason_code: opt_str(s.reason_code()),
        description: opt_str(s.description()),
    }
}

fn load_balancer_attributes(a: &sdk_clb::LoadBalancerAttributes) -> LoadBalancerAttributes {
    LoadBalancerAttributes {
        connection_settings: a.connection_settings().map(|c| ConnectionSettings {
            idle_timeout: Some(c.idle_timeout()),
        }),
        connection_draining: a.connection_draining().map(|c| ConnectionDraining {
            enabled: Some(c.enabled()),
            timeout: c.timeout(),
        }),
        cross_zone_load_balancing: a
            .cross_zone_load_balancing()
            .map(|c| CrossZoneLoadBalancing {
                enabled: Some(c.enabled()),
            }),
        access_log: a.access_log().map(|l| AccessLog {
            enabled: Some(l.enabled()),
        }),
    }
}
