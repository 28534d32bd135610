//! IRON: TSAT derivation, sTfR index, iron status, overload pattern, B12/folate.

use crate::analyte::Analyte;
use crate::cell::{Censor, Measure};
use crate::ruleset::{FerritinRow, Thresholds};
use crate::vocab::{Flag, Inflammation, IronStatus, RuleId, TestCode};

use super::anemia::AnemiaFinding;
use super::registry::RuleMeta;
use super::{num, show, RuleInput, Trail};

pub(crate) const RULES: &[RuleMeta] = &[
    RuleMeta {
        id: RuleId::Iron001,
        family: "IRON",
        title: "TSAT",
        rationale_template: "Reported TSAT, else iron/TIBC x 100, else from transferrin (TIBC = {tibc_per_transferrin} x transferrin); a derived value above {tsat_derived_max} % is implausible.",
        citation: "Gambino et al. Clin Chem 1997; anemia-engine clinical rules 2026.1 section 4",
        thresholds: &["tibc_per_transferrin", "tsat_derived_max"],
        tables: &[],
        raises: &[Flag::TsatDerived],
    },
    RuleMeta {
        id: RuleId::Iron002,
        family: "IRON",
        title: "sTfR index",
        rationale_template: "sTfR / log10(ferritin), when ferritin is above {stfr_index_min_ferritin} ug/L.",
        citation: "Weiss & Goodnough, NEJM 2005",
        thresholds: &["stfr_index_min_ferritin"],
        tables: &[],
        raises: &[],
    },
    RuleMeta {
        id: RuleId::Iron003,
        family: "IRON",
        title: "Iron status with inflammation",
        rationale_template: "Adults: ferritin < {ferritin_adult_with_inflammation_below} deficient; {ferritin_adult_with_inflammation_below}-{ferritin_inflammation_band_last} decided by sTfR index or TSAT; >= {ferritin_inflammation_band_upper} restricted if TSAT low. Children: the with-inflammation ferritin cutoff.",
        citation: "Weiss & Goodnough NEJM 2005; ESC 2021; NICE NG203; WHO 2020 ferritin guideline",
        thresholds: &[
            "ferritin_inflammation_band_upper",
            "tsat_restricted_below",
            "stfr_index_deficient_above",
            "stfr_index_restricted_below",
        ],
        tables: &["ferritin_cutoffs.csv"],
        raises: &[Flag::MaskedIronDeficiency],
    },
    RuleMeta {
        id: RuleId::Iron004,
        family: "IRON",
        title: "Iron status without inflammation",
        rationale_template: "Ferritin below the population cutoff is deficient; otherwise adequate, with low TSAT flagged.",
        citation: "WHO 2020 ferritin guideline; AGA 2020; BSG 2021",
        thresholds: &["tsat_low_adequate_ferritin_below"],
        tables: &["ferritin_cutoffs.csv"],
        raises: &[Flag::LowTsatAdequateFerritin],
    },
    RuleMeta {
        id: RuleId::Iron005,
        family: "IRON",
        title: "Iron status with inflammation unknown",
        rationale_template: "Below the no-inflammation cutoff deficient; from it to {ferritin_inflammation_band_last} indeterminate; {ferritin_inflammation_band_upper} and over adequate; CRP recommended.",
        citation: "anemia-engine clinical rules 2026.1 section 4",
        thresholds: &["ferritin_inflammation_band_upper"],
        tables: &["ferritin_cutoffs.csv"],
        raises: &[],
    },
    RuleMeta {
        id: RuleId::Iron006,
        family: "IRON",
        title: "Ferritin missing",
        rationale_template: "Without ferritin iron status is unknown, unless TSAT is low without inflammation (indeterminate).",
        citation: "anemia-engine clinical rules 2026.1 section 4",
        thresholds: &["tsat_low_adequate_ferritin_below"],
        tables: &[],
        raises: &[],
    },
];

/// The iron and B12/folate decisions.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct IronFinding {
    pub status: IronStatus,
    /// Reported or derived TSAT (IRON-001).
    pub tsat: Option<Measure>,
    pub b12_folate_deficient: bool,
}

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

/// IRON-001: TSAT reported, else iron / TIBC, else iron / (1.40 x transferrin).
fn tsat(input: &RuleInput, trail: &mut Trail) -> Option<Measure> {
    let t = &input.rs.thresholds;
    if let Some(m) = input.measure(Analyte::Tsat) {
        return Some(m);
    }
    let iron = input.measure(Analyte::Iron)?;
    let (tibc, how) = match (
        input.measure(Analyte::Tibc),
        input.measure(Analyte::Transferrin),
    ) {
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
        trail.note_with(RuleId::Iron001, || {
            format!(
                "TSAT not derivable from iron {} ug/dL and {how}",
                show(iron)
            )
        });
        return None;
    };
    if d.value > t.tsat_derived_max && matches!(d.censor, Censor::Exact | Censor::Gt | Censor::Ge) {
        trail.note_with(
            RuleId::Iron001,
            || format!(
                "derived TSAT {} % > {} % (iron {} ug/dL above {how}): implausible, treated as missing",
                show(d),
                num(t.tsat_derived_max),
                show(iron)
            ),
        );
        return None;
    }
    trail.flag(Flag::TsatDerived);
    trail.note_with(RuleId::Iron001, || {
        format!(
            "TSAT derived = iron {} ug/dL / {how} x 100 = {} %",
            show(iron),
            show(d)
        )
    });
    Some(d)
}

/// IRON-002: sTfR index = sTfR / log10(ferritin), only when ferritin is certainly above
/// the minimum.
fn stfr_index(input: &RuleInput, trail: &mut Trail) -> Option<Measure> {
    let min = input.rs.thresholds.stfr_index_min_ferritin;
    let stfr = input.measure(Analyte::Stfr)?;
    let ferritin = input.measure(Analyte::Ferritin)?;
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
    trail.note_with(RuleId::Iron002, || {
        format!(
            "sTfR index = sTfR {} mg/L / log10(ferritin {}) = {}",
            show(stfr),
            show(ferritin),
            show(index)
        )
    });
    Some(index)
}

/// What the ferritin rules read, gathered once.
struct IronInputs<'a> {
    input: &'a RuleInput<'a>,
    t: &'a Thresholds,
    ferritin: Measure,
    row: &'a FerritinRow,
    tsat: Option<Measure>,
    index: Option<Measure>,
}

pub(crate) fn evaluate(
    input: &RuleInput,
    anemia: &AnemiaFinding,
    inflammation: Inflammation,
    trail: &mut Trail,
) -> IronFinding {
    let t = &input.rs.thresholds;
    let tsat = tsat(input, trail);
    let index = stfr_index(input, trail);
    let ferritin = input.measure(Analyte::Ferritin);
    let row = input
        .rs
        .ferritin_row(input.lookup_age, anemia.anemia == Some(true));
    let heart_failure =
        super::iron_context::heart_failure(input, ferritin, tsat, inflammation, trail);
    let decided = match (ferritin, row) {
        _ if heart_failure.is_some() => heart_failure,
        (Some(ferritin), Some(row)) => {
            let x = IronInputs {
                input,
                t,
                ferritin,
                row,
                tsat,
                index,
            };
            if inflammation.counts_as_present() && input.adult {
                adult_inflamed(&x, trail)
            } else if inflammation.counts_as_present() {
                child_inflamed(&x, trail)
            } else if inflammation == Inflammation::Absent {
                not_inflamed(&x, trail)
            } else {
                inflammation_unknown(&x, trail)
            }
        }
        _ => None,
    };
    let status = match decided {
        Some(s) => s,
        None => {
            if ferritin.is_some() {
                trail.undecided(Analyte::Ferritin);
            }
            ferritin_undecided(ferritin, tsat, inflammation, t, trail)
        }
    };
    if status == IronStatus::Indeterminate {
        trail.recommend(TestCode::Tsat);
        trail.recommend(TestCode::Stfr);
    }
    super::iron_context::overload(input, inflammation, ferritin, tsat, trail);
    super::iron_context::ckd_trial(input, anemia, ferritin, tsat, trail);
    IronFinding {
        status,
        tsat,
        b12_folate_deficient: super::iron_context::b12_folate(input, trail),
    }
}

fn tsat_text(tsat: Option<Measure>) -> String {
    tsat.map_or(String::new(), |m| show(m).to_string())
}

/// IRON-003, adults with inflammation.
fn adult_inflamed(x: &IronInputs, trail: &mut Trail) -> Option<IronStatus> {
    let (f, t) = (x.ferritin, x.t);
    let low = x.row.deficient_below_with_inflammation;
    let high = t.ferritin_inflammation_band_upper;
    match f.band(&[low, high])? {
        0 => {
            trail.note_with(RuleId::Iron003, || {
                format!(
                    "ferritin {} ug/L < {} with inflammation: deficient_with_inflammation",
                    show(f),
                    num(low)
                )
            });
            Some(IronStatus::DeficientWithInflammation)
        }
        1 => Some(middle_band(x, low, high, trail)),
        _ => {
            let status = match x.tsat.and_then(|m| m.below(t.tsat_restricted_below)) {
                Some(true) => IronStatus::Restricted,
                _ => IronStatus::Adequate,
            };
            trail.note_with(RuleId::Iron003, || {
                format!(
                    "ferritin {} ug/L >= {} with inflammation, TSAT {} vs < {} %: {}",
                    show(f),
                    num(high),
                    x.tsat
                        .map_or("missing".to_string(), |m| format!("{} %", show(m))),
                    num(t.tsat_restricted_below),
                    status.code()
                )
            });
            Some(status)
        }
    }
}

/// IRON-003, adults with inflammation, ferritin in [low, high): sTfR index first, then TSAT.
fn middle_band(x: &IronInputs, low: f64, high: f64, trail: &mut Trail) -> IronStatus {
    let t = x.t;
    let band = format!(
        "ferritin {} ug/L in {}-{} with inflammation",
        show(x.ferritin),
        num(low),
        num(high - 1.0)
    );
    if let Some(ix) = x.index {
        if ix.below(t.stfr_index_restricted_below) == Some(true) {
            trail.note_with(RuleId::Iron003, || {
                format!(
                    "{band}, sTfR index {} < {}: restricted",
                    show(ix),
                    num(t.stfr_index_restricted_below)
                )
            });
            return IronStatus::Restricted;
        }
        if ix.above(t.stfr_index_deficient_above) == Some(true) {
            trail.flag(Flag::MaskedIronDeficiency);
            trail.note_with(RuleId::Iron003, || {
                format!(
                    "{band}, sTfR index {} > {}: deficient_with_inflammation",
                    show(ix),
                    num(t.stfr_index_deficient_above)
                )
            });
            return IronStatus::DeficientWithInflammation;
        }
        // Index between the two cutoffs (or undecided): the TSAT rule decides.
    }
    let (status, comparison) = match x.tsat.and_then(|m| m.below(t.tsat_restricted_below)) {
        Some(true) => {
            trail.flag(Flag::MaskedIronDeficiency);
            (IronStatus::DeficientWithInflammation, "<")
        }
        Some(false) => (IronStatus::Adequate, ">="),
        None => {
            trail.note_with(RuleId::Iron003, || {
                format!("{band}, TSAT missing: indeterminate")
            });
            return IronStatus::Indeterminate;
        }
    };
    trail.note_with(RuleId::Iron003, || {
        format!(
            "{band}, TSAT {} % {comparison} {}: {}",
            tsat_text(x.tsat),
            num(t.tsat_restricted_below),
            status.code()
        )
    });
    status
}

/// IRON-003, children with inflammation: the with-inflammation cutoff of the age.
fn child_inflamed(x: &IronInputs, trail: &mut Trail) -> Option<IronStatus> {
    let (f, t) = (x.ferritin, x.t);
    let cutoff = x.row.deficient_below_with_inflammation;
    let below = f.below(cutoff)?;
    let status = if below {
        IronStatus::DeficientWithInflammation
    } else {
        IronStatus::Adequate
    };
    // Masked: deficient although ferritin is at or above the adult with-inflammation
    // cutoff, i.e. it would look replete to an adult reading.
    let adult_cutoff = x
        .input
        .rs
        .ferritin_row(t.adult_age_years, false)
        .map_or(cutoff, |r| r.deficient_below_with_inflammation);
    if below && f.below(adult_cutoff) == Some(false) {
        trail.flag(Flag::MaskedIronDeficiency);
    }
    trail.note_with(RuleId::Iron003, || {
        format!(
            "child ({}) ferritin {} ug/L vs < {} with inflammation: {}",
            x.row.population,
            show(f),
            num(cutoff),
            status.code()
        )
    });
    Some(status)
}

/// IRON-004, inflammation absent.
fn not_inflamed(x: &IronInputs, trail: &mut Trail) -> Option<IronStatus> {
    let (f, t) = (x.ferritin, x.t);
    let cutoff = x.row.deficient_below_no_inflammation;
    if f.below(cutoff)? {
        trail.note_with(RuleId::Iron004, || {
            format!(
                "ferritin {} ug/L < {} ({}): deficient",
                show(f),
                num(cutoff),
                x.row.population
            )
        });
        return Some(IronStatus::Deficient);
    }
    let low_tsat = x
        .tsat
        .and_then(|m| m.below(t.tsat_low_adequate_ferritin_below))
        == Some(true);
    if low_tsat {
        trail.flag(Flag::LowTsatAdequateFerritin);
    }
    trail.note_with(RuleId::Iron004, || {
        let mut text = format!(
            "ferritin {} ug/L >= {} ({}): adequate",
            show(f),
            num(cutoff),
            x.row.population
        );
        if low_tsat {
            text.push_str(&format!(
                ", TSAT {} % < {}",
                tsat_text(x.tsat),
                num(t.tsat_low_adequate_ferritin_below)
            ));
        }
        text
    });
    Some(IronStatus::Adequate)
}

/// IRON-005, inflammation unknown.
fn inflammation_unknown(x: &IronInputs, trail: &mut Trail) -> Option<IronStatus> {
    let cutoff = x.row.deficient_below_no_inflammation;
    let high = x.t.ferritin_inflammation_band_upper;
    let band = x.ferritin.band(&[cutoff, high])?;
    let status = match band {
        0 => IronStatus::Deficient,
        1 => IronStatus::Indeterminate,
        _ => IronStatus::Adequate,
    };
    if band < 2 {
        trail.recommend(TestCode::Crp);
    }
    trail.note_with(RuleId::Iron005, || {
        format!(
            "inflammation unknown, ferritin {} ug/L (deficient below {}, adequate from {}): {}",
            show(x.ferritin),
            num(cutoff),
            num(high),
            status.code()
        )
    });
    Some(status)
}

/// IRON-006: ferritin missing or undecided.
fn ferritin_undecided(
    ferritin: Option<Measure>,
    tsat: Option<Measure>,
    inflammation: Inflammation,
    t: &Thresholds,
    trail: &mut Trail,
) -> IronStatus {
    let low_tsat = tsat.and_then(|m| m.below(t.tsat_low_adequate_ferritin_below)) == Some(true);
    let status = if low_tsat && inflammation == Inflammation::Absent {
        IronStatus::Indeterminate
    } else {
        IronStatus::Unknown
    };
    trail.recommend(TestCode::Ferritin);
    trail.recommend(TestCode::Tsat);
    trail.note_with(RuleId::Iron006, || {
        format!(
            "ferritin {}: iron status {}",
            ferritin.map_or("missing".to_string(), |f| format!(
                "{} ug/L does not decide",
                show(f)
            )),
            status.code()
        )
    });
    status
}
