//! Address ranges (`10.0.0.0/8`, `fd00::/8`) for the trusted-proxy list.

use core::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::error::ConfigError;

/// An address range, IPv4-mapped IPv6 ranges stored as IPv4.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum IpRange {
    V4 { network: u32, prefix: u32 },
    V6 { network: u128, prefix: u32 },
}

impl IpRange {
    pub(super) fn parse(entry: &str) -> Result<Self, ConfigError> {
        let invalid = || ConfigError::InvalidProxyRange {
            entry: entry.to_owned(),
        };
        let text = entry.trim();
        let (addr, prefix) = match text.split_once('/') {
            Some((addr, prefix)) => {
                // `u32::from_str` would also take `+8`.
                if prefix.is_empty()
                    || prefix.len() > 3
                    || !prefix.bytes().all(|b| b.is_ascii_digit())
                {
                    return Err(invalid());
                }
                let prefix = prefix.parse::<u32>().map_err(|_| invalid())?;
                (addr, Some(prefix))
            }
            None => (text, None),
        };
        let addr: IpAddr = addr.parse().map_err(|_| invalid())?;
        let range = match addr {
            IpAddr::V4(v4) => {
                let prefix = prefix.unwrap_or(32);
                if prefix > 32 {
                    return Err(invalid());
                }
                Self::V4 {
                    network: u32::from(v4),
                    prefix,
                }
            }
            IpAddr::V6(v6) => {
                let prefix = prefix.unwrap_or(128);
                if prefix > 128 {
                    return Err(invalid());
                }
                match (v6.to_ipv4_mapped(), prefix.checked_sub(96)) {
                    (Some(v4), Some(prefix)) => Self::V4 {
                        network: u32::from(v4),
                        prefix,
                    },
                    _ => Self::V6 {
                        network: u128::from(v6),
                        prefix,
                    },
                }
            }
        };
        let network = range.network();
        if network != range {
            return Err(ConfigError::ProxyRangeHostBits {
                entry: entry.to_owned(),
                network: network.to_string(),
                address: range.single().to_string(),
            });
        }
        Ok(range)
    }

    /// The range with the bits after the prefix cleared.
    fn network(self) -> Self {
        match self {
            Self::V4 { network, prefix } => Self::V4 {
                network: network & mask_v4(prefix),
                prefix,
            },
            Self::V6 { network, prefix } => Self::V6 {
                network: network & mask_v6(prefix),
                prefix,
            },
        }
    }

    /// The range holding only the first address.
    fn single(self) -> Self {
        match self {
            Self::V4 { network, .. } => Self::V4 {
                network,
                prefix: 32,
            },
            Self::V6 { network, .. } => Self::V6 {
                network,
                prefix: 128,
            },
        }
    }

    /// `peer` must be canonical (IPv4-mapped addresses as IPv4).
    pub(super) fn contains(self, peer: IpAddr) -> bool {
        match (self, peer) {
            (Self::V4 { network, prefix }, IpAddr::V4(peer)) => {
                u32::from(peer) & mask_v4(prefix) == network
            }
            (Self::V6 { network, prefix }, IpAddr::V6(peer)) => {
                u128::from(peer) & mask_v6(prefix) == network
            }
            _ => false,
        }
    }
}

fn mask_v4(prefix: u32) -> u32 {
    u32::MAX
        .checked_shl(32_u32.saturating_sub(prefix))
        .unwrap_or(0)
}

fn mask_v6(prefix: u32) -> u128 {
    u128::MAX
        .checked_shl(128_u32.saturating_sub(prefix))
        .unwrap_or(0)
}

impl fmt::Display for IpRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::V4 { network, prefix } => write!(f, "{}/{prefix}", Ipv4Addr::from(network)),
            Self::V6 { network, prefix } => write!(f, "{}/{prefix}", Ipv6Addr::from(network)),
        }
    }
}

impl fmt::Debug for IpRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks() {
        assert_eq!(mask_v4(0), 0);
        assert_eq!(mask_v4(8), 0xff00_0000);
        assert_eq!(mask_v4(32), u32::MAX);
        assert_eq!(mask_v6(0), 0);
        assert_eq!(mask_v6(128), u128::MAX);
        assert_eq!(mask_v6(1), 1 << 127);
    }

    #[test]
    fn range_parsing() {
        let parse = |s: &str| IpRange::parse(s).map(|r| r.to_string());
        assert_eq!(parse("10.0.0.0/8").as_deref(), Ok("10.0.0.0/8"));
        assert_eq!(parse(" 10.0.0.2 ").as_deref(), Ok("10.0.0.2/32"));
        assert_eq!(parse("::1").as_deref(), Ok("::1/128"));
        assert_eq!(parse("0.0.0.0/0").as_deref(), Ok("0.0.0.0/0"));
        assert_eq!(parse("::ffff:10.0.0.0/104").as_deref(), Ok("10.0.0.0/8"));
        assert_eq!(parse("::ffff:0:0/96").as_deref(), Ok("0.0.0.0/0"));
        assert_eq!(parse("fd00::/8").as_deref(), Ok("fd00::/8"));
        for bad in [
            "10.0.0.0/33",
            "10.0.0.0/+8",
            "10.0.0.0/",
            "10.0.0/8",
            "::1/129",
            "",
            "x",
        ] {
            assert!(
                matches!(
                    IpRange::parse(bad),
                    Err(ConfigError::InvalidProxyRange { .. })
                ),
                "{bad}"
            );
        }
        assert_eq!(
            IpRange::parse("10.0.0.1/8"),
            Err(ConfigError::ProxyRangeHostBits {
                entry: "10.0.0.1/8".into(),
                network: "10.0.0.0/8".into(),
                address: "10.0.0.1/32".into(),
            })
        );
    }
}
