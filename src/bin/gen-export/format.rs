//! Writing the fields both layouts share: the context columns of a panel, a cell with its
//! analyte's decimals, and the collection timestamp.

use std::fmt::Write as _;

use crate::panel::{Panel, Value};

impl Panel {
    /// The context columns, comma-separated, without a trailing comma or newline.
    pub(crate) fn write_context(&self, line: &mut String) {
        line.push_str(&self.patient_id);
        line.push(',');
        line.push_str(&self.specimen_id);
        line.push(',');
        line.push_str(&self.collected_at);
        line.push(',');
        line.push_str(self.sex);
        line.push(',');
        if let Some(age) = self.age {
            // Children's ages keep their fraction of a year; adults' are whole years.
            if age < 15.0 && age.fract() != 0.0 {
                let _ = write!(line, "{age:.1}");
            } else {
                let _ = write!(line, "{age:.0}");
            }
        }
        line.push(',');
        line.push_str(self.pregnant);
        line.push(',');
        if let Some(a) = self.altitude_m {
            let _ = write!(line, "{a:.0}");
        }
        line.push(',');
        if let Some(c) = self.cigarettes_per_day {
            let _ = write!(line, "{c:.0}");
        }
        line.push(',');
        line.push_str(self.smoker);
        line.push(',');
        line.push_str(self.back_pain);
        line.push(',');
        push_codes(line, &self.conditions);
        line.push(',');
        push_codes(line, &self.medications);
    }
}

/// Codes separated by `;`, the list separator the engine reads inside one field.
fn push_codes(line: &mut String, codes: &[&str]) {
    for (i, c) in codes.iter().enumerate() {
        if i > 0 {
            line.push(';');
        }
        line.push_str(c);
    }
}

pub(crate) fn write_value(line: &mut String, value: Value, decimals: usize) {
    // Writing to a String cannot fail.
    let _ = match value {
        Value::Blank => Ok(()),
        Value::Number(x) => write!(line, "{:.*}", decimals, x),
        Value::Below(x) => write!(line, "<{:.*}", decimals, x),
        Value::Above(x) => write!(line, ">{:.*}", decimals, x),
        Value::Marked(x, mark) => write!(line, "{:.*}{mark}", decimals, x),
        Value::Text(t) => {
            line.push_str(t);
            Ok(())
        }
    };
}

/// Writes `2026-01-01T00:00:00` plus `seconds` as an ISO 8601 local date-time.
pub(crate) fn write_timestamp(out: &mut String, seconds: u64) {
    // Days from 1970-01-01 to 2026-01-01.
    const EPOCH_2026: i64 = 20_454;
    let days = EPOCH_2026 + (seconds / 86_400) as i64;
    let secs = seconds % 86_400;
    let (y, m, d) = civil_from_days(days);
    let _ = write!(
        out,
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    );
}

/// Proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_454), (2026, 1, 1));
        let mut s = String::new();
        write_timestamp(&mut s, 86_400 * 59 + 3661);
        assert_eq!(s, "2026-03-01T01:01:01");
    }
}
