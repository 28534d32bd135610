//! INFLAM: CRP, ESR (adults), AGP, and the presumed state from a chronic condition.

use crate::analyte::Analyte;
use crate::vocab::{Flag, Inflammation, RuleId, Sex, TestCode};

use super::registry::RuleMeta;
use super::{num, show, RuleInput, Trail};

pub(crate) const RULES: &[RuleMeta] = &[
    RuleMeta {
        id: RuleId::Inflam001,
        family: "INFLAM",
        title: "CRP",
        rationale_template: "CRP above the cutoff means inflammation is present.",
        citation: "WHO 2020 ferritin guideline; BRINDA; Thurnham 2010",
        thresholds: &["crp_inflammation_above"],
        tables: &[],
        raises: &[],
    },
    RuleMeta {
        id: RuleId::Inflam002,
        family: "INFLAM",
        title: "ESR",
        rationale_template: "At {adult_age_years} years and over (or age missing), ESR above the Westergren upper limit ((age+{esr_uln_offset_male})/{esr_uln_divisor} men, (age+{esr_uln_offset_female})/{esr_uln_divisor} women and unknown sex; {esr_uln_age_missing_male} and {esr_uln_age_missing_female} mm/h with age missing) means inflammation. Procedure 2026.2: ESR is not used in pregnancy, where it rises physiologically.",
        citation: "Miller, Green and Robinson, BMJ 1983; van den Broek and Letsky, BJOG 2001 (pregnancy)",
        thresholds: &[
            "adult_age_years",
            "esr_uln_divisor",
            "esr_uln_offset_female",
            "esr_uln_offset_male",
            "esr_uln_age_missing_male",
            "esr_uln_age_missing_female",
        ],
        tables: &[],
        raises: &[],
    },
    RuleMeta {
        id: RuleId::Inflam003,
        family: "INFLAM",
        title: "AGP",
        rationale_template: "Alpha-1-acid glycoprotein above the cutoff means inflammation.",
        citation: "Thurnham 2010",
        thresholds: &["agp_inflammation_above"],
        tables: &[],
        raises: &[],
    },
    RuleMeta {
        id: RuleId::Inflam004,
        family: "INFLAM",
        title: "Inflammation status",
        rationale_template: "Present if any marker is raised, absent if a marker decides and none is raised, presumed when no marker decides and a chronic inflammatory condition is named, otherwise unknown.",
        citation: "Weiss & Goodnough, NEJM 2005",
        thresholds: &[],
        tables: &["clinical_lists.csv"],
        raises: &[Flag::InflammationPresumed],
    },
];

/// Westergren ESR upper limit for the panel (Miller 1983), in mm/h.
pub(crate) fn esr_upper_limit(input: &RuleInput) -> f64 {
    let t = &input.rs.thresholds;
    let male = input.sex == Sex::Male;
    match input.panel.age_years {
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

/// Markers that decided, as (rule, quoted comparison).
#[derive(Default)]
struct Markers {
    raised: Vec<(RuleId, String)>,
    not_raised: Vec<(RuleId, String)>,
}

impl Markers {
    fn add(
        &mut self,
        (rule, analyte): (RuleId, Analyte),
        text: String,
        raised: Option<bool>,
        trail: &mut Trail,
    ) {
        match raised {
            Some(true) => self.raised.push((rule, text)),
            Some(false) => self.not_raised.push((rule, text)),
            None => {
                trail.undecided(analyte);
                trail.note_with(rule, || format!("{text}: censored value does not decide"));
            }
        }
    }
}

fn markers(input: &RuleInput, trail: &mut Trail) -> Markers {
    let t = &input.rs.thresholds;
    let mut m = Markers::default();
    if let Some(crp) = input.measure(Analyte::Crp) {
        let text = format!(
            "CRP {} mg/L vs > {}",
            show(crp),
            num(t.crp_inflammation_above)
        );
        m.add(
            (RuleId::Inflam001, Analyte::Crp),
            text,
            crp.above(t.crp_inflammation_above),
            trail,
        );
    }
    if let Some(esr) = input.measure(Analyte::Esr) {
        if input.v2().is_some() && input.pregnancy_applies {
            trail.note_with(
                RuleId::Inflam002,
                || format!(
                    "ESR {} mm/h not used in pregnancy (it rises physiologically); CRP and AGP decide",
                    show(esr)
                ),
            );
        } else if input.adult {
            let uln = esr_upper_limit(input);
            let text = format!("ESR {} mm/h vs upper limit {} mm/h", show(esr), num(uln));
            m.add(
                (RuleId::Inflam002, Analyte::Esr),
                text,
                esr.above(uln),
                trail,
            );
        } else {
            trail.note_with(RuleId::Inflam002, || {
                format!(
                    "ESR {} mm/h not used under {} y (adult limits)",
                    show(esr),
                    num(t.adult_age_years)
                )
            });
        }
    }
    if let Some(agp) = input.measure(Analyte::Agp) {
        let text = format!(
            "AGP {} g/L vs > {}",
            show(agp),
            num(t.agp_inflammation_above)
        );
        m.add(
            (RuleId::Inflam003, Analyte::Agp),
            text,
            agp.above(t.agp_inflammation_above),
            trail,
        );
    }
    m
}

pub(crate) fn evaluate(input: &RuleInput, trail: &mut Trail) -> Inflammation {
    let m = markers(input, trail);
    let named: Vec<&str> = input
        .rs
        .lists
        .chronic_inflammatory
        .iter()
        .filter(|c| input.panel.has_condition(**c))
        .map(|c| c.code())
        .collect();
    let status = if !m.raised.is_empty() {
        for (id, text) in m.raised {
            trail.note_with(id, || format!("{text}: raised"));
        }
        Inflammation::Present
    } else if !m.not_raised.is_empty() {
        for (id, text) in m.not_raised {
            trail.note_with(id, || format!("{text}: not raised"));
        }
        Inflammation::Absent
    } else if !named.is_empty() {
        trail.flag(Flag::InflammationPresumed);
        trail.recommend(TestCode::Crp);
        Inflammation::Presumed
    } else {
        Inflammation::Unknown
    };
    let why = match status {
        Inflammation::Presumed => format!(
            " (no marker decides; chronic inflammatory condition {})",
            named.join(", ")
        ),
        Inflammation::Unknown => " (no marker decides)".to_string(),
        _ => String::new(),
    };
    trail.note_with(RuleId::Inflam004, || {
        format!("inflammation {}{why}", status.code())
    });
    status
}
