//! HEMOLYSIS (procedure 2026.2): reticulocytosis and the haemolysis markers (LDH,
//! haptoglobin, bilirubin); the haemolysis pattern and reticulocytosis without markers.

use crate::analyte::Analyte;
use crate::vocab::{Flag, Inflammation, RuleId, TestCode};

use super::anemia::AnemiaFinding;
use super::registry::RuleMeta;
use super::{num, show, RuleInput, Trail};

pub(crate) const RULES: &[RuleMeta] = &[
    RuleMeta {
        id: RuleId::Hemolysis001,
        family: "HEMOLYSIS",
        title: "Reticulocytosis",
        rationale_template: "Reticulocytes above {retic_pct_high_above} % or above {retic_abs_high_above} x10^9/L (adult reference ranges), from the youngest age the rules cover.",
        citation: "Dacie and Lewis Practical Haematology (reticulocyte reference ranges)",
        thresholds: &["retic_pct_high_above", "retic_abs_high_above"],
        tables: &[],
        raises: &[],
    },
    RuleMeta {
        id: RuleId::Hemolysis002,
        family: "HEMOLYSIS",
        title: "Haemolysis markers",
        rationale_template: "LDH above {ldh_high_above} U/L (the local upper limit belongs in thresholds.csv), haptoglobin below {haptoglobin_low_below} g/L, total bilirubin above {bilirubin_high_above} mg/dL. Haptoglobin is an acute-phase protein: with inflammation a normal value does not exclude haemolysis.",
        citation: "Barcellini and Fattizzo, Dis Markers 2015",
        thresholds: &["ldh_high_above", "haptoglobin_low_below", "bilirubin_high_above"],
        tables: &[],
        raises: &[],
    },
    RuleMeta {
        id: RuleId::Hemolysis003,
        family: "HEMOLYSIS",
        title: "Haemolysis pattern and reticulocytosis without markers",
        rationale_template: "Reticulocytosis with at least one abnormal marker is a haemolysis pattern at any Hb (compensated haemolysis too); anemic with reticulocytosis and no abnormal marker: haemolysis, acute blood loss or a response to treatment.",
        citation: "Barcellini and Fattizzo, Dis Markers 2015",
        thresholds: &[],
        tables: &[],
        raises: &[Flag::HemolysisPattern, Flag::Reticulocytosis],
    },
];

/// HEMOLYSIS_PATTERN was raised (the classification reads it).
pub(crate) type HemolysisFinding = bool;

/// Reticulocytosis: `Some(reasons)` when a count is certainly high.
fn reticulocytosis(input: &RuleInput, t: &crate::ruleset::Thresholds2026_2) -> Vec<String> {
    let mut high = Vec::new();
    if let Some(m) = input.measure(Analyte::Retic) {
        if m.above(t.retic_pct_high_above) == Some(true) {
            high.push(format!(
                "retic {} % > {}",
                show(m),
                num(t.retic_pct_high_above)
            ));
        }
    }
    if let Some(m) = input.measure(Analyte::RetAbs) {
        if m.above(t.retic_abs_high_above) == Some(true) {
            high.push(format!(
                "absolute retic {} x10^9/L > {}",
                show(m),
                num(t.retic_abs_high_above)
            ));
        }
    }
    high
}

/// The markers: (abnormal ones quoted, how many were measured).
fn markers(input: &RuleInput, t: &crate::ruleset::Thresholds2026_2) -> (Vec<String>, usize) {
    let mut abnormal = Vec::new();
    let mut measured = 0;
    if let Some(m) = input.measure(Analyte::Ldh) {
        measured += 1;
        if m.above(t.ldh_high_above) == Some(true) {
            abnormal.push(format!("LDH {} U/L > {}", show(m), num(t.ldh_high_above)));
        }
    }
    if let Some(m) = input.measure(Analyte::Haptoglobin) {
        measured += 1;
        if m.below(t.haptoglobin_low_below) == Some(true) {
            abnormal.push(format!(
                "haptoglobin {} g/L < {}",
                show(m),
                num(t.haptoglobin_low_below)
            ));
        }
    }
    if let Some(m) = input.measure(Analyte::Bilirubin) {
        measured += 1;
        if m.above(t.bilirubin_high_above) == Some(true) {
            abnormal.push(format!(
                "bilirubin {} mg/dL > {}",
                show(m),
                num(t.bilirubin_high_above)
            ));
        }
    }
    (abnormal, measured)
}

pub(crate) fn evaluate(
    input: &RuleInput,
    anemia: &AnemiaFinding,
    inflammation: Inflammation,
    trail: &mut Trail,
) -> HemolysisFinding {
    let Some(t) = input.v2() else {
        return false;
    };
    let high = reticulocytosis(input, t);
    if high.is_empty() {
        return false;
    }
    trail.note_with(RuleId::Hemolysis001, || high.join(", "));
    let (abnormal, measured) = markers(input, t);
    let all_markers = measured == 3;
    if !abnormal.is_empty() {
        trail.note_with(RuleId::Hemolysis002, || abnormal.join(", "));
    } else if inflammation.counts_as_present() && input.measure(Analyte::Haptoglobin).is_some() {
        trail.note_with(RuleId::Hemolysis002, || {
            "haptoglobin not low, but inflammation raises it: haemolysis not excluded".into()
        });
    }
    if !abnormal.is_empty() {
        trail.flag(Flag::HemolysisPattern);
        trail.recommend(TestCode::Dat);
        trail.recommend(TestCode::BloodFilm);
        if !all_markers {
            trail.recommend(TestCode::HemolysisScreen);
        }
        trail.note_with(RuleId::Hemolysis003, || {
            "reticulocytosis with an abnormal haemolysis marker: haemolysis pattern".into()
        });
        return true;
    }
    if anemia.anemia == Some(true) {
        trail.flag(Flag::Reticulocytosis);
        if !all_markers {
            trail.recommend(TestCode::HemolysisScreen);
        }
        trail.recommend(TestCode::BloodFilm);
        trail.note_with(
            RuleId::Hemolysis003,
            || format!(
                "anemic with reticulocytosis and no abnormal marker ({measured} of 3 measured): haemolysis, acute blood loss or a response to treatment"
            ),
        );
    }
    false
}
