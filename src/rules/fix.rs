//! Exact fixes: for a finding whose remedy is a configuration change, the AWS CLI command that
//! makes the change with the identifiers and values read from the evidence, and the command
//! that puts the value read back ("rollback"). fivexx never runs either: they are next-step
//! lines a person reads, checks and pastes, `` Fix: `aws ...` `` then `` Rollback: `aws ...` ``.
//!
//! Identifiers come from AWS answers or world files and are untrusted: each one is quoted for
//! a POSIX shell ([`shell_quote`]), and one holding a control character gets no command (the
//! verdict replaces such characters, so the command would name something else). A value
//! fivexx proposes follows a rule named here, from the evidence; a value it cannot know (the
//! certificate to attach, the path that answers a health check) is a `<placeholder>`, which the
//! shell (outside quotes) or AWS (inside a quoted JSON value) refuses as it stands. When the identifier or the current value was not read
//! there is no command, and the line says what is missing.

use serde_json::Value as Json;

use super::Draft;

/// A proposed limit is this many times the longest time (or the peak concurrency) seen: the
/// alarm window is a sample, and what was cut at a limit was never measured, so its true size
/// is unknown. Twice the ceiling the requests ran into leaves room; the next alarm says
/// whether it is enough.
pub(crate) const HEADROOM: f64 = 2.0;
/// The highest idle timeout an Application or Classic Load Balancer takes (1 to 4,000 s).
pub(crate) const IDLE_TIMEOUT_MAX_S: u32 = 4000;
/// The highest `deregistration_delay.timeout_seconds` (0 to 3,600 s).
pub(crate) const DEREGISTRATION_DELAY_MAX_S: u32 = 3600;
/// The highest `OriginReadTimeout` CloudFront takes without a quota increase (1 to 60 s; up to
/// 180 s once the quota is raised).
pub(crate) const ORIGIN_READ_TIMEOUT_MAX_S: u32 = 60;
/// A server's keep-alive timeout this many seconds above the load balancer's idle timeout: the
/// load balancer then always closes an idle connection before the server does, so it never
/// sends a request on a connection the server is closing.
pub(crate) const KEEPALIVE_ABOVE_IDLE_S: u32 = 5;
/// Lambda keeps at least this much of an account's concurrency unreserved: no reservation
/// may take it.
pub(crate) const UNRESERVED_MINIMUM: u32 = 100;
/// A function's proposed timeout sits this many seconds under its integration's, so that the
/// function, not API Gateway, reports a timeout (as the finding advises).
pub(crate) const BELOW_INTEGRATION_S: u32 = 1;
/// The longest timeout a Lambda function takes.
pub(crate) const LAMBDA_TIMEOUT_MAX_S: u32 = 900;
/// The TLS security policy fivexx proposes for an HTTPS listener CloudFront must reach:
/// TLS 1.3 and 1.2 (CloudFront speaks at most TLS 1.2 to an origin).
pub(crate) const TLS12_POLICY: &str = "ELBSecurityPolicy-TLS13-1-2-2021-06";

/// The certificate to attach: fivexx cannot know it.
const NEW_CERTIFICATE: &str = "<new-certificate-arn>";

/// One fix: the command that applies the proposed value and the one that restores the value
/// read, with a few words on what changes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Fix {
    pub command: String,
    pub rollback: String,
    /// What the command changes, from what to what.
    pub what: String,
}

/// A fix, or why there is none (what was not read, or why no change is proposed).
pub(crate) type Built = Result<Fix, String>;

/// The fix as next steps: `Fix: `...` (what).` and `Rollback: `...``, or one line saying why
/// there is no command.
pub(crate) fn push(d: &mut Draft, fix: Built) {
    match fix {
        Ok(f) => {
            d.step(format!("Fix: `{}` ({}).", f.command, f.what));
            d.step(format!("Rollback: `{}`", f.rollback));
        }
        Err(why) => d.step(format!("Fix: no command: {why}.")),
    }
}

/// `s` as one word for a POSIX shell: in single quotes, each `'` written `'\''`. Nothing
/// inside single quotes is expanded (`$()`, backticks, `;`, spaces, line breaks stay text).
pub(crate) fn shell_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        if c == '\'' {
            out.push_str("'\\''");
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    out
}

/// An identifier quoted for the shell, or why it cannot be named: not read, or holding a
/// control character that the verdict would replace.
fn ident(what: &str, value: &str) -> Result<String, String> {
    if value.is_empty() {
        return Err(format!("{what} was not read"));
    }
    if crate::untrusted::clean(value) != value {
        return Err(format!(
            "{what} holds control characters, so no command can name it faithfully"
        ));
    }
    Ok(shell_quote(value))
}

/// A value read as a number of seconds (or executions), when it is a whole one.
pub(crate) fn whole(v: f64) -> Option<u32> {
    (v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v <= f64::from(u32::MAX)).then_some(v as u32)
}

/// [`HEADROOM`] times `seen`, in whole units rounded up, between 1 and `max`.
pub(crate) fn proposal(seen: f64, max: u32) -> u32 {
    let p = (HEADROOM * seen).ceil();
    if p.is_finite() && p >= 1.0 {
        p.min(f64::from(max)) as u32
    } else {
        1
    }
}

/// A new value: a number fivexx proposes, or a placeholder for one it cannot know.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Proposed {
    Value(u32),
    /// Written `<name>`: a shell will not run a command holding it.
    Placeholder(&'static str),
}

impl Proposed {
    fn arg(self) -> String {
        match self {
            Proposed::Value(n) => n.to_string(),
            Proposed::Placeholder(p) => format!("<{p}>"),
        }
    }
}

/// Which Elastic Load Balancing v2 resource an attribute belongs to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Elbv2 {
    LoadBalancer,
    TargetGroup,
}

/// `aws elbv2 modify-load-balancer-attributes` / `modify-target-group-attributes` setting `key`
/// of `arn` to `proposed`, and back to `current`.
pub(crate) fn elbv2_attribute(
    on: Elbv2,
    arn: &str,
    key: &'static str,
    current: u32,
    proposed: Proposed,
) -> Built {
    let (op, flag, what) = match on {
        Elbv2::LoadBalancer => (
            "modify-load-balancer-attributes",
            "--load-balancer-arn",
            "the load balancer's ARN",
        ),
        Elbv2::TargetGroup => (
            "modify-target-group-attributes",
            "--target-group-arn",
            "the target group's ARN",
        ),
    };
    let arn = ident(what, arn)?;
    let cmd = |v: String| format!("aws elbv2 {op} {flag} {arn} --attributes Key={key},Value={v}");
    Ok(Fix {
        command: cmd(proposed.arg()),
        rollback: cmd(current.to_string()),
        what: format!("{key} from {current} to {}", proposed.arg()),
    })
}

/// A Classic Load Balancer's idle timeout (`ConnectionSettings.IdleTimeout`).
pub(crate) fn clb_idle_timeout(name: &str, current: u32, proposed: Proposed) -> Built {
    let name = ident("the load balancer's name", name)?;
    let cmd = |v: String| {
        format!(
            "aws elb modify-load-balancer-attributes --load-balancer-name {name} --load-balancer-attributes '{{\"ConnectionSettings\":{{\"IdleTimeout\":{v}}}}}'"
        )
    };
    Ok(Fix {
        command: cmd(proposed.arg()),
        rollback: cmd(current.to_string()),
        what: format!(
            "ConnectionSettings.IdleTimeout from {current} to {}",
            proposed.arg()
        ),
    })
}

/// The server settings that make a keep-alive timeout `secs` seconds, in the servers people
/// run behind load balancers. Not an AWS call: it is the targets' configuration.
pub(crate) fn keepalive_directives(secs: u32) -> String {
    format!(
        "Node `server.keepAliveTimeout = {ms}` with `server.headersTimeout = {headers}`; nginx `keepalive_timeout {secs}s;`; Apache `KeepAliveTimeout {secs}`; Gunicorn `--keep-alive {secs}`",
        ms = u64::from(secs) * 1000,
        headers = (u64::from(secs) + 1) * 1000
    )
}

/// A target group's health check as read: path, matcher codes, port (`traffic-port` or a
/// number).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct HealthCheck<'a> {
    pub path: &'a str,
    pub matcher: &'a str,
    pub port: &'a str,
}

/// What a health check fix changes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum HealthChange {
    /// The matcher takes these codes (the targets answer them on purpose).
    Matcher(String),
    /// The path must change to one that answers the matcher: the application's to know.
    Path,
}

/// `--matcher` for HTTP codes (`200`, `200-299`, `200,302`): AWS's syntax only, so a value
/// that is not one is refused rather than passed on.
fn matcher_arg(codes: &str) -> Result<String, String> {
    if codes.is_empty()
        || !codes
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b',' || b == b'-')
    {
        return Err(format!(
            "the health check matcher `{}` is not a list of HTTP codes",
            crate::error::short(codes)
        ));
    }
    Ok(if codes.contains(',') {
        // The CLI's shorthand would split the list at the commas: JSON keeps it one string.
        shell_quote(&format!("{{\"HttpCode\":\"{codes}\"}}"))
    } else {
        format!("HttpCode={codes}")
    })
}

/// `aws elbv2 modify-target-group` with the health check path, matcher and port: the change
/// proposed, and every value as read for the rollback.
pub(crate) fn tg_health_check(tg_arn: &str, now: HealthCheck<'_>, change: &HealthChange) -> Built {
    let arn = ident("the target group's ARN", tg_arn)?;
    let path = ident("the health check path", now.path)?;
    let port = ident("the health check port", now.port)?;
    let matcher = matcher_arg(now.matcher)?;
    let cmd = |path: &str, matcher: &str| {
        format!(
            "aws elbv2 modify-target-group --target-group-arn {arn} --health-check-path {path} --matcher {matcher} --health-check-port {port}"
        )
    };
    let (command, what) = match change {
        HealthChange::Matcher(codes) => (
            cmd(&path, &matcher_arg(codes)?),
            format!("the matcher from {} to {codes}", now.matcher),
        ),
        HealthChange::Path => (
            cmd("<health-check-path>", &matcher),
            format!(
                "the path from {} to one that answers {} on every target; which one is the application's to say, fivexx cannot read it",
                now.path, now.matcher
            ),
        ),
    };
    Ok(Fix {
        command,
        rollback: cmd(&path, &matcher),
        what,
    })
}

/// A Classic Load Balancer's health check as read.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct ClassicHealthCheck<'a> {
    pub target: &'a str,
    pub interval: i32,
    pub timeout: i32,
    pub unhealthy_threshold: i32,
    pub healthy_threshold: i32,
}

/// `aws elb configure-health-check` with a new target (`PROTOCOL:PORT/PATH`, a placeholder:
/// the one that answers on the instances is theirs to say), the timings as read; the
/// rollback sets the target read.
pub(crate) fn clb_health_check(name: &str, now: ClassicHealthCheck<'_>) -> Built {
    let name = ident("the load balancer's name", name)?;
    ident("the health check target", now.target)?;
    let json = |target: &str| {
        serde_json::json!({
            "Target": target,
            "Interval": now.interval,
            "Timeout": now.timeout,
            "UnhealthyThreshold": now.unhealthy_threshold,
            "HealthyThreshold": now.healthy_threshold,
        })
        .to_string()
    };
    let cmd = |target: &str| {
        format!(
            "aws elb configure-health-check --load-balancer-name {name} --health-check {}",
            shell_quote(&json(target))
        )
    };
    Ok(Fix {
        command: cmd("<new-target>"),
        rollback: cmd(now.target),
        what: format!(
            "the health check target from {} to the PROTOCOL:PORT/PATH that answers on the instances",
            now.target
        ),
    })
}

/// One field of a CloudFront origin's `CustomOriginConfig`: its name, the value proposed, the
/// value read.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct OriginEdit {
    pub field: &'static str,
    pub proposed: Json,
    pub current: Json,
}

/// CloudFront has no per-field update: read the distribution config, edit the origin's
/// fields with jq, and send the config back with the ETag it was read with. The rollback is
/// the same with the values read (it reads the config again: the ETag changed).
pub(crate) fn cf_origin(dist_id: &str, origin_id: &str, edits: &[OriginEdit]) -> Built {
    let id = ident("the distribution id", dist_id)?;
    let origin = ident("the origin id", origin_id)?;
    if edits.is_empty() {
        return Err("no origin field to change".into());
    }
    let program = format!(
        ".DistributionConfig | (.Origins.Items[] | select(.Id == $id) | .CustomOriginConfig) |= ({})",
        edits
            .iter()
            .enumerate()
            .map(|(i, e)| format!(".{} = $v{i}", e.field))
            .collect::<Vec<_>>()
            .join(" | ")
    );
    let cmd = |values: Vec<&Json>| {
        let args: String = values
            .iter()
            .enumerate()
            .map(|(i, v)| format!(" --argjson v{i} {}", shell_quote(&v.to_string())))
            .collect();
        format!(
            "aws cloudfront get-distribution-config --id {id} > dist.json && jq --arg id {origin}{args} {} dist.json > dist-config.json && aws cloudfront update-distribution --id {id} --if-match \"$(jq -r .ETag dist.json)\" --distribution-config file://dist-config.json",
            shell_quote(&program)
        )
    };
    let what = edits
        .iter()
        .map(|e| {
            format!(
                "DistributionConfig.Origins.Items[?Id=='{origin_id}'].CustomOriginConfig.{} from {} to {}",
                e.field, e.current, e.proposed
            )
        })
        .collect::<Vec<_>>()
        .join(", and ");
    Ok(Fix {
        command: cmd(edits.iter().map(|e| &e.proposed).collect()),
        rollback: cmd(edits.iter().map(|e| &e.current).collect()),
        what: format!("sets {what}"),
    })
}

/// Where a new certificate comes from: an issued one in ACM, or a new DNS-validated request.
fn certificate_hint(host: &str) -> String {
    let host = shell_quote(host);
    format!(
        "{NEW_CERTIFICATE}: an ISSUED ACM certificate covering {host} in the listener's region (`aws acm list-certificates --certificate-statuses ISSUED`), or a new one (`aws acm request-certificate --domain-name {host} --validation-method DNS`)"
    )
}

/// How a listener's certificate is replaced.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum CertSlot {
    /// The listener's default certificate: `modify-listener`.
    Default,
    /// One it serves by SNI: added and removed.
    Sni,
}

/// The certificate `current_arn` of the listener replaced by a new one covering `host`; the
/// rollback puts `current_arn` back.
pub(crate) fn replace_certificate(
    listener_arn: &str,
    slot: CertSlot,
    current_arn: &str,
    host: &str,
) -> Built {
    let l = ident("the listener's ARN", listener_arn)?;
    let cur = ident("the certificate's ARN", current_arn)?;
    ident("the host name", host)?;
    let set = |arn: &str| {
        format!("aws elbv2 modify-listener --listener-arn {l} --certificates CertificateArn={arn}")
    };
    let add = |arn: &str| {
        format!(
            "aws elbv2 add-listener-certificates --listener-arn {l} --certificates CertificateArn={arn}"
        )
    };
    let remove = |arn: &str| {
        format!(
            "aws elbv2 remove-listener-certificates --listener-arn {l} --certificates CertificateArn={arn}"
        )
    };
    let (command, rollback, slot_words) = match slot {
        CertSlot::Default => (set(NEW_CERTIFICATE), set(&cur), "the default certificate"),
        CertSlot::Sni => (
            format!("{} && {}", add(NEW_CERTIFICATE), remove(&cur)),
            format!("{} && {}", add(&cur), remove(NEW_CERTIFICATE)),
            "the SNI certificate",
        ),
    };
    Ok(Fix {
        command,
        rollback,
        what: format!(
            "replaces {slot_words} {current_arn}; {}",
            certificate_hint(host)
        ),
    })
}

/// A certificate covering `host` added to the listener beside those it has (served by SNI to
/// the hosts it covers, the others keep theirs); the rollback removes it.
pub(crate) fn add_certificate(listener_arn: &str, host: &str) -> Built {
    let l = ident("the listener's ARN", listener_arn)?;
    ident("the host name", host)?;
    let op = |op: &str| {
        format!(
            "aws elbv2 {op}-listener-certificates --listener-arn {l} --certificates CertificateArn={NEW_CERTIFICATE}"
        )
    };
    Ok(Fix {
        command: op("add"),
        rollback: op("remove"),
        what: format!(
            "adds a certificate for {host}, served by SNI; {}",
            certificate_hint(host)
        ),
    })
}

/// A listener's TLS security policy.
pub(crate) fn listener_ssl_policy(listener_arn: &str, current: &str, proposed: &str) -> Built {
    let l = ident("the listener's ARN", listener_arn)?;
    let cur = ident("the listener's security policy", current)?;
    let new = ident("the proposed security policy", proposed)?;
    let cmd = |p: &str| format!("aws elbv2 modify-listener --listener-arn {l} --ssl-policy {p}");
    Ok(Fix {
        command: cmd(&new),
        rollback: cmd(&cur),
        what: format!("the security policy from {current} to {proposed}"),
    })
}

/// A function's reserved concurrency set to `proposed` (`None`: the reservation removed); the
/// rollback puts back `current` (`None`: there was none, so it is removed).
pub(crate) fn reserved_concurrency(
    function: &str,
    current: Option<u32>,
    proposed: Option<u32>,
) -> Built {
    let f = ident("the function's name", function)?;
    let cmd = |n: Option<u32>| match n {
        Some(n) => format!(
            "aws lambda put-function-concurrency --function-name {f} --reserved-concurrent-executions {n}"
        ),
        None => format!("aws lambda delete-function-concurrency --function-name {f}"),
    };
    let words = |n: Option<u32>| n.map_or_else(|| "none".to_owned(), |n| n.to_string());
    Ok(Fix {
        command: cmd(proposed),
        rollback: cmd(current),
        what: format!(
            "reserved concurrency from {} to {}",
            words(current),
            words(proposed)
        ),
    })
}

/// A function's timeout, in seconds.
pub(crate) fn function_timeout(function: &str, current: u32, proposed: u32) -> Built {
    let f = ident("the function's name", function)?;
    let cmd = |n: u32| {
        format!("aws lambda update-function-configuration --function-name {f} --timeout {n}")
    };
    Ok(Fix {
        command: cmd(proposed),
        rollback: cmd(current),
        what: format!("Timeout from {current} s to {proposed} s"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a POSIX shell makes of `quoted`: the words `sh` receives, as `printf` prints them.
    fn sh_words(quoted: &str) -> Vec<String> {
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("printf '%s\\0' {quoted}"))
            .output();
        match out {
            Ok(o) => String::from_utf8_lossy(&o.stdout)
                .split_terminator('\0')
                .map(str::to_owned)
                .collect(),
            Err(e) => panic!("sh: {e}"),
        }
    }

    /// The idle timeout of load balancer `arn` from 60 s to `proposed`.
    fn idle(arn: &str, proposed: Proposed) -> Built {
        elbv2_attribute(
            Elbv2::LoadBalancer,
            arn,
            "idle_timeout.timeout_seconds",
            60,
            proposed,
        )
    }

    #[test]
    fn shell_quote_keeps_hostile_values_one_inert_word() {
        let hostile = [
            "plain-name",
            "",
            "two words",
            "a;rm -rf /",
            "$(touch /tmp/fivexx-pwned)",
            "`id`",
            "line\nbreak",
            "it's",
            "'",
            "''",
            "\"double\"",
            "back\\slash",
            "$HOME ${PATH} *.json ~ & | > <",
        ];
        for v in hostile {
            let q = shell_quote(v);
            assert!(q.starts_with('\'') && q.ends_with('\''), "{q}");
            assert_eq!(sh_words(&q), vec![v.to_owned()], "{v:?} quoted as {q}");
        }
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote(""), "''");
    }

    #[test]
    fn identifiers_with_control_characters_get_no_command() {
        let e = idle("arn:aws:x\n; rm -rf /", Proposed::Value(120));
        assert!(e.as_ref().is_err_and(|w| w.contains("control")), "{e:?}");
        let e = function_timeout("", 3, 10);
        assert!(e.is_err_and(|w| w.contains("not read")));
    }

    #[test]
    fn alb_idle_timeout_and_rollback() {
        let f = idle(
            "arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/app/web/1",
            Proposed::Value(120),
        );
        let Ok(f) = f else { panic!("{f:?}") };
        assert_eq!(
            f.command,
            "aws elbv2 modify-load-balancer-attributes --load-balancer-arn 'arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/app/web/1' --attributes Key=idle_timeout.timeout_seconds,Value=120"
        );
        assert!(f.rollback.ends_with("Value=60"), "{}", f.rollback);
        let hostile = elbv2_attribute(
            Elbv2::TargetGroup,
            "arn:aws:x'; rm -rf / #",
            "deregistration_delay.timeout_seconds",
            5,
            Proposed::Value(40),
        );
        let Ok(hostile) = hostile else {
            panic!("{hostile:?}")
        };
        assert!(
            hostile
                .command
                .contains("--target-group-arn 'arn:aws:x'\\''; rm -rf / #' --attributes"),
            "{}",
            hostile.command
        );
    }

    #[test]
    fn placeholders_are_not_runnable_values() {
        let f = idle("arn:aws:x", Proposed::Placeholder("seconds"));
        let Ok(f) = f else { panic!("{f:?}") };
        assert!(f.command.ends_with("Value=<seconds>"), "{}", f.command);
        assert!(f.rollback.ends_with("Value=60"), "{}", f.rollback);
    }

    #[test]
    fn classic_idle_timeout() {
        let Ok(f) = clb_idle_timeout("legacy", 60, Proposed::Value(120)) else {
            panic!()
        };
        assert_eq!(
            f.command,
            "aws elb modify-load-balancer-attributes --load-balancer-name 'legacy' --load-balancer-attributes '{\"ConnectionSettings\":{\"IdleTimeout\":120}}'"
        );
        assert!(f.rollback.contains("\"IdleTimeout\":60}"), "{}", f.rollback);
    }

    #[test]
    fn health_check_matcher_and_path() {
        let now = HealthCheck {
            path: "/healthz",
            matcher: "200",
            port: "traffic-port",
        };
        let Ok(f) = tg_health_check("arn:aws:tg", now, &HealthChange::Matcher("200,204".into()))
        else {
            panic!()
        };
        assert_eq!(
            f.command,
            "aws elbv2 modify-target-group --target-group-arn 'arn:aws:tg' --health-check-path '/healthz' --matcher '{\"HttpCode\":\"200,204\"}' --health-check-port 'traffic-port'"
        );
        assert_eq!(
            f.rollback,
            "aws elbv2 modify-target-group --target-group-arn 'arn:aws:tg' --health-check-path '/healthz' --matcher HttpCode=200 --health-check-port 'traffic-port'"
        );
        let Ok(f) = tg_health_check("arn:aws:tg", now, &HealthChange::Path) else {
            panic!()
        };
        assert!(
            f.command
                .contains("--health-check-path <health-check-path> --matcher HttpCode=200"),
            "{}",
            f.command
        );
        let bad = HealthCheck {
            matcher: "200;id",
            ..now
        };
        assert!(tg_health_check("arn:aws:tg", bad, &HealthChange::Path).is_err());
    }

    #[test]
    fn classic_health_check() {
        let now = ClassicHealthCheck {
            target: "HTTP:8080/health",
            interval: 30,
            timeout: 5,
            unhealthy_threshold: 2,
            healthy_threshold: 10,
        };
        let Ok(f) = clb_health_check("legacy", now) else {
            panic!()
        };
        assert_eq!(
            f.rollback,
            "aws elb configure-health-check --load-balancer-name 'legacy' --health-check '{\"HealthyThreshold\":10,\"Interval\":30,\"Target\":\"HTTP:8080/health\",\"Timeout\":5,\"UnhealthyThreshold\":2}'"
        );
        assert!(f.command.contains("\"Target\":\"<new-target>\""));
    }

    #[test]
    fn cloudfront_origin_edit_reads_edits_and_sends_back() {
        let f = cf_origin(
            "E2QWRUHAPOMQZL",
            "web-alb",
            &[OriginEdit {
                field: "OriginReadTimeout",
                proposed: Json::from(60),
                current: Json::from(30),
            }],
        );
        let Ok(f) = f else { panic!("{f:?}") };
        assert_eq!(
            f.command,
            "aws cloudfront get-distribution-config --id 'E2QWRUHAPOMQZL' > dist.json && jq --arg id 'web-alb' --argjson v0 '60' '.DistributionConfig | (.Origins.Items[] | select(.Id == $id) | .CustomOriginConfig) |= (.OriginReadTimeout = $v0)' dist.json > dist-config.json && aws cloudfront update-distribution --id 'E2QWRUHAPOMQZL' --if-match \"$(jq -r .ETag dist.json)\" --distribution-config file://dist-config.json"
        );
        assert!(f.rollback.contains("--argjson v0 '30'"), "{}", f.rollback);
        assert!(
            f.what.contains(
                "DistributionConfig.Origins.Items[?Id=='web-alb'].CustomOriginConfig.OriginReadTimeout from 30 to 60"
            ),
            "{}",
            f.what
        );
    }

    /// The jq program edits the named origin only and keeps the rest of the config, when jq
    /// is on the machine.
    #[test]
    fn cloudfront_jq_program_edits_one_origin() {
        let Ok(f) = cf_origin(
            "E1",
            "it's",
            &[
                OriginEdit {
                    field: "OriginProtocolPolicy",
                    proposed: Json::from("https-only"),
                    current: Json::from("http-only"),
                },
                OriginEdit {
                    field: "HTTPSPort",
                    proposed: Json::from(8443),
                    current: Json::from(443),
                },
            ],
        ) else {
            panic!()
        };
        let Some(jq) = f.command.split(" && ").nth(1) else {
            panic!("{}", f.command)
        };
        let dir = std::env::temp_dir().join(format!("fivexx-fix-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let dist = serde_json::json!({
            "ETag": "E3",
            "DistributionConfig": {"Comment": "c", "Origins": {"Quantity": 2, "Items": [
                {"Id": "it's", "CustomOriginConfig": {"HTTPPort": 80, "HTTPSPort": 443, "OriginProtocolPolicy": "http-only"}},
                {"Id": "other", "CustomOriginConfig": {"HTTPPort": 80, "HTTPSPort": 443, "OriginProtocolPolicy": "http-only"}}
            ]}}
        });
        let _ = std::fs::write(dir.join("dist.json"), dist.to_string());
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("command -v jq >/dev/null || exit 0; {jq}"))
            .current_dir(&dir)
            .output();
        let edited = std::fs::read_to_string(dir.join("dist-config.json"));
        let _ = std::fs::remove_dir_all(&dir);
        let Ok(out) = out else { return };
        assert!(out.status.success(), "{out:?}");
        let Ok(edited) = edited else { return }; // no jq here
        let v: Json = serde_json::from_str(&edited).unwrap_or_default();
        assert_eq!(v["Comment"], "c");
        assert_eq!(
            v["Origins"]["Items"][0]["CustomOriginConfig"]["OriginProtocolPolicy"],
            "https-only"
        );
        assert_eq!(
            v["Origins"]["Items"][0]["CustomOriginConfig"]["HTTPSPort"],
            8443
        );
        assert_eq!(
            v["Origins"]["Items"][1]["CustomOriginConfig"]["OriginProtocolPolicy"],
            "http-only"
        );
    }

    #[test]
    fn listener_certificates() {
        let Ok(f) = replace_certificate("arn:l", CertSlot::Default, "arn:c", "origin.example.com")
        else {
            panic!()
        };
        assert_eq!(
            f.command,
            "aws elbv2 modify-listener --listener-arn 'arn:l' --certificates CertificateArn=<new-certificate-arn>"
        );
        assert_eq!(
            f.rollback,
            "aws elbv2 modify-listener --listener-arn 'arn:l' --certificates CertificateArn='arn:c'"
        );
        assert!(
            f.what
                .contains("aws acm request-certificate --domain-name 'origin.example.com'")
        );
        let Ok(f) = replace_certificate("arn:l", CertSlot::Sni, "arn:c", "a.example.com") else {
            panic!()
        };
        assert!(f.command.starts_with("aws elbv2 add-listener-certificates"));
        assert!(f.command.contains("remove-listener-certificates --listener-arn 'arn:l' --certificates CertificateArn='arn:c'"));
        assert!(f.rollback.starts_with("aws elbv2 add-listener-certificates --listener-arn 'arn:l' --certificates CertificateArn='arn:c'"));
        let Ok(f) = add_certificate("arn:l", "x.example.com") else {
            panic!()
        };
        assert!(
            f.rollback
                .starts_with("aws elbv2 remove-listener-certificates")
        );
    }

    #[test]
    fn lambda_concurrency_and_timeout() {
        let Ok(f) = reserved_concurrency("orders", Some(5), Some(10)) else {
            panic!()
        };
        assert_eq!(
            f.command,
            "aws lambda put-function-concurrency --function-name 'orders' --reserved-concurrent-executions 10"
        );
        assert!(f.rollback.ends_with("--reserved-concurrent-executions 5"));
        let Ok(f) = reserved_concurrency("orders", None, Some(10)) else {
            panic!()
        };
        assert_eq!(
            f.rollback,
            "aws lambda delete-function-concurrency --function-name 'orders'"
        );
        let Ok(f) = function_timeout("orders", 10, 28) else {
            panic!()
        };
        assert_eq!(
            f.command,
            "aws lambda update-function-configuration --function-name 'orders' --timeout 28"
        );
        assert!(f.rollback.ends_with("--timeout 10"));
    }

    #[test]
    fn proposals_follow_the_headroom_rule() {
        assert_eq!(proposal(60.0, IDLE_TIMEOUT_MAX_S), 120);
        assert_eq!(proposal(29.5, ORIGIN_READ_TIMEOUT_MAX_S), 59);
        assert_eq!(proposal(45.0, ORIGIN_READ_TIMEOUT_MAX_S), 60);
        assert_eq!(proposal(f64::NAN, 10), 1);
        assert_eq!(whole(60.0), Some(60));
        assert_eq!(whole(60.5), None);
        assert_eq!(whole(-1.0), None);
        assert!(keepalive_directives(65).contains("keepalive_timeout 65s;"));
        assert!(keepalive_directives(65).contains("server.keepAliveTimeout = 65000"));
    }
}
