//! The rejects file: every row that could not be used, where it was and what to do.

use std::io::Write;

use super::neutralise;
use crate::ingest::Reject;

pub const REJECT_COLUMNS: [&str; 5] = ["source", "line", "reason_code", "message", "raw"];

pub struct RejectsWriter {
    writer: csv::Writer<Box<dyn Write + Send>>,
}

impl RejectsWriter {
    pub fn new(out: Box<dyn Write + Send>) -> Result<RejectsWriter, String> {
        let mut writer = csv::Writer::from_writer(out);
        writer
            .write_record(REJECT_COLUMNS)
            .map_err(|e| e.to_string())?;
        Ok(RejectsWriter { writer })
    }

    pub fn write(&mut self, source: &str, r: &Reject) -> Result<(), String> {
        let line = r.line.to_string();
        let fields = [source, &line, r.reason.code(), &r.message, &r.raw];
        self.writer
            .write_record(fields.iter().map(|f| neutralise(f).into_owned()))
            .map_err(|e| e.to_string())
    }

    pub fn finish(self) -> Result<(), String> {
        let mut inner = self.writer.into_inner().map_err(|e| e.to_string())?;
        inner.flush().map_err(|e| e.to_string())
    }
}
