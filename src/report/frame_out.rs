//! Columnar result files: Parquet through polars' Parquet file writer, Arrow IPC through the
//! Arrow file writer. Batches are gathered into row groups of [`ROWS_PER_GROUP`] rows, so
//! memory stays bounded; the engine and ruleset versions go into the key-value metadata.

use std::io::{self, Write};
use std::sync::Arc;

use polars::io::parquet::write::{get_encodings, ParquetCompression};
use polars::prelude::*;
use polars_arrow::datatypes::ArrowSchema;
use polars_arrow::io::ipc::write::{FileWriter, WriteOptions};
use polars_parquet::write as pq;

use super::{polars_io, Chunk, ResultWriter};

/// Rows per Parquet row group / Arrow record batch. The writer holds a row group and
/// encodes it whole: with 16 384 rows (about 20 MB of results with full evidence) and a
/// queue of four chunks (`background.rs`), 1M rows to Parquet peak at 346 MiB, against
/// 446 MiB with 32 768 rows and eight chunks, in the same time; the file is 1 % larger.
const ROWS_PER_GROUP: usize = 16_384;

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
    writer: pq::FileWriter<Box<dyn Write + Send>>,
    schema: ArrowSchema,
    options: pq::WriteOptions,
    metadata: Vec<(String, String)>,
    pending: Pending,
}

impl ParquetOut {
    pub fn new(
        out: Box<dyn Write + Send>,
        schema: &Schema,
        metadata: Vec<(String, String)>,
    ) -> io::Result<ParquetOut> {
        // The stable Arrow layouts (large utf8, not string views) in the file's Arrow schema:
        // pyarrow and pandas read them, as duckdb and polars do.
        let schema = schema.to_arrow(COMPAT);
        let options = pq::WriteOptions {
            statistics: pq::StatisticsOptions::default(),
            version: pq::Version::V1,
            compression: ParquetCompression::default().into(),
            data_page_size: None,
        };
        let writer = pq::FileWriter::try_new(out, schema.clone(), options).map_err(polars_io)?;
        Ok(ParquetOut {
            writer,
            schema,
            options,
            metadata,
            pending: Pending::default(),
        })
    }

    fn flush(&mut self, last: bool) -> io::Result<()> {
        while let Some(df) = self.pending.take(last) {
            let rows = df.height() as u64;
            let batches = df.iter_chunks(COMPAT, true).map(Ok);
            let groups = pq::RowGroupIterator::try_new(
                batches,
                &self.schema,
                self.options,
                get_encodings(&self.schema),
            )
            .map_err(polars_io)?;
            for group in groups {
                self.writer
                    .write(rows, group.map_err(polars_io)?)
                    .map_err(polars_io)?;
            }
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
        let mut kv = vec![pq::schema_to_metadata_key(&self.schema)];
        kv.extend(self.metadata.drain(..).map(|(key, value)| pq::KeyValue {
            key,
            value: Some(value),
        }));
        self.writer.end(Some(kv)).map_err(polars_io)?;
        Ok(())
    }
}

/// The Arrow types written to Parquet and IPC files: the stable (non-view) layouts every
/// Arrow reader knows (pyarrow, pandas, duckdb, Spark).
const COMPAT: CompatLevel = CompatLevel::oldest();

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
        let arrow = Arc::new(schema.to_arrow(COMPAT));
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
            for batch in df.iter_chunks(COMPAT, true) {
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
