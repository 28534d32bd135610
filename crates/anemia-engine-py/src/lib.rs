//! `anemia_engine._native`: the Rust side of the Python package. Frames come in and go out
//! through the Arrow C stream interface (`__arrow_c_stream__` PyCapsules), so polars, pyarrow
//! and anything else that speaks it can hand over data without a copy through Python. The
//! Python layer (`python/anemia_engine`) turns inputs into streams and streams into polars
//! frames; everything clinical happens in the `anemia_engine` library, as for the CLI.

use std::ffi::CStr;
use std::path::PathBuf;

use anemia_engine::error::{ConfigError, RunError};
use anemia_engine::frame::{classify_frame, classify_input, Classified, FrameOptions};
use anemia_engine::ingest::mapping::Mapping;
use anemia_engine::ingest::{Decimal, IngestOptions, Input, Layout};
use anemia_engine::qa::explain::{explain as explain_input, PanelSelector};
use anemia_engine::report::SchemaOptions;
use anemia_engine::ruleset::Ruleset;
use polars::prelude::*;
use polars_arrow::array::{Array, StructArray};
use polars_arrow::datatypes::{ArrowDataType, Field as ArrowField};
use polars_arrow::ffi::{export_iterator, ArrowArrayStream, ArrowArrayStreamReader};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyCapsule, PyTuple};

const STREAM_NAME: &CStr = c"arrow_array_stream";

/// An engine error as the Python exception of its category (`anemia_engine.errors`).
fn engine_error(py: Python<'_>, e: RunError) -> PyErr {
    let (class, exit_code) = match &e {
        RunError::Config(ConfigError::Ruleset(_)) => ("RulesetError", 2),
        RunError::Config(ConfigError::Input { .. }) => ("InputError", 2),
        RunError::Config(ConfigError::Usage(_)) => ("UsageError", 2),
        RunError::Read { .. } => ("ReadError", 1),
        RunError::Io { .. } | RunError::Write { .. } => ("EngineIOError", 1),
    };
    // The message as the CLI prints it: the error, then each cause.
    let mut message = e.to_string();
    let mut cause = std::error::Error::source(&e);
    while let Some(c) = cause {
        message.push_str(&format!("\n  caused by: {c}"));
        cause = c.source();
    }
    raise(py, class, message, exit_code)
}

fn usage_error(py: Python<'_>, message: String) -> PyErr {
    raise(py, "UsageError", message, 2)
}

fn raise(py: Python<'_>, class: &str, message: String, exit_code: i32) -> PyErr {
    let made = py
        .import("anemia_engine.errors")
        .and_then(|m| m.getattr(class))
        .and_then(|c| c.call1((message.clone(), exit_code)));
    match made {
        Ok(value) => PyErr::from_value(value),
        Err(e) => e,
    }
}

fn polars_error(py: Python<'_>, what: &str, e: PolarsError) -> PyErr {
    raise(py, "ReadError", format!("{what}: {e}"), 1)
}

/// A frame read from an object with `__arrow_c_stream__` (polars, pyarrow, ...).
fn frame_from_stream(py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<DataFrame> {
    if !data.hasattr("__arrow_c_stream__")? {
        return Err(PyTypeError::new_err(
            "expected a polars DataFrame, a pyarrow Table or another object with __arrow_c_stream__",
        ));
    }
    let capsule = data
        .call_method0("__arrow_c_stream__")?
        .cast_into::<PyCapsule>()
        .map_err(|_| PyTypeError::new_err("__arrow_c_stream__ did not return a PyCapsule"))?;
    let ptr = capsule.pointer_checked(Some(STREAM_NAME))?;
    // SAFETY: a capsule named "arrow_array_stream" holds an ArrowArrayStream (the Arrow
    // PyCapsule interface). The consumer moves it out and leaves a released (empty) stream,
    // which the capsule's destructor then ignores.
    let stream = unsafe {
        std::ptr::replace(
            ptr.as_ptr().cast::<ArrowArrayStream>(),
            ArrowArrayStream::empty(),
        )
    };
    let bad = |e: PolarsError| polars_error(py, "cannot read the Arrow stream", e);
    // SAFETY: the stream was just moved out of a valid capsule and is owned here.
    let mut reader = unsafe { ArrowArrayStreamReader::try_new(Box::new(stream)) }.map_err(bad)?;
    let fields = match reader.field().dtype() {
        ArrowDataType::Struct(fields) => fields.clone(),
        other => {
            return Err(PyTypeError::new_err(format!(
                "the Arrow stream holds {other:?}, not a table (struct) of columns"
            )))
        }
    };
    let mut frame: Option<DataFrame> = None;
    // SAFETY: `reader` owns the stream; each array is read once, in order.
    while let Some(array) = unsafe { reader.next() } {
        let array = array.map_err(bad)?;
        let Some(batch) = array.as_any().downcast_ref::<StructArray>() else {
            return Err(PyTypeError::new_err(
                "the Arrow stream yielded an array that is not a table (struct) of columns",
            ));
        };
        let columns = fields
            .iter()
            .zip(batch.values())
            .map(|(f, values)| Series::from_arrow(f.name.clone(), values.clone()).map(Column::from))
            .collect::<PolarsResult<Vec<_>>>()
            .map_err(bad)?;
        let part = DataFrame::new(batch.len(), columns).map_err(bad)?;
        match frame.as_mut() {
            Some(df) => {
                df.vstack_mut_owned(part).map_err(bad)?;
            }
            None => frame = Some(part),
        }
    }
    match frame {
        Some(mut df) => {
            df.rechunk_mut();
            Ok(df)
        }
        None => {
            let columns = fields
                .iter()
                .map(|f| Column::new_empty(f.name.clone(), &DataType::from_arrow_field(f)))
                .collect();
            DataFrame::new(0, columns).map_err(bad)
        }
    }
}

/// A frame on its way to Python: `__arrow_c_stream__` hands it over once.
#[pyclass(module = "anemia_engine._native")]
struct ArrowStream {
    frame: Option<DataFrame>,
    /// Arrow's newest layout (string views), else the classic one (large strings and lists)
    /// that every Arrow consumer reads.
    newest: bool,
}

#[pymethods]
impl ArrowStream {
    #[pyo3(signature = (requested_schema=None))]
    fn __arrow_c_stream__<'py>(
        &mut self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        // The schema is the output schema; a requested one is not negotiated.
        let _ = requested_schema;
        let Some(mut df) = self.frame.take() else {
            return Err(PyTypeError::new_err(
                "this Arrow stream was already consumed",
            ));
        };
        df.rechunk_mut();
        let compat = if self.newest {
            CompatLevel::newest()
        } else {
            CompatLevel::oldest()
        };
        let fields: Vec<ArrowField> = df
            .columns()
            .iter()
            .map(|c| c.field().to_arrow(compat))
            .collect();
        let dtype = ArrowDataType::Struct(fields);
        let batches: Vec<Box<dyn Array>> = df
            .iter_chunks(compat, true)
            .map(|batch| {
                let len = batch.height();
                Box::new(StructArray::new(
                    dtype.clone(),
                    len,
                    batch.into_arrays(),
                    None,
                )) as Box<dyn Array>
            })
            .collect();
        let field = ArrowField::new(PlSmallStr::EMPTY, dtype, false);
        let stream = export_iterator(Box::new(batches.into_iter().map(Ok)), field);
        PyCapsule::new_with_value_and_destructor(py, stream, STREAM_NAME, |stream, _| drop(stream))
    }
}

fn ruleset(py: Python<'_>, dir: Option<PathBuf>) -> PyResult<Ruleset> {
    let loaded = match dir {
        Some(d) => Ruleset::from_dir(&d),
        None => Ruleset::embedded(),
    };
    loaded.map_err(|e| engine_error(py, RunError::Config(ConfigError::Ruleset(e))))
}

fn layout(py: Python<'_>, name: &str) -> PyResult<Layout> {
    match name {
        "wide" => Ok(Layout::Wide),
        "long" => Ok(Layout::Long),
        "auto" => Ok(Layout::Auto),
        other => Err(usage_error(
            py,
            format!("layout={other:?}: use \"wide\", \"long\" or \"auto\""),
        )),
    }
}

fn evidence(py: Python<'_>, name: &str) -> PyResult<bool> {
    match name {
        "full" => Ok(true),
        "none" => Ok(false),
        other => Err(usage_error(
            py,
            format!("evidence={other:?}: use \"full\" or \"none\""),
        )),
    }
}

fn decimal(py: Python<'_>, name: &str) -> PyResult<Decimal> {
    match name {
        "auto" => Ok(Decimal::Auto),
        "point" | "dot" | "." => Ok(Decimal::Point),
        "comma" | "," => Ok(Decimal::Comma),
        other => Err(usage_error(
            py,
            format!("decimal={other:?}: use \"auto\", \"point\" or \"comma\""),
        )),
    }
}

fn mapping(py: Python<'_>, path: Option<PathBuf>, rs: &Ruleset) -> PyResult<Option<Mapping>> {
    path.map(|p| Mapping::load(&p, rs).map_err(|e| engine_error(py, RunError::Config(e))))
        .transpose()
}

/// The three results of a classification, as Python objects.
fn hand_over<'py>(py: Python<'py>, out: Classified, newest: bool) -> PyResult<Bound<'py, PyTuple>> {
    let summary = serde_json::to_string(&out.summary).map_err(|e| {
        raise(
            py,
            "EngineIOError",
            format!("cannot write the summary: {e}"),
            1,
        )
    })?;
    let results = ArrowStream {
        frame: Some(out.results),
        newest,
    };
    let rejects = ArrowStream {
        frame: Some(out.rejects),
        newest,
    };
    PyTuple::new(
        py,
        [
            Bound::new(py, results)?.into_any(),
            Bound::new(py, rejects)?.into_any(),
            summary.into_pyobject(py)?.into_any(),
        ],
    )
}

/// Classifies a frame (any `__arrow_c_stream__` object); returns (results, rejects,
/// summary JSON) with the results and rejects as Arrow streams.
#[pyfunction]
#[pyo3(signature = (data, *, ruleset_dir=None, layout_name="wide", evidence_name="full", guidance_text=false, source="<frame>".to_string(), decimal_name="auto", mapping_path=None, panel_window_days=7.0, newest=true))]
#[allow(clippy::too_many_arguments)]
fn classify<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    ruleset_dir: Option<PathBuf>,
    layout_name: &str,
    evidence_name: &str,
    guidance_text: bool,
    source: String,
    decimal_name: &str,
    mapping_path: Option<PathBuf>,
    panel_window_days: f64,
    newest: bool,
) -> PyResult<Bound<'py, PyTuple>> {
    let rs = ruleset(py, ruleset_dir)?;
    let opts = FrameOptions {
        source,
        schema: SchemaOptions {
            evidence: evidence(py, evidence_name)?,
            guidance_text,
        },
        decimal: decimal(py, decimal_name)?,
        mapping: mapping(py, mapping_path, &rs)?,
        layout: layout(py, layout_name)?,
        panel_window_days,
        ..FrameOptions::default()
    };
    let df = frame_from_stream(py, data)?;
    let out = py
        .detach(|| classify_frame(df, &rs, &opts))
        .map_err(|e| engine_error(py, e))?;
    hand_over(py, out, newest)
}

/// Classifies a file as `anemia-engine classify` reads it.
#[pyfunction]
#[pyo3(signature = (path, *, ruleset_dir=None, layout_name="auto", evidence_name="full", guidance_text=false, decimal_name="auto", mapping_path=None, panel_window_days=7.0, newest=true))]
#[allow(clippy::too_many_arguments)]
fn classify_file<'py>(
    py: Python<'py>,
    path: PathBuf,
    ruleset_dir: Option<PathBuf>,
    layout_name: &str,
    evidence_name: &str,
    guidance_text: bool,
    decimal_name: &str,
    mapping_path: Option<PathBuf>,
    panel_window_days: f64,
    newest: bool,
) -> PyResult<Bound<'py, PyTuple>> {
    let rs = ruleset(py, ruleset_dir)?;
    let ingest = IngestOptions {
        layout: layout(py, layout_name)?,
        mapping: mapping(py, mapping_path, &rs)?,
        panel_window_days,
        decimal: decimal(py, decimal_name)?,
        ..IngestOptions::default()
    };
    let opts = FrameOptions {
        schema: SchemaOptions {
            evidence: evidence(py, evidence_name)?,
            guidance_text,
        },
        ..FrameOptions::default()
    };
    let input = Input::parse(&path.to_string_lossy());
    if input == Input::Stdin {
        return Err(usage_error(
            py,
            "classify_file reads a file, not `-` (stdin)".into(),
        ));
    }
    // As `classify` checks its inputs before opening them.
    if !path.exists() {
        return Err(usage_error(
            py,
            format!("input {} does not exist", path.display()),
        ));
    }
    if path.is_dir() {
        return Err(usage_error(
            py,
            format!(
                "input {} is a directory: classify_file reads one file",
                path.display()
            ),
        ));
    }
    let out = py
        .detach(|| classify_input(&input, &rs, &ingest, &opts))
        .map_err(|e| engine_error(py, e))?;
    hand_over(py, out, newest)
}

/// `anemia-engine explain` of one panel of a frame: the frame is written to a temporary CSV
/// file and explained as the CLI explains that file (line 1 is its header).
#[pyfunction]
#[pyo3(signature = (data, *, row=None, specimen=None, ruleset_dir=None, layout_name="wide", decimal_name="auto", mapping_path=None, panel_window_days=7.0, json=true))]
#[allow(clippy::too_many_arguments)]
fn explain(
    py: Python<'_>,
    data: &Bound<'_, PyAny>,
    row: Option<u64>,
    specimen: Option<String>,
    ruleset_dir: Option<PathBuf>,
    layout_name: &str,
    decimal_name: &str,
    mapping_path: Option<PathBuf>,
    panel_window_days: f64,
    json: bool,
) -> PyResult<String> {
    let rs = ruleset(py, ruleset_dir)?;
    let selector = match (specimen, row) {
        (Some(s), _) => PanelSelector::Specimen(s),
        (None, Some(n)) => PanelSelector::Row(n),
        (None, None) => return Err(usage_error(py, "give row=N or specimen=ID".into())),
    };
    let layout = layout(py, layout_name)?;
    let ingest = IngestOptions {
        layout,
        mapping: mapping(py, mapping_path, &rs)?,
        panel_window_days,
        decimal: decimal(py, decimal_name)?,
        ..IngestOptions::default()
    };
    let mut df = frame_from_stream(py, data)?;
    let io = |e: std::io::Error| {
        engine_error(
            py,
            RunError::io("cannot write the frame to a temporary file", e),
        )
    };
    // CSV for both layouts: explain re-reads the row's raw cells from delimited text.
    let mut file = tempfile::Builder::new()
        .suffix(".csv")
        .tempfile()
        .map_err(io)?;
    CsvWriter::new(file.as_file_mut())
        .finish(&mut df)
        .map_err(|e| polars_error(py, "cannot write the frame to a temporary file", e))?;
    let input = Input::File(file.path().to_path_buf());
    let tmp_name = input.name();
    py.detach(|| explain_input(&input, &selector, &rs, &ingest, json))
        .map(|text| text.replace(&tmp_name, "<frame>"))
        .map_err(|e| engine_error(py, e))
}

/// The ruleset's identity as JSON: version, effective date, checksum, origin.
#[pyfunction]
#[pyo3(signature = (ruleset_dir=None))]
fn ruleset_info(py: Python<'_>, ruleset_dir: Option<PathBuf>) -> PyResult<String> {
    let rs = ruleset(py, ruleset_dir)?;
    let summary = anemia_engine::report::summary::Summary::of_run(&rs);
    let mut info = serde_json::to_value(&summary.ruleset).map_err(|e| {
        raise(
            py,
            "EngineIOError",
            format!("cannot write the ruleset: {e}"),
            1,
        )
    })?;
    if let Some(map) = info.as_object_mut() {
        map.insert("engine_version".into(), summary.engine_version.into());
        map.insert("schema_version".into(), summary.schema_version.into());
    }
    Ok(info.to_string())
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<ArrowStream>()?;
    m.add_function(wrap_pyfunction!(classify, m)?)?;
    m.add_function(wrap_pyfunction!(classify_file, m)?)?;
    m.add_function(wrap_pyfunction!(explain, m)?)?;
    m.add_function(wrap_pyfunction!(ruleset_info, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
