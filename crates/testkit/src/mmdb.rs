//! A small MaxMind DB (`.mmdb`) writer, so GeoIP tests can build the exact database they
//! assert against instead of downloading one (GeoLite2 and DB-IP files are licensed
//! separately and change monthly).
//!
//! It writes format 2.0 as MaxMind's public specification describes it: a binary search
//! tree over the address bits (24-, 28- or 32-bit records), a 16-byte zero separator, the
//! data section, and the metadata map after the `\xAB\xCD\xEFMaxMind.com` marker. Databases
//! are IPv6 trees (as GeoLite2 ships) unless [`MmdbWriter::ipv4_only`] is called: IPv4
//! networks then live under `::/96`, where readers look them up. Values are stored once
//! each, without pointers or deduplication — enough for test data, not a production writer.

use std::net::IpAddr;

/// A value of the MaxMind DB data section (the types a GeoIP database uses).
#[derive(Debug, Clone, PartialEq)]
pub enum MmdbValue {
    Str(String),
    Double(f64),
    U16(u16),
    U32(u32),
    U64(u64),
    Bool(bool),
    /// Keys in the order written.
    Map(Vec<(String, MmdbValue)>),
    Array(Vec<MmdbValue>),
}

impl MmdbValue {
    /// A map from `(key, value)` pairs.
    pub fn map<K: Into<String>>(pairs: impl IntoIterator<Item = (K, MmdbValue)>) -> MmdbValue {
        MmdbValue::Map(pairs.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// `{"names": {"en": name, "de": …}}`, the shape of GeoIP2's named places.
    pub fn names(en: &str) -> MmdbValue {
        MmdbValue::map([(
            "names",
            MmdbValue::map([("de", format!("{en} (de)").into()), ("en", en.into())]),
        )])
    }
}

impl From<&str> for MmdbValue {
    fn from(s: &str) -> MmdbValue {
        MmdbValue::Str(s.to_string())
    }
}

impl From<String> for MmdbValue {
    fn from(s: String) -> MmdbValue {
        MmdbValue::Str(s)
    }
}

/// A tree slot: nothing, another node, or a value (index into `values`).
#[derive(Clone, Copy)]
enum Slot {
    Empty,
    Node(usize),
    Value(usize),
}

/// Builds one database in memory; see the module docs.
pub struct MmdbWriter {
    database_type: String,
    languages: Vec<String>,
    ip_version: u16,
    record_size: u16,
    nodes: Vec<[Slot; 2]>,
    values: Vec<MmdbValue>,
}

impl MmdbWriter {
    /// An empty IPv6 database of `database_type` (e.g. `GeoLite2-City`), 28-bit records.
    pub fn new(database_type: &str) -> MmdbWriter {
        MmdbWriter {
            database_type: database_type.to_string(),
            languages: vec!["de".into(), "en".into()],
            ip_version: 6,
            record_size: 28,
            nodes: vec![[Slot::Empty, Slot::Empty]],
            values: Vec::new(),
        }
    }

    /// 24, 28 or 32 (panics otherwise: a test bug).
    pub fn record_size(mut self, bits: u16) -> MmdbWriter {
        assert!(matches!(bits, 24 | 28 | 32), "record size {bits}");
        self.record_size = bits;
        self
    }

    /// An IPv4-only tree (`ip_version` 4); inserting IPv6 networks then panics.
    pub fn ipv4_only(mut self) -> MmdbWriter {
        assert_eq!(self.nodes.len(), 1, "call before inserting");
        self.ip_version = 4;
        self
    }

    /// Maps `network` (`"81.2.69.0/24"`, `"2001:db8::/32"`, or a bare address for a host
    /// route) to `value`. Later, more specific networks win inside earlier ones; a network
    /// that covers earlier, more specific ones replaces them.
    pub fn insert(&mut self, network: &str, value: MmdbValue) -> &mut MmdbWriter {
        let (addr, len) = match network.split_once('/') {
            Some((a, l)) => (a, Some(l.parse::<usize>().expect("prefix length"))),
            None => (network, None),
        };
        let addr: IpAddr = addr.parse().expect("an IP address");
        let (bits, len) = match addr {
            IpAddr::V4(v4) => {
                let b = u32::from(v4) as u128;
                let len = len.unwrap_or(32);
                assert!(len <= 32 && len > 0, "{network}");
                if self.ip_version == 4 {
                    (b << 96, len)
                } else {
                    // ::a.b.c.d: 96 zero bits, then the IPv4 address.
                    (b, len + 96)
                }
            }
            IpAddr::V6(v6) => {
                assert_eq!(self.ip_version, 6, "IPv6 network in an IPv4 tree");
                let len = len.unwrap_or(128);
                assert!(len <= 128 && len > 0, "{network}");
                (u128::from(v6), len)
            }
        };
        self.values.push(value);
        let value = self.values.len() - 1;
        let mut node = 0;
        for i in 0..len {
            let bit = ((bits >> (127 - i)) & 1) as usize;
            if i + 1 == len {
                self.nodes[node][bit] = Slot::Value(value);
                break;
            }
            node = match self.nodes[node][bit] {
                Slot::Node(n) => n,
                other => {
                    // Split an existing value (or nothing) into two children that keep it.
                    self.nodes.push([other, other]);
                    let n = self.nodes.len() - 1;
                    self.nodes[node][bit] = Slot::Node(n);
                    n
                }
            };
        }
        self
    }

    /// The database file's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let node_count = self.nodes.len();
        let mut data = Vec::new();
        let offsets: Vec<usize> = self
            .values
            .iter()
            .map(|v| {
                let at = data.len();
                encode(v, &mut data);
                at
            })
            .collect();
        let record = |s: Slot| -> u32 {
            let r = match s {
                Slot::Empty => node_count,
                Slot::Node(n) => n,
                Slot::Value(v) => node_count + 16 + offsets[v],
            };
            u32::try_from(r).expect("record fits")
        };
        let mut out = Vec::new();
        for [l, r] in &self.nodes {
            let (l, r) = (record(*l), record(*r));
            match self.record_size {
                24 => {
                    assert!(l < 1 << 24 && r < 1 << 24, "24-bit records overflow");
                    out.extend_from_slice(&l.to_be_bytes()[1..]);
                    out.extend_from_slice(&r.to_be_bytes()[1..]);
                }
                28 => {
                    assert!(l < 1 << 28 && r < 1 << 28, "28-bit records overflow");
                    out.extend_from_slice(&l.to_be_bytes()[1..]);
                    out.push((((l >> 24) & 0x0f) << 4) as u8 | ((r >> 24) & 0x0f) as u8);
                    out.extend_from_slice(&r.to_be_bytes()[1..]);
                }
                _ => {
                    out.extend_from_slice(&l.to_be_bytes());
                    out.extend_from_slice(&r.to_be_bytes());
                }
            }
        }
        out.extend_from_slice(&[0u8; 16]);
        out.extend_from_slice(&data);
        out.extend_from_slice(b"\xAB\xCD\xEFMaxMind.com");
        let meta = MmdbValue::map([
            ("binary_format_major_version", MmdbValue::U16(2)),
            ("binary_format_minor_version", MmdbValue::U16(0)),
            ("build_epoch", MmdbValue::U64(1_700_000_000)),
            ("database_type", self.database_type.as_str().into()),
            (
                "description",
                MmdbValue::map([("en", "trailhunt test database".into())]),
            ),
            ("ip_version", MmdbValue::U16(self.ip_version)),
            (
                "languages",
                MmdbValue::Array(self.languages.iter().map(|l| l.as_str().into()).collect()),
            ),
            ("node_count", MmdbValue::U32(node_count as u32)),
            ("record_size", MmdbValue::U16(self.record_size)),
        ]);
        encode(&meta, &mut out);
        out
    }

    /// Writes the database to `path`.
    pub fn write(&self, path: &std::path::Path) -> std::io::Result<()> {
        std::fs::write(path, self.to_bytes())
    }
}

/// A City and an ASN database for end-to-end tests, written into `dir` as
/// `test-city.mmdb` (`GeoLite2-City`) and `test-asn.mmdb` (`GeoLite2-ASN`):
///
/// | network | City | ASN |
/// | --- | --- | --- |
/// | 89.160.20.128/25 | Linköping, SE (Sweden, Europe), subdivision E Östergötland County, 58.4167 / 15.6167 | 29518 Bredband2 AB |
/// | 216.160.83.56/29 | Milton, US (United States, North America), WA Washington, 47.2513 / -122.3149 | 209, no organization |
/// | 2a02:cf40::/29 | Stockholm, SE (Sweden, Europe), no subdivision, 59.3294 / 18.0686 | 8473 Bahnhof AB |
///
/// (The first two are the values MaxMind's own test databases hold for those addresses.)
pub fn write_test_databases(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf) {
    fn place(en: &str) -> MmdbValue {
        MmdbValue::map([("names", MmdbValue::map([("en", en.into())]))])
    }
    fn coded(iso: &str, en: &str) -> MmdbValue {
        MmdbValue::map([
            ("iso_code", iso.into()),
            ("names", MmdbValue::map([("en", en.into())])),
        ])
    }
    fn city(
        name: &str,
        continent: &str,
        country: (&str, &str),
        sub: Option<(&str, &str)>,
        lat: f64,
        lon: f64,
    ) -> MmdbValue {
        let mut m = vec![
            ("city".to_string(), place(name)),
            ("continent".to_string(), place(continent)),
            ("country".to_string(), coded(country.0, country.1)),
            (
                "location".to_string(),
                MmdbValue::map([
                    ("latitude", MmdbValue::Double(lat)),
                    ("longitude", MmdbValue::Double(lon)),
                ]),
            ),
        ];
        if let Some((iso, en)) = sub {
            m.push((
                "subdivisions".to_string(),
                MmdbValue::Array(vec![coded(iso, en)]),
            ));
        }
        MmdbValue::Map(m)
    }
    fn asn(n: u32, org: Option<&str>) -> MmdbValue {
        let mut m = vec![("autonomous_system_number".to_string(), MmdbValue::U32(n))];
        if let Some(o) = org {
            m.push(("autonomous_system_organization".to_string(), o.into()));
        }
        MmdbValue::Map(m)
    }
    let mut c = MmdbWriter::new("GeoLite2-City");
    c.insert(
        "89.160.20.128/25",
        city(
            "Linköping",
            "Europe",
            ("SE", "Sweden"),
            Some(("E", "Östergötland County")),
            58.4167,
            15.6167,
        ),
    );
    c.insert(
        "216.160.83.56/29",
        city(
            "Milton",
            "North America",
            ("US", "United States"),
            Some(("WA", "Washington")),
            47.2513,
            -122.3149,
        ),
    );
    c.insert(
        "2a02:cf40::/29",
        city(
            "Stockholm",
            "Europe",
            ("SE", "Sweden"),
            None,
            59.3294,
            18.0686,
        ),
    );
    let mut a = MmdbWriter::new("GeoLite2-ASN").record_size(24);
    a.insert("89.160.20.128/25", asn(29518, Some("Bredband2 AB")));
    a.insert("216.160.83.56/29", asn(209, None));
    a.insert("2a02:cf40::/29", asn(8473, Some("Bahnhof AB")));
    let (cp, ap) = (dir.join("test-city.mmdb"), dir.join("test-asn.mmdb"));
    c.write(&cp).expect("writing the test City database");
    a.write(&ap).expect("writing the test ASN database");
    (cp, ap)
}

/// Type numbers of the data section (spec: "Output Data Section").
const STRING: u8 = 2;
const DOUBLE: u8 = 3;
const UINT16: u8 = 5;
const UINT32: u8 = 6;
const MAP: u8 = 7;
const UINT64: u8 = 9;
const ARRAY: u8 = 11;
const BOOLEAN: u8 = 14;

fn encode(v: &MmdbValue, out: &mut Vec<u8>) {
    match v {
        MmdbValue::Str(s) => {
            control(STRING, s.len(), out);
            out.extend_from_slice(s.as_bytes());
        }
        MmdbValue::Double(d) => {
            control(DOUBLE, 8, out);
            out.extend_from_slice(&d.to_be_bytes());
        }
        MmdbValue::U16(n) => unsigned(UINT16, *n as u64, out),
        MmdbValue::U32(n) => unsigned(UINT32, *n as u64, out),
        MmdbValue::U64(n) => unsigned(UINT64, *n, out),
        MmdbValue::Bool(b) => control(BOOLEAN, *b as usize, out),
        MmdbValue::Map(pairs) => {
            control(MAP, pairs.len(), out);
            for (k, v) in pairs {
                encode(&MmdbValue::Str(k.clone()), out);
                encode(v, out);
            }
        }
        MmdbValue::Array(items) => {
            control(ARRAY, items.len(), out);
            for v in items {
                encode(v, out);
            }
        }
    }
}

/// Unsigned integers are stored big-endian without leading zero bytes.
fn unsigned(kind: u8, n: u64, out: &mut Vec<u8>) {
    let bytes = n.to_be_bytes();
    let skip = bytes.iter().take_while(|b| **b == 0).count();
    control(kind, 8 - skip, out);
    out.extend_from_slice(&bytes[skip..]);
}

/// The control byte (type in the top 3 bits, or 0 plus an extended type byte), then the
/// size's extension bytes.
fn control(kind: u8, size: usize, out: &mut Vec<u8>) {
    let (size_bits, ext): (u8, Vec<u8>) = match size {
        0..=28 => (size as u8, vec![]),
        29..=284 => (29, vec![(size - 29) as u8]),
        285..=65_820 => (30, ((size - 285) as u16).to_be_bytes().to_vec()),
        _ => (31, ((size - 65_821) as u32).to_be_bytes()[1..].to_vec()),
    };
    if kind <= 7 {
        out.push((kind << 5) | size_bits);
    } else {
        out.push(size_bits);
        out.push(kind - 7);
    }
    out.extend_from_slice(&ext);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_bytes_follow_the_spec() {
        let mut out = vec![];
        encode(&MmdbValue::from("ab"), &mut out);
        assert_eq!(out, [0x42, b'a', b'b']);
        out.clear();
        encode(&MmdbValue::U32(0x0102), &mut out);
        assert_eq!(out, [0xc2, 1, 2]);
        out.clear();
        encode(&MmdbValue::Bool(true), &mut out);
        assert_eq!(out, [0x01, 0x07]);
        out.clear();
        encode(&MmdbValue::Str("x".repeat(300)), &mut out);
        assert_eq!(&out[..3], &[0x5e, 0x00, 15]);
    }

    #[test]
    fn the_metadata_marker_ends_the_data() {
        let mut w = MmdbWriter::new("Test-City");
        w.insert("1.2.3.0/24", MmdbValue::U16(1));
        let bytes = w.to_bytes();
        let marker = b"\xAB\xCD\xEFMaxMind.com";
        let at = bytes
            .windows(marker.len())
            .position(|x| x == marker)
            .unwrap();
        // 120 nodes of 7 bytes (96 zero bits + 24 prefix bits), 16 zeros, one uint16.
        assert_eq!(at, 120 * 7 + 16 + 2);
    }
}
