//! The explain trace model: the serialisable record of one panel (cells as read,
//! conversions, haemoglobin cutoff, evidence with citations, result), built from the
//! panel and its outcome; `--format json` prints it as is, `render` as text.

use serde::Serialize;

use crate::analyte::Analyte;
use crate::guidance;
use crate::panel::Panel;
use crate::rules::registry;
use crate::rules::{show, Outcome};
use crate::ruleset::{Ruleset, RulesetOrigin};
use crate::vocab::RuleId;

/// One cell of the explained row: as read, and what the engine made of it.
#[derive(Serialize)]
pub(super) struct CellTrace {
    pub(super) column: String,
    pub(super) raw: String,
    /// `identity`, `context`, `analyte`, `ignored` (or `cell` in the long layout).
    pub(super) role: &'static str,
    pub(super) read_as: String,
    /// For an analyte column: the canonical value the rules saw.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub(super) analyte: Option<AnalyteValue>,
}

/// The canonical value of an analyte cell.
#[derive(Serialize)]
pub(super) struct AnalyteValue {
    pub(super) analyte: &'static str,
    /// `value`, `censored`, `text` (a text result) or `missing`.
    pub(super) status: &'static str,
    /// Canonical value with its censoring prefix (`<10`), as quoted in evidence.
    pub(super) value: Option<String>,
    pub(super) unit: String,
}

/// A value converted to its canonical unit.
#[derive(Serialize)]
pub(super) struct ConversionTrace<'a> {
    pub(super) analyte: &'static str,
    pub(super) column: &'a str,
    pub(super) raw: &'a str,
    pub(super) unit: &'a str,
    pub(super) factor: f64,
    pub(super) value: String,
    pub(super) canonical_unit: &'a str,
}

/// How the haemoglobin cutoff was built: population row, adjustments, the cutoff used.
#[derive(Serialize)]
pub(super) struct HbCutoffTrace {
    pub(super) population: Vec<String>,
    pub(super) adjustments: Vec<String>,
    pub(super) notes: Vec<String>,
    pub(super) threshold_g_dl: Option<f64>,
}

/// The whole trace of one panel, as `--format json` prints it.
#[derive(Serialize)]
pub(super) struct Trace<'a> {
    pub(super) source: String,
    pub(super) line: u64,
    pub(super) layout: &'static str,
    pub(super) patient_id: &'a str,
    pub(super) specimen_id: &'a str,
    pub(super) ruleset_version: &'a str,
    pub(super) ruleset_checksum: &'a str,
    pub(super) ruleset_origin: String,
    pub(super) cells: Vec<CellTrace>,
    pub(super) conversions: Vec<ConversionTrace<'a>>,
    pub(super) hb_cutoff: HbCutoffTrace,
    pub(super) steps: Vec<Step<'a>>,
    pub(super) rules_without_evidence: Vec<&'static str>,
    pub(super) anemia: Option<bool>,
    pub(super) hb_threshold_g_dl: Option<f64>,
    pub(super) severity: Option<&'a str>,
    pub(super) morphology: &'a str,
    pub(super) inflammation: &'a str,
    pub(super) iron_status: &'a str,
    pub(super) classification: &'a str,
    pub(super) flags: Vec<&'a str>,
    pub(super) recommended_tests: Vec<&'a str>,
    pub(super) guidance: Vec<GuidanceRef<'a>>,
}

/// One evidence line with the rule that wrote it.
#[derive(Serialize)]
pub(super) struct Step<'a> {
    pub(super) rule: &'a str,
    pub(super) family: &'a str,
    pub(super) title: &'a str,
    pub(super) evidence: String,
    pub(super) citation: &'a str,
    /// The evidence after the rule id (text rendering).
    #[serde(skip)]
    pub(super) detail: &'a str,
}

/// A guidance entry attached to the panel.
#[derive(Serialize)]
pub(super) struct GuidanceRef<'a> {
    pub(super) id: &'a str,
    pub(super) title: &'a str,
}

/// A selected row that was rejected, as `--format json` prints it.
#[derive(Serialize)]
pub(super) struct RejectTrace<'a> {
    pub(super) source: &'a str,
    pub(super) line: u64,
    pub(super) rejected: bool,
    pub(super) reason_code: &'a str,
    pub(super) message: &'a str,
    pub(super) raw: &'a str,
}

/// One explained panel, before rendering.
pub(super) struct Explained<'a> {
    pub(super) source: &'a str,
    pub(super) layout: &'static str,
    pub(super) panel: &'a Panel,
    pub(super) outcome: &'a Outcome,
    pub(super) cells: Vec<CellTrace>,
}

impl<'a> Trace<'a> {
    /// The trace of one explained panel under ruleset `rs`.
    pub(super) fn build(x: Explained<'a>, rs: &'a Ruleset) -> Trace<'a> {
        let (p, o) = (x.panel, x.outcome);
        let ids = guidance::attach(p, o, rs);
        Trace {
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
            conversions: conversions(p, rs),
            hb_cutoff: hb_cutoff(p, o),
            steps: steps(o),
            rules_without_evidence: registry::rules_for(rs.procedure)
                .map(|r| r.id)
                .filter(|id| o.evidence_of(*id).next().is_none())
                .map(|id| id.code())
                .collect(),
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
        }
    }
}

/// Every evidence line, in evaluation order, with its rule's metadata.
fn steps(o: &Outcome) -> Vec<Step<'_>> {
    o.evidence
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
        .collect()
}

/// The values that were converted to their canonical unit.
fn conversions<'a>(p: &'a Panel, rs: &'a Ruleset) -> Vec<ConversionTrace<'a>> {
    Analyte::ALL
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
                value: show(m).to_string(),
                canonical_unit: rs.canonical_unit(*a),
            })
        })
        .collect()
}

/// The haemoglobin cutoff from the ANEMIA-001..003 evidence, with a note for each
/// adjustment that was not made and why.
fn hb_cutoff(p: &Panel, o: &Outcome) -> HbCutoffTrace {
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
    HbCutoffTrace {
        population: evidence_of(RuleId::Anemia001),
        adjustments: evidence_of(RuleId::Anemia002)
            .into_iter()
            .chain(evidence_of(RuleId::Anemia003))
            .collect(),
        notes: hb_notes,
        threshold_g_dl: o.hb_threshold_g_dl.map(|t| (t * 10.0).round() / 10.0),
    }
}
