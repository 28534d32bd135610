//! The ruleset proves its own integrity: every age covered exactly once, and broken copies
//! rejected with the file and line of the problem.

use std::path::Path;

use anemia_engine::error::RulesetError;
use anemia_engine::ruleset::{PregnancyKey, Ruleset, SexKey};

use crate::common::root;

fn ages() -> impl Iterator<Item = f64> {
    // Every month from 6 months to 120 years.
    (6..=1440).map(|m| m as f64 / 12.0)
}

#[test]
fn hb_cutoffs_cover_every_age_exactly_once_for_each_sex_and_pregnancy_state() {
    let rs = Ruleset::embedded().expect("ruleset");
    let t = &rs.thresholds;
    let states: [(SexKey, PregnancyKey, f64); 7] = [
        (SexKey::F, PregnancyKey::None, t.age_scope_min_years),
        (SexKey::M, PregnancyKey::None, t.age_scope_min_years),
        (SexKey::U, PregnancyKey::None, t.age_scope_min_years),
        (SexKey::F, PregnancyKey::T1, t.pregnancy_min_age_years),
        (SexKey::F, PregnancyKey::T2, t.pregnancy_min_age_years),
        (SexKey::F, PregnancyKey::T3, t.pregnancy_min_age_years),
        (SexKey::F, PregnancyKey::Unknown, t.pregnancy_min_age_years),
    ];
    for (sex, preg, from) in states {
        for age in ages().filter(|a| *a >= from) {
            let matching = rs
                .hb_cutoffs
                .iter()
                .filter(|r| {
                    (r.row.sex == sex || r.row.sex == SexKey::Any)
                        && r.row.pregnancy == preg
                        && age >= r.row.age_from_years
                        && r.row.age_to_years.is_none_or(|to| age < to)
                })
                .count();
            assert_eq!(
                matching, 1,
                "sex {sex:?} pregnancy {preg:?} age {age}: {matching} rows"
            );
        }
    }
    for age in ages() {
        for sex in [SexKey::F, SexKey::M, SexKey::U] {
            assert_eq!(
                rs.mcv
                    .iter()
                    .filter(|r| (r.row.sex == sex || r.row.sex == SexKey::Any)
                        && age >= r.row.age_from_years
                        && r.row.age_to_years.is_none_or(|to| age < to))
                    .count(),
                1,
                "MCV sex {sex:?} age {age}"
            );
        }
        for anemic in [true, false] {
            assert!(rs.ferritin_row(age, anemic).is_some(), "ferritin age {age}");
        }
    }
}

fn copy_ruleset(dir: &Path) {
    let src = root().join("reference-ranges/2026.1");
    for entry in std::fs::read_dir(&src).expect("list") {
        let entry = entry.expect("entry");
        std::fs::copy(entry.path(), dir.join(entry.file_name())).expect("copy");
    }
}

fn edit(dir: &Path, file: &str, from: &str, to: &str) {
    let p = dir.join(file);
    let text = std::fs::read_to_string(&p).expect("read");
    assert!(text.contains(from), "{file} lacks {from:?}");
    std::fs::write(&p, text.replacen(from, to, 1)).expect("write");
}

fn problems(dir: &Path) -> Vec<String> {
    match Ruleset::from_dir(dir) {
        Ok(_) => Vec::new(),
        Err(RulesetError::Invalid { problems, .. }) => {
            problems.iter().map(|p| p.to_string()).collect()
        }
        Err(e) => vec![e.to_string()],
    }
}

#[test]
fn an_unchanged_copy_loads() {
    let dir = tempfile::tempdir().expect("tempdir");
    copy_ruleset(dir.path());
    assert_eq!(problems(dir.path()), Vec::<String>::new());
}

#[test]
fn broken_copies_are_rejected_with_file_and_line() {
    let cases: [(&str, &str, &str, &str); 5] = [
        ("hb_cutoffs.csv", "children 24-59 months,any,none,2,5", "children 24-59 months,any,none,2,4", "hb_cutoffs.csv line 9: sex F, pregnancy None: gap from 4 to 5 years"),
        ("hb_cutoffs.csv", "children 5-11 years,any,none,5,12", "children 5-11 years,any,none,4,12", "hb_cutoffs.csv line 9: sex F, pregnancy None: overlaps line 8"),
        ("ferritin_cutoffs.csv", ",ug/L,WHO 2020 Guideline on use of ferritin concentrations to assess iron status in individuals and populations\nchildren and", ",ug/L,\nchildren and", "ferritin_cutoffs.csv line 4: missing source"),
        ("mcv_ranges.csv", "70,85,fL", "70,85,um3", "mcv_ranges.csv line 4: unknown unit \"um3\""),
        ("thresholds.csv", "rdw_high_above,14.5,%", "rdw_high_above,14.5,permille", "thresholds.csv line 9: unknown unit \"permille\" for rdw_high_above"),
    ];
    for (file, from, to, expected) in cases {
        let dir = tempfile::tempdir().expect("tempdir");
        copy_ruleset(dir.path());
        edit(dir.path(), file, from, to);
        let found = problems(dir.path());
        assert!(
            found.iter().any(|p| p.starts_with(expected)),
            "{file}: expected a problem starting {expected:?}, got:\n{}",
            found.join("\n")
        );
        // The edit also breaks the manifest checksum, which names the computed value.
        assert!(found
            .iter()
            .any(|p| p.starts_with("MANIFEST.toml line") && p.contains("sha256:")));
    }
}

#[test]
fn a_missing_threshold_and_a_missing_file_are_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    copy_ruleset(dir.path());
    edit(
        dir.path(),
        "thresholds.csv",
        "mentzer_thalassemia_below,13",
        "mentzer_typo,13",
    );
    let found = problems(dir.path());
    assert!(
        found
            .iter()
            .any(|p| p.contains("unknown threshold id \"mentzer_typo\"")),
        "{found:?}"
    );
    assert!(
        found
            .iter()
            .any(|p| p.contains("missing threshold mentzer_thalassemia_below")),
        "{found:?}"
    );
    std::fs::remove_file(dir.path().join("units.csv")).expect("remove");
    let found = problems(dir.path());
    assert!(
        found
            .iter()
            .any(|p| p.contains("units.csv") && p.contains("cannot read")),
        "{found:?}"
    );
}
