//! `--mapping FILE`: a lab's local column headers (wide layout) and local test codes (long
//! layout) mapped to analytes and units, validated against the ruleset before any row is read.
//!
//! ```toml
//! [headers]
//! "HGB (g/L)" = { analyte = "hb", unit = "g/L" }
//! "hb_g_dl" = { ignore = true }          # resolves two columns for one analyte
//! [test_codes]
//! "HGB" = { analyte = "hb" }             # unit from the row's unit column
//! "FERR" = { analyte = "ferritin", unit = "ng/mL" }   # default when the unit cell is blank
//! ```

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde::Deserialize;

use crate::analyte::Analyte;
use crate::error::ConfigError;
use crate::ruleset::Ruleset;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MappingFile {
    #[serde(default)]
    headers: BTreeMap<String, Entry>,
    #[serde(default)]
    test_codes: BTreeMap<String, Entry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    analyte: Option<String>,
    unit: Option<String>,
    #[serde(default)]
    ignore: bool,
}

/// What a mapped wide header holds.
#[derive(Clone, Debug, PartialEq)]
pub enum HeaderTarget {
    Analyte {
        analyte: Analyte,
        unit: String,
        factor: f64,
    },
    Ignore,
}

/// A mapped local test code.
#[derive(Clone, Debug, PartialEq)]
pub struct CodeTarget {
    pub analyte: Analyte,
    /// Unit text used when the row's unit cell is blank.
    pub default_unit: Option<String>,
}

/// A validated mapping.
#[derive(Clone, Debug, Default)]
pub struct Mapping {
    /// Keys: header lowercased and trimmed.
    pub headers: HashMap<String, HeaderTarget>,
    /// Keys: code trimmed, compared case-insensitively (uppercased).
    pub test_codes: HashMap<String, CodeTarget>,
}

impl Mapping {
    pub fn load(path: &Path, rs: &Ruleset) -> Result<Mapping, ConfigError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Input {
            file: name.clone(),
            message: format!("cannot read the mapping file: {e}"),
        })?;
        Mapping::parse(&name, &text, rs)
    }

    /// Reads a mapping file's text; `name` is the file named in messages.
    pub fn parse(name: &str, text: &str, rs: &Ruleset) -> Result<Mapping, ConfigError> {
        let name = name.to_string();
        let err = |line: u64, message: String| ConfigError::Input {
            file: if line > 0 {
                format!("{name} line {line}")
            } else {
                name.clone()
            },
            message,
        };
        let file: MappingFile = toml::from_str(text).map_err(|e| {
            let line = e.span().map_or(0, |s| {
                text[..s.start.min(text.len())].lines().count() as u64
            });
            err(line, format!("not a valid mapping: {}", e.message()))
        })?;
        let line_of = |key: &str| {
            text.lines()
                .position(|l| l.contains(&format!("\"{key}\"")) || l.trim_start().starts_with(key))
                .map_or(0, |i| i as u64 + 1)
        };
        let mut mapping = Mapping::default();
        for (header, entry) in &file.headers {
            let target = if entry.ignore {
                HeaderTarget::Ignore
            } else {
                let analyte = resolve_analyte(entry, header, &line_of, &err)?;
                let Some(unit_text) = &entry.unit else {
                    return Err(err(line_of(header), format!("header {header:?}: give the unit (e.g. unit = \"g/L\"); units are never guessed")));
                };
                let unit = rs.unit_from_text(analyte, unit_text).ok_or_else(|| {
                    err(line_of(header), format!("header {header:?}: unit {unit_text:?} is not a known unit for {analyte} ({})", known_units(rs, analyte)))
                })?;
                HeaderTarget::Analyte {
                    analyte,
                    unit: unit.unit.clone(),
                    factor: unit.factor,
                }
            };
            mapping
                .headers
                .insert(header.trim().to_ascii_lowercase(), target);
        }
        for (code, entry) in &file.test_codes {
            let analyte = resolve_analyte(entry, code, &line_of, &err)?;
            if let Some(u) = &entry.unit {
                if rs.unit_from_text(analyte, u).is_none() {
                    return Err(err(
                        line_of(code),
                        format!(
                            "test code {code:?}: unit {u:?} is not a known unit for {analyte} ({})",
                            known_units(rs, analyte)
                        ),
                    ));
                }
            }
            mapping.test_codes.insert(
                code.trim().to_ascii_uppercase(),
                CodeTarget {
                    analyte,
                    default_unit: entry.unit.clone(),
                },
            );
        }
        Ok(mapping)
    }

    pub fn header(&self, raw: &str) -> Option<&HeaderTarget> {
        self.headers.get(&raw.trim().to_ascii_lowercase())
    }

    pub fn test_code(&self, raw: &str) -> Option<&CodeTarget> {
        self.test_codes.get(&raw.trim().to_ascii_uppercase())
    }
}

fn resolve_analyte(
    entry: &Entry,
    key: &str,
    line_of: &dyn Fn(&str) -> u64,
    err: &dyn Fn(u64, String) -> ConfigError,
) -> Result<Analyte, ConfigError> {
    let Some(a) = &entry.analyte else {
        return Err(err(
            line_of(key),
            format!("{key:?}: give the analyte (e.g. analyte = \"hb\") or ignore = true"),
        ));
    };
    Analyte::from_code(a.trim()).ok_or_else(|| {
        let all: Vec<&str> = Analyte::ALL.iter().map(|a| a.code()).collect();
        err(
            line_of(key),
            format!("{key:?}: unknown analyte {a:?} (known: {})", all.join(", ")),
        )
    })
}

/// The unit spellings accepted for an analyte, for error messages.
pub fn known_units(rs: &Ruleset, analyte: Analyte) -> String {
    let mut v: Vec<&str> = rs
        .unit_aliases
        .iter()
        .filter(|a| a.row.analyte == analyte)
        .map(|a| a.row.unit_text.as_str())
        .collect();
    v.dedup();
    format!("known: {}", v.join(", "))
}
