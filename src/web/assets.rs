//! Serves the fingerprinted static files of [`crate::assets`].

use actix_web::{HttpResponse, get, web};

/// Compressed when the browser takes it (every one does): a cheap phone on a weak signal
/// loads the styles and scripts in a quarter of the bytes.
#[get("/static/{name}", wrap = "actix_web::middleware::Compress::default()")]
async fn serve(name: web::Path<String>) -> HttpResponse {
    let path = format!("/static/{}", name.into_inner());
    match crate::assets::find(&path) {
        Some(a) => HttpResponse::Ok()
            .content_type(a.content_type)
            .insert_header(("Cache-Control", "public, max-age=31536000, immutable"))
            .body(a.body),
        None => HttpResponse::NotFound().finish(),
    }
}
