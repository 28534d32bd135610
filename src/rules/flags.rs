//! FLAG: mixed states MCV alone misses, safety and back-pain flags (clinical rules §6).

use crate::analyte::Analyte;
use crate::codes::{Condition, Flag, Medication, TestCode};
use crate::panel::BackPain;

use super::{inflammation, morphology, num, show, Eval, IronStatus, Morphology, Severity};

pub(crate) fn evaluate(e: &mut Eval, in_scope: bool) {
    safety(e);
    if !in_scope {
        return;
    }
    let t = e.rs.thresholds.clone();
    let (low, high) = e.mcv_limits;
    let mcv = e.measure(Analyte::Mcv);
    let iron_deficient = e.iron_status.is_deficient();

    if let Some(m) = mcv {
        if iron_deficient && m.below(low) == Some(false) {
            e.flag(Flag::IronDeficiencyNormalMcv);
            e.note(format!(
                "FLAG-001 iron {} with MCV {} fL >= {}",
                e.iron_status.code(),
                show(m),
                num(low)
            ));
        }
        if e.b12_folate_deficient && m.above(high) == Some(false) {
            e.flag(Flag::B12FolateDeficiencyNormalMcv);
            e.note(format!(
                "FLAG-002 B12/folate deficient with MCV {} fL <= {}",
                show(m),
                num(high)
            ));
        }
    }
    if e.anemia == Some(true)
        && e.morphology == Morphology::Normocytic
        && morphology::rdw_high(e) == Some(true)
    {
        e.flag(Flag::HighRdwNormalMcv);
        for test in [TestCode::Ferritin, TestCode::Tsat, TestCode::B12Folate] {
            e.recommend(test);
        }
        e.note(format!(
            "FLAG-003 anemic, normocytic, RDW {} % > {}: possible dimorphic population",
            e.measure(Analyte::Rdw).map_or(String::new(), show),
            num(t.rdw_high_above)
        ));
    }
    let adequate_or_restricted =
        matches!(e.iron_status, IronStatus::Adequate | IronStatus::Restricted);
    if e.morphology == Morphology::Microcytic && adequate_or_restricted {
        e.flag(Flag::MicrocytosisWithoutIronDeficiency);
        e.note(format!(
            "FLAG-004 microcytic with iron {}",
            e.iron_status.code()
        ));
        if let Some(ix) = morphology::mentzer(e) {
            if ix.below(t.mentzer_thalassemia_below) == Some(true) {
                e.flag(Flag::ThalassemiaTraitPattern);
                e.recommend(TestCode::HbElectrophoresis);
                e.note(format!(
                    "FLAG-005 MORPH-003 Mentzer index {} < {} with iron {}: thalassemia trait pattern",
                    show(ix),
                    num(t.mentzer_thalassemia_below),
                    e.iron_status.code()
                ));
            }
        }
    }
    myeloma(e, &t);
    nsaid(e, &t);
    if e.panel.takes(Medication::Corticosteroid) && e.panel.back_pain.reported() {
        e.flag(Flag::SteroidFractureRisk);
        e.note(format!(
            "FLAG-010 corticosteroid with back pain ({})",
            e.panel.back_pain.code()
        ));
    }
}

/// Evaluated at every age, also out of scope.
fn safety(e: &mut Eval) {
    let t = &e.rs.thresholds;
    if let Some(hb) = e.measure(Analyte::Hb) {
        let cvd = e.panel.has_condition(Condition::CardiovascularDisease);
        let cutoff = if cvd {
            t.transfusion_hb_below_cardiovascular
        } else {
            t.transfusion_hb_below
        };
        if hb.below(cutoff) == Some(true) {
            e.flag(Flag::SevereAnemiaTransfusionThreshold);
            e.note(format!(
                "FLAG-006 Hb {} g/dL < {} g/dL{}: transfusion threshold",
                show(hb),
                num(cutoff),
                if cvd { " (cardiovascular disease)" } else { "" }
            ));
        }
    }
    if let Some(esr) = e.measure(Analyte::Esr) {
        if esr.below(t.very_high_esr_from) == Some(false) {
            e.flag(Flag::VeryHighEsr);
            e.note(format!(
                "FLAG-008 ESR {} mm/h >= {}",
                show(esr),
                num(t.very_high_esr_from)
            ));
        }
    }
}

fn myeloma(e: &mut Eval, t: &crate::ruleset::Thresholds) {
    let p = e.panel;
    if e.anemia != Some(true)
        || !p.back_pain.reported()
        || p.age_years.is_some_and(|a| a < t.myeloma_min_age_years)
    {
        return;
    }
    let mut reasons = Vec::new();
    if let (Some(age), Some(esr)) = (p.age_years, e.measure(Analyte::Esr)) {
        let uln = inflammation::esr_upper_limit(e);
        if age >= t.myeloma_esr_age_years && esr.above(uln) == Some(true) {
            reasons.push(format!(
                "age {} >= {} with ESR {} mm/h > {}",
                num(age),
                num(t.myeloma_esr_age_years),
                show(esr),
                num(uln)
            ));
        }
    }
    if let Some(ca) = e.measure(Analyte::Calcium) {
        if ca.above(t.myeloma_calcium_above) == Some(true) {
            reasons.push(format!(
                "calcium {} mg/dL > {}",
                show(ca),
                num(t.myeloma_calcium_above)
            ));
        }
    }
    if let Some(cr) = e.measure(Analyte::Creatinine) {
        if cr.above(t.myeloma_creatinine_above) == Some(true) {
            reasons.push(format!(
                "creatinine {} mg/dL > {}",
                show(cr),
                num(t.myeloma_creatinine_above)
            ));
        }
    }
    if !reasons.is_empty() {
        e.flag(Flag::MyelomaScreenSuggested);
        e.recommend(TestCode::SpepFlc);
        e.note(format!(
            "FLAG-007 anemia with back pain and {}",
            reasons.join(", ")
        ));
    }
}

fn nsaid(e: &mut Eval, t: &crate::ruleset::Thresholds) {
    let p = e.panel;
    if p.back_pain == BackPain::No {
        return;
    }
    let mut reasons = Vec::new();
    if e.iron_status.is_deficient() {
        reasons.push("iron deficiency (NSAIDs cause GI blood loss)".to_string());
    }
    if let Some(egfr) = e.measure(Analyte::Egfr) {
        if egfr.below(t.nsaid_egfr_below) == Some(true) {
            reasons.push(format!(
                "eGFR {} < {} mL/min/1.73m2",
                show(egfr),
                num(t.nsaid_egfr_below)
            ));
        }
    }
    if let Some(cr) = e.measure(Analyte::Creatinine) {
        if cr.above(t.nsaid_creatinine_above) == Some(true) {
            reasons.push(format!(
                "creatinine {} mg/dL > {}",
                show(cr),
                num(t.nsaid_creatinine_above)
            ));
        }
    }
    if p.takes(Medication::Anticoagulant) {
        reasons.push("anticoagulant".to_string());
    }
    if p.has_condition(Condition::ChronicKidneyDisease) {
        reasons.push("chronic kidney disease".to_string());
    }
    if p.has_condition(Condition::HeartFailure) {
        reasons.push("heart failure".to_string());
    }
    if e.severity == Some(Severity::Severe) {
        reasons.push("severe anemia".to_string());
    }
    if !reasons.is_empty() {
        e.flag(Flag::NsaidCaution);
        e.note(format!(
            "FLAG-009 back pain {} with {}",
            p.back_pain.code(),
            reasons.join("; ")
        ));
        e.nsaid_reasons = reasons;
    }
}
