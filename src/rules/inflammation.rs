//! INFLAM: CRP, ESR (adults), AGP, and the presumed state from a chronic condition.

use crate::analyte::Analyte;
use crate::codes::{Condition, Flag, TestCode};
use crate::panel::Sex;

use super::{num, show, Eval, Inflammation};

/// Conditions that define anemia of chronic disease when no marker decides.
const CHRONIC_INFLAMMATORY: [Condition; 6] = [
    Condition::RheumatoidArthritis,
    Condition::AnkylosingSpondylitis,
    Condition::InflammatoryBowelDisease,
    Condition::ChronicKidneyDisease,
    Condition::HeartFailure,
    Condition::Cancer,
];

/// Westergren ESR upper limit for the panel (Miller 1983), in mm/h.
pub(crate) fn esr_upper_limit(e: &Eval) -> f64 {
    let t = &e.rs.thresholds;
    let male = e.sex == Sex::Male;
    match e.panel.age_years {
        Some(age) => {
            let offset = if male {
                t.esr_uln_offset_male
            } else {
                t.esr_uln_offset_female
            };
            (age + offset) / t.esr_uln_divisor
        }
        None if male => t.esr_uln_age_missing_male,
        None => t.esr_uln_age_missing_female,
    }
}

pub(crate) fn evaluate(e: &mut Eval) {
    let t = &e.rs.thresholds;
    let mut raised = Vec::new();
    let mut not_raised = Vec::new();

    if let Some(crp) = e.measure(Analyte::Crp) {
        let text = format!(
            "CRP {} mg/L vs > {}",
            show(crp),
            num(t.crp_inflammation_above)
        );
        match crp.above(t.crp_inflammation_above) {
            Some(true) => raised.push(("INFLAM-001", text)),
            Some(false) => not_raised.push(("INFLAM-001", text)),
            None => e.note(format!("INFLAM-001 {text}: censored value does not decide")),
        }
    }
    if let Some(esr) = e.measure(Analyte::Esr) {
        if e.adult {
            let uln = esr_upper_limit(e);
            let text = format!("ESR {} mm/h vs upper limit {} mm/h", show(esr), num(uln));
            match esr.above(uln) {
                Some(true) => raised.push(("INFLAM-002", text)),
                Some(false) => not_raised.push(("INFLAM-002", text)),
                None => e.note(format!("INFLAM-002 {text}: censored value does not decide")),
            }
        } else {
            e.note(format!(
                "INFLAM-002 ESR {} mm/h not used under {} y (adult limits)",
                show(esr),
                num(t.adult_age_years)
            ));
        }
    }
    if let Some(agp) = e.measure(Analyte::Agp) {
        let text = format!(
            "AGP {} g/L vs > {}",
            show(agp),
            num(t.agp_inflammation_above)
        );
        match agp.above(t.agp_inflammation_above) {
            Some(true) => raised.push(("INFLAM-003", text)),
            Some(false) => not_raised.push(("INFLAM-003", text)),
            None => e.note(format!("INFLAM-003 {text}: censored value does not decide")),
        }
    }

    let named: Vec<&str> = CHRONIC_INFLAMMATORY
        .iter()
        .filter(|c| e.panel.has_condition(**c))
        .map(|c| c.code())
        .collect();
    e.inflammation = if !raised.is_empty() {
        for (id, text) in &raised {
            e.note(format!("{id} {text}: raised"));
        }
        Inflammation::Present
    } else if !not_raised.is_empty() {
        for (id, text) in &not_raised {
            e.note(format!("{id} {text}: not raised"));
        }
        Inflammation::Absent
    } else if !named.is_empty() {
        e.flag(Flag::InflammationPresumed);
        e.recommend(TestCode::Crp);
        Inflammation::Presumed
    } else {
        Inflammation::Unknown
    };
    let why = match e.inflammation {
        Inflammation::Presumed => format!(
            " (no marker decides; chronic inflammatory condition {})",
            named.join(", ")
        ),
        Inflammation::Unknown => " (no marker decides)".to_string(),
        _ => String::new(),
    };
    e.note(format!(
        "INFLAM-004 inflammation {}{why}",
        e.inflammation.code()
    ));
}
