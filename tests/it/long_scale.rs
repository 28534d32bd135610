//! Long layout at scale: one patient with 100 000 results is normal work (assembly is
//! O(n log n), interface "Input: long layout"), and assembly agrees with a direct reading of
//! its rules (a naive reference) on small random exports. Timings are never asserted.

use std::collections::BTreeSet;
use std::path::Path;

use anemia_engine::analyte::Analyte;
use anemia_engine::cell::Cell;
use anemia_engine::ingest::{IngestOptions, Input, InputReader, Layout, RowOutcome};
use anemia_engine::ruleset::Ruleset;
use proptest::prelude::*;

use crate::common::{engine, stderr};

fn ruleset() -> &'static Ruleset {
    static RS: std::sync::OnceLock<Ruleset> = std::sync::OnceLock::new();
    RS.get_or_init(|| Ruleset::embedded().expect("ruleset"))
}

/// `2020-01-01T00:00:00` plus `minutes`, as ISO 8601.
fn iso(minutes: u64) -> String {
    // Days to a civil date (Howard Hinnant's algorithm), from 2020-01-01 = day 18262.
    let z = (minutes / 1440) as i64 + 18_262 + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let (h, min) = ((minutes % 1440) / 60, minutes % 60);
    format!("{y:04}-{m:02}-{d:02}T{h:02}:{min:02}:00")
}

/// A small deterministic generator (tests need no crate for it).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
}

const DAY: u64 = 1440;

#[test]
fn one_patient_with_100_000_results_is_classified_with_a_balanced_ledger() {
    // 500 haemoglobin specimens (Hb + MCV) every 2 days, 49 000 specimens with ferritin and
    // CRP at random times among them (each within the window of some Hb), and 500 specimens
    // after the last Hb, 20 days apart: lone panels. Lines in shuffled order.
    let mut rng = Lcg(7);
    let mut rows = Vec::with_capacity(100_000);
    for k in 0..500u64 {
        let t = iso(2 * k * DAY + 8 * 60);
        rows.push(format!("MRN1,H{k},{t},718-7,{}.{},g/dL", 8 + k % 7, k % 10));
        rows.push(format!("MRN1,H{k},{t},787-2,{},fL", 70 + k % 30));
    }
    for k in 0..49_000u64 {
        let t = iso(rng.next() % (1000 * DAY));
        rows.push(format!("MRN1,F{k},{t},2276-4,{},ug/L", 5 + k % 300));
        rows.push(format!("MRN1,F{k},{t},1988-5,{},mg/L", 1 + k % 40));
    }
    for k in 0..500u64 {
        let t = iso((1100 + 20 * k) * DAY);
        rows.push(format!("MRN1,L{k},{t},2276-4,{},ug/L", 5 + k % 300));
        rows.push(format!("MRN1,L{k},{t},2132-9,{},pg/mL", 150 + k % 500));
    }
    assert_eq!(rows.len(), 100_000);
    for i in (1..rows.len()).rev() {
        let j = (rng.next() % (i as u64 + 1)) as usize;
        rows.swap(i, j);
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("one_patient.csv");
    let mut text = String::from("patient_id,specimen_id,collected_at,test_code,value,unit,sex\n");
    for r in &rows {
        text.push_str(r);
        text.push_str(",F\n");
    }
    std::fs::write(&input, text).expect("write");

    let out = dir.path().join("out.csv");
    let summary = dir.path().join("summary.json");
    let o = engine(&[
        "classify",
        input.to_str().expect("utf8"),
        "-o",
        out.to_str().expect("utf8"),
        "--summary",
        summary.to_str().expect("utf8"),
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&summary).expect("summary")).expect("json");
    let n = |k: &str| s[k].as_u64().unwrap_or_else(|| panic!("{k}"));
    assert_eq!(n("rows_read"), 100_000);
    assert_eq!(n("classified"), 1000, "500 anchored and 500 lone panels");
    assert_eq!(n("rejected"), 0);
    assert_eq!(n("rows_used") + n("not_attached"), 100_000);
    // Each Hb panel uses its own 2 results and joins a ferritin and a CRP (one shared by
    // two panels counts once); each lone panel uses its 2.
    assert!(
        (2000..=3000).contains(&n("rows_used")),
        "{}",
        n("rows_used")
    );
    assert_eq!(s["ledger_balanced"], true);

    // The line of each panel: its Hb result's, or a lone specimen's first.
    let mut panel_line = std::collections::HashMap::new();
    for (i, r) in rows.iter().enumerate() {
        let spec = r.split(',').nth(1).expect("specimen");
        if r.contains(",718-7,") || spec.starts_with('L') {
            panel_line.entry(spec.to_string()).or_insert(i + 2);
        }
    }
    let mut r = csv::Reader::from_path(&out).expect("output");
    let header = r.headers().expect("header").clone();
    let col = |name: &str| header.iter().position(|h| h == name).expect(name);
    let (spec, ferritin, evidence) = (col("specimen_id"), col("ferritin_ug_l"), col("evidence"));
    let mut last = 0;
    let mut joined = 0;
    for rec in r.records() {
        let rec = rec.expect("record");
        let l = panel_line[&rec[spec]];
        assert!(l > last, "rows in input order: line {l} after {last}");
        last = l;
        assert!(!rec[ferritin].is_empty(), "every panel has a ferritin");
        if rec[spec].starts_with('H') {
            assert!(
                rec[evidence].contains("ferritin from specimen F"),
                "{}",
                &rec[evidence]
            );
            joined += 1;
        } else {
            assert!(rec[spec].starts_with('L'), "{}", &rec[spec]);
            assert!(rec[evidence].contains("panel formed from it alone"));
        }
    }
    assert_eq!(joined, 500);
}

/// One result of a random export: patient, specimen, minutes (None: blank collected_at),
/// analyte and value.
#[derive(Clone, Debug)]
struct Row {
    patient: usize,
    specimen: usize,
    minutes: Option<u64>,
    analyte: usize,
    value: u32,
}

/// Analytes of the random exports: LOINC code, canonical unit.
const CODES: [(Analyte, &str, &str); 5] = [
    (Analyte::Hb, "718-7", "g/dL"),
    (Analyte::Mcv, "787-2", "fL"),
    (Analyte::Ferritin, "2276-4", "ug/L"),
    (Analyte::Crp, "1988-5", "mg/L"),
    (Analyte::B12, "2132-9", "pg/mL"),
];

/// A plausible value of each analyte from a small number.
fn value_of(analyte: usize, v: u32) -> f64 {
    [8.0, 70.0, 10.0, 1.0, 200.0][analyte] + f64::from(v)
}

/// Specimens: (patient, minutes or blank) per specimen index; rows draw from them, each
/// analyte at most once per specimen (duplicates are another rule, tested elsewhere).
fn export() -> impl Strategy<Value = (Vec<Row>, u32)> {
    let specimen = (0usize..3, proptest::option::weighted(0.9, 0u64..(12 * DAY)));
    (
        proptest::collection::vec(specimen, 1..14),
        proptest::collection::vec((0usize..14, 0usize..5, 0u32..6), 1..50),
        0u32..4,
    )
        .prop_map(|(specs, picks, window)| {
            let mut seen = BTreeSet::new();
            let rows = picks
                .into_iter()
                .filter_map(|(s, analyte, value)| {
                    let s = s % specs.len();
                    seen.insert((s, analyte)).then(|| Row {
                        patient: specs[s].0,
                        specimen: s,
                        // Times on a coarse grid: ties in distance and time happen.
                        minutes: specs[s].1.map(|m| m / (6 * 60) * (6 * 60)),
                        analyte,
                        value,
                    })
                })
                .collect();
            (rows, window)
        })
}

/// A specimen of the reference: its patient, id, time, first row and row per analyte.
struct RefSpecimen {
    patient: usize,
    id: usize,
    minutes: Option<u64>,
    first: usize,
    by: [Option<usize>; 5],
}

/// What the reference expects: panels (line, specimen, value per analyte, rows_used) in
/// output order, and the lines of the results no panel used.
type Expected = (Vec<(u64, usize, [Option<f64>; 5], u64)>, BTreeSet<u64>);

/// The assembly rules read literally: every Hb specimen is a panel with its own results
/// and, for each analyte it lacks, the result of the patient's specimen nearest in time
/// within the window (ties: the earlier time, then the specimen seen first); a specimen
/// without Hb and with no Hb specimen within the window is a panel of its own. A result
/// counts as used in the first panel that takes it (a patient's Hb panels in line order,
/// then its lone panels).
fn reference(rows: &[Row], window_days: u32) -> Expected {
    let line = |i: usize| i as u64 + 2;
    let window = i64::from(window_days) * DAY as i64;
    // Specimens in order of appearance, with their first row and results by analyte.
    let mut specs: Vec<RefSpecimen> = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        match specs.iter_mut().find(|s| s.id == r.specimen) {
            Some(s) => s.by[r.analyte] = Some(i),
            None => {
                let mut by = [None; 5];
                by[r.analyte] = Some(i);
                specs.push(RefSpecimen {
                    patient: r.patient,
                    id: r.specimen,
                    minutes: r.minutes,
                    first: i,
                    by,
                });
            }
        }
    }
    let mut used = vec![false; rows.len()];
    let mut panels = Vec::new();
    let mut patients: Vec<usize> = Vec::new();
    for s in &specs {
        if !patients.contains(&s.patient) {
            patients.push(s.patient);
        }
    }
    for p in patients {
        let mine: Vec<_> = specs.iter().filter(|s| s.patient == p).collect();
        let mut anchors: Vec<_> = mine.iter().filter(|s| s.by[0].is_some()).collect();
        anchors.sort_by_key(|s| s.by[0]);
        let mut emit = |chosen: [Option<usize>; 5], at: usize, spec: usize| {
            let mut values = [None; 5];
            let mut n = 0;
            for i in chosen.iter().flatten() {
                values[rows[*i].analyte] = Some(value_of(rows[*i].analyte, rows[*i].value));
                if !used[*i] {
                    used[*i] = true;
                    n += 1;
                }
            }
            panels.push((line(at), spec, values, n));
        };
        for a in &anchors {
            let mut chosen = a.by;
            for (k, c) in chosen.iter_mut().enumerate() {
                let Some(t0) = a.minutes else { break };
                if c.is_some() {
                    continue;
                }
                let mut best: Option<(i64, i64, usize, usize)> = None;
                for s in &mine {
                    let (Some(t), Some(i)) = (s.minutes, s.by[k]) else {
                        continue;
                    };
                    let d = (t as i64 - t0 as i64).abs();
                    let key = (d, t as i64, s.first, i);
                    if s.id != a.id && d <= window && best.is_none_or(|b| key < b) {
                        best = Some(key);
                    }
                }
                *c = best.map(|b| b.3);
            }
            emit(chosen, a.by[0].expect("hb"), a.id);
        }
        for s in mine.iter().filter(|s| s.by[0].is_none()) {
            let near = s.minutes.is_some_and(|t| {
                anchors
                    .iter()
                    .filter_map(|a| a.minutes)
                    .any(|h| (h as i64 - t as i64).abs() <= window)
            });
            if !near {
                emit(s.by, s.first, s.id);
            }
        }
    }
    panels.sort_by_key(|p| p.0);
    let unused = (0..rows.len())
        .filter(|i| !used[*i])
        .map(line)
        .collect::<BTreeSet<_>>();
    (panels, unused)
}

fn write_export(path: &Path, rows: &[Row]) {
    let mut text = String::from("patient_id,specimen_id,collected_at,test_code,value,unit\n");
    for r in rows {
        let (_, code, unit) = CODES[r.analyte];
        let when = r.minutes.map(iso).unwrap_or_default();
        text.push_str(&format!(
            "P{},S{},{when},{code},{},{unit}\n",
            r.patient,
            r.specimen,
            value_of(r.analyte, r.value)
        ));
    }
    std::fs::write(path, text).expect("write");
}

/// Reads an export through the library's long reader: panels and not-attached lines.
fn assemble(path: &Path, window_days: u32) -> Expected {
    let opts = IngestOptions {
        layout: Layout::Long,
        panel_window_days: f64::from(window_days),
        ..IngestOptions::default()
    };
    let input = Input::File(path.to_path_buf());
    let mut reader = InputReader::open(0, &input, ruleset(), &opts).expect("open");
    let mut outcomes = Vec::new();
    while reader
        .next_batch(7, ruleset(), &mut outcomes)
        .expect("batch")
    {}
    let mut panels = Vec::new();
    let mut unused = BTreeSet::new();
    for o in outcomes {
        match o {
            RowOutcome::Panel(p) => {
                let values = CODES.map(|(a, _, _)| match p.cell(a) {
                    Cell::Value(m) => Some(m.value),
                    _ => None,
                });
                let spec = p.specimen_id.trim_start_matches('S').parse().expect("id");
                panels.push((p.line, spec, values, p.rows_used));
            }
            RowOutcome::NotAttached(n) => {
                unused.insert(n.line);
            }
            RowOutcome::Reject(r) => panic!("unexpected reject: {}", r.message),
        }
    }
    (panels, unused)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn assembly_agrees_with_the_rules_read_literally((rows, window) in export()) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("long.csv");
        write_export(&path, &rows);
        prop_assert_eq!(assemble(&path, window), reference(&rows, window));
    }
}
