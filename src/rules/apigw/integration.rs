//! API Gateway rules about integrations: their timeout, and HTTP backends (load balancers of
//! this account are linked to their own triage).

use super::{ApiCtx, ms_as_secs};
use crate::evidence::apigw::Integration;
use crate::evidence::cloudwatch::alb_metric;
use crate::rules::catalog::{Detect, Rule};
use crate::rules::signals::{CORRELATED, REACHED, Span, View, rank_correlation};
use crate::rules::{Ctx, Draft, Kind, count, pct};
use crate::scope::ALB_NAMESPACE;

pub(crate) const INTEGRATION_TIMEOUT: Rule = Rule {
    id: "apigw.integration_timeout",
    kind: Kind::Cause,
    base: 0.8,
    codes: &[504, 503],
    sub_cause_of: None,
    cause: "The backend does not answer within the integration timeout (REST: 29 s by default, answering 504; HTTP APIs: 30 s at most, answering 503), so API Gateway gives up.",
    needs: "Needs `IntegrationLatency` Maximum within 10% of an integration's timeout from the onset of the errors to the state change; for a Lambda integration, the function's Duration reaching the same ceiling adds confidence.",
    differs: "A function whose own timeout is shorter is stopped first and answers 502 (`apigw.lambda_timeout`); a backend that answers 5xx quickly is `apigw.backend_5xx`.",
    detect: Detect::Api(integration_timeout),
};

fn integration_timeout(_: &Ctx<'_>, a: &ApiCtx<'_>) -> Vec<Draft> {
    if !a.has_errors() {
        return Vec::new();
    }
    let Some(lat) = a.s.integration_latency_max else {
        return Vec::new();
    };
    let Some(integrations) = &a.api.integrations else {
        return Vec::new();
    };
    // The integrations whose timeout the latency reached.
    let reached: Vec<&Integration> = integrations
        .iter()
        .filter(|i| i.kind != "MOCK")
        .filter(|i| {
            let t = i.timeout_or_default(a.api.kind) as f64;
            lat >= REACHED * t && lat <= t * 1.1
        })
        .collect();
    let Some(first) = reached.first() else {
        return Vec::new();
    };
    let timeout = first.timeout_or_default(a.api.kind) as f64;
    let mut d = a.draft(&INTEGRATION_TIMEOUT);
    d.codes = vec![a.timeout_code()];
    d.title = format!(
        "{} times out waiting for its backend ({})",
        a.api.label(),
        ms_as_secs(timeout)
    );
    d.headline = format!(
        "{}'s integration times out at {}: the backend does not answer in time and API Gateway answers {}.",
        a.api.label(),
        ms_as_secs(timeout),
        a.timeout_code()
    );
    d.evidence(a.errors_line());
    d.evidence(format!(
        "IntegrationLatency Maximum {} ms since the errors began, against an integration timeout of {} ms ({})",
        count(lat),
        count(timeout),
        reached
            .iter()
            .map(|i| i.route.as_str())
            .take(3)
            .collect::<Vec<_>>()
            .join(", ")
    ));
    let mut lambda_named = None;
    for (f, s) in a.functions() {
        if !reached.iter().any(|i| f.routes.contains(&i.route)) {
            continue;
        }
        let own = f
            .config
            .as_ref()
            .and_then(|c| c.timeout)
            .map(|t| t as f64 * 1000.0);
        if own.is_some_and(|t| t < timeout) {
            // The function stops first: that is apigw.lambda_timeout, not this.
            d.competes(super::LAMBDA_TIMEOUT.id);
            continue;
        }
        if s.duration_max.is_some_and(|m| m >= REACHED * timeout) {
            d.corroborate(format!(
                "function {} runs as long: Duration Maximum {} ms (its own timeout {})",
                f.name,
                count(s.duration_max.unwrap_or_default()),
                own.map(ms_as_secs).unwrap_or_else(|| "unknown".into())
            ));
        }
        lambda_named = Some((f.name.clone(), own));
    }
    match lambda_named {
        Some((name, own)) => {
            d.step(format!(
                "Find what makes {name} slow now (its logs, the latency of what it calls); API Gateway answers {} after {} whatever the function does.",
                a.timeout_code(),
                ms_as_secs(timeout)
            ));
            if let Some(own) = own {
                d.step(format!(
                    "Raising the timeout of {name} (now {}) changes nothing for clients: it keeps running after API Gateway gave up. Lower it below {} so failures show as function errors, or make the work asynchronous.",
                    ms_as_secs(own),
                    ms_as_secs(timeout)
                ));
            }
        }
        None => d.step(format!(
            "Find why the backend of {} is slow now (its own latency metrics and logs); fix capacity or the slow dependency first.",
            first.route
        )),
    }
    d.step(match a.api.kind {
        crate::evidence::apigw::ApiKind::Rest => "Only for requests that legitimately run long: raise the integration's timeoutInMillis (above 29 s needs a quota increase, regional and private APIs only), or move the work behind an asynchronous call.".to_owned(),
        crate::evidence::apigw::ApiKind::Http => "HTTP APIs cannot wait more than 30 s: make long work asynchronous.".to_owned(),
    });
    vec![d]
}

pub(crate) const BACKEND_5XX: Rule = Rule {
    id: "apigw.backend_5xx",
    kind: Kind::Cause,
    base: 0.6,
    codes: &[500, 502, 503, 504],
    sub_cause_of: None,
    cause: "The HTTP backend behind the integration answers 5xx itself, and API Gateway passes them on.",
    needs: "Needs an HTTP, HTTP_PROXY or VPC-link integration, the API's 5xx above the noise floor and `IntegrationLatency` below the integration timeout (the backend answers, with errors). When the backend is a load balancer of this account, its own triage is linked (`apigw.backend_passthrough`).",
    differs: "Timeouts are `apigw.integration_timeout`; Lambda integrations have their own rules.",
    detect: Detect::Api(backend_5xx),
};

fn backend_5xx(_: &Ctx<'_>, a: &ApiCtx<'_>) -> Vec<Draft> {
    if !a.has_errors() {
        return Vec::new();
    }
    let Some(integrations) = &a.api.integrations else {
        return Vec::new();
    };
    let http: Vec<&Integration> = integrations
        .iter()
        .filter(|i| i.is_http() || i.via_vpc_link())
        .collect();
    let Some(first) = http.first() else {
        return Vec::new();
    };
    let timeout = first.timeout_or_default(a.api.kind) as f64;
    if a.s
        .integration_latency_max
        .is_some_and(|l| l >= REACHED * timeout)
    {
        return Vec::new();
    }
    let mut d = a.draft(&BACKEND_5XX);
    let backend = first
        .uri
        .as_deref()
        .map(crate::error::short)
        .unwrap_or_else(|| "its backend".into());
    d.title = format!("The backend of {} answers 5xx", a.api.label());
    d.headline = format!(
        "The HTTP backend of {} ({}) answers 5xx, and API Gateway passes them on.",
        a.api.label(),
        backend
    );
    d.evidence(a.errors_line());
    d.evidence(format!(
        "{} integration{}: {} {}",
        http.len(),
        if http.len() == 1 { "" } else { "s" },
        first.route,
        backend
    ));
    if let Some(l) = a.s.integration_latency_max {
        d.evidence(format!(
            "IntegrationLatency Maximum {} ms, below the {} timeout: the backend answers",
            count(l),
            ms_as_secs(timeout)
        ));
    }
    if a.api.backends.is_empty() {
        d.step(format!(
            "Look at the backend's own errors and logs ({backend}); API Gateway only passes them on."
        ));
    } else {
        d.step(
            "Triage the load balancer behind the integration: see the linked findings.".to_owned(),
        );
    }
    vec![d]
}

pub(crate) const BACKEND_PASSTHROUGH: Rule = Rule {
    id: "apigw.backend_passthrough",
    kind: Kind::Link,
    base: 0.8,
    codes: &[500, 502, 503, 504],
    sub_cause_of: None,
    cause: "API Gateway is passing on the 5xx of a load balancer of this account behind its integration; the cause is found on that load balancer.",
    needs: "Needs an integration whose backend is a load balancer of this account (an HTTP integration URI naming its DNS name, a REST VPC link targeting it, an HTTP API VPC-link integration naming its listener) and that load balancer's ELB plus target 5xx above 0 and at least 30% of the API's 5xx, or following them per minute (rank correlation 0.6+); for a Network Load Balancer (no HTTP codes), its own trouble in W (unhealthy or no targets, rising resets, TLS or port allocation errors).",
    differs: "It is a link, not a cause: ranking keeps it 0.05 below the best cause on the same load balancer, and that cause is the answer.",
    detect: Detect::Api(backend_passthrough),
};

fn backend_passthrough(ctx: &Ctx<'_>, a: &ApiCtx<'_>) -> Vec<Draft> {
    if !a.has_errors() {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    for b in &a.api.backends {
        if seen.contains(&b.lb_arn.as_str()) {
            continue;
        }
        seen.push(&b.lb_arn);
        let Some(lb) = ctx.alb(&b.lb_arn) else {
            continue;
        };
        if let Some(trouble) = crate::rules::nlb::trouble(lb) {
            let mut d = a.draft(&BACKEND_PASSTHROUGH);
            d.alb_arn = Some(b.lb_arn.clone());
            d.resources.push(b.lb_arn.clone());
            d.title = format!(
                "{} passes on the failures of Network Load Balancer {}",
                a.api.label(),
                lb.alb.name()
            );
            d.headline = format!(
                "{} answers 5xx because its backend, the Network Load Balancer {}, fails ({trouble}).",
                a.api.label(),
                lb.alb.name()
            );
            d.evidence(a.errors_line());
            d.evidence(format!(
                "backend NLB {} ({}: {}): {trouble}",
                lb.alb.name(),
                b.route,
                b.how
            ));
            d.step(format!(
                "Triage the Network Load Balancer {}: the cause is behind the VPC link, see the finding above.",
                lb.alb.name()
            ));
            out.push(d);
            continue;
        }
        let lb_errors = lb.s.elb_5xx + lb.s.target_5xx;
        if lb_errors <= 0.0 {
            continue;
        }
        let dim = lb.alb.dimension();
        let view = |name: &str| View {
            series: ctx
                .e
                .metrics
                .find(ALB_NAMESPACE, name, &[("LoadBalancer", dim)], "Sum"),
        };
        let (elb, tgt) = (view(alb_metric::ELB_5XX), view(alb_metric::TARGET_5XX));
        let api5 = super::super::signals::errors_view(&ctx.e.metrics, a.api);
        let span = Span {
            start: a.s.b.start,
            end: a.s.w.end,
        };
        let pairs: Vec<(f64, f64)> = span
            .each_minute()
            .filter_map(|t| {
                Some((
                    api5.at(t)?,
                    elb.at(t).unwrap_or(0.0) + tgt.at(t).unwrap_or(0.0),
                ))
            })
            .collect();
        let corr = rank_correlation(&pairs);
        let share = crate::rules::signals::share(lb_errors, a.s.errors);
        if share < crate::rules::PASSTHROUGH_SHARE && !corr.is_some_and(|c| c >= CORRELATED) {
            continue;
        }
        let mut d = a.draft(&BACKEND_PASSTHROUGH);
        d.alb_arn = Some(b.lb_arn.clone());
        d.resources.push(b.lb_arn.clone());
        d.title = format!(
            "{} passes on the 5xx of load balancer {}",
            a.api.label(),
            lb.alb.name()
        );
        d.headline = format!(
            "{} passes on the 5xx of its backend load balancer {} ({} in {} min).",
            a.api.label(),
            lb.alb.name(),
            count(lb_errors),
            lb.s.w.minutes()
        );
        d.evidence(a.errors_line());
        d.evidence(format!(
            "backend {} ({}: {}): ELB 5xx + target 5xx {} in {} min, {} of the API's",
            lb.alb.name(),
            b.route,
            b.how,
            count(lb_errors),
            lb.s.w.minutes(),
            pct(share.min(1.0))
        ));
        if let Some(c) = corr.filter(|c| *c >= CORRELATED) {
            d.evidence(format!(
                "the API's 5xx per minute track the load balancer's (rank correlation {c:.2})"
            ));
        }
        d.step(format!(
            "Triage the load balancer {}: the cause is behind the integration, see the finding above.",
            lb.alb.name()
        ));
        out.push(d);
    }
    out
}
