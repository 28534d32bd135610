//! Analyte codes and their canonical output columns.
//!
//! The order of [`Analyte::ALL`] is the order of the canonical analyte columns in every
//! output (interface contract). Conversion factors are not here: they come from the
//! ruleset's `units.csv`.

crate::vocab::code_enum! {
    /// One laboratory analyte the engine understands; the code is the prefix of its column
    /// names (`hb` in `hb_g_dl`).
    Analyte {
        Hb => "hb",
        Rbc => "rbc",
        Mcv => "mcv",
        Mch => "mch",
        Mchc => "mchc",
        Rdw => "rdw",
        Retic => "retic",
        RetAbs => "retic_abs",
        RetHe => "ret_he",
        Ferritin => "ferritin",
        Iron => "iron",
        Tibc => "tibc",
        Transferrin => "transferrin",
        Tsat => "tsat",
        Stfr => "stfr",
        Crp => "crp",
        Esr => "esr",
        Agp => "agp",
        Ldh => "ldh",
        Haptoglobin => "haptoglobin",
        Bilirubin => "bilirubin",
        B12 => "b12",
        Folate => "folate",
        Calcium => "calcium",
        Creatinine => "creatinine",
        Egfr => "egfr",
    }
}

/// Number of analytes; the size of per-panel value arrays.
pub const ANALYTE_COUNT: usize = Analyte::COUNT;

impl Analyte {
    /// Position in [`Analyte::ALL`] and in per-panel arrays.
    pub fn index(self) -> usize {
        self as usize
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
            Analyte::RetAbs => "10e9_l",
            Analyte::Ldh => "u_l",
            Analyte::Haptoglobin => "g_l",
            Analyte::Bilirubin => "mg_dl",
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
        assert_eq!(cols[7], "retic_abs_10e9_l");
        assert_eq!(cols[9], "ferritin_ug_l");
        assert_eq!(cols[18], "ldh_u_l");
        assert_eq!(cols[25], "egfr_ml_min_1_73m2");
    }
}
