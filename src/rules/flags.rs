//! FLAG: mixed states MCV alone misses, safety and back-pain flags (clinical rules §6).

use crate::analyte::Analyte;
use crate::vocab::{
    BackPain, Condition, Flag, Inflammation, IronStatus, Medication, Morphology, RuleId, Severity,
    TestCode,
};

use super::anemia::AnemiaFinding;
use super::iron::IronFinding;
use super::morphology::MorphologyFinding;
use super::registry::RuleMeta;
use super::{inflammation, num, show, RuleInput, Trail};

pub(crate) const RULES: &[RuleMeta] = &[
    RuleMeta {
        id: RuleId::Flag001,
        family: "FLAG",
        title: "Iron deficiency with normal MCV",
        rationale_template: "Iron deficiency (either kind) with an MCV at or above the age's lower limit: MCV alone would miss it.",
        citation: "anemia-engine clinical rules 2026.1 section 6",
        thresholds: &[],
        tables: &["mcv_ranges.csv"],
        raises: &[Flag::IronDeficiencyNormalMcv],
    },
    RuleMeta {
        id: RuleId::Flag002,
        family: "FLAG",
        title: "B12/folate deficiency with normal MCV",
        rationale_template: "B12 or folate deficiency with MCV at or below the age's upper limit: MCV alone would miss it.",
        citation: "anemia-engine clinical rules 2026.1 section 6",
        thresholds: &[],
        tables: &["mcv_ranges.csv"],
        raises: &[Flag::B12FolateDeficiencyNormalMcv],
    },
    RuleMeta {
        id: RuleId::Flag003,
        family: "FLAG",
        title: "High RDW with normal MCV",
        rationale_template: "Anemic, normocytic and RDW high: possible dimorphic population of coexisting micro- and macrocytic processes.",
        citation: "Bessman, Gilmer and Gardner, Am J Clin Pathol 1983",
        thresholds: &["rdw_high_above"],
        tables: &[],
        raises: &[Flag::HighRdwNormalMcv],
    },
    RuleMeta {
        id: RuleId::Flag004,
        family: "FLAG",
        title: "Microcytosis without iron deficiency",
        rationale_template: "Microcytic with iron adequate or restricted: look for thalassemia trait or anemia of inflammation.",
        citation: "anemia-engine clinical rules 2026.1 section 6",
        thresholds: &[],
        tables: &["mcv_ranges.csv"],
        raises: &[Flag::MicrocytosisWithoutIronDeficiency],
    },
    RuleMeta {
        id: RuleId::Flag005,
        family: "FLAG",
        title: "Thalassemia trait pattern",
        rationale_template: "Microcytic, iron deficiency excluded (it lowers HbA2), Mentzer index below {mentzer_thalassemia_below}.",
        citation: "Mentzer, Lancet 1973",
        thresholds: &["mentzer_thalassemia_below"],
        tables: &[],
        raises: &[Flag::ThalassemiaTraitPattern],
    },
    RuleMeta {
        id: RuleId::Flag006,
        family: "FLAG",
        title: "Transfusion threshold",
        rationale_template: "Hb below the restrictive transfusion threshold of {transfusion_hb_below} g/dL ({transfusion_hb_below_cardiovascular} g/dL with cardiovascular disease).",
        citation: "AABB 2023 International Guidelines for Red Blood Cell Transfusion",
        thresholds: &["transfusion_hb_below", "transfusion_hb_below_cardiovascular"],
        tables: &[],
        raises: &[Flag::SevereAnemiaTransfusionThreshold],
    },
    RuleMeta {
        id: RuleId::Flag007,
        family: "FLAG",
        title: "Myeloma screen suggested",
        rationale_template: "Anemia with back pain in an adult ({myeloma_min_age_years} years or over), and raised ESR at {myeloma_esr_age_years} or over, or hypercalcaemia (calcium above {myeloma_calcium_above} mg/dL), or renal impairment (creatinine above {myeloma_creatinine_above} mg/dL).",
        citation: "NICE NG12 Suspected cancer; IMWG 2014 updated criteria for multiple myeloma",
        thresholds: &[
            "myeloma_min_age_years",
            "myeloma_esr_age_years",
            "myeloma_calcium_above",
            "myeloma_creatinine_above",
        ],
        tables: &[],
        raises: &[Flag::MyelomaScreenSuggested],
    },
    RuleMeta {
        id: RuleId::Flag008,
        family: "FLAG",
        title: "Very high ESR",
        rationale_template: "ESR at or above {very_high_esr_from} mm/h: malignancy, infection or vasculitis must be considered.",
        citation: "NICE NG12 Suspected cancer",
        thresholds: &["very_high_esr_from"],
        tables: &[],
        raises: &[Flag::VeryHighEsr],
    },
    RuleMeta {
        id: RuleId::Flag009,
        family: "FLAG",
        title: "NSAID caution",
        rationale_template: "Back pain reported or unknown with a reason NSAIDs carry extra risk: iron deficiency (GI blood loss), renal impairment (eGFR below {nsaid_egfr_below} or creatinine above {nsaid_creatinine_above} mg/dL), a medication or condition on the NSAID caution lists of clinical_lists.csv, severe anemia. Procedure 2026.2 adds anemia of unestablished cause, pregnancy and age from {nsaid_age_from_years} y, and applies from {back_pain_guidance_min_age_years} y.",
        citation: "NICE NG59 Low back pain and sciatica; BSG 2021 iron deficiency anaemia guidelines",
        thresholds: &[
            "nsaid_egfr_below",
            "nsaid_creatinine_above",
            "nsaid_age_from_years",
            "back_pain_guidance_min_age_years",
        ],
        tables: &["clinical_lists.csv"],
        raises: &[Flag::NsaidCaution],
    },
    RuleMeta {
        id: RuleId::Flag010,
        family: "FLAG",
        title: "Steroid fracture risk",
        rationale_template: "Corticosteroid use with back pain: bone loss and vertebral compression fracture.",
        citation: "anemia-engine clinical rules 2026.1 section 6",
        thresholds: &[],
        tables: &[],
        raises: &[Flag::SteroidFractureRisk],
    },
    RuleMeta {
        id: RuleId::Flag011,
        family: "FLAG",
        title: "Sickle cell back pain",
        rationale_template: "Procedure 2026.2: sickle cell disease with new back pain (yes or acute) may be a vaso-occlusive crisis, a medical emergency needing prompt analgesia by protocol.",
        citation: "NICE CG143 Sickle cell disease: managing acute painful episodes in hospital",
        thresholds: &[],
        tables: &[],
        raises: &[Flag::SickleCellBackPain],
    },
    RuleMeta {
        id: RuleId::Flag012,
        family: "FLAG",
        title: "Anticoagulant with back pain and anemia",
        rationale_template: "Procedure 2026.2: an anticoagulant, new back pain (yes or acute) and anemia: consider spontaneous retroperitoneal haemorrhage.",
        citation: "Sunga et al., J Emerg Med 2012 (spontaneous retroperitoneal hematoma)",
        thresholds: &[],
        tables: &[],
        raises: &[Flag::AnticoagulantBackPainAnemia],
    },
];

/// FLAG rules read the decisions of every earlier stage.
pub(crate) struct Findings<'a> {
    pub anemia: &'a AnemiaFinding,
    pub morphology: &'a MorphologyFinding,
    pub inflammation: Inflammation,
    pub iron: &'a IronFinding,
}

/// Runs the safety flags at every age and, with `findings` (in scope), every other flag.
/// Returns the NSAID caution reasons in words.
pub(crate) fn evaluate(
    input: &RuleInput,
    findings: Option<&Findings>,
    trail: &mut Trail,
) -> Vec<String> {
    safety(input, trail);
    let Some(f) = findings else {
        return Vec::new();
    };
    mcv_misses(input, f, trail);
    microcytosis(input, f, trail);
    myeloma(input, f, trail);
    let reasons = nsaid(input, f, trail);
    emergencies(input, f, trail);
    let p = input.panel;
    if p.takes(Medication::Corticosteroid) && p.back_pain.reported() {
        trail.flag(Flag::SteroidFractureRisk);
        trail.note_with(RuleId::Flag010, || {
            format!("corticosteroid with back pain ({})", p.back_pain.code())
        });
    }
    reasons
}

/// FLAG-001..003: deficiencies and mixed populations that MCV alone would miss.
fn mcv_misses(input: &RuleInput, f: &Findings, trail: &mut Trail) {
    let t = &input.rs.thresholds;
    let status = f.iron.status;
    if let (Some(m), Some((low, high))) = (input.measure(Analyte::Mcv), f.morphology.mcv_range) {
        if status.is_deficient() && m.below(low) == Some(false) {
            trail.flag(Flag::IronDeficiencyNormalMcv);
            trail.note_with(RuleId::Flag001, || {
                format!(
                    "iron {} with MCV {} fL >= {}",
                    status.code(),
                    show(m),
                    num(low)
                )
            });
        }
        if f.iron.b12_folate_deficient && m.above(high) == Some(false) {
            trail.flag(Flag::B12FolateDeficiencyNormalMcv);
            trail.note_with(RuleId::Flag002, || {
                format!(
                    "B12/folate deficient with MCV {} fL <= {}",
                    show(m),
                    num(high)
                )
            });
        }
    }
    if f.anemia.anemia == Some(true)
        && f.morphology.category == Morphology::Normocytic
        && f.morphology.rdw_high == Some(true)
    {
        trail.flag(Flag::HighRdwNormalMcv);
        for test in [TestCode::Ferritin, TestCode::Tsat, TestCode::B12Folate] {
            trail.recommend(test);
        }
        trail.note_with(RuleId::Flag003, || {
            format!(
                "anemic, normocytic, RDW {} % > {}: possible dimorphic population",
                input
                    .measure(Analyte::Rdw)
                    .map_or(String::new(), |m| show(m).to_string()),
                num(t.rdw_high_above)
            )
        });
    }
}

/// FLAG-004 and FLAG-005: microcytosis without iron deficiency; thalassemia trait pattern.
fn microcytosis(input: &RuleInput, f: &Findings, trail: &mut Trail) {
    let t = &input.rs.thresholds;
    let status = f.iron.status;
    let adequate_or_restricted = matches!(status, IronStatus::Adequate | IronStatus::Restricted);
    if f.morphology.category != Morphology::Microcytic || !adequate_or_restricted {
        return;
    }
    trail.flag(Flag::MicrocytosisWithoutIronDeficiency);
    trail.note_with(RuleId::Flag004, || {
        format!("microcytic with iron {}", status.code())
    });
    if let Some(ix) = f.morphology.mentzer {
        if ix.below(t.mentzer_thalassemia_below) == Some(true) {
            trail.flag(Flag::ThalassemiaTraitPattern);
            trail.recommend(TestCode::HbElectrophoresis);
            trail.note_with(RuleId::Flag005, || {
                format!(
                    "{} Mentzer index {} < {} with iron {}: thalassemia trait pattern",
                    RuleId::Morph003,
                    show(ix),
                    num(t.mentzer_thalassemia_below),
                    status.code()
                )
            });
        }
    }
}

/// FLAG-011 and FLAG-012 (procedure 2026.2): back pain that may be an emergency.
fn emergencies(input: &RuleInput, f: &Findings, trail: &mut Trail) {
    if input.v2().is_none() {
        return;
    }
    let p = input.panel;
    let new_pain = matches!(p.back_pain, BackPain::Yes | BackPain::Acute);
    if new_pain && p.has_condition(Condition::SickleCellDisease) {
        trail.flag(Flag::SickleCellBackPain);
        trail.note_with(
            RuleId::Flag011,
            || format!(
                "sickle cell disease with back pain ({}): possible vaso-occlusive crisis, an emergency",
                p.back_pain.code()
            ),
        );
    }
    if new_pain && p.takes(Medication::Anticoagulant) && f.anemia.anemia == Some(true) {
        trail.flag(Flag::AnticoagulantBackPainAnemia);
        trail.note_with(RuleId::Flag012, || {
            format!(
                "anticoagulant, back pain ({}) and anemia: consider retroperitoneal haemorrhage",
                p.back_pain.code()
            )
        });
    }
}

/// FLAG-006 and FLAG-008, evaluated at every age, also out of scope.
fn safety(input: &RuleInput, trail: &mut Trail) {
    let t = &input.rs.thresholds;
    if let Some(hb) = input.measure(Analyte::Hb) {
        let cvd = input.panel.has_condition(Condition::CardiovascularDisease);
        let cutoff = if cvd {
            t.transfusion_hb_below_cardiovascular
        } else {
            t.transfusion_hb_below
        };
        if hb.below(cutoff) == Some(true) {
            trail.flag(Flag::SevereAnemiaTransfusionThreshold);
            trail.note_with(RuleId::Flag006, || {
                format!(
                    "Hb {} g/dL < {} g/dL{}: transfusion threshold",
                    show(hb),
                    num(cutoff),
                    if cvd { " (cardiovascular disease)" } else { "" }
                )
            });
        }
    }
    if let Some(esr) = input.measure(Analyte::Esr) {
        if esr.below(t.very_high_esr_from) == Some(false) {
            trail.flag(Flag::VeryHighEsr);
            // 2026.2: SPEP/FLC on a very high ESR too, in adults.
            let adult = input
                .panel
                .age_years
                .is_none_or(|a| a >= t.myeloma_min_age_years);
            if input.v2().is_some() && adult {
                trail.recommend(TestCode::SpepFlc);
            }
            trail.note_with(RuleId::Flag008, || {
                format!("ESR {} mm/h >= {}", show(esr), num(t.very_high_esr_from))
            });
        }
    }
}

/// FLAG-007: anemia with back pain and a CRAB-type or ESR finding.
fn myeloma(input: &RuleInput, f: &Findings, trail: &mut Trail) {
    let t = &input.rs.thresholds;
    let p = input.panel;
    if f.anemia.anemia != Some(true)
        || !p.back_pain.reported()
        || p.age_years.is_some_and(|a| a < t.myeloma_min_age_years)
    {
        return;
    }
    let mut reasons = Vec::new();
    if let (Some(age), Some(esr)) = (p.age_years, input.measure(Analyte::Esr)) {
        let uln = inflammation::esr_upper_limit(input);
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
    if let Some(ca) = input.measure(Analyte::Calcium) {
        if ca.above(t.myeloma_calcium_above) == Some(true) {
            reasons.push(format!(
                "calcium {} mg/dL > {}",
                show(ca),
                num(t.myeloma_calcium_above)
            ));
        }
    }
    if let Some(cr) = input.measure(Analyte::Creatinine) {
        if cr.above(t.myeloma_creatinine_above) == Some(true) {
            reasons.push(format!(
                "creatinine {} mg/dL > {}",
                show(cr),
                num(t.myeloma_creatinine_above)
            ));
        }
    }
    if !reasons.is_empty() {
        trail.flag(Flag::MyelomaScreenSuggested);
        trail.recommend(TestCode::SpepFlc);
        trail.note_with(RuleId::Flag007, || {
            format!("anemia with back pain and {}", reasons.join(", "))
        });
    }
}

/// FLAG-009: back pain reported or unknown with a reason NSAIDs carry extra risk.
fn nsaid(input: &RuleInput, f: &Findings, trail: &mut Trail) -> Vec<String> {
    let t = &input.rs.thresholds;
    let p = input.panel;
    if p.back_pain == BackPain::No {
        return Vec::new();
    }
    let v2 = input.v2();
    // 2026.2: the caution goes with the back-pain guidance, which starts at 16 y.
    if v2.is_some()
        && p.age_years
            .is_some_and(|a| a < t.back_pain_guidance_min_age_years)
    {
        return Vec::new();
    }
    let mut reasons = Vec::new();
    if f.iron.status.is_deficient() {
        reasons.push("iron deficiency (NSAIDs cause GI blood loss)".to_string());
    } else if v2.is_some()
        && f.anemia.anemia == Some(true)
        && matches!(
            f.iron.status,
            IronStatus::Unknown | IronStatus::Indeterminate
        )
    {
        reasons.push("anemia of unestablished cause (GI blood loss not excluded)".to_string());
    }
    if let Some(egfr) = input.measure(Analyte::Egfr) {
        if egfr.below(t.nsaid_egfr_below) == Some(true) {
            reasons.push(format!(
                "eGFR {} < {} mL/min/1.73m2",
                show(egfr),
                num(t.nsaid_egfr_below)
            ));
        }
    }
    if let Some(cr) = input.measure(Analyte::Creatinine) {
        if cr.above(t.nsaid_creatinine_above) == Some(true) {
            reasons.push(format!(
                "creatinine {} mg/dL > {}",
                show(cr),
                num(t.nsaid_creatinine_above)
            ));
        }
    }
    let lists = &input.rs.lists;
    for (medication, reason) in &lists.nsaid_medications {
        if p.takes(*medication) {
            reasons.push(reason.clone());
        }
    }
    for (condition, reason) in &lists.nsaid_conditions {
        if p.has_condition(*condition) {
            reasons.push(reason.clone());
        }
    }
    if let Some(t2) = v2 {
        if input.pregnancy_applies {
            let words = input.rs.lists.nsaid_pregnancy.as_deref();
            reasons.push(words.unwrap_or("pregnancy").to_string());
        }
        if let Some(age) = p.age_years.filter(|a| *a >= t2.nsaid_age_from_years) {
            reasons.push(format!(
                "age {} >= {} y (GI bleeding and renal risk; Beers criteria)",
                num(age),
                num(t2.nsaid_age_from_years)
            ));
        }
    }
    if f.anemia.severity == Some(Severity::Severe) {
        reasons.push("severe anemia".to_string());
    }
    if !reasons.is_empty() {
        trail.flag(Flag::NsaidCaution);
        trail.note_with(RuleId::Flag009, || {
            format!(
                "back pain {} with {}",
                p.back_pain.code(),
                reasons.join("; ")
            )
        });
    }
    reasons
}
