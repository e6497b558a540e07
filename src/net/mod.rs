//! The internet half of the readiness check (criterion `internet`).
//!
//! - `model`: the JSON shape of a network result (field names in docs/interface.md).
//! - `probe`: the client that measures latency, throughput, loaded latency and UDP.
//! - `server`: `session-ready serve`, the self-hostable measurement endpoint.
//! - `stun`: STUN binding request/response codec (RFC 8489).
//! - `rating`: pure rules turning measurements into `video.rating`.
//! - `render`: the result in plain words for a client, or JSON.
//! - `stats`: pure statistics (quantiles, jitter, throughput estimators).
pub mod model;
pub mod probe;
pub mod rating;
pub mod render;
pub mod saved;
pub mod server;
pub mod stats;
pub mod stun;

pub use model::NetworkReport;
