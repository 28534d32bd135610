//! Ruleset-change impact (`classify --ruleset NEW_DIR --compare-ruleset OLD_DIR`): the same
//! inputs classified with both rulesets, and the two results compared panel by panel with
//! [`crate::qa::diff`], before a local change is deployed.
//!
//! The NEW run is the real run: its output, rejects and summary go where the options say.
//! The OLD run writes into a temporary directory that is removed afterwards. When the NEW
//! output goes to stdout, a copy is kept in the temporary directory for the comparison.

use std::io::Write;

use thiserror::Error;

use crate::error::{ConfigError, RunError};
use crate::ingest::Input;
use crate::messages::Messages;
use crate::qa::diff::{self, DiffError, DiffReport};
use crate::report::summary::Summary;
use crate::report::OutputFormat;
use crate::ruleset::{Ruleset, RulesetOrigin};
use crate::run::{self, ClassifyOptions, Progress};

#[derive(Debug, Error)]
pub enum ImpactError {
    #[error(transparent)]
    Run(#[from] RunError),
    #[error("comparing the results of the two rulesets: {0}")]
    Diff(#[from] DiffError),
}

/// The outcome of a classify run with `--compare-ruleset`.
pub struct Impact {
    /// Summary of the NEW run (the real one).
    pub summary: Summary,
    pub report: DiffReport,
    pub identical_rulesets: bool,
}

impl Impact {
    /// The report, OLD ruleset -> NEW ruleset.
    pub fn to_text(&self) -> String {
        let mut s = String::from(
            "Ruleset impact: the same inputs classified with the OLD and the NEW ruleset\n",
        );
        if self.identical_rulesets {
            s.push_str("The two rulesets have the same checksum: their files are identical, so no panel can change.\n");
        }
        s.push_str(&self.report.to_text());
        s
    }
}

fn describe(rs: &Ruleset) -> String {
    match &rs.origin {
        RulesetOrigin::Embedded => format!("ruleset {} (embedded)", rs.version),
        RulesetOrigin::Directory(d) => format!("ruleset {} from {d}", rs.version),
    }
}

/// Writes to two sinks: the caller's stdout and a copy for the comparison.
struct Tee {
    first: Box<dyn Write + Send>,
    second: std::fs::File,
}

impl Write for Tee {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.first.write_all(buf)?;
        self.second.write_all(buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.first.flush()?;
        self.second.flush()
    }
}

/// Checks that the inputs can be read twice (stdin cannot).
pub fn check_inputs(inputs: &[Input]) -> Result<(), ConfigError> {
    if inputs.contains(&Input::Stdin) {
        return Err(ConfigError::Usage(
            "--compare-ruleset reads the inputs twice, once per ruleset; give files, not `-` (stdin)"
                .into(),
        ));
    }
    Ok(())
}

/// Classifies with `new` as a normal run (output, rejects and summary as in `opts`), then
/// with `old` into a temporary directory, and compares the two results.
pub fn classify_and_compare(
    opts: &ClassifyOptions,
    new: &Ruleset,
    old: &Ruleset,
    stdout: Box<dyn Write + Send>,
    messages: &dyn Messages,
) -> Result<Impact, ImpactError> {
    check_inputs(&opts.inputs).map_err(RunError::from)?;
    let scratch = tempfile::Builder::new()
        .prefix("anemia-engine-impact.")
        .tempdir()
        .map_err(|e| RunError::io("cannot create a temporary directory", e))?;

    let (summary, new_path) = match &opts.output {
        Some(path) => (run::classify(opts, new, stdout, messages)?, path.clone()),
        None => {
            let copy_path = scratch.path().join("new.csv");
            let copy = std::fs::File::create(&copy_path)
                .map_err(|e| RunError::io(format!("cannot create {}", copy_path.display()), e))?;
            let tee = Tee {
                first: stdout,
                second: copy,
            };
            (
                run::classify(opts, new, Box::new(tee), messages)?,
                copy_path,
            )
        }
    };

    let old_path = scratch.path().join("old.csv");
    // Same inputs and reading options; output, rejects and summary stay in the scratch dir.
    let old_opts = ClassifyOptions {
        output: Some(old_path.clone()),
        format: OutputFormat::Csv,
        rejects: Some(scratch.path().join("old.rejects.csv")),
        summary: None,
        report: None,
        guidance_text: false,
        progress: Progress::Quiet,
        ..opts.clone()
    };
    run::classify(&old_opts, old, Box::new(std::io::sink()), messages)?;

    // Panels rejected by one ruleset only (its plausibility or unit tables changed) are
    // reported as only in OLD/NEW, even when no panel is in both.
    let mut report = diff::compare_runs(&old_path, &new_path, false)?;
    report.old.name = describe(old);
    report.old.ruleset_checksums = vec![old.checksum.clone()];
    report.new.name = describe(new);
    report.new.ruleset_checksums = vec![new.checksum.clone()];
    Ok(Impact {
        summary,
        report,
        identical_rulesets: old.checksum == new.checksum,
    })
}
