//! The classify run: inputs -> batches of panels -> rules -> guidance -> writers, with the
//! row ledger kept as it goes. Outputs are written to temporary files and renamed into
//! place only when the run completes, so a failed run leaves nothing partial behind.

use std::io::{BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use tempfile::TempPath;

use crate::error::{ConfigError, RunError};
use crate::guidance;
use crate::ingest::{IngestOptions, Input, InputReader, NotAttached, Reject, RowOutcome};
use crate::report::rejects::RejectsWriter;
use crate::report::summary::{IgnoredColumn, InputSummary, RulesetSummary, Summary};
use crate::report::{self, Encoder, Field, OutputFormat};
use crate::rules;
use crate::ruleset::Ruleset;
use crate::vocab::{Flag, Label};

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
    pub guidance_text: bool,
    pub batch_rows: usize,
    pub progress: Progress,
    pub ingest: IngestOptions,
}

impl ClassifyOptions {
    /// Default rejects path: `<OUT stem>.rejects.csv` next to OUT.
    pub fn rejects_path(&self) -> Option<PathBuf> {
        if let Some(r) = &self.rejects {
            return Some(r.clone());
        }
        let out = self.output.as_ref()?;
        let stem = out.file_stem()?.to_string_lossy().into_owned();
        Some(out.with_file_name(format!("{stem}.rejects.csv")))
    }
}

/// A file written under a temporary name and renamed into place on success.
struct AtomicOutput {
    temp: TempPath,
    dest: PathBuf,
}

fn atomic_file(dest: &Path) -> Result<(Box<dyn Write + Send>, AtomicOutput), RunError> {
    let dir = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = dest
        .file_name()
        .map_or("out".into(), |n| n.to_string_lossy().into_owned());
    let prefix = format!(".{name}.");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp");
    // Results are shared files: readable like any file the user creates, not 0600.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o644));
    }
    let tmp = builder.tempfile_in(&dir).map_err(|e| {
        RunError::io(
            format!("cannot create a temporary file in {}", dir.display()),
            e,
        )
    })?;
    let (file, temp) = tmp.into_parts();
    Ok((
        Box::new(BufWriter::with_capacity(1 << 20, file)),
        AtomicOutput {
            temp,
            dest: dest.to_path_buf(),
        },
    ))
}

impl AtomicOutput {
    fn commit(self) -> Result<(), RunError> {
        self.temp.persist(&self.dest).map_err(|e| {
            RunError::io(
                format!("cannot move the result into {}", self.dest.display()),
                e.error,
            )
        })
    }
}

/// Runs a classification; returns the summary (the caller decides the exit code).
pub fn classify(
    opts: &ClassifyOptions,
    rs: &Ruleset,
    stdout: Box<dyn Write + Send>,
) -> Result<Summary, RunError> {
    let started = Instant::now();
    if opts.inputs.iter().filter(|i| **i == Input::Stdin).count() > 1 {
        return Err(ConfigError::Usage("`-` (stdin) may be given only once".into()).into());
    }
    // Open every input first: header problems stop the run before any row is processed.
    let mut readers = Vec::with_capacity(opts.inputs.len());
    for (i, input) in opts.inputs.iter().enumerate() {
        readers.push(InputReader::open(i, input, rs, &opts.ingest)?);
    }

    let mut summary = Summary::new(
        env!("CARGO_PKG_VERSION"),
        RulesetSummary {
            version: rs.version.clone(),
            effective_date: rs.effective_date.clone(),
            checksum: rs.checksum.clone(),
            origin: rs.origin.to_string(),
        },
    );
    for (input, r) in opts.inputs.iter().zip(&readers) {
        summary.inputs.push(InputSummary {
            name: input.name(),
            size_bytes: input.size(),
            layout: r.layout_name().into(),
            delimiter: match r.delimiter() {
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
        });
    }

    let columns = report::column_names(opts.guidance_text);
    let metadata = vec![
        (
            "anemia_engine.version".to_string(),
            env!("CARGO_PKG_VERSION").to_string(),
        ),
        (
            "anemia_engine.ruleset_version".to_string(),
            rs.version.clone(),
        ),
        (
            "anemia_engine.ruleset_checksum".to_string(),
            rs.checksum.clone(),
        ),
    ];
    let (out_sink, out_atomic) = match &opts.output {
        Some(path) => {
            let (w, a) = atomic_file(path)?;
            (w, Some(a))
        }
        None => (stdout, None),
    };
    let write_err = |path: &str| {
        let path = path.to_string();
        move |message: String| RunError::Write {
            path: path.clone(),
            message,
        }
    };
    let out_name = opts
        .output
        .as_ref()
        .map_or("<stdout>".to_string(), |p| p.display().to_string());
    let (mut writer, encoder) =
        report::writer(opts.format, out_sink, columns, metadata).map_err(write_err(&out_name))?;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());

    let mut summary_sink = opts.summary.as_deref().map(atomic_file).transpose()?;
    let rejects_path = opts.rejects_path();
    let (mut rejects, rejects_atomic) = match &rejects_path {
        Some(path) => {
            let (w, a) = atomic_file(path)?;
            (
                Some(RejectsWriter::new(w).map_err(write_err(&path.display().to_string()))?),
                Some(a),
            )
        }
        None => (None, None),
    };
    let rejects_name = rejects_path
        .as_ref()
        .map_or("<stderr>".to_string(), |p| p.display().to_string());

    // Sizes are known for files, not for stdin; compressed inputs count compressed bytes.
    let total_bytes: Option<u64> = opts.inputs.iter().map(Input::size).sum();
    let bytes_read = opts.ingest.bytes_read.clone();
    let bar = progress_bar(opts.progress, total_bytes);
    let mut last_log = Instant::now();
    let batch_rows = opts.batch_rows.max(1);
    // Reading and parsing run on their own thread, a couple of batches ahead of the
    // evaluation and the (sequential, in-order) writing; memory stays bounded by the channel.
    let (tx, rx) = std::sync::mpsc::sync_channel::<Result<Vec<RowOutcome>, RunError>>(2);
    std::thread::scope(|scope| -> Result<(), RunError> {
        scope.spawn(move || {
            for reader in readers.iter_mut() {
                loop {
                    let mut batch = Vec::with_capacity(batch_rows);
                    match reader.next_batch(batch_rows, rs, &mut batch) {
                        Ok(more) => {
                            if tx.send(Ok(batch)).is_err() {
                                return;
                            }
                            if !more {
                                break;
                            }
                        }
                        Err(e) => {
                            let _ = tx.send(Err(e));
                            return;
                        }
                    }
                }
            }
        });
        for message in rx {
            let batch = message?;
            let processed = process_batch(&batch, rs, &encoder, opts.guidance_text, threads)
                .map_err(write_err(&out_name))?;
            for item in processed {
                match item {
                    Processed::Row { row, encoded } => {
                        match encoded {
                            Encoded::Bytes(bytes) => writer.write_encoded(&bytes),
                            Encoded::Fields(fields) => writer.write_row(fields),
                        }
                        .map_err(write_err(&out_name))?;
                        summary.count_classified(
                            row.input,
                            row.label,
                            &row.flags,
                            &row.unknown_codes,
                            row.rows_used,
                        );
                    }
                    Processed::Reject(r) => {
                        let source = &summary.inputs[r.input].name.clone();
                        match rejects.as_mut() {
                            Some(w) => w.write(source, r).map_err(write_err(&rejects_name))?,
                            None if opts.progress != Progress::Quiet => {
                                eprintln!(
                                    "rejected {source} line {}: {} ({})",
                                    r.line,
                                    r.message,
                                    r.reason.code()
                                );
                            }
                            None => {}
                        }
                        summary.count_reject(r.input, r.reason);
                    }
                    Processed::NotAttached(n) => summary.count_not_attached(n.input, n.analyte),
                }
            }
            let rate = summary.rows_read as f64 / started.elapsed().as_secs_f64().max(1e-9);
            let done = bytes_read.load(std::sync::atomic::Ordering::Relaxed);
            if let Some(b) = &bar {
                b.set_position(done);
                b.set_message(format!(
                    "{} rows, {rate:.0} rows/s, {} rejected",
                    summary.rows_read, summary.rejected
                ));
            } else if opts.progress == Progress::Lines && last_log.elapsed().as_secs() >= 5 {
                last_log = Instant::now();
                let share = total_bytes.filter(|t| *t > 0).map_or(String::new(), |t| {
                    format!(", {:.1} % of input bytes", 100.0 * done as f64 / t as f64)
                });
                eprintln!(
                    "progress: {} rows read ({} rejected), {rate:.0} rows/s{share}",
                    summary.rows_read, summary.rejected
                );
            }
        }
        Ok(())
    })?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }

    writer.finish().map_err(write_err(&out_name))?;
    if let Some(w) = rejects {
        w.finish().map_err(write_err(&rejects_name))?;
    }
    summary.close_ledger();
    summary.output = opts.output.as_ref().map(|p| p.display().to_string());
    summary.rejects = rejects_path.as_ref().map(|p| p.display().to_string());
    summary.elapsed_seconds = started.elapsed().as_secs_f64();
    // The summary is written before anything is renamed into place, so a run that cannot
    // write its summary leaves no output behind either.
    if let (Some(path), Some((w, _))) = (&opts.summary, summary_sink.as_mut()) {
        let json = serde_json::to_string_pretty(&summary).map_err(|e| RunError::Write {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        w.write_all(json.as_bytes())
            .and_then(|_| w.write_all(b"\n"))
            .and_then(|_| w.flush())
            .map_err(|e| RunError::io(format!("writing {}", path.display()), e))?;
    }
    for a in [out_atomic, rejects_atomic, summary_sink.map(|(_, a)| a)]
        .into_iter()
        .flatten()
    {
        a.commit()?;
    }
    Ok(summary)
}

/// What the sequential writer needs of one classified panel.
struct RowSummary {
    input: usize,
    label: Label,
    flags: Vec<Flag>,
    unknown_codes: Vec<String>,
    rows_used: u64,
}

enum Encoded {
    Bytes(Vec<u8>),
    Fields(Vec<Field>),
}

/// One row outcome after rules, guidance and encoding.
enum Processed<'a> {
    Row { row: RowSummary, encoded: Encoded },
    Reject(&'a Reject),
    NotAttached(&'a NotAttached),
}

fn process<'a>(
    outcome: &'a RowOutcome,
    rs: &Ruleset,
    encoder: &Encoder,
    guidance_text: bool,
) -> Result<Processed<'a>, String> {
    Ok(match outcome {
        RowOutcome::Panel(panel) => {
            let result = rules::evaluate(panel, rs);
            let ids = guidance::attach(panel, &result, rs);
            let fields = report::render_row(panel, &result, &ids, rs, guidance_text);
            let mut bytes = Vec::new();
            let encoded = if encoder.encode(&fields, &mut bytes)? {
                Encoded::Bytes(bytes)
            } else {
                Encoded::Fields(fields)
            };
            Processed::Row {
                row: RowSummary {
                    input: panel.input,
                    label: result.classification,
                    flags: result.flags,
                    unknown_codes: panel.unknown_codes.clone(),
                    rows_used: panel.rows_used,
                },
                encoded,
            }
        }
        RowOutcome::Reject(r) => Processed::Reject(r),
        RowOutcome::NotAttached(n) => Processed::NotAttached(n),
    })
}

/// Evaluates a batch on up to `threads` threads; results keep the batch order, so the
/// output does not depend on the number of threads.
fn process_batch<'a>(
    batch: &'a [RowOutcome],
    rs: &Ruleset,
    encoder: &Encoder,
    guidance_text: bool,
    threads: usize,
) -> Result<Vec<Processed<'a>>, String> {
    const MIN_ROWS_PER_THREAD: usize = 512;
    let threads = threads.min(batch.len() / MIN_ROWS_PER_THREAD).max(1);
    if threads == 1 {
        return batch
            .iter()
            .map(|o| process(o, rs, encoder, guidance_text))
            .collect();
    }
    let chunk = batch.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = batch
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|o| process(o, rs, encoder, guidance_text))
                        .collect::<Result<Vec<_>, String>>()
                })
            })
            .collect();
        let mut out = Vec::with_capacity(batch.len());
        for h in handles {
            out.extend(
                h.join()
                    .map_err(|_| "a worker thread panicked".to_string())??,
            );
        }
        Ok(out)
    })
}

fn progress_bar(mode: Progress, total_bytes: Option<u64>) -> Option<indicatif::ProgressBar> {
    if mode == Progress::Quiet || !std::io::stderr().is_terminal() {
        return None;
    }
    let style = |template: &str| {
        indicatif::ProgressStyle::with_template(template)
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner())
    };
    let bar = match total_bytes {
        Some(total) => {
            let bar = indicatif::ProgressBar::new(total);
            bar.set_style(style(
                "{elapsed_precise} [{wide_bar}] {bytes}/{total_bytes} ETA {eta} {msg}",
            ));
            bar
        }
        None => {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.set_style(style("{spinner} {elapsed_precise} {bytes} {msg}"));
            bar
        }
    };
    bar.set_draw_target(indicatif::ProgressDrawTarget::stderr_with_hz(4));
    Some(bar)
}
