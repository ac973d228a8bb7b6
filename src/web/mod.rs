//! Server-rendered pages (DESIGN.md §8): Chinese, elder-first, no build step, nothing
//! loaded from other hosts. Sessions are HttpOnly cookies; every form carries a CSRF token.

mod assets;
mod h5;
mod session;
mod store;

use actix_web::web;

/// The pages' routes; they are not part of the JSON API's OpenAPI document.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(assets::stylesheet)
        .service(h5::login_page)
        .service(h5::login)
        .service(h5::home)
        .service(h5::code_page)
        .service(h5::code_status)
        .service(h5::board)
        .service(h5::object)
        .service(h5::logout);
}
