//! Creating events, checking households in, and closing an event into claims.

use chrono::{DateTime, Utc};
use serde_json::json;

use super::model::{
    CheckinRequest, CheckinView, ClosedEvent, CreateEvent, EventList, EventStatus, EventView,
};
use super::store::{self, EventRow, NewEvent};
use crate::audit::{self, Event};
use crate::auth::policy::{Action, authorize, permits};
use crate::auth::{Caller, Principal, PrincipalKind};
use crate::claims::service::{Attendance, approve_attendance};
use crate::clock::shanghai_today;
use crate::date::moment_on_phone;
use crate::db::{DbConnection, Tx, write_tx};
use crate::error::{AppError, AppResult};
use crate::org::service::{household_target, village_target};

/// The page an event's QR opens.
pub fn checkin_url(base: &str, event_id: i64) -> String {
    format!("{}/h5/events/{event_id}", base.trim_end_matches('/'))
}

fn view(row: EventRow, checkins: i64, base: &str) -> EventView {
    let url = checkin_url(base, row.id);
    EventView {
        qr_svg: crate::shop::code::qr_svg(&url).unwrap_or_default(),
        checkin_url: url,
        id: row.id,
        village_id: row.village_id,
        title: row.title,
        item_id: row.item_id,
        place: row.place,
        starts_at: row.starts_at.and_utc(),
        ends_at: row.ends_at.and_utc(),
        max_checkins: row.max_checkins,
        status: row.status,
        checkins,
    }
}

pub fn create(
    conn: &mut DbConnection,
    c: &Caller,
    village_id: i64,
    req: &CreateEvent,
    base: &str,
    now: DateTime<Utc>,
) -> AppResult<EventView> {
    write_tx(conn, |tx| {
        authorize(
            &c.principal,
            Action::ManageEvents,
            &village_target(tx, village_id)?,
        )?;
        match crate::checklist::service::item_in_village(tx, req.item_id) {
            Ok((v, item)) if v == village_id && item.active => {}
            Ok(_) | Err(AppError::NotFound) => {
                return Err(AppError::field("item_id", "本村清单里没有这一项"));
            }
            Err(other) => return Err(other),
        }
        if req.ends_at <= req.starts_at {
            return Err(AppError::field("ends_at", "结束时间要在开始时间之后"));
        }
        let title = req.title.trim();
        let place = req.place.as_deref().map(str::trim);
        let id = store::insert(
            tx,
            &NewEvent {
                village_id,
                item_id: req.item_id,
                title,
                place,
                starts_at: req.starts_at.naive_utc(),
                ends_at: req.ends_at.naive_utc(),
                max_checkins: req.max_checkins,
                created_by: c.principal.id,
                created_at: now.naive_utc(),
            },
        )?;
        let entry = Event {
            village_id: Some(village_id),
            action: "event_create",
            subject_kind: "event",
            subject_id: Some(id),
            detail: json!({"title": title, "item_id": req.item_id}),
        };
        audit::record(tx, c, entry, now)?;
        let row = store::event(tx, id)?.ok_or(AppError::NotFound)?;
        Ok(view(row, 0, base))
    })
}

/// The village's events, newest first, with their check-in counts.
pub fn list(
    conn: &mut DbConnection,
    p: &Principal,
    village_id: i64,
    base: &str,
) -> AppResult<EventList> {
    authorize(p, Action::ViewEvents, &village_target(conn, village_id)?)?;
    let rows = store::of_village(conn, village_id)?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let counts = store::counts(conn, &ids)?;
    let items = rows
        .into_iter()
        .map(|row| {
            let n = counts
                .iter()
                .find(|(id, _)| *id == row.id)
                .map_or(0, |(_, n)| *n);
            view(row, n, base)
        })
        .collect();
    Ok(EventList { items })
}

/// One event as the caller may see it (404 outside their village).
pub fn get(
    conn: &mut DbConnection,
    p: &Principal,
    event_id: i64,
    base: &str,
) -> AppResult<EventView> {
    let row = visible(conn, p, event_id)?;
    let n = store::counts(conn, &[row.id])?
        .first()
        .map_or(0, |(_, n)| *n);
    Ok(view(row, n, base))
}

/// Whether the villager's household has checked in at the event.
pub fn household_checked_in(
    conn: &mut DbConnection,
    p: &Principal,
    event_id: i64,
) -> AppResult<bool> {
    let row = visible(conn, p, event_id)?;
    match p.household_id() {
        Some(household) => Ok(store::checked_in(conn, row.id, household)?),
        None => Ok(false),
    }
}

fn visible(conn: &mut DbConnection, p: &Principal, event_id: i64) -> AppResult<EventRow> {
    let row = store::event(conn, event_id)?.ok_or(AppError::NotFound)?;
    if permits(
        p,
        Action::ViewEvents,
        &village_target(conn, row.village_id)?,
    ) {
        Ok(row)
    } else {
        Err(AppError::NotFound)
    }
}

/// Which household checks in, and as whom: a villager for their own household, the
/// committee for the one it names.
fn who_checks_in(
    tx: &mut Tx<'_>,
    c: &Caller,
    event: &EventRow,
    req: &CheckinRequest,
) -> AppResult<(i64, Option<i64>)> {
    let p = &c.principal;
    if p.kind == PrincipalKind::Villager {
        let own = p.household_id().ok_or(AppError::NotFound)?;
        if req.household_id.is_some_and(|h| h != own) {
            return Err(AppError::NotFound);
        }
        return Ok((own, Some(p.id)));
    }
    authorize(
        p,
        Action::ManageEvents,
        &village_target(tx, event.village_id)?,
    )?;
    let household = req
        .household_id
        .ok_or_else(|| AppError::field("household_id", "请选要签到的农户"))?;
    match household_target(tx, household) {
        Ok((village, _)) if village == event.village_id => Ok((household, None)),
        Ok(_) | Err(AppError::NotFound) => Err(AppError::field("household_id", "本村没有这一户")),
        Err(other) => Err(other),
    }
}

pub fn check_in(
    conn: &mut DbConnection,
    c: &Caller,
    event_id: i64,
    req: &CheckinRequest,
    now: DateTime<Utc>,
) -> AppResult<CheckinView> {
    write_tx(conn, |tx| {
        visible(tx, &c.principal, event_id)?;
        let event = store::lock(tx, event_id)?.ok_or(AppError::NotFound)?;
        let (household_id, member_id) = who_checks_in(tx, c, &event, req)?;
        crate::org::service::ensure_active_household(tx, household_id)?;
        let at = now.naive_utc();
        if event.status == EventStatus::Closed {
            return Err(AppError::NotOpen("活动已经结束，不能再签到了。".into()));
        }
        if at < event.starts_at {
            let opens = moment_on_phone(event.starts_at.and_utc());
            return Err(AppError::NotOpen(format!("还没到签到时间：{opens} 开始。")));
        }
        if at > event.ends_at {
            let closed = moment_on_phone(event.ends_at.and_utc());
            return Err(AppError::NotOpen(format!("签到已经在 {closed} 结束了。")));
        }
        if store::checked_in(tx, event_id, household_id)? {
            return Err(AppError::Conflict("这一户已经签过到了。".into()));
        }
        if let Some(max) = event.max_checkins {
            let n = store::counts(tx, &[event_id])?
                .first()
                .map_or(0, |(_, n)| *n);
            if n >= i64::from(max) {
                return Err(AppError::NotOpen(format!("签到人数已满（{max} 户）。")));
            }
        }
        store::add_checkin(tx, event_id, household_id, member_id, at)?;
        Ok(CheckinView {
            household_id,
            at: now,
        })
    })
}

/// Closes the event: every checked-in household gets one approved claim against the
/// item (on notice or posted as the village's policy says), within the item's cap.
pub fn close(
    conn: &mut DbConnection,
    c: &Caller,
    event_id: i64,
    now: DateTime<Utc>,
) -> AppResult<ClosedEvent> {
    write_tx(conn, |tx| {
        visible(tx, &c.principal, event_id)?;
        let event = store::lock(tx, event_id)?.ok_or(AppError::NotFound)?;
        authorize(
            &c.principal,
            Action::ManageEvents,
            &village_target(tx, event.village_id)?,
        )?;
        if !store::close(tx, event_id, now.naive_utc())? {
            return Err(AppError::InvalidState("这个活动已经结束了。".into()));
        }
        let attended = store::attendance(tx, event_id)?;
        let note = format!("参加活动：{}", event.title);
        let attendance = Attendance {
            village_id: event.village_id,
            item_id: event.item_id,
            attended: &attended,
            occurred_on: shanghai_today(event.starts_at.and_utc()),
            note: &note,
        };
        let made = approve_attendance(tx, c, &attendance, now)?;
        for (household_id, claim_id) in &made {
            store::set_claim(tx, event_id, *household_id, *claim_id)?;
        }
        let ids: Vec<i64> = made.iter().map(|(_, id)| *id).collect();
        let entry = Event {
            village_id: Some(event.village_id),
            action: "event_close",
            subject_kind: "event",
            subject_id: Some(event_id),
            detail: json!({"checkins": attended.len(), "claims": ids}),
        };
        audit::record(tx, c, entry, now)?;
        Ok(ClosedEvent {
            claims: crate::claims::service::views(tx, &ids)?,
        })
    })
}
