//! The long layout: panels assembled from one-row-per-result exports classify exactly as
//! the wide form, and a realistic LIS sample (local codes, mapping, unit spellings,
//! corrections, duplicates, unknown units and codes) keeps its ledger.

use std::collections::HashMap;
use std::path::Path;

use anemia_engine::analyte::Analyte;
use anemia_engine::ruleset::Ruleset;

use crate::common::{engine, fixture, settings, stderr};

/// The first LOINC code of the ruleset's table for an analyte.
fn loinc_for(rs: &Ruleset, a: Analyte) -> Option<String> {
    rs.loinc
        .iter()
        .find(|r| r.row.analyte == a)
        .map(|r| r.row.code.clone())
}

/// Writes cases.csv in long form: one row per result; for every second patient with a
/// numeric Hb the iron studies come from another specimen drawn 2 days earlier.
fn write_long_corpus(path: &Path, mapping: &Path) {
    let rs = Ruleset::embedded().expect("ruleset");
    std::fs::write(
        mapping,
        "[test_codes]\n\"LOCAL-AGP\" = { analyte = \"agp\" }\n",
    )
    .expect("mapping");
    let mut reader = csv::Reader::from_path(fixture("cases.csv")).expect("cases");
    let header = reader.headers().expect("header").clone();
    let context: Vec<&str> = [
        "sex",
        "age_years",
        "pregnant",
        "altitude_m",
        "cigarettes_per_day",
        "smoker",
        "back_pain",
        "conditions",
        "medications",
    ]
    .to_vec();
    let mut w = csv::Writer::from_path(path).expect("write");
    let mut out_header = vec![
        "patient_id",
        "specimen_id",
        "collected_at",
        "test_code",
        "value",
        "unit",
    ];
    out_header.extend(&context);
    w.write_record(&out_header).expect("header");
    let iron_studies = [
        Analyte::Ferritin,
        Analyte::Iron,
        Analyte::Tibc,
        Analyte::Transferrin,
        Analyte::Tsat,
        Analyte::Stfr,
    ];
    for (n, rec) in reader.records().enumerate() {
        let rec = rec.expect("record");
        let get = |name: &str| {
            header
                .iter()
                .position(|h| h == name)
                .and_then(|i| rec.get(i))
                .unwrap_or("")
                .to_string()
        };
        let patient = get("patient_id");
        let specimen = get("specimen_id");
        let hb_numeric = get("hb_g_dl").trim().parse::<f64>().is_ok();
        let split = hb_numeric && n % 2 == 0;
        for a in Analyte::ALL {
            let value = get(&a.canonical_column());
            // A real LIS exports no row for a result it does not have.
            if anemia_engine::cell::is_missing_token(&value) {
                continue;
            }
            let code = if a == Analyte::Agp {
                "LOCAL-AGP".to_string()
            } else {
                loinc_for(&rs, a).expect("loinc code")
            };
            let (spec, when) = if split && iron_studies.contains(&a) {
                (format!("{specimen}-IRON"), "2026-11-08T09:00:00")
            } else {
                (specimen.clone(), "2026-11-10T09:00:00")
            };
            let mut row = vec![
                patient.clone(),
                spec,
                when.to_string(),
                code,
                value,
                rs.canonical_unit(a).to_string(),
            ];
            row.extend(context.iter().map(|c| get(c)));
            w.write_record(&row).expect("row");
        }
    }
    w.flush().expect("flush");
}

fn records(path: &Path) -> (Vec<String>, HashMap<String, HashMap<String, String>>) {
    let mut r = csv::Reader::from_path(path).expect("output");
    let header: Vec<String> = r
        .headers()
        .expect("header")
        .iter()
        .map(str::to_string)
        .collect();
    let mut rows = HashMap::new();
    for rec in r.records() {
        let rec = rec.expect("record");
        let map: HashMap<String, String> = header
            .iter()
            .cloned()
            .zip(rec.iter().map(str::to_string))
            .collect();
        assert!(
            rows.insert(map["specimen_id"].clone(), map).is_none(),
            "duplicate specimen in output"
        );
    }
    (header, rows)
}

#[test]
fn corpus_in_long_form_with_iron_studies_two_days_earlier_classifies_as_wide() {
    let dir = tempfile::tempdir().expect("tempdir");
    let long = dir.path().join("cases_long.csv");
    let mapping = dir.path().join("mapping.toml");
    write_long_corpus(&long, &mapping);
    let text = std::fs::read_to_string(&long).expect("read");
    assert!(
        text.contains("-IRON,2026-11-08"),
        "some iron studies come from a separate specimen"
    );

    let wide_out = dir.path().join("wide.csv");
    let long_out = dir.path().join("long.csv");
    let summary = dir.path().join("summary.json");
    let o = engine(&[
        "classify",
        fixture("cases.csv").to_str().expect("utf8"),
        "-o",
        wide_out.to_str().expect("utf8"),
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = engine(&[
        "classify",
        long.to_str().expect("utf8"),
        "--mapping",
        mapping.to_str().expect("utf8"),
        "-o",
        long_out.to_str().expect("utf8"),
        "--summary",
        summary.to_str().expect("utf8"),
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));

    let (header, wide) = records(&wide_out);
    let (_, long_rows) = records(&long_out);
    assert_eq!(wide.len(), long_rows.len(), "one panel per wide row");
    let mut joined = 0;
    for (id, w) in &wide {
        let l = long_rows
            .get(id)
            .unwrap_or_else(|| panic!("specimen {id} missing from the long output"));
        for col in header.iter().filter(|c| {
            !matches!(
                c.as_str(),
                "evidence" | "collected_at" | "source_file" | "source_line"
            )
        }) {
            assert_eq!(w[col], l[col], "specimen {id} column {col}");
        }
        if l["evidence"].contains("PANEL-001 ferritin from specimen") {
            assert!(
                l["evidence"].contains("collected 2 day(s) before"),
                "{}",
                l["evidence"]
            );
            joined += 1;
        }
    }
    assert!(
        joined > 20,
        "only {joined} panels joined iron studies from another specimen"
    );

    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&summary).expect("summary")).expect("json");
    assert_eq!(s["ledger_balanced"], true);
    assert_eq!(s["rejected"], 0);
    assert_eq!(s["not_attached"], 0);
    assert_eq!(s["rows_read"], s["rows_used"]);
}

#[test]
fn lis_sample_with_local_codes_keeps_every_result_accounted_for() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("lis.csv");
    let summary = dir.path().join("lis.summary.json");
    let o = engine(&[
        "classify",
        fixture("long_lis_export.csv").to_str().expect("utf8"),
        "--mapping",
        fixture("long_lis_mapping.toml").to_str().expect("utf8"),
        "-o",
        out.to_str().expect("utf8"),
        "--summary",
        summary.to_str().expect("utf8"),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&summary).expect("summary")).expect("json");
    // 28 results: 23 used in 7 panels, 4 rejected (superseded x2, unknown unit, unknown
    // code), 1 not attached (a CRP between two haemoglobin specimens that have their own).
    assert_eq!(s["rows_read"], 28);
    assert_eq!(s["rows_used"], 23);
    assert_eq!(s["classified"], 7);
    assert_eq!(s["not_attached"], 1);
    assert_eq!(s["not_attached_by_analyte"]["crp"], 1);
    assert_eq!(s["ledger_balanced"], true);
    assert_eq!(
        s["rows_read"].as_u64(),
        Some(
            s["rows_used"].as_u64().unwrap()
                + s["rejected"].as_u64().unwrap()
                + s["not_attached"].as_u64().unwrap()
        )
    );
    assert_eq!(s["rejected_by_reason"]["superseded"], 2);
    assert_eq!(s["rejected_by_reason"]["unknown_unit"], 1);
    assert_eq!(s["rejected_by_reason"]["unknown_test_code"], 1);

    let rejects = std::fs::read_to_string(dir.path().join("lis.rejects.csv")).expect("rejects");
    assert!(
        rejects.contains("superseded by line 8 (a corrected result)"),
        "{rejects}"
    );
    assert!(
        rejects.contains("\"\"mcg/dL\"\" is not a known unit for iron"),
        "{rejects}"
    );
    assert!(rejects.contains("test code \"\"GLU\"\""), "{rejects}");

    let output = std::fs::read_to_string(&out).expect("output");
    settings().bind(|| {
        insta::assert_snapshot!("long_lis_output", output);
        insta::assert_snapshot!("long_lis_rejects", rejects);
        insta::assert_snapshot!("long_lis_summary", stderr(&o));
    });
}

#[test]
fn long_layout_is_detected_and_can_be_forced() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("o.csv");
    let input = fixture("long_lis_export.csv");
    // Without the mapping the local codes are unknown test codes, reported, not an error.
    let o = engine(&[
        "classify",
        input.to_str().expect("utf8"),
        "-o",
        out.to_str().expect("utf8"),
        "--quiet",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // Forcing the wide layout on a long export fails before any row: no analyte columns.
    let o = engine(&[
        "classify",
        input.to_str().expect("utf8"),
        "--layout",
        "wide",
        "-o",
        out.to_str().expect("utf8"),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("no recognisable analyte column"),
        "{}",
        stderr(&o)
    );
    // A wide export forced into the long layout names the missing columns.
    let o = engine(&[
        "classify",
        fixture("cases.csv").to_str().expect("utf8"),
        "--layout",
        "long",
        "-o",
        out.to_str().expect("utf8"),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("long layout without column(s) specimen_id")
            || stderr(&o).contains("test_code"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn mapped_wide_headers_are_read_with_their_units() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("local.csv");
    std::fs::write(
        &input,
        "patient_id,HGB (g/L),Ferritin ng/ml,sex,age_years\nP1,112,9,F,30\n",
    )
    .expect("write");
    let out = dir.path().join("o.csv");
    let o = engine(&[
        "classify",
        input.to_str().expect("utf8"),
        "--mapping",
        fixture("long_lis_mapping.toml").to_str().expect("utf8"),
        "-o",
        out.to_str().expect("utf8"),
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let (_, rows) = records(&out);
    assert_eq!(rows["1"]["hb_g_dl"], "11.20");
    assert_eq!(rows["1"]["classification"], "iron_deficiency_anemia");
}

#[test]
fn a_bad_mapping_stops_the_run_with_its_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mapping = dir.path().join("m.toml");
    std::fs::write(
        &mapping,
        "[test_codes]\n\"HGB\" = { analyte = \"hb\", unit = \"g/furlong\" }\n",
    )
    .expect("write");
    let out = dir.path().join("o.csv");
    let o = engine(&[
        "classify",
        fixture("long_lis_export.csv").to_str().expect("utf8"),
        "--mapping",
        mapping.to_str().expect("utf8"),
        "-o",
        out.to_str().expect("utf8"),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("line 2")
            && stderr(&o).contains("\"g/furlong\" is not a known unit for hb"),
        "{}",
        stderr(&o)
    );
    assert!(!out.exists());
}

#[test]
fn every_loinc_code_maps_to_one_known_analyte_and_every_unit_spelling_is_unambiguous() {
    let rs = Ruleset::embedded().expect("ruleset");
    let mut seen = HashMap::new();
    for r in &rs.loinc {
        // The analyte was parsed at load: an unknown code cannot be in a loaded ruleset.
        assert!(
            seen.insert(r.row.code.clone(), r.row.analyte).is_none(),
            "{} twice",
            r.row.code
        );
    }
    for (code, analyte) in [
        ("718-7", Analyte::Hb),
        ("59260-0", Analyte::Hb),
        ("2276-4", Analyte::Ferritin),
        ("30522-7", Analyte::Crp),
        ("14685-2", Analyte::B12),
        ("48642-3", Analyte::Egfr),
        ("71694-4", Analyte::RetHe),
    ] {
        assert_eq!(rs.loinc(code), Some(analyte), "{code}");
    }
    // Case matters only across analytes: g/l is grams per litre, T/l is 10^12 per litre.
    assert_eq!(
        rs.unit_from_text(Analyte::Hb, "g/l").map(|u| u.factor),
        Some(0.1)
    );
    assert_eq!(
        rs.unit_from_text(Analyte::Rbc, "T/l").map(|u| u.factor),
        Some(1.0)
    );
    assert_eq!(
        rs.unit_from_text(Analyte::Iron, "µmol/L")
            .map(|u| u.suffix.as_str()),
        Some("umol_l")
    );
    assert!(
        rs.unit_from_text(Analyte::Hb, "mg/dL").is_none(),
        "never guessed"
    );
    assert!(
        rs.unit_from_text(Analyte::Iron, "mcg/dL").is_none(),
        "not in the table"
    );
}

#[test]
fn several_inputs_gzip_a_directory_and_stdin_are_each_counted() {
    use std::io::Write;
    let dir = tempfile::tempdir().expect("tempdir");
    let nightly = dir.path().join("nightly");
    std::fs::create_dir(&nightly).expect("mkdir");
    let wide = std::fs::read(fixture("cases.csv")).expect("cases");
    std::fs::write(nightly.join("a.csv"), &wide).expect("write");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&std::fs::read(fixture("long_lis_export.csv")).expect("lis"))
        .expect("gz");
    std::fs::write(nightly.join("b.csv.gz"), gz.finish().expect("gz")).expect("write");
    std::fs::write(nightly.join("notes.md"), "not an export").expect("write");

    let out = dir.path().join("o.csv");
    let summary = dir.path().join("s.json");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_anemia-engine"))
        .args([
            "classify",
            nightly.to_str().expect("utf8"),
            "-",
            "--mapping",
            fixture("long_lis_mapping.toml").to_str().expect("utf8"),
            "-o",
            out.to_str().expect("utf8"),
            "--summary",
            summary.to_str().expect("utf8"),
            "--quiet",
        ])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"patient_id,hb_g_dl\nS1,9.5\nS2,14.2\n")
        .expect("write stdin");
    let status = child.wait().expect("wait");
    assert!(status.success());
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&summary).expect("summary")).expect("json");
    let inputs = s["inputs"].as_array().expect("inputs");
    let names: Vec<&str> = inputs
        .iter()
        .map(|i| i["name"].as_str().expect("name"))
        .collect();
    assert_eq!(names.len(), 3, "{names:?}");
    assert!(
        names[0].ends_with("a.csv") && names[1].ends_with("b.csv.gz") && names[2] == "<stdin>",
        "{names:?}"
    );
    assert_eq!(inputs[0]["layout"], "wide");
    assert_eq!(inputs[1]["layout"], "long");
    assert_eq!(inputs[1]["rows_read"], 28);
    assert_eq!(inputs[2]["rows_read"], 2);
    assert_eq!(s["ledger_balanced"], true);
    let rows = std::fs::read_to_string(&out).expect("out").lines().count() - 1;
    assert_eq!(rows as u64, s["classified"].as_u64().expect("classified"));
}
