//! ANEMIA: cutoff by population, elevation and smoking adjustments, anemia and severity.

use crate::analyte::Analyte;
use crate::cell::Cell;
use crate::ruleset::{AdjustmentKind, HbCutoffRow, PregnancyKey};
use crate::vocab::{Flag, Pregnancy, RuleId, Severity, Sex, TestCode};

use super::registry::RuleMeta;
use super::{num, show, RuleInput, Trail};

pub(crate) const RULES: &[RuleMeta] = &[
    RuleMeta {
        id: RuleId::Anemia001,
        family: "ANEMIA",
        title: "Haemoglobin cutoff by age, sex and pregnancy",
        rationale_template: "The population row of hb_cutoffs.csv gives the anemia cutoff and severity bands; pregnancy implies female; age missing is treated as adult; above {hb_cutoff_extrapolated_above_years} y the adult cutoff is extrapolated.",
        citation: "WHO 2024 Guideline on haemoglobin cutoffs to define anaemia in individuals and populations",
        thresholds: &["pregnancy_min_age_years", "hb_cutoff_extrapolated_above_years"],
        tables: &["hb_cutoffs.csv"],
        raises: &[],
    },
    RuleMeta {
        id: RuleId::Anemia002,
        family: "ANEMIA",
        title: "Elevation adjustment",
        rationale_template: "Haemoglobin rises with altitude; the cutoff and every band edge are raised by the elevation band's adjustment. Beyond the table the last row is carried forward and flagged.",
        citation: "WHO 2024 Guideline on haemoglobin cutoffs (elevation adjustment)",
        thresholds: &[],
        tables: &["hb_adjustments.csv"],
        raises: &[Flag::AltitudeOutOfTable],
    },
    RuleMeta {
        id: RuleId::Anemia003,
        family: "ANEMIA",
        title: "Smoking adjustment",
        rationale_template: "Smoking raises haemoglobin; the cutoff and band edges are raised by the smoking band's adjustment; a count wins over the yes/no smoker column.",
        citation: "WHO 2024 Guideline on haemoglobin cutoffs (smoking adjustment)",
        thresholds: &["smoker_without_count_add"],
        tables: &["hb_adjustments.csv"],
        raises: &[],
    },
    RuleMeta {
        id: RuleId::Anemia004,
        family: "ANEMIA",
        title: "Anemia and severity",
        rationale_template: "Hb below the adjusted cutoff is anemia; the severity band is mild, moderate or severe. Between the female and male cutoffs with sex unknown, anemia status is unknown.",
        citation: "WHO 2024 Guideline on haemoglobin cutoffs to define anaemia in individuals and populations",
        thresholds: &[],
        tables: &["hb_cutoffs.csv"],
        raises: &[Flag::SexUnknown],
    },
    RuleMeta {
        id: RuleId::Anemia005,
        family: "ANEMIA",
        title: "Age out of scope",
        rationale_template: "Below {age_scope_min_months} months the haemoglobin cutoffs do not apply; only the safety flags are evaluated.",
        citation: "WHO 2024 Guideline on haemoglobin cutoffs (ages 6 months and over)",
        thresholds: &["age_scope_min_years"],
        tables: &[],
        raises: &[Flag::AgeOutOfScope],
    },
];

/// The anemia decision.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct AnemiaFinding {
    /// `None`: Hb missing, censored across the cutoff, or between the sex cutoffs.
    pub anemia: Option<bool>,
    /// The adjusted cutoff that decided, g/dL (with sex unknown and not anemic: the male one).
    pub threshold_g_dl: Option<f64>,
    pub severity: Option<Severity>,
}

/// ANEMIA-005: below the youngest age of the cutoffs nothing is interpreted.
pub(crate) fn out_of_scope(input: &RuleInput, trail: &mut Trail) {
    trail.flag(Flag::AgeOutOfScope);
    trail.note_with(RuleId::Anemia005, || {
        format!(
            "age {} y < {} y: out of scope; only safety flags evaluated",
            num(input.panel.age_years.unwrap_or(0.0)),
            num(input.rs.thresholds.age_scope_min_years)
        )
    });
}

pub(crate) fn evaluate(input: &RuleInput, trail: &mut Trail) -> AnemiaFinding {
    let p = input.panel;
    let pregnancy_key = if input.pregnancy_applies {
        match p.pregnancy {
            Pregnancy::Trimester1 => PregnancyKey::T1,
            Pregnancy::Trimester2 => PregnancyKey::T2,
            Pregnancy::Trimester3 => PregnancyKey::T3,
            Pregnancy::Unreadable => PregnancyKey::None,
            _ => PregnancyKey::Unknown,
        }
    } else {
        PregnancyKey::None
    };
    let sex_key = super::sex_key(input.sex);
    if input.sex == Sex::Unknown && input.adult {
        trail.flag(Flag::SexUnknown);
    }

    let Some(row) = input.rs.hb_row(sex_key, pregnancy_key, input.lookup_age) else {
        // A validated ruleset covers every age and state; keep going without a cutoff.
        trail.note_with(RuleId::Anemia001, || {
            format!(
                "no haemoglobin cutoff row for age {} y",
                num(input.lookup_age)
            )
        });
        return AnemiaFinding::default();
    };
    population(input, row, trail);
    let adjustment = altitude(input, trail) + smoking(input, trail);
    let g_dl = |g_l: f64| (g_l + adjustment) / 10.0;
    decide(input, row, g_dl, trail)
}

/// ANEMIA-001: the population row. The source is in hb_cutoffs.csv and `anemia-engine
/// rules ANEMIA-001`; evidence quotes the population row and the number.
fn population(input: &RuleInput, row: &HbCutoffRow, trail: &mut Trail) {
    trail.note_with(RuleId::Anemia001, || population_line(input, row));
}

/// The ANEMIA-001 evidence line (formatted only when evidence is kept).
fn population_line(input: &RuleInput, row: &HbCutoffRow) -> String {
    let p = input.panel;
    let t = &input.rs.thresholds;
    let mut line = format!(
        "cutoff {} g/L for {}",
        num(row.anemia_below),
        row.population
    );
    if row.not_anemic_from > row.anemia_below {
        line.push_str(&format!(
            "; not anemic from {} g/L",
            num(row.not_anemic_from)
        ));
    }
    if p.pregnancy != Pregnancy::No && !input.pregnancy_applies {
        line.push_str("; pregnancy ignored (male or under the pregnancy age)");
    } else if p.pregnancy == Pregnancy::Unreadable {
        line.push_str("; pregnant value not recognised: pregnancy unknown, so the non-pregnant cutoff is used and pregnancy cautions apply");
    }
    if p.age_years
        .is_some_and(|a| a > t.hb_cutoff_extrapolated_above_years)
    {
        line.push_str(&format!(
            "; cutoff extrapolated above {} y",
            num(t.hb_cutoff_extrapolated_above_years)
        ));
    }
    line
}

/// ANEMIA-002: g/L added for the altitude.
fn altitude(input: &RuleInput, trail: &mut Trail) -> f64 {
    let Some(alt) = input.panel.altitude_m else {
        return 0.0;
    };
    let Some(band) = input.rs.adjustment(AdjustmentKind::Altitude, alt) else {
        return 0.0;
    };
    if band.out_of_table {
        trail.flag(Flag::AltitudeOutOfTable);
    }
    trail.note_with(RuleId::Anemia002, || {
        let mut line = format!("altitude {} m: +{} g/L", num(alt), num(band.add));
        if band.out_of_table {
            line.push_str(" (beyond the WHO table; last row applied)");
        }
        line
    });
    band.add
}

/// ANEMIA-003: g/L added for smoking; a count wins over the yes/no column.
fn smoking(input: &RuleInput, trail: &mut Trail) -> f64 {
    let p = input.panel;
    let t = &input.rs.thresholds;
    match (p.cigarettes_per_day, p.smoker) {
        (Some(count), _) if count > 0.0 => {
            let Some(band) = input.rs.adjustment(AdjustmentKind::Smoking, count) else {
                return 0.0;
            };
            trail.note_with(RuleId::Anemia003, || {
                format!(
                    "smoking {} cigarettes/day: +{} g/L",
                    num(count),
                    num(band.add)
                )
            });
            band.add
        }
        (None, Some(true)) => {
            trail.note_with(RuleId::Anemia003, || {
                format!("smoker, no count: +{} g/L", num(t.smoker_without_count_add))
            });
            t.smoker_without_count_add
        }
        _ => 0.0,
    }
}

/// ANEMIA-004: Hb against the adjusted cutoffs (`g_dl` converts a row's g/L edge).
fn decide(
    input: &RuleInput,
    row: &HbCutoffRow,
    g_dl: impl Fn(f64) -> f64,
    trail: &mut Trail,
) -> AnemiaFinding {
    let cutoff = g_dl(row.anemia_below);
    let not_anemic_from = g_dl(row.not_anemic_from);
    let mut finding = AnemiaFinding {
        threshold_g_dl: Some(cutoff),
        ..AnemiaFinding::default()
    };
    let hb = match input.panel.cell(Analyte::Hb) {
        Cell::Value(hb) => *hb,
        Cell::Text(_) | Cell::Ambiguous(_) | Cell::Missing => {
            trail.recommend(TestCode::Hb);
            trail.note_with(RuleId::Anemia004, || {
                "Hb missing: anemia status unknown".to_string()
            });
            return finding;
        }
    };
    let text = match hb.band(&[cutoff, not_anemic_from]) {
        Some(0) => {
            finding.anemia = Some(true);
            let edges = [g_dl(row.moderate_from), g_dl(row.mild_from)];
            finding.severity = match hb.band(&edges) {
                Some(0) => Some(Severity::Severe),
                Some(1) => Some(Severity::Moderate),
                Some(_) => Some(Severity::Mild),
                None => None,
            };
            format!(
                "Hb {} g/dL < {} g/dL: anemic, severity {} (moderate below {}, severe below {} g/dL)",
                show(hb),
                num(cutoff),
                finding
                    .severity
                    .map_or("undetermined (censored value)", |s| s.code()),
                num(edges[1]),
                num(edges[0])
            )
        }
        Some(1) => format!(
            "Hb {} g/dL between {} and {} g/dL with sex unknown: anemia status unknown",
            show(hb),
            num(cutoff),
            num(not_anemic_from)
        ),
        Some(_) => {
            // The bound that decided: with sex unknown this is the male cutoff.
            finding.threshold_g_dl = Some(not_anemic_from);
            finding.anemia = Some(false);
            finding.severity = Some(Severity::None);
            format!(
                "Hb {} g/dL >= {} g/dL: not anemic",
                show(hb),
                num(not_anemic_from)
            )
        }
        None => {
            trail.undecided(Analyte::Hb);
            format!(
                "Hb {} g/dL straddles the cutoff {} g/dL: anemia status unknown",
                show(hb),
                num(cutoff)
            )
        }
    };
    trail.note_with(RuleId::Anemia004, || text);
    finding
}
