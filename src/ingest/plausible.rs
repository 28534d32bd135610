//! Unit conversion and the plausibility check shared by both layouts: a value outside the
//! ruleset's plausible range for its analyte is rejected, never classified.

use crate::analyte::Analyte;
use crate::ruleset::Ruleset;

/// Converts to the canonical unit; rounding to 6 decimals removes binary noise
/// (123 g/L * 0.1 must equal 12.3 g/dL exactly, or boundary decisions would flip).
pub fn convert(value: f64, factor: f64) -> f64 {
    if factor == 1.0 {
        value
    } else {
        ((value * factor) * 1e6).round() / 1e6
    }
}

/// A canonical value outside the plausible range; displays as
/// `is outside the plausible range MIN–MAX UNIT`, the part of the reject message both
/// layouts share.
pub(crate) struct Implausible<'r> {
    pub min: f64,
    pub max: f64,
    pub unit: &'r str,
}

impl std::fmt::Display for Implausible<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "is outside the plausible range {}–{} {}",
            self.min, self.max, self.unit
        )
    }
}

/// Checks a canonical value against the ruleset's plausible range of its analyte.
pub(crate) fn check(rs: &Ruleset, analyte: Analyte, canonical: f64) -> Result<(), Implausible<'_>> {
    let (min, max) = rs.plausible_range(analyte);
    if (min..=max).contains(&canonical) {
        return Ok(());
    }
    Err(Implausible {
        min,
        max,
        unit: rs.canonical_unit(analyte),
    })
}

/// The hint appended to a wide-layout reject: another accepted unit of the analyte that would
/// make the raw value plausible, when there is one (a column named with the wrong unit).
pub(crate) fn unit_hint(rs: &Ruleset, analyte: Analyte, raw_value: f64, column: &str) -> String {
    let (min, max) = rs.plausible_range(analyte);
    let column = column.to_ascii_lowercase();
    rs.units
        .iter()
        .map(|u| &u.row)
        .filter(|u| u.analyte == analyte && !column.ends_with(&format!("_{}", u.suffix)))
        .find(|u| (min..=max).contains(&convert(raw_value, u.factor)))
        .map(|u| format!("; is this column in {}?", u.unit))
        .unwrap_or_else(|| "; check the value and the column's unit".to_string())
}
