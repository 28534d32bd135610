//! Physical lines and records of delimited text, as hostile exports write them.
//!
//! - Lines end with LF, CRLF or a lone CR; each physical line has its own number.
//! - A line holds at most [`MAX_LINE_BYTES`]: a longer one is skipped to its end without being
//!   kept (a data line is rejected as `malformed_line`, a header is a configuration error).
//! - A quoted field may span lines. Such a record is kept only when its quotes close within
//!   [`MAX_RECORD_LINES`] lines and it has the header's field count; otherwise it is split
//!   back into its physical lines, each read on its own, so a stray quote costs its own line
//!   and never swallows the rows after it.
//! - A line of only spaces, tabs and delimiters is blank, not data.
//! - Bytes are decoded in the input's [`TextEncoding`]; a data line invalid in it is rejected
//!   as `invalid_encoding`, never repaired into another value.
//!
//! The field splitter follows the csv crate's reading of quotes: a quote opens a quoted field
//! only at the start of a field, `""` inside it is one quote, and text after a closing quote
//! is appended to the field.

use std::collections::VecDeque;
use std::io::{self, BufRead};

use crate::error::{ConfigError, RunError};
use crate::ingest::RejectReason;

/// Longest physical line kept (header or data), in bytes.
pub const MAX_LINE_BYTES: usize = 1 << 20;
/// Most columns a header may name.
pub const MAX_HEADER_COLUMNS: usize = 4096;
/// Most physical lines one quoted record may span before it is read as separate lines.
pub const MAX_RECORD_LINES: usize = 1000;

/// How the bytes of an input are read as text (`--encoding`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TextEncoding {
    /// Strict UTF-8 (a UTF-8 BOM is skipped).
    #[default]
    Utf8,
    /// ISO 8859-1: every byte is the code point of the same number.
    Latin1,
    /// A single-byte, ASCII-compatible encoding of the WHATWG Encoding Standard
    /// (`windows-1252`, `iso-8859-15`, ...).
    Legacy(&'static encoding_rs::Encoding),
}

impl TextEncoding {
    /// Parses an `--encoding` name; an encoding that is not ASCII-compatible byte by byte
    /// (UTF-16, Shift_JIS, GBK, ...) is refused: delimiters and quotes could not be found
    /// in its bytes.
    pub fn from_label(label: &str) -> Result<TextEncoding, String> {
        let l = label.trim().to_ascii_lowercase();
        if matches!(
            l.as_str(),
            "latin-1" | "latin1" | "iso-8859-1" | "iso8859-1" | "l1"
        ) {
            return Ok(TextEncoding::Latin1);
        }
        let Some(enc) = encoding_rs::Encoding::for_label(l.as_bytes()) else {
            return Err(format!(
                "unknown encoding {label:?}; use utf-8, windows-1252, latin-1 or another WHATWG encoding label"
            ));
        };
        if enc == encoding_rs::UTF_8 {
            return Ok(TextEncoding::Utf8);
        }
        let multi_byte = [
            encoding_rs::SHIFT_JIS,
            encoding_rs::EUC_JP,
            encoding_rs::EUC_KR,
            encoding_rs::GBK,
            encoding_rs::GB18030,
            encoding_rs::BIG5,
        ];
        if !enc.is_ascii_compatible() || multi_byte.contains(&enc) {
            return Err(format!(
                "encoding {label:?} is not supported: its bytes can hide delimiters and quotes; convert the export to UTF-8"
            ));
        }
        Ok(TextEncoding::Legacy(enc))
    }

    /// The name shown in messages and the summary.
    pub fn name(self) -> &'static str {
        match self {
            TextEncoding::Utf8 => "utf-8",
            TextEncoding::Latin1 => "latin-1",
            TextEncoding::Legacy(e) => e.name(),
        }
    }

    /// `bytes` as text: borrowed when they are UTF-8 text already, else decoded into
    /// `scratch` (cleared first). Err: the offset of the first byte invalid in this encoding.
    pub fn decode<'a>(self, bytes: &'a [u8], scratch: &'a mut String) -> Result<&'a str, usize> {
        if self == TextEncoding::Utf8 {
            return std::str::from_utf8(bytes).map_err(|e| e.valid_up_to());
        }
        scratch.clear();
        self.decode_into(bytes, scratch)?;
        Ok(scratch)
    }

    /// Appends `bytes` decoded to `out`. Err: the offset of the first byte invalid in this
    /// encoding (`out` then holds a lossy reading, for counting fields only).
    pub fn decode_into(self, bytes: &[u8], out: &mut String) -> Result<(), usize> {
        match self {
            TextEncoding::Utf8 => match std::str::from_utf8(bytes) {
                Ok(s) => {
                    out.push_str(s);
                    Ok(())
                }
                Err(e) => {
                    out.push_str(&String::from_utf8_lossy(bytes));
                    Err(e.valid_up_to())
                }
            },
            TextEncoding::Latin1 => {
                out.extend(bytes.iter().map(|&b| char::from(b)));
                Ok(())
            }
            TextEncoding::Legacy(enc) => {
                let (text, had_errors) = enc.decode_without_bom_handling(bytes);
                out.push_str(&text);
                if !had_errors {
                    return Ok(());
                }
                // Single-byte encoding: the first byte that does not decode alone.
                let bad = bytes
                    .iter()
                    .position(|b| enc.decode_without_bom_handling(&[*b]).1)
                    .unwrap_or(0);
                Err(bad)
            }
        }
    }
}

/// `bytes` as text with every byte that is not valid UTF-8 written `\xNN`: a rejected line's
/// raw fields, without a replacement character that could make two values equal.
pub fn escape_invalid_utf8(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02X}"));
        }
    }
    out
}

/// One physical line: its bytes without the terminator, and the terminator.
#[derive(Debug, Default)]
struct PhysLine {
    number: u64,
    bytes: Vec<u8>,
    terminator: &'static [u8],
    /// Longer than [`MAX_LINE_BYTES`]: `bytes` holds only its start.
    too_long: bool,
}

/// The physical lines of an input, numbered from 1.
pub struct PhysicalLines {
    inner: Box<dyn BufRead + Send>,
    next_number: u64,
    /// A CR ended the last chunk: a LF first in the next one belongs to it.
    pending_cr: bool,
}

impl PhysicalLines {
    pub fn new(inner: Box<dyn BufRead + Send>) -> PhysicalLines {
        PhysicalLines {
            inner,
            next_number: 1,
            pending_cr: false,
        }
    }

    /// Lines read so far.
    pub fn lines_read(&self) -> u64 {
        self.next_number - 1
    }

    /// The next line (at most `max` bytes kept), or None at the end of the input.
    fn read(&mut self, max: usize) -> io::Result<Option<PhysLine>> {
        self.read_into(max, PhysLine::default())
    }

    /// [`Self::read`] into the buffer of a line already read (one allocation per input, not
    /// per line).
    fn read_into(&mut self, max: usize, mut line: PhysLine) -> io::Result<Option<PhysLine>> {
        line.bytes.clear();
        line.terminator = b"";
        line.too_long = false;
        let mut any = false;
        loop {
            let chunk = match self.inner.fill_buf() {
                Ok(c) => c,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if self.pending_cr {
                self.pending_cr = false;
                let lf = chunk.first() == Some(&b'\n');
                if lf {
                    self.inner.consume(1);
                }
                line.terminator = if lf { b"\r\n" } else { b"\r" };
                return Ok(Some(self.numbered(line)));
            }
            if chunk.is_empty() {
                return Ok(any.then(|| self.numbered(line)));
            }
            any = true;
            match memchr::memchr2(b'\n', b'\r', chunk) {
                Some(i) => {
                    keep(&mut line, &chunk[..i], max);
                    let lf = chunk[i] == b'\n';
                    self.inner.consume(i + 1);
                    if lf {
                        line.terminator = b"\n";
                        return Ok(Some(self.numbered(line)));
                    }
                    self.pending_cr = true;
                }
                None => {
                    let n = chunk.len();
                    keep(&mut line, chunk, max);
                    self.inner.consume(n);
                }
            }
        }
    }

    fn numbered(&mut self, mut line: PhysLine) -> PhysLine {
        line.number = self.next_number;
        self.next_number = self.next_number.saturating_add(1);
        line
    }
}

fn keep(line: &mut PhysLine, part: &[u8], max: usize) {
    let room = max.saturating_sub(line.bytes.len());
    if part.len() > room {
        line.too_long = true;
    }
    line.bytes.extend_from_slice(&part[..part.len().min(room)]);
}

/// Only spaces, tabs and delimiters (or nothing).
fn is_blank(bytes: &[u8], delimiter: u8) -> bool {
    bytes
        .iter()
        .all(|b| *b == b' ' || *b == b'\t' || *b == delimiter)
}

/// Where a quote scan stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Quote {
    FieldStart,
    Unquoted,
    Quoted,
    /// A quote inside a quoted field: closing, or the first of `""`.
    ClosingOrDoubled,
}

fn scan(bytes: &[u8], delimiter: u8, mut state: Quote) -> Quote {
    for &b in bytes {
        state = match (state, b) {
            (Quote::FieldStart, b'"') => Quote::Quoted,
            (Quote::Quoted, b'"') => Quote::ClosingOrDoubled,
            (Quote::Quoted, _) => Quote::Quoted,
            (Quote::ClosingOrDoubled, b'"') => Quote::Quoted,
            (_, d) if d == delimiter => Quote::FieldStart,
            _ => Quote::Unquoted,
        };
    }
    state
}

/// Quoted as RFC 4180 writes it: a quote only opens a field, and a closing quote is followed
/// by a delimiter or the end. A record spanning lines must be so to hold together: two stray
/// quotes on two lines (`P1,"S1,...` / `P2,"S2,...`) would otherwise make one record of them.
fn well_quoted(bytes: &[u8], delimiter: u8) -> bool {
    let mut state = Quote::FieldStart;
    for &b in bytes {
        state = match (state, b) {
            (Quote::FieldStart, b'"') => Quote::Quoted,
            (Quote::Quoted, b'"') => Quote::ClosingOrDoubled,
            (Quote::Quoted, _) => Quote::Quoted,
            (Quote::ClosingOrDoubled, b'"') => Quote::Quoted,
            (_, d) if d == delimiter => Quote::FieldStart,
            (Quote::ClosingOrDoubled, _) | (Quote::Unquoted, b'"') => return false,
            _ => Quote::Unquoted,
        };
    }
    state != Quote::Quoted
}

/// Splits one record's text into fields (quotes removed, `""` read as `"`), reusing the
/// strings `out` already holds.
pub fn split_fields(text: &str, delimiter: u8, out: &mut Vec<String>) {
    let bytes = text.as_bytes();
    if memchr::memchr(b'"', bytes).is_none() {
        // Most lines: no quotes, the fields are the pieces between delimiters.
        if delimiter.is_ascii() {
            // Cut with memchr (an ASCII delimiter never splits a character).
            let mut start = 0;
            let ends = memchr::memchr_iter(delimiter, bytes).chain(std::iter::once(bytes.len()));
            set_fields(
                ends.map(|end| {
                    let piece = text.get(start..end).unwrap_or("");
                    start = end + 1;
                    piece
                }),
                out,
            );
        } else {
            set_fields(text.split(char::from(delimiter)), out);
        }
        return;
    }
    let delimiter = char::from(delimiter);
    let mut n = 0;
    let mut state = Quote::FieldStart;
    let next = |out: &mut Vec<String>, n: &mut usize| {
        if *n == out.len() {
            out.push(String::new());
        } else {
            out[*n].clear();
        }
        *n += 1;
    };
    next(out, &mut n);
    for c in text.chars() {
        let field = &mut out[n - 1];
        state = match (state, c) {
            (Quote::FieldStart, '"') => Quote::Quoted,
            (Quote::Quoted, '"') => Quote::ClosingOrDoubled,
            (Quote::Quoted, c) => {
                field.push(c);
                Quote::Quoted
            }
            (Quote::ClosingOrDoubled, '"') => {
                field.push('"');
                Quote::Quoted
            }
            (_, d) if d == delimiter => {
                next(out, &mut n);
                Quote::FieldStart
            }
            (_, c) => {
                field.push(c);
                Quote::Unquoted
            }
        };
    }
    out.truncate(n);
}

/// Puts `pieces` into `out`, reusing the strings it holds.
pub(crate) fn set_fields<'a>(pieces: impl Iterator<Item = &'a str>, out: &mut Vec<String>) {
    let mut n = 0;
    for piece in pieces {
        match out.get_mut(n) {
            Some(f) => {
                f.clear();
                f.push_str(piece);
            }
            None => out.push(piece.to_string()),
        }
        n += 1;
    }
    out.truncate(n);
}

/// What the next record of an input is.
#[derive(Debug, PartialEq, Eq)]
pub enum Item {
    /// A record whose fields were read; its first physical line.
    Fields { line: u64 },
    /// A line that cannot be read as fields: too long or invalid in the encoding.
    Bad(BadLine),
}

/// A line rejected before its fields are read.
#[derive(Debug, PartialEq, Eq)]
pub struct BadLine {
    pub line: u64,
    pub reason: RejectReason,
    pub message: String,
    /// The line as far as it was kept, invalid bytes written `\xNN`.
    pub raw: String,
}

/// The records of one delimited input after its header.
pub struct Records {
    lines: PhysicalLines,
    name: String,
    delimiter: u8,
    /// The header's field count: a multi-line record must have it to hold together.
    n_fields: usize,
    encoding: TextEncoding,
    /// Lines read ahead by a quoted record that did not hold together, to be read again.
    pending: VecDeque<PhysLine>,
    text: String,
    /// The buffer of the last line read on its own, reused for the next.
    spare: Option<PhysLine>,
}

/// The header of a delimited input.
pub struct Header {
    /// Physical line of the header (the first non-blank line).
    pub line: u64,
    /// The header's text, decoded, BOM removed.
    pub text: String,
    pub delimiter: u8,
    pub names: Vec<String>,
    /// The encoding the rest of the input is read in (UTF-8 when the file has a UTF-8 BOM).
    pub encoding: TextEncoding,
}

fn input_error(name: &str, message: String) -> RunError {
    ConfigError::Input {
        file: name.to_string(),
        message,
    }
    .into()
}

fn read_error(name: &str, line: u64) -> impl Fn(io::Error) -> RunError + '_ {
    move |e| RunError::Read {
        file: name.to_string(),
        line,
        message: format!("cannot read: {e}"),
    }
}

/// Reads the header (the first non-blank line) of an input: at most [`MAX_LINE_BYTES`] and
/// [`MAX_HEADER_COLUMNS`] columns, text in `encoding`, no control characters. Messages name
/// the file and the limit, never the header's content (a headerless export's first line is
/// patient data).
pub fn read_header(
    name: &str,
    lines: &mut PhysicalLines,
    encoding: TextEncoding,
) -> Result<Header, RunError> {
    let mut encoding = encoding;
    let line = loop {
        let Some(mut line) = lines
            .read(MAX_LINE_BYTES)
            .map_err(read_error(name, lines.lines_read() + 1))?
        else {
            return Err(input_error(name, "the file is empty: a header line naming the columns (patient_id, hb_g_dl, ...) is required".into()));
        };
        if line.number == 1 {
            if line.bytes.starts_with(&[0xef, 0xbb, 0xbf]) {
                line.bytes.drain(..3);
                encoding = TextEncoding::Utf8;
            } else if line.bytes.starts_with(&[0xff, 0xfe]) || line.bytes.starts_with(&[0xfe, 0xff])
            {
                return Err(input_error(name, "the file is UTF-16 text (it starts with a UTF-16 byte order mark): save the export as UTF-8 CSV".into()));
            }
        }
        if line.too_long {
            return Err(input_error(
                name,
                format!(
                    "line {}: the header line is longer than {} bytes (the limit): this is not a delimited text export, or its lines do not end",
                    line.number, MAX_LINE_BYTES
                ),
            ));
        }
        if !line.bytes.iter().all(u8::is_ascii_whitespace) {
            break line;
        }
    };
    let control = line
        .bytes
        .iter()
        .any(|b| *b == 0 || (*b < 0x20 && *b != b'\t') || *b == 0x7f);
    let mut text = String::new();
    let decoded = encoding.decode_into(&line.bytes, &mut text);
    if control || (decoded.is_err() && encoding == TextEncoding::Utf8) {
        let hint = if control {
            ""
        } else {
            ", or name its encoding with --encoding (e.g. --encoding windows-1252)"
        };
        return Err(input_error(
            name,
            format!("line {} holds binary data or is not UTF-8 text: this is not a delimited text export; export the results as UTF-8 CSV{hint}", line.number),
        ));
    }
    if let Err(offset) = decoded {
        return Err(input_error(
            name,
            format!(
                "line {}: byte {} of the header is not valid {}; name the export's encoding with --encoding",
                line.number,
                offset + 1,
                encoding.name()
            ),
        ));
    }
    let delimiter = super::detect_delimiter(text.as_bytes());
    let columns = text.bytes().filter(|b| *b == delimiter).count() + 1;
    if columns > MAX_HEADER_COLUMNS {
        return Err(input_error(
            name,
            format!(
                "line {}: the header names {columns} columns, more than the limit of {MAX_HEADER_COLUMNS}; is this the right file and delimiter?",
                line.number
            ),
        ));
    }
    let mut names = Vec::new();
    split_fields(&text, delimiter, &mut names);
    Ok(Header {
        line: line.number,
        text,
        delimiter,
        names,
        encoding,
    })
}

impl Records {
    /// The records after `header`, read from `lines`.
    pub fn new(name: &str, lines: PhysicalLines, header: &Header) -> Records {
        Records {
            lines,
            name: name.to_string(),
            delimiter: header.delimiter,
            n_fields: header.names.len(),
            encoding: header.encoding,
            pending: VecDeque::new(),
            text: String::new(),
            spare: None,
        }
    }

    fn take_line(&mut self) -> Result<Option<PhysLine>, RunError> {
        if let Some(l) = self.pending.pop_front() {
            return Ok(Some(l));
        }
        let next = self.lines.lines_read() + 1;
        let buffer = self.spare.take().unwrap_or_default();
        self.lines
            .read_into(MAX_LINE_BYTES, buffer)
            .map_err(read_error(&self.name, next))
    }

    /// Reads the next record's fields into `fields`; None at the end of the input. Blank
    /// lines are skipped.
    pub fn next(&mut self, fields: &mut Vec<String>) -> Result<Option<Item>, RunError> {
        loop {
            let Some(first) = self.take_line()? else {
                return Ok(None);
            };
            if first.too_long {
                let bad = self.too_long(&first);
                self.spare = Some(first);
                return Ok(Some(Item::Bad(bad)));
            }
            if is_blank(&first.bytes, self.delimiter) {
                self.spare = Some(first);
                continue;
            }
            if scan(&first.bytes, self.delimiter, Quote::FieldStart) != Quote::Quoted {
                let item = self.single(&first, fields);
                self.spare = Some(first);
                return Ok(Some(item));
            }
            let mut group = vec![first];
            if self.quoted_record(&mut group, fields)? {
                let line = group[0].number;
                return Ok(Some(match self.decode_group(&group) {
                    Ok(()) => Item::Fields { line },
                    Err(offset) => Item::Bad(self.invalid(&group, offset)),
                }));
            }
            // Split back: the first line alone, the others read again.
            let mut rest = group.drain(1..).collect::<Vec<_>>();
            while let Some(l) = rest.pop() {
                self.pending.push_front(l);
            }
            return Ok(Some(self.single(&group[0], fields)));
        }
    }

    /// Extends `group` (a first line ending inside quotes) until the quotes close; true when
    /// they close within the limits and the record has the header's field count (`fields`
    /// then holds them).
    fn quoted_record(
        &mut self,
        group: &mut Vec<PhysLine>,
        fields: &mut Vec<String>,
    ) -> Result<bool, RunError> {
        let mut bytes = group[0].bytes.len();
        loop {
            if group.len() >= MAX_RECORD_LINES || bytes > MAX_LINE_BYTES {
                return Ok(false);
            }
            let Some(next) = self.take_line()? else {
                return Ok(false);
            };
            let too_long = next.too_long;
            bytes = bytes.saturating_add(next.bytes.len());
            let state = scan(&next.bytes, self.delimiter, Quote::Quoted);
            group.push(next);
            if too_long {
                return Ok(false);
            }
            if state != Quote::Quoted {
                break;
            }
        }
        self.text.clear();
        let mut joined = Vec::with_capacity(bytes + group.len() * 2);
        for (i, l) in group.iter().enumerate() {
            if i > 0 {
                joined.extend_from_slice(group[i - 1].terminator);
            }
            joined.extend_from_slice(&l.bytes);
        }
        if !well_quoted(&joined, self.delimiter) {
            return Ok(false);
        }
        let _ = self.encoding.decode_into(&joined, &mut self.text);
        split_fields(&self.text, self.delimiter, fields);
        Ok(fields.len() == self.n_fields)
    }

    /// The decoding error of a held-together record, if any.
    fn decode_group(&self, group: &[PhysLine]) -> Result<(), usize> {
        let mut scratch = String::new();
        let mut offset = 0;
        for (i, l) in group.iter().enumerate() {
            if i > 0 {
                offset += group[i - 1].terminator.len();
            }
            self.encoding
                .decode_into(&l.bytes, &mut scratch)
                .map_err(|bad| offset + bad)?;
            offset += l.bytes.len();
        }
        Ok(())
    }

    /// One physical line read as a record on its own.
    fn single(&mut self, line: &PhysLine, fields: &mut Vec<String>) -> Item {
        // UTF-8 input is split where it lies, without a decoded copy.
        match self.encoding.decode(&line.bytes, &mut self.text) {
            Ok(text) => {
                split_fields(text, self.delimiter, fields);
                Item::Fields { line: line.number }
            }
            Err(offset) => Item::Bad(self.invalid(std::slice::from_ref(line), offset)),
        }
    }

    fn raw(&self, group: &[PhysLine]) -> String {
        let mut raw = Vec::new();
        for (i, l) in group.iter().enumerate() {
            if i > 0 {
                raw.extend_from_slice(group[i - 1].terminator);
            }
            raw.extend_from_slice(&l.bytes);
        }
        match self.encoding {
            TextEncoding::Utf8 => escape_invalid_utf8(&raw),
            other => {
                let mut s = String::new();
                let _ = other.decode_into(&raw, &mut s);
                s
            }
        }
    }

    fn invalid(&self, group: &[PhysLine], offset: usize) -> BadLine {
        let line = group[0].number;
        BadLine {
            line,
            reason: RejectReason::InvalidEncoding,
            message: format!(
                "{} line {line}: byte {} is not valid {}; the row was not read (a repaired byte could make two identifiers equal). If the export is not UTF-8, name its encoding with --encoding (e.g. --encoding windows-1252)",
                self.name,
                offset + 1,
                self.encoding.name()
            ),
            raw: self.raw(group),
        }
    }

    fn too_long(&self, line: &PhysLine) -> BadLine {
        BadLine {
            line: line.number,
            reason: RejectReason::MalformedLine,
            message: format!(
                "{} line {}: longer than {} bytes (the limit); the line was skipped. Check that the export's lines end",
                self.name, line.number, MAX_LINE_BYTES
            ),
            raw: String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(data: &[u8], n_fields: usize) -> Vec<(Option<u64>, Vec<String>)> {
        let mut lines = PhysicalLines::new(Box::new(io::Cursor::new(data.to_vec())));
        let header = read_header("t.csv", &mut lines, TextEncoding::Utf8).unwrap();
        assert_eq!(header.names.len(), n_fields);
        let mut r = Records::new("t.csv", lines, &header);
        let mut fields = Vec::new();
        let mut out = Vec::new();
        while let Some(item) = r.next(&mut fields).unwrap() {
            match item {
                Item::Fields { line } => out.push((Some(line), fields.clone())),
                Item::Bad(b) => out.push((None, vec![b.line.to_string(), b.reason.code().into()])),
            }
        }
        out
    }

    #[test]
    fn line_endings_blank_lines_and_quoted_newlines() {
        let lines = |data: &[u8]| -> Vec<u64> {
            records(data, 2).iter().map(|(l, _)| l.unwrap()).collect()
        };
        assert_eq!(
            lines(b"h1,h2\r\nP01,1\r\n\r\n \t,\r\nP02,\r\n\"x\r\ny\",2\r\nP9,1\r\n"),
            vec![2, 5, 6, 8]
        );
        assert_eq!(lines(b"h1,h2\rP01,1\r\rP02,2\rP03,3"), vec![2, 4, 5]);
        let r = records(b"h1,h2\n\"a\nb\",\"c\"\"d\"\n", 2);
        assert_eq!(r[0].1, vec!["a\nb".to_string(), "c\"d".to_string()]);
    }

    #[test]
    fn a_reused_line_buffer_keeps_nothing_of_the_line_before() {
        // A long line, then shorter ones, blank ones and a bad one, through the one buffer.
        let r = records(
            b"id,text,hb\nP0001,a long text cell,11.5\nP2,b,9\n,,\nP3,\xff,8\nP4,\"q\",7\r\nP5,c,6",
            3,
        );
        let got: Vec<(Option<u64>, Vec<String>)> = r;
        let row = |l: u64, f: [&str; 3]| (Some(l), f.iter().map(|s| s.to_string()).collect());
        assert_eq!(
            got,
            vec![
                row(2, ["P0001", "a long text cell", "11.5"]),
                row(3, ["P2", "b", "9"]),
                (None, vec!["5".to_string(), "invalid_encoding".to_string()]),
                row(6, ["P4", "q", "7"]),
                row(7, ["P5", "c", "6"]),
            ]
        );
    }

    #[test]
    fn a_stray_quote_costs_its_own_line() {
        let r = records(b"id,text,hb\nP1,\"open,11\nP2,ok,12\nP3,ok,13\n", 3);
        let lines: Vec<u64> = r.iter().map(|(l, _)| l.unwrap()).collect();
        assert_eq!(lines, vec![2, 3, 4]);
        assert_eq!(r[1].1, vec!["P2", "ok", "12"]);
    }

    #[test]
    fn stray_quotes_on_consecutive_lines_are_not_one_record() {
        let r = records(b"id,text,hb\nP1,\"a,11\nP2,\"b,12\nP3,ok,13\n", 3);
        let lines: Vec<u64> = r.iter().map(|(l, _)| l.unwrap()).collect();
        assert_eq!(lines, vec![2, 3, 4]);
        assert_eq!(r[0].1.len(), 2, "line 2 alone: its own (wrong) field count");
    }

    #[test]
    fn invalid_utf8_is_a_bad_line_with_escaped_raw() {
        let mut lines =
            PhysicalLines::new(Box::new(io::Cursor::new(b"id,hb\nM\xfcller,11\n".to_vec())));
        let header = read_header("t.csv", &mut lines, TextEncoding::Utf8).unwrap();
        let mut r = Records::new("t.csv", lines, &header);
        let mut fields = Vec::new();
        let Some(Item::Bad(bad)) = r.next(&mut fields).unwrap() else {
            panic!("bad line expected")
        };
        assert_eq!(bad.reason, RejectReason::InvalidEncoding);
        assert_eq!(bad.raw, "M\\xFCller,11");
        assert!(bad.message.contains("byte 2") && bad.message.contains("--encoding"));
        assert!(
            !bad.message.contains("ller"),
            "no identifier in the message"
        );
    }

    #[test]
    fn windows_1252_and_latin_1() {
        let mut out = String::new();
        TextEncoding::from_label("windows-1252")
            .unwrap()
            .decode_into(b"M\xfcller \x80", &mut out)
            .unwrap();
        assert_eq!(out, "Müller €");
        out.clear();
        TextEncoding::from_label("latin-1")
            .unwrap()
            .decode_into(b"M\xe4ller", &mut out)
            .unwrap();
        assert_eq!(out, "Mäller");
        assert!(TextEncoding::from_label("utf-16le").is_err());
        assert!(TextEncoding::from_label("shift_jis").is_err());
        assert!(TextEncoding::from_label("klingon").is_err());
    }
}
