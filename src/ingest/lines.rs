//! What a record is before it is read as a row: a repeat of the header, or data. (Physical
//! lines, blank lines and records are read by [`super::records`].)

/// What a physical data line is before it is read as a row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineKind {
    /// The header line again (exports concatenated with their headers): not data.
    RepeatedHeader,
    Data,
}

/// Classifies a record's fields against the file's header names (trimmed).
pub fn line_kind(fields: &[String], header: &[String]) -> LineKind {
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
