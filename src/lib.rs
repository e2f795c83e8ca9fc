//! fivexx: why is my CloudFront distribution or Application Load Balancer answering 5xx, and
//! what do I do now?
//!
//! # Layout
//!
//! The flow is the folder order:
//!
//! - [`alarm`]: a Lambda payload (direct alarm action, SNS, EventBridge) into one [`alarm::Alarm`].
//! - [`scope`]: the alarm into the resources to examine (load balancers, distributions).
//! - [`evidence`]: what AWS knows about them, through a port with two implementations: the
//!   SDK ([`evidence::sdk`]) and a recorded world file ([`evidence::world`]);
//!   [`evidence::gather`] orders the calls into as few waves as possible; failures become gaps.
//! - [`rules`]: pure functions of the evidence, one per cause of the catalogue, ranked.
//! - [`verdict`]: the JSON contract; [`render`] turns it into text for people.
//! - [`notify`]: Slack Block Kit and SNS messages (pure), and their delivery.
//! - [`triage`]: the whole pipeline for one alarm; [`cli`]: the command line; [`lambda`]: the
//!   function, configured by [`config`].
//!
//! [`untrusted`] holds the checks every value from a payload or a world passes where it is read.
//!
//! Nothing below [`triage`] does I/O except the SDK port; rules and rendering never do.

pub mod alarm;
pub mod cli;
pub mod config;
pub mod error;
pub mod evidence;
pub(crate) mod incident;
pub mod lambda;
pub(crate) mod names;
pub mod notify;
pub mod render;
pub mod rules;
pub mod scope;
pub(crate) mod share;
pub mod triage;
pub(crate) mod untrusted;
pub mod verdict;
