//! What the rule tests assert: a rule is the answer, fires, stays silent; drafts before ranking.

use super::*;

// ---------------------------------------------------------------- assertions

/// Every finding the rules draft before ranking (the ranking drops findings below the
/// reporting bar, so a rule that fires at 0.3 is only visible here).
pub(crate) fn drafts(s: &Scenario) -> Vec<Draft> {
    let e = s.evidence();
    catalog::detect(&Ctx::new(&s.alarm, &e))
}

pub(crate) fn drafted(s: &Scenario, rule: &str) -> Option<Draft> {
    drafts(s).into_iter().find(|d| d.rule == rule)
}

/// The outcome in one line per finding, for failure messages.
pub(crate) fn show(o: &Outcome) -> String {
    let mut s = format!("status {:?}: {}\n", o.status, o.summary);
    for f in &o.findings {
        s.push_str(&format!("  {} {:.2}\n", f.rule, f.confidence));
        for e in &f.evidence {
            s.push_str(&format!("      - {e}\n"));
        }
    }
    s
}

pub(crate) fn position(o: &Outcome, rule: &str) -> Option<usize> {
    o.findings.iter().position(|f| f.rule == rule)
}

#[track_caller]
pub(crate) fn finding<'a>(o: &'a Outcome, rule: &str) -> &'a Finding {
    match o.findings.iter().find(|f| f.rule == rule) {
        Some(f) => f,
        None => panic!("{rule} should fire; got\n{}", show(o)),
    }
}

/// `rule` is the answer: findings[0], status diagnosed.
#[track_caller]
pub(crate) fn assert_answer(o: &Outcome, rule: &str) {
    assert_eq!(
        o.findings.first().map(|f| f.rule.as_str()),
        Some(rule),
        "{rule} should be findings[0]; got\n{}",
        show(o)
    );
    assert_eq!(o.status, Status::Diagnosed, "{}", show(o));
    assert!(o.findings[0].confidence >= 0.4, "{}", show(o));
}

#[track_caller]
pub(crate) fn assert_fires(o: &Outcome, rule: &str) {
    let _ = finding(o, rule);
}

#[track_caller]
pub(crate) fn assert_silent(o: &Outcome, rule: &str) {
    assert!(
        position(o, rule).is_none(),
        "{rule} should stay silent; got\n{}",
        show(o)
    );
}

#[track_caller]
pub(crate) fn assert_not_answer(o: &Outcome, rule: &str) {
    assert_ne!(
        o.findings.first().map(|f| f.rule.as_str()),
        Some(rule),
        "{rule} must not be findings[0]; got\n{}",
        show(o)
    );
}

/// Both fire and `upper` ranks above `lower`.
#[track_caller]
pub(crate) fn assert_above(o: &Outcome, upper: &str, lower: &str) {
    let (Some(u), Some(l)) = (position(o, upper), position(o, lower)) else {
        panic!("{upper} and {lower} should both fire; got\n{}", show(o));
    };
    assert!(u < l, "{upper} should rank above {lower}; got\n{}", show(o));
    assert!(
        o.findings[u].confidence >= o.findings[l].confidence,
        "{}",
        show(o)
    );
}

/// `rule` ranks above `other` when both fire; `other` may be silent or below the bar.
#[track_caller]
pub(crate) fn assert_outranks_if_present(o: &Outcome, rule: &str, other: &str) {
    let r = position(o, rule).unwrap_or_else(|| panic!("{rule} should fire; got\n{}", show(o)));
    if let Some(x) = position(o, other) {
        assert!(r < x, "{rule} should rank above {other}; got\n{}", show(o));
    }
}

#[track_caller]
pub(crate) fn assert_evidence(f: &Finding, needle: &str) {
    assert!(
        f.evidence.iter().any(|e| e.contains(needle)),
        "{}: no evidence line contains `{needle}`: {:#?}",
        f.rule,
        f.evidence
    );
}

/// The finding's next steps carry `Fix: `command`` and, right after it,
/// `Rollback: `rollback``.
#[track_caller]
pub(crate) fn assert_fix(f: &Finding, command: &str, rollback: &str) {
    let fix = format!("Fix: `{command}`");
    let Some(at) = f.next_steps.iter().position(|s| s.starts_with(&fix)) else {
        panic!("{}: no step starts with {fix}: {:#?}", f.rule, f.next_steps);
    };
    assert_eq!(
        f.next_steps.get(at + 1).map(String::as_str),
        Some(format!("Rollback: `{rollback}`").as_str()),
        "{}: {:#?}",
        f.rule,
        f.next_steps
    );
}

/// The finding has no command, and says why (`Fix: no command: ...why...`).
#[track_caller]
pub(crate) fn assert_no_fix(f: &Finding, why: &str) {
    assert!(
        f.next_steps
            .iter()
            .any(|s| s.starts_with("Fix: no command: ") && s.contains(why)),
        "{}: no `Fix: no command` step naming `{why}`: {:#?}",
        f.rule,
        f.next_steps
    );
    assert!(
        !f.next_steps.iter().any(|s| s.starts_with("Rollback:")),
        "{}: a rollback without a fix: {:#?}",
        f.rule,
        f.next_steps
    );
}

/// The step that starts with `prefix`.
#[track_caller]
pub(crate) fn step_starting<'a>(f: &'a Finding, prefix: &str) -> &'a str {
    match f.next_steps.iter().find(|s| s.starts_with(prefix)) {
        Some(s) => s,
        None => panic!(
            "{}: no step starts with {prefix}: {:#?}",
            f.rule, f.next_steps
        ),
    }
}
