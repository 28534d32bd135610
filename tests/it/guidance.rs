//! The guidance catalog (clinical-rules.md §9): integrity of `guidance.toml` against the
//! trigger table, the guidance attached to a panel of every classification label and every
//! patient context, and known answers on the corpus.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anemia_engine::ruleset::Ruleset;
use anemia_engine::vocab::{Flag, Label};
use anemia_engine::vocab::{GuidanceId, Procedure};
use serde_json::Value;

use crate::common::{engine, fixture, read, settings, stderr};

/// The ids of the §9 table, in table order.
const SECTION_9_IDS: [&str; 21] = [
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

/// The flags the §9 table names as triggers.
const SECTION_9_FLAGS: [&str; 6] = [
    "SEVERE_ANEMIA_TRANSFUSION_THRESHOLD",
    "THALASSEMIA_TRAIT_PATTERN",
    "NSAID_CAUTION",
    "MYELOMA_SCREEN_SUGGESTED",
    "VERY_HIGH_ESR",
    "STEROID_FRACTURE_RISK",
];

/// Labels after which no guidance is due: not anemic and nothing deficient, or anemia
/// status unknown. Every other label leads to guidance (§9: the iron, inflammation, B12 and
/// thalassemia entries by label; `anemia_other` and `anemia_indeterminate` through the back
/// pain entries, which attach to every anemic panel).
const LABELS_WITHOUT_GUIDANCE: [&str; 2] = ["no_anemia", "insufficient_data"];

/// The 2026.1 catalog: these tests pin ruleset 2026.1's §9 table (2026.2's is pinned by
/// the 2026.2 vignettes in corpus.rs).
/// The labels of procedure 2026.1 (2026.2 added the sickle cell and haemolytic labels).
fn labels_2026_1() -> impl Iterator<Item = Label> {
    Label::ALL.into_iter().filter(|l| {
        !matches!(
            l,
            Label::SickleCellDiseaseAnemia | Label::HemolyticAnemiaSuspected
        )
    })
}

fn catalog() -> Ruleset {
    crate::common::ruleset_2026_1()
}

/// Sentences of a text: ends of `.`, `!` or `?` followed by a space and a capital letter,
/// plus the final one.
fn sentences(text: &str) -> usize {
    let t: Vec<char> = text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .collect();
    let inner = t
        .windows(3)
        .filter(|w| matches!(w[0], '.' | '!' | '?') && w[1] == ' ' && w[2].is_uppercase())
        .count();
    inner + usize::from(t.last().is_some_and(|c| matches!(c, '.' | '!' | '?')))
}

#[test]
fn sentence_counter_counts_sentences() {
    assert_eq!(sentences("One. Two, with e.g. lower case. Three?"), 3);
    assert_eq!(sentences("No end mark"), 0);
    assert_eq!(
        sentences("A (MCV/RBC) below 13 suggests it.\n  Confirm it."),
        2
    );
}

#[test]
fn catalog_ids_are_the_section_9_table() {
    let engine_ids: Vec<&str> = GuidanceId::catalog(Procedure::V2026_1)
        .map(|g| g.code())
        .collect();
    assert_eq!(engine_ids, SECTION_9_IDS, "engine ids = §9 table, in order");
    let rs = catalog();
    let ids: Vec<&str> = rs.guidance.iter().map(|g| g.id.as_str()).collect();
    assert_eq!(
        ids, SECTION_9_IDS,
        "catalog entries = §9 table, in table order"
    );
    let unique: BTreeSet<&str> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "no id twice");
    for id in GuidanceId::catalog(Procedure::V2026_1) {
        assert!(rs.guidance_entry(id.code()).is_some(), "{id} in catalog");
    }
}

#[test]
fn catalog_entries_are_complete() {
    for g in &catalog().guidance {
        let id = &g.id;
        assert!(!g.title.trim().is_empty(), "{id}: title");
        assert!(
            g.title.chars().count() <= 60,
            "{id}: title at most 60 characters"
        );
        assert!(!g.trigger.trim().is_empty(), "{id}: trigger");
        let n = sentences(&g.text);
        assert!(
            (2..=5).contains(&n),
            "{id}: text has {n} sentences, not 2-5"
        );
        assert!(!g.sources.is_empty(), "{id}: at least one source");
        for src in &g.sources {
            assert!(!src.trim().is_empty(), "{id}: blank source");
        }
        for l in &g.labels {
            assert!(Label::from_code(l).is_some(), "{id}: unknown label {l}");
        }
        for f in &g.flags {
            assert!(Flag::from_code(f).is_some(), "{id}: unknown flag {f}");
        }
    }
}

#[test]
fn every_label_that_calls_for_guidance_is_named_by_an_entry() {
    let named: BTreeSet<String> = catalog()
        .guidance
        .iter()
        .flat_map(|g| g.labels.iter().cloned())
        .collect();
    let expected: BTreeSet<String> = labels_2026_1()
        .map(|l| l.code().to_string())
        .filter(|l| !LABELS_WITHOUT_GUIDANCE.contains(&l.as_str()))
        .collect();
    assert_eq!(named, expected);
}

#[test]
fn every_flag_section_9_names_is_named_by_an_entry() {
    let named: BTreeSet<&str> = catalog()
        .guidance
        .iter()
        .flat_map(|g| g.flags.iter().map(String::as_str).collect::<Vec<_>>())
        .map(|f| Flag::from_code(f).expect("known flag").code())
        .collect();
    let expected: BTreeSet<&str> = SECTION_9_FLAGS.into_iter().collect();
    assert_eq!(named, expected);
}

// ---------------------------------------------------------------------------------------
// Guidance attached to panels
// ---------------------------------------------------------------------------------------

/// One classified panel, as written in NDJSON with `--guidance-text`.
#[derive(Debug)]
struct Row {
    specimen: String,
    classification: String,
    flags: Vec<String>,
    guidance: Vec<String>,
    guidance_text: Vec<String>,
    age_years: Option<f64>,
    back_pain: String,
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_str().expect("string").to_string())
        .collect()
}

/// `back_pain` cell of every specimen of a wide input.
fn back_pain_by_specimen(input: &Path) -> BTreeMap<String, String> {
    let mut r = csv::Reader::from_path(input).expect("open input");
    let headers = r.headers().expect("header").clone();
    let col = |n: &str| headers.iter().position(|h| h == n).expect("column");
    let (sp, bp) = (col("specimen_id"), col("back_pain"));
    r.records()
        .map(|rec| {
            let rec = rec.expect("record");
            (rec[sp].to_string(), rec[bp].trim().to_ascii_lowercase())
        })
        .collect()
}

/// The NDJSON results of `classify INPUT ARGS...` (exit 0 asserted).
fn ndjson_of(input: &Path, args: &[&str]) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out.ndjson");
    let mut all = vec![
        "classify",
        input.to_str().expect("utf-8"),
        "-o",
        out.to_str().expect("utf-8"),
        "--quiet",
    ];
    all.extend_from_slice(args);
    let o = engine(&all);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    read(&out)
}

fn classify_ndjson(input: &Path) -> Vec<Row> {
    let ruleset = crate::common::ruleset_2026_1_dir();
    let back_pain = back_pain_by_specimen(input);
    ndjson_of(input, &["--guidance-text", "--ruleset", &ruleset])
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).expect("json line");
            let specimen = v["specimen_id"].as_str().expect("specimen").to_string();
            Row {
                back_pain: back_pain[&specimen].clone(),
                specimen,
                classification: v["classification"].as_str().expect("label").to_string(),
                flags: strings(&v["flags"]),
                guidance: strings(&v["guidance"]),
                guidance_text: strings(&v["guidance_text"]),
                age_years: v["age_years"].as_f64(),
            }
        })
        .collect()
}

fn contexts() -> Vec<Row> {
    classify_ndjson(&fixture("guidance_contexts.csv"))
}

fn corpus_and_contexts() -> Vec<Row> {
    let mut rows = classify_ndjson(&fixture("cases.csv"));
    rows.extend(contexts());
    rows
}

fn has(list: &[String], item: &str) -> bool {
    list.iter().any(|x| x == item)
}

#[test]
fn contexts_fixture_covers_every_label_and_context() {
    let rows = contexts();
    let labels: BTreeSet<&str> = rows.iter().map(|r| r.classification.as_str()).collect();
    let all: BTreeSet<&str> = labels_2026_1().map(|l| l.code()).collect();
    assert_eq!(labels, all, "one panel of every classification label");
    let back_pain: BTreeSet<&str> = rows.iter().map(|r| r.back_pain.as_str()).collect();
    for v in ["no", "yes", "acute", "chronic", ""] {
        assert!(back_pain.contains(v), "back_pain = {v:?}");
    }
    let text = read(&fixture("guidance_contexts.csv"));
    for code in [
        "rheumatoid_arthritis",
        "ankylosing_spondylitis",
        "fibromyalgia",
        "chronic_kidney_disease",
        "heart_failure",
        "anticoagulant",
        "corticosteroid",
    ] {
        assert!(text.contains(code), "{code}");
    }
    assert!(
        rows.iter()
            .any(|r| has(&r.flags, "STEROID_FRACTURE_RISK") && r.back_pain != "no"),
        "corticosteroid with back pain"
    );
    assert!(
        rows.iter().any(|r| r.age_years.is_some_and(|a| a < 0.5)),
        "under 6 months"
    );
}

#[test]
fn guidance_for_every_label_and_context() {
    let rows = contexts();
    let mut lines = String::new();
    for r in &rows {
        lines.push_str(&format!(
            "{} {} [{}] -> {}\n",
            r.specimen,
            r.classification,
            r.flags.join(";"),
            r.guidance.join(", ")
        ));
        // One text per id, in the same order, each naming its sources.
        assert_eq!(r.guidance_text.len(), r.guidance.len(), "{}", r.specimen);
        for text in &r.guidance_text {
            assert!(text.contains("[Sources: "), "{}: {text}", r.specimen);
        }
    }
    settings().bind(|| insta::assert_snapshot!("guidance_contexts_attached", lines));
}

#[test]
fn nsaid_caution_text_names_the_reasons() {
    // G04: iron deficiency anemia, back pain blank, anticoagulant, eGFR 45.
    let rows = contexts();
    let g04 = rows.iter().find(|r| r.specimen == "G04").expect("G04");
    assert!(has(&g04.flags, "NSAID_CAUTION"));
    let i = g04
        .guidance
        .iter()
        .position(|g| g == "back_pain.nsaid_caution")
        .expect("nsaid caution attached");
    let caution = &g04.guidance_text[i];
    assert!(caution.starts_with("NSAID caution: "), "{caution}");
    for reason in ["iron deficiency", "anticoagulant", "eGFR 45 < 60"] {
        assert!(caution.contains(reason), "names {reason}: {caution}");
    }
    settings().bind(|| {
        insta::assert_snapshot!(
            "guidance_nsaid_caution_text",
            g04.guidance_text.join("\n\n")
        )
    });
}

#[test]
fn nsaid_and_nsaid_caution_never_together() {
    for r in corpus_and_contexts() {
        assert!(
            !(has(&r.guidance, "back_pain.nsaid") && has(&r.guidance, "back_pain.nsaid_caution")),
            "{}: {:?}",
            r.specimen,
            r.guidance
        );
        assert_eq!(
            has(&r.guidance, "back_pain.nsaid_caution"),
            has(&r.flags, "NSAID_CAUTION") && !has(&r.flags, "AGE_OUT_OF_SCOPE"),
            "{}: nsaid_caution iff NSAID_CAUTION",
            r.specimen
        );
    }
}

#[test]
fn no_back_pain_guidance_when_back_pain_is_no() {
    let rows = corpus_and_contexts();
    let mut checked = 0;
    for r in rows.iter().filter(|r| r.back_pain == "no") {
        checked += 1;
        // §9 attaches back_pain.myeloma_workup on VERY_HIGH_ESR whatever the back pain
        // (ESR >= 100 needs a search for malignancy); MYELOMA_SCREEN_SUGGESTED itself
        // needs back pain reported. Every other back_pain entry needs back_pain != no.
        let back: Vec<&String> = r
            .guidance
            .iter()
            .filter(|g| g.starts_with("back_pain."))
            .filter(|g| !(*g == "back_pain.myeloma_workup" && has(&r.flags, "VERY_HIGH_ESR")))
            .collect();
        assert!(back.is_empty(), "{}: {back:?}", r.specimen);
        assert!(!has(&r.flags, "NSAID_CAUTION"), "{}", r.specimen);
        assert!(!has(&r.flags, "MYELOMA_SCREEN_SUGGESTED"), "{}", r.specimen);
        assert!(!has(&r.flags, "STEROID_FRACTURE_RISK"), "{}", r.specimen);
    }
    assert!(checked > 50, "only {checked} panels with back_pain = no");
    // And an anemic panel with back pain reported gets the back pain care entries.
    let g07 = rows.iter().find(|r| r.specimen == "G07").expect("G07");
    for id in [
        "back_pain.treat_both",
        "back_pain.nonpharmacological",
        "back_pain.nsaid",
        "back_pain.muscle_relaxant",
        "back_pain.multimodal",
        "back_pain.red_flags",
    ] {
        assert!(has(&g07.guidance, id), "G07 {id}");
    }
}

#[test]
fn no_iron_guidance_for_a_thalassemia_trait_pattern() {
    let rows = corpus_and_contexts();
    let thal: Vec<&Row> = rows
        .iter()
        .filter(|r| {
            has(&r.flags, "THALASSEMIA_TRAIT_PATTERN")
                || r.classification == "thalassemia_trait_suspected"
        })
        .collect();
    assert!(thal.len() >= 5, "{} thalassemia panels", thal.len());
    for r in thal {
        let iron: Vec<&String> = r
            .guidance
            .iter()
            .filter(|g| g.starts_with("anemia.iron."))
            .collect();
        assert!(iron.is_empty(), "{}: {iron:?}", r.specimen);
        assert!(
            has(&r.guidance, "anemia.thalassemia.avoid_empiric_iron"),
            "{}",
            r.specimen
        );
    }
}

#[test]
fn iv_iron_for_mixed_deficiency_and_severe_iron_deficiency() {
    let rows = corpus_and_contexts();
    let mixed: Vec<&Row> = rows
        .iter()
        .filter(|r| r.classification == "mixed_iron_deficiency_and_inflammation")
        .collect();
    assert!(mixed.len() >= 10);
    for r in mixed {
        assert!(has(&r.guidance, "anemia.iron.iv"), "{}", r.specimen);
        assert!(
            has(&r.guidance, "anemia.inflammation.treat_underlying"),
            "{}",
            r.specimen
        );
    }
    // §9: severe anemia with iron deficiency. K093: Hb exactly 7.0, severe IDA, no
    // transfusion flag; G17: Hb 6.5 below the transfusion threshold.
    for id in ["K093", "G17"] {
        let r = rows.iter().find(|r| r.specimen == id).expect(id);
        assert_eq!(r.classification, "iron_deficiency_anemia");
        assert!(has(&r.guidance, "anemia.iron.iv"), "{id}: {:?}", r.guidance);
    }
    // CKD with iron deficiency (G13); plain IDA without severity or condition does not (G04).
    let g13 = rows.iter().find(|r| r.specimen == "G13").expect("G13");
    assert!(has(&g13.guidance, "anemia.iron.iv"));
    let g04 = rows.iter().find(|r| r.specimen == "G04").expect("G04");
    assert!(!has(&g04.guidance, "anemia.iron.iv"));
}

#[test]
fn corticosteroid_context_only_with_steroid_fracture_risk() {
    let rows = corpus_and_contexts();
    let mut seen = 0;
    for r in &rows {
        let steroid = has(&r.flags, "STEROID_FRACTURE_RISK");
        seen += usize::from(steroid);
        assert_eq!(
            has(&r.guidance, "context.corticosteroids"),
            steroid,
            "{}: {:?} / {:?}",
            r.specimen,
            r.flags,
            r.guidance
        );
    }
    assert!(seen >= 5, "{seen} panels with STEROID_FRACTURE_RISK");
    // Corticosteroid without back pain (G15): no flag, no entry.
    let g15 = rows.iter().find(|r| r.specimen == "G15").expect("G15");
    assert!(!has(&g15.flags, "STEROID_FRACTURE_RISK"));
}

#[test]
fn under_six_months_at_most_the_transfusion_entry() {
    let rows = corpus_and_contexts();
    let infants: Vec<&Row> = rows
        .iter()
        .filter(|r| r.age_years.is_some_and(|a| a < 0.5))
        .collect();
    assert!(infants.len() >= 4, "{} infants", infants.len());
    for r in infants {
        assert_eq!(r.classification, "insufficient_data", "{}", r.specimen);
        let expected: Vec<String> = if has(&r.flags, "SEVERE_ANEMIA_TRANSFUSION_THRESHOLD") {
            vec!["anemia.severe.transfusion".to_string()]
        } else {
            Vec::new()
        };
        assert_eq!(r.guidance, expected, "{}", r.specimen);
    }
    // G12 (0.3 y, Hb 6.5, RA, corticosteroid, anticoagulant, back pain, ESR 110).
    let g12 = rows.iter().find(|r| r.specimen == "G12").expect("G12");
    assert_eq!(g12.guidance, ["anemia.severe.transfusion"]);
}

#[test]
fn context_entries_follow_the_conditions() {
    let rows = contexts();
    let by_id = |id: &str| rows.iter().find(|r| r.specimen == id).expect(id);
    assert!(has(&by_id("G05").guidance, "context.rheumatoid_arthritis"));
    assert!(has(&by_id("G14").guidance, "context.rheumatoid_arthritis"));
    assert!(has(
        &by_id("G07").guidance,
        "context.ankylosing_spondylitis"
    ));
    assert!(has(&by_id("G08").guidance, "context.fibromyalgia"));
    assert!(has(
        &by_id("G02").guidance,
        "back_pain.chronic_psychological"
    ));
    assert!(has(
        &by_id("G09").guidance,
        "back_pain.chronic_psychological"
    ));
    assert!(has(&by_id("G20").guidance, "back_pain.myeloma_workup"));
    for r in &rows {
        let named = |code: &str| {
            read(&fixture("guidance_contexts.csv"))
                .lines()
                .any(|l| l.contains(&format!(",{},", r.specimen)) && l.contains(code))
        };
        for (code, id) in [
            ("rheumatoid_arthritis", "context.rheumatoid_arthritis"),
            ("ankylosing_spondylitis", "context.ankylosing_spondylitis"),
            ("fibromyalgia", "context.fibromyalgia"),
        ] {
            if r.specimen != "G12" {
                assert_eq!(has(&r.guidance, id), named(code), "{} {id}", r.specimen);
            }
        }
    }
}

/// Pinned reading: the back-pain management entries follow adult guidelines (NICE NG59 is for
/// over 16s), so children's panels never get them, while anemic adults (and panels of unknown
/// age) do unless back_pain = no. Flag-driven entries (NSAID caution, myeloma work-up) stay.
#[test]
fn back_pain_management_is_for_adults_only() {
    let management = [
        "back_pain.treat_both",
        "back_pain.nonpharmacological",
        "back_pain.nsaid",
        "back_pain.muscle_relaxant",
        "back_pain.multimodal",
        "back_pain.chronic_psychological",
        "back_pain.red_flags",
    ];
    let rows = corpus_and_contexts();
    let mut children = 0;
    let mut adults = 0;
    for r in &rows {
        let child = r.age_years.is_some_and(|a| a < 16.0);
        let anemic_label = !matches!(
            r.classification.as_str(),
            "no_anemia"
                | "insufficient_data"
                | "iron_deficiency_without_anemia"
                | "b12_folate_deficiency_without_anemia"
        );
        if child {
            for m in management {
                assert!(
                    !has(&r.guidance, m),
                    "{}: child ({:?} y) got {m}",
                    r.specimen,
                    r.age_years
                );
            }
            children += 1;
        } else if anemic_label && r.back_pain != "no" {
            assert!(
                has(&r.guidance, "back_pain.treat_both"),
                "{}: adult anemic panel without back-pain care",
                r.specimen
            );
            adults += 1;
        }
    }
    assert!(
        children >= 10 && adults >= 10,
        "children {children}, adults {adults}"
    );
}

/// A `pregnant` value the reader does not recognise is "pregnancy unknown". The clinically
/// safer reading gives both sides: the pregnancy cautions (no muscle relaxant, the pregnancy
/// iron entry) and the search for the source of iron loss that a woman who is not pregnant
/// needs (clinical-rules §2 reads such a value as not pregnant, §9 gives that search to every
/// adult with iron deficiency who is not pregnant). Known answers from §9, ruleset 2026.2.
#[test]
fn unknown_pregnancy_gets_the_source_search_and_the_pregnancy_cautions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("pregnancy.csv");
    std::fs::write(
        &input,
        "patient_id,specimen_id,sex,age_years,pregnant,back_pain,hb_g_dl,mcv_fl,ferritin_ug_l,crp_mg_l\n\
         P1,UNKNOWN,F,30,maybe,acute,10.0,72,5,2\n\
         P2,NOT,F,30,no,acute,10.0,72,5,2\n\
         P3,PREGNANT,F,30,yes,acute,10.0,72,5,2\n",
    )
    .expect("write input");
    let guidance: BTreeMap<String, Vec<String>> = ndjson_of(&input, &[])
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).expect("json line");
            let specimen = v["specimen_id"].as_str().expect("specimen").to_string();
            (specimen, strings(&v["guidance"]))
        })
        .collect();
    let (unknown, not, pregnant) = (
        &guidance["UNKNOWN"],
        &guidance["NOT"],
        &guidance["PREGNANT"],
    );
    // Not pregnant: the source search, no pregnancy entry, a muscle relaxant may be offered.
    assert!(has(not, "anemia.iron.source"), "{not:?}");
    assert!(!has(not, "anemia.iron.pregnancy"), "{not:?}");
    assert!(has(not, "back_pain.muscle_relaxant"), "{not:?}");
    // Pregnant: the pregnancy entry instead of the source search, no muscle relaxant.
    assert!(has(pregnant, "anemia.iron.pregnancy"), "{pregnant:?}");
    assert!(!has(pregnant, "anemia.iron.source"), "{pregnant:?}");
    assert!(!has(pregnant, "back_pain.muscle_relaxant"), "{pregnant:?}");
    // Unknown: both iron entries, and the pregnancy caution on the muscle relaxant.
    assert!(has(unknown, "anemia.iron.source"), "{unknown:?}");
    assert!(has(unknown, "anemia.iron.pregnancy"), "{unknown:?}");
    assert!(!has(unknown, "back_pain.muscle_relaxant"), "{unknown:?}");
    // Iron deficiency: never a plain NSAID recommendation, whatever the pregnancy.
    for g in [unknown, not, pregnant] {
        assert!(!has(g, "back_pain.nsaid"), "{g:?}");
    }
}
