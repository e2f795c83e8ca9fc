//! Names AWS gives things, and the few facts fivexx reads out of them: ARNs, ELB DNS names,
//! fully qualified domain names, statistic spellings. Every stage may use this module (it
//! does no I/O and depends on nothing but [`crate::untrusted`]).

/// The region that signs the global services (CloudFront, Route 53) and holds CloudFront's
/// metrics.
pub(crate) const GLOBAL_REGION: &str = "us-east-1";

/// The region field of an ARN (`arn:aws:SERVICE:REGION:ACCOUNT:...`), when it has one that
/// is a region name: an ARN is untrusted text, and its region builds links and clients.
pub(crate) fn region(arn: &str) -> Option<&str> {
    let mut parts = arn.splitn(6, ':');
    if parts.next()? != "arn" {
        return None;
    }
    let region = parts.nth(2)?;
    crate::untrusted::is_region(region).then_some(region)
}

/// The account field of an ARN, when it is an account id (twelve digits).
pub(crate) fn account(arn: &str) -> Option<&str> {
    let mut parts = arn.splitn(6, ':');
    if parts.next()? != "arn" {
        return None;
    }
    let account = parts.nth(3)?;
    crate::untrusted::is_account(account).then_some(account)
}

/// The partition of a region (`aws`, `aws-cn`, `aws-us-gov`).
pub(crate) fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// The load balancer ARN for a `LoadBalancer` metric dimension (`app/NAME/ID`).
pub(crate) fn load_balancer_arn(region: &str, account: &str, dimension: &str) -> String {
    format!(
        "arn:{}:elasticloadbalancing:{region}:{account}:loadbalancer/{dimension}",
        partition(region)
    )
}

/// The target group ARN for a `TargetGroup` metric dimension (`targetgroup/NAME/ID`).
pub(crate) fn target_group_arn(region: &str, account: &str, dimension: &str) -> String {
    format!(
        "arn:{}:elasticloadbalancing:{region}:{account}:{dimension}",
        partition(region)
    )
}

/// Whether a `LoadBalancer` dimension (`net/NAME/ID`) or ARN names a Network Load Balancer.
pub(crate) fn is_network_dimension(lb: &str) -> bool {
    lb.starts_with("net/") || lb.contains(":loadbalancer/net/")
}

/// The `LoadBalancer` metric dimension (`app/NAME/ID`) of a load balancer ARN.
pub(crate) fn load_balancer_dimension(lb_arn: &str) -> Option<&str> {
    lb_arn.split_once(":loadbalancer/").map(|(_, d)| d)
}

/// The `TargetGroup` metric dimension (`targetgroup/NAME/ID`) of a target group ARN.
pub(crate) fn target_group_dimension(tg_arn: &str) -> Option<&str> {
    tg_arn.find("targetgroup/").and_then(|i| tg_arn.get(i..))
}

/// The resource name inside a `LoadBalancer` dimension or ARN (`app/NAME/ID` → `NAME`).
pub(crate) fn load_balancer_name(dimension_or_arn: &str) -> &str {
    let d = load_balancer_dimension(dimension_or_arn).unwrap_or(dimension_or_arn);
    d.split('/').nth(1).unwrap_or(d)
}

/// The canonical form of an ELB DNS name for comparisons: lowercase, no trailing dot, no
/// `dualstack.` prefix.
pub(crate) fn normalize_dns(name: &str) -> String {
    let lower = name.trim_end_matches('.').to_ascii_lowercase();
    lower
        .strip_prefix("dualstack.")
        .map(str::to_owned)
        .unwrap_or(lower)
}

/// The region of an ELB DNS name (`NAME-NUMBER.REGION.elb.amazonaws.com`, with `internal-`
/// or `dualstack.` in front), or `None` when the name is not an ELB name.
pub(crate) fn elb_dns_region(name: &str) -> Option<String> {
    let n = normalize_dns(name);
    let region = match n
        .strip_suffix(".elb.amazonaws.com")
        .or_else(|| n.strip_suffix(".elb.amazonaws.com.cn"))
    {
        // ALB and Classic: NAME-NUMBER.REGION.elb.amazonaws.com
        Some(rest) => rest.rsplit_once('.')?.1,
        // NLB: NAME-ID.elb.REGION.amazonaws.com
        None => {
            let rest = n
                .strip_suffix(".amazonaws.com")
                .or_else(|| n.strip_suffix(".amazonaws.com.cn"))?;
            let (head, region) = rest.rsplit_once('.')?;
            if !head.ends_with(".elb") {
                return None;
            }
            region
        }
    };
    crate::untrusted::is_region(region).then(|| region.to_owned())
}

/// The bucket an S3 origin domain names (`BUCKET.s3.REGION.amazonaws.com`,
/// `BUCKET.s3.amazonaws.com`, `BUCKET.s3-website-REGION.amazonaws.com`,
/// `BUCKET.s3-website.REGION.amazonaws.com`).
pub(crate) fn s3_bucket(domain: &str) -> Option<String> {
    let d = normalize_dns(domain);
    let rest = d
        .strip_suffix(".amazonaws.com")
        .or_else(|| d.strip_suffix(".amazonaws.com.cn"))?;
    for marker in [".s3.", ".s3-website-", ".s3-website.", ".s3-"] {
        if let Some(at) = rest.find(marker) {
            let bucket = &rest[..at];
            return (!bucket.is_empty()).then(|| bucket.to_owned());
        }
    }
    rest.strip_suffix(".s3")
        .filter(|b| !b.is_empty())
        .map(str::to_owned)
}

/// The API id and region of an API Gateway endpoint (`ID.execute-api.REGION.amazonaws.com`).
pub(crate) fn execute_api(domain: &str) -> Option<(String, String)> {
    let d = normalize_dns(domain);
    let rest = d
        .strip_suffix(".amazonaws.com")
        .or_else(|| d.strip_suffix(".amazonaws.com.cn"))?;
    let (id, region) = rest.split_once(".execute-api.")?;
    (!id.is_empty()
        && id.chars().all(|c| c.is_ascii_alphanumeric())
        && crate::untrusted::is_region(region))
    .then(|| (id.to_owned(), region.to_owned()))
}

/// The load balancer ARN of a listener ARN
/// (`...:listener/app/NAME/ID/LISTENER` -> `...:loadbalancer/app/NAME/ID`).
pub(crate) fn listener_load_balancer_arn(listener_arn: &str) -> Option<String> {
    let (head, rest) = listener_arn.split_once(":listener/")?;
    if !head.starts_with("arn:") || !head.contains(":elasticloadbalancing:") {
        return None;
    }
    let parts: Vec<&str> = rest.split('/').collect();
    match parts.as_slice() {
        [kind @ ("app" | "net"), name, id, _listener] if !name.is_empty() && !id.is_empty() => {
            Some(format!("{head}:loadbalancer/{kind}/{name}/{id}"))
        }
        _ => None,
    }
}

/// The region of a Classic Load Balancer's DNS name (`NAME-NUMBER.REGION.elb.amazonaws.com`,
/// `internal-NAME-NUMBER.REGION.elb.amazonaws.com`, either with `dualstack.` in front;
/// `.elb.amazonaws.com.cn` in China), when that part is a region name: a DNS name in a world
/// is untrusted text, and its region builds clients and links.
pub(crate) fn classic_dns_region(dns: &str) -> Option<String> {
    let n = normalize_dns(dns);
    let rest = n
        .strip_suffix(".elb.amazonaws.com")
        .or_else(|| n.strip_suffix(".elb.amazonaws.com.cn"))?;
    let (name, region) = rest.rsplit_once('.')?;
    (!name.is_empty() && !name.contains('.') && crate::untrusted::is_region(region))
        .then(|| region.to_owned())
}

/// `name` with exactly one trailing dot.
pub(crate) fn fqdn(name: &str) -> String {
    format!("{}.", name.trim_end_matches('.'))
}

/// `SUM` (classic alarm JSON) and `Sum` (API) name the same statistic.
pub(crate) fn normalize_stat(stat: &str) -> String {
    match stat.to_ascii_lowercase().as_str() {
        "sum" => "Sum".into(),
        "average" | "avg" => "Average".into(),
        "minimum" | "min" => "Minimum".into(),
        "maximum" | "max" => "Maximum".into(),
        "samplecount" => "SampleCount".into(),
        other if other.starts_with('p') || other.starts_with("tm") => other.to_owned(),
        _ => stat.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elb_dns_names_of_every_kind_carry_their_region() {
        for (dns, region) in [
            ("web-1234.us-east-1.elb.amazonaws.com", Some("us-east-1")),
            (
                "internal-web-1234.eu-west-1.elb.amazonaws.com.",
                Some("eu-west-1"),
            ),
            (
                "dualstack.web-1234.us-east-1.elb.amazonaws.com",
                Some("us-east-1"),
            ),
            (
                "edge-0123456789abcdef.elb.us-west-2.amazonaws.com",
                Some("us-west-2"),
            ),
            ("a1b2c3.execute-api.us-east-1.amazonaws.com", None),
            ("bucket.s3.us-east-1.amazonaws.com", None),
            ("x.elb.<b>.amazonaws.com", None),
        ] {
            assert_eq!(elb_dns_region(dns).as_deref(), region, "{dns}");
        }
    }

    #[test]
    fn execute_api_endpoints_name_their_api() {
        assert_eq!(
            execute_api("a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com"),
            Some(("a1b2c3d4e5".into(), "eu-west-1".into()))
        );
        assert_eq!(execute_api("api.example.com"), None);
        assert_eq!(execute_api("x y.execute-api.us-east-1.amazonaws.com"), None);
        assert_eq!(execute_api("a1.execute-api.<x>.amazonaws.com"), None);
    }

    #[test]
    fn s3_origin_domains_name_their_bucket() {
        for (d, b) in [
            ("acme.s3.us-east-1.amazonaws.com", Some("acme")),
            ("acme.s3.amazonaws.com", Some("acme")),
            (
                "www.acme.com.s3-website-eu-west-1.amazonaws.com",
                Some("www.acme.com"),
            ),
            ("acme.s3-website.eu-west-1.amazonaws.com", Some("acme")),
            ("web-1.us-east-1.elb.amazonaws.com", None),
            (".s3.amazonaws.com", None),
        ] {
            assert_eq!(s3_bucket(d).as_deref(), b, "{d}");
        }
    }

    #[test]
    fn listener_arns_name_their_load_balancer() {
        assert_eq!(
            listener_load_balancer_arn(
                "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/net/edge/0123/4567"
            )
            .as_deref(),
            Some("arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/edge/0123")
        );
        assert_eq!(
            listener_load_balancer_arn("arn:aws:servicediscovery:x:listener/a/b/c/d"),
            None
        );
        assert_eq!(listener_load_balancer_arn("listener/app/a/b"), None);
    }

    #[test]
    fn arn_fields() {
        let a = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/web/abc";
        assert_eq!(region(a), Some("eu-west-1"));
        assert_eq!(account(a), Some("123456789012"));
        assert_eq!(load_balancer_dimension(a), Some("app/web/abc"));
        assert_eq!(load_balancer_name(a), "web");
        assert_eq!(
            region("arn:aws:cloudfront::123456789012:distribution/E1"),
            None
        );
        assert_eq!(region("not an arn"), None);
    }

    #[test]
    fn builds_arns_from_dimensions() {
        assert_eq!(
            load_balancer_arn("us-east-1", "1", "app/web/abc"),
            "arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/app/web/abc"
        );
        assert_eq!(
            target_group_arn("cn-north-1", "1", "targetgroup/tg/1"),
            "arn:aws-cn:elasticloadbalancing:cn-north-1:1:targetgroup/tg/1"
        );
        assert_eq!(
            target_group_dimension("arn:aws:elasticloadbalancing:r:1:targetgroup/tg/1"),
            Some("targetgroup/tg/1")
        );
    }

    #[test]
    fn elb_dns_names() {
        assert_eq!(
            elb_dns_region("dualstack.web-1.us-east-1.elb.amazonaws.com.").as_deref(),
            Some("us-east-1")
        );
        assert_eq!(
            elb_dns_region("internal-web-1.eu-west-1.elb.amazonaws.com").as_deref(),
            Some("eu-west-1")
        );
        assert_eq!(elb_dns_region("origin.example.com"), None);
        assert_eq!(
            normalize_dns("DualStack.Web-1.us-east-1.elb.amazonaws.com."),
            "web-1.us-east-1.elb.amazonaws.com"
        );
    }

    #[test]
    fn classic_dns_names() {
        for (dns, region) in [
            ("legacy-123.us-east-1.elb.amazonaws.com", "us-east-1"),
            (
                "internal-legacy-123.eu-west-1.elb.amazonaws.com",
                "eu-west-1",
            ),
            (
                "dualstack.legacy-123.ap-southeast-2.elb.amazonaws.com.",
                "ap-southeast-2",
            ),
            (
                "DualStack.Legacy-123.US-GOV-WEST-1.ELB.amazonaws.com",
                "us-gov-west-1",
            ),
            ("legacy-123.cn-north-1.elb.amazonaws.com.cn", "cn-north-1"),
        ] {
            assert_eq!(classic_dns_region(dns).as_deref(), Some(region), "{dns}");
        }
        for dns in [
            "",
            "origin.example.com",
            "elb.amazonaws.com",
            ".us-east-1.elb.amazonaws.com",
            "us-east-1.elb.amazonaws.com",
            "legacy-123.not_a_region.elb.amazonaws.com",
            "legacy-123.us-east.elb.amazonaws.com",
            "legacy-123.us-east-1a.elb.amazonaws.com",
            "a.legacy-123.us-east-1.elb.amazonaws.com",
            "legacy-123.us-east-1.elb.amazonaws.com.evil.example",
            // A Network Load Balancer's name puts the region after `elb`.
            "net-123.elb.us-east-1.amazonaws.com",
        ] {
            assert_eq!(classic_dns_region(dns), None, "{dns}");
        }
    }
}
