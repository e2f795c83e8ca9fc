//! `--format text`: the verdict for a terminal: the summary, the top three findings with
//! their evidence and next steps, the most suspected rules that were ruled out, then the gaps.

use std::fmt::Write;

use crate::verdict::Verdict;

/// How many findings a person sees in full.
pub(crate) const TOP_FINDINGS: usize = 3;
/// How many ruled-out rules a terminal shows: the most suspected, enough to answer "did you
/// check X?" for the usual suspects without burying the findings.
pub(crate) const RULED_OUT_SHOWN: usize = 8;

pub fn render(v: &Verdict) -> String {
    let mut out = String::new();
    let a = &v.alarm;
    let _ = writeln!(
        out,
        "{} — {} ({} → {})",
        v.status.as_str().to_uppercase(),
        a.name,
        a.previous_state.as_deref().unwrap_or("?"),
        a.state
    );
    if let (Some(ns), Some(m)) = (&a.namespace, &a.metric) {
        let dims: Vec<String> = a
            .dimensions
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let _ = writeln!(out, "  {ns} {m} [{}]", dims.join(", "));
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "{}", v.summary);
    for (i, f) in v.findings.iter().take(TOP_FINDINGS).enumerate() {
        let _ = writeln!(out);
        let codes: Vec<String> = f.codes.iter().map(u16::to_string).collect();
        let _ = writeln!(
            out,
            "{}. {} [{}] confidence {:.2}{}",
            i + 1,
            f.title,
            f.rule,
            f.confidence,
            if codes.is_empty() {
                String::new()
            } else {
                format!(", explains {}", codes.join("/"))
            }
        );
        if !f.evidence.is_empty() {
            let _ = writeln!(out, "   evidence:");
            for e in &f.evidence {
                let _ = writeln!(out, "     - {e}");
            }
        }
        if !f.next_steps.is_empty() {
            let _ = writeln!(out, "   next steps:");
            for (n, s) in f.next_steps.iter().enumerate() {
                let _ = writeln!(out, "     {}. {s}", n + 1);
            }
        }
    }
    let more = v.findings.len().saturating_sub(TOP_FINDINGS);
    if more > 0 {
        let rest: Vec<&str> = v
            .findings
            .iter()
            .skip(TOP_FINDINGS)
            .map(|f| f.rule.as_str())
            .collect();
        let _ = writeln!(out, "\n(+{more} more: {})", rest.join(", "));
    }
    if !v.ruled_out.is_empty() {
        let _ = writeln!(out, "\nruled out:");
        for r in v.ruled_out.iter().take(RULED_OUT_SHOWN) {
            let _ = writeln!(out, "  - {}: {}", r.rule, r.reason);
        }
        let more = v.ruled_out.len().saturating_sub(RULED_OUT_SHOWN);
        if more > 0 {
            let _ = writeln!(out, "  (+{more} more in --format json)");
        }
    }
    if !v.gaps.is_empty() {
        let _ = writeln!(out, "\ncould not read:");
        for g in &v.gaps {
            match &g.resource {
                Some(r) => {
                    let _ = writeln!(out, "  - {} ({r}): {}", g.source, g.reason);
                }
                None => {
                    let _ = writeln!(out, "  - {}: {}", g.source, g.reason);
                }
            }
        }
    }
    let _ = writeln!(
        out,
        "\n{} AWS calls in {} round trip{}, {} ms",
        v.stats.api_calls,
        v.stats.round_trips,
        if v.stats.round_trips == 1 { "" } else { "s" },
        v.stats.elapsed_ms
    );
    if let Some(shared) = &v.shared_evidence {
        let _ = writeln!(out, "evidence shared: {}", shared.line());
    }
    if let Some(i) = &v.incident {
        let _ = writeln!(out, "incident {i}");
    }
    for note in &v.delivery_notes {
        let _ = writeln!(out, "{note}");
    }
    out
}
