//! The FHIR R4 NDJSON (one resource or Bundle per line) reader: any bytes give a configuration error or outcomes, without a panic;
//! every outcome points at a physical line of the input (1 ..= the number of lines).
#![no_main]

use std::sync::OnceLock;

use anemia_engine::ingest::fhir::read_fhir_bytes;
use anemia_engine::ingest::{IngestOptions, RowOutcome};
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
    // \r, \n and \r\n each end a line; the last line may have no end.
    let ends = data
        .iter()
        .enumerate()
        .filter(|(i, &b)| b == b'\n' || (b == b'\r' && data.get(i + 1) != Some(&b'\n')))
        .count() as u64;
    for o in &read.outcomes {
        let line = match o {
            RowOutcome::Panel(p) => p.line,
            RowOutcome::Reject(r) => r.line,
            RowOutcome::NotAttached(n) => n.line,
        };
        assert!(line >= 1 && line <= ends + 1, "line {line} of {} lines", ends + 1);
    }
    let _ = read.results_read();
});
