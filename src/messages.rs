//! The messages sink: how the library tells the user about a run while it goes (rejected
//! rows with no rejects file, progress lines, the summary) without writing to the terminal
//! itself. The caller decides where they go; the binary writes them on stderr.

/// Does `text` look like a code (`[a-z0-9_]{1,40}`, as condition and medication codes are
/// written)? Only such values are shown in messages; anything else may be free text (a
/// name, a note) and is counted, not shown.
pub fn looks_like_code(text: &str) -> bool {
    (1..=40).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// `text` quoted for a message when it looks like a test code or a unit (at most 40
/// characters: letters, digits and `_-./%*^[]µ`), else a note that it is not shown: the
/// cell could hold free text.
pub fn quote_code(text: &str) -> String {
    let t = text.trim();
    let ok = (1..=40).contains(&t.chars().count())
        && t.chars()
            .all(|c| c.is_alphanumeric() || "_-./%*^[]µ".contains(c));
    if ok {
        format!("{t:?}")
    } else {
        "(not shown: not a code)".to_string()
    }
}

/// `text` with control characters written as `\xNN` / `\u{NNNN}` (tab and newline kept), so
/// a cell quoted in a message cannot move a terminal's cursor or hide what follows.
pub fn escape_controls(text: &str) -> std::borrow::Cow<'_, str> {
    let control = |c: char| c.is_control() && c != '\n' && c != '\t';
    if !text.chars().any(control) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if control(c) {
            let n = u32::from(c);
            if n < 0x100 {
                out.push_str(&format!("\\x{n:02X}"));
            } else {
                out.push_str(&format!("\\u{{{n:04X}}}"));
            }
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Receives the library's messages for the user.
pub trait Messages: Sync {
    /// A warning line (no trailing newline), e.g. a row rejected with no rejects file.
    fn warn(&self, line: &str);
    /// An information line (no trailing newline), e.g. periodic progress.
    fn info(&self, line: &str);
    /// A block of text written as given (the run summary, the ruleset impact report).
    fn report(&self, text: &str);
}

/// Drops every message (runs whose messages nobody reads, and tests).
#[derive(Clone, Copy, Debug, Default)]
pub struct Silent;

impl Messages for Silent {
    fn warn(&self, _line: &str) {}
    fn info(&self, _line: &str) {}
    fn report(&self, _text: &str) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_free_text_and_controls() {
        assert!(looks_like_code("rare_thing_2"));
        assert!(!looks_like_code("wife jane doe"));
        assert!(!looks_like_code("Cancer"));
        assert!(!looks_like_code(&"a".repeat(41)));
        assert_eq!(quote_code("718-7"), "\"718-7\"");
        assert_eq!(quote_code("mmol/L"), "\"mmol/L\"");
        assert_eq!(quote_code("call jane"), "(not shown: not a code)");
        assert_eq!(
            escape_controls("a\u{1b}[31mb\0c\u{9b}"),
            "a\\x1B[31mb\\x00c\\x9B"
        );
        assert_eq!(escape_controls("line\tok\n"), "line\tok\n");
    }
}
