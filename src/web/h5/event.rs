//! The page an event's QR opens: what the event is, and one big 签到 button.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;

use crate::auth::Caller;
use crate::date::moment_on_phone;
use crate::events::model::{CheckinRequest, EventStatus, EventView};
use crate::http::client_addr;
use crate::state::AppState;
use crate::web::page::{self, Chrome, failure, redirect, show, villager, words};

#[derive(Template)]
#[template(path = "h5/event.html", config = "src/web/askama.toml")]
struct EventPage {
    chrome: Chrome,
    event: EventView,
    when: String,
    open: bool,
    /// This household has checked in already.
    came: bool,
    /// Said after a check-in: done, or why not.
    said: Option<(bool, String)>,
}

#[derive(Default, serde::Deserialize)]
#[serde(default)]
struct Done {
    done: bool,
}

async fn event_page(
    req: &HttpRequest,
    state: &AppState,
    p: crate::auth::Principal,
    id: i64,
    status: StatusCode,
    said: Option<(bool, String)>,
) -> HttpResponse {
    let base = crate::http::public_base(req, &state.settings);
    match state
        .db
        .run(move |conn| {
            let event = crate::events::service::get(conn, &p, id, &base)?;
            let came = crate::events::service::household_checked_in(conn, &p, id)?;
            Ok::<_, crate::error::AppError>((event, came))
        })
        .await
    {
        Ok((event, came)) => show(req, state, status, |chrome| EventPage {
            came,
            chrome,
            when: format!(
                "{} 到 {}",
                moment_on_phone(event.starts_at),
                event
                    .ends_at
                    .with_timezone(&crate::clock::shanghai())
                    .format("%H:%M")
            ),
            open: event.status == EventStatus::Open,
            event,
            said,
        }),
        Err(err) => failure(req, state, &err),
    }
}

#[get("/h5/events/{event_id}")]
async fn event_page_get(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> HttpResponse {
    let p = match villager(&req, &state).await {
        Ok(p) => p,
        Err(response) => return response,
    };
    let done: Done = serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    let said = done
        .done
        .then(|| (true, "签到成功，活动结束后由村委会确认加分。".to_owned()));
    event_page(&req, &state, p, id.into_inner(), StatusCode::OK, said).await
}

#[post("/h5/events/{event_id}/checkin")]
async fn check_in(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: web::Bytes,
) -> HttpResponse {
    if let Err(response) = page::form::<Done>(&req, &state, &body) {
        return response;
    }
    let p = match villager(&req, &state).await {
        Ok(p) => p,
        Err(response) => return response,
    };
    let id = id.into_inner();
    let caller = Caller {
        principal: p.clone(),
        addr: client_addr(&req),
    };
    let now = state.clock.now();
    let result = state
        .db
        .run(move |conn| {
            crate::events::service::check_in(conn, &caller, id, &CheckinRequest::default(), now)
        })
        .await;
    match result {
        Ok(_) => redirect(&format!("/h5/events/{id}?done=true")).finish(),
        Err(err) => {
            let (status, message) = words(&err);
            if status.is_server_error() {
                return failure(&req, &state, &err);
            }
            event_page(&req, &state, p, id, status, Some((false, message))).await
        }
    }
}
