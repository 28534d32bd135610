//! Analyte codes and their canonical output columns.
//!
//! The order of [`Analyte::ALL`] is the order of the canonical analyte columns in every
//! output (interface contract). Conversion factors are not here: they come from the
//! ruleset's `units.csv`.

use std::fmt;

/// One laboratory analyte the engine understands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Analyte {
    Hb,
    Rbc,
    Mcv,
    Mch,
    Mchc,
    Rdw,
    Retic,
    RetHe,
    Ferritin,
    Iron,
    Tibc,
    Transferrin,
    Tsat,
    Stfr,
    Crp,
    Esr,
    Agp,
    B12,
    Folate,
    Calcium,
    Creatinine,
    Egfr,
}

/// Number of analytes; the size of per-panel value arrays.
pub const ANALYTE_COUNT: usize = 22;

impl Analyte {
    /// Every analyte, in output column order.
    pub const ALL: [Analyte; ANALYTE_COUNT] = [
        Analyte::Hb,
        Analyte::Rbc,
        Analyte::Mcv,
        Analyte::Mch,
        Analyte::Mchc,
        Analyte::Rdw,
        Analyte::Retic,
        Analyte::RetHe,
        Analyte::Ferritin,
        Analyte::Iron,
        Analyte::Tibc,
        Analyte::Transferrin,
        Analyte::Tsat,
        Analyte::Stfr,
        Analyte::Crp,
        Analyte::Esr,
        Analyte::Agp,
        Analyte::B12,
        Analyte::Folate,
        Analyte::Calcium,
        Analyte::Creatinine,
        Analyte::Egfr,
    ];

    /// Position in [`Analyte::ALL`] and in per-panel arrays.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The analyte prefix of column names (`hb` in `hb_g_dl`).
    pub fn code(self) -> &'static str {
        match self {
            Analyte::Hb => "hb",
            Analyte::Rbc => "rbc",
            Analyte::Mcv => "mcv",
            Analyte::Mch => "mch",
            Analyte::Mchc => "mchc",
            Analyte::Rdw => "rdw",
            Analyte::Retic => "retic",
            Analyte::RetHe => "ret_he",
            Analyte::Ferritin => "ferritin",
            Analyte::Iron => "iron",
            Analyte::Tibc => "tibc",
            Analyte::Transferrin => "transferrin",
            Analyte::Tsat => "tsat",
            Analyte::Stfr => "stfr",
            Analyte::Crp => "crp",
            Analyte::Esr => "esr",
            Analyte::Agp => "agp",
            Analyte::B12 => "b12",
            Analyte::Folate => "folate",
            Analyte::Calcium => "calcium",
            Analyte::Creatinine => "creatinine",
            Analyte::Egfr => "egfr",
        }
    }

    /// The canonical unit suffix, as in the output column name.
    pub fn canonical_suffix(self) -> &'static str {
        match self {
            Analyte::Hb | Analyte::Mchc => "g_dl",
            Analyte::Rbc => "10e12_l",
            Analyte::Mcv => "fl",
            Analyte::Mch | Analyte::RetHe => "pg",
            Analyte::Rdw | Analyte::Retic | Analyte::Tsat => "pct",
            Analyte::Ferritin => "ug_l",
            Analyte::Iron | Analyte::Tibc => "ug_dl",
            Analyte::Transferrin => "mg_dl",
            Analyte::Stfr | Analyte::Crp => "mg_l",
            Analyte::Esr => "mm_h",
            Analyte::Agp => "g_l",
            Analyte::B12 => "pg_ml",
            Analyte::Folate => "ng_ml",
            Analyte::Calcium | Analyte::Creatinine => "mg_dl",
            Analyte::Egfr => "ml_min_1_73m2",
        }
    }

    /// The canonical output column, e.g. `hb_g_dl`.
    pub fn canonical_column(self) -> String {
        format!("{}_{}", self.code(), self.canonical_suffix())
    }

    /// Looks an analyte up by its code (`ferritin`).
    pub fn from_code(code: &str) -> Option<Analyte> {
        Analyte::ALL.iter().copied().find(|a| a.code() == code)
    }
}

impl fmt::Display for Analyte {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_matches_position_in_all() {
        for (i, a) in Analyte::ALL.iter().enumerate() {
            assert_eq!(a.index(), i);
            assert_eq!(Analyte::from_code(a.code()), Some(*a));
        }
    }

    #[test]
    fn canonical_columns_follow_the_interface_order() {
        let cols: Vec<String> = Analyte::ALL.iter().map(|a| a.canonical_column()).collect();
        assert_eq!(cols[0], "hb_g_dl");
        assert_eq!(cols[8], "ferritin_ug_l");
        assert_eq!(cols[21], "egfr_ml_min_1_73m2");
    }
}
