//! Columnar result files: Parquet through polars' batched writer, Arrow IPC through the
//! Arrow file writer. Batches are gathered into row groups of [`ROWS_PER_GROUP`] rows, so
//! memory stays bounded; the engine and ruleset versions go into the key-value metadata.

use std::io::{self, Write};
use std::sync::Arc;

use polars::io::parquet::write::{BatchedWriter, KeyValueMetadata, ParquetWriter};
use polars::prelude::*;
use polars_arrow::io::ipc::write::{FileWriter, WriteOptions};

use super::{polars_io, Chunk, ResultWriter};

/// Rows per Parquet row group / Arrow record batch.
const ROWS_PER_GROUP: usize = 32_768;

/// Frames waiting to be written: cut into row groups of exactly [`ROWS_PER_GROUP`] rows (the
/// last one shorter), so the file does not depend on how the rows were batched.
#[derive(Default)]
struct Pending {
    frame: Option<DataFrame>,
}

impl Pending {
    fn push(&mut self, chunk: Chunk) -> io::Result<()> {
        let Chunk::Frame(df) = chunk else {
            return Err(io::Error::other("a columnar format was given bytes"));
        };
        match self.frame.as_mut() {
            Some(f) => {
                f.vstack_mut_owned(df).map_err(polars_io)?;
            }
            None => self.frame = Some(df),
        }
        Ok(())
    }

    fn rows(&self) -> usize {
        self.frame.as_ref().map_or(0, DataFrame::height)
    }

    /// The next full row group, or with `last` whatever is left (None when nothing is).
    fn take(&mut self, last: bool) -> Option<DataFrame> {
        let rows = self.rows();
        if rows == 0 || (!last && rows < ROWS_PER_GROUP) {
            return None;
        }
        let frame = self.frame.take()?;
        let (mut group, rest) = if rows > ROWS_PER_GROUP {
            let (g, r) = frame.split_at(ROWS_PER_GROUP as i64);
            (g, Some(r))
        } else {
            (frame, None)
        };
        self.frame = rest;
        group.rechunk_mut();
        Some(group)
    }
}

pub struct ParquetOut {
    writer: BatchedWriter<Box<dyn Write + Send>>,
    pending: Pending,
}

impl ParquetOut {
    pub fn new(
        out: Box<dyn Write + Send>,
        schema: &Schema,
        metadata: Vec<(String, String)>,
    ) -> io::Result<ParquetOut> {
        let writer = ParquetWriter::new(out)
            .with_key_value_metadata(Some(KeyValueMetadata::from_static(metadata)))
            .with_row_group_size(Some(ROWS_PER_GROUP))
            .batched(schema)
            .map_err(polars_io)?;
        Ok(ParquetOut {
            writer,
            pending: Pending::default(),
        })
    }

    fn flush(&mut self, last: bool) -> io::Result<()> {
        while let Some(df) = self.pending.take(last) {
            self.writer.write_batch(&df).map_err(polars_io)?;
        }
        Ok(())
    }
}

impl ResultWriter for ParquetOut {
    fn write(&mut self, chunk: Chunk) -> io::Result<()> {
        self.pending.push(chunk)?;
        self.flush(false)
    }

    fn finish(mut self: Box<Self>) -> io::Result<()> {
        self.flush(true)?;
        self.writer.finish().map(|_| ()).map_err(polars_io)
    }
}

/// The Arrow types written to IPC files: the stable (non-view) layouts every Arrow reader
/// knows (pyarrow, duckdb, Spark).
const IPC_COMPAT: CompatLevel = CompatLevel::oldest();

pub struct IpcOut {
    writer: FileWriter<Box<dyn Write + Send>>,
    pending: Pending,
}

impl IpcOut {
    pub fn new(
        out: Box<dyn Write + Send>,
        schema: &Schema,
        metadata: Vec<(String, String)>,
    ) -> io::Result<IpcOut> {
        let arrow = Arc::new(schema.to_arrow(IPC_COMPAT));
        let mut writer = FileWriter::new(out, arrow, None, WriteOptions { compression: None });
        let meta: polars_arrow::datatypes::Metadata = metadata
            .into_iter()
            .map(|(k, v)| (PlSmallStr::from(k), PlSmallStr::from(v)))
            .collect();
        writer.set_custom_schema_metadata(Arc::new(meta));
        writer.start().map_err(polars_io)?;
        Ok(IpcOut {
            writer,
            pending: Pending::default(),
        })
    }

    fn flush(&mut self, last: bool) -> io::Result<()> {
        while let Some(df) = self.pending.take(last) {
            for batch in df.iter_chunks(IPC_COMPAT, true) {
                self.writer.write(&batch, None).map_err(polars_io)?;
            }
        }
        Ok(())
    }
}

impl ResultWriter for IpcOut {
    fn write(&mut self, chunk: Chunk) -> io::Result<()> {
        self.pending.push(chunk)?;
        self.flush(false)
    }

    fn finish(mut self: Box<Self>) -> io::Result<()> {
        self.flush(true)?;
        self.writer.finish().map_err(polars_io)?;
        Ok(())
    }
}
