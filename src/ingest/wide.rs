//! Reader of the wide layout: one row per specimen, `<analyte>_<unit>` columns.

use std::io::{BufRead, Cursor, Read};

use crate::analyte::Analyte;
use crate::cell::{is_missing_token, parse_cell, Cell, Measure};
use crate::error::RunError;
use crate::ingest::context;
use crate::ingest::header::{resolve_header, Column, HeaderMap};
use crate::ingest::mapping::Mapping;
use crate::ingest::{read_header_line, Input, Reject, RejectReason, RowOutcome};
use crate::panel::{Conversion, Panel};
use crate::ruleset::Ruleset;

/// Streams one wide input, a batch of rows at a time.
pub struct WideReader {
    pub input_index: usize,
    pub name: String,
    pub header: HeaderMap,
    pub delimiter: u8,
    decimal_comma: bool,
    reader: csv::Reader<Box<dyn Read + Send>>,
    line_index: super::lines::LineIndex,
    record: csv::ByteRecord,
    data_rows: u64,
    fields: Vec<String>,
}

impl WideReader {
    /// Opens an input and resolves its header; configuration problems surface here,
    /// before any data row is read.
    pub fn open(
        input_index: usize,
        input: &Input,
        ruleset: &Ruleset,
    ) -> Result<WideReader, RunError> {
        let name = input.name();
        let mut buffered = input.open()?;
        let header_line = read_header_line(&name, buffered.as_mut())?;
        WideReader::from_header(input_index, name, buffered, header_line, ruleset, None)
    }

    /// Continues from an already read header line.
    pub(crate) fn from_header(
        input_index: usize,
        name: String,
        buffered: Box<dyn BufRead + Send>,
        header_line: Vec<u8>,
        ruleset: &Ruleset,
        mapping: Option<&Mapping>,
    ) -> Result<WideReader, RunError> {
        let delimiter = super::detect_delimiter(&header_line);
        let names = super::header_names(&name, &header_line, delimiter)?;
        let header = resolve_header(&name, &names, ruleset, mapping)?;

        // Re-chain the header line so csv positions count physical lines from 1.
        let chained: Box<dyn Read + Send> =
            Box::new(Cursor::new(header_line).chain(ReadAdapter(buffered)));
        let (tracked, line_index) = super::lines::LineTracked::new(chained);
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(true)
            .flexible(true)
            .from_reader(Box::new(tracked) as Box<dyn Read + Send>);
        reader.byte_headers().map_err(|e| RunError::Read {
            file: name.clone(),
            line: 1,
            message: format!("cannot read the header: {e}"),
        })?;
        Ok(WideReader {
            input_index,
            name,
            header,
            delimiter,
            decimal_comma: delimiter != b',',
            reader,
            line_index,
            record: csv::ByteRecord::new(),
            data_rows: 0,
            fields: Vec::new(),
        })
    }

    /// Reads up to `max` data rows into `out`. Returns false at the end of the input.
    pub fn next_batch(
        &mut self,
        max: usize,
        ruleset: &Ruleset,
        out: &mut Vec<RowOutcome>,
    ) -> Result<bool, RunError> {
        for _ in 0..max {
            let Some(line) = super::lines::next_record(
                &mut self.reader,
                &mut self.record,
                &self.line_index,
                &self.name,
            )?
            else {
                return Ok(false);
            };
            self.data_rows += 1;
            self.fields.clear();
            self.fields.extend(
                self.record
                    .iter()
                    .map(|f| String::from_utf8_lossy(f).into_owned()),
            );
            out.push(self.row(line, ruleset));
        }
        Ok(true)
    }

    fn reject(&self, line: u64, reason: RejectReason, message: String) -> RowOutcome {
        let delim = char::from(self.delimiter).to_string();
        RowOutcome::Reject(Reject {
            input: self.input_index,
            line,
            reason,
            message,
            raw: self.fields.join(&delim),
        })
    }

    fn field(&self, col: &Column) -> Option<&str> {
        self.header
            .position(col)
            .and_then(|i| self.fields.get(i))
            .map(String::as_str)
    }

    fn row(&self, line: u64, ruleset: &Ruleset) -> RowOutcome {
        let expected = self.header.columns.len();
        if self.fields.len() != expected {
            return self.reject(
                line,
                RejectReason::MalformedLine,
                format!(
                    "{} line {line}: {} fields where the header has {expected}; check for an unquoted delimiter or a cut line",
                    self.name,
                    self.fields.len()
                ),
            );
        }
        let patient_id = self.field(&Column::PatientId).unwrap_or("").trim();
        if patient_id.is_empty() {
            return self.reject(
                line,
                RejectReason::MissingPatientId,
                format!("{} line {line}, column patient_id: blank; every row needs a patient identifier", self.name),
            );
        }
        let specimen_id = match self.field(&Column::SpecimenId).map(str::trim) {
            Some(s) if !s.is_empty() => s.to_string(),
            _ => self.data_rows.to_string(),
        };
        let mut panel = Panel::new(self.input_index, line, patient_id.to_string(), specimen_id);

        let mut any_value = false;
        for (i, col) in self.header.columns.iter().enumerate() {
            let Column::Analyte {
                analyte,
                unit,
                factor,
            } = col
            else {
                continue;
            };
            let raw = &self.fields[i];
            if is_missing_token(raw) {
                continue;
            }
            any_value = true;
            let cell = match parse_cell(raw, self.decimal_comma) {
                Cell::Value(m) => {
                    let value = convert(m.value, *factor);
                    if let Some(message) = implausible(
                        *analyte,
                        value,
                        m.value,
                        &self.header.names[i],
                        raw,
                        ruleset,
                    ) {
                        return self.reject(
                            line,
                            RejectReason::ImplausibleValue,
                            format!("{} line {line}, {message}", self.name),
                        );
                    }
                    if *factor != 1.0 {
                        panel.conversions[analyte.index()] = Some(Conversion {
                            column: self.header.names[i].clone(),
                            raw: raw.trim().to_string(),
                            unit: unit.clone(),
                            factor: *factor,
                        });
                    }
                    Cell::Value(Measure {
                        value,
                        censor: m.censor,
                    })
                }
                other => other,
            };
            panel.values[analyte.index()] = cell;
        }
        if !any_value {
            return self.reject(
                line,
                RejectReason::NoAnalyteValues,
                format!(
                    "{} line {line}: every analyte cell is blank or NA; nothing to classify",
                    self.name
                ),
            );
        }

        let get = |c: &Column| self.field(c);
        panel.collected_at = get(&Column::CollectedAt).unwrap_or("").trim().to_string();
        panel.sex_raw = get(&Column::Sex).unwrap_or("").trim().to_string();
        panel.sex = context::sex(&panel.sex_raw);
        let (age, note) = context::age(
            get(&Column::AgeYears),
            get(&Column::BirthDate),
            get(&Column::CollectedAt),
            ruleset.thresholds.age_valid_max_years,
            self.decimal_comma,
        );
        panel.age_years = age;
        panel.age_note = note;
        panel.pregnancy = context::pregnancy(get(&Column::Pregnant).unwrap_or(""));
        panel.altitude_m =
            get(&Column::Altitude).and_then(|r| crate::cell::parse_number(r, self.decimal_comma));
        panel.cigarettes_per_day = get(&Column::Cigarettes)
            .and_then(|r| crate::cell::parse_number(r, self.decimal_comma))
            .filter(|c| *c >= 0.0);
        panel.smoker = get(&Column::Smoker).and_then(context::yes_no);
        panel.back_pain = context::back_pain(get(&Column::BackPain).unwrap_or(""));
        let mut unknown = Vec::new();
        context::conditions(
            get(&Column::Conditions).unwrap_or(""),
            &mut panel.conditions,
            &mut unknown,
        );
        context::medications(
            get(&Column::Medications).unwrap_or(""),
            &mut panel.medications,
            &mut unknown,
        );
        panel.unknown_codes = unknown;
        RowOutcome::Panel(Box::new(panel))
    }
}

/// Converts to the canonical unit; rounding to 6 decimals removes binary noise
/// (123 g/L * 0.1 must equal 12.3 g/dL exactly, or boundary decisions would flip).
pub fn convert(value: f64, factor: f64) -> f64 {
    if factor == 1.0 {
        value
    } else {
        ((value * factor) * 1e6).round() / 1e6
    }
}

/// The reject message for a value outside the plausible range, with a unit hint when
/// another accepted unit of the analyte would make it plausible.
fn implausible(
    analyte: Analyte,
    canonical: f64,
    raw_value: f64,
    column: &str,
    raw: &str,
    ruleset: &Ruleset,
) -> Option<String> {
    let (min, max) = ruleset.plausible_range(analyte);
    if (min..=max).contains(&canonical) {
        return None;
    }
    let unit = ruleset.canonical_unit(analyte);
    let hint = ruleset
        .units
        .iter()
        .map(|u| &u.row)
        .filter(|u| {
            u.analyte == analyte
                && !column
                    .to_ascii_lowercase()
                    .ends_with(&format!("_{}", u.suffix))
        })
        .find(|u| (min..=max).contains(&convert(raw_value, u.factor)))
        .map(|u| format!("; is this column in {}?", u.unit))
        .unwrap_or_else(|| "; check the value and the column's unit".to_string());
    Some(format!(
        "column {column}: {} is outside the plausible range {min}–{max} {unit}{hint}",
        raw.trim()
    ))
}

/// Adapts a boxed `BufRead` to `Read` for chaining.
pub(crate) struct ReadAdapter(pub(crate) Box<dyn BufRead + Send>);

impl Read for ReadAdapter {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.read(buf)
    }
}
