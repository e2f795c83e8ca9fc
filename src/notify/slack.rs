//! The Slack message: Block Kit, within Slack's limits, with every untrusted string escaped.
//!
//! Limits (Slack API): at most 50 blocks, 3,000 characters per section text, 150 per header,
//! and about 13,000 characters in all. When a message would be larger it is rebuilt with less
//! detail (fewer evidence lines, fewer findings), never cut into invalid JSON or mid-entity.

use serde_json::{Value, json};

use super::links::{self, Link};
use super::{cap, sparkline};
use crate::verdict::{Status, Verdict};

pub(crate) const MAX_BLOCKS: usize = 50;
pub(crate) const MAX_SECTION: usize = 3000;
pub(crate) const MAX_HEADER: usize = 150;
/// Kept below Slack's ~13k total so escaping and JSON never push it over.
pub(crate) const MAX_TOTAL: usize = 12_000;

/// Escapes the three characters Slack treats as markup (so no `<!channel>`, user mention or
/// spoofed `<url|label>` link can come from alarm text), then caps, never cutting an entity
/// in half.
fn text(s: &str, max: usize) -> String {
    let mut out = String::new();
    let mut n = 0;
    for c in s.chars() {
        let piece = match c {
            '&' => "&amp;".to_owned(),
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            c => c.to_string(),
        };
        if n + piece.chars().count() > max.saturating_sub(1) {
            out.push('…');
            return out;
        }
        n += piece.chars().count();
        out.push_str(&piece);
    }
    out
}

fn emoji(status: Status) -> &'static str {
    match status {
        Status::Diagnosed => "🔴",
        Status::Inconclusive => "🟠",
        Status::Resolved => "✅",
        Status::Ignored => "⚪",
    }
}

fn status_word(status: Status) -> &'static str {
    match status {
        Status::Diagnosed => "Diagnosed",
        Status::Inconclusive => "Inconclusive",
        Status::Resolved => "Resolved",
        Status::Ignored => "Ignored",
    }
}

fn header(v: &Verdict) -> Value {
    let title = format!(
        "{} {}: {}",
        emoji(v.status),
        status_word(v.status),
        v.alarm.name
    );
    json!({"type": "header", "text": {"type": "plain_text", "text": text(&title, MAX_HEADER), "emoji": true}})
}

fn section(markdown: &str) -> Value {
    json!({"type": "section", "text": {"type": "mrkdwn", "text": markdown}})
}

fn context(markdown: &str) -> Value {
    json!({"type": "context", "elements": [{"type": "mrkdwn", "text": markdown}]})
}

/// A link built by fivexx: the URL is percent-encoded, the label escaped.
fn link(l: &Link) -> String {
    format!("<{}|{}>", l.url, text(&l.label, 80))
}

fn links_of(v: &Verdict) -> Vec<Link> {
    let mut out: Vec<Link> = Vec::new();
    let mut resources: Vec<&str> = Vec::new();
    for f in v.findings.iter().take(3) {
        for r in &f.resources {
            if !resources.contains(&r.as_str()) {
                resources.push(r);
            }
        }
    }
    for r in resources {
        if let Some(l) = links::for_resource(r)
            && !out.contains(&l)
        {
            out.push(l);
        }
    }
    if let Some(l) = v
        .alarm
        .region
        .as_deref()
        .and_then(|region| links::for_alarm(&v.alarm.name, region))
    {
        out.push(l);
    }
    out.truncate(8);
    out
}

/// Links joined into one context element, as many as fit in it whole.
fn link_line(links: &[Link]) -> String {
    let mut out = String::new();
    for l in links {
        let piece = link(l);
        let sep = if out.is_empty() { "" } else { " · " };
        if out.chars().count() + sep.chars().count() + piece.chars().count() > MAX_SECTION {
            break;
        }
        out.push_str(sep);
        out.push_str(&piece);
    }
    out
}

/// Caps text that is already escaped: like [`cap`], but never ends inside an entity (`&amp;`
/// cut to `&am…` would be a raw `&`).
fn cap_escaped(s: &str, max: usize) -> String {
    let mut out = cap(s, max);
    if out.ends_with('…')
        && let Some(amp) = out.rfind('&')
        && !out[amp..].contains(';')
    {
        out.truncate(amp);
        out.push('…');
    }
    out
}

/// How much detail a message carries.
#[derive(Debug, Clone, Copy)]
struct Detail {
    findings: usize,
    evidence: usize,
    steps: usize,
    gaps: usize,
    /// Ruled-out rules, compact, after the findings.
    ruled_out: usize,
}

const LEVELS: [Detail; 4] = [
    Detail {
        findings: 3,
        evidence: 12,
        steps: 6,
        gaps: 10,
        ruled_out: 5,
    },
    Detail {
        findings: 3,
        evidence: 4,
        steps: 3,
        gaps: 5,
        ruled_out: 3,
    },
    Detail {
        findings: 2,
        evidence: 2,
        steps: 2,
        gaps: 3,
        ruled_out: 2,
    },
    Detail {
        findings: 1,
        evidence: 1,
        steps: 1,
        gaps: 1,
        ruled_out: 0,
    },
];

fn blocks(v: &Verdict, d: Detail) -> Vec<Value> {
    let mut b = vec![header(v), section(&text(&v.summary, MAX_SECTION))];
    let mut facts: Vec<String> = Vec::new();
    if let (Some(metric), Some(ns)) = (&v.alarm.metric, &v.alarm.namespace) {
        let mut s = format!("`{}` {}", text(metric, 100), text(ns, 40));
        if let Some(t) = &v.trace {
            let line = sparkline(&t.values);
            if !line.trim().is_empty() {
                s.push_str(&format!(" · last hour ({}) `{line}`", text(&t.stat, 20)));
            }
        }
        facts.push(s);
    }
    if let Some(desc) = &v.alarm.description {
        facts.push(format!("_{}_", text(desc, 300)));
    }
    if !facts.is_empty() {
        b.push(context(&facts.join("\n")));
    }
    for (i, f) in v.findings.iter().take(d.findings).enumerate() {
        b.push(json!({"type": "divider"}));
        let mut s = format!(
            "*{}. {}*\n`{}` · confidence *{:.2}*",
            i + 1,
            text(&f.title, 300),
            text(&f.rule, 60),
            f.confidence
        );
        for e in f.evidence.iter().take(d.evidence) {
            s.push_str(&format!("\n• {}", text(e, 400)));
        }
        if f.evidence.len() > d.evidence {
            s.push_str(&format!("\n• … {} more", f.evidence.len() - d.evidence));
        }
        b.push(section(&cap_escaped(&s, MAX_SECTION)));
        if !f.next_steps.is_empty() {
            let mut s = String::from("*Next steps*");
            for (n, step) in f.next_steps.iter().take(d.steps).enumerate() {
                s.push_str(&format!("\n{}. {}", n + 1, text(step, 500)));
            }
            b.push(section(&cap_escaped(&s, MAX_SECTION)));
        }
    }
    if v.findings.len() > d.findings {
        let rest: Vec<String> = v
            .findings
            .iter()
            .skip(d.findings)
            .map(|f| format!("`{}` {:.2}", text(&f.rule, 60), f.confidence))
            .collect();
        b.push(context(&cap_escaped(
            &format!("Also: {}", rest.join(", ")),
            MAX_SECTION,
        )));
    }
    if !v.ruled_out.is_empty() && d.ruled_out > 0 {
        let items: Vec<String> = v
            .ruled_out
            .iter()
            .take(d.ruled_out)
            .map(|r| format!("`{}` {}", text(&r.rule, 60), text(&r.reason, 160)))
            .collect();
        let more = v.ruled_out.len().saturating_sub(d.ruled_out);
        let mut s = format!("*Ruled out:* {}", items.join(" · "));
        if more > 0 {
            s.push_str(&format!(" · +{more} more"));
        }
        b.push(context(&cap_escaped(&s, MAX_SECTION)));
    }
    if !v.gaps.is_empty() {
        let mut s = String::from("*Could not read*");
        for g in v.gaps.iter().take(d.gaps) {
            s.push_str(&format!(
                "\n• `{}`{}: {}",
                text(&g.source, 80),
                g.resource
                    .as_deref()
                    .map(|r| format!(" ({})", text(r, 200)))
                    .unwrap_or_default(),
                text(&g.reason, 300)
            ));
        }
        if v.gaps.len() > d.gaps {
            s.push_str(&format!("\n• … {} more", v.gaps.len() - d.gaps));
        }
        b.push(section(&cap_escaped(&s, MAX_SECTION)));
    }
    let links = link_line(&links_of(v));
    if !links.is_empty() {
        b.push(context(&links));
    }
    let mut footer = format!(
        "fivexx · {} AWS calls in {} round trip{} · {} ms",
        v.stats.api_calls,
        v.stats.round_trips,
        if v.stats.round_trips == 1 { "" } else { "s" },
        v.stats.elapsed_ms
    );
    if let Some(shared) = &v.shared_evidence {
        footer.push_str(&format!(" · {}", text(&shared.line(), 200)));
    }
    for note in &v.delivery_notes {
        footer.push_str(&format!(" · {}", text(note, 200)));
    }
    b.push(context(&footer));
    b.truncate(MAX_BLOCKS);
    b
}

fn fallback(v: &Verdict) -> String {
    text(
        &format!(
            "{} {}: {} — {}",
            emoji(v.status),
            status_word(v.status),
            v.alarm.name,
            v.summary
        ),
        MAX_SECTION,
    )
}

/// Minutes between the alarm entering ALARM and leaving it, when the payload says.
pub(crate) fn resolved_after_minutes(v: &Verdict) -> Option<i64> {
    let end = chrono::DateTime::parse_from_rfc3339(v.alarm.changed_at.as_deref()?).ok()?;
    let start =
        chrono::DateTime::parse_from_rfc3339(v.alarm.previous_changed_at.as_deref()?).ok()?;
    let m = (end - start).num_minutes();
    (m >= 0).then_some(m)
}

fn resolved(v: &Verdict) -> Value {
    let after = resolved_after_minutes(v)
        .map(|m| format!(" after {m} min"))
        .unwrap_or_default();
    let mut line = format!("`{}` is back to OK{after}.", text(&v.alarm.name, 200));
    if let Some(i) = &v.incident {
        line.push_str(&format!(" Incident `{}` resolved.", text(i, 300)));
    }
    let mut b = vec![header(v), section(&line)];
    if let Some(l) = v
        .alarm
        .region
        .as_deref()
        .and_then(|region| links::for_alarm(&v.alarm.name, region))
    {
        b.push(context(&link_line(&[l])));
    }
    json!({"text": text(&format!("✅ Resolved: {}{after}", v.alarm.name), MAX_SECTION), "blocks": b, "unfurl_links": false})
}

/// An incident's parent message once it is back to OK: resolved, after how long (`minutes`
/// since the incident opened, else what the payload says), and what the opening verdict said
/// (its summary and findings stay on the parent).
pub(crate) fn resolved_parent(
    v: &Verdict,
    minutes: Option<i64>,
    opened_summary: &str,
    rules: &[String],
    reopened: i64,
) -> Value {
    let after = minutes
        .or_else(|| resolved_after_minutes(v))
        .map(|m| format!(" after {m} min"))
        .unwrap_or_default();
    let title = format!("✅ Resolved: {}", v.alarm.name);
    let mut b = vec![
        json!({"type": "header", "text": {"type": "plain_text", "text": text(&title, MAX_HEADER), "emoji": true}}),
        section(&format!(
            "Back to OK{after}. Was: {}",
            text(opened_summary, 2500)
        )),
    ];
    let mut facts = Vec::new();
    if !rules.is_empty() {
        let list: Vec<String> = rules.iter().map(|r| format!("`{}`", text(r, 60))).collect();
        facts.push(format!("findings: {}", list.join(", ")));
    }
    if reopened > 0 {
        facts.push(format!(
            "reopened {reopened} time{}",
            if reopened == 1 { "" } else { "s" }
        ));
    }
    facts.push("the story is in the thread".into());
    b.push(context(&facts.join(" · ")));
    json!({"text": text(&format!("✅ Resolved: {}{after}", v.alarm.name), MAX_SECTION), "blocks": b, "unfurl_links": false})
}

/// The thread reply when an incident is back to OK: how long it lasted and what changed
/// between the evidence at ALARM and at OK (`changes`, one line each).
pub(crate) fn resolution_reply(v: &Verdict, minutes: Option<i64>, changes: &[String]) -> Value {
    let after = minutes
        .or_else(|| resolved_after_minutes(v))
        .map(|m| format!(" after {m} min"))
        .unwrap_or_default();
    let mut s = format!("✅ *Back to OK{after}.*");
    if changes.is_empty() {
        s.push_str(" Nothing the triage reads changed.");
    } else {
        s.push_str(" What changed since the alarm:");
        for c in changes.iter().take(8) {
            s.push_str(&format!("\n• {}", text(c, 400)));
        }
    }
    json!({"text": text(&format!("✅ Back to OK: {}{after}", v.alarm.name), MAX_SECTION), "blocks": [section(&cap_escaped(&s, MAX_SECTION))], "unfurl_links": false})
}

/// An incident's parent message when it is reopened within the flap window: the new verdict,
/// headed as reopened with its count.
pub(crate) fn reopened_parent(v: &Verdict, reopened: i64) -> Value {
    let mut m = message(v);
    let title = format!("🔁 Reopened ({reopened}×): {}", v.alarm.name);
    if let Some(h) = m
        .get_mut("blocks")
        .and_then(Value::as_array_mut)
        .and_then(|b| b.first_mut())
    {
        *h = json!({"type": "header", "text": {"type": "plain_text", "text": text(&title, MAX_HEADER), "emoji": true}});
    }
    m
}

/// A storm's leading message with the alarms that joined its thread listed at its foot.
pub(crate) fn with_grouped(mut parent: Value, members: &[String]) -> Value {
    if members.is_empty() {
        return parent;
    }
    let list: Vec<String> = members
        .iter()
        .take(20)
        .map(|m| format!("`{}`", text(m, 100)))
        .collect();
    let more = members.len().saturating_sub(20);
    let mut line = format!("🌩 Grouped in this thread: {}", list.join(", "));
    if more > 0 {
        line.push_str(&format!(" and {more} more"));
    }
    if let Some(blocks) = parent.get_mut("blocks").and_then(Value::as_array_mut) {
        blocks.truncate(MAX_BLOCKS.saturating_sub(1));
        blocks.push(context(&cap_escaped(&line, MAX_SECTION)));
    }
    parent
}

/// The Slack message for a verdict: the full triage, or the short "resolved" follow-up.
pub fn message(v: &Verdict) -> Value {
    if v.status == Status::Resolved {
        return resolved(v);
    }
    let mut last = Value::Null;
    for d in LEVELS {
        let m = json!({"text": fallback(v), "blocks": blocks(v, d), "unfurl_links": false});
        let size = serde_json::to_string(&m).map_or(usize::MAX, |s| s.chars().count());
        if size <= MAX_TOTAL {
            return m;
        }
        last = m;
    }
    // Even the least detail is too large (absurdly long summary): keep header and summary.
    if let Some(blocks) = last.get_mut("blocks").and_then(Value::as_array_mut) {
        blocks.truncate(2);
        if let Some(s) = blocks.get_mut(1) {
            *s = section(&text(&v.summary, 3000));
        }
    }
    last
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_defuses_mentions_and_links() {
        assert_eq!(
            text("<!channel> <https://evil|click> & co", 1000),
            "&lt;!channel&gt; &lt;https://evil|click&gt; &amp; co"
        );
        let t = text("<<<<", 6);
        assert!(!t.contains('<'));
        assert!(t.ends_with('…'));
        assert!(!t.contains("&l…"), "no entity cut in half: {t}");
    }
}
