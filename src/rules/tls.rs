//! TLS facts the rules need: certificate name matching (RFC 6125 wildcards) and the
//! protocols of the ELB predefined security policies.

/// Whether certificate name `pattern` covers host `host` (case-insensitive; a wildcard
/// `*.example.com` covers exactly one leftmost label: `a.example.com`, not `example.com` nor
/// `a.b.example.com`).
pub(crate) fn name_matches(pattern: &str, host: &str) -> bool {
    let p = pattern.trim_end_matches('.').to_ascii_lowercase();
    let h = host.trim_end_matches('.').to_ascii_lowercase();
    if let Some(rest) = p.strip_prefix("*.") {
        return match h.split_once('.') {
            Some((label, tail)) => !label.is_empty() && tail == rest,
            None => false,
        };
    }
    p == h
}

/// Whether any of `names` covers `host`.
pub(crate) fn covered(names: &[String], host: &str) -> bool {
    names.iter().any(|n| name_matches(n, host))
}

/// The TLS protocols an ELB predefined security policy offers, from its name. ALB policies are
/// all predefined (no custom policies), and their names encode the protocol floor:
/// `ELBSecurityPolicy-TLS13-1-3-*` is TLS 1.3 only, `-TLS13-1-2-*` 1.2 and 1.3, `-TLS-1-2-*` and
/// `-FS-1-2-*` 1.2 only, `-TLS-1-1-*`/`-FS-1-1-*` 1.1 and 1.2, the older ones 1.0 to 1.2.
/// `None` for a name this table does not know.
pub(crate) fn policy_protocols(policy: &str) -> Option<Vec<&'static str>> {
    let p = policy;
    if !p.starts_with("ELBSecurityPolicy") {
        return None;
    }
    let v = |list: &[&'static str]| Some(list.to_vec());
    if p.contains("TLS13-1-3") {
        return v(&["TLSv1.3"]);
    }
    if p.contains("TLS13-1-2") {
        return v(&["TLSv1.2", "TLSv1.3"]);
    }
    if p.contains("TLS13-1-1") {
        return v(&["TLSv1.1", "TLSv1.2", "TLSv1.3"]);
    }
    if p.contains("TLS13-1-0") {
        return v(&["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"]);
    }
    if p.contains("TLS-1-2") || p.contains("FS-1-2") {
        return v(&["TLSv1.2"]);
    }
    if p.contains("TLS-1-1") || p.contains("FS-1-1") {
        return v(&["TLSv1.1", "TLSv1.2"]);
    }
    if p.ends_with("2016-08")
        || p.ends_with("2015-05")
        || p.contains("TLS-1-0")
        || p.contains("FS-2018-06")
    {
        return v(&["TLSv1", "TLSv1.1", "TLSv1.2"]);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_cover_one_label() {
        assert!(name_matches("*.example.com", "www.example.com"));
        assert!(name_matches("*.Example.com", "WWW.example.com."));
        assert!(!name_matches("*.example.com", "example.com"));
        assert!(!name_matches("*.example.com", "a.b.example.com"));
        assert!(name_matches("example.com", "example.com"));
        assert!(!name_matches(
            "www.example.com",
            "web-1.us-east-1.elb.amazonaws.com"
        ));
    }

    #[test]
    fn policy_names_give_protocols() {
        assert_eq!(
            policy_protocols("ELBSecurityPolicy-TLS13-1-3-2021-06").unwrap(),
            ["TLSv1.3"]
        );
        assert_eq!(
            policy_protocols("ELBSecurityPolicy-TLS13-1-2-2021-06").unwrap(),
            ["TLSv1.2", "TLSv1.3"]
        );
        assert_eq!(
            policy_protocols("ELBSecurityPolicy-2016-08").unwrap(),
            ["TLSv1", "TLSv1.1", "TLSv1.2"]
        );
        assert_eq!(
            policy_protocols("ELBSecurityPolicy-FS-1-2-Res-2020-10").unwrap(),
            ["TLSv1.2"]
        );
        assert!(policy_protocols("MyPolicy").is_none());
    }
}
