//! The S3 flags: how S3 is reached (`--endpoint-url`, `--profile`) and, where there are
//! `s3://` sources, which delivery days to read (`--since`, `--until`).

use clap::Args;

/// How S3 is reached: `s3://` sources, a store in S3, a cluster process's reads of it.
#[derive(Args, Clone, Default)]
pub(crate) struct S3AccessArgs {
    /// S3-compatible endpoint for s3:// sources and stores, e.g. http://127.0.0.1:9000.
    #[arg(long = "endpoint-url", env = "AWS_ENDPOINT_URL", value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// The AWS profile for S3 (default: $AWS_PROFILE, else `default`); SSO, role_arn and
    /// credential_process profiles work as in the AWS CLI.
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
}

impl S3AccessArgs {
    pub(crate) fn options(&self) -> sources::S3Options {
        sources::S3Options {
            endpoint_url: self.endpoint_url.clone(),
            profile: self.profile.clone(),
            cache_dir: None,
        }
    }
}

/// Where `s3://` sources are read from, and day limits for every source.
#[derive(Args, Clone, Default)]
pub(crate) struct S3Args {
    #[command(flatten)]
    pub access: S3AccessArgs,
    /// Only read log files delivered on or after this date (YYYY-MM-DD or a timestamp),
    /// judged by their AWSLogs/…/YYYY/MM/DD/ folder (a day of slack either side).
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    /// Only read log files delivered on or before this date (see --since).
    #[arg(long, value_name = "DATE")]
    pub until: Option<String>,
}

impl S3Args {
    /// How S3 is reached (sources and a store in S3).
    pub(crate) fn options(&self) -> sources::S3Options {
        self.access.options()
    }
}
