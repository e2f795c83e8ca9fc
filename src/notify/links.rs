//! AWS console deep links for the resources a verdict names.

use crate::evidence::arn;

/// Percent-encodes everything but unreserved characters (RFC 3986), so no resource name can
/// break out of a URL or a Slack link.
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn console(region: &str) -> String {
    format!("https://{region}.console.aws.amazon.com")
}

/// A labelled console link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub label: String,
    pub url: String,
}

/// The console page of a resource ARN (load balancer, target group, certificate) or a
/// `cloudfront:distribution/ID` reference.
pub fn for_resource(resource: &str) -> Option<Link> {
    if let Some(id) = resource.strip_prefix("cloudfront:distribution/") {
        return Some(Link {
            label: format!("Distribution {id}"),
            url: format!(
                "https://us-east-1.console.aws.amazon.com/cloudfront/v4/home#/distributions/{}",
                encode(id)
            ),
        });
    }
    let region = arn::region(resource)?;
    if resource.contains(":loadbalancer/") {
        return Some(Link {
            label: format!("Load balancer {}", arn::load_balancer_name(resource)),
            url: format!(
                "{}/ec2/home?region={region}#LoadBalancer:loadBalancerArn={}",
                console(region),
                encode(resource)
            ),
        });
    }
    if let Some(dim) = arn::target_group_dimension(resource) {
        let name = dim.split('/').nth(1).unwrap_or(dim);
        return Some(Link {
            label: format!("Target group {name}"),
            url: format!(
                "{}/ec2/home?region={region}#TargetGroup:targetGroupArn={}",
                console(region),
                encode(resource)
            ),
        });
    }
    if let Some((_, id)) = resource.split_once(":certificate/") {
        return Some(Link {
            label: "Certificate".into(),
            url: format!(
                "{}/acm/home?region={region}#/certificates/{}",
                console(region),
                encode(id)
            ),
        });
    }
    None
}

/// The CloudWatch console page of an alarm.
pub fn for_alarm(name: &str, region: &str) -> Link {
    Link {
        label: "Alarm".into(),
        url: format!(
            "{}/cloudwatch/home?region={region}#alarmsV2:alarm/{}",
            console(region),
            encode(name)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_for_each_kind() {
        let lb = for_resource("arn:aws:elasticloadbalancing:eu-west-1:1:loadbalancer/app/web/abc")
            .unwrap();
        assert_eq!(lb.label, "Load balancer web");
        assert!(lb.url.starts_with("https://eu-west-1.console.aws.amazon.com/ec2/home?region=eu-west-1#LoadBalancer:loadBalancerArn=arn%3Aaws%3A"));
        let tg =
            for_resource("arn:aws:elasticloadbalancing:eu-west-1:1:targetgroup/web-tg/1").unwrap();
        assert_eq!(tg.label, "Target group web-tg");
        let cert = for_resource("arn:aws:acm:us-east-1:1:certificate/uuid-1").unwrap();
        assert!(cert.url.ends_with("#/certificates/uuid-1"));
        let cf = for_resource("cloudfront:distribution/E1").unwrap();
        assert!(cf.url.ends_with("/distributions/E1"));
        assert!(for_resource("sg-123").is_none());
    }

    #[test]
    fn alarm_names_cannot_escape_the_url() {
        let l = for_alarm("x|<!channel> >y", "us-east-1");
        assert!(!l.url.contains('|') && !l.url.contains('<') && !l.url.contains('>'));
        assert!(!l.url.contains(' '));
    }
}
