//! The page a statement's QR opens (`/v/{token}`): the statement as the server keeps it
//! and whether it holds, for the bank clerk's phone, no sign-in.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, web};
use askama::Template;

use crate::error::AppError;
use crate::reports::model::star_line;
use crate::state::AppState;
use crate::statements::model::{StatementDocument, Verification};
use crate::web::page::{Chrome, error_page, failure, show};

#[derive(Template)]
#[template(path = "h5/statement_check.html", config = "src/web/askama.toml")]
struct CheckPage {
    chrome: Chrome,
    doc: StatementDocument,
    check: Verification,
    star_line: String,
    issued_on: String,
    expires_on: String,
}

#[get("/v/{token}")]
async fn check(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> HttpResponse {
    let (token, now) = (token.into_inner(), state.clock.now());
    let keys = vec![state.signing_key.verifying_key()];
    let found = state
        .db
        .run(move |conn| crate::statements::service::by_check_token(conn, &token, &keys, now))
        .await;
    let (doc, check) = match found {
        Ok(found) => found,
        Err(AppError::NotFound) => {
            return error_page(
                &req,
                &state,
                StatusCode::NOT_FOUND,
                "查不到这份积分证明：二维码可能抄错了，或不是本系统开具的。",
            );
        }
        Err(err) => return failure(&req, &state, &err),
    };
    show(&req, &state, StatusCode::OK, |chrome| CheckPage {
        chrome,
        star_line: star_line(doc.stars as usize, doc.star_levels as usize),
        issued_on: crate::date::in_words(doc.issued_at.date_naive()),
        expires_on: crate::date::in_words(doc.expires_at.date_naive()),
        doc,
        check,
    })
}
