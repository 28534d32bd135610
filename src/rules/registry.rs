//! Every rule, declared once: id, title, rationale and citation. Evidence lines start with
//! the id of the rule that wrote them; `anemia-engine rules` prints this table.

/// Metadata of one rule.
#[derive(Clone, Copy, Debug, serde::Serialize)]
pub struct RuleMeta {
    pub id: &'static str,
    pub family: &'static str,
    pub title: &'static str,
    pub rationale: &'static str,
    pub citation: &'static str,
}

const fn rule(
    id: &'static str,
    family: &'static str,
    title: &'static str,
    rationale: &'static str,
    citation: &'static str,
) -> RuleMeta {
    RuleMeta {
        id,
        family,
        title,
        rationale,
        citation,
    }
}

/// All rules, sorted by id.
pub const RULES: &[RuleMeta] = &[
    rule("ANEMIA-001", "ANEMIA", "Haemoglobin cutoff by age, sex and pregnancy", "The population row of hb_cutoffs.csv gives the anemia cutoff and severity bands; pregnancy implies female; age missing is treated as adult; above 65 y the adult cutoff is extrapolated.", "WHO 2024 Guideline on haemoglobin cutoffs to define anaemia in individuals and populations"),
    rule("ANEMIA-002", "ANEMIA", "Elevation adjustment", "Haemoglobin rises with altitude; the cutoff and every band edge are raised by the elevation band's adjustment. Beyond the table the last row is carried forward and flagged.", "WHO 2024 Guideline on haemoglobin cutoffs (elevation adjustment)"),
    rule("ANEMIA-003", "ANEMIA", "Smoking adjustment", "Smoking raises haemoglobin; the cutoff and band edges are raised by the smoking band's adjustment; a count wins over the yes/no smoker column.", "WHO 2024 Guideline on haemoglobin cutoffs (smoking adjustment)"),
    rule("ANEMIA-004", "ANEMIA", "Anemia and severity", "Hb below the adjusted cutoff is anemia; the severity band is mild, moderate or severe. Between the female and male cutoffs with sex unknown, anemia status is unknown.", "WHO 2024 Guideline on haemoglobin cutoffs to define anaemia in individuals and populations"),
    rule("ANEMIA-005", "ANEMIA", "Age out of scope", "Below 6 months the haemoglobin cutoffs do not apply; only the safety flags are evaluated.", "WHO 2024 Guideline on haemoglobin cutoffs (ages 6 months and over)"),
    rule("CLASS-001", "CLASS", "Classification", "One label per panel, first match wins, from anemia, iron status, inflammation, B12/folate and morphology (clinical rules section 5).", "anemia-engine clinical rules 2026.1 section 5"),
    rule("DATA-001", "DATA", "Censored values", "A censored result decides only when its whole interval lies in one band of the decision at hand; otherwise it counts as missing for that decision.", "anemia-engine clinical rules 2026.1 section 7"),
    rule("DATA-002", "DATA", "Text results", "A text result (hemolyzed, QNS, ...) is missing for the rules, kept in evidence, and the test is recommended again.", "anemia-engine clinical rules 2026.1 section 7"),
    rule("DATA-003", "DATA", "Age missing", "Without a usable age the panel is treated as an adult (15 years and over).", "anemia-engine clinical rules 2026.1"),
    rule("DATA-004", "DATA", "Unit conversion", "Values reported in another accepted unit are converted to the canonical unit with the factor of units.csv.", "reference-ranges units.csv (SI conversion factors)"),
    rule("FLAG-001", "FLAG", "Iron deficiency with normal MCV", "Iron deficiency (either kind) with an MCV at or above the age's lower limit: MCV alone would miss it.", "anemia-engine clinical rules 2026.1 section 6"),
    rule("FLAG-002", "FLAG", "B12/folate deficiency with normal MCV", "B12 or folate deficiency with MCV at or below the age's upper limit: MCV alone would miss it.", "anemia-engine clinical rules 2026.1 section 6"),
    rule("FLAG-003", "FLAG", "High RDW with normal MCV", "Anemic, normocytic and RDW high: possible dimorphic population of coexisting micro- and macrocytic processes.", "Bessman, Gilmer and Gardner, Am J Clin Pathol 1983"),
    rule("FLAG-004", "FLAG", "Microcytosis without iron deficiency", "Microcytic with iron adequate or restricted: look for thalassemia trait or anemia of inflammation.", "anemia-engine clinical rules 2026.1 section 6"),
    rule("FLAG-005", "FLAG", "Thalassemia trait pattern", "Microcytic, iron deficiency excluded (it lowers HbA2), Mentzer index below the cutoff.", "Mentzer, Lancet 1973"),
    rule("FLAG-006", "FLAG", "Transfusion threshold", "Hb below the restrictive transfusion threshold (higher with cardiovascular disease).", "AABB 2023 International Guidelines for Red Blood Cell Transfusion"),
    rule("FLAG-007", "FLAG", "Myeloma screen suggested", "Anemia with back pain in an adult, and raised ESR at 60 or over, or hypercalcaemia, or renal impairment.", "NICE NG12 Suspected cancer; IMWG 2014 updated criteria for multiple myeloma"),
    rule("FLAG-008", "FLAG", "Very high ESR", "ESR at or above 100 mm/h: malignancy, infection or vasculitis must be considered.", "NICE NG12 Suspected cancer"),
    rule("FLAG-009", "FLAG", "NSAID caution", "Back pain reported or unknown with a reason NSAIDs carry extra risk: iron deficiency (GI blood loss), renal impairment, anticoagulant, CKD, heart failure, severe anemia.", "NICE NG59 Low back pain and sciatica; BSG 2021 iron deficiency anaemia guidelines"),
    rule("FLAG-010", "FLAG", "Steroid fracture risk", "Corticosteroid use with back pain: bone loss and vertebral compression fracture.", "anemia-engine clinical rules 2026.1 section 6"),
    rule("INFLAM-001", "INFLAM", "CRP", "CRP above the cutoff means inflammation is present.", "WHO 2020 ferritin guideline; BRINDA; Thurnham 2010"),
    rule("INFLAM-002", "INFLAM", "ESR", "At 15 years and over (or age missing), ESR above the Westergren upper limit (age/2 men, (age+10)/2 women and unknown sex) means inflammation.", "Miller, Green and Robinson, BMJ 1983"),
    rule("INFLAM-003", "INFLAM", "AGP", "Alpha-1-acid glycoprotein above the cutoff means inflammation.", "Thurnham 2010"),
    rule("INFLAM-004", "INFLAM", "Inflammation status", "Present if any marker is raised, absent if a marker decides and none is raised, presumed when no marker decides and a chronic inflammatory condition is named, otherwise unknown.", "Weiss & Goodnough, NEJM 2005"),
    rule("IRON-001", "IRON", "TSAT", "Reported TSAT, else iron/TIBC x 100, else from transferrin (TIBC = 1.40 x transferrin); a derived value above 100 % is implausible.", "Gambino et al. Clin Chem 1997; anemia-engine clinical rules 2026.1 section 4"),
    rule("IRON-002", "IRON", "sTfR index", "sTfR / log10(ferritin), when ferritin is above 1 ug/L.", "Weiss & Goodnough, NEJM 2005"),
    rule("IRON-003", "IRON", "Iron status with inflammation", "Adults: ferritin < 30 deficient; 30-99 decided by sTfR index or TSAT; >= 100 restricted if TSAT low. Children: the with-inflammation ferritin cutoff.", "Weiss & Goodnough NEJM 2005; ESC 2021; NICE NG203; WHO 2020 ferritin guideline"),
    rule("IRON-004", "IRON", "Iron status without inflammation", "Ferritin below the population cutoff is deficient; otherwise adequate, with low TSAT flagged.", "WHO 2020 ferritin guideline; AGA 2020; BSG 2021"),
    rule("IRON-005", "IRON", "Iron status with inflammation unknown", "Below the no-inflammation cutoff deficient; from it to 99 indeterminate; 100 and over adequate; CRP recommended.", "anemia-engine clinical rules 2026.1 section 4"),
    rule("IRON-006", "IRON", "Ferritin missing", "Without ferritin iron status is unknown, unless TSAT is low without inflammation (indeterminate).", "anemia-engine clinical rules 2026.1 section 4"),
    rule("IRON-007", "IRON", "Iron overload pattern", "TSAT above 45 % with ferritin above 200 (women) / 300 (men, unknown) ug/L without inflammation present.", "EASL 2022 Clinical Practice Guidelines on haemochromatosis"),
    rule("IRON-008", "IRON", "B12/folate deficiency", "B12 or folate below its cutoff (local ranges belong in thresholds.csv).", "BSH 2014 guidelines for cobalamin and folate disorders"),
    rule("MORPH-001", "MORPH", "MCV category", "Microcytic below, macrocytic above the age's normocytic MCV range.", "Nathan and Oski's Hematology of Infancy and Childhood; adult reference interval"),
    rule("MORPH-002", "MORPH", "RDW high", "RDW-CV above the upper limit.", "Bessman, Gilmer and Gardner, Am J Clin Pathol 1983"),
    rule("MORPH-003", "MORPH", "Mentzer index", "MCV / RBC; below 13 suggests thalassemia trait.", "Mentzer, Lancet 1973"),
    rule("PANEL-001", "PANEL", "Panel assembly", "Long layout: each haemoglobin result anchors a panel; other analytes join from the same specimen, else from the nearest collection of the same patient within the panel window; results without a haemoglobin anchor form their own panel.", "anemia-engine interface (long layout)"),
    rule("TEST-001", "TEST", "Recommended tests", "What the decision needed and lacked, and what a flag calls for; never a test the panel already has.", "anemia-engine clinical rules 2026.1 section 8"),
];

/// Looks a rule up by id (case-insensitive).
pub fn rule_by_id(id: &str) -> Option<&'static RuleMeta> {
    RULES.iter().find(|r| r.id.eq_ignore_ascii_case(id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_sorted_unique_and_cited() {
        for pair in RULES.windows(2) {
            assert!(
                pair[0].id < pair[1].id,
                "{} before {}",
                pair[0].id,
                pair[1].id
            );
        }
        for r in RULES {
            assert!(r.id.starts_with(r.family), "{}", r.id);
            assert!(
                !r.title.is_empty() && !r.rationale.is_empty() && !r.citation.is_empty(),
                "{}",
                r.id
            );
        }
    }
}
