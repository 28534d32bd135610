//! Validation of the ruleset tables: every problem is collected with its file and line, so a
//! lab editing its copy sees them all at once.

use std::collections::HashMap;

use super::tables::{check_coverage, Lined, Problems};
use super::*;

pub(super) fn validate_loinc(rows: &[Lined<LoincRow>], p: &mut Problems) {
    let file = "loinc.csv";
    let mut seen: HashMap<&str, u64> = HashMap::new();
    for r in rows {
        if let Some(first) = seen.insert(r.row.code.as_str(), r.line) {
            p.push(
                file,
                r.line,
                format!(
                    "code {} already listed on line {first}: a code maps to one analyte",
                    r.row.code
                ),
            );
        }
    }
}

pub(super) fn validate_unit_aliases(
    rows: &[Lined<UnitAliasRow>],
    units: &[Lined<UnitRow>],
    p: &mut Problems,
) {
    let file = "unit_aliases.csv";
    let mut seen: HashMap<(Analyte, String), u64> = HashMap::new();
    for r in rows {
        let a = &r.row;
        if !units
            .iter()
            .any(|u| u.row.analyte == a.analyte && u.row.suffix == a.suffix)
        {
            p.push(
                file,
                r.line,
                format!(
                    "unknown unit suffix {:?} for {} (not in units.csv)",
                    a.suffix, a.analyte
                ),
            );
        }
        let key = (a.analyte, normalise_unit_text(&a.unit_text));
        if let Some(first) = seen.insert(key, r.line) {
            p.push(
                file,
                r.line,
                format!(
                    "{:?} for {} is already listed on line {first}",
                    a.unit_text, a.analyte
                ),
            );
        }
    }
}

pub(super) fn validate_units(units: &[Lined<UnitRow>], procedure: Procedure, p: &mut Problems) {
    let file = "units.csv";
    let mut seen = std::collections::HashSet::new();
    for u in units {
        let a = u.row.analyte;
        if !seen.insert((a, u.row.suffix.clone())) {
            p.push(
                file,
                u.line,
                format!("suffix {} listed twice for {a}", u.row.suffix),
            );
        }
        if !(u.row.factor.is_finite() && u.row.factor > 0.0) {
            p.push(
                file,
                u.line,
                format!("factor {} must be a positive number", u.row.factor),
            );
        }
        if u.row.suffix == a.canonical_suffix() && u.row.factor != 1.0 {
            p.push(
                file,
                u.line,
                format!("the canonical unit of {a} must have factor 1"),
            );
        }
        if u.row.unit.trim().is_empty() {
            p.push(file, u.line, "unit label is empty");
        }
    }
    // Every analyte of the procedure is read; an older ruleset may leave out analytes added
    // later (their columns are then not read).
    for a in Analyte::ALL {
        let listed = units.iter().any(|u| u.row.analyte == a);
        let required = listed || procedure >= Procedure::V2026_2;
        if required && tables::canonical_unit_label(units, a).is_none() {
            p.push(
                file,
                0,
                format!(
                    "no row for the canonical unit of {a} ({})",
                    a.canonical_column()
                ),
            );
        }
    }
}

pub(super) fn validate_plausibility(
    rows: &[Lined<PlausibilityRow>],
    units: &[Lined<UnitRow>],
    p: &mut Problems,
) -> [(f64, f64); ANALYTE_COUNT] {
    let file = "plausibility.csv";
    let mut ranges = [(f64::NAN, f64::NAN); ANALYTE_COUNT];
    for r in rows {
        let a = r.row.analyte;
        if !ranges[a.index()].0.is_nan() {
            p.push(file, r.line, format!("{a} listed twice"));
        }
        if r.row.min > r.row.max {
            p.push(
                file,
                r.line,
                format!("min {} is above max {}", r.row.min, r.row.max),
            );
        }
        match tables::canonical_unit_label(units, a) {
            Some(label) if label == r.row.unit => {}
            Some(label) => p.push(
                file,
                r.line,
                format!(
                    "unknown unit {:?} for {a}: ranges are in the canonical unit {label:?}",
                    r.row.unit
                ),
            ),
            None => {}
        }
        ranges[a.index()] = (r.row.min, r.row.max);
    }
    // Every analyte the ruleset reads (has units for) needs a range; an older ruleset may
    // leave out analytes added later (their columns are then not read).
    for a in Analyte::ALL {
        let read = units.iter().any(|u| u.row.analyte == a);
        if read && ranges[a.index()].0.is_nan() {
            p.push(file, 0, format!("no plausible range for {a}"));
        }
    }
    ranges
}

pub(super) fn validate_thresholds(
    rows: &[Lined<ThresholdRow>],
    procedure: Procedure,
    p: &mut Problems,
) -> (Option<Thresholds>, Option<Thresholds2026_2>) {
    let file = "thresholds.csv";
    let wants_2026_2 = procedure >= Procedure::V2026_2;
    let known = |id: &str| {
        THRESHOLD_IDS
            .iter()
            .chain(if wants_2026_2 {
                THRESHOLD_IDS_2026_2
            } else {
                &[]
            })
            .find(|(known, _)| *known == id)
            .map(|(_, unit)| *unit)
    };
    let mut map = HashMap::new();
    for r in rows {
        let Some(unit) = known(&r.row.id) else {
            p.push(file, r.line, format!("unknown threshold id {:?}", r.row.id));
            continue;
        };
        if r.row.unit != unit {
            p.push(
                file,
                r.line,
                format!(
                    "unknown unit {:?} for {} (expected {unit:?})",
                    r.row.unit, r.row.id
                ),
            );
        }
        if !r.row.value.is_finite() {
            p.push(file, r.line, format!("{} is not a finite number", r.row.id));
        }
        if map.insert(r.row.id.clone(), r.row.value).is_some() {
            p.push(
                file,
                r.line,
                format!("threshold {} appears twice", r.row.id),
            );
        }
    }
    let required = THRESHOLD_IDS.iter().chain(if wants_2026_2 {
        THRESHOLD_IDS_2026_2
    } else {
        &[]
    });
    for (id, _) in required {
        if !map.contains_key(*id) {
            p.push(file, 0, format!("missing threshold {id}"));
        }
    }
    let v2 = if wants_2026_2 {
        Thresholds2026_2::from_map(&map)
    } else {
        None
    };
    (Thresholds::from_map(&map), v2)
}

pub(super) fn validate_hb(
    rows: &[Lined<HbCutoffRow>],
    start: f64,
    pregnancy_start: f64,
    p: &mut Problems,
) {
    let file = "hb_cutoffs.csv";
    for r in rows {
        let b = &r.row;
        if b.unit != "g/L" {
            p.push(
                file,
                r.line,
                format!("unknown unit {:?}: haemoglobin cutoffs are in g/L", b.unit),
            );
        }
        if !(b.moderate_from < b.mild_from
            && b.mild_from <= b.anemia_below
            && b.anemia_below <= b.not_anemic_from)
        {
            p.push(
                file,
                r.line,
                "bands must satisfy moderate_from < mild_from <= anemia_below <= not_anemic_from",
            );
        }
        if b.pregnancy != PregnancyKey::None && b.sex != SexKey::F {
            p.push(file, r.line, "pregnancy rows apply to females (sex F)");
        }
    }
    let keys: [(SexKey, PregnancyKey, f64); 7] = [
        (SexKey::F, PregnancyKey::None, start),
        (SexKey::M, PregnancyKey::None, start),
        (SexKey::U, PregnancyKey::None, start),
        (SexKey::F, PregnancyKey::T1, pregnancy_start),
        (SexKey::F, PregnancyKey::T2, pregnancy_start),
        (SexKey::F, PregnancyKey::T3, pregnancy_start),
        (SexKey::F, PregnancyKey::Unknown, pregnancy_start),
    ];
    for (sex, preg, from) in keys {
        let spans = rows
            .iter()
            .filter(|r| (r.row.sex == sex || r.row.sex == SexKey::Any) && r.row.pregnancy == preg)
            .map(|r| (r.line, r.row.age_from_years, r.row.age_to_years))
            .collect();
        check_coverage(
            file,
            &format!("sex {sex:?}, pregnancy {preg:?}"),
            from,
            spans,
            p,
        );
    }
}

pub(super) fn validate_mcv(rows: &[Lined<McvRow>], start: f64, p: &mut Problems) {
    let file = "mcv_ranges.csv";
    for r in rows {
        if r.row.unit != "fL" {
            p.push(
                file,
                r.line,
                format!("unknown unit {:?}: MCV limits are in fL", r.row.unit),
            );
        }
        if r.row.mcv_low >= r.row.mcv_high {
            p.push(file, r.line, "mcv_low must be below mcv_high");
        }
    }
    // Each sex's rows (its own and `any`) cover every age once.
    for (sex, what) in [
        (SexKey::F, "MCV ranges (female)"),
        (SexKey::M, "MCV ranges (male)"),
        (SexKey::U, "MCV ranges (sex unknown)"),
    ] {
        let spans = rows
            .iter()
            .filter(|r| r.row.sex == sex || r.row.sex == SexKey::Any)
            .map(|r| (r.line, r.row.age_from_years, r.row.age_to_years))
            .collect();
        check_coverage(file, what, start, spans, p);
    }
}

pub(super) fn validate_ferritin(rows: &[Lined<FerritinRow>], start: f64, p: &mut Problems) {
    let file = "ferritin_cutoffs.csv";
    for r in rows {
        if r.row.unit != "ug/L" {
            p.push(
                file,
                r.line,
                format!(
                    "unknown unit {:?}: ferritin cutoffs are in ug/L",
                    r.row.unit
                ),
            );
        }
    }
    for key in [AnemiaKey::Anemic, AnemiaKey::NotAnemic] {
        let spans = rows
            .iter()
            .filter(|r| r.row.anemia == key || r.row.anemia == AnemiaKey::Any)
            .map(|r| (r.line, r.row.age_from_years, r.row.age_to_years))
            .collect();
        check_coverage(
            file,
            &format!("ferritin cutoffs ({key:?})"),
            start,
            spans,
            p,
        );
    }
}
