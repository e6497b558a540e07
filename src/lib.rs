//! session-ready: is a video therapy session from home a good fit right now?
//!
//! One module per concern. Pure decision logic (`assessment`, `net::rating`,
//! `device::rules`, `questionnaire::flow`) is kept apart from I/O so it can be
//! tested without a terminal or a network.

/// The JSON file `data/$file` as a `$ty`: embedded at build time, parsed once
/// on first use. A broken file is a build-time bug, caught by the test beside
/// each use.
macro_rules! embedded_data {
    ($ty:ty, $file:literal) => {{
        static DATA: std::sync::OnceLock<$ty> = std::sync::OnceLock::new();
        DATA.get_or_init(|| {
            serde_json::from_str(include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/data/",
                $file
            )))
            .expect(concat!("data/", $file, " is valid (checked by tests)"))
        })
    }};
}
pub(crate) use embedded_data;

pub mod assessment;
pub mod cli;
pub mod clinic;
pub mod commands;
pub mod crisis;
pub mod device;
pub mod error;
pub mod fsutil;
pub mod interrupt;
pub mod invite;
pub mod net;
pub mod notify;
pub mod page;
pub mod questionnaire;
pub mod report;
pub mod safe_text;
pub mod term;
pub mod ui;
pub mod visit;
pub mod when;
