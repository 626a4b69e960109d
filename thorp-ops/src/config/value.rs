//! Typed parsing of config values: the [`ConfigValue`] trait and its implementations.
//!
//! Parsing is strict where the seed's `parseInt` was lenient: `2000abc`, `1e3` and overflow are
//! errors for integers, floats must be finite, and a duration needs a unit. Messages are
//! predicates ("is not an integer") so the loader can put the key and the (possibly redacted)
//! value in front of them; they never repeat the value themselves.

use std::borrow::Cow;
use std::fmt;
use std::num::IntErrorKind;
use std::time::Duration;
use url::Url;

/// Why a value was refused, phrased to follow the value: `"abc" is not an integer`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueError {
    message: Cow<'static, str>,
    echoes_input: bool,
}

impl ValueError {
    /// A refusal whose message never contains the value it refuses.
    pub fn new(message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            message: message.into(),
            echoes_input: false,
        }
    }

    /// A refusal whose message came from code we do not control (a `FromStr` error) and may
    /// repeat the value; it is left out where the value is secret.
    pub fn untrusted(message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            message: message.into(),
            echoes_input: true,
        }
    }

    /// The message, e.g. `is not an integer`.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Whether the message may repeat the refused value.
    pub fn may_echo_input(&self) -> bool {
        self.echoes_input
    }
}

impl fmt::Display for ValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ValueError {}

/// A type a config value can be parsed into.
///
/// Implemented for the integers, floats, `bool`, `String`, [`Url`] and [`Duration`]. Fields of
/// any other type that implements [`FromStr`](std::str::FromStr) (enums, addresses, paths) work
/// without this trait; implement it for your own types when you want a better message than the
/// `FromStr` error gives, or a syntax `FromStr` does not have.
///
/// ```
/// use thorp_ops::config::{ConfigValue, ValueError};
///
/// struct Lamports(u64);
///
/// impl ConfigValue for Lamports {
///     fn parse_value(raw: &str) -> Result<Self, ValueError> {
///         if let Some(sol) = raw.strip_suffix("SOL") {
///             let sol: f64 = sol.parse().map_err(|_| ValueError::new("is not a SOL amount"))?;
///             return Ok(Lamports((sol * 1e9) as u64));
///         }
///         u64::parse_value(raw).map(Lamports)
///     }
/// }
/// assert_eq!(Lamports::parse_value("0.5SOL").map(|l| l.0), Ok(500_000_000));
/// ```
pub trait ConfigValue: Sized {
    /// Parses a value already trimmed and unquoted by the `.env` reader.
    fn parse_value(raw: &str) -> Result<Self, ValueError>;
}

macro_rules! integers {
    ($($ty:ty),*) => {$(
        impl ConfigValue for $ty {

            fn parse_value(raw: &str) -> Result<Self, ValueError> {
                raw.parse::<$ty>().map_err(|error| match error.kind() {
                    IntErrorKind::PosOverflow | IntErrorKind::NegOverflow => ValueError::new(concat!(
                        "is out of range for ", stringify!($ty),
                    )),
                    IntErrorKind::Empty => ValueError::new("is empty, expected an integer"),
                    // `-1` for an unsigned type is an integer, just not one this type holds.
                    IntErrorKind::InvalidDigit
                        if <$ty>::MIN == 0
                            && raw.strip_prefix('-').is_some_and(|digits| {
                                !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
                            }) =>
                    {
                        ValueError::new(concat!("is out of range for ", stringify!($ty)))
                    }
                    _ => ValueError::new("is not an integer"),
                })
            }
        }
    )*};
}

integers!(
    u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, isize
);

macro_rules! floats {
    ($($ty:ty),*) => {$(
        impl ConfigValue for $ty {

            fn parse_value(raw: &str) -> Result<Self, ValueError> {
                match raw.parse::<$ty>() {
                    Ok(value) if value.is_finite() => Ok(value),
                    Ok(_) => Err(ValueError::new("is not a finite number")),
                    Err(_) => Err(ValueError::new("is not a number")),
                }
            }
        }
    )*};
}

floats!(f32, f64);

impl ConfigValue for bool {
    fn parse_value(raw: &str) -> Result<Self, ValueError> {
        const TRUE: [&str; 4] = ["true", "yes", "on", "1"];
        const FALSE: [&str; 4] = ["false", "no", "off", "0"];
        if TRUE.iter().any(|word| raw.eq_ignore_ascii_case(word)) {
            Ok(true)
        } else if FALSE.iter().any(|word| raw.eq_ignore_ascii_case(word)) {
            Ok(false)
        } else {
            Err(ValueError::new("is not a boolean"))
        }
    }
}

impl ConfigValue for String {
    fn parse_value(raw: &str) -> Result<Self, ValueError> {
        Ok(raw.to_owned())
    }
}

impl ConfigValue for Url {
    fn parse_value(raw: &str) -> Result<Self, ValueError> {
        // The url crate's messages ("relative URL without a base") never include the input.
        Url::parse(raw).map_err(|error| ValueError::new(format!("is not a URL ({error})")))
    }
}

impl ConfigValue for Duration {
    fn parse_value(raw: &str) -> Result<Self, ValueError> {
        parse_duration(raw).ok_or_else(|| ValueError::new("is not a duration"))
    }
}

/// Parses `250ms`, `2s`, `1m`, `1h30m`, `500us`, `10ns`: one or more integer-and-unit parts.
/// A bare number is refused on purpose, since `500` could mean seconds or milliseconds.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let mut rest = text.trim();
    if rest.is_empty() {
        return None;
    }
    let mut total = Duration::ZERO;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let (number, after) = rest.split_at(digits);
        let number: u64 = number.parse().ok()?;
        let unit_len = after.bytes().take_while(u8::is_ascii_alphabetic).count();
        let (unit, after) = after.split_at(unit_len);
        let part = match unit {
            "ns" => Duration::from_nanos(number),
            "us" | "µs" => Duration::from_micros(number),
            "ms" => Duration::from_millis(number),
            "s" => Duration::from_secs(number),
            "m" => Duration::from_secs(number.checked_mul(60)?),
            "h" => Duration::from_secs(number.checked_mul(3600)?),
            _ => return None,
        };
        total = total.checked_add(part)?;
        rest = after;
    }
    Some(total)
}

/// `duration` in the shortest form [`parse_duration`] reads back exactly (`2s`, `1m30s`).
pub fn format_duration(duration: Duration) -> String {
    if duration.is_zero() {
        return "0s".to_owned();
    }
    let mut out = String::new();
    let mut secs = duration.as_secs();
    let nanos = u64::from(duration.subsec_nanos());
    for (unit, size) in [("h", 3600), ("m", 60)] {
        if secs >= size {
            out.push_str(&format!("{}{unit}", secs / size));
            secs %= size;
        }
    }
    if secs > 0 {
        out.push_str(&format!("{secs}s"));
    }
    if nanos > 0 {
        let (value, unit) = match nanos {
            n if n % 1_000_000 == 0 => (n / 1_000_000, "ms"),
            n if n % 1_000 == 0 => (n / 1_000, "us"),
            n => (n, "ns"),
        };
        out.push_str(&format!("{value}{unit}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_are_strict() {
        assert_eq!(u64::parse_value("2000"), Ok(2000));
        assert_eq!(i32::parse_value("-5"), Ok(-5));
        for bad in ["2000abc", "1e3", "+-1", "", " 1", "1_000", "0x10"] {
            assert!(u64::parse_value(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn integer_overflow_says_out_of_range() {
        let error = u8::parse_value("256").err().map(|e| e.to_string());
        assert_eq!(error.as_deref(), Some("is out of range for u8"));
        assert!(i8::parse_value("-129").is_err());
        let error = u64::parse_value("-1").err().map(|e| e.to_string());
        assert_eq!(error.as_deref(), Some("is out of range for u64"));
        assert!(u64::parse_value("--1").is_err_and(|e| e.message() == "is not an integer"));
    }

    #[test]
    fn floats_must_be_finite() {
        assert_eq!(f64::parse_value("0.95"), Ok(0.95));
        for bad in ["NaN", "inf", "-inf", "1e400", "abc"] {
            assert!(f64::parse_value(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn booleans_accept_common_words_in_any_case() {
        for yes in ["true", "TRUE", "Yes", "on", "1"] {
            assert_eq!(bool::parse_value(yes), Ok(true), "{yes}");
        }
        for no in ["false", "No", "OFF", "0"] {
            assert_eq!(bool::parse_value(no), Ok(false), "{no}");
        }
        assert!(bool::parse_value("maybe").is_err());
    }

    #[test]
    fn durations_need_units_and_may_combine_them() {
        assert_eq!(parse_duration("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(parse_duration("2s"), Some(Duration::from_secs(2)));
        assert_eq!(parse_duration("1m"), Some(Duration::from_secs(60)));
        assert_eq!(parse_duration("1h30m"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_duration("10us"), Some(Duration::from_micros(10)));
        for bad in [
            "500",
            "ms",
            "1x",
            "-1s",
            "1.5s",
            "",
            "99999999999999999999h",
        ] {
            assert_eq!(parse_duration(bad), None, "{bad:?} should be refused");
        }
    }

    #[test]
    fn formatted_durations_read_back() {
        for d in [
            0, 1, 999, 1_000, 1_500, 60_000, 90_000, 3_600_000, 5_400_250,
        ] {
            let duration = Duration::from_millis(d);
            assert_eq!(
                parse_duration(&format_duration(duration)),
                Some(duration),
                "{d}ms"
            );
        }
        assert_eq!(format_duration(Duration::from_millis(2000)), "2s");
        assert_eq!(format_duration(Duration::from_millis(90_250)), "1m30s250ms");
    }

    #[test]
    fn urls_must_be_absolute() {
        assert!(Url::parse_value("https://mainnet.helius-rpc.com/?api-key=x").is_ok());
        let error = Url::parse_value("not-a-valid-url")
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            error.as_deref(),
            Some("is not a URL (relative URL without a base)")
        );
    }
}
