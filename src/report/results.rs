//! The results of a batch as typed column buffers, filled panel by panel on the evaluation
//! threads (no per-row allocation: text goes into one buffer per column), then either turned
//! into a polars [`DataFrame`] with the output schema (Parquet, Arrow IPC, the library API)
//! or encoded straight to CSV/TSV or NDJSON bytes.

use std::io;
use std::sync::Arc;

use polars::prelude::*;

use super::columns::{
    schema, SchemaOptions, CODE_SEPARATOR, TEXT_SEPARATOR, THRESHOLD_DECIMALS, VALUE_DECIMALS,
};
use super::csv_out;
use crate::analyte::{Analyte, ANALYTE_COUNT};
use crate::cell::{Cell, Censor};
use crate::guidance;
use crate::isotime;
use crate::panel::{Panel, Sex};
use crate::rules::Outcome;
use crate::ruleset::Ruleset;
use crate::vocab::{GuidanceId, Inflammation, IronStatus, Label, Morphology, Severity};

/// A value rounded to `decimals` (the documented precision of its column).
pub fn round_to(x: f64, decimals: usize) -> f64 {
    let scale = crate::numfmt::pow10(decimals);
    let r = (x * scale).round() / scale;
    if r == 0.0 {
        0.0
    } else {
        r
    }
}

/// Text cells of one column: one buffer, row ends, validity (empty = null).
#[derive(Default)]
struct TextColumn {
    data: String,
    ends: Vec<usize>,
}

impl TextColumn {
    /// Room for `rows` cells of about `bytes` bytes each, so a batch does not regrow it.
    fn with_capacity(rows: usize, bytes: usize) -> TextColumn {
        TextColumn {
            data: String::with_capacity(rows.saturating_mul(bytes)),
            ends: Vec::with_capacity(rows),
        }
    }

    fn push(&mut self, s: &str) {
        self.data.push_str(s);
        self.ends.push(self.data.len());
    }

    fn clear(&mut self) {
        self.data.clear();
        self.ends.clear();
    }

    fn get(&self, row: usize) -> &str {
        let start = if row == 0 { 0 } else { self.ends[row - 1] };
        &self.data[start..self.ends[row]]
    }

    fn series(&self) -> Series {
        let mut b = StringChunkedBuilder::new("".into(), self.ends.len());
        for row in 0..self.ends.len() {
            match self.get(row) {
                "" => b.append_null(),
                s => b.append_value(s),
            }
        }
        b.finish().into_series()
    }
}

/// A list of codes per row.
#[derive(Default)]
struct CodeLists {
    values: Vec<&'static str>,
    ends: Vec<usize>,
}

impl CodeLists {
    fn with_capacity(rows: usize, per_row: usize) -> CodeLists {
        CodeLists {
            values: Vec::with_capacity(rows.saturating_mul(per_row)),
            ends: Vec::with_capacity(rows),
        }
    }

    fn push(&mut self, codes: impl Iterator<Item = &'static str>) {
        self.values.extend(codes);
        self.ends.push(self.values.len());
    }

    fn clear(&mut self) {
        self.values.clear();
        self.ends.clear();
    }

    fn get(&self, row: usize) -> &[&'static str] {
        let start = if row == 0 { 0 } else { self.ends[row - 1] };
        &self.values[start..self.ends[row]]
    }

    fn series(&self) -> Series {
        let mut b = ListStringChunkedBuilder::new("".into(), self.ends.len(), self.values.len());
        for row in 0..self.ends.len() {
            b.append_values_iter(self.get(row).iter().copied());
        }
        b.finish().into_series()
    }
}

/// A list of text lines per row: one buffer, line ends, row ends (in lines).
#[derive(Default)]
struct LineLists {
    data: String,
    line_ends: Vec<usize>,
    row_ends: Vec<usize>,
}

impl LineLists {
    fn with_capacity(rows: usize, lines_per_row: usize, bytes_per_line: usize) -> LineLists {
        let lines = rows.saturating_mul(lines_per_row);
        LineLists {
            data: String::with_capacity(lines.saturating_mul(bytes_per_line)),
            line_ends: Vec::with_capacity(lines),
            row_ends: Vec::with_capacity(rows),
        }
    }

    fn push_line(&mut self, parts: &[&str]) {
        for p in parts {
            self.data.push_str(p);
        }
        self.line_ends.push(self.data.len());
    }

    fn end_row(&mut self) {
        self.row_ends.push(self.line_ends.len());
    }

    fn clear(&mut self) {
        self.data.clear();
        self.line_ends.clear();
        self.row_ends.clear();
    }

    fn lines(&self, row: usize) -> impl Iterator<Item = &str> {
        let first = if row == 0 { 0 } else { self.row_ends[row - 1] };
        (first..self.row_ends[row]).map(move |i| {
            let start = if i == 0 { 0 } else { self.line_ends[i - 1] };
            &self.data[start..self.line_ends[i]]
        })
    }

    fn series(&self) -> Series {
        let rows = self.row_ends.len();
        let mut b = ListStringChunkedBuilder::new("".into(), rows, self.line_ends.len());
        for row in 0..rows {
            b.append_values_iter(self.lines(row));
        }
        b.finish().into_series()
    }
}

/// One cell of a row as the text formats see it.
enum OutCell<'a> {
    /// Free text (identifiers, names): spreadsheet-protected and quoted in CSV.
    Text(&'a str),
    /// A code of a closed vocabulary (or empty): written as is.
    Code(&'a str),
    Count(u64),
    /// Microseconds since 1970-01-01, or null.
    Time(Option<i64>),
    /// A number and its decimals, or null.
    Number(Option<f64>, usize),
    Bool(Option<bool>),
    Codes(&'a [&'static str]),
    /// The text lines of one row of a list column.
    Lines(&'a LineLists, usize),
}

/// What a result batch is built for.
#[derive(Clone, Debug)]
pub struct ResultsSpec {
    pub schema: SchemaOptions,
    /// `source_file` of each input, by input index.
    pub sources: Arc<Vec<String>>,
    pub ruleset_version: String,
    pub ruleset_checksum: String,
}

/// The typed results of one batch, in row order.
pub struct ResultColumns {
    spec: ResultsSpec,
    rows: usize,
    source: Vec<u32>,
    line: Vec<u64>,
    patient_id: TextColumn,
    specimen_id: TextColumn,
    collected_at: Vec<Option<i64>>,
    sex: Vec<Option<&'static str>>,
    age: Vec<Option<f64>>,
    analyzer_id: TextColumn,
    site: TextColumn,
    values: [Vec<Option<f64>>; ANALYTE_COUNT],
    comparators: [Vec<Option<&'static str>>; ANALYTE_COUNT],
    anemia: Vec<Option<bool>>,
    threshold: Vec<Option<f64>>,
    severity: Vec<Option<Severity>>,
    morphology: Vec<Morphology>,
    inflammation: Vec<Inflammation>,
    iron_status: Vec<IronStatus>,
    classification: Vec<Label>,
    flags: CodeLists,
    tests: CodeLists,
    guidance: CodeLists,
    evidence: LineLists,
    guidance_text: LineLists,
    /// The fixed parts of each guidance text, rendered once per batch (None: not yet).
    guidance_parts: Vec<Option<Option<guidance::TextParts>>>,
}

impl ResultColumns {
    pub fn new(spec: ResultsSpec, capacity: usize) -> ResultColumns {
        let (evidence, guidance_text) = (spec.schema.evidence, spec.schema.guidance_text);
        ResultColumns {
            spec,
            rows: 0,
            source: Vec::with_capacity(capacity),
            line: Vec::with_capacity(capacity),
            patient_id: TextColumn::with_capacity(capacity, 16),
            specimen_id: TextColumn::with_capacity(capacity, 16),
            collected_at: Vec::with_capacity(capacity),
            sex: Vec::with_capacity(capacity),
            age: Vec::with_capacity(capacity),
            analyzer_id: TextColumn::with_capacity(capacity, 8),
            site: TextColumn::with_capacity(capacity, 8),
            values: std::array::from_fn(|_| Vec::with_capacity(capacity)),
            comparators: std::array::from_fn(|_| Vec::with_capacity(capacity)),
            anemia: Vec::with_capacity(capacity),
            threshold: Vec::with_capacity(capacity),
            severity: Vec::with_capacity(capacity),
            morphology: Vec::with_capacity(capacity),
            inflammation: Vec::with_capacity(capacity),
            iron_status: Vec::with_capacity(capacity),
            classification: Vec::with_capacity(capacity),
            flags: CodeLists::with_capacity(capacity, 2),
            tests: CodeLists::with_capacity(capacity, 2),
            guidance: CodeLists::with_capacity(capacity, 4),
            // Measured on the generated messy export: 9.2 evidence lines a row, 60 bytes
            // a line (the buffers are not regrown within a batch).
            evidence: if evidence {
                LineLists::with_capacity(capacity, 10, 64)
            } else {
                LineLists::default()
            },
            guidance_text: if guidance_text {
                LineLists::with_capacity(capacity, 4, 512)
            } else {
                LineLists::default()
            },
            guidance_parts: vec![None; GuidanceId::COUNT],
        }
    }

    /// Empties the columns for the next part of the same run, keeping their buffers (a
    /// part's buffers are megabytes: allocated afresh, their pages are faulted in and
    /// zeroed again by the kernel).
    pub fn clear(&mut self) {
        let ResultColumns {
            spec: _,
            rows,
            source,
            line,
            patient_id,
            specimen_id,
            collected_at,
            sex,
            age,
            analyzer_id,
            site,
            values,
            comparators,
            anemia,
            threshold,
            severity,
            morphology,
            inflammation,
            iron_status,
            classification,
            flags,
            tests,
            guidance,
            evidence,
            guidance_text,
            guidance_parts,
        } = self;
        *rows = 0;
        source.clear();
        line.clear();
        patient_id.clear();
        specimen_id.clear();
        collected_at.clear();
        sex.clear();
        age.clear();
        analyzer_id.clear();
        site.clear();
        values.iter_mut().for_each(Vec::clear);
        comparators.iter_mut().for_each(Vec::clear);
        anemia.clear();
        threshold.clear();
        severity.clear();
        morphology.clear();
        inflammation.clear();
        iron_status.clear();
        classification.clear();
        flags.clear();
        tests.clear();
        guidance.clear();
        evidence.clear();
        guidance_text.clear();
        guidance_parts.iter_mut().for_each(|p| *p = None);
    }

    pub fn len(&self) -> usize {
        self.rows
    }

    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// `collected_at` of a row (µs since 1970-01-01), for the nightly report.
    pub fn collected_at(&self, row: usize) -> Option<i64> {
        self.collected_at[row]
    }

    /// The classification of a row.
    pub fn classification(&self, row: usize) -> Label {
        self.classification[row]
    }

    /// The canonical value of an analyte in a row, rounded as written.
    pub fn value(&self, analyte: Analyte, row: usize) -> Option<f64> {
        self.values[analyte.index()][row]
    }

    /// `site` of a row (empty when absent).
    pub fn site(&self, row: usize) -> &str {
        self.site.get(row)
    }

    /// `analyzer_id` of a row (empty when absent).
    pub fn analyzer_id(&self, row: usize) -> &str {
        self.analyzer_id.get(row)
    }

    /// The flag codes of a row.
    pub fn flags(&self, row: usize) -> &[&'static str] {
        self.flags.get(row)
    }

    /// Appends one classified panel.
    pub fn push(
        &mut self,
        panel: &Panel,
        outcome: &Outcome,
        guidance_ids: &[GuidanceId],
        rs: &Ruleset,
    ) {
        self.rows += 1;
        self.source
            .push(u32::try_from(panel.input).unwrap_or(u32::MAX));
        self.line.push(panel.line);
        self.patient_id.push(&panel.patient_id);
        self.specimen_id.push(&panel.specimen_id);
        self.collected_at.push(panel.collected.map(|t| t.micros));
        self.sex.push(match panel.sex {
            Sex::Female => Some("F"),
            Sex::Male => Some("M"),
            Sex::Unknown => None,
        });
        self.age
            .push(outcome.age_years.map(|a| round_to(a, VALUE_DECIMALS)));
        self.analyzer_id.push(&panel.analyzer_id);
        self.site.push(&panel.site);
        for a in Analyte::ALL {
            let (value, comparator) = match panel.cell(a) {
                Cell::Value(m) => (
                    Some(round_to(m.value, VALUE_DECIMALS)),
                    match m.censor {
                        Censor::Exact => None,
                        c => Some(c.prefix()),
                    },
                ),
                _ => (None, None),
            };
            self.values[a.index()].push(value);
            self.comparators[a.index()].push(comparator);
        }
        self.anemia.push(outcome.anemia);
        self.threshold.push(
            outcome
                .hb_threshold_g_dl
                .map(|t| round_to(t, THRESHOLD_DECIMALS)),
        );
        self.severity.push(outcome.severity);
        self.morphology.push(outcome.morphology);
        self.inflammation.push(outcome.inflammation);
        self.iron_status.push(outcome.iron_status);
        self.classification.push(outcome.classification);
        self.flags.push(outcome.flags.iter().map(|f| f.code()));
        self.tests
            .push(outcome.recommended_tests.iter().map(|t| t.code()));
        self.guidance.push(guidance_ids.iter().map(|g| g.code()));
        if self.spec.schema.evidence {
            for e in &outcome.evidence {
                self.evidence.push_line(&[e.rule.code(), " ", &e.text]);
            }
            self.evidence.end_row();
        }
        if self.spec.schema.guidance_text {
            for id in guidance_ids {
                let slot = &mut self.guidance_parts[*id as usize];
                if slot.is_none() {
                    *slot = Some(guidance::TextParts::of(*id, rs));
                }
                if let Some(Some(parts)) = slot {
                    let reasons = guidance::reasons(*id, outcome);
                    self.guidance_text
                        .push_line(&[&parts.head, &reasons, &parts.sources]);
                } else {
                    self.guidance_text.push_line(&[]);
                }
            }
            self.guidance_text.end_row();
        }
    }

    /// The batch as a frame with the output schema (columns built in the order of
    /// [`schema`], as [`Self::cells`] walks a row).
    pub fn to_frame(&self) -> PolarsResult<DataFrame> {
        let names = &self.spec.sources;
        let source: StringChunked = self
            .source
            .iter()
            .map(|i| names.get(*i as usize).map(String::as_str))
            .collect();
        let mut series: Vec<Series> = vec![
            source.into_series(),
            Series::new("".into(), &self.line),
            self.patient_id.series(),
            self.specimen_id.series(),
            Int64Chunked::from_iter_options("".into(), self.collected_at.iter().copied())
                .into_datetime(TimeUnit::Microseconds, None)
                .into_series(),
            Series::new("".into(), &self.sex),
            Series::new("".into(), &self.age),
            self.analyzer_id.series(),
            self.site.series(),
        ];
        for a in 0..ANALYTE_COUNT {
            series.push(Series::new("".into(), &self.values[a]));
            series.push(Series::new("".into(), &self.comparators[a]));
        }
        series.push(Series::new("".into(), &self.anemia));
        series.push(Series::new("".into(), &self.threshold));
        let severity: Vec<Option<&str>> =
            self.severity.iter().map(|s| s.map(|s| s.code())).collect();
        series.push(label(&severity, &Severity::ALL.map(|s| s.code()))?);
        series.push(label(
            &codes(&self.morphology, |m| m.code()),
            &Morphology::ALL.map(|m| m.code()),
        )?);
        series.push(label(
            &codes(&self.inflammation, |m| m.code()),
            &Inflammation::ALL.map(|m| m.code()),
        )?);
        series.push(label(
            &codes(&self.iron_status, |m| m.code()),
            &IronStatus::ALL.map(|m| m.code()),
        )?);
        series.push(label(
            &codes(&self.classification, |m| m.code()),
            &Label::ALL.map(|m| m.code()),
        )?);
        series.push(self.flags.series());
        series.push(self.tests.series());
        series.push(self.guidance.series());
        if self.spec.schema.evidence {
            series.push(self.evidence.series());
        }
        series.push(constant(&self.spec.ruleset_version, self.rows));
        series.push(constant(&self.spec.ruleset_checksum, self.rows));
        if self.spec.schema.guidance_text {
            series.push(self.guidance_text.series());
        }
        let schema = schema(self.spec.schema);
        if schema.len() != series.len() {
            return Err(
                polars_err!(ComputeError: "{} result columns for a schema of {}", series.len(), schema.len()),
            );
        }
        let cols = schema
            .into_iter()
            .zip(series)
            .map(|((name, _), s)| s.with_name(name.as_str().into()).into())
            .collect();
        DataFrame::new(self.rows, cols)
    }

    /// The cells of one row in column order (the order of [`schema`]), for the text formats.
    fn cells<E>(
        &self,
        row: usize,
        mut f: impl FnMut(OutCell<'_>) -> Result<(), E>,
    ) -> Result<(), E> {
        f(OutCell::Text(self.source_name(row)))?;
        f(OutCell::Count(self.line[row]))?;
        f(OutCell::Text(self.patient_id.get(row)))?;
        f(OutCell::Text(self.specimen_id.get(row)))?;
        f(OutCell::Time(self.collected_at[row]))?;
        f(OutCell::Code(self.sex[row].unwrap_or("")))?;
        f(OutCell::Number(self.age[row], VALUE_DECIMALS))?;
        f(OutCell::Text(self.analyzer_id.get(row)))?;
        f(OutCell::Text(self.site.get(row)))?;
        for a in 0..ANALYTE_COUNT {
            f(OutCell::Number(self.values[a][row], VALUE_DECIMALS))?;
            f(OutCell::Code(self.comparators[a][row].unwrap_or("")))?;
        }
        f(OutCell::Bool(self.anemia[row]))?;
        f(OutCell::Number(self.threshold[row], THRESHOLD_DECIMALS))?;
        for code in self.labels(row) {
            f(OutCell::Code(code))?;
        }
        for list in [&self.flags, &self.tests, &self.guidance] {
            f(OutCell::Codes(list.get(row)))?;
        }
        if self.spec.schema.evidence {
            f(OutCell::Lines(&self.evidence, row))?;
        }
        f(OutCell::Text(&self.spec.ruleset_version))?;
        f(OutCell::Text(&self.spec.ruleset_checksum))?;
        if self.spec.schema.guidance_text {
            f(OutCell::Lines(&self.guidance_text, row))?;
        }
        Ok(())
    }

    /// Appends the rows as delimited text (no header), spreadsheet-safe.
    pub fn encode_delimited(&self, delimiter: u8, out: &mut Vec<u8>) {
        for row in 0..self.rows {
            let mut first = true;
            let _ = self.cells(row, |cell| -> Result<(), std::convert::Infallible> {
                if !first {
                    out.push(delimiter);
                }
                first = false;
                match cell {
                    OutCell::Text(s) => csv_out::encode_cell(s, delimiter, out),
                    OutCell::Code(c) => out.extend_from_slice(c.as_bytes()),
                    OutCell::Count(n) => push_display(n, out),
                    OutCell::Time(t) => {
                        if let Some(t) = t {
                            out.extend_from_slice(isotime::render_micros(t).as_bytes());
                        }
                    }
                    OutCell::Number(x, d) => push_number(x, d, out),
                    OutCell::Bool(b) => {
                        if let Some(b) = b {
                            out.extend_from_slice(if b { b"true" } else { b"false" });
                        }
                    }
                    OutCell::Codes(codes) => join_codes(codes, out),
                    OutCell::Lines(lists, row) => join_lines(lists.lines(row), delimiter, out),
                }
                Ok(())
            });
            out.push(b'\n');
        }
    }

    /// Appends the rows as NDJSON objects, keys in column order.
    pub fn encode_ndjson(&self, out: &mut Vec<u8>) -> io::Result<()> {
        // Every key encoded once: `{"source_file":`, `,"source_line":`, ...
        let mut keys = Vec::new();
        for (i, (name, _)) in schema(self.spec.schema).iter().enumerate() {
            let mut k = vec![if i == 0 { b'{' } else { b',' }];
            json_str(name, &mut k)?;
            k.push(b':');
            keys.push(k);
        }
        for row in 0..self.rows {
            let mut key = keys.iter();
            self.cells(row, |cell| -> io::Result<()> {
                if let Some(k) = key.next() {
                    out.extend_from_slice(k);
                }
                match cell {
                    OutCell::Text(s) | OutCell::Code(s) => json_opt_str(Some(s), out)?,
                    OutCell::Count(n) => push_display(n, out),
                    OutCell::Time(t) => {
                        json_opt_str(t.map(isotime::render_micros).as_deref(), out)?
                    }
                    OutCell::Number(x, _) => json_number(x, out),
                    OutCell::Bool(b) => out.extend_from_slice(match b {
                        Some(true) => b"true",
                        Some(false) => b"false",
                        None => b"null",
                    }),
                    OutCell::Codes(codes) => json_array(codes.iter().copied(), out)?,
                    OutCell::Lines(lists, row) => json_array(lists.lines(row), out)?,
                }
                Ok(())
            })?;
            out.extend_from_slice(b"}\n");
        }
        Ok(())
    }

    fn source_name(&self, row: usize) -> &str {
        self.spec
            .sources
            .get(self.source[row] as usize)
            .map_or("", String::as_str)
    }

    /// The label columns' codes of a row, in column order (severity empty when none).
    fn labels(&self, row: usize) -> [&'static str; 5] {
        [
            self.severity[row].map_or("", |s| s.code()),
            self.morphology[row].code(),
            self.inflammation[row].code(),
            self.iron_status[row].code(),
            self.classification[row].code(),
        ]
    }
}

fn codes<T: Copy>(v: &[T], code: impl Fn(T) -> &'static str) -> Vec<Option<&'static str>> {
    v.iter().map(|x| Some(code(*x))).collect()
}

/// The dictionary-encoded type of a label column: an Enum of its vocabulary's codes.
pub fn label_dtype(categories: &[&'static str]) -> PolarsResult<DataType> {
    Ok(DataType::from_frozen_categories(FrozenCategories::new(
        categories.iter().copied(),
    )?))
}

fn label(values: &[Option<&'static str>], categories: &[&'static str]) -> PolarsResult<Series> {
    Series::new("".into(), values).strict_cast(&label_dtype(categories)?)
}

fn constant(value: &str, rows: usize) -> Series {
    StringChunked::full("".into(), value, rows).into_series()
}

fn push_display(n: u64, out: &mut Vec<u8>) {
    use std::io::Write;
    // Writing to a Vec cannot fail.
    let _ = write!(out, "{n}");
}

fn push_number(x: Option<f64>, decimals: usize, out: &mut Vec<u8>) {
    if let Some(x) = x {
        crate::numfmt::push_fixed(x, decimals, out);
    }
}

fn join_codes(codes: &[&str], out: &mut Vec<u8>) {
    for (i, c) in codes.iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(CODE_SEPARATOR.as_bytes());
        }
        out.extend_from_slice(c.as_bytes());
    }
}

fn join_lines<'a>(lines: impl Iterator<Item = &'a str>, delimiter: u8, out: &mut Vec<u8>) {
    let mut joined = String::new();
    for (i, l) in lines.enumerate() {
        if i > 0 {
            joined.push_str(TEXT_SEPARATOR);
        }
        joined.push_str(l);
    }
    csv_out::encode_cell(&joined, delimiter, out);
}

fn json_str(s: &str, out: &mut Vec<u8>) -> io::Result<()> {
    serde_json::to_writer(&mut *out, s).map_err(io::Error::other)
}

fn json_opt_str(s: Option<&str>, out: &mut Vec<u8>) -> io::Result<()> {
    match s {
        Some(s) if !s.is_empty() => json_str(s, out),
        _ => {
            out.extend_from_slice(b"null");
            Ok(())
        }
    }
}

fn json_number(x: Option<f64>, out: &mut Vec<u8>) {
    match x.and_then(serde_json::Number::from_f64) {
        Some(n) => out.extend_from_slice(n.to_string().as_bytes()),
        None => out.extend_from_slice(b"null"),
    }
}

fn json_array<'a>(items: impl Iterator<Item = &'a str>, out: &mut Vec<u8>) -> io::Result<()> {
    out.push(b'[');
    for (i, s) in items.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        json_str(s, out)?;
    }
    out.push(b']');
    Ok(())
}
