//! `--geoip` / `--asn`: the GeoIP databases for `source.geo.*` and `source.as.*` (see the
//! `geoip` crate), and `--ua-regexes` for `user_agent.*` (see `ua_cmd`): the enrichment every
//! command that normalizes records shares.

use anyhow::{anyhow, Result};
use clap::Args;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Args, Clone, Default)]
pub(crate) struct GeoArgs {
    /// A MaxMind-format City or Country database (GeoLite2, GeoIP2 or DB-IP .mmdb): fills
    /// source.geo.* from source.ip as Elasticsearch's geoip processor does. Applies to
    /// records read now (raw input, ingest, normalize); a store keeps what its ingest wrote.
    #[arg(long, env = "TRAILHUNT_GEOIP", value_name = "FILE.mmdb")]
    pub geoip: Option<PathBuf>,
    /// A MaxMind-format ASN database (GeoLite2-ASN, DB-IP ASN): fills source.as.number and
    /// source.as.organization.name.
    #[arg(long, env = "TRAILHUNT_ASN", value_name = "FILE.mmdb")]
    pub asn: Option<PathBuf>,
    #[command(flatten)]
    pub ua: crate::ua_cmd::UaArgs,
}

impl GeoArgs {
    /// The enrichment steps (GeoIP, then the user agent), or `None` without databases or
    /// rules. Errors name the option and the file (missing, not an .mmdb, the wrong kind of
    /// database, a rules file that does not parse).
    pub(crate) fn enrich(&self) -> Result<Option<Arc<dyn cloudtrail::Enrich>>> {
        let mut steps: Vec<Arc<dyn cloudtrail::Enrich>> = Vec::new();
        if self.geoip.is_some() || self.asn.is_some() {
            let g =
                geoip::GeoIp::open(self.geoip.as_deref(), self.asn.as_deref()).map_err(|e| {
                    let flag = match e.role() {
                        geoip::Role::Geo => "--geoip",
                        geoip::Role::Asn => "--asn",
                    };
                    anyhow!("{flag}: {e}")
                })?;
            steps.push(Arc::new(g));
        }
        steps.extend(self.ua.enrich()?);
        Ok(cloudtrail::enrich::Chain::of(steps))
    }
}
