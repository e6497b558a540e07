//! The integration tests, one binary with a module per area, so tokio, axum,
//! reqwest, age and krilla are linked once rather than once per file.
//! Run one area with `cargo test --test integration report_fhir::`.

#[cfg(unix)]
mod browser_support;
mod net_support;
mod page_support;
#[cfg(unix)]
mod pty_support;
mod report_support;
#[cfg(unix)]
mod tools;
mod walk_support;
#[cfg(unix)]
mod wire_support;

mod architecture;
mod check_answers;
mod check_pty;
mod check_wire;
mod cli;
mod files;
mod fuzz_regressions;
mod hardening;
#[cfg(unix)]
mod host_browser;
mod host_finish;
mod host_invite;
mod host_measure;
#[cfg(unix)]
mod host_phone;
mod host_state;
mod net_abuse;
mod net_cli;
mod net_faults;
mod net_metrics;
mod net_probe;
mod net_rtc;
#[cfg(unix)]
mod net_rtc_browser;
mod net_serve_load;
mod net_servers;
mod net_stun_props;
mod net_tls;
mod net_udp;
#[cfg(unix)]
mod page_browser;
#[cfg(unix)]
mod page_finish;
mod page_server;
mod page_walk;
#[cfg(unix)]
mod page_walk_browser;
mod report_encrypt;
mod report_fhir;
mod report_formats;
mod report_pdf;
mod report_schema;
mod report_summarize;
mod visit_proof;
#[cfg(unix)]
mod visit_pty;
