//! GeoIP fields against databases built here (testkit's MMDB writer, so every expected value
//! is the one the test put in) and against MaxMind's test databases in `../shared/geoip`,
//! whose values Elastic's pipeline fixtures hold.

use std::path::{Path, PathBuf};

use cloudtrail::Enrich;
use geoip::{GeoIp, GeoIpError, Kind, Role};
use serde_json::{json, Map, Value};
use testkit::mmdb::{MmdbValue as V, MmdbWriter};

fn names(en: &str) -> V {
    V::names(en)
}

fn coded(iso: &str, en: &str) -> V {
    V::map([
        ("geoname_id", V::U32(42)),
        ("iso_code", iso.into()),
        (
            "names",
            V::map([("en", en.into()), ("fr", format!("{en} (fr)").into())]),
        ),
    ])
}

/// A City record as GeoLite2 lays it out (plus fields the processor must not read).
fn city_record(
    city: Option<&str>,
    country: (&str, &str),
    subdivisions: &[(&str, &str)],
    location: Option<(f64, f64)>,
) -> V {
    let mut m = vec![];
    if let Some(c) = city {
        m.push(("city".to_string(), names(c)));
    }
    m.push((
        "continent".into(),
        V::map([
            ("code", "EU".into()),
            ("names", V::map([("en", "Europe".into())])),
        ]),
    ));
    m.push(("country".into(), coded(country.0, country.1)));
    m.push(("registered_country".into(), coded("ZZ", "Elsewhere")));
    if let Some((lat, lon)) = location {
        m.push((
            "location".into(),
            V::map([
                ("accuracy_radius", V::U16(100)),
                ("latitude", V::Double(lat)),
                ("longitude", V::Double(lon)),
                ("time_zone", "Europe/London".into()),
            ]),
        ));
    }
    m.push(("postal".into(), V::map([("code", "EC1".into())])));
    if !subdivisions.is_empty() {
        m.push((
            "subdivisions".into(),
            V::Array(subdivisions.iter().map(|(i, n)| coded(i, n)).collect()),
        ));
    }
    V::Map(m)
}

struct Dbs {
    dir: tempfile::TempDir,
}

impl Dbs {
    fn new() -> Dbs {
        Dbs {
            dir: tempfile::Builder::new()
                .prefix("geoip-test-")
                .tempdir()
                .unwrap(),
        }
    }

    fn write(&self, name: &str, w: &MmdbWriter) -> PathBuf {
        let p = self.dir.path().join(name);
        w.write(&p).unwrap();
        p
    }

    fn city(&self, record_size: u16) -> PathBuf {
        let mut w = MmdbWriter::new("GeoLite2-City").record_size(record_size);
        w.insert(
            "81.2.69.0/24",
            city_record(
                Some("London"),
                ("GB", "United Kingdom"),
                &[("ENG", "England")],
                Some((51.5142, -0.0931)),
            ),
        );
        // Two subdivisions: the most specific (last) one is the region.
        w.insert(
            "2001:db8:1::/48",
            city_record(
                Some("Sevilla"),
                ("ES", "Spain"),
                &[("AN", "Andalusia"), ("SE", "Seville")],
                Some((37.3824, -5.9761)),
            ),
        );
        // No subdivisions, no location.
        w.insert(
            "192.0.2.0/24",
            city_record(Some("Nowhere"), ("SE", "Sweden"), &[], None),
        );
        // A more specific network inside the first one.
        w.insert(
            "81.2.69.192/28",
            city_record(None, ("GB", "United Kingdom"), &[], None),
        );
        self.write(&format!("city-{record_size}.mmdb"), &w)
    }

    fn country(&self) -> PathBuf {
        let mut w = MmdbWriter::new("GeoLite2-Country").record_size(24);
        w.insert(
            "81.2.69.0/24",
            city_record(
                Some("London"),
                ("GB", "United Kingdom"),
                &[("ENG", "England")],
                Some((51.5, -0.1)),
            ),
        );
        self.write("country.mmdb", &w)
    }

    fn asn(&self) -> PathBuf {
        let mut w = MmdbWriter::new("GeoLite2-ASN").record_size(24);
        w.insert(
            "81.2.69.0/24",
            V::map([
                ("autonomous_system_number", V::U32(20712)),
                (
                    "autonomous_system_organization",
                    "Andrews & Arnold Ltd".into(),
                ),
            ]),
        );
        w.insert(
            "2001:db8:1::/48",
            V::map([("autonomous_system_number", V::U32(4_200_000_000))]),
        );
        self.write("asn.mmdb", &w)
    }
}

/// The `source` object after enrichment of a document with this `source.ip`.
fn source_of(g: &GeoIp, ip: &str) -> Value {
    let mut doc = json!({"source": {"address": ip, "ip": ip}, "event": {"action": "X"}});
    let map = doc.as_object_mut().unwrap();
    g.enrich(map);
    assert_eq!(
        map["event"],
        json!({"action": "X"}),
        "only source is touched"
    );
    doc["source"].clone()
}

fn with(ip: &str, geo: Value, asn: Value) -> Value {
    let mut m = Map::new();
    m.insert("address".into(), ip.into());
    m.insert("ip".into(), ip.into());
    if !geo.is_null() {
        m.insert("geo".into(), geo);
    }
    if !asn.is_null() {
        m.insert("as".into(), asn);
    }
    Value::Object(m)
}

#[test]
fn city_and_asn_fields_are_the_databases_values() {
    let dbs = Dbs::new();
    for size in [24, 28, 32] {
        let g = GeoIp::open(Some(&dbs.city(size)), Some(&dbs.asn())).unwrap();
        assert_eq!(g.geo_kind(), Some(Kind::City));
        assert!(g.has_asn());
        let london = json!({
            "city_name": "London", "continent_name": "Europe", "country_iso_code": "GB",
            "country_name": "United Kingdom", "location": {"lat": 51.5142, "lon": -0.0931},
            "region_iso_code": "GB-ENG", "region_name": "England"});
        assert_eq!(
            source_of(&g, "81.2.69.144"),
            with(
                "81.2.69.144",
                london,
                json!({"number": 20712, "organization": {"name": "Andrews & Arnold Ltd"}})
            ),
            "record size {size}"
        );
        // IPv6; the most specific subdivision; an ASN record without organization.
        assert_eq!(
            source_of(&g, "2001:db8:1::7"),
            with(
                "2001:db8:1::7",
                json!({
                    "city_name": "Sevilla", "continent_name": "Europe", "country_iso_code": "ES",
                    "country_name": "Spain", "location": {"lat": 37.3824, "lon": -5.9761},
                    "region_iso_code": "ES-SE", "region_name": "Seville"}),
                json!({"number": 4_200_000_000u32})
            )
        );
        // No subdivisions and no location: no region fields, no location; no ASN record.
        assert_eq!(
            source_of(&g, "192.0.2.1"),
            with(
                "192.0.2.1",
                json!({"city_name": "Nowhere", "continent_name": "Europe",
                    "country_iso_code": "SE", "country_name": "Sweden"}),
                Value::Null
            )
        );
        // The more specific network wins.
        assert_eq!(
            source_of(&g, "81.2.69.200")["geo"],
            json!({"continent_name": "Europe", "country_iso_code": "GB",
                "country_name": "United Kingdom"})
        );
        // Absent, private and loopback addresses get nothing.
        for ip in ["8.8.8.8", "10.0.0.1", "127.0.0.1", "::1", "2001:db8:2::1"] {
            assert_eq!(
                source_of(&g, ip),
                with(ip, Value::Null, Value::Null),
                "{ip}"
            );
        }
    }
}

#[test]
fn ipv4_mapped_addresses_are_looked_up_as_ipv4() {
    let dbs = Dbs::new();
    let g = GeoIp::open(Some(&dbs.city(28)), None).unwrap();
    assert_eq!(
        source_of(&g, "::ffff:81.2.69.144")["geo"]["city_name"],
        "London"
    );
}

#[test]
fn a_country_database_gives_country_and_continent_only() {
    let dbs = Dbs::new();
    let g = GeoIp::open(Some(&dbs.country()), None).unwrap();
    assert_eq!(g.geo_kind(), Some(Kind::Country));
    assert_eq!(
        source_of(&g, "81.2.69.1"),
        with(
            "81.2.69.1",
            json!({"continent_name": "Europe", "country_iso_code": "GB",
                "country_name": "United Kingdom"}),
            Value::Null
        )
    );
}

#[test]
fn only_source_ip_is_looked_up() {
    let dbs = Dbs::new();
    let g = GeoIp::open(Some(&dbs.city(28)), Some(&dbs.asn())).unwrap();
    for doc in [
        json!({"source": {"address": "ec2.amazonaws.com"}}),
        json!({"source": {"address": "81.2.69.144"}}),
        json!({"cloud": {"provider": "aws"}}),
        json!({"source": {"ip": "not-an-ip"}}),
        json!({"source": {"ip": 5}}),
    ] {
        let mut got = doc.clone();
        g.enrich(got.as_object_mut().unwrap());
        assert_eq!(got, doc);
    }
}

#[test]
fn each_database_writes_only_its_own_columns() {
    let dbs = Dbs::new();
    let both = GeoIp::open(Some(&dbs.city(28)), Some(&dbs.asn())).unwrap();
    let geo = GeoIp::open(Some(&dbs.city(28)), None).unwrap();
    let asn = GeoIp::open(None, Some(&dbs.asn())).unwrap();
    for col in ["source.geo.country_iso_code", "source.geo.location"] {
        assert!(
            both.writes(col) && geo.writes(col) && !asn.writes(col),
            "{col}"
        );
    }
    for col in ["source.as.number", "source.as.organization.name.text"] {
        assert!(
            both.writes(col) && !geo.writes(col) && asn.writes(col),
            "{col}"
        );
    }
    for col in ["source.ip", "source.address", "event.action", "@timestamp"] {
        assert!(!both.writes(col), "{col}");
    }
    assert_eq!(
        source_of(&asn, "81.2.69.144"),
        with(
            "81.2.69.144",
            Value::Null,
            json!({"number": 20712, "organization": {"name": "Andrews & Arnold Ltd"}})
        )
    );
}

#[test]
fn an_ipv4_only_database_answers_nothing_for_ipv6() {
    let dbs = Dbs::new();
    let mut w = MmdbWriter::new("GeoLite2-City").ipv4_only();
    w.insert(
        "81.2.69.0/24",
        city_record(Some("London"), ("GB", "United Kingdom"), &[], None),
    );
    let path = dbs.write("v4.mmdb", &w);
    let g = GeoIp::open(Some(&path), None).unwrap();
    assert_eq!(source_of(&g, "81.2.69.1")["geo"]["city_name"], "London");
    assert!(source_of(&g, "2001:db8:1::1").get("geo").is_none());
}

fn err(geo: Option<&Path>, asn: Option<&Path>) -> GeoIpError {
    GeoIp::open(geo, asn).expect_err("must not open")
}

#[test]
fn bad_databases_are_clear_errors_naming_the_file() {
    let dbs = Dbs::new();
    let missing = dbs.dir.path().join("nope.mmdb");
    let e = err(Some(&missing), None);
    assert_eq!(e.role(), Role::Geo);
    let msg = e.to_string();
    assert!(
        msg.starts_with(&format!("cannot read {}: ", missing.display())),
        "{msg}"
    );

    let text = dbs.dir.path().join("notes.txt");
    std::fs::write(&text, "not a database").unwrap();
    let e = err(None, Some(&text));
    assert_eq!(e.role(), Role::Asn);
    let msg = e.to_string();
    assert!(
        msg.starts_with(&format!(
            "{} is not a MaxMind DB (.mmdb) file: ",
            text.display()
        )),
        "{msg}"
    );

    let asn = dbs.asn();
    let msg = err(Some(&asn), None).to_string();
    assert_eq!(
        msg,
        format!(
            "{} is an ASN database (database_type \"GeoLite2-ASN\"), but a City or Country database is needed here",
            asn.display()
        )
    );
    let city = dbs.city(28);
    let e = err(None, Some(&city));
    assert_eq!(e.role(), Role::Asn);
    assert_eq!(
        e.to_string(),
        format!(
            "{} is a City database (database_type \"GeoLite2-City\"), but an ASN database is needed here",
            city.display()
        )
    );
    let mut w = MmdbWriter::new("GeoIP2-Anonymous-IP");
    w.insert("81.2.69.0/24", V::map([("is_anonymous", V::Bool(true))]));
    let anon = dbs.write("anon.mmdb", &w);
    assert_eq!(
        err(Some(&anon), None).to_string(),
        format!(
            "{} is a database of another kind (database_type \"GeoIP2-Anonymous-IP\"), but a City or Country database is needed here",
            anon.display()
        )
    );
}

/// MaxMind's test databases give the values Elastic's fixtures hold (the table in
/// `../shared/geoip/README.md`).
#[test]
fn maxmind_test_databases_give_the_fixture_values() {
    let (Some(city), Some(asn), Some(country)) = (
        testkit::require_shared("geoip/GeoLite2-City-Test.mmdb"),
        testkit::require_shared("geoip/GeoLite2-ASN-Test.mmdb"),
        testkit::require_shared("geoip/GeoLite2-Country-Test.mmdb"),
    ) else {
        return;
    };
    let g = GeoIp::open(Some(&city), Some(&asn)).unwrap();
    assert_eq!(
        source_of(&g, "89.160.20.156"),
        with(
            "89.160.20.156",
            json!({"city_name": "Linköping", "continent_name": "Europe",
                "country_iso_code": "SE", "country_name": "Sweden",
                "location": {"lat": 58.4167, "lon": 15.6167},
                "region_iso_code": "SE-E", "region_name": "Östergötland County"}),
            json!({"number": 29518, "organization": {"name": "Bredband2 AB"}})
        )
    );
    assert_eq!(
        source_of(&g, "216.160.83.56"),
        with(
            "216.160.83.56",
            json!({"city_name": "Milton", "continent_name": "North America",
                "country_iso_code": "US", "country_name": "United States",
                "location": {"lat": 47.2513, "lon": -122.3149},
                "region_iso_code": "US-WA", "region_name": "Washington"}),
            json!({"number": 209})
        )
    );
    assert_eq!(
        source_of(&g, "81.2.69.144"),
        with(
            "81.2.69.144",
            json!({"city_name": "London", "continent_name": "Europe",
                "country_iso_code": "GB", "country_name": "United Kingdom",
                "location": {"lat": 51.5142, "lon": -0.0931},
                "region_iso_code": "GB-ENG", "region_name": "England"}),
            Value::Null
        )
    );
    let c = GeoIp::open(Some(&country), None).unwrap();
    assert_eq!(c.geo_kind(), Some(Kind::Country));
    assert_eq!(
        source_of(&c, "89.160.20.156")["geo"],
        json!({"continent_name": "Europe", "country_iso_code": "SE", "country_name": "Sweden"})
    );
    let e = err(Some(&asn), None).to_string();
    assert!(
        e.contains("GeoLite2-ASN-Test.mmdb is an ASN database"),
        "{e}"
    );
}
