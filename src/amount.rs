//! Exact amounts of points or yuan (DESIGN.md §4.1).
//!
//! Stored as `i64` hundredths, handled as `Decimal` at the edges, carried in JSON as a
//! string with two decimals. Input with more than two decimals is refused, never rounded.

use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use utoipa::ToSchema;

/// An amount with two decimal places, e.g. `"12.50"` or `"-5.00"`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, ToSchema)]
#[schema(value_type = String, example = "12.50", pattern = r"^-?[0-9]{1,15}(\.[0-9]{1,2})?$")]
pub struct Amount(i64);

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    #[error("不是有效的数字")]
    NotANumber,
    #[error("最多两位小数")]
    TooPrecise,
    #[error("数值超出范围")]
    OutOfRange,
}

impl Amount {
    pub const ZERO: Amount = Amount(0);

    pub const fn from_minor(hundredths: i64) -> Self {
        Amount(hundredths)
    }

    pub fn minor(self) -> i64 {
        self.0
    }

    pub fn to_decimal(self) -> Decimal {
        Decimal::new(self.0, 2)
    }

    pub fn from_decimal(value: Decimal) -> Result<Self, AmountError> {
        let value = value.normalize();
        if value.scale() > 2 {
            return Err(AmountError::TooPrecise);
        }
        let hundredths = value
            .checked_mul(Decimal::ONE_HUNDRED)
            .ok_or(AmountError::OutOfRange)?;
        i64::try_from(hundredths)
            .map(Amount)
            .map_err(|_| AmountError::OutOfRange)
    }

    /// Parses `^-?\d{1,15}(\.\d{1,2})?$` exactly: no plus sign, no spaces, no bare point,
    /// no exponent.
    pub fn parse(text: &str) -> Result<Self, AmountError> {
        let unsigned = text.strip_prefix('-').unwrap_or(text);
        let (whole, fraction) = match unsigned.split_once('.') {
            Some((whole, fraction)) => (whole, Some(fraction)),
            None => (unsigned, None),
        };
        let digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
        if !digits(whole) || fraction.is_some_and(|f| !digits(f)) {
            return Err(AmountError::NotANumber);
        }
        if fraction.is_some_and(|f| f.len() > 2) {
            return Err(AmountError::TooPrecise);
        }
        if whole.len() > 15 {
            return Err(AmountError::OutOfRange);
        }
        let value: Decimal = text.parse().map_err(|_| AmountError::NotANumber)?;
        Self::from_decimal(value)
    }

    pub fn is_negative(self) -> bool {
        self.0 < 0
    }

    /// The amount as yuan in Chinese capitals (大写金额), as a statement a treasurer
    /// signs writes it: 1250.05 → 壹仟贰佰伍拾元零伍分, 30 → 叁拾元整.
    pub fn yuan_in_capitals(self) -> String {
        let minor = self.0.unsigned_abs();
        let (yuan, jiao, fen) = (
            minor / 100,
            (minor / 10 % 10) as usize,
            (minor % 10) as usize,
        );
        let mut text = String::from(if self.0 < 0 { "负" } else { "" });
        text.push_str(&whole_in_capitals(yuan));
        if yuan > 0 {
            text.push('元');
        }
        match (jiao, fen) {
            (0, 0) if yuan == 0 => text.push_str("零元整"),
            (0, 0) => text.push('整'),
            _ => {
                if jiao > 0 {
                    text.push(CAPITAL_DIGITS[jiao]);
                    text.push('角');
                } else if yuan > 0 {
                    text.push('零');
                }
                if fen > 0 {
                    text.push(CAPITAL_DIGITS[fen]);
                    text.push('分');
                }
            }
        }
        text
    }
}

const CAPITAL_DIGITS: [char; 10] = ['零', '壹', '贰', '叁', '肆', '伍', '陆', '柒', '捌', '玖'];

/// 10,005 → 壹万零伍: sections of four digits (万, 亿, 万亿), a zero said once where
/// digits are skipped, never at a section's end.
fn whole_in_capitals(mut n: u64) -> String {
    const PLACES: [&str; 4] = ["", "拾", "佰", "仟"];
    const SECTIONS: [&str; 5] = ["", "万", "亿", "万亿", "亿亿"];
    let mut sections = Vec::new();
    while n > 0 {
        sections.push((n % 10_000) as usize);
        n /= 10_000;
    }
    let mut text = String::new();
    let mut skipped = false;
    for (index, &section) in sections.iter().enumerate().rev() {
        if section == 0 {
            skipped = !text.is_empty();
            continue;
        }
        if skipped || (!text.is_empty() && section < 1000) {
            text.push('零');
        }
        let mut zero = false;
        for place in (0..4).rev() {
            let digit = section / 10usize.pow(place as u32) % 10;
            if digit == 0 {
                zero = zero || section / 10usize.pow(place as u32) > 0;
                continue;
            }
            if zero {
                text.push('零');
                zero = false;
            }
            text.push(CAPITAL_DIGITS[digit]);
            text.push_str(PLACES[place]);
        }
        text.push_str(SECTIONS[index]);
        skipped = false;
    }
    text
}

impl Amount {
    /// As the pages show points: whole amounts without decimals ("36"), two decimals only
    /// when there are hundredths ("36.50"). The API and the exports keep "36.00".
    pub fn plain(self) -> String {
        if self.0 % 100 == 0 {
            (self.0 / 100).to_string()
        } else {
            self.to_string()
        }
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.2}", self.to_decimal())
    }
}

impl Serialize for Amount {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Amount;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("金额字符串，如 \"12.50\"")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Amount, E> {
                Amount::parse(v).map_err(E::custom)
            }
        }
        deserializer.deserialize_str(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_two_decimals() {
        assert_eq!(Amount::parse("10").unwrap().to_string(), "10.00");
        assert_eq!(Amount::parse("0.5").unwrap().to_string(), "0.50");
        assert_eq!(Amount::parse("-5.00").unwrap().minor(), -500);
        assert_eq!(Amount::parse("12.50").unwrap().minor(), 1250);
    }

    #[test]
    fn refuses_rather_than_rounds() {
        assert_eq!(Amount::parse("1.005"), Err(AmountError::TooPrecise));
        assert_eq!(Amount::parse("1e3"), Err(AmountError::NotANumber));
        assert_eq!(Amount::parse(""), Err(AmountError::NotANumber));
        assert_eq!(
            Amount::parse("99999999999999999999"),
            Err(AmountError::OutOfRange)
        );
    }

    #[test]
    fn only_the_documented_pattern_is_an_amount() {
        for bad in [
            "+5", " 5 ", "5.", ".5", "-", "-.5", "5..0", "5,00", "٥", "1_000",
        ] {
            assert_eq!(Amount::parse(bad), Err(AmountError::NotANumber), "{bad:?}");
        }
        assert_eq!(Amount::parse("-0.5").unwrap().minor(), -50);
        assert_eq!(
            Amount::parse("999999999999999.99").unwrap().minor(),
            99_999_999_999_999_999
        );
        assert_eq!(
            Amount::parse("1000000000000000"),
            Err(AmountError::OutOfRange)
        );
    }

    #[test]
    fn yuan_are_written_in_capitals_as_a_treasurer_writes_them() {
        for (yuan, words) in [
            ("0", "零元整"),
            ("30", "叁拾元整"),
            ("10", "壹拾元整"),
            ("1250", "壹仟贰佰伍拾元整"),
            ("1250.05", "壹仟贰佰伍拾元零伍分"),
            ("0.5", "伍角"),
            ("0.07", "柒分"),
            ("10.3", "壹拾元叁角"),
            ("3.07", "叁元零柒分"),
            ("1010", "壹仟零壹拾元整"),
            ("10005", "壹万零伍元整"),
            ("101000", "壹拾万壹仟元整"),
            ("1000100", "壹佰万零壹佰元整"),
            ("100010000", "壹亿零壹万元整"),
            ("100000000", "壹亿元整"),
            ("-30", "负叁拾元整"),
        ] {
            assert_eq!(
                Amount::parse(yuan).unwrap().yuan_in_capitals(),
                words,
                "{yuan}"
            );
        }
    }

    #[test]
    fn json_numbers_are_refused() {
        assert!(serde_json::from_str::<Amount>("12.5").is_err());
        assert_eq!(
            serde_json::from_str::<Amount>("\"12.5\"").unwrap().minor(),
            1250
        );
    }
}
