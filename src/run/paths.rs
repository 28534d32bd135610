//! Output paths checked against the inputs and each other before any row is read: a run never
//! writes over its own export, never writes two outputs to one file, and never counts one
//! export twice.

use std::path::{Path, PathBuf};

use super::ClassifyOptions;
use crate::error::ConfigError;
use crate::ingest::Input;

/// The file a path names, resolved through links: for an existing file its device and
/// inode (hard links included), else the canonical parent directory and the file name (the
/// file need not exist yet).
fn identity(path: &Path) -> Option<PathBuf> {
    #[cfg(unix)]
    if let Ok(meta) = std::fs::metadata(path) {
        use std::os::unix::fs::MetadataExt;
        return Some(PathBuf::from(format!(
            "inode:{}:{}",
            meta.dev(),
            meta.ino()
        )));
    }
    if let Ok(p) = std::fs::canonicalize(path) {
        return Some(p);
    }
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    Some(std::fs::canonicalize(parent).ok()?.join(path.file_name()?))
}

fn usage(message: String) -> ConfigError {
    ConfigError::Usage(message)
}

/// Refuses, with exit 2 and before any row: an input given twice, an output that is an input,
/// two outputs at one path, and an output path that is a directory.
pub(super) fn check(opts: &ClassifyOptions) -> Result<(), ConfigError> {
    let mut inputs: Vec<(PathBuf, &Path)> = Vec::new();
    for input in &opts.inputs {
        let Input::File(path) = input else { continue };
        let Some(id) = identity(path) else { continue };
        if let Some((_, first)) = inputs.iter().find(|(other, _)| *other == id) {
            return Err(usage(format!(
                "input {} is given twice (also as {}): its rows would be counted twice",
                path.display(),
                first.display()
            )));
        }
        inputs.push((id, path));
    }
    let rejects = opts.rejects_path();
    let outputs: Vec<(&str, &Path)> = [
        ("-o", opts.output.as_deref()),
        ("--rejects", rejects.as_deref()),
        ("--summary", opts.summary.as_deref()),
        ("--report", opts.report.as_deref()),
    ]
    .into_iter()
    .filter_map(|(flag, p)| p.map(|p| (flag, p)))
    .filter(|(_, p)| p.as_os_str() != "-")
    // Devices and streams are written directly, never replaced: nothing to protect.
    .filter(|(_, p)| !crate::report::atomic::is_stream(p))
    .collect();
    let mut seen: Vec<(PathBuf, &str)> = Vec::new();
    for (flag, path) in outputs {
        if path.is_dir() {
            return Err(usage(format!(
                "{flag} {} is a directory; give a file path",
                path.display()
            )));
        }
        let Some(id) = identity(path) else { continue };
        if let Some((_, input)) = inputs.iter().find(|(other, _)| *other == id) {
            return Err(usage(format!(
                "{flag} {} is an input of this run ({}); refusing to overwrite it",
                path.display(),
                input.display()
            )));
        }
        if let Some((_, other)) = seen.iter().find(|(other, _)| *other == id) {
            return Err(usage(format!(
                "{flag} {} is the same file as {other}; every output needs its own path",
                path.display()
            )));
        }
        seen.push((id, flag));
    }
    Ok(())
}
