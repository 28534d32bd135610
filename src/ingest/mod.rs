//! Export files -> typed panels, in bounded batches. Every data row becomes either a
//! [`Panel`] or a [`Reject`] with a reason; nothing is dropped.

pub mod columnar;
pub mod context;
pub mod fhir;
mod header;
pub mod hl7;
pub(crate) mod lines;
pub mod long;
pub mod mapping;
mod plausible;
pub mod records;
mod wide;

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

pub use header::{resolve_header, Column, HeaderMap};
pub use long::LongReader;
pub use mapping::Mapping;
pub use records::TextEncoding;
pub use wide::WideReader;

use crate::cell::DecimalMark;
use crate::error::RunError;
use crate::panel::Panel;

/// Why a row was rejected (interface: `reason_code`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectReason {
    MalformedLine,
    InvalidEncoding,
    MissingPatientId,
    NoAnalyteValues,
    ImplausibleValue,
    UnknownUnit,
    UnknownTestCode,
    Superseded,
    MalformedMessage,
}

impl RejectReason {
    pub fn code(self) -> &'static str {
        match self {
            RejectReason::MalformedLine => "malformed_line",
            RejectReason::InvalidEncoding => "invalid_encoding",
            RejectReason::MissingPatientId => "missing_patient_id",
            RejectReason::NoAnalyteValues => "no_analyte_values",
            RejectReason::ImplausibleValue => "implausible_value",
            RejectReason::UnknownUnit => "unknown_unit",
            RejectReason::UnknownTestCode => "unknown_test_code",
            RejectReason::Superseded => "superseded",
            RejectReason::MalformedMessage => "malformed_message",
        }
    }
}

/// A row that could not be used, with where it was and what to do.
#[derive(Clone, Debug, PartialEq)]
pub struct Reject {
    pub input: usize,
    pub line: u64,
    pub reason: RejectReason,
    pub message: String,
    /// The fields as read, re-joined with the file's delimiter.
    pub raw: String,
    /// The row's patient id, when it had a readable one (the `--partition` key; never
    /// printed in a message).
    pub patient_id: Option<String>,
}

/// A result (long layout) that no panel used: counted in the ledger, by analyte.
#[derive(Clone, Debug, PartialEq)]
pub struct NotAttached {
    pub input: usize,
    pub line: u64,
    pub analyte: crate::analyte::Analyte,
    /// The result's patient (the `--partition` key).
    pub patient_id: Option<String>,
}

/// What became of one data row.
#[derive(Clone, Debug)]
pub enum RowOutcome {
    Panel(Box<Panel>),
    Reject(Reject),
    NotAttached(NotAttached),
}

/// One input named on the command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    Stdin,
    File(PathBuf),
}

impl Input {
    pub fn parse(arg: &str) -> Input {
        if arg == "-" {
            Input::Stdin
        } else {
            Input::File(PathBuf::from(arg))
        }
    }

    /// Name used in messages, rejects and the summary.
    pub fn name(&self) -> String {
        match self {
            Input::Stdin => "<stdin>".to_string(),
            Input::File(p) => p.display().to_string(),
        }
    }

    /// Size in bytes, when known.
    pub fn size(&self) -> Option<u64> {
        match self {
            Input::Stdin => None,
            Input::File(p) => std::fs::metadata(p).ok().map(|m| m.len()),
        }
    }

    /// Opens the input, transparently decompressing gzip (by extension or magic bytes).
    pub fn open(&self) -> Result<Box<dyn BufRead + Send>, RunError> {
        self.open_counted(Arc::new(AtomicU64::new(0)))
    }

    /// Like [`Input::open`], adding every byte read from the file (compressed size for gzip)
    /// to `bytes_read`, for progress reporting.
    pub fn open_counted(
        &self,
        bytes_read: Arc<AtomicU64>,
    ) -> Result<Box<dyn BufRead + Send>, RunError> {
        let raw: Box<dyn Read + Send> = match self {
            Input::Stdin => Box::new(CountingReader {
                inner: std::io::stdin(),
                count: bytes_read,
            }),
            Input::File(p) => {
                let f = File::open(p)
                    .map_err(|e| RunError::io(format!("cannot open {}", p.display()), e))?;
                Box::new(CountingReader {
                    inner: f,
                    count: bytes_read,
                })
            }
        };
        let mut buffered = BufReader::with_capacity(1 << 20, raw);
        let is_gzip = buffered
            .fill_buf()
            .map_err(|e| RunError::io(format!("cannot read {}", self.name()), e))?
            .starts_with(&[0x1f, 0x8b]);
        if is_gzip {
            Ok(Box::new(BufReader::with_capacity(
                1 << 20,
                flate2::bufread::MultiGzDecoder::new(buffered),
            )))
        } else {
            Ok(Box::new(buffered))
        }
    }
}

/// Counts the bytes read through it.
struct CountingReader<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Which layout to read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// Long when the header has `test_code` and `value`, else wide.
    Auto,
    Wide,
    Long,
    /// FHIR R4 NDJSON (`Observation`, `Patient`, `Bundle` resources).
    Fhir,
    /// HL7 v2 ORU^R01 messages.
    Hl7,
}

/// What the FHIR and HL7 v2 readers count besides their results.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InterchangeCounts {
    /// FHIR `Patient` resources read (not results: outside the ledger).
    pub patients_read: u64,
    /// Preliminary results (FHIR status `preliminary`, HL7 OBX-11 `P`), used and counted.
    pub preliminary: u64,
    /// Resources of other types (FHIR) or messages without results (HL7): not results.
    pub other: u64,
}

/// The outcomes of an input read from bytes in memory ([`fhir::read_fhir_bytes`],
/// [`hl7::read_hl7_bytes`]).
#[derive(Debug)]
pub struct BytesRead {
    pub outcomes: Vec<RowOutcome>,
    pub counts: InterchangeCounts,
}

impl BytesRead {
    /// Every outcome of a reader over bytes in memory, and what it counted.
    pub(crate) fn drain(
        mut reader: InputReader,
        rs: &crate::ruleset::Ruleset,
    ) -> Result<BytesRead, RunError> {
        let mut outcomes = Vec::new();
        while reader.next_batch(8192, rs, &mut outcomes)? {}
        Ok(BytesRead {
            outcomes,
            counts: reader.interchange_counts().unwrap_or_default(),
        })
    }

    /// Results read: used in panels + rejected + not attached (the ledger's left side).
    pub fn results_read(&self) -> u64 {
        self.outcomes
            .iter()
            .map(|o| match o {
                RowOutcome::Panel(p) => p.rows_used,
                RowOutcome::Reject(_) | RowOutcome::NotAttached(_) => 1,
            })
            .sum()
    }
}

/// Adds a FHIR input's own Patient resources to `all` (other inputs: nothing).
pub fn add_patients(all: &mut fhir::Patients, reader: &InputReader) {
    if let InputReader::Fhir(f) = reader {
        all.extend_from(f.own_patients());
    }
}

/// Gives a FHIR input the Patients of every input of the run (other inputs: nothing).
pub fn give_patients(reader: &mut InputReader, all: &Arc<fhir::Patients>) {
    if let InputReader::Fhir(f) = reader {
        f.set_patients(all.clone());
    }
}

/// Whether a file (gzip or not) holds FHIR NDJSON, by its first bytes.
pub fn is_fhir_file(path: &std::path::Path) -> bool {
    Input::File(path.to_path_buf())
        .open()
        .ok()
        .and_then(|mut r| {
            r.fill_buf()
                .ok()
                .map(|h| sniff_interchange(h) == Some(Layout::Fhir))
        })
        .unwrap_or(false)
}

/// FHIR NDJSON or HL7 v2, by the first non-blank bytes: `{` then `"resourceType"` on the
/// first line; `MSH`, `FHS` or `BHS` then a field separator, or the MLLP start byte 0x0B.
fn sniff_interchange(head: &[u8]) -> Option<Layout> {
    let head = head.strip_prefix(&[0xef, 0xbb, 0xbf]).unwrap_or(head);
    let start = head.iter().position(|b| !b.is_ascii_whitespace())?;
    let head = &head[start..];
    if head.first() == Some(&0x0b) {
        return Some(Layout::Hl7);
    }
    if head.len() > 3
        && [&b"MSH"[..], b"FHS", b"BHS"].contains(&&head[..3])
        && head[3].is_ascii_punctuation()
    {
        return Some(Layout::Hl7);
    }
    if head.first() == Some(&b'{') {
        let first_line = head.split(|b| *b == b'\n').next().unwrap_or(head);
        if memchr::memmem::find(first_line, b"\"resourceType\"").is_some() {
            return Some(Layout::Fhir);
        }
    }
    None
}

/// Ingest settings shared by every input of a run.
#[derive(Clone, Debug)]
pub struct IngestOptions {
    pub layout: Layout,
    pub mapping: Option<Mapping>,
    pub panel_window_days: f64,
    pub decimal: Decimal,
    /// How delimited text is decoded (`--encoding`; strict UTF-8 by default).
    pub encoding: TextEncoding,
    /// Bytes read from all inputs so far (progress).
    pub bytes_read: Arc<AtomicU64>,
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            layout: Layout::Auto,
            mapping: None,
            panel_window_days: 7.0,
            decimal: Decimal::Auto,
            encoding: TextEncoding::Utf8,
            bytes_read: Arc::new(AtomicU64::new(0)),
        }
    }
}

/// A reader of either layout.
pub enum InputReader {
    Wide(Box<WideReader>),
    Long(Box<LongReader>),
    Columnar(Box<columnar::ColumnarReader>),
    Fhir(Box<fhir::FhirReader>),
    Hl7(Box<hl7::Hl7Reader>),
}

impl InputReader {
    /// Opens an input, detects (or applies) its layout and resolves its header. Configuration
    /// problems surface here, before any data row is read.
    pub fn open(
        index: usize,
        input: &Input,
        rs: &crate::ruleset::Ruleset,
        opts: &IngestOptions,
    ) -> Result<InputReader, RunError> {
        let name = input.name();
        if let Input::File(path) = input {
            if let Some(kind) = sniff_columnar(path) {
                return Ok(InputReader::Columnar(Box::new(
                    columnar::ColumnarReader::open_file(
                        index,
                        name,
                        path,
                        kind,
                        rs,
                        opts.mapping.as_ref(),
                        opts.decimal,
                    )?,
                )));
            }
        }
        let mut buffered = input.open_counted(opts.bytes_read.clone())?;
        if *input == Input::Stdin {
            let head = buffered
                .fill_buf()
                .map_err(|e| RunError::io(format!("cannot read {name}"), e))?;
            if let Some(kind) = columnar::ColumnarKind::sniff(head) {
                return Ok(InputReader::Columnar(Box::new(
                    columnar::ColumnarReader::open_spooled(
                        index,
                        name,
                        buffered,
                        kind,
                        rs,
                        opts.mapping.as_ref(),
                        opts.decimal,
                    )?,
                )));
            }
        }
        let interchange = match opts.layout {
            Layout::Fhir | Layout::Hl7 => Some(opts.layout),
            Layout::Auto => {
                let head = buffered
                    .fill_buf()
                    .map_err(|e| RunError::io(format!("cannot read {name}"), e))?;
                sniff_interchange(head)
            }
            Layout::Wide | Layout::Long => None,
        };
        match interchange {
            Some(Layout::Fhir) => {
                return Ok(InputReader::Fhir(Box::new(fhir::FhirReader::open(
                    index, input, opts, buffered,
                )?)))
            }
            Some(_) => {
                return Ok(InputReader::Hl7(Box::new(hl7::Hl7Reader::open(
                    index, input, opts, buffered,
                )?)))
            }
            None => {}
        }
        InputReader::delimited(index, name, buffered, rs, opts)
    }

    /// Reads delimited text (wide or long layout) from `buffered`: the header now, the rows
    /// by [`InputReader::next_batch`].
    pub fn delimited(
        index: usize,
        name: String,
        buffered: Box<dyn BufRead + Send>,
        rs: &crate::ruleset::Ruleset,
        opts: &IngestOptions,
    ) -> Result<InputReader, RunError> {
        let mut lines = records::PhysicalLines::new(buffered);
        let header = records::read_header(&name, &mut lines, opts.encoding)?;
        let long = match opts.layout {
            Layout::Auto => long::is_long_header(&header.names),
            Layout::Long => true,
            Layout::Wide | Layout::Fhir | Layout::Hl7 => false,
        };
        let opened = OpenedInput {
            mark: opts.decimal.mark(header.delimiter),
            name,
            lines,
            header,
        };
        if long {
            Ok(InputReader::Long(Box::new(LongReader::from_header(
                index,
                opened,
                opts.mapping.as_ref(),
                opts.panel_window_days,
            )?)))
        } else {
            Ok(InputReader::Wide(Box::new(WideReader::from_header(
                index,
                opened,
                rs,
                opts.mapping.as_ref(),
            )?)))
        }
    }

    pub fn next_batch(
        &mut self,
        max: usize,
        rs: &crate::ruleset::Ruleset,
        out: &mut Vec<RowOutcome>,
    ) -> Result<bool, RunError> {
        match self {
            InputReader::Wide(r) => r.next_batch(max, rs, out),
            InputReader::Long(r) => r.next_batch(max, rs, out),
            InputReader::Columnar(r) => r.next_batch(max, rs, out),
            InputReader::Fhir(r) => r.next_batch(max, rs, out),
            InputReader::Hl7(r) => r.next_batch(max, rs, out),
        }
    }

    /// Lines that repeated the header (skipped, not data).
    pub fn header_repeats(&self) -> u64 {
        match self {
            InputReader::Wide(r) => r.header_repeats,
            InputReader::Long(r) => r.header_repeats,
            InputReader::Columnar(_) | InputReader::Fhir(_) | InputReader::Hl7(_) => 0,
        }
    }

    /// FHIR and HL7 v2: patients, preliminary results and other resources counted (known
    /// once the input is read).
    pub fn interchange_counts(&self) -> Option<InterchangeCounts> {
        match self {
            InputReader::Fhir(r) => Some(r.counts),
            InputReader::Hl7(r) => Some(r.counts),
            _ => None,
        }
    }

    pub fn layout_name(&self) -> &'static str {
        match self {
            InputReader::Wide(_) => "wide",
            InputReader::Long(_) => "long",
            InputReader::Columnar(_) => "wide",
            InputReader::Fhir(_) => "fhir",
            InputReader::Hl7(_) => "hl7",
        }
    }

    pub fn delimiter(&self) -> u8 {
        match self {
            InputReader::Wide(r) => r.delimiter,
            InputReader::Long(r) => r.delimiter,
            InputReader::Columnar(_) | InputReader::Fhir(_) | InputReader::Hl7(_) => 0,
        }
    }

    /// Ignored columns, each with why.
    pub fn ignored(&self) -> &[(String, String)] {
        match self {
            InputReader::Wide(r) => &r.header.ignored,
            InputReader::Long(r) => &r.ignored,
            InputReader::Columnar(r) => &r.header().ignored,
            InputReader::Fhir(_) | InputReader::Hl7(_) => &[],
        }
    }

    /// The file format of the input: `delimited`, `parquet`, `arrow`, `fhir-ndjson` or `hl7v2`.
    pub fn format_name(&self) -> &'static str {
        match self {
            InputReader::Columnar(r) => r.kind().map_or("frame", |k| k.name()),
            InputReader::Fhir(_) => "fhir-ndjson",
            InputReader::Hl7(_) => "hl7v2",
            _ => "delimited",
        }
    }
}

/// Every outcome of one delimited input held in memory, read to its end.
#[derive(Debug)]
pub struct ReadAll {
    pub outcomes: Vec<RowOutcome>,
    /// Lines that repeated the header (not data).
    pub header_repeats: u64,
}

/// Reads delimited text (wide or long layout, as `opts` says) from bytes: the door of the
/// fuzz targets and of tests that need no file.
pub fn read_delimited(
    name: &str,
    bytes: &[u8],
    rs: &crate::ruleset::Ruleset,
    opts: &IngestOptions,
) -> Result<ReadAll, RunError> {
    let buffered: Box<dyn BufRead + Send> = Box::new(std::io::Cursor::new(bytes.to_vec()));
    let mut reader = InputReader::delimited(0, name.to_string(), buffered, rs, opts)?;
    let mut outcomes = Vec::new();
    while reader.next_batch(4096, rs, &mut outcomes)? {}
    Ok(ReadAll {
        outcomes,
        header_repeats: reader.header_repeats(),
    })
}

/// Parquet or Arrow IPC, by the file's first bytes (not its extension).
fn sniff_columnar(path: &std::path::Path) -> Option<columnar::ColumnarKind> {
    let mut head = [0u8; 8];
    let mut f = File::open(path).ok()?;
    let n = f.read(&mut head).ok()?;
    columnar::ColumnarKind::sniff(&head[..n])
}

/// An input whose header line has been read and split.
pub(crate) struct OpenedInput {
    pub name: String,
    pub lines: records::PhysicalLines,
    pub header: records::Header,
    pub mark: DecimalMark,
}

impl OpenedInput {
    /// Comma-delimited UTF-8 text held in memory (a frame written out as its export, or the
    /// header of results another reader produces), header line first.
    pub(crate) fn from_text(
        name: String,
        text: Vec<u8>,
        decimal: Decimal,
    ) -> Result<OpenedInput, RunError> {
        let mut lines = records::PhysicalLines::new(Box::new(std::io::Cursor::new(text)));
        let header = records::read_header(&name, &mut lines, TextEncoding::Utf8)?;
        Ok(OpenedInput {
            mark: decimal.mark(header.delimiter),
            name,
            lines,
            header,
        })
    }
}

/// How numbers write their decimals (`--decimal`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Decimal {
    /// `.` in a `,`-delimited file; otherwise not settled: a value that could be read two
    /// ways is never guessed.
    #[default]
    Auto,
    Point,
    Comma,
}

impl Decimal {
    /// The decimal mark of a file with this delimiter.
    pub fn mark(self, delimiter: u8) -> DecimalMark {
        match self {
            Decimal::Point => DecimalMark::Point,
            Decimal::Comma => DecimalMark::Comma,
            Decimal::Auto if delimiter == b',' => DecimalMark::Point,
            Decimal::Auto => DecimalMark::Unsettled,
        }
    }
}

/// Picks the delimiter among `,` `;` tab `|`: the one occurring most often outside quotes
/// in the header line (ties go to the earlier one).
pub fn detect_delimiter(header: &[u8]) -> u8 {
    let candidates = [b',', b';', b'\t', b'|'];
    let mut counts = [0usize; 4];
    let mut in_quotes = false;
    for &b in header {
        if b == b'"' {
            in_quotes = !in_quotes;
        } else if !in_quotes {
            if let Some(i) = candidates.iter().position(|c| *c == b) {
                counts[i] += 1;
            }
        }
    }
    let mut best = 0;
    for i in 1..4 {
        if counts[i] > counts[best] {
            best = i;
        }
    }
    candidates[best]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delimiter_detection() {
        assert_eq!(detect_delimiter(b"patient_id,hb_g_dl"), b',');
        assert_eq!(detect_delimiter(b"patient_id;hb_g_dl;\"a,b\""), b';');
        assert_eq!(detect_delimiter(b"patient_id\thb_g_dl"), b'\t');
        assert_eq!(detect_delimiter(b"patient_id|hb_g_dl|mcv_fl"), b'|');
        assert_eq!(detect_delimiter(b"patient_id"), b',');
    }
}
