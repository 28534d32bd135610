//! `anemia-engine merge PARTS_DIR -o OUT_DIR`: the summaries of the N parts of a
//! `--partition K/N` run checked against each other, and the run's one summary.
//!
//! A part summary is any `*.json` file directly in PARTS_DIR (`classify --partition K/N
//! --summary PARTS_DIR/part-K.json`). Merge refuses, before writing anything (exit 2):
//! a file that is not a part summary, parts of different sizes of split (N), a missing or
//! duplicated part number, parts made with different rulesets (checksum), engines or
//! schemas, parts that read different inputs, and ledgers that do not add up: each part
//! must balance, every part must have read the same rows, and the rows the parts kept must
//! add up to the rows read, so that every row was classified or rejected exactly once.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{ConfigError, RunError};
use crate::report::summary::{InputSummary, Summary};

/// One part as the merged summary lists it.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct PartRef {
    pub index: u32,
    pub summary: String,
    pub output: Option<String>,
    pub rejects: Option<String>,
    pub classified: u64,
    pub rejected: u64,
}

/// The summary of the whole run: the counts of every part added up (`other_partitions` 0),
/// `started_at` the earliest part's, `elapsed_seconds` the longest part's, and the parts.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct MergedSummary {
    #[serde(flatten)]
    pub summary: Summary,
    pub parts: Vec<PartRef>,
}

/// Reads, checks and merges the part summaries in `parts_dir`; writes
/// `OUT_DIR/summary.json` and returns the merged summary.
pub fn merge(
    parts_dir: &Path,
    out_dir: &Path,
    command_line: Vec<String>,
) -> Result<MergedSummary, RunError> {
    let parts = read_parts(parts_dir)?;
    let merged = merge_parts(&parts, command_line)?;
    write_summary(&merged, out_dir)?;
    Ok(merged)
}

fn refuse(file: &Path, message: String) -> RunError {
    RunError::Config(ConfigError::Input {
        file: file.display().to_string(),
        message,
    })
}

/// Every `*.json` file directly in `dir`, in name order, read as a part summary.
pub fn read_parts(dir: &Path) -> Result<Vec<(PathBuf, Summary)>, RunError> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        RunError::Config(ConfigError::Usage(format!(
            "cannot read the parts directory {}: {e}",
            dir.display()
        )))
    })?;
    let mut files = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(|e| RunError::io(format!("listing {}", dir.display()), e))?
            .path();
        if path.is_file() && path.extension().is_some_and(|x| x == "json") {
            files.push(path);
        }
    }
    files.sort();
    if files.is_empty() {
        return Err(refuse(
            dir,
            "no part summaries (*.json) here; write each part's with classify --partition K/N --summary DIR/part-K.json".into(),
        ));
    }
    let mut parts = Vec::with_capacity(files.len());
    for f in files {
        let text = std::fs::read_to_string(&f)
            .map_err(|e| RunError::io(format!("reading {}", f.display()), e))?;
        let summary: Summary = serde_json::from_str(&text).map_err(|e| {
            refuse(
                &f,
                format!("not a run summary of this engine ({e}); only part summaries belong in the parts directory"),
            )
        })?;
        parts.push((f, summary));
    }
    Ok(parts)
}

/// Checks the parts against each other and adds them up.
pub fn merge_parts(
    parts: &[(PathBuf, Summary)],
    command_line: Vec<String>,
) -> Result<MergedSummary, RunError> {
    let Some((first_path, first)) = parts.first() else {
        return Err(RunError::Config(ConfigError::Usage(
            "no part summaries to merge".into(),
        )));
    };
    let count = check_numbering(parts)?;
    for (path, s) in parts {
        let same = |what: &str, a: &str, b: &str| -> Result<(), RunError> {
            if a == b {
                Ok(())
            } else {
                Err(refuse(
                    path,
                    format!(
                        "made with {what} {b}, but {} with {a}; every part must be classified with the same {what}",
                        first_path.display()
                    ),
                ))
            }
        };
        same(
            "ruleset checksum",
            &first.ruleset.checksum,
            &s.ruleset.checksum,
        )?;
        same(
            "ruleset version",
            &first.ruleset.version,
            &s.ruleset.version,
        )?;
        same("engine version", &first.engine_version, &s.engine_version)?;
        same("schema version", &first.schema_version, &s.schema_version)?;
        let names = |s: &Summary| -> Vec<(String, Option<u64>)> {
            s.inputs
                .iter()
                .map(|i| (i.name.clone(), i.size_bytes))
                .collect()
        };
        if names(s) != names(first) {
            return Err(refuse(
                path,
                format!(
                    "read other inputs than {} (names or sizes differ); every part must read the same inputs",
                    first_path.display()
                ),
            ));
        }
        if !s.ledger_balanced {
            return Err(refuse(
                path,
                "this part's own ledger does not balance".into(),
            ));
        }
    }
    let merged = add_up(parts, count, command_line)?;
    Ok(merged)
}

/// All parts split the same way into N, and 0..N-1 are each there once; returns N.
fn check_numbering(parts: &[(PathBuf, Summary)]) -> Result<u32, RunError> {
    let mut count = None;
    let mut seen: BTreeMap<u32, &Path> = BTreeMap::new();
    for (path, s) in parts {
        let Some(p) = &s.partition else {
            return Err(refuse(
                path,
                "not a part: the run was not made with --partition K/N".into(),
            ));
        };
        match count {
            None => count = Some(p.count),
            Some(n) if n != p.count => {
                return Err(refuse(
                    path,
                    format!(
                        "part {}/{} of a split into {}, but other parts split into {n}",
                        p.index, p.count, p.count
                    ),
                ))
            }
            Some(_) => {}
        }
        if let Some(other) = seen.insert(p.index, path) {
            return Err(refuse(
                path,
                format!(
                    "part {} is given twice (also {}); remove the duplicate",
                    p.index,
                    other.display()
                ),
            ));
        }
    }
    let n = count.unwrap_or(0);
    let missing: Vec<String> = (0..n)
        .filter(|k| !seen.contains_key(k))
        .map(|k| k.to_string())
        .collect();
    if !missing.is_empty() {
        return Err(refuse(
            parts
                .first()
                .map(|(p, _)| p.parent().unwrap_or(p))
                .unwrap_or(Path::new(".")),
            format!(
                "parts {} of {n} are missing; run classify --partition K/{n} for each",
                missing.join(", ")
            ),
        ));
    }
    Ok(n)
}

fn add_map(into: &mut BTreeMap<String, u64>, from: &BTreeMap<String, u64>) {
    for (k, v) in from {
        *into.entry(k.clone()).or_default() += v;
    }
}

/// The run's summary from its checked parts; refuses ledgers that do not add up.
fn add_up(
    parts: &[(PathBuf, Summary)],
    count: u32,
    command_line: Vec<String>,
) -> Result<MergedSummary, RunError> {
    let mut sorted: Vec<&(PathBuf, Summary)> = parts.iter().collect();
    sorted.sort_by_key(|(_, s)| s.partition.as_ref().map_or(0, |p| p.index));
    let first = &sorted[0].1;
    let mut total = Summary::new(&first.engine_version, first.ruleset.clone());
    total.command_line = command_line;
    total.started_at = sorted
        .iter()
        .map(|(_, s)| s.started_at.clone())
        .min()
        .unwrap_or_default();
    total.elapsed_seconds = sorted
        .iter()
        .map(|(_, s)| s.elapsed_seconds)
        .fold(0.0, f64::max);
    total.classification_counts.clear();
    total.flag_counts.clear();
    for (i, input) in first.inputs.iter().enumerate() {
        let mut merged = InputSummary {
            rows_read: input.rows_read,
            classified: 0,
            rejected: 0,
            rows_used: 0,
            not_attached: 0,
            other_partitions: 0,
            ..input.clone()
        };
        for (path, s) in &sorted {
            let p = &s.inputs[i];
            if p.rows_read != input.rows_read {
                return Err(refuse(
                    path,
                    format!(
                        "read {} rows of {}, but part 0 read {}; every part must read the whole input",
                        p.rows_read, input.name, input.rows_read
                    ),
                ));
            }
            merged.classified += p.classified;
            merged.rejected += p.rejected;
            merged.rows_used += p.rows_used;
            merged.not_attached += p.not_attached;
        }
        let kept = merged.rows_used + merged.rejected + merged.not_attached;
        if kept != merged.rows_read {
            return Err(refuse(
                Path::new(&input.name),
                format!(
                    "the parts classified, rejected or left unattached {kept} rows of {} read: rows were {} (a part made with another split, or a changed input?)",
                    merged.rows_read,
                    if kept > merged.rows_read { "counted twice" } else { "lost" }
                ),
            ));
        }
        total.inputs.push(merged);
    }
    let mut refs = Vec::with_capacity(sorted.len());
    for (path, s) in &sorted {
        total.classified += s.classified;
        total.rejected += s.rejected;
        total.rows_used += s.rows_used;
        total.not_attached += s.not_attached;
        add_map(&mut total.rejected_by_reason, &s.rejected_by_reason);
        add_map(
            &mut total.not_attached_by_analyte,
            &s.not_attached_by_analyte,
        );
        add_map(&mut total.classification_counts, &s.classification_counts);
        add_map(&mut total.flag_counts, &s.flag_counts);
        add_map(&mut total.unknown_context_codes, &s.unknown_context_codes);
        refs.push(PartRef {
            index: s.partition.as_ref().map_or(0, |p| p.index),
            summary: path.display().to_string(),
            output: s.output.clone(),
            rejects: s.rejects.clone(),
            classified: s.classified,
            rejected: s.rejected,
        });
    }
    total.rows_read = total.inputs.iter().map(|i| i.rows_read).sum();
    total.close_ledger();
    debug_assert!(refs.len() == count as usize);
    Ok(MergedSummary {
        summary: total,
        parts: refs,
    })
}

/// The result file of every part, in part order: the `output` its summary names, as given
/// (relative to the working directory) or else by its file name in `parts_dir`.
pub fn part_outputs(merged: &MergedSummary, parts_dir: &Path) -> Result<Vec<PathBuf>, RunError> {
    let mut files = Vec::with_capacity(merged.parts.len());
    for part in &merged.parts {
        let Some(output) = &part.output else {
            return Err(refuse(
                Path::new(&part.summary),
                format!("part {} wrote its results to stdout; the report needs each part's result file (-o)", part.index),
            ));
        };
        let given = PathBuf::from(output);
        let beside = given.file_name().map(|n| parts_dir.join(n));
        match (given.is_file(), beside) {
            (true, _) => files.push(given),
            (false, Some(b)) if b.is_file() => files.push(b),
            _ => {
                return Err(refuse(
                    Path::new(&part.summary),
                    format!(
                        "the result file of part {} ({output}) is neither there nor in {}",
                        part.index,
                        parts_dir.display()
                    ),
                ))
            }
        }
    }
    Ok(files)
}

fn write_summary(merged: &MergedSummary, out_dir: &Path) -> Result<(), RunError> {
    std::fs::create_dir_all(out_dir)
        .map_err(|e| RunError::io(format!("creating {}", out_dir.display()), e))?;
    let path = out_dir.join("summary.json");
    let json = serde_json::to_string_pretty(merged)
        .map_err(|e| RunError::io("encoding the summary".to_string(), e.into()))?;
    let mut outputs = crate::report::atomic::AtomicOutputs::new();
    let mut w = outputs.create(&path)?;
    w.write_all(json.as_bytes())
        .and_then(|_| w.write_all(b"\n"))
        .and_then(|_| w.flush())
        .map_err(|e| RunError::Write {
            path: path.display().to_string(),
            error: e,
        })?;
    drop(w);
    outputs.commit()?;
    Ok(())
}
