//! TEST: follow-up tests the decision needed and lacked, or a flag calls for (§8), never
//! one the panel already has.

use crate::analyte::Analyte;
use crate::cell::Cell;
use crate::panel::Panel;
use crate::vocab::{Inflammation, Label, Morphology, RuleId, TestCode};

use super::flags::Findings;
use super::registry::RuleMeta;
use super::{RuleInput, Trail};

pub(crate) const RULES: &[RuleMeta] = &[RuleMeta {
    id: RuleId::Test001,
    family: "TEST",
    title: "Recommended tests",
    rationale_template: "What the decision needed and lacked, and what a flag calls for; never a test the panel already has.",
    citation: "anemia-engine clinical rules 2026.1 section 8",
    thresholds: &[],
    tables: &[],
    raises: &[],
}];

pub(crate) fn evaluate(input: &RuleInput, f: &Findings, label: Label, trail: &mut Trail) {
    let anemic = f.anemia.anemia == Some(true);
    if anemic && f.inflammation == Inflammation::Unknown {
        trail.recommend(TestCode::Crp);
    }
    if anemic && f.morphology.category == Morphology::Macrocytic {
        trail.recommend(TestCode::B12Folate);
    }
    if label == Label::AnemiaOther {
        trail.recommend(TestCode::Reticulocytes);
        // 2026.2: a blood film for macrocytic, or normocytic without raised reticulocytes.
        if let Some(t2) = input.v2() {
            let retic_raised = input
                .measure(Analyte::Retic)
                .and_then(|m| m.above(t2.retic_pct_high_above))
                == Some(true)
                || input
                    .measure(Analyte::RetAbs)
                    .and_then(|m| m.above(t2.retic_abs_high_above))
                    == Some(true);
            match f.morphology.category {
                Morphology::Macrocytic => trail.recommend(TestCode::BloodFilm),
                Morphology::Normocytic if !retic_raised => trail.recommend(TestCode::BloodFilm),
                _ => {}
            }
        }
    }
    // A text result: the test is recommended again.
    for a in Analyte::ALL {
        if matches!(input.panel.cell(a), Cell::Text(_)) {
            if let Some(test) = test_for(a) {
                trail.recommend(test);
            }
        }
    }
    // 2026.2: a censored result that could not decide is not a result for the test: it is
    // recommended again (a more sensitive assay).
    let undecided: Vec<TestCode> = if input.v2().is_some() {
        let tests: Vec<TestCode> = trail
            .undecided
            .iter()
            .filter_map(|a| test_for(*a))
            .collect();
        for t in &tests {
            trail.recommend(*t);
        }
        tests
    } else {
        Vec::new()
    };
    let tests = std::mem::take(&mut trail.tests);
    let (kept, dropped): (Vec<TestCode>, Vec<TestCode>) = tests
        .into_iter()
        .partition(|t| undecided.contains(t) || !already_has(input.panel, *t));
    trail.tests = kept;
    if !trail.tests.is_empty() || !dropped.is_empty() {
        let codes: Vec<&str> = trail.tests.iter().map(|t| t.code()).collect();
        trail.note_with(RuleId::Test001, || {
            let mut line = format!(
                "recommended: {}",
                if codes.is_empty() {
                    "none".to_string()
                } else {
                    codes.join(", ")
                }
            );
            if !dropped.is_empty() {
                let d: Vec<&str> = dropped.iter().map(|t| t.code()).collect();
                line.push_str(&format!(" (already present: {})", d.join(", ")));
            }
            if !undecided.is_empty() {
                let u: Vec<&str> = undecided.iter().map(|t| t.code()).collect();
                line.push_str(&format!(
                    " (censored result did not decide, a more sensitive assay: {})",
                    u.join(", ")
                ));
            }
            line
        });
    }
}

fn test_for(a: Analyte) -> Option<TestCode> {
    Some(match a {
        Analyte::Hb => TestCode::Hb,
        Analyte::Ferritin => TestCode::Ferritin,
        Analyte::Iron | Analyte::Tibc | Analyte::Transferrin | Analyte::Tsat => TestCode::Tsat,
        Analyte::Crp => TestCode::Crp,
        Analyte::B12 | Analyte::Folate => TestCode::B12Folate,
        Analyte::Retic | Analyte::RetAbs => TestCode::Reticulocytes,
        Analyte::Ldh | Analyte::Haptoglobin | Analyte::Bilirubin => TestCode::HemolysisScreen,
        Analyte::Stfr => TestCode::Stfr,
        _ => return None,
    })
}

/// Whether the panel already has a result for a follow-up test (a censored result counts,
/// a text result does not).
fn has_result(panel: &Panel, analyte: Analyte) -> bool {
    panel.cell(analyte).is_present()
}

fn already_has(e: &Panel, test: TestCode) -> bool {
    match test {
        TestCode::Hb => has_result(e, Analyte::Hb),
        TestCode::Ferritin => has_result(e, Analyte::Ferritin),
        TestCode::Tsat => {
            has_result(e, Analyte::Tsat)
                || (has_result(e, Analyte::Iron)
                    && (has_result(e, Analyte::Tibc) || has_result(e, Analyte::Transferrin)))
        }
        TestCode::Crp => has_result(e, Analyte::Crp),
        TestCode::B12Folate => has_result(e, Analyte::B12) && has_result(e, Analyte::Folate),
        TestCode::Reticulocytes => has_result(e, Analyte::Retic) || has_result(e, Analyte::RetAbs),
        TestCode::HemolysisScreen => {
            has_result(e, Analyte::Ldh)
                && has_result(e, Analyte::Haptoglobin)
                && has_result(e, Analyte::Bilirubin)
        }
        TestCode::Stfr => has_result(e, Analyte::Stfr),
        TestCode::HbElectrophoresis
        | TestCode::SpepFlc
        | TestCode::Dat
        | TestCode::BloodFilm
        | TestCode::HfeGenotype => false,
    }
}
