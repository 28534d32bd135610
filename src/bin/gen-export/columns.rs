//! The columns of the export: context columns, then one column (wide) or one LOINC code (long)
//! per analyte, in the order the panel stores its values.

pub(crate) const CONTEXT_COLUMNS: [&str; 12] = [
    "patient_id",
    "specimen_id",
    "collected_at",
    "sex",
    "age_years",
    "pregnant",
    "altitude_m",
    "cigarettes_per_day",
    "smoker",
    "back_pain",
    "conditions",
    "medications",
];

/// One analyte column: wide name, decimals written, LOINC code and unit of the long layout.
pub(crate) struct AnalyteColumn {
    pub(crate) column: &'static str,
    pub(crate) decimals: usize,
    pub(crate) loinc: &'static str,
    pub(crate) unit: &'static str,
}

const fn analyte(
    column: &'static str,
    decimals: usize,
    loinc: &'static str,
    unit: &'static str,
) -> AnalyteColumn {
    AnalyteColumn {
        column,
        decimals,
        loinc,
        unit,
    }
}

pub(crate) const HB: usize = 0;
pub(crate) const RBC: usize = 1;
pub(crate) const MCV: usize = 2;
pub(crate) const RDW: usize = 3;
pub(crate) const RETIC: usize = 4;
pub(crate) const FERRITIN: usize = 5;
pub(crate) const IRON: usize = 6;
pub(crate) const TIBC: usize = 7;
pub(crate) const TRANSFERRIN: usize = 8;
pub(crate) const TSAT: usize = 9;
pub(crate) const STFR: usize = 10;
pub(crate) const CRP: usize = 11;
pub(crate) const ESR: usize = 12;
pub(crate) const B12: usize = 13;
pub(crate) const FOLATE: usize = 14;
pub(crate) const CALCIUM: usize = 15;
pub(crate) const CREATININE: usize = 16;
pub(crate) const EGFR: usize = 17;
pub(crate) const N_ANALYTES: usize = 18;

/// LOINC codes as in `reference-ranges/2026.1/loinc.csv`; the wide unit is the column suffix.
pub(crate) const ANALYTES: [AnalyteColumn; N_ANALYTES] = [
    analyte("hb_g_dl", 1, "718-7", "g/dL"),
    analyte("rbc_10e12_l", 2, "789-8", "10*12/L"),
    analyte("mcv_fl", 1, "787-2", "fL"),
    analyte("rdw_pct", 1, "788-0", "%"),
    analyte("retic_pct", 1, "4679-7", "%"),
    analyte("ferritin_ug_l", 0, "2276-4", "ng/mL"),
    analyte("iron_ug_dl", 0, "2498-4", "ug/dL"),
    analyte("tibc_ug_dl", 0, "2500-7", "ug/dL"),
    analyte("transferrin_mg_dl", 0, "3034-6", "mg/dL"),
    analyte("tsat_pct", 0, "2502-3", "%"),
    analyte("stfr_mg_l", 2, "30248-9", "mg/L"),
    analyte("crp_mg_l", 1, "1988-5", "mg/L"),
    analyte("esr_mm_h", 0, "4537-7", "mm/h"),
    analyte("b12_pg_ml", 0, "2132-9", "pg/mL"),
    analyte("folate_ng_ml", 1, "2284-8", "ng/mL"),
    analyte("calcium_mg_dl", 1, "17861-6", "mg/dL"),
    analyte("creatinine_mg_dl", 2, "2160-0", "mg/dL"),
    analyte("egfr_ml_min_1_73m2", 0, "33914-3", "mL/min/1.73m2"),
];
