//! IRON: TSAT derivation, sTfR index, iron status, overload pattern, B12/folate.

use crate::analyte::Analyte;
use crate::cell::{Censor, Measure};
use crate::codes::{Flag, TestCode};
use crate::panel::Sex;

use super::{num, show, Eval, Inflammation, IronStatus};

/// `num / den` keeping a one-sided bound when exactly one input is censored (the ratio
/// increases with `num` and decreases with `den`); missing when both are censored.
pub(crate) fn ratio(num: Measure, den: Measure) -> Option<Measure> {
    if den.value <= 0.0 {
        return None;
    }
    let censor = match (num.censor, den.censor) {
        (c, Censor::Exact) => c,
        (Censor::Exact, c) => c.reversed(),
        _ => return None,
    };
    Some(Measure {
        value: num.value / den.value,
        censor,
    })
}

/// TSAT: reported, else iron / TIBC, else iron / (1.40 x transferrin).
fn tsat(e: &mut Eval) -> Option<Measure> {
    let t = &e.rs.thresholds;
    if let Some(m) = e.measure(Analyte::Tsat) {
        return Some(m);
    }
    let iron = e.measure(Analyte::Iron)?;
    let (tibc, how) = match (e.measure(Analyte::Tibc), e.measure(Analyte::Transferrin)) {
        (Some(tibc), _) => (tibc, format!("TIBC {} ug/dL", show(tibc))),
        (None, Some(tf)) => (
            Measure {
                value: tf.value * t.tibc_per_transferrin,
                censor: tf.censor,
            },
            format!(
                "TIBC {} x transferrin {} mg/dL",
                num(t.tibc_per_transferrin),
                show(tf)
            ),
        ),
        (None, None) => return None,
    };
    let derived = ratio(iron, tibc).map(|m| Measure {
        value: m.value * 100.0,
        censor: m.censor,
    });
    let Some(d) = derived else {
        e.note(format!(
            "IRON-001 TSAT not derivable from iron {} ug/dL and {how}",
            show(iron)
        ));
        return None;
    };
    if d.value > t.tsat_derived_max && matches!(d.censor, Censor::Exact | Censor::Gt | Censor::Ge) {
        e.note(format!(
            "IRON-001 derived TSAT {} % > {} % (iron {} ug/dL above {how}): implausible, treated as missing",
            show(d),
            num(t.tsat_derived_max),
            show(iron)
        ));
        return None;
    }
    e.flag(Flag::TsatDerived);
    e.note(format!(
        "IRON-001 TSAT derived = iron {} ug/dL / {how} x 100 = {} %",
        show(iron),
        show(d)
    ));
    Some(d)
}

/// sTfR index = sTfR / log10(ferritin), only when ferritin is certainly above the minimum.
fn stfr_index(e: &mut Eval) -> Option<Measure> {
    let min = e.rs.thresholds.stfr_index_min_ferritin;
    let stfr = e.measure(Analyte::Stfr)?;
    let ferritin = e.measure(Analyte::Ferritin)?;
    let usable = match ferritin.censor {
        Censor::Exact | Censor::Ge => ferritin.value > min,
        Censor::Gt => ferritin.value >= min,
        Censor::Lt | Censor::Le => false,
    };
    if !usable {
        return None;
    }
    let index = ratio(
        stfr,
        Measure {
            value: ferritin.value.log10(),
            censor: ferritin.censor,
        },
    )?;
    e.note(format!(
        "IRON-002 sTfR index = sTfR {} mg/L / log10(ferritin {}) = {}",
        show(stfr),
        show(ferritin),
        show(index)
    ));
    Some(index)
}

pub(crate) fn evaluate(e: &mut Eval) {
    let t = e.rs.thresholds.clone();
    e.tsat = tsat(e);
    let tsat = e.tsat;
    let index = stfr_index(e);
    let ferritin = e.measure(Analyte::Ferritin);
    let anemic = e.anemia == Some(true);
    let row = e.rs.ferritin_row(e.lookup_age, anemic).cloned();
    let inflamed = e.inflammation.counts_as_present();

    let status = match (ferritin, &row) {
        (Some(f), Some(row)) if inflamed && e.adult => {
            let low = row.deficient_below_with_inflammation;
            let high = t.ferritin_inflammation_band_upper;
            match f.band(&[low, high]) {
                Some(0) => {
                    e.note(format!("IRON-003 ferritin {} ug/L < {} with inflammation: deficient_with_inflammation", show(f), num(low)));
                    Some(IronStatus::DeficientWithInflammation)
                }
                Some(1) => Some(middle_band(e, f, low, high, tsat, index, &t)),
                Some(_) => {
                    let status = match tsat.and_then(|m| m.below(t.tsat_restricted_below)) {
                        Some(true) => IronStatus::Restricted,
                        _ => IronStatus::Adequate,
                    };
                    e.note(format!(
                        "IRON-003 ferritin {} ug/L >= {} with inflammation, TSAT {} vs < {} %: {}",
                        show(f),
                        num(high),
                        tsat.map_or("missing".to_string(), |m| format!("{} %", show(m))),
                        num(t.tsat_restricted_below),
                        status.code()
                    ));
                    Some(status)
                }
                None => None,
            }
        }
        (Some(f), Some(row)) if inflamed => {
            let cutoff = row.deficient_below_with_inflammation;
            f.below(cutoff).map(|below| {
                let status = if below {
                    IronStatus::DeficientWithInflammation
                } else {
                    IronStatus::Adequate
                };
                // Masked: deficient although ferritin is at or above the adult
                // with-inflammation cutoff, i.e. it would look replete to an adult reading.
                let adult_cutoff =
                    e.rs.ferritin_row(t.adult_age_years, false)
                        .map_or(cutoff, |r| r.deficient_below_with_inflammation);
                if below && f.below(adult_cutoff) == Some(false) {
                    e.flag(Flag::MaskedIronDeficiency);
                }
                e.note(format!(
                    "IRON-003 child ({}) ferritin {} ug/L vs < {} with inflammation: {}",
                    row.population,
                    show(f),
                    num(cutoff),
                    status.code()
                ));
                status
            })
        }
        (Some(f), Some(row)) if e.inflammation == Inflammation::Absent => {
            let cutoff = row.deficient_below_no_inflammation;
            f.below(cutoff).map(|below| {
                if below {
                    e.note(format!(
                        "IRON-004 ferritin {} ug/L < {} ({}): deficient",
                        show(f),
                        num(cutoff),
                        row.population
                    ));
                    IronStatus::Deficient
                } else {
                    let low_tsat = tsat.and_then(|m| m.below(t.tsat_low_adequate_ferritin_below))
                        == Some(true);
                    if low_tsat {
                        e.flag(Flag::LowTsatAdequateFerritin);
                    }
                    e.note(format!(
                        "IRON-004 ferritin {} ug/L >= {} ({}): adequate{}",
                        show(f),
                        num(cutoff),
                        row.population,
                        if low_tsat {
                            format!(
                                ", TSAT {} % < {}",
                                tsat.map_or(String::new(), show),
                                num(t.tsat_low_adequate_ferritin_below)
                            )
                        } else {
                            String::new()
                        }
                    ));
                    IronStatus::Adequate
                }
            })
        }
        (Some(f), Some(row)) => {
            let cutoff = row.deficient_below_no_inflammation;
            let high = t.ferritin_inflammation_band_upper;
            f.band(&[cutoff, high]).map(|band| {
                let status = match band {
                    0 => IronStatus::Deficient,
                    1 => IronStatus::Indeterminate,
                    _ => IronStatus::Adequate,
                };
                if band < 2 {
                    e.recommend(TestCode::Crp);
                }
                e.note(format!(
                    "IRON-005 inflammation unknown, ferritin {} ug/L (deficient below {}, adequate from {}): {}",
                    show(f),
                    num(cutoff),
                    num(high),
                    status.code()
                ));
                status
            })
        }
        _ => None,
    };

    e.iron_status = match status {
        Some(s) => s,
        None => {
            let low_tsat =
                tsat.and_then(|m| m.below(t.tsat_low_adequate_ferritin_below)) == Some(true);
            let status = if low_tsat && e.inflammation == Inflammation::Absent {
                IronStatus::Indeterminate
            } else {
                IronStatus::Unknown
            };
            e.recommend(TestCode::Ferritin);
            e.recommend(TestCode::Tsat);
            e.note(format!(
                "IRON-006 ferritin {}: iron status {}",
                ferritin.map_or("missing".to_string(), |f| format!(
                    "{} ug/L does not decide",
                    show(f)
                )),
                status.code()
            ));
            status
        }
    };
    if e.iron_status == IronStatus::Indeterminate {
        e.recommend(TestCode::Tsat);
        e.recommend(TestCode::Stfr);
    }

    overload(e, ferritin, tsat, &t);
    b12_folate(e, &t);
}

/// Adults with inflammation, ferritin in [low, high): sTfR index first, then TSAT.
fn middle_band(
    e: &mut Eval,
    f: Measure,
    low: f64,
    high: f64,
    tsat: Option<Measure>,
    index: Option<Measure>,
    t: &crate::ruleset::Thresholds,
) -> IronStatus {
    let band = format!(
        "ferritin {} ug/L in {}-{} with inflammation",
        show(f),
        num(low),
        num(high - 1.0)
    );
    if let Some(ix) = index {
        if ix.below(t.stfr_index_restricted_below) == Some(true) {
            e.note(format!(
                "IRON-003 {band}, sTfR index {} < {}: restricted",
                show(ix),
                num(t.stfr_index_restricted_below)
            ));
            return IronStatus::Restricted;
        }
        if ix.above(t.stfr_index_deficient_above) == Some(true) {
            e.flag(Flag::MaskedIronDeficiency);
            e.note(format!(
                "IRON-003 {band}, sTfR index {} > {}: deficient_with_inflammation",
                show(ix),
                num(t.stfr_index_deficient_above)
            ));
            return IronStatus::DeficientWithInflammation;
        }
        // Index between the two cutoffs (or undecided): the TSAT rule decides.
    }
    match tsat.and_then(|m| m.below(t.tsat_restricted_below)) {
        Some(true) => {
            e.flag(Flag::MaskedIronDeficiency);
            e.note(format!(
                "IRON-003 {band}, TSAT {} % < {}: deficient_with_inflammation",
                tsat.map_or(String::new(), show),
                num(t.tsat_restricted_below)
            ));
            IronStatus::DeficientWithInflammation
        }
        Some(false) => {
            e.note(format!(
                "IRON-003 {band}, TSAT {} % >= {}: adequate",
                tsat.map_or(String::new(), show),
                num(t.tsat_restricted_below)
            ));
            IronStatus::Adequate
        }
        None => {
            e.note(format!("IRON-003 {band}, TSAT missing: indeterminate"));
            IronStatus::Indeterminate
        }
    }
}

fn overload(
    e: &mut Eval,
    ferritin: Option<Measure>,
    tsat: Option<Measure>,
    t: &crate::ruleset::Thresholds,
) {
    if !e.adult || e.inflammation.counts_as_present() {
        return;
    }
    let (Some(f), Some(ts)) = (ferritin, tsat) else {
        return;
    };
    let ferritin_cut = if e.sex == Sex::Female {
        t.overload_ferritin_female_above
    } else {
        t.overload_ferritin_male_above
    };
    if ts.above(t.overload_tsat_above) == Some(true) && f.above(ferritin_cut) == Some(true) {
        e.flag(Flag::IronOverloadPattern);
        e.note(format!(
            "IRON-007 TSAT {} % > {} and ferritin {} ug/L > {} without inflammation present: iron overload pattern",
            show(ts),
            num(t.overload_tsat_above),
            show(f),
            num(ferritin_cut)
        ));
    }
}

fn b12_folate(e: &mut Eval, t: &crate::ruleset::Thresholds) {
    let mut reasons = Vec::new();
    if let Some(b12) = e.measure(Analyte::B12) {
        if b12.below(t.b12_deficient_below) == Some(true) {
            reasons.push(format!(
                "B12 {} pg/mL < {}",
                show(b12),
                num(t.b12_deficient_below)
            ));
        }
    }
    if let Some(folate) = e.measure(Analyte::Folate) {
        if folate.below(t.folate_deficient_below) == Some(true) {
            reasons.push(format!(
                "folate {} ng/mL < {}",
                show(folate),
                num(t.folate_deficient_below)
            ));
        }
    }
    if !reasons.is_empty() {
        e.b12_folate_deficient = true;
        e.note(format!(
            "IRON-008 {}: B12/folate deficient",
            reasons.join(", ")
        ));
    }
}
