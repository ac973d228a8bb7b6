//! The payment code (`/h5/code`): a fresh code each time the page opens, renewed quietly
//! before it runs out, and the redemption in words once the shop has scanned it.

use actix_web::http::StatusCode;
use actix_web::http::header::CACHE_CONTROL;
use actix_web::{HttpRequest, HttpResponse, get, web};
use askama::Template;

use crate::http::client_addr;
use crate::state::AppState;
use crate::web::page::{Chrome, failure, show, villager};

#[derive(Template)]
#[template(path = "h5/code.html", config = "src/web/askama.toml")]
struct CodePage {
    chrome: Chrome,
    id: i64,
    /// Milliseconds the code lives; phones' clocks are often wrong, so no wall time.
    ttl_ms: i64,
    qr_svg: String,
    grouped: String,
}

/// `912345678901234563` → `9123 4567 8901 2345 63`: easier to read aloud.
fn group_digits(code: &str) -> String {
    code.as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A fresh payment code each time the page opens (the previous one stops working).
#[get("/h5/code")]
async fn code_page(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let p = match villager(&req, &state).await {
        Ok(p) => p,
        Err(response) => return response,
    };
    let household_id = p.household_id().unwrap_or_default();
    let caller = crate::auth::Caller {
        principal: p,
        addr: client_addr(&req),
    };
    let (pepper, now) = (state.auth.pepper.clone(), state.clock.now());
    let issued = state
        .db
        .run(move |conn| {
            crate::shop::service::issue_code(conn, &caller, &pepper, household_id, now)
        })
        .await;
    match issued {
        Ok(code) => show(&req, &state, StatusCode::OK, |chrome| CodePage {
            chrome,
            id: code.id,
            ttl_ms: (code.expires_at - now).num_milliseconds(),
            grouped: group_digits(&code.code),
            qr_svg: code.qr_svg,
        }),
        Err(err) => failure(&req, &state, &err),
    }
}

#[derive(serde::Serialize)]
struct CodeWatch {
    status: crate::shop::model::CodeState,
    /// What was redeemed, in words, once the shop has scanned the code.
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<String>,
}

/// For the code page to learn of the redemption.
#[get("/h5/code/{id}/status")]
async fn code_status(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> HttpResponse {
    let p = match villager(&req, &state).await {
        Ok(p) => p,
        Err(_) => {
            return HttpResponse::Unauthorized()
                .insert_header((CACHE_CONTROL, "no-store"))
                .finish();
        }
    };
    let (id, now) = (id.into_inner(), state.clock.now());
    match state
        .db
        .run(move |conn| crate::shop::service::code_status(conn, &p, id, now))
        .await
    {
        Ok(found) => {
            let text = found.redemption.map(|r| {
                let goods = r
                    .lines
                    .iter()
                    .map(|l| format!("{} {} {}", l.name, l.quantity, l.unit))
                    .collect::<Vec<_>>()
                    .join("、");
                format!(
                    "已在 {} 兑换 {}，扣 {} 分",
                    r.shop_name, goods, r.total_points
                )
            });
            HttpResponse::Ok()
                .insert_header((CACHE_CONTROL, "no-store"))
                .json(CodeWatch {
                    status: found.status,
                    text,
                })
        }
        Err(_) => HttpResponse::NotFound()
            .insert_header((CACHE_CONTROL, "no-store"))
            .finish(),
    }
}
