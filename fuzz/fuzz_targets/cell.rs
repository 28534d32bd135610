//! The cell parser (clinical rules §7), numbers with each decimal mark, ISO times and the
//! context cells: no input panics, and every value read is finite.
#![no_main]

use anemia_engine::cell::{parse_cell, read_number, Cell, DecimalMark, Number};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for mark in [
        DecimalMark::Point,
        DecimalMark::Comma,
        DecimalMark::Unsettled,
    ] {
        if let Cell::Value(m) = parse_cell(text, mark) {
            assert!(m.value.is_finite(), "a cell value is finite");
        }
        if let Number::Value(v) = read_number(text, mark) {
            assert!(v.is_finite(), "a number is finite");
        }
    }
    let _ = anemia_engine::isotime::iso_timestamp(text);
    let _ = anemia_engine::isotime::iso_days(text);
    let _ = anemia_engine::isotime::iso_seconds(text);
});
