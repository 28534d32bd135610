//! The diff report as data (`diff --format json`): one JSON object with both sides, the
//! counts, the summary tables and every changed panel, for scripts and QA records.
//!
//! Values are the normalised values the comparison used: list columns (`flags`,
//! `recommended_tests`, `guidance`) as arrays of codes, other columns as strings, an empty
//! cell as null. Tables keep the order of the text report.

use serde_json::{json, Map, Value};

use super::model::{list, ChangedPanel, DiffReport, PanelKey, COMPARED_COLUMNS, LIST_COLUMNS};

/// One compared value as JSON.
fn value(column: &str, v: &str) -> Value {
    if LIST_COLUMNS.contains(&column) {
        // Flags are compared as a set (sorted); tests and guidance keep their order.
        let items: Vec<&str> = if column == "flags" {
            list(v).into_iter().collect()
        } else {
            v.split(';').filter(|x| !x.is_empty()).collect()
        };
        json!(items)
    } else if v.is_empty() {
        Value::Null
    } else {
        json!(v)
    }
}

/// The compared columns of one side of a changed panel, in output column order.
fn values(row: &[String; 10]) -> Value {
    let mut out = Map::new();
    for (column, v) in COMPARED_COLUMNS.iter().zip(row) {
        out.insert((*column).to_string(), value(column, v));
    }
    Value::Object(out)
}

fn key(k: &PanelKey) -> Value {
    json!({ "patient_id": k.patient_id, "specimen_id": k.specimen_id })
}

fn changed_panel(c: &ChangedPanel) -> Value {
    json!({
        "patient_id": c.key.patient_id,
        "specimen_id": c.key.specimen_id,
        "changed_columns": c.changed_columns(),
        "flags_gained": c.flags_gained(),
        "flags_lost": c.flags_lost(),
        "old": values(&c.old),
        "new": values(&c.new),
    })
}

/// `{code: panels}` in the table's order.
fn counts(rows: impl IntoIterator<Item = (String, usize)>) -> Value {
    Value::Object(rows.into_iter().map(|(k, n)| (k, json!(n))).collect())
}

impl DiffReport {
    /// The report as one JSON object: `old`, `new` (file, panels, ruleset versions and
    /// checksums), `compared_columns`, `counts`, `column_changes`, `transitions`,
    /// `flags_gained`, `flags_lost`, `changed` (NEW's order), `only_in_old`, `only_in_new`.
    pub fn to_json(&self) -> Value {
        json!({
            "old": self.old,
            "new": self.new,
            "compared_columns": COMPARED_COLUMNS,
            "counts": {
                "unchanged": self.unchanged,
                "changed": self.changed.len(),
                "only_in_old": self.only_in_old.len(),
                "only_in_new": self.only_in_new.len(),
            },
            "column_changes": counts(
                self.column_changes().into_iter().map(|(c, n)| (c.to_string(), n)),
            ),
            "transitions": self
                .transitions()
                .into_iter()
                .map(|(old, new, panels)| json!({ "old": old, "new": new, "panels": panels }))
                .collect::<Vec<_>>(),
            "flags_gained": counts(self.flags_gained()),
            "flags_lost": counts(self.flags_lost()),
            "changed": self.changed.iter().map(changed_panel).collect::<Vec<_>>(),
            "only_in_old": self.only_in_old.iter().map(key).collect::<Vec<_>>(),
            "only_in_new": self.only_in_new.iter().map(key).collect::<Vec<_>>(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_arrays_and_empty_cells_null() {
        assert_eq!(value("flags", "B;A"), json!(["A", "B"]));
        assert_eq!(value("guidance", "b;a"), json!(["b", "a"]));
        assert_eq!(value("recommended_tests", ""), json!([]));
        assert_eq!(value("anemia", ""), Value::Null);
        assert_eq!(value("hb_threshold_g_dl", "12.0"), json!("12.0"));
    }
}
