//! The CloudFront side of the kit: the `Dist` builder.

use super::*;

// ---------------------------------------------------------------- distribution

/// A distribution with one custom origin `web-alb` on [`ORIGIN_DOMAIN`] (https-only to 443,
/// TLSv1.2, OriginReadTimeout 30 s), linked to the load balancer through a Route 53 alias;
/// the default behaviour sends no origin request policy (Host is the origin domain).
#[derive(Debug, Clone)]
pub(crate) struct Dist(pub DistributionEvidence);

impl Default for Dist {
    fn default() -> Self {
        Self::new()
    }
}

impl Dist {
    pub(crate) fn new() -> Self {
        let origin = Origin {
            id: ORIGIN_ID.to_owned(),
            domain_name: ORIGIN_DOMAIN.to_owned(),
            origin_path: None,
            custom_origin_config: Some(CustomOriginConfig {
                http_port: Some(80),
                https_port: Some(443),
                origin_protocol_policy: Some("https-only".into()),
                origin_ssl_protocols: Some(Items::new(vec!["TLSv1.2".into()])),
                origin_read_timeout: Some(30),
                origin_keepalive_timeout: Some(5),
            }),
            s3_origin_config: None,
            vpc_origin_config: None,
            connection_attempts: Some(3),
            connection_timeout: Some(10),
        };
        Self(DistributionEvidence {
            id: DIST_ID.to_owned(),
            config: Some(DistributionConfig {
                aliases: Some(Items::new(vec!["www.example.com".into()])),
                comment: Some("web".into()),
                enabled: Some(true),
                origins: Items::new(vec![origin]),
                default_cache_behavior: CacheBehavior {
                    path_pattern: None,
                    target_origin_id: ORIGIN_ID.to_owned(),
                    viewer_protocol_policy: Some("redirect-to-https".into()),
                    cache_policy_id: Some("658327ea-f89d-4fab-a63d-7e88639e58f6".into()),
                    origin_request_policy_id: None,
                    forwarded_values: None,
                    lambda_function_associations: None,
                    function_associations: None,
                },
                cache_behaviors: None,
                web_acl_id: None,
            }),
            origin_request_policies: BTreeMap::new(),
            origins: vec![OriginLink {
                origin_id: ORIGIN_ID.to_owned(),
                domain_name: ORIGIN_DOMAIN.to_owned(),
                alb_arn: Some(LB_ARN.to_owned()),
                elb_dns_name: Some(LB_DNS.to_owned()),
                how: format!("Route 53 alias {ORIGIN_DOMAIN} -> {LB_DNS}"),
                followed: true,
                ..OriginLink::default()
            }],
        })
    }

    fn cfg(&mut self) -> Option<&mut DistributionConfig> {
        self.0.config.as_mut()
    }

    fn origin(&mut self) -> Option<&mut Origin> {
        self.cfg().and_then(|c| c.origins.items.first_mut())
    }

    fn custom(&mut self) -> Option<&mut CustomOriginConfig> {
        self.origin().and_then(|o| o.custom_origin_config.as_mut())
    }

    /// The origin's domain; an ELB DNS name is linked directly, any other through Route 53.
    pub(crate) fn origin_domain(mut self, domain: &str) -> Self {
        if let Some(o) = self.origin() {
            o.domain_name = domain.to_owned();
        }
        if let Some(l) = self.0.origins.first_mut() {
            l.domain_name = domain.to_owned();
            l.how = if domain.ends_with(".elb.amazonaws.com") {
                "origin domain is the load balancer's DNS name".into()
            } else {
                format!("Route 53 alias {domain} -> {LB_DNS}")
            };
        }
        self
    }

    /// The origin is the Classic Load Balancer `name` (by its DNS name), no ELB v2 one.
    pub(crate) fn classic_origin(mut self, name: &str, dns: &str) -> Self {
        self = self.origin_domain(dns);
        if let Some(l) = self.0.origins.first_mut() {
            l.alb_arn = None;
            l.elb_dns_name = Some(dns.to_owned());
            l.unmatched = true;
            l.classic_name = Some(name.to_owned());
        }
        self
    }

    /// `OriginProtocolPolicy` (`https-only`, `http-only`, `match-viewer`).
    pub(crate) fn protocol_policy(mut self, policy: &str) -> Self {
        if let Some(c) = self.custom() {
            c.origin_protocol_policy = Some(policy.to_owned());
        }
        self
    }

    pub(crate) fn ssl_protocols(mut self, protocols: &[&str]) -> Self {
        if let Some(c) = self.custom() {
            c.origin_ssl_protocols = Some(Items::new(
                protocols.iter().map(|p| (*p).to_owned()).collect(),
            ));
        }
        self
    }

    /// `OriginReadTimeout` in seconds.
    pub(crate) fn read_timeout(mut self, secs: i32) -> Self {
        if let Some(c) = self.custom() {
            c.origin_read_timeout = Some(secs);
        }
        self
    }

    /// The default behaviour uses origin request policy `id` (read with
    /// `GetOriginRequestPolicy`).
    pub(crate) fn origin_request_policy(
        mut self,
        id: &str,
        name: &str,
        header_behavior: &str,
        headers: &[&str],
    ) -> Self {
        if let Some(c) = self.cfg() {
            c.default_cache_behavior.origin_request_policy_id = Some(id.to_owned());
        }
        self.0.origin_request_policies.insert(
            id.to_owned(),
            OriginRequestPolicy {
                id: id.to_owned(),
                origin_request_policy_config: OriginRequestPolicyConfig {
                    name: name.to_owned(),
                    headers_config: HeadersConfig {
                        header_behavior: header_behavior.to_owned(),
                        headers: (!headers.is_empty())
                            .then(|| Items::new(headers.iter().map(|h| (*h).to_owned()).collect())),
                    },
                },
            },
        );
        self
    }

    /// The origin is the ELB name `elb_dns`, and no load balancer has that name any more.
    pub(crate) fn origin_gone(mut self, elb_dns: &str) -> Self {
        self = self.origin_domain(elb_dns);
        if let Some(l) = self.0.origins.first_mut() {
            l.alb_arn = None;
            l.elb_dns_name = Some(elb_dns.to_owned());
            l.how = format!(
                "origin domain is an ELB DNS name; no load balancer in `{REGION}` has DNS name `{elb_dns}`"
            );
        }
        self
    }

    /// The origin is the S3 bucket `assets` (REST endpoint, origin access control).
    pub(crate) fn s3_origin(mut self) -> Self {
        if let Some(o) = self.origin() {
            o.domain_name = "assets.s3.us-east-1.amazonaws.com".into();
            o.custom_origin_config = None;
            o.s3_origin_config = Some(serde_json::json!({"OriginAccessIdentity": ""}));
        }
        self
    }

    /// The origin is a CloudFront VPC origin.
    pub(crate) fn vpc_origin(mut self) -> Self {
        if let Some(o) = self.origin() {
            o.vpc_origin_config = Some(serde_json::json!({
                "VpcOriginId": "vo_0a1b2c3d4e5f",
                "OriginReadTimeout": 30,
                "OriginKeepaliveTimeout": 5
            }));
        }
        self
    }

    pub(crate) fn web_acl(mut self) -> Self {
        if let Some(c) = self.cfg() {
            c.web_acl_id = Some(format!(
                "arn:aws:wafv2:us-east-1:{ACCOUNT}:global/webacl/cdn-acl/a1b2c3d4-5678-90ab-cdef-EXAMPLE11111"
            ));
        }
        self
    }

    /// A Lambda@Edge function on the default behaviour's origin-response.
    pub(crate) fn lambda_edge(mut self) -> Self {
        if let Some(c) = self.cfg() {
            c.default_cache_behavior.lambda_function_associations =
                Some(Items::new(vec![LambdaFunctionAssociation {
                    lambda_function_arn: LAMBDA_EDGE_ARN.to_owned(),
                    event_type: "origin-response".into(),
                }]));
        }
        self
    }

    /// A CloudFront Function on the default behaviour's viewer-request.
    pub(crate) fn function(mut self) -> Self {
        if let Some(c) = self.cfg() {
            c.default_cache_behavior.function_associations =
                Some(Items::new(vec![FunctionAssociation {
                    function_arn: FUNCTION_ARN.to_owned(),
                    event_type: "viewer-request".into(),
                }]));
        }
        self
    }
}
