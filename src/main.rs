//! anemia-engine binary: parse arguments, run, map the result to a documented exit code.

use std::io::Write;
use std::process::ExitCode;

use anemia_engine::cli::{Cli, Command, RangesAction, TextFormat};
use anemia_engine::error::{ConfigError, RunError};
use anemia_engine::ingest::Input;
use anemia_engine::messages::Messages;
use anemia_engine::qa::diff::{self, DiffError};
use anemia_engine::qa::explain::{self, PanelSelector};
use anemia_engine::qa::impact::{self, ImpactError};
use anemia_engine::qa::{ranges, rules_cmd};
use anemia_engine::report::OutputFormat;
use anemia_engine::ruleset::Ruleset;
use anemia_engine::run;
use clap::Parser;

/// The engine allocates many short strings per row (evidence, rendered cells); mimalloc
/// handles that pattern markedly faster than the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Exit codes (interface contract).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Exit {
    /// Completed; every input row is in the output or the rejects file.
    Ok = 0,
    /// Runtime failure (I/O, unreadable input); nothing partial left at OUT.
    Failure = 1,
    /// Usage or configuration error, detected before any row is processed.
    Config = 2,
    /// Completed, `--strict` given, and rows were rejected.
    StrictRejects = 3,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let code = match run(cli) {
        Ok(code) => code,
        Err(err) => {
            let code = match err.downcast_ref::<RunError>() {
                Some(RunError::Config(_)) => Exit::Config,
                Some(_) => Exit::Failure,
                None if err.downcast_ref::<ConfigError>().is_some() => Exit::Config,
                // An unknown result-file extension is a usage error; files that cannot be
                // compared (missing key columns, duplicated keys) are a runtime failure.
                None if matches!(err.downcast_ref::<DiffError>(), Some(DiffError::Usage(_))) => {
                    Exit::Config
                }
                None => Exit::Failure,
            };
            eprintln!("error: {err}");
            for cause in err.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            code
        }
    };
    ExitCode::from(code as u8)
}

/// The library's messages, on stderr.
struct Stderr;

impl Messages for Stderr {
    fn warn(&self, line: &str) {
        eprintln!("{line}");
    }
    fn info(&self, line: &str) {
        eprintln!("{line}");
    }
    fn report(&self, text: &str) {
        eprint!("{text}");
    }
}

fn load_ruleset(dir: Option<&std::path::Path>) -> Result<Ruleset, ConfigError> {
    Ok(match dir {
        Some(d) => Ruleset::from_dir(d)?,
        None => Ruleset::embedded()?,
    })
}

fn print(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        // A closed pipe (`| head`) is not a failure.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

fn run(cli: Cli) -> anyhow::Result<Exit> {
    match cli.command {
        Command::Classify(args) => {
            let rs = load_ruleset(args.ruleset.as_deref())?;
            let opts = args.resolve(&rs)?;
            let (summary, impact_report) = match &args.compare_ruleset {
                None => (
                    run::classify(&opts, &rs, Box::new(std::io::stdout()), &Stderr)?,
                    None,
                ),
                Some(old_dir) => {
                    let old = Ruleset::from_dir(old_dir).map_err(ConfigError::from)?;
                    let impact = impact::classify_and_compare(
                        &opts,
                        &rs,
                        &old,
                        Box::new(std::io::stdout()),
                        &Stderr,
                    )
                    .map_err(|e| match e {
                        ImpactError::Run(e) => anyhow::Error::from(e),
                        ImpactError::Diff(e) => anyhow::Error::from(e),
                    })?;
                    let report = impact.to_text();
                    (impact.summary, Some(report))
                }
            };
            if !args.quiet {
                eprint!("{}", summary.to_text());
            }
            // The impact report is what --compare-ruleset asks for: printed even with --quiet.
            if let Some(report) = impact_report {
                eprint!("\n{report}");
            }
            if !summary.ledger_balanced {
                anyhow::bail!(
                    "the row ledger does not balance (read {} != classified {} + rejected {})",
                    summary.rows_read,
                    summary.classified,
                    summary.rejected
                );
            }
            Ok(if args.strict && summary.rejected > 0 {
                Exit::StrictRejects
            } else {
                Exit::Ok
            })
        }
        Command::Explain(args) => {
            let rs = load_ruleset(args.ruleset.as_deref())?;
            let selector = match (&args.specimen, args.row) {
                (Some(s), _) => PanelSelector::Specimen(s.clone()),
                (None, Some(n)) => PanelSelector::Row(n),
                (None, None) => {
                    return Err(ConfigError::Usage("give --specimen ID or --row N".into()).into())
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
            Ok(Exit::Ok)
        }
        Command::Rules(args) => {
            let rs = load_ruleset(args.ruleset.as_deref())?;
            print(&rules_cmd::rules_command(
                &rs,
                args.id.as_deref(),
                args.format == TextFormat::Json,
            )?)?;
            Ok(Exit::Ok)
        }
        Command::Diff(args) => {
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
            print(&report.to_text())?;
            Ok(Exit::Ok)
        }
        Command::Ranges { action } => match action {
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
                Ok(Exit::Ok)
            }
            RangesAction::Show { ruleset } => {
                let rs = load_ruleset(ruleset.as_deref())?;
                print(&ranges::ranges_show(&rs))?;
                Ok(Exit::Ok)
            }
        },
    }
}
