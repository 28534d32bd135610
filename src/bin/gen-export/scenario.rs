//! Clinical scenarios: what is wrong with the patient, which decides the joint distribution of
//! the values, and the weights that make the engine reach every classification label.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Scenario {
    Healthy,
    IronDeficiencyAnemia,
    IronDeficiencyWithoutAnemia,
    AnemiaOfInflammation,
    MixedIronDeficiencyInflammation,
    B12FolateAnemia,
    B12FolateWithoutAnemia,
    CombinedIronB12,
    ThalassemiaTrait,
    /// Normocytic anemia with adequate iron and no inflammation (CKD, marrow, hemolysis).
    AnemiaOther,
    /// Anemic, but without the tests that would tell why.
    AnemiaUntested,
    /// Hb missing, or a case the engine cannot decide.
    Insufficient,
    IronOverload,
    /// Anemia with back pain, high ESR and CRAB features: the myeloma screen.
    MyelomaPattern,
}

/// Scenario and weight (per 1000 rows).
pub(crate) const SCENARIOS: [(Scenario, u32); 14] = [
    (Scenario::Healthy, 380),
    (Scenario::IronDeficiencyAnemia, 120),
    (Scenario::IronDeficiencyWithoutAnemia, 60),
    (Scenario::AnemiaOfInflammation, 90),
    (Scenario::MixedIronDeficiencyInflammation, 60),
    (Scenario::B12FolateAnemia, 50),
    (Scenario::B12FolateWithoutAnemia, 30),
    (Scenario::CombinedIronB12, 20),
    (Scenario::ThalassemiaTrait, 40),
    (Scenario::AnemiaOther, 50),
    (Scenario::AnemiaUntested, 40),
    (Scenario::Insufficient, 30),
    (Scenario::IronOverload, 20),
    (Scenario::MyelomaPattern, 10),
];

pub(crate) const SCENARIO_WEIGHTS: [u32; SCENARIOS.len()] = {
    let mut w = [0; SCENARIOS.len()];
    let mut i = 0;
    while i < w.len() {
        w[i] = SCENARIOS[i].1;
        i += 1;
    }
    w
};

impl Scenario {
    pub(crate) fn anemic(self) -> bool {
        !matches!(
            self,
            Scenario::Healthy
                | Scenario::IronDeficiencyWithoutAnemia
                | Scenario::B12FolateWithoutAnemia
                | Scenario::IronOverload
                | Scenario::Insufficient
        )
    }

    pub(crate) fn inflamed(self) -> bool {
        matches!(
            self,
            Scenario::AnemiaOfInflammation
                | Scenario::MixedIronDeficiencyInflammation
                | Scenario::MyelomaPattern
        )
    }

    pub(crate) fn b12_folate_deficient(self) -> bool {
        matches!(
            self,
            Scenario::B12FolateAnemia
                | Scenario::B12FolateWithoutAnemia
                | Scenario::CombinedIronB12
        )
    }
}
