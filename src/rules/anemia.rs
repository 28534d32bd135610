//! ANEMIA: cutoff by population, elevation and smoking adjustments, anemia and severity.

use crate::analyte::Analyte;
use crate::cell::Cell;
use crate::codes::{Flag, TestCode};
use crate::panel::{Pregnancy, Sex};
use crate::ruleset::{AdjustmentKind, PregnancyKey, SexKey};

use super::{num, show, Eval, Severity};

pub(crate) fn evaluate(e: &mut Eval) {
    let p = e.panel;
    let t = &e.rs.thresholds;

    let pregnancy_applies = p.pregnancy != Pregnancy::No
        && p.sex != Sex::Male
        && p.age_years.is_none_or(|a| a >= t.pregnancy_min_age_years);
    if pregnancy_applies {
        e.sex = Sex::Female;
    }
    let pregnancy_key = if pregnancy_applies {
        match p.pregnancy {
            Pregnancy::Trimester1 => PregnancyKey::T1,
            Pregnancy::Trimester2 => PregnancyKey::T2,
            Pregnancy::Trimester3 => PregnancyKey::T3,
            _ => PregnancyKey::Unknown,
        }
    } else {
        PregnancyKey::None
    };
    let sex_key = match e.sex {
        Sex::Female => SexKey::F,
        Sex::Male => SexKey::M,
        Sex::Unknown => SexKey::U,
    };
    if e.sex == Sex::Unknown && e.adult {
        e.flag(Flag::SexUnknown);
    }

    let Some(row) = e.rs.hb_row(sex_key, pregnancy_key, e.lookup_age).cloned() else {
        // A validated ruleset covers every age and state; keep going without a cutoff.
        e.note(format!(
            "ANEMIA-001 no haemoglobin cutoff row for age {} y",
            num(e.lookup_age)
        ));
        return;
    };
    // The source is in hb_cutoffs.csv and `anemia-engine rules ANEMIA-001`; evidence quotes
    // the population row and the number.
    let mut line = format!(
        "ANEMIA-001 cutoff {} g/L for {}",
        num(row.anemia_below),
        row.population
    );
    if row.not_anemic_from > row.anemia_below {
        line.push_str(&format!(
            "; not anemic from {} g/L",
            num(row.not_anemic_from)
        ));
    }
    if p.pregnancy != Pregnancy::No && !pregnancy_applies {
        line.push_str("; pregnancy ignored (male or under the pregnancy age)");
    }
    if p.age_years
        .is_some_and(|a| a > t.hb_cutoff_extrapolated_above_years)
    {
        line.push_str(&format!(
            "; cutoff extrapolated above {} y",
            num(t.hb_cutoff_extrapolated_above_years)
        ));
    }
    e.note(line);

    let mut adjustment = 0.0;
    if let Some(alt) = p.altitude_m {
        if let Some(band) = e.rs.adjustment(AdjustmentKind::Altitude, alt) {
            adjustment += band.add;
            let mut line = format!("ANEMIA-002 altitude {} m: +{} g/L", num(alt), num(band.add));
            if band.out_of_table {
                e.flag(Flag::AltitudeOutOfTable);
                line.push_str(" (beyond the WHO table; last row applied)");
            }
            e.note(line);
        }
    }
    match (p.cigarettes_per_day, p.smoker) {
        (Some(count), _) if count > 0.0 => {
            if let Some(band) = e.rs.adjustment(AdjustmentKind::Smoking, count) {
                adjustment += band.add;
                e.note(format!(
                    "ANEMIA-003 smoking {} cigarettes/day: +{} g/L",
                    num(count),
                    num(band.add)
                ));
            }
        }
        (None, Some(true)) => {
            adjustment += t.smoker_without_count_add;
            e.note(format!(
                "ANEMIA-003 smoker, no count: +{} g/L",
                num(t.smoker_without_count_add)
            ));
        }
        _ => {}
    }

    let g_dl = |g_l: f64| (g_l + adjustment) / 10.0;
    let cutoff = g_dl(row.anemia_below);
    let not_anemic_from = g_dl(row.not_anemic_from);
    e.threshold = Some(cutoff);

    match p.cell(Analyte::Hb) {
        Cell::Value(hb) => {
            let hb = *hb;
            match hb.band(&[cutoff, not_anemic_from]) {
                Some(0) => {
                    e.anemia = Some(true);
                    let edges = [g_dl(row.moderate_from), g_dl(row.mild_from)];
                    e.severity = match hb.band(&edges) {
                        Some(0) => Some(Severity::Severe),
                        Some(1) => Some(Severity::Moderate),
                        Some(_) => Some(Severity::Mild),
                        None => None,
                    };
                    e.note(format!(
                        "ANEMIA-004 Hb {} g/dL < {} g/dL: anemic, severity {} (moderate below {}, severe below {} g/dL)",
                        show(hb),
                        num(cutoff),
                        e.severity.map_or("undetermined (censored value)", |s| s.code()),
                        num(edges[1]),
                        num(edges[0])
                    ));
                }
                Some(1) => {
                    e.note(format!(
                        "ANEMIA-004 Hb {} g/dL between {} and {} g/dL with sex unknown: anemia status unknown",
                        show(hb),
                        num(cutoff),
                        num(not_anemic_from)
                    ));
                }
                Some(_) => {
                    // The bound that decided: with sex unknown this is the male cutoff.
                    e.threshold = Some(not_anemic_from);
                    e.anemia = Some(false);
                    e.severity = Some(Severity::None);
                    e.note(format!(
                        "ANEMIA-004 Hb {} g/dL >= {} g/dL: not anemic",
                        show(hb),
                        num(not_anemic_from)
                    ));
                }
                None => {
                    e.note(format!(
                        "ANEMIA-004 Hb {} g/dL straddles the cutoff {} g/dL: anemia status unknown",
                        show(hb),
                        num(cutoff)
                    ));
                }
            }
        }
        Cell::Text(_) | Cell::Missing => {
            e.recommend(TestCode::Hb);
            e.note("ANEMIA-004 Hb missing: anemia status unknown".to_string());
        }
    }
}
