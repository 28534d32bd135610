//! Typed evidence and the append-only trail of flags, tests and evidence the stages write.

use std::fmt;

use crate::vocab::{Flag, RuleId, TestCode};

/// One evidence line: the rule that decided and what it saw (values and thresholds).
#[derive(Clone, Debug, PartialEq)]
pub struct Evidence {
    pub rule: RuleId,
    /// The observation after the rule id, e.g. `ferritin 12 ug/L < 30 ...`.
    pub text: String,
}

impl Evidence {
    /// The line as written in outputs (`IRON-003 ferritin ...`), built without the
    /// formatting machinery (it runs for every evidence line of every row).
    pub fn line(&self) -> String {
        let code = self.rule.code();
        let mut s = String::with_capacity(code.len() + 1 + self.text.len());
        s.push_str(code);
        s.push(' ');
        s.push_str(&self.text);
        s
    }
}

impl fmt::Display for Evidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.rule, self.text)
    }
}

/// A set of flags (one bit per [`Flag`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FlagSet(u64);

impl FlagSet {
    pub fn insert(&mut self, f: Flag) {
        self.0 |= 1 << (f as u32);
    }

    pub fn contains(self, f: Flag) -> bool {
        self.0 & (1 << (f as u32)) != 0
    }

    /// The flags in the set, sorted by code (the order outputs write them in).
    pub fn sorted_by_code(self) -> Vec<Flag> {
        let mut flags: Vec<Flag> = Flag::ALL
            .iter()
            .copied()
            .filter(|f| self.contains(*f))
            .collect();
        flags.sort_by_key(|f| f.code());
        flags
    }
}

/// What the stages add besides their decisions. Write-only for the stages: no decision is
/// taken from it (the tests stage reads back only its own recommendations to drop those the
/// panel already has).
#[derive(Debug)]
pub(crate) struct Trail {
    /// Whether evidence lines are written (false for `--evidence none`: the rules decide
    /// the same, their lines are not formatted).
    pub keep_evidence: bool,
    pub flags: FlagSet,
    /// In the order first recommended (the TEST-001 evidence line lists them so).
    pub tests: Vec<TestCode>,
    pub evidence: Vec<Evidence>,
    /// Analytes whose censored result could not decide a rule it was needed for (procedure
    /// 2026.2 recommends their test again, for a more sensitive assay).
    pub undecided: Vec<crate::analyte::Analyte>,
}

impl Trail {
    pub fn new(keep_evidence: bool) -> Trail {
        Trail {
            keep_evidence,
            flags: FlagSet::default(),
            tests: Vec::new(),
            evidence: Vec::new(),
            undecided: Vec::new(),
        }
    }

    pub fn flag(&mut self, f: Flag) {
        self.flags.insert(f);
    }

    pub fn recommend(&mut self, t: TestCode) {
        if !self.tests.contains(&t) {
            self.tests.push(t);
        }
    }

    pub fn undecided(&mut self, a: crate::analyte::Analyte) {
        if !self.undecided.contains(&a) {
            self.undecided.push(a);
        }
    }

    /// Adds an evidence line; `text` is formatted only when evidence is kept.
    pub fn note_with(&mut self, rule: RuleId, text: impl FnOnce() -> String) {
        if self.keep_evidence {
            self.evidence.push(Evidence { rule, text: text() });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_set_holds_every_flag_and_sorts_by_code() {
        assert!(Flag::ALL.len() <= 64);
        let mut set = FlagSet::default();
        for f in Flag::ALL {
            set.insert(f);
        }
        let sorted = set.sorted_by_code();
        assert_eq!(sorted.len(), Flag::ALL.len());
        assert!(sorted.windows(2).all(|w| w[0].code() < w[1].code()));
    }

    #[test]
    fn evidence_renders_its_rule_id_first() {
        let e = Evidence {
            rule: RuleId::Iron003,
            text: "ferritin 12 ug/L".to_string(),
        };
        assert_eq!(e.to_string(), "IRON-003 ferritin 12 ug/L");
    }
}
