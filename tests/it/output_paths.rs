//! Output paths are checked against the inputs and each other before any row is read
//! (interface 2026.2): exit 2, the export untouched, nothing written.

use std::fs;
use std::path::Path;

use crate::common::{code, engine, fixture, stderr};

fn s(p: &Path) -> &str {
    p.to_str().expect("utf8 path")
}

/// Runs classify on a copy of the corpus; returns (exit code, stderr, the directory).
fn refused(args: impl Fn(&Path, &Path) -> Vec<String>) -> (i32, String, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("export.csv");
    fs::copy(fixture("cases.csv"), &input).expect("copy");
    let args = args(&input, dir.path());
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = engine(&argv);
    let unchanged =
        fs::read(&input).expect("input") == fs::read(fixture("cases.csv")).expect("fixture");
    assert!(unchanged, "the export was modified");
    (code(&o), stderr(&o), dir)
}

fn names(dir: &Path) -> Vec<String> {
    let mut n: Vec<String> = fs::read_dir(dir)
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    n.sort();
    n
}

#[test]
fn output_equal_to_the_input_is_refused() {
    let (c, err, dir) =
        refused(|i, _| vec!["classify".into(), s(i).into(), "-o".into(), s(i).into()]);
    assert_eq!(c, 2, "{err}");
    assert!(err.contains("is an input of this run"), "{err}");
    assert_eq!(names(dir.path()), ["export.csv"]);
}

#[test]
fn rejects_or_summary_equal_to_the_output_is_refused() {
    for flag in ["--rejects", "--summary"] {
        let (c, err, dir) = refused(|i, d| {
            let out = d.join("out.csv");
            vec![
                "classify".into(),
                s(i).into(),
                "-o".into(),
                s(&out).into(),
                flag.into(),
                s(&out).into(),
            ]
        });
        assert_eq!(c, 2, "{flag}: {err}");
        assert!(err.contains("is the same file as -o"), "{err}");
        assert_eq!(names(dir.path()), ["export.csv"], "{flag}");
    }
}

#[test]
fn a_directory_at_an_output_path_is_refused_before_any_row() {
    let (c, err, dir) = refused(|i, d| {
        fs::create_dir(d.join("rejects")).expect("mkdir");
        let out = d.join("out.csv");
        vec![
            "classify".into(),
            s(i).into(),
            "-o".into(),
            s(&out).into(),
            "--rejects".into(),
            s(&d.join("rejects")).into(),
        ]
    });
    assert_eq!(c, 2, "{err}");
    assert!(err.contains("is a directory"), "{err}");
    assert_eq!(
        names(dir.path()),
        ["export.csv", "rejects"],
        "no results left behind"
    );
}

#[test]
fn the_same_input_given_twice_is_refused() {
    let (c, err, dir) = refused(|i, d| {
        let again = d.join(".").join("export.csv");
        vec![
            "classify".into(),
            s(i).into(),
            s(&again).into(),
            "-o".into(),
            s(&d.join("out.csv")).into(),
        ]
    });
    assert_eq!(c, 2, "{err}");
    assert!(err.contains("given twice"), "{err}");
    assert_eq!(names(dir.path()), ["export.csv"]);
}
