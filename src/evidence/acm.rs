//! AWS Certificate Manager: the certificates of HTTPS listeners, and the world file's `ACM`
//! section. `ListCertificates` is not part of the world format: a world answers it from its
//! `DescribeCertificate` entries.

use std::collections::BTreeMap;

use aws_sdk_acm::types::{Filters, KeyAlgorithm};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::port::{Answer, Op, Operation, SourceError};
use super::record::Recording;
use super::sdk::{AwsSdk, OnWorker, opt_str, time};
use super::world::World;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CertificateDetail {
    pub certificate_arn: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain_name: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subject_alternative_names: Vec<String>,
    #[serde(rename = "Type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_before: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_after: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renewal_eligibility: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renewal_summary: Option<RenewalSummary>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub domain_validation_options: Vec<DomainValidation>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub in_use_by: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
}

/// One certificate of ACM's `ListCertificates`: the summary's fields in a detail's shape (no
/// renewal summary, validation options, users or issuer: `DescribeCertificate` has those).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CertificateSummary {
    pub detail: CertificateDetail,
    /// Whether `detail.subject_alternative_names` holds every name of the certificate (a
    /// summary lists at most the first 100, and may list none).
    pub names_complete: bool,
}

impl CertificateDetail {
    /// What `ListCertificates` would say of this certificate.
    pub(crate) fn summary(&self) -> CertificateSummary {
        CertificateSummary {
            detail: CertificateDetail {
                certificate_arn: self.certificate_arn.clone(),
                domain_name: self.domain_name.clone(),
                subject_alternative_names: self.subject_alternative_names.clone(),
                kind: self.kind.clone(),
                status: self.status.clone(),
                not_before: self.not_before,
                not_after: self.not_after,
                renewal_eligibility: self.renewal_eligibility.clone(),
                ..CertificateDetail::default()
            },
            names_complete: true,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RenewalSummary {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renewal_status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renewal_status_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DomainValidation {
    pub domain_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation_domain: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation_status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation_method: Option<String>,
}

// ---------------------------------------------------------------- the world file's section

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CertificateEnvelope {
    pub certificate: CertificateDetail,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AcmWorld {
    #[serde(default)]
    pub describe_certificate: BTreeMap<String, CertificateEnvelope>,
}

// ---------------------------------------------------------------- operations

pub struct DescribeCertificate;

impl Operation for DescribeCertificate {
    const OP: Op = Op::DescribeCertificate;
    type Input = str;
    type Output = CertificateDetail;

    fn key(_region: &str, arn: &str) -> String {
        arn.to_owned()
    }

    async fn sdk(sdk: &AwsSdk, region: &str, arn: &str) -> Answer<CertificateDetail> {
        let resp = sdk
            .once(
                sdk.acm(region)
                    .describe_certificate()
                    .certificate_arn(arn)
                    .send()
                    .on_worker(),
            )
            .await?;
        resp.certificate().map(certificate).ok_or_else(|| {
            SourceError::new(
                "EmptyResponse",
                format!("no certificate in the answer for `{arn}`"),
            )
        })
    }

    fn world(w: &World, region: &str, arn: &str) -> Answer<CertificateDetail> {
        w.acm
            .describe_certificate
            .get(arn)
            .filter(|_| w.in_region(arn, region))
            .map(|c| c.certificate.clone())
            .ok_or_else(|| {
                SourceError::new(
                    "ResourceNotFoundException",
                    format!("certificate `{arn}` not found"),
                )
            })
    }

    fn record(rec: &mut Recording, _region: &str, arn: &str, out: &CertificateDetail) {
        rec.world.acm.describe_certificate.insert(
            arn.to_owned(),
            CertificateEnvelope {
                certificate: out.clone(),
            },
        );
    }
}

/// The region's certificates, every key type, as summaries: the first page only (up to
/// 1,000). A certificate not in it is described on its own.
pub struct ListCertificates;

impl Operation for ListCertificates {
    const OP: Op = Op::ListCertificates;
    type Input = ();
    type Output = Vec<CertificateSummary>;

    fn key(region: &str, _: &()) -> String {
        region.to_owned()
    }

    async fn sdk(sdk: &AwsSdk, region: &str, _: &()) -> Answer<Vec<CertificateSummary>> {
        // Every key type: without a filter ACM lists only RSA-2048 certificates. One page; a
        // certificate beyond it is described on its own.
        let key_types = KeyAlgorithm::values()
            .iter()
            .map(|k| KeyAlgorithm::from(*k))
            .collect();
        let resp = sdk
            .once(
                sdk.acm(region)
                    .list_certificates()
                    .includes(Filters::builder().set_key_types(Some(key_types)).build())
                    .max_items(1000)
                    .send()
                    .on_worker(),
            )
            .await?;
        Ok(resp
            .certificate_summary_list()
            .iter()
            .map(certificate_summary)
            .collect())
    }

    /// Answered from the `DescribeCertificate` entries of the region, as summaries. The
    /// world's certificates are one source: a fault on `acm:DescribeCertificate` fails this
    /// list too, and a certificate with an error of its own is left out of it (so the triage
    /// describes it, and meets the error).
    fn world(w: &World, region: &str, _: &()) -> Answer<Vec<CertificateSummary>> {
        if let Some(fault) = w.faults.get(Op::DescribeCertificate.iam_name()) {
            return Err(fault.error());
        }
        Ok(w.acm
            .describe_certificate
            .iter()
            .filter(|(arn, _)| w.in_region(arn, region))
            .filter(|(arn, _)| w.fault(Op::DescribeCertificate, arn).is_none())
            .map(|(_, c)| c.certificate.summary())
            .collect())
    }

    /// Not written as such (the world format has no list): kept, and the certificates the
    /// triage took from it are written as `DescribeCertificate` entries when the recording
    /// ends ([`crate::evidence::record::Recorder::world`]).
    fn record(rec: &mut Recording, _region: &str, _: &(), out: &Vec<CertificateSummary>) {
        for c in out {
            rec.listed
                .insert(c.detail.certificate_arn.clone(), c.detail.clone());
        }
    }
}

// ---------------------------------------------------------------- SDK shapes into the model

fn certificate(c: &aws_sdk_acm::types::CertificateDetail) -> CertificateDetail {
    CertificateDetail {
        certificate_arn: c.certificate_arn().unwrap_or_default().to_owned(),
        domain_name: opt_str(c.domain_name()),
        subject_alternative_names: c.subject_alternative_names().to_vec(),
        kind: c.r#type().map(|t| t.as_str().to_owned()),
        status: c.status().map(|s| s.as_str().to_owned()),
        not_before: c.not_before().and_then(time),
        not_after: c.not_after().and_then(time),
        renewal_eligibility: c.renewal_eligibility().map(|r| r.as_str().to_owned()),
        renewal_summary: c.renewal_summary().map(|r| RenewalSummary {
            renewal_status: Some(r.renewal_status().as_str().to_owned()),
            renewal_status_reason: r.renewal_status_reason().map(|x| x.as_str().to_owned()),
            updated_at: time(r.updated_at()),
        }),
        domain_validation_options: c
            .domain_validation_options()
            .iter()
            .map(|d| DomainValidation {
                domain_name: d.domain_name().to_owned(),
                validation_domain: opt_str(d.validation_domain()),
                validation_status: d.validation_status().map(|s| s.as_str().to_owned()),
                validation_method: d.validation_method().map(|s| s.as_str().to_owned()),
            })
            .collect(),
        in_use_by: c.in_use_by().to_vec(),
        issuer: opt_str(c.issuer()),
    }
}

fn certificate_summary(c: &aws_sdk_acm::types::CertificateSummary) -> CertificateSummary {
    let names = c.subject_alternative_name_summaries().to_vec();
    CertificateSummary {
        names_complete: !names.is_empty()
            && c.has_additional_subject_alternative_names() != Some(true),
        detail: CertificateDetail {
            certificate_arn: c.certificate_arn().unwrap_or_default().to_owned(),
            domain_name: opt_str(c.domain_name()),
            subject_alternative_names: names,
            kind: c.r#type().map(|t| t.as_str().to_owned()),
            status: c.status().map(|s| s.as_str().to_owned()),
            not_before: c.not_before().and_then(time),
            not_after: c.not_after().and_then(time),
            renewal_eligibility: c.renewal_eligibility().map(|r| r.as_str().to_owned()),
            ..CertificateDetail::default()
        },
    }
}
