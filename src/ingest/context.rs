//! Parsing of identity and context cells (sex, age, pregnancy, smoking, back pain, codes),
//! and the one reader that fills a panel's context from them for both layouts.

use crate::cell::{is_one_of, parse_number, trim, DecimalMark};
use crate::ingest::header::Column;
use crate::panel::{BackPain, Panel, Pregnancy, Sex};
use crate::vocab::{Condition, Medication};

pub fn sex(raw: &str) -> Sex {
    let t = trim(raw);
    if is_one_of(t, &["f", "female"]) {
        Sex::Female
    } else if is_one_of(t, &["m", "male"]) {
        Sex::Male
    } else {
        Sex::Unknown
    }
}

/// The `pregnant` cell. Blank and `no` are not pregnant; a trimester may be written `2`,
/// `2.0` (a spreadsheet's number) or `T2`. Any other value is [`Pregnancy::Unreadable`]:
/// reading it as "not pregnant" would silently drop the pregnancy cautions.
pub fn pregnancy(raw: &str) -> Pregnancy {
    let v = raw.trim().to_ascii_lowercase();
    let v = v.strip_prefix('t').filter(|d| d.len() == 1).unwrap_or(&v);
    match v {
        "" | "no" | "n" | "false" | "0" => return Pregnancy::No,
        "yes" | "y" | "true" => return Pregnancy::TrimesterUnknown,
        _ => {}
    }
    let whole = parse_number(v, DecimalMark::Point)
        .filter(|n| n.fract() == 0.0 && (0.0..=3.0).contains(n))
        .map(|n| n as u8);
    match whole {
        Some(0) => Pregnancy::No,
        Some(1) => Pregnancy::Trimester1,
        Some(2) => Pregnancy::Trimester2,
        Some(3) => Pregnancy::Trimester3,
        _ => Pregnancy::Unreadable,
    }
}

pub fn yes_no(raw: &str) -> Option<bool> {
    let t = trim(raw);
    if is_one_of(t, &["yes", "y", "true", "1"]) {
        Some(true)
    } else if is_one_of(t, &["no", "n", "false", "0"]) {
        Some(false)
    } else {
        None
    }
}

pub fn back_pain(raw: &str) -> BackPain {
    let t = trim(raw);
    if is_one_of(t, &["no", "n", "none", "false", "0"]) {
        BackPain::No
    } else if is_one_of(t, &["yes", "y", "true", "1"]) {
        BackPain::Yes
    } else if t.eq_ignore_ascii_case("acute") {
        BackPain::Acute
    } else if t.eq_ignore_ascii_case("chronic") {
        BackPain::Chronic
    } else {
        BackPain::Unknown
    }
}

/// Splits a `;`- or `|`-separated code list into known codes and unknown ones.
pub fn codes<T>(
    raw: &str,
    lookup: fn(&str) -> Option<T>,
    known: &mut Vec<T>,
    unknown: &mut Vec<String>,
) where
    T: PartialEq,
{
    for part in raw.split([';', '|']) {
        let code = part.trim().to_ascii_lowercase();
        if code.is_empty() {
            continue;
        }
        match lookup(&code) {
            Some(c) if !known.contains(&c) => known.push(c),
            Some(_) => {}
            None => unknown.push(code),
        }
    }
}

pub fn conditions(raw: &str, known: &mut Vec<Condition>, unknown: &mut Vec<String>) {
    codes(raw, Condition::from_code, known, unknown);
}

pub fn medications(raw: &str, known: &mut Vec<Medication>, unknown: &mut Vec<String>) {
    codes(raw, Medication::from_code, known, unknown);
}

use crate::isotime::iso_days;

/// Age in years from a birth date and the collection date.
pub fn age_from_dates(birth: &str, collected: &str) -> Option<f64> {
    let days = iso_days(collected)? - iso_days(birth)?;
    Some(days as f64 / 365.25)
}

/// Resolves the age used by the rules: a valid `age_years`, else one derived from
/// `birth_date` and `collected_at`; ages outside `[0, max]` count as missing.
pub fn age(
    age_raw: Option<&str>,
    birth: Option<&str>,
    collected: Option<&str>,
    max: f64,
    mark: DecimalMark,
) -> (Option<f64>, Option<String>) {
    let mut note = None;
    if let Some(raw) = age_raw.filter(|r| !r.trim().is_empty()) {
        match parse_number(raw, mark) {
            Some(a) if (0.0..=max).contains(&a) => return (Some(a), None),
            _ => {
                note = Some(format!(
                    "age_years {:?} is not an age between 0 and {max}; treated as missing",
                    raw.trim()
                ))
            }
        }
    }
    if let (Some(b), Some(c)) = (birth, collected) {
        if !b.trim().is_empty() {
            match age_from_dates(b, c) {
                Some(a) if (0.0..=max).contains(&a) => {
                    return (
                        Some(a),
                        Some(format!(
                            "age derived from birth_date {} and collected_at {}",
                            b.trim(),
                            c.trim()
                        )),
                    );
                }
                _ => {
                    note = Some(format!(
                    "birth_date {:?} with collected_at {:?} gives no valid age; treated as missing",
                    b.trim(),
                    c.trim()
                ))
                }
            }
        }
    }
    (None, note)
}

/// How a layout reads the context of one panel.
pub(crate) struct ContextSource {
    /// Upper bound of a valid age (ruleset `age_valid_max_years`).
    pub max_age: f64,
    pub mark: DecimalMark,
    /// Whether an age may be derived from `birth_date` when `collected_at` is blank. The wide
    /// layout derives one only when the export has a `collected_at` column; the long layout
    /// always tries (a blank collection date then yields the "no valid age" note).
    pub collection_date_column: bool,
}

impl ContextSource {
    /// Fills the context fields of `panel`. `cell` gives a column's trimmed, non-blank value
    /// for this panel, or None.
    pub(crate) fn read_into<'a>(
        &self,
        panel: &mut Panel,
        cell: impl Fn(&Column) -> Option<&'a str>,
    ) {
        panel.set_collected_at(cell(&Column::CollectedAt).unwrap_or(""));
        panel.analyzer_id = cell(&Column::AnalyzerId).unwrap_or("").to_string();
        panel.site = cell(&Column::Site).unwrap_or("").to_string();
        panel.sex_raw = cell(&Column::Sex).unwrap_or("").to_string();
        panel.sex = sex(&panel.sex_raw);
        let (age_years, note) = age(
            cell(&Column::AgeYears),
            cell(&Column::BirthDate),
            self.collection_date_column
                .then_some(panel.collected_at.as_str()),
            self.max_age,
            self.mark,
        );
        panel.age_years = age_years;
        panel.age_note = note;
        panel.pregnancy = pregnancy(cell(&Column::Pregnant).unwrap_or(""));
        panel.altitude_m = cell(&Column::Altitude).and_then(|r| parse_number(r, self.mark));
        panel.cigarettes_per_day = cell(&Column::Cigarettes)
            .and_then(|r| parse_number(r, self.mark))
            .filter(|c| *c >= 0.0);
        panel.smoker = cell(&Column::Smoker).and_then(yes_no);
        panel.back_pain = back_pain(cell(&Column::BackPain).unwrap_or(""));
        let mut unknown = Vec::new();
        conditions(
            cell(&Column::Conditions).unwrap_or(""),
            &mut panel.conditions,
            &mut unknown,
        );
        medications(
            cell(&Column::Medications).unwrap_or(""),
            &mut panel.medications,
            &mut unknown,
        );
        panel.unknown_codes = unknown;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_ages() {
        assert_eq!(iso_days("1970-01-01"), Some(0));
        assert_eq!(iso_days("2000-03-01T10:00:00"), Some(11_017));
        assert_eq!(iso_days("2000-13-01"), None);
        assert_eq!(iso_days("01/02/2000"), None);
        let (a, _) = age(
            None,
            Some("1990-06-15"),
            Some("2026-06-15"),
            130.0,
            DecimalMark::Point,
        );
        assert!((a.unwrap_or(0.0) - 36.0).abs() < 0.01);
        assert_eq!(
            age(Some("-3"), None, None, 130.0, DecimalMark::Point).0,
            None
        );
        assert_eq!(
            age(Some("131"), None, None, 130.0, DecimalMark::Point).0,
            None
        );
        assert_eq!(
            age(Some("abc"), None, None, 130.0, DecimalMark::Point).0,
            None
        );
        assert_eq!(
            age(Some("0,5"), None, None, 130.0, DecimalMark::Unsettled).0,
            Some(0.5)
        );
    }

    #[test]
    fn context_values() {
        assert_eq!(sex(" Female "), Sex::Female);
        assert_eq!(sex("m"), Sex::Male);
        assert_eq!(sex("MALE\u{a0}"), Sex::Male);
        assert_eq!(sex("X"), Sex::Unknown);
        assert_eq!(sex("males"), Sex::Unknown);
        assert_eq!(yes_no(" Y"), Some(true));
        assert_eq!(yes_no("FALSE"), Some(false));
        assert_eq!(yes_no("maybe"), None);
        assert_eq!(back_pain("None"), BackPain::No);
        assert_eq!(back_pain("1"), BackPain::Yes);
        assert_eq!(back_pain(" CHRONIC"), BackPain::Chronic);
        assert_eq!(back_pain("acute!"), BackPain::Unknown);
        assert_eq!(pregnancy("2"), Pregnancy::Trimester2);
        assert_eq!(pregnancy("yes"), Pregnancy::TrimesterUnknown);
        assert_eq!(pregnancy("no"), Pregnancy::No);
        assert_eq!(pregnancy(""), Pregnancy::No);
        assert_eq!(pregnancy("0"), Pregnancy::No);
        assert_eq!(pregnancy("2.0"), Pregnancy::Trimester2);
        assert_eq!(pregnancy("T2"), Pregnancy::Trimester2);
        assert_eq!(pregnancy("3"), Pregnancy::Trimester3);
        // Unrecognised values are pregnancy unknown, never "not pregnant" (safety).
        assert_eq!(pregnancy("maybe"), Pregnancy::Unreadable);
        assert_eq!(pregnancy("2.5"), Pregnancy::Unreadable);
        assert_eq!(pregnancy("4"), Pregnancy::Unreadable);
        assert_eq!(back_pain("Chronic"), BackPain::Chronic);
        assert_eq!(back_pain(""), BackPain::Unknown);
        let (mut known, mut unknown) = (Vec::new(), Vec::new());
        conditions(
            "rheumatoid_arthritis| CKD ;heart_failure",
            &mut known,
            &mut unknown,
        );
        assert_eq!(
            known,
            vec![Condition::RheumatoidArthritis, Condition::HeartFailure]
        );
        assert_eq!(unknown, vec!["ckd".to_string()]);
    }
}
