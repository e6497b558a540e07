//! The internet half of the readiness check (criterion `internet`).
//!
//! - `model`: the JSON shape of a network result (PRODUCT.md field names).
//! - `probe`: the client that measures latency, throughput, loaded latency and UDP.
//! - `server`: `session-ready serve`, the self-hostable measurement endpoint.
//! - `stun`: STUN binding request/response codec (RFC 8489).
//! - `rating`: pure rules turning measurements into `video.rating`.
pub mod model;
pub mod probe;
pub mod rating;
pub mod server;
pub mod stun;

pub use model::NetworkReport;
