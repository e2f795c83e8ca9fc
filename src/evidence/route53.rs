//! Route 53: how a CloudFront origin's custom name leads to a load balancer, and the world
//! file's `Route53` section. A global service: the region a port is asked in is ignored.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::port::{Answer, Op, Operation, SourceError};
use super::record::{Recording, push_unique};
use super::sdk::{AwsSdk, OnWorker, opt_str};
use super::world::World;
use crate::names::fqdn;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct HostedZone {
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<HostedZoneConfig>,
}

impl HostedZone {
    /// The zone id without its `/hostedzone/` prefix, as `ListResourceRecordSets` keys it.
    pub(crate) fn short_id(&self) -> &str {
        self.id.trim_start_matches("/hostedzone/")
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct HostedZoneConfig {
    #[serde(default)]
    pub private_zone: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ResourceRecordSet {
    pub name: String,
    #[serde(rename = "Type")]
    pub kind: String,
    #[serde(rename = "TTL", default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<i64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resource_records: Vec<ResourceRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias_target: Option<AliasTarget>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ResourceRecord {
    pub value: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AliasTarget {
    pub hosted_zone_id: String,
    #[serde(rename = "DNSName")]
    pub dns_name: String,
    #[serde(default)]
    pub evaluate_target_health: bool,
}

// ---------------------------------------------------------------- the world file's section

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct HostedZones {
    #[serde(default)]
    pub hosted_zones: Vec<HostedZone>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ResourceRecordSets {
    #[serde(default)]
    pub resource_record_sets: Vec<ResourceRecordSet>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Route53World {
    #[serde(default)]
    pub list_hosted_zones_by_name: HostedZones,
    /// Records by zone id (without `/hostedzone/`).
    #[serde(default)]
    pub list_resource_record_sets: BTreeMap<String, ResourceRecordSets>,
}

// ---------------------------------------------------------------- operations

/// Every hosted zone of the account (`ListHostedZonesByName` without a name, all pages).
pub(crate) struct ListHostedZones;

impl Operation for ListHostedZones {
    const OP: Op = Op::ListHostedZonesByName;
    type Input = ();
    type Output = Vec<HostedZone>;

    fn key(_region: &str, _: &()) -> String {
        "*".to_owned()
    }

    async fn sdk(sdk: &AwsSdk, _region: &str, _: &()) -> Answer<Vec<HostedZone>> {
        let client = sdk.route53();
        let mut out = Vec::new();
        sdk.paginate(
            |next: Option<(String, Option<String>)>| {
                let mut req = client.list_hosted_zones_by_name();
                if let Some((name, zone)) = next {
                    req = req.dns_name(name).set_hosted_zone_id(zone);
                }
                req.send().on_worker()
            },
            |r| match (r.is_truncated(), r.next_dns_name()) {
                (true, Some(name)) => Some((name.to_owned(), opt_str(r.next_hosted_zone_id()))),
                _ => None,
            },
            |r| {
                out.extend(r.hosted_zones().iter().map(|z| HostedZone {
                    id: z.id().to_owned(),
                    name: z.name().to_owned(),
                    config: z.config().map(|c| HostedZoneConfig {
                        private_zone: c.private_zone(),
                    }),
                }));
            },
        )
        .await?;
        Ok(out)
    }

    fn world(w: &World, _region: &str, _: &()) -> Answer<Vec<HostedZone>> {
        Ok(w.route53.list_hosted_zones_by_name.hosted_zones.clone())
    }

    fn record(rec: &mut Recording, _region: &str, _: &(), out: &Vec<HostedZone>) {
        rec.world.route53.list_hosted_zones_by_name.hosted_zones = out.clone();
    }
}

/// The records of one zone with one name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RecordName {
    /// The zone id, with or without `/hostedzone/`.
    pub zone_id: String,
    /// A fully qualified name, trailing dot optional.
    pub name: String,
}

pub(crate) struct ListResourceRecordSets;

impl Operation for ListResourceRecordSets {
    const OP: Op = Op::ListResourceRecordSets;
    type Input = RecordName;
    type Output = Vec<ResourceRecordSet>;

    fn key(_region: &str, r: &RecordName) -> String {
        format!("{} {}", r.zone_id, r.name)
    }

    async fn sdk(sdk: &AwsSdk, _region: &str, r: &RecordName) -> Answer<Vec<ResourceRecordSet>> {
        let want = fqdn(&r.name);
        // Records are sorted by name: the ones named `name` come first from `StartRecordName`.
        let resp = sdk
            .once(
                sdk.route53()
                    .list_resource_record_sets()
                    .hosted_zone_id(&r.zone_id)
                    .start_record_name(&want)
                    .max_items(20)
                    .send()
                    .on_worker(),
            )
            .await?;
        Ok(resp
            .resource_record_sets()
            .iter()
            .filter(|r| fqdn(r.name()).eq_ignore_ascii_case(&want))
            .map(|r| ResourceRecordSet {
                name: r.name().to_owned(),
                kind: r.r#type().as_str().to_owned(),
                ttl: r.ttl(),
                resource_records: r
                    .resource_records()
                    .iter()
                    .map(|v| ResourceRecord {
                        value: v.value().to_owned(),
                    })
                    .collect(),
                alias_target: r.alias_target().map(|a| AliasTarget {
                    hosted_zone_id: a.hosted_zone_id().to_owned(),
                    dns_name: a.dns_name().to_owned(),
                    evaluate_target_health: a.evaluate_target_health(),
                }),
            })
            .collect())
    }

    fn world(w: &World, _region: &str, r: &RecordName) -> Answer<Vec<ResourceRecordSet>> {
        let short = r.zone_id.trim_start_matches("/hostedzone/");
        let known = w
            .route53
            .list_hosted_zones_by_name
            .hosted_zones
            .iter()
            .any(|z| z.short_id() == short);
        let records = w.route53.list_resource_record_sets.get(short);
        if records.is_none() && !known {
            return Err(SourceError::new(
                "NoSuchHostedZone",
                format!("hosted zone `{short}` not found"),
            ));
        }
        let want = fqdn(&r.name);
        Ok(records
            .map(|r| {
                r.resource_record_sets
                    .iter()
                    .filter(|rr| fqdn(&rr.name).eq_ignore_ascii_case(&want))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default())
    }

    fn record(rec: &mut Recording, _region: &str, r: &RecordName, out: &Vec<ResourceRecordSet>) {
        let key = r.zone_id.trim_start_matches("/hostedzone/").to_owned();
        let entry = rec
            .world
            .route53
            .list_resource_record_sets
            .entry(key)
            .or_default();
        push_unique(&mut entry.resource_record_sets, out);
    }
}
