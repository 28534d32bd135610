//! The row ledger on a messy export (tests/fixtures/cli_messy.csv): every data line ends up
//! once, in the output or in the rejects file, with its physical line number.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::PathBuf;

use serde_json::Value;

use crate::common::{
    code, column_values, corpus_specimen_ids, csv_records, engine, fixture, ndjson_rows, read, s,
    stderr, stdout, CORPUS_PANELS,
};

/// Where each data line of tests/fixtures/cli_messy.csv must end up: a specimen in the
/// output, or a reason code in the rejects file. Line 3 is blank (not a data row).
const MESSY_LINES: [(u64, &str, &str); 10] = [
    (2, "out", "M01"),
    (4, "reject", "malformed_line"),
    (5, "reject", "missing_patient_id"),
    (6, "reject", "no_analyte_values"),
    (7, "reject", "implausible_value"),
    (8, "out", "M06"),
    (9, "out", "M07"),
    (10, "out", "M08"),
    (11, "reject", "malformed_line"),
    // Blank specimen_id: the 1-based data-row number (blank lines are not data rows).
    (12, "out", "10"),
];

fn messy() -> PathBuf {
    fixture("cli_messy.csv")
}

#[test]
fn messy_fixture_is_as_designed() {
    let bytes = fs::read(messy()).expect("read");
    assert!(bytes.starts_with(b"\xef\xbb\xbf"), "BOM");
    let text = String::from_utf8(bytes[3..].to_vec()).expect("utf-8");
    assert!(text.ends_with("\r\n"));
    let lines: Vec<&str> = text.split("\r\n").collect();
    assert!(!lines.iter().any(|l| l.contains('\n')), "CRLF only");
    assert!(lines[0].starts_with("patient_id;"), "; delimiter");
    let data_lines: Vec<u64> = lines
        .iter()
        .enumerate()
        .skip(1)
        .filter(|(_, l)| !l.is_empty())
        .map(|(i, _)| i as u64 + 1)
        .collect();
    let table: Vec<u64> = MESSY_LINES.iter().map(|(l, _, _)| *l).collect();
    assert_eq!(data_lines, table, "every data line is in MESSY_LINES");
    assert!(lines.contains(&""), "a blank line");
}

/// Classifies the messy file and the corpus in one run.
fn run_messy(format_ext: &str) -> (tempfile::TempDir, PathBuf, PathBuf, Value) {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join(format!("out.{format_ext}"));
    let rejects = dir.path().join("rejects.csv");
    let summary = dir.path().join("summary.json");
    let o = engine(&[
        "classify",
        s(&messy()),
        s(&fixture("cases.csv")),
        "-o",
        s(&out),
        "--rejects",
        s(&rejects),
        "--summary",
        s(&summary),
        "--quiet",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let json: Value = serde_json::from_str(&read(&summary)).expect("summary json");
    (dir, out, rejects, json)
}

fn u(v: &Value) -> u64 {
    v.as_u64().expect("count")
}

#[test]
fn messy_file_ledger_balances() {
    let (_dir, out, rejects, json) = run_messy("csv");
    assert_eq!(
        u(&json["rows_read"]),
        u(&json["classified"]) + u(&json["rejected"])
    );
    assert_eq!(json["ledger_balanced"], Value::Bool(true));
    let inputs = json["inputs"].as_array().expect("inputs");
    assert_eq!(inputs.len(), 2);
    for i in inputs {
        assert_eq!(
            u(&i["rows_read"]),
            u(&i["classified"]) + u(&i["rejected"]),
            "{}",
            i["name"]
        );
    }
    let (m, c) = (&inputs[0], &inputs[1]);
    assert!(m["name"].as_str().expect("name").ends_with("cli_messy.csv"));
    assert_eq!(m["delimiter"], ";");
    assert_eq!(
        (u(&m["rows_read"]), u(&m["classified"]), u(&m["rejected"])),
        (10, 5, 5)
    );
    assert_eq!(
        (u(&c["rows_read"]), u(&c["classified"]), u(&c["rejected"])),
        (CORPUS_PANELS as u64, CORPUS_PANELS as u64, 0)
    );
    assert_eq!(u(&json["rows_read"]), 10 + CORPUS_PANELS as u64);
    let ignored: Vec<&str> = m["ignored_columns"]
        .as_array()
        .expect("ignored")
        .iter()
        .map(|c| c["column"].as_str().expect("column"))
        .collect();
    assert_eq!(ignored, ["lab_comment"]);

    let by_reason: BTreeMap<String, u64> = json["rejected_by_reason"]
        .as_object()
        .expect("by reason")
        .iter()
        .map(|(k, v)| (k.clone(), u(v)))
        .collect();
    let expected: BTreeMap<String, u64> = [
        ("implausible_value", 1),
        ("malformed_line", 2),
        ("missing_patient_id", 1),
        ("no_analyte_values", 1),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    assert_eq!(by_reason, expected);

    // Output and rejects files hold exactly what the summary counts.
    let records = csv_records(&out);
    assert_eq!(records.len() as u64 - 1, u(&json["classified"]));
    let rej = csv_records(&rejects);
    assert_eq!(rej.len() as u64 - 1, u(&json["rejected"]));
    let ids = column_values(&records, "specimen_id");
    let messy_ids: Vec<&str> = ids[..5].iter().map(String::as_str).collect();
    let expected_ids: Vec<&str> = MESSY_LINES
        .iter()
        .filter(|(_, dest, _)| *dest == "out")
        .map(|(_, _, id)| *id)
        .collect();
    assert_eq!(
        messy_ids, expected_ids,
        "messy panels first, in input order"
    );
    assert_eq!(ids[5..].to_vec(), corpus_specimen_ids());
    let reasons: Vec<&str> = rej[1..].iter().map(|r| &r[2]).collect();
    let expected_reasons: Vec<&str> = MESSY_LINES
        .iter()
        .filter(|(_, dest, _)| *dest == "reject")
        .map(|(_, _, r)| *r)
        .collect();
    assert_eq!(reasons, expected_reasons, "rejects in input order");
}

#[test]
fn messy_file_every_data_line_is_accounted_for_once() {
    let (_dir, out, rejects, _json) = run_messy("csv");
    // Rejected lines: the `line` column must name the physical line of the row.
    let rej = csv_records(&rejects);
    let got: BTreeMap<u64, String> = rej[1..]
        .iter()
        .filter(|r| r[0].ends_with("cli_messy.csv"))
        .map(|r| (r[1].parse::<u64>().expect("line"), r[2].to_string()))
        .collect();
    let expected: BTreeMap<u64, String> = MESSY_LINES
        .iter()
        .filter(|(_, dest, _)| *dest == "reject")
        .map(|(l, _, r)| (*l, r.to_string()))
        .collect();
    assert_eq!(got, expected, "reject lines are physical line numbers");
    // Classified lines: each expected specimen appears exactly once in the output.
    let ids = column_values(&csv_records(&out), "specimen_id");
    for (line, dest, id) in MESSY_LINES {
        let n = ids.iter().filter(|r| r.as_str() == id).count();
        let want = usize::from(dest == "out");
        assert_eq!(n, want, "line {line} ({id})");
    }
    let rejected: BTreeSet<u64> = got.keys().copied().collect();
    let classified: BTreeSet<u64> = MESSY_LINES
        .iter()
        .filter(|(_, dest, _)| *dest == "out")
        .map(|(l, _, _)| *l)
        .collect();
    assert!(rejected.is_disjoint(&classified));
    assert_eq!(rejected.len() + classified.len(), MESSY_LINES.len());
    // `explain` locates a classified panel by the same physical line.
    let o = engine(&[
        "explain",
        s(&messy()),
        "--specimen",
        "M07",
        "--format",
        "json",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let trace: Value = serde_json::from_str(&stdout(&o)).expect("trace");
    assert_eq!(trace["line"], 9, "M07 is on physical line 9");
}

#[test]
fn messy_file_values_and_formula_cells() {
    let (_dir, out, _rejects, _json) = run_messy("csv");
    let records = csv_records(&out);
    let header: Vec<&str> = records[0].iter().collect();
    let col = |n: &str| header.iter().position(|h| *h == n).expect("column");
    let row = |id: &str| {
        records[1..6]
            .iter()
            .find(|r| &r[col("specimen_id")] == id)
            .unwrap_or_else(|| panic!("no {id}"))
    };
    // Decimal commas with the `;` delimiter.
    assert_eq!(&row("M01")[col("hb_g_dl")], "11.20");
    assert_eq!(&row("M01")[col("ferritin_ug_l")], "8.50");
    assert_eq!(&row("M01")[col("classification")], "iron_deficiency_anemia");
    // A text result: missing for the rules, flagged, Hb recommended again.
    assert_eq!(&row("M06")[col("hb_g_dl")], "");
    assert_eq!(&row("M06")[col("classification")], "insufficient_data");
    assert_eq!(&row("M06")[col("flags")], "VALUE_NOT_NUMERIC");
    assert_eq!(&row("M06")[col("recommended_tests")], "hb");
    // Censored values: the bound in the analyte column, the comparator beside it.
    assert_eq!(&row("M07")[col("ferritin_ug_l")], "10.00");
    assert_eq!(&row("M07")[col("ferritin_ug_l_comparator")], "<");
    assert_eq!(&row("M07")[col("crp_mg_l")], "5.00");
    assert_eq!(&row("M07")[col("crp_mg_l_comparator")], "<=");
    assert_eq!(&row("M01")[col("ferritin_ug_l_comparator")], "");
    assert!(row("M07")[col("flags")].contains("CENSORED_VALUE"));
    assert_eq!(&row("M07")[col("inflammation")], "absent");
    assert_eq!(&row("M07")[col("iron_status")], "deficient");
    // The patient id is trimmed; the blank specimen id is the data-row number.
    assert_eq!(&row("10")[col("patient_id")], "P10");
    // The formula-like patient id is neutralised in CSV ...
    assert_eq!(&row("M08")[col("patient_id")], "'=HYPERLINK(\"x\")");
    for r in &records[1..] {
        for cell in r.iter() {
            assert!(
                !cell.starts_with(['=', '+', '@']),
                "no executable cell in CSV: {cell:?}"
            );
        }
    }

    // ... and written as read in NDJSON.
    let (_dir, out, _rejects, _json) = run_messy("ndjson");
    let rows = ndjson_rows(&out);
    let m08 = rows
        .iter()
        .find(|r| r["specimen_id"] == "M08")
        .expect("M08");
    assert_eq!(m08["patient_id"], "=HYPERLINK(\"x\")");
}
