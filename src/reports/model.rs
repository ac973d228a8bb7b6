//! Rankings' words and rules, pure: periods in Shanghai dates, shared ranks for ties,
//! stars from honour (API.md "Honour, rankings and expiry").

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::amount::Amount;
use crate::ledger::model::Asset;
use crate::org::policy::VillagePolicy;
use crate::paging::PageQuery;

/// What a ranking counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RankedAsset {
    /// Merit earned (never spent): what 红榜 and stars rank.
    #[default]
    Honour,
    /// Spendable points.
    Points,
}

impl RankedAsset {
    pub fn asset(self) -> Asset {
        match self {
            RankedAsset::Honour => Asset::Honour,
            RankedAsset::Points => Asset::Points,
        }
    }
}

/// Which stretch of time a ranking counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RankingPeriod {
    /// Current balances.
    #[default]
    All,
    Year,
    Quarter,
    Month,
}

impl RankingPeriod {
    /// The first and last Shanghai dates of the period that holds `at`; none for all time.
    pub fn dates(self, at: NaiveDate) -> Option<(NaiveDate, NaiveDate)> {
        let (year, month) = (at.year(), at.month());
        let (first_month, months) = match self {
            RankingPeriod::All => return None,
            RankingPeriod::Year => (1, 12),
            RankingPeriod::Quarter => ((month - 1) / 3 * 3 + 1, 3),
            RankingPeriod::Month => (month, 1),
        };
        let from = NaiveDate::from_ymd_opt(year, first_month, 1)?;
        let to = from
            .checked_add_months(chrono::Months::new(months))?
            .pred_opt()?;
        Some((from, to))
    }

    /// How the period reads on a page: 2026年、2026年第4季度、2026年12月、累计.
    pub fn label(self, at: NaiveDate) -> String {
        match self {
            RankingPeriod::All => "累计".to_owned(),
            RankingPeriod::Year => format!("{}年", at.year()),
            RankingPeriod::Quarter => format!("{}年第{}季度", at.year(), (at.month() - 1) / 3 + 1),
            RankingPeriod::Month => format!("{}年{}月", at.year(), at.month()),
        }
    }
}

/// `?asset=&period=&at=&group_id=&limit=&cursor=` of the ranking endpoints.
#[derive(Clone, Debug, Default, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RankingQuery {
    /// `honour` (default) or `points`.
    pub asset: Option<RankedAsset>,
    /// `all` (default: current balances), `year`, `quarter` or `month`.
    pub period: Option<RankingPeriod>,
    /// A date in the period (Asia/Shanghai); today by default.
    #[serde(default, deserialize_with = "crate::date::strict_option")]
    #[param(value_type = Option<String>, format = Date)]
    pub at: Option<NaiveDate>,
    /// Only this group's households.
    pub group_id: Option<i64>,
    #[validate(range(min = 1, max = 500, message = "须在 1 到 500 之间"))]
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl RankingQuery {
    pub fn page(&self) -> PageQuery {
        PageQuery {
            limit: self.limit,
            cursor: self.cursor.clone(),
        }
    }
}

/// `?period=&at=` of the honour board.
#[derive(Debug, Default, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BoardQuery {
    /// `month` (default), `quarter`, `year` or `all`.
    pub period: Option<RankingPeriod>,
    /// A date in the period (Asia/Shanghai); today by default.
    #[serde(default, deserialize_with = "crate::date::strict_option")]
    #[param(value_type = Option<String>, format = Date)]
    pub at: Option<NaiveDate>,
}

/// Competition ranks ("1, 1, 3") over items already sorted best first.
pub fn ranks<T>(sorted: &[T], amount: impl Fn(&T) -> i64) -> Vec<usize> {
    let mut out = Vec::with_capacity(sorted.len());
    for (at, item) in sorted.iter().enumerate() {
        let shared = at > 0 && amount(&sorted[at - 1]) == amount(item);
        out.push(if shared { out[at - 1] } else { at + 1 });
    }
    out
}

/// Stars reached: how many thresholds the honour meets.
pub fn stars(policy: &VillagePolicy, honour: Amount) -> usize {
    policy
        .star_thresholds
        .iter()
        .filter(|t| **t <= honour)
        .count()
}

/// Honour still needed for the next star, or none at the top.
pub fn to_next_star(policy: &VillagePolicy, honour: Amount) -> Option<Amount> {
    policy
        .star_thresholds
        .iter()
        .find(|t| **t > honour)
        .map(|t| Amount::from_minor(t.minor() - honour.minor()))
}

/// `★★★☆☆☆☆☆☆☆` for three stars of ten.
pub fn star_line(stars: usize, levels: usize) -> String {
    "★".repeat(stars) + &"☆".repeat(levels.saturating_sub(stars))
}

/// `三星级文明户`: the title a star household is given, in Chinese numerals.
pub fn star_title(stars: usize) -> Option<String> {
    const NUMERALS: [&str; 10] = ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十"];
    let numeral = NUMERALS.get(stars.checked_sub(1)?)?;
    Some(format!("{numeral}星级文明户"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn periods_hold_their_date_in_shanghai_calendar_terms() {
        let at = day(2028, 2, 29);
        assert_eq!(
            RankingPeriod::Month.dates(at),
            Some((day(2028, 2, 1), day(2028, 2, 29)))
        );
        assert_eq!(
            RankingPeriod::Quarter.dates(at),
            Some((day(2028, 1, 1), day(2028, 3, 31)))
        );
        assert_eq!(
            RankingPeriod::Year.dates(at),
            Some((day(2028, 1, 1), day(2028, 12, 31)))
        );
        assert_eq!(
            RankingPeriod::Quarter.dates(day(2026, 12, 1)),
            Some((day(2026, 10, 1), day(2026, 12, 31)))
        );
        assert_eq!(RankingPeriod::All.dates(at), None);
        assert_eq!(
            RankingPeriod::Quarter.label(day(2026, 12, 1)),
            "2026年第4季度"
        );
    }

    #[test]
    fn ties_share_a_rank_and_the_next_skips() {
        assert_eq!(ranks(&[90, 90, 70, 70, 70, 10], |a| *a), [1, 1, 3, 3, 3, 6]);
        assert!(ranks(&[] as &[i64], |a| *a).is_empty());
    }

    #[test]
    fn stars_count_thresholds_met_and_say_what_the_next_needs() {
        let policy = VillagePolicy::default();
        let honour = Amount::from_minor(12_000);
        assert_eq!(stars(&policy, honour), 3);
        assert_eq!(
            to_next_star(&policy, honour),
            Some(Amount::from_minor(3_000))
        );
        assert_eq!(to_next_star(&policy, Amount::from_minor(90_000)), None);
        assert_eq!(star_line(3, 10), "★★★☆☆☆☆☆☆☆");
        assert_eq!(star_title(3).as_deref(), Some("三星级文明户"));
        assert_eq!(star_title(10).as_deref(), Some("十星级文明户"));
        assert_eq!(star_title(0), None);
    }
}

/// The scheme's own figures, for `/metrics` beside the HTTP ones.
#[derive(Debug, Default)]
pub struct BusinessFigures {
    pub villages: Vec<VillageFigures>,
    /// How long the oldest notice that has ended has waited for its posting; 0 when
    /// the posting job is keeping up.
    pub posting_lag_seconds: f64,
}

/// One village's figures, by its code.
#[derive(Debug, Default)]
pub struct VillageFigures {
    pub code: String,
    /// Points in the households' hands.
    pub outstanding: crate::amount::Amount,
    pub claims: Vec<(crate::claims::model::ClaimStatus, i64)>,
    pub redemptions: i64,
    pub voided_redemptions: i64,
    pub expiry_runs: i64,
    pub expired: crate::amount::Amount,
}
