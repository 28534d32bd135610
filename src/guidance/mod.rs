//! Attachment of the guidance catalog (`guidance.toml`, versioned with the ruleset) to a
//! classified panel, per the trigger table of clinical rules §9. The catalog holds the
//! texts and sources; this module holds only the procedure deciding which entries apply.

use crate::panel::Panel;
use crate::rules::Outcome;
use crate::ruleset::Ruleset;
use crate::vocab::{BackPain, Condition, Flag, GuidanceId, Label, Medication, Severity};

/// Thresholds the attachment procedure reads (with the rules' own, every threshold of
/// `thresholds.csv` is declared as used; checked by the registry tests).
pub const THRESHOLDS: &[&str] = &["back_pain_guidance_min_age_years", "adult_age_years"];

/// Does the trigger of guidance `id` hold for this panel? Exhaustive: a new
/// [`GuidanceId`] does not compile until its trigger is written here.
pub fn applies(id: GuidanceId, panel: &Panel, o: &Outcome, rs: &Ruleset) -> bool {
    use GuidanceId as G;
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
        return id == G::SevereTransfusion && o.has_flag(Flag::SevereAnemiaTransfusionThreshold);
    }
    match id {
        G::IronOral => matches!(
            label,
            IronDeficiencyAnemia
                | MixedIronDeficiencyAndInflammation
                | CombinedIronAndB12FolateDeficiency
                | IronDeficiencyWithoutAnemia
        ),
        G::IronIv => {
            label == MixedIronDeficiencyAndInflammation
                || (iron_deficient && o.severity == Some(Severity::Severe))
                || (iron_deficient
                    && rs
                        .lists
                        .iv_iron_conditions
                        .iter()
                        .any(|c| panel.has_condition(*c)))
        }
        G::IronDuration => iron_deficient,
        G::IronSource => {
            iron_deficient
                && o.age_years
                    .is_none_or(|a| a >= rs.thresholds.adult_age_years)
        }
        G::InflammationTreatUnderlying => matches!(
            label,
            AnemiaOfInflammation | MixedIronDeficiencyAndInflammation
        ),
        G::B12FolateReplace => matches!(
            label,
            B12FolateDeficiencyAnemia
                | CombinedIronAndB12FolateDeficiency
                | B12FolateDeficiencyWithoutAnemia
        ),
        G::SevereTransfusion => o.has_flag(Flag::SevereAnemiaTransfusionThreshold),
        G::ThalassemiaAvoidEmpiricIron => {
            label == ThalassemiaTraitSuspected || o.has_flag(Flag::ThalassemiaTraitPattern)
        }
        G::BackPainTreatBoth
        | G::BackPainNonpharmacological
        | G::BackPainMuscleRelaxant
        | G::BackPainMultimodal
        | G::BackPainRedFlags => back_pain_care,
        G::BackPainNsaid => back_pain_care && !o.has_flag(Flag::NsaidCaution),
        G::BackPainNsaidCaution => o.has_flag(Flag::NsaidCaution),
        G::BackPainChronicPsychological => {
            panel.back_pain == BackPain::Chronic && adult_for_back_pain
        }
        G::BackPainMyelomaWorkup => {
            o.has_flag(Flag::MyelomaScreenSuggested) || o.has_flag(Flag::VeryHighEsr)
        }
        G::ContextRheumatoidArthritis => panel.has_condition(Condition::RheumatoidArthritis),
        G::ContextAnkylosingSpondylitis => panel.has_condition(Condition::AnkylosingSpondylitis),
        G::ContextFibromyalgia => panel.has_condition(Condition::Fibromyalgia),
        G::ContextCorticosteroids => {
            o.has_flag(Flag::SteroidFractureRisk) && panel.takes(Medication::Corticosteroid)
        }
    }
}

/// Guidance attached to one panel, in catalog order.
pub fn attach(panel: &Panel, outcome: &Outcome, rs: &Ruleset) -> Vec<GuidanceId> {
    GuidanceId::ALL
        .iter()
        .copied()
        .filter(|id| applies(*id, panel, outcome, rs))
        .collect()
}

/// Full text of one attached entry as written in NDJSON and `--guidance-text` CSV:
/// `title: text`, with the patient's NSAID reasons appended to the NSAID caution.
pub fn render_text(id: GuidanceId, outcome: &Outcome, rs: &Ruleset) -> String {
    let Some(g) = rs.guidance_entry(id.code()) else {
        return String::new();
    };
    let mut s = format!("{}: {}", g.title.trim(), collapse(&g.text));
    if id == GuidanceId::BackPainNsaidCaution && !outcome.nsaid_reasons.is_empty() {
        s.push_str(&format!(" Reasons: {}.", outcome.nsaid_reasons.join("; ")));
    }
    s.push_str(&format!(" [Sources: {}]", g.sources.join("; ")));
    s
}

fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
