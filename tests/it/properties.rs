//! Property tests: monotonicity of the anemia decision and totality of the cell parser.

use anemia_engine::analyte::Analyte;
use anemia_engine::cell::{parse_cell, Cell, DecimalMark, Measure};
use anemia_engine::panel::{Panel, Pregnancy, Sex};
use anemia_engine::rules::evaluate;
use anemia_engine::ruleset::Ruleset;
use proptest::prelude::*;

fn ruleset() -> &'static Ruleset {
    static RS: std::sync::OnceLock<Ruleset> = std::sync::OnceLock::new();
    RS.get_or_init(|| Ruleset::embedded().expect("ruleset"))
}

fn panel(
    hb: f64,
    sex: Sex,
    age: Option<f64>,
    pregnancy: Pregnancy,
    altitude: Option<f64>,
    cigarettes: Option<f64>,
) -> Panel {
    let mut p = Panel::new(0, 2, "P".into(), "S".into());
    p.sex = sex;
    p.age_years = age;
    p.pregnancy = pregnancy;
    p.altitude_m = altitude;
    p.cigarettes_per_day = cigarettes;
    p.values[Analyte::Hb.index()] = Cell::Value(Measure::exact(hb));
    p
}

fn sex() -> impl Strategy<Value = Sex> {
    prop_oneof![Just(Sex::Female), Just(Sex::Male), Just(Sex::Unknown)]
}

fn pregnancy() -> impl Strategy<Value = Pregnancy> {
    prop_oneof![
        Just(Pregnancy::No),
        Just(Pregnancy::Trimester1),
        Just(Pregnancy::Trimester2),
        Just(Pregnancy::Trimester3),
        Just(Pregnancy::TrimesterUnknown)
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn lowering_hb_never_makes_an_anemic_panel_non_anemic(
        hb in 1.0f64..25.0,
        drop in 0.0f64..10.0,
        sex in sex(),
        age in proptest::option::of(0.5f64..120.0),
        pregnancy in pregnancy(),
        altitude in proptest::option::of(-100.0f64..6000.0),
        cigarettes in proptest::option::of(0.0f64..40.0),
    ) {
        let rs = ruleset();
        let high = evaluate(&panel(hb, sex, age, pregnancy, altitude, cigarettes), rs);
        let lower_hb = (hb - drop).max(1.0);
        let low = evaluate(&panel(lower_hb, sex, age, pregnancy, altitude, cigarettes), rs);
        if high.anemia == Some(true) {
            prop_assert_eq!(low.anemia, Some(true), "Hb {} anemic but {} not", hb, lower_hb);
        }
        // Severity never improves as Hb falls.
        let rank = |s: Option<anemia_engine::rules::Severity>| s.map(|s| s as u8);
        if let (Some(a), Some(b)) = (rank(high.severity), rank(low.severity)) {
            prop_assert!(b >= a, "severity improved from {:?} to {:?}", high.severity, low.severity);
        }
    }

    #[test]
    fn no_string_makes_the_cell_parser_panic(raw in "\\PC{0,24}", mark in prop_oneof![Just(DecimalMark::Point), Just(DecimalMark::Comma), Just(DecimalMark::Unsettled)]) {
        match parse_cell(&raw, mark) {
            Cell::Value(m) => prop_assert!(m.value.is_finite()),
            Cell::Text(t) => prop_assert_eq!(t, raw.trim()),
            Cell::Ambiguous(t) => {
                prop_assert_eq!(&t, raw.trim());
                prop_assert_eq!(mark, DecimalMark::Unsettled);
            }
            Cell::Missing => prop_assert!(anemia_engine::cell::is_missing_token(&raw)),
        }
    }

    #[test]
    fn numbers_with_marks_parse_to_the_number(v in 0.0f64..100000.0, mark in prop_oneof![Just(""), Just(" H"), Just("L"), Just("(H)"), Just(" *"), Just("!")]) {
        let text = format!("{v}{mark}");
        prop_assert_eq!(parse_cell(&text, DecimalMark::Point), Cell::Value(Measure::exact(v)));
    }
}
