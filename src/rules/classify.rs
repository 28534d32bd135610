//! CLASS: one label per panel, first match wins (clinical rules §5).

use crate::analyte::Analyte;
use crate::codes::{Flag, Label};

use super::{morphology, Eval, Inflammation, IronStatus, Morphology};

pub(crate) fn classify(e: &mut Eval) -> Label {
    let iron = e.iron_status;
    let iron_deficient = iron.is_deficient();
    let b12f = e.b12_folate_deficient;
    match e.anemia {
        None => Label::InsufficientData,
        Some(false) if iron_deficient => Label::IronDeficiencyWithoutAnemia,
        Some(false) if b12f => Label::B12FolateDeficiencyWithoutAnemia,
        Some(false) => Label::NoAnemia,
        Some(true) => {
            let inflamed = e.inflammation.counts_as_present();
            let absent = e.inflammation == Inflammation::Absent;
            if b12f && iron_deficient {
                Label::CombinedIronAndB12FolateDeficiency
            } else if b12f {
                Label::B12FolateDeficiencyAnemia
            } else if iron == IronStatus::DeficientWithInflammation {
                Label::MixedIronDeficiencyAndInflammation
            } else if iron == IronStatus::Deficient {
                Label::IronDeficiencyAnemia
            } else if inflamed && matches!(iron, IronStatus::Restricted | IronStatus::Adequate) {
                Label::AnemiaOfInflammation
            } else if inflamed && iron == IronStatus::Indeterminate {
                e.flag(Flag::PossibleCoexistingIronDeficiency);
                Label::AnemiaOfInflammation
            } else if e.morphology == Morphology::Microcytic
                && iron == IronStatus::Adequate
                && absent
                && morphology::mentzer(e)
                    .and_then(|m| m.below(e.rs.thresholds.mentzer_thalassemia_below))
                    == Some(true)
            {
                Label::ThalassemiaTraitSuspected
            } else if iron == IronStatus::Adequate && absent {
                Label::AnemiaOther
            } else {
                Label::AnemiaIndeterminate
            }
        }
    }
}

/// Whether the panel already has a result for a follow-up test (a censored result counts,
/// a text result does not).
pub(crate) fn has_result(e: &Eval, analyte: Analyte) -> bool {
    e.panel.cell(analyte).is_present()
}
