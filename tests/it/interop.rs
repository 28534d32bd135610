//! FHIR R4 NDJSON and HL7 v2 ORU^R01 inputs (tests/fixtures/interop): what each resource or
//! OBX segment becomes (a panel's value, or a reject with its reason and line), the Patient
//! resources of another file, Bundles, statuses, comparators, text results, escapes, local
//! codes, MLLP framing and segment ends, detection under `--layout auto`, explain, and the
//! ledger of every run.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anemia_engine::ingest::{IngestOptions, RejectReason, RowOutcome};
use anemia_engine::ruleset::Ruleset;

use crate::common::{engine, fixture, s, stderr};

fn interop(name: &str) -> PathBuf {
    fixture(&format!("interop/{name}"))
}

/// A classify run: results by (patient_id, specimen_id), rejects as (line, reason), summary.
struct Run {
    rows: HashMap<(String, String), HashMap<String, String>>,
    rejects: Vec<(u64, String)>,
    summary: serde_json::Value,
}

fn run(inputs: &[&Path], extra: &[&str]) -> Run {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out.csv");
    let rejects = dir.path().join("rejects.csv");
    let summary = dir.path().join("summary.json");
    let mut args = vec!["classify"];
    args.extend(inputs.iter().map(|p| s(p)));
    args.extend([
        "-o",
        s(&out),
        "--rejects",
        s(&rejects),
        "--summary",
        s(&summary),
        "--quiet",
    ]);
    args.extend_from_slice(extra);
    let o = engine(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    let mut rows = HashMap::new();
    let mut r = csv::Reader::from_path(&out).expect("output");
    let header = r.headers().expect("header").clone();
    for rec in r.records() {
        let rec = rec.expect("record");
        let map: HashMap<String, String> = header
            .iter()
            .map(str::to_string)
            .zip(rec.iter().map(str::to_string))
            .collect();
        let key = (map["patient_id"].clone(), map["specimen_id"].clone());
        assert!(rows.insert(key, map).is_none(), "one panel per specimen");
    }
    let mut rj = Vec::new();
    let mut r = csv::Reader::from_path(&rejects).expect("rejects");
    for rec in r.deserialize::<HashMap<String, String>>() {
        let rec = rec.expect("reject");
        rj.push((
            rec["line"].parse().expect("line"),
            rec["reason_code"].clone(),
        ));
    }
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&summary).expect("summary")).expect("json");
    assert_eq!(summary["ledger_balanced"], true, "{summary}");
    let n = |k: &str| summary[k].as_u64().expect(k);
    assert_eq!(
        n("rows_read"),
        n("rows_used") + n("rejected") + n("not_attached"),
        "results read = used + rejected + not attached"
    );
    assert_eq!(n("rejected"), rj.len() as u64);
    Run {
        rows,
        rejects: rj,
        summary,
    }
}

fn key(p: &str, s: &str) -> (String, String) {
    (p.to_string(), s.to_string())
}

#[test]
fn fhir_observations_take_sex_and_birth_date_from_patients_in_another_file() {
    let r = run(
        &[&interop("observations.ndjson"), &interop("patients.ndjson")],
        &[],
    );
    // p1: the entered-in-error duplicate (Hb 14.5) is not used, so Hb 9.8 < 12.0 (female).
    let p1 = &r.rows[&key("p1", "s1")];
    assert_eq!(p1["sex"], "F");
    assert_eq!(
        p1["age_years"], "46.55",
        "born 1980-05-01, collected 2026-11-20"
    );
    assert_eq!(p1["hb_g_dl"], "9.80");
    assert_eq!(p1["anemia"], "true");
    assert_eq!(p1["mcv_fl"], "72.00");
    assert_eq!(p1["ferritin_ug_l"], "5.00");
    assert_eq!(
        p1["ferritin_ug_l_comparator"], "<",
        "valueQuantity.comparator"
    );
    assert_eq!(p1["iron_status"], "deficient");
    assert_eq!(p1["source_line"], "1", "the line of the Hb resource");
    // +01:00 is converted to UTC.
    assert_eq!(p1["collected_at"], "2026-11-20T06:10:00");
    // p2: the amended Hb 13.9 wins over the earlier final 9.0; male cutoff 13.0.
    let p2 = &r.rows[&key("p2", "s2")];
    assert_eq!((p2["sex"].as_str(), p2["hb_g_dl"].as_str()), ("M", "13.90"));
    assert_eq!(p2["anemia"], "false");
    assert_eq!(p2["ldh_u_l"], "", "valueString hemolyzed is a text result");
    assert!(p2["flags"].contains("VALUE_NOT_NUMERIC"), "{}", p2["flags"]);
    // p3: no Patient resource; a preliminary Hb in g/L is used (125 g/L = 12.5 g/dL).
    let p3 = &r.rows[&key("p3", "s3")];
    assert_eq!((p3["sex"].as_str(), p3["hb_g_dl"].as_str()), ("", "12.50"));
    assert_eq!(r.rows.len(), 3);
    assert_eq!(
        r.rejects,
        vec![
            (5, "superseded".into()),
            (6, "superseded".into()),
            (11, "malformed_message".into()),
            (12, "unknown_test_code".into()),
            (13, "unknown_unit".into()),
            (14, "missing_patient_id".into()),
            (15, "malformed_message".into()),
        ]
    );
    let obs = &r.summary["inputs"][0];
    assert_eq!(obs["layout"], "fhir");
    assert_eq!(obs["format"], "fhir-ndjson");
    assert_eq!(obs["rows_read"], 14, "14 Observation resources");
    assert_eq!(obs["rows_used"], 7);
    assert_eq!(obs["preliminary_results"], 1);
    assert_eq!(obs["other_resources"], 1, "the Encounter");
    assert_eq!(obs["patients_read"], 0);
    let pats = &r.summary["inputs"][1];
    assert_eq!(
        (pats["patients_read"].as_u64(), pats["rows_read"].as_u64()),
        (Some(2), Some(0))
    );
}

#[test]
fn fhir_without_the_patient_file_has_no_sex_or_age() {
    let r = run(&[&interop("observations.ndjson")], &[]);
    let p1 = &r.rows[&key("p1", "s1")];
    assert_eq!((p1["sex"].as_str(), p1["age_years"].as_str()), ("", ""));
    // The patient file may also come first.
    let r = run(
        &[&interop("patients.ndjson"), &interop("observations.ndjson")],
        &[],
    );
    assert_eq!(r.rows[&key("p1", "s1")]["sex"], "F");
}

#[test]
fn a_fhir_bundle_per_line_with_its_patient_and_the_effective_time_as_specimen() {
    let r = run(&[&interop("bundle.ndjson")], &["--layout", "fhir"]);
    let patient = "61ebe359-bfdc-4613-8bf2-c5e300945f0a";
    // No specimen reference: the effective time keys the specimen, so Hb and MCV share it.
    let row = &r.rows[&key(patient, "2026-11-23T08:00:00Z")];
    assert_eq!(
        row["sex"], "F",
        "the Patient entry, referenced by its urn:uuid fullUrl"
    );
    assert_eq!(
        (row["hb_g_dl"].as_str(), row["mcv_fl"].as_str()),
        ("11.00", "85.00")
    );
    assert_eq!(row["anemia"], "true");
    assert_eq!(row["source_line"], "1");
    assert_eq!(r.summary["inputs"][0]["rows_read"], 2);
    assert_eq!(r.summary["inputs"][0]["patients_read"], 1);
}

#[test]
fn hl7_oru_two_obr_groups_correction_withdrawal_escapes_and_local_codes() {
    let mapping = fixture("long_lis_mapping.toml");
    let r = run(&[&interop("oru_r01.hl7")], &["--mapping", s(&mapping)]);
    // Message 1: two OBR groups (S100 CBC, S101 iron studies) form one panel around the
    // Hb; message 2 corrects the Hb (OBX-11 C): 10.1 replaces 9.8.
    let a = &r.rows[&key("MRN100", "S100")];
    assert_eq!(a["hb_g_dl"], "10.10");
    assert_eq!(a["source_line"], "14", "the corrected OBX");
    assert_eq!((a["sex"].as_str(), a["age_years"].as_str()), ("F", "46.55"));
    assert_eq!(a["collected_at"], "2026-11-20T07:10:00", "OBX-14");
    assert_eq!(a["rbc_10e12_l"], "4.10");
    assert_eq!(
        (
            a["ferritin_ug_l"].as_str(),
            a["ferritin_ug_l_comparator"].as_str()
        ),
        ("5.00", "<"),
        "SN <^5"
    );
    assert_eq!(a["iron_ug_dl"], "22.00", "a preliminary result is used");
    assert_eq!(a["classification"], "iron_deficiency_anemia");
    // Message 3: OBR-3 S\T\200 is S&200; local codes HGB and MCV mapped (HGB 128 g/L,
    // MCV without a unit takes the mapping's fL); the CRP is withdrawn by message 4 (D).
    let b = &r.rows[&key("MRN200", "S&200")];
    assert_eq!(
        (b["hb_g_dl"].as_str(), b["mcv_fl"].as_str()),
        ("12.80", "91.00")
    );
    assert_eq!(b["crp_mg_l"], "", "withdrawn by OBX-11 D");
    assert_eq!(b["ldh_u_l"], "", "the text result hemolyzed & icteric");
    assert!(b["flags"].contains("VALUE_NOT_NUMERIC"));
    assert_eq!(b["collected_at"], "2026-11-21T08:30:00", "OBR-7");
    assert_eq!(r.rows.len(), 2);
    assert_eq!(
        r.rejects,
        vec![
            (4, "superseded".into()),
            (20, "superseded".into()),
            (25, "superseded".into())
        ]
    );
    let input = &r.summary["inputs"][0];
    assert_eq!(input["layout"], "hl7");
    assert_eq!(input["rows_read"], 12, "12 OBX segments");
    assert_eq!(input["preliminary_results"], 1);
    assert_eq!(input["other_resources"], 1, "the ADT message");
}

#[test]
fn hl7_local_codes_without_the_mapping_are_unknown_test_codes() {
    let r = run(&[&interop("oru_r01.hl7")], &[]);
    let unknown: Vec<u64> = r
        .rejects
        .iter()
        .filter(|(_, why)| why == "unknown_test_code")
        .map(|(l, _)| *l)
        .collect();
    assert_eq!(unknown, vec![18, 19], "HGB and MCV");
}

#[test]
fn malformed_hl7_messages_are_rejected_whole_with_their_lines() {
    let r = run(&[&interop("oru_bad.hl7")], &["--layout", "hl7"]);
    assert_eq!(
        r.rejects,
        vec![
            (1, "malformed_message".into()), // text before any MSH
            (5, "malformed_message".into()), // MSH-2 repeats a character: both OBX
            (6, "malformed_message".into()),
            (9, "malformed_message".into()), // OBX outside an OBR group
            (13, "missing_patient_id".into()),
            (17, "unknown_test_code".into()),
            (18, "unknown_unit".into()),
            (19, "no_analyte_values".into()), // OBX-11 X
            (21, "malformed_message".into()), // a line that is not a segment, no OBX: at MSH
        ]
    );
    // The RBC of the one readable specimen forms a panel of its own.
    let row = &r.rows[&key("MRN303", "S303")];
    assert_eq!(row["rbc_10e12_l"], "4.20");
    assert_eq!(r.rows.len(), 1);
}

#[test]
fn hl7_in_mllp_frames_with_other_separators_and_iso_8859_1() {
    let r = run(&[&interop("oru_mllp.hl7")], &[]);
    let a = &r.rows[&key("MRN400", "S400")];
    assert_eq!(
        (
            a["ferritin_ug_l"].as_str(),
            a["ferritin_ug_l_comparator"].as_str()
        ),
        ("400.00", ">"),
        "OBX-8 > (above the instrument scale)"
    );
    assert_eq!(
        a["collected_at"], "2026-11-23T07:15:00",
        "+0100 converted to UTC"
    );
    assert_eq!(a["source_line"], "4");
    // MSH#:*!@ separators; a Latin-1 name, declared in MSH-18.
    let b = &r.rows[&key("MRN401", "S401")];
    assert_eq!((b["hb_g_dl"].as_str(), b["sex"].as_str()), ("14.20", "M"));
    assert_eq!(b["source_line"], "10");
    assert!(r.rejects.is_empty());
}

#[test]
fn hl7_segment_ends_and_framing_do_not_change_the_results() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = std::fs::read_to_string(interop("oru_r01.hl7")).expect("fixture");
    let mapping = fixture("long_lis_mapping.toml");
    let base = run(&[&interop("oru_r01.hl7")], &["--mapping", s(&mapping)]);
    let segments: Vec<&str> = text.lines().collect();
    let mllp: String = text
        .split("MSH|")
        .filter(|m| !m.is_empty())
        .map(|m| format!("\x0bMSH|{}\x1c\r", m.trim_end().replace('\n', "\r")))
        .collect();
    for (name, body) in [
        ("cr.hl7", segments.join("\r")),
        ("crlf.hl7", segments.join("\r\n")),
        ("mllp.hl7", mllp),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, &body).expect("write");
        let r = run(&[&path], &["--mapping", s(&mapping)]);
        for (k, row) in &base.rows {
            for col in [
                "hb_g_dl",
                "crp_mg_l",
                "ferritin_ug_l",
                "classification",
                "flags",
            ] {
                assert_eq!(r.rows[k][col], row[col], "{name} {k:?} {col}");
            }
        }
        assert_eq!(r.rows.len(), base.rows.len(), "{name}");
        if name != "mllp.hl7" {
            assert_eq!(r.rejects, base.rejects, "{name}: same lines");
        } else {
            assert_eq!(r.rejects.len(), base.rejects.len());
        }
    }
}

#[test]
fn layouts_are_detected_by_content_and_explain_reads_them() {
    for (file, layout) in [("observations.ndjson", "fhir"), ("oru_mllp.hl7", "hl7")] {
        let r = run(&[&interop(file)], &[]);
        assert_eq!(r.summary["inputs"][0]["layout"], layout, "{file}");
    }
    let o = engine(&[
        "explain",
        s(&interop("oru_r01.hl7")),
        "--specimen",
        "S100",
        "--format",
        "json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v["layout"], "hl7");
    let o = engine(&[
        "explain",
        s(&interop("observations.ndjson")),
        "--line",
        "13",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("unknown_unit"), "{text}");
    let o = engine(&["explain", s(&interop("oru_r01.hl7")), "--row", "1"]);
    assert_eq!(o.status.code(), Some(2));
}

/// The byte-slice entries (the fuzz targets' doors) read without I/O and balance.
#[test]
fn byte_entries_read_every_unit_once_and_survive_garbage() {
    let rs = Ruleset::embedded().expect("ruleset");
    let opts = IngestOptions::default();
    let fhir = std::fs::read(interop("observations.ndjson")).expect("fixture");
    let read = anemia_engine::ingest::fhir::read_fhir_bytes(&fhir, &rs, &opts).expect("read");
    assert_eq!(read.results_read(), 14);
    assert_eq!(read.counts.other, 1);
    let hl7 = std::fs::read(interop("oru_bad.hl7")).expect("fixture");
    let read = anemia_engine::ingest::hl7::read_hl7_bytes(&hl7, &rs, &opts).expect("read");
    assert_eq!(read.results_read(), 10);
    let malformed = read
        .outcomes
        .iter()
        .filter(
            |o| matches!(o, RowOutcome::Reject(r) if r.reason == RejectReason::MalformedMessage),
        )
        .count();
    assert_eq!(malformed, 5);
    for garbage in [
        &b"MSH"[..],
        b"MSH|",
        b"MSH|^~\\&",
        b"\x0b\x1c\r\x0b",
        b"MSH|^~\\&|||||||ORU^R01\rPID|||\\X\\\rOBR\rOBX|1|SN|718-7^^LN||\\Xzz\\^5|\xff\xfe",
        b"{\"resourceType\":\"Bundle\",\"entry\":[{\"resource\":{\"resourceType\":\"Bundle\"}}]}",
        b"{\"resourceType\":\"Observation\",\"valueQuantity\":{\"value\":1e999}}",
        b"\xef\xbb\xbf{\"resourceType\":\"Observation\",\"subject\":{\"reference\":\"/\"},\"code\":{\"coding\":[{}]}}",
    ] {
        for read in [
            anemia_engine::ingest::fhir::read_fhir_bytes(garbage, &rs, &opts),
            anemia_engine::ingest::hl7::read_hl7_bytes(garbage, &rs, &opts),
        ] {
            let read = read.expect("no run error on garbage");
            assert!(read.outcomes.iter().all(|o| !matches!(o, RowOutcome::Panel(p) if p.rows_used == 0 && p.patient_id.is_empty())));
        }
    }
}

#[test]
fn a_directory_walk_picks_up_fhir_ndjson_by_content_and_hl7_by_extension() {
    let dir = tempfile::tempdir().expect("tempdir");
    let exports = dir.path().join("exports");
    std::fs::create_dir(&exports).expect("mkdir");
    for f in ["observations.ndjson", "patients.ndjson", "oru_mllp.hl7"] {
        std::fs::copy(interop(f), exports.join(f)).expect("copy");
    }
    // Results of an earlier run are NDJSON too, but not FHIR: not an input.
    std::fs::write(exports.join("results.ndjson"), "{\"patient_id\":\"p1\"}\n").expect("write");
    let r = run(&[&exports], &[]);
    let names: Vec<String> = r.summary["inputs"]
        .as_array()
        .expect("inputs")
        .iter()
        .map(|i| {
            i["name"]
                .as_str()
                .unwrap_or("")
                .rsplit('/')
                .next()
                .unwrap_or("")
                .to_string()
        })
        .collect();
    assert_eq!(
        names,
        ["observations.ndjson", "oru_mllp.hl7", "patients.ndjson"]
    );
    assert_eq!(r.rows[&key("p1", "s1")]["sex"], "F");
    assert_eq!(r.rows[&key("MRN400", "S400")]["hb_g_dl"], "11.90");
}

#[test]
fn hl7_and_fhir_on_stdin_are_detected_and_balance() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    for file in ["oru_r01.hl7", "observations.ndjson"] {
        let dir = tempfile::tempdir().expect("tempdir");
        let summary = dir.path().join("summary.json");
        let out = dir.path().join("out.csv");
        let mut child = Command::new(env!("CARGO_BIN_EXE_anemia-engine"))
            .args([
                "classify",
                "-",
                "-o",
                s(&out),
                "--summary",
                s(&summary),
                "--quiet",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        let bytes = std::fs::read(interop(file)).expect("fixture");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(&bytes)
            .expect("write");
        let o = child.wait_with_output().expect("wait");
        assert!(o.status.success(), "{}", stderr(&o));
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&summary).expect("summary"))
                .expect("json");
        let layout = if file.ends_with(".hl7") {
            "hl7"
        } else {
            "fhir"
        };
        assert_eq!(v["inputs"][0]["layout"], layout);
        assert_eq!(v["ledger_balanced"], true);
        assert_eq!(v["rows_read"], if layout == "hl7" { 12 } else { 14 });
    }
}

mod hostile {
    use super::*;
    use proptest::prelude::*;

    /// Fixture bytes with some bytes replaced by separators, escapes, frame bytes, quotes or
    /// anything, and the end cut somewhere.
    fn mutated(base: Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
        let len = base.len();
        let specials: Vec<u8> = b"|^~\\&\r\n\x0b\x1c{}[]\":,\xff\xc3".to_vec();
        (
            proptest::collection::vec(
                (
                    0..len,
                    prop::sample::select(specials),
                    any::<u8>(),
                    any::<bool>(),
                ),
                0..12,
            ),
            0..=len,
        )
            .prop_map(move |(edits, cut)| {
                let mut b = base.clone();
                for (at, special, byte, use_special) in edits {
                    b[at] = if use_special { special } else { byte };
                }
                b.truncate(cut.max(1));
                b
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

        #[test]
        fn mutated_hl7_never_fails_and_every_unit_is_accounted_for(
            bytes in mutated(std::fs::read(interop("oru_r01.hl7")).expect("fixture"))
        ) {
            let rs = Ruleset::embedded().expect("ruleset");
            let read = anemia_engine::ingest::hl7::read_hl7_bytes(&bytes, &rs, &IngestOptions::default());
            let read = read.expect("no error");
            // A panel uses at least one result; every reject and unattached result is one.
            prop_assert!(read.outcomes.iter().all(|o| !matches!(o, RowOutcome::Panel(p) if p.rows_used == 0)));
        }

        #[test]
        fn mutated_fhir_never_fails(
            bytes in mutated(std::fs::read(interop("observations.ndjson")).expect("fixture"))
        ) {
            let rs = Ruleset::embedded().expect("ruleset");
            let read = anemia_engine::ingest::fhir::read_fhir_bytes(&bytes, &rs, &IngestOptions::default());
            prop_assert!(read.is_ok());
        }
    }
}
