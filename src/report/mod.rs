//! Writers for the classified rows (CSV, TSV, Parquet, NDJSON, Arrow IPC), the rejects file
//! and the summary. Report never decides: it writes what rules and guidance produced, in the
//! one typed schema of [`columns`].

pub mod atomic;
mod background;
pub mod columns;
mod csv_out;
mod frame_out;
pub mod rejects;
pub mod results;
pub mod summary;

use std::io::{self, BufWriter, Write};

use polars::prelude::{DataFrame, PolarsError, Schema};

pub use columns::{
    column_names, column_type, ColumnType, SchemaOptions, DECISION_COLUMNS, THRESHOLD_DECIMALS,
    VALUE_DECIMALS,
};
pub use csv_out::neutralise;
pub use results::{ResultColumns, ResultsSpec};

/// Output format of the classified rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    Csv,
    Tsv,
    Parquet,
    Ndjson,
    /// Arrow IPC file.
    Arrow,
}

impl OutputFormat {
    /// Infers the format from an output path's extension.
    pub fn from_path(path: &std::path::Path) -> Option<OutputFormat> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "csv" => Some(OutputFormat::Csv),
            "tsv" => Some(OutputFormat::Tsv),
            "parquet" => Some(OutputFormat::Parquet),
            "ndjson" | "jsonl" => Some(OutputFormat::Ndjson),
            "arrow" | "ipc" | "feather" => Some(OutputFormat::Arrow),
            _ => None,
        }
    }

    /// The schema a result file of this format has (NDJSON always carries guidance texts).
    pub fn schema_options(self, evidence: bool, guidance_text: bool) -> SchemaOptions {
        SchemaOptions {
            evidence,
            guidance_text: guidance_text || self == OutputFormat::Ndjson,
        }
    }
}

/// Results of a batch, ready for the writer: bytes (text formats, encoded on the evaluation
/// threads) or a typed frame (columnar formats).
pub enum Chunk {
    Bytes(Vec<u8>),
    Frame(DataFrame),
}

/// How result batches are encoded for a format.
#[derive(Clone, Copy, Debug)]
pub enum Encoder {
    Delimited(u8),
    Ndjson,
    Frame,
}

impl Encoder {
    pub fn encode(self, results: &ResultColumns) -> io::Result<Chunk> {
        Ok(match self {
            Encoder::Delimited(d) => {
                let mut out = Vec::with_capacity(results.len() * 512);
                results.encode_delimited(d, &mut out);
                Chunk::Bytes(out)
            }
            Encoder::Ndjson => {
                let mut out = Vec::with_capacity(results.len() * 1024);
                results.encode_ndjson(&mut out)?;
                Chunk::Bytes(out)
            }
            Encoder::Frame => Chunk::Frame(results.to_frame().map_err(polars_io)?),
        })
    }
}

/// A sink for result batches, in order.
pub trait ResultWriter: Send {
    fn write(&mut self, chunk: Chunk) -> io::Result<()>;
    /// Flushes and closes.
    fn finish(self: Box<Self>) -> io::Result<()>;
}

/// Text formats: the encoded bytes go straight to the sink.
struct BytesWriter {
    out: BufWriter<Box<dyn Write + Send>>,
}

impl ResultWriter for BytesWriter {
    fn write(&mut self, chunk: Chunk) -> io::Result<()> {
        match chunk {
            Chunk::Bytes(b) => self.out.write_all(&b),
            Chunk::Frame(_) => Err(io::Error::other("a text format was given a frame")),
        }
    }

    fn finish(mut self: Box<Self>) -> io::Result<()> {
        self.out.flush()
    }
}

/// Creates the writer of a format over any byte sink, with its encoder. `schema` is the
/// output schema (of an empty [`ResultColumns::to_frame`]), `metadata` the key-value
/// metadata of columnar files.
pub fn writer(
    format: OutputFormat,
    out: Box<dyn Write + Send>,
    schema: &Schema,
    metadata: Vec<(String, String)>,
) -> io::Result<(Box<dyn ResultWriter>, Encoder)> {
    let names: Vec<String> = schema.iter_names().map(|n| n.to_string()).collect();
    let delimited = |d: u8, out| -> io::Result<(Box<dyn ResultWriter>, Encoder)> {
        let mut out = BufWriter::with_capacity(1 << 20, out);
        let mut header = Vec::new();
        csv_out::encode_header(&names, d, &mut header);
        out.write_all(&header)?;
        Ok((Box::new(BytesWriter { out }), Encoder::Delimited(d)))
    };
    Ok(match format {
        OutputFormat::Csv => delimited(b',', out)?,
        OutputFormat::Tsv => delimited(b'\t', out)?,
        OutputFormat::Ndjson => (
            Box::new(BytesWriter {
                out: BufWriter::with_capacity(1 << 20, out),
            }),
            Encoder::Ndjson,
        ),
        // Columnar files are encoded (and compressed) on their own thread.
        OutputFormat::Parquet => (
            Box::new(background::Background::spawn(Box::new(
                frame_out::ParquetOut::new(out, schema, metadata)?,
            ))?),
            Encoder::Frame,
        ),
        OutputFormat::Arrow => (
            Box::new(background::Background::spawn(Box::new(
                frame_out::IpcOut::new(out, schema, metadata)?,
            ))?),
            Encoder::Frame,
        ),
    })
}

/// A csv crate error as an io error, keeping the kind of an underlying io error (a closed
/// pipe stays `BrokenPipe`) and the csv error's message.
pub(crate) fn csv_io(e: csv::Error) -> io::Error {
    let kind = match e.kind() {
        csv::ErrorKind::Io(inner) => inner.kind(),
        _ => io::ErrorKind::Other,
    };
    io::Error::new(kind, e)
}

/// A polars error as an io error, keeping the kind of an underlying io error (a closed pipe
/// stays `BrokenPipe`) and polars' message.
pub(crate) fn polars_io(e: PolarsError) -> io::Error {
    let kind = match &e {
        PolarsError::IO { error, .. } => error.kind(),
        _ => io::ErrorKind::Other,
    };
    io::Error::new(kind, e.to_string())
}
