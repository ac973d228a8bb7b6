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
    let mut walk = ChainWalk::new(village_id);
    loop {
        let batch = store::transactions_after(conn, village_id, walk.prev_seq, BATCH)?;
        if batch.is_empty() {
            break;
        }
        let ids: Vec<i64> = batch.iter().map(|t| t.id).collect();
        let postings = store::postings_of(conn, &ids)?;
        for link in &batch {
            let own: Vec<&store::PostingRow> = postings
                .iter()
                .filter(|p| p.transaction_id == link.id)
                .collect();
            walk.link(conn, link, &own)?;
        }
    }
    walk.balances(conn)?;
    let head = store::head(conn, village_id)?;
    walk.head(head.as_ref());
    walk.marks(conn, marks)?;
    Ok(VerifyReport {
        ok: walk.problems.is_empty(),
        transactions: walk.count,
        head: head.map(|(seq, hash, at)| HeadView {
            seq,
            hash,
            at: Some(at.and_utc()),
        }),
        problems: walk.problems,
    })
}

/// What a walk along the chain has seen so far, and what did not add up.
struct ChainWalk {
    village_id: i64,
    problems: Vec<String>,
    count: i64,
    prev_seq: i64,
    prev_hash: String,
    last_version: ChainVersion,
    /// Each account's balance as its postings so far add up.
    sums: HashMap<i64, i64>,
    seq_by_id: HashMap<i64, i64>,
}

impl ChainWalk {
    fn new(village_id: i64) -> Self {
        Self {
            village_id,
            problems: Vec::new(),
            count: 0,
            prev_seq: 0,
            prev_hash: GENESIS_HASH.to_owned(),
            last_version: ChainVersion::V1,
            sums: HashMap::new(),
            seq_by_id: HashMap::new(),
        }
    }

    /// One link with its postings, checked against the one before it.
    fn link(
        &mut self,
        conn: &mut DbConnection,
        link: &store::StoredLink,
        own: &[&store::PostingRow],
    ) -> AppResult<()> {
        self.count += 1;
        self.seq_by_id.insert(link.id, link.seq);
        if link.seq != self.prev_seq + 1 {
            self.problems.push(format!(
                "seq {} follows {}: a gap or a duplicate",
                link.seq, self.prev_seq
            ));
        }
        if link.prev_hash != self.prev_hash {
            self.problems.push(format!(
                "seq {}: prev_hash does not match the hash before it",
                link.seq
            ));
        }
        self.postings(link.seq, own);
        let version = self.version(link);
        let reverses_seq = match link.reverses_id {
            Some(id) => Some(match self.seq_by_id.get(&id) {
                Some(seq) => *seq,
                None => store::seq_of(conn, id)?,
            }),
            None => None,
        };
        let entry = ChainEntry {
            version,
            village_id: self.village_id,
            seq: link.seq,
            kind: &link.kind,
            memo: &link.memo,
            created_at: link.created_at.and_utc(),
            reverses_seq,
            actor_kind: &link.actor_kind,
            actor_id: link.actor_id,
            postings: own.iter().map(|p| (p.key.canonical(), p.amount)).collect(),
        };
        if entry.hash(&link.prev_hash) != link.hash {
            self.problems.push(format!(
                "seq {}: hash does not match its contents",
                link.seq
            ));
        }
        self.prev_seq = link.seq;
        self.prev_hash = link.hash.clone();
        Ok(())
    }

    /// A link's postings: zero-sum per asset, and each running balance as stored.
    fn postings(&mut self, seq: i64, own: &[&store::PostingRow]) {
        if own.is_empty() {
            self.problems.push(format!("seq {seq}: no postings"));
        }
        let mut per_asset: HashMap<&str, i128> = HashMap::new();
        for p in own {
            *per_asset.entry(p.key.asset.as_str()).or_default() += i128::from(p.amount);
            let running = self.sums.entry(p.account_id).or_default();
            *running += p.amount;
            // With two postings to one account only the sum is checked.
            if *running != p.balance_after
                && own.iter().filter(|q| q.account_id == p.account_id).count() == 1
            {
                self.problems.push(format!(
                    "seq {seq}: account {} balance after is {} but postings give {}",
                    p.account_id, p.balance_after, running
                ));
            }
        }
        for (asset, sum) in per_asset {
            if sum != 0 {
                self.problems.push(format!(
                    "seq {seq}: {asset} postings sum to {sum}, not zero"
                ));
            }
        }
    }

    /// The canonical form a link was hashed with; versions never go down.
    fn version(&mut self, link: &store::StoredLink) -> ChainVersion {
        let version = ChainVersion::from_number(link.chain_version).unwrap_or_else(|| {
            self.problems.push(format!(
                "seq {}: unknown chain version {}",
                link.seq, link.chain_version
            ));
            ChainVersion::CURRENT
        });
        if version < self.last_version {
            self.problems.push(format!(
                "seq {}: chain version {} after version {}",
                link.seq,
                version.number(),
                self.last_version.number()
            ));
        }
        self.last_version = self.last_version.max(version);
        version
    }

    /// Every cached balance against what its postings add up to.
    fn balances(&mut self, conn: &mut DbConnection) -> AppResult<()> {
        for (account_id, _asset, balance) in store::balances(conn, self.village_id)? {
            let from_postings = self.sums.get(&account_id).copied().unwrap_or(0);
            if balance != from_postings {
                self.problems.push(format!(
                    "account {account_id}: cached balance {balance} but postings sum to {from_postings}"
                ));
            }
        }
        Ok(())
    }

    /// The stored head against the last link walked.
    fn head(&mut self, head: Option<&(i64, String, chrono::NaiveDateTime)>) {
        if let Some((seq, hash, _)) = head
            && (*seq != self.prev_seq || *hash != self.prev_hash)
        {
            self.problems.push(format!(
                "chain head says seq {seq} but the ledger ends at seq {}",
                self.prev_seq
            ));
        }
    }

    /// Each position someone noted (a receipt, the notice board) against the chain.
    fn marks(&mut self, conn: &mut DbConnection, marks: &[ChainMark]) -> AppResult<()> {
        for mark in marks {
            match store::hash_at(conn, self.village_id, mark.seq)? {
                Some(hash) if hash == mark.hash => {}
                Some(hash) => self.problems.push(format!(
                    "seq {}: the chain holds hash {hash}, not the {} that was noted",
                    mark.seq, mark.hash
                )),
                None => self.problems.push(format!(
                    "seq {} that was noted is not in the chain, which ends at seq {}",
                    mark.seq, self.prev_seq
                )),
            }
        }
        Ok(())
    }
}
