//! Ledger use cases: balances, ledgers, reversal, the public head, verification, audit.

use chrono::{DateTime, Utc};

use super::model::{AccountKey, Asset, Floor, Leg, Owner, Purpose, TxKind};
use super::posting::{Posting, post};
use super::store::{self, AccountKeyText, PostingRow, TransactionRow};
use super::verify::HeadView;
use super::views::*;
use crate::amount::Amount;
use crate::audit::{self, AuditView, Event};
use crate::auth::policy::{Action, Target, authorize};
use crate::auth::{Caller, Principal};
use crate::db::idempotency::{IdempotencyKey, Outcome, created_once};
use crate::db::{DbConnection, TextState, Tx};
use crate::error::{AppError, AppResult};
use crate::org::policy::VillagePolicy;
use crate::org::service::{household_target, village_by_code, village_policy, village_target};
use crate::paging::{Page, PageQuery};

/// A name in the ledger's rows that jifen does not know: the database was changed
/// behind its back, and nothing is read as if it were something else.
fn unknown(what: &str, text: &str) -> AppError {
    AppError::internal(format!("unknown {what} {text:?} in the ledger"))
}

impl AccountKeyText {
    fn to_key(&self, village_id: i64) -> AppResult<AccountKey> {
        let owner = match self.owner_kind.as_str() {
            "household" => Owner::Household(self.owner_id),
            "village" => Owner::Village(self.owner_id),
            "shop" => Owner::Shop(self.owner_id),
            other => return Err(unknown("account owner", other)),
        };
        Ok(AccountKey {
            village_id,
            owner,
            asset: self.asset()?,
            purpose: Purpose::parse(&self.purpose)
                .ok_or_else(|| unknown("account purpose", &self.purpose))?,
        })
    }

    fn asset(&self) -> AppResult<Asset> {
        Asset::parse(&self.asset).ok_or_else(|| unknown("asset", &self.asset))
    }
}

fn transaction_view(tx: TransactionRow, postings: &[PostingRow]) -> AppResult<TransactionView> {
    let postings = postings
        .iter()
        .filter(|p| p.transaction_id == tx.id)
        .map(|p| {
            Ok(PostingView {
                account: p.key.canonical(),
                asset: p.key.asset()?,
                amount: Amount::from_minor(p.amount),
                balance_after: Amount::from_minor(p.balance_after),
            })
        })
        .collect::<AppResult<Vec<_>>>()?;
    Ok(TransactionView {
        postings,
        id: tx.id,
        village_id: tx.village_id,
        seq: tx.seq,
        kind: tx.kind,
        memo: tx.memo,
        reverses_id: tx.reverses_id,
        actor_kind: tx.actor_kind,
        actor_id: tx.actor_id,
        created_at: tx.created_at.and_utc(),
        prev_hash: tx.prev_hash,
        hash: tx.hash,
    })
}

/// Stars reached: how many thresholds the honour meets.
pub fn stars(policy: &VillagePolicy, honour: Amount) -> usize {
    policy
        .star_thresholds
        .iter()
        .filter(|t| **t <= honour)
        .count()
}

pub fn balance(
    conn: &mut DbConnection,
    p: &Principal,
    household_id: i64,
    pending: Amount,
) -> AppResult<BalanceView> {
    let (village_id, target) = household_target(conn, household_id)?;
    authorize(p, Action::ViewBalance, &target)?;
    let points = store::account_balance(
        conn,
        &AccountKey::household(village_id, household_id, Asset::Points),
    )?;
    let honour = store::account_balance(
        conn,
        &AccountKey::household(village_id, household_id, Asset::Honour),
    )?;
    let honour_amount = Amount::from_minor(honour.map_or(0, |(b, _)| b));
    let updated_at = [points, honour]
        .into_iter()
        .flatten()
        .map(|(_, at)| at)
        .max();
    Ok(BalanceView {
        household_id,
        points: Amount::from_minor(points.map_or(0, |(b, _)| b)),
        honour: honour_amount,
        pending,
        stars: stars(&village_policy(conn, village_id)?, honour_amount),
        updated_at: updated_at.map(|t| t.and_utc()),
    })
}

pub fn household_ledger(
    conn: &mut DbConnection,
    p: &Principal,
    household_id: i64,
    page: &PageQuery,
) -> AppResult<Page<EntryView>> {
    let (village_id, target) = household_target(conn, household_id)?;
    authorize(p, Action::ViewBalance, &target)?;
    let request = page.request()?;
    let points = store::account_id(
        conn,
        &AccountKey::household(village_id, household_id, Asset::Points),
    )?;
    let honour = store::account_id(
        conn,
        &AccountKey::household(village_id, household_id, Asset::Honour),
    )?;
    let rows = store::household_entries(conn, points, honour, request.after, request.limit + 1)?;
    let mut entries = Vec::with_capacity(rows.len());
    for (tx, own) in rows {
        let points_posting = own.iter().find(|p| Some(p.account_id) == points);
        let honour_delta = own
            .iter()
            .filter(|p| Some(p.account_id) == honour)
            .map(|p| p.amount)
            .sum();
        let points_after = match points_posting {
            Some(p) => p.balance_after,
            None => store::points_before(conn, points, tx.id)?,
        };
        entries.push(EntryView {
            transaction_id: tx.id,
            seq: tx.seq,
            kind: tx.kind,
            points: Amount::from_minor(points_posting.map_or(0, |p| p.amount)),
            honour: Amount::from_minor(honour_delta),
            points_after: Amount::from_minor(points_after),
            memo: tx.memo,
            created_at: tx.created_at.and_utc(),
            hash: tx.hash,
        });
    }
    Ok(Page::from_rows(
        entries,
        request,
        |e| e.transaction_id,
        |e| e,
    ))
}

pub fn village_ledger(
    conn: &mut DbConnection,
    p: &Principal,
    village_id: i64,
    page: &PageQuery,
) -> AppResult<Page<TransactionView>> {
    let target = village_target(conn, village_id)?;
    authorize(p, Action::ViewVillageLedger, &target)?;
    let request = page.request()?;
    let rows = store::transactions_before(conn, village_id, request.after, request.limit + 1)?;
    let ids: Vec<i64> = rows.iter().map(|t| t.id).collect();
    let postings = store::postings_of(conn, &ids)?;
    let views = rows
        .into_iter()
        .map(|t| transaction_view(t, &postings))
        .collect::<AppResult<Vec<_>>>()?;
    Ok(Page::from_rows(views, request, |t| t.seq, |t| t))
}

/// Reverses a transaction with its mirror image; at most one reversal per transaction.
/// Once per idempotency key.
pub fn reverse(
    conn: &mut DbConnection,
    key: &IdempotencyKey,
    caller: &Caller,
    transaction_id: i64,
    reason: &str,
    now: DateTime<Utc>,
) -> AppResult<Outcome> {
    created_once(conn, key, now, |tx| {
        reverse_in(tx, caller, transaction_id, reason, now)
    })
}

fn reverse_in(
    tx: &mut Tx<'_>,
    caller: &Caller,
    transaction_id: i64,
    reason: &str,
    now: DateTime<Utc>,
) -> AppResult<TransactionView> {
    let original = store::transaction(tx, transaction_id)?.ok_or(AppError::NotFound)?;
    let target = village_target(tx, original.village_id)?;
    authorize(&caller.principal, Action::Reverse, &target)?;
    if original.kind == TxKind::Reversal {
        return Err(AppError::InvalidState("冲正记录不能再冲正。".into()));
    }
    if ![TxKind::Award, TxKind::Deduction].contains(&original.kind) {
        // Redemptions are voided at the shop, so stock returns with the points.
        return Err(AppError::InvalidState(
            "兑换请在超市作废，其他记录不能在这里冲正。".into(),
        ));
    }
    // Under the chain-head lock, so two racing reversals see each other.
    store::lock_head(tx, original.village_id, now.naive_utc())?;
    if store::reversal_of(tx, transaction_id)?.is_some() {
        return Err(AppError::Conflict("这笔记录已经冲正过了。".into()));
    }
    let postings = store::postings_of(tx, &[transaction_id])?;
    let legs = postings
        .iter()
        .map(|p| {
            p.key.to_key(original.village_id).map(|account| Leg {
                account,
                amount: -p.amount,
                floor: Floor::None,
            })
        })
        .collect::<AppResult<Vec<_>>>()?;
    let memo = format!("冲正 #{}：{}", original.seq, reason.trim());
    let posted = post(
        tx,
        Posting {
            kind: TxKind::Reversal,
            memo: &memo,
            legs,
            reverses: Some(transaction_id),
            actor: caller.into(),
            at: now,
        },
    )?;
    audit::record(
        tx,
        caller,
        Event {
            village_id: Some(original.village_id),
            action: "reverse",
            subject_kind: "transaction",
            subject_id: Some(transaction_id),
            detail: serde_json::json!({"reason": reason.trim(), "reversal_id": posted.transaction_id, "seq": posted.seq}),
        },
        now,
    )?;
    let row = store::transaction(tx, posted.transaction_id)?.ok_or(AppError::NotFound)?;
    let postings = store::postings_of(tx, &[posted.transaction_id])?;
    transaction_view(row, &postings)
}

/// Takes the village's chain-head lock for the rest of the transaction, so checks made
/// after it see every posting committed before.
pub fn lock_chain(tx: &mut Tx<'_>, village_id: i64, now: DateTime<Utc>) -> AppResult<()> {
    store::lock_head(tx, village_id, now.naive_utc())?;
    Ok(())
}

/// A household's spendable points, for callers that have authorised the read themselves.
pub fn household_points(
    conn: &mut DbConnection,
    village_id: i64,
    household_id: i64,
) -> AppResult<Amount> {
    let key = AccountKey::household(village_id, household_id, Asset::Points);
    Ok(Amount::from_minor(
        store::account_balance(conn, &key)?.map_or(0, |(b, _)| b),
    ))
}

/// What each shop is owed in the village's books: (shop, hundredths).
pub fn shop_receivables(conn: &mut DbConnection, village_id: i64) -> AppResult<Vec<(i64, i64)>> {
    Ok(store::receivables(conn, village_id)?)
}

/// Sequence number and hash of a transaction, for receipts.
pub fn chain_position(conn: &mut DbConnection, transaction_id: i64) -> AppResult<(i64, String)> {
    let tx = store::transaction(conn, transaction_id)?.ok_or(AppError::NotFound)?;
    Ok((tx.seq, tx.hash))
}

/// Which of these transactions have been reversed.
pub fn reversed_among(conn: &mut DbConnection, transaction_ids: &[i64]) -> AppResult<Vec<i64>> {
    Ok(store::reversed_among(conn, transaction_ids)?)
}

/// The public chain head (no sign-in), by village code.
pub fn head_by_code(conn: &mut DbConnection, code: &str) -> AppResult<HeadView> {
    let village_id = village_by_code(conn, code)?.ok_or(AppError::NotFound)?;
    Ok(match store::head(conn, village_id)? {
        Some((seq, hash, at)) => HeadView {
            seq,
            hash,
            at: (seq > 0).then(|| at.and_utc()),
        },
        None => HeadView {
            seq: 0,
            hash: super::model::GENESIS_HASH.to_owned(),
            at: None,
        },
    })
}

pub fn audit_events(
    conn: &mut DbConnection,
    p: &Principal,
    village_id: i64,
    page: &PageQuery,
) -> AppResult<Page<AuditView>> {
    let target: Target = village_target(conn, village_id)?;
    authorize(p, Action::ViewAudit, &target)?;
    let request = page.request()?;
    let rows = audit::page(conn, village_id, request)?;
    Ok(Page::from_rows(rows, request, |e| e.id, |e| e))
}
