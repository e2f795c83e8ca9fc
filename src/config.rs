//! Lambda configuration: the environment, validated once at cold start.
//!
//! Every variable, its default and what happens when it is wrong is listed in the README's
//! "Configuration" table. A wrong value stops the cold start with one clear error, so a bad
//! deploy fails at once instead of at the first alarm.

use std::time::Duration;

use thiserror::Error;

/// Where a secret lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretRef {
    /// A Secrets Manager secret (name or ARN); its string is the value, or a JSON object with
    /// `url`, `webhook_url` or `token`.
    SecretsManager(String),
    /// An SSM Parameter Store parameter (String or SecureString), read with decryption.
    Parameter(String),
}

impl SecretRef {
    /// For logs: which store and which name, never the value.
    pub(crate) fn describe(&self) -> String {
        match self {
            SecretRef::SecretsManager(id) => format!("secretsmanager:{id}"),
            SecretRef::Parameter(name) => format!("ssm:{name}"),
        }
    }
}

/// How to reach Slack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SlackTarget {
    /// An incoming webhook; the secret holds its URL.
    Webhook(SecretRef),
    /// `chat.postMessage` with a bot token to a channel.
    Bot { token: SecretRef, channel: String },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub slack: Option<SlackTarget>,
    /// Base URL of the Slack Web API (tests point it at a local sink).
    pub slack_api_url: String,
    pub sns_topic_arn: Option<String>,
    /// Publish the Amazon Q Developer in chat applications custom notification too.
    pub sns_chat_notification: bool,
    /// The triage's gathering deadline is at most this.
    pub gather_timeout: Duration,
    /// Kept free before the Lambda deadline: notification retries stop here.
    pub deadline_margin: Duration,
    /// Regions where CloudFront origin ALBs may live, besides the home region (listed in the
    /// first wave of a CloudFront triage).
    pub origin_regions: Vec<String>,
    /// The DynamoDB table of incidents (`FIVEXX_INCIDENT_TABLE`); without it the function is
    /// stateless and posts every delivery.
    pub incident_table: Option<String>,
    /// A new ALARM this soon after an incident was resolved reopens it (in its thread)
    /// instead of opening another (`FIVEXX_FLAP_WINDOW_MIN`, default 30).
    pub flap_window: Duration,
    /// One incident-store call may take this long before the verdict is posted without it
    /// (`FIVEXX_INCIDENT_TIMEOUT_MS`, default 3 s: DynamoDB answers in milliseconds, so 3 s
    /// means it is in trouble, and the post must not wait for it).
    pub incident_timeout: Duration,
    /// An alarm on a resource another incident opened this recently joins that incident's
    /// thread (`FIVEXX_GROUP_WINDOW_MIN`, default 10).
    pub group_window: Duration,
    /// Calls are paced to AWS's published rate limits (`FIVEXX_API_PACING`, default `true`;
    /// `false` for an endpoint without them: an emulator, or an account whose limits AWS
    /// raised).
    pub api_pacing: bool,
    /// Alarms on the same resources share what one triage read, through the incident table
    /// (`FIVEXX_SHARE_EVIDENCE`, default `true`; needs `FIVEXX_INCIDENT_TABLE`).
    pub share_evidence: bool,
}

/// `FIVEXX_API_PACING` (the CLI reads it too).
pub(crate) fn api_pacing(get: &impl Fn(&str) -> Option<String>) -> Result<bool, ConfigError> {
    boolean(get, "FIVEXX_API_PACING", true)
}

/// A `true`/`false` variable (any case), `default` when unset.
fn boolean(
    get: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: bool,
) -> Result<bool, ConfigError> {
    match get(name).as_deref() {
        None => Ok(default),
        Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
        Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
        Some(v) => Err(ConfigError::Invalid {
            name,
            value: crate::error::short(v),
            why: "expected `true` or `false`",
        }),
    }
}

/// How long one incident-store call may take by default (see [`Config::incident_timeout`]).
pub(crate) const DEFAULT_INCIDENT_TIMEOUT: Duration = Duration::from_secs(3);

/// A DynamoDB table name: 3 to 255 of `a-z A-Z 0-9 _ - .`.
pub(crate) fn check_table_name(name: &str) -> Result<(), &'static str> {
    let ok_chars = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if (3..=255).contains(&name.len()) && ok_chars {
        Ok(())
    } else {
        Err("not a DynamoDB table name (3 to 255 of a-z, A-Z, 0-9, _, - and .)")
    }
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("`{name}` is `{value}`: {why}")]
    Invalid {
        name: &'static str,
        value: String,
        why: &'static str,
    },
    #[error("set only one of `{0}` and `{1}`")]
    Both(&'static str, &'static str),
    #[error("`{0}` is set but `FIVEXX_SLACK_CHANNEL` is not: a bot token needs a channel")]
    NoChannel(&'static str),
    #[error(
        "no notification channel: set `FIVEXX_SLACK_WEBHOOK_SECRET`, `FIVEXX_SLACK_WEBHOOK_PARAMETER`, `FIVEXX_SLACK_BOT_TOKEN_SECRET`, `FIVEXX_SLACK_BOT_TOKEN_PARAMETER` or `FIVEXX_SNS_TOPIC_ARN`"
    )]
    NoChannelConfigured,
}

fn secret_ref(
    get: &impl Fn(&str) -> Option<String>,
    secret: &'static str,
    parameter: &'static str,
) -> Result<Option<SecretRef>, ConfigError> {
    match (get(secret), get(parameter)) {
        (Some(_), Some(_)) => Err(ConfigError::Both(secret, parameter)),
        (Some(s), None) => Ok(Some(SecretRef::SecretsManager(s))),
        (None, Some(p)) if cfg!(feature = "ssm") => Ok(Some(SecretRef::Parameter(p))),
        (None, Some(p)) => Err(ConfigError::Invalid {
            name: parameter,
            value: crate::error::short(&p),
            why: "this build has no Parameter Store support (cargo feature `ssm`, on by default)",
        }),
        (None, None) => Ok(None),
    }
}

/// A whole number within `range` from variable `name`, or `default` when unset.
fn bounded(
    get: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: u64,
    range: std::ops::RangeInclusive<u64>,
    why: &'static str,
) -> Result<u64, ConfigError> {
    let Some(v) = get(name) else {
        return Ok(default);
    };
    match v.trim().parse::<u64>() {
        Ok(n) if range.contains(&n) => Ok(n),
        _ => Err(ConfigError::Invalid {
            name,
            value: crate::error::short(&v),
            why,
        }),
    }
}

/// A whole number of milliseconds within `range`, or `default` when unset.
fn millis(
    get: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: u64,
    range: std::ops::RangeInclusive<u64>,
) -> Result<Duration, ConfigError> {
    let why = "expected a whole number of milliseconds in range";
    bounded(get, name, default, range, why).map(Duration::from_millis)
}

/// A whole number of minutes within `range`, or `default` when unset.
fn minutes(
    get: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: u64,
    range: std::ops::RangeInclusive<u64>,
) -> Result<Duration, ConfigError> {
    let why = "expected a whole number of minutes in range";
    bounded(get, name, default, range, why).map(|m| Duration::from_secs(m * 60))
}

/// A comma-separated list of region names (`eu-west-1,us-west-2`).
pub(crate) fn parse_regions(value: Option<&str>) -> Result<Vec<String>, ConfigError> {
    let Some(value) = value else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for r in value.split(',').map(str::trim).filter(|r| !r.is_empty()) {
        let ok = crate::untrusted::is_region(r);
        if !ok {
            return Err(ConfigError::Invalid {
                name: "FIVEXX_ORIGIN_REGIONS",
                value: crate::error::short(r),
                why: "not a region name (e.g. `eu-west-1`)",
            });
        }
        out.push(r.to_owned());
    }
    Ok(out)
}

/// The Slack Web API base must be https, or plain http to a loopback address only (a local
/// sink): the bot token travels in its requests. The URL is parsed, not matched by prefix:
/// `http://127.0.0.1.evil.example` and `http://127.0.0.1@evil.example` name remote hosts.
pub(crate) fn check_slack_api_url(url: &str) -> Result<(), &'static str> {
    let parsed = reqwest::Url::parse(url).map_err(|_| "not a URL")?;
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("must not carry user information");
    }
    let host = parsed.host_str().unwrap_or_default();
    let loopback = host == "localhost"
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    match parsed.scheme() {
        "https" if !host.is_empty() => Ok(()),
        "http" if loopback => Ok(()),
        _ => Err("must be https (or http to a loopback address, for a local sink)"),
    }
}

impl Config {
    /// Reads the process environment.
    pub(crate) fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok().filter(|v| !v.trim().is_empty()))
    }

    /// Reads configuration through `get` (tests pass a map).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let webhook = secret_ref(
            &get,
            "FIVEXX_SLACK_WEBHOOK_SECRET",
            "FIVEXX_SLACK_WEBHOOK_PARAMETER",
        )?;
        let token = secret_ref(
            &get,
            "FIVEXX_SLACK_BOT_TOKEN_SECRET",
            "FIVEXX_SLACK_BOT_TOKEN_PARAMETER",
        )?;
        let slack = match (webhook, token) {
            (Some(_), Some(_)) => {
                return Err(ConfigError::Both(
                    "FIVEXX_SLACK_WEBHOOK_*",
                    "FIVEXX_SLACK_BOT_TOKEN_*",
                ));
            }
            (Some(w), None) => Some(SlackTarget::Webhook(w)),
            (None, Some(t)) => match get("FIVEXX_SLACK_CHANNEL") {
                Some(channel) => Some(SlackTarget::Bot { token: t, channel }),
                None => return Err(ConfigError::NoChannel("FIVEXX_SLACK_BOT_TOKEN_*")),
            },
            (None, None) => None,
        };
        let slack_api_url = get("FIVEXX_SLACK_API_URL")
            .unwrap_or_else(|| "https://slack.com/api".into())
            .trim_end_matches('/')
            .to_owned();
        if let Err(why) = check_slack_api_url(&slack_api_url) {
            return Err(ConfigError::Invalid {
                name: "FIVEXX_SLACK_API_URL",
                value: crate::error::short(&slack_api_url),
                why,
            });
        }
        let sns_topic_arn = get("FIVEXX_SNS_TOPIC_ARN");
        if let Some(arn) = &sns_topic_arn
            && !(arn.starts_with("arn:") && arn.contains(":sns:"))
        {
            return Err(ConfigError::Invalid {
                name: "FIVEXX_SNS_TOPIC_ARN",
                value: crate::error::short(arn),
                why: "not an SNS topic ARN",
            });
        }
        let sns_chat_notification = boolean(&get, "FIVEXX_SNS_CHAT_NOTIFICATION", false)?;
        if slack.is_none() && sns_topic_arn.is_none() {
            return Err(ConfigError::NoChannelConfigured);
        }
        let origin_regions = parse_regions(get("FIVEXX_ORIGIN_REGIONS").as_deref())?;
        let incident_table = get("FIVEXX_INCIDENT_TABLE").filter(|t| !t.is_empty());
        if let Some(t) = &incident_table
            && let Err(why) = check_table_name(t)
        {
            return Err(ConfigError::Invalid {
                name: "FIVEXX_INCIDENT_TABLE",
                value: crate::error::short(t),
                why,
            });
        }
        Ok(Config {
            incident_table,
            flap_window: minutes(&get, "FIVEXX_FLAP_WINDOW_MIN", 30, 0..=1440)?,
            incident_timeout: millis(
                &get,
                "FIVEXX_INCIDENT_TIMEOUT_MS",
                DEFAULT_INCIDENT_TIMEOUT.as_millis() as u64,
                100..=30_000,
            )?,
            group_window: minutes(&get, "FIVEXX_GROUP_WINDOW_MIN", 10, 0..=1440)?,
            share_evidence: boolean(&get, "FIVEXX_SHARE_EVIDENCE", true)?,
            api_pacing: api_pacing(&get)?,
            origin_regions,
            slack,
            slack_api_url,
            sns_topic_arn,
            sns_chat_notification,
            gather_timeout: millis(&get, "FIVEXX_GATHER_TIMEOUT_MS", 10_000, 100..=900_000)?,
            deadline_margin: millis(&get, "FIVEXX_DEADLINE_MARGIN_MS", 1_500, 0..=60_000)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn cfg(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn webhook_from_a_secret() {
        let c = cfg(&[("FIVEXX_SLACK_WEBHOOK_SECRET", "fivexx/slack")]).unwrap();
        assert_eq!(
            c.slack,
            Some(SlackTarget::Webhook(SecretRef::SecretsManager(
                "fivexx/slack".into()
            )))
        );
        assert_eq!(c.gather_timeout, Duration::from_secs(10));
        assert!(!c.sns_chat_notification);
    }

    #[test]
    fn wrong_or_conflicting_settings_fail_at_cold_start() {
        assert_eq!(cfg(&[]), Err(ConfigError::NoChannelConfigured));
        assert!(matches!(
            cfg(&[
                ("FIVEXX_SLACK_WEBHOOK_SECRET", "a"),
                ("FIVEXX_SLACK_WEBHOOK_PARAMETER", "b")
            ]),
            Err(ConfigError::Both(..))
        ));
        assert!(matches!(
            cfg(&[("FIVEXX_SLACK_BOT_TOKEN_SECRET", "t")]),
            Err(ConfigError::NoChannel(_))
        ));
        let e = cfg(&[("FIVEXX_SNS_TOPIC_ARN", "my-topic")]).unwrap_err();
        assert!(e.to_string().contains("`my-topic`"), "{e}");
        let e = cfg(&[
            ("FIVEXX_SNS_TOPIC_ARN", "arn:aws:sns:us-east-1:1:t"),
            ("FIVEXX_GATHER_TIMEOUT_MS", "soon"),
        ])
        .unwrap_err();
        assert!(e.to_string().contains("FIVEXX_GATHER_TIMEOUT_MS"), "{e}");
        let e = cfg(&[
            ("FIVEXX_SNS_TOPIC_ARN", "arn:aws:sns:us-east-1:1:t"),
            ("FIVEXX_SLACK_API_URL", "http://evil.example"),
        ])
        .unwrap_err();
        assert!(e.to_string().contains("https"), "{e}");
    }

    #[test]
    fn pacing_and_sharing_are_on_unless_turned_off() {
        let with = |name: &'static str, value: Option<&'static str>| {
            Config::from_lookup(move |k| match k {
                "FIVEXX_SNS_TOPIC_ARN" => Some("arn:aws:sns:us-east-1:123456789012:t".into()),
                k if k == name => value.map(str::to_owned),
                _ => None,
            })
        };
        let default = with("-", None).unwrap();
        assert!(default.api_pacing && default.share_evidence);
        assert!(!with("FIVEXX_API_PACING", Some("FALSE")).unwrap().api_pacing);
        assert!(
            !with("FIVEXX_SHARE_EVIDENCE", Some("false"))
                .unwrap()
                .share_evidence
        );
        for name in ["FIVEXX_API_PACING", "FIVEXX_SHARE_EVIDENCE"] {
            assert!(
                matches!(with(name, Some("off")), Err(ConfigError::Invalid { name: n, .. }) if n == name),
                "{name}"
            );
        }
    }

    #[test]
    fn the_incident_table_is_optional_and_checked() {
        let with = |table: &str| {
            Config::from_lookup(|k| match k {
                "FIVEXX_SNS_TOPIC_ARN" => Some("arn:aws:sns:us-east-1:123456789012:t".into()),
                "FIVEXX_INCIDENT_TABLE" => Some(table.into()),
                _ => None,
            })
        };
        assert_eq!(
            with("fivexx-incidents").unwrap().incident_table.as_deref(),
            Some("fivexx-incidents")
        );
        assert_eq!(with("").unwrap().incident_table, None);
        for bad in ["ab", "no spaces", "a/b", &"x".repeat(256)] {
            assert!(
                matches!(
                    with(bad),
                    Err(ConfigError::Invalid {
                        name: "FIVEXX_INCIDENT_TABLE",
                        ..
                    })
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn origin_regions_are_region_names() {
        assert_eq!(
            parse_regions(Some("eu-west-1, us-gov-west-1")).unwrap(),
            ["eu-west-1", "us-gov-west-1"]
        );
        assert!(parse_regions(Some("europe")).is_err());
        assert!(parse_regions(None).unwrap().is_empty());
    }

    #[test]
    #[cfg(not(feature = "ssm"))]
    fn a_parameter_fails_at_cold_start_without_the_ssm_feature() {
        let e = cfg(&[("FIVEXX_SLACK_WEBHOOK_PARAMETER", "/fivexx/webhook")]).unwrap_err();
        assert!(e.to_string().contains("`ssm`"), "{e}");
        assert!(
            e.to_string().contains("FIVEXX_SLACK_WEBHOOK_PARAMETER"),
            "{e}"
        );
    }

    #[test]
    #[cfg(feature = "ssm")]
    fn bot_token_with_channel() {
        let c = cfg(&[
            ("FIVEXX_SLACK_BOT_TOKEN_PARAMETER", "/fivexx/token"),
            ("FIVEXX_SLACK_CHANNEL", "C123"),
            (
                "FIVEXX_SNS_TOPIC_ARN",
                "arn:aws:sns:us-east-1:123456789012:verdicts",
            ),
            ("FIVEXX_SNS_CHAT_NOTIFICATION", "TRUE"),
        ])
        .unwrap();
        assert_eq!(
            c.slack,
            Some(SlackTarget::Bot {
                token: SecretRef::Parameter("/fivexx/token".into()),
                channel: "C123".into()
            })
        );
        assert!(c.sns_chat_notification);
    }

    /// Defect: `FIVEXX_SLACK_API_URL` was accepted by prefix, so `http://127.0.0.1.evil.example`
    /// (a remote host) would have received the bot token in clear text.
    #[test]
    fn slack_api_url_is_parsed_not_prefix_matched() {
        for ok in [
            "https://slack.com/api",
            "http://127.0.0.1:8080/api",
            "http://127.0.0.2/api",
            "http://[::1]:9000/api",
            "http://localhost:3000/api",
        ] {
            assert_eq!(check_slack_api_url(ok), Ok(()), "{ok}");
        }
        for bad in [
            "http://127.0.0.1.evil.example/api",
            "http://127.0.0.1@evil.example/api",
            "https://user:pass@slack.com/api",
            "http://slack.com/api",
            "ftp://127.0.0.1/api",
            "127.0.0.1:8080",
            "https://",
        ] {
            assert!(check_slack_api_url(bad).is_err(), "{bad}");
        }
    }
}
