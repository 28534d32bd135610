//! CSV output, safe to open in a spreadsheet.

use std::io::Write;

use super::{fixed, Field, RowWriter};

/// Neutralises a text cell that a spreadsheet would execute as a formula (OWASP CSV
/// injection guidance): a leading `=`, `+`, `-`, `@`, tab or carriage return gets a `'`
/// prefix. Numbers (`-1.5`) are left untouched.
pub fn neutralise(cell: &str) -> std::borrow::Cow<'_, str> {
    let risky = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if risky && cell.trim().parse::<f64>().is_err() {
        std::borrow::Cow::Owned(format!("'{cell}"))
    } else {
        std::borrow::Cow::Borrowed(cell)
    }
}

/// Renders a field as CSV text (before neutralisation).
pub fn field_text(f: &Field) -> String {
    match f {
        Field::Text(s) => s.clone(),
        Field::Number(v, d) => v.map_or(String::new(), |x| fixed(x, *d)),
        Field::Bool(b) => b.map_or(String::new(), |b| b.to_string()),
        Field::List(items, sep) => items.join(sep),
    }
}

/// Appends one CSV record (RFC 4180: a field is quoted when it holds a comma, a quote or a
/// line break; quotes are doubled), neutralising formula-like text cells.
pub fn encode_row(fields: &[Field], out: &mut Vec<u8>) {
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        match f {
            Field::Text(s) => encode_cell(s, out),
            Field::List(items, _) if items.len() == 1 => encode_cell(&items[0], out),
            other => encode_cell(&field_text(other), out),
        }
    }
    out.push(b'\n');
}

fn encode_cell(text: &str, out: &mut Vec<u8>) {
    let cell = neutralise(text);
    if cell.contains([',', '"', '\n', '\r']) {
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

pub struct CsvRows {
    out: std::io::BufWriter<Box<dyn Write + Send>>,
    record: Vec<u8>,
}

impl CsvRows {
    pub fn new(out: Box<dyn Write + Send>, columns: &[String]) -> std::io::Result<CsvRows> {
        let mut rows = CsvRows {
            out: std::io::BufWriter::with_capacity(1 << 20, out),
            record: Vec::new(),
        };
        let header: Vec<Field> = columns.iter().map(|c| Field::Text(c.clone())).collect();
        rows.write_row(header)?;
        Ok(rows)
    }
}

impl RowWriter for CsvRows {
    fn write_row(&mut self, fields: Vec<Field>) -> std::io::Result<()> {
        let mut record = std::mem::take(&mut self.record);
        record.clear();
        encode_row(&fields, &mut record);
        let result = self.write_encoded(&record);
        self.record = record;
        result
    }

    fn write_encoded(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.out.write_all(bytes)
    }

    fn finish(mut self: Box<Self>) -> std::io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_rows_match_the_csv_crate() {
        let fields = vec![
            Field::Text("a,b".into()),
            Field::Text("say \"hi\"".into()),
            Field::Text("line\nbreak".into()),
            Field::Number(Some(1.5), 2),
            Field::Bool(None),
            Field::List(vec!["X".into(), "Y".into()], ";"),
            Field::Text("=1+1".into()),
        ];
        let mut ours = Vec::new();
        encode_row(&fields, &mut ours);
        let mut theirs = csv::Writer::from_writer(Vec::new());
        let texts: Vec<String> = fields
            .iter()
            .map(|f| neutralise(&field_text(f)).into_owned())
            .collect();
        theirs.write_record(&texts).unwrap();
        assert_eq!(
            String::from_utf8(ours).unwrap(),
            String::from_utf8(theirs.into_inner().unwrap()).unwrap()
        );
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
    }
}
