//! Sign-in (staff passwords, villager invite codes), tokens, and the one policy module
//! that decides every access.

pub mod http;
pub mod model;
pub mod password;
pub mod policy;
pub mod rate_limit;
pub mod secrets;
pub mod service;
mod store;
pub mod token;

pub use model::{Caller, Principal, PrincipalKind, RoleBinding, RoleName};
pub use policy::{Action, Target, authorize};
