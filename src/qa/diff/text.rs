//! The human-readable diff report: the two sides, the counts, the summary tables, every
//! changed panel with its evidence diff, and the panels found on one side only.

use super::model::{
    list, ChangedPanel, DiffReport, PanelKey, CLASSIFICATION, COMPARED_COLUMNS, FLAGS, LIST_COLUMNS,
};

/// Panels listed by key in the "only in" sections of the text report; the counts are exact.
const MAX_LISTED_KEYS: usize = 100;

fn or_none(list: &str) -> &str {
    if list.is_empty() {
        "(none)"
    } else {
        list
    }
}

fn or_empty(s: &str) -> &str {
    if s.is_empty() {
        "(empty)"
    } else {
        s
    }
}

/// Line diff of two evidence lists: (marker, line) with ' ' common, '-' OLD only, '+' NEW only.
fn evidence_diff<'a>(old: &'a [String], new: &'a [String]) -> Vec<(char, &'a str)> {
    let (n, m) = (old.len(), new.len());
    // Longest common subsequence table, from the end.
    let mut lcs = vec![vec![0usize; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if old[i] == new[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::with_capacity(n.max(m));
    while i < n || j < m {
        if i < n && j < m && old[i] == new[j] {
            out.push((' ', old[i].as_str()));
            i += 1;
            j += 1;
        } else if i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1]) {
            out.push(('-', old[i].as_str()));
            i += 1;
        } else {
            out.push(('+', new[j].as_str()));
            j += 1;
        }
    }
    out
}

impl DiffReport {
    /// The human-readable report.
    pub fn to_text(&self) -> String {
        let mut s = self.header();
        if self.changed.is_empty() && self.only_in_old.is_empty() && self.only_in_new.is_empty() {
            s.push_str("\nNo differences.\n");
            return s;
        }
        self.push_summary_tables(&mut s);
        if !self.changed.is_empty() {
            s.push_str("\nChanged panels, in NEW's order (+: only in NEW, -: only in OLD)\n");
        }
        for c in &self.changed {
            push_changed_panel(&mut s, c);
        }
        for (title, keys) in [
            ("Only in OLD, in OLD's order", &self.only_in_old),
            ("Only in NEW, in NEW's order", &self.only_in_new),
        ] {
            push_only_in(&mut s, title, keys);
        }
        s
    }

    /// The two sides with their provenance, what "changed" means, and the counts.
    fn header(&self) -> String {
        let mut s = String::new();
        for (label, side) in [("OLD", &self.old), ("NEW", &self.new)] {
            let mut provenance = Vec::new();
            if !side.ruleset_versions.is_empty() {
                provenance.push(format!("ruleset {}", side.ruleset_versions.join(", ")));
            }
            if !side.ruleset_checksums.is_empty() {
                provenance.push(side.ruleset_checksums.join(", "));
            }
            s.push_str(&format!(
                "{label}: {} ({} panels{}{})\n",
                side.name,
                side.panels,
                if provenance.is_empty() { "" } else { "; " },
                provenance.join(", ")
            ));
        }
        s.push_str(&format!(
            "Panels are matched by (patient_id, specimen_id). A panel is changed when any of {} differs; evidence is shown, not compared.\n\n",
            COMPARED_COLUMNS.join(", ")
        ));
        s.push_str(&format!(
            "  unchanged    {:>7}\n  changed      {:>7}\n  only in OLD  {:>7}\n  only in NEW  {:>7}\n",
            self.unchanged,
            self.changed.len(),
            self.only_in_old.len(),
            self.only_in_new.len()
        ));
        s
    }

    /// Columns changed, classification transitions, flags gained and lost.
    fn push_summary_tables(&self, s: &mut String) {
        s.push_str("\nColumns changed (panels)\n");
        push_table(
            s,
            self.column_changes()
                .into_iter()
                .map(|(c, n)| (c.to_string(), n)),
        );
        s.push_str("\nClassification transitions, OLD -> NEW (panels)\n");
        push_table(
            s,
            self.transitions()
                .into_iter()
                .map(|(o, n, k)| (format!("{o} -> {n}"), k)),
        );
        s.push_str("\nFlags gained (panels)\n");
        push_table(s, self.flags_gained());
        s.push_str("\nFlags lost (panels)\n");
        push_table(s, self.flags_lost());
    }
}

/// One changed panel: classification and flags always, the other compared columns when
/// they differ, then the evidence diff.
fn push_changed_panel(s: &mut String, c: &ChangedPanel) {
    s.push_str(&format!("\n{}\n", c.key));
    let changed = c.changed_columns();
    for (i, column) in COMPARED_COLUMNS.iter().enumerate() {
        let always = i == CLASSIFICATION || i == FLAGS;
        if !always && !changed.contains(column) {
            continue;
        }
        if c.old[i] == c.new[i] {
            let value = if LIST_COLUMNS.contains(column) {
                or_none(&c.old[i])
            } else {
                or_empty(&c.old[i])
            };
            s.push_str(&format!("  {column:<18} {value} (unchanged)\n"));
        } else if LIST_COLUMNS.contains(column) {
            push_list_change(s, column, i, c);
        } else {
            s.push_str(&format!(
                "  {column:<18} {} -> {}\n",
                or_empty(&c.old[i]),
                or_empty(&c.new[i])
            ));
        }
    }
    s.push_str("  evidence\n");
    for (mark, line) in evidence_diff(&c.old_evidence, &c.new_evidence) {
        s.push_str(&format!("    {mark} {line}\n"));
    }
}

/// A `;`-separated column (index `i`) that differs between OLD and NEW.
fn push_list_change(s: &mut String, column: &str, i: usize, c: &ChangedPanel) {
    let (old, new) = (list(&c.old[i]), list(&c.new[i]));
    let changes: Vec<String> = new
        .difference(&old)
        .map(|x| format!("+{x}"))
        .chain(old.difference(&new).map(|x| format!("-{x}")))
        .collect();
    // Flags in full; tests and guidance as what was added and removed
    // (in full when only their order changed).
    if i == FLAGS || changes.is_empty() {
        s.push_str(&format!(
            "  {column:<18} {} -> {}",
            or_none(&c.old[i]),
            or_none(&c.new[i])
        ));
        if !changes.is_empty() {
            s.push_str(&format!("  ({})", changes.join(", ")));
        }
        s.push('\n');
    } else {
        s.push_str(&format!("  {column:<18} {}\n", changes.join(", ")));
    }
}

/// The panels of one side only, the first [`MAX_LISTED_KEYS`] by key.
fn push_only_in(s: &mut String, title: &str, keys: &[PanelKey]) {
    if keys.is_empty() {
        return;
    }
    s.push_str(&format!("\n{title}\n"));
    for k in keys.iter().take(MAX_LISTED_KEYS) {
        s.push_str(&format!("  {k}\n"));
    }
    if keys.len() > MAX_LISTED_KEYS {
        s.push_str(&format!(
            "  ... and {} more\n",
            keys.len() - MAX_LISTED_KEYS
        ));
    }
}

fn push_table(s: &mut String, rows: impl IntoIterator<Item = (String, usize)>) {
    let rows: Vec<(String, usize)> = rows.into_iter().collect();
    if rows.is_empty() {
        s.push_str("  none\n");
        return;
    }
    let width = rows.iter().map(|(l, _)| l.len()).max().unwrap_or(0);
    for (label, n) in rows {
        s.push_str(&format!("  {label:<width$}  {n:>7}\n"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evidence_diff_marks_removed_and_added_lines() {
        let old: Vec<String> = ["A", "B", "C"].iter().map(|s| s.to_string()).collect();
        let new: Vec<String> = ["A", "X", "C", "D"].iter().map(|s| s.to_string()).collect();
        let d: Vec<String> = evidence_diff(&old, &new)
            .into_iter()
            .map(|(m, l)| format!("{m}{l}"))
            .collect();
        assert_eq!(d, [" A", "-B", "+X", " C", "+D"]);
    }
}
