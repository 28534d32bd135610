//! Number formatting shared by evidence, messages and ingest notes (a leaf module: it
//! imports only [`crate::cell`], so any layer may use it).
//!
//! Evidence quotes several numbers on every row, so the forms here write digits from an
//! integer instead of going through float formatting, and [`num`] and [`show`] return
//! values that are formatted where they are written (no `String` of their own).

use std::fmt;

use crate::cell::Measure;

/// Below this magnitude a value scaled by 10^decimals (decimals ≤ 3) is an exact integer
/// in an `i64` and distinct 2-decimal values are distinct doubles, so integer digits give
/// the same text as float formatting; above it, float formatting is used.
const INTEGER_DIGITS_BELOW: f64 = 1e12;

/// 10^decimals, exact for the precisions of the output columns.
pub fn pow10(decimals: usize) -> f64 {
    match decimals {
        0 => 1.0,
        1 => 10.0,
        2 => 100.0,
        3 => 1000.0,
        d => 10f64.powi(i32::try_from(d).unwrap_or(i32::MAX)),
    }
}

/// `x` scaled by 10^decimals and rounded, when the integer path applies.
fn scaled(x: f64, decimals: usize) -> Option<i64> {
    if decimals > 3 || !x.is_finite() || x.abs() >= INTEGER_DIGITS_BELOW {
        return None;
    }
    // In range: the cast cannot saturate.
    Some((x * pow10(decimals)).round() as i64)
}

/// Writes `k / 10^decimals` into the end of `buf` and returns where the text starts:
/// `decimals` digits after the point, trailing zeros dropped when `trim`.
fn digits(k: i64, decimals: usize, trim: bool, buf: &mut [u8; 32]) -> usize {
    let negative = k < 0;
    let mut n = k.unsigned_abs();
    let mut at = buf.len();
    let mut frac = decimals;
    let mut wrote_frac = false;
    while frac > 0 {
        let d = (n % 10) as u8;
        n /= 10;
        frac -= 1;
        if trim && !wrote_frac && d == 0 {
            continue;
        }
        wrote_frac = true;
        at -= 1;
        buf[at] = b'0' + d;
    }
    if wrote_frac {
        at -= 1;
        buf[at] = b'.';
    }
    loop {
        at -= 1;
        buf[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if negative {
        at -= 1;
        buf[at] = b'-';
    }
    at
}

/// A number as evidence quotes it: rounded to 2 decimals, trailing zeros dropped
/// (`12`, `0.5`, `-1.25`). Formats where it is written.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Num(pub f64);

impl fmt::Display for Num {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let x = self.0;
        match scaled(x, 2) {
            Some(0) => f.write_str("0"),
            Some(k) => {
                let mut buf = [0u8; 32];
                let at = digits(k, 2, true, &mut buf);
                // Only ASCII digits, '.' and '-' were written.
                f.write_str(std::str::from_utf8(&buf[at..]).map_err(|_| fmt::Error)?)
            }
            None => {
                // The shortest representation of the rounded value is its 2-decimal form
                // without trailing zeros.
                let rounded = (x * 100.0).round() / 100.0;
                if rounded == 0.0 {
                    f.write_str("0")
                } else {
                    write!(f, "{rounded}")
                }
            }
        }
    }
}

/// Formats a number for evidence: rounded to 2 decimals, trailing zeros dropped.
pub fn num(x: f64) -> Num {
    Num(x)
}

/// A measure as evidence quotes it: its comparator, then [`num`] (`<10`, `12.3`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Show(pub Measure);

impl fmt::Display for Show {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.censor.prefix())?;
        Num(self.0.value).fmt(f)
    }
}

/// A measure as quoted in evidence (`<10`, `12.3`).
pub fn show(m: Measure) -> Show {
    Show(m)
}

/// Appends `x` with exactly `decimals` decimals (no exponent), without allocating. `x` is
/// a value of an output column, already rounded to `decimals`.
pub fn push_fixed(x: f64, decimals: usize, out: &mut Vec<u8>) {
    match scaled(x, decimals) {
        Some(k) => {
            let mut buf = [0u8; 32];
            let at = digits(k, decimals, false, &mut buf);
            out.extend_from_slice(&buf[at..]);
        }
        None => {
            use std::io::Write;
            // Writing to a Vec cannot fail.
            let _ = write!(out, "{x:.decimals$}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cell::Censor;

    /// The forms of 2026-11 (float formatting), which the integer paths must equal.
    fn num_by_float(x: f64) -> String {
        let rounded = (x * 100.0).round() / 100.0;
        if rounded == 0.0 {
            return "0".to_string();
        }
        format!("{rounded}")
    }

    fn fixed_by_float(x: f64, decimals: usize) -> String {
        format!("{x:.decimals$}")
    }

    #[test]
    fn num_equals_float_formatting() {
        let mut cases = vec![
            0.0,
            -0.0,
            0.004,
            -0.004,
            0.005,
            0.015,
            1.005,
            2.675,
            12.0,
            12.5,
            12.25,
            12.345,
            -1.25,
            99.999,
            100.0,
            0.1,
            0.2,
            0.3,
            1e11,
            123456789.126,
            1e12,
            3e15,
            1e300,
        ];
        // A deterministic sweep over values with up to four decimals.
        let mut x = -2000.0_f64;
        while x < 2000.0 {
            cases.push(x);
            x += 0.0137;
        }
        for x in cases {
            assert_eq!(num(x).to_string(), num_by_float(x), "num({x:?})");
        }
        assert_eq!(num(f64::NAN).to_string(), num_by_float(f64::NAN));
        assert_eq!(num(f64::INFINITY).to_string(), num_by_float(f64::INFINITY));
    }

    #[test]
    fn show_puts_the_comparator_first() {
        let m = Measure {
            value: 5.0,
            censor: Censor::Lt,
        };
        assert_eq!(show(m).to_string(), "<5");
        let m = Measure {
            value: 12.30,
            censor: Censor::Exact,
        };
        assert_eq!(show(m).to_string(), "12.3");
    }

    #[test]
    fn fixed_equals_float_formatting_of_rounded_values() {
        for decimals in [0, 1, 2] {
            let scale = 10f64.powi(decimals as i32);
            let mut k = -300_000_i64;
            while k < 300_000 {
                let x = k as f64 / scale;
                let mut ours = Vec::new();
                push_fixed(x, decimals, &mut ours);
                assert_eq!(
                    String::from_utf8(ours).unwrap_or_default(),
                    fixed_by_float(x, decimals),
                    "push_fixed({x:?}, {decimals})"
                );
                k += 7;
            }
        }
        let mut big = Vec::new();
        push_fixed(5e15, 2, &mut big);
        assert_eq!(
            String::from_utf8(big).unwrap_or_default(),
            "5000000000000000.00"
        );
    }
}
