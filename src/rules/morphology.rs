//! MORPH: MCV category by age, RDW, Mentzer index.

use crate::analyte::Analyte;
use crate::cell::Measure;
use crate::vocab::{Morphology, RuleId};

use super::registry::RuleMeta;
use super::{num, show, RuleInput, Trail};

pub(crate) const RULES: &[RuleMeta] = &[
    RuleMeta {
        id: RuleId::Morph001,
        family: "MORPH",
        title: "MCV category",
        rationale_template: "Microcytic below, macrocytic above the age's normocytic MCV range.",
        citation: "Nathan and Oski's Hematology of Infancy and Childhood; adult reference interval",
        thresholds: &[],
        tables: &["mcv_ranges.csv"],
        raises: &[],
    },
    RuleMeta {
        id: RuleId::Morph002,
        family: "MORPH",
        title: "RDW high",
        rationale_template: "RDW-CV above the upper limit.",
        citation: "Bessman, Gilmer and Gardner, Am J Clin Pathol 1983",
        thresholds: &["rdw_high_above"],
        tables: &[],
        raises: &[],
    },
    RuleMeta {
        id: RuleId::Morph003,
        family: "MORPH",
        title: "Mentzer index",
        rationale_template:
            "MCV / RBC; below {mentzer_thalassemia_below} suggests thalassemia trait.",
        citation: "Mentzer, Lancet 1973",
        thresholds: &["mentzer_thalassemia_below"],
        tables: &[],
        raises: &[],
    },
];

/// The morphology of the panel.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct MorphologyFinding {
    pub category: Morphology,
    /// The age's normocytic MCV range (low, high), fL.
    pub mcv_range: Option<(f64, f64)>,
    /// MORPH-002: RDW certainly above the upper limit (`None`: missing or undecided).
    pub rdw_high: Option<bool>,
    /// MORPH-003: MCV / RBC, a one-sided bound when one input is censored.
    pub mentzer: Option<Measure>,
}

pub(crate) fn evaluate(input: &RuleInput, trail: &mut Trail) -> MorphologyFinding {
    let mut finding = MorphologyFinding {
        category: Morphology::Unknown,
        mcv_range: None,
        rdw_high: input
            .measure(Analyte::Rdw)
            .and_then(|m| m.above(input.rs.thresholds.rdw_high_above)),
        mentzer: input
            .measure(Analyte::Mcv)
            .zip(input.measure(Analyte::Rbc))
            .and_then(|(mcv, rbc)| super::iron::ratio(mcv, rbc)),
    };
    let Some(row) = input
        .rs
        .mcv_row(input.lookup_age, super::sex_key(input.sex))
    else {
        return finding;
    };
    let (low, high) = (row.mcv_low, row.mcv_high);
    finding.mcv_range = Some((low, high));
    let Some(mcv) = input.measure(Analyte::Mcv) else {
        return finding;
    };
    // Bands: (-inf, low) micro, [low, high] normo, (high, inf) macro.
    finding.category = match (mcv.below(low), mcv.above(high)) {
        (Some(true), _) => Morphology::Microcytic,
        (Some(false), Some(false)) => Morphology::Normocytic,
        (_, Some(true)) => Morphology::Macrocytic,
        _ => Morphology::Unknown,
    };
    trail.note_with(RuleId::Morph001, || {
        format!(
            "MCV {} fL with normocytic range {}-{} fL ({}): {}",
            show(mcv),
            num(low),
            num(high),
            row.population,
            finding.category.code()
        )
    });
    finding
}
