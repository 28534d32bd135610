//! The public vocabulary of the output: classification labels, flags and recommended-test
//! codes (interface contract; they change only on purpose, with a CHANGELOG entry).

macro_rules! code_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $code:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($variant),+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The code written in outputs.
            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }

            /// Looks a value up by its code.
            pub fn from_code(code: &str) -> Option<$name> {
                match code { $($code => Some($name::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.code())
            }
        }
    };
}

code_enum! {
    /// One classification label per panel (clinical rules §5).
    Label {
        CombinedIronAndB12FolateDeficiency => "combined_iron_and_b12_folate_deficiency",
        B12FolateDeficiencyAnemia => "b12_folate_deficiency_anemia",
        MixedIronDeficiencyAndInflammation => "mixed_iron_deficiency_and_inflammation",
        IronDeficiencyAnemia => "iron_deficiency_anemia",
        AnemiaOfInflammation => "anemia_of_inflammation",
        ThalassemiaTraitSuspected => "thalassemia_trait_suspected",
        AnemiaOther => "anemia_other",
        AnemiaIndeterminate => "anemia_indeterminate",
        IronDeficiencyWithoutAnemia => "iron_deficiency_without_anemia",
        B12FolateDeficiencyWithoutAnemia => "b12_folate_deficiency_without_anemia",
        NoAnemia => "no_anemia",
        InsufficientData => "insufficient_data",
    }
}

code_enum! {
    /// Flags raised by named rules (clinical rules §6); written sorted by code.
    Flag {
        IronDeficiencyNormalMcv => "IRON_DEFICIENCY_NORMAL_MCV",
        B12FolateDeficiencyNormalMcv => "B12_FOLATE_DEFICIENCY_NORMAL_MCV",
        HighRdwNormalMcv => "HIGH_RDW_NORMAL_MCV",
        MaskedIronDeficiency => "MASKED_IRON_DEFICIENCY",
        MicrocytosisWithoutIronDeficiency => "MICROCYTOSIS_WITHOUT_IRON_DEFICIENCY",
        ThalassemiaTraitPattern => "THALASSEMIA_TRAIT_PATTERN",
        SevereAnemiaTransfusionThreshold => "SEVERE_ANEMIA_TRANSFUSION_THRESHOLD",
        MyelomaScreenSuggested => "MYELOMA_SCREEN_SUGGESTED",
        VeryHighEsr => "VERY_HIGH_ESR",
        NsaidCaution => "NSAID_CAUTION",
        SteroidFractureRisk => "STEROID_FRACTURE_RISK",
        LowTsatAdequateFerritin => "LOW_TSAT_ADEQUATE_FERRITIN",
        IronOverloadPattern => "IRON_OVERLOAD_PATTERN",
        PossibleCoexistingIronDeficiency => "POSSIBLE_COEXISTING_IRON_DEFICIENCY",
        InflammationPresumed => "INFLAMMATION_PRESUMED",
        AgeMissing => "AGE_MISSING",
        AgeOutOfScope => "AGE_OUT_OF_SCOPE",
        SexUnknown => "SEX_UNKNOWN",
        CensoredValue => "CENSORED_VALUE",
        ValueNotNumeric => "VALUE_NOT_NUMERIC",
        TsatDerived => "TSAT_DERIVED",
        AltitudeOutOfTable => "ALTITUDE_OUT_OF_TABLE",
    }
}

code_enum! {
    /// Recommended follow-up tests (clinical rules §8), written in this order.
    TestCode {
        Hb => "hb",
        Ferritin => "ferritin",
        Tsat => "tsat",
        Crp => "crp",
        B12Folate => "b12_folate",
        Reticulocytes => "reticulocytes",
        Stfr => "stfr",
        HbElectrophoresis => "hb_electrophoresis",
        SpepFlc => "spep_flc",
    }
}

code_enum! {
    /// Patient conditions named in the `conditions` column.
    Condition {
        RheumatoidArthritis => "rheumatoid_arthritis",
        AnkylosingSpondylitis => "ankylosing_spondylitis",
        Fibromyalgia => "fibromyalgia",
        InflammatoryBowelDisease => "inflammatory_bowel_disease",
        ChronicKidneyDisease => "chronic_kidney_disease",
        HeartFailure => "heart_failure",
        CardiovascularDisease => "cardiovascular_disease",
        Cancer => "cancer",
        SickleCellDisease => "sickle_cell_disease",
    }
}

code_enum! {
    /// Medications named in the `medications` column.
    Medication {
        Corticosteroid => "corticosteroid",
        Nsaid => "nsaid",
        Anticoagulant => "anticoagulant",
        Ppi => "ppi",
        Metformin => "metformin",
        Methotrexate => "methotrexate",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_are_unique() {
        for l in Label::ALL {
            assert_eq!(Label::from_code(l.code()), Some(*l));
        }
        for f in Flag::ALL {
            assert_eq!(Flag::from_code(f.code()), Some(*f));
        }
        let mut flags: Vec<&str> = Flag::ALL.iter().map(|f| f.code()).collect();
        flags.sort_unstable();
        flags.dedup();
        assert_eq!(flags.len(), 22);
        assert_eq!(Label::ALL.len(), 12);
    }
}
