//! The nightly report: one self-contained HTML page about a run (`classify --report`) or
//! about result files (`anemia-engine report`), for the analyst who comes in after the
//! night's run.
//!
//! - [`collect`]: the side table a run or a file reader fills (counts and bounded samples);
//! - [`aggregate`]: the label mix and daily p-charts, as polars lazy queries;
//! - [`charts`]: SVG charts (plotters, bundled font, Okabe–Ito colours with marker shapes);
//! - [`read`]: result files, summaries and rejects files for `report`;
//! - `template.html`: the page (minijinja, auto-escaped; inline CSS; no script, no URL).
//!
//! De-identified by construction: the side table holds no identifier, the page shows counts
//! and anonymous points, and every text from the inputs (file, site, analyzer and column
//! names) goes through the template's HTML escaping.

pub mod aggregate;
pub mod charts;
pub mod collect;
pub mod read;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::Serialize;
use thiserror::Error;

use crate::analyte::Analyte;
use crate::ruleset::{PregnancyKey, Ruleset, SexKey};
use aggregate::Aggregates;
use charts::{ChartError, Cutoff, ScatterSpec};
use collect::{Collector, LabelPoints};

/// The page template (auto-escaped: its name ends in `.html`).
const TEMPLATE: &str = include_str!("template.html");

/// The Content-Security-Policy of the page: nothing may be fetched; only the inline style
/// and the embedded font (a `data:` URL) are used.
pub const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; font-src data:; img-src data:; base-uri 'none'; form-action 'none'";

/// A report could not be made.
#[derive(Debug, Error)]
pub enum ReportError {
    /// Bad arguments (exit 2).
    #[error("{0}")]
    Usage(String),
    #[error("{file}: {message}")]
    Unreadable { file: String, message: String },
    #[error(transparent)]
    Chart(#[from] ChartError),
    #[error("computing the report's aggregates: {0}")]
    Aggregate(String),
    #[error("rendering the report page: {0}")]
    Template(String),
    #[error("writing {path}")]
    Write {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// The row ledger shown on the page.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Ledger {
    /// Where the numbers come from (the run, a summary file, or derived from the files).
    pub source: String,
    pub rows_read: u64,
    pub classified: u64,
    pub rejected: u64,
    pub rows_used: u64,
    pub not_attached: u64,
    pub balanced: bool,
    pub rejected_by_reason: Vec<(String, u64)>,
    /// (input, column, reason).
    pub ignored_columns: Vec<(String, String, String)>,
    /// False when the ledger was derived without a summary (ignored columns unknown).
    pub ignored_known: bool,
    /// The exports the run read.
    pub inputs: Vec<String>,
}

impl Ledger {
    /// The ledger of a finished run.
    pub fn of_summary(s: &crate::report::summary::Summary, source: &str) -> Ledger {
        Ledger {
            source: source.to_string(),
            rows_read: s.rows_read,
            classified: s.classified,
            rejected: s.rejected,
            rows_used: s.rows_used,
            not_attached: s.not_attached,
            balanced: s.ledger_balanced,
            rejected_by_reason: s
                .rejected_by_reason
                .iter()
                .map(|(k, v)| (k.clone(), *v))
                .collect(),
            ignored_columns: s
                .inputs
                .iter()
                .flat_map(|i| {
                    i.ignored_columns
                        .iter()
                        .map(|c| (i.name.clone(), c.column.clone(), c.reason.clone()))
                })
                .collect(),
            ignored_known: true,
            inputs: s.inputs.iter().map(|i| i.name.clone()).collect(),
        }
    }

    /// Adds another night's ledger.
    fn add(&mut self, other: Ledger) {
        self.rows_read += other.rows_read;
        self.classified += other.classified;
        self.rejected += other.rejected;
        self.rows_used += other.rows_used;
        self.not_attached += other.not_attached;
        self.balanced &= other.balanced;
        self.ignored_known &= other.ignored_known;
        let mut by_reason: std::collections::BTreeMap<String, u64> =
            self.rejected_by_reason.drain(..).collect();
        for (k, v) in other.rejected_by_reason {
            *by_reason.entry(k).or_default() += v;
        }
        self.rejected_by_reason = by_reason.into_iter().collect();
        self.ignored_columns.extend(other.ignored_columns);
        self.inputs.extend(other.inputs);
        self.source = format!("{}; {}", self.source, other.source);
    }
}

/// What a page is made from.
pub struct ReportInput<'a> {
    pub ledger: Ledger,
    pub collector: &'a Collector,
    /// The ruleset whose cutoffs are drawn.
    pub ruleset: &'a Ruleset,
    /// Result files read (`report`); empty for `classify --report`.
    pub result_files: Vec<String>,
    /// `ruleset_checksum` values found in the result files.
    pub result_checksums: Vec<String>,
}

#[derive(Serialize)]
struct Figure {
    id: String,
    title: String,
    svg: String,
}

#[derive(Serialize)]
struct CountRow {
    code: String,
    count: u64,
    percent: String,
    /// The label's marker as inline SVG (labels only).
    swatch: String,
}

#[derive(Serialize)]
struct CutoffRow {
    what: String,
    value: String,
    population: String,
    source: String,
}

#[derive(Serialize)]
struct Page {
    csp: &'static str,
    font_face: String,
    engine_version: &'static str,
    ruleset_version: String,
    ruleset_checksum: String,
    ruleset_effective_date: String,
    checksum_mismatch: Vec<String>,
    inputs: Vec<String>,
    result_files: Vec<String>,
    period: String,
    ledger: Ledger,
    ledger_long: bool,
    rejects: Vec<CountRow>,
    fig_rejects: Figure,
    labels: Vec<CountRow>,
    fig_labels: Figure,
    flags: Vec<CountRow>,
    fig_flags: Figure,
    fig_hb_ferritin: Figure,
    hb_ferritin_cutoffs: Vec<CutoffRow>,
    hb_ferritin_drawn: usize,
    hb_ferritin_available: u64,
    thomas: Option<Figure>,
    thomas_cutoffs: Vec<CutoffRow>,
    thomas_drawn: usize,
    daily: Vec<Figure>,
    sites: Vec<Figure>,
    analyzers: Vec<Figure>,
    group_label: String,
    undated: u64,
}

/// `n` as a percentage of `of`, for the tables and the bar labels: one decimal, but a share
/// that is not zero never shows as 0.0 (2 985 rejects in 10 million rows are 0.03, and fewer
/// than one in ten thousand are "< 0.01").
pub(crate) fn percent(n: u64, of: u64) -> String {
    if of == 0 || n == 0 {
        return "0.0".into();
    }
    let p = 100.0 * n as f64 / of as f64;
    if p >= 0.095 {
        format!("{p:.1}")
    } else if p >= 0.0095 {
        format!("{p:.2}")
    } else {
        "< 0.01".into()
    }
}

/// Standard base64 (RFC 4648) of the font, for its `data:` URL.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn format_value(v: f64) -> String {
    let s = format!("{v:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The Hb and ferritin lines of the scatter plot, from the ruleset's adult rows.
fn hb_ferritin_cutoffs(rs: &Ruleset) -> (Vec<Cutoff>, Vec<Cutoff>, Vec<CutoffRow>) {
    let adult = rs.thresholds.adult_age_years;
    let (mut hb, mut ferritin, mut rows) = (Vec::new(), Vec::new(), Vec::new());
    for (sex, name) in [(SexKey::F, "F"), (SexKey::M, "M")] {
        let Some(row) = rs.hb_row(sex, PregnancyKey::None, adult) else {
            continue;
        };
        let factor = rs
            .unit_from_text(Analyte::Hb, &row.unit)
            .map_or(1.0, |u| u.factor);
        let value = row.anemia_below * factor;
        hb.push(Cutoff {
            value,
            text: format!("Hb {name} {}", format_value(value)),
        });
        rows.push(CutoffRow {
            what: format!("Hb anemia below ({name})"),
            value: format!("{} g/dL", format_value(value)),
            population: row.population.clone(),
            source: row.source.clone(),
        });
    }
    for anemic in [false, true] {
        let Some(row) = rs.ferritin_row(adult, anemic) else {
            continue;
        };
        let factor = rs
            .unit_from_text(Analyte::Ferritin, &row.unit)
            .map_or(1.0, |u| u.factor);
        let value = row.deficient_below_no_inflammation * factor;
        if ferritin.iter().any(|c: &Cutoff| c.value == value) {
            continue;
        }
        ferritin.push(Cutoff {
            value,
            text: format!("ferritin {}", format_value(value)),
        });
        rows.push(CutoffRow {
            what: "ferritin deficient below".into(),
            value: format!("{} µg/L", format_value(value)),
            population: row.population.clone(),
            source: row.source.clone(),
        });
    }
    (ferritin, hb, rows)
}

/// The sTfR-index lines of the Thomas plot.
fn thomas_cutoffs(rs: &Ruleset) -> (Vec<Cutoff>, Vec<CutoffRow>) {
    let mut lines = Vec::new();
    let mut rows = Vec::new();
    for id in ["stfr_index_restricted_below", "stfr_index_deficient_above"] {
        let Some(value) = rs.thresholds.get(id) else {
            continue;
        };
        lines.push(Cutoff {
            value,
            text: format!("index {}", format_value(value)),
        });
        let row = rs
            .threshold_rows
            .iter()
            .map(|l| &l.row)
            .find(|r| r.id == id);
        rows.push(CutoffRow {
            what: id.to_string(),
            value: format_value(value),
            population: row.map(|r| r.population.clone()).unwrap_or_default(),
            source: row.map(|r| r.source.clone()).unwrap_or_default(),
        });
    }
    (lines, rows)
}

/// The Thomas plot's points: `[Ret-He, sTfR / log10 ferritin]` where the index is defined.
fn thomas_points(sample: Vec<LabelPoints>, min_ferritin: f64) -> Vec<LabelPoints> {
    sample
        .into_iter()
        .map(|mut s| {
            s.points = s
                .points
                .into_iter()
                .filter(|p| p[2] > min_ferritin && p[2] > 1.0)
                .map(|p| [p[0], p[1] / p[2].log10(), 0.0])
                .collect();
            s
        })
        .filter(|s| !s.points.is_empty())
        .collect()
}

fn count_rows(rows: impl Iterator<Item = (String, u64, String)>, of: u64) -> Vec<CountRow> {
    rows.map(|(code, count, swatch)| CountRow {
        percent: percent(count, of),
        code,
        count,
        swatch,
    })
    .collect()
}

/// Renders the page.
pub fn render(input: &ReportInput<'_>) -> Result<String, ReportError> {
    let rs = input.ruleset;
    let c = input.collector;
    let agg: Aggregates = input
        .collector
        .cube_frame()
        .and_then(aggregate::aggregate)
        .map_err(|e| ReportError::Aggregate(e.to_string()))?;
    let ledger = input.ledger.clone();

    let rejects = count_rows(
        ledger
            .rejected_by_reason
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(r, n)| (r.clone(), *n, String::new())),
        ledger.rows_read,
    );
    let bar_rows = |rows: &[CountRow]| -> Vec<(String, u64)> {
        rows.iter().map(|r| (r.code.clone(), r.count)).collect()
    };
    let fig_rejects = Figure {
        id: "fig-rejects".into(),
        title: "Rejected rows by reason".into(),
        svg: charts::bars(
            "rejects",
            &bar_rows(&rejects),
            ledger.rows_read,
            charts_grey(),
        )?,
    };
    let labels = count_rows(
        agg.label_counts
            .iter()
            .map(|(l, n)| (l.code().to_string(), *n, charts::label_swatch(*l))),
        agg.classified,
    );
    let fig_labels = Figure {
        id: "fig-labels".into(),
        title: "Classification".into(),
        svg: charts::bars("labels", &bar_rows(&labels), agg.classified, charts_blue())?,
    };
    let mut flag_counts: Vec<_> = c
        .flag_counts()
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .collect();
    // Most frequent first; ties in vocabulary order (the sort is stable).
    flag_counts.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
    let flags = count_rows(
        flag_counts
            .into_iter()
            .map(|(f, n)| (f.code().to_string(), n, String::new())),
        agg.classified,
    );
    let fig_flags = Figure {
        id: "fig-flags".into(),
        title: "Flags (share of classified panels)".into(),
        svg: charts::bars("flags", &bar_rows(&flags), agg.classified, charts_green())?,
    };

    let (ferritin_lines, hb_lines, hb_ferritin_cutoffs) = hb_ferritin_cutoffs(rs);
    let sample = c.hb_ferritin_sample();
    let hb_ferritin_drawn = sample.iter().map(|s| s.points.len()).sum();
    let hb_ferritin_available = sample.iter().map(|s| s.available).sum();
    let fig_hb_ferritin = Figure {
        id: "fig-hb-ferritin".into(),
        title: "Haemoglobin against ferritin".into(),
        svg: charts::scatter(
            &ScatterSpec {
                chart: "Hb-ferritin",
                x_desc: "ferritin (µg/L, log scale)",
                y_desc: "Hb (g/dL)",
                log_x: true,
                vertical: &ferritin_lines,
                horizontal: &hb_lines,
            },
            &sample,
        )?,
    };

    let (index_lines, thomas_cutoffs) = thomas_cutoffs(rs);
    let thomas_sample = thomas_points(c.thomas_sample(), rs.thresholds.stfr_index_min_ferritin);
    let thomas_drawn = thomas_sample.iter().map(|s| s.points.len()).sum();
    let thomas = if thomas_sample.is_empty() {
        None
    } else {
        Some(Figure {
            id: "fig-thomas".into(),
            title: "Thomas plot".into(),
            svg: charts::scatter(
                &ScatterSpec {
                    chart: "Thomas",
                    x_desc: "Ret-He (pg)",
                    y_desc: "sTfR / log10 ferritin",
                    log_x: false,
                    vertical: &[],
                    horizontal: &index_lines,
                },
                &thomas_sample,
            )?,
        })
    };

    let mut daily = Vec::new();
    for (i, p) in agg.daily.iter().enumerate() {
        daily.push(Figure {
            id: format!("fig-pchart-{}", i + 1),
            title: p.label.code().to_string(),
            svg: charts::p_chart("p-chart", p)?,
        });
    }
    let group_figures =
        |prefix: &str, groups: &[aggregate::GroupChart]| -> Result<Vec<Figure>, ReportError> {
            let mut out = Vec::new();
            for (i, g) in groups.iter().enumerate() {
                out.push(Figure {
                    id: format!("fig-{prefix}-{}", i + 1),
                    title: format!("{} ({} panels)", g.name, g.panels),
                    svg: charts::p_chart("p-chart", &g.chart)?,
                });
            }
            Ok(out)
        };
    let sites = group_figures("site", &agg.by_site)?;
    let analyzers = group_figures("analyzer", &agg.by_analyzer)?;
    let days: Vec<i32> = agg
        .daily
        .first()
        .map(|p| p.days.iter().map(|d| d.day).collect())
        .unwrap_or_default();
    let period = match (days.first(), days.last()) {
        (Some(a), Some(b)) if a == b => charts::date(i64::from(*a)),
        (Some(a), Some(b)) => format!(
            "{} to {}",
            charts::date(i64::from(*a)),
            charts::date(i64::from(*b))
        ),
        _ => "no dated panels".into(),
    };
    let checksum_mismatch = input
        .result_checksums
        .iter()
        .filter(|c| **c != rs.checksum)
        .cloned()
        .collect();

    let page = Page {
        csp: CSP,
        font_face: format!(
            "@font-face {{ font-family: \"{}\"; src: url(data:font/ttf;base64,{}) format(\"truetype\"); }}",
            charts::FONT_FAMILY,
            base64(charts::FONT_BYTES)
        ),
        engine_version: env!("CARGO_PKG_VERSION"),
        ruleset_version: rs.version.clone(),
        ruleset_checksum: rs.checksum.clone(),
        ruleset_effective_date: rs.effective_date.clone(),
        checksum_mismatch,
        inputs: ledger.inputs.clone(),
        result_files: input.result_files.clone(),
        period,
        ledger_long: ledger.not_attached > 0 || ledger.rows_used != ledger.classified,
        ledger,
        rejects,
        fig_rejects,
        labels,
        fig_labels,
        flags,
        fig_flags,
        fig_hb_ferritin,
        hb_ferritin_cutoffs,
        hb_ferritin_drawn,
        hb_ferritin_available,
        thomas,
        thomas_cutoffs,
        thomas_drawn,
        daily,
        sites,
        analyzers,
        group_label: agg
            .label_counts
            .first()
            .map(|(l, _)| l.code().to_string())
            .unwrap_or_default(),
        undated: agg.undated,
    };
    let mut env = minijinja::Environment::new();
    env.add_template("report.html", TEMPLATE)
        .map_err(|e| ReportError::Template(e.to_string()))?;
    let template = env
        .get_template("report.html")
        .map_err(|e| ReportError::Template(e.to_string()))?;
    template
        .render(&page)
        .map_err(|e| ReportError::Template(e.to_string()))
}

fn charts_grey() -> plotters::style::RGBColor {
    plotters::style::RGBColor(0x99, 0x99, 0x99)
}
fn charts_blue() -> plotters::style::RGBColor {
    plotters::style::RGBColor(0x00, 0x72, 0xB2)
}
fn charts_green() -> plotters::style::RGBColor {
    plotters::style::RGBColor(0x00, 0x9E, 0x73)
}

/// `anemia-engine report RESULTS... -o REPORT.html`: reads the result files, the ledger from
/// the summaries given (or found as `<stem>.summary.json` next to each result file; else
/// derived from the rows and `<stem>.rejects.csv`) and writes the page.
pub fn report_files(
    results: &[PathBuf],
    summaries: &[PathBuf],
    rs: &Ruleset,
) -> Result<String, ReportError> {
    let collector = Arc::new(Mutex::new(Collector::new()));
    let mut files = Vec::new();
    let mut checksums: Vec<String> = Vec::new();
    for path in results {
        let info = read::read_results(path, &collector)?;
        checksums.extend(info.ruleset_checksums.iter().cloned());
        files.push(info);
    }
    checksums.sort();
    checksums.dedup();
    let mut ledger: Option<Ledger> = None;
    let mut add = |l: Ledger| match &mut ledger {
        Some(all) => all.add(l),
        None => ledger = Some(l),
    };
    if summaries.is_empty() {
        for (path, info) in results.iter().zip(&files) {
            let summary = read::sibling(path, ".summary.json");
            if summary.is_file() {
                add(read::ledger_from_summary(&summary)?);
            } else {
                add(derived_ledger(path, info)?);
            }
        }
    } else {
        for s in summaries {
            add(read::ledger_from_summary(s)?);
        }
    }
    let collector = collector
        .lock()
        .map_err(|_| ReportError::Aggregate("the collector was poisoned".into()))?;
    render(&ReportInput {
        ledger: ledger.unwrap_or_default(),
        collector: &collector,
        ruleset: rs,
        result_files: files.iter().map(|f| f.name.clone()).collect(),
        result_checksums: checksums,
    })
}

/// The ledger of a result file without a summary: its rows, and the rejects file next to it.
fn derived_ledger(path: &Path, info: &read::FileInfo) -> Result<Ledger, ReportError> {
    let rejects = read::sibling(path, ".rejects.csv");
    let (by_reason, source) = if rejects.is_file() {
        (
            read::rejects_by_reason(&rejects)?,
            format!(
                "derived from {} and {} (no run summary)",
                info.name,
                rejects.display()
            ),
        )
    } else {
        (
            Vec::new(),
            format!(
                "derived from {} (no run summary, no rejects file)",
                info.name
            ),
        )
    };
    let rejected = by_reason.iter().map(|(_, n)| n).sum();
    Ok(Ledger {
        source,
        rows_read: info.rows + rejected,
        classified: info.rows,
        rejected,
        rows_used: info.rows,
        not_attached: 0,
        balanced: true,
        rejected_by_reason: by_reason,
        ignored_columns: Vec::new(),
        ignored_known: false,
        inputs: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_pads_like_rfc_4648() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn a_share_that_is_not_zero_never_shows_as_zero() {
        assert_eq!(percent(0, 10_000_000), "0.0");
        assert_eq!(percent(3, 0), "0.0");
        assert_eq!(percent(2_985, 10_000_000), "0.03");
        assert_eq!(percent(1, 10_000_000), "< 0.01");
        assert_eq!(percent(1_000, 1_000_000), "0.1");
        assert_eq!(percent(401, 1_000), "40.1");
        assert_eq!(percent(7, 7), "100.0");
    }
}
