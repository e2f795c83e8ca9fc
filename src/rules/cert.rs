//! Certificate rules: `cert.renewal_risk`, a warning beside the answer.

use super::catalog::{Detect, Rule};
use chrono::Duration;

use super::fix::{self, CertSlot};
use super::{Ctx, Draft, Kind};
use crate::evidence::acm::CertificateDetail;

/// A certificate is at risk when it expires within this many days.
pub const RENEWAL_HORIZON_DAYS: i64 = 45;

/// Why a certificate will not renew by itself, if it will not.
pub(crate) fn wont_renew(c: &CertificateDetail) -> Option<String> {
    if c.kind.as_deref() == Some("IMPORTED") {
        return Some("it is imported, and ACM never renews imported certificates".into());
    }
    if c.domain_validation_options
        .iter()
        .any(|v| v.validation_method.as_deref() == Some("EMAIL"))
    {
        return Some("it is email-validated: renewal waits for a person to approve mail".into());
    }
    if c.renewal_eligibility.as_deref() == Some("INELIGIBLE") {
        return Some("ACM reports it INELIGIBLE for renewal (not in use, or not renewable)".into());
    }
    let status = c
        .renewal_summary
        .as_ref()
        .and_then(|r| r.renewal_status.as_deref());
    match status {
        Some("PENDING_AUTO_RENEWAL" | "SUCCESS") => None,
        Some(other) => Some(format!(
            "its DNS renewal is {other}: the validation CNAME is probably gone"
        )),
        None => Some("no renewal is under way this close to expiry".into()),
    }
}

pub(super) const RENEWAL_RISK: Rule = Rule {
    id: "cert.renewal_risk",
    kind: Kind::Warning,
    base: 0.7,
    codes: &[],
    sub_cause_of: None,
    cause: "A certificate on the load balancer expires within 45 days and ACM will not renew it on its own.",
    needs: "For each ACM certificate on a listener of the ALBs in scope (the default ones and those served by SNI), fires when `NotAfter` falls in the next 45 days and the certificate is IMPORTED, EMAIL-validated, `RenewalEligibility` INELIGIBLE, or has a `RenewalStatus` that is missing or other than PENDING_AUTO_RENEWAL or SUCCESS.",
    differs: "A warning for a certificate that has not expired yet; once `NotAfter` passes, the case belongs to `cf.origin_cert_expired`. Ranking keeps it 0.05 below the best cause, so it never outranks an explanation of the current errors.",
    detect: Detect::Triage(renewal_risk),
};

fn renewal_risk(ctx: &Ctx<'_>) -> Vec<Draft> {
    let now = ctx.e.now;
    let mut out = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    for a in &ctx.albs {
        for (arn, c) in &a.alb.certificates {
            if seen.contains(&arn.as_str()) {
                continue;
            }
            seen.push(arn);
            let Some(not_after) = c.not_after else {
                continue;
            };
            if not_after <= now || not_after > now + Duration::days(RENEWAL_HORIZON_DAYS) {
                continue;
            }
            let Some(why) = wont_renew(c) else {
                continue;
            };
            let days = (not_after - now).num_days();
            let domain = c.domain_name.clone().unwrap_or_else(|| arn.clone());
            let mut d = RENEWAL_RISK.draft();
            d.alb_arn = Some(a.alb.arn.clone());
            d.resources.push(arn.clone());
            d.resources.push(a.alb.arn.clone());
            d.title = format!(
                "Certificate {domain} on {} expires in {days} days",
                a.alb.name()
            );
            d.headline = format!(
                "The certificate {domain} on {} expires in {days} days and will not renew by itself: {why}.",
                a.alb.name()
            );
            d.evidence(format!(
                "NotAfter {} ({days} days), Type {}, Status {}",
                not_after.format("%Y-%m-%d"),
                c.kind.as_deref().unwrap_or("?"),
                c.status.as_deref().unwrap_or("?")
            ));
            d.evidence(format!("will not renew: {why}"));
            d.step(format!(
                "Renew or replace {domain} before {}: request a DNS-validated certificate (or approve the renewal email, or reimport) and attach it to the listener.",
                not_after.format("%Y-%m-%d")
            ));
            // Each listener that serves it, as its default certificate or by SNI (only the
            // SNI ones are flagged `IsDefault: false`: `DescribeListeners` names the default
            // one without the flag).
            for l in a.alb.listeners.iter().flatten() {
                for c in l.certificates.iter().filter(|c| &c.certificate_arn == arn) {
                    let slot = if c.is_default == Some(false) {
                        CertSlot::Sni
                    } else {
                        CertSlot::Default
                    };
                    fix::push(
                        &mut d,
                        fix::replace_certificate(&l.listener_arn, slot, arn, &domain),
                    );
                }
            }
            out.push(d);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::rules::testkit::*;

    // ---------------------------------------------------------------- cert.renewal_risk

    #[test]
    fn renewal_risk_warns_beside_the_answer() {
        let o = alb_503_outage(
            Alb::new()
                .targets(&[
                    ("unused", Some("Target.NotInUse")),
                    ("unused", Some("Target.NotInUse")),
                    ("draining", Some("Target.DeregistrationInProgress")),
                ])
                .https(expiring_certificate(), TLS12_13),
        )
        .evaluate();
        assert_answer(&o, "alb.no_routable_targets");
        let f = finding(&o, "cert.renewal_risk");
        assert!(f.codes.is_empty(), "no 5xx yet: {:?}", f.codes);
        assert_evidence(f, "email-validated");
        assert_fix(
            f,
            &format!(
                "aws elbv2 modify-listener --listener-arn '{HTTPS_LISTENER_ARN}' --certificates CertificateArn=<new-certificate-arn>"
            ),
            &format!(
                "aws elbv2 modify-listener --listener-arn '{HTTPS_LISTENER_ARN}' --certificates CertificateArn='{CERT_ARN}'"
            ),
        );
    }

    #[test]
    fn renewal_risk_for_an_imported_certificate() {
        let mut c = certificate("*.example.com", &["example.com"]);
        c.kind = Some("IMPORTED".into());
        c.renewal_eligibility = Some("INELIGIBLE".into());
        c.renewal_summary = None;
        c.not_after = Some(now() + Duration::days(30));
        let o = keepalive()
            .alb(Alb::new().idle_timeout(120).https(c, TLS12_13))
            .evaluate();
        let f = finding(&o, "cert.renewal_risk");
        assert_evidence(f, "imported");
    }

    #[test]
    fn renewal_risk_silent_for_a_renewing_dns_certificate() {
        let mut c = renewal(
            certificate("*.example.com", &["example.com"]),
            "PENDING_AUTO_RENEWAL",
        );
        c.not_after = Some(now() + Duration::days(20));
        let o = cf_502_origin_unreachable(Alb::new().https(c, TLS12_13), Dist::new()).evaluate();
        assert_silent(&o, "cert.renewal_risk");
    }

    #[test]
    fn renewal_risk_silent_for_an_expired_certificate() {
        let o = cf_cert_expired(Dist::new()).evaluate();
        assert_silent(&o, "cert.renewal_risk");
        assert_answer(&o, "cf.origin_cert_expired");
    }
}
