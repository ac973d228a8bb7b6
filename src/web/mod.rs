//! Server-rendered pages (DESIGN.md §8): Chinese, elder-first, no build step, nothing
//! loaded from other hosts. Sessions are HttpOnly cookies; every form carries a CSRF token,
//! and the pages' scripts call the JSON API with the session cookie plus that token.

mod assets;
mod chart;
mod desk;
mod h5;
mod page;
mod shop;
mod staff;
mod wechat;

pub use wechat::TicketCache;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, web};
use askama::Template;

use crate::state::AppState;

/// The pages' routes; they are not part of the JSON API's OpenAPI document.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(landing)
        .service(assets::serve)
        .service(wechat::start)
        .service(wechat::callback)
        .service(wechat::jssdk_config)
        .service(staff::login_page)
        .service(staff::login)
        .service(staff::logout)
        .service(shop::counter)
        .service(shop::goods_page)
        .service(shop::receipt)
        .configure(desk::routes)
        .configure(h5::routes);
}

#[derive(Template)]
#[template(path = "landing.html", config = "src/web/askama.toml")]
struct Landing {
    chrome: page::Chrome,
}

/// `/`: three doors, for villagers, shops and the desk.
#[get("/")]
async fn landing(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    page::show(&req, &state, StatusCode::OK, |chrome| Landing { chrome })
}

/// Paths people open in a browser (everything else answers as the API does).
pub fn is_page(path: &str) -> bool {
    ["/h5/", "/shop/", "/admin/", "/staff/"]
        .iter()
        .any(|prefix| path.starts_with(prefix))
}

pub fn not_found(req: &HttpRequest, state: &AppState) -> HttpResponse {
    page::error_page(
        req,
        state,
        StatusCode::NOT_FOUND,
        "没有这个页面。请从首页重新进入。",
    )
}
