//! GeoIP for CloudTrail documents: `source.geo.*` and `source.as.*` from MaxMind-format
//! databases the user supplies, exactly as Elastic's `aws` integration gets them from
//! Elasticsearch's `geoip` processor.
//!
//! The integration's pipeline runs two `geoip` processors on `source.ip`: one with a City (or
//! Country) database into `source.geo`, with the processor's default properties, and one with
//! an ASN database into `source.as` (`asn`, `organization_name`), which it then renames to
//! `source.as.number` and `source.as.organization.name`. [`GeoIp`] reproduces both from the
//! same files: English names, `region_iso_code` as `COUNTRY-SUBDIVISION` of the most
//! specific subdivision, `location` as `{"lat": …, "lon": …}`, and no field for a value the
//! database does not hold. Addresses the database does not know (private ranges, loopback)
//! get nothing, and so do documents without `source.ip` (service names such as
//! `ec2.amazonaws.com` in `source.address` are never looked up).
//!
//! The mapping spec (`docs/ecs-cloudtrail-mapping.md` §2.7) says trailhunt skips GeoIP; that
//! stays the default — without databases no field is written — and this crate is the opt-in
//! (`--geoip`, `--asn`), because the values depend on the exact database build and only the
//! user's own copy can give the values their cluster would have.
//!
//! GeoLite2, GeoIP2 and DB-IP's "lite" databases share the MaxMind DB format and record
//! layout, so any of them works; the kind is read from the file's own metadata
//! (`database_type`), never from its name.

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use maxminddb::Reader;
use serde::Deserialize;
use serde_json::{Map, Number, Value};

/// Distinct addresses whose results are kept. CloudTrail holds few distinct callers (a
/// 100k-event account has hundreds), so the cache nearly always hits; when it fills up it
/// starts over, which bounds memory on a pathological input.
const CACHE_ENTRIES: usize = 16_384;

/// What a database holds, from its `database_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    City,
    Country,
    Asn,
}

impl Kind {
    /// `GeoLite2-City`, `GeoIP2-City`, `DBIP-City-Lite`, … → City; likewise Country and ASN.
    fn of(database_type: &str) -> Option<Kind> {
        let t = database_type.to_ascii_lowercase();
        if t.contains("city") {
            Some(Kind::City)
        } else if t.contains("country") {
            Some(Kind::Country)
        } else if t.contains("asn") {
            Some(Kind::Asn)
        } else {
            None
        }
    }

    fn article(self) -> &'static str {
        match self {
            Kind::City => "a City",
            Kind::Country => "a Country",
            Kind::Asn => "an ASN",
        }
    }
}

/// Which of the two databases an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The location database (City or Country): `source.geo.*`.
    Geo,
    /// The autonomous-system database: `source.as.*`.
    Asn,
}

impl Role {
    fn wants(self) -> &'static str {
        match self {
            Role::Geo => "a City or Country database",
            Role::Asn => "an ASN database",
        }
    }

    fn accepts(self, kind: Kind) -> bool {
        match self {
            Role::Geo => matches!(kind, Kind::City | Kind::Country),
            Role::Asn => kind == Kind::Asn,
        }
    }
}

/// Why a database cannot be used; every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum GeoIpError {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        role: Role,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} is not a MaxMind DB (.mmdb) file: {message}", path.display())]
    NotMmdb {
        role: Role,
        path: PathBuf,
        message: String,
    },
    #[error("{}", wrong_kind(*role, path, database_type, *found))]
    WrongKind {
        role: Role,
        path: PathBuf,
        database_type: String,
        found: Option<Kind>,
    },
}

fn wrong_kind(role: Role, path: &Path, database_type: &str, found: Option<Kind>) -> String {
    let what = match found {
        Some(k) => format!("{} database", k.article()),
        None => "a database of another kind".to_string(),
    };
    format!(
        "{} is {what} (database_type \"{database_type}\"), but {} is needed here",
        path.display(),
        role.wants()
    )
}

impl GeoIpError {
    /// The database the error is about (for the caller to name its option).
    pub fn role(&self) -> Role {
        match self {
            GeoIpError::Read { role, .. }
            | GeoIpError::NotMmdb { role, .. }
            | GeoIpError::WrongKind { role, .. } => *role,
        }
    }
}

struct Db {
    kind: Kind,
    reader: Reader<Vec<u8>>,
}

impl Db {
    fn open(path: &Path, role: Role) -> Result<Db, GeoIpError> {
        let bytes = std::fs::read(path).map_err(|source| GeoIpError::Read {
            role,
            path: path.to_path_buf(),
            source,
        })?;
        let reader = Reader::from_source(bytes).map_err(|e| GeoIpError::NotMmdb {
            role,
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        let database_type = reader.metadata().database_type.clone();
        match Kind::of(&database_type) {
            Some(kind) if role.accepts(kind) => Ok(Db { kind, reader }),
            found => Err(GeoIpError::WrongKind {
                role,
                path: path.to_path_buf(),
                database_type,
                found,
            }),
        }
    }

    /// The record for `ip`, decoded as `T`; `None` when the database has no data for it. A
    /// record that does not decode (a damaged file) counts as no data: Elasticsearch would
    /// fail the document's processor, and a hunt is better served by the event without
    /// GeoIP than by no event.
    fn record<'a, T: Deserialize<'a>>(&'a self, ip: IpAddr) -> Option<T> {
        self.reader.lookup(ip).ok()?.decode::<T>().ok().flatten()
    }
}

/// What one address resolves to: the `source.geo` and `source.as` objects to write (each
/// absent when its database is not given or holds nothing for the address).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Found {
    pub geo: Option<Map<String, Value>>,
    pub asn: Option<Map<String, Value>>,
}

/// The opened databases and a cache of their answers; an [`cloudtrail::Enrich`] step.
pub struct GeoIp {
    geo: Option<Db>,
    asn: Option<Db>,
    cache: Mutex<HashMap<IpAddr, Arc<Found>>>,
}

impl fmt::Debug for GeoIp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GeoIp")
            .field("geo", &self.geo.as_ref().map(|d| d.kind))
            .field("asn", &self.asn.is_some())
            .finish()
    }
}

impl GeoIp {
    /// Reads the databases (each file once, into memory) and checks their kind: `geo` must
    /// be a City or Country database, `asn` an ASN database.
    pub fn open(geo: Option<&Path>, asn: Option<&Path>) -> Result<GeoIp, GeoIpError> {
        Ok(GeoIp {
            geo: geo.map(|p| Db::open(p, Role::Geo)).transpose()?,
            asn: asn.map(|p| Db::open(p, Role::Asn)).transpose()?,
            cache: Mutex::new(HashMap::new()),
        })
    }

    /// The kind of the location database, if one was given.
    pub fn geo_kind(&self) -> Option<Kind> {
        self.geo.as_ref().map(|d| d.kind)
    }

    /// Whether an ASN database was given.
    pub fn has_asn(&self) -> bool {
        self.asn.is_some()
    }

    /// The fields for `ip` (cached per address).
    pub fn lookup(&self, ip: IpAddr) -> Arc<Found> {
        // Java reads `::ffff:a.b.c.d` as the IPv4 address, and so does the processor.
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        let lock = || self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(hit) = lock().get(&ip) {
            return Arc::clone(hit);
        }
        let found = Arc::new(Found {
            geo: self.geo.as_ref().and_then(|db| geo_fields(db, ip)),
            asn: self.asn.as_ref().and_then(|db| asn_fields(db, ip)),
        });
        let mut cache = lock();
        if cache.len() >= CACHE_ENTRIES {
            cache.clear();
        }
        cache.insert(ip, Arc::clone(&found));
        found
    }
}

impl cloudtrail::Enrich for GeoIp {
    fn enrich(&self, doc: &mut Map<String, Value>) {
        let Some(source) = doc.get_mut("source").and_then(Value::as_object_mut) else {
            return;
        };
        let Some(ip) = source
            .get("ip")
            .and_then(Value::as_str)
            .and_then(cloudtrail::ip::parse)
        else {
            return;
        };
        let found = self.lookup(ip);
        if let Some(geo) = &found.geo {
            source.insert("geo".into(), Value::Object(geo.clone()));
        }
        if let Some(asn) = &found.asn {
            source.insert("as".into(), Value::Object(asn.clone()));
        }
    }

    fn reads(&self) -> Option<Vec<&'static str>> {
        Some(vec!["source.ip"])
    }

    fn writes(&self, name: &str) -> bool {
        (self.geo.is_some() && name.starts_with("source.geo."))
            || (self.asn.is_some() && name.starts_with("source.as."))
    }
}

/// `names` of a GeoIP2 place; the processor reads the English one.
#[derive(Deserialize, Default)]
struct Names<'a> {
    #[serde(borrow)]
    en: Option<&'a str>,
}

#[derive(Deserialize, Default)]
struct Place<'a> {
    #[serde(borrow, default)]
    names: Names<'a>,
}

#[derive(Deserialize, Default)]
struct Coded<'a> {
    #[serde(borrow)]
    iso_code: Option<&'a str>,
    #[serde(borrow, default)]
    names: Names<'a>,
}

#[derive(Deserialize, Default)]
struct Location {
    latitude: Option<f64>,
    longitude: Option<f64>,
}

/// The parts of a City or Country record the default properties read (a Country record
/// simply has no `city`, `subdivisions` or `location`).
#[derive(Deserialize)]
struct GeoRecord<'a> {
    #[serde(borrow, default)]
    city: Place<'a>,
    #[serde(borrow, default)]
    continent: Place<'a>,
    #[serde(borrow, default)]
    country: Coded<'a>,
    #[serde(borrow, default)]
    subdivisions: Vec<Coded<'a>>,
    #[serde(default)]
    location: Location,
}

#[derive(Deserialize)]
struct AsnRecord<'a> {
    autonomous_system_number: Option<u32>,
    #[serde(borrow)]
    autonomous_system_organization: Option<&'a str>,
}

fn put_str(m: &mut Map<String, Value>, key: &str, v: Option<&str>) {
    if let Some(v) = v {
        m.insert(key.into(), Value::String(v.to_string()));
    }
}

/// The `geoip` processor's default properties: for a City database `continent_name`,
/// `country_iso_code`, `country_name`, `region_iso_code`, `region_name`, `city_name`,
/// `location`; for a Country database the first three.
fn geo_fields(db: &Db, ip: IpAddr) -> Option<Map<String, Value>> {
    let r: GeoRecord = db.record(ip)?;
    let mut m = Map::new();
    put_str(&mut m, "continent_name", r.continent.names.en);
    put_str(&mut m, "country_iso_code", r.country.iso_code);
    put_str(&mut m, "country_name", r.country.names.en);
    if db.kind == Kind::City {
        let sub = r.subdivisions.last();
        if let (Some(country), Some(sub)) = (r.country.iso_code, sub.and_then(|s| s.iso_code)) {
            m.insert(
                "region_iso_code".into(),
                Value::String(format!("{country}-{sub}")),
            );
        }
        put_str(&mut m, "region_name", sub.and_then(|s| s.names.en));
        put_str(&mut m, "city_name", r.city.names.en);
        let lat = r.location.latitude.and_then(Number::from_f64);
        let lon = r.location.longitude.and_then(Number::from_f64);
        if let (Some(lat), Some(lon)) = (lat, lon) {
            let mut loc = Map::new();
            loc.insert("lat".into(), Value::Number(lat));
            loc.insert("lon".into(), Value::Number(lon));
            m.insert("location".into(), Value::Object(loc));
        }
    }
    (!m.is_empty()).then_some(m)
}

/// `source.as` after the pipeline's renames: `number` (a number) and
/// `organization.name`.
fn asn_fields(db: &Db, ip: IpAddr) -> Option<Map<String, Value>> {
    let r: AsnRecord = db.record(ip)?;
    let mut m = Map::new();
    if let Some(n) = r.autonomous_system_number {
        m.insert("number".into(), Value::from(n));
    }
    if let Some(org) = r.autonomous_system_organization {
        let mut o = Map::new();
        o.insert("name".into(), Value::String(org.to_string()));
        m.insert("organization".into(), Value::Object(o));
    }
    (!m.is_empty()).then_some(m)
}
