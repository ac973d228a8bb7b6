//! Ledger types and the pure rules: zero-sum, account keys, and the hash chain's
//! canonical bytes.

use chrono::{DateTime, Utc};

use sha2::{Digest, Sha256};

use crate::db::TextState;

crate::text_state! {
    /// What an amount counts.
    #[derive(PartialOrd, Ord)]
    pub enum Asset {
        /// Spendable points.
        Points = "points",
        /// Cumulative merit for rankings and stars; never spent or expired.
        Honour = "honour",
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Owner {
    Household(i64),
    Village(i64),
    Shop(i64),
}

crate::text_state! {
    /// What an account is for.
    #[derive(PartialOrd, Ord)]
    pub enum Purpose {
        /// A household's own points or honour.
        Holdings = "holdings",
        /// Where a village's points come from: negative by what it has issued.
        Issuance = "issuance",
        /// Points taken back by expiry.
        Expired = "expired",
        /// Points a shop has been paid for.
        Settled = "settled",
        /// Points a shop has redeemed and is owed for.
        Receivable = "receivable",
    }
}

/// The natural key of an account: which village's books, whose, which asset, what for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AccountKey {
    pub village_id: i64,
    pub owner: Owner,
    pub asset: Asset,
    pub purpose: Purpose,
}

impl AccountKey {
    pub fn household(village_id: i64, household_id: i64, asset: Asset) -> Self {
        Self {
            village_id,
            owner: Owner::Household(household_id),
            asset,
            purpose: Purpose::Holdings,
        }
    }

    pub fn issuance(village_id: i64, asset: Asset) -> Self {
        Self {
            village_id,
            owner: Owner::Village(village_id),
            asset,
            purpose: Purpose::Issuance,
        }
    }

    pub fn owner_kind(&self) -> &'static str {
        match self.owner {
            Owner::Household(_) => "household",
            Owner::Village(_) => "village",
            Owner::Shop(_) => "shop",
        }
    }

    pub fn owner_id(&self) -> i64 {
        match self.owner {
            Owner::Household(id) | Owner::Village(id) | Owner::Shop(id) => id,
        }
    }

    /// `household:12:points:holdings`: how the account appears in the hash chain.
    pub fn canonical(&self) -> String {
        format!(
            "{}:{}:{}:{}",
            self.owner_kind(),
            self.owner_id(),
            self.asset.as_str(),
            self.purpose.as_str()
        )
    }

    /// Whether a debit may take this account below zero. Household points may go below
    /// zero only through deductions and reversals (shown as owed), never by spending.
    pub fn is_household(&self) -> bool {
        matches!(self.owner, Owner::Household(_))
    }
}

crate::text_state! {
    /// What a ledger transaction records.
    pub enum TxKind {
        Award = "award",
        Deduction = "deduction",
        Redemption = "redemption",
        Void = "void",
        Reversal = "reversal",
        Expiry = "expiry",
        Settlement = "settlement",
    }
}

impl TxKind {
    /// The kind as the desk and the exports name it.
    pub fn words(self) -> &'static str {
        match self {
            TxKind::Award => "加分",
            TxKind::Deduction => "扣分",
            TxKind::Redemption => "兑换",
            TxKind::Void => "撤销兑换",
            TxKind::Reversal => "冲正",
            TxKind::Expiry => "过期",
            TxKind::Settlement => "结算",
        }
    }
}

/// Whether a debit may go below zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Floor {
    /// Debits may leave the account negative (deductions, village accounts).
    None,
    /// The debit fails unless the balance covers it (spending).
    Zero,
}

/// One side of a transaction: an amount (hundredths) into or out of an account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Leg {
    pub account: AccountKey,
    pub amount: i64,
    pub floor: Floor,
}

/// Points (and the same honour) issued by the village to a household; a negative total
/// is a deduction, which may leave the household owing.
pub fn issuance_legs(village_id: i64, household_id: i64, total: i64) -> Vec<Leg> {
    [Asset::Points, Asset::Honour]
        .into_iter()
        .flat_map(|asset| {
            [
                Leg {
                    account: AccountKey::household(village_id, household_id, asset),
                    amount: total,
                    floor: Floor::None,
                },
                Leg {
                    account: AccountKey::issuance(village_id, asset),
                    amount: -total,
                    floor: Floor::None,
                },
            ]
        })
        .collect()
}

impl AccountKey {
    /// Points a shop has redeemed in a village and is owed for.
    pub fn shop_receivable(village_id: i64, shop_id: i64) -> Self {
        Self {
            village_id,
            owner: Owner::Shop(shop_id),
            asset: Asset::Points,
            purpose: Purpose::Receivable,
        }
    }
}

/// A household spends points at a shop: never below zero.
pub fn redemption_legs(village_id: i64, household_id: i64, shop_id: i64, total: i64) -> Vec<Leg> {
    vec![
        Leg {
            account: AccountKey::household(village_id, household_id, Asset::Points),
            amount: -total,
            floor: Floor::Zero,
        },
        Leg {
            account: AccountKey::shop_receivable(village_id, shop_id),
            amount: total,
            floor: Floor::None,
        },
    ]
}

/// 清零: a household's positive points leave for the village's `expired` account.
pub fn expiry_legs(village_id: i64, household_id: i64, points: i64) -> Vec<Leg> {
    vec![
        Leg {
            account: AccountKey::household(village_id, household_id, Asset::Points),
            amount: -points,
            floor: Floor::Zero,
        },
        Leg {
            account: AccountKey {
                village_id,
                owner: Owner::Village(village_id),
                asset: Asset::Points,
                purpose: Purpose::Expired,
            },
            amount: points,
            floor: Floor::None,
        },
    ]
}

/// Points a shop was paid for leave its receivable for the village's settled account.
pub fn settlement_legs(village_id: i64, shop_id: i64, points: i64) -> Vec<Leg> {
    vec![
        Leg {
            account: AccountKey::shop_receivable(village_id, shop_id),
            amount: -points,
            floor: Floor::None,
        },
        Leg {
            account: AccountKey {
                village_id,
                owner: Owner::Village(village_id),
                asset: Asset::Points,
                purpose: Purpose::Settled,
            },
            amount: points,
            floor: Floor::None,
        },
    ]
}

/// A voided redemption gives the points back.
pub fn void_legs(village_id: i64, household_id: i64, shop_id: i64, total: i64) -> Vec<Leg> {
    vec![
        Leg {
            account: AccountKey::household(village_id, household_id, Asset::Points),
            amount: total,
            floor: Floor::None,
        },
        Leg {
            account: AccountKey::shop_receivable(village_id, shop_id),
            amount: -total,
            floor: Floor::None,
        },
    ]
}

/// Who caused a transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    pub kind: &'static str,
    pub id: Option<i64>,
}

impl Actor {
    /// The server itself: its background jobs and its operator's commands.
    pub const SYSTEM: Actor = Actor {
        kind: "system",
        id: None,
    };
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum LegError {
    #[error("a transaction needs postings")]
    Empty,
    #[error("a posting of zero")]
    ZeroAmount,
    #[error("postings of {0} do not sum to zero")]
    Unbalanced(&'static str),
    #[error("postings span villages")]
    ManyVillages,
    #[error("an amount past the range of a balance")]
    TooLarge,
}

/// Double entry: non-empty, no zero legs, one village, zero-sum per asset.
pub fn check_legs(legs: &[Leg]) -> Result<(), LegError> {
    let first = legs.first().ok_or(LegError::Empty)?;
    if legs.iter().any(|l| l.amount == 0) {
        return Err(LegError::ZeroAmount);
    }
    if legs
        .iter()
        .any(|l| l.account.village_id != first.account.village_id)
    {
        return Err(LegError::ManyVillages);
    }
    let mut per_account: std::collections::BTreeMap<AccountKey, i128> = Default::default();
    for leg in legs {
        *per_account.entry(leg.account).or_default() += i128::from(leg.amount);
    }
    if per_account.values().any(|sum| i64::try_from(*sum).is_err()) {
        return Err(LegError::TooLarge);
    }
    for asset in [Asset::Points, Asset::Honour] {
        let sum: i128 = legs
            .iter()
            .filter(|l| l.account.asset == asset)
            .map(|l| i128::from(l.amount))
            .sum();
        if sum != 0 {
            return Err(LegError::Unbalanced(asset.as_str()));
        }
    }
    Ok(())
}

pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Which canonical form a chain link was hashed with. Stored with each transaction; a
/// chain's versions never go down.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ChainVersion {
    /// Links made before who-did-it was hashed.
    V1,
    /// Links that hash the actor too.
    V2,
}

impl ChainVersion {
    /// What new links are hashed with.
    pub const CURRENT: ChainVersion = ChainVersion::V2;

    pub fn number(self) -> i32 {
        match self {
            ChainVersion::V1 => 1,
            ChainVersion::V2 => 2,
        }
    }

    pub fn from_number(number: i32) -> Option<Self> {
        match number {
            1 => Some(ChainVersion::V1),
            2 => Some(ChainVersion::V2),
            _ => None,
        }
    }
}

/// What the hash of one chain link covers.
pub struct ChainEntry<'a> {
    pub version: ChainVersion,
    pub village_id: i64,
    pub seq: i64,
    pub kind: &'a str,
    pub memo: &'a str,
    pub created_at: DateTime<Utc>,
    /// Sequence number of the transaction this one reverses.
    pub reverses_seq: Option<i64>,
    /// Who made it: the actor's kind and id (version 2 on).
    pub actor_kind: &'a str,
    pub actor_id: Option<i64>,
    /// (account key, amount in hundredths); asset is part of the key.
    pub postings: Vec<(String, i64)>,
}

impl ChainEntry<'_> {
    /// Canonical bytes. Stable across backends and releases; a change here must add a
    /// version and keep verifying older links with their own rules.
    ///
    /// Version 1:
    /// ```text
    /// jifen-chain-v1
    /// village:<id>
    /// seq:<n>
    /// kind:<kind>
    /// at:<microseconds since the Unix epoch, UTC>
    /// reverses:<seq or ->
    /// memo:<length in bytes>:<memo>
    /// posting:<owner_kind>:<owner_id>:<asset>:<purpose>:<amount in hundredths>
    /// ```
    /// with one `posting` line per posting, sorted by key then amount, each line ending in
    /// `\n`.
    ///
    /// Version 2 is version 1 with `jifen-chain-v2` on the first line and, after the
    /// `reverses` line, `actor:<kind>:<id or ->` (`staff`, `villager` or `system`).
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let mut postings = self.postings.clone();
        postings.sort();
        let reverses = self
            .reverses_seq
            .map_or_else(|| "-".to_owned(), |s| s.to_string());
        let mut text = format!(
            "jifen-chain-v{}\nvillage:{}\nseq:{}\nkind:{}\nat:{}\nreverses:{reverses}\n",
            self.version.number(),
            self.village_id,
            self.seq,
            self.kind,
            self.created_at.timestamp_micros(),
        );
        if self.version >= ChainVersion::V2 {
            let id = self
                .actor_id
                .map_or_else(|| "-".to_owned(), |i| i.to_string());
            text.push_str(&format!("actor:{}:{id}\n", self.actor_kind));
        }
        text.push_str(&format!("memo:{}:{}\n", self.memo.len(), self.memo));
        for (key, amount) in postings {
            text.push_str(&format!("posting:{key}:{amount}\n"));
        }
        text.into_bytes()
    }

    /// `SHA-256(prev_hash ‖ canonical bytes)`, hex; `prev_hash` as its hex text.
    pub fn hash(&self, prev_hash: &str) -> String {
        let mut hasher = Sha256::new();
        hasher.update(prev_hash.as_bytes());
        hasher.update(self.canonical_bytes());
        hex::encode(hasher.finalize())
    }
}

/// A chain position someone noted (from a receipt, the notice board, a printout):
/// `SEQ:HASH`. Verifying against it catches a chain cut back or rewritten together with
/// its head.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainMark {
    pub seq: i64,
    pub hash: String,
}

impl std::str::FromStr for ChainMark {
    type Err = &'static str;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        const FORM: &str = "须是“序号:哈希”，如 12:3fa4…（64 位十六进制）";
        let (seq, hash) = text.split_once(':').ok_or(FORM)?;
        // Exactly `^[1-9][0-9]{0,17}:[0-9a-fA-F]{64}$`, as the OpenAPI document says.
        let digits = seq.bytes().all(|b| b.is_ascii_digit()) && !seq.starts_with('0');
        if !digits || seq.len() > 18 {
            return Err(FORM);
        }
        let seq: i64 = seq.parse().map_err(|_| FORM)?;
        let hash = hash.to_ascii_lowercase();
        if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(FORM);
        }
        Ok(ChainMark { seq, hash })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn ledger_states_are_stored_by_their_json_names() {
        crate::db::assert_names_round_trip::<Asset>();
        crate::db::assert_names_round_trip::<Purpose>();
        crate::db::assert_names_round_trip::<TxKind>();
    }

    fn leg(account: AccountKey, amount: i64) -> Leg {
        Leg {
            account,
            amount,
            floor: Floor::None,
        }
    }

    #[test]
    fn legs_must_balance_per_asset() {
        let h = AccountKey::household(1, 5, Asset::Points);
        let v = AccountKey::issuance(1, Asset::Points);
        let hh = AccountKey::household(1, 5, Asset::Honour);
        assert_eq!(check_legs(&[leg(h, 500), leg(v, -500)]), Ok(()));
        assert_eq!(
            check_legs(&[leg(h, 500), leg(hh, -500)]),
            Err(LegError::Unbalanced("points"))
        );
        assert_eq!(check_legs(&[]), Err(LegError::Empty));
        assert_eq!(
            check_legs(&[leg(h, 0), leg(v, 0)]),
            Err(LegError::ZeroAmount)
        );
        assert_eq!(
            check_legs(&[leg(h, i64::MAX), leg(h, 1), leg(v, -i64::MAX), leg(v, -1)]),
            Err(LegError::TooLarge),
            "an account's sum past i64 is refused, not wrapped"
        );
        let other = AccountKey::issuance(2, Asset::Points);
        assert_eq!(
            check_legs(&[leg(h, 1), leg(other, -1)]),
            Err(LegError::ManyVillages)
        );
    }

    fn entry(version: ChainVersion) -> ChainEntry<'static> {
        ChainEntry {
            version,
            village_id: 1,
            seq: 1,
            kind: "award",
            memo: "照顾老人",
            created_at: Utc.with_ymd_and_hms(2026, 11, 28, 2, 0, 0).unwrap(),
            reverses_seq: None,
            actor_kind: "staff",
            actor_id: Some(3),
            postings: vec![
                ("village:1:points:issuance".into(), -500),
                ("household:5:points:holdings".into(), 500),
            ],
        }
    }

    #[test]
    fn the_hash_is_stable() {
        let entry = entry(ChainVersion::V1);
        let text = String::from_utf8(entry.canonical_bytes()).unwrap();
        assert_eq!(
            text,
            "jifen-chain-v1\nvillage:1\nseq:1\nkind:award\nat:1795831200000000\nreverses:-\nmemo:12:照顾老人\n\
             posting:household:5:points:holdings:500\nposting:village:1:points:issuance:-500\n"
        );
        // Pinned: a change in the canonical form must be deliberate.
        assert_eq!(
            entry.hash(GENESIS_HASH),
            "e77532cab8d9b9ee4dd1294944a325f5b2ab3b793b3ea57d58b45abb5c330201"
        );
        assert_ne!(entry.hash(GENESIS_HASH), entry.hash(&"1".repeat(64)));
    }

    #[test]
    fn version_two_hashes_the_actor() {
        let entry = entry(ChainVersion::V2);
        let text = String::from_utf8(entry.canonical_bytes()).unwrap();
        assert_eq!(
            text,
            "jifen-chain-v2\nvillage:1\nseq:1\nkind:award\nat:1795831200000000\nreverses:-\nactor:staff:3\n\
             memo:12:照顾老人\nposting:household:5:points:holdings:500\nposting:village:1:points:issuance:-500\n"
        );
        let other_actor = ChainEntry {
            actor_id: Some(4),
            ..entry
        };
        let entry = self::entry(ChainVersion::V2);
        assert_ne!(entry.hash(GENESIS_HASH), other_actor.hash(GENESIS_HASH));
        // Version 1 ignores the actor, as it always did.
        let v1 = ChainEntry {
            actor_id: Some(4),
            ..self::entry(ChainVersion::V1)
        };
        assert_eq!(
            v1.hash(GENESIS_HASH),
            self::entry(ChainVersion::V1).hash(GENESIS_HASH)
        );
    }

    #[test]
    fn chain_marks_parse_or_say_how_they_look() {
        let hash = "AB".repeat(32);
        let mark: ChainMark = format!("12:{hash}").parse().unwrap();
        assert_eq!((mark.seq, mark.hash), (12, "ab".repeat(32)));
        for bad in [
            "12",
            "x:ab",
            "0:ab",
            &format!("12:{}", "g".repeat(64)),
            "12:abc",
            // Exactly the documented pattern: no spaces, sign or leading zero.
            &format!(" 12:{hash}"),
            &format!("+12:{hash}"),
            &format!("012:{hash}"),
            &format!("12:{hash} "),
        ] {
            assert!(bad.parse::<ChainMark>().is_err(), "{bad}");
        }
    }
}
