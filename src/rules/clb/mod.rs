//! Classic Load Balancer rules: who made the 5xx (`HTTPCode_ELB_5XX` from the load balancer,
//! `HTTPCode_Backend_5XX` from the instances) and why.
//!
//! Facts (AWS documentation): the load balancer answers 503 when no instance is healthy or the
//! surge queue (1,024 requests) is full (`SpilloverCount`), 504 when a request does not
//! complete within the idle timeout (`ConnectionSettings.IdleTimeout`, 60 s by default) or an
//! instance closes the connection, and 502 when an instance's answer cannot be parsed. Its
//! metrics do not split ELB 5xx by code. `Latency` (HTTP listeners) is the time from sending
//! the request to an instance to the first response byte.

#[cfg(test)]
mod tests;

use super::catalog::{Detect, Rule};
use super::fix::{self, Proposed};
use super::signals::{ClbSignals, NOISE_RATIO, REACHED, share};
use super::{Ctx, Draft, Kind, count, pct, secs};
use crate::evidence::ClbEvidence;

/// One Classic Load Balancer with its signals.
pub(crate) struct ClbCtx<'a> {
    pub clb: &'a ClbEvidence,
    pub s: ClbSignals,
}

/// The surge queue holds at most this many requests; beyond it requests spill over (503).
const SURGE_QUEUE_CAPACITY: f64 = 1024.0;
/// The backend's 5xx are "the" errors at this share of all 5xx ...
const BACKEND_DOMINANT: f64 = 0.5;
/// ... with the load balancer's own below this share of the backend's.
const ELB_ABOUT_ZERO: f64 = 0.1;
/// A "low" ELB 5xx ratio for the keep-alive race: under 1% of requests.
const LOW_RATIO: f64 = 0.01;

impl ClbCtx<'_> {
    fn draft(&self, ctx: &Ctx<'_>, rule: &'static Rule) -> Draft {
        let mut d = rule.draft();
        let arn = self.clb.arn(ctx.alarm.account());
        // The key that links a front door's passthrough finding to this load balancer.
        d.alb_arn = Some(arn.clone());
        d.resources.push(arn);
        d
    }

    pub(crate) fn name(&self) -> &str {
        &self.clb.name
    }

    /// (in service, out of service, total) from the instance health read.
    fn health_counts(&self) -> Option<(usize, usize, usize)> {
        let h = self.clb.health.as_ref()?;
        let n = |state: &str| {
            h.iter()
                .filter(|i| i.state.as_deref() == Some(state))
                .count()
        };
        Some((n("InService"), n("OutOfService"), h.len()))
    }

    fn idle_timeout(&self) -> f64 {
        f64::from(
            self.clb
                .attributes
                .as_ref()
                .map_or(crate::evidence::clb::DEFAULT_IDLE_TIMEOUT, |a| {
                    a.idle_timeout()
                }),
        )
    }

    /// The idle timeout as read (60 s when the attributes were read without it: AWS's
    /// default), or what is missing for a command.
    fn idle_timeout_read(&self) -> Result<u32, String> {
        let a = self.clb.attributes.as_ref().ok_or_else(|| {
            format!(
                "the attributes of {} (its current idle timeout) were not read",
                self.name()
            )
        })?;
        u32::try_from(a.idle_timeout()).map_err(|_| {
            format!(
                "the idle timeout of {} is not a number of seconds",
                self.name()
            )
        })
    }

    /// The health check command, from the target and timings read.
    fn health_check_fix(&self) -> fix::Built {
        let h = self
            .clb
            .load_balancer
            .as_ref()
            .and_then(|lb| lb.health_check.as_ref());
        let now = h.and_then(|h| {
            Some(fix::ClassicHealthCheck {
                target: h.target.as_deref()?,
                interval: h.interval?,
                timeout: h.timeout?,
                unhealthy_threshold: h.unhealthy_threshold?,
                healthy_threshold: h.healthy_threshold?,
            })
        });
        match now {
            Some(now) => fix::clb_health_check(self.name(), now),
            None => Err(format!(
                "the health check of {} (target and timings) was not read",
                self.name()
            )),
        }
    }

    fn elb_line(&self) -> String {
        let s = &self.s;
        format!(
            "HTTPCode_ELB_5XX: {} in {} min ({} of {} requests)",
            count(s.elb_5xx),
            s.w.minutes(),
            pct(share(s.elb_5xx, s.requests + s.spillover)),
            count(s.requests)
        )
    }

    fn health_check(&self) -> String {
        self.clb
            .load_balancer
            .as_ref()
            .and_then(|lb| lb.health_check.as_ref())
            .and_then(|h| h.target.clone())
            .unwrap_or_else(|| "its health check".into())
    }
}

pub(crate) const NO_HEALTHY_INSTANCES: Rule = Rule {
    id: "clb.no_healthy_instances",
    kind: Kind::Cause,
    base: 0.85,
    codes: &[503],
    sub_cause_of: None,
    cause: "No instance behind the Classic Load Balancer is in service, so it answers 503 to every request.",
    needs: "Needs every registered instance `OutOfService` (`DescribeInstanceHealth`; reason `Instance`: the health check fails, `ELB`: registration or capacity) and ELB 5xx in W; `HealthyHostCount` Minimum 0 adds confidence.",
    differs: "Some instances in service (one of six out, say) is not this: their own 5xx are `clb.backend_5xx`; a full surge queue is `clb.surge_queue_full`.",
    detect: Detect::Clb(no_healthy_instances),
};

fn no_healthy_instances(ctx: &Ctx<'_>, c: &ClbCtx<'_>) -> Option<Draft> {
    let (in_service, out, total) = c.health_counts()?;
    if total == 0 || out != total || in_service > 0 || c.s.elb_5xx <= 0.0 {
        return None;
    }
    let h = c.clb.health.as_deref().unwrap_or_default();
    let by_elb = h
        .iter()
        .filter(|i| i.reason_code.as_deref() == Some("ELB"))
        .count();
    let description = h
        .iter()
        .filter_map(|i| i.description.clone())
        .find(|d| !d.is_empty() && d != "N/A")
        .unwrap_or_default();
    let mut d = c.draft(ctx, &NO_HEALTHY_INSTANCES);
    d.title = format!("No instance of {} is in service", c.name());
    d.headline = format!(
        "Every instance behind the Classic Load Balancer {} is OutOfService: it answers 503 ({} in {} min).",
        c.name(),
        count(c.s.elb_5xx),
        c.s.w.minutes()
    );
    d.evidence(format!(
        "{out}/{total} instances OutOfService{}{}",
        if by_elb > 0 {
            format!(" ({by_elb} with reason ELB)")
        } else {
            String::new()
        },
        if description.is_empty() {
            String::new()
        } else {
            format!(": {}", crate::error::short(&description))
        }
    ));
    d.evidence(c.elb_line());
    if c.s.healthy_min.is_some_and(|m| m <= 0.0) {
        d.corroborate("HealthyHostCount Minimum 0 in the alarm window");
    }
    if by_elb < out {
        d.step(format!(
            "The health check {} fails on the instances: request it on one instance yourself and fix what it answers (a dependency, a changed path or port, the instance security group admitting the load balancer's).",
            c.health_check()
        ));
        d.step(format!(
            "If the path or port changed on purpose, point the health check of {} at what the instances now answer:",
            c.name()
        ));
        fix::push(&mut d, c.health_check_fix());
    } else {
        d.step(format!(
            "The load balancer takes the instances out itself (reason ELB): check their registration and the Availability Zones enabled on {}.",
            c.name()
        ));
    }
    d.step(format!(
        "Confirm: `aws elb describe-instance-health --load-balancer-name {}`.",
        c.name()
    ));
    Some(d)
}

pub(crate) const SURGE_QUEUE_FULL: Rule = Rule {
    id: "clb.surge_queue_full",
    kind: Kind::Cause,
    base: 0.8,
    codes: &[503],
    sub_cause_of: None,
    cause: "The instances cannot keep up: requests wait in the Classic Load Balancer's surge queue until it is full (1,024 requests), and the rest are rejected with 503 (`SpilloverCount`).",
    needs: "Needs `SpilloverCount` above 0 in W. `SurgeQueueLength` Maximum within 10% of 1,024 and errors that follow the request count each add confidence.",
    differs: "No instance in service at all is `clb.no_healthy_instances`; slow answers without spillover are `clb.idle_timeout`.",
    detect: Detect::Clb(surge_queue_full),
};

fn surge_queue_full(ctx: &Ctx<'_>, c: &ClbCtx<'_>) -> Option<Draft> {
    let s = &c.s;
    if s.spillover <= 0.0 {
        return None;
    }
    let mut d = c.draft(ctx, &SURGE_QUEUE_FULL);
    d.title = format!("The surge queue of {} is full", c.name());
    d.headline = format!(
        "The instances behind {} cannot keep up: its surge queue overflows and {} requests were rejected with 503 in {} min.",
        c.name(),
        count(s.spillover),
        s.w.minutes()
    );
    d.evidence(format!(
        "SpilloverCount: {} in {} min",
        count(s.spillover),
        s.w.minutes()
    ));
    d.evidence(c.elb_line());
    if let Some(q) = s.surge_max.filter(|q| *q >= REACHED * SURGE_QUEUE_CAPACITY) {
        d.corroborate(format!(
            "SurgeQueueLength Maximum {} (the queue holds 1,024)",
            count(q)
        ));
    }
    if s.load_correlated {
        d.corroborate(format!(
            "the errors follow RequestCount (rank correlation {:.2})",
            s.load_corr.unwrap_or(0.0)
        ));
    }
    d.step(format!(
        "Add instances behind {} (or scale the Auto Scaling group out) and find what slows them at this load: CPU, a slow dependency, a small worker pool.",
        c.name()
    ));
    d.step("The queue only buys seconds: an instance that answers faster, or more of them, is the fix; consider moving to an Application Load Balancer, which has no surge queue.");
    Some(d)
}

pub(crate) const BACKEND_CONNECTION_ERRORS: Rule = Rule {
    id: "clb.backend_connection_errors",
    kind: Kind::Cause,
    base: 0.65,
    codes: &[502, 504],
    sub_cause_of: None,
    cause: "The Classic Load Balancer cannot connect to its instances (`BackendConnectionErrors`): connections are refused, reset or time out, and requests fail with 502 or 504.",
    needs: "Needs `BackendConnectionErrors` and ELB 5xx above 0 in W, with instances in service (healthy or flapping, not all out).",
    differs: "All instances out of service is `clb.no_healthy_instances`; the instances answering 5xx themselves is `clb.backend_5xx`.",
    detect: Detect::Clb(backend_connection_errors),
};

fn backend_connection_errors(ctx: &Ctx<'_>, c: &ClbCtx<'_>) -> Option<Draft> {
    let s = &c.s;
    if s.backend_connection_errors <= 0.0 || s.elb_5xx <= 0.0 {
        return None;
    }
    if c.health_counts().is_some_and(|(i, _, t)| t > 0 && i == 0) {
        return None;
    }
    let mut d = c.draft(ctx, &BACKEND_CONNECTION_ERRORS);
    d.title = format!("{} cannot connect to its instances", c.name());
    d.headline = format!(
        "{} fails to connect to its instances ({} backend connection errors in {} min).",
        c.name(),
        count(s.backend_connection_errors),
        s.w.minutes()
    );
    d.evidence(format!(
        "BackendConnectionErrors: {} in {} min",
        count(s.backend_connection_errors),
        s.w.minutes()
    ));
    d.evidence(c.elb_line());
    d.step("Check that the instances' security groups admit the load balancer's on the instance port, and that the application accepts connections (listen backlog, worker limits, restarts).");
    Some(d)
}

pub(crate) const IDLE_TIMEOUT: Rule = Rule {
    id: "clb.idle_timeout",
    kind: Kind::Cause,
    base: 0.7,
    codes: &[504],
    sub_cause_of: None,
    cause: "Requests run longer than the Classic Load Balancer's idle timeout, so it gives up and answers 504.",
    needs: "Needs `Latency` Maximum within 10% of the idle timeout (`ConnectionSettings.IdleTimeout`, 60 s by default) while ELB 5xx rise, instances in service and no spillover (Classic metrics do not split ELB 5xx by code).",
    differs: "Spillover is `clb.surge_queue_full`; connection failures are `clb.backend_connection_errors`.",
    detect: Detect::Clb(idle_timeout),
};

fn idle_timeout(ctx: &Ctx<'_>, c: &ClbCtx<'_>) -> Option<Draft> {
    let s = &c.s;
    let idle = c.idle_timeout();
    let lat = s.latency_max?;
    if s.elb_5xx <= 0.0 || s.spillover > 0.0 || lat < REACHED * idle {
        return None;
    }
    if c.health_counts().is_some_and(|(i, _, t)| t > 0 && i == 0) {
        return None;
    }
    let mut d = c.draft(ctx, &IDLE_TIMEOUT);
    d.title = format!("Requests outlast the idle timeout of {}", c.name());
    d.headline = format!(
        "Requests to {} run into its {} idle timeout and are answered 504 ({} ELB 5xx in {} min).",
        c.name(),
        secs(idle),
        count(s.elb_5xx),
        s.w.minutes()
    );
    d.evidence(format!(
        "Latency Maximum {} against an idle timeout of {}",
        secs(lat),
        secs(idle)
    ));
    d.evidence(c.elb_line());
    d.step(format!(
        "Find what makes the instances of {} slow now (a slow query or dependency) and fix that first.",
        c.name()
    ));
    d.step(format!(
        "Only for requests that legitimately run long: raise the idle timeout of {} (now {}); it treats the symptom.",
        c.name(),
        secs(idle)
    ));
    // Requests cut at the idle timeout were never measured: twice the longer of the timeout
    // and the longest latency seen.
    fix::push(
        &mut d,
        c.idle_timeout_read().and_then(|now| {
            let proposed = fix::proposal(f64::from(now).max(lat), fix::IDLE_TIMEOUT_MAX_S);
            if proposed <= now {
                return Err(format!(
                    "the idle timeout of {} is at its highest ({now} s)",
                    c.name()
                ));
            }
            fix::clb_idle_timeout(c.name(), now, Proposed::Value(proposed))
        }),
    );
    Some(d)
}

pub(crate) const KEEPALIVE_SHORTER_THAN_IDLE: Rule = Rule {
    id: "clb.keepalive_shorter_than_idle",
    kind: Kind::Cause,
    base: 0.5,
    codes: &[502],
    sub_cause_of: None,
    cause: "The instances close idle keep-alive connections before the load balancer does: a request sent on a connection the instance is closing fails, giving low, steady ELB 5xx.",
    needs: "Needs ELB 5xx below 1% of requests in W and present in the hour before as well (steady, not an onset), no backend connection errors, no spillover, instances in service and `Latency` well below the idle timeout.",
    differs: "An onset of errors is another cause; connection failures are `clb.backend_connection_errors`; long requests are `clb.idle_timeout`.",
    detect: Detect::Clb(keepalive_shorter_than_idle),
};

fn keepalive_shorter_than_idle(ctx: &Ctx<'_>, c: &ClbCtx<'_>) -> Option<Draft> {
    let s = &c.s;
    let ratio = share(s.elb_5xx, s.requests);
    let ratio_b = share(s.elb_5xx_b, s.requests_b);
    let steady = s.elb_5xx_b > 0.0 && ratio_b >= 0.5 * ratio;
    if s.elb_5xx <= 0.0
        || !(NOISE_RATIO..LOW_RATIO).contains(&ratio)
        || !steady
        || s.backend_connection_errors > 0.0
        || s.spillover > 0.0
        || s.latency_max
            .is_some_and(|l| l >= REACHED * c.idle_timeout())
        || c.health_counts().is_some_and(|(i, o, _)| o > 0 || i == 0)
    {
        return None;
    }
    let mut d = c.draft(ctx, &KEEPALIVE_SHORTER_THAN_IDLE);
    d.title = format!("Keep-alive race between {} and its instances", c.name());
    d.headline = format!(
        "{} sees a low, steady rate of ELB 5xx ({}): the instances likely close keep-alive connections before its {} idle timeout.",
        c.name(),
        pct(ratio),
        secs(c.idle_timeout())
    );
    d.evidence(c.elb_line());
    d.evidence(format!("the hour before: {} of requests", pct(ratio_b)));
    match fix::whole(c.idle_timeout()) {
        Some(idle) => d.step(format!(
            "Set the instances' keep-alive timeout above the load balancer's idle timeout (now {}), to {} s: {}.",
            secs(c.idle_timeout()),
            idle + fix::KEEPALIVE_ABOVE_IDLE_S,
            fix::keepalive_directives(idle + fix::KEEPALIVE_ABOVE_IDLE_S)
        )),
        None => d.step(format!(
            "Set the instances' keep-alive timeout above the load balancer's idle timeout (now {}), for example Apache KeepAliveTimeout or nginx keepalive_timeout.",
            secs(c.idle_timeout())
        )),
    }
    d.step(format!(
        "Or lower the idle timeout of {} below the instances' keep-alive, if no request idles that long; fivexx cannot read the instances' keep-alive, so the value is yours to fill in.",
        c.name()
    ));
    fix::push(
        &mut d,
        c.idle_timeout_read().and_then(|now| {
            fix::clb_idle_timeout(
                c.name(),
                now,
                Proposed::Placeholder("seconds-below-the-instances-keep-alive"),
            )
        }),
    );
    Some(d)
}

pub(crate) const BACKEND_5XX: Rule = Rule {
    id: "clb.backend_5xx",
    kind: Kind::Cause,
    base: 0.85,
    codes: &[500, 502, 503, 504],
    sub_cause_of: None,
    cause: "The instances behind the Classic Load Balancer answer 5xx themselves (`HTTPCode_Backend_5XX`); the load balancer only passes them on.",
    needs: "Needs `HTTPCode_Backend_5XX` at least half of all 5xx in W, with the load balancer's own (`HTTPCode_ELB_5XX`) below a tenth of it.",
    differs: "The load balancer's own 5xx (no healthy instance, spillover, timeouts) are the other `clb.*` causes.",
    detect: Detect::Clb(backend_5xx),
};

fn backend_5xx(ctx: &Ctx<'_>, c: &ClbCtx<'_>) -> Option<Draft> {
    let s = &c.s;
    let all = s.backend_5xx + s.elb_5xx;
    if s.backend_5xx <= 0.0
        || share(s.backend_5xx, all) < BACKEND_DOMINANT
        || s.elb_5xx > ELB_ABOUT_ZERO * s.backend_5xx
    {
        return None;
    }
    let mut d = c.draft(ctx, &BACKEND_5XX);
    d.title = format!("The instances behind {} answer 5xx", c.name());
    d.headline = format!(
        "The instances behind {} answer {} of requests with 5xx themselves ({} in {} min).",
        c.name(),
        pct(share(s.backend_5xx, s.requests)),
        count(s.backend_5xx),
        s.w.minutes()
    );
    d.evidence(format!(
        "HTTPCode_Backend_5XX: {} in {} min ({} of {} requests)",
        count(s.backend_5xx),
        s.w.minutes(),
        pct(share(s.backend_5xx, s.requests)),
        count(s.requests)
    ));
    d.evidence(format!(
        "HTTPCode_ELB_5XX: {} (the load balancer's own)",
        count(s.elb_5xx)
    ));
    if let Some((i, o, t)) = c.health_counts() {
        d.evidence(format!(
            "{i}/{t} instances in service{}",
            if o > 0 {
                format!(", {o} out of service")
            } else {
                String::new()
            }
        ));
    }
    d.step(format!(
        "Read the application logs on the instances of {} for the errors; if a release went out just before, roll it back.",
        c.name()
    ));
    Some(d)
}
