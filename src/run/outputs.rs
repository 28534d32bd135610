//! The outputs of a classify run: the result rows (a file or stdout), the rejects file and
//! the summary. Files go through [`AtomicOutputs`], so they appear only when the run has
//! completed; every write error names the file it concerns.

use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::ClassifyOptions;
use crate::error::RunError;
use crate::ingest::Reject;
use crate::report::atomic::AtomicOutputs;
use crate::report::rejects::RejectsWriter;
use crate::report::summary::Summary;
use crate::report::{self, Chunk, Encoder, ResultColumns, ResultWriter, ResultsSpec};
use crate::ruleset::Ruleset;

fn write_error(path: &str) -> impl Fn(io::Error) -> RunError + '_ {
    move |error| RunError::Write {
        path: path.to_string(),
        error,
    }
}

/// The open writers of one run.
pub(super) struct Outputs {
    atomic: AtomicOutputs,
    rows: WriterThread,
    encoder: Encoder,
    spec: ResultsSpec,
    out_name: String,
    /// Set when stdout was closed by its reader (polars' writers wrap the io error).
    pipe_closed: Arc<AtomicBool>,
    summary: Option<(PathBuf, Box<dyn Write + Send>)>,
    report: Option<(PathBuf, Box<dyn Write + Send>)>,
    rejects: Option<RejectsWriter>,
    rejects_name: String,
}

impl Outputs {
    /// Opens every output named in `opts` (result rows on `stdout` when there is no `-o`).
    pub(super) fn open(
        opts: &ClassifyOptions,
        rs: &Ruleset,
        stdout: Box<dyn Write + Send>,
        spec: ResultsSpec,
    ) -> Result<Outputs, RunError> {
        let mut atomic = AtomicOutputs::new();
        let pipe_closed = Arc::new(AtomicBool::new(false));
        let out_sink = match &opts.output {
            Some(path) => atomic.create(path)?,
            None => Box::new(PipeWatch {
                inner: stdout,
                closed: Arc::clone(&pipe_closed),
            }),
        };
        let out_name = opts
            .output
            .as_ref()
            .map_or("<stdout>".to_string(), |p| p.display().to_string());
        let schema = ResultColumns::new(spec.clone(), 0)
            .to_frame()
            .map_err(|e| write_error(&out_name)(report::polars_io(e)))?
            .schema()
            .as_ref()
            .clone();
        let (rows, encoder) = report::writer(opts.format, out_sink, &schema, metadata(rs))
            .map_err(write_error(&out_name))?;
        let rows = WriterThread::spawn(rows);
        let summary = match &opts.summary {
            Some(path) => Some((path.clone(), atomic.create(path)?)),
            None => None,
        };
        let report = match &opts.report {
            Some(path) => Some((path.clone(), atomic.create(path)?)),
            None => None,
        };
        let rejects_path = opts.rejects_path();
        let rejects = match &rejects_path {
            Some(path) => {
                let w = atomic.create(path)?;
                let name = path.display().to_string();
                Some(RejectsWriter::new(w).map_err(write_error(&name))?)
            }
            None => None,
        };
        let rejects_name = rejects_path
            .as_ref()
            .map_or("<stderr>".to_string(), |p| p.display().to_string());
        Ok(Outputs {
            atomic,
            rows,
            encoder,
            spec,
            out_name,
            pipe_closed,
            summary,
            report,
            rejects,
            rejects_name,
        })
    }

    /// The row encoder of the output format (rows are encoded on the evaluation threads).
    pub(super) fn encoder(&self) -> Encoder {
        self.encoder
    }

    /// What the result batches are built for.
    pub(super) fn spec(&self) -> &ResultsSpec {
        &self.spec
    }

    /// The error of a failed write to the result rows.
    pub(super) fn row_error(&self, error: io::Error) -> RunError {
        let error = if self.pipe_closed.load(Ordering::Relaxed) {
            io::Error::from(io::ErrorKind::BrokenPipe)
        } else {
            error
        };
        write_error(&self.out_name)(error)
    }

    pub(super) fn write_results(&mut self, chunk: Chunk) -> Result<(), RunError> {
        match self.rows.write(chunk) {
            Ok(()) => Ok(()),
            Err(e) => Err(self.row_error(e)),
        }
    }

    /// Writes a rejected row to the rejects file; false when the run has none.
    pub(super) fn write_reject(&mut self, source: &str, r: &Reject) -> Result<bool, RunError> {
        match self.rejects.as_mut() {
            Some(w) => {
                w.write(source, r)
                    .map_err(write_error(&self.rejects_name))?;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Flushes and closes the row and rejects writers; the files are not in place yet.
    pub(super) fn finish(self) -> Result<Finished, RunError> {
        let closed = Arc::clone(&self.pipe_closed);
        if let Err(e) = self.rows.finish() {
            let e = if closed.load(Ordering::Relaxed) {
                io::Error::from(io::ErrorKind::BrokenPipe)
            } else {
                e
            };
            return Err(write_error(&self.out_name)(e));
        }
        if let Some(w) = self.rejects {
            w.finish().map_err(write_error(&self.rejects_name))?;
        }
        Ok(Finished {
            atomic: self.atomic,
            summary: self.summary,
            report: self.report,
        })
    }
}

/// The outputs of a run whose rows are all written, waiting for the summary.
pub(super) struct Finished {
    atomic: AtomicOutputs,
    summary: Option<(PathBuf, Box<dyn Write + Send>)>,
    report: Option<(PathBuf, Box<dyn Write + Send>)>,
}

impl Finished {
    /// Writes the report and summary files, then renames every output into place. Both are
    /// written before anything is renamed, so a run that cannot write them leaves no output
    /// behind either.
    pub(super) fn commit(self, summary: &Summary, report: Option<&str>) -> Result<(), RunError> {
        if let (Some((path, mut w)), Some(html)) = (self.report, report) {
            w.write_all(html.as_bytes())
                .and_then(|_| w.flush())
                .map_err(|e| RunError::io(format!("writing {}", path.display()), e))?;
        }
        if let Some((path, mut w)) = self.summary {
            let name = path.display().to_string();
            let json =
                serde_json::to_string_pretty(summary).map_err(|e| write_error(&name)(e.into()))?;
            w.write_all(json.as_bytes())
                .and_then(|_| w.write_all(b"\n"))
                .and_then(|_| w.flush())
                .map_err(|e| RunError::io(format!("writing {name}"), e))?;
        }
        self.atomic.commit()?;
        Ok(())
    }
}

/// Key-value metadata of the result file (Parquet): which engine and ruleset wrote it.
fn metadata(rs: &Ruleset) -> Vec<(String, String)> {
    vec![
        (
            report::columns::META_ENGINE_VERSION.to_string(),
            env!("CARGO_PKG_VERSION").to_string(),
        ),
        (
            report::columns::META_RULESET_VERSION.to_string(),
            rs.version.clone(),
        ),
        (
            report::columns::META_RULESET_CHECKSUM.to_string(),
            rs.checksum.clone(),
        ),
        (
            report::columns::META_SCHEMA_VERSION.to_string(),
            report::columns::SCHEMA_VERSION.to_string(),
        ),
    ]
}

/// Stdout, noting when its reader has gone (`| head`): the columnar writers report that as
/// their own error, and the run must still end with exit 141 and no message.
struct PipeWatch {
    inner: Box<dyn Write + Send>,
    closed: Arc<AtomicBool>,
}

impl PipeWatch {
    fn note<T>(&self, r: io::Result<T>) -> io::Result<T> {
        if let Err(e) = &r {
            if e.kind() == io::ErrorKind::BrokenPipe {
                self.closed.store(true, Ordering::Relaxed);
            }
        }
        r
    }
}

impl Write for PipeWatch {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let r = self.inner.write(buf);
        self.note(r)
    }

    fn flush(&mut self) -> io::Result<()> {
        let r = self.inner.flush();
        self.note(r)
    }
}

/// The result writer on its own thread: Parquet and Arrow row groups (and the text formats'
/// writes) are encoded while the next batch is evaluated, in the order the batches were sent.
struct WriterThread {
    tx: Option<std::sync::mpsc::SyncSender<Chunk>>,
    handle: Option<std::thread::JoinHandle<io::Result<()>>>,
}

impl WriterThread {
    fn spawn(mut writer: Box<dyn ResultWriter>) -> WriterThread {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Chunk>(2);
        let handle = std::thread::spawn(move || -> io::Result<()> {
            for chunk in rx {
                writer.write(chunk)?;
            }
            writer.finish()
        });
        WriterThread {
            tx: Some(tx),
            handle: Some(handle),
        }
    }

    /// Hands a chunk to the writer; when the writer has stopped, its error.
    fn write(&mut self, chunk: Chunk) -> io::Result<()> {
        let sent = match &self.tx {
            Some(tx) => tx.send(chunk).is_ok(),
            None => false,
        };
        if sent {
            Ok(())
        } else {
            self.tx = None;
            Err(self.join().err().unwrap_or_else(|| {
                io::Error::other("the result writer stopped before the last row")
            }))
        }
    }

    fn join(&mut self) -> io::Result<()> {
        match self.handle.take() {
            Some(h) => h
                .join()
                .map_err(|_| io::Error::other("the result writer panicked"))?,
            None => Ok(()),
        }
    }

    /// Waits for every chunk to be written and the file to be closed.
    fn finish(mut self) -> io::Result<()> {
        self.tx = None;
        self.join()
    }
}
