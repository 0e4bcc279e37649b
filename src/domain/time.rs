//! Instants as integers ([`Stamp`]), and RFC 3339 text.
//!
//! A window's test is two integer comparisons; a date's arithmetic happens once a day
//! ([`Stamps`]), not once an instant.

use std::num::NonZeroU64;

use chrono::{DateTime, NaiveDate, NaiveTime, Timelike, Utc};

const HOUR: i64 = 3_600_000_000_000;
/// The length of the CSW, of an entry point's use, and of a conversation, in nanoseconds.
pub(crate) const DAY: i64 = 24 * HOUR;

/// An instant to the nanosecond, as an integer: nanoseconds since 1970-01-01T00:00:00Z, which
/// reaches from 1677-09-21 to 2262-04-11 ([`Stamp::of`]). 8 bytes, and so is an
/// `Option<Stamp>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Stamp(NonZeroU64);

/// Stored with the sign bit flipped: ordered like the nanoseconds, and zero only for the
/// earliest one (never a stamp).
const FLIP: u64 = 1 << 63;

/// [`Stamp::of`] for instants that mostly fall on the day of the one before: that day's
/// midnight is kept, so that a date's arithmetic happens once a day, not once an instant.
#[derive(Debug, Default)]
pub(crate) struct Stamps {
    /// The last date met whose every instant (leap second included) is within range, and its
    /// midnight in nanoseconds.
    day: Option<(NaiveDate, i64)>,
}

impl Stamps {
    pub(crate) fn of(&mut self, t: DateTime<Utc>) -> Option<Stamp> {
        // The UTC fields themselves (`date_naive` and `time` would add a zero offset).
        let (date, time) = (t.naive_utc().date(), t.naive_utc().time());
        let midnight = match self.day {
            Some((d, midnight)) if d == date => midnight,
            _ => {
                let midnight = date.and_time(NaiveTime::MIN).and_utc().timestamp_nanos_opt();
                // The range's first and last days are left to chrono.
                match midnight.filter(|m| m.checked_add(86_401 * 1_000_000_000).is_some()) {
                    Some(m) => self.day.insert((date, m)).1,
                    None => return Stamp::of(t),
                }
            }
        };
        // A leap second's nanoseconds run past a billion, as in chrono's own count.
        Stamp::of_nanos(
            midnight
                + i64::from(time.num_seconds_from_midnight()) * 1_000_000_000
                + i64::from(time.nanosecond()),
        )
    }
}

impl Stamp {
    /// The stamp of `t`, if within range.
    pub fn of(t: DateTime<Utc>) -> Option<Stamp> {
        Stamp::of_nanos(t.timestamp_nanos_opt()?)
    }

    pub(crate) fn of_nanos(nanos: i64) -> Option<Stamp> {
        NonZeroU64::new(nanos as u64 ^ FLIP).map(Stamp)
    }

    /// The instant itself.
    pub fn time(self) -> DateTime<Utc> {
        DateTime::from_timestamp_nanos(self.nanos())
    }

    pub fn nanos(self) -> i64 {
        (self.0.get() ^ FLIP) as i64
    }

    /// Whole seconds since 1970 (rounded down, like [`DateTime::timestamp`]).
    pub(crate) fn seconds(self) -> i64 {
        self.nanos().div_euclid(1_000_000_000)
    }

    /// The end of a window of `length` nanoseconds opened at this instant (the latest stamp
    /// at most: a window that ends after 2262 ends then).
    pub(crate) fn plus(self, length: i64) -> i64 {
        self.nanos().saturating_add(length)
    }

    /// The instant 24 hours before, in nanoseconds: a window opened then or earlier that lasts
    /// a day has closed.
    pub(crate) fn day_before(self) -> i64 {
        self.nanos().saturating_sub(DAY)
    }

    /// Whether a window of `length` opened at this instant contains `t`.
    pub(crate) fn holds(self, length: i64, t: Stamp) -> bool {
        self <= t && t.nanos() < self.plus(length)
    }
}

/// An instant as RFC 3339 in UTC, e.g. `2025-07-01T09:30:00Z`.
pub(crate) fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

/// [`rfc3339`] of an instant on a whole second (as Meta's and most logs' are), written into
/// `buf` without an allocation; `None` for another instant, or a year outside 0 to 9999.
pub(crate) fn rfc3339_seconds(t: DateTime<Utc>, buf: &mut [u8; 20]) -> Option<&str> {
    use chrono::Datelike;
    let (date, time) = (t.naive_utc().date(), t.naive_utc().time());
    if time.nanosecond() != 0 || !(0..=9999).contains(&date.year()) {
        return None;
    }
    let second = time.num_seconds_from_midnight();
    let year = date.year() as u32;
    let fields = [
        (0, 4, year),
        (5, 2, date.month()),
        (8, 2, date.day()),
        (11, 2, second / 3600),
        (14, 2, second / 60 % 60),
        (17, 2, second % 60),
    ];
    *buf = *b"0000-00-00T00:00:00Z";
    for (at, width, mut n) in fields {
        for digit in buf[at..at + width].iter_mut().rev() {
            *digit = b'0' + (n % 10) as u8;
            n /= 10;
        }
    }
    Some(std::str::from_utf8(buf).expect("ASCII digits"))
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// Stamps made with the day kept are chrono's, across the whole range and its edges,
        /// leap seconds included, whether the day before was the same or not.
        #[test]
        fn stamps_of_a_kept_day_are_chronos(
            instants in proptest::collection::vec((-106_751i64..106_752, 0u32..86_400, 0u32..2_000_000_000), 1..20),
        ) {
            let mut stamps = Stamps::default();
            for (day, second, nanos) in instants {
                // Two instants of each day, the second maybe a leap second's.
                for (second, nanos) in [(second, nanos % 1_000_000_000), (86_399, nanos)] {
                    let date = NaiveDate::from_num_days_from_ce_opt(719_163 + day as i32).unwrap();
                    let Some(time) = NaiveTime::from_num_seconds_from_midnight_opt(second, nanos) else { continue };
                    let t = date.and_time(time).and_utc();
                    proptest::prop_assert_eq!(stamps.of(t), Stamp::of(t), "{}", t);
                }
            }
        }
    }

    proptest::proptest! {
        /// Whole seconds written without chrono are chrono's text, from year 0 to 9999.
        #[test]
        fn whole_seconds_are_written_as_chrono_writes_them(
            seconds in -62_167_219_200i64..253_402_300_800,
            nanos in proptest::prop_oneof![proptest::strategy::Just(0u32), 0u32..1_000_000_000],
        ) {
            let t = DateTime::from_timestamp(seconds, nanos).unwrap();
            let mut buf = [0; 20];
            let written = rfc3339_seconds(t, &mut buf).map(str::to_string);
            proptest::prop_assert_eq!(written, (nanos == 0).then(|| rfc3339(t)));
        }
    }

    #[test]
    fn stamps_are_ordered_like_instants_and_optional_for_free() {
        let t = |s: &str| Stamp::of(s.parse().unwrap());
        assert!(t("1969-12-31T23:59:59.999999999Z") < t("1970-01-01T00:00:00Z"));
        assert!(t("1970-01-01T00:00:00Z") < t("2025-07-01T09:00:00.000000001Z"));
        assert_eq!(t("1677-09-20T00:00:00Z"), None);
        assert_eq!(t("2262-04-12T00:00:00Z"), None);
        assert_eq!(std::mem::size_of::<Option<Stamp>>(), 8);
    }
}
