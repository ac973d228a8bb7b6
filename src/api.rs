//! The JSON API's routes, each feature's `http.rs` under `/api/v1`: the server mounts
//! them and the OpenAPI document is read from them.

use utoipa_actix_web::service_config::ServiceConfig;

/// Every route of the service (and `/healthz`, `/readyz`, `/metrics`).
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.configure(crate::system::http::routes)
        .configure(crate::statements::http::well_known)
        .service(
            utoipa_actix_web::scope("/api/v1")
                .configure(crate::auth::http::routes)
                .configure(crate::org::http::routes)
                .configure(crate::checklist::http::routes)
                .configure(crate::reports::http::routes)
                .configure(crate::expiry::http::routes)
                .configure(crate::plates::http::routes)
                .configure(crate::books::http::routes)
                .configure(crate::claims::http::routes)
                .configure(crate::shop::http::routes)
                .configure(crate::statements::http::routes)
                .configure(crate::events::http::routes),
        );
}
