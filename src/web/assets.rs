//! Serves the fingerprinted static files of [`crate::assets`].

use actix_web::{HttpResponse, get, web};

#[get("/static/{name}")]
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
