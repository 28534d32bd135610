//! Delimited text (CSV, TSV) cells, safe to open in a spreadsheet.

/// Neutralises a text cell that a spreadsheet would execute as a formula (OWASP CSV
/// injection guidance): a leading `=`, `+`, `-`, `@`, tab or carriage return gets a `'`
/// prefix. Numbers (`-1.5`) are left untouched.
pub fn neutralise(cell: &str) -> std::borrow::Cow<'_, str> {
    let risky = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
    // Only a plain finite number is left alone: `-inf`, `+NaN` or `-1+1` are text to a
    // spreadsheet's formula parser. (Read only for a risky cell: this runs for every cell.)
    let number = risky
        && matches!(
            crate::cell::read_number(cell, crate::cell::DecimalMark::Point),
            crate::cell::Number::Value(_)
        )
        && !cell.trim().contains(',');
    let cell = escape_cell_controls(cell);
    if risky && !number {
        std::borrow::Cow::Owned(format!("'{cell}"))
    } else {
        cell
    }
}

/// Control characters other than tab, CR and LF (NUL, ESC, DEL, C1) written as `\xNN`: an
/// output opened in a terminal or a spreadsheet shows them instead of obeying them.
fn escape_cell_controls(cell: &str) -> std::borrow::Cow<'_, str> {
    let control = |c: char| c.is_control() && !matches!(c, '\t' | '\r' | '\n');
    // The control characters are U+0000..=U+001F, U+007F and U+0080..=U+009F: in UTF-8 a byte
    // below 0x20, 0x7F, or a sequence starting 0xC2. A cell without such a byte (almost every
    // cell) is passed on without decoding its characters.
    let maybe = cell
        .bytes()
        .any(|b| (b < 0x20 && !matches!(b, b'\t' | b'\r' | b'\n')) || b == 0x7F || b == 0xC2);
    if !maybe || !cell.chars().any(control) {
        return std::borrow::Cow::Borrowed(cell);
    }
    std::borrow::Cow::Owned(
        cell.chars()
            .map(|c| {
                if control(c) {
                    format!("\\x{:02X}", u32::from(c))
                } else {
                    c.to_string()
                }
            })
            .collect(),
    )
}

/// Appends one text cell (RFC 4180: quoted when it holds the delimiter, a quote or a line
/// break; quotes are doubled), neutralising formula-like text.
pub fn encode_cell(text: &str, delimiter: u8, out: &mut Vec<u8>) {
    let cell = neutralise(text);
    let needs_quotes = cell
        .bytes()
        .any(|b| b == delimiter || b == b'"' || b == b'\n' || b == b'\r');
    if needs_quotes {
        out.push(b'"');
        for b in cell.bytes() {
            if b == b'"' {
                out.push(b'"');
            }
            out.push(b);
        }
        out.push(b'"');
    } else {
        out.extend_from_slice(cell.as_bytes());
    }
}

/// Appends a header record.
pub fn encode_header(names: &[String], delimiter: u8, out: &mut Vec<u8>) {
    for (i, n) in names.iter().enumerate() {
        if i > 0 {
            out.push(delimiter);
        }
        encode_cell(n, delimiter, out);
    }
    out.push(b'\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_cells_match_the_csv_crate() {
        let cells = [
            "a,b",
            "say \"hi\"",
            "line\nbreak",
            "1.50",
            "",
            "X;Y",
            "=1+1",
            "a\tb",
        ];
        for delimiter in [b',', b'\t'] {
            let mut ours = Vec::new();
            for (i, c) in cells.iter().enumerate() {
                if i > 0 {
                    ours.push(delimiter);
                }
                encode_cell(c, delimiter, &mut ours);
            }
            ours.push(b'\n');
            let mut theirs = csv::WriterBuilder::new()
                .delimiter(delimiter)
                .from_writer(Vec::new());
            let texts: Vec<String> = cells.iter().map(|c| neutralise(c).into_owned()).collect();
            theirs.write_record(&texts).unwrap();
            assert_eq!(
                String::from_utf8(ours).unwrap(),
                String::from_utf8(theirs.into_inner().unwrap()).unwrap()
            );
        }
    }

    #[test]
    fn formula_cells_are_neutralised_and_numbers_kept() {
        assert_eq!(neutralise("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(neutralise("+1+2"), "'+1+2");
        assert_eq!(neutralise("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(neutralise("\tx"), "'\tx");
        assert_eq!(neutralise("-cmd"), "'-cmd");
        assert_eq!(neutralise("-1.5"), "-1.5");
        assert_eq!(neutralise("P001"), "P001");
        assert_eq!(neutralise("-inf"), "'-inf");
        assert_eq!(neutralise("+NaN"), "'+NaN");
        assert_eq!(neutralise("-1,5"), "'-1,5");
    }

    #[test]
    fn control_characters_are_escaped_and_other_text_kept() {
        assert_eq!(escape_cell_controls("a\u{1B}[2Jb"), "a\\x1B[2Jb");
        assert_eq!(escape_cell_controls("nul\u{0}"), "nul\\x00");
        assert_eq!(escape_cell_controls("del\u{7F}"), "del\\x7F");
        assert_eq!(escape_cell_controls("c1\u{85}\u{9F}"), "c1\\x85\\x9F");
        // Tab, CR and LF are the CSV quoting's business; U+00A0..=U+00BF (0xC2 0xA0..) are text.
        assert_eq!(escape_cell_controls("a\tb\r\nc"), "a\tb\r\nc");
        assert_eq!(escape_cell_controls("µg/L 5 °C\u{A0}"), "µg/L 5 °C\u{A0}");
        assert_eq!(escape_cell_controls("Müller"), "Müller");
        assert!(matches!(
            escape_cell_controls("plain"),
            std::borrow::Cow::Borrowed(_)
        ));
    }
}
