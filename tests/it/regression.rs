//! One test per fixed incident, named after it (see `git log`): each pins the behaviour the
//! fix introduced and fails on the code before the fix.

use std::fs;
use std::path::Path;

use polars::prelude::{ParquetReader, SerReader};
use serde_json::Value;

use crate::common::{
    code, col_of, column_values, csv_records, engine, files_in, fixture, run_corpus, s,
    settings_for_checkout, stderr, stdout, write_input,
};

// ---------------------------------------------------------------------------------------
// 9d805ff: physical line numbers from a line-start index (csv positions were off after CRLF
// and blank lines); fixed Parquet column types.
// ---------------------------------------------------------------------------------------

/// CRLF line ends, blank lines before and between rows, and a quoted cell spanning two
/// physical lines (in an ignored column): data-row counts and record counts are both off.
const CRLF_EXPORT: &[u8] = b"patient_id,specimen_id,hb_g_dl,note\r\n\
\r\n\
P1,S1,11.5,ok\r\n\
\r\n\
\r\n\
,S2,11.0,no patient id\r\n\
P3,S3,12.0,\"two\r\nlines\"\r\n\
P4,S4,11.0,x,one field too many\r\n\
\r\n\
P5,S5,125,implausible\r\n\
P6,S6,12.5,last\r\n";

#[test]
fn crlf_line_numbers_are_physical_lines() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = write_input(dir.path(), "crlf.csv", CRLF_EXPORT);
    let out = dir.path().join("out.csv");
    let o = engine(&["classify", s(&input), "-o", s(&out), "--quiet"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let rej = csv_records(&dir.path().join("out.rejects.csv"));
    let got: Vec<(&str, &str)> = rej[1..].iter().map(|r| (&r[1], &r[2])).collect();
    assert_eq!(
        got,
        [
            ("6", "missing_patient_id"),
            ("9", "malformed_line"),
            ("11", "implausible_value"),
        ],
        "rejects name the physical line"
    );
    let records = csv_records(&out);
    assert_eq!(column_values(&records, "specimen_id"), ["S1", "S3", "S6"]);
    assert_eq!(
        column_values(&records, "source_line"),
        ["3", "7", "12"],
        "source_line is the physical line"
    );
    // `explain` names the same physical lines for classified panels.
    for (specimen, line) in [("S1", 3), ("S3", 7), ("S6", 12)] {
        let o = engine(&[
            "explain",
            s(&input),
            "--specimen",
            specimen,
            "--format",
            "json",
        ]);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        let trace: Value = serde_json::from_str(&stdout(&o)).expect("trace");
        assert_eq!(trace["line"], line, "{specimen}");
        // --line selects the same panel by the physical line source_line gives.
        let line_arg = line.to_string();
        let by_line = engine(&[
            "explain",
            s(&input),
            "--line",
            &line_arg,
            "--format",
            "json",
        ]);
        assert_eq!(code(&by_line), 0, "{}", stderr(&by_line));
        let trace: Value = serde_json::from_str(&stdout(&by_line)).expect("trace");
        assert_eq!(trace["specimen_id"], specimen, "--line {line}");
    }
    // ... and a rejected line by the line the rejects file names.
    let o = engine(&["explain", s(&input), "--line", "9"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout(&o).contains("malformed_line"), "{}", stdout(&o));
    // A blank line selects nothing (exit 2, saying why).
    let o = engine(&["explain", s(&input), "--line", "2"]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("at line 2"), "{}", stderr(&o));
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

// ---------------------------------------------------------------------------------------
// f10a728: binary header detection; back-pain guidance from age 16; summary written before
// outputs are renamed; output files 0644; I/O causes chained once.
// ---------------------------------------------------------------------------------------

#[test]
fn binary_header_is_a_configuration_error() {
    // Before the fix only a NUL byte counted as binary: a PNG signature (no NUL before its
    // first newline) was read as a header and reported as "no patient_id column".
    let cases: [(&str, &[u8]); 3] = [
        ("image.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"),
        ("control.csv", b"patient_id,hb_g_dl\x1b[0m\nP1,12\n"),
        ("latin1.csv", b"patient_id,h\xe9moglobine\nP1,12\n"),
    ];
    for (name, bytes) in cases {
        let dir = tempfile::tempdir().expect("tempdir");
        let input = write_input(dir.path(), name, bytes);
        let out = dir.path().join("out.csv");
        let o = engine(&["classify", s(&input), "-o", s(&out)]);
        assert_eq!(code(&o), 2, "{name}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(
            err.contains("line 1 holds binary data or is not UTF-8 text"),
            "{name}: {err}"
        );
        assert!(!err.contains("patient_id column"), "{name}: {err}");
        assert!(stdout(&o).is_empty());
        assert_eq!(files_in(dir.path()), [name], "nothing written for {name}");
    }
}

fn guidance_of(out: &Path) -> Vec<(String, String)> {
    let records = csv_records(out);
    let col = records[0]
        .iter()
        .position(|h| h == "guidance")
        .expect("guidance column");
    let specimen = col_of(&records[0], "specimen_id");
    records[1..]
        .iter()
        .map(|r| (r[specimen].to_string(), r[col].to_string()))
        .collect()
}

#[test]
fn back_pain_guidance_starts_at_age_16() {
    // Anemic women reporting back pain, just below and at the NICE NG59 age (16); both are
    // adults for the haemoglobin cutoffs (15 y and over).
    let dir = tempfile::tempdir().expect("tempdir");
    let input = write_input(
        dir.path(),
        "in.csv",
        b"patient_id,specimen_id,sex,age_years,back_pain,hb_g_dl,mcv_fl,ferritin_ug_l,crp_mg_l\n\
P1,AGE15_9,F,15.9,yes,11.0,88,80,1\n\
P2,AGE16,F,16,yes,11.0,88,80,1\n",
    );
    let out = dir.path().join("out.csv");
    let o = engine(&["classify", s(&input), "-o", s(&out), "--quiet"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let rows = guidance_of(&out);
    assert_eq!(rows.len(), 2);
    let (young, adult) = (&rows[0], &rows[1]);
    assert_eq!(young.0, "AGE15_9");
    assert!(
        !young.1.contains("back_pain."),
        "no back-pain management under 16: {}",
        young.1
    );
    assert!(
        adult.1.split(';').any(|g| g == "back_pain.treat_both"),
        "back-pain management from 16: {}",
        adult.1
    );
}

#[test]
fn summary_is_written_before_outputs_are_renamed() {
    // A run that cannot write its summary must not leave results behind (before the fix,
    // OUT and the rejects file were renamed into place first).
    let dir = tempfile::tempdir().expect("tempdir");
    let out_dir = dir.path().join("out");
    fs::create_dir(&out_dir).expect("mkdir");
    let out = out_dir.join("result.csv");
    let summary = dir.path().join("no_such_dir").join("summary.json");
    let o = engine(&[
        "classify",
        s(&fixture("cases.csv")),
        "-o",
        s(&out),
        "--summary",
        s(&summary),
        "--quiet",
    ]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(files_in(&out_dir).is_empty(), "{:?}", files_in(&out_dir));
    assert!(!summary.exists());
}

/// The process umask (the engine's files are created 0644 minus the umask).
#[cfg(unix)]
fn umask() -> u32 {
    let o = std::process::Command::new("sh")
        .args(["-c", "umask"])
        .output()
        .expect("sh umask");
    u32::from_str_radix(stdout(&o).trim(), 8).expect("octal umask")
}

#[cfg(unix)]
#[test]
fn output_files_are_0644_not_0600() {
    use std::os::unix::fs::PermissionsExt;
    let expected = 0o644 & !umask();
    assert_ne!(
        expected, 0o600,
        "this umask cannot tell 0644 from the temporary files' 0600"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out.csv");
    let summary = dir.path().join("summary.json");
    let o = engine(&[
        "classify",
        s(&fixture("cases.csv")),
        "-o",
        s(&out),
        "--summary",
        s(&summary),
        "--quiet",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    for name in ["out.csv", "out.rejects.csv", "summary.json"] {
        let mode = fs::metadata(dir.path().join(name))
            .expect("metadata")
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, expected, "{name}: {mode:o}");
    }
}

#[test]
fn io_cause_is_reported_once() {
    // The cause of an I/O error is chained ("caused by:"), not also repeated in the message.
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
    let err = stderr(&o);
    assert_eq!(err.matches("No such file or directory").count(), 1, "{err}");
    assert!(
        err.contains("\n  caused by: No such file or directory"),
        "{err}"
    );
}

// ---------------------------------------------------------------------------------------
// 5bcd0cb: the checkout path is replaced before /tmp paths (a clone below /tmp broke every
// snapshot that names a file of the checkout).
// ---------------------------------------------------------------------------------------

#[test]
fn checkout_below_a_temporary_directory_keeps_snapshot_paths() {
    let checkout = Path::new("/tmp/ci-runner/build/anemia-engine");
    let text = "error: /tmp/ci-runner/build/anemia-engine/tests/fixtures/cases.csv: line 3\n\
                wrote /tmp/.tmpAb12Cd/out.csv\n";
    settings_for_checkout(checkout).bind(|| {
        insta::assert_snapshot!(text, @r"
        error: [ROOT]/tests/fixtures/cases.csv: line 3
        wrote [TMP]/out.csv
        ");
    });
}

#[test]
fn classify_into_a_closed_stdout_exits_141_without_a_message() {
    // `classify export.csv | head -1` (before the fix: exit 1 with an error message).
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_anemia-engine"))
        .args(["classify", s(&fixture("cases.csv"))])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut first = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut first)
        .expect("first line");
    assert!(
        first.starts_with("source_file,source_line,patient_id,"),
        "{first}"
    );
    // The reader is dropped here: the engine's next writes find the pipe closed.
    let o = child.wait_with_output().expect("wait");
    assert_eq!(o.status.code(), Some(141), "{}", stderr(&o));
    assert!(!stderr(&o).contains("error"), "{}", stderr(&o));
}

#[test]
fn a_closed_stderr_does_not_stop_the_run() {
    // Before the fix the messages sink used eprintln!, which panics (exit 101) on a closed
    // stderr; the results must still be written in full.
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out.csv");
    let mut child = Command::new(env!("CARGO_BIN_EXE_anemia-engine"))
        .args(["classify", s(&fixture("cli_messy.csv")), "-o", s(&out)])
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    drop(child.stderr.take());
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(0));
    assert!(fs::read_to_string(&out).expect("results").lines().count() > 1);
}

#[test]
fn a_repeated_header_line_is_not_a_patient_and_blank_lines_are_not_data() {
    // Before the fix a header repeated mid-file became a panel for patient "patient_id", and
    // a line of spaces and delimiters was rejected as a data row.
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("export.csv");
    fs::write(
        &input,
        "patient_id,specimen_id,sex,age_years,hb_g_dl\nP1,S1,F,40,10.0\n  ,  , ,\t,\n\
         Patient_ID , specimen_id,sex,age_years,hb_g_dl\nP2,S2,M,40,14.0\n,,,,\n",
    )
    .expect("write");
    let out = dir.path().join("out.csv");
    let summary = dir.path().join("summary.json");
    let o = engine(&[
        "classify",
        s(&input),
        "-o",
        s(&out),
        "--summary",
        s(&summary),
        "--quiet",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let results = fs::read_to_string(&out).expect("results");
    assert_eq!(results.lines().count(), 3, "{results}");
    assert!(!results.contains("\npatient_id,"), "{results}");
    let s: Value =
        serde_json::from_str(&fs::read_to_string(&summary).expect("summary")).expect("json");
    assert_eq!(s["rows_read"], 2);
    assert_eq!(s["rejected"], 0);
    assert_eq!(s["inputs"][0]["header_repeats"], 1);
}
