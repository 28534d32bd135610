//! The rejects file: every row that could not be used, where it was and what to do.

use std::io::{self, Write};

use super::{csv_io, neutralise};
use crate::ingest::Reject;

pub const REJECT_COLUMNS: [&str; 5] = ["source", "line", "reason_code", "message", "raw"];

pub struct RejectsWriter {
    writer: csv::Writer<Box<dyn Write + Send>>,
}

impl RejectsWriter {
    pub fn new(out: Box<dyn Write + Send>) -> io::Result<RejectsWriter> {
        let mut writer = csv::Writer::from_writer(out);
        writer.write_record(REJECT_COLUMNS).map_err(csv_io)?;
        Ok(RejectsWriter { writer })
    }

    pub fn write(&mut self, source: &str, r: &Reject) -> io::Result<()> {
        let line = r.line.to_string();
        let fields = [source, &line, r.reason.code(), &r.message, &r.raw];
        self.writer
            .write_record(fields.iter().map(|f| neutralise(f).into_owned()))
            .map_err(csv_io)
    }

    /// One reject as a CSV record (no line terminator), as the rejects file writes it: the
    /// form in which rejects go to stderr when the run has no rejects file.
    pub fn record_line(source: &str, r: &Reject) -> String {
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::Any(b'\n'))
            .from_writer(Vec::new());
        let line = r.line.to_string();
        let fields = [source, &line, r.reason.code(), &r.message, &r.raw];
        let _ = w.write_record(fields.iter().map(|f| neutralise(f).into_owned()));
        let bytes = w.into_inner().unwrap_or_default();
        let text = String::from_utf8_lossy(&bytes);
        text.strip_suffix('\n').unwrap_or(&text).to_string()
    }

    pub fn finish(self) -> io::Result<()> {
        let mut inner = self.writer.into_inner().map_err(|e| e.into_error())?;
        inner.flush()
    }
}
