//! Bad input: each kind of unusable export or ruleset with its message, exit code and
//! what is (not) written.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::{
    code, column_values, csv_records, embedded_checksum, engine, files_in, fixture, read, root, s,
    scrub, snapshot_settings, stderr, stdout, write_input, SPEC_COLUMNS,
};

#[test]
fn unknown_columns_are_reported_and_ignored() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = write_input(
        dir.path(),
        "in.csv",
        b"patient_id,specimen_id,sex,age_years,hb_g_dl,ferritn_ug_l,crp_mg_ml,lab_note\nP1,S1,F,30,11.5,12,3,ok\n",
    );
    let out = dir.path().join("out.csv");
    let summary = dir.path().join("summary.json");
    let o = engine(&[
        "classify",
        s(&input),
        "-o",
        s(&out),
        "--summary",
        s(&summary),
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains(&embedded_checksum()), "{err}");
    for col in ["ferritn_ug_l", "crp_mg_ml", "lab_note"] {
        assert!(err.contains(&format!("ignored column \"{col}\"")), "{err}");
    }
    let json: Value = serde_json::from_str(&read(&summary)).expect("summary json");
    let ignored: Vec<&str> = json["inputs"][0]["ignored_columns"]
        .as_array()
        .expect("ignored_columns")
        .iter()
        .map(|c| c["column"].as_str().expect("column"))
        .collect();
    assert_eq!(ignored, ["ferritn_ug_l", "crp_mg_ml", "lab_note"]);
    // The panel is classified without them: no ferritin, no CRP.
    let records = csv_records(&out);
    assert_eq!(records.len(), 2);
    let header: Vec<&str> = records[0].iter().collect();
    assert_eq!(header, SPEC_COLUMNS);
    let col = |n: &str| header.iter().position(|h| *h == n).expect("column");
    assert_eq!(&records[1][col("ferritin_ug_l")], "");
    assert_eq!(&records[1][col("crp_mg_l")], "");
    assert_eq!(&records[1][col("iron_status")], "unknown");
    snapshot_settings().bind(|| {
        insta::assert_snapshot!("cli_bad_unknown_columns_stderr", scrub(&err, dir.path()))
    });
}

#[test]
fn missing_patient_id_column_is_a_configuration_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = write_input(
        dir.path(),
        "in.csv",
        b"pid,specimen_id,hb_g_dl\nP1,S1,11.5\n",
    );
    let out = dir.path().join("out.csv");
    let o = engine(&["classify", s(&input), "-o", s(&out)]);
    assert_eq!(code(&o), 2);
    assert!(!out.exists(), "nothing is written on a configuration error");
    assert_eq!(files_in(dir.path()), ["in.csv"]);
    snapshot_settings().bind(|| {
        insta::assert_snapshot!(
            "cli_bad_missing_patient_id_column",
            scrub(&stderr(&o), dir.path())
        )
    });
}

#[test]
fn implausible_hb_is_rejected_with_a_unit_hint() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = write_input(
        dir.path(),
        "in.csv",
        b"patient_id,specimen_id,sex,age_years,hb_g_dl\nP1,S1,F,30,125\nP2,S2,F,30,11.5\n",
    );
    let out = dir.path().join("out.csv");
    let rejects = dir.path().join("out.rejects.csv");

    let o = engine(&["classify", s(&input), "-o", s(&out), "--quiet"]);
    assert_eq!(code(&o), 0, "without --strict a reject is not a failure");
    let rej = csv_records(&rejects);
    assert_eq!(rej.len(), 2);
    assert_eq!(&rej[1][1], "2");
    assert_eq!(&rej[1][2], "implausible_value");
    assert!(rej[1][3].contains("hb_g_dl") && rej[1][3].contains("125"));
    assert!(rej[1][3].contains("g/L"), "suggests g/L: {}", &rej[1][3]);
    let records = csv_records(&out);
    assert_eq!(records.len(), 2, "the plausible row is classified");
    assert_eq!(column_values(&records, "specimen_id"), ["S2"]);
    snapshot_settings().bind(|| {
        insta::assert_snapshot!(
            "cli_bad_implausible_hb_rejects",
            scrub(&read(&rejects), dir.path())
        )
    });

    fs::remove_file(&out).expect("rm out");
    fs::remove_file(&rejects).expect("rm rejects");
    let o = engine(&["classify", s(&input), "-o", s(&out), "--quiet", "--strict"]);
    assert_eq!(code(&o), 3, "--strict with a rejected row");
    // The run completed: output and rejects are in place.
    assert_eq!(csv_records(&out).len(), 2);
    assert_eq!(csv_records(&rejects).len(), 2);
}

#[test]
fn malformed_lines_are_rejected() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = write_input(
        dir.path(),
        "in.csv",
        b"patient_id,specimen_id,hb_g_dl,mcv_fl\nP1,S1,11.5\nP2,S2,11.5,80,9\nP3,S3,11.5,85\n",
    );
    let out = dir.path().join("out.csv");
    let rejects = dir.path().join("out.rejects.csv");
    let o = engine(&["classify", s(&input), "-o", s(&out), "--quiet"]);
    assert_eq!(code(&o), 0);
    let rej = csv_records(&rejects);
    let got: Vec<(&str, &str)> = rej[1..].iter().map(|r| (&r[1], &r[2])).collect();
    assert_eq!(got, [("2", "malformed_line"), ("3", "malformed_line")]);
    let records = csv_records(&out);
    assert_eq!(records.len(), 2);
    assert_eq!(column_values(&records, "specimen_id"), ["S3"]);
    snapshot_settings().bind(|| {
        insta::assert_snapshot!(
            "cli_bad_malformed_line_rejects",
            scrub(&read(&rejects), dir.path())
        )
    });
}

/// Runs classify on bytes that are not a usable export; expects exit 2 and no output.
fn config_error(name: &str, bytes: &[u8]) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = write_input(dir.path(), name, bytes);
    let out = dir.path().join("out.csv");
    let o = engine(&["classify", s(&input), "-o", s(&out)]);
    assert_eq!(code(&o), 2, "{name}: {}", stderr(&o));
    assert!(stdout(&o).is_empty());
    assert_eq!(files_in(dir.path()), [name], "nothing written for {name}");
    scrub(&stderr(&o), dir.path())
}

#[test]
fn empty_file_is_a_configuration_error() {
    let err = config_error("empty.csv", b"");
    assert!(err.contains("empty"), "{err}");
    snapshot_settings().bind(|| insta::assert_snapshot!("cli_bad_empty_file", err));
}

#[test]
fn files_that_are_not_csv_are_configuration_errors() {
    // The first bytes of a PNG image (signature, IHDR chunk), saved with a .csv name.
    let png: &[u8] =
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06\x00\x00\x00";
    let err_png = config_error("image.csv", png);
    let err_json = config_error(
        "results.json",
        b"{\"patient_id\": \"P1\", \"hb_g_dl\": 12.5}\n{\"patient_id\": \"P2\", \"hb_g_dl\": 11.0}\n",
    );
    // Binary data on the first line (e.g. a spreadsheet or a zip file).
    let err_bin = config_error(
        "sheet.csv",
        b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00\n",
    );
    assert!(err_bin.contains("binary"), "{err_bin}");
    snapshot_settings().bind(|| {
        insta::assert_snapshot!("cli_bad_not_csv_png", err_png);
        insta::assert_snapshot!("cli_bad_not_csv_json", err_json);
        insta::assert_snapshot!("cli_bad_not_csv_binary", err_bin);
    });
}

/// Copies the shipped ruleset into `dir/name`, replaces `from` by `to` (exactly once) in
/// `file`, and writes the new checksum into the manifest, so the one intended problem is
/// the only one reported.
fn broken_ruleset(dir: &Path, name: &str, file: &str, from: &str, to: &str) -> PathBuf {
    let src = root().join("reference-ranges/2026.1");
    let dst = dir.join(name);
    fs::create_dir(&dst).expect("mkdir");
    for entry in fs::read_dir(&src).expect("list ruleset") {
        let entry = entry.expect("entry");
        fs::copy(entry.path(), dst.join(entry.file_name())).expect("copy");
    }
    let path = dst.join(file);
    let text = read(&path);
    assert_eq!(text.matches(from).count(), 1, "{from:?} in {file}");
    fs::write(&path, text.replace(from, to)).expect("write");

    let files: Vec<(String, String)> = anemia_engine::ruleset::RULESET_FILES
        .iter()
        .map(|n| (n.to_string(), read(&dst.join(n))))
        .collect();
    let checksum = anemia_engine::ruleset::compute_checksum(&files);
    let manifest = read(&dst.join("MANIFEST.toml"));
    let fixed: Vec<String> = manifest
        .lines()
        .map(|l| {
            if l.starts_with("checksum = ") {
                format!("checksum = \"{checksum}\"")
            } else {
                l.to_string()
            }
        })
        .collect();
    fs::write(dst.join("MANIFEST.toml"), fixed.join("\n") + "\n").expect("manifest");
    dst
}

#[test]
fn invalid_rulesets_are_configuration_errors_naming_file_and_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = fixture("cases.csv");
    let cases = [
        (
            "gap",
            "hb_cutoffs.csv",
            "children 24-59 months,any,none,2,5,",
            "children 24-59 months,any,none,2.5,5,",
            "hb_cutoffs.csv line 8",
        ),
        (
            "missing_source",
            "thresholds.csv",
            "rdw_high_above,14.5,%,all ages,Conventional RDW-CV upper reference limit (Bessman 1983 RDW classification)",
            "rdw_high_above,14.5,%,all ages,",
            "thresholds.csv line 9",
        ),
        (
            "unknown_unit",
            "mcv_ranges.csv",
            "adults 15 years and over,15,,80,100,fL,",
            "adults 15 years and over,15,,80,100,fl,",
            "mcv_ranges.csv line 9",
        ),
        (
            "overlap",
            "ferritin_cutoffs.csv",
            "children under 5 years,0.5,5,",
            "children under 5 years,0.5,6,",
            "ferritin_cutoffs.csv line 5",
        ),
    ];
    // The untouched copy is valid (so each failure below comes from its one change).
    let valid = broken_ruleset(
        dir.path(),
        "valid",
        "units.csv",
        "egfr,ml_min_1_73m2,mL/min/1.73m2,1,canonical",
        "egfr,ml_min_1_73m2,mL/min/1.73m2,1,canonical",
    );
    let o = engine(&["ranges", "check", s(&valid)]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));

    for (name, file, from, to, place) in cases {
        let rs = broken_ruleset(dir.path(), name, file, from, to);
        let out = dir.path().join(format!("{name}.csv"));
        let o = engine(&["classify", s(&input), "--ruleset", s(&rs), "-o", s(&out)]);
        assert_eq!(code(&o), 2, "{name}: {}", stderr(&o));
        assert!(!out.exists(), "{name}: nothing processed");
        let err = scrub(&stderr(&o), dir.path());
        assert!(err.contains(place), "{name} names {place}: {err}");
        assert!(
            !err.contains("checksum"),
            "{name}: only the intended problem"
        );
        snapshot_settings().bind(|| {
            insta::assert_snapshot!(format!("cli_bad_ruleset_{name}"), err);
        });
    }
}
