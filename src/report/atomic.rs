//! Atomic outputs: every file of a run is written under a temporary name next to its
//! destination and renamed into place only when the whole run has succeeded, all together
//! at the end. A run that fails (or is dropped before [`AtomicOutputs::commit`]) leaves
//! nothing behind: the temporary files are removed, and a destination already renamed by
//! a commit that then fails is removed again.
//!
//! `classify` writes its results, rejects and summary through it; any command that writes
//! files (`diff -o`) can do the same: [`AtomicOutputs::create`] per file, write, flush,
//! [`AtomicOutputs::commit`].

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

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
        let tmp = builder.tempfile_in(&dir).map_err(|source| AtomicError {
            context: format!("cannot create a temporary file in {}", dir.display()),
            source,
        })?;
        let (file, temp) = tmp.into_parts();
        self.pending.push(Pending {
            temp,
            dest: dest.to_path_buf(),
        });
        Ok(Box::new(BufWriter::with_capacity(1 << 20, file)))
    }

    /// Renames every file into place, in the order they were created. When one rename
    /// fails, the destinations already placed by this commit are removed again and the
    /// remaining temporary files are deleted.
    pub fn commit(self) -> Result<(), AtomicError> {
        let mut placed: Vec<PathBuf> = Vec::with_capacity(self.pending.len());
        for p in self.pending {
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
