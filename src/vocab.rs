//! The engine's vocabulary: every closed set of codes it reads or writes (labels, flags,
//! test codes, conditions, medications, patient context, rule states, rule ids and
//! guidance ids), each declared once with the code written in outputs. The output codes are
//! an interface contract: they change only on purpose, with a CHANGELOG entry.

/// Declares a code enum: variants with their output codes, `ALL` in declaration order,
/// `code()`, `from_code()` and `Display` (the code).
macro_rules! code_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $code:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($variant),+ }

        impl $name {
            /// Number of values.
            pub const COUNT: usize = [$($code),+].len();

            /// Every value, in declaration order.
            pub const ALL: [$name; [$($code),+].len()] = [$($name::$variant),+];

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
                f.pad(self.code())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.code())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let code = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
                $name::from_code(&code).ok_or_else(|| {
                    serde::de::Error::custom(format!(
                        "unknown {} {:?} (known: {})",
                        stringify!($name).to_ascii_lowercase(),
                        code,
                        $name::ALL.map(|v| v.code()).join(", ")
                    ))
                })
            }
        }
    };
}
pub(crate) use code_enum;

code_enum! {
    /// One classification label per panel (clinical rules §5).
    Label {
        CombinedIronAndB12FolateDeficiency => "combined_iron_and_b12_folate_deficiency",
        B12FolateDeficiencyAnemia => "b12_folate_deficiency_anemia",
        SickleCellDiseaseAnemia => "sickle_cell_disease_anemia",
        HemolyticAnemiaSuspected => "hemolytic_anemia_suspected",
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
        HemolysisPattern => "HEMOLYSIS_PATTERN",
        Reticulocytosis => "RETICULOCYTOSIS",
        SickleCellBackPain => "SICKLE_CELL_BACK_PAIN",
        AnticoagulantBackPainAnemia => "ANTICOAGULANT_BACK_PAIN_ANEMIA",
        IronDeficiencyHfCriteria => "IRON_DEFICIENCY_HF_CRITERIA",
        CkdIronTrialCriteria => "CKD_IRON_TRIAL_CRITERIA",
        CollectedAtUnreadable => "COLLECTED_AT_UNREADABLE",
        AmbiguousNumber => "AMBIGUOUS_NUMBER",
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
        HemolysisScreen => "hemolysis_screen",
        Dat => "dat",
        BloodFilm => "blood_film",
        HfeGenotype => "hfe_genotype",
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

code_enum! {
    /// Sex as the rules use it (`F`/`female`, `M`/`male`; anything else is unknown).
    Sex { Female => "female", Male => "male", Unknown => "unknown" }
}

code_enum! {
    /// Pregnancy state from the `pregnant` column. `Unreadable`: a value that is none of the
    /// accepted ones ("maybe", "?"): pregnancy unknown. Pregnancy cautions apply, and the
    /// non-pregnant haemoglobin cutoff (the higher one) is used, so neither an anaemia nor a
    /// caution is missed.
    Pregnancy {
        No => "not pregnant",
        Trimester1 => "pregnant, trimester 1",
        Trimester2 => "pregnant, trimester 2",
        Trimester3 => "pregnant, trimester 3",
        TrimesterUnknown => "pregnant, trimester unknown",
        Unreadable => "pregnancy unknown (value not recognised)",
    }
}

code_enum! {
    /// Back pain from the `back_pain` column; `Unknown`: column absent, blank or unrecognised.
    BackPain { No => "no", Yes => "yes", Acute => "acute", Chronic => "chronic", Unknown => "unknown" }
}

impl BackPain {
    /// Back pain was reported (`yes`, `acute`, `chronic`).
    pub fn reported(self) -> bool {
        matches!(self, BackPain::Yes | BackPain::Acute | BackPain::Chronic)
    }
}

code_enum! {
    /// Anemia severity band (WHO 2024).
    Severity { None => "none", Mild => "mild", Moderate => "moderate", Severe => "severe" }
}

code_enum! {
    /// MCV category against the age's normocytic range.
    Morphology { Microcytic => "microcytic", Normocytic => "normocytic", Macrocytic => "macrocytic", Unknown => "unknown" }
}

code_enum! {
    /// Inflammation status; `Presumed` counts as present in iron status and classification.
    Inflammation { Present => "present", Presumed => "presumed", Absent => "absent", Unknown => "unknown" }
}

impl Inflammation {
    pub fn counts_as_present(self) -> bool {
        matches!(self, Inflammation::Present | Inflammation::Presumed)
    }
}

code_enum! {
    /// Iron status (clinical rules §4).
    IronStatus {
        Deficient => "deficient",
        DeficientWithInflammation => "deficient_with_inflammation",
        Restricted => "restricted",
        Adequate => "adequate",
        Indeterminate => "indeterminate",
        Unknown => "unknown",
    }
}

impl IronStatus {
    pub fn is_deficient(self) -> bool {
        matches!(
            self,
            IronStatus::Deficient | IronStatus::DeficientWithInflammation
        )
    }
}

code_enum! {
    /// Every rule id, sorted. Each is declared (title, rationale, citation, thresholds) in
    /// its family file under `rules/`; evidence lines start with it.
    RuleId {
        Anemia001 => "ANEMIA-001",
        Anemia002 => "ANEMIA-002",
        Anemia003 => "ANEMIA-003",
        Anemia004 => "ANEMIA-004",
        Anemia005 => "ANEMIA-005",
        Class001 => "CLASS-001",
        Data001 => "DATA-001",
        Data002 => "DATA-002",
        Data003 => "DATA-003",
        Data004 => "DATA-004",
        Data005 => "DATA-005",
        Data006 => "DATA-006",
        Flag001 => "FLAG-001",
        Flag002 => "FLAG-002",
        Flag003 => "FLAG-003",
        Flag004 => "FLAG-004",
        Flag005 => "FLAG-005",
        Flag006 => "FLAG-006",
        Flag007 => "FLAG-007",
        Flag008 => "FLAG-008",
        Flag009 => "FLAG-009",
        Flag010 => "FLAG-010",
        Flag011 => "FLAG-011",
        Flag012 => "FLAG-012",
        Hemolysis001 => "HEMOLYSIS-001",
        Hemolysis002 => "HEMOLYSIS-002",
        Hemolysis003 => "HEMOLYSIS-003",
        Inflam001 => "INFLAM-001",
        Inflam002 => "INFLAM-002",
        Inflam003 => "INFLAM-003",
        Inflam004 => "INFLAM-004",
        Iron001 => "IRON-001",
        Iron002 => "IRON-002",
        Iron003 => "IRON-003",
        Iron004 => "IRON-004",
        Iron005 => "IRON-005",
        Iron006 => "IRON-006",
        Iron007 => "IRON-007",
        Iron008 => "IRON-008",
        Iron009 => "IRON-009",
        Iron010 => "IRON-010",
        Morph001 => "MORPH-001",
        Morph002 => "MORPH-002",
        Morph003 => "MORPH-003",
        Panel001 => "PANEL-001",
        Test001 => "TEST-001",
    }
}

code_enum! {
    /// Every guidance entry the engine can attach, in catalog order (`guidance.toml` must
    /// hold exactly these; checked when the ruleset loads).
    GuidanceId {
        IronOral => "anemia.iron.oral",
        IronIv => "anemia.iron.iv",
        IronDuration => "anemia.iron.duration",
        IronSource => "anemia.iron.source",
        IronSourceChild => "anemia.iron.source_child",
        IronPregnancy => "anemia.iron.pregnancy",
        IronCkd => "anemia.iron.ckd",
        IronOverloadWorkup => "anemia.iron.overload_workup",
        InflammationTreatUnderlying => "anemia.inflammation.treat_underlying",
        InflammationFindCause => "anemia.inflammation.find_cause",
        B12FolateReplace => "anemia.b12_folate.replace",
        SevereTransfusion => "anemia.severe.transfusion",
        ThalassemiaAvoidEmpiricIron => "anemia.thalassemia.avoid_empiric_iron",
        HemolysisWorkup => "anemia.hemolysis.workup",
        OtherWorkup => "anemia.other.workup",
        ContextSickleCell => "context.sickle_cell",
        BackPainSickleCellCrisis => "back_pain.sickle_cell_crisis",
        BackPainAnticoagulantBleed => "back_pain.anticoagulant_bleed",
        BackPainTreatBoth => "back_pain.treat_both",
        BackPainNonpharmacological => "back_pain.nonpharmacological",
        BackPainNsaid => "back_pain.nsaid",
        BackPainNsaidCaution => "back_pain.nsaid_caution",
        BackPainMuscleRelaxant => "back_pain.muscle_relaxant",
        BackPainMultimodal => "back_pain.multimodal",
        BackPainChronicPsychological => "back_pain.chronic_psychological",
        BackPainRedFlags => "back_pain.red_flags",
        BackPainMyelomaWorkup => "back_pain.myeloma_workup",
        ContextRheumatoidArthritis => "context.rheumatoid_arthritis",
        ContextAnkylosingSpondylitis => "context.ankylosing_spondylitis",
        ContextFibromyalgia => "context.fibromyalgia",
        ContextCorticosteroids => "context.corticosteroids",
    }
}

code_enum! {
    /// The edition of the decision procedure a ruleset is written for (`procedure` in
    /// MANIFEST.toml; a manifest without it is 2026.1). Rules that changed check it, so an
    /// older ruleset still classifies as it did.
    Procedure { V2026_1 => "2026.1", V2026_2 => "2026.2" }
}

impl GuidanceId {
    /// The first procedure whose catalog holds this entry.
    pub fn since(self) -> Procedure {
        use GuidanceId as G;
        match self {
            G::IronSourceChild
            | G::IronPregnancy
            | G::IronCkd
            | G::IronOverloadWorkup
            | G::InflammationFindCause
            | G::HemolysisWorkup
            | G::OtherWorkup
            | G::ContextSickleCell
            | G::BackPainSickleCellCrisis
            | G::BackPainAnticoagulantBleed => Procedure::V2026_2,
            _ => Procedure::V2026_1,
        }
    }

    /// The entries a catalog of `procedure` holds, in catalog order.
    pub fn catalog(procedure: Procedure) -> impl Iterator<Item = GuidanceId> {
        GuidanceId::ALL
            .into_iter()
            .filter(move |g| g.since() <= procedure)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_are_unique() {
        for l in Label::ALL {
            assert_eq!(Label::from_code(l.code()), Some(l));
        }
        for f in Flag::ALL {
            assert_eq!(Flag::from_code(f.code()), Some(f));
        }
        let mut flags: Vec<&str> = Flag::ALL.iter().map(|f| f.code()).collect();
        flags.sort_unstable();
        flags.dedup();
        assert_eq!(flags.len(), 30);
        assert_eq!(Label::ALL.len(), 14);
        for r in RuleId::ALL {
            assert_eq!(RuleId::from_code(r.code()), Some(r));
        }
        for g in GuidanceId::ALL {
            assert_eq!(GuidanceId::from_code(g.code()), Some(g));
        }
    }
}
