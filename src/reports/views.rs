//! What reports answer, as JSON (API.md "Ledger" and "Honour, rankings and expiry").

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::model::{RankedAsset, RankingPeriod};
use crate::amount::Amount;
use crate::ledger::verify::HeadView;

#[derive(Debug, Serialize, ToSchema)]
pub struct BalanceView {
    pub household_id: i64,
    /// Spendable points; negative means owed (after deductions), which blocks spending.
    #[schema(example = "125.50")]
    pub points: Amount,
    /// Cumulative merit; drives stars and rankings.
    #[schema(example = "180.00")]
    pub honour: Amount,
    /// Points approved and waiting out their public notice.
    #[schema(example = "10.00")]
    pub pending: Amount,
    /// Stars reached by honour, per the village's thresholds.
    #[schema(example = 4)]
    pub stars: usize,
    /// How many star levels the village rates (its top is `star_levels` stars).
    #[schema(example = 10)]
    pub star_levels: usize,
    /// Honour still needed for the next star; null at the top.
    #[schema(example = "20.00")]
    pub next_star_needs: Option<Amount>,
    pub updated_at: Option<DateTime<Utc>>,
}

/// One household's place in a ranking.
#[derive(Debug, Serialize, ToSchema)]
pub struct RankedHousehold {
    /// Equal amounts share a rank (1, 1, 3).
    pub rank: usize,
    pub household_id: i64,
    pub door_no: String,
    /// The head's name, masked (张*明) except for committee, supervisors and township.
    pub display_name: String,
    /// The household's group, if it has one.
    pub group: Option<String>,
    /// The asset's balance (`all`) or what was earned less deducted in the period.
    #[schema(example = "36.00")]
    pub amount: Amount,
    /// Stars by the household's honour now.
    pub stars: usize,
}

/// What a ranking counts, over which days, in which village.
#[derive(Debug, Serialize, ToSchema)]
pub struct RankingScope {
    pub village_id: i64,
    pub asset: RankedAsset,
    pub period: RankingPeriod,
    /// First day of the period (Asia/Shanghai); null for `all`.
    #[schema(value_type = Option<String>, format = Date)]
    pub from: Option<NaiveDate>,
    /// Last day of the period; null for `all`.
    #[schema(value_type = Option<String>, format = Date)]
    pub to: Option<NaiveDate>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RankingView {
    #[serde(flatten)]
    pub scope: RankingScope,
    pub items: Vec<RankedHousehold>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// One group's place: ranked by `per_household`, so small groups stand beside large.
#[derive(Debug, Serialize, ToSchema)]
pub struct RankedGroup {
    pub rank: usize,
    pub group_id: i64,
    pub group: String,
    /// Active households in the group.
    pub households: usize,
    #[schema(example = "360.00")]
    pub amount: Amount,
    #[schema(example = "36.00")]
    pub per_household: Amount,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GroupRankingView {
    #[serde(flatten)]
    pub scope: RankingScope,
    pub items: Vec<RankedGroup>,
}

/// A household as a public board names it: door number and masked name, nothing else.
#[derive(Debug, Serialize, ToSchema)]
pub struct BoardHousehold {
    pub door_no: String,
    pub display_name: String,
    pub group: Option<String>,
}

/// 黑榜: a household's deductions that stand in the period.
#[derive(Debug, Serialize, ToSchema)]
pub struct BoardDeduction {
    #[serde(flatten)]
    pub household: BoardHousehold,
    /// The checklist items it was deducted for.
    pub items: Vec<String>,
    /// The total deducted (negative).
    #[schema(example = "-5.00")]
    pub amount: Amount,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StarLevel {
    pub stars: usize,
    /// `三星级文明户`.
    pub title: String,
    pub households: Vec<BoardHousehold>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BoardVillage {
    pub code: String,
    pub name: String,
}

/// The village's honour board (光荣榜): public when its policy says so.
#[derive(Debug, Serialize, ToSchema)]
pub struct HonourBoard {
    pub village: BoardVillage,
    pub period: RankingPeriod,
    /// `2026年12月`, `2026年第4季度`, `2026年`, `累计`.
    pub period_label: String,
    #[schema(value_type = Option<String>, format = Date)]
    pub from: Option<NaiveDate>,
    #[schema(value_type = Option<String>, format = Date)]
    pub to: Option<NaiveDate>,
    /// 红榜: the top ten by honour earned in the period (more when tenth place is shared).
    pub red: Vec<RankedHousehold>,
    /// 黑榜: households with deductions in the period; empty unless `public_deductions`.
    pub black: Vec<BoardDeduction>,
    /// Star households by level, the highest first.
    pub stars: Vec<StarLevel>,
    /// How many star levels the village rates.
    pub star_levels: usize,
    /// The village's chain head when the board was made, for the printed copy.
    pub head: HeadView,
    pub generated_at: DateTime<Utc>,
}

/// A household's door-plate page: what the village's boards already show of it, never
/// spendable points, phone, members or redemptions.
#[derive(Debug, Serialize)]
pub struct DoorPlate {
    pub village_name: String,
    pub village_code: String,
    pub door_no: String,
    pub display_name: String,
    pub honour: Amount,
    pub stars: usize,
    pub star_levels: usize,
    /// Its place by honour in the village, when the village makes rankings public.
    pub rank: Option<usize>,
    pub households: usize,
    /// (item title, day) of the latest ten honours.
    pub honours: Vec<(String, NaiveDate)>,
}

/// What a household holds and did, for a statement a bank reads (read with no access
/// check: the caller has authorised it).
#[derive(Debug)]
pub struct HouseholdRecord {
    pub village_id: i64,
    pub village_code: String,
    pub village_name: String,
    pub door_no: String,
    /// In full: the statement is the household's own, for a bank.
    pub head_name: String,
    pub points: Amount,
    pub honour: Amount,
    pub stars: usize,
    pub star_levels: usize,
    /// Place by honour held among the village's households (1, 1, 3).
    pub rank: usize,
    pub households: usize,
    /// Posted awards that occurred in the period (not reversed): (date, item, points).
    pub honours: Vec<(NaiveDate, String, Amount)>,
    /// Posted deductions that occurred in the period (not reversed).
    pub deductions: Vec<(NaiveDate, String, Amount)>,
    pub chain: HeadView,
}
