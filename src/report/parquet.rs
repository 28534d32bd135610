//! Parquet output through polars' batched writer: rows are buffered per batch and written
//! as one row group, so memory stays bounded. The ruleset version and checksum go into the
//! file's key-value metadata.

use std::io::{self, Write};

use polars::io::parquet::write::{BatchedWriter, KeyValueMetadata, ParquetWriter};
use polars::prelude::*;

use super::{fixed, Field, RowWriter};

/// Rows per row group: rows are buffered as rendered fields (about 1 KB each with evidence),
/// so this bounds the writer's memory.
const ROWS_PER_GROUP: usize = 16_384;

/// The byte sink and file metadata, held until the first batch fixes the schema.
type PendingSink = (Box<dyn Write + Send>, Vec<(String, String)>);

/// One output column being filled for the current row group.
enum ColumnBuf {
    Text(Vec<Option<String>>),
    Number(Vec<Option<f64>>),
    Bool(Vec<Option<bool>>),
}

pub struct ParquetRows {
    columns: Vec<(String, ColumnBuf)>,
    rows: usize,
    writer: Option<BatchedWriter<Box<dyn Write + Send>>>,
    pending_out: Option<PendingSink>,
}

impl ParquetRows {
    pub fn new(
        out: Box<dyn Write + Send>,
        columns: Vec<String>,
        metadata: Vec<(String, String)>,
    ) -> io::Result<ParquetRows> {
        let columns = columns
            .into_iter()
            .map(|name| {
                let buf = match super::column_kind(&name) {
                    super::ColumnKind::Number => ColumnBuf::Number(Vec::new()),
                    super::ColumnKind::Bool => ColumnBuf::Bool(Vec::new()),
                    super::ColumnKind::Text => ColumnBuf::Text(Vec::new()),
                };
                (name, buf)
            })
            .collect();
        Ok(ParquetRows {
            columns,
            rows: 0,
            writer: None,
            pending_out: Some((out, metadata)),
        })
    }

    /// Takes the buffered columns as a frame (types fixed by column name, whatever the rows).
    fn frame(&mut self) -> io::Result<DataFrame> {
        let mut cols: Vec<Column> = Vec::with_capacity(self.columns.len());
        for (name, buf) in self.columns.iter_mut() {
            let name = PlSmallStr::from(name.as_str());
            let series = match buf {
                ColumnBuf::Number(v) => Series::new(name, std::mem::take(v)),
                ColumnBuf::Bool(v) => Series::new(name, std::mem::take(v)),
                ColumnBuf::Text(v) => Series::new(name, std::mem::take(v)),
            };
            cols.push(series.into());
        }
        self.rows = 0;
        DataFrame::new_infer_height(cols).map_err(polars_io)
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.rows == 0 && self.writer.is_some() {
            return Ok(());
        }
        let df = self.frame()?;
        if self.writer.is_none() {
            if let Some((out, metadata)) = self.pending_out.take() {
                let w = ParquetWriter::new(out)
                    .with_key_value_metadata(Some(KeyValueMetadata::from_static(metadata)))
                    .batched(df.schema())
                    .map_err(polars_io)?;
                self.writer = Some(w);
            }
        }
        if let Some(w) = self.writer.as_mut() {
            w.write_batch(&df).map_err(polars_io)?;
        }
        Ok(())
    }
}

impl RowWriter for ParquetRows {
    fn write_row(&mut self, fields: Vec<Field>) -> io::Result<()> {
        for ((_, buf), field) in self.columns.iter_mut().zip(fields) {
            match (buf, field) {
                (ColumnBuf::Number(v), Field::Number(x, d)) => {
                    v.push(x.and_then(|x| fixed(x, d).parse::<f64>().ok()))
                }
                (ColumnBuf::Bool(v), Field::Bool(b)) => v.push(b),
                (ColumnBuf::Text(v), Field::Text(s)) => v.push((!s.is_empty()).then_some(s)),
                (ColumnBuf::Text(v), Field::List(items, sep)) => {
                    v.push((!items.is_empty()).then(|| items.join(sep)))
                }
                (ColumnBuf::Text(v), other) => v.push(Some(super::csv_out::field_text(&other))),
                (ColumnBuf::Number(v), _) => v.push(None),
                (ColumnBuf::Bool(v), _) => v.push(None),
            }
        }
        self.rows += 1;
        if self.rows >= ROWS_PER_GROUP {
            self.flush()?;
        }
        Ok(())
    }

    fn write_encoded(&mut self, _bytes: &[u8]) -> io::Result<()> {
        Err(io::Error::other(
            "Parquet rows are buffered as typed columns, not encoded bytes",
        ))
    }

    fn finish(mut self: Box<Self>) -> io::Result<()> {
        self.flush()?;
        match self.writer.take() {
            Some(w) => w.finish().map(|_| ()).map_err(polars_io),
            None => Ok(()),
        }
    }
}

/// A polars error as an io error, keeping the kind of an underlying io error (a closed pipe
/// stays `BrokenPipe`) and polars' message.
fn polars_io(e: PolarsError) -> io::Error {
    let kind = match &e {
        PolarsError::IO { error, .. } => error.kind(),
        _ => io::ErrorKind::Other,
    };
    io::Error::new(kind, e.to_string())
}
