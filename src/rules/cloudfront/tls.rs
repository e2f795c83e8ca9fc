//! CloudFront origin causes in TLS: the certificate the origin ALB serves (expired, or not
//! naming the host CloudFront asks for) and the protocols both sides accept.

use super::*;
use crate::rules::fix::{self, CertSlot};

pub(in crate::rules) const ORIGIN_CERT_HOSTNAME_MISMATCH: Rule = Rule {
    id: "cf.origin_cert_hostname_mismatch",
    kind: Kind::Cause,
    base: 0.85,
    codes: &[502],
    sub_cause_of: None,
    cause: "CloudFront reaches the origin ALB over HTTPS, but none of the listener's certificates (the default one or those served by SNI) covers the origin domain or the Host CloudFront sends, so every origin handshake fails with 502.",
    needs: "With `https-only`/`match-viewer`, reads every certificate of the HTTPS listener (`DescribeListenerCertificates`, names from ACM) and fires when none covers the origin `DomainName` (one-label wildcards), unless Host is forwarded and an alias is covered. A certificate that could not be read keeps it under the bar.",
    differs: "The certificate's dates do not matter (expiry is `cf.origin_cert_expired`), and the protocols do agree (disagreement is `cf.origin_tls_protocol_mismatch`). A raw `*.elb.amazonaws.com` origin name is called out, because no ACM certificate can cover it.",
    detect: Detect::Origin(origin_cert_hostname_mismatch),
};

fn origin_cert_hostname_mismatch(ctx: &Ctx<'_>, o: &OriginCtx<'_, '_>) -> Option<Draft> {
    if !o.uses_https() {
        return None;
    }
    // Every certificate of the listener counts: ALB serves the one whose names match the
    // host CloudFront asks for (SNI), and the default one only when none does.
    let certs = o.listener_certificates();
    let default = *certs.first()?;
    let mut names: Vec<String> = Vec::new();
    for n in certs.iter().flat_map(ListenerCert::names) {
        if !names.contains(&n) {
            names.push(n);
        }
    }
    let origin_domain = o.origin.domain_name.trim_end_matches('.');
    if covered(&names, origin_domain) {
        return None;
    }
    let host_forwarded = o
        .behavior
        .map(|b| forwards_host(b, &o.cf.dist.origin_request_policies));
    let aliases: Vec<&String> = o.cfg.aliases.iter().flat_map(|a| &a.items).collect();
    let alias_covered = aliases.iter().any(|a| covered(&names, a));
    if host_forwarded == Some(Some(true)) && alias_covered {
        return None;
    }
    // A certificate that could not be read may be the one that covers the host.
    if let Some(unread) = certs.iter().find(|c| c.detail.is_none()) {
        return unverifiable_certificate(
            o,
            &ORIGIN_CERT_HOSTNAME_MISMATCH,
            unread.arn,
            &ctx.e.gaps,
        );
    }
    let mut d = o.draft(&ORIGIN_CERT_HOSTNAME_MISMATCH);
    d.resources.push(default.arn.to_owned());
    d.title = format!(
        "The origin certificate of {} does not cover `{origin_domain}`",
        o.id()
    );
    d.headline = format!(
        "CloudFront {} connects to `{origin_domain}` over HTTPS, but the ALB certificate only covers {}: every origin handshake fails (502).",
        o.id(),
        names.join(", ")
    );
    d.evidence(format!(
        "{}: protocol policy {}, HTTPS port {}",
        o.label(),
        o.protocol_policy(),
        o.https_port()
    ));
    d.evidence(format!("listener certificate names: {}", names.join(", ")));
    if certs.len() > 1 {
        d.evidence(format!(
            "none of the listener's {} certificates (the default and {} served by SNI) covers it",
            certs.len(),
            certs.len() - 1
        ));
    }
    match host_forwarded {
        Some(Some(true)) => d.evidence(format!(
            "the viewer Host header is forwarded, and no alias ({}) is covered either",
            aliases
                .iter()
                .map(|a| a.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )),
        Some(Some(false)) => d.evidence(format!(
            "the Host header is not forwarded (policy {}): CloudFront sends Host `{origin_domain}`",
            o.behavior
                .and_then(|b| b.origin_request_policy_id.as_deref())
                .and_then(|id| o.cf.dist.origin_request_policies.get(id))
                .map(|p| p.origin_request_policy_config.name.clone())
                .unwrap_or_else(|| "none".into())
        )),
        _ => d.missing("the behaviour's origin request policy (is Host forwarded?)"),
    }
    if origin_domain.ends_with(".elb.amazonaws.com") {
        d.evidence(
            "the origin is the raw *.elb.amazonaws.com name, which no ACM certificate can cover",
        );
    }
    config_pattern(&mut d, &o.cf.s, 502);
    if let Some(a) = o.alb
        && a.s.client_tls_errors > 0.0
    {
        d.corroborate(format!(
            "ClientTLSNegotiationErrorCount on {}: {} in {} min",
            a.alb.name(),
            count(a.s.client_tls_errors),
            a.s.w.minutes()
        ));
    }
    if let Some(alias) = aliases.iter().find(|a| covered(&names, a)) {
        d.step(format!(
            "Point origin `{}` of {} at a name the certificate covers: create a Route 53 alias (e.g. origin.{}) to the ALB and use it as the origin domain, or forward the Host header ({alias}) with an origin request policy such as Managed-AllViewer.",
            o.origin.id,
            o.id(),
            alias.split_once('.').map_or(alias.as_str(), |(_, rest)| rest)
        ));
    } else {
        d.step(format!(
            "Give the ALB listener a certificate that covers `{origin_domain}`, or change origin `{}` to a name the certificate covers.",
            o.origin.id
        ));
        // Added beside the others (served by SNI to the origin's name), so the hosts the
        // current certificates cover keep theirs.
        let fix = if origin_domain.ends_with(".elb.amazonaws.com") {
            Err("no ACM certificate can cover the raw *.elb.amazonaws.com name: change the origin domain instead".to_owned())
        } else {
            o.https_listener()
                .ok_or_else(|| "the HTTPS listener's ARN was not read".to_owned())
                .and_then(|l| fix::add_certificate(&l.listener_arn, origin_domain))
        };
        fix::push(&mut d, fix);
    }
    d.step("Verify with: openssl s_client -connect ORIGIN:443 -servername ORIGIN_DOMAIN, and check the certificate names.");
    Some(d)
}

/// A certificate rule whose decisive input, the certificate, could not be read: a candidate
/// below the reporting bar, so the verdict is inconclusive and says what to read, never a
/// confident guess. Only when CloudFront's 502s point at the origin's TLS.
fn unverifiable_certificate(
    o: &OriginCtx<'_, '_>,
    rule: &'static Rule,
    cert_arn: &str,
    gaps: &[crate::evidence::Gap],
) -> Option<Draft> {
    let s = &o.cf.s;
    if s.dominant() != Some(502) {
        return None;
    }
    let mut d = o.draft(rule);
    d.resources.push(cert_arn.to_owned());
    d.title = format!("The origin certificate of {} could not be checked", o.id());
    d.headline = d.title.clone();
    d.evidence(rate_line(s, "502", s.rate_502));
    d.evidence(format!(
        "{}: protocol policy {}: CloudFront validates the ALB certificate",
        o.label(),
        o.protocol_policy()
    ));
    d.missing("acm:DescribeCertificate");
    d.evidence(format!("certificate {cert_arn}: not read"));
    // Expired and wrong-name certificates fit the same evidence until the certificate is read.
    d.competes("the other origin certificate rule");
    d.confidence = d.confidence.min(UNVERIFIED_CAP);
    // What to do about the unread certificate follows why it was not read.
    let code = gaps
        .iter()
        .find(|g| g.source == "acm:DescribeCertificate" && g.resource.as_deref() == Some(cert_arn))
        .or_else(|| gaps.iter().find(|g| g.source == "acm:DescribeCertificate"))
        .map(|g| g.reason.split(':').next().unwrap_or_default().to_owned())
        .unwrap_or_default();
    d.step(format!(
        "Reading it failed ({}): {}; meanwhile open {cert_arn} in the ACM console and check its expiry and names against `{}`.",
        if code.is_empty() { "no answer" } else { &code },
        crate::rules::remedy("acm:DescribeCertificate", &code),
        o.origin.domain_name
    ));
    Some(d)
}

pub(in crate::rules) const ORIGIN_CERT_EXPIRED: Rule = Rule {
    id: "cf.origin_cert_expired",
    kind: Kind::Cause,
    base: 0.9,
    codes: &[502],
    sub_cause_of: None,
    cause: "The certificate the origin ALB serves for the host CloudFront asks for has expired (its default one, or the SNI certificate covering that host), so CloudFront rejects the origin handshake and serves 502.",
    needs: "For a custom origin set to `https-only` or `match-viewer`, picks the certificate the HTTPS listener serves for the SNI host (the origin domain, or an alias when Host is forwarded): a valid covering one if any, else an expired covering one, else the default. Fires when ACM shows it past `NotAfter` or `Status` EXPIRED.",
    differs: "Unlike `cert.renewal_risk`, which warns about certificates within 45 days of `NotAfter`, the date has already passed. The certificate's names are not checked here (that is `cf.origin_cert_hostname_mismatch`). Target certificates are ignored because the ALB does not validate them.",
    detect: Detect::Origin(origin_cert_expired),
};

fn origin_cert_expired(ctx: &Ctx<'_>, o: &OriginCtx<'_, '_>) -> Option<Draft> {
    if !o.uses_https() {
        return None;
    }
    // The certificate ALB serves for the host CloudFront asks for: an expired SNI certificate
    // breaks the hosts it covers even when the default one is valid, and an expired default
    // one is harmless to a host a valid SNI certificate covers.
    let certs = o.listener_certificates();
    let now = o.cf.s.now;
    let (host, served) = o
        .sni_hosts()
        .into_iter()
        .filter_map(|h| served_for(&certs, h, now).map(|c| (h, c)))
        .find(|(_, c)| c.detail.is_none_or(|d| expired(d, now)))?;
    let cert_arn = served.arn;
    let Some(detail) = served.detail else {
        return unverifiable_certificate(o, &ORIGIN_CERT_EXPIRED, cert_arn, &ctx.e.gaps);
    };
    let mut d = o.draft(&ORIGIN_CERT_EXPIRED);
    d.resources.push(cert_arn.to_owned());
    let domain = detail
        .domain_name
        .clone()
        .unwrap_or_else(|| cert_arn.to_owned());
    let when = detail
        .not_after
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|| "an unknown date".into());
    d.title = format!("The origin certificate {domain} of {} expired", o.id());
    d.headline = format!(
        "The ALB certificate {domain} behind CloudFront {} expired at {when}: CloudFront rejects the origin and answers 502.",
        o.id()
    );
    d.evidence(format!(
        "certificate {domain}: Status {}, NotAfter {when}",
        detail.status.as_deref().unwrap_or("?")
    ));
    if !served.is_default {
        d.evidence(format!(
            "the listener serves it by SNI for `{host}`, which it covers; its default certificate does not decide this host"
        ));
    }
    d.evidence(format!(
        "{}: protocol policy {}",
        o.label(),
        o.protocol_policy()
    ));
    let method = detail
        .domain_validation_options
        .iter()
        .find_map(|v| v.validation_method.clone());
    let renewal = detail
        .renewal_summary
        .as_ref()
        .and_then(|r| r.renewal_status.clone());
    if let Some(r) = &renewal {
        d.evidence(format!(
            "renewal {r}{}",
            method
                .as_deref()
                .map(|m| format!(" ({m} validation)"))
                .unwrap_or_default()
        ));
    }
    config_pattern(&mut d, &o.cf.s, 502);
    match (detail.kind.as_deref(), method.as_deref(), renewal.as_deref()) {
        (Some("IMPORTED"), _, _) => d.step(format!(
            "Import a renewed certificate for {domain} into ACM (reimport to the same ARN keeps the listener attached): ACM never renews imported certificates."
        )),
        (_, Some("EMAIL"), _) => d.step(format!(
            "Approve the renewal email for {domain} (ACM console: resend validation email), or better, request a DNS-validated replacement and attach it to the listener."
        )),
        (_, _, Some("FAILED" | "PENDING_VALIDATION")) => d.step(format!(
            "Restore the DNS validation CNAME of {domain} so ACM can renew, or request a new certificate and attach it to the listener."
        )),
        _ => d.step(format!(
            "Attach a valid certificate for {domain} to the HTTPS listener of the ALB (request a DNS-validated one in ACM)."
        )),
    }
    d.step(format!(
        "Attaching a replacement for {domain} to the listener ({}):",
        if served.is_default {
            "its default certificate"
        } else {
            "served by SNI"
        }
    ));
    let slot = if served.is_default {
        CertSlot::Default
    } else {
        CertSlot::Sni
    };
    fix::push(
        &mut d,
        o.https_listener()
            .ok_or_else(|| "the HTTPS listener's ARN was not read".to_owned())
            .and_then(|l| fix::replace_certificate(&l.listener_arn, slot, cert_arn, host)),
    );
    d.step("Then alarm on certificate expiry (ACM DaysToExpiry) so it cannot happen again.");
    Some(d)
}

pub(in crate::rules) const ORIGIN_TLS_PROTOCOL_MISMATCH: Rule = Rule {
    id: "cf.origin_tls_protocol_mismatch",
    kind: Kind::Cause,
    base: 0.7,
    codes: &[502],
    sub_cause_of: None,
    cause: "CloudFront and the origin ALB's HTTPS listener share no TLS version, so the origin handshake fails and viewers get 502.",
    needs: "For an HTTPS origin, a built-in table maps the listener's `SslPolicy` name to its protocols; unknown policy names give no finding. Fires when none of the origin's `OriginSslProtocols` (TLSv1.2 if unset) is in that set, e.g. a TLS13-1-3 policy against TLSv1.2.",
    differs: "The certificate's validity and names play no part (those are the two certificate rules). A listener does exist on the right port (otherwise `cf.origin_port_mismatch`); only the protocol sets fail to overlap.",
    detect: Detect::Origin(origin_tls_protocol_mismatch),
};

fn origin_tls_protocol_mismatch(_: &Ctx<'_>, o: &OriginCtx<'_, '_>) -> Option<Draft> {
    if !o.uses_https() {
        return None;
    }
    let l = o.https_listener()?;
    let policy = l.ssl_policy.as_deref()?;
    let listener_protocols = policy_protocols(policy)?;
    let origin_protocols: Vec<String> = o
        .origin
        .custom_origin_config
        .as_ref()
        .and_then(|c| c.origin_ssl_protocols.as_ref())
        .map(|p| p.items.clone())
        .unwrap_or_else(|| vec!["TLSv1.2".into()]);
    if origin_protocols
        .iter()
        .any(|p| listener_protocols.contains(&p.as_str()))
    {
        return None;
    }
    let mut d = o.draft(&ORIGIN_TLS_PROTOCOL_MISMATCH);
    d.title = format!("CloudFront {} and the ALB share no TLS protocol", o.id());
    d.headline = format!(
        "CloudFront {} offers {} to the origin but the ALB listener policy {policy} accepts only {}: every origin handshake fails (502).",
        o.id(),
        origin_protocols.join(", "),
        listener_protocols.join(", ")
    );
    d.evidence(format!(
        "OriginSslProtocols of {}: {}",
        o.label(),
        origin_protocols.join(", ")
    ));
    d.evidence(format!(
        "listener {} SslPolicy {policy}: {}",
        l.port.unwrap_or_default(),
        listener_protocols.join(", ")
    ));
    config_pattern(&mut d, &o.cf.s, 502);
    if listener_protocols.contains(&"TLSv1.2") {
        // The listener takes TLSv1.2: the origin's side is the one to change.
        d.step(format!(
            "Add TLSv1.2 to the OriginSslProtocols of origin `{}`: the listener accepts it, and it is the highest CloudFront speaks to origins.",
            o.origin.id
        ));
        let edit = o
            .origin
            .custom_origin_config
            .as_ref()
            .and_then(|c| c.origin_ssl_protocols.as_ref())
            .map(|p| {
                let mut items = p.items.clone();
                items.push("TLSv1.2".into());
                fix::OriginEdit {
                    field: "OriginSslProtocols",
                    proposed: serde_json::json!({"Quantity": items.len(), "Items": items}),
                    current: serde_json::json!({"Quantity": p.items.len(), "Items": p.items}),
                }
            })
            .ok_or_else(|| {
                format!(
                    "OriginSslProtocols of origin `{}` was not in the distribution config",
                    o.origin.id
                )
            });
        fix::push(
            &mut d,
            edit.and_then(|e| fix::cf_origin(o.id(), &o.origin.id, &[e])),
        );
    } else {
        d.step("Set the HTTPS listener of the ALB to a policy that includes TLSv1.2 (ELBSecurityPolicy-TLS13-1-2-2021-06): CloudFront speaks at most TLSv1.2 to origins.");
        fix::push(
            &mut d,
            fix::listener_ssl_policy(&l.listener_arn, policy, fix::TLS12_POLICY),
        );
    }
    Some(d)
}
