//! `hunts update` end to end, offline: the "upstream" is a tarball built here from
//! `../shared` (Elastic's hunts and the 26 CloudTrail ES|QL rules, laid out as GitHub's
//! `detection-rules-<sha>/` archive, plus decoys), served by a one-request HTTP server on
//! 127.0.0.1.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::thread;

use flate2::write::GzEncoder;
use hunts::install::{
    self, home_from, installed, library_dir, update, update_with_progress, InstallError,
    SourceKind, UpdateSource,
};

const SHA: &str = "0123456789abcdef0123456789abcdef01234567";
const SHA2: &str = "89abcdef0123456789abcdef0123456789abcdef";
/// 2026-08-21T20:01:07Z, the commit time of the shared copy.
const MTIME: u64 = 1_787_342_467;

/// Files of a detection-rules tree: path inside the tree → bytes.
type Tree = BTreeMap<String, Vec<u8>>;

/// The shared hunts and rules at their upstream paths, or `None` (skip) without `../shared`.
fn upstream() -> Option<Tree> {
    let hunts = testkit::require_shared("hunts/elastic")?;
    let rules = testkit::require_shared("rules/elastic-aws-esql")?;
    let mut tree = Tree::new();
    for platform in sorted_dir(&hunts) {
        let queries = platform.join("queries");
        if !queries.is_dir() {
            continue;
        }
        for f in sorted_dir(&queries) {
            let rel = format!("hunting/{}/queries/{}", name(&platform), name(&f));
            tree.insert(rel, fs::read(&f).unwrap());
        }
    }
    for top in ["rules", "rules_building_block"] {
        for f in files_under(&rules.join(top)) {
            let rel = f.strip_prefix(&rules).unwrap();
            tree.insert(slash(rel), fs::read(&f).unwrap());
        }
    }
    Some(tree)
}

/// What a real tree also holds and the installer must leave out.
fn decoys() -> Tree {
    let rule = |language: &str, query: &str| {
        format!(
            "[metadata]\ncreation_date = \"2024/01/01\"\n\n[rule]\nname = \"decoy\"\n\
             language = \"{language}\"\nquery = '''\n{query}\n'''\n"
        )
        .into_bytes()
    };
    let mut t = Tree::new();
    t.insert("README.md".into(), b"# detection-rules\n".to_vec());
    t.insert("hunting/README.md".into(), b"# hunting\n".to_vec());
    t.insert("hunting/aws/docs/x.md".into(), b"# doc\n".to_vec());
    t.insert("hunting/index.yml".into(), b"aws: {}\n".to_vec());
    t.insert(
        "rules/integrations/aws/NOTICE.txt".into(),
        b"notice\n".to_vec(),
    );
    t.insert(
        "rules/integrations/aws/decoy_kuery.toml".into(),
        rule(
            "kuery",
            "event.dataset:aws.cloudtrail and event.action:Stop*",
        ),
    );
    t.insert(
        "rules/windows/decoy_endpoint_esql.toml".into(),
        rule("esql", "from logs-endpoint.events.process-* | where true"),
    );
    t.insert(
        "rules/integrations/aws_bedrock/decoy_bedrock_esql.toml".into(),
        rule(
            "esql",
            "from logs-aws_bedrock.invocation-* | stats c = count()",
        ),
    );
    t.insert(
        "rules/cross-platform/decoy_all_logs_esql.toml".into(),
        rule(
            "esql",
            "from logs-* | where event.dataset == \"aws.cloudtrail\"",
        ),
    );
    t.insert(
        "rules/windows/decoy_broken.toml".into(),
        b"[rule]\nlanguage = \"esql\"\nquery = \"unterminated\n".to_vec(),
    );
    t.insert(
        "hunting/linux/queries/zz_decoy_broken.toml".into(),
        b"[hunt]\nname = [\n".to_vec(),
    );
    t
}

/// GitHub's archive layout: pax global header `comment=<sha>`, everything under
/// `detection-rules-<sha>/`, directories before their files, every mtime the commit time.
fn tarball(sha: &str, tree: &Tree) -> Vec<u8> {
    tarball_with(sha, tree, |_| {})
}

fn tarball_with(
    sha: &str,
    tree: &Tree,
    extra: impl FnOnce(&mut tar::Builder<GzEncoder<Vec<u8>>>),
) -> Vec<u8> {
    let gz = GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut b = tar::Builder::new(gz);
    let record = format!(" comment={sha}\n");
    let mut len = record.len() + 2;
    len += format!("{len}").len() - 2;
    let pax = format!("{len}{record}");
    let mut h = tar::Header::new_ustar();
    h.set_entry_type(tar::EntryType::XGlobalHeader);
    h.set_path("pax_global_header").unwrap();
    h.set_size(pax.len() as u64);
    h.set_mtime(MTIME);
    h.set_mode(0o666);
    h.set_cksum();
    b.append(&h, pax.as_bytes()).unwrap();

    let top = format!("detection-rules-{sha}");
    let mut dirs = BTreeSet::from([String::new()]);
    for rel in tree.keys() {
        let mut d = rel.as_str();
        while let Some((parent, _)) = d.rsplit_once('/') {
            dirs.insert(parent.to_string());
            d = parent;
        }
    }
    for d in &dirs {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Directory);
        h.set_mode(0o775);
        h.set_mtime(MTIME);
        h.set_size(0);
        let path = if d.is_empty() {
            format!("{top}/")
        } else {
            format!("{top}/{d}/")
        };
        b.append_data(&mut h, path, std::io::empty()).unwrap();
    }
    for (rel, bytes) in tree {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Regular);
        h.set_mode(0o664);
        h.set_mtime(MTIME);
        h.set_size(bytes.len() as u64);
        b.append_data(&mut h, format!("{top}/{rel}"), bytes.as_slice())
            .unwrap();
    }
    extra(&mut b);
    b.into_inner().unwrap().finish().unwrap()
}

/// How the test server answers its one request.
enum Reply {
    Body(Vec<u8>),
    Status(u16),
    /// Announces the whole length, sends half, closes the connection.
    CutHalfway(Vec<u8>),
}

/// Serves one request on 127.0.0.1 and returns its URL.
fn serve(reply: Reply) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    thread::spawn(move || {
        let Ok((mut s, _)) = listener.accept() else {
            return;
        };
        let mut req = Vec::new();
        let mut buf = [0u8; 1024];
        while !req.windows(4).any(|w| w == b"\r\n\r\n") {
            match s.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => req.extend_from_slice(&buf[..n]),
            }
        }
        let head = |status: &str, len: usize| {
            format!(
                "HTTP/1.1 {status}\r\nContent-Type: application/x-gzip\r\n\
                 Content-Length: {len}\r\nConnection: close\r\n\r\n"
            )
        };
        let _ = match reply {
            Reply::Body(b) => s
                .write_all(head("200 OK", b.len()).as_bytes())
                .and_then(|()| s.write_all(&b)),
            Reply::Status(code) => {
                let body = b"Not Found";
                s.write_all(head(&format!("{code} Nope"), body.len()).as_bytes())
                    .and_then(|()| s.write_all(body))
            }
            Reply::CutHalfway(b) => s
                .write_all(head("200 OK", b.len()).as_bytes())
                .and_then(|()| s.write_all(&b[..b.len() / 2])),
        };
        let _ = s.flush();
        // Dropping the stream closes the connection (mid-body for `CutHalfway`).
    });
    format!("http://127.0.0.1:{port}/detection-rules/main.tar.gz")
}

/// Every file below `dir` (relative path → contents): the byte-for-byte state of a library.
fn snapshot(dir: &Path) -> Tree {
    files_under(dir)
        .into_iter()
        .map(|f| (slash(f.strip_prefix(dir).unwrap()), fs::read(&f).unwrap()))
        .collect()
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for p in sorted_dir(dir) {
        if fs::symlink_metadata(&p).unwrap().is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out
}

fn sorted_dir(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    v.sort();
    v
}

fn name(p: &Path) -> String {
    p.file_name().unwrap().to_str().unwrap().to_string()
}

fn slash(p: &Path) -> String {
    p.components()
        .map(|c| c.as_os_str().to_str().unwrap())
        .collect::<Vec<_>>()
        .join("/")
}

fn home_entries(home: &Path) -> Vec<String> {
    sorted_dir(home).iter().map(|p| name(p)).collect()
}

fn rules_of(tree: &Tree) -> BTreeSet<String> {
    tree.keys()
        .filter(|k| k.starts_with("rules"))
        .cloned()
        .collect()
}

fn full_tree() -> Option<Tree> {
    let mut t = upstream()?;
    t.extend(decoys());
    Some(t)
}

#[test]
fn installs_from_a_url_and_a_second_update_replaces_it() {
    let Some(tree) = full_tree() else { return };
    let expected = upstream().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    assert_eq!(installed(&home).unwrap(), None);

    let body = tarball(SHA, &tree);
    let url = serve(Reply::Body(body.clone()));
    let mut seen = Vec::new();
    let got = update_with_progress(&UpdateSource::Url(url.clone()), &home, &mut |n, total| {
        seen.push((n, total))
    })
    .unwrap();
    assert_eq!(
        seen.last(),
        Some(&(body.len() as u64, Some(body.len() as u64)))
    );

    let m = &got.manifest;
    assert_eq!(m.hunts, 140);
    assert_eq!(m.hunts_by_platform["aws"], 24);
    assert_eq!(m.rules, 26);
    assert_eq!(m.commit.as_deref(), Some(SHA));
    assert_eq!(m.commit_date.as_deref(), Some("2026-08-21T20:01:07Z"));
    assert_eq!(m.kind, SourceKind::Url);
    assert_eq!(m.source, url);
    assert_eq!(m.format, install::MANIFEST_FORMAT);
    assert!(chrono::DateTime::parse_from_rfc3339(&m.installed_at).is_ok());
    assert_eq!(installed(&home).unwrap().as_ref(), Some(m));
    assert_eq!(got.library, library_dir(&home));

    // The two malformed decoys are reported with file and line, and skipped.
    let mut warned: Vec<_> = got
        .warnings
        .iter()
        .map(|w| (w.file.clone(), w.position.map(|p| p.0)))
        .collect();
    warned.sort();
    assert_eq!(
        warned,
        [
            (
                format!("detection-rules-{SHA}/hunting/linux/queries/zz_decoy_broken.toml"),
                Some(3)
            ),
            (
                format!("detection-rules-{SHA}/rules/windows/decoy_broken.toml"),
                Some(3)
            ),
        ],
        "{:?}",
        got.warnings
    );
    assert_eq!(m.skipped, 2);

    // Exactly the upstream hunts and the 26 rules, byte-identical, plus the manifest.
    let mut lib = snapshot(&library_dir(&home));
    assert!(lib.remove(install::MANIFEST_FILE).is_some());
    assert_eq!(lib, expected);
    assert_eq!(rules_of(&lib).len(), 26);
    assert_eq!(home_entries(&home), ["library", "update.lock"]);

    // A newer upstream without one hunt and one rule replaces the library as a whole.
    let mut newer = tree.clone();
    let gone_hunt = "hunting/aws/queries/iam_unusual_access_key_usage_for_user.toml";
    let gone_rule = "rules_building_block/discovery_ec2_multi_region_describe_instances.toml";
    assert!(newer.remove(gone_hunt).is_some() && newer.remove(gone_rule).is_some());
    let url2 = serve(Reply::Body(tarball(SHA2, &newer)));
    let again = update(&UpdateSource::Url(url2), &home).unwrap();
    assert_eq!(again.manifest.commit.as_deref(), Some(SHA2));
    assert_eq!(again.manifest.hunts, 139);
    assert_eq!(again.manifest.rules, 25);
    let lib = snapshot(&library_dir(&home));
    assert!(!lib.contains_key(gone_hunt) && !lib.contains_key(gone_rule));
    assert_eq!(installed(&home).unwrap().unwrap(), again.manifest);
    assert_eq!(home_entries(&home), ["library", "update.lock"]);

    // The installed tree is what `Library` loads.
    let mut library = hunts::Library::new();
    let errors = library.add_installed(&library_dir(&home).join("hunting"));
    assert!(errors.is_empty(), "{errors:?}");
    assert!(library.hunts().len() >= 139);
}

#[test]
fn failed_updates_leave_the_library_unchanged() {
    let Some(tree) = full_tree() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let good = tarball(SHA, &tree);
    update(&UpdateSource::Url(serve(Reply::Body(good.clone()))), &home).unwrap();
    let before = snapshot(&library_dir(&home));

    let mut bad_crc = good.clone();
    let at = bad_crc.len() - 8; // the gzip trailer: CRC32, then the length
    bad_crc[at] ^= 0xff;
    let corrupt_tar = {
        let mut e = GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(&[b'x'; 4096]).unwrap();
        e.finish().unwrap()
    };
    let no_end_marker = {
        // A complete gzip of every entry but without the two zero blocks that end a tar
        // (tar::Builder writes exactly those): a truncated archive re-compressed.
        let mut raw = Vec::new();
        flate2::read::GzDecoder::new(good.as_slice())
            .read_to_end(&mut raw)
            .unwrap();
        let mut e = GzEncoder::new(Vec::new(), flate2::Compression::fast());
        assert!(raw[raw.len() - 1024..].iter().all(|&b| b == 0));
        e.write_all(&raw[..raw.len() - 1024]).unwrap();
        e.finish().unwrap()
    };
    let evil = tarball_with(SHA, &tree, |b| {
        let mut h = tar::Header::new_gnu();
        let name = b"../evil";
        h.as_old_mut().name[..name.len()].copy_from_slice(name);
        h.set_entry_type(tar::EntryType::Regular);
        h.set_mode(0o644);
        h.set_size(5);
        h.set_cksum();
        b.append(&h, &b"evil\n"[..]).unwrap();
    });
    let symlink = tarball_with(SHA, &tree, |b| {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Symlink);
        h.set_path(format!(
            "detection-rules-{SHA}/hunting/aws/queries/link.toml"
        ))
        .unwrap();
        h.set_link_name("/etc/passwd").unwrap();
        h.set_mode(0o777);
        h.set_size(0);
        h.set_cksum();
        b.append(&h, std::io::empty()).unwrap();
    });
    let absolute = tarball_with(SHA, &tree, |b| {
        let mut h = tar::Header::new_gnu();
        let name = b"/tmp/evil.toml";
        h.as_old_mut().name[..name.len()].copy_from_slice(name);
        h.set_entry_type(tar::EntryType::Regular);
        h.set_size(0);
        h.set_cksum();
        b.append(&h, std::io::empty()).unwrap();
    });
    let rules_only = tarball(
        SHA,
        &rules_of(&tree)
            .iter()
            .map(|k| (k.clone(), tree[k].clone()))
            .collect(),
    );

    type Check = fn(&InstallError) -> bool;
    let cases: Vec<(&str, Reply, Check)> = vec![
        (
            "404",
            Reply::Status(404),
            |e| matches!(e, InstallError::HttpStatus { status, .. } if status.as_u16() == 404),
        ),
        ("cut body", Reply::CutHalfway(good.clone()), |e| {
            matches!(
                e,
                InstallError::Download { .. } | InstallError::Truncated { .. }
            )
        }),
        (
            "truncated gzip",
            Reply::Body(good[..good.len() / 2].to_vec()),
            |e| matches!(e, InstallError::Archive { .. }),
        ),
        ("bad gzip crc", Reply::Body(bad_crc), |e| {
            matches!(e, InstallError::Archive { .. })
        }),
        ("not gzip", Reply::Body(b"<html>hi</html>".to_vec()), |e| {
            matches!(e, InstallError::Archive { .. })
        }),
        ("corrupt tar", Reply::Body(corrupt_tar), |e| {
            matches!(e, InstallError::Archive { .. })
        }),
        ("no end marker", Reply::Body(no_end_marker), |e| {
            matches!(e, InstallError::Archive { .. })
        }),
        (
            "../evil",
            Reply::Body(evil),
            |e| matches!(e, InstallError::UnsafeEntry { entry, .. } if entry == "../evil"),
        ),
        (
            "absolute",
            Reply::Body(absolute),
            |e| matches!(e, InstallError::UnsafeEntry { entry, .. } if entry == "/tmp/evil.toml"),
        ),
        ("symlink", Reply::Body(symlink), |e| {
            matches!(e, InstallError::UnsafeEntry { entry, reason, .. }
                if entry.ends_with("hunting/aws/queries/link.toml") && reason.contains("symbolic"))
        }),
        ("zero hunts", Reply::Body(rules_only), |e| {
            matches!(e, InstallError::NoHunts { .. })
        }),
    ];
    for (what, reply, check) in cases {
        let url = serve(reply);
        let err = update(&UpdateSource::Url(url.clone()), &home).expect_err(what);
        assert!(check(&err), "{what}: unexpected error {err:?}");
        let msg = format!("{err}");
        assert!(msg.contains(&url), "{what}: `{msg}` does not name the URL");
        assert_eq!(
            snapshot(&library_dir(&home)),
            before,
            "{what}: the library changed"
        );
        assert_eq!(home_entries(&home), ["library", "update.lock"], "{what}");
    }
    assert!(!tmp.path().join("evil").exists());

    // The same checks hold for a local tarball.
    let file = tmp.path().join("broken.tar.gz");
    fs::write(&file, &good[..good.len() - 100]).unwrap();
    let err = update(&UpdateSource::Tarball(file.clone()), &home).unwrap_err();
    assert!(matches!(err, InstallError::Archive { .. }), "{err:?}");
    assert!(err.to_string().contains("broken.tar.gz"), "{err}");
    let missing = tmp.path().join("missing.tar.gz");
    let err = update(&UpdateSource::Tarball(missing), &home).unwrap_err();
    assert!(
        matches!(&err, InstallError::Io { path, .. } if path.ends_with("missing.tar.gz")),
        "{err:?}"
    );
    assert_eq!(snapshot(&library_dir(&home)), before);
}

#[test]
fn installs_from_a_local_tarball_and_a_checkout() {
    let Some(tree) = full_tree() else { return };
    let expected = upstream().unwrap();
    let tmp = tempfile::tempdir().unwrap();

    let file = tmp.path().join("detection-rules.tar.gz");
    fs::write(&file, tarball(SHA, &tree)).unwrap();
    let source = UpdateSource::parse(file.to_str().unwrap());
    assert_eq!(source, UpdateSource::Tarball(file.clone()));
    let home = tmp.path().join("home-tarball");
    let got = update(&source, &home).unwrap();
    assert_eq!(got.manifest.kind, SourceKind::Tarball);
    assert_eq!(
        got.manifest.source,
        fs::canonicalize(&file).unwrap().display().to_string()
    );
    assert_eq!(got.manifest.commit.as_deref(), Some(SHA));
    assert_eq!((got.manifest.hunts, got.manifest.rules), (140, 26));

    // A checkout: the same tree on disk, HEAD on a packed ref.
    let checkout = tmp.path().join("detection-rules");
    for (rel, bytes) in &tree {
        let p = checkout.join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, bytes).unwrap();
    }
    fs::create_dir_all(checkout.join(".git")).unwrap();
    fs::write(checkout.join(".git/HEAD"), "ref: refs/heads/main\n").unwrap();
    fs::write(
        checkout.join(".git/packed-refs"),
        format!("# pack-refs with: peeled fully-peeled sorted\n{SHA2} refs/heads/main\n"),
    )
    .unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(
        "/etc/passwd",
        checkout.join("hunting/aws/queries/link.toml"),
    )
    .unwrap();
    let source = UpdateSource::parse(checkout.to_str().unwrap());
    assert_eq!(source, UpdateSource::Dir(checkout.clone()));
    let home = tmp.path().join("home-dir");
    let got = update(&source, &home).unwrap();
    let m = &got.manifest;
    assert_eq!(m.kind, SourceKind::Dir);
    assert_eq!(m.commit.as_deref(), Some(SHA2));
    assert_eq!(m.commit_date, None);
    assert_eq!((m.hunts, m.rules), (140, 26));
    let mut lib = snapshot(&library_dir(&home));
    lib.remove(install::MANIFEST_FILE);
    assert_eq!(lib, expected);
    #[cfg(unix)]
    assert!(got
        .warnings
        .iter()
        .any(|w| w.file.ends_with("link.toml") && w.message.contains("symbolic link")));

    // A directory that is not a checkout.
    let err = update(&UpdateSource::Dir(tmp.path().join("home-dir")), &home).unwrap_err();
    assert!(matches!(err, InstallError::NotACheckout { .. }), "{err:?}");
}

#[test]
fn source_arguments() {
    assert_eq!(
        UpdateSource::parse("https://example.com/x.tar.gz"),
        UpdateSource::Url("https://example.com/x.tar.gz".into())
    );
    assert_eq!(
        UpdateSource::parse("HTTP://example.com/x"),
        UpdateSource::Url("HTTP://example.com/x".into())
    );
    assert_eq!(
        UpdateSource::parse("no/such/file.tar.gz"),
        UpdateSource::Tarball("no/such/file.tar.gz".into())
    );
    assert_eq!(
        UpdateSource::default(),
        UpdateSource::Url(install::DEFAULT_URL.into())
    );
    assert_eq!(
        install::DEFAULT_URL,
        "https://github.com/elastic/detection-rules/archive/refs/heads/main.tar.gz"
    );
}

#[test]
fn home_directory_resolution() {
    let some = |s: &str| Some(std::ffi::OsString::from(s));
    let user = Some(PathBuf::from("/home/ana"));
    assert_eq!(
        home_from(some("/data/th"), some("/xdg"), user.clone()).unwrap(),
        PathBuf::from("/data/th")
    );
    assert_eq!(
        home_from(None, some("/xdg"), user.clone()).unwrap(),
        PathBuf::from("/xdg/trailhunt")
    );
    // Empty means unset; a relative XDG_DATA_HOME is ignored, as the XDG spec says.
    assert_eq!(
        home_from(some(""), some("relative/xdg"), user.clone()).unwrap(),
        PathBuf::from("/home/ana/.local/share/trailhunt")
    );
    assert_eq!(
        home_from(None, some(""), user).unwrap(),
        PathBuf::from("/home/ana/.local/share/trailhunt")
    );
    assert!(matches!(
        home_from(None, None, None),
        Err(InstallError::NoHome)
    ));
    assert_eq!(library_dir(Path::new("/h")), PathBuf::from("/h/library"));
}

#[test]
fn a_second_concurrent_update_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path();
    let lock = fs::File::create(home.join("update.lock")).unwrap();
    lock.try_lock().unwrap();
    let err = update(&UpdateSource::Dir(home.to_path_buf()), home).unwrap_err();
    assert!(matches!(err, InstallError::Busy { .. }), "{err:?}");
    drop(lock);
    // Released: the update now gets as far as reading the (non-checkout) source.
    let err = update(&UpdateSource::Dir(home.to_path_buf()), home).unwrap_err();
    assert!(matches!(err, InstallError::NotACheckout { .. }), "{err:?}");
}

#[test]
fn a_corrupt_manifest_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    fs::create_dir_all(library_dir(tmp.path())).unwrap();
    fs::write(library_dir(tmp.path()).join(install::MANIFEST_FILE), "{").unwrap();
    assert!(matches!(
        installed(tmp.path()),
        Err(InstallError::Manifest { .. })
    ));
}

/// The selection over the whole upstream tree: with `TRAILHUNT_UPSTREAM_TARBALL` naming a
/// GitHub tarball of detection-rules (or `git archive --prefix=detection-rules-<sha>/`), the
/// rules installed are exactly the shared copy's 26. Skipped without it (never downloads).
#[test]
fn the_full_upstream_tree_selects_the_shared_rules() {
    let Some(tarball) = std::env::var_os("TRAILHUNT_UPSTREAM_TARBALL") else {
        eprintln!("skipping: TRAILHUNT_UPSTREAM_TARBALL is not set");
        return;
    };
    let Some(expected) = upstream() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let got = update(&UpdateSource::Tarball(tarball.into()), tmp.path()).unwrap();
    let lib = snapshot(&library_dir(tmp.path()));
    assert_eq!(rules_of(&lib), rules_of(&expected));
    assert_eq!(got.manifest.hunts, 140, "{:?}", got.warnings);
    assert_eq!(got.manifest.skipped, 0, "{:?}", got.warnings);
    assert!(got.manifest.commit.is_some());
    eprintln!("{:#?}", got.manifest);
}
