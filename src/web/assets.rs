//! Static assets, fingerprinted by content so they can be cached for a year.

use std::sync::LazyLock;

use actix_web::{HttpResponse, get, web};
use sha2::{Digest, Sha256};

const CSS: &str = include_str!("static/app.css");

/// `/static/app.<hash>.css`: a new hash whenever the stylesheet changes.
pub static CSS_PATH: LazyLock<String> = LazyLock::new(|| {
    let digest = hex::encode(Sha256::digest(CSS.as_bytes()));
    format!("/static/app.{}.css", &digest[..12])
});

#[get("/static/{name}")]
async fn stylesheet(name: web::Path<String>) -> HttpResponse {
    if format!("/static/{}", name.into_inner()) != *CSS_PATH {
        return HttpResponse::NotFound().finish();
    }
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header(("Cache-Control", "public, max-age=31536000, immutable"))
        .body(CSS)
}
