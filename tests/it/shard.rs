//! Sharded runs (interface "Python package and distributed runs"): `classify --partition
//! K/N` over the same input N times, then `merge`. The union of the parts equals one run,
//! every row is counted in exactly one part, and merge refuses parts that do not belong
//! together (a missing or duplicated part, another ruleset, another split).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::common::{code, engine, ruleset_2026_1_dir, s, stderr};

fn gen_export(dir: &Path, name: &str, rows: u32, layout: &str) -> PathBuf {
    let path = dir.join(name);
    let out = Command::new(env!("CARGO_BIN_EXE_gen-export"))
        .args([
            "--rows",
            &rows.to_string(),
            "--layout",
            layout,
            "-o",
            s(&path),
        ])
        .output()
        .expect("run gen-export");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    path
}

/// A generated wide export with rows the engine rejects appended: one without a
/// patient id (part 0 owns it) and one with an implausible haemoglobin.
fn wide_export(dir: &Path) -> PathBuf {
    let path = gen_export(dir, "export.csv", 3000, "wide");
    let text = std::fs::read_to_string(&path).unwrap();
    let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
    let row = |patient: &str, hb: &str| -> String {
        header
            .iter()
            .map(|c| match *c {
                "patient_id" => patient.to_string(),
                "specimen_id" => format!("X-{patient}"),
                "hb_g_dl" => hb.to_string(),
                _ => String::new(),
            })
            .collect::<Vec<_>>()
            .join(",")
    };
    let extra = format!("{}\n{}\n", row("", "11.0"), row("PX-9", "125"));
    std::fs::write(&path, format!("{text}{extra}")).unwrap();
    path
}

fn summary(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The data lines of a CSV file (header left out), sorted.
fn sorted_lines(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut lines: Vec<String> = text.lines().skip(1).map(str::to_string).collect();
    lines.sort();
    lines
}

/// Runs the N parts into `dir/parts`; returns the parts directory.
fn run_parts(input: &Path, dir: &Path, n: u32, extra: &[&str]) -> PathBuf {
    let parts = dir.join("parts");
    std::fs::create_dir_all(&parts).unwrap();
    for k in 0..n {
        let out = parts.join(format!("part-{k}.csv"));
        let sum = parts.join(format!("part-{k}.json"));
        let rejects = dir.join(format!("part-{k}.rejects.csv"));
        let partition = format!("{k}/{n}");
        let mut args = vec![
            "classify",
            s(input),
            "--partition",
            &partition,
            "-o",
            s(&out),
            "--rejects",
            s(&rejects),
            "--summary",
            s(&sum),
            "-q",
        ];
        args.extend_from_slice(extra);
        let o = engine(&args);
        assert_eq!(code(&o), 0, "part {k}: {}", stderr(&o));
        let part = summary(&sum);
        assert_eq!(part["ledger_balanced"], true, "part {k}");
        assert_eq!(part["partition"]["index"], k);
        assert_eq!(part["partition"]["count"], n);
    }
    parts
}

/// The parts together are the single run: the same result rows and rejects, each once, and
/// merge's summary has the single run's counts.
fn assert_parts_equal_single_run(input: &Path, dir: &Path, n: u32, extra: &[&str]) {
    let single = dir.join("single.csv");
    let single_rejects = dir.join("single.rejects.csv");
    let single_summary = dir.join("single.json");
    let mut args = vec![
        "classify",
        s(input),
        "-o",
        s(&single),
        "--rejects",
        s(&single_rejects),
        "--summary",
        s(&single_summary),
        "-q",
    ];
    args.extend_from_slice(extra);
    let o = engine(&args);
    assert_eq!(code(&o), 0, "{}", stderr(&o));

    let parts = run_parts(input, dir, n, extra);
    let mut results = Vec::new();
    let mut rejects = Vec::new();
    for k in 0..n {
        results.extend(sorted_lines(&parts.join(format!("part-{k}.csv"))));
        rejects.extend(sorted_lines(&dir.join(format!("part-{k}.rejects.csv"))));
    }
    results.sort();
    rejects.sort();
    assert_eq!(results, sorted_lines(&single), "results of the parts");
    assert_eq!(
        rejects,
        sorted_lines(&single_rejects),
        "rejects of the parts"
    );

    let run = dir.join("run");
    let report = dir.join("night.html");
    let o = engine(&["merge", s(&parts), "-o", s(&run), "--report", s(&report)]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let merged = summary(&run.join("summary.json"));
    let one = summary(&single_summary);
    // The run's report shows the merged ledger, not one part's.
    let page = std::fs::read_to_string(&report).unwrap();
    for (id, key) in [
        ("ledger-rows-read", "rows_read"),
        ("ledger-classified", "classified"),
        ("ledger-rejected", "rejected"),
    ] {
        let cell = format!("id=\"{id}\">{}<", one[key]);
        assert!(page.contains(&cell), "{cell} not in the report");
    }
    for key in [
        "rows_read",
        "classified",
        "rejected",
        "rows_used",
        "not_attached",
        "rejected_by_reason",
        "classification_counts",
        "flag_counts",
        "not_attached_by_analyte",
    ] {
        assert_eq!(merged[key], one[key], "{key}");
    }
    assert_eq!(merged["ledger_balanced"], true);
    assert_eq!(merged["other_partitions"], 0);
    assert_eq!(merged["parts"].as_array().unwrap().len(), n as usize);
    // Each part read every row and kept its own share.
    let rows_read = one["rows_read"].as_u64().unwrap();
    let kept: u64 = (0..n)
        .map(|k| {
            let p = summary(&parts.join(format!("part-{k}.json")));
            assert_eq!(p["rows_read"].as_u64().unwrap(), rows_read);
            p["rows_read"].as_u64().unwrap() - p["other_partitions"].as_u64().unwrap()
        })
        .sum();
    assert_eq!(kept, rows_read, "every row kept by exactly one part");
}

#[test]
fn four_wide_parts_are_the_single_run() {
    let dir = tempfile::tempdir().unwrap();
    let input = wide_export(dir.path());
    assert_parts_equal_single_run(&input, dir.path(), 4, &[]);
    // The row without a patient id is part 0's.
    let p0 = std::fs::read_to_string(dir.path().join("part-0.rejects.csv")).unwrap();
    assert!(p0.contains("missing_patient_id"), "{p0}");
}

#[test]
fn long_layout_parts_keep_each_patient_whole() {
    let dir = tempfile::tempdir().unwrap();
    let input = gen_export(dir.path(), "long.csv", 600, "long");
    assert_parts_equal_single_run(&input, dir.path(), 3, &["--layout", "long"]);
}

#[test]
fn merge_refuses_missing_duplicated_and_foreign_parts() {
    let dir = tempfile::tempdir().unwrap();
    let input = gen_export(dir.path(), "export.csv", 400, "wide");
    let parts = run_parts(&input, dir.path(), 4, &[]);
    let run = dir.path().join("run");
    let refused = |what: &str, expect: &str| {
        let o = engine(&["merge", s(&parts), "-o", s(&run)]);
        assert_eq!(code(&o), 2, "{what}: {}", stderr(&o));
        assert!(stderr(&o).contains(expect), "{what}: {}", stderr(&o));
        assert!(
            !run.join("summary.json").exists(),
            "{what}: nothing written"
        );
    };

    // A missing part.
    let p2 = parts.join("part-2.json");
    let kept = dir.path().join("part-2.json.kept");
    std::fs::rename(&p2, &kept).unwrap();
    refused("missing part", "parts 2 of 4 are missing");
    std::fs::rename(&kept, &p2).unwrap();

    // A duplicated part.
    let dup = parts.join("part-1-again.json");
    std::fs::copy(parts.join("part-1.json"), &dup).unwrap();
    refused("duplicated part", "part 1 is given twice");
    std::fs::remove_file(&dup).unwrap();

    // A part made with another ruleset.
    let rs = ruleset_2026_1_dir();
    let o = engine(&[
        "classify",
        s(&input),
        "--partition",
        "3/4",
        "--ruleset",
        &rs,
        "-o",
        s(&dir.path().join("other.csv")),
        "--summary",
        s(&parts.join("part-3.json")),
        "-q",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    refused("another ruleset", "ruleset checksum");

    // A part of another split (3/5 among parts of 4).
    let o = engine(&[
        "classify",
        s(&input),
        "--partition",
        "3/5",
        "-o",
        s(&dir.path().join("other.csv")),
        "--summary",
        s(&parts.join("part-3.json")),
        "-q",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    refused("another split", "split into 5");

    // A part of another input.
    let other_input = gen_export(dir.path(), "other_export.csv", 300, "wide");
    let o = engine(&[
        "classify",
        s(&other_input),
        "--partition",
        "3/4",
        "-o",
        s(&dir.path().join("other.csv")),
        "--summary",
        s(&parts.join("part-3.json")),
        "-q",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    refused("another input", "read other inputs");

    // A summary of an unpartitioned run.
    let o = engine(&[
        "classify",
        s(&input),
        "-o",
        s(&dir.path().join("other.csv")),
        "--summary",
        s(&parts.join("part-3.json")),
        "-q",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    refused("unpartitioned", "not made with --partition");
}

#[test]
fn merge_refuses_a_part_whose_counts_were_changed() {
    let dir = tempfile::tempdir().unwrap();
    let input = gen_export(dir.path(), "export.csv", 400, "wide");
    let parts = run_parts(&input, dir.path(), 2, &[]);
    // A part that claims one more classified row than it read from the shared input: its
    // own ledger balances, but the parts no longer add up.
    let p = parts.join("part-1.json");
    let mut v = summary(&p);
    let bump = |obj: &mut Value| {
        for key in ["rows_read", "classified", "rows_used"] {
            obj[key] = Value::from(obj[key].as_u64().unwrap() + 1);
        }
    };
    bump(&mut v);
    bump(&mut v["inputs"][0]);
    std::fs::write(&p, serde_json::to_string(&v).unwrap()).unwrap();
    let run = dir.path().join("run");
    let o = engine(&["merge", s(&parts), "-o", s(&run)]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("every part must read the whole input"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn bad_partition_values_are_usage_errors() {
    let input = crate::common::fixture("cases.csv");
    for bad in ["4/4", "1", "x/2", "0/0"] {
        let o = engine(&["classify", s(&input), "--partition", bad, "-q"]);
        assert_eq!(code(&o), 2, "{bad}: {}", stderr(&o));
        assert!(stderr(&o).contains("K/N"), "{bad}: {}", stderr(&o));
    }
}
