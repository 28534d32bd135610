//! Attachment of the guidance catalog (`guidance.toml`, versioned with the ruleset) to a
//! classified panel, per the trigger table of clinical rules §9. The catalog holds the
//! texts and sources; this module holds only the procedure deciding which entries apply.

use crate::codes::{Condition, Flag, Label, Medication};
use crate::panel::{BackPain, Panel};
use crate::rules::{Outcome, Severity};
use crate::ruleset::Ruleset;

/// Every guidance id the procedure can attach, in catalog order. The catalog must hold
/// exactly these (checked by the catalog integrity test and at ruleset load).
pub const GUIDANCE_IDS: [&str; 21] = [
    "anemia.iron.oral",
    "anemia.iron.iv",
    "anemia.iron.duration",
    "anemia.iron.source",
    "anemia.inflammation.treat_underlying",
    "anemia.b12_folate.replace",
    "anemia.severe.transfusion",
    "anemia.thalassemia.avoid_empiric_iron",
    "back_pain.treat_both",
    "back_pain.nonpharmacological",
    "back_pain.nsaid",
    "back_pain.nsaid_caution",
    "back_pain.muscle_relaxant",
    "back_pain.multimodal",
    "back_pain.chronic_psychological",
    "back_pain.red_flags",
    "back_pain.myeloma_workup",
    "context.rheumatoid_arthritis",
    "context.ankylosing_spondylitis",
    "context.fibromyalgia",
    "context.corticosteroids",
];

/// Does the trigger of guidance `id` hold for this panel?
pub fn applies(id: &str, panel: &Panel, o: &Outcome, rs: &Ruleset) -> bool {
    use Label::*;
    let label = o.classification;
    let iron_deficient = o.iron_status.is_deficient();
    let anemic = o.anemia == Some(true);
    // The back-pain entries follow adult guidelines (NICE NG59: over 16s); a child's panel
    // never gets adult back-pain management (age missing counts as adult, as everywhere).
    let adult_for_back_pain = o
        .age_years
        .is_none_or(|a| a >= rs.thresholds.back_pain_guidance_min_age_years);
    let back_pain_care = anemic && panel.back_pain != BackPain::No && adult_for_back_pain;
    if o.has_flag(Flag::AgeOutOfScope) {
        // Below 6 months nothing is interpreted; only the transfusion safety entry may attach.
        return id == "anemia.severe.transfusion"
            && o.has_flag(Flag::SevereAnemiaTransfusionThreshold);
    }
    match id {
        "anemia.iron.oral" => matches!(
            label,
            IronDeficiencyAnemia
                | MixedIronDeficiencyAndInflammation
                | CombinedIronAndB12FolateDeficiency
                | IronDeficiencyWithoutAnemia
        ),
        "anemia.iron.iv" => {
            label == MixedIronDeficiencyAndInflammation
                || (iron_deficient && o.severity == Some(Severity::Severe))
                || (iron_deficient
                    && [
                        Condition::ChronicKidneyDisease,
                        Condition::HeartFailure,
                        Condition::InflammatoryBowelDisease,
                    ]
                    .iter()
                    .any(|c| panel.has_condition(*c)))
        }
        "anemia.iron.duration" => iron_deficient,
        "anemia.iron.source" => {
            iron_deficient
                && o.age_years
                    .is_none_or(|a| a >= rs.thresholds.adult_age_years)
        }
        "anemia.inflammation.treat_underlying" => matches!(
            label,
            AnemiaOfInflammation | MixedIronDeficiencyAndInflammation
        ),
        "anemia.b12_folate.replace" => matches!(
            label,
            B12FolateDeficiencyAnemia
                | CombinedIronAndB12FolateDeficiency
                | B12FolateDeficiencyWithoutAnemia
        ),
        "anemia.severe.transfusion" => o.has_flag(Flag::SevereAnemiaTransfusionThreshold),
        "anemia.thalassemia.avoid_empiric_iron" => {
            label == ThalassemiaTraitSuspected || o.has_flag(Flag::ThalassemiaTraitPattern)
        }
        "back_pain.treat_both"
        | "back_pain.nonpharmacological"
        | "back_pain.muscle_relaxant"
        | "back_pain.multimodal"
        | "back_pain.red_flags" => back_pain_care,
        "back_pain.nsaid" => back_pain_care && !o.has_flag(Flag::NsaidCaution),
        "back_pain.nsaid_caution" => o.has_flag(Flag::NsaidCaution),
        "back_pain.chronic_psychological" => {
            panel.back_pain == BackPain::Chronic && adult_for_back_pain
        }
        "back_pain.myeloma_workup" => {
            o.has_flag(Flag::MyelomaScreenSuggested) || o.has_flag(Flag::VeryHighEsr)
        }
        "context.rheumatoid_arthritis" => panel.has_condition(Condition::RheumatoidArthritis),
        "context.ankylosing_spondylitis" => panel.has_condition(Condition::AnkylosingSpondylitis),
        "context.fibromyalgia" => panel.has_condition(Condition::Fibromyalgia),
        "context.corticosteroids" => {
            o.has_flag(Flag::SteroidFractureRisk) && panel.takes(Medication::Corticosteroid)
        }
        _ => false,
    }
}

/// Checks that the ruleset's catalog holds exactly the entries this procedure attaches
/// (a lab's edited catalog could drop one); run before any row is processed.
pub fn check_catalog(rs: &Ruleset) -> Result<(), crate::error::ConfigError> {
    let missing: Vec<&str> = GUIDANCE_IDS
        .iter()
        .copied()
        .filter(|id| rs.guidance_entry(id).is_none())
        .collect();
    let unknown: Vec<&str> = rs
        .guidance
        .iter()
        .map(|g| g.id.as_str())
        .filter(|id| !GUIDANCE_IDS.contains(id))
        .collect();
    if missing.is_empty() && unknown.is_empty() {
        return Ok(());
    }
    Err(crate::error::ConfigError::Input {
        file: format!("{} guidance.toml", rs.origin),
        message: format!(
            "the guidance catalog must hold exactly the entries the engine attaches; missing: [{}], unknown: [{}]",
            missing.join(", "),
            unknown.join(", ")
        ),
    })
}

/// Guidance attached to one panel: ids in catalog order.
pub fn attach(panel: &Panel, outcome: &Outcome, rs: &Ruleset) -> Vec<&'static str> {
    GUIDANCE_IDS
        .iter()
        .copied()
        .filter(|id| applies(id, panel, outcome, rs))
        .collect()
}

/// Full text of one attached entry as written in NDJSON and `--guidance-text` CSV:
/// `title: text`, with the patient's NSAID reasons appended to the NSAID caution.
pub fn render_text(id: &str, outcome: &Outcome, rs: &Ruleset) -> String {
    let Some(g) = rs.guidance_entry(id) else {
        return String::new();
    };
    let mut s = format!("{}: {}", g.title.trim(), collapse(&g.text));
    if id == "back_pain.nsaid_caution" && !outcome.nsaid_reasons.is_empty() {
        s.push_str(&format!(" Reasons: {}.", outcome.nsaid_reasons.join("; ")));
    }
    s.push_str(&format!(" [Sources: {}]", g.sources.join("; ")));
    s
}

fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
