//! The delimited reader, long layout: any bytes give a configuration error or a ledger in
//! which every physical data line is in exactly one place (a panel, a reject, or a result
//! not attached), as many as an independent count of the export's data lines.
#![no_main]

mod common;

use std::sync::OnceLock;

use anemia_engine::ingest::{read_delimited, IngestOptions, Layout, TextEncoding};
use anemia_engine::ruleset::Ruleset;
use libfuzzer_sys::fuzz_target;

fn ruleset() -> &'static Ruleset {
    static RS: OnceLock<Ruleset> = OnceLock::new();
    RS.get_or_init(|| Ruleset::embedded().expect("embedded ruleset"))
}

fuzz_target!(|data: &[u8]| {
    // The first byte picks the encoding, the rest is the export.
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    let utf8 = selector & 1 == 0;
    let opts = IngestOptions {
        layout: Layout::Long,
        encoding: if utf8 {
            TextEncoding::Utf8
        } else {
            TextEncoding::Latin1
        },
        ..IngestOptions::default()
    };
    if let Ok(read) = read_delimited("fuzz.csv", bytes, ruleset(), &opts) {
        common::check_ledger(&read, bytes, utf8);
        common::classify_panels(&read.outcomes, ruleset());
    }
});
