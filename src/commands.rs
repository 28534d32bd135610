//! The read-only subcommands: `rules`, `ranges check|show` and `explain`, printed from the
//! same metadata and tables the engine runs on.

use serde::Serialize;

use crate::codes::Flag;
use crate::error::{ConfigError, RunError};
use crate::guidance;
use crate::ingest::{Input, RowOutcome, WideReader};
use crate::panel::Panel;
use crate::rules::registry::{rule_by_id, RuleMeta, RULES};
use crate::rules::{self, Outcome};
use crate::ruleset::{GuidanceEntry, Ruleset};

/// The rule that raises each flag.
pub fn flag_rule(flag: Flag) -> &'static str {
    match flag {
        Flag::IronDeficiencyNormalMcv => "FLAG-001",
        Flag::B12FolateDeficiencyNormalMcv => "FLAG-002",
        Flag::HighRdwNormalMcv => "FLAG-003",
        Flag::MicrocytosisWithoutIronDeficiency => "FLAG-004",
        Flag::ThalassemiaTraitPattern => "FLAG-005",
        Flag::SevereAnemiaTransfusionThreshold => "FLAG-006",
        Flag::MyelomaScreenSuggested => "FLAG-007",
        Flag::VeryHighEsr => "FLAG-008",
        Flag::NsaidCaution => "FLAG-009",
        Flag::SteroidFractureRisk => "FLAG-010",
        Flag::MaskedIronDeficiency => "IRON-003",
        Flag::LowTsatAdequateFerritin => "IRON-004",
        Flag::IronOverloadPattern => "IRON-007",
        Flag::TsatDerived => "IRON-001",
        Flag::PossibleCoexistingIronDeficiency => "CLASS-001",
        Flag::InflammationPresumed => "INFLAM-004",
        Flag::AgeMissing => "DATA-003",
        Flag::AgeOutOfScope => "ANEMIA-005",
        Flag::SexUnknown => "ANEMIA-004",
        Flag::CensoredValue => "DATA-001",
        Flag::ValueNotNumeric => "DATA-002",
        Flag::AltitudeOutOfTable => "ANEMIA-002",
    }
}

#[derive(Serialize)]
struct FlagInfo<'a> {
    code: &'a str,
    raised_by: &'a str,
    rule: Option<&'a RuleMeta>,
}

#[derive(Serialize)]
struct Listing<'a> {
    ruleset_version: &'a str,
    rules: &'a [RuleMeta],
    flags: Vec<FlagInfo<'a>>,
    guidance: &'a [GuidanceEntry],
}

/// `anemia-engine rules [ID]`: every rule, flag and guidance entry, or one in full.
pub fn rules_command(rs: &Ruleset, id: Option<&str>, json: bool) -> Result<String, ConfigError> {
    let flag_info = |f: Flag| FlagInfo {
        code: f.code(),
        raised_by: flag_rule(f),
        rule: rule_by_id(flag_rule(f)),
    };
    let Some(id) = id else {
        let listing = Listing {
            ruleset_version: &rs.version,
            rules: RULES,
            flags: Flag::ALL.iter().map(|f| flag_info(*f)).collect(),
            guidance: &rs.guidance,
        };
        if json {
            return serde_json::to_string_pretty(&listing)
                .map_err(|e| ConfigError::Usage(e.to_string()));
        }
        let mut s = format!("Ruleset {}\n\nRULES\n", rs.version);
        for r in RULES {
            s.push_str(&format!("  {:<11} {}  [{}]\n", r.id, r.title, r.citation));
        }
        s.push_str("\nFLAGS\n");
        for f in Flag::ALL {
            s.push_str(&format!("  {:<37} raised by {}\n", f.code(), flag_rule(*f)));
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
            serde_json::to_string_pretty(r).map_err(|e| ConfigError::Usage(e.to_string()))
        } else {
            Ok(format!(
                "{}  {}\nfamily: {}\nrationale: {}\ncitation: {}\n",
                r.id, r.title, r.family, r.rationale, r.citation
            ))
        };
    }
    if let Some(f) = Flag::from_code(&id.to_ascii_uppercase()) {
        let info = flag_info(f);
        return if json {
            serde_json::to_string_pretty(&info).map_err(|e| ConfigError::Usage(e.to_string()))
        } else {
            let r = info.rule;
            Ok(format!(
                "{}\nraised by: {} {}\nrationale: {}\ncitation: {}\n",
                f.code(),
                info.raised_by,
                r.map_or("", |r| r.title),
                r.map_or("", |r| r.rationale),
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
    Row(u64),
}

#[derive(Serialize)]
struct Trace<'a> {
    source: String,
    line: u64,
    patient_id: &'a str,
    specimen_id: &'a str,
    ruleset_version: &'a str,
    ruleset_checksum: &'a str,
    anemia: Option<bool>,
    hb_threshold_g_dl: Option<f64>,
    severity: Option<&'a str>,
    morphology: &'a str,
    inflammation: &'a str,
    iron_status: &'a str,
    classification: &'a str,
    flags: Vec<&'a str>,
    recommended_tests: Vec<&'a str>,
    steps: Vec<Step<'a>>,
    guidance: Vec<GuidanceRef<'a>>,
}

#[derive(Serialize)]
struct Step<'a> {
    rule: &'a str,
    title: &'a str,
    evidence: &'a str,
    citation: &'a str,
}

#[derive(Serialize)]
struct GuidanceRef<'a> {
    id: &'a str,
    title: &'a str,
}

/// `anemia-engine explain`: one panel's trace, rule by rule.
pub fn explain(
    input: &Input,
    selector: &PanelSelector,
    rs: &Ruleset,
    json: bool,
) -> Result<String, RunError> {
    let mut reader = WideReader::open(0, input, rs)?;
    let mut batch = Vec::new();
    let mut row_number = 0u64;
    loop {
        batch.clear();
        let more = reader.next_batch(4096, rs, &mut batch)?;
        for outcome in &batch {
            row_number += 1;
            let hit = match (outcome, selector) {
                (RowOutcome::Panel(p), PanelSelector::Specimen(id)) => p.specimen_id == *id,
                (_, PanelSelector::Row(n)) => row_number == *n,
                _ => false,
            };
            if !hit {
                continue;
            }
            return match outcome {
                RowOutcome::Panel(p) => Ok(render_trace(
                    &input.name(),
                    p,
                    &rules::evaluate(p, rs),
                    rs,
                    json,
                )),
                RowOutcome::Reject(r) => Ok(format!(
                    "{} line {}: rejected ({}): {}\n",
                    input.name(),
                    r.line,
                    r.reason.code(),
                    r.message
                )),
            };
        }
        if !more {
            break;
        }
    }
    Err(RunError::Config(ConfigError::Usage(format!(
        "{}: no panel {}",
        input.name(),
        match selector {
            PanelSelector::Specimen(s) => format!("with specimen_id {s:?}"),
            PanelSelector::Row(n) => format!("at data row {n}"),
        }
    ))))
}

fn render_trace(source: &str, p: &Panel, o: &Outcome, rs: &Ruleset, json: bool) -> String {
    let ids = guidance::attach(p, o, rs);
    let steps: Vec<Step> = o
        .evidence
        .iter()
        .map(|line| {
            let id = line.split_whitespace().next().unwrap_or("");
            let meta = rule_by_id(id);
            Step {
                rule: meta.map_or(id, |m| m.id),
                title: meta.map_or("", |m| m.title),
                evidence: line,
                citation: meta.map_or("", |m| m.citation),
            }
        })
        .collect();
    let trace = Trace {
        source: source.to_string(),
        line: p.line,
        patient_id: &p.patient_id,
        specimen_id: &p.specimen_id,
        ruleset_version: &rs.version,
        ruleset_checksum: &rs.checksum,
        anemia: o.anemia,
        hb_threshold_g_dl: o.hb_threshold_g_dl.map(|t| (t * 10.0).round() / 10.0),
        severity: o.severity.map(|s| s.code()),
        morphology: o.morphology.code(),
        inflammation: o.inflammation.code(),
        iron_status: o.iron_status.code(),
        classification: o.classification.code(),
        flags: o.flags.iter().map(|f| f.code()).collect(),
        recommended_tests: o.recommended_tests.iter().map(|t| t.code()).collect(),
        steps,
        guidance: ids
            .iter()
            .map(|id| GuidanceRef {
                id,
                title: rs.guidance_entry(id).map_or("", |g| g.title.as_str()),
            })
            .collect(),
    };
    if json {
        return serde_json::to_string_pretty(&trace).unwrap_or_default();
    }
    let mut s = format!(
        "{} line {}: patient {} specimen {} (ruleset {})\n\n",
        trace.source, trace.line, trace.patient_id, trace.specimen_id, trace.ruleset_version
    );
    for step in &trace.steps {
        s.push_str(&format!(
            "{}\n    {} [{}]\n",
            step.evidence, step.title, step.citation
        ));
    }
    s.push_str(&format!(
        "\nclassification: {}\nanemia: {}  threshold: {}  severity: {}\nmorphology: {}  inflammation: {}  iron status: {}\nflags: {}\nrecommended tests: {}\nguidance:\n",
        trace.classification,
        trace.anemia.map_or("unknown".into(), |a| a.to_string()),
        trace.hb_threshold_g_dl.map_or("-".into(), |t| format!("{t:.1} g/dL")),
        trace.severity.unwrap_or("-"),
        trace.morphology,
        trace.inflammation,
        trace.iron_status,
        if trace.flags.is_empty() { "none".into() } else { trace.flags.join(", ") },
        if trace.recommended_tests.is_empty() { "none".into() } else { trace.recommended_tests.join(", ") },
    ));
    for g in &trace.guidance {
        s.push_str(&format!("  {}  {}\n", g.id, g.title));
    }
    s
}
