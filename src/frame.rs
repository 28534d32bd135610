//! The core of every door: a batch of rows in, typed results out. The CLI, the library API
//! ([`classify_frame`]) and the bindings all classify through [`classify_rows`]; readers turn
//! inputs into rows, writers turn [`ResultColumns`] into files. Nothing here reads a file or
//! prints.

use std::sync::Arc;

use polars::prelude::*;

use crate::error::RunError;
use crate::guidance;
use crate::ingest::columnar::ColumnarReader;
use crate::ingest::{Decimal, Mapping, NotAttached, Reject, RowOutcome};
use crate::report::rejects::REJECT_COLUMNS;
use crate::report::summary::{InputSummary, Summary};
use crate::report::{ResultColumns, ResultsSpec, SchemaOptions};
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
    let mut items = Vec::with_capacity(rows.len());
    for outcome in rows {
        items.push(match outcome {
            RowOutcome::Panel(panel) => {
                let result = rules::evaluate(panel, rs);
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
    (results, items)
}

/// Options of [`classify_frame`].
#[derive(Clone, Debug)]
pub struct FrameOptions {
    /// `source_file` of the results and `source` of the rejects.
    pub source: String,
    pub schema: SchemaOptions,
    pub decimal: Decimal,
    pub mapping: Option<Mapping>,
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
            batch_rows: crate::run::DEFAULT_BATCH_ROWS,
        }
    }
}

/// The results of [`classify_frame`]: every input row is a row of `results` or of `rejects`.
pub struct Classified {
    /// The output schema (interface 2026.2, "Output").
    pub results: DataFrame,
    /// `source`, `line` (1-based row number), `reason_code`, `message`, `raw`.
    pub rejects: DataFrame,
    pub summary: Summary,
}

/// Classifies a wide-layout frame (one row per panel; analyte columns as numbers or as text
/// cells, identity and context columns as in a wide export).
pub fn classify_frame(
    df: DataFrame,
    rs: &Ruleset,
    opts: &FrameOptions,
) -> Result<Classified, RunError> {
    let mut reader = ColumnarReader::from_frame(
        0,
        opts.source.clone(),
        df,
        rs,
        opts.mapping.as_ref(),
        opts.decimal,
    )?;
    let spec = ResultsSpec {
        schema: opts.schema,
        sources: Arc::new(vec![opts.source.clone()]),
        ruleset_version: rs.version.clone(),
        ruleset_checksum: rs.checksum.clone(),
    };
    let mut summary = Summary::of_run(rs);
    summary.inputs.push(InputSummary {
        name: opts.source.clone(),
        layout: "wide".into(),
        format: "frame".into(),
        ignored_columns: reader
            .header()
            .ignored
            .iter()
            .map(|(c, why)| crate::report::summary::IgnoredColumn {
                column: c.clone(),
                reason: why.clone(),
            })
            .collect(),
        ..InputSummary::default()
    });
    let frame_error = |e: PolarsError| RunError::Read {
        file: opts.source.clone(),
        line: 0,
        message: e.to_string(),
    };
    let mut results: Option<DataFrame> = None;
    let mut rejects = RejectColumns::default();
    loop {
        let mut batch = Vec::with_capacity(opts.batch_rows.max(1));
        let more = reader.next_batch(opts.batch_rows.max(1), rs, &mut batch)?;
        let (columns, items) = classify_rows(&batch, rs, &spec);
        for item in items {
            match item {
                Processed::Row(r) => summary.count_classified(
                    r.input,
                    r.label,
                    &r.flags,
                    &r.unknown_codes,
                    r.rows_used,
                ),
                Processed::Reject(r) => {
                    rejects.push(&opts.source, r);
                    summary.count_reject(r.input, r.reason);
                }
                Processed::NotAttached(n) => summary.count_not_attached(n.input, n.analyte),
            }
        }
        let part = columns.to_frame().map_err(frame_error)?;
        match results.as_mut() {
            Some(df) => {
                df.vstack_mut_owned(part).map_err(frame_error)?;
            }
            None => results = Some(part),
        }
        if !more {
            break;
        }
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
