//! What the ledger answers and does for the features above it, who have authorised the
//! caller themselves: holdings, entries, transactions, reversal, the chain head.

use chrono::{DateTime, Utc};

use super::model::{AccountKey, Actor, Asset, Floor, Leg, Owner, Purpose, TxKind};
use super::posting::{Posted, Posting, lock_chain, post_on};
use super::store::{self, AccountKeyText, PostingRow, TransactionRow};
use super::verify::HeadView;
use super::views::*;
use crate::amount::Amount;
use crate::db::{DbConnection, TextState, Tx};
use crate::error::{AppError, AppResult};
use crate::paging::{Page, PageRequest};

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

/// Whether the village's chain has this hash at this sequence number (a chain head
/// someone printed is still in the books).
pub fn holds(conn: &mut DbConnection, village_id: i64, seq: i64, hash: &str) -> AppResult<bool> {
    Ok(store::hash_at(conn, village_id, seq)?.is_some_and(|at| at == hash))
}

/// Households of the village holding spendable points: (household, hundredths), what
/// 清零 would take.
pub fn positive_points(conn: &mut DbConnection, village_id: i64) -> AppResult<Vec<(i64, i64)>> {
    Ok(store::positive_points(conn, village_id)?)
}

/// Which of these transactions have been reversed.
pub fn reversed_among(conn: &mut DbConnection, transaction_ids: &[i64]) -> AppResult<Vec<i64>> {
    Ok(store::reversed_among(conn, transaction_ids)?)
}

/// A household's points and honour, and when either last moved.
pub struct Holdings {
    pub points: Amount,
    pub honour: Amount,
    pub updated_at: Option<DateTime<Utc>>,
}

/// A household's points and honour, both read in one statement.
pub fn holdings(
    conn: &mut DbConnection,
    village_id: i64,
    household_id: i64,
) -> AppResult<Holdings> {
    let key = AccountKey::household(village_id, household_id, Asset::Points);
    let mut held = Holdings {
        points: Amount::ZERO,
        honour: Amount::ZERO,
        updated_at: None,
    };
    for (asset, balance, at) in store::balances_by_asset(conn, &key)? {
        let amount = Amount::from_minor(balance);
        match Asset::parse(&asset) {
            Some(Asset::Points) => held.points = amount,
            Some(Asset::Honour) => held.honour = amount,
            None => continue,
        }
        held.updated_at = held.updated_at.max(Some(at.and_utc()));
    }
    Ok(held)
}

/// A page of a household's entries, newest first, each with the points after it.
pub fn household_entries(
    conn: &mut DbConnection,
    village_id: i64,
    household_id: i64,
    request: PageRequest,
) -> AppResult<Page<EntryView>> {
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

/// A page of the village's transactions with their postings, newest first.
pub fn village_transactions(
    conn: &mut DbConnection,
    village_id: i64,
    request: PageRequest,
) -> AppResult<Page<TransactionView>> {
    let rows = store::transactions_before(conn, village_id, request.after, request.limit + 1)?;
    let ids: Vec<i64> = rows.iter().map(|t| t.id).collect();
    let postings = store::postings_of(conn, &ids)?;
    let views = rows
        .into_iter()
        .map(|t| transaction_view(t, &postings))
        .collect::<AppResult<Vec<_>>>()?;
    Ok(Page::from_rows(views, request, |t| t.seq, |t| t))
}

/// The village whose books hold a transaction.
pub fn village_of(conn: &mut DbConnection, transaction_id: i64) -> AppResult<i64> {
    store::transaction(conn, transaction_id)?
        .map(|t| t.village_id)
        .ok_or(AppError::NotFound)
}

/// Reverses an award or a deduction with its mirror image, at most once.
pub fn reverse(
    tx: &mut Tx<'_>,
    actor: Actor,
    transaction_id: i64,
    reason: &str,
    now: DateTime<Utc>,
) -> AppResult<(TransactionView, Posted)> {
    let original = store::transaction(tx, transaction_id)?.ok_or(AppError::NotFound)?;
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
    let head = lock_chain(tx, original.village_id, now)?;
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
    let posted = post_on(
        tx,
        head,
        Posting {
            kind: TxKind::Reversal,
            memo: &memo,
            legs,
            reverses: Some(transaction_id),
            actor,
            at: now,
        },
    )?;
    let row = store::transaction(tx, posted.transaction_id)?.ok_or(AppError::NotFound)?;
    let postings = store::postings_of(tx, &[posted.transaction_id])?;
    Ok((transaction_view(row, &postings)?, posted))
}

/// The village's chain head: its last link, or the genesis before the first.
pub fn head(conn: &mut DbConnection, village_id: i64) -> AppResult<HeadView> {
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
