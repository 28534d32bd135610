//! `--messy`: the cells real exports carry (censored values, abnormal marks, text results, NA
//! tokens) and, about 1 row in 1000, a row the engine must reject or a blank line before a row.
//!
//! These draws come after every value of the row is drawn, so a clean and a messy file of the
//! same seed hold the same patients.

use crate::columns::{B12, CRP, EGFR, FERRITIN, HB, N_ANALYTES};
use crate::panel::{Defect, Panel, Value};
use crate::rng::Rng;
use crate::values::round_to;

const TEXT_RESULTS: [&str; 5] = ["hemolyzed", "QNS", "clotted", "see comment", "lipemic"];
const NA_TOKENS: [&str; 6] = ["NA", "N/A", "null", "-", "--", "."];
const MARKS: [&str; 6] = [" L", " H", "L", "H", "(L)", "*"];

impl Panel {
    /// Messy cells and, rarely, rows the engine must reject.
    pub(crate) fn mess_up(&mut self, rng: &mut Rng) {
        // Taken before censoring: a censored cell may still be picked for a text result.
        let present: Vec<usize> = (0..N_ANALYTES)
            .filter(|i| matches!(self.values[*i], Value::Number(_)))
            .collect();
        self.censor(rng);
        if !present.is_empty() {
            if rng.chance(0.03) {
                let i = rng.pick(&present);
                if let Value::Number(x) = self.values[i] {
                    self.values[i] = Value::Marked(x, rng.pick(&MARKS));
                }
            }
            if rng.chance(0.004) {
                let i = rng.pick(&present);
                self.values[i] = Value::Text(rng.pick(&TEXT_RESULTS));
            }
        }
        if rng.chance(0.03) {
            let blanks: Vec<usize> = (0..N_ANALYTES)
                .filter(|i| self.values[*i] == Value::Blank)
                .collect();
            if !blanks.is_empty() {
                let i = rng.pick(&blanks);
                self.values[i] = Value::Text(rng.pick(&NA_TOKENS));
            }
        }
        self.spoil(rng);
    }

    /// Censored results where labs report them.
    fn censor(&mut self, rng: &mut Rng) {
        if let Value::Number(c) = self.values[CRP] {
            if c < 5.0 && rng.chance(0.35) {
                self.values[CRP] = Value::Below(5.0);
            }
        }
        if let Value::Number(f) = self.values[FERRITIN] {
            if f < 10.0 && rng.chance(0.3) {
                self.values[FERRITIN] = Value::Below(10.0);
            } else if f > 1500.0 && rng.chance(0.5) {
                self.values[FERRITIN] = Value::Above(1500.0);
            }
        }
        if let Value::Number(e) = self.values[EGFR] {
            // Many laboratories report eGFR above 90 only as ">90".
            if e > 90.0 && rng.chance(0.5) {
                self.values[EGFR] = Value::Above(90.0);
            }
        }
        if let Value::Number(b) = self.values[B12] {
            if b > 1000.0 && rng.chance(0.5) {
                self.values[B12] = Value::Above(1000.0);
            }
        }
    }

    /// Rows to reject, about 1 in 1000 in all, and blank lines.
    fn spoil(&mut self, rng: &mut Rng) {
        match rng.weighted(&[9_990_000, 3_000, 2_000, 2_500, 1_500, 1_000]) {
            1 => {
                // A g/L haemoglobin in the g/dL column: implausible_value.
                if let Value::Number(hb) = self.values[HB] {
                    self.values[HB] = Value::Number(round_to(hb * 10.0, 0));
                }
            }
            2 => self.defect = Defect::CutLine,
            3 => self.patient_id.clear(),
            4 => {
                // No result at all, only NA tokens and blanks.
                for (i, v) in self.values.iter_mut().enumerate() {
                    *v = if i % 5 == 0 {
                        Value::Text(NA_TOKENS[i % NA_TOKENS.len()])
                    } else {
                        Value::Blank
                    };
                }
            }
            5 => self.defect = Defect::BlankLineBefore,
            _ => {}
        }
    }
}
