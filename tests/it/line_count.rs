//! An independent count of an export's data lines, written apart from the engine's reader
//! (tests/it/hostile.rs and the fuzz targets compare the two; fuzz/ includes this file).

#![allow(dead_code)]

/// Splits bytes into physical lines (LF, CRLF or a lone CR end a line).
pub fn physical_lines(bytes: &[u8]) -> Vec<&[u8]> {
    let mut lines = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\n' => {
                lines.push(&bytes[start..i]);
                start = i + 1;
            }
            b'\r' => {
                lines.push(&bytes[start..i]);
                if bytes.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    if start < bytes.len() {
        lines.push(&bytes[start..]);
    }
    lines
}

/// Fields of a record (quotes only open a field at its start; `""` inside is a quote), and
/// whether it ends inside quotes.
pub fn fields(record: &[u8], delimiter: u8) -> (Vec<Vec<u8>>, bool) {
    let mut out = vec![Vec::new()];
    let mut quoted = false;
    let mut at_start = true;
    let mut i = 0;
    while i < record.len() {
        let b = record[i];
        if quoted {
            if b == b'"' {
                if record.get(i + 1) == Some(&b'"') {
                    if let Some(f) = out.last_mut() {
                        f.push(b'"');
                    }
                    i += 1;
                } else {
                    quoted = false;
                }
            } else {
                if let Some(f) = out.last_mut() {
                    f.push(b);
                }
            }
        } else if b == delimiter {
            out.push(Vec::new());
            at_start = true;
            i += 1;
            continue;
        } else if b == b'"' && at_start {
            quoted = true;
        } else {
            if let Some(f) = out.last_mut() {
                f.push(b);
            }
        }
        at_start = false;
        i += 1;
    }
    (out, quoted)
}

/// The number of data rows an export holds: physical lines after the header that are not
/// blank (spaces, tabs, delimiters), not a repeat of the header, and not continuation lines
/// of a well-formed quoted record (quotes closing within 1000 lines, the header's field
/// count). Lines are assumed shorter than the 1 MiB limit.
pub fn expected_rows(bytes: &[u8]) -> Option<u64> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let lines = physical_lines(bytes);
    let h = lines
        .iter()
        .position(|l| !l.iter().all(u8::is_ascii_whitespace))?;
    let header = lines[h];
    let delimiter = detect(header);
    let (names, _) = fields(header, delimiter);
    let norm = |f: &[u8]| {
        String::from_utf8_lossy(f)
            .trim_start_matches('\u{feff}')
            .trim()
            .to_ascii_lowercase()
    };
    let names: Vec<String> = names.iter().map(|n| norm(n)).collect();
    let blank = |l: &[u8]| {
        l.iter()
            .all(|b| *b == b' ' || *b == b'\t' || *b == delimiter)
    };
    let mut count = 0;
    let mut i = h + 1;
    while i < lines.len() {
        let line = lines[i];
        if blank(line) {
            i += 1;
            continue;
        }
        let mut next = i + 1;
        let (mut record_fields, open) = fields(line, delimiter);
        if open {
            let mut joined = line.to_vec();
            #[allow(clippy::needless_range_loop)] // j is the line number kept as `next`
            for j in i + 1..lines.len().min(i + 1000) {
                joined.push(b'\n');
                joined.extend_from_slice(lines[j]);
                let (f, still_open) = fields(&joined, delimiter);
                if !still_open {
                    if f.len() == names.len() && rfc_quoted(&joined, delimiter) {
                        record_fields = f;
                        next = j + 1;
                    }
                    break;
                }
            }
            if next == i + 1 {
                record_fields = fields(line, delimiter).0;
            }
        }
        let repeat = record_fields.len() == names.len()
            && record_fields.iter().zip(&names).all(|(f, n)| norm(f) == *n);
        if !repeat {
            count += 1;
        }
        i = next;
    }
    Some(count)
}

/// Quotes only at a field's start, and a closing quote followed by a delimiter or the end.
fn rfc_quoted(record: &[u8], delimiter: u8) -> bool {
    let mut quoted = false;
    let mut at_start = true;
    let mut i = 0;
    while i < record.len() {
        let b = record[i];
        if quoted {
            if b == b'"' {
                match record.get(i + 1) {
                    Some(b'"') => i += 1,
                    Some(&next) if next != delimiter => return false,
                    _ => quoted = false,
                }
            }
        } else if b == b'"' {
            if !at_start {
                return false;
            }
            quoted = true;
        }
        at_start = !quoted && b == delimiter;
        i += 1;
    }
    true
}

/// The delimiter among `,` `;` tab `|` occurring most often outside quotes (ties: earlier).
fn detect(header: &[u8]) -> u8 {
    let candidates = [b',', b';', b'\t', b'|'];
    let mut counts = [0usize; 4];
    let mut quoted = false;
    for &b in header {
        if b == b'"' {
            quoted = !quoted;
        } else if !quoted {
            if let Some(k) = candidates.iter().position(|c| *c == b) {
                counts[k] += 1;
            }
        }
    }
    let mut best = 0;
    for k in 1..4 {
        if counts[k] > counts[best] {
            best = k;
        }
    }
    candidates[best]
}
