//! Who the client is behind reverse proxies: `X-Forwarded-For` is believed only as far as
//! the hops that added it are trusted (`--trusted-proxies`), so a client cannot pick the
//! address its failed sign-ins are counted against. Every limit counts against a
//! [`ClientKey`]: the address, with IPv6 grouped by /64. Requests are read by one
//! extractor, `app::extract::ClientAddr`, for routes and server functions alike.

pub use ipnet::IpNet;
use std::net::{IpAddr, Ipv6Addr};

/// What every per-client limit counts against: one IPv4 address, or one IPv6 /64. A
/// single subscriber is usually handed a whole /64 (RFC 6177) and may pick any address in
/// it, so counting per IPv6 address would give one client 2^64 budgets. An IPv4-mapped
/// IPv6 address (`::ffff:a.b.c.d`, a dual-stack socket) is its IPv4 address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientKey(IpAddr);

impl From<IpAddr> for ClientKey {
    fn from(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(v4) => ClientKey(IpAddr::V4(v4)),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => ClientKey(IpAddr::V4(v4)),
                None => {
                    let prefix = u128::from(v6) & !((1u128 << 64) - 1);
                    ClientKey(IpAddr::V6(Ipv6Addr::from(prefix)))
                }
            },
        }
    }
}

/// `198.51.100.7`, or `2001:db8:1:2::/64` (as stored with a sign-in attempt).
impl std::fmt::Display for ClientKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            IpAddr::V4(v4) => write!(f, "{v4}"),
            IpAddr::V6(v6) => write!(f, "{v6}/64"),
        }
    }
}

/// The client's address: the connection's peer, or, when the peer is a trusted proxy, the
/// right-most address in `X-Forwarded-For` that is not itself a trusted proxy (each proxy
/// appends the address it saw, so everything left of an untrusted hop may be forged).
pub fn resolve(peer: IpAddr, forwarded_for: &[&str], trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let mut client = peer;
    let hops = forwarded_for
        .iter()
        .flat_map(|h| h.split(','))
        .map(str::trim)
        .rev();
    for hop in hops {
        match hop.parse::<IpAddr>() {
            Ok(ip) => {
                client = ip;
                if !is_trusted(&ip) {
                    break;
                }
            }
            // An unparsable hop: nothing left of it can be believed.
            Err(_) => break,
        }
    }
    client
}

/// Parses `--trusted-proxies` entries: CIDRs (`10.0.0.0/8`) or single addresses.
pub fn parse_net(s: &str) -> Result<IpNet, String> {
    let s = s.trim();
    s.parse::<IpNet>()
        .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| {
            format!("\"{s}\" is not an IP address or CIDR range (e.g. 10.0.0.0/8, 127.0.0.1)")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let trusted = [
            parse_net("10.0.0.0/8").unwrap(),
            parse_net("127.0.0.1").unwrap(),
        ];
        // A direct client cannot claim another address.
        assert_eq!(
            resolve(ip("203.0.113.9"), &["1.2.3.4"], &trusted),
            ip("203.0.113.9")
        );
        // Through the proxy: the address the proxy saw.
        assert_eq!(
            resolve(ip("127.0.0.1"), &["198.51.100.7"], &trusted),
            ip("198.51.100.7")
        );
        // A forged left part is ignored: the right-most untrusted hop counts.
        assert_eq!(
            resolve(
                ip("127.0.0.1"),
                &["6.6.6.6, 198.51.100.7, 10.1.2.3"],
                &trusted
            ),
            ip("198.51.100.7")
        );
        // Several headers are one list.
        assert_eq!(
            resolve(ip("127.0.0.1"), &["6.6.6.6", "198.51.100.7"], &trusted),
            ip("198.51.100.7")
        );
        // Garbage stops the walk at the last good hop.
        assert_eq!(
            resolve(ip("127.0.0.1"), &["junk, 10.0.0.5"], &trusted),
            ip("10.0.0.5")
        );
        // A trusted proxy without the header is the client.
        assert_eq!(resolve(ip("127.0.0.1"), &[], &trusted), ip("127.0.0.1"));
        // Nothing trusted: the peer, always.
        assert_eq!(resolve(ip("127.0.0.1"), &["1.2.3.4"], &[]), ip("127.0.0.1"));
    }

    #[test]
    fn ipv6_clients_are_their_64_and_mapped_ipv4_is_ipv4() {
        let key = |s: &str| ClientKey::from(ip(s));
        assert_eq!(
            key("2001:db8:1:2::1"),
            key("2001:db8:1:2:ffff:ffff:ffff:ffff")
        );
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(key("2001:db8:1:2:aaaa::9").to_string(), "2001:db8:1:2::/64");
        assert_eq!(key("::ffff:198.51.100.7"), key("198.51.100.7"));
        assert_eq!(key("198.51.100.7").to_string(), "198.51.100.7");
        assert_ne!(key("198.51.100.7"), key("198.51.100.8"));
    }

    #[test]
    fn trusted_proxy_entries() {
        assert!(parse_net("192.168.0.0/16").is_ok());
        assert!(parse_net("::1").is_ok());
        let e = parse_net("proxy.local").unwrap_err();
        assert!(e.contains("CIDR"), "{e}");
    }
}
