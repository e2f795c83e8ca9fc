//! Each API Gateway rule: a positive case and a near miss.

use crate::rules::testkit::*;

/// 30% of requests fail from W on.
fn failing() -> Scenario {
    Scenario::new(api_alarm())
}

#[test]
fn lambda_timeout_when_the_function_stops_first() {
    let s = failing()
        .api(Api::lambda_proxy().config(|c| c.timeout = Some(10)))
        .api_errors(step(0.3))
        .fn_metric("Errors", "Sum", |m| {
            Some(if in_w(m) {
                (load(m) * 0.3).round()
            } else {
                0.0
            })
        })
        .fn_metric("Duration", "Maximum", |m| {
            Some(if in_w(m) { 10_000.0 } else { 900.0 })
        });
    let o = s.evaluate();
    assert_answer(&o, "apigw.lambda_timeout");
    assert_evidence(
        finding(&o, "apigw.lambda_timeout"),
        "Timeout 10 s, integration timeout 29 s",
    );
    // The fix stops one second under the integration's timeout.
    assert_fix(
        finding(&o, "apigw.lambda_timeout"),
        "aws lambda update-function-configuration --function-name 'orders' --timeout 28",
        "aws lambda update-function-configuration --function-name 'orders' --timeout 10",
    );
    assert_not_answer(&o, "apigw.integration_timeout");
    // Near miss: the function errs well below its timeout.
    let s = failing()
        .api(Api::lambda_proxy().config(|c| c.timeout = Some(10)))
        .api_errors(step(0.3))
        .fn_metric("Errors", "Sum", |m| {
            Some(if in_w(m) {
                (load(m) * 0.3).round()
            } else {
                0.0
            })
        })
        .fn_metric("Duration", "Maximum", |_| Some(6_000.0));
    let o = s.evaluate();
    assert_silent(&o, "apigw.lambda_timeout");
    assert_answer(&o, "apigw.lambda_errors");
}

#[test]
fn integration_timeout_when_the_integration_gives_up_first() {
    let s = failing()
        .api(Api::lambda_proxy())
        .api_errors(step(0.3))
        .api_metric("IntegrationLatency", "Maximum", |m| {
            Some(if in_w(m) { 29_000.0 } else { 800.0 })
        })
        .fn_metric("Duration", "Maximum", |m| {
            Some(if in_w(m) { 29_500.0 } else { 800.0 })
        })
        // Decoy: the function's errors explain a tenth of the 5xx.
        .fn_metric("Errors", "Sum", |m| {
            Some(if in_w(m) {
                (load(m) * 0.03).round()
            } else {
                0.0
            })
        });
    let o = s.evaluate();
    assert_answer(&o, "apigw.integration_timeout");
    assert_eq!(finding(&o, "apigw.integration_timeout").codes, vec![504]);
    assert_silent(&o, "apigw.lambda_errors");
    // Near miss: latency well under the timeout.
    let o = failing()
        .api(Api::lambda_proxy())
        .api_errors(step(0.3))
        .api_metric("IntegrationLatency", "Maximum", |_| Some(12_000.0))
        .evaluate();
    assert_silent(&o, "apigw.integration_timeout");
}

#[test]
fn lambda_errors_after_a_change() {
    let s = failing()
        .api(Api::lambda_proxy().config(|c| {
            c.last_modified = Some(minute(8).format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string());
        }))
        .api_errors(step(0.3))
        .fn_metric("Errors", "Sum", |m| {
            Some(if in_w(m) {
                (load(m) * 0.3).round()
            } else {
                0.0
            })
        });
    let o = s.evaluate();
    assert_answer(&o, "apigw.lambda_errors");
    assert_evidence(finding(&o, "apigw.lambda_errors"), "was changed at");
    // Near miss: the errors explain 10% of the 5xx.
    let o = failing()
        .api(Api::lambda_proxy())
        .api_errors(step(0.3))
        .fn_metric("Errors", "Sum", |m| {
            Some(if in_w(m) {
                (load(m) * 0.03).round()
            } else {
                0.0
            })
        })
        .evaluate();
    assert_silent(&o, "apigw.lambda_errors");
}

#[test]
fn lambda_throttled_at_its_reservation() {
    let s = failing()
        .api(Api::lambda_proxy().function(|f| {
            f.concurrency = Some(crate::evidence::lambda::FunctionConcurrency {
                reserved_concurrent_executions: Some(5),
            });
        }))
        .api_errors(with_load)
        .fn_metric("Throttles", "Sum", |m| {
            Some((load(m) * with_load(m)).round())
        })
        .fn_metric("ConcurrentExecutions", "Maximum", |_| Some(5.0));
    let o = s.evaluate();
    assert_answer(&o, "apigw.lambda_throttled");
    assert_evidence(finding(&o, "apigw.lambda_throttled"), "reserved 5");
    // Near miss: a reservation, and no throttles.
    let o = failing()
        .api(Api::lambda_proxy().function(|f| {
            f.concurrency = Some(crate::evidence::lambda::FunctionConcurrency {
                reserved_concurrent_executions: Some(5),
            });
        }))
        .api_errors(step(0.3))
        .evaluate();
    assert_silent(&o, "apigw.lambda_throttled");
}

#[test]
fn lambda_permission_when_nothing_is_invoked_and_nothing_grants() {
    let no_invocations = |s: Scenario| {
        s.api_errors(step(1.0))
            .fn_metric("Invocations", "Sum", |m| {
                if in_w(m) { None } else { Some(load(m)) }
            })
    };
    let o = no_invocations(failing().api(Api::lambda_proxy().function(|f| {
        f.policy = Some(crate::evidence::lambda::PolicyState::None);
    })))
    .evaluate();
    assert_answer(&o, "apigw.lambda_permission");
    assert_evidence(finding(&o, "apigw.lambda_permission"), "no resource policy");
    // Near miss: the policy grants this API (something else stops the invocations).
    let o = no_invocations(failing().api(Api::lambda_proxy())).evaluate();
    assert_silent(&o, "apigw.lambda_permission");
    // Near miss: a grant for another API only still fires, naming it.
    let o = no_invocations(failing().api(Api::lambda_proxy().function(|f| {
        f.policy = Some(invoke_grant("zzzzzzzzzz"));
    })))
    .evaluate();
    assert_evidence(finding(&o, "apigw.lambda_permission"), "other APIs only");
}

#[test]
fn lambda_not_active_names_its_reason() {
    let o = failing()
        .api(Api::lambda_proxy().config(|c| {
            c.state = Some("Failed".into());
            c.state_reason_code = Some("SubnetOutOfIPAddresses".into());
        }))
        .api_errors(step(1.0))
        .fn_metric("Invocations", "Sum", |_| Some(0.0))
        .evaluate();
    assert_answer(&o, "apigw.lambda_not_active");
    assert_evidence(
        finding(&o, "apigw.lambda_not_active"),
        "SubnetOutOfIPAddresses",
    );
    let o = failing()
        .api(Api::lambda_proxy())
        .api_errors(step(1.0))
        .evaluate();
    assert_silent(&o, "apigw.lambda_not_active");
}

#[test]
fn malformed_proxy_response_when_the_function_returns_fine() {
    let o = failing()
        .api(Api::lambda_proxy())
        .api_errors(step(0.9))
        .evaluate();
    assert_answer(&o, "apigw.malformed_proxy_response");
    // Near miss: an HTTP API with payload format 2.0 infers a 200.
    let mut api = Api::lambda_proxy();
    api.0.kind = crate::evidence::apigw::ApiKind::Http;
    if let Some(i) = api.0.integrations.as_mut().and_then(|i| i.first_mut()) {
        i.payload_format = Some("2.0".into());
    }
    let o = failing().api(api).api_errors(step(0.9)).evaluate();
    assert_silent(&o, "apigw.malformed_proxy_response");
}

#[test]
fn backend_5xx_from_an_http_backend() {
    let o = failing()
        .api(Api::http_proxy("https://backend.example.com/{proxy}"))
        .api_errors(step(0.2))
        .evaluate();
    assert_answer(&o, "apigw.backend_5xx");
    // Near miss: the backend does not answer in time.
    let o = failing()
        .api(Api::http_proxy("https://backend.example.com/{proxy}"))
        .api_errors(step(0.2))
        .api_metric("IntegrationLatency", "Maximum", |_| Some(29_000.0))
        .evaluate();
    assert_silent(&o, "apigw.backend_5xx");
    assert_answer(&o, "apigw.integration_timeout");
}

#[test]
fn quiet_apis_have_no_findings() {
    let o = failing()
        .api(Api::lambda_proxy())
        .api_errors(flat(0.0))
        .evaluate();
    assert!(
        o.findings.iter().all(|f| !f.rule.starts_with("apigw.")),
        "{}",
        show(&o)
    );
}

/// An HTTP API's errors are `5xx`; a world (or older documentation) may spell them
/// `5XXError`: either is read.
#[test]
fn http_api_errors_in_either_spelling() {
    for spelling in ["5xx", "5XXError"] {
        let mut api = Api::lambda_proxy().config(|c| c.timeout = Some(10));
        api.0.kind = crate::evidence::apigw::ApiKind::Http;
        api.0.key = API_ID.into();
        let dims = [("ApiId", API_ID), ("Stage", STAGE)];
        let mut s = failing().api(api);
        let q =
            |name: &str, stat: &str| MetricQuery::new(REGION, "AWS/ApiGateway", name, &dims, stat);
        s.metrics
            .insert(q("Count", "Sum"), series(|m| Some(load(m))));
        s.metrics.insert(
            q(spelling, "Sum"),
            series(|m| {
                Some(if in_w(m) {
                    (load(m) * 0.3).round()
                } else {
                    0.0
                })
            }),
        );
        let o = s
            .fn_metric("Invocations", "Sum", |m| Some(load(m)))
            .fn_metric("Errors", "Sum", |m| {
                Some(if in_w(m) {
                    (load(m) * 0.3).round()
                } else {
                    0.0
                })
            })
            .fn_metric("Duration", "Maximum", |m| {
                Some(if in_w(m) { 10_000.0 } else { 900.0 })
            })
            .evaluate();
        assert_answer(&o, "apigw.lambda_timeout");
    }
}

// ---------------------------------------------------------------- fix and rollback commands

/// The function `orders` throttled with `reserved` (per-minute concurrency peak `peak`).
fn throttled(reserved: Option<i64>, peak: f64) -> Scenario {
    failing()
        .api(Api::lambda_proxy().function(|f| {
            f.concurrency = Some(crate::evidence::lambda::FunctionConcurrency {
                reserved_concurrent_executions: reserved,
            });
        }))
        .api_errors(with_load)
        .fn_metric("Throttles", "Sum", |m| {
            Some((load(m) * with_load(m)).round())
        })
        .fn_metric("ConcurrentExecutions", "Maximum", move |_| Some(peak))
}

#[test]
fn throttled_fix_doubles_the_reservation_and_rolls_back_to_it() {
    let o = throttled(Some(5), 5.0).evaluate();
    assert_fix(
        finding(&o, "apigw.lambda_throttled"),
        "aws lambda put-function-concurrency --function-name 'orders' --reserved-concurrent-executions 10",
        "aws lambda put-function-concurrency --function-name 'orders' --reserved-concurrent-executions 5",
    );
    // A reservation of 0 stops everything: it is removed, and put back by the rollback.
    let o = throttled(Some(0), 0.0).evaluate();
    assert_fix(
        finding(&o, "apigw.lambda_throttled"),
        "aws lambda delete-function-concurrency --function-name 'orders'",
        "aws lambda put-function-concurrency --function-name 'orders' --reserved-concurrent-executions 0",
    );
    // No reservation: one is proposed, and the rollback removes it.
    let o = throttled(None, 300.0).evaluate();
    assert_fix(
        finding(&o, "apigw.lambda_throttled"),
        "aws lambda put-function-concurrency --function-name 'orders' --reserved-concurrent-executions 600",
        "aws lambda delete-function-concurrency --function-name 'orders'",
    );
    // Near miss: the function alone is at the account's limit; a reservation adds nothing.
    let o = throttled(None, 990.0).evaluate();
    assert_no_fix(
        finding(&o, "apigw.lambda_throttled"),
        "alone reaches the account's limit of 1000",
    );
}
