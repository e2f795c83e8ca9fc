//! A moto server (the AWS emulator) for SDK-level tests: one process per test, bound to
//! 127.0.0.1 on a free port, behind the CloudWatch protocol shim (`scripts/cw_cbor_shim.py`,
//! also on 127.0.0.1): the shim forwards every request to moto unchanged, except CloudWatch in
//! Smithy RPCv2 CBOR (the protocol of aws-sdk-cloudwatch, which moto 5.2.5 answers 404), which
//! it translates to moto's awsJson protocol and back. The endpoint handed to the SDK is the
//! shim's; both processes are killed when the guard drops.
//!
//! The binary is `<CARGO_MANIFEST_DIR>/.venv/bin/moto_server` (installed by `scripts/setup`),
//! or whatever `FIVEXX_MOTO_SERVER` names; the shim runs on the Python beside that binary
//! (it needs botocore, which moto brings, and cbor2, which `scripts/setup` installs). A missing
//! binary fails the test: these tests are never skipped silently.

#![allow(dead_code)] // each test binary uses its own part of this helper

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_config::{Region, SdkConfig};
use aws_sdk_elasticloadbalancingv2::config::Credentials;
use chrono::{DateTime, Datelike, Utc};

/// How long moto (behind the shim) may take to answer its first request.
const READY_WITHIN: Duration = Duration::from_secs(15);

/// The moto server binary the tests use.
pub fn moto_binary() -> PathBuf {
    match std::env::var_os("FIVEXX_MOTO_SERVER") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/moto_server"),
    }
}

/// The command that starts moto: `scripts/moto_main.py` (moto_server with GetMetricData kept
/// whole when moto cannot compute a percentile) on the Python beside the moto binary, or the
/// binary `FIVEXX_MOTO_SERVER` names as it is.
fn moto_command(bin: &Path) -> Command {
    if std::env::var_os("FIVEXX_MOTO_SERVER").is_some_and(|p| !p.is_empty()) {
        return Command::new(bin);
    }
    let mut c = Command::new(shim_python(bin));
    c.arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/moto_main.py"));
    c
}

/// The Python that runs the shim: the one installed beside the moto binary.
fn shim_python(moto: &Path) -> PathBuf {
    moto.with_file_name("python")
}

/// The CloudWatch RPCv2 CBOR shim.
fn shim_script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/cw_cbor_shim.py")
}

/// A running moto server and its CloudWatch shim; both killed (and reaped) on drop.
pub struct MotoServer {
    moto: Child,
    shim: Child,
    /// The shim's port: the endpoint of every client.
    port: u16,
    moto_port: u16,
    moto_log: tempfile::NamedTempFile,
    shim_log: tempfile::NamedTempFile,
}

/// Spawns `cmd` with stdout and stderr into `log`.
fn spawn_logged(cmd: &mut Command, log: &tempfile::NamedTempFile) -> std::io::Result<Child> {
    let stdout = log.reopen().expect("reopen the log file");
    let stderr = log.reopen().expect("reopen the log file");
    cmd.stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .spawn()
}

impl MotoServer {
    /// Starts moto and the shim in front of it, each on a free loopback port (both at once:
    /// they start in parallel), and waits until moto answers through the shim.
    pub fn start() -> Self {
        let bin = moto_binary();
        assert!(
            bin.is_file(),
            "moto server not found at `{}`: run `scripts/setup` (it installs moto into .venv), \
             or point FIVEXX_MOTO_SERVER at a moto_server binary",
            bin.display()
        );
        let python = shim_python(&bin);
        assert!(
            python.is_file(),
            "no Python beside `{}` to run the CloudWatch shim: run `scripts/setup`",
            bin.display()
        );
        let [moto_port, port] = free_ports();
        let moto_log = tempfile::NamedTempFile::new().expect("temporary log file");
        let shim_log = tempfile::NamedTempFile::new().expect("temporary log file");
        let mut moto = spawn_logged(
            moto_command(&bin).args(["-H", "127.0.0.1", "-p", &moto_port.to_string()]),
            &moto_log,
        )
        .unwrap_or_else(|e| {
            panic!(
                "cannot start `{}`: {e}; run `scripts/setup` to (re)install moto",
                bin.display()
            )
        });
        let shim = spawn_logged(
            Command::new(&python).arg(shim_script()).args([
                "--port",
                &port.to_string(),
                "--upstream",
                &format!("http://127.0.0.1:{moto_port}"),
            ]),
            &shim_log,
        )
        .unwrap_or_else(|e| {
            let _ = moto.kill();
            let _ = moto.wait();
            panic!(
                "cannot start the CloudWatch shim with `{}`: {e}",
                python.display()
            )
        });
        let mut server = Self {
            moto,
            shim,
            port,
            moto_port,
            moto_log,
            shim_log,
        };
        server.wait_ready();
        server
    }

    fn wait_ready(&mut self) {
        let started = Instant::now();
        loop {
            if let Ok((200, _, _)) = try_http(self.port, "GET", "/moto-api/", &[], b"") {
                return;
            }
            let moto_exited = self
                .moto
                .try_wait()
                .ok()
                .flatten()
                .map(|s| ("moto server", s));
            let shim_exited = self.shim.try_wait().ok().flatten().map(|s| ("the shim", s));
            if let Some((name, status)) = moto_exited.or(shim_exited) {
                panic!(
                    "{name} exited ({status}) before answering (moto on port {}, the shim on \
                     port {}):\n{}",
                    self.moto_port,
                    self.port,
                    self.log_text()
                );
            }
            if started.elapsed() > READY_WITHIN {
                panic!(
                    "moto did not answer through the shim (port {}, moto on {}) within \
                     {READY_WITHIN:?}:\n{}",
                    self.port,
                    self.moto_port,
                    self.log_text()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn log_text(&self) -> String {
        let read =
            |f: &tempfile::NamedTempFile| std::fs::read_to_string(f.path()).unwrap_or_default();
        format!(
            "-- moto log:\n{}\n-- shim log:\n{}",
            read(&self.moto_log),
            read(&self.shim_log)
        )
    }

    /// The shim's port (the endpoint's).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The endpoint every client uses: the shim, in front of moto.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// moto itself, without the shim (to show what the shim is for).
    pub fn moto_endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.moto_port)
    }

    /// An SDK configuration pointed at this server, with fivexx's HTTPS client, timeouts and
    /// retries.
    pub async fn sdk_config(&self) -> SdkConfig {
        fivexx::evidence::sdk::sdk_defaults()
            .region(Region::new("us-east-1"))
            .endpoint_url(self.endpoint())
            .credentials_provider(Credentials::new("test", "test", None, None, "test"))
            .load()
            .await
    }

    /// [`Self::sdk_config`] for seeding the emulator: one attempt per call with a minute to
    /// answer. A create that moto is slow to answer (its first request of a service loads the
    /// backend) must not be retried, or the retry fails with `Duplicate...` on what the first
    /// attempt made.
    pub async fn setup_config(&self) -> SdkConfig {
        self.sdk_config()
            .await
            .into_builder()
            .timeout_config(
                aws_config::timeout::TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(5))
                    .operation_attempt_timeout(Duration::from_secs(60))
                    .operation_timeout(Duration::from_secs(60))
                    .build(),
            )
            .retry_config(aws_config::retry::RetryConfig::disabled())
            .build()
    }

    /// One HTTP/1.1 request to the endpoint (the shim); the status and the body.
    pub fn http(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> (u16, String) {
        let (status, _, body) = self.http_raw(false, method, path, headers, body.as_bytes());
        (status, body)
    }

    /// One HTTP/1.1 request to the shim, or to moto itself when `direct`; the status, the
    /// response head (status line and headers) and the body (lossy UTF-8).
    pub fn http_raw(
        &self,
        direct: bool,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> (u16, String, String) {
        let port = if direct { self.moto_port } else { self.port };
        try_http(port, method, path, headers, body)
            .unwrap_or_else(|e| panic!("{method} {path} on port {port}: {e}"))
    }

    /// The default VPC of `us-east-1` and two of its subnets (moto creates them at start).
    ///
    /// ELBv2 in moto needs existing subnets to create a load balancer. Their ids are random,
    /// so they are read with one EC2 `DescribeSubnets` query sent by hand (moto does not check
    /// signatures; it routes by the credential scope): this spares the tests `aws-sdk-ec2`,
    /// by far the largest SDK crate, for a single read.
    pub fn default_subnets(&self) -> (String, Vec<String>) {
        let auth = "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/ec2/aws4_request, \
                    SignedHeaders=host, Signature=0";
        let (status, xml) = self.http(
            "POST",
            "/",
            &[
                ("Content-Type", "application/x-www-form-urlencoded"),
                ("Authorization", auth),
            ],
            "Action=DescribeSubnets&Version=2016-11-15&Filter.1.Name=default-for-az&Filter.1.Value.1=true",
        );
        assert_eq!(status, 200, "DescribeSubnets on moto: {xml}");
        let subnets = xml_values(&xml, "subnetId");
        let vpc = xml_values(&xml, "vpcId")
            .into_iter()
            .next()
            .expect("a default VPC in moto");
        assert!(
            subnets.len() >= 2,
            "moto's default VPC has fewer than 2 subnets: {xml}"
        );
        (vpc, subnets.into_iter().take(2).collect())
    }
}

impl MotoServer {
    /// One EC2 query (`Action=...&...`) sent by hand, as `default_subnets` does; the XML.
    fn ec2(&self, query: &str) -> String {
        let auth = "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/ec2/aws4_request, \
                    SignedHeaders=host, Signature=0";
        let (status, xml) = self.http(
            "POST",
            "/",
            &[
                ("Content-Type", "application/x-www-form-urlencoded"),
                ("Authorization", auth),
            ],
            &format!("{query}&Version=2016-11-15"),
        );
        assert_eq!(status, 200, "{query} on moto: {xml}");
        xml
    }

    /// Starts `count` EC2 instances (running at once in moto; it does not check the image);
    /// their ids. For a Classic Load Balancer: moto reports a registered instance's health
    /// from its EC2 state, and leaves out an instance EC2 does not know.
    pub fn run_instances(&self, count: usize) -> Vec<String> {
        let xml = self.ec2(&format!(
            "Action=RunInstances&ImageId=ami-12c6146b&InstanceType=t3.micro&MinCount={count}&MaxCount={count}"
        ));
        let ids = xml_values(&xml, "instanceId");
        assert_eq!(ids.len(), count, "RunInstances on moto: {xml}");
        ids
    }

    /// Stops an EC2 instance (a Classic Load Balancer then reports it `OutOfService`).
    pub fn stop_instance(&self, id: &str) {
        self.ec2(&format!("Action=StopInstances&InstanceId.1={id}"));
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        for child in [&mut self.shim, &mut self.moto] {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// One HTTP/1.1 request to 127.0.0.1:`port`; the status, the head and the body.
fn try_http(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<(u16, String, String)> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    let mut raw_req = req.into_bytes();
    raw_req.extend_from_slice(body);
    stream.write_all(&raw_req)?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| std::io::Error::other(format!("no HTTP status in {text:?}")))?;
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((text.as_str(), ""));
    Ok((status, head.to_owned(), body.to_owned()))
}

/// `N` distinct ports free on 127.0.0.1 right now (the listeners are all held until every
/// port is picked, then dropped before moto and the shim bind them).
fn free_ports<const N: usize>() -> [u16; N] {
    let listeners: Vec<TcpListener> = (0..N)
        .map(|_| TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind 127.0.0.1:0"))
        .collect();
    std::array::from_fn(|i| listeners[i].local_addr().expect("local address").port())
}

/// The text of every `<tag>...</tag>` in `xml`, in order.
fn xml_values(xml: &str, tag: &str) -> Vec<String> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(i) = rest.find(&open) {
        let after = &rest[i + open.len()..];
        let Some(j) = after.find(&close) else { break };
        out.push(after[..j].to_owned());
        rest = &after[j + close.len()..];
    }
    out
}

/// A self-signed certificate for `domain` valid until midnight UTC `days` days from today.
pub struct SelfSigned {
    pub cert_pem: String,
    pub key_pem: String,
    pub not_after: DateTime<Utc>,
}

pub fn self_signed(domain: &str, days: i64) -> SelfSigned {
    let not_after = (Utc::now() + chrono::Duration::days(days))
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .expect("midnight")
        .and_utc();
    let mut params =
        rcgen::CertificateParams::new(vec![domain.to_owned()]).expect("certificate parameters");
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, domain);
    params.not_before = rcgen::date_time_ymd(2024, 1, 1);
    params.not_after = rcgen::date_time_ymd(
        not_after.year(),
        u8::try_from(not_after.month()).expect("month"),
        u8::try_from(not_after.day()).expect("day"),
    );
    let key = rcgen::KeyPair::generate().expect("key pair");
    let cert = params.self_signed(&key).expect("self-signed certificate");
    SelfSigned {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
        not_after,
    }
}
