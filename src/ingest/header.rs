//! Header resolution for the wide layout: identity and context columns, analyte columns
//! named `<analyte>_<unit>`, and everything else reported as ignored.

use crate::analyte::Analyte;
use crate::error::ConfigError;
use crate::ingest::mapping::{HeaderTarget, Mapping};
use crate::ruleset::Ruleset;

/// What one input column holds.
#[derive(Clone, Debug, PartialEq)]
pub enum Column {
    PatientId,
    SpecimenId,
    CollectedAt,
    Sex,
    AgeYears,
    BirthDate,
    Pregnant,
    Altitude,
    Cigarettes,
    Smoker,
    BackPain,
    Conditions,
    Medications,
    AnalyzerId,
    Site,
    /// `<analyte column>_comparator` (`<`, `<=`, `>`, `>=`, as FHIR `Quantity.comparator`
    /// and the engine's own output write it): the analyte's value is a bound.
    Comparator(Analyte),
    Analyte {
        analyte: Analyte,
        unit: String,
        factor: f64,
    },
    Ignored,
}

/// The resolved header of one input.
#[derive(Clone, Debug)]
pub struct HeaderMap {
    /// Column names as read (trimmed).
    pub names: Vec<String>,
    pub columns: Vec<Column>,
    /// Ignored columns, each with why.
    pub ignored: Vec<(String, String)>,
    /// Where each context and comparator column is (looked up for every row).
    slots: [Option<usize>; SLOTS],
}

/// Context columns, then one comparator column per analyte.
const SLOTS: usize = 15 + crate::analyte::ANALYTE_COUNT;

/// The lookup slot of a column kind (analyte and ignored columns have none).
fn slot(c: &Column) -> Option<usize> {
    Some(match c {
        Column::PatientId => 0,
        Column::SpecimenId => 1,
        Column::CollectedAt => 2,
        Column::Sex => 3,
        Column::AgeYears => 4,
        Column::BirthDate => 5,
        Column::Pregnant => 6,
        Column::Altitude => 7,
        Column::Cigarettes => 8,
        Column::Smoker => 9,
        Column::BackPain => 10,
        Column::Conditions => 11,
        Column::Medications => 12,
        Column::AnalyzerId => 13,
        Column::Site => 14,
        Column::Comparator(a) => 15 + a.index(),
        Column::Analyte { .. } | Column::Ignored => return None,
    })
}

impl HeaderMap {
    fn new(names: Vec<String>, columns: Vec<Column>, ignored: Vec<(String, String)>) -> HeaderMap {
        let mut slots = [None; SLOTS];
        for (i, c) in columns.iter().enumerate() {
            if let Some(s) = slot(c) {
                slots[s].get_or_insert(i);
            }
        }
        HeaderMap {
            names,
            columns,
            ignored,
            slots,
        }
    }

    pub fn position(&self, want: &Column) -> Option<usize> {
        match slot(want) {
            Some(s) => self.slots[s],
            None => self.columns.iter().position(|c| c == want),
        }
    }
}

pub(crate) fn context_column(name: &str) -> Option<Column> {
    Some(match name {
        "patient_id" => Column::PatientId,
        "specimen_id" => Column::SpecimenId,
        "collected_at" => Column::CollectedAt,
        "sex" => Column::Sex,
        "age_years" => Column::AgeYears,
        "birth_date" => Column::BirthDate,
        "pregnant" => Column::Pregnant,
        "altitude_m" => Column::Altitude,
        "cigarettes_per_day" => Column::Cigarettes,
        "smoker" => Column::Smoker,
        "back_pain" => Column::BackPain,
        "conditions" => Column::Conditions,
        "medications" => Column::Medications,
        "analyzer_id" => Column::AnalyzerId,
        "site" => Column::Site,
        _ => return None,
    })
}

/// Splits `ferritin_ng_ml` into the analyte and the unit suffix (longest analyte code first,
/// so `mchc_g_dl` is not read as `mch`).
fn split_analyte(name: &str) -> Option<(Analyte, &str)> {
    let mut best: Option<(Analyte, &str)> = None;
    for a in Analyte::ALL {
        if let Some(rest) = name
            .strip_prefix(a.code())
            .and_then(|r| r.strip_prefix('_'))
        {
            if best.is_none_or(|(b, _)| a.code().len() > b.code().len()) {
                best = Some((a, rest));
            }
        }
    }
    best
}

/// Resolves a header against the ruleset's unit table. Fails (exit 2) when `patient_id`
/// is missing, no analyte column is recognised, or an analyte or context column appears twice.
pub fn resolve_header(
    file: &str,
    raw_names: &[String],
    ruleset: &Ruleset,
    mapping: Option<&Mapping>,
) -> Result<HeaderMap, ConfigError> {
    let err = |message: String| ConfigError::Input {
        file: file.to_string(),
        message,
    };
    let names: Vec<String> = raw_names.iter().map(|n| n.trim().to_string()).collect();
    let mut columns = Vec::with_capacity(names.len());
    let mut ignored = Vec::new();
    for name in &names {
        let (column, why_ignored) = resolve_column(name, ruleset, mapping);
        if let Some(why) = why_ignored {
            ignored.push((name.clone(), why));
        }
        columns.push(column);
    }

    if let Some(message) = clash(&names, &columns) {
        return Err(err(message));
    }
    if !columns.contains(&Column::PatientId) {
        // The names are not shown: in an export without a header line they are patient data.
        return Err(err(format!(
            "no patient_id column among the {} columns of the header line; every export needs one. Is this a lab export with a header line?",
            names.len()
        )));
    }
    if !columns.iter().any(|c| matches!(c, Column::Analyte { .. })) {
        return Err(err(
            "no recognisable analyte column (expected names such as hb_g_dl, ferritin_ug_l, mcv_fl); check the header and the delimiter".to_string(),
        ));
    }
    Ok(HeaderMap::new(names, columns, ignored))
}

/// What one (trimmed) column name holds: the mapping file first, then the context columns,
/// then `<analyte>_<unit>`. An ignored column comes with why it is ignored.
fn resolve_column(
    name: &str,
    ruleset: &Ruleset,
    mapping: Option<&Mapping>,
) -> (Column, Option<String>) {
    if let Some(target) = mapping.and_then(|m| m.header(name)) {
        return match target {
            HeaderTarget::Analyte {
                analyte,
                unit,
                factor,
            } => (
                Column::Analyte {
                    analyte: *analyte,
                    unit: unit.clone(),
                    factor: *factor,
                },
                None,
            ),
            HeaderTarget::Ignore => (
                Column::Ignored,
                Some("ignored by the mapping file".to_string()),
            ),
        };
    }
    let key = name.to_ascii_lowercase();
    if let Some(c) = context_column(&key) {
        return (c, None);
    }
    if let Some(base) = key.strip_suffix("_comparator") {
        if let Some((analyte, suffix)) = split_analyte(base) {
            if ruleset.unit(analyte, suffix).is_some() {
                return (Column::Comparator(analyte), None);
            }
        }
    }
    let Some((analyte, suffix)) = split_analyte(&key) else {
        return (
            Column::Ignored,
            Some("not a known column; ignored".to_string()),
        );
    };
    match ruleset.unit(analyte, suffix) {
        Some(u) => (
            Column::Analyte {
                analyte,
                unit: u.unit.clone(),
                factor: u.factor,
            },
            None,
        ),
        None => {
            let accepted: Vec<&str> = ruleset
                .units
                .iter()
                .filter(|u| u.row.analyte == analyte)
                .map(|u| u.row.suffix.as_str())
                .collect();
            (
                Column::Ignored,
                Some(format!(
                    "looks like {analyte} but unit suffix {suffix:?} is not known (accepted: {}); rename the column or map it with --mapping",
                    accepted.join(", ")
                )),
            )
        }
    }
}

/// The message for the first ambiguous pair: the same column twice, or one analyte in two
/// columns.
fn clash(names: &[String], columns: &[Column]) -> Option<String> {
    for (i, c) in columns.iter().enumerate() {
        if *c == Column::Ignored {
            continue;
        }
        for (j, d) in columns.iter().enumerate().skip(i + 1) {
            let clash = match (c, d) {
                (Column::Analyte { analyte: a, .. }, Column::Analyte { analyte: b, .. }) => a == b,
                _ => c == d,
            };
            if clash {
                return Some(format!(
                    "columns {} and {} (columns {} and {}) both give {}; keep one, or resolve them with --mapping",
                    names[i],
                    names[j],
                    i + 1,
                    j + 1,
                    match c {
                        Column::Analyte { analyte, .. } => analyte.code().to_string(),
                        _ => names[i].to_ascii_lowercase(),
                    }
                ));
            }
        }
    }
    None
}
