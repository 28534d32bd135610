//! The 2026.2 known-answer corpus (tests/fixtures/cases_2026_2.csv) converted here into FHIR
//! R4 NDJSON (Observations in one file, Patients in another) and into HL7 v2 ORU^R01
//! messages classifies exactly as its wide form carrying the same information.
//!
//! FHIR Observations and ORU messages carry results, the patient's sex and birth date and
//! the collection time; not pregnancy, smoking, altitude, back pain, conditions or
//! medications. So the wide form compared is the corpus with those columns left out and the
//! age given as the same birth date (derived from `age_years` and the collection date).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;

use anemia_engine::analyte::Analyte;
use anemia_engine::ruleset::Ruleset;

use crate::common::{engine, fixture, s, stderr};

/// The collection time of rows that give none (also in the wide form).
const DEFAULT_COLLECTED: &str = "2026-11-10T09:00:00";

/// Analytes without a code in the ruleset's loinc.csv: local codes, mapped.
const LOCAL: [(Analyte, &str); 2] = [
    (Analyte::Agp, "LOCAL-AGP"),
    (Analyte::Haptoglobin, "LOCAL-HAPTO"),
];

/// One corpus row, as the converters read it.
struct Case {
    patient: String,
    specimen: String,
    sex: String,
    birth_date: String,
    collected: String,
    /// (analyte, comparator, number) or (analyte, "", text).
    results: Vec<(Analyte, String, Result<f64, String>)>,
}

fn code_of(rs: &Ruleset, a: Analyte) -> String {
    if let Some((_, c)) = LOCAL.iter().find(|(l, _)| *l == a) {
        return c.to_string();
    }
    rs.loinc
        .iter()
        .find(|r| r.row.analyte == a)
        .map(|r| r.row.code.clone())
        .unwrap_or_else(|| panic!("no LOINC code for {a}"))
}

/// Splits `<=10` into (`<=`, 10.0); a text cell stays text.
fn split(cell: &str) -> (String, Result<f64, String>) {
    let t = cell.trim();
    let digits = t
        .find(|c: char| c.is_ascii_digit() || c == '.')
        .unwrap_or(0);
    let (prefix, rest) = t.split_at(digits);
    let prefix = prefix.trim().replace('≤', "<=").replace('≥', ">=");
    match rest.trim().parse::<f64>() {
        Ok(v) if ["", "<", "<=", ">", ">="].contains(&prefix.as_str()) => (prefix, Ok(v)),
        _ => (String::new(), Err(t.to_string())),
    }
}

/// Days since 1970-01-01 of a civil date, and back (for birth dates).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

fn cases() -> Vec<Case> {
    let mut reader = csv::Reader::from_path(fixture("cases_2026_2.csv")).expect("corpus");
    let header = reader.headers().expect("header").clone();
    let mut out = Vec::new();
    for rec in reader.records() {
        let rec = rec.expect("record");
        let get = |n: &str| {
            header
                .iter()
                .position(|h| h == n)
                .and_then(|i| rec.get(i))
                .unwrap_or("")
                .trim()
                .to_string()
        };
        let collected = match get("collected_at") {
            c if c.is_empty() => DEFAULT_COLLECTED.to_string(),
            c => c,
        };
        // A readable date gives the birth date its age; the unreadable ones (the
        // COLLECTED_AT_UNREADABLE vignettes) use the default date for it.
        let on = if collected.len() >= 10 && collected.as_bytes()[4] == b'-' {
            &collected
        } else {
            DEFAULT_COLLECTED
        };
        let (y, m, d) = (
            on[..4].parse().unwrap_or(2026),
            on[5..7].parse().unwrap_or(11),
            on[8..10].parse().unwrap_or(10).min(28),
        );
        let birth_date = match get("age_years").parse::<f64>() {
            Ok(age) => {
                let (by, bm, bd) =
                    civil_from_days(days_from_civil(y, m, d) - (age * 365.25).round() as i64);
                format!("{by:04}-{bm:02}-{bd:02}")
            }
            Err(_) => String::new(),
        };
        let mut results = Vec::new();
        for a in Analyte::ALL {
            let cell = get(&a.canonical_column());
            if anemia_engine::cell::is_missing_token(&cell) {
                continue;
            }
            let (cmp, v) = split(&cell);
            results.push((a, cmp, v));
        }
        out.push(Case {
            patient: get("patient_id"),
            specimen: get("specimen_id"),
            sex: get("sex"),
            birth_date,
            collected,
            results,
        });
    }
    out
}

/// The wide form with the information FHIR and HL7 carry.
fn write_wide(cases: &[Case], path: &Path) {
    let mut w = csv::Writer::from_path(path).expect("wide");
    let mut header = vec![
        "patient_id".to_string(),
        "specimen_id".into(),
        "sex".into(),
        "birth_date".into(),
        "collected_at".into(),
    ];
    header.extend(Analyte::ALL.iter().map(|a| a.canonical_column()));
    w.write_record(&header).expect("header");
    for c in cases {
        let mut row = vec![
            c.patient.clone(),
            c.specimen.clone(),
            c.sex.clone(),
            c.birth_date.clone(),
            c.collected.clone(),
        ];
        for a in Analyte::ALL {
            row.push(
                c.results
                    .iter()
                    .find(|(r, _, _)| *r == a)
                    .map(|(_, cmp, v)| match v {
                        Ok(n) => format!("{cmp}{n}"),
                        Err(t) => t.clone(),
                    })
                    .unwrap_or_default(),
            );
        }
        w.write_record(&row).expect("row");
    }
    w.flush().expect("flush");
}

/// Hb of every second case in g/L, to pass the unit conversion.
fn in_si(n: usize, a: Analyte) -> bool {
    a == Analyte::Hb && n % 2 == 1
}

fn write_fhir(rs: &Ruleset, cases: &[Case], observations: &Path, patients: &Path) {
    let mut obs = String::new();
    let mut pats = String::new();
    for (n, c) in cases.iter().enumerate() {
        let gender = match c.sex.as_str() {
            "F" => Some("female"),
            "M" => Some("male"),
            _ => None,
        };
        let mut patient = serde_json::json!({"resourceType": "Patient", "id": c.patient});
        if let Some(g) = gender {
            patient["gender"] = g.into();
        }
        if !c.birth_date.is_empty() {
            patient["birthDate"] = c.birth_date.clone().into();
        }
        writeln!(pats, "{patient}").expect("write");
        for (i, (a, cmp, v)) in c.results.iter().enumerate() {
            let code = code_of(rs, *a);
            let system = if LOCAL.iter().any(|(l, _)| l == a) {
                "http://lab.example.org/codes"
            } else {
                "http://loinc.org"
            };
            let mut o = serde_json::json!({
                "resourceType": "Observation",
                "id": format!("{}-{i}", c.specimen),
                "status": "final",
                "code": {"coding": [{"system": system, "code": code}]},
                "subject": {"reference": format!("Patient/{}", c.patient)},
                "specimen": {"reference": format!("Specimen/{}", c.specimen)},
                "effectiveDateTime": c.collected,
            });
            match v {
                Ok(x) => {
                    let (value, unit) = if in_si(n, *a) {
                        (x * 10.0, "g/L".to_string())
                    } else {
                        (*x, rs.canonical_unit(*a).to_string())
                    };
                    let mut q = serde_json::json!({
                        "value": value,
                        "unit": unit,
                        "system": "http://unitsofmeasure.org",
                        "code": unit,
                    });
                    if !cmp.is_empty() {
                        q["comparator"] = cmp.clone().into();
                    }
                    o["valueQuantity"] = q;
                }
                Err(t) => o["valueString"] = t.clone().into(),
            }
            writeln!(obs, "{o}").expect("write");
        }
    }
    std::fs::write(observations, obs).expect("observations");
    std::fs::write(patients, pats).expect("patients");
}

/// HL7 escapes of a text value.
fn escape(t: &str) -> String {
    t.replace('\\', "\\E\\")
        .replace('|', "\\F\\")
        .replace('^', "\\S\\")
        .replace('&', "\\T\\")
        .replace('~', "\\R\\")
}

/// `2026-11-10T09:00:00` as `20261110090000`; anything else as written (escaped).
fn hl7_time(iso: &str) -> String {
    let digits: String = iso.chars().filter(char::is_ascii_digit).collect();
    if iso.len() >= 10 && iso.as_bytes()[4] == b'-' && digits.len() >= 8 {
        digits
    } else {
        escape(iso)
    }
}

fn write_hl7(rs: &Ruleset, cases: &[Case], path: &Path) {
    let mut text = String::new();
    for (n, c) in cases.iter().enumerate() {
        write!(
            text,
            "MSH|^~\\&|LIS|CORPUS|EHR|HOSP|20261110100000||ORU^R01^ORU_R01|MSG{n}|P|2.5.1\r\
             PID|1||{}^^^CORPUS^MR||||{}|{}\r\
             OBR|1|ORD{n}|{}|58410-2^CBC^LN|||{}\r",
            escape(&c.patient),
            c.birth_date.replace('-', ""),
            c.sex,
            escape(&c.specimen),
            hl7_time(&c.collected),
        )
        .expect("write");
        for (i, (a, cmp, v)) in c.results.iter().enumerate() {
            let code = code_of(rs, *a);
            let system = if LOCAL.iter().any(|(l, _)| l == a) {
                "L"
            } else {
                "LN"
            };
            let (kind, value, unit) = match v {
                Ok(x) => {
                    let (x, unit) = if in_si(n, *a) {
                        (x * 10.0, "g/L".to_string())
                    } else {
                        (*x, rs.canonical_unit(*a).to_string())
                    };
                    if cmp.is_empty() {
                        ("NM", x.to_string(), unit)
                    } else {
                        ("SN", format!("{cmp}^{x}"), unit)
                    }
                }
                Err(t) => ("ST", escape(t), String::new()),
            };
            write!(
                text,
                "OBX|{}|{kind}|{code}^^{system}||{value}|{}^^UCUM|||||F\r",
                i + 1,
                escape(&unit)
            )
            .expect("write");
        }
    }
    std::fs::write(path, text).expect("hl7");
}

fn classify(inputs: &[&Path], mapping: &Path, out: &Path) -> serde_json::Value {
    let summary = out.with_extension("summary.json");
    let mut args = vec!["classify"];
    args.extend(inputs.iter().map(|p| s(p)));
    args.extend([
        "--mapping",
        s(mapping),
        "-o",
        s(out),
        "--summary",
        s(&summary),
        "--quiet",
    ]);
    let o = engine(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    serde_json::from_str(&std::fs::read_to_string(&summary).expect("summary")).expect("json")
}

/// Output rows by (patient_id, specimen_id).
type Rows = HashMap<(String, String), HashMap<String, String>>;

fn by_key(path: &Path) -> (Vec<String>, Rows) {
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
        let key = (map["patient_id"].clone(), map["specimen_id"].clone());
        assert!(rows.insert(key, map).is_none(), "one panel per key");
    }
    (header, rows)
}

#[test]
fn corpus_as_fhir_and_as_hl7_classifies_as_its_wide_form() {
    let rs = Ruleset::embedded().expect("ruleset");
    let cases = cases();
    assert!(cases.len() >= 79);
    let dir = tempfile::tempdir().expect("tempdir");
    let p = |n: &str| dir.path().join(n);
    let mapping = p("mapping.toml");
    std::fs::write(
        &mapping,
        "[test_codes]\n\"LOCAL-AGP\" = { analyte = \"agp\" }\n\"LOCAL-HAPTO\" = { analyte = \"haptoglobin\" }\n",
    )
    .expect("mapping");
    write_wide(&cases, &p("wide.csv"));
    write_fhir(&rs, &cases, &p("Observation.ndjson"), &p("Patient.ndjson"));
    write_hl7(&rs, &cases, &p("oru.hl7"));

    let wide_summary = classify(&[&p("wide.csv")], &mapping, &p("wide_out.csv"));
    let fhir_summary = classify(
        &[&p("Observation.ndjson"), &p("Patient.ndjson")],
        &mapping,
        &p("fhir_out.csv"),
    );
    let hl7_summary = classify(&[&p("oru.hl7")], &mapping, &p("hl7_out.csv"));

    let (header, wide) = by_key(&p("wide_out.csv"));
    let results: usize = cases.iter().map(|c| c.results.len()).sum();
    for (what, summary) in [("fhir", &fhir_summary), ("hl7", &hl7_summary)] {
        assert_eq!(summary["ledger_balanced"], true, "{what}");
        assert_eq!(
            summary["rows_read"], results as u64,
            "{what}: every result read"
        );
        assert_eq!(
            summary["rejected"], wide_summary["rejected"],
            "{what}: rejects"
        );
        assert_eq!(summary["classified"], wide_summary["classified"], "{what}");
    }
    assert_eq!(
        fhir_summary["inputs"][1]["patients_read"],
        cases.len() as u64
    );

    let compared: Vec<&String> = header
        .iter()
        .filter(|c| !matches!(c.as_str(), "source_file" | "source_line" | "evidence"))
        .collect();
    for (what, out) in [("fhir", p("fhir_out.csv")), ("hl7", p("hl7_out.csv"))] {
        let (_, rows) = by_key(&out);
        assert_eq!(rows.len(), wide.len(), "{what}: one panel per wide row");
        for (k, w) in &wide {
            let got = rows
                .get(k)
                .unwrap_or_else(|| panic!("{what}: {k:?} not in the output"));
            for col in &compared {
                assert_eq!(got[*col], w[*col], "{what}: {k:?} column {col}");
            }
        }
    }
    // The conversion exercised what it should.
    let fhir = std::fs::read_to_string(p("Observation.ndjson")).expect("read");
    assert!(fhir.contains("\"comparator\":\"<\"") && fhir.contains("\"code\":\"g/L\""));
    let hl7 = std::fs::read_to_string(p("oru.hl7")).expect("read");
    assert!(hl7.contains("|SN|1988-5^^LN||<^10|") && hl7.contains("LOCAL-HAPTO^^L"));
}
