//! The AWS credential chain as S3 sources use it, offline: a profile whose keys come from
//! `credential_process`, and a profile that assumes a role (`role_arn` + `source_profile`)
//! through a local moto STS. One test function, because the chain reads process-wide
//! environment variables that parallel tests would race on.

use std::path::Path;
use testkit::Moto;

/// Variables of the developer's or CI's own AWS setup that would otherwise take part.
const AMBIENT: &[&str] = &[
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ENDPOINT_URL",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
];

fn resolve(profile: &str) -> Result<(String, bool), String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(sources::s3::credentials::resolve(Some(profile)))
        .map_err(|e| e.to_string())
}

fn write_config(dir: &Path, text: &str) {
    std::fs::write(dir.join("config"), text).unwrap();
    std::env::set_var("AWS_CONFIG_FILE", dir.join("config"));
}

#[test]
fn profiles_resolve_through_the_sdk_chain() {
    let dir = tempfile::tempdir().unwrap();
    for v in AMBIENT {
        std::env::remove_var(v);
    }
    std::fs::write(dir.path().join("credentials"), "").unwrap();
    std::env::set_var(
        "AWS_SHARED_CREDENTIALS_FILE",
        dir.path().join("credentials"),
    );
    // No instance metadata service here: don't wait for one.
    std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");

    // credential_process: the keys are whatever the program prints.
    let script = dir.path().join("creds.sh");
    std::fs::write(
        &script,
        "#!/bin/sh\necho '{\"Version\": 1, \"AccessKeyId\": \"AKIDFROMPROCESS\", \"SecretAccessKey\": \"secret\", \"SessionToken\": \"tok\"}'\n",
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    write_config(
        dir.path(),
        &format!(
            "[profile proc]\ncredential_process = {}\nregion = eu-west-1\n\n[profile static]\naws_access_key_id = AKIDSTATIC\naws_secret_access_key = s\n",
            script.display()
        ),
    );
    assert_eq!(
        resolve("proc").unwrap(),
        ("AKIDFROMPROCESS".to_string(), true)
    );
    assert_eq!(
        resolve("static").unwrap(),
        ("AKIDSTATIC".to_string(), false)
    );
    // A profile that does not exist names what to check.
    let err = resolve("nope").unwrap_err();
    assert!(err.contains("no usable AWS credentials"), "{err}");
    assert!(err.contains("--profile"), "{err}");

    // assume-role: role_arn + source_profile, the STS call answered by moto.
    let Some(py) = testkit::require_python(&["moto", "flask"]) else {
        return;
    };
    let Some(moto) = Moto::start(&py, &[]) else {
        return;
    };
    write_config(
        dir.path(),
        &format!(
            "[profile base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = s\nregion = us-east-1\n\n[profile assumer]\nrole_arn = arn:aws:iam::123456789012:role/hunter\nsource_profile = base\nregion = us-east-1\nendpoint_url = {}\n",
            moto.url
        ),
    );
    let (key, temporary) = resolve("assumer").unwrap();
    assert_ne!(key, "AKIDBASE", "the source profile's keys were used as is");
    assert!(temporary, "assumed-role credentials carry a session token");
    assert!(
        key.starts_with("ASIA"),
        "{key}: not STS temporary credentials"
    );
}
