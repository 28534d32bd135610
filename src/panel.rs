//! The typed panel the rules evaluate: identity, patient context and canonical analyte cells.

use crate::analyte::{Analyte, ANALYTE_COUNT};
use crate::cell::Cell;
use crate::vocab::{Condition, Medication};

// The context codes are part of the one vocabulary; the panel is where they are read.
pub use crate::vocab::{BackPain, Pregnancy, Sex};

/// Where a canonical value came from: the column's unit and the factor applied.
#[derive(Clone, Debug, PartialEq)]
pub struct Conversion {
    pub column: String,
    pub raw: String,
    pub unit: String,
    pub factor: f64,
}

/// The unit conversions of a panel, indexed by [`Analyte::index`]: stored only up to the
/// last converted analyte (most panels have none), so a panel stays small.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Conversions(Vec<Option<Conversion>>);

static NO_CONVERSION: Option<Conversion> = None;

impl std::ops::Index<usize> for Conversions {
    type Output = Option<Conversion>;

    fn index(&self, i: usize) -> &Option<Conversion> {
        self.0.get(i).unwrap_or(&NO_CONVERSION)
    }
}

impl std::ops::IndexMut<usize> for Conversions {
    fn index_mut(&mut self, i: usize) -> &mut Option<Conversion> {
        if i >= self.0.len() {
            self.0.resize_with(i + 1, || None);
        }
        &mut self.0[i]
    }
}

/// One panel ready for the rules.
#[derive(Clone, Debug)]
pub struct Panel {
    /// Index of the input file in the run.
    pub input: usize,
    /// Physical line of the row in its file.
    pub line: u64,
    pub patient_id: String,
    pub specimen_id: String,
    pub collected_at: String,
    /// `collected_at` read as an instant (None: blank or not ISO 8601), parsed once by
    /// [`Panel::set_collected_at`] for the rules and the output.
    pub collected: Option<crate::isotime::Timestamp>,
    /// Instrument and site as read (empty when absent), carried to the output and report.
    pub analyzer_id: String,
    pub site: String,
    /// Sex as read (evidence quotes it).
    pub sex_raw: String,
    pub sex: Sex,
    /// Age used by the rules (None = missing).
    pub age_years: Option<f64>,
    /// Why a given age was not used, for evidence.
    pub age_note: Option<String>,
    pub pregnancy: Pregnancy,
    pub altitude_m: Option<f64>,
    pub cigarettes_per_day: Option<f64>,
    pub smoker: Option<bool>,
    pub back_pain: BackPain,
    pub conditions: Vec<Condition>,
    pub medications: Vec<Medication>,
    /// Codes in `conditions`/`medications` that are not known, for evidence.
    pub unknown_codes: Vec<String>,
    /// Canonical cells, indexed by [`Analyte::index`].
    pub values: [Cell; ANALYTE_COUNT],
    /// Unit conversions applied, indexed by [`Analyte::index`] (None = canonical or absent).
    pub conversions: Conversions,
    /// How the panel was assembled (long layout): values from other specimens, with days apart.
    pub assembly_notes: Vec<String>,
    /// Input rows (results) this panel uses that no earlier panel used: the ledger's "used".
    pub rows_used: u64,
}

impl Panel {
    pub fn new(input: usize, line: u64, patient_id: String, specimen_id: String) -> Panel {
        Panel {
            input,
            line,
            patient_id,
            specimen_id,
            collected_at: String::new(),
            collected: None,
            analyzer_id: String::new(),
            site: String::new(),
            sex_raw: String::new(),
            sex: Sex::Unknown,
            age_years: None,
            age_note: None,
            pregnancy: Pregnancy::No,
            altitude_m: None,
            cigarettes_per_day: None,
            smoker: None,
            back_pain: BackPain::Unknown,
            conditions: Vec::new(),
            medications: Vec::new(),
            unknown_codes: Vec::new(),
            values: std::array::from_fn(|_| Cell::Missing),
            conversions: Conversions::default(),
            assembly_notes: Vec::new(),
            rows_used: 1,
        }
    }

    /// Sets the collection time as read, and the instant it names.
    pub fn set_collected_at(&mut self, raw: &str) {
        self.collected_at = raw.to_string();
        self.collected = crate::isotime::iso_timestamp(raw);
    }

    pub fn cell(&self, a: Analyte) -> &Cell {
        &self.values[a.index()]
    }

    pub fn has_condition(&self, c: Condition) -> bool {
        self.conditions.contains(&c)
    }

    pub fn takes(&self, m: Medication) -> bool {
        self.medications.contains(&m)
    }
}
