//! The `rules` subcommand: the listing, one entry in full, an unknown id.

use serde_json::Value;

use crate::common::{code, engine, snapshot_settings, stderr, stdout};

fn rules(args: &[&str]) -> String {
    let mut all = vec!["rules"];
    all.extend_from_slice(args);
    let o = engine(&all);
    assert_eq!(code(&o), 0, "{args:?}: {}", stderr(&o));
    assert!(stderr(&o).is_empty());
    stdout(&o)
}

#[test]
fn rules_listing() {
    let text = rules(&[]);
    assert!(text.starts_with("Ruleset 2026.2\n"));
    for section in ["\nRULES\n", "\nFLAGS\n", "\nGUIDANCE\n"] {
        assert!(text.contains(section), "{section}");
    }
    for id in anemia_engine::vocab::GuidanceId::ALL {
        assert!(text.contains(id.code()), "{id}");
    }
    for f in anemia_engine::vocab::Flag::ALL {
        assert!(text.contains(f.code()), "{f}");
    }
    snapshot_settings().bind(|| insta::assert_snapshot!("cli_rules_list", text));
}

#[test]
fn rules_one_rule_flag_or_guidance_entry() {
    let rule = rules(&["IRON-003"]);
    assert!(rule.starts_with("IRON-003  "));
    let flag = rules(&["NSAID_CAUTION"]);
    assert!(flag.contains("raised by: FLAG-009"));
    let json_text = rules(&["back_pain.nsaid_caution", "--format", "json"]);
    let g: Value = serde_json::from_str(&json_text).expect("json");
    assert_eq!(g["id"], "back_pain.nsaid_caution");
    assert_eq!(g["flags"], serde_json::json!(["NSAID_CAUTION"]));
    assert!(!g["sources"].as_array().expect("sources").is_empty());
    snapshot_settings().bind(|| {
        insta::assert_snapshot!("cli_rules_iron_003", rule);
        insta::assert_snapshot!("cli_rules_nsaid_caution", flag);
        insta::assert_snapshot!("cli_rules_back_pain_nsaid_caution_json", json_text);
    });
}

#[test]
fn rules_unknown_id_is_a_usage_error() {
    let o = engine(&["rules", "NO_SUCH_ID"]);
    assert_eq!(code(&o), 2);
    assert!(stdout(&o).is_empty());
    assert!(stderr(&o).contains("NO_SUCH_ID"), "{}", stderr(&o));
    snapshot_settings().bind(|| insta::assert_snapshot!("cli_rules_unknown_id", stderr(&o)));
}
