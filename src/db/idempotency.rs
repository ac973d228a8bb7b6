//! Idempotent requests (DESIGN.md §4.5): the key, a hash of the request and the outcome
//! are stored in the same transaction as the effect; a replay returns the stored outcome.
//! This module is the only writer of `idempotency_records`.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use super::connection::{DbConnection, Tx, write_tx};
use super::schema::idempotency_records;
use crate::error::{AppError, AppResult, FieldError};

/// A request's idempotency key in the caller's namespace, with the request's digest.
#[derive(Clone, Debug)]
pub struct IdempotencyKey {
    /// Keys are per caller, so two clerks cannot collide.
    pub scope: String,
    pub key: String,
    pub request_hash: String,
}

impl IdempotencyKey {
    /// Checks the header value (1–128 visible ASCII characters) and digests the request
    /// (method, path, and the JSON body in canonical form).
    pub fn new(
        scope: String,
        header: Option<&str>,
        method: &str,
        path: &str,
        body: &serde_json::Value,
    ) -> AppResult<Self> {
        let field = |m: &str| AppError::Validation(vec![FieldError::new("Idempotency-Key", m)]);
        let key = header.ok_or_else(|| field("这个请求需要 Idempotency-Key 请求头"))?;
        if key.is_empty() || key.len() > 128 || !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(field("须为 1–128 个可见 ASCII 字符"));
        }
        let mut digest = Sha256::new();
        digest.update(method.as_bytes());
        digest.update(b" ");
        digest.update(path.as_bytes());
        digest.update(b"\n");
        // serde_json keeps object keys sorted, so equal bodies digest equally.
        digest.update(body.to_string().as_bytes());
        Ok(Self {
            scope,
            key: key.to_owned(),
            request_hash: hex::encode(digest.finalize()),
        })
    }
}

/// What to send back: the status and JSON body, and whether it is a replay.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub status: u16,
    pub body: String,
    pub replayed: bool,
}

fn replay(record: IdempotencyRow, key: &IdempotencyKey) -> AppResult<Outcome> {
    if record.request_hash != key.request_hash {
        return Err(AppError::IdempotencyConflict);
    }
    Ok(Outcome {
        status: u16::try_from(record.status).unwrap_or(500),
        body: record.body,
        replayed: true,
    })
}

/// Runs `work` once per key, in one write transaction, and answers `201 Created` with
/// its result; a replay answers what the first run answered.
pub fn created_once<T: serde::Serialize>(
    conn: &mut DbConnection,
    key: &IdempotencyKey,
    now: DateTime<Utc>,
    work: impl FnOnce(&mut Tx<'_>) -> AppResult<T>,
) -> AppResult<Outcome> {
    run_once(conn, key, now, |tx| {
        let view = work(tx)?;
        Ok((201, serde_json::to_value(view).map_err(AppError::internal)?))
    })
}

/// Runs `work` once per key. A rejection (4xx) from `work` changes nothing, is stored, and
/// replays as the same rejection; a server error is not stored, so a retry may succeed.
fn run_once(
    conn: &mut DbConnection,
    key: &IdempotencyKey,
    now: DateTime<Utc>,
    work: impl FnOnce(&mut Tx<'_>) -> AppResult<(u16, serde_json::Value)>,
) -> AppResult<Outcome> {
    let result = write_tx(conn, |tx| {
        if let Some(record) = record_of(tx, &key.scope, &key.key)? {
            return replay(record, key);
        }
        // A savepoint, so a rejection rolls back whatever `work` did before refusing.
        let attempt = tx
            .savepoint(|tx| match work(tx) {
                Err(err) if err.keeps_effects() => Ok(Err(err)),
                other => other.map(Ok),
            })
            .and_then(|kept| kept);
        let (status, body) = match attempt {
            Ok((status, body)) => (status, body.to_string()),
            Err(err) if err.is_rejection() => {
                let status = err.problem().status;
                (
                    status,
                    serde_json::to_string(&err.problem()).map_err(AppError::internal)?,
                )
            }
            Err(err) => return Err(err),
        };
        let record = Record {
            request_hash: &key.request_hash,
            status: i32::from(status),
            body: &body,
        };
        insert(tx, &key.scope, &key.key, &record, now.naive_utc())?;
        Ok(Outcome {
            status,
            body,
            replayed: false,
        })
    });
    match result {
        // A concurrent duplicate committed first (PostgreSQL): ours rolled back whole.
        Err(err) if err.is_duplicate() => match record_of(conn, &key.scope, &key.key)? {
            Some(record) => replay(record, key),
            None => Err(AppError::Unavailable("请稍后重试。")),
        },
        other => other,
    }
}

/// Records that the effect named by `scope` and `key` happened, with no request behind it
/// (the posting job marks each claim it posts); a second mark is a duplicate error.
pub fn mark_done(
    tx: &mut Tx<'_>,
    scope: &str,
    key: &str,
    body: &str,
    now: NaiveDateTime,
) -> AppResult<()> {
    let record = Record {
        request_hash: "",
        status: 201,
        body,
    };
    insert(tx, scope, key, &record, now)
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = idempotency_records)]
struct IdempotencyRow {
    request_hash: String,
    status: i32,
    body: String,
}

fn record_of(
    conn: &mut DbConnection,
    scope: &str,
    key: &str,
) -> QueryResult<Option<IdempotencyRow>> {
    idempotency_records::table
        .filter(idempotency_records::scope.eq(scope))
        .filter(idempotency_records::idem_key.eq(key))
        .select(IdempotencyRow::as_select())
        .first(conn)
        .optional()
}

struct Record<'a> {
    request_hash: &'a str,
    status: i32,
    body: &'a str,
}

fn insert(
    tx: &mut Tx<'_>,
    scope: &str,
    key: &str,
    record: &Record<'_>,
    now: NaiveDateTime,
) -> AppResult<()> {
    diesel::insert_into(idempotency_records::table)
        .values((
            idempotency_records::scope.eq(scope),
            idempotency_records::idem_key.eq(key),
            idempotency_records::request_hash.eq(record.request_hash),
            idempotency_records::status.eq(record.status),
            idempotency_records::body.eq(record.body),
            idempotency_records::created_at.eq(now),
        ))
        .execute(&mut **tx)?;
    Ok(())
}
