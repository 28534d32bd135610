//! The one table of output columns: names, order, typed values, and which columns carry the
//! engine's decisions. The CSV header, the Parquet schema, NDJSON keys, [`DECISION_COLUMNS`]
//! (compared by `diff`) and each column's value type all derive from it, so they cannot drift.

use crate::analyte::Analyte;

/// Decimals of canonical analyte values and `age_years` in every output.
pub const VALUE_DECIMALS: usize = 2;
/// Decimals of `hb_threshold_g_dl`.
pub const THRESHOLD_DECIMALS: usize = 1;
/// Separator of code lists (flags, tests, guidance ids) in CSV and Parquet.
pub const CODE_SEPARATOR: &str = ";";
/// Separator of text lists (evidence lines, guidance texts) in CSV and Parquet.
pub const TEXT_SEPARATOR: &str = " | ";

/// How a column's value is typed, whatever the format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueType {
    Text,
    /// Fixed-precision number.
    Number {
        decimals: usize,
    },
    Bool,
    /// A list: joined with `separator` in CSV and Parquet, an array in NDJSON.
    List {
        separator: &'static str,
    },
}

/// The typed kind of an output column (Parquet column types; fixed, whatever the rows).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColumnKind {
    Text,
    Number,
    Bool,
}

impl ValueType {
    /// The storage kind: lists are stored as joined text.
    pub const fn kind(self) -> ColumnKind {
        match self {
            ValueType::Number { .. } => ColumnKind::Number,
            ValueType::Bool => ColumnKind::Bool,
            ValueType::Text | ValueType::List { .. } => ColumnKind::Text,
        }
    }
}

/// One output column with a fixed name (analyte columns are named from [`Analyte`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutputColumn {
    pub name: &'static str,
    pub value: ValueType,
}

const fn col(name: &'static str, value: ValueType) -> OutputColumn {
    OutputColumn { name, value }
}

const TEXT: ValueType = ValueType::Text;
const CODES: ValueType = ValueType::List {
    separator: CODE_SEPARATOR,
};
const TEXTS: ValueType = ValueType::List {
    separator: TEXT_SEPARATOR,
};

/// Identity and context columns, before the analyte columns.
pub const IDENTITY: [OutputColumn; 5] = [
    col("patient_id", TEXT),
    col("specimen_id", TEXT),
    col("collected_at", TEXT),
    col("sex", TEXT),
    col(
        "age_years",
        ValueType::Number {
            decimals: VALUE_DECIMALS,
        },
    ),
];

/// The columns that carry the engine's decisions for a panel, in output order (a change in
/// any of them is a changed result), after the analyte columns.
pub const DECISIONS: [OutputColumn; 10] = [
    col("anemia", ValueType::Bool),
    col(
        "hb_threshold_g_dl",
        ValueType::Number {
            decimals: THRESHOLD_DECIMALS,
        },
    ),
    col("severity", TEXT),
    col("morphology", TEXT),
    col("inflammation", TEXT),
    col("iron_status", TEXT),
    col("classification", TEXT),
    col("flags", CODES),
    col("recommended_tests", CODES),
    col("guidance", CODES),
];

/// Columns after the decisions.
pub const TRAILER: [OutputColumn; 3] = [
    col("evidence", TEXTS),
    col("ruleset_version", TEXT),
    col("ruleset_checksum", TEXT),
];

/// The optional last column (`--guidance-text`; always in NDJSON).
pub const GUIDANCE_TEXT: OutputColumn = col("guidance_text", TEXTS);

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

/// Analyte values are rendered as fixed-decimal text (censored values keep their `<`/`>`).
const ANALYTE_VALUE: ValueType = ValueType::Text;

/// Column names, in output order.
pub fn column_names(with_guidance_text: bool) -> Vec<String> {
    let mut cols: Vec<String> = IDENTITY.iter().map(|c| c.name.to_string()).collect();
    cols.extend(Analyte::ALL.iter().map(|a| a.canonical_column()));
    cols.extend(DECISIONS.iter().chain(&TRAILER).map(|c| c.name.to_string()));
    if with_guidance_text {
        cols.push(GUIDANCE_TEXT.name.to_string());
    }
    cols
}

/// The value type of an output column by name; unknown names (and analyte columns) are text.
pub fn value_type(name: &str) -> ValueType {
    IDENTITY
        .iter()
        .chain(&DECISIONS)
        .chain(&TRAILER)
        .chain([&GUIDANCE_TEXT])
        .find(|c| c.name == name)
        .map_or(ANALYTE_VALUE, |c| c.value)
}

/// The storage kind of an output column by name.
pub fn column_kind(name: &str) -> ColumnKind {
    value_type(name).kind()
}
