//! Sign-in endpoints and the extractor that turns a bearer token into a [`Principal`].

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::{Method, header};
use actix_web::{FromRequest, HttpRequest, HttpResponse, get, post, web};
use utoipa_actix_web::service_config::ServiceConfig;

use super::context::Auth;
use super::model::{Caller, Principal};
use super::service::{self, InviteRequest, LoginRequest, MeView, RefreshRequest, TokenPair};
use crate::error::AppError;
use crate::http::{ValidJson, client_addr};

pub mod cookies;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(login)
        .service(refresh_tokens)
        .service(logout)
        .service(sign_in_with_invite)
        .service(get_me);
}

impl FromRequest for Principal {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let auth = req.app_data::<web::Data<Auth>>().cloned();
        let token = bearer(req);
        let req = req.clone();
        Box::pin(async move {
            let auth = auth.ok_or_else(|| AppError::internal("sign-in state missing"))?;
            let Some(token) = token else {
                return from_page_session(&req, &auth).await;
            };
            let token = auth.keys.verify(&token, auth.clock.now())?;
            if let Some(cached) = service::cached_token_principal(&auth.db, &token) {
                return cached;
            }
            auth.db
                .run(move |conn| service::load_token_principal(conn, token))
                .await
        })
    }
}

impl FromRequest for Caller {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let principal = Principal::from_request(req, payload);
        let addr = client_addr(req);
        Box::pin(async move {
            Ok(Caller {
                principal: principal.await?,
                addr,
            })
        })
    }
}

/// Our own pages call the API with their session cookie. Another site can make a browser
/// send that cookie too, so anything but a read must also carry the CSRF token, which only
/// our pages can know.
async fn from_page_session(req: &HttpRequest, auth: &Auth) -> Result<Principal, AppError> {
    let safe = matches!(*req.method(), Method::GET | Method::HEAD);
    if !safe && !cookies::csrf_header_ok(req) {
        return Err(AppError::Unauthenticated("请先登录。"));
    }
    cookies::principal(req, auth)
        .await?
        .ok_or(AppError::Unauthenticated("请先登录。"))
}

fn bearer(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
        .filter(|t| !t.is_empty())
}

/// Staff sign-in with username and password.
#[utoipa::path(
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in: an access token (15 minutes) and a refresh token", body = TokenPair),
        (status = 401, description = "Wrong username or password"),
        (status = 422, description = "Missing or malformed field"),
        (status = 429, description = "Too many failed attempts for this username or address"),
    )
)]
#[post("/auth/login")]
async fn login(
    auth: web::Data<Auth>,
    req: HttpRequest,
    body: ValidJson<LoginRequest>,
) -> Result<web::Json<TokenPair>, AppError> {
    let (addr, now) = (client_addr(&req), auth.clock.now());
    let pair = service::login(auth.into_inner(), &body.0, &addr, now).await?;
    Ok(web::Json(pair))
}

/// Trades a refresh token for a new pair; the old refresh token stops working.
#[utoipa::path(
    tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "A new token pair", body = TokenPair),
        (status = 401, description = "Unknown, used, revoked or expired refresh token"),
        (status = 422, description = "Missing field"),
    )
)]
#[post("/auth/refresh")]
async fn refresh_tokens(
    auth: web::Data<Auth>,
    body: ValidJson<RefreshRequest>,
) -> Result<web::Json<TokenPair>, AppError> {
    let (now, auth2) = (auth.clock.now(), auth.clone());
    let pair = auth
        .db
        .run(move |conn| service::refresh(conn, &auth2.keys, &body.0.refresh_token, now))
        .await?;
    Ok(web::Json(pair))
}

/// Signs out: the refresh token and all tokens rotated from the same sign-in are revoked.
#[utoipa::path(
    tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 204, description = "Signed out (also when the token was already unknown)"),
        (status = 422, description = "Missing field"),
    )
)]
#[post("/auth/logout")]
async fn logout(
    auth: web::Data<Auth>,
    body: ValidJson<RefreshRequest>,
) -> Result<HttpResponse, AppError> {
    let now = auth.clock.now();
    auth.db
        .run(move |conn| service::logout(conn, &body.0.refresh_token, now))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Villager sign-in with a single-use invite code from the village committee.
#[utoipa::path(
    tag = "auth",
    request_body = InviteRequest,
    responses(
        (status = 200, description = "Signed in as the household member the code was made for", body = TokenPair),
        (status = 401, description = "Unknown, used or expired code"),
        (status = 422, description = "Not ten digits"),
        (status = 429, description = "Too many failed attempts from this address"),
    )
)]
#[post("/auth/invite")]
async fn sign_in_with_invite(
    auth: web::Data<Auth>,
    req: HttpRequest,
    body: ValidJson<InviteRequest>,
) -> Result<web::Json<TokenPair>, AppError> {
    let (addr, now, auth2) = (client_addr(&req), auth.clock.now(), auth.clone());
    let code = body.0.invite_code;
    let pair = auth
        .db
        .run(move |conn| service::sign_in_with_invite(conn, &auth2, &code, &addr, now))
        .await?;
    Ok(web::Json(pair))
}

/// The signed-in caller with roles and scopes.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller", body = MeView),
        (status = 401, description = "Missing, invalid or expired access token"),
    )
)]
#[get("/me")]
async fn get_me(principal: Principal) -> web::Json<MeView> {
    web::Json(MeView::from(&principal))
}
