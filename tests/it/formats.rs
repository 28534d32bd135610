//! The known-answer corpus in every output format (CSV, NDJSON, Parquet): columns, order,
//! metadata, cross-format equality, and small per-format snapshots.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::Path;

use polars::prelude::{AnyValue, DataFrame, DataType, ParquetReader, SerReader, TimeUnit};
use serde_json::Value;

use crate::common::{
    code, column_values, corpus_specimen_ids, csv_records, embedded_checksum, engine, fixture,
    ndjson_rows, read, run_corpus, s, snapshot_settings, stderr, write_input, CORPUS_PANELS,
    SPEC_COLUMNS,
};

#[test]
fn corpus_csv_output() {
    let (dir, out) = run_corpus("out.csv");
    let records = csv_records(&out);
    let header: Vec<&str> = records[0].iter().collect();
    assert_eq!(header, SPEC_COLUMNS);
    assert_eq!(records.len(), CORPUS_PANELS + 1);
    // Rows are written in input order.
    assert_eq!(
        column_values(&records, "specimen_id"),
        corpus_specimen_ids()
    );
    // A clean corpus leaves an empty rejects file (header only) next to OUT.
    assert_eq!(
        read(&dir.path().join("out.rejects.csv")),
        "source,line,reason_code,message,raw\n"
    );
}

#[test]
fn corpus_ndjson_output() {
    let (_dir, out) = run_corpus("out.ndjson");
    let rows = ndjson_rows(&out);
    assert_eq!(rows.len(), CORPUS_PANELS);
    for row in &rows {
        let keys: Vec<&str> = row.keys().map(String::as_str).collect();
        let mut expected = SPEC_COLUMNS.to_vec();
        expected.push("guidance_text");
        assert_eq!(
            keys, expected,
            "NDJSON keys are the CSV columns, in order, and the guidance texts"
        );
        for list in [
            "flags",
            "recommended_tests",
            "guidance",
            "evidence",
            "guidance_text",
        ] {
            assert!(row[list].is_array(), "{list} is an array in NDJSON");
        }
    }
}

fn any_text(v: &AnyValue) -> String {
    match v {
        AnyValue::Null => "null".to_string(),
        AnyValue::String(x) => x.to_string(),
        AnyValue::StringOwned(x) => x.to_string(),
        AnyValue::Boolean(b) => b.to_string(),
        AnyValue::Float64(f) => format!("{f}"),
        other => format!("{other}"),
    }
}

fn render_frame(df: &DataFrame) -> String {
    let mut text = String::from("schema:\n");
    for c in df.columns() {
        writeln!(text, "  {}: {}", c.name(), c.dtype()).expect("write");
    }
    for i in 0..df.height() {
        let cells: Vec<String> = df
            .columns()
            .iter()
            .map(|c| format!("{}={}", c.name(), any_text(&c.get(i).expect("cell"))))
            .collect();
        writeln!(text, "row {}: {}", i + 1, cells.join(", ")).expect("write");
    }
    text
}

/// Does a Parquet cell carry the same value as the CSV cell of the same panel and column?
/// (CSV writes a timestamp as ISO 8601, joins lists with `;`, evidence with ` | `.)
fn same_value(parquet: &AnyValue, csv_cell: &str, column: &str) -> bool {
    match parquet {
        AnyValue::Null => csv_cell.is_empty(),
        AnyValue::Float64(f) => csv_cell.parse::<f64>().is_ok_and(|c| (c - f).abs() < 1e-9),
        AnyValue::UInt64(n) => csv_cell == n.to_string(),
        AnyValue::Boolean(b) => csv_cell == b.to_string(),
        AnyValue::String(x) => *x == csv_cell,
        AnyValue::StringOwned(x) => x.as_str() == csv_cell,
        AnyValue::Datetime(micros, TimeUnit::Microseconds, None) => {
            anemia_engine::isotime::iso_timestamp(csv_cell).map(|t| t.micros) == Some(*micros)
        }
        AnyValue::List(items) => {
            let sep = if column == "evidence" { " | " } else { ";" };
            let items = items.str().expect("list of utf8");
            let joined: Vec<&str> = items.iter().map(|i| i.expect("item")).collect();
            joined.join(sep) == csv_cell
        }
        _ => false,
    }
}

#[test]
fn corpus_parquet_output() {
    let (dir, out) = run_corpus("out.parquet");
    let df = ParquetReader::new(fs::File::open(&out).expect("open parquet"))
        .finish()
        .expect("read parquet");
    let names: Vec<&str> = df.get_column_names().iter().map(|n| n.as_str()).collect();
    assert_eq!(names, SPEC_COLUMNS, "Parquet schema = CSV header");
    assert_eq!(df.height(), CORPUS_PANELS);

    // Key-value metadata names the engine, the ruleset version and its checksum.
    let mut reader = ParquetReader::new(fs::File::open(&out).expect("open parquet"));
    let meta = reader.get_metadata().expect("parquet metadata");
    let kv: BTreeMap<String, Option<String>> = meta
        .key_value_metadata()
        .as_ref()
        .expect("key-value metadata")
        .iter()
        .map(|k| (k.key.clone(), k.value.clone()))
        .collect();
    assert_eq!(
        kv.get("anemia_engine.ruleset_version"),
        Some(&Some("2026.2".to_string()))
    );
    assert_eq!(
        kv.get("anemia_engine.ruleset_checksum"),
        Some(&Some(embedded_checksum()))
    );

    // Same values as the CSV output of the same corpus, cell by cell.
    let csv_out = dir.path().join("same.csv");
    let o = engine(&[
        "classify",
        s(&fixture("cases.csv")),
        "-o",
        s(&csv_out),
        "--quiet",
    ]);
    assert_eq!(code(&o), 0);
    let records = csv_records(&csv_out);
    for (j, col) in df.columns().iter().enumerate() {
        // Label columns are dictionary-encoded: compare their codes.
        let col = match col.dtype() {
            DataType::Enum(..) | DataType::Categorical(..) => {
                col.cast(&DataType::String).expect("codes")
            }
            _ => col.clone(),
        };
        for (i, rec) in records[1..].iter().enumerate() {
            let v = col.get(i).expect("cell");
            assert!(
                same_value(&v, &rec[j], col.name()),
                "row {} column {}: parquet {v:?} vs csv {:?}",
                i + 1,
                col.name(),
                &rec[j]
            );
        }
    }
}

/// A CSV cell and the NDJSON value of the same panel and column.
fn same_json(v: &Value, csv_cell: &str, column: &str) -> bool {
    match v {
        Value::Null => csv_cell.is_empty(),
        Value::String(x) => x == csv_cell,
        Value::Bool(b) => csv_cell == b.to_string(),
        Value::Number(n) => csv_cell
            .parse::<f64>()
            .is_ok_and(|c| (c - n.as_f64().expect("f64")).abs() < 1e-9),
        Value::Array(items) => {
            let sep = if column == "evidence" { " | " } else { ";" };
            let joined: Vec<&str> = items.iter().map(|i| i.as_str().expect("str")).collect();
            joined.join(sep) == csv_cell
        }
        Value::Object(_) => false,
    }
}

#[test]
fn corpus_csv_and_ndjson_carry_the_same_rows_in_the_same_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let csv_out = dir.path().join("out.csv");
    let nd_out = dir.path().join("out.ndjson");
    for out in [&csv_out, &nd_out] {
        let o = engine(&[
            "classify",
            s(&fixture("cases.csv")),
            "-o",
            s(out),
            "--quiet",
        ]);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
    }
    let records = csv_records(&csv_out);
    let rows = ndjson_rows(&nd_out);
    assert_eq!(records.len() - 1, rows.len());
    let header: Vec<String> = records[0].iter().map(str::to_string).collect();
    for (rec, row) in records[1..].iter().zip(&rows) {
        for key in ["patient_id", "specimen_id", "classification"] {
            let j = header.iter().position(|h| h == key).expect("column");
            assert_eq!(row[key].as_str(), Some(&rec[j]), "{key}");
        }
        let flags: Vec<&str> = row["flags"]
            .as_array()
            .expect("flags array")
            .iter()
            .map(|f| f.as_str().expect("flag"))
            .collect();
        let j = header.iter().position(|h| h == "flags").expect("flags");
        assert_eq!(flags.join(";"), &rec[j]);
        // And every other column carries the same value.
        for (j, name) in header.iter().enumerate() {
            assert!(
                same_json(&row[name], &rec[j], name),
                "{} {name}: ndjson {} vs csv {:?}",
                &rec[3],
                row[name],
                &rec[j]
            );
        }
    }
}

// ---------------------------------------------------------------------------------------
// A handful of diverse panels in each format, snapshotted in full. The whole corpus is
// pinned by the known-answer comparison (corpus.rs) and by the cross-format equality above.
// ---------------------------------------------------------------------------------------

/// Corpus panels of six labels: K151 mixed with a TSAT derived from transferrin, K174 iron
/// deficiency with a censored ferritin, a marked Hb below the transfusion threshold and
/// NSAID caution, K116 thalassemia trait, K122 B12/folate with a censored B12, K142 a text
/// Hb (insufficient data), K109 not anemic with an iron overload pattern.
const SAMPLE_SPECIMENS: [&str; 6] = ["K151", "K174", "K116", "K122", "K142", "K109"];

/// Writes the sample panels of cases.csv and, in a second file, QA01 of qa_explain.csv (SI
/// units: Hb g/L, ferritin pmol/L, iron and TIBC umol/L, CRP mg/dL, B12 pmol/L, folate
/// nmol/L; birth date, altitude, pregnancy, ignored columns): the inputs of one run.
fn sample_inputs(dir: &Path) -> Vec<std::path::PathBuf> {
    let cases = read(&fixture("cases.csv"));
    let mut lines = cases.lines();
    let mut text = format!("{}\n", lines.next().expect("header"));
    let rows: Vec<&str> = lines.collect();
    for id in SAMPLE_SPECIMENS {
        let row = rows
            .iter()
            .find(|l| l.split(',').nth(1) == Some(id))
            .unwrap_or_else(|| panic!("{id} not in cases.csv"));
        text.push_str(row);
        text.push('\n');
    }
    let qa = read(&fixture("qa_explain.csv"));
    let si: Vec<&str> = qa.lines().take(2).collect();
    assert!(si[1].starts_with("QA01,"), "{}", si[1]);
    vec![
        write_input(dir, "sample.csv", text.as_bytes()),
        write_input(dir, "sample_si.csv", (si.join("\n") + "\n").as_bytes()),
    ]
}

/// Classifies the sample panels into `dir/name`; checks a clean run of seven panels.
fn run_sample(name: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let inputs = sample_inputs(dir.path());
    let out = dir.path().join(name);
    let mut args = vec!["classify"];
    args.extend(inputs.iter().map(|p| s(p)));
    args.extend(["-o", s(&out), "--quiet"]);
    let o = engine(&args);
    assert_eq!(code(&o), 0, "stderr: {}", stderr(&o));
    let rejects = csv_records(&dir.path().join(format!(
        "{}.rejects.csv",
        name.split('.').next().expect("stem")
    )));
    assert_eq!(rejects.len(), 1, "no sample panel is rejected");
    (dir, out)
}

const SAMPLE_PANELS: usize = SAMPLE_SPECIMENS.len() + 1;

#[test]
fn sample_panels_csv_output() {
    let (_dir, out) = run_sample("out.csv");
    assert_eq!(csv_records(&out).len(), SAMPLE_PANELS + 1);
    snapshot_settings().bind(|| insta::assert_snapshot!("formats_sample_csv", read(&out)));
}

#[test]
fn sample_panels_ndjson_output() {
    let (_dir, out) = run_sample("out.ndjson");
    assert_eq!(ndjson_rows(&out).len(), SAMPLE_PANELS);
    snapshot_settings().bind(|| insta::assert_snapshot!("formats_sample_ndjson", read(&out)));
}

#[test]
fn sample_panels_parquet_output() {
    let (_dir, out) = run_sample("out.parquet");
    let df = ParquetReader::new(fs::File::open(&out).expect("open parquet"))
        .finish()
        .expect("read parquet");
    assert_eq!(df.height(), SAMPLE_PANELS);
    snapshot_settings()
        .bind(|| insta::assert_snapshot!("formats_sample_parquet", render_frame(&df)));
}

/// A result file written by interface 2026.1 (text analytes, `;`-joined lists, no provenance
/// columns) still diffs against today's typed output of the same panels: a QA team compares
/// before and after the upgrade.
#[test]
fn results_of_interface_2026_1_diff_clean_against_typed_results() {
    let old = fixture("results_interface_2026_1.csv");
    for name in ["new.csv", "new.parquet", "new.arrow"] {
        let (_dir, out) = run_sample(name);
        let o = engine(&["diff", s(&old), s(&out), "--format", "json"]);
        assert_eq!(code(&o), 0, "{name}: {}", stderr(&o));
        let report: Value = serde_json::from_slice(&o.stdout).expect("json");
        assert_eq!(report["counts"]["changed"], 0, "{name}: {report}");
        assert_eq!(report["counts"]["unchanged"], 7, "{name}: {report}");
    }
}
