//! Operations: health, readiness, metrics, and the per-request log line.

pub mod http;
pub mod metrics;
