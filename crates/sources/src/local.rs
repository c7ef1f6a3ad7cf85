//! Local sources (files, directories, globs) as an ordered list of files.
//!
//! The order is part of the contract: scans emit records in file order, so the same sources
//! always give the same rows in the same order.
//!
//! Each real file is listed once however it is reached — through symbolic links, hard links,
//! a folder named twice or named inside another one named too — because counting the same
//! records twice is worse than any error. What is left out is said, as a [`SourceNote`]:
//! a second path to a file or folder already listed, a link back to a folder being walked
//! (a loop), a FIFO, socket or device (listed nowhere, never opened: reading one blocks or
//! never ends), a folder or entry that cannot be read, a broken link. Names that are not
//! UTF-8 are listed like any other and noted, since they can only be shown lossily. The walk
//! keeps its own stack (no recursion), so no tree is too deep for it.

use crate::SourceError;
use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::fmt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

/// What kind of thing a [`SourceNote`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoteKind {
    /// A second path to a file or folder already listed: not listed again.
    Duplicate,
    /// A link back to a folder that is being walked: not followed.
    Loop,
    /// A FIFO, socket or device: skipped, never opened.
    Special,
    /// A folder or entry that cannot be read, or a broken link.
    Unreadable,
    /// A name that is not valid UTF-8: listed, but shown lossily.
    NotUtf8,
    /// Hidden entries (names starting with `.`) that were not walked: one note for all.
    Hidden,
}

/// Something about the sources the user should know; the run goes on without it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceNote {
    pub path: PathBuf,
    pub kind: NoteKind,
    pub message: String,
    /// How many entries it stands for: 1, or the number of hidden entries for
    /// [`NoteKind::Hidden`].
    pub count: u64,
}

impl fmt::Display for SourceNote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.message)
    }
}

/// The files of some sources, in order, and what was left out.
#[derive(Debug, Default)]
pub struct Expansion {
    pub files: Vec<PathBuf>,
    pub notes: Vec<SourceNote>,
}

/// Expands sources in the given order: a file is taken as is, a directory is walked
/// recursively (entries sorted by name, hidden entries and non-regular files skipped), anything
/// with glob metacharacters is a glob (matches sorted). A source that yields nothing at all is
/// an error, because a typo silently producing "no hits" would be worse. What was left out is
/// dropped here; [`expand_local_noted`] returns it.
pub fn expand_local<S: AsRef<OsStr>>(srcs: &[S]) -> Result<Vec<PathBuf>, SourceError> {
    Ok(expand_local_noted(srcs)?.files)
}

/// [`expand_local`], with the [`SourceNote`]s of what was left out or is worth knowing.
pub fn expand_local_noted<S: AsRef<OsStr>>(srcs: &[S]) -> Result<Expansion, SourceError> {
    let mut w = Walker::default();
    for src in srcs {
        w.source(src.as_ref())?;
    }
    Ok(w.finish())
}

/// A `(device, inode)` pair: what makes two paths the same file.
type FileId = (u64, u64);

fn id(meta: &std::fs::Metadata) -> FileId {
    (meta.dev(), meta.ino())
}

/// Lists files once each across any number of sources (see the module docs).
#[derive(Default)]
pub(crate) struct Walker {
    files: Vec<PathBuf>,
    notes: Vec<SourceNote>,
    /// Each listed file's index in `files`.
    seen_files: HashMap<FileId, usize>,
    /// Each walked folder, by the path it was first reached by.
    seen_dirs: HashMap<FileId, PathBuf>,
    hidden: u64,
    first_hidden: Option<PathBuf>,
}

impl Walker {
    fn note(&mut self, path: &Path, kind: NoteKind, message: String) {
        self.notes.push(SourceNote {
            path: path.to_path_buf(),
            kind,
            message,
            count: 1,
        });
    }

    /// One source as the user named it: any bytes the OS allows in a path. A name that is not
    /// UTF-8 is a path, never a glob (the glob crate matches text), and is shown lossily.
    pub(crate) fn source(&mut self, src: &OsStr) -> Result<(), SourceError> {
        let text = src.to_str();
        let shown = src.to_string_lossy();
        if crate::is_s3(src) {
            return Err(SourceError::NotLocal(shown.into_owned()));
        }
        let (files, notes) = (self.files.len(), self.notes.len());
        let path = Path::new(src);
        match std::fs::metadata(path) {
            Ok(meta) if meta.is_dir() => self.top_dir(path, &meta)?,
            Ok(meta) => self.entry(path, &meta),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && text.is_some_and(is_glob) => {
                let src = text.expect("checked above");
                let paths = glob::glob(src).map_err(|e| SourceError::BadPattern {
                    source_name: src.to_string(),
                    message: e.to_string(),
                })?;
                let mut matched = Vec::new();
                for entry in paths {
                    match entry {
                        Ok(p) => matched.push(p),
                        Err(e) => {
                            let msg = format!("cannot read: {}", e.error());
                            self.note(e.path(), NoteKind::Unreadable, msg);
                        }
                    }
                }
                matched.sort();
                for p in matched {
                    match std::fs::metadata(&p) {
                        Ok(m) if m.is_dir() => self.dir(&p, &m),
                        Ok(m) => self.entry(&p, &m),
                        Err(e) => self.unreadable(&p, e),
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(SourceError::NotFound(shown.into_owned()))
            }
            Err(error) => {
                return Err(SourceError::Io {
                    path: shown.into_owned(),
                    error,
                })
            }
        }
        if self.files.len() == files && self.notes.len() == notes {
            return Err(SourceError::NoMatch(shown.into_owned()));
        }
        Ok(())
    }

    /// A folder named as a source: one that cannot be read is an error, like a missing one.
    fn top_dir(&mut self, path: &Path, meta: &std::fs::Metadata) -> Result<(), SourceError> {
        if let Err(error) = std::fs::read_dir(path) {
            return Err(SourceError::Io {
                path: format!("{}: cannot read folder", path.display()),
                error,
            });
        }
        self.dir(path, meta);
        Ok(())
    }

    /// A file or other non-folder reached by `path`.
    fn entry(&mut self, path: &Path, meta: &std::fs::Metadata) {
        if let Some(what) = special(meta) {
            let msg = format!("{what}, not a regular file: skipped, never opened");
            self.note(path, NoteKind::Special, msg);
            return;
        }
        if path.file_name().is_some_and(|n| n.to_str().is_none()) {
            let msg = "its name is not valid UTF-8 (shown here with U+FFFD for the bytes that are not): read as usual".to_string();
            self.note(path, NoteKind::NotUtf8, msg);
        }
        match self.seen_files.get(&id(meta)) {
            Some(&first) => {
                let msg = format!(
                    "same file as {} (a link to it, or named twice): read once",
                    self.files[first].display()
                );
                self.note(path, NoteKind::Duplicate, msg);
            }
            None => {
                self.seen_files.insert(id(meta), self.files.len());
                self.files.push(path.to_path_buf());
            }
        }
    }

    fn unreadable(&mut self, path: &Path, e: std::io::Error) {
        let is_link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
        let msg = match (is_link, e.kind()) {
            (true, std::io::ErrorKind::NotFound) => {
                "a broken symbolic link (its target does not exist): skipped".to_string()
            }
            (true, _) => format!("a symbolic link that cannot be followed ({e}): skipped"),
            _ => format!("cannot read: {e}"),
        };
        self.note(path, NoteKind::Unreadable, msg);
    }

    /// Walks the folder at `root` (whose metadata is `meta`) depth first, in name order.
    fn dir(&mut self, root: &Path, meta: &std::fs::Metadata) {
        if let Some(first) = self.seen_dirs.get(&id(meta)) {
            let msg = if first == root {
                "folder named more than once: read once".to_string()
            } else {
                format!(
                    "same folder as {} (a link to it, or named twice): read once",
                    first.display()
                )
            };
            self.note(root, NoteKind::Duplicate, msg);
            return;
        }
        self.seen_dirs.insert(id(meta), root.to_path_buf());
        // The folders being walked, innermost last, each with its entries still to visit.
        type Open = (FileId, PathBuf, std::vec::IntoIter<(OsString, PathBuf)>);
        let entries = self.read_dir(root);
        let mut stack: Vec<Open> = vec![(id(meta), root.to_path_buf(), entries.into_iter())];
        while let Some(top) = stack.last_mut() {
            let Some((name, path)) = top.2.next() else {
                stack.pop();
                continue;
            };
            if name.to_string_lossy().starts_with('.') {
                self.hidden += 1;
                self.first_hidden.get_or_insert(path);
                continue;
            }
            // Follow links (a case folder often links evidence in); each real file once.
            let meta = match std::fs::metadata(&path) {
                Ok(m) => m,
                Err(e) => {
                    self.unreadable(&path, e);
                    continue;
                }
            };
            if !meta.is_dir() {
                self.entry(&path, &meta);
                continue;
            }
            let dir_id = id(&meta);
            if let Some((_, ancestor, _)) = stack.iter().find(|(a, _, _)| *a == dir_id) {
                let msg = format!(
                    "a link back to {}, which contains it (a loop): not followed",
                    ancestor.display()
                );
                self.note(&path, NoteKind::Loop, msg);
                continue;
            }
            if let Some(first) = self.seen_dirs.get(&dir_id) {
                let msg = if *first == path {
                    "folder named as a source too: read once".to_string()
                } else {
                    format!(
                        "same folder as {} (a link to it, or named twice): read once",
                        first.display()
                    )
                };
                self.note(&path, NoteKind::Duplicate, msg);
                continue;
            }
            if name.to_str().is_none() {
                let msg = "its name is not valid UTF-8 (shown here with U+FFFD for the bytes that are not): walked as usual".to_string();
                self.note(&path, NoteKind::NotUtf8, msg);
            }
            self.seen_dirs.insert(dir_id, path.clone());
            let entries = self.read_dir(&path);
            stack.push((dir_id, path, entries.into_iter()));
        }
    }

    /// A folder's entries sorted by name; a folder or entry that cannot be read is noted.
    fn read_dir(&mut self, dir: &Path) -> Vec<(OsString, PathBuf)> {
        let read = match std::fs::read_dir(dir) {
            Ok(r) => r,
            Err(e) => {
                self.note(
                    dir,
                    NoteKind::Unreadable,
                    format!("cannot read folder: {e}"),
                );
                return Vec::new();
            }
        };
        let mut entries = Vec::new();
        for entry in read {
            match entry {
                Ok(e) => entries.push((e.file_name(), e.path())),
                Err(e) => {
                    let msg = format!("cannot read an entry of this folder: {e}");
                    self.note(dir, NoteKind::Unreadable, msg);
                }
            }
        }
        entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        entries
    }

    /// Adds a file fetched from elsewhere (an S3 object in the cache): listed once too.
    pub(crate) fn fetched(&mut self, path: &Path) {
        match std::fs::metadata(path) {
            Ok(m) => self.entry(path, &m),
            Err(e) => self.unreadable(path, e),
        }
    }

    /// How many files are listed so far.
    pub(crate) fn file_count(&self) -> usize {
        self.files.len()
    }

    /// The files listed after the first `n`.
    pub(crate) fn files_from(&self, n: usize) -> &[PathBuf] {
        &self.files[n..]
    }

    pub(crate) fn finish(mut self) -> Expansion {
        if let Some(first) = self.first_hidden.take() {
            let n = self.hidden;
            let msg = format!(
                "{n} hidden {} (names starting with `.`) not read, this one among them",
                if n == 1 { "entry" } else { "entries" }
            );
            self.note(&first, NoteKind::Hidden, msg);
            if let Some(last) = self.notes.last_mut() {
                last.count = n;
            }
        }
        Expansion {
            files: self.files,
            notes: self.notes,
        }
    }
}

fn is_glob(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

/// What a path is when it is neither a regular file nor a folder.
fn special(meta: &std::fs::Metadata) -> Option<&'static str> {
    let t = meta.file_type();
    if t.is_file() || t.is_dir() {
        None
    } else if t.is_fifo() {
        Some("a FIFO (named pipe)")
    } else if t.is_socket() {
        Some("a socket")
    } else if t.is_block_device() {
        Some("a block device")
    } else if t.is_char_device() {
        Some("a character device")
    } else {
        Some("not a regular file")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A scratch folder with files written into it.
    struct TempDir(tempfile::TempDir);

    impl TempDir {
        fn new() -> TempDir {
            TempDir(tempfile::tempdir().unwrap())
        }
        fn path(&self) -> &Path {
            self.0.path()
        }
        fn write(&self, rel: &str, text: &str) {
            let p = self.path().join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
    }

    #[test]
    fn walks_sorted_and_skips_hidden() {
        let dir = TempDir::new();
        dir.write("b/2.json", "{}");
        dir.write("b/1.json", "{}");
        dir.write("a.json", "{}");
        dir.write(".hidden/x.json", "{}");
        dir.write("b/.dot.json", "{}");
        let e = expand_local_noted(&[dir.path().display().to_string()]).unwrap();
        let names: Vec<_> = e
            .files
            .iter()
            .map(|p| p.strip_prefix(dir.path()).unwrap().display().to_string())
            .collect();
        assert_eq!(names, ["a.json", "b/1.json", "b/2.json"]);
        assert_eq!(
            e.notes
                .iter()
                .map(|n| (n.kind, n.to_string()))
                .collect::<Vec<_>>(),
            [(
                NoteKind::Hidden,
                format!(
                    "{}: 2 hidden entries (names starting with `.`) not read, this one among them",
                    dir.path().join(".hidden").display()
                )
            )]
        );
    }

    #[test]
    fn globs_and_errors() {
        let dir = TempDir::new();
        dir.write("x/1.json.gz", "");
        dir.write("x/2.json", "");
        let pat = format!("{}/x/*.gz", dir.path().display());
        let files = expand_local(std::slice::from_ref(&pat)).unwrap();
        assert_eq!(files.len(), 1);
        let none = format!("{}/x/*.nothing", dir.path().display());
        let err = expand_local(std::slice::from_ref(&none)).unwrap_err();
        assert!(err.to_string().contains("matches no files"), "{err}");
        assert!(err.to_string().contains("*.nothing"));
        let missing = format!("{}/missing.json", dir.path().display());
        let err = expand_local(&[missing]).unwrap_err();
        assert!(err.to_string().contains("no such file"), "{err}");
        let err = expand_local(&["s3://bucket/prefix"]).unwrap_err();
        assert!(err.to_string().contains("not a local path"), "{err}");
        let empty = dir.path().join("emptydir");
        std::fs::create_dir_all(&empty).unwrap();
        let err = expand_local(&[empty.display().to_string()]).unwrap_err();
        assert!(err.to_string().contains("matches no files"));
    }
}
