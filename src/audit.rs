//! Audit events: who did what, when, from where. Append-only; every use case that
//! changes points, the checklist, policy or households records one.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::db::schema::audit_events;
use crate::db::{DbConnection, Tx};
use crate::paging::PageRequest;

/// The ledger records who caused a transaction as the audit trail does.
impl From<&Caller> for crate::ledger::model::Actor {
    fn from(caller: &Caller) -> Self {
        Self {
            kind: caller.kind(),
            id: Some(caller.principal.id),
        }
    }
}

pub struct Event<'a> {
    pub village_id: Option<i64>,
    pub action: &'a str,
    pub subject_kind: &'a str,
    pub subject_id: Option<i64>,
    pub detail: serde_json::Value,
}

pub fn record(
    tx: &mut Tx<'_>,
    caller: &Caller,
    event: Event,
    at: DateTime<Utc>,
) -> QueryResult<()> {
    let actor = crate::ledger::model::Actor::from(caller);
    record_as(tx, actor, &caller.addr, event, at)
}

/// Records what the server did by itself (a background job) or an operator did at the
/// command line: `addr` says which (`job`, `cli`).
pub fn record_as(
    tx: &mut Tx<'_>,
    actor: crate::ledger::model::Actor,
    addr: &str,
    event: Event,
    at: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::insert_into(audit_events::table)
        .values((
            audit_events::village_id.eq(event.village_id),
            audit_events::actor_kind.eq(actor.kind),
            audit_events::actor_id.eq(actor.id),
            audit_events::action.eq(event.action),
            audit_events::subject_kind.eq(event.subject_kind),
            audit_events::subject_id.eq(event.subject_id),
            audit_events::detail.eq(event.detail.to_string()),
            audit_events::addr.eq(addr),
            audit_events::created_at.eq(at.naive_utc()),
        ))
        .execute(&mut **tx)
        .map(drop)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditView {
    pub id: i64,
    /// `staff` or `member`.
    pub actor_kind: String,
    pub actor_id: Option<i64>,
    #[schema(example = "award")]
    pub action: String,
    pub subject_kind: String,
    pub subject_id: Option<i64>,
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
    /// The address the request came from.
    pub addr: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = audit_events)]
struct EventRow {
    id: i64,
    actor_kind: String,
    actor_id: Option<i64>,
    action: String,
    subject_kind: String,
    subject_id: Option<i64>,
    detail: String,
    addr: String,
    created_at: NaiveDateTime,
}

impl From<EventRow> for AuditView {
    fn from(row: EventRow) -> Self {
        AuditView {
            id: row.id,
            actor_kind: row.actor_kind,
            actor_id: row.actor_id,
            action: row.action,
            subject_kind: row.subject_kind,
            subject_id: row.subject_id,
            detail: serde_json::from_str(&row.detail).unwrap_or(serde_json::Value::Null),
            addr: row.addr,
            created_at: row.created_at.and_utc(),
        }
    }
}

/// Newest first, before `page.after` (an event id) when given.
pub fn page(
    conn: &mut DbConnection,
    village_id: i64,
    page: PageRequest,
) -> QueryResult<Vec<AuditView>> {
    let rows: Vec<EventRow> = audit_events::table
        .filter(audit_events::village_id.eq(village_id))
        .filter(audit_events::id.lt(page.after.unwrap_or(i64::MAX)))
        .order(audit_events::id.desc())
        .limit(page.limit + 1)
        .select(EventRow::as_select())
        .load(conn)?;
    Ok(rows.into_iter().map(AuditView::from).collect())
}
