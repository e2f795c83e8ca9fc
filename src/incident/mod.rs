//! Incidents: what the function remembers between invocations, so that one alarm transition
//! is posted once however many times AWS delivers it (`docs/incidents.md`).
//!
//! AWS delivers at least once on every path (SNS redelivers, a failed asynchronous invoke is
//! retried twice, one alarm wired to an action and to SNS or EventBridge arrives twice). Each
//! delivery of a transition carries the same alarm and the same state-change time, whatever
//! the envelope, so [`TransitionKey`] names the transition and the store's conditional write
//! ([`store::IncidentStore::claim`]) lets exactly one invocation post it.
//!
//! The store is optional: without `FIVEXX_INCIDENT_TABLE` the function stays stateless and
//! posts every delivery, as before.

pub(crate) mod store;

use chrono::{DateTime, SecondsFormat, Utc};

use crate::alarm::Alarm;

/// The longest alarm id a key is made of.
const MAX_ALARM_ID: usize = 1024;
/// The longest state name (`INSUFFICIENT_DATA` is the longest CloudWatch has).
const MAX_STATE: usize = 32;

/// One alarm transition, as every envelope names it: the alarm (its ARN, else account,
/// region and name), the state it entered, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TransitionKey {
    /// The alarm's ARN, or `account:region:name` when the payload carries no ARN.
    pub(crate) alarm: String,
    pub(crate) state: String,
    pub(crate) at: DateTime<Utc>,
}

impl TransitionKey {
    /// The transition an alarm payload reports; `None` when the payload lacks the state-change
    /// time (nothing then identifies a redelivery: the transition is posted as it comes).
    pub(crate) fn of(alarm: &Alarm) -> Option<Self> {
        let at = alarm.changed_at?;
        let id = match &alarm.arn {
            Some(arn) if !arn.is_empty() => arn.clone(),
            _ => format!(
                "{}:{}:{}",
                alarm.account().unwrap_or("-"),
                alarm.region().unwrap_or("-"),
                alarm.name
            ),
        };
        // A real alarm ARN is under 400 bytes (names are at most 255); anything longer is no
        // alarm DynamoDB could key (partition keys end at 2,048 bytes), so it is posted as it
        // comes rather than failing the store.
        if id.len() > MAX_ALARM_ID || alarm.state.len() > MAX_STATE {
            return None;
        }
        Some(Self {
            alarm: crate::untrusted::clean(&id),
            state: crate::untrusted::clean(&alarm.state.to_ascii_uppercase()),
            at,
        })
    }

    /// The partition key: every record of one alarm lives under it.
    pub(crate) fn partition(&self) -> String {
        format!("ALARM#{}", self.alarm)
    }

    /// The sort key of the transition's record: time first, so the alarm's transitions sort
    /// in order (milliseconds, the precision the payloads carry).
    pub(crate) fn sort(&self) -> String {
        format!(
            "T#{}#{}",
            self.at.to_rfc3339_opts(SecondsFormat::Millis, true),
            self.state
        )
    }
}

/// The resource a storm of alarms shares, read from the alarm's own dimensions: the load
/// balancer (`LoadBalancer`, `LoadBalancerName`), the distribution (`DistributionId`) or the
/// API stage (`ApiId`/`ApiName` with `Stage`). Alarms on one load balancer (ELB 5xx, target 5xx,
/// unhealthy hosts) share it; `None` when no dimension names one.
pub(crate) fn group_key(alarm: &Alarm) -> Option<String> {
    let region = alarm.region().unwrap_or("-");
    let key = alarm.metrics.iter().find_map(|m| {
        let d = &m.dimensions;
        if let Some(lb) = d.get("LoadBalancer") {
            Some(format!("lb:{region}:{lb}"))
        } else if let Some(name) = d.get("LoadBalancerName") {
            Some(format!("clb:{region}:{name}"))
        } else if let Some(id) = d.get("DistributionId") {
            Some(format!("cf:{id}"))
        } else {
            let api = d.get("ApiId").or_else(|| d.get("ApiName"))?;
            let stage = d.get("Stage").map_or("-", String::as_str);
            Some(format!("api:{region}:{api}:{stage}"))
        }
    })?;
    (key.len() <= MAX_ALARM_ID).then(|| crate::untrusted::clean(&key))
}

/// The storm keys a verdict's findings reach beyond the alarm's own resource: the load
/// balancers they name (the origin ALB behind a CloudFront alarm, the backend of an API).
pub(crate) fn linked_group_keys(v: &crate::verdict::Verdict) -> Vec<String> {
    let mut keys: Vec<String> = v
        .findings
        .iter()
        .flat_map(|f| &f.resources)
        .filter_map(|arn| {
            let dim = crate::names::load_balancer_dimension(arn)?;
            let region = arn.split(':').nth(3)?;
            Some(crate::untrusted::clean(&format!("lb:{region}:{dim}")))
        })
        .filter(|k| k.len() <= MAX_ALARM_ID)
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

/// How people name an incident: the alarm and when it opened (`web-alb-5xx@2026-11-22T12:36:15Z`).
pub(crate) fn incident_name(alarm_name: &str, opened_at: DateTime<Utc>) -> String {
    format!(
        "{}@{}",
        crate::untrusted::clean(&crate::error::short(alarm_name)),
        opened_at.to_rfc3339_opts(SecondsFormat::Secs, true)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alarm(payload: &str) -> Alarm {
        crate::alarm::parse_str(payload).unwrap()
    }

    fn event(name: &str) -> String {
        std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("events")
                .join(name),
        )
        .unwrap()
    }

    /// The three envelopes of one transition name the same key: that is what makes a
    /// duplicate recognisable whichever path delivered it.
    #[test]
    fn every_envelope_of_one_transition_has_the_same_key() {
        let keys: Vec<TransitionKey> = [
            "direct-alb-5xx.json",
            "sns-alb-5xx.json",
            "eventbridge-alb-5xx.json",
        ]
        .iter()
        .map(|n| TransitionKey::of(&alarm(&event(n))).unwrap())
        .collect();
        for k in &keys[1..] {
            assert_eq!(k.partition(), keys[0].partition());
            assert_eq!(k.sort(), keys[0].sort());
        }
    }

    #[test]
    fn a_payload_without_a_state_change_time_has_no_key() {
        let mut a = alarm(&event("sns-alb-5xx.json"));
        a.changed_at = None;
        assert_eq!(TransitionKey::of(&a), None);
    }

    #[test]
    fn an_alarm_no_table_could_key_has_no_key() {
        let mut a = alarm(&event("sns-alb-5xx.json"));
        a.arn = Some(format!(
            "arn:aws:cloudwatch:us-east-1:123456789012:alarm:{}",
            "x".repeat(2000)
        ));
        assert_eq!(TransitionKey::of(&a), None);
        let mut a = alarm(&event("sns-alb-5xx.json"));
        a.state = "ALARM\nforged".into();
        assert!(!TransitionKey::of(&a).unwrap().sort().contains('\n'));
    }

    /// A CloudFront alarm's storm reaches the ALB behind its origin: its findings name the
    /// load balancer, whose alarms group under `lb:REGION:app/NAME/ID`.
    #[tokio::test]
    async fn a_cloudfront_verdict_links_the_storm_of_its_origin_load_balancer() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/scenarios/cf-5xx-origin-app-errors-after-deploy");
        let alarm = alarm(&std::fs::read_to_string(dir.join("event.json")).unwrap());
        assert!(group_key(&alarm).unwrap().starts_with("cf:"));
        let world = crate::evidence::world::World::load(&dir.join("world.json")).unwrap();
        let opts = crate::triage::TriageOptions {
            now: world.now.unwrap(),
            deadline: tokio::time::Instant::now() + std::time::Duration::from_secs(10),
            home_region: world.region.clone(),
            home_account: world.account.clone(),
        };
        let v = crate::triage::triage(&world, &alarm, &opts).await;
        let keys = linked_group_keys(&v);
        assert!(
            keys.iter()
                .any(|k| k.starts_with("lb:eu-west-1:app/web-eu/")),
            "{keys:?}"
        );
        // The ALB's own alarms name the same key from their dimension.
        let mut alb = alarm.clone();
        alb.metrics[0].dimensions = [(
            "LoadBalancer".to_owned(),
            keys[0].trim_start_matches("lb:eu-west-1:").to_owned(),
        )]
        .into();
        alb.region = Some("eu-west-1".into());
        alb.arn = None;
        assert_eq!(group_key(&alb).as_deref(), Some(keys[0].as_str()));
    }

    #[test]
    fn the_sort_key_orders_transitions_in_time() {
        let a = alarm(&event("sns-alb-5xx.json"));
        let k = TransitionKey::of(&a).unwrap();
        assert!(k.sort().starts_with("T#20"), "{}", k.sort());
        assert!(k.sort().ends_with("#ALARM"), "{}", k.sort());
        assert!(
            k.partition().starts_with("ALARM#arn:aws:cloudwatch:"),
            "{}",
            k.partition()
        );
    }
}
