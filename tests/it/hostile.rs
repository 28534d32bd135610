//! Hostile exports (tests/fixtures/hostile/cases.toml, written by generate.py there): every
//! case runs the real binary in a fresh directory and checks its exit code, its ledger, the
//! text that must or must not appear, and what must hold afterwards whatever happened: the
//! inputs unchanged, no temporary file left, and no output at all when the run failed.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::Deserialize;
use serde_json::Value;

use crate::common::root;

#[derive(Debug, Deserialize)]
struct Manifest {
    case: Vec<Case>,
}

#[derive(Debug, Deserialize)]
struct Case {
    name: String,
    group: String,
    why: String,
    exit: i32,
    rows_read: Option<u64>,
    classified: Option<u64>,
    rejected: Option<u64>,
    args: Option<Vec<String>>,
    #[serde(default)]
    inputs: Vec<String>,
    rejected_by_reason: Option<BTreeMap<String, u64>>,
    #[serde(default)]
    stderr_has: Vec<String>,
    #[serde(default)]
    stderr_not: Vec<String>,
    #[serde(default)]
    out_has: Vec<String>,
    #[serde(default)]
    out_not: Vec<String>,
    reject_lines: Option<Vec<u64>>,
    header_repeats: Option<u64>,
    special: Option<String>,
    #[serde(default)]
    reject_messages_not: Vec<String>,
}

fn hostile_dir() -> PathBuf {
    root().join("tests/fixtures/hostile")
}

fn manifest() -> Manifest {
    let text = fs::read_to_string(hostile_dir().join("cases.toml")).expect("cases.toml");
    toml::from_str(&text).expect("cases.toml parses")
}

/// Every file below `dir` (relative paths), sorted.
fn tree(dir: &Path) -> Vec<String> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
        for e in fs::read_dir(dir).expect("list").flatten() {
            let p = e.path();
            let meta = fs::symlink_metadata(&p).expect("meta");
            if meta.is_dir() {
                walk(base, &p, out);
            } else {
                out.push(p.strip_prefix(base).expect("prefix").display().to_string());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// What the run produced: exit code, stdout, stderr.
struct Ran {
    code: i32,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

fn exit_code(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status
        .code()
        .unwrap_or_else(|| 128 + status.signal().unwrap_or(0))
}

/// Builds the files a generated case needs.
fn generate(kind: &str, dir: &Path) {
    let header = "patient_id,specimen_id,hb_g_dl\n";
    match kind {
        "long_header" => {
            let mut h = String::from("patient_id,hb_g_dl");
            while h.len() <= (1 << 20) {
                h.push_str(",padding_column_name_x");
            }
            fs::write(dir.join("gen.csv"), format!("{h}\nP1,11\n")).expect("write");
        }
        "wide_header" => {
            let mut h = String::from("patient_id,hb_g_dl");
            for i in 0..4095 {
                h.push_str(&format!(",c{i}"));
            }
            fs::write(dir.join("gen.csv"), format!("{h}\n")).expect("write");
        }
        "nul_stream" => fs::write(dir.join("gen.csv"), vec![0u8; 2 << 20]).expect("write"),
        "long_data_line" => {
            let long = format!("P2,S2,{}\n", "1".repeat((1 << 20) + 10));
            let text = format!("{header}P1,S1,11\n{long}P3,S3,12\nP4,S4,13\n");
            fs::write(dir.join("gen.csv"), text).expect("write");
        }
        "many_inputs" => {
            let many = dir.join("many");
            fs::create_dir(&many).expect("mkdir");
            for i in 0..300 {
                fs::write(
                    many.join(format!("part{i:03}.csv")),
                    format!("{header}P{i},S{i},11\n"),
                )
                .expect("write");
            }
        }
        other => panic!("unknown generator {other}"),
    }
}

/// Prepares the case's directory (special set-ups) before the run.
fn prepare(special: Option<&str>, dir: &Path) {
    let Some(special) = special else { return };
    let parts: Vec<&str> = special.split(':').collect();
    match parts.as_slice() {
        ["symlink", link, target] => {
            std::os::unix::fs::symlink(dir.join(target), dir.join(link)).expect("symlink")
        }
        ["hardlink", link, target] => {
            fs::hard_link(dir.join(target), dir.join(link)).expect("link")
        }
        ["mkdir", d] => fs::create_dir(dir.join(d)).expect("mkdir"),
        ["generate", kind] => generate(kind, dir),
        ["symlink_dev_stdout", link] => {
            std::os::unix::fs::symlink("/dev/stdout", dir.join(link)).expect("symlink")
        }
        ["previous_outputs"] => {
            let exports = dir.join("exports");
            fs::create_dir(&exports).expect("mkdir");
            fs::rename(dir.join("same.csv"), exports.join("in.csv")).expect("move");
            // A previous run's outputs, which would add rows if read back.
            let old = "patient_id,specimen_id,hb_g_dl\nOLD1,S1,11\nOLD2,S2,12\n";
            fs::write(exports.join("out.csv"), old).expect("write");
            fs::write(exports.join("out.rejects.csv"), old).expect("write");
        }
        ["close_stdout"] => {
            let mut big = String::from("patient_id,specimen_id,hb_g_dl\n");
            for i in 0..20_000 {
                big.push_str(&format!("P{i},S{i},11\n"));
            }
            fs::write(dir.join("big.csv"), big).expect("write");
        }
        _ => {}
    }
}

fn run(case: &Case, dir: &Path, args: &[String]) -> Ran {
    let bin = env!("CARGO_BIN_EXE_anemia-engine");
    let special = case.special.as_deref().unwrap_or("");
    let mut cmd = Command::new(bin);
    cmd.args(args);
    match special {
        "close_stdout" => {
            cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
            let mut child = cmd.spawn().expect("spawn");
            drop(child.stdout.take());
            let out = child.wait_with_output().expect("wait");
            Ran {
                code: exit_code(out.status),
                stdout: Vec::new(),
                stderr: out.stderr,
            }
        }
        "close_stderr" => {
            cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
            let mut child = cmd.spawn().expect("spawn");
            drop(child.stderr.take());
            let out = child.wait_with_output().expect("wait");
            Ran {
                code: exit_code(out.status),
                stdout: out.stdout,
                stderr: Vec::new(),
            }
        }
        "sigterm" | "sigint" => {
            cmd.stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            let mut child = cmd.spawn().expect("spawn");
            let mut stdin = child.stdin.take().expect("stdin");
            stdin
                .write_all(b"patient_id,hb_g_dl\nP1,11\n")
                .expect("write stdin");
            // Wait until the run has created its temporary outputs, then signal it while
            // it waits for more input.
            for _ in 0..500 {
                if tree(dir).iter().any(|f| f.ends_with(".tmp")) {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            assert!(
                tree(dir).iter().any(|f| f.ends_with(".tmp")),
                "{}: the run created temporary outputs",
                case.name
            );
            let signal = if special == "sigterm" {
                "-TERM"
            } else {
                "-INT"
            };
            let killed = Command::new("kill")
                .args([signal, &child.id().to_string()])
                .status()
                .expect("kill");
            assert!(killed.success());
            let out = child.wait_with_output().expect("wait");
            drop(stdin);
            Ran {
                code: exit_code(out.status),
                stdout: out.stdout,
                stderr: out.stderr,
            }
        }
        _ => {
            let input = case.inputs.first().map(|i| dir.join(i));
            if args.iter().any(|a| a == "-") {
                cmd.stdin(Stdio::from(
                    fs::File::open(input.expect("stdin input")).expect("open"),
                ));
            }
            let out = cmd.output().expect("run");
            Ran {
                code: exit_code(out.status),
                stdout: out.stdout,
                stderr: out.stderr,
            }
        }
    }
}

/// Runs one case; returns its failures.
fn check(case: &Case) -> Vec<String> {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    for input in &case.inputs {
        fs::copy(hostile_dir().join(input), dir.join(input)).expect("copy fixture");
    }
    prepare(case.special.as_deref(), dir);
    let before: Vec<(String, Vec<u8>)> = tree(dir)
        .into_iter()
        .filter(|f| !fs::symlink_metadata(dir.join(f)).is_ok_and(|m| m.is_symlink()))
        // A previous run's outputs inside an input directory are replaced by this run.
        .filter(|f| !f.starts_with("exports/out"))
        .map(|f| {
            let bytes = fs::read(dir.join(&f)).expect("read input");
            (f, bytes)
        })
        .collect();
    let first = case
        .inputs
        .first()
        .map(|i| dir.join(i).display().to_string())
        .unwrap_or_default();
    let default_args = [
        "classify",
        "$IN",
        "-o",
        "$DIR/out.csv",
        "--summary",
        "$DIR/summary.json",
    ];
    let args: Vec<String> = case
        .args
        .clone()
        .unwrap_or_else(|| default_args.iter().map(|s| s.to_string()).collect())
        .iter()
        .map(|a| {
            a.replace("$IN", &first)
                .replace("$DIR", &dir.display().to_string())
        })
        .collect();
    let ran = run(case, dir, &args);
    let stderr = String::from_utf8_lossy(&ran.stderr).into_owned();
    let mut fail = Vec::new();
    let mut expect = |ok: bool, what: String| {
        if !ok {
            fail.push(what);
        }
    };
    expect(
        ran.code == case.exit,
        format!(
            "exit {} (expected {}); stderr: {stderr}",
            ran.code, case.exit
        ),
    );
    expect(!stderr.contains("panicked"), format!("a panic: {stderr}"));
    // Post-conditions, whatever the outcome.
    for (f, bytes) in &before {
        let now = fs::read(dir.join(f)).unwrap_or_default();
        expect(now == *bytes, format!("input {f} was changed or removed"));
    }
    let after = tree(dir);
    expect(
        !after.iter().any(|f| f.contains(".tmp")),
        format!("temporary files left: {after:?}"),
    );
    let existed: Vec<&String> = before.iter().map(|(f, _)| f).collect();
    let created: Vec<&String> = after
        .iter()
        .filter(|f| !existed.contains(f))
        .filter(|f| !fs::symlink_metadata(dir.join(f)).is_ok_and(|m| m.is_symlink()))
        .collect();
    if case.exit != 0 && case.exit != 3 {
        expect(
            created.is_empty(),
            format!("a failed run left outputs behind: {created:?}"),
        );
    }
    // The ledger, from the summary file.
    if let Some(rows) = case.rows_read {
        let summary: Value = fs::read_to_string(dir.join("summary.json"))
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or(Value::Null);
        let n = |k: &str| summary[k].as_u64();
        expect(
            n("rows_read") == Some(rows),
            format!("rows_read {:?} != {rows}", n("rows_read")),
        );
        expect(
            n("classified") == case.classified,
            format!("classified {:?} != {:?}", n("classified"), case.classified),
        );
        expect(
            n("rejected") == case.rejected,
            format!("rejected {:?} != {:?}", n("rejected"), case.rejected),
        );
        expect(
            summary["ledger_balanced"] == Value::Bool(true),
            "ledger_balanced is not true".into(),
        );
        for (reason, count) in case.rejected_by_reason.iter().flatten() {
            let got = summary["rejected_by_reason"][reason].as_u64();
            expect(
                got == Some(*count),
                format!("rejected {reason} {got:?} != {count}"),
            );
        }
        if let Some(repeats) = case.header_repeats {
            let got: u64 = summary["inputs"]
                .as_array()
                .map(|a| a.iter().filter_map(|i| i["header_repeats"].as_u64()).sum())
                .unwrap_or(0);
            expect(got == repeats, format!("header_repeats {got} != {repeats}"));
        }
    }
    let rejects = fs::read_to_string(dir.join("out.rejects.csv")).unwrap_or_default();
    if let Some(lines) = &case.reject_lines {
        let mut r = csv::Reader::from_reader(rejects.as_bytes());
        let got: Vec<u64> = r
            .records()
            .flatten()
            .filter_map(|rec| rec.get(1).and_then(|l| l.parse().ok()))
            .collect();
        expect(got == *lines, format!("reject lines {got:?} != {lines:?}"));
    }
    for secret in &case.reject_messages_not {
        let mut r = csv::Reader::from_reader(rejects.as_bytes());
        let leaked = r
            .records()
            .flatten()
            .any(|rec| rec.get(3).is_some_and(|m| m.contains(secret.as_str())));
        expect(!leaked, format!("a reject message shows {secret:?}"));
    }
    for s in &case.stderr_has {
        expect(
            stderr.contains(s.as_str()),
            format!("stderr lacks {s:?}: {stderr}"),
        );
    }
    for s in &case.stderr_not {
        expect(
            !stderr.contains(s.as_str()),
            format!("stderr shows {s:?}: {stderr}"),
        );
    }
    let mut out = String::from_utf8_lossy(&ran.stdout).into_owned();
    out.push_str(&fs::read_to_string(dir.join("out.csv")).unwrap_or_default());
    for s in &case.out_has {
        expect(out.contains(s.as_str()), format!("output lacks {s:?}"));
    }
    for s in &case.out_not {
        expect(!out.contains(s.as_str()), format!("output shows {s:?}"));
    }
    match case.special.as_deref() {
        Some("dev_null_intact") => {
            use std::os::unix::fs::FileTypeExt;
            let meta = fs::metadata("/dev/null").expect("/dev/null");
            expect(
                meta.file_type().is_char_device(),
                "/dev/null was replaced".into(),
            );
        }
        Some(s) if s.starts_with("symlink_dev_stdout:") => {
            let link = dir.join(&s["symlink_dev_stdout:".len()..]);
            expect(
                fs::symlink_metadata(&link).is_ok_and(|m| m.is_symlink()),
                "the link to /dev/stdout was replaced by a file".into(),
            );
        }
        _ => {}
    }
    fail
}

#[test]
fn hostile_cases() {
    let manifest = manifest();
    assert!(manifest.case.len() >= 60, "at least 60 hostile cases");
    let mut names: Vec<&str> = manifest.case.iter().map(|c| c.name.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), manifest.case.len(), "case names are unique");
    let mut failures = Vec::new();
    for case in &manifest.case {
        assert!(!case.why.is_empty() && !case.group.is_empty());
        for f in check(case) {
            failures.push(format!("{} ({}): {f}", case.name, case.group));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_fixture_file_is_used_by_a_case() {
    let manifest = manifest();
    let used: Vec<&str> = manifest
        .case
        .iter()
        .flat_map(|c| c.inputs.iter().map(String::as_str))
        .collect();
    for f in tree(&hostile_dir()) {
        if f == "cases.toml" || f == "generate.py" {
            continue;
        }
        assert!(used.contains(&f.as_str()), "{f} is not used by any case");
    }
}

mod mutations {
    use anemia_engine::ingest::{read_delimited, IngestOptions, Layout, RowOutcome};
    use proptest::prelude::*;

    use crate::line_count::expected_rows;

    fn ruleset() -> &'static anemia_engine::ruleset::Ruleset {
        static RS: std::sync::OnceLock<anemia_engine::ruleset::Ruleset> =
            std::sync::OnceLock::new();
        RS.get_or_init(|| anemia_engine::ruleset::Ruleset::embedded().expect("ruleset"))
    }

    /// One data row: ids, an hb cell, and a conditions cell that may be quoted, hold a
    /// newline, a stray quote or a delimiter.
    fn row() -> impl Strategy<Value = String> {
        let cond = prop_oneof![
            Just("cancer".to_string()),
            Just(String::new()),
            Just("\"cancer;heart_failure\"".to_string()),
            Just("\"multi\nline\"".to_string()),
            Just("\"a,b\"".to_string()),
            Just("\"stray".to_string()),
            Just("x\"y".to_string()),
        ];
        let ending = prop_oneof![Just("\n"), Just("\r\n"), Just("\r")];
        (
            1u32..500,
            prop::sample::select(vec!["11.5", "9", "NA", "<5", "1e3"]),
            cond,
            ending,
        )
            .prop_map(|(id, hb, cond, end)| format!("P{id},S{id},{hb},{cond}{end}"))
    }

    fn export() -> impl Strategy<Value = Vec<u8>> {
        let line = prop_oneof![
            8 => row(),
            1 => Just(" , ,\n".to_string()),
            1 => Just("\n".to_string()),
        ];
        prop::collection::vec(line, 0..25).prop_map(|rows| {
            let mut text = String::from("patient_id,specimen_id,hb_g_dl,conditions\n");
            for r in rows {
                text.push_str(&r);
            }
            text.into_bytes()
        })
    }

    /// Rows accounted for by the reader: every outcome of the wide layout is one data line.
    fn rows_read(bytes: &[u8]) -> Option<u64> {
        let opts = IngestOptions {
            layout: Layout::Wide,
            ..IngestOptions::default()
        };
        let read = read_delimited("p.csv", bytes, ruleset(), &opts).ok()?;
        Some(
            read.outcomes
                .iter()
                .map(|o| match o {
                    RowOutcome::Panel(p) => p.rows_used,
                    RowOutcome::Reject(_) | RowOutcome::NotAttached(_) => 1,
                })
                .sum(),
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// For any export and any single-byte change, rows read equals the non-blank
        /// physical data lines that are not continuation lines of a well-formed quoted
        /// record (nor repeats of the header), as counted independently.
        #[test]
        fn rows_read_counts_physical_data_lines(
            bytes in export(),
            at in any::<prop::sample::Index>(),
            byte in prop_oneof![
                Just(b'"'), Just(b','), Just(b'\n'), Just(b'\r'), Just(b' '), Just(0xffu8),
                any::<u8>()
            ],
        ) {
            let mut mutated = bytes.clone();
            if !mutated.is_empty() {
                let i = at.index(mutated.len());
                mutated[i] = byte;
            }
            for input in [&bytes, &mutated] {
                if let Some(read) = rows_read(input) {
                    let expected = expected_rows(input).expect("a header was read");
                    prop_assert_eq!(
                        read, expected,
                        "export {:?}", String::from_utf8_lossy(input)
                    );
                }
            }
        }
    }
}
