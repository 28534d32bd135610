//! The FHIR R4 NDJSON reader (one resource or Bundle per line): any bytes give a configuration
//! error or outcomes, without a panic; every outcome points at a physical line of the input.
#![no_main]

mod common;

use std::sync::OnceLock;

use anemia_engine::ingest::fhir::read_fhir_bytes;
use anemia_engine::ingest::IngestOptions;
use anemia_engine::ruleset::Ruleset;
use libfuzzer_sys::fuzz_target;

fn ruleset() -> &'static Ruleset {
    static RS: OnceLock<Ruleset> = OnceLock::new();
    RS.get_or_init(|| Ruleset::embedded().expect("embedded ruleset"))
}

fuzz_target!(|data: &[u8]| {
    let Ok(read) = read_fhir_bytes(data, ruleset(), &IngestOptions::default()) else {
        return;
    };
    common::check_lines(&read.outcomes, data);
    common::classify_panels(&read.outcomes, ruleset());
    let _ = read.results_read();
});
