//! The SNS message: a subject of at most 99 ASCII characters, a plain-text body that reads
//! well in email, message attributes for subscription filtering, and optionally the Amazon Q
//! Developer in chat applications custom-notification JSON for HTTPS (chat) subscribers.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Value, json};

use super::cap;
use super::links;
use crate::render::text;
use crate::verdict::Verdict;

/// SNS subjects must be under 100 ASCII characters, without line breaks or control characters.
pub const MAX_SUBJECT: usize = 99;
/// SNS messages are at most 256 KB; the body stays well below.
pub const MAX_BODY: usize = 200_000;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct MessageAttribute {
    pub data_type: String,
    pub string_value: String,
}

/// The SNS `Publish` input, as `--format sns` prints it and the Lambda sends it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PublishInput {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topic_arn: Option<String>,
    pub subject: String,
    pub message: String,
    /// `json` when the message carries one body per protocol (chat JSON and email text).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_structure: Option<String>,
    pub message_attributes: BTreeMap<String, MessageAttribute>,
}

/// The subject: printable ASCII only, at most 99 characters.
pub fn subject(v: &Verdict) -> String {
    let top = v
        .findings
        .first()
        .map(|f| format!(": {}", f.rule))
        .unwrap_or_default();
    let raw = format!(
        "fivexx {} {}{top}",
        v.status.as_str().to_uppercase(),
        v.alarm.name
    );
    let ascii: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '?'
            }
        })
        .collect();
    let mut s: String = ascii.chars().take(MAX_SUBJECT).collect();
    if ascii.chars().count() > MAX_SUBJECT {
        s.pop();
        s.pop();
        s.pop();
        s.push_str("...");
    }
    s
}

/// The email body: the terminal rendering plus console links.
pub fn body(v: &Verdict) -> String {
    let mut s = text::render(v);
    let mut seen: Vec<String> = Vec::new();
    for f in v.findings.iter().take(3) {
        for r in &f.resources {
            if let Some(l) = links::for_resource(r)
                && !seen.contains(&l.url)
            {
                s.push_str(&format!("{}: {}\n", l.label, l.url));
                seen.push(l.url);
            }
        }
    }
    if let Some(region) = v.alarm.region.as_deref() {
        let l = links::for_alarm(&v.alarm.name, region);
        s.push_str(&format!("{}: {}\n", l.label, l.url));
    }
    cap(&s, MAX_BODY)
}

/// The Amazon Q Developer in chat applications custom notification (version 1.0).
pub fn chat_notification(v: &Verdict) -> Value {
    let top = v.findings.first();
    let mut description = v.summary.clone();
    if let Some(f) = top {
        for e in f.evidence.iter().take(4) {
            description.push_str(&format!("\n• {e}"));
        }
    }
    if !v.gaps.is_empty() {
        description.push_str("\nCould not read: ");
        description.push_str(
            &v.gaps
                .iter()
                .map(|g| g.source.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        );
    }
    let related: Vec<&String> = top
        .map(|f| f.resources.iter().collect())
        .unwrap_or_default();
    json!({
        "version": "1.0",
        "source": "custom",
        "id": format!("fivexx-{}-{}", v.alarm.name, v.alarm.changed_at.clone().unwrap_or_default()),
        "content": {
            "textType": "client-markdown",
            "title": cap(&format!("{} {}", v.status.as_str().to_uppercase(), v.alarm.name), 250),
            "description": cap(&description, 8000),
            "nextSteps": top.map(|f| f.next_steps.iter().take(5).map(|s| cap(s, 500)).collect::<Vec<_>>()).unwrap_or_default(),
            "keywords": [v.status.as_str(), top.map(|f| f.rule.as_str()).unwrap_or("none")],
        },
        "metadata": {
            "threadId": v.alarm.arn.clone().unwrap_or_else(|| v.alarm.name.clone()),
            "summary": cap(&v.summary, 500),
            "eventType": "fivexx-verdict",
            "relatedResources": related,
            "additionalContext": {
                "confidence": top.map(|f| format!("{:.2}", f.confidence)).unwrap_or_default(),
                "rule": top.map(|f| f.rule.clone()).unwrap_or_default(),
            }
        }
    })
}

/// The full `Publish` input. With `chat`, the message is per protocol: the custom
/// notification for chat (HTTPS) subscribers and the text for email.
pub fn publish_input(v: &Verdict, topic_arn: Option<&str>, chat: bool) -> PublishInput {
    let top = v.findings.first();
    let mut attrs = BTreeMap::new();
    attrs.insert(
        "status".to_owned(),
        MessageAttribute {
            data_type: "String".into(),
            string_value: v.status.as_str().into(),
        },
    );
    attrs.insert(
        "rule".to_owned(),
        MessageAttribute {
            data_type: "String".into(),
            string_value: top.map_or_else(|| "none".into(), |f| f.rule.clone()),
        },
    );
    attrs.insert(
        "confidence".to_owned(),
        MessageAttribute {
            data_type: "Number".into(),
            string_value: format!("{:.2}", top.map_or(0.0, |f| f.confidence)),
        },
    );
    let text = body(v);
    let (message, structure) = if chat {
        let chat_json = chat_notification(v).to_string();
        let per_protocol = json!({"default": chat_json, "https": chat_json, "email": text});
        (per_protocol.to_string(), Some("json".to_owned()))
    } else {
        (text, None)
    };
    PublishInput {
        topic_arn: topic_arn.map(str::to_owned),
        subject: subject(v),
        message,
        message_structure: structure,
        message_attributes: attrs,
    }
}
