//! The commands of the binary, as a library function: [`run`] takes parsed arguments, runs
//! the command and returns its [`ExitStatus`], or an [`Error`] that knows its own. The
//! binary only parses, calls [`run`], prints an error with its causes and exits.
//!
//! Command text (explain, rules, diff, ranges, completions, `classify --summary -`) goes to
//! stdout; messages for the user go to the [`Messages`] sink the caller passes.

use std::io::Write;

use thiserror::Error;

use clap::CommandFactory;

use crate::cli::{
    ClassifyArgs, Cli, Command, CompletionsArgs, DiffArgs, ExplainArgs, MergeArgs, RangesAction,
    ReportArgs, RulesArgs, TextFormat,
};
use crate::error::{ConfigError, RunError};
use crate::ingest::Input;
use crate::messages::Messages;
use crate::nightly::ReportError;
use crate::qa::diff::{self, DiffError};
use crate::qa::explain::{self, PanelSelector};
use crate::qa::impact::{self, ImpactError};
use crate::qa::{ranges, rules_cmd};
use crate::report::OutputFormat;
use crate::ruleset::Ruleset;

/// The process exit status of a command (interface contract: scripts and tests rely on it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    /// 0: completed; every input row is in the output or the rejects file.
    Ok = 0,
    /// 1: runtime failure (I/O, unreadable input, files that cannot be compared); nothing
    /// partial left at OUT.
    Failure = 1,
    /// 2: usage or configuration error, detected before any row is processed.
    Config = 2,
    /// 3: completed, `--strict` given, and rows were rejected.
    StrictRejects = 3,
    /// 141: stdout was closed by its reader (`| head`): not every row was delivered. No
    /// message (the reader chose to stop); no output file is left partial.
    ClosedStdout = 141,
}

impl ExitStatus {
    /// The numeric process exit code.
    pub fn code(self) -> u8 {
        self as u8
    }
}

/// Any error of a command, with the exit status it maps to. Each variant displays (and
/// chains causes) exactly as the error it wraps.
#[derive(Debug, Error)]
pub enum Error {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Run(#[from] RunError),
    #[error(transparent)]
    Diff(#[from] DiffError),
    #[error(transparent)]
    Report(#[from] ReportError),
    /// Writing a command's text to stdout failed (other than a closed pipe).
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// The rows read are not all accounted for: an engine defect, never an input problem.
    #[error("the row ledger does not balance (read {read} != classified {classified} + rejected {rejected})")]
    Ledger {
        read: u64,
        classified: u64,
        rejected: u64,
    },
}

impl From<ImpactError> for Error {
    /// The impact error's own cause is reported, as a plain run or diff error.
    fn from(e: ImpactError) -> Error {
        match e {
            ImpactError::Run(e) => Error::Run(e),
            ImpactError::Diff(e) => Error::Diff(e),
        }
    }
}

impl Error {
    /// Writing to stdout failed because its reader closed it.
    pub fn is_closed_stdout(&self) -> bool {
        let pipe = |e: &std::io::Error| e.kind() == std::io::ErrorKind::BrokenPipe;
        match self {
            Error::Io(e) | Error::Run(RunError::Io { source: e, .. }) => pipe(e),
            Error::Run(RunError::Write { path, error }) => path == "<stdout>" && pipe(error),
            _ => false,
        }
    }

    /// The exit status this error ends the process with.
    pub fn exit_status(&self) -> ExitStatus {
        if self.is_closed_stdout() {
            return ExitStatus::ClosedStdout;
        }
        match self {
            Error::Config(_) | Error::Run(RunError::Config(_)) => ExitStatus::Config,
            // An unknown result-file extension is a usage error; files that cannot be
            // compared (missing key columns, duplicated keys) are a runtime failure.
            Error::Diff(DiffError::Usage(_)) | Error::Report(ReportError::Usage(_)) => {
                ExitStatus::Config
            }
            Error::Run(_)
            | Error::Diff(_)
            | Error::Report(_)
            | Error::Io(_)
            | Error::Ledger { .. } => ExitStatus::Failure,
        }
    }
}

/// Runs one command.
pub fn run(cli: Cli, messages: &dyn Messages) -> Result<ExitStatus, Error> {
    match cli.command {
        Command::Classify(args) => classify(&args, messages),
        Command::Explain(args) => explain(&args),
        Command::Rules(args) => rules(&args),
        Command::Diff(args) => diff(&args),
        Command::Report(args) => report(&args),
        Command::Ranges { action } => ranges(action),
        Command::Merge(args) => merge(&args, messages),
        Command::Completions(args) => completions(&args),
    }
}

fn load_ruleset(dir: Option<&std::path::Path>) -> Result<Ruleset, ConfigError> {
    Ok(match dir {
        Some(d) => Ruleset::from_dir(d)?,
        None => Ruleset::embedded()?,
    })
}

/// Writes a command's text to stdout.
fn print(text: &str) -> Result<(), Error> {
    let mut out = std::io::stdout().lock();
    // A closed pipe (`| head`) ends the command with exit 141 and no message.
    Ok(out.write_all(text.as_bytes()).and_then(|_| out.flush())?)
}

fn classify(args: &ClassifyArgs, messages: &dyn Messages) -> Result<ExitStatus, Error> {
    let rs = load_ruleset(args.ruleset.as_deref())?;
    let opts = args.resolve(&rs)?;
    let stdout = Box::new(std::io::stdout());
    let (summary, impact_report) = match &args.compare_ruleset {
        None => (crate::run::classify(&opts, &rs, stdout, messages)?, None),
        Some(old_dir) => {
            let old = Ruleset::from_dir(old_dir).map_err(ConfigError::from)?;
            let impact = impact::classify_and_compare(&opts, &rs, &old, stdout, messages)?;
            let report = impact.to_text();
            (impact.summary, Some(report))
        }
    };
    if !args.quiet {
        messages.report(&summary.to_text());
    }
    if args.summary_to_stdout() {
        let json = serde_json::to_string_pretty(&summary).map_err(std::io::Error::from)?;
        print(&format!("{json}\n"))?;
    }
    // The impact report is what --compare-ruleset asks for: printed even with --quiet.
    if let Some(report) = impact_report {
        messages.report(&format!("\n{report}"));
    }
    if !summary.ledger_balanced {
        return Err(Error::Ledger {
            read: summary.rows_read,
            classified: summary.classified,
            rejected: summary.rejected,
        });
    }
    Ok(if args.strict && summary.rejected > 0 {
        ExitStatus::StrictRejects
    } else {
        ExitStatus::Ok
    })
}

fn merge(args: &MergeArgs, messages: &dyn Messages) -> Result<ExitStatus, Error> {
    // The ruleset the report draws is loaded before anything is written.
    let report = match &args.report {
        Some(path) => Some((path, load_ruleset(args.ruleset.as_deref())?)),
        None => None,
    };
    let merged =
        crate::shard::merge::merge(&args.parts_dir, &args.output, std::env::args().collect())?;
    if let Some((path, rs)) = report {
        let results = crate::shard::merge::part_outputs(&merged, &args.parts_dir)?;
        let summary = args.output.join("summary.json");
        let html = crate::nightly::report_files(&results, &[summary], &rs)?;
        write_html(path, &html)?;
    }
    if !args.quiet {
        messages.report(&format!(
            "merged {} parts\n{}",
            merged.parts.len(),
            merged.summary.to_text()
        ));
    }
    if !merged.summary.ledger_balanced {
        return Err(Error::Ledger {
            read: merged.summary.rows_read,
            classified: merged.summary.classified,
            rejected: merged.summary.rejected,
        });
    }
    Ok(ExitStatus::Ok)
}

fn explain(args: &ExplainArgs) -> Result<ExitStatus, Error> {
    let rs = load_ruleset(args.ruleset.as_deref())?;
    let selector = match (&args.specimen, args.row, args.line) {
        (Some(s), _, _) => PanelSelector::Specimen(s.clone()),
        (None, Some(n), _) => PanelSelector::Row(n),
        (None, None, Some(l)) => PanelSelector::Line(l),
        (None, None, None) => {
            return Err(ConfigError::Usage("give --specimen ID, --row N or --line N".into()).into())
        }
    };
    let ingest = args.ingest(&rs)?;
    let text = explain::explain(
        &Input::parse(&args.input),
        &selector,
        &rs,
        &ingest,
        args.format == TextFormat::Json,
    )?;
    print(&text)?;
    Ok(ExitStatus::Ok)
}

fn rules(args: &RulesArgs) -> Result<ExitStatus, Error> {
    let rs = load_ruleset(args.ruleset.as_deref())?;
    print(&rules_cmd::rules_command(
        &rs,
        args.id.as_deref(),
        args.format == TextFormat::Json,
    )?)?;
    Ok(ExitStatus::Ok)
}

fn diff(args: &DiffArgs) -> Result<ExitStatus, Error> {
    if let Some(out) = &args.output {
        if OutputFormat::from_path(out) != Some(OutputFormat::Csv) {
            return Err(ConfigError::Usage(format!(
                "diff -o {}: the changed panels are written as CSV; name the file .csv",
                out.display()
            ))
            .into());
        }
    }
    let report = diff::compare(&args.old, &args.new)?;
    if let Some(out) = &args.output {
        report.write_changes_csv(out)?;
    }
    print(&match args.format {
        TextFormat::Text => report.to_text(),
        TextFormat::Json => format!("{:#}\n", report.to_json()),
    })?;
    Ok(ExitStatus::Ok)
}

/// `report RESULTS... -o REPORT.html`: the nightly report of result files.
fn report(args: &ReportArgs) -> Result<ExitStatus, Error> {
    let rs = load_ruleset(args.ruleset.as_deref())?;
    let same = |a: &std::path::Path, b: &std::path::Path| {
        std::fs::canonicalize(a).is_ok_and(|a| std::fs::canonicalize(b).is_ok_and(|b| a == b))
    };
    for input in args.results.iter().chain(&args.summary) {
        if !input.is_file() {
            return Err(ConfigError::Usage(format!("{} is not a file", input.display())).into());
        }
        if same(input, &args.output) {
            return Err(ConfigError::Usage(format!(
                "-o {} is an input of this report; refusing to overwrite it",
                args.output.display()
            ))
            .into());
        }
    }
    let html = crate::nightly::report_files(&args.results, &args.summary, &rs)?;
    write_html(&args.output, &html)?;
    Ok(ExitStatus::Ok)
}

/// Writes a report page atomically (nothing partial at `path` on failure).
fn write_html(path: &std::path::Path, html: &str) -> Result<(), Error> {
    let mut outputs = crate::report::atomic::AtomicOutputs::new();
    let mut w = outputs.create(path).map_err(RunError::from)?;
    w.write_all(html.as_bytes())
        .and_then(|_| w.flush())
        .map_err(|source| ReportError::Write {
            path: path.display().to_string(),
            source,
        })?;
    drop(w);
    outputs.commit().map_err(RunError::from)?;
    Ok(())
}

/// `completions SHELL`: the completion script of every subcommand and option, on stdout.
fn completions(args: &CompletionsArgs) -> Result<ExitStatus, Error> {
    let mut command = Cli::command();
    let name = command.get_name().to_string();
    let mut script = Vec::new();
    clap_complete::generate(args.shell.generator(), &mut command, name, &mut script);
    let mut out = std::io::stdout().lock();
    out.write_all(&script).and_then(|_| out.flush())?;
    Ok(ExitStatus::Ok)
}

fn ranges(action: RangesAction) -> Result<ExitStatus, Error> {
    match action {
        RangesAction::Check { dir } => {
            let rs = load_ruleset(dir.as_deref())?;
            print(&format!(
                "ruleset {} ({}) is valid: {} hb rows, {} thresholds, {} guidance entries, checksum {}\n",
                rs.version,
                rs.origin,
                rs.hb_cutoffs.len(),
                rs.threshold_rows.len(),
                rs.guidance.len(),
                rs.checksum
            ))?;
        }
        RangesAction::Show { ruleset } => {
            let rs = load_ruleset(ruleset.as_deref())?;
            print(&ranges::ranges_show(&rs))?;
        }
    }
    Ok(ExitStatus::Ok)
}
