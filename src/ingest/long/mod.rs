//! Reader of the long layout (one row per result, as LIS systems export): test codes
//! (LOINC or mapped local codes), unit strings, corrections and duplicates, and assembly of
//! results into panels around each haemoglobin result.
//!
//! Assembly needs all results of a patient and the panels go out in input order, so a long
//! input is read whole before its first panel is emitted. Each result is kept as a compact
//! record (about 64 bytes, see [`store`]); its raw fields (needed only when it is superseded)
//! move to a temporary file past [`RAW_BUDGET`]. Panels are built one batch at a time as they
//! are emitted. Assembly sorts once and searches, O(n log n) in the results of a patient.

mod assemble;
mod store;

use std::borrow::Cow;
use std::collections::HashMap;

use crate::analyte::Analyte;
use crate::cell::{is_missing_token, parse_cell, Cell, DecimalMark, Measure};
use crate::error::{ConfigError, RunError};
use crate::ingest::header::{context_column, Column};
use crate::ingest::lines;
use crate::ingest::mapping::{known_units, CodeTarget, Mapping};
use crate::ingest::records::{Item, Records};
use crate::ingest::{plausible, Reject, RejectReason, RowOutcome};
use crate::panel::Conversion;
use crate::ruleset::Ruleset;
use assemble::Emitter;
use store::{Chunked, Contexts, Interner, RawStore, Rec, NONE, NO_TIME};

/// Bytes of raw fields kept in memory before they move to a temporary file.
const RAW_BUDGET: usize = 128 << 20;

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

/// One accepted result as parsed, borrowing from its fields.
struct Parsed<'a> {
    patient: &'a str,
    specimen: Cow<'a, str>,
    collected: Option<i64>,
    analyte: Analyte,
    cell: Cell,
    conversion: Option<ConversionOf<'a>>,
    corrected: bool,
    result_time: Option<i64>,
}

/// A unit conversion of one result: `code [unit_text]`, the raw value, the canonical unit.
struct ConversionOf<'a> {
    code: &'a str,
    unit_text: &'a str,
    raw: &'a str,
    unit: &'a str,
    factor: f64,
}

/// The accepted results of one input and the rejects found while reading it.
pub(super) struct Store {
    recs: Chunked<Rec>,
    patients: Interner,
    specimens: Interner,
    /// Context cells and the texts of results (text results, raw values of conversions).
    strings: Interner,
    contexts: Contexts,
    /// Conversions by `code [unit_text]`, their `raw` left empty.
    conversions: Vec<Conversion>,
    conversion_ids: HashMap<String, u32>,
    raw: RawStore,
    /// Rejects found while reading, in line order.
    rejects: Vec<Reject>,
    /// Withdrawals (HL7 OBX-11 `D`/`W`): the results of their key stored before them are
    /// superseded ([`Withdrawal`]).
    withdrawals: Vec<Withdrawal>,
}

/// A withdrawal of the results of one (patient, specimen, analyte) received so far.
#[derive(Clone, Copy, Debug)]
pub(super) struct Withdrawal {
    pub patient: u32,
    pub specimen: u32,
    pub analyte: u8,
    /// Results stored before it (their index is below this) are withdrawn.
    pub before: usize,
    pub line: u64,
}

impl Store {
    fn new(context_width: usize) -> Store {
        Store {
            recs: Chunked::new(),
            patients: Interner::new(),
            specimens: Interner::new(),
            strings: Interner::new(),
            contexts: Contexts::new(context_width),
            conversions: Vec::new(),
            conversion_ids: HashMap::new(),
            raw: RawStore::new(RAW_BUDGET),
            rejects: Vec::new(),
            withdrawals: Vec::new(),
        }
    }
}

/// Scratch buffers of the reading loop, reused from row to row.
#[derive(Default)]
struct Scratch {
    fields: Vec<String>,
    cells: Vec<u32>,
    raw: String,
    key: String,
}

/// Streams the outcomes of one long input.
pub struct LongReader {
    pub input_index: usize,
    pub name: String,
    pub delimiter: u8,
    pub ignored: Vec<(String, String)>,
    mark: DecimalMark,
    records: Records,
    context_cols: Vec<(Column, usize)>,
    cols: HashMap<LongColumn, usize>,
    n_fields: usize,
    window_seconds: f64,
    mapping: Option<Mapping>,
    emitter: Option<Box<Emitter>>,
    /// Results handed over by another reader ([`RowLoader`]), assembled at the first batch.
    preloaded: Option<Store>,
    header_names: Vec<String>,
    /// Lines that repeated the header (not data; counted in the summary).
    pub header_repeats: u64,
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
            lines,
            header,
            mark,
        } = opened;
        let names = &header.names;
        let delimiter = header.delimiter;
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
        let records = Records::new(&name, lines, &header);
        Ok(LongReader {
            input_index,
            name,
            delimiter,
            ignored,
            mark,
            records,
            context_cols,
            cols,
            n_fields: names.len(),
            window_seconds: window_days * 86_400.0,
            mapping: mapping.cloned(),
            emitter: None,
            preloaded: None,
            header_names: names.clone(),
            header_repeats: 0,
        })
    }

    /// Emits up to `max` outcomes; the first call reads and assembles the whole input.
    pub fn next_batch(
        &mut self,
        max: usize,
        rs: &Ruleset,
        out: &mut Vec<RowOutcome>,
    ) -> Result<bool, RunError> {
        if self.emitter.is_none() {
            let store = match self.preloaded.take() {
                Some(store) => store,
                None => self.load(rs)?,
            };
            self.emitter = Some(self.assemble(store, rs)?);
        }
        match &mut self.emitter {
            Some(e) => Ok(e.next_batch(max, out)),
            None => Ok(false),
        }
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
    ) -> Reject {
        let raw = fields.join(&char::from(self.delimiter).to_string());
        let patient = self
            .ctx(fields, &Column::PatientId)
            .map(str::trim)
            .filter(|id| !id.is_empty())
            .map(str::to_string);
        self.reject_raw(line, raw, reason, message, patient)
    }

    fn reject_raw(
        &self,
        line: u64,
        raw: String,
        reason: RejectReason,
        message: String,
        patient_id: Option<String>,
    ) -> Reject {
        Reject {
            input: self.input_index,
            line,
            reason,
            message: format!("{} line {line}: {message}", self.name),
            raw,
            patient_id,
        }
    }

    fn too_many(&self, line: u64, what: &str) -> RunError {
        RunError::Read {
            file: self.name.clone(),
            line,
            message: format!(
                "more than {} {what} in one input; split the export",
                u32::MAX - 1
            ),
        }
    }

    fn load(&mut self, rs: &Ruleset) -> Result<Store, RunError> {
        let mut store = Store::new(self.context_cols.len());
        let mut scratch = Scratch::default();
        let mut data_rows = 0u64;
        loop {
            let mut fields = std::mem::take(&mut scratch.fields);
            let line = match self.records.next(&mut fields)? {
                None => break,
                Some(Item::Fields { line }) => line,
                Some(Item::Bad(bad)) => {
                    data_rows += 1;
                    store.rejects.push(Reject {
                        input: self.input_index,
                        line: bad.line,
                        reason: bad.reason,
                        message: bad.message,
                        raw: bad.raw,
                        patient_id: None,
                    });
                    scratch.fields = fields;
                    continue;
                }
            };
            match lines::line_kind(&fields, &self.header_names) {
                lines::LineKind::RepeatedHeader => self.header_repeats += 1,
                lines::LineKind::Data => {
                    data_rows += 1;
                    match self.parse_result(line, data_rows, &fields, rs) {
                        Ok(parsed) => {
                            self.keep(line, parsed, &fields, None, &mut store, &mut scratch)?
                        }
                        Err(reject) => store.rejects.push(reject),
                    }
                }
            }
            scratch.fields = fields;
        }
        Ok(store)
    }

    /// Stores an accepted result compactly: ids of its strings, its context tuple, its raw
    /// fields (or `raw`, the source text of a row from another reader) in the raw store.
    fn keep(
        &self,
        line: u64,
        p: Parsed<'_>,
        fields: &[String],
        raw: Option<&str>,
        store: &mut Store,
        scratch: &mut Scratch,
    ) -> Result<(), RunError> {
        let too_many = |what| self.too_many(line, what);
        let patient = store
            .patients
            .intern(p.patient)
            .ok_or_else(|| too_many("patients"))?;
        let specimen = store
            .specimens
            .intern(&p.specimen)
            .ok_or_else(|| too_many("specimens"))?;
        scratch.cells.clear();
        for (_, i) in &self.context_cols {
            let v = fields.get(*i).map_or("", |f| f.trim());
            let id = if v.is_empty() {
                NONE
            } else {
                store
                    .strings
                    .intern(v)
                    .ok_or_else(|| too_many("distinct cells"))?
            };
            scratch.cells.push(id);
        }
        let ctx = store
            .contexts
            .push(&scratch.cells)
            .ok_or_else(|| too_many("distinct contexts"))?;
        let (kind, value, cell_text) = store::flatten_cell(&p.cell);
        let mut conv = NONE;
        let mut text = cell_text;
        if let Some(c) = &p.conversion {
            text = Some(c.raw);
            scratch.key.clear();
            scratch.key.push_str(c.code);
            scratch.key.push_str(" [");
            scratch.key.push_str(c.unit_text);
            scratch.key.push(']');
            conv = match store.conversion_ids.get(scratch.key.as_str()) {
                Some(id) => *id,
                None => {
                    let id = u32::try_from(store.conversions.len())
                        .map_err(|_| too_many("conversions"))?;
                    store.conversions.push(Conversion {
                        column: scratch.key.clone(),
                        raw: String::new(),
                        unit: c.unit.to_string(),
                        factor: c.factor,
                    });
                    store.conversion_ids.insert(scratch.key.clone(), id);
                    id
                }
            };
        }
        let text = match text {
            Some(t) => store
                .strings
                .intern(t)
                .ok_or_else(|| too_many("distinct cells"))?,
            None => NONE,
        };
        scratch.raw.clear();
        match raw {
            Some(r) => scratch.raw.push_str(r),
            None => {
                for (n, f) in fields.iter().enumerate() {
                    if n > 0 {
                        scratch.raw.push(char::from(self.delimiter));
                    }
                    scratch.raw.push_str(f);
                }
            }
        }
        let raw_end = store.raw.push(&scratch.raw).map_err(|e| {
            RunError::io(
                format!("cannot write a temporary file for {}", self.name),
                e,
            )
        })?;
        if store.recs.len() >= NONE as usize {
            return Err(too_many("results"));
        }
        store.recs.push(Rec {
            line,
            collected: p.collected.filter(|t| *t != NO_TIME).unwrap_or(NO_TIME),
            result_time: p.result_time.filter(|t| *t != NO_TIME).unwrap_or(NO_TIME),
            value,
            raw_end,
            patient,
            specimen,
            ctx,
            text,
            conv,
            analyte: p.analyte.index() as u8,
            kind,
            corrected: p.corrected,
        });
        Ok(())
    }

    fn parse_result<'a>(
        &'a self,
        line: u64,
        data_row: u64,
        fields: &'a [String],
        rs: &'a Ruleset,
    ) -> Result<Parsed<'a>, Reject> {
        if fields.len() != self.n_fields {
            let msg = format!(
                "{} fields where the header has {}; check for an unquoted delimiter or a cut line",
                fields.len(),
                self.n_fields
            );
            return Err(self.reject(line, fields, RejectReason::MalformedLine, msg));
        }
        let patient = self.ctx(fields, &Column::PatientId).unwrap_or("").trim();
        if patient.is_empty() {
            let msg = "column patient_id: blank; every row needs a patient identifier".to_string();
            return Err(self.reject(line, fields, RejectReason::MissingPatientId, msg));
        }
        let code = self.col(fields, LongColumn::TestCode).unwrap_or("").trim();
        let mapped = self.mapping.as_ref().and_then(|m| m.test_code(code));
        let Some(analyte) = mapped.map(|m| m.analyte).or_else(|| rs.loinc(code)) else {
            let msg = format!("test code {} is neither a LOINC code of loinc.csv nor mapped; map it with --mapping to use it", crate::messages::quote_code(code));
            return Err(self.reject(line, fields, RejectReason::UnknownTestCode, msg));
        };
        let raw_value = self.col(fields, LongColumn::Value).unwrap_or("");
        if is_missing_token(raw_value) {
            let msg = format!("{analyte} ({code}): the value is blank or NA; nothing to use");
            return Err(self.reject(line, fields, RejectReason::NoAnalyteValues, msg));
        }
        let (cell, conversion) = match self.parse_value(fields, code, analyte, mapped, rs) {
            Ok(v) => v,
            Err((reason, msg)) => return Err(self.reject(line, fields, reason, msg)),
        };
        let specimen = match self.ctx(fields, &Column::SpecimenId).map(str::trim) {
            Some(s) if !s.is_empty() => Cow::Borrowed(s),
            _ => Cow::Owned(data_row.to_string()),
        };
        let collected = self
            .ctx(fields, &Column::CollectedAt)
            .and_then(crate::isotime::iso_seconds);
        let corrected = self.col(fields, LongColumn::Status).is_some_and(|s| {
            s.trim().eq_ignore_ascii_case("c") || s.trim().eq_ignore_ascii_case("corrected")
        });
        let result_time = self
            .col(fields, LongColumn::ResultTime)
            .and_then(crate::isotime::iso_seconds);
        Ok(Parsed {
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

    /// The value of a result in its canonical unit, with the conversion when one was made.
    /// Units are never guessed: an unknown unit rejects the result, as does a value outside
    /// the plausible range.
    fn parse_value<'a>(
        &'a self,
        fields: &'a [String],
        code: &'a str,
        analyte: Analyte,
        mapped: Option<&'a CodeTarget>,
        rs: &'a Ruleset,
    ) -> Result<(Cell, Option<ConversionOf<'a>>), (RejectReason, String)> {
        let raw_value = self.col(fields, LongColumn::Value).unwrap_or("");
        let unit_raw = self.col(fields, LongColumn::Unit).unwrap_or("").trim();
        let unit_text = match (
            unit_raw.is_empty(),
            mapped.and_then(|m| m.default_unit.as_deref()),
        ) {
            (true, Some(default)) => default,
            _ => unit_raw,
        };
        let m = match parse_cell(raw_value, self.mark) {
            Cell::Value(m) => m,
            other => return Ok((other, None)),
        };
        let Some(unit) = rs.unit_from_text(analyte, unit_text) else {
            let msg = format!(
                "{analyte} ({code}): unit {} is not a known unit for {analyte} ({}); the result was not used (units are never guessed)",
                crate::messages::quote_code(unit_text),
                known_units(rs, analyte)
            );
            return Err((RejectReason::UnknownUnit, msg));
        };
        let value = plausible::convert(m.value, unit.factor);
        if let Err(outside) = plausible::check(rs, analyte, value) {
            let msg = format!(
                "{analyte} ({code}) {} {unit_text} {outside}; check the value and its unit",
                raw_value.trim()
            );
            return Err((RejectReason::ImplausibleValue, msg));
        }
        let conversion =
            (unit.factor != 1.0 || unit_text != rs.canonical_unit(analyte)).then(|| ConversionOf {
                code,
                unit_text,
                raw: raw_value.trim(),
                unit: &unit.unit,
                factor: unit.factor,
            });
        let cell = Cell::Value(Measure {
            value,
            censor: m.censor,
        });
        Ok((cell, conversion))
    }
}

fn dup(file: &str, column: &str) -> RunError {
    ConfigError::Input {
        file: file.to_string(),
        message: format!("column {:?} appears twice; keep one", column.trim()),
    }
    .into()
}

/// The columns of the rows other readers (FHIR, HL7 v2) hand to the long layout, in the
/// order of [`RowLoader::result`]'s `fields`.
pub(crate) const ROW_COLUMNS: [&str; 10] = [
    "patient_id",
    "specimen_id",
    "collected_at",
    "sex",
    "birth_date",
    "test_code",
    "value",
    "unit",
    "status",
    "result_time",
];

/// Positions in [`ROW_COLUMNS`].
pub(crate) mod row {
    pub const PATIENT: usize = 0;
    pub const SPECIMEN: usize = 1;
    pub const COLLECTED: usize = 2;
    pub const SEX: usize = 3;
    pub const BIRTH_DATE: usize = 4;
    pub const TEST_CODE: usize = 5;
    pub const VALUE: usize = 6;
    pub const UNIT: usize = 7;
    pub const STATUS: usize = 8;
    pub const RESULT_TIME: usize = 9;
}

impl LongReader {
    /// A long reader over results another reader (FHIR, HL7 v2) produces: no delimited text
    /// behind it; the results come through a [`RowLoader`] and [`LongReader::preload`].
    pub(crate) fn for_rows(
        input_index: usize,
        name: String,
        mapping: Option<&Mapping>,
        window_days: f64,
    ) -> Result<LongReader, RunError> {
        let names: Vec<String> = ROW_COLUMNS.iter().map(|c| c.to_string()).collect();
        let mut header = names.join(",").into_bytes();
        header.push(b'\n');
        let opened = super::OpenedInput::from_text(name, header, super::Decimal::Point)?;
        LongReader::from_header(input_index, opened, mapping, window_days)
    }

    /// Hands over the results a [`RowLoader`] stored; they are assembled at the first batch.
    pub(crate) fn preload(&mut self, loaded: Loaded) {
        self.preloaded = Some(loaded.0);
    }
}

/// The results a [`RowLoader`] stored, for [`LongReader::preload`].
pub(crate) struct Loaded(Store);

/// Stores results read by another reader the way the long layout stores its rows: the same
/// test-code, unit and plausibility checks, rejects, corrections and duplicates.
pub(crate) struct RowLoader<'r> {
    reader: &'r LongReader,
    rs: &'r Ruleset,
    store: Store,
    scratch: Scratch,
    results: u64,
}

impl<'r> RowLoader<'r> {
    pub fn new(reader: &'r LongReader, rs: &'r Ruleset) -> RowLoader<'r> {
        RowLoader {
            reader,
            rs,
            store: Store::new(reader.context_cols.len()),
            scratch: Scratch::default(),
            results: 0,
        }
    }

    /// One result at `line`, `fields` in [`ROW_COLUMNS`] order; `raw` is its source text
    /// (kept in a reject). A blank specimen is keyed by the result's ordinal.
    pub fn result(&mut self, line: u64, fields: &[String], raw: &str) -> Result<(), RunError> {
        self.results += 1;
        match self
            .reader
            .parse_result(line, self.results, fields, self.rs)
        {
            Ok(parsed) => self.reader.keep(
                line,
                parsed,
                fields,
                Some(raw),
                &mut self.store,
                &mut self.scratch,
            ),
            Err(mut reject) => {
                reject.raw = raw.to_string();
                self.store.rejects.push(reject);
                Ok(())
            }
        }
    }

    /// A withdrawal at `line` (HL7 OBX-11 `D`/`W`) of the results of its (patient, specimen,
    /// test code) received so far; itself rejected as `superseded`.
    pub fn withdrawal(
        &mut self,
        line: u64,
        fields: &[String],
        raw: &str,
        why: &str,
    ) -> Result<(), RunError> {
        self.results += 1;
        let get = |i: usize| fields.get(i).map_or("", |f| f.trim());
        let code = get(row::TEST_CODE);
        let analyte = self
            .reader
            .mapping
            .as_ref()
            .and_then(|m| m.test_code(code))
            .map(|m| m.analyte)
            .or_else(|| self.rs.loinc(code));
        let (patient, specimen) = (get(row::PATIENT), get(row::SPECIMEN));
        let (Some(analyte), false) = (analyte, patient.is_empty()) else {
            // Withdraws nothing known: read like any result, so it is rejected with its reason.
            self.results -= 1;
            return self.result(line, fields, raw);
        };
        let too_many = |what| self.reader.too_many(line, what);
        let patient = self
            .store
            .patients
            .intern(patient)
            .ok_or_else(|| too_many("patients"))?;
        let specimen = self
            .store
            .specimens
            .intern(specimen)
            .ok_or_else(|| too_many("specimens"))?;
        self.store.withdrawals.push(Withdrawal {
            patient,
            specimen,
            analyte: analyte.index() as u8,
            before: self.store.recs.len(),
            line,
        });
        let message = format!(
            "{analyte} ({code}): {why}; it withdraws the earlier results of its specimen and is not used itself"
        );
        let patient_id = Some(self.store.patients.get(patient).to_string());
        self.store.rejects.push(self.reader.reject_raw(
            line,
            raw.to_string(),
            RejectReason::Superseded,
            message,
            patient_id,
        ));
        Ok(())
    }

    /// The results stored, for [`LongReader::preload`].
    pub fn finish(self) -> Loaded {
        Loaded(self.store)
    }

    /// Whether `--mapping` maps this local test code.
    pub fn is_mapped(&self, code: &str) -> bool {
        self.reader
            .mapping
            .as_ref()
            .is_some_and(|m| m.test_code(code).is_some())
    }

    /// A unit of the source that is rejected before it becomes a result (a malformed
    /// message or resource, a result without a patient). It has no readable patient id
    /// (`--partition`: part 0).
    pub fn reject(&mut self, line: u64, reason: RejectReason, message: String, raw: String) {
        self.store
            .rejects
            .push(self.reader.reject_raw(line, raw, reason, message, None));
    }
}
