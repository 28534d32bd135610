//! Physical line numbers of records. The csv crate reports a record's position at the end of
//! the previous record (before skipped blank lines and the `\n` of a CRLF), so line numbers
//! are taken from an index of line starts kept by the reader that feeds the csv parser.
//! The index only holds line starts not yet passed by the parser: memory stays bounded.

use std::collections::VecDeque;
use std::io::{BufRead, Cursor, Read};
use std::sync::{Arc, Mutex};

#[derive(Default)]
struct State {
    /// (byte offset, line number) of line starts whose first byte is not a line terminator.
    starts: VecDeque<(u64, u64)>,
    offset: u64,
    line: u64,
    /// The previous byte was `\n`: the next byte starts a line.
    at_line_start: bool,
}

/// Shared handle to look up the line of a record.
#[derive(Clone)]
pub struct LineIndex(Arc<Mutex<State>>);

impl LineIndex {
    /// Physical line (1-based) of the first line starting at or after `byte` with content.
    /// Entries before `byte` are dropped: records are looked up in order.
    pub fn line_at(&self, byte: u64) -> u64 {
        let Ok(mut s) = self.0.lock() else { return 0 };
        while s.starts.front().is_some_and(|(off, _)| *off < byte) {
            s.starts.pop_front();
        }
        s.starts.front().map_or(s.line, |(_, line)| *line)
    }
}

impl LineIndex {
    /// Lines read so far (where a read error happened).
    pub fn lines_read(&self) -> u64 {
        self.0.lock().map_or(0, |s| s.line)
    }
}

/// Reads the next record; returns its physical line, or None at the end of the input. A read
/// error names the file and the line where reading stopped.
pub fn next_record<R: Read>(
    reader: &mut csv::Reader<R>,
    record: &mut csv::ByteRecord,
    index: &LineIndex,
    file: &str,
) -> Result<Option<u64>, crate::error::RunError> {
    let more = reader
        .read_byte_record(record)
        .map_err(|e| crate::error::RunError::Read {
            file: file.to_string(),
            line: e
                .position()
                .map_or_else(|| index.lines_read(), |p| index.line_at(p.byte())),
            message: format!("cannot read: {e}"),
        })?;
    Ok(more.then(|| record.position().map_or(0, |p| index.line_at(p.byte()))))
}

/// The csv reader of one input, continuing after its already read header line, with the
/// index of its line starts. The header line is chained back in front so csv positions
/// count physical lines from 1.
pub fn csv_reader(
    header_line: Vec<u8>,
    rest: Box<dyn BufRead + Send>,
    delimiter: u8,
) -> (csv::Reader<Box<dyn Read + Send>>, LineIndex) {
    let chained: Box<dyn Read + Send> = Box::new(Cursor::new(header_line).chain(ReadAdapter(rest)));
    let (tracked, line_index) = LineTracked::new(chained);
    let reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(true)
        .flexible(true)
        .from_reader(Box::new(tracked) as Box<dyn Read + Send>);
    (reader, line_index)
}

/// The fields of a record as text (invalid UTF-8 replaced), appended to `out`.
/// Sets `out` to the fields of `record`, reusing the strings `out` already holds (no
/// allocation per field once the buffers have grown).
pub fn fields_into(record: &csv::ByteRecord, out: &mut Vec<String>) {
    out.truncate(record.len());
    for (i, f) in record.iter().enumerate() {
        let text = String::from_utf8_lossy(f);
        match out.get_mut(i) {
            Some(s) => {
                s.clear();
                s.push_str(&text);
            }
            None => out.push(text.into_owned()),
        }
    }
}

pub fn fields_of(record: &csv::ByteRecord, out: &mut Vec<String>) {
    out.extend(
        record
            .iter()
            .map(|f| String::from_utf8_lossy(f).into_owned()),
    );
}

/// Adapts a boxed `BufRead` to `Read` for chaining.
struct ReadAdapter(Box<dyn BufRead + Send>);

impl Read for ReadAdapter {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.read(buf)
    }
}

/// A reader that records line starts as bytes pass through it.
pub struct LineTracked<R> {
    inner: R,
    index: LineIndex,
}

impl<R: Read> LineTracked<R> {
    pub fn new(inner: R) -> (LineTracked<R>, LineIndex) {
        let index = LineIndex(Arc::new(Mutex::new(State {
            line: 1,
            at_line_start: true,
            ..State::default()
        })));
        (
            LineTracked {
                inner,
                index: index.clone(),
            },
            index,
        )
    }
}

impl<R: Read> Read for LineTracked<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Ok(mut s) = self.index.0.lock() {
            // A line starts after every `\n`; it is recorded when its first byte is neither
            // `\n` nor `\r` (blank lines are not data). Newlines are found with memchr.
            let data = &buf[..n];
            let mut pos = 0;
            loop {
                if s.at_line_start && pos < n && data[pos] != b'\n' && data[pos] != b'\r' {
                    let (offset, line) = (s.offset + pos as u64, s.line);
                    s.starts.push_back((offset, line));
                }
                match memchr::memchr(b'\n', &data[pos..]) {
                    Some(k) => {
                        s.line += 1;
                        s.at_line_start = true;
                        pos += k + 1;
                    }
                    None => {
                        if pos < n {
                            s.at_line_start = false;
                        }
                        break;
                    }
                }
            }
            s.offset += n as u64;
        }
        Ok(n)
    }
}

/// What a physical data line is before it is read as a row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineKind {
    /// Only spaces, tabs and delimiters (as spreadsheets leave at the end of an export).
    Blank,
    /// The header line again (exports concatenated with their headers): not data.
    RepeatedHeader,
    Data,
}

/// Classifies a record's fields against the file's header names (trimmed).
pub fn line_kind(fields: &[String], header: &[String]) -> LineKind {
    if fields.iter().all(|f| f.trim().is_empty()) {
        return LineKind::Blank;
    }
    let same = fields.len() == header.len()
        && fields.iter().zip(header).all(|(f, h)| {
            f.trim_start_matches('\u{feff}')
                .trim()
                .eq_ignore_ascii_case(h.trim_start_matches('\u{feff}').trim())
        });
    if same {
        LineKind::RepeatedHeader
    } else {
        LineKind::Data
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(data: &[u8]) -> Vec<(u64, Vec<String>)> {
        let (tracked, index) = LineTracked::new(data);
        let mut r = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(tracked);
        let mut rec = csv::ByteRecord::new();
        let mut out = Vec::new();
        while r.read_byte_record(&mut rec).unwrap() {
            let line = index.line_at(rec.position().map_or(0, |p| p.byte()));
            out.push((
                line,
                rec.iter()
                    .map(|f| String::from_utf8_lossy(f).into_owned())
                    .collect(),
            ));
        }
        out
    }

    #[test]
    fn physical_lines_with_crlf_blank_lines_and_quoted_newlines() {
        let crlf = lines(b"h1,h2\r\nP01,1\r\n\r\n\r\nP02\r\n\"x\r\ny\",2\r\nP9,1\r\n");
        let numbers: Vec<u64> = crlf.iter().map(|(l, _)| *l).collect();
        assert_eq!(numbers, vec![1, 2, 5, 6, 8]);
        assert_eq!(crlf[3].1, vec!["x\r\ny".to_string(), "2".to_string()]);
        let lf = lines(b"h\nP01\n\nP02\n\"a\nb\"\nP9");
        let numbers: Vec<u64> = lf.iter().map(|(l, _)| *l).collect();
        assert_eq!(numbers, vec![1, 2, 4, 5, 7]);
    }
}
