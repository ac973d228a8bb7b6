//! Static assets, fingerprinted by content so they can be cached for a year.

use std::sync::LazyLock;

use actix_web::{HttpResponse, get, web};
use sha2::{Digest, Sha256};

struct Asset {
    path: String,
    content_type: &'static str,
    body: &'static str,
}

fn asset(name: &str, ext: &str, content_type: &'static str, body: &'static str) -> Asset {
    let digest = hex::encode(Sha256::digest(body.as_bytes()));
    Asset {
        path: format!("/static/{name}.{}.{ext}", &digest[..12]),
        content_type,
        body,
    }
}

const JS: &str = "text/javascript; charset=utf-8";

static ASSETS: LazyLock<[Asset; 4]> = LazyLock::new(|| {
    [
        asset(
            "app",
            "css",
            "text/css; charset=utf-8",
            include_str!("static/app.css"),
        ),
        asset("app", "js", JS, include_str!("static/app.js")),
        asset("shop", "js", JS, include_str!("static/shop.js")),
        asset("desk", "js", JS, include_str!("static/desk.js")),
    ]
});

/// `/static/app.<hash>.css`: a new address whenever the stylesheet changes.
pub fn css_path() -> &'static str {
    &ASSETS[0].path
}

/// The pages' shared script.
pub fn js_path() -> &'static str {
    &ASSETS[1].path
}

/// The shop counter's script.
pub fn shop_js_path() -> &'static str {
    &ASSETS[2].path
}

/// The desk's page behaviours.
pub fn desk_js_path() -> &'static str {
    &ASSETS[3].path
}

#[get("/static/{name}")]
async fn serve(name: web::Path<String>) -> HttpResponse {
    let path = format!("/static/{}", name.into_inner());
    match ASSETS.iter().find(|a| a.path == path) {
        Some(a) => HttpResponse::Ok()
            .content_type(a.content_type)
            .insert_header(("Cache-Control", "public, max-age=31536000, immutable"))
            .body(a.body),
        None => HttpResponse::NotFound().finish(),
    }
}
