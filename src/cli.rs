//! Command-line interface: clap types, and their resolution into validated options before
//! any row is read.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::error::ConfigError;
use crate::ingest::{self, IngestOptions, Input, Mapping};
use crate::report::OutputFormat;
use crate::ruleset::Ruleset;
use crate::run::{ClassifyOptions, Progress, DEFAULT_BATCH_ROWS};

/// Examples of the top-level help.
const MAIN_EXAMPLES: &str = "\
Examples:
  anemia-engine classify examples/lab_export.csv -o results.csv --summary summary.json
  anemia-engine explain examples/lab_export.csv --row 3
  anemia-engine diff old/results.csv new/results.parquet --format json
  anemia-engine completions bash > ~/.local/share/bash-completion/completions/anemia-engine

Run `anemia-engine COMMAND --help` for the options and examples of each command.";

const CLASSIFY_EXAMPLES: &str = "\
Examples:
  anemia-engine classify examples/lab_export.csv -o results.csv --summary summary.json
  anemia-engine classify exports/ -o results.parquet --rejects rejects.csv --strict
  anemia-engine classify export.csv -o results.parquet --summary s.json --report night.html
  anemia-engine classify export.csv.gz --mapping lab.toml -o results.ndjson
  anemia-engine classify lis_export.csv --layout long --panel-window-days 3 -o results.csv
  anemia-engine classify Observation.ndjson Patient.ndjson -o results.csv
  anemia-engine classify oru_results.hl7 --mapping lab.toml -o results.csv
  anemia-engine classify export_semicolon.csv --decimal comma -o results.csv
  zcat export.csv.gz | anemia-engine classify - -o results.csv --summary - | jq .rejected
  anemia-engine classify export.csv --ruleset reference-ranges/2026.2 \\
      --compare-ruleset reference-ranges/2026.1 -o results.csv";

const EXPLAIN_EXAMPLES: &str = "\
Examples:
  anemia-engine explain examples/lab_export.csv --row 3
  anemia-engine explain export.csv --specimen S-1042 --format json
  anemia-engine explain lis_export.csv --layout long --specimen S-7 --mapping lab.toml";

const RULES_EXAMPLES: &str = "\
Examples:
  anemia-engine rules
  anemia-engine rules IRON-003
  anemia-engine rules NSAID_CAUTION --format json
  anemia-engine rules back_pain.nsaid_caution --ruleset reference-ranges/2026.1";

const RANGES_EXAMPLES: &str = "\
Examples:
  anemia-engine ranges check
  anemia-engine ranges check reference-ranges/2026.2
  anemia-engine ranges show --ruleset reference-ranges/2026.1";

const RANGES_CHECK_EXAMPLES: &str = "\
Examples:
  anemia-engine ranges check
  anemia-engine ranges check /srv/lab/ruleset";

const RANGES_SHOW_EXAMPLES: &str = "\
Examples:
  anemia-engine ranges show
  anemia-engine ranges show --ruleset reference-ranges/2026.1";

const DIFF_EXAMPLES: &str = "\
Examples:
  anemia-engine diff old/results.csv new/results.csv
  anemia-engine diff old/results.csv new/results.parquet -o changes.csv
  anemia-engine diff old/results.ndjson new/results.ndjson --format json | jq .counts";

const MERGE_EXAMPLES: &str = "\
Examples:
  anemia-engine merge parts -o run/
      parts/ holds part-0.json ... part-3.json, one per part, each written by
      anemia-engine classify export.csv --partition K/4 \\
          -o parts/part-K.parquet --summary parts/part-K.json
  anemia-engine merge /shared/rerun-2026/parts -o /shared/rerun-2026 --quiet
  anemia-engine merge parts -o run/ --report run/report.html";

const REPORT_EXAMPLES: &str = "\
Examples:
  anemia-engine report results.parquet -o night.html
  anemia-engine report nights/*.csv -o week.html
  anemia-engine report results.csv --summary summary.json -o night.html";

const COMPLETIONS_EXAMPLES: &str = "\
Examples:
  anemia-engine completions bash > ~/.local/share/bash-completion/completions/anemia-engine
  anemia-engine completions zsh > ~/.zfunc/_anemia-engine
  anemia-engine completions fish > ~/.config/fish/completions/anemia-engine.fish
  anemia-engine completions powershell >> $PROFILE";

#[derive(Debug, Parser)]
#[command(
    name = "anemia-engine",
    version,
    about = "Classify anemia in laboratory exports with a versioned, cited ruleset",
    after_help = MAIN_EXAMPLES
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Classify one or more exports.
    #[command(after_help = CLASSIFY_EXAMPLES)]
    Classify(ClassifyArgs),
    /// Trace the rules for one panel of an export.
    #[command(after_help = EXPLAIN_EXAMPLES)]
    Explain(ExplainArgs),
    /// List every rule, flag and guidance entry with its sources, or print one in full.
    #[command(after_help = RULES_EXAMPLES)]
    Rules(RulesArgs),
    /// Validate or print a ruleset.
    #[command(after_help = RANGES_EXAMPLES)]
    Ranges {
        #[command(subcommand)]
        action: RangesAction,
    },
    /// Compare two result files panel by panel (CSV, Parquet or NDJSON, any mix).
    #[command(after_help = DIFF_EXAMPLES)]
    Diff(DiffArgs),
    /// Check the part summaries of a `--partition K/N` run and write the run's summary.
    #[command(after_help = MERGE_EXAMPLES)]
    Merge(MergeArgs),

    /// Write the nightly HTML report of one or more result files (several nights give the
    /// daily charts).
    #[command(after_help = REPORT_EXAMPLES)]
    Report(ReportArgs),
    /// Print a shell completion script on stdout.
    #[command(after_help = COMPLETIONS_EXAMPLES)]
    Completions(CompletionsArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Layout {
    /// By content: FHIR or HL7 v2 by the first bytes; long when the header has `test_code`
    /// and `value`, else wide.
    Auto,
    /// One row per specimen or panel.
    Wide,
    /// One row per result, as LIS systems export.
    Long,
    /// FHIR R4 NDJSON: Observation (and Patient) resources, or a Bundle per line.
    Fhir,
    /// HL7 v2 ORU^R01 messages (plain segments or MLLP framing).
    Hl7,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EvidenceArg {
    Full,
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TextFormat {
    /// Human-readable text.
    Text,
    /// One JSON document.
    Json,
}

/// The shells `completions` writes a script for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CompletionShell {
    Bash,
    Zsh,
    Fish,
    Powershell,
}

impl CompletionShell {
    /// The `clap_complete` generator of this shell.
    pub fn generator(self) -> clap_complete::Shell {
        match self {
            CompletionShell::Bash => clap_complete::Shell::Bash,
            CompletionShell::Zsh => clap_complete::Shell::Zsh,
            CompletionShell::Fish => clap_complete::Shell::Fish,
            CompletionShell::Powershell => clap_complete::Shell::PowerShell,
        }
    }
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The directory holding every part's summary (`*.json`, written by classify
    /// --partition K/N --summary).
    pub parts_dir: PathBuf,
    /// Directory for the run's summary (`summary.json`); created when missing.
    #[arg(short = 'o', long = "output", value_name = "OUT_DIR")]
    pub output: PathBuf,
    /// Also write the run's nightly report (HTML) from the parts' result files (the
    /// `output` each part summary names, found as given or in PARTS_DIR) and the merged
    /// ledger.
    #[arg(long, value_name = "PATH.html")]
    pub report: Option<PathBuf>,
    /// The ruleset whose cutoffs the report draws (default: the embedded one).
    #[arg(long)]
    pub ruleset: Option<PathBuf>,
    /// No summary on stderr.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete in.
    #[arg(value_enum)]
    pub shell: CompletionShell,
}

#[derive(Debug, Args)]
pub struct ClassifyArgs {
    /// Input files (`.csv`, `.tsv`, `.txt`, `.gz`), or `-` for stdin.
    #[arg(required = true)]
    pub inputs: Vec<String>,
    /// Output file; the format follows the extension (.csv, .tsv, .parquet, .ndjson/.jsonl,
    /// .arrow/.ipc). Without it, or with `-`: stdout, in --format (default CSV).
    #[arg(short = 'o', long = "output", value_name = "OUT")]
    pub output: Option<PathBuf>,
    /// Output format (overrides the extension).
    #[arg(long, value_enum)]
    pub format: Option<OutputFormat>,
    /// Rejects file (default: `<OUT stem>.rejects.csv`; on stderr when writing to stdout).
    #[arg(long)]
    pub rejects: Option<PathBuf>,
    /// Write the run summary as JSON to this path, or to stdout with `-` (the result rows
    /// then need a file: -o OUT).
    #[arg(long, value_name = "PATH")]
    pub summary: Option<PathBuf>,
    /// Also write the nightly HTML report of this run (self-contained, de-identified).
    #[arg(long, value_name = "PATH.html")]
    pub report: Option<PathBuf>,
    /// Use this ruleset directory instead of the embedded one.
    #[arg(long)]
    pub ruleset: Option<PathBuf>,
    /// Also classify with this (older) ruleset directory and print on stderr what the
    /// ruleset change does to these inputs (OLD = this directory, NEW = --ruleset or the
    /// embedded ruleset). The output is the NEW run's.
    #[arg(long, value_name = "OLD_DIR")]
    pub compare_ruleset: Option<PathBuf>,
    /// Input layout.
    #[arg(long, value_enum, default_value_t = Layout::Auto)]
    pub layout: Layout,
    /// Mapping of local headers or test codes (TOML).
    #[arg(long)]
    pub mapping: Option<PathBuf>,
    /// Days around a haemoglobin result within which other results join its panel (long layout).
    #[arg(long, default_value_t = 7)]
    pub panel_window_days: u32,
    /// Decimal mark of the export: `auto` reads `.` in a comma-delimited file and otherwise
    /// never guesses a value that could be read two ways (`1,234`: flag AMBIGUOUS_NUMBER).
    #[arg(long, value_enum, default_value_t = DecimalArg::Auto)]
    pub decimal: DecimalArg,
    /// Text encoding of delimited exports: `utf-8` (strict; a row with invalid bytes is
    /// rejected as invalid_encoding), `windows-1252`, `latin-1`, or another single-byte
    /// WHATWG encoding label.
    #[arg(long, default_value = "utf-8", value_parser = parse_encoding)]
    pub encoding: ingest::TextEncoding,
    /// Exit with code 3 when any row was rejected.
    #[arg(long)]
    pub strict: bool,
    /// No progress and no summary on stderr.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Periodic progress lines on stderr even when it is not a terminal.
    #[arg(long)]
    pub progress: bool,
    /// Add the full guidance texts (column guidance_text; always present in NDJSON).
    #[arg(long)]
    pub guidance_text: bool,
    /// `full`: an evidence column with one line per rule that fired; `none`: no evidence
    /// column (bulk analytics).
    #[arg(long, value_enum, default_value_t = EvidenceArg::Full)]
    pub evidence: EvidenceArg,
    /// Classify only the patients of part K of N (0-based): FNV-1a 64 of patient_id mod N,
    /// rows without a patient_id in part 0. N runs with K = 0..N-1 cover the inputs exactly
    /// once; `anemia-engine merge` checks the parts' summaries.
    #[arg(long, value_name = "K/N")]
    pub partition: Option<crate::shard::Partition>,
    /// Rows per processing batch (memory bound; output does not depend on it).
    #[arg(long, default_value_t = DEFAULT_BATCH_ROWS, hide = true)]
    pub batch_rows: usize,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The export holding the panel.
    pub input: String,
    /// Specimen id of the panel.
    #[arg(long, conflicts_with_all = ["row", "line"], required_unless_present_any = ["row", "line"])]
    pub specimen: Option<String>,
    /// 1-based data row number of the panel (wide layout; a rejected row is explained too).
    #[arg(long, conflicts_with = "line")]
    pub row: Option<u64>,
    /// Physical line of the panel, as the rejects file and `source_line` give it (wide: the
    /// row's line; long: the line of the panel's haemoglobin result; Parquet: the row number).
    #[arg(long)]
    pub line: Option<u64>,
    /// Output format of the trace.
    #[arg(long, value_enum, default_value_t = TextFormat::Text)]
    pub format: TextFormat,
    /// Use this ruleset directory instead of the embedded one.
    #[arg(long)]
    pub ruleset: Option<PathBuf>,
    /// Input layout, as for classify.
    #[arg(long, value_enum, default_value_t = Layout::Auto)]
    pub layout: Layout,
    /// Mapping of local headers or test codes (TOML), as for classify.
    #[arg(long)]
    pub mapping: Option<PathBuf>,
    /// Panel window of the long layout, as for classify.
    #[arg(long, default_value_t = 7)]
    pub panel_window_days: u32,
    /// Decimal mark of the export, as for classify.
    #[arg(long, value_enum, default_value_t = DecimalArg::Auto)]
    pub decimal: DecimalArg,
    /// Text encoding of the export, as for classify.
    #[arg(long, default_value = "utf-8", value_parser = parse_encoding)]
    pub encoding: ingest::TextEncoding,
}

/// `--encoding NAME`.
fn parse_encoding(label: &str) -> Result<ingest::TextEncoding, String> {
    ingest::TextEncoding::from_label(label)
}

/// `--decimal`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DecimalArg {
    /// `.` in a comma-delimited file; otherwise an ambiguous value is flagged, never guessed.
    Auto,
    /// `.` is the decimal mark (`,` separates thousands).
    Point,
    /// `,` is the decimal mark (`.` separates thousands).
    Comma,
}

impl ExplainArgs {
    /// The reading options, resolved as classify resolves them (exit 2 on a bad mapping).
    pub fn ingest(&self, rs: &Ruleset) -> Result<IngestOptions, ConfigError> {
        ingest_options(
            self.layout,
            self.mapping.as_deref(),
            self.panel_window_days,
            self.decimal,
            self.encoding,
            rs,
        )
    }
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The earlier result file (.csv, .parquet, .ndjson or .jsonl).
    pub old: PathBuf,
    /// The later result file.
    pub new: PathBuf,
    /// Write the changed panels as CSV (patient_id, specimen_id, old/new classification,
    /// flags gained/lost, changed_columns, old/new evidence).
    #[arg(short = 'o', long = "output", value_name = "CHANGES.csv")]
    pub output: Option<PathBuf>,
    /// Report format on stdout: `text` for people, `json` for scripts (counts, tables and
    /// every changed panel).
    #[arg(long, value_enum, default_value_t = TextFormat::Text)]
    pub format: TextFormat,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Result files of classify (.csv, .tsv, .parquet, .ndjson/.jsonl, .arrow/.ipc).
    #[arg(required = true, value_name = "RESULTS")]
    pub results: Vec<PathBuf>,
    /// The report to write (HTML).
    #[arg(
        short = 'o',
        long = "output",
        value_name = "REPORT.html",
        required = true
    )]
    pub output: PathBuf,
    /// Run summaries (classify --summary) for the ledger; default: `<stem>.summary.json` next
    /// to each result file, else the ledger is derived from the rows and `<stem>.rejects.csv`.
    #[arg(long, value_name = "SUMMARY.json")]
    pub summary: Vec<PathBuf>,
    /// The ruleset whose cutoffs are drawn (default: the embedded one).
    #[arg(long)]
    pub ruleset: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RulesArgs {
    /// A rule id (IRON-003), flag code (NSAID_CAUTION) or guidance id (back_pain.nsaid).
    pub id: Option<String>,
    /// Output format of the listing.
    #[arg(long, value_enum, default_value_t = TextFormat::Text)]
    pub format: TextFormat,
    /// Use this ruleset directory instead of the embedded one.
    #[arg(long)]
    pub ruleset: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum RangesAction {
    /// Validate a ruleset directory (default: the embedded ruleset) and report every problem.
    #[command(after_help = RANGES_CHECK_EXAMPLES)]
    Check {
        /// The ruleset directory to validate (default: the embedded ruleset).
        dir: Option<PathBuf>,
    },
    /// Print the tables of the ruleset in use.
    #[command(after_help = RANGES_SHOW_EXAMPLES)]
    Show {
        /// Print this ruleset directory instead of the embedded one.
        #[arg(long)]
        ruleset: Option<PathBuf>,
    },
}

/// `-` as an output path: stdout.
fn is_stdout(path: &std::path::Path) -> bool {
    path.as_os_str() == "-"
}

impl ClassifyArgs {
    /// The result rows' file; None for stdout (no `-o`, or `-o -`).
    pub fn output_file(&self) -> Option<&std::path::Path> {
        self.output.as_deref().filter(|p| !is_stdout(p))
    }

    /// `--summary -`: the JSON summary goes to stdout (written by the caller after the run).
    pub fn summary_to_stdout(&self) -> bool {
        self.summary.as_deref().is_some_and(is_stdout)
    }

    /// Resolves flags into validated options (exit 2 on any problem).
    pub fn resolve(&self, rs: &Ruleset) -> Result<ClassifyOptions, ConfigError> {
        if self.summary_to_stdout() && self.output_file().is_none() {
            return Err(ConfigError::Usage(
                "--summary - writes the summary to stdout, where the result rows already go \
                 (no -o, or -o -); write the rows to a file with -o OUT, or the summary to a \
                 file with --summary PATH"
                    .into(),
            ));
        }
        let output = self.output_file().map(std::path::Path::to_path_buf);
        let ingest = ingest_options(
            self.layout,
            self.mapping.as_deref(),
            self.panel_window_days,
            self.decimal,
            self.encoding,
            rs,
        )?;
        let format = match (self.format, &output) {
            (Some(f), _) => f,
            (None, None) => OutputFormat::Csv,
            (None, Some(path)) => OutputFormat::from_path(path).ok_or_else(|| {
                ConfigError::Usage(format!(
                    "cannot tell the output format from {}; use .csv, .tsv, .parquet, .ndjson, .jsonl, .arrow or .ipc, or give --format",
                    path.display()
                ))
            })?,
        };
        let mut own: Vec<PathBuf> = output.iter().cloned().collect();
        own.extend(self.rejects.iter().cloned());
        own.extend(self.summary.iter().cloned());
        own.extend(self.report.iter().cloned());
        if let Some(out) = &output {
            let stem = out
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            own.push(out.with_file_name(format!("{stem}.rejects.csv")));
        }
        let inputs = expand_inputs(&self.inputs, &own)?;
        if self.compare_ruleset.is_some() {
            crate::qa::impact::check_inputs(&inputs)?;
        }
        Ok(ClassifyOptions {
            inputs,
            output,
            format,
            rejects: self.rejects.clone(),
            summary: self.summary.clone().filter(|p| !is_stdout(p)),
            report: self.report.clone(),
            guidance_text: self.guidance_text,
            evidence: self.evidence == EvidenceArg::Full,
            command_line: std::env::args().collect(),
            batch_rows: self.batch_rows.max(1),
            ingest,
            partition: self.partition,
            progress: if self.quiet {
                Progress::Quiet
            } else if self.progress {
                Progress::Lines
            } else {
                Progress::Auto
            },
        })
    }
}

/// Reading options shared by classify and explain.
fn ingest_options(
    layout: Layout,
    mapping: Option<&std::path::Path>,
    panel_window_days: u32,
    decimal: DecimalArg,
    encoding: ingest::TextEncoding,
    rs: &Ruleset,
) -> Result<IngestOptions, ConfigError> {
    Ok(IngestOptions {
        layout: match layout {
            Layout::Auto => ingest::Layout::Auto,
            Layout::Wide => ingest::Layout::Wide,
            Layout::Long => ingest::Layout::Long,
            Layout::Fhir => ingest::Layout::Fhir,
            Layout::Hl7 => ingest::Layout::Hl7,
        },
        mapping: match mapping {
            Some(path) => Some(Mapping::load(path, rs)?),
            None => None,
        },
        panel_window_days: f64::from(panel_window_days),
        decimal: match decimal {
            DecimalArg::Auto => ingest::Decimal::Auto,
            DecimalArg::Point => ingest::Decimal::Point,
            DecimalArg::Comma => ingest::Decimal::Comma,
        },
        encoding,
        ..IngestOptions::default()
    })
}

/// Expands directories into their export files (sorted), checks files exist.
/// File names a directory walk picks up as exports.
const EXPORT_SUFFIXES: [&str; 12] = [
    ".csv", ".tsv", ".txt", ".csv.gz", ".tsv.gz", ".txt.gz", ".parquet", ".arrow", ".ipc",
    ".feather", ".hl7", ".hl7.gz",
];

/// Files first, then directories walked recursively (hive-style `key=value/` folders
/// included) in name order, keeping the files whose names look like exports. Paths in
/// `own` (the run's outputs) are never picked up by a walk.
fn expand_inputs(args: &[String], own: &[PathBuf]) -> Result<Vec<Input>, ConfigError> {
    let own: Vec<PathBuf> = own
        .iter()
        .filter_map(|p| std::fs::canonicalize(p).ok())
        .collect();
    let mut inputs = Vec::new();
    for a in args {
        let input = Input::parse(a);
        match &input {
            Input::Stdin => inputs.push(input),
            Input::File(p) if p.is_dir() => {
                let mut files = Vec::new();
                walk(p, &mut files)?;
                files.retain(|f| {
                    let n = f.to_string_lossy().to_ascii_lowercase();
                    // An NDJSON file is a FHIR export only by its content (result files of
                    // earlier runs are NDJSON too).
                    let fhir = (n.ends_with(".ndjson") || n.ends_with(".ndjson.gz"))
                        && ingest::is_fhir_file(f);
                    let export = (EXPORT_SUFFIXES.iter().any(|ext| n.ends_with(ext)) || fhir)
                        && !n.ends_with(".rejects.csv");
                    export && !std::fs::canonicalize(f).is_ok_and(|c| own.contains(&c))
                });
                if files.is_empty() {
                    return Err(ConfigError::Usage(format!(
                        "directory {} holds no exports (.csv, .tsv, .txt, .hl7, optionally .gz; .parquet, .arrow, .ipc; FHIR .ndjson)",
                        p.display()
                    )));
                }
                inputs.extend(files.into_iter().map(Input::File));
            }
            Input::File(p) if !p.exists() => {
                return Err(ConfigError::Usage(format!(
                    "input {} does not exist",
                    p.display()
                )));
            }
            Input::File(_) => inputs.push(input),
        }
    }
    Ok(inputs)
}

/// Every file below `dir`, in name order (each directory's entries sorted, depth first).
fn walk(dir: &std::path::Path, out: &mut Vec<PathBuf>) -> Result<(), ConfigError> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| ConfigError::Usage(format!("cannot list {}: {e}", dir.display())))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            walk(&path, out)?;
        } else if path.is_file() {
            out.push(path);
        }
    }
    Ok(())
}
