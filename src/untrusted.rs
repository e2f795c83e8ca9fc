//! Untrusted input: everything in a payload or a world (alarm names, ARNs, regions, numbers,
//! timestamps, AWS reasons). These checks are applied where such values are read, so nothing
//! past them has to wonder: a region that builds a console link is a region, a metric value a
//! rule sums is a finite count, a time the triage does arithmetic on is a date, and no string
//! that reaches a terminal, a log line, Slack or an email carries a control character.

use chrono::{DateTime, Datelike, Utc};

/// Metric values above this are not read (a datapoint of 10^12 requests in one minute is
/// 16 billion a second, far beyond any load balancer or distribution): absurd values are a
/// broken upstream or a hostile world, and summing a few of them near `f64::MAX` overflows to
/// infinity, which would reach the words as `inf%`.
pub(crate) const MAX_METRIC_VALUE: f64 = 1e12;

/// Timestamps outside these years are refused where they are read. CloudWatch, ELB and
/// CloudFront have no data before 1970 or after 9999, and chrono's arithmetic panics near its
/// own limits (year ±262143), which a triage adding hours to a hostile time would reach.
pub(crate) const MIN_YEAR: i32 = 1970;
pub(crate) const MAX_YEAR: i32 = 9999;

/// A metric value as fivexx reads it: finite, not negative (every metric fivexx reads is a
/// count, a duration, a size or a share) and at most [`MAX_METRIC_VALUE`]; else nothing, so the
/// minute reads as missing, never as a made-up number.
pub(crate) fn metric_value(v: f64) -> Option<f64> {
    (v.is_finite() && (0.0..=MAX_METRIC_VALUE).contains(&v)).then_some(v)
}

/// Whether a timestamp is in the years a triage can reason about.
pub(crate) fn sane_time(t: &DateTime<Utc>) -> bool {
    (MIN_YEAR..=MAX_YEAR).contains(&t.year())
}

/// An AWS region name: `us-east-1`, `eu-central-2`, `us-gov-west-1`, `cn-north-1`.
/// Lowercase words joined by `-`, ending in a number; at most 32 characters.
pub(crate) fn is_region(s: &str) -> bool {
    if s.is_empty() || s.len() > 32 {
        return false;
    }
    let parts: Vec<&str> = s.split('-').collect();
    let Some((number, words)) = parts.split_last() else {
        return false;
    };
    words.len() >= 2
        && words
            .iter()
            .all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase()))
        && !number.is_empty()
        && number.len() <= 2
        && number.bytes().all(|b| b.is_ascii_digit())
}

/// An AWS account id: twelve digits.
pub(crate) fn is_account(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// A name as AWS allows it for a resource fivexx puts in a shell command of a next step (a
/// Lambda function, a Classic Load Balancer, an API id): 1 to `max` characters of ASCII
/// letters, digits, `-` and `_`. A name from a payload or a world that is not one never
/// reaches a command a person may paste into a shell.
pub(crate) fn is_simple_name(s: &str, max: usize) -> bool {
    !s.is_empty()
        && s.len() <= max
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// An ARN safe to quote in a shell command: `arn:` then at most 1,024 characters of ASCII
/// letters, digits and `:/-_.+=,@$`.
pub(crate) fn is_plain_arn(s: &str) -> bool {
    s.starts_with("arn:")
        && s.len() <= 1024
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b":/-_.+=,@$".contains(&b))
}

/// Characters that must not reach a terminal, a log line or a message: control characters
/// (C0, DEL, C1: ESC sequences, line breaks that forge log lines) and the bidirectional
/// overrides that make text read differently from what it is.
fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// `text` with every unsafe character replaced by a space.
pub(crate) fn clean(text: &str) -> String {
    if text.chars().any(is_unsafe) {
        text.chars()
            .map(|c| if is_unsafe(c) { ' ' } else { c })
            .collect()
    } else {
        text.to_owned()
    }
}

/// Cleans a string in place (no allocation when it is clean already).
pub(crate) fn clean_in_place(text: &mut String) {
    if text.chars().any(is_unsafe) {
        *text = clean(text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_for_shell_commands_are_plain() {
        assert!(is_simple_name("orders-prod_1", 64));
        for bad in ["", "a b", "x;rm", "$(id)", "`x`", "a'b", "é"] {
            assert!(!is_simple_name(bad, 64), "{bad}");
        }
        assert!(!is_simple_name(&"a".repeat(65), 64));
        assert!(is_plain_arn(
            "arn:aws:elasticloadbalancing:us-east-1:1:listener-rule/app/a/1/2/3"
        ));
        assert!(!is_plain_arn("arn:aws:x:y;$(id)"));
        assert!(!is_plain_arn("arn:aws x"));
    }

    #[test]
    fn regions_and_accounts() {
        for ok in [
            "us-east-1",
            "eu-central-2",
            "us-gov-west-1",
            "cn-north-1",
            "ap-southeast-10",
        ] {
            assert!(is_region(ok), "{ok}");
        }
        for bad in [
            "",
            "<!channel>",
            "us-east-1&x",
            "us-east",
            "US-EAST-1",
            "us--1",
            "us-east-100",
            "us-east-1 ",
        ] {
            assert!(!is_region(bad), "{bad}");
        }
        assert!(is_account("123456789012"));
        assert!(!is_account("12345678901"));
        assert!(!is_account("12345678901a"));
    }

    #[test]
    fn metric_values_are_finite_counts() {
        assert_eq!(metric_value(12.5), Some(12.5));
        assert_eq!(metric_value(f64::NAN), None);
        assert_eq!(metric_value(f64::INFINITY), None);
        assert_eq!(metric_value(1.7e308), None);
        assert_eq!(metric_value(-1.0), None);
    }

    #[test]
    fn control_characters_become_spaces() {
        assert_eq!(clean("a\nb\u{1b}[31m\u{202e}c"), "a b [31m c");
        let mut s = String::from("fine");
        clean_in_place(&mut s);
        assert_eq!(s, "fine");
    }
}
