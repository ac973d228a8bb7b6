//! The checklist (积分清单): versioned items with points, period, cap and proposers.

pub mod http;
mod import;
pub mod model;
pub mod service;
mod store;
