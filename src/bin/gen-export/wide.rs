//! The wide layout: one row per specimen, the context columns then one `<analyte>_<unit>`
//! column per analyte (the engine's own layout).

use crate::columns::{ANALYTES, CONTEXT_COLUMNS};
use crate::format::write_value;
use crate::panel::{Defect, Panel};

pub(crate) fn write_header(line: &mut String) {
    line.push_str(CONTEXT_COLUMNS.join(",").as_str());
    for a in ANALYTES {
        line.push(',');
        line.push_str(a.column);
    }
    line.push('\n');
}

impl Panel {
    /// The panel's line, with the defect `--messy` gave it (a blank line before, a cut line).
    pub(crate) fn write_wide(&self, line: &mut String) {
        if self.defect == Defect::BlankLineBefore {
            line.push('\n');
        }
        self.write_context(line);
        for (value, column) in self.values.iter().zip(&ANALYTES) {
            line.push(',');
            write_value(line, *value, column.decimals);
        }
        if self.defect == Defect::CutLine {
            // Cut after the 15th field, as a truncated transfer would.
            if let Some((cut, _)) = line.match_indices(',').nth(14) {
                line.truncate(cut);
            }
        }
        line.push('\n');
    }
}
