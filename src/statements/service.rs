//! Issuing a household's statement, reading it back, and checking one.

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, Timelike, Utc};
use ed25519_dalek::{SigningKey, VerifyingKey};
use serde_json::{Value, json};

use super::model::{
    IssuedStatement, KIND, PublicKeyView, StatementChain, StatementDocument, StatementEntry,
    StatementKeys, StatementRequest, StatementVillage, VALID_DAYS, VERSION, Verification,
    VerifyRequest,
};
use super::signing;
use super::store::{self, NewStatement, StatementRow};
use crate::audit::{self, Event};
use crate::auth::policy::{Action, authorize};
use crate::auth::secrets::{random_token, sha256_hex};
use crate::auth::{Caller, Principal};
use crate::clock::{shanghai, shanghai_today};
use crate::db::{DbConnection, write_tx};
use crate::error::{AppError, AppResult};
use crate::org::service::{household_target, township_name, village_by_code};

/// The longest period a statement lists.
const MAX_YEARS: u32 = 3;

/// The keys statements are checked against: the server's own (one today; a list, so a
/// key can be rotated while older statements still verify).
pub fn keys(signing_key: &SigningKey) -> StatementKeys {
    let public = signing_key.verifying_key();
    StatementKeys {
        keys: vec![PublicKeyView {
            key_id: signing::key_id(&public),
            alg: "Ed25519",
            public_key: signing::public_key_text(&public),
        }],
    }
}

/// The period asked for: `[from, to]`, by default the year up to today.
fn period(req: &StatementRequest, today: NaiveDate) -> AppResult<(NaiveDate, NaiveDate)> {
    let to = req.to.unwrap_or(today);
    if to > today {
        return Err(AppError::field("to", "不能晚于今天"));
    }
    let a_year_before = to
        .checked_sub_months(chrono::Months::new(12))
        .and_then(|d| d.succ_opt());
    let from = req.from.or(a_year_before).unwrap_or(to);
    if to < from {
        return Err(AppError::field("to", "结束日期不能早于开始日期"));
    }
    if from.checked_add_months(chrono::Months::new(12 * MAX_YEARS)) <= Some(to) {
        return Err(AppError::field("from", "最多列出三年"));
    }
    Ok((from, to))
}

/// An instant as the document writes it: whole seconds, at Shanghai's offset.
fn stamped(at: DateTime<Utc>) -> DateTime<FixedOffset> {
    at.with_nanosecond(0)
        .unwrap_or(at)
        .with_timezone(&shanghai())
}

fn entries(lines: Vec<(NaiveDate, String, crate::amount::Amount)>) -> Vec<StatementEntry> {
    lines
        .into_iter()
        .map(|(date, item, points)| StatementEntry { date, item, points })
        .collect()
}

/// Issues a statement of the household now: signs its document and keeps it as signed.
pub fn issue(
    conn: &mut DbConnection,
    c: &Caller,
    household_id: i64,
    req: &StatementRequest,
    signing_key: &SigningKey,
    base_url: &str,
    now: DateTime<Utc>,
) -> AppResult<IssuedStatement> {
    write_tx(conn, |tx| {
        let (village_id, target) = household_target(tx, household_id)?;
        authorize(&c.principal, Action::IssueStatement, &target)?;
        let (from, to) = period(req, shanghai_today(now))?;
        let record = crate::reports::service::household_record(tx, household_id, from, to)?;
        let key_id = signing::key_id(&signing_key.verifying_key());
        let token = random_token();
        let (issued_at, expires_at) = (stamped(now), stamped(now + Duration::days(VALID_DAYS)));
        let id = store::insert(
            tx,
            &NewStatement {
                village_id,
                household_id,
                key_id: &key_id,
                check_token_hash: &sha256_hex(&token),
                issued_at: issued_at.naive_utc(),
                expires_at: expires_at.naive_utc(),
            },
        )?;
        let document = StatementDocument {
            kind: KIND.to_owned(),
            version: VERSION,
            statement_id: id,
            key_id: key_id.clone(),
            township: township_name(tx, target.township_id)?,
            village: StatementVillage {
                code: record.village_code,
                name: record.village_name,
            },
            household_id,
            door_no: record.door_no,
            head_name: record.head_name,
            purpose: req.purpose.trim().to_owned(),
            from,
            to,
            points: record.points,
            honour: record.honour,
            stars: record.stars as i64,
            star_levels: record.star_levels as i64,
            rank: record.rank as i64,
            households: record.households as i64,
            honours: entries(record.honours),
            deductions: entries(record.deductions),
            chain: StatementChain {
                seq: record.chain.seq,
                hash: record.chain.hash,
            },
            issued_at,
            expires_at,
            verify_url: check_url(base_url, &token),
        };
        let value = serde_json::to_value(&document).map_err(AppError::internal)?;
        let (text, signature) = signing::sign(signing_key, &value);
        store::seal(tx, id, &text, &signature)?;
        let event = Event {
            village_id: Some(village_id),
            action: "statement_issue",
            subject_kind: "household",
            subject_id: Some(household_id),
            detail: json!({"statement_id": id, "purpose": document.purpose}),
        };
        audit::record(tx, c, event, now)?;
        Ok(IssuedStatement {
            id,
            document: value,
            signature,
            key_id,
        })
    })
}

/// The address a statement's QR carries: this server's check of it.
pub fn check_url(base_url: &str, token: &str) -> String {
    format!("{}/v/{token}", base_url.trim_end_matches('/'))
}

fn issued(row: StatementRow) -> AppResult<IssuedStatement> {
    Ok(IssuedStatement {
        id: row.id,
        document: serde_json::from_str(&row.document).map_err(AppError::internal)?,
        signature: row.signature,
        key_id: row.key_id,
    })
}

/// A statement, for whoever may read its household.
pub fn get(conn: &mut DbConnection, p: &Principal, id: i64) -> AppResult<IssuedStatement> {
    let row = store::by_id(conn, id)?.ok_or(AppError::NotFound)?;
    let (_, target) = household_target(conn, row.household_id)?;
    authorize(p, Action::ViewHousehold, &target)?;
    issued(row)
}

/// The statement a QR's token names, with this server's check of it (no sign-in: the
/// token is printed on the statement its household handed over).
pub fn by_check_token(
    conn: &mut DbConnection,
    token: &str,
    keys: &[VerifyingKey],
    now: DateTime<Utc>,
) -> AppResult<(StatementDocument, Verification)> {
    let row = store::by_check_token(conn, &sha256_hex(token))?.ok_or(AppError::NotFound)?;
    let statement = issued(row)?;
    let verification = check(
        conn,
        keys,
        &VerifyRequest {
            document: statement.document.clone(),
            signature: statement.signature,
        },
        now,
    )?;
    let document = serde_json::from_value(statement.document).map_err(AppError::internal)?;
    Ok((document, verification))
}

/// Checks a statement against the published keys and this server's books.
pub fn check(
    conn: &mut DbConnection,
    keys: &[VerifyingKey],
    req: &VerifyRequest,
    now: DateTime<Utc>,
) -> AppResult<Verification> {
    let Some(found) = signed_by(keys, &req.document, &req.signature) else {
        return Ok(Verification::invalid());
    };
    let chain_seq_present = match (
        text_at(&req.document, &["village", "code"]),
        req.document.pointer("/chain/seq").and_then(Value::as_i64),
        text_at(&req.document, &["chain", "hash"]),
    ) {
        (Some(code), Some(seq), Some(hash)) => match village_by_code(conn, code)? {
            Some(village_id) => crate::ledger::service::holds(conn, village_id, seq, hash)?,
            None => false,
        },
        _ => false,
    };
    Ok(Verification {
        chain_seq_present,
        ..offline(found, &req.document, now)
    })
}

/// What a check can tell without the books: signature, issue and expiry.
pub fn offline(key: &VerifyingKey, document: &Value, now: DateTime<Utc>) -> Verification {
    let instant = |field: &str| {
        text_at(document, &[field])
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&Utc))
    };
    Verification {
        valid: true,
        issued_at: instant("issued_at"),
        expired: instant("expires_at").is_none_or(|end| end <= now),
        chain_seq_present: false,
        key_id: Some(signing::key_id(key)),
    }
}

/// The published key whose signature this is, if any.
pub fn signed_by<'k>(
    keys: &'k [VerifyingKey],
    document: &Value,
    signature: &str,
) -> Option<&'k VerifyingKey> {
    keys.iter()
        .find(|key| signing::verify(key, document, signature))
}

fn text_at<'v>(value: &'v Value, path: &[&str]) -> Option<&'v str> {
    path.iter()
        .try_fold(value, |at, key| at.get(key))
        .and_then(Value::as_str)
}
