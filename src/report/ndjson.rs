//! NDJSON output: one object per panel, keys in column order, lists as arrays.

use std::io::{self, BufWriter, Write};

use serde_json::{Map, Number, Value};

use super::{fixed, Field, RowWriter};

pub struct NdjsonRows {
    out: BufWriter<Box<dyn Write + Send>>,
    columns: Vec<String>,
}

impl NdjsonRows {
    pub fn new(out: Box<dyn Write + Send>, columns: Vec<String>) -> NdjsonRows {
        NdjsonRows {
            out: BufWriter::with_capacity(1 << 20, out),
            columns,
        }
    }
}

fn value(f: &Field) -> Value {
    match f {
        Field::Text(s) if s.is_empty() => Value::Null,
        Field::Text(s) => Value::String(s.clone()),
        // Fixed precision: the number is rounded through its fixed-decimal text.
        Field::Number(v, d) => v
            .and_then(|x| fixed(x, *d).parse::<f64>().ok())
            .and_then(Number::from_f64)
            .map_or(Value::Null, Value::Number),
        Field::Bool(b) => b.map_or(Value::Null, Value::Bool),
        Field::List(items, _) => Value::Array(items.iter().cloned().map(Value::String).collect()),
    }
}

/// Appends one JSON object line, keys in column order.
pub fn encode_row(columns: &[String], fields: &[Field], out: &mut Vec<u8>) -> io::Result<()> {
    let mut map = Map::with_capacity(fields.len());
    for (name, f) in columns.iter().zip(fields) {
        map.insert(name.clone(), value(f));
    }
    serde_json::to_writer(&mut *out, &Value::Object(map))?;
    out.push(b'\n');
    Ok(())
}

impl RowWriter for NdjsonRows {
    fn write_row(&mut self, fields: Vec<Field>) -> io::Result<()> {
        let mut buf = Vec::new();
        encode_row(&self.columns, &fields, &mut buf)?;
        self.write_encoded(&buf)
    }

    fn write_encoded(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.out.write_all(bytes)
    }

    fn finish(mut self: Box<Self>) -> io::Result<()> {
        self.out.flush()
    }
}
