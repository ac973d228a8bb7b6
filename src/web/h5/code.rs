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
    /// Code 128 of the digits, for 1D scanner guns.
    barcode_svg: String,
    groups: Vec<String>,
    door_no: String,
    name: String,
    points: String,
}

/// `912345678901234563` → `912345 678901 234563`: three even groups, read aloud easily,
/// and a narrow screen breaks the line only between them (never "…3107 / 95").
fn group_digits(code: &str) -> Vec<String> {
    code.as_bytes()
        .chunks(6)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect()
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
            let code = crate::shop::service::issue_code(conn, &caller, &pepper, household_id, now)?;
            let balance = crate::reports::balance(conn, &caller.principal, household_id)?;
            let (_, door_no, name) = crate::org::service::household_brief(conn, household_id)?;
            Ok::<_, crate::error::AppError>((code, balance.points, door_no, name))
        })
        .await;
    match issued {
        Ok((code, points, door_no, name)) => {
            show(&req, &state, StatusCode::OK, |chrome| CodePage {
                chrome,
                id: code.id,
                ttl_ms: (code.expires_at - now).num_milliseconds(),
                groups: group_digits(&code.code),
                barcode_svg: crate::shop::barcode::svg(&code.code).unwrap_or_default(),
                qr_svg: code.qr_svg,
                door_no,
                name,
                points: points.plain(),
            })
        }
        Err(err) => failure(&req, &state, &err),
    }
}

#[derive(serde::Serialize)]
struct CodeWatch {
    status: crate::shop::model::CodeState,
    /// The shop checking it out: the page waits instead of renewing.
    #[serde(skip_serializing_if = "Option::is_none")]
    reserved_by: Option<String>,
    /// How long it still lives, by the server's clock (phones' clocks are often wrong).
    expires_in_ms: i64,
    /// What was redeemed, in words, once the shop has scanned the code.
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<String>,
    /// The shop voided the redemption afterwards: the points are back.
    voided: bool,
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
            let voided = found.redemption.as_ref().is_some_and(|r| r.voided);
            let text = found.redemption.map(|r| {
                let goods = r
                    .lines
                    .iter()
                    .map(|l| format!("{} {} {}", l.name, l.quantity, l.unit))
                    .collect::<Vec<_>>()
                    .join("、");
                match r.void_reason {
                    Some(reason) => format!(
                        "{} 把这笔兑换（{}）作废了，{} 分已退回。原因：{}",
                        r.shop_name,
                        goods,
                        r.total_points.plain(),
                        reason
                    ),
                    None => format!(
                        "已在 {} 兑换 {}，扣 {} 分",
                        r.shop_name,
                        goods,
                        r.total_points.plain()
                    ),
                }
            });
            HttpResponse::Ok()
                .insert_header((CACHE_CONTROL, "no-store"))
                .json(CodeWatch {
                    status: found.status,
                    reserved_by: found.reserved_by,
                    expires_in_ms: (found.expires_at - now).num_milliseconds().max(0),
                    text,
                    voided,
                })
        }
        Err(_) => HttpResponse::NotFound()
            .insert_header((CACHE_CONTROL, "no-store"))
            .finish(),
    }
}
