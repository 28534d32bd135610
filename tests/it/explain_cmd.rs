//! The `explain` subcommand on one corpus panel, as text and JSON.

use serde_json::Value;

use crate::common::{
    code, embedded_checksum, engine, fixture, s, snapshot_settings, stderr, stdout,
};

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
