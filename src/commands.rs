//! The read-only subcommands: `rules`, `ranges check|show` and `explain`, printed from the
//! same metadata and tables the engine runs on.

use serde::Serialize;

use crate::analyte::Analyte;
use crate::cell::Cell;
use crate::error::{ConfigError, RunError};
use crate::guidance;
use crate::ingest::{Column, HeaderMap, IngestOptions, Input, InputReader, RowOutcome};
use crate::panel::{Panel, Pregnancy, Sex};
use crate::rules::registry::{self, rule_by_id, RuleView};
use crate::rules::{self, num, show, Outcome};
use crate::ruleset::{GuidanceEntry, Ruleset, RulesetOrigin};
use crate::vocab::{Flag, RuleId};

/// The rule that raises a flag (every flag has one: checked by the registry tests).
pub fn flag_rule(flag: Flag) -> &'static str {
    registry::rule_for_flag(flag).map_or("", |r| r.id.code())
}

#[derive(Serialize)]
struct FlagInfo<'a> {
    code: &'a str,
    raised_by: &'a str,
    rule: Option<RuleView>,
}

#[derive(Serialize)]
struct Listing<'a> {
    ruleset_version: &'a str,
    rules: Vec<RuleView>,
    flags: Vec<FlagInfo<'a>>,
    guidance: &'a [GuidanceEntry],
}

/// `anemia-engine rules [ID]`: every rule, flag and guidance entry, or one in full.
pub fn rules_command(rs: &Ruleset, id: Option<&str>, json: bool) -> Result<String, ConfigError> {
    let flag_info = |f: Flag| FlagInfo {
        code: f.code(),
        raised_by: flag_rule(f),
        rule: rule_by_id(flag_rule(f)).map(|r| r.view(rs)),
    };
    let Some(id) = id else {
        let listing = Listing {
            ruleset_version: &rs.version,
            rules: registry::rules().map(|r| r.view(rs)).collect(),
            flags: Flag::ALL.iter().map(|f| flag_info(*f)).collect(),
            guidance: &rs.guidance,
        };
        if json {
            return serde_json::to_string_pretty(&listing)
                .map_err(|e| ConfigError::Usage(e.to_string()));
        }
        let mut s = format!("Ruleset {}\n\nRULES\n", rs.version);
        for r in registry::rules() {
            s.push_str(&format!("  {:<11} {}  [{}]\n", r.id, r.title, r.citation));
        }
        s.push_str("\nFLAGS\n");
        for f in Flag::ALL {
            s.push_str(&format!("  {:<37} raised by {}\n", f.code(), flag_rule(f)));
        }
        s.push_str("\nGUIDANCE\n");
        for g in &rs.guidance {
            s.push_str(&format!(
                "  {:<38} {}  [{}]\n",
                g.id,
                g.title,
                g.sources.join("; ")
            ));
        }
        return Ok(s);
    };
    if let Some(r) = rule_by_id(id) {
        return if json {
            serde_json::to_string_pretty(&r.view(rs)).map_err(|e| ConfigError::Usage(e.to_string()))
        } else {
            Ok(format!(
                "{}  {}\nfamily: {}\nrationale: {}\ncitation: {}\n",
                r.id,
                r.title,
                r.family,
                r.rationale(rs),
                r.citation
            ))
        };
    }
    if let Some(f) = Flag::from_code(&id.to_ascii_uppercase()) {
        let info = flag_info(f);
        return if json {
            serde_json::to_string_pretty(&info).map_err(|e| ConfigError::Usage(e.to_string()))
        } else {
            let r = info.rule.as_ref();
            Ok(format!(
                "{}\nraised by: {} {}\nrationale: {}\ncitation: {}\n",
                f.code(),
                info.raised_by,
                r.map_or("", |r| r.title),
                r.map_or("", |r| r.rationale.as_str()),
                r.map_or("", |r| r.citation)
            ))
        };
    }
    if let Some(g) = rs.guidance_entry(id) {
        return if json {
            serde_json::to_string_pretty(g).map_err(|e| ConfigError::Usage(e.to_string()))
        } else {
            Ok(format!(
                "{}  {}\nattaches when: {}\n\n{}\n\nsources:\n{}\n",
                g.id,
                g.title,
                g.trigger,
                g.text.split_whitespace().collect::<Vec<_>>().join(" "),
                g.sources
                    .iter()
                    .map(|s| format!("  - {s}"))
                    .collect::<Vec<_>>()
                    .join("\n")
            ))
        };
    }
    Err(ConfigError::Usage(format!(
        "no rule, flag or guidance entry named {id:?}; `anemia-engine rules` lists them all"
    )))
}

/// `anemia-engine ranges show`: the tables of the ruleset in use.
pub fn ranges_show(rs: &Ruleset) -> String {
    let mut s = format!(
        "Ruleset {} (effective {}), {}\norigin: {}\n",
        rs.version, rs.effective_date, rs.checksum, rs.origin
    );
    s.push_str("\nhb_cutoffs.csv (g/L; anemia below, not anemic from, mild from, moderate from)\n");
    for r in &rs.hb_cutoffs {
        let b = &r.row;
        s.push_str(&format!(
            "  line {:>2}: {:<70} {:>4} {:>4} {:>4} {:>4}  ages [{}, {})\n",
            r.line,
            b.population,
            b.anemia_below,
            b.not_anemic_from,
            b.mild_from,
            b.moderate_from,
            b.age_from_years,
            b.age_to_years.map_or("..".into(), |a| a.to_string())
        ));
    }
    s.push_str("\nhb_adjustments.csv (g/L added to every cutoff)\n");
    for r in rs.altitude.iter().chain(&rs.smoking) {
        let b = &r.row;
        s.push_str(&format!(
            "  line {:>2}: {:?} [{}, {}) +{}{}\n",
            r.line,
            b.kind,
            b.from.map_or("..".into(), |x| x.to_string()),
            b.to.map_or("..".into(), |x| x.to_string()),
            b.add,
            if b.out_of_table {
                " (beyond the source table)"
            } else {
                ""
            }
        ));
    }
    s.push_str("\nmcv_ranges.csv (fL)\n");
    for r in &rs.mcv {
        s.push_str(&format!(
            "  line {:>2}: {:<35} {}-{}\n",
            r.line, r.row.population, r.row.mcv_low, r.row.mcv_high
        ));
    }
    s.push_str("\nferritin_cutoffs.csv (ug/L; deficient below, without / with inflammation)\n");
    for r in &rs.ferritin {
        s.push_str(&format!(
            "  line {:>2}: {:<40} {:>3} / {:>3}\n",
            r.line,
            r.row.population,
            r.row.deficient_below_no_inflammation,
            r.row.deficient_below_with_inflammation
        ));
    }
    s.push_str("\nthresholds.csv\n");
    for r in &rs.threshold_rows {
        s.push_str(&format!(
            "  line {:>2}: {:<36} {} {}  [{}]\n",
            r.line, r.row.id, r.row.value, r.row.unit, r.row.source
        ));
    }
    s.push_str("\nplausibility.csv (canonical units, inclusive)\n");
    for r in &rs.plausibility {
        s.push_str(&format!(
            "  line {:>2}: {:<12} {}-{} {}\n",
            r.line, r.row.analyte, r.row.min, r.row.max, r.row.unit
        ));
    }
    s.push_str("\nunits.csv\n");
    for r in &rs.units {
        s.push_str(&format!(
            "  line {:>2}: {}_{} ({}) x {}\n",
            r.line, r.row.analyte, r.row.suffix, r.row.unit, r.row.factor
        ));
    }
    s
}

/// Which panel to explain.
#[derive(Clone, Debug)]
pub enum PanelSelector {
    Specimen(String),
    /// 1-based data row (wide layout).
    Row(u64),
}

/// One cell of the explained row: as read, and what the engine made of it.
#[derive(Serialize)]
struct CellTrace {
    column: String,
    raw: String,
    /// `identity`, `context`, `analyte`, `ignored` (or `cell` in the long layout).
    role: &'static str,
    read_as: String,
    /// For an analyte column: the canonical value the rules saw.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    analyte: Option<AnalyteValue>,
}

/// The canonical value of an analyte cell.
#[derive(Serialize)]
struct AnalyteValue {
    analyte: &'static str,
    /// `value`, `censored`, `text` (a text result) or `missing`.
    status: &'static str,
    /// Canonical value with its censoring prefix (`<10`), as quoted in evidence.
    value: Option<String>,
    unit: String,
}

/// A value converted to its canonical unit.
#[derive(Serialize)]
struct ConversionTrace<'a> {
    analyte: &'static str,
    column: &'a str,
    raw: &'a str,
    unit: &'a str,
    factor: f64,
    value: String,
    canonical_unit: &'a str,
}

/// How the haemoglobin cutoff was built: population row, adjustments, the cutoff used.
#[derive(Serialize)]
struct HbCutoffTrace {
    population: Vec<String>,
    adjustments: Vec<String>,
    notes: Vec<String>,
    threshold_g_dl: Option<f64>,
}

#[derive(Serialize)]
struct Trace<'a> {
    source: String,
    line: u64,
    layout: &'static str,
    patient_id: &'a str,
    specimen_id: &'a str,
    ruleset_version: &'a str,
    ruleset_checksum: &'a str,
    ruleset_origin: String,
    cells: Vec<CellTrace>,
    conversions: Vec<ConversionTrace<'a>>,
    hb_cutoff: HbCutoffTrace,
    steps: Vec<Step<'a>>,
    rules_without_evidence: Vec<&'static str>,
    anemia: Option<bool>,
    hb_threshold_g_dl: Option<f64>,
    severity: Option<&'a str>,
    morphology: &'a str,
    inflammation: &'a str,
    iron_status: &'a str,
    classification: &'a str,
    flags: Vec<&'a str>,
    recommended_tests: Vec<&'a str>,
    guidance: Vec<GuidanceRef<'a>>,
}

#[derive(Serialize)]
struct Step<'a> {
    rule: &'a str,
    family: &'a str,
    title: &'a str,
    evidence: String,
    citation: &'a str,
    /// The evidence after the rule id (text rendering).
    #[serde(skip)]
    detail: &'a str,
}

#[derive(Serialize)]
struct GuidanceRef<'a> {
    id: &'a str,
    title: &'a str,
}

#[derive(Serialize)]
struct RejectTrace<'a> {
    source: &'a str,
    line: u64,
    rejected: bool,
    reason_code: &'a str,
    message: &'a str,
    raw: &'a str,
}

/// `anemia-engine explain`: one panel's trace: the cells as read, the conversions, the
/// haemoglobin cutoff, every rule's evidence with its citation, and the result.
pub fn explain(
    input: &Input,
    selector: &PanelSelector,
    rs: &Ruleset,
    ingest: &IngestOptions,
    json: bool,
) -> Result<String, RunError> {
    match input {
        Input::File(_) => explain_file(input, &input.name(), selector, rs, ingest, json),
        Input::Stdin => {
            // The raw cells are read in a second pass, so stdin is kept in a temporary file.
            let mut spool = tempfile::NamedTempFile::new()
                .map_err(|e| RunError::io("cannot create a temporary file for stdin", e))?;
            std::io::copy(&mut std::io::stdin().lock(), &mut spool)
                .map_err(|e| RunError::io("cannot read <stdin>", e))?;
            let spooled = Input::File(spool.path().to_path_buf());
            let name = input.name();
            explain_file(&spooled, &name, selector, rs, ingest, json)
                .map_err(|e| rename_source(e, &spooled.name(), &name))
        }
    }
}

/// Replaces the temporary file's name by the input's name in an error.
fn rename_source(e: RunError, from: &str, to: &str) -> RunError {
    let fix = |s: String| s.replace(from, to);
    match e {
        RunError::Config(ConfigError::Input { file, message }) => {
            RunError::Config(ConfigError::Input {
                file: fix(file),
                message: fix(message),
            })
        }
        RunError::Read {
            file,
            line,
            message,
        } => RunError::Read {
            file: fix(file),
            line,
            message: fix(message),
        },
        RunError::Io { context, source } => RunError::Io {
            context: fix(context),
            source,
        },
        other => other,
    }
}

fn explain_file(
    input: &Input,
    name: &str,
    selector: &PanelSelector,
    rs: &Ruleset,
    ingest: &IngestOptions,
    json: bool,
) -> Result<String, RunError> {
    let read_name = input.name();
    let mut reader = InputReader::open(0, input, rs, ingest)?;
    if let (InputReader::Long(_), PanelSelector::Row(_)) = (&reader, selector) {
        return Err(ConfigError::Usage(format!(
            "{name}: --row selects a data row of a wide export; in this long (one result per row) export select the panel with --specimen ID"
        ))
        .into());
    }
    let mut batch = Vec::new();
    let mut row_number = 0u64;
    loop {
        batch.clear();
        let more = reader.next_batch(4096, rs, &mut batch)?;
        for outcome in &batch {
            let hit = match (outcome, selector) {
                (RowOutcome::Panel(p), PanelSelector::Specimen(id)) => p.specimen_id == *id,
                (RowOutcome::Panel(_) | RowOutcome::Reject(_), PanelSelector::Row(n)) => {
                    row_number += 1;
                    row_number == *n
                }
                _ => false,
            };
            if !hit {
                continue;
            }
            return match outcome {
                RowOutcome::Panel(p) => {
                    let raw = raw_row(input, reader.delimiter(), p.line)?;
                    let cells = match &reader {
                        InputReader::Wide(w) => cell_traces(&raw, Some(&w.header), p, rs),
                        InputReader::Long(_) => cell_traces(&raw, None, p, rs),
                    };
                    let trace = Explained {
                        source: name,
                        layout: reader.layout_name(),
                        panel: p,
                        outcome: &rules::evaluate(p, rs),
                        cells,
                    };
                    Ok(render_trace(trace, rs, json))
                }
                RowOutcome::Reject(r) => {
                    let message = r.message.replace(&read_name, name);
                    let raw = r.raw.as_str();
                    if json {
                        Ok(to_json(&RejectTrace {
                            source: name,
                            line: r.line,
                            rejected: true,
                            reason_code: r.reason.code(),
                            message: &message,
                            raw,
                        }))
                    } else {
                        Ok(format!(
                            "{name} line {}: rejected ({}): {message}\nraw: {raw}\n",
                            r.line,
                            r.reason.code(),
                        ))
                    }
                }
                RowOutcome::NotAttached(n) => Ok(format!(
                    "{name} line {}: {} result not attached to any panel\n",
                    n.line, n.analyte
                )),
            };
        }
        if !more {
            break;
        }
    }
    Err(RunError::Config(ConfigError::Usage(format!(
        "{name}: no panel {}",
        match selector {
            PanelSelector::Specimen(s) => format!("with specimen_id {s:?}"),
            PanelSelector::Row(n) => format!("at data row {n} (the file has {row_number})"),
        }
    ))))
}

/// The header and the fields of physical line `line`, read again from the input (the
/// panel keeps canonical values only). Empty when the line cannot be found.
fn raw_row(input: &Input, delimiter: u8, line: u64) -> Result<Vec<(String, String)>, RunError> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(input.open()?);
    let text = |r: &csv::ByteRecord| -> Vec<String> {
        r.iter()
            .map(|f| String::from_utf8_lossy(f).into_owned())
            .collect()
    };
    let mut header: Option<Vec<String>> = None;
    let mut record = csv::ByteRecord::new();
    while reader
        .read_byte_record(&mut record)
        .map_err(|e| RunError::Read {
            file: input.name(),
            line: e.position().map_or(0, |p| p.line()),
            message: format!("cannot read: {e}"),
        })?
    {
        let at = record.position().map_or(0, |p| p.line());
        match &header {
            None => {
                header = Some(
                    text(&record)
                        .into_iter()
                        .map(|h| h.trim_start_matches('\u{feff}').trim().to_string())
                        .collect(),
                )
            }
            Some(names) if at == line => {
                let fields = text(&record);
                let width = names.len().max(fields.len());
                return Ok((0..width)
                    .map(|i| {
                        (
                            names
                                .get(i)
                                .cloned()
                                .unwrap_or_else(|| format!("(field {})", i + 1)),
                            fields.get(i).cloned().unwrap_or_default(),
                        )
                    })
                    .collect());
            }
            Some(_) if at > line => break,
            Some(_) => {}
        }
    }
    Ok(Vec::new())
}

fn pregnancy_code(p: Pregnancy) -> &'static str {
    match p {
        Pregnancy::No => "not pregnant",
        Pregnancy::Trimester1 => "pregnant, trimester 1",
        Pregnancy::Trimester2 => "pregnant, trimester 2",
        Pregnancy::Trimester3 => "pregnant, trimester 3",
        Pregnancy::TrimesterUnknown => "pregnant, trimester unknown",
    }
}

fn sex_code(s: Sex) -> &'static str {
    match s {
        Sex::Female => "female",
        Sex::Male => "male",
        Sex::Unknown => "unknown",
    }
}

/// What the engine made of each cell of a wide row (`header` None: long layout, raw only).
fn cell_traces(
    raw: &[(String, String)],
    header: Option<&HeaderMap>,
    p: &Panel,
    rs: &Ruleset,
) -> Vec<CellTrace> {
    raw.iter()
        .enumerate()
        .map(|(i, (column, value))| {
            let (role, read_as) = match header.and_then(|h| h.columns.get(i)) {
                Some(c) => read_as(c, column, value, header, p, rs),
                None => ("cell", String::new()),
            };
            let analyte = match header.and_then(|h| h.columns.get(i)) {
                Some(Column::Analyte { analyte, .. }) => {
                    let cell = p.cell(*analyte);
                    Some(AnalyteValue {
                        analyte: analyte.code(),
                        status: match cell {
                            Cell::Missing => "missing",
                            Cell::Text(_) => "text",
                            Cell::Value(m) if m.is_censored() => "censored",
                            Cell::Value(_) => "value",
                        },
                        value: cell.measure().map(show),
                        unit: rs.canonical_unit(*analyte).to_string(),
                    })
                }
                _ => None,
            };
            CellTrace {
                column: column.clone(),
                raw: value.clone(),
                role,
                read_as,
                analyte,
            }
        })
        .collect()
}

fn read_as(
    column: &Column,
    name: &str,
    raw: &str,
    header: Option<&HeaderMap>,
    p: &Panel,
    rs: &Ruleset,
) -> (&'static str, String) {
    let or_not_used =
        |v: Option<String>| v.unwrap_or_else(|| "not used (blank or not a number)".into());
    let age = || match p.age_years {
        Some(a) => format!("age used: {} y", num(a)),
        None => format!(
            "age missing ({}): treated as adult",
            p.age_note.as_deref().unwrap_or("no age given")
        ),
    };
    let codes = |known: Vec<&str>| {
        let unknown: Vec<&str> = p
            .unknown_codes
            .iter()
            .map(String::as_str)
            .filter(|u| raw.to_ascii_lowercase().contains(&u.to_ascii_lowercase()))
            .collect();
        let mut s = if known.is_empty() {
            "none".to_string()
        } else {
            known.join(", ")
        };
        if !unknown.is_empty() {
            s.push_str(&format!("; unknown codes ignored: {}", unknown.join(", ")));
        }
        s
    };
    match column {
        Column::PatientId | Column::CollectedAt => ("identity", "as read".into()),
        Column::SpecimenId => (
            "identity",
            if raw.trim().is_empty() {
                format!("blank: the data row number {} is used", p.specimen_id)
            } else {
                "as read".into()
            },
        ),
        Column::Sex => ("context", format!("sex {}", sex_code(p.sex))),
        Column::AgeYears | Column::BirthDate => ("context", age()),
        Column::Pregnant => ("context", pregnancy_code(p.pregnancy).into()),
        Column::Altitude => (
            "context",
            or_not_used(p.altitude_m.map(|a| format!("altitude {} m", num(a)))),
        ),
        Column::Cigarettes => (
            "context",
            or_not_used(
                p.cigarettes_per_day
                    .map(|c| format!("{} cigarettes per day", num(c))),
            ),
        ),
        Column::Smoker => (
            "context",
            match p.smoker {
                Some(true) => "smoker".into(),
                Some(false) => "non-smoker".into(),
                None => "not used (blank or not yes/no)".into(),
            },
        ),
        Column::BackPain => ("context", format!("back pain {}", p.back_pain.code())),
        Column::Conditions => (
            "context",
            codes(p.conditions.iter().map(|c| c.code()).collect()),
        ),
        Column::Medications => (
            "context",
            codes(p.medications.iter().map(|m| m.code()).collect()),
        ),
        Column::Analyte {
            analyte,
            unit,
            factor,
        } => {
            let canonical = rs.canonical_unit(*analyte);
            let s = match p.cell(*analyte) {
                Cell::Missing => "missing".to_string(),
                Cell::Text(t) => {
                    format!("text result {t:?}: missing for the rules (DATA-002)")
                }
                Cell::Value(m) => {
                    let mut s = if *factor != 1.0 {
                        format!(
                            "{analyte} {} {unit} x {factor} = {} {canonical}",
                            raw.trim(),
                            show(*m)
                        )
                    } else {
                        format!("{analyte} {} {canonical}", show(*m))
                    };
                    if m.is_censored() {
                        s.push_str(" (censored, DATA-001)");
                    }
                    s
                }
            };
            ("analyte", s)
        }
        Column::Ignored => (
            "ignored",
            header
                .and_then(|h| h.ignored.iter().find(|(n, _)| n == name))
                .map_or_else(
                    || "ignored".to_string(),
                    |(_, why)| {
                        if why.contains("ignored") {
                            why.clone()
                        } else {
                            format!("ignored: {why}")
                        }
                    },
                ),
        ),
    }
}

/// One explained panel, before rendering.
struct Explained<'a> {
    source: &'a str,
    layout: &'static str,
    panel: &'a Panel,
    outcome: &'a Outcome,
    cells: Vec<CellTrace>,
}

fn to_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string_pretty(value).map_or_else(
        |e| format!("{{\"error\": {:?}}}\n", e.to_string()),
        |s| s + "\n",
    )
}

fn render_trace(x: Explained, rs: &Ruleset, json: bool) -> String {
    let (p, o) = (x.panel, x.outcome);
    let ids = guidance::attach(p, o, rs);
    let steps: Vec<Step> = o
        .evidence
        .iter()
        .map(|ev| {
            let meta = registry::rule(ev.rule);
            Step {
                rule: ev.rule.code(),
                family: meta.map_or("", |m| m.family),
                title: meta.map_or("", |m| m.title),
                evidence: ev.to_string(),
                citation: meta.map_or("", |m| m.citation),
                detail: &ev.text,
            }
        })
        .collect();
    let conversions = Analyte::ALL
        .iter()
        .filter_map(|a| {
            let c = p.conversions[a.index()].as_ref()?;
            let m = p.cell(*a).measure()?;
            Some(ConversionTrace {
                analyte: a.code(),
                column: &c.column,
                raw: &c.raw,
                unit: &c.unit,
                factor: c.factor,
                value: show(m),
                canonical_unit: rs.canonical_unit(*a),
            })
        })
        .collect();
    let evidence_of =
        |id: RuleId| -> Vec<String> { o.evidence_of(id).map(|e| e.to_string()).collect() };
    let mut hb_notes = Vec::new();
    let out_of_scope = evidence_of(RuleId::Anemia005);
    if !out_of_scope.is_empty() {
        hb_notes.push(format!("no cutoff applied: {}", out_of_scope.join("; ")));
    } else {
        if evidence_of(RuleId::Anemia002).is_empty() {
            hb_notes.push(if p.altitude_m.is_none() {
                "no elevation adjustment: no altitude_m given".to_string()
            } else {
                "no elevation adjustment".to_string()
            });
        }
        if evidence_of(RuleId::Anemia003).is_empty() {
            hb_notes.push(
                "no smoking adjustment: no cigarettes_per_day above 0 and no smoker = yes"
                    .to_string(),
            );
        }
        if o.hb_threshold_g_dl.is_none() {
            hb_notes.push("no threshold reported: anemia status unknown (see ANEMIA-004)".into());
        }
    }
    let hb_cutoff = HbCutoffTrace {
        population: evidence_of(RuleId::Anemia001),
        adjustments: evidence_of(RuleId::Anemia002)
            .into_iter()
            .chain(evidence_of(RuleId::Anemia003))
            .collect(),
        notes: hb_notes,
        threshold_g_dl: o.hb_threshold_g_dl.map(|t| (t * 10.0).round() / 10.0),
    };
    let rules_without_evidence = registry::rules()
        .map(|r| r.id)
        .filter(|id| o.evidence_of(*id).next().is_none())
        .map(|id| id.code())
        .collect();
    let trace = Trace {
        source: x.source.to_string(),
        line: p.line,
        layout: x.layout,
        patient_id: &p.patient_id,
        specimen_id: &p.specimen_id,
        ruleset_version: &rs.version,
        ruleset_checksum: &rs.checksum,
        ruleset_origin: match &rs.origin {
            RulesetOrigin::Embedded => "embedded".to_string(),
            RulesetOrigin::Directory(d) => d.clone(),
        },
        cells: x.cells,
        conversions,
        hb_cutoff,
        steps,
        rules_without_evidence,
        anemia: o.anemia,
        hb_threshold_g_dl: o.hb_threshold_g_dl.map(|t| (t * 10.0).round() / 10.0),
        severity: o.severity.map(|s| s.code()),
        morphology: o.morphology.code(),
        inflammation: o.inflammation.code(),
        iron_status: o.iron_status.code(),
        classification: o.classification.code(),
        flags: o.flags.iter().map(|f| f.code()).collect(),
        recommended_tests: o.recommended_tests.iter().map(|t| t.code()).collect(),
        guidance: ids
            .iter()
            .map(|id| GuidanceRef {
                id: id.code(),
                title: rs
                    .guidance_entry(id.code())
                    .map_or("", |g| g.title.as_str()),
            })
            .collect(),
    };
    if json {
        return to_json(&trace);
    }
    render_text(&trace)
}

fn render_text(t: &Trace) -> String {
    let none_if_empty = |items: &[&str]| {
        if items.is_empty() {
            "none".to_string()
        } else {
            items.join(", ")
        }
    };
    let mut s = format!(
        "Panel: patient {}, specimen {}\nSource: {} line {} ({} layout)\nRuleset: {}, {}, {}\n",
        t.patient_id,
        t.specimen_id,
        t.source,
        t.line,
        t.layout,
        t.ruleset_version,
        t.ruleset_origin,
        t.ruleset_checksum
    );

    s.push_str(if t.layout == "long" {
        "\nCells as read (the result row that anchors the panel; the other results are listed\nunder conversions and PANEL-001)\n"
    } else {
        "\nCells as read\n"
    });
    let width = t.cells.iter().map(|c| c.column.len()).max().unwrap_or(0);
    let raw_width = t
        .cells
        .iter()
        .map(|c| format!("{:?}", c.raw).chars().count())
        .max()
        .unwrap_or(0);
    for c in &t.cells {
        let raw = format!("{:?}", c.raw);
        let pad = raw_width.saturating_sub(raw.chars().count());
        s.push_str(
            format!(
                "  {:<width$}  {raw}{}  {}\n",
                c.column,
                " ".repeat(pad),
                c.read_as
            )
            .trim_end(),
        );
        s.push('\n');
    }
    if t.cells.is_empty() {
        s.push_str("  (the row could not be read again)\n");
    }

    s.push_str("\nConversions to canonical units\n");
    if t.conversions.is_empty() {
        s.push_str("  none: every analyte was reported in its canonical unit\n");
    }
    for c in &t.conversions {
        s.push_str(&format!(
            "  {}: {} {} {} x {} = {} {}\n",
            c.analyte, c.column, c.raw, c.unit, c.factor, c.value, c.canonical_unit
        ));
    }

    s.push_str("\nHaemoglobin cutoff\n");
    for line in t
        .hb_cutoff
        .population
        .iter()
        .chain(&t.hb_cutoff.adjustments)
    {
        s.push_str(&format!("  {line}\n"));
    }
    for note in &t.hb_cutoff.notes {
        s.push_str(&format!("  {note}\n"));
    }
    if let Some(th) = t.hb_cutoff.threshold_g_dl {
        s.push_str(&format!("  threshold used: {th:.1} g/dL\n"));
    }

    s.push_str("\nRules, in evaluation order\n");
    for (i, step) in t.steps.iter().enumerate() {
        let text = step.detail;
        s.push_str(&format!(
            "  {:>2}. {} {}\n      {}\n      source: {}\n",
            i + 1,
            step.rule,
            step.title,
            text,
            step.citation
        ));
    }
    s.push_str("  Rules that wrote no evidence line for this panel:\n");
    s.push_str(&wrap(&t.rules_without_evidence, "    ", 100));

    s.push_str(&format!(
        "\nResult\n  classification     {}\n  anemia             {}\n  threshold          {}\n  severity           {}\n  morphology         {}\n  inflammation       {}\n  iron status        {}\n  flags              {}\n  recommended tests  {}\n  guidance{}\n",
        t.classification,
        t.anemia.map_or("unknown".into(), |a| a.to_string()),
        t.hb_threshold_g_dl.map_or("none (anemia status unknown)".into(), |th| {
            format!("{th:.1} g/dL")
        }),
        t.severity.unwrap_or("not determined"),
        t.morphology,
        t.inflammation,
        t.iron_status,
        none_if_empty(&t.flags),
        none_if_empty(&t.recommended_tests),
        if t.guidance.is_empty() { "           none" } else { "" },
    ));
    let width = t.guidance.iter().map(|g| g.id.len()).max().unwrap_or(0);
    for g in &t.guidance {
        s.push_str(&format!("    {:<width$}  {}\n", g.id, g.title));
    }
    s
}

/// Joins items with `, ` into lines of at most `width` characters, each indented.
fn wrap(items: &[&str], indent: &str, width: usize) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for item in items {
        if !line.is_empty() && indent.len() + line.len() + item.len() + 2 > width {
            out.push_str(&format!("{indent}{line},\n"));
            line.clear();
        }
        if !line.is_empty() {
            line.push_str(", ");
        }
        line.push_str(item);
    }
    if !line.is_empty() {
        out.push_str(&format!("{indent}{line}\n"));
    }
    out
}
