//! Events for the API (API.md "Members, events and notices").

use actix_web::{HttpResponse, get, post, web};
use utoipa_actix_web::service_config::ServiceConfig;

use super::model::{CheckinRequest, CheckinView, ClosedEvent, CreateEvent, EventList, EventView};
use super::service;
use crate::auth::{Caller, Principal};
use crate::error::AppError;
use crate::http::{Json, ValidJson, json};
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(create_event)
        .service(list_events)
        .service(check_in)
        .service(close_event);
}

/// Creates an event against a checklist item; its QR opens the villagers' check-in page.
#[utoipa::path(
    tag = "events",
    security(("bearer" = [])),
    params(("village_id" = i64, Path, description = "Village id")),
    request_body = CreateEvent,
    responses(
        (status = 201, description = "The event, open for check-ins", body = EventView),
        (status = 403, description = "Only the committee creates events"),
        (status = 404, description = "No such village in the caller's scope"),
        (status = 422, description = "A bad field, e.g. `item_id` not in the village's checklist, `ends_at` before `starts_at`"),
    )
)]
#[post("/villages/{village_id}/events")]
async fn create_event(
    state: web::Data<AppState>,
    c: Caller,
    id: web::Path<i64>,
    body: ValidJson<CreateEvent>,
) -> Result<HttpResponse, AppError> {
    let (id, now, base) = (id.into_inner(), state.clock.now(), public(&state));
    let event = state
        .db
        .run(move |conn| service::create(conn, &c, id, &body.0, &base, now))
        .await?;
    Ok(HttpResponse::Created().json(event))
}

/// The village's events, newest first, with how many households have checked in.
#[utoipa::path(
    tag = "events",
    security(("bearer" = [])),
    params(("village_id" = i64, Path, description = "Village id")),
    responses(
        (status = 200, description = "The events", body = EventList),
        (status = 404, description = "No such village in the caller's scope"),
    )
)]
#[get("/villages/{village_id}/events")]
async fn list_events(
    state: web::Data<AppState>,
    p: Principal,
    id: web::Path<i64>,
) -> Json<EventList> {
    let (id, base) = (id.into_inner(), public(&state));
    json(&state.db, move |conn| service::list(conn, &p, id, &base)).await
}

/// Checks a household in: a villager their own (`{}`), the committee the one named.
#[utoipa::path(
    tag = "events",
    security(("bearer" = [])),
    params(("event_id" = i64, Path, description = "Event id")),
    request_body = CheckinRequest,
    responses(
        (status = 201, description = "Checked in", body = CheckinView),
        (status = 404, description = "No such event in the caller's village"),
        (status = 409, description = "This household has checked in already"),
        (status = 422, description = "Outside the event's time, closed, full, or no `household_id` from the committee"),
    )
)]
#[post("/events/{event_id}/checkins")]
async fn check_in(
    state: web::Data<AppState>,
    c: Caller,
    id: web::Path<i64>,
    body: ValidJson<CheckinRequest>,
) -> Result<HttpResponse, AppError> {
    let (id, now) = (id.into_inner(), state.clock.now());
    let checkin = state
        .db
        .run(move |conn| service::check_in(conn, &c, id, &body.0, now))
        .await?;
    Ok(HttpResponse::Created().json(checkin))
}

/// Closes the event: one approved claim per checked-in household, within the item's cap,
/// then notice or posting as the village's policy says.
#[utoipa::path(
    tag = "events",
    security(("bearer" = [])),
    params(("event_id" = i64, Path, description = "Event id")),
    responses(
        (status = 200, description = "The claims made", body = ClosedEvent),
        (status = 403, description = "Only the committee closes events"),
        (status = 404, description = "No such event in the caller's village"),
        (status = 409, description = "The event is closed already"),
    )
)]
#[post("/events/{event_id}/close")]
async fn close_event(
    state: web::Data<AppState>,
    c: Caller,
    id: web::Path<i64>,
) -> Json<ClosedEvent> {
    let (id, now) = (id.into_inner(), state.clock.now());
    json(&state.db, move |conn| service::close(conn, &c, id, now)).await
}

fn public(state: &AppState) -> String {
    state
        .settings
        .public_url
        .clone()
        .unwrap_or_else(|| state.settings.browse_url())
}
