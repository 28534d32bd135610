//! Known-answer corpus: every panel of tests/fixtures/cases.csv against its expected
//! classification (cases.expected.csv, written independently from clinical-rules.md), and
//! unit invariance of the same panels in SI units and in `;`/decimal-comma/BOM/CRLF form.

use std::collections::HashMap;
use std::path::Path;

use anemia_engine::analyte::Analyte;
use anemia_engine::ruleset::Ruleset;

use crate::common::{classify_csv, fixture};

fn by_specimen(
    records: &[csv::StringRecord],
) -> (Vec<String>, HashMap<String, HashMap<String, String>>) {
    let header: Vec<String> = records[0].iter().map(str::to_string).collect();
    let mut rows = HashMap::new();
    for r in &records[1..] {
        let map: HashMap<String, String> = header
            .iter()
            .cloned()
            .zip(r.iter().map(str::to_string))
            .collect();
        rows.insert(map["specimen_id"].clone(), map);
    }
    (header, rows)
}

#[test]
fn every_corpus_panel_matches_its_expected_classification() {
    // The corpus pins ruleset 2026.1; what 2026.2 changes in it is pinned below.
    let r1 = crate::common::ruleset_2026_1_dir();
    let (out, records) = classify_csv(&fixture("cases.csv"), &["--ruleset", &r1]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (_, rows) = by_specimen(&records);
    let mut expected =
        csv::Reader::from_path(fixture("cases.expected.csv")).expect("expected file");
    let header = expected.headers().expect("header").clone();
    let mut checked = 0;
    let mut failures = Vec::new();
    for rec in expected.records() {
        let rec = rec.expect("record");
        let exp: HashMap<&str, &str> = header.iter().zip(rec.iter()).collect();
        let id = exp["specimen_id"];
        let Some(got) = rows.get(id) else {
            failures.push(format!("{id}: not in the output"));
            continue;
        };
        for col in [
            "anemia",
            "hb_threshold_g_dl",
            "severity",
            "inflammation",
            "iron_status",
            "classification",
            "flags",
        ] {
            if got[col] != exp[col] {
                failures.push(format!(
                    "{id} {col}: expected {:?}, got {:?} ({})",
                    exp[col], got[col], exp["why"]
                ));
            }
        }
        checked += 1;
    }
    // Every output panel has an expected row and every expected row was compared: the
    // small per-format snapshots (formats.rs) rely on this for the rest of the corpus.
    assert_eq!(
        rows.len(),
        records.len() - 1,
        "specimen ids are unique in the output"
    );
    assert_eq!(
        checked,
        rows.len(),
        "every output panel has an expected row"
    );
    assert_eq!(checked, crate::common::CORPUS_PANELS, "the whole corpus");
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn corpus_covers_every_label_and_flag_at_least_twice() {
    let mut labels: HashMap<String, usize> = HashMap::new();
    let mut flags: HashMap<String, usize> = HashMap::new();
    // The 2026.1 corpus and the 2026.2 vignettes together.
    for file in ["cases.expected.csv", "cases_2026_2.expected.csv"] {
        let mut expected = csv::Reader::from_path(fixture(file)).expect("expected file");
        for rec in expected.deserialize::<HashMap<String, String>>() {
            let rec = rec.expect("record");
            *labels.entry(rec["classification"].clone()).or_default() += 1;
            for f in rec["flags"].split(';').filter(|f| !f.is_empty()) {
                *flags.entry(f.to_string()).or_default() += 1;
            }
        }
    }
    for l in anemia_engine::vocab::Label::ALL {
        assert!(
            labels.get(l.code()).copied().unwrap_or(0) >= 2,
            "label {l} has fewer than two panels"
        );
    }
    for f in anemia_engine::vocab::Flag::ALL {
        assert!(
            flags.get(f.code()).copied().unwrap_or(0) >= 2,
            "flag {f} has fewer than two panels"
        );
    }
}

/// SI column for each canonical column that has one.
const SI: [(Analyte, &str); 11] = [
    (Analyte::Hb, "g_l"),
    (Analyte::Rbc, "10e6_ul"),
    (Analyte::Ferritin, "ng_ml"),
    (Analyte::Iron, "umol_l"),
    (Analyte::Tibc, "umol_l"),
    (Analyte::Transferrin, "g_l"),
    (Analyte::Crp, "mg_dl"),
    (Analyte::B12, "pmol_l"),
    (Analyte::Folate, "nmol_l"),
    (Analyte::Calcium, "mmol_l"),
    (Analyte::Creatinine, "umol_l"),
];

/// Splits `<=10 H` into (`<=`, 10.0, ` H`); None for text and blanks.
fn split_value(cell: &str) -> Option<(String, f64, String)> {
    let t = cell.trim();
    let prefix_len = t.find(|c: char| c.is_ascii_digit() || c == '.')?;
    let (prefix, rest) = t.split_at(prefix_len);
    if !prefix.chars().all(|c| "<>=≤≥ ".contains(c)) {
        return None;
    }
    let num_len = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    let value: f64 = rest[..num_len].parse().ok()?;
    Some((prefix.to_string(), value, rest[num_len..].to_string()))
}

/// Rewrites the corpus with SI unit columns (values divided by the ruleset factor).
fn write_si_copy(path: &Path) {
    let rs = Ruleset::embedded().expect("ruleset");
    let mut reader = csv::Reader::from_path(fixture("cases.csv")).expect("cases");
    let header = reader.headers().expect("header").clone();
    let mut factors: Vec<Option<f64>> = Vec::new();
    let mut new_header = Vec::new();
    for name in header.iter() {
        let conv = SI.iter().find(|(a, _)| a.canonical_column() == name);
        match conv {
            Some((a, suffix)) => {
                let u = rs.unit(*a, suffix).expect("unit in ruleset");
                factors.push(Some(u.factor));
                new_header.push(format!("{}_{}", a.code(), suffix));
            }
            None => {
                factors.push(None);
                new_header.push(name.to_string());
            }
        }
    }
    let mut w = csv::Writer::from_path(path).expect("write");
    w.write_record(&new_header).expect("header");
    for rec in reader.records() {
        let rec = rec.expect("record");
        let cells: Vec<String> = rec
            .iter()
            .zip(&factors)
            .map(|(cell, f)| match (f, split_value(cell)) {
                (Some(f), Some((pre, v, post))) => format!("{pre}{}{post}", v / f),
                _ => cell.to_string(),
            })
            .collect();
        w.write_record(&cells).expect("row");
    }
    w.flush().expect("flush");
}

/// Rewrites the corpus `;`-delimited with decimal commas, a UTF-8 BOM and CRLF line ends.
fn write_european_copy(path: &Path) {
    let mut reader = csv::Reader::from_path(fixture("cases.csv")).expect("cases");
    let header = reader.headers().expect("header").clone();
    let mut w = csv::WriterBuilder::new()
        .delimiter(b';')
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    w.write_record(&header).expect("header");
    for rec in reader.records() {
        let rec = rec.expect("record");
        let cells: Vec<String> = rec
            .iter()
            .map(|cell| match split_value(cell) {
                Some(_) => cell.replace('.', ","),
                None => cell.to_string(),
            })
            .collect();
        w.write_record(&cells).expect("row");
    }
    let mut bytes = vec![0xef, 0xbb, 0xbf];
    bytes.extend(w.into_inner().expect("bytes"));
    std::fs::write(path, bytes).expect("write");
}

fn assert_same_decisions(a: &[csv::StringRecord], b: &[csv::StringRecord], what: &str) {
    let (header, rows_a) = by_specimen(a);
    let (_, rows_b) = by_specimen(b);
    assert_eq!(rows_a.len(), rows_b.len(), "{what}: row count");
    assert!(rows_a.len() >= 80);
    for (id, ra) in &rows_a {
        let rb = &rows_b[id];
        for col in header
            .iter()
            .filter(|c| !matches!(c.as_str(), "evidence" | "source_file"))
        {
            assert_eq!(ra[col], rb[col], "{what}: specimen {id} column {col}");
        }
    }
}

#[test]
fn si_units_classify_identically() {
    let dir = tempfile::tempdir().expect("tempdir");
    let si = dir.path().join("cases_si.csv");
    write_si_copy(&si);
    let text = std::fs::read_to_string(&si).expect("read");
    assert!(
        text.starts_with("patient_id") && text.contains("hb_g_l") && text.contains("iron_umol_l")
    );
    let (_, base) = classify_csv(&fixture("cases.csv"), &[]);
    let (out, converted) = classify_csv(&si, &[]);
    assert!(out.status.success());
    assert_same_decisions(&base, &converted, "SI units");
}

#[test]
fn semicolon_decimal_comma_bom_crlf_classify_identically() {
    let dir = tempfile::tempdir().expect("tempdir");
    let eu = dir.path().join("cases_eu.csv");
    write_european_copy(&eu);
    let bytes = std::fs::read(&eu).expect("read");
    assert!(bytes.starts_with(&[0xef, 0xbb, 0xbf]) && bytes.windows(2).any(|w| w == b"\r\n"));
    let (_, base) = classify_csv(&fixture("cases.csv"), &[]);
    let (out, converted) = classify_csv(&eu, &[]);
    assert!(out.status.success());
    assert_same_decisions(&base, &converted, "decimal comma");
}

#[test]
fn batch_size_does_not_change_the_output() {
    let (_, one) = classify_csv(&fixture("cases.csv"), &["--batch-rows", "1"]);
    let (_, many) = classify_csv(&fixture("cases.csv"), &["--batch-rows", "100000"]);
    assert_eq!(one, many);
    assert!(one.len() > 80);
}

#[test]
fn bundled_example_covers_every_label_and_flag_and_balances() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("results.csv");
    let summary = dir.path().join("summary.json");
    let example = crate::common::root().join("examples/lab_export.csv");
    let o = crate::common::engine(&[
        "classify",
        example.to_str().expect("utf8"),
        "-o",
        out.to_str().expect("utf8"),
        "--summary",
        summary.to_str().expect("utf8"),
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&summary).expect("summary")).expect("json");
    assert!(s["rows_read"].as_u64().expect("rows") >= 200);
    assert_eq!(
        s["rows_read"],
        s["classified"].as_u64().expect("c") + s["rejected"].as_u64().expect("r")
    );
    assert_eq!(s["ledger_balanced"], true);
    for l in anemia_engine::vocab::Label::ALL {
        assert!(
            s["classification_counts"][l.code()].as_u64().unwrap_or(0) >= 1,
            "example lacks label {l}"
        );
    }
    // A comma-delimited export settles the decimal mark, so it cannot hold an ambiguous number.
    for f in anemia_engine::vocab::Flag::ALL {
        if f == anemia_engine::vocab::Flag::AmbiguousNumber {
            continue;
        }
        assert!(
            s["flag_counts"][f.code()].as_u64().unwrap_or(0) >= 1,
            "example lacks flag {f}"
        );
    }
    for reason in [
        "implausible_value",
        "malformed_line",
        "missing_patient_id",
        "no_analyte_values",
    ] {
        assert_eq!(s["rejected_by_reason"][reason], 1, "{reason}");
    }
}

/// Output rows of a classify run by specimen id.
fn run_by_specimen(input: &str, extra: &[&str]) -> HashMap<String, HashMap<String, String>> {
    let (out, records) = classify_csv(&fixture(input), extra);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    by_specimen(&records).1
}

fn list(cell: &str) -> Vec<&str> {
    cell.split(';').filter(|x| !x.is_empty()).collect()
}

/// The 2026.2 vignettes (written from clinical-rules.md 2026.2, each with the clause it
/// tests in `why`) under the embedded default ruleset.
#[test]
fn every_2026_2_vignette_matches_its_expected_decisions_and_guidance() {
    let mut rows = run_by_specimen("cases_2026_2.csv", &[]);
    // The decimal-mark vignettes need a `;`-delimited file.
    rows.extend(run_by_specimen("cases_2026_2_semicolon.csv", &[]));
    let mut expected =
        csv::Reader::from_path(fixture("cases_2026_2.expected.csv")).expect("expected file");
    let mut failures = Vec::new();
    let mut checked = 0;
    for rec in expected.deserialize::<HashMap<String, String>>() {
        let exp = rec.expect("record");
        let id = &exp["specimen_id"];
        let Some(got) = rows.get(id) else {
            failures.push(format!("{id}: not in the output"));
            continue;
        };
        checked += 1;
        for col in [
            "anemia",
            "hb_threshold_g_dl",
            "severity",
            "morphology",
            "inflammation",
            "iron_status",
            "classification",
            "flags",
        ] {
            if got[col] != exp[col] {
                failures.push(format!(
                    "{id} {col}: expected {:?}, got {:?}",
                    exp[col], got[col]
                ));
            }
        }
        let guidance = list(&got["guidance"]);
        for g in list(&exp["guidance_must"]) {
            if !guidance.contains(&g) {
                failures.push(format!("{id}: guidance {g} missing"));
            }
        }
        for g in list(&exp["guidance_must_not"]) {
            if guidance.contains(&g) {
                failures.push(format!("{id}: guidance {g} must not attach"));
            }
        }
        let tests = list(&got["recommended_tests"]);
        for t in list(&exp["tests_must"]) {
            if !tests.contains(&t) {
                failures.push(format!("{id}: test {t} not recommended"));
            }
        }
        if !failures.is_empty() && failures.last().is_some_and(|f| f.starts_with(id.as_str())) {
            failures.push(format!("   why: {}", exp["why"]));
        }
    }
    assert!(checked >= 40, "only {checked} vignettes");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Every 2026.1 corpus panel under both rulesets: exactly the differences clinical rules
/// §10 predicts (tests/fixtures/corpus_2026_1_to_2026_2.csv, derived by hand), no others.
#[test]
fn ruleset_2026_2_changes_the_2026_1_corpus_exactly_as_section_10_predicts() {
    let r1 = crate::common::ruleset_2026_1_dir();
    let old = run_by_specimen("cases.csv", &["--ruleset", &r1]);
    let new = run_by_specimen("cases.csv", &[]);
    let columns = [
        "anemia",
        "hb_threshold_g_dl",
        "severity",
        "inflammation",
        "iron_status",
        "classification",
        "flags",
    ];
    let mut actual = std::collections::BTreeMap::new();
    for (id, o) in &old {
        for col in columns {
            if o[col] != new[id][col] {
                actual.insert(
                    (id.clone(), col.to_string()),
                    (o[col].clone(), new[id][col].clone()),
                );
            }
        }
    }
    let mut predicted = std::collections::BTreeMap::new();
    let mut file =
        csv::Reader::from_path(fixture("corpus_2026_1_to_2026_2.csv")).expect("prediction file");
    for rec in file.deserialize::<HashMap<String, String>>() {
        let r = rec.expect("record");
        predicted.insert(
            (r["specimen_id"].clone(), r["column"].clone()),
            (r["old"].clone(), r["new"].clone()),
        );
    }
    assert!(!predicted.is_empty());
    assert_eq!(
        actual, predicted,
        "2026.1 -> 2026.2 differences on the corpus"
    );
}

/// Entries shown to one panel never contradict each other (clinical rules 2026.2 §9): over the
/// 2026.1 corpus, the 2026.2 vignettes and the bundled example, under the default ruleset.
#[test]
fn guidance_shown_to_one_panel_never_contradicts_itself() {
    let exclusive: [&[&str]; 4] = [
        &["back_pain.nsaid", "back_pain.nsaid_caution"],
        &[
            "anemia.inflammation.treat_underlying",
            "anemia.inflammation.find_cause",
        ],
        &[
            "anemia.iron.source",
            "anemia.iron.source_child",
            "anemia.iron.pregnancy",
        ],
        &["back_pain.nsaid", "back_pain.anticoagulant_bleed"],
    ];
    let example = crate::common::root().join("examples/lab_export.csv");
    let inputs = [fixture("cases.csv"), fixture("cases_2026_2.csv"), example];
    let mut panels = 0;
    for input in inputs {
        let (out, records) = classify_csv(&input, &[]);
        assert!(out.status.success());
        let (_, rows) = by_specimen(&records);
        for (id, row) in rows {
            panels += 1;
            let guidance = list(&row["guidance"]);
            let flags = list(&row["flags"]);
            for group in exclusive {
                let shown: Vec<&&str> = group.iter().filter(|g| guidance.contains(g)).collect();
                assert!(shown.len() <= 1, "{id}: {shown:?} together");
            }
            assert!(
                !(guidance.contains(&"back_pain.nsaid") && flags.contains(&"NSAID_CAUTION")),
                "{id}: back_pain.nsaid with NSAID_CAUTION"
            );
        }
    }
    assert!(panels > 500, "{panels} panels");
}
