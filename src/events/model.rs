//! Event types.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use crate::claims::model::ClaimView;

crate::text_state! {
    /// Whether an event still takes check-ins.
    pub enum EventStatus {
        Open = "open",
        /// Closed by the committee: its check-ins became claims.
        Closed = "closed",
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateEvent {
    #[validate(length(min = 1, max = 64, message = "请填写 1–64 个字的活动名称"))]
    #[validate(custom(function = "crate::text::single_line"))]
    #[schema(example = "11月村民议事会", min_length = 1, max_length = 64)]
    pub title: String,
    /// The checklist item each attendance is claimed against.
    pub item_id: i64,
    #[validate(length(min = 1, max = 64, message = "地点最多 64 个字"))]
    #[validate(custom(function = "crate::text::single_line"))]
    #[schema(example = "村委会议室", min_length = 1, max_length = 64)]
    pub place: Option<String>,
    #[schema(value_type = String, format = DateTime, example = "2026-12-05T14:00:00+08:00")]
    pub starts_at: DateTime<Utc>,
    /// After `starts_at`.
    #[schema(value_type = String, format = DateTime, example = "2026-12-05T16:00:00+08:00")]
    pub ends_at: DateTime<Utc>,
    /// Most households that may check in; none for no limit.
    #[validate(range(min = 1, max = 100000, message = "须在 1 到 100000 之间"))]
    #[schema(minimum = 1, maximum = 100000)]
    pub max_checkins: Option<i32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventView {
    pub id: i64,
    pub village_id: i64,
    pub title: String,
    pub item_id: i64,
    pub place: Option<String>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub max_checkins: Option<i32>,
    pub status: EventStatus,
    /// Households checked in so far.
    pub checkins: i64,
    /// What the event's QR opens: the villager's check-in page.
    pub checkin_url: String,
    /// The QR of `checkin_url`, as SVG.
    pub qr_svg: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventList {
    pub items: Vec<EventView>,
}

/// A check-in: a villager for their own household (`{}`), or the committee for the
/// household it names.
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckinRequest {
    pub household_id: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CheckinView {
    pub household_id: i64,
    pub at: DateTime<Utc>,
}

/// What closing an event made: one approved claim per checked-in household within the
/// item's cap.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClosedEvent {
    pub claims: Vec<ClaimView>,
}
