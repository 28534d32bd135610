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
