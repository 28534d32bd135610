//! Reader of the long layout (one row per result, as LIS systems export): test codes
//! (LOINC or mapped local codes), unit strings, corrections and duplicates, and assembly of
//! results into panels around each haemoglobin result.
//!
//! Assembly needs all results of a patient, so a long input is read whole before its
//! panels are emitted; memory grows with the number of results in the file.

use std::collections::{HashMap, VecDeque};
use std::io::{Cursor, Read};

use crate::analyte::{Analyte, ANALYTE_COUNT};
use crate::cell::{is_missing_token, parse_cell, parse_number, Cell, Measure};
use crate::error::{ConfigError, RunError};
use crate::ingest::context;
use crate::ingest::header::{context_column, Column};
use crate::ingest::mapping::{known_units, Mapping};
use crate::ingest::{NotAttached, Reject, RejectReason, RowOutcome};
use crate::panel::{Conversion, Panel};
use crate::ruleset::Ruleset;

/// Columns of the long layout besides the shared context columns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum LongColumn {
    TestCode,
    Value,
    Unit,
    Status,
    ResultTime,
}

fn long_column(name: &str) -> Option<LongColumn> {
    Some(match name {
        "test_code" => LongColumn::TestCode,
        "value" => LongColumn::Value,
        "unit" => LongColumn::Unit,
        "status" => LongColumn::Status,
        "result_time" => LongColumn::ResultTime,
        _ => return None,
    })
}

/// Does this header name the long layout (`test_code` and `value` columns)?
pub fn is_long_header(names: &[String]) -> bool {
    let has = |n: &str| names.iter().any(|h| h.trim().eq_ignore_ascii_case(n));
    has("test_code") && has("value")
}

/// One accepted result.
struct LongResult {
    line: u64,
    fields: Vec<String>,
    patient: String,
    specimen: String,
    collected: Option<i64>,
    analyte: Analyte,
    cell: Cell,
    conversion: Option<Conversion>,
    corrected: bool,
    result_time: Option<i64>,
}

/// Streams the outcomes of one long input.
pub struct LongReader {
    pub input_index: usize,
    pub name: String,
    pub delimiter: u8,
    pub ignored: Vec<(String, String)>,
    decimal_comma: bool,
    reader: csv::Reader<Box<dyn Read + Send>>,
    line_index: super::lines::LineIndex,
    context_cols: Vec<(Column, usize)>,
    cols: HashMap<LongColumn, usize>,
    n_fields: usize,
    window_seconds: f64,
    mapping: Option<Mapping>,
    pending: VecDeque<RowOutcome>,
    loaded: bool,
}

impl LongReader {
    /// Continues from a header line already read; checks the required columns.
    pub(crate) fn from_header(
        input_index: usize,
        opened: super::OpenedInput,
        mapping: Option<&Mapping>,
        window_days: f64,
    ) -> Result<LongReader, RunError> {
        let super::OpenedInput {
            name,
            buffered,
            header_line,
            names,
            delimiter,
        } = opened;
        let mut cols = HashMap::new();
        let mut context_cols = Vec::new();
        let mut ignored = Vec::new();
        for (i, raw) in names.iter().enumerate() {
            let key = raw.trim().to_ascii_lowercase();
            if let Some(c) = long_column(&key) {
                if cols.insert(c, i).is_some() {
                    return Err(dup(&name, raw));
                }
            } else if let Some(c) = context_column(&key) {
                if context_cols.iter().any(|(d, _)| *d == c) {
                    return Err(dup(&name, raw));
                }
                context_cols.push((c, i));
            } else {
                ignored.push((
                    raw.trim().to_string(),
                    "not a column of the long layout; ignored".to_string(),
                ));
            }
        }
        let has_ctx = |c: &Column| context_cols.iter().any(|(d, _)| d == c);
        let mut missing: Vec<&str> = Vec::new();
        if !has_ctx(&Column::PatientId) {
            missing.push("patient_id");
        }
        if !has_ctx(&Column::SpecimenId) {
            missing.push("specimen_id");
        }
        for (c, n) in [
            (LongColumn::TestCode, "test_code"),
            (LongColumn::Value, "value"),
            (LongColumn::Unit, "unit"),
        ] {
            if !cols.contains_key(&c) {
                missing.push(n);
            }
        }
        if !missing.is_empty() {
            return Err(ConfigError::Input {
                file: name,
                message: format!(
                    "long layout without column(s) {}; the long layout needs patient_id, specimen_id, collected_at, test_code, value, unit",
                    missing.join(", ")
                ),
            }
            .into());
        }
        let chained: Box<dyn Read + Send> =
            Box::new(Cursor::new(header_line).chain(super::wide::ReadAdapter(buffered)));
        let (tracked, line_index) = super::lines::LineTracked::new(chained);
        let reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(true)
            .flexible(true)
            .from_reader(Box::new(tracked) as Box<dyn Read + Send>);
        Ok(LongReader {
            input_index,
            name,
            delimiter,
            ignored,
            decimal_comma: delimiter != b',',
            reader,
            line_index,
            context_cols,
            cols,
            n_fields: names.len(),
            window_seconds: window_days * 86_400.0,
            mapping: mapping.cloned(),
            pending: VecDeque::new(),
            loaded: false,
        })
    }

    /// Emits up to `max` outcomes; the first call reads and assembles the whole input.
    pub fn next_batch(
        &mut self,
        max: usize,
        rs: &Ruleset,
        out: &mut Vec<RowOutcome>,
    ) -> Result<bool, RunError> {
        if !self.loaded {
            self.load(rs)?;
            self.loaded = true;
        }
        for _ in 0..max {
            match self.pending.pop_front() {
                Some(o) => out.push(o),
                None => return Ok(false),
            }
        }
        Ok(!self.pending.is_empty())
    }

    fn ctx<'f>(&self, fields: &'f [String], c: &Column) -> Option<&'f str> {
        self.context_cols
            .iter()
            .find(|(d, _)| d == c)
            .and_then(|(_, i)| fields.get(*i))
            .map(String::as_str)
    }

    fn col<'f>(&self, fields: &'f [String], c: LongColumn) -> Option<&'f str> {
        self.cols
            .get(&c)
            .and_then(|i| fields.get(*i))
            .map(String::as_str)
    }

    fn reject(
        &self,
        line: u64,
        fields: &[String],
        reason: RejectReason,
        message: String,
    ) -> (u64, RowOutcome) {
        (
            line,
            RowOutcome::Reject(Reject {
                input: self.input_index,
                line,
                reason,
                message: format!("{} line {line}: {message}", self.name),
                raw: fields.join(&char::from(self.delimiter).to_string()),
            }),
        )
    }

    fn load(&mut self, rs: &Ruleset) -> Result<(), RunError> {
        let mut events: Vec<(u64, RowOutcome)> = Vec::new();
        let mut results: Vec<LongResult> = Vec::new();
        let mut record = csv::ByteRecord::new();
        let mut data_rows = 0u64;
        while let Some(line) =
            super::lines::next_record(&mut self.reader, &mut record, &self.line_index, &self.name)?
        {
            data_rows += 1;
            let fields: Vec<String> = record
                .iter()
                .map(|f| String::from_utf8_lossy(f).into_owned())
                .collect();
            match self.parse_result(line, data_rows, fields, rs) {
                Ok(r) => results.push(r),
                Err(event) => events.push(event),
            }
        }
        self.assemble(results, &mut events, rs);
        events.sort_by_key(|(line, _)| *line);
        self.pending = events.into_iter().map(|(_, o)| o).collect();
        Ok(())
    }

    fn parse_result(
        &self,
        line: u64,
        data_row: u64,
        fields: Vec<String>,
        rs: &Ruleset,
    ) -> Result<LongResult, (u64, RowOutcome)> {
        if fields.len() != self.n_fields {
            let msg = format!(
                "{} fields where the header has {}; check for an unquoted delimiter or a cut line",
                fields.len(),
                self.n_fields
            );
            return Err(self.reject(line, &fields, RejectReason::MalformedLine, msg));
        }
        let patient = self
            .ctx(&fields, &Column::PatientId)
            .unwrap_or("")
            .trim()
            .to_string();
        if patient.is_empty() {
            let msg = "column patient_id: blank; every row needs a patient identifier".to_string();
            return Err(self.reject(line, &fields, RejectReason::MissingPatientId, msg));
        }
        let code = self
            .col(&fields, LongColumn::TestCode)
            .unwrap_or("")
            .trim()
            .to_string();
        let mapped = self.mapping.as_ref().and_then(|m| m.test_code(&code));
        let Some(analyte) = mapped.map(|m| m.analyte).or_else(|| rs.loinc(&code)) else {
            let msg = format!("test code {code:?} is neither a LOINC code of loinc.csv nor mapped; map it with --mapping to use it");
            return Err(self.reject(line, &fields, RejectReason::UnknownTestCode, msg));
        };
        let raw_value = self.col(&fields, LongColumn::Value).unwrap_or("");
        if is_missing_token(raw_value) {
            let msg = format!("{analyte} ({code}): the value is blank or NA; nothing to use");
            return Err(self.reject(line, &fields, RejectReason::NoAnalyteValues, msg));
        }
        let unit_raw = self.col(&fields, LongColumn::Unit).unwrap_or("").trim();
        let unit_text = match (
            unit_raw.is_empty(),
            mapped.and_then(|m| m.default_unit.as_deref()),
        ) {
            (true, Some(default)) => default,
            _ => unit_raw,
        };
        let mut conversion = None;
        let cell = match parse_cell(raw_value, self.decimal_comma) {
            Cell::Value(m) => {
                let Some(unit) = rs.unit_from_text(analyte, unit_text) else {
                    let msg = format!(
                        "{analyte} ({code}): unit {unit_text:?} is not a known unit for {analyte} ({}); the result was not used (units are never guessed)",
                        known_units(rs, analyte)
                    );
                    return Err(self.reject(line, &fields, RejectReason::UnknownUnit, msg));
                };
                let value = super::wide::convert(m.value, unit.factor);
                let (min, max) = rs.plausible_range(analyte);
                if !(min..=max).contains(&value) {
                    let msg = format!(
                        "{analyte} ({code}) {} {unit_text} is outside the plausible range {min}–{max} {}; check the value and its unit",
                        raw_value.trim(),
                        rs.canonical_unit(analyte)
                    );
                    return Err(self.reject(line, &fields, RejectReason::ImplausibleValue, msg));
                }
                if unit.factor != 1.0 || unit_text != rs.canonical_unit(analyte) {
                    conversion = Some(Conversion {
                        column: format!("{code} [{unit_text}]"),
                        raw: raw_value.trim().to_string(),
                        unit: unit.unit.clone(),
                        factor: unit.factor,
                    });
                }
                Cell::Value(Measure {
                    value,
                    censor: m.censor,
                })
            }
            other => other,
        };
        let specimen = match self.ctx(&fields, &Column::SpecimenId).map(str::trim) {
            Some(s) if !s.is_empty() => s.to_string(),
            _ => data_row.to_string(),
        };
        let collected = self
            .ctx(&fields, &Column::CollectedAt)
            .and_then(context::iso_seconds);
        let corrected = self.col(&fields, LongColumn::Status).is_some_and(|s| {
            s.trim().eq_ignore_ascii_case("c") || s.trim().eq_ignore_ascii_case("corrected")
        });
        let result_time = self
            .col(&fields, LongColumn::ResultTime)
            .and_then(context::iso_seconds);
        Ok(LongResult {
            line,
            fields,
            patient,
            specimen,
            collected,
            analyte,
            cell,
            conversion,
            corrected,
            result_time,
        })
    }

    fn assemble(
        &self,
        results: Vec<LongResult>,
        events: &mut Vec<(u64, RowOutcome)>,
        rs: &Ruleset,
    ) {
        // Corrections and duplicates: one result per (patient, specimen, analyte). A corrected
        // result wins, then the later result_time, then the later row.
        let rank = |r: &LongResult| (r.corrected, r.result_time, r.line);
        let mut winner: HashMap<(&str, &str, Analyte), usize> = HashMap::new();
        let mut alive = vec![true; results.len()];
        for (i, r) in results.iter().enumerate() {
            let key = (r.patient.as_str(), r.specimen.as_str(), r.analyte);
            if let Some(&prev) = winner.get(&key) {
                let (keep, lose) = if rank(r) > rank(&results[prev]) {
                    (i, prev)
                } else {
                    (prev, i)
                };
                winner.insert(key, keep);
                alive[lose] = false;
                let why = if results[keep].corrected && !results[lose].corrected {
                    "a corrected result"
                } else if results[keep].result_time != results[lose].result_time {
                    "a later result_time"
                } else {
                    "a later row"
                };
                let l = &results[lose];
                let msg = format!(
                    "{} for specimen {} superseded by line {} ({why}); the result was not used",
                    l.analyte, l.specimen, results[keep].line
                );
                events.push(self.reject(l.line, &l.fields, RejectReason::Superseded, msg));
            } else {
                winner.insert(key, i);
            }
        }

        // Patients and their specimens, in order of first appearance.
        let mut patient_order: Vec<&str> = Vec::new();
        let mut specimens: HashMap<&str, Vec<Specimen>> = HashMap::new();
        for (i, r) in results.iter().enumerate().filter(|(i, _)| alive[*i]) {
            let list = specimens.entry(r.patient.as_str()).or_insert_with(|| {
                patient_order.push(r.patient.as_str());
                Vec::new()
            });
            let pos = match list.iter().position(|s| s.id == r.specimen) {
                Some(p) => p,
                None => {
                    list.push(Specimen {
                        id: r.specimen.clone(),
                        collected: None,
                        first_line: r.line,
                        by_analyte: [None; ANALYTE_COUNT],
                    });
                    list.len() - 1
                }
            };
            let s = &mut list[pos];
            s.collected = s.collected.or(r.collected);
            s.by_analyte[r.analyte.index()] = Some(i);
        }

        let mut used = vec![false; results.len()];
        for patient in patient_order {
            let specs = &specimens[patient];
            let patient_rows: Vec<usize> = specs
                .iter()
                .flat_map(|s| s.by_analyte.iter().flatten().copied())
                .collect();
            let mut anchors: Vec<&Specimen> = specs
                .iter()
                .filter(|s| s.by_analyte[Analyte::Hb.index()].is_some())
                .collect();
            anchors
                .sort_by_key(|s| s.by_analyte[Analyte::Hb.index()].map_or(0, |i| results[i].line));
            for anchor in anchors {
                let mut chosen = [None; ANALYTE_COUNT];
                let mut notes = Vec::new();
                for a in Analyte::ALL {
                    if let Some(i) = anchor.by_analyte[a.index()] {
                        chosen[a.index()] = Some(i);
                        continue;
                    }
                    let Some(t0) = anchor.collected else { continue };
                    let nearest = specs
                        .iter()
                        .filter(|s| s.id != anchor.id)
                        .filter_map(|s| Some((s, s.by_analyte[a.index()]?, s.collected?)))
                        .filter(|(_, _, t)| ((t - t0).abs() as f64) <= self.window_seconds)
                        .min_by_key(|(s, _, t)| ((t - t0).abs(), *t, s.first_line));
                    if let Some((s, i, t)) = nearest {
                        chosen[a.index()] = Some(i);
                        let days = (t - t0) as f64 / 86_400.0;
                        notes.push(format!(
                            "{a} from specimen {} collected {} day(s) {} specimen {}",
                            s.id,
                            crate::numfmt::num(days.abs()),
                            if days < 0.0 { "before" } else { "after" },
                            anchor.id
                        ));
                    }
                }
                let line = anchor.by_analyte[Analyte::Hb.index()]
                    .map_or(anchor.first_line, |i| results[i].line);
                let panel = self.build_panel(
                    &results,
                    anchor,
                    &chosen,
                    notes,
                    &patient_rows,
                    &mut used,
                    line,
                    rs,
                );
                events.push((line, RowOutcome::Panel(Box::new(panel))));
            }
            // A specimen without haemoglobin and with no haemoglobin specimen of the patient
            // within the window forms a panel of its own, so iron deficiency without a blood
            // count is still reported. Within a window, its unused results are "not attached".
            let hb_times: Vec<Option<i64>> = specs
                .iter()
                .filter(|s| s.by_analyte[Analyte::Hb.index()].is_some())
                .map(|s| s.collected)
                .collect();
            for s in specs
                .iter()
                .filter(|s| s.by_analyte[Analyte::Hb.index()].is_none())
            {
                let anchored = s.collected.is_some_and(|t| {
                    hb_times
                        .iter()
                        .flatten()
                        .any(|h| ((h - t).abs() as f64) <= self.window_seconds)
                });
                if anchored {
                    continue;
                }
                let notes = vec![format!(
                    "no haemoglobin result of this patient within {} day(s) of specimen {}: panel formed from it alone",
                    crate::numfmt::num(self.window_seconds / 86_400.0),
                    s.id
                )];
                let panel = self.build_panel(
                    &results,
                    s,
                    &s.by_analyte,
                    notes,
                    &patient_rows,
                    &mut used,
                    s.first_line,
                    rs,
                );
                events.push((s.first_line, RowOutcome::Panel(Box::new(panel))));
            }
        }
        for (i, r) in results.iter().enumerate() {
            if alive[i] && !used[i] {
                events.push((
                    r.line,
                    RowOutcome::NotAttached(NotAttached {
                        input: self.input_index,
                        line: r.line,
                        analyte: r.analyte,
                    }),
                ));
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn build_panel(
        &self,
        results: &[LongResult],
        anchor: &Specimen,
        chosen: &[Option<usize>; ANALYTE_COUNT],
        notes: Vec<String>,
        patient_rows: &[usize],
        used: &mut [bool],
        line: u64,
        rs: &Ruleset,
    ) -> Panel {
        let own_rows: Vec<usize> = anchor.by_analyte.iter().flatten().copied().collect();
        let first = own_rows.first().map_or(&results[0], |i| &results[*i]);
        let mut panel = Panel::new(
            self.input_index,
            line,
            first.patient.clone(),
            anchor.id.clone(),
        );
        panel.rows_used = 0;
        for i in chosen.iter().flatten() {
            if !used[*i] {
                used[*i] = true;
                panel.rows_used += 1;
            }
            let r = &results[*i];
            panel.values[r.analyte.index()] = r.cell.clone();
            panel.conversions[r.analyte.index()] = r.conversion.clone();
        }
        panel.assembly_notes = notes;
        // Context: the anchor specimen's rows first, then any row of the patient.
        let value_of = |c: &Column| -> Option<String> {
            own_rows
                .iter()
                .chain(patient_rows)
                .filter_map(|i| self.ctx(&results[*i].fields, c))
                .map(str::trim)
                .find(|v| !v.is_empty())
                .map(str::to_string)
        };
        panel.collected_at = value_of(&Column::CollectedAt).unwrap_or_default();
        panel.sex_raw = value_of(&Column::Sex).unwrap_or_default();
        panel.sex = context::sex(&panel.sex_raw);
        let (age, note) = context::age(
            value_of(&Column::AgeYears).as_deref(),
            value_of(&Column::BirthDate).as_deref(),
            Some(panel.collected_at.as_str()),
            rs.thresholds.age_valid_max_years,
            self.decimal_comma,
        );
        panel.age_years = age;
        panel.age_note = note;
        panel.pregnancy = context::pregnancy(&value_of(&Column::Pregnant).unwrap_or_default());
        panel.altitude_m =
            value_of(&Column::Altitude).and_then(|r| parse_number(&r, self.decimal_comma));
        panel.cigarettes_per_day = value_of(&Column::Cigarettes)
            .and_then(|r| parse_number(&r, self.decimal_comma))
            .filter(|c| *c >= 0.0);
        panel.smoker = value_of(&Column::Smoker).and_then(|r| context::yes_no(&r));
        panel.back_pain = context::back_pain(&value_of(&Column::BackPain).unwrap_or_default());
        let mut unknown = Vec::new();
        context::conditions(
            &value_of(&Column::Conditions).unwrap_or_default(),
            &mut panel.conditions,
            &mut unknown,
        );
        context::medications(
            &value_of(&Column::Medications).unwrap_or_default(),
            &mut panel.medications,
            &mut unknown,
        );
        panel.unknown_codes = unknown;
        panel
    }
}

/// One specimen of a patient: its results by analyte.
struct Specimen {
    id: String,
    collected: Option<i64>,
    first_line: u64,
    by_analyte: [Option<usize>; ANALYTE_COUNT],
}

fn dup(file: &str, column: &str) -> RunError {
    ConfigError::Input {
        file: file.to_string(),
        message: format!("column {:?} appears twice; keep one", column.trim()),
    }
    .into()
}
