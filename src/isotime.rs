//! ISO 8601 dates and date-times as the exports write them (`YYYY-MM-DD`, optionally `T` or a
//! space and `HH:MM[:SS[.fraction]]`, optionally `Z` or an offset). A leaf module: ingest reads
//! times with it and the rules flag a `collected_at` it cannot read. Arithmetic is checked, so
//! no input can overflow it.

/// Days since 1970-01-01 of an ISO date (`YYYY-MM-DD`, optionally followed by a time, which
/// is not checked here).
pub fn iso_days(raw: &str) -> Option<i64> {
    let t = raw.trim();
    let date = t.get(..10)?;
    let rest = &t[10..];
    if !(rest.is_empty() || rest.starts_with(['T', ' ', 't'])) {
        return None;
    }
    let b = date.as_bytes();
    if b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let y: i64 = digits(&date[0..4])?;
    let m: i64 = digits(&date[5..7])?;
    let d: i64 = digits(&date[8..10])?;
    if !(1..=12).contains(&m) || !(1..=days_in_month(y, m)).contains(&d) {
        return None;
    }
    // Days from civil (Howard Hinnant's algorithm); y has four digits, so nothing overflows.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

/// Seconds since 1970-01-01T00:00 of an ISO date or date-time. A zone suffix is read and
/// ignored (collection times of one lab share a zone); anything else after the date makes it
/// unreadable (`None`).
pub fn iso_seconds(raw: &str) -> Option<i64> {
    let t = raw.trim();
    let days = iso_days(t)?;
    let time = t.get(11..).unwrap_or("");
    if t.len() > 10 && time.is_empty() {
        return None;
    }
    let secs = if time.is_empty() {
        0
    } else {
        time_of_day(time)?
    };
    days.checked_mul(86_400)?.checked_add(secs)
}

/// A collection time as an instant: microseconds since 1970-01-01T00:00 (naive, as the export
/// wrote it, or converted to UTC when it carries `Z` or an offset) and the offset in minutes
/// that was applied (`Some(0)` for `Z`, None when the value has no zone).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timestamp {
    pub micros: i64,
    pub offset_minutes: Option<i64>,
}

/// Reads an ISO date or date-time as a [`Timestamp`]; a fraction of a second is kept to the
/// microsecond (further digits are truncated). None when [`iso_seconds`] cannot read it.
pub fn iso_timestamp(raw: &str) -> Option<Timestamp> {
    let t = raw.trim();
    let seconds = iso_seconds(t)?;
    let time = t.get(11..).unwrap_or("");
    let (clock, zone) = match time.find(['Z', 'z', '+', '-']) {
        Some(i) => (&time[..i], &time[i..]),
        None => (time, ""),
    };
    let micros_of_second = match clock.split_once(['.', ',']) {
        Some((_, f)) => {
            let digits: String = f.chars().take(6).collect();
            let scale = 10_i64.pow(6 - digits.len() as u32);
            digits.parse::<i64>().ok()?.checked_mul(scale)?
        }
        None => 0,
    };
    let offset_minutes = match zone.as_bytes() {
        [] => None,
        [b'Z' | b'z'] => Some(0),
        [sign, ..] => {
            let digits: Vec<i64> = zone[1..]
                .bytes()
                .filter(u8::is_ascii_digit)
                .map(|b| i64::from(b - b'0'))
                .collect();
            let (h, m) = match digits.as_slice() {
                [h1, h2] => (h1 * 10 + h2, 0),
                [h1, h2, m1, m2] => (h1 * 10 + h2, m1 * 10 + m2),
                _ => return None,
            };
            let minutes = h * 60 + m;
            Some(if *sign == b'-' { -minutes } else { minutes })
        }
    };
    let utc_seconds = seconds.checked_sub(offset_minutes.unwrap_or(0).checked_mul(60)?)?;
    let micros = utc_seconds
        .checked_mul(1_000_000)?
        .checked_add(micros_of_second)?;
    Some(Timestamp {
        micros,
        offset_minutes,
    })
}

/// Renders microseconds since 1970-01-01 as `YYYY-MM-DDTHH:MM:SS`, with `.ffffff` only when
/// the value has a fraction of a second.
pub fn render_micros(micros: i64) -> String {
    let seconds = micros.div_euclid(1_000_000);
    let fraction = micros.rem_euclid(1_000_000);
    let days = seconds.div_euclid(86_400);
    let secs = seconds.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let mut s = format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    );
    if fraction != 0 {
        s.push_str(&format!(".{fraction:06}"));
    }
    s
}

/// Year, month and day of a count of days since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// `HH:MM[:SS[.fraction]][Z|±HH[:]MM]` as seconds into the day.
fn time_of_day(time: &str) -> Option<i64> {
    let (clock, zone) = match time.find(['Z', 'z', '+', '-']) {
        Some(i) => (&time[..i], &time[i..]),
        None => (time, ""),
    };
    if !zone_ok(zone) {
        return None;
    }
    let (hms, fraction) = match clock.split_once(['.', ',']) {
        Some((hms, f)) => (hms, Some(f)),
        None => (clock, None),
    };
    if fraction.is_some_and(|f| f.is_empty() || !f.bytes().all(|c| c.is_ascii_digit())) {
        return None;
    }
    let mut parts = hms.split(':');
    let h: i64 = two_digits(parts.next()?)?;
    let m: i64 = two_digits(parts.next()?)?;
    let s: i64 = match parts.next() {
        Some(p) => two_digits(p)?,
        None if fraction.is_none() => 0,
        None => return None,
    };
    if parts.next().is_some() || h > 23 || m > 59 || s > 60 {
        return None;
    }
    Some(h * 3600 + m * 60 + s)
}

fn zone_ok(zone: &str) -> bool {
    match zone.as_bytes() {
        [] | [b'Z' | b'z'] => true,
        [b'+' | b'-', rest @ ..] => {
            let digits: Vec<u8> = rest.iter().copied().filter(|c| *c != b':').collect();
            matches!(rest.len(), 2 | 4 | 5)
                && matches!(digits.len(), 2 | 4)
                && digits.iter().all(u8::is_ascii_digit)
        }
        _ => false,
    }
}

fn digits(s: &str) -> Option<i64> {
    if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn two_digits(s: &str) -> Option<i64> {
    if s.len() != 2 {
        return None;
    }
    digits(s)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if y % 4 == 0 && (y % 100 != 0 || y % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(iso_days("1970-01-01"), Some(0));
        assert_eq!(iso_days("2000-03-01T10:00:00"), Some(11_017));
        assert_eq!(iso_days("2000-13-01"), None);
        assert_eq!(iso_days("2001-02-29"), None);
        assert_eq!(iso_days("2000-02-29"), Some(11_016));
        assert_eq!(iso_days("01/02/2000"), None);
        assert_eq!(iso_days("2000-1-011"), None);
    }

    #[test]
    fn timestamps() {
        let t = |s| iso_timestamp(s).map(|t| (render_micros(t.micros), t.offset_minutes));
        assert_eq!(t("2026-03-01"), Some(("2026-03-01T00:00:00".into(), None)));
        assert_eq!(
            t("2026-03-01T01:30+02:00"),
            Some(("2026-02-28T23:30:00".into(), Some(120)))
        );
        assert_eq!(
            t("2024-02-29 23:59:59.5-0030"),
            Some(("2024-03-01T00:29:59.500000".into(), Some(-30)))
        );
        assert_eq!(
            t("1969-12-31T23:59:59.1234567Z"),
            Some(("1969-12-31T23:59:59.123456".into(), Some(0)))
        );
        assert_eq!(t("2026-02-30"), None);
        for days in [-100_000, -1, 0, 59, 11_016, 2_000_000] {
            let micros = days * 86_400_000_000;
            let text = render_micros(micros);
            assert_eq!(
                iso_timestamp(&text).map(|t| t.micros),
                Some(micros),
                "{text}"
            );
        }
    }

    #[test]
    fn date_times() {
        assert_eq!(iso_seconds("1970-01-02"), Some(86_400));
        assert_eq!(iso_seconds("1970-01-01T01:02:03"), Some(3723));
        assert_eq!(iso_seconds("1970-01-01 01:02"), Some(3720));
        assert_eq!(iso_seconds("1970-01-01T01:02:03.250Z"), Some(3723));
        assert_eq!(iso_seconds("1970-01-01T01:02:03+02:00"), Some(3723));
        assert_eq!(iso_seconds("1970-01-01T01:02:03-0500"), Some(3723));
        for bad in [
            "2026-01-01T99999999999999999",
            "2026-01-01T25:00",
            "2026-01-01T12",
            "2026-01-01T",
            "2026-01-01T12:00:00+5",
            "2026-01-01 noon",
            "yesterday",
            "",
        ] {
            assert_eq!(iso_seconds(bad), None, "{bad}");
        }
    }
}
