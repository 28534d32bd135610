//! The typed data plane (interface 2026.2, "Output"): one schema in every format, read back
//! with polars' own readers; Parquet, Arrow IPC and in-memory frames as inputs giving the
//! same results as the CSV export; output independent of the batch size; every format on
//! stdout; the library's `classify_frame`.

use std::fs;
use std::io::Cursor;
use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::common::{
    code, col_of, csv_records, engine, fixture, s, stderr, write_input, CORPUS_PANELS, SPEC_COLUMNS,
};

/// The analyte columns of the spec, in order.
const ANALYTES: [&str; 26] = [
    "hb_g_dl",
    "rbc_10e12_l",
    "mcv_fl",
    "mch_pg",
    "mchc_g_dl",
    "rdw_pct",
    "retic_pct",
    "retic_abs_10e9_l",
    "ret_he_pg",
    "ferritin_ug_l",
    "iron_ug_dl",
    "tibc_ug_dl",
    "transferrin_mg_dl",
    "tsat_pct",
    "stfr_mg_l",
    "crp_mg_l",
    "esr_mm_h",
    "agp_g_l",
    "ldh_u_l",
    "haptoglobin_g_l",
    "bilirubin_mg_dl",
    "b12_pg_ml",
    "folate_ng_ml",
    "calcium_mg_dl",
    "creatinine_mg_dl",
    "egfr_ml_min_1_73m2",
];

/// The Parquet/Arrow type interface.md gives each column (labels: dictionary-encoded).
fn spec_type(name: &str) -> &'static str {
    match name {
        "source_line" => "u64",
        "collected_at" => "timestamp[us]",
        "age_years" | "hb_threshold_g_dl" => "f64",
        "anemia" => "bool",
        "severity" | "morphology" | "inflammation" | "iron_status" | "classification" => {
            "dictionary"
        }
        "flags" | "recommended_tests" | "guidance" | "evidence" | "guidance_text" => "list<utf8>",
        n if ANALYTES.contains(&n) => "f64",
        _ => "utf8",
    }
}

fn polars_type(dt: &DataType) -> String {
    match dt {
        DataType::UInt64 => "u64".into(),
        DataType::Float64 => "f64".into(),
        DataType::Boolean => "bool".into(),
        DataType::String => "utf8".into(),
        DataType::Datetime(TimeUnit::Microseconds, None) => "timestamp[us]".into(),
        DataType::Enum(..) | DataType::Categorical(..) => "dictionary".into(),
        DataType::List(inner) if **inner == DataType::String => "list<utf8>".into(),
        other => format!("{other:?}"),
    }
}

fn classify_to(input: &Path, out: &Path, extra: &[&str]) {
    let mut args = vec!["classify", s(input), "-o", s(out), "--quiet"];
    args.extend(extra);
    let o = engine(&args);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
}

fn read_parquet(path: &Path) -> DataFrame {
    ParquetReader::new(fs::File::open(path).expect("open"))
        .finish()
        .expect("read parquet")
}

fn read_arrow(path: &Path) -> DataFrame {
    IpcReader::new(fs::File::open(path).expect("open"))
        .finish()
        .expect("read arrow")
}

fn assert_spec_schema(df: &DataFrame, what: &str) {
    let names: Vec<&str> = df.get_column_names().iter().map(|n| n.as_str()).collect();
    assert_eq!(names, SPEC_COLUMNS, "{what}: names and order");
    for c in df.columns() {
        assert_eq!(
            polars_type(c.dtype()),
            spec_type(c.name()),
            "{what}: type of {}",
            c.name()
        );
    }
}

#[test]
fn parquet_and_arrow_carry_the_typed_schema_and_the_ruleset() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pq = dir.path().join("out.parquet");
    let arrow = dir.path().join("out.arrow");
    classify_to(&fixture("cases.csv"), &pq, &[]);
    classify_to(&fixture("cases.csv"), &arrow, &[]);
    let p = read_parquet(&pq);
    let a = read_arrow(&arrow);
    assert_spec_schema(&p, "parquet");
    assert_spec_schema(&a, "arrow");
    assert_eq!(p.height(), CORPUS_PANELS);
    assert!(
        p.equals_missing(&a),
        "Parquet and Arrow hold the same values"
    );
    // A censored ferritin is a number with its comparator, not text.
    let k174 = p
        .clone()
        .lazy_free_filter("specimen_id", "K174")
        .expect("K174");
    assert_eq!(k174.0.f64().expect("f64").get(0), Some(10.0));
    assert_eq!(k174.1.str().expect("utf8").get(0), Some("<"));
    // Arrow: the ruleset in the schema metadata.
    let mut reader = IpcReader::new(fs::File::open(&arrow).expect("open"));
    let meta = reader
        .custom_metadata()
        .expect("metadata")
        .expect("some metadata");
    assert_eq!(
        meta.get("anemia_engine.ruleset_version")
            .map(|v| v.as_str()),
        Some("2026.2")
    );
    assert!(meta.contains_key("anemia_engine.ruleset_checksum"));
}

/// The ferritin and its comparator of one specimen (a tiny filter without the lazy API).
trait FreeFilter {
    fn lazy_free_filter(self, column: &str, value: &str) -> Option<(Series, Series)>;
}

impl FreeFilter for DataFrame {
    fn lazy_free_filter(self, column: &str, value: &str) -> Option<(Series, Series)> {
        let ids = self.column(column).ok()?.str().ok()?.clone();
        let mask: BooleanChunked = ids.iter().map(|v| Some(v == Some(value))).collect();
        let rows = self.filter(&mask).ok()?;
        Some((
            rows.column("ferritin_ug_l")
                .ok()?
                .as_materialized_series()
                .clone(),
            rows.column("ferritin_ug_l_comparator")
                .ok()?
                .as_materialized_series()
                .clone(),
        ))
    }
}

#[test]
fn csv_and_tsv_read_back_with_stable_numeric_types() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, sep) in [("out.csv", b','), ("out.tsv", b'\t')] {
        let out = dir.path().join(name);
        classify_to(&fixture("cases.csv"), &out, &[]);
        let df = CsvReadOptions::default()
            .with_has_header(true)
            .with_infer_schema_length(None)
            .with_parse_options(CsvParseOptions::default().with_separator(sep))
            .try_into_reader_with_file_path(Some(out.clone()))
            .expect("reader")
            .finish()
            .expect("polars reads the CSV");
        let names: Vec<&str> = df.get_column_names().iter().map(|n| n.as_str()).collect();
        assert_eq!(names, SPEC_COLUMNS, "{name}");
        // Censored values no longer turn a column into text: every analyte column with
        // values reads as a float column.
        for a in ANALYTES {
            let dt = df.column(a).expect("column").dtype().clone();
            let values =
                df.column(a).expect("column").len() - df.column(a).expect("c").null_count();
            if values > 0 {
                assert!(
                    matches!(dt, DataType::Float64 | DataType::Int64),
                    "{name} {a}: {dt:?}"
                );
            }
        }
        assert_eq!(
            df.column("hb_g_dl").expect("hb").dtype(),
            &DataType::Float64
        );
        assert_eq!(
            df.column("source_line").expect("line").dtype(),
            &DataType::Int64
        );
        assert_eq!(
            df.column("anemia").expect("anemia").dtype(),
            &DataType::Boolean
        );
        assert_eq!(
            df.column("hb_threshold_g_dl").expect("t").dtype(),
            &DataType::Float64
        );
    }
}

#[test]
fn ndjson_reads_back_with_lists_and_numbers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out.ndjson");
    classify_to(&fixture("cases.csv"), &out, &[]);
    let df = JsonReader::new(fs::File::open(&out).expect("open"))
        .with_json_format(JsonFormat::JsonLines)
        .infer_schema_len(None)
        .finish()
        .expect("polars reads the NDJSON");
    // polars' NDJSON reader does not keep key order (formats.rs checks it line by line).
    let mut names: Vec<&str> = df.get_column_names().iter().map(|n| n.as_str()).collect();
    names.sort_unstable();
    let mut expected = SPEC_COLUMNS.to_vec();
    expected.push("guidance_text");
    expected.sort_unstable();
    assert_eq!(names, expected);
    for list in [
        "flags",
        "recommended_tests",
        "guidance",
        "evidence",
        "guidance_text",
    ] {
        assert_eq!(
            df.column(list).expect("list").dtype(),
            &DataType::List(Box::new(DataType::String)),
            "{list}"
        );
    }
    assert_eq!(
        df.column("hb_g_dl").expect("hb").dtype(),
        &DataType::Float64
    );
    assert_eq!(df.column("anemia").expect("a").dtype(), &DataType::Boolean);
}

#[test]
fn evidence_none_leaves_the_column_out() {
    let dir = tempfile::tempdir().expect("tempdir");
    for name in ["lean.csv", "lean.parquet", "lean.arrow"] {
        let out = dir.path().join(name);
        classify_to(&fixture("cases.csv"), &out, &["--evidence", "none"]);
        let names: Vec<String> = if name.ends_with(".csv") {
            csv_records(&out)[0].iter().map(str::to_string).collect()
        } else if name.ends_with(".parquet") {
            read_parquet(&out)
                .get_column_names()
                .iter()
                .map(|n| n.to_string())
                .collect()
        } else {
            read_arrow(&out)
                .get_column_names()
                .iter()
                .map(|n| n.to_string())
                .collect()
        };
        let expected: Vec<&str> = SPEC_COLUMNS
            .iter()
            .copied()
            .filter(|c| *c != "evidence")
            .collect();
        assert_eq!(names, expected, "{name}");
    }
}

/// `--evidence none` skips formatting the evidence lines, never a decision: every other
/// column equals the full run's, on the known-answer corpora and the guidance contexts.
#[test]
fn evidence_none_changes_no_other_column() {
    let dir = tempfile::tempdir().expect("tempdir");
    for input in ["cases.csv", "cases_2026_2.csv", "guidance_contexts.csv"] {
        let full = dir.path().join("full.csv");
        let lean = dir.path().join("lean.csv");
        classify_to(&fixture(input), &full, &[]);
        classify_to(&fixture(input), &lean, &["--evidence", "none"]);
        let full = csv_records(&full);
        let lean = csv_records(&lean);
        let evidence = full[0]
            .iter()
            .position(|c| c == "evidence")
            .expect("evidence column");
        assert_eq!(full.len(), lean.len(), "{input}");
        assert!(full.len() > 10, "{input}");
        for (f, l) in full.iter().zip(&lean) {
            let mut f: Vec<&str> = f.iter().collect();
            f.remove(evidence);
            let l: Vec<&str> = l.iter().collect();
            assert_eq!(f, l, "{input}");
        }
    }
}

/// Writes cases.csv as a typed frame: a column whose every cell is blank or a plain number
/// becomes Float64, any other column stays text (censored `<10`, text results).
fn corpus_frame(name: &str) -> DataFrame {
    let records = csv_records(&fixture(name));
    let header = &records[0];
    let mut cols = Vec::new();
    for (j, name) in header.iter().enumerate() {
        let cells: Vec<&str> = records[1..].iter().map(|r| &r[j]).collect();
        let numeric = name != "patient_id"
            && name != "specimen_id"
            && cells
                .iter()
                .all(|c| c.trim().is_empty() || c.trim().parse::<f64>().is_ok());
        let col = if numeric {
            let v: Vec<Option<f64>> = cells.iter().map(|c| c.trim().parse().ok()).collect();
            Column::new(name.into(), v)
        } else {
            let v: Vec<Option<&str>> = cells
                .iter()
                .map(|c| (!c.is_empty()).then_some(*c))
                .collect();
            Column::new(name.into(), v)
        };
        cols.push(col);
    }
    DataFrame::new(records.len() - 1, cols).expect("frame")
}

fn write_columnar(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let mut df = corpus_frame(name);
    let stem = name.trim_end_matches(".csv");
    let pq = dir.join(format!("{stem}.parquet"));
    let arrow = dir.join(format!("{stem}.arrow"));
    ParquetWriter::new(fs::File::create(&pq).expect("create"))
        .finish(&mut df)
        .expect("write parquet");
    IpcWriter::new(fs::File::create(&arrow).expect("create"))
        .finish(&mut df)
        .expect("write arrow");
    (pq, arrow)
}

/// Every column but provenance (source_file; source_line is the row number in a columnar
/// file and the physical line in text).
fn decisions(path: &Path) -> Vec<Vec<String>> {
    let records = csv_records(path);
    let skip = [
        col_of(&records[0], "source_file"),
        col_of(&records[0], "source_line"),
    ];
    records
        .iter()
        .map(|r| {
            r.iter()
                .enumerate()
                .filter(|(i, _)| !skip.contains(i))
                .map(|(_, c)| c.to_string())
                .collect()
        })
        .collect()
}

#[test]
fn parquet_and_arrow_inputs_classify_like_the_csv_export() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (pq, arrow) = write_columnar(dir.path(), "cases.csv");
    let from_csv = dir.path().join("from_csv.csv");
    classify_to(&fixture("cases.csv"), &from_csv, &[]);
    let expected = decisions(&from_csv);
    assert_eq!(expected.len(), CORPUS_PANELS + 1);
    for input in [&pq, &arrow] {
        let out = dir.path().join(format!(
            "from_{}.csv",
            input.extension().expect("ext").to_string_lossy()
        ));
        let summary = dir.path().join("summary.json");
        classify_to(input, &out, &["--summary", s(&summary)]);
        let got = decisions(&out);
        assert_eq!(got.len(), expected.len(), "{}", input.display());
        for (i, (g, e)) in got.iter().zip(&expected).enumerate() {
            assert_eq!(g, e, "{} row {i}", input.display());
        }
        // source_line of a columnar row is its 1-based row number.
        let records = csv_records(&out);
        assert_eq!(&records[1][col_of(&records[0], "source_line")], "1");
        let json: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(&summary).expect("summary")).expect("json");
        assert_eq!(json["rows_read"], CORPUS_PANELS);
        assert_eq!(json["ledger_balanced"], true);
        assert_eq!(json["schema_version"], "2026.2");
        assert_eq!(json["command_line"][1], "classify");
        assert!(json["started_at"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z')));
        let format = json["inputs"][0]["format"].as_str().expect("format");
        assert!(format == "parquet" || format == "arrow", "{format}");
    }
}

#[test]
fn a_directory_of_mixed_formats_is_walked_recursively_in_name_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let exports = dir.path().join("exports");
    let hive = exports.join("site=north").join("day=2026-11-30");
    fs::create_dir_all(&hive).expect("mkdir");
    let (pq, _arrow) = write_columnar(dir.path(), "cases.csv");
    fs::copy(&pq, hive.join("a.parquet")).expect("copy");
    fs::copy(fixture("cases.csv"), exports.join("b.csv")).expect("copy");
    fs::write(exports.join("notes.md"), "not an export").expect("write");
    // The run's own output inside the walked directory is never read back.
    let out = exports.join("results.csv");
    fs::write(&out, "stale").expect("write");
    let summary = dir.path().join("summary.json");
    let o = engine(&[
        "classify",
        s(&exports),
        "-o",
        s(&out),
        "--summary",
        s(&summary),
        "--quiet",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let json: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&summary).expect("summary")).expect("json");
    let names: Vec<&str> = json["inputs"]
        .as_array()
        .expect("inputs")
        .iter()
        .map(|i| i["name"].as_str().expect("name"))
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names[0].ends_with("b.csv"), "{names:?}");
    assert!(names[1].ends_with("day=2026-11-30/a.parquet"), "{names:?}");
    assert_eq!(json["rows_read"], 2 * CORPUS_PANELS);
}

#[test]
fn the_batch_size_changes_no_output_byte() {
    let dir = tempfile::tempdir().expect("tempdir");
    for ext in ["csv", "parquet", "arrow", "ndjson"] {
        let mut outputs = Vec::new();
        for batch in ["1", "7", "8192"] {
            let out = dir.path().join(format!("b{batch}.{ext}"));
            classify_to(&fixture("cases.csv"), &out, &["--batch-rows", batch]);
            outputs.push(fs::read(&out).expect("read"));
        }
        assert!(outputs.windows(2).all(|w| w[0] == w[1]), "{ext}");
    }
}

#[test]
fn every_format_goes_to_stdout_as_it_goes_to_a_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    for format in ["csv", "tsv", "parquet", "ndjson", "arrow"] {
        let file = dir.path().join(format!("out.{format}"));
        classify_to(&fixture("cases.csv"), &file, &[]);
        let o = engine(&[
            "classify",
            s(&fixture("cases.csv")),
            "-o",
            "-",
            "--format",
            format,
            "--quiet",
        ]);
        assert_eq!(code(&o), 0, "{format}: {}", stderr(&o));
        assert!(!o.stdout.is_empty(), "{format}");
        assert_eq!(o.stdout, fs::read(&file).expect("read"), "{format}");
    }
    // And Parquet from stdout reads back.
    let o = engine(&[
        "classify",
        s(&fixture("cases.csv")),
        "--format",
        "parquet",
        "--quiet",
    ]);
    let df = ParquetReader::new(Cursor::new(o.stdout))
        .finish()
        .expect("parquet from stdout");
    assert_eq!(df.height(), CORPUS_PANELS);
}

#[test]
fn every_format_into_a_closed_stdout_exits_141_without_a_message() {
    use std::io::Read;
    use std::process::{Command, Stdio};
    for format in ["csv", "parquet", "ndjson", "arrow"] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_anemia-engine"))
            .args(["classify", s(&fixture("cases.csv")), "--format", format])
            .args(["--batch-rows", "1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        let mut first = [0u8; 4];
        child
            .stdout
            .take()
            .expect("stdout")
            .read_exact(&mut first)
            .expect("first bytes");
        let o = child.wait_with_output().expect("wait");
        assert_eq!(o.status.code(), Some(141), "{format}: {}", stderr(&o));
        assert_eq!(stderr(&o), "", "{format}: no message");
    }
}

#[test]
fn parquet_results_diff_clean_against_the_csv_results() {
    let dir = tempfile::tempdir().expect("tempdir");
    let csv_out = dir.path().join("r.csv");
    let pq_out = dir.path().join("r.parquet");
    let arrow_out = dir.path().join("r.arrow");
    for out in [&csv_out, &pq_out, &arrow_out] {
        classify_to(&fixture("cases.csv"), out, &[]);
    }
    for other in [&pq_out, &arrow_out] {
        let o = engine(&["diff", s(&csv_out), s(other)]);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        let text = String::from_utf8_lossy(&o.stdout).into_owned();
        assert!(
            text.contains(&format!("unchanged        {CORPUS_PANELS}")),
            "{text}"
        );
        assert!(text.contains("changed            0"), "{text}");
    }
}

#[test]
fn comparator_columns_of_an_input_bound_the_value() {
    let dir = tempfile::tempdir().expect("tempdir");
    let censored = write_input(
        dir.path(),
        "a.csv",
        b"patient_id,specimen_id,sex,age_years,hb_g_dl,mcv_fl,ferritin_ug_l,crp_mg_l\n\
P1,S1,M,50,10.0,72,<10,2\n",
    );
    let split = write_input(
        dir.path(),
        "b.csv",
        b"patient_id,specimen_id,sex,age_years,hb_g_dl,mcv_fl,ferritin_ug_l,ferritin_ug_l_comparator,crp_mg_l\n\
P1,S1,M,50,10.0,72,10,<,2\n",
    );
    let (a, b) = (dir.path().join("a_out.csv"), dir.path().join("b_out.csv"));
    classify_to(&censored, &a, &[]);
    classify_to(&split, &b, &[]);
    assert_eq!(decisions(&a), decisions(&b));
    let records = csv_records(&b);
    assert_eq!(
        &records[1][col_of(&records[0], "ferritin_ug_l_comparator")],
        "<"
    );
    assert!(records[1][col_of(&records[0], "flags")].contains("CENSORED_VALUE"));
}

#[test]
fn classify_frame_returns_typed_results_and_rejects() {
    use anemia_engine::frame::{classify_frame, FrameOptions};
    let rs = anemia_engine::ruleset::Ruleset::embedded().expect("ruleset");
    let df = df!(
        "patient_id" => [Some("P1"), Some("P2"), None],
        "specimen_id" => ["S1", "S2", "S3"],
        "sex" => ["F", "M", "F"],
        "age_years" => [34.0, 61.0, 40.0],
        "hb_g_dl" => [Some(10.1), Some(14.2), Some(9.0)],
        "mcv_fl" => [72.0, 90.0, 70.0],
        "ferritin_ug_l" => [Some("<5"), Some("120"), Some("8")],
        "crp_mg_l" => [1.0, 2.0, 1.0],
    )
    .expect("frame");
    let out = classify_frame(df, &rs, &FrameOptions::default()).expect("classified");
    assert_spec_schema(&out.results, "classify_frame");
    assert_eq!(out.results.height(), 2);
    let labels = out
        .results
        .column("classification")
        .expect("classification")
        .cast(&DataType::String)
        .expect("codes");
    let labels: Vec<Option<&str>> = labels.str().expect("utf8").iter().collect();
    assert_eq!(labels, [Some("iron_deficiency_anemia"), Some("no_anemia")]);
    let ferritin = out.results.column("ferritin_ug_l").expect("ferritin");
    assert_eq!(ferritin.f64().expect("f64").get(0), Some(5.0));
    assert_eq!(out.rejects.height(), 1);
    let reason = out.rejects.column("reason_code").expect("reason");
    assert_eq!(
        reason.str().expect("utf8").get(0),
        Some("missing_patient_id")
    );
    assert_eq!(out.summary.rows_read, 3);
    assert!(out.summary.ledger_balanced);
}

#[test]
fn a_collection_time_with_an_offset_is_written_in_utc_and_the_evidence_says_so() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = write_input(
        dir.path(),
        "tz.csv",
        b"patient_id,specimen_id,collected_at,sex,age_years,hb_g_dl\n\
P1,S1,2026-11-30T01:30:00+02:00,F,40,13.1\n\
P2,S2,2026-11-30,F,40,13.1\n\
P3,S3,30/11/2026,F,40,13.1\n",
    );
    let out = dir.path().join("out.csv");
    classify_to(&input, &out, &[]);
    let records = csv_records(&out);
    let at = col_of(&records[0], "collected_at");
    let evidence = col_of(&records[0], "evidence");
    assert_eq!(&records[1][at], "2026-11-29T23:30:00");
    assert!(
        records[1][evidence].contains(
            "DATA-005 collected_at 2026-11-30T01:30:00+02:00 carries a UTC offset: written as 2026-11-29T23:30:00 UTC"
        ),
        "{}",
        &records[1][evidence]
    );
    assert_eq!(&records[2][at], "2026-11-30T00:00:00");
    assert_eq!(&records[3][at], "", "an unreadable time is null");
    assert!(records[3][col_of(&records[0], "flags")].contains("COLLECTED_AT_UNREADABLE"));
}

/// The 2026.2 vignettes (haemolysis, sickle cell, heart failure, CKD, pregnancy, ...) through
/// Parquet and Arrow: the same results as their CSV, whose known answers corpus.rs checks.
#[test]
fn the_2026_2_vignettes_classify_alike_from_every_input_format() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (pq, arrow) = write_columnar(dir.path(), "cases_2026_2.csv");
    let from_csv = dir.path().join("from_csv.csv");
    classify_to(&fixture("cases_2026_2.csv"), &from_csv, &[]);
    let expected = decisions(&from_csv);
    assert!(expected.len() > 60, "{}", expected.len());
    for input in [&pq, &arrow] {
        let out = dir.path().join("from_columnar.csv");
        classify_to(input, &out, &[]);
        let got = decisions(&out);
        assert_eq!(got.len(), expected.len(), "{}", input.display());
        for (g, e) in got.iter().zip(&expected).skip(1) {
            let differ: Vec<String> = expected[0]
                .iter()
                .zip(g.iter().zip(e))
                .filter(|(_, (a, b))| a != b)
                .map(|(name, (a, b))| format!("{name}: {a:?} vs {b:?}"))
                .collect();
            assert!(
                differ.is_empty(),
                "{} {}: {differ:?}",
                input.display(),
                e[1]
            );
        }
    }
}
