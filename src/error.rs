//! Errors that stop a triage before it starts: unreadable input files or events.
//!
//! AWS failures are not errors here: they become `gaps` in the verdict.

use thiserror::Error;

/// The event or world cannot be used: the CLI exits 2 with this one line.
#[derive(Debug, Error)]
pub enum InputError {
    #[error("cannot read {what} file `{path}`: {reason}")]
    Read {
        what: &'static str,
        path: String,
        reason: String,
    },
    #[error("{what} file `{path}` is not usable: {reason}")]
    Invalid {
        what: &'static str,
        path: String,
        reason: String,
    },
}

/// Why an event payload is not an alarm fivexx can read.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum EventError {
    #[error("not JSON: {0}")]
    NotJson(String),
    #[error("unknown envelope: {0}")]
    UnknownEnvelope(String),
    #[error("malformed {envelope} event: {reason}")]
    Malformed {
        envelope: &'static str,
        reason: String,
    },
}

/// Caps untrusted text quoted in an error or a verdict: at most 200 characters, one line.
pub(crate) fn short(text: &str) -> String {
    const MAX: usize = 200;
    let one_line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if one_line.chars().count() > MAX {
        let cut: String = one_line.chars().take(MAX).collect();
        format!("{cut}…")
    } else {
        one_line
    }
}
