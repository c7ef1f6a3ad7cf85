//! The AWS SDK's configuration chain (`aws-config`), wired into object_store's S3 client:
//! environment variables, the shared `config`/`credentials` files and profiles
//! (`AWS_PROFILE` or `--profile`), IAM Identity Center (SSO), assume-role (`role_arn` with
//! `source_profile` or `credential_source`), `credential_process`, web identity tokens, and
//! the ECS/EC2 instance roles — the same resolution the AWS CLI does, maintained by AWS
//! rather than re-implemented here. Temporary credentials are cached until shortly before
//! they expire and then fetched again, so a long scan never signs with an expired key.

use crate::S3Options;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use object_store::aws::{AwsCredential, AwsCredentialProvider};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// What the chain resolved for S3.
pub(crate) struct AwsSettings {
    pub region: String,
    /// `--endpoint-url`, else `AWS_ENDPOINT_URL` / the profile's `endpoint_url`.
    pub endpoint_url: Option<String>,
    pub credentials: AwsCredentialProvider,
}

impl AwsSettings {
    pub(crate) async fn load(opts: &S3Options) -> AwsSettings {
        let conf = sdk_config(opts.profile.as_deref()).await;
        let region = conf
            .region()
            .map(|r| r.as_ref().to_string())
            .unwrap_or_else(|| "us-east-1".to_string());
        let endpoint_url = opts
            .endpoint_url
            .clone()
            .or_else(|| conf.endpoint_url().map(str::to_string));
        AwsSettings {
            region,
            endpoint_url,
            credentials: Arc::new(SdkCredentials::new(conf.credentials_provider())),
        }
    }
}

/// The SDK's configuration for a profile (`None`: `AWS_PROFILE`, else `default`), with an
/// HTTPS client on rustls and ring (the TLS stack object_store already brings).
pub async fn sdk_config(profile: Option<&str>) -> aws_config::SdkConfig {
    use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https();
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest()).http_client(http);
    if let Some(p) = profile {
        loader = loader.profile_name(p);
    }
    loader.load().await
}

/// Resolves the chain once, as S3 requests would: for tests and for a user checking which
/// identity a profile gives. Returns the access key id and whether the credentials are
/// temporary (carry a session token).
pub async fn resolve(profile: Option<&str>) -> Result<(String, bool), crate::SourceError> {
    let failed = |detail: &str| crate::SourceError::Credentials(no_credentials_hint(detail));
    let conf = sdk_config(profile).await;
    let provider = conf
        .credentials_provider()
        .ok_or_else(|| failed("no credentials provider"))?;
    let c = provider
        .provide_credentials()
        .await
        .map_err(|e| failed(&format!("{e}: {e:?}")))?;
    Ok((c.access_key_id().to_string(), c.session_token().is_some()))
}

/// Whether an S3 error text comes from resolving credentials, not from S3 itself.
pub(crate) fn is_credential_error(text: &str) -> bool {
    text.contains(CREDENTIALS_TAG)
}

/// Marks credential failures so [`is_credential_error`] can tell them from S3's answers.
const CREDENTIALS_TAG: &str = "[aws credentials]";

/// One sentence naming what to check when no credentials could be resolved.
pub(crate) fn no_credentials_hint(detail: &str) -> String {
    let detail = detail
        .split(CREDENTIALS_TAG)
        .last()
        .unwrap_or(detail)
        .lines()
        .next()
        .unwrap_or("")
        .trim();
    let detail: String = detail.chars().take(300).collect();
    format!(
        "no usable AWS credentials ({detail}); set AWS_PROFILE or --profile (SSO, role_arn and credential_process profiles work; for SSO run `aws sso login` first), or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run with an instance or container role"
    )
}

struct Cached {
    credential: Arc<AwsCredential>,
    expires: Option<SystemTime>,
}

/// object_store's credential provider over the SDK's, with a cache.
struct SdkCredentials {
    provider: Option<SharedCredentialsProvider>,
    cached: tokio::sync::Mutex<Option<Cached>>,
}

impl std::fmt::Debug for SdkCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SdkCredentials")
    }
}

impl SdkCredentials {
    fn new(provider: Option<SharedCredentialsProvider>) -> SdkCredentials {
        SdkCredentials {
            provider,
            cached: tokio::sync::Mutex::new(None),
        }
    }
}

/// Credentials are refreshed this long before they expire (a request signed just before
/// expiry may still be in flight when it arrives).
const REFRESH_MARGIN: Duration = Duration::from_secs(300);

#[async_trait::async_trait]
impl object_store::CredentialProvider for SdkCredentials {
    type Credential = AwsCredential;

    async fn get_credential(&self) -> object_store::Result<Arc<AwsCredential>> {
        let mut cached = self.cached.lock().await;
        if let Some(c) = cached.as_ref() {
            let fresh = c
                .expires
                .is_none_or(|t| t > SystemTime::now() + REFRESH_MARGIN);
            if fresh {
                return Ok(c.credential.clone());
            }
        }
        let failed = |detail: String| object_store::Error::Generic {
            store: "S3",
            source: format!("{CREDENTIALS_TAG}{detail}").into(),
        };
        let provider = self
            .provider
            .as_ref()
            .ok_or_else(|| failed("no credentials provider is configured".into()))?;
        let c = provider
            .provide_credentials()
            .await
            .map_err(|e| failed(format!("{e}: {e:?}")))?;
        let credential = Arc::new(AwsCredential {
            key_id: c.access_key_id().to_string(),
            secret_key: c.secret_access_key().to_string(),
            token: c.session_token().map(str::to_string),
        });
        *cached = Some(Cached {
            credential: credential.clone(),
            expires: c.expiry(),
        });
        Ok(credential)
    }
}
