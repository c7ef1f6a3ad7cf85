//! `--geoip` / `--asn`: the GeoIP databases for `source.geo.*` and `source.as.*` (see the
//! `geoip` crate), shared by every command that normalizes records.

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
}

impl GeoArgs {
    /// The enrichment step, or `None` without databases. Errors name the option and the
    /// file (missing, not an .mmdb, or the wrong kind of database).
    pub(crate) fn enrich(&self) -> Result<Option<Arc<dyn cloudtrail::Enrich>>> {
        if self.geoip.is_none() && self.asn.is_none() {
            return Ok(None);
        }
        let g = geoip::GeoIp::open(self.geoip.as_deref(), self.asn.as_deref()).map_err(|e| {
            let flag = match e.role() {
                geoip::Role::Geo => "--geoip",
                geoip::Role::Asn => "--asn",
            };
            anyhow!("{flag}: {e}")
        })?;
        Ok(Some(Arc::new(g)))
    }
}
