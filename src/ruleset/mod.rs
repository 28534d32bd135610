//! The versioned ruleset: every clinical number the rules use, loaded from
//! `reference-ranges/<version>/` (embedded in the binary, or a lab's copy with `--ruleset`),
//! validated as a whole before any row is read. A [`Ruleset`] value only exists validated.

mod lists;
mod tables;
mod validate;

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;
use sha2::{Digest, Sha256};

pub use lists::{ClinicalList, ClinicalListRow, ClinicalLists};
use tables::{check_contiguous, line_of_key, read_table, Problems};
pub use tables::{
    AdjustmentBand, AdjustmentKind, AnemiaKey, FerritinRow, GuidanceEntry, HbCutoffRow, Lined,
    LoincRow, McvRow, PlausibilityRow, PregnancyKey, SexKey, ThresholdRow, UnitAliasRow, UnitRow,
};
use validate::{
    validate_ferritin, validate_hb, validate_loinc, validate_mcv, validate_plausibility,
    validate_thresholds, validate_unit_aliases, validate_units,
};

use crate::analyte::{Analyte, ANALYTE_COUNT};
use crate::error::RulesetError;
use crate::vocab::Procedure;

const MANIFEST: &str = "MANIFEST.toml";

/// Declares the files of a ruleset once: [`RULESET_FILES`] (manifest order) and the default
/// ruleset embedded from `reference-ranges/DIR/` (the manifest and those files).
macro_rules! ruleset_files {
    ($dir:literal: $($name:literal),+ $(,)?) => {
        /// The files every ruleset consists of, in manifest order.
        pub const RULESET_FILES: [&str; [$($name),+].len()] = [$($name),+];

        /// The default ruleset, compiled into the binary.
        const EMBEDDED: [(&str, &str); [$($name),+].len() + 1] = [
            (MANIFEST, include_str!(concat!("../../reference-ranges/", $dir, "/MANIFEST.toml"))),
            $(($name, include_str!(concat!("../../reference-ranges/", $dir, "/", $name)))),+
        ];
    };
}

ruleset_files!("2026.2":
    "units.csv",
    "plausibility.csv",
    "hb_cutoffs.csv",
    "hb_adjustments.csv",
    "mcv_ranges.csv",
    "ferritin_cutoffs.csv",
    "thresholds.csv",
    "guidance.toml",
    "loinc.csv",
    "unit_aliases.csv",
    "clinical_lists.csv",
);

macro_rules! thresholds {
    ($(#[$meta:meta])* $name:ident, $ids:ident { $($id:ident : $unit:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Debug)]
        pub struct $name { $(pub $id: f64),+ }

        /// Ids and required units of these thresholds.
        pub const $ids: &[(&str, &str)] = &[$((stringify!($id), $unit)),+];

        impl $name {
            fn from_map(map: &HashMap<String, f64>) -> Option<$name> {
                Some($name { $($id: *map.get(stringify!($id))?),+ })
            }

            /// The value of a threshold by its id.
            pub fn get(&self, id: &str) -> Option<f64> {
                match id { $(stringify!($id) => Some(self.$id),)+ _ => None }
            }
        }
    };
}

thresholds! {
    /// Single-valued thresholds of `thresholds.csv` every procedure reads, each with its row
    /// (unit, population, source).
    Thresholds, THRESHOLD_IDS {
    age_scope_min_years: "years",
    age_valid_max_years: "years",
    adult_age_years: "years",
    pregnancy_min_age_years: "years",
    hb_cutoff_extrapolated_above_years: "years",
    smoker_without_count_add: "g/L",
    rdw_high_above: "%",
    mentzer_thalassemia_below: "fL per 10^12/L",
    crp_inflammation_above: "mg/L",
    agp_inflammation_above: "g/L",
    esr_uln_divisor: "years per mm/h",
    esr_uln_offset_female: "years",
    esr_uln_offset_male: "years",
    esr_uln_age_missing_male: "mm/h",
    esr_uln_age_missing_female: "mm/h",
    tibc_per_transferrin: "ug/dL per mg/dL",
    tsat_derived_max: "%",
    tsat_restricted_below: "%",
    ferritin_inflammation_band_upper: "ug/L",
    stfr_index_deficient_above: "index",
    stfr_index_restricted_below: "index",
    stfr_index_min_ferritin: "ug/L",
    tsat_low_adequate_ferritin_below: "%",
    overload_tsat_above: "%",
    overload_ferritin_female_above: "ug/L",
    overload_ferritin_male_above: "ug/L",
    b12_deficient_below: "pg/mL",
    folate_deficient_below: "ng/mL",
    transfusion_hb_below: "g/dL",
    transfusion_hb_below_cardiovascular: "g/dL",
    myeloma_min_age_years: "years",
    myeloma_esr_age_years: "years",
    myeloma_calcium_above: "mg/dL",
    myeloma_creatinine_above: "mg/dL",
    very_high_esr_from: "mm/h",
    back_pain_guidance_min_age_years: "years",
    nsaid_egfr_below: "mL/min/1.73m2",
    nsaid_creatinine_above: "mg/dL",
    }
}

thresholds! {
    /// Thresholds of the rules procedure 2026.2 added (required from that procedure on).
    Thresholds2026_2, THRESHOLD_IDS_2026_2 {
    retic_pct_high_above: "%",
    retic_abs_high_above: "10^9/L",
    ldh_high_above: "U/L",
    haptoglobin_low_below: "g/L",
    bilirubin_high_above: "mg/dL",
    overload_tsat_male_above: "%",
    overload_postmenopausal_age_years: "years",
    hf_ferritin_deficient_below: "ug/L",
    hf_ferritin_tsat_band_upper: "ug/L",
    hf_tsat_below: "%",
    ckd_iron_trial_tsat_max: "%",
    ckd_iron_trial_ferritin_max: "ug/L",
    nsaid_age_from_years: "years",
    }
}

/// Where a ruleset was loaded from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RulesetOrigin {
    Embedded,
    Directory(String),
}

impl std::fmt::Display for RulesetOrigin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RulesetOrigin::Embedded => f.write_str("(embedded)"),
            RulesetOrigin::Directory(d) => f.write_str(d),
        }
    }
}

/// A validated ruleset.
#[derive(Clone, Debug)]
pub struct Ruleset {
    pub version: String,
    pub effective_date: String,
    /// `sha256:<hex>` over the listed files (LF line endings).
    pub checksum: String,
    pub origin: RulesetOrigin,
    pub units: Vec<Lined<UnitRow>>,
    pub plausibility: Vec<Lined<PlausibilityRow>>,
    pub hb_cutoffs: Vec<Lined<HbCutoffRow>>,
    pub altitude: Vec<Lined<AdjustmentBand>>,
    pub smoking: Vec<Lined<AdjustmentBand>>,
    pub mcv: Vec<Lined<McvRow>>,
    pub ferritin: Vec<Lined<FerritinRow>>,
    /// The decision procedure the tables are written for.
    pub procedure: Procedure,
    pub thresholds: Thresholds,
    /// Present exactly when `procedure` is 2026.2 or later.
    pub thresholds_2026_2: Option<Thresholds2026_2>,
    pub threshold_rows: Vec<Lined<ThresholdRow>>,
    pub guidance: Vec<GuidanceEntry>,
    pub loinc: Vec<Lined<LoincRow>>,
    pub unit_aliases: Vec<Lined<UnitAliasRow>>,
    pub clinical_list_rows: Vec<Lined<ClinicalListRow>>,
    /// The condition and medication lists the rules consult.
    pub lists: ClinicalLists,
    /// Plausible range per analyte, indexed by [`Analyte::index`].
    plausible: [(f64, f64); ANALYTE_COUNT],
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    version: String,
    effective_date: String,
    #[serde(default)]
    description: String,
    files: Vec<String>,
    checksum: String,
    /// The decision procedure the tables are written for (absent: 2026.1).
    #[serde(default)]
    procedure: Option<Procedure>,
}

/// Computes the ruleset checksum over the listed files in order (CRLF normalised to LF).
pub fn compute_checksum(files: &[(String, String)]) -> String {
    let mut hasher = Sha256::new();
    for (name, text) in files {
        hasher.update(name.as_bytes());
        hasher.update(b"\n");
        hasher.update(text.replace("\r\n", "\n").as_bytes());
        hasher.update(b"\n");
    }
    let digest = hasher.finalize();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

impl Ruleset {
    /// The ruleset compiled into the binary.
    pub fn embedded() -> Result<Ruleset, RulesetError> {
        let files: HashMap<String, String> = EMBEDDED
            .iter()
            .map(|(n, t)| (n.to_string(), t.to_string()))
            .collect();
        Ruleset::from_files(RulesetOrigin::Embedded, &files)
    }

    /// The embedded ruleset with one file's text replaced, loaded and validated as a lab's
    /// copy would be (origin `name`): how the loader is tested and fuzzed without a directory.
    pub fn embedded_with(name: &str, file: &str, text: &str) -> Result<Ruleset, RulesetError> {
        let mut files: HashMap<String, String> = EMBEDDED
            .iter()
            .map(|(n, t)| (n.to_string(), t.to_string()))
            .collect();
        files.insert(file.to_string(), text.to_string());
        Ruleset::from_files(RulesetOrigin::Directory(name.to_string()), &files)
    }

    /// The names of a ruleset's files, the manifest first.
    pub fn file_names() -> Vec<&'static str> {
        std::iter::once(MANIFEST).chain(RULESET_FILES).collect()
    }

    /// Loads and validates a ruleset directory (a lab's local copy).
    pub fn from_dir(dir: &Path) -> Result<Ruleset, RulesetError> {
        let origin = RulesetOrigin::Directory(dir.display().to_string());
        let meta = std::fs::metadata(dir).map_err(|source| RulesetError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        if !meta.is_dir() {
            return Err(RulesetError::Invalid {
                origin: origin.to_string(),
                problems: vec![crate::error::RulesetProblem {
                    file: dir.display().to_string(),
                    line: 0,
                    message:
                        "is not a directory; --ruleset needs a directory holding MANIFEST.toml"
                            .into(),
                }],
            });
        }
        let mut files = HashMap::new();
        let mut missing = Vec::new();
        for name in std::iter::once(MANIFEST).chain(RULESET_FILES) {
            match std::fs::read_to_string(dir.join(name)) {
                Ok(text) => {
                    files.insert(name.to_string(), text);
                }
                Err(e) => missing.push(crate::error::RulesetProblem {
                    file: dir.join(name).display().to_string(),
                    line: 0,
                    message: format!("cannot read: {e}"),
                }),
            }
        }
        if !missing.is_empty() {
            return Err(RulesetError::Invalid {
                origin: origin.to_string(),
                problems: missing,
            });
        }
        Ruleset::from_files(origin, &files)
    }

    fn from_files(
        origin: RulesetOrigin,
        files: &HashMap<String, String>,
    ) -> Result<Ruleset, RulesetError> {
        let mut p = Problems::default();
        let text = |name: &str| files.get(name).map(String::as_str).unwrap_or("");

        let manifest_text = text(MANIFEST);
        let (manifest, checksum) = check_manifest(manifest_text, files, &mut p);

        let units = read_table::<UnitRow>("units.csv", text("units.csv"), &mut p);
        let plausibility =
            read_table::<PlausibilityRow>("plausibility.csv", text("plausibility.csv"), &mut p);
        let hb_cutoffs =
            read_table::<HbCutoffRow>("hb_cutoffs.csv", text("hb_cutoffs.csv"), &mut p);
        let adjustments =
            read_table::<AdjustmentBand>("hb_adjustments.csv", text("hb_adjustments.csv"), &mut p);
        let mcv = read_table::<McvRow>("mcv_ranges.csv", text("mcv_ranges.csv"), &mut p);
        let ferritin =
            read_table::<FerritinRow>("ferritin_cutoffs.csv", text("ferritin_cutoffs.csv"), &mut p);
        let threshold_rows =
            read_table::<ThresholdRow>("thresholds.csv", text("thresholds.csv"), &mut p);
        let procedure = manifest
            .as_ref()
            .and_then(|m| m.procedure)
            .unwrap_or(Procedure::V2026_1);
        let guidance =
            tables::parse_guidance("guidance.toml", text("guidance.toml"), procedure, &mut p);
        let loinc = read_table::<LoincRow>("loinc.csv", text("loinc.csv"), &mut p);
        let unit_aliases =
            read_table::<UnitAliasRow>("unit_aliases.csv", text("unit_aliases.csv"), &mut p);
        let clinical_list_rows =
            read_table::<ClinicalListRow>("clinical_lists.csv", text("clinical_lists.csv"), &mut p);
        let lists = lists::validate(&clinical_list_rows, &mut p);
        validate_loinc(&loinc, &mut p);
        validate_unit_aliases(&unit_aliases, &units, &mut p);

        validate_units(&units, procedure, &mut p);
        let plausible = validate_plausibility(&plausibility, &units, &mut p);
        let (thresholds, thresholds_2026_2) =
            validate_thresholds(&threshold_rows, procedure, &mut p);
        let start = thresholds.as_ref().map_or(0.5, |t| t.age_scope_min_years);
        let pregnancy_start = thresholds
            .as_ref()
            .map_or(10.0, |t| t.pregnancy_min_age_years);
        validate_hb(&hb_cutoffs, start, pregnancy_start, &mut p);
        let (altitude, smoking) = validate_adjustments(adjustments, &mut p);
        validate_mcv(&mcv, start, &mut p);
        validate_ferritin(&ferritin, start, &mut p);

        match (manifest, thresholds) {
            (Some(m), Some(thresholds)) if p.0.is_empty() => Ok(Ruleset {
                version: m.version,
                effective_date: m.effective_date,
                checksum,
                origin,
                units,
                plausibility,
                hb_cutoffs,
                altitude,
                smoking,
                mcv,
                ferritin,
                procedure,
                thresholds,
                thresholds_2026_2,
                threshold_rows,
                guidance,
                loinc,
                unit_aliases,
                clinical_list_rows,
                lists,
                plausible,
            }),
            _ => Err(RulesetError::Invalid {
                origin: origin.to_string(),
                problems: p.0,
            }),
        }
    }

    /// Conversion of a column suffix to the canonical unit.
    pub fn unit(&self, analyte: Analyte, suffix: &str) -> Option<&UnitRow> {
        self.units
            .iter()
            .map(|u| &u.row)
            .find(|u| u.analyte == analyte && u.suffix == suffix)
    }

    /// Display label of the canonical unit (`g/dL`).
    pub fn canonical_unit(&self, analyte: Analyte) -> &str {
        self.unit(analyte, analyte.canonical_suffix())
            .map_or("", |u| u.unit.as_str())
    }

    /// Inclusive plausible range in canonical units.
    pub fn plausible_range(&self, analyte: Analyte) -> (f64, f64) {
        self.plausible[analyte.index()]
    }

    /// Hb cutoff row for a sex key (F, M or U), pregnancy key and age.
    pub fn hb_row(&self, sex: SexKey, pregnancy: PregnancyKey, age: f64) -> Option<&HbCutoffRow> {
        self.hb_cutoffs.iter().map(|r| &r.row).find(|r| {
            (r.sex == sex || r.sex == SexKey::Any)
                && r.pregnancy == pregnancy
                && in_age(age, r.age_from_years, r.age_to_years)
        })
    }

    /// The normocytic MCV range for an age and sex (rows for one sex win over `any`).
    pub fn mcv_row(&self, age: f64, sex: SexKey) -> Option<&McvRow> {
        let rows = || {
            self.mcv
                .iter()
                .map(|r| &r.row)
                .filter(move |r| in_age(age, r.age_from_years, r.age_to_years))
        };
        rows()
            .find(|r| r.sex == sex)
            .or_else(|| rows().find(|r| r.sex == SexKey::Any))
    }

    pub fn ferritin_row(&self, age: f64, anemic: bool) -> Option<&FerritinRow> {
        let key = if anemic {
            AnemiaKey::Anemic
        } else {
            AnemiaKey::NotAnemic
        };
        self.ferritin.iter().map(|r| &r.row).find(|r| {
            (r.anemia == key || r.anemia == AnemiaKey::Any)
                && in_age(age, r.age_from_years, r.age_to_years)
        })
    }

    /// The adjustment band holding `x`.
    pub fn adjustment(&self, kind: AdjustmentKind, x: f64) -> Option<&AdjustmentBand> {
        let bands = match kind {
            AdjustmentKind::Altitude => &self.altitude,
            AdjustmentKind::Smoking => &self.smoking,
        };
        bands
            .iter()
            .map(|b| &b.row)
            .find(|b| b.from.is_none_or(|f| x >= f) && b.to.is_none_or(|t| x < t))
    }

    /// The analyte a LOINC code measures.
    pub fn loinc(&self, code: &str) -> Option<Analyte> {
        let code = code.trim();
        self.loinc
            .iter()
            .find(|r| r.row.code == code)
            .map(|r| r.row.analyte)
    }

    /// The conversion for a unit written as text (`g/dL`, `µmol/L`, `10*12/L`) or as a column
    /// suffix (`g_dl`), for one analyte. Never guesses: an unlisted spelling gives None.
    pub fn unit_from_text(&self, analyte: Analyte, text: &str) -> Option<&UnitRow> {
        if let Some(u) = self.unit(analyte, text.trim()) {
            return Some(u);
        }
        let wanted = normalise_unit_text(text);
        let alias = self
            .unit_aliases
            .iter()
            .map(|a| &a.row)
            .find(|a| a.analyte == analyte && normalise_unit_text(&a.unit_text) == wanted)?;
        self.unit(analyte, &alias.suffix)
    }

    pub fn guidance_entry(&self, id: &str) -> Option<&GuidanceEntry> {
        self.guidance.iter().find(|g| g.id == id)
    }
}

/// Unit text compared without case and spaces, with µ/μ read as u.
pub fn normalise_unit_text(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            'µ' | 'μ' => 'u',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

fn in_age(age: f64, from: f64, to: Option<f64>) -> bool {
    age >= from && to.is_none_or(|t| age < t)
}

/// The manifest (version, file list, checksum) and the checksum the files actually have.
fn check_manifest(
    manifest_text: &str,
    files: &HashMap<String, String>,
    p: &mut Problems,
) -> (Option<Manifest>, String) {
    let text = |name: &str| files.get(name).map(String::as_str).unwrap_or("");
    let manifest: Option<Manifest> = match toml::from_str(manifest_text) {
        Ok(m) => Some(m),
        Err(e) => {
            let line = e
                .span()
                .map_or(0, |s| tables::line_of(manifest_text, s.start));
            p.push(
                MANIFEST,
                line,
                format!("not a valid manifest: {}", e.message()),
            );
            None
        }
    };
    let Some(m) = &manifest else {
        return (manifest, String::new());
    };
    let _ = &m.description;
    if m.version.trim().is_empty() {
        p.push(
            MANIFEST,
            line_of_key(manifest_text, "version"),
            "version is empty",
        );
    }
    let listed: Vec<&str> = m.files.iter().map(String::as_str).collect();
    if listed != RULESET_FILES {
        p.push(
            MANIFEST,
            line_of_key(manifest_text, "files"),
            format!("files must list exactly {RULESET_FILES:?} in this order"),
        );
    }
    let contents: Vec<(String, String)> = RULESET_FILES
        .iter()
        .map(|n| (n.to_string(), text(n).to_string()))
        .collect();
    let checksum = compute_checksum(&contents);
    if m.checksum != checksum {
        p.push(
            MANIFEST,
            line_of_key(manifest_text, "checksum"),
            format!(
                "checksum {} does not match the files ({checksum}); if the change is intended, give the ruleset a new version and write this checksum into MANIFEST.toml",
                m.checksum
            ),
        );
    }
    (manifest, checksum)
}

type Bands = Vec<Lined<AdjustmentBand>>;

/// The altitude and smoking bands of `hb_adjustments.csv`, each contiguous and in its unit.
fn validate_adjustments(adjustments: Bands, p: &mut Problems) -> (Bands, Bands) {
    let (altitude, smoking): (Bands, Bands) = adjustments
        .into_iter()
        .partition(|b| b.row.kind == AdjustmentKind::Altitude);
    for (what, bands, unit) in [
        ("altitude", &altitude, "m above sea level"),
        ("smoking", &smoking, "cigarettes per day"),
    ] {
        let spans: Vec<_> = bands
            .iter()
            .map(|b| (b.line, b.row.from, b.row.to))
            .collect();
        check_contiguous("hb_adjustments.csv", what, &spans, p);
        if bands.is_empty() {
            p.push("hb_adjustments.csv", 0, format!("no {what} bands"));
        }
        for b in bands.iter() {
            if !b.row.unit.starts_with(unit) {
                p.push(
                    "hb_adjustments.csv",
                    b.line,
                    format!(
                        "unknown unit {:?} for {what} (expected {unit:?})",
                        b.row.unit
                    ),
                );
            }
        }
    }
    (altitude, smoking)
}
