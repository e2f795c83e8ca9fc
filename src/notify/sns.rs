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
pub(crate) const MAX_SUBJECT: usize = 99;
/// SNS takes at most 256 KiB per `Publish`: message, subject and message attributes, in bytes.
pub const MAX_PUBLISH_BYTES: usize = 262_144;
/// The email body's first cap, in bytes: room under [`MAX_PUBLISH_BYTES`] for the subject, the
/// attributes and, in chat mode, the chat JSON beside it (the message is then cut further
/// until the whole input fits).
pub const MAX_BODY: usize = 200_000;
/// The chat notification's `id` and `threadId`: keys, not text; built from the alarm name and
/// ARN, which a hostile payload can make any length.
pub const MAX_CHAT_ID: usize = 256;

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

/// The email body: the terminal rendering plus console links, at most `max_bytes` bytes.
pub fn body(v: &Verdict, max_bytes: usize) -> String {
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
    if let Some(l) = v
        .alarm
        .region
        .as_deref()
        .and_then(|region| links::for_alarm(&v.alarm.name, region))
    {
        s.push_str(&format!("{}: {}\n", l.label, l.url));
    }
    cap_bytes(&s, max_bytes)
}

/// Cuts `text` to at most `max` bytes at a character boundary, ending with `…` when cut.
pub(crate) fn cap_bytes(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let ellipsis = '…'.len_utf8();
    let mut end = max.saturating_sub(ellipsis);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let mut out = text[..end].to_owned();
    if max >= ellipsis {
        out.push('…');
    }
    out
}

/// The Amazon Q Developer in chat applications custom notification (version 1.0).
pub(crate) fn chat_notification(v: &Verdict) -> Value {
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
    // Bounded so that two copies of this JSON, escaped into the per-protocol message, always
    // fit in SNS's 256 KiB whatever the verdict quotes.
    let related: Vec<String> = top
        .map(|f| f.resources.iter().take(10).map(|r| cap(r, 1024)).collect())
        .unwrap_or_default();
    json!({
        "version": "1.0",
        "source": "custom",
        "id": cap(&format!("fivexx-{}-{}", v.alarm.name, v.alarm.changed_at.clone().unwrap_or_default()), MAX_CHAT_ID),
        "content": {
            "textType": "client-markdown",
            "title": cap(&format!("{} {}", v.status.as_str().to_uppercase(), v.alarm.name), 250),
            "description": cap(&description, 4000),
            "nextSteps": top.map(|f| f.next_steps.iter().take(5).map(|s| cap(s, 500)).collect::<Vec<_>>()).unwrap_or_default(),
            "keywords": [v.status.as_str(), top.map(|f| f.rule.as_str()).unwrap_or("none")],
        },
        "metadata": {
            // One thread per incident when the store names it, else one per alarm.
            "threadId": cap(v.incident.as_deref().or(v.alarm.arn.as_deref()).unwrap_or(&v.alarm.name), MAX_CHAT_ID),
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
    if let Some(incident) = &v.incident {
        attrs.insert(
            "incident".to_owned(),
            MessageAttribute {
                data_type: "String".into(),
                string_value: cap(incident, 256),
            },
        );
    }
    let subject = subject(v);
    let fixed = subject.len()
        + attrs
            .iter()
            .map(|(k, a)| k.len() + a.data_type.len() + a.string_value.len())
            .sum::<usize>();
    let budget = MAX_PUBLISH_BYTES.saturating_sub(fixed);
    let chat_json = chat.then(|| chat_notification(v).to_string());
    // The body is cut until the whole message fits: in chat mode the email text is one JSON
    // string beside two copies of the chat JSON, and JSON escaping can grow it.
    let mut max_body = MAX_BODY.min(budget);
    let (message, structure) = loop {
        let text = body(v, max_body);
        let (message, structure) = match &chat_json {
            Some(chat_json) => (
                json!({"default": chat_json, "https": chat_json, "email": text}).to_string(),
                Some("json".to_owned()),
            ),
            None => (text, None),
        };
        if message.len() <= budget || max_body == 0 {
            break (message, structure);
        }
        max_body = max_body.saturating_sub((message.len() - budget).max(max_body / 4));
    };
    PublishInput {
        topic_arn: topic_arn.map(str::to_owned),
        subject,
        message,
        message_structure: structure,
        message_attributes: attrs,
    }
}
