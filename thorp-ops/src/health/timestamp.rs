//! Report and alert times as RFC 3339 UTC text, through the crate's [`crate::time::rfc3339`].

pub(crate) use crate::time::{serialize, serialize_opt};

#[cfg(test)]
mod tests {
    use crate::time::rfc3339;
    use std::time::{Duration, UNIX_EPOCH};

    /// Reports are read across months and years: counting days forward month by month must
    /// agree with the formatter on every day of four centuries (leap rules included).
    #[test]
    fn every_day_of_four_centuries() {
        let mut days = 0u64;
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
                    let text = rfc3339(UNIX_EPOCH + Duration::from_secs(days * 86_400 + 86_399));
                    assert_eq!(text, format!("{year:04}-{month:02}-{day:02}T23:59:59.000Z"));
                    days += 1;
                }
            }
        }
    }
}
