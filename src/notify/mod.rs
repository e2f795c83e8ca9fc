//! Notifications: verdicts rendered for Slack and SNS.
//!
//! Rendering is pure (verdict in, payload out) and lives in [`slack`] and [`sns`]; sending is
//! the Lambda's job. Every string that came from outside (alarm names and descriptions, AWS
//! reasons, resource names) is untrusted: escaped for Slack and capped in length.

pub mod deliver;
pub(crate) mod links;
pub mod slack;
pub mod sns;

/// Unicode block sparkline of per-minute values; missing minutes are blank.
pub(crate) fn sparkline(values: &[Option<f64>]) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let present: Vec<f64> = values.iter().flatten().copied().collect();
    let (Some(min), Some(max)) = (
        present.iter().copied().reduce(f64::min),
        present.iter().copied().reduce(f64::max),
    ) else {
        return String::new();
    };
    values
        .iter()
        .map(|v| match v {
            None => ' ',
            Some(v) if max > min => {
                let i = ((v - min) / (max - min) * 7.0).round() as usize;
                BARS.get(i).copied().unwrap_or('█')
            }
            Some(_) => BARS[0],
        })
        .collect()
}

/// Cuts `text` to at most `max` characters, ending with `…` when cut.
pub(crate) fn cap(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparkline_scales_and_keeps_gaps() {
        assert_eq!(sparkline(&[Some(0.0), Some(7.0), None, Some(3.5)]), "▁█ ▅");
        assert_eq!(sparkline(&[Some(2.0), Some(2.0)]), "▁▁");
        assert_eq!(sparkline(&[None, None]), "");
    }

    #[test]
    fn cap_counts_characters_not_bytes() {
        assert_eq!(cap("ééééé", 3), "éé…");
        assert_eq!(cap("abc", 3), "abc");
    }
}
