//! Properties shared by the reader targets. The independent count of an export's data lines
//! is the test suite's own (tests/it/line_count.rs), so the two cannot drift apart.
#![allow(dead_code)] // each target uses some of these

use anemia_engine::ingest::{ReadAll, RowOutcome};

/// Every outcome points at a physical line of `data` (1 ..= its number of lines; `\r`,
/// `\n` and `\r\n` each end a line, the last line may have no end).
pub fn check_lines(outcomes: &[RowOutcome], data: &[u8]) {
    let ends = data
        .iter()
        .enumerate()
        .filter(|(i, &b)| b == b'\n' || (b == b'\r' && data.get(i + 1) != Some(&b'\n')))
        .count() as u64;
    for o in outcomes {
        let line = match o {
            RowOutcome::Panel(p) => p.line,
            RowOutcome::Reject(r) => r.line,
            RowOutcome::NotAttached(n) => n.line,
        };
        assert!(line >= 1 && line <= ends + 1, "line {line} of {} lines", ends + 1);
    }
}

#[path = "../../tests/it/line_count.rs"]
mod line_count;
use line_count::expected_rows;

/// Every data line is in exactly one place: the lines of the outcomes are distinct, and (with
/// `compare_count`, for UTF-8 input: the independent count compares header repeats as UTF-8
/// text) the rows accounted for equal the independent count of data lines.
pub fn check_ledger(read: &ReadAll, bytes: &[u8], compare_count: bool) {
    let mut lines = Vec::new();
    let mut accounted = 0u64;
    for o in &read.outcomes {
        match o {
            RowOutcome::Panel(p) => {
                accounted += p.rows_used;
                lines.push(p.line);
            }
            RowOutcome::Reject(r) => {
                accounted += 1;
                lines.push(r.line);
            }
            RowOutcome::NotAttached(n) => {
                accounted += 1;
                lines.push(n.line);
            }
        }
    }
    let n = lines.len();
    lines.sort_unstable();
    lines.dedup();
    assert_eq!(lines.len(), n, "a physical line is in two places");
    if !compare_count {
        return;
    }
    if let Some(expected) = expected_rows(bytes) {
        assert_eq!(accounted, expected, "rows accounted for != data lines");
    }
}

/// Every panel the reader made goes through the rules and the guidance, as in a run: whatever
/// values a bad export puts in a panel, classifying it does not panic, and every guidance text
/// attached renders.
pub fn classify_panels(outcomes: &[RowOutcome], rs: &anemia_engine::ruleset::Ruleset) {
    for o in outcomes {
        if let RowOutcome::Panel(p) = o {
            let outcome = anemia_engine::rules::evaluate(p, rs);
            for id in anemia_engine::guidance::attach(p, &outcome, rs) {
                let _ = anemia_engine::guidance::render_text(id, &outcome, rs);
            }
        }
    }
}
