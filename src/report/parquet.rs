//! Parquet output through polars' batched writer: rows are buffered per batch and written
//! as one row group, so memory stays bounded. The ruleset version and checksum go into the
//! file's key-value metadata.

use std::io::Write;

use polars::io::parquet::write::{BatchedWriter, KeyValueMetadata, ParquetWriter};
use polars::prelude::*;

use super::{fixed, Field, RowWriter};

/// Rows per row group: rows are buffered as rendered fields (about 1 KB each with evidence),
/// so this bounds the writer's memory.
const ROWS_PER_GROUP: usize = 16_384;

/// The byte sink and file metadata, held until the first batch fixes the schema.
type PendingSink = (Box<dyn Write + Send>, Vec<(String, String)>);

pub struct ParquetRows {
    columns: Vec<String>,
    buffer: Vec<Vec<Field>>,
    writer: Option<BatchedWriter<Box<dyn Write + Send>>>,
    pending_out: Option<PendingSink>,
}

impl ParquetRows {
    pub fn new(
        out: Box<dyn Write + Send>,
        columns: Vec<String>,
        metadata: Vec<(String, String)>,
    ) -> Result<ParquetRows, String> {
        Ok(ParquetRows {
            columns,
            buffer: Vec::with_capacity(1024),
            writer: None,
            pending_out: Some((out, metadata)),
        })
    }

    fn frame(&self) -> Result<DataFrame, String> {
        let mut cols: Vec<Column> = Vec::with_capacity(self.columns.len());
        for (i, name) in self.columns.iter().enumerate() {
            let name = PlSmallStr::from(name.as_str());
            let series = match super::column_kind(name.as_str()) {
                super::ColumnKind::Number => {
                    let v: Vec<Option<f64>> = self
                        .buffer
                        .iter()
                        .map(|r| match &r[i] {
                            Field::Number(x, d) => x.and_then(|x| fixed(x, *d).parse::<f64>().ok()),
                            _ => None,
                        })
                        .collect();
                    Series::new(name, v)
                }
                super::ColumnKind::Bool => {
                    let v: Vec<Option<bool>> = self
                        .buffer
                        .iter()
                        .map(|r| match &r[i] {
                            Field::Bool(b) => *b,
                            _ => None,
                        })
                        .collect();
                    Series::new(name, v)
                }
                super::ColumnKind::Text => {
                    let v: Vec<Option<String>> = self
                        .buffer
                        .iter()
                        .map(|r| match &r[i] {
                            Field::Text(s) if s.is_empty() => None,
                            other => Some(super::csv_out::field_text(other)),
                        })
                        .collect();
                    Series::new(name, v)
                }
            };
            cols.push(series.into());
        }
        DataFrame::new_infer_height(cols).map_err(|e| e.to_string())
    }

    fn flush(&mut self) -> Result<(), String> {
        if self.buffer.is_empty() && self.writer.is_some() {
            return Ok(());
        }
        let df = self.frame()?;
        if self.writer.is_none() {
            if let Some((out, metadata)) = self.pending_out.take() {
                let w = ParquetWriter::new(out)
                    .with_key_value_metadata(Some(KeyValueMetadata::from_static(metadata)))
                    .batched(df.schema())
                    .map_err(|e| e.to_string())?;
                self.writer = Some(w);
            }
        }
        if let Some(w) = self.writer.as_mut() {
            w.write_batch(&df).map_err(|e| e.to_string())?;
        }
        self.buffer.clear();
        Ok(())
    }
}

impl RowWriter for ParquetRows {
    fn write_row(&mut self, fields: &[Field]) -> Result<(), String> {
        self.buffer.push(fields.to_vec());
        if self.buffer.len() >= ROWS_PER_GROUP {
            self.flush()?;
        }
        Ok(())
    }

    fn write_encoded(&mut self, _bytes: &[u8]) -> Result<(), String> {
        Err("Parquet rows are buffered as typed columns, not encoded bytes".to_string())
    }

    fn finish(mut self: Box<Self>) -> Result<(), String> {
        self.flush()?;
        match self.writer.take() {
            Some(w) => w.finish().map(|_| ()).map_err(|e| e.to_string()),
            None => Ok(()),
        }
    }
}
