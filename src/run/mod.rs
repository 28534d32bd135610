//! The classify run: inputs -> batches of panels -> rules -> guidance -> writers, with the
//! row ledger kept as it goes. Outputs are written to temporary files and renamed into
//! place only when the run completes, so a failed run leaves nothing partial behind.
//!
//! - [`batches`]: the reading thread and the parallel, order-keeping batch evaluation;
//! - [`outputs`]: the result, rejects and summary writers over atomic files;
//! - [`progress`]: the progress bar or progress lines.

pub(crate) mod batches;
mod outputs;
mod paths;
mod progress;

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use crate::error::{ConfigError, RunError};
use crate::ingest::{IngestOptions, Input, InputReader};
use crate::messages::Messages;
use crate::nightly::{self, collect::Collector};
use crate::report::summary::{IgnoredColumn, InputSummary, Summary};
use crate::report::{OutputFormat, ResultsSpec};
use crate::ruleset::Ruleset;
use batches::Processed;
use outputs::Outputs;
use progress::ProgressReport;

/// Rows per batch: memory stays bounded by this, whatever the input size.
pub const DEFAULT_BATCH_ROWS: usize = 8192;

/// How progress is shown on stderr.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Progress {
    /// Progress bar when stderr is a terminal, nothing otherwise.
    Auto,
    /// Periodic plain log lines even when stderr is not a terminal.
    Lines,
    Quiet,
}

/// A validated classify request.
#[derive(Clone, Debug)]
pub struct ClassifyOptions {
    pub inputs: Vec<Input>,
    /// None: CSV to stdout.
    pub output: Option<PathBuf>,
    pub format: OutputFormat,
    pub rejects: Option<PathBuf>,
    pub summary: Option<PathBuf>,
    /// The nightly HTML report of the run (`--report`).
    pub report: Option<PathBuf>,
    pub guidance_text: bool,
    /// The evidence column (`--evidence full`); left out with `--evidence none`.
    pub evidence: bool,
    /// The command line, recorded in the summary.
    pub command_line: Vec<String>,
    pub batch_rows: usize,
    pub progress: Progress,
    pub ingest: IngestOptions,
    /// `--partition K/N`: classify only the rows of the patients in part K.
    pub partition: Option<crate::shard::Partition>,
}

impl ClassifyOptions {
    /// Default rejects path: `<OUT stem>.rejects.csv` next to OUT.
    pub fn rejects_path(&self) -> Option<PathBuf> {
        if let Some(r) = &self.rejects {
            return Some(r.clone());
        }
        let out = self.output.as_ref()?;
        // A device or stream output (`/dev/null`, `/dev/stdout`) has no file beside it: the
        // rejects then go to stderr, as with stdout output.
        if crate::report::atomic::is_stream(out) {
            return None;
        }
        let stem = out.file_stem()?.to_string_lossy().into_owned();
        Some(out.with_file_name(format!("{stem}.rejects.csv")))
    }
}

/// Runs a classification; returns the summary (the caller decides the exit code). Result
/// rows go to `stdout` when `opts.output` is None; rejected rows with no rejects file and
/// progress lines go to `messages`.
pub fn classify(
    opts: &ClassifyOptions,
    rs: &Ruleset,
    stdout: Box<dyn Write + Send>,
    messages: &dyn Messages,
) -> Result<Summary, RunError> {
    let started = Instant::now();
    let started_at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| {
            let micros = i64::try_from(d.as_secs())
                .unwrap_or(0)
                .saturating_mul(1_000_000);
            format!("{}Z", crate::isotime::render_micros(micros))
        })
        .unwrap_or_default();
    if opts.inputs.iter().filter(|i| **i == Input::Stdin).count() > 1 {
        return Err(ConfigError::Usage("`-` (stdin) may be given only once".into()).into());
    }
    paths::check(opts)?;
    // Check every input's header first: header problems stop the run before any row is
    // processed. Files are closed again and reopened one at a time when their rows are read
    // (stdin, which cannot be reopened, stays open).
    let mut summary = Summary::of_run(rs);
    let mut readers: Vec<Option<InputReader>> = Vec::with_capacity(opts.inputs.len());
    // FHIR Patient resources of every input, for the Observations of every input.
    let mut patients = crate::ingest::fhir::Patients::default();
    for (i, input) in opts.inputs.iter().enumerate() {
        let reader = InputReader::open(i, input, rs, &opts.ingest)?;
        summary.inputs.push(input_summary(input, &reader));
        crate::ingest::add_patients(&mut patients, &reader);
        readers.push((*input == Input::Stdin).then_some(reader));
    }
    let patients = std::sync::Arc::new(patients);
    summary.command_line = opts.command_line.clone();
    summary.started_at = started_at;
    summary.partition = opts.partition.map(Into::into);
    let spec = ResultsSpec {
        schema: opts
            .format
            .schema_options(opts.evidence, opts.guidance_text),
        sources: std::sync::Arc::new(opts.inputs.iter().map(Input::name).collect()),
        ruleset_version: rs.version.clone(),
        ruleset_checksum: rs.checksum.clone(),
    };
    let mut outputs = Outputs::open(opts, rs, stdout, spec)?;

    let mut progress = ProgressReport::new(opts.progress, &opts.inputs, started, messages);
    let batch_rows = opts.batch_rows.max(1);
    // Reading and parsing run on their own thread, a couple of batches ahead of the
    // evaluation and the (sequential, in-order) writing.
    let (tx, rx) = batches::channel();
    let mut ends = vec![batches::InputEnd::default(); opts.inputs.len()];
    // The nightly report's side table (counts and bounded samples), only with --report.
    let mut night = opts.report.as_ref().map(|_| Collector::new());
    std::thread::scope(|scope| -> Result<(), RunError> {
        scope.spawn(|| {
            let inputs = batches::Inputs {
                inputs: &opts.inputs,
                opened: &mut readers,
                ends: &mut ends,
                patients: &patients,
                options: &opts.ingest,
            };
            batches::read_all(inputs, batch_rows, rs, tx)
        });
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let spares = batches::Spares::default();
        for message in rx {
            let mut batch = message?;
            if let Some(part) = opts.partition {
                keep_partition(&mut batch, part, &mut summary);
            }
            let parts = batches::process_batch(
                &batch,
                rs,
                outputs.spec(),
                outputs.encoder(),
                threads,
                night.is_some(),
                &spares,
            )
            .map_err(|e| outputs.row_error(e))?;
            for part in parts {
                if let (Some(night), Some(results)) = (night.as_mut(), &part.results) {
                    night.add_results(results);
                }
                outputs.write_results(part.chunk)?;
                for item in part.items {
                    write_item(item, &mut outputs, &mut summary, messages)?;
                }
            }
            progress.update(&summary, messages);
        }
        Ok(())
    })?;
    progress.finish(&summary, messages);
    for (input, end) in summary.inputs.iter_mut().zip(&ends) {
        input.header_repeats = end.header_repeats;
        if let Some(c) = end.interchange {
            input.patients_read = c.patients_read;
            input.preliminary_results = c.preliminary;
            input.other_resources = c.other;
        }
    }

    let finished = outputs.finish()?;
    summary.close_ledger();
    summary.output = opts.output.as_ref().map(|p| p.display().to_string());
    summary.rejects = opts.rejects_path().map(|p| p.display().to_string());
    summary.elapsed_seconds = started.elapsed().as_secs_f64();
    let report = match (&night, &opts.report) {
        (Some(collector), Some(path)) => Some(
            nightly::render(&nightly::ReportInput {
                ledger: nightly::Ledger::of_summary(&summary, "this run"),
                collector,
                ruleset: rs,
                result_files: Vec::new(),
                result_checksums: Vec::new(),
            })
            .map_err(|e| {
                RunError::io(
                    format!("writing the report {}", path.display()),
                    std::io::Error::other(e.to_string()),
                )
            })?,
        ),
        _ => None,
    };
    finished.commit(&summary, report.as_deref())?;
    Ok(summary)
}

/// Leaves in `batch` the rows of part `part`'s patients; the others are counted in the
/// ledger as rows of other parts.
fn keep_partition(
    batch: &mut Vec<crate::ingest::RowOutcome>,
    part: crate::shard::Partition,
    summary: &mut Summary,
) {
    use crate::ingest::RowOutcome;
    batch.retain(|outcome| {
        if part.keeps(outcome) {
            return true;
        }
        let (input, rows) = match outcome {
            RowOutcome::Panel(p) => (p.input, p.rows_used),
            RowOutcome::Reject(r) => (r.input, 1),
            RowOutcome::NotAttached(n) => (n.input, 1),
        };
        summary.count_other_partition(input, rows);
        false
    });
}

/// Writes one evaluated row outcome where it belongs and counts it in the ledger.
fn write_item(
    item: Processed<'_>,
    outputs: &mut Outputs,
    summary: &mut Summary,
    messages: &dyn Messages,
) -> Result<(), RunError> {
    match item {
        Processed::Row(row) => {
            summary.count_classified(
                row.input,
                row.label,
                &row.flags,
                &row.unknown_codes,
                row.rows_used,
            );
        }
        Processed::Reject(r) => {
            let source = &summary.inputs[r.input].name;
            // With no rejects file (stdout output), every reject goes to stderr as a complete
            // record, even under --quiet: a reject is data, not progress.
            if !outputs.write_reject(source, r)? {
                if summary.rejected == 0 {
                    messages.warn(&crate::report::rejects::REJECT_COLUMNS.join(","));
                }
                messages.warn(&crate::report::rejects::RejectsWriter::record_line(
                    source, r,
                ));
            }
            summary.count_reject(r.input, r.reason);
        }
        Processed::NotAttached(n) => summary.count_not_attached(n.input, n.analyte),
    }
    Ok(())
}

/// The summary entry of an input as opened (before any row).
fn input_summary(input: &Input, r: &InputReader) -> InputSummary {
    InputSummary {
        name: input.name(),
        size_bytes: input.size(),
        layout: r.layout_name().into(),
        format: r.format_name().into(),
        delimiter: match r.delimiter() {
            0 => String::new(),
            b'\t' => "tab".into(),
            d => char::from(d).to_string(),
        },
        ignored_columns: r
            .ignored()
            .iter()
            .map(|(c, why)| IgnoredColumn {
                column: c.clone(),
                reason: why.clone(),
            })
            .collect(),
        ..InputSummary::default()
    }
}
