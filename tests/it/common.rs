//! Shared helpers for the integration tests.

#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixture(name: &str) -> PathBuf {
    root().join("tests/fixtures").join(name)
}

/// Runs the real binary.
pub fn engine(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_anemia-engine"))
        .args(args)
        .output()
        .expect("run anemia-engine")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// insta settings writing into the top-level `snapshots/`, with paths and timings filtered.
pub fn settings() -> insta::Settings {
    settings_for_checkout(&root())
}

/// [`settings`] for a checkout at `checkout` (tests of the filters pass a path of their own).
pub fn settings_for_checkout(checkout: &Path) -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path(root().join("snapshots"));
    s.set_prepend_module_to_snapshot(false);
    // The checkout path first: it may itself lie below /tmp (CI clones anywhere).
    s.add_filter(&regex_escape(&checkout.display().to_string()), "[ROOT]");
    s.add_filter(r"elapsed: [0-9.]+ s", "elapsed: [ELAPSED] s");
    s.add_filter(
        r#""elapsed_seconds": [0-9.e-]+"#,
        r#""elapsed_seconds": "[ELAPSED]""#,
    );
    s.add_filter(r#""started_at": "[^"]*""#, r#""started_at": "[STARTED]""#);
    s.add_filter(r"/tmp/[^\s,:)]+/", "[TMP]/");
    s.add_filter(r"\.tmp[A-Za-z0-9]+", "[TMP]");
    s.add_filter(r"anemia-engine \d+\.\d+\.\d+", "anemia-engine [VERSION]");
    s.add_filter(r"sha256:[0-9a-f]{64}", "sha256:[CHECKSUM]");
    s
}

fn regex_escape(s: &str) -> String {
    s.chars()
        .map(|c| {
            if "\\.+*?()|[]{}^$".contains(c) {
                format!("\\{c}")
            } else {
                c.to_string()
            }
        })
        .collect()
}

pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).expect("read file")
}

/// Classifies in-process and returns the CSV output as records (header first).
pub fn classify_csv(input: &Path, extra: &[&str]) -> (Output, Vec<csv::StringRecord>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out.csv");
    let mut args = vec![
        "classify",
        input.to_str().expect("utf8 path"),
        "-o",
        out.to_str().expect("utf8"),
        "--quiet",
    ];
    args.extend_from_slice(extra);
    let o = engine(&args);
    let mut records = Vec::new();
    if out.exists() {
        let mut r = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_path(&out)
            .expect("open output");
        for rec in r.records() {
            records.push(rec.expect("record"));
        }
    }
    (o, records)
}

// ---------------------------------------------------------------------------------------
// CLI helpers (the end-to-end tests of formats, bad input, exit codes, messy files, rules
// and explain)
// ---------------------------------------------------------------------------------------

/// The output columns of interface 2026.2 ("Output"), in order, written from the spec.
pub const SPEC_COLUMNS: [&str; 74] = [
    "source_file",
    "source_line",
    "patient_id",
    "specimen_id",
    "collected_at",
    "sex",
    "age_years",
    "analyzer_id",
    "site",
    "hb_g_dl",
    "hb_g_dl_comparator",
    "rbc_10e12_l",
    "rbc_10e12_l_comparator",
    "mcv_fl",
    "mcv_fl_comparator",
    "mch_pg",
    "mch_pg_comparator",
    "mchc_g_dl",
    "mchc_g_dl_comparator",
    "rdw_pct",
    "rdw_pct_comparator",
    "retic_pct",
    "retic_pct_comparator",
    "retic_abs_10e9_l",
    "retic_abs_10e9_l_comparator",
    "ret_he_pg",
    "ret_he_pg_comparator",
    "ferritin_ug_l",
    "ferritin_ug_l_comparator",
    "iron_ug_dl",
    "iron_ug_dl_comparator",
    "tibc_ug_dl",
    "tibc_ug_dl_comparator",
    "transferrin_mg_dl",
    "transferrin_mg_dl_comparator",
    "tsat_pct",
    "tsat_pct_comparator",
    "stfr_mg_l",
    "stfr_mg_l_comparator",
    "crp_mg_l",
    "crp_mg_l_comparator",
    "esr_mm_h",
    "esr_mm_h_comparator",
    "agp_g_l",
    "agp_g_l_comparator",
    "ldh_u_l",
    "ldh_u_l_comparator",
    "haptoglobin_g_l",
    "haptoglobin_g_l_comparator",
    "bilirubin_mg_dl",
    "bilirubin_mg_dl_comparator",
    "b12_pg_ml",
    "b12_pg_ml_comparator",
    "folate_ng_ml",
    "folate_ng_ml_comparator",
    "calcium_mg_dl",
    "calcium_mg_dl_comparator",
    "creatinine_mg_dl",
    "creatinine_mg_dl_comparator",
    "egfr_ml_min_1_73m2",
    "egfr_ml_min_1_73m2_comparator",
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
pub const CORPUS_PANELS: usize = 187;

pub fn s(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

/// Replaces a temporary directory's path by `[DIR]`, whatever TMPDIR is on this machine.
pub fn scrub(text: &str, dir: &Path) -> String {
    text.replace(s(dir), "[DIR]")
}

/// `settings()` plus a filter for the random part of the engine's temporary file names.
pub fn snapshot_settings() -> insta::Settings {
    let mut st = settings();
    st.add_filter(r"\.[A-Za-z0-9]{6}\.tmp\b", ".[RANDOM].tmp");
    // The checksum changes with every ruleset edit; tests assert it against the embedded one.
    st.add_filter(r"sha256:[0-9a-f]{64}", "sha256:[CHECKSUM]");
    st
}

/// The 2026.1 ruleset directory: the known-answer corpus and the rule-family tests pin the
/// 2026.1 procedure with it (the embedded default is 2026.2).
pub fn ruleset_2026_1_dir() -> String {
    root()
        .join("reference-ranges/2026.1")
        .to_str()
        .expect("utf8 path")
        .to_string()
}

pub fn ruleset_2026_1() -> anemia_engine::ruleset::Ruleset {
    anemia_engine::ruleset::Ruleset::from_dir(&root().join("reference-ranges/2026.1"))
        .expect("ruleset 2026.1")
}

pub fn embedded_checksum() -> String {
    anemia_engine::ruleset::Ruleset::embedded()
        .expect("embedded ruleset")
        .checksum
}

pub fn code(o: &std::process::Output) -> i32 {
    o.status.code().expect("exit code")
}

/// Reads a CSV file into records, header first.
pub fn csv_records(path: &Path) -> Vec<csv::StringRecord> {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_path(path)
        .expect("open csv");
    r.records().map(|rec| rec.expect("csv record")).collect()
}

pub fn ndjson_rows(path: &Path) -> Vec<serde_json::Map<String, Value>> {
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

pub fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .expect("list dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Classifies the corpus into `dir/name` (format from the extension); checks a clean run.
pub fn run_corpus(name: &str) -> (tempfile::TempDir, PathBuf) {
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

pub fn corpus_specimen_ids() -> Vec<String> {
    (1..=CORPUS_PANELS).map(|i| format!("K{i:03}")).collect()
}

/// Writes `bytes` into `dir/name` and returns the path.
pub fn write_input(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    fs::write(&path, bytes).expect("write input");
    path
}

/// Position of a named column in a header record.
pub fn col_of(header: &csv::StringRecord, name: &str) -> usize {
    header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name}"))
}

/// The values of one named column of result records (the header first).
pub fn column_values(records: &[csv::StringRecord], name: &str) -> Vec<String> {
    let i = col_of(&records[0], name);
    records[1..].iter().map(|r| r[i].to_string()).collect()
}
