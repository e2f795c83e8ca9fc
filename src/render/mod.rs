//! Rendering: verdicts into text for people. Pure: no I/O, no clock.

pub mod text;
