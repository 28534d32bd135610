//! The library's frame door beyond the wide layout: a long frame classified by
//! `classify_frame` gives what `classify_input` gives for the file it came from, and a file
//! read through `classify_input` keeps its physical lines and rejects.

use std::path::Path;

use anemia_engine::frame::{classify_frame, classify_input, FrameOptions};
use anemia_engine::ingest::mapping::Mapping;
use anemia_engine::ingest::{IngestOptions, Input, Layout};
use anemia_engine::ruleset::Ruleset;
use polars::prelude::*;

const LONG: &str = "tests/fixtures/long_lis_export.csv";
const MAPPING: &str = "tests/fixtures/long_lis_mapping.toml";

/// Every cell as text, as a delimited reader sees it.
fn text_frame(path: &str, separator: u8) -> DataFrame {
    CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(Some(0))
        .with_parse_options(CsvParseOptions::default().with_separator(separator))
        .try_into_reader_with_file_path(Some(path.into()))
        .expect("reader")
        .finish()
        .expect("csv")
}

#[test]
fn long_frame_equals_the_long_file() {
    let rs = Ruleset::embedded().expect("ruleset");
    let mapping = Mapping::load(Path::new(MAPPING), &rs).expect("mapping");
    let ingest = IngestOptions {
        mapping: Some(mapping.clone()),
        ..IngestOptions::default()
    };
    let file = classify_input(
        &Input::File(LONG.into()),
        &rs,
        &ingest,
        &FrameOptions::default(),
    )
    .expect("file");
    let opts = FrameOptions {
        source: LONG.to_string(),
        layout: Layout::Auto,
        mapping: Some(mapping),
        ..FrameOptions::default()
    };
    let frame = classify_frame(text_frame(LONG, b'|'), &rs, &opts).expect("frame");
    assert_eq!(frame.summary.inputs[0].layout, "long");
    // 28 result lines: used in panels, rejected, or not attached; never lost.
    assert_eq!(frame.summary.rows_read, 28);
    assert!(frame.summary.ledger_balanced);
    assert!(frame.results.equals_missing(&file.results));
    // The same rejects; `raw` re-joins the fields with the input's delimiter (`|` in the file,
    // `,` for the frame).
    let without_raw = |df: &DataFrame| df.drop("raw").expect("raw");
    assert!(without_raw(&frame.rejects).equals_missing(&without_raw(&file.rejects)));
    assert_eq!(frame.rejects.height(), file.summary.rejected as usize);
}

#[test]
fn classify_input_keeps_physical_lines_and_rejects() {
    let rs = Ruleset::embedded().expect("ruleset");
    let out = classify_input(
        &Input::File("tests/fixtures/cli_messy.csv".into()),
        &rs,
        &IngestOptions::default(),
        &FrameOptions::default(),
    )
    .expect("classified");
    let lines: Vec<Option<u64>> = out
        .rejects
        .column("line")
        .expect("line")
        .u64()
        .expect("u64")
        .iter()
        .collect();
    // Line 3 is blank (not data); line 4 is a cut row, line 5 has a blank patient id.
    assert_eq!(&lines[..2], &[Some(4), Some(5)]);
    assert_eq!(
        out.summary.rows_read,
        out.summary.classified + out.summary.rejected
    );
    assert_eq!(
        out.results.height() + out.rejects.height(),
        out.summary.rows_read as usize
    );
}
