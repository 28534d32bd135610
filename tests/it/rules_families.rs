//! Unit tests per rule family (ruleset 2026.1): one rule's behaviour per test, on panels
//! built in code, with values just below and at each threshold of `reference-ranges/2026.1`.
//!
//! Everything that touches the engine's types is in the first section ([`PanelBuilder`],
//! [`decide`], [`Decision`]): when `rules::evaluate` or `Outcome` change shape, adapt those
//! and the tests stay as they are.

use std::sync::OnceLock;

use anemia_engine::analyte::Analyte;
use anemia_engine::cell::{Cell, Censor, Measure};
use anemia_engine::panel::{BackPain, Panel, Pregnancy, Sex};
use anemia_engine::rules;
use anemia_engine::ruleset::Ruleset;
use anemia_engine::vocab::{Condition, Medication};

// ---------------------------------------------------------------------------------------
// Adapter: the only code that knows the engine's panel and outcome types
// ---------------------------------------------------------------------------------------

fn ruleset() -> &'static Ruleset {
    static RS: OnceLock<Ruleset> = OnceLock::new();
    RS.get_or_init(crate::common::ruleset_2026_1)
}

/// A panel under construction; starts as a woman of 30 with an unremarkable panel (not
/// anemic, normocytic, no inflammation, iron replete, B12 and folate normal, no back pain),
/// so that each test changes only what its rule reads.
struct PanelBuilder {
    panel: Panel,
}

impl PanelBuilder {
    fn new() -> PanelBuilder {
        let mut panel = Panel::new(0, 2, "P1".to_string(), "S1".to_string());
        panel.sex = Sex::Female;
        panel.sex_raw = "F".to_string();
        panel.age_years = Some(30.0);
        panel.back_pain = BackPain::No;
        PanelBuilder { panel }
            .value(Analyte::Hb, 13.5)
            .value(Analyte::Rbc, 4.6)
            .value(Analyte::Mcv, 88.0)
            .value(Analyte::Rdw, 13.1)
            .value(Analyte::Ferritin, 80.0)
            .value(Analyte::Tsat, 28.0)
            .value(Analyte::Crp, 1.2)
            .value(Analyte::B12, 420.0)
            .value(Analyte::Folate, 9.5)
    }

    fn sex(mut self, sex: Sex) -> Self {
        self.panel.sex = sex;
        self.panel.sex_raw = match sex {
            Sex::Female => "F",
            Sex::Male => "M",
            Sex::Unknown => "",
        }
        .to_string();
        self
    }

    fn age(mut self, years: f64) -> Self {
        self.panel.age_years = Some(years);
        self
    }

    fn no_age(mut self) -> Self {
        self.panel.age_years = None;
        self
    }

    fn pregnant(mut self, p: Pregnancy) -> Self {
        self.panel.pregnancy = p;
        self
    }

    fn altitude(mut self, m: f64) -> Self {
        self.panel.altitude_m = Some(m);
        self
    }

    fn back_pain(mut self, b: BackPain) -> Self {
        self.panel.back_pain = b;
        self
    }

    fn condition(mut self, c: Condition) -> Self {
        self.panel.conditions.push(c);
        self
    }

    fn medication(mut self, m: Medication) -> Self {
        self.panel.medications.push(m);
        self
    }

    fn value(self, a: Analyte, v: f64) -> Self {
        self.cell(a, Cell::Value(Measure::exact(v)))
    }

    fn censored(self, a: Analyte, censor: Censor, v: f64) -> Self {
        self.cell(a, Cell::Value(Measure { value: v, censor }))
    }

    fn text(self, a: Analyte, t: &str) -> Self {
        self.cell(a, Cell::Text(t.to_string()))
    }

    fn missing(self, a: Analyte) -> Self {
        self.cell(a, Cell::Missing)
    }

    fn cell(mut self, a: Analyte, c: Cell) -> Self {
        self.panel.values[a.index()] = c;
        self
    }

    fn decide(self) -> Decision {
        decide(&self.panel)
    }
}

/// The rules' decisions as codes (strings), independent of the engine's enum names.
#[derive(Debug)]
struct Decision {
    anemia: Option<bool>,
    threshold_g_dl: Option<f64>,
    severity: Option<&'static str>,
    morphology: &'static str,
    inflammation: &'static str,
    iron_status: &'static str,
    classification: &'static str,
    flags: Vec<&'static str>,
    tests: Vec<&'static str>,
    evidence: Vec<String>,
}

fn decide(panel: &Panel) -> Decision {
    let o = rules::evaluate(panel, ruleset());
    Decision {
        anemia: o.anemia,
        threshold_g_dl: o.hb_threshold_g_dl,
        severity: o.severity.map(|s| s.code()),
        morphology: o.morphology.code(),
        inflammation: o.inflammation.code(),
        iron_status: o.iron_status.code(),
        classification: o.classification.code(),
        flags: o.flags.iter().map(|f| f.code()).collect(),
        tests: o.recommended_tests.iter().map(|t| t.code()).collect(),
        evidence: o.evidence.iter().map(|e| e.to_string()).collect(),
    }
}

impl Decision {
    fn has_flag(&self, code: &str) -> bool {
        self.flags.contains(&code)
    }

    fn recommends(&self, code: &str) -> bool {
        self.tests.contains(&code)
    }

    /// The evidence lines written by `rule` (lines starting with its id).
    fn lines(&self, rule: &str) -> Vec<&str> {
        let prefix = format!("{rule} ");
        self.evidence
            .iter()
            .filter(|l| l.starts_with(&prefix))
            .map(String::as_str)
            .collect()
    }

    /// The one evidence line of `rule`, which must contain every part of `parts`.
    fn line(&self, rule: &str, parts: &[&str]) -> &str {
        let lines = self.lines(rule);
        assert_eq!(lines.len(), 1, "{rule}: {:#?}", self.evidence);
        for part in parts {
            assert!(lines[0].contains(part), "{part:?} not in {:?}", lines[0]);
        }
        lines[0]
    }
}

fn panel() -> PanelBuilder {
    PanelBuilder::new()
}

/// The baseline panel, anemic (F 30, Hb 11.0 < 12.0, mild).
fn anemic() -> PanelBuilder {
    panel().value(Analyte::Hb, 11.0)
}

// ---------------------------------------------------------------------------------------
// ANEMIA: cutoffs (hb_cutoffs.csv), adjustments (hb_adjustments.csv), severity
// ---------------------------------------------------------------------------------------

#[test]
fn anemia_004_hb_just_below_the_cutoff_is_anemic_and_at_it_is_not() {
    // Non-pregnant females 15 y and over: anemia below 120 g/L.
    let below = panel().value(Analyte::Hb, 11.99).decide();
    assert_eq!(below.anemia, Some(true));
    assert_eq!(below.threshold_g_dl, Some(12.0));
    assert_eq!(below.severity, Some("mild"));
    below.line(
        "ANEMIA-004",
        &["Hb 11.99 g/dL < 12 g/dL: anemic, severity mild"],
    );
    let at = panel().value(Analyte::Hb, 12.0).decide();
    assert_eq!(at.anemia, Some(false));
    assert_eq!(at.threshold_g_dl, Some(12.0));
    assert_eq!(at.severity, Some("none"));
    at.line("ANEMIA-004", &["Hb 12 g/dL >= 12 g/dL: not anemic"]);
    // Males 15 y and over: 130 g/L.
    let male = |hb| panel().sex(Sex::Male).value(Analyte::Hb, hb).decide();
    assert_eq!(male(12.99).anemia, Some(true));
    assert_eq!(male(13.0).anemia, Some(false));
    assert_eq!(male(13.0).threshold_g_dl, Some(13.0));
    // Pregnant, second trimester: 105 g/L.
    let t2 = |hb| {
        panel()
            .pregnant(Pregnancy::Trimester2)
            .value(Analyte::Hb, hb)
            .decide()
    };
    assert_eq!(t2(10.49).anemia, Some(true));
    assert_eq!(t2(10.5).anemia, Some(false));
    // Children 5-11 y, any sex: 115 g/L.
    let child = |hb| panel().age(8.0).value(Analyte::Hb, hb).decide();
    assert_eq!(child(11.49).anemia, Some(true));
    assert_eq!(child(11.5).anemia, Some(false));
}

#[test]
fn anemia_004_severity_edges() {
    // Females: mild [110, 120), moderate [80, 110), severe below 80 g/L.
    let sev = |hb| panel().value(Analyte::Hb, hb).decide().severity;
    assert_eq!(sev(11.0), Some("mild"));
    assert_eq!(sev(10.99), Some("moderate"));
    assert_eq!(sev(8.0), Some("moderate"));
    assert_eq!(sev(7.99), Some("severe"));
}

#[test]
fn anemia_004_sex_unknown_between_the_female_and_male_cutoffs_is_undecided() {
    let d = |hb| panel().sex(Sex::Unknown).value(Analyte::Hb, hb).decide();
    let grey = d(12.99);
    assert_eq!(grey.anemia, None);
    assert_eq!(grey.threshold_g_dl, None);
    assert!(grey.has_flag("SEX_UNKNOWN"));
    grey.line("ANEMIA-004", &["between 12 and 13 g/dL with sex unknown"]);
    assert_eq!(d(11.99).anemia, Some(true));
    // Not anemic only from the male cutoff, which is then the reported threshold.
    let at = d(13.0);
    assert_eq!(at.anemia, Some(false));
    assert_eq!(at.threshold_g_dl, Some(13.0));
}

#[test]
fn anemia_002_altitude_bands_are_half_open() {
    // [0, 500) +0, [500, 1000) +4, [1000, 1500) +8 g/L; F cutoff 120 g/L.
    let at = |m| panel().altitude(m).decide();
    assert_eq!(at(499.0).threshold_g_dl, Some(12.0));
    at(499.0).line("ANEMIA-002", &["altitude 499 m: +0 g/L"]);
    assert_eq!(at(500.0).threshold_g_dl, Some(12.4));
    at(500.0).line("ANEMIA-002", &["altitude 500 m: +4 g/L"]);
    assert_eq!(at(999.0).threshold_g_dl, Some(12.4));
    assert_eq!(at(1000.0).threshold_g_dl, Some(12.8));
    // The adjusted cutoff decides: at 500 m, 12.39 is anemic and 12.4 is not.
    let hb = |v| {
        panel()
            .altitude(500.0)
            .value(Analyte::Hb, v)
            .decide()
            .anemia
    };
    assert_eq!(hb(12.39), Some(true));
    assert_eq!(hb(12.4), Some(false));
    // Without an altitude no ANEMIA-002 line.
    assert!(panel().decide().lines("ANEMIA-002").is_empty());
}

#[test]
fn anemia_002_beyond_the_who_table_carries_the_last_row_and_flags() {
    let inside = panel().altitude(4999.0).decide();
    assert_eq!(inside.threshold_g_dl, Some(15.3));
    assert!(!inside.has_flag("ALTITUDE_OUT_OF_TABLE"));
    let beyond = panel().altitude(5000.0).decide();
    assert_eq!(beyond.threshold_g_dl, Some(15.3));
    assert!(beyond.has_flag("ALTITUDE_OUT_OF_TABLE"));
    beyond.line(
        "ANEMIA-002",
        &["altitude 5000 m: +33 g/L", "beyond the WHO table"],
    );
}

// ---------------------------------------------------------------------------------------
// MORPH: MCV category by age (mcv_ranges.csv)
// ---------------------------------------------------------------------------------------

#[test]
fn morph_001_mcv_category_edges_are_normocytic() {
    // Adults: normocytic [80, 100] fL.
    let m = |mcv| panel().value(Analyte::Mcv, mcv).decide();
    assert_eq!(m(79.99).morphology, "microcytic");
    assert_eq!(m(80.0).morphology, "normocytic");
    assert_eq!(m(100.0).morphology, "normocytic");
    assert_eq!(m(100.01).morphology, "macrocytic");
    m(80.0).line(
        "MORPH-001",
        &["MCV 80 fL with normocytic range 80-100 fL", "normocytic"],
    );
    // Children 7-10 years: [78, 92] fL.
    let c = |mcv| {
        panel()
            .age(8.0)
            .value(Analyte::Mcv, mcv)
            .decide()
            .morphology
    };
    assert_eq!(c(77.99), "microcytic");
    assert_eq!(c(78.0), "normocytic");
    assert_eq!(c(92.0), "normocytic");
    assert_eq!(c(92.01), "macrocytic");
    // Missing MCV: unknown, no evidence line.
    let none = panel().missing(Analyte::Mcv).decide();
    assert_eq!(none.morphology, "unknown");
    assert!(none.lines("MORPH-001").is_empty());
}

// ---------------------------------------------------------------------------------------
// INFLAM: CRP, ESR, presumed inflammation (thresholds.csv)
// ---------------------------------------------------------------------------------------

#[test]
fn inflam_001_crp_above_5_is_inflammation() {
    let crp = |v| panel().value(Analyte::Crp, v).decide();
    let at = crp(5.0);
    assert_eq!(at.inflammation, "absent");
    at.line("INFLAM-001", &["CRP 5 mg/L vs > 5: not raised"]);
    let above = crp(5.01);
    assert_eq!(above.inflammation, "present");
    above.line("INFLAM-001", &["CRP 5.01 mg/L vs > 5: raised"]);
    // A censored CRP that spans the cutoff does not decide.
    let spans = panel().censored(Analyte::Crp, Censor::Lt, 10.0).decide();
    assert_eq!(spans.inflammation, "unknown");
    spans.line("INFLAM-001", &["censored value does not decide"]);
}

#[test]
fn inflam_002_esr_upper_limit_by_age_and_sex() {
    // Miller 1983: women (age + 10) / 2, men age / 2; without CRP the ESR decides.
    let esr = |b: PanelBuilder, v| b.missing(Analyte::Crp).value(Analyte::Esr, v).decide();
    let woman = || panel().age(40.0);
    assert_eq!(esr(woman(), 25.0).inflammation, "absent");
    esr(woman(), 25.0).line(
        "INFLAM-002",
        &["ESR 25 mm/h vs upper limit 25 mm/h: not raised"],
    );
    assert_eq!(esr(woman(), 25.01).inflammation, "present");
    let man = || panel().sex(Sex::Male).age(40.0);
    assert_eq!(esr(man(), 20.0).inflammation, "absent");
    assert_eq!(esr(man(), 20.01).inflammation, "present");
    // Age missing: 30 mm/h for women, 20 for men.
    assert_eq!(esr(panel().no_age(), 30.0).inflammation, "absent");
    assert_eq!(esr(panel().no_age(), 30.01).inflammation, "present");
    // Under 15 y the adult limits do not apply: ESR is not used.
    let child = esr(panel().age(14.9), 60.0);
    assert_eq!(child.inflammation, "unknown");
    child.line("INFLAM-002", &["not used under 15 y"]);
}

#[test]
fn inflam_004_chronic_condition_presumes_inflammation_only_without_markers() {
    let presumed = panel()
        .missing(Analyte::Crp)
        .condition(Condition::RheumatoidArthritis)
        .decide();
    assert_eq!(presumed.inflammation, "presumed");
    assert!(presumed.has_flag("INFLAMMATION_PRESUMED"));
    presumed.line("INFLAM-004", &["presumed", "rheumatoid_arthritis"]);
    // A marker that decides wins over the condition.
    let marker = panel().condition(Condition::RheumatoidArthritis).decide();
    assert_eq!(marker.inflammation, "absent");
}

// ---------------------------------------------------------------------------------------
// IRON: TSAT derivation, ferritin with and without inflammation, overload
// ---------------------------------------------------------------------------------------

#[test]
fn iron_001_tsat_derived_from_iron_and_tibc_or_transferrin() {
    let base = || panel().missing(Analyte::Tsat).value(Analyte::Iron, 45.0);
    let tibc = base().value(Analyte::Tibc, 400.0).decide();
    assert!(tibc.has_flag("TSAT_DERIVED"));
    tibc.line(
        "IRON-001",
        &["TSAT derived = iron 45 ug/dL / TIBC 400 ug/dL x 100 = 11.25 %"],
    );
    // TIBC = 1.40 x transferrin: 45 / 448 = 10.04 %.
    let tf = base().value(Analyte::Transferrin, 320.0).decide();
    assert!(tf.has_flag("TSAT_DERIVED"));
    tf.line(
        "IRON-001",
        &["TIBC 1.4 x transferrin 320 mg/dL", "= 10.04 %"],
    );
    // A reported TSAT wins: nothing derived.
    let reported = panel()
        .value(Analyte::Iron, 45.0)
        .value(Analyte::Tibc, 400.0)
        .decide();
    assert!(!reported.has_flag("TSAT_DERIVED"));
    assert!(reported.lines("IRON-001").is_empty());
}

#[test]
fn iron_001_derived_tsat_above_100_percent_is_implausible() {
    let d = |iron| {
        panel()
            .missing(Analyte::Tsat)
            .value(Analyte::Iron, iron)
            .value(Analyte::Tibc, 100.0)
            .decide()
    };
    let at = d(100.0);
    assert!(at.has_flag("TSAT_DERIVED"));
    at.line("IRON-001", &["= 100 %"]);
    let above = d(100.5);
    assert!(!above.has_flag("TSAT_DERIVED"));
    above.line("IRON-001", &["> 100 %", "implausible, treated as missing"]);
}

/// An anemic adult with CRP 20 (inflammation present), ferritin and TSAT as given.
fn inflamed(ferritin: f64, tsat: f64) -> Decision {
    anemic()
        .value(Analyte::Crp, 20.0)
        .value(Analyte::Ferritin, ferritin)
        .value(Analyte::Tsat, tsat)
        .decide()
}

#[test]
fn iron_003_ferritin_below_30_with_inflammation_is_deficient() {
    let below = inflamed(29.99, 25.0);
    assert_eq!(below.iron_status, "deficient_with_inflammation");
    assert!(!below.has_flag("MASKED_IRON_DEFICIENCY"));
    below.line("IRON-003", &["ferritin 29.99 ug/L < 30 with inflammation"]);
    // At 30 the 30-99 band applies: TSAT 25 >= 20 -> adequate.
    let at = inflamed(30.0, 25.0);
    assert_eq!(at.iron_status, "adequate");
    at.line(
        "IRON-003",
        &["in 30-99 with inflammation, TSAT 25 % >= 20: adequate"],
    );
}

#[test]
fn iron_003_band_30_to_99_decided_by_tsat_below_20() {
    for ferritin in [30.0, 99.99] {
        let low = inflamed(ferritin, 19.99);
        assert_eq!(low.iron_status, "deficient_with_inflammation", "{ferritin}");
        assert!(low.has_flag("MASKED_IRON_DEFICIENCY"), "{ferritin}");
        low.line(
            "IRON-003",
            &["TSAT 19.99 % < 20: deficient_with_inflammation"],
        );
        let at = inflamed(ferritin, 20.0);
        assert_eq!(at.iron_status, "adequate", "{ferritin}");
        assert!(!at.has_flag("MASKED_IRON_DEFICIENCY"), "{ferritin}");
    }
    // TSAT missing in the band: indeterminate.
    let none = anemic()
        .value(Analyte::Crp, 20.0)
        .value(Analyte::Ferritin, 60.0)
        .missing(Analyte::Tsat)
        .decide();
    assert_eq!(none.iron_status, "indeterminate");
    none.line("IRON-003", &["TSAT missing: indeterminate"]);
}

#[test]
fn iron_003_ferritin_100_or_more_with_inflammation_is_restricted_or_adequate() {
    let restricted = inflamed(100.0, 19.99);
    assert_eq!(restricted.iron_status, "restricted");
    restricted.line(
        "IRON-003",
        &["ferritin 100 ug/L >= 100 with inflammation", "restricted"],
    );
    assert_eq!(inflamed(100.0, 20.0).iron_status, "adequate");
}

#[test]
fn iron_004_ferritin_cutoff_without_inflammation_depends_on_anemia() {
    // Adults with anemia: deficient below 45 ug/L.
    let f = |b: PanelBuilder, v| b.value(Analyte::Ferritin, v).decide();
    let below = f(anemic(), 44.99);
    assert_eq!(below.iron_status, "deficient");
    below.line(
        "IRON-004",
        &["ferritin 44.99 ug/L < 45 (adults with anemia): deficient"],
    );
    let at = f(anemic(), 45.0);
    assert_eq!(at.iron_status, "adequate");
    at.line(
        "IRON-004",
        &["ferritin 45 ug/L >= 45 (adults with anemia): adequate"],
    );
    // Adults not anemic: below 30 ug/L.
    assert_eq!(f(panel(), 29.99).iron_status, "deficient");
    assert_eq!(f(panel(), 30.0).iron_status, "adequate");
    // Children 5-14 years: below 15 ug/L.
    assert_eq!(f(panel().age(8.0), 14.99).iron_status, "deficient");
    assert_eq!(f(panel().age(8.0), 15.0).iron_status, "adequate");
}

#[test]
fn iron_004_low_tsat_with_adequate_ferritin_below_16() {
    let d = |tsat| panel().value(Analyte::Tsat, tsat).decide();
    let low = d(15.99);
    assert_eq!(low.iron_status, "adequate");
    assert!(low.has_flag("LOW_TSAT_ADEQUATE_FERRITIN"));
    low.line("IRON-004", &["adequate, TSAT 15.99 % < 16"]);
    assert!(!d(16.0).has_flag("LOW_TSAT_ADEQUATE_FERRITIN"));
}

#[test]
fn iron_007_overload_pattern_needs_tsat_above_45_and_ferritin_above_the_sex_cutoff() {
    let d = |b: PanelBuilder, tsat, ferritin| {
        b.value(Analyte::Tsat, tsat)
            .value(Analyte::Ferritin, ferritin)
            .decide()
    };
    // Women: ferritin > 200 ug/L.
    let both = d(panel(), 45.01, 200.01);
    assert!(both.has_flag("IRON_OVERLOAD_PATTERN"));
    both.line(
        "IRON-007",
        &["TSAT 45.01 % > 45 and ferritin 200.01 ug/L > 200"],
    );
    assert!(!d(panel(), 45.0, 200.01).has_flag("IRON_OVERLOAD_PATTERN"));
    assert!(!d(panel(), 45.01, 200.0).has_flag("IRON_OVERLOAD_PATTERN"));
    // Men: ferritin > 300 ug/L.
    let man = || panel().sex(Sex::Male);
    assert!(!d(man(), 50.0, 300.0).has_flag("IRON_OVERLOAD_PATTERN"));
    assert!(d(man(), 50.0, 300.01).has_flag("IRON_OVERLOAD_PATTERN"));
    // Not with inflammation present, nor under 15 y.
    let crp = panel().value(Analyte::Crp, 20.0);
    assert!(!d(crp, 50.0, 400.0).has_flag("IRON_OVERLOAD_PATTERN"));
    assert!(!d(panel().age(14.9), 50.0, 400.0).has_flag("IRON_OVERLOAD_PATTERN"));
}

// ---------------------------------------------------------------------------------------
// CLASS-001: one label, first match wins
// ---------------------------------------------------------------------------------------

#[test]
fn class_001_labels_in_order() {
    let b12 = |b: PanelBuilder| b.value(Analyte::B12, 150.0);
    let iron_deficient = |b: PanelBuilder| b.value(Analyte::Ferritin, 10.0);
    let crp = |b: PanelBuilder| b.value(Analyte::Crp, 20.0);
    let cases: Vec<(&str, PanelBuilder)> = vec![
        // B12/folate and iron deficiency together come first ...
        (
            "combined_iron_and_b12_folate_deficiency",
            iron_deficient(b12(anemic())),
        ),
        // ... B12/folate wins over inflammation ...
        ("b12_folate_deficiency_anemia", crp(b12(anemic()))),
        // ... iron deficiency with inflammation over iron deficiency ...
        (
            "mixed_iron_deficiency_and_inflammation",
            crp(iron_deficient(anemic())),
        ),
        ("iron_deficiency_anemia", iron_deficient(anemic())),
        // ... inflammation with adequate iron over the thalassemia pattern ...
        (
            "anemia_of_inflammation",
            crp(anemic().value(Analyte::Mcv, 65.0).value(Analyte::Rbc, 5.5)),
        ),
        (
            "thalassemia_trait_suspected",
            anemic().value(Analyte::Mcv, 65.0).value(Analyte::Rbc, 5.5),
        ),
        ("anemia_other", anemic()),
        // Inflammation unknown with adequate iron: indeterminate.
        ("anemia_indeterminate", anemic().missing(Analyte::Crp)),
        ("iron_deficiency_without_anemia", iron_deficient(panel())),
        ("b12_folate_deficiency_without_anemia", b12(panel())),
        ("no_anemia", panel()),
        ("insufficient_data", panel().missing(Analyte::Hb)),
    ];
    for (label, b) in cases {
        let d = b.decide();
        assert_eq!(d.classification, label, "{:#?}", d.evidence);
        d.line("CLASS-001", &[label]);
    }
}

#[test]
fn class_001_inflammation_with_indeterminate_iron_flags_possible_iron_deficiency() {
    let d = anemic()
        .value(Analyte::Crp, 20.0)
        .value(Analyte::Ferritin, 60.0)
        .missing(Analyte::Tsat)
        .decide();
    assert_eq!(d.classification, "anemia_of_inflammation");
    assert!(d.has_flag("POSSIBLE_COEXISTING_IRON_DEFICIENCY"));
}

// ---------------------------------------------------------------------------------------
// FLAG: mixed states and safety flags
// ---------------------------------------------------------------------------------------

#[test]
fn flag_001_iron_deficiency_with_mcv_at_or_above_the_lower_limit() {
    let d = |mcv| {
        anemic()
            .value(Analyte::Ferritin, 10.0)
            .value(Analyte::Mcv, mcv)
            .decide()
    };
    let micro = d(79.99);
    assert!(!micro.has_flag("IRON_DEFICIENCY_NORMAL_MCV"));
    assert!(micro.lines("FLAG-001").is_empty());
    let at = d(80.0);
    assert!(at.has_flag("IRON_DEFICIENCY_NORMAL_MCV"));
    at.line("FLAG-001", &["iron deficient with MCV 80 fL >= 80"]);
}

#[test]
fn flag_005_mentzer_index_below_13_with_microcytosis_and_adequate_iron() {
    // MCV 65 fL: Mentzer 65 / 5.0 = 13 (not below), 65 / 5.01 = 12.97.
    let d = |rbc| {
        anemic()
            .value(Analyte::Mcv, 65.0)
            .value(Analyte::Rbc, rbc)
            .decide()
    };
    let at = d(5.0);
    assert!(at.has_flag("MICROCYTOSIS_WITHOUT_IRON_DEFICIENCY"));
    assert!(!at.has_flag("THALASSEMIA_TRAIT_PATTERN"));
    assert!(at.lines("FLAG-005").is_empty());
    let below = d(5.01);
    assert!(below.has_flag("THALASSEMIA_TRAIT_PATTERN"));
    assert!(below.recommends("hb_electrophoresis"));
    below.line("FLAG-005", &["Mentzer index 12.97 < 13 with iron adequate"]);
}

#[test]
fn flag_006_transfusion_threshold_7_or_8_with_cardiovascular_disease() {
    let d = |b: PanelBuilder, hb| b.value(Analyte::Hb, hb).decide();
    let below = d(panel(), 6.99);
    assert!(below.has_flag("SEVERE_ANEMIA_TRANSFUSION_THRESHOLD"));
    below.line(
        "FLAG-006",
        &["Hb 6.99 g/dL < 7 g/dL: transfusion threshold"],
    );
    assert!(!d(panel(), 7.0).has_flag("SEVERE_ANEMIA_TRANSFUSION_THRESHOLD"));
    let cvd = || panel().condition(Condition::CardiovascularDisease);
    assert!(d(cvd(), 7.99).has_flag("SEVERE_ANEMIA_TRANSFUSION_THRESHOLD"));
    d(cvd(), 7.99).line("FLAG-006", &["< 8 g/dL (cardiovascular disease)"]);
    assert!(!d(cvd(), 8.0).has_flag("SEVERE_ANEMIA_TRANSFUSION_THRESHOLD"));
    // A safety flag: also out of the age scope (under 6 months).
    let infant = d(panel().age(0.3), 6.99);
    assert_eq!(infant.classification, "insufficient_data");
    assert!(infant.has_flag("SEVERE_ANEMIA_TRANSFUSION_THRESHOLD"));
}

#[test]
fn flag_007_myeloma_screen_with_anemia_back_pain_and_a_crab_feature() {
    let d = |b: PanelBuilder| b.back_pain(BackPain::Yes).decide();
    let calcium = |v| d(anemic().age(50.0).value(Analyte::Calcium, v));
    assert!(!calcium(11.0).has_flag("MYELOMA_SCREEN_SUGGESTED"));
    let high = calcium(11.01);
    assert!(high.has_flag("MYELOMA_SCREEN_SUGGESTED"));
    assert!(high.recommends("spep_flc"));
    high.line(
        "FLAG-007",
        &["anemia with back pain and calcium 11.01 mg/dL > 11"],
    );
    let creatinine = |v| d(anemic().age(50.0).value(Analyte::Creatinine, v));
    assert!(!creatinine(2.0).has_flag("MYELOMA_SCREEN_SUGGESTED"));
    assert!(creatinine(2.01).has_flag("MYELOMA_SCREEN_SUGGESTED"));
    // ESR above the limit counts from age 60: woman of 60, limit (60 + 10) / 2 = 35.
    let esr = |age, v| d(anemic().age(age).value(Analyte::Esr, v));
    assert!(!esr(60.0, 35.0).has_flag("MYELOMA_SCREEN_SUGGESTED"));
    assert!(esr(60.0, 36.0).has_flag("MYELOMA_SCREEN_SUGGESTED"));
    assert!(!esr(59.0, 60.0).has_flag("MYELOMA_SCREEN_SUGGESTED"));
    // Not under 18 y, not without back pain, not without anemia.
    assert!(
        !d(anemic().age(17.9).value(Analyte::Calcium, 12.0)).has_flag("MYELOMA_SCREEN_SUGGESTED")
    );
    let no_pain = anemic().age(50.0).value(Analyte::Calcium, 12.0).decide();
    assert!(!no_pain.has_flag("MYELOMA_SCREEN_SUGGESTED"));
    assert!(
        !d(panel().age(50.0).value(Analyte::Calcium, 12.0)).has_flag("MYELOMA_SCREEN_SUGGESTED")
    );
}

#[test]
fn flag_009_nsaid_caution_with_back_pain_and_a_risk() {
    let d = |b: PanelBuilder| b.back_pain(BackPain::Acute).decide();
    let egfr = |v| d(panel().value(Analyte::Egfr, v));
    assert!(!egfr(60.0).has_flag("NSAID_CAUTION"));
    let low = egfr(59.99);
    assert!(low.has_flag("NSAID_CAUTION"));
    low.line("FLAG-009", &["back pain acute with eGFR 59.99 < 60"]);
    let creatinine = |v| d(panel().value(Analyte::Creatinine, v));
    assert!(!creatinine(1.5).has_flag("NSAID_CAUTION"));
    assert!(creatinine(1.51).has_flag("NSAID_CAUTION"));
    assert!(d(panel().medication(Medication::Anticoagulant)).has_flag("NSAID_CAUTION"));
    assert!(d(panel().value(Analyte::Ferritin, 10.0)).has_flag("NSAID_CAUTION"));
    // Unknown back pain counts; back_pain = no never raises it.
    let unknown = panel()
        .back_pain(BackPain::Unknown)
        .medication(Medication::Anticoagulant)
        .decide();
    assert!(unknown.has_flag("NSAID_CAUTION"));
    let no = panel().medication(Medication::Anticoagulant).decide();
    assert!(!no.has_flag("NSAID_CAUTION"));
    assert!(no.lines("FLAG-009").is_empty());
}

// ---------------------------------------------------------------------------------------
// TEST-001: recommended follow-up tests
// ---------------------------------------------------------------------------------------

#[test]
fn test_001_recommends_what_the_decision_lacked_and_never_what_is_present() {
    // Anemic with no inflammation marker: CRP recommended.
    let no_crp = anemic().missing(Analyte::Crp).decide();
    assert!(no_crp.recommends("crp"));
    no_crp.line("TEST-001", &["recommended: crp"]);
    // anemia_other: reticulocytes.
    let other = anemic().decide();
    assert_eq!(other.tests, ["reticulocytes"]);
    other.line("TEST-001", &["recommended: reticulocytes"]);
    // Macrocytic anemia with B12 and folate present: nothing new, and the evidence says so.
    let macro_ = anemic()
        .value(Analyte::Mcv, 110.0)
        .value(Analyte::B12, 150.0)
        .decide();
    assert!(!macro_.recommends("b12_folate"));
    macro_.line("TEST-001", &["(already present: b12_folate)"]);
    // A text Hb: Hb recommended again.
    let text = panel().text(Analyte::Hb, "QNS").decide();
    assert_eq!(text.classification, "insufficient_data");
    assert!(text.recommends("hb"));
    assert!(text.has_flag("VALUE_NOT_NUMERIC"));
    // The unremarkable panel: no recommendation and no TEST-001 line.
    let fine = panel().decide();
    assert!(fine.tests.is_empty());
    assert!(fine.lines("TEST-001").is_empty());
}
