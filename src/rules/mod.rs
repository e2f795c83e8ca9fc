//! Rules: pure functions from evidence to findings.

use crate::alarm::Alarm;
use crate::evidence::Evidence;
use crate::verdict::{Finding, Status};

pub struct Outcome {
    pub status: Status,
    pub summary: String,
    pub findings: Vec<Finding>,
}

pub fn evaluate(_alarm: &Alarm, _e: &Evidence) -> Outcome {
    Outcome {
        status: Status::Inconclusive,
        summary: String::new(),
        findings: vec![],
    }
}
