//! `clinical_lists.csv`: the condition and medication lists the rules consult (chronic
//! inflammatory diseases, NSAID caution reasons, ...), read into typed lists at load.

use serde::Deserialize;

use super::tables::{Lined, Problems};
use crate::vocab::{code_enum, Condition, Medication};

code_enum! {
    /// The lists of `clinical_lists.csv`.
    ClinicalList {
        ChronicInflammatory => "chronic_inflammatory",
        IvIronCondition => "iv_iron_condition",
        NsaidCautionCondition => "nsaid_caution_condition",
        NsaidCautionMedication => "nsaid_caution_medication",
        NsaidCautionState => "nsaid_caution_state",
    }
}

/// One row of `clinical_lists.csv`.
#[derive(Clone, Debug, Deserialize)]
pub struct ClinicalListRow {
    pub list: ClinicalList,
    pub code: String,
    #[serde(default)]
    pub reason: String,
    pub source: String,
}

/// The lists, typed, in file order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ClinicalLists {
    /// Conditions that make inflammation "presumed" when no marker decides.
    pub chronic_inflammatory: Vec<Condition>,
    /// Conditions that attach IV iron guidance with iron deficiency.
    pub iv_iron_conditions: Vec<Condition>,
    /// NSAID caution reasons from conditions, with the words evidence names.
    pub nsaid_conditions: Vec<(Condition, String)>,
    /// NSAID caution reasons from medications, with the words evidence names.
    pub nsaid_medications: Vec<(Medication, String)>,
    /// The words evidence names for pregnancy as an NSAID caution reason (procedure 2026.2).
    pub nsaid_pregnancy: Option<String>,
}

const FILE: &str = "clinical_lists.csv";

/// Types every row; unknown codes, duplicates and reason-less NSAID rows are problems.
pub(super) fn validate(rows: &[Lined<ClinicalListRow>], p: &mut Problems) -> ClinicalLists {
    let mut lists = ClinicalLists::default();
    let mut seen = std::collections::HashSet::new();
    for r in rows {
        let row = &r.row;
        if !seen.insert((row.list, row.code.clone())) {
            p.push(
                FILE,
                r.line,
                format!("{} lists {} twice", row.list, row.code),
            );
            continue;
        }
        let needs_reason = matches!(
            row.list,
            ClinicalList::NsaidCautionCondition
                | ClinicalList::NsaidCautionMedication
                | ClinicalList::NsaidCautionState
        );
        if needs_reason && row.reason.trim().is_empty() {
            p.push(
                FILE,
                r.line,
                format!(
                    "{} {}: the reason evidence names is missing",
                    row.list, row.code
                ),
            );
            continue;
        }
        let reason = row.reason.trim().to_string();
        if row.list == ClinicalList::NsaidCautionState {
            match row.code.as_str() {
                "pregnancy" => lists.nsaid_pregnancy = Some(reason),
                other => p.push(
                    FILE,
                    r.line,
                    format!("unknown state {other:?} (known: pregnancy)"),
                ),
            }
            continue;
        }
        if row.list == ClinicalList::NsaidCautionMedication {
            match Medication::from_code(&row.code) {
                Some(m) => lists.nsaid_medications.push((m, reason)),
                None => p.push(FILE, r.line, format!("unknown medication {:?}", row.code)),
            }
            continue;
        }
        let Some(c) = Condition::from_code(&row.code) else {
            p.push(FILE, r.line, format!("unknown condition {:?}", row.code));
            continue;
        };
        match row.list {
            ClinicalList::ChronicInflammatory => lists.chronic_inflammatory.push(c),
            ClinicalList::IvIronCondition => lists.iv_iron_conditions.push(c),
            ClinicalList::NsaidCautionCondition => lists.nsaid_conditions.push((c, reason)),
            ClinicalList::NsaidCautionMedication | ClinicalList::NsaidCautionState => {}
        }
    }
    lists
}
