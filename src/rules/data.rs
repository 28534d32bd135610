//! DATA and PANEL: what the rules may rely on in the panel as read (censored values, text
//! results, age, unit conversions, long-layout assembly). Runs first, at every age.

use crate::analyte::Analyte;
use crate::cell::Cell;
use crate::vocab::{Flag, RuleId};

use super::registry::RuleMeta;
use super::{num, show, RuleInput, Trail};

pub(crate) const RULES: &[RuleMeta] = &[
    RuleMeta {
        id: RuleId::Data001,
        family: "DATA",
        title: "Censored values",
        rationale_template: "A censored result decides only when its whole interval lies in one band of the decision at hand; otherwise it counts as missing for that decision.",
        citation: "anemia-engine clinical rules 2026.1 section 7",
        thresholds: &[],
        tables: &[],
        raises: &[Flag::CensoredValue],
    },
    RuleMeta {
        id: RuleId::Data002,
        family: "DATA",
        title: "Text results",
        rationale_template: "A text result (hemolyzed, QNS, ...) is missing for the rules, kept in evidence, and the test is recommended again.",
        citation: "anemia-engine clinical rules 2026.1 section 7",
        thresholds: &[],
        tables: &[],
        raises: &[Flag::ValueNotNumeric],
    },
    RuleMeta {
        id: RuleId::Data003,
        family: "DATA",
        title: "Age missing",
        rationale_template: "Without a usable age (missing, unreadable, or above {age_valid_max_years} years) the panel is treated as an adult ({adult_age_years} years and over).",
        citation: "anemia-engine clinical rules 2026.1",
        thresholds: &["adult_age_years", "age_valid_max_years"],
        tables: &[],
        raises: &[Flag::AgeMissing],
    },
    RuleMeta {
        id: RuleId::Data004,
        family: "DATA",
        title: "Unit conversion",
        rationale_template: "Values reported in another accepted unit are converted to the canonical unit with the factor of units.csv.",
        citation: "reference-ranges units.csv (SI conversion factors)",
        thresholds: &[],
        tables: &["units.csv"],
        raises: &[],
    },
    RuleMeta {
        id: RuleId::Data005,
        family: "DATA",
        title: "Collection time",
        rationale_template: "Procedure 2026.2: a collected_at that is not an ISO 8601 date or date-time is flagged and quoted; it is not used. One with a UTC offset (or Z) is written in UTC in the output's collected_at, and the evidence says so.",
        citation: "anemia-engine interface 2026.2 (input columns)",
        thresholds: &[],
        tables: &[],
        raises: &[Flag::CollectedAtUnreadable],
    },
    RuleMeta {
        id: RuleId::Data006,
        family: "DATA",
        title: "Ambiguous numbers",
        rationale_template: "A value that could be read two ways (a single comma or point before exactly three digits, where the file does not settle the decimal mark) is never guessed: it is missing for the rules and quoted; --decimal point or comma settles it.",
        citation: "anemia-engine interface 2026.2 (numbers)",
        thresholds: &[],
        tables: &[],
        raises: &[Flag::AmbiguousNumber],
    },
];

pub(crate) const PANEL_RULES: &[RuleMeta] = &[RuleMeta {
    id: RuleId::Panel001,
    family: "PANEL",
    title: "Panel assembly",
    rationale_template: "Long layout: each haemoglobin result anchors a panel; other analytes join from the same specimen, else from the nearest collection of the same patient within the panel window; results without a haemoglobin anchor form their own panel.",
    citation: "anemia-engine interface (long layout)",
    thresholds: &[],
    tables: &[],
    raises: &[],
}];

pub(crate) fn evaluate(input: &RuleInput, trail: &mut Trail) {
    let panel = input.panel;
    let censored: Vec<String> = Analyte::ALL
        .iter()
        .filter_map(|a| match panel.cell(*a) {
            Cell::Value(m) if m.is_censored() => Some(format!("{a} {}", show(*m))),
            _ => None,
        })
        .collect();
    if !censored.is_empty() {
        trail.flag(Flag::CensoredValue);
        trail.note_with(RuleId::Data001, || {
            format!("censored: {}", censored.join(", "))
        });
    }
    let texts: Vec<String> = Analyte::ALL
        .iter()
        .filter_map(|a| match panel.cell(*a) {
            Cell::Text(t) => Some(format!("{a} {t:?}")),
            _ => None,
        })
        .collect();
    if !texts.is_empty() {
        trail.flag(Flag::ValueNotNumeric);
        trail.note_with(RuleId::Data002, || {
            format!("text results treated as missing: {}", texts.join(", "))
        });
    }
    let ambiguous: Vec<String> = Analyte::ALL
        .iter()
        .filter_map(|a| match panel.cell(*a) {
            Cell::Ambiguous(t) => Some(format!("{a} {t:?}")),
            _ => None,
        })
        .collect();
    if !ambiguous.is_empty() {
        trail.flag(Flag::AmbiguousNumber);
        trail.note_with(
            RuleId::Data006,
            || format!(
                "could be read two ways (decimal mark not settled; --decimal settles it), treated as missing: {}",
                ambiguous.join(", ")
            ),
        );
    }
    if panel.age_years.is_none() {
        trail.flag(Flag::AgeMissing);
        let why = panel.age_note.as_deref().unwrap_or("no age given");
        trail.note_with(RuleId::Data003, || {
            format!(
                "{why}; treated as adult (>= {} y)",
                num(input.rs.thresholds.adult_age_years)
            )
        });
    } else if let Some(note) = &panel.age_note {
        trail.note_with(RuleId::Data003, || note.clone());
    }
    let collected = panel.collected_at.trim();
    if input.v2().is_some() && !collected.is_empty() {
        match panel.collected {
            None => {
                trail.flag(Flag::CollectedAtUnreadable);
                trail.note_with(RuleId::Data005, || {
                    format!(
                        "collected_at {collected:?} is not an ISO 8601 date or date-time; not used"
                    )
                });
            }
            Some(t) if t.offset_minutes.is_some() => trail.note_with(RuleId::Data005, || {
                format!(
                    "collected_at {collected} carries a UTC offset: written as {} UTC",
                    crate::isotime::render_micros(t.micros)
                )
            }),
            Some(_) => {}
        }
    }
    for note in &panel.assembly_notes {
        trail.note_with(RuleId::Panel001, || note.clone());
    }
    for a in Analyte::ALL {
        if let (Some(c), Cell::Value(m)) = (&panel.conversions[a.index()], panel.cell(a)) {
            trail.note_with(RuleId::Data004, || {
                format!(
                    "{} {} {} x {} = {} {}",
                    c.column,
                    c.raw,
                    c.unit,
                    c.factor,
                    show(*m),
                    input.rs.canonical_unit(a)
                )
            });
        }
    }
}
