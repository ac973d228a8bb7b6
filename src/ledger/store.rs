//! Diesel queries behind the ledger. The posting path is a handful of statements inside
//! the caller's transaction; see `posting.rs` for the order.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::model::{AccountKey, GENESIS_HASH, TxKind};
use crate::db::DbConnection;
use crate::db::TextState;
use crate::db::schema::{accounts, chain_heads, ledger_transactions, postings};
use crate::per_backend;

/// Locks the village's chain head until the transaction ends and reads it:
/// `SELECT ... FOR UPDATE` on PostgreSQL; on SQLite the immediate transaction already
/// holds the database's write lock. The village's first posting makes the head.
pub fn lock_head(
    conn: &mut DbConnection,
    village_id: i64,
    now: NaiveDateTime,
) -> QueryResult<(i64, String)> {
    if let Some(head) = locked_head(conn, village_id)? {
        return Ok(head);
    }
    let genesis = (
        chain_heads::village_id.eq(village_id),
        chain_heads::seq.eq(0i64),
        chain_heads::hash.eq(GENESIS_HASH),
        chain_heads::updated_at.eq(now),
    );
    per_backend!(conn, |c| diesel::insert_into(chain_heads::table)
        .values(genesis)
        .on_conflict(chain_heads::village_id)
        .do_nothing()
        .execute(c))?;
    locked_head(conn, village_id)?.ok_or(diesel::result::Error::NotFound)
}

fn locked_head(conn: &mut DbConnection, village_id: i64) -> QueryResult<Option<(i64, String)>> {
    let query = chain_heads::table
        .filter(chain_heads::village_id.eq(village_id))
        .select((chain_heads::seq, chain_heads::hash));
    match conn {
        DbConnection::Pg(pg) => query.for_update().first(pg).optional(),
        DbConnection::Sqlite(sqlite) => query.first(sqlite).optional(),
    }
}

pub fn head(
    conn: &mut DbConnection,
    village_id: i64,
) -> QueryResult<Option<(i64, String, NaiveDateTime)>> {
    chain_heads::table
        .filter(chain_heads::village_id.eq(village_id))
        .select((chain_heads::seq, chain_heads::hash, chain_heads::updated_at))
        .first(conn)
        .optional()
}

/// Adds `amount` to the balance of the account with this key, found by its unique
/// index: `(id, new balance)`, or None when there is no such account or when
/// `floor_zero` and the balance would go below zero.
pub fn apply(
    conn: &mut DbConnection,
    key: &AccountKey,
    amount: i64,
    floor_zero: bool,
    now: NaiveDateTime,
) -> QueryResult<Option<(i64, i64)>> {
    let target = accounts::table
        .filter(accounts::village_id.eq(key.village_id))
        .filter(accounts::owner_kind.eq(key.owner_kind()))
        .filter(accounts::owner_id.eq(key.owner_id()))
        .filter(accounts::asset.eq(key.asset.as_str()))
        .filter(accounts::purpose.eq(key.purpose.as_str()));
    let changes = (
        accounts::balance.eq(accounts::balance + amount),
        accounts::version.eq(accounts::version + 1),
        accounts::updated_at.eq(now),
    );
    let returning = (accounts::id, accounts::balance);
    if floor_zero {
        diesel::update(target.filter(accounts::balance.ge(-amount)))
            .set(changes)
            .returning(returning)
            .get_result(conn)
            .optional()
    } else {
        diesel::update(target)
            .set(changes)
            .returning(returning)
            .get_result(conn)
            .optional()
    }
}

/// Opens the account with this key at zero; false when it was already open.
pub fn open_account(
    conn: &mut DbConnection,
    key: &AccountKey,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let row = (
        accounts::village_id.eq(key.village_id),
        accounts::owner_kind.eq(key.owner_kind()),
        accounts::owner_id.eq(key.owner_id()),
        accounts::asset.eq(key.asset.as_str()),
        accounts::purpose.eq(key.purpose.as_str()),
        accounts::balance.eq(0i64),
        accounts::version.eq(0i64),
        accounts::created_at.eq(now),
        accounts::updated_at.eq(now),
    );
    let inserted = per_backend!(conn, |c| diesel::insert_into(accounts::table)
        .values(row)
        .on_conflict((
            accounts::village_id,
            accounts::owner_kind,
            accounts::owner_id,
            accounts::asset,
            accounts::purpose
        ))
        .do_nothing()
        .execute(c))?;
    Ok(inserted == 1)
}

pub struct NewTransaction<'a> {
    pub village_id: i64,
    pub seq: i64,
    pub kind: TxKind,
    pub memo: &'a str,
    pub reverses_id: Option<i64>,
    pub actor_kind: &'a str,
    pub actor_id: Option<i64>,
    pub created_at: NaiveDateTime,
    pub prev_hash: &'a str,
    pub hash: &'a str,
    pub chain_version: i32,
}

pub fn insert_transaction(conn: &mut DbConnection, tx: &NewTransaction) -> QueryResult<i64> {
    diesel::insert_into(ledger_transactions::table)
        .values((
            ledger_transactions::village_id.eq(tx.village_id),
            ledger_transactions::seq.eq(tx.seq),
            ledger_transactions::kind.eq(tx.kind),
            ledger_transactions::memo.eq(tx.memo),
            ledger_transactions::reverses_id.eq(tx.reverses_id),
            ledger_transactions::actor_kind.eq(tx.actor_kind),
            ledger_transactions::actor_id.eq(tx.actor_id),
            ledger_transactions::created_at.eq(tx.created_at),
            ledger_transactions::prev_hash.eq(tx.prev_hash),
            ledger_transactions::hash.eq(tx.hash),
            ledger_transactions::chain_version.eq(tx.chain_version),
        ))
        .returning(ledger_transactions::id)
        .get_result(conn)
}

pub struct NewPosting<'a> {
    pub account_id: i64,
    pub asset: &'a str,
    pub amount: i64,
    pub balance_after: i64,
}

pub fn insert_postings(
    conn: &mut DbConnection,
    village_id: i64,
    transaction_id: i64,
    rows: &[NewPosting],
) -> QueryResult<()> {
    let values: Vec<_> = rows
        .iter()
        .map(|p| {
            (
                postings::village_id.eq(village_id),
                postings::transaction_id.eq(transaction_id),
                postings::account_id.eq(p.account_id),
                postings::asset.eq(p.asset),
                postings::amount.eq(p.amount),
                postings::balance_after.eq(p.balance_after),
            )
        })
        .collect();
    per_backend!(conn, |c| diesel::insert_into(postings::table)
        .values(&values)
        .execute(c))
    .map(drop)
}

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = ledger_transactions)]
pub struct TransactionRow {
    pub id: i64,
    pub village_id: i64,
    pub seq: i64,
    pub kind: TxKind,
    pub memo: String,
    pub reverses_id: Option<i64>,
    pub actor_kind: String,
    pub actor_id: Option<i64>,
    pub created_at: NaiveDateTime,
    pub prev_hash: String,
    pub hash: String,
}

/// A chain link exactly as stored, for `verify`: the kind stays text, so a name that was
/// tampered with is reported at its link rather than failing the read.
#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = ledger_transactions)]
pub struct StoredLink {
    pub id: i64,
    pub seq: i64,
    pub kind: String,
    pub memo: String,
    pub reverses_id: Option<i64>,
    pub actor_kind: String,
    pub actor_id: Option<i64>,
    pub created_at: NaiveDateTime,
    pub prev_hash: String,
    pub hash: String,
    pub chain_version: i32,
}

pub fn transaction(conn: &mut DbConnection, id: i64) -> QueryResult<Option<TransactionRow>> {
    ledger_transactions::table
        .find(id)
        .select(TransactionRow::as_select())
        .first(conn)
        .optional()
}

pub fn reversal_of(conn: &mut DbConnection, id: i64) -> QueryResult<Option<i64>> {
    ledger_transactions::table
        .filter(ledger_transactions::reverses_id.eq(id))
        .select(ledger_transactions::id)
        .first(conn)
        .optional()
}

pub fn reversed_among(conn: &mut DbConnection, ids: &[i64]) -> QueryResult<Vec<i64>> {
    ledger_transactions::table
        .filter(ledger_transactions::reverses_id.eq_any(ids.to_vec()))
        .select(ledger_transactions::reverses_id.assume_not_null())
        .load(conn)
}

/// The hash of the village's link with sequence number `seq`, if the chain has one.
pub fn hash_at(conn: &mut DbConnection, village_id: i64, seq: i64) -> QueryResult<Option<String>> {
    ledger_transactions::table
        .filter(ledger_transactions::village_id.eq(village_id))
        .filter(ledger_transactions::seq.eq(seq))
        .select(ledger_transactions::hash)
        .first(conn)
        .optional()
}

pub fn seq_of(conn: &mut DbConnection, id: i64) -> QueryResult<i64> {
    ledger_transactions::table
        .find(id)
        .select(ledger_transactions::seq)
        .first(conn)
}

/// A posting with its account's natural key.
#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = postings)]
pub struct PostingRow {
    pub transaction_id: i64,
    pub account_id: i64,
    #[diesel(embed)]
    pub key: AccountKeyText,
    pub amount: i64,
    pub balance_after: i64,
}

/// An account key as stored (text columns), convertible to the canonical form. The asset
/// is the posting's (an account holds one asset).
#[derive(Queryable, Selectable, Clone, Debug, PartialEq, Eq)]
#[diesel(table_name = accounts)]
pub struct AccountKeyText {
    pub owner_kind: String,
    pub owner_id: i64,
    #[diesel(select_expression = postings::asset)]
    pub asset: String,
    pub purpose: String,
}

impl AccountKeyText {
    pub fn canonical(&self) -> String {
        format!(
            "{}:{}:{}:{}",
            self.owner_kind, self.owner_id, self.asset, self.purpose
        )
    }
}

pub fn postings_of(
    conn: &mut DbConnection,
    transaction_ids: &[i64],
) -> QueryResult<Vec<PostingRow>> {
    postings::table
        .inner_join(accounts::table.on(accounts::id.eq(postings::account_id)))
        .filter(postings::transaction_id.eq_any(transaction_ids.to_vec()))
        .order((postings::transaction_id, postings::id))
        .select(PostingRow::as_select())
        .load(conn)
}

/// A village's transactions in chain order, `limit` at a time after `after_seq`.
pub fn transactions_after(
    conn: &mut DbConnection,
    village_id: i64,
    after_seq: i64,
    limit: i64,
) -> QueryResult<Vec<StoredLink>> {
    ledger_transactions::table
        .filter(ledger_transactions::village_id.eq(village_id))
        .filter(ledger_transactions::seq.gt(after_seq))
        .order(ledger_transactions::seq)
        .limit(limit)
        .select(StoredLink::as_select())
        .load(conn)
}

/// Newest first, for the village ledger page.
pub fn transactions_before(
    conn: &mut DbConnection,
    village_id: i64,
    before_seq: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<TransactionRow>> {
    ledger_transactions::table
        .filter(ledger_transactions::village_id.eq(village_id))
        .filter(ledger_transactions::seq.lt(before_seq.unwrap_or(i64::MAX)))
        .order(ledger_transactions::seq.desc())
        .limit(limit)
        .select(TransactionRow::as_select())
        .load(conn)
}

pub fn account_balance(
    conn: &mut DbConnection,
    key: &AccountKey,
) -> QueryResult<Option<(i64, NaiveDateTime)>> {
    accounts::table
        .filter(accounts::village_id.eq(key.village_id))
        .filter(accounts::owner_kind.eq(key.owner_kind()))
        .filter(accounts::owner_id.eq(key.owner_id()))
        .filter(accounts::asset.eq(key.asset.as_str()))
        .filter(accounts::purpose.eq(key.purpose.as_str()))
        .select((accounts::balance, accounts::updated_at))
        .first(conn)
        .optional()
}

/// The balance and last change of each asset the key's owner holds for the key's
/// purpose (the key's own asset is not looked at): one statement for points and honour.
pub fn balances_by_asset(
    conn: &mut DbConnection,
    key: &AccountKey,
) -> QueryResult<Vec<(String, i64, NaiveDateTime)>> {
    accounts::table
        .filter(accounts::village_id.eq(key.village_id))
        .filter(accounts::owner_kind.eq(key.owner_kind()))
        .filter(accounts::owner_id.eq(key.owner_id()))
        .filter(accounts::purpose.eq(key.purpose.as_str()))
        .select((accounts::asset, accounts::balance, accounts::updated_at))
        .load(conn)
}

pub fn account_id(conn: &mut DbConnection, key: &AccountKey) -> QueryResult<Option<i64>> {
    accounts::table
        .filter(accounts::village_id.eq(key.village_id))
        .filter(accounts::owner_kind.eq(key.owner_kind()))
        .filter(accounts::owner_id.eq(key.owner_id()))
        .filter(accounts::asset.eq(key.asset.as_str()))
        .filter(accounts::purpose.eq(key.purpose.as_str()))
        .select(accounts::id)
        .first(conn)
        .optional()
}

/// A household's entries: (transaction, points delta, honour delta, points after), newest
/// first, before transaction id `before`.
pub fn household_entries(
    conn: &mut DbConnection,
    points_account: Option<i64>,
    honour_account: Option<i64>,
    before: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<(TransactionRow, Vec<PostingRow>)>> {
    let accounts_of_household: Vec<i64> = [points_account, honour_account]
        .into_iter()
        .flatten()
        .collect();
    let ids: Vec<i64> = postings::table
        .filter(postings::account_id.eq_any(accounts_of_household.clone()))
        .filter(postings::transaction_id.lt(before.unwrap_or(i64::MAX)))
        .select(postings::transaction_id)
        .distinct()
        .order(postings::transaction_id.desc())
        .limit(limit)
        .load(conn)?;
    let rows: Vec<TransactionRow> = ledger_transactions::table
        .filter(ledger_transactions::id.eq_any(ids.clone()))
        .order(ledger_transactions::id.desc())
        .select(TransactionRow::as_select())
        .load(conn)?;
    let all = postings_of(conn, &ids)?;
    Ok(rows
        .into_iter()
        .map(|tx| {
            let own = all
                .iter()
                .filter(|p| {
                    p.transaction_id == tx.id && accounts_of_household.contains(&p.account_id)
                })
                .cloned()
                .collect();
            (tx, own)
        })
        .collect())
}

/// An account's balance just before a transaction (for entries that did not touch it).
pub fn points_before(
    conn: &mut DbConnection,
    account: Option<i64>,
    transaction_id: i64,
) -> QueryResult<i64> {
    let Some(account) = account else { return Ok(0) };
    postings::table
        .filter(postings::account_id.eq(account))
        .filter(postings::transaction_id.lt(transaction_id))
        .order(postings::id.desc())
        .select(postings::balance_after)
        .first(conn)
        .optional()
        .map(|b| b.unwrap_or(0))
}

/// Every account of a village with its cached balance, for verification.
pub fn balances(conn: &mut DbConnection, village_id: i64) -> QueryResult<Vec<(i64, String, i64)>> {
    accounts::table
        .filter(accounts::village_id.eq(village_id))
        .order(accounts::id)
        .select((accounts::id, accounts::asset, accounts::balance))
        .load(conn)
}

/// Each shop's receivable in a village: (shop, cached balance).
pub fn receivables(conn: &mut DbConnection, village_id: i64) -> QueryResult<Vec<(i64, i64)>> {
    accounts::table
        .filter(accounts::village_id.eq(village_id))
        .filter(accounts::owner_kind.eq("shop"))
        .filter(accounts::purpose.eq(super::model::Purpose::Receivable.as_str()))
        .order(accounts::owner_id)
        .select((accounts::owner_id, accounts::balance))
        .load(conn)
}

/// Every household of the village with spendable points above zero: (household, hundredths).
pub fn positive_points(conn: &mut DbConnection, village_id: i64) -> QueryResult<Vec<(i64, i64)>> {
    accounts::table
        .filter(accounts::village_id.eq(village_id))
        .filter(accounts::owner_kind.eq("household"))
        .filter(accounts::asset.eq(super::model::Asset::Points.as_str()))
        .filter(accounts::purpose.eq(super::model::Purpose::Holdings.as_str()))
        .filter(accounts::balance.gt(0))
        .order(accounts::owner_id)
        .select((accounts::owner_id, accounts::balance))
        .load(conn)
}
