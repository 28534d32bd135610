//! IRON, continued: overload, B12/folate, and the specialty definitions procedure 2026.2
//! applies for heart failure (ESC) and chronic kidney disease (KDIGO).

use crate::analyte::Analyte;
use crate::cell::Measure;
use crate::vocab::{Condition, Flag, Inflammation, IronStatus, RuleId, Sex, TestCode};

use super::anemia::AnemiaFinding;
use super::registry::RuleMeta;
use super::{num, show, RuleInput, Trail};

pub(crate) const RULES: &[RuleMeta] = &[
    RuleMeta {
        id: RuleId::Iron007,
        family: "IRON",
        title: "Iron overload pattern",
        rationale_template: "Adults: TSAT above {overload_tsat_above} % with ferritin above {overload_ferritin_female_above} (women) / {overload_ferritin_male_above} (men, unknown) ug/L without inflammation present. Procedure 2026.2 (EASL by sex and age): women under {overload_postmenopausal_age_years} y and sex unknown TSAT above {overload_tsat_above} % with ferritin above {overload_ferritin_female_above} ug/L; men and women from {overload_postmenopausal_age_years} y TSAT above {overload_tsat_male_above} % with ferritin above {overload_ferritin_male_above} ug/L; inflammation does not suppress it; HFE genotype recommended.",
        citation: "EASL 2022 Clinical Practice Guidelines on haemochromatosis",
        thresholds: &[
            "overload_tsat_above",
            "overload_ferritin_female_above",
            "overload_ferritin_male_above",
            "overload_tsat_male_above",
            "overload_postmenopausal_age_years",
        ],
        tables: &[],
        raises: &[Flag::IronOverloadPattern],
    },
    RuleMeta {
        id: RuleId::Iron008,
        family: "IRON",
        title: "B12/folate deficiency",
        rationale_template: "B12 or folate below its cutoff (local ranges belong in thresholds.csv).",
        citation: "BSH 2014 guidelines for cobalamin and folate disorders",
        thresholds: &["b12_deficient_below", "folate_deficient_below"],
        tables: &[],
        raises: &[],
    },
    RuleMeta {
        id: RuleId::Iron009,
        family: "IRON",
        title: "Heart failure iron deficiency (ESC)",
        rationale_template: "Procedure 2026.2, condition heart_failure, adults: ferritin below {hf_ferritin_deficient_below} ug/L, or {hf_ferritin_deficient_below} to below {hf_ferritin_tsat_band_upper} with TSAT below {hf_tsat_below} %, is iron deficiency (deficient_with_inflammation when inflammation counts as present); in that band with TSAT missing indeterminate; otherwise the generic ferritin rules decide.",
        citation: "ESC 2021 Guidelines for the diagnosis and treatment of acute and chronic heart failure",
        thresholds: &["hf_ferritin_deficient_below", "hf_ferritin_tsat_band_upper", "hf_tsat_below"],
        tables: &["ferritin_cutoffs.csv"],
        raises: &[Flag::IronDeficiencyHfCriteria],
    },
    RuleMeta {
        id: RuleId::Iron010,
        family: "IRON",
        title: "CKD iron trial criteria (KDIGO)",
        rationale_template: "Procedure 2026.2, condition chronic_kidney_disease, adults, anemic: TSAT at most {ckd_iron_trial_tsat_max} % and ferritin at most {ckd_iron_trial_ferritin_max} ug/L meet the criteria for a trial of iron; iron status and label are unchanged.",
        citation: "KDIGO 2012 Clinical Practice Guideline for Anemia in Chronic Kidney Disease",
        thresholds: &["ckd_iron_trial_tsat_max", "ckd_iron_trial_ferritin_max"],
        tables: &[],
        raises: &[Flag::CkdIronTrialCriteria],
    },
];

/// IRON-009: the ESC heart-failure definition, replacing the adult ferritin rules where it
/// decides (`None`: not heart failure, not 2026.2, or left to the generic rules).
pub(crate) fn heart_failure(
    input: &RuleInput,
    ferritin: Option<Measure>,
    tsat: Option<Measure>,
    inflammation: Inflammation,
    trail: &mut Trail,
) -> Option<IronStatus> {
    let t2 = input.v2()?;
    if !input.adult || !input.panel.has_condition(Condition::HeartFailure) {
        return None;
    }
    let f = ferritin?;
    let (low, high) = (
        t2.hf_ferritin_deficient_below,
        t2.hf_ferritin_tsat_band_upper,
    );
    let deficient = if inflammation.counts_as_present() {
        IronStatus::DeficientWithInflammation
    } else {
        IronStatus::Deficient
    };
    let why = match f.band(&[low, high])? {
        0 => format!("ferritin {} ug/L < {}", show(f), num(low)),
        1 => match tsat.and_then(|m| m.below(t2.hf_tsat_below)) {
            Some(true) => format!(
                "ferritin {} ug/L in {}-{} with TSAT {} % < {}",
                show(f),
                num(low),
                num(high - 1.0),
                tsat.map_or(String::new(), |m| show(m).to_string()),
                num(t2.hf_tsat_below)
            ),
            Some(false) => return None,
            None => {
                trail.recommend(TestCode::Tsat);
                trail.note_with(RuleId::Iron009, || {
                    format!(
                        "heart failure, ferritin {} ug/L in {}-{}, TSAT missing: indeterminate",
                        show(f),
                        num(low),
                        num(high - 1.0)
                    )
                });
                return Some(IronStatus::Indeterminate);
            }
        },
        _ => return None,
    };
    trail.flag(Flag::IronDeficiencyHfCriteria);
    let adult_cutoff = input
        .rs
        .ferritin_row(input.rs.thresholds.adult_age_years, false)
        .map(|r| r.deficient_below_with_inflammation);
    if deficient == IronStatus::DeficientWithInflammation
        && adult_cutoff.is_some_and(|c| f.below(c) == Some(false))
    {
        trail.flag(Flag::MaskedIronDeficiency);
    }
    trail.note_with(RuleId::Iron009, || {
        format!(
            "heart failure, {why}: {} (ESC definition)",
            deficient.code()
        )
    });
    Some(deficient)
}

/// IRON-010: the KDIGO criteria for a trial of iron in anemic CKD (flag only).
pub(crate) fn ckd_trial(
    input: &RuleInput,
    anemia: &AnemiaFinding,
    ferritin: Option<Measure>,
    tsat: Option<Measure>,
    trail: &mut Trail,
) {
    let Some(t2) = input.v2() else {
        return;
    };
    if !input.adult
        || anemia.anemia != Some(true)
        || !input.panel.has_condition(Condition::ChronicKidneyDisease)
    {
        return;
    }
    let (Some(f), Some(ts)) = (ferritin, tsat) else {
        return;
    };
    if ts.above(t2.ckd_iron_trial_tsat_max) == Some(false)
        && f.above(t2.ckd_iron_trial_ferritin_max) == Some(false)
    {
        trail.flag(Flag::CkdIronTrialCriteria);
        trail.note_with(
            RuleId::Iron010,
            || format!(
                "chronic kidney disease, anemic, TSAT {} % <= {} and ferritin {} ug/L <= {}: KDIGO criteria for a trial of iron",
                show(ts),
                num(t2.ckd_iron_trial_tsat_max),
                show(f),
                num(t2.ckd_iron_trial_ferritin_max)
            ),
        );
    }
}

/// The (TSAT, ferritin) pair above which overload is suspected.
fn overload_pair(input: &RuleInput) -> (f64, f64) {
    let t = &input.rs.thresholds;
    let female_pair = (t.overload_tsat_above, t.overload_ferritin_female_above);
    match input.v2() {
        // 2026.1: by sex only.
        None if input.sex == Sex::Female => female_pair,
        None => (t.overload_tsat_above, t.overload_ferritin_male_above),
        // 2026.2 (EASL): men and women from the postmenopausal proxy age take the higher
        // pair; younger women, women of unknown age and sex unknown the more sensitive one.
        Some(t2) => {
            let older_woman = input.sex == Sex::Female
                && input
                    .panel
                    .age_years
                    .is_some_and(|a| a >= t2.overload_postmenopausal_age_years);
            if input.sex == Sex::Male || older_woman {
                (t2.overload_tsat_male_above, t.overload_ferritin_male_above)
            } else {
                female_pair
            }
        }
    }
}

/// IRON-007, adults (2026.1: without inflammation present).
pub(crate) fn overload(
    input: &RuleInput,
    inflammation: Inflammation,
    ferritin: Option<Measure>,
    tsat: Option<Measure>,
    trail: &mut Trail,
) {
    let v2 = input.v2().is_some();
    let inflamed = inflammation.counts_as_present();
    if !input.adult || (inflamed && !v2) {
        return;
    }
    let (Some(f), Some(ts)) = (ferritin, tsat) else {
        return;
    };
    let (tsat_cut, ferritin_cut) = overload_pair(input);
    if ts.above(tsat_cut) == Some(true) && f.above(ferritin_cut) == Some(true) {
        trail.flag(Flag::IronOverloadPattern);
        let context = match (v2, inflamed) {
            (false, _) => " without inflammation present",
            (true, true) => " (inflammation present: ferritin may be raised by it)",
            (true, false) => "",
        };
        trail.note_with(RuleId::Iron007, || {
            format!(
                "TSAT {} % > {} and ferritin {} ug/L > {}{context}: iron overload pattern",
                show(ts),
                num(tsat_cut),
                show(f),
                num(ferritin_cut)
            )
        });
        if v2 {
            trail.recommend(TestCode::HfeGenotype);
        }
    }
}

/// IRON-008: B12 or folate below its cutoff.
pub(crate) fn b12_folate(input: &RuleInput, trail: &mut Trail) -> bool {
    let t = &input.rs.thresholds;
    let mut reasons = Vec::new();
    if let Some(b12) = input.measure(Analyte::B12) {
        let below = b12.below(t.b12_deficient_below);
        if below.is_none() {
            trail.undecided(Analyte::B12);
        }
        if below == Some(true) {
            reasons.push(format!(
                "B12 {} pg/mL < {}",
                show(b12),
                num(t.b12_deficient_below)
            ));
        }
    }
    if let Some(folate) = input.measure(Analyte::Folate) {
        let below = folate.below(t.folate_deficient_below);
        if below.is_none() {
            trail.undecided(Analyte::Folate);
        }
        if below == Some(true) {
            reasons.push(format!(
                "folate {} ng/mL < {}",
                show(folate),
                num(t.folate_deficient_below)
            ));
        }
    }
    if reasons.is_empty() {
        return false;
    }
    trail.note_with(RuleId::Iron008, || {
        format!("{}: B12/folate deficient", reasons.join(", "))
    });
    true
}
