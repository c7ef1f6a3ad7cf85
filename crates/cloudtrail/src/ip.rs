//! IP addresses as Elasticsearch accepts and returns them.
//!
//! The pipeline only copies `sourceIPAddress` to `source.ip` when Elasticsearch's
//! `InetAddresses.isInetAddress` accepts it: dotted IPv4 with exactly four decimal parts and no
//! leading zeros (`035.249.253.232` is rejected, not read as octal), or IPv6 (optionally with
//! an embedded IPv4 tail and a `%scope` suffix). The `ip` field type stores 16 bytes, so
//! ES|QL returns the canonical form: IPv4 (also for IPv4-mapped IPv6), or RFC 5952 IPv6
//! (lowercase, longest zero run compressed). Multi-valued ip fields come back sorted by those
//! 16 bytes.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

fn parse_v4(s: &str) -> Option<Ipv4Addr> {
    let mut octets = [0u8; 4];
    let mut parts = s.split('.');
    for o in &mut octets {
        let p = parts.next()?;
        if p.is_empty() || p.len() > 3 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        if p.len() > 1 && p.starts_with('0') {
            return None;
        }
        *o = p.parse::<u16>().ok().filter(|&v| v <= 255)? as u8;
    }
    if parts.next().is_some() {
        return None;
    }
    Some(Ipv4Addr::from(octets))
}

/// Parses an address the way Elasticsearch does.
pub fn parse(s: &str) -> Option<IpAddr> {
    if s.contains(':') {
        let addr = match s.find('%') {
            Some(i) if i + 1 < s.len() => &s[..i],
            Some(_) => return None,
            None => s,
        };
        // Rust's parser matches the accepted IPv6 grammar, including an IPv4 tail; reject
        // leading zeros in such a tail as Elasticsearch does.
        if let Some(last) = addr.rsplit(':').next() {
            if last.contains('.') {
                parse_v4(last)?;
            }
        }
        addr.parse::<Ipv6Addr>().ok().map(IpAddr::V6)
    } else {
        parse_v4(s).map(IpAddr::V4)
    }
}

/// `InetAddresses.isInetAddress`.
pub fn is_inet_address(s: &str) -> bool {
    parse(s).is_some()
}

/// The 16-byte form Elasticsearch indexes (IPv4 as IPv4-mapped IPv6); also its sort order.
pub fn to_bytes(ip: IpAddr) -> [u8; 16] {
    match ip {
        IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
        IpAddr::V6(v6) => v6.octets(),
    }
}

/// Renders 16 indexed bytes the way ES|QL returns them.
pub fn format_bytes(bytes: [u8; 16]) -> String {
    let v6 = Ipv6Addr::from(bytes);
    match v6.to_ipv4_mapped() {
        Some(v4) => v4.to_string(),
        None => v6.to_string(),
    }
}

/// The value ES|QL returns for an `ip` field holding `s`, or None if Elasticsearch would not
/// accept it.
pub fn canonical(s: &str) -> Option<String> {
    parse(s).map(|ip| format_bytes(to_bytes(ip)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_like_elasticsearch() {
        for ok in [
            "1.2.3.4",
            "0.0.0.0",
            "255.255.255.255",
            "::1",
            "2001:DB8::1",
            "::ffff:1.2.3.4",
            "fe80::1%eth0",
            "1:2:3:4:5:6:7:8",
        ] {
            assert!(is_inet_address(ok), "{ok}");
        }
        for bad in [
            "035.249.253.232",
            "253.252.51.07",
            "100.200.300.400",
            "1.2.3",
            "1.2.3.4.5",
            "AWS Internal",
            "ec2.amazonaws.com",
            "000000000",
            "",
            "1.2.3.4 ",
            "30.*.0.210",
            "::ffff:01.2.3.4",
            "1::2::3",
        ] {
            assert!(!is_inet_address(bad), "{bad}");
        }
    }

    #[test]
    fn canonical_forms() {
        assert_eq!(canonical("1.2.3.4").unwrap(), "1.2.3.4");
        assert_eq!(canonical("::ffff:1.2.3.4").unwrap(), "1.2.3.4");
        assert_eq!(
            canonical("2001:DB8:0:0:1:0:0:1").unwrap(),
            "2001:db8::1:0:0:1"
        );
        assert_eq!(canonical("FE80::0:1").unwrap(), "fe80::1");
        assert_eq!(canonical("::1.2.3.4").unwrap(), "::102:304");
        assert_eq!(canonical("fe80::1%eth0").unwrap(), "fe80::1");
        assert_eq!(canonical("1:0:1:1:1:1:1:1").unwrap(), "1:0:1:1:1:1:1:1");
        assert_eq!(canonical("bogus"), None);
    }

    #[test]
    fn sort_order_is_by_bytes() {
        let mut v: Vec<[u8; 16]> = ["::1", "10.0.0.1", "9.0.0.1", "2001::1"]
            .iter()
            .map(|s| to_bytes(parse(s).unwrap()))
            .collect();
        v.sort();
        let out: Vec<String> = v.into_iter().map(format_bytes).collect();
        assert_eq!(out, ["::1", "9.0.0.1", "10.0.0.1", "2001::1"]);
    }
}
