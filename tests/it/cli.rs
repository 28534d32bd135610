//! End-to-end tests of the `anemia-engine` binary (interface.md): the known-answer corpus in
//! every output format, each kind of bad input with its message and exit code, the row
//! ledger on a messy export, and the `rules` and `explain` subcommands.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use polars::prelude::{AnyValue, DataFrame, ParquetReader, SerReader};
use serde_json::Value;

use crate::common::{engine, fixture, read, root, settings, stderr, stdout};

/// Output columns in the order interface.md lists them.
const SPEC_COLUMNS: [&str; 40] = [
    "patient_id",
    "specimen_id",
    "collected_at",
    "sex",
    "age_years",
    "hb_g_dl",
    "rbc_10e12_l",
    "mcv_fl",
    "mch_pg",
    "mchc_g_dl",
    "rdw_pct",
    "retic_pct",
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
    "b12_pg_ml",
    "folate_ng_ml",
    "calcium_mg_dl",
    "creatinine_mg_dl",
    "egfr_ml_min_1_73m2",
    "anemia",
    "hb_threshold_g_dl",
    "severity",
    "morphology",
    "inflammation",
    "iron_status",
    "classification",
    "flags",
    "recommended_tests",
    "guidance",
    "evidence",
    "ruleset_version",
    "ruleset_checksum",
];

/// Panels in tests/fixtures/cases.csv.
const CORPUS_PANELS: usize = 187;

fn s(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

/// Replaces a temporary directory's path by `[DIR]`, whatever TMPDIR is on this machine.
fn scrub(text: &str, dir: &Path) -> String {
    text.replace(s(dir), "[DIR]")
}

/// `settings()` plus a filter for the random part of the engine's temporary file names.
fn snapshot_settings() -> insta::Settings {
    let mut st = settings();
    st.add_filter(r"\.[A-Za-z0-9]{6}\.tmp\b", ".[RANDOM].tmp");
    // The checksum changes with every ruleset edit; tests assert it against the embedded one.
    st.add_filter(r"sha256:[0-9a-f]{64}", "sha256:[CHECKSUM]");
    st
}

fn embedded_checksum() -> String {
    anemia_engine::ruleset::Ruleset::embedded()
        .expect("embedded ruleset")
        .checksum
}

fn code(o: &std::process::Output) -> i32 {
    o.status.code().expect("exit code")
}

/// Reads a CSV file into records, header first.
fn csv_records(path: &Path) -> Vec<csv::StringRecord> {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_path(path)
        .expect("open csv");
    r.records().map(|rec| rec.expect("csv record")).collect()
}

fn ndjson_rows(path: &Path) -> Vec<serde_json::Map<String, Value>> {
    read(path)
        .lines()
        .map(
            |l| match serde_json::from_str::<Value>(l).expect("json line") {
                Value::Object(m) => m,
                other => panic!("not an object: {other}"),
            },
        )
        .collect()
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .expect("list dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Classifies the corpus into `dir/name` (format from the extension); checks a clean run.
fn run_corpus(name: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join(name);
    let o = engine(&[
        "classify",
        s(&fixture("cases.csv")),
        "-o",
        s(&out),
        "--quiet",
    ]);
    assert_eq!(code(&o), 0, "stderr: {}", stderr(&o));
    assert!(out.exists(), "no output at {}", out.display());
    (dir, out)
}

fn corpus_specimen_ids() -> Vec<String> {
    (1..=CORPUS_PANELS).map(|i| format!("K{i:03}")).collect()
}

// ---------------------------------------------------------------------------------------
// 1. The corpus in every format
// ---------------------------------------------------------------------------------------

#[test]
fn corpus_csv_output() {
    let (dir, out) = run_corpus("out.csv");
    let records = csv_records(&out);
    let header: Vec<&str> = records[0].iter().collect();
    assert_eq!(header, SPEC_COLUMNS);
    assert_eq!(records.len(), CORPUS_PANELS + 1);
    // Rows are written in input order.
    let ids: Vec<String> = records[1..].iter().map(|r| r[1].to_string()).collect();
    assert_eq!(ids, corpus_specimen_ids());
    // A clean corpus leaves an empty rejects file (header only) next to OUT.
    assert_eq!(
        read(&dir.path().join("out.rejects.csv")),
        "source,line,reason_code,message,raw\n"
    );
    snapshot_settings().bind(|| insta::assert_snapshot!("cli_corpus_csv", read(&out)));
}

#[test]
fn corpus_ndjson_output() {
    let (_dir, out) = run_corpus("out.ndjson");
    let rows = ndjson_rows(&out);
    assert_eq!(rows.len(), CORPUS_PANELS);
    for row in &rows {
        let keys: Vec<&str> = row.keys().map(String::as_str).collect();
        assert_eq!(
            keys, SPEC_COLUMNS,
            "NDJSON keys are the CSV columns, in order"
        );
        for list in ["flags", "recommended_tests", "guidance", "evidence"] {
            assert!(row[list].is_array(), "{list} is an array in NDJSON");
        }
    }
    snapshot_settings().bind(|| insta::assert_snapshot!("cli_corpus_ndjson", read(&out)));
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
fn same_value(parquet: &AnyValue, csv_cell: &str) -> bool {
    match parquet {
        AnyValue::Null => csv_cell.is_empty(),
        AnyValue::Float64(f) => csv_cell.parse::<f64>().is_ok_and(|c| (c - f).abs() < 1e-9),
        AnyValue::Boolean(b) => csv_cell == b.to_string(),
        AnyValue::String(x) => *x == csv_cell,
        AnyValue::StringOwned(x) => x.as_str() == csv_cell,
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
        Some(&Some("2026.1".to_string()))
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
        for (i, rec) in records[1..].iter().enumerate() {
            let v = col.get(i).expect("cell");
            assert!(
                same_value(&v, &rec[j]),
                "row {} column {}: parquet {v:?} vs csv {:?}",
                i + 1,
                col.name(),
                &rec[j]
            );
        }
    }
    snapshot_settings().bind(|| insta::assert_snapshot!("cli_corpus_parquet", render_frame(&df)));
}

fn parquet_dtypes(path: &Path) -> Vec<(String, String)> {
    let df = ParquetReader::new(fs::File::open(path).expect("open parquet"))
        .finish()
        .expect("read parquet");
    df.columns()
        .iter()
        .map(|c| (c.name().to_string(), c.dtype().to_string()))
        .collect()
}

#[test]
fn parquet_schema_does_not_depend_on_the_rows() {
    // A day on which every row is rejected must still produce the usual schema, so that
    // daily files can be read together.
    let (_dir, full) = run_corpus("out.parquet");
    let dir = tempfile::tempdir().expect("tempdir");
    let input = write_input(dir.path(), "in.csv", b"patient_id,hb_g_dl\nP1,125\n");
    let out = dir.path().join("empty.parquet");
    let o = engine(&["classify", s(&input), "-o", s(&out), "--quiet"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let expected = parquet_dtypes(&full);
    assert!(expected.contains(&("anemia".to_string(), "bool".to_string())));
    assert!(expected.contains(&("age_years".to_string(), "f64".to_string())));
    assert_eq!(parquet_dtypes(&out), expected);
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
                &rec[1],
                row[name],
                &rec[j]
            );
        }
    }
}

// ---------------------------------------------------------------------------------------
// 2. Bad input: messages and exit codes
// ---------------------------------------------------------------------------------------

/// Writes `bytes` into `dir/name` and returns the path.
fn write_input(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    fs::write(&path, bytes).expect("write input");
    path
}

#[test]
fn unknown_columns_are_reported_and_ignored() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = write_input(
        dir.path(),
        "in.csv",
        b"patient_id,specimen_id,sex,age_years,hb_g_dl,ferritn_ug_l,crp_mg_ml,lab_note\nP1,S1,F,30,11.5,12,3,ok\n",
    );
    let out = dir.path().join("out.csv");
    let summary = dir.path().join("summary.json");
    let o = engine(&[
        "classify",
        s(&input),
        "-o",
        s(&out),
        "--summary",
        s(&summary),
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains(&embedded_checksum()), "{err}");
    for col in ["ferritn_ug_l", "crp_mg_ml", "lab_note"] {
        assert!(err.contains(&format!("ignored column \"{col}\"")), "{err}");
    }
    let json: Value = serde_json::from_str(&read(&summary)).expect("summary json");
    let ignored: Vec<&str> = json["inputs"][0]["ignored_columns"]
        .as_array()
        .expect("ignored_columns")
        .iter()
        .map(|c| c["column"].as_str().expect("column"))
        .collect();
    assert_eq!(ignored, ["ferritn_ug_l", "crp_mg_ml", "lab_note"]);
    // The panel is classified without them: no ferritin, no CRP.
    let records = csv_records(&out);
    assert_eq!(records.len(), 2);
    let header: Vec<&str> = records[0].iter().collect();
    assert_eq!(header, SPEC_COLUMNS);
    let col = |n: &str| header.iter().position(|h| *h == n).expect("column");
    assert_eq!(&records[1][col("ferritin_ug_l")], "");
    assert_eq!(&records[1][col("crp_mg_l")], "");
    assert_eq!(&records[1][col("iron_status")], "unknown");
    snapshot_settings().bind(|| {
        insta::assert_snapshot!("cli_bad_unknown_columns_stderr", scrub(&err, dir.path()))
    });
}

#[test]
fn missing_patient_id_column_is_a_configuration_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = write_input(
        dir.path(),
        "in.csv",
        b"pid,specimen_id,hb_g_dl\nP1,S1,11.5\n",
    );
    let out = dir.path().join("out.csv");
    let o = engine(&["classify", s(&input), "-o", s(&out)]);
    assert_eq!(code(&o), 2);
    assert!(!out.exists(), "nothing is written on a configuration error");
    assert_eq!(files_in(dir.path()), ["in.csv"]);
    snapshot_settings().bind(|| {
        insta::assert_snapshot!(
            "cli_bad_missing_patient_id_column",
            scrub(&stderr(&o), dir.path())
        )
    });
}

#[test]
fn implausible_hb_is_rejected_with_a_unit_hint() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = write_input(
        dir.path(),
        "in.csv",
        b"patient_id,specimen_id,sex,age_years,hb_g_dl\nP1,S1,F,30,125\nP2,S2,F,30,11.5\n",
    );
    let out = dir.path().join("out.csv");
    let rejects = dir.path().join("out.rejects.csv");

    let o = engine(&["classify", s(&input), "-o", s(&out), "--quiet"]);
    assert_eq!(code(&o), 0, "without --strict a reject is not a failure");
    let rej = csv_records(&rejects);
    assert_eq!(rej.len(), 2);
    assert_eq!(&rej[1][1], "2");
    assert_eq!(&rej[1][2], "implausible_value");
    assert!(rej[1][3].contains("hb_g_dl") && rej[1][3].contains("125"));
    assert!(rej[1][3].contains("g/L"), "suggests g/L: {}", &rej[1][3]);
    let records = csv_records(&out);
    assert_eq!(records.len(), 2, "the plausible row is classified");
    assert_eq!(&records[1][1], "S2");
    snapshot_settings().bind(|| {
        insta::assert_snapshot!(
            "cli_bad_implausible_hb_rejects",
            scrub(&read(&rejects), dir.path())
        )
    });

    fs::remove_file(&out).expect("rm out");
    fs::remove_file(&rejects).expect("rm rejects");
    let o = engine(&["classify", s(&input), "-o", s(&out), "--quiet", "--strict"]);
    assert_eq!(code(&o), 3, "--strict with a rejected row");
    // The run completed: output and rejects are in place.
    assert_eq!(csv_records(&out).len(), 2);
    assert_eq!(csv_records(&rejects).len(), 2);
}

#[test]
fn malformed_lines_are_rejected() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = write_input(
        dir.path(),
        "in.csv",
        b"patient_id,specimen_id,hb_g_dl,mcv_fl\nP1,S1,11.5\nP2,S2,11.5,80,9\nP3,S3,11.5,85\n",
    );
    let out = dir.path().join("out.csv");
    let rejects = dir.path().join("out.rejects.csv");
    let o = engine(&["classify", s(&input), "-o", s(&out), "--quiet"]);
    assert_eq!(code(&o), 0);
    let rej = csv_records(&rejects);
    let got: Vec<(&str, &str)> = rej[1..].iter().map(|r| (&r[1], &r[2])).collect();
    assert_eq!(got, [("2", "malformed_line"), ("3", "malformed_line")]);
    let records = csv_records(&out);
    assert_eq!(records.len(), 2);
    assert_eq!(&records[1][1], "S3");
    snapshot_settings().bind(|| {
        insta::assert_snapshot!(
            "cli_bad_malformed_line_rejects",
            scrub(&read(&rejects), dir.path())
        )
    });
}

/// Runs classify on bytes that are not a usable export; expects exit 2 and no output.
fn config_error(name: &str, bytes: &[u8]) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = write_input(dir.path(), name, bytes);
    let out = dir.path().join("out.csv");
    let o = engine(&["classify", s(&input), "-o", s(&out)]);
    assert_eq!(code(&o), 2, "{name}: {}", stderr(&o));
    assert!(stdout(&o).is_empty());
    assert_eq!(files_in(dir.path()), [name], "nothing written for {name}");
    scrub(&stderr(&o), dir.path())
}

#[test]
fn empty_file_is_a_configuration_error() {
    let err = config_error("empty.csv", b"");
    assert!(err.contains("empty"), "{err}");
    snapshot_settings().bind(|| insta::assert_snapshot!("cli_bad_empty_file", err));
}

#[test]
fn files_that_are_not_csv_are_configuration_errors() {
    // The first bytes of a PNG image (signature, IHDR chunk), saved with a .csv name.
    let png: &[u8] =
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06\x00\x00\x00";
    let err_png = config_error("image.csv", png);
    let err_json = config_error(
        "results.json",
        b"{\"patient_id\": \"P1\", \"hb_g_dl\": 12.5}\n{\"patient_id\": \"P2\", \"hb_g_dl\": 11.0}\n",
    );
    // Binary data on the first line (e.g. a spreadsheet or a zip file).
    let err_bin = config_error(
        "sheet.csv",
        b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00\n",
    );
    assert!(err_bin.contains("binary"), "{err_bin}");
    snapshot_settings().bind(|| {
        insta::assert_snapshot!("cli_bad_not_csv_png", err_png);
        insta::assert_snapshot!("cli_bad_not_csv_json", err_json);
        insta::assert_snapshot!("cli_bad_not_csv_binary", err_bin);
    });
}

/// Copies the shipped ruleset into `dir/name`, replaces `from` by `to` (exactly once) in
/// `file`, and writes the new checksum into the manifest, so the one intended problem is
/// the only one reported.
fn broken_ruleset(dir: &Path, name: &str, file: &str, from: &str, to: &str) -> PathBuf {
    let src = root().join("reference-ranges/2026.1");
    let dst = dir.join(name);
    fs::create_dir(&dst).expect("mkdir");
    for entry in fs::read_dir(&src).expect("list ruleset") {
        let entry = entry.expect("entry");
        fs::copy(entry.path(), dst.join(entry.file_name())).expect("copy");
    }
    let path = dst.join(file);
    let text = read(&path);
    assert_eq!(text.matches(from).count(), 1, "{from:?} in {file}");
    fs::write(&path, text.replace(from, to)).expect("write");

    let files: Vec<(String, String)> = anemia_engine::ruleset::RULESET_FILES
        .iter()
        .map(|n| (n.to_string(), read(&dst.join(n))))
        .collect();
    let checksum = anemia_engine::ruleset::compute_checksum(&files);
    let manifest = read(&dst.join("MANIFEST.toml"));
    let fixed: Vec<String> = manifest
        .lines()
        .map(|l| {
            if l.starts_with("checksum = ") {
                format!("checksum = \"{checksum}\"")
            } else {
                l.to_string()
            }
        })
        .collect();
    fs::write(dst.join("MANIFEST.toml"), fixed.join("\n") + "\n").expect("manifest");
    dst
}

#[test]
fn invalid_rulesets_are_configuration_errors_naming_file_and_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = fixture("cases.csv");
    let cases = [
        (
            "gap",
            "hb_cutoffs.csv",
            "children 24-59 months,any,none,2,5,",
            "children 24-59 months,any,none,2.5,5,",
            "hb_cutoffs.csv line 8",
        ),
        (
            "missing_source",
            "thresholds.csv",
            "rdw_high_above,14.5,%,all ages,Conventional RDW-CV upper reference limit (Bessman 1983 RDW classification)",
            "rdw_high_above,14.5,%,all ages,",
            "thresholds.csv line 9",
        ),
        (
            "unknown_unit",
            "mcv_ranges.csv",
            "adults 15 years and over,15,,80,100,fL,",
            "adults 15 years and over,15,,80,100,fl,",
            "mcv_ranges.csv line 9",
        ),
        (
            "overlap",
            "ferritin_cutoffs.csv",
            "children under 5 years,0.5,5,",
            "children under 5 years,0.5,6,",
            "ferritin_cutoffs.csv line 5",
        ),
    ];
    // The untouched copy is valid (so each failure below comes from its one change).
    let valid = broken_ruleset(
        dir.path(),
        "valid",
        "units.csv",
        "egfr,ml_min_1_73m2,mL/min/1.73m2,1,canonical",
        "egfr,ml_min_1_73m2,mL/min/1.73m2,1,canonical",
    );
    let o = engine(&["ranges", "check", s(&valid)]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));

    for (name, file, from, to, place) in cases {
        let rs = broken_ruleset(dir.path(), name, file, from, to);
        let out = dir.path().join(format!("{name}.csv"));
        let o = engine(&["classify", s(&input), "--ruleset", s(&rs), "-o", s(&out)]);
        assert_eq!(code(&o), 2, "{name}: {}", stderr(&o));
        assert!(!out.exists(), "{name}: nothing processed");
        let err = scrub(&stderr(&o), dir.path());
        assert!(err.contains(place), "{name} names {place}: {err}");
        assert!(
            !err.contains("checksum"),
            "{name}: only the intended problem"
        );
        snapshot_settings().bind(|| {
            insta::assert_snapshot!(format!("cli_bad_ruleset_{name}"), err);
        });
    }
}

// ---------------------------------------------------------------------------------------
// 3. Exit codes
// ---------------------------------------------------------------------------------------

#[test]
fn exit_code_0_on_a_clean_run_to_stdout() {
    let o = engine(&["classify", s(&fixture("cases.csv")), "--quiet"]);
    assert_eq!(code(&o), 0);
    assert!(stderr(&o).is_empty(), "--quiet: {}", stderr(&o));
    let text = stdout(&o);
    assert_eq!(text.lines().count(), CORPUS_PANELS + 1);
    assert!(text.starts_with("patient_id,specimen_id,collected_at,"));
}

#[test]
fn exit_code_2_for_bad_flags() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = fixture("cases.csv");
    let out_csv = dir.path().join("out.csv");
    let out_xlsx = dir.path().join("out.xlsx");
    let runs: [(&str, Vec<&str>, &str); 4] = [
        (
            "format xml",
            vec!["classify", s(&input), "--format", "xml", "-o", s(&out_csv)],
            "xml",
        ),
        (
            "layout long",
            // A wide export read as the long layout: its columns are not there.
            vec!["classify", s(&input), "--layout", "long", "-o", s(&out_csv)],
            "long",
        ),
        (
            "unknown extension",
            vec!["classify", s(&input), "-o", s(&out_xlsx)],
            "out.xlsx",
        ),
        (
            "unknown flag",
            vec!["classify", s(&input), "--frobnicate"],
            "--frobnicate",
        ),
    ];
    for (what, args, named) in runs {
        let o = engine(&args);
        assert_eq!(code(&o), 2, "{what}: {}", stderr(&o));
        assert!(stderr(&o).contains(named), "{what}: {}", stderr(&o));
        assert!(files_in(dir.path()).is_empty(), "{what}: nothing written");
    }
}

#[test]
fn exit_code_1_when_the_output_directory_does_not_exist() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("no_such_dir").join("out.csv");
    let o = engine(&[
        "classify",
        s(&fixture("cases.csv")),
        "-o",
        s(&out),
        "--quiet",
    ]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(!out.exists());
    assert!(files_in(dir.path()).is_empty(), "no stray file");
    let err = scrub(&stderr(&o), dir.path());
    assert!(err.contains("[DIR]/no_such_dir"), "{err}");
    snapshot_settings().bind(|| insta::assert_snapshot!("cli_exit_1_missing_output_dir", err));
}

#[test]
fn exit_code_1_leaves_nothing_at_out_when_the_rejects_file_cannot_be_created() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out_dir = dir.path().join("out");
    fs::create_dir(&out_dir).expect("mkdir");
    let out = out_dir.join("result.csv");
    let rejects = dir.path().join("no_such_dir").join("rejects.csv");
    let o = engine(&[
        "classify",
        s(&fixture("cases.csv")),
        "-o",
        s(&out),
        "--rejects",
        s(&rejects),
        "--quiet",
    ]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    // OUT's temporary file had been created before the rejects file failed: it is gone.
    assert!(files_in(&out_dir).is_empty(), "{:?}", files_in(&out_dir));
}

#[test]
fn exit_code_1_leaves_nothing_at_out_when_the_input_breaks_mid_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    // A gzip export cut in the middle: the header reads, later rows do not.
    let cases = read(&fixture("cases.csv"));
    let (header, body) = cases.split_once('\n').expect("header");
    let mut text = format!("{header}\n");
    for _ in 0..300 {
        text.push_str(body);
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(text.as_bytes()).expect("gzip");
    let bytes = gz.finish().expect("gzip");
    let input = write_input(dir.path(), "cut.csv.gz", &bytes[..bytes.len() / 2]);
    let out_dir = dir.path().join("out");
    fs::create_dir(&out_dir).expect("mkdir");
    let out = out_dir.join("result.parquet");
    let o = engine(&["classify", s(&input), "-o", s(&out), "--quiet"]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(stderr(&o).contains("cut.csv.gz"), "{}", stderr(&o));
    assert!(files_in(&out_dir).is_empty(), "{:?}", files_in(&out_dir));
}

// ---------------------------------------------------------------------------------------
// 4. The row ledger on a messy export
// ---------------------------------------------------------------------------------------

/// Where each data line of tests/fixtures/cli_messy.csv must end up: a specimen in the
/// output, or a reason code in the rejects file. Line 3 is blank (not a data row).
const MESSY_LINES: [(u64, &str, &str); 10] = [
    (2, "out", "M01"),
    (4, "reject", "malformed_line"),
    (5, "reject", "missing_patient_id"),
    (6, "reject", "no_analyte_values"),
    (7, "reject", "implausible_value"),
    (8, "out", "M06"),
    (9, "out", "M07"),
    (10, "out", "M08"),
    (11, "reject", "malformed_line"),
    // Blank specimen_id: the 1-based data-row number (blank lines are not data rows).
    (12, "out", "10"),
];

fn messy() -> PathBuf {
    fixture("cli_messy.csv")
}

#[test]
fn messy_fixture_is_as_designed() {
    let bytes = fs::read(messy()).expect("read");
    assert!(bytes.starts_with(b"\xef\xbb\xbf"), "BOM");
    let text = String::from_utf8(bytes[3..].to_vec()).expect("utf-8");
    assert!(text.ends_with("\r\n"));
    let lines: Vec<&str> = text.split("\r\n").collect();
    assert!(!lines.iter().any(|l| l.contains('\n')), "CRLF only");
    assert!(lines[0].starts_with("patient_id;"), "; delimiter");
    let data_lines: Vec<u64> = lines
        .iter()
        .enumerate()
        .skip(1)
        .filter(|(_, l)| !l.is_empty())
        .map(|(i, _)| i as u64 + 1)
        .collect();
    let table: Vec<u64> = MESSY_LINES.iter().map(|(l, _, _)| *l).collect();
    assert_eq!(data_lines, table, "every data line is in MESSY_LINES");
    assert!(lines.contains(&""), "a blank line");
}

/// Classifies the messy file and the corpus in one run.
fn run_messy(format_ext: &str) -> (tempfile::TempDir, PathBuf, PathBuf, Value) {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join(format!("out.{format_ext}"));
    let rejects = dir.path().join("rejects.csv");
    let summary = dir.path().join("summary.json");
    let o = engine(&[
        "classify",
        s(&messy()),
        s(&fixture("cases.csv")),
        "-o",
        s(&out),
        "--rejects",
        s(&rejects),
        "--summary",
        s(&summary),
        "--quiet",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let json: Value = serde_json::from_str(&read(&summary)).expect("summary json");
    (dir, out, rejects, json)
}

fn u(v: &Value) -> u64 {
    v.as_u64().expect("count")
}

#[test]
fn messy_file_ledger_balances() {
    let (_dir, out, rejects, json) = run_messy("csv");
    assert_eq!(
        u(&json["rows_read"]),
        u(&json["classified"]) + u(&json["rejected"])
    );
    assert_eq!(json["ledger_balanced"], Value::Bool(true));
    let inputs = json["inputs"].as_array().expect("inputs");
    assert_eq!(inputs.len(), 2);
    for i in inputs {
        assert_eq!(
            u(&i["rows_read"]),
            u(&i["classified"]) + u(&i["rejected"]),
            "{}",
            i["name"]
        );
    }
    let (m, c) = (&inputs[0], &inputs[1]);
    assert!(m["name"].as_str().expect("name").ends_with("cli_messy.csv"));
    assert_eq!(m["delimiter"], ";");
    assert_eq!(
        (u(&m["rows_read"]), u(&m["classified"]), u(&m["rejected"])),
        (10, 5, 5)
    );
    assert_eq!(
        (u(&c["rows_read"]), u(&c["classified"]), u(&c["rejected"])),
        (CORPUS_PANELS as u64, CORPUS_PANELS as u64, 0)
    );
    assert_eq!(u(&json["rows_read"]), 10 + CORPUS_PANELS as u64);
    let ignored: Vec<&str> = m["ignored_columns"]
        .as_array()
        .expect("ignored")
        .iter()
        .map(|c| c["column"].as_str().expect("column"))
        .collect();
    assert_eq!(ignored, ["lab_comment"]);

    let by_reason: BTreeMap<String, u64> = json["rejected_by_reason"]
        .as_object()
        .expect("by reason")
        .iter()
        .map(|(k, v)| (k.clone(), u(v)))
        .collect();
    let expected: BTreeMap<String, u64> = [
        ("implausible_value", 1),
        ("malformed_line", 2),
        ("missing_patient_id", 1),
        ("no_analyte_values", 1),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    assert_eq!(by_reason, expected);

    // Output and rejects files hold exactly what the summary counts.
    let records = csv_records(&out);
    assert_eq!(records.len() as u64 - 1, u(&json["classified"]));
    let rej = csv_records(&rejects);
    assert_eq!(rej.len() as u64 - 1, u(&json["rejected"]));
    let messy_ids: Vec<&str> = records[1..6].iter().map(|r| &r[1]).collect();
    let expected_ids: Vec<&str> = MESSY_LINES
        .iter()
        .filter(|(_, dest, _)| *dest == "out")
        .map(|(_, _, id)| *id)
        .collect();
    assert_eq!(
        messy_ids, expected_ids,
        "messy panels first, in input order"
    );
    let corpus_ids: Vec<String> = records[6..].iter().map(|r| r[1].to_string()).collect();
    assert_eq!(corpus_ids, corpus_specimen_ids());
    let reasons: Vec<&str> = rej[1..].iter().map(|r| &r[2]).collect();
    let expected_reasons: Vec<&str> = MESSY_LINES
        .iter()
        .filter(|(_, dest, _)| *dest == "reject")
        .map(|(_, _, r)| *r)
        .collect();
    assert_eq!(reasons, expected_reasons, "rejects in input order");
}

#[test]
fn messy_file_every_data_line_is_accounted_for_once() {
    let (_dir, out, rejects, _json) = run_messy("csv");
    // Rejected lines: the `line` column must name the physical line of the row.
    let rej = csv_records(&rejects);
    let got: BTreeMap<u64, String> = rej[1..]
        .iter()
        .filter(|r| r[0].ends_with("cli_messy.csv"))
        .map(|r| (r[1].parse::<u64>().expect("line"), r[2].to_string()))
        .collect();
    let expected: BTreeMap<u64, String> = MESSY_LINES
        .iter()
        .filter(|(_, dest, _)| *dest == "reject")
        .map(|(l, _, r)| (*l, r.to_string()))
        .collect();
    assert_eq!(got, expected, "reject lines are physical line numbers");
    // Classified lines: each expected specimen appears exactly once in the output.
    let records = csv_records(&out);
    for (line, dest, id) in MESSY_LINES {
        let n = records[1..].iter().filter(|r| &r[1] == id).count();
        let want = usize::from(dest == "out");
        assert_eq!(n, want, "line {line} ({id})");
    }
    let rejected: BTreeSet<u64> = got.keys().copied().collect();
    let classified: BTreeSet<u64> = MESSY_LINES
        .iter()
        .filter(|(_, dest, _)| *dest == "out")
        .map(|(l, _, _)| *l)
        .collect();
    assert!(rejected.is_disjoint(&classified));
    assert_eq!(rejected.len() + classified.len(), MESSY_LINES.len());
    // `explain` locates a classified panel by the same physical line.
    let o = engine(&[
        "explain",
        s(&messy()),
        "--specimen",
        "M07",
        "--format",
        "json",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let trace: Value = serde_json::from_str(&stdout(&o)).expect("trace");
    assert_eq!(trace["line"], 9, "M07 is on physical line 9");
}

#[test]
fn messy_file_values_and_formula_cells() {
    let (_dir, out, _rejects, _json) = run_messy("csv");
    let records = csv_records(&out);
    let header: Vec<&str> = records[0].iter().collect();
    let col = |n: &str| header.iter().position(|h| *h == n).expect("column");
    let row = |id: &str| {
        records[1..6]
            .iter()
            .find(|r| &r[1] == id)
            .unwrap_or_else(|| panic!("no {id}"))
    };
    // Decimal commas with the `;` delimiter.
    assert_eq!(&row("M01")[col("hb_g_dl")], "11.20");
    assert_eq!(&row("M01")[col("ferritin_ug_l")], "8.50");
    assert_eq!(&row("M01")[col("classification")], "iron_deficiency_anemia");
    // A text result: missing for the rules, flagged, Hb recommended again.
    assert_eq!(&row("M06")[col("hb_g_dl")], "");
    assert_eq!(&row("M06")[col("classification")], "insufficient_data");
    assert_eq!(&row("M06")[col("flags")], "VALUE_NOT_NUMERIC");
    assert_eq!(&row("M06")[col("recommended_tests")], "hb");
    // Censored values keep their bound.
    assert_eq!(&row("M07")[col("ferritin_ug_l")], "<10.00");
    assert_eq!(&row("M07")[col("crp_mg_l")], "<=5.00");
    assert!(row("M07")[col("flags")].contains("CENSORED_VALUE"));
    assert_eq!(&row("M07")[col("inflammation")], "absent");
    assert_eq!(&row("M07")[col("iron_status")], "deficient");
    // The patient id is trimmed; the blank specimen id is the data-row number.
    assert_eq!(&row("10")[col("patient_id")], "P10");
    // The formula-like patient id is neutralised in CSV ...
    assert_eq!(&row("M08")[col("patient_id")], "'=HYPERLINK(\"x\")");
    for r in &records[1..] {
        for cell in r.iter() {
            assert!(
                !cell.starts_with(['=', '+', '@']),
                "no executable cell in CSV: {cell:?}"
            );
        }
    }

    // ... and written as read in NDJSON.
    let (_dir, out, _rejects, _json) = run_messy("ndjson");
    let rows = ndjson_rows(&out);
    let m08 = rows
        .iter()
        .find(|r| r["specimen_id"] == "M08")
        .expect("M08");
    assert_eq!(m08["patient_id"], "=HYPERLINK(\"x\")");
}

// ---------------------------------------------------------------------------------------
// 5. `rules`
// ---------------------------------------------------------------------------------------

fn rules(args: &[&str]) -> String {
    let mut all = vec!["rules"];
    all.extend_from_slice(args);
    let o = engine(&all);
    assert_eq!(code(&o), 0, "{args:?}: {}", stderr(&o));
    assert!(stderr(&o).is_empty());
    stdout(&o)
}

#[test]
fn rules_listing() {
    let text = rules(&[]);
    assert!(text.starts_with("Ruleset 2026.1\n"));
    for section in ["\nRULES\n", "\nFLAGS\n", "\nGUIDANCE\n"] {
        assert!(text.contains(section), "{section}");
    }
    for id in anemia_engine::vocab::GuidanceId::ALL {
        assert!(text.contains(id.code()), "{id}");
    }
    for f in anemia_engine::vocab::Flag::ALL {
        assert!(text.contains(f.code()), "{f}");
    }
    snapshot_settings().bind(|| insta::assert_snapshot!("cli_rules_list", text));
}

#[test]
fn rules_one_rule_flag_or_guidance_entry() {
    let rule = rules(&["IRON-003"]);
    assert!(rule.starts_with("IRON-003  "));
    let flag = rules(&["NSAID_CAUTION"]);
    assert!(flag.contains("raised by: FLAG-009"));
    let json_text = rules(&["back_pain.nsaid_caution", "--format", "json"]);
    let g: Value = serde_json::from_str(&json_text).expect("json");
    assert_eq!(g["id"], "back_pain.nsaid_caution");
    assert_eq!(g["flags"], serde_json::json!(["NSAID_CAUTION"]));
    assert!(!g["sources"].as_array().expect("sources").is_empty());
    snapshot_settings().bind(|| {
        insta::assert_snapshot!("cli_rules_iron_003", rule);
        insta::assert_snapshot!("cli_rules_nsaid_caution", flag);
        insta::assert_snapshot!("cli_rules_back_pain_nsaid_caution_json", json_text);
    });
}

#[test]
fn rules_unknown_id_is_a_usage_error() {
    let o = engine(&["rules", "NO_SUCH_ID"]);
    assert_eq!(code(&o), 2);
    assert!(stdout(&o).is_empty());
    assert!(stderr(&o).contains("NO_SUCH_ID"), "{}", stderr(&o));
    snapshot_settings().bind(|| insta::assert_snapshot!("cli_rules_unknown_id", stderr(&o)));
}

// ---------------------------------------------------------------------------------------
// 6. `explain`
// ---------------------------------------------------------------------------------------

/// K151: F 59 y, CRP 18, ferritin 60, TSAT derived from iron 35 and transferrin 320
/// (TIBC 448): 7.81 % < 20 -> deficient_with_inflammation, mixed.
const EXPLAIN_SPECIMEN: &str = "K151";

#[test]
fn explain_text() {
    let o = engine(&[
        "explain",
        s(&fixture("cases.csv")),
        "--specimen",
        EXPLAIN_SPECIMEN,
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text
        .lines()
        .any(|l| l.contains("classification")
            && l.contains("mixed_iron_deficiency_and_inflammation")));
    assert!(text.contains("TSAT derived = iron 35 ug/dL / TIBC 1.4 x transferrin 320 mg/dL"));
    assert!(text.contains("line 152"), "names the physical line");
    assert!(text.contains("TSAT_DERIVED"));
    snapshot_settings().bind(|| insta::assert_snapshot!("cli_explain_k151_text", text));
}

#[test]
fn explain_json() {
    let o = engine(&[
        "explain",
        s(&fixture("cases.csv")),
        "--specimen",
        EXPLAIN_SPECIMEN,
        "--format",
        "json",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let text = stdout(&o);
    let trace: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(trace["specimen_id"], EXPLAIN_SPECIMEN);
    assert_eq!(trace["line"], 152);
    assert_eq!(trace["ruleset_checksum"], embedded_checksum().as_str());
    assert_eq!(trace["anemia"], true);
    assert_eq!(trace["iron_status"], "deficient_with_inflammation");
    assert_eq!(
        trace["classification"],
        "mixed_iron_deficiency_and_inflammation"
    );
    let flags = trace["flags"].as_array().expect("flags");
    assert!(flags.contains(&Value::from("TSAT_DERIVED")));
    let steps = trace["steps"].as_array().expect("steps");
    assert!(steps.iter().any(|st| st["rule"] == "IRON-001"
        && st["evidence"].as_str().expect("evidence").contains("7.81")));
    snapshot_settings().bind(|| insta::assert_snapshot!("cli_explain_k151_json", text));
}

#[test]
fn explain_unknown_specimen_is_an_error() {
    let o = engine(&["explain", s(&fixture("cases.csv")), "--specimen", "NOPE"]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("NOPE"));
}
