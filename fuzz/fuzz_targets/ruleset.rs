//! The ruleset loader: the embedded ruleset with one file replaced by the input loads and
//! validates, or is refused with its problems listed; never a panic.
#![no_main]

use anemia_engine::ruleset::Ruleset;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The first byte picks the file replaced, the rest is its text.
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    let files = Ruleset::file_names();
    let file = files[usize::from(selector) % files.len()];
    if let Err(e) = Ruleset::embedded_with("fuzz", file, text) {
        assert!(!e.to_string().is_empty(), "an error says what is wrong");
    }
});
