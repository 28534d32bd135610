//! The rule registry seen from outside: every rule id that appears in evidence is a rule
//! `anemia-engine rules` declares, over the known-answer corpus and a generated export, and
//! every declared rule writes evidence somewhere in them.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use crate::common::{engine, fixture, stderr, stdout};

/// Rule ids declared by `anemia-engine rules --format json`.
fn declared() -> BTreeSet<String> {
    let out = engine(&["rules", "--format", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let listing: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    listing["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect()
}

/// Every token of the evidence column shaped like a rule id (`FAMILY-123`).
fn evidence_rule_ids(results: &Path) -> BTreeSet<String> {
    let mut reader = csv::Reader::from_path(results).unwrap();
    let column = reader
        .headers()
        .unwrap()
        .iter()
        .position(|h| h == "evidence")
        .expect("evidence column");
    let mut ids = BTreeSet::new();
    for record in reader.records() {
        let record = record.unwrap();
        for token in record[column].split(|c: char| c.is_whitespace() || c == '|') {
            let Some((family, number)) = token.split_once('-') else {
                continue;
            };
            if !family.is_empty()
                && family.chars().all(|c| c.is_ascii_uppercase())
                && number.len() == 3
                && number.chars().all(|c| c.is_ascii_digit())
            {
                ids.insert(token.to_string());
            }
        }
    }
    ids
}

fn classify(input: &Path, out: &Path) {
    let o = engine(&[
        "classify",
        input.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "-q",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn every_rule_id_in_evidence_is_a_declared_rule() {
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("export.csv");
    let gen = Command::new(env!("CARGO_BIN_EXE_gen-export"))
        .args(["--rows", "50000", "--seed", "11", "--messy", "-o"])
        .arg(&export)
        .output()
        .expect("run gen-export");
    assert!(
        gen.status.success(),
        "{}",
        String::from_utf8_lossy(&gen.stderr)
    );

    let declared = declared();
    let mut seen = BTreeSet::new();
    for (name, input) in [
        ("corpus", fixture("cases.csv")),
        ("si_units", fixture("qa_explain.csv")),
        ("vignettes_2026_2", fixture("cases_2026_2.csv")),
        ("vignettes_semicolon", fixture("cases_2026_2_semicolon.csv")),
        ("generated", export.clone()),
    ] {
        let out = dir.path().join(format!("{name}.csv"));
        classify(&input, &out);
        let ids = evidence_rule_ids(&out);
        let undeclared: Vec<&String> = ids.difference(&declared).collect();
        assert!(
            undeclared.is_empty(),
            "{name}: evidence names undeclared rules {undeclared:?}"
        );
        seen.extend(ids);
    }
    // A declared rule that never writes evidence here would be untested. Two are expected:
    // the long-layout assembly (the long-layout fixtures cover it) and MORPH-002, whose RDW
    // finding is quoted in FLAG-003's line rather than in a line of its own.
    let unseen: Vec<&String> = declared.difference(&seen).collect();
    assert_eq!(
        unseen,
        ["MORPH-002", "PANEL-001"],
        "declared rules with no evidence"
    );
}
