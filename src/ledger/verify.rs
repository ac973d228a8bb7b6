//! Recomputes a village's chain and balances from the postings. Reads the ledger in
//! batches, so memory grows with the number of accounts, not the length of history.

use std::collections::HashMap;

use serde::Serialize;
use utoipa::ToSchema;

use super::model::{ChainEntry, ChainMark, ChainVersion, GENESIS_HASH};
use super::store;
use crate::db::DbConnection;
use crate::error::AppResult;

const BATCH: i64 = 500;

#[derive(Debug, Serialize, ToSchema)]
pub struct HeadView {
    pub seq: i64,
    pub hash: String,
    /// When the head last moved (RFC 3339); null before the first transaction.
    pub at: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VerifyReport {
    pub ok: bool,
    /// Transactions checked.
    pub transactions: i64,
    pub head: Option<HeadView>,
    /// What does not add up, in words.
    pub problems: Vec<String>,
}

/// Checks one village: sequence numbers without gaps, each hash from its predecessor,
/// each transaction zero-sum per asset, each posting's running balance, every cached
/// balance against its postings, the chain head against the last transaction, and each
/// position someone noted (`marks`) against the chain.
pub fn verify_village(
    conn: &mut DbConnection,
    village_id: i64,
    marks: &[ChainMark],
) -> AppResult<VerifyReport> {
    let mut problems = Vec::new();
    let mut last_version = ChainVersion::V1;
    let mut sums: HashMap<i64, i64> = HashMap::new();
    let mut prev_seq = 0;
    let mut prev_hash = GENESIS_HASH.to_owned();
    let mut count = 0;
    let mut seq_by_id: HashMap<i64, i64> = HashMap::new();
    loop {
        let batch = store::transactions_after(conn, village_id, prev_seq, BATCH)?;
        if batch.is_empty() {
            break;
        }
        let ids: Vec<i64> = batch.iter().map(|t| t.id).collect();
        let postings = store::postings_of(conn, &ids)?;
        for tx in &batch {
            count += 1;
            seq_by_id.insert(tx.id, tx.seq);
            if tx.seq != prev_seq + 1 {
                problems.push(format!(
                    "seq {} follows {}: a gap or a duplicate",
                    tx.seq, prev_seq
                ));
            }
            if tx.prev_hash != prev_hash {
                problems.push(format!(
                    "seq {}: prev_hash does not match the hash before it",
                    tx.seq
                ));
            }
            let own: Vec<&store::PostingRow> = postings
                .iter()
                .filter(|p| p.transaction_id == tx.id)
                .collect();
            let mut per_asset: HashMap<&str, i128> = HashMap::new();
            for p in &own {
                *per_asset.entry(p.key.asset.as_str()).or_default() += i128::from(p.amount);
                let running = sums.entry(p.account_id).or_default();
                *running += p.amount;
                if *running != p.balance_after
                    && own.iter().filter(|q| q.account_id == p.account_id).count() == 1
                {
                    problems.push(format!(
                        "seq {}: account {} balance after is {} but postings give {}",
                        tx.seq, p.account_id, p.balance_after, running
                    ));
                }
            }
            if own.is_empty() {
                problems.push(format!("seq {}: no postings", tx.seq));
            }
            for (asset, sum) in per_asset {
                if sum != 0 {
                    problems.push(format!(
                        "seq {}: {asset} postings sum to {sum}, not zero",
                        tx.seq
                    ));
                }
            }
            let version = ChainVersion::from_number(tx.chain_version).unwrap_or_else(|| {
                problems.push(format!(
                    "seq {}: unknown chain version {}",
                    tx.seq, tx.chain_version
                ));
                ChainVersion::CURRENT
            });
            if version < last_version {
                problems.push(format!(
                    "seq {}: chain version {} after version {}",
                    tx.seq,
                    version.number(),
                    last_version.number()
                ));
            }
            last_version = last_version.max(version);
            let entry = ChainEntry {
                version,
                village_id,
                seq: tx.seq,
                kind: &tx.kind,
                memo: &tx.memo,
                created_at: tx.created_at.and_utc(),
                reverses_seq: match tx.reverses_id {
                    Some(id) => Some(match seq_by_id.get(&id) {
                        Some(seq) => *seq,
                        None => store::seq_of(conn, id)?,
                    }),
                    None => None,
                },
                actor_kind: &tx.actor_kind,
                actor_id: tx.actor_id,
                postings: own.iter().map(|p| (p.key.canonical(), p.amount)).collect(),
            };
            let hash = entry.hash(&tx.prev_hash);
            if hash != tx.hash {
                problems.push(format!("seq {}: hash does not match its contents", tx.seq));
            }
            prev_seq = tx.seq;
            prev_hash = tx.hash.clone();
        }
    }
    for (account_id, _asset, balance) in store::balances(conn, village_id)? {
        let from_postings = sums.get(&account_id).copied().unwrap_or(0);
        if balance != from_postings {
            problems.push(format!(
                "account {account_id}: cached balance {balance} but postings sum to {from_postings}"
            ));
        }
    }
    let head = store::head(conn, village_id)?;
    if let Some((seq, hash, _)) = &head
        && (*seq != prev_seq || *hash != prev_hash)
    {
        problems.push(format!(
            "chain head says seq {seq} but the ledger ends at seq {prev_seq}"
        ));
    }
    for mark in marks {
        match store::hash_at(conn, village_id, mark.seq)? {
            Some(hash) if hash == mark.hash => {}
            Some(hash) => problems.push(format!(
                "seq {}: the chain holds hash {hash}, not the {} that was noted",
                mark.seq, mark.hash
            )),
            None => problems.push(format!(
                "seq {} that was noted is not in the chain, which ends at seq {prev_seq}",
                mark.seq
            )),
        }
    }
    Ok(VerifyReport {
        ok: problems.is_empty(),
        transactions: count,
        head: head.map(|(seq, hash, at)| HeadView {
            seq,
            hash,
            at: Some(at.and_utc()),
        }),
        problems,
    })
}
