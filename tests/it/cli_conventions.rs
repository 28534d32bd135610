//! CLI conventions (interface 2026.2, "Binary and subcommands"): examples in every
//! subcommand's help, no argument without help, shell completions, `--summary -`,
//! `diff --format json`, `changed_columns` in `diff -o`, and progress counted in rows.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::Path;
use std::process::{Command as Process, Stdio};

use anemia_engine::cli::Cli;
use clap::CommandFactory;
use serde_json::Value;

use crate::common::{
    code, engine, fixture, ruleset_2026_1_dir, s, stderr, stdout, write_input, CORPUS_PANELS,
};

// ---------------------------------------------------------------- help

/// Every command below `cmd` (itself included), with its path (`anemia-engine ranges check`).
fn walk(cmd: &clap::Command, path: &str, out: &mut Vec<(String, clap::Command)>) {
    let path = if path.is_empty() {
        cmd.get_name().to_string()
    } else {
        format!("{path} {}", cmd.get_name())
    };
    out.push((path.clone(), cmd.clone()));
    for sub in cmd.get_subcommands() {
        // clap's own `help` subcommand is generated, not ours.
        if sub.get_name() != "help" {
            walk(sub, &path, out);
        }
    }
}

fn commands() -> Vec<(String, clap::Command)> {
    let mut cli = Cli::command();
    cli.build();
    let mut out = Vec::new();
    walk(&cli, "", &mut out);
    out
}

#[test]
fn every_argument_of_every_subcommand_has_help() {
    let commands = commands();
    assert!(commands.len() >= 9, "{} commands", commands.len());
    let mut blank = Vec::new();
    for (path, cmd) in &commands {
        for arg in cmd.get_arguments() {
            let help = arg
                .get_help()
                .or(arg.get_long_help())
                .map(|h| h.to_string())
                .unwrap_or_default();
            if help.trim().is_empty() {
                blank.push(format!("{path}: {}", arg.get_id()));
            }
        }
        let about = cmd.get_about().map(|a| a.to_string()).unwrap_or_default();
        if about.trim().is_empty() {
            blank.push(format!("{path}: (no about)"));
        }
    }
    assert!(blank.is_empty(), "arguments without help: {blank:?}");
}

#[test]
fn every_subcommand_help_shows_examples_of_its_own_command_lines() {
    for (path, mut cmd) in commands() {
        for help in [cmd.render_help(), cmd.render_long_help()] {
            let help = help.to_string();
            let examples = help
                .split_once("Examples:\n")
                .map(|(_, e)| e)
                .unwrap_or_else(|| panic!("{path}: no Examples block in\n{help}"));
            // Every example line of a subcommand runs that subcommand.
            let lines: Vec<&str> = examples
                .lines()
                .filter(|l| l.starts_with("  ") && !l.starts_with("    "))
                .collect();
            assert!(!lines.is_empty(), "{path}: empty Examples block");
            if path.contains(' ') {
                assert!(
                    lines.iter().all(|l| l.contains(&path)),
                    "{path}: an example runs another command:\n{examples}"
                );
            }
        }
    }
}

#[test]
fn help_of_the_binary_shows_examples_with_h_and_help() {
    for args in [
        vec!["--help"],
        vec!["classify", "--help"],
        vec!["classify", "-h"],
        vec!["diff", "--help"],
        vec!["ranges", "check", "--help"],
        vec!["help", "completions"],
    ] {
        let o = engine(&args);
        assert_eq!(code(&o), 0, "{args:?}: {}", stderr(&o));
        assert!(
            stdout(&o).contains("\nExamples:\n"),
            "{args:?}: {}",
            stdout(&o)
        );
    }
}

#[test]
fn the_examples_that_name_bundled_files_run() {
    // The examples that need only the repository's own files work as printed.
    let root = crate::common::root();
    for args in [
        vec!["explain", "examples/lab_export.csv", "--row", "3"],
        vec!["rules", "IRON-003"],
        vec!["rules", "NSAID_CAUTION", "--format", "json"],
        vec![
            "rules",
            "back_pain.nsaid_caution",
            "--ruleset",
            "reference-ranges/2026.1",
        ],
        vec!["ranges", "check", "reference-ranges/2026.2"],
        vec!["ranges", "show", "--ruleset", "reference-ranges/2026.1"],
    ] {
        let o = Process::new(env!("CARGO_BIN_EXE_anemia-engine"))
            .args(&args)
            .current_dir(&root)
            .output()
            .expect("run");
        assert_eq!(code(&o), 0, "{args:?}: {}", stderr(&o));
    }
}

// ---------------------------------------------------------------- completions

#[test]
fn completions_for_each_shell_name_the_subcommands() {
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let o = engine(&["completions", shell]);
        assert_eq!(code(&o), 0, "{shell}: {}", stderr(&o));
        let script = stdout(&o);
        assert!(!script.trim().is_empty(), "{shell}: empty script");
        for word in ["classify", "diff", "completions", "anemia-engine"] {
            assert!(script.contains(word), "{shell}: no {word} in\n{script}");
        }
    }
    let o = engine(&["completions", "tcsh"]);
    assert_eq!(code(&o), 2, "an unknown shell is a usage error");
    assert!(stderr(&o).contains("bash"), "{}", stderr(&o));
}

// ---------------------------------------------------------------- --summary -

#[test]
fn summary_dash_writes_the_json_summary_to_stdout() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out.csv");
    let o = engine(&[
        "classify",
        s(&fixture("cases.csv")),
        "-o",
        s(&out),
        "--summary",
        "-",
        "--quiet",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let summary: Value = serde_json::from_str(&stdout(&o)).expect("stdout is one JSON document");
    assert_eq!(summary["rows_read"], CORPUS_PANELS);
    assert_eq!(summary["classified"], CORPUS_PANELS);
    assert_eq!(summary["ledger_balanced"], true);
    assert_eq!(summary["output"], s(&out));
    // The rows went to the file, and no file named `-` was made.
    let rows = csv::Reader::from_path(&out).expect("out").records().count();
    assert_eq!(rows, CORPUS_PANELS);
    assert!(!dir.path().join("-").exists());
    assert!(!Path::new("-").exists());
}

#[test]
fn summary_dash_with_rows_on_stdout_is_refused_before_any_row() {
    // cli_messy.csv has rows that are rejected: none may be read (no reject on stderr).
    let messy = fixture("cli_messy.csv");
    for extra in [vec![], vec!["-o", "-"]] {
        let mut args = vec!["classify", s(&messy), "--summary", "-"];
        args.extend(extra.iter().copied());
        let o = engine(&args);
        assert_eq!(code(&o), 2, "{args:?}: {}", stderr(&o));
        assert!(o.stdout.is_empty(), "{args:?}: {}", stdout(&o));
        let err = stderr(&o);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.contains("--summary - writes the summary to stdout"),
            "{err}"
        );
        assert!(err.contains("-o OUT"), "{err}");
        assert!(!err.contains("rejected"), "{err}");
    }
}

#[test]
fn output_dash_writes_the_rows_to_stdout() {
    let dir = tempfile::tempdir().expect("tempdir");
    let o = Process::new(env!("CARGO_BIN_EXE_anemia-engine"))
        .args(["classify", s(&fixture("cases.csv")), "-o", "-", "--quiet"])
        .current_dir(dir.path())
        .output()
        .expect("run");
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let rows = csv::Reader::from_reader(o.stdout.as_slice())
        .records()
        .count();
    assert_eq!(rows, CORPUS_PANELS);
    assert!(crate::common::files_in(dir.path()).is_empty());
}

// ---------------------------------------------------------------- diff --format json

fn diff_json(old: &Path, new: &Path, extra: &[&str]) -> Value {
    let mut args = vec!["diff", s(old), s(new), "--format", "json"];
    args.extend_from_slice(extra);
    let o = engine(&args);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    serde_json::from_str(&stdout(&o)).expect("diff --format json prints one JSON object")
}

#[test]
fn diff_json_of_hand_made_results_has_counts_tables_and_changed_panels() {
    let old = fixture("qa_diff_old.csv");
    let new = fixture("qa_diff_new.ndjson");
    let j = diff_json(&old, &new, &[]);
    assert_eq!(
        j["counts"],
        serde_json::json!({"unchanged": 2, "changed": 3, "only_in_old": 1, "only_in_new": 1})
    );
    assert_eq!(j["old"]["panels"], 6);
    assert_eq!(
        j["new"]["ruleset_versions"],
        serde_json::json!(["2026.1-qa"])
    );
    assert_eq!(
        j["transitions"],
        serde_json::json!([{"old": "anemia_other", "new": "iron_deficiency_anemia", "panels": 1}])
    );
    assert_eq!(
        j["flags_gained"],
        serde_json::json!({"IRON_DEFICIENCY_NORMAL_MCV": 1})
    );
    assert_eq!(j["flags_lost"], serde_json::json!({"NSAID_CAUTION": 1}));
    assert_eq!(
        j["column_changes"],
        serde_json::json!({"iron_status": 1, "classification": 1, "flags": 2,
            "recommended_tests": 1, "guidance": 2})
    );
    let changed = j["changed"].as_array().expect("changed");
    let keys: Vec<(&str, &str)> = changed
        .iter()
        .map(|c| {
            (
                c["patient_id"].as_str().expect("patient"),
                c["specimen_id"].as_str().expect("specimen"),
            )
        })
        .collect();
    assert_eq!(keys, [("P1", "S1"), ("P4", "S4"), ("P5", "S5")]);
    let p1 = &changed[0];
    assert_eq!(
        p1["changed_columns"],
        serde_json::json!([
            "iron_status",
            "classification",
            "flags",
            "recommended_tests",
            "guidance"
        ])
    );
    assert_eq!(p1["old"]["classification"], "anemia_other");
    assert_eq!(p1["new"]["classification"], "iron_deficiency_anemia");
    assert_eq!(p1["old"]["iron_status"], "adequate");
    assert_eq!(p1["new"]["iron_status"], "deficient");
    assert_eq!(p1["old"]["hb_threshold_g_dl"], "12.0");
    assert_eq!(p1["old"]["flags"], serde_json::json!([]));
    assert_eq!(
        p1["new"]["flags"],
        serde_json::json!(["IRON_DEFICIENCY_NORMAL_MCV"])
    );
    assert_eq!(
        p1["old"]["recommended_tests"],
        serde_json::json!(["reticulocytes"])
    );
    assert_eq!(p1["new"]["recommended_tests"], serde_json::json!([]));
    // P2: 13.0 in CSV and 13 in NDJSON are the same cutoff, so P2 is not changed; P5
    // changed in guidance only.
    assert_eq!(
        changed[2]["changed_columns"],
        serde_json::json!(["guidance"])
    );
    assert_eq!(
        changed[1]["flags_lost"],
        serde_json::json!(["NSAID_CAUTION"])
    );
    assert_eq!(
        j["only_in_old"],
        serde_json::json!([{"patient_id": "P3", "specimen_id": "S3"}])
    );
    assert_eq!(
        j["only_in_new"],
        serde_json::json!([{"patient_id": "P6", "specimen_id": "S6"}])
    );
    // The same files with themselves: no changes, empty tables.
    let same = diff_json(&old, &old, &[]);
    assert_eq!(same["counts"]["unchanged"], 6);
    assert_eq!(same["counts"]["changed"], 0);
    assert_eq!(same["changed"], serde_json::json!([]));
    assert_eq!(same["transitions"], serde_json::json!([]));
    assert_eq!(same["flags_gained"], serde_json::json!({}));
}

/// Text of a JSON decision value as the result CSV writes it (lists `;`-joined).
fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items
            .iter()
            .map(|i| i.as_str().expect("code").to_string())
            .collect::<Vec<_>>()
            .join(";"),
        other => other.to_string(),
    }
}

/// The 2026.1 corpus under 2026.1 and 2026.2: the JSON report holds exactly the differences
/// clinical rules §10 predicts (tests/fixtures/corpus_2026_1_to_2026_2.csv), agrees with the
/// text report's counts, and `-o` names the same changed columns.
#[test]
fn diff_json_of_the_2026_1_corpus_under_2026_2_matches_the_prediction() {
    let dir = tempfile::tempdir().expect("tempdir");
    let old = dir.path().join("r2026_1.csv");
    let new = dir.path().join("r2026_2.ndjson");
    let cases = fixture("cases.csv");
    let r1 = ruleset_2026_1_dir();
    for (out, extra) in [(&old, vec!["--ruleset", r1.as_str()]), (&new, vec![])] {
        let mut args = vec!["classify", s(&cases), "-o", s(out), "--quiet"];
        args.extend(extra.iter().copied());
        let o = engine(&args);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
    }
    let changes = dir.path().join("changes.csv");
    let j = diff_json(&old, &new, &["-o", s(&changes)]);

    // The columns the prediction file covers.
    let predicted_columns = [
        "anemia",
        "hb_threshold_g_dl",
        "severity",
        "inflammation",
        "iron_status",
        "classification",
        "flags",
    ];
    let mut actual = BTreeMap::new();
    for c in j["changed"].as_array().expect("changed") {
        let id = c["specimen_id"].as_str().expect("specimen").to_string();
        for column in predicted_columns {
            let (o, n) = (cell(&c["old"][column]), cell(&c["new"][column]));
            if o != n {
                actual.insert((id.clone(), column.to_string()), (o, n));
            }
        }
    }
    let mut predicted = BTreeMap::new();
    let mut file = csv::Reader::from_path(fixture("corpus_2026_1_to_2026_2.csv")).expect("file");
    for rec in file.deserialize::<HashMap<String, String>>() {
        let r = rec.expect("record");
        predicted.insert(
            (r["specimen_id"].clone(), r["column"].clone()),
            (r["old"].clone(), r["new"].clone()),
        );
    }
    assert!(!predicted.is_empty());
    assert_eq!(actual, predicted);

    // Same counts as the text report.
    let text = stdout(&engine(&["diff", s(&old), s(&new)]));
    let counts = &j["counts"];
    assert_eq!(
        counts["unchanged"].as_u64().expect("n") + counts["changed"].as_u64().expect("n"),
        CORPUS_PANELS as u64
    );
    assert!(
        text.contains(&format!(
            "  unchanged    {:>7}\n  changed      {:>7}\n",
            counts["unchanged"].as_u64().expect("n"),
            counts["changed"].as_u64().expect("n")
        )),
        "{text}"
    );
    // changed_columns of the -o file = the JSON's, panel by panel, in the same order.
    let mut reader = csv::Reader::from_path(&changes).expect("changes");
    let from_csv: Vec<(String, String)> = reader
        .deserialize::<HashMap<String, String>>()
        .map(|r| {
            let r = r.expect("row");
            (r["specimen_id"].clone(), r["changed_columns"].clone())
        })
        .collect();
    let from_json: Vec<(String, String)> = j["changed"]
        .as_array()
        .expect("changed")
        .iter()
        .map(|c| {
            (
                c["specimen_id"].as_str().expect("id").to_string(),
                cell(&c["changed_columns"]),
            )
        })
        .collect();
    assert_eq!(from_csv, from_json);
    assert!(from_csv.iter().all(|(_, cols)| !cols.is_empty()));
}

// ---------------------------------------------------------------- progress

#[test]
fn progress_lines_count_rows_and_estimate_the_total_from_a_plain_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out.csv");
    let o = engine(&[
        "classify",
        s(&fixture("cases.csv")),
        "-o",
        s(&out),
        "--progress",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let err = stderr(&o);
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("progress:")).collect();
    assert_eq!(
        lines.first().copied(),
        Some("progress: about 187 data rows in 1 input (ETA from rows per second)"),
        "{err}"
    );
    let last = lines.last().expect("a last progress line");
    assert!(
        last.starts_with("progress: done, 187 rows read (0 rejected) in "),
        "{err}"
    );
    assert!(last.ends_with(" rows/s"), "{err}");
    assert!(lines.iter().all(|l| !l.contains("bytes")), "{err}");

    // --quiet: no progress at all.
    let o = engine(&[
        "classify",
        s(&fixture("cases.csv")),
        "-o",
        s(&out),
        "--progress",
        "--quiet",
    ]);
    assert!(!stderr(&o).contains("progress:"), "{}", stderr(&o));
}

#[test]
fn progress_of_gzip_and_stdin_shows_rows_without_an_eta() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bytes = std::fs::read(fixture("cases.csv")).expect("cases");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&bytes).expect("gzip");
    let input = write_input(dir.path(), "cases.csv.gz", &gz.finish().expect("gzip"));
    let out = dir.path().join("out.csv");
    let o = engine(&["classify", s(&input), "-o", s(&out), "--progress"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("progress: rows of 1 input not known ahead (compressed, stdin or not a regular file): rows and rows/s, no ETA"),
        "{err}"
    );
    assert!(err.contains("progress: done, 187 rows read"), "{err}");

    let mut child = Process::new(env!("CARGO_BIN_EXE_anemia-engine"))
        .args(["classify", "-", "-o", s(&out), "--progress"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(&bytes)
        .expect("write stdin");
    let o = child.wait_with_output().expect("wait");
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("no ETA"), "{err}");
    assert!(err.contains("progress: done, 187 rows read"), "{err}");
}
