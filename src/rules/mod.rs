//! The decision procedure of clinical rules §1–§8, as staged pure functions of a panel and a
//! ruleset:
//!
//! ```text
//! RuleInput ─► data ─► anemia ─► morphology ─► inflammation ─► iron ─► classification ─► flags ─► tests
//! ```
//!
//! Each stage takes the typed findings of the stages before it as arguments and returns its
//! own; none reads another's working state. Flags, recommended tests and evidence lines are
//! appended to a [`Trail`] that no stage reads back. Each family file declares its rules
//! (id, title, rationale, citation, thresholds used, flags raised) above the functions that
//! implement them; [`registry`] chains the declarations.

mod anemia;
mod classify;
mod data;
mod evidence;
mod flags;
mod hemolysis;
mod inflammation;
mod iron;
mod iron_context;
mod morphology;
pub mod registry;
mod tests_recommended;

use crate::analyte::Analyte;
use crate::cell::Measure;
use crate::panel::Panel;
use crate::ruleset::Ruleset;
use crate::vocab::{Flag, Label, Pregnancy, Sex, TestCode};

pub use crate::numfmt::{num, show};
pub use crate::vocab::{Inflammation, IronStatus, Morphology, Severity};
pub use evidence::{Evidence, FlagSet};
pub use registry::RuleMeta;

pub(crate) use evidence::Trail;

/// What every stage needs to know about the patient, decided once.
#[derive(Clone, Copy, Debug)]
pub struct RuleInput<'a> {
    pub panel: &'a Panel,
    pub rs: &'a Ruleset,
    /// Sex for the rules: a pregnancy that applies implies female.
    pub sex: Sex,
    /// Pregnancy is given, the patient is not male and is of pregnancy age.
    pub pregnancy_applies: bool,
    /// Age used for table lookups (missing -> adult age).
    pub lookup_age: f64,
    /// Age at or above the adult age, or missing.
    pub adult: bool,
    /// At or above the youngest age the haemoglobin cutoffs cover (age missing: in scope).
    pub in_scope: bool,
}

/// The `sex` key of the ruleset tables for a rule sex.
pub(crate) fn sex_key(sex: Sex) -> crate::ruleset::SexKey {
    use crate::ruleset::SexKey;
    match sex {
        Sex::Female => SexKey::F,
        Sex::Male => SexKey::M,
        Sex::Unknown => SexKey::U,
    }
}

impl<'a> RuleInput<'a> {
    pub fn new(panel: &'a Panel, rs: &'a Ruleset) -> RuleInput<'a> {
        let t = &rs.thresholds;
        let pregnancy_applies = panel.pregnancy != Pregnancy::No
            && panel.sex != Sex::Male
            && panel
                .age_years
                .is_none_or(|a| a >= t.pregnancy_min_age_years);
        RuleInput {
            panel,
            rs,
            sex: if pregnancy_applies {
                Sex::Female
            } else {
                panel.sex
            },
            pregnancy_applies,
            lookup_age: panel.age_years.unwrap_or(t.adult_age_years),
            adult: panel.age_years.is_none_or(|a| a >= t.adult_age_years),
            in_scope: panel.age_years.is_none_or(|a| a >= t.age_scope_min_years),
        }
    }

    /// The thresholds of procedure 2026.2, when the ruleset is written for it (rules added
    /// or changed in 2026.2 run only then, so an older ruleset classifies as it did).
    pub fn v2(&self) -> Option<&'a crate::ruleset::Thresholds2026_2> {
        self.rs.thresholds_2026_2.as_ref()
    }

    /// The numeric result of an analyte (a text result or a missing cell is `None`).
    pub fn measure(&self, a: Analyte) -> Option<Measure> {
        self.panel.cell(a).measure()
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
    /// In the order the stages ran.
    pub evidence: Vec<Evidence>,
    /// Why NSAID_CAUTION was raised, in words.
    pub nsaid_reasons: Vec<String>,
    /// The age the rules used.
    pub age_years: Option<f64>,
}

impl Outcome {
    pub fn has_flag(&self, f: Flag) -> bool {
        self.flags.contains(&f)
    }

    /// The evidence lines one rule wrote.
    pub fn evidence_of(&self, rule: crate::vocab::RuleId) -> impl Iterator<Item = &Evidence> {
        self.evidence.iter().filter(move |e| e.rule == rule)
    }
}

/// Evaluates one panel. Pure: the same panel and ruleset always give the same outcome.
pub fn evaluate(panel: &Panel, rs: &Ruleset) -> Outcome {
    evaluate_with(panel, rs, true)
}

/// [`evaluate`], with the evidence lines left out when `evidence` is false (the decisions,
/// flags, tests and NSAID reasons are the same).
pub fn evaluate_with(panel: &Panel, rs: &Ruleset, evidence: bool) -> Outcome {
    let input = RuleInput::new(panel, rs);
    let mut trail = Trail::new(evidence);
    data::evaluate(&input, &mut trail);

    let decided = if input.in_scope {
        let anemia = anemia::evaluate(&input, &mut trail);
        let morphology = morphology::evaluate(&input, &mut trail);
        let inflammation = inflammation::evaluate(&input, &mut trail);
        let iron = iron::evaluate(&input, &anemia, inflammation, &mut trail);
        let hemolysis = hemolysis::evaluate(&input, &anemia, inflammation, &mut trail);
        let label = classify::classify(
            &input,
            &classify::Findings {
                anemia: &anemia,
                morphology: &morphology,
                inflammation,
                iron: &iron,
                hemolysis,
            },
            &mut trail,
        );
        Some((anemia, morphology, inflammation, iron, label))
    } else {
        anemia::out_of_scope(&input, &mut trail);
        classify::note(Label::InsufficientData, &mut trail);
        None
    };

    let nsaid_reasons = match &decided {
        Some((anemia, morphology, inflammation, iron, label)) => {
            let findings = flags::Findings {
                anemia,
                morphology,
                inflammation: *inflammation,
                iron,
            };
            let reasons = flags::evaluate(&input, Some(&findings), &mut trail);
            tests_recommended::evaluate(&input, &findings, *label, &mut trail);
            reasons
        }
        None => flags::evaluate(&input, None, &mut trail),
    };

    let Trail {
        flags,
        mut tests,
        evidence,
        ..
    } = trail;
    tests.sort();
    match decided {
        Some((anemia, morphology, inflammation, iron, label)) => Outcome {
            anemia: anemia.anemia,
            hb_threshold_g_dl: anemia.anemia.and(anemia.threshold_g_dl),
            severity: anemia.severity,
            morphology: morphology.category,
            inflammation,
            iron_status: iron.status,
            b12_folate_deficient: iron.b12_folate_deficient,
            classification: label,
            flags: flags.sorted_by_code(),
            recommended_tests: tests,
            evidence,
            nsaid_reasons,
            age_years: panel.age_years,
        },
        None => Outcome {
            anemia: None,
            hb_threshold_g_dl: None,
            severity: None,
            morphology: Morphology::Unknown,
            inflammation: Inflammation::Unknown,
            iron_status: IronStatus::Unknown,
            b12_folate_deficient: false,
            classification: Label::InsufficientData,
            flags: flags.sorted_by_code(),
            recommended_tests: tests,
            evidence,
            nsaid_reasons,
            age_years: panel.age_years,
        },
    }
}
