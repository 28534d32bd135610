//! TEST: follow-up tests the decision needed and lacked, or a flag calls for (§8), never
//! one the panel already has.

use crate::analyte::Analyte;
use crate::cell::Cell;
use crate::codes::{Label, TestCode};

use super::classify::has_result;
use super::{Eval, Inflammation, Morphology};

pub(crate) fn evaluate(e: &mut Eval, label: Label) {
    if e.anemia == Some(true) && e.inflammation == Inflammation::Unknown {
        e.recommend(TestCode::Crp);
    }
    if e.anemia == Some(true) && e.morphology == Morphology::Macrocytic {
        e.recommend(TestCode::B12Folate);
    }
    if label == Label::AnemiaOther {
        e.recommend(TestCode::Reticulocytes);
    }
    // A text result: the test is recommended again.
    for a in Analyte::ALL {
        if matches!(e.panel.cell(a), Cell::Text(_)) {
            if let Some(test) = test_for(a) {
                e.recommend(test);
            }
        }
    }
    let tests = std::mem::take(&mut e.tests);
    let (kept, dropped): (Vec<TestCode>, Vec<TestCode>) =
        tests.into_iter().partition(|t| !already_has(e, *t));
    e.tests = kept;
    if !e.tests.is_empty() || !dropped.is_empty() {
        let codes: Vec<&str> = e.tests.iter().map(|t| t.code()).collect();
        let mut line = format!(
            "TEST-001 recommended: {}",
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
        e.note(line);
    }
}

fn test_for(a: Analyte) -> Option<TestCode> {
    Some(match a {
        Analyte::Hb => TestCode::Hb,
        Analyte::Ferritin => TestCode::Ferritin,
        Analyte::Iron | Analyte::Tibc | Analyte::Transferrin | Analyte::Tsat => TestCode::Tsat,
        Analyte::Crp => TestCode::Crp,
        Analyte::B12 | Analyte::Folate => TestCode::B12Folate,
        Analyte::Retic => TestCode::Reticulocytes,
        Analyte::Stfr => TestCode::Stfr,
        _ => return None,
    })
}

fn already_has(e: &Eval, test: TestCode) -> bool {
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
        TestCode::Reticulocytes => has_result(e, Analyte::Retic),
        TestCode::Stfr => has_result(e, Analyte::Stfr),
        TestCode::HbElectrophoresis | TestCode::SpepFlc => false,
    }
}
