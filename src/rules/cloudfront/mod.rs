//! CloudFront rules (`docs/rules.md`): the edge, the origin link, and the ALB behind it.
//! [`tls`] holds the origin certificate and protocol causes, [`origin`] the other causes on
//! the way to the origin, [`edge`] those at CloudFront's edge; the origin context and the
//! helpers they share are here.

mod edge;
pub(crate) use edge::four_xx_note;
mod origin;
#[cfg(test)]
mod tests;
mod tls;

pub(super) use self::edge::{
    EDGE_CAPACITY, FUNCTION_ERROR, LAMBDA_EDGE_EXECUTION_OR_THROTTLE, LAMBDA_EDGE_VALIDATION_ERROR,
    WAF_NOT_5XX,
};
pub(super) use self::origin::{
    ORIGIN_BLOCKED_OR_PRIVATE, ORIGIN_CAPACITY_503, ORIGIN_DNS_FAILURE, ORIGIN_PASSTHROUGH,
    ORIGIN_PORT_MISMATCH, ORIGIN_READ_TIMEOUT,
};
pub(super) use self::tls::{
    ORIGIN_CERT_EXPIRED, ORIGIN_CERT_HOSTNAME_MISMATCH, ORIGIN_TLS_PROTOCOL_MISMATCH,
};

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
use super::PASSTHROUGH_SHARE;

/// One origin with what was found behind it.
pub(crate) struct OriginCtx<'a, 'b> {
    pub cf: &'a CfCtx<'b>,
    pub cfg: &'a DistributionConfig,
    pub origin: &'a Origin,
    pub link: Option<&'a OriginLink>,
    pub alb: Option<&'a AlbCtx<'b>>,
    /// The Classic Load Balancer behind it, when it is one.
    pub classic: Option<&'a crate::rules::clb::ClbCtx<'b>>,
    /// The API Gateway stage behind it, when it is an `execute-api` endpoint.
    pub api: Option<&'a crate::rules::apigw::ApiCtx<'b>>,
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

    /// A field of the origin's `CustomOriginConfig` as read, for a command's rollback, or what
    /// is missing.
    fn custom_field(
        &self,
        field: &str,
        value: impl FnOnce(
            &crate::evidence::cloudfront::CustomOriginConfig,
        ) -> Option<serde_json::Value>,
    ) -> Result<serde_json::Value, String> {
        self.origin
            .custom_origin_config
            .as_ref()
            .and_then(value)
            .ok_or_else(|| {
                format!(
                    "{field} of origin `{}` was not in the distribution config",
                    self.origin.id
                )
            })
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

    /// Every certificate of the HTTPS listener, the default one first, then those it serves
    /// by SNI, each with its ACM details when they were read.
    fn listener_certificates(&self) -> Vec<ListenerCert<'_>> {
        let (Some(l), Some(alb)) = (self.https_listener(), self.alb) else {
            return Vec::new();
        };
        let mut certs: Vec<ListenerCert<'_>> = l
            .certificates
            .iter()
            .map(|c| ListenerCert {
                arn: c.certificate_arn.as_str(),
                detail: alb.alb.certificates.get(&c.certificate_arn),
                is_default: c.is_default == Some(true),
            })
            .collect();
        // The default one first (a listener always has exactly one; without the flag, the
        // first listed, as `DescribeListeners` names only it).
        certs.sort_by_key(|c| !c.is_default);
        if let Some(first) = certs.first_mut() {
            first.is_default = true;
        }
        certs
    }

    /// The hosts CloudFront names in its TLS handshake with the origin (SNI): the origin's
    /// domain, or, when the behaviour forwards the viewer's Host header, the viewer's host
    /// (any alias of the distribution).
    fn sni_hosts(&self) -> Vec<&str> {
        let forwarded = self
            .behavior
            .and_then(|b| forwards_host(b, &self.cf.dist.origin_request_policies));
        let aliases: Vec<&str> = self
            .cfg
            .aliases
            .iter()
            .flat_map(|a| &a.items)
            .map(String::as_str)
            .collect();
        if forwarded == Some(true) && !aliases.is_empty() {
            aliases
        } else {
            vec![self.origin.domain_name.trim_end_matches('.')]
        }
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

/// One certificate of a listener.
#[derive(Debug, Clone, Copy)]
struct ListenerCert<'a> {
    arn: &'a str,
    /// Its ACM details, when they could be read.
    detail: Option<&'a CertificateDetail>,
    is_default: bool,
}

impl ListenerCert<'_> {
    /// The names it covers (its subject alternative names and its domain name).
    fn names(&self) -> Vec<String> {
        let Some(d) = self.detail else {
            return Vec::new();
        };
        let mut names = d.subject_alternative_names.clone();
        if let Some(dn) = &d.domain_name
            && !names.contains(dn)
        {
            names.push(dn.clone());
        }
        names
    }

    fn covers(&self, host: &str) -> bool {
        covered(&self.names(), host)
    }
}

/// Whether a certificate is expired at `now` (by date, or as ACM says).
fn expired(d: &CertificateDetail, now: chrono::DateTime<chrono::Utc>) -> bool {
    d.not_after.is_some_and(|t| t <= now) || d.status.as_deref() == Some("EXPIRED")
}

/// The certificate a listener serves for `host`, as ALB chooses it: one whose names cover the
/// host (a valid one when several do: ALB's selection prefers it), else the default. `None`
/// when the listener has no certificate.
fn served_for<'a>(
    certs: &[ListenerCert<'a>],
    host: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Option<ListenerCert<'a>> {
    let covering: Vec<&ListenerCert<'a>> = certs.iter().filter(|c| c.covers(host)).collect();
    covering
        .iter()
        .find(|c| c.detail.is_some_and(|d| !expired(d, now)))
        .or_else(|| covering.first())
        .copied()
        .or_else(|| certs.first())
        .copied()
}

/// Whether the Host header CloudFront sends is the viewer's (`Some(true)`), the origin
/// domain (`Some(false)`), or unknown because the policy could not be read (`None`).
pub(crate) fn forwards_host(
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
            let classic = link
                .and_then(|l| l.classic_name.as_deref())
                .and_then(|n| ctx.classic.iter().find(|c| c.clb.name == n));
            let api = link.and_then(|l| l.api.as_ref()).and_then(|(id, _)| {
                ctx.apis
                    .iter()
                    .find(|a| a.api.id.as_deref() == Some(id.as_str()))
            });
            OriginCtx {
                cf,
                cfg,
                origin,
                link,
                alb,
                classic,
                api,
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
