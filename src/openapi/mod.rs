//! The OpenAPI document, generated from the handlers' annotations.

use actix_web::App;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::AppExt;

use crate::error::{FieldError, Problem};

mod contract;
pub mod methods;

pub use contract::{MULTI_LINE, SINGLE_LINE};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "jifen 积分",
        description = "The ledger service behind a village's points-and-checklist scheme (积分制＋清单制). \
Amounts are JSON strings with two decimals; errors are application/problem+json with a stable `code`; \
lists page with `limit` and `cursor`; a resource outside the caller's scope answers 404."
    ),
    tags(
        (name = "auth", description = "Sign-in, tokens, the caller"),
        (name = "organisation", description = "Township, villages, groups, households, members, staff"),
        (name = "checklist", description = "The checklist (积分清单): versioned items"),
        (name = "claims", description = "Claims and the committee's direct awards"),
        (name = "shop", description = "积分超市: shops, goods, stock, payment codes, redemption, voids"),
        (name = "ledger", description = "Balances, ledgers, reversals, the public chain head, verification, audit"),
        (name = "reports", description = "Rankings, the honour board (红榜/黑榜), star households, 清零"),
        (name = "events", description = "Village events: check-ins by QR or at the door, closed into claims"),
        (name = "statements", description = "积分证明: a household's signed statement for a bank, its check and the public keys"),
        (name = "system", description = "Health, readiness, metrics"),
    ),
    components(schemas(Problem, FieldError)),
    modifiers(&BearerAuth)
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// The base document: info, tags, shared schemas, security schemes.
pub fn base() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// The full document, as served at `/api-docs/openapi.json`: the handlers' annotations,
/// completed with what every operation of a kind answers (see `contract`).
pub fn document() -> utoipa::openapi::OpenApi {
    let (_, mut api) = App::new()
        .into_utoipa_app()
        .openapi(base())
        .configure(crate::api::routes)
        .split_for_parts();
    contract::complete(&mut api);
    api
}

/// The document as committed in `openapi/openapi.json`.
pub fn document_json() -> String {
    let mut text = document().to_pretty_json().unwrap_or_default();
    text.push('\n');
    text
}
