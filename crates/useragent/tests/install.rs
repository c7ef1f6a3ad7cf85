//! `install::update` from a local copy and from a loopback HTTP server: the pinned file is
//! installed (and not fetched again), a file with another hash or an HTTP error is refused
//! and leaves the installed copy as it was.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;

use useragent::install::{self, InstallError, Source};

/// Serves `responses` (status line, body), one per connection, on a loopback port.
fn serve(responses: Vec<(&'static str, Vec<u8>)>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for (status, body) in responses {
            let Ok((mut conn, _)) = listener.accept() else {
                return;
            };
            let mut req = Vec::new();
            let mut buf = [0u8; 1024];
            while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                match conn.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => req.extend_from_slice(&buf[..n]),
                }
            }
            let head = format!(
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = conn.write_all(head.as_bytes());
            let _ = conn.write_all(&body);
        }
    });
    format!("http://{addr}/ua-parser/uap-core/regexes.yaml")
}

fn shared_rules() -> Option<Vec<u8>> {
    let p = testkit::require_shared("uap/regexes.yaml")?;
    Some(std::fs::read(p).unwrap())
}

#[test]
fn installs_the_pinned_file_from_a_copy_once() {
    let Some(bytes) = shared_rules() else { return };
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("regexes.yaml");
    std::fs::write(&copy, &bytes).unwrap();
    let home = dir.path().join("home");
    let done = install::update(&Source::File(copy.clone()), &home).unwrap();
    assert_eq!(done.path, install::installed_path(&home));
    assert_eq!(done.rules, [362, 197, 629]);
    assert_eq!(done.source.as_deref(), Some(copy.to_str().unwrap()));
    assert_eq!(std::fs::read(&done.path).unwrap(), bytes);
    assert_eq!(install::installed(&home), Some(done.path.clone()));
    // Already there: nothing is read (the source may even be gone).
    let again = install::update(&Source::File(dir.path().join("gone.yaml")), &home).unwrap();
    assert_eq!(again.source, None);
    // No temporary file is left beside it.
    let names: Vec<String> = std::fs::read_dir(done.path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["regexes.yaml"]);
}

#[test]
fn downloads_verify_the_hash_and_keep_the_old_copy_on_failure() {
    let Some(bytes) = shared_rules() else { return };
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");

    // A corrupted download (one byte changed) and a 404 are refused; nothing is installed.
    let mut bad = bytes.clone();
    bad[100] ^= 1;
    let url = serve(vec![("200 OK", bad), ("404 Not Found", b"no".to_vec())]);
    let e = install::update(&Source::Url(url.clone()), &home).unwrap_err();
    assert!(matches!(e, InstallError::Checksum { .. }), "{e}");
    assert!(e.to_string().starts_with(&url), "{e}");
    let e = install::update(&Source::Url(url.clone()), &home).unwrap_err();
    assert!(matches!(e, InstallError::HttpStatus { .. }), "{e}");
    assert!(install::installed(&home).is_none());

    // The right bytes install.
    let url = serve(vec![("200 OK", bytes.clone())]);
    let done = install::update(&Source::Url(url.clone()), &home).unwrap();
    assert_eq!(done.source.as_deref(), Some(url.as_str()));
    assert_eq!(std::fs::read(&done.path).unwrap(), bytes);

    // An installed copy that was damaged is replaced; a failed replacement keeps it.
    std::fs::write(&done.path, b"user_agent_parsers: []\n").unwrap();
    let url = serve(vec![("500 Internal Server Error", Vec::new())]);
    assert!(install::update(&Source::Url(url), &home).is_err());
    assert_eq!(
        std::fs::read(&done.path).unwrap(),
        b"user_agent_parsers: []\n"
    );
    let copy = dir.path().join("copy.yaml");
    std::fs::write(&copy, &bytes).unwrap();
    install::update(&Source::File(copy), &home).unwrap();
    assert_eq!(std::fs::read(Path::new(&done.path)).unwrap(), bytes);
}
