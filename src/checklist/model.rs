//! Checklist items and their rules.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::{Validate, ValidationError};

use crate::amount::Amount;
use crate::db::TextState;

crate::text_state! {
    /// How often an item can be earned; caps count per period (Asia/Shanghai).
    pub enum Period {
        Event = "event",
        Month = "month",
        Quarter = "quarter",
        HalfYear = "half_year",
        Year = "year",
    }
}

impl Period {
    pub fn chinese(self) -> &'static str {
        match self {
            Period::Event => "每次",
            Period::Month => "每月",
            Period::Quarter => "每季度",
            Period::HalfYear => "每半年",
            Period::Year => "每年",
        }
    }

    /// How a cap over this period reads: "每月" (最多 2 次), and for a cap with no period
    /// of its own, "一共".
    pub fn cap_every(self) -> &'static str {
        match self {
            Period::Event => "一共",
            other => other.chinese(),
        }
    }

    /// The period a cap is counted in now: "本月"; none when the cap has no period.
    pub fn cap_this(self) -> &'static str {
        match self {
            Period::Event => "",
            Period::Month => "本月",
            Period::Quarter => "本季度",
            Period::HalfYear => "这半年",
            Period::Year => "今年",
        }
    }

    /// A cap in plain words: "每月最多 1 次", "一共最多 4 次", or "不限次数".
    pub fn cap_words(self, cap: Option<i32>) -> String {
        match cap {
            Some(cap) => format!("{}最多 {cap} 次", self.cap_every()),
            None => "不限次数".to_owned(),
        }
    }

    /// From an imported name, in English or Chinese.
    pub fn from_name(text: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .copied()
            .find(|p| p.as_str() == text || p.chinese() == text)
    }

    /// The period containing `date` as `[start, end)`; `None` for `event` (all time).
    pub fn bounds(self, date: chrono::NaiveDate) -> Option<(chrono::NaiveDate, chrono::NaiveDate)> {
        use chrono::{Datelike, NaiveDate};
        let months = match self {
            Period::Event => return None,
            Period::Month => 1,
            Period::Quarter => 3,
            Period::HalfYear => 6,
            Period::Year => 12,
        };
        let first_month = (date.month0() / months) * months + 1;
        let start = NaiveDate::from_ymd_opt(date.year(), first_month, 1)?;
        let end = start.checked_add_months(chrono::Months::new(months))?;
        Some((start, end))
    }
}

/// Who may propose a claim against an item.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Proposer {
    Villager,
    GroupLeader,
    Committee,
}

impl Proposer {
    pub const ALL: [Proposer; 3] = [
        Proposer::Villager,
        Proposer::GroupLeader,
        Proposer::Committee,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Proposer::Villager => "villager",
            Proposer::GroupLeader => "group_leader",
            Proposer::Committee => "committee",
        }
    }

    fn chinese(self) -> &'static str {
        match self {
            Proposer::Villager => "村民",
            Proposer::GroupLeader => "组长",
            Proposer::Committee => "村委",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|p| p.as_str() == text || p.chinese() == text)
    }

    /// Stored as a comma-separated list.
    pub fn join(list: &[Proposer]) -> String {
        list.iter()
            .map(|p| p.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }

    pub fn split(text: &str) -> Vec<Proposer> {
        text.split(',').filter_map(Proposer::parse).collect()
    }
}

/// The largest number of points one item may carry, either way.
pub const MAX_POINTS_MINOR: i64 = 10_000 * 100;

fn valid_points(points: &Amount) -> Result<(), ValidationError> {
    if points.minor() == 0 || points.minor().abs() > MAX_POINTS_MINOR {
        return Err(
            ValidationError::new("points").with_message("分值不能为 0，绝对值不超过 10000".into())
        );
    }
    Ok(())
}

fn valid_item_code(code: &str) -> Result<(), ValidationError> {
    let ok = (1..=32).contains(&code.chars().count()) && !code.chars().any(char::is_whitespace);
    if ok {
        Ok(())
    } else {
        Err(ValidationError::new("code").with_message("编号为 1–32 个字符，不含空格".into()))
    }
}

fn valid_proposers(list: &[Proposer]) -> Result<(), ValidationError> {
    let mut sorted = list.to_vec();
    sorted.sort();
    sorted.dedup();
    if list.is_empty() || sorted.len() != list.len() {
        return Err(
            ValidationError::new("proposers").with_message("至少选一种申报人，且不能重复".into())
        );
    }
    Ok(())
}

/// An item as written by the committee (create, or a new version).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemInput {
    #[validate(custom(function = "valid_item_code"))]
    #[schema(
        example = "A01",
        pattern = "^[^\\s\\u0000-\\u001F\\u007F-\\u009F]{1,32}$"
    )]
    #[validate(custom(function = "crate::text::single_line"))]
    pub code: String,
    #[validate(length(min = 1, max = 32, message = "请填写 1–32 个字的类别"))]
    #[schema(example = "孝老爱亲", min_length = 1, max_length = 32)]
    #[validate(custom(function = "crate::text::single_line"))]
    pub category: String,
    #[validate(length(min = 1, max = 64, message = "请填写 1–64 个字的事项"))]
    #[schema(example = "照顾孤寡老人", min_length = 1, max_length = 64)]
    #[validate(custom(function = "crate::text::single_line"))]
    pub title: String,
    #[validate(length(max = 500, message = "说明最多 500 个字"))]
    #[serde(default)]
    #[validate(custom(function = "crate::text::multi_line"))]
    #[schema(
        max_length = 500,
        pattern = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*$"
    )]
    pub description: String,
    /// Points per unit: negative for a deduction, never zero, |points| ≤ 10000.
    #[validate(custom(function = "valid_points"))]
    #[schema(example = "5.00")]
    pub points: Amount,
    pub period: Period,
    /// Most claims per household in one period; null for no cap.
    #[validate(range(min = 1, max = 1000, message = "须在 1 到 1000 之间"))]
    #[schema(minimum = 1, maximum = 1000)]
    pub cap_count: Option<i32>,
    #[validate(custom(function = "valid_proposers"))]
    /// At least one, none twice.
    #[schema(min_items = 1, max_items = 3)]
    pub proposers: Vec<Proposer>,
    #[serde(default)]
    pub evidence_required: bool,
    /// A claim must name the household member who did it (考上大学, 应征入伍).
    #[serde(default)]
    pub member_required: bool,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ItemView {
    pub id: i64,
    pub version: i32,
    pub code: String,
    pub category: String,
    pub title: String,
    pub description: String,
    #[schema(example = "5.00")]
    pub points: Amount,
    pub period: Period,
    pub cap_count: Option<i32>,
    pub proposers: Vec<Proposer>,
    pub evidence_required: bool,
    pub member_required: bool,
    pub active: bool,
}

impl ItemView {
    /// The item as the committee would write it, to tell a real change from a repeat.
    pub fn as_input(&self) -> ItemInput {
        ItemInput {
            code: self.code.clone(),
            category: self.category.clone(),
            title: self.title.clone(),
            description: self.description.clone(),
            points: self.points,
            period: self.period,
            cap_count: self.cap_count,
            proposers: self.proposers.clone(),
            evidence_required: self.evidence_required,
            member_required: self.member_required,
        }
    }
}

#[derive(Debug, Default, Deserialize, Validate, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChecklistFilter {
    /// Include retired items (committee and supervisors).
    #[serde(default)]
    pub include_retired: bool,
    #[validate(range(min = 1, max = 500, message = "须在 1 到 500 之间"))]
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_are_stored_by_their_json_names() {
        crate::db::assert_names_round_trip::<Period>();
    }

    fn input(points: &str) -> serde_json::Value {
        serde_json::json!({"code": "A01", "category": "孝老爱亲", "title": "照顾老人", "points": points,
                           "period": "month", "cap_count": 2, "proposers": ["villager", "committee"]})
    }

    #[test]
    fn points_are_non_zero_and_bounded() {
        let ok: ItemInput = serde_json::from_value(input("-10000")).unwrap();
        assert!(ok.validate().is_ok());
        for bad in ["0", "10000.01", "-10001"] {
            let item: ItemInput = serde_json::from_value(input(bad)).unwrap();
            assert!(item.validate().is_err(), "{bad}");
        }
        assert!(serde_json::from_value::<ItemInput>(input("1.234")).is_err());
    }

    #[test]
    fn periods_have_calendar_bounds() {
        use chrono::NaiveDate;
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        assert_eq!(
            Period::Month.bounds(d(2026, 11, 30)),
            Some((d(2026, 11, 1), d(2026, 12, 1)))
        );
        assert_eq!(
            Period::Quarter.bounds(d(2026, 12, 31)),
            Some((d(2026, 10, 1), d(2027, 1, 1)))
        );
        assert_eq!(
            Period::HalfYear.bounds(d(2026, 6, 30)),
            Some((d(2026, 1, 1), d(2026, 7, 1)))
        );
        assert_eq!(
            Period::HalfYear.bounds(d(2026, 7, 1)),
            Some((d(2026, 7, 1), d(2027, 1, 1)))
        );
        assert_eq!(
            Period::Year.bounds(d(2026, 2, 28)),
            Some((d(2026, 1, 1), d(2027, 1, 1)))
        );
        assert_eq!(Period::Event.bounds(d(2026, 2, 28)), None);
    }

    #[test]
    fn periods_and_proposers_read_english_or_chinese() {
        assert_eq!(Period::from_name("每半年"), Some(Period::HalfYear));
        assert_eq!(Period::from_name("half_year"), Some(Period::HalfYear));
        assert_eq!(Proposer::parse("组长"), Some(Proposer::GroupLeader));
        assert_eq!(
            Proposer::split("villager,committee"),
            vec![Proposer::Villager, Proposer::Committee]
        );
    }
}
