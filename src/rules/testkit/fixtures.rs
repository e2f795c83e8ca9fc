//! Incidents several rule tests share.

use super::*;

// ---------------------------------------------------------------- ALB scenarios

pub(crate) const ELB_5XX: &str = "HTTPCode_ELB_5XX_Count";

/// ELB 503 for every request from W on; no request reaches a target (RequestCount stops).
pub(crate) fn alb_503_outage(alb: Alb) -> Scenario {
    Scenario::new(alb_alarm(ELB_5XX))
        .alb(alb)
        .requests_stop_in_w()
        .target_2xx(|m| if in_w(m) { 0.0 } else { 1.0 })
        .elb(503, step(1.0))
}

/// `web-tg` has no targets at all: ELB 503.
pub(crate) fn no_registered_targets() -> Scenario {
    alb_503_outage(Alb::new().targets(&[])).healthy_hosts(|_| 0.0)
}

/// Targets registered but none can take traffic (two `unused`, one `draining`): ELB 503.
pub(crate) fn no_routable_targets() -> Scenario {
    alb_503_outage(Alb::new().targets(&[
        ("unused", Some("Target.NotInUse")),
        ("unused", Some("Target.NotInUse")),
        ("draining", Some("Target.DeregistrationInProgress")),
    ]))
}

/// Every target fails a health check on a path that answers 404, while users are served:
/// an alarm on UnHealthyHostCount.
pub(crate) fn all_unhealthy_wrong_health_path() -> Scenario {
    Scenario::new(tg_alarm("UnHealthyHostCount", "Maximum"))
        .alb(
            Alb::new()
                .focus_tg()
                .all_targets(3, "unhealthy", Some("Target.ResponseCodeMismatch")),
        )
        .requests()
        .target_2xx(flat(1.0))
        .healthy_hosts(|m| if in_w(m) { 0.0 } else { 3.0 })
        .tg_metric("UnHealthyHostCount", "Maximum", |m| {
            Some(if in_w(m) { 3.0 } else { 0.0 })
        })
        .response_time("Average", |_| Some(0.12))
}

/// 1% of requests end in ELB 502 in every minute, quiet or busy, for the whole two hours;
/// targets healthy, no connection or TLS errors; idle timeout 120 s.
pub(crate) fn keepalive() -> Scenario {
    Scenario::new(alb_alarm(ELB_5XX))
        .alb(Alb::new().idle_timeout(120))
        .requests()
        .elb(502, flat(0.01))
        .target_2xx(flat(0.99))
        .response_time("Average", |_| Some(0.15))
        .response_time("Maximum", |_| Some(2.0))
}

/// ELB 502 from W on with connection errors; one of three targets fails health checks.
pub(crate) fn connection_refused() -> Scenario {
    Scenario::new(alb_alarm(ELB_5XX))
        .alb(Alb::new().targets(&[
            ("healthy", None),
            ("healthy", None),
            ("unhealthy", Some("Target.FailedHealthChecks")),
        ]))
        .requests()
        .elb(502, step(0.3))
        .alb_count("TargetConnectionErrorCount", step(0.3))
        .target_2xx(|m| if in_w(m) { 0.7 } else { 1.0 })
        .response_time("Average", |_| Some(0.15))
}

/// A deploy: one target draining from W on, deregistration delay 5 s against requests up to
/// 20 s; 2% of requests end in ELB 502 from the deploy on.
pub(crate) fn deregistration(alb: Alb) -> Scenario {
    Scenario::new(alb_alarm(ELB_5XX))
        .alb(alb)
        .requests()
        .elb(502, step(0.02))
        .target_2xx(|m| if in_w(m) { 0.98 } else { 1.0 })
        .response_time("Average", |_| Some(0.3))
        .response_time("Maximum", |_| Some(20.0))
}

pub(crate) fn draining_alb() -> Alb {
    Alb::new().targets(&[
        ("healthy", None),
        ("healthy", None),
        ("draining", Some("Target.DeregistrationInProgress")),
    ])
}

/// 10% of requests end in ELB 502 from W on, independent of load; targets healthy, no
/// connection or TLS errors.
pub(crate) fn malformed() -> Scenario {
    Scenario::new(alb_alarm(ELB_5XX))
        .alb(Alb::new())
        .requests()
        .elb(502, step(0.1))
        .target_2xx(|m| if in_w(m) { 0.9 } else { 1.0 })
        .response_time("Average", |_| Some(0.15))
        .response_time("Maximum", |_| Some(2.0))
}

/// From W on every request times out connecting (ELB 504, connection errors), every target
/// fails health checks with Target.Timeout, no TargetResponseTime in W.
pub(crate) fn unreachable() -> Scenario {
    Scenario::new(alb_alarm(ELB_5XX))
        .alb(Alb::new().all_targets(3, "unhealthy", Some("Target.Timeout")))
        .requests()
        .elb(504, step(1.0))
        .alb_count("TargetConnectionErrorCount", step(3.0))
        .target_2xx(|m| if in_w(m) { 0.0 } else { 1.0 })
        .response_time("Maximum", |m| (!in_w(m)).then_some(0.4))
        .healthy_hosts(|m| if in_w(m) { 0.0 } else { 3.0 })
}

/// From W on 5% of requests end in ELB 504 after TargetResponseTime reaches the 60 s idle
/// timeout; connections open fine, targets healthy.
pub(crate) fn response_timeout(alb: Alb, timeout: f64) -> Scenario {
    Scenario::new(alb_alarm(ELB_5XX))
        .alb(alb)
        .requests()
        .elb(504, step(0.05))
        .target_2xx(|m| if in_w(m) { 0.95 } else { 1.0 })
        .response_time("Maximum", move |m| {
            Some(if in_w(m) { timeout - 0.1 } else { 2.0 })
        })
        .response_time("p99", move |m| {
            Some(if in_w(m) { timeout - 1.0 } else { 1.2 })
        })
}

/// The error ratio rises with load (2% quiet, 12% busy) in W and B alike: ELB 504 and
/// connection errors following RequestCount, p99 latency following it, one target of three
/// failing health checks with Target.Timeout.
pub(crate) fn overloaded() -> Scenario {
    Scenario::new(alb_alarm(ELB_5XX))
        .alb(Alb::new().targets(&[
            ("healthy", None),
            ("healthy", None),
            ("unhealthy", Some("Target.Timeout")),
        ]))
        .requests()
        .elb(504, with_load)
        .alb_count("TargetConnectionErrorCount", |m| 0.5 * with_load(m))
        .target_2xx(|m| 1.0 - with_load(m))
        .response_time("p99", |m| Some(2.0 + 20.0 * with_load(m)))
        .response_time("Maximum", |m| Some(7.0 + 20.0 * with_load(m)))
}

/// HTTPS target group; from W on TLS handshakes to the targets fail: ELB 502 and
/// TargetTLSNegotiationErrorCount.
pub(crate) fn tls_handshake(protocol: &str) -> Scenario {
    Scenario::new(alb_alarm(ELB_5XX))
        .alb(Alb::new().tg_protocol(protocol))
        .requests()
        .elb(502, step(0.3))
        .alb_count("TargetTLSNegotiationErrorCount", step(0.3))
        .target_2xx(|m| if in_w(m) { 0.7 } else { 1.0 })
}

/// A Lambda target group whose function fails from W on (LambdaUserError, ELB 502).
pub(crate) fn lambda_error() -> Scenario {
    Scenario::new(alb_alarm(ELB_5XX))
        .alb(Alb::new().lambda_target())
        .requests()
        .elb(502, step(0.2))
        .alb_count("LambdaUserError", step(0.2))
        .target_2xx(|m| if in_w(m) { 0.8 } else { 1.0 })
}

/// From W on the application answers 20% of requests with 5xx; the load balancer adds none.
pub(crate) fn app_5xx() -> Scenario {
    Scenario::new(alb_alarm("HTTPCode_Target_5XX_Count"))
        .alb(Alb::new())
        .requests()
        .target_5xx(step(0.2))
        .target_2xx(|m| if in_w(m) { 0.8 } else { 1.0 })
        .response_time("Average", |_| Some(0.2))
}

/// From W on the load balancer answers 30% of requests with 500 itself (`alb` decides
/// whether an authenticate action exists); `auth_errors` adds ELBAuthError.
pub(crate) fn lb_500(alb: Alb, auth_errors: bool) -> Scenario {
    let s = Scenario::new(alb_alarm(ELB_5XX))
        .alb(alb)
        .requests()
        .elb(500, step(0.3))
        .target_2xx(|m| if in_w(m) { 0.7 } else { 1.0 });
    if auth_errors {
        s.alb_count("ELBAuthError", step(0.3))
    } else {
        s
    }
}

// ---------------------------------------------------------------- CloudFront scenarios

pub(crate) const CF_5XX: &str = "5xxErrorRate";
pub(crate) const TLS12_13: &str = "ELBSecurityPolicy-TLS13-1-2-2021-06";
pub(crate) const TLS13_ONLY: &str = "ELBSecurityPolicy-TLS13-1-3-2021-06";

/// An ALB whose HTTPS:443 listener has a valid certificate for `*.example.com`.
pub(crate) fn https_alb() -> Alb {
    Alb::new().https(certificate("*.example.com", &["example.com"]), TLS12_13)
}

/// A CloudFront alarm whose 502 rate steps to 40% in W while the origin ALB sees its requests
/// fall away (CloudFront cannot complete a connection to it).
pub(crate) fn cf_502_origin_unreachable(alb: Alb, dist: Dist) -> Scenario {
    Scenario::new(cf_alarm(CF_5XX))
        .dist(dist)
        .alb(alb)
        .cf_requests(10.0)
        .cf_errors(502, step(0.4))
        .requests_stop_in_w()
        .target_2xx(|m| if in_w(m) { 0.0 } else { 1.0 })
}

/// The ALB is fine and busy; CloudFront's errors come from the edge.
pub(crate) fn cf_with_clean_origin(dist: Dist) -> Scenario {
    Scenario::new(cf_alarm(CF_5XX))
        .dist(dist)
        .alb(https_alb())
        .cf_requests(10.0)
        .requests()
        .target_2xx(flat(1.0))
}

/// The origin certificate `*.example.com` expired two days ago; DNS renewal failed.
pub(crate) fn expired_certificate() -> crate::evidence::acm::CertificateDetail {
    let mut c = renewal(certificate("*.example.com", &["example.com"]), "FAILED");
    c.not_after = Some(now() - Duration::days(2));
    c.status = Some("EXPIRED".into());
    c
}

/// An email-validated certificate that expires in 20 days, renewal waiting for approval.
pub(crate) fn expiring_certificate() -> crate::evidence::acm::CertificateDetail {
    let mut c = renewal(
        validated_by(certificate("*.example.com", &["example.com"]), "EMAIL"),
        "PENDING_VALIDATION",
    );
    c.not_after = Some(now() + Duration::days(20));
    c
}

pub(crate) fn cf_cert_expired(dist: Dist) -> Scenario {
    cf_502_origin_unreachable(Alb::new().https(expired_certificate(), TLS12_13), dist)
}

/// The origin is the ALB's raw DNS name, the certificate covers www.example.com only.
pub(crate) fn cf_hostname_mismatch(dist: Dist) -> Scenario {
    cf_502_origin_unreachable(
        Alb::new().https(certificate("www.example.com", &["example.com"]), TLS12_13),
        dist.origin_domain(LB_DNS),
    )
    .alb_count("ClientTLSNegotiationErrorCount", |m| {
        if in_w(m) { 0.4 } else { 0.0 }
    })
}

pub(crate) fn cf_tls_mismatch(policy: &str) -> Scenario {
    cf_502_origin_unreachable(
        Alb::new().https(certificate("*.example.com", &["example.com"]), policy),
        Dist::new().ssl_protocols(&["TLSv1.2"]),
    )
}

/// 20% of CloudFront requests end in 504 from W on; OriginLatency reaches 29.5 s against
/// OriginReadTimeout 30 s; the ALB (idle timeout `idle`) sees TargetResponseTime near 30 s.
pub(crate) fn cf_slow_origin(idle: u32, alb_504: bool) -> Scenario {
    let s = Scenario::new(cf_alarm(CF_5XX))
        .dist(Dist::new().read_timeout(30))
        .alb(https_alb().idle_timeout(idle))
        .cf_requests(1.0)
        .cf_errors(504, step(0.2))
        .origin_latency("p99", |m| Some(if in_w(m) { 29_500.0 } else { 800.0 }))
        .origin_latency("Maximum", |m| {
            Some(if in_w(m) { 30_000.0 } else { 1_500.0 })
        })
        .origin_latency("Average", |m| Some(if in_w(m) { 6_000.0 } else { 200.0 }))
        .requests()
        .target_2xx(|m| if in_w(m) { 0.8 } else { 1.0 })
        .response_time("p99", |m| Some(if in_w(m) { 29.0 } else { 0.7 }))
        .response_time("Maximum", move |m| {
            Some(if in_w(m) {
                f64::from(idle).min(45.0) - 0.1
            } else {
                1.4
            })
        });
    if alb_504 { s.elb(504, step(0.2)) } else { s }
}

/// An internal ALB behind CloudFront: 504 from W on, no OriginLatency in W, ALB requests gone.
pub(crate) fn cf_internal_origin(dist: Dist) -> Scenario {
    Scenario::new(cf_alarm(CF_5XX))
        .dist(dist)
        .alb(https_alb().internal())
        .cf_requests(10.0)
        .cf_errors(504, step(0.5))
        .origin_latency("Average", |m| (!in_w(m)).then_some(150.0))
        .requests_stop_in_w()
}

/// Keep-alive 502s at the ALB (1% of requests), passed on one for one by CloudFront (no
/// caching: CloudFront requests = ALB requests).
pub(crate) fn cf_passthrough_keepalive() -> Scenario {
    Scenario::new(cf_alarm(CF_5XX))
        .dist(Dist::new())
        .alb(https_alb().idle_timeout(120))
        .cf_requests(1.0)
        .cf_errors(502, flat(0.01))
        .requests()
        .elb(502, flat(0.01))
        .target_2xx(flat(0.99))
}

/// CloudFront 503 rising with load, the origin ALB answering ELB 503 in step with it.
pub(crate) fn cf_origin_capacity() -> Scenario {
    Scenario::new(cf_alarm(CF_5XX))
        .dist(Dist::new())
        .alb(https_alb())
        .cf_requests(1.0)
        .cf_errors(503, with_load)
        .requests()
        .elb(503, with_load)
        .target_2xx(|m| 1.0 - with_load(m))
}

/// A Lambda@Edge function returns invalid responses from W on: CloudFront 502.
pub(crate) fn cf_lambda_validation() -> Scenario {
    cf_with_clean_origin(Dist::new().lambda_edge())
        .cf_errors(502, step(0.3))
        .lambda_edge_metric("LambdaValidationError", step(0.3))
}

/// A Lambda@Edge function is throttled as traffic peaks: CloudFront 503 rising with load.
pub(crate) fn cf_lambda_throttle() -> Scenario {
    cf_with_clean_origin(Dist::new().lambda_edge())
        .cf_errors(503, with_load)
        .lambda_edge_metric("LambdaLimitExceededErrors", with_load)
}

/// A CloudFront Function fails from W on: CloudFront 502/503.
pub(crate) fn cf_function_error() -> Scenario {
    cf_with_clean_origin(Dist::new().function())
        .cf_errors(503, step(0.3))
        .function_metric("FunctionExecutionErrors", step(0.3))
}

/// CloudFront 503 at 5% from W on, the origin clean, nothing following load.
pub(crate) fn cf_edge_503() -> Scenario {
    cf_with_clean_origin(Dist::new()).cf_errors(503, step(0.05))
}
