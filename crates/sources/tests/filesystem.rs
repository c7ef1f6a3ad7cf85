//! Hostile file systems, built in temporary folders: symbolic-link loops, links to files and
//! folders already listed, folders named twice, hard links, FIFOs, sockets and devices,
//! broken links, names that are not UTF-8, unreadable folders, very deep trees. Each real file
//! is listed once and everything left out is said, exactly.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use sources::{expand_local_noted, Expansion, NoteKind};

struct Tree(tempfile::TempDir);

impl Tree {
    fn new() -> Tree {
        Tree(
            tempfile::Builder::new()
                .prefix("sources-fs-")
                .tempdir()
                .unwrap(),
        )
    }
    fn root(&self) -> &Path {
        self.0.path()
    }
    fn at(&self, rel: &str) -> PathBuf {
        self.root().join(rel)
    }
    fn file(&self, rel: &str) -> PathBuf {
        let p = self.at(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, "{}").unwrap();
        p
    }
    fn s(&self, rel: &str) -> String {
        self.at(rel).display().to_string()
    }
}

fn expand(srcs: &[String]) -> Expansion {
    expand_local_noted(srcs).unwrap()
}

/// The notes as `(kind, "path: message")`, paths relative to `root`.
fn notes(e: &Expansion, root: &Path) -> Vec<(NoteKind, String)> {
    let prefix = format!("{}/", root.display());
    e.notes
        .iter()
        .map(|n| (n.kind, n.to_string().replace(&prefix, "")))
        .collect()
}

fn files(e: &Expansion, root: &Path) -> Vec<String> {
    e.files
        .iter()
        .map(|p| p.strip_prefix(root).unwrap().display().to_string())
        .collect()
}

fn mkfifo(p: &Path) {
    let c = std::ffi::CString::new(p.as_os_str().as_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
}

#[test]
fn symlink_loops_are_detected_and_not_followed() {
    let t = Tree::new();
    t.file("logs/a/1.json");
    t.file("logs/b/2.json");
    symlink("..", t.at("logs/a/up")).unwrap();
    symlink(t.at("logs"), t.at("logs/b/root")).unwrap();
    symlink("self", t.at("logs/self")).unwrap();
    let e = expand(&[t.s("logs")]);
    assert_eq!(files(&e, t.root()), ["logs/a/1.json", "logs/b/2.json"]);
    assert_eq!(
        notes(&e, t.root()),
        [
            (NoteKind::Loop, "logs/a/up: a link back to logs, which contains it (a loop): not followed".into()),
            (NoteKind::Loop, "logs/b/root: a link back to logs, which contains it (a loop): not followed".into()),
            (NoteKind::Unreadable, "logs/self: a symbolic link that cannot be followed (Too many levels of symbolic links (os error 40)): skipped".into()),
        ]
    );
}

#[test]
fn every_real_file_is_listed_once() {
    let t = Tree::new();
    t.file("logs/x/1.json");
    t.file("logs/y/2.json");
    // A link to a file, a link to a folder, a hard link: all already listed.
    symlink(t.at("logs/x/1.json"), t.at("logs/y/link.json")).unwrap();
    symlink(t.at("logs/x"), t.at("logs/z")).unwrap();
    std::fs::hard_link(t.at("logs/y/2.json"), t.at("logs/y/3.json")).unwrap();
    // The same folder twice, a folder inside it, a file inside it, a glob over it.
    let e = expand(&[
        t.s("logs"),
        t.s("logs"),
        t.s("logs/x"),
        t.s("logs/y/2.json"),
        format!("{}/*/1.json", t.s("logs")),
    ]);
    assert_eq!(files(&e, t.root()), ["logs/x/1.json", "logs/y/2.json"]);
    assert_eq!(
        notes(&e, t.root()),
        [
            (NoteKind::Duplicate, "logs/y/3.json: same file as logs/y/2.json (a link to it, or named twice): read once".into()),
            (NoteKind::Duplicate, "logs/y/link.json: same file as logs/x/1.json (a link to it, or named twice): read once".into()),
            (NoteKind::Duplicate, "logs/z: same folder as logs/x (a link to it, or named twice): read once".into()),
            (NoteKind::Duplicate, "logs: folder named more than once: read once".into()),
            (NoteKind::Duplicate, "logs/x: folder named more than once: read once".into()),
            (NoteKind::Duplicate, "logs/y/2.json: same file as logs/y/2.json (a link to it, or named twice): read once".into()),
            (NoteKind::Duplicate, "logs/x/1.json: same file as logs/x/1.json (a link to it, or named twice): read once".into()),
            (NoteKind::Duplicate, "logs/z/1.json: same file as logs/x/1.json (a link to it, or named twice): read once".into()),
        ]
    );
    // A folder named after one of its subfolders: the subfolder is not walked twice.
    // The first path to reach a file is the one listed.
    let e = expand(&[t.s("logs/y"), t.s("logs")]);
    assert_eq!(files(&e, t.root()), ["logs/y/2.json", "logs/y/link.json"]);
    assert_eq!(
        notes(&e, t.root()),
        [
            (NoteKind::Duplicate, "logs/y/3.json: same file as logs/y/2.json (a link to it, or named twice): read once".into()),
            (NoteKind::Duplicate, "logs/x/1.json: same file as logs/y/link.json (a link to it, or named twice): read once".into()),
            (NoteKind::Duplicate, "logs/y: folder named as a source too: read once".into()),
            (NoteKind::Duplicate, "logs/z: same folder as logs/x (a link to it, or named twice): read once".into()),
        ]
    );
}

#[test]
fn fifos_sockets_devices_and_broken_links_are_skipped_with_a_note() {
    let t = Tree::new();
    t.file("logs/good.json");
    mkfifo(&t.at("logs/pipe.json"));
    let _sock = std::os::unix::net::UnixListener::bind(t.at("logs/sock.json")).unwrap();
    symlink("/dev/zero", t.at("logs/zero.json")).unwrap();
    symlink("nowhere.json", t.at("logs/broken.json")).unwrap();
    mkfifo(&t.at("direct.fifo"));
    let e = expand(&[t.s("logs"), t.s("direct.fifo"), "/dev/null".into()]);
    assert_eq!(files(&e, t.root()), ["logs/good.json"]);
    assert_eq!(
        notes(&e, t.root()),
        [
            (
                NoteKind::Unreadable,
                "logs/broken.json: a broken symbolic link (its target does not exist): skipped"
                    .into()
            ),
            (
                NoteKind::Special,
                "logs/pipe.json: a FIFO (named pipe), not a regular file: skipped, never opened"
                    .into()
            ),
            (
                NoteKind::Special,
                "logs/sock.json: a socket, not a regular file: skipped, never opened".into()
            ),
            (
                NoteKind::Special,
                "logs/zero.json: a character device, not a regular file: skipped, never opened"
                    .into()
            ),
            (
                NoteKind::Special,
                "direct.fifo: a FIFO (named pipe), not a regular file: skipped, never opened"
                    .into()
            ),
            (
                NoteKind::Special,
                "/dev/null: a character device, not a regular file: skipped, never opened".into()
            ),
        ]
    );
}

#[test]
fn names_that_are_not_utf8_are_listed_and_noted() {
    let t = Tree::new();
    let dir = t.root().join(OsStr::from_bytes(b"d\xe9j\xe0"));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(OsStr::from_bytes(b"f\xff.json"));
    std::fs::write(&file, "{}").unwrap();
    // Two names that display the same once made lossy are still two files.
    std::fs::write(dir.join(OsStr::from_bytes(b"f\xfe.json")), "{}").unwrap();
    let e = expand(&[t.root().display().to_string()]);
    assert_eq!(e.files.len(), 2);
    assert_eq!(e.files[1], file);
    let lossy = |n: &str| n.replace("\u{fffd}", "?");
    let got: Vec<(NoteKind, String)> = notes(&e, t.root())
        .into_iter()
        .map(|(k, m)| (k, lossy(&m)))
        .collect();
    assert_eq!(
        got,
        [
            (NoteKind::NotUtf8, "d?j?: its name is not valid UTF-8 (shown here with U+FFFD for the bytes that are not): walked as usual".into()),
            (NoteKind::NotUtf8, "d?j?/f?.json: its name is not valid UTF-8 (shown here with U+FFFD for the bytes that are not): read as usual".into()),
            (NoteKind::NotUtf8, "d?j?/f?.json: its name is not valid UTF-8 (shown here with U+FFFD for the bytes that are not): read as usual".into()),
        ]
    );
}

#[test]
fn very_deep_trees_are_walked_without_recursion() {
    let t = Tree::new();
    let mut rel = String::from("deep");
    for _ in 0..1500 {
        rel.push_str("/d");
    }
    t.file(&format!("{rel}/bottom.json"));
    let e = expand(&[t.s("deep")]);
    assert_eq!(e.files.len(), 1);
    assert!(e.files[0].ends_with("d/d/bottom.json"));
    assert!(e.notes.is_empty(), "{:?}", e.notes);
}

/// An unreadable folder inside a walked tree is noted and the walk goes on; a source that
/// cannot be read is an error. Root reads everything, so this runs in a user namespace
/// (`unshare -U`), where the test files' owner is unmapped and permissions apply.
#[test]
fn unreadable_folders_are_reported() {
    if std::env::var_os("SOURCES_FS_UNREADABLE").is_some() {
        return unreadable_child();
    }
    let t = Tree::new();
    t.file("logs/ok/1.json");
    t.file("logs/locked/2.json");
    t.file("locked-source/3.json");
    let lock = |p: &Path, mode| {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
    };
    lock(&t.at("logs/locked"), 0o000);
    lock(&t.at("locked-source"), 0o000);
    let exe = std::env::current_exe().unwrap();
    let args = [
        "--exact",
        "unreadable_folders_are_reported",
        "--nocapture",
        "--test-threads=1",
    ];
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    let mut cmd = if root {
        let mut c = std::process::Command::new("unshare");
        c.arg("-U").arg(&exe);
        c
    } else {
        std::process::Command::new(&exe)
    };
    let out = cmd
        .args(args)
        .env("SOURCES_FS_UNREADABLE", t.root())
        .output()
        .unwrap();
    lock(&t.at("logs/locked"), 0o755);
    lock(&t.at("locked-source"), 0o755);
    let stdout = String::from_utf8_lossy(&out.stdout);
    if root && !out.status.success() && stdout.is_empty() {
        eprintln!(
            "skipping: cannot run in a user namespace: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        return;
    }
    let lines: Vec<&str> = stdout.lines().filter(|l| l.starts_with("> ")).collect();
    assert_eq!(
        lines,
        [
            "> files: logs/ok/1.json",
            "> note Unreadable: logs/locked: cannot read folder: Permission denied (os error 13)",
            "> error: locked-source: cannot read folder: Permission denied (os error 13)",
        ],
        "{stdout}"
    );
}

fn unreadable_child() {
    let root = PathBuf::from(std::env::var_os("SOURCES_FS_UNREADABLE").unwrap());
    let prefix = format!("{}/", root.display());
    let e = expand_local_noted(&[root.join("logs").display().to_string()]).unwrap();
    println!();
    println!("> files: {}", files(&e, &root).join(", "));
    for n in &e.notes {
        println!(
            "> note {:?}: {}",
            n.kind,
            n.to_string().replace(&prefix, "")
        );
    }
    let err = expand_local_noted(&[root.join("locked-source").display().to_string()]).unwrap_err();
    println!("> error: {}", err.to_string().replace(&prefix, ""));
}
