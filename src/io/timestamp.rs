use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

use crate::domain::error::Problem;

/// What the timestamp parsed last had: its date as written (`YYYY-MM-DD`) with its day
/// number, and its UTC day with that day's date. Most rows of a sorted log fall on the day of
/// the row before, and these are the dearest steps of parsing a timestamp. Busy logs have
/// several rows a second: the whole text and its instant are kept too (when 16 to 32 bytes
/// long, compared as two overlapping 16-byte words).
#[derive(Debug)]
pub(super) struct LastDay {
    pub(super) written: Option<([u8; 10], i64)>,
    pub(super) utc: Option<(i64, NaiveDate)>,
    /// The last text of 16 to 32 bytes as [`LastDay::words`] gives it (length 0 for none),
    /// and its instant.
    pub(super) text: (usize, [u128; 2]),
    pub(super) instant: DateTime<Utc>,
}

impl Default for LastDay {
    fn default() -> LastDay {
        LastDay { written: None, utc: None, text: (0, [0; 2]), instant: DateTime::<Utc>::MIN_UTC }
    }
}

impl LastDay {
    /// A timestamp's text as its length and two words (its first and last 16 bytes) when it
    /// has 16 to 32 bytes; else length 0.
    #[inline]
    pub(super) fn words(s: &[u8]) -> (usize, [u128; 2]) {
        match (s.first_chunk::<16>(), s.last_chunk::<16>()) {
            (Some(first), Some(last)) if s.len() <= 32 => {
                (s.len(), [u128::from_le_bytes(*first), u128::from_le_bytes(*last)])
            }
            _ => (0, [0; 2]),
        }
    }
}

/// Parses an RFC 3339 timestamp (one without an offset is read in `naive_zone` when given),
/// with the day of the timestamp parsed before.
pub(super) fn parse_timestamp_after(
    s: &str,
    naive_zone: Option<Tz>,
    last: &mut LastDay,
) -> Result<DateTime<Utc>, Problem> {
    if let Some(dt) = fast_rfc3339(s.as_bytes(), last) {
        return Ok(dt);
    }
    let t = s.trim();
    let parsed = parse_slow(t, s, naive_zone)?;
    // Within what the engine's instants hold (1677-09-21 to 2262-04-11).
    if !(FIRST_YEAR..=LAST_YEAR).contains(&parsed.year()) {
        return Err(Problem::column("timestamp", "out of range (years 1900 to 2261)", s));
    }
    Ok(parsed)
}

/// chrono's RFC 3339 parser, then the forms without an offset.
pub(super) fn parse_slow(t: &str, s: &str, naive_zone: Option<Tz>) -> Result<DateTime<Utc>, Problem> {
    if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
        return Ok(dt.with_timezone(&Utc));
    }
    let naive = ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(t, f).ok());
    match (naive, naive_zone) {
        (None, _) => Err(Problem::column("timestamp", "not an RFC 3339 timestamp", s)),
        (Some(_), None) => Err(Problem::column(
            "timestamp",
            "has no UTC offset (add one, e.g. Z or +02:00, or give the zone of such values with \
             --naive-zone, e.g. --naive-zone Europe/Paris)",
            s,
        )),
        (Some(n), Some(zone)) => match zone.from_local_datetime(&n) {
            chrono::LocalResult::Single(dt) => Ok(dt.with_timezone(&Utc)),
            chrono::LocalResult::Ambiguous(..) => {
                Err(Problem::column("timestamp", format!("is ambiguous in {zone} (a clock change)"), s))
            }
            chrono::LocalResult::None => {
                Err(Problem::column("timestamp", format!("does not exist in {zone} (a clock change)"), s))
            }
        },
    }
}

/// The common shape `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` without chrono's general
/// parser; `None` for anything else (which then goes through chrono, errors included).
pub(super) fn fast_rfc3339(s: &[u8], last: &mut LastDay) -> Option<DateTime<Utc>> {
    let words = LastDay::words(s);
    if words.0 != 0 && words == last.text {
        return Some(last.instant);
    }
    let t = fast_rfc3339_new(s, last)?;
    (last.text, last.instant) = (words, t);
    Some(t)
}

/// [`fast_rfc3339`] for a text other than the last one.
pub(super) fn fast_rfc3339_new(s: &[u8], last: &mut LastDay) -> Option<DateTime<Utc>> {
    let digit = |i: usize| s.get(i).and_then(|c| c.checked_sub(b'0')).filter(|d| *d < 10).map(i64::from);
    let two = |i: usize| Some(digit(i)? * 10 + digit(i + 1)?);
    let written: [u8; 10] = s.get(..10)?.try_into().ok()?;
    let days = match last.written {
        Some((w, days)) if w == written => days,
        _ => {
            let days = civil_days(&written)?;
            last.written = Some((written, days));
            days
        }
    };
    let separators = [(13, b':'), (16, b':')];
    if separators.iter().any(|&(i, c)| s.get(i) != Some(&c)) || !matches!(s.get(10), Some(b'T' | b't' | b' '))
    {
        return None;
    }
    let (hour, minute, second) = (two(11)?, two(14)?, two(17)?);
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let mut i = 19;
    let mut nanos = 0u32;
    if s.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while let Some(d) = digit(i) {
            if i - start < 9 {
                nanos = nanos * 10 + d as u32;
            }
            i += 1;
        }
        if i == start {
            return None;
        }
        nanos *= 10u32.pow(9u32.saturating_sub((i - start) as u32));
    }
    let offset = match s.get(i)? {
        b'Z' | b'z' if s.len() == i + 1 => 0,
        &sign @ (b'+' | b'-') if s.len() == i + 6 && s[i + 3] == b':' => {
            let (h, m) = (two(i + 1)?, two(i + 4)?);
            if h > 23 || m > 59 {
                return None;
            }
            if sign == b'-' {
                -(h * 3600 + m * 60)
            } else {
                h * 3600 + m * 60
            }
        }
        _ => return None,
    };
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset;
    let (day, of_day) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    let date = match last.utc {
        Some((d, date)) if d == day => date,
        _ => {
            let date = DateTime::from_timestamp(day * 86_400, 0)?.date_naive();
            last.utc = Some((day, date));
            date
        }
    };
    let time = NaiveTime::from_num_seconds_from_midnight_opt(of_day as u32, nanos)?;
    Some(NaiveDateTime::new(date, time).and_utc())
}

/// The years a log's timestamps may fall in.
pub(super) const FIRST_YEAR: i32 = 1900;
pub(super) const LAST_YEAR: i32 = 2261;

/// Days from 1970-01-01 to a date written `YYYY-MM-DD` (years 1900 to 2261), if it is one
/// (Howard Hinnant's algorithm).
pub(super) fn civil_days(s: &[u8; 10]) -> Option<i64> {
    let digit = |i: usize| s[i].checked_sub(b'0').filter(|d| *d < 10).map(i64::from);
    let two = |i: usize| Some(digit(i)? * 10 + digit(i + 1)?);
    let (year, month, day) = (two(0)? * 100 + two(2)?, two(5)?, two(8)?);
    if !(i64::from(FIRST_YEAR)..=i64::from(LAST_YEAR)).contains(&year) || s[4] != b'-' || s[7] != b'-' {
        return None;
    }
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let month_days = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    if !(1..=12).contains(&month) || day < 1 || day > month_days[(month - 1) as usize] {
        return None;
    }
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_timestamp(s: &str, naive_zone: Option<Tz>) -> Result<DateTime<Utc>, Problem> {
        parse_timestamp_after(s, naive_zone, &mut LastDay::default())
    }
    use proptest::prelude::any;

    proptest::proptest! {
        #[test]
        fn the_fast_path_agrees_with_chrono(
            y in 1900i64..2200, mo in 1u32..=12, d in 1u32..=31, h in 0u32..24, mi in 0u32..60, se in 0u32..60,
            frac in proptest::option::of("[0-9]{1,12}"), off in proptest::option::of((any::<bool>(), 0u32..24, 0u32..60)),
        ) {
            let mut text = format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{se:02}");
            if let Some(f) = frac {
                text.push('.');
                text.push_str(&f);
            }
            match off {
                None => text.push('Z'),
                Some((neg, oh, om)) => text.push_str(&format!("{}{oh:02}:{om:02}", if neg { '-' } else { '+' })),
            }
            let chrono = DateTime::parse_from_rfc3339(&text).ok().map(|t| t.with_timezone(&Utc));
            // With no day known, with another day's, and with its own.
            let mut last = LastDay::default();
            proptest::prop_assert_eq!(fast_rfc3339(text.as_bytes(), &mut last), chrono, "{}", text);
            let mut other = LastDay::default();
            fast_rfc3339(b"2000-02-29T12:00:00Z", &mut other).unwrap();
            proptest::prop_assert_eq!(fast_rfc3339(text.as_bytes(), &mut other), chrono, "{}", text);
            proptest::prop_assert_eq!(fast_rfc3339(text.as_bytes(), &mut last), chrono, "{}", text);
        }
    }

    #[test]
    fn timestamps_in_a_row_reuse_days_only_when_they_match() {
        // One cache across rows whose written date and UTC day part ways (docs/rules.md §2: any offset).
        let rows = [
            "2025-07-01T23:30:00-02:00",
            "2025-07-01T23:40:00Z",
            "2025-07-02T00:10:00+01:00",
            "2025-07-02T01:30:00Z",
            "2025-02-29T00:00:00Z",
            "2025-02-28T12:00:00+14:00",
            "2024-12-31T23:59:59.999999999-00:30",
            "2025-01-01T00:00:00+00:30",
        ];
        let mut last = LastDay::default();
        for text in rows {
            let chrono = DateTime::parse_from_rfc3339(text).ok().map(|t| t.with_timezone(&Utc));
            assert_eq!(fast_rfc3339(text.as_bytes(), &mut last), chrono, "{text}");
            // Again (the whole text kept), and then texts that differ from it in one byte at
            // either end, or are one byte shorter or longer.
            assert_eq!(fast_rfc3339(text.as_bytes(), &mut last), chrono, "{text} again");
            let mut start = text.to_string();
            start.replace_range(2..3, if &text[2..3] == "1" { "2" } else { "1" });
            let shorter = &text[..text.len() - 1];
            let longer = format!("{}.5{}", &text[..19], &text[19..]);
            for other in [start.as_str(), shorter, &longer, text] {
                let chrono = DateTime::parse_from_rfc3339(other).ok().map(|t| t.with_timezone(&Utc));
                assert_eq!(fast_rfc3339(other.as_bytes(), &mut last), chrono, "{other} after {text}");
            }
        }
    }

    #[test]
    fn timestamps_need_an_offset_or_a_zone() {
        let t = parse_timestamp("2025-07-01T11:30:00+02:00", None).unwrap();
        assert_eq!(t, parse_timestamp("2025-07-01T09:30:00Z", None).unwrap());
        assert!(parse_timestamp("2025-07-01T09:30:00.250Z", None).is_ok());
        assert_eq!(
            parse_timestamp("2025-07-01T09:30:00", None).unwrap_err().to_string(),
            "timestamp: has no UTC offset (add one, e.g. Z or +02:00, or give the zone of such values with \
             --naive-zone, e.g. --naive-zone Europe/Paris) (2025-07-01T09:30:00)"
        );
        let paris = Some(chrono_tz::Europe::Paris);
        assert_eq!(parse_timestamp("2025-07-01T11:30:00", paris).unwrap(), t);
        assert_eq!(
            parse_timestamp("2025-03-30T02:30:00", paris).unwrap_err().to_string(),
            "timestamp: does not exist in Europe/Paris (a clock change) (2025-03-30T02:30:00)"
        );
        assert_eq!(
            parse_timestamp("yesterday", None).unwrap_err().to_string(),
            "timestamp: not an RFC 3339 timestamp (yesterday)"
        );
    }

    #[test]
    fn timestamps_outside_1900_to_2261_are_refused() {
        assert!(parse_timestamp("2261-12-31T23:59:59Z", None).is_ok());
        for t in ["2262-01-01T00:00:00Z", "1899-12-31T23:59:59Z"] {
            assert_eq!(
                parse_timestamp(t, None).unwrap_err().to_string(),
                format!("timestamp: out of range (years 1900 to 2261) ({t})")
            );
        }
    }
}
