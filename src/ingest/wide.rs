//! Reader of the wide layout: one row per specimen, `<analyte>_<unit>` columns.

use crate::analyte::Analyte;
use crate::cell::{is_missing_token, parse_cell, Cell, DecimalMark, Measure};
use crate::error::RunError;
use crate::ingest::context::ContextSource;
use crate::ingest::header::{resolve_header, Column, HeaderMap};
use crate::ingest::lines;
use crate::ingest::mapping::Mapping;
use crate::ingest::plausible;
use crate::ingest::records::{self, Item, Records};
use crate::ingest::{Input, Reject, RejectReason, RowOutcome};
use crate::panel::{Conversion, Panel};
use crate::ruleset::Ruleset;

/// How the rows of one wide input become panels or rejects, whatever the file format: the
/// resolved header and the context rules (shared by delimited text and columnar inputs).
pub(crate) struct WideRows {
    pub input_index: usize,
    pub name: String,
    pub header: HeaderMap,
    /// Used to re-join a rejected row's fields.
    pub delimiter: u8,
    pub context: ContextSource,
    /// Columns holding numbers rather than text (columnar inputs): their cells are exact
    /// values written with `.`, whatever the decimal mark of the text cells.
    pub numeric: Vec<bool>,
}

/// Streams one wide input, a batch of rows at a time.
pub struct WideReader {
    pub input_index: usize,
    pub name: String,
    pub header: HeaderMap,
    pub delimiter: u8,
    rows: WideRows,
    records: Records,
    data_rows: u64,
    fields: Vec<String>,
    /// Lines that repeated the header (not data; counted in the summary).
    pub header_repeats: u64,
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
        let mut lines = records::PhysicalLines::new(input.open()?);
        let header = records::read_header(&name, &mut lines, records::TextEncoding::Utf8)?;
        let opened = super::OpenedInput {
            mark: super::Decimal::Auto.mark(header.delimiter),
            name,
            lines,
            header,
        };
        WideReader::from_header(input_index, opened, ruleset, None)
    }

    /// Continues from an already read header line.
    pub(crate) fn from_header(
        input_index: usize,
        opened: super::OpenedInput,
        ruleset: &Ruleset,
        mapping: Option<&Mapping>,
    ) -> Result<WideReader, RunError> {
        let super::OpenedInput {
            name,
            lines,
            header: text_header,
            mark,
        } = opened;
        let delimiter = text_header.delimiter;
        let header = resolve_header(&name, &text_header.names, ruleset, mapping)?;
        let records = Records::new(&name, lines, &text_header);
        let context = ContextSource {
            max_age: ruleset.thresholds.age_valid_max_years,
            mark,
            collection_date_column: header.position(&Column::CollectedAt).is_some(),
        };
        Ok(WideReader {
            input_index,
            name: name.clone(),
            header: header.clone(),
            delimiter,
            rows: WideRows {
                input_index,
                name,
                header,
                delimiter,
                context,
                numeric: Vec::new(),
            },
            records,
            data_rows: 0,
            fields: Vec::new(),
            header_repeats: 0,
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
            let line = match self.records.next(&mut self.fields)? {
                None => return Ok(false),
                Some(Item::Fields { line }) => line,
                Some(Item::Bad(bad)) => {
                    self.data_rows += 1;
                    out.push(RowOutcome::Reject(Reject {
                        input: self.input_index,
                        line: bad.line,
                        reason: bad.reason,
                        message: bad.message,
                        raw: bad.raw,
                        patient_id: None,
                    }));
                    continue;
                }
            };
            match lines::line_kind(&self.fields, &self.header.names) {
                lines::LineKind::RepeatedHeader => {
                    self.header_repeats += 1;
                    continue;
                }
                lines::LineKind::Data => {}
            }
            self.data_rows += 1;
            out.push(self.rows.row(&self.fields, line, self.data_rows, ruleset));
        }
        Ok(true)
    }
}

/// The censoring a comparator cell gives (None: not a comparator).
fn censor_of(c: &str) -> Option<crate::cell::Censor> {
    use crate::cell::Censor;
    Some(match c {
        "<" => Censor::Lt,
        "<=" => Censor::Le,
        ">" => Censor::Gt,
        ">=" => Censor::Ge,
        _ => return None,
    })
}

impl WideRows {
    /// The non-blank comparator cell of an analyte, when the input has that column.
    fn comparator<'a>(&self, fields: &'a [String], analyte: Analyte) -> Option<&'a str> {
        self.field(fields, &Column::Comparator(analyte))
            .map(str::trim)
            .filter(|c| !c.is_empty())
    }

    fn reject(
        &self,
        fields: &[String],
        line: u64,
        reason: RejectReason,
        message: String,
    ) -> RowOutcome {
        let delim = char::from(self.delimiter).to_string();
        RowOutcome::Reject(Reject {
            input: self.input_index,
            line,
            reason,
            message,
            raw: fields.join(&delim),
            patient_id: self
                .field(fields, &Column::PatientId)
                .map(str::trim)
                .filter(|id| !id.is_empty())
                .map(str::to_string),
        })
    }

    fn field<'a>(&self, fields: &'a [String], col: &Column) -> Option<&'a str> {
        self.header
            .position(col)
            .and_then(|i| fields.get(i))
            .map(String::as_str)
    }

    /// The panel or reject of one data row: its fields, physical line (or row number) and
    /// 1-based data row number (the default specimen id).
    pub(crate) fn row(
        &self,
        fields: &[String],
        line: u64,
        data_row: u64,
        ruleset: &Ruleset,
    ) -> RowOutcome {
        let expected = self.header.columns.len();
        if fields.len() != expected {
            return self.reject(
                fields,
                line,
                RejectReason::MalformedLine,
                format!(
                    "{} line {line}: {} fields where the header has {expected}; check for an unquoted delimiter or a cut line",
                    self.name,
                    fields.len()
                ),
            );
        }
        let patient_id = self.field(fields, &Column::PatientId).unwrap_or("").trim();
        if patient_id.is_empty() {
            return self.reject(
                fields,
                line,
                RejectReason::MissingPatientId,
                format!("{} line {line}, column patient_id: blank; every row needs a patient identifier", self.name),
            );
        }
        let specimen_id = match self.field(fields, &Column::SpecimenId).map(str::trim) {
            Some(s) if !s.is_empty() => s.to_string(),
            _ => data_row.to_string(),
        };
        let mut panel = Panel::new(self.input_index, line, patient_id.to_string(), specimen_id);
        match self.read_values(fields, ruleset, &mut panel) {
            Ok(true) => {}
            Ok(false) => {
                return self.reject(
                    fields,
                    line,
                    RejectReason::NoAnalyteValues,
                    format!(
                        "{} line {line}: every analyte cell is blank or NA; nothing to classify",
                        self.name
                    ),
                )
            }
            Err(message) => {
                return self.reject(
                    fields,
                    line,
                    RejectReason::ImplausibleValue,
                    format!("{} line {line}, {message}", self.name),
                )
            }
        }
        self.context.read_into(&mut panel, |c| {
            self.field(fields, c)
                .map(str::trim)
                .filter(|v| !v.is_empty())
        });
        RowOutcome::Panel(Box::new(panel))
    }

    /// Reads the analyte cells of the current row into `panel`, converted to canonical units.
    /// Ok(false) when every analyte cell is blank; Err(message) at the first implausible value.
    fn read_values(
        &self,
        fields: &[String],
        rs: &Ruleset,
        panel: &mut Panel,
    ) -> Result<bool, String> {
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
            let raw = &fields[i];
            if is_missing_token(raw) {
                continue;
            }
            any_value = true;
            let mark = if self.numeric.get(i).copied().unwrap_or(false) {
                DecimalMark::Point
            } else {
                self.context.mark
            };
            let cell = match parse_cell(raw, mark) {
                Cell::Value(m) => {
                    let value = plausible::convert(m.value, *factor);
                    let column = &self.header.names[i];
                    if let Err(outside) = plausible::check(rs, *analyte, value) {
                        let hint = plausible::unit_hint(rs, *analyte, m.value, column);
                        return Err(format!("column {column}: {} {outside}{hint}", raw.trim()));
                    }
                    if *factor != 1.0 {
                        panel.conversions[analyte.index()] = Some(Conversion {
                            column: column.clone(),
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
            let cell = match (cell, self.comparator(fields, *analyte)) {
                (cell, None) => cell,
                (Cell::Value(m), Some(c)) if !m.is_censored() => match censor_of(c) {
                    Some(censor) => Cell::Value(Measure { censor, ..m }),
                    None => Cell::Text(format!("{c}{}", raw.trim())),
                },
                (cell, Some(_)) => cell,
            };
            panel.values[analyte.index()] = cell;
        }
        Ok(any_value)
    }
}
