//! Library-level tests: the real Elastic hunting library (when the shared copy
//! is present), the built-in seed, resolution and duplicate handling.

use std::fs;
use std::path::PathBuf;

use hunts::{builtin, parse_hunt, Library, Origin, ResolveError};

const SEED_STEM: &str = "multiple_service_logging_deleted_or_stopped";
const SEED_UUID: &str = "d74f8928-5e46-11ef-9488-f661ea17fbce";

/// `../shared/hunts/elastic`, or a skip (a failure under `TRAILHUNT_REQUIRE_SHARED=1`).
fn elastic() -> Option<PathBuf> {
    testkit::require_shared("hunts/elastic")
}

/// A fresh scratch directory per test, removed when the returned guard drops.
fn scratch(name: &str) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::Builder::new()
        .prefix(&format!("hunts-test-{name}-"))
        .tempdir()
        .unwrap();
    let dir = tmp.path().to_path_buf();
    (tmp, dir)
}

fn hunt_toml(uuid: &str, name: &str) -> String {
    format!(
        "[hunt]\nauthor = \"t\"\ndescription = \"d\"\nintegration = [\"aws.cloudtrail\"]\n\
         uuid = \"{uuid}\"\nname = \"{name}\"\nlanguage = [\"ES|QL\"]\nlicense = \"x\"\n\
         notes = []\nmitre = []\nquery = ['''from logs-aws.cloudtrail-* | keep event.action''']\n"
    )
}

#[test]
fn whole_elastic_library_parses() {
    let Some(root) = elastic() else { return };
    let mut lib = Library::new();
    let errors = lib.add_dir(&root);
    assert!(errors.is_empty(), "{errors:#?}");
    let files: Vec<_> = lib
        .hunts()
        .iter()
        .filter(|h| matches!(h.origin, Origin::File(_)))
        .collect();
    assert_eq!(files.len(), 140);
    let queries: usize = files.iter().map(|h| h.queries.len()).sum();
    assert_eq!(queries, 239);
    // The seed file replaced the built-in (same UUID); our own built-ins stay.
    assert_eq!(lib.hunts().len(), 140 + hunts::builtin().len() - 1);
    let seed = lib.resolve(SEED_STEM).unwrap();
    assert!(seed.origin != Origin::BuiltIn);
    // Upstream's copy has the same query, so it keeps the built-in's pivots.
    let builtin_seed = hunts::builtin()
        .into_iter()
        .find(|h| h.uuid == seed.uuid)
        .unwrap();
    assert!(!builtin_seed.pivots.is_empty());
    assert_eq!(seed.pivots, builtin_seed.pivots);

    let aws: Vec<_> = lib
        .for_integration("aws.cloudtrail")
        .into_iter()
        .filter(|h| h.origin != Origin::BuiltIn)
        .collect();
    assert_eq!(aws.len(), 24);
    assert!(aws.iter().all(|h| h.platform() == Some("aws")));
    assert!(files.iter().all(|h| h.author == "Elastic"));
    assert!(files.iter().all(|h| h.license == "Elastic License v2"));
    assert_eq!(
        files.iter().filter(|h| !h.references.is_empty()).count(),
        27
    );
    let multi = files.iter().filter(|h| h.queries.len() > 1).count();
    assert_eq!(multi, 44);

    let seed = lib.resolve(SEED_STEM).unwrap();
    assert_eq!(seed.uuid, SEED_UUID);
    assert_eq!(seed.notes.len(), 7);
    assert_eq!(seed.notes[6], "");
    assert_eq!(seed.mitre, ["T1562.008"]);

    // Upstream has two macOS pairs sharing a UUID; both files are kept.
    let dups = lib.duplicate_uuids();
    assert_eq!(dups.len(), 2, "{dups:#?}");
    let uuid = dups[0][0].uuid.clone();
    assert!(matches!(
        lib.resolve(&uuid),
        Err(ResolveError::Ambiguous { .. })
    ));
}

#[test]
fn builtin_query_is_byte_identical_to_upstream() {
    let Some(root) = elastic() else { return };
    let path = root.join("aws/queries").join(format!("{SEED_STEM}.toml"));
    let text = fs::read_to_string(&path).unwrap();
    let upstream = parse_hunt(&text, Origin::File(path), SEED_STEM).unwrap();
    let ours = builtin().remove(0);
    assert_eq!(ours.queries, upstream.queries);
    assert_eq!(ours.queries[0].as_bytes(), upstream.queries[0].as_bytes());
    for field in [
        (&ours.uuid, &upstream.uuid),
        (&ours.name, &upstream.name),
        (&ours.author, &upstream.author),
        (&ours.license, &upstream.license),
    ] {
        assert_eq!(field.0, field.1);
    }
    assert_eq!(ours.integration, upstream.integration);
    assert_eq!(ours.language, upstream.language);
    assert_eq!(ours.mitre, upstream.mitre);
    // Our prose is our own.
    assert_ne!(ours.description, upstream.description);
    assert!(ours.notes.iter().all(|n| !upstream.notes.contains(n)));
}

#[test]
fn resolve_builtin_by_stem_uuid_name_and_path() {
    let lib = Library::new();
    assert_eq!(lib.resolve(SEED_STEM).unwrap().uuid, SEED_UUID);
    assert_eq!(lib.resolve(SEED_UUID).unwrap().stem, SEED_STEM);
    assert_eq!(
        lib.resolve(&SEED_UUID.to_uppercase()).unwrap().stem,
        SEED_STEM
    );
    assert_eq!(
        lib.resolve("multiple service logging deleted or stopped")
            .unwrap()
            .stem,
        SEED_STEM
    );
    // A non-existent path falls back to its stem.
    let h = lib.resolve(&format!("nowhere/{SEED_STEM}.toml")).unwrap();
    assert_eq!(h.origin, Origin::BuiltIn);

    let (_tmp, dir) = scratch("path");
    let file = dir.join("my_hunt.toml");
    fs::write(
        &file,
        hunt_toml("aaaaaaaa-0000-0000-0000-000000000001", "Mine"),
    )
    .unwrap();
    let h = lib.resolve(file.to_str().unwrap()).unwrap();
    assert_eq!(h.stem, "my_hunt");
    assert_eq!(h.origin, Origin::File(file.clone()));
    assert_eq!(h.platform(), Some("aws"));
}

#[test]
fn resolve_suggests_near_matches() {
    let lib = Library::new();
    let err = lib
        .resolve("multiple_service_loging_deleted_or_stoped")
        .unwrap_err();
    match &err {
        ResolveError::NotFound { suggestions, .. } => assert_eq!(suggestions, &[SEED_STEM]),
        other => panic!("{other:?}"),
    }
    assert!(err
        .to_string()
        .contains("did you mean multiple_service_logging_deleted_or_stopped?"));
    // Partial names are suggested too.
    let err = lib.resolve("logging_deleted").unwrap_err();
    assert!(err.to_string().contains(SEED_STEM), "{err}");
    let err = lib.resolve("zzz").unwrap_err();
    assert!(!err.to_string().contains("did you mean"), "{err}");
}

#[test]
fn resolve_bad_path_reports_file_and_line() {
    let (_tmp, dir) = scratch("badpath");
    let file = dir.join("broken.toml");
    fs::write(&file, "[hunt]\nuuid = \"u\"\nname = [\n").unwrap();
    let err = Library::new().resolve(file.to_str().unwrap()).unwrap_err();
    assert!(matches!(err, ResolveError::Load(_)));
    let msg = err.to_string();
    assert!(msg.starts_with(&format!("{}:", file.display())), "{msg}");
    assert!(msg.contains(":3:") || msg.contains(":4:"), "{msg}");
}

#[test]
fn add_dir_reports_bad_files_and_loads_the_rest() {
    let (_tmp, dir) = scratch("adddir");
    fs::create_dir_all(dir.join("aws/queries")).unwrap();
    fs::create_dir_all(dir.join(".git")).unwrap();
    fs::write(dir.join(".git/ignored.toml"), "not toml at all [").unwrap();
    fs::write(
        dir.join("aws/queries/good.toml"),
        hunt_toml("bbbbbbbb-0000-0000-0000-000000000001", "Good"),
    )
    .unwrap();
    fs::write(
        dir.join("aws/queries/bad.toml"),
        "[hunt]\nname = \"n\"\nquery = [\"from x\"]\n",
    )
    .unwrap();
    fs::write(dir.join("README.md"), "# not a hunt").unwrap();

    let mut lib = Library::new();
    let errors = lib.add_dir(&dir);
    assert_eq!(errors.len(), 1, "{errors:#?}");
    let msg = errors[0].to_string();
    assert!(
        msg.contains("bad.toml:1:1:") && msg.contains("`uuid`"),
        "{msg}"
    );
    assert_eq!(errors[0].position(), Some((1, 1)));
    let builtins = hunts::builtin().len();
    assert_eq!(lib.hunts().len(), builtins + 1);
    assert_eq!(lib.resolve("good").unwrap().platform(), Some("aws"));
    assert_eq!(lib.for_integration("aws.cloudtrail").len(), builtins + 1);
    assert!(lib.for_integration("okta").is_empty());

    // Loading the same directory again does not duplicate anything.
    lib.add_dir(&dir);
    assert_eq!(lib.hunts().len(), builtins + 1);

    let missing = lib.add_dir(&dir.join("nope"));
    assert_eq!(missing.len(), 1);
    assert!(missing[0].position().is_none());
}

#[test]
fn duplicate_uuid_handling() {
    let (_tmp, dir) = scratch("dups");
    // Same UUID as the built-in, different stem: replaces the built-in.
    fs::write(dir.join("tuned_seed.toml"), hunt_toml(SEED_UUID, "Tuned")).unwrap();
    // Two files sharing a UUID: both kept, the UUID is ambiguous.
    let shared = "cccccccc-0000-0000-0000-000000000001";
    fs::write(dir.join("one.toml"), hunt_toml(shared, "One")).unwrap();
    fs::write(dir.join("two.toml"), hunt_toml(shared, "Two")).unwrap();

    let mut lib = Library::new();
    assert!(lib.add_dir(&dir).is_empty());
    // The seed was replaced; the other built-ins stay.
    assert_eq!(lib.hunts().len(), hunts::builtin().len() - 1 + 3);
    let seed = lib.resolve(SEED_UUID).unwrap();
    assert_eq!(seed.stem, "tuned_seed");
    assert!(matches!(seed.origin, Origin::File(_)));
    assert!(lib.resolve(SEED_STEM).is_err());

    let err = lib.resolve(shared).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("one (") && msg.contains("two ("), "{msg}");
    assert_eq!(lib.resolve("one").unwrap().name, "One");
    let dups = lib.duplicate_uuids();
    assert_eq!(dups.len(), 1);
    assert_eq!(dups[0].len(), 2);
}

#[test]
fn detection_rules_checkout_reads_hunting_and_rules_only() {
    let (_tmp, dir) = scratch("checkout");
    fs::create_dir_all(dir.join("rules/aws")).unwrap();
    fs::write(
        dir.join("rules/aws/r.toml"),
        "[rule]\nrule_id = \"r-1\"\nname = \"x\"\nlanguage = \"esql\"\nquery = \"from logs-aws.cloudtrail-*\"\n",
    )
    .unwrap();
    // Elsewhere in a checkout: configs and test data, not hunts.
    fs::create_dir_all(dir.join("detection_rules/etc")).unwrap();
    fs::write(dir.join("detection_rules/etc/x.toml"), "a = 1\n").unwrap();
    fs::create_dir_all(dir.join("hunting/okta/queries")).unwrap();
    let mut text = hunt_toml("dddddddd-0000-0000-0000-000000000001", "Okta one");
    text = text.replace("aws.cloudtrail", "okta");
    fs::write(dir.join("hunting/okta/queries/o.toml"), text).unwrap();
    let mut lib = Library::new();
    assert!(lib.add_dir(&dir).is_empty());
    assert_eq!(lib.resolve("o").unwrap().platform(), Some("okta"));
    let rule = lib.resolve("r-1").unwrap();
    assert_eq!(rule.rule().unwrap().rule_id, "r-1");
    assert!(lib.for_cloudtrail().iter().any(|h| h.uuid == "r-1"));
    assert_eq!(lib.provenance(&rule), hunts::Provenance::Dir(dir.clone()));
}
