//! Time comes from a clock that tests can move, so no test ever sleeps.

use std::sync::Mutex;

use chrono::{DateTime, Duration, DurationRound, Utc};

pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// Truncates to microseconds: PostgreSQL keeps no more, and both backends must agree.
fn to_micros(t: DateTime<Utc>) -> DateTime<Utc> {
    t.duration_trunc(Duration::microseconds(1)).unwrap_or(t)
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        to_micros(Utc::now())
    }
}

/// A clock that only moves when told to.
pub struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    pub fn new(start: DateTime<Utc>) -> Self {
        Self(Mutex::new(to_micros(start)))
    }

    pub fn advance(&self, by: Duration) {
        let mut now = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *now += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Business dates and periods are in Asia/Shanghai, which has kept UTC+8 without daylight
/// saving since 1991, so a fixed offset is exact.
pub fn shanghai() -> chrono::FixedOffset {
    chrono::FixedOffset::east_opt(8 * 3600)
        .unwrap_or_else(|| unreachable!("UTC+8 is a valid offset"))
}

/// The first instant of a Shanghai day, in UTC.
pub fn shanghai_midnight(day: chrono::NaiveDate) -> DateTime<Utc> {
    let midnight = day.and_hms_opt(0, 0, 0).unwrap_or_default();
    midnight
        .and_local_timezone(shanghai())
        .single()
        .map_or_else(|| midnight.and_utc(), |t| t.with_timezone(&Utc))
}

/// The end of public notice: the end of the day (Asia/Shanghai) `days` days after `from`.
pub fn notice_end(from: DateTime<Utc>, days: u32) -> DateTime<Utc> {
    shanghai_midnight(shanghai_today(from) + chrono::Days::new(u64::from(days) + 1))
}

/// Today's date in Asia/Shanghai.
pub fn shanghai_today(now: DateTime<Utc>) -> chrono::NaiveDate {
    now.with_timezone(&shanghai()).date_naive()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn notice_ends_at_the_end_of_a_shanghai_day() {
        // 2026-11-28 17:00 UTC is already 29 November in Shanghai.
        let late = Utc.with_ymd_and_hms(2026, 11, 28, 17, 0, 0).unwrap();
        assert_eq!(
            notice_end(late, 5),
            Utc.with_ymd_and_hms(2026, 12, 4, 16, 0, 0).unwrap()
        );
        let morning = Utc.with_ymd_and_hms(2026, 11, 28, 2, 0, 0).unwrap();
        assert_eq!(
            notice_end(morning, 1),
            Utc.with_ymd_and_hms(2026, 11, 29, 16, 0, 0).unwrap()
        );
        assert_eq!(shanghai_today(late).to_string(), "2026-11-29");
    }
}
