//! Library error types. Every message names the file (and line, column where one exists)
//! and says what to do.

use std::path::PathBuf;

use thiserror::Error;

/// One problem found in a ruleset file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RulesetProblem {
    pub file: String,
    /// 1-based line; 0 when the problem concerns the whole file.
    pub line: u64,
    pub message: String,
}

impl std::fmt::Display for RulesetProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(f, "{} line {}: {}", self.file, self.line, self.message)
        }
    }
}

fn list_problems(problems: &[RulesetProblem]) -> String {
    problems
        .iter()
        .map(|p| format!("  - {p}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The ruleset could not be loaded; nothing was processed.
#[derive(Debug, Error)]
pub enum RulesetError {
    #[error("cannot read ruleset directory {path}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid ruleset {origin} ({} problem(s)):\n{}", problems.len(), list_problems(problems))]
    Invalid {
        origin: String,
        problems: Vec<RulesetProblem>,
    },
}

/// A configuration or input problem found before any row is processed (exit 2).
#[derive(Debug, Error)]
pub enum ConfigError {
    #[error(transparent)]
    Ruleset(#[from] RulesetError),
    #[error("{file}: {message}")]
    Input { file: String, message: String },
    #[error("{0}")]
    Usage(String),
}

/// A failure while running (exit 1).
#[derive(Debug, Error)]
pub enum RunError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The cause is chained (`source`), not repeated in the message.
    #[error("{context}")]
    Io {
        context: String,
        source: std::io::Error,
    },
    #[error("{file} line {line}: {message}")]
    Read {
        file: String,
        line: u64,
        message: String,
    },
    /// A writer failed. The io error is kept whole (a closed pipe is `BrokenPipe`); its
    /// message is part of this one, so it is not chained as a separate cause.
    #[error("writing {path}: {error}")]
    Write { path: String, error: std::io::Error },
}

impl RunError {
    pub fn io(context: impl Into<String>, source: std::io::Error) -> RunError {
        RunError::Io {
            context: context.into(),
            source,
        }
    }
}
