//! What every page shares: rendering, caching headers, redirects, error pages in words,
//! and the gate that sends a visitor without a session to the right sign-in.

use actix_web::http::StatusCode;
use actix_web::http::header::{CACHE_CONTROL, HeaderValue, LOCATION};
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder};
use askama::Template;
use chrono::{DateTime, Duration, Utc};

use super::wechat;
use crate::assets::{css_path, js_path};
use crate::auth::http::cookies;
use crate::auth::{Principal, PrincipalKind};
use crate::clock::{shanghai, shanghai_today};
use crate::error::AppError;
use crate::state::AppState;

/// What the base layout needs on every page.
pub struct Chrome {
    pub css: &'static str,
    pub js: &'static str,
    /// The desk's own script, which desk pages add.
    pub desk_js: &'static str,
    pub csrf: String,
}

#[derive(Template)]
#[template(path = "error.html", config = "src/web/askama.toml")]
struct ErrorPage<'a> {
    chrome: Chrome,
    message: &'a str,
}

/// A page that is never cached (it shows balances, codes or personal data).
pub fn personal(status: StatusCode) -> HttpResponseBuilder {
    let mut builder = HttpResponse::build(status);
    builder
        .content_type("text/html; charset=utf-8")
        .insert_header((CACHE_CONTROL, "no-store"));
    builder
}

pub fn render(template: &impl Template) -> String {
    template.render().unwrap_or_else(|err| {
        tracing::error!(error = %err, "template failed");
        "<!doctype html><meta charset=utf-8><p>页面出错了，请稍后再试。</p>".to_owned()
    })
}

/// Renders a page whose forms need the browser's CSRF token, setting the cookie if new.
pub fn show<T: Template>(
    req: &HttpRequest,
    state: &AppState,
    status: StatusCode,
    build: impl FnOnce(Chrome) -> T,
) -> HttpResponse {
    let (csrf, cookie) = cookies::csrf(req, &state.auth);
    let body = render(&build(Chrome {
        css: css_path(),
        js: js_path(),
        desk_js: crate::assets::desk_js_path(),
        csrf,
    }));
    let mut response = personal(status);
    if let Some(cookie) = cookie {
        response.cookie(cookie);
    }
    response.body(body)
}

pub fn error_page(
    req: &HttpRequest,
    state: &AppState,
    status: StatusCode,
    message: &str,
) -> HttpResponse {
    show(req, state, status, |chrome| ErrorPage { chrome, message })
}

/// A use case's refusal as a page shows it: the status, and the first field's words (or
/// the problem's) — the sentence a person needs.
pub fn words(err: &AppError) -> (StatusCode, String) {
    let problem = err.problem();
    let message = problem
        .errors
        .first()
        .map_or(problem.detail.clone(), |e| e.message.clone());
    let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, message)
}

/// The page for an error from a use case: its words, with its status.
pub fn failure(req: &HttpRequest, state: &AppState, err: &AppError) -> HttpResponse {
    let (status, message) = words(err);
    if status.is_server_error() {
        tracing::error!(error = %err, path = %req.path(), "page failed");
    }
    error_page(req, state, status, &message)
}

/// A sign-in form's answer to an error: a refusal shows the form again with the reason
/// in words (`form_again`), anything else is the error page.
pub fn form_or_failure(
    req: &HttpRequest,
    state: &AppState,
    err: &AppError,
    form_again: impl FnOnce(StatusCode, String) -> HttpResponse,
) -> HttpResponse {
    let (status, message) = words(err);
    if status.is_server_error() {
        return failure(req, state, err);
    }
    form_again(status, message)
}

pub fn redirect(to: &str) -> HttpResponseBuilder {
    // An address that cannot be a header value goes home rather than failing.
    let location = HeaderValue::from_str(to).unwrap_or(HeaderValue::from_static("/"));
    let mut builder = HttpResponse::SeeOther();
    builder
        .insert_header((LOCATION, location))
        .insert_header((CACHE_CONTROL, "no-store"));
    builder
}

/// Where to go after signing in: only our own pages, never another site. Anything else
/// (a scheme, `//`, a backslash, a space or control character that could split the
/// `Location` header) falls back to the person's own home.
pub fn safe_next(next: Option<&str>, fallback: &str) -> String {
    match next {
        Some(n)
            if ["/h5/", "/shop/", "/admin/"]
                .iter()
                .any(|p| n.starts_with(p))
                && n.bytes().all(|b| b.is_ascii_graphic())
                && !n.contains("//")
                && !n.contains('\\') =>
        {
            n.to_owned()
        }
        _ => fallback.to_owned(),
    }
}

fn here(req: &HttpRequest) -> String {
    let query = req.query_string();
    let path = req.path();
    let target = if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{query}")
    };
    form_urlencoded::byte_serialize(target.as_bytes()).collect()
}

/// The signed-in villager, or where to send the visitor: inside WeChat (when configured)
/// straight into the silent WeChat sign-in, elsewhere to the invite-code page.
pub async fn villager(req: &HttpRequest, state: &AppState) -> Result<Principal, HttpResponse> {
    match cookies::principal(req, &state.auth).await {
        Ok(Some(p)) if p.kind == PrincipalKind::Villager && p.household_id().is_some() => Ok(p),
        Ok(_) => {
            let start = if wechat::silent_sign_in(req, state) {
                "/auth/wechat/start"
            } else {
                "/h5/login"
            };
            Err(redirect(&format!("{start}?next={}", here(req))).finish())
        }
        Err(err) => Err(failure(req, state, &err)),
    }
}

/// The signed-in staff member, or the staff sign-in page.
pub async fn staff(req: &HttpRequest, state: &AppState) -> Result<Principal, HttpResponse> {
    match cookies::principal(req, &state.auth).await {
        Ok(Some(p)) if p.kind == PrincipalKind::Staff => Ok(p),
        Ok(_) => Err(redirect(&format!("/staff/login?next={}", here(req))).finish()),
        Err(err) => Err(failure(req, state, &err)),
    }
}

/// How long a claim stays on public notice, in the villager's words, the same on the
/// board and at the desk: `公示到 12月3日，还剩 2 天`, `公示到 12月3日，今天截止`. Notice
/// ends at midnight, so its last day is the day before `ends_at` (Asia/Shanghai).
pub fn notice_left(ends_at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let last = (ends_at - Duration::seconds(1))
        .with_timezone(&shanghai())
        .date_naive();
    let days = (last - shanghai_today(now)).num_days();
    let date = crate::date::on_phone(last);
    match days {
        ..0 => "公示期已满，即将入账".to_owned(),
        0 => format!("公示到 {date}，今天截止"),
        n => format!("公示到 {date}，还剩 {n} 天"),
    }
}

/// `+10.00` for gains, `-5.00` for losses.
pub fn signed(amount: crate::amount::Amount) -> String {
    if amount.is_negative() {
        amount.plain()
    } else {
        format!("+{}", amount.plain())
    }
}

#[derive(Default, serde::Deserialize)]
#[serde(default)]
struct CsrfField {
    csrf: String,
}

/// A posted form, once its CSRF token checks out.
#[allow(clippy::result_large_err)] // the error is the page to answer with, built once
pub fn form<T: serde::de::DeserializeOwned + Default>(
    req: &HttpRequest,
    state: &AppState,
    body: &[u8],
) -> Result<T, HttpResponse> {
    let token: CsrfField = serde_urlencoded::from_bytes(body).unwrap_or_default();
    if !cookies::csrf_ok(req, &token.csrf) {
        return Err(error_page(
            req,
            state,
            StatusCode::FORBIDDEN,
            "页面已过期，请返回上一页刷新后再试。",
        ));
    }
    let pairs: Vec<(String, String)> = form_urlencoded::parse(body).into_owned().collect();
    if crate::text::pairs_problem(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))).is_some() {
        return Err(error_page(
            req,
            state,
            StatusCode::UNPROCESSABLE_ENTITY,
            "填写的内容里有不能识别的字符，请删掉后重新填写。",
        ));
    }
    Ok(serde_urlencoded::from_bytes(body).unwrap_or_default())
}

/// Signs out of the page session and goes to `to`.
pub async fn sign_out(req: &HttpRequest, state: &AppState, body: &[u8], to: &str) -> HttpResponse {
    if let Err(response) = form::<CsrfField>(req, state, body) {
        return response;
    }
    cookies::end(req, &state.auth).await;
    redirect(to).cookie(cookies::expired_session()).finish()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn notice_counts_down_in_days_to_its_last_day() {
        // Notice ends at the end of 3 December in Shanghai (16:00 UTC on the 3rd).
        let ends = Utc.with_ymd_and_hms(2026, 12, 3, 16, 0, 0).unwrap();
        let at = |d, h| Utc.with_ymd_and_hms(2026, 12, d, h, 0, 0).unwrap();
        assert_eq!(notice_left(ends, at(1, 2)), "公示到 12月3日，还剩 2 天");
        // 23:00 on the 2nd in UTC is already the 3rd in Shanghai.
        assert_eq!(notice_left(ends, at(2, 23)), "公示到 12月3日，今天截止");
        assert_eq!(notice_left(ends, at(3, 16)), "公示期已满，即将入账");
    }
}
