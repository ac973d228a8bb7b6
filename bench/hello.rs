//! The reference for request overhead: actix-web answering a small JSON body, with as
//! many workers as jifen runs. `bench/run` starts it on the address in its first
//! argument.

use actix_web::{App, HttpResponse, HttpServer, get};

#[get("/hello")]
async fn hello() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"points": "36.00", "honour": "12.00"}))
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let bind = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:18099".into());
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    HttpServer::new(|| App::new().service(hello))
        .workers(workers)
        .bind(bind)?
        .run()
        .await
}
