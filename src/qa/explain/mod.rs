//! `anemia-engine explain`: one panel's trace, from the same ingest and rules the engine
//! runs on. This file finds the selected panel; `cells` reads its row again and says what
//! was made of each cell, `trace` builds the serialisable trace, `render` prints it.

mod cells;
mod render;
mod trace;

use crate::error::{ConfigError, RunError};
use crate::ingest::{IngestOptions, Input, InputReader, Reject, RowOutcome};
use crate::rules;
use crate::ruleset::Ruleset;
use cells::{cell_traces, raw_row};
use render::{render_text, to_json};
use trace::{Explained, RejectTrace, Trace};

/// Which panel to explain.
#[derive(Clone, Debug)]
pub enum PanelSelector {
    Specimen(String),
    /// 1-based data row (wide layout).
    Row(u64),
    /// Physical line (as `source_line` and the rejects file give it).
    Line(u64),
}

/// Rows read per batch while looking for the selected panel.
const BATCH_ROWS: usize = 4096;

/// `anemia-engine explain`: one panel's trace: the cells as read, the conversions, the
/// haemoglobin cutoff, every rule's evidence with its citation, and the result.
pub fn explain(
    input: &Input,
    selector: &PanelSelector,
    rs: &Ruleset,
    ingest: &IngestOptions,
    json: bool,
) -> Result<String, RunError> {
    match input {
        Input::File(_) => explain_file(input, &input.name(), selector, rs, ingest, json),
        Input::Stdin => {
            // The raw cells are read in a second pass, so stdin is kept in a temporary file.
            let mut spool = tempfile::NamedTempFile::new()
                .map_err(|e| RunError::io("cannot create a temporary file for stdin", e))?;
            std::io::copy(&mut std::io::stdin().lock(), &mut spool)
                .map_err(|e| RunError::io("cannot read <stdin>", e))?;
            let spooled = Input::File(spool.path().to_path_buf());
            let name = input.name();
            explain_file(&spooled, &name, selector, rs, ingest, json)
                .map_err(|e| rename_source(e, &spooled.name(), &name))
        }
    }
}

/// Replaces the temporary file's name by the input's name in an error.
fn rename_source(e: RunError, from: &str, to: &str) -> RunError {
    let fix = |s: String| s.replace(from, to);
    match e {
        RunError::Config(ConfigError::Input { file, message }) => {
            RunError::Config(ConfigError::Input {
                file: fix(file),
                message: fix(message),
            })
        }
        RunError::Read {
            file,
            line,
            message,
        } => RunError::Read {
            file: fix(file),
            line,
            message: fix(message),
        },
        RunError::Io { context, source } => RunError::Io {
            context: fix(context),
            source,
        },
        other => other,
    }
}

/// Explains the selected panel of `input`, named `name` in the output.
fn explain_file(
    input: &Input,
    name: &str,
    selector: &PanelSelector,
    rs: &Ruleset,
    ingest: &IngestOptions,
    json: bool,
) -> Result<String, RunError> {
    let mut reader = InputReader::open(0, input, rs, ingest)?;
    if let (
        InputReader::Long(_) | InputReader::Fhir(_) | InputReader::Hl7(_),
        PanelSelector::Row(_),
    ) = (&reader, selector)
    {
        return Err(ConfigError::Usage(format!(
            "{name}: --row selects a data row of a wide export; in this {} (one result per row, resource or segment) input select the panel with --specimen ID or --line N",
            reader.layout_name()
        ))
        .into());
    }
    let mut batch = Vec::new();
    let mut row_number = 0u64;
    loop {
        batch.clear();
        let more = reader.next_batch(BATCH_ROWS, rs, &mut batch)?;
        for outcome in &batch {
            if selects(outcome, selector, &mut row_number) {
                return explain_outcome(outcome, input, name, &reader, rs, json);
            }
        }
        if !more {
            break;
        }
    }
    Err(RunError::Config(ConfigError::Usage(format!(
        "{name}: no panel {}",
        match selector {
            PanelSelector::Specimen(s) => format!("with specimen_id {s:?}"),
            PanelSelector::Row(n) => format!("at data row {n} (the file has {row_number})"),
            PanelSelector::Line(l) => format!(
                "at line {l}: it is blank, a header, a continuation line or past the end (or, in the long layout, not a haemoglobin result)"
            ),
        }
    ))))
}

/// Whether `outcome` is the selected one; `row_number` counts the data rows seen so far
/// (panels and rejects).
fn selects(outcome: &RowOutcome, selector: &PanelSelector, row_number: &mut u64) -> bool {
    match (outcome, selector) {
        (RowOutcome::Panel(p), PanelSelector::Specimen(id)) => p.specimen_id == *id,
        (RowOutcome::Panel(p), PanelSelector::Line(l)) => p.line == *l,
        (RowOutcome::Reject(r), PanelSelector::Line(l)) => r.line == *l,
        (RowOutcome::Panel(_) | RowOutcome::Reject(_), PanelSelector::Row(n)) => {
            *row_number += 1;
            *row_number == *n
        }
        _ => false,
    }
}

/// The trace of the selected panel, or what happened to the selected row.
fn explain_outcome(
    outcome: &RowOutcome,
    input: &Input,
    name: &str,
    reader: &InputReader,
    rs: &Ruleset,
    json: bool,
) -> Result<String, RunError> {
    match outcome {
        RowOutcome::Panel(p) => {
            let cells = match reader {
                InputReader::Wide(w) => {
                    let raw = raw_row(input, reader.delimiter(), p.line)?;
                    cell_traces(&raw, Some(&w.header), p, rs)
                }
                InputReader::Long(_) => {
                    let raw = raw_row(input, reader.delimiter(), p.line)?;
                    cell_traces(&raw, None, p, rs)
                }
                // A columnar row, a resource or a segment has no delimited line to quote: the
                // cells as read are the panel's.
                InputReader::Columnar(_) | InputReader::Fhir(_) | InputReader::Hl7(_) => {
                    cell_traces(&[], None, p, rs)
                }
            };
            let explained = Explained {
                source: name,
                layout: reader.layout_name(),
                panel: p,
                outcome: &rules::evaluate(p, rs),
                cells,
            };
            let trace = Trace::build(explained, rs);
            Ok(if json {
                to_json(&trace)
            } else {
                render_text(&trace)
            })
        }
        RowOutcome::Reject(r) => Ok(explain_reject(r, &input.name(), name, json)),
        RowOutcome::NotAttached(n) => Ok(format!(
            "{name} line {}: {} result not attached to any panel\n",
            n.line, n.analyte
        )),
    }
}

/// A selected row that was rejected: the reason and the raw line (`read_name`, the name
/// the reader used, is replaced by `name` in the message).
fn explain_reject(r: &Reject, read_name: &str, name: &str, json: bool) -> String {
    let message = r.message.replace(read_name, name);
    let raw = r.raw.as_str();
    if json {
        to_json(&RejectTrace {
            source: name,
            line: r.line,
            rejected: true,
            reason_code: r.reason.code(),
            message: &message,
            raw,
        })
    } else {
        format!(
            "{name} line {}: rejected ({}): {message}\nraw: {raw}\n",
            r.line,
            r.reason.code(),
        )
    }
}
