//! The set of hunts trailhunt knows about, and name resolution for the CLI.

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use crate::{builtin, parse_file, Hunt, HuntError, Kind, Origin};

/// Built-in hunts plus hunts loaded from directories.
///
/// Order is stable (built-ins first, then files in sorted path order) so that
/// `hunts list` and "run every matching hunt" are reproducible.
#[derive(Debug, Clone)]
pub struct Library {
    hunts: Vec<Hunt>,
    /// The directories hunts were loaded from, with how they were given.
    roots: Vec<(PathBuf, Provenance)>,
}

/// Where a hunt in the library comes from, as `hunts list` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Provenance {
    /// Compiled into trailhunt.
    BuiltIn,
    /// The library `trailhunt hunts update` installed.
    Installed,
    /// A `--hunts DIR` (or a file named on the command line).
    Dir(PathBuf),
}

impl fmt::Display for Provenance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Provenance::BuiltIn => f.write_str("built-in"),
            Provenance::Installed => f.write_str("installed"),
            Provenance::Dir(d) => write!(f, "{}", d.display()),
        }
    }
}

impl Default for Library {
    fn default() -> Self {
        Library::new()
    }
}

/// Why a hunt name given by the user did not resolve to exactly one hunt.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    /// Nothing matched; `suggestions` are the closest stems, best first.
    #[error("no hunt matches `{key}` (not a hunt file, file stem, UUID or name){}", did_you_mean(.suggestions))]
    NotFound {
        key: String,
        suggestions: Vec<String>,
    },
    /// Several hunts match (upstream has UUIDs shared by two files); each
    /// candidate is shown as `stem (origin)` so the user can pick a path.
    #[error("`{key}` matches several hunts: {}; give the file path instead", .candidates.join(", "))]
    Ambiguous {
        key: String,
        candidates: Vec<String>,
    },
    /// The key named a file, but it is not a valid hunt.
    #[error(transparent)]
    Load(#[from] HuntError),
}

fn did_you_mean(suggestions: &[String]) -> String {
    if suggestions.is_empty() {
        String::new()
    } else {
        format!("; did you mean {}?", suggestions.join(", "))
    }
}

impl Library {
    /// A library holding only the built-in hunts.
    pub fn new() -> Library {
        Library {
            hunts: builtin(),
            roots: Vec::new(),
        }
    }

    /// A library without the built-ins (for `hunts lint PATH`).
    pub fn empty() -> Library {
        Library {
            hunts: Vec::new(),
            roots: Vec::new(),
        }
    }

    /// Loads one hunt or rule file.
    pub fn add_file(&mut self, path: &Path) -> Vec<HuntError> {
        match load_file(path) {
            Ok(h) => {
                self.insert(h);
                Vec::new()
            }
            Err(e) => vec![e],
        }
    }

    /// Loads the library `hunts update` installed (see [`Library::add_dir`]); its hunts
    /// are listed as [`Provenance::Installed`].
    pub fn add_installed(&mut self, dir: &Path) -> Vec<HuntError> {
        self.add_root(dir, Provenance::Installed)
    }

    /// Where a hunt of this library comes from.
    pub fn provenance(&self, hunt: &Hunt) -> Provenance {
        let Origin::File(path) = &hunt.origin else {
            return Provenance::BuiltIn;
        };
        self.roots
            .iter()
            .filter(|(root, _)| path.starts_with(root))
            .max_by_key(|(root, _)| root.components().count())
            .map_or_else(
                || Provenance::Dir(path.parent().unwrap_or(path).to_path_buf()),
                |(_, p)| p.clone(),
            )
    }

    /// Loads every `*.toml` below `dir`, recursively, in sorted order.
    ///
    /// Given a detection-rules checkout (a directory with a `hunting/`
    /// subfolder) only `hunting/` is read, since the rest holds detection rules
    /// in another format. Bad files are returned as errors and skipped; the
    /// others still load. A file hunt with a built-in's UUID replaces the
    /// built-in (the user's copy is presumably newer or tuned); loading the
    /// same file twice replaces the first copy. Two *files* sharing a UUID are
    /// both kept, as upstream has such pairs; see [`Library::duplicate_uuids`].
    pub fn add_dir(&mut self, dir: &Path) -> Vec<HuntError> {
        self.add_root(dir, Provenance::Dir(dir.to_path_buf()))
    }

    fn add_root(&mut self, dir: &Path, provenance: Provenance) -> Vec<HuntError> {
        self.roots.push((dir.to_path_buf(), provenance));
        // A detection-rules checkout (or an installed library): its hunts and rules
        // folders only; the rest of such a tree is not hunts (tests, configs, etc.).
        let known: Vec<PathBuf> = ["hunting", "rules", "rules_building_block"]
            .iter()
            .map(|d| dir.join(d))
            .filter(|d| d.is_dir())
            .collect();
        let roots = if known.is_empty() {
            vec![dir.to_path_buf()]
        } else {
            known
        };
        let mut files = Vec::new();
        let mut errors = Vec::new();
        for root in roots {
            if let Err(source) = collect_toml(&root, &mut files) {
                errors.push(HuntError::Io { file: root, source });
            }
        }
        for file in files {
            match load_file(&file) {
                Ok(hunt) => self.insert(hunt),
                Err(e) => errors.push(e),
            }
        }
        errors
    }

    fn insert(&mut self, hunt: Hunt) {
        let same_file = |h: &Hunt| match (&h.origin, &hunt.origin) {
            (Origin::File(a), Origin::File(b)) => same_path(a, b),
            _ => false,
        };
        // The same hunt or rule from another root (installed, then `--hunts DIR`): the
        // later root wins, so a user's tuned copy replaces the installed one.
        let same_hunt = |h: &Hunt| {
            matches!(h.origin, Origin::File(_))
                && h.stem == hunt.stem
                && h.uuid.eq_ignore_ascii_case(&hunt.uuid)
        };
        if let Some(i) = self.hunts.iter().position(same_file) {
            self.hunts[i] = hunt;
        } else if let Some(i) = self.hunts.iter().position(same_hunt) {
            self.hunts[i] = hunt;
        } else if let Some(i) = self
            .hunts
            .iter()
            .position(|h| h.origin == Origin::BuiltIn && h.uuid.eq_ignore_ascii_case(&hunt.uuid))
        {
            // Upstream copies carry no pivots: keep the built-in's while the queries are
            // the same (the pivots are bound to the rows those queries return).
            let mut hunt = hunt;
            if hunt.pivots.is_empty() && hunt.queries == self.hunts[i].queries {
                hunt.pivots = std::mem::take(&mut self.hunts[i].pivots);
            }
            self.hunts[i] = hunt;
        } else {
            self.hunts.push(hunt);
        }
    }

    /// All hunts, built-ins first.
    pub fn hunts(&self) -> &[Hunt] {
        &self.hunts
    }

    /// Groups of hunts that share a UUID (for `hunts lint`); empty when unique.
    pub fn duplicate_uuids(&self) -> Vec<Vec<&Hunt>> {
        let mut groups: Vec<Vec<&Hunt>> = Vec::new();
        for h in &self.hunts {
            match groups
                .iter_mut()
                .find(|g| g[0].uuid.eq_ignore_ascii_case(&h.uuid))
            {
                Some(g) => g.push(h),
                None => groups.push(vec![h]),
            }
        }
        groups.retain(|g| g.len() > 1);
        groups
    }

    /// Finds the hunt a user means by `key`.
    ///
    /// Tried in order: an existing `.toml` file path (loaded on the fly, even
    /// if not in the library), a file stem, a UUID, the hunt name (case-
    /// insensitive). On failure the error suggests near stems.
    pub fn resolve(&self, key: &str) -> Result<Hunt, ResolveError> {
        let path = Path::new(key);
        let looks_like_path = key.ends_with(".toml") || key.contains(std::path::MAIN_SEPARATOR);
        if looks_like_path && path.is_file() {
            return Ok(load_file(path)?);
        }
        let stem_key = key.strip_suffix(".toml").unwrap_or(key);
        let stem_key = Path::new(stem_key)
            .file_name()
            .and_then(|s| s.to_str())
            .unwrap_or(stem_key);

        type Matcher<'k> = Box<dyn Fn(&Hunt) -> bool + 'k>;
        let matchers: [Matcher; 3] = [
            Box::new(|h: &Hunt| h.stem == stem_key),
            Box::new(|h: &Hunt| h.uuid.eq_ignore_ascii_case(key.trim())),
            Box::new(|h: &Hunt| h.name.eq_ignore_ascii_case(key.trim())),
        ];
        for matches in matchers {
            let found: Vec<&Hunt> = self.hunts.iter().filter(|h| matches(h)).collect();
            match found.as_slice() {
                [] => continue,
                [one] => return Ok((*one).clone()),
                many => {
                    return Err(ResolveError::Ambiguous {
                        key: key.to_string(),
                        candidates: many
                            .iter()
                            .map(|h| format!("{} ({})", h.stem, h.origin))
                            .collect(),
                    })
                }
            }
        }
        Err(ResolveError::NotFound {
            key: key.to_string(),
            suggestions: self.suggest(stem_key),
        })
    }

    /// Up to five stems close to `key`: substring hits first, then by edit
    /// distance, so both typos and partial names ("flow_logs") are helped.
    fn suggest(&self, key: &str) -> Vec<String> {
        let key = key.to_ascii_lowercase();
        let limit = (key.chars().count() / 3).max(2);
        let mut scored: Vec<(bool, usize, &str)> = self
            .hunts
            .iter()
            .filter_map(|h| {
                let sub = key.len() >= 3
                    && (h.stem.contains(&key) || h.name.to_ascii_lowercase().contains(&key));
                let d = levenshtein(&key, &h.stem.to_ascii_lowercase());
                (sub || d <= limit).then_some((!sub, d, h.stem.as_str()))
            })
            .collect();
        scored.sort();
        scored.dedup_by(|a, b| a.2 == b.2);
        scored
            .into_iter()
            .take(5)
            .map(|s| s.2.to_string())
            .collect()
    }

    /// ES|QL hunts and rules whose `integration` list contains `integration` exactly.
    pub fn for_integration(&self, integration: &str) -> Vec<&Hunt> {
        self.hunts
            .iter()
            .filter(|h| h.is_esql() && h.integration.iter().any(|i| i == integration))
            .collect()
    }

    /// ES|QL hunts and rules for CloudTrail: what "run every hunt that fits the data"
    /// runs. A hunt matches when its `integration` list holds `aws.cloudtrail`; a rule's
    /// `[metadata] integration` names packages, so a rule matches on `aws` (some of
    /// those read other data too, and then fail with Elasticsearch's unknown-index error,
    /// as they would on a cluster without it) or on a query that reads CloudTrail.
    pub fn for_cloudtrail(&self) -> Vec<&Hunt> {
        self.hunts
            .iter()
            .filter(|h| h.is_esql())
            .filter(|h| match h.kind {
                Kind::Hunt => h.integration.iter().any(|i| i == "aws.cloudtrail"),
                Kind::Rule(_) => {
                    h.integration
                        .iter()
                        .any(|i| i == "aws" || i == "aws.cloudtrail")
                        || h.queries.iter().any(|q| q.contains("logs-aws.cloudtrail"))
                }
            })
            .collect()
    }
}

fn load_file(path: &Path) -> Result<Hunt, HuntError> {
    let text = fs::read_to_string(path).map_err(|source| HuntError::Io {
        file: path.to_path_buf(),
        source,
    })?;
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    parse_file(&text, Origin::File(path.to_path_buf()), &stem)
}

/// Recursive, sorted listing of `*.toml` files; hidden entries (`.git`) skipped.
fn collect_toml(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<PathBuf> = fs::read_dir(dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    entries.sort();
    for path in entries {
        let hidden = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with('.'));
        if hidden {
            continue;
        }
        if path.is_dir() {
            collect_toml(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "toml") {
            out.push(path);
        }
    }
    Ok(())
}

fn same_path(a: &Path, b: &Path) -> bool {
    a == b || matches!((a.canonicalize(), b.canonicalize()), (Ok(x), Ok(y)) if x == y)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

impl fmt::Display for Hunt {
    /// `name (stem, uuid)` — the one-line form used in messages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}, {})", self.name, self.stem, self.uuid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance() {
        assert_eq!(levenshtein("kitten", "sitting"), 3);
        assert_eq!(levenshtein("", "abc"), 3);
        assert_eq!(levenshtein("abc", "abc"), 0);
    }
}
