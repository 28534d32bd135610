//! Number formatting shared by evidence, messages and ingest notes (a leaf module: it
//! imports only [`crate::cell`], so any layer may use it).

use crate::cell::Measure;

/// Formats a number for evidence: rounded to 2 decimals, trailing zeros dropped.
pub fn num(x: f64) -> String {
    // The shortest representation of the rounded value is its 2-decimal form without
    // trailing zeros (and much cheaper than exact fixed-precision formatting).
    let rounded = (x * 100.0).round() / 100.0;
    if rounded == 0.0 {
        return "0".to_string();
    }
    format!("{rounded}")
}

/// A measure as quoted in evidence (`<10`, `12.3`).
pub fn show(m: Measure) -> String {
    format!("{}{}", m.censor.prefix(), num(m.value))
}

/// Appends `x` with exactly `decimals` decimals (no exponent), without allocating.
pub fn push_fixed(x: f64, decimals: usize, out: &mut Vec<u8>) {
    use std::io::Write;
    // Writing to a Vec cannot fail.
    let _ = write!(out, "{x:.decimals$}");
}
