//! Which addresses an outbound fetch may reach: global unicast ones, and whatever the
//! operator allows on top ([`IpCidr`] blocks such as `127.0.0.0/8`).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

/// A block of addresses such as `127.0.0.0/8` or `::1/128`; a bare address is a block
/// of one. Host bits below the prefix are ignored (`10.1.2.3/8` is `10.0.0.0/8`).
///
/// ```
/// use fanout_core::IpCidr;
/// let loopback: IpCidr = "127.0.0.0/8".parse().unwrap();
/// assert!(loopback.contains("127.0.0.1".parse().unwrap()));
/// assert!(!loopback.contains("10.0.0.1".parse().unwrap()));
/// assert_eq!(loopback.to_string(), "127.0.0.0/8");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IpCidr {
    network: IpAddr,
    prefix: u8,
}

/// Why a text is not an [`IpCidr`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an address block such as 127.0.0.0/8 or ::1/128")]
pub struct InvalidCidr(String);

impl IpCidr {
    /// The block of `prefix` leading bits of `addr`; `None` when `prefix` is longer
    /// than the address (32 for IPv4, 128 for IPv6).
    pub fn new(addr: IpAddr, prefix: u8) -> Option<Self> {
        let network = match addr {
            IpAddr::V4(_) if prefix > 32 => return None,
            IpAddr::V6(_) if prefix > 128 => return None,
            IpAddr::V4(v4) => IpAddr::V4(Ipv4Addr::from(u32::from(v4) & v4_mask(prefix))),
            IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & v6_mask(prefix))),
        };
        Some(Self { network, prefix })
    }

    /// `127.0.0.0/8` and `::1/128`: what tests and the sandbox allow.
    pub fn loopback() -> Vec<Self> {
        vec![
            Self {
                network: IpAddr::V4(Ipv4Addr::new(127, 0, 0, 0)),
                prefix: 8,
            },
            Self {
                network: IpAddr::V6(Ipv6Addr::LOCALHOST),
                prefix: 128,
            },
        ]
    }

    /// Whether `addr` is inside this block (an IPv4 block never contains an IPv6
    /// address, IPv4-mapped ones included).
    pub fn contains(&self, addr: IpAddr) -> bool {
        match (self.network, addr) {
            (IpAddr::V4(net), IpAddr::V4(a)) => {
                u32::from(a) & v4_mask(self.prefix) == u32::from(net)
            }
            (IpAddr::V6(net), IpAddr::V6(a)) => {
                u128::from(a) & v6_mask(self.prefix) == u128::from(net)
            }
            _ => false,
        }
    }
}

fn v4_mask(prefix: u8) -> u32 {
    u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0)
}

fn v6_mask(prefix: u8) -> u128 {
    u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0)
}

impl FromStr for IpCidr {
    type Err = InvalidCidr;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let invalid = || InvalidCidr(text.to_string());
        let (addr, prefix) = match text.trim().split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (text.trim(), None),
        };
        let addr: IpAddr = addr.parse().map_err(|_| invalid())?;
        let prefix = match prefix {
            Some(p) => p.parse::<u8>().map_err(|_| invalid())?,
            None if addr.is_ipv4() => 32,
            None => 128,
        };
        Self::new(addr, prefix).ok_or_else(invalid)
    }
}

impl TryFrom<String> for IpCidr {
    type Error = InvalidCidr;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

impl From<IpCidr> for String {
    fn from(cidr: IpCidr) -> Self {
        cidr.to_string()
    }
}

impl fmt::Display for IpCidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// `addr` with an IPv4-mapped IPv6 address (`::ffff:127.0.0.1`) turned into the IPv4
/// address it stands for; any other address unchanged.
pub(crate) fn canonical(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        },
        v4 => v4,
    }
}

/// Whether a fetch may connect to `addr`: inside a block of `allow`, or a global
/// unicast address (see [`is_global`]).
pub(crate) fn permitted(addr: IpAddr, allow: &[IpCidr]) -> bool {
    let addr = canonical(addr);
    allow.iter().any(|block| block.contains(addr)) || is_global(addr)
}

/// IPv4 blocks that are not globally reachable unicast: this network, RFC 1918,
/// shared (CGNAT), loopback, link-local, IETF protocol assignments, documentation,
/// 6to4 relays, benchmarking, multicast, reserved and broadcast.
const NON_GLOBAL_V4: [(u32, u8); 15] = [
    (0x0000_0000, 8),  // 0.0.0.0/8
    (0x0A00_0000, 8),  // 10.0.0.0/8
    (0x6440_0000, 10), // 100.64.0.0/10
    (0x7F00_0000, 8),  // 127.0.0.0/8
    (0xA9FE_0000, 16), // 169.254.0.0/16
    (0xAC10_0000, 12), // 172.16.0.0/12
    (0xC000_0000, 24), // 192.0.0.0/24
    (0xC000_0200, 24), // 192.0.2.0/24
    (0xC058_6300, 24), // 192.88.99.0/24
    (0xC0A8_0000, 16), // 192.168.0.0/16
    (0xC612_0000, 15), // 198.18.0.0/15
    (0xC633_6400, 24), // 198.51.100.0/24
    (0xCB00_7100, 24), // 203.0.113.0/24
    (0xE000_0000, 4),  // 224.0.0.0/4 multicast
    (0xF000_0000, 4),  // 240.0.0.0/4 reserved, broadcast
];

/// IPv6 blocks inside 2000::/3 that are not globally reachable unicast: IETF protocol
/// assignments (Teredo among them), documentation, 6to4.
const NON_GLOBAL_V6: [(u128, u8); 4] = [
    (0x2001_0000 << 96, 23), // 2001::/23
    (0x2001_0db8 << 96, 32), // 2001:db8::/32
    (0x2002 << 112, 16),     // 2002::/16
    (0x3fff_0000 << 96, 20), // 3fff::/20
];

/// Whether `addr` is a global unicast address. IPv6 must be in 2000::/3 and outside
/// the special blocks; an IPv4-mapped or NAT64 (`64:ff9b::/96`) address is judged by
/// the IPv4 address inside it.
pub(crate) fn is_global(addr: IpAddr) -> bool {
    match canonical(addr) {
        IpAddr::V4(v4) => {
            let a = u32::from(v4);
            !NON_GLOBAL_V4
                .iter()
                .any(|&(net, prefix)| a & v4_mask(prefix) == net)
        }
        IpAddr::V6(v6) => {
            let a = u128::from(v6);
            const NAT64: u128 = 0x0064_ff9b << 96;
            if a & v6_mask(96) == NAT64 {
                // The low 32 bits are the IPv4 address; the cast keeps exactly them.
                return is_global(IpAddr::V4(Ipv4Addr::from(a as u32)));
            }
            let global_unicast = a & v6_mask(3) == 0x2000 << 112;
            global_unicast
                && !NON_GLOBAL_V6
                    .iter()
                    .any(|&(net, prefix)| a & v6_mask(prefix) == net)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn addresses_are_classified() {
        let table: &[(&str, bool)] = &[
            ("8.8.8.8", true),
            ("1.1.1.1", true),
            ("93.184.216.34", true),
            ("0.0.0.0", false),
            ("0.1.2.3", false),
            ("10.0.0.1", false),
            ("100.64.0.1", false),
            ("100.127.255.254", false),
            ("100.128.0.1", true),
            ("127.0.0.1", false),
            ("127.255.255.254", false),
            ("169.254.169.254", false),
            ("172.15.255.255", true),
            ("172.16.0.1", false),
            ("172.31.255.255", false),
            ("172.32.0.1", true),
            ("192.0.0.8", false),
            ("192.0.2.1", false),
            ("192.88.99.1", false),
            ("192.168.1.1", false),
            ("198.18.0.1", false),
            ("198.51.100.7", false),
            ("203.0.113.9", false),
            ("224.0.0.251", false),
            ("239.255.255.250", false),
            ("240.0.0.1", false),
            ("255.255.255.255", false),
            ("2606:4700:4700::1111", true),
            ("2a00:1450:4001:80b::200e", true),
            ("::", false),
            ("::1", false),
            ("::127.0.0.1", false),
            ("::ffff:127.0.0.1", false),
            ("::ffff:10.0.0.1", false),
            ("::ffff:8.8.8.8", true),
            ("64:ff9b::7f00:1", false),
            ("64:ff9b::808:808", true),
            ("100::1", false),
            ("2001::1", false),
            ("2001:db8::1", false),
            ("2002:7f00:1::1", false),
            ("3fff::1", false),
            ("fc00::1", false),
            ("fd12:3456::1", false),
            ("fe80::1", false),
            ("fec0::1", false),
            ("ff02::1", false),
        ];
        for &(addr, global) in table {
            assert_eq!(is_global(ip(addr)), global, "{addr}");
            assert_eq!(permitted(ip(addr), &[]), global, "{addr}");
        }
    }

    #[test]
    fn the_allow_list_opens_blocks_and_nothing_else() {
        let allow = IpCidr::loopback();
        assert!(permitted(ip("127.0.0.1"), &allow));
        assert!(permitted(ip("127.9.9.9"), &allow));
        assert!(permitted(ip("::1"), &allow));
        assert!(
            permitted(ip("::ffff:127.0.0.1"), &allow),
            "mapped form of an allowed address"
        );
        assert!(!permitted(ip("10.0.0.1"), &allow));
        assert!(!permitted(ip("0.0.0.0"), &allow));
        assert!(!permitted(ip("169.254.169.254"), &allow));
        let one: IpCidr = "127.0.0.2".parse().unwrap();
        assert!(permitted(ip("127.0.0.2"), &[one]));
        assert!(!permitted(ip("127.0.0.1"), &[one]));
    }

    #[test]
    fn blocks_parse_and_print() {
        let block: IpCidr = "10.1.2.3/8".parse().unwrap();
        assert_eq!(block.to_string(), "10.0.0.0/8");
        assert_eq!("::1".parse::<IpCidr>().unwrap().to_string(), "::1/128");
        assert_eq!(
            "fc00::/7".parse::<IpCidr>().unwrap().to_string(),
            "fc00::/7"
        );
        assert_eq!(
            "0.0.0.0/0".parse::<IpCidr>().unwrap().to_string(),
            "0.0.0.0/0"
        );
        assert!("0.0.0.0/0"
            .parse::<IpCidr>()
            .unwrap()
            .contains(ip("8.8.8.8")));
        for bad in [
            "",
            "127.0.0.1/33",
            "::/129",
            "localhost",
            "10.0.0.0/x",
            "0x7f.1/8",
        ] {
            assert!(bad.parse::<IpCidr>().is_err(), "{bad}");
        }
        let cidr: IpCidr = serde_json::from_str("\"127.0.0.0/8\"").unwrap();
        assert_eq!(serde_json::to_string(&cidr).unwrap(), "\"127.0.0.0/8\"");
    }
}
