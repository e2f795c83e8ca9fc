//! CloudFront rules (`docs/rules.md`): the edge, the origin link, and the ALB
//! behind it.

use super::catalog::{Detect, Rule};
use super::signals::{CORRELATED, CfSignals, REACHED, rank_correlation};
use super::tls::{covered, policy_protocols};
use super::{AlbCtx, CfCtx, Ctx, Draft, Kind, aws_defaults, count, pct, secs};
use crate::evidence::OriginLink;
use crate::evidence::acm::CertificateDetail;
use crate::evidence::cloudfront::{CacheBehavior, DistributionConfig, Origin, OriginRequestPolicy};
use crate::evidence::elb::Listener;

/// An origin certificate that could not be read is a lead, not an answer: capped under the
/// reporting bar.
const UNVERIFIED_CAP: f64 = 0.35;
/// The origin's requests "collapsed" below this share of the hour before's per-minute rate:
/// CloudFront no longer reaches it.
const TRAFFIC_COLLAPSE: f64 = 0.2;
/// The ALB's targets are "slow" when their response time reaches this share of the origin
/// read timeout.
const SLOW_TARGETS: f64 = 0.5;
/// The origin's 5xx must be at least this share of CloudFront's for CloudFront to be passing
/// them on (stray origin errors that happen to correlate are not the answer).
const PASSTHROUGH_SHARE: f64 = 0.3;

/// One origin with what was found behind it.
pub struct OriginCtx<'a, 'b> {
    pub cf: &'a CfCtx<'b>,
    pub cfg: &'a DistributionConfig,
    pub origin: &'a Origin,
    pub link: Option<&'a OriginLink>,
    pub alb: Option<&'a AlbCtx<'b>>,
    pub behavior: Option<&'a CacheBehavior>,
}

impl OriginCtx<'_, '_> {
    fn id(&self) -> &str {
        &self.cf.dist.id
    }

    /// `https-only`, `http-only` or `match-viewer`.
    fn protocol_policy(&self) -> &str {
        self.origin
            .custom_origin_config
            .as_ref()
            .and_then(|c| c.origin_protocol_policy.as_deref())
            .unwrap_or("http-only")
    }

    fn uses_https(&self) -> bool {
        matches!(self.protocol_policy(), "https-only" | "match-viewer")
    }

    fn https_port(&self) -> i32 {
        self.origin
            .custom_origin_config
            .as_ref()
            .and_then(|c| c.https_port)
            .unwrap_or(aws_defaults::ORIGIN_HTTPS_PORT)
    }

    fn http_port(&self) -> i32 {
        self.origin
            .custom_origin_config
            .as_ref()
            .and_then(|c| c.http_port)
            .unwrap_or(aws_defaults::ORIGIN_HTTP_PORT)
    }

    fn read_timeout(&self) -> f64 {
        f64::from(
            self.origin
                .custom_origin_config
                .as_ref()
                .and_then(|c| c.origin_read_timeout)
                .unwrap_or(aws_defaults::ORIGIN_READ_TIMEOUT_S),
        )
    }

    /// The ALB listener CloudFront connects to over HTTPS.
    fn https_listener(&self) -> Option<&Listener> {
        let port = self.https_port();
        self.alb?
            .alb
            .listeners
            .iter()
            .flatten()
            .find(|l| l.port == Some(port) && l.protocol.as_deref() == Some("HTTPS"))
    }

    /// The default certificate of the HTTPS listener, with its ACM details when read.
    fn listener_certificate(&self) -> Option<(&str, Option<&CertificateDetail>)> {
        let l = self.https_listener()?;
        let c = l
            .certificates
            .iter()
            .find(|c| c.is_default == Some(true))
            .or_else(|| l.certificates.first())?;
        let detail = self.alb?.alb.certificates.get(&c.certificate_arn);
        Some((c.certificate_arn.as_str(), detail))
    }

    fn label(&self) -> String {
        format!("origin `{}` ({})", self.origin.id, self.origin.domain_name)
    }

    fn draft(&self, rule: &'static Rule) -> Draft {
        let mut d = rule.draft();
        d.resources
            .push(format!("cloudfront:distribution/{}", self.id()));
        if let Some(a) = self.alb {
            d.alb_arn = Some(a.alb.arn.clone());
            d.resources.push(a.alb.arn.clone());
        }
        d
    }
}

/// Whether the Host header CloudFront sends is the viewer's (`Some(true)`), the origin
/// domain (`Some(false)`), or unknown because the policy could not be read (`None`).
pub fn forwards_host(
    behavior: &CacheBehavior,
    policies: &std::collections::BTreeMap<String, OriginRequestPolicy>,
) -> Option<bool> {
    if let Some(fv) = &behavior.forwarded_values
        && let Some(h) = &fv.headers
        && h.items
            .iter()
            .any(|x| x == "*" || x.eq_ignore_ascii_case("host"))
    {
        return Some(true);
    }
    let Some(id) = &behavior.origin_request_policy_id else {
        return Some(false);
    };
    let p = policies.get(id)?;
    let hc = &p.origin_request_policy_config.headers_config;
    let names_host = hc
        .headers
        .as_ref()
        .is_some_and(|h| h.items.iter().any(|x| x.eq_ignore_ascii_case("host")));
    Some(match hc.header_behavior.as_str() {
        "allViewer" | "allViewerAndWhitelistCloudFront" => true,
        "whitelist" => names_host,
        "allExcept" => !names_host,
        _ => false,
    })
}

pub(super) fn origins<'a, 'b>(ctx: &'a Ctx<'b>, cf: &'a CfCtx<'b>) -> Vec<OriginCtx<'a, 'b>> {
    let Some(cfg) = cf.dist.config.as_ref() else {
        return Vec::new();
    };
    cfg.origins
        .items
        .iter()
        .filter(|o| o.custom_origin_config.is_some())
        .map(|origin| {
            let link = cf.dist.origins.iter().find(|l| l.origin_id == origin.id);
            let alb = link
                .and_then(|l| l.alb_arn.as_deref())
                .and_then(|arn| ctx.alb(arn));
            let behavior = cfg.behaviors().find(|b| b.target_origin_id == origin.id);
            OriginCtx {
                cf,
                cfg,
                origin,
                link,
                alb,
                behavior,
            }
        })
        .collect()
}

/// A finding about a whole distribution (its functions, its edge), naming it as a resource.
fn dist_draft(cf: &CfCtx<'_>, rule: &'static Rule) -> Draft {
    let mut d = rule.draft();
    d.resources
        .push(format!("cloudfront:distribution/{}", cf.dist.id));
    d
}

fn rate_line(s: &CfSignals, code: &str, rate: Option<f64>) -> String {
    format!(
        "{code}ErrorRate: {} of requests over the last {} min",
        pct(rate.unwrap_or(0.0) / 100.0),
        s.w.minutes()
    )
}

/// Corroboration shared by the configuration rules: the errors started at once and do not
/// follow load (cached responses keep succeeding, so the ratio bar does not apply).
fn config_pattern(d: &mut Draft, s: &CfSignals, code: u16) {
    if s.dominant() == Some(code) {
        let rate = match code {
            502 => s.rate_502,
            503 => s.rate_503,
            _ => s.rate_504,
        };
        d.corroborate(rate_line(s, &code.to_string(), rate));
    }
    if let Some(step) = s.step
        && !s.load_correlated
    {
        d.corroborate(format!(
            "step onset at {} with steady traffic: a configuration change",
            step.at.format("%H:%M UTC")
        ));
    }
}

pub(super) const ORIGIN_CERT_HOSTNAME_MISMATCH: Rule = Rule {
    id: "cf.origin_cert_hostname_mismatch",
    kind: Kind::Cause,
    base: 0.85,
    codes: &[502],
    sub_cause_of: None,
    cause: "CloudFront reaches the origin ALB over HTTPS, but the listener certificate covers neither the origin domain nor the Host CloudFront sends, so every origin handshake fails with 502.",
    needs: "With `https-only`/`match-viewer`, reads the default listener certificate's SANs and DomainName from ACM and fires when none covers the origin `DomainName` (one-label wildcards), unless Host is forwarded (`ForwardedValues` or origin request policy) and an alias is covered.",
    differs: "The certificate's dates do not matter (expiry is `cf.origin_cert_expired`), and the protocols do agree (disagreement is `cf.origin_tls_protocol_mismatch`). A raw `*.elb.amazonaws.com` origin name is called out, because no ACM certificate can cover it.",
    detect: Detect::PerOrigin(origin_cert_hostname_mismatch),
};

fn origin_cert_hostname_mismatch(_: &Ctx<'_>, o: &OriginCtx<'_, '_>) -> Option<Draft> {
    if !o.uses_https() {
        return None;
    }
    let (cert_arn, detail) = o.listener_certificate()?;
    let Some(detail) = detail else {
        return unverifiable_certificate(o, &ORIGIN_CERT_HOSTNAME_MISMATCH, cert_arn);
    };
    let mut names: Vec<String> = detail.subject_alternative_names.clone();
    if let Some(dn) = &detail.domain_name
        && !names.contains(dn)
    {
        names.push(dn.clone());
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
    let mut d = o.draft(&ORIGIN_CERT_HOSTNAME_MISMATCH);
    d.resources.push(cert_arn.to_owned());
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
    d.step(format!(
        "Grant acm:DescribeCertificate (or open {cert_arn} in the ACM console) and check its expiry and names against `{}`.",
        o.origin.domain_name
    ));
    Some(d)
}

pub(super) const ORIGIN_CERT_EXPIRED: Rule = Rule {
    id: "cf.origin_cert_expired",
    kind: Kind::Cause,
    base: 0.9,
    codes: &[502],
    sub_cause_of: None,
    cause: "The certificate on the origin ALB's HTTPS listener has expired, so CloudFront rejects the origin handshake and serves 502.",
    needs: "For a custom origin set to `https-only` or `match-viewer`, takes the linked ALB's HTTPS listener on the origin's HTTPS port (443 by default) and its default certificate, and fires when ACM `DescribeCertificate` shows `NotAfter` at or before now or `Status` EXPIRED.",
    differs: "Unlike `cert.renewal_risk`, which warns about certificates within 45 days of `NotAfter`, the date has already passed. The certificate's names are not checked here (that is `cf.origin_cert_hostname_mismatch`). Target certificates are ignored because the ALB does not validate them.",
    detect: Detect::PerOrigin(origin_cert_expired),
};

fn origin_cert_expired(_: &Ctx<'_>, o: &OriginCtx<'_, '_>) -> Option<Draft> {
    if !o.uses_https() {
        return None;
    }
    let (cert_arn, detail) = o.listener_certificate()?;
    let Some(detail) = detail else {
        return unverifiable_certificate(o, &ORIGIN_CERT_EXPIRED, cert_arn);
    };
    let now = o.cf.s.now;
    let expired_by_date = detail.not_after.is_some_and(|t| t <= now);
    let expired_status = detail.status.as_deref() == Some("EXPIRED");
    if !(expired_by_date || expired_status) {
        return None;
    }
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
    d.step("Then alarm on certificate expiry (ACM DaysToExpiry) so it cannot happen again.");
    Some(d)
}

pub(super) const ORIGIN_TLS_PROTOCOL_MISMATCH: Rule = Rule {
    id: "cf.origin_tls_protocol_mismatch",
    kind: Kind::Cause,
    base: 0.7,
    codes: &[502],
    sub_cause_of: None,
    cause: "CloudFront and the origin ALB's HTTPS listener share no TLS version, so the origin handshake fails and viewers get 502.",
    needs: "For an HTTPS origin, a built-in table maps the listener's `SslPolicy` name to its protocols; unknown policy names give no finding. Fires when none of the origin's `OriginSslProtocols` (TLSv1.2 if unset) is in that set, e.g. a TLS13-1-3 policy against TLSv1.2.",
    differs: "The certificate's validity and names play no part (those are the two certificate rules). A listener does exist on the right port (otherwise `cf.origin_port_mismatch`); only the protocol sets fail to overlap.",
    detect: Detect::PerOrigin(origin_tls_protocol_mismatch),
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
    d.step("Set the HTTPS listener of the ALB to a policy that includes TLSv1.2 (ELBSecurityPolicy-TLS13-1-2-2021-06): CloudFront speaks at most TLSv1.2 to origins.");
    Some(d)
}

pub(super) const ORIGIN_PORT_MISMATCH: Rule = Rule {
    id: "cf.origin_port_mismatch",
    kind: Kind::Cause,
    base: 0.8,
    codes: &[502, 504],
    sub_cause_of: None,
    cause: "CloudFront connects to the origin ALB with a protocol and port where the ALB has no matching listener, so connections are refused (502) or dropped (504).",
    needs: "Reads the linked ALB's listeners. For `https-only`/`match-viewer` it expects HTTPS on `HTTPSPort` (443 by default), otherwise HTTP on `HTTPPort` (80 by default), and fires when no listener has that port and protocol. A dominant 502 or 504 rate, or a step onset, adds confidence.",
    differs: "Nothing suitable listens on that port, whereas the TLS and certificate rules assume a working HTTPS listener. The ALB exists (unlike `cf.origin_dns_failure`), and the problem is listeners, not the internal scheme that `cf.origin_blocked_or_private` reads.",
    detect: Detect::PerOrigin(origin_port_mismatch),
};

fn origin_port_mismatch(_: &Ctx<'_>, o: &OriginCtx<'_, '_>) -> Option<Draft> {
    let a = o.alb?;
    let listeners = a.alb.listeners.as_ref()?;
    let (want_proto, want_port) = if o.uses_https() {
        ("HTTPS", o.https_port())
    } else {
        ("HTTP", o.http_port())
    };
    if listeners
        .iter()
        .any(|l| l.port == Some(want_port) && l.protocol.as_deref() == Some(want_proto))
    {
        return None;
    }
    let on_port = listeners.iter().find(|l| l.port == Some(want_port));
    let mut d = o.draft(&ORIGIN_PORT_MISMATCH);
    d.title = format!(
        "No {want_proto} listener on port {want_port} of {} for CloudFront {}",
        a.alb.name(),
        o.id()
    );
    d.headline = format!(
        "CloudFront {} connects to {} with {want_proto} on port {want_port}, where the ALB has no such listener.",
        o.id(),
        a.alb.name()
    );
    d.evidence(format!(
        "{}: protocol policy {}, HTTP port {}, HTTPS port {}",
        o.label(),
        o.protocol_policy(),
        o.http_port(),
        o.https_port()
    ));
    let have: Vec<String> = listeners
        .iter()
        .map(|l| {
            format!(
                "{}:{}",
                l.protocol.as_deref().unwrap_or("?"),
                l.port.unwrap_or_default()
            )
        })
        .collect();
    d.evidence(format!(
        "listeners of {}: {}",
        a.alb.name(),
        have.join(", ")
    ));
    if let Some(l) = on_port {
        d.evidence(format!(
            "port {want_port} speaks {}, not {want_proto}",
            l.protocol.as_deref().unwrap_or("?")
        ));
    }
    // Refused connections show as 502, dropped ones (security group) as 504.
    let code = if o.cf.s.dominant() == Some(504) {
        504
    } else {
        502
    };
    config_pattern(&mut d, &o.cf.s, code);
    d.step(format!(
        "Add a {want_proto} listener on port {want_port} to {}, or change the origin protocol policy / port of origin `{}` to match a listener ({}).",
        a.alb.name(),
        o.origin.id,
        have.join(", ")
    ));
    Some(d)
}

pub(super) const ORIGIN_DNS_FAILURE: Rule = Rule {
    id: "cf.origin_dns_failure",
    kind: Kind::Cause,
    base: 0.8,
    codes: &[502],
    sub_cause_of: None,
    cause: "The origin points at a load balancer name that no longer exists (usually a deleted or recreated ALB), so CloudFront cannot resolve it and returns 502.",
    needs: "Follows the origin domain, directly or through a Route 53 alias/CNAME, to an ELB-style DNS name, and fires when `DescribeLoadBalancers` in that region lists no load balancer with that name. It never checks whether other names resolve.",
    differs: "No ALB could be linked at all, so the listener, certificate and scheme rules cannot apply. Once the name maps to an existing ALB, this rule is silent and those rules take over.",
    detect: Detect::PerOrigin(origin_dns_failure),
};

fn origin_dns_failure(_: &Ctx<'_>, o: &OriginCtx<'_, '_>) -> Option<Draft> {
    let link = o.link?;
    let dns = link.elb_dns_name.as_deref()?;
    if link.alb_arn.is_some() || !link.how.contains("no load balancer in") {
        return None;
    }
    let mut d = o.draft(&ORIGIN_DNS_FAILURE);
    d.title = format!(
        "The origin of {} names a load balancer that does not exist",
        o.id()
    );
    d.headline = format!(
        "Origin `{}` of CloudFront {} leads to `{dns}`, and no load balancer has that name any more: CloudFront cannot resolve or reach it (502).",
        o.origin.id,
        o.id()
    );
    d.evidence(format!("{}: {}", o.label(), link.how));
    config_pattern(&mut d, &o.cf.s, 502);
    d.step(format!(
        "Point origin `{}` (or its DNS record) at the current load balancer's DNS name: a recreated ALB gets a new name.",
        o.origin.id
    ));
    Some(d)
}

pub(super) const ORIGIN_BLOCKED_OR_PRIVATE: Rule = Rule {
    id: "cf.origin_blocked_or_private",
    kind: Kind::Cause,
    base: 0.8,
    codes: &[504],
    sub_cause_of: None,
    cause: "The origin is an internal ALB that CloudFront cannot reach without a VPC origin, so origin requests time out with 504.",
    needs: "Fires when the linked ALB's `Scheme` is `internal` and the origin has no `VpcOriginConfig`; security groups are not checked. Confidence rises with no `OriginLatency` data in the window, a dominant 504 rate, or ALB `RequestCount` below 20% of the previous hour's mean.",
    differs: "Unlike `cf.origin_read_timeout`, the origin is never reached (no latency data), not reached and slow. Unlike `cf.origin_port_mismatch`, the listeners may be fine: the load balancer's scheme is what blocks CloudFront.",
    detect: Detect::PerOrigin(origin_blocked_or_private),
};

fn origin_blocked_or_private(_: &Ctx<'_>, o: &OriginCtx<'_, '_>) -> Option<Draft> {
    let a = o.alb?;
    let lb = a.alb.load_balancer.as_ref()?;
    if lb.scheme.as_deref() != Some("internal") || o.origin.vpc_origin_config.is_some() {
        return None;
    }
    let s = &o.cf.s;
    let mut d = o.draft(&ORIGIN_BLOCKED_OR_PRIVATE);
    d.title = format!(
        "CloudFront {} cannot reach the internal load balancer {}",
        o.id(),
        a.alb.name()
    );
    d.headline = format!(
        "Origin `{}` of CloudFront {} is the internal load balancer {}, which CloudFront cannot reach without a VPC origin (504).",
        o.origin.id,
        o.id(),
        a.alb.name()
    );
    d.evidence(format!("{}: scheme internal", a.alb.name()));
    if s.origin_latency_points_w == 0 {
        d.corroborate("OriginLatency has no data in the alarm window: no origin answered");
    }
    if s.dominant() == Some(504) {
        d.corroborate(rate_line(s, "504", s.rate_504));
    }
    let per_min_w = a.s.requests / a.s.w.minutes().max(1) as f64;
    if let Some(base) = a.s.base_requests_per_min
        && base > 0.0
        && per_min_w < TRAFFIC_COLLAPSE * base
    {
        d.corroborate(format!(
            "RequestCount on {} fell from {}/min to {}/min: CloudFront's requests no longer arrive",
            a.alb.name(),
            count(base),
            count(per_min_w)
        ));
    }
    d.step(format!(
        "Use a CloudFront VPC origin for {} , or an internet-facing load balancer whose security group admits the CloudFront origin-facing prefix list (com.amazonaws.global.cloudfront.origin-facing).",
        a.alb.name()
    ));
    Some(d)
}

pub(super) const ORIGIN_READ_TIMEOUT: Rule = Rule {
    id: "cf.origin_read_timeout",
    kind: Kind::Cause,
    base: 0.7,
    codes: &[504],
    sub_cause_of: None,
    cause: "The origin answers more slowly than the origin's `OriginReadTimeout`, so CloudFront stops waiting and returns 504.",
    needs: "Needs `504ErrorRate` at least half of `5xxErrorRate`, and `OriginLatency` p99 (or Maximum if p99 is missing) at 90% or more of `OriginReadTimeout` (30 s if unset). ALB `TargetResponseTime` at half the timeout or more, and a load-correlated rate, add confidence.",
    differs: "The origin is reached but slow, unlike `cf.origin_blocked_or_private`, where there is no latency at all. If the ALB idle timeout is at or below `OriginReadTimeout` and the ALB has ELB 504s, this rule stays silent and `alb.target_response_timeout` explains the errors.",
    detect: Detect::PerOrigin(origin_read_timeout),
};

fn origin_read_timeout(_: &Ctx<'_>, o: &OriginCtx<'_, '_>) -> Option<Draft> {
    let s = &o.cf.s;
    if s.dominant() != Some(504) {
        return None;
    }
    let timeout = o.read_timeout();
    let p99_s = s.origin_latency_p99_ms.map(|v| v / 1000.0);
    let max_s = s.origin_latency_max_ms.map(|v| v / 1000.0);
    let latency = p99_s.or(max_s)?;
    if latency < REACHED * timeout {
        return None;
    }
    // If the ALB times out first, the ALB answers 504 and its rule is the answer.
    if let Some(a) = o.alb
        && a.s.idle_timeout <= timeout
        && a.s.elb_504 > 0.0
    {
        return None;
    }
    let mut d = o.draft(&ORIGIN_READ_TIMEOUT);
    d.title = format!(
        "The origin of {} answers slower than OriginReadTimeout ({})",
        o.id(),
        secs(timeout)
    );
    d.headline = format!(
        "Origin `{}` of CloudFront {} takes up to {} (OriginLatency {}) against an OriginReadTimeout of {}: CloudFront gives up and answers 504 to {} of requests.",
        o.origin.id,
        o.id(),
        secs(latency),
        if p99_s.is_some() { "p99" } else { "Maximum" },
        secs(timeout),
        pct(s.rate_504.unwrap_or(0.0) / 100.0)
    );
    d.evidence(rate_line(s, "504", s.rate_504));
    d.evidence(format!(
        "OriginLatency {} {} (OriginReadTimeout {})",
        if p99_s.is_some() { "p99" } else { "Maximum" },
        secs(latency),
        secs(timeout)
    ));
    if let Some(a) = o.alb {
        d.evidence(format!(
            "ALB {} idle timeout {} is above OriginReadTimeout: CloudFront times out first",
            a.alb.name(),
            secs(a.s.idle_timeout)
        ));
        if let Some(trt) = a.s.trt_p99.or(a.s.trt_max)
            && trt >= SLOW_TARGETS * timeout
        {
            d.corroborate(format!(
                "TargetResponseTime on {} reaches {}: the targets are slow",
                a.alb.name(),
                secs(trt)
            ));
        }
    }
    if s.load_correlated {
        d.corroborate(format!(
            "504ErrorRate rises with Requests (rank correlation {:.2}): the origin saturates at peak",
            s.load_corr.unwrap_or(0.0)
        ));
    }
    d.step(format!(
        "Fix origin latency or capacity first: find the slow requests on the origin (ALB access logs: target_processing_time over {}) and scale or optimise them.",
        secs(REACHED * timeout)
    ));
    d.step(format!(
        "Raise OriginReadTimeout of origin `{}` (now {}) only for requests that legitimately run long: it treats the symptom.",
        o.origin.id,
        secs(timeout)
    ));
    Some(d)
}

pub(super) const ORIGIN_PASSTHROUGH: Rule = Rule {
    id: "cf.origin_passthrough",
    kind: Kind::Link,
    base: 0.8,
    codes: &[502, 503, 504],
    sub_cause_of: None,
    cause: "CloudFront is passing on the linked ALB's own 5xx; the real cause is at the origin load balancer.",
    needs: "Needs a linked ALB whose ELB 5xx plus target 5xx in the window is above 0 and at least 30% of CloudFront's 5xx count (`5xxErrorRate` x `Requests`), and a per-minute rank correlation of 0.6+ between the two over the window and the hour before.",
    differs: "It is a link, not a cause: ranking keeps it 0.05 below the best cause on the same ALB, and that cause is the answer. CloudFront-side rules (certificates, ports, edge functions) describe failures that never show in the ALB's counts.",
    detect: Detect::PerOrigin(origin_passthrough),
};

fn origin_passthrough(ctx: &Ctx<'_>, o: &OriginCtx<'_, '_>) -> Option<Draft> {
    let a = o.alb?;
    let s = &o.cf.s;
    let alb_errors = a.s.elb_5xx + a.s.target_5xx;
    if alb_errors <= 0.0 || s.errors_5xx <= 0.0 {
        return None;
    }
    let lb = a.alb.dimension();
    let m = &ctx.e.metrics;
    let view = |name: &str| super::signals::View {
        series: m.find(
            crate::scope::ALB_NAMESPACE,
            name,
            &[("LoadBalancer", lb)],
            "Sum",
        ),
    };
    let elb = view("HTTPCode_ELB_5XX_Count");
    let tgt = view("HTTPCode_Target_5XX_Count");
    let span = super::signals::Span {
        start: a.s.b.start,
        end: a.s.w.end,
    };
    let pairs: Vec<(f64, f64)> = span
        .each_minute()
        .filter_map(|t| {
            let cf = s.errors_at(ctx.e, &o.cf.dist.id, t)?;
            Some((cf, elb.at(t).unwrap_or(0.0) + tgt.at(t).unwrap_or(0.0)))
        })
        .collect();
    let corr = rank_correlation(&pairs)?;
    if corr < CORRELATED {
        return None;
    }
    // The origin's errors must be of CloudFront's magnitude, not stray ones that happen to
    // correlate.
    if alb_errors < PASSTHROUGH_SHARE * s.errors_5xx {
        return None;
    }
    let mut d = o.draft(&ORIGIN_PASSTHROUGH);
    d.title = format!(
        "CloudFront {} passes on the 5xx of its origin {}",
        o.id(),
        a.alb.name()
    );
    d.headline = format!(
        "CloudFront {} passes on the 5xx of its origin ALB {} ({} in {} min).",
        o.id(),
        a.alb.name(),
        count(alb_errors),
        a.s.w.minutes()
    );
    d.evidence(format!(
        "origin {} ELB 5xx + target 5xx: {} in {} min",
        a.alb.name(),
        count(alb_errors),
        a.s.w.minutes()
    ));
    d.evidence(format!(
        "CloudFront 5xx per minute tracks the ALB's (rank correlation {corr:.2})"
    ));
    d.step(format!(
        "Triage the load balancer {}: the cause is at the origin, see the finding above.",
        a.alb.name()
    ));
    Some(d)
}

pub(super) const ORIGIN_CAPACITY_503: Rule = Rule {
    id: "cf.origin_capacity_503",
    kind: Kind::Cause,
    base: 0.6,
    codes: &[503],
    sub_cause_of: None,
    cause: "The origin runs out of capacity at peak traffic and answers 503, which CloudFront passes on to viewers.",
    needs: "Needs `503ErrorRate` dominant, `5xxErrorRate` correlating with `Requests` (rank 0.6+, or errors only at peaks), no Lambda@Edge or Function errors, and ELB 503 plus target 5xx above 0 on the linked ALB. Load-correlated ALB errors and no step onset add confidence.",
    differs: "It is load-driven with the origin erroring, whereas `guard.cf_edge_capacity` needs 503s with a clean origin and no load link. The Lambda@Edge and Function rules explain 503s that are made at the edge.",
    detect: Detect::PerOrigin(origin_capacity_503),
};

fn origin_capacity_503(_: &Ctx<'_>, o: &OriginCtx<'_, '_>) -> Option<Draft> {
    let s = &o.cf.s;
    // Lambda@Edge or function errors explain 503s at the edge instead.
    if s.dominant() != Some(503) || !s.load_correlated || s.edge_errors > 0.0 {
        return None;
    }
    let a = o.alb?;
    if a.s.elb_503 + a.s.target_5xx <= 0.0 {
        return None;
    }
    let mut d = o.draft(&ORIGIN_CAPACITY_503);
    d.title = format!("The origin of {} runs out of capacity at peak", o.id());
    d.headline = format!(
        "The origin {} of CloudFront {} answers 503 as traffic peaks ({} of requests).",
        a.alb.name(),
        o.id(),
        pct(s.rate_503.unwrap_or(0.0) / 100.0)
    );
    d.evidence(rate_line(s, "503", s.rate_503));
    d.evidence(format!(
        "503ErrorRate rises with Requests (rank correlation {:.2})",
        s.load_corr.unwrap_or(0.0)
    ));
    d.evidence(format!(
        "origin {}: {} ELB 503, {} target 5xx in {} min",
        a.alb.name(),
        count(a.s.elb_503),
        count(a.s.target_5xx),
        a.s.w.minutes()
    ));
    if a.s.load_correlated {
        d.corroborate(format!(
            "the origin's error ratio also rises with its load ({})",
            a.alb.name()
        ));
    }
    if s.step.is_none() {
        d.corroborate("no step onset: the errors grow with traffic, not with a change");
    }
    d.step(format!(
        "Add capacity behind {} and check its scaling reacts before the peak; raise cache hit ratio for cacheable paths.",
        a.alb.name()
    ));
    Some(d)
}

/// What a distribution runs at the edge, and how its edge metrics read. Lambda@Edge and
/// CloudFront Functions rules fire only with their metrics in the evidence.
struct Edge<'c, 'e> {
    ctx: &'c Ctx<'e>,
    cf: &'c CfCtx<'e>,
    /// A cache behaviour has a Lambda@Edge association.
    has_lambda: bool,
    /// The CloudFront Functions associated, by name.
    functions: Vec<&'c str>,
}

impl<'c, 'e> Edge<'c, 'e> {
    fn of(ctx: &'c Ctx<'e>, cf: &'c CfCtx<'e>) -> Option<Self> {
        let cfg = cf.dist.config.as_ref()?;
        let behaviors: Vec<&CacheBehavior> = cfg.behaviors().collect();
        let has_lambda = behaviors.iter().any(|b| {
            b.lambda_function_associations
                .as_ref()
                .is_some_and(|l| !l.items.is_empty())
        });
        let functions = behaviors
            .iter()
            .flat_map(|b| b.function_associations.iter().flat_map(|f| &f.items))
            .map(|f| f.function_arn.rsplit('/').next().unwrap_or(&f.function_arn))
            .collect();
        Some(Self {
            ctx,
            cf,
            has_lambda,
            functions,
        })
    }

    /// The window's sum of a CloudFront metric with these dimensions.
    fn sum(&self, name: &str, dims: &[(&str, &str)]) -> f64 {
        super::signals::View {
            series: self
                .ctx
                .e
                .metrics
                .find(crate::scope::CLOUDFRONT_NAMESPACE, name, dims, "Sum"),
        }
        .sum(self.cf.s.w)
    }

    /// The window's sum of a distribution-wide metric.
    fn dist_sum(&self, name: &str) -> f64 {
        self.sum(
            name,
            &[
                ("DistributionId", self.cf.dist.id.as_str()),
                ("Region", "Global"),
            ],
        )
    }
}

pub(super) const LAMBDA_EDGE_VALIDATION_ERROR: Rule = Rule {
    id: "cf.lambda_edge_validation_error",
    kind: Kind::Cause,
    base: 0.8,
    codes: &[502],
    sub_cause_of: None,
    cause: "A Lambda@Edge function on the distribution returns a response that CloudFront rejects as invalid, so viewers get 502.",
    needs: "Needs a Lambda@Edge association on some cache behaviour, and `LambdaValidationError` (AWS/CloudFront, `DistributionId`, `Region=Global`) summing above 0 over the window. A dominant 502 rate, or a step onset without load correlation, adds confidence.",
    differs: "The function ran but built a bad response (502). Crashes and throttles are `cf.lambda_edge_execution_or_throttle` (503), and CloudFront Functions belong to `cf.function_error`.",
    detect: Detect::PerDistribution(lambda_edge_validation_error),
};

fn lambda_edge_validation_error(
    ctx: &Ctx<'_>,
    cf: &CfCtx<'_>,
    _: &[OriginCtx<'_, '_>],
) -> Vec<Draft> {
    let Some(edge) = Edge::of(ctx, cf).filter(|e| e.has_lambda) else {
        return Vec::new();
    };
    let s = &cf.s;
    let validation = edge.dist_sum("LambdaValidationError");
    if validation <= 0.0 {
        return Vec::new();
    }
    let mut d = dist_draft(cf, &LAMBDA_EDGE_VALIDATION_ERROR);
    d.title = format!(
        "A Lambda@Edge function of {} returns invalid responses",
        cf.dist.id
    );
    d.headline = format!(
        "A Lambda@Edge function of CloudFront {} returns responses CloudFront rejects ({} validation errors in {} min).",
        cf.dist.id,
        count(validation),
        s.w.minutes()
    );
    d.evidence(format!("LambdaValidationError: {}", count(validation)));
    config_pattern(&mut d, s, 502);
    d.step("Roll back the function to its previous version in the cache behaviour, then check the response it builds (status, headers, body size limits).");
    vec![d]
}

pub(super) const LAMBDA_EDGE_EXECUTION_OR_THROTTLE: Rule = Rule {
    id: "cf.lambda_edge_execution_or_throttle",
    kind: Kind::Cause,
    base: 0.75,
    codes: &[503],
    sub_cause_of: None,
    cause: "A Lambda@Edge function on the distribution fails while running or is throttled, so CloudFront answers 503.",
    needs: "Needs a Lambda@Edge association, and `LambdaExecutionError` plus `LambdaLimitExceededErrors` (per distribution, `Region=Global`) summing above 0 over the window. Throttles together with a load-correlated 5xx rate add confidence.",
    differs: "This is a runtime failure, not a malformed response (the validation-error rule, 502). Any edge-function errors suppress `cf.origin_capacity_503` and `guard.cf_edge_capacity`.",
    detect: Detect::PerDistribution(lambda_edge_execution_or_throttle),
};

fn lambda_edge_execution_or_throttle(
    ctx: &Ctx<'_>,
    cf: &CfCtx<'_>,
    _: &[OriginCtx<'_, '_>],
) -> Vec<Draft> {
    let Some(edge) = Edge::of(ctx, cf).filter(|e| e.has_lambda) else {
        return Vec::new();
    };
    let s = &cf.s;
    let exec = edge.dist_sum("LambdaExecutionError");
    let throttled = edge.dist_sum("LambdaLimitExceededErrors");
    if exec + throttled <= 0.0 {
        return Vec::new();
    }
    let mut d = dist_draft(cf, &LAMBDA_EDGE_EXECUTION_OR_THROTTLE);
    d.title = format!(
        "A Lambda@Edge function of {} fails or is throttled",
        cf.dist.id
    );
    d.headline = format!(
        "A Lambda@Edge function of CloudFront {} fails or is throttled ({} errors, {} throttles in {} min).",
        cf.dist.id,
        count(exec),
        count(throttled),
        s.w.minutes()
    );
    d.evidence(format!(
        "LambdaExecutionError {}, LambdaLimitExceededErrors {}",
        count(exec),
        count(throttled)
    ));
    if throttled > 0.0 && s.load_correlated {
        d.corroborate("throttling follows Requests");
    }
    d.step("Read the function's logs in the regions serving the errors (/aws/lambda/us-east-1.NAME) and raise its concurrency if throttled.");
    vec![d]
}

pub(super) const FUNCTION_ERROR: Rule = Rule {
    id: "cf.function_error",
    kind: Kind::Cause,
    base: 0.8,
    codes: &[502, 503],
    sub_cause_of: None,
    cause: "A CloudFront Function on the distribution fails validation, errors or is throttled, producing 502/503 at the edge.",
    needs: "For each function in a behaviour's `FunctionAssociations`, sums `FunctionValidationErrors`, `FunctionExecutionErrors` and `FunctionThrottles` (dimensions `FunctionName`, `Region=Global`) over the window, and fires when the total is above 0.",
    differs: "This covers CloudFront Functions, not Lambda@Edge (the `cf.lambda_edge_*` rules). Its errors also exclude `cf.origin_capacity_503` and `guard.cf_edge_capacity`, so the origin is not blamed.",
    detect: Detect::PerDistribution(function_error),
};

fn function_error(ctx: &Ctx<'_>, cf: &CfCtx<'_>, _: &[OriginCtx<'_, '_>]) -> Vec<Draft> {
    let Some(edge) = Edge::of(ctx, cf) else {
        return Vec::new();
    };
    let s = &cf.s;
    let mut out = Vec::new();
    for f in &edge.functions {
        let dims = [("FunctionName", *f), ("Region", "Global")];
        let errors = edge.sum("FunctionValidationErrors", &dims)
            + edge.sum("FunctionExecutionErrors", &dims)
            + edge.sum("FunctionThrottles", &dims);
        if errors > 0.0 {
            let mut d = FUNCTION_ERROR.draft();
            d.resources.push(format!("cloudfront:function/{f}"));
            d.title = format!("CloudFront Function {f} fails");
            d.headline = format!(
                "CloudFront Function {f} on {} fails ({} validation, execution or throttle errors in {} min).",
                cf.dist.id,
                count(errors),
                s.w.minutes()
            );
            d.evidence(format!(
                "FunctionValidationErrors + FunctionExecutionErrors + FunctionThrottles: {}",
                count(errors)
            ));
            d.step(format!(
                "Test {f} in the CloudFront console with a failing request, and roll back to the previous LIVE version."
            ));
            out.push(d);
        }
    }
    out
}

pub(super) const WAF_NOT_5XX: Rule = Rule {
    id: "guard.waf_not_5xx",
    kind: Kind::Warning,
    base: 0.5,
    codes: &[],
    sub_cause_of: None,
    cause: "A WAF web ACL is attached, but WAF blocks return 403, so WAF is not why the distribution is serving 5xx.",
    needs: "A warning with base 0.5 that fires when the distribution's `WebACLId` is non-empty and its mean `5xxErrorRate` over the window is above 0. WAF rule actions and custom responses are not read.",
    differs: "It clears WAF for an engineer who would suspect it, and never outranks a cause. WAF is implicated only through `alb.lb_generated_500` (ELB 500s from WAF evaluation), or when a WAF custom response returns a 5xx code.",
    detect: Detect::PerDistribution(waf_not_5xx),
};

/// `guard.waf_not_5xx`: a web ACL is attached, so a person may suspect WAF; WAF blocks with
/// 403 unless a custom response says otherwise.
fn waf_not_5xx(_: &Ctx<'_>, cf: &CfCtx<'_>, _: &[OriginCtx<'_, '_>]) -> Vec<Draft> {
    waf_guard(cf).into_iter().collect()
}

fn waf_guard(cf: &CfCtx<'_>) -> Option<Draft> {
    // GetDistributionConfig answers `"WebACLId": ""` when no web ACL is attached.
    let acl = cf
        .dist
        .config
        .as_ref()?
        .web_acl_id
        .as_deref()
        .filter(|a| !a.is_empty())?;
    if cf.s.rate_5xx.unwrap_or(0.0) <= 0.0 {
        return None;
    }
    let mut d = WAF_NOT_5XX.draft();
    d.resources.push(acl.to_owned());
    d.title = "WAF is not why CloudFront answers 5xx".into();
    d.headline = d.title.clone();
    d.evidence(format!(
        "web ACL {} is attached to {}; WAF blocks answer 403 unless a custom response returns a 5xx code",
        crate::error::short(acl),
        cf.dist.id
    ));
    d.step("Only if a WAF rule uses a custom response with a 5xx status code could WAF explain these errors; check the rule actions before looking there.");
    Some(d)
}

pub(super) const EDGE_CAPACITY: Rule = Rule {
    id: "guard.cf_edge_capacity",
    kind: Kind::Cause,
    base: 0.3,
    codes: &[503],
    sub_cause_of: None,
    cause: "CloudFront is answering 503 while its origins are clean, which may be a rare capacity constraint at the edge.",
    needs: "Needs `503ErrorRate` dominant without load correlation, no Lambda@Edge or Function errors, and every custom origin linked to an ALB with no ELB or target 5xx in the window. It stays at 0.3, below the reporting bar.",
    differs: "It is what remains after `cf.origin_capacity_503` (load-correlated, origin erroring) and the edge-function rules are ruled out. Below the bar it can only appear as a candidate in an inconclusive verdict, pointing to AWS Support.",
    detect: Detect::PerDistribution(edge_capacity_rule),
};

/// `guard.cf_edge_capacity`: CloudFront 503 with no origin, function or load explanation.
fn edge_capacity_rule(_: &Ctx<'_>, cf: &CfCtx<'_>, os: &[OriginCtx<'_, '_>]) -> Vec<Draft> {
    edge_capacity(cf, os).into_iter().collect()
}

fn edge_capacity(cf: &CfCtx<'_>, os: &[OriginCtx<'_, '_>]) -> Option<Draft> {
    let s = &cf.s;
    if s.dominant() != Some(503) || s.load_correlated || s.edge_errors > 0.0 {
        return None;
    }
    let origins_clean = !os.is_empty()
        && os
            .iter()
            .all(|o| o.alb.is_some_and(|a| a.s.elb_5xx + a.s.target_5xx <= 0.0));
    if !origins_clean {
        return None;
    }
    let mut d = dist_draft(cf, &EDGE_CAPACITY);
    d.title = format!(
        "CloudFront {} answers 503 with a healthy origin",
        cf.dist.id
    );
    d.headline = format!(
        "CloudFront {} answers 503 ({} of requests) while its origins answer no 5xx: possibly a rare edge capacity constraint.",
        cf.dist.id,
        pct(s.rate_503.unwrap_or(0.0) / 100.0)
    );
    d.evidence(rate_line(s, "503", s.rate_503));
    d.evidence("origin load balancers: no ELB or target 5xx; no function errors; no load anomaly");
    d.step("Open an AWS Support case with the distribution id and the time range; collect x-amz-cf-id values of failing requests from the standard logs.");
    Some(d)
}
