//! The one table of output columns (interface 2026.2, "Output"): names, order and types.
//! The CSV header, the Parquet/Arrow schema, NDJSON keys, [`DECISION_COLUMNS`] (compared by
//! `diff`) and how each value is written in each format all derive from it, so they cannot
//! drift.

use polars::prelude::{DataType, TimeUnit};

use crate::analyte::Analyte;

/// Decimals of canonical analyte values and `age_years` in every output.
pub const VALUE_DECIMALS: usize = 2;
/// Decimals of `hb_threshold_g_dl`.
pub const THRESHOLD_DECIMALS: usize = 1;
/// Separator of code lists (flags, tests, guidance ids) in CSV.
pub const CODE_SEPARATOR: &str = ";";
/// Separator of text lists (evidence lines, guidance texts) in CSV.
pub const TEXT_SEPARATOR: &str = " | ";
/// Suffix of the comparator column that follows each analyte column.
pub const COMPARATOR_SUFFIX: &str = "_comparator";
/// Version of the output schema, stated in the summary and the file metadata.
pub const SCHEMA_VERSION: &str = "2026.2";
/// Keys of the Parquet key-value and Arrow schema metadata of a result file.
pub const META_ENGINE_VERSION: &str = "anemia_engine.version";
pub const META_RULESET_VERSION: &str = "anemia_engine.ruleset_version";
pub const META_RULESET_CHECKSUM: &str = "anemia_engine.ruleset_checksum";
pub const META_SCHEMA_VERSION: &str = "anemia_engine.schema_version";

/// The type of an output column, whatever the format (Parquet/Arrow types; CSV and NDJSON
/// write the same values as text and JSON).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColumnType {
    /// utf8; empty means null.
    Text,
    /// uint64.
    Count,
    /// timestamp[µs], naive (UTC when the input had an offset).
    Timestamp,
    /// float64 rounded to `decimals`.
    Number {
        decimals: usize,
    },
    Bool,
    /// utf8 codes from a closed vocabulary, dictionary-encoded.
    Label,
    /// list<utf8> of codes; CSV joins with [`CODE_SEPARATOR`].
    Codes,
    /// list<utf8> of text lines; CSV joins with [`TEXT_SEPARATOR`].
    Lines,
}

impl ColumnType {
    /// The polars type of the column (Label columns: the engine writes an Enum of the
    /// vocabulary's codes, see `results::label_dtype`; this is its physical value type).
    pub fn dtype(self) -> DataType {
        match self {
            ColumnType::Text | ColumnType::Label => DataType::String,
            ColumnType::Count => DataType::UInt64,
            ColumnType::Timestamp => DataType::Datetime(TimeUnit::Microseconds, None),
            ColumnType::Number { .. } => DataType::Float64,
            ColumnType::Bool => DataType::Boolean,
            ColumnType::Codes | ColumnType::Lines => DataType::List(Box::new(DataType::String)),
        }
    }

    /// The separator of a list column in CSV.
    pub fn separator(self) -> Option<&'static str> {
        match self {
            ColumnType::Codes => Some(CODE_SEPARATOR),
            ColumnType::Lines => Some(TEXT_SEPARATOR),
            _ => None,
        }
    }
}

/// One output column with a fixed name (analyte columns are named from [`Analyte`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutputColumn {
    pub name: &'static str,
    pub ty: ColumnType,
}

const fn col(name: &'static str, ty: ColumnType) -> OutputColumn {
    OutputColumn { name, ty }
}

const VALUE: ColumnType = ColumnType::Number {
    decimals: VALUE_DECIMALS,
};

/// Provenance, identity and context columns, before the analyte columns.
pub const IDENTITY: [OutputColumn; 9] = [
    col("source_file", ColumnType::Text),
    col("source_line", ColumnType::Count),
    col("patient_id", ColumnType::Text),
    col("specimen_id", ColumnType::Text),
    col("collected_at", ColumnType::Timestamp),
    col("sex", ColumnType::Text),
    col("age_years", VALUE),
    col("analyzer_id", ColumnType::Text),
    col("site", ColumnType::Text),
];

/// The columns that carry the engine's decisions for a panel, in output order (a change in
/// any of them is a changed result), after the analyte columns.
pub const DECISIONS: [OutputColumn; 10] = [
    col("anemia", ColumnType::Bool),
    col(
        "hb_threshold_g_dl",
        ColumnType::Number {
            decimals: THRESHOLD_DECIMALS,
        },
    ),
    col("severity", ColumnType::Label),
    col("morphology", ColumnType::Label),
    col("inflammation", ColumnType::Label),
    col("iron_status", ColumnType::Label),
    col("classification", ColumnType::Label),
    col("flags", ColumnType::Codes),
    col("recommended_tests", ColumnType::Codes),
    col("guidance", ColumnType::Codes),
];

/// The evidence column (left out with `--evidence none`).
pub const EVIDENCE: OutputColumn = col("evidence", ColumnType::Lines);

/// Provenance of the decisions, after the evidence.
pub const RULESET: [OutputColumn; 2] = [
    col("ruleset_version", ColumnType::Text),
    col("ruleset_checksum", ColumnType::Text),
];

/// The optional last column (`--guidance-text`; always in NDJSON).
pub const GUIDANCE_TEXT: OutputColumn = col("guidance_text", ColumnType::Lines);

/// The names of [`DECISIONS`] (a const, so `diff` can size its tables by it).
pub const DECISION_COLUMNS: [&str; 10] = names(&DECISIONS);

const fn names<const N: usize>(cols: &[OutputColumn; N]) -> [&'static str; N] {
    let mut out = [""; N];
    let mut i = 0;
    while i < N {
        out[i] = cols[i].name;
        i += 1;
    }
    out
}

/// Position of a decision column, at compile time (a name that is not a decision column
/// fails the build).
pub const fn decision_position(name: &str) -> usize {
    let mut i = 0;
    while i < DECISION_COLUMNS.len() {
        let c = DECISION_COLUMNS[i].as_bytes();
        let n = name.as_bytes();
        if c.len() == n.len() {
            let mut j = 0;
            while j < n.len() && c[j] == n[j] {
                j += 1;
            }
            if j == n.len() {
                return i;
            }
        }
        i += 1;
    }
    panic!("not a decision column")
}

/// Position of a decision column in [`DECISION_COLUMNS`] (None: not a decision column).
pub fn decision_index(name: &str) -> Option<usize> {
    DECISION_COLUMNS.iter().position(|c| *c == name)
}

/// Which optional columns a result file has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SchemaOptions {
    /// The `evidence` column (`--evidence full`).
    pub evidence: bool,
    /// The `guidance_text` column (`--guidance-text`, and always in NDJSON).
    pub guidance_text: bool,
}

impl Default for SchemaOptions {
    fn default() -> Self {
        SchemaOptions {
            evidence: true,
            guidance_text: false,
        }
    }
}

/// The output columns in order: name and type.
pub fn schema(opts: SchemaOptions) -> Vec<(String, ColumnType)> {
    let mut cols: Vec<(String, ColumnType)> = IDENTITY
        .iter()
        .map(|c| (c.name.to_string(), c.ty))
        .collect();
    for a in Analyte::ALL {
        let name = a.canonical_column();
        cols.push((format!("{name}{COMPARATOR_SUFFIX}"), ColumnType::Text));
        let last = cols.len() - 1;
        cols.insert(last, (name, VALUE));
    }
    cols.extend(DECISIONS.iter().map(|c| (c.name.to_string(), c.ty)));
    if opts.evidence {
        cols.push((EVIDENCE.name.to_string(), EVIDENCE.ty));
    }
    cols.extend(RULESET.iter().map(|c| (c.name.to_string(), c.ty)));
    if opts.guidance_text {
        cols.push((GUIDANCE_TEXT.name.to_string(), GUIDANCE_TEXT.ty));
    }
    cols
}

/// Column names, in output order.
pub fn column_names(opts: SchemaOptions) -> Vec<String> {
    schema(opts).into_iter().map(|(n, _)| n).collect()
}

/// The type of an output column by name (None: not an output column).
pub fn column_type(name: &str) -> Option<ColumnType> {
    let all = SchemaOptions {
        evidence: true,
        guidance_text: true,
    };
    schema(all)
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, t)| t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comparators_follow_their_analyte() {
        let names = column_names(SchemaOptions::default());
        for a in Analyte::ALL {
            let i = names
                .iter()
                .position(|n| *n == a.canonical_column())
                .unwrap();
            assert_eq!(names[i + 1], format!("{}_comparator", a.canonical_column()));
        }
        assert_eq!(names[0], "source_file");
        assert!(!names.contains(&"guidance_text".to_string()));
        let lean = column_names(SchemaOptions {
            evidence: false,
            guidance_text: false,
        });
        assert!(!lean.contains(&"evidence".to_string()));
        assert_eq!(lean.len() + 1, names.len());
    }
}
