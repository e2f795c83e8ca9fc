//! The incident store: one DynamoDB table (`FIVEXX_INCIDENT_TABLE`), string keys `pk` and
//! `sk`, on-demand, with a TTL attribute `ttl` (`docs/incidents.md` has the record layout).
//!
//! A transition is claimed the way an idempotency layer claims a request: a conditional
//! `PutItem` writes `in_progress` with a lease (the claiming invocation's deadline) unless a
//! record exists that is completed or whose lease is still running. The winner posts, then
//! marks the record `completed` with what it posted; a failed post deletes the claim so that
//! the retry Lambda makes claims it again. A claim whose invocation died is taken over once
//! its lease ends, so a crash never swallows a verdict.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::put_item::{PutItemError, PutItemOutput};
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure};
use chrono::{DateTime, Utc};
use thiserror::Error;

use super::TransitionKey;

/// A transition record outlives any redelivery: SNS retries for up to 23 days on its most
/// patient delivery policy, but Lambda's own retries of an asynchronous invoke end within 6
/// hours and EventBridge's within 24; a week covers the paths fivexx is wired to and keeps a
/// week of history to inspect, at a few hundred bytes a record.
pub(crate) const TRANSITION_TTL: chrono::Duration = chrono::Duration::days(7);

const IN_PROGRESS: &str = "in_progress";
const COMPLETED: &str = "completed";
const CONDITION_FAILED: &str = "ConditionalCheckFailedException";

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub(crate) enum StoreError {
    /// The table could not be read or written (throttled, unreachable, denied, timed out).
    #[error("incident store `{table}` unavailable: {code}")]
    Unavailable { table: String, code: String },
}

/// What a claim found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Claim {
    /// This invocation owns the transition: it posts, then completes or releases the claim.
    /// `took_over` when an expired claim of a dead invocation was replaced.
    Owned { took_over: bool },
    /// Another invocation holds a live claim and will post: post nothing.
    InProgress { lease_until: DateTime<Utc> },
    /// Already posted: post nothing. `posted` is what the first invocation recorded.
    Done { posted: String },
}

/// The DynamoDB table of incidents.
#[derive(Debug, Clone)]
pub(crate) struct IncidentStore {
    client: Client,
    table: String,
    /// How long one store call may take before the function gives up on the store and posts
    /// anyway (`FIVEXX_INCIDENT_TIMEOUT_MS`): the store must never cost a verdict its delivery.
    timeout: Duration,
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: i64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn text(item: &HashMap<String, AttributeValue>, name: &str) -> Option<String> {
    item.get(name)?.as_s().ok().cloned()
}

fn number(item: &HashMap<String, AttributeValue>, name: &str) -> Option<i64> {
    item.get(name)?.as_n().ok()?.parse().ok()
}

impl IncidentStore {
    pub(crate) fn new(client: Client, table: impl Into<String>, timeout: Duration) -> Self {
        Self {
            client,
            table: table.into(),
            timeout,
        }
    }

    fn unavailable(&self, code: impl Into<String>) -> StoreError {
        StoreError::Unavailable {
            table: self.table.clone(),
            code: code.into(),
        }
    }

    /// Runs one store call within the store's timeout.
    async fn bounded<T, E: ProvideErrorMetadata>(
        &self,
        call: impl std::future::Future<Output = Result<T, E>>,
    ) -> Result<Result<T, E>, StoreError> {
        tokio::time::timeout(self.timeout, call)
            .await
            .map_err(|_| self.unavailable("Timeout"))
    }

    /// The store unavailable, with the code of `e`.
    fn failed(&self, e: &impl ProvideErrorMetadata) -> StoreError {
        self.unavailable(e.code().unwrap_or("DispatchFailure"))
    }

    /// One item by its keys (a strongly consistent read).
    async fn get(
        &self,
        pk: String,
        sk: &str,
    ) -> Result<Option<HashMap<String, AttributeValue>>, StoreError> {
        let call = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(pk))
            .key("sk", s(sk))
            .consistent_read(true)
            .send();
        let out = self.bounded(call).await?.map_err(|e| self.failed(&e))?;
        Ok(out.item().cloned())
    }

    /// A conditional `PutItem`'s answer: `Ok` with its output when it was written, `Err`
    /// with the item it found when its condition refused it (asked with `ALL_OLD`), the store
    /// unavailable otherwise.
    fn put_outcome(
        &self,
        r: Result<PutItemOutput, SdkError<PutItemError>>,
    ) -> Result<Result<PutItemOutput, HashMap<String, AttributeValue>>, StoreError> {
        match r {
            Ok(out) => Ok(Ok(out)),
            Err(e) => match e.as_service_error() {
                Some(PutItemError::ConditionalCheckFailedException(c)) => {
                    Ok(Err(c.item().cloned().unwrap_or_default()))
                }
                _ => Err(self.failed(&e)),
            },
        }
    }

    /// A conditional write's result: `Ok(true)` when it applied, `Ok(false)` when its
    /// condition failed, the store unavailable otherwise.
    fn conditional<T, E: ProvideErrorMetadata>(&self, r: Result<T, E>) -> Result<bool, StoreError> {
        match r {
            Ok(_) => Ok(true),
            Err(e) if e.code() == Some(CONDITION_FAILED) => Ok(false),
            Err(e) => Err(self.failed(&e)),
        }
    }

    /// Claims `key` for the invocation `token` until `lease_until`.
    pub(crate) async fn claim(
        &self,
        key: &TransitionKey,
        token: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<Claim, StoreError> {
        let call = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(key.partition()))
            .item("sk", s(key.sort()))
            .item("kind", s("transition"))
            .item("status", s(IN_PROGRESS))
            .item("token", s(token))
            .item("state", s(&key.state))
            .item("claimed_at", n(now.timestamp_millis()))
            .item("lease_until", n(lease_until.timestamp_millis()))
            .item("ttl", n((now + TRANSITION_TTL).timestamp()))
            .condition_expression(
                "attribute_not_exists(pk) OR (#status = :in_progress AND lease_until < :now)",
            )
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":in_progress", s(IN_PROGRESS))
            .expression_attribute_values(":now", n(now.timestamp_millis()))
            .return_values(ReturnValue::AllOld)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send();
        match self.put_outcome(self.bounded(call).await?)? {
            Ok(out) => Ok(Claim::Owned {
                took_over: out.attributes().is_some_and(|a| !a.is_empty()),
            }),
            Err(old) => {
                // The SDK retries an attempt that timed out: the retry may meet the claim
                // its own first attempt wrote. That claim is this invocation's.
                if text(&old, "token").as_deref() == Some(token)
                    && text(&old, "status").as_deref() == Some(IN_PROGRESS)
                {
                    return Ok(Claim::Owned { took_over: false });
                }
                Ok(match text(&old, "status").as_deref() {
                    Some(COMPLETED) => Claim::Done {
                        posted: text(&old, "posted").unwrap_or_default(),
                    },
                    _ => Claim::InProgress {
                        lease_until: number(&old, "lease_until")
                            .and_then(DateTime::from_timestamp_millis)
                            .unwrap_or(now),
                    },
                })
            }
        }
    }

    /// Marks `key` posted by `token`, with `posted` (what went where). `Ok(false)` when the
    /// claim is no longer this invocation's (its lease ran out and another took it over).
    pub(crate) async fn complete(
        &self,
        key: &TransitionKey,
        token: &str,
        now: DateTime<Utc>,
        posted: &str,
    ) -> Result<bool, StoreError> {
        let call = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(key.partition()))
            .key("sk", s(key.sort()))
            .update_expression("SET #status = :completed, posted = :posted, completed_at = :now")
            .condition_expression("#token = :token")
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#token", "token")
            .expression_attribute_values(":completed", s(COMPLETED))
            .expression_attribute_values(":posted", s(posted))
            .expression_attribute_values(":now", n(now.timestamp_millis()))
            .expression_attribute_values(":token", s(token))
            .send();
        self.conditional(self.bounded(call).await?)
    }

    /// Gives the claim up after a failed post, so that a retry claims and posts it.
    pub(crate) async fn release(&self, key: &TransitionKey, token: &str) -> Result<(), StoreError> {
        self.give_up(key.partition(), &key.sort(), token, IN_PROGRESS)
            .await
    }

    /// Deletes the claim `pk`/`sk` if `token` still holds it in `status`. A claim that is not
    /// ours any more (taken over, or already completed) is left alone: nothing to give up.
    async fn give_up(
        &self,
        pk: String,
        sk: &str,
        token: &str,
        status: &str,
    ) -> Result<(), StoreError> {
        let call = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(pk))
            .key("sk", s(sk))
            .condition_expression("#token = :token AND #status = :status")
            .expression_attribute_names("#token", "token")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":token", s(token))
            .expression_attribute_values(":status", s(status))
            .send();
        self.conditional(self.bounded(call).await?).map(|_| ())
    }
}

/// The sort key of an alarm's incident record: one per alarm, the latest incident.
const INCIDENT_SK: &str = "INCIDENT";

/// An alarm's incident: opened by an ALARM transition, resolved by OK, reopened by a new
/// ALARM within the flap window. It remembers the Slack message that stands for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Incident {
    /// The opening transition's sort key (`T#time#ALARM`): unique per alarm.
    pub id: String,
    pub opened_at: DateTime<Utc>,
    /// When it went back to OK; `None` while open.
    pub resolved_at: Option<DateTime<Utc>>,
    /// The Slack message that stands for it (bot token mode).
    pub channel: Option<String>,
    pub ts: Option<String>,
    /// How many times it was reopened.
    pub reopened: i64,
    /// The opening verdict's summary and its findings' rule ids, for the resolved parent and
    /// the difference at OK.
    pub summary: String,
    pub rules: Vec<String>,
    /// The incident whose thread this one joined (a storm): its OK replies there and leaves
    /// the other incident's message alone.
    pub grouped_under: Option<String>,
}

impl Incident {
    /// Not yet back to OK.
    pub(crate) fn is_open(&self) -> bool {
        self.resolved_at.is_none()
    }
}

impl IncidentStore {
    /// The latest incident of the alarm of `key`, if any (a strongly consistent read).
    pub(crate) async fn incident(
        &self,
        key: &TransitionKey,
    ) -> Result<Option<Incident>, StoreError> {
        let Some(item) = self.get(key.partition(), INCIDENT_SK).await? else {
            return Ok(None);
        };
        let item = &item;
        let time = |name: &str| number(item, name).and_then(DateTime::from_timestamp_millis);
        Ok(Some(Incident {
            id: text(item, "incident").unwrap_or_default(),
            opened_at: time("opened_at").unwrap_or_default(),
            resolved_at: time("resolved_at"),
            channel: text(item, "channel"),
            ts: text(item, "ts"),
            reopened: number(item, "reopened").unwrap_or(0),
            summary: text(item, "summary").unwrap_or_default(),
            rules: text(item, "rules")
                .and_then(|r| serde_json::from_str(&r).ok())
                .unwrap_or_default(),
            grouped_under: text(item, "grouped_under"),
        }))
    }

    /// Writes the alarm's incident record (a new incident replaces the alarm's last one).
    pub(crate) async fn save_incident(
        &self,
        key: &TransitionKey,
        i: &Incident,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut put = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(key.partition()))
            .item("sk", s(INCIDENT_SK))
            .item("kind", s("incident"))
            .item("incident", s(&i.id))
            .item("opened_at", n(i.opened_at.timestamp_millis()))
            .item("reopened", n(i.reopened))
            .item("summary", s(&i.summary))
            .item(
                "rules",
                s(serde_json::to_string(&i.rules).unwrap_or_else(|_| "[]".into())),
            )
            .item("ttl", n((now + INCIDENT_TTL).timestamp()));
        if let Some(t) = i.resolved_at {
            put = put.item("resolved_at", n(t.timestamp_millis()));
        }
        if let (Some(c), Some(ts)) = (&i.channel, &i.ts) {
            put = put.item("channel", s(c)).item("ts", s(ts));
        }
        if let Some(g) = &i.grouped_under {
            put = put.item("grouped_under", s(g));
        }
        self.bounded(put.send())
            .await?
            .map(|_| ())
            .map_err(|e| self.failed(&e))
    }
}

/// An incident record lives this long after its last write: long enough to reopen a
/// resolved incident and to look an incident up after the fact.
pub(crate) const INCIDENT_TTL: chrono::Duration = chrono::Duration::days(30);

/// A storm's group: the incident that leads it (the first alarm on the shared resource within
/// the grouping window) and the Slack message its followers reply under.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Group {
    /// The leading incident's name.
    pub leader: String,
    /// When the leading incident opened (the alarm's state-change time).
    pub opened_at: DateTime<Utc>,
    pub channel: Option<String>,
    pub ts: Option<String>,
    /// The leader's message as posted (Block Kit JSON), to list the followers on it.
    pub parent: Option<String>,
}

/// What leading a group found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Lead {
    /// This incident leads the group: it posts the parent message.
    Leader,
    /// Another incident opened within the window leads it: reply in its thread.
    Follower(Group),
}

fn group_of(item: &HashMap<String, AttributeValue>) -> Group {
    Group {
        leader: text(item, "leader").unwrap_or_default(),
        opened_at: number(item, "opened_at")
            .and_then(DateTime::from_timestamp_millis)
            .unwrap_or_default(),
        channel: text(item, "channel"),
        ts: text(item, "ts"),
        parent: text(item, "parent"),
    }
}

impl IncidentStore {
    /// Claims the group of resource `key` for the incident `leader`, unless another incident
    /// claimed it after `since` (the grouping window's start). One conditional write decides
    /// among concurrent first alarms of a storm: exactly one leads.
    pub(crate) async fn lead_group(
        &self,
        key: &str,
        leader: &str,
        now: DateTime<Utc>,
        since: DateTime<Utc>,
    ) -> Result<Lead, StoreError> {
        let call = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(format!("GROUP#{key}")))
            .item("sk", s("GROUP"))
            .item("kind", s("group"))
            .item("leader", s(leader))
            .item("opened_at", n(now.timestamp_millis()))
            .item("ttl", n((now + TRANSITION_TTL).timestamp()))
            .condition_expression("attribute_not_exists(pk) OR opened_at < :since")
            .expression_attribute_values(":since", n(since.timestamp_millis()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send();
        match self.put_outcome(self.bounded(call).await?)? {
            Ok(_) => Ok(Lead::Leader),
            Err(old) => {
                let g = group_of(&old);
                // A retried attempt meeting its own first write leads.
                if g.leader == leader {
                    return Ok(Lead::Leader);
                }
                Ok(Lead::Follower(g))
            }
        }
    }

    /// The group of resource `key` as it stands (a strongly consistent read).
    pub(crate) async fn group(&self, key: &str) -> Result<Option<Group>, StoreError> {
        Ok(self
            .get(format!("GROUP#{key}"), "GROUP")
            .await?
            .as_ref()
            .map(group_of))
    }

    /// Records the leader's posted message on its group, for the followers to reply under.
    pub(crate) async fn set_group_message(
        &self,
        key: &str,
        leader: &str,
        channel: &str,
        ts: &str,
        parent: &str,
    ) -> Result<(), StoreError> {
        let call = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(format!("GROUP#{key}")))
            .key("sk", s("GROUP"))
            .update_expression("SET channel = :channel, ts = :ts, parent = :parent")
            .condition_expression("leader = :leader")
            .expression_attribute_values(":channel", s(channel))
            .expression_attribute_values(":ts", s(ts))
            .expression_attribute_values(":parent", s(parent))
            .expression_attribute_values(":leader", s(leader))
            .send();
        self.conditional(self.bounded(call).await?).map(|_| ())
    }

    /// Adds `member` to the group's followers; returns them all, in the order they joined.
    pub(crate) async fn join_group(
        &self,
        key: &str,
        member: &str,
    ) -> Result<Vec<String>, StoreError> {
        let call = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(format!("GROUP#{key}")))
            .key("sk", s("GROUP"))
            .update_expression("SET members = list_append(if_not_exists(members, :empty), :member)")
            .expression_attribute_values(":empty", AttributeValue::L(Vec::new()))
            .expression_attribute_values(":member", AttributeValue::L(vec![s(member)]))
            .return_values(ReturnValue::AllNew)
            .send();
        let out = self.bounded(call).await?.map_err(|e| self.failed(&e))?;
        Ok(out
            .attributes()
            .and_then(|a| a.get("members"))
            .and_then(|m| m.as_l().ok())
            .map(|l| l.iter().filter_map(|v| v.as_s().ok().cloned()).collect())
            .unwrap_or_default())
    }
}

/// The sort key of a resource's shared evidence (`SHARE#<key>`, `evidence::reuse`).
const SHARE_SK: &str = "EVIDENCE";
const GATHERING: &str = "gathering";
const READY: &str = "ready";

/// Shared evidence is kept a little past its freshness, so that a record is there to be
/// replaced by the next storm's first triage rather than deleted by TTL under it (TTL deletes
/// within days, so `claim_share` never trusts it: it compares times).
const SHARE_TTL: chrono::Duration = chrono::Duration::minutes(10);

/// What a claim on a resource's shared evidence found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ShareClaim {
    /// Nobody read the resource within the freshness window: this triage reads it and shares.
    Lead,
    /// Another triage is reading it now (`by` is its alarm): wait for its evidence.
    Gathering { by: String },
    /// Another triage shared what it read.
    Ready(SharedRecord),
}

/// Shared evidence as the store holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SharedRecord {
    /// The alarm whose triage read it.
    pub by: String,
    pub gathered_at: DateTime<Utc>,
    /// `evidence::reuse::SharedEvidence::encode`'s bytes.
    pub evidence: Vec<u8>,
}

fn share_state(item: &HashMap<String, AttributeValue>) -> Option<ShareClaim> {
    let by = text(item, "alarm").unwrap_or_default();
    match text(item, "status").as_deref() {
        Some(READY) => Some(ShareClaim::Ready(SharedRecord {
            by,
            gathered_at: number(item, "gathered_at").and_then(DateTime::from_timestamp_millis)?,
            evidence: item.get("evidence")?.as_b().ok()?.clone().into_inner(),
        })),
        Some(GATHERING) => Some(ShareClaim::Gathering { by }),
        _ => None,
    }
}

impl IncidentStore {
    /// Claims the reading of a resource (`key`) for the triage `token` of `alarm`, unless
    /// another triage has read it or started reading it within `fresh` of `now` and is still
    /// within its lease: then says what it found.
    pub(crate) async fn claim_share(
        &self,
        key: &str,
        token: &str,
        alarm: &str,
        now: DateTime<Utc>,
        fresh: chrono::Duration,
        lease_until: DateTime<Utc>,
    ) -> Result<ShareClaim, StoreError> {
        let call = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(format!("SHARE#{key}")))
            .item("sk", s(SHARE_SK))
            .item("kind", s("shared evidence"))
            .item("status", s(GATHERING))
            .item("token", s(token))
            .item("alarm", s(alarm))
            .item("claimed_at", n(now.timestamp_millis()))
            .item("lease_until", n(lease_until.timestamp_millis()))
            .item("ttl", n((now + SHARE_TTL).timestamp()))
            .condition_expression(
                "attribute_not_exists(pk) OR claimed_at < :stale OR (#status = :gathering AND lease_until < :now)",
            )
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":gathering", s(GATHERING))
            .expression_attribute_values(":stale", n((now - fresh).timestamp_millis()))
            .expression_attribute_values(":now", n(now.timestamp_millis()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send();
        match self.put_outcome(self.bounded(call).await?)? {
            Ok(_) => Ok(ShareClaim::Lead),
            // Refused: a fresh record is there. One this store cannot read is treated as
            // being gathered (the waiter then reads it on its own when the wait ends).
            Err(old) => Ok(share_state(&old).unwrap_or(ShareClaim::Gathering {
                by: text(&old, "alarm").unwrap_or_default(),
            })),
        }
    }

    /// A resource's shared evidence as it stands: `None` when there is none.
    pub(crate) async fn share(&self, key: &str) -> Result<Option<ShareClaim>, StoreError> {
        Ok(self
            .get(format!("SHARE#{key}"), SHARE_SK)
            .await?
            .as_ref()
            .and_then(share_state))
    }

    /// Publishes what the triage `token` read, if its claim is still its own.
    pub(crate) async fn publish_share(
        &self,
        key: &str,
        token: &str,
        gathered_at: DateTime<Utc>,
        evidence: Vec<u8>,
    ) -> Result<bool, StoreError> {
        let call = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(format!("SHARE#{key}")))
            .key("sk", s(SHARE_SK))
            .update_expression("SET #status = :ready, gathered_at = :at, evidence = :evidence")
            .condition_expression("#token = :token")
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#token", "token")
            .expression_attribute_values(":ready", s(READY))
            .expression_attribute_values(":at", n(gathered_at.timestamp_millis()))
            .expression_attribute_values(
                ":evidence",
                AttributeValue::B(aws_smithy_types::Blob::new(evidence)),
            )
            .expression_attribute_values(":token", s(token))
            .send();
        self.conditional(self.bounded(call).await?)
    }

    /// Gives up a claim that will share nothing, so that waiters stop waiting.
    pub(crate) async fn release_share(&self, key: &str, token: &str) -> Result<(), StoreError> {
        self.give_up(format!("SHARE#{key}"), SHARE_SK, token, GATHERING)
            .await
    }
}
