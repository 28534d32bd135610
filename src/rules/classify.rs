//! CLASS: one label per panel, first match wins (clinical rules §5).

use crate::vocab::{Condition, Flag, Inflammation, IronStatus, Label, Morphology, RuleId};

use super::anemia::AnemiaFinding;
use super::hemolysis::HemolysisFinding;
use super::iron::IronFinding;
use super::morphology::MorphologyFinding;
use super::registry::RuleMeta;
use super::{RuleInput, Trail};

/// What the classification reads.
pub(crate) struct Findings<'a> {
    pub anemia: &'a AnemiaFinding,
    pub morphology: &'a MorphologyFinding,
    pub inflammation: Inflammation,
    pub iron: &'a IronFinding,
    pub hemolysis: HemolysisFinding,
}

pub(crate) const RULES: &[RuleMeta] = &[RuleMeta {
    id: RuleId::Class001,
    family: "CLASS",
    title: "Classification",
    rationale_template: "One label per panel, first match wins, from anemia, iron status, inflammation, B12/folate, morphology and (procedure 2026.2) sickle cell disease and the haemolysis pattern (clinical rules section 5).",
    citation: "anemia-engine clinical rules 2026.1 section 5",
    thresholds: &["mentzer_thalassemia_below"],
    tables: &[],
    raises: &[Flag::PossibleCoexistingIronDeficiency],
}];

/// CLASS-001 evidence: the label.
pub(crate) fn note(label: Label, trail: &mut Trail) {
    trail.note_with(RuleId::Class001, || label.code().to_string());
}

pub(crate) fn classify(input: &RuleInput, f: &Findings, trail: &mut Trail) -> Label {
    let label = decide(input, f, trail);
    // 2026.2: raised whenever anemic, inflamed and iron indeterminate, whatever the label.
    if input.v2().is_some()
        && f.anemia.anemia == Some(true)
        && f.inflammation.counts_as_present()
        && f.iron.status == IronStatus::Indeterminate
    {
        trail.flag(Flag::PossibleCoexistingIronDeficiency);
    }
    note(label, trail);
    label
}

fn decide(input: &RuleInput, f: &Findings, trail: &mut Trail) -> Label {
    let status = f.iron.status;
    let iron_deficient = status.is_deficient();
    let b12f = f.iron.b12_folate_deficient;
    let anemic = match f.anemia.anemia {
        None => return Label::InsufficientData,
        Some(anemic) => anemic,
    };
    if !anemic {
        return if iron_deficient {
            Label::IronDeficiencyWithoutAnemia
        } else if b12f {
            Label::B12FolateDeficiencyWithoutAnemia
        } else {
            Label::NoAnemia
        };
    }
    let v2 = input.v2().is_some();
    let inflamed = f.inflammation.counts_as_present();
    let absent = f.inflammation == Inflammation::Absent;
    let mentzer_low = f
        .morphology
        .mentzer
        .and_then(|m| m.below(input.rs.thresholds.mentzer_thalassemia_below))
        == Some(true);
    if b12f && iron_deficient {
        Label::CombinedIronAndB12FolateDeficiency
    } else if b12f {
        Label::B12FolateDeficiencyAnemia
    } else if v2 && input.panel.has_condition(Condition::SickleCellDisease) {
        // A chronic haemolytic anaemia: a crisis CRP must not relabel it.
        Label::SickleCellDiseaseAnemia
    } else if v2 && f.hemolysis {
        Label::HemolyticAnemiaSuspected
    } else if status == IronStatus::DeficientWithInflammation {
        Label::MixedIronDeficiencyAndInflammation
    } else if status == IronStatus::Deficient {
        Label::IronDeficiencyAnemia
    } else if inflamed && matches!(status, IronStatus::Restricted | IronStatus::Adequate) {
        Label::AnemiaOfInflammation
    } else if inflamed && status == IronStatus::Indeterminate {
        trail.flag(Flag::PossibleCoexistingIronDeficiency);
        Label::AnemiaOfInflammation
    } else if f.morphology.category == Morphology::Microcytic
        && status == IronStatus::Adequate
        && absent
        && mentzer_low
    {
        Label::ThalassemiaTraitSuspected
    } else if status == IronStatus::Adequate && absent {
        Label::AnemiaOther
    } else {
        Label::AnemiaIndeterminate
    }
}
