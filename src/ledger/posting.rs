//! The one posting function every feature calls (DESIGN.md §4).
//!
//! Inside the caller's write transaction ([`Tx`]), in this order:
//! 1. check the legs (pure: zero-sum per asset, one village, no zero legs);
//! 2. lock the village's chain head (insert-if-missing, then `SELECT … FOR UPDATE` on
//!    PostgreSQL; SQLite's immediate transaction already serialises writers);
//! 3. find or create the accounts (one multi-row `INSERT … ON CONFLICT DO NOTHING`, one
//!    select);
//! 4. apply each leg with a conditional `UPDATE … RETURNING balance`, accounts in id
//!    order so concurrent posters never deadlock; a spending leg refuses to go below zero;
//! 5. insert the transaction with the next sequence number and its chained hash;
//! 6. insert its postings (one statement);
//! 7. move the chain head.
//!
//! An award to one household touches four accounts: 2 + 2 + 4 + 1 + 1 + 1 = eleven
//! statements (a reversal adds one to look up the sequence number it reverses).

use chrono::{DateTime, Utc};

use super::model::{AccountKey, Actor, ChainEntry, ChainVersion, Floor, Leg, TxKind, check_legs};
use super::store;
use crate::db::{TextState, Tx};
use crate::error::AppError;

pub struct Posting<'a> {
    pub kind: TxKind,
    pub memo: &'a str,
    pub legs: Vec<Leg>,
    pub reverses: Option<i64>,
    pub actor: Actor,
    pub at: DateTime<Utc>,
}

/// The result of a posting, as receipts and answers show it.
#[derive(Clone, Debug)]
pub struct Posted {
    pub transaction_id: i64,
    pub seq: i64,
    pub hash: String,
    pub at: DateTime<Utc>,
    /// Balances after the posting, by account.
    pub balances: Vec<(AccountKey, i64)>,
}

/// Why a posting was refused.
#[derive(Debug, thiserror::Error)]
pub enum PostingError {
    #[error("balance of {0:?} would go below zero")]
    Insufficient(AccountKey),
    #[error(transparent)]
    Legs(#[from] super::model::LegError),
    #[error("no account was found or made for {0:?}")]
    NoAccount(AccountKey),
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

impl From<PostingError> for AppError {
    fn from(err: PostingError) -> Self {
        match err {
            PostingError::Insufficient(_) => AppError::InsufficientPoints,
            PostingError::Legs(_) | PostingError::NoAccount(_) => AppError::internal(err),
            PostingError::Database(e) => e.into(),
        }
    }
}

/// Posts one transaction, inside the caller's write transaction.
pub fn post(tx: &mut Tx<'_>, posting: Posting) -> Result<Posted, PostingError> {
    check_legs(&posting.legs)?;
    let village_id = posting.legs[0].account.village_id;
    let now = posting.at.naive_utc();
    let (head_seq, head_hash) = store::lock_head(tx, village_id, now)?;

    let mut keys: Vec<AccountKey> = posting.legs.iter().map(|l| l.account).collect();
    keys.sort();
    keys.dedup();
    let mut ids = store::account_ids(tx, &keys, now)?;
    ids.sort_by_key(|(_, id)| *id);

    let mut balances = Vec::with_capacity(ids.len());
    for (key, id) in &ids {
        let legs = posting.legs.iter().filter(|l| l.account == *key);
        // check_legs made sure each account's sum fits.
        let amount = legs
            .clone()
            .fold(0i64, |sum, l| sum.saturating_add(l.amount));
        let floor_zero = amount < 0 && legs.clone().any(|l| l.floor == Floor::Zero);
        let balance = store::apply(tx, *id, amount, floor_zero, now)?
            .ok_or(PostingError::Insufficient(*key))?;
        balances.push((*key, balance));
    }

    let reverses_seq = match posting.reverses {
        Some(id) => Some(store::seq_of(tx, id)?),
        None => None,
    };
    let seq = head_seq + 1;
    let entry = ChainEntry {
        version: ChainVersion::CURRENT,
        village_id,
        seq,
        kind: posting.kind.as_str(),
        memo: posting.memo,
        created_at: posting.at,
        reverses_seq,
        actor_kind: posting.actor.kind,
        actor_id: posting.actor.id,
        postings: posting
            .legs
            .iter()
            .map(|l| (l.account.canonical(), l.amount))
            .collect(),
    };
    let hash = entry.hash(&head_hash);
    let transaction_id = store::insert_transaction(
        tx,
        &store::NewTransaction {
            village_id,
            seq,
            kind: posting.kind,
            memo: posting.memo,
            reverses_id: posting.reverses,
            actor_kind: posting.actor.kind,
            actor_id: posting.actor.id,
            created_at: now,
            prev_hash: &head_hash,
            hash: &hash,
            chain_version: ChainVersion::CURRENT.number(),
        },
    )?;
    // `ids` and `balances` hold the same accounts in the same order.
    let rows = posting
        .legs
        .iter()
        .map(|leg| {
            let at = ids
                .iter()
                .position(|(k, _)| *k == leg.account)
                .ok_or(PostingError::NoAccount(leg.account))?;
            Ok(store::NewPosting {
                account_id: ids[at].1,
                asset: leg.account.asset.as_str(),
                amount: leg.amount,
                balance_after: balances[at].1,
            })
        })
        .collect::<Result<Vec<_>, PostingError>>()?;
    store::insert_postings(tx, village_id, transaction_id, &rows)?;
    store::set_head(tx, village_id, seq, &hash, now)?;
    Ok(Posted {
        transaction_id,
        seq,
        hash,
        at: posting.at,
        balances,
    })
}
