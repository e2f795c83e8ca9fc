//! The ALB calls of one triage, each as soon as what it needs has answered (2 waves; 3 when
//! a target is draining).

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use futures::future::join_all;

use super::calls::{Calls, Need};
use super::metrics::{add_missing, alb_queries_for, metric_calls};
use crate::evidence::acm::{CertificateDetail, CertificateSummary, DescribeCertificate};
use crate::evidence::cloudwatch::{MetricQuery, Series};
use crate::evidence::elb::{
    Attribute, Listener, ListenerCertificate, Rule, TargetHealthDescription,
};
use crate::evidence::elb::{
    DescribeListenerCertificates, DescribeListeners, DescribeLoadBalancer,
    DescribeLoadBalancerAttributes, DescribeRules, DescribeTargetGroupAttributes,
    DescribeTargetGroups, DescribeTargetHealth,
};
use crate::evidence::port::{Operation, Port, Window};
use crate::evidence::{AlbEvidence, TargetGroupEvidence};
use crate::names;

/// Whether a listed certificate must be described: the list says nothing of renewal or
/// validation, which matter for a certificate that is not issued, expired or near expiry
/// (`cert.renewal_risk`, `cf.origin_cert_expired`); and it may not carry every name, which
/// the origin hostname check needs. A certificate expiring before `horizon` (the renewal
/// rule's horizon from now, [`super::GatherOptions::renewal_horizon`]) is described.
pub(super) fn needs_description(
    c: &CertificateSummary,
    horizon: DateTime<Utc>,
    names_needed: bool,
) -> bool {
    c.detail.status.as_deref() != Some("ISSUED")
        || c.detail.not_after.is_none_or(|t| t <= horizon)
        || (names_needed && !c.names_complete)
}

fn has_draining_target(health: &Option<Vec<TargetHealthDescription>>) -> bool {
    health
        .iter()
        .flatten()
        .any(|h| h.target_health.state.as_deref() == Some("draining"))
}

/// Health of one target group, then (a further wave, only then) its attributes when a target
/// is draining: the deregistration delay is the one attribute the rules read, and only for
/// draining targets (`alb.deregistration_inflight`).
async fn health_and_attributes<P: Port>(
    ctx: &Calls<'_, P>,
    region: &str,
    arn: &str,
) -> (Option<Vec<TargetHealthDescription>>, Option<Vec<Attribute>>) {
    let health = ctx
        .read::<DescribeTargetHealth>(region, arn, Some(arn))
        .await;
    let attributes = if has_draining_target(&health) {
        ctx.read::<DescribeTargetGroupAttributes>(region, arn, Some(arn))
            .await
    } else {
        None
    };
    (health, attributes)
}

/// Operation `O` once per load balancer of `albs` (its input the load balancer's ARN),
/// concurrent; a failure is a gap about that load balancer.
fn per_alb<'v, O, P>(
    ctx: &'v Calls<'_, P>,
    albs: &'v [AlbEvidence],
) -> impl Future<Output = Vec<Option<O::Output>>> + 'v
where
    O: Operation<Input = str>,
    P: Port,
{
    join_all(
        albs.iter()
            .map(move |a| ctx.read::<O>(&a.region, &a.arn, Some(&a.arn))),
    )
}

/// What the listener side of [`alb_pipeline`] read: per load balancer its listeners; per
/// listener its rules; the certificates taken from a list and those described.
struct ListenerSide {
    listeners: Vec<Option<Vec<Listener>>>,
    rules: Vec<(ByAlb, Option<Vec<Rule>>)>,
    certificates: Vec<(ByAlb, Option<CertificateDetail>)>,
    /// Every certificate of each secure listener (default and SNI), by listener ARN.
    listener_certificates: Vec<(ByAlb, Option<Vec<ListenerCertificate>>)>,
    /// An SNI certificate had to be described: one more wave after the listener's list.
    sni_described: bool,
}

/// Listener protocols that present certificates: an ALB's HTTPS, an NLB's TLS.
const SECURE_PROTOCOLS: [&str; 2] = ["HTTPS", "TLS"];

/// One certificate's details: from the region's list when it answers well enough, else
/// described. The flag says whether a `DescribeCertificate` call was made.
async fn certificate<P: Port>(
    ctx: &Calls<'_, P>,
    need: Need,
    region: &str,
    arn: &str,
    horizon: DateTime<Utc>,
    names_needed: bool,
) -> (Option<CertificateDetail>, bool) {
    let listed = ctx.certificate_list_if_read(region).await.and_then(|list| {
        list.iter()
            .find(|c| c.detail.certificate_arn == arn)
            .filter(|c| !needs_description(c, horizon, names_needed))
            .map(|c| c.detail.clone())
    });
    match listed {
        Some(detail) => (Some(detail), false),
        None => (
            ctx.read_as::<DescribeCertificate>(need, region, arn, Some(arn))
                .await,
            true,
        ),
    }
}

/// The listener side of [`alb_pipeline`], once the listeners are in: per listener its rules
/// and, for an HTTPS or TLS listener, all its certificates; the certificates' details from
/// the region's list, or described. Certificates are details ([`Need::Detail`]) unless an
/// origin's hostname check needs them (`names_needed`: a CloudFront origin, where an expired
/// certificate is the cause of 502s).
async fn listener_side<P: Port>(
    ctx: &Calls<'_, P>,
    view: &[AlbEvidence],
    listeners: Vec<Option<Vec<Listener>>>,
    horizon: DateTime<Utc>,
    names_needed: bool,
) -> ListenerSide {
    let need = if names_needed {
        Need::Essential
    } else {
        Need::Detail
    };
    // (alb index, region, arn)
    let mut listener_keys: Vec<(usize, &str, &str)> = Vec::new();
    let mut secure_keys: Vec<(usize, &str, &str)> = Vec::new();
    let mut cert_keys: Vec<(usize, String, &str)> = Vec::new();
    for (i, (a, ls)) in view.iter().zip(&listeners).enumerate() {
        for l in ls.iter().flatten() {
            listener_keys.push((i, a.region.as_str(), l.listener_arn.as_str()));
            if l.protocol
                .as_deref()
                .is_some_and(|p| SECURE_PROTOCOLS.contains(&p))
            {
                secure_keys.push((i, a.region.as_str(), l.listener_arn.as_str()));
            }
            for c in &l.certificates {
                // A certificate lives in the region of its ARN (ACM is regional).
                let region = names::region(&c.certificate_arn).unwrap_or(&a.region);
                if !cert_keys
                    .iter()
                    .any(|(k, _, arn)| *k == i && *arn == c.certificate_arn)
                {
                    cert_keys.push((i, region.to_owned(), c.certificate_arn.as_str()));
                }
            }
        }
    }
    let rules = join_all(
        listener_keys
            .iter()
            .map(|(_, region, arn)| ctx.read::<DescribeRules>(region, arn, Some(arn))),
    );
    let certificates = join_all(cert_keys.iter().map(|(_, region, arn)| async move {
        certificate(ctx, need, region, arn, horizon, names_needed)
            .await
            .0
    }));
    // The SNI certificates of each secure listener, then the details of those not seen
    // yet on that load balancer (each looked up once, by the first listener naming it).
    let claimed: Mutex<BTreeSet<(usize, String)>> = Mutex::new(
        cert_keys
            .iter()
            .map(|(i, _, arn)| (*i, (*arn).to_owned()))
            .collect(),
    );
    let sni = join_all(secure_keys.iter().map(|(i, region, arn)| {
        let claimed = &claimed;
        async move {
            let all = ctx
                .read_as::<DescribeListenerCertificates>(need, region, arn, Some(arn))
                .await;
            let mut details = Vec::new();
            let mut described = false;
            for c in all.iter().flatten() {
                let new = claimed
                    .lock()
                    .is_ok_and(|mut seen| seen.insert((*i, c.certificate_arn.clone())));
                if !new {
                    continue;
                }
                let region = names::region(&c.certificate_arn).unwrap_or(region);
                let (detail, called) =
                    certificate(ctx, need, region, &c.certificate_arn, horizon, names_needed).await;
                described |= called;
                details.push(((*i, c.certificate_arn.clone()), detail));
            }
            (((*i, (*arn).to_owned()), all), details, described)
        }
    }));
    let (rules, certificates, sni) = futures::join!(rules, certificates, sni);
    let rules = listener_keys
        .iter()
        .map(|(i, _, arn)| (*i, (*arn).to_owned()))
        .zip(rules)
        .collect();
    let mut certificates: Vec<(ByAlb, Option<CertificateDetail>)> = cert_keys
        .iter()
        .map(|(i, _, arn)| (*i, (*arn).to_owned()))
        .zip(certificates)
        .collect();
    let mut listener_certificates = Vec::new();
    let mut sni_described = false;
    for (listed, details, described) in sni {
        listener_certificates.push(listed);
        certificates.extend(details);
        sni_described |= described;
    }
    ListenerSide {
        listeners,
        rules,
        certificates,
        listener_certificates,
        sni_described,
    }
}

/// A resource of one load balancer of the pipeline: its index, and the resource's ARN.
type ByAlb = (usize, String);

/// The ALB calls for `albs`, each as soon as what it needs has answered, not when the whole
/// previous wave has (2 waves; 3 when a target is draining or an SNI certificate must be
/// described):
/// - wave 1: the load balancer (when not known yet), its attributes, listeners and target
///   groups, and the certificate list of each region not listed yet;
/// - after the target groups and the listeners, in the order their tokens are taken under
///   AWS's rate limit (`calls`): the groups' health, the alarm's own groups first (then the
///   attributes of a group with a draining target); GetMetricData for the load balancers,
///   their groups and `extra_queries`; the listeners' rules; for an HTTPS or TLS listener,
///   all its certificates (`DescribeListenerCertificates`: `DescribeListeners` names only the
///   default one); after the listeners and the region's certificate list: the certificates
///   the list cannot answer for ([`needs_description`]), an SNI one once its listener's
///   certificates are in.
///
/// Why per dependency: the waves are what the verdict waits for, and a wave waits for its
/// slowest call. ACM's list (another service, up to 1,000 certificates) no longer holds up
/// the calls that do not need it. The rules wait for the target groups too (both are ELB
/// calls of the first wave) so that, when the bucket is short, the health goes first.
///
/// Returns the waves on the longest chain and the metrics read.
pub(super) async fn alb_pipeline<P: Port>(
    ctx: &Calls<'_, P>,
    albs: &mut [AlbEvidence],
    horizon: DateTime<Utc>,
    names_needed: bool,
    extra_queries: &[MetricQuery],
    window: Window,
) -> (usize, Vec<(MetricQuery, Series)>) {
    if albs.is_empty() {
        return (0, Vec::new());
    }
    let view: &[AlbEvidence] = albs;
    let lbs = join_all(view.iter().map(|a| async move {
        if a.load_balancer.is_some() {
            return None;
        }
        ctx.read::<DescribeLoadBalancer>(&a.region, &a.arn, Some(&a.arn))
            .await
            .and_then(|v| v.into_iter().next())
    }));
    let attrs = per_alb::<DescribeLoadBalancerAttributes, _>(ctx, view);
    // The certificate list of each region, read beside the listeners (a listener's
    // certificate is in its load balancer's region).
    let regions: BTreeSet<&str> = view.iter().map(|a| a.region.as_str()).collect();
    ctx.claim_certificate_lists(&regions);
    let lists = join_all(regions.iter().map(|r| ctx.certificate_list(r)));
    // Groups and listeners (wave 1), then, in the order their tokens are taken (`calls`): the
    // groups' health (the alarm's own groups first), the metrics, the listeners' rules, and
    // their certificates last.
    let second = async {
        let (tgs, listeners) = futures::join!(
            per_alb::<DescribeTargetGroups, _>(ctx, view),
            per_alb::<DescribeListeners, _>(ctx, view)
        );
        let mut queries: Vec<MetricQuery> = Vec::new();
        // (alb index, tg index, region, arn)
        let mut keys: Vec<(usize, usize, &str, String)> = Vec::new();
        for (i, (a, t)) in view.iter().zip(&tgs).enumerate() {
            let groups = t.iter().flatten();
            queries.extend(alb_queries_for(&a.region, a.dimension(), groups.clone()));
            for (j, tg) in groups.enumerate() {
                keys.push((i, j, a.region.as_str(), tg.target_group_arn.clone()));
            }
        }
        // The alarm's own target groups before the others (a stable sort keeps the rest in
        // the load balancer's order).
        keys.sort_by_key(|(i, _, _, arn)| {
            !view
                .get(*i)
                .is_some_and(|a| a.focus_target_groups.contains(arn))
        });
        add_missing(&mut queries, extra_queries);
        let health = join_all(
            keys.iter()
                .map(|(_, _, region, arn)| health_and_attributes(ctx, region, arn)),
        );
        let side = listener_side(ctx, view, listeners, horizon, names_needed);
        let (health, read, side) =
            futures::join!(health, metric_calls(ctx, &queries, window), side);
        let health: Vec<_> = keys
            .into_iter()
            .map(|(i, j, _, _)| (i, j))
            .zip(health)
            .collect();
        (tgs, health, read, side)
    };
    let (lbs, attrs, (tgs, health, read, side), _) = futures::join!(lbs, attrs, second, lists);
    // Asked for, whether or not they could be read.
    let draining = health.iter().any(|(_, (h, _))| has_draining_target(h));
    for (((alb, lb), at), tg) in albs.iter_mut().zip(lbs).zip(attrs).zip(tgs) {
        if lb.is_some() {
            alb.load_balancer = lb;
        }
        alb.attributes = at;
        alb.target_groups = tg.map(|v| {
            v.into_iter()
                .map(|t| TargetGroupEvidence {
                    target_group: t,
                    attributes: None,
                    health: None,
                })
                .collect()
        });
    }
    for ((i, j), (h, a)) in health {
        if let Some(tg) = albs
            .get_mut(i)
            .and_then(|alb| alb.target_groups.as_mut())
            .and_then(|tgs| tgs.get_mut(j))
        {
            tg.health = h;
            tg.attributes = a;
        }
    }
    for (alb, li) in albs.iter_mut().zip(side.listeners) {
        alb.listeners = li;
    }
    // A listener's certificates are all of them: `DescribeListeners` names only the default.
    for ((i, arn), all) in side.listener_certificates {
        let Some(listener) = albs
            .get_mut(i)
            .and_then(|a| a.listeners.as_mut())
            .and_then(|ls| ls.iter_mut().find(|l| l.listener_arn == arn))
        else {
            continue;
        };
        for c in all.into_iter().flatten() {
            if !listener
                .certificates
                .iter()
                .any(|k| k.certificate_arn == c.certificate_arn)
            {
                listener.certificates.push(c);
            }
        }
    }
    for ((i, arn), r) in side.rules {
        if let (Some(alb), Some(r)) = (albs.get_mut(i), r) {
            alb.rules.insert(arn, r);
        }
    }
    for ((i, arn), c) in side.certificates {
        if let (Some(alb), Some(c)) = (albs.get_mut(i), c) {
            alb.certificates.insert(arn, c);
        }
    }
    let depth = if draining || side.sni_described { 3 } else { 2 };
    (depth, read)
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    fn listed(status: &str, days: i64, names_complete: bool) -> CertificateSummary {
        CertificateSummary {
            detail: CertificateDetail {
                certificate_arn: "arn:aws:acm:us-east-1:1:certificate/c".into(),
                status: Some(status.into()),
                not_after: Some(now() + Duration::days(days)),
                ..CertificateDetail::default()
            },
            names_complete,
        }
    }

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-22T12:37:30Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn a_listed_certificate_is_described_only_when_the_list_cannot_answer() {
        let horizon = now() + Duration::days(45);
        // Issued, far from expiry: the list is enough, unless names are needed and partial.
        assert!(!needs_description(
            &listed("ISSUED", 200, true),
            horizon,
            true
        ));
        assert!(!needs_description(
            &listed("ISSUED", 200, false),
            horizon,
            false
        ));
        assert!(needs_description(
            &listed("ISSUED", 200, false),
            horizon,
            true
        ));
        // Renewal and validation matter: within the renewal horizon, expired, not issued.
        assert!(needs_description(
            &listed("ISSUED", 45, true),
            horizon,
            false
        ));
        assert!(!needs_description(
            &listed("ISSUED", 46, true),
            horizon,
            false
        ));
        assert!(needs_description(
            &listed("ISSUED", -1, true),
            horizon,
            false
        ));
        assert!(needs_description(
            &listed("EXPIRED", 200, true),
            horizon,
            false
        ));
        assert!(needs_description(
            &listed("PENDING_VALIDATION", 200, true),
            horizon,
            false
        ));
        let mut no_expiry = listed("ISSUED", 200, true);
        no_expiry.detail.not_after = None;
        assert!(needs_description(&no_expiry, horizon, false));
    }
}
