//! The one posting function every feature calls (DESIGN.md §4).
//!
//! Inside the caller's write transaction ([`Tx`]), in this order:
//! 1. check the legs (pure: zero-sum per asset, one village, no zero legs);
//! 2. lock the village's chain head (`SELECT … FOR UPDATE` on PostgreSQL; SQLite's
//!    immediate transaction already serialises writers), unless the caller holds it
//!    already ([`post_on`]);
//! 3. apply each account's legs with one conditional `UPDATE … RETURNING`, found by the
//!    account's key, keys in order so concurrent posters never deadlock; a spending leg
//!    refuses to go below zero; an account's first posting opens it (two statements
//!    more, once);
//! 4. insert the transaction with the next sequence number and its chained hash (the
//!    database moves the chain head with it, by trigger);
//! 5. insert its postings (one statement).
//!
//! An award to one household touches four accounts: 1 + 4 + 1 + 1 = seven
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
    #[error("the legs are not in village {0}, whose chain head is held")]
    OtherChain(i64),
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

impl From<PostingError> for AppError {
    fn from(err: PostingError) -> Self {
        match err {
            PostingError::Insufficient(_) => AppError::InsufficientPoints,
            PostingError::Legs(_) | PostingError::NoAccount(_) | PostingError::OtherChain(_) => {
                AppError::internal(err)
            }
            PostingError::Database(e) => e.into(),
        }
    }
}

/// The village's chain head, locked by this transaction: only [`lock_chain`] makes one.
pub struct LockedHead {
    village_id: i64,
    seq: i64,
    hash: String,
}

/// Takes the village's chain-head lock for the rest of the transaction, so checks made
/// after it see every posting committed before; [`post_on`] posts under it.
pub fn lock_chain(
    tx: &mut Tx<'_>,
    village_id: i64,
    now: DateTime<Utc>,
) -> Result<LockedHead, PostingError> {
    let (seq, hash) = store::lock_head(tx, village_id, now.naive_utc())?;
    Ok(LockedHead {
        village_id,
        seq,
        hash,
    })
}

/// Posts one transaction, inside the caller's write transaction.
pub fn post(tx: &mut Tx<'_>, posting: Posting) -> Result<Posted, PostingError> {
    check_legs(&posting.legs)?;
    let head = lock_chain(tx, posting.legs[0].account.village_id, posting.at)?;
    post_on(tx, head, posting)
}

/// Posts one transaction under a chain-head lock the caller took earlier (to lock the
/// chain before other rows, as redemptions and voids do).
pub fn post_on(
    tx: &mut Tx<'_>,
    head: LockedHead,
    posting: Posting,
) -> Result<Posted, PostingError> {
    check_legs(&posting.legs)?;
    let village_id = posting.legs[0].account.village_id;
    if village_id != head.village_id {
        return Err(PostingError::OtherChain(head.village_id));
    }
    let now = posting.at.naive_utc();
    let (head_seq, head_hash) = (head.seq, head.hash);

    let mut keys: Vec<AccountKey> = posting.legs.iter().map(|l| l.account).collect();
    keys.sort();
    keys.dedup();
    // (key, account id, balance after), in key order.
    let mut ids = Vec::with_capacity(keys.len());
    let mut balances = Vec::with_capacity(keys.len());
    for key in keys {
        let legs = posting.legs.iter().filter(|l| l.account == key);
        // check_legs made sure each account's sum fits.
        let amount = legs
            .clone()
            .fold(0i64, |sum, l| sum.saturating_add(l.amount));
        let floor_zero = amount < 0 && legs.clone().any(|l| l.floor == Floor::Zero);
        let (id, balance) = apply_leg(tx, &key, amount, floor_zero, now)?;
        ids.push((key, id));
        balances.push((key, balance));
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
    // The head moved with the insert (a trigger: the head is always the last link).
    Ok(Posted {
        transaction_id,
        seq,
        hash,
        at: posting.at,
        balances,
    })
}

/// One account's change: `(account id, balance after)`. An account that does not exist
/// yet is opened at zero first.
fn apply_leg(
    tx: &mut Tx<'_>,
    key: &AccountKey,
    amount: i64,
    floor_zero: bool,
    now: chrono::NaiveDateTime,
) -> Result<(i64, i64), PostingError> {
    if let Some(applied) = store::apply(tx, key, amount, floor_zero, now)? {
        return Ok(applied);
    }
    if !store::open_account(tx, key, now)? {
        // It was open: the floor refused the change.
        return Err(PostingError::Insufficient(*key));
    }
    store::apply(tx, key, amount, floor_zero, now)?.ok_or(PostingError::Insufficient(*key))
}
