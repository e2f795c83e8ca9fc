//! `DescribeAlarms`: the alarm's own configuration, read in the first wave beside the other
//! first calls, and a composite alarm's children.
//!
//! The alarm is described alone (its `Errors` key in a world is its name). A composite's
//! children go in one more request: beside it when the payload carries the rule, after it when
//! only the description does (the one case that costs a wave).

use super::calls::Calls;
use crate::alarm::rule::child_alarms;
use crate::evidence::cloudwatch::{DescribeAlarms, DescribedAlarms};
use crate::evidence::port::Port;

/// The alarm to describe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlarmLookup {
    /// The alarm's region.
    pub region: String,
    pub name: String,
    /// A composite alarm's rule, as the payload carries it.
    pub rule: Option<String>,
    /// Whether a composite alarm's children are described too.
    pub children: bool,
}

/// What `DescribeAlarms` answered, the alarm and its children together (empty where a call
/// failed: the failure is a gap), and how many waves it took.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AlarmRead {
    pub described: DescribedAlarms,
    pub waves: usize,
}

fn children_of(lookup: &AlarmLookup, rule: Option<&str>) -> Vec<String> {
    if !lookup.children {
        return Vec::new();
    }
    rule.map(child_alarms)
        .unwrap_or_default()
        .into_iter()
        .filter(|n| *n != lookup.name)
        .collect()
}

/// Describes the alarm and, when asked, its children.
pub(super) async fn describe<P: Port>(ctx: &Calls<'_, P>, lookup: &AlarmLookup) -> AlarmRead {
    let own = [lookup.name.clone()];
    let early = children_of(lookup, lookup.rule.as_deref());
    let read = |names: Vec<String>| async move {
        if names.is_empty() {
            return None;
        }
        let resource = names.join(", ");
        ctx.read::<DescribeAlarms>(&lookup.region, &names, Some(&resource))
            .await
    };
    let (mine, theirs) = futures::join!(
        ctx.read::<DescribeAlarms>(&lookup.region, &own, Some(&lookup.name)),
        read(early.clone())
    );
    let mut out = AlarmRead {
        described: mine.unwrap_or_default(),
        waves: 1,
    };
    if let Some(theirs) = theirs {
        out.described.merge(&theirs);
    }
    if early.is_empty() {
        let rule = out
            .described
            .composite_alarm(&lookup.name)
            .and_then(|c| c.alarm_rule.clone());
        let late = children_of(lookup, rule.as_deref());
        if !late.is_empty() {
            out.waves = 2;
            if let Some(theirs) = read(late).await {
                out.described.merge(&theirs);
            }
        }
    }
    out
}
