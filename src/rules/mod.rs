//! The decision procedure of clinical rules §1–§8, as pure functions of a panel and a
//! ruleset. Each family lives in its own file; every rule that fires adds an evidence line
//! starting with its id (see [`registry::RULES`]) and quoting the values and thresholds used.

mod anemia;
mod classify;
mod flags;
mod inflammation;
mod iron;
mod morphology;
pub mod registry;
mod tests_recommended;

use crate::analyte::Analyte;
use crate::cell::{Cell, Measure};
use crate::codes::{Flag, Label, TestCode};
use crate::panel::{Panel, Sex};
use crate::ruleset::Ruleset;

pub use crate::numfmt::{num, show};

macro_rules! state_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $code:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
        pub enum $name { $($variant),+ }
        impl $name {
            pub fn code(self) -> &'static str { match self { $($name::$variant => $code),+ } }
        }
    };
}

state_enum! { Severity { None => "none", Mild => "mild", Moderate => "moderate", Severe => "severe" } }
state_enum! { Morphology { Microcytic => "microcytic", Normocytic => "normocytic", Macrocytic => "macrocytic", Unknown => "unknown" } }
state_enum! {
    /// `Presumed` counts as present in iron status and classification.
    Inflammation { Present => "present", Presumed => "presumed", Absent => "absent", Unknown => "unknown" }
}
state_enum! {
    IronStatus {
        Deficient => "deficient",
        DeficientWithInflammation => "deficient_with_inflammation",
        Restricted => "restricted",
        Adequate => "adequate",
        Indeterminate => "indeterminate",
        Unknown => "unknown",
    }
}

impl Inflammation {
    pub fn counts_as_present(self) -> bool {
        matches!(self, Inflammation::Present | Inflammation::Presumed)
    }
}

impl IronStatus {
    pub fn is_deficient(self) -> bool {
        matches!(
            self,
            IronStatus::Deficient | IronStatus::DeficientWithInflammation
        )
    }
}

/// Everything the rules decided for one panel.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    pub anemia: Option<bool>,
    pub hb_threshold_g_dl: Option<f64>,
    pub severity: Option<Severity>,
    pub morphology: Morphology,
    pub inflammation: Inflammation,
    pub iron_status: IronStatus,
    pub b12_folate_deficient: bool,
    pub classification: Label,
    /// Sorted by code.
    pub flags: Vec<Flag>,
    /// In [`TestCode`] order.
    pub recommended_tests: Vec<TestCode>,
    pub evidence: Vec<String>,
    /// Why NSAID_CAUTION was raised, in words.
    pub nsaid_reasons: Vec<String>,
    /// The age the rules used.
    pub age_years: Option<f64>,
}

impl Outcome {
    pub fn has_flag(&self, f: Flag) -> bool {
        self.flags.contains(&f)
    }
}

/// Working state while evaluating one panel.
pub(crate) struct Eval<'a> {
    pub panel: &'a Panel,
    pub rs: &'a Ruleset,
    /// Age used for table lookups (missing -> adult age).
    pub lookup_age: f64,
    pub adult: bool,
    /// Sex for the rules: pregnancy implies female.
    pub sex: Sex,
    pub anemia: Option<bool>,
    pub threshold: Option<f64>,
    pub severity: Option<Severity>,
    pub morphology: Morphology,
    pub mcv_limits: (f64, f64),
    pub inflammation: Inflammation,
    pub tsat: Option<Measure>,
    pub iron_status: IronStatus,
    pub b12_folate_deficient: bool,
    pub flags: Vec<Flag>,
    pub tests: Vec<TestCode>,
    pub evidence: Vec<String>,
    pub nsaid_reasons: Vec<String>,
}

impl<'a> Eval<'a> {
    pub fn flag(&mut self, f: Flag) {
        if !self.flags.contains(&f) {
            self.flags.push(f);
        }
    }

    pub fn recommend(&mut self, t: TestCode) {
        if !self.tests.contains(&t) {
            self.tests.push(t);
        }
    }

    pub fn note(&mut self, line: String) {
        self.evidence.push(line);
    }

    pub fn measure(&self, a: Analyte) -> Option<Measure> {
        self.panel.cell(a).measure()
    }
}

/// Evaluates one panel. Pure: the same panel and ruleset always give the same outcome.
pub fn evaluate(panel: &Panel, rs: &Ruleset) -> Outcome {
    let t = &rs.thresholds;
    let mut e = Eval {
        panel,
        rs,
        lookup_age: panel.age_years.unwrap_or(t.adult_age_years),
        adult: panel.age_years.is_none_or(|a| a >= t.adult_age_years),
        sex: panel.sex,
        anemia: None,
        threshold: None,
        severity: None,
        morphology: Morphology::Unknown,
        mcv_limits: (f64::NAN, f64::NAN),
        inflammation: Inflammation::Unknown,
        tsat: None,
        iron_status: IronStatus::Unknown,
        b12_folate_deficient: false,
        flags: Vec::new(),
        tests: Vec::new(),
        evidence: Vec::new(),
        nsaid_reasons: Vec::new(),
    };
    data_quality(&mut e);

    let in_scope = panel.age_years.is_none_or(|a| a >= t.age_scope_min_years);
    if in_scope {
        anemia::evaluate(&mut e);
        morphology::evaluate(&mut e);
        inflammation::evaluate(&mut e);
        iron::evaluate(&mut e);
    } else {
        e.flag(Flag::AgeOutOfScope);
        e.note(format!(
            "ANEMIA-005 age {} y < {} y: out of scope; only safety flags evaluated",
            num(panel.age_years.unwrap_or(0.0)),
            num(t.age_scope_min_years)
        ));
    }
    let classification = if in_scope {
        classify::classify(&mut e)
    } else {
        Label::InsufficientData
    };
    e.note(format!("CLASS-001 {classification}"));
    flags::evaluate(&mut e, in_scope);
    if in_scope {
        tests_recommended::evaluate(&mut e, classification);
    }

    let mut flags = e.flags;
    flags.sort_by_key(|f| f.code());
    let mut tests = e.tests;
    tests.sort();
    Outcome {
        anemia: e.anemia,
        hb_threshold_g_dl: if e.anemia.is_some() {
            e.threshold
        } else {
            None
        },
        severity: e.severity,
        morphology: e.morphology,
        inflammation: e.inflammation,
        iron_status: e.iron_status,
        b12_folate_deficient: e.b12_folate_deficient,
        classification,
        flags,
        recommended_tests: tests,
        evidence: e.evidence,
        nsaid_reasons: e.nsaid_reasons,
        age_years: panel.age_years,
    }
}

fn data_quality(e: &mut Eval) {
    let panel = e.panel;
    let censored: Vec<String> = Analyte::ALL
        .iter()
        .filter_map(|a| match panel.cell(*a) {
            Cell::Value(m) if m.is_censored() => Some(format!("{a} {}", show(*m))),
            _ => None,
        })
        .collect();
    if !censored.is_empty() {
        e.flag(Flag::CensoredValue);
        e.note(format!("DATA-001 censored: {}", censored.join(", ")));
    }
    let texts: Vec<String> = Analyte::ALL
        .iter()
        .filter_map(|a| match panel.cell(*a) {
            Cell::Text(t) => Some(format!("{a} {t:?}")),
            _ => None,
        })
        .collect();
    if !texts.is_empty() {
        e.flag(Flag::ValueNotNumeric);
        e.note(format!(
            "DATA-002 text results treated as missing: {}",
            texts.join(", ")
        ));
    }
    if panel.age_years.is_none() {
        e.flag(Flag::AgeMissing);
        let why = panel
            .age_note
            .clone()
            .unwrap_or_else(|| "no age given".to_string());
        e.note(format!(
            "DATA-003 {why}; treated as adult (>= {} y)",
            num(e.rs.thresholds.adult_age_years)
        ));
    } else if let Some(note) = &panel.age_note {
        e.note(format!("DATA-003 {note}"));
    }
    for note in &panel.assembly_notes {
        e.note(format!("PANEL-001 {note}"));
    }
    for a in Analyte::ALL {
        if let Some(c) = &panel.conversions[a.index()] {
            if let Cell::Value(m) = panel.cell(a) {
                e.note(format!(
                    "DATA-004 {} {} {} x {} = {} {}",
                    c.column,
                    c.raw,
                    c.unit,
                    c.factor,
                    show(*m),
                    e.rs.canonical_unit(a)
                ));
            }
        }
    }
}
