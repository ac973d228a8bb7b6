//! Staff sign-in for the shop counter and the committee desk (username and password).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;
use serde::Deserialize;

use super::page::{self, Chrome, redirect, safe_next, show};
use crate::auth::http::cookies;
use crate::auth::service::LoginRequest;
use crate::auth::{Principal, RoleName, session};
use crate::http::client_addr;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "staff/login.html", config = "src/web/askama.toml")]
struct LoginPage<'a> {
    chrome: Chrome,
    username: &'a str,
    next: &'a str,
    error: Option<String>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct LoginForm {
    username: String,
    password: String,
    next: Option<String>,
}

/// Where a staff member works: the counter for shopkeepers, the desk for everyone else.
fn workplace(p: &Principal) -> &'static str {
    if p.has_role(RoleName::Shopkeeper) {
        "/shop/"
    } else {
        "/admin/"
    }
}

fn login_form(
    req: &HttpRequest,
    state: &AppState,
    status: StatusCode,
    form: &LoginForm,
    error: Option<String>,
) -> HttpResponse {
    let next = form.next.clone().unwrap_or_default();
    show(req, state, status, |chrome| LoginPage {
        chrome,
        username: &form.username,
        next: &next,
        error,
    })
}

#[get("/staff/login")]
async fn login_page(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let query: LoginForm = serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    login_form(&req, &state, StatusCode::OK, &query, None)
}

#[post("/staff/login")]
async fn login(req: HttpRequest, state: web::Data<AppState>, body: web::Bytes) -> HttpResponse {
    let form: LoginForm = match page::form(&req, &state, &body) {
        Ok(form) => form,
        Err(response) => return response,
    };
    let addr = client_addr(&req);
    let credentials = LoginRequest {
        username: form.username.clone(),
        password: form.password.clone(),
    };
    let now = state.clock.now();
    match session::with_password(&state.auth, &credentials, &addr, now).await {
        Ok((principal, token)) => {
            let to = safe_next(form.next.as_deref(), workplace(&principal));
            redirect(&to)
                .cookie(cookies::session_cookie(&state.auth, token))
                .finish()
        }
        Err(err) => page::form_or_failure(&req, &state, &err, |status, message| {
            login_form(&req, &state, status, &form, Some(message))
        }),
    }
}

#[post("/staff/logout")]
async fn logout(req: HttpRequest, state: web::Data<AppState>, body: web::Bytes) -> HttpResponse {
    page::sign_out(&req, &state, &body, "/staff/login").await
}
