//! Exit codes 0, 1 and 2, and what a failed run leaves behind.

use std::fs;
use std::io::Write as _;

use crate::common::{
    code, engine, files_in, fixture, read, s, scrub, snapshot_settings, stderr, stdout,
    write_input, CORPUS_PANELS,
};

#[test]
fn exit_code_0_on_a_clean_run_to_stdout() {
    let o = engine(&["classify", s(&fixture("cases.csv")), "--quiet"]);
    assert_eq!(code(&o), 0);
    assert!(stderr(&o).is_empty(), "--quiet: {}", stderr(&o));
    let text = stdout(&o);
    assert_eq!(text.lines().count(), CORPUS_PANELS + 1);
    assert!(text.starts_with("source_file,source_line,patient_id,specimen_id,collected_at,"));
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
