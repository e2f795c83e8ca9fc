//! What AWS uses when a setting was never set: an answer that omits a setting means its
//! default, and a rule that compares against the setting must compare against that.

/// ALB `idle_timeout.timeout_seconds` (Elastic Load Balancing: "the default is 60 seconds").
pub(crate) const IDLE_TIMEOUT_S: f64 = 60.0;

/// Target group health check timeout for HTTP and HTTPS targets (instances and IPs).
pub(crate) const HEALTH_CHECK_TIMEOUT_S: i32 = 5;
/// The same for a Lambda target group, whose function may need a cold start.
pub(crate) const LAMBDA_HEALTH_CHECK_TIMEOUT_S: i32 = 30;
/// Target group health check interval for HTTP and HTTPS targets.
pub(crate) const HEALTH_CHECK_INTERVAL_S: i32 = 30;
/// The same for a Lambda target group.
pub(crate) const LAMBDA_HEALTH_CHECK_INTERVAL_S: i32 = 35;
/// The HTTP codes a health check expects unless its matcher says otherwise.
pub(crate) const HEALTH_CHECK_MATCHER: &str = "200";

/// A CloudFront custom origin's `HTTPSPort` and `HTTPPort`.
pub(crate) const ORIGIN_HTTPS_PORT: i32 = 443;
pub(crate) const ORIGIN_HTTP_PORT: i32 = 80;
/// A CloudFront custom origin's `OriginReadTimeout`, in seconds.
pub(crate) const ORIGIN_READ_TIMEOUT_S: i32 = 30;

/// The health check timeout and interval of a target group whose answer omits them.
pub(crate) fn health_check_timing(target_type: Option<&str>) -> (i32, i32) {
    if target_type == Some("lambda") {
        (
            LAMBDA_HEALTH_CHECK_TIMEOUT_S,
            LAMBDA_HEALTH_CHECK_INTERVAL_S,
        )
    } else {
        (HEALTH_CHECK_TIMEOUT_S, HEALTH_CHECK_INTERVAL_S)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lambda_target_groups_have_their_own_health_check_defaults() {
        assert_eq!(health_check_timing(Some("lambda")), (30, 35));
        assert_eq!(health_check_timing(Some("instance")), (5, 30));
        assert_eq!(health_check_timing(None), (5, 30));
    }
}
