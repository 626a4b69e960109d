//! Wall-clock timestamps as RFC 3339 UTC text, the way reports and alerts print them.
//!
//! Twenty lines of calendar arithmetic instead of a date crate: reports only ever need
//! "now, in UTC, to the millisecond" (the seed's `toISOString()` shape), never parsing, time
//! zones or leap-second tables, so a dependency would buy nothing but compile time.

use serde::Serializer;
use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

/// Displays a [`SystemTime`] as RFC 3339 in UTC with milliseconds: `2024-05-01T12:34:56.789Z`.
///
/// Times before the Unix epoch print as the epoch; a service's clock is never there.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use thorp_ops::health::Rfc3339;
///
/// let t = UNIX_EPOCH + Duration::from_millis(1_714_566_896_789);
/// assert_eq!(Rfc3339(t).to_string(), "2024-05-01T12:34:56.789Z");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rfc3339(pub SystemTime);

impl fmt::Display for Rfc3339 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let since = self.0.duration_since(UNIX_EPOCH).unwrap_or_default();
        let secs = since.as_secs();
        let days = secs / 86_400;
        let rem = secs % 86_400;
        let (year, month, day) = civil_from_days(days);
        write!(
            f,
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
            rem / 3600,
            rem % 3600 / 60,
            rem % 60,
            since.subsec_millis()
        )
    }
}

/// Days since 1970-01-01 to a proleptic Gregorian (year, month, day); H. Hinnant's algorithm,
/// restricted to days on or after the epoch so it stays in unsigned arithmetic.
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

/// `serialize_with` helper: a `SystemTime` as an RFC 3339 string.
pub(crate) fn serialize<S: Serializer>(
    time: &SystemTime,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_str(&Rfc3339(*time))
}

/// `serialize_with` helper for optional times: `null` when absent.
pub(crate) fn serialize_opt<S: Serializer>(
    time: &Option<SystemTime>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match time {
        Some(time) => serializer.collect_str(&Rfc3339(*time)),
        None => serializer.serialize_none(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test, with its message
mod tests {
    use super::*;
    use std::time::Duration;

    fn at(secs: u64, millis: u64) -> String {
        Rfc3339(UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_millis(millis)).to_string()
    }

    #[test]
    fn epoch_and_known_instants() {
        assert_eq!(at(0, 0), "1970-01-01T00:00:00.000Z");
        // 2000-02-29: a leap day in a century divisible by 400.
        assert_eq!(at(951_782_400, 5), "2000-02-29T00:00:00.005Z");
        // 2100-03-01: 2100 is not a leap year, so the day after 02-28 is 03-01.
        assert_eq!(at(4_107_456_000, 0), "2100-02-28T00:00:00.000Z");
        assert_eq!(at(4_107_542_400, 0), "2100-03-01T00:00:00.000Z");
        assert_eq!(at(1_735_689_599, 999), "2024-12-31T23:59:59.999Z");
    }

    #[test]
    fn before_the_epoch_prints_the_epoch() {
        let before = UNIX_EPOCH - Duration::from_secs(10);
        assert_eq!(Rfc3339(before).to_string(), "1970-01-01T00:00:00.000Z");
    }

    #[test]
    fn every_day_of_four_centuries_round_trips_through_the_calendar() {
        // Counting days forward month by month must agree with the closed form everywhere.
        let mut days = 0;
        for year in 1970..2370u64 {
            let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
            for month in 1..=12u64 {
                let len = match month {
                    2 if leap => 29,
                    2 => 28,
                    4 | 6 | 9 | 11 => 30,
                    _ => 31,
                };
                for day in 1..=len {
                    assert_eq!(civil_from_days(days), (year, month, day));
                    days += 1;
                }
            }
        }
    }
}
