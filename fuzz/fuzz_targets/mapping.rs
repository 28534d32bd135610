//! The mapping file (TOML): any text loads or is refused with a message; never a panic.
#![no_main]

use std::sync::OnceLock;

use anemia_engine::ingest::Mapping;
use anemia_engine::ruleset::Ruleset;
use libfuzzer_sys::fuzz_target;

fn ruleset() -> &'static Ruleset {
    static RS: OnceLock<Ruleset> = OnceLock::new();
    RS.get_or_init(|| Ruleset::embedded().expect("embedded ruleset"))
}

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Err(e) = Mapping::parse("mapping.toml", text, ruleset()) {
            assert!(!e.to_string().is_empty(), "an error says what is wrong");
        }
    }
});
