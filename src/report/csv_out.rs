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

pub struct CsvRows {
    writer: csv::Writer<Box<dyn Write + Send>>,
    record: Vec<String>,
}

impl CsvRows {
    pub fn new(out: Box<dyn Write + Send>, columns: &[String]) -> Result<CsvRows, String> {
        let mut writer = csv::WriterBuilder::new().from_writer(out);
        writer.write_record(columns).map_err(|e| e.to_string())?;
        Ok(CsvRows {
            writer,
            record: Vec::new(),
        })
    }
}

impl RowWriter for CsvRows {
    fn write_row(&mut self, fields: &[Field]) -> Result<(), String> {
        self.record.clear();
        self.record.extend(
            fields
                .iter()
                .map(|f| neutralise(&field_text(f)).into_owned()),
        );
        self.writer
            .write_record(&self.record)
            .map_err(|e| e.to_string())
    }

    fn finish(self: Box<Self>) -> Result<(), String> {
        let mut inner = self.writer.into_inner().map_err(|e| e.to_string())?;
        inner.flush().map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
