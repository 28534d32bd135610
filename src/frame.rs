//! The core of every door: a batch of rows in, typed results out. The CLI, the library API
//! ([`classify_frame`]) and the bindings all classify through [`classify_rows`]; readers turn
//! inputs into rows, writers turn [`ResultColumns`] into files. Nothing here reads a file or
//! prints.

use std::sync::Arc;

use polars::prelude::*;

use crate::error::{ConfigError, RunError};
use crate::guidance;
use crate::ingest::columnar::{column_text, ColumnarReader};
use crate::ingest::long::LongReader;
use crate::ingest::{
    Decimal, IngestOptions, Input, InputReader, Layout, Mapping, NotAttached, OpenedInput, Reject,
    RowOutcome,
};
use crate::report::rejects::REJECT_COLUMNS;
use crate::report::summary::{InputSummary, Summary};
use crate::report::{Chunk, Encoder, ResultColumns, ResultsSpec, SchemaOptions};
use crate::rules;
use crate::ruleset::Ruleset;
use crate::vocab::{Flag, Label};

/// What the ledger needs of one classified panel.
pub struct RowSummary {
    pub input: usize,
    pub label: Label,
    pub flags: Vec<Flag>,
    pub unknown_codes: Vec<String>,
    pub rows_used: u64,
}

/// One row outcome for the ledger, in batch order.
pub enum Processed<'a> {
    Row(RowSummary),
    Reject(&'a Reject),
    NotAttached(&'a NotAttached),
}

/// Classifies a batch of row outcomes: rules and guidance for every panel, the typed
/// results in row order, and the ledger item of every row (panels, rejects, results not
/// attached), in order.
pub fn classify_rows<'a>(
    rows: &'a [RowOutcome],
    rs: &Ruleset,
    spec: &ResultsSpec,
) -> (ResultColumns, Vec<Processed<'a>>) {
    let mut results = ResultColumns::new(spec.clone(), rows.len());
    let items = classify_rows_into(rows, rs, spec, &mut results);
    (results, items)
}

/// [`classify_rows`] into the (empty) columns `results` of the same `spec`, whose buffers
/// are reused.
pub(crate) fn classify_rows_into<'a>(
    rows: &'a [RowOutcome],
    rs: &Ruleset,
    spec: &ResultsSpec,
    results: &mut ResultColumns,
) -> Vec<Processed<'a>> {
    let mut items = Vec::with_capacity(rows.len());
    for outcome in rows {
        items.push(match outcome {
            RowOutcome::Panel(panel) => {
                let result = rules::evaluate_with(panel, rs, spec.schema.evidence);
                let ids = guidance::attach(panel, &result, rs);
                results.push(panel, &result, &ids, rs);
                Processed::Row(RowSummary {
                    input: panel.input,
                    label: result.classification,
                    flags: result.flags,
                    unknown_codes: panel.unknown_codes.clone(),
                    rows_used: panel.rows_used,
                })
            }
            RowOutcome::Reject(r) => Processed::Reject(r),
            RowOutcome::NotAttached(n) => Processed::NotAttached(n),
        });
    }
    items
}

/// Options of [`classify_frame`] and [`classify_input`].
#[derive(Clone, Debug)]
pub struct FrameOptions {
    /// `source_file` of the results and `source` of the rejects (frames only; an input is
    /// named by its path).
    pub source: String,
    pub schema: SchemaOptions,
    pub decimal: Decimal,
    pub mapping: Option<Mapping>,
    /// Wide, long, or long when the columns include `test_code` and `value` (frames only).
    pub layout: Layout,
    /// Long layout: how far from the haemoglobin result a result may be to join its panel.
    pub panel_window_days: f64,
    /// Rows per internal batch (the results do not depend on it).
    pub batch_rows: usize,
}

impl Default for FrameOptions {
    fn default() -> Self {
        FrameOptions {
            source: "<frame>".to_string(),
            schema: SchemaOptions::default(),
            decimal: Decimal::Auto,
            mapping: None,
            layout: Layout::Wide,
            panel_window_days: IngestOptions::default().panel_window_days,
            batch_rows: crate::run::DEFAULT_BATCH_ROWS,
        }
    }
}

/// The results of [`classify_frame`]: every input row is a row of `results` or of `rejects`.
pub struct Classified {
    /// The output schema (interface 2026.2, "Output").
    pub results: DataFrame,
    /// `source`, `line`, `reason_code`, `message`, `raw`.
    pub rejects: DataFrame,
    pub summary: Summary,
}

/// Classifies a frame. Wide layout: one row per panel, analyte columns as numbers or as text
/// cells, identity and context columns as in a wide export; `source_line` and `line` are the
/// 1-based row number. Long layout (one row per result): the frame is read as the delimited
/// export it stands for, so line 1 is the header and row N is line N + 1.
pub fn classify_frame(
    df: DataFrame,
    rs: &Ruleset,
    opts: &FrameOptions,
) -> Result<Classified, RunError> {
    let names: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|n| n.to_string())
        .collect();
    let long = match opts.layout {
        Layout::Auto => crate::ingest::long::is_long_header(&names),
        Layout::Wide => false,
        Layout::Long => true,
        Layout::Fhir | Layout::Hl7 => {
            return Err(ConfigError::Usage(format!(
                "{}: a frame holds a wide or long table; FHIR and HL7 v2 are read from files (classify_input)",
                opts.source
            ))
            .into())
        }
    };
    let reader = if long {
        let opened = long_text(&opts.source, &df, opts.decimal)?;
        InputReader::Long(Box::new(LongReader::from_header(
            0,
            opened,
            opts.mapping.as_ref(),
            opts.panel_window_days,
        )?))
    } else {
        InputReader::Columnar(Box::new(ColumnarReader::from_frame(
            0,
            opts.source.clone(),
            df,
            rs,
            opts.mapping.as_ref(),
            opts.decimal,
        )?))
    };
    classify_reader(reader, &opts.source, None, rs, opts)
}

/// Classifies one input (a file or stdin) as `classify` reads it, into frames instead of
/// files. `opts.source` and `opts.layout` are not used: `ingest` says how to read it.
pub fn classify_input(
    input: &Input,
    rs: &Ruleset,
    ingest: &IngestOptions,
    opts: &FrameOptions,
) -> Result<Classified, RunError> {
    let reader = InputReader::open(0, input, rs, ingest)?;
    classify_reader(reader, &input.name(), input.size(), rs, opts)
}

/// A long frame as the delimited text it stands for: every cell as text (as the columnar
/// reader reads it), comma-separated, header first.
fn long_text(name: &str, df: &DataFrame, decimal: Decimal) -> Result<OpenedInput, RunError> {
    let frame_error = |e: PolarsError| RunError::Read {
        file: name.to_string(),
        line: 0,
        message: format!("cannot read the frame: {e}"),
    };
    let texts = df
        .columns()
        .iter()
        .map(|c| column_text(c.as_materialized_series()))
        .collect::<PolarsResult<Vec<_>>>()
        .map_err(frame_error)?;
    let names: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|n| n.to_string())
        .collect();
    let csv_error = |e: csv::Error| RunError::Read {
        file: name.to_string(),
        line: 0,
        message: format!("cannot read the frame: {e}"),
    };
    let writer = || {
        csv::WriterBuilder::new()
            .terminator(csv::Terminator::Any(b'\n'))
            .from_writer(Vec::new())
    };
    let mut header = writer();
    header.write_record(&names).map_err(csv_error)?;
    let header_line = header
        .into_inner()
        .map_err(|e| csv_error(e.into_error().into()))?;
    let mut body = writer();
    let mut record: Vec<&str> = Vec::with_capacity(texts.len());
    for row in 0..df.height() {
        record.clear();
        record.extend(texts.iter().map(|t| t.get(row).unwrap_or("")));
        body.write_record(&record).map_err(csv_error)?;
    }
    let body = body
        .into_inner()
        .map_err(|e| csv_error(e.into_error().into()))?;
    let mut text = header_line;
    text.extend_from_slice(&body);
    OpenedInput::from_text(name.to_string(), text, decimal)
}

/// Reads every batch of `reader`, classifies it and collects the results, rejects and ledger.
fn classify_reader(
    mut reader: InputReader,
    source: &str,
    size_bytes: Option<u64>,
    rs: &Ruleset,
    opts: &FrameOptions,
) -> Result<Classified, RunError> {
    let spec = ResultsSpec {
        schema: opts.schema,
        sources: Arc::new(vec![source.to_string()]),
        ruleset_version: rs.version.clone(),
        ruleset_checksum: rs.checksum.clone(),
    };
    let mut summary = Summary::of_run(rs);
    summary.inputs.push(InputSummary {
        name: source.to_string(),
        size_bytes,
        layout: reader.layout_name().into(),
        format: reader.format_name().into(),
        delimiter: match reader.delimiter() {
            0 => String::new(),
            b'\t' => "tab".into(),
            d => char::from(d).to_string(),
        },
        ignored_columns: reader
            .ignored()
            .iter()
            .map(|(c, why)| crate::report::summary::IgnoredColumn {
                column: c.clone(),
                reason: why.clone(),
            })
            .collect(),
        ..InputSummary::default()
    });
    let frame_error = |e: PolarsError| RunError::Read {
        file: source.to_string(),
        line: 0,
        message: e.to_string(),
    };
    let mut results: Option<DataFrame> = None;
    let mut rejects = RejectColumns::default();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let spares = crate::run::batches::Spares::default();
    loop {
        let mut batch = Vec::with_capacity(opts.batch_rows.max(1));
        let more = reader.next_batch(opts.batch_rows.max(1), rs, &mut batch)?;
        // The CLI's evaluation: parts of the batch on every core, kept in batch order.
        let parts = crate::run::batches::process_batch(
            &batch,
            rs,
            &spec,
            Encoder::Frame,
            threads,
            false,
            &spares,
        )
        .map_err(|e| RunError::Read {
            file: source.to_string(),
            line: 0,
            message: e.to_string(),
        })?;
        for part in parts {
            let Chunk::Frame(part_frame) = part.chunk else {
                return Err(RunError::Read {
                    file: source.to_string(),
                    line: 0,
                    message: "the frame encoder returned bytes".into(),
                });
            };
            for item in part.items {
                match item {
                    Processed::Row(r) => summary.count_classified(
                        r.input,
                        r.label,
                        &r.flags,
                        &r.unknown_codes,
                        r.rows_used,
                    ),
                    Processed::Reject(r) => {
                        rejects.push(source, r);
                        summary.count_reject(r.input, r.reason);
                    }
                    Processed::NotAttached(n) => summary.count_not_attached(n.input, n.analyte),
                }
            }
            match results.as_mut() {
                Some(df) => {
                    df.vstack_mut_owned(part_frame).map_err(frame_error)?;
                }
                None => results = Some(part_frame),
            }
        }
        if !more {
            break;
        }
    }
    if let Some(input) = summary.inputs.first_mut() {
        input.header_repeats = reader.header_repeats();
    }
    summary.close_ledger();
    let mut results = match results {
        Some(df) => df,
        None => ResultColumns::new(spec, 0)
            .to_frame()
            .map_err(frame_error)?,
    };
    results.rechunk_mut();
    Ok(Classified {
        results,
        rejects: rejects.frame().map_err(frame_error)?,
        summary,
    })
}

/// The rejects of a frame, as columns.
#[derive(Default)]
struct RejectColumns {
    source: Vec<String>,
    line: Vec<u64>,
    reason: Vec<&'static str>,
    message: Vec<String>,
    raw: Vec<String>,
}

impl RejectColumns {
    fn push(&mut self, source: &str, r: &Reject) {
        self.source.push(source.to_string());
        self.line.push(r.line);
        self.reason.push(r.reason.code());
        self.message.push(r.message.clone());
        self.raw.push(r.raw.clone());
    }

    fn frame(self) -> PolarsResult<DataFrame> {
        let [source, line, reason, message, raw] = REJECT_COLUMNS;
        let height = self.line.len();
        DataFrame::new(
            height,
            vec![
                Column::new(source.into(), self.source),
                Column::new(line.into(), self.line),
                Column::new(reason.into(), self.reason),
                Column::new(message.into(), self.message),
                Column::new(raw.into(), self.raw),
            ],
        )
    }
}
