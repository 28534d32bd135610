//! `anemia-engine rules [ID]`: the rule registry, the flags with the rule that raises each,
//! and the ruleset's guidance entries, listed or shown one at a time, as text or JSON.

use serde::Serialize;

use crate::error::ConfigError;
use crate::rules::registry::{self, rule_by_id, RuleMeta, RuleView};
use crate::ruleset::{GuidanceEntry, Ruleset};
use crate::vocab::Flag;

/// The rule that raises a flag (every flag has one: checked by the registry tests).
pub fn flag_rule(flag: Flag) -> &'static str {
    registry::rule_for_flag(flag).map_or("", |r| r.id.code())
}

#[derive(Serialize)]
struct FlagInfo<'a> {
    code: &'a str,
    raised_by: &'a str,
    rule: Option<RuleView>,
}

#[derive(Serialize)]
struct Listing<'a> {
    ruleset_version: &'a str,
    rules: Vec<RuleView>,
    flags: Vec<FlagInfo<'a>>,
    guidance: &'a [GuidanceEntry],
}

/// `anemia-engine rules [ID]`: every rule, flag and guidance entry, or one in full.
pub fn rules_command(rs: &Ruleset, id: Option<&str>, json: bool) -> Result<String, ConfigError> {
    let Some(id) = id else {
        return list_all(rs, json);
    };
    if let Some(r) = rule_by_id(id) {
        return show_rule(r, rs, json);
    }
    if let Some(f) = Flag::from_code(&id.to_ascii_uppercase()) {
        return show_flag(f, rs, json);
    }
    if let Some(g) = rs.guidance_entry(id) {
        return show_guidance(g, json);
    }
    Err(ConfigError::Usage(format!(
        "no rule, flag or guidance entry named {id:?}; `anemia-engine rules` lists them all"
    )))
}

fn flag_info(f: Flag, rs: &Ruleset) -> FlagInfo<'static> {
    FlagInfo {
        code: f.code(),
        raised_by: flag_rule(f),
        rule: rule_by_id(flag_rule(f)).map(|r| r.view(rs)),
    }
}

fn to_json<T: Serialize + ?Sized>(value: &T) -> Result<String, ConfigError> {
    serde_json::to_string_pretty(value).map_err(|e| ConfigError::Usage(e.to_string()))
}

/// The flags the ruleset's procedure raises.
fn flags_of(rs: &Ruleset) -> impl Iterator<Item = Flag> + '_ {
    Flag::ALL.into_iter().filter(|f| {
        registry::rule_for_flag(*f).is_some_and(|r| registry::since(r.id) <= rs.procedure)
    })
}

/// Every rule, flag and guidance entry.
fn list_all(rs: &Ruleset, json: bool) -> Result<String, ConfigError> {
    if json {
        let listing = Listing {
            ruleset_version: &rs.version,
            rules: registry::rules_for(rs.procedure)
                .map(|r| r.view(rs))
                .collect(),
            flags: flags_of(rs).map(|f| flag_info(f, rs)).collect(),
            guidance: &rs.guidance,
        };
        return to_json(&listing);
    }
    let mut s = format!("Ruleset {}\n\nRULES\n", rs.version);
    for r in registry::rules_for(rs.procedure) {
        s.push_str(&format!("  {:<13} {}  [{}]\n", r.id, r.title, r.citation));
    }
    s.push_str("\nFLAGS\n");
    for f in flags_of(rs) {
        s.push_str(&format!("  {:<37} raised by {}\n", f.code(), flag_rule(f)));
    }
    s.push_str("\nGUIDANCE\n");
    for g in &rs.guidance {
        s.push_str(&format!(
            "  {:<38} {}  [{}]\n",
            g.id,
            g.title,
            g.sources.join("; ")
        ));
    }
    Ok(s)
}

fn show_rule(r: &RuleMeta, rs: &Ruleset, json: bool) -> Result<String, ConfigError> {
    if json {
        return to_json(&r.view(rs));
    }
    Ok(format!(
        "{}  {}\nfamily: {}\nrationale: {}\ncitation: {}\n",
        r.id,
        r.title,
        r.family,
        r.rationale(rs),
        r.citation
    ))
}

fn show_flag(f: Flag, rs: &Ruleset, json: bool) -> Result<String, ConfigError> {
    let info = flag_info(f, rs);
    if json {
        return to_json(&info);
    }
    let r = info.rule.as_ref();
    Ok(format!(
        "{}\nraised by: {} {}\nrationale: {}\ncitation: {}\n",
        f.code(),
        info.raised_by,
        r.map_or("", |r| r.title),
        r.map_or("", |r| r.rationale.as_str()),
        r.map_or("", |r| r.citation)
    ))
}

fn show_guidance(g: &GuidanceEntry, json: bool) -> Result<String, ConfigError> {
    if json {
        return to_json(g);
    }
    Ok(format!(
        "{}  {}\nattaches when: {}\n\n{}\n\nsources:\n{}\n",
        g.id,
        g.title,
        g.trigger,
        g.text.split_whitespace().collect::<Vec<_>>().join(" "),
        g.sources
            .iter()
            .map(|s| format!("  - {s}"))
            .collect::<Vec<_>>()
            .join("\n")
    ))
}
