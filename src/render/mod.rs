//! Rendering: verdicts into text for people. Pure: no I/O, no clock.
//!
//! Slack and SNS renderings live in [`crate::notify`].

pub mod text;
