//! A moto server (the AWS emulator) for SDK-level tests: one process per test, bound to
//! 127.0.0.1 on a free port, killed when the guard drops.
//!
//! The binary is `<CARGO_MANIFEST_DIR>/.venv/bin/moto_server` (installed by `scripts/setup`),
//! or whatever `FIVEXX_MOTO_SERVER` names. A missing binary fails the test: these tests are
//! never skipped silently.

#![allow(dead_code)] // each test binary uses its own part of this helper

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_config::{Region, SdkConfig};
use aws_sdk_elasticloadbalancingv2::config::Credentials;
use chrono::{DateTime, Datelike, Utc};

/// How long moto may take to answer its first request.
const READY_WITHIN: Duration = Duration::from_secs(15);

/// The moto server binary the tests use.
pub fn moto_binary() -> PathBuf {
    match std::env::var_os("FIVEXX_MOTO_SERVER") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/moto_server"),
    }
}

/// A running moto server; killed (and reaped) on drop.
pub struct MotoServer {
    child: Child,
    port: u16,
    log: tempfile::NamedTempFile,
}

impl MotoServer {
    /// Starts moto on a free loopback port and waits until it answers.
    pub fn start() -> Self {
        let bin = moto_binary();
        assert!(
            bin.is_file(),
            "moto server not found at `{}`: run `scripts/setup` (it installs moto into .venv), \
             or point FIVEXX_MOTO_SERVER at a moto_server binary",
            bin.display()
        );
        let port = free_port();
        let log = tempfile::NamedTempFile::new().expect("temporary log file");
        let stderr = log.reopen().expect("reopen the log file");
        let stdout = log.reopen().expect("reopen the log file");
        let child = Command::new(&bin)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start `{}`: {e}; run `scripts/setup` to (re)install moto",
                    bin.display()
                )
            });
        let mut server = Self { child, port, log };
        server.wait_ready();
        server
    }

    fn wait_ready(&mut self) {
        let started = Instant::now();
        loop {
            if let Ok((200, _)) = self.try_http("GET", "/moto-api/", &[], "") {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "moto server exited ({status}) before answering on port {}:\n{}",
                    self.port,
                    self.log_text()
                );
            }
            if started.elapsed() > READY_WITHIN {
                panic!(
                    "moto server did not answer on port {} within {READY_WITHIN:?}:\n{}",
                    self.port,
                    self.log_text()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(self.log.path()).unwrap_or_default()
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
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

    /// One HTTP/1.1 request to the server; the status and the body.
    pub fn http(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> (u16, String) {
        self.try_http(method, path, headers, body)
            .unwrap_or_else(|e| panic!("{method} {path} on moto: {e}"))
    }

    fn try_http(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> std::io::Result<(u16, String)> {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        let mut req = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\nContent-Length: {}\r\n",
            self.port,
            body.len()
        );
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str("\r\n");
        req.push_str(body);
        stream.write_all(req.as_bytes())?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw)?;
        let text = String::from_utf8_lossy(&raw).into_owned();
        let status = text
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse::<u16>().ok())
            .ok_or_else(|| std::io::Error::other(format!("no HTTP status in {text:?}")))?;
        let body = text
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_owned())
            .unwrap_or_default();
        Ok((status, body))
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
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port free on 127.0.0.1 right now (the listener is dropped before moto binds it).
fn free_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local address").port()
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
