//! Snapshots of `--format text` for verdicts a person reads first: a diagnosed ALB cause with a
//! second finding, a diagnosed CloudFront cause, and an inconclusive verdict with a gap.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::time::Duration;

use fivexx::alarm;
use fivexx::evidence::world::{Fault, World};
use fivexx::render::text::render;
use fivexx::triage::{TriageOptions, triage};
use fivexx::verdict::Verdict;

async fn verdict(name: &str, edit: impl FnOnce(&mut World)) -> Verdict {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/scenarios")
        .join(name);
    let alarm =
        alarm::parse_str(&std::fs::read_to_string(dir.join("event.json")).unwrap()).unwrap();
    let mut world = World::load(&dir.join("world.json")).unwrap();
    edit(&mut world);
    let opts = TriageOptions {
        now: world.now.unwrap(),
        deadline: tokio::time::Instant::now() + Duration::from_secs(10),
        home_region: world.region.clone(),
        home_account: world.account.clone(),
    };
    // `triage` leaves elapsed_ms at 0, so the snapshot is stable.
    triage(&world, &alarm, &opts).await
}

#[tokio::test]
async fn text_alb_targets_unreachable() {
    let v = verdict("alb-504-targets-unreachable", |_| {}).await;
    insta::assert_snapshot!(render(&v));
}

#[tokio::test]
async fn text_cloudfront_hostname_mismatch() {
    let v = verdict("cf-502-origin-hostname-mismatch", |_| {}).await;
    insta::assert_snapshot!(render(&v));
}

#[tokio::test]
async fn text_inconclusive_with_gap() {
    let v = verdict("cf-502-origin-cert-expired", |w| {
        w.faults.insert(
            "acm:DescribeCertificate".into(),
            Fault {
                code: "AccessDeniedException".into(),
                message: "User is not authorized to perform: acm:DescribeCertificate".into(),
            },
        );
    })
    .await;
    insta::assert_snapshot!(render(&v));
}
