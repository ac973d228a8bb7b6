//! When 清零 falls and whether it is due: pure rules over the policy and the clock.

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::amount::Amount;

use crate::clock::{shanghai, shanghai_midnight, shanghai_today};
use crate::org::policy::Expiry;

/// Villagers are warned this many days before their points expire.
pub const WARNING_DAYS: i64 = 30;

/// Before this release `policy.expiry` did nothing; a date that passed before it is not
/// caught up, so switching the feature on cannot clear a village by surprise.
pub fn released() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 2, 0, 0, 0)
        .single()
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// 00:00 Asia/Shanghai on the policy's date in `year`; none when nothing expires.
pub fn moment(expiry: Expiry, year: i32) -> Option<DateTime<Utc>> {
    let Expiry::Annual { month, day } = expiry else {
        return None;
    };
    NaiveDate::from_ymd_opt(year, month, day).map(shanghai_midnight)
}

/// The next 清零 after `now`.
pub fn next_at(expiry: Expiry, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let year = shanghai_today(now).year();
    [year, year + 1]
        .into_iter()
        .filter_map(|y| moment(expiry, y))
        .find(|m| *m > now)
}

/// The years whose 清零 has come by `now` and was set before it came (last year's too,
/// for a server that was down across its date), oldest first. Whether each has already
/// run is the store's to say.
pub fn due_years(expiry: Expiry, set_at: DateTime<Utc>, now: DateTime<Utc>) -> Vec<i32> {
    let year = shanghai_today(now).year();
    [year - 1, year]
        .into_iter()
        .filter(|y| moment(expiry, *y).is_some_and(|m| set_at < m && m <= now))
        .collect()
}

/// `2027年1月10日`: the day the points go, as the villager's page says it.
pub fn day_label(at: DateTime<Utc>) -> String {
    crate::date::in_words(at.with_timezone(&shanghai()).date_naive())
}

/// Whether the warning shows: from 30 days before the moment.
pub fn warns(next: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    next > now && next - now <= chrono::Duration::days(WARNING_DAYS)
}

/// The memo of each household's expiry transaction.
pub fn memo(year: i32) -> String {
    format!("{year}年积分清零")
}

/// What the next 清零 of a village would take, as of now.
#[derive(Debug, Serialize, ToSchema)]
pub struct VillageExpiryView {
    pub policy: Expiry,
    /// 00:00 Asia/Shanghai on the next date; null when nothing expires.
    pub next_at: Option<DateTime<Utc>>,
    /// Households holding spendable points now.
    pub households: usize,
    /// Their points together.
    #[schema(example = "1250.00")]
    pub points: Amount,
}

/// What of a household's points the next 清零 would take, as of now.
#[derive(Debug, Serialize, ToSchema)]
pub struct HouseholdExpiryView {
    pub next_at: Option<DateTime<Utc>>,
    #[schema(example = "36.00")]
    pub points: Amount,
}

/// One village's 清零, done.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expired {
    pub village_id: i64,
    pub year: i32,
    pub households: usize,
    /// Hundredths.
    pub points: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap()
    }

    const JAN_10: Expiry = Expiry::Annual { month: 1, day: 10 };

    #[test]
    fn the_moment_is_midnight_in_shanghai() {
        // 00:00 on 10 January in Shanghai is 16:00 on 9 January in UTC.
        assert_eq!(moment(JAN_10, 2027), Some(at(2027, 1, 9, 16)));
        assert_eq!(moment(Expiry::None, 2027), None);
        assert_eq!(
            next_at(JAN_10, at(2026, 12, 2, 0)),
            Some(at(2027, 1, 9, 16))
        );
        // At the moment itself the next one is a year on.
        assert_eq!(
            next_at(JAN_10, at(2027, 1, 9, 16)),
            Some(at(2028, 1, 9, 16))
        );
        assert_eq!(day_label(at(2027, 1, 9, 16)), "2027年1月10日");
    }

    #[test]
    fn due_from_the_moment_only_if_set_before_it() {
        let set = at(2026, 12, 2, 0);
        assert!(
            due_years(JAN_10, set, at(2027, 1, 9, 15)).is_empty(),
            "the hour before"
        );
        assert_eq!(due_years(JAN_10, set, at(2027, 1, 9, 16)), [2027]);
        assert_eq!(
            due_years(JAN_10, set, at(2027, 6, 1, 0)),
            [2027],
            "missed, caught up"
        );
        // Switched on after this year's date: nothing until next year.
        assert!(due_years(JAN_10, at(2027, 3, 1, 0), at(2027, 6, 1, 0)).is_empty());
        // Down across the date at the end of a year: last year's is still due.
        let dec_20 = Expiry::Annual { month: 12, day: 20 };
        assert_eq!(due_years(dec_20, set, at(2027, 1, 5, 0)), [2026]);
    }

    #[test]
    fn villagers_are_warned_from_thirty_days_before() {
        let next = at(2027, 1, 9, 16);
        assert!(!warns(next, next - chrono::Duration::days(31)));
        assert!(warns(next, next - chrono::Duration::days(30)));
        assert!(!warns(next, next));
    }
}
