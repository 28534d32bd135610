//! The rule registry: the chain of the families' declarations, sorted by id. Each family
//! file declares its own rules next to the functions that implement them; `anemia-engine
//! rules` and `explain` print from here.

use crate::ruleset::Ruleset;
use crate::vocab::{Flag, Procedure, RuleId};

/// Metadata of one rule.
#[derive(Clone, Copy, Debug)]
pub struct RuleMeta {
    pub id: RuleId,
    pub family: &'static str,
    pub title: &'static str,
    /// Prose with `{name}` placeholders for every number that lives in the ruleset: a
    /// threshold id of `thresholds.csv` or a name [`derived`] knows. Render it with
    /// [`RuleMeta::rationale`] so it quotes the ruleset actually loaded.
    pub rationale_template: &'static str,
    pub citation: &'static str,
    /// Ids of `thresholds.csv` the rule reads.
    pub thresholds: &'static [&'static str],
    /// Ruleset tables (file names) the rule reads.
    pub tables: &'static [&'static str],
    /// Flags the rule raises.
    pub raises: &'static [Flag],
}

impl RuleMeta {
    /// The rationale with every placeholder replaced by its value in `rs`.
    pub fn rationale(&self, rs: &Ruleset) -> String {
        render(self.rationale_template, rs)
    }
}

/// A rule as printed by `rules` and `explain`: the rationale rendered from one ruleset.
#[derive(Clone, Debug, serde::Serialize)]
pub struct RuleView {
    pub id: &'static str,
    pub family: &'static str,
    pub title: &'static str,
    pub rationale: String,
    pub citation: &'static str,
}

impl RuleMeta {
    pub fn view(&self, rs: &Ruleset) -> RuleView {
        RuleView {
            id: self.id.code(),
            family: self.family,
            title: self.title,
            rationale: self.rationale(rs),
            citation: self.citation,
        }
    }
}

/// The families' declarations, in id order.
const FAMILIES: [&[RuleMeta]; 11] = [
    super::anemia::RULES,
    super::classify::RULES,
    super::data::RULES,
    super::flags::RULES,
    super::hemolysis::RULES,
    super::inflammation::RULES,
    super::iron::RULES,
    super::iron_context::RULES,
    super::morphology::RULES,
    super::data::PANEL_RULES,
    super::tests_recommended::RULES,
];

/// Every rule, sorted by id.
pub fn rules() -> impl Iterator<Item = &'static RuleMeta> {
    FAMILIES.iter().flat_map(|family| family.iter())
}

/// The first procedure that has a rule (the rules 2026.2 added run only from it on).
pub fn since(id: RuleId) -> Procedure {
    use RuleId as R;
    match id {
        R::Data005
        | R::Flag011
        | R::Flag012
        | R::Hemolysis001
        | R::Hemolysis002
        | R::Hemolysis003
        | R::Iron009
        | R::Iron010 => Procedure::V2026_2,
        _ => Procedure::V2026_1,
    }
}

/// The rules a ruleset's procedure runs, sorted by id.
pub fn rules_for(procedure: Procedure) -> impl Iterator<Item = &'static RuleMeta> {
    rules().filter(move |r| since(r.id) <= procedure)
}

/// Looks a rule up by its id.
pub fn rule(id: RuleId) -> Option<&'static RuleMeta> {
    rules().find(|r| r.id == id)
}

/// Looks a rule up by its code (case-insensitive).
pub fn rule_by_id(code: &str) -> Option<&'static RuleMeta> {
    rules().find(|r| r.id.code().eq_ignore_ascii_case(code))
}

/// The rule that raises a flag.
pub fn rule_for_flag(flag: Flag) -> Option<&'static RuleMeta> {
    rules().find(|r| r.raises.contains(&flag))
}

/// Numbers rationales quote that are not a single threshold: derived from the tables.
fn derived(name: &str, rs: &Ruleset) -> Option<f64> {
    let t = &rs.thresholds;
    match name {
        "age_scope_min_months" => Some(t.age_scope_min_years * 12.0),
        "ferritin_adult_with_inflammation_below" => rs
            .ferritin_row(t.adult_age_years, false)
            .map(|r| r.deficient_below_with_inflammation),
        // The last whole ug/L of the with-inflammation middle band.
        "ferritin_inflammation_band_last" => Some(t.ferritin_inflammation_band_upper - 1.0),
        _ => None,
    }
}

/// The value of one placeholder name.
pub(crate) fn placeholder_value(name: &str, rs: &Ruleset) -> Option<f64> {
    rs.thresholds
        .get(name)
        .or_else(|| rs.thresholds_2026_2.as_ref().and_then(|t| t.get(name)))
        .or_else(|| derived(name, rs))
}

fn render(template: &str, rs: &Ruleset) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                let name = &after[..close];
                match placeholder_value(name, rs) {
                    Some(v) => out.push_str(&crate::numfmt::num(v).to_string()),
                    // Unknown names are caught by the registry tests; never hide one.
                    None => out.push_str(&format!("{{{name}}}")),
                }
                rest = &after[close + 1..];
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// Placeholder names a template uses.
#[cfg(test)]
fn placeholders(template: &str) -> Vec<&str> {
    template
        .split('{')
        .skip(1)
        .filter_map(|s| s.split_once('}').map(|(name, _)| name))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ruleset::{RULESET_FILES, THRESHOLD_IDS, THRESHOLD_IDS_2026_2};

    fn embedded() -> Ruleset {
        Ruleset::embedded().unwrap()
    }

    #[test]
    fn every_rule_id_is_declared_exactly_once_in_id_order() {
        let declared: Vec<RuleId> = rules().map(|r| r.id).collect();
        assert_eq!(
            declared,
            RuleId::ALL,
            "declarations must follow RuleId order"
        );
        for pair in declared.windows(2) {
            assert!(
                pair[0].code() < pair[1].code(),
                "{} before {}",
                pair[0],
                pair[1]
            );
        }
    }

    #[test]
    fn every_rule_is_titled_cited_and_in_its_family() {
        for r in rules() {
            assert!(r.id.code().starts_with(r.family), "{}", r.id);
            assert!(!r.title.is_empty(), "{} has no title", r.id);
            assert!(
                !r.rationale_template.is_empty(),
                "{} has no rationale",
                r.id
            );
            assert!(!r.citation.is_empty(), "{} has no citation", r.id);
        }
    }

    #[test]
    fn every_threshold_a_rule_names_exists_and_every_threshold_is_used() {
        let known: Vec<&str> = THRESHOLD_IDS
            .iter()
            .chain(THRESHOLD_IDS_2026_2)
            .map(|(id, _)| *id)
            .collect();
        for r in rules() {
            for t in r.thresholds {
                assert!(known.contains(t), "{} names unknown threshold {t}", r.id);
            }
            for table in r.tables {
                assert!(
                    RULESET_FILES.contains(table),
                    "{} names unknown table {table}",
                    r.id
                );
            }
        }
        let used: Vec<&str> = rules()
            .flat_map(|r| r.thresholds.iter().copied())
            .chain(crate::guidance::THRESHOLDS.iter().copied())
            .collect();
        for id in known {
            assert!(used.contains(&id), "threshold {id} is used by no rule");
        }
    }

    #[test]
    fn every_flag_is_raised_by_exactly_one_rule() {
        for f in Flag::ALL {
            let raisers: Vec<RuleId> = rules()
                .filter(|r| r.raises.contains(&f))
                .map(|r| r.id)
                .collect();
            assert_eq!(raisers.len(), 1, "{f} is raised by {raisers:?}");
        }
    }

    #[test]
    fn rationales_carry_no_number_of_the_ruleset() {
        let rs = embedded();
        for r in rules() {
            let mut prose = r.rationale_template.to_string();
            for name in placeholders(r.rationale_template) {
                assert!(
                    placeholder_value(name, &rs).is_some(),
                    "{} quotes unknown placeholder {{{name}}}",
                    r.id
                );
                prose = prose.replace(&format!("{{{name}}}"), "");
            }
            let numbers = standalone_numbers(&prose);
            assert!(
                numbers.is_empty(),
                "{} rationale writes {numbers:?} instead of a placeholder: {prose}",
                r.id
            );
            // Every placeholder names a threshold the rule declares (or a derived value).
            for name in placeholders(r.rationale_template) {
                assert!(
                    r.thresholds.contains(&name) || derived(name, &rs).is_some(),
                    "{} quotes {{{name}}} without declaring it",
                    r.id
                );
            }
        }
    }

    /// Numbers standing alone in prose: not part of a name (B12, log10, HbA2), not a
    /// section or procedure reference (`section 5`, `Procedure 2026.2`), not the `x 100` of
    /// a percentage.
    fn standalone_numbers(prose: &str) -> Vec<String> {
        let words: Vec<&str> = prose
            .split(|c: char| c.is_whitespace() || "(),;:/=<>+".contains(c))
            .filter(|w| !w.is_empty())
            .collect();
        let mut found = Vec::new();
        for (i, w) in words.iter().enumerate() {
            let w = w.trim_end_matches('.');
            let numeric = w.chars().any(|c| c.is_ascii_digit())
                && w.chars()
                    .all(|c| c.is_ascii_digit() || c == '.' || c == '-');
            let after = |prev: &str| i > 0 && words[i - 1] == prev;
            let reference =
                after("section") || after("procedure") || after("Procedure") || after("ISO");
            if numeric && !reference && !(w == "100" && after("x")) {
                found.push(w.to_string());
            }
        }
        found
    }

    #[test]
    fn the_number_check_sees_numbers_and_not_names() {
        assert_eq!(standalone_numbers("ferritin < 30 deficient"), vec!["30"]);
        assert_eq!(standalone_numbers("age/2 men"), vec!["2"]);
        assert_eq!(standalone_numbers("30-99 decided"), vec!["30-99"]);
        assert!(
            standalone_numbers("B12, log10(ferritin), alpha-1-acid, section 5, x 100").is_empty()
        );
    }

    #[test]
    fn a_rationale_quotes_the_loaded_ruleset() {
        let mut rs = embedded();
        rs.thresholds.mentzer_thalassemia_below = 12.5;
        let text = rule(RuleId::Morph003).unwrap().rationale(&rs);
        assert!(text.contains("12.5"), "{text}");
        assert!(!text.contains("13"), "{text}");
    }

    #[test]
    fn lookups_by_code_and_flag() {
        assert_eq!(rule_by_id("iron-003").map(|r| r.id), Some(RuleId::Iron003));
        assert_eq!(
            rule_for_flag(Flag::MaskedIronDeficiency).map(|r| r.id),
            Some(RuleId::Iron003)
        );
        assert!(rule_by_id("IRON-999").is_none());
    }
}
