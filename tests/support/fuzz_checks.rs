//! The properties `tests/fuzz.rs` checks on every case: one event/world pair triaged
//! in-process once (`fivexx::cli::replay_verdict`) and rendered in each output format
//! (`fivexx::cli::render`, what `triage --format` prints), each step under `catch_unwind`.

use std::cell::{Cell, RefCell};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Once;
use std::time::{Duration, Instant};

use fivexx::cli::{CliError, Format, render, replay_verdict};
use fivexx::verdict::Verdict;
use serde_json::Value;

/// The gathering deadline every case gets.
pub const DEADLINE_SECONDS: f64 = 2.0;
/// Wall time one replay call may take (debug build, world in memory).
pub const MAX_CALL: Duration = Duration::from_secs(6);
/// The CLI prints an error as one line of at most this many characters.
pub const MAX_ERROR_CHARS: usize = 600;

const FORMATS: [Format; 4] = [Format::Json, Format::Text, Format::Slack, Format::Sns];

/// A property a case broke.
#[derive(Debug, Clone)]
pub struct Failure {
    pub property: &'static str,
    /// What went wrong without the case's data: shrinking keeps to the same kind of failure.
    pub kind: String,
    pub detail: String,
}

impl Failure {
    fn new(property: &'static str, kind: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            property,
            kind: kind.into(),
            detail: detail.into(),
        }
    }

    pub fn class(&self) -> String {
        format!("{}: {}", self.property, self.kind)
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {} ({})", self.property, self.kind, self.detail)
    }
}

thread_local! {
    /// Set while a case runs: its panics are recorded, not printed.
    static QUIET: Cell<bool> = const { Cell::new(false) };
    /// (where, message) of the last quiet panic.
    static LAST_PANIC: RefCell<Option<(String, String)>> = const { RefCell::new(None) };
}

/// Installs (once per process) a panic hook that keeps a case's panic for the report instead
/// of printing it: shrinking may panic hundreds of times. Other threads print as usual.
fn install_hook() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !QUIET.with(Cell::get) {
                previous(info);
                return;
            }
            let payload = info
                .payload()
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| info.payload().downcast_ref::<String>().cloned())
                .unwrap_or_default();
            let at = info
                .location()
                .map(|l| format!("{}:{}", l.file(), l.line()))
                .unwrap_or_default();
            // The innermost fivexx frame says whose defect it is when the panic is in a
            // dependency (chrono's arithmetic, slicing in core).
            let trace = std::backtrace::Backtrace::force_capture().to_string();
            let place = match fivexx_frame(&trace) {
                Some(f) if !at.starts_with("src/") => format!("{at} (from {f})"),
                _ => at,
            };
            LAST_PANIC.with(|p| *p.borrow_mut() = Some((place, payload.replace('\n', " "))));
        }));
    });
}

/// The first frame of a backtrace in fivexx's own code: `file:line` with line tables, else
/// the function's name.
fn fivexx_frame(trace: &str) -> Option<String> {
    let lines: Vec<&str> = trace.lines().map(str::trim).collect();
    for (i, line) in lines.iter().enumerate() {
        let Some((_, name)) = line.split_once(": ") else {
            continue;
        };
        if !name.contains("fivexx::") {
            continue;
        }
        if let Some(at) = lines.get(i + 1).and_then(|l| l.strip_prefix("at "))
            && at.contains("src/")
        {
            let short = at.rsplit_once("/src/").map_or(at, |(_, f)| f);
            return Some(format!(
                "src/{}",
                short.rsplit_once(':').map_or(short, |(f, _)| f)
            ));
        }
        // Without line tables (the fuzz profile): the function, without its hash.
        return Some(name.rsplit_once("::h").map_or(name, |(n, _)| n).to_owned());
    }
    None
}

/// Runs cases: a current-thread runtime per thread, rebuilt after a panic.
pub struct Checker {
    runtime: Option<tokio::runtime::Runtime>,
    /// The slowest replay call so far.
    pub slowest: Duration,
}

impl Default for Checker {
    fn default() -> Self {
        Self::new()
    }
}

impl Checker {
    pub fn new() -> Self {
        install_hook();
        Self {
            runtime: None,
            slowest: Duration::ZERO,
        }
    }

    /// Triages the pair once (timed, under `catch_unwind`).
    fn verdict(&mut self, event: &str, world: &str) -> Result<Result<Verdict, CliError>, Failure> {
        let rt = self.runtime.get_or_insert_with(|| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a tokio runtime")
        });
        QUIET.with(|q| q.set(true));
        let started = Instant::now();
        let out = catch_unwind(AssertUnwindSafe(|| {
            rt.block_on(replay_verdict(
                ("event.json", event),
                ("world.json", world),
                None,
                DEADLINE_SECONDS,
            ))
        }));
        let took = started.elapsed();
        QUIET.with(|q| q.set(false));
        self.slowest = self.slowest.max(took);
        match out {
            Ok(result) if took <= MAX_CALL => Ok(result),
            Ok(_) => Err(Failure::new(
                "bounded-work",
                "replay took too long",
                format!(
                    "the triage took {:.1} s (at most {} s)",
                    took.as_secs_f64(),
                    MAX_CALL.as_secs()
                ),
            )),
            Err(_) => {
                // The runtime may be left mid-task: a new one for the next case.
                self.runtime = None;
                Err(panic_failure("triage"))
            }
        }
    }

    /// Replays the pair once and checks every property on its rendering in every format
    /// (what `triage --format F` prints, one verdict rendered four ways).
    pub fn check(&mut self, event: &str, world: &str, free_text: &[String]) -> Result<(), Failure> {
        let verdict = match self.verdict(event, world)? {
            Ok(v) => v,
            Err(e) => return check_error(&e),
        };
        for format in FORMATS {
            QUIET.with(|q| q.set(true));
            let out = catch_unwind(AssertUnwindSafe(|| render(format, &verdict)));
            QUIET.with(|q| q.set(false));
            let out = out.map_err(|_| panic_failure(&format!("{format:?}")))?;
            match format {
                Format::Json => check_json(&out)?,
                Format::Text => {
                    check_text(&out)?;
                    check_number_words(&out, free_text)?;
                }
                Format::Slack => check_slack(&out)?,
                Format::Sns => check_sns(&out)?,
            }
        }
        Ok(())
    }
}

/// The panic just caught, as a failure.
fn panic_failure(during: &str) -> Failure {
    let (at, message) = LAST_PANIC
        .with(|p| p.borrow_mut().take())
        .unwrap_or_default();
    Failure::new(
        "no-panic",
        format!("panic at {at}"),
        format!("{during}: {message}"),
    )
}

fn excerpt(s: &str, at: usize) -> String {
    let start = s.floor_char_boundary(at.saturating_sub(60));
    let end = s.ceil_char_boundary((at + 60).min(s.len()));
    format!("{:?}", &s[start..end])
}

fn check_error(e: &CliError) -> Result<(), Failure> {
    let message = e.to_string();
    if e.exit_code() != 2 {
        return Err(Failure::new(
            "exit-contract",
            "error without exit status 2",
            format!("exit {}: {}", e.exit_code(), excerpt(&message, 0)),
        ));
    }
    if let Some(i) = message.find('\n') {
        return Err(Failure::new(
            "exit-contract",
            "error message of more than one line",
            excerpt(&message, i),
        ));
    }
    let n = message.chars().count();
    if n > MAX_ERROR_CHARS {
        return Err(Failure::new(
            "exit-contract",
            "error message too long",
            format!("{n} characters: {}", excerpt(&message, 0)),
        ));
    }
    Ok(())
}

fn parse(out: &str, property: &'static str) -> Result<Value, Failure> {
    serde_json::from_str(out).map_err(|e| {
        Failure::new(
            property,
            "output is not JSON",
            format!("{e}: {}", excerpt(out, 0)),
        )
    })
}

/// Every string of a JSON value, object keys included, with its path.
fn strings<'a>(v: &'a Value, path: &str, out: &mut Vec<(String, &'a str)>) {
    match v {
        Value::String(s) => out.push((path.to_owned(), s)),
        Value::Array(a) => {
            for (i, c) in a.iter().enumerate() {
                strings(c, &format!("{path}[{i}]"), out);
            }
        }
        Value::Object(m) => {
            for (k, c) in m {
                let p = format!("{path}.{k}");
                out.push((format!("{p} (key)"), k));
                strings(c, &p, out);
            }
        }
        _ => {}
    }
}

fn check_json(out: &str) -> Result<(), Failure> {
    const P: &str = "json-verdict";
    let v = parse(out, P)?;
    if v["format"] != "fivexx-verdict/1" {
        return Err(Failure::new(
            P,
            "format is not fivexx-verdict/1",
            v["format"].to_string(),
        ));
    }
    let status = v["status"].as_str().unwrap_or_default();
    if !["diagnosed", "inconclusive", "resolved", "ignored"].contains(&status) {
        return Err(Failure::new(P, "unknown status", v["status"].to_string()));
    }
    let Some(findings) = v["findings"].as_array() else {
        return Err(Failure::new(
            P,
            "findings is not an array",
            v["findings"].to_string(),
        ));
    };
    let mut previous = f64::INFINITY;
    for (i, f) in findings.iter().enumerate() {
        let c = f["confidence"].as_f64();
        let Some(c) = c.filter(|c| (0.0..=1.0).contains(c)) else {
            return Err(Failure::new(
                P,
                "confidence not a number in [0, 1]",
                format!("findings[{i}] {}: {}", f["rule"], f["confidence"]),
            ));
        };
        if c > previous {
            return Err(Failure::new(
                P,
                "findings not sorted by confidence",
                format!("findings[{i}] {} has {c} after {previous}", f["rule"]),
            ));
        }
        previous = c;
    }
    let mut all = Vec::new();
    strings(&v, "", &mut all);
    for (path, s) in all {
        if let Some(i) = s.find(char::is_control) {
            return Err(Failure::new(
                P,
                "control character in a verdict string",
                format!("{path}: {}", excerpt(s, i)),
            ));
        }
    }
    Ok(())
}

fn check_text(out: &str) -> Result<(), Failure> {
    if let Some(i) = out.find(|c: char| c.is_control() && c != '\n') {
        return Err(Failure::new(
            "text",
            "control character in the text rendering",
            excerpt(out, i),
        ));
    }
    Ok(())
}

/// Number words a rendering must not show: non-finite floats and saturated integers.
pub const NUMBER_WORDS: [&str; 9] = [
    "NaN",
    "inf",
    "-inf",
    "Infinity",
    "9,223,372,036,854,775,807",
    "-9,223,372,036,854,775,808",
    "18,446,744,073,709,551,615",
    "9223372036854775807",
    "18446744073709551615",
];

/// Where `word` occurs in `s` as a whole word.
fn find_word(s: &str, word: &str) -> Option<usize> {
    let wordy = |c: char| c.is_alphanumeric() || c == '_';
    let digits = word.starts_with(|c: char| c.is_ascii_digit() || c == '-');
    s.match_indices(word).map(|(i, _)| i).find(|&i| {
        let before = s[..i].chars().next_back();
        let after = s[i + word.len()..].chars().next();
        let inside = |c: Option<char>| {
            c.is_some_and(|c| {
                if digits {
                    c.is_ascii_digit() || c == ','
                } else {
                    wordy(c)
                }
            })
        };
        !inside(before) && !inside(after)
    })
}

fn check_number_words(out: &str, free_text: &[String]) -> Result<(), Failure> {
    for word in NUMBER_WORDS {
        if free_text.iter().any(|t| t.contains(word)) {
            continue;
        }
        if let Some(i) = find_word(out, word) {
            return Err(Failure::new(
                "numbers-in-words",
                format!("`{word}` in the text rendering"),
                excerpt(out, i),
            ));
        }
    }
    Ok(())
}

/// Slack mrkdwn that can only show text: every `<` opens a `<https://URL|label>` link, no
/// other `<` or `>`, and every `&` an entity Slack decodes.
fn mrkdwn_problem(s: &str) -> Option<(usize, &'static str)> {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'<' => {
                let rest = &s[i..];
                if !rest.starts_with("<https://") {
                    return Some((i, "`<` that does not open an https link"));
                }
                let Some(end) = rest.find('>') else {
                    return Some((i, "link without `>`"));
                };
                let inner = &rest[1..end];
                if inner.contains('<') {
                    return Some((i, "`<` inside a link (markup in its URL or label)"));
                }
                let Some((url, label)) = inner.split_once('|') else {
                    return Some((i, "link without a label"));
                };
                if url.is_empty() || label.is_empty() || url.contains(char::is_whitespace) {
                    return Some((
                        i,
                        "link with whitespace in its URL, or an empty URL or label",
                    ));
                }
                if let Some((j, why)) = ampersand_problem(inner) {
                    return Some((i + 1 + j, why));
                }
                i += end + 1;
            }
            b'>' => return Some((i, "`>` outside a link")),
            b'&' => {
                if let Some((_, why)) = ampersand_problem(&s[i..]) {
                    return Some((i, why));
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    None
}

fn ampersand_problem(s: &str) -> Option<(usize, &'static str)> {
    s.match_indices('&')
        .map(|(i, _)| i)
        .find(|&i| {
            !["&amp;", "&lt;", "&gt;"]
                .iter()
                .any(|e| s[i..].starts_with(e))
        })
        .map(|i| (i, "`&` that is not `&amp;`, `&lt;` or `&gt;`"))
}

fn chars_of(v: &Value) -> usize {
    v.as_str().map_or(0, |s| s.chars().count())
}

fn check_slack(out: &str) -> Result<(), Failure> {
    const L: &str = "slack-limits";
    let v = parse(out, L)?;
    let blocks = v["blocks"].as_array().cloned().unwrap_or_default();
    if blocks.len() > 50 {
        return Err(Failure::new(
            L,
            "more than 50 blocks",
            blocks.len().to_string(),
        ));
    }
    for (i, b) in blocks.iter().enumerate() {
        match b["type"].as_str().unwrap_or_default() {
            "header" if chars_of(&b["text"]["text"]) > 150 => {
                return Err(Failure::new(
                    L,
                    "header text over 150 characters",
                    format!("blocks[{i}]: {}", chars_of(&b["text"]["text"])),
                ));
            }
            "section" if chars_of(&b["text"]["text"]) > 3000 => {
                return Err(Failure::new(
                    L,
                    "section text over 3000 characters",
                    format!("blocks[{i}]: {}", chars_of(&b["text"]["text"])),
                ));
            }
            "context" => {
                let elements = b["elements"].as_array().cloned().unwrap_or_default();
                if elements.len() > 10 {
                    return Err(Failure::new(
                        L,
                        "context block with more than 10 elements",
                        format!("blocks[{i}]: {}", elements.len()),
                    ));
                }
                if let Some(e) = elements.iter().find(|e| chars_of(&e["text"]) > 3000) {
                    return Err(Failure::new(
                        L,
                        "context element over 3000 characters",
                        format!("blocks[{i}]: {}", chars_of(&e["text"])),
                    ));
                }
            }
            _ => {}
        }
    }
    let total = serde_json::to_string(&v).map_or(usize::MAX, |s| s.chars().count());
    if total > 13_000 {
        return Err(Failure::new(
            L,
            "message over 13,000 characters",
            total.to_string(),
        ));
    }
    if chars_of(&v["text"]) > 3000 {
        return Err(Failure::new(
            L,
            "top-level text over 3000 characters",
            chars_of(&v["text"]).to_string(),
        ));
    }
    let mut all = Vec::new();
    strings(&v, "", &mut all);
    for (path, s) in all {
        if let Some((i, why)) = mrkdwn_problem(s) {
            return Err(Failure::new(
                "slack-injection",
                why,
                format!("{path}: {}", excerpt(s, i)),
            ));
        }
    }
    Ok(())
}

/// SNS's limit on a message with its subject and attributes.
const SNS_MAX_BYTES: usize = 262_144;

fn check_sns(out: &str) -> Result<(), Failure> {
    const P: &str = "sns";
    let v = parse(out, P)?;
    let subject = v["Subject"].as_str().unwrap_or_default();
    if subject.chars().count() > 99 {
        return Err(Failure::new(
            P,
            "subject over 99 characters",
            excerpt(subject, 0),
        ));
    }
    if let Some(i) = subject.find(|c: char| !(' '..='~').contains(&c)) {
        return Err(Failure::new(
            P,
            "subject not printable ASCII",
            excerpt(subject, i),
        ));
    }
    let Some(message) = v["Message"].as_str() else {
        return Err(Failure::new(P, "no Message string", excerpt(out, 0)));
    };
    let attributes: usize = v["MessageAttributes"].as_object().map_or(0, |m| {
        m.iter()
            .map(|(k, a)| {
                k.len()
                    + a["DataType"].as_str().map_or(0, str::len)
                    + a["StringValue"].as_str().map_or(0, str::len)
            })
            .sum()
    });
    let size = message.len() + subject.len() + attributes;
    if size > SNS_MAX_BYTES {
        return Err(Failure::new(
            P,
            "message, subject and attributes over 256 KiB",
            format!("{size} bytes (message {} bytes)", message.len()),
        ));
    }
    let email = if v["MessageStructure"] == "json" {
        let per_protocol: Value = serde_json::from_str(message).map_err(|e| {
            Failure::new(
                P,
                "MessageStructure json with a message that is not JSON",
                e.to_string(),
            )
        })?;
        if !per_protocol["default"].is_string() {
            return Err(Failure::new(
                P,
                "per-protocol message without a string `default`",
                excerpt(message, 0),
            ));
        }
        per_protocol["email"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    } else {
        message.to_owned()
    };
    if let Some(i) = email.find(|c: char| c.is_control() && c != '\n') {
        return Err(Failure::new(
            P,
            "control character in the email text",
            excerpt(&email, i),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mrkdwn_accepts_escaped_text_and_links() {
        assert!(
            mrkdwn_problem("a &amp; b &lt;!channel&gt; <https://x.example/a?b=c|Alarm &lt;x&gt;>")
                .is_none()
        );
        for bad in [
            "<!channel>",
            "<@U1>",
            "<#C1>",
            "a > b",
            "a & b",
            "<https://x|y",
            "<https://a b|c>",
            "<http://x|y>",
        ] {
            assert!(mrkdwn_problem(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn number_words_are_whole_words() {
        assert!(find_word("info inference", "inf").is_none());
        assert!(find_word("x is inf.", "inf").is_some());
        assert!(find_word("-inf", "inf").is_some());
        assert!(find_word("19223372036854775807", "9223372036854775807").is_none());
        assert!(find_word("is 9223372036854775807 ms", "9223372036854775807").is_some());
    }
}
