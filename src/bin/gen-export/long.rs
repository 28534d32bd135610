//! The long layout (LIS style): one line per result, the context columns repeated, then the
//! LOINC `test_code`, the `value` and its `unit`. Blank cells have no line.

use crate::columns::{ANALYTES, CONTEXT_COLUMNS};
use crate::format::write_value;
use crate::panel::{Panel, Value};

pub(crate) fn write_header(line: &mut String) {
    line.push_str(CONTEXT_COLUMNS.join(",").as_str());
    line.push_str(",test_code,value,unit\n");
}

impl Panel {
    /// The panel's result lines. `defect` is not written here: cut lines and blank lines are
    /// defects of the wide layout only, so a row marked with one is written whole.
    pub(crate) fn write_long(&self, line: &mut String) {
        let mut context = String::with_capacity(160);
        self.write_context(&mut context);
        for (value, column) in self.values.iter().zip(&ANALYTES) {
            if *value == Value::Blank {
                continue;
            }
            line.push_str(&context);
            line.push(',');
            line.push_str(column.loinc);
            line.push(',');
            write_value(line, *value, column.decimals);
            line.push(',');
            line.push_str(column.unit);
            line.push('\n');
        }
    }
}
