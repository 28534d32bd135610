//! The outputs of a classify run: the result rows (a file or stdout), the rejects file and
//! the summary. Files go through [`AtomicOutputs`], so they appear only when the run has
//! completed; every write error names the file it concerns.

use std::io::{self, Write};
use std::path::PathBuf;

use super::batches::Encoded;
use super::ClassifyOptions;
use crate::error::RunError;
use crate::ingest::Reject;
use crate::report::atomic::AtomicOutputs;
use crate::report::rejects::RejectsWriter;
use crate::report::summary::Summary;
use crate::report::{self, Encoder, RowWriter};
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
    rows: Box<dyn RowWriter>,
    encoder: Encoder,
    out_name: String,
    summary: Option<(PathBuf, Box<dyn Write + Send>)>,
    rejects: Option<RejectsWriter>,
    rejects_name: String,
}

impl Outputs {
    /// Opens every output named in `opts` (result rows on `stdout` when there is no `-o`).
    pub(super) fn open(
        opts: &ClassifyOptions,
        rs: &Ruleset,
        stdout: Box<dyn Write + Send>,
    ) -> Result<Outputs, RunError> {
        let mut atomic = AtomicOutputs::new();
        let out_sink = match &opts.output {
            Some(path) => atomic.create(path)?,
            None => stdout,
        };
        let out_name = opts
            .output
            .as_ref()
            .map_or("<stdout>".to_string(), |p| p.display().to_string());
        let columns = report::column_names(opts.guidance_text);
        let (rows, encoder) = report::writer(opts.format, out_sink, columns, metadata(rs))
            .map_err(write_error(&out_name))?;
        let summary = match &opts.summary {
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
            out_name,
            summary,
            rejects,
            rejects_name,
        })
    }

    /// The row encoder of the output format (rows are encoded on the evaluation threads).
    pub(super) fn encoder(&self) -> &Encoder {
        &self.encoder
    }

    /// The error of a failed write to the result rows.
    pub(super) fn row_error(&self, error: io::Error) -> RunError {
        write_error(&self.out_name)(error)
    }

    pub(super) fn write_row(&mut self, encoded: Encoded) -> Result<(), RunError> {
        match encoded {
            Encoded::Bytes(bytes) => self.rows.write_encoded(&bytes),
            Encoded::Fields(fields) => self.rows.write_row(fields),
        }
        .map_err(write_error(&self.out_name))
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
        self.rows.finish().map_err(write_error(&self.out_name))?;
        if let Some(w) = self.rejects {
            w.finish().map_err(write_error(&self.rejects_name))?;
        }
        Ok(Finished {
            atomic: self.atomic,
            summary: self.summary,
        })
    }
}

/// The outputs of a run whose rows are all written, waiting for the summary.
pub(super) struct Finished {
    atomic: AtomicOutputs,
    summary: Option<(PathBuf, Box<dyn Write + Send>)>,
}

impl Finished {
    /// Writes the summary file, then renames every output into place. The summary is
    /// written before anything is renamed, so a run that cannot write its summary leaves
    /// no output behind either.
    pub(super) fn commit(self, summary: &Summary) -> Result<(), RunError> {
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
    ]
}
