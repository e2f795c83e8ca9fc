//! AWS console deep links for the resources a verdict names.

use crate::names;

/// Percent-encodes everything but unreserved characters (RFC 3986), so no resource name can
/// break out of a URL or a Slack link.
pub(crate) fn encode(s: &str) -> String {
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

/// Longest console URL fivexx puts in a message. A real resource or alarm name (at most 255
/// characters, each percent-encoded to at most 3) stays well under it; a longer one comes from
/// a hand-made or hostile payload, and its link is left out rather than cut (a cut link is a
/// broken link, and an uncapped one overflows Slack's 3,000-character element).
pub(crate) const MAX_URL: usize = 1000;

/// The console's host for a region; only for a region name, so no payload text can become
/// part of a URL's host or break out of a Slack link (`<!channel>` as a region).
fn console(region: &str) -> Option<String> {
    crate::untrusted::is_region(region).then(|| format!("https://{region}.console.aws.amazon.com"))
}

fn capped(l: Link) -> Option<Link> {
    (l.url.len() <= MAX_URL).then_some(l)
}

/// A labelled console link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Link {
    pub label: String,
    pub url: String,
}

/// The console page of a resource ARN (load balancer, target group, certificate) or a
/// `cloudfront:distribution/ID` reference; `None` for anything else, for an ARN whose region
/// is no region name, and for a URL longer than [`MAX_URL`].
pub(crate) fn for_resource(resource: &str) -> Option<Link> {
    link_for(resource).and_then(capped)
}

fn link_for(resource: &str) -> Option<Link> {
    if let Some(id) = resource.strip_prefix("cloudfront:distribution/") {
        return Some(Link {
            label: format!("Distribution {id}"),
            url: format!(
                "https://us-east-1.console.aws.amazon.com/cloudfront/v4/home#/distributions/{}",
                encode(id)
            ),
        });
    }
    let region = names::region(resource)?;
    let console = console(region)?;
    if let Some((_, name)) = resource.split_once(":loadbalancer/")
        && !name.contains('/')
    {
        // A Classic Load Balancer (`loadbalancer/NAME`): the console finds it by name.
        return Some(Link {
            label: format!("Load balancer {name}"),
            url: format!(
                "{console}/ec2/home?region={region}#LoadBalancers:search={}",
                encode(name)
            ),
        });
    }
    if resource.contains(":loadbalancer/") {
        return Some(Link {
            label: format!("Load balancer {}", names::load_balancer_name(resource)),
            url: format!(
                "{console}/ec2/home?region={region}#LoadBalancer:loadBalancerArn={}",
                encode(resource)
            ),
        });
    }
    if let Some(dim) = names::target_group_dimension(resource) {
        let name = dim.split('/').nth(1).unwrap_or(dim);
        return Some(Link {
            label: format!("Target group {name}"),
            url: format!(
                "{console}/ec2/home?region={region}#TargetGroup:targetGroupArn={}",
                encode(resource)
            ),
        });
    }
    if let Some((_, path)) = resource.split_once(":apigateway:") {
        // arn:aws:apigateway:REGION::/restapis/ID/stages/STAGE (or /apis/ for HTTP APIs).
        let mut parts = path.split('/').skip(1);
        let (_kind, id) = (parts.next()?, parts.next()?);
        let stage = parts.nth(1).unwrap_or_default();
        return Some(Link {
            label: if stage.is_empty() || stage == "*" {
                format!("API {id}")
            } else {
                format!("API {id} stage {stage}")
            },
            url: format!(
                // No `&`: Slack's mrkdwn would need it escaped; the host names the region.
                "{console}/apigateway/main/apis/{id}/stages?api={id}",
                id = encode(id)
            ),
        });
    }
    if let Some((_, name)) = resource.split_once(":function:") {
        let name = name.split(':').next().unwrap_or(name);
        return Some(Link {
            label: format!("Function {name}"),
            url: format!(
                "{console}/lambda/home?region={region}#/functions/{}",
                encode(name)
            ),
        });
    }
    if let Some((_, id)) = resource.split_once(":certificate/") {
        return Some(Link {
            label: "Certificate".into(),
            url: format!(
                "{console}/acm/home?region={region}#/certificates/{}",
                encode(id)
            ),
        });
    }
    None
}

/// The CloudWatch console page of an alarm; `None` when `region` is no region name or the
/// URL would be longer than [`MAX_URL`].
pub(crate) fn for_alarm(name: &str, region: &str) -> Option<Link> {
    capped(Link {
        label: "Alarm".into(),
        url: format!(
            "{}/cloudwatch/home?region={region}#alarmsV2:alarm/{}",
            console(region)?,
            encode(name)
        ),
    })
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
        let classic =
            for_resource("arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/legacy").unwrap();
        assert_eq!(classic.label, "Load balancer legacy");
        assert!(classic.url.ends_with("#LoadBalancers:search=legacy"));
        let nlb = for_resource("arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/net/edge/1")
            .unwrap();
        assert_eq!(nlb.label, "Load balancer edge");
        let api = for_resource("arn:aws:apigateway:us-east-1::/restapis/a1b2/stages/prod").unwrap();
        assert_eq!(api.label, "API a1b2 stage prod");
        assert_eq!(
            api.url,
            "https://us-east-1.console.aws.amazon.com/apigateway/main/apis/a1b2/stages?api=a1b2"
        );
        let f = for_resource("arn:aws:lambda:us-east-1:1:function:orders:live").unwrap();
        assert_eq!(f.label, "Function orders");
        assert!(
            f.url
                .ends_with("/lambda/home?region=us-east-1#/functions/orders")
        );
    }

    /// Defect: the region from the alarm ARN or the envelope went raw into console links, so
    /// `<!channel>` reached Slack unescaped.
    #[test]
    fn no_link_from_a_region_that_is_no_region() {
        for region in ["<!channel>", "us-east-1&x=<@U1>", "", "us-east-1|evil"] {
            assert!(for_alarm("web", region).is_none(), "{region}");
            let arn = format!(
                "arn:aws:elasticloadbalancing:{region}:123456789012:loadbalancer/app/web/1"
            );
            assert!(for_resource(&arn).is_none(), "{arn}");
        }
    }

    /// Defect: a long alarm name gave a 6,541-character Slack context element.
    #[test]
    fn overlong_links_are_left_out() {
        assert!(for_alarm(&"x".repeat(255), "us-east-1").is_some());
        assert!(for_alarm(&"<".repeat(400), "us-east-1").is_none());
    }

    #[test]
    fn alarm_names_cannot_escape_the_url() {
        let l = for_alarm("x|<!channel> >y", "us-east-1").unwrap();
        assert!(!l.url.contains('|') && !l.url.contains('<') && !l.url.contains('>'));
        assert!(!l.url.contains(' '));
    }
}
