//! The HL7 v2 ORU^R01 reader (plain segments or MLLP frames): any bytes give a configuration
//! error or outcomes, without a panic; every outcome points at a physical line of the input.
#![no_main]

mod common;

use std::sync::OnceLock;

use anemia_engine::ingest::hl7::read_hl7_bytes;
use anemia_engine::ingest::IngestOptions;
use anemia_engine::ruleset::Ruleset;
use libfuzzer_sys::fuzz_target;

fn ruleset() -> &'static Ruleset {
    static RS: OnceLock<Ruleset> = OnceLock::new();
    RS.get_or_init(|| Ruleset::embedded().expect("embedded ruleset"))
}

fuzz_target!(|data: &[u8]| {
    let Ok(read) = read_hl7_bytes(data, ruleset(), &IngestOptions::default()) else {
        return;
    };
    common::check_lines(&read.outcomes, data);
    common::classify_panels(&read.outcomes, ruleset());
    let _ = read.results_read();
});
