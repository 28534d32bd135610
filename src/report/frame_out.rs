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

/// Frames waiting to be written as one row group.
#[derive(Default)]
struct Pending {
    frames: Vec<DataFrame>,
    rows: usize,
}

impl Pending {
    fn push(&mut self, chunk: Chunk) -> io::Result<bool> {
        let Chunk::Frame(df) = chunk else {
            return Err(io::Error::other("a columnar format was given bytes"));
        };
        self.rows += df.height();
        self.frames.push(df);
        Ok(self.rows >= ROWS_PER_GROUP)
    }

    /// The pending frames as one single-chunk frame (None when there are none).
    fn take(&mut self) -> io::Result<Option<DataFrame>> {
        let mut frames = std::mem::take(&mut self.frames).into_iter();
        self.rows = 0;
        let Some(mut df) = frames.next() else {
            return Ok(None);
        };
        for f in frames {
            df.vstack_mut_owned(f).map_err(polars_io)?;
        }
        df.rechunk_mut();
        Ok(Some(df))
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

    fn flush(&mut self) -> io::Result<()> {
        if let Some(df) = self.pending.take()? {
            self.writer.write_batch(&df).map_err(polars_io)?;
        }
        Ok(())
    }
}

impl ResultWriter for ParquetOut {
    fn write(&mut self, chunk: Chunk) -> io::Result<()> {
        if self.pending.push(chunk)? {
            self.flush()?;
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> io::Result<()> {
        self.flush()?;
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

    fn flush(&mut self) -> io::Result<()> {
        if let Some(df) = self.pending.take()? {
            for batch in df.iter_chunks(IPC_COMPAT, true) {
                self.writer.write(&batch, None).map_err(polars_io)?;
            }
        }
        Ok(())
    }
}

impl ResultWriter for IpcOut {
    fn write(&mut self, chunk: Chunk) -> io::Result<()> {
        if self.pending.push(chunk)? {
            self.flush()?;
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> io::Result<()> {
        self.flush()?;
        self.writer.finish().map_err(polars_io)?;
        Ok(())
    }
}
