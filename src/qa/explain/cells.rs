//! The cells of the explained row: the row read again from the input (the panel keeps
//! canonical values only), and for each cell its role and what the engine made of it.

use super::trace::{AnalyteValue, CellTrace};
use crate::analyte::Analyte;
use crate::cell::Cell;
use crate::error::RunError;
use crate::ingest::{Column, HeaderMap, Input};
use crate::panel::{Panel, Pregnancy, Sex};
use crate::rules::{num, show};
use crate::ruleset::Ruleset;

/// The header and the fields of physical line `line`, read again from the input (the
/// panel keeps canonical values only). Empty when the line cannot be found.
pub(super) fn raw_row(
    input: &Input,
    delimiter: u8,
    line: u64,
) -> Result<Vec<(String, String)>, RunError> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(input.open()?);
    let text = |r: &csv::ByteRecord| -> Vec<String> {
        r.iter()
            .map(|f| String::from_utf8_lossy(f).into_owned())
            .collect()
    };
    let mut header: Option<Vec<String>> = None;
    let mut record = csv::ByteRecord::new();
    while reader
        .read_byte_record(&mut record)
        .map_err(|e| RunError::Read {
            file: input.name(),
            line: e.position().map_or(0, |p| p.line()),
            message: format!("cannot read: {e}"),
        })?
    {
        let at = record.position().map_or(0, |p| p.line());
        match &header {
            None => {
                header = Some(
                    text(&record)
                        .into_iter()
                        .map(|h| h.trim_start_matches('\u{feff}').trim().to_string())
                        .collect(),
                )
            }
            Some(names) if at == line => {
                let fields = text(&record);
                let width = names.len().max(fields.len());
                return Ok((0..width)
                    .map(|i| {
                        (
                            names
                                .get(i)
                                .cloned()
                                .unwrap_or_else(|| format!("(field {})", i + 1)),
                            fields.get(i).cloned().unwrap_or_default(),
                        )
                    })
                    .collect());
            }
            Some(_) if at > line => break,
            Some(_) => {}
        }
    }
    Ok(Vec::new())
}

/// What the engine made of each cell of a wide row (`header` None: long layout, raw only).
pub(super) fn cell_traces(
    raw: &[(String, String)],
    header: Option<&HeaderMap>,
    p: &Panel,
    rs: &Ruleset,
) -> Vec<CellTrace> {
    raw.iter()
        .enumerate()
        .map(|(i, (column, value))| {
            let (role, read_as) = match header.and_then(|h| h.columns.get(i)) {
                Some(c) => read_as(c, column, value, header, p, rs),
                None => ("cell", String::new()),
            };
            let analyte = match header.and_then(|h| h.columns.get(i)) {
                Some(Column::Analyte { analyte, .. }) => Some(analyte_value(*analyte, p, rs)),
                _ => None,
            };
            CellTrace {
                column: column.clone(),
                raw: value.clone(),
                role,
                read_as,
                analyte,
            }
        })
        .collect()
}

/// The canonical value the rules saw for `analyte`.
fn analyte_value(analyte: Analyte, p: &Panel, rs: &Ruleset) -> AnalyteValue {
    let cell = p.cell(analyte);
    AnalyteValue {
        analyte: analyte.code(),
        status: match cell {
            Cell::Missing => "missing",
            Cell::Text(_) => "text",
            Cell::Ambiguous(_) => "ambiguous",
            Cell::Value(m) if m.is_censored() => "censored",
            Cell::Value(_) => "value",
        },
        value: cell.measure().map(|m| show(m).to_string()),
        unit: rs.canonical_unit(analyte).to_string(),
    }
}

/// The role of a wide-layout cell and what the engine read in it.
fn read_as(
    column: &Column,
    name: &str,
    raw: &str,
    header: Option<&HeaderMap>,
    p: &Panel,
    rs: &Ruleset,
) -> (&'static str, String) {
    match column {
        Column::PatientId | Column::CollectedAt => ("identity", "as read".into()),
        Column::SpecimenId => (
            "identity",
            if raw.trim().is_empty() {
                format!("blank: the data row number {} is used", p.specimen_id)
            } else {
                "as read".into()
            },
        ),
        Column::Sex => ("context", format!("sex {}", sex_code(p.sex))),
        Column::AgeYears | Column::BirthDate => ("context", age_read_as(p)),
        Column::Pregnant => ("context", pregnancy_code(p.pregnancy).into()),
        Column::Altitude => (
            "context",
            or_not_used(p.altitude_m.map(|a| format!("altitude {} m", num(a)))),
        ),
        Column::Cigarettes => (
            "context",
            or_not_used(
                p.cigarettes_per_day
                    .map(|c| format!("{} cigarettes per day", num(c))),
            ),
        ),
        Column::Smoker => (
            "context",
            match p.smoker {
                Some(true) => "smoker".into(),
                Some(false) => "non-smoker".into(),
                None => "not used (blank or not yes/no)".into(),
            },
        ),
        Column::BackPain => ("context", format!("back pain {}", p.back_pain.code())),
        Column::AnalyzerId | Column::Site => ("context", "carried to the output".into()),
        Column::Comparator(a) => ("analyte", format!("comparator of {a}")),
        Column::Conditions => (
            "context",
            codes_read_as(p.conditions.iter().map(|c| c.code()).collect(), raw, p),
        ),
        Column::Medications => (
            "context",
            codes_read_as(p.medications.iter().map(|m| m.code()).collect(), raw, p),
        ),
        Column::Analyte {
            analyte,
            unit,
            factor,
        } => (
            "analyte",
            analyte_read_as(*analyte, unit, *factor, raw, p, rs),
        ),
        Column::Ignored => ("ignored", ignored_read_as(name, header)),
    }
}

fn or_not_used(v: Option<String>) -> String {
    v.unwrap_or_else(|| "not used (blank or not a number)".into())
}

fn age_read_as(p: &Panel) -> String {
    match p.age_years {
        Some(a) => format!("age used: {} y", num(a)),
        None => format!(
            "age missing ({}): treated as adult",
            p.age_note.as_deref().unwrap_or("no age given")
        ),
    }
}

/// The known codes of a conditions or medications cell, and the unknown ones it holds.
fn codes_read_as(known: Vec<&str>, raw: &str, p: &Panel) -> String {
    let unknown: Vec<&str> = p
        .unknown_codes
        .iter()
        .map(String::as_str)
        .filter(|u| raw.to_ascii_lowercase().contains(&u.to_ascii_lowercase()))
        .collect();
    let mut s = if known.is_empty() {
        "none".to_string()
    } else {
        known.join(", ")
    };
    if !unknown.is_empty() {
        s.push_str(&format!("; unknown codes ignored: {}", unknown.join(", ")));
    }
    s
}

/// An analyte cell: its value, the unit conversion when there was one, and censoring.
fn analyte_read_as(
    analyte: Analyte,
    unit: &str,
    factor: f64,
    raw: &str,
    p: &Panel,
    rs: &Ruleset,
) -> String {
    let canonical = rs.canonical_unit(analyte);
    match p.cell(analyte) {
        Cell::Missing => "missing".to_string(),
        Cell::Text(t) => {
            format!("text result {t:?}: missing for the rules (DATA-002)")
        }
        Cell::Ambiguous(t) => {
            format!("{t:?} could be read two ways: missing for the rules (DATA-006)")
        }
        Cell::Value(m) => {
            let mut s = if factor != 1.0 {
                format!(
                    "{analyte} {} {unit} x {factor} = {} {canonical}",
                    raw.trim(),
                    show(*m)
                )
            } else {
                format!("{analyte} {} {canonical}", show(*m))
            };
            if m.is_censored() {
                s.push_str(" (censored, DATA-001)");
            }
            s
        }
    }
}

/// An ignored column, with why it is ignored when the header says.
fn ignored_read_as(name: &str, header: Option<&HeaderMap>) -> String {
    header
        .and_then(|h| h.ignored.iter().find(|(n, _)| n == name))
        .map_or_else(
            || "ignored".to_string(),
            |(_, why)| {
                if why.contains("ignored") {
                    why.clone()
                } else {
                    format!("ignored: {why}")
                }
            },
        )
}

fn pregnancy_code(p: Pregnancy) -> &'static str {
    match p {
        Pregnancy::No => "not pregnant",
        Pregnancy::Trimester1 => "pregnant, trimester 1",
        Pregnancy::Trimester2 => "pregnant, trimester 2",
        Pregnancy::Trimester3 => "pregnant, trimester 3",
        Pregnancy::TrimesterUnknown => "pregnant, trimester unknown",
        Pregnancy::Unreadable => "pregnancy unknown (value not recognised)",
    }
}

fn sex_code(s: Sex) -> &'static str {
    match s {
        Sex::Female => "female",
        Sex::Male => "male",
        Sex::Unknown => "unknown",
    }
}
