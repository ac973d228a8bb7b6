//! The pages' static files (kept in `web/static/`), fingerprinted by content so they can
//! be cached for a year. Outside `web/` because printed sheets of the API link the
//! stylesheet too.

use std::sync::LazyLock;

use sha2::{Digest, Sha256};

pub struct Asset {
    pub path: String,
    pub content_type: &'static str,
    pub body: &'static str,
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
            include_str!("web/static/app.css"),
        ),
        asset("app", "js", JS, include_str!("web/static/app.js")),
        asset("shop", "js", JS, include_str!("web/static/shop.js")),
        asset("desk", "js", JS, include_str!("web/static/desk.js")),
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

/// The asset at a fingerprinted address.
pub fn find(path: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.path == path)
}
