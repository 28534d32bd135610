//! Large-input correctness (issue 6): on a few hundred thousand generated panels, the batched
//! path writes exactly what a single-batch run writes, and the row ledger balances.
//! Timings are measured by `bench/run.sh`, never asserted here.

use std::path::Path;
use std::process::{Child, Command, Stdio};

use crate::common::root;

/// Rows of the generated export: large enough for 200 batches of 1000 rows against one batch of
/// all of them, small enough for the debug build (the test takes about 40 s on 2 cores).
const ROWS: u64 = 200_000;

const LABELS: [&str; 12] = [
    "combined_iron_and_b12_folate_deficiency",
    "b12_folate_deficiency_anemia",
    "mixed_iron_deficiency_and_inflammation",
    "iron_deficiency_anemia",
    "anemia_of_inflammation",
    "thalassemia_trait_suspected",
    "anemia_other",
    "anemia_indeterminate",
    "iron_deficiency_without_anemia",
    "b12_folate_deficiency_without_anemia",
    "no_anemia",
    "insufficient_data",
];

fn classify(input: &Path, dir: &Path, name: &str, batch_rows: usize) -> Child {
    Command::new(env!("CARGO_BIN_EXE_anemia-engine"))
        .current_dir(root())
        .args(["classify", input.to_str().unwrap(), "-o"])
        .arg(dir.join(format!("{name}.csv")))
        .arg("--summary")
        .arg(dir.join(format!("{name}.json")))
        .args(["--batch-rows", &batch_rows.to_string(), "--quiet"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start anemia-engine")
}

fn finish(child: Child, what: &str) {
    let out = child.wait_with_output().expect("wait for anemia-engine");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{what}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Data records of a CSV file (header excluded).
fn records(path: &Path) -> u64 {
    let mut n = 0;
    for record in csv::Reader::from_path(path).unwrap().into_byte_records() {
        record.unwrap();
        n += 1;
    }
    n
}

fn summary(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn batched_output_is_byte_identical_to_a_single_batch_and_the_ledger_balances() {
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("export.csv");
    let gen = Command::new(env!("CARGO_BIN_EXE_gen-export"))
        .args(["--rows", &ROWS.to_string(), "--seed", "6", "--messy", "-o"])
        .arg(&export)
        .output()
        .expect("run gen-export");
    assert!(
        gen.status.success(),
        "{}",
        String::from_utf8_lossy(&gen.stderr)
    );

    // Both runs at once: one per core.
    let batched = classify(&export, dir.path(), "batched", 1000);
    let single = classify(&export, dir.path(), "single", 1_000_000);
    finish(batched, "--batch-rows 1000");
    finish(single, "--batch-rows 1000000");

    for file in ["{}.csv", "{}.rejects.csv"] {
        let a = std::fs::read(dir.path().join(file.replace("{}", "batched"))).unwrap();
        let b = std::fs::read(dir.path().join(file.replace("{}", "single"))).unwrap();
        assert!(
            a == b,
            "{} differs between --batch-rows 1000 and 1000000",
            file.replace("{}", "<out>")
        );
    }

    // Every line of the export but the header and the blank lines is a data row.
    let text = std::fs::read_to_string(&export).unwrap();
    let data_rows = text
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .count() as u64;
    let output_rows = records(&dir.path().join("batched.csv"));
    let reject_rows = records(&dir.path().join("batched.rejects.csv"));

    for name in ["batched", "single"] {
        let s = summary(&dir.path().join(format!("{name}.json")));
        let n = |key: &str| s[key].as_u64().unwrap_or_else(|| panic!("{name}: {key}"));
        assert_eq!(n("rows_read"), data_rows, "{name}: rows_read");
        assert_eq!(
            n("rows_read"),
            n("classified") + n("rejected"),
            "{name}: ledger"
        );
        assert_eq!(s["ledger_balanced"], true, "{name}");
        assert_eq!(n("classified"), output_rows, "{name}: output rows");
        assert_eq!(n("rejected"), reject_rows, "{name}: reject rows");
        // The messy export exercises every reject reason of the wide layout...
        for reason in [
            "malformed_line",
            "missing_patient_id",
            "no_analyte_values",
            "implausible_value",
        ] {
            assert!(
                s["rejected_by_reason"][reason].as_u64().unwrap_or(0) > 0,
                "{name}: no {reason} reject"
            );
        }
        // ...and the generator's scenarios reach every classification label.
        for label in LABELS {
            assert!(
                s["classification_counts"][label].as_u64().unwrap_or(0) > 0,
                "{name}: no panel classified {label}"
            );
        }
    }
}
