//! session-ready: is a video therapy session from home a good fit right now?
//!
//! One module per concern. Pure decision logic (`assessment`, `net::rating`,
//! `device::rules`, `questionnaire::flow`) is kept apart from I/O so it can be
//! tested without a terminal or a network.
pub mod assessment;
pub mod cli;
pub mod clinic;
pub mod commands;
pub mod crisis;
pub mod device;
pub mod error;
pub mod fsutil;
pub mod interrupt;
pub mod net;
pub mod page;
pub mod questionnaire;
pub mod report;
pub mod safe_text;
pub mod term;
