//! Attachment of the guidance catalog (`guidance.toml`, versioned with the ruleset) to a
//! classified panel, per the trigger table of clinical rules §9. The catalog holds the
//! texts and sources; this module holds only the procedure deciding which entries apply.

use crate::panel::Panel;
use crate::rules::{Outcome, RuleInput};
use crate::ruleset::Ruleset;
use crate::vocab::{
    BackPain, Condition, Flag, GuidanceId, IronStatus, Label, Medication, Pregnancy, Procedure,
    Severity,
};

/// Thresholds the attachment procedure reads (with the rules' own, every threshold of
/// `thresholds.csv` is declared as used; checked by the registry tests).
pub const THRESHOLDS: &[&str] = &[
    "back_pain_guidance_min_age_years",
    "adult_age_years",
    "age_scope_min_years",
    "myeloma_min_age_years",
];

/// What the triggers read besides the outcome.
struct Context<'a> {
    panel: &'a Panel,
    o: &'a Outcome,
    rs: &'a Ruleset,
    /// The ruleset is written for procedure 2026.2 (its triggers differ where noted).
    v2: bool,
    pregnant: bool,
    /// Pregnancy applies and its value was read (not "pregnancy unknown": a value the reader
    /// did not recognise). An unknown pregnancy gets the pregnancy cautions *and* the search
    /// for the source of iron loss that a woman who is not pregnant needs: the safer union.
    pregnancy_known: bool,
    iron_deficient: bool,
}

/// Does the trigger of guidance `id` hold for this panel? Exhaustive: a new
/// [`GuidanceId`] does not compile until its trigger is written here.
pub fn applies(id: GuidanceId, panel: &Panel, o: &Outcome, rs: &Ruleset) -> bool {
    trigger(id, &Context::new(panel, o, rs))
}

impl<'a> Context<'a> {
    /// What every trigger of one panel reads, decided once for the panel.
    fn new(panel: &'a Panel, o: &'a Outcome, rs: &'a Ruleset) -> Context<'a> {
        let pregnant = RuleInput::new(panel, rs).pregnancy_applies;
        Context {
            panel,
            o,
            rs,
            v2: rs.procedure >= Procedure::V2026_2,
            pregnant,
            pregnancy_known: pregnant && panel.pregnancy != Pregnancy::Unreadable,
            iron_deficient: o.iron_status.is_deficient(),
        }
    }
}

fn trigger(id: GuidanceId, c: &Context) -> bool {
    let (o, panel, t) = (c.o, c.panel, &c.rs.thresholds);
    if o.has_flag(Flag::AgeOutOfScope) {
        // Below 6 months nothing is interpreted; only the transfusion safety entry may attach.
        return id == GuidanceId::SevereTransfusion
            && o.has_flag(Flag::SevereAnemiaTransfusionThreshold);
    }
    let adult_from = |t: f64| o.age_years.is_none_or(|a| a >= t);
    let deficient = c.iron_deficient;
    let back_pain_adult = adult_from(t.back_pain_guidance_min_age_years);
    let care = o.anemia == Some(true) && panel.back_pain != BackPain::No && back_pain_adult;
    let inflammation_label = matches!(
        o.classification,
        Label::AnemiaOfInflammation | Label::MixedIronDeficiencyAndInflammation
    );
    match id {
        // 2026.2: with every iron deficiency, whatever the label.
        G::IronOral => {
            if c.v2 {
                deficient
            } else {
                iron_label(o.classification)
            }
        }
        G::IronIv => iv_iron(c),
        G::IronDuration => deficient,
        G::IronSource => deficient && adult_from(t.adult_age_years) && !(c.v2 && c.pregnancy_known),
        G::IronSourceChild => {
            c.v2 && deficient && !c.pregnancy_known && !adult_from(t.adult_age_years)
        }
        G::IronPregnancy => c.v2 && deficient && c.pregnant,
        G::IronCkd => o.has_flag(Flag::CkdIronTrialCriteria),
        G::IronOverloadWorkup => c.v2 && o.has_flag(Flag::IronOverloadPattern),
        // 2026.2: treat the disease when one is named, else find the cause.
        G::InflammationTreatUnderlying => inflammation_label && (!c.v2 || chronic_named(c)),
        G::InflammationFindCause => c.v2 && inflammation_label && !chronic_named(c),
        G::B12FolateReplace => {
            if c.v2 {
                o.b12_folate_deficient
            } else {
                b12_label(o.classification)
            }
        }
        G::SevereTransfusion => o.has_flag(Flag::SevereAnemiaTransfusionThreshold),
        G::ThalassemiaAvoidEmpiricIron => {
            o.classification == Label::ThalassemiaTraitSuspected
                || o.has_flag(Flag::ThalassemiaTraitPattern)
        }
        G::HemolysisWorkup => {
            o.has_flag(Flag::HemolysisPattern) || o.has_flag(Flag::Reticulocytosis)
        }
        G::OtherWorkup => {
            c.v2 && matches!(
                o.classification,
                Label::AnemiaOther | Label::AnemiaIndeterminate
            )
        }
        G::ContextSickleCell => c.v2 && panel.has_condition(Condition::SickleCellDisease),
        G::BackPainSickleCellCrisis => o.has_flag(Flag::SickleCellBackPain),
        G::BackPainAnticoagulantBleed => o.has_flag(Flag::AnticoagulantBackPainAnemia),
        // The back-pain entries follow adult guidelines (NICE NG59: over 16s).
        G::BackPainTreatBoth
        | G::BackPainNonpharmacological
        | G::BackPainMultimodal
        | G::BackPainRedFlags => care,
        // 2026.2: no muscle relaxant in pregnancy.
        G::BackPainMuscleRelaxant => care && !(c.v2 && c.pregnant),
        G::BackPainNsaid => care && !o.has_flag(Flag::NsaidCaution),
        G::BackPainNsaidCaution => o.has_flag(Flag::NsaidCaution),
        G::BackPainChronicPsychological => panel.back_pain == BackPain::Chronic && back_pain_adult,
        // 2026.2: a very high ESR alone calls for it in adults only.
        G::BackPainMyelomaWorkup => {
            o.has_flag(Flag::MyelomaScreenSuggested)
                || (o.has_flag(Flag::VeryHighEsr) && (!c.v2 || adult_from(t.myeloma_min_age_years)))
        }
        G::ContextRheumatoidArthritis => panel.has_condition(Condition::RheumatoidArthritis),
        G::ContextAnkylosingSpondylitis => panel.has_condition(Condition::AnkylosingSpondylitis),
        G::ContextFibromyalgia => panel.has_condition(Condition::Fibromyalgia),
        G::ContextCorticosteroids => {
            o.has_flag(Flag::SteroidFractureRisk) && panel.takes(Medication::Corticosteroid)
        }
    }
}

use GuidanceId as G;

/// 2026.1: the labels that mean iron deficiency.
fn iron_label(label: Label) -> bool {
    use Label::*;
    matches!(
        label,
        IronDeficiencyAnemia
            | MixedIronDeficiencyAndInflammation
            | CombinedIronAndB12FolateDeficiency
            | IronDeficiencyWithoutAnemia
    )
}

/// 2026.1: the labels that mean B12/folate deficiency.
fn b12_label(label: Label) -> bool {
    use Label::*;
    matches!(
        label,
        B12FolateDeficiencyAnemia
            | CombinedIronAndB12FolateDeficiency
            | B12FolateDeficiencyWithoutAnemia
    )
}

/// A chronic inflammatory condition of clinical_lists.csv is named.
fn chronic_named(c: &Context) -> bool {
    c.rs.lists
        .chronic_inflammatory
        .iter()
        .any(|x| c.panel.has_condition(*x))
}

/// IV iron: inflammation blocks absorption (2026.2: status deficient_with_inflammation,
/// 2026.1: the mixed label), severe anemia with iron deficiency, the heart-failure and CKD
/// criteria, or a listed condition with iron deficiency.
fn iv_iron(c: &Context) -> bool {
    let o = c.o;
    let mixed = if c.v2 {
        o.iron_status == IronStatus::DeficientWithInflammation
    } else {
        o.classification == Label::MixedIronDeficiencyAndInflammation
    };
    let listed =
        c.rs.lists
            .iv_iron_conditions
            .iter()
            .any(|x| c.panel.has_condition(*x));
    mixed
        || (c.iron_deficient && o.severity == Some(Severity::Severe))
        || o.has_flag(Flag::IronDeficiencyHfCriteria)
        || o.has_flag(Flag::CkdIronTrialCriteria)
        || (c.iron_deficient && listed)
}

/// Guidance attached to one panel, in catalog order.
pub fn attach(panel: &Panel, outcome: &Outcome, rs: &Ruleset) -> Vec<GuidanceId> {
    let c = Context::new(panel, outcome, rs);
    GuidanceId::catalog(rs.procedure)
        .filter(|id| trigger(*id, &c))
        .collect()
}

/// Full text of one attached entry as written in NDJSON and `--guidance-text` CSV:
/// `title: text`, with the patient's NSAID reasons appended to the NSAID caution.
pub fn render_text(id: GuidanceId, outcome: &Outcome, rs: &Ruleset) -> String {
    let Some(parts) = TextParts::of(id, rs) else {
        return String::new();
    };
    let mut s = parts.head;
    s.push_str(&reasons(id, outcome));
    s.push_str(&parts.sources);
    s
}

/// The parts of a guidance text that do not depend on the panel: `title: text` and
/// ` [Sources: ...]`; the NSAID caution's reasons go between them ([`reasons`]).
#[derive(Clone, Debug)]
pub struct TextParts {
    pub head: String,
    pub sources: String,
}

impl TextParts {
    pub fn of(id: GuidanceId, rs: &Ruleset) -> Option<TextParts> {
        let g = rs.guidance_entry(id.code())?;
        Some(TextParts {
            head: format!("{}: {}", g.title.trim(), collapse(&g.text)),
            sources: format!(" [Sources: {}]", g.sources.join("; ")),
        })
    }
}

/// The panel's part of a guidance text: why NSAID caution was raised (empty otherwise).
pub fn reasons(id: GuidanceId, outcome: &Outcome) -> String {
    if id == GuidanceId::BackPainNsaidCaution && !outcome.nsaid_reasons.is_empty() {
        format!(" Reasons: {}.", outcome.nsaid_reasons.join("; "))
    } else {
        String::new()
    }
}

fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
