//! Sign-in (staff passwords, villager invite codes, WeChat), tokens, page sessions, and
//! the one policy module that decides every access.

mod context;
pub mod http;
pub mod model;
pub mod password;
pub mod policy;
pub mod rate_limit;
pub mod secrets;
pub mod service;
pub mod session;
mod store;
pub mod token;
pub mod wechat;

pub use context::Auth;
pub use model::{Caller, Principal, PrincipalKind, RoleBinding, RoleName};
pub use policy::{Action, Target, authorize};
