//! Shared helpers for the integration tests.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

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
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path(root().join("snapshots"));
    s.set_prepend_module_to_snapshot(false);
    // The checkout path first: it may itself lie below /tmp (CI clones anywhere).
    s.add_filter(&regex_escape(&root().display().to_string()), "[ROOT]");
    s.add_filter(r"elapsed: [0-9.]+ s", "elapsed: [ELAPSED] s");
    s.add_filter(
        r#""elapsed_seconds": [0-9.e-]+"#,
        r#""elapsed_seconds": "[ELAPSED]""#,
    );
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
