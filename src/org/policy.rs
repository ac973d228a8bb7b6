//! A village's policy object (API.md "Organisation") with its defaults and rules.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use crate::amount::Amount;
use crate::db::TextState;
use crate::error::{AppError, FieldError};

/// No village pays more than this per point: it bounds every settlement sum.
pub const MAX_YUAN_PER_POINT: Amount = Amount::from_minor(10_000);

/// 十星级文明户 is the top: a village rates its households on one to ten stars.
pub const MAX_STARS: usize = 10;

/// Unspent points may expire once a year on a given day, or never.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Expiry {
    None,
    Annual { month: u32, day: u32 },
}

crate::text_state! {
    /// Who pays the shops for a village's points.
    pub enum FundingSource {
        /// 集体经济: the village collective's own income.
        Collective = "collective",
        /// 财政奖补: the township's or county's subsidy.
        Fiscal = "fiscal",
        /// 社会捐赠: donations.
        Donation = "donation",
    }
}

impl FundingSource {
    pub fn words(self) -> &'static str {
        match self {
            Self::Collective => "集体经济",
            Self::Fiscal => "财政奖补",
            Self::Donation => "社会捐赠",
        }
    }
}

crate::text_state! {
    /// What a shop is paid for the village's points it took (DESIGN.md §3).
    pub enum SettleAt {
        /// The points at the village's `yuan_per_point`.
        PointsRate = "points_rate",
        /// The goods' cost prices, as the shop priced them when it sold them.
        CostPrice = "cost_price",
    }
}

/// A source's part of what the village pays, in whole percent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FundingShare {
    pub source: FundingSource,
    #[validate(range(max = 100, message = "须在 0 到 100 之间"))]
    #[schema(minimum = 0, maximum = 100, example = 60)]
    pub percent: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct VillagePolicy {
    /// Days an approved claim stays on the notice board before posting (0–30).
    #[schema(minimum = 0, maximum = 30, example = 5)]
    pub notice_days: u32,
    pub allow_self_report: bool,
    /// Yuan a shop is paid per point redeemed (0–100.00).
    #[schema(example = "1.00")]
    pub yuan_per_point: Amount,
    /// Whether statements pay the shop `yuan_per_point` for each point or the goods'
    /// cost prices.
    pub settle_at: SettleAt,
    pub expiry: Expiry,
    /// When `expiry` last changed (the server sets it): a date that had passed by then
    /// waits for the next year.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(read_only)]
    pub expiry_set_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Rankings, the honour board (红榜) and door plates' ranks are public.
    pub public_rankings: bool,
    /// The honour board also shows deductions (黑榜).
    pub public_deductions: bool,
    /// Lifetime of a payment code (15–600 seconds).
    #[schema(minimum = 15, maximum = 600, example = 60)]
    pub code_ttl_seconds: u32,
    /// How long a shop may void its own redemption (0–1440 minutes).
    #[schema(minimum = 0, maximum = 1440, example = 10)]
    pub void_window_minutes: u32,
    #[schema(example = "200.00")]
    pub card_daily_cap: Amount,
    /// Honour needed for 1, 2, … N stars (1 to 10 levels), ascending.
    pub star_thresholds: Vec<Amount>,
    /// Where the money for the shops comes from (集体经济, 财政奖补, 社会捐赠): each
    /// source once, the shares summing to 100; empty when the village has not said.
    pub funding: Vec<FundingShare>,
}

impl Default for VillagePolicy {
    fn default() -> Self {
        let stars = [20, 50, 100, 150, 200, 300, 400, 500, 650, 800];
        Self {
            notice_days: 5,
            allow_self_report: true,
            yuan_per_point: Amount::from_minor(100),
            settle_at: SettleAt::PointsRate,
            expiry: Expiry::None,
            expiry_set_at: None,
            public_rankings: false,
            public_deductions: false,
            code_ttl_seconds: 60,
            void_window_minutes: 10,
            card_daily_cap: Amount::from_minor(20_000),
            star_thresholds: stars.iter().map(|s| Amount::from_minor(s * 100)).collect(),
            funding: Vec::new(),
        }
    }
}

/// A change to some policy fields; fields not named stay as they are.
#[derive(Clone, Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyPatch {
    #[validate(range(min = 0, max = 30, message = "须在 0 到 30 天之间"))]
    #[schema(minimum = 0, maximum = 30)]
    pub notice_days: Option<u32>,
    pub allow_self_report: Option<bool>,
    #[schema(example = "1.00")]
    pub yuan_per_point: Option<Amount>,
    pub settle_at: Option<SettleAt>,
    pub expiry: Option<Expiry>,
    pub public_rankings: Option<bool>,
    pub public_deductions: Option<bool>,
    #[validate(range(min = 15, max = 600, message = "须在 15 到 600 秒之间"))]
    #[schema(minimum = 15, maximum = 600)]
    pub code_ttl_seconds: Option<u32>,
    #[validate(range(min = 0, max = 1440, message = "须在 0 到 1440 分钟之间"))]
    #[schema(minimum = 0, maximum = 1440)]
    pub void_window_minutes: Option<u32>,
    #[schema(example = "200.00")]
    pub card_daily_cap: Option<Amount>,

    pub star_thresholds: Option<Vec<Amount>>,
    /// Shares of 0 are left out.
    #[validate(length(max = 3, message = "最多三种资金来源"), nested)]
    #[schema(max_items = 3)]
    pub funding: Option<Vec<FundingShare>>,
}

impl VillagePolicy {
    /// Applies a patch and checks the rules that span fields; `prefix` names the
    /// policy in error paths (e.g. `policy`).
    pub fn patched(&self, patch: &PolicyPatch, prefix: &str) -> Result<Self, AppError> {
        let mut next = self.clone();
        macro_rules! take {
            ($($field:ident),*) => { $(if let Some(v) = &patch.$field { next.$field = v.clone(); })* };
        }
        take!(
            notice_days,
            allow_self_report,
            yuan_per_point,
            settle_at,
            expiry,
            public_rankings,
            public_deductions,
            code_ttl_seconds,
            void_window_minutes,
            card_daily_cap,
            star_thresholds
        );
        if let Some(funding) = &patch.funding {
            next.funding = funding.iter().copied().filter(|s| s.percent > 0).collect();
        }
        let errors = next.problems(prefix);
        if errors.is_empty() {
            Ok(next)
        } else {
            Err(AppError::Validation(errors))
        }
    }

    fn problems(&self, prefix: &str) -> Vec<FieldError> {
        let field = |name: &str| format!("{prefix}.{name}");
        let mut errors = Vec::new();
        if self.yuan_per_point.is_negative() || self.yuan_per_point > MAX_YUAN_PER_POINT {
            errors.push(FieldError::new(
                field("yuan_per_point"),
                "须在 0 到 100.00 元之间",
            ));
        }
        if self.card_daily_cap.is_negative() {
            errors.push(FieldError::new(field("card_daily_cap"), "不能为负数"));
        }
        if let Expiry::Annual { month, day } = self.expiry {
            // A fixed day that exists every year: no 29 February.
            let valid = chrono::NaiveDate::from_ymd_opt(2025, month, day).is_some();
            if !valid {
                errors.push(FieldError::new(field("expiry"), "不是每年都有的日期"));
            }
        }
        let ascending = self
            .star_thresholds
            .windows(2)
            .all(|pair| pair[0] < pair[1]);
        let positive = self.star_thresholds.iter().all(|t| t.minor() > 0);
        if !ascending || !positive || !(1..=MAX_STARS).contains(&self.star_thresholds.len()) {
            errors.push(FieldError::new(
                field("star_thresholds"),
                "须为从小到大的正数，1 到 10 级",
            ));
        }
        if !self.funding_adds_up() {
            errors.push(FieldError::new(
                field("funding"),
                "每种资金来源只填一次，比例加起来要等于 100%",
            ));
        }
        errors
    }

    fn funding_adds_up(&self) -> bool {
        let once = <FundingSource as TextState>::ALL
            .iter()
            .all(|source| self.funding.iter().filter(|s| s.source == *source).count() <= 1);
        let total: u32 = self.funding.iter().map(|s| s.percent).sum();
        once && (self.funding.is_empty() || total == 100)
    }

    /// Notes when `expiry` changed from `before`'s.
    pub fn stamped(mut self, before: &VillagePolicy, now: chrono::DateTime<chrono::Utc>) -> Self {
        if self.expiry != before.expiry {
            self.expiry_set_at = Some(now);
        }
        self
    }

    /// Reads a stored policy; fields added after it was stored take their defaults.
    pub fn from_stored(text: &str) -> Self {
        serde_json::from_str(text).unwrap_or_else(|err| {
            tracing::error!(error = %err, "stored village policy unreadable; using defaults");
            Self::default()
        })
    }

    pub fn to_stored(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_contract() {
        let json = serde_json::to_value(VillagePolicy::default()).unwrap();
        assert_eq!(json["notice_days"], 5);
        assert_eq!(json["yuan_per_point"], "1.00");
        assert_eq!(json["card_daily_cap"], "200.00");
        assert_eq!(json["expiry"]["kind"], "none");
        assert_eq!(json["star_thresholds"][9], "800.00");
    }

    #[test]
    fn a_patch_changes_only_what_it_names() {
        let patch: PolicyPatch = serde_json::from_str(r#"{"notice_days": 0}"#).unwrap();
        let next = VillagePolicy::default().patched(&patch, "policy").unwrap();
        assert_eq!(next.notice_days, 0);
        assert_eq!(next.code_ttl_seconds, 60);
    }

    #[test]
    fn cross_field_rules_name_the_field() {
        let patch: PolicyPatch = serde_json::from_str(
            r#"{"expiry": {"kind": "annual", "month": 2, "day": 29}, "star_thresholds": ["50", "20"]}"#,
        )
        .unwrap();
        let Err(AppError::Validation(errors)) = VillagePolicy::default().patched(&patch, "policy")
        else {
            panic!("expected validation errors");
        };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["policy.expiry", "policy.star_thresholds"]);
    }

    #[test]
    fn funding_shares_add_up_to_a_hundred_and_zeros_are_left_out() {
        let patch = |funding: serde_json::Value| -> PolicyPatch {
            serde_json::from_value(serde_json::json!({ "funding": funding })).unwrap()
        };
        let split = VillagePolicy::default()
            .patched(
                &patch(serde_json::json!([
                    {"source": "collective", "percent": 60},
                    {"source": "fiscal", "percent": 40},
                    {"source": "donation", "percent": 0}
                ])),
                "policy",
            )
            .unwrap();
        assert_eq!(
            split.funding,
            [
                FundingShare {
                    source: FundingSource::Collective,
                    percent: 60
                },
                FundingShare {
                    source: FundingSource::Fiscal,
                    percent: 40
                }
            ]
        );
        for bad in [
            serde_json::json!([{"source": "collective", "percent": 60}]),
            serde_json::json!([{"source": "fiscal", "percent": 50}, {"source": "fiscal", "percent": 50}]),
        ] {
            assert!(
                VillagePolicy::default()
                    .patched(&patch(bad), "policy")
                    .is_err()
            );
        }
        assert!(VillagePolicy::default().funding.is_empty());
        crate::db::assert_names_round_trip::<FundingSource>();
        crate::db::assert_names_round_trip::<SettleAt>();
    }

    #[test]
    fn a_point_is_worth_at_most_a_hundred_yuan() {
        let patch = |rate: &str| -> PolicyPatch {
            serde_json::from_value(serde_json::json!({"yuan_per_point": rate})).unwrap()
        };
        assert!(
            VillagePolicy::default()
                .patched(&patch("100.00"), "policy")
                .is_ok()
        );
        assert!(
            VillagePolicy::default()
                .patched(&patch("100.01"), "policy")
                .is_err()
        );
        assert!(
            VillagePolicy::default()
                .patched(&patch("-1"), "policy")
                .is_err()
        );
    }
}
