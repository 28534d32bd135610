//! The messages sink: how the library tells the user about a run while it goes (rejected
//! rows with no rejects file, progress lines, the summary) without writing to the terminal
//! itself. The caller decides where they go; the binary writes them on stderr.

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
