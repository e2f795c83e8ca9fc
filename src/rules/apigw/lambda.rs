//! API Gateway rules about the Lambda functions an API integrates.

use super::{ApiCtx, changed_before_onset, hhmm, ms_as_secs};
use crate::evidence::FunctionEvidence;
use crate::evidence::lambda::{Grant, PolicyState, grant_for_api};
use crate::rules::catalog::{Detect, Rule};
use crate::rules::fix;
use crate::rules::signals::{CORRELATED, FnSignals, REACHED, share};
use crate::rules::{Ctx, Draft, Kind, count, pct};

/// A function's errors "explain" the API's 5xx at this share of them.
pub(crate) const EXPLAINS: f64 = 0.5;
/// Errors below this share of the API's 5xx are "about zero": stray failures, not the cause.
const ABOUT_ZERO: f64 = 0.1;
/// Concurrency "at the limit": this share of the account's limit (or of the function's
/// reservation) or more.
const AT_LIMIT: f64 = 0.9;

fn function_resource(f: &FunctionEvidence) -> String {
    f.config
        .as_ref()
        .and_then(|c| c.function_arn.clone())
        .unwrap_or_else(|| f.name.clone())
}

fn draft_for(a: &ApiCtx<'_>, rule: &'static Rule, f: &FunctionEvidence) -> Draft {
    let mut d = a.draft(rule);
    d.resources.push(function_resource(f));
    d
}

/// `orders (POST /orders)`.
fn fn_label(f: &FunctionEvidence) -> String {
    match f.routes.as_slice() {
        [] => f.name.clone(),
        [one] => format!("{} ({one})", f.name),
        [first, rest @ ..] => format!("{} ({first} and {} more)", f.name, rest.len()),
    }
}

fn metrics_missing(d: &mut Draft, f: &FunctionEvidence, s: &FnSignals) {
    if !s.read {
        d.missing(format!("the Lambda metrics of {}", f.name));
    }
}

// ---------------------------------------------------------------- not active

pub(crate) const LAMBDA_NOT_ACTIVE: Rule = Rule {
    id: "apigw.lambda_not_active",
    kind: Kind::Cause,
    base: 0.85,
    codes: &[500, 502],
    sub_cause_of: None,
    cause: "The integrated Lambda function cannot run: its state is Failed or Inactive, or its last update failed, so every invocation through the API fails.",
    needs: "Needs the API's 5xx above the noise floor and the function's configuration (`GetFunctionConfiguration`) with `State` Failed or Inactive, or `LastUpdateStatus` Failed, with its reason code.",
    differs: "A function that runs and fails shows Errors (`apigw.lambda_errors`); one that is not allowed to run shows no invocations with an Active state (`apigw.lambda_permission`).",
    detect: Detect::Api(lambda_not_active),
};

fn lambda_not_active(_: &Ctx<'_>, a: &ApiCtx<'_>) -> Vec<Draft> {
    if !a.has_errors() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (f, s) in a.functions() {
        let Some(c) = &f.config else { continue };
        let state = c.state.as_deref().unwrap_or_default();
        let update = c.last_update_status.as_deref().unwrap_or_default();
        let broken_state = matches!(state, "Failed" | "Inactive");
        let failed_update = update == "Failed";
        if !broken_state && !failed_update {
            continue;
        }
        let mut d = draft_for(a, &LAMBDA_NOT_ACTIVE, f);
        let (what, code, reason) = if broken_state {
            (
                format!("State {state}"),
                c.state_reason_code.as_deref(),
                c.state_reason.as_deref(),
            )
        } else {
            (
                "LastUpdateStatus Failed".to_owned(),
                c.last_update_status_reason_code.as_deref(),
                c.last_update_status_reason.as_deref(),
            )
        };
        d.title = format!("Lambda function {} is not runnable ({what})", f.name);
        d.headline = format!(
            "The function {} behind {} is {what}{}: invocations through the API fail.",
            f.name,
            a.api.label(),
            code.map(|c| format!(" ({c})")).unwrap_or_default()
        );
        d.evidence(a.errors_line());
        d.evidence(format!(
            "function {}: {what}{}{}",
            fn_label(f),
            code.map(|c| format!(", reason code {c}"))
                .unwrap_or_default(),
            reason.map(|r| format!(": {r}")).unwrap_or_default()
        ));
        if s.read && s.errors + s.invocations > 0.0 && s.invocations <= s.errors {
            d.corroborate(format!(
                "{}: every invocation failed ({} errors)",
                f.name,
                count(s.errors)
            ));
        }
        if state == "Inactive" {
            d.step(format!(
                "Invoke {} once to make it Active again (an idle function becomes Inactive); if it stays Inactive, read StateReasonCode {}.",
                f.name,
                code.unwrap_or("in the configuration")
            ));
        } else {
            d.step(format!(
                "Fix what {} names ({}), then redeploy the function {}: `aws lambda get-function-configuration --function-name {}`.",
                code.unwrap_or("the reason"),
                reason.unwrap_or("see StateReason"),
                f.name,
                f.name
            ));
        }
        d.step(format!(
            "If a recent deployment caused it, point the integration back at the previous version or alias of {}.",
            f.bare_name()
        ));
        out.push(d);
    }
    out
}

// ---------------------------------------------------------------- permission

pub(crate) const LAMBDA_PERMISSION: Rule = Rule {
    id: "apigw.lambda_permission",
    kind: Kind::Cause,
    base: 0.8,
    codes: &[500],
    sub_cause_of: None,
    cause: "API Gateway may not invoke the function: its resource policy has no statement letting `apigateway.amazonaws.com` invoke it for this API, so every request fails with 500 (\"Invalid permissions on Lambda function\" in the execution log) and the function sees nothing.",
    needs: "Needs the API's 5xx above the noise floor, the function's `Invocations` read and at 0 from the onset of the errors to the state change, no throttles, and its resource policy (`GetPolicy`) without an API Gateway invoke grant for this API (or no policy at all).",
    differs: "Throttled invocations also never run but show `Throttles` (`apigw.lambda_throttled`); a function that is not Active is `apigw.lambda_not_active`.",
    detect: Detect::Api(lambda_permission),
};

fn lambda_permission(ctx: &Ctx<'_>, a: &ApiCtx<'_>) -> Vec<Draft> {
    if !a.has_errors() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (f, s) in a.functions() {
        if !s.read || s.invocations > 0.0 || s.throttles > 0.0 {
            continue;
        }
        if f.config
            .as_ref()
            .and_then(|c| c.state.as_deref())
            .is_some_and(|st| st != "Active")
        {
            continue;
        }
        let api_id = a.api.id.as_deref().unwrap_or(&a.api.key);
        let grant = match &f.policy {
            Some(PolicyState::None) => Some(Grant::NotGranted),
            Some(PolicyState::Read(p)) => Some(grant_for_api(p, api_id)),
            None => None,
        };
        if matches!(grant, Some(Grant::Granted)) {
            continue;
        }
        let mut d = draft_for(a, &LAMBDA_PERMISSION, f);
        d.title = format!(
            "API {} may not invoke Lambda function {}",
            a.api.label(),
            f.name
        );
        d.headline = format!(
            "API Gateway has no permission to invoke {} for {}: every request answers 500 and the function never runs.",
            f.name,
            a.api.label()
        );
        d.evidence(a.errors_line());
        d.evidence(format!(
            "function {}: 0 invocations and 0 throttles since the errors began ({} min)",
            fn_label(f),
            a.s.s.minutes()
        ));
        match grant {
            Some(Grant::NotGranted) => d.evidence(match &f.policy {
                Some(PolicyState::None) => format!("{} has no resource policy at all", f.name),
                _ => format!(
                    "the resource policy of {} lets no apigateway.amazonaws.com principal invoke it",
                    f.name
                ),
            }),
            Some(Grant::OtherApisOnly) => d.evidence(format!(
                "the resource policy of {} grants API Gateway invoke for other APIs only (AWS:SourceArn does not match API {api_id})",
                f.name
            )),
            Some(Grant::Unreadable) => d.missing(format!("a readable resource policy of {}", f.name)),
            Some(Grant::Granted) => {}
            None => d.missing(format!("the resource policy of {} (lambda:GetPolicy)", f.name)),
        }
        let region = &f.region;
        let account = ctx.alarm.account().unwrap_or("ACCOUNT");
        let api_id = if crate::untrusted::is_simple_name(api_id, 64) {
            api_id
        } else {
            "API_ID"
        };
        d.step(format!(
            "Grant API Gateway the invoke permission: `aws lambda add-permission --function-name {} --statement-id apigateway-{api_id} --action lambda:InvokeFunction --principal apigateway.amazonaws.com --source-arn 'arn:aws:execute-api:{region}:{account}:{api_id}/*'`.",
            f.name
        ));
        d.step("Confirm in the stage's execution log: \"Invalid permissions on Lambda function\"; an integration re-saved in the console adds this grant, an IaC deploy must declare it.".to_owned());
        out.push(d);
    }
    out
}

// ---------------------------------------------------------------- throttled

pub(crate) const LAMBDA_THROTTLED: Rule = Rule {
    id: "apigw.lambda_throttled",
    kind: Kind::Cause,
    base: 0.8,
    codes: &[500, 502],
    sub_cause_of: None,
    cause: "Lambda throttles the integrated function (`TooManyRequestsException`): its reserved concurrency or the account's concurrency limit is reached, and API Gateway answers 500 for every refused invocation.",
    needs: "Needs the function's `Throttles` above 0 from the onset of the errors to the state change, and a ceiling: reserved concurrency set (0 throttles everything), or `ConcurrentExecutions` Maximum at 90% or more of the reservation or of the account limit (`GetAccountSettings`). Throttles that follow the API's request count add confidence.",
    differs: "A function that runs and fails shows Errors, not Throttles (`apigw.lambda_errors`); a reservation with no throttles is not this cause.",
    detect: Detect::Api(lambda_throttled),
};

fn lambda_throttled(_: &Ctx<'_>, a: &ApiCtx<'_>) -> Vec<Draft> {
    if !a.has_errors() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (f, s) in a.functions() {
        if s.throttles <= 0.0 {
            continue;
        }
        let reserved = f
            .concurrency
            .as_ref()
            .and_then(|c| c.reserved_concurrent_executions);
        let limit = a
            .api
            .account
            .as_ref()
            .and_then(|s| s.account_limit.as_ref())
            .and_then(|l| l.concurrent_executions);
        let mut d = draft_for(a, &LAMBDA_THROTTLED, f);
        d.title = format!("Lambda throttles function {}", f.name);
        d.evidence(a.errors_line());
        d.evidence(format!(
            "function {}: {} throttles, {} invocations since the errors began",
            fn_label(f),
            count(s.throttles),
            count(s.invocations)
        ));
        let ceiling = match (reserved, limit, s.concurrent_max) {
            (Some(0), _, _) => {
                d.evidence(format!(
                    "reserved concurrency of {} is 0: every invocation is throttled",
                    f.bare_name()
                ));
                Some("reserved concurrency 0".to_owned())
            }
            (Some(r), _, Some(c)) if c >= AT_LIMIT * r as f64 => {
                d.evidence(format!(
                    "ConcurrentExecutions reached {} of its reserved {r}",
                    count(c)
                ));
                Some(format!("reserved concurrency {r}"))
            }
            (Some(r), _, _) => {
                d.evidence(format!("reserved concurrency of {}: {r}", f.bare_name()));
                Some(format!("reserved concurrency {r}"))
            }
            (None, Some(l), Some(c)) if c >= AT_LIMIT * l as f64 => {
                d.evidence(format!(
                    "ConcurrentExecutions reached {} of the account's limit of {l} in {}",
                    count(c),
                    f.region
                ));
                Some(format!("the account limit of {l}"))
            }
            _ => None,
        };
        if ceiling.is_none() {
            d.competes("a ceiling that was not read or not reached (burst scaling, or another function's reservation)");
        }
        if share(s.throttles, a.s.errors) >= EXPLAINS {
            d.corroborate(format!(
                "throttles are {} of the API's 5xx",
                pct(share(s.throttles, a.s.errors).min(1.0))
            ));
        }
        if s.throttle_load_corr.is_some_and(|c| c >= CORRELATED) {
            d.corroborate("throttles follow the API's request count".to_owned());
        }
        let ceiling_words = ceiling.unwrap_or_else(|| "its concurrency ceiling".into());
        d.headline = format!(
            "Lambda throttles {} behind {} at {ceiling_words}: {} throttled invocations answer 500.",
            f.name,
            a.api.label(),
            count(s.throttles)
        );
        match reserved {
            Some(0) => d.step(format!(
                "Remove the reservation of 0 from {} (it throttles every invocation), unless it was set on purpose to stop the function.",
                f.bare_name()
            )),
            Some(r) => d.step(format!(
                "Raise the reserved concurrency of {} (now {r}) above the peak ConcurrentExecutions.",
                f.bare_name()
            )),
            None => d.step(format!(
                "Free concurrency for {}: lower other functions' reservations, or request a higher concurrency quota for {} (Service Quotas: Lambda concurrent executions); or reserve concurrency for it, so that other functions cannot take it:",
                f.bare_name(),
                f.region
            )),
        }
        fix::push(&mut d, concurrency_fix(a, f, s));
        d.step(format!(
            "Shave the peak in front of it: stage or method throttling on {} so excess requests get 429 instead of 500.",
            a.api.label()
        ));
        out.push(d);
    }
    out
}

/// The reservation the throttles call for: none when it is 0 (it stops every invocation);
/// else [`fix::HEADROOM`] times the larger of the reservation and the peak concurrency (what
/// was throttled was never counted), within what the account leaves unreserved
/// ([`fix::UNRESERVED_MINIMUM`] always stays). A function without a reservation gets one
/// only when it is not itself at the account's limit: a reservation adds no concurrency.
fn concurrency_fix(a: &ApiCtx<'_>, f: &FunctionEvidence, s: &FnSignals) -> fix::Built {
    let name = f.bare_name();
    let current = f
        .concurrency
        .as_ref()
        .ok_or_else(|| format!("the reserved concurrency of {name} was not read"))?
        .reserved_concurrent_executions
        .map(|r| {
            u32::try_from(r)
                .map_err(|_| format!("the reserved concurrency of {name} is not a count"))
        })
        .transpose()?;
    if current == Some(0) {
        return fix::reserved_concurrency(name, current, None);
    }
    let limits = a
        .api
        .account
        .as_ref()
        .and_then(|s| s.account_limit.as_ref());
    let unreserved = limits
        .and_then(|l| l.unreserved_concurrent_executions)
        .and_then(|u| u32::try_from(u).ok());
    let peak = s.concurrent_max;
    if current.is_none()
        && let (Some(l), Some(c)) = (limits.and_then(|l| l.concurrent_executions), peak)
        && c >= AT_LIMIT * l as f64
    {
        return Err(format!(
            "{name} alone reaches the account's limit of {l}: a reservation adds no concurrency, a quota increase does"
        ));
    }
    let seen = match (current, peak) {
        (Some(r), p) => f64::from(r).max(p.unwrap_or(0.0)),
        (None, Some(p)) => p,
        (None, None) => {
            return Err(format!(
                "the peak ConcurrentExecutions of {name} was not read"
            ));
        }
    };
    // What the account can give: the reservation it has, plus the unreserved pool above the
    // minimum Lambda keeps.
    let room = unreserved.map(|u| current.unwrap_or(0) + u.saturating_sub(fix::UNRESERVED_MINIMUM));
    let proposed = fix::proposal(seen, room.unwrap_or(u32::MAX));
    if proposed <= current.unwrap_or(0) || (current.is_none() && f64::from(proposed) <= seen) {
        return Err(format!(
            "the account's unreserved concurrency leaves no room to raise {name}: request a quota increase"
        ));
    }
    fix::reserved_concurrency(name, current, Some(proposed))
}

// ---------------------------------------------------------------- timeout

pub(crate) const LAMBDA_TIMEOUT: Rule = Rule {
    id: "apigw.lambda_timeout",
    kind: Kind::Cause,
    base: 0.8,
    codes: &[502],
    sub_cause_of: None,
    cause: "The integrated function hits its own timeout, which is shorter than the integration's: Lambda stops it and API Gateway answers 502.",
    needs: "Needs the function's `Timeout` below the integration timeout, its `Duration` Maximum within 10% of that timeout, and Errors from the onset of the errors to the state change. Errors that explain at least half of the API's 5xx add confidence.",
    differs: "When the integration timeout is the shorter one, API Gateway gives up first and answers 504 (`apigw.integration_timeout`); errors without Duration at the ceiling are `apigw.lambda_errors`.",
    detect: Detect::Api(lambda_timeout),
};

/// The function's timeout in ms, when it is below its integrations' timeout.
fn own_timeout_ms(f: &FunctionEvidence) -> Option<f64> {
    let t = f.config.as_ref()?.timeout? as f64 * 1000.0;
    (t < f.integration_timeout_ms as f64).then_some(t)
}

fn at_own_timeout(f: &FunctionEvidence, s: &FnSignals) -> Option<(f64, f64)> {
    let t = own_timeout_ms(f)?;
    let max = s.duration_max?;
    (max >= REACHED * t).then_some((t, max))
}

fn lambda_timeout(_: &Ctx<'_>, a: &ApiCtx<'_>) -> Vec<Draft> {
    if !a.has_errors() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (f, s) in a.functions() {
        if s.errors <= 0.0 {
            continue;
        }
        let Some((t, max)) = at_own_timeout(f, s) else {
            continue;
        };
        let mut d = draft_for(a, &LAMBDA_TIMEOUT, f);
        let integ = f.integration_timeout_ms as f64;
        d.title = format!("Lambda function {} times out at {}", f.name, ms_as_secs(t));
        d.headline = format!(
            "Function {} times out at {} while the integration waits {}: {} timed-out invocations answer 502.",
            f.name,
            ms_as_secs(t),
            ms_as_secs(integ),
            count(s.errors)
        );
        d.evidence(a.errors_line());
        d.evidence(format!(
            "function {}: Timeout {}, integration timeout {}",
            fn_label(f),
            ms_as_secs(t),
            ms_as_secs(integ)
        ));
        d.evidence(format!(
            "Duration Maximum {} ms since the errors began ({} of the timeout), {} errors",
            count(max),
            pct(max / t),
            count(s.errors)
        ));
        if share(s.errors, a.s.errors) >= EXPLAINS {
            d.corroborate(format!(
                "the function's errors are {} of the API's 5xx",
                pct(share(s.errors, a.s.errors).min(1.0))
            ));
        }
        d.step(format!(
            "Find what makes {} slow now (a dependency's latency): `aws logs tail /aws/lambda/{} --since 30m --filter-pattern '\"Task timed out\"'`; fix that first.",
            f.name,
            f.bare_name()
        ));
        d.step(format!(
            "If the work legitimately takes longer, raise the function's timeout (now {}) toward the integration's {} (keep it below the integration timeout so the function, not API Gateway, reports the failure).",
            ms_as_secs(t),
            ms_as_secs(integ)
        ));
        fix::push(&mut d, timeout_fix(f, integ));
        out.push(d);
    }
    out
}

/// The function's timeout raised to [`fix::BELOW_INTEGRATION_S`] under its integration's
/// (`integ`, in ms), within Lambda's range, as the finding advises.
fn timeout_fix(f: &FunctionEvidence, integ: f64) -> fix::Built {
    let name = f.bare_name();
    let now = f
        .config
        .as_ref()
        .and_then(|c| c.timeout)
        .ok_or_else(|| format!("the timeout of {name} was not read"))?;
    let now = u32::try_from(now)
        .map_err(|_| format!("the timeout of {name} is not a number of seconds"))?;
    let proposed = ((integ / 1000.0).floor() as u32)
        .saturating_sub(fix::BELOW_INTEGRATION_S)
        .min(fix::LAMBDA_TIMEOUT_MAX_S);
    if proposed <= now {
        return Err(format!(
            "the timeout of {name} ({now} s) is already at the integration's"
        ));
    }
    fix::function_timeout(name, now, proposed)
}

// ---------------------------------------------------------------- errors

pub(crate) const LAMBDA_ERRORS: Rule = Rule {
    id: "apigw.lambda_errors",
    kind: Kind::Cause,
    base: 0.75,
    codes: &[502],
    sub_cause_of: None,
    cause: "The integrated function fails (unhandled exceptions): each failed invocation reaches the client as a 502.",
    needs: "Needs the function's Errors to explain at least half of the API's 5xx from the onset of the errors to the state change. A configuration or code change (`LastModified`) in the 30 minutes before the onset adds confidence.",
    differs: "When Duration sits at the function's timeout the errors are timeouts (`apigw.lambda_timeout`); errors that explain a small share of the 5xx leave the rest to another cause (a 10% share is not the answer).",
    detect: Detect::Api(lambda_errors),
};

fn lambda_errors(_: &Ctx<'_>, a: &ApiCtx<'_>) -> Vec<Draft> {
    if !a.has_errors() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (f, s) in a.functions() {
        let explained = share(s.errors, a.s.errors);
        if s.errors <= 0.0 || explained < EXPLAINS {
            continue;
        }
        let mut d = draft_for(a, &LAMBDA_ERRORS, f);
        d.title = format!("Lambda function {} is failing", f.name);
        d.headline = format!(
            "Function {} behind {} fails: {} errors explain {} of the API's 5xx.",
            f.name,
            a.api.label(),
            count(s.errors),
            pct(explained.min(1.0))
        );
        d.evidence(a.errors_line());
        d.evidence(format!(
            "function {}: {} errors of {} invocations since the errors began",
            fn_label(f),
            count(s.errors),
            count(s.invocations)
        ));
        if at_own_timeout(f, s).is_some() {
            d.competes(LAMBDA_TIMEOUT.id);
        }
        if let Some(changed) = changed_before_onset(a, f) {
            d.corroborate(format!(
                "{} was changed at {} (LastModified), {} before the errors began at {}",
                f.name,
                hhmm(changed),
                minutes_words(a, changed),
                a.onset().map(hhmm).unwrap_or_default()
            ));
            d.step(format!(
                "Roll back the change of {} at {}: point the alias or integration at the previous version, or redeploy the previous code.",
                f.name,
                hhmm(changed)
            ));
        }
        d.step(format!(
            "Read the errors in the function's logs: `aws logs tail /aws/lambda/{} --since 30m --filter-pattern '?ERROR ?Error ?Exception'`.",
            f.bare_name()
        ));
        metrics_missing(&mut d, f, s);
        out.push(d);
    }
    out
}

fn minutes_words(a: &ApiCtx<'_>, changed: chrono::DateTime<chrono::Utc>) -> String {
    match a.onset() {
        Some(o) if o >= changed => format!("{} min", (o - changed).num_minutes()),
        _ => "just".into(),
    }
}

// ---------------------------------------------------------------- malformed

pub(crate) const MALFORMED_PROXY_RESPONSE: Rule = Rule {
    id: "apigw.malformed_proxy_response",
    kind: Kind::Cause,
    base: 0.6,
    codes: &[502],
    sub_cause_of: None,
    cause: "The function returns, but not in the Lambda proxy shape (`statusCode`, a string `body`, `headers`): API Gateway answers 502 \"Malformed Lambda proxy response\".",
    needs: "Needs a REST proxy integration or an HTTP API one with payload format 1.0 (format 2.0 infers a 200), the API's 5xx with the function's Invocations flowing (at least half the 5xx count), Errors and Throttles about 0, Duration below its timeout and `IntegrationLatency` below the integration timeout. A function change just before the onset adds confidence.",
    differs: "A failing function shows Errors (`apigw.lambda_errors`); a refused invocation shows no invocations (`apigw.lambda_permission`) or Throttles.",
    detect: Detect::Api(malformed_proxy_response),
};

fn malformed_proxy_response(_: &Ctx<'_>, a: &ApiCtx<'_>) -> Vec<Draft> {
    if !a.has_errors() {
        return Vec::new();
    }
    let proxy_shape_matters = |f: &FunctionEvidence| {
        a.api.integrations.iter().flatten().any(|i| {
            i.is_lambda()
                && i.kind == "AWS_PROXY"
                && f.routes.contains(&i.route)
                && i.payload_format.as_deref() != Some("2.0")
        })
    };
    let mut out = Vec::new();
    for (f, s) in a.functions() {
        if !s.read || !proxy_shape_matters(f) {
            continue;
        }
        let flowing = s.invocations >= 0.5 * a.s.errors;
        let quiet = s.errors < ABOUT_ZERO * a.s.errors && s.throttles < ABOUT_ZERO * a.s.errors;
        let timeout_ms = f
            .config
            .as_ref()
            .and_then(|c| c.timeout)
            .map(|t| t as f64 * 1000.0);
        let duration_normal = match (s.duration_max, timeout_ms) {
            (Some(d), Some(t)) => d < REACHED * t,
            _ => true,
        };
        // Requests that ran into the integration timeout answered 504 (or 503), not 502.
        let integration_timed_out =
            a.s.integration_latency_max
                .is_some_and(|l| l >= REACHED * f.integration_timeout_ms as f64);
        if !flowing || !quiet || !duration_normal || integration_timed_out {
            continue;
        }
        let mut d = draft_for(a, &MALFORMED_PROXY_RESPONSE, f);
        d.title = format!(
            "Function {} returns responses API Gateway cannot read",
            f.name
        );
        d.headline = format!(
            "Function {} runs without errors but {} answers 502: its responses are not in the Lambda proxy shape.",
            f.name,
            a.api.label()
        );
        d.evidence(a.errors_line());
        d.evidence(format!(
            "function {}: {} invocations, {} errors, {} throttles since the errors began",
            fn_label(f),
            count(s.invocations),
            count(s.errors),
            count(s.throttles)
        ));
        if let Some(changed) = changed_before_onset(a, f) {
            d.corroborate(format!(
                "{} was changed at {} (LastModified), just before the errors began",
                f.name,
                hhmm(changed)
            ));
        }
        d.step(format!(
            "Check the stage's execution log for \"Malformed Lambda proxy response\", and what {} returns: an object with a numeric `statusCode`, a string `body` (JSON.stringify it) and string-valued `headers`.",
            f.name
        ));
        d.step(format!(
            "Roll back the last change of {} if it changed the response.",
            f.name
        ));
        out.push(d);
    }
    out
}
