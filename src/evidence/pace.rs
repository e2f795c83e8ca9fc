//! Client-side pacing: AWS throttles its control-plane APIs per account and region with token
//! buckets, so a wide wave of calls (55 ELB calls for a 50-target-group load balancer) would
//! drain the bucket and get `Throttling` errors, which the SDK's retries turn into seconds of
//! backoff or gaps. Pacing each service's calls to its bucket in the process instead lets the
//! burst go out at once and the rest at the refill rate: slower than an unlimited endpoint,
//! never slower than AWS allows, and without errors.
//!
//! The buckets are per process: other callers in the account (consoles, Terraform,
//! controllers, another container) share AWS's bucket unseen, so the SDK's retries stay as
//! the second line.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// A token bucket: `burst` tokens, refilled at `per_second`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Limit {
    pub burst: f64,
    pub per_second: f64,
}

/// AWS's bucket for each service (by IAM prefix), from its published limits where there are
/// some, else a conservative figure:
/// - `elasticloadbalancing`: the ELB API's `Describe*` bucket, 40 tokens refilled at 10 per
///   second (Elastic Load Balancing user guide, "API request throttling"); Classic and v2 are
///   paced together, as one IAM namespace.
/// - `route53`: 50 tokens refilled at 10 per second per account, and a bucket per action of
///   the same size (Route 53 developer guide, "Throttling of API requests").
/// - `acm`: `DescribeCertificate` 10 per second, `ListCertificates` 8 (ACM quotas): 8.
/// - `cloudwatch`: `GetMetricData` 50 per second, `ListMetrics` 25, `DescribeAlarms` 9
///   (CloudWatch service quotas): 9, the lowest.
/// - `cloudfront`, `apigateway`, `lambda` (control plane): no per-operation figure found for
///   the reads fivexx makes; 5 per second with a burst of 10, conservative.
pub(crate) fn aws_limit(service: &str) -> Option<Limit> {
    let (burst, per_second) = match service {
        "elasticloadbalancing" => (40.0, 10.0),
        "route53" => (50.0, 10.0),
        "acm" => (8.0, 8.0),
        "cloudwatch" => (9.0, 9.0),
        "cloudfront" | "apigateway" | "lambda" => (10.0, 5.0),
        _ => return None,
    };
    Some(Limit { burst, per_second })
}

/// Tokens of AWS's burst left unused: a request reaches AWS some milliseconds after its token
/// is taken here, so the two buckets do not start together. Measured without this margin, a
/// lone 50-group triage still met 3 to 18 throttles against an exact model of the ELB bucket.
const BURST_SPARE: f64 = 2.0;

/// The share of AWS's refill rate used: the rest absorbs that jitter and the retries of calls
/// another caller got throttled (a retry takes a token this pacer did not count).
const REFILL_SHARE: f64 = 0.95;

/// The bucket fivexx paces a service to: AWS's ([`aws_limit`]) with a margin.
pub(crate) fn limit(service: &str) -> Option<Limit> {
    aws_limit(service).map(|aws| Limit {
        burst: (aws.burst - BURST_SPARE).max(1.0),
        per_second: aws.per_second * REFILL_SHARE,
    })
}

#[derive(Debug)]
struct Bucket {
    limit: Limit,
    tokens: f64,
    at: Instant,
}

impl Bucket {
    /// Takes a token now, or says how long until one is there (and reserves it: the caller
    /// waits that long, then proceeds). A token that would come after `latest` is not
    /// reserved: the wait is the error.
    fn take(&mut self, now: Instant, latest: Option<Instant>) -> Result<Duration, Duration> {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.limit.per_second).min(self.limit.burst);
        self.at = now;
        let after = self.tokens - 1.0;
        let wait = if after >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-after / self.limit.per_second)
        };
        if latest.is_some_and(|latest| now + wait > latest) {
            return Err(wait);
        }
        self.tokens = after;
        Ok(wait)
    }
}

/// One bucket per service and region, shared by every call of the process.
#[derive(Debug, Default)]
pub(crate) struct Pacer {
    buckets: Mutex<HashMap<(String, String), Bucket>>,
    /// Every call goes at once (`FIVEXX_API_PACING=false`).
    off: bool,
}

impl Pacer {
    /// A pacer that lets every call go at once: for an endpoint without AWS's limits.
    pub(crate) fn off() -> Self {
        Self {
            off: true,
            ..Self::default()
        }
    }
    /// Waits until a call to `service` in `region` fits its bucket. Services without a limit
    /// go at once.
    #[cfg(test)]
    pub(crate) async fn acquire(&self, service: &str, region: &str) {
        let _ = self.acquire_by(service, region, None).await;
    }

    /// Waits until a call to `service` in `region` fits its bucket, unless it could not start
    /// by `latest`: then nothing is taken and the wait it would have needed is returned (the
    /// call is skipped for budget, `evidence::gather::calls`). Services without a limit go at
    /// once.
    pub(crate) async fn acquire_by(
        &self,
        service: &str,
        region: &str,
        latest: Option<Instant>,
    ) -> Result<(), Duration> {
        let Some(limit) = limit(service).filter(|_| !self.off) else {
            return Ok(());
        };
        let now = Instant::now();
        let wait = match self.buckets.lock() {
            Ok(mut b) => b
                .entry((service.to_owned(), region.to_owned()))
                .or_insert(Bucket {
                    limit,
                    tokens: limit.burst,
                    at: now,
                })
                .take(now, latest),
            // A poisoned lock (a panic elsewhere while holding it): go unpaced.
            Err(_) => Ok(Duration::ZERO),
        }?;
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// AWS's side, modelled: a bucket that refuses a call when empty (a `Throttling` error).
    struct Aws {
        limit: Limit,
        tokens: f64,
        at: Instant,
    }

    impl Aws {
        fn call(&mut self, now: Instant) -> bool {
            let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
            self.tokens = (self.tokens + elapsed * self.limit.per_second).min(self.limit.burst);
            self.at = now;
            // A nanosecond's worth of refill is rounding, not a missing token.
            if self.tokens >= 1.0 - 1e-9 {
                self.tokens -= 1.0;
                true
            } else {
                false
            }
        }
    }

    /// 55 ELB calls in one wave (a 50-target-group load balancer): unpaced, 15 of them hit
    /// an empty bucket; paced, none does, the first 38 go at once and the rest at 9.5 a
    /// second, the last at 1.79 s.
    #[tokio::test(start_paused = true)]
    async fn pacing_turns_a_throttled_burst_into_successful_calls() {
        let aws_limit = aws_limit("elasticloadbalancing").unwrap();
        let start = Instant::now();
        let mut unpaced = Aws {
            limit: aws_limit,
            tokens: aws_limit.burst,
            at: start,
        };
        let refused = (0..55).filter(|_| !unpaced.call(start)).count();
        assert_eq!(refused, 15);

        let pacer = std::sync::Arc::new(Pacer::default());
        let aws = std::sync::Arc::new(Mutex::new(Aws {
            limit: aws_limit,
            tokens: aws_limit.burst,
            at: start,
        }));
        let calls = (0..55).map(|_| {
            let (pacer, aws) = (pacer.clone(), aws.clone());
            async move {
                pacer.acquire("elasticloadbalancing", "us-east-1").await;
                // AWS sees the request 20 ms after its token was taken here.
                tokio::time::sleep(Duration::from_millis(20)).await;
                let now = Instant::now();
                let ok = aws.lock().unwrap().call(now);
                (ok, now - start)
            }
        });
        let results = futures::future::join_all(calls).await;
        assert!(results.iter().all(|(ok, _)| *ok), "no call throttled");
        let first = Duration::from_millis(20);
        let at_once = results.iter().filter(|(_, t)| *t == first).count();
        assert_eq!(at_once, 38);
        let last = results.iter().map(|(_, t)| *t).max().unwrap() - first;
        assert!(
            (1.78..=1.80).contains(&last.as_secs_f64()),
            "the 55th call at {last:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn buckets_are_per_service_and_region() {
        let pacer = Pacer::default();
        let start = Instant::now();
        for _ in 0..38 {
            pacer.acquire("elasticloadbalancing", "us-east-1").await;
        }
        // Another region and another service have their own buckets; DynamoDB is not paced.
        pacer.acquire("elasticloadbalancing", "eu-west-1").await;
        pacer.acquire("acm", "us-east-1").await;
        for _ in 0..100 {
            pacer.acquire("dynamodb", "us-east-1").await;
        }
        assert!(Instant::now() - start < Duration::from_millis(1));
        pacer.acquire("elasticloadbalancing", "us-east-1").await;
        assert_token_time(Instant::now() - start);
    }

    /// Tokio's timer has millisecond steps: a wait ends within a millisecond after it is due.
    fn assert_token_time(elapsed: Duration) {
        let due = next_token();
        assert!(
            elapsed >= due && elapsed <= due + Duration::from_millis(1),
            "{elapsed:?}, due {due:?}"
        );
    }

    /// When the 39th ELB call of a burst may go: one token at 9.5 a second.
    fn next_token() -> Duration {
        Duration::from_secs_f64(1.0 / limit("elasticloadbalancing").unwrap().per_second)
    }

    /// A call that could not start before its latest instant takes no token: the calls
    /// behind it are not delayed by a call that will not be made.
    #[tokio::test(start_paused = true)]
    async fn a_call_past_its_latest_start_is_refused_and_takes_nothing() {
        let pacer = Pacer::default();
        let start = Instant::now();
        for _ in 0..38 {
            pacer.acquire("elasticloadbalancing", "us-east-1").await;
        }
        // The 39th token comes at 105 ms: too late for a call that must start by 50 ms.
        let refused = pacer
            .acquire_by(
                "elasticloadbalancing",
                "us-east-1",
                Some(start + Duration::from_millis(50)),
            )
            .await;
        assert_eq!(refused, Err(next_token()));
        assert_eq!(Instant::now(), start, "a refused call does not wait");
        // It took nothing: the next call still gets the token at 105 ms.
        let ok = pacer
            .acquire_by(
                "elasticloadbalancing",
                "us-east-1",
                Some(start + next_token()),
            )
            .await;
        assert_eq!(ok, Ok(()));
        assert_token_time(Instant::now() - start);
        // Unlimited services are never refused.
        let dynamo = pacer.acquire_by("dynamodb", "us-east-1", Some(start)).await;
        assert_eq!(dynamo, Ok(()));
    }

    #[tokio::test(start_paused = true)]
    async fn a_pacer_turned_off_lets_every_call_go_at_once() {
        let pacer = Pacer::off();
        let start = Instant::now();
        for _ in 0..200 {
            assert_eq!(
                pacer
                    .acquire_by("elasticloadbalancing", "us-east-1", Some(start))
                    .await,
                Ok(())
            );
        }
        assert_eq!(Instant::now(), start);
    }
}
