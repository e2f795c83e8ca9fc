//! A composite alarm's rule, read for the alarms it names.
//!
//! The rule language: `ALARM(name)`, `OK(name)`, `INSUFFICIENT_DATA(name)`, `TRUE`, `FALSE`,
//! `AND`, `OR`, `NOT`, parentheses, and `AT_LEAST(M, STATE, (name, name, ...))`. A name is
//! bare or in double quotes (then it may hold spaces, parentheses and commas; `\"` is a
//! quote), and may be an alarm ARN. The rule comes from the payload or from CloudWatch and is
//! read as untrusted text: one pass over its characters that never fails and never panics,
//! whatever it holds; what is not a state function is skipped.

/// The most names read from one rule: the most one `DescribeAlarms` request takes.
const MAX_CHILDREN: usize = crate::evidence::cloudwatch::MAX_ALARM_NAMES;

/// The alarm names a rule refers to, in the order they first appear, without repeats (ARNs
/// read as the name they end with).
pub(crate) fn child_alarms(rule: &str) -> Vec<String> {
    let chars: Vec<char> = rule.chars().collect();
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < chars.len() && out.len() < MAX_CHILDREN {
        let c = chars.get(i).copied().unwrap_or(' ');
        if c == '"' {
            // A quoted text outside a state function: skipped whole.
            i = quoted(&chars, i + 1).1;
            continue;
        }
        if !is_word(c) {
            i += 1;
            continue;
        }
        let start = i;
        while chars.get(i).copied().is_some_and(is_word) {
            i += 1;
        }
        let word: String = chars.get(start..i).unwrap_or_default().iter().collect();
        let word = word.to_ascii_uppercase();
        let open = skip_space(&chars, i);
        if chars.get(open) != Some(&'(') {
            continue;
        }
        let names = match word.as_str() {
            "ALARM" | "OK" | "INSUFFICIENT_DATA" => {
                let (names, end) = arguments(&chars, open + 1);
                i = end;
                names.into_iter().take(1).collect()
            }
            "AT_LEAST" => {
                let (names, end) = at_least(&chars, open + 1);
                i = end;
                names
            }
            _ => Vec::new(),
        };
        for name in names {
            let name = alarm_name(&name);
            if !name.is_empty() && !out.iter().any(|n| n == name) && out.len() < MAX_CHILDREN {
                out.push(name.to_owned());
            }
        }
    }
    out
}

fn is_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

fn skip_space(chars: &[char], mut i: usize) -> usize {
    while chars.get(i).is_some_and(|c| c.is_whitespace()) {
        i += 1;
    }
    i
}

/// The text of a quoted name starting after its opening quote, and the index after its
/// closing quote (the end of the rule when it has none).
fn quoted(chars: &[char], mut i: usize) -> (String, usize) {
    let mut text = String::new();
    while let Some(&c) = chars.get(i) {
        match c {
            '\\' if chars.get(i + 1) == Some(&'"') => {
                text.push('"');
                i += 2;
            }
            '"' => return (text, i + 1),
            _ => {
                text.push(c);
                i += 1;
            }
        }
    }
    (text, i)
}

/// Comma-separated arguments up to the `)` that closes the call opened before `i`, and the
/// index after it. A bare argument is trimmed; a quoted one is taken as written.
fn arguments(chars: &[char], mut i: usize) -> (Vec<String>, usize) {
    let mut out = Vec::new();
    let mut bare = String::new();
    let mut quoted_arg: Option<String> = None;
    while let Some(&c) = chars.get(i) {
        match c {
            '"' => {
                let (text, end) = quoted(chars, i + 1);
                quoted_arg = Some(text);
                i = end;
                continue;
            }
            ',' | ')' => {
                let arg = quoted_arg.take().unwrap_or_else(|| bare.trim().to_owned());
                out.push(arg);
                bare.clear();
                i += 1;
                if c == ')' {
                    return (out, i);
                }
                continue;
            }
            _ => bare.push(c),
        }
        i += 1;
    }
    let arg = quoted_arg.unwrap_or_else(|| bare.trim().to_owned());
    out.push(arg);
    (out, i)
}

/// `AT_LEAST(M, STATE, (a, b))` after its `(`: the names of the inner list, and the index
/// after the call.
fn at_least(chars: &[char], mut i: usize) -> (Vec<String>, usize) {
    while let Some(&c) = chars.get(i) {
        match c {
            '(' => {
                let (names, end) = arguments(chars, i + 1);
                // The call's own closing parenthesis follows the list.
                let close = skip_space(chars, end);
                let end = if chars.get(close) == Some(&')') {
                    close + 1
                } else {
                    end
                };
                return (names, end);
            }
            ')' => return (Vec::new(), i + 1),
            '"' => i = quoted(chars, i + 1).1,
            _ => i += 1,
        }
    }
    (Vec::new(), i)
}

/// An alarm ARN's name (`arn:aws:cloudwatch:REGION:ACCOUNT:alarm:NAME`); anything else as is.
fn alarm_name(arg: &str) -> &str {
    if arg.starts_with("arn:")
        && let Some((_, name)) = arg.split_once(":alarm:")
    {
        return name;
    }
    arg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_of_a_name() {
        assert_eq!(
            child_alarms(r#"ALARM("web-alb-5xx") OR ALARM("cdn-5xx-rate")"#),
            ["web-alb-5xx", "cdn-5xx-rate"]
        );
        assert_eq!(
            child_alarms("ALARM(a) AND NOT (OK( b ) OR INSUFFICIENT_DATA(c)) AND TRUE OR FALSE"),
            ["a", "b", "c"]
        );
        assert_eq!(
            child_alarms(r#"ALARM("db (primary), CPU") AND alarm("say \"hi\"")"#),
            ["db (primary), CPU", r#"say "hi""#]
        );
        assert_eq!(
            child_alarms(
                "ALARM(arn:aws:cloudwatch:us-east-1:123456789012:alarm:web 5xx) OR ALARM(a) OR ALARM(a)"
            ),
            ["web 5xx", "a"]
        );
        assert_eq!(
            child_alarms(r#"AT_LEAST(2, ALARM, (a, "b c", d)) AND ALARM(e)"#),
            ["a", "b c", "d", "e"]
        );
        assert!(child_alarms("TRUE").is_empty());
        assert!(child_alarms("").is_empty());
    }

    #[test]
    fn hostile_rules_never_panic() {
        let odd = [
            "ALARM(",
            "ALARM(\"",
            "ALARM(\"\\",
            "ALARM(\\\"",
            "ALARM()",
            "ALARM(,,,)",
            "AT_LEAST(",
            "AT_LEAST(2, ALARM, (",
            "AT_LEAST(2, ALARM, (a, \"b",
            ")))(((",
            "\"\"\"\"\"",
            "ALARM(é😀\u{0}\u{1b}[31m)",
            "NOT NOT NOT ALARM ( x",
            "ALARM(arn:)",
            "ALARM(arn:aws:cloudwatch:r:a:alarm:)",
        ];
        for rule in odd {
            for name in child_alarms(rule) {
                assert!(!name.is_empty(), "{rule:?}");
            }
        }
        // A pseudo-random walk over the rule's alphabet, and a long one.
        let alphabet: Vec<char> = "ALARM(OK)INSUFFICIENT_DATA\"\\ ,AT_LEAST:arné😀"
            .chars()
            .collect();
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..2000 {
            let len = (seed % 40) as usize;
            let rule: String = (0..len)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    alphabet[(seed % alphabet.len() as u64) as usize]
                })
                .collect();
            let names = child_alarms(&rule);
            assert!(names.len() <= MAX_CHILDREN, "{rule:?}");
        }
        let long = "ALARM(x) OR ".repeat(5000) + &"ALARM(\"y".repeat(100);
        assert!(child_alarms(&long).len() <= MAX_CHILDREN);
        let many: String = (0..500).map(|i| format!("ALARM(a{i}) OR ")).collect();
        assert_eq!(child_alarms(&many).len(), MAX_CHILDREN);
    }
}
