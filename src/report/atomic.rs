//! Atomic outputs: every file of a run is written under a temporary name next to its
//! destination and renamed into place only when the whole run has succeeded, all together
//! at the end. A run that fails (or is dropped before [`AtomicOutputs::commit`]) leaves
//! nothing behind: the temporary files are removed, and a destination already renamed by
//! a commit that then fails is removed again.
//!
//! `classify` writes its results, rejects and summary through it; any command that writes
//! files (`diff -o`) can do the same: [`AtomicOutputs::create`] per file, write, flush,
//! [`AtomicOutputs::commit`].
//!
//! A destination that is not a regular file (a device such as `/dev/null`, a FIFO, a socket,
//! or a link into `/dev` or `/proc` such as `/dev/stdout`) is a stream: it is written
//! directly and never replaced by a file. Every temporary file is listed in a process-wide
//! registry so that a signal handler can remove them ([`remove_temp_files`]).

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use tempfile::TempPath;
use thiserror::Error;

use crate::error::RunError;

/// Creating or placing an output file failed; nothing was left at the destinations.
#[derive(Debug, Error)]
#[error("{context}")]
pub struct AtomicError {
    pub context: String,
    #[source]
    pub source: std::io::Error,
}

impl From<AtomicError> for RunError {
    fn from(e: AtomicError) -> RunError {
        RunError::io(e.context, e.source)
    }
}

/// The temporary files of this process not yet renamed or removed.
static TEMP_FILES: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn temp_files() -> MutexGuard<'static, Vec<PathBuf>> {
    TEMP_FILES
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Removes every temporary output file of this process, for a signal handler that then
/// exits. The registry stays locked (the caller exits), so no temporary file is created or
/// renamed after this call.
pub fn remove_temp_files() {
    let mut files = temp_files();
    for path in files.drain(..) {
        let _ = std::fs::remove_file(path);
    }
    std::mem::forget(files);
}

/// A destination written directly instead of through a temporary file: anything that exists
/// and is not a regular file or a directory, or a path that leads to a file descriptor
/// (`/dev/stdout`, `/dev/fd/1`, `/proc/self/fd/1`), whatever it points to.
pub fn is_stream(dest: &Path) -> bool {
    if let Ok(meta) = std::fs::metadata(dest) {
        if !meta.is_file() && !meta.is_dir() {
            return true;
        }
    }
    let special = |p: &Path| {
        [
            "/proc",
            "/dev/fd",
            "/dev/stdout",
            "/dev/stderr",
            "/dev/stdin",
        ]
        .iter()
        .any(|s| p.starts_with(s))
    };
    let mut path = dest.to_path_buf();
    for _ in 0..40 {
        if special(&path) {
            return true;
        }
        match std::fs::read_link(&path) {
            Ok(target) if target.is_relative() => {
                path = path.parent().unwrap_or(Path::new(".")).join(target);
            }
            Ok(target) => path = target,
            Err(_) => break,
        }
    }
    std::fs::canonicalize(dest).is_ok_and(|p| special(&p))
}

/// A file written under a temporary name, to be renamed to `dest`.
struct Pending {
    temp: TempPath,
    dest: PathBuf,
}

/// The output files of one run, placed together by [`AtomicOutputs::commit`].
#[derive(Default)]
pub struct AtomicOutputs {
    pending: Vec<Pending>,
}

impl AtomicOutputs {
    pub fn new() -> AtomicOutputs {
        AtomicOutputs::default()
    }

    /// Creates the temporary file of `dest` (in `dest`'s directory, so the final rename
    /// stays on one file system) and returns a buffered writer into it. The caller must
    /// flush the writer before [`AtomicOutputs::commit`].
    pub fn create(&mut self, dest: &Path) -> Result<Box<dyn Write + Send>, AtomicError> {
        if is_stream(dest) {
            return open_stream(dest);
        }
        let dir = match dest.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = dest
            .file_name()
            .map_or("out".into(), |n| n.to_string_lossy().into_owned());
        let prefix = format!(".{name}.");
        let mut builder = tempfile::Builder::new();
        builder.prefix(&prefix).suffix(".tmp");
        // Results are shared files: readable like any file the user creates, not 0600.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            builder.permissions(std::fs::Permissions::from_mode(0o644));
        }
        let mut registry = temp_files();
        let tmp = builder.tempfile_in(&dir).map_err(|source| AtomicError {
            context: format!("cannot create a temporary file in {}", dir.display()),
            source,
        })?;
        let (file, temp) = tmp.into_parts();
        registry.push(temp.to_path_buf());
        drop(registry);
        self.pending.push(Pending {
            temp,
            dest: dest.to_path_buf(),
        });
        Ok(Box::new(BufWriter::with_capacity(1 << 20, file)))
    }

    /// Renames every file into place, in the order they were created. When one rename
    /// fails, the destinations already placed by this commit are removed again and the
    /// remaining temporary files are deleted.
    pub fn commit(mut self) -> Result<(), AtomicError> {
        // Held while renaming: a signal arriving now waits until every output is in place.
        let mut registry = temp_files();
        let mut placed: Vec<PathBuf> = Vec::with_capacity(self.pending.len());
        for p in std::mem::take(&mut self.pending) {
            let temp_path = p.temp.to_path_buf();
            registry.retain(|t| *t != temp_path);
            if let Err(e) = p.temp.persist(&p.dest) {
                for dest in &placed {
                    // Best effort: the rename error below is what the user needs to see.
                    let _ = std::fs::remove_file(dest);
                }
                return Err(AtomicError {
                    context: format!("cannot move the result into {}", p.dest.display()),
                    source: e.error,
                });
            }
            placed.push(p.dest);
        }
        Ok(())
    }
}

impl Drop for AtomicOutputs {
    /// The temporary files are removed (by their `TempPath`s); they leave the registry too.
    fn drop(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let mut registry = temp_files();
        for p in &self.pending {
            registry.retain(|t| **t != *p.temp);
        }
    }
}

/// Opens a stream destination for writing: appended to when it is a regular file reached
/// through `/dev` or `/proc` (the shell's `>` or `>>` already placed it), never created.
fn open_stream(dest: &Path) -> Result<Box<dyn Write + Send>, AtomicError> {
    let regular = std::fs::metadata(dest).is_ok_and(|m| m.is_file());
    let file = std::fs::OpenOptions::new()
        .write(true)
        .append(regular)
        .open(dest)
        .map_err(|source| AtomicError {
            context: format!("cannot open {} for writing", dest.display()),
            source,
        })?;
    Ok(Box::new(BufWriter::with_capacity(1 << 20, file)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_appear_only_on_commit_and_never_when_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.csv"), dir.path().join("b.json"));
        let mut outputs = AtomicOutputs::new();
        for dest in [&a, &b] {
            let mut w = outputs.create(dest).unwrap();
            w.write_all(b"x\n").unwrap();
            w.flush().unwrap();
        }
        assert!(!a.exists() && !b.exists());
        outputs.commit().unwrap();
        assert_eq!(std::fs::read(&a).unwrap(), b"x\n");
        assert!(b.exists());

        let c = dir.path().join("c.csv");
        let mut dropped = AtomicOutputs::new();
        dropped.create(&c).unwrap();
        drop(dropped);
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 2, "only a.csv and b.json remain");
    }
}
