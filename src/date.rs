//! Business dates from outside: `YYYY-MM-DD`, four-digit years from 2000 to 2100. chrono
//! alone takes `0000-01-01` and `-2026-01-01`, which no village ever meant.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Deserializer};

pub const FIRST_YEAR: i32 = 2000;
pub const LAST_YEAR: i32 = 2100;

const FORM: &str = "日期须是 2000 到 2100 年间的 YYYY-MM-DD，如 2026-11-27";

/// Parses a business date, or says how one looks.
pub fn parse(text: &str) -> Result<NaiveDate, &'static str> {
    let shaped = text.len() == 10
        && text.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            _ => b.is_ascii_digit(),
        });
    let date = shaped
        .then(|| NaiveDate::parse_from_str(text, "%Y-%m-%d").ok())
        .flatten()
        .ok_or(FORM)?;
    if (FIRST_YEAR..=LAST_YEAR).contains(&date.year()) {
        Ok(date)
    } else {
        Err(FORM)
    }
}

/// `2026年12月3日`: a day as people write it on paper and on the villagers' pages.
pub fn in_words(day: NaiveDate) -> String {
    format!("{}年{}月{}日", day.year(), day.month(), day.day())
}

/// `12月1日`: a day on the villagers' phones, where the year goes without saying.
pub fn on_phone(day: NaiveDate) -> String {
    format!("{}月{}日", day.month(), day.day())
}

/// `12月1日 14:05`: a moment on the villagers' phones, in Shanghai time.
pub fn moment_on_phone(at: chrono::DateTime<chrono::Utc>) -> String {
    let local = at.with_timezone(&crate::clock::shanghai());
    format!("{} {}", on_phone(local.date_naive()), local.format("%H:%M"))
}

/// `#[serde(deserialize_with = "crate::date::strict")]`
pub fn strict<'de, D: Deserializer<'de>>(deserializer: D) -> Result<NaiveDate, D::Error> {
    let text = String::deserialize(deserializer)?;
    parse(&text).map_err(serde::de::Error::custom)
}

/// `#[serde(default, deserialize_with = "crate::date::strict_option")]`
pub fn strict_option<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<NaiveDate>, D::Error> {
    Option::<String>::deserialize(deserializer)?
        .map(|text| parse(&text).map_err(serde::de::Error::custom))
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_dates_of_this_era() {
        assert_eq!(
            parse("2026-11-27"),
            NaiveDate::from_ymd_opt(2026, 11, 27).ok_or(FORM)
        );
        for bad in [
            "0000-01-01",
            "-2026-01-01",
            "+2026-01-01",
            "1999-12-31",
            "2101-01-01",
            "2026-02-30",
            "2026-1-1",
            " 2026-11-27",
            "20261127",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
