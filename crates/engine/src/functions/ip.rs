//! IP functions (esql-spec §13.6).

use super::{scalar, FunctionDef, Impl, RetMulti, RowImpl};
use crate::udf::Failure;
use crate::udf::{Ctx, MultiValues, Nulls};
use crate::value::Value;
use esql::ast::Literal;
use esql::catalog::{arity, expect, is_integral, is_ip, is_string, ArgError, Args};
use esql::DataType;
use std::net::IpAddr;

pub fn register(defs: &mut Vec<FunctionDef>) {
    defs.push(scalar("CIDR_MATCH", cidr_rule, cidr_match));
    defs.push(scalar("IP_PREFIX", ip_prefix_rule, ip_prefix));
    defs.push(to_ip_variant(TO_IP_OCTAL, |a, c| to_ip_lenient(a, c, true)));
    defs.push(to_ip_variant(TO_IP_DECIMAL, |a, c| {
        to_ip_lenient(a, c, false)
    }));
}

/// An address's place in ES's order: its 16-byte IPv6 form (IPv4 mapped, so `::1` sorts
/// before `127.0.0.1`), as hex text that orders the same way. IPs travel as their text,
/// whose own order is not ES's.
pub fn ip_order_key(a: &[Value], _: &Ctx) -> Result<Value, Failure> {
    let Value::Str(s) = &a[0] else {
        return Ok(Value::Null);
    };
    let bytes = match s.parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => v4.to_ipv6_mapped().octets(),
        Ok(IpAddr::V6(v6)) => v6.octets(),
        Err(_) => return Ok(Value::Str(s.clone())),
    };
    Ok(Value::Str(
        bytes.iter().map(|b| format!("{b:02x}")).collect(),
    ))
}

/// `TO_IP(s, {"leading_zeros": "octal" | "decimal"})`, as ES plans them: separate functions
/// (named so no query can call them directly) that read IPv4 octets with leading zeros
/// instead of rejecting them. `"reject"` is plain TO_IP.
pub const TO_IP_OCTAL: &str = "TO_IP$LEADING_ZEROS_OCTAL";
pub const TO_IP_DECIMAL: &str = "TO_IP$LEADING_ZEROS_DECIMAL";

/// Which function a TO_IP call with these options is.
pub fn to_ip_with_options(options: &[(String, Literal)]) -> Result<&'static str, Failure> {
    let mut chosen = "TO_IP";
    for (key, value) in options {
        if key != "leading_zeros" {
            return Err(format!(
                "Invalid option [{key}] in [{{call}}], expected one of [leading_zeros]"
            )
            .into());
        }
        chosen = match value {
            Literal::Keyword(v) if v == "reject" => "TO_IP",
            Literal::Keyword(v) if v == "octal" => TO_IP_OCTAL,
            Literal::Keyword(v) if v == "decimal" => TO_IP_DECIMAL,
            other => {
                let shown = match other {
                    Literal::Keyword(v) => v.clone(),
                    other => format!("{other:?}"),
                };
                return Err(format!(
                    "Illegal leading_zeros [{shown}] in [{{call}}], expected one of [reject, octal, decimal]"
                ).into());
            }
        };
    }
    Ok(chosen)
}

fn to_ip_variant(name: &'static str, kernel: crate::udf::Kernel) -> FunctionDef {
    FunctionDef {
        sig: esql::catalog::Signature {
            name,
            kind: esql::catalog::FunctionKind::Scalar,
            rule: |a| {
                arity(a, 1, Some(1))?;
                expect(a, 0, |t| t.is_string() || t == DataType::Ip, "ip or string")?;
                Ok(DataType::Ip)
            },
        },
        aliases: &[],
        imp: Impl::Row(RowImpl {
            kernel,
            multi: MultiValues::Accept,
            nulls: Nulls::Propagate,
            ret_multi: RetMulti::IfAnyArg,
        }),
    }
}

/// Converts each value; values that are not addresses are dropped with a warning, as
/// TO_IP does.
fn to_ip_lenient(a: &[Value], ctx: &Ctx, octal: bool) -> Result<Value, Failure> {
    let mut out = vec![];
    let mut first_err = None;
    for v in a[0].values() {
        let Value::Str(s) = v else { continue };
        let parsed = if ctx.arg_types.first() == Some(&DataType::Ip) {
            Some(s.clone())
        } else {
            parse_ipv4_leading_zeros(s, octal).or_else(|| crate::functions::convert::parse_ip(s))
        };
        match parsed {
            Some(ip) => out.push(Value::Str(ip)),
            None => {
                first_err.get_or_insert(format!(
                    "java.lang.IllegalArgumentException: '{s}' is not an IP string literal."
                ));
            }
        }
    }
    ctx.values_or_error(out, first_err.map(Failure::from))
}

/// Dotted IPv4 whose octets may have leading zeros: `010` is 8 when `octal` (as
/// `inet_aton` reads it), 10 otherwise.
fn parse_ipv4_leading_zeros(s: &str, octal: bool) -> Option<String> {
    let parts: Vec<&str> = s.split('.').collect();
    if parts.len() != 4 {
        return None;
    }
    let mut octets = [0u8; 4];
    for (o, p) in octets.iter_mut().zip(&parts) {
        if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let radix = if octal && p.len() > 1 && p.starts_with('0') {
            8
        } else {
            10
        };
        *o = u8::try_from(u32::from_str_radix(p, radix).ok()?).ok()?;
    }
    Some(std::net::Ipv4Addr::from(octets).to_string())
}

fn ip_prefix_rule(a: &Args<'_>) -> Result<DataType, ArgError> {
    arity(a, 3, Some(3))?;
    expect(a, 0, is_ip, "ip")?;
    expect(a, 1, is_integral, "integer")?;
    expect(a, 2, is_integral, "integer")?;
    Ok(DataType::Ip)
}

/// Zeroes the host bits; both lengths are checked whatever the address family.
fn ip_prefix(a: &[Value], _: &Ctx) -> Result<Value, Failure> {
    let len = |v: &Value| match v {
        Value::Int(i) => *i as i64,
        Value::Long(l) => *l,
        _ => -1,
    };
    let (v4, v6) = (len(&a[1]), len(&a[2]));
    if !(0..=32).contains(&v4) {
        return Err(format!(
            "java.lang.IllegalArgumentException: Prefix length v4 must be in range [0, 32], found {v4}"
        ).into());
    }
    if !(0..=128).contains(&v6) {
        return Err(format!(
            "java.lang.IllegalArgumentException: Prefix length v6 must be in range [0, 128], found {v6}"
        ).into());
    }
    let Value::Str(ip) = &a[0] else {
        return Ok(Value::Null);
    };
    let addr: IpAddr = ip.parse().map_err(|_| {
        format!("java.lang.IllegalArgumentException: '{ip}' is not an IP string literal.")
    })?;
    let v4_mask = if v4 == 0 { 0 } else { u32::MAX << (32 - v4) };
    Ok(Value::Str(match addr {
        IpAddr::V4(x) => std::net::Ipv4Addr::from(u32::from(x) & v4_mask).to_string(),
        IpAddr::V6(x) => match x.to_ipv4_mapped() {
            Some(x) => std::net::Ipv4Addr::from(u32::from(x) & v4_mask).to_string(),
            None => {
                let m = if v6 == 0 { 0 } else { u128::MAX << (128 - v6) };
                std::net::Ipv6Addr::from(u128::from(x) & m).to_string()
            }
        },
    }))
}

fn cidr_rule(a: &Args<'_>) -> Result<DataType, ArgError> {
    arity(a, 2, None)?;
    expect(a, 0, is_ip, "ip")?;
    for i in 1..a.types.len() {
        expect(a, i, is_string, "string")?;
    }
    Ok(DataType::Boolean)
}

/// Addresses as 128-bit numbers, IPv4 mapped into IPv6 as ES stores them.
fn to_u128(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u128::from(v4.to_ipv6_mapped()),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

pub fn in_block(ip: &str, block: &str) -> Result<bool, Failure> {
    let addr: IpAddr = ip.parse().map_err(|_| {
        format!("java.lang.IllegalArgumentException: '{ip}' is not an IP string literal.")
    })?;
    let (net, len) = match block.split_once('/') {
        Some((n, l)) => (n, Some(l)),
        None => (block, None),
    };
    let net_addr: IpAddr = net.parse().map_err(|_| {
        format!("java.lang.IllegalArgumentException: '{net}' is not an IP string literal.")
    })?;
    let max = if net_addr.is_ipv4() { 32 } else { 128 };
    let len: u32 = match len {
        Some(l) => l.parse().ok().filter(|l| *l <= max).ok_or_else(|| {
            format!("java.lang.IllegalArgumentException: invalid CIDR block [{block}]")
        })?,
        None => max,
    };
    let prefix = len + if net_addr.is_ipv4() { 96 } else { 0 };
    let mask = if prefix == 0 {
        0
    } else {
        u128::MAX << (128 - prefix)
    };
    Ok(to_u128(addr) & mask == to_u128(net_addr) & mask)
}

fn cidr_match(a: &[Value], _: &Ctx) -> Result<Value, Failure> {
    let Value::Str(ip) = &a[0] else {
        return Ok(Value::Null);
    };
    for b in a[1..].iter().flat_map(|v| v.values()) {
        if let Value::Str(block) = b {
            if in_block(ip, block)? {
                return Ok(Value::Bool(true));
            }
        }
    }
    Ok(Value::Bool(false))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks() {
        assert!(in_block("10.1.2.3", "10.0.0.0/8").unwrap());
        assert!(!in_block("11.1.2.3", "10.0.0.0/8").unwrap());
        assert!(in_block("127.0.0.1", "127.0.0.1").unwrap());
        assert!(in_block("::1", "::1/128").unwrap());
        assert!(in_block("fe80::1", "fe80::/10").unwrap());
        assert!(!in_block("10.0.0.1", "fe80::/10").unwrap());
    }

    #[test]
    fn prefixes() {
        let c = Ctx::new(DataType::Ip, vec![]);
        let p = |ip: &str, a: i32, b: i32| {
            ip_prefix(&[Value::Str(ip.into()), Value::Int(a), Value::Int(b)], &c)
        };
        assert_eq!(p("1.2.3.4", 24, 0), Ok(Value::Str("1.2.3.0".into())));
        assert_eq!(p("1.2.3.4", 32, 0), Ok(Value::Str("1.2.3.4".into())));
        assert_eq!(p("1.2.3.4", 0, 0), Ok(Value::Str("0.0.0.0".into())));
        assert_eq!(
            p("fe80::cae2:65ff:fece:feb9", 0, 112),
            Ok(Value::Str("fe80::cae2:65ff:fece:0".into()))
        );
        assert!(p("1.2.3.4", 33, 0)
            .unwrap_err()
            .0
            .contains("v4 must be in range [0, 32], found 33"));
    }
}

#[cfg(test)]
mod option_tests {
    use super::*;

    #[test]
    fn leading_zeros_read_as_octal_or_decimal() {
        assert_eq!(
            parse_ipv4_leading_zeros("1.1.010.1", true).as_deref(),
            Some("1.1.8.1")
        );
        assert_eq!(
            parse_ipv4_leading_zeros("1.1.010.1", false).as_deref(),
            Some("1.1.10.1")
        );
        assert_eq!(parse_ipv4_leading_zeros("1.1.09.1", true), None);
        assert_eq!(parse_ipv4_leading_zeros("1.1.0400.1", false), None);
    }

    #[test]
    fn addresses_order_as_es_orders_them() {
        let ctx = Ctx::new(DataType::Keyword, vec![DataType::Ip]);
        let key = |s: &str| match ip_order_key(&[Value::Str(s.into())], &ctx).unwrap() {
            Value::Str(k) => k,
            other => panic!("{other:?}"),
        };
        assert!(key("::1") < key("127.0.0.1"));
        assert!(key("127.0.0.2") < key("128.0.0.1"));
        assert!(key("9.0.0.1") < key("10.0.0.1"));
        assert!(key("128.0.0.1") < key("fe80::1"));
    }

    #[test]
    fn options_choose_the_variant() {
        let opt = |v: &str| vec![("leading_zeros".to_string(), Literal::Keyword(v.into()))];
        assert_eq!(to_ip_with_options(&opt("octal")), Ok(TO_IP_OCTAL));
        assert_eq!(to_ip_with_options(&opt("reject")), Ok("TO_IP"));
        assert!(to_ip_with_options(&opt("hex"))
            .unwrap_err()
            .0
            .starts_with("Illegal leading_zeros [hex]"));
        let bad = vec![("zeros".to_string(), Literal::Keyword("octal".into()))];
        assert!(to_ip_with_options(&bad)
            .unwrap_err()
            .0
            .starts_with("Invalid option [zeros]"));
    }
}
