//! A CIDR range (`10.0.0.0/8`, `2001:db8::/32`) for the "IP is in range" condition.
//!
//! Kept here rather than pulled from a crate: the filter only needs parsing, containment and a
//! normalized text form (host bits cleared) that PostgreSQL's `inet` accepts.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// A parsed network: an address with its host bits cleared, and a prefix length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Parses `addr/prefix`; a bare address is a single-host range (`/32` or `/128`).
    pub fn parse(text: &str) -> Option<Self> {
        let (addr, prefix) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text, None),
        };
        let addr: IpAddr = addr.parse().ok()?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            // Digits only: `u8::from_str` would also accept a leading `+`.
            Some(p) if !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()) => {
                p.parse::<u8>().ok()?
            }
            Some(_) => return None,
            None => max,
        };
        if prefix > max {
            return None;
        }
        Some(Self {
            network: mask(addr, prefix),
            prefix,
        })
    }

    /// Whether `ip` lies in the range. An address of the other family never does (as in
    /// PostgreSQL, `::ffff:10.0.0.1` is not in `10.0.0.0/8`).
    pub fn contains(&self, ip: IpAddr) -> bool {
        ip.is_ipv4() == self.network.is_ipv4() && mask(ip, self.prefix) == self.network
    }
}

impl Cidr {
    /// The inclusive range of [`ip_key`]s inside this network, for a store that keeps addresses
    /// as keys (SQLite's `ip_bin`) and compares them with `BETWEEN`.
    pub fn key_range(&self) -> (Vec<u8>, Vec<u8>) {
        let last = match self.network {
            IpAddr::V4(a) => {
                let host = u32::MAX.checked_shr(u32::from(self.prefix)).unwrap_or(0);
                IpAddr::V4(Ipv4Addr::from(u32::from(a) | host))
            }
            IpAddr::V6(a) => {
                let host = u128::MAX.checked_shr(u32::from(self.prefix)).unwrap_or(0);
                IpAddr::V6(Ipv6Addr::from(u128::from(a) | host))
            }
        };
        (ip_key(self.network), ip_key(last))
    }
}

/// A byte string that sorts like the address within its family and keeps families apart: a family
/// byte (4 or 6) and the address, big-endian. `10.0.0.1` and `::ffff:10.0.0.1` get different keys,
/// as they are different addresses to PostgreSQL's `inet` and to [`Cidr::contains`].
pub fn ip_key(ip: IpAddr) -> Vec<u8> {
    match ip {
        IpAddr::V4(a) => [&[4u8][..], &a.octets()].concat(),
        IpAddr::V6(a) => [&[6u8][..], &a.octets()].concat(),
    }
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

fn mask(addr: IpAddr, prefix: u8) -> IpAddr {
    match addr {
        IpAddr::V4(a) => {
            let bits = u32::from(a);
            let m = if prefix == 0 {
                0
            } else {
                u32::MAX << (32 - u32::from(prefix))
            };
            IpAddr::V4(Ipv4Addr::from(bits & m))
        }
        IpAddr::V6(a) => {
            let bits = u128::from(a);
            let m = if prefix == 0 {
                0
            } else {
                u128::MAX << (128 - u32::from(prefix))
            };
            IpAddr::V6(Ipv6Addr::from(bits & m))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_normalizes_and_contains() {
        let c = Cidr::parse("10.1.2.3/8").unwrap();
        assert_eq!(c.to_string(), "10.0.0.0/8");
        assert!(c.contains("10.255.0.1".parse().unwrap()));
        assert!(!c.contains("11.0.0.1".parse().unwrap()));
        assert!(!c.contains("::ffff:10.0.0.1".parse().unwrap()));
        assert_eq!(Cidr::parse("1.2.3.4").unwrap().to_string(), "1.2.3.4/32");
        assert!(
            Cidr::parse("0.0.0.0/0")
                .unwrap()
                .contains("8.8.8.8".parse().unwrap())
        );
        let v6 = Cidr::parse("2001:db8::1/32").unwrap();
        assert_eq!(v6.to_string(), "2001:db8::/32");
        assert!(v6.contains("2001:db8:ffff::1".parse().unwrap()));
        let (lo, hi) = Cidr::parse("10.1.0.0/16").unwrap().key_range();
        assert_eq!(lo, [4, 10, 1, 0, 0]);
        assert_eq!(hi, [4, 10, 1, 255, 255]);
        let (lo, hi) = Cidr::parse("0.0.0.0/0").unwrap().key_range();
        assert_eq!((lo, hi), (vec![4, 0, 0, 0, 0], vec![4, 255, 255, 255, 255]));
        let (lo, hi) = Cidr::parse("::/0").unwrap().key_range();
        let mapped = ip_key("::ffff:10.0.0.1".parse().unwrap());
        assert!(lo <= mapped && mapped <= hi);
        assert!(
            ip_key("10.0.0.1".parse().unwrap()) < lo,
            "families never mix"
        );
        for bad in [
            "",
            "10.0.0.0/33",
            "10.0.0.0/",
            "10.0.0.0/+8",
            "x/8",
            "::/129",
            "1.2.3/8",
        ] {
            assert!(Cidr::parse(bad).is_none(), "{bad}");
        }
    }
}
