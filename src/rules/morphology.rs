//! MORPH: MCV category by age, RDW, Mentzer index.

use crate::analyte::Analyte;

use super::{num, show, Eval, Morphology};

pub(crate) fn evaluate(e: &mut Eval) {
    let Some(row) = e.rs.mcv_row(e.lookup_age) else {
        return;
    };
    let (low, high) = (row.mcv_low, row.mcv_high);
    e.mcv_limits = (low, high);
    let Some(mcv) = e.measure(Analyte::Mcv) else {
        return;
    };
    // Bands: (-inf, low) micro, [low, high] normo, (high, inf) macro.
    e.morphology = match (mcv.below(low), mcv.above(high)) {
        (Some(true), _) => Morphology::Microcytic,
        (Some(false), Some(false)) => Morphology::Normocytic,
        (_, Some(true)) => Morphology::Macrocytic,
        _ => Morphology::Unknown,
    };
    e.note(format!(
        "MORPH-001 MCV {} fL with normocytic range {}-{} fL ({}): {}",
        show(mcv),
        num(low),
        num(high),
        row.population,
        e.morphology.code()
    ));
}

/// RDW above the upper limit.
pub(crate) fn rdw_high(e: &Eval) -> Option<bool> {
    e.measure(Analyte::Rdw)
        .and_then(|m| m.above(e.rs.thresholds.rdw_high_above))
}

/// Mentzer index MCV / RBC, with a one-sided bound when one input is censored.
pub(crate) fn mentzer(e: &Eval) -> Option<crate::cell::Measure> {
    super::iron::ratio(e.measure(Analyte::Mcv)?, e.measure(Analyte::Rbc)?)
}
