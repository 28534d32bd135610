//! The explain trace as text: one section per stage (cells as read, conversions,
//! haemoglobin cutoff, rules in evaluation order, result), and the JSON form.

use serde::Serialize;

use super::trace::Trace;

/// Pretty JSON with a final newline; a serialisation failure is reported inside the JSON.
pub(super) fn to_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string_pretty(value).map_or_else(
        |e| format!("{{\"error\": {:?}}}\n", e.to_string()),
        |s| s + "\n",
    )
}

/// The trace as `explain` prints it by default.
pub(super) fn render_text(t: &Trace) -> String {
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
    push_cells(&mut s, t);
    push_conversions(&mut s, t);
    push_hb_cutoff(&mut s, t);
    push_rules(&mut s, t);
    push_result(&mut s, t);
    s
}

fn push_cells(s: &mut String, t: &Trace) {
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
}

fn push_conversions(s: &mut String, t: &Trace) {
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
}

fn push_hb_cutoff(s: &mut String, t: &Trace) {
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
}

fn push_rules(s: &mut String, t: &Trace) {
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
}

fn push_result(s: &mut String, t: &Trace) {
    let none_if_empty = |items: &[&str]| {
        if items.is_empty() {
            "none".to_string()
        } else {
            items.join(", ")
        }
    };
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
