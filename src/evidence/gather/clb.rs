//! The Classic Load Balancer calls of one triage: one wave, since the alarm names the load
//! balancer (`LoadBalancerName`): its description (listeners, health check, instances,
//! security groups), its instances' health, its attributes (idle timeout, draining) and its
//! metrics, all at once.

use futures::future::join_all;

use super::calls::Calls;
use super::metrics::{add_missing, clb_queries, metric_calls};
use crate::evidence::ClbEvidence;
use crate::evidence::clb::{
    ClassicLoadBalancers, DescribeClassicLoadBalancerAttributes, DescribeClassicLoadBalancers,
    DescribeInstanceHealth,
};
use crate::evidence::cloudwatch::{MetricQuery, Series};
use crate::evidence::port::{Port, Window};
use crate::scope::ClbRef;

/// The Classic Load Balancers of `refs`, and the metrics read (with `extra_queries`).
pub(super) async fn classic<P: Port>(
    ctx: &Calls<'_, P>,
    refs: &[ClbRef],
    extra_queries: &[MetricQuery],
    window: Window,
) -> (Vec<ClbEvidence>, Vec<(MetricQuery, Series)>) {
    let mut queries: Vec<MetricQuery> = refs
        .iter()
        .flat_map(|r| clb_queries(&r.region, &r.name))
        .collect();
    add_missing(&mut queries, extra_queries);
    let reads = join_all(refs.iter().map(|r| async move {
        let named = ClassicLoadBalancers::Named(vec![r.name.clone()]);
        futures::join!(
            ctx.read::<DescribeClassicLoadBalancers>(&r.region, &named, Some(&r.name)),
            ctx.read::<DescribeInstanceHealth>(&r.region, &r.name, Some(&r.name)),
            ctx.read::<DescribeClassicLoadBalancerAttributes>(&r.region, &r.name, Some(&r.name)),
        )
    }));
    let (reads, read) = futures::join!(reads, metric_calls(ctx, &queries, window));
    let clbs = refs
        .iter()
        .zip(reads)
        .map(|(r, (lbs, health, attributes))| ClbEvidence {
            region: r.region.clone(),
            name: r.name.clone(),
            load_balancer: lbs
                .and_then(|l| l.into_iter().find(|lb| lb.load_balancer_name == r.name)),
            health,
            attributes,
            found_via: "the alarm's LoadBalancerName dimension".into(),
        })
        .collect();
    (clbs, read)
}
