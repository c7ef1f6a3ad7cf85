//! Local sources (files, directories, globs) as an ordered list of files.
//!
//! The order is part of the contract: scans emit records in file order, so the same sources
//! always give the same rows in the same order.

use crate::SourceError;
use std::path::{Path, PathBuf};

/// Expands sources in the given order: a file is taken as is, a directory is walked
/// recursively (entries sorted by name, hidden entries and non-regular files skipped), anything
/// with glob metacharacters is a glob (matches sorted). A source that yields no file is an
/// error, because a typo silently producing "no hits" would be worse.
pub fn expand_local(srcs: &[String]) -> Result<Vec<PathBuf>, SourceError> {
    let mut out = Vec::new();
    for src in srcs {
        let before = out.len();
        if src.starts_with("s3://") {
            return Err(SourceError::NotLocal(src.clone()));
        }
        let path = Path::new(src);
        match std::fs::metadata(path) {
            Ok(meta) if meta.is_dir() => walk_dir(path, &mut out)?,
            Ok(_) => out.push(path.to_path_buf()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && is_glob(src) => {
                let paths = glob::glob(src).map_err(|e| SourceError::BadPattern {
                    source_name: src.clone(),
                    message: e.to_string(),
                })?;
                let mut matched = Vec::new();
                for entry in paths {
                    let p = entry.map_err(|e| SourceError::Io {
                        path: e.path().display().to_string(),
                        error: std::io::Error::new(e.error().kind(), e.error().to_string()),
                    })?;
                    matched.push(p);
                }
                matched.sort();
                for p in matched {
                    match std::fs::metadata(&p) {
                        Ok(m) if m.is_dir() => walk_dir(&p, &mut out)?,
                        Ok(m) if m.is_file() => out.push(p),
                        _ => {}
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(SourceError::NotFound(src.clone()))
            }
            Err(error) => {
                return Err(SourceError::Io {
                    path: src.clone(),
                    error,
                })
            }
        }
        if out.len() == before {
            return Err(SourceError::NoMatch(src.clone()));
        }
    }
    Ok(out)
}

fn is_glob(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

fn is_hidden(name: &std::ffi::OsStr) -> bool {
    name.to_string_lossy().starts_with('.')
}

fn walk_dir(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), SourceError> {
    let io = |error| SourceError::Io {
        path: dir.display().to_string(),
        error,
    };
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(io)?
        .collect::<Result<_, _>>()
        .map_err(io)?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        if is_hidden(&entry.file_name()) {
            continue;
        }
        let path = entry.path();
        // Follow symlinks (a case folder often links evidence in), but only keep regular files.
        match std::fs::metadata(&path) {
            Ok(m) if m.is_dir() => walk_dir(&path, out)?,
            Ok(m) if m.is_file() => out.push(path),
            _ => {}
        }
    }
    Ok(())
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
        let files = expand_local(&[dir.path().display().to_string()]).unwrap();
        let names: Vec<_> = files
            .iter()
            .map(|p| p.strip_prefix(dir.path()).unwrap().display().to_string())
            .collect();
        assert_eq!(names, ["a.json", "b/1.json", "b/2.json"]);
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
        let err = expand_local(&["s3://bucket/prefix".into()]).unwrap_err();
        assert!(err.to_string().contains("not a local path"), "{err}");
        let empty = dir.path().join("emptydir");
        std::fs::create_dir_all(&empty).unwrap();
        let err = expand_local(&[empty.display().to_string()]).unwrap_err();
        assert!(err.to_string().contains("matches no files"));
    }
}
