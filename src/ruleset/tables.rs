//! Parsing and validation of the ruleset's data files. Every problem is collected with its
//! file and line, so `ranges check` can report all of them at once.

use serde::Deserialize;

use crate::analyte::Analyte;
use crate::error::RulesetProblem;
use crate::vocab::{Flag, GuidanceId, Label, Procedure};

/// Collects problems while parsing one ruleset.
#[derive(Default)]
pub(crate) struct Problems(pub Vec<RulesetProblem>);

impl Problems {
    pub fn push(&mut self, file: &str, line: u64, message: impl Into<String>) {
        self.0.push(RulesetProblem {
            file: file.to_string(),
            line,
            message: message.into(),
        });
    }
}

/// A parsed data row with the physical line it came from.
#[derive(Clone, Debug)]
pub struct Lined<T> {
    pub line: u64,
    pub row: T,
}

/// Reads a `#`-commented CSV data file into typed rows; bad rows become problems.
pub(crate) fn read_table<T: for<'de> Deserialize<'de>>(
    file: &str,
    text: &str,
    problems: &mut Problems,
) -> Vec<Lined<T>> {
    let mut reader = csv::ReaderBuilder::new()
        .comment(Some(b'#'))
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = match reader.headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            problems.push(file, 1, format!("cannot read the header: {e}"));
            return Vec::new();
        }
    };
    let mut rows = Vec::new();
    for record in reader.records() {
        match record {
            Ok(rec) => {
                let line = rec.position().map_or(0, |p| p.line());
                if rec.iter().any(|f| f.is_empty()) && headers.iter().any(|h| h == "source") {
                    if let Some(i) = headers.iter().position(|h| h == "source") {
                        if rec.get(i).is_some_and(str::is_empty) {
                            problems.push(
                                file,
                                line,
                                "missing source: every row must cite where its numbers come from",
                            );
                            continue;
                        }
                    }
                }
                match rec.deserialize::<T>(Some(&headers)) {
                    Ok(row) => rows.push(Lined { line, row }),
                    // The line is already named; say which field and what is wrong with it.
                    Err(e) => {
                        let why = match e.kind() {
                            csv::ErrorKind::Deserialize { err, .. } => match err.field() {
                                Some(i) => format!(
                                    "column {}: {}",
                                    headers.get(i as usize).unwrap_or("?"),
                                    err.kind()
                                ),
                                None => err.kind().to_string(),
                            },
                            _ => e.to_string(),
                        };
                        problems.push(file, line, format!("cannot read this row: {why}"));
                    }
                }
            }
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                problems.push(file, line, format!("malformed CSV row: {e}"));
            }
        }
    }
    rows
}

/// Optional number: an empty cell means "unbounded".
fn opt_f64<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    let s = String::deserialize(d)?;
    let t = s.trim();
    if t.is_empty() {
        Ok(None)
    } else {
        t.parse::<f64>()
            .map(Some)
            .map_err(|_| serde::de::Error::custom(format!("{t:?} is not a number")))
    }
}

fn any_sex() -> SexKey {
    SexKey::Any
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
pub enum SexKey {
    F,
    M,
    U,
    #[serde(rename = "any")]
    Any,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PregnancyKey {
    None,
    T1,
    T2,
    T3,
    Unknown,
}

#[derive(Clone, Debug, Deserialize)]
pub struct HbCutoffRow {
    pub population: String,
    pub sex: SexKey,
    pub pregnancy: PregnancyKey,
    pub age_from_years: f64,
    #[serde(deserialize_with = "opt_f64")]
    pub age_to_years: Option<f64>,
    pub anemia_below: f64,
    pub not_anemic_from: f64,
    pub mild_from: f64,
    pub moderate_from: f64,
    pub unit: String,
    pub source: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AdjustmentKind {
    Altitude,
    Smoking,
}

#[derive(Clone, Debug, Deserialize)]
pub struct AdjustmentBand {
    pub kind: AdjustmentKind,
    #[serde(deserialize_with = "opt_f64")]
    pub from: Option<f64>,
    #[serde(deserialize_with = "opt_f64")]
    pub to: Option<f64>,
    pub add: f64,
    pub out_of_table: bool,
    pub unit: String,
    pub population: String,
    pub source: String,
}

#[derive(Clone, Debug, Deserialize)]
pub struct McvRow {
    pub population: String,
    /// `F`, `M`, `U` or `any` (a table without the column is for any sex).
    #[serde(default = "any_sex")]
    pub sex: SexKey,
    pub age_from_years: f64,
    #[serde(deserialize_with = "opt_f64")]
    pub age_to_years: Option<f64>,
    pub mcv_low: f64,
    pub mcv_high: f64,
    pub unit: String,
    pub source: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnemiaKey {
    Any,
    Anemic,
    NotAnemic,
}

#[derive(Clone, Debug, Deserialize)]
pub struct FerritinRow {
    pub population: String,
    pub age_from_years: f64,
    #[serde(deserialize_with = "opt_f64")]
    pub age_to_years: Option<f64>,
    pub anemia: AnemiaKey,
    pub deficient_below_no_inflammation: f64,
    pub deficient_below_with_inflammation: f64,
    pub unit: String,
    pub source: String,
}

#[derive(Clone, Debug, Deserialize)]
pub struct UnitRow {
    pub analyte: Analyte,
    pub suffix: String,
    pub unit: String,
    pub factor: f64,
    pub source: String,
}

#[derive(Clone, Debug, Deserialize)]
pub struct PlausibilityRow {
    pub analyte: Analyte,
    pub min: f64,
    pub max: f64,
    pub unit: String,
    pub source: String,
}

#[derive(Clone, Debug, Deserialize)]
pub struct ThresholdRow {
    pub id: String,
    pub value: f64,
    pub unit: String,
    pub population: String,
    pub source: String,
}

#[derive(Clone, Debug, Deserialize)]
pub struct LoincRow {
    pub code: String,
    pub analyte: Analyte,
    pub property: String,
    /// The unit the code implies (UCUM), used when a result gives none.
    #[serde(default)]
    pub unit: String,
    pub description: String,
    pub source: String,
}

#[derive(Clone, Debug, Deserialize)]
pub struct UnitAliasRow {
    pub analyte: Analyte,
    pub unit_text: String,
    pub suffix: String,
    pub source: String,
}

/// One guidance entry of `guidance.toml`.
#[derive(Clone, Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct GuidanceEntry {
    pub id: String,
    pub title: String,
    pub text: String,
    pub trigger: String,
    #[serde(default)]
    pub labels: Vec<String>,
    #[serde(default)]
    pub flags: Vec<String>,
    pub sources: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GuidanceFile {
    #[allow(dead_code)]
    schema: u32,
    guidance: Vec<GuidanceEntry>,
}

/// 1-based line of a byte offset.
pub(crate) fn line_of(text: &str, offset: usize) -> u64 {
    text.get(..offset.min(text.len())).map_or(0, |head| {
        head.bytes().filter(|b| *b == b'\n').count() as u64 + 1
    })
}

/// Line of the first line that assigns TOML key `key`, or 0.
pub(crate) fn line_of_key(text: &str, key: &str) -> u64 {
    text.lines()
        .position(|l| {
            let t = l.trim_start();
            t.strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        })
        .map_or(0, |i| i as u64 + 1)
}

/// Line of the first occurrence of `needle`, or 0.
pub(crate) fn line_containing(text: &str, needle: &str) -> u64 {
    text.find(needle).map_or(0, |off| line_of(text, off))
}

pub(crate) fn parse_guidance(
    file: &str,
    text: &str,
    procedure: Procedure,
    problems: &mut Problems,
) -> Vec<GuidanceEntry> {
    let parsed: GuidanceFile = match toml::from_str(text) {
        Ok(p) => p,
        Err(e) => {
            let line = e.span().map_or(0, |s| line_of(text, s.start));
            problems.push(
                file,
                line,
                format!("not valid guidance TOML: {}", e.message()),
            );
            return Vec::new();
        }
    };
    let mut seen = std::collections::HashSet::new();
    for g in &parsed.guidance {
        let line = line_containing(text, &format!("\"{}\"", g.id));
        if !seen.insert(g.id.clone()) {
            problems.push(file, line, format!("guidance id {} appears twice", g.id));
        }
        if g.title.trim().is_empty() || g.text.trim().is_empty() {
            problems.push(
                file,
                line,
                format!("guidance {} needs a title and a text", g.id),
            );
        }
        if g.sources.iter().all(|s| s.trim().is_empty()) {
            problems.push(
                file,
                line,
                format!(
                    "guidance {}: missing source (at least one is required)",
                    g.id
                ),
            );
        }
        for l in &g.labels {
            if Label::from_code(l).is_none() {
                problems.push(
                    file,
                    line,
                    format!("guidance {} names unknown label {l:?}", g.id),
                );
            }
        }
        for f in &g.flags {
            if Flag::from_code(f).is_none() {
                problems.push(
                    file,
                    line,
                    format!("guidance {} names unknown flag {f:?}", g.id),
                );
            }
        }
        if GuidanceId::from_code(&g.id).is_none_or(|id| id.since() > procedure) {
            problems.push(
                file,
                line,
                format!(
                    "guidance {} is not an entry the engine attaches; the catalog must hold exactly the ids of `anemia-engine rules`",
                    g.id
                ),
            );
        }
    }
    for id in GuidanceId::catalog(procedure) {
        if !parsed.guidance.iter().any(|g| g.id == id.code()) {
            problems.push(
                file,
                0,
                format!(
                    "guidance {id} is missing: the engine attaches it, so the catalog must hold it"
                ),
            );
        }
    }
    parsed.guidance
}

/// Checks that the half-open age intervals of the rows selected for one population key
/// cover `[start, inf)` exactly once.
pub(crate) fn check_coverage(
    file: &str,
    what: &str,
    start: f64,
    mut intervals: Vec<(u64, f64, Option<f64>)>,
    problems: &mut Problems,
) {
    intervals.sort_by(|a, b| a.1.total_cmp(&b.1));
    let mut expected_from = Some(start);
    let mut prev_line = 0;
    for (line, from, to) in &intervals {
        if let Some(to) = to {
            if to <= from {
                problems.push(file, *line, format!("{what}: empty band {from} to {to}"));
            }
        }
        match expected_from {
            None => problems.push(
                file,
                *line,
                format!("{what}: overlaps the open-ended band of line {prev_line}"),
            ),
            Some(exp) if *from > exp => problems.push(
                file,
                *line,
                format!("{what}: gap from {exp} to {from} years: no row covers these ages"),
            ),
            Some(exp) if *from < exp => problems.push(
                file,
                *line,
                format!("{what}: overlaps line {prev_line} (this band starts at {from}, the previous one ends at {exp})"),
            ),
            Some(_) => {}
        }
        expected_from = *to;
        prev_line = *line;
    }
    if let Some(end) = expected_from {
        problems.push(
            file,
            prev_line,
            format!(
                "{what}: no row covers ages from {end} years on (the last band must be open-ended)"
            ),
        );
    }
}

/// Checks that numeric bands `[from, to)` of one kind are contiguous and do not overlap.
pub(crate) fn check_contiguous(
    file: &str,
    what: &str,
    bands: &[(u64, Option<f64>, Option<f64>)],
    problems: &mut Problems,
) {
    for pair in bands.windows(2) {
        let (l1, _, to1) = pair[0];
        let (l2, from2, _) = pair[1];
        match (to1, from2) {
            (Some(a), Some(b)) if a == b => {}
            (Some(a), Some(b)) if b < a => problems.push(file, l2, format!("{what}: band starting at {b} overlaps line {l1} (ends at {a})")),
            (Some(a), Some(b)) => problems.push(file, l2, format!("{what}: gap between {a} (line {l1}) and {b}")),
            _ => problems.push(file, l2, format!("{what}: only the first band may be open below and only the last open above (see line {l1})")),
        }
    }
    if let Some((l, _, Some(to))) = bands.last() {
        problems.push(
            file,
            *l,
            format!("{what}: the last band must be open-ended (it stops at {to})"),
        );
    }
}

/// The canonical unit label of each analyte, as written in units.csv (factor 1, canonical suffix).
pub(crate) fn canonical_unit_label(units: &[Lined<UnitRow>], analyte: Analyte) -> Option<&str> {
    units
        .iter()
        .find(|u| u.row.analyte == analyte && u.row.suffix == analyte.canonical_suffix())
        .map(|u| u.row.unit.as_str())
}
