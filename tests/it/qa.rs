//! QA tooling (issue 5): `explain`, `diff`, ruleset provenance and ruleset-change impact.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anemia_engine::ruleset::{compute_checksum, Ruleset, RULESET_FILES};

use crate::common::{engine, fixture, read, root, settings, stderr, stdout};

fn path_str(p: &Path) -> &str {
    p.to_str().expect("utf8 path")
}

/// A copy of `reference-ranges/2026.1` with `edits` (file, from, to) applied, a new version
/// and the checksum of the edited files, so that the engine accepts it.
fn ruleset_copy(version: &str, edits: &[(&str, &str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for entry in std::fs::read_dir(root().join("reference-ranges/2026.1")).expect("list") {
        let entry = entry.expect("entry");
        std::fs::copy(entry.path(), dir.path().join(entry.file_name())).expect("copy");
    }
    for (file, from, to) in edits {
        let p = dir.path().join(file);
        let text = read(&p);
        assert!(text.contains(from), "{file} lacks {from:?}");
        std::fs::write(&p, text.replacen(from, to, 1)).expect("write");
    }
    let contents: Vec<(String, String)> = RULESET_FILES
        .iter()
        .map(|n| (n.to_string(), read(&dir.path().join(n))))
        .collect();
    let checksum = compute_checksum(&contents);
    let manifest_path = dir.path().join("MANIFEST.toml");
    let manifest: Vec<String> = read(&manifest_path)
        .lines()
        .map(|l| {
            if l.starts_with("version =") {
                format!("version = \"{version}\"")
            } else if l.starts_with("checksum =") {
                format!("checksum = \"{checksum}\"")
            } else {
                l.to_string()
            }
        })
        .collect();
    std::fs::write(&manifest_path, manifest.join("\n") + "\n").expect("write manifest");
    let rs = Ruleset::from_dir(dir.path()).expect("the edited copy loads");
    assert_eq!(rs.version, version);
    dir
}

/// Adults with anemia: iron deficient below ferritin 100 instead of 45 (AGA 2020).
const FERRITIN_EDIT: (&str, &str, &str) = (
    "ferritin_cutoffs.csv",
    "adults with anemia,15,,anemic,45,",
    "adults with anemia,15,,anemic,100,",
);

/// Inflammation from CRP above 10 mg/L instead of 5.
const CRP_EDIT: (&str, &str, &str) = (
    "thresholds.csv",
    "crp_inflammation_above,5,",
    "crp_inflammation_above,10,",
);

/// The count of a row of one of the report's tables (`  label   12`).
fn table_count(report: &str, label: &str) -> Option<usize> {
    report.lines().find_map(|l| {
        let rest = l.strip_prefix("  ")?.strip_prefix(label)?;
        if !rest.starts_with("  ") {
            return None;
        }
        rest.trim().parse().ok()
    })
}

fn classify_to(input: &Path, out: &Path, extra: &[&str]) {
    let mut args = vec!["classify", path_str(input), "-o", path_str(out), "--quiet"];
    args.extend_from_slice(extra);
    let o = engine(&args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

// ---------------------------------------------------------------- explain

/// One panel of each label of the known-answer corpus; K045 has altitude and smoking
/// adjustments, K081 a censored ferritin, K108 and K151 a derived TSAT (from TIBC and from
/// transferrin), K122 a censored B12.
const EXPLAINED: [(&str, &str); 12] = [
    ("anemia_other", "K045"),
    ("no_anemia", "K108"),
    ("iron_deficiency_anemia", "K081"),
    ("mixed_iron_deficiency_and_inflammation", "K151"),
    ("anemia_of_inflammation", "K083"),
    ("thalassemia_trait_suspected", "K116"),
    ("anemia_indeterminate", "K077"),
    ("iron_deficiency_without_anemia", "K061"),
    ("b12_folate_deficiency_anemia", "K122"),
    ("b12_folate_deficiency_without_anemia", "K127"),
    ("combined_iron_and_b12_folate_deficiency", "K124"),
    ("insufficient_data", "K049"),
];

#[test]
fn explain_one_panel_of_each_label_as_text_and_json() {
    // The labels of the 2026.1 corpus, explained under the ruleset it was written for.
    let cases = fixture("cases.csv");
    let r1 = crate::common::ruleset_2026_1_dir();
    for (label, specimen) in EXPLAINED {
        let o = engine(&[
            "explain",
            path_str(&cases),
            "--specimen",
            specimen,
            "--ruleset",
            &r1,
        ]);
        assert_eq!(o.status.code(), Some(0), "{specimen}: {}", stderr(&o));
        let text = stdout(&o);
        assert!(
            text.contains(&format!("  classification     {label}\n")),
            "{specimen}: {text}"
        );
        settings().bind(|| insta::assert_snapshot!(format!("qa_explain_{label}"), text));

        let o = engine(&[
            "explain",
            path_str(&cases),
            "--specimen",
            specimen,
            "--format",
            "json",
            "--ruleset",
            &r1,
        ]);
        assert_eq!(o.status.code(), Some(0), "{specimen}: {}", stderr(&o));
        let json: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("explain JSON");
        assert_eq!(json["classification"], label, "{specimen}");
        assert_eq!(json["specimen_id"], specimen);
        settings().bind(|| insta::assert_snapshot!(format!("qa_explain_{label}_json"), stdout(&o)));
    }
}

#[test]
fn explain_shows_the_cutoff_adjustments_censored_values_and_derived_tsat() {
    let cases = fixture("cases.csv");
    let explain = |specimen: &str| {
        stdout(&engine(&[
            "explain",
            path_str(&cases),
            "--specimen",
            specimen,
        ]))
    };

    let altitude = explain("K045");
    assert!(altitude.contains("Haemoglobin cutoff\n  ANEMIA-001 cutoff 130 g/L for males"));
    assert!(altitude.contains("  ANEMIA-002 altitude 5000 m: +33 g/L"));
    assert!(altitude.contains("  ANEMIA-003 smoking 20 cigarettes/day: +6 g/L"));
    assert!(altitude.contains("  threshold used: 16.9 g/dL"));

    let censored = explain("K081");
    assert!(censored.contains("\"<10\""), "raw cell as read: {censored}");
    assert!(censored.contains("ferritin <10 ug/L (censored, DATA-001)"));
    assert!(censored.contains("DATA-001 Censored values"));

    let derived = explain("K108");
    assert!(derived.contains(
        "IRON-001 TSAT\n      TSAT derived = iron 45 ug/dL / TIBC 400 ug/dL x 100 = 11.25 %"
    ));
    assert!(derived.contains("TSAT_DERIVED"));
}

#[test]
fn explain_shows_raw_cells_conversions_and_ignored_columns() {
    let input = fixture("qa_explain.csv");
    let o = engine(&["explain", path_str(&input), "--row", "1"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    for expected in [
        "  hb_g_l           \"98\"",
        "hb 98 g/L x 0.1 = 9.8 g/dL",
        "  ferritin: ferritin_pmol_l 56 pmol/L x 0.44504 = 24.92 ug/L",
        "crp <0.5 mg/dL x 10 = <5 mg/L (censored, DATA-001)",
        "text result \"clotted\": missing for the rules (DATA-002)",
        "rheumatoid_arthritis; unknown codes ignored: gout",
        "  ANEMIA-001 cutoff 105 g/L for pregnant second trimester",
        "  ANEMIA-002 altitude 1200 m: +8 g/L",
        "  ANEMIA-003 smoker, no count: +3 g/L",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
    settings().bind(|| insta::assert_snapshot!("qa_explain_conversions", text));

    let o = engine(&[
        "explain",
        path_str(&input),
        "--row",
        "1",
        "--format",
        "json",
    ]);
    let json: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("JSON");
    let conversions = json["conversions"].as_array().expect("conversions");
    assert_eq!(conversions.len(), 7);
    assert_eq!(conversions[0]["column"], "hb_g_l");
    assert_eq!(conversions[0]["factor"], 0.1);
    assert_eq!(json["hb_cutoff"]["threshold_g_dl"], 11.6);
    settings().bind(|| insta::assert_snapshot!("qa_explain_conversions_json", stdout(&o)));
}

#[test]
fn explain_a_rejected_row_says_why_and_a_missing_panel_exits_2() {
    let input = fixture("qa_explain.csv");
    let o = engine(&["explain", path_str(&input), "--row", "3"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("rejected (implausible_value)"),
        "{}",
        stdout(&o)
    );

    let o = engine(&["explain", path_str(&input), "--specimen", "NOPE"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no panel with specimen_id \"NOPE\""));
}

#[test]
fn explain_reads_stdin() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_anemia-engine"))
        .args(["explain", "-", "--row", "1"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(read(&fixture("qa_explain.csv")).as_bytes())
        .expect("write stdin");
    let o = child.wait_with_output().expect("wait");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(
        text.contains("Source: <stdin> line 2 (wide layout)"),
        "{text}"
    );
    assert!(text.contains("hb 98 g/L x 0.1 = 9.8 g/dL"));
}

// ---------------------------------------------------------------- diff

#[test]
fn diff_of_a_file_with_itself_has_no_changes_in_any_format() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cases = fixture("cases.csv");
    let outs: Vec<PathBuf> = ["r.csv", "r.parquet", "r.ndjson"]
        .iter()
        .map(|n| dir.path().join(n))
        .collect();
    for out in &outs {
        classify_to(&cases, out, &[]);
    }
    // The same run in CSV, Parquet and NDJSON reads the same, whichever pair is compared.
    for (old, new) in [
        (&outs[0], &outs[0]),
        (&outs[0], &outs[1]),
        (&outs[1], &outs[2]),
        (&outs[2], &outs[0]),
    ] {
        let o = engine(&["diff", path_str(old), path_str(new)]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let text = stdout(&o);
        assert!(text.contains("  unchanged        187\n  changed            0\n  only in OLD        0\n  only in NEW        0\n"), "{text}");
        assert!(text.ends_with("No differences.\n"), "{text}");
    }
}

#[test]
fn diff_of_hand_made_results_lists_transitions_flags_and_unmatched_panels() {
    let dir = tempfile::tempdir().expect("tempdir");
    let changes = dir.path().join("changes.csv");
    let o = engine(&[
        "diff",
        path_str(&fixture("qa_diff_old.csv")),
        path_str(&fixture("qa_diff_new.ndjson")),
        "-o",
        path_str(&changes),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    // P2: 13.0 in CSV and 13 in NDJSON are the same cutoff; P5 changed in guidance only;
    // the CSV writer's '=P7 is the NDJSON writer's =P7.
    assert!(text.contains("  unchanged          2\n  changed            3\n  only in OLD        1\n  only in NEW        1\n"), "{text}");
    assert_eq!(
        table_count(&text, "anemia_other -> iron_deficiency_anemia"),
        Some(1)
    );
    assert_eq!(table_count(&text, "IRON_DEFICIENCY_NORMAL_MCV"), Some(1));
    assert_eq!(table_count(&text, "NSAID_CAUTION"), Some(1));
    settings().bind(|| insta::assert_snapshot!("qa_diff_hand_made", text));

    let mut reader = csv::Reader::from_path(&changes).expect("changes.csv");
    let header: Vec<String> = reader
        .headers()
        .expect("header")
        .iter()
        .map(str::to_string)
        .collect();
    assert_eq!(
        header,
        [
            "patient_id",
            "specimen_id",
            "old_classification",
            "new_classification",
            "flags_gained",
            "flags_lost",
            "changed_columns",
            "old_evidence",
            "new_evidence"
        ]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
    assert_eq!(rows.len(), 3);
    assert_eq!(
        rows[0].iter().take(6).collect::<Vec<_>>(),
        [
            "P1",
            "S1",
            "anemia_other",
            "iron_deficiency_anemia",
            "IRON_DEFICIENCY_NORMAL_MCV",
            ""
        ]
    );
    assert_eq!(&rows[1][5], "NSAID_CAUTION");
    // changed_columns: the decision columns that differ, in output column order.
    assert_eq!(
        &rows[0][6],
        "iron_status;classification;flags;recommended_tests;guidance"
    );
    assert_eq!(&rows[1][6], "flags");
    assert_eq!(&rows[2][6], "guidance");
}

#[test]
fn diff_of_two_ruleset_runs_shows_the_known_transitions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cases = fixture("cases.csv");
    let crp10 = ruleset_copy("2026.1-crp10", &[CRP_EDIT]);
    let old = dir.path().join("old.csv");
    let new = dir.path().join("new.parquet");
    classify_to(
        &cases,
        &old,
        &["--ruleset", &crate::common::ruleset_2026_1_dir()],
    );
    classify_to(&cases, &new, &["--ruleset", path_str(crp10.path())]);
    let changes = dir.path().join("changes.csv");
    let o = engine(&[
        "diff",
        path_str(&old),
        path_str(&new),
        "-o",
        path_str(&changes),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    // The Parquet file's key-value metadata names the NEW ruleset's checksum.
    assert!(
        text.contains(&format!(
            "(187 panels; ruleset 2026.1-crp10, {})",
            Ruleset::from_dir(crp10.path()).expect("ruleset").checksum
        )),
        "{text}"
    );
    settings().bind(|| insta::assert_snapshot!("qa_diff_crp_cutoff_10", text));
    let changed = csv::Reader::from_path(&changes)
        .expect("changes")
        .records()
        .count();
    assert!(
        text.contains(&format!("  changed      {changed:>7}\n")),
        "{text}"
    );
}

#[test]
fn diff_refuses_files_that_cannot_be_compared() {
    let old = fixture("qa_diff_old.csv");
    let duplicate = fixture("qa_diff_duplicate.csv");
    let o = engine(&["diff", path_str(&old), path_str(&duplicate)]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.contains("qa_diff_duplicate.csv: panel (patient_id \"P1\", specimen_id \"S1\") appears twice (line 2 and line 4)"), "{err}");

    let o = engine(&[
        "diff",
        path_str(&fixture("qa_diff_no_specimen.csv")),
        path_str(&old),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("qa_diff_no_specimen.csv: no column \"specimen_id\""),
        "{}",
        stderr(&o)
    );

    // Two result files without a panel in common: not results of the same export.
    let dir = tempfile::tempdir().expect("tempdir");
    let other = dir.path().join("other.csv");
    classify_to(&fixture("qa_explain.csv"), &other, &[]);
    let o = engine(&["diff", path_str(&old), path_str(&other)]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("have no panel in common"),
        "{}",
        stderr(&o)
    );

    let o = engine(&["diff", path_str(&old), "results.txt"]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "an unknown extension is a usage error"
    );
    settings().bind(|| {
        insta::assert_snapshot!(
            "qa_diff_errors",
            [
                stderr(&engine(&["diff", path_str(&old), path_str(&duplicate)])),
                stderr(&engine(&[
                    "diff",
                    path_str(&fixture("qa_diff_no_specimen.csv")),
                    path_str(&old)
                ])),
            ]
            .join("\n")
        )
    });
}

// ---------------------------------------------------------------- provenance

#[test]
fn ranges_check_reports_every_problem_with_file_and_line() {
    let dir = ruleset_copy("2026.1-broken", &[]);
    for (file, from, to) in [
        (
            "ferritin_cutoffs.csv",
            "adults with anemia,15,,anemic,45,30,ug/L",
            "adults with anemia,15,,anemic,45,30,mg/dL",
        ),
        (
            "thresholds.csv",
            "rdw_high_above,14.5,%",
            "rdw_high_abov,14.5,%",
        ),
        (
            "hb_cutoffs.csv",
            "children 5-11 years,any,none,5,12",
            "children 5-11 years,any,none,4,12",
        ),
    ] {
        let p = dir.path().join(file);
        let text = read(&p);
        assert!(text.contains(from), "{file} lacks {from:?}");
        std::fs::write(&p, text.replacen(from, to, 1)).expect("write");
    }
    let o = engine(&["ranges", "check", path_str(dir.path())]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    for expected in [
        "ferritin_cutoffs.csv line",
        "thresholds.csv line",
        "hb_cutoffs.csv line",
        "MANIFEST.toml line",
    ] {
        assert!(err.contains(expected), "missing {expected:?} in:\n{err}");
    }
    settings().bind(|| insta::assert_snapshot!("qa_ranges_check_broken_copy", err));

    let o = engine(&[
        "ranges",
        "check",
        path_str(ruleset_copy("2026.1-ok", &[FERRITIN_EDIT]).path()),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("ruleset 2026.1-ok"));
}

#[test]
fn parquet_output_names_its_ruleset_in_the_key_value_metadata() {
    use polars::prelude::{ParquetReader, SerReader};
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("r.parquet");
    classify_to(&fixture("cases.csv"), &out, &[]);
    let mut reader = ParquetReader::new(std::fs::File::open(&out).expect("open"));
    let metadata = reader.get_metadata().expect("metadata");
    let kv: Vec<(String, String)> = metadata
        .key_value_metadata
        .as_ref()
        .expect("key-value metadata")
        .iter()
        .map(|e| (e.key.clone(), e.value.clone().unwrap_or_default()))
        .collect();
    let rs = Ruleset::embedded().expect("embedded ruleset");
    assert!(
        kv.contains(&("anemia_engine.ruleset_version".into(), rs.version.clone())),
        "{kv:?}"
    );
    assert!(
        kv.contains(&("anemia_engine.ruleset_checksum".into(), rs.checksum.clone())),
        "{kv:?}"
    );
    assert!(kv
        .iter()
        .any(|(k, v)| k == "anemia_engine.version" && v == env!("CARGO_PKG_VERSION")));
}

// ---------------------------------------------------------------- impact

/// The impact report with only the first changed-panel block of each classification
/// transition (a block without a classification change counts as its own kind), and the
/// number of changed-panel blocks in the full report.
fn one_panel_per_transition(report: &str) -> (String, usize) {
    let at = report
        .find("Changed panels, in NEW's order")
        .expect("changed panels section");
    let (head, section) = report.split_at(at);
    let (title, body) = section.split_once("\n\n").expect("section title");
    let blocks: Vec<&str> = body
        .trim_end()
        .split("\n\n")
        .filter(|b| !b.is_empty())
        .collect();
    assert!(blocks.iter().all(|b| b.starts_with("patient ")), "{body}");
    let mut seen = Vec::new();
    let mut kept = Vec::new();
    for block in &blocks {
        let kind = block
            .lines()
            .find(|l| l.starts_with("  classification "))
            .unwrap_or("(classification unchanged)");
        if !seen.contains(&kind) {
            seen.push(kind);
            kept.push(*block);
        }
    }
    let excerpt = format!(
        "{head}{title} [test excerpt: {} of {} blocks, the first of each transition]\n\n{}\n",
        kept.len(),
        blocks.len(),
        kept.join("\n\n")
    );
    (excerpt, blocks.len())
}

#[test]
fn compare_ruleset_reports_what_a_ferritin_cutoff_change_does() {
    let dir = tempfile::tempdir().expect("tempdir");
    let old = ruleset_copy("2026.1", &[]);
    let new = ruleset_copy("2026.1-ferritin100", &[FERRITIN_EDIT]);
    let out = dir.path().join("new.csv");
    let o = engine(&[
        "classify",
        path_str(&fixture("cases.csv")),
        "--ruleset",
        path_str(new.path()),
        "--compare-ruleset",
        path_str(old.path()),
        "-o",
        path_str(&out),
        "--quiet",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let report = stderr(&o);
    assert!(
        report.starts_with("\nRuleset impact:"),
        "--quiet keeps only the report: {report}"
    );
    for (row, count) in [
        ("unchanged", 152),
        ("changed", 35),
        ("only in OLD", 0),
        ("only in NEW", 0),
        ("anemia_other -> iron_deficiency_anemia", 28),
        ("anemia_indeterminate -> iron_deficiency_anemia", 5),
        ("thalassemia_trait_suspected -> iron_deficiency_anemia", 1),
        (
            "b12_folate_deficiency_anemia -> combined_iron_and_b12_folate_deficiency",
            1,
        ),
    ] {
        assert_eq!(
            table_count(&report, row),
            Some(count),
            "{row} in:\n{report}"
        );
    }
    assert!(report.contains(
        "    - IRON-004 ferritin 80 ug/L >= 45 (adults with anemia): adequate\n    - CLASS-001 anemia_other\n"
    ));
    // The snapshot keeps the summary tables and the first changed panel of each
    // classification transition; the counts above pin the other panels.
    let (excerpt, blocks) = one_panel_per_transition(&report);
    assert_eq!(blocks, 35, "one block per changed panel");
    settings().bind(|| insta::assert_snapshot!("qa_impact_ferritin_cutoff_100", excerpt));

    // The output is the NEW run's, and the impact is the diff of the two runs.
    let old_out = dir.path().join("old.csv");
    classify_to(
        &fixture("cases.csv"),
        &old_out,
        &["--ruleset", path_str(old.path())],
    );
    let diff = stdout(&engine(&["diff", path_str(&old_out), path_str(&out)]));
    let counts = |s: &str| {
        s[s.find("  unchanged").expect("counts")..]
            .split("\n\n")
            .next()
            .map(str::to_string)
    };
    assert_eq!(counts(&diff), counts(&report));
}

#[test]
fn compare_ruleset_with_output_on_stdout_or_in_parquet() {
    let old = ruleset_copy("2026.1", &[]);
    let new = ruleset_copy("2026.1-ferritin100", &[FERRITIN_EDIT]);
    let cases = fixture("cases.csv");
    let o = engine(&[
        "classify",
        path_str(&cases),
        "--ruleset",
        path_str(new.path()),
        "--compare-ruleset",
        path_str(old.path()),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stdout(&o).lines().count(),
        188,
        "CSV header and 187 panels on stdout"
    );
    assert!(stderr(&o).contains("  changed           35\n"));

    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("new.parquet");
    let o = engine(&[
        "classify",
        path_str(&cases),
        "--ruleset",
        path_str(new.path()),
        "--compare-ruleset",
        path_str(old.path()),
        "-o",
        path_str(&out),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("  changed           35\n"));

    // The same ruleset on both sides changes nothing, and says why.
    let o = engine(&[
        "classify",
        path_str(&cases),
        "--ruleset",
        path_str(old.path()),
        "--compare-ruleset",
        path_str(old.path()),
        "--quiet",
    ]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stderr(&o).contains("same checksum"), "{}", stderr(&o));
    assert!(stderr(&o).contains("No differences."));
}

#[test]
fn compare_ruleset_refuses_stdin_and_an_invalid_old_ruleset_before_reading_rows() {
    let old = ruleset_copy("2026.1", &[]);
    let o = engine(&["classify", "-", "--compare-ruleset", path_str(old.path())]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("give files, not `-`"), "{}", stderr(&o));

    let broken = ruleset_copy("2026.1", &[]);
    std::fs::write(broken.path().join("thresholds.csv"), "id,value\n").expect("write");
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out.csv");
    let o = engine(&[
        "classify",
        path_str(&fixture("cases.csv")),
        "--compare-ruleset",
        path_str(broken.path()),
        "-o",
        path_str(&out),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        !out.exists(),
        "nothing is written when the OLD ruleset is invalid"
    );
}
