//! One generated panel: a specimen's context (identity, demographics, conditions, medications)
//! and its analyte cells, drawn from one row's random stream.
//!
//! The order of the draws is the file format: every helper here, in [`crate::values`] and in
//! [`crate::messy`] is called in a fixed sequence, and moving a draw changes every later value.

use std::fmt::Write as _;

use crate::columns::N_ANALYTES;
use crate::format::write_timestamp;
use crate::rng::Rng;
use crate::scenario::{Scenario, SCENARIOS, SCENARIO_WEIGHTS};

const INFLAMMATORY_CONDITIONS: [&str; 6] = [
    "rheumatoid_arthritis",
    "inflammatory_bowel_disease",
    "ankylosing_spondylitis",
    "chronic_kidney_disease",
    "heart_failure",
    "cancer",
];
const OTHER_CONDITIONS: [&str; 3] = [
    "fibromyalgia",
    "cardiovascular_disease",
    "sickle_cell_disease",
];
const MEDICATIONS: [&str; 6] = [
    "corticosteroid",
    "nsaid",
    "anticoagulant",
    "ppi",
    "metformin",
    "methotrexate",
];

/// How a cell is written.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) enum Value {
    #[default]
    Blank,
    Number(f64),
    /// `<x` / `>x` with x written with the analyte's decimals.
    Below(f64),
    Above(f64),
    /// A number followed by an abnormal mark.
    Marked(f64, &'static str),
    Text(&'static str),
}

/// What makes a messy row rejectable (or not a data row at all).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Defect {
    #[default]
    None,
    /// Fewer fields than the header: `malformed_line`.
    CutLine,
    /// Preceded by a blank line (blank lines are not data rows).
    BlankLineBefore,
}

/// Reused from row to row so that generating a row allocates nothing once the buffers are warm.
#[derive(Debug, Default)]
pub(crate) struct Panel {
    pub(crate) patient_id: String,
    pub(crate) specimen_id: String,
    pub(crate) collected_at: String,
    pub(crate) sex: &'static str,
    pub(crate) age: Option<f64>,
    pub(crate) pregnant: &'static str,
    pub(crate) altitude_m: Option<f64>,
    pub(crate) cigarettes_per_day: Option<f64>,
    pub(crate) smoker: &'static str,
    pub(crate) back_pain: &'static str,
    pub(crate) conditions: Vec<&'static str>,
    pub(crate) medications: Vec<&'static str>,
    pub(crate) values: [Value; N_ANALYTES],
    pub(crate) defect: Defect,
}

impl Panel {
    /// Draws row `row` from `rng`, replacing everything the previous row left.
    pub(crate) fn generate(&mut self, row: u64, rng: &mut Rng, messy: bool) {
        let scenario = SCENARIOS[rng.weighted(&SCENARIO_WEIGHTS)].0;
        self.values = [Value::Blank; N_ANALYTES];
        self.defect = Defect::None;
        self.conditions.clear();
        self.medications.clear();

        self.draw_identity(row, rng);
        let age = self.draw_demographics(rng);
        self.draw_habits(age, rng);
        self.draw_context_codes(scenario, rng);
        if scenario == Scenario::MyelomaPattern {
            self.age = Some(rng.uniform(60.0, 90.0).floor());
            self.back_pain = rng.pick(&["yes", "chronic"]);
        }

        // The drawn age stands in when the cell is left blank: the values still need one.
        self.generate_values(scenario, self.age.unwrap_or(age), rng);
        if messy {
            self.mess_up(rng);
        }
    }

    /// Patients recur (about 1.5 panels each); specimens are unique.
    fn draw_identity(&mut self, row: u64, rng: &mut Rng) {
        self.patient_id.clear();
        let _ = write!(
            self.patient_id,
            "MRN{:07}",
            1_000_000 + rng.below(9_000_000)
        );
        self.specimen_id.clear();
        let _ = write!(self.specimen_id, "S{:09}", row + 1);
        // About one specimen every 3 seconds from 2026-01-01, in input order.
        let seconds = row * 3 + rng.below(3) as u64;
        self.collected_at.clear();
        write_timestamp(&mut self.collected_at, seconds);
    }

    /// Age, sex, pregnancy and altitude; returns the drawn age even when the cell is left blank.
    fn draw_demographics(&mut self, rng: &mut Rng) -> f64 {
        let age = match rng.weighted(&[15, 60, 925]) {
            0 => rng.uniform(0.5, 5.0),
            1 => rng.uniform(5.0, 15.0),
            _ => rng.normal(52.0, 19.0, 15.0, 98.0).floor(),
        };
        self.age = if rng.chance(0.01) { None } else { Some(age) };
        self.sex = match rng.weighted(&[52, 46, 1, 1]) {
            0 => "F",
            1 => "M",
            2 => "",
            _ => "U",
        };
        let female_like = self.sex != "M";
        self.pregnant = "";
        if female_like && (18.0..45.0).contains(&age) && rng.chance(0.08) {
            self.pregnant = rng.pick(&["yes", "1", "2", "3"]);
        }
        self.altitude_m = rng
            .chance(0.05)
            .then(|| rng.lognormal(1200.0, 2.2, 0.0, 5200.0).round());
        age
    }

    /// Smoking (adults only, as a count or a yes/no) and back pain.
    fn draw_habits(&mut self, age: f64, rng: &mut Rng) {
        self.cigarettes_per_day = None;
        self.smoker = "";
        if age >= 15.0 {
            match rng.weighted(&[70, 12, 10, 8]) {
                1 => self.cigarettes_per_day = Some(rng.uniform(1.0, 30.0).round()),
                2 => self.smoker = "no",
                3 => self.smoker = "yes",
                _ => {}
            }
        }
        self.back_pain = match rng.weighted(&[50, 22, 12, 8, 8]) {
            0 => "",
            1 => "no",
            2 => "yes",
            3 => "acute",
            _ => "chronic",
        };
    }

    /// Conditions and medications; inflamed scenarios usually carry an inflammatory condition.
    fn draw_context_codes(&mut self, scenario: Scenario, rng: &mut Rng) {
        if scenario.inflamed() || (scenario == Scenario::AnemiaOther && rng.chance(0.3)) {
            if rng.chance(0.7) {
                self.conditions.push(rng.pick(&INFLAMMATORY_CONDITIONS));
            }
        } else if rng.chance(0.04) {
            self.conditions.push(rng.pick(&INFLAMMATORY_CONDITIONS));
        }
        if rng.chance(0.05) {
            let c = rng.pick(&OTHER_CONDITIONS);
            if !self.conditions.contains(&c) {
                self.conditions.push(c);
            }
        }
        if rng.chance(0.18) {
            self.medications.push(rng.pick(&MEDICATIONS));
            if rng.chance(0.25) {
                let m = rng.pick(&MEDICATIONS);
                if !self.medications.contains(&m) {
                    self.medications.push(m);
                }
            }
        }
    }
}
