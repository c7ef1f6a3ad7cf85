//! IP functions (esql-spec §13.6).

use super::{scalar, FunctionDef};
use crate::udf::Ctx;
use crate::value::Value;
use esql::catalog::{arity, expect, is_ip, is_string, ArgError, Args};
use esql::DataType;
use std::net::IpAddr;

pub fn register(defs: &mut Vec<FunctionDef>) {
    defs.push(scalar("CIDR_MATCH", cidr_rule, cidr_match));
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

pub fn in_block(ip: &str, block: &str) -> Result<bool, String> {
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

fn cidr_match(a: &[Value], _: &Ctx) -> Result<Value, String> {
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
}
