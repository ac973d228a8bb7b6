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
    fn json_numbers_are_refused() {
        assert!(serde_json::from_str::<Amount>("12.5").is_err());
        assert_eq!(
            serde_json::from_str::<Amount>("\"12.5\"").unwrap().minor(),
            1250
        );
    }
}
